//! The immutable directory snapshot and its queries.

use super::area::{nationwide_countries, AreaPart, AreaResolver, Region, ResolvedArea};
use super::bitset::Bitset;
use super::coverage::CoverageIndex;
use super::filter::{AttributeBits, AttributeFilter, CompiledFilter};
use super::point_tree::PointTree;
use super::sphere::{cap_envelope, unit_vector};
use super::{IndexError, IndexOptions, Rejection, RejectionReason};
use crate::gazetteer::{Gazetteer, Reverse};
use crate::model::{Availability, Kind, LatLng, Provider, RegionKey};
use rstar::{RTree, RTreeObject, AABB};
use rustc_hash::FxHashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

/// A radius area in the cap R-tree: the 3-D box around its spherical cap.
#[derive(Debug, Clone)]
struct Cap {
    envelope: AABB<[f64; 3]>,
    provider: u32,
    center: LatLng,
    radius_km: f64,
}

impl RTreeObject for Cap {
    type Envelope = AABB<[f64; 3]>;

    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// Which geometry a spatial query is computed from.
///
/// The rule for every answer: a figure the public can obtain (a distance,
/// score, rank, radius filter, `serves_location`, coverage figure, bbox
/// membership, even the time a search takes) is computed from
/// [`Geometry::Public`] only, where a confidential location *is* its
/// coarsened point ([`coarsen`]) and records the public may not see do not
/// exist. Staff views use [`Geometry::Exact`]. Printing the coarse point
/// is not enough: a figure computed from the true point and published to
/// many decimals gives the true point back by arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Geometry {
    /// True points and every record: for staff.
    Exact,
    /// Public records only, each confidential location replaced by its
    /// coarsened point (radius service areas re-centred on it too).
    Public,
}

/// An immutable snapshot of the directory with its spatial and attribute
/// indexes. Build it once with [`Directory::build`], share it behind an
/// `Arc`, and replace the `Arc` to update.
///
/// Providers are addressed by `u32` index: their position in
/// [`Directory::providers`]. Every query returns indexes.
pub struct Directory {
    providers: Vec<Provider>,
    areas: Vec<ResolvedArea>,
    /// Provider indexes sorted by `id`, for [`Directory::get`].
    by_id: Vec<u32>,
    /// Located providers with attribute summaries, for nearest searches
    /// ([`Geometry::Exact`]).
    points: PointTree,
    /// Public located providers at the point the public is shown, for
    /// [`Geometry::Public`] searches: built from public data only, so
    /// neither a public answer nor the work behind it depends on a true
    /// confidential point or on a record the public may not see.
    public_points: PointTree,
    caps: RTree<Cap>,
    /// Radius caps of public providers, centred where the public is shown
    /// them ([`Geometry::Public`]).
    public_caps: RTree<Cap>,
    /// Areas of public providers whose location is confidential, with each
    /// radius part centred on the coarsened point, by index (sorted).
    public_areas: Vec<(u32, ResolvedArea)>,
    regions: Vec<Arc<Region>>,
    /// Shared regions by key (`county:06019`) → index in `regions`.
    region_keys: FxHashMap<RegionKey, u32>,
    /// Providers of region `i`: `region_members[region_start[i]..region_start[i + 1]]`.
    region_start: Vec<u32>,
    region_members: Vec<u32>,
    coverage: CoverageIndex,
    /// Country (alpha-2) → providers serving it nationwide.
    nationwide: FxHashMap<String, Vec<u32>>,
    worldwide: Vec<u32>,
    issues: FxHashMap<String, Bitset>,
    languages: FxHashMap<String, Bitset>,
    populations: FxHashMap<String, Bitset>,
    /// Address country (alpha-2, `""` for none) → providers.
    countries: FxHashMap<String, Bitset>,
    /// Summary bits of the codes above, for pruning the point tree.
    bits: AttributeBits,
    /// One bitset per [`Kind::ALL`] entry, same order.
    kinds: Vec<Bitset>,
    open_24h: Bitset,
    located: Bitset,
    /// Providers the public may see ([`Provider::is_public`]).
    public: Bitset,
    /// Providers that are not law enforcement (`AttributeFilter::civilian_only`).
    civilian: Bitset,
    /// Coarsened points of providers whose location is confidential, by
    /// index (sorted), for [`Directory::public_location`].
    coarse: Vec<(u32, LatLng)>,
    empty: Bitset,
}

