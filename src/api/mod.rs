//! The HTTP API (axum on tokio). Handlers only parse, call the library and
//! serialise; every error leaves as `application/problem+json` (RFC 9457)
//! whose `detail` says what to fix.
//!
//! Routes ([`openapi::ENDPOINTS`] documents each and `/openapi.json`
//! serves the OpenAPI 3.1 document built from it): reads `/healthz`,
//! `/v1/match`, `/v1/providers`, `/v1/providers/{id}`, `/v1/hotlines`,
//! `/v1/vocabulary`, `/v1/geocode`, `/v1/reverse`, `/v1/coverage`,
//! `/v1/coverage/suggest`; the live directory's `POST /v1/providers`,
//! `PUT`/`DELETE /v1/providers/{id}`, `/v1/providers/{id}/history`,
//! `POST /v1/imports`, `/v1/submissions…` and `/v1/audit`; the staff-only
//! referral records `/v1/referrals…` ([`referrals`]); referral slips
//! `/v1/providers/{id}/slip` and `/v1/referrals/{id}/slip` ([`slips`]). GeoJSON bodies
//! follow RFC 7946: `[lon, lat]` degrees, `Content-Type: application/geo+json`.
//!
//! Every request passes the access layer ([`access`]): its API key gives its
//! role, and every answer is shaped by that role (see
//! [`crate::model::Role`]).

pub mod access;
mod capacity;
mod console;
mod coverage;
mod edits;
pub mod heavy;
pub mod launch;
pub mod openapi;
pub mod problems;
pub mod referrals;
pub mod schemas;
pub mod slips;

use crate::cancel::Cancelled;
use crate::gazetteer::{Gazetteer, GeocodeError};
use crate::live::{LiveDirectory, LiveError, Snapshot};
use crate::matching::{self, ListQuery, MatchError, Matcher, QueryError, View};
use crate::model::{Freshness, Kind, LatLng, Vocabulary, DEFAULT_VERIFICATION_WINDOW_DAYS};
use crate::render::body;
use crate::store::StoreError;
use access::{Caller, RateLimiter, RateLimits};
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Extension, Path, Query, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use heavy::HeavyLimits;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;

/// Largest request body accepted, in bytes (records and submissions).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Largest file `POST /v1/imports` accepts, in bytes.
pub const MAX_IMPORT_BYTES: usize = 64 << 20;

/// Longest time a request may take before it is answered 408 (the
/// default of [`RouterOptions::request_timeout`]).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The memory ceiling the server is built to stay under with the bundled
/// data, MB of peak resident set size (`VmHWM`), under any mix of public
/// requests: the budgets ([`crate::coverage::Budget`]) bound what one
/// request may hold and the concurrency limits ([`heavy`]) how many run at
/// once. `tests/load.rs` checks it through the binary.
pub const MEMORY_CEILING_MB: u64 = 1536;

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    /// The gazetteer used for geocoding.
    pub gazetteer: Arc<Gazetteer>,
    /// Issue and population codes.
    pub vocabulary: Arc<Vocabulary>,
    /// The live directory: store of record and served snapshot.
    pub live: Arc<LiveDirectory>,
    /// Days a verification stays fresh.
    pub verification_window_days: u32,
    /// Hours a capacity figure stays fresh (`serve --capacity-fresh-hours`).
    pub capacity_fresh_hours: u32,
    /// Request limits.
    pub limits: RateLimits,
    /// Token buckets of the limits.
    pub limiter: Arc<RateLimiter>,
    /// Rendered record fields, reused across answers (see [`body`]).
    pub fragments: Arc<body::Fragments>,
    /// Concurrency limits of the heavy kinds of work.
    pub heavy: Arc<HeavyLimits>,
    /// What one coverage request may cost.
    pub budget: crate::coverage::Budget,
}

