//! Matching: a caller's place and needs → ranked providers with reasons.
//!
//! [`Matcher::run`] takes a checked [`Query`] and
//! 1. resolves the caller's place with the gazetteer (free text is
//!    geocoded; coordinates are reverse geocoded for country, state and
//!    county);
//! 2. gathers candidates: providers whose service area covers the point
//!    (H3 lookup confirmed against the exact geometry, nationwide and
//!    worldwide lists) and the nearest located providers passing the
//!    filters (found by [`Directory::nearest_matching`], which skips index
//!    nodes whose attributes cannot pass).
//!    Nearest providers that do not serve the point are kept only in the
//!    caller's own country (the US with its territories), so a caller never
//!    gets a foreign-only line, and only within `radius_km` or else
//!    [`NEARBY_MAX_KM`];
//! 3. keeps those passing every hard filter and ranks them by the score
//!    below; when fewer than `limit` pass, adds results that fail only
//!    relaxable filters ([`Relaxable::ORDER`]), each marked with what it
//!    fails and always after every strict result.
//!
//! # Ranking
//! Results are ordered by tier, then score (higher first), then distance
//! (nearer first), then `id`. The score is
//!
//! ```text
//! score = tier + 0.5·proximity + 0.2·reachable + 0.1·open_24h + 0.1·specificity
//!         + freshness
//! ```
//!
//! - `tier`: 3 for **local** providers (on the ground, with a location, not
//!   a hotline, serving the caller's point through a radius, ZIP, county,
//!   state or own polygon); 2 for **national** ones (hotlines, providers
//!   without a location, and providers serving the caller only through a
//!   nationwide, country or worldwide area); 1 for **nearby** providers
//!   that do not list the caller's area. Where nothing local fits,
//!   national hotlines therefore lead.
//! - `proximity`: `exp(−distance_km / 50)`, 0 without a location.
//! - `reachable`: 1 when a listed number serves the caller's country (a US
//!   number also serves PR, GU, VI, AS and MP), else 0.
//! - `open_24h`: 1 when reachable around the clock.
//! - `specificity`: 1 for a radius, ZIP, county or own polygon; 0.5 for a
//!   state, or for a nationwide or country area naming the caller's
//!   country; 0 for worldwide and for nearby providers.
//! - `freshness`: a small edge for recently verified records,
//!   [`FRESHNESS_EDGE`](crate::model::FRESHNESS_EDGE) (0.05) for one
//!   verified today, falling linearly to 0 at the end of the verification
//!   window (default 365 days); 0 for stale or never-verified records.
//!
//! The fractional part is at most 0.95, so tiers never interleave.
//!
//! # Who sees what
//! A [`View`] says who the answer is for. The public ([`Role::Public`])
//! gets only records marked public, and every figure of its answer is
//! computed in [`Geometry::Public`]: a record whose location is
//! confidential *is* at its coarsened point
//! ([`Directory::public_location`]) for the covering test of a radius
//! area, the distance, the score, the `radius_km` filter, the nearest
//! search and so the order. Nothing published is a function of the true
//! point, so no arithmetic on many answers can give it back; distances to
//! such records are also rounded to whole km. Staff views use the true
//! points. The same query on the same directory always gives the same
//! answer.

mod listing;
mod query;

pub use listing::{
    hotlines_for, list, BoundingBox, ListQuery, Page, DEFAULT_PAGE, LIST_PARAMETERS, MAX_PAGE,
};
pub(crate) use query::{boolean, number, values};
pub use query::{
    ParameterDoc, Place, Query, QueryError, Relaxable, Terms, DEFAULT_LIMIT, MATCH_PARAMETERS,
    MAX_LIMIT, MAX_RADIUS_KM, MAX_VALUES,
};

use crate::gazetteer::{is_us_or_territory, Gazetteer, GeocodeError, Reverse, US_TERRITORIES};
use crate::index::{nationwide_countries, AreaPart, AttributeFilter, Bitset, Directory, Geometry};
use crate::model::{
    Freshness, Kind, LatLng, Phone, Precision, Provider, Role, Vocabulary,
    DEFAULT_VERIFICATION_WINDOW_DAYS,
};
use jiff::Timestamp;
use rustc_hash::FxHashSet;
use serde::Serialize;
use std::borrow::Cow;