/// H3 resolution a confidential location is coarsened to for the public:
/// resolution 5 cells average about 253 km² (edge about 9.9 km).
pub const COARSE_LOCATION_RESOLUTION: u8 = 5;

/// The centre of the H3 cell at [`COARSE_LOCATION_RESOLUTION`] holding
/// `point`; `point` itself if h3o cannot index it.
pub fn coarsen(point: LatLng) -> LatLng {
    let Ok(resolution) = h3o::Resolution::try_from(COARSE_LOCATION_RESOLUTION) else {
        return point;
    };
    match h3o::LatLng::new(point.lat(), point.lon()) {
        Ok(at) => {
            let centre = h3o::LatLng::from(at.to_cell(resolution));
            LatLng::new(centre.lat(), centre.lng()).unwrap_or(point)
        }
        Err(_) => point,
    }
}

/// The H3 cell at [`COARSE_LOCATION_RESOLUTION`] (5, about 250 km² a
/// cell) holding `point`, as its hexadecimal index (`85283473fffffff`);
/// `None` if h3o cannot index it. What a referral or an unmet-need event
/// keeps of a caller's place outside the US: never a finer place.
pub fn coarse_cell(point: LatLng) -> Option<String> {
    let resolution = h3o::Resolution::try_from(COARSE_LOCATION_RESOLUTION).ok()?;
    let at = h3o::LatLng::new(point.lat(), point.lon()).ok()?;
    Some(at.to_cell(resolution).to_string())
}

/// Approximate heap use of a [`Directory`]'s indexes, in bytes. Provider
/// records themselves are counted only by their inline size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryUse {
    /// Provider records, inline part only (`size_of::<Provider>()` each).
    pub providers_inline: usize,
    /// Resolved areas (part lists, not the shared regions).
    pub areas: usize,
    /// The point tree of [`Directory::nearest_matching`]: nodes, and per
    /// located provider its unit vector, index and attribute mask.
    pub points: usize,
    /// The radius-cap R-tree (entries, with node overhead estimated).
    pub rtrees: usize,
    /// Region boundaries and cell lists, each counted once.
    pub regions: usize,
    /// The H3 coverage index and region → provider lists.
    pub coverage: usize,
    /// Attribute bitsets.
    pub bitsets: usize,
    /// Nationwide and worldwide lists and the id order.
    pub lists: usize,
}

impl MemoryUse {
    /// Sum of the fields.
    pub fn total(&self) -> usize {
        self.providers_inline
            + self.areas
            + self.points
            + self.rtrees
            + self.regions
            + self.coverage
            + self.bitsets
            + self.lists
    }
}

impl Directory {
    /// Indexes the accepted providers of an ingest, moving them into the
    /// directory. A provider whose service area cannot be resolved becomes a
    /// rejection of `ingested`, with the source and line it was read from,
    /// so that accepted + rejected still equals rows read.
    ///
    /// # Errors
    /// [`IndexError`] as for [`Directory::build`].
    pub fn build_from(
        ingested: &mut crate::ingest::Ingested,
        gazetteer: &Gazetteer,
        options: IndexOptions,
    ) -> Result<Directory, IndexError> {
        let providers = std::mem::take(&mut ingested.providers);
        let origins = std::mem::take(&mut ingested.origins);
        let mut resolver = AreaResolver::new(gazetteer, &options)?;
        let (directory, rejected) =
            Directory::build_rows(providers, &origins, &mut resolver, options.threads)?;
        ingested.rejections.extend(rejected);
        Ok(directory)
    }

    /// As [`Directory::build_with`], for providers read from rows:
    /// `origins[i]` is where provider `i` was read
    /// ([`Ingested::origins`](crate::ingest::Ingested::origins)), and the
    /// providers left out are returned as rejections of their rows
    /// ([`Rejection::to_row`]), in input order.
    ///
    /// # Errors
    /// [`IndexError`] as for [`Directory::build_with`].
    pub fn build_rows(
        providers: Vec<Provider>,
        origins: &[(std::sync::Arc<str>, u64)],
        resolver: &mut AreaResolver<'_>,
        threads: usize,
    ) -> Result<(Directory, Vec<crate::ingest::Rejection>), IndexError> {
        let (directory, dropped) = Directory::build_with(providers, resolver, threads)?;
        let rejected = dropped
            .iter()
            .map(|dropped| dropped.to_row(origins))
            .collect();
        Ok((directory, rejected))
    }