impl AppState {
    /// State over `live`, with the default verification window and limits.
    pub fn new(live: Arc<LiveDirectory>) -> AppState {
        AppState {
            gazetteer: Arc::clone(live.gazetteer()),
            vocabulary: Arc::clone(live.vocabulary()),
            live,
            verification_window_days: DEFAULT_VERIFICATION_WINDOW_DAYS,
            capacity_fresh_hours: crate::model::DEFAULT_CAPACITY_FRESH_HOURS,
            limits: RateLimits::default(),
            limiter: Arc::new(RateLimiter::default()),
            fragments: Arc::new(body::Fragments::default()),
            heavy: Arc::new(HeavyLimits::default()),
            budget: crate::coverage::Budget::default(),
        }
    }

    /// Writes bodies over `snapshot` for `view`, reusing rendered records.
    pub fn renderer<'a>(&'a self, snapshot: &'a Snapshot, view: &'a View) -> body::Renderer<'a> {
        body::Renderer::new(&snapshot.directory, view).cached(&self.fragments, snapshot.generation)
    }

    /// The view `caller` gets now.
    pub fn view(&self, caller: &Caller) -> View {
        View {
            role: caller.role,
            freshness: Freshness::now(self.verification_window_days),
            capacity_fresh_hours: self.capacity_fresh_hours,
        }
    }

    /// A matcher over `snapshot` for `view`.
    pub fn matcher<'a>(&'a self, snapshot: &'a Snapshot, view: View) -> Matcher<'a> {
        Matcher {
            gazetteer: &self.gazetteer,
            directory: &snapshot.directory,
            vocabulary: &self.vocabulary,
            view,
        }
    }

    /// The query terms (issue, language and population codes).
    pub fn terms(&self) -> matching::Terms<'_> {
        matching::Terms {
            vocabulary: &self.vocabulary,
            gazetteer: &self.gazetteer,
        }
    }
}

/// Server settings that are not data.
#[derive(Debug, Clone, PartialEq)]
pub struct RouterOptions {
    /// Origins allowed to call the API from a browser (CORS), e.g.
    /// `https://dashboard.example.org`; `*` allows any. Empty: no CORS
    /// headers, so browsers allow only same-origin calls.
    pub cors_origins: Vec<String>,
    /// Longest time a request may take before it is answered 408 and its
    /// work cancelled (default [`REQUEST_TIMEOUT`]); a write whose commit
    /// has begun is answered when the commit ends.
    pub request_timeout: Duration,
}