/// How far, in km, the search for nearby providers that do not list the
/// caller's area reaches when the query sets no `radius_km`. Beyond it a
/// provider that does not serve the caller is no practical referral, and
/// national hotlines cover the caller anyway.
pub const NEARBY_MAX_KM: f64 = 1_000.0;

/// Distance scale of the proximity term, km: a provider this far away
/// scores `e⁻¹` of one at the caller's door.
pub const PROXIMITY_SCALE_KM: f64 = 50.0;

/// Why a match could not be answered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MatchError {
    /// A parameter is malformed.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The caller's place could not be geocoded.
    #[error(transparent)]
    Place(#[from] GeocodeError),
}

/// How a result relates to the caller's place; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// On the ground and serving the caller's area.
    Local,
    /// A hotline or a national or international service covering the caller.
    National,
    /// Near the caller but not listing the caller's area as served.
    Nearby,
}

impl Tier {
    fn weight(self) -> f64 {
        match self {
            Tier::Local => 3.0,
            Tier::National => 2.0,
            Tier::Nearby => 1.0,
        }
    }
}

/// The caller's place as the matcher understood it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedPlace {
    /// Display name of the geocoded place ("Fresno, CA"); `null` for
    /// coordinates.
    pub name: Option<String>,
    /// Latitude in degrees.
    pub lat: f64,
    /// Longitude in degrees.
    pub lon: f64,
    /// How precisely the caller is placed.
    pub precision: Precision,
    /// ISO 3166-1 alpha-2 country (US territories have their own).
    pub country: Option<String>,
    /// USPS state or territory code.
    pub region: Option<String>,
    /// Five-digit county FIPS.
    pub county_fips: Option<String>,
    /// County legal name.
    pub county: Option<String>,
    /// What the geocoder approximated, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ResolvedPlace {
    /// The position.
    pub fn point(&self) -> Option<LatLng> {
        LatLng::new(self.lat, self.lon).ok()
    }
}

/// The filters a match applied, as resolved (issues expanded).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedFilters {
    /// Issue codes matched, parents expanded to their children.
    pub issues: Vec<String>,
    /// ISO 639-1 codes.
    pub languages: Vec<String>,
    /// 24-hour capacity required.
    pub open_24h: bool,
    /// Open at `at` required.
    pub open_now: bool,
    /// The instant `open_now` was evaluated at (RFC 3339), when it was.
    pub at: Option<String>,
    /// Kinds left out.
    pub exclude: Vec<Kind>,
    /// Population codes.
    pub populations: Vec<String>,
    /// Distance cap in km.
    pub radius_km: Option<f64>,
    /// Most results.
    pub limit: usize,
}

/// One ranked result.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The provider's index in the directory.
    pub index: u32,
    /// 1-based rank.
    pub rank: usize,
    /// The score of the module docs, rounded to 4 decimals.
    pub score: f64,
    /// How the provider relates to the caller's place.
    pub tier: Tier,
    /// Great-circle distance in km; `None` without a location.
    pub distance_km: Option<f64>,
    /// True when its service area covers the caller's point.
    pub serves_location: bool,
    /// Why it was chosen, in plain words (fixed phrases are not copied).
    pub reasons: Vec<Cow<'static, str>>,
    /// Filters it fails (empty for strict results).
    pub relaxed: Vec<Relaxable>,
    /// The numbers to give the caller, as positions in the provider's
    /// `phones`: those serving the caller's country and those tied to no
    /// country; every number when none serves it. [`Match::phones`] looks
    /// them up (positions, not copies: a result clones no strings).
    pub phone_positions: Vec<u16>,
}

impl Match {
    /// The numbers to give the caller, in order, from `provider` (the
    /// record at [`Match::index`]).
    pub fn phones<'a>(&'a self, provider: &'a Provider) -> impl Iterator<Item = &'a Phone> + 'a {
        self.phone_positions
            .iter()
            .filter_map(|&i| provider.phones.get(usize::from(i)))
    }
}

/// A whole answer.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchResponse {
    /// Where the caller was placed.
    pub place: ResolvedPlace,
    /// What was filtered on.
    pub filters: AppliedFilters,
    /// Results in rank order: strict ones, then relaxed ones.
    pub results: Vec<Match>,
}

