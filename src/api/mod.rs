//! The HTTP API (axum on tokio). Handlers only parse, call the library and
//! serialise; every error leaves as `application/problem+json` (RFC 9457)
//! whose `detail` says what to fix.
//!
//! Routes (all `GET`; [`openapi::ENDPOINTS`] documents each and
//! `/openapi.json` serves the OpenAPI 3.1 document built from it):
//! `/healthz`, `/v1/match`, `/v1/providers`, `/v1/providers/{id}`,
//! `/v1/hotlines`, `/v1/vocabulary`, `/v1/geocode`, `/v1/reverse`,
//! `/v1/coverage`, `/v1/coverage/suggest`, `/openapi.json`. GeoJSON bodies
//! follow RFC 7946: `[lon, lat]` degrees, `Content-Type: application/geo+json`.

pub mod body;
mod coverage;
pub mod openapi;

use crate::gazetteer::{Gazetteer, GeocodeError};
use crate::index::Directory;
use crate::matching::{self, ListQuery, MatchError, Matcher, QueryError};
use crate::model::{Kind, LatLng, Vocabulary};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Longest time a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Shared, read-only state of the server.
#[derive(Clone)]
pub struct AppState {
    /// The gazetteer used for geocoding.
    pub gazetteer: Arc<Gazetteer>,
    /// The indexed directory being served.
    pub directory: Arc<Directory>,
    /// Issue and population codes.
    pub vocabulary: Arc<Vocabulary>,
}

impl AppState {
    /// A matcher over this state's snapshot.
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher {
            gazetteer: &self.gazetteer,
            directory: &self.directory,
            vocabulary: &self.vocabulary,
        }
    }
}

/// Server settings that are not data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouterOptions {
    /// Origins allowed to call the API from a browser (CORS), e.g.
    /// `https://dashboard.example.org`; `*` allows any. Empty: no CORS
    /// headers, so browsers allow only same-origin calls.
    pub cors_origins: Vec<String>,
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
    #[error("method not allowed; this endpoint answers GET")]
    MethodNotAllowed,
    /// A bug on our side (500); details are logged, never sent.
    #[error("internal error; the server log has the details")]
    Internal,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidParameter { .. } | ApiError::BadQueryString(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::NotFound { .. } | ApiError::NoRoute(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            ApiError::InvalidParameter { .. } => "invalid-parameter",
            ApiError::BadQueryString(_) => "bad-query-string",
            ApiError::NotFound { .. } => "not-found",
            ApiError::NoRoute(_) => "no-route",
            ApiError::MethodNotAllowed => "method-not-allowed",
            ApiError::Internal => "internal",
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
                ApiError::InvalidParameter { parameter, .. } => Some(parameter.clone()),
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
        (
            self.status(),
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
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
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi_document))
        .route("/v1/match", get(match_providers))
        .route("/v1/providers", get(list_providers))
        .route("/v1/providers/{id}", get(one_provider))
        .route("/v1/hotlines", get(hotlines))
        .route("/v1/vocabulary", get(vocabulary))
        .route("/v1/geocode", get(geocode))
        .route("/v1/reverse", get(reverse))
        .route("/v1/coverage", get(coverage::report))
        .route("/v1/coverage/suggest", get(coverage::suggest))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    let router = match cors(&options.cors_origins) {
        Some(layer) => router.layer(layer),
        None => router,
    };
    router.layer(
        TraceLayer::new_for_http()
            .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
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
            .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
            .max_age(Duration::from_secs(3600)),
    )
}

/// Query parameters in order, repeats kept.
type Pairs = Vec<(String, String)>;

fn pairs(params: &Pairs) -> impl Iterator<Item = (&str, &str)> {
    params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// Body formats of the listing endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    GeoJson,
    Json,
}