impl Default for RouterOptions {
    fn default() -> Self {
        RouterOptions {
            cors_origins: Vec::new(),
            request_timeout: REQUEST_TIMEOUT,
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong with this request and how to fix it.
    pub detail: String,
    /// The query parameter at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub parameter: Option<String>,
    /// Close spellings that do exist (for not-found places).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub suggestions: Vec<String>,
}

/// Every way a request can fail; each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter is missing or malformed (400).
    #[error("{detail}")]
    InvalidParameter {
        /// The parameter's name.
        parameter: String,
        /// What is wrong and what is valid.
        detail: String,
    },
    /// The query string itself could not be read (400).
    #[error("{0}")]
    BadQueryString(String),
    /// The request is well-formed but nothing matches (404).
    #[error("{detail}")]
    NotFound {
        /// What was not found.
        detail: String,
        /// Close spellings.
        suggestions: Vec<String>,
    },
    /// No such route (404).
    #[error("no route {0}; see the README for the endpoints")]
    NoRoute(String),
    /// The route exists but not for this method (405).
    #[error("method not allowed here; /openapi.json lists the methods of each endpoint")]
    MethodNotAllowed,
    /// No usable API key for an endpoint that needs one (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The key's role may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// A parameter the caller's role may not send (403), named in the
    /// problem's `parameter`.
    #[error("{detail}")]
    ForbiddenParameter {
        /// The parameter.
        parameter: String,
        /// Why, and what to do.
        detail: String,
    },
    /// The body is not what the endpoint takes (400).
    #[error("{0}")]
    BadBody(String),
    /// The body is larger than the endpoint accepts (413).
    #[error(
        "the body is larger than {limit} bytes; send less (split an import into several files)"
    )]
    TooLarge {
        /// Largest accepted body, bytes.
        limit: usize,
    },
    /// The record fails validation (422).
    #[error("{detail}")]
    Invalid {
        /// The field at fault, when one is.
        field: Option<String>,
        /// What is wrong and what would be valid.
        detail: String,
    },
    /// The record exists already, or the request conflicts with its state (409).
    #[error("{0}")]
    Conflict(String),
    /// `If-Match` names a version that is no longer current (412).
    #[error("{detail}")]
    PreconditionFailed {
        /// What happened and what to do.
        detail: String,
    },
    /// A change without `If-Match` (428).
    #[error("send If-Match with the ETag from GET /v1/providers/{{id}} (or If-Match: * to overwrite whatever is there)")]
    PreconditionRequired,
    /// Too many requests (429).
    #[error("{detail}")]
    TooManyRequests {
        /// Seconds until a request will be accepted.
        retry_after: u64,
        /// What limit was hit.
        detail: String,
    },
    /// The request would cost more than the documented budget (422).
    #[error("{detail}")]
    OverBudget {
        /// The parameter to change.
        parameter: String,
        /// The estimate, the budget and how to ask for less.
        detail: String,
    },
    /// The request took longer than the server allows (408); its work was
    /// cancelled and nothing was stored.
    #[error("the request took longer than {seconds} s and was stopped (nothing was stored); ask for less: a coarser resolution, a smaller bbox, fewer records per import")]
    Timeout {
        /// The time allowed, seconds.
        seconds: f64,
    },
    /// The request's work was cancelled before it ended (408).
    #[error("the request was stopped before its work ended (nothing was stored)")]
    Cancelled,
    /// Too many requests of one heavy kind are running and waiting (503).
    #[error("too many {what} are running and waiting; retry after {retry_after} s")]
    Busy {
        /// The kind of work.
        what: &'static str,
        /// Seconds to wait before retrying.
        retry_after: u64,
    },
    /// A bug on our side (500); details are logged, never sent.
    #[error("internal error; the server log has the details")]
    Internal,
    /// The URI is longer than [`problems::MAX_URI_BYTES`] (414).
    #[error(
        "the URI is {length} bytes long; at most {} are accepted: send fewer or shorter \
         parameters",
        problems::MAX_URI_BYTES
    )]
    UriTooLong {
        /// Bytes of path and query.
        length: usize,
    },
    /// The request's headers are too many or too large (431).
    #[error("{0}")]
    HeadersTooLarge(String),
    /// The request was not answered within [`REQUEST_TIMEOUT`] (408).
    #[error(
        "the request took longer than {} s and was stopped; ask for less (a smaller area, a \
         coarser resolution) or retry later",
        REQUEST_TIMEOUT.as_secs()
    )]
    TimedOut,
    /// Refused outside the handlers (a layer's or axum's own bare answer),
    /// with its status (see [`problems::problems_only`]).
    #[error("{detail}")]
    Refused {
        /// The status that layer answered with.
        status: StatusCode,
        /// What went wrong and what to do.
        detail: String,
    },
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidParameter { .. } | ApiError::BadQueryString(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::NotFound { .. } | ApiError::NoRoute(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::ForbiddenParameter { .. } => StatusCode::FORBIDDEN,
            ApiError::BadBody(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::OverBudget { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Timeout { .. } | ApiError::Cancelled => StatusCode::REQUEST_TIMEOUT,
            ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::TimedOut => StatusCode::REQUEST_TIMEOUT,
            ApiError::Refused { status, .. } => *status,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            ApiError::InvalidParameter { .. } => "invalid-parameter",
            ApiError::BadQueryString(_) => "bad-query-string",
            ApiError::NotFound { .. } => "not-found",
            ApiError::NoRoute(_) => "no-route",
            ApiError::MethodNotAllowed => "method-not-allowed",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) | ApiError::ForbiddenParameter { .. } => "forbidden",
            ApiError::BadBody(_) => "bad-body",
            ApiError::TooLarge { .. } => "too-large",
            ApiError::Invalid { .. } => "invalid-record",
            ApiError::Conflict(_) => "conflict",
            ApiError::PreconditionFailed { .. } => "stale-version",
            ApiError::PreconditionRequired => "precondition-required",
            ApiError::TooManyRequests { .. } => "too-many-requests",
            ApiError::OverBudget { .. } => "over-budget",
            ApiError::Timeout { .. } => "timeout",
            ApiError::Cancelled => "cancelled",
            ApiError::Busy { .. } => "busy",
            ApiError::Internal => "internal",
            ApiError::UriTooLong { .. } => "uri-too-long",
            ApiError::HeadersTooLarge(_) => "headers-too-large",
            ApiError::TimedOut => "timeout",
            ApiError::Refused { .. } => "refused",
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        Problem {
            kind: format!("urn:refmatch:problem:{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
            parameter: match self {
                ApiError::InvalidParameter { parameter, .. }
                | ApiError::OverBudget { parameter, .. }
                | ApiError::ForbiddenParameter { parameter, .. } => Some(parameter.clone()),
                ApiError::Invalid { field, .. } => field.clone(),
                _ => None,
            },
            suggestions: match self {
                ApiError::NotFound { suggestions, .. } => suggestions.clone(),
                _ => Vec::new(),
            },
        }
    }

    fn invalid(parameter: &str, detail: impl Into<String>) -> Self {
        ApiError::InvalidParameter {
            parameter: parameter.to_owned(),
            detail: detail.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (
            self.status(),
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        match &self {
            ApiError::TooManyRequests { retry_after, .. } | ApiError::Busy { retry_after, .. } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            ApiError::Unauthorized(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"refmatch\""),
                );
            }
            _ => {}
        }
        response
    }
}

impl From<LiveError> for ApiError {
    fn from(error: LiveError) -> Self {
        match error {
            LiveError::BadRecord(detail) => ApiError::BadBody(format!(
                "the body is not a provider record ({detail}); send JSON in the shape of GET /v1/providers/{{id}}?format=record"
            )),
            LiveError::Invalid(rejection) => ApiError::Invalid {
                field: rejection.field,
                detail: rejection.reason,
            },
            LiveError::IdMismatch { .. } => ApiError::Invalid {
                field: Some("id".to_owned()),
                detail: error.to_string(),
            },
            LiveError::Store(error @ StoreError::NotFound(_)) => ApiError::NotFound {
                detail: error.to_string(),
                suggestions: Vec::new(),
            },
            LiveError::Store(error @ StoreError::Conflict(_)) => {
                ApiError::Conflict(error.to_string())
            }
            LiveError::Store(error @ StoreError::AlreadyDecided { .. }) => {
                ApiError::Conflict(error.to_string())
            }
            LiveError::Store(error @ StoreError::InvalidTransition { .. }) => {
                ApiError::Conflict(error.to_string())
            }
            LiveError::Store(StoreError::Stale { id, current }) => ApiError::PreconditionFailed {
                detail: format!(
                    "record '{id}' has changed since you read it (it is now at ETag \"{current}\"); GET it again, reapply your change and send the new ETag in If-Match"
                ),
            },
            LiveError::Cancelled(Cancelled) => ApiError::Cancelled,
            other => {
                tracing::error!(error = %other, "live directory");
                ApiError::Internal
            }
        }
    }
}

impl From<Cancelled> for ApiError {
    fn from(_: Cancelled) -> Self {
        ApiError::Cancelled
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadQueryString(format!(
            "the query string could not be read ({}); percent-encode it as UTF-8",
            rejection.body_text()
        ))
    }
}

impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> Self {
        ApiError::InvalidParameter {
            parameter: error.parameter,
            detail: error.detail,
        }
    }
}

impl From<MatchError> for ApiError {
    fn from(error: MatchError) -> Self {
        match error {
            MatchError::Query(error) => error.into(),
            MatchError::Place(error) => geocode_error("near", error),
        }
    }
}

/// Maps a geocoding failure of parameter `parameter` to its HTTP error.
fn geocode_error(parameter: &str, error: GeocodeError) -> ApiError {
    match error {
        GeocodeError::NotFound { query, suggestions } => ApiError::NotFound {
            detail: format!(
                "no place matches '{query}'; try a ZIP code, 'City, ST', 'X County, ST', a state, 'City, Country' or 'lat,lon'"
            ),
            suggestions,
        },
        other => ApiError::invalid(parameter, other.to_string()),
    }
}

/// Query parameters as raw strings, so every problem gets our own message.
type Params = HashMap<String, String>;

fn required<'p>(params: &'p Params, name: &str, what: &str) -> Result<&'p str, ApiError> {
    params
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| ApiError::invalid(name, format!("missing query parameter '{name}': {what}")))
}

