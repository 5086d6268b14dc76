//! Per-region figures: serving providers, distance to the nearest matching
//! provider, gap class, unserved population and 2SFCA accessibility.

use super::access::two_step_fca_until;
use super::query::CoverageQuery;
use super::regions::{regions, Unit, UnitKind};
use super::serving::{serving, People};
use super::{CoverageError, REACH_KM};
use crate::cancel::Cancel;
use crate::gazetteer::{Gazetteer, Reverse};
use crate::index::{CompiledFilter, Directory, Geometry};
use crate::model::{LatLng, Vocabulary};
use serde::Serialize;

/// The gap class of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gap {
    /// A matching provider serves the region, or the nearest is within the
    /// threshold.
    Served,
    /// None serves it and the nearest is beyond the threshold (but within
    /// [`REACH_KM`]).
    Far,
    /// No matching provider within [`REACH_KM`] (or none at all).
    None,
}

impl Gap {
    /// Every class, in order.
    pub const ALL: [Gap; 3] = [Gap::Served, Gap::Far, Gap::None];

    /// The class as written in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Gap::Served => "served",
            Gap::Far => "far",
            Gap::None => "none",
        }
    }
}

/// The figures of one region for one need.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionFigures {
    /// Population (persons).
    pub population: u64,
    /// Number of people points the figures are computed over.
    pub people_points: usize,
    /// Distinct matching providers whose service area covers any of the
    /// region's people points.
    pub providers_serving: usize,
    /// Population-weighted mean great-circle distance, km, from the people
    /// points to their nearest matching provider; `None` when there is no
    /// matching provider with a location.
    pub nearest_km: Option<f64>,
    /// Gap class.
    pub gap: Gap,
    /// Persons at people points that no matching provider serves and whose
    /// nearest matching provider is beyond the threshold.
    pub unserved_population: u64,
    /// 2SFCA accessibility: matching providers per 100,000 people within
    /// reach (population-weighted mean over the people points).
    pub access_per_100k: f64,
}

/// A people point left without help: no serving provider, nearest beyond
/// the threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Unserved {
    pub point: LatLng,
    pub weight: f64,
}

/// A coverage report: the query, its regions and their figures.
#[derive(Debug)]
pub struct Report<'g> {
    /// The query answered.
    pub query: CoverageQuery,
    /// The regions, each once.
    pub units: Vec<Unit<'g>>,
    /// Figures per region, same order as `units`.
    pub figures: Vec<RegionFigures>,
    /// Providers that match the need (with the on-the-ground rule).
    pub matching_providers: usize,
    /// People points left without help, for [`suggest`](super::suggest).
    pub(crate) unserved: Vec<Unserved>,
}

impl Report<'_> {
    /// Number of regions in each gap class, in [`Gap::ALL`] order.
    pub fn gap_counts(&self) -> [(Gap, usize); 3] {
        Gap::ALL.map(|g| (g, self.figures.iter().filter(|f| f.gap == g).count()))
    }
}

