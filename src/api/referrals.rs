//! Referral records over HTTP (staff only: no key → 401, a key whose role
//! is below advocate → 403): `POST /v1/referrals`, `GET /v1/referrals`
//! (the shift views), `GET /v1/referrals/{id}`,
//! `POST /v1/referrals/{id}/status` and `POST /v1/referrals/{id}/notes`.
//!
//! Bodies are read member by member so that every problem names its field
//! (400 for a body that is not a JSON object, 422 for a member that is
//! wrong). Unknown members are refused: nothing about the caller beyond
//! the documented need codes can be stored by accident. The caller's place
//! is reduced to a region before anything is stored
//! ([`crate::live::region_key`]); the place text itself is never kept.

use super::access::Caller;
use super::edits::{blocking as read, write};
use super::{value, ApiError, AppState, Pairs, JSON};
use crate::cancel::Cancel;
use crate::model::referral::{
    DeclineReason, Method, NewReferral, Referral, ReferralQuery, ReferralView, Status, StatusChange,
};
use crate::model::{LatLng, QueryError, Role, TermResolver};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// Most referrals one page of `GET /v1/referrals` holds.
pub const MAX_REFERRAL_PAGE: usize = 500;

/// Referrals a page holds unless `limit` says otherwise.
pub const DEFAULT_REFERRAL_PAGE: usize = 50;

/// Longest note, characters.
pub const MAX_NOTE_CHARS: usize = 2000;

/// The parameters of `GET /v1/referrals`.
pub const LIST_PARAMETERS: &[crate::model::ParameterDoc] = &[
    crate::model::ParameterDoc::one("view", "string", "mine (open referrals made with this key), due (open, follow_up_due today or earlier, UTC), open (sent or accepted) or all (default)."),
    crate::model::ParameterDoc::one("provider", "string", "Only referrals to this provider id."),
    crate::model::ParameterDoc::one("limit", "integer", "Most referrals, 1 to 500 (default 50); newest first."),
    crate::model::ParameterDoc::one("cursor", "string", "The next member of the previous page."),
];

/// Staff only: 401 without a key, 403 for a key whose role is below
/// advocate (a public or provider key).
fn require_staff(caller: &Caller, what: &str) -> Result<(), ApiError> {
    if caller.role >= Role::Advocate {
        return Ok(());
    }
    if caller.name.starts_with("key:") {
        return Err(ApiError::Forbidden(format!(
            "{what} needs role advocate or admin; this key has role {}",
            caller.role.code()
        )));
    }
    caller.require(Role::Advocate, what)
}

fn invalid(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::Invalid {
        field: Some(field.to_owned()),
        detail: detail.into(),
    }
}

/// The body as a JSON object whose members are all in `known`.
fn object(
    raw: Result<Bytes, BytesRejection>,
    known: &[&str],
) -> Result<Map<String, Value>, ApiError> {
    let bytes = raw.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge {
                limit: super::MAX_BODY_BYTES,
            }
        } else {
            ApiError::BadBody(format!(
                "the body could not be read: {}",
                rejection.body_text()
            ))
        }
    })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::BadBody(format!("the body is not JSON ({e}); send a JSON object"))
    })?;
    let Value::Object(map) = value else {
        return Err(ApiError::BadBody(
            "the body must be a JSON object".to_owned(),
        ));
    };
    if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(invalid(
            unknown,
            format!(
                "'{unknown}' is not a member of this body (nothing identifying the caller is \
                 stored); the members are {}",
                known.join(", ")
            ),
        ));
    }
    Ok(map)
}

fn text_member<'a>(map: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ApiError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.as_str())),
        Some(_) => Err(invalid(name, format!("{name} must be a string"))),
    }
}

fn note_member(map: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    let Some(text) = text_member(map, name)? else {
        return Ok(None);
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let chars = text.chars().count();
    if chars > MAX_NOTE_CHARS {
        return Err(invalid(
            name,
            format!("{name} is {chars} characters long; at most {MAX_NOTE_CHARS} are kept"),
        ));
    }
    Ok(Some(text.to_owned()))
}

fn date_member(
    map: &Map<String, Value>,
    name: &str,
) -> Result<Option<jiff::civil::Date>, ApiError> {
    let Some(text) = text_member(map, name)? else {
        return Ok(None);
    };
    text.trim().parse().map(Some).map_err(|_| {
        invalid(
            name,
            format!("{name} must be a calendar date YYYY-MM-DD, got '{text}'"),
        )
    })
}

/// A list of codes, each checked by `check`.
fn codes(
    map: &Map<String, Value>,
    name: &str,
    check: impl Fn(&str) -> Result<String, QueryError>,
) -> Result<Vec<String>, ApiError> {
    let items = match map.get(name) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(invalid(
                name,
                format!("{name} must be an array of codes, e.g. [\"es\"]"),
            ))
        }
    };
    if items.len() > crate::model::MAX_VALUES {
        return Err(invalid(
            name,
            format!(
                "{name} has {} codes; at most {} are kept",
                items.len(),
                crate::model::MAX_VALUES
            ),
        ));
    }
    let mut out = Vec::new();
    for item in items {
        let Value::String(text) = item else {
            return Err(invalid(name, format!("{name} must be an array of strings")));
        };
        let code = check(text).map_err(|e| invalid(name, e.detail))?;
        if !out.contains(&code) {
            out.push(code);
        }
    }
    Ok(out)
}