    /// Builds the snapshot. Each provider's service area is resolved against
    /// `gazetteer` ([`AreaResolver`]); a provider whose area cannot be
    /// resolved, or whose `id` repeats an earlier one, is left out and
    /// reported as a [`Rejection`] (never silently dropped). Surviving
    /// providers keep their input order, so their index is their position
    /// among the accepted ones.
    ///
    /// # Errors
    /// [`IndexError`] for an unsupported H3 resolution in `options`, or more
    /// than `u32::MAX` providers.
    pub fn build(
        providers: Vec<Provider>,
        gazetteer: &Gazetteer,
        options: IndexOptions,
    ) -> Result<(Directory, Vec<Rejection>), IndexError> {
        let mut resolver = AreaResolver::new(gazetteer, &options)?;
        Self::build_with(providers, &mut resolver, options.threads)
    }

    /// As [`Directory::build`], resolving areas with `resolver`, whose
    /// cached regions are reused and which keeps the new ones: a live
    /// directory rebuilt after each edit tiles only what the edit added.
    ///
    /// # Errors
    /// [`IndexError::TooManyProviders`] beyond `u32::MAX` providers.
    pub fn build_with(
        mut providers: Vec<Provider>,
        resolver: &mut AreaResolver<'_>,
        threads: usize,
    ) -> Result<(Directory, Vec<Rejection>), IndexError> {
        if u32::try_from(providers.len()).is_err() {
            return Err(IndexError::TooManyProviders(providers.len()));
        }
        resolver.prefetch(providers.iter().flat_map(|p| &p.service_area), threads);
        let duplicate = duplicate_ids(&providers);

        let mut rejections = Vec::new();
        let mut keep = Vec::with_capacity(providers.len());
        let mut areas = Vec::with_capacity(providers.len());
        for (input_index, (provider, duplicate)) in providers.iter().zip(duplicate).enumerate() {
            let outcome = if duplicate {
                Err(RejectionReason::DuplicateId)
            } else {
                resolver
                    .resolve(&provider.service_area, provider.location)
                    .map_err(RejectionReason::Area)
            };
            keep.push(match outcome {
                Ok(area) => {
                    areas.push(area);
                    true
                }
                Err(reason) => {
                    rejections.push(Rejection {
                        provider_id: provider.id.to_string(),
                        input_index,
                        reason,
                    });
                    false
                }
            });
        }
        // Drop the rejected in place: a second array of a million records
        // would double the peak memory of a large ingest.
        let mut kept = keep.into_iter();
        providers.retain(|_| kept.next().unwrap_or(false));
        Ok((Self::assemble(providers, areas), rejections))
    }

    /// Builds every index over providers whose areas are resolved.
    fn assemble(providers: Vec<Provider>, areas: Vec<ResolvedArea>) -> Directory {
        let n = providers.len() as u32;

        let mut by_id: Vec<u32> = (0..n).collect();
        by_id.sort_unstable_by(|&a, &b| providers[a as usize].id.cmp(&providers[b as usize].id));

        // Where the public is shown each confidential location, computed
        // first: the public geometry below is built from it.
        let coarse: Vec<(u32, LatLng)> = providers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.location_confidential)
            .filter_map(|(i, p)| Some((i as u32, coarsen(p.location?))))
            .collect();
        let coarse_of = |i: u32| {
            coarse
                .binary_search_by_key(&i, |(at, _)| *at)
                .ok()
                .map(|at| coarse[at].1)
        };

