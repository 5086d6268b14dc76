//! `GET /v1/coverage` (gap figures per region, GeoJSON or CSV) and
//! `GET /v1/coverage/suggest` (sites for new providers, GeoJSON points).
//! Both compute on a blocking thread: a national county report takes
//! about a second of CPU. Each request is sized first and refused with 422
//! when over [`AppState::budget`](super::AppState); then it waits for a
//! permit of its kind ([`Heavy::Coverage`], [`Heavy::Suggest`]) and stops
//! when its request is cancelled (see [`super::heavy`]).

use super::access::Caller;
use super::heavy::{self, Heavy};
use super::{pairs, value, ApiError, AppState, Pairs, GEOJSON};
use crate::cancel::Cancel;
use crate::coverage::{self, CoverageError, CoverageQuery, Purpose, TableFormat};
use crate::matching::ParameterDoc;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, State};
use axum::response::Response;
use serde_json::json;

/// The `format` parameter of `/v1/coverage`.
pub const FORMAT: ParameterDoc = ParameterDoc::one("format", "string", "Body format: geojson (default, application/geo+json FeatureCollection of region outlines) or csv (text/csv table of the same figures); with weight=demand, json (the default then, application/json).");

/// Threads a coverage request may use.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

impl From<CoverageError> for ApiError {
    fn from(error: CoverageError) -> Self {
        match error {
            CoverageError::TooManyCells { .. } => ApiError::InvalidParameter {
                parameter: "resolution".to_owned(),
                detail: error.to_string(),
            },
            CoverageError::OverBudget { parameter, detail } => ApiError::OverBudget {
                parameter: parameter.to_owned(),
                detail,
            },
            CoverageError::Cancelled(_) => ApiError::Cancelled,
            other => {
                tracing::error!(error = %other, "coverage report");
                ApiError::Internal
            }
        }
    }
}

/// Body formats of `/v1/coverage`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    GeoJson,
    Csv,
}

fn format(params: &Pairs) -> Result<Format, ApiError> {
    match value(params, "format").map(str::trim) {
        None | Some("geojson") => Ok(Format::GeoJson),
        Some("csv") => Ok(Format::Csv),
        Some(other) => Err(ApiError::invalid(
            "format",
            format!("format must be geojson or csv, got '{other}'"),
        )),
    }
}

/// Parses a coverage query for `caller` and checks it against the budget.
fn checked_query(
    state: &AppState,
    caller: &Caller,
    params: &Pairs,
    ignored: &[&str],
    purpose: Purpose,
    snapshot: &crate::live::Snapshot,
) -> Result<CoverageQuery, ApiError> {
    let mut query = CoverageQuery::parse(pairs(params), ignored, purpose, &state.terms())?;
    // The public's figures count public records only.
    query.public_only = !caller.role.sees_confidential();
    let size = coverage::size(
        &state.gazetteer,
        &snapshot.directory,
        &state.vocabulary,
        &query,
    )?;
    state.budget.check(&query, purpose, &size)?;
    Ok(query)
}

/// `GET /v1/coverage`.
pub(super) async fn report(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(cancel): Extension<Cancel>,
    params: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    match value(&params, "weight").map(str::trim) {
        None | Some("population") => {}
        Some("demand") => return demand(state, &caller, &params).await,
        Some(other) => {
            return Err(ApiError::invalid(
                "weight",
                format!("weight must be population or demand, got '{other}'"),
            ))
        }
    }
    let format = format(&params)?;
    let snapshot = state.live.snapshot();
    let query = checked_query(
        &state,
        &caller,
        &params,
        &["format"],
        Purpose::Report,
        &snapshot,
    )?;
    let worker = state.clone();
    heavy::run_body(&state, Heavy::Coverage, &cancel, move |cancel| {
        let state = worker;
        let report = coverage::report(
            &state.gazetteer,
            &snapshot.directory,
            &state.vocabulary,
            &query,
            threads(),
            cancel,
        )?;
        let mut body = Vec::new();
        match format {
            Format::GeoJson => {
                report.write_geojson(None, &mut body, cancel)?;
                Ok((GEOJSON, body))
            }
            Format::Csv => {
                report.write_table(TableFormat::Csv, &mut body)?;
                Ok(("text/csv; charset=utf-8", body))
            }
        }
    })
    .await
}

