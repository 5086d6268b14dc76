//! The body schemas of the OpenAPI document (`components/schemas`), field
//! by field, and which of them each operation answers ([`SUCCESS`]) and
//! takes ([`REQUESTS`]).
//!
//! The bodies themselves are written by hand (the renderer, the edit,
//! console and coverage handlers, [`crate::coverage`]), so these
//! schemas are kept truthful by `tests/openapi.rs`, which sends a real
//! request to every documented operation and validates the answer against
//! the schema documented for its status and media type.
//!
//! Conventions: a field that is always written is `required`; a field that
//! can be `null` has the type `[T, "null"]` (OpenAPI 3.1 is JSON Schema
//! 2020-12); closed vocabularies (kind, tier, precision, gap…) are `enum`s;
//! GeoJSON geometries follow RFC 7946 with `[lon, lat]` positions. Every
//! object the server writes lists all its members and sets
//! `additionalProperties: false`, also where members depend on the caller's
//! role (staff-only members are optional and say so), so that a member
//! added to a body without documenting it fails the test. The exceptions
//! are open on purpose: the request record (`RecordInput`: unknown members
//! are ignored), coverage `definitions` (a map of texts),
//! the audit log's `before`/`after` (whatever record or submission was
//! written) and the OpenAPI document's own `info`, `paths` and `components`.

use crate::coverage::Gap;
use crate::model::Kind;
use serde_json::{json, Map, Value};

/// One media type of a body and the schema it follows: the name of a
/// component in [`components`], or `None` for text (`{"type": "string"}`).
pub type Media = (&'static str, Option<&'static str>);

/// The success bodies of one operation.
#[derive(Debug, Clone, Copy)]
pub struct Bodies {
    /// HTTP method, lower case.
    pub method: &'static str,
    /// Path, with `{name}` for path parameters.
    pub path: &'static str,
    /// Every media type it may answer (or take) with its schema.
    pub media: &'static [Media],
}

const fn bodies(method: &'static str, path: &'static str, media: &'static [Media]) -> Bodies {
    Bodies {
        method,
        path,
        media,
    }
}

const JSON: &str = "application/json";
const GEOJSON: &str = "application/geo+json";

/// The bodies of each operation's success answer (the status of
/// [`super::openapi::Endpoint::status`]).
pub const SUCCESS: &[Bodies] = &[
    bodies("get", "/healthz", &[(JSON, Some("Healthz"))]),
    bodies("get", "/openapi.json", &[(JSON, Some("OpenApiDocument"))]),
    bodies(
        "get",
        "/v1/match",
        &[
            (GEOJSON, Some("MatchCollection")),
            (JSON, Some("MatchList")),
        ],
    ),
    bodies("get", "/v1/providers", &[(GEOJSON, Some("ProviderPage"))]),
    bodies(
        "get",
        "/v1/providers/{id}",
        &[(GEOJSON, Some("ProviderFeature")), (JSON, Some("Record"))],
    ),
    bodies(
        "get",
        "/v1/hotlines",
        &[(GEOJSON, Some("HotlineCollection"))],
    ),
    bodies("get", "/v1/vocabulary", &[(JSON, Some("Vocabulary"))]),
    bodies("get", "/v1/geocode", &[(JSON, Some("GeocodeAnswer"))]),
    bodies("get", "/v1/reverse", &[(JSON, Some("ReverseAnswer"))]),
    bodies(
        "get",
        "/v1/coverage",
        &[
            (GEOJSON, Some("CoverageCollection")),
            ("text/csv", None),
            (JSON, Some("DemandRanking")),
        ],
    ),
    bodies(
        "get",
        "/v1/coverage/suggest",
        &[(GEOJSON, Some("SuggestionCollection"))],
    ),
    bodies("post", "/v1/providers", &[(JSON, Some("RecordWritten"))]),
    bodies(
        "put",
        "/v1/providers/{id}",
        &[(JSON, Some("RecordWritten"))],
    ),
    bodies(
        "delete",
        "/v1/providers/{id}",
        &[(JSON, Some("RecordDeleted"))],
    ),
    bodies(
        "get",
        "/v1/providers/{id}/history",
        &[(JSON, Some("History"))],
    ),
    bodies(
        "put",
        "/v1/providers/{id}/capacity",
        &[(JSON, Some("RecordWritten"))],
    ),
    bodies(
        "put",
        "/v1/providers/{id}/hours",
        &[(JSON, Some("RecordWritten"))],
    ),
    bodies(
        "get",
        "/v1/providers/{id}/slip",
        &[("text/plain", None), ("text/html", None)],
    ),
    bodies(
        "get",
        "/v1/referrals/{id}/slip",
        &[("text/plain", None), ("text/html", None)],
    ),
    bodies("post", "/v1/imports", &[(JSON, Some("ImportReport"))]),
    bodies(
        "post",
        "/v1/submissions",
        &[(JSON, Some("SubmissionReceipt"))],
    ),
    bodies("get", "/v1/submissions", &[(JSON, Some("SubmissionList"))]),
    bodies(
        "post",
        "/v1/submissions/{id}/approve",
        &[(JSON, Some("Approval"))],
    ),
    bodies(
        "post",
        "/v1/submissions/{id}/reject",
        &[(JSON, Some("Submission"))],
    ),
    bodies("get", "/v1/audit", &[(JSON, Some("AuditPage"))]),
    bodies("post", "/v1/referrals", &[(JSON, Some("Referral"))]),
    bodies("get", "/v1/referrals", &[(JSON, Some("ReferralPage"))]),
    bodies("get", "/v1/referrals/{id}", &[(JSON, Some("Referral"))]),
    bodies(
        "post",
        "/v1/referrals/{id}/status",
        &[(JSON, Some("Referral"))],
    ),
    bodies(
        "post",
        "/v1/referrals/{id}/notes",
        &[(JSON, Some("Referral"))],
    ),
    bodies("get", "/", &[("text/html", None)]),
    bodies(
        "get",
        "/v1/outlines",
        &[(GEOJSON, Some("OutlineCollection"))],
    ),
];

/// The request bodies of the operations that take one.
pub const REQUESTS: &[Bodies] = &[
    bodies("post", "/v1/referrals", &[(JSON, Some("ReferralInput"))]),
    bodies(
        "post",
        "/v1/referrals/{id}/status",
        &[(JSON, Some("StatusChangeInput"))],
    ),
    bodies(
        "post",
        "/v1/referrals/{id}/notes",
        &[(JSON, Some("NoteInput"))],
    ),
    bodies("post", "/v1/providers", &[(JSON, Some("RecordInput"))]),
    bodies("put", "/v1/providers/{id}", &[(JSON, Some("RecordInput"))]),
    bodies(
        "put",
        "/v1/providers/{id}/capacity",
        &[(JSON, Some("CapacityInput"))],
    ),
    bodies(
        "put",
        "/v1/providers/{id}/hours",
        &[(JSON, Some("HoursInput"))],
    ),
    bodies("post", "/v1/submissions", &[(JSON, Some("RecordInput"))]),
    bodies(
        "post",
        "/v1/submissions/{id}/reject",
        &[(JSON, Some("RejectionReason"))],
    ),
    bodies(
        "post",
        "/v1/imports",
        &[
            ("text/csv", None),
            (JSON, Some("ImportJson")),
            ("application/x-ndjson", None),
            (GEOJSON, Some("ImportGeoJson")),
        ],
    ),
];

/// `{"$ref": "#/components/schemas/NAME"}`.
pub fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The OpenAPI `content` map of `media`: each media type with its schema.
pub fn content(media: &[Media]) -> Value {
    let map: Map<String, Value> = media
        .iter()
        .map(|(media, schema)| {
            let schema = schema.map_or_else(|| json!({"type": "string"}), reference);
            ((*media).to_owned(), json!({ "schema": schema }))
        })
        .collect();
    Value::Object(map)
}

/// The success `content` of `method` on `path`, when [`SUCCESS`] lists it.
pub fn success_content(method: &str, path: &str) -> Option<Value> {
    find(SUCCESS, method, path)
}

/// The request `content` of `method` on `path`, when [`REQUESTS`] lists it.
pub fn request_content(method: &str, path: &str) -> Option<Value> {
    find(REQUESTS, method, path)
}

fn find(table: &[Bodies], method: &str, path: &str) -> Option<Value> {
    table
        .iter()
        .find(|b| b.method == method && b.path == path)
        .map(|b| content(b.media))
}

