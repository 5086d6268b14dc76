//! The live confidential directory through the router, in process: what
//! each role may do (401/403 otherwise), optimistic concurrency (412, 428),
//! edits visible to /v1/match at once, soft delete and history, intake
//! submissions approved and rejected, the audit log of edits and of
//! confidential reads, freshness, rate limits and body limits, and —
//! over every record of the sample directory and every public endpoint and
//! format — that a public answer never holds a confidential record or field.
#![allow(clippy::unwrap_used)]

mod common;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{new_fixture, Answer, Fixture, Who};
use proptest::prelude::*;
use refmatch::api::access::RateLimits;
use refmatch::api::router;
use refmatch::index::coarsen;
use refmatch::model::{LatLng, Provider, Visibility};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

async fn send(
    fixture: &Fixture,
    who: Who,
    method: Method,
    uri: &str,
    body: Option<(&str, Vec<u8>)>,
    if_match: Option<&str>,
) -> Answer {
    let mut request = who.authorize(fixture, Request::builder().method(method).uri(uri));
    if let Some(tag) = if_match {
        request = request.header(header::IF_MATCH, tag);
    }
    let request = match body {
        Some((content_type, bytes)) => request
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(bytes)),
        None => request.body(Body::empty()),
    }
    .unwrap();
    common::send(&router(fixture.state.clone()), request).await
}

async fn get(fixture: &Fixture, who: Who, uri: &str) -> Answer {
    send(fixture, who, Method::GET, uri, None, None).await
}

/// A valid record for edits, public, in Fresno.
fn record(id: &str, name: &str) -> Value {
    json!({
        "id": id,
        "name": name,
        "kind": "service_provider",
        "issues": ["labor_trafficking"],
        "languages": ["en", "es"],
        "availability": {"type": "open24h"},
        "phones": [
            {"number": "(559) 555-0100", "kind": "voice", "country": "US"},
            {"number": "(559) 555-0199", "kind": "voice", "country": "US", "confidential": true}
        ],
        "email": "intake@example.org",
        "contact_name": "Rowan Example",
        "address": {"street": "100 Example St", "city": "Fresno", "region": "CA", "country": "US"},
        "location": {"lat": 36.7378, "lon": -119.7871},
        "service_area": [{"type": "radius", "radius_km": 40}],
        "visibility": "public",
        "verified_at": "2026-11-01",
        "source": "test"
    })
}

/// True when a staff feature shows confidential data (what a staff read is
/// audited for): a confidential record, or a public one's direct line,
/// contact, e-mail, street or exact point.
fn shows_confidential(feature: &Value) -> bool {
    let p = &feature["properties"];
    p["visibility"] == "confidential"
        || p["location_confidential"] == true
        || !p["email"].is_null()
        || !p["contact_name"].is_null()
        || !p["address"]["street"].is_null()
        || p["phones"]
            .as_array()
            .is_some_and(|phones| phones.iter().any(|phone| phone["confidential"] == true))
}

fn bytes(value: &Value) -> Option<(&'static str, Vec<u8>)> {
    Some(("application/json", serde_json::to_vec(value).unwrap()))
}