/// `GET /v1/coverage?weight=demand` (staff only): US states or counties
/// ranked by recorded unmet demand matching the need, beside population.
async fn demand(state: AppState, caller: &Caller, params: &Pairs) -> Result<Response, ApiError> {
    if !caller.role.sees_confidential() {
        return Err(ApiError::Forbidden(
            "weight=demand (recorded unmet demand) is for staff only: send an advocate or \
             admin key, or leave weight out for population-weighted gaps"
                .to_owned(),
        ));
    }
    match value(params, "format").map(str::trim) {
        None | Some("json") => {}
        Some(other) => {
            return Err(ApiError::invalid(
                "format",
                format!("with weight=demand the body is JSON: leave format out or send format=json, got '{other}'"),
            ))
        }
    }
    let query = CoverageQuery::parse(
        pairs(params),
        &["format", "weight"],
        Purpose::Report,
        &state.terms(),
    )?;
    let by = match query.regions {
        crate::coverage::RegionSet::State => "state",
        crate::coverage::RegionSet::County => "county",
        _ => "",
    };
    let worker = state.clone();
    let body = super::blocking("demand ranking", move || {
        let events = worker.live.unmet()?;
        let rows = coverage::demand_ranking(
            &worker.gazetteer,
            &worker.vocabulary,
            &events,
            &query.regions,
            &query.need,
        )
        .map_err(|e| ApiError::invalid("by", e.to_string()))?;
        let recorded: u64 = rows.iter().map(|r| r.unmet).sum();
        Ok(json!({
            "weight": "demand",
            "by": by,
            "region_sets": coverage::DEMAND_REGION_SETS,
            "need": {
                "issue": query.need.issues,
                "language": query.need.languages,
                "population": query.need.populations,
            },
            "unmet": recorded,
            "regions": rows,
        }))
    })
    .await?;
    super::body_response(super::JSON, &body)
}

/// `GET /v1/coverage/suggest`.
pub(super) async fn suggest(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(cancel): Extension<Cancel>,
    params: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let snapshot = state.live.snapshot();
    let query = checked_query(&state, &caller, &params, &[], Purpose::Suggest, &snapshot)?;
    let worker = state.clone();
    heavy::run_body(&state, Heavy::Suggest, &cancel, move |cancel| {
        let state = worker;
        let report = coverage::report(
            &state.gazetteer,
            &snapshot.directory,
            &state.vocabulary,
            &query,
            threads(),
            cancel,
        )?;
        let suggestion = coverage::suggest(&report, &state.gazetteer, threads(), cancel)?;
        let features: Vec<serde_json::Value> = suggestion
            .sites
            .iter()
            .map(|site| {
                json!({
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [site.lon, site.lat]},
                    "properties": site,
                })
            })
            .collect();
        let mut metadata = report.metadata();
        if let Some(m) = metadata.as_object_mut() {
            m.insert("sites_asked".into(), query.sites.into());
            m.insert("candidates".into(), suggestion.candidates.into());
            m.insert("unserved_before".into(), suggestion.unserved_before.into());
            m.insert("unserved_after".into(), suggestion.unserved_after.into());
        }
        let body = serde_json::to_vec(&json!({
            "type": "FeatureCollection",
            "metadata": metadata,
            "features": features,
        }))
        .map_err(|error| {
            tracing::error!(%error, "serialising suggestions");
            ApiError::Internal
        })?;
        Ok((GEOJSON, body))
    })
    .await
}
