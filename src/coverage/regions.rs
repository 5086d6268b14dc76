//! Region units of a region set: id, name, population, people points and
//! outline, built from the gazetteer.

use super::query::{RegionSet, MAX_CELLS};
use super::CoverageError;
use crate::cancel::Cancel;
use crate::gazetteer::{Gazetteer, Reverse, US_TERRITORIES};
use crate::model::{BoundingBox, LatLng};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use h3o::geom::{ContainmentMode, TilerBuilder};
use h3o::{CellIndex, Resolution};
use rustc_hash::FxHashMap;
use std::borrow::Cow;

/// States left out of the default H3 area (the contiguous US).
const NOT_CONTIGUOUS: [&str; 7] = ["AK", "HI", "PR", "GU", "VI", "AS", "MP"];

/// Area of the contiguous US (48 states and DC), km², for the cell-count
/// estimate before tiling.
const CONTIGUOUS_US_KM2: f64 = 8_080_000.0;

/// What a unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    /// A US state, DC or territory.
    State,
    /// A US county or county equivalent.
    County,
    /// A country.
    Country,
    /// An H3 cell.
    H3,
}

/// Where people live in a unit: a point and the population it stands for.
#[derive(Debug, Clone)]
pub struct PeoplePoint {
    /// Position.
    pub point: LatLng,
    /// Population this point stands for (persons; fractional after
    /// spreading a region's population over its places).
    pub weight: f64,
    /// Index of the gazetteer place, when the point is one.
    pub place: Option<u32>,
    /// ISO 3166-1 alpha-2 country, when known.
    pub country: Option<String>,
    /// USPS state or territory code, for US points.
    pub region: Option<String>,
    /// County FIPS, for US points.
    pub county_fips: Option<String>,
}

impl PeoplePoint {
    /// The point as [`Gazetteer::reverse`] would place it, for
    /// [`Directory::covering_in`](crate::index::Directory::covering_in).
    pub fn reverse(&self) -> Reverse {
        Reverse {
            lat: self.point.lat(),
            lon: self.point.lon(),
            country: self.country.clone(),
            region: self.region.clone(),
            county_fips: self.county_fips.clone(),
            county: None,
        }
    }
}

/// One region of a region set.
#[derive(Debug, Clone)]
pub struct Unit<'g> {
    /// What it is.
    pub kind: UnitKind,
    /// Identifier: county FIPS, USPS state code, ISO 3166-1 alpha-2, or the
    /// H3 cell index in hexadecimal.
    pub id: String,
    /// Display name ("Fresno County, CA", "California", "Peru").
    pub name: String,
    /// Population (source per region set: see
    /// [`population_source`](super::population_source)).
    pub population: u64,
    /// Label point (county/state/country) or cell centre.
    pub label: LatLng,
    /// Where its people live; never empty.
    pub people: Vec<PeoplePoint>,
    /// Outline in `[lon, lat]` degrees; empty when the atlas has none.
    pub shape: Cow<'g, MultiPolygon<f64>>,
}

fn country_of_state(code: &str) -> &str {
    if US_TERRITORIES.contains(&code) {
        code
    } else {
        "US"
    }
}

/// The units of `set`, each exactly once, in the gazetteer's order (H3:
/// cell index order).
///
/// # Errors
/// [`CoverageError::TooManyCells`] when an H3 area needs more than
/// [`MAX_CELLS`] cells; [`CoverageError::Tiling`] when h3o cannot tile it;
/// [`CoverageError::Cancelled`] when `cancel` is cancelled (checked per
/// cell).
pub fn regions<'g>(
    gazetteer: &'g Gazetteer,
    set: &RegionSet,
    cancel: &Cancel,
) -> Result<Vec<Unit<'g>>, CoverageError> {
    let units = match set {
        RegionSet::County => counties(gazetteer),
        RegionSet::State => states(gazetteer),
        RegionSet::Country => countries(gazetteer),
        RegionSet::H3 { resolution, bbox } => cells(gazetteer, *resolution, *bbox, cancel)?,
    };
    cancel.check()?;
    Ok(units)
}

/// Estimated number of H3 cells at `resolution` covering `bbox` (`[west,
/// south, east, north]` degrees) or the contiguous US: the area over the
/// cell area, rounded up. Cheap: no tiling.
///
/// # Errors
/// [`CoverageError::Tiling`] for a resolution h3o does not have.
pub fn estimated_cells(resolution: u8, bbox: Option<&BoundingBox>) -> Result<usize, CoverageError> {
    let res = Resolution::try_from(resolution)
        .map_err(|_| CoverageError::Tiling(format!("resolution {resolution}")))?;
    let area_km2 = bbox.map_or(CONTIGUOUS_US_KM2, BoundingBox::area_km2);
    Ok((area_km2 / res.area_km2()).ceil() as usize)
}

