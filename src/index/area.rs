//! Service-area resolution: [`AreaSpec`]s as written in a directory become a
//! [`ResolvedArea`], a union of parts that can be tested against a point.
//!
//! Administrative areas (states, counties, countries, and ZIP codes through
//! their county) resolve to a shared [`Region`]: its boundary and its
//! compacted H3 cells, computed once and handed to every provider that names
//! the same area as the same `Arc`. A radius stays a centre and a distance
//! (decided by a great-circle check, never rasterised); nationwide and
//! worldwide areas stay flags.

use super::tiles::{self, TileFileError};
use super::IndexOptions;
use crate::gazetteer::{Gazetteer, US_TERRITORIES};
use crate::model::{AreaSpec, LatLng, RegionKey};
use geo::{BoundingRect, Coord, Intersects, MultiPolygon, Polygon, Rect};
use h3o::geom::{ContainmentMode, TilerBuilder};
use h3o::{CellIndex, Resolution};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Why a service area could not be resolved. Each variant names the
/// offending value; ingest turns these into rejection rows.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AreaError {
    /// A state or territory code (or name) the gazetteer does not know.
    #[error("unknown US state or territory '{0}'; use a USPS code such as CA or PR")]
    UnknownState(String),
    /// A county FIPS code the gazetteer does not know.
    #[error("unknown county FIPS '{0}'; use the five-digit code, e.g. 06019")]
    UnknownCounty(String),
    /// A ZIP code the gazetteer does not know.
    #[error("unknown ZIP code '{0}'; use a five-digit US ZIP")]
    UnknownZip(String),
    /// A known ZIP code whose county is not in the gazetteer.
    #[error("ZIP code '{0}' has no county in the gazetteer; name the county instead")]
    ZipWithoutCounty(String),
    /// A country code (or name) the gazetteer does not know.
    #[error("unknown country '{0}'; use an ISO 3166-1 alpha-2 code such as MX")]
    UnknownCountry(String),
    /// A state, county or country the gazetteer has no outline for.
    #[error("{0} has no boundary in the gazetteer; use nationwide or a radius instead")]
    NoBoundary(String),
    /// A radius area on a provider without a location.
    #[error("a radius area needs the provider's location, and it has none")]
    RadiusWithoutLocation,
    /// A radius that is not a positive, finite number of kilometres.
    #[error("radius must be a positive number of km, got {0}")]
    BadRadius(f64),
    /// A polygon that is not a valid GeoJSON MultiPolygon in `[lon, lat]`.
    #[error("invalid polygon: {0}")]
    BadPolygon(String),
}

/// A boundary with its H3 cover: a state, county, country or a provider's
/// own polygon.
///
/// `shape` is in `[lon, lat]` degrees, treated as planar in lon/lat (as the
/// source atlases draw it; polygons must not cross the antimeridian, as
/// RFC 7946 asks). `cells` are the compacted H3 cells whose centroid lies
/// inside the shape plus every cell its outline passes through and their
/// neighbours, so they cover the whole shape and a little more: a point in
/// a cell is a *candidate*, confirmed by [`Region::covers`].
#[derive(Debug)]
pub struct Region {
    key: String,
    /// `key` read as an administrative region; `None` for a provider's
    /// own polygon.
    region_key: Option<RegionKey>,
    shape: MultiPolygon<f64>,
    /// Bounding box of each polygon of `shape`, for a quick reject.
    boxes: Vec<Rect<f64>>,
    resolution: Resolution,
    cells: Vec<CellIndex>,
}

