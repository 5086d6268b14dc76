//! The OpenAPI document (`GET /openapi.json`) against the router, both ways,
//! without the table the document is built from:
//!
//! - document → router: every documented operation answers a real request
//!   (example parameters per operation, an API key where its role needs
//!   one, ids of real records) with a documented status, never the
//!   no-route 404 nor 405, and every body validates against the schema the
//!   document gives for its status and media type (`jsonschema`, JSON
//!   Schema 2020-12 as OpenAPI 3.1 uses it);
//! - router → document: the routes read from the `.route(…)` calls in
//!   `src/api/mod.rs` (source text, not the table) are each documented, and
//!   on a documented path every method not documented answers 405;
//! - every documented query parameter is one its handler knows.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{new_fixture, send, urlencode, Answer, Fixture, Who};
use refmatch::api::router;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One example request of a documented operation.
struct Case {
    /// The documented path it exercises (`/v1/providers/{id}`).
    path: &'static str,
    method: Method,
    /// The path and query sent.
    uri: String,
    who: Who,
    /// `If-Match`, when sent.
    if_match: Option<String>,
    /// Content-Type and body, when sent.
    body: Option<(&'static str, Vec<u8>)>,
    /// The status it must answer.
    expect: u16,
}

impl Case {
    fn new(
        method: Method,
        path: &'static str,
        uri: impl Into<String>,
        who: Who,
        expect: u16,
    ) -> Case {
        Case {
            path,
            method,
            uri: uri.into(),
            who,
            if_match: None,
            body: None,
            expect,
        }
    }

    fn get(path: &'static str, uri: impl Into<String>, who: Who) -> Case {
        Case::new(Method::GET, path, uri, who, 200)
    }

    fn status(mut self, status: u16) -> Case {
        self.expect = status;
        self
    }

    fn json(mut self, body: &Value) -> Case {
        self.body = Some(("application/json", body.to_string().into_bytes()));
        self
    }

    fn if_match(mut self, etag: &str) -> Case {
        self.if_match = Some(etag.to_owned());
        self
    }
}

/// The document as served, with a validator per schema.
struct Document {
    document: Value,
    validators: BTreeMap<String, jsonschema::Validator>,
}

impl Document {
    async fn served(app: &axum::Router) -> Document {
        let answer = common::get_bytes(app, "/openapi.json", None).await;
        assert_eq!(answer.0, StatusCode::OK);
        let document: Value = serde_json::from_slice(&answer.1).expect("the document is JSON");
        assert_eq!(document["openapi"], "3.1.0");
        Document {
            document,
            validators: BTreeMap::new(),
        }
    }

    fn paths(&self) -> &serde_json::Map<String, Value> {
        self.document["paths"].as_object().expect("paths")
    }

