//! What one coverage request may cost, sized before it runs.
//!
//! A report's memory grows with its regions (each has an outline, people
//! points and a Feature in the body) and its time with its people points
//! times the matching providers (each point asks for its nearest matching
//! provider, each provider's service area marks the points it covers, and
//! 2SFCA pairs them within the catchment). [`size`] estimates both from
//! the query alone, without tiling or searching: the region count (for H3,
//! the area over the cell area), the people points (the regions plus the
//! populated places in the area, an upper bound) and the matching
//! providers (one pass over the directory's attribute masks). [`Budget`]
//! refuses a request whose estimate is over it, naming the parameter to
//! change.

use super::query::{CoverageQuery, Purpose, RegionSet};
use super::regions::estimated_cells;
use super::CoverageError;
use crate::gazetteer::{is_us_or_territory, Gazetteer};
use crate::index::Directory;
use crate::model::{BoundingBox, Vocabulary};

/// Default most regions one report may have (H3 cells at resolution 6 over
/// about a third of the contiguous US; every county, state or country).
pub const DEFAULT_MAX_REGIONS: usize = 80_000;

/// Default most people points × matching providers one report may pair.
pub const DEFAULT_MAX_POINT_PAIRS: u64 = 1_000_000_000;

/// Default most candidate sites × people points within `threshold_km` of
/// a candidate one suggestion may weigh.
pub const DEFAULT_MAX_REACH_PAIRS: u64 = 200_000_000;

/// Land area of the US with its territories, km², for the share of a
/// county or state region set within `threshold_km` of a candidate.
const US_KM2: f64 = 9_850_000.0;

/// Area of the Earth's land where people live (the 149 million km² of
/// land less deserts, ice and tundra, roughly), km², for the country region
/// set: places cluster, so the whole land area would understate how many
/// lie within reach of a candidate.
const LAND_KM2: f64 = 50_000_000.0;

/// Bounding box of the contiguous US, `[west, south, east, north]`
/// degrees, for counting the places an H3 report without a bbox covers.
const CONTIGUOUS_US_BBOX: BoundingBox = BoundingBox {
    min_lon: -125.0,
    min_lat: 24.0,
    max_lon: -66.5,
    max_lat: 49.5,
};

/// Area of the contiguous US, km² (as the H3 cell estimate uses).
const CONTIGUOUS_US_KM2: f64 = 8_080_000.0;

/// What one coverage request may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Most regions (H3 cells, counties, states or countries).
    pub max_regions: usize,
    /// Most people points × matching providers.
    pub max_point_pairs: u64,
    /// Most candidate sites × people points within `threshold_km` of a
    /// candidate (suggestions only).
    pub max_reach_pairs: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_regions: DEFAULT_MAX_REGIONS,
            max_point_pairs: DEFAULT_MAX_POINT_PAIRS,
            max_reach_pairs: DEFAULT_MAX_REACH_PAIRS,
        }
    }
}

/// The estimated size of a coverage request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Size {
    /// Regions (for H3, the area over the cell area, rounded up).
    pub regions: usize,
    /// People points, at most: the regions plus the populated places in
    /// the area.
    pub people_points: usize,
    /// Providers that match the need (the on-the-ground rule aside).
    pub matching_providers: usize,
    /// Candidate sites for suggestions, at most: the populated places in
    /// the area.
    pub candidates: usize,
    /// Share of the area within `threshold_km` of one point (0–1): the
    /// disc's area over the area's.
    pub reach_share: f64,
}

impl Size {
    /// People points × matching providers.
    pub fn point_pairs(&self) -> u64 {
        (self.people_points as u64).saturating_mul(self.matching_providers as u64)
    }

    /// Candidate sites × people points within `threshold_km` of each
    /// (people points spread evenly over the area: a rough figure).
    pub fn reach_pairs(&self) -> u64 {
        (self.candidates as f64 * self.people_points as f64 * self.reach_share).ceil() as u64
    }
}

