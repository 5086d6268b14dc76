//! The OpenAPI 3.1 document, built from [`ENDPOINTS`] and the parameter
//! tables the parsers themselves use ([`MATCH_PARAMETERS`],
//! [`LIST_PARAMETERS`]), so the document cannot drift from what the
//! handlers accept.

use super::schemas;
use crate::matching::{ParameterDoc, LIST_PARAMETERS, MATCH_PARAMETERS};
use serde_json::{json, Map, Value};

/// One documented operation (a method on a route).
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// HTTP method, lower case (`get`, `post`, `put`, `delete`).
    pub method: &'static str,
    /// Least role that may call it (`public`, `provider`, `advocate`,
    /// `admin`); `provider` operations take a provider key for its own
    /// records only.
    pub role: &'static str,
    /// Media type of the request body, for methods that take one.
    pub body: Option<&'static str>,
    /// Status of a successful answer.
    pub status: u16,
    /// Path, with `{name}` for path parameters.
    pub path: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Query parameters.
    pub query: &'static [ParameterDoc],
    /// Path parameters.
    pub path_parameters: &'static [ParameterDoc],
    /// Media type of the 200 body.
    pub content_type: &'static str,
    /// Error statuses it can answer with (besides 405, 408 and 500).
    pub errors: &'static [u16],
    /// Its `format` parameter (what the body can be), read by the handler
    /// itself rather than by the parser of `query`.
    pub format: Option<ParameterDoc>,
}

impl Endpoint {
    /// Every query parameter it takes: the parser's table, then `format`.
    pub fn parameters(&self) -> impl Iterator<Item = &ParameterDoc> {
        self.query.iter().chain(self.format.as_ref())
    }
}

/// The operation `method` on the route `path` (as the router writes it,
/// `{id}` for a path parameter).
pub fn endpoint(method: &str, path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS
        .iter()
        .find(|e| e.path == path && e.method.eq_ignore_ascii_case(method))
}

const FORMAT: ParameterDoc = ParameterDoc::one(
    "format",
    "string",
    "Body format: geojson (default, application/geo+json) or json.",
);