        let mut caps = Vec::new();
        let mut public_caps = Vec::new();
        let mut regions: Vec<Arc<Region>> = Vec::new();
        let mut region_of_ptr: FxHashMap<usize, u32> = FxHashMap::default();
        let mut region_keys: FxHashMap<RegionKey, u32> = FxHashMap::default();
        let mut members: Vec<(u32, u32)> = Vec::new();
        let mut nationwide: FxHashMap<String, Vec<u32>> = FxHashMap::default();
        let mut worldwide = Vec::new();
        for (i, area) in areas.iter().enumerate() {
            let provider = i as u32;
            for part in area.parts() {
                match part {
                    AreaPart::Radius { center, radius_km } => {
                        caps.push(Cap {
                            envelope: cap_envelope(unit_vector(*center), *radius_km),
                            provider,
                            center: *center,
                            radius_km: *radius_km,
                        });
                        if providers[i].is_public() {
                            let shown = coarse_of(provider).unwrap_or(*center);
                            public_caps.push(Cap {
                                envelope: cap_envelope(unit_vector(shown), *radius_km),
                                provider,
                                center: shown,
                                radius_km: *radius_km,
                            });
                        }
                    }
                    AreaPart::Shared(region) | AreaPart::Polygon(region) => {
                        let index = *region_of_ptr
                            .entry(Arc::as_ptr(region) as usize)
                            .or_insert_with(|| {
                                regions.push(Arc::clone(region));
                                (regions.len() - 1) as u32
                            });
                        if let (AreaPart::Shared(_), Some(key)) = (part, region.region_key()) {
                            region_keys.insert(key.clone(), index);
                        }
                        members.push((index, provider));
                    }
                    AreaPart::Nationwide(code) => {
                        for country in nationwide_countries(code) {
                            nationwide
                                .entry(country.to_owned())
                                .or_default()
                                .push(provider);
                        }
                    }
                    AreaPart::Worldwide => worldwide.push(provider),
                }
            }
        }
        members.sort_unstable();
        members.dedup();
        let mut region_start = Vec::with_capacity(regions.len() + 1);
        let mut cursor = 0;
        for region in 0..regions.len() as u32 {
            region_start.push(cursor as u32);
            while members.get(cursor).is_some_and(|m| m.0 == region) {
                cursor += 1;
            }
        }
        region_start.push(members.len() as u32);
        let region_members: Vec<u32> = members.into_iter().map(|(_, p)| p).collect();
        for list in nationwide.values_mut() {
            list.dedup(); // pushed in provider order
        }
        worldwide.dedup();

        let coverage = CoverageIndex::build(&regions);

        let mut issues: FxHashMap<String, Bitset> = FxHashMap::default();
        let mut languages: FxHashMap<String, Bitset> = FxHashMap::default();
        let mut populations: FxHashMap<String, Bitset> = FxHashMap::default();
        let mut countries: FxHashMap<String, Bitset> = FxHashMap::default();
        let mut kinds = vec![Bitset::new(n); Kind::ALL.len()];
        let mut open_24h = Bitset::new(n);
        let mut located = Bitset::new(n);
        let mut public = Bitset::new(n);
        let mut civilian = Bitset::new(n);
        let mark = |map: &mut FxHashMap<String, Bitset>, code: &str, i: u32| match map.get_mut(code)
        {
            Some(set) => set.insert(i),
            None => {
                let mut set = Bitset::new(n);
                set.insert(i);
                map.insert(code.to_owned(), set);
            }
        };
        for (i, p) in providers.iter().enumerate() {
            let i = i as u32;
            p.issues.iter().for_each(|c| mark(&mut issues, c, i));
            p.languages.iter().for_each(|c| mark(&mut languages, c, i));
            p.populations
                .iter()
                .for_each(|c| mark(&mut populations, c, i));
            mark(&mut countries, super::filter::provider_country(p), i);
            if let Some(k) = Kind::ALL.iter().position(|k| *k == p.kind) {
                kinds[k].insert(i);
            }
            if matches!(p.availability, Availability::Open24h) {
                open_24h.insert(i);
            }
            if p.location.is_some() {
                located.insert(i);
            }
            if p.is_public() {
                public.insert(i);
            }
            if super::filter::is_civilian(p) {
                civilian.insert(i);
            }
        }

