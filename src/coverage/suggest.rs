//! Where to add providers: greedy maximal coverage over the gazetteer's
//! places.
//!
//! # References
//! Church, R. and ReVelle, C. (1974). The maximal covering location
//! problem. *Papers of the Regional Science Association* 32, 101–118. The
//! greedy choice (with lazy re-evaluation of gains, which is exact for this
//! submodular objective) reaches at least `1 − 1/e` of the optimum
//! (Nemhauser, Wolsey and Fisher 1978).

use super::figures::Report;
use crate::cancel::{Cancel, Cancelled};
use crate::gazetteer::Gazetteer;
use crate::model::{LatLng, EARTH_RADIUS_KM};
use rstar::primitives::GeomWithData;
use rstar::RTree;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// One suggested site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Site {
    /// 1 for the first site chosen.
    pub rank: usize,
    /// GeoNames id of the place.
    pub geonameid: u64,
    /// Place name.
    pub name: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// USPS code (US) or GeoNames admin1.
    pub admin1: String,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Persons newly brought within the threshold by this site.
    pub population_added: u64,
    /// Persons brought within the threshold by this and the earlier sites.
    pub cumulative_population: u64,
}

/// The answer of [`suggest`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The sites in the order chosen; fewer than asked when no candidate
    /// adds anyone.
    pub sites: Vec<Site>,
    /// Persons without help before the new sites.
    pub unserved_before: u64,
    /// Persons still without help after them.
    pub unserved_after: u64,
    /// Candidate places considered.
    pub candidates: usize,
}

type Point = GeomWithData<[f64; 3], u32>;

fn unit(point: LatLng) -> [f64; 3] {
    let (lat, lon) = (point.lat().to_radians(), point.lon().to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// Chooses up to `report.query.sites` sites among the populated places of
/// the report's regions, one at a time, each the place that brings the most
/// people still without help within `threshold_km` (great-circle) of a
/// provider. People without help are those of the report's people points
/// that no matching provider serves and whose nearest matching provider is
/// beyond the threshold. Ties go to the earlier place in the gazetteer.
///
/// # Errors
/// [`Cancelled`] when `cancel` is cancelled (checked per candidate place
/// and per step of the greedy choice).
pub fn suggest(
    report: &Report<'_>,
    gazetteer: &Gazetteer,
    threads: usize,
    cancel: &Cancel,
) -> Result<Suggestion, Cancelled> {
    let threshold_km = report.query.threshold_km;
    let unserved = &report.unserved;
    let mut candidates: Vec<u32> = report
        .units
        .iter()
        .flat_map(|u| u.people.iter().filter_map(|p| p.place))
        .filter(|&i| gazetteer.places()[i as usize].population > 0)
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    let tree = RTree::bulk_load(
        unserved
            .iter()
            .enumerate()
            .map(|(i, u)| Point::new(unit(u.point), i as u32))
            .collect(),
    );
    let chord = 2.0
        * (threshold_km / (2.0 * EARTH_RADIUS_KM))
            .min(std::f64::consts::FRAC_PI_2)
            .sin();
    let reach = (chord * (1.0 + 1e-9) + 1e-12).powi(2);
    let places = gazetteer.places();
    // The unserved points within reach of candidate `c`, visited one by
    // one: asked again whenever a gain is needed rather than stored, so
    // memory stays proportional to the candidates (a stored list per
    // candidate at threshold_km = 1000 was gigabytes).
    let within = |c: usize, visit: &mut dyn FnMut(u32)| {
        let at = places[candidates[c] as usize].point;
        for p in tree.locate_within_distance(unit(at), reach) {
            if unserved[p.data as usize].point.distance_km(at) <= threshold_km {
                visit(p.data);
            }
        }
    };
    // Gains in thousandths of a person, so the heap orders integers.
    let milli = |w: f64| (w * 1000.0).round() as u64;
    let gain = |c: usize, covered: &[bool]| -> u64 {
        let mut total = 0;
        within(c, &mut |p| {
            if !covered[p as usize] {
                total += milli(unserved[p as usize].weight);
            }
        });
        total
    };
    let threads = threads.clamp(1, 16);
    let chunk = candidates.len().div_ceil(threads).max(1);
    let mut covered = vec![false; unserved.len()];
    // The first gains, on up to `threads` threads.
    let first: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..candidates.len())
            .collect::<Vec<usize>>()
            .chunks(chunk)
            .map(|part| {
                let (gain, covered) = (&gain, &covered);
                let part = part.to_vec();
                scope.spawn(move || {
                    part.iter()
                        .take_while(|_| !cancel.is_cancelled())
                        .map(|&c| gain(c, covered))
                        .collect::<Vec<u64>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    cancel.check()?;
    let mut heap: BinaryHeap<(u64, Reverse<usize>)> = first
        .iter()
        .enumerate()
        .map(|(c, g)| (*g, Reverse(c)))
        .filter(|(g, _)| *g > 0)
        .collect();
    let before: f64 = unserved.iter().map(|u| u.weight).sum();
    let mut sites = Vec::new();
    let mut cumulative = 0.0;
    while sites.len() < report.query.sites {
        cancel.check()?;
        let Some((stale, Reverse(c))) = heap.pop() else {
            break;
        };
        let fresh = gain(c, &covered);
        if fresh == 0 {
            continue;
        }
        // Gains only shrink: a fresh gain still at least the next stale
        // one is the best.
        if fresh < stale && heap.peek().is_some_and(|top| *top > (fresh, Reverse(c))) {
            heap.push((fresh, Reverse(c)));
            continue;
        }
        let mut added = 0.0;
        within(c, &mut |p| {
            if !covered[p as usize] {
                covered[p as usize] = true;
                added += unserved[p as usize].weight;
            }
        });
        cumulative += added;
        let place = &places[candidates[c] as usize];
        sites.push(Site {
            rank: sites.len() + 1,
            geonameid: place.geonameid,
            name: place.name.clone(),
            country: place.country.clone(),
            admin1: place.admin1.clone(),
            lat: place.point.lat(),
            lon: place.point.lon(),
            population_added: added.round() as u64,
            cumulative_population: cumulative.round() as u64,
        });
    }
    Ok(Suggestion {
        sites,
        unserved_before: before.round() as u64,
        unserved_after: (before - cumulative).max(0.0).round() as u64,
        candidates: candidates.len(),
    })
}
