//! Who is calling and how often: API keys, roles and rate limits.
//!
//! A key travels as `Authorization: Bearer <key>` (or `X-Api-Key`). No key
//! means [`Role::Public`]; an unknown key is refused with 401, never
//! treated as public. Every request counts against a token bucket: per key
//! for keyed requests, per client address otherwise; intake submissions
//! also count against a tighter per-address bucket. Over the limit the
//! answer is 429 with `Retry-After`. The console's page and files and
//! `/healthz` are not counted. Keys never reach the logs: the
//! request log records method, path and status only.
//!
//! A key the server has not checked lately is looked up in the store only
//! after its address pays a token of its key-lookup bucket (as many a
//! minute as the public limit), so a flood of made-up keys gets 429
//! without reaching the store; the lookup itself reads through the
//! store's own read connection, never waiting for a write in progress.
//! Every answer that depends on the caller is marked
//! `Cache-Control: private, no-store` with `Vary: Authorization, X-Api-Key`
//! ([`private_answers`]).

use super::{ApiError, AppState};
use crate::model::Role;
use crate::store::Actor;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use rustc_hash::FxHashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

/// Rate limits, in requests per minute; 0 turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    /// Requests without a key, per client address (burst: the same).
    pub public_per_minute: u32,
    /// Requests with a key, per key.
    pub key_per_minute: u32,
    /// `POST /v1/submissions` per client address, per hour.
    pub submissions_per_hour: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            public_per_minute: 300,
            key_per_minute: 6_000,
            submissions_per_hour: 20,
        }
    }
}

/// The caller of a request, as the access layer established it.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// The caller's role.
    pub role: Role,
    /// How the caller is named in the audit log: `key:<name>#<id>` or
    /// `public@<address>`.
    pub name: String,
    /// The client address, when the server knows it.
    pub address: Option<IpAddr>,
    /// The name the key was issued to (`keys create --name`), stamped as
    /// a capacity figure's `updated_by`; `None` for the public.
    pub key_name: Option<String>,
    /// The records a [`Role::Provider`] key may change the capacity and
    /// hours of; empty for every other caller.
    pub records: Vec<String>,
}

impl Caller {
    /// The caller as the store's actor.
    pub fn actor(&self) -> Actor<'_> {
        Actor {
            name: &self.name,
            role: self.role,
        }
    }

    /// Ok when the caller may change the capacity (`hours: false`) or the
    /// hours (`hours: true`) of record `id`: staff may set any record's
    /// capacity and an admin any record's hours; a [`Role::Provider`] key
    /// only its own records'. Else 401 for the public, 403 for a key.
    pub fn require_own(&self, id: &str, hours: bool) -> Result<(), ApiError> {
        let (any, what, roles) = if hours {
            (
                self.role.may_set_any_hours(),
                "setting a record's hours",
                "admin, or a provider key bound to the record",
            )
        } else {
            (
                self.role.may_set_any_capacity(),
                "setting a record's capacity",
                "advocate or admin, or a provider key bound to the record",
            )
        };
        if any || (self.role == Role::Provider && self.records.iter().any(|r| r == id)) {
            return Ok(());
        }
        match self.role {
            Role::Public => Err(ApiError::Unauthorized(format!(
                "{what} needs an API key ({roles}); send it as 'Authorization: Bearer <key>'"
            ))),
            Role::Provider => Err(ApiError::Forbidden(format!(
                "{what}: this provider key may change only its own records ({}), not '{id}'",
                self.records.join(", ")
            ))),
            _ => Err(ApiError::Forbidden(format!(
                "{what} needs {roles}; this key has role {}",
                self.role
            ))),
        }
    }

    /// Ok when the caller has at least `needed`; else 401 for the public
    /// (a key is needed) or 403 (the key's role is not enough).
    pub fn require(&self, needed: Role, what: &str) -> Result<(), ApiError> {
        if self.role >= needed {
            return Ok(());
        }
        if self.role == Role::Public {
            Err(ApiError::Unauthorized(format!(
                "{what} needs an API key with role {needed} or above; send it as 'Authorization: Bearer <key>'"
            )))
        } else {
            Err(ApiError::Forbidden(format!(
                "{what} needs role {needed} or above; this key has role {}",
                self.role
            )))
        }
    }
}

/// Token buckets by caller.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<FxHashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Buckets kept before idle ones are dropped.
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    /// Takes one token from `who`'s bucket of `capacity` tokens refilled
    /// over `period_secs`. `Err(seconds)` when empty: when to retry.
    pub fn take(&self, who: &str, capacity: u32, period_secs: f64) -> Result<(), u64> {
        if capacity == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let capacity = f64::from(capacity);
        let rate = capacity / period_secs;
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(who) {
            buckets.retain(|_, b| now.duration_since(b.updated).as_secs_f64() < period_secs);
        }
        let bucket = buckets.entry(who.to_owned()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

/// The key a request carries, if any.
fn presented_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or_default().trim();
        return match text.split_once(' ') {
            Some((scheme, key))
                if scheme.eq_ignore_ascii_case("bearer") && !key.trim().is_empty() =>
            {
                Ok(Some(key.trim()))
            }
            _ => Err(ApiError::Unauthorized(
                "the Authorization header must be 'Bearer <key>'".to_owned(),
            )),
        };
    }
    Ok(headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty()))
}