        let started = std::time::Instant::now();
        let bits = AttributeBits::assign(&issues, &languages, &populations, &countries);
        let points = PointTree::build(
            providers
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.location.map(|l| (unit_vector(l), i as u32, bits.of(p))))
                .collect(),
        );
        let public_points = PointTree::build(
            providers
                .iter()
                .enumerate()
                .filter(|(_, p)| p.is_public())
                .filter_map(|(i, p)| {
                    let shown = coarse_of(i as u32).or(p.location)?;
                    Some((unit_vector(shown), i as u32, bits.of(p)))
                })
                .collect(),
        );
        let public_areas: Vec<(u32, ResolvedArea)> = coarse
            .iter()
            .filter(|(i, _)| providers[*i as usize].is_public())
            .filter_map(|&(i, shown)| {
                let area = areas.get(i as usize)?;
                area.has_radius().then(|| (i, area.recentred(shown)))
            })
            .collect();
        tracing::debug!(
            located = located.count(),
            heap_bytes = points.heap_bytes(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "point tree built"
        );

        Directory {
            providers,
            areas,
            by_id,
            points,
            public_points,
            caps: RTree::bulk_load(caps),
            public_caps: RTree::bulk_load(public_caps),
            public_areas,
            regions,
            region_keys,
            region_start,
            region_members,
            coverage,
            nationwide,
            worldwide,
            issues,
            languages,
            populations,
            countries,
            bits,
            kinds,
            open_24h,
            located,
            public,
            civilian,
            coarse,
            empty: Bitset::new(n),
        }
    }

    /// Every provider, by index.
    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// Number of providers.
    pub fn len(&self) -> usize {
        self.providers.len()
    }

    /// True when the directory holds no providers.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// The provider at `index`.
    pub fn provider(&self, index: u32) -> Option<&Provider> {
        self.providers.get(index as usize)
    }

    /// The provider with this `id` (exact match).
    pub fn get(&self, id: &str) -> Option<&Provider> {
        self.index_of(id).and_then(|i| self.provider(i))
    }

    /// The index of the provider with this `id` (exact match).
    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.by_id
            .binary_search_by(|&i| self.providers[i as usize].id.as_str().cmp(id))
            .ok()
            .map(|pos| self.by_id[pos])
    }

    /// The resolved service area of the provider at `index`, as seen in
    /// `geometry`: for [`Geometry::Public`], `None` for a record the public
    /// may not see, and radius parts of a confidential location centred on
    /// its coarsened point.
    pub fn area(&self, geometry: Geometry, index: u32) -> Option<&ResolvedArea> {
        if geometry == Geometry::Public {
            if !self.public.contains(index) {
                return None;
            }
            if let Ok(at) = self.public_areas.binary_search_by_key(&index, |(i, _)| *i) {
                return self.public_areas.get(at).map(|(_, area)| area);
            }
        }
        self.areas.get(index as usize)
    }

    /// Where provider `index` is in `geometry`: its location for
    /// [`Geometry::Exact`]; for [`Geometry::Public`], `None` for a record
    /// the public may not see, else [`Directory::public_location`].
    pub fn location(&self, geometry: Geometry, index: u32) -> Option<LatLng> {
        match geometry {
            Geometry::Exact => self.provider(index)?.location,
            Geometry::Public if self.public.contains(index) => self.public_location(index),
            Geometry::Public => None,
        }
    }

    /// Every distinct region (shared and own polygons) in the index.
    pub fn regions(&self) -> &[Arc<Region>] {
        &self.regions
    }

    /// A shared region by key (`state:CA`, `county:06019`, `country:MX`), if
    /// some provider uses it.
    pub fn region(&self, key: &RegionKey) -> Option<&Arc<Region>> {
        self.region_keys
            .get(key)
            .map(|&i| &self.regions[i as usize])
    }

    /// Providers whose service area covers `point`, sorted by index and
    /// without repeats. Reverse geocodes the point with `gazetteer` for its
    /// country (nationwide areas) and its county and state; see
    /// [`Directory::covering_in`].
    pub fn covering(&self, geometry: Geometry, point: LatLng, gazetteer: &Gazetteer) -> Vec<u32> {
        self.covering_in(geometry, point, &gazetteer.reverse(point))
    }

    /// Providers whose service area covers `point`, given where the
    /// gazetteer places it (`place`, from [`Gazetteer::reverse`]). Sorted by
    /// index, without repeats.
    ///
    /// - Region areas: regions whose H3 cells hold the point's cell are
    ///   confirmed by a point-in-polygon test (a point on a border counts
    ///   for both sides). The county, state and country named in `place`
    ///   count as covering without the test, so a point the gazetteer snaps
    ///   to a coast (within about 5 km) is served by that county.
    /// - Radius areas: great-circle distance to the provider's location at
    ///   most its `radius_km`.
    /// - Nationwide areas for `place.country` (`US` also serves PR, GU, VI,
    ///   AS, MP), and worldwide areas.
    ///
    /// In [`Geometry::Public`] only public records are returned, and a
    /// radius area of a confidential location is centred on its coarsened
    /// point.
    pub fn covering_in(&self, geometry: Geometry, point: LatLng, place: &Reverse) -> Vec<u32> {
        let mut candidates = Vec::new();
        self.coverage.candidates(point, &mut candidates);
        let trusted: Vec<u32> = place
            .region_keys()
            .iter()
            .filter_map(|key| self.region_keys.get(key).copied())
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates.retain(|r| !trusted.contains(r) && self.regions[*r as usize].covers(point));
        candidates.extend(trusted);

        let mut found = Vec::new();
        for region in candidates {
            found.extend_from_slice(self.members(region));
        }
        let v = unit_vector(point);
        let caps = match geometry {
            Geometry::Exact => &self.caps,
            Geometry::Public => &self.public_caps,
        };
        found.extend(
            caps.locate_in_envelope_intersecting(&AABB::from_point(v))
                .filter(|cap| cap.center.distance_km(point) <= cap.radius_km)
                .map(|cap| cap.provider),
        );
        if let Some(list) = place.country.as_ref().and_then(|c| self.nationwide.get(c)) {
            found.extend_from_slice(list);
        }
        found.extend_from_slice(&self.worldwide);
        if geometry == Geometry::Public {
            found.retain(|&i| self.public.contains(i));
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    /// The `k` providers with a location nearest to `point` by great-circle
    /// distance, among those for which `filter(index)` is true, as
    /// `(index, distance_km)` in non-decreasing distance. Stops at `max_km`
    /// when given (a NaN bound is no bound).
    ///
    /// The filter runs during the search, in distance order, and the search
    /// stops as soon as `k` providers pass, so a selective filter costs
    /// every provider it rejects on the way. For attribute requirements
    /// prefer [`Directory::nearest_matching`], which skips whole groups of
    /// providers that cannot pass.
    pub fn nearest(
        &self,
        geometry: Geometry,
        point: LatLng,
        k: usize,
        max_km: Option<f64>,
        filter: impl Fn(u32) -> bool,
    ) -> Vec<(u32, f64)> {
        let unrestricted = CompiledFilter::unrestricted(self.len() as u32);
        self.nearest_matching(geometry, point, k, max_km, &unrestricted, filter)
    }

    /// Compiles attribute requirements against this directory, for
    /// [`Directory::nearest_matching`] and [`CompiledFilter::accepts`].
    /// Cheap: a few hash lookups. A code the directory does not have
    /// matches nothing, so a requirement naming only unknown codes (or
    /// `kinds: Some(vec![])`) lets no provider pass.
    pub fn compile(&self, filter: &AttributeFilter) -> CompiledFilter<'_> {
        let mut compiled = CompiledFilter::unrestricted(self.len() as u32);
        if !filter.issues_any.is_empty() {
            compiled.require_any(
                filter
                    .issues_any
                    .iter()
                    .filter_map(|code| Some((self.issues.get(code)?, self.bits.issue(code)))),
            );
        }
        if !filter.languages_any.is_empty() {
            compiled.require_any(
                filter
                    .languages_any
                    .iter()
                    .filter_map(|code| Some((self.languages.get(code)?, self.bits.language(code)))),
            );
        }
        if !filter.populations_any.is_empty() {
            compiled.require_any(filter.populations_any.iter().filter_map(|code| {
                Some((self.populations.get(code)?, self.bits.population(code)))
            }));
        }
        if let Some(kinds) = &filter.kinds {
            let mut allowed: Vec<Kind> = kinds.clone();
            allowed.sort_unstable_by_key(|k| Kind::ALL.iter().position(|a| a == k));
            allowed.dedup();
            compiled.require_any(
                allowed
                    .into_iter()
                    .map(|kind| (self.with_kind(kind), AttributeBits::kind(kind))),
            );
        }
        if filter.open_24h {
            compiled.require_any([(&self.open_24h, AttributeBits::open_24h())]);
        }
        if filter.public_only {
            compiled.require_any([(&self.public, AttributeBits::public())]);
        }
        if filter.civilian_only {
            compiled.require_any([(&self.civilian, AttributeBits::civilian())]);
        }
        if !filter.countries_any.is_empty() {
            compiled.require_any(
                filter
                    .countries_any
                    .iter()
                    .filter_map(|code| Some((self.countries.get(code)?, self.bits.country(code)))),
            );
        }
        compiled
    }

    /// The `k` providers with a location nearest to `point` by great-circle
    /// distance in `geometry` (for [`Geometry::Public`]: public records at
    /// the point the public is shown) that pass `filter` and `extra(index)`, as
    /// `(index, distance_km)` in non-decreasing distance, none farther than
    /// `max_km` (a NaN bound is no bound).
    ///
    /// The search walks a tree of 3-D unit vectors best-first by chord
    /// distance (the same order as great-circle distance, also across the
    /// antimeridian and at the poles) and never opens a group of providers
    /// whose attribute summary shows that none of them can pass `filter`.
    /// Candidates are checked exactly against the directory's bitsets;
    /// `extra` is then called in distance order on those that passed, and
    /// not after the `k`-th hit. Exact: the result is what a scan of every
    /// provider would give (ties in any order).
    ///
    /// ```no_run
    /// # use refmatch::{gazetteer::Gazetteer, index::*, model::LatLng};
    /// # let gazetteer = Gazetteer::bundled().unwrap();
    /// # let providers = refmatch::synthetic::generate(&gazetteer, 3_200, 1);
    /// let (directory, _) = Directory::build(providers, &gazetteer, IndexOptions::default()).unwrap();
    /// let spanish = directory.compile(&AttributeFilter {
    ///     languages_any: vec!["es".into()],
    ///     ..AttributeFilter::default()
    /// });
    /// let fresno = LatLng::new(36.7378, -119.7871).unwrap();
    /// let hits = directory.nearest_matching(Geometry::Exact, fresno, 10, Some(200.0), &spanish, |_| true);
    /// assert!(hits.iter().all(|&(i, km)| spanish.accepts(i) && km <= 200.0));
    /// ```
    pub fn nearest_matching(
        &self,
        geometry: Geometry,
        point: LatLng,
        k: usize,
        max_km: Option<f64>,
        filter: &CompiledFilter<'_>,
        extra: impl Fn(u32) -> bool,
    ) -> Vec<(u32, f64)> {
        let tree = match geometry {
            Geometry::Exact => &self.points,
            Geometry::Public => &self.public_points,
        };
        tree.nearest(unit_vector(point), k, max_km, filter, extra)
    }

    /// Calls `visit(index, distance_km)` on every located provider passing
    /// `filter`, in `geometry`, in non-decreasing great-circle distance
    /// from `point`, none farther than `max_km`, until `visit` returns
    /// [`ControlFlow::Break`]. Ties come in an unspecified order. For a
    /// ranking that is not pure distance, break once no farther provider
    /// can still enter the answer (a bound on the score), and the result
    /// is exact.
    pub fn visit_nearest(
        &self,
        geometry: Geometry,
        point: LatLng,
        max_km: Option<f64>,
        filter: &CompiledFilter<'_>,
        visit: impl FnMut(u32, f64) -> ControlFlow<()>,
    ) {
        let tree = match geometry {
            Geometry::Exact => &self.points,
            Geometry::Public => &self.public_points,
        };
        tree.visit_nearest(unit_vector(point), max_km, filter, visit);
    }

    /// Providers with this issue code (exact code; see
    /// [`Vocabulary::expand_issue`](crate::model::Vocabulary::expand_issue)
    /// for parents). Empty for an unknown code.
    pub fn with_issue(&self, code: &str) -> &Bitset {
        self.issues.get(code).unwrap_or(&self.empty)
    }

    /// Providers speaking this ISO 639-1 language. Empty for an unknown code.
    pub fn with_language(&self, code: &str) -> &Bitset {
        self.languages.get(code).unwrap_or(&self.empty)
    }

    /// Providers serving this population code. Empty for an unknown code.
    pub fn with_population(&self, code: &str) -> &Bitset {
        self.populations.get(code).unwrap_or(&self.empty)
    }

    /// Providers of this kind.
    pub fn with_kind(&self, kind: Kind) -> &Bitset {
        Kind::ALL
            .iter()
            .position(|k| *k == kind)
            .and_then(|i| self.kinds.get(i))
            .unwrap_or(&self.empty)
    }

    /// Providers reachable around the clock.
    pub fn open_24h(&self) -> &Bitset {
        &self.open_24h
    }

    /// Providers the public may see.
    pub fn public(&self) -> &Bitset {
        &self.public
    }

    /// Where the public is shown provider `index`: its location, or, when
    /// its location is confidential, the centre of its H3 cell at
    /// [`COARSE_LOCATION_RESOLUTION`]. `None` without a location.
    pub fn public_location(&self, index: u32) -> Option<LatLng> {
        let provider = self.provider(index)?;
        if !provider.location_confidential {
            return provider.location;
        }
        self.coarse
            .binary_search_by_key(&index, |(i, _)| *i)
            .ok()
            .and_then(|at| self.coarse.get(at))
            .map(|(_, point)| *point)
    }

    /// Providers with a location (those [`Directory::nearest`] can return).
    pub fn located(&self) -> &Bitset {
        &self.located
    }

    /// Approximate heap use of the indexes.
    pub fn memory(&self) -> MemoryUse {
        let bitsets = |map: &FxHashMap<String, Bitset>| -> usize {
            map.iter()
                .map(|(k, b)| k.capacity() + b.heap_bytes() + 48)
                .sum()
        };
        // rstar leaves hold up to 6 entries; count 1.5× the entries.
        let rtree = |count: usize, entry: usize| count * entry * 3 / 2;
        MemoryUse {
            providers_inline: self.providers.capacity() * std::mem::size_of::<Provider>(),
            areas: (self.areas.capacity() + self.public_areas.capacity())
                * std::mem::size_of::<ResolvedArea>()
                + self
                    .areas
                    .iter()
                    .map(ResolvedArea::heap_bytes)
                    .sum::<usize>(),
            points: self.points.heap_bytes() + self.public_points.heap_bytes(),
            rtrees: rtree(
                self.caps.size() + self.public_caps.size(),
                std::mem::size_of::<Cap>(),
            ),
            regions: self.regions.iter().map(|r| r.heap_bytes()).sum(),
            coverage: self.coverage.heap_bytes()
                + (self.region_start.capacity() + self.region_members.capacity()) * 4,
            bitsets: bitsets(&self.issues)
                + bitsets(&self.languages)
                + bitsets(&self.populations)
                + bitsets(&self.countries)
                + self.kinds.iter().map(Bitset::heap_bytes).sum::<usize>()
                + self.open_24h.heap_bytes()
                + self.civilian.heap_bytes()
                + self.located.heap_bytes()
                + self.empty.heap_bytes(),
            lists: self.by_id.capacity() * 4
                + self.worldwide.capacity() * 4
                + self
                    .nationwide
                    .values()
                    .map(|l| l.capacity() * 4 + 32)
                    .sum::<usize>(),
        }
    }

    /// Number of distinct H3 cells in the coverage index.
    pub fn cell_count(&self) -> usize {
        self.coverage.cell_count()
    }

    fn members(&self, region: u32) -> &[u32] {
        let r = region as usize;
        match (self.region_start.get(r), self.region_start.get(r + 1)) {
            (Some(&start), Some(&end)) => &self.region_members[start as usize..end as usize],
            _ => &[],
        }
    }
}

/// For each provider, whether an earlier provider has the same `id`.
fn duplicate_ids(providers: &[Provider]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..providers.len()).collect();
    order.sort_by(|&a, &b| providers[a].id.cmp(&providers[b].id).then(a.cmp(&b)));
    let mut duplicate = vec![false; providers.len()];
    for pair in order.windows(2) {
        if providers[pair[0]].id == providers[pair[1]].id {
            duplicate[pair[1]] = true;
        }
    }
    duplicate
}