/// Spreads `population` over `places` by their populations; the label
/// point carries it all when they have none.
fn spread(
    gazetteer: &Gazetteer,
    places: &[u32],
    population: f64,
    label: PeoplePoint,
) -> Vec<PeoplePoint> {
    let all = gazetteer.places();
    let total: f64 = places
        .iter()
        .map(|&i| all[i as usize].population as f64)
        .sum();
    if total <= 0.0 {
        return vec![PeoplePoint {
            weight: population,
            ..label
        }];
    }
    places
        .iter()
        .filter(|&&i| all[i as usize].population > 0)
        .map(|&i| {
            let place = &all[i as usize];
            PeoplePoint {
                point: place.point,
                weight: population * place.population as f64 / total,
                place: Some(i),
                country: Some(place.country.clone()),
                region: label.region.clone(),
                county_fips: place
                    .county_fips
                    .clone()
                    .or_else(|| label.county_fips.clone()),
            }
        })
        .collect()
}

fn counties(gazetteer: &Gazetteer) -> Vec<Unit<'_>> {
    let mut by_county: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    for (i, place) in gazetteer.places().iter().enumerate() {
        if let Some(fips) = &place.county_fips {
            by_county.entry(fips.as_str()).or_default().push(i as u32);
        }
    }
    gazetteer
        .counties()
        .iter()
        .map(|county| {
            let population = county.population.unwrap_or(0);
            let label = PeoplePoint {
                point: county.label,
                weight: 0.0,
                place: None,
                country: Some(country_of_state(&county.state).to_owned()),
                region: Some(county.state.clone()),
                county_fips: Some(county.fips.clone()),
            };
            let places = by_county
                .get(county.fips.as_str())
                .map_or(&[][..], Vec::as_slice);
            let mut people = spread(gazetteer, places, population as f64, label);
            for p in &mut people {
                p.country = Some(country_of_state(&county.state).to_owned());
                p.county_fips = Some(county.fips.clone());
            }
            Unit {
                kind: UnitKind::County,
                id: county.fips.clone(),
                name: format!("{}, {}", county.full_name, county.state),
                population,
                label: county.label,
                people,
                shape: Cow::Borrowed(&county.shape),
            }
        })
        .collect()
}

fn states(gazetteer: &Gazetteer) -> Vec<Unit<'_>> {
    let counties = counties(gazetteer);
    let mut by_state: FxHashMap<&str, Vec<&Unit<'_>>> = FxHashMap::default();
    for (unit, county) in counties.iter().zip(gazetteer.counties()) {
        by_state
            .entry(county.state.as_str())
            .or_default()
            .push(unit);
    }
    gazetteer
        .states()
        .iter()
        .map(|state| {
            let members = by_state
                .get(state.code.as_str())
                .map_or(&[][..], Vec::as_slice);
            let population = members.iter().map(|u| u.population).sum();
            let mut people: Vec<PeoplePoint> = members
                .iter()
                .flat_map(|u| u.people.iter().cloned())
                .collect();
            if people.is_empty() {
                people.push(PeoplePoint {
                    point: state.label,
                    weight: population as f64,
                    place: None,
                    country: Some(country_of_state(&state.code).to_owned()),
                    region: Some(state.code.clone()),
                    county_fips: None,
                });
            }
            Unit {
                kind: UnitKind::State,
                id: state.code.clone(),
                name: state.name.clone(),
                population,
                label: state.label,
                people,
                shape: Cow::Borrowed(&state.shape),
            }
        })
        .collect()
}

fn countries(gazetteer: &Gazetteer) -> Vec<Unit<'_>> {
    let mut by_country: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    for (i, place) in gazetteer.places().iter().enumerate() {
        by_country
            .entry(place.country.as_str())
            .or_default()
            .push(i as u32);
    }
    gazetteer
        .countries()
        .iter()
        .map(|country| {
            let places = by_country
                .get(country.iso2.as_str())
                .map_or(&[][..], Vec::as_slice);
            let population = country.population.unwrap_or_else(|| {
                places
                    .iter()
                    .map(|&i| gazetteer.places()[i as usize].population)
                    .sum()
            });
            // A country with no label point: its first place, else 0,0
            // (only tiny territories lack both; their figures are then
            // about that point).
            let label = country
                .label
                .or_else(|| {
                    places
                        .first()
                        .map(|&i| gazetteer.places()[i as usize].point)
                })
                .unwrap_or(LatLng::ORIGIN);
            let point = PeoplePoint {
                point: label,
                weight: 0.0,
                place: None,
                country: Some(country.iso2.clone()),
                region: US_TERRITORIES
                    .contains(&country.iso2.as_str())
                    .then(|| country.iso2.clone()),
                county_fips: None,
            };
            let mut people = spread(gazetteer, places, population as f64, point);
            for p in &mut people {
                p.region = None;
            }
            Unit {
                kind: UnitKind::Country,
                id: country.iso2.clone(),
                name: country.name.clone(),
                population,
                label,
                people,
                shape: Cow::Borrowed(&country.shape),
            }
        })
        .collect()
}