/// Every route the router serves.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "get",
        role: "public",
        body: None,
        status: 200,
        path: "/healthz",
        summary: "Liveness and the size of the loaded data.",
        query: &[],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[],
        format: None,
    },
    Endpoint {
        method: "get",
        role: "public",
        body: None,
        status: 200,
        path: "/openapi.json",
        summary: "This document.",
        query: &[],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[],
        format: None,
    },
    Endpoint {
        method: "get",
        role: "public",
        body: None,
        status: 200,
        path: "/v1/match",
        summary: "Ranked providers for a caller's place and needs, with reasons; a GeoJSON FeatureCollection in rank order.",
        query: MATCH_PARAMETERS,
        path_parameters: &[],
        content_type: "application/geo+json",
        errors: &[400, 403, 404],
        format: Some(FORMAT),
    },
    Endpoint {
        method: "get",
        role: "public",
        body: None,
        status: 200,
        path: "/v1/providers",
        summary: "Providers in a bounding box, filtered, paged with a cursor (for map dashboards).",
        query: LIST_PARAMETERS,
        path_parameters: &[],
        content_type: "application/geo+json",
        errors: &[400],
        format: None,
    },
    Endpoint {
        method: "get",
        role: "public",
        body: None,
        status: 200,
        path: "/v1/providers/{id}",
        summary: "One provider as a GeoJSON Feature (or its stored record for staff), with its ETag.",
        query: &[],
        path_parameters: &[ParameterDoc::one("id", "string", "The provider's id.")],
        content_type: "application/geo+json",
        errors: &[400, 404],
        format: Some(ParameterDoc::one("format", "string", "geojson (default) or record: the stored record, for editing (advocate or admin).")),
    },
    Endpoint {
        method: "get",
        role: "public",
        body: None,
        status: 200,
        path: "/v1/hotlines",
        summary: "Hotlines serving a country, with the numbers for that country.",
        query: &[ParameterDoc::one("country", "string", "ISO 3166-1 alpha-2 code (PE, UA, US) or English name.").required()],
        path_parameters: &[],
        content_type: "application/geo+json",
        errors: &[400],
        format: None,
    },
    Endpoint {
        method: "get",
        role: "public",
        body: None,
        status: 200,
        path: "/v1/vocabulary",
        summary: "Issue codes (with parents), populations, kinds and ISO 639-1 languages.",
        query: &[],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[],
        format: None,
    },
    Endpoint {
        method: "get",
        role: "public",
        body: None,
        status: 200,
        path: "/v1/geocode",
        summary: "Free text to a place: ZIP, 'City, ST', county, state, 'City, Country', country or 'lat,lon'.",
        query: &[ParameterDoc::one("q", "string", "The place to geocode, e.g. Fresno, CA or 93721.").required()],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[400, 404],
        format: None,
    },
    Endpoint {
        method: "get",
        role: "public",
        body: None,
        status: 200,
        path: "/v1/reverse",
        summary: "The country, US state or territory and county holding a point.",
        query: &[
            ParameterDoc::one("lat", "number", "Latitude in degrees, -90 to 90.").required(),
            ParameterDoc::one("lon", "number", "Longitude in degrees, -180 to 180.").required(),
        ],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[400],
        format: None,
    },
    Endpoint {
        method: "get",
        role: "public",
        body: None,
        status: 200,
        path: "/v1/coverage",
        summary: "Coverage gaps of one need per region (state, county, country or H3 cell): serving providers, nearest distance, gap class, 2SFCA access; GeoJSON outlines or a CSV table.",
        query: crate::coverage::COVERAGE_PARAMETERS,
        path_parameters: &[],
        content_type: "application/geo+json",
        errors: &[400, 403, 422, 503],
        format: Some(super::coverage::FORMAT),
    },
    Endpoint {
        method: "get",
        role: "public",
        body: None,
        status: 200,
        path: "/v1/coverage/suggest",
        summary: "Greedy maximal-coverage sites (gazetteer places) for new providers of one need, with the population each adds.",
        query: crate::coverage::SUGGEST_PARAMETERS,
        path_parameters: &[],
        content_type: "application/geo+json",
        errors: &[400, 422, 503],
        format: None,
    },
    Endpoint {
        method: "post",
        role: "admin",
        body: Some("application/json"),
        status: 201,
        path: "/v1/providers",
        summary: "Creates a record (validated as ingest validates a row); answers its id, version and ETag once /v1/match sees it.",
        query: &[],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[400, 401, 403, 409, 413, 422, 429],
        format: None,
    },
    Endpoint {
        method: "put",
        role: "admin",
        body: Some("application/json"),
        status: 200,
        path: "/v1/providers/{id}",
        summary: "Replaces a record; needs If-Match with its ETag (or *). A deleted record is restored.",
        query: &[],
        path_parameters: &[ID],
        content_type: "application/json",
        errors: &[400, 401, 403, 404, 412, 413, 422, 428, 429],
        format: None,
    },
    Endpoint {
        method: "delete",
        role: "admin",
        body: None,
        status: 200,
        path: "/v1/providers/{id}",
        summary: "Soft-deletes a record: it leaves every answer and stays in its history; needs If-Match.",
        query: &[],
        path_parameters: &[ID],
        content_type: "application/json",
        errors: &[401, 403, 404, 412, 428, 429],
        format: None,
    },
    Endpoint {
        method: "get",
        role: "advocate",
        body: None,
        status: 200,
        path: "/v1/providers/{id}/history",
        summary: "Every version of a record with who changed it and when, before and after.",
        query: &[],
        path_parameters: &[ID],
        content_type: "application/json",
        errors: &[401, 403, 404, 429],
        format: None,
    },
    Endpoint {
        method: "put",
        role: "provider",
        body: Some("application/json"),
        status: 200,
        path: "/v1/providers/{id}/capacity",
        summary: "Replaces a record's capacity (HSDS service_capacity; the server stamps updated_at and updated_by): advocate, admin, or a provider key bound to the record (another record: 403). If-Match optional. A new version, history and audit entry; answers the record (as the public sees it, for a provider key) and its ETag.",
        query: &[],
        path_parameters: &[ID],
        content_type: "application/json",
        errors: &[400, 401, 403, 404, 412, 413, 422, 429],
        format: None,
    },
    Endpoint {
        method: "put",
        role: "provider",
        body: Some("application/json"),
        status: 200,
        path: "/v1/providers/{id}/hours",
        summary: "Replaces a record's opening hours (opening_hours, timezone, hours_note), validated as record edits: admin, or a provider key bound to the record (advocates and other records: 403). If-Match optional. A new version, history and audit entry; answers the record and its ETag.",
        query: &[],
        path_parameters: &[ID],
        content_type: "application/json",
        errors: &[400, 401, 403, 404, 412, 413, 422, 429],
        format: None,
    },
    Endpoint {
        method: "get",
        role: "advocate",
        body: None,
        status: 200,
        path: "/v1/providers/{id}/slip",
        summary: "A referral slip for a caller: the provider's public phones (never a direct line), hours in the caller's language and address where public, as SMS text or a printable page; safe=true (default) names no organisation and no purpose and fits one SMS where possible.",
        query: super::slips::SLIP_PARAMETERS,
        path_parameters: &[ID],
        content_type: "text/plain",
        errors: &[400, 401, 403, 404, 429],
        format: Some(super::slips::FORMAT),
    },
    Endpoint {
        method: "get",
        role: "advocate",
        body: None,
        status: 200,
        path: "/v1/referrals/{id}/slip",
        summary: "The referral slip of a referral's provider (as /v1/providers/{id}/slip), in the caller's language.",
        query: super::slips::SLIP_PARAMETERS,
        path_parameters: &[ParameterDoc::one("id", "integer", "The referral's id.")],
        content_type: "text/plain",
        errors: &[400, 401, 403, 404, 429],
        format: Some(super::slips::FORMAT),
    },
    Endpoint {
        method: "post",
        role: "admin",
        body: Some("text/csv"),
        status: 200,
        path: "/v1/imports",
        summary: "Imports a CSV, JSON, NDJSON, GeoJSON or HSDS file (type from Content-Type or format): accepted count and every rejected row with its line and reason.",
        query: &[],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[400, 401, 403, 413, 429, 503],
        format: Some(ParameterDoc::one("format", "string", "csv, json, hsds, ndjson or geojson; default: from Content-Type.")),
    },
    Endpoint {
        method: "post",
        role: "public",
        body: Some("application/json"),
        status: 202,
        path: "/v1/submissions",
        summary: "An organisation asks to be added: the record is validated and queued for review (rate-limited per address).",
        query: &[],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[400, 413, 422, 429],
        format: None,
    },
    Endpoint {
        method: "get",
        role: "advocate",
        body: None,
        status: 200,
        path: "/v1/submissions",
        summary: "The intake queue, newest first.",
        query: &[ParameterDoc::one("status", "string", "pending, approved or rejected.")],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[400, 401, 403, 429],
        format: None,
    },
    Endpoint {
        method: "post",
        role: "advocate",
        body: None,
        status: 200,
        path: "/v1/submissions/{id}/approve",
        summary: "Approves a pending submission: its record becomes a provider.",
        query: &[],
        path_parameters: &[SUBMISSION_ID],
        content_type: "application/json",
        errors: &[401, 403, 404, 409, 422, 429],
        format: None,
    },
    Endpoint {
        method: "post",
        role: "advocate",
        body: Some("application/json"),
        status: 200,
        path: "/v1/submissions/{id}/reject",
        summary: "Rejects a pending submission; body {\"reason\": \"…\"}.",
        query: &[],
        path_parameters: &[SUBMISSION_ID],
        content_type: "application/json",
        errors: &[401, 403, 404, 409, 422, 429],
        format: None,
    },
    Endpoint {
        method: "get",
        role: "admin",
        body: None,
        status: 200,
        path: "/v1/audit",
        summary: "The audit log, oldest first: every edit (before and after) and every read of a confidential record.",
        query: &[
            ParameterDoc::one("after", "integer", "Only entries after this seq (the next_after of the previous page)."),
            ParameterDoc::one("limit", "integer", "Most entries, 1 to 1000 (default 100)."),
        ],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[400, 401, 403, 429],
        format: None,
    },
    Endpoint {
        method: "post",
        role: "advocate",
        body: Some("application/json"),
        status: 201,
        path: "/v1/referrals",
        summary: "Records a referral made from a match (staff only): provider, method, consent, the caller's place (kept only as a region: county, H3 resolution-5 cell abroad, state or country), need codes, follow-up date; answers the referral with Location. Statuses map onto FHIR R4 Task.status: sent=requested, accepted=accepted, declined=rejected, completed=completed, no_contact=failed, cancelled=cancelled.",
        query: &[],
        path_parameters: &[],
        content_type: "application/json",
        errors: &[400, 401, 403, 413, 422, 429],
        format: None,
    },
    Endpoint {
        method: "get",
        role: "advocate",
        body: None,
        status: 200,
        path: "/v1/referrals",
        summary: "The shift's referrals, newest first (staff only): view=mine|due|open|all, by provider, paged with a cursor.",
        query: super::referrals::LIST_PARAMETERS,
        path_parameters: &[],
        content_type: "application/json",
        errors: &[400, 401, 403, 429],
        format: None,
    },
    Endpoint {
        method: "get",
        role: "advocate",
        body: None,
        status: 200,
        path: "/v1/referrals/{id}",
        summary: "One referral with its notes and status history (staff only).",
        query: &[],
        path_parameters: &[REFERRAL_ID],
        content_type: "application/json",
        errors: &[401, 403, 404, 429],
        format: None,
    },
    Endpoint {
        method: "post",
        role: "advocate",
        body: Some("application/json"),
        status: 200,
        path: "/v1/referrals/{id}/status",
        summary: "Moves a referral along its lifecycle (sent → accepted | declined (reason) | cancelled; accepted → completed | no_contact | cancelled; anything else 409), audited; a decline is logged as unmet need.",
        query: &[],
        path_parameters: &[REFERRAL_ID],
        content_type: "application/json",
        errors: &[400, 401, 403, 404, 409, 413, 422, 429],
        format: None,
    },
    Endpoint {
        method: "post",
        role: "advocate",
        body: Some("application/json"),
        status: 200,
        path: "/v1/referrals/{id}/notes",
        summary: "Adds a note to a referral (staff only), audited.",
        query: &[],
        path_parameters: &[REFERRAL_ID],
        content_type: "application/json",
        errors: &[400, 401, 403, 404, 413, 422, 429],
        format: None,
    },
    Endpoint {
        method: "get",
        role: "public",
        body: None,
        status: 200,
        path: "/",
        summary: "The advocate console: a single page (match view, coverage map) embedded in the binary; its scripts and styles are under /console/.",
        query: &[],
        path_parameters: &[],
        content_type: "text/html",
        errors: &[],
        format: None,
    },
    Endpoint {
        method: "get",
        role: "public",
        body: None,
        status: 200,
        path: "/v1/outlines",
        summary: "Simplified country, US state or US county outlines as a GeoJSON FeatureCollection (the console's basemap); cacheable.",
        query: super::console::OUTLINE_PARAMETERS,
        path_parameters: &[],
        content_type: "application/geo+json",
        errors: &[400, 503],
        format: None,
    },
];