impl Region {
    /// Tiles `shape` (`[lon, lat]` degrees) at `resolution`, or a coarser
    /// one if the cover would exceed `max_cells` cells, and compacts it.
    ///
    /// # Errors
    /// [`AreaError::BadPolygon`] when h3o rejects the geometry.
    pub fn new(
        key: String,
        shape: MultiPolygon<f64>,
        resolution: Resolution,
        max_cells: usize,
    ) -> Result<Self, AreaError> {
        let shape = crate::gazetteer::clean_outline(shape);
        let boxes = shape.0.iter().filter_map(|p| p.bounding_rect()).collect();
        // h3o cannot tile a polygon wider than 180° of longitude (it does
        // not finish on Antarctica); such a polygon is a candidate in every
        // base cell and left to the point-in-polygon test.
        let (narrow, wide): (Vec<&Polygon<f64>>, Vec<&Polygon<f64>>) = shape
            .0
            .iter()
            .partition(|p| p.bounding_rect().is_some_and(|r| r.width() <= 180.0));
        let mut resolution = resolution;
        // Interior cells by centroid (cheap), then every cell the outline
        // passes through (see `outline_cells`): together they cover every
        // point of the polygon without a geometric intersection test per
        // candidate cell, which made `Covers` tiling the bulk of ingest.
        let tiler = loop {
            let mut tiler = TilerBuilder::new(resolution)
                .containment_mode(ContainmentMode::ContainsCentroid)
                // Polygons are split at the antimeridian above; the
                // heuristic would misread a wide polygon.
                .disable_transmeridian_heuristic()
                .build();
            for polygon in &narrow {
                tiler
                    .add((*polygon).clone())
                    .map_err(|e| AreaError::BadPolygon(format!("{key}: {e}")))?;
            }
            match resolution.pred() {
                Some(coarser) if tiler.coverage_size_hint() > max_cells => resolution = coarser,
                _ => break tiler,
            }
        };
        let mut cells: Vec<CellIndex> = tiler.into_coverage().collect();
        for polygon in &narrow {
            outline_cells(polygon, resolution, &mut cells);
        }
        cells.sort_unstable();
        cells.dedup();
        // Cannot fail: the cells are unique and of one resolution.
        let _ = CellIndex::compact(&mut cells);
        if !wide.is_empty() {
            cells.extend(CellIndex::base_cells());
            cells.sort_unstable();
            cells.dedup();
        }
        cells.shrink_to_fit();
        Ok(Self {
            region_key: RegionKey::parse(&key),
            key,
            shape,
            boxes,
            resolution,
            cells,
        })
    }

    /// A region from cells tiled earlier from this same `shape` at
    /// `resolution` (see the tile file, `tiles.rs`): no tiling.
    pub(crate) fn from_cells(
        key: String,
        shape: MultiPolygon<f64>,
        resolution: Resolution,
        cells: Vec<CellIndex>,
    ) -> Self {
        let shape = crate::gazetteer::clean_outline(shape);
        let boxes = shape.0.iter().filter_map(|p| p.bounding_rect()).collect();
        Self {
            region_key: RegionKey::parse(&key),
            key,
            shape,
            boxes,
            resolution,
            cells,
        }
    }

    /// The cache key: `state:CA`, `county:06019`, `country:MX`, or
    /// `polygon:<n>` for a provider's own polygon (`n`: its position in
    /// the provider's area list).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The administrative region it is (its [`Region::key`], typed);
    /// `None` for a provider's own polygon.
    pub fn region_key(&self) -> Option<&RegionKey> {
        self.region_key.as_ref()
    }

    /// The boundary, `[lon, lat]` degrees.
    pub fn shape(&self) -> &MultiPolygon<f64> {
        &self.shape
    }

    /// The compacted H3 cells covering the boundary (mixed resolutions, none
    /// finer than [`Region::resolution`]).
    pub fn cells(&self) -> &[CellIndex] {
        &self.cells
    }

    /// The H3 resolution the boundary was tiled at: the configured one, or
    /// coarser for a very large area (see [`IndexOptions::max_cells_per_region`]).
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// True when `point` lies inside the boundary or on it (a point on a
    /// shared border belongs to both sides). Planar test in lon/lat degrees.
    pub fn covers(&self, point: LatLng) -> bool {
        let coord = Coord {
            x: point.lon(),
            y: point.lat(),
        };
        self.shape
            .0
            .iter()
            .zip(&self.boxes)
            .any(|(polygon, rect)| rect.intersects(&coord) && polygon.intersects(&coord))
    }

    /// Approximate heap bytes held (shape and cells).
    pub(crate) fn heap_bytes(&self) -> usize {
        let coords: usize = self
            .shape
            .0
            .iter()
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
            .sum();
        coords * std::mem::size_of::<Coord<f64>>()
            + self.cells.capacity() * 8
            + self.boxes.capacity() * std::mem::size_of::<Rect<f64>>()
            + self.key.capacity()
    }
}

