//! Response bodies: GeoJSON (RFC 7946) FeatureCollections and plain JSON,
//! serialised straight from borrowed provider records. Coordinates are
//! `[lon, lat]` in degrees. The CLI prints the same bodies.

use crate::index::Directory;
use crate::matching::{AppliedFilters, Match, MatchResponse, Page, ResolvedPlace, View};
use crate::model::{Address, Availability, LatLng, Phone, Provider};
use serde::ser::{SerializeStruct, Serializer};
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

/// A feature at `location` (the point the viewer may be shown).
fn feature<P>(provider: &Provider, location: Option<LatLng>, properties: P) -> Feature<P> {
    Feature {
        kind: "Feature",
        id: provider.id.to_string(),
        geometry: location.map(|at| PointGeometry {
            kind: "Point",
            coordinates: at.to_lon_lat(),
        }),
        properties,
    }
}

/// Hours as `opening_hours` text (`24/7`, `Mo-Fr 09:00-17:00`), `null`
/// when unknown; written straight into the body, with no intermediate
/// string.
struct Hours<'a>(&'a Availability);

impl Serialize for Hours<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Availability::Unknown => serializer.serialize_none(),
            other => serializer.collect_str(other),
        }
    }
}

fn timezone(availability: &Availability) -> Option<&str> {
    match availability {
        Availability::Weekly { timezone, .. } => Some(timezone),
        _ => None,
    }
}

/// The address a viewer may see: all of it for staff; for the public no
/// street, and no postal code where the location is confidential.
struct ShownAddress<'a> {
    address: &'a Address,
    staff: bool,
    location_confidential: bool,
}

impl Serialize for ShownAddress<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let a = self.address;
        let mut out = serializer.serialize_struct("Address", 5)?;
        if self.staff {
            out.serialize_field("street", &a.street)?;
        }
        out.serialize_field("city", &a.city)?;
        out.serialize_field("region", &a.region)?;
        if self.staff || !self.location_confidential {
            out.serialize_field("postal_code", &a.postal_code)?;
        }
        out.serialize_field("country", &a.country)?;
        out.end()
    }
}

/// The properties every provider feature carries. Confidential fields
/// (street, e-mail, contact name, direct lines) are written only for a
/// view that may see them; direct lines are filtered by the caller of
/// [`ProviderProperties::new`].
#[derive(Debug)]
pub struct ProviderProperties<'a> {
    provider: &'a Provider,
    phones: Vec<&'a Phone>,
    view: View,
}

impl<'a> ProviderProperties<'a> {
    /// The properties of `provider` for `view`, listing `phones`.
    pub fn new(provider: &'a Provider, phones: Vec<&'a Phone>, view: &View) -> Self {
        ProviderProperties {
            provider,
            phones,
            view: *view,
        }
    }

    /// Number of fields [`ProviderProperties::write`] writes at most.
    const FIELDS: usize = 24;

    /// Writes the provider's fields into a struct being serialised (shared
    /// by the listing and match bodies without `#[serde(flatten)]`, which
    /// goes through a slower map serialiser).
    fn write<S: SerializeStruct>(&self, out: &mut S) -> Result<(), S::Error> {
        let p = self.provider;
        out.serialize_field("id", &p.id)?;
        out.serialize_field("name", &p.name)?;
        out.serialize_field("organization", &p.organization)?;
        out.serialize_field("kind", &p.kind)?;
        out.serialize_field("issues", &p.issues)?;
        out.serialize_field("populations", &p.populations)?;
        out.serialize_field("languages", &p.languages)?;
        out.serialize_field("open_24h", &p.availability.is_open_24h())?;
        // `opening_hours` syntax, in `timezone`.
        out.serialize_field("hours", &Hours(&p.availability))?;
        out.serialize_field("timezone", &timezone(&p.availability))?;
        out.serialize_field("hours_note", &p.hours_note)?;
        out.serialize_field("phones", &self.phones)?;
        out.serialize_field("website", &p.website)?;
        out.serialize_field("law_enforcement", &p.law_enforcement)?;
        out.serialize_field("precision", &p.precision)?;
        out.serialize_field("incomplete", &p.incomplete)?;
        out.serialize_field("verified_at", &p.verified_at)?;
        out.serialize_field("stale", &self.view.freshness.is_stale(p))?;
        let staff = self.view.role.sees_confidential();
        out.serialize_field(
            "address",
            &p.address.as_ref().map(|address| ShownAddress {
                address,
                staff,
                location_confidential: p.location_confidential,
            }),
        )?;
        if staff {
            out.serialize_field("visibility", &p.visibility)?;
            out.serialize_field("location_confidential", &p.location_confidential)?;
            out.serialize_field("email", &p.email)?;
            out.serialize_field("contact_name", &p.contact_name)?;
        } else if p.location_confidential {
            // Say why the point is approximate.
            out.serialize_field("location_approximate", &true)?;
        }
        Ok(())
    }
}

impl Serialize for ProviderProperties<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("ProviderProperties", Self::FIELDS)?;
        self.write(&mut out)?;
        out.end()
    }
}

/// Properties of a match result: rank and reasons, then the provider's.
#[derive(Debug)]
pub struct MatchProperties<'a> {
    result: &'a Match,
    provider: ProviderProperties<'a>,
}

