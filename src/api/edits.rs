//! The live directory over HTTP: record edits with optimistic concurrency,
//! imports, intake submissions, history and the audit log.
//!
//! Each handler checks the caller's role, hands the body to
//! [`LiveDirectory`] on a blocking thread and serialises the outcome. A
//! write is answered once it is committed and visible to `/v1/match`.

use super::access::Caller;
use super::heavy::{self, Heavy};
use super::{etag, value, ApiError, AppState, Pairs, JSON};
use crate::cancel::Cancel;
use crate::ingest::Format;
use crate::live::LiveDirectory;
use crate::model::Role;
use crate::store::SubmissionStatus;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

/// Most audit entries one request returns.
pub const MAX_AUDIT_PAGE: usize = 1000;

/// Runs `work` with the live directory on the blocking pool.
pub(super) async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&LiveDirectory) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let live = Arc::clone(&state.live);
    super::blocking("live directory", move || work(&live)).await
}

/// Runs the write `work` with the live directory and the request's
/// `cancel` on the blocking pool. The write claims `cancel` before its
/// transaction, so it is either committed and answered, or cancelled
/// (by the deadline or a closed connection) and not stored.
pub(super) async fn write<T: Send + 'static>(
    state: &AppState,
    cancel: &Cancel,
    work: impl FnOnce(&LiveDirectory, &Cancel) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let live = Arc::clone(&state.live);
    let cancel = cancel.clone();
    super::blocking("live directory", move || {
        cancel.check()?;
        work(&live, &cancel)
    })
    .await
}

/// The body, or the problem of reading it.
pub(super) fn body(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge { limit }
        } else {
            ApiError::BadBody(format!(
                "the body could not be read: {}",
                rejection.body_text()
            ))
        }
    })
}

/// The version `If-Match` expects: `None` for `*`. Missing → 428.
pub(super) fn expected_version(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let value = headers
        .get(header::IF_MATCH)
        .ok_or(ApiError::PreconditionRequired)?;
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    text.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<u64>()
        .map(Some)
        .map_err(|_| {
            ApiError::invalid(
                "If-Match",
                format!("If-Match must be the ETag of GET /v1/providers/{{id}} (like \"3\") or *, got '{text}'"),
            )
        })
}

/// A JSON answer with a status and, for a record, its `ETag`.
pub(super) fn json_response(
    status: StatusCode,
    body: &serde_json::Value,
    version: Option<u64>,
) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, JSON)],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response();
    if let Some(version) = version {
        response.headers_mut().insert(header::ETAG, etag(version));
    }
    response
}

/// `POST /v1/providers` (admin): creates a record.
pub(super) async fn create_provider(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(cancel): Extension<Cancel>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Role::Admin, "creating a record")?;
    let bytes = body(raw, super::MAX_BODY_BYTES)?;
    let stored = write(&state, &cancel, move |live, cancel| {
        let provider = live.validate(&bytes, None)?;
        Ok(live.create(&provider, &caller.actor(), cancel)?)
    })
    .await?;
    let mut response = json_response(
        StatusCode::CREATED,
        &json!({"id": stored.provider.id, "version": stored.version, "record": stored.provider}),
        Some(stored.version),
    );
    if let Ok(location) =
        header::HeaderValue::from_str(&format!("/v1/providers/{}", stored.provider.id))
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `PUT /v1/providers/{id}` (admin): replaces a record; needs `If-Match`.
pub(super) async fn update_provider(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(cancel): Extension<Cancel>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Role::Admin, "changing a record")?;
    let expected = expected_version(&headers)?;
    let bytes = body(raw, super::MAX_BODY_BYTES)?;
    let stored = write(&state, &cancel, move |live, cancel| {
        let provider = live.validate(&bytes, Some(&id))?;
        Ok(live.update(&provider, expected, &caller.actor(), cancel)?)
    })
    .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"id": stored.provider.id, "version": stored.version, "record": stored.provider}),
        Some(stored.version),
    ))
}