/// One part of a provider's resolved service area.
#[derive(Debug, Clone)]
pub enum AreaPart {
    /// Every point within `radius_km` kilometres (great-circle) of `center`.
    Radius {
        /// The provider's location.
        center: LatLng,
        /// Radius in km.
        radius_km: f64,
    },
    /// A state, county or country, shared with every provider naming it. A
    /// ZIP code resolves to the county holding it.
    Shared(Arc<Region>),
    /// A provider's own polygon.
    Polygon(Arc<Region>),
    /// A whole country by ISO 3166-1 alpha-2 code, decided by reverse
    /// geocoding the point; `US` also covers PR, GU, VI, AS and MP.
    Nationwide(String),
    /// Everywhere, open ocean included.
    Worldwide,
}

/// A provider's service area: the union of its parts. An empty area covers
/// nothing (the provider is still found by distance).
#[derive(Debug, Clone, Default)]
pub struct ResolvedArea {
    parts: Parts,
}

/// The parts of a [`ResolvedArea`]. Most areas have one part, kept in
/// place: a directory holds an area per provider, and a one-part `Vec`
/// allocates room for four (144 B of heap at a million providers is
/// 144 MB). Several parts are kept in a slice sized to fit.
#[derive(Debug, Clone)]
enum Parts {
    /// Exactly one part.
    One(AreaPart),
    /// None, or more than one.
    Many(Box<[AreaPart]>),
}

impl Default for Parts {
    fn default() -> Self {
        Parts::Many(Box::default())
    }
}

impl From<Vec<AreaPart>> for Parts {
    fn from(mut parts: Vec<AreaPart>) -> Self {
        if parts.len() == 1 {
            if let Some(part) = parts.pop() {
                return Parts::One(part);
            }
        }
        Parts::Many(parts.into_boxed_slice())
    }
}

impl ResolvedArea {
    /// The parts, in the order they were written.
    pub fn parts(&self) -> &[AreaPart] {
        match &self.parts {
            Parts::One(part) => std::slice::from_ref(part),
            Parts::Many(parts) => parts,
        }
    }

    /// True when the area has no parts.
    pub fn is_empty(&self) -> bool {
        self.parts().is_empty()
    }

    /// Bytes of heap the part list takes (none for a single part).
    pub fn heap_bytes(&self) -> usize {
        match &self.parts {
            Parts::One(_) => 0,
            Parts::Many(parts) => std::mem::size_of_val(&**parts),
        }
    }

    /// The same area with every radius part centred on `center` instead:
    /// how the public sees the area of a provider whose location is
    /// confidential (centred on its coarsened point).
    pub(crate) fn recentred(&self, center: LatLng) -> ResolvedArea {
        let parts: Vec<AreaPart> = self
            .parts()
            .iter()
            .map(|part| match part {
                AreaPart::Radius { radius_km, .. } => AreaPart::Radius {
                    center,
                    radius_km: *radius_km,
                },
                other => other.clone(),
            })
            .collect();
        ResolvedArea {
            parts: parts.into(),
        }
    }

    /// True when some part is a radius around the provider's location.
    pub fn has_radius(&self) -> bool {
        self.parts()
            .iter()
            .any(|part| matches!(part, AreaPart::Radius { .. }))
    }

    /// Exact test, part by part: does the area cover `point`? `country` is
    /// the ISO alpha-2 country holding the point (from
    /// [`Gazetteer::reverse`]), used for nationwide parts. This is the
    /// reference the index's [`covering`](super::Directory::covering) agrees
    /// with (which also trusts the gazetteer's coastal tolerance).
    pub fn covers(&self, point: LatLng, country: Option<&str>) -> bool {
        self.parts().iter().any(|part| match part {
            AreaPart::Radius { center, radius_km } => center.distance_km(point) <= *radius_km,
            AreaPart::Shared(region) | AreaPart::Polygon(region) => region.covers(point),
            AreaPart::Nationwide(code) => country.is_some_and(|c| nationwide_covers(code, c)),
            AreaPart::Worldwide => true,
        })
    }
}

/// The countries a nationwide area for `code` covers: `US` with its
/// territories, any other code itself.
pub fn nationwide_countries(code: &str) -> Vec<&str> {
    if code == "US" {
        std::iter::once("US").chain(US_TERRITORIES).collect()
    } else {
        vec![code]
    }
}

fn nationwide_covers(code: &str, country: &str) -> bool {
    nationwide_countries(code).contains(&country)
}

/// Shared regions already tiled, by key, carried from one
/// [`AreaResolver`] to the next.
#[derive(Debug, Clone, Default)]
pub struct RegionCache(FxHashMap<String, Arc<Region>>);

