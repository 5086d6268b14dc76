//! The directory snapshot: spatial and attribute indexes over providers.
//!
//! [`Directory::build`] takes validated providers and the gazetteer and
//! returns an immutable, `Send + Sync` snapshot, meant to be shared behind an
//! `Arc` (and swapped whole for a live update). It holds:
//!
//! - a static tree of provider locations as 3-D unit vectors, so nearest by
//!   chord is nearest by great circle, across the antimeridian and at the
//!   poles, whose nodes also summarise their providers' attributes, so a
//!   filtered search skips groups that cannot pass
//!   ([`Directory::nearest_matching`] with an [`AttributeFilter`]);
//! - the service areas resolved by [`AreaResolver`]: radius caps in a second
//!   R-tree, shared administrative [`Region`]s and own polygons in an H3
//!   coverage index (compacted cell → regions), nationwide and worldwide
//!   lists ([`Directory::covering`]);
//! - attribute [`Bitset`]s per issue, language, population, kind and for
//!   24-hour availability.
//!
//! Code map: `area.rs` (area specs → [`ResolvedArea`]), `coverage.rs` (H3
//! cell index), `sphere.rs` (unit-sphere maths), `bitset.rs`, `filter.rs`
//! (attribute filters and summary bits), `point_tree.rs` (the pruned
//! nearest search), `directory.rs` (the snapshot and its queries),
//! `tiles.rs` (tiled regions kept in a file between server starts).
//!
//! Coordinates are WGS84 degrees (`LatLng` is latitude first; boundaries are
//! `[lon, lat]`); distances are kilometres on a sphere of radius
//! [`EARTH_RADIUS_KM`](crate::model::EARTH_RADIUS_KM).

mod area;
mod bitset;
mod coverage;
mod directory;
mod filter;
mod load;
mod point_tree;
mod sphere;
#[cfg(test)]
pub(crate) mod test_support;
mod tiles;

pub use area::{
    nationwide_countries, AreaError, AreaPart, AreaResolver, Region, RegionCache, ResolvedArea,
};
pub use bitset::Bitset;
pub use directory::{
    coarse_cell, coarsen, Directory, Geometry, MemoryUse, COARSE_LOCATION_RESOLUTION,
};
pub use filter::{AttributeFilter, CompiledFilter};
pub use load::LoadError;
pub use tiles::{TileFileError, TILING_VERSION};

use h3o::Resolution;

/// Finest H3 resolution accepted for region covers.
pub const MAX_RESOLUTION: u8 = 8;
/// Coarsest H3 resolution accepted for region covers.
pub const MIN_RESOLUTION: u8 = 3;

/// How the index is built.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexOptions {
    /// H3 resolution at which region boundaries are tiled, 3–8 (default 5:
    /// cells of about 250 km², edges of about 9 km). Finer means fewer
    /// point-in-polygon checks near borders and more memory.
    pub resolution: u8,
    /// Largest cover a single region may have at `resolution`, as h3o's
    /// upper-bound estimate of the cell count (it over-counts several
    /// times); a larger region (Texas, Alaska, a big country, a huge
    /// polygon) is tiled at the finest coarser resolution that fits.
    /// Coarser cells only mean more point-in-polygon checks. Default 20,000.
    pub max_cells_per_region: usize,
    /// Threads used to tile regions (default: available parallelism).
    pub threads: usize,
}

impl Default for IndexOptions {
    fn default() -> Self {
        Self {
            resolution: 5,
            max_cells_per_region: 20_000,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }
}

impl IndexOptions {
    /// The H3 resolution, checked to be in [`MIN_RESOLUTION`]–[`MAX_RESOLUTION`].
    ///
    /// # Errors
    /// [`IndexError::Resolution`] otherwise.
    pub fn h3_resolution(&self) -> Result<Resolution, IndexError> {
        if !(MIN_RESOLUTION..=MAX_RESOLUTION).contains(&self.resolution) {
            return Err(IndexError::Resolution(self.resolution));
        }
        Resolution::try_from(self.resolution).map_err(|_| IndexError::Resolution(self.resolution))
    }
}

/// Why a directory could not be built at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IndexError {
    /// The H3 resolution is outside the accepted range.
    #[error("H3 resolution {0} is not supported; use {MIN_RESOLUTION} to {MAX_RESOLUTION}")]
    Resolution(u8),
    /// More providers than a `u32` index can address.
    #[error("{0} providers is more than the index can hold (at most {max})", max = u32::MAX)]
    TooManyProviders(usize),
}

/// A provider left out of the directory, and why. Nothing is dropped
/// without one of these.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// The provider's `id`.
    pub provider_id: String,
    /// Its position in the input given to [`Directory::build`].
    pub input_index: usize,
    /// What was wrong.
    pub reason: RejectionReason,
}

/// Why a provider was left out of the directory.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RejectionReason {
    /// Its service area could not be resolved.
    #[error("service area: {0}")]
    Area(#[from] AreaError),
    /// Another provider earlier in the input has the same `id`.
    #[error("duplicate id: an earlier provider has the same id")]
    DuplicateId,
}

impl RejectionReason {
    /// The input field at fault: `id` for a repeated id, `service_area`
    /// for an area that cannot be resolved.
    pub fn field(&self) -> &'static str {
        match self {
            RejectionReason::DuplicateId => "id",
            RejectionReason::Area(_) => "service_area",
        }
    }
}

impl Rejection {
    /// This left-out provider as a rejection of the row it was read from:
    /// `origins[i]` is where input provider `i` was read
    /// ([`Ingested::origins`](crate::ingest::Ingested::origins)); a
    /// provider without one is filed under source `""`, line 0. The one
    /// place a provider dropped by the index becomes an ingest rejection,
    /// so that accepted + rejected still equals rows read.
    pub fn to_row(&self, origins: &[(std::sync::Arc<str>, u64)]) -> crate::ingest::Rejection {
        let (source, line) = origins
            .get(self.input_index)
            .map_or(("", 0), |(source, line)| (&**source, *line));
        crate::ingest::Rejection::new(
            source,
            line,
            Some(self.reason.field()),
            self.reason.to_string(),
        )
    }
}

impl AreaError {
    /// The rejection of row `line` of `source`, whose service area this
    /// error is about (field `service_area`, the error's text as reason):
    /// what a record checked one by one (an edit, an import) is refused
    /// with.
    pub fn to_row(&self, source: &str, line: u64) -> crate::ingest::Rejection {
        crate::ingest::Rejection::new(source, line, Some("service_area"), self.to_string())
    }
}

#[cfg(test)]
mod nearest_tests;
#[cfg(test)]
mod tests;
