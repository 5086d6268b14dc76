//! The review findings of issue 12 (items 4–5), through the router in
//! process: made-up API keys are refused per address before the store is
//! read, and a key lookup never waits for the writer; staff reads of a
//! public record's confidential fields are audited; every error is
//! `application/problem+json` (404, 405, malformed paths, 414, 431,
//! timeouts); every answer that depends on the caller is private to it.
//! Service-area polygons are checked through `POST /v1/providers`. The
//! store's file modes and the 414/431 answers over real TCP are in
//! `tests/cli.rs`.
#![allow(clippy::unwrap_used)]

mod common;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use common::{new_fixture, urlencode, Answer, Fixture};
use refmatch::api::access::{RateLimits, PRIVATE_CACHE_CONTROL};
use refmatch::api::{router, AppState};
use refmatch::gazetteer::Gazetteer;
use refmatch::index::IndexOptions;
use refmatch::ingest::Ingested;
use refmatch::live::LiveDirectory;
use refmatch::model::{referral, Provider, Role, Vocabulary};
use refmatch::store::{
    Actor, ApiKey, AuditEntry, ConfidentialRead, HistoryEntry, ImportCounts, KeyListing, KeyReader,
    SqliteStore, Store, StoreError, Stored, Submission, SubmissionStatus,
};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

async fn call(state: &AppState, request: Request<Body>) -> Answer {
    common::send(&router(state.clone()), request).await
}

fn request(method: Method, uri: &str, key: Option<&str>) -> axum::http::request::Builder {
    let builder = Request::builder().method(method).uri(uri);
    match key {
        Some(key) => builder.header(header::AUTHORIZATION, format!("Bearer {key}")),
        None => builder,
    }
}

async fn get(state: &AppState, uri: &str, key: Option<&str>) -> Answer {
    call(
        state,
        request(Method::GET, uri, key).body(Body::empty()).unwrap(),
    )
    .await
}

/// GET `uri` with key `key`, as if from `address`.
async fn get_from(state: &AppState, uri: &str, key: &str, address: [u8; 4]) -> Answer {
    let mut request = request(Method::GET, uri, Some(key))
        .body(Body::empty())
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((address, 40000))));
    call(state, request).await
}

async fn post_json(state: &AppState, uri: &str, key: &str, body: &Value) -> Answer {
    call(
        state,
        request(Method::POST, uri, Some(key))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::to_vec(body).unwrap()))
            .unwrap(),
    )
    .await
}

fn gazetteer() -> Arc<Gazetteer> {
    static GAZETTEER: OnceLock<Arc<Gazetteer>> = OnceLock::new();
    Arc::clone(GAZETTEER.get_or_init(|| Arc::new(Gazetteer::bundled().unwrap())))
}

// ---------------------------------------------------------------------
// 5a. Key lookups: per-address budget first, never behind the writer.

/// A store that counts key lookups and can hold a commit (`create`) until
/// released: everything else goes to a file-backed [`SqliteStore`].
struct Watched {
    inner: SqliteStore,
    lookups: Arc<AtomicUsize>,
    /// While set, `create` waits (holding the live directory's writer
    /// lock) until it is cleared.
    hold: Arc<Mutex<bool>>,
}

struct CountingReader {
    inner: Box<dyn KeyReader>,
    lookups: Arc<AtomicUsize>,
}

impl KeyReader for CountingReader {
    fn find_key(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.find_key(secret)
    }
}

