//! Shared by the in-process HTTP tests: the bundled directory's server
//! state (a live directory over an in-memory store seeded from the bundled
//! data, as `refmatch serve` seeds a new store), built once per test
//! binary, its API keys, and query-string encoding.
#![allow(dead_code)]

pub mod process;

use refmatch::api::access::RateLimits;
use refmatch::api::AppState;
use refmatch::gazetteer::Gazetteer;
use refmatch::index::IndexOptions;
use refmatch::ingest::Validator;
use refmatch::live::LiveDirectory;
use refmatch::model::{Role, Vocabulary};
use refmatch::store::{Actor, SqliteStore, Store};
use std::sync::{Arc, OnceLock};

/// The shared state and its keys.
pub struct Fixture {
    /// Server state; rate limits are off (the tests send many requests).
    pub state: AppState,
    /// An advocate's API key.
    pub advocate_key: String,
    /// An administrator's API key.
    pub admin_key: String,
}

/// A new live state over the bundled data, with an advocate and an admin key.
pub fn new_fixture() -> Fixture {
    fixture_with(|_| {})
}

/// As [`new_fixture`], over the bundled data changed by `change` first.
pub fn fixture_with(change: impl FnOnce(&mut Vec<refmatch::model::Provider>)) -> Fixture {
    let gazetteer = Gazetteer::bundled().expect("bundled gazetteer loads");
    let vocabulary = Vocabulary::bundled().expect("vocabulary");
    let mut store = SqliteStore::open_in_memory().expect("in-memory store");
    let operator = Actor {
        name: "test",
        role: Role::Admin,
    };
    let (_, advocate_key) = store
        .create_key("test advocate", Role::Advocate, &operator)
        .expect("advocate key");
    let (_, admin_key) = store
        .create_key("test admin", Role::Admin, &operator)
        .expect("admin key");
    let (live, _) = LiveDirectory::open(
        Box::new(store),
        Arc::new(gazetteer),
        Arc::new(vocabulary),
        IndexOptions::default(),
        |gazetteer, vocabulary| {
            let mut ingested = Validator::new(gazetteer, vocabulary).read_bundled();
            change(&mut ingested.providers);
            ingested
        },
    )
    .expect("live directory opens");
    let mut state = AppState::new(Arc::new(live));
    state.limits = RateLimits {
        public_per_minute: 0,
        key_per_minute: 0,
        submissions_per_hour: 0,
    };
    Fixture {
        state,
        advocate_key,
        admin_key,
    }
}

/// The shared fixture of this test binary (read-only tests only: edit
/// tests make their own with [`new_fixture`]).
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(new_fixture)
}

/// The shared server state.
pub fn state() -> AppState {
    fixture().state.clone()
}

/// `Authorization` header value of the shared advocate key.
pub fn advocate_auth() -> String {
    format!("Bearer {}", fixture().advocate_key)
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `Authorization` header value of the shared admin key.
pub fn admin_auth() -> String {
    format!("Bearer {}", fixture().admin_key)
}

/// A GET through `app` as the public (`auth: None`) or with an
/// `Authorization` header value: the status and the body's bytes.
pub async fn get_bytes(
    app: &axum::Router,
    uri: &str,
    auth: Option<&str>,
) -> (axum::http::StatusCode, Vec<u8>) {
    request(app, "GET", uri, auth).await
}

/// A request with `method` and no body through `app`, as the public
/// (`auth: None`) or with an `Authorization` header value: the status and
/// the body's bytes.
pub async fn request(
    app: &axum::Router,
    method: &str,
    uri: &str,
    auth: Option<&str>,
) -> (axum::http::StatusCode, Vec<u8>) {
    let mut request = axum::http::Request::builder().method(method).uri(uri);
    if let Some(auth) = auth {
        request = request.header(axum::http::header::AUTHORIZATION, auth);
    }
    let answer = send(
        app,
        request.body(axum::body::Body::empty()).expect("request"),
    )
    .await;
    (answer.status, answer.bytes)
}

/// What the router answered: status, headers and the whole body.
pub struct Answer {
    /// The status.
    pub status: axum::http::StatusCode,
    /// The headers.
    pub headers: axum::http::HeaderMap,
    /// The whole Content-Type header value; empty without one.
    pub content_type: String,
    /// The body's bytes (decompressed only if the request did not ask
    /// for compression).
    pub bytes: Vec<u8>,
}

impl Answer {
    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// The body as JSON; panics, showing the body, when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|_| panic!("body is not JSON ({}): {}", self.status, self.text()))
    }

    /// The ETag header.
    pub fn etag(&self) -> String {
        self.headers[axum::http::header::ETAG]
            .to_str()
            .expect("an ASCII ETag")
            .to_owned()
    }

    /// A problem+json answer with `status`: its body.
    pub fn problem(&self, status: axum::http::StatusCode) -> serde_json::Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(
            self.content_type,
            "application/problem+json",
            "{}",
            self.text()
        );
        let body = self.json();
        assert_eq!(body["status"], status.as_u16());
        assert!(
            body["detail"].as_str().is_some_and(|d| d.len() > 10),
            "{body}"
        );
        body
    }

    /// The media type of the body, without parameters (`text/csv` for
    /// `text/csv; charset=utf-8`); empty without a Content-Type.
    pub fn media_type(&self) -> String {
        self.headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    }
}

/// Sends any request through `app` (in process).
pub async fn send(app: &axum::Router, request: axum::http::Request<axum::body::Body>) -> Answer {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = app.clone().oneshot(request).await.expect("router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Answer {
        status,
        headers,
        content_type,
        bytes: bytes.to_vec(),
    }
}

/// Who sends a request: the public, or the fixture's advocate or admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// No key.
    Public,
    /// The fixture's advocate key.
    Advocate,
    /// The fixture's admin key.
    Admin,
}

impl Who {
    /// `request` with this caller's `Authorization` header, if any.
    pub fn authorize(
        self,
        fixture: &Fixture,
        request: axum::http::request::Builder,
    ) -> axum::http::request::Builder {
        let key = match self {
            Who::Public => return request,
            Who::Advocate => &fixture.advocate_key,
            Who::Admin => &fixture.admin_key,
        };
        request.header(axum::http::header::AUTHORIZATION, format!("Bearer {key}"))
    }
}