/// The caller's region from `place`: a text place (geocoded) or
/// `{"lat", "lon"}` (reverse geocoded). Only the region is returned.
fn place_region(state: &AppState, place: Option<&Value>) -> Result<String, ApiError> {
    const HOW: &str =
        "place must be a place text such as \"Fresno, CA\" or {\"lat\": 36.7, \"lon\": -119.8}";
    match place {
        Some(Value::String(text)) => {
            let found = state
                .gazetteer
                .geocode(text)
                .map_err(|e| invalid("place", format!("{e}; {HOW}")))?;
            let best = &found.best;
            Ok(crate::live::region_key(
                Some(best.point),
                best.precision,
                best.country.as_deref(),
                best.region.as_deref(),
                best.county_fips.as_deref(),
            ))
        }
        Some(Value::Object(point)) => {
            let number = |axis: &str| point.get(axis).and_then(Value::as_f64);
            let (Some(lat), Some(lon)) = (number("lat"), number("lon")) else {
                return Err(invalid("place", HOW));
            };
            if point.len() != 2 {
                return Err(invalid("place", HOW));
            }
            let point = LatLng::new(lat, lon).map_err(|e| invalid("place", e.to_string()))?;
            Ok(crate::live::region_of_point(&state.gazetteer, point))
        }
        None | Some(Value::Null) => Err(invalid("place", format!("place is missing: {HOW}"))),
        Some(_) => Err(invalid("place", HOW)),
    }
}

/// Reads and validates the body of `POST /v1/referrals`.
fn new_referral(
    state: &AppState,
    raw: Result<Bytes, BytesRejection>,
) -> Result<NewReferral, ApiError> {
    let map = object(
        raw,
        &[
            "provider_id",
            "method",
            "consent",
            "place",
            "issue",
            "language",
            "population",
            "follow_up_due",
            "note",
        ],
    )?;
    let provider_id = text_member(&map, "provider_id")?
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            invalid(
                "provider_id",
                "provider_id is missing: the id of a match result",
            )
        })?;
    let snapshot = state.live.snapshot();
    let provider = snapshot
        .directory
        .index_of(provider_id)
        .and_then(|i| snapshot.directory.provider(i))
        .ok_or_else(|| {
            invalid(
                "provider_id",
                format!("no active provider has id '{provider_id}'; ids come from /v1/match"),
            )
        })?;
    let method_text = text_member(&map, "method")?.unwrap_or_default();
    let method = Method::parse(method_text).ok_or_else(|| {
        invalid(
            "method",
            format!(
                "method must be one of {}, got '{method_text}'",
                Method::ALL.map(Method::code).join(", ")
            ),
        )
    })?;
    let consent = match map.get("consent") {
        Some(Value::Bool(consent)) => *consent,
        _ => return Err(invalid(
            "consent",
            "consent must be true or false: did the caller agree to their details being passed on?",
        )),
    };
    if !consent && method.needs_consent() {
        return Err(invalid(
            "consent",
            format!(
                "method {} passes the caller to the provider and needs the caller's consent; without it, use information_given",
                method.code()
            ),
        ));
    }
    let region = place_region(state, map.get("place"))?;
    let terms = state.terms();
    Ok(NewReferral {
        provider_id: provider.id.to_string(),
        provider_name: provider.name.to_string(),
        method,
        consent,
        region,
        issue: codes(&map, "issue", |t| terms.issue(t))?,
        language: codes(&map, "language", |t| terms.language(t))?,
        population: codes(&map, "population", |t| terms.population(t))?,
        follow_up_due: date_member(&map, "follow_up_due")?,
        note: note_member(&map, "note")?,
    })
}

/// Reads and validates the body of `POST /v1/referrals/{id}/status`.
fn status_change(raw: Result<Bytes, BytesRejection>) -> Result<StatusChange, ApiError> {
    let map = object(raw, &["status", "reason", "note", "follow_up_due"])?;
    let status_text = text_member(&map, "status")?.unwrap_or_default();
    let to = Status::parse(status_text).ok_or_else(|| {
        invalid(
            "status",
            format!(
                "status must be one of {}, got '{status_text}'",
                Status::ALL.map(Status::code).join(", ")
            ),
        )
    })?;
    let reason = match text_member(&map, "reason")? {
        None => None,
        Some(text) => Some(DeclineReason::parse(text).ok_or_else(|| {
            invalid(
                "reason",
                format!(
                    "reason must be one of {}, got '{text}'",
                    DeclineReason::ALL.map(DeclineReason::code).join(", ")
                ),
            )
        })?),
    };
    match (to, reason) {
        (Status::Declined, None) => {
            return Err(invalid(
                "reason",
                format!(
                    "a decline needs its reason: one of {}",
                    DeclineReason::ALL.map(DeclineReason::code).join(", ")
                ),
            ))
        }
        (other, Some(_)) if other != Status::Declined => {
            return Err(invalid(
                "reason",
                "reason is only for status declined; leave it out",
            ))
        }
        _ => {}
    }
    Ok(StatusChange {
        to,
        reason,
        note: note_member(&map, "note")?,
        follow_up_due: date_member(&map, "follow_up_due")?,
    })
}