/// Who an answer is for, and the day staleness is judged on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    /// The caller's role: the public sees public records only.
    pub role: Role,
    /// Verification window and today's date.
    pub freshness: Freshness,
}

impl View {
    /// A view for `role` as of today, with the default verification window.
    pub fn now(role: Role) -> View {
        View {
            role,
            freshness: Freshness::now(DEFAULT_VERIFICATION_WINDOW_DAYS),
        }
    }

    /// True when this view may be given `phone` (direct lines are staff-only).
    pub fn may_dial(&self, phone: &Phone) -> bool {
        self.role.sees_confidential() || !phone.confidential
    }

    /// True when this view may see provider `index` of `directory`.
    pub fn may_see(&self, directory: &Directory, index: u32) -> bool {
        self.role.sees_confidential() || directory.public().contains(index)
    }

    /// The geometry this view's figures are computed from: exact for
    /// staff, [`Geometry::Public`] for the public (see [`Geometry`]).
    pub fn geometry(&self) -> Geometry {
        if self.role.sees_confidential() {
            Geometry::Exact
        } else {
            Geometry::Public
        }
    }

    /// Where this view is shown provider `index`: the true location for
    /// staff, the coarsened one for the public where it is confidential
    /// (`None` for a record the public may not see).
    pub fn location(&self, directory: &Directory, index: u32) -> Option<LatLng> {
        directory.location(self.geometry(), index)
    }
}

/// Runs matches over one directory snapshot.
#[derive(Clone, Copy)]
pub struct Matcher<'a> {
    /// Geocoding and reverse geocoding.
    pub gazetteer: &'a Gazetteer,
    /// The providers.
    pub directory: &'a Directory,
    /// Issue hierarchy and labels.
    pub vocabulary: &'a Vocabulary,
    /// Who the answers are for.
    pub view: View,
}

/// The hard filters of a query, ready to test providers against: each
/// code list is looked up once, as the directory's bitsets.
struct Needs<'q> {
    issues: Vec<&'q str>,
    languages: &'q [String],
    populations: &'q [String],
    exclude: &'q [Kind],
    open_24h: bool,
    open_at: Option<Timestamp>,
    radius_km: Option<f64>,
    issue_sets: Vec<&'q Bitset>,
    /// Records this caller may see; `None`: all.
    visible: Option<&'q Bitset>,
    language_sets: Vec<&'q Bitset>,
    population_sets: Vec<&'q Bitset>,
    open_24h_set: &'q Bitset,
}

impl Needs<'_> {
    /// The relaxable filters provider `i` fails (ignoring `issue`,
    /// `exclude` and distance, which are checked by [`Needs::hard_ok`]).
    fn fails(&self, provider: &Provider, i: u32) -> RelaxSet {
        let mut failed = RelaxSet::default();
        if !self.languages.is_empty() && !self.language_sets.iter().any(|s| s.contains(i)) {
            failed.push(Relaxable::Language);
        }
        if let Some(at) = self.open_at {
            if provider.availability.is_open_at(at) != Some(true) {
                failed.push(Relaxable::OpenNow);
            }
        }
        if self.open_24h && !self.open_24h_set.contains(i) {
            failed.push(Relaxable::Open24h);
        }
        if !self.populations.is_empty() && !self.population_sets.iter().any(|s| s.contains(i)) {
            failed.push(Relaxable::Population);
        }
        failed
    }

    /// `issue` and `exclude`, never relaxed. Excluding `law_enforcement`
    /// also leaves out providers of other kinds flagged as law enforcement
    /// (a police-led task force).
    fn hard_ok(&self, provider: &Provider, i: u32) -> bool {
        self.visible.is_none_or(|set| set.contains(i))
            && (self.issues.is_empty() || self.issue_sets.iter().any(|s| s.contains(i)))
            && !self.exclude.contains(&provider.kind)
            && !(provider.law_enforcement && self.exclude.contains(&Kind::LawEnforcement))
    }

    fn within_radius(&self, distance_km: Option<f64>) -> bool {
        match (self.radius_km, distance_km) {
            (Some(max), Some(d)) => d <= max,
            _ => true,
        }
    }
}

/// A set of [`Relaxable`] filters, as bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct RelaxSet(u8);