fn degrees(params: &Params, name: &str, range: &str) -> Result<f64, ApiError> {
    let text = required(params, name, &format!("a number of degrees {range}"))?;
    text.trim().parse::<f64>().map_err(|_| {
        ApiError::invalid(
            name,
            format!("{name} must be a number of degrees {range}, got '{text}'"),
        )
    })
}

/// Builds the router over `state` with default options (no CORS); `main`
/// and the tests share it.
pub fn router(state: AppState) -> Router {
    router_with(state, &RouterOptions::default())
}

/// Builds the router over `state`.
pub fn router_with(state: AppState, options: &RouterOptions) -> Router {
    let router = Router::new()
        .route("/", get(console::index))
        .route("/console/{*file}", get(console::file))
        .route("/v1/outlines", get(console::outline_collection))
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi_document))
        .route("/v1/match", get(match_providers))
        .route(
            "/v1/providers",
            get(list_providers).post(edits::create_provider),
        )
        .route(
            "/v1/providers/{id}",
            get(one_provider)
                .put(edits::update_provider)
                .delete(edits::delete_provider),
        )
        .route("/v1/providers/{id}/history", get(edits::history))
        .route("/v1/providers/{id}/slip", get(slips::provider_slip))
        .route("/v1/referrals/{id}/slip", get(slips::referral_slip))
        .route(
            "/v1/providers/{id}/capacity",
            axum::routing::put(capacity::set_capacity),
        )
        .route(
            "/v1/providers/{id}/hours",
            axum::routing::put(capacity::set_hours),
        )
        .route(
            "/v1/imports",
            post(edits::import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route(
            "/v1/submissions",
            get(edits::list_submissions).post(edits::submit),
        )
        .route("/v1/submissions/{id}/approve", post(edits::approve))
        .route("/v1/submissions/{id}/reject", post(edits::reject))
        .route("/v1/audit", get(edits::audit))
        .route(
            "/v1/referrals",
            get(referrals::list).post(referrals::create),
        )
        .route("/v1/referrals/{id}", get(referrals::one))
        .route("/v1/referrals/{id}/status", post(referrals::status))
        .route("/v1/referrals/{id}/notes", post(referrals::note))
        .route("/v1/hotlines", get(hotlines))
        .route("/v1/vocabulary", get(vocabulary))
        .route("/v1/geocode", get(geocode))
        .route("/v1/reverse", get(reverse))
        .route("/v1/coverage", get(coverage::report))
        .route("/v1/coverage/suggest", get(coverage::suggest))
        // Every route's query is checked against its endpoint's parameter
        // table before its handler runs.
        .route_layer(axum::middleware::from_fn(checked_parameters))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::authenticate,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            options.request_timeout,
            heavy::deadline,
        ))
        // Outside the deadline and the access layer: an over-long URI or
        // head is refused first; every answer that depends on the caller
        // (errors included) is private; every error is a problem document.
        .layer(axum::middleware::from_fn(problems::bound_request_head))
        .layer(axum::middleware::from_fn(access::private_answers))
        .layer(axum::middleware::from_fn(problems::problems_only));
    let router = match cors(&options.cors_origins) {
        Some(layer) => router.layer(layer),
        None => router,
    };
    // The log line of a request names its method, path, status and
    // latency, never its query or headers: callers' places and API keys
    // stay out of the logs.
    router.layer(
        TraceLayer::new_for_http()
            .make_span_with(|request: &axum::http::Request<axum::body::Body>| {
                // Method and path only: the query holds callers' places
                // and the headers hold keys.
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                )
            })
            .on_response(
                DefaultOnResponse::new()
                    .level(Level::INFO)
                    .latency_unit(LatencyUnit::Micros),
            ),
    )
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim()).ok()),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::OPTIONS,
                Method::POST,
                Method::PUT,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
            ])
            .expose_headers([header::ETAG, header::LOCATION, header::RETRY_AFTER])
            .max_age(Duration::from_secs(3600)),
    )
}