/// Resolves service areas against the gazetteer, caching regions by key so
/// every provider naming the same county shares one [`Region`].
///
/// ```no_run
/// # let gazetteer = refmatch::gazetteer::Gazetteer::bundled().unwrap();
/// use refmatch::index::{AreaResolver, IndexOptions};
/// use refmatch::model::AreaSpec;
/// let mut resolver = AreaResolver::new(&gazetteer, &IndexOptions::default()).unwrap();
/// let fresno = [AreaSpec::Counties { fips: vec!["06019".into()] }];
/// let a = resolver.resolve(&fresno, None).unwrap();
/// let b = resolver.resolve(&fresno, None).unwrap();
/// assert_eq!(a.parts().len(), 1);
/// ```
pub struct AreaResolver<'g> {
    gazetteer: &'g Gazetteer,
    resolution: Resolution,
    max_cells: usize,
    regions: FxHashMap<String, Arc<Region>>,
}

impl<'g> AreaResolver<'g> {
    /// A resolver with an empty cache.
    ///
    /// # Errors
    /// [`super::IndexError::Resolution`] when the options' resolution is not
    /// in 3–8.
    pub fn new(
        gazetteer: &'g Gazetteer,
        options: &IndexOptions,
    ) -> Result<Self, super::IndexError> {
        Ok(Self {
            gazetteer,
            resolution: options.h3_resolution()?,
            max_cells: options.max_cells_per_region,
            regions: FxHashMap::default(),
        })
    }

    /// A resolver that starts with the regions another one resolved (see
    /// [`AreaResolver::into_regions`]), so a rebuild after an edit tiles
    /// only what is new. The regions must come from the same gazetteer and
    /// options.
    ///
    /// # Errors
    /// As for [`AreaResolver::new`].
    pub fn with_regions(
        gazetteer: &'g Gazetteer,
        options: &IndexOptions,
        regions: RegionCache,
    ) -> Result<Self, super::IndexError> {
        let mut resolver = Self::new(gazetteer, options)?;
        resolver.regions = regions.0;
        Ok(resolver)
    }

    /// The regions resolved so far, to seed a later resolver.
    pub fn into_regions(self) -> RegionCache {
        RegionCache(self.regions)
    }

    /// Number of distinct shared regions resolved so far.
    pub fn region_count(&self) -> usize {
        self.regions.len()
    }

    /// Resolves a provider's service area. `location` is the provider's
    /// position, needed by radius parts.
    ///
    /// ZIP codes resolve to the county holding them (the gazetteer has ZIP
    /// centroids, not ZIP outlines), so a ZIP area covers its whole county.
    ///
    /// # Errors
    /// The first [`AreaError`] met: an unknown code, a radius without a
    /// location or with a bad distance, or an invalid polygon.
    pub fn resolve(
        &mut self,
        specs: &[AreaSpec],
        location: Option<LatLng>,
    ) -> Result<ResolvedArea, AreaError> {
        let mut parts = Vec::new();
        for spec in specs {
            match spec {
                AreaSpec::Radius { radius_km } => {
                    let radius_km = *radius_km;
                    if !(radius_km.is_finite() && radius_km > 0.0) {
                        return Err(AreaError::BadRadius(radius_km));
                    }
                    let center = location.ok_or(AreaError::RadiusWithoutLocation)?;
                    parts.push(AreaPart::Radius { center, radius_km });
                }
                AreaSpec::Worldwide => parts.push(AreaPart::Worldwide),
                AreaSpec::Nationwide { country } => {
                    let found = self
                        .gazetteer
                        .country(country)
                        .ok_or_else(|| AreaError::UnknownCountry(country.to_string()))?;
                    parts.push(AreaPart::Nationwide(found.iso2.clone()));
                }
                AreaSpec::Polygon { coordinates } => {
                    let shape = multipolygon(coordinates)?;
                    let key = format!("polygon:{}", parts.len());
                    let region = Region::new(key, shape, self.resolution, self.max_cells)?;
                    parts.push(AreaPart::Polygon(Arc::new(region)));
                }
                AreaSpec::States { .. }
                | AreaSpec::Counties { .. }
                | AreaSpec::Zips { .. }
                | AreaSpec::Countries { .. } => {
                    for key in self.region_keys(spec)? {
                        parts.push(AreaPart::Shared(self.region(&key)?));
                    }
                }
            }
        }
        Ok(ResolvedArea {
            parts: parts.into(),
        })
    }