fn text(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn nullable_text(description: &str) -> Value {
    json!({"type": ["string", "null"], "description": description})
}

fn integer(description: &str) -> Value {
    json!({"type": "integer", "minimum": 0, "description": description})
}

fn number(description: &str) -> Value {
    json!({"type": "number", "description": description})
}

fn nullable_number(description: &str) -> Value {
    json!({"type": ["number", "null"], "description": description})
}

fn boolean(description: &str) -> Value {
    json!({"type": "boolean", "description": description})
}

fn strings(description: &str) -> Value {
    json!({"type": "array", "items": {"type": "string"}, "description": description})
}

fn array_of(items: Value, description: &str) -> Value {
    json!({"type": "array", "items": items, "description": description})
}

fn one_of(values: &[&str], description: &str) -> Value {
    json!({"type": "string", "enum": values, "description": description})
}

fn nullable_one_of(values: &[&str], description: &str) -> Value {
    let mut with_null: Vec<Value> = values.iter().map(|v| json!(v)).collect();
    with_null.push(Value::Null);
    json!({"type": ["string", "null"], "enum": with_null, "description": description})
}

/// `$ref` to `name`, or `null`.
fn nullable_ref(name: &str, description: &str) -> Value {
    json!({"anyOf": [reference(name), {"type": "null"}], "description": description})
}

fn timestamp(description: &str) -> Value {
    json!({"type": "string", "format": "date-time", "description": description})
}

/// A closed object: `members` (name, schema) in order, `required` of them
/// always written, no others.
fn object(description: &str, required: &[&str], members: Vec<(&str, Value)>) -> Value {
    let mut schema = open_object(description, required, members);
    schema["additionalProperties"] = json!(false);
    schema
}

/// As [`object`], but other members are allowed.
fn open_object(description: &str, required: &[&str], members: Vec<(&str, Value)>) -> Value {
    let properties: Map<String, Value> = members
        .into_iter()
        .map(|(name, schema)| (name.to_owned(), schema))
        .collect();
    debug_assert!(required.iter().all(|r| properties.contains_key(*r)));
    json!({
        "type": "object",
        "description": description,
        "required": required,
        "properties": properties,
    })
}

/// `const` string member (`"type": "Feature"`).
fn constant(value: &str) -> Value {
    json!({"type": "string", "const": value})
}

fn kinds() -> Vec<&'static str> {
    Kind::ALL.map(Kind::code).to_vec()
}

fn kind(description: &str) -> Value {
    one_of(&kinds(), description)
}

const PRECISIONS: &[&str] = &[
    "point",
    "postal_code",
    "locality",
    "county",
    "region",
    "country",
];
const TIERS: &[&str] = &["local", "nearby", "helpline", "remote", "farther"];
const LANGUAGE_FITS: &[&str] = &["not_asked", "speaks", "interpreter", "unknown", "does_not"];
const RELAXABLE: &[&str] = &[
    "warm_transfer",
    "language",
    "open_now",
    "open_24h",
    "population",
    "accepting",
];
const ACCEPTING: &[&str] = &["yes", "no", "unknown"];
const PHONE_KINDS: &[&str] = &["voice", "toll_free", "text", "tty"];
const VISIBILITIES: &[&str] = &["public", "confidential"];
const ROLES: &[&str] = &["public", "provider", "advocate", "admin"];
const SUBMISSION_STATUSES: &[&str] = &["pending", "approved", "rejected"];
const HISTORY_ACTIONS: &[&str] = &[
    "seed", "create", "update", "delete", "restore", "import", "approve",
];
const AUDIT_ACTIONS: &[&str] = &[
    "seed",
    "create",
    "update",
    "delete",
    "restore",
    "import",
    "approve",
    "reject",
    "submit",
    "read_confidential",
    "key_create",
    "key_revoke",
    "referral_create",
    "referral_status",
    "referral_note",
];
const UNIT_KINDS: &[&str] = &["state", "county", "country", "h3"];

fn gaps() -> Vec<&'static str> {
    Gap::ALL.map(Gap::name).to_vec()
}

/// Every component schema of the document, by name.
pub fn components() -> Map<String, Value> {
    let mut all = Map::new();
    let mut add = |name: &str, schema: Value| {
        all.insert(name.to_owned(), schema);
    };
    add("Problem", problem());
    geojson(&mut add);
    providers(&mut add);
    matching(&mut add);
    places(&mut add);
    coverage(&mut add);
    records(&mut add);
    edits(&mut add);
    referrals(&mut add);
    add(
        "Healthz",
        object(
            "Liveness and the size of the loaded data.",
            &["status", "version", "directory", "gazetteer"],
            vec![
                ("status", constant("ok")),
                (
                    "version",
                    text("The server's version (Cargo package version)."),
                ),
                (
                    "directory",
                    object(
                        "The served directory snapshot.",
                        &["providers", "generation"],
                        vec![
                            ("providers", integer("Active records served.")),
                            (
                                "generation",
                                integer(
                                    "Snapshot number: 0 at start, one more per published change.",
                                ),
                            ),
                        ],
                    ),
                ),
                (
                    "gazetteer",
                    object(
                        "Sizes of the loaded gazetteer.",
                        &["zips", "places", "counties", "countries"],
                        vec![
                            ("zips", integer("US ZIP codes.")),
                            ("places", integer("Populated places.")),
                            ("counties", integer("US counties and equivalents.")),
                            ("countries", integer("Countries.")),
                        ],
                    ),
                ),
            ],
        ),
    );
    add(
        "OpenApiDocument",
        object(
            "This OpenAPI 3.1 document.",
            &["openapi", "info", "paths", "components"],
            vec![
                ("openapi", constant("3.1.0")),
                ("info", json!({"type": "object"})),
                ("paths", json!({"type": "object"})),
                ("components", json!({"type": "object"})),
            ],
        ),
    );
    all
}

fn problem() -> Value {
    object(
        "An RFC 9457 problem document: every error answer.",
        &["type", "title", "status", "detail"],
        vec![
            (
                "type",
                text("urn:refmatch:problem:<slug> naming the kind of problem."),
            ),
            ("title", text("The status's reason phrase.")),
            (
                "status",
                json!({"type": "integer", "minimum": 400, "maximum": 599}),
            ),
            (
                "detail",
                text("What went wrong with this request and how to fix it."),
            ),
            (
                "parameter",
                text("The query parameter or record field at fault."),
            ),
            (
                "suggestions",
                strings("Close spellings that do exist (for a place not found)."),
            ),
        ],
    )
}

/// GeoJSON (RFC 7946) positions and geometries.
fn geojson(add: &mut impl FnMut(&str, Value)) {
    add(
        "Position",
        json!({
            "type": "array",
            "description": "A GeoJSON position: [lon, lat] in degrees (WGS 84), no altitude.",
            "prefixItems": [
                {"type": "number", "minimum": -180, "maximum": 180},
                {"type": "number", "minimum": -90, "maximum": 90},
            ],
            "minItems": 2,
            "maxItems": 2,
        }),
    );
    add(
        "Point",
        object(
            "A GeoJSON Point.",
            &["type", "coordinates"],
            vec![
                ("type", constant("Point")),
                ("coordinates", reference("Position")),
            ],
        ),
    );
    add(
        "LinearRing",
        json!({
            "type": "array",
            "description": "A closed ring of positions (first equals last), exterior rings counter-clockwise and holes clockwise.",
            "items": reference("Position"),
            "minItems": 4,
        }),
    );
    add(
        "PolygonCoordinates",
        json!({
            "type": "array",
            "description": "A polygon's rings: the exterior, then any holes.",
            "items": reference("LinearRing"),
            "minItems": 1,
        }),
    );
    add(
        "MultiPolygon",
        object(
            "A GeoJSON MultiPolygon (outlines, simplified).",
            &["type", "coordinates"],
            vec![
                ("type", constant("MultiPolygon")),
                (
                    "coordinates",
                    json!({"type": "array", "items": reference("PolygonCoordinates"), "minItems": 1}),
                ),
            ],
        ),
    );
}