/// Query parameters in order, repeats kept.
type Pairs = Vec<(String, String)>;

fn pairs(params: &Pairs) -> impl Iterator<Item = (&str, &str)> {
    params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// The value of a single-valued parameter (the router's
/// `checked_parameters` layer has refused unknown and repeated ones).
fn value<'p>(params: &'p Pairs, name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Body formats of the listing endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    GeoJson,
    Json,
}

fn format(params: &Pairs) -> Result<Format, ApiError> {
    match value(params, "format") {
        None => Ok(Format::GeoJson),
        Some(v) => match v.trim() {
            "geojson" => Ok(Format::GeoJson),
            "json" => Ok(Format::Json),
            other => Err(ApiError::invalid(
                "format",
                format!("format must be geojson or json, got '{other}'"),
            )),
        },
    }
}

/// A response carrying `bytes` (a body written by [`body::Renderer`]).
fn bytes_response(content_type: &'static str, bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
}

/// Serialises `body` with `content_type`.
fn body_response(content_type: &'static str, body: &impl Serialize) -> Result<Response, ApiError> {
    match serde_json::to_vec(body) {
        Ok(bytes) => Ok(bytes_response(content_type, bytes)),
        Err(error) => {
            tracing::error!(%error, "serialising a response");
            Err(ApiError::Internal)
        }
    }
}