/// Computes the figures of every region of `query.regions` for
/// `query.need` over `directory`, on up to `threads` threads, checking
/// `cancel` per region, people point and provider.
///
/// # Errors
/// [`CoverageError`] when the H3 area cannot be tiled or is too large;
/// [`CoverageError::Cancelled`] when `cancel` is cancelled.
pub fn report<'g>(
    gazetteer: &'g Gazetteer,
    directory: &Directory,
    vocabulary: &Vocabulary,
    query: &CoverageQuery,
    threads: usize,
    cancel: &Cancel,
) -> Result<Report<'g>, CoverageError> {
    let units = regions(gazetteer, &query.regions, cancel)?;
    let filter = directory.compile(&query.attribute_filter(vocabulary));
    // Public figures are computed from public geometry only.
    let geometry = query.geometry();
    let on_ground =
        |i: u32| filter.accepts(i) && (query.include_hotlines || directory.located().contains(i));
    let supply: Vec<LatLng> = (0..directory.len() as u32)
        .filter(|&i| filter.accepts(i))
        .filter_map(|i| directory.location(geometry, i))
        .collect();
    let matching_providers = (0..directory.len() as u32)
        .filter(|&i| on_ground(i))
        .count();
    let threads = threads.clamp(1, 16);

    // Where each people point is and its nearest matching provider, per
    // region, regions dealt round-robin to threads.
    let per_unit: Vec<Vec<(Reverse, Option<f64>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let units = &units;
                let filter = &filter;
                scope.spawn(move || {
                    units
                        .iter()
                        .enumerate()
                        .skip(t)
                        .step_by(threads)
                        .take_while(|_| !cancel.is_cancelled())
                        .map(|(u, unit)| {
                            (u, unit_points(gazetteer, directory, geometry, filter, unit))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<Vec<(Reverse, Option<f64>)>> =
            (0..units.len()).map(|_| Vec::new()).collect();
        for handle in handles {
            if let Ok(part) = handle.join() {
                for (u, points) in part {
                    all[u] = points;
                }
            }
        }
        all
    });
    cancel.check()?;
    let mut points = Vec::new();
    let mut places = Vec::new();
    let mut unit_of = Vec::new();
    let mut nearest_at = Vec::new();
    for (u, (unit, found)) in units.iter().zip(per_unit).enumerate() {
        for (person, (place, nearest)) in unit.people.iter().zip(found) {
            points.push(person.point);
            places.push(place);
            unit_of.push(u as u32);
            nearest_at.push(nearest);
        }
    }
    let providers: Vec<u32> = (0..directory.len() as u32)
        .filter(|&i| on_ground(i))
        .collect();
    let people = People {
        points: &points,
        places: &places,
        unit_of: &unit_of,
        units: units.len(),
    };
    let serving = serving(directory, geometry, &people, &providers, threads, cancel)?;

    let demand: Vec<(LatLng, f64)> = units
        .iter()
        .flat_map(|u| u.people.iter().map(|p| (p.point, p.weight)))
        .collect();
    let access = two_step_fca_until(
        &demand,
        &supply,
        query.catchment_km,
        query.decay,
        threads,
        cancel,
    )?;

    let mut figures = Vec::with_capacity(units.len());
    let mut unserved = Vec::new();
    let mut offset = 0;
    for (u, unit) in units.iter().enumerate() {
        let weights: Vec<f64> = unit.people.iter().map(|p| p.weight).collect();
        let range = offset..offset + unit.people.len();
        let nearest = &nearest_at[range.clone()];
        let served_here = &serving.served[range];
        let providers_serving = serving.providers[u] as usize;
        let nearest_km = if nearest.iter().all(Option::is_some) && !nearest.is_empty() {
            Some(mean(&weights, nearest.iter().map(|d| d.unwrap_or(0.0))))
        } else {
            None
        };
        let access_here = &access[offset..offset + unit.people.len()];
        offset += unit.people.len();
        let access_per_100k = mean(&weights, access_here.iter().copied()) * 100_000.0;
        let mut unserved_population = 0.0;
        for ((person, nearest), served) in unit.people.iter().zip(nearest).zip(served_here) {
            let near = nearest.is_some_and(|d| d <= query.threshold_km);
            if !served && !near {
                unserved_population += person.weight;
                if person.weight > 0.0 {
                    unserved.push(Unserved {
                        point: person.point,
                        weight: person.weight,
                    });
                }
            }
        }
        let gap = match nearest_km {
            _ if providers_serving > 0 => Gap::Served,
            Some(d) if d <= query.threshold_km => Gap::Served,
            Some(d) if d <= REACH_KM => Gap::Far,
            _ => Gap::None,
        };
        figures.push(RegionFigures {
            population: unit.population,
            people_points: unit.people.len(),
            providers_serving,
            nearest_km,
            gap,
            unserved_population: unserved_population.round() as u64,
            access_per_100k,
        });
    }
    Ok(Report {
        query: query.clone(),
        units,
        figures,
        matching_providers,
        unserved,
    })
}

/// Weighted mean of `values`; the plain mean when the weights add up to 0.
fn mean(weights: &[f64], values: impl Iterator<Item = f64>) -> f64 {
    let values: Vec<f64> = values.collect();
    if values.is_empty() {
        return 0.0;
    }
    let total: f64 = weights.iter().sum();
    if total > 0.0 {
        weights.iter().zip(&values).map(|(w, v)| w * v).sum::<f64>() / total
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// Where the gazetteer places each of `unit`'s people points (reverse
/// geocoding only H3 cell centres, whose place is not known) and the
/// distance to its nearest matching provider, km.
fn unit_points(
    gazetteer: &Gazetteer,
    directory: &Directory,
    geometry: Geometry,
    filter: &CompiledFilter<'_>,
    unit: &Unit<'_>,
) -> Vec<(Reverse, Option<f64>)> {
    unit.people
        .iter()
        .map(|person| {
            let place = if unit.kind == UnitKind::H3 && person.place.is_none() {
                gazetteer.reverse(person.point)
            } else {
                person.reverse()
            };
            let nearest_km = directory
                .nearest_matching(geometry, person.point, 1, None, filter, |_| true)
                .first()
                .map(|&(_, km)| km);
            (place, nearest_km)
        })
        .collect()
}
