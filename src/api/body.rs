//! Response bodies: GeoJSON (RFC 7946) FeatureCollections and plain JSON,
//! serialised straight from borrowed provider records. Coordinates are
//! `[lon, lat]` in degrees. The CLI prints the same bodies.

use crate::index::Directory;
use crate::matching::{AppliedFilters, Match, MatchResponse, Page, Relaxable, ResolvedPlace, Tier};
use crate::model::{Availability, Kind, Phone, Precision, Provider};
use serde::Serialize;

/// A GeoJSON `Point` geometry, `[lon, lat]` degrees.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PointGeometry {
    #[serde(rename = "type")]
    kind: &'static str,
    coordinates: [f64; 2],
}

/// A GeoJSON Feature with provider properties.
#[derive(Debug, Serialize)]
pub struct Feature<P> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    /// `null` for a provider without a location.
    geometry: Option<PointGeometry>,
    properties: P,
}

/// A GeoJSON FeatureCollection with refmatch's foreign members.
#[derive(Debug, Serialize)]
pub struct FeatureCollection<P, Q> {
    #[serde(rename = "type")]
    kind: &'static str,
    /// What was asked, as resolved (a foreign member, RFC 7946 §6.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<Q>,
    features: Vec<Feature<P>>,
    /// Number of features on this page.
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<usize>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

fn feature<P>(provider: &Provider, properties: P) -> Feature<P> {
    Feature {
        kind: "Feature",
        id: provider.id.clone(),
        geometry: provider.location.map(|at| PointGeometry {
            kind: "Point",
            coordinates: at.to_lon_lat(),
        }),
        properties,
    }
}

/// Hours as `opening_hours` text (`24/7`, `Mo 09:00-17:00; …`), `None`
/// when unknown.
fn hours(availability: &Availability) -> Option<String> {
    match availability {
        Availability::Unknown => None,
        other => Some(other.to_string()),
    }
}

fn timezone(availability: &Availability) -> Option<&str> {
    match availability {
        Availability::Weekly { timezone, .. } => Some(timezone),
        _ => None,
    }
}

/// The properties every provider feature carries.
#[derive(Debug, Serialize)]
pub struct ProviderProperties<'a> {
    id: &'a str,
    name: &'a str,
    organization: Option<&'a str>,
    kind: Kind,
    issues: &'a [String],
    populations: &'a [String],
    languages: &'a [String],
    open_24h: bool,
    /// `opening_hours` syntax, in `timezone`.
    hours: Option<String>,
    /// IANA zone of `hours`.
    timezone: Option<&'a str>,
    hours_note: Option<&'a str>,
    phones: Vec<&'a Phone>,
    website: Option<&'a str>,
    law_enforcement: bool,
    precision: Option<Precision>,
    incomplete: bool,
}

impl<'a> ProviderProperties<'a> {
    /// The properties of `provider`, listing `phones`.
    pub fn new(provider: &'a Provider, phones: Vec<&'a Phone>) -> Self {
        ProviderProperties {
            id: &provider.id,
            name: &provider.name,
            organization: provider.organization.as_deref(),
            kind: provider.kind,
            issues: &provider.issues,
            populations: &provider.populations,
            languages: &provider.languages,
            open_24h: provider.availability.is_open_24h(),
            hours: hours(&provider.availability),
            timezone: timezone(&provider.availability),
            hours_note: provider.hours_note.as_deref(),
            phones,
            website: provider.website.as_deref(),
            law_enforcement: provider.law_enforcement,
            precision: provider.precision,
            incomplete: provider.incomplete,
        }
    }
}

/// Properties of a match result: the provider's, plus rank and reasons.
#[derive(Debug, Serialize)]
pub struct MatchProperties<'a> {
    rank: usize,
    score: f64,
    tier: Tier,
    /// Great-circle km; `null` without a location.
    distance_km: Option<f64>,
    serves_location: bool,
    reasons: &'a [String],
    relaxed: &'a [Relaxable],
    #[serde(flatten)]
    provider: ProviderProperties<'a>,
}

impl<'a> MatchProperties<'a> {
    /// The properties of one result.
    pub fn new(result: &'a Match, provider: &'a Provider) -> Self {
        MatchProperties {
            rank: result.rank,
            score: result.score,
            tier: result.tier,
            distance_km: result.distance_km,
            serves_location: result.serves_location,
            reasons: &result.reasons,
            relaxed: &result.relaxed,
            provider: ProviderProperties::new(provider, result.phones.iter().collect()),
        }
    }
}

/// The `query` member of a match body: the resolved place and the filters.
#[derive(Debug, Serialize)]
pub struct MatchEcho<'a> {
    #[serde(flatten)]
    place: &'a ResolvedPlace,
    filters: &'a AppliedFilters,
}

/// A match answer as a GeoJSON FeatureCollection, features in rank order.
pub fn match_geojson<'a>(
    response: &'a MatchResponse,
    directory: &'a Directory,
) -> FeatureCollection<MatchProperties<'a>, MatchEcho<'a>> {
    FeatureCollection {
        kind: "FeatureCollection",
        query: Some(MatchEcho {
            place: &response.place,
            filters: &response.filters,
        }),
        features: response
            .results
            .iter()
            .filter_map(|r| {
                let provider = directory.provider(r.index)?;
                Some(feature(provider, MatchProperties::new(r, provider)))
            })
            .collect(),
        count: None,
        next_cursor: None,
    }
}

/// One result of the plain-JSON match body: properties plus `lat`/`lon`.
#[derive(Debug, Serialize)]
pub struct MatchRow<'a> {
    lat: Option<f64>,
    lon: Option<f64>,
    #[serde(flatten)]
    properties: MatchProperties<'a>,
}

/// A match answer as plain JSON: `{query, results}`.
#[derive(Debug, Serialize)]
pub struct MatchJson<'a> {
    query: MatchEcho<'a>,
    results: Vec<MatchRow<'a>>,
}

/// A match answer as plain JSON.
pub fn match_json<'a>(response: &'a MatchResponse, directory: &'a Directory) -> MatchJson<'a> {
    MatchJson {
        query: MatchEcho {
            place: &response.place,
            filters: &response.filters,
        },
        results: response
            .results
            .iter()
            .filter_map(|r| {
                let provider = directory.provider(r.index)?;
                Some(MatchRow {
                    lat: provider.location.map(|l| l.lat()),
                    lon: provider.location.map(|l| l.lon()),
                    properties: MatchProperties::new(r, provider),
                })
            })
            .collect(),
    }
}

/// One provider as a GeoJSON Feature with every phone.
pub fn provider_feature(provider: &Provider) -> Feature<ProviderProperties<'_>> {
    feature(
        provider,
        ProviderProperties::new(provider, provider.phones.iter().collect()),
    )
}

/// Providers as a FeatureCollection; `phones` picks each one's numbers.
pub fn providers_geojson<'a, Q: Serialize>(
    directory: &'a Directory,
    indexes: &[u32],
    query: Option<Q>,
    page: Option<&Page>,
    phones: impl Fn(&'a Provider) -> Vec<&'a Phone>,
) -> FeatureCollection<ProviderProperties<'a>, Q> {
    let features: Vec<_> = indexes
        .iter()
        .filter_map(|&i| directory.provider(i))
        .map(|p| feature(p, ProviderProperties::new(p, phones(p))))
        .collect();
    FeatureCollection {
        kind: "FeatureCollection",
        query,
        count: page.map(|_| features.len()),
        features,
        next_cursor: page.and_then(|p| p.next_cursor).map(|c| c.to_string()),
    }
}