const GEOJSON: &str = "application/geo+json";
const JSON: &str = "application/json";

/// Records in `indexes` whose staff view shows confidential data (a
/// confidential record, or a public one's direct line, contact, e-mail,
/// street or exact point: [`body::shows_confidential`]): what an audit of
/// a staff read lists.
fn confidential_ids(snapshot: &Snapshot, indexes: impl Iterator<Item = u32>) -> Vec<&str> {
    indexes
        .filter_map(|i| snapshot.directory.provider(i))
        .filter(|p| body::shows_confidential(p))
        .map(|p| p.id.as_str())
        .collect()
}

/// Runs `work` on the blocking pool (SQLite, tiling, big bodies); a worker
/// that panicked is a 500 whose details go to the log, as `what`.
pub(super) async fn blocking<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        tracing::error!(%error, what, "blocking worker");
        ApiError::Internal
    })?
}

/// Appends the audit entries of a staff read of confidential records.
async fn audit_reads(
    state: &AppState,
    caller: &Caller,
    ids: Vec<&str>,
    via: &'static str,
) -> Result<(), ApiError> {
    if ids.is_empty() || !caller.role.sees_confidential() {
        return Ok(());
    }
    let live = Arc::clone(&state.live);
    let caller = caller.clone();
    let ids: Vec<String> = ids.into_iter().map(str::to_owned).collect();
    blocking("audit writer", move || {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        Ok(live.record_reads(&caller.actor(), &ids, via)?)
    })
    .await
}

async fn match_providers(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let format = format(&params)?;
    let snapshot = state.live.snapshot();
    let view = state.view(&caller);
    let matcher = state.matcher(&snapshot, view);
    let query = matching::Query::parse(pairs(&params), &["format"], &matcher.terms())?;
    if let Some(parameter) = query.staff_only().first() {
        if !caller.role.sees_confidential() {
            return Err(ApiError::ForbiddenParameter {
                parameter: (*parameter).to_owned(),
                detail: format!(
                    "{parameter} is for staff: it needs an API key with role advocate or admin \
                     (this caller is {}); leave {parameter} out",
                    caller.role
                ),
            });
        }
    }
    let response = matcher.run(&query)?;
    record_unmet(&state, &response);
    let body = {
        // Staff results carry each provider's referral counts, read from
        // memory (no SQL on the match path); the lock ends with the body.
        let counts = view
            .role
            .sees_confidential()
            .then(|| state.live.referral_counts());
        let mut renderer = state.renderer(&snapshot, &view);
        if let Some(counts) = &counts {
            renderer = renderer.with_referral_stats(
                counts,
                crate::model::referral::epoch_day(crate::live::today()),
            );
        }
        match format {
            Format::GeoJson => bytes_response(GEOJSON, renderer.match_geojson(&response)),
            Format::Json => bytes_response(JSON, renderer.match_json(&response)),
        }
    };
    let read = confidential_ids(&snapshot, response.results.iter().map(|r| r.index));
    audit_reads(&state, &caller, read, "/v1/match").await?;
    Ok(body)
}