    /// Tiles every shared region the specs name that is not cached yet, on
    /// up to `threads` threads. Unknown codes are skipped here; `resolve`
    /// reports them.
    pub(crate) fn prefetch<'a>(
        &mut self,
        specs: impl Iterator<Item = &'a AreaSpec>,
        threads: usize,
    ) {
        let mut wanted: Vec<(String, RegionKey)> = Vec::new();
        let mut seen: FxHashMap<String, ()> = FxHashMap::default();
        for spec in specs {
            for key in self.region_keys(spec).unwrap_or_default() {
                let text = key.to_string();
                if !self.regions.contains_key(&text) && seen.insert(text.clone(), ()).is_none() {
                    wanted.push((text, key));
                }
            }
        }
        if wanted.is_empty() {
            return;
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let this = &*self;
        let tiled: Vec<Vec<(String, Region)>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads.clamp(1, wanted.len()))
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some((text, key)) = wanted.get(i) else {
                                break done;
                            };
                            if let Ok(region) = this.tile(key) {
                                done.push((text.clone(), region));
                            }
                        }
                    })
                })
                .collect();
            // A worker only panics on a bug in h3o; its regions are then
            // tiled again on demand by `resolve`.
            workers.into_iter().filter_map(|w| w.join().ok()).collect()
        });
        for (text, region) in tiled.into_iter().flatten() {
            self.regions.insert(text, Arc::new(region));
        }
    }

    /// The canonical region keys an administrative spec names.
    fn region_keys(&self, spec: &AreaSpec) -> Result<Vec<RegionKey>, AreaError> {
        let g = self.gazetteer;
        match spec {
            AreaSpec::States { codes } => codes
                .iter()
                .map(|code| {
                    g.state(code)
                        .map(|s| RegionKey::State(s.code.clone()))
                        .ok_or_else(|| AreaError::UnknownState(code.to_string()))
                })
                .collect(),
            AreaSpec::Counties { fips } => fips
                .iter()
                .map(|code| {
                    g.county(code.trim())
                        .map(|c| RegionKey::County(c.fips.clone()))
                        .ok_or_else(|| AreaError::UnknownCounty(code.to_string()))
                })
                .collect(),
            AreaSpec::Zips { zips } => zips
                .iter()
                .map(|zip| {
                    let found = g
                        .zip(zip.trim())
                        .ok_or_else(|| AreaError::UnknownZip(zip.to_string()))?;
                    found
                        .county_fips
                        .as_deref()
                        .and_then(|fips| g.county(fips))
                        .map(|c| RegionKey::County(c.fips.clone()))
                        .ok_or_else(|| AreaError::ZipWithoutCounty(zip.to_string()))
                })
                .collect(),
            AreaSpec::Countries { codes } => codes
                .iter()
                .map(|code| {
                    g.country(code)
                        .map(|c| RegionKey::Country(c.iso2.clone()))
                        .ok_or_else(|| AreaError::UnknownCountry(code.to_string()))
                })
                .collect(),
            _ => Ok(Vec::new()),
        }
    }

    /// The cached region for `key`, tiling it on first use.
    fn region(&mut self, key: &RegionKey) -> Result<Arc<Region>, AreaError> {
        let text = key.to_string();
        if let Some(region) = self.regions.get(&text) {
            return Ok(Arc::clone(region));
        }
        let region = Arc::new(self.tile(key)?);
        self.regions.insert(text, Arc::clone(&region));
        Ok(region)
    }

    /// Builds a region from the gazetteer's outline.
    fn tile(&self, key: &RegionKey) -> Result<Region, AreaError> {
        let text = key.to_string();
        let shape = self
            .boundary(key)
            .ok_or_else(|| AreaError::NoBoundary(text.clone()))?;
        Region::new(text, shape.clone(), self.resolution, self.max_cells)
    }

    /// The gazetteer's boundary for `key`, if it has a non-empty one.
    fn boundary(&self, key: &RegionKey) -> Option<&'g MultiPolygon<f64>> {
        let g = self.gazetteer;
        match key {
            RegionKey::State(code) => g.state(code).map(|s| &s.shape),
            RegionKey::County(fips) => g.county(fips).map(|c| &c.shape),
            RegionKey::Country(iso2) => g.country(iso2).map(|c| &c.shape),
        }
        .filter(|shape| !shape.0.is_empty())
    }

    /// Adds the regions of a tile file written by
    /// [`AreaResolver::save_tiles`] whose gazetteer boundary is unchanged,
    /// so they are not tiled again; returns how many. No file is `Ok(0)`.
    ///
    /// # Errors
    /// [`TileFileError`] when the file cannot be read, or was written by
    /// another tiling version or with other options; the resolver is then
    /// unchanged (and will tile as usual).
    pub fn load_tiles(&mut self, path: &std::path::Path) -> Result<usize, TileFileError> {
        let Some(entries) = tiles::read(path, self.resolution, self.max_cells)? else {
            return Ok(0);
        };
        let mut loaded = 0;
        for entry in entries {
            let Some(shape) = RegionKey::parse(&entry.key).and_then(|k| self.boundary(&k)) else {
                continue;
            };
            if self.regions.contains_key(&entry.key)
                || tiles::fingerprint(shape) != entry.fingerprint
            {
                continue;
            }
            let region =
                Region::from_cells(entry.key, shape.clone(), entry.resolution, entry.cells);
            self.regions
                .insert(region.key().to_owned(), Arc::new(region));
            loaded += 1;
        }
        Ok(loaded)
    }

    /// Writes every state, county and country region resolved so far to a
    /// tile file at `path` (replacing it whole), for
    /// [`AreaResolver::load_tiles`] at the next start; returns how many.
    ///
    /// # Errors
    /// [`TileFileError::Io`] when the file cannot be written.
    pub fn save_tiles(&self, path: &std::path::Path) -> Result<usize, TileFileError> {
        let mut regions: Vec<(u64, &Region)> = self
            .regions
            .iter()
            .filter_map(|(key, region)| {
                let shape = self.boundary(&RegionKey::parse(key)?)?;
                Some((tiles::fingerprint(shape), region.as_ref()))
            })
            .collect();
        regions.sort_by(|a, b| a.1.key().cmp(b.1.key()));
        tiles::write(path, self.resolution, self.max_cells, &regions)?;
        Ok(regions.len())
    }
}

