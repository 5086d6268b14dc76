//! Matching: a caller's place and needs → ranked providers with reasons.
//!
//! [`Matcher::run`] takes a checked [`Query`] and
//! 1. resolves the caller's place with the gazetteer (free text is
//!    geocoded; coordinates are reverse geocoded for country, state and
//!    county);
//! 2. finds the providers whose service area covers the point (H3 lookup
//!    confirmed against the exact geometry, nationwide and worldwide
//!    lists) and, in the caller's own country (the US with its
//!    territories), the located providers near it that pass the filters;
//! 3. ranks them by the model below; when fewer than `limit` pass every
//!    filter, adds results that fail only relaxable filters
//!    ([`Relaxable::ORDER`], one more given up at a time), each marked
//!    with what it fails and always after every strict result.
//!
//! # Ranking
//! The model follows how an advocate refers on a live call: first the
//! help the caller can walk into, near enough to reach; beside it, the
//! lines and offices that serve the caller's area from afar, with the
//! national line for the need always on screen; and, only when nothing
//! else fits, in-person help farther away. Every rule below is exact and
//! holds for every query, view and `limit`.
//!
//! **Reach.** "Near" means reachable in person. The reach is twice the
//! distance to the [`REACH_DENSITY_RANK`]-th nearest in-person provider
//! for the need (passing `issue` and `exclude`, in the caller's country),
//! kept between [`REACH_MIN_KM`] and [`REACH_MAX_KM`], and never beyond
//! `radius_km`. So where help is dense (Fresno, Anchorage's city) near
//! means the hour's drive of [`REACH_MIN_KM`]; where it is sparse (eastern
//! Montana, Guam) the reach grows with the distance the nearest few
//! already are, up to a long day's return trip. The reach used is
//! published as `reach_km` with the filters.
//!
//! **Tiers** ([`Tier`]): *in person* are providers with a location that
//! are not hotlines, within reach: [`Tier::Local`] when their service
//! area covers the caller, [`Tier::Nearby`] when it does not list the
//! caller's area. *Remote* are [`Tier::Helpline`] (hotlines and providers
//! without a location serving the caller's area) and [`Tier::Remote`]
//! (offices beyond reach whose area covers the caller: a statewide office
//! across the state). [`Tier::Farther`] are in-person providers beyond
//! reach that do not list the caller's area, within 1,000 km
//! ([`NEARBY_MAX_KM`]) or `radius_km`, in the caller's country.
//!
//! **Order within a tier.** Local, nearby, remote and farther providers
//! are ordered by *effective distance* `distance_km / e^bonus`, nearer
//! first; helplines, whose office distance means nothing to a caller on
//! the phone, by `bonus`, larger first. Ties go to the larger bonus, then
//! to `id`. The bonus is a sum of small, fixed edges:
//!
//! | edge | value | why |
//! | --- | ---: | --- |
//! | a number dialable from the caller's country | [`BONUS_REACHABLE`] | an advocate can warm-transfer or give the number now |
//! | reachable 24 hours | [`BONUS_OPEN_24H`] | survivors call at night; a 24-hour line can take them now |
//! | language: speaks / via interpreter | [`BONUS_SPEAKS`] / [`BONUS_INTERPRETER`] | speaking the caller's language beats a three-way interpreted call |
//! | how specific its area is: county, ZIP, radius or own polygon 1, state 0.75, country 0.5, worldwide or not listed 0 | × [`BONUS_SPECIFICITY`] | a provider serving this county knows its courts, shelters and police |
//! | verified recently | up to [`FRESHNESS_EDGE`](crate::model::FRESHNESS_EDGE) | fresher records are likelier right |
//!
//! The bonus is at most [`MAX_BONUS`] (0.9) `< ln 3`, so an edge never
//! lifts a provider above one less than a third of its distance away:
//! at 30 km, the best-fitting provider still ranks after any at 10 km.
//! The published `score` is the bonus (4 decimals).
//!
//! **Languages** are *speaks*, *via interpreter* (an `interpretation`
//! entry in `services`: it meets any language), *unknown* (no languages
//! listed: not a failed filter, the reason says to ask) or *does not*
//! (languages listed, none the caller's: fails `language`, relaxable).
//!
//! **Merging.** Within one relaxed set (strict, then each relaxation
//! level) results are dealt from two queues: in person (local, then
//! nearby) and remote (the best national line for the need first, then
//! the other helplines, then remote offices). Positions
//! [`REMOTE_SLOTS`] (3 and 5) are dealt from the remote queue, every other
//! position from the in-person queue; a queue that runs out gives its
//! turn to the other, and farther providers come only after both. The
//! *national line* is the helpline with the largest bonus among those
//! serving the caller's whole country (a nationwide or country area), so
//! for a US caller with a trafficking need the 24-hour National Human
//! Trafficking Hotline is third, not crowded out by a state's offices.
//!
//! **Exact top-k.** Each queue is computed exactly for the ranking: the
//! in-person and farther searches walk providers in distance order and
//! stop once `distance / e^MAX_BONUS` exceeds the k-th best effective
//! distance found, since no farther provider can still enter. The answer
//! at `limit=k` is therefore the first k of the answer at any larger
//! limit.
//!
//! # Capacity and warm transfers (staff only)
//! Staff queries may ask `accepting=true` (a fresh capacity figure above
//! zero, or capacity unknown: none, or stale, flagged) and
//! `warm_transfer=true` (open now in the provider's own zone or 24-hour,
//! accepting as above, a voice or toll-free line for the caller's
//! country, direct lines included, and the caller's language spoken or
//! via interpreter, met when none is asked). Both are relaxable filters,
//! checked per candidate as the other relaxable filters are, never by a
//! scan. Every staff result carries its [`WarmTransfer`] checklist and
//! its capacity figure ([`CapacityShown`]); the public gets neither, and a
//! public view ignores both filters (the API refuses them with 403).
//! Capacity freshness is judged at the query's `at`, or now.
//!
//! # Who sees what
//! A [`View`] says who the answer is for. The public ([`Role::Public`])
//! gets only records marked public, and every figure of its answer is
//! computed in [`Geometry::Public`]: a record whose location is
//! confidential *is* at its coarsened point
//! ([`Directory::public_location`]) for the covering test of a radius
//! area, the distance, the bonus, the reach, the `radius_km` filter, the
//! nearest searches and so the tiers and the order. Nothing published is a function of the true
//! point, so no arithmetic on many answers can give it back; distances to
//! such records are also rounded to whole km. Staff views use the true
//! points. The same query on the same directory always gives the same
//! answer.