impl Store for Watched {
    fn is_empty(&self) -> Result<bool, StoreError> {
        self.inner.is_empty()
    }
    fn seed(&mut self, providers: &[Provider], actor: &Actor<'_>) -> Result<usize, StoreError> {
        self.inner.seed(providers, actor)
    }
    fn active(&self) -> Result<Vec<Stored>, StoreError> {
        self.inner.active()
    }
    fn get(&self, id: &str) -> Result<Option<Stored>, StoreError> {
        self.inner.get(id)
    }
    fn create(&mut self, provider: &Provider, actor: &Actor<'_>) -> Result<Stored, StoreError> {
        while *self.hold.lock().unwrap() {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.inner.create(provider, actor)
    }
    fn update(
        &mut self,
        provider: &Provider,
        expected: Option<u64>,
        actor: &Actor<'_>,
    ) -> Result<Stored, StoreError> {
        self.inner.update(provider, expected, actor)
    }
    fn deactivate(
        &mut self,
        id: &str,
        expected: Option<u64>,
        actor: &Actor<'_>,
    ) -> Result<Stored, StoreError> {
        self.inner.deactivate(id, expected, actor)
    }
    fn import(
        &mut self,
        providers: &[Provider],
        actor: &Actor<'_>,
    ) -> Result<ImportCounts, StoreError> {
        self.inner.import(providers, actor)
    }
    fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        self.inner.history(id)
    }
    fn record_read_batch(&mut self, reads: &[ConfidentialRead]) -> Result<(), StoreError> {
        self.inner.record_read_batch(reads)
    }
    fn audit(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.audit(after, limit)
    }
    fn submit(&mut self, record: &Provider, from: &Actor<'_>) -> Result<Submission, StoreError> {
        self.inner.submit(record, from)
    }
    fn submissions(&self, status: Option<SubmissionStatus>) -> Result<Vec<Submission>, StoreError> {
        self.inner.submissions(status)
    }
    fn submission(&self, id: u64) -> Result<Option<Submission>, StoreError> {
        self.inner.submission(id)
    }
    fn approve(
        &mut self,
        id: u64,
        record: &Provider,
        actor: &Actor<'_>,
    ) -> Result<(Submission, Stored), StoreError> {
        self.inner.approve(id, record, actor)
    }
    fn reject(
        &mut self,
        id: u64,
        reason: &str,
        actor: &Actor<'_>,
    ) -> Result<Submission, StoreError> {
        self.inner.reject(id, reason, actor)
    }
    fn create_key_for(
        &mut self,
        name: &str,
        role: Role,
        records: &[String],
        actor: &Actor<'_>,
    ) -> Result<(ApiKey, String), StoreError> {
        self.inner.create_key_for(name, role, records, actor)
    }
    fn find_key(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.find_key(secret)
    }
    fn key_reader(&self) -> Result<Option<Box<dyn KeyReader>>, StoreError> {
        Ok(self.inner.key_reader()?.map(|inner| {
            Box::new(CountingReader {
                inner,
                lookups: Arc::clone(&self.lookups),
            }) as Box<dyn KeyReader>
        }))
    }
    fn keys(&self) -> Result<Vec<KeyListing>, StoreError> {
        self.inner.keys()
    }
    fn revoke_key(&mut self, id: u64, actor: &Actor<'_>) -> Result<(ApiKey, bool), StoreError> {
        self.inner.revoke_key(id, actor)
    }
    fn create_referral(
        &mut self,
        new: &referral::NewReferral,
        actor: &Actor<'_>,
    ) -> Result<referral::Referral, StoreError> {
        self.inner.create_referral(new, actor)
    }
    fn change_referral(
        &mut self,
        id: u64,
        change: &referral::StatusChange,
        actor: &Actor<'_>,
    ) -> Result<(referral::Referral, referral::Referral), StoreError> {
        self.inner.change_referral(id, change, actor)
    }
    fn note_referral(
        &mut self,
        id: u64,
        text: &str,
        actor: &Actor<'_>,
    ) -> Result<referral::Referral, StoreError> {
        self.inner.note_referral(id, text, actor)
    }
    fn record_unmet(&mut self, events: &[referral::UnmetEvent]) -> Result<(), StoreError> {
        self.inner.record_unmet(events)
    }
    fn referral_counts(
        &self,
        since: jiff::civil::Date,
    ) -> Result<Vec<(String, i32, referral::DayCounts)>, StoreError> {
        self.inner.referral_counts(since)
    }
    fn referral(&self, id: u64) -> Result<Option<referral::Referral>, StoreError> {
        Store::referral(&self.inner, id)
    }
    fn referrals(
        &self,
        query: &referral::ReferralQuery,
    ) -> Result<Vec<referral::Referral>, StoreError> {
        Store::referrals(&self.inner, query)
    }
    fn unmet(&self) -> Result<Vec<referral::UnmetEvent>, StoreError> {
        Store::unmet(&self.inner)
    }
}

/// A live directory (no records) over a watched file store, with an
/// advocate key; public limit `per_minute`.
struct Watch {
    state: AppState,
    key: String,
    lookups: Arc<AtomicUsize>,
    hold: Arc<Mutex<bool>>,
    dir: std::path::PathBuf,
}