/// `DELETE /v1/providers/{id}` (admin): soft delete; needs `If-Match`.
pub(super) async fn delete_provider(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(cancel): Extension<Cancel>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require(Role::Admin, "deleting a record")?;
    let expected = expected_version(&headers)?;
    let stored = write(&state, &cancel, move |live, cancel| {
        Ok(live.delete(&id, expected, &caller.actor(), cancel)?)
    })
    .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"id": stored.provider.id, "version": stored.version, "active": false}),
        Some(stored.version),
    ))
}

/// `GET /v1/providers/{id}/history` (advocate): every version.
pub(super) async fn history(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Role::Advocate, "a record's history")?;
    let (entries, confidential) = blocking(&state, move |live| {
        let entries = live.history(&id)?;
        if entries.is_empty() {
            return Err(ApiError::NotFound {
                detail: format!("no record has ever had id '{id}'"),
                suggestions: Vec::new(),
            });
        }
        // Every version is shown whole: audited when any shows
        // confidential data (see `body::shows_confidential`).
        let confidential = entries.iter().any(|e| {
            [&e.before, &e.after]
                .into_iter()
                .flatten()
                .any(crate::render::body::shows_confidential)
        });
        if confidential {
            live.record_reads(
                &caller.actor(),
                &[id.as_str()],
                "/v1/providers/{id}/history",
            )?;
        }
        Ok((entries, confidential))
    })
    .await?;
    let id = entries.first().map(|e| e.provider_id.clone());
    Ok(json_response(
        StatusCode::OK,
        &json!({"id": id, "confidential": confidential, "entries": entries}),
        None,
    ))
}

/// The format of an import: `?format=`, else the `Content-Type`.
fn import_format(params: &Pairs, headers: &HeaderMap) -> Result<Format, ApiError> {
    let named = value(params, "format").map(|v| v.trim().to_ascii_lowercase());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    let format = match (named.as_deref(), content_type.as_deref()) {
        (Some("csv"), _) | (None, Some("text/csv")) => Format::Csv,
        (Some("json" | "hsds"), _) | (None, Some("application/json")) => Format::Json,
        (Some("ndjson"), _) | (None, Some("application/x-ndjson")) => Format::Ndjson,
        (Some("geojson"), _) | (None, Some("application/geo+json")) => Format::GeoJson,
        (Some(other), _) => {
            return Err(ApiError::invalid(
                "format",
                format!("format must be csv, json, hsds, ndjson or geojson, got '{other}'"),
            ))
        }
        (None, other) => {
            return Err(ApiError::BadBody(format!(
                "say what the file is: Content-Type text/csv, application/json (records or HSDS), application/x-ndjson or application/geo+json, or ?format=; got {}",
                other.unwrap_or("no Content-Type")
            )))
        }
    };
    Ok(format)
}

/// `POST /v1/imports` (admin): a CSV, JSON, NDJSON, GeoJSON or HSDS file.
pub(super) async fn import(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(cancel): Extension<Cancel>,
    headers: HeaderMap,
    params: Result<Query<Pairs>, QueryRejection>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Role::Admin, "importing records")?;
    let Query(params) = params?;
    let format = import_format(&params, &headers)?;
    let bytes = body(raw, super::MAX_IMPORT_BYTES)?;
    let live = Arc::clone(&state.live);
    let report = heavy::run(&state, Heavy::Import, &cancel, move |cancel| {
        Ok(live.import("import", format, &bytes, &caller.actor(), cancel)?)
    })
    .await?;
    Ok(json_response(StatusCode::OK, &json!(report), None))
}