mod listing;
mod query;
#[cfg(test)]
mod tests;

pub use crate::model::BoundingBox;
pub use listing::{hotlines_for, list, ListQuery, Page, DEFAULT_PAGE, LIST_PARAMETERS, MAX_PAGE};
pub use query::{
    ParameterDoc, Place, Query, QueryError, Relaxable, Terms, DEFAULT_LIMIT, MATCH_PARAMETERS,
    MAX_LIMIT, MAX_RADIUS_KM, MAX_VALUES,
};

use crate::gazetteer::{is_us_or_territory, Gazetteer, GeocodeError, Reverse, US_TERRITORIES};
use crate::index::{
    nationwide_countries, AreaPart, AttributeFilter, Bitset, CompiledFilter, Directory, Geometry,
};
use crate::model::{
    Accepting, CapacityWindow, Freshness, Kind, LatLng, Need, Phone, PhoneKind, Precision,
    Provider, RegionKey, Role, Vocabulary, DEFAULT_CAPACITY_FRESH_HOURS,
    DEFAULT_VERIFICATION_WINDOW_DAYS,
};
use jiff::Timestamp;
use rustc_hash::FxHashSet;
use serde::Serialize;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::ControlFlow;

/// The farthest, in km, any provider that does not list the caller's area
/// is offered ([`Tier::Farther`]) when the query sets no `radius_km`.
/// Beyond it a provider that does not serve the caller is no practical
/// referral, and national lines cover the caller anyway.
pub const NEARBY_MAX_KM: f64 = 1_000.0;

/// The least reach, km: about an hour's drive, the distance a caller in a
/// city can be expected to travel for in-person help.
pub const REACH_MIN_KM: f64 = 60.0;

/// The largest reach, km: a long day's return trip by road, the most a
/// rural caller can be asked to travel for in-person help.
pub const REACH_MAX_KM: f64 = 400.0;

/// The reach is [`REACH_FACTOR`] times the distance to this many-th
/// nearest in-person provider for the need: a caller should have a choice
/// of a few.
pub const REACH_DENSITY_RANK: usize = 3;

/// See [`REACH_DENSITY_RANK`].
pub const REACH_FACTOR: f64 = 2.0;

/// Bonus for a number dialable from the caller's country (natural-log
/// units: a bonus `b` divides the distance by `e^b`).
pub const BONUS_REACHABLE: f64 = 0.2;

/// Bonus for 24-hour capacity.
pub const BONUS_OPEN_24H: f64 = 0.2;

/// Bonus for speaking one of the caller's languages.
pub const BONUS_SPEAKS: f64 = 0.25;

/// Bonus for meeting the caller's language through an interpreting
/// service.
pub const BONUS_INTERPRETER: f64 = 0.15;

/// Bonus for the most specific service area (county, ZIP, radius, own
/// polygon); a state earns 0.75 of it, a country 0.5.
pub const BONUS_SPECIFICITY: f64 = 0.2;

/// The largest bonus a provider can have: every edge at once. Below
/// `ln 3`, so a bonus never outweighs a factor of three in distance.
pub const MAX_BONUS: f64 = BONUS_REACHABLE
    + BONUS_OPEN_24H
    + BONUS_SPEAKS
    + BONUS_SPECIFICITY
    + crate::model::FRESHNESS_EDGE;

// A bonus never outweighs a factor of three in distance (ln 3 =
// 1.0986…), and speaking the language beats an interpreter.
const _: () = assert!(MAX_BONUS < 1.098_612_288);
const _: () = assert!(BONUS_INTERPRETER < BONUS_SPEAKS);

/// 1-based positions, within each relaxed set, dealt from the remote
/// queue (the national line for the need first); see the module docs.
pub const REMOTE_SLOTS: [usize; 2] = [3, 5];

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
/// Serialised in snake case (`"local"`, `"helpline"` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// In person, within reach, serving the caller's area.
    Local,
    /// In person, within reach, not listing the caller's area as served.
    Nearby,
    /// A hotline or a provider without a location serving the caller's
    /// area: help by phone, text or online.
    Helpline,
    /// An office beyond reach whose area covers the caller (a statewide
    /// office across the state): serves the caller remotely.
    Remote,
    /// In person, beyond reach, not listing the caller's area: offered
    /// only when nothing else fits.
    Farther,
}

impl Tier {
    /// True for help the caller can walk into ([`Tier::Local`],
    /// [`Tier::Nearby`]).
    pub fn in_person(self) -> bool {
        matches!(self, Tier::Local | Tier::Nearby)
    }

    /// True when the tier is ordered by effective distance (every tier but
    /// [`Tier::Helpline`], which is ordered by bonus).
    pub fn by_distance(self) -> bool {
        self != Tier::Helpline
    }
}