/// Takes a token from `address`'s key-lookup bucket (capacity
/// [`RateLimits::public_per_minute`] a minute): each key the server has
/// not checked lately costs one, so one address cannot make the server
/// look up more made-up keys than it could make public requests.
fn check_key_lookup(state: &AppState, address: Option<IpAddr>) -> Result<(), ApiError> {
    let capacity = state.limits.public_per_minute;
    let who = format!(
        "key-lookup@{}",
        address.map_or_else(|| "unknown".to_owned(), |a| a.to_string())
    );
    state
        .limiter
        .take(&who, capacity, 60.0)
        .map_err(|retry_after| ApiError::TooManyRequests {
            retry_after,
            detail: format!(
                "more than {capacity} API keys a minute to check from this address; retry after \
                 {retry_after} s with a valid key"
            ),
        })
}

/// Middleware: establishes the [`Caller`] (401 for an unknown key),
/// applies the rate limits, and hands the caller to the handler as a
/// request extension.
pub(super) async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let caller = match presented_key(request.headers())? {
        None => Caller {
            role: Role::Public,
            name: format!(
                "public@{}",
                address.map_or_else(|| "unknown".to_owned(), |a| a.to_string())
            ),
            address,
            key_name: None,
            records: Vec::new(),
        },
        Some(secret) => {
            // A key seen before is answered from memory, with no hop to the
            // blocking pool; only a new (or unknown) one reads the store.
            let key = match state.live.cached_key(secret) {
                Some(key) => Some(key),
                None => {
                    // Before the store is read, the lookup costs the
                    // address a token: a flood of made-up keys is refused
                    // without touching the store.
                    check_key_lookup(&state, address)?;
                    let live = std::sync::Arc::clone(&state.live);
                    let secret = secret.to_owned();
                    super::blocking("key lookup", move || Ok(live.find_key(&secret)?)).await?
                }
            };
            let key = key.ok_or_else(|| {
                ApiError::Unauthorized(
                    "the API key is not valid; ask an administrator for one (refmatch keys create)"
                        .to_owned(),
                )
            })?;
            Caller {
                role: key.role,
                name: format!("key:{}#{}", key.name, key.id),
                address,
                key_name: Some(key.name),
                records: key.records,
            }
        }
    };
    let limits = state.limits;
    // The console's own files and the health check cost nothing to serve
    // and are not counted: loading the page is a dozen requests.
    let path = request.uri().path();
    let counted = !(path == "/" || path == "/healthz" || path.starts_with("/console/"));
    let capacity = if !counted {
        0
    } else if caller.role == Role::Public {
        limits.public_per_minute
    } else {
        limits.key_per_minute
    };
    state
        .limiter
        .take(&caller.name, capacity, 60.0)
        .map_err(|retry_after| ApiError::TooManyRequests {
            retry_after,
            detail: format!(
                "more than {capacity} requests a minute from this {}; retry after {retry_after} s",
                if caller.role == Role::Public {
                    "address"
                } else {
                    "key"
                }
            ),
        })?;
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

/// Routes whose successful answers are the same for every caller: the
/// console's page and files, its basemap, the health check, the OpenAPI
/// document, the vocabulary and the gazetteer lookups. They keep their
/// own caching; every other answer is private.
fn same_for_every_caller(path: &str) -> bool {
    matches!(
        path,
        "/" | "/healthz"
            | "/openapi.json"
            | "/v1/vocabulary"
            | "/v1/outlines"
            | "/v1/geocode"
            | "/v1/reverse"
    ) || path.starts_with("/console/")
}

/// `Cache-Control` of an answer that depends on its caller.
pub const PRIVATE_CACHE_CONTROL: &str = "private, no-store";

/// `Vary` of an answer that depends on its caller: the headers that carry
/// a key.
pub const PRIVATE_VARY: &str = "Authorization, X-Api-Key";

/// Middleware: every answer that may depend on who asked (its role, its
/// key, its address's limits) carries `Cache-Control: private, no-store`
/// and `Vary: Authorization, X-Api-Key`, so no shared cache keeps a
/// staff answer for the public, nor stores one at all. Only the
/// successful answers of `same_for_every_caller` routes are left as
/// they are; an error is private everywhere (a 401 or 429 is about its
/// caller). A new route is private unless added to that list.
pub async fn private_answers(request: Request, next: Next) -> Response {
    let shared = same_for_every_caller(request.uri().path());
    let mut response = next.run(request).await;
    let status = response.status();
    if shared && (status.is_success() || status == axum::http::StatusCode::NOT_MODIFIED) {
        return response;
    }
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(PRIVATE_CACHE_CONTROL),
    );
    headers.append(header::VARY, header::HeaderValue::from_static(PRIVATE_VARY));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refuses_past_capacity_and_says_when_to_retry() {
        let limiter = RateLimiter::default();
        for _ in 0..3 {
            assert_eq!(limiter.take("a", 3, 60.0), Ok(()));
        }
        let retry = limiter.take("a", 3, 60.0).unwrap_err();
        assert!((1..=20).contains(&retry), "retry after {retry}");
        // Another caller has its own bucket; 0 is no limit.
        assert_eq!(limiter.take("b", 3, 60.0), Ok(()));
        for _ in 0..1000 {
            assert_eq!(limiter.take("c", 0, 60.0), Ok(()));
        }
    }
}