/// Sizes `query` over `directory` without running it.
///
/// # Errors
/// [`CoverageError::Tiling`] for an H3 resolution h3o does not have.
pub fn size(
    gazetteer: &Gazetteer,
    directory: &Directory,
    vocabulary: &Vocabulary,
    query: &CoverageQuery,
) -> Result<Size, CoverageError> {
    let places = gazetteer.places().iter().filter(|p| p.population > 0);
    let (regions, places, area_km2) = match &query.regions {
        RegionSet::County => (
            gazetteer.counties().len(),
            places.filter(|p| p.county_fips.is_some()).count(),
            US_KM2,
        ),
        RegionSet::State => (
            gazetteer.states().len(),
            places.filter(|p| is_us_or_territory(&p.country)).count(),
            US_KM2,
        ),
        RegionSet::Country => (gazetteer.countries().len(), places.count(), LAND_KM2),
        RegionSet::H3 { resolution, bbox } => {
            let area = bbox.unwrap_or(CONTIGUOUS_US_BBOX);
            let inside = places
                .filter(|p| area.contains(p.point.lat(), p.point.lon()))
                .count();
            let cells = estimated_cells(*resolution, bbox.as_ref())?;
            let area_km2 = bbox.map_or(CONTIGUOUS_US_KM2, |b| b.area_km2());
            (cells, inside, area_km2)
        }
    };
    let filter = directory.compile(&query.attribute_filter(vocabulary));
    let matching_providers = (0..directory.len() as u32)
        .filter(|&i| filter.accepts(i))
        .count();
    let disc_km2 = std::f64::consts::PI * query.threshold_km.powi(2);
    Ok(Size {
        regions,
        people_points: regions.saturating_add(places),
        matching_providers,
        candidates: places,
        reach_share: (disc_km2 / area_km2.max(1.0)).min(1.0),
    })
}

/// Area of a `[west, south, east, north]` box, km², on the sphere.
impl Budget {
    /// `Ok` when `size` is within the budget.
    ///
    /// # Errors
    /// [`CoverageError::OverBudget`] naming the parameter to change
    /// (`resolution` or `bbox` for H3, else `by`) with the estimate and
    /// the budget.
    pub fn check(
        &self,
        query: &CoverageQuery,
        purpose: Purpose,
        size: &Size,
    ) -> Result<(), CoverageError> {
        let parameter = match query.regions {
            RegionSet::H3 { bbox: None, .. } => "resolution",
            RegionSet::H3 { .. } => "bbox",
            _ => "by",
        };
        let ask_less = match query.regions {
            RegionSet::H3 { bbox: None, .. } => {
                "choose a coarser resolution or give a bbox around the area you need"
            }
            RegionSet::H3 { .. } => "choose a coarser resolution or a smaller bbox",
            _ => "choose fewer regions or a narrower need (issue, language, kind)",
        };
        if size.regions > self.max_regions {
            return Err(CoverageError::OverBudget {
                parameter,
                detail: format!(
                    "this report would have about {} regions; one request may have at most {}; {ask_less}",
                    size.regions, self.max_regions
                ),
            });
        }
        if size.point_pairs() > self.max_point_pairs {
            return Err(CoverageError::OverBudget {
                parameter,
                detail: format!(
                    "this report would pair about {} people points with {} matching providers ({} pairs); one request may pair at most {}; {ask_less}",
                    size.people_points,
                    size.matching_providers,
                    size.point_pairs(),
                    self.max_point_pairs
                ),
            });
        }
        if purpose == Purpose::Suggest && size.reach_pairs() > self.max_reach_pairs {
            return Err(CoverageError::OverBudget {
                parameter: "threshold_km",
                detail: format!(
                    "this suggestion would weigh about {} candidate sites against the people within {} km of each (about {} pairs); one request may weigh at most {}; choose a smaller threshold_km or fewer regions",
                    size.candidates,
                    query.threshold_km,
                    size.reach_pairs(),
                    self.max_reach_pairs
                ),
            });
        }
        Ok(())
    }
}