/// How a provider meets the caller's languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LanguageFit {
    /// The query names no language.
    NotAsked,
    /// Speaks one of them.
    Speaks,
    /// Meets any language through an interpreting service.
    Interpreter,
    /// Lists no languages: ask.
    Unknown,
    /// Lists languages, none of the caller's (fails `language`).
    DoesNot,
}

/// Whether a provider can take a warm transfer now (the advocate calls
/// it with the caller on the line): each condition, and `ready` when all
/// four are met. Staff results only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarmTransfer {
    /// Open at the query's `at` (or now) in its own zone, or 24-hour.
    pub open: bool,
    /// What its capacity says ([`Accepting::Unknown`] meets the
    /// condition, flagged).
    pub accepting: Accepting,
    /// The line to call, as a position in the provider's `phones`: the
    /// first voice or toll-free number for the caller's country (or tied
    /// to none), direct (confidential) lines first; `None` without one.
    pub direct_line: Option<u16>,
    /// How it meets the caller's languages (speaks, interpreter and not
    /// asked meet the condition).
    pub language: LanguageFit,
    /// All four met: open, accepting (yes or unknown), a direct line, the
    /// language.
    pub ready: bool,
}

impl WarmTransfer {
    /// True when [`WarmTransfer::of`] would say `ready`, checking the
    /// cheap conditions first and stopping at the first unmet one (the
    /// filter's path, run for every candidate a search visits).
    pub fn is_ready(
        provider: &Provider,
        country: Option<&str>,
        language: LanguageFit,
        window: &CapacityWindow,
    ) -> bool {
        matches!(
            language,
            LanguageFit::NotAsked | LanguageFit::Speaks | LanguageFit::Interpreter
        ) && provider.phones.iter().any(|p| is_transfer_line(p, country))
            && window.accepting(provider).admits()
            && provider.availability.is_open_at(window.at) == Some(true)
    }

    /// The checklist of `provider` for a caller in `country` (ISO alpha-2)
    /// whose languages it meets as `language`, at `window.at`. Every
    /// phone counts, direct lines included: this is for staff.
    pub fn of(
        provider: &Provider,
        country: Option<&str>,
        language: LanguageFit,
        window: &CapacityWindow,
    ) -> WarmTransfer {
        let open = provider.availability.is_open_at(window.at) == Some(true);
        let accepting = window.accepting(provider);
        let position = |confidential: bool| {
            provider
                .phones
                .iter()
                .position(|p| p.confidential == confidential && is_transfer_line(p, country))
        };
        let direct_line = position(true)
            .or_else(|| position(false))
            .and_then(|i| u16::try_from(i).ok());
        let language_met = matches!(
            language,
            LanguageFit::NotAsked | LanguageFit::Speaks | LanguageFit::Interpreter
        );
        WarmTransfer {
            open,
            accepting,
            direct_line,
            language,
            ready: open && accepting.admits() && direct_line.is_some() && language_met,
        }
    }
}

/// A line a warm transfer can be made on: voice or toll-free, for the
/// caller's country (or tied to none).
fn is_transfer_line(phone: &Phone, country: Option<&str>) -> bool {
    matches!(phone.kind, PhoneKind::Voice | PhoneKind::TollFree) && phone_serves(phone, country)
}

/// A staff result's capacity figure: the entry shown
/// ([`CapacityWindow::shown`]) as a position in the provider's `capacity`,
/// and whether it is stale (it then counts as unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapacityShown {
    /// Position in [`Provider::capacity`].
    pub position: u16,
    /// Older than the fresh window at the query's `at` (or now), or
    /// undated.
    pub stale: bool,
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
    /// The region keys the gazetteer placed the caller in (`county:…`,
    /// `state:…`, `country:…`): a shared region with one of them covers the
    /// caller without a point-in-polygon test.
    pub fn region_keys(&self) -> Vec<RegionKey> {
        RegionKey::containing(
            self.county_fips.as_deref(),
            self.region.as_deref(),
            self.country.as_deref(),
        )
    }

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
    /// The instant `open_now`, `warm_transfer` and `accepting` were
    /// evaluated at (RFC 3339), when one of them was asked.
    pub at: Option<String>,
    /// Staff only: only providers with room or unknown capacity.
    pub accepting: bool,
    /// Staff only: only providers that can take a warm transfer now.
    pub warm_transfer: bool,
    /// Kinds left out.
    pub exclude: Vec<Kind>,
    /// Population codes.
    pub populations: Vec<String>,
    /// Distance cap in km.
    pub radius_km: Option<f64>,
    /// The in-person reach used, km (module docs, "Reach"): in-person
    /// providers farther than this are remote or farther away. Not a
    /// parameter; `null` when the caller has no position.
    pub reach_km: Option<f64>,
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
    /// The bonus of the module docs (the edges earned besides distance),
    /// rounded to 4 decimals.
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
    /// How it meets the caller's languages.
    pub language: LanguageFit,
    /// Dealt as the national line for the need (module docs, "Merging").
    pub national_line: bool,
    /// The numbers to give the caller, as positions in the provider's
    /// `phones`: those serving the caller's country and those tied to no
    /// country; every number when none serves it. [`Match::phones`] looks
    /// them up (positions, not copies: a result clones no strings).
    pub phone_positions: Vec<u16>,
    /// Staff only: whether it can take a warm transfer now; `None` for
    /// the public.
    pub warm_transfer: Option<WarmTransfer>,
    /// Staff only: its capacity figure; `None` for the public, and for
    /// staff when it has none.
    pub capacity: Option<CapacityShown>,
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
    /// Hours a capacity figure stays fresh (`serve
    /// --capacity-fresh-hours`); judged at a match's `at`, or now.
    pub capacity_fresh_hours: u32,
}