/// Queues the anonymous unmet-need event of a match whose strict answer
/// was empty (`none`: nothing at all; `relaxed`: only with relaxed
/// filters) or needed relaxing: the need codes, the caller's region and
/// the UTC hour, never the query text. Returns at once.
fn record_unmet(state: &AppState, response: &matching::MatchResponse) {
    use crate::model::referral::{hour_bucket, Unmet, UnmetEvent};
    let outcome = if response.results.is_empty() {
        Unmet::None
    } else if response.results.iter().any(|r| !r.relaxed.is_empty()) {
        Unmet::Relaxed
    } else {
        return;
    };
    let place = &response.place;
    let region = crate::live::region_key(
        place.point(),
        place.precision,
        place.country.as_deref(),
        place.region.as_deref(),
        place.county_fips.as_deref(),
    );
    state.live.record_unmet(UnmetEvent {
        hour: hour_bucket(jiff::Timestamp::now()),
        region,
        outcome,
        reason: None,
        issues: response.filters.issues.clone(),
        languages: response.filters.languages.clone(),
        populations: response.filters.populations.clone(),
    });
}

async fn list_providers(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let query = ListQuery::parse(pairs(&params), &[], &state.terms())?;
    let snapshot = state.live.snapshot();
    let view = state.view(&caller);
    let page = matching::list(&snapshot.directory, &state.vocabulary, &query, &view)?;
    let collection = state.renderer(&snapshot, &view).providers_geojson(
        &page.indexes,
        None::<&()>,
        Some(&page),
        |p| p.phones.iter().collect(),
    );
    let body = bytes_response(GEOJSON, collection);
    let read = confidential_ids(&snapshot, page.indexes.iter().copied());
    audit_reads(&state, &caller, read, "/v1/providers").await?;
    Ok(body)
}

/// The `ETag` of version `version` of a record.
fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

async fn one_provider(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    params: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let as_record = match value(&params, "format").map(str::trim) {
        None | Some("geojson") => false,
        Some("record") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "format",
                format!("format must be geojson or record, got '{other}'"),
            ))
        }
    };
    let snapshot = state.live.snapshot();
    let view = state.view(&caller);
    let not_found = || ApiError::NotFound {
        detail: format!("no provider has id '{id}'; ids come from /v1/match or /v1/providers"),
        suggestions: Vec::new(),
    };
    // The public is told nothing about records it may not see.
    let index = snapshot
        .directory
        .index_of(&id)
        .filter(|&i| view.may_see(&snapshot.directory, i))
        .ok_or_else(not_found)?;
    let mut response = if as_record {
        caller.require(
            crate::model::Role::Advocate,
            "the stored record (format=record)",
        )?;
        let provider = snapshot.directory.provider(index).ok_or_else(not_found)?;
        body_response(JSON, provider)?
    } else {
        let feature = state
            .renderer(&snapshot, &view)
            .provider_feature(index)
            .ok_or_else(not_found)?;
        bytes_response(GEOJSON, feature)
    };
    if let Some(version) = snapshot.version(&id) {
        response.headers_mut().insert(header::ETAG, etag(version));
    }
    audit_reads(
        &state,
        &caller,
        confidential_ids(&snapshot, [index].into_iter()),
        "/v1/providers/{id}",
    )
    .await?;
    Ok(response)
}

/// The `query` member of a hotlines body.
#[derive(Serialize)]
struct HotlineEcho<'a> {
    country: &'a str,
    name: &'a str,
}

