//! A provider's capacity and hours, set quickly: `PUT
//! /v1/providers/{id}/capacity` (advocate, admin, or a `provider` key
//! bound to the record) and `PUT /v1/providers/{id}/hours` (admin, or a
//! `provider` key bound to the record).
//!
//! Each is an edit like any other: the changed record is validated as
//! ingest validates a row, stored as a new version with its history and
//! audit entries ([`LiveDirectory::modify`]), and answered once
//! `/v1/match` sees it, with its new `ETag`. `If-Match` is optional. A
//! `provider` key reads as the public: its answer holds the record as the
//! public sees it (no capacity, no confidential field).

use super::access::Caller;
use super::edits::{body, expected_version, json_response, write};
use super::{ApiError, AppState};
use crate::cancel::Cancel;
use crate::live::LiveError;
use crate::model::{Availability, Provider, ScheduleError, ServiceCapacity};
use crate::store::Stored;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

/// Longest `hours_note`, in characters.
pub const MAX_HOURS_NOTE_CHARS: usize = 500;

/// The version `If-Match` expects, when one is sent: `None` without the
/// header or for `*`.
fn optional_version(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    if headers.contains_key(header::IF_MATCH) {
        expected_version(headers)
    } else {
        Ok(None)
    }
}

/// A body member at fault: 422 naming it.
fn invalid(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::Invalid {
        field: Some(field.to_owned()),
        detail: detail.into(),
    }
}

/// One entry of a capacity body; the server stamps `updated_at` and
/// `updated_by` (members of those names sent by the client are ignored).
#[derive(Deserialize)]
struct CapacityEntry {
    available: serde_json::Value,
    #[serde(default)]
    maximum: serde_json::Value,
    #[serde(default)]
    unit: Option<String>,
}

/// `{"capacity": [...]}`.
#[derive(Deserialize)]
struct CapacityBody {
    capacity: Vec<CapacityEntry>,
}

/// A count of units: a whole number from 0 to 2³²−1.
fn count(value: &serde_json::Value, field: &str) -> Result<u32, ApiError> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            invalid(
                field,
                format!("{field} must be a whole number of units, 0 or more, got {value}"),
            )
        })
}

/// The capacity a body asks for, stamped with `at` and `by`.
fn read_capacity(
    bytes: &[u8],
    at: jiff::Timestamp,
    by: &str,
) -> Result<Vec<ServiceCapacity>, ApiError> {
    let body: CapacityBody = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::BadBody(format!(
            "the body is not a capacity ({e}); send {{\"capacity\": [{{\"available\": 3, \"maximum\": 12, \"unit\": \"beds\"}}]}}"
        ))
    })?;
    body.capacity
        .iter()
        .enumerate()
        .map(|(n, entry)| {
            let field = |name: &str| format!("capacity[{n}].{name}");
            let available = count(&entry.available, &field("available"))?;
            let maximum = match &entry.maximum {
                serde_json::Value::Null => None,
                other => Some(count(other, &field("maximum"))?),
            };
            let unit = entry.unit.as_deref().unwrap_or_default().trim();
            let capacity = ServiceCapacity {
                available,
                maximum,
                unit: unit.into(),
                updated_at: Some(at),
                updated_by: Some(by.to_owned()),
            };
            capacity.check().map_err(|e| {
                let name = match e {
                    crate::model::CapacityError::Unit(_) => "unit",
                    _ => "available",
                };
                invalid(&field(name), e.to_string())
            })?;
            Ok(capacity)
        })
        .collect()
}

/// The hours a body asks for: the schedule, and the note when the body
/// has one (`Some(None)`: cleared by `null`).
struct HoursChange {
    availability: Availability,
    hours_note: Option<Option<String>>,
}