impl View {
    /// A view for `role` as of today, with the default verification window.
    pub fn now(role: Role) -> View {
        View {
            role,
            freshness: Freshness::now(DEFAULT_VERIFICATION_WINDOW_DAYS),
            capacity_fresh_hours: DEFAULT_CAPACITY_FRESH_HOURS,
        }
    }

    /// The capacity window of this view, judged now.
    pub fn capacity_window(&self) -> CapacityWindow {
        CapacityWindow::now(self.capacity_fresh_hours)
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
    /// The need as asked.
    need: &'q Need,
    /// Its issues expanded ([`Need::expanded_issues`]).
    issues: Vec<&'q str>,
    languages: &'q [String],
    populations: &'q [String],
    open_24h: bool,
    open_at: Option<Timestamp>,
    radius_km: Option<f64>,
    issue_sets: Vec<&'q Bitset>,
    /// Records this caller may see; `None`: all.
    visible: Option<&'q Bitset>,
    language_sets: Vec<&'q Bitset>,
    population_sets: Vec<&'q Bitset>,
    open_24h_set: &'q Bitset,
    /// `accepting`, for a staff view only.
    accepting: bool,
    /// `warm_transfer`, for a staff view only.
    warm_transfer: bool,
    /// Capacity freshness, judged at the query's `at` (or now); also the
    /// instant a warm transfer's `open` is judged at.
    window: CapacityWindow,
    /// The caller's country (ISO alpha-2), for a warm transfer's line.
    country: Option<&'q str>,
}

/// The `services` entry that says a line interprets for any language.
const INTERPRETATION: &str = "interpretation";

impl Needs<'_> {
    /// How provider `i` meets the caller's languages.
    fn language_fit(&self, provider: &Provider, i: u32) -> LanguageFit {
        if self.languages.is_empty() {
            LanguageFit::NotAsked
        } else if self.language_sets.iter().any(|s| s.contains(i)) {
            LanguageFit::Speaks
        } else if provider.services.iter().any(|s| s == INTERPRETATION) {
            LanguageFit::Interpreter
        } else if provider.languages.is_empty() {
            LanguageFit::Unknown
        } else {
            LanguageFit::DoesNot
        }
    }