/// A provider's members as answers show them (record members shaped by
/// the caller's role, then `phones` and `stale`).
fn provider_members() -> Vec<(&'static str, Value)> {
    vec![
        ("id", text("The provider's id.")),
        ("name", text("Display name.")),
        ("organization", nullable_text("Parent organisation, when it differs from the name.")),
        ("kind", kind("What sort of contact it is.")),
        ("issues", strings("Issue codes (GET /v1/vocabulary).")),
        ("populations", strings("Population codes served (GET /v1/vocabulary).")),
        ("languages", strings("ISO 639-1 codes of languages spoken; `interpretation` for an interpreting service.")),
        ("open_24h", boolean("Reachable around the clock.")),
        ("hours", nullable_text("Hours in OpenStreetMap opening_hours syntax (`24/7`, `Mo-Fr 09:00-17:00`) in `timezone`; null when unknown.")),
        ("timezone", nullable_text("IANA time zone of `hours`; null unless weekly hours are known.")),
        ("hours_note", nullable_text("Hours as the source wrote them.")),
        ("website", nullable_text("Web site.")),
        ("law_enforcement", boolean("Contacting it means contacting law enforcement.")),
        ("precision", nullable_one_of(PRECISIONS, "How precisely its location is known.")),
        ("incomplete", boolean("The source names it without enough detail to refer to it.")),
        ("verified_at", json!({"type": ["string", "null"], "format": "date", "description": "Day last verified (YYYY-MM-DD)."})),
        ("address", nullable_ref("ShownAddress", "Postal address, as far as the caller may see it.")),
        ("visibility", one_of(VISIBILITIES, "Staff (advocate, admin) only: who may see the record.")),
        ("location_confidential", boolean("Staff only: the location is not shown to the public.")),
        ("email", nullable_text("Staff only: contact e-mail.")),
        ("contact_name", nullable_text("Staff only: contact person.")),
        ("location_approximate", json!({"type": "boolean", "const": true, "description": "Public only, when present: the point is coarsened (a confidential location)."})),
        ("phones", array_of(reference("Phone"), "Numbers the caller may dial (direct lines for staff only); for hotlines and matches, those serving the caller's country.")),
        ("stale", boolean("Not verified within the verification window (or never).")),
    ]
}

const PROVIDER_REQUIRED: &[&str] = &[
    "id",
    "name",
    "organization",
    "kind",
    "issues",
    "populations",
    "languages",
    "open_24h",
    "hours",
    "timezone",
    "hours_note",
    "website",
    "law_enforcement",
    "precision",
    "incomplete",
    "verified_at",
    "address",
    "phones",
    "stale",
];

/// A match's own members: rank, score, tier, distance, reasons.
fn match_members() -> Vec<(&'static str, Value)> {
    vec![
        (
            "rank",
            json!({"type": "integer", "minimum": 1, "description": "1-based rank."}),
        ),
        (
            "score",
            number("The bonus earned besides distance, 4 decimals."),
        ),
        (
            "tier",
            one_of(TIERS, "How the provider relates to the caller's place."),
        ),
        (
            "in_person",
            boolean("Help the caller can walk into (tier local or nearby)."),
        ),
        (
            "national_line",
            boolean("Dealt as the national line for the need."),
        ),
        (
            "language",
            one_of(LANGUAGE_FITS, "How it meets the caller's languages."),
        ),
        (
            "distance_km",
            nullable_number("Great-circle km from the caller; null without a location."),
        ),
        (
            "serves_location",
            boolean("Its service area covers the caller's point."),
        ),
        ("reasons", strings("Why it was chosen, in plain words.")),
        (
            "relaxed",
            array_of(
                one_of(RELAXABLE, "A filter it fails."),
                "Filters relaxed for it (empty for strict results).",
            ),
        ),
        (
            "warm_transfer",
            reference("WarmTransferCheck"),
        ),
        (
            "capacity",
            nullable_ref(
                "CapacityFigure",
                "Staff only: its capacity figure (the freshest with room, else the freshest); null when it has none. Never in a public or provider-key answer.",
            ),
        ),
        ("referral_stats", reference("ReferralStats")),
    ]
}

const MATCH_REQUIRED: &[&str] = &[
    "rank",
    "score",
    "tier",
    "in_person",
    "national_line",
    "language",
    "distance_km",
    "serves_location",
    "reasons",
    "relaxed",
];