impl<'a> MatchProperties<'a> {
    /// The properties of one result, for `view` (the match already left
    /// out the phones `view` may not dial).
    pub fn new(result: &'a Match, provider: &'a Provider, view: &View) -> Self {
        MatchProperties {
            result,
            provider: ProviderProperties::new(provider, result.phones.iter().collect(), view),
        }
    }

    /// Writes every field (used by the GeoJSON and the plain-JSON rows).
    fn write<S: SerializeStruct>(&self, out: &mut S) -> Result<(), S::Error> {
        let r = self.result;
        out.serialize_field("rank", &r.rank)?;
        out.serialize_field("score", &r.score)?;
        out.serialize_field("tier", &r.tier)?;
        // Great-circle km; `null` without a location.
        out.serialize_field("distance_km", &r.distance_km)?;
        out.serialize_field("serves_location", &r.serves_location)?;
        out.serialize_field("reasons", &r.reasons)?;
        out.serialize_field("relaxed", &r.relaxed)?;
        self.provider.write(out)
    }
}

impl Serialize for MatchProperties<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out =
            serializer.serialize_struct("MatchProperties", 7 + ProviderProperties::FIELDS)?;
        self.write(&mut out)?;
        out.end()
    }
}

/// The `query` member of a match body: the resolved place's fields and
/// the filters.
#[derive(Debug)]
pub struct MatchEcho<'a> {
    place: &'a ResolvedPlace,
    filters: &'a AppliedFilters,
}

impl Serialize for MatchEcho<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let p = self.place;
        let mut out = serializer.serialize_struct("MatchEcho", 10)?;
        out.serialize_field("name", &p.name)?;
        out.serialize_field("lat", &p.lat)?;
        out.serialize_field("lon", &p.lon)?;
        out.serialize_field("precision", &p.precision)?;
        out.serialize_field("country", &p.country)?;
        out.serialize_field("region", &p.region)?;
        out.serialize_field("county_fips", &p.county_fips)?;
        out.serialize_field("county", &p.county)?;
        if let Some(note) = &p.note {
            out.serialize_field("note", note)?;
        }
        out.serialize_field("filters", self.filters)?;
        out.end()
    }
}

/// A match answer as a GeoJSON FeatureCollection, features in rank order.
pub fn match_geojson<'a>(
    response: &'a MatchResponse,
    directory: &'a Directory,
    view: &View,
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
                Some(feature(
                    provider,
                    view.location(directory, r.index),
                    MatchProperties::new(r, provider, view),
                ))
            })
            .collect(),
        count: None,
        next_cursor: None,
    }
}

/// One result of the plain-JSON match body: `lat`/`lon`, then the
/// properties.
#[derive(Debug)]
pub struct MatchRow<'a> {
    lat: Option<f64>,
    lon: Option<f64>,
    properties: MatchProperties<'a>,
}

impl Serialize for MatchRow<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("MatchRow", 9 + ProviderProperties::FIELDS)?;
        out.serialize_field("lat", &self.lat)?;
        out.serialize_field("lon", &self.lon)?;
        self.properties.write(&mut out)?;
        out.end()
    }
}

/// A match answer as plain JSON: `{query, results}`.
#[derive(Debug, Serialize)]
pub struct MatchJson<'a> {
    query: MatchEcho<'a>,
    results: Vec<MatchRow<'a>>,
}

/// A match answer as plain JSON.
pub fn match_json<'a>(
    response: &'a MatchResponse,
    directory: &'a Directory,
    view: &View,
) -> MatchJson<'a> {
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
                let location = view.location(directory, r.index);
                Some(MatchRow {
                    lat: location.map(|l| l.lat()),
                    lon: location.map(|l| l.lon()),
                    properties: MatchProperties::new(r, provider, view),
                })
            })
            .collect(),
    }
}

/// Provider `index` as a GeoJSON Feature with every phone `view` may
/// dial; `None` when there is no such provider.
pub fn provider_feature<'a>(
    directory: &'a Directory,
    index: u32,
    view: &View,
) -> Option<Feature<ProviderProperties<'a>>> {
    let provider = directory.provider(index)?;
    let phones = provider
        .phones
        .iter()
        .filter(|p| view.may_dial(p))
        .collect();
    Some(feature(
        provider,
        view.location(directory, index),
        ProviderProperties::new(provider, phones, view),
    ))
}

/// Providers as a FeatureCollection for `view`; `phones` picks each one's
/// numbers (direct lines are then left out unless `view` may dial them).
pub fn providers_geojson<'a, Q: Serialize>(
    directory: &'a Directory,
    indexes: &[u32],
    query: Option<Q>,
    page: Option<&Page>,
    view: &View,
    phones: impl Fn(&'a Provider) -> Vec<&'a Phone>,
) -> FeatureCollection<ProviderProperties<'a>, Q> {
    let features: Vec<_> = indexes
        .iter()
        .filter_map(|&i| Some((i, directory.provider(i)?)))
        .map(|(i, p)| {
            let mut shown = phones(p);
            shown.retain(|phone| view.may_dial(phone));
            feature(
                p,
                view.location(directory, i),
                ProviderProperties::new(p, shown, view),
            )
        })
        .collect();
    FeatureCollection {
        kind: "FeatureCollection",
        query,
        count: page.map(|_| features.len()),
        features,
        next_cursor: page.and_then(|p| p.next_cursor).map(|c| c.to_string()),
    }
}