/// Reads GeoJSON MultiPolygon coordinates (`[lon, lat]` degrees), checked
/// by [`crate::ingest::check_polygon`]: closed rings of at least four
/// positions in range, at most [`crate::ingest::MAX_POLYGON_VERTICES`]
/// positions, holes inside their exterior; a ring that crosses itself is
/// repaired (even-odd rule).
fn multipolygon(coordinates: &[Vec<Vec<[f64; 2]>>]) -> Result<MultiPolygon<f64>, AreaError> {
    crate::ingest::check_polygon(coordinates)
        .map(|checked| checked.shape)
        .map_err(|e| AreaError::BadPolygon(e.to_string()))
}

/// Adds every cell at `resolution` that the polygon's outline passes
/// through, and their neighbours. Each ring edge is sampled at most half a
/// cell edge apart (in degrees of latitude, which overstates a degree of
/// longitude, so the spacing is conservative), and each sampled cell brings
/// its ring of neighbours. A cell holding a point of the polygon either has
/// its centroid inside (found by `ContainsCentroid`) or is crossed by the
/// outline, so it is within one ring of a sampled cell.
fn outline_cells(polygon: &Polygon<f64>, resolution: Resolution, cells: &mut Vec<CellIndex>) {
    const KM_PER_DEGREE: f64 = 111.0;
    let step_deg = resolution.edge_length_km() / KM_PER_DEGREE / 2.0;
    let mut sampled: Vec<CellIndex> = Vec::new();
    for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
        for line in ring.lines() {
            let (dx, dy) = (line.end.x - line.start.x, line.end.y - line.start.y);
            let steps = ((dx.hypot(dy) / step_deg).ceil() as usize).max(1);
            for i in 0..=steps {
                let t = i as f64 / steps as f64;
                let (lon, lat) = (line.start.x + t * dx, line.start.y + t * dy);
                if let Ok(point) = h3o::LatLng::new(lat, lon) {
                    sampled.push(point.to_cell(resolution));
                }
            }
        }
    }
    sampled.sort_unstable();
    sampled.dedup();
    for cell in sampled {
        cells.extend(cell.grid_disk::<Vec<_>>(1));
    }
}