async fn hotlines(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let text = value(&params, "country").ok_or_else(|| {
        ApiError::invalid("country", "missing query parameter 'country': an ISO 3166-1 alpha-2 code such as PE, or a country name")
    })?;
    let country = state.gazetteer.country(text.trim()).ok_or_else(|| {
        ApiError::invalid(
            "country",
            format!("'{text}' is not a country; give an ISO 3166-1 alpha-2 code such as US, PE or UA, or an English name"),
        )
    })?;
    let code = country.iso2.as_str();
    let snapshot = state.live.snapshot();
    let view = state.view(&caller);
    let indexes = matching::hotlines_for(&snapshot.directory, code, &view);
    let collection = state.renderer(&snapshot, &view).providers_geojson(
        &indexes,
        Some(&HotlineEcho {
            country: code,
            name: &country.name,
        }),
        None,
        |p| matching::phones_for(p, Some(code), view.role).0,
    );
    let body = bytes_response(GEOJSON, collection);
    audit_reads(
        &state,
        &caller,
        confidential_ids(&snapshot, indexes.iter().copied()),
        "/v1/hotlines",
    )
    .await?;
    Ok(body)
}

async fn vocabulary(State(state): State<AppState>) -> Response {
    let languages: Vec<serde_json::Value> = state
        .gazetteer
        .languages()
        .iter()
        .filter_map(|l| Some(serde_json::json!({"code": l.iso639_1.as_deref()?, "name": l.name})))
        .collect();
    Json(serde_json::json!({
        "issues": state.vocabulary.issues,
        "populations": state.vocabulary.populations,
        "kinds": Kind::ALL.map(Kind::code),
        "languages": languages,
    }))
    .into_response()
}

async fn openapi_document() -> Response {
    Json(openapi::document()).into_response()
}

async fn healthz(State(state): State<AppState>) -> Json<serde_json::Value> {
    let snapshot = state.live.snapshot();
    Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "directory": {
            "providers": snapshot.directory.len(),
            "generation": snapshot.generation,
        },
        "gazetteer": {
            "zips": state.gazetteer.zip_count(),
            "places": state.gazetteer.places().len(),
            "counties": state.gazetteer.counties().len(),
            "countries": state.gazetteer.countries().len(),
        }
    }))
}

async fn geocode(
    State(state): State<AppState>,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let q = required(
        &params,
        "q",
        "the place to geocode, e.g. q=Fresno,%20CA or q=93721",
    )?;
    let found = state
        .gazetteer
        .geocode(q)
        .map_err(|e| geocode_error("q", e))?;
    Ok(Json(found).into_response())
}

async fn reverse(
    State(state): State<AppState>,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let lat = degrees(&params, "lat", "between -90 and 90")?;
    let lon = degrees(&params, "lon", "between -180 and 180")?;
    let point = LatLng::new(lat, lon).map_err(|e| ApiError::invalid(e.field(), e.to_string()))?;
    Ok(Json(state.gazetteer.reverse(point)).into_response())
}

/// Checks a request's query parameters against its endpoint's table
/// ([`openapi::ENDPOINTS`]: the parser's parameters and `format`) before
/// the handler runs: an unknown name, a single-valued parameter given
/// twice or a missing required one is a 400 naming it, on every route. A
/// route without an entry takes no parameters.
async fn checked_parameters(
    matched: Option<axum::extract::MatchedPath>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // axum answers HEAD with the GET handler: the same table applies.
    let method = match *request.method() {
        Method::HEAD => "get",
        ref other => other.as_str(),
    };
    let endpoint = matched
        .as_ref()
        .and_then(|path| openapi::endpoint(method, path.as_str()));
    let table: Vec<matching::ParameterDoc> = endpoint
        .map(|e| e.parameters().copied().collect())
        .unwrap_or_default();
    let checked = Query::<Pairs>::try_from_uri(request.uri())
        .map_err(ApiError::from)
        .and_then(|Query(params)| {
            let params: Vec<(&str, &str)> = pairs(&params).collect();
            crate::model::check_parameters(&params, &table, &[]).map_err(ApiError::from)
        });
    match checked {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

async fn no_route(uri: axum::http::Uri) -> ApiError {
    ApiError::NoRoute(uri.path().to_owned())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Serves `router` on `addr` until Ctrl-C or SIGTERM, then drains in-flight
/// requests and returns.
///
/// # Errors
/// The I/O error when the address cannot be bound or the server fails.
pub async fn serve(addr: SocketAddr, router: Router) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(address = %listener.local_addr()?, "refmatch listening");
    // Connection info gives the per-address rate limits their address.
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