    /// The relaxable filters provider `i` fails (ignoring `issue`,
    /// `exclude` and distance, which are checked by [`Needs::hard_ok`]).
    fn fails(&self, provider: &Provider, i: u32) -> RelaxSet {
        let mut failed = RelaxSet::default();
        let language = self.language_fit(provider, i);
        if language == LanguageFit::DoesNot {
            failed.push(Relaxable::Language);
        }
        if self.accepting && !self.window.accepting(provider).admits() {
            failed.push(Relaxable::Accepting);
        }
        if self.warm_transfer
            && !WarmTransfer::is_ready(provider, self.country, language, &self.window)
        {
            failed.push(Relaxable::WarmTransfer);
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

    /// `issue` and `exclude`, never relaxed ([`Need::admits`]: excluding
    /// `law_enforcement` also leaves out providers of other kinds flagged
    /// as law enforcement).
    fn hard_ok(&self, provider: &Provider, i: u32) -> bool {
        self.visible.is_none_or(|set| set.contains(i))
            && (self.issues.is_empty() || self.issue_sets.iter().any(|s| s.contains(i)))
            && self.need.admits(provider)
    }

    fn within_radius(&self, distance_km: Option<f64>) -> bool {
        match (self.radius_km, distance_km) {
            (Some(max), Some(d)) => d <= max,
            _ => true,
        }
    }

    /// The attribute part of the hard filters, for pruning the nearest
    /// searches over in-person providers: never hotlines, and only in the
    /// caller's country. Built once per query and shared by the reach and
    /// every level's searches, which check the relaxable filters exactly.
    fn in_person_filter(&self, country: Option<&str>) -> AttributeFilter {
        AttributeFilter {
            countries_any: same_country_codes(country),
            public_only: self.visible.is_some(),
            ..AttributeFilter::required_by(self.need, &self.issues).without_kind(Kind::Hotline)
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

    fn within(self, allowed: RelaxSet) -> bool {
        self.0 & !allowed.0 == 0
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
#[derive(Debug, Clone)]
struct Candidate<'d> {
    index: u32,
    distance_km: Option<f64>,
    cover: Option<Cover<'d>>,
    tier: Tier,
    /// The sum of the edges of the module docs.
    bonus: f64,
    /// `distance_km / e^bonus`; infinite without a location.
    effective_km: f64,
    language: LanguageFit,
    relaxed: RelaxSet,
    /// Dealt as the national line for the need.
    national_line: bool,
}

/// The most specific way a provider's area covers the caller.
#[derive(Debug, Clone, PartialEq)]
enum Cover<'d> {
    Radius(f64),
    Region(&'d RegionKey),
    /// A provider's own polygon.
    Polygon,
    Nationwide(&'d str),
    Worldwide,
}

impl Cover<'_> {
    /// Smaller is more specific.
    fn rank(&self) -> u8 {
        match self {
            Cover::Radius(_) => 0,
            Cover::Region(RegionKey::County(_)) | Cover::Polygon => 1,
            Cover::Region(RegionKey::State(_)) => 2,
            Cover::Region(RegionKey::Country(_)) => 3,
            Cover::Nationwide(_) => 4,
            Cover::Worldwide => 5,
        }
    }

    /// Serves the caller's whole country (not the world).
    fn is_national(&self) -> bool {
        matches!(self.rank(), 3 | 4)
    }

    /// The share of [`BONUS_SPECIFICITY`] earned.
    fn specificity(&self) -> f64 {
        match self.rank() {
            0 | 1 => 1.0,
            2 => 0.75,
            3 | 4 => 0.5,
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
        let instant = query.at.unwrap_or_else(Timestamp::now);
        let at = query.open_now.then_some(instant);
        let needs = self.needs(query, at, instant, place.country.as_deref());
        let (results, reach_km) = self.ranked(&place, &needs, query);
        let need = &query.need;
        let filters = AppliedFilters {
            reach_km: reach_km.map(|km| (km * 10.0).round() / 10.0),
            issues: needs.issues.iter().map(|s| (*s).to_owned()).collect(),
            languages: need.languages.clone(),
            open_24h: need.open_24h,
            open_now: query.open_now,
            at: (query.open_now || needs.accepting || needs.warm_transfer)
                .then(|| instant.to_string()),
            accepting: needs.accepting,
            warm_transfer: needs.warm_transfer,
            exclude: need.exclude.clone(),
            populations: need.populations.clone(),
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

    /// The query's filters, ready to test providers against; `at` is the
    /// instant `open_now` is judged at, `instant` the one capacity and
    /// warm transfers are (the query's `at`, or now); `country` the
    /// caller's. The staff-only filters apply to staff views only.
    fn needs<'q>(
        &'q self,
        query: &'q Query,
        at: Option<Timestamp>,
        instant: Timestamp,
        country: Option<&'q str>,
    ) -> Needs<'q> {
        let need = &query.need;
        let issues = need.expanded_issues(self.vocabulary);
        let directory = self.directory;
        let staff = self.view.role.sees_confidential();
        Needs {
            accepting: staff && query.accepting,
            warm_transfer: staff && query.warm_transfer,
            window: CapacityWindow {
                at: instant,
                fresh_hours: self.view.capacity_fresh_hours,
            },
            country,
            issue_sets: issues.iter().map(|c| directory.with_issue(c)).collect(),
            visible: (!self.view.role.sees_confidential()).then(|| directory.public()),
            language_sets: need
                .languages
                .iter()
                .map(|c| directory.with_language(c))
                .collect(),
            population_sets: need
                .populations
                .iter()
                .map(|c| directory.with_population(c))
                .collect(),
            open_24h_set: directory.open_24h(),
            need,
            issues,
            languages: &need.languages,
            populations: &need.populations,
            open_24h: need.open_24h,
            open_at: at,
            radius_km: query.radius_km,
        }
    }

    /// Candidates in final order, at most `query.limit`, and the reach
    /// used (km; `None` when the caller has no position).
    fn ranked(
        &self,
        place: &ResolvedPlace,
        needs: &Needs<'_>,
        query: &Query,
    ) -> (Vec<Candidate<'a>>, Option<f64>) {
        let Some(point) = place.point() else {
            return (Vec::new(), None);
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
        let country = place.country.as_deref();
        // Every figure below (coverage, distance, bonus, reach, radius
        // filter, the nearest searches and their order) is computed in the
        // view's geometry.
        let geometry = self.view.geometry();
        let trusted = place.region_keys();
        let in_person_filter = directory.compile(&needs.in_person_filter(country));
        let reach = self.reach(point, needs, &in_person_filter);
        // Serving providers passing the hard filters, with how they cover
        // the caller and how far they are: the same at every level.
        let mut serving: Vec<(u32, Cover<'a>, Option<f64>)> = Vec::new();
        for i in directory.covering_in(geometry, point, &reverse) {
            let Some(provider) = directory.provider(i) else {
                continue;
            };
            if !needs.hard_ok(provider, i) {
                continue;
            }
            let Some(cover) = self.cover(i, point, &trusted, country) else {
                continue;
            };
            let distance_km = directory
                .location(geometry, i)
                .map(|l| l.distance_km(point));
            if needs.within_radius(distance_km) {
                serving.push((i, cover, distance_km));
            }
        }
        // Sorted by index for lookups, then by distance for the walk below.
        let serves: Vec<u32> = serving.iter().map(|(i, _, _)| *i).collect();
        serving.sort_by(|a, b| {
            let far = |d: Option<f64>| d.unwrap_or(f64::INFINITY);
            far(a.2).total_cmp(&far(b.2))
        });
        let farthest = needs
            .radius_km
            .map_or(NEARBY_MAX_KM, |r| r.min(NEARBY_MAX_KM));
        let by_distance = |a: &Candidate<'_>, b: &Candidate<'_>| self.by_effective_distance(a, b);
        let by_bonus = |a: &Candidate<'_>, b: &Candidate<'_>| self.by_bonus(a, b);
        // A public view ignores the staff-only filters (see `needs`).
        let relaxable: Vec<Relaxable> = query
            .relaxable()
            .into_iter()
            .filter(|r| {
                needs.accepting && *r == Relaxable::Accepting
                    || needs.warm_transfer && *r == Relaxable::WarmTransfer
                    || !matches!(r, Relaxable::Accepting | Relaxable::WarmTransfer)
            })
            .collect();
        let mut taken: FxHashSet<u32> = FxHashSet::default();
        let mut results: Vec<Candidate<'a>> = Vec::new();
        // Level 0 is strict; level n gives up the first n relaxable filters.
        for level in 0..=relaxable.len() {
            let need = query.limit.saturating_sub(results.len());
            if need == 0 {
                break;
            }
            let allowed = RelaxSet::of(&relaxable[..level]);
            // `serving` is in distance order: once a tier's k-th best is
            // found, farther providers are dropped without being scored.
            let mut local = TopK::new(need);
            let mut remote = TopK::new(need);
            let mut helplines = Vec::new();
            for (i, cover, distance_km) in &serving {
                let Some(provider) = directory.provider(*i) else {
                    continue;
                };
                let tier = match distance_km {
                    Some(d) if provider.kind != Kind::Hotline => {
                        if *d <= reach {
                            Tier::Local
                        } else {
                            Tier::Remote
                        }
                    }
                    _ => Tier::Helpline,
                };
                let kept = match tier {
                    Tier::Local => Some(&mut local),
                    Tier::Remote => Some(&mut remote),
                    _ => None,
                };
                if kept
                    .as_ref()
                    .is_some_and(|top| !top.could_enter(distance_km.unwrap_or(f64::INFINITY)))
                {
                    continue;
                }
                let failed = needs.fails(provider, *i);
                if taken.contains(i) || !failed.within(allowed) {
                    continue;
                }
                let candidate = self.candidate(
                    *i,
                    provider,
                    *distance_km,
                    Some(cover.clone()),
                    tier,
                    failed,
                    place,
                    needs,
                );
                match kept {
                    Some(top) => top.offer(candidate, by_distance),
                    None => helplines.push(candidate),
                }
            }
            let (local, remote) = (local.best, remote.best);
            // The national line for the need leads the remote queue.
            let national = helplines
                .iter()
                .enumerate()
                .filter(|(_, c)| c.cover.as_ref().is_some_and(Cover::is_national))
                .min_by(|a, b| by_bonus(a.1, b.1))
                .map(|(k, _)| k)
                .map(|k| {
                    let mut line = helplines.swap_remove(k);
                    line.national_line = true;
                    line
                });
            keep_best(&mut helplines, need, by_bonus);
            let mut in_person = local;
            if in_person.len() < need {
                let nearby = self.nearest_in_person(
                    point,
                    needs,
                    allowed,
                    place,
                    (None, reach),
                    need - in_person.len(),
                    &in_person_filter,
                    |i| !taken.contains(&i) && serves.binary_search(&i).is_err(),
                );
                in_person.extend(nearby);
            }
            let mut remote_queue: Vec<Candidate<'a>> = national
                .into_iter()
                .chain(helplines)
                .chain(remote)
                .collect();
            remote_queue.truncate(need);
            let mut farther = Vec::new();
            if in_person.len() + remote_queue.len() < need && farthest > reach {
                farther = self.nearest_in_person(
                    point,
                    needs,
                    allowed,
                    place,
                    (Some(reach), farthest),
                    need - in_person.len() - remote_queue.len(),
                    &in_person_filter,
                    |i| !taken.contains(&i) && serves.binary_search(&i).is_err(),
                );
            }
            let dealt = deal(in_person, remote_queue, farther, need);
            taken.extend(dealt.iter().map(|c| c.index));
            results.extend(dealt);
        }
        (results, Some(reach))
    }

    /// The in-person reach at `point` for `needs`, km: see the module docs.
    /// `in_person` is [`Needs::in_person_filter`], compiled.
    fn reach(&self, point: LatLng, needs: &Needs<'_>, in_person: &CompiledFilter<'_>) -> f64 {
        let nearest = self.directory.nearest_matching(
            self.view.geometry(),
            point,
            REACH_DENSITY_RANK,
            Some(NEARBY_MAX_KM),
            in_person,
            |i| {
                self.directory
                    .provider(i)
                    .is_some_and(|p| needs.hard_ok(p, i))
            },
        );
        let third = nearest
            .get(REACH_DENSITY_RANK - 1)
            .and_then(|&(i, _)| self.directory.location(self.view.geometry(), i))
            .map(|l| l.distance_km(point));
        let reach = match third {
            Some(km) => (REACH_FACTOR * km).clamp(REACH_MIN_KM, REACH_MAX_KM),
            None => REACH_MAX_KM,
        };
        needs.radius_km.map_or(reach, |r| reach.min(r))
    }

    /// The best `k` in-person providers (located, not hotlines) passing
    /// this level and `extra`, farther than `band.0` (exclusive, when
    /// given) and no farther than `band.1` km, by effective distance:
    /// [`Tier::Nearby`] within reach, [`Tier::Farther`] beyond it. Exact:
    /// providers are visited nearest first and the walk stops once even
    /// the largest bonus could not bring the next one level with the k-th
    /// best. `compiled` is [`Needs::in_person_filter`], compiled.
    #[allow(clippy::too_many_arguments)]
    fn nearest_in_person(
        &self,
        point: LatLng,
        needs: &Needs<'_>,
        allowed: RelaxSet,
        place: &ResolvedPlace,
        band: (Option<f64>, f64),
        k: usize,
        compiled: &CompiledFilter<'_>,
        extra: impl Fn(u32) -> bool,
    ) -> Vec<Candidate<'a>> {
        let directory = self.directory;
        let tier = if band.0.is_some() {
            Tier::Farther
        } else {
            Tier::Nearby
        };
        let geometry = self.view.geometry();
        let mut best = TopK::new(k);
        // The tree measures chords; distances are taken by the haversine
        // formula every other figure uses, so the walk reaches a hair
        // beyond the band and the stopping test leaves a hair of room.
        directory.visit_nearest(
            geometry,
            point,
            Some(band.1 * (1.0 + 1e-9) + 1e-9),
            compiled,
            |i, _| {
                let Some(km) = directory
                    .location(geometry, i)
                    .map(|l| l.distance_km(point))
                else {
                    return ControlFlow::Continue(());
                };
                if !best.could_enter(km) {
                    return ControlFlow::Break(());
                }
                if km > band.1 || band.0.is_some_and(|inner| km <= inner) || !extra(i) {
                    return ControlFlow::Continue(());
                }
                let Some(provider) = directory.provider(i) else {
                    return ControlFlow::Continue(());
                };
                let failed = needs.fails(provider, i);
                if !needs.hard_ok(provider, i) || !failed.within(allowed) {
                    return ControlFlow::Continue(());
                }
                let candidate =
                    self.candidate(i, provider, Some(km), None, tier, failed, place, needs);
                best.offer(candidate, |a, b| self.by_effective_distance(a, b));
                ControlFlow::Continue(())
            },
        );
        best.best
    }

    /// Effective distance, nearer first; then the larger bonus; then `id`.
    fn by_effective_distance(&self, a: &Candidate<'_>, b: &Candidate<'_>) -> Ordering {
        a.effective_km
            .total_cmp(&b.effective_km)
            .then(b.bonus.total_cmp(&a.bonus))
            .then_with(|| self.id(a.index).cmp(self.id(b.index)))
    }

    /// The larger bonus first; then `id`.
    fn by_bonus(&self, a: &Candidate<'_>, b: &Candidate<'_>) -> Ordering {
        b.bonus
            .total_cmp(&a.bonus)
            .then_with(|| self.id(a.index).cmp(self.id(b.index)))
    }

    fn id(&self, index: u32) -> &str {
        self.directory.provider(index).map_or("", |p| p.id.as_str())
    }

    #[allow(clippy::too_many_arguments)]
    fn candidate(
        &self,
        index: u32,
        provider: &Provider,
        distance_km: Option<f64>,
        cover: Option<Cover<'a>>,
        tier: Tier,
        relaxed: RelaxSet,
        place: &ResolvedPlace,
        needs: &Needs<'_>,
    ) -> Candidate<'a> {
        let language = needs.language_fit(provider, index);
        let reachable = provider
            .phones
            .iter()
            .any(|p| phone_serves(p, place.country.as_deref()) && self.view.may_dial(p));
        let edge = |on: bool, value: f64| if on { value } else { 0.0 };
        let bonus = edge(reachable, BONUS_REACHABLE)
            + edge(provider.availability.is_open_24h(), BONUS_OPEN_24H)
            + match language {
                LanguageFit::Speaks => BONUS_SPEAKS,
                LanguageFit::Interpreter => BONUS_INTERPRETER,
                _ => 0.0,
            }
            + BONUS_SPECIFICITY * cover.as_ref().map_or(0.0, Cover::specificity)
            + self.view.freshness.edge(provider);
        Candidate {
            index,
            distance_km,
            cover,
            tier,
            bonus,
            effective_km: distance_km.map_or(f64::INFINITY, |d| d * (-bonus).exp()),
            language,
            relaxed,
            national_line: false,
        }
    }

    /// The most specific part of provider `index`'s area covering `point`.
    /// `trusted` are the region keys the gazetteer placed the caller in.
    fn cover(
        &self,
        index: u32,
        point: LatLng,
        trusted: &[RegionKey],
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
                    let key = region.region_key();
                    let trusted = key.is_some_and(|k| trusted.contains(k));
                    (single || trusted || region.covers(point)).then_some(match key {
                        Some(key) => Cover::Region(key),
                        None => Cover::Polygon,
                    })
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
        let cover = candidate.cover.as_ref();
        reasons.push(match (candidate.tier, cover) {
            (Tier::Local, Some(cover)) => {
                self.describe_cover("in person: ", cover, place, "").into()
            }
            (Tier::Helpline, Some(cover)) if candidate.national_line => self
                .describe_cover("the national line for this need: ", cover, place, "")
                .into(),
            (Tier::Helpline, Some(cover)) => self
                .describe_cover("by phone or online: ", cover, place, "")
                .into(),
            (Tier::Remote, Some(cover)) => self
                .describe_cover("", cover, place, ", from an office beyond in-person reach")
                .into(),
            (Tier::Farther, _) => {
                "farther away: beyond in-person reach, and does not list the caller's area".into()
            }
            _ => "in person near the caller, but does not list the caller's area as served".into(),
        });
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
        let asked = || {
            needs
                .languages
                .iter()
                .map(|c| self.language_name(c))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        match candidate.language {
            LanguageFit::Speaks => {
                for code in needs.languages {
                    if provider.languages.iter().any(|l| l == code) {
                        reasons.push(format!("speaks {}", self.language_name(code)).into());
                    }
                }
            }
            LanguageFit::Interpreter => {
                reasons.push(format!("{} through its interpreting service", asked()).into());
            }
            LanguageFit::Unknown => {
                reasons.push(format!("languages not listed: ask about {}", asked()).into());
            }
            LanguageFit::NotAsked | LanguageFit::DoesNot => {}
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
        if needs.need.excludes_law_enforcement() {
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
        let staff = self.view.role.sees_confidential();
        let warm_transfer = staff
            .then(|| WarmTransfer::of(provider, needs.country, candidate.language, &needs.window));
        let capacity = if staff {
            needs.window.shown(provider).and_then(|(entry, stale)| {
                let position = provider
                    .capacity
                    .iter()
                    .position(|e| std::ptr::eq(e, entry))?;
                Some(CapacityShown {
                    position: u16::try_from(position).ok()?,
                    stale,
                })
            })
        } else {
            None
        };
        if let Some(check) = &warm_transfer {
            if check.ready && (needs.warm_transfer || needs.accepting) {
                reasons.push("can take a warm transfer now".into());
            }
            match check.accepting {
                Accepting::Yes => {
                    // The figure shown is then the freshest with room.
                    if let Some(entry) =
                        capacity.and_then(|c| provider.capacity.get(usize::from(c.position)))
                    {
                        reasons.push(
                            format!("accepting: {} {} free", entry.available, entry.unit).into(),
                        );
                    }
                }
                Accepting::No => reasons.push("no capacity now".into()),
                Accepting::Unknown if needs.accepting || needs.warm_transfer => {
                    reasons.push(if provider.capacity.is_empty() {
                        "capacity unknown".into()
                    } else {
                        "capacity unknown: the last figure is stale".into()
                    });
                }
                Accepting::Unknown => {}
            }
        }
        let relaxed = candidate.relaxed.to_vec();
        for relaxed in &relaxed {
            reasons.push(format!("does not meet {} (relaxed)", relaxed.parameter()).into());
        }
        Match {
            index: candidate.index,
            rank,
            score: (candidate.bonus * 10_000.0).round() / 10_000.0,
            tier: candidate.tier,
            distance_km: candidate.distance_km.map(|d| (d * 1000.0).round() / 1000.0),
            serves_location: candidate.cover.is_some(),
            reasons,
            relaxed,
            language: candidate.language,
            national_line: candidate.national_line,
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
            warm_transfer,
            capacity,
        }
    }

    /// "{prefix}serves …{suffix}": how `cover` serves the caller, in one
    /// allocation.
    fn describe_cover(
        &self,
        prefix: &str,
        cover: &Cover<'_>,
        place: &ResolvedPlace,
        suffix: &str,
    ) -> String {
        use std::fmt::Write as _;
        let mut out = String::with_capacity(prefix.len() + suffix.len() + 48);
        out.push_str(prefix);
        // Writing to a String cannot fail.
        let _ = match cover {
            Cover::Radius(km) => write!(out, "serves within {km} km of its office"),
            Cover::Worldwide => write!(out, "serves callers worldwide"),
            Cover::Nationwide(code) => {
                let name = self.country_name(code);
                match place.country.as_deref() {
                    Some(c) if c != *code => {
                        write!(
                            out,
                            "serves all of {name}, including {}",
                            self.country_name(c)
                        )
                    }
                    _ => write!(out, "serves all of {name}"),
                }
            }
            Cover::Region(RegionKey::County(fips)) => match self.gazetteer.county(fips) {
                Some(county) => write!(out, "serves {}, {}", county.full_name, county.state),
                None => write!(out, "serves county {fips}"),
            },
            Cover::Region(RegionKey::State(code)) => write!(
                out,
                "serves {}",
                self.gazetteer
                    .state(code)
                    .map_or(code.as_str(), |s| s.name.as_str())
            ),
            Cover::Region(RegionKey::Country(code)) => {
                write!(out, "serves {}", self.country_name(code))
            }
            Cover::Polygon => write!(out, "serves the caller's area"),
        };
        out.push_str(suffix);
        out
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

/// The best `k` candidates by effective distance, offered in
/// non-decreasing distance, sorted.
struct TopK<'d> {
    k: usize,
    best: Vec<Candidate<'d>>,
    /// `e^-MAX_BONUS`, a hair smaller against rounding in a bonus's sum.
    shrink: f64,
}

impl<'d> TopK<'d> {
    fn new(k: usize) -> Self {
        TopK {
            k,
            best: Vec::with_capacity(k.min(64) + 1),
            shrink: (-(MAX_BONUS + 1e-9)).exp(),
        }
    }

    /// Whether a candidate `km` away could still enter: even the largest
    /// bonus could bring it level with the k-th best (with a hair of room
    /// for rounding). Every candidate offered later is at least as far.
    fn could_enter(&self, km: f64) -> bool {
        self.best.len() < self.k
            || self
                .best
                .last()
                .is_none_or(|worst| km * self.shrink <= worst.effective_km * (1.0 + 1e-9) + 1e-12)
    }

    fn offer(
        &mut self,
        candidate: Candidate<'d>,
        order: impl Fn(&Candidate<'_>, &Candidate<'_>) -> Ordering,
    ) {
        let at = self.best.partition_point(|c| order(c, &candidate).is_lt());
        if at < self.k {
            self.best.insert(at, candidate);
            self.best.truncate(self.k);
        }
    }
}

/// Keeps the `k` first of `items` by `order`, sorted.
fn keep_best<T>(items: &mut Vec<T>, k: usize, order: impl Fn(&T, &T) -> Ordering) {
    if k == 0 {
        items.clear();
        return;
    }
    if items.len() > k {
        items.select_nth_unstable_by(k - 1, &order);
        items.truncate(k);
    }
    items.sort_by(order);
}

/// Deals at most `need` results from the in-person and remote queues: the
/// positions in [`REMOTE_SLOTS`] from the remote queue, the others from
/// the in-person one, a queue that has run out giving its turn to the
/// other, and `farther` only after both.
fn deal<T>(in_person: Vec<T>, remote: Vec<T>, farther: Vec<T>, need: usize) -> Vec<T> {
    let (mut in_person, mut remote, mut farther) = (
        in_person.into_iter(),
        remote.into_iter(),
        farther.into_iter(),
    );
    let mut dealt = Vec::with_capacity(need.min(in_person.len() + remote.len() + farther.len()));
    while dealt.len() < need {
        let position = dealt.len() + 1;
        let next = if REMOTE_SLOTS.contains(&position) {
            remote.next().or_else(|| in_person.next())
        } else {
            in_person.next().or_else(|| remote.next())
        };
        match next.or_else(|| farther.next()) {
            Some(item) => dealt.push(item),
            None => break,
        }
    }
    dealt
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