fn required(lists: &[&[&'static str]]) -> Vec<&'static str> {
    lists.iter().flat_map(|l| l.iter().copied()).collect()
}

/// A GeoJSON Feature of `properties`, at a Point or none.
fn point_feature(description: &str, properties: Value) -> Value {
    object(
        description,
        &["type", "id", "geometry", "properties"],
        vec![
            ("type", constant("Feature")),
            ("id", text("The provider's id.")),
            (
                "geometry",
                nullable_ref(
                    "Point",
                    "Where it is, as far as the caller may see it (coarsened for a confidential location); null for a line without a place.",
                ),
            ),
            ("properties", properties),
        ],
    )
}

fn providers(add: &mut impl FnMut(&str, Value)) {
    add(
        "Phone",
        object(
            "A phone, text or TTY number.",
            &["number", "dial", "kind"],
            vec![
                ("number", text("The number as shown, letters kept.")),
                ("dial", text("Digits to dial (a leading + when written).")),
                ("kind", one_of(PHONE_KINDS, "What the number is for.")),
                (
                    "country",
                    text("ISO 3166-1 alpha-2 country it serves, when it serves one."),
                ),
                ("note", text("A short note (\"Spanish\", \"Youth\").")),
                (
                    "confidential",
                    json!({"type": "boolean", "const": true, "description": "Present (true) on a direct line, which only staff see."}),
                ),
            ],
        ),
    );
    add(
        "ShownAddress",
        object(
            "A postal address as the caller may see it: the street for staff only; no postal code for the public where the location is confidential.",
            &["city", "region", "country"],
            vec![
                ("street", nullable_text("Staff only: street line(s).")),
                ("city", nullable_text("City or town.")),
                ("region", nullable_text("USPS state or territory code, or a foreign first-level division.")),
                ("postal_code", nullable_text("ZIP or postal code (left out for the public where the location is confidential).")),
                ("country", nullable_text("ISO 3166-1 alpha-2.")),
            ],
        ),
    );
    add(
        "ProviderProperties",
        object(
            "A provider as the caller may see it. Staff (advocate, admin) also get visibility, location_confidential, email, contact_name and the address's street; the public gets location_approximate on a coarsened point.",
            PROVIDER_REQUIRED,
            provider_members(),
        ),
    );
    add(
        "ProviderFeature",
        point_feature(
            "One provider as a GeoJSON Feature.",
            reference("ProviderProperties"),
        ),
    );
    add(
        "ProviderPage",
        object(
            "A page of providers in directory order.",
            &["type", "features", "count"],
            vec![
                ("type", constant("FeatureCollection")),
                (
                    "features",
                    array_of(reference("ProviderFeature"), "The page's providers."),
                ),
                ("count", integer("Providers on this page.")),
                (
                    "next_cursor",
                    text("Pass as cursor= for the next page; absent on the last page."),
                ),
            ],
        ),
    );
    add(
        "HotlineCollection",
        object(
            "Hotlines serving a country, each with the numbers for that country.",
            &["type", "query", "features"],
            vec![
                ("type", constant("FeatureCollection")),
                (
                    "query",
                    object(
                        "The country asked for.",
                        &["country", "name"],
                        vec![
                            ("country", text("ISO 3166-1 alpha-2 code.")),
                            ("name", text("English name.")),
                        ],
                    ),
                ),
                (
                    "features",
                    array_of(reference("ProviderFeature"), "The hotlines."),
                ),
            ],
        ),
    );
}

fn matching(add: &mut impl FnMut(&str, Value)) {
    let mut feature_members = match_members();
    feature_members.extend(provider_members());
    add(
        "MatchProperties",
        object(
            "A ranked result: the match's members, then the provider's (see ProviderProperties for the members that depend on the caller's role).",
            &required(&[MATCH_REQUIRED, PROVIDER_REQUIRED]),
            feature_members,
        ),
    );
    add(
        "WarmTransferCheck",
        object(
            "Staff only (never in a public or provider-key answer): whether it can take a warm transfer now, condition by condition.",
            &["open", "accepting", "direct_line", "language", "ready"],
            vec![
                ("open", boolean("Open at the query's at (or now) in its own time zone, or 24-hour.")),
                ("accepting", one_of(ACCEPTING, "yes: a fresh capacity figure above zero; no: fresh figures, all zero; unknown: none, or only stale ones (meets the condition, flagged).")),
                ("direct_line", nullable_text("Digits to dial: its first voice or toll-free line for the caller's country, direct (confidential) lines first; null without one.")),
                ("language", one_of(LANGUAGE_FITS, "How it meets the caller's languages (speaks, interpreter and not_asked meet the condition).")),
                ("ready", boolean("All four met: open, accepting (yes or unknown), a direct line, the language.")),
            ],
        ),
    );
    add(
        "CapacityFigure",
        object(
            "Staff only: a capacity figure (HSDS 3.1 service_capacity) and whether it is stale.",
            &["available", "maximum", "unit", "updated_at", "updated_by", "stale"],
            vec![
                ("available", json!({"type": "integer", "minimum": 0, "description": "Units free."})),
                ("maximum", json!({"type": ["integer", "null"], "minimum": 0, "description": "Units in all; null when not given."})),
                ("unit", text("What is counted (beds, slots).")),
                ("updated_at", json!({"type": ["string", "null"], "format": "date-time", "description": "When it was given; null when undated (counts as stale)."})),
                ("updated_by", nullable_text("Who gave it (the API key's name, or the source).")),
                ("stale", boolean("Older than serve --capacity-fresh-hours at the query's at (or now), or undated: counts as unknown.")),
            ],
        ),
    );
    add(
        "MatchFeature",
        point_feature(
            "A ranked result as a GeoJSON Feature.",
            reference("MatchProperties"),
        ),
    );
    let mut result_members = vec![
        (
            "lat",
            nullable_number(
                "Latitude in degrees, as far as the caller may see it; null without a place.",
            ),
        ),
        (
            "lon",
            nullable_number("Longitude in degrees; null without a place."),
        ),
    ];
    result_members.extend(match_members());
    result_members.extend(provider_members());
    add(
        "MatchResult",
        object(
            "A ranked result as plain JSON (format=json): lat and lon, the match's members, then the provider's.",
            &required(&[&["lat", "lon"], MATCH_REQUIRED, PROVIDER_REQUIRED]),
            result_members,
        ),
    );
    add(
        "AppliedFilters",
        object(
            "The filters the match applied, as resolved.",
            &[
                "issues",
                "languages",
                "open_24h",
                "open_now",
                "at",
                "exclude",
                "populations",
                "radius_km",
                "reach_km",
                "limit",
                "accepting",
                "warm_transfer",
            ],
            vec![
                (
                    "issues",
                    strings("Issue codes matched, parents expanded to their children."),
                ),
                ("languages", strings("ISO 639-1 codes.")),
                ("open_24h", boolean("24-hour capacity required.")),
                ("open_now", boolean("Open at `at` required.")),
                (
                    "at",
                    json!({"type": ["string", "null"], "format": "date-time", "description": "The instant open_now, accepting and warm_transfer were judged at, when one of them was asked."}),
                ),
                (
                    "exclude",
                    array_of(kind("A kind left out."), "Kinds left out."),
                ),
                ("populations", strings("Population codes.")),
                ("radius_km", nullable_number("Distance cap, km.")),
                (
                    "reach_km",
                    nullable_number(
                        "In-person reach used, km; null when the caller has no position.",
                    ),
                ),
                ("limit", integer("Most results.")),
                ("accepting", boolean("Staff only filter: providers with room, or unknown capacity (flagged). Always false for the public.")),
                ("warm_transfer", boolean("Staff only filter: providers that can take a warm transfer now. Always false for the public.")),
            ],
        ),
    );
    add(
        "MatchQuery",
        object(
            "Where the caller was placed, and the filters.",
            &[
                "name",
                "lat",
                "lon",
                "precision",
                "country",
                "region",
                "county_fips",
                "county",
                "filters",
            ],
            vec![
                (
                    "name",
                    nullable_text("Display name of the geocoded place; null for coordinates."),
                ),
                (
                    "lat",
                    json!({"type": "number", "minimum": -90, "maximum": 90}),
                ),
                (
                    "lon",
                    json!({"type": "number", "minimum": -180, "maximum": 180}),
                ),
                (
                    "precision",
                    one_of(PRECISIONS, "How precisely the caller is placed."),
                ),
                (
                    "country",
                    nullable_text("ISO 3166-1 alpha-2 (US territories have their own)."),
                ),
                ("region", nullable_text("USPS state or territory code.")),
                ("county_fips", nullable_text("Five-digit county FIPS.")),
                ("county", nullable_text("County legal name.")),
                ("note", text("What the geocoder approximated, when it did.")),
                ("filters", reference("AppliedFilters")),
            ],
        ),
    );
    add(
        "MatchCollection",
        object(
            "Ranked providers as a GeoJSON FeatureCollection in rank order, with the resolved place and filters as the foreign member `query`.",
            &["type", "query", "features"],
            vec![
                ("type", constant("FeatureCollection")),
                ("query", reference("MatchQuery")),
                ("features", array_of(reference("MatchFeature"), "Results in rank order.")),
            ],
        ),
    );
    add(
        "MatchList",
        object(
            "Ranked providers as plain JSON (format=json).",
            &["query", "results"],
            vec![
                ("query", reference("MatchQuery")),
                (
                    "results",
                    array_of(reference("MatchResult"), "Results in rank order."),
                ),
            ],
        ),
    );
}

fn location_members() -> Vec<(&'static str, Value)> {
    vec![
        (
            "name",
            text("Display name (\"Fresno, CA\", \"Cook County, IL\", \"Lima, Peru\")."),
        ),
        (
            "lat",
            json!({"type": "number", "minimum": -90, "maximum": 90}),
        ),
        (
            "lon",
            json!({"type": "number", "minimum": -180, "maximum": 180}),
        ),
        (
            "precision",
            one_of(PRECISIONS, "How precise the position is."),
        ),
        (
            "country",
            nullable_text("ISO 3166-1 alpha-2 (US territories have their own)."),
        ),
        (
            "region",
            nullable_text("USPS state or territory code for US places, else null."),
        ),
        (
            "county_fips",
            nullable_text("Five-digit county FIPS where known."),
        ),
        (
            "population",
            integer("Population of the place, county or country, where known."),
        ),
    ]
}

const LOCATION_REQUIRED: &[&str] = &[
    "name",
    "lat",
    "lon",
    "precision",
    "country",
    "region",
    "county_fips",
];

fn places(add: &mut impl FnMut(&str, Value)) {
    add(
        "Location",
        object(
            "One reading of a place.",
            LOCATION_REQUIRED,
            location_members(),
        ),
    );
    let mut answer = vec![("query", text("The query as given (trimmed)."))];
    answer.extend(location_members());
    answer.push((
        "alternatives",
        array_of(reference("Location"), "Other readings, most likely first."),
    ));
    answer.push((
        "note",
        text("What was approximated (a street address placed at its ZIP)."),
    ));
    add(
        "GeocodeAnswer",
        object(
            "The best reading of the query and the others.",
            &required(&[&["query"], LOCATION_REQUIRED, &["alternatives"]]),
            answer,
        ),
    );
    add(
        "ReverseAnswer",
        object(
            "The country, US state or territory and county holding a point; every field null for open ocean.",
            &["lat", "lon", "country", "region", "county_fips", "county"],
            vec![
                ("lat", json!({"type": "number", "minimum": -90, "maximum": 90})),
                ("lon", json!({"type": "number", "minimum": -180, "maximum": 180})),
                ("country", nullable_text("ISO 3166-1 alpha-2.")),
                ("region", nullable_text("USPS state or territory code, for US points.")),
                ("county_fips", nullable_text("Five-digit county FIPS, for US points.")),
                ("county", nullable_text("County legal name.")),
            ],
        ),
    );
    add(
        "Vocabulary",
        object(
            "The codes the parameters and records use.",
            &["issues", "populations", "kinds", "languages"],
            vec![
                (
                    "issues",
                    array_of(
                        object(
                            "An issue code.",
                            &["code", "label"],
                            vec![
                                ("code", text("snake_case code.")),
                                ("label", text("English label.")),
                                ("parent", text("Parent code, when it has one.")),
                            ],
                        ),
                        "Issue codes; asking for a parent matches its children.",
                    ),
                ),
                (
                    "populations",
                    array_of(
                        object(
                            "A population code.",
                            &["code", "label"],
                            vec![
                                ("code", text("snake_case code.")),
                                ("label", text("English label.")),
                            ],
                        ),
                        "Population codes.",
                    ),
                ),
                (
                    "kinds",
                    array_of(kind("A kind."), "Every kind of provider."),
                ),
                (
                    "languages",
                    array_of(
                        object(
                            "A language.",
                            &["code", "name"],
                            vec![
                                ("code", text("ISO 639-1 code.")),
                                ("name", text("English name.")),
                            ],
                        ),
                        "Languages with an ISO 639-1 code.",
                    ),
                ),
            ],
        ),
    );
    add(
        "OutlineCollection",
        object(
            "Simplified outlines (the console's basemap).",
            &["type", "count", "tolerance_deg", "features"],
            vec![
                ("type", constant("FeatureCollection")),
                ("count", integer("Features.")),
                (
                    "tolerance_deg",
                    number("Simplification tolerance used, degrees."),
                ),
                (
                    "features",
                    array_of(
                        object(
                            "One region's outline.",
                            &["type", "id", "geometry", "properties"],
                            vec![
                                ("type", constant("Feature")),
                                ("id", text("ISO 3166-1 alpha-2, USPS code or county FIPS.")),
                                ("geometry", reference("MultiPolygon")),
                                (
                                    "properties",
                                    object(
                                        "The region.",
                                        &["id", "name", "kind"],
                                        vec![
                                            ("id", text("As the Feature's id.")),
                                            ("name", text("Name (a county's with its state).")),
                                            (
                                                "kind",
                                                one_of(
                                                    &["country", "state", "county"],
                                                    "Which outlines.",
                                                ),
                                            ),
                                            ("state", text("For a county: its USPS state code.")),
                                        ],
                                    ),
                                ),
                            ],
                        ),
                        "Outlines with a shape.",
                    ),
                ),
            ],
        ),
    );
}

/// The members of coverage `metadata` (report and suggestions alike).
fn metadata_members() -> Vec<(&'static str, Value)> {
    vec![
        ("generator", text("refmatch and its version.")),
        (
            "regions",
            object(
                "The regions reported on.",
                &["by", "count"],
                vec![
                    ("by", one_of(UNIT_KINDS, "Region set.")),
                    (
                        "resolution",
                        json!({"type": "integer", "minimum": 0, "maximum": 15, "description": "H3 only: the resolution."}),
                    ),
                    (
                        "bbox",
                        json!({
                            "description": "H3 only: west,south,east,north degrees, or what the cells cover without one.",
                            "oneOf": [
                                {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
                                {"type": "string"},
                            ],
                        }),
                    ),
                    ("count", integer("Regions.")),
                ],
            ),
        ),
        (
            "need",
            object(
                "The need's filters.",
                &[
                    "issues",
                    "languages",
                    "open_24h",
                    "kinds",
                    "exclude",
                    "populations",
                    "include_hotlines",
                ],
                vec![
                    ("issues", strings("Issue codes, parents expanded.")),
                    ("languages", strings("ISO 639-1 codes.")),
                    ("open_24h", boolean("24-hour capacity required.")),
                    (
                        "kinds",
                        array_of(kind("A kind."), "Kinds counted (empty: every kind)."),
                    ),
                    ("exclude", array_of(kind("A kind."), "Kinds left out.")),
                    ("populations", strings("Population codes.")),
                    (
                        "include_hotlines",
                        boolean("Hotlines and providers without a location count."),
                    ),
                ],
            ),
        ),
        (
            "matching_providers",
            integer("Providers passing the need's filters."),
        ),
        (
            "threshold_km",
            number("Distance beyond which a region is a gap, km."),
        ),
        ("reach_km", number("Farthest distance searched, km.")),
        ("catchment_km", number("2SFCA catchment, km.")),
        (
            "decay",
            one_of(&["gaussian", "binary"], "2SFCA distance decay."),
        ),
        (
            "tolerance_deg",
            number("Outline simplification tolerance, degrees."),
        ),
        (
            "population_source",
            text("Where the population figures come from."),
        ),
        (
            "counts_by_gap",
            json!({
                "type": "object",
                "description": "Regions per gap class.",
                "required": gaps(),
                "properties": gaps().iter().map(|g| ((*g).to_owned(), json!({"type": "integer", "minimum": 0}))).collect::<Map<String, Value>>(),
                "additionalProperties": false,
            }),
        ),
        (
            "unserved_population",
            integer("Persons unserved, all regions."),
        ),
        (
            "definitions",
            json!({"type": "object", "description": "Each figure's definition, by name.", "additionalProperties": {"type": "string"}}),
        ),
    ]
}

const METADATA_REQUIRED: &[&str] = &[
    "generator",
    "regions",
    "need",
    "matching_providers",
    "threshold_km",
    "reach_km",
    "catchment_km",
    "decay",
    "tolerance_deg",
    "population_source",
    "counts_by_gap",
    "unserved_population",
    "definitions",
];

fn coverage(add: &mut impl FnMut(&str, Value)) {
    add(
        "CoverageMetadata",
        object(
            "What a coverage report measured and how (the `metadata` foreign member).",
            METADATA_REQUIRED,
            metadata_members(),
        ),
    );
    add(
        "CoverageProperties",
        object(
            "One region's figures (the CSV body has the same columns).",
            &[
                "id", "name", "kind", "population", "people_points", "providers_serving",
                "nearest_km", "gap", "unserved_population", "access_per_100k", "label_lat",
                "label_lon",
            ],
            vec![
                ("id", text("State code, county FIPS, ISO 3166-1 alpha-2 or H3 cell.")),
                ("name", text("Region name.")),
                ("kind", one_of(UNIT_KINDS, "Region kind.")),
                ("population", integer("Persons.")),
                ("people_points", integer("Populated places weighing the region's people.")),
                ("providers_serving", integer("Matching providers whose area covers any of its people points.")),
                ("nearest_km", nullable_number("Population-weighted distance to the nearest matching provider, km; null without one.")),
                ("gap", one_of(&gaps(), "Gap class.")),
                ("unserved_population", integer("Persons no matching provider serves and none is within threshold_km of.")),
                ("access_per_100k", number("2SFCA: matching providers per 100,000 people.")),
                ("label_lat", json!({"type": "number", "minimum": -90, "maximum": 90})),
                ("label_lon", json!({"type": "number", "minimum": -180, "maximum": 180})),
            ],
        ),
    );
    add(
        "CoverageCollection",
        object(
            "Coverage gaps, one Feature per region.",
            &["type", "metadata", "features"],
            vec![
                ("type", constant("FeatureCollection")),
                ("metadata", reference("CoverageMetadata")),
                (
                    "features",
                    array_of(
                        object(
                            "One region.",
                            &["type", "id", "geometry", "properties"],
                            vec![
                                ("type", constant("Feature")),
                                ("id", text("As properties.id.")),
                                ("geometry", nullable_ref("MultiPolygon", "The region's outline, simplified; null when the atlas has none.")),
                                ("properties", reference("CoverageProperties")),
                            ],
                        ),
                        "Regions.",
                    ),
                ),
            ],
        ),
    );
    let mut suggest_metadata = metadata_members();
    suggest_metadata.extend([
        ("sites_asked", integer("Sites asked for.")),
        ("candidates", integer("Candidate places considered.")),
        (
            "unserved_before",
            integer("Persons without help before the new sites."),
        ),
        (
            "unserved_after",
            integer("Persons still without help after them."),
        ),
    ]);
    add(
        "SuggestionMetadata",
        object(
            "The coverage report's metadata and the suggestion's totals.",
            &required(&[
                METADATA_REQUIRED,
                &[
                    "sites_asked",
                    "candidates",
                    "unserved_before",
                    "unserved_after",
                ],
            ]),
            suggest_metadata,
        ),
    );
    add(
        "SuggestionCollection",
        object(
            "Sites for new providers, in the order chosen (fewer than asked when no candidate adds anyone).",
            &["type", "metadata", "features"],
            vec![
                ("type", constant("FeatureCollection")),
                ("metadata", reference("SuggestionMetadata")),
                (
                    "features",
                    array_of(
                        object(
                            "One site.",
                            &["type", "geometry", "properties"],
                            vec![
                                ("type", constant("Feature")),
                                ("geometry", reference("Point")),
                                (
                                    "properties",
                                    object(
                                        "The site.",
                                        &[
                                            "rank", "geonameid", "name", "country", "admin1", "lat", "lon",
                                            "population_added", "cumulative_population",
                                        ],
                                        vec![
                                            ("rank", json!({"type": "integer", "minimum": 1})),
                                            ("geonameid", integer("GeoNames id of the place.")),
                                            ("name", text("Place name.")),
                                            ("country", text("ISO 3166-1 alpha-2.")),
                                            ("admin1", text("USPS code (US) or GeoNames admin1.")),
                                            ("lat", json!({"type": "number", "minimum": -90, "maximum": 90})),
                                            ("lon", json!({"type": "number", "minimum": -180, "maximum": 180})),
                                            ("population_added", integer("Persons newly brought within the threshold.")),
                                            ("cumulative_population", integer("Persons brought within it by this and the earlier sites.")),
                                        ],
                                    ),
                                ),
                            ],
                        ),
                        "Sites.",
                    ),
                ),
            ],
        ),
    );
}

/// The members of a stored provider record (`?format=record`, history,
/// submissions, edits).
fn record_members() -> Vec<(&'static str, Value)> {
    vec![
        ("id", text("Stable identifier, unique in the directory.")),
        ("name", text("Display name.")),
        (
            "organization",
            text("Parent organisation, when it differs from the name."),
        ),
        ("kind", kind("What sort of contact it is.")),
        ("issues", strings("Issue codes (GET /v1/vocabulary).")),
        ("services", strings("Services offered, free text.")),
        ("populations", strings("Population codes.")),
        ("languages", strings("ISO 639-1 codes.")),
        ("availability", reference("Availability")),
        ("hours_note", text("Hours as the source wrote them.")),
        (
            "phones",
            array_of(reference("Phone"), "Phone, text and TTY numbers."),
        ),
        ("email", text("Contact e-mail (confidential).")),
        ("website", text("Web site.")),
        ("contact_name", text("Contact person (confidential).")),
        (
            "law_enforcement",
            boolean("Contacting it means contacting law enforcement."),
        ),
        (
            "address",
            object(
                "Postal address; each part optional.",
                &[],
                vec![
                    ("street", text("Street line(s); confidential.")),
                    ("city", text("City or town.")),
                    (
                        "region",
                        text("USPS state or territory code, or a foreign first-level division."),
                    ),
                    ("postal_code", text("ZIP or postal code.")),
                    ("country", text("ISO 3166-1 alpha-2.")),
                ],
            ),
        ),
        (
            "location",
            object(
                "Position in degrees.",
                &["lat", "lon"],
                vec![
                    (
                        "lat",
                        json!({"type": "number", "minimum": -90, "maximum": 90}),
                    ),
                    (
                        "lon",
                        json!({"type": "number", "minimum": -180, "maximum": 180}),
                    ),
                ],
            ),
        ),
        (
            "precision",
            one_of(PRECISIONS, "How precisely the location is known."),
        ),
        (
            "location_confidential",
            json!({"type": "boolean", "description": "The location must not be shown to the public (written only when true)."}),
        ),
        (
            "service_area",
            array_of(
                reference("AreaSpec"),
                "The area served: the union of these parts.",
            ),
        ),
        (
            "visibility",
            one_of(VISIBILITIES, "Who may see the record."),
        ),
        (
            "verified_at",
            json!({"type": "string", "format": "date", "description": "Day last verified (YYYY-MM-DD)."}),
        ),
        (
            "source",
            text("Where the record came from (`api` for one sent without a source)."),
        ),
        ("funder", text("Funder, as the source states it.")),
        ("description", text("What the provider does.")),
        (
            "incomplete",
            boolean("The source names it without enough detail to refer to it."),
        ),
        (
            "capacity",
            array_of(
                reference("ServiceCapacity"),
                "Staff only: room now (HSDS 3.1 service_capacity); left out when empty and for provider keys. Set with PUT /v1/providers/{id}/capacity.",
            ),
        ),
    ]
}

/// A tagged object: `type` is `tag`, then `members`.
fn tagged(tag: &str, description: &str, required: &[&str], members: Vec<(&str, Value)>) -> Value {
    let mut all = vec![("type", constant(tag))];
    all.extend(members);
    let mut names = vec!["type"];
    names.extend_from_slice(required);
    object(description, &names, all)
}

fn codes(description: &str) -> Value {
    json!({"type": "array", "items": {"type": "string"}, "minItems": 1, "description": description})
}

fn records(add: &mut impl FnMut(&str, Value)) {
    add(
        "Availability",
        json!({
            "description": "When the provider can be reached.",
            "oneOf": [
                tagged("open24h", "Around the clock.", &[], vec![]),
                tagged("unknown", "Hours not known.", &[], vec![]),
                tagged(
                    "weekly",
                    "Weekly intervals in a time zone.",
                    &["timezone", "intervals"],
                    vec![
                        ("timezone", text("IANA time zone.")),
                        (
                            "intervals",
                            array_of(
                                object(
                                    "An opening interval.",
                                    &["day", "opens_min", "closes_min"],
                                    vec![
                                        ("day", json!({"type": "integer", "minimum": 0, "maximum": 6, "description": "0 = Monday … 6 = Sunday."})),
                                        ("opens_min", json!({"type": "integer", "minimum": 0, "maximum": 1440, "description": "Minutes after midnight."})),
                                        ("closes_min", json!({"type": "integer", "minimum": 0, "maximum": 2880, "description": "Minutes after the same midnight (past 1440 when open past midnight)."})),
                                    ],
                                ),
                                "Sorted by day and opening time.",
                            ),
                        ),
                    ],
                ),
            ],
        }),
    );
    add(
        "AreaSpec",
        json!({
            "description": "One part of a service area.",
            "oneOf": [
                tagged("radius", "Within radius_km of the provider's location.", &["radius_km"], vec![("radius_km", json!({"type": "number", "exclusiveMinimum": 0}))]),
                tagged("states", "US states or territories.", &["codes"], vec![("codes", codes("USPS codes."))]),
                tagged("counties", "US counties.", &["fips"], vec![("fips", codes("Five-digit FIPS codes."))]),
                tagged("zips", "US ZIP codes.", &["zips"], vec![("zips", codes("Five-digit ZIPs."))]),
                tagged("countries", "Countries.", &["codes"], vec![("codes", codes("ISO 3166-1 alpha-2 codes."))]),
                tagged("nationwide", "A whole country (for US, with its territories).", &["country"], vec![("country", text("ISO 3166-1 alpha-2."))]),
                tagged("worldwide", "Everywhere.", &[], vec![]),
                tagged("polygon", "A GeoJSON MultiPolygon's coordinates, [lon, lat] degrees.", &["coordinates"], vec![("coordinates", json!({"type": "array", "items": reference("PolygonCoordinates"), "minItems": 1}))]),
            ],
        }),
    );
    add(
        "Record",
        object(
            "A provider record as stored (staff only): every field, confidential ones included; optional fields are left out when empty.",
            &[
                "id", "name", "kind", "issues", "services", "populations", "languages",
                "availability", "phones", "law_enforcement", "service_area", "visibility", "source",
                "incomplete",
            ],
            record_members(),
        ),
    );
    add(
        "RecordInput",
        open_object(
            "A provider record to create, replace or submit, in the shape of GET /v1/providers/{id}?format=record; validated as ingest validates a row. `id` is needed when creating or submitting (a replacement takes it from the path); `source` defaults to `api`; members not listed are ignored.",
            &["name", "kind", "availability"],
            record_members(),
        ),
    );
    add(
        "RejectionReason",
        open_object(
            "Why a submission is rejected.",
            &["reason"],
            vec![(
                "reason",
                json!({"type": "string", "minLength": 1, "description": "Said to the record's keepers; not blank."}),
            )],
        ),
    );
    add(
        "ImportJson",
        json!({
            "description": "A JSON array of records (as RecordInput), or an HSDS 3.1 export.",
            "type": ["array", "object"],
        }),
    );
    add(
        "ImportGeoJson",
        json!({
            "description": "A GeoJSON FeatureCollection whose Features' properties are records.",
            "type": "object",
        }),
    );
}

fn edits(add: &mut impl FnMut(&str, Value)) {
    add(
        "ServiceCapacity",
        object(
            "A capacity figure as stored (HSDS 3.1 service_capacity).",
            &["available", "unit"],
            vec![
                (
                    "available",
                    json!({"type": "integer", "minimum": 0, "description": "Units free now."}),
                ),
                (
                    "maximum",
                    json!({"type": "integer", "minimum": 0, "description": "Units in all, when known."}),
                ),
                (
                    "unit",
                    text("What is counted (beds, slots), 1 to 40 characters."),
                ),
                (
                    "updated_at",
                    timestamp("When it was given (stamped by the server)."),
                ),
                (
                    "updated_by",
                    text("Who gave it: the API key's name (stamped by the server)."),
                ),
            ],
        ),
    );
    add(
        "CapacityInput",
        open_object(
            "A record's new capacity (replaces the old): advocate, admin, or a provider key bound to the record. The server stamps updated_at and updated_by; other members are ignored.",
            &["capacity"],
            vec![(
                "capacity",
                array_of(
                    open_object(
                        "One figure.",
                        &["available", "unit"],
                        vec![
                            ("available", json!({"type": "integer", "minimum": 0, "description": "Units free now."})),
                            ("maximum", json!({"type": ["integer", "null"], "minimum": 0, "description": "Units in all, when known; at least available."})),
                            ("unit", text("What is counted (beds, slots), 1 to 40 characters.")),
                        ],
                    ),
                    "At most 16 figures, one per unit; empty clears the capacity.",
                ),
            )],
        ),
    );
    add(
        "HoursInput",
        open_object(
            "A record's new hours: admin, or a provider key bound to the record; validated as record edits are.",
            &["opening_hours"],
            vec![
                ("opening_hours", text("OpenStreetMap opening_hours syntax: 'Mo-Fr 09:00-17:00', '24/7', or '' for unknown.")),
                ("timezone", text("IANA time zone of weekly hours, e.g. America/Chicago (needed unless 24/7 or unknown).")),
                ("hours_note", nullable_text("Hours in words; null clears it; left as it was when absent.")),
            ],
        ),
    );
    add(
        "RecordWritten",
        object(
            "A record created or replaced: its id, new version (also the ETag) and the record as stored.",
            &["id", "version", "record"],
            vec![
                ("id", text("The record's id.")),
                ("version", json!({"type": "integer", "minimum": 1})),
                ("record", reference("Record")),
            ],
        ),
    );
    add(
        "RecordDeleted",
        object(
            "A record soft-deleted.",
            &["id", "version", "active"],
            vec![
                ("id", text("The record's id.")),
                ("version", json!({"type": "integer", "minimum": 1})),
                ("active", json!({"type": "boolean", "const": false})),
            ],
        ),
    );
    add(
        "HistoryEntry",
        object(
            "One version of a record.",
            &[
                "seq",
                "provider_id",
                "version",
                "action",
                "at",
                "actor",
                "before",
                "after",
            ],
            vec![
                ("seq", integer("Position in the store's history.")),
                ("provider_id", text("The record's id.")),
                ("version", json!({"type": "integer", "minimum": 1})),
                ("action", one_of(HISTORY_ACTIONS, "What made this version.")),
                ("at", timestamp("When.")),
                ("actor", text("Who (key:<name>#<id>, system:seed…).")),
                (
                    "before",
                    nullable_ref("Record", "The record before; null when it was new."),
                ),
                (
                    "after",
                    nullable_ref("Record", "The record after; null when deleted."),
                ),
            ],
        ),
    );
    add(
        "History",
        object(
            "Every version of a record, oldest first.",
            &["id", "confidential", "entries"],
            vec![
                ("id", text("The record's id.")),
                (
                    "confidential",
                    boolean("Some version shows confidential data (this read was audited)."),
                ),
                (
                    "entries",
                    array_of(reference("HistoryEntry"), "Versions, oldest first."),
                ),
            ],
        ),
    );
    add(
        "ImportReport",
        object(
            "What an import did.",
            &["rows_read", "accepted", "created", "updated", "unchanged", "rejections"],
            vec![
                ("rows_read", integer("Records read from the file.")),
                ("accepted", integer("Records accepted (created, updated or unchanged).")),
                ("created", integer("Records new to the store.")),
                ("updated", integer("Stored records replaced.")),
                ("unchanged", integer("Records equal to the stored ones.")),
                (
                    "rejections",
                    array_of(
                        object(
                            "A record that could not be used, and why.",
                            &["source", "line", "field", "reason"],
                            vec![
                                ("source", text("The file it came from.")),
                                ("line", integer("1-based line (CSV, NDJSON) or position (JSON, GeoJSON); 0 for the whole file.")),
                                ("field", nullable_text("The field at fault, when one is.")),
                                ("reason", text("What is wrong and what would be valid.")),
                            ],
                        ),
                        "Every rejected record.",
                    ),
                ),
            ],
        ),
    );
    add(
        "SubmissionReceipt",
        object(
            "A submission received, queued for review.",
            &["id", "status", "received_at", "detail"],
            vec![
                ("id", integer("Submission number.")),
                (
                    "status",
                    one_of(SUBMISSION_STATUSES, "Pending, on arrival."),
                ),
                ("received_at", timestamp("When it arrived.")),
                ("detail", text("What happens next.")),
            ],
        ),
    );
    add(
        "Submission",
        object(
            "A proposed record and its review.",
            &[
                "id",
                "received_at",
                "from",
                "record",
                "status",
                "decided_at",
                "decided_by",
                "reason",
                "provider_id",
            ],
            vec![
                ("id", integer("Submission number.")),
                ("received_at", timestamp("When it arrived.")),
                ("from", text("Who sent it.")),
                ("record", reference("Record")),
                ("status", one_of(SUBMISSION_STATUSES, "Where it stands.")),
                (
                    "decided_at",
                    json!({"type": ["string", "null"], "format": "date-time", "description": "When it was decided."}),
                ),
                ("decided_by", nullable_text("Who decided it.")),
                ("reason", nullable_text("Why it was rejected.")),
                (
                    "provider_id",
                    nullable_text("The record created on approval."),
                ),
            ],
        ),
    );
    add(
        "SubmissionList",
        object(
            "The intake queue, newest first.",
            &["count", "submissions"],
            vec![
                ("count", integer("Submissions listed.")),
                (
                    "submissions",
                    array_of(reference("Submission"), "Newest first."),
                ),
            ],
        ),
    );
    add(
        "Approval",
        object(
            "A submission approved: its record is now a provider.",
            &["submission", "provider_id", "version"],
            vec![
                ("submission", reference("Submission")),
                ("provider_id", text("The record created.")),
                ("version", json!({"type": "integer", "minimum": 1})),
            ],
        ),
    );
    add(
        "AuditEntry",
        object(
            "One entry of the audit log.",
            &[
                "seq",
                "at",
                "actor",
                "role",
                "action",
                "provider_id",
                "before",
                "after",
                "detail",
            ],
            vec![
                ("seq", integer("Position in the log.")),
                ("at", timestamp("When.")),
                ("actor", text("Who.")),
                ("role", one_of(ROLES, "The actor's role at the time.")),
                ("action", one_of(AUDIT_ACTIONS, "What was done.")),
                (
                    "provider_id",
                    nullable_text("The record concerned, when there is one."),
                ),
                (
                    "before",
                    json!({"type": ["object", "null"], "description": "The record or submission before, as written then."}),
                ),
                (
                    "after",
                    json!({"type": ["object", "null"], "description": "The record or submission after, as written then."}),
                ),
                (
                    "detail",
                    nullable_text(
                        "Anything else worth keeping (a count, a reason, the route of a read).",
                    ),
                ),
            ],
        ),
    );
    add(
        "AuditPage",
        object(
            "Audit entries, oldest first.",
            &["entries", "next_after"],
            vec![
                (
                    "entries",
                    array_of(reference("AuditEntry"), "Oldest first."),
                ),
                (
                    "next_after",
                    json!({"type": ["integer", "null"], "minimum": 0, "description": "Pass as after= for the next page; null on the last page."}),
                ),
            ],
        ),
    );
}

const METHODS: &[&str] = &["warm_transfer", "information_given", "provider_callback"];
const STATUSES: &[&str] = &[
    "sent",
    "accepted",
    "declined",
    "completed",
    "no_contact",
    "cancelled",
];
const FHIR_STATUSES: &[&str] = &[
    "requested",
    "accepted",
    "rejected",
    "completed",
    "failed",
    "cancelled",
];
const DECLINE_REASONS: &[&str] = &[
    "no_capacity",
    "not_eligible",
    "unreachable",
    "caller_declined",
    "out_of_area",
    "other",
];

/// The FHIR R4 Task mapping, as the document states it.
const FHIR_MAPPING: &str = "Statuses map onto FHIR R4 Task.status: sent=requested, accepted=accepted, declined=rejected, completed=completed, no_contact=failed, cancelled=cancelled. Lifecycle: sent → accepted | declined (reason) | cancelled; accepted → completed | no_contact | cancelled; any other change is 409.";

fn date(description: &str) -> Value {
    json!({"type": "string", "format": "date", "description": description})
}

fn nullable_date(description: &str) -> Value {
    json!({"type": ["string", "null"], "format": "date", "description": description})
}

fn referrals(add: &mut impl FnMut(&str, Value)) {
    add(
        "ReferralStats",
        object(
            "Staff only: the provider's referrals over the last window_days days (UTC), beside its result; ranking is unchanged by them.",
            &["window_days", "sent", "accepted", "declined", "acceptance_rate"],
            vec![
                ("window_days", integer("The window, days (90).")),
                ("sent", integer("Referrals made to it in the window.")),
                ("accepted", integer("Of those, accepted (whatever happened after).")),
                ("declined", integer("Of those, declined.")),
                (
                    "acceptance_rate",
                    nullable_number("accepted / (accepted + declined); null before it answered any."),
                ),
            ],
        ),
    );
    let referral_members = vec![
        ("id", json!({"type": "integer", "minimum": 1, "description": "Referral number."})),
        ("provider_id", text("The provider referred to.")),
        ("provider_name", text("Its name when the referral was made.")),
        ("method", one_of(METHODS, "How the caller was referred.")),
        ("consent", boolean("The caller agreed to their details being passed on.")),
        ("status", one_of(STATUSES, &format!("Where it stands. {FHIR_MAPPING}"))),
        ("fhir_status", one_of(FHIR_STATUSES, "The FHIR R4 Task.status of status.")),
        ("decline_reason", nullable_one_of(DECLINE_REASONS, "Why the provider declined.")),
        ("region", text("The caller's region only, never a finer place: county:FIPS in the US, h3:CELL (H3 resolution 5) abroad, state:XX or country:XX when the place was no finer.")),
        ("issue", strings("Issue codes of the need.")),
        ("language", strings("ISO 639-1 codes of the caller's languages.")),
        ("population", strings("Population codes of the need.")),
        ("follow_up_due", nullable_date("When to check on it.")),
        ("created_at", timestamp("When it was made.")),
        ("created_by", text("The key that made it (key:NAME#ID).")),
        ("updated_at", timestamp("When it last changed.")),
        (
            "notes",
            array_of(
                object(
                    "A note.",
                    &["at", "by", "text"],
                    vec![
                        ("at", timestamp("When.")),
                        ("by", text("Which key.")),
                        ("text", text("The note.")),
                    ],
                ),
                "Notes, oldest first.",
            ),
        ),
        (
            "history",
            array_of(
                object(
                    "A status change (the first is the creation, from null to sent).",
                    &["at", "by", "from", "to", "reason", "note"],
                    vec![
                        ("at", timestamp("When.")),
                        ("by", text("Which key.")),
                        ("from", nullable_one_of(STATUSES, "The status before; null for the creation.")),
                        ("to", one_of(STATUSES, "The status after.")),
                        ("reason", nullable_one_of(DECLINE_REASONS, "Why it was declined.")),
                        ("note", nullable_text("A note given with the change.")),
                    ],
                ),
                "Status changes, oldest first.",
            ),
        ),
    ];
    let names: Vec<&str> = referral_members.iter().map(|(n, _)| *n).collect();
    add(
        "Referral",
        object(
            &format!("A referral record (staff only; no caller identity is stored). It is shaped to map onto a FHIR R4 Task: {FHIR_MAPPING}"),
            &names,
            referral_members,
        ),
    );
    add(
        "ReferralPage",
        object(
            "A page of referrals, newest first.",
            &["referrals", "next"],
            vec![
                (
                    "referrals",
                    array_of(reference("Referral"), "The referrals."),
                ),
                (
                    "next",
                    nullable_text("The cursor of the next page; null on the last."),
                ),
            ],
        ),
    );
    add(
        "ReferralInput",
        object(
            "A referral made from a match result. Unknown members are refused (422).",
            &["provider_id", "method", "consent", "place"],
            vec![
                ("provider_id", text("The id of an active provider (a match result's id).")),
                ("method", one_of(METHODS, "How the caller was referred.")),
                ("consent", boolean("The caller agreed to their details being passed on; false is allowed only with information_given.")),
                (
                    "place",
                    json!({
                        "description": "The caller's place, kept only as a region: a place text such as \"Fresno, CA\" or {\"lat\", \"lon\"} in degrees.",
                        "anyOf": [
                            {"type": "string"},
                            object("A point, degrees.", &["lat", "lon"], vec![
                                ("lat", number("Latitude, -90 to 90.")),
                                ("lon", number("Longitude, -180 to 180.")),
                            ]),
                        ],
                    }),
                ),
                ("issue", strings("Issue codes of the need (see /v1/vocabulary).")),
                ("language", strings("The caller's languages: ISO 639-1 or 639-3 codes or English names.")),
                ("population", strings("Population codes.")),
                ("follow_up_due", date("When to check on it, YYYY-MM-DD.")),
                ("note", text("A first note, at most 2000 characters.")),
            ],
        ),
    );
    add(
        "StatusChangeInput",
        object(
            &format!("A status change. {FHIR_MAPPING}"),
            &["status"],
            vec![
                ("status", one_of(STATUSES, "The new status.")),
                (
                    "reason",
                    one_of(
                        DECLINE_REASONS,
                        "Why it was declined: required for declined, refused otherwise.",
                    ),
                ),
                ("note", text("A note kept in the history.")),
                ("follow_up_due", date("A new follow-up date.")),
            ],
        ),
    );
    add(
        "NoteInput",
        object(
            "A note to add.",
            &["text"],
            vec![("text", text("The note, at most 2000 characters."))],
        ),
    );
    add(
        "DemandRanking",
        object(
            "GET /v1/coverage?weight=demand (staff only): US states or counties ranked by recorded unmet demand beside population. Demand is every unmet-need event in the region matching the need (all when no need is given): matches whose strict answer was empty (none) or needed relaxing (relaxed), and declined referrals.",
            &["weight", "by", "region_sets", "need", "unmet", "regions"],
            vec![
                ("weight", constant("demand")),
                ("by", one_of(&["state", "county"], "The region set.")),
                ("region_sets", strings("The region sets demand is counted for (state, county).")),
                (
                    "need",
                    object(
                        "The need the events were matched against.",
                        &["issue", "language", "population"],
                        vec![
                            ("issue", strings("Issue codes as asked.")),
                            ("language", strings("ISO 639-1 codes.")),
                            ("population", strings("Population codes.")),
                        ],
                    ),
                ),
                ("unmet", integer("Matching events counted in the regions.")),
                (
                    "regions",
                    array_of(
                        object(
                            "One region.",
                            &[
                                "rank", "population_rank", "id", "name", "unmet", "none",
                                "relaxed", "declined", "population", "unmet_per_100k",
                            ],
                            vec![
                                ("rank", json!({"type": "integer", "minimum": 1, "description": "Rank by unmet demand (ties: the more populous first)."})),
                                ("population_rank", json!({"type": "integer", "minimum": 1, "description": "Rank by population."})),
                                ("id", text("USPS state code or 5-digit county FIPS.")),
                                ("name", text("Display name.")),
                                ("unmet", integer("none + relaxed + declined.")),
                                ("none", integer("Matches that found nothing.")),
                                ("relaxed", integer("Matches that needed relaxed filters.")),
                                ("declined", integer("Declined referrals.")),
                                ("population", integer("Residents (2020 census).")),
                                ("unmet_per_100k", nullable_number("unmet per 100,000 residents; null without a population.")),
                            ],
                        ),
                        "Every region of the set, most unmet demand first.",
                    ),
                ),
            ],
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::super::openapi::ENDPOINTS;
    use super::*;

    /// Every `$ref` in `value`.
    fn references<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| references(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| references(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_endpoint_has_its_bodies_and_every_reference_resolves() {
        for endpoint in ENDPOINTS {
            let success = SUCCESS
                .iter()
                .find(|b| b.method == endpoint.method && b.path == endpoint.path)
                .unwrap_or_else(|| {
                    panic!("{} {} has no success body", endpoint.method, endpoint.path)
                });
            assert!(
                success
                    .media
                    .iter()
                    .any(|(m, _)| *m == endpoint.content_type),
                "{} {}: {} is not among its bodies",
                endpoint.method,
                endpoint.path,
                endpoint.content_type
            );
            let request = REQUESTS
                .iter()
                .find(|b| b.method == endpoint.method && b.path == endpoint.path);
            assert_eq!(
                request.is_some(),
                endpoint.body.is_some(),
                "{} {}: request body",
                endpoint.method,
                endpoint.path
            );
        }
        for table in [SUCCESS, REQUESTS] {
            for b in table {
                assert!(
                    ENDPOINTS
                        .iter()
                        .any(|e| e.method == b.method && e.path == b.path),
                    "{} {} is not an endpoint",
                    b.method,
                    b.path
                );
            }
        }
        let components = Value::Object(components());
        let mut found = Vec::new();
        references(&components, &mut found);
        let named: Vec<String> = [SUCCESS, REQUESTS]
            .iter()
            .flat_map(|t| t.iter())
            .flat_map(|b| b.media.iter())
            .filter_map(|(_, s)| s.map(|s| format!("#/components/schemas/{s}")))
            .collect();
        for r in found.into_iter().chain(named.iter().map(String::as_str)) {
            let name = r.trim_start_matches("#/components/schemas/");
            assert!(components.get(name).is_some(), "{r} does not resolve");
        }
    }
}
