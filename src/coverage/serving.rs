//! Which matching providers serve which people points, computed from the
//! providers' side: each matching provider's resolved service area is
//! walked part by part and marks the people points it covers.
//!
//! Asking [`Directory::covering_in`] at every people point returns every
//! provider covering it, matching or not; at 1M providers with state-wide
//! areas that is thousands per point and dominated the report. Walking
//! only the matching providers costs the points they cover.
//!
//! Shared regions (county, state, country) cover the people points that
//! the gazetteer places in them (as `covering_in` trusts the reverse
//! geocode); radius parts are exact great-circle tests; own polygons are a
//! point-in-polygon test on the points in their bounding box; nationwide
//! parts cover the points of their countries (`US` with its territories);
//! worldwide parts cover every point. `tests.rs` checks the result against
//! `covering_in` at every point.

use crate::cancel::{Cancel, Cancelled};
use crate::gazetteer::Reverse;
use crate::index::{nationwide_countries, AreaPart, Directory, Geometry};
use crate::model::{LatLng, RegionKey, EARTH_RADIUS_KM};
use geo::BoundingRect;
use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};
use rustc_hash::FxHashMap;

type Sphere = GeomWithData<[f64; 3], u32>;
type Plane = GeomWithData<[f64; 2], u32>;

fn unit(point: LatLng) -> [f64; 3] {
    let (lat, lon) = (point.lat().to_radians(), point.lon().to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// Served flags per people point and distinct serving providers per unit.
pub(crate) struct Serving {
    /// Per point: some matching provider's area covers it.
    pub served: Vec<bool>,
    /// Per unit: distinct matching providers covering any of its points.
    pub providers: Vec<u32>,
}

/// The people points of a report.
pub(crate) struct People<'a> {
    /// Where each point is.
    pub points: &'a [LatLng],
    /// Where the gazetteer places each point.
    pub places: &'a [Reverse],
    /// The unit (region) of each point.
    pub unit_of: &'a [u32],
    /// Number of units.
    pub units: usize,
}

/// Marks, for the `providers` (indexes into `directory`, their areas as
/// seen in `geometry`), the `people` points that their service areas cover;
/// gives up, checking once per provider, when `cancel` is cancelled.
pub(crate) fn serving(
    directory: &Directory,
    geometry: Geometry,
    people: &People<'_>,
    providers: &[u32],
    threads: usize,
    cancel: &Cancel,
) -> Result<Serving, Cancelled> {
    let People {
        points,
        places,
        unit_of,
        units,
    } = *people;
    let mut by_key: FxHashMap<RegionKey, Vec<u32>> = FxHashMap::default();
    for (i, place) in places.iter().enumerate() {
        for key in place.region_keys() {
            by_key.entry(key).or_default().push(i as u32);
        }
    }
    let sphere = RTree::bulk_load(
        points
            .iter()
            .enumerate()
            .map(|(i, p)| Sphere::new(unit(*p), i as u32))
            .collect(),
    );
    let plane = RTree::bulk_load(
        points
            .iter()
            .enumerate()
            .map(|(i, p)| Plane::new([p.lon(), p.lat()], i as u32))
            .collect(),
    );
    let all: Vec<u32> = (0..points.len() as u32).collect();
    let threads = threads.clamp(1, 16);
    let chunk = providers.len().div_ceil(threads).max(1);
    let parts: Vec<(Vec<bool>, Vec<u32>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = providers
            .chunks(chunk)
            .map(|mine| {
                let (by_key, sphere, plane, all) = (&by_key, &sphere, &plane, &all);
                scope.spawn(move || {
                    let mut served = vec![false; points.len()];
                    let mut count = vec![0u32; units];
                    let mut last = vec![u32::MAX; units];
                    let mut mark = |provider: u32, p: u32| {
                        served[p as usize] = true;
                        let u = unit_of[p as usize] as usize;
                        if last[u] != provider {
                            last[u] = provider;
                            count[u] += 1;
                        }
                    };
                    for &provider in mine {
                        if cancel.is_cancelled() {
                            break;
                        }
                        let Some(area) = directory.area(geometry, provider) else {
                            continue;
                        };
                        for part in area.parts() {
                            match part {
                                AreaPart::Shared(region) => {
                                    let people = region.region_key().and_then(|k| by_key.get(k));
                                    for &p in people.map_or(&[][..], Vec::as_slice) {
                                        mark(provider, p);
                                    }
                                }
                                AreaPart::Nationwide(code) => {
                                    for country in nationwide_countries(code) {
                                        let key = RegionKey::Country((*country).to_owned());
                                        for &p in by_key.get(&key).map_or(&[][..], Vec::as_slice) {
                                            mark(provider, p);
                                        }
                                    }
                                }
                                AreaPart::Worldwide => {
                                    for &p in all {
                                        mark(provider, p);
                                    }
                                }
                                AreaPart::Radius { center, radius_km } => {
                                    let chord = 2.0
                                        * (radius_km / (2.0 * EARTH_RADIUS_KM))
                                            .min(std::f64::consts::FRAC_PI_2)
                                            .sin();
                                    let reach = (chord * (1.0 + 1e-9) + 1e-12).powi(2);
                                    for near in sphere.locate_within_distance(unit(*center), reach)
                                    {
                                        if points[near.data as usize].distance_km(*center)
                                            <= *radius_km
                                        {
                                            mark(provider, near.data);
                                        }
                                    }
                                }
                                AreaPart::Polygon(region) => {
                                    let Some(rect) = region.shape().bounding_rect() else {
                                        continue;
                                    };
                                    let envelope = AABB::from_corners(
                                        [rect.min().x, rect.min().y],
                                        [rect.max().x, rect.max().y],
                                    );
                                    for inside in plane.locate_in_envelope(&envelope) {
                                        if region.covers(points[inside.data as usize]) {
                                            mark(provider, inside.data);
                                        }
                                    }
                                }
                            }
                        }
                    }
                    (served, count)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    cancel.check()?;
    let mut served = vec![false; points.len()];
    let mut counts = vec![0u32; units];
    for (s, c) in parts {
        for (a, b) in served.iter_mut().zip(s) {
            *a |= b;
        }
        for (a, b) in counts.iter_mut().zip(c) {
            *a += b;
        }
    }
    Ok(Serving {
        served,
        providers: counts,
    })
}