fn format(params: &Pairs) -> Result<Format, ApiError> {
    match params.iter().rev().find(|(k, _)| k == "format") {
        None => Ok(Format::GeoJson),
        Some((_, v)) => match v.trim() {
            "geojson" => Ok(Format::GeoJson),
            "json" => Ok(Format::Json),
            other => Err(ApiError::invalid(
                "format",
                format!("format must be geojson or json, got '{other}'"),
            )),
        },
    }
}

/// Serialises `body` with `content_type`.
fn body_response(content_type: &'static str, body: &impl Serialize) -> Result<Response, ApiError> {
    match serde_json::to_vec(body) {
        Ok(bytes) => Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response()),
        Err(error) => {
            tracing::error!(%error, "serialising a response");
            Err(ApiError::Internal)
        }
    }
}

const GEOJSON: &str = "application/geo+json";
const JSON: &str = "application/json";

async fn match_providers(
    State(state): State<AppState>,
    params: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let format = format(&params)?;
    let matcher = state.matcher();
    let query = matching::Query::parse(pairs(&params), &["format"], &matcher.terms())?;
    let response = matcher.run(&query)?;
    match format {
        Format::GeoJson => {
            body_response(GEOJSON, &body::match_geojson(&response, &state.directory))
        }
        Format::Json => body_response(JSON, &body::match_json(&response, &state.directory)),
    }
}

async fn list_providers(
    State(state): State<AppState>,
    params: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let query = ListQuery::parse(pairs(&params), &[], &state.matcher().terms())?;
    let page = matching::list(&state.directory, &state.vocabulary, &query)?;
    let collection = body::providers_geojson(
        &state.directory,
        &page.indexes,
        None::<()>,
        Some(&page),
        |p| p.phones.iter().collect(),
    );
    body_response(GEOJSON, &collection)
}

async fn one_provider(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    match state.directory.get(&id) {
        Some(provider) => body_response(GEOJSON, &body::provider_feature(provider)),
        None => Err(ApiError::NotFound {
            detail: format!("no provider has id '{id}'; ids come from /v1/match or /v1/providers"),
            suggestions: Vec::new(),
        }),
    }
}

/// The `query` member of a hotlines body.
#[derive(Serialize)]
struct HotlineEcho<'a> {
    country: &'a str,
    name: &'a str,
}

async fn hotlines(
    State(state): State<AppState>,
    params: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let mut wanted = None;
    for (name, value) in pairs(&params) {
        match name {
            "country" => wanted = Some(value),
            other => {
                return Err(ApiError::invalid(
                    other,
                    format!("unknown parameter '{other}'; known: country"),
                ))
            }
        }
    }
    let text = wanted.ok_or_else(|| {
        ApiError::invalid("country", "missing query parameter 'country': an ISO 3166-1 alpha-2 code such as PE, or a country name")
    })?;
    let country = state.gazetteer.country(text.trim()).ok_or_else(|| {
        ApiError::invalid(
            "country",
            format!("'{text}' is not a country; give an ISO 3166-1 alpha-2 code such as US, PE or UA, or an English name"),
        )
    })?;
    let code = country.iso2.as_str();
    let indexes = matching::hotlines_for(&state.directory, code);
    let collection = body::providers_geojson(
        &state.directory,
        &indexes,
        Some(HotlineEcho {
            country: code,
            name: &country.name,
        }),
        None,
        |p| matching::phones_for(p, Some(code)).0,
    );
    body_response(GEOJSON, &collection)
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
    Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "directory": {
            "providers": state.directory.len(),
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
    let point = LatLng::new(lat, lon).map_err(|e| {
        let parameter = match e {
            crate::model::LatLngError::LonOutOfRange(_) => "lon",
            crate::model::LatLngError::NotFinite { axis, .. } => axis,
            crate::model::LatLngError::LatOutOfRange(_) => "lat",
        };
        ApiError::invalid(parameter, e.to_string())
    })?;
    Ok(Json(state.gazetteer.reverse(point)).into_response())
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
    axum::serve(listener, router)
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