/// `POST /v1/submissions` (anyone; rate-limited per address): asks for a
/// record to be added. It waits in the queue until an advocate decides.
pub(super) async fn submit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(cancel): Extension<Cancel>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let limit = state.limits.submissions_per_hour;
    state
        .limiter
        .take(&format!("submit:{}", caller.name), limit, 3600.0)
        .map_err(|retry_after| ApiError::TooManyRequests {
            retry_after,
            detail: format!(
                "more than {limit} submissions an hour from this address; retry after {retry_after} s"
            ),
        })?;
    let bytes = body(raw, super::MAX_BODY_BYTES)?;
    let submission = write(&state, &cancel, move |live, cancel| {
        let record = live.validate(&bytes, None)?;
        Ok(live.submit(&record, &caller.actor(), cancel)?)
    })
    .await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &json!({
            "id": submission.id,
            "status": submission.status,
            "received_at": submission.received_at,
            "detail": "received; an advocate will review it",
        }),
        None,
    ))
}

/// `GET /v1/submissions?status=pending|approved|rejected` (advocate).
pub(super) async fn list_submissions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(Role::Advocate, "the submission queue")?;
    let Query(params) = params?;
    let status = value(&params, "status")
        .map(|text| {
            SubmissionStatus::parse(text).ok_or_else(|| {
                ApiError::invalid(
                    "status",
                    format!("status must be pending, approved or rejected, got '{text}'"),
                )
            })
        })
        .transpose()?;
    let submissions = blocking(&state, move |live| Ok(live.submissions(status)?)).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"count": submissions.len(), "submissions": submissions}),
        None,
    ))
}

fn submission_id(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>().map_err(|_| ApiError::NotFound {
        detail: format!(
            "no submission has id '{text}'; ids are whole numbers from GET /v1/submissions"
        ),
        suggestions: Vec::new(),
    })
}

/// `POST /v1/submissions/{id}/approve` (advocate): the record is created.
pub(super) async fn approve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(cancel): Extension<Cancel>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Role::Advocate, "approving a submission")?;
    let id = submission_id(&id)?;
    let (submission, stored) = write(&state, &cancel, move |live, cancel| {
        Ok(live.approve(id, &caller.actor(), cancel)?)
    })
    .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"submission": submission, "provider_id": stored.provider.id, "version": stored.version}),
        Some(stored.version),
    ))
}

/// `POST /v1/submissions/{id}/reject` (advocate), body `{"reason": "…"}`.
pub(super) async fn reject(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(cancel): Extension<Cancel>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Role::Advocate, "rejecting a submission")?;
    let id = submission_id(&id)?;
    let bytes = body(raw, super::MAX_BODY_BYTES)?;
    let reason = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("reason")?.as_str().map(str::trim).map(str::to_owned))
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ApiError::Invalid {
            field: Some("reason".to_owned()),
            detail: "send {\"reason\": \"…\"} saying why the submission is rejected".to_owned(),
        })?;
    let submission = write(&state, &cancel, move |live, cancel| {
        Ok(live.reject(id, &reason, &caller.actor(), cancel)?)
    })
    .await?;
    Ok(json_response(StatusCode::OK, &json!(submission), None))
}

/// `GET /v1/audit?after=&limit=` (admin): the audit log, oldest first.
pub(super) async fn audit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(Role::Admin, "the audit log")?;
    let Query(params) = params?;
    let after: u64 = match value(&params, "after") {
        None => 0,
        Some(text) => text.trim().parse().map_err(|_| {
            ApiError::invalid(
                "after",
                format!("after must be an audit seq number, got '{text}'"),
            )
        })?,
    };
    let limit: usize = match value(&params, "limit") {
        None => 100,
        Some(text) => text
            .trim()
            .parse()
            .ok()
            .filter(|l| (1..=MAX_AUDIT_PAGE).contains(l))
            .ok_or_else(|| {
                ApiError::invalid(
                    "limit",
                    format!(
                        "limit must be a whole number from 1 to {MAX_AUDIT_PAGE}, got '{text}'"
                    ),
                )
            })?,
    };
    let entries = blocking(&state, move |live| Ok(live.audit(after, limit)?)).await?;
    let next_after = (entries.len() == limit)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(json_response(
        StatusCode::OK,
        &json!({"entries": entries, "next_after": next_after}),
        None,
    ))
}
