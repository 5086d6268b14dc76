//! Referral records through HTTP (issue 15): the whole lifecycle, refused
//! transitions, the role matrix, an audit entry for every change, the
//! shift views and paging, acceptance counts beside staff results, the
//! unmet-need log and `/v1/coverage?weight=demand` on a case where demand
//! and population disagree, and that no referral or demand data ever
//! reaches a public answer.
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::Answer;
use refmatch::api::access::RateLimits;
use refmatch::api::{router, AppState};
use refmatch::gazetteer::Gazetteer;
use refmatch::index::IndexOptions;
use refmatch::ingest::Validator;
use refmatch::live::LiveDirectory;
use refmatch::model::{Role, Vocabulary};
use refmatch::store::{Actor, SqliteStore, Store};
use serde_json::{json, Value};
use std::sync::Arc;

/// A server over the bundled data with keys of every role: advocate,
/// admin, a second advocate, a key with role public and a provider key
/// bound to the provider the tests refer callers to.
struct Server {
    state: AppState,
    advocate: String,
    other_advocate: String,
    admin: String,
    public_key: String,
    provider_key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    NoKey,
    PublicKey,
    ProviderKey,
    Advocate,
    OtherAdvocate,
    Admin,
}

fn server() -> Server {
    let gazetteer = Gazetteer::bundled().expect("gazetteer");
    let vocabulary = Vocabulary::bundled().expect("vocabulary");
    let mut store = SqliteStore::open_in_memory().expect("store");
    let operator = Actor::new("test", Role::Admin);
    let mut key = |name: &str, role: Role| store.create_key(name, role, &operator).expect("key").1;
    let advocate = key("shift advocate", Role::Advocate);
    let other_advocate = key("other advocate", Role::Advocate);
    let admin = key("shift admin", Role::Admin);
    let public_key = key("a public key", Role::Public);
    let provider_key = store
        .create_key_for(
            "provider desk",
            Role::Provider,
            &[PROVIDER.to_owned()],
            &operator,
        )
        .expect("provider key")
        .1;
    let (live, _) = LiveDirectory::open(
        Box::new(store),
        Arc::new(gazetteer),
        Arc::new(vocabulary),
        IndexOptions::default(),
        |g, v| Validator::new(g, v).read_bundled(),
    )
    .expect("live directory");
    let mut state = AppState::new(Arc::new(live));
    state.limits = RateLimits {
        public_per_minute: 0,
        key_per_minute: 0,
        submissions_per_hour: 0,
    };
    Server {
        state,
        advocate,
        other_advocate,
        admin,
        public_key,
        provider_key,
    }
}

impl Server {
    async fn send(&self, who: Who, method: Method, uri: &str, body: Option<Value>) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        let key = match who {
            Who::NoKey => None,
            Who::PublicKey => Some(&self.public_key),
            Who::ProviderKey => Some(&self.provider_key),
            Who::Advocate => Some(&self.advocate),
            Who::OtherAdvocate => Some(&self.other_advocate),
            Who::Admin => Some(&self.admin),
        };
        if let Some(key) = key {
            request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .expect("request");
        common::send(&router(self.state.clone()), request).await
    }

    async fn get(&self, who: Who, uri: &str) -> Answer {
        self.send(who, Method::GET, uri, None).await
    }

    async fn post(&self, who: Who, uri: &str, body: Value) -> Answer {
        self.send(who, Method::POST, uri, Some(body)).await
    }

    /// Creates a referral as `who`; panics unless 201.
    async fn refer(&self, who: Who, body: Value) -> Value {
        let answer = self.post(who, "/v1/referrals", body).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
        answer.json()
    }

    /// Audit entries whose action starts with `referral_`.
    async fn referral_audit(&self) -> Vec<Value> {
        let page = self.get(Who::Admin, "/v1/audit?limit=1000").await.json();
        page["entries"]
            .as_array()
            .or_else(|| page.as_array())
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| {
                e["action"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("referral_"))
            })
            .collect()
    }
}

/// The ids of `GET /v1/referrals{query}` as `who`, and its `next`.
async fn list(s: &Server, who: Who, query: &str) -> (Vec<u64>, Value) {
    let uri = format!("/v1/referrals{query}");
    let answer = s.get(who, &uri).await;
    assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.text());
    let body = answer.json();
    let ids: Vec<u64> = body["referrals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    (ids, body["next"].clone())
}