fn match_ids(body: &Value) -> Vec<String> {
    body["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn each_role_can_do_exactly_what_it_may() {
    let f = new_fixture();
    let staff_reads = [
        "/v1/providers/syn-000001/history",
        "/v1/submissions",
        "/v1/providers/syn-000001?format=record",
    ];
    for uri in staff_reads {
        get(&f, Who::Public, uri)
            .await
            .problem(StatusCode::UNAUTHORIZED);
        assert_eq!(
            get(&f, Who::Advocate, uri).await.status,
            StatusCode::OK,
            "{uri}"
        );
        assert_eq!(
            get(&f, Who::Admin, uri).await.status,
            StatusCode::OK,
            "{uri}"
        );
    }
    // The audit log is for admins only.
    get(&f, Who::Public, "/v1/audit")
        .await
        .problem(StatusCode::UNAUTHORIZED);
    get(&f, Who::Advocate, "/v1/audit")
        .await
        .problem(StatusCode::FORBIDDEN);
    assert_eq!(
        get(&f, Who::Admin, "/v1/audit").await.status,
        StatusCode::OK
    );

    // Edits: the public is asked for a key, an advocate refused, an admin served.
    let new = record("role-test-1", "Role Test Shelter");
    for (who, status) in [
        (Who::Public, StatusCode::UNAUTHORIZED),
        (Who::Advocate, StatusCode::FORBIDDEN),
    ] {
        let answer = send(&f, who, Method::POST, "/v1/providers", bytes(&new), None).await;
        answer.problem(status);
        let answer = send(
            &f,
            who,
            Method::PUT,
            "/v1/providers/syn-000001",
            bytes(&new),
            Some("*"),
        )
        .await;
        answer.problem(status);
        let answer = send(
            &f,
            who,
            Method::DELETE,
            "/v1/providers/syn-000001",
            None,
            Some("*"),
        )
        .await;
        answer.problem(status);
        let csv = Some(("text/csv", b"id,name,kind\nx,Y,hotline\n".to_vec()));
        send(&f, who, Method::POST, "/v1/imports", csv, None)
            .await
            .problem(status);
    }
    let created = send(
        &f,
        Who::Admin,
        Method::POST,
        "/v1/providers",
        bytes(&new),
        None,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(
        created.headers[header::LOCATION],
        "/v1/providers/role-test-1"
    );
    assert_eq!(created.etag(), "\"1\"");

    // An unknown key is refused, never treated as public.
    let request = Request::get("/v1/match?near=Fresno,%20CA")
        .header(
            header::AUTHORIZATION,
            "Bearer rmk_0000000000000000000000000000000000000000",
        )
        .body(Body::empty())
        .unwrap();
    let answer = common::send(&router(f.state.clone()), request).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.headers.contains_key(header::WWW_AUTHENTICATE));
}

#[tokio::test]
async fn edits_are_visible_at_once_and_stale_writes_get_412() {
    let f = new_fixture();
    let near = "/v1/match?lat=36.7378&lon=-119.7871&issue=labor_trafficking&limit=100";
    let before = get(&f, Who::Public, near).await.json();
    assert!(!match_ids(&before).contains(&"edit-test-1".to_owned()));

    let created = send(
        &f,
        Who::Admin,
        Method::POST,
        "/v1/providers",
        bytes(&record("edit-test-1", "Edit Test Shelter")),
        None,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    // Visible to the next match, to the public too (it is public).
    let after = get(&f, Who::Public, near).await.json();
    assert!(match_ids(&after).contains(&"edit-test-1".to_owned()));
    // Creating it again conflicts.
    send(
        &f,
        Who::Admin,
        Method::POST,
        "/v1/providers",
        bytes(&record("edit-test-1", "Again")),
        None,
    )
    .await
    .problem(StatusCode::CONFLICT);

    // PUT needs If-Match; a stale one is 412 and changes nothing.
    let renamed = record("edit-test-1", "Edit Test Shelter Renamed");
    send(
        &f,
        Who::Admin,
        Method::PUT,
        "/v1/providers/edit-test-1",
        bytes(&renamed),
        None,
    )
    .await
    .problem(StatusCode::PRECONDITION_REQUIRED);
    let updated = send(
        &f,
        Who::Admin,
        Method::PUT,
        "/v1/providers/edit-test-1",
        bytes(&renamed),
        Some("\"1\""),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text());
    assert_eq!(updated.etag(), "\"2\"");
    let stale = record("edit-test-1", "Lost Update");
    let problem = send(
        &f,
        Who::Admin,
        Method::PUT,
        "/v1/providers/edit-test-1",
        bytes(&stale),
        Some("\"1\""),
    )
    .await
    .problem(StatusCode::PRECONDITION_FAILED);
    assert!(
        problem["detail"].as_str().unwrap().contains("\"2\""),
        "{problem}"
    );
    let one = get(&f, Who::Public, "/v1/providers/edit-test-1").await;
    assert_eq!(
        one.json()["properties"]["name"],
        "Edit Test Shelter Renamed"
    );
    assert_eq!(one.etag(), "\"2\"");

    // A body that fails validation is 422 naming the field; nothing changes.
    let mut bad = record("edit-test-1", "Bad");
    bad["service_area"] = json!([{"type": "counties", "fips": ["99999"]}]);
    let problem = send(
        &f,
        Who::Admin,
        Method::PUT,
        "/v1/providers/edit-test-1",
        bytes(&bad),
        Some("\"2\""),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["parameter"], "service_area");
    let mut bad = record("edit-test-1", "Bad");
    bad["languages"] = json!(["klingon"]);
    send(
        &f,
        Who::Admin,
        Method::PUT,
        "/v1/providers/edit-test-1",
        bytes(&bad),
        Some("\"2\""),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    send(
        &f,
        Who::Admin,
        Method::PUT,
        "/v1/providers/edit-test-1",
        Some(("application/json", b"{not json".to_vec())),
        Some("\"2\""),
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    send(
        &f,
        Who::Admin,
        Method::PUT,
        "/v1/providers/other-id",
        bytes(&renamed),
        Some("*"),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);

    // Soft delete: gone from every answer, kept in history, restorable.
    send(
        &f,
        Who::Admin,
        Method::DELETE,
        "/v1/providers/edit-test-1",
        None,
        Some("\"1\""),
    )
    .await
    .problem(StatusCode::PRECONDITION_FAILED);
    let deleted = send(
        &f,
        Who::Admin,
        Method::DELETE,
        "/v1/providers/edit-test-1",
        None,
        Some("\"2\""),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text());
    assert!(!match_ids(&get(&f, Who::Admin, near).await.json()).contains(&"edit-test-1".to_owned()));
    get(&f, Who::Admin, "/v1/providers/edit-test-1")
        .await
        .problem(StatusCode::NOT_FOUND);
    let history = get(&f, Who::Advocate, "/v1/providers/edit-test-1/history")
        .await
        .json();
    let actions: Vec<&str> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update", "delete"]);
    assert_eq!(history["entries"][1]["before"]["name"], "Edit Test Shelter");
    assert_eq!(
        history["entries"][1]["after"]["name"],
        "Edit Test Shelter Renamed"
    );
    let restored = send(
        &f,
        Who::Admin,
        Method::PUT,
        "/v1/providers/edit-test-1",
        bytes(&renamed),
        Some("\"3\""),
    )
    .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.text());
    assert!(match_ids(&get(&f, Who::Admin, near).await.json()).contains(&"edit-test-1".to_owned()));
}

#[tokio::test]
async fn imports_report_every_rejected_row_and_apply_the_rest() {
    let f = new_fixture();
    let csv = "id,name,kind,issues,languages,hours,lat,lon,service_area,visibility\n\
import-1,Import One,service_provider,sex_trafficking,en,24/7,36.74,-119.79,radius:30,public\n\
import-2,,service_provider,sex_trafficking,en,24/7,36.74,-119.79,radius:30,public\n\
import-3,Import Three,service_provider,sex_trafficking,en,24/7,36.74,-119.79,county:99999,public\n\
syn-000001,Alabama Office of Survivor Services (renamed),government,sex_trafficking,en,24/7,30.75,-88.1,state:AL,public\n";
    let answer = send(
        &f,
        Who::Admin,
        Method::POST,
        "/v1/imports",
        Some(("text/csv", csv.as_bytes().to_vec())),
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let report = answer.json();
    assert_eq!(report["rows_read"], 4);
    assert_eq!(report["accepted"], 2);
    assert_eq!(report["created"], 1);
    assert_eq!(report["updated"], 1);
    let lines: Vec<u64> = report["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4], "{report}");
    assert_eq!(report["rejections"][1]["field"], "service_area");
    let one = get(&f, Who::Public, "/v1/providers/syn-000001")
        .await
        .json();
    assert_eq!(
        one["properties"]["name"],
        "Alabama Office of Survivor Services (renamed)"
    );
    assert_eq!(
        get(&f, Who::Public, "/v1/providers/import-1").await.status,
        StatusCode::OK
    );
    // An Open Referral HSDS file: a record exported, changed and imported.
    let mut provider: Provider = serde_json::from_value(record("hsds-1", "HSDS One")).unwrap();
    provider
        .phones
        .iter_mut()
        .for_each(|p| p.dial = refmatch::model::dial_digits(&p.number));
    let hsds = refmatch::ingest::hsds::export(&[provider]);
    let answer = send(
        &f,
        Who::Admin,
        Method::POST,
        "/v1/imports?format=hsds",
        Some(("application/json", serde_json::to_vec(&hsds).unwrap())),
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["created"], 1, "{}", answer.text());
    let stored = get(&f, Who::Admin, "/v1/providers/hsds-1?format=record")
        .await
        .json();
    assert_eq!(stored["name"], "HSDS One");
    assert_eq!(stored["email"], "intake@example.org");
    assert_eq!(stored["phones"][1]["confidential"], true);
    // A file whose type is not said is a 400 that says how.
    send(
        &f,
        Who::Admin,
        Method::POST,
        "/v1/imports",
        Some(("application/octet-stream", b"x".to_vec())),
        None,
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn submissions_are_queued_then_approved_or_rejected() {
    let f = new_fixture();
    let first = send(
        &f,
        Who::Public,
        Method::POST,
        "/v1/submissions",
        bytes(&record("intake-1", "Intake One")),
        None,
    )
    .await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text());
    let first_id = first.json()["id"].as_u64().unwrap();
    let second = send(
        &f,
        Who::Public,
        Method::POST,
        "/v1/submissions",
        bytes(&record("intake-2", "Intake Two")),
        None,
    )
    .await;
    let second_id = second.json()["id"].as_u64().unwrap();
    // An invalid submission is refused with the field at fault.
    let mut bad = record("intake-3", "Intake Three");
    bad["kind"] = json!("wizard");
    send(
        &f,
        Who::Public,
        Method::POST,
        "/v1/submissions",
        bytes(&bad),
        None,
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    // Queued, not live.
    get(&f, Who::Admin, "/v1/providers/intake-1")
        .await
        .problem(StatusCode::NOT_FOUND);
    let pending = get(&f, Who::Advocate, "/v1/submissions?status=pending")
        .await
        .json();
    assert_eq!(pending["count"], 2);
    send(
        &f,
        Who::Public,
        Method::POST,
        &format!("/v1/submissions/{first_id}/approve"),
        None,
        None,
    )
    .await
    .problem(StatusCode::UNAUTHORIZED);

    let approved = send(
        &f,
        Who::Advocate,
        Method::POST,
        &format!("/v1/submissions/{first_id}/approve"),
        None,
        None,
    )
    .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text());
    assert_eq!(approved.json()["provider_id"], "intake-1");
    assert_eq!(
        get(&f, Who::Public, "/v1/providers/intake-1").await.status,
        StatusCode::OK
    );
    send(
        &f,
        Who::Advocate,
        Method::POST,
        &format!("/v1/submissions/{first_id}/approve"),
        None,
        None,
    )
    .await
    .problem(StatusCode::CONFLICT);

    send(
        &f,
        Who::Advocate,
        Method::POST,
        &format!("/v1/submissions/{second_id}/reject"),
        bytes(&json!({})),
        None,
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let rejected = send(
        &f,
        Who::Advocate,
        Method::POST,
        &format!("/v1/submissions/{second_id}/reject"),
        bytes(&json!({"reason": "not an anti-trafficking resource"})),
        None,
    )
    .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text());
    assert_eq!(rejected.json()["status"], "rejected");
    assert_eq!(
        rejected.json()["reason"],
        "not an anti-trafficking resource"
    );
    get(&f, Who::Admin, "/v1/providers/intake-2")
        .await
        .problem(StatusCode::NOT_FOUND);
    let all = get(&f, Who::Advocate, "/v1/submissions").await.json();
    let statuses: BTreeSet<&str> = all["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, BTreeSet::from(["approved", "rejected"]));
    get(&f, Who::Advocate, "/v1/submissions/999/approve")
        .await
        .problem(StatusCode::METHOD_NOT_ALLOWED);
    send(
        &f,
        Who::Advocate,
        Method::POST,
        "/v1/submissions/999/approve",
        None,
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_audit_log_holds_every_edit_and_every_confidential_read() {
    let f = new_fixture();
    let snapshot = f.state.live.snapshot();
    let confidential: Vec<&Provider> = snapshot
        .directory
        .providers()
        .iter()
        .filter(|p| p.visibility == Visibility::Confidential && p.location.is_some())
        .take(1)
        .collect();
    let secret = confidential[0];
    // A public read of a confidential record finds nothing and logs nothing.
    get(&f, Who::Public, &format!("/v1/providers/{}", secret.id))
        .await
        .problem(StatusCode::NOT_FOUND);
    let read = get(&f, Who::Advocate, &format!("/v1/providers/{}", secret.id)).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.json()["properties"]["visibility"], "confidential");
    let created = send(
        &f,
        Who::Admin,
        Method::POST,
        "/v1/providers",
        bytes(&record("audit-1", "Audit One")),
        None,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let updated = send(
        &f,
        Who::Admin,
        Method::PUT,
        "/v1/providers/audit-1",
        bytes(&record("audit-1", "Audit One B")),
        Some("\"1\""),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK);
    // A match as an advocate reads confidential records too: each is logged.
    let matched = get(
        &f,
        Who::Advocate,
        "/v1/match?lat=36.7378&lon=-119.7871&limit=20",
    )
    .await
    .json();
    let matched_confidential: BTreeSet<String> = matched["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["visibility"] == "confidential")
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!matched_confidential.is_empty());

    let audit = get(&f, Who::Admin, "/v1/audit?limit=1000").await.json();
    let entries = audit["entries"].as_array().unwrap();
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order");
    let with = |action: &str, id: &str| {
        entries
            .iter()
            .filter(|e| e["action"] == action && e["provider_id"] == id)
            .collect::<Vec<_>>()
    };
    let reads = with("read_confidential", &secret.id);
    assert_eq!(reads.len(), 1, "one read of {}: {entries:?}", secret.id);
    assert!(reads[0]["actor"]
        .as_str()
        .unwrap()
        .starts_with("key:test advocate#"));
    assert_eq!(reads[0]["role"], "advocate");
    let creates = with("create", "audit-1");
    assert_eq!(creates.len(), 1);
    assert_eq!(creates[0]["after"]["name"], "Audit One");
    assert!(creates[0]["actor"]
        .as_str()
        .unwrap()
        .starts_with("key:test admin#"));
    let updates = with("update", "audit-1");
    assert_eq!(updates[0]["before"]["name"], "Audit One");
    assert_eq!(updates[0]["after"]["name"], "Audit One B");
    for id in &matched_confidential {
        assert!(
            !with("read_confidential", id).is_empty(),
            "match read of {id} logged"
        );
    }
    // A public record's confidential fields (direct line, contact, e-mail,
    // street) read by staff are logged like a confidential record.
    let matched_ids = match_ids(&matched);
    assert!(
        matched_ids.iter().any(|id| id == "audit-1"),
        "{matched_ids:?}"
    );
    assert_eq!(with("read_confidential", "audit-1").len(), 1);
    // Paging: `after` continues where a page ended.
    let first = get(&f, Who::Admin, "/v1/audit?limit=2").await.json();
    let next = first["next_after"].as_u64().unwrap();
    let rest = get(&f, Who::Admin, &format!("/v1/audit?after={next}&limit=1"))
        .await
        .json();
    assert_eq!(rest["entries"][0]["seq"].as_u64().unwrap(), next + 1);
    get(&f, Who::Admin, "/v1/audit?limit=0")
        .await
        .problem(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn stale_records_are_marked_and_listed_for_reverification() {
    let f = new_fixture();
    let listed = get(&f, Who::Advocate, "/v1/providers?stale=true&limit=1000")
        .await
        .json();
    let features = listed["features"].as_array().unwrap();
    assert!(!features.is_empty());
    assert!(features.iter().all(|f| f["properties"]["stale"] == true));
    let snapshot = f.state.live.snapshot();
    let today = jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date();
    for feature in features {
        let provider = snapshot
            .directory
            .get(feature["id"].as_str().unwrap())
            .unwrap();
        let fresh = provider
            .verified_at
            .is_some_and(|d| (today - d).get_days() <= 365);
        assert!(!fresh, "{} is fresh", provider.id);
    }
    let fresh = get(&f, Who::Advocate, "/v1/providers?stale=false&limit=1000")
        .await
        .json();
    assert!(fresh["features"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["properties"]["stale"] == false));
    get(&f, Who::Advocate, "/v1/providers?stale=maybe")
        .await
        .problem(StatusCode::BAD_REQUEST);
    // Match answers say it too.
    let matched = get(&f, Who::Advocate, "/v1/match?near=Chicago,%20IL&limit=30")
        .await
        .json();
    assert!(matched["features"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["properties"]["stale"].is_boolean()));
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_and_bodies_have_a_limit() {
    let mut f = new_fixture();
    f.state.limits = RateLimits {
        public_per_minute: 3,
        key_per_minute: 5,
        submissions_per_hour: 1,
    };
    for _ in 0..3 {
        assert_eq!(
            get(&f, Who::Public, "/v1/vocabulary").await.status,
            StatusCode::OK
        );
    }
    let limited = get(&f, Who::Public, "/v1/vocabulary").await;
    limited.problem(StatusCode::TOO_MANY_REQUESTS);
    // The console page and the health check are not counted.
    for uri in ["/", "/healthz", "/console/app.js"] {
        assert_eq!(
            get(&f, Who::Public, uri).await.status,
            StatusCode::OK,
            "{uri}"
        );
    }
    let retry: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    // A key has its own, larger bucket.
    for _ in 0..5 {
        assert_eq!(
            get(&f, Who::Advocate, "/v1/vocabulary").await.status,
            StatusCode::OK
        );
    }
    get(&f, Who::Advocate, "/v1/vocabulary")
        .await
        .problem(StatusCode::TOO_MANY_REQUESTS);

    let mut f = new_fixture();
    f.state.limits.submissions_per_hour = 1;
    f.state.limits.public_per_minute = 0;
    let body = bytes(&record("limit-1", "Limit One"));
    assert_eq!(
        send(
            &f,
            Who::Public,
            Method::POST,
            "/v1/submissions",
            body.clone(),
            None
        )
        .await
        .status,
        StatusCode::ACCEPTED
    );
    send(&f, Who::Public, Method::POST, "/v1/submissions", body, None)
        .await
        .problem(StatusCode::TOO_MANY_REQUESTS);
    // Over the body limit: 413 as problem+json.
    let huge = Some((
        "application/json",
        vec![b' '; refmatch::api::MAX_BODY_BYTES + 10],
    ));
    send(&f, Who::Admin, Method::POST, "/v1/providers", huge, None)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
}

/// What the public must never see, gathered from every record.
struct Secrets {
    /// Quoted ids of confidential records (`"syn-000002"`).
    ids: Vec<String>,
    /// Emails, contact names, streets and direct lines, quoted as JSON.
    fields: Vec<String>,
    /// True points of public records whose location is confidential, by id.
    hidden_points: Vec<(String, LatLng)>,
}

fn secrets(f: &Fixture) -> Secrets {
    let snapshot = f.state.live.snapshot();
    let providers = snapshot.directory.providers();
    let public_numbers: HashSet<&str> = providers
        .iter()
        .flat_map(|p| &p.phones)
        .filter(|p| !p.confidential)
        .map(|p| p.number.as_str())
        .collect();
    let quoted = |s: &str| serde_json::to_string(s).unwrap();
    let mut fields = Vec::new();
    for p in providers {
        fields.extend(p.email.as_deref().map(quoted));
        fields.extend(p.contact_name.as_deref().map(quoted));
        fields.extend(
            p.address
                .as_ref()
                .and_then(|a| a.street.as_deref())
                .map(quoted),
        );
        fields.extend(
            p.phones
                .iter()
                .filter(|ph| ph.confidential && !public_numbers.contains(ph.number.as_str()))
                .map(|ph| quoted(&ph.number)),
        );
    }
    Secrets {
        ids: providers
            .iter()
            .filter(|p| !p.is_public())
            .map(|p| quoted(&p.id))
            .collect(),
        fields,
        hidden_points: providers
            .iter()
            .filter(|p| p.is_public() && p.location_confidential)
            .filter_map(|p| Some((p.id.to_string(), p.location?)))
            .collect(),
    }
}

/// Checks one public answer: no confidential id or field anywhere in the
/// text, and every location-confidential record at its coarsened point.
fn assert_public(secrets: &Secrets, uri: &str, text: &str) {
    for id in &secrets.ids {
        assert!(
            !text.contains(id.as_str()),
            "{uri} shows confidential record {id}"
        );
    }
    for field in &secrets.fields {
        assert!(
            !text.contains(field.as_str()),
            "{uri} shows confidential {field}"
        );
    }
    for word in [
        "\"email\"",
        "\"contact_name\"",
        "\"street\"",
        "\"confidential\":true",
    ] {
        assert!(!text.contains(word), "{uri} has {word}");
    }
    let Ok(body) = serde_json::from_str::<Value>(text) else {
        return; // CSV: the string checks above are the test.
    };
    let mut features: Vec<&Value> = Vec::new();
    if let Some(list) = body["features"].as_array() {
        features.extend(list);
    } else if body["type"] == "Feature" {
        features.push(&body);
    }
    let rows = body["results"].as_array().cloned().unwrap_or_default();
    for (id, truth) in &secrets.hidden_points {
        let coarse = coarsen(*truth);
        for feature in &features {
            if feature["id"] == id.as_str() {
                let at = &feature["geometry"]["coordinates"];
                // serde_json's float parsing may differ in the last digit.
                let near =
                    |v: &Value, want: f64| v.as_f64().is_some_and(|v| (v - want).abs() < 1e-9);
                assert!(
                    near(&at[0], coarse.lon()) && near(&at[1], coarse.lat()),
                    "{uri}: {id} not coarsened: {at}"
                );
                assert!(truth.distance_km(coarse) > 0.0);
                if let Some(km) = feature["properties"]["distance_km"].as_f64() {
                    assert_eq!(km, km.round(), "{uri}: {id} distance not rounded");
                }
            }
        }
        for row in &rows {
            if row["id"] == id.as_str() {
                let lat = row["lat"].as_f64().unwrap_or(f64::NAN);
                assert!(
                    (lat - coarse.lat()).abs() < 1e-9,
                    "{uri}: {id} not coarsened"
                );
            }
        }
    }
}

fn shared_secrets() -> &'static Secrets {
    static SECRETS: std::sync::OnceLock<Secrets> = std::sync::OnceLock::new();
    SECRETS.get_or_init(|| secrets(common::fixture()))
}

#[tokio::test]
async fn no_public_answer_holds_a_confidential_record_or_field() {
    let f = common::fixture();
    let secrets = shared_secrets();
    assert!(secrets.ids.len() > 1000 && secrets.fields.len() > 1000);
    assert!(
        !secrets.hidden_points.is_empty(),
        "the sample has public shelters"
    );
    let snapshot = f.state.live.snapshot();

    // Every record, by id: confidential ones are 404, public ones redacted.
    let mut public = 0;
    for provider in snapshot.directory.providers() {
        let uri = format!("/v1/providers/{}", common::urlencode(&provider.id));
        let answer = get(f, Who::Public, &uri).await;
        if provider.is_public() {
            assert_eq!(answer.status, StatusCode::OK, "{uri}");
            public += 1;
        } else {
            answer.problem(StatusCode::NOT_FOUND);
        }
        assert_public(secrets, &uri, &answer.text());
    }
    // The whole listing, page by page: exactly the public records.
    let mut listed = 0;
    let mut uri = "/v1/providers?limit=1000".to_owned();
    loop {
        let answer = get(f, Who::Public, &uri).await;
        assert_public(secrets, &uri, &answer.text());
        let body = answer.json();
        listed += body["features"].as_array().unwrap().len();
        match body["next_cursor"].as_str() {
            Some(cursor) => uri = format!("/v1/providers?limit=1000&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(listed, public);
    // Matches near every public shelter (both formats), hotlines, coverage.
    let mut uris = Vec::new();
    for (_, at) in &secrets.hidden_points {
        for format in ["geojson", "json"] {
            uris.push(format!(
                "/v1/match?lat={}&lon={}&limit=100&format={format}",
                at.lat(),
                at.lon()
            ));
        }
    }
    for country in ["US", "PE", "UA", "MX", "PH", "IN", "NG"] {
        uris.push(format!("/v1/hotlines?country={country}"));
    }
    for extra in ["", "&format=csv"] {
        uris.push(format!(
            "/v1/coverage?by=state&issue=domestic_violence{extra}"
        ));
    }
    uris.push("/v1/coverage/suggest?by=state&issue=domestic_violence&sites=3".to_owned());
    uris.push("/v1/providers?bbox=-125,24,-66,50&limit=1000".to_owned());
    for uri in uris {
        let answer = get(f, Who::Public, &uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.text());
        assert_public(secrets, &uri, &answer.text());
        // Referral counts are staff-only (issue 15).
        for staff_only in ["referral_stats", "acceptance_rate"] {
            assert!(
                !answer.text().contains(staff_only),
                "{uri} holds {staff_only}"
            );
        }
    }
    // Referrals and recorded demand are never the public's (issue 15).
    get(f, Who::Public, "/v1/referrals")
        .await
        .problem(StatusCode::UNAUTHORIZED);
    get(f, Who::Public, "/v1/coverage?weight=demand&by=state")
        .await
        .problem(StatusCode::FORBIDDEN);
    // The same answers to an advocate do hold confidential records: the
    // checks above can fail.
    let staff = get(f, Who::Advocate, "/v1/providers?limit=1000")
        .await
        .text();
    assert!(secrets.ids.iter().any(|id| staff.contains(id.as_str())));
    assert!(secrets
        .fields
        .iter()
        .any(|field| staff.contains(field.as_str())));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Random callers and filters, both formats: the public answer never
    /// holds a confidential record or field.
    #[test]
    fn public_matches_never_leak(
        lat in 18.0f64..61.0,
        lon in -160.0f64..-66.0,
        issue in proptest::sample::select(vec!["", "&issue=trafficking", "&issue=domestic_violence", "&issue=runaway_homeless_youth"]),
        language in proptest::sample::select(vec!["", "&language=es", "&language=vi"]),
        json_format in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let format = if json_format { "json" } else { "geojson" };
        let uri = format!("/v1/match?lat={lat:.4}&lon={lon:.4}&limit=50&format={format}{issue}{language}");
        let answer = runtime.block_on(get(common::fixture(), Who::Public, &uri));
        prop_assert_eq!(answer.status, StatusCode::OK);
        assert_public(shared_secrets(), &uri, &answer.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_confidential_reads_are_each_audited_once() {
    // Reads of concurrent requests are committed in shared batches (group
    // commit): none may be lost or written twice.
    let f = Arc::new(new_fixture());
    let places = [
        "lat=36.7378&lon=-119.7871",
        "near=Houston,%20TX",
        "near=Chicago,%20IL",
        "near=Atlanta,%20GA",
        "near=10001",
        "near=Miami,%20FL",
        "near=Seattle,%20WA",
        "near=Denver,%20CO",
    ];
    let mut tasks = Vec::new();
    for round in 0..4 {
        for place in places {
            let f = Arc::clone(&f);
            tasks.push(tokio::spawn(async move {
                let body = get(&f, Who::Advocate, &format!("/v1/match?{place}&limit=20"))
                    .await
                    .json();
                let ids: Vec<String> = body["features"]
                    .as_array()
                    .expect("features")
                    .iter()
                    .filter(|f| shows_confidential(f))
                    .map(|f| f["id"].as_str().expect("id").to_owned())
                    .collect();
                (round, ids)
            }));
        }
    }
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for task in tasks {
        let (_, ids) = task.await.expect("request task");
        for id in ids {
            *expected.entry(id).or_default() += 1;
        }
    }
    assert!(
        expected.values().sum::<usize>() > 32,
        "the matches read confidential records"
    );
    let mut logged: BTreeMap<String, usize> = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = get(
            &f,
            Who::Admin,
            &format!("/v1/audit?after={after}&limit=1000"),
        )
        .await
        .json();
        for entry in page["entries"].as_array().expect("entries") {
            if entry["action"] == "read_confidential" {
                assert_eq!(entry["detail"], "/v1/match");
                *logged
                    .entry(entry["provider_id"].as_str().expect("id").to_owned())
                    .or_default() += 1;
            }
        }
        match page["next_after"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(logged, expected);
}

#[tokio::test]
async fn rendered_records_never_cross_audiences_or_outlive_an_edit() {
    // Bodies reuse each record's rendered fields: what staff were shown must
    // never reach the public, and an edit must show at once.
    let f = new_fixture();
    let created = send(
        &f,
        Who::Admin,
        Method::POST,
        "/v1/providers",
        bytes(&record("render-1", "Render One")),
        None,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let uri = "/v1/match?lat=36.7378&lon=-119.7871&limit=100";
    let feature = |body: &Value| {
        body["features"]
            .as_array()
            .expect("features")
            .iter()
            .find(|f| f["id"] == "render-1")
            .cloned()
            .expect("render-1 matched")
    };
    for round in 0..2 {
        // Staff first: their rendering is made (or reused) ...
        let staff = feature(&get(&f, Who::Advocate, uri).await.json());
        assert_eq!(
            staff["properties"]["email"], "intake@example.org",
            "round {round}"
        );
        assert_eq!(staff["properties"]["address"]["street"], "100 Example St");
        assert_eq!(
            staff["properties"]["phones"].as_array().map(Vec::len),
            Some(2)
        );
        // ... and the public's is another one.
        let public_answer = get(&f, Who::Public, uri).await;
        for secret in ["intake@example.org", "Rowan Example", "100 Example St"] {
            assert!(
                !public_answer.text().contains(secret),
                "round {round}: {secret} shown"
            );
        }
        let public = feature(&public_answer.json());
        assert_eq!(public["properties"]["name"], "Render One");
        assert_eq!(
            public["properties"]["phones"],
            json!([{"number": "(559) 555-0100", "dial": "5595550100", "kind": "voice", "country": "US"}]),
            "round {round}: the direct line is staff-only"
        );
        let one = get(&f, Who::Public, "/v1/providers/render-1").await;
        assert!(!one.text().contains("intake@example.org"), "{}", one.text());
    }
    let updated = send(
        &f,
        Who::Admin,
        Method::PUT,
        "/v1/providers/render-1",
        bytes(&record("render-1", "Render One Renamed")),
        Some("\"1\""),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK);
    for who in [Who::Public, Who::Advocate] {
        let shown = feature(&get(&f, who, uri).await.json());
        assert_eq!(shown["properties"]["name"], "Render One Renamed", "{who:?}");
        let one = get(&f, who, "/v1/providers/render-1").await.json();
        assert_eq!(one["properties"]["name"], "Render One Renamed", "{who:?}");
    }
}

/// An import of `rows` valid records with ids `bulk-00000`… as CSV.
fn bulk_csv(rows: usize) -> Vec<u8> {
    let mut csv =
        String::from("id,name,kind,issues,languages,hours,lat,lon,service_area,visibility\n");
    for i in 0..rows {
        let lat = 30.0 + (i % 1000) as f64 * 0.015;
        let lon = -120.0 + (i / 1000) as f64 * 0.6;
        csv.push_str(&format!(
            "bulk-{i:05},Bulk Provider {i},service_provider,sex_trafficking,en,24/7,{lat:.4},{lon:.4},radius:30,public\n"
        ));
    }
    csv.into_bytes()
}

/// Issue 12: an 80,000-row import answered 408 was committed anyway. With
/// a deadline that cuts it at different points (before validation ends,
/// somewhere in it, never), the import is either committed in full and
/// answered 2xx, or answered with a problem and absent from the store.
#[tokio::test]
async fn an_import_answered_with_an_error_is_never_committed() {
    use refmatch::api::heavy::Heavy;
    use refmatch::api::{router_with, RouterOptions};
    const ROWS: usize = 80_000;
    let csv = bulk_csv(ROWS);
    let mut outcomes = Vec::new();
    for timeout_ms in [1, 1_500, 600_000] {
        let f = new_fixture();
        let options = RouterOptions {
            request_timeout: std::time::Duration::from_millis(timeout_ms),
            ..RouterOptions::default()
        };
        let request = Request::post("/v1/imports")
            .header(header::AUTHORIZATION, format!("Bearer {}", f.admin_key))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(csv.clone()))
            .unwrap();
        let answer = common::send(&router_with(f.state.clone(), &options), request).await;
        let status = answer.status;
        let content_type = answer.headers.get(header::CONTENT_TYPE).cloned();
        let body = answer.json();
        // The answer is final: work left behind must not change the store
        // afterwards, so look once it has ended (its permit is back).
        for _ in 0..12_000 {
            if f.state.heavy.running(Heavy::Import) == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(f.state.heavy.running(Heavy::Import), 0);
        let live = &f.state.live;
        let stored: Vec<bool> = ["bulk-00000", "bulk-40000", "bulk-79999"]
            .iter()
            .map(|id| live.stored(id).unwrap().is_some())
            .collect();
        if status.is_success() {
            assert_eq!(body["accepted"], ROWS, "{timeout_ms} ms: {body}");
            assert_eq!(stored, [true; 3], "{timeout_ms} ms: answered {status}");
        } else {
            assert_eq!(
                status,
                StatusCode::REQUEST_TIMEOUT,
                "{timeout_ms} ms: {body}"
            );
            assert_eq!(
                content_type.as_ref().map(|v| v.to_str().unwrap()),
                Some("application/problem+json")
            );
            assert_eq!(stored, [false; 3], "{timeout_ms} ms: answered {status}");
            assert!(live.snapshot().directory.index_of("bulk-00000").is_none());
        }
        outcomes.push(status.is_success());
    }
    // The shortest deadline cannot be met; without a deadline it is.
    assert_eq!(outcomes.first(), Some(&false));
    assert_eq!(outcomes.last(), Some(&true));
}