const ID: ParameterDoc = ParameterDoc::one("id", "string", "The provider's id.");

const SUBMISSION_ID: ParameterDoc = ParameterDoc::one("id", "integer", "The submission's id.");

const REFERRAL_ID: ParameterDoc = ParameterDoc::one("id", "integer", "The referral's id.");

fn parameter(doc: &ParameterDoc, location: &str) -> Value {
    let required = location == "path" || doc.required;
    json!({
        "name": doc.name,
        "in": location,
        "required": required,
        "description": doc.description,
        "schema": {"type": doc.schema_type},
    })
}

fn error_status_text(status: u16) -> &'static str {
    match status {
        400 => "A parameter or the body is malformed; `parameter` names it and `detail` says what to fix.",
        401 => "An API key is needed (Authorization: Bearer <key>) or the key is not valid.",
        403 => "The key's role may not do this (a staff-only parameter, another record than a provider key's own); `parameter` names a refused parameter.",
        404 => "Nothing matches; `suggestions` may list close spellings.",
        405 => "The route does not answer this method.",
        409 => "The record exists already, the submission was decided, or the referral's lifecycle does not allow the change.",
        412 => "If-Match names a version that is no longer current: GET the record again.",
        413 => "The body is too large.",
        422 => "The record fails validation, or the request would cost more than its documented budget; `parameter` names the field or the parameter to change.",
        428 => "Send If-Match with the record's ETag (or *).",
        429 => "Too many requests; Retry-After says when to try again.",
        408 => "The request took longer than the server allows (10 s by default); its work was stopped and nothing was stored.",
        503 => "Too many requests of this heavy kind are running and waiting; Retry-After says when to try again.",
        _ => "Internal error; details are in the server log.",
    }
}