/// The referral id of a path.
fn referral_id(text: &str) -> Result<u64, ApiError> {
    text.parse().map_err(|_| ApiError::NotFound {
        detail: format!("no referral has id '{text}'; ids are whole numbers from POST /v1/referrals or GET /v1/referrals"),
        suggestions: Vec::new(),
    })
}

fn referral_response(status: StatusCode, referral: &Referral) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(referral).map_err(|error| {
        tracing::error!(%error, "serialising a referral");
        ApiError::Internal
    })?;
    Ok((status, [(header::CONTENT_TYPE, JSON)], body).into_response())
}

/// `POST /v1/referrals` (staff): records a referral made from a match.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(cancel): Extension<Cancel>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_staff(&caller, "recording a referral")?;
    let new = new_referral(&state, raw)?;
    let referral = write(&state, &cancel, move |live, cancel| {
        Ok(live.create_referral(&new, &caller.actor(), cancel)?)
    })
    .await?;
    let mut response = referral_response(StatusCode::CREATED, &referral)?;
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/referrals/{}", referral.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `GET /v1/referrals` (staff): a shift view, newest first, paged.
pub(super) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    require_staff(&caller, "the referrals")?;
    let Query(params) = params?;
    let view = match value(&params, "view").map(str::trim) {
        None | Some("") => ReferralView::All,
        Some(text) => ReferralView::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "view",
                format!("view must be mine, due, open or all, got '{text}'"),
            )
        })?,
    };
    let limit = match value(&params, "limit") {
        None => DEFAULT_REFERRAL_PAGE,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=MAX_REFERRAL_PAGE).contains(l))
            .ok_or_else(|| {
                ApiError::invalid(
                    "limit",
                    format!(
                        "limit must be a whole number from 1 to {MAX_REFERRAL_PAGE}, got '{text}'"
                    ),
                )
            })?,
    };
    let before = match value(&params, "cursor") {
        None => None,
        Some(text) => Some(text.trim().parse::<u64>().map_err(|_| {
            ApiError::invalid(
                "cursor",
                format!("cursor must be the next member of the previous page, got '{text}'"),
            )
        })?),
    };
    let provider = value(&params, "provider")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    let query = ReferralQuery {
        view,
        creator: caller.name.clone(),
        today: crate::live::today(),
        provider,
        before,
        // One more than asked: whether there is a next page.
        limit: limit + 1,
    };
    let mut referrals = read(&state, move |live| Ok(live.referrals(&query)?)).await?;
    let next = if referrals.len() > limit {
        referrals.truncate(limit);
        referrals.last().map(|r| r.id.to_string())
    } else {
        None
    };
    super::body_response(JSON, &json!({"referrals": referrals, "next": next}))
}

/// `GET /v1/referrals/{id}` (staff).
pub(super) async fn one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_staff(&caller, "a referral")?;
    let id = referral_id(&id)?;
    let referral = read(&state, move |live| Ok(live.referral(id)?)).await?;
    let referral = referral.ok_or_else(|| ApiError::NotFound {
        detail: format!("no referral has id {id}"),
        suggestions: Vec::new(),
    })?;
    referral_response(StatusCode::OK, &referral)
}

/// `POST /v1/referrals/{id}/status` (staff): moves a referral along its
/// lifecycle (409 for a change the lifecycle does not allow).
pub(super) async fn status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(cancel): Extension<Cancel>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_staff(&caller, "changing a referral")?;
    let id = referral_id(&id)?;
    let change = status_change(raw)?;
    let referral = write(&state, &cancel, move |live, cancel| {
        Ok(live.change_referral(id, &change, &caller.actor(), cancel)?)
    })
    .await?;
    referral_response(StatusCode::OK, &referral)
}

/// `POST /v1/referrals/{id}/notes` (staff): adds a note.
pub(super) async fn note(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(cancel): Extension<Cancel>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_staff(&caller, "a referral's notes")?;
    let id = referral_id(&id)?;
    let map = object(raw, &["text"])?;
    let text = note_member(&map, "text")?
        .ok_or_else(|| invalid("text", "text is missing or empty: the note to add"))?;
    let referral = write(&state, &cancel, move |live, cancel| {
        Ok(live.note_referral(id, &text, &caller.actor(), cancel)?)
    })
    .await?;
    referral_response(StatusCode::OK, &referral)
}
