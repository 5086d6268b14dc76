//! Every error leaves as `application/problem+json`, also those made
//! outside the handlers.
//!
//! Two middlewares:
//! - [`bound_request_head`] refuses a URI longer than [`MAX_URI_BYTES`]
//!   (414) and headers larger than [`MAX_HEADER_BYTES`] or more than
//!   [`MAX_HEADERS`] of them (431), with our problem body, before anything
//!   else reads the request. The limits sit well under hyper's own (a URI
//!   of 64 KiB, 100 headers, about 400 KiB of request head), which hyper
//!   answers itself with a bare status and no body; so every request
//!   between our limits and hyper's gets a problem document, and only a
//!   request past hyper's (or a request line that is not valid HTTP, such
//!   as raw non-ASCII bytes in the path) gets hyper's bare answer.
//! - [`problems_only`] rewrites every error answer that is not already a
//!   problem document (the request timeout's 408, axum's own rejection of a
//!   path parameter that is not UTF-8 once percent-decoded, any layer's
//!   bare status) into one with the same status, keeping its other
//!   headers.

use super::ApiError;
use axum::extract::Request;
use axum::http::{header, HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Longest URI accepted (path and query), in bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Most header bytes accepted (names, values and 4 bytes of separators per
/// header).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Most headers accepted.
pub const MAX_HEADERS: usize = 64;

/// Middleware: 414 for a URI over [`MAX_URI_BYTES`], 431 for headers over
/// [`MAX_HEADER_BYTES`] or [`MAX_HEADERS`].
pub async fn bound_request_head(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let length = uri.path_and_query().map_or(0, |pq| pq.as_str().len())
        + uri.authority().map_or(0, |a| a.as_str().len());
    if length > MAX_URI_BYTES {
        return ApiError::UriTooLong { length }.into_response();
    }
    let headers = request.headers();
    if headers.len() > MAX_HEADERS {
        return ApiError::HeadersTooLarge(format!(
            "the request has {} headers; at most {MAX_HEADERS} are accepted",
            headers.len()
        ))
        .into_response();
    }
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if bytes > MAX_HEADER_BYTES {
        return ApiError::HeadersTooLarge(format!(
            "the request's headers take {bytes} bytes; at most {MAX_HEADER_BYTES} are accepted \
             (send a shorter cookie or fewer headers)"
        ))
        .into_response();
    }
    next.run(request).await
}

/// True when `response` is already a problem document.
fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"))
}

/// Middleware: an error answer (4xx, 5xx) that is not a problem document
/// becomes one, with the same status and its other headers.
pub async fn problems_only(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    // What the layer said, when it is short plain text (axum's rejections
    // are): it names the problem. Never for a compressed body.
    let said = if parts.headers.contains_key(header::CONTENT_ENCODING) {
        String::new()
    } else {
        match axum::body::to_bytes(body, 2048).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes)
                .trim()
                .chars()
                .take(300)
                .collect(),
            Err(_) => String::new(),
        }
    };
    let error = if status == StatusCode::REQUEST_TIMEOUT {
        ApiError::TimedOut
    } else {
        ApiError::Refused {
            status,
            detail: refusal(status, &said),
        }
    };
    let mut fresh = error.into_response();
    let own: Vec<HeaderName> = fresh.headers().keys().cloned().collect();
    for (name, value) in &parts.headers {
        let body_header = [
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CONTENT_ENCODING,
        ]
        .contains(name);
        if !body_header && !own.contains(name) {
            fresh.headers_mut().append(name.clone(), value.clone());
        }
    }
    fresh
}

/// The detail of a bare error answer with status `status`; `said` is what
/// its body said, if anything.
fn refusal(status: StatusCode, said: &str) -> String {
    let what = match status {
        StatusCode::BAD_REQUEST => {
            "the request could not be read; percent-encode the path and the query as UTF-8"
        }
        StatusCode::NOT_FOUND => "no such route; /openapi.json lists the endpoints",
        StatusCode::METHOD_NOT_ALLOWED => {
            "method not allowed here; /openapi.json lists the methods of each endpoint"
        }
        StatusCode::PAYLOAD_TOO_LARGE => "the body is too large for this endpoint; send less",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "the body's Content-Type is not one this endpoint takes"
        }
        _ if status.is_server_error() => "the server failed; its log has the details",
        _ => status
            .canonical_reason()
            .unwrap_or("the request was refused"),
    };
    if said.is_empty() || status.is_server_error() {
        what.to_owned()
    } else {
        format!("{what} ({said})")
    }
}