impl RelaxSet {
    fn of(filters: &[Relaxable]) -> RelaxSet {
        let mut set = RelaxSet::default();
        filters.iter().for_each(|f| set.push(*f));
        set
    }

    fn bit(filter: Relaxable) -> u8 {
        1 << (filter as u8)
    }

    fn push(&mut self, filter: Relaxable) {
        self.0 |= Self::bit(filter);
    }

    fn contains(self, filter: Relaxable) -> bool {
        self.0 & Self::bit(filter) != 0
    }

    fn within(self, allowed: RelaxSet) -> bool {
        self.0 & !allowed.0 == 0
    }

    fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// The filters, in [`Relaxable::ORDER`].
    fn to_vec(self) -> Vec<Relaxable> {
        Relaxable::ORDER
            .into_iter()
            .filter(|f| self.0 & Self::bit(*f) != 0)
            .collect()
    }
}

/// A candidate before ranking; `'d` borrows the directory.
struct Candidate<'d> {
    index: u32,
    distance_km: Option<f64>,
    cover: Option<Cover<'d>>,
    tier: Tier,
    score: f64,
    relaxed: RelaxSet,
}

/// The most specific way a provider's area covers the caller.
#[derive(Debug, Clone, PartialEq)]
enum Cover<'d> {
    Radius(f64),
    Region(&'d str),
    Nationwide(&'d str),
    Worldwide,
}

impl Cover<'_> {
    /// Smaller is more specific.
    fn rank(&self) -> u8 {
        match self {
            Cover::Radius(_) => 0,
            Cover::Region(key) if key.starts_with("state:") => 2,
            Cover::Region(key) if key.starts_with("country:") => 3,
            Cover::Region(_) => 1,
            Cover::Nationwide(_) => 4,
            Cover::Worldwide => 5,
        }
    }

    fn is_national(&self) -> bool {
        self.rank() >= 3
    }

    fn specificity(&self) -> f64 {
        match self.rank() {
            0 | 1 => 1.0,
            2..=4 => 0.5,
            _ => 0.0,
        }
    }
}