    /// Every documented (path, method).
    fn operations(&self) -> BTreeSet<(String, String)> {
        self.paths()
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .expect("path item")
                    .keys()
                    .filter(|k| HTTP_METHODS.contains(&k.as_str()))
                    .map(move |method| (path.clone(), method.clone()))
            })
            .collect()
    }

    fn operation(&self, path: &str, method: &str) -> &Value {
        let operation = &self.document["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        operation
    }

    /// Checks `body` (of `media`) against `schema`, a schema of the
    /// document (its `$ref`s resolve into the document's components).
    fn check(&mut self, schema: &Value, media: &str, bytes: &[u8], what: &str) {
        let instance = if is_json(media) {
            serde_json::from_slice(bytes).unwrap_or_else(|e| {
                panic!(
                    "{what}: the {media} body is not JSON ({e}): {}",
                    String::from_utf8_lossy(bytes)
                )
            })
        } else {
            Value::String(
                String::from_utf8(bytes.to_vec())
                    .unwrap_or_else(|_| panic!("{what}: the {media} body is not UTF-8")),
            )
        };
        let key = schema.to_string();
        if !self.validators.contains_key(&key) {
            let mut root = schema.clone();
            root["components"] = self.document["components"].clone();
            let validator = jsonschema::draft202012::new(&root)
                .unwrap_or_else(|e| panic!("{what}: schema {schema} does not compile: {e}"));
            self.validators.insert(key.clone(), validator);
        }
        let validator = &self.validators[&key];
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .take(10)
            .map(|e| format!("  at '{}': {e}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what}: the body does not follow {schema}:\n{}",
            errors.join("\n")
        );
    }
}

/// `application/json` and `application/*+json` (not NDJSON, which is text).
fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// The status-and-media pairs the cases saw, per operation.
type Seen = BTreeMap<(String, String), BTreeSet<(u16, String)>>;

async fn run(
    fixture: &Fixture,
    app: &axum::Router,
    document: &mut Document,
    case: &Case,
    seen: &mut Seen,
) -> Answer {
    let mut request = case.who.authorize(
        fixture,
        Request::builder()
            .method(case.method.clone())
            .uri(&case.uri),
    );
    if let Some(etag) = &case.if_match {
        request = request.header(header::IF_MATCH, etag);
    }
    let method = case.method.as_str().to_ascii_lowercase();
    let what = format!("{} {} ({:?})", case.method, case.uri, case.who);
    let operation = document.operation(case.path, &method).clone();
    let body = match &case.body {
        Some((media, bytes)) => {
            // What we send follows the documented request body too.
            let schema = operation["requestBody"]["content"][*media]["schema"].clone();
            assert!(
                schema.is_object(),
                "{what}: {media} is not a documented request body"
            );
            document.check(&schema, media, bytes, &format!("{what} request"));
            request = request.header(header::CONTENT_TYPE, *media);
            Body::from(bytes.clone())
        }
        None => Body::empty(),
    };
    let answer = send(app, request.body(body).expect("request")).await;
    let status = answer.status.as_u16();
    assert_ne!(status, 405, "{what}: the route does not answer this method");
    let media = answer.media_type();
    if status == 404 {
        let problem: Value = serde_json::from_slice(&answer.bytes).unwrap_or_default();
        assert_ne!(
            problem["type"], "urn:refmatch:problem:no-route",
            "{what}: no such route"
        );
    }
    assert_eq!(
        status,
        case.expect,
        "{what}: {}",
        String::from_utf8_lossy(&answer.bytes[..answer.bytes.len().min(2000)])
    );
    let response = &operation["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{what}: status {status} is not documented"
    );
    let schema = &response["content"][media.as_str()]["schema"];
    assert!(
        schema.is_object(),
        "{what}: status {status} documents no {media} body (it documents {})",
        response["content"]
    );
    document.check(&schema.clone(), &media, &answer.bytes, &what);
    seen.entry((case.path.to_owned(), method))
        .or_default()
        .insert((status, media));
    answer
}

/// The read-only cases: every GET, as the public and as staff, over
/// bodies of different shapes (points and none, confidential locations,
/// pages with a cursor, CSV, H3 cells, abroad).
fn reads() -> Vec<Case> {
    use Who::*;
    let mut cases = vec![
        Case::get("/healthz", "/healthz", Public),
        Case::get("/openapi.json", "/openapi.json", Public),
        Case::get("/", "/", Public),
        Case::get(
            "/v1/outlines",
            "/v1/outlines?by=state&tolerance=0.1",
            Public,
        ),
        Case::get(
            "/v1/outlines",
            "/v1/outlines?by=country&tolerance=0.2",
            Public,
        ),
        Case::get(
            "/v1/outlines",
            "/v1/outlines?by=county&id=06019,72127",
            Public,
        ),
        Case::get("/v1/vocabulary", "/v1/vocabulary", Public),
        Case::get(
            "/v1/providers",
            "/v1/providers?bbox=-124.5,32.5,-114,42&issue=trafficking&limit=100",
            Public,
        ),
        Case::get(
            "/v1/providers",
            "/v1/providers?bbox=-124.5,32.5,-114,42&limit=50",
            Advocate,
        ),
        Case::get("/v1/providers", "/v1/providers?limit=3", Public),
        Case::get(
            "/v1/providers",
            "/v1/providers?bbox=170,-20,-170,20&limit=50",
            Admin,
        ),
        Case::get("/v1/providers/{id}", "/v1/providers/hotline-nhtrc", Public),
        Case::get(
            "/v1/providers/{id}",
            "/v1/providers/hotline-nhtrc?format=record",
            Advocate,
        ),
        Case::get("/v1/hotlines", "/v1/hotlines?country=PE", Public),
        Case::get("/v1/hotlines", "/v1/hotlines?country=Philippines", Public),
        Case::get("/v1/hotlines", "/v1/hotlines?country=US", Advocate),
        Case::get("/v1/geocode", "/v1/geocode?q=Fresno,%20CA", Public),
        Case::get("/v1/geocode", "/v1/geocode?q=94103", Public),
        Case::get("/v1/geocode", "/v1/geocode?q=Manila,%20Philippines", Public),
        Case::get(
            "/v1/geocode",
            format!(
                "/v1/geocode?q={}",
                urlencode("1600 Pennsylvania Ave, Washington, DC 20500")
            ),
            Public,
        ),
        Case::get(
            "/v1/reverse",
            "/v1/reverse?lat=18.4655&lon=-66.1057",
            Public,
        ),
        Case::get("/v1/reverse", "/v1/reverse?lat=0&lon=-150", Public),
        Case::get(
            "/v1/coverage",
            "/v1/coverage?by=state&issue=trafficking",
            Public,
        ),
        Case::get(
            "/v1/coverage",
            "/v1/coverage?by=state&issue=trafficking&exclude=law_enforcement",
            Advocate,
        ),
        Case::get(
            "/v1/coverage",
            "/v1/coverage?by=country&issue=trafficking&tolerance=0.2",
            Public,
        ),
        Case::get(
            "/v1/coverage",
            "/v1/coverage?by=county&issue=labor_trafficking&language=es&open_24h=true&format=csv",
            Public,
        ),
        Case::get(
            "/v1/coverage",
            "/v1/coverage?by=h3&resolution=4&issue=domestic_violence&bbox=-124.5,32.5,-114,42",
            Public,
        ),
        Case::get(
            "/v1/coverage/suggest",
            "/v1/coverage/suggest?by=country&threshold_km=300&sites=2",
            Public,
        ),
        Case::get(
            "/v1/coverage/suggest",
            "/v1/coverage/suggest?by=county&issue=labor_trafficking&language=es&sites=3",
            Advocate,
        ),
        Case::get(
            "/v1/providers/{id}/history",
            "/v1/providers/hotline-nhtrc/history",
            Advocate,
        ),
        Case::get("/v1/submissions", "/v1/submissions", Advocate),
        Case::get("/v1/audit", "/v1/audit?limit=5", Admin),
        Case::get(
            "/v1/providers/{id}/slip",
            "/v1/providers/hotline-nhtrc/slip",
            Advocate,
        ),
        Case::get(
            "/v1/providers/{id}/slip",
            "/v1/providers/hotline-nhtrc/slip?lang=es&safe=false&format=html",
            Admin,
        ),
        Case::get(
            "/v1/providers/{id}/slip",
            "/v1/providers/hotline-nhtrc/slip",
            Public,
        )
        .status(401),
        Case::get(
            "/v1/providers/{id}/slip",
            "/v1/providers/hotline-nhtrc/slip?lang=xx",
            Advocate,
        )
        .status(400),
        Case::get(
            "/v1/providers/{id}/slip",
            "/v1/providers/not-a-provider/slip",
            Advocate,
        )
        .status(404),
        Case::get("/v1/referrals/{id}/slip", "/v1/referrals/1/slip", Public).status(401),
        // Documented errors: problem documents.
        Case::get("/v1/audit", "/v1/audit", Public).status(401),
        Case::get("/v1/audit", "/v1/audit", Advocate).status(403),
        Case::get("/v1/geocode", "/v1/geocode", Public).status(400),
        Case::get("/v1/match", "/v1/match?near=Xyzzyville,%20ZZ", Public).status(404),
        Case::get("/v1/providers/{id}", "/v1/providers/not-a-provider", Public).status(404),
        Case::get(
            "/v1/coverage",
            "/v1/coverage?by=h3&resolution=7&bbox=-100,35,-90,45",
            Public,
        )
        .status(422),
    ];
    for who in [Public, Advocate] {
        for query in [
            "near=Fresno,%20CA&issue=labor_trafficking&language=es&open_24h=true&exclude=law_enforcement&limit=5",
            "near=Chicago,%20IL&issue=trafficking&format=json&limit=8",
            "lat=40.71&lon=-74.0&issue=domestic_violence&limit=10",
            "near=Los%20Angeles,%20CA&language=Farsi&limit=5",
            "near=Lima,%20Peru&issue=trafficking&limit=5&format=json",
            "near=Austin,%20TX&open_now=true&at=2026-12-02T03:00:00Z&limit=5",
            "near=Denver,%20CO&issue=runaway_homeless_youth&population=minors&limit=5",
        ] {
            cases.push(Case::get("/v1/match", format!("/v1/match?{query}"), who));
        }
    }
    cases
}

/// A new record in the shape of `GET …?format=record`, from a real one.
fn new_record(template: &Value, id: &str) -> Value {
    let mut record = template.clone();
    record["id"] = json!(id);
    record["name"] = json!(format!("OpenAPI test {id}"));
    record
}

#[tokio::test]
async fn every_documented_operation_answers_bodies_that_follow_its_schemas() {
    let fixture = new_fixture();
    let app = router(fixture.state.clone());
    let mut document = Document::served(&app).await;
    let mut seen = Seen::new();

    for case in reads() {
        run(&fixture, &app, &mut document, &case, &mut seen).await;
    }

    // Each provider of a match, alone, as the public and as staff: points,
    // lines without a place, confidential locations.
    let answer = run(
        &fixture,
        &app,
        &mut document,
        &Case::get(
            "/v1/match",
            "/v1/match?near=Fresno,%20CA&limit=30",
            Who::Advocate,
        ),
        &mut seen,
    )
    .await;
    let ids: Vec<String> = answer.json()["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["id"].as_str().map(str::to_owned))
        .collect();
    assert!(ids.len() >= 10, "{ids:?}");
    for id in &ids {
        for who in [Who::Public, Who::Advocate] {
            let case = Case::get("/v1/providers/{id}", format!("/v1/providers/{id}"), who);
            let answer = send(&app, request_of(&fixture, &case)).await;
            // The public is told nothing of a confidential record.
            if answer.status == StatusCode::NOT_FOUND && who == Who::Public {
                continue;
            }
            run(&fixture, &app, &mut document, &case, &mut seen).await;
        }
        let record = Case::get(
            "/v1/providers/{id}",
            format!("/v1/providers/{id}?format=record"),
            Who::Admin,
        );
        run(&fixture, &app, &mut document, &record, &mut seen).await;
    }

    // Edits, intake, imports and what they leave in history and the audit
    // log.
    let template = (run(
        &fixture,
        &app,
        &mut document,
        &Case::get(
            "/v1/providers/{id}",
            "/v1/providers/hotline-nhtrc?format=record",
            Who::Admin,
        ),
        &mut seen,
    )
    .await)
        .json();
    let record = new_record(&template, "openapi-test-record");
    let writes = vec![
        Case::new(Method::POST, "/v1/providers", "/v1/providers", Who::Admin, 201).json(&record),
        Case::new(Method::POST, "/v1/providers", "/v1/providers", Who::Public, 401).json(&record),
        Case::new(Method::POST, "/v1/providers", "/v1/providers", Who::Admin, 409).json(&record),
        Case::new(Method::POST, "/v1/providers", "/v1/providers", Who::Admin, 422).json(&json!({"id": "openapi-invalid", "kind": "hotline", "availability": {"type": "unknown"}, "name": ""})),
        Case::new(Method::PUT, "/v1/providers/{id}", "/v1/providers/openapi-test-record", Who::Admin, 428).json(&record),
        Case::new(Method::PUT, "/v1/providers/{id}", "/v1/providers/openapi-test-record", Who::Admin, 200).json(&record).if_match("\"1\""),
        Case::new(Method::PUT, "/v1/providers/{id}", "/v1/providers/openapi-test-record", Who::Admin, 412).json(&record).if_match("\"1\""),
        Case::get("/v1/providers/{id}/history", "/v1/providers/openapi-test-record/history", Who::Advocate),
        Case::new(Method::DELETE, "/v1/providers/{id}", "/v1/providers/openapi-test-record", Who::Admin, 200).if_match("\"2\""),
        Case::get("/v1/providers/{id}/history", "/v1/providers/openapi-test-record/history", Who::Admin),
        Case::new(Method::PUT, "/v1/providers/{id}", "/v1/providers/openapi-test-record", Who::Admin, 200).json(&record).if_match("*"),
        // Capacity and hours (issue 15), then staff matches that show them.
        Case::new(Method::PUT, "/v1/providers/{id}/capacity", "/v1/providers/openapi-test-record/capacity", Who::Advocate, 200).json(&json!({"capacity": [{"available": 3, "maximum": 12, "unit": "beds"}]})),
        Case::new(Method::PUT, "/v1/providers/{id}/capacity", "/v1/providers/openapi-test-record/capacity", Who::Public, 401).json(&json!({"capacity": []})),
        Case::new(Method::PUT, "/v1/providers/{id}/capacity", "/v1/providers/openapi-test-record/capacity", Who::Admin, 422).json(&json!({"capacity": [{"available": 13, "maximum": 12, "unit": "beds"}]})),
        Case::new(Method::PUT, "/v1/providers/{id}/capacity", "/v1/providers/openapi-test-record/capacity", Who::Admin, 412).json(&json!({"capacity": []})).if_match("\"1\""),
        Case::new(Method::PUT, "/v1/providers/{id}/capacity", "/v1/providers/no-such-record/capacity", Who::Admin, 404).json(&json!({"capacity": []})),
        Case::new(Method::PUT, "/v1/providers/{id}/hours", "/v1/providers/openapi-test-record/hours", Who::Admin, 200).json(&json!({"opening_hours": "24/7", "hours_note": "Front desk always staffed"})),
        Case::new(Method::PUT, "/v1/providers/{id}/hours", "/v1/providers/openapi-test-record/hours", Who::Advocate, 403).json(&json!({"opening_hours": "24/7"})),
        Case::new(Method::PUT, "/v1/providers/{id}/hours", "/v1/providers/openapi-test-record/hours", Who::Admin, 422).json(&json!({"opening_hours": "Mo-Fr 09:00-17:00"})),
        Case::get("/v1/match", "/v1/match?near=Fresno,%20CA&warm_transfer=true&accepting=true&limit=20", Who::Advocate),
        Case::get("/v1/match", "/v1/match?near=Fresno,%20CA&accepting=true&format=json&limit=20", Who::Admin),
        Case::get("/v1/match", "/v1/match?near=Fresno,%20CA&warm_transfer=true", Who::Public).status(403),
    ];
    for case in &writes {
        run(&fixture, &app, &mut document, case, &mut seen).await;
    }
    let csv = "id,name,kind,issues,city,region,country,hours,timezone,phones\n\
               openapi-import-1,OpenAPI Import Clinic,service_provider,trafficking,Fresno,CA,US,Mo-Fr 09:00-17:00,America/Los_Angeles,559-555-0100\n\
               openapi-import-2,No Kind Clinic,,trafficking,Fresno,CA,US,,,\n";
    let mut import = Case::new(Method::POST, "/v1/imports", "/v1/imports", Who::Admin, 200);
    import.body = Some(("text/csv", csv.as_bytes().to_vec()));
    let report = (run(&fixture, &app, &mut document, &import, &mut seen).await).json();
    assert_eq!(
        report["rejections"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    let mut import_json = Case::new(Method::POST, "/v1/imports", "/v1/imports", Who::Admin, 200);
    import_json.body = Some((
        "application/json",
        json!([new_record(&template, "openapi-import-3")])
            .to_string()
            .into_bytes(),
    ));
    run(&fixture, &app, &mut document, &import_json, &mut seen).await;

    let mut submissions = Vec::new();
    for id in ["openapi-submitted-1", "openapi-submitted-2"] {
        let case = Case::new(
            Method::POST,
            "/v1/submissions",
            "/v1/submissions",
            Who::Public,
            202,
        )
        .json(&new_record(&template, id));
        let receipt = (run(&fixture, &app, &mut document, &case, &mut seen).await).json();
        submissions.push(receipt["id"].as_u64().expect("submission id"));
    }
    let decisions = vec![
        Case::get(
            "/v1/submissions",
            "/v1/submissions?status=pending",
            Who::Advocate,
        ),
        Case::new(
            Method::POST,
            "/v1/submissions/{id}/approve",
            format!("/v1/submissions/{}/approve", submissions[0]),
            Who::Advocate,
            200,
        ),
        Case::new(
            Method::POST,
            "/v1/submissions/{id}/approve",
            format!("/v1/submissions/{}/approve", submissions[0]),
            Who::Advocate,
            409,
        ),
        Case::new(
            Method::POST,
            "/v1/submissions/{id}/approve",
            "/v1/submissions/999999/approve",
            Who::Advocate,
            404,
        ),
        Case::new(
            Method::POST,
            "/v1/submissions/{id}/reject",
            format!("/v1/submissions/{}/reject", submissions[1]),
            Who::Advocate,
            200,
        )
        .json(&json!({"reason": "a duplicate"})),
        Case::new(
            Method::POST,
            "/v1/submissions/{id}/reject",
            format!("/v1/submissions/{}/reject", submissions[1]),
            Who::Public,
            401,
        )
        .json(&json!({"reason": "a duplicate"})),
        Case::get("/v1/submissions", "/v1/submissions", Who::Advocate),
        Case::get(
            "/v1/submissions",
            "/v1/submissions?status=rejected",
            Who::Admin,
        ),
        Case::get("/v1/audit", "/v1/audit?limit=1000", Who::Admin),
        Case::get("/v1/audit", "/v1/audit?after=3&limit=2", Who::Admin),
    ];
    for case in &decisions {
        run(&fixture, &app, &mut document, case, &mut seen).await;
    }

    // Referrals: made, listed, read, moved along, noted, refused; and the
    // demand-weighted coverage they feed.
    let referral = json!({
        "provider_id": "hotline-nhtrc", "method": "warm_transfer", "consent": true,
        "place": "Fresno, CA", "issue": ["labor_trafficking"], "language": ["es"],
        "population": [], "follow_up_due": "2026-12-05", "note": "first note"
    });
    let made = (run(
        &fixture,
        &app,
        &mut document,
        &Case::new(
            Method::POST,
            "/v1/referrals",
            "/v1/referrals",
            Who::Advocate,
            201,
        )
        .json(&referral),
        &mut seen,
    )
    .await)
        .json();
    let id = made["id"].as_u64().expect("referral id");
    let abroad = json!({
        "provider_id": "hotline-nhtrc", "method": "information_given", "consent": false,
        "place": {"lat": -12.05, "lon": -77.04}
    });
    let referrals = vec![
        Case::new(Method::POST, "/v1/referrals", "/v1/referrals", Who::Admin, 201).json(&abroad),
        Case::new(Method::POST, "/v1/referrals", "/v1/referrals", Who::Public, 401).json(&referral),
        Case::new(Method::POST, "/v1/referrals", "/v1/referrals", Who::Advocate, 422).json(&json!({"provider_id": "hotline-nhtrc", "method": "warm_transfer", "consent": false, "place": "Fresno, CA"})),
        Case::get("/v1/referrals", "/v1/referrals", Who::Advocate),
        Case::get("/v1/referrals", "/v1/referrals?view=open&provider=hotline-nhtrc&limit=1", Who::Admin),
        Case::get("/v1/referrals", "/v1/referrals?view=mine", Who::Advocate),
        Case::get("/v1/referrals", "/v1/referrals?view=due", Who::Advocate),
        Case::get("/v1/referrals", "/v1/referrals?view=soon", Who::Advocate).status(400),
        Case::get("/v1/referrals/{id}", format!("/v1/referrals/{id}"), Who::Advocate),
        Case::get("/v1/referrals/{id}", "/v1/referrals/99999", Who::Advocate).status(404),
        Case::new(Method::POST, "/v1/referrals/{id}/notes", format!("/v1/referrals/{id}/notes"), Who::Advocate, 200).json(&json!({"text": "called back"})),
        Case::new(Method::POST, "/v1/referrals/{id}/status", format!("/v1/referrals/{id}/status"), Who::Advocate, 409).json(&json!({"status": "completed"})),
        Case::new(Method::POST, "/v1/referrals/{id}/status", format!("/v1/referrals/{id}/status"), Who::Advocate, 200).json(&json!({"status": "declined", "reason": "no_capacity", "note": "full tonight"})),
        Case::get("/v1/referrals/{id}", format!("/v1/referrals/{id}"), Who::Admin),
        Case::get("/v1/coverage", "/v1/coverage?weight=demand&by=county&issue=labor_trafficking", Who::Advocate),
        Case::get("/v1/coverage", "/v1/coverage?weight=demand&by=state", Who::Admin),
        Case::get("/v1/coverage", "/v1/coverage?weight=demand&by=state", Who::Public).status(403),
        Case::get("/v1/match", "/v1/match?near=Fresno,%20CA&issue=labor_trafficking&limit=5", Who::Advocate),
        Case::get("/v1/match", "/v1/match?near=Fresno,%20CA&issue=labor_trafficking&limit=5&format=json", Who::Admin),
        Case::get("/v1/audit", "/v1/audit?limit=1000", Who::Admin),
    ];
    for case in &referrals {
        run(&fixture, &app, &mut document, case, &mut seen).await;
    }
    // The referral's slip (its provider's), and an unknown referral's.
    for (query, who) in [("", Who::Advocate), ("?lang=pt&format=html", Who::Admin)] {
        let case = Case::get(
            "/v1/referrals/{id}/slip",
            format!("/v1/referrals/{id}/slip{query}"),
            who,
        );
        run(&fixture, &app, &mut document, &case, &mut seen).await;
    }
    let case = Case::get(
        "/v1/referrals/{id}/slip",
        "/v1/referrals/987654321/slip",
        Who::Advocate,
    )
    .status(404);
    run(&fixture, &app, &mut document, &case, &mut seen).await;

    // Every documented operation was exercised with its documented success
    // status, and in every media type its success answer documents.
    for (path, method) in document.operations() {
        let operation = document.operation(&path, &method);
        let success: Vec<(u16, String)> = operation["responses"]
            .as_object()
            .expect("responses")
            .iter()
            .filter(|(status, _)| status.starts_with('2'))
            .flat_map(|(status, response)| {
                let status: u16 = status.parse().expect("status");
                response["content"]
                    .as_object()
                    .expect("content")
                    .keys()
                    .map(move |media| (status, media.clone()))
            })
            .collect();
        assert!(
            !success.is_empty(),
            "{method} {path} documents no success answer"
        );
        let got = seen
            .get(&(path.clone(), method.clone()))
            .cloned()
            .unwrap_or_default();
        for pair in success {
            assert!(
                got.contains(&pair),
                "{method} {path}: no case answered {pair:?} (answers seen: {got:?})"
            );
        }
    }
}

/// The request `case` sends (for a look before running it).
fn request_of(fixture: &Fixture, case: &Case) -> Request<Body> {
    case.who
        .authorize(
            fixture,
            Request::builder()
                .method(case.method.clone())
                .uri(&case.uri),
        )
        .body(Body::empty())
        .expect("request")
}

/// Every documented success and request body has a schema of its own:
/// a component (`$ref`) for JSON, a string for text; never a bare object.
#[tokio::test]
async fn every_body_is_described_by_a_component_or_is_text() {
    let app = router(common::state());
    let document = Document::served(&app).await;
    let components = document.document["components"]["schemas"]
        .as_object()
        .expect("components");
    for (path, method) in document.operations() {
        let operation = document.operation(&path, &method);
        let mut bodies: Vec<(&str, &Value)> = Vec::new();
        for (status, response) in operation["responses"].as_object().expect("responses") {
            for (media, content) in response["content"].as_object().into_iter().flatten() {
                assert!(
                    status.starts_with('2') || media == "application/problem+json",
                    "{method} {path} {status}: {media}"
                );
                bodies.push((media.as_str(), &content["schema"]));
            }
        }
        for (media, content) in operation["requestBody"]["content"]
            .as_object()
            .into_iter()
            .flatten()
        {
            bodies.push((media.as_str(), &content["schema"]));
        }
        for (media, schema) in bodies {
            match schema["$ref"].as_str() {
                Some(reference) => {
                    let name = reference
                        .strip_prefix("#/components/schemas/")
                        .unwrap_or_else(|| panic!("{reference}"));
                    assert!(
                        components.contains_key(name),
                        "{method} {path}: {reference} does not resolve"
                    );
                    assert!(is_json(media), "{method} {path}: {media} with {reference}");
                }
                None => {
                    assert_eq!(
                        schema,
                        &json!({"type": "string"}),
                        "{method} {path}: {media}"
                    );
                    assert!(
                        !is_json(media),
                        "{method} {path}: {media} is JSON, described as a string"
                    );
                }
            }
        }
    }
}

/// A route of the router as its source declares it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Route {
    path: String,
    methods: BTreeSet<String>,
}

/// The routes of `src/api/mod.rs`'s router: each `.route("PATH", …)` call
/// (on one line or several) and the method routers named in it
/// (`get(…)`, `.post(…)`, `put`, `delete`, `patch`).
fn source_routes() -> Vec<Route> {
    let source = include_str!("../src/api/mod.rs");
    let mut routes = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        let call = &rest[at + ".route(".len()..];
        // The call's arguments: up to the parenthesis that closes it.
        let mut depth = 1;
        let mut in_string = false;
        let mut end = call.len();
        for (i, c) in call.char_indices() {
            match c {
                '"' => in_string = !in_string,
                '(' if !in_string => depth += 1,
                ')' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let arguments = &call[..end];
        let path = arguments
            .trim_start()
            .strip_prefix('"')
            .and_then(|p| p.split('"').next())
            .unwrap_or_else(|| panic!("a .route( call without a literal path: {arguments}"));
        let mut methods = BTreeSet::new();
        let bytes = arguments.as_bytes();
        for method in ["get", "post", "put", "delete", "patch"] {
            let mut from = 0;
            while let Some(found) = arguments[from..].find(&format!("{method}(")) {
                let start = from + found;
                let before = start.checked_sub(1).map(|i| bytes[i]);
                if !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    methods.insert(method.to_owned());
                }
                from = start + method.len();
            }
        }
        assert!(
            !methods.is_empty(),
            "route {path} names no method router: {arguments}"
        );
        routes.push(Route {
            path: path.to_owned(),
            methods,
        });
        rest = &call[end..];
    }
    routes
}

/// Routes served but not in the document, and why: OpenAPI paths cannot
/// express axum's catch-all `{*file}` (a file under `vendor/…` spans
/// segments); the console's page at `/` is documented and names them.
const UNDOCUMENTED: &[(&str, &str, &str)] = &[("/console/{*file}", "get", "/console/app.js")];

#[tokio::test]
async fn every_route_is_documented_and_every_other_method_is_refused() {
    let app = router(common::state());
    let mut document = Document::served(&app).await;
    let routes = source_routes();
    // The reader found the router (guards the reader itself).
    assert!(routes.len() >= 10, "{routes:?}");
    assert!(
        routes.iter().any(|r| r.path == "/v1/providers/{id}"
            && r.methods == BTreeSet::from(["delete", "get", "put"].map(String::from))),
        "{routes:?}"
    );

    let documented = document.operations();
    let mut served = BTreeSet::new();
    for route in &routes {
        for method in &route.methods {
            served.insert((route.path.clone(), method.clone()));
        }
    }
    for (path, method, example) in UNDOCUMENTED {
        let pair = ((*path).to_owned(), (*method).to_owned());
        assert!(
            served.remove(&pair),
            "{method} {path} is no longer a route: drop it from UNDOCUMENTED"
        );
        assert!(
            !documented.contains(&pair),
            "{method} {path} is documented now: drop it from UNDOCUMENTED"
        );
        let (status, _) = common::get_bytes(&app, example, None).await;
        assert_eq!(status, StatusCode::OK, "{example}");
    }
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );
    let unrouted: Vec<_> = documented.difference(&served).collect();
    assert!(
        unrouted.is_empty(),
        "documented operations the router does not declare: {unrouted:?}"
    );

    // On every documented path, the methods it does not document are 405,
    // as a documented problem document.
    let problem = json!({"$ref": "#/components/schemas/Problem"});
    for path in document.paths().keys().cloned().collect::<Vec<_>>() {
        let uri = path.replace("{id}", "1");
        let methods: BTreeSet<String> = documented
            .iter()
            .filter(|(p, _)| *p == path)
            .map(|(_, m)| m.clone())
            .collect();
        for method in ["get", "post", "put", "delete", "patch"] {
            if methods.contains(method) {
                continue;
            }
            let request = Request::builder()
                .method(method.to_ascii_uppercase().as_str())
                .uri(&uri)
                .body(Body::empty())
                .expect("request");
            let answer = send(&app, request).await;
            assert_eq!(
                answer.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {uri}"
            );
            assert_eq!(
                answer.media_type(),
                "application/problem+json",
                "{method} {uri}"
            );
            document.check(
                &problem,
                "application/problem+json",
                &answer.bytes,
                &format!("{method} {uri}"),
            );
        }
    }
}

/// No documented query parameter is refused as unknown by its handler
/// (the parameter lists come from the document, not from the tables).
#[tokio::test]
async fn every_documented_query_parameter_is_known_to_its_handler() {
    let fixture = common::fixture();
    let app = router(common::state());
    let document = Document::served(&app).await;
    for (path, method) in document.operations() {
        if method != "get" {
            // Writes take no query parameter but `format` of imports,
            // which tests/live.rs exercises.
            continue;
        }
        let operation = document.operation(&path, &method);
        let uri = path.replace("{id}", "hotline-nhtrc");
        for parameter in operation["parameters"].as_array().expect("parameters") {
            if parameter["in"] != "query" {
                continue;
            }
            let name = parameter["name"].as_str().expect("name");
            let (status, bytes) = common::get_bytes(
                &app,
                &format!("{uri}?{name}=x"),
                Some(&format!("Bearer {}", fixture.admin_key)),
            )
            .await;
            if status == StatusCode::BAD_REQUEST {
                let problem: Value = serde_json::from_slice(&bytes).expect("problem");
                let detail = problem["detail"].as_str().unwrap_or_default();
                assert!(
                    !detail.contains("unknown parameter"),
                    "{path}: {name}: {detail}"
                );
            }
        }
    }
}