/// The OpenAPI 3.1 document of every route in [`ENDPOINTS`].
pub fn document() -> Value {
    let mut paths = Map::new();
    for endpoint in ENDPOINTS {
        let parameters: Vec<Value> = endpoint
            .path_parameters
            .iter()
            .map(|p| parameter(p, "path"))
            .chain(endpoint.parameters().map(|p| parameter(p, "query")))
            .collect();
        let mut responses = Map::new();
        responses.insert(
            endpoint.status.to_string(),
            json!({
                "description": "OK",
                "content": schemas::success_content(endpoint.method, endpoint.path)
                    .unwrap_or_else(|| json!({endpoint.content_type: {"schema": {}}})),
            }),
        );
        for status in endpoint.errors.iter().chain(&[405, 408, 500]) {
            responses.insert(
                status.to_string(),
                json!({
                    "description": error_status_text(*status),
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }),
            );
        }
        let operation_id = endpoint
            .path
            .trim_start_matches('/')
            .replace(['/', '.'], "_")
            .replace(['{', '}'], "");
        let mut operation = json!({
            "operationId": format!("{}_{operation_id}", endpoint.method),
            "summary": endpoint.summary,
            "parameters": parameters,
            "responses": responses,
            "x-role": endpoint.role,
        });
        if endpoint.role != "public" {
            operation["security"] = json!([{"apiKey": []}]);
        }
        if let Some(media) = endpoint.body {
            operation["requestBody"] = json!({
                "required": true,
                "content": schemas::request_content(endpoint.method, endpoint.path)
                    .unwrap_or_else(|| json!({media: {"schema": {}}})),
            });
        }
        let item = paths
            .entry(endpoint.path.to_owned())
            .or_insert_with(|| json!({}));
        if let Some(item) = item.as_object_mut() {
            item.insert(endpoint.method.to_owned(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "refmatch",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Geospatial referral matching for anti-trafficking hotlines. GeoJSON bodies follow RFC 7946 ([lon, lat] degrees); errors are application/problem+json (RFC 9457).",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"apiKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key from `refmatch keys create`; roles provider (reads as the public; sets the capacity and hours of its own records), advocate (reads everything, sets capacity) and admin (also edits). Without one a caller is public: public records only, confidential fields removed.",
            }},
            "schemas": schemas::components(),
        },
    })
}
