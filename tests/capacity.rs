//! Capacity, the `provider` key role and warm transfers (issue 15),
//! through HTTP: the role matrix of `PUT /v1/providers/{id}/capacity` and
//! `/hours`, versions, history and audit, staleness, the `accepting` and
//! `warm_transfer` filters with their checklist, and that capacity never
//! reaches a public or provider-key answer.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{send, Answer, Fixture, Who};
use refmatch::api::router;
use refmatch::model::{Provider, Role, ServiceCapacity};
use refmatch::store::Actor;
use serde_json::{json, Value};

/// Two test records near Fresno: `casa-x`, public, 24-hour, Spanish and
/// English, with a direct (confidential) voice line and a toll-free line;
/// `casa-y`, confidential, weekday hours in Los Angeles time, English
/// only, toll-free line only.
fn casas() -> Vec<Provider> {
    let base = |id: &str, name: &str| {
        json!({
            "id": id, "name": name, "kind": "service_provider",
            "issues": ["trafficking"], "source": "test",
            "location": {"lat": 36.75, "lon": -119.78},
            "precision": "point",
            "address": {"city": "Fresno", "region": "CA", "country": "US"},
            "service_area": [{"type": "counties", "fips": ["06019"]}],
        })
    };
    let mut x = base("casa-x", "Casa X");
    x["visibility"] = json!("public");
    x["languages"] = json!(["es", "en"]);
    x["availability"] = json!({"type": "open24h"});
    x["phones"] = json!([
        {"number": "(559) 555-1234", "dial": "5595551234", "kind": "voice", "confidential": true},
        {"number": "1-800-555-0100", "dial": "18005550100", "kind": "toll_free"},
    ]);
    let mut y = base("casa-y", "Casa Y");
    y["visibility"] = json!("confidential");
    y["languages"] = json!(["en"]);
    let weekdays: Vec<Value> = (0..5)
        .map(|day| json!({"day": day, "opens_min": 540, "closes_min": 1020}))
        .collect();
    y["availability"] =
        json!({"type": "weekly", "timezone": "America/Los_Angeles", "intervals": weekdays});
    y["phones"] = json!([{"number": "1-800-555-0199", "dial": "18005550199", "kind": "toll_free"}]);
    [x, y]
        .into_iter()
        .map(|v| serde_json::from_value(v).expect("a provider"))
        .collect()
}

/// A fixture with the two casas and a provider key bound to `casa-x`.
struct Casas {
    fixture: Fixture,
    app: axum::Router,
    provider_key: String,
}

fn casas_fixture() -> Casas {
    let fixture = common::fixture_with(|providers| providers.extend(casas()));
    let (_, provider_key) = fixture
        .state
        .live
        .create_key_for(
            "Casa X desk",
            Role::Provider,
            &["casa-x".to_owned()],
            &Actor::new("test", Role::Admin),
        )
        .expect("provider key");
    let app = router(fixture.state.clone());
    Casas {
        fixture,
        app,
        provider_key,
    }
}

/// Who sends: the fixture's callers, or the provider key.
#[derive(Clone, Copy)]
enum As {
    Who(Who),
    Provider,
}

impl Casas {
    async fn call(&self, who: As, method: Method, uri: &str, body: Option<&Value>) -> Answer {
        self.call_if(who, method, uri, body, None).await
    }