impl<'a> Matcher<'a> {
    /// The terms queries are checked against.
    pub fn terms(&self) -> Terms<'a> {
        Terms {
            vocabulary: self.vocabulary,
            gazetteer: self.gazetteer,
        }
    }

    /// Places the caller.
    ///
    /// # Errors
    /// [`MatchError::Place`] when free text cannot be geocoded.
    pub fn resolve(&self, place: &Place) -> Result<ResolvedPlace, MatchError> {
        match place {
            Place::Point(point) => {
                let reverse = self.gazetteer.reverse(*point);
                Ok(ResolvedPlace {
                    name: None,
                    lat: point.lat(),
                    lon: point.lon(),
                    precision: Precision::Point,
                    country: reverse.country,
                    region: reverse.region,
                    county_fips: reverse.county_fips,
                    county: reverse.county,
                    note: None,
                })
            }
            Place::Near(text) => {
                let found = self.gazetteer.geocode(text)?;
                let best = found.best;
                let county = best
                    .county_fips
                    .as_deref()
                    .and_then(|f| self.gazetteer.county(f))
                    .map(|c| c.full_name.clone());
                Ok(ResolvedPlace {
                    name: Some(best.name),
                    lat: best.point.lat(),
                    lon: best.point.lon(),
                    precision: best.precision,
                    country: best.country,
                    region: best.region,
                    county_fips: best.county_fips,
                    county,
                    note: found.note,
                })
            }
        }
    }

    /// Answers a query.
    ///
    /// # Errors
    /// [`MatchError::Place`] when the caller's place cannot be geocoded.
    pub fn run(&self, query: &Query) -> Result<MatchResponse, MatchError> {
        let place = self.resolve(&query.place)?;
        let at = query
            .open_now
            .then(|| query.at.unwrap_or_else(Timestamp::now));
        let mut issues: Vec<&str> = Vec::new();
        for code in &query.issues {
            for expanded in self.vocabulary.expand_issue(code) {
                if !issues.contains(&expanded) {
                    issues.push(expanded);
                }
            }
        }
        let directory = self.directory;
        let needs = Needs {
            issue_sets: issues.iter().map(|c| directory.with_issue(c)).collect(),
            visible: (!self.view.role.sees_confidential()).then(|| directory.public()),
            language_sets: query
                .languages
                .iter()
                .map(|c| directory.with_language(c))
                .collect(),
            population_sets: query
                .populations
                .iter()
                .map(|c| directory.with_population(c))
                .collect(),
            open_24h_set: directory.open_24h(),
            issues,
            languages: &query.languages,
            populations: &query.populations,
            exclude: &query.exclude,
            open_24h: query.open_24h,
            open_at: at,
            radius_km: query.radius_km,
        };
        let results = self.ranked(&place, &needs, query);
        let filters = AppliedFilters {
            issues: needs.issues.iter().map(|s| (*s).to_owned()).collect(),
            languages: query.languages.clone(),
            open_24h: query.open_24h,
            open_now: query.open_now,
            at: at.map(|t| t.to_string()),
            exclude: query.exclude.clone(),
            populations: query.populations.clone(),
            radius_km: query.radius_km,
            limit: query.limit,
        };
        let results = results
            .into_iter()
            .filter_map(|c| Some((self.directory.provider(c.index)?, c)))
            .map(|(provider, mut c)| {
                if provider.location_confidential && self.view.geometry() == Geometry::Public {
                    // Already measured to the point the public is shown;
                    // whole km says how rough that point is.
                    c.distance_km = c.distance_km.map(f64::round);
                }
                (provider, c)
            })
            .enumerate()
            .map(|(rank, (provider, c))| self.explain(c, provider, rank + 1, &place, &needs))
            .collect();
        Ok(MatchResponse {
            place,
            filters,
            results,
        })
    }

    /// Candidates in final order, at most `query.limit`.
    fn ranked(
        &self,
        place: &ResolvedPlace,
        needs: &Needs<'_>,
        query: &Query,
    ) -> Vec<Candidate<'a>> {
        let Some(point) = place.point() else {
            return Vec::new();
        };
        let reverse = Reverse {
            lat: place.lat,
            lon: place.lon,
            country: place.country.clone(),
            region: place.region.clone(),
            county_fips: place.county_fips.clone(),
            county: place.county.clone(),
        };
        let directory = self.directory;
        // Every figure below (coverage, distance, score, radius filter, the
        // nearest search and its order) is computed in the view's geometry.
        let geometry = self.view.geometry();
        let serving = directory.covering_in(geometry, point, &reverse);
        let trusted: Vec<String> = [
            place.county_fips.as_ref().map(|f| format!("county:{f}")),
            place.region.as_ref().map(|r| format!("state:{r}")),
            place.country.as_ref().map(|c| format!("country:{c}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        let relaxable = query.relaxable();
        let mut taken: FxHashSet<u32> = FxHashSet::default();
        let mut results: Vec<Candidate<'a>> = Vec::new();
        // Level 0 is strict; level n gives up the first n relaxable filters.
        for level in 0..=relaxable.len() {
            let need = query.limit.saturating_sub(results.len());
            if need == 0 {
                break;
            }
            let allowed = RelaxSet::of(&relaxable[..level]);
            // The relaxable filters provider `i` fails, if it passes this level.
            let passes = |i: u32, provider: &Provider| -> Option<RelaxSet> {
                if !needs.hard_ok(provider, i) {
                    return None;
                }
                let failed = needs.fails(provider, i);
                failed.within(allowed).then_some(failed)
            };
            // Serving providers split by tier before any scoring: local ones
            // always rank first, so when enough of them pass, the (at a
            // million providers, tens of thousands of) national ones are
            // never scored.
            let mut local = Vec::new();
            let mut national = Vec::new();
            for &i in &serving {
                let Some(provider) = directory.provider(i) else {
                    continue;
                };
                let Some(failed) = passes(i, provider) else {
                    continue;
                };
                if taken.contains(&i) {
                    continue;
                }
                let cover = self.cover(i, point, &trusted, place.country.as_deref());
                let is_local = provider.kind != Kind::Hotline
                    && provider.location.is_some()
                    && cover.as_ref().is_some_and(|c| !c.is_national());
                if is_local {
                    local.push((i, provider, failed, cover));
                } else {
                    national.push((i, provider, failed, cover));
                }
            }
            let mut level_found: Vec<Candidate<'a>> = Vec::new();
            let score_all = |pending: Vec<(u32, &Provider, RelaxSet, Option<Cover<'a>>)>,
                             into: &mut Vec<Candidate<'a>>| {
                for (i, provider, failed, cover) in pending {
                    let distance_km = directory
                        .location(geometry, i)
                        .map(|l| l.distance_km(point));
                    if needs.within_radius(distance_km) {
                        into.push(self.candidate(i, provider, distance_km, cover, failed, place));
                    }
                }
            };
            score_all(local, &mut level_found);
            if level_found.len() < need {
                score_all(national, &mut level_found);
            }
            // Nearby providers rank after every serving one, so they are
            // looked for only when serving ones leave room. The search may
            // meet serving providers again; asking for that many more keeps
            // `need` non-serving ones.
            if level_found.len() < need {
                let reach = needs.radius_km.unwrap_or(NEARBY_MAX_KM);
                let k = need + level_found.len();
                // The attribute part of this level's filters prunes the
                // search; `passes` then checks the rest exactly.
                let attributes = AttributeFilter {
                    issues_any: needs.issues.iter().map(|c| (*c).to_owned()).collect(),
                    languages_any: if allowed.contains(Relaxable::Language) {
                        Vec::new()
                    } else {
                        needs.languages.to_vec()
                    },
                    populations_any: if allowed.contains(Relaxable::Population) {
                        Vec::new()
                    } else {
                        needs.populations.to_vec()
                    },
                    kinds: (!needs.exclude.is_empty()).then(|| {
                        Kind::ALL
                            .into_iter()
                            .filter(|k| !needs.exclude.contains(k))
                            .collect()
                    }),
                    open_24h: needs.open_24h && !allowed.contains(Relaxable::Open24h),
                    countries_any: same_country_codes(place.country.as_deref()),
                    public_only: needs.visible.is_some(),
                };
                let compiled = directory.compile(&attributes);
                let nearest =
                    directory.nearest_matching(geometry, point, k, Some(reach), &compiled, |i| {
                        !taken.contains(&i)
                            && directory
                                .provider(i)
                                .is_some_and(|p| passes(i, p).is_some())
                    });
                for (i, km) in nearest {
                    if serving.binary_search(&i).is_ok() {
                        continue;
                    }
                    if let Some(provider) = directory.provider(i) {
                        let failed = passes(i, provider).unwrap_or_default();
                        level_found.push(self.candidate(
                            i,
                            provider,
                            Some(km),
                            None,
                            failed,
                            place,
                        ));
                    }
                }
            }
            let order = |a: &Candidate<'_>, b: &Candidate<'_>| {
                a.relaxed
                    .len()
                    .cmp(&b.relaxed.len())
                    .then(a.tier.cmp(&b.tier))
                    .then(b.score.total_cmp(&a.score))
                    .then(
                        a.distance_km
                            .unwrap_or(f64::INFINITY)
                            .total_cmp(&b.distance_km.unwrap_or(f64::INFINITY)),
                    )
                    .then_with(|| self.id(a.index).cmp(self.id(b.index)))
            };
            // Only the best `need` are kept: select them, then sort those.
            if level_found.len() > need {
                level_found.select_nth_unstable_by(need - 1, order);
                level_found.truncate(need);
            }
            level_found.sort_by(order);
            taken.extend(level_found.iter().map(|c| c.index));
            results.extend(level_found);
        }
        results
    }

    fn id(&self, index: u32) -> &str {
        self.directory.provider(index).map_or("", |p| p.id.as_str())
    }

    fn candidate(
        &self,
        index: u32,
        provider: &Provider,
        distance_km: Option<f64>,
        cover: Option<Cover<'a>>,
        relaxed: RelaxSet,
        place: &ResolvedPlace,
    ) -> Candidate<'a> {
        let hotline_like = provider.kind == Kind::Hotline || provider.location.is_none();
        let tier = match &cover {
            None => Tier::Nearby,
            Some(c) if hotline_like || c.is_national() => Tier::National,
            Some(_) => Tier::Local,
        };
        let proximity = distance_km.map_or(0.0, |d| (-d / PROXIMITY_SCALE_KM).exp());
        let reachable = provider
            .phones
            .iter()
            .any(|p| phone_serves(p, place.country.as_deref()) && self.view.may_dial(p));
        let score = tier.weight()
            + 0.5 * proximity
            + 0.2 * f64::from(u8::from(reachable))
            + 0.1 * f64::from(u8::from(provider.availability.is_open_24h()))
            + 0.1 * cover.as_ref().map_or(0.0, Cover::specificity)
            + self.view.freshness.edge(provider);
        Candidate {
            index,
            distance_km,
            cover,
            tier,
            score,
            relaxed,
        }
    }

    /// The most specific part of provider `index`'s area covering `point`.
    /// `trusted` are the region keys the gazetteer placed the caller in.
    fn cover(
        &self,
        index: u32,
        point: LatLng,
        trusted: &[String],
        country: Option<&str>,
    ) -> Option<Cover<'a>> {
        let area = self.directory.area(self.view.geometry(), index)?;
        // `index` came from `covering_in`: a one-part area covers through
        // that part, with no need to test the point again.
        let single = area.parts().len() == 1;
        area.parts()
            .iter()
            .filter_map(|part| match part {
                AreaPart::Radius { center, radius_km } => (single
                    || center.distance_km(point) <= *radius_km)
                    .then_some(Cover::Radius(*radius_km)),
                AreaPart::Shared(region) | AreaPart::Polygon(region) => {
                    let key = region.key();
                    (single || trusted.iter().any(|t| t == key) || region.covers(point))
                        .then_some(Cover::Region(key))
                }
                AreaPart::Nationwide(code) => country
                    .is_some_and(|c| nationwide_countries(code).contains(&c))
                    .then_some(Cover::Nationwide(code.as_str())),
                AreaPart::Worldwide => Some(Cover::Worldwide),
            })
            .min_by_key(Cover::rank)
    }

    /// Turns a ranked candidate into a result with its reasons.
    fn explain(
        &self,
        candidate: Candidate<'_>,
        provider: &Provider,
        rank: usize,
        place: &ResolvedPlace,
        needs: &Needs<'_>,
    ) -> Match {
        let mut reasons: Vec<Cow<'static, str>> = Vec::with_capacity(8);
        match &candidate.cover {
            Some(cover) => reasons.push(self.describe_cover(cover, place).into()),
            None => reasons
                .push("near the caller, but does not list the caller's area as served".into()),
        }
        if let Some(d) = candidate.distance_km {
            reasons.push(format!("{d:.1} km away").into());
        }
        let matched: Vec<&str> = needs
            .issues
            .iter()
            .filter(|c| provider.issues.iter().any(|p| p == *c))
            .map(|c| self.vocabulary.issue(c).map_or(*c, |t| t.label.as_str()))
            .collect();
        if !matched.is_empty() {
            reasons.push(format!("handles {}", matched.join(", ").to_lowercase()).into());
        }
        for code in needs.languages {
            if provider.languages.iter().any(|l| l == code) {
                reasons.push(format!("speaks {}", self.language_name(code)).into());
            }
        }
        if provider.availability.is_open_24h() {
            reasons.push("24-hour".into());
        } else if let Some(at) = needs.open_at {
            if provider.availability.is_open_at(at) == Some(true) {
                reasons.push("open now".into());
            }
        }
        for code in needs.populations {
            if provider.populations.iter().any(|p| p == code) {
                reasons.push(format!("serves {}", code.replace('_', " ")).into());
            }
        }
        if needs.exclude.contains(&Kind::LawEnforcement) {
            reasons.push("not law enforcement".into());
        }
        let (phones, reachable) = phones_for(provider, place.country.as_deref(), self.view.role);
        if let Some(country) = place.country.as_deref() {
            if !reachable && !phones.is_empty() {
                reasons.push(
                    format!(
                        "no number listed for {}; the numbers shown may be international calls",
                        self.country_name(country)
                    )
                    .into(),
                );
            } else if let Some(phone) = phones
                .iter()
                .find(|p| p.country.as_deref() == Some(country))
            {
                if !is_us_or_territory(country) {
                    reasons.push(
                        format!(
                            "number for {}: {}",
                            self.country_name(country),
                            phone.number
                        )
                        .into(),
                    );
                }
            }
        }
        if provider.incomplete {
            reasons.push("the source names this contact without full details".into());
        }
        let relaxed = candidate.relaxed.to_vec();
        for relaxed in &relaxed {
            reasons.push(format!("does not meet {} (relaxed)", relaxed.parameter()).into());
        }
        Match {
            index: candidate.index,
            rank,
            score: (candidate.score * 10_000.0).round() / 10_000.0,
            tier: candidate.tier,
            distance_km: candidate.distance_km.map(|d| (d * 1000.0).round() / 1000.0),
            serves_location: candidate.cover.is_some(),
            reasons,
            relaxed,
            phone_positions: phones
                .iter()
                .filter_map(|shown| {
                    let position = provider
                        .phones
                        .iter()
                        .position(|p| std::ptr::eq(p, *shown))?;
                    u16::try_from(position).ok()
                })
                .collect(),
        }
    }

    fn describe_cover(&self, cover: &Cover<'_>, place: &ResolvedPlace) -> String {
        match cover {
            Cover::Radius(km) => format!("serves within {km} km of its office"),
            Cover::Worldwide => "serves callers worldwide".to_owned(),
            Cover::Nationwide(code) => {
                let name = self.country_name(code);
                match place.country.as_deref() {
                    Some(c) if c != *code => {
                        format!("serves all of {name}, including {}", self.country_name(c))
                    }
                    _ => format!("serves all of {name}"),
                }
            }
            Cover::Region(key) => match key.split_once(':') {
                Some(("county", fips)) => match self.gazetteer.county(fips) {
                    Some(county) => format!("serves {}, {}", county.full_name, county.state),
                    None => format!("serves county {fips}"),
                },
                Some(("state", code)) => format!(
                    "serves {}",
                    self.gazetteer.state(code).map_or(code, |s| s.name.as_str())
                ),
                Some(("country", code)) => format!("serves {}", self.country_name(code)),
                _ => "serves the caller's area".to_owned(),
            },
        }
    }

    fn country_name<'s>(&'s self, code: &'s str) -> &'s str {
        match code {
            "US" => "the United States",
            _ => self
                .gazetteer
                .country(code)
                .map_or(code, |c| c.name.as_str()),
        }
    }

    fn language_name<'s>(&'s self, code: &'s str) -> &'s str {
        self.gazetteer
            .language(code)
            .map_or(code, |l| l.plain_name())
    }
}