fn latlng(ll: h3o::LatLng) -> LatLng {
    LatLng::new(ll.lat(), ll.lng()).unwrap_or(LatLng::ORIGIN)
}

fn cells(
    gazetteer: &Gazetteer,
    resolution: u8,
    bbox: Option<BoundingBox>,
    cancel: &Cancel,
) -> Result<Vec<Unit<'static>>, CoverageError> {
    let res = Resolution::try_from(resolution)
        .map_err(|_| CoverageError::Tiling(format!("resolution {resolution}")))?;
    let estimate = estimated_cells(resolution, bbox.as_ref())?;
    if estimate > MAX_CELLS {
        return Err(CoverageError::TooManyCells {
            cells: estimate,
            resolution,
        });
    }
    let mut list: Vec<CellIndex> = match bbox {
        None => {
            let mut tiler = TilerBuilder::new(res)
                .containment_mode(ContainmentMode::ContainsCentroid)
                .disable_transmeridian_heuristic()
                .build();
            for state in gazetteer.states() {
                if NOT_CONTIGUOUS.contains(&state.code.as_str()) {
                    continue;
                }
                for polygon in &state.shape.0 {
                    tiler
                        .add(polygon.clone())
                        .map_err(|e| CoverageError::Tiling(format!("{}: {e}", state.code)))?;
                }
            }
            tiler.into_coverage().collect()
        }
        Some(bbox) => {
            let mut tiler = TilerBuilder::new(res)
                .containment_mode(ContainmentMode::Covers)
                .disable_transmeridian_heuristic()
                .build();
            // A box across the antimeridian is tiled as its two halves.
            for [w, s, e, n] in bbox.parts() {
                let ring = LineString::new(vec![
                    Coord { x: w, y: s },
                    Coord { x: e, y: s },
                    Coord { x: e, y: n },
                    Coord { x: w, y: n },
                    Coord { x: w, y: s },
                ]);
                tiler
                    .add(Polygon::new(ring, vec![]))
                    .map_err(|e| CoverageError::Tiling(e.to_string()))?;
            }
            tiler.into_coverage().collect()
        }
    };
    list.sort_unstable();
    list.dedup();
    if list.len() > MAX_CELLS {
        return Err(CoverageError::TooManyCells {
            cells: list.len(),
            resolution,
        });
    }
    let position: FxHashMap<CellIndex, u32> = list
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i as u32))
        .collect();
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); list.len()];
    for (i, place) in gazetteer.places().iter().enumerate() {
        let Ok(ll) = h3o::LatLng::new(place.point.lat(), place.point.lon()) else {
            continue;
        };
        if let Some(&at) = position.get(&ll.to_cell(res)) {
            members[at as usize].push(i as u32);
        }
    }
    cancel.check()?;
    list.into_iter()
        .zip(members)
        .map(|(cell, places)| {
            cancel.check()?;
            let centre = latlng(h3o::LatLng::from(cell));
            let population: u64 = places
                .iter()
                .map(|&i| gazetteer.places()[i as usize].population)
                .sum();
            let label = PeoplePoint {
                point: centre,
                weight: 0.0,
                place: None,
                country: None,
                region: None,
                county_fips: None,
            };
            let mut people = spread(gazetteer, &places, population as f64, label);
            // An empty cell is one point at its centre; where that lies is
            // looked up when its figures are computed.
            for p in &mut people {
                if let Some(i) = p.place {
                    let place = &gazetteer.places()[i as usize];
                    p.region = crate::gazetteer::is_us_or_territory(&place.country)
                        .then(|| place.admin1.clone());
                }
            }
            Ok(Unit {
                kind: UnitKind::H3,
                id: cell.to_string(),
                name: cell.to_string(),
                population,
                label: centre,
                people,
                shape: Cow::Owned(MultiPolygon::from(cell)),
            })
        })
        .collect()
}