    async fn call_if(
        &self,
        who: As,
        method: Method,
        uri: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        request = match who {
            As::Who(who) => who.authorize(&self.fixture, request),
            As::Provider => request.header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.provider_key),
            ),
        };
        if let Some(etag) = if_match {
            request = request.header(header::IF_MATCH, etag);
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        send(&self.app, request.expect("request")).await
    }

    async fn set_capacity(&self, who: As, id: &str, capacity: Value) -> Answer {
        self.call(
            who,
            Method::PUT,
            &format!("/v1/providers/{id}/capacity"),
            Some(&json!({ "capacity": capacity })),
        )
        .await
    }

    async fn set_hours(&self, who: As, id: &str, body: Value) -> Answer {
        self.call(
            who,
            Method::PUT,
            &format!("/v1/providers/{id}/hours"),
            Some(&body),
        )
        .await
    }

    async fn get(&self, who: As, uri: &str) -> Answer {
        self.call(who, Method::GET, uri, None).await
    }

    /// The staff JSON result for `id` in a match `query` near Fresno.
    async fn result_for(&self, query: &str, id: &str) -> Option<Value> {
        let answer = self
            .get(
                As::Who(Who::Advocate),
                &format!(
                    "/v1/match?near=Fresno,%20CA&issue=trafficking&limit=100&format=json{query}"
                ),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        answer.json()["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
    }
}

const BEDS: fn(u32) -> Value = |n| json!([{"available": n, "maximum": 12, "unit": "beds"}]);

#[tokio::test]
async fn capacity_and_hours_follow_the_role_matrix() {
    let c = casas_fixture();
    // The provider key sets its own record's capacity: 200, a new
    // version, and an answer as the public sees it (no capacity).
    let own = c.set_capacity(As::Provider, "casa-x", BEDS(3)).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text());
    assert_eq!(own.etag(), "\"2\"");
    let body = own.json();
    assert_eq!(body["version"], 2);
    assert!(body["record"].get("capacity").is_none(), "{body}");
    // Another record: 403, for capacity and for hours.
    let other = c.set_capacity(As::Provider, "casa-y", BEDS(1)).await;
    let problem = other.problem(StatusCode::FORBIDDEN);
    assert!(problem["detail"]
        .as_str()
        .expect("in the answer")
        .contains("casa-y"));
    c.set_hours(As::Provider, "casa-y", json!({"opening_hours": "24/7"}))
        .await
        .problem(StatusCode::FORBIDDEN);
    // The public needs a key.
    c.set_capacity(As::Who(Who::Public), "casa-x", BEDS(1))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    // The provider key edits nothing else.
    let record = c
        .get(As::Who(Who::Admin), "/v1/providers/casa-x?format=record")
        .await
        .json();
    c.call_if(
        As::Provider,
        Method::PUT,
        "/v1/providers/casa-x",
        Some(&record),
        Some("*"),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    c.get(As::Provider, "/v1/providers/casa-x/history")
        .await
        .problem(StatusCode::FORBIDDEN);
    // An advocate sets any record's capacity, but no hours.
    let advocate = c
        .set_capacity(As::Who(Who::Advocate), "casa-y", BEDS(0))
        .await;
    assert_eq!(advocate.status, StatusCode::OK, "{}", advocate.text());
    assert_eq!(advocate.json()["record"]["capacity"][0]["available"], 0);
    assert_eq!(
        advocate.json()["record"]["capacity"][0]["updated_by"],
        "test advocate"
    );
    c.set_hours(
        As::Who(Who::Advocate),
        "casa-y",
        json!({"opening_hours": "24/7"}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    // Hours: the provider key for its own record, an admin for any.
    let hours = c
        .set_hours(
            As::Provider,
            "casa-x",
            json!({"opening_hours": "Mo-Sa 08:00-20:00", "timezone": "America/Los_Angeles", "hours_note": "Sundays by phone"}),
        )
        .await;
    assert_eq!(hours.status, StatusCode::OK, "{}", hours.text());
    assert_eq!(hours.json()["record"]["hours_note"], "Sundays by phone");
    let admin = c
        .set_hours(
            As::Who(Who::Admin),
            "casa-y",
            json!({"opening_hours": "24/7"}),
        )
        .await;
    assert_eq!(admin.status, StatusCode::OK, "{}", admin.text());
    assert_eq!(admin.json()["record"]["availability"]["type"], "open24h");
    // Validation as record edits: a weekly schedule needs a zone; bad
    // syntax names opening_hours; available above maximum is refused.
    let problem = c
        .set_hours(
            As::Provider,
            "casa-x",
            json!({"opening_hours": "Mo-Fr 09:00-17:00"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["parameter"], "timezone");
    let problem = c
        .set_hours(
            As::Who(Who::Admin),
            "casa-x",
            json!({"opening_hours": "whenever", "timezone": "America/Chicago"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["parameter"], "opening_hours");
    let problem = c
        .set_capacity(
            As::Provider,
            "casa-x",
            json!([{"available": 13, "maximum": 12, "unit": "beds"}]),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["parameter"], "capacity[0].available");
    let problem = c
        .set_capacity(
            As::Provider,
            "casa-x",
            json!([{"available": -1, "unit": "beds"}]),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["parameter"], "capacity[0].available");
    // If-Match: a stale version is 412, the current one applies.
    let stale = c
        .call_if(
            As::Provider,
            Method::PUT,
            "/v1/providers/casa-x/capacity",
            Some(&json!({"capacity": BEDS(5)})),
            Some("\"2\""),
        )
        .await;
    stale.problem(StatusCode::PRECONDITION_FAILED);
    let current = c
        .call_if(
            As::Provider,
            Method::PUT,
            "/v1/providers/casa-x/capacity",
            Some(&json!({"capacity": BEDS(5)})),
            Some("\"3\""),
        )
        .await;
    assert_eq!(current.status, StatusCode::OK, "{}", current.text());
    assert_eq!(current.etag(), "\"4\"");
    // Every change is a version in history and an audit entry.
    let history = c
        .get(As::Who(Who::Advocate), "/v1/providers/casa-x/history")
        .await
        .json();
    let entries = history["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 4, "{history}");
    let last = &entries[3];
    assert_eq!(last["after"]["capacity"][0]["available"], 5);
    assert_eq!(last["after"]["capacity"][0]["updated_by"], "Casa X desk");
    assert!(
        last["actor"]
            .as_str()
            .expect("in the answer")
            .contains("Casa X desk"),
        "{last}"
    );
    let audit = c
        .get(As::Who(Who::Admin), "/v1/audit?limit=1000")
        .await
        .json();
    let by_provider_key = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| {
            e["provider_id"] == "casa-x"
                && e["actor"].as_str().unwrap_or("").contains("Casa X desk")
        })
        .count();
    assert_eq!(by_provider_key, 3, "{audit}");
    // A deleted or unknown record is 404 for staff.
    c.set_capacity(As::Who(Who::Admin), "no-such-casa", BEDS(1))
        .await
        .problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn staff_only_match_parameters_are_refused_to_the_public_and_provider_keys() {
    let c = casas_fixture();
    for who in [As::Who(Who::Public), As::Provider] {
        for parameter in ["accepting", "warm_transfer"] {
            let answer = c
                .get(
                    who,
                    &format!("/v1/match?near=Fresno,%20CA&{parameter}=true"),
                )
                .await;
            let problem = answer.problem(StatusCode::FORBIDDEN);
            assert_eq!(problem["parameter"], parameter);
        }
    }
    // false is not asking: no refusal.
    let answer = c
        .get(As::Provider, "/v1/match?near=Fresno,%20CA&accepting=false")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

#[tokio::test]
async fn accepting_keeps_room_and_unknown_and_relaxes_full() {
    let c = casas_fixture();
    // No capacity yet: unknown, kept strict and flagged.
    let x = c
        .result_for("&accepting=true", "casa-x")
        .await
        .expect("casa-x");
    assert_eq!(x["relaxed"], json!([]));
    assert_eq!(x["capacity"], Value::Null);
    assert_eq!(x["warm_transfer"]["accepting"], "unknown");
    assert!(x["reasons"]
        .as_array()
        .expect("in the answer")
        .contains(&json!("capacity unknown")));
    // Room: strict, with the figure.
    c.set_capacity(As::Provider, "casa-x", BEDS(3)).await;
    let x = c
        .result_for("&accepting=true", "casa-x")
        .await
        .expect("casa-x");
    assert_eq!(x["relaxed"], json!([]));
    assert_eq!(x["capacity"]["available"], 3);
    assert_eq!(x["capacity"]["maximum"], 12);
    assert_eq!(x["capacity"]["unit"], "beds");
    assert_eq!(x["capacity"]["stale"], false);
    assert!(x["reasons"]
        .as_array()
        .expect("in the answer")
        .contains(&json!("accepting: 3 beds free")));
    // Full: relaxed for accepting, after every strict result.
    c.set_capacity(As::Provider, "casa-x", BEDS(0)).await;
    let answer = c
        .get(
            As::Who(Who::Advocate),
            "/v1/match?near=Fresno,%20CA&issue=trafficking&limit=100&format=json&accepting=true",
        )
        .await
        .json();
    let results = answer["results"].as_array().expect("results");
    let at = results.iter().position(|r| r["id"] == "casa-x");
    if let Some(at) = at {
        assert_eq!(results[at]["relaxed"], json!(["accepting"]));
        assert!(results[at + 1..].iter().all(|r| r["relaxed"] != json!([])));
    }
    assert!(results
        .iter()
        .all(|r| r["warm_transfer"]["accepting"] != "no"
            || r["relaxed"]
                .as_array()
                .expect("in the answer")
                .contains(&json!("accepting"))));
    assert_eq!(answer["query"]["filters"]["accepting"], true);
    // Without the filter, the full casa is an ordinary result.
    let x = c.result_for("", "casa-x").await.expect("casa-x");
    assert_eq!(x["relaxed"], json!([]));
    assert_eq!(x["warm_transfer"]["accepting"], "no");
}

#[tokio::test]
async fn capacity_goes_stale_after_the_window_judged_at_the_querys_at() {
    let c = casas_fixture();
    c.set_capacity(As::Provider, "casa-x", BEDS(3)).await;
    let now = jiff::Timestamp::now();
    let at = |hours: i64| {
        let instant = now + jiff::SignedDuration::from_hours(hours);
        format!(
            "&accepting=true&at={}",
            common::urlencode(&instant.to_string())
        )
    };
    let fresh = c.result_for(&at(23), "casa-x").await.expect("casa-x");
    assert_eq!(fresh["capacity"]["stale"], false);
    assert_eq!(fresh["warm_transfer"]["accepting"], "yes");
    let stale = c.result_for(&at(25), "casa-x").await.expect("casa-x");
    assert_eq!(stale["capacity"]["stale"], true);
    assert_eq!(stale["capacity"]["available"], 3);
    assert_eq!(stale["warm_transfer"]["accepting"], "unknown");
    assert!(stale["reasons"]
        .as_array()
        .expect("in the answer")
        .contains(&json!("capacity unknown: the last figure is stale")));
    // A full casa whose figure is stale counts as unknown: kept.
    c.set_capacity(As::Provider, "casa-x", BEDS(0)).await;
    let full_stale = c.result_for(&at(30), "casa-x").await.expect("casa-x");
    assert_eq!(full_stale["relaxed"], json!([]));
    // serve --capacity-fresh-hours: a window of 1 hour makes 2 hours stale.
    let mut state = c.fixture.state.clone();
    state.capacity_fresh_hours = 1;
    let short = router(state);
    let uri = format!(
        "/v1/match?near=Fresno,%20CA&issue=trafficking&limit=100&format=json{}",
        at(2)
    );
    let answer = send(
        &short,
        Who::Advocate
            .authorize(&c.fixture, Request::builder().uri(&uri))
            .body(Body::empty())
            .expect("request"),
    )
    .await
    .json();
    let x = answer["results"]
        .as_array()
        .expect("in the answer")
        .iter()
        .find(|r| r["id"] == "casa-x")
        .cloned()
        .expect("casa-x");
    assert_eq!(x["capacity"]["stale"], true);
}

#[tokio::test]
async fn warm_transfer_needs_open_accepting_a_direct_line_and_the_language() {
    let c = casas_fixture();
    c.set_capacity(As::Provider, "casa-x", BEDS(2)).await;
    // An hour from now: casa-x (24-hour) is open and its figure fresh.
    let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    let soon = format!("&at={}", common::urlencode(&soon.to_string()));
    let query = format!("&warm_transfer=true&language=es{soon}");
    let x = c.result_for(&query, "casa-x").await.expect("casa-x");
    assert_eq!(
        x["warm_transfer"],
        json!({"open": true, "accepting": "yes", "direct_line": "5595551234", "language": "speaks", "ready": true})
    );
    assert_eq!(x["relaxed"], json!([]));
    assert!(x["reasons"]
        .as_array()
        .expect("in the answer")
        .contains(&json!("can take a warm transfer now")));
    if let Some(y) = c.result_for(&query, "casa-y").await {
        assert_eq!(y["warm_transfer"]["language"], "does_not");
        assert_eq!(y["warm_transfer"]["direct_line"], "18005550199");
        assert_eq!(y["warm_transfer"]["ready"], false);
        assert!(y["relaxed"]
            .as_array()
            .expect("in the answer")
            .contains(&json!("warm_transfer")));
    }
    // Saturday noon in Fresno: casa-y (weekdays only) is closed.
    let saturday = "&warm_transfer=true&at=2026-12-05T20:00:00Z";
    if let Some(y) = c.result_for(saturday, "casa-y").await {
        assert_eq!(y["warm_transfer"]["open"], false);
        assert_eq!(y["warm_transfer"]["ready"], false);
    }
    // Every strict result is ready; every result's checklist is all four.
    let answer = c
        .get(
            As::Who(Who::Advocate),
            &format!("/v1/match?near=Fresno,%20CA&issue=trafficking&limit=100&format=json{query}"),
        )
        .await
        .json();
    for r in answer["results"].as_array().expect("in the answer") {
        let check = &r["warm_transfer"];
        let all_four = check["open"] == true
            && check["accepting"] != "no"
            && check["direct_line"].is_string()
            && ["speaks", "interpreter", "not_asked"]
                .contains(&check["language"].as_str().expect("in the answer"));
        assert_eq!(check["ready"], all_four, "{r}");
        let strict = !r["relaxed"]
            .as_array()
            .expect("in the answer")
            .contains(&json!("warm_transfer"));
        assert_eq!(strict, all_four, "{r}");
    }
    // Full: no longer ready.
    c.set_capacity(As::Provider, "casa-x", BEDS(0)).await;
    let x = c
        .result_for(&format!("&language=es{soon}"), "casa-x")
        .await
        .expect("casa-x");
    assert_eq!(x["warm_transfer"]["ready"], false);
    assert_eq!(x["warm_transfer"]["accepting"], "no");
    if let Some(x) = c.result_for(&query, "casa-x").await {
        assert_eq!(x["relaxed"][0], "warm_transfer");
    }
    // Not asked: the language is met.
    let x = c.result_for(&soon, "casa-x").await.expect("casa-x");
    assert_eq!(x["warm_transfer"]["language"], "not_asked");
}

/// The confidentiality sweep, for capacity: every record carries a
/// capacity figure with a marker unit and a marker name; no public or
/// provider-key answer holds either, nor a checklist, while the staff
/// answers do (so the check can fail).
#[tokio::test]
async fn capacity_never_reaches_a_public_or_provider_key_answer() {
    const UNIT: &str = "sweepbeds7731";
    const BY: &str = "sweep desk 7731";
    let fixture = common::fixture_with(|providers| {
        providers.extend(casas());
        for (i, p) in providers.iter_mut().enumerate() {
            p.capacity = vec![ServiceCapacity {
                available: (i % 3) as u32,
                maximum: Some(9),
                unit: UNIT.into(),
                updated_at: Some(jiff::Timestamp::now()),
                updated_by: Some(BY.to_owned()),
            }];
        }
    });
    let (_, provider_key) = fixture
        .state
        .live
        .create_key_for(
            "Casa X desk",
            Role::Provider,
            &["casa-x".to_owned()],
            &Actor::new("test", Role::Admin),
        )
        .expect("provider key");
    let c = Casas {
        app: router(fixture.state.clone()),
        fixture,
        provider_key,
    };
    let leaks = |text: &str| {
        text.contains(UNIT)
            || text.contains(BY)
            || text.contains("\"capacity\"")
            || text.contains("\"warm_transfer\":{")
    };
    let snapshot = c.fixture.state.live.snapshot();
    let mut uris: Vec<String> = snapshot
        .directory
        .providers()
        .iter()
        .filter(|p| p.is_public())
        .map(|p| format!("/v1/providers/{}", common::urlencode(&p.id)))
        .collect();
    for (lat, lon) in [
        (36.75, -119.78),
        (40.71, -74.0),
        (61.2, -149.9),
        (13.44, 144.79),
    ] {
        for format in ["geojson", "json"] {
            uris.push(format!(
                "/v1/match?lat={lat}&lon={lon}&limit=100&format={format}"
            ));
            uris.push(format!(
                "/v1/match?lat={lat}&lon={lon}&limit=100&format={format}&open_now=true&language=es"
            ));
        }
    }
    uris.push("/v1/providers?bbox=-125,24,-66,50&limit=1000".to_owned());
    uris.push("/v1/hotlines?country=US".to_owned());
    for who in [As::Who(Who::Public), As::Provider] {
        for uri in &uris {
            let answer = c.get(who, uri).await;
            assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.text());
            assert!(!leaks(&answer.text()), "{uri}: {}", answer.text());
        }
    }
    // The provider key's own write is answered as the public sees it.
    let own = c.set_capacity(As::Provider, "casa-x", BEDS(4)).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(!own.text().contains("\"capacity\""), "{}", own.text());
    // Staff answers do hold capacity: the checks above can fail.
    let staff = c
        .get(
            As::Who(Who::Advocate),
            "/v1/match?lat=36.75&lon=-119.78&limit=100&format=json",
        )
        .await
        .text();
    assert!(leaks(&staff));
    let record = c
        .get(As::Who(Who::Advocate), "/v1/providers/casa-x?format=record")
        .await
        .json();
    assert_eq!(record["capacity"][0]["available"], 4);
}