/// A referral body to `provider` from Fresno.
fn body(provider: &str) -> Value {
    json!({
        "provider_id": provider,
        "method": "warm_transfer",
        "consent": true,
        "place": "Fresno, CA",
        "issue": ["labor_trafficking"],
        "language": ["Spanish"],
        "follow_up_due": "2026-12-05",
        "note": "warm transfer done, intake tomorrow"
    })
}

const PROVIDER: &str = "hotline-nhtrc";

#[tokio::test]
async fn a_referral_goes_through_its_whole_lifecycle_with_an_audit_entry_for_each_change() {
    let s = server();
    let answer = s.post(Who::Advocate, "/v1/referrals", body(PROVIDER)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let created = answer.json();
    let id = created["id"].as_u64().expect("id");
    assert_eq!(
        answer.headers[header::LOCATION],
        format!("/v1/referrals/{id}").as_str()
    );
    assert_eq!(created["status"], "sent");
    assert_eq!(created["fhir_status"], "requested");
    assert_eq!(created["region"], "county:06019", "only the county is kept");
    assert_eq!(created["language"], json!(["es"]));
    assert_eq!(created["decline_reason"], Value::Null);
    assert_eq!(created["follow_up_due"], "2026-12-05");
    assert!(created["created_by"]
        .as_str()
        .unwrap()
        .contains("shift advocate"));
    assert_eq!(created["history"][0]["from"], Value::Null);
    assert_eq!(created["history"][0]["to"], "sent");
    assert_eq!(
        created["notes"][0]["text"],
        "warm transfer done, intake tomorrow"
    );
    assert!(
        !answer.text().contains("Fresno"),
        "the place text is not kept: {}",
        answer.text()
    );

    let uri = format!("/v1/referrals/{id}");
    assert_eq!(s.get(Who::Admin, &uri).await.json(), created);

    let accepted = s
        .post(
            Who::Advocate,
            &format!("{uri}/status"),
            json!({"status": "accepted", "note": "they have a bed"}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text());
    assert_eq!(accepted.json()["fhir_status"], "accepted");
    let noted = s
        .post(
            Who::Admin,
            &format!("{uri}/notes"),
            json!({"text": "intake confirmed"}),
        )
        .await;
    assert_eq!(noted.status, StatusCode::OK, "{}", noted.text());
    assert_eq!(noted.json()["notes"].as_array().map(Vec::len), Some(2));
    let completed = s
        .post(
            Who::Advocate,
            &format!("{uri}/status"),
            json!({"status": "completed", "follow_up_due": "2027-01-10"}),
        )
        .await
        .json();
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["fhir_status"], "completed");
    assert_eq!(completed["follow_up_due"], "2027-01-10");
    let moves: Vec<(Value, Value)> = completed["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["from"].clone(), t["to"].clone()))
        .collect();
    assert_eq!(
        moves,
        [
            (Value::Null, json!("sent")),
            (json!("sent"), json!("accepted")),
            (json!("accepted"), json!("completed")),
        ]
    );
    assert_eq!(completed["history"][1]["note"], "they have a bed");

    // A finished referral changes no more: 409, nothing audited.
    let before = s.referral_audit().await.len();
    let refused = s
        .post(
            Who::Advocate,
            &format!("{uri}/status"),
            json!({"status": "cancelled"}),
        )
        .await;
    let problem = refused.problem(StatusCode::CONFLICT);
    assert!(
        problem["detail"].as_str().unwrap().contains("completed"),
        "{problem}"
    );
    assert_eq!(s.referral_audit().await.len(), before);

    let audit = s.referral_audit().await;
    let actions: Vec<&str> = audit.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions,
        [
            "referral_create",
            "referral_status",
            "referral_note",
            "referral_status"
        ]
    );
    for entry in &audit {
        assert_eq!(entry["provider_id"], PROVIDER, "{entry}");
        assert_eq!(entry["after"]["id"], id, "{entry}");
    }
    assert_eq!(audit[1]["before"]["status"], "sent");
    assert_eq!(audit[1]["after"]["status"], "accepted");
    assert_eq!(audit[2]["role"], "admin");
}

#[tokio::test]
async fn invalid_changes_and_bodies_are_problems_naming_the_field() {
    let s = server();
    let id = s.refer(Who::Advocate, body(PROVIDER)).await["id"]
        .as_u64()
        .unwrap();
    let status = format!("/v1/referrals/{id}/status");
    // sent → completed skips acceptance.
    let skipped = s
        .post(Who::Advocate, &status, json!({"status": "completed"}))
        .await;
    let problem = skipped.problem(StatusCode::CONFLICT);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("accepted, declined, cancelled"),
        "{problem}"
    );
    for (change, field) in [
        (json!({"status": "declined"}), "reason"),
        (
            json!({"status": "accepted", "reason": "no_capacity"}),
            "reason",
        ),
        (
            json!({"status": "declined", "reason": "too_busy"}),
            "reason",
        ),
        (json!({"status": "done"}), "status"),
        (
            json!({"status": "accepted", "follow_up_due": "next week"}),
            "follow_up_due",
        ),
        (json!({"status": "accepted", "caller": "Ana"}), "caller"),
    ] {
        let answer = s.post(Who::Advocate, &status, change.clone()).await;
        assert_eq!(
            answer.problem(StatusCode::UNPROCESSABLE_ENTITY)["parameter"],
            field,
            "{change}"
        );
    }
    let declined = s
        .post(
            Who::Advocate,
            &status,
            json!({"status": "declined", "reason": "no_capacity"}),
        )
        .await
        .json();
    assert_eq!(declined["fhir_status"], "rejected");
    assert_eq!(declined["decline_reason"], "no_capacity");
    s.post(Who::Advocate, &status, json!({"status": "accepted"}))
        .await
        .problem(StatusCode::CONFLICT);

    let mut cases = Vec::new();
    let mut with = |change: &dyn Fn(&mut Value), field: &'static str| {
        let mut b = body(PROVIDER);
        change(&mut b);
        cases.push((b, field));
    };
    with(&|b| b["consent"] = json!(false), "consent");
    with(&|b| b["consent"] = json!("yes"), "consent");
    with(&|b| b["method"] = json!("email"), "method");
    with(
        &|b| b["provider_id"] = json!("no-such-provider"),
        "provider_id",
    );
    with(
        &|b| {
            b.as_object_mut().unwrap().remove("provider_id");
        },
        "provider_id",
    );
    with(&|b| b["place"] = json!("Xyzzyville, ZZ"), "place");
    with(
        &|b| {
            b.as_object_mut().unwrap().remove("place");
        },
        "place",
    );
    with(&|b| b["place"] = json!({"lat": 95, "lon": 0}), "place");
    with(&|b| b["issue"] = json!(["not_an_issue"]), "issue");
    with(&|b| b["language"] = json!("es"), "language");
    with(&|b| b["population"] = json!(["martians"]), "population");
    with(
        &|b| b["follow_up_due"] = json!("2026-13-01"),
        "follow_up_due",
    );
    with(
        &|b| b["caller_phone"] = json!("+15595550100"),
        "caller_phone",
    );
    with(&|b| b["note"] = json!("x".repeat(2001)), "note");
    for (b, field) in cases {
        let answer = s.post(Who::Advocate, "/v1/referrals", b.clone()).await;
        assert_eq!(
            answer.problem(StatusCode::UNPROCESSABLE_ENTITY)["parameter"],
            field,
            "{b}"
        );
    }
    let huge = json!({"provider_id": PROVIDER, "note": "x".repeat(1 << 20)});
    s.post(Who::Advocate, "/v1/referrals", huge)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
    for raw in ["not json", "[1, 2]"] {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/v1/referrals")
            .header(header::AUTHORIZATION, format!("Bearer {}", s.advocate))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(raw))
            .unwrap();
        common::send(&router(s.state.clone()), request)
            .await
            .problem(StatusCode::BAD_REQUEST);
    }
    // Without consent, information may still be given.
    let mut info = body(PROVIDER);
    info["method"] = json!("information_given");
    info["consent"] = json!(false);
    assert_eq!(s.refer(Who::Advocate, info).await["consent"], false);
    // Abroad a point is kept as its H3 resolution-5 cell, a country as itself.
    let mut lima = body(PROVIDER);
    lima["place"] = json!({"lat": -12.0464, "lon": -77.0428});
    let region = s.refer(Who::Advocate, lima).await["region"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        region.starts_with("h3:85") && region.len() == 18,
        "{region}"
    );
    let mut peru = body(PROVIDER);
    peru["place"] = json!("Peru");
    assert_eq!(s.refer(Who::Advocate, peru).await["region"], "country:PE");
    let mut state = body(PROVIDER);
    state["place"] = json!("California");
    assert_eq!(s.refer(Who::Advocate, state).await["region"], "state:CA");
    // Unknown referrals are 404.
    for uri in ["/v1/referrals/999999", "/v1/referrals/abc"] {
        s.get(Who::Advocate, uri)
            .await
            .problem(StatusCode::NOT_FOUND);
    }
    s.post(
        Who::Advocate,
        "/v1/referrals/999999/notes",
        json!({"text": "x"}),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    s.post(
        Who::Advocate,
        &format!("/v1/referrals/{id}/notes"),
        json!({"text": "  "}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn only_staff_may_see_or_change_referrals() {
    let s = server();
    let id = s.refer(Who::Advocate, body(PROVIDER)).await["id"]
        .as_u64()
        .unwrap();
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/v1/referrals".to_owned(),
            Some(body(PROVIDER)),
        ),
        (Method::GET, "/v1/referrals".to_owned(), None),
        (Method::GET, "/v1/referrals?view=due".to_owned(), None),
        (Method::GET, format!("/v1/referrals/{id}"), None),
        (
            Method::POST,
            format!("/v1/referrals/{id}/notes"),
            Some(json!({"text": "n"})),
        ),
        (
            Method::POST,
            format!("/v1/referrals/{id}/status"),
            Some(json!({"status": "accepted"})),
        ),
        (
            Method::GET,
            "/v1/coverage?weight=demand&by=state".to_owned(),
            None,
        ),
    ];
    let audited = s.referral_audit().await.len();
    for (method, uri, b) in &calls {
        let none = s.send(Who::NoKey, method.clone(), uri, b.clone()).await;
        let public_key = s.send(Who::PublicKey, method.clone(), uri, b.clone()).await;
        // Even the provider referred to never sees its referrals.
        let provider_key = s
            .send(Who::ProviderKey, method.clone(), uri, b.clone())
            .await;
        provider_key.problem(StatusCode::FORBIDDEN);
        assert!(!provider_key.text().contains("county:06019"));
        if uri.starts_with("/v1/coverage") {
            // The public may ask for coverage, but not for demand.
            none.problem(StatusCode::FORBIDDEN);
        } else {
            none.problem(StatusCode::UNAUTHORIZED);
            assert!(none.headers.contains_key(header::WWW_AUTHENTICATE));
        }
        public_key.problem(StatusCode::FORBIDDEN);
        assert!(
            !none.text().contains("county:06019") && !public_key.text().contains("county:06019")
        );
    }
    assert_eq!(
        s.referral_audit().await.len(),
        audited,
        "refused calls change nothing"
    );
    for who in [Who::Advocate, Who::Admin] {
        for (method, uri, b) in &calls {
            // The advocate accepts; the admin then cancels.
            let b = match (who, uri.ends_with("/status")) {
                (Who::Admin, true) => Some(json!({"status": "cancelled"})),
                _ => b.clone(),
            };
            let answer = s.send(who, method.clone(), uri, b).await;
            assert!(
                answer.status.is_success(),
                "{who:?} {method} {uri}: {}",
                answer.text()
            );
        }
    }
}

#[tokio::test]
async fn shift_views_list_mine_due_open_and_by_provider_in_pages() {
    let s = server();
    let local = s
        .get(
            Who::Advocate,
            "/v1/match?near=Fresno,%20CA&issue=labor_trafficking&limit=5&format=json",
        )
        .await
        .json();
    let other = local["results"][0]["id"]
        .as_str()
        .expect("a local provider")
        .to_owned();
    assert_ne!(other, PROVIDER);
    let mut ids = Vec::new();
    for i in 0..7 {
        let who = if i % 2 == 0 {
            Who::Advocate
        } else {
            Who::OtherAdvocate
        };
        let mut b = body(if i < 4 { PROVIDER } else { &other });
        b["follow_up_due"] = if i == 6 {
            json!("2999-01-01")
        } else {
            json!("2026-12-01")
        };
        if i == 5 {
            b.as_object_mut().unwrap().remove("follow_up_due");
        }
        ids.push(s.refer(who, b).await["id"].as_u64().unwrap());
    }
    // One cancelled, one completed: neither open.
    s.post(
        Who::Advocate,
        &format!("/v1/referrals/{}/status", ids[0]),
        json!({"status": "cancelled"}),
    )
    .await;
    for status in ["accepted", "completed"] {
        s.post(
            Who::Advocate,
            &format!("/v1/referrals/{}/status", ids[1]),
            json!({"status": status}),
        )
        .await;
    }
    let newest_first =
        |pick: &[usize]| -> Vec<u64> { pick.iter().rev().map(|&i| ids[i]).collect() };
    assert_eq!(
        list(&s, Who::Admin, "").await.0,
        newest_first(&[0, 1, 2, 3, 4, 5, 6])
    );
    assert_eq!(
        list(&s, Who::Admin, "?view=all").await.0,
        newest_first(&[0, 1, 2, 3, 4, 5, 6])
    );
    assert_eq!(
        list(&s, Who::Admin, "?view=open").await.0,
        newest_first(&[2, 3, 4, 5, 6])
    );
    assert_eq!(
        list(&s, Who::Advocate, "?view=mine").await.0,
        newest_first(&[2, 4, 6])
    );
    assert_eq!(
        list(&s, Who::OtherAdvocate, "?view=mine").await.0,
        newest_first(&[3, 5])
    );
    assert_eq!(
        list(&s, Who::Admin, "?view=mine").await.0,
        Vec::<u64>::new()
    );
    assert_eq!(
        list(&s, Who::Admin, "?view=due").await.0,
        newest_first(&[2, 3, 4])
    );
    assert_eq!(
        list(&s, Who::Admin, &format!("?provider={other}")).await.0,
        newest_first(&[4, 5, 6])
    );
    assert_eq!(
        list(&s, Who::Admin, &format!("?view=open&provider={PROVIDER}"))
            .await
            .0,
        newest_first(&[2, 3])
    );
    // Pages of 3 with a cursor, until next is null.
    let mut seen = Vec::new();
    let mut query = "?limit=3".to_owned();
    loop {
        let (page, next) = list(&s, Who::Admin, &query).await;
        assert!(page.len() <= 3);
        seen.extend(page);
        match next.as_str() {
            Some(cursor) => query = format!("?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, newest_first(&[0, 1, 2, 3, 4, 5, 6]));
    for (query, parameter) in [
        ("?view=yesterday", "view"),
        ("?limit=0", "limit"),
        ("?limit=501", "limit"),
        ("?cursor=abc", "cursor"),
        ("?colour=red", "colour"),
    ] {
        let answer = s.get(Who::Admin, &format!("/v1/referrals{query}")).await;
        assert_eq!(
            answer.problem(StatusCode::BAD_REQUEST)["parameter"],
            parameter,
            "{query}"
        );
    }
}

#[tokio::test]
async fn staff_results_carry_acceptance_counts_the_public_never_sees() {
    let s = server();
    let uri = "/v1/match?near=Fresno,%20CA&issue=labor_trafficking&limit=10&format=json";
    let stats_of = |body: &Value, id: &str| {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["referral_stats"].clone())
    };
    let before = s.get(Who::Advocate, uri).await.json();
    let provider = before["results"][0]["id"].as_str().unwrap().to_owned();
    let order = |body: &Value| -> Vec<Value> {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].clone())
            .collect()
    };
    assert_eq!(
        stats_of(&before, &provider),
        Some(
            json!({"window_days": 90, "sent": 0, "accepted": 0, "declined": 0, "acceptance_rate": null})
        )
    );
    let mut made = Vec::new();
    for _ in 0..3 {
        made.push(
            s.refer(Who::Advocate, body(&provider)).await["id"]
                .as_u64()
                .unwrap(),
        );
    }
    s.post(
        Who::Advocate,
        &format!("/v1/referrals/{}/status", made[0]),
        json!({"status": "accepted"}),
    )
    .await;
    s.post(
        Who::Advocate,
        &format!("/v1/referrals/{}/status", made[0]),
        json!({"status": "cancelled"}),
    )
    .await;
    s.post(
        Who::Advocate,
        &format!("/v1/referrals/{}/status", made[1]),
        json!({"status": "declined", "reason": "no_capacity"}),
    )
    .await;
    let after = s.get(Who::Admin, uri).await.json();
    assert_eq!(
        stats_of(&after, &provider),
        Some(
            json!({"window_days": 90, "sent": 3, "accepted": 1, "declined": 1, "acceptance_rate": 0.5})
        )
    );
    assert_eq!(
        order(&before),
        order(&after),
        "no demotion: the ranking is unchanged"
    );
    let geojson = s
        .get(
            Who::Advocate,
            "/v1/match?near=Fresno,%20CA&issue=labor_trafficking&limit=10",
        )
        .await
        .json();
    let feature = geojson["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == provider.as_str())
        .cloned()
        .unwrap();
    assert_eq!(feature["properties"]["referral_stats"]["sent"], 3);
    for uri in [
        uri,
        "/v1/match?near=Fresno,%20CA&issue=labor_trafficking&limit=10",
    ] {
        let public = s.get(Who::NoKey, uri).await;
        assert_eq!(public.status, StatusCode::OK);
        assert!(!public.text().contains("referral_stats"), "{uri}");
        assert!(!public.text().contains("acceptance_rate"), "{uri}");
    }
}

/// Demand and population disagree on purpose: unmet need recorded in
/// Fresno County only, while Los Angeles County is the most populous.
#[tokio::test]
async fn coverage_weighted_by_demand_ranks_where_need_went_unmet_not_where_people_live() {
    let s = server();
    // Declined referrals in Fresno, for labor trafficking.
    for reason in ["no_capacity", "not_eligible", "out_of_area"] {
        let id = s.refer(Who::Advocate, body(PROVIDER)).await["id"]
            .as_u64()
            .unwrap();
        s.post(
            Who::Advocate,
            &format!("/v1/referrals/{id}/status"),
            json!({"status": "declined", "reason": reason}),
        )
        .await;
    }
    // A public match in Fresno that needs relaxing (a language nobody
    // there speaks) and one in a place with no provider at all.
    let relaxed = s
        .get(Who::NoKey, "/v1/match?near=Fresno,%20CA&issue=labor_trafficking&language=Tigrinya&limit=5&format=json")
        .await
        .json();
    let results = relaxed["results"].as_array().unwrap();
    assert!(
        results.is_empty()
            || results
                .iter()
                .any(|r| !r["relaxed"].as_array().unwrap().is_empty()),
        "{relaxed}"
    );
    // A strict answer that is complete is not recorded.
    s.get(Who::NoKey, "/v1/match?near=Los%20Angeles,%20CA&limit=1")
        .await;

    let demand = s
        .get(
            Who::Advocate,
            "/v1/coverage?weight=demand&by=county&issue=labor_trafficking",
        )
        .await;
    assert_eq!(demand.status, StatusCode::OK, "{}", demand.text());
    assert_eq!(demand.media_type(), "application/json");
    let body = demand.json();
    let regions = body["regions"].as_array().unwrap();
    let fresno = &regions[0];
    assert_eq!(fresno["id"], "06019", "{fresno}");
    assert_eq!(fresno["rank"], 1);
    assert_eq!(fresno["declined"], 3);
    assert_eq!(
        fresno["relaxed"].as_u64().unwrap() + fresno["none"].as_u64().unwrap(),
        1
    );
    assert_eq!(fresno["unmet"], 4);
    assert!(fresno["population_rank"].as_u64().unwrap() > 1);
    let la = regions.iter().find(|r| r["id"] == "06037").unwrap();
    assert_eq!(la["population_rank"], 1, "{la}");
    assert_eq!(la["unmet"], 0);
    assert_eq!(body["unmet"], 4);

    // By state: California leads though it is not... the only state with people.
    let states = s
        .get(Who::Admin, "/v1/coverage?weight=demand&by=state")
        .await
        .json();
    assert_eq!(states["regions"][0]["id"], "CA");
    assert_eq!(states["regions"][0]["unmet"], 4);
    // Another need: none of these events.
    let other = s
        .get(
            Who::Admin,
            "/v1/coverage?weight=demand&by=county&issue=domestic_violence&language=fr",
        )
        .await
        .json();
    assert_eq!(other["unmet"], 0);
    // Region sets demand is not counted for are refused, naming by.
    for by in ["country", "h3"] {
        let answer = s
            .get(Who::Admin, &format!("/v1/coverage?weight=demand&by={by}"))
            .await;
        let problem = answer.problem(StatusCode::BAD_REQUEST);
        assert_eq!(problem["parameter"], "by");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("by=state or by=county"),
            "{problem}"
        );
    }
    let answer = s.get(Who::Admin, "/v1/coverage?weight=heat").await;
    assert_eq!(
        answer.problem(StatusCode::BAD_REQUEST)["parameter"],
        "weight"
    );
    let answer = s
        .get(Who::Admin, "/v1/coverage?weight=demand&format=csv")
        .await;
    assert_eq!(
        answer.problem(StatusCode::BAD_REQUEST)["parameter"],
        "format"
    );

    // The log keeps codes, a region and an hour: never the query text.
    let events = s.state.live.unmet().unwrap();
    assert_eq!(events.len(), 4, "{events:?}");
    for event in &events {
        assert_eq!(event.region, "county:06019");
        assert_eq!(event.hour.len(), 13);
        let text = serde_json::to_string(event).unwrap();
        assert!(
            !text.contains("Fresno") && !text.contains("Tigrinya"),
            "{text}"
        );
    }
}

/// The confidentiality sweep for this feature: with referrals, declines
/// and unmet demand recorded, no public answer holds any of it.
#[tokio::test]
async fn no_referral_or_demand_data_reaches_a_public_answer() {
    let s = server();
    let id = s.refer(Who::Advocate, body(PROVIDER)).await["id"]
        .as_u64()
        .unwrap();
    s.post(
        Who::Advocate,
        &format!("/v1/referrals/{id}/notes"),
        json!({"text": "SECRET-NOTE-7731"}),
    )
    .await;
    s.post(
        Who::Advocate,
        &format!("/v1/referrals/{id}/status"),
        json!({"status": "declined", "reason": "unreachable"}),
    )
    .await;
    s.get(
        Who::NoKey,
        "/v1/match?near=Fresno,%20CA&language=Tigrinya&limit=5",
    )
    .await;
    s.state.live.flush_unmet();
    let leaks = [
        "referral",
        "acceptance_rate",
        "SECRET-NOTE-7731",
        "unreachable",
        "unmet",
        "shift advocate",
        "county:06019",
    ];
    for uri in [
        "/v1/match?near=Fresno,%20CA&issue=labor_trafficking&limit=20",
        "/v1/match?near=Fresno,%20CA&issue=labor_trafficking&limit=20&format=json",
        "/v1/match?near=Fresno,%20CA&language=Tigrinya&limit=5&format=json",
        "/v1/providers/hotline-nhtrc",
        "/v1/providers?bbox=-121,36,-119,37.5&limit=100",
        "/v1/hotlines?country=US",
        "/v1/coverage?by=state&issue=labor_trafficking",
        "/v1/coverage?by=county&issue=labor_trafficking&format=csv",
        "/v1/coverage/suggest?by=state&issue=labor_trafficking&sites=2",
        "/v1/vocabulary",
        "/healthz",
    ] {
        for who in [Who::NoKey, Who::PublicKey, Who::ProviderKey] {
            let answer = s.get(who, uri).await;
            assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.text());
            for leak in leaks {
                assert!(!answer.text().contains(leak), "{who:?} {uri} holds {leak}");
            }
        }
    }
    for uri in [
        "/v1/referrals",
        &format!("/v1/referrals/{id}"),
        "/v1/coverage?weight=demand&by=county",
        "/v1/audit",
    ] {
        for who in [Who::NoKey, Who::PublicKey, Who::ProviderKey] {
            let answer = s.get(who, uri).await;
            assert!(answer.status.is_client_error(), "{who:?} {uri}");
            for leak in ["SECRET-NOTE-7731", "county:06019", "unreachable"] {
                assert!(!answer.text().contains(leak), "{who:?} {uri} holds {leak}");
            }
        }
    }
    // The same data is there for staff: the checks above can fail.
    let staff = s
        .get(Who::Advocate, &format!("/v1/referrals/{id}"))
        .await
        .text();
    assert!(staff.contains("SECRET-NOTE-7731") && staff.contains("unreachable"));
}
