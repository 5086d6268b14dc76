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
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use common::{new_fixture, Fixture};
use http_body_util::BodyExt;
use refmatch::api::access::RateLimits;
use refmatch::api::{router, AppState};
use refmatch::gazetteer::Gazetteer;
use refmatch::index::IndexOptions;
use refmatch::ingest::Ingested;
use refmatch::live::LiveDirectory;
use refmatch::model::{Provider, Role, Vocabulary};
use refmatch::store::{
    Actor, ApiKey, AuditEntry, ConfidentialRead, HistoryEntry, ImportCounts, KeyListing, KeyReader,
    SqliteStore, Store, StoreError, Stored, Submission, SubmissionStatus,
};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tower::ServiceExt;

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.text))
    }

    /// A problem+json answer with `status`.
    fn problem(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.headers
                .get(header::CONTENT_TYPE)
                .map(|v| v.to_str().unwrap()),
            Some("application/problem+json"),
            "{status}: {}",
            self.text
        );
        let body = self.json();
        assert_eq!(body["status"], status.as_u16(), "{}", self.text);
        assert!(
            body["detail"].as_str().is_some_and(|d| d.len() > 10),
            "{}",
            self.text
        );
        body
    }
}

async fn call(state: &AppState, request: Request<Body>) -> Answer {
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
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
    fn create_key(
        &mut self,
        name: &str,
        role: Role,
        actor: &Actor<'_>,
    ) -> Result<(ApiKey, String), StoreError> {
        self.inner.create_key(name, role, actor)
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
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    let before = w.lookups.load(Ordering::SeqCst);
    for _ in 0..20 {
        let ok = get_from(&w.state, "/v1/vocabulary", &w.key, [10, 0, 0, 3]).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
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
        live.create(&provider, &Actor::new("test", Role::Admin))
    });
    std::thread::sleep(Duration::from_millis(200));
    let checks = async {
        get_from(&w.state, "/v1/vocabulary", &made_up(1), [10, 0, 0, 1])
            .await
            .problem(StatusCode::UNAUTHORIZED);
        let ok = get_from(&w.state, "/v1/vocabulary", &w.key, [10, 0, 0, 1]).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
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
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    }
    // The public sees these records (without the fields): nothing logged.
    for (id, _) in &records {
        let answer = get(&f.state, &format!("/v1/providers/{id}"), None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
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
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
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
    assert_eq!(history.status, StatusCode::OK, "{}", history.text);
    assert_eq!(reads_of(&f, "direct-line").len(), 3);
}