impl Drop for Watch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn watched(name: &str, per_minute: u32) -> Watch {
    let dir =
        std::env::temp_dir().join(format!("refmatch-hardening-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let mut inner = SqliteStore::open(&dir.join("store.sqlite")).unwrap();
    let (_, key) = inner
        .create_key("watch", Role::Advocate, &Actor::new("test", Role::Admin))
        .unwrap();
    let lookups = Arc::new(AtomicUsize::new(0));
    let hold = Arc::new(Mutex::new(false));
    let store = Watched {
        inner,
        lookups: Arc::clone(&lookups),
        hold: Arc::clone(&hold),
    };
    let (live, _) = LiveDirectory::open(
        Box::new(store),
        gazetteer(),
        Arc::new(Vocabulary::bundled().unwrap()),
        IndexOptions::default(),
        |_, _| Ingested::default(),
    )
    .unwrap();
    let mut state = AppState::new(Arc::new(live));
    state.limits = RateLimits {
        public_per_minute: per_minute,
        key_per_minute: 0,
        submissions_per_hour: 0,
    };
    Watch {
        state,
        key,
        lookups,
        hold,
        dir,
    }
}

/// A made-up key of the right shape.
fn made_up(n: usize) -> String {
    format!("rmk_{n:040x}")
}

#[tokio::test]
async fn a_flood_of_made_up_keys_is_refused_per_address_before_the_store() {
    let w = watched("flood", 5);
    for n in 0..5 {
        get_from(&w.state, "/v1/vocabulary", &made_up(n), [10, 0, 0, 1])
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        w.lookups.load(Ordering::SeqCst),
        5,
        "each made-up key read once"
    );
    // The address's budget is spent: 429, and the store is not read.
    for n in 5..50 {
        let refused = get_from(&w.state, "/v1/vocabulary", &made_up(n), [10, 0, 0, 1]).await;
        refused.problem(StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = refused.headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
    }
    assert_eq!(
        w.lookups.load(Ordering::SeqCst),
        5,
        "no lookup after the budget"
    );
    // Another address has its own budget.
    get_from(&w.state, "/v1/vocabulary", &made_up(99), [10, 0, 0, 2])
        .await
        .problem(StatusCode::UNAUTHORIZED);
    // A valid key, once checked, is answered from memory: no token, no lookup.
    let ok = get_from(&w.state, "/v1/vocabulary", &w.key, [10, 0, 0, 3]).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let before = w.lookups.load(Ordering::SeqCst);
    for _ in 0..20 {
        let ok = get_from(&w.state, "/v1/vocabulary", &w.key, [10, 0, 0, 3]).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    }
    assert_eq!(w.lookups.load(Ordering::SeqCst), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_lookup_does_not_wait_for_a_commit_in_progress() {
    let w = watched("writer", 0);
    *w.hold.lock().unwrap() = true;
    let live = Arc::clone(&w.state.live);
    // A commit that holds the writer lock until released.
    let writer = std::thread::spawn(move || {
        let provider: Provider = serde_json::from_value(json!({
            "id": "held", "name": "Held", "kind": "hotline",
            "availability": {"type": "open24h"}, "source": "test"
        }))
        .unwrap();
        live.create(
            &provider,
            &Actor::new("test", Role::Admin),
            &refmatch::cancel::Cancel::new(),
        )
    });
    std::thread::sleep(Duration::from_millis(200));
    let checks = async {
        get_from(&w.state, "/v1/vocabulary", &made_up(1), [10, 0, 0, 1])
            .await
            .problem(StatusCode::UNAUTHORIZED);
        let ok = get_from(&w.state, "/v1/vocabulary", &w.key, [10, 0, 0, 1]).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    };
    let answered = tokio::time::timeout(Duration::from_secs(5), checks).await;
    *w.hold.lock().unwrap() = false;
    writer.join().unwrap().unwrap();
    assert!(
        answered.is_ok(),
        "a key lookup waited for the commit holding the writer lock"
    );
    assert_eq!(w.lookups.load(Ordering::SeqCst), 2);
}

// ---------------------------------------------------------------------
// 5b. Staff reads of a public record's confidential fields are audited.

/// A public record in Fresno; `extra` adds or replaces fields.
fn public_record(id: &str, extra: Value) -> Value {
    let mut record = json!({
        "id": id,
        "name": format!("Record {id}"),
        "kind": "service_provider",
        "issues": ["labor_trafficking"],
        "languages": ["en"],
        "availability": {"type": "open24h"},
        "phones": [{"number": "(559) 555-0100", "kind": "voice", "country": "US"}],
        "address": {"city": "Fresno", "region": "CA", "country": "US"},
        "location": {"lat": 36.7378, "lon": -119.7871},
        "service_area": [{"type": "radius", "radius_km": 40}],
        "visibility": "public",
        "verified_at": "2026-11-01",
        "source": "test"
    });
    if let (Some(record), Some(extra)) = (record.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            record.insert(k.clone(), v.clone());
        }
    }
    record
}

/// `read_confidential` audit entries of `id`.
fn reads_of(f: &Fixture, id: &str) -> Vec<AuditEntry> {
    f.state
        .live
        .audit(0, 100_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "read_confidential" && e.provider_id.as_deref() == Some(id))
        .collect()
}

#[tokio::test]
async fn staff_reads_of_a_public_records_confidential_fields_are_audited() {
    let f = new_fixture();
    let records = [
        (
            "direct-line",
            json!({"phones": [
                {"number": "(559) 555-0100", "kind": "voice", "country": "US"},
                {"number": "(559) 555-0199", "kind": "voice", "country": "US", "confidential": true}
            ]}),
        ),
        ("exact-point", json!({"location_confidential": true})),
        ("contact", json!({"contact_name": "Rowan Example"})),
        ("plain", json!({})),
    ];
    for (id, extra) in &records {
        let created = post_json(
            &f.state,
            "/v1/providers",
            &f.admin_key,
            &public_record(id, extra.clone()),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    }
    // The public sees these records (without the fields): nothing logged.
    for (id, _) in &records {
        let answer = get(&f.state, &format!("/v1/providers/{id}"), None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    }
    let near = "/v1/match?lat=36.7378&lon=-119.7871&limit=50";
    let public = get(&f.state, near, None).await;
    assert_eq!(public.status, StatusCode::OK);
    for (id, _) in &records {
        assert!(
            reads_of(&f, id).is_empty(),
            "a public read of {id} was logged"
        );
    }
    // An advocate's read of one record, then a match holding them all.
    for (id, _) in &records {
        let answer = get(
            &f.state,
            &format!("/v1/providers/{id}"),
            Some(&f.advocate_key),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    }
    let staff = get(&f.state, near, Some(&f.advocate_key)).await.json();
    let ids: Vec<&str> = staff["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    for (id, _) in &records {
        assert!(ids.contains(id), "{id} in the staff match: {ids:?}");
    }
    for (id, _) in &records[..3] {
        let vias: Vec<String> = reads_of(&f, id)
            .into_iter()
            .map(|e| {
                assert_eq!(e.role, Role::Advocate);
                assert!(e.actor.starts_with("key:test advocate#"), "{}", e.actor);
                e.detail.unwrap_or_default()
            })
            .collect();
        assert_eq!(vias, ["/v1/providers/{id}", "/v1/match"], "{id}");
    }
    // A record with nothing confidential is not a confidential read.
    assert!(reads_of(&f, "plain").is_empty());
    // The history of a record with confidential fields shows them whole.
    let history = get(
        &f.state,
        "/v1/providers/direct-line/history",
        Some(&f.advocate_key),
    )
    .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text());
    assert_eq!(reads_of(&f, "direct-line").len(), 3);
}

// ---------------------------------------------------------------------
// 5c. Service-area polygons through the API.

#[tokio::test]
async fn service_area_polygons_are_repaired_or_refused_naming_the_problem() {
    let f = new_fixture();
    let with_polygon = |id: &str, coordinates: Value| {
        public_record(
            id,
            json!({"service_area": [{"type": "polygon", "coordinates": coordinates}]}),
        )
    };
    // A bow-tie over Fresno is repaired: accepted, serving both lobes.
    let bow_tie = json!([[[
        [-120.5, 36.0],
        [-119.0, 37.5],
        [-119.0, 36.0],
        [-120.5, 37.5],
        [-120.5, 36.0]
    ]]]);
    let created = post_json(
        &f.state,
        "/v1/providers",
        &f.admin_key,
        &with_polygon("bow-tie", bow_tie),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let serves = |lat: f64, lon: f64| {
        let state = f.state.clone();
        let key = f.advocate_key.clone();
        async move {
            let body = get(
                &state,
                &format!("/v1/match?lat={lat}&lon={lon}&limit=50"),
                Some(&key),
            )
            .await
            .json();
            body["features"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["id"] == "bow-tie" && f["properties"]["serves_location"] == true)
        }
    };
    // Inside the left and right lobes; not between them at the bottom.
    assert!(serves(36.75, -120.3).await && serves(36.75, -119.2).await);
    assert!(!serves(36.1, -119.75).await);
    // A hole outside its exterior is refused, naming the ring.
    let hole_outside = json!([[
        [
            [-120.5, 36.0],
            [-119.0, 36.0],
            [-119.0, 37.5],
            [-120.5, 37.5],
            [-120.5, 36.0]
        ],
        [
            [-118.0, 36.0],
            [-117.5, 36.0],
            [-117.5, 36.5],
            [-118.0, 36.0]
        ]
    ]]);
    let refused = post_json(
        &f.state,
        "/v1/providers",
        &f.admin_key,
        &with_polygon("hole", hole_outside),
    )
    .await;
    let problem = refused.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["parameter"], "service_area", "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("ring 1") && detail.contains("outside"),
        "{detail}"
    );
    // Over the vertex cap: the cap is named.
    let n = refmatch::ingest::MAX_POLYGON_VERTICES;
    let mut ring: Vec<[f64; 2]> = (0..n)
        .map(|i| {
            let t = i as f64 / n as f64 * std::f64::consts::TAU;
            [-119.8 + 0.5 * t.cos(), 36.7 + 0.5 * t.sin()]
        })
        .collect();
    ring.push(ring[0]);
    let refused = post_json(
        &f.state,
        "/v1/providers",
        &f.admin_key,
        &with_polygon("huge", json!([[ring]])),
    )
    .await;
    let problem = refused.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["parameter"], "service_area");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains(&n.to_string()), "{detail}");
}

// ---------------------------------------------------------------------
// 5d. Every error is a problem document.

#[tokio::test]
async fn every_error_is_a_problem_document() {
    let f = common::fixture();
    let state = &f.state;
    for uri in [
        "/nope",
        "//v1/match",
        "/v1//providers",
        "/v1/providers/no-such-id",
    ] {
        get(state, uri, None).await.problem(StatusCode::NOT_FOUND);
    }
    call(
        state,
        request(Method::DELETE, "/v1/match", None)
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .problem(StatusCode::METHOD_NOT_ALLOWED);
    // A path parameter that is not UTF-8 once percent-decoded.
    let bad = get(state, "/v1/providers/%FF%FE/history", Some(&f.advocate_key)).await;
    bad.problem(StatusCode::BAD_REQUEST);
    get(state, "/v1/providers/%FF", None)
        .await
        .problem(StatusCode::BAD_REQUEST);
    // A query string that is not UTF-8.
    let answer = get(state, "/v1/match?near=%FF", None).await;
    assert!(answer.status.is_client_error(), "{}", answer.text());
    answer.problem(answer.status);
    // 414: a URI over the limit, counted before anything else runs.
    let long = format!(
        "/v1/match?near={}",
        urlencode(&"x".repeat(refmatch::api::problems::MAX_URI_BYTES))
    );
    let answer = get(state, &long, None).await;
    let problem = answer.problem(StatusCode::URI_TOO_LONG);
    assert!(
        problem["detail"].as_str().unwrap().contains("8192"),
        "{problem}"
    );
    // 431: too many header bytes, or too many headers.
    let big = call(
        state,
        request(Method::GET, "/healthz", None)
            .header(
                "x-padding",
                "y".repeat(refmatch::api::problems::MAX_HEADER_BYTES),
            )
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    big.problem(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let mut many = request(Method::GET, "/healthz", None);
    for i in 0..=refmatch::api::problems::MAX_HEADERS {
        many = many.header(format!("x-h{i}"), "1");
    }
    call(state, many.body(Body::empty()).unwrap())
        .await
        .problem(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    // Under both limits: answered.
    let fine = call(
        state,
        request(Method::GET, "/healthz", None)
            .header("x-padding", "y".repeat(1000))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(fine.status, StatusCode::OK);
}

#[tokio::test]
async fn a_timeout_and_other_bare_errors_become_problem_documents() {
    use axum::routing::get as route_get;
    use tower_http::timeout::TimeoutLayer;
    // The router's timeout answers a bare 408; the problem layer rewrites
    // it (here with a short timeout in front of a slow handler).
    let app = axum::Router::new()
        .route(
            "/slow",
            route_get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/bare",
            route_get(|| async {
                (
                    StatusCode::BAD_REQUEST,
                    [(header::RETRY_AFTER, "7")],
                    "Invalid URL: something",
                )
            }),
        )
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(50),
        ))
        .layer(axum::middleware::from_fn(
            refmatch::api::problems::problems_only,
        ));
    let answer = |uri: &'static str| {
        let app = app.clone();
        async move { common::send(&app, Request::get(uri).body(Body::empty()).unwrap()).await }
    };
    let timed_out = answer("/slow").await;
    let problem = timed_out.problem(StatusCode::REQUEST_TIMEOUT);
    assert_eq!(problem["type"], "urn:refmatch:problem:timeout");
    let bare = answer("/bare").await;
    let problem = bare.problem(StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Invalid URL: something"),
        "{problem}"
    );
    assert_eq!(bare.headers[header::RETRY_AFTER], "7", "other headers kept");
}

// ---------------------------------------------------------------------
// 5e. Answers that depend on the caller are private to it.

fn assert_private(answer: &Answer, uri: &str) {
    assert_eq!(
        answer
            .headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap()),
        Some(PRIVATE_CACHE_CONTROL),
        "{uri} ({}): {:?}",
        answer.status,
        answer.headers
    );
    let vary: Vec<String> = answer
        .headers
        .get_all(header::VARY)
        .iter()
        .flat_map(|v| {
            v.to_str()
                .unwrap()
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect();
    for name in ["authorization", "x-api-key"] {
        assert!(vary.iter().any(|v| v == name), "{uri}: Vary {vary:?}");
    }
}

#[tokio::test]
async fn answers_that_depend_on_the_caller_are_private_to_it() {
    let f = common::fixture();
    let state = &f.state;
    let snapshot = state.live.snapshot();
    let id = snapshot
        .directory
        .providers()
        .iter()
        .find(|p| p.is_public())
        .map(|p| p.id.to_string())
        .unwrap();
    let role_dependent = [
        "/v1/match?near=Fresno,%20CA".to_owned(),
        "/v1/match?near=Fresno,%20CA&format=json".to_owned(),
        "/v1/providers?limit=5".to_owned(),
        format!("/v1/providers/{id}"),
        format!("/v1/providers/{id}/history"),
        "/v1/hotlines?country=US".to_owned(),
        "/v1/coverage?by=state&issue=labor_trafficking".to_owned(),
        "/v1/coverage/suggest?by=state&issue=labor_trafficking&sites=1".to_owned(),
        "/v1/audit?limit=1".to_owned(),
        "/v1/submissions".to_owned(),
    ];
    for uri in &role_dependent {
        for key in [
            None,
            Some(f.advocate_key.as_str()),
            Some(f.admin_key.as_str()),
        ] {
            let answer = get(state, uri, key).await;
            assert!(
                answer.status.is_success()
                    || [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&answer.status),
                "{uri}: {} {}",
                answer.status,
                answer.text()
            );
            assert_private(&answer, uri);
        }
    }
    // Errors are about their caller too, wherever they happen.
    assert_private(
        &get(state, "/v1/geocode?q=", None).await,
        "/v1/geocode error",
    );
    assert_private(
        &get(state, "/v1/vocabulary", Some(&made_up(7))).await,
        "an unknown key",
    );
    // What is the same for everyone keeps its own caching.
    for uri in [
        "/healthz",
        "/openapi.json",
        "/v1/vocabulary",
        "/console/app.js",
        "/v1/geocode?q=93721",
    ] {
        let answer = get(state, uri, Some(&f.advocate_key)).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        let cache = answer
            .headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap().to_owned());
        assert!(
            cache.as_deref().is_none_or(|c| !c.contains("private")),
            "{uri}: {cache:?}"
        );
    }
}

#[tokio::test]
async fn the_public_cannot_submit_an_unbounded_polygon() {
    // Intake submissions are the public's way in: the same checks apply.
    let f = new_fixture();
    let n = refmatch::ingest::MAX_POLYGON_VERTICES + 1;
    let ring: Vec<[f64; 2]> = (0..n).map(|i| [-119.8 + 1e-5 * i as f64, 36.7]).collect();
    let record = public_record(
        "submitted",
        json!({"service_area": [{"type": "polygon", "coordinates": [[ring]]}]}),
    );
    let answer = call(
        &f.state,
        request(Method::POST, "/v1/submissions", None)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::to_vec(&record).unwrap()))
            .unwrap(),
    )
    .await;
    let problem = answer.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["detail"].as_str().unwrap().contains("vertices"),
        "{problem}"
    );
}