/// Whether `phone` can be given to a caller in `country`: it names no
/// country, or that one (a US number also serves the US territories).
fn phone_serves(phone: &Phone, country: Option<&str>) -> bool {
    match (phone.country.as_deref(), country) {
        (None, _) => true,
        (Some(p), Some(c)) => p == c || (p == "US" && is_us_or_territory(c)),
        (Some(_), None) => false,
    }
}

/// The address countries a provider not serving the caller may be in to be
/// offered as nearby: the caller's own (the US and its territories count as
/// one) or unknown (`""`). Empty (no restriction) when the caller's
/// country is unknown. So a caller never gets a foreign-only line.
fn same_country_codes(caller: Option<&str>) -> Vec<String> {
    match caller {
        None => Vec::new(),
        Some(c) if is_us_or_territory(c) => std::iter::once("US")
            .chain(US_TERRITORIES)
            .chain([""])
            .map(str::to_owned)
            .collect(),
        Some(c) => vec![c.to_owned(), String::new()],
    }
}

/// The phones of `provider` to give a caller in `country`, and whether any
/// of them serves that country. Numbers tied to the caller's country come
/// first, then numbers tied to none; a US number also serves the US
/// territories. When none serves the caller, every number is returned.
/// Confidential direct lines are left out unless `role` sees them.
pub fn phones_for<'p>(
    provider: &'p Provider,
    country: Option<&str>,
    role: Role,
) -> (Vec<&'p Phone>, bool) {
    let shown = |p: &&Phone| role.sees_confidential() || !p.confidential;
    let mut usable: Vec<&Phone> = provider
        .phones
        .iter()
        .filter(shown)
        .filter(|p| phone_serves(p, country))
        .collect();
    if usable.is_empty() {
        return (provider.phones.iter().filter(shown).collect(), false);
    }
    usable.sort_by_key(|p| p.country.is_none());
    (usable, true)
}