fn read_hours(bytes: &[u8]) -> Result<HoursChange, ApiError> {
    let bad = |detail: String| {
        ApiError::BadBody(format!(
            "the body is not hours ({detail}); send {{\"opening_hours\": \"Mo-Fr 09:00-17:00\", \"timezone\": \"America/Chicago\", \"hours_note\": \"…\"}}"
        ))
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    let object = value
        .as_object()
        .ok_or_else(|| bad("not a JSON object".to_owned()))?;
    let text = |name: &str| -> Result<Option<&str>, ApiError> {
        match object.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(invalid(name, format!("{name} must be text, got {other}"))),
        }
    };
    let hours = text("opening_hours")?.ok_or_else(|| {
        invalid(
            "opening_hours",
            "opening_hours is missing: give hours such as 'Mo-Fr 09:00-17:00' or '24/7' ('' for unknown)",
        )
    })?;
    let timezone = text("timezone")?.unwrap_or_default();
    let availability = Availability::parse(hours, timezone).map_err(|e| match e {
        ScheduleError::TimeZone(_) if timezone.trim().is_empty() => invalid(
            "timezone",
            "timezone is missing: weekly hours need an IANA time zone such as America/Chicago",
        ),
        ScheduleError::TimeZone(_) => invalid("timezone", e.to_string()),
        ScheduleError::Syntax { .. } => invalid("opening_hours", e.to_string()),
    })?;
    let hours_note = match object.get("hours_note") {
        None => None,
        Some(_) => {
            let note = text("hours_note")?.map(str::trim).filter(|n| !n.is_empty());
            if note.is_some_and(|n| n.chars().count() > MAX_HOURS_NOTE_CHARS) {
                return Err(invalid(
                    "hours_note",
                    format!("hours_note must be at most {MAX_HOURS_NOTE_CHARS} characters"),
                ));
            }
            Some(note.map(str::to_owned))
        }
    };
    Ok(HoursChange {
        availability,
        hours_note,
    })
}

/// The answer to a capacity or hours change: the record (as the public
/// sees it for a `provider` key) with its version and `ETag`.
fn written(caller: &Caller, stored: &Stored) -> Response {
    let record: Provider = if caller.role.sees_confidential() {
        stored.provider.clone()
    } else {
        let mut public = stored.provider.redact_for_public();
        if public.location_confidential {
            // The public never gets a confidential point, not even this
            // way round.
            public.location = None;
        }
        public
    };
    json_response(
        StatusCode::OK,
        &json!({"id": stored.provider.id, "version": stored.version, "record": record}),
        Some(stored.version),
    )
}

/// `PUT /v1/providers/{id}/capacity`: replaces the record's capacity;
/// advocate, admin, or a `provider` key bound to the record (another
/// record → 403). `If-Match` optional.
pub(super) async fn set_capacity(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(cancel): Extension<Cancel>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require_own(&id, false)?;
    let expected = optional_version(&headers)?;
    let bytes = body(raw, super::MAX_BODY_BYTES)?;
    let by = caller
        .key_name
        .clone()
        .unwrap_or_else(|| caller.name.clone());
    let capacity = read_capacity(&bytes, jiff::Timestamp::now(), &by)?;
    let actor = caller.clone();
    let stored = write(&state, &cancel, move |live, cancel| {
        Ok(
            live.modify(&id, expected, &actor.actor(), cancel, |provider| {
                provider.capacity.clone_from(&capacity);
                Ok::<(), LiveError>(())
            })?,
        )
    })
    .await?;
    Ok(written(&caller, &stored))
}

/// `PUT /v1/providers/{id}/hours`: replaces the record's opening hours
/// (and its hours note, when the body has one); admin, or a `provider`
/// key bound to the record. `If-Match` optional.
pub(super) async fn set_hours(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(cancel): Extension<Cancel>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require_own(&id, true)?;
    let expected = optional_version(&headers)?;
    let bytes = body(raw, super::MAX_BODY_BYTES)?;
    let change = read_hours(&bytes)?;
    let actor = caller.clone();
    let stored = write(&state, &cancel, move |live, cancel| {
        Ok(
            live.modify(&id, expected, &actor.actor(), cancel, |provider| {
                provider.availability = change.availability.clone();
                if let Some(note) = &change.hours_note {
                    provider.hours_note.clone_from(note);
                }
                Ok::<(), LiveError>(())
            })?,
        )
    })
    .await?;
    Ok(written(&caller, &stored))
}
