//! Deterministic synthetic directories for the sample data and benchmarks.
//!
//! The hotline's real directory is confidential, so the product ships a
//! realistic synthetic one instead. [`generate`] (or the streaming
//! [`Generator`]) places providers at real gazetteer places, chosen by
//! population, and gives them a plausible mix of kinds, issues, populations,
//! languages, hours and service-area shapes. Everything that could be
//! mistaken for a real contact is plainly fictional:
//!
//! - names are generic ("Fresno Survivor Support Center", "Fresno County
//!   Anti-Trafficking Task Force", "Riley Example, LCSW");
//! - US phone numbers are in the 555-0100…555-0199 range reserved for
//!   fiction ("(559) 555-0142"); foreign numbers are valid dial strings
//!   for their country (its calling code and the length of its numbers,
//!   from `data/dial/dial_plan.csv`) made of the same fictional-looking
//!   digits: "+51 55 501 042" in Peru, "+1 (506) 555-0142" in Canada;
//! - e-mail and web addresses are on `example.org`;
//! - streets are "100 Example St" and the like;
//! - every record has `source: "synthetic"`.
//!
//! The same `count` and `seed` always give the same directory, on every
//! platform: the generator uses its own SplitMix64 stream, seeded per row.
//!
//! Coverage is guaranteed before population weighting: rows spread evenly
//! through the directory are reserved for each of the 50 states, DC and the
//! five inhabited territories, and for 70 other countries (Canada and Mexico
//! among them), so any `count` of at least [`Generator::coverage_slots`]
//! reaches all of them. The other rows are drawn by population: about 91%
//! in the US and its territories, the rest abroad (countries weighted by the
//! square root of their population, so a few giants do not take every row).

use crate::gazetteer::{is_us_or_territory, normalize, County, Gazetteer, Place, Zip};
use crate::model::{
    Address, AreaSpec, Availability, Kind, LatLng, OpenInterval, Phone, PhoneKind, Precision,
    Provider, Visibility,
};
use compact_str::CompactString;
use jiff::civil::Date;
use rustc_hash::FxHashMap;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};

/// The `source` of every synthetic record.
pub const SOURCE: &str = "synthetic";

/// How many foreign countries get a reserved coverage row.
const FOREIGN_COVERAGE: usize = 70;

/// Countries that always get a coverage row (common origin, transit and
/// destination countries in referrals), before the most populous others.
const PRIORITY_COUNTRIES: &[&str] = &[
    "CA", "MX", "GT", "HN", "SV", "NI", "CR", "PA", "CO", "VE", "PE", "EC", "BR", "AR", "CL", "DO",
    "HT", "JM", "CU", "PH", "TH", "VN", "KH", "NP", "IN", "CN", "KR", "JP", "ID", "NG", "GH", "KE",
    "ET", "UA", "MD", "RO", "AL", "RU", "PL", "DE", "GB", "FR", "ES", "IT", "NL", "TR", "AU",
];

/// Countries never drawn: a referral there is not realistic.
const EXCLUDED_COUNTRIES: &[&str] = &["KP"];

/// Chance that a row not reserved for coverage is placed abroad.
const FOREIGN_SHARE: f64 = 0.09;

/// Greatest distance a `point` location is moved from its place, in km.
const JITTER_KM: f64 = 3.0;

/// First and last `verified_at` date (inclusive).
const VERIFIED_FROM: Date = jiff::civil::date(2023, 6, 1);
const VERIFIED_TO: Date = jiff::civil::date(2026, 10, 31);

/// Makes a synthetic directory of `count` providers from `seed`.
///
/// Deterministic: the same gazetteer, `count` and `seed` give identical
/// output. For very large directories prefer [`Generator`], which yields
/// one provider at a time instead of holding them all.
///
/// ```no_run
/// # let gazetteer = refmatch::gazetteer::Gazetteer::bundled().unwrap();
/// let directory = refmatch::synthetic::generate(&gazetteer, 3200, 42);
/// assert_eq!(directory.len(), 3200);
/// assert_eq!(directory[0].id, "syn-000001");
/// ```
pub fn generate(gazetteer: &Gazetteer, count: usize, seed: u64) -> Vec<Provider> {
    Generator::new(gazetteer, count, seed).collect()
}

/// A small, fast, well-mixed PRNG (Steele, Lea and Flood's SplitMix64).
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0), by multiply-high.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform index into a slice of length `n`.
    fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// True with probability `per_mille / 1000`.
    fn per_mille(&mut self, per_mille: u32) -> bool {
        self.below(1000) < u64::from(per_mille)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.index(items.len()))
    }
}

/// Items drawn with probability proportional to a weight.
#[derive(Debug, Clone, Default)]
struct Weighted {
    /// Running totals, inclusive.
    cumulative: Vec<u64>,
    items: Vec<u32>,
}

impl Weighted {
    fn push(&mut self, item: u32, weight: u64) {
        if weight == 0 {
            return;
        }
        let total = self.total() + weight;
        self.cumulative.push(total);
        self.items.push(item);
    }

    fn total(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    fn draw(&self, rng: &mut SplitMix64) -> Option<u32> {
        let target = rng.below(self.total());
        let at = self.cumulative.partition_point(|&c| c <= target);
        self.items.get(at).copied()
    }
}

/// A US state or territory, or a foreign country: its places by population.
#[derive(Debug)]
struct Region<'g> {
    /// USPS code for US regions, ISO alpha-2 for countries.
    code: &'g str,
    /// State or country name as used in provider names.
    name: String,
    places: Weighted,
    /// Languages spoken there (ISO 639-1), most used first; for the 50
    /// states and DC, English only (Spanish and others are drawn).
    languages: &'static [&'static str],
    /// True for a US territory (its languages are all local).
    territory: bool,
    /// Chance that a contact also speaks Spanish (US states).
    spanish: f64,
    /// Area codes for fictional local numbers (US regions).
    area_codes: &'static [u16],
}

/// How a provider's name is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entity {
    /// "<Place> <suffix>".
    Place,
    /// "<County full name> <suffix>" (falls back to the place).
    County,
    /// "<State name> <suffix>".
    State,
    /// "<Country> <suffix>".
    Country,
    /// "<First> <Last>, <suffix>".
    Person,
}

/// Where an archetype may be placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    Any,
    Us,
    Foreign,
}

/// How far an archetype's service area usually reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// A radius, the county, a few counties or ZIPs.
    Local,
    /// The county or a few counties.
    County,
    /// The state or territory (abroad: the country).
    State,
    /// The whole country.
    National,
}

/// A kind of contact, with what it deals with and how it is named.
#[derive(Debug)]
struct Archetype {
    kind: Kind,
    /// Relative weight among archetypes of the same kind.
    weight: u64,
    reach: Reach,
    entity: Entity,
    /// Name after the entity.
    suffix: &'static str,
    /// Parent organisation's name after the entity.
    organization: Option<&'static str>,
    scope: Scope,
    issues: &'static [&'static str],
    /// Each added with probability 1/4.
    extra_issues: &'static [&'static str],
    /// The first two always, the others with probability 2/5.
    services: &'static [&'static str],
    populations: &'static [&'static str],
    /// Each added with probability 3/10.
    extra_populations: &'static [&'static str],
    /// Per mille chance of 24-hour capacity.
    open_24h: u32,
    /// Per mille chance of being public.
    public: u32,
    /// A shelter: no street address.
    hide_street: bool,
}

/// Share of each kind, per mille.
const KIND_WEIGHTS: [(Kind, u64); 8] = [
    (Kind::ServiceProvider, 560),
    (Kind::LawEnforcement, 140),
    (Kind::Government, 90),
    (Kind::TaskForce, 60),
    (Kind::Coalition, 45),
    (Kind::Individual, 45),
    (Kind::CollaborativeInitiative, 40),
    (Kind::Hotline, 20),
];

const TRAFFICKING: &[&str] = &["sex_trafficking", "labor_trafficking"];

const ARCHETYPES: &[Archetype] = &[
    // --- service providers ---
    Archetype {
        kind: Kind::ServiceProvider,
        weight: 30,
        reach: Reach::Any,
        entity: Entity::Place,
        suffix: "Survivor Support Center",
        organization: None,
        scope: Scope::Local,
        issues: TRAFFICKING,
        extra_issues: &["domestic_violence", "sexual_assault", "immigration"],
        services: &[
            "case management",
            "crisis counseling",
            "safety planning",
            "referrals",
            "emergency housing",
        ],
        populations: &["adults"],
        extra_populations: &["minors", "foreign_nationals", "women", "lgbtq"],
        open_24h: 200,
        public: 120,
        hide_street: false,
    },
    Archetype {
        kind: Kind::ServiceProvider,
        weight: 14,
        reach: Reach::Any,
        entity: Entity::Place,
        suffix: "Safe Harbor Shelter",
        organization: None,
        scope: Scope::Local,
        issues: &["sex_trafficking", "domestic_violence"],
        extra_issues: &["labor_trafficking", "sexual_assault"],
        services: &[
            "shelter",
            "emergency housing",
            "case management",
            "transportation",
        ],
        populations: &["women", "adults"],
        extra_populations: &["minors", "lgbtq"],
        open_24h: 650,
        public: 30,
        hide_street: true,
    },
    Archetype {
        kind: Kind::ServiceProvider,
        weight: 10,
        reach: Reach::Us,
        entity: Entity::Place,
        suffix: "Family Justice Center",
        organization: None,
        scope: Scope::County,
        issues: &["domestic_violence", "sexual_assault", "sex_trafficking"],
        extra_issues: &["child_abuse", "teen_dating_abuse"],
        services: &[
            "legal advocacy",
            "protective orders",
            "counseling",
            "medical advocacy",
        ],
        populations: &["adults"],
        extra_populations: &["minors", "women", "hispanic"],
        open_24h: 50,
        public: 200,
        hide_street: false,
    },
    Archetype {
        kind: Kind::ServiceProvider,
        weight: 10,
        reach: Reach::Us,
        entity: Entity::Place,
        suffix: "Immigrant Legal Services",
        organization: None,
        scope: Scope::Local,
        issues: &["immigration", "labor_trafficking"],
        extra_issues: &[
            "sex_trafficking",
            "refugee_resettlement",
            "domestic_violence",
        ],
        services: &[
            "immigration legal services",
            "T visa applications",
            "U visa applications",
            "know-your-rights workshops",
        ],
        populations: &["foreign_nationals", "adults"],
        extra_populations: &["hispanic", "workers"],
        open_24h: 0,
        public: 160,
        hide_street: false,
    },
    Archetype {
        kind: Kind::ServiceProvider,
        weight: 10,
        reach: Reach::Any,
        entity: Entity::Place,
        suffix: "Youth Outreach Project",
        organization: None,
        scope: Scope::Local,
        issues: &["runaway_homeless_youth", "sex_trafficking"],
        extra_issues: &[
            "lgbtq_support",
            "suicide_prevention",
            "teen_dating_abuse",
            "missing_children",
        ],
        services: &[
            "street outreach",
            "drop-in center",
            "youth shelter",
            "case management",
        ],
        populations: &["youth_13_18", "minors"],
        extra_populations: &["lgbtq"],
        open_24h: 300,
        public: 120,
        hide_street: false,
    },
    Archetype {
        kind: Kind::ServiceProvider,
        weight: 8,
        reach: Reach::Any,
        entity: Entity::Place,
        suffix: "Workers' Rights Center",
        organization: None,
        scope: Scope::Local,
        issues: &["labor_trafficking", "wage_and_hour"],
        extra_issues: &["workplace_discrimination", "immigration"],
        services: &[
            "wage claims",
            "labor rights education",
            "legal referrals",
            "interpretation",
        ],
        populations: &["workers", "adults"],
        extra_populations: &["foreign_nationals", "hispanic"],
        open_24h: 0,
        public: 200,
        hide_street: false,
    },
    Archetype {
        kind: Kind::ServiceProvider,
        weight: 6,
        reach: Reach::Us,
        entity: Entity::Place,
        suffix: "Refugee Welcome Services",
        organization: None,
        scope: Scope::Local,
        issues: &["refugee_resettlement", "immigration"],
        extra_issues: &["labor_trafficking", "sex_trafficking"],
        services: &[
            "resettlement case management",
            "English classes",
            "job placement",
            "interpretation",
        ],
        populations: &["foreign_nationals", "adults"],
        extra_populations: &["minors", "women"],
        open_24h: 0,
        public: 160,
        hide_street: false,
    },
    Archetype {
        kind: Kind::ServiceProvider,
        weight: 8,
        reach: Reach::Any,
        entity: Entity::Place,
        suffix: "Rape Crisis Center",
        organization: None,
        scope: Scope::County,
        issues: &["sexual_assault", "sex_trafficking"],
        extra_issues: &["teen_dating_abuse", "domestic_violence", "child_abuse"],
        services: &[
            "crisis counseling",
            "hospital accompaniment",
            "support groups",
        ],
        populations: &["adults"],
        extra_populations: &["minors", "women", "men", "lgbtq"],
        open_24h: 600,
        public: 120,
        hide_street: true,
    },
    Archetype {
        kind: Kind::ServiceProvider,
        weight: 4,
        reach: Reach::Any,
        entity: Entity::Place,
        suffix: "LGBTQ Community Center",
        organization: None,
        scope: Scope::Local,
        issues: &["lgbtq_support"],
        extra_issues: &[
            "sex_trafficking",
            "suicide_prevention",
            "runaway_homeless_youth",
            "domestic_violence",
        ],
        services: &["peer support", "drop-in center", "counseling", "referrals"],
        populations: &["lgbtq"],
        extra_populations: &["youth_13_18", "adults"],
        open_24h: 0,
        public: 250,
        hide_street: false,
    },
    Archetype {
        kind: Kind::ServiceProvider,
        weight: 6,
        reach: Reach::Us,
        entity: Entity::County,
        suffix: "Child Advocacy Center",
        organization: None,
        scope: Scope::County,
        issues: &["child_abuse", "sex_trafficking"],
        extra_issues: &["missing_children", "sexual_assault"],
        services: &[
            "forensic interviews",
            "medical exams",
            "family advocacy",
            "therapy",
        ],
        populations: &["minors"],
        extra_populations: &["youth_13_18"],
        open_24h: 100,
        public: 100,
        hide_street: false,
    },
    Archetype {
        kind: Kind::ServiceProvider,
        weight: 14,
        reach: Reach::Foreign,
        entity: Entity::Place,
        suffix: "Shelter and Reintegration Program",
        organization: None,
        scope: Scope::Local,
        issues: TRAFFICKING,
        extra_issues: &[
            "domestic_violence",
            "refugee_resettlement",
            "missing_children",
        ],
        services: &[
            "shelter",
            "repatriation assistance",
            "reintegration",
            "vocational training",
        ],
        populations: &["women", "adults"],
        extra_populations: &["minors", "foreign_nationals"],
        open_24h: 400,
        public: 100,
        hide_street: true,
    },
    // --- law enforcement ---
    Archetype {
        kind: Kind::LawEnforcement,
        weight: 40,
        reach: Reach::Us,
        entity: Entity::Place,
        suffix: "Police Department Human Trafficking Unit",
        organization: Some("Police Department"),
        scope: Scope::Local,
        issues: &["sex_trafficking", "labor_trafficking", "emergency"],
        extra_issues: &["missing_children", "child_abuse"],
        services: &[
            "investigations",
            "emergency response",
            "victim-witness coordination",
        ],
        populations: &["adults", "minors"],
        extra_populations: &["foreign_nationals"],
        open_24h: 500,
        public: 120,
        hide_street: false,
    },
    Archetype {
        kind: Kind::LawEnforcement,
        weight: 25,
        reach: Reach::Us,
        entity: Entity::County,
        suffix: "Sheriff's Office Special Victims Unit",
        organization: Some("Sheriff's Office"),
        scope: Scope::County,
        issues: &["sex_trafficking", "child_abuse"],
        extra_issues: &[
            "labor_trafficking",
            "sexual_assault",
            "domestic_violence",
            "missing_children",
        ],
        services: &["investigations", "emergency response", "victim advocacy"],
        populations: &["adults", "minors"],
        extra_populations: &[],
        open_24h: 500,
        public: 120,
        hide_street: false,
    },
    Archetype {
        kind: Kind::LawEnforcement,
        weight: 15,
        reach: Reach::Us,
        entity: Entity::County,
        suffix: "District Attorney Victim-Witness Program",
        organization: Some("District Attorney's Office"),
        scope: Scope::County,
        issues: &["sex_trafficking", "labor_trafficking", "domestic_violence"],
        extra_issues: &["sexual_assault", "child_abuse"],
        services: &[
            "victim-witness advocacy",
            "court accompaniment",
            "prosecution",
        ],
        populations: &["adults"],
        extra_populations: &["minors", "foreign_nationals"],
        open_24h: 0,
        public: 160,
        hide_street: false,
    },
    Archetype {
        kind: Kind::LawEnforcement,
        weight: 8,
        reach: Reach::Us,
        entity: Entity::State,
        suffix: "State Police Human Trafficking Bureau",
        organization: Some("State Police"),
        scope: Scope::State,
        issues: &["sex_trafficking", "labor_trafficking", "emergency"],
        extra_issues: &["missing_children"],
        services: &["investigations", "training", "emergency response"],
        populations: &["adults", "minors"],
        extra_populations: &[],
        open_24h: 600,
        public: 160,
        hide_street: false,
    },
    Archetype {
        kind: Kind::LawEnforcement,
        weight: 30,
        reach: Reach::Foreign,
        entity: Entity::Place,
        suffix: "Police Anti-Trafficking Unit",
        organization: Some("Police"),
        scope: Scope::Local,
        issues: &["sex_trafficking", "labor_trafficking", "emergency"],
        extra_issues: &["missing_children"],
        services: &["investigations", "emergency response", "victim referrals"],
        populations: &["adults", "minors"],
        extra_populations: &["foreign_nationals"],
        open_24h: 500,
        public: 120,
        hide_street: false,
    },
    Archetype {
        kind: Kind::LawEnforcement,
        weight: 8,
        reach: Reach::Foreign,
        entity: Entity::Country,
        suffix: "National Police Anti-Trafficking Directorate",
        organization: Some("National Police"),
        scope: Scope::National,
        issues: &["sex_trafficking", "labor_trafficking"],
        extra_issues: &["missing_children", "emergency"],
        services: &["investigations", "international cooperation"],
        populations: &["adults", "minors"],
        extra_populations: &["foreign_nationals"],
        open_24h: 600,
        public: 250,
        hide_street: false,
    },
    // --- government ---
    Archetype {
        kind: Kind::Government,
        weight: 20,
        reach: Reach::Us,
        entity: Entity::State,
        suffix: "Office of Survivor Services",
        organization: None,
        scope: Scope::State,
        issues: TRAFFICKING,
        extra_issues: &["domestic_violence", "sexual_assault"],
        services: &["victim compensation", "referrals", "grant funding"],
        populations: &["adults"],
        extra_populations: &["minors", "foreign_nationals"],
        open_24h: 0,
        public: 420,
        hide_street: false,
    },
    Archetype {
        kind: Kind::Government,
        weight: 20,
        reach: Reach::Us,
        entity: Entity::County,
        suffix: "Human Services Victim Assistance",
        organization: Some("Human Services Agency"),
        scope: Scope::County,
        issues: &["sex_trafficking", "domestic_violence", "child_abuse"],
        extra_issues: &["runaway_homeless_youth", "labor_trafficking"],
        services: &[
            "benefits enrollment",
            "emergency assistance",
            "case management",
        ],
        populations: &["adults"],
        extra_populations: &["minors", "hispanic"],
        open_24h: 0,
        public: 370,
        hide_street: false,
    },
    Archetype {
        kind: Kind::Government,
        weight: 10,
        reach: Reach::Us,
        entity: Entity::State,
        suffix: "Labor Standards Office",
        organization: None,
        scope: Scope::State,
        issues: &["wage_and_hour", "labor_trafficking"],
        extra_issues: &["workplace_discrimination"],
        services: &["wage claims", "workplace inspections"],
        populations: &["workers"],
        extra_populations: &["foreign_nationals", "hispanic"],
        open_24h: 0,
        public: 500,
        hide_street: false,
    },
    Archetype {
        kind: Kind::Government,
        weight: 8,
        reach: Reach::Us,
        entity: Entity::Place,
        suffix: "City Office on Human Trafficking",
        organization: None,
        scope: Scope::Local,
        issues: TRAFFICKING,
        extra_issues: &["runaway_homeless_youth"],
        services: &["referrals", "training", "community education"],
        populations: &["adults"],
        extra_populations: &["minors"],
        open_24h: 0,
        public: 420,
        hide_street: false,
    },
    Archetype {
        kind: Kind::Government,
        weight: 6,
        reach: Reach::Us,
        entity: Entity::Country,
        suffix: "National Survivor Resource Office",
        organization: None,
        scope: Scope::National,
        issues: TRAFFICKING,
        extra_issues: &["immigration", "refugee_resettlement"],
        services: &["referrals", "victim certification", "grant funding"],
        populations: &["adults", "foreign_nationals"],
        extra_populations: &["minors"],
        open_24h: 0,
        public: 580,
        hide_street: false,
    },
    Archetype {
        kind: Kind::Government,
        weight: 15,
        reach: Reach::Foreign,
        entity: Entity::Country,
        suffix: "National Referral Mechanism Office",
        organization: None,
        scope: Scope::National,
        issues: TRAFFICKING,
        extra_issues: &["refugee_resettlement", "immigration"],
        services: &[
            "victim identification",
            "referrals",
            "repatriation assistance",
        ],
        populations: &["adults", "foreign_nationals"],
        extra_populations: &["minors"],
        open_24h: 0,
        public: 500,
        hide_street: false,
    },
    Archetype {
        kind: Kind::Government,
        weight: 10,
        reach: Reach::Foreign,
        entity: Entity::Place,
        suffix: "Municipal Social Services Office",
        organization: None,
        scope: Scope::Local,
        issues: &["sex_trafficking", "domestic_violence", "child_abuse"],
        extra_issues: &["labor_trafficking", "runaway_homeless_youth"],
        services: &["case management", "emergency assistance", "referrals"],
        populations: &["adults"],
        extra_populations: &["minors", "women"],
        open_24h: 0,
        public: 370,
        hide_street: false,
    },
    // --- task forces ---
    Archetype {
        kind: Kind::TaskForce,
        weight: 40,
        reach: Reach::Us,
        entity: Entity::County,
        suffix: "Anti-Trafficking Task Force",
        organization: None,
        scope: Scope::County,
        issues: TRAFFICKING,
        extra_issues: &["missing_children"],
        services: &[
            "multi-agency coordination",
            "investigations",
            "victim services referrals",
            "training",
        ],
        populations: &["adults", "minors"],
        extra_populations: &["foreign_nationals"],
        open_24h: 50,
        public: 370,
        hide_street: false,
    },
    Archetype {
        kind: Kind::TaskForce,
        weight: 15,
        reach: Reach::Us,
        entity: Entity::State,
        suffix: "Human Trafficking Task Force",
        organization: None,
        scope: Scope::State,
        issues: TRAFFICKING,
        extra_issues: &["missing_children"],
        services: &["multi-agency coordination", "training", "policy advocacy"],
        populations: &["adults", "minors"],
        extra_populations: &[],
        open_24h: 0,
        public: 420,
        hide_street: false,
    },
    Archetype {
        kind: Kind::TaskForce,
        weight: 15,
        reach: Reach::Any,
        entity: Entity::Place,
        suffix: "Regional Anti-Trafficking Task Force",
        organization: None,
        scope: Scope::Local,
        issues: TRAFFICKING,
        extra_issues: &["missing_children", "immigration"],
        services: &[
            "multi-agency coordination",
            "investigations",
            "victim services referrals",
        ],
        populations: &["adults"],
        extra_populations: &["minors", "foreign_nationals"],
        open_24h: 50,
        public: 370,
        hide_street: false,
    },
    // --- coalitions ---
    Archetype {
        kind: Kind::Coalition,
        weight: 25,
        reach: Reach::Us,
        entity: Entity::State,
        suffix: "Coalition Against Trafficking",
        organization: None,
        scope: Scope::State,
        issues: TRAFFICKING,
        extra_issues: &["domestic_violence", "runaway_homeless_youth"],
        services: &["training", "policy advocacy", "referrals"],
        populations: &["adults"],
        extra_populations: &["minors", "foreign_nationals"],
        open_24h: 0,
        public: 500,
        hide_street: false,
    },
    Archetype {
        kind: Kind::Coalition,
        weight: 12,
        reach: Reach::Us,
        entity: Entity::State,
        suffix: "Coalition Against Domestic and Sexual Violence",
        organization: None,
        scope: Scope::State,
        issues: &["domestic_violence", "sexual_assault"],
        extra_issues: &["sex_trafficking", "teen_dating_abuse"],
        services: &["training", "policy advocacy", "member program referrals"],
        populations: &["adults"],
        extra_populations: &["women", "lgbtq"],
        open_24h: 0,
        public: 500,
        hide_street: false,
    },
    Archetype {
        kind: Kind::Coalition,
        weight: 15,
        reach: Reach::Any,
        entity: Entity::Place,
        suffix: "Area Coalition Against Trafficking",
        organization: None,
        scope: Scope::Local,
        issues: TRAFFICKING,
        extra_issues: &["domestic_violence", "immigration"],
        services: &["community education", "training", "referrals"],
        populations: &["adults"],
        extra_populations: &["minors"],
        open_24h: 0,
        public: 450,
        hide_street: false,
    },
    Archetype {
        kind: Kind::Coalition,
        weight: 15,
        reach: Reach::Foreign,
        entity: Entity::Country,
        suffix: "Anti-Trafficking Network",
        organization: None,
        scope: Scope::National,
        issues: TRAFFICKING,
        extra_issues: &["refugee_resettlement", "missing_children"],
        services: &["referrals", "repatriation assistance", "advocacy"],
        populations: &["adults", "foreign_nationals"],
        extra_populations: &["minors", "women"],
        open_24h: 0,
        public: 500,
        hide_street: false,
    },
    Archetype {
        kind: Kind::Coalition,
        weight: 4,
        reach: Reach::Us,
        entity: Entity::Country,
        suffix: "Coalition for Survivor Leadership",
        organization: None,
        scope: Scope::National,
        issues: TRAFFICKING,
        extra_issues: &["sexual_assault"],
        services: &["peer support", "policy advocacy", "training"],
        populations: &["adults"],
        extra_populations: &["lgbtq"],
        open_24h: 0,
        public: 580,
        hide_street: false,
    },
    // --- individuals ---
    Archetype {
        kind: Kind::Individual,
        weight: 10,
        reach: Reach::Any,
        entity: Entity::Person,
        suffix: "LCSW",
        organization: None,
        scope: Scope::Local,
        issues: &["sex_trafficking", "sexual_assault"],
        extra_issues: &["domestic_violence", "suicide_prevention"],
        services: &["trauma therapy", "counseling"],
        populations: &["adults"],
        extra_populations: &["youth_13_18", "lgbtq"],
        open_24h: 0,
        public: 50,
        hide_street: false,
    },
    Archetype {
        kind: Kind::Individual,
        weight: 8,
        reach: Reach::Any,
        entity: Entity::Person,
        suffix: "Esq.",
        organization: None,
        scope: Scope::Local,
        issues: &["immigration", "labor_trafficking"],
        extra_issues: &["sex_trafficking", "domestic_violence"],
        services: &["T visa applications", "removal defense"],
        populations: &["foreign_nationals", "adults"],
        extra_populations: &["hispanic", "workers"],
        open_24h: 0,
        public: 50,
        hide_street: false,
    },
    Archetype {
        kind: Kind::Individual,
        weight: 4,
        reach: Reach::Any,
        entity: Entity::Person,
        suffix: "RN, Forensic Nurse Examiner",
        organization: None,
        scope: Scope::Local,
        issues: &["sexual_assault", "sex_trafficking"],
        extra_issues: &["child_abuse"],
        services: &["forensic exams", "medical advocacy"],
        populations: &["adults"],
        extra_populations: &["minors", "women"],
        open_24h: 0,
        public: 50,
        hide_street: false,
    },
    Archetype {
        kind: Kind::Individual,
        weight: 4,
        reach: Reach::Any,
        entity: Entity::Person,
        suffix: "Survivor Peer Mentor",
        organization: None,
        scope: Scope::Local,
        issues: TRAFFICKING,
        extra_issues: &["domestic_violence"],
        services: &["peer support", "mentoring"],
        populations: &["adults"],
        extra_populations: &["women", "youth_13_18"],
        open_24h: 0,
        public: 50,
        hide_street: false,
    },
    // --- collaborative initiatives ---
    Archetype {
        kind: Kind::CollaborativeInitiative,
        weight: 10,
        reach: Reach::Any,
        entity: Entity::Place,
        suffix: "Survivor Collaborative",
        organization: None,
        scope: Scope::County,
        issues: TRAFFICKING,
        extra_issues: &["domestic_violence", "sexual_assault"],
        services: &["care coordination", "referrals", "training"],
        populations: &["adults"],
        extra_populations: &["minors", "foreign_nationals"],
        open_24h: 0,
        public: 330,
        hide_street: false,
    },
    Archetype {
        kind: Kind::CollaborativeInitiative,
        weight: 8,
        reach: Reach::Us,
        entity: Entity::County,
        suffix: "Youth Safety Initiative",
        organization: None,
        scope: Scope::County,
        issues: &[
            "runaway_homeless_youth",
            "sex_trafficking",
            "missing_children",
        ],
        extra_issues: &["teen_dating_abuse", "lgbtq_support"],
        services: &["school prevention programs", "street outreach", "referrals"],
        populations: &["youth_13_18", "minors"],
        extra_populations: &["lgbtq"],
        open_24h: 0,
        public: 330,
        hide_street: false,
    },
    Archetype {
        kind: Kind::CollaborativeInitiative,
        weight: 6,
        reach: Reach::Any,
        entity: Entity::Place,
        suffix: "Fair Labor Partnership",
        organization: None,
        scope: Scope::Local,
        issues: &["labor_trafficking", "wage_and_hour"],
        extra_issues: &["workplace_discrimination", "immigration"],
        services: &["worker outreach", "employer training", "referrals"],
        populations: &["workers"],
        extra_populations: &["foreign_nationals", "hispanic"],
        open_24h: 0,
        public: 330,
        hide_street: false,
    },
    Archetype {
        kind: Kind::CollaborativeInitiative,
        weight: 6,
        reach: Reach::Foreign,
        entity: Entity::Place,
        suffix: "Safe Migration Initiative",
        organization: None,
        scope: Scope::Local,
        issues: &["labor_trafficking", "immigration"],
        extra_issues: &["refugee_resettlement", "sex_trafficking"],
        services: &[
            "pre-departure information",
            "recruitment agency checks",
            "referrals",
        ],
        populations: &["workers", "adults"],
        extra_populations: &["women", "foreign_nationals"],
        open_24h: 0,
        public: 330,
        hide_street: false,
    },
    // --- local hotlines ---
    Archetype {
        kind: Kind::Hotline,
        weight: 10,
        reach: Reach::Any,
        entity: Entity::Place,
        suffix: "Local Crisis Line",
        organization: None,
        scope: Scope::County,
        issues: &["sex_trafficking", "domestic_violence", "suicide_prevention"],
        extra_issues: &["sexual_assault", "emergency"],
        services: &["crisis line", "safety planning", "referrals"],
        populations: &["adults"],
        extra_populations: &["youth_13_18", "lgbtq"],
        open_24h: 900,
        public: 700,
        hide_street: true,
    },
    Archetype {
        kind: Kind::Hotline,
        weight: 8,
        reach: Reach::Us,
        entity: Entity::State,
        suffix: "Survivor Helpline",
        organization: None,
        scope: Scope::State,
        issues: TRAFFICKING,
        extra_issues: &["domestic_violence", "sexual_assault"],
        services: &["crisis line", "text line", "referrals"],
        populations: &["adults"],
        extra_populations: &["minors", "foreign_nationals"],
        open_24h: 850,
        public: 700,
        hide_street: true,
    },
    Archetype {
        kind: Kind::Hotline,
        weight: 8,
        reach: Reach::Foreign,
        entity: Entity::Country,
        suffix: "Anti-Trafficking Helpline",
        organization: None,
        scope: Scope::National,
        issues: TRAFFICKING,
        extra_issues: &["missing_children", "emergency"],
        services: &["crisis line", "referrals"],
        populations: &["adults", "foreign_nationals"],
        extra_populations: &["minors"],
        open_24h: 800,
        public: 700,
        hide_street: true,
    },
];

/// Weekly schedules and their weights: (hours, weight, note).
const SCHEDULES: &[(&str, u64, Option<&str>)] = &[
    ("Mo-Fr 09:00-17:00", 34, None),
    ("Mo-Fr 08:30-16:30", 15, None),
    ("Mo-Fr 08:00-17:00", 10, None),
    ("Mo-Fr 08:00-12:00,13:00-17:00", 6, Some("Closed for lunch")),
    ("Mo-Fr 09:00-17:00; Sa 10:00-14:00", 7, None),
    ("Mo-Sa 10:00-18:00", 8, None),
    ("Tu-Sa 09:00-17:00; Su 12:00-16:00", 5, None),
    ("Mo-Th 09:00-19:00; Fr 09:00-15:00", 6, None),
    ("Mo,We,Fr 10:00-16:00", 3, Some("Walk-in days")),
    ("Mo-Su 07:00-23:00", 3, None),
    ("Fr-Sa 20:00-02:00", 3, Some("Night outreach")),
];

/// ISO 639-1 languages by country, most used first.
const COUNTRY_LANGUAGES: &[(&str, &[&str])] = &[
    ("AE", &["ar", "en"]),
    ("AF", &["fa", "ps"]),
    ("AL", &["sq"]),
    ("AM", &["hy"]),
    ("AO", &["pt"]),
    ("AR", &["es"]),
    ("AT", &["de"]),
    ("AU", &["en"]),
    ("AZ", &["az"]),
    ("BA", &["bs"]),
    ("BD", &["bn"]),
    ("BE", &["nl", "fr"]),
    ("BF", &["fr"]),
    ("BG", &["bg"]),
    ("BO", &["es"]),
    ("BR", &["pt"]),
    ("BY", &["ru", "be"]),
    ("CA", &["en", "fr"]),
    ("CD", &["fr", "ln"]),
    ("CH", &["de", "fr", "it"]),
    ("CI", &["fr"]),
    ("CL", &["es"]),
    ("CM", &["fr", "en"]),
    ("CN", &["zh"]),
    ("CO", &["es"]),
    ("CR", &["es"]),
    ("CU", &["es"]),
    ("CZ", &["cs"]),
    ("DE", &["de"]),
    ("DK", &["da"]),
    ("DO", &["es"]),
    ("DZ", &["ar", "fr"]),
    ("EC", &["es"]),
    ("EE", &["et"]),
    ("EG", &["ar"]),
    ("ER", &["ti"]),
    ("ES", &["es"]),
    ("ET", &["am"]),
    ("FI", &["fi"]),
    ("FR", &["fr"]),
    ("GB", &["en"]),
    ("GE", &["ka"]),
    ("GH", &["en"]),
    ("GR", &["el"]),
    ("GT", &["es"]),
    ("HK", &["zh", "en"]),
    ("HN", &["es"]),
    ("HR", &["hr"]),
    ("HT", &["ht", "fr"]),
    ("HU", &["hu"]),
    ("ID", &["id"]),
    ("IE", &["en"]),
    ("IL", &["he", "ar"]),
    ("IN", &["hi", "en"]),
    ("IQ", &["ar"]),
    ("IR", &["fa"]),
    ("IT", &["it"]),
    ("JM", &["en"]),
    ("JO", &["ar"]),
    ("JP", &["ja"]),
    ("KE", &["sw", "en"]),
    ("KH", &["km"]),
    ("KR", &["ko"]),
    ("KZ", &["kk", "ru"]),
    ("LA", &["lo"]),
    ("LB", &["ar", "fr"]),
    ("LK", &["si", "ta"]),
    ("LT", &["lt"]),
    ("LV", &["lv"]),
    ("LY", &["ar"]),
    ("MA", &["ar", "fr"]),
    ("MD", &["ro", "ru"]),
    ("MG", &["mg", "fr"]),
    ("MK", &["mk"]),
    ("ML", &["fr"]),
    ("MM", &["my"]),
    ("MN", &["mn"]),
    ("MX", &["es"]),
    ("MY", &["ms", "en"]),
    ("MZ", &["pt"]),
    ("NE", &["fr"]),
    ("NG", &["en", "ha"]),
    ("NI", &["es"]),
    ("NL", &["nl"]),
    ("NO", &["no"]),
    ("NP", &["ne"]),
    ("NZ", &["en"]),
    ("PA", &["es"]),
    ("PE", &["es"]),
    ("PH", &["tl", "en"]),
    ("PK", &["ur", "en"]),
    ("PL", &["pl"]),
    ("PT", &["pt"]),
    ("PY", &["es"]),
    ("RO", &["ro"]),
    ("RS", &["sr"]),
    ("RU", &["ru"]),
    ("RW", &["rw", "fr"]),
    ("SA", &["ar"]),
    ("SD", &["ar"]),
    ("SE", &["sv"]),
    ("SG", &["en", "zh"]),
    ("SI", &["sl"]),
    ("SK", &["sk"]),
    ("SN", &["fr"]),
    ("SO", &["so"]),
    ("SV", &["es"]),
    ("SY", &["ar"]),
    ("TH", &["th"]),
    ("TN", &["ar", "fr"]),
    ("TR", &["tr"]),
    ("TW", &["zh"]),
    ("TZ", &["sw", "en"]),
    ("UA", &["uk", "ru"]),
    ("UG", &["en", "sw"]),
    ("UY", &["es"]),
    ("UZ", &["uz", "ru"]),
    ("VE", &["es"]),
    ("VN", &["vi"]),
    ("YE", &["ar"]),
    ("ZA", &["en", "zu"]),
    ("ZM", &["en"]),
    ("ZW", &["en", "sn"]),
];

/// Languages of the US territories (English is added for all).
const TERRITORY_LANGUAGES: &[(&str, &[&str])] = &[
    ("PR", &["es", "en"]),
    ("GU", &["en", "ch"]),
    ("MP", &["en", "ch", "tl"]),
    ("AS", &["en", "sm"]),
    ("VI", &["en", "es"]),
];

/// States where most contacts also speak Spanish.
const SPANISH_STATES: &[&str] = &["CA", "TX", "FL", "NM", "AZ", "NV", "NY", "NJ", "IL", "CO"];

/// Other languages US contacts sometimes offer.
const US_EXTRA_LANGUAGES: &[&str] = &[
    "zh", "vi", "tl", "ko", "ar", "ru", "ht", "pt", "fr", "so", "uk", "hi", "fa", "am", "pa",
];

/// Real area codes of each state and territory, to make fictional 555-01xx
/// numbers look local.
const AREA_CODES: &[(&str, &[u16])] = &[
    ("AK", &[907]),
    ("AL", &[205, 251, 334]),
    ("AR", &[501, 479]),
    ("AS", &[684]),
    ("AZ", &[602, 520, 480]),
    ("CA", &[213, 415, 559, 619, 714, 916, 510]),
    ("CO", &[303, 719, 970]),
    ("CT", &[203, 860]),
    ("DC", &[202]),
    ("DE", &[302]),
    ("FL", &[305, 407, 813, 904, 850]),
    ("GA", &[404, 912, 706]),
    ("GU", &[671]),
    ("HI", &[808]),
    ("IA", &[515, 319]),
    ("ID", &[208]),
    ("IL", &[312, 217, 618]),
    ("IN", &[317, 219, 812]),
    ("KS", &[316, 785]),
    ("KY", &[502, 859]),
    ("LA", &[504, 225, 318]),
    ("MA", &[617, 508, 413]),
    ("MD", &[410, 301]),
    ("ME", &[207]),
    ("MI", &[313, 616, 517]),
    ("MN", &[612, 651, 218]),
    ("MO", &[314, 816, 417]),
    ("MP", &[670]),
    ("MS", &[601, 662]),
    ("MT", &[406]),
    ("NC", &[919, 704, 336]),
    ("ND", &[701]),
    ("NE", &[402, 308]),
    ("NH", &[603]),
    ("NJ", &[201, 609, 973]),
    ("NM", &[505, 575]),
    ("NV", &[702, 775]),
    ("NY", &[212, 518, 716, 718]),
    ("OH", &[614, 216, 513]),
    ("OK", &[405, 918]),
    ("OR", &[503, 541]),
    ("PA", &[215, 412, 717]),
    ("PR", &[787, 939]),
    ("RI", &[401]),
    ("SC", &[803, 843]),
    ("SD", &[605]),
    ("TN", &[615, 901, 865]),
    ("TX", &[214, 512, 713, 915, 210]),
    ("UT", &[801, 435]),
    ("VA", &[804, 703, 757]),
    ("VI", &[340]),
    ("VT", &[802]),
    ("WA", &[206, 509, 253]),
    ("WI", &[414, 608, 920]),
    ("WV", &[304]),
    ("WY", &[307]),
];

/// Readable, plainly fictional person names.
const FIRST_NAMES: &[&str] = &[
    "Alex", "Jordan", "Riley", "Morgan", "Casey", "Taylor", "Avery", "Quinn", "Rowan", "Jamie",
    "Skyler", "Dana", "Robin", "Kai", "Sasha", "Noor", "Mateo", "Lucia", "Amara", "Priya", "Wei",
    "Yusuf", "Elena", "Tomas",
];
const LAST_NAMES: &[&str] = &[
    "Example",
    "Sample",
    "Placeholder",
    "Specimen",
    "Exemplar",
    "Testwood",
];

const STREETS: &[&str] = &[
    "Example St",
    "Example Ave",
    "Sample Rd",
    "Specimen Blvd",
    "Placeholder Way",
];

const EMAIL_ROLES: &[&str] = &["intake", "info", "help", "referrals", "contact"];

/// A streaming synthetic-directory generator: an iterator of exactly
/// `count` providers, the same as [`generate`] returns, made one at a time
/// so a million-row directory can be written without holding it in memory.
///
/// Building one precomputes the weighted place tables (a few milliseconds);
/// each row then costs a handful of small allocations.
pub struct Generator<'g> {
    gazetteer: &'g Gazetteer,
    count: usize,
    next: usize,
    seed: u64,
    /// US states and territories, weighted by population.
    us: Vec<Region<'g>>,
    us_weights: Weighted,
    /// Foreign countries, weighted by the square root of population.
    foreign: Vec<Region<'g>>,
    foreign_weights: Weighted,
    /// Reserved rows: (foreign?, region index).
    coverage: Vec<(bool, usize)>,
    /// Whether each place's time zone is known to this build.
    zone_ok: Vec<bool>,
    /// Weekly schedules: intervals, weight table, note.
    schedules: Vec<(Vec<OpenInterval>, Option<&'static str>)>,
    schedule_weights: Weighted,
    /// Archetype tables by (kind position, foreign?).
    archetypes: Vec<Weighted>,
    kind_weights: Weighted,
    /// County FIPS → index in `gazetteer.counties()`.
    county_index: FxHashMap<&'g str, usize>,
    /// County index → up to three nearest counties in the same state.
    neighbours: Vec<Vec<usize>>,
    /// County FIPS → its ZIP codes.
    county_zips: FxHashMap<&'g str, Vec<&'g Zip>>,
    /// Place index → the ZIP of its county nearest to it (memo).
    place_zip: Vec<Option<Option<&'g Zip>>>,
    /// Hash of a name → how many rows have used it.
    names: FxHashMap<u64, u32>,
    /// Every `verified_at` date.
    dates: Vec<Date>,
}

impl<'g> Generator<'g> {
    /// Prepares a generator of `count` providers from `seed`.
    pub fn new(gazetteer: &'g Gazetteer, count: usize, seed: u64) -> Self {
        let places = gazetteer.places();
        let mut us_by_code: FxHashMap<&'g str, Weighted> = FxHashMap::default();
        let mut foreign_by_code: FxHashMap<&'g str, Weighted> = FxHashMap::default();
        for (i, place) in places.iter().enumerate() {
            let weight = place.population;
            if is_us_or_territory(&place.country) {
                us_by_code
                    .entry(place.admin1.as_str())
                    .or_default()
                    .push(i as u32, weight);
            } else if !EXCLUDED_COUNTRIES.contains(&place.country.as_str()) {
                foreign_by_code
                    .entry(place.country.as_str())
                    .or_default()
                    .push(i as u32, weight);
            }
        }

        // US regions in the gazetteer's state order, so output is stable.
        let mut us = Vec::new();
        for state in gazetteer.states() {
            if let Some(table) = us_by_code.remove(state.code.as_str()) {
                if table.total() > 0 {
                    let code = state.code.as_str();
                    let territory = TERRITORY_LANGUAGES.iter().find(|(c, _)| *c == code);
                    us.push(Region {
                        code,
                        name: state.name.clone(),
                        places: table,
                        languages: territory.map_or(&["en"], |(_, l)| l),
                        territory: territory.is_some(),
                        spanish: if SPANISH_STATES.contains(&code) {
                            0.65
                        } else {
                            0.3
                        },
                        area_codes: AREA_CODES
                            .iter()
                            .find(|(c, _)| *c == code)
                            .map_or(&[202], |(_, a)| a),
                    });
                }
            }
        }
        let mut us_weights = Weighted::default();
        for (i, region) in us.iter().enumerate() {
            us_weights.push(i as u32, region.places.total());
        }

        let mut foreign: Vec<Region<'g>> = foreign_by_code
            .into_iter()
            .filter(|(_, table)| table.total() > 0)
            .map(|(code, places)| Region {
                code,
                name: country_name(gazetteer, code),
                places,
                languages: country_languages(code),
                territory: false,
                spanish: 0.0,
                area_codes: &[],
            })
            .collect();
        foreign.sort_by(|a, b| a.code.cmp(b.code));
        let mut foreign_weights = Weighted::default();
        for (i, region) in foreign.iter().enumerate() {
            let weight = (region.places.total() as f64).sqrt() as u64 + 1;
            foreign_weights.push(i as u32, weight);
        }

        // Coverage: every US region, then priority countries, then the most
        // populous others, interleaved so a short prefix holds both.
        let mut by_population: Vec<usize> = (0..foreign.len()).collect();
        by_population.sort_by_key(|&i| (std::cmp::Reverse(foreign[i].places.total()), i));
        let mut chosen: Vec<usize> = PRIORITY_COUNTRIES
            .iter()
            .filter_map(|code| foreign.iter().position(|r| r.code == *code))
            .collect();
        for i in by_population {
            if chosen.len() >= FOREIGN_COVERAGE {
                break;
            }
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        let mut coverage = Vec::with_capacity(us.len() + chosen.len());
        let (mut a, mut b) = (0..us.len(), chosen.into_iter());
        loop {
            match (a.next(), b.next()) {
                (None, None) => break,
                (x, y) => {
                    coverage.extend(x.map(|i| (false, i)));
                    coverage.extend(y.map(|i| (true, i)));
                }
            }
        }

        let mut zone_cache: FxHashMap<&str, bool> = FxHashMap::default();
        let zone_ok = places
            .iter()
            .map(|p| {
                *zone_cache
                    .entry(p.timezone.as_str())
                    .or_insert_with(|| jiff::tz::TimeZone::get(&p.timezone).is_ok())
            })
            .collect();

        let mut schedules = Vec::new();
        let mut schedule_weights = Weighted::default();
        for &(text, weight, note) in SCHEDULES {
            if let Ok(Availability::Weekly { intervals, .. }) = Availability::parse(text, "UTC") {
                schedule_weights.push(schedules.len() as u32, weight);
                schedules.push((intervals, note));
            }
        }

        let mut archetypes = vec![Weighted::default(); Kind::ALL.len() * 2];
        for (i, archetype) in ARCHETYPES.iter().enumerate() {
            let k = kind_position(archetype.kind);
            for (foreign, allowed) in [(0, Reach::Us), (1, Reach::Foreign)] {
                if archetype.reach == allowed || archetype.reach == Reach::Any {
                    if let Some(table) = archetypes.get_mut(k * 2 + foreign) {
                        table.push(i as u32, archetype.weight);
                    }
                }
            }
        }
        let mut kind_weights = Weighted::default();
        for (kind, weight) in KIND_WEIGHTS {
            kind_weights.push(kind_position(kind) as u32, weight);
        }

        let counties = gazetteer.counties();
        let county_index: FxHashMap<&'g str, usize> = counties
            .iter()
            .enumerate()
            .map(|(i, c)| (c.fips.as_str(), i))
            .collect();
        let neighbours = nearest_counties(counties);

        let mut county_zips: FxHashMap<&'g str, Vec<&'g Zip>> = FxHashMap::default();
        let mut code = String::with_capacity(5);
        for n in 0..100_000u32 {
            code.clear();
            let _ = write!(code, "{n:05}");
            if let Some(zip) = gazetteer.zip(&code) {
                if let Some(fips) = &zip.county_fips {
                    county_zips.entry(fips.as_str()).or_default().push(zip);
                }
            }
        }

        let mut dates = Vec::new();
        let mut day = VERIFIED_FROM;
        while day <= VERIFIED_TO {
            dates.push(day);
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }

        let mut mix = SplitMix64::new(seed);
        Generator {
            gazetteer,
            count,
            next: 0,
            seed: mix.next_u64(),
            us,
            us_weights,
            foreign,
            foreign_weights,
            coverage,
            zone_ok,
            schedules,
            schedule_weights,
            archetypes,
            kind_weights,
            county_index,
            neighbours,
            county_zips,
            place_zip: vec![None; places.len()],
            names: FxHashMap::with_capacity_and_hasher(count.min(1 << 22), Default::default()),
            dates,
        }
    }

    /// How many rows are reserved for coverage: with at least this many
    /// providers, every US state, DC, territory and each of the 70 coverage
    /// countries has at least one.
    pub fn coverage_slots(&self) -> usize {
        self.coverage.len()
    }

    /// The coverage region reserved for row `index`, if any: reserved rows
    /// are spread evenly through the directory.
    fn coverage_at(&self, index: usize) -> Option<(bool, usize)> {
        let slots = self.coverage.len();
        if slots == 0 {
            return None;
        }
        let stride = (self.count / slots).max(1);
        if !index.is_multiple_of(stride) {
            return None;
        }
        self.coverage.get(index / stride).copied()
    }

    /// Chooses the place for row `index`: (place index, foreign?).
    fn choose_place(&self, index: usize, rng: &mut SplitMix64) -> Option<(usize, bool, usize)> {
        let (foreign, region) = match self.coverage_at(index) {
            Some(slot) => slot,
            None => {
                let foreign = rng.chance(FOREIGN_SHARE) && self.foreign_weights.total() > 0;
                let table = if foreign {
                    &self.foreign_weights
                } else {
                    &self.us_weights
                };
                (foreign, table.draw(rng)? as usize)
            }
        };
        let place = self.region(foreign, region)?.places.draw(rng)? as usize;
        Some((place, foreign, region))
    }

    fn region(&self, foreign: bool, index: usize) -> Option<&Region<'g>> {
        if foreign {
            self.foreign.get(index)
        } else {
            self.us.get(index)
        }
    }

    /// The ZIP in a place's county nearest to it (memoised).
    fn zip_for(&mut self, place_index: usize, place: &Place) -> Option<&'g Zip> {
        let fips = place.county_fips.as_deref()?;
        if let Some(found) = *self.place_zip.get(place_index)? {
            return found;
        }
        let found = self.county_zips.get(fips).and_then(|zips| {
            zips.iter().copied().min_by(|a, b| {
                place
                    .point
                    .distance_km(a.point)
                    .total_cmp(&place.point.distance_km(b.point))
            })
        });
        if let Some(slot) = self.place_zip.get_mut(place_index) {
            *slot = Some(found);
        }
        found
    }

    /// Counts a use of `name`; returns how many rows have used it, this one
    /// included. Names are keyed by a 64-bit hash: a collision (about one
    /// in 10^7 at a million rows) only adds a needless suffix.
    fn bump(&mut self, name: &str) -> u32 {
        let key = {
            let mut hasher = rustc_hash::FxHasher::default();
            name.hash(&mut hasher);
            hasher.finish()
        };
        let count = self.names.entry(key).or_insert(0);
        *count += 1;
        *count
    }

    /// Makes row `index`. `None` only if the gazetteer has no places.
    fn make(&mut self, index: usize) -> Option<Provider> {
        let mut rng =
            SplitMix64::new(self.seed ^ (index as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next_u64();
        let gazetteer = self.gazetteer;
        let (place_index, foreign, region_index) = self.choose_place(index, &mut rng)?;
        let place = gazetteer.places().get(place_index)?;
        let kind_at = self.kind_weights.draw(&mut rng)? as usize;
        let table = self
            .archetypes
            .get(kind_at * 2 + usize::from(foreign))
            .filter(|t| t.total() > 0)
            .or_else(|| self.archetypes.get(usize::from(foreign)))?;
        let archetype_index = table.draw(&mut rng)? as usize;
        let archetype = ARCHETYPES.get(archetype_index)?;
        let county: Option<(usize, &'g County)> = place
            .county_fips
            .as_deref()
            .and_then(|f| self.county_index.get(f))
            .and_then(|&i| Some((i, gazetteer.counties().get(i)?)));
        let zip = if foreign {
            None
        } else {
            self.zip_for(place_index, place)
        };

        // Name, unique within the directory so results read well: a repeat
        // gets the place ("… - Fresno") or a site number ("… - Site 2").
        let entity_name: String = match archetype.entity {
            Entity::Place => place.name.clone(),
            Entity::County => {
                county.map_or_else(|| place.name.clone(), |(_, c)| c.full_name.clone())
            }
            Entity::State => self.region(foreign, region_index)?.name.clone(),
            Entity::Country if foreign => self.region(foreign, region_index)?.name.clone(),
            Entity::Country => "United States".to_owned(),
            Entity::Person => format!(
                "{} {}",
                rng.pick(FIRST_NAMES).copied().unwrap_or("Alex"),
                rng.pick(LAST_NAMES).copied().unwrap_or("Example")
            ),
        };
        let mut name = if archetype.entity == Entity::Person {
            format!("{entity_name}, {}", archetype.suffix)
        } else {
            format!("{entity_name} {}", archetype.suffix)
        };
        let uses = self.bump(&name);
        if uses > 1 {
            if archetype.entity == Entity::Place {
                let _ = write!(name, " - Site {uses}");
            } else {
                let _ = write!(name, " - {}", place.name);
                let again = self.bump(&name);
                if again > 1 {
                    let _ = write!(name, " {again}");
                }
            }
        }
        let organization = archetype
            .organization
            .map(|org| format!("{entity_name} {org}"));

        // Issues and services.
        let mut issues: Vec<&'static str> = archetype.issues.to_vec();
        for &extra in archetype.extra_issues {
            if rng.chance(0.25) && !issues.contains(&extra) {
                issues.push(extra);
            }
        }
        if issues.contains(&"sex_trafficking")
            && issues.contains(&"labor_trafficking")
            && rng.chance(0.12)
        {
            issues.retain(|i| *i != "sex_trafficking" && *i != "labor_trafficking");
            issues.insert(0, "trafficking");
        }
        let services: Vec<CompactString> = archetype
            .services
            .iter()
            .enumerate()
            .filter(|&(i, _)| i < 2 || rng.chance(0.4))
            .map(|(_, s)| CompactString::from(*s))
            .collect();

        // Languages and populations.
        let region = self.region(foreign, region_index)?;
        let languages = languages(region, foreign, &mut rng);
        let mut populations: Vec<&'static str> = archetype.populations.to_vec();
        for &extra in archetype.extra_populations {
            if rng.chance(0.3) && !populations.contains(&extra) {
                populations.push(extra);
            }
        }
        if !foreign
            && languages.iter().any(|l| l == "es")
            && rng.chance(0.3)
            && !populations.contains(&"hispanic")
        {
            populations.push("hispanic");
        }

        // Hours.
        let (availability, hours_note) = if rng.chance(0.05) {
            (Availability::Unknown, None)
        } else if rng.per_mille(archetype.open_24h) {
            (Availability::Open24h, None)
        } else if !self.zone_ok.get(place_index).copied().unwrap_or(false) {
            (Availability::Unknown, None)
        } else {
            let at = self.schedule_weights.draw(&mut rng).unwrap_or(0) as usize;
            match self.schedules.get(at) {
                Some((intervals, note)) => (
                    Availability::Weekly {
                        timezone: place.timezone.as_str().into(),
                        intervals: intervals.clone(),
                    },
                    note.map(str::to_owned),
                ),
                None => (Availability::Unknown, None),
            }
        };

        // Location and precision.
        let roll = rng.unit();
        let (location, precision) = match zip {
            Some(z) if (0.78..0.90).contains(&roll) => (z.point, Precision::PostalCode),
            _ if roll >= 0.90 => (place.point, Precision::Locality),
            _ => (jitter(place.point, &mut rng), Precision::Point),
        };

        // Service area.
        let service_area = self.service_area(archetype, place, foreign, county, zip, &mut rng);

        // Contact details.
        let number = index + 1;
        let mut phones = phones(archetype, place, region, foreign, &languages, &mut rng);
        let email = rng.chance(0.75).then(|| {
            let role = rng.pick(EMAIL_ROLES).copied().unwrap_or("intake");
            format!("{role}+syn-{number:06}@example.org")
        });
        let website = rng.chance(0.6).then(|| {
            let slug = normalize(&name).replace(' ', "-");
            format!("https://example.org/{slug}")
        });
        let contact_name = rng.chance(0.3).then(|| {
            format!(
                "{} {}",
                rng.pick(FIRST_NAMES).copied().unwrap_or("Alex"),
                rng.pick(LAST_NAMES).copied().unwrap_or("Example")
            )
        });
        if contact_name.is_some() {
            // The named contact's own desk: a direct line, confidential.
            // Derived without the generator so the rest of the record is
            // unchanged: the first number with other last two digits (still
            // in the fictional 555-01xx range).
            if let Some(direct) = direct_line(phones.first(), number) {
                phones.push(direct);
            }
        }
        let street = (!archetype.hide_street && rng.chance(0.8)).then(|| {
            let house = 100 + 100 * rng.below(99);
            let street = rng.pick(STREETS).copied().unwrap_or("Example St");
            format!("{house} {street}")
        });
        let us_place = is_us_or_territory(&place.country);
        let address = Address {
            street: street.map(Into::into),
            city: Some(place.name.as_str().into()),
            region: us_place.then(|| place.admin1.as_str().into()),
            postal_code: zip.map(|z| z.zip.as_str().into()),
            country: Some(place.country.as_str().into()),
        };
        let visibility = if rng.per_mille(archetype.public) {
            Visibility::Public
        } else {
            Visibility::Confidential
        };
        let verified_at = rng.pick(&self.dates).copied();

        Some(Provider {
            id: compact_str::format_compact!("syn-{number:06}"),
            name,
            organization,
            kind: archetype.kind,
            issues: issues.into_iter().map(CompactString::from).collect(),
            services,
            populations: populations.into_iter().map(CompactString::from).collect(),
            languages,
            availability,
            hours_note,
            phones,
            email,
            website,
            contact_name,
            law_enforcement: archetype.kind == Kind::LawEnforcement,
            address: Some(address),
            location: Some(location),
            precision: Some(precision),
            // Shelters keep their street to themselves; their point is
            // coarsened for the public too.
            location_confidential: archetype.hide_street,
            service_area,
            visibility,
            verified_at,
            source: SOURCE.into(),
            funder: None,
            description: None,
            incomplete: false,
            capacity: Vec::new(),
        })
    }

    /// The service area for a contact of `archetype` at `place`.
    fn service_area(
        &self,
        archetype: &Archetype,
        place: &Place,
        foreign: bool,
        county: Option<(usize, &'g County)>,
        zip: Option<&'g Zip>,
        rng: &mut SplitMix64,
    ) -> Vec<AreaSpec> {
        if foreign {
            // A few territories (French overseas departments, Kosovo) have
            // no outline of their own in the world atlas: serve a radius.
            let has_outline = self
                .gazetteer
                .country(&place.country)
                .is_some_and(|c| !c.shape.0.is_empty());
            let country = |rng: &mut SplitMix64| {
                if has_outline {
                    AreaSpec::Countries {
                        codes: vec![place.country.as_str().into()],
                    }
                } else {
                    radius_area(rng)
                }
            };
            return match archetype.scope {
                Scope::Local | Scope::County => {
                    if rng.chance(0.85) {
                        vec![radius_area(rng)]
                    } else {
                        vec![country(rng)]
                    }
                }
                Scope::State => vec![country(rng)],
                Scope::National => {
                    if archetype.kind == Kind::Coalition && rng.chance(0.15) {
                        vec![AreaSpec::Worldwide]
                    } else if rng.chance(0.7) {
                        vec![AreaSpec::Nationwide {
                            country: place.country.as_str().into(),
                        }]
                    } else {
                        vec![country(rng)]
                    }
                }
            };
        }
        let state = || AreaSpec::States {
            codes: vec![place.admin1.as_str().into()],
        };
        let own_county = |(_, c): (usize, &County)| AreaSpec::Counties {
            fips: vec![c.fips.as_str().into()],
        };
        let several = |(i, c): (usize, &County), rng: &mut SplitMix64| {
            let mut fips = vec![CompactString::from(c.fips.as_str())];
            let wanted = 1 + rng.index(3);
            let counties = self.gazetteer.counties();
            for &n in self.neighbours.get(i).into_iter().flatten().take(wanted) {
                if let Some(other) = counties.get(n) {
                    fips.push(other.fips.as_str().into());
                }
            }
            AreaSpec::Counties { fips }
        };
        match archetype.scope {
            Scope::Local => {
                let roll = rng.below(100);
                match (roll, county, zip) {
                    (0..50, _, _) => vec![radius_area(rng)],
                    (50..72, Some(c), _) => vec![own_county(c)],
                    (72..85, Some(c), _) => vec![several(c, rng)],
                    (85..95, _, Some(z)) => vec![self.zip_area(z, rng)],
                    (95.., _, _) => vec![state()],
                    _ => vec![radius_area(rng)],
                }
            }
            Scope::County => match county {
                Some(c) if rng.chance(0.65) => vec![own_county(c)],
                Some(c) => vec![several(c, rng)],
                None => vec![radius_area(rng)],
            },
            Scope::State => vec![state()],
            Scope::National => vec![AreaSpec::Nationwide {
                country: "US".into(),
            }],
        }
    }

    /// A ZIP area: `zip` and up to two other ZIPs of its county.
    fn zip_area(&self, zip: &Zip, rng: &mut SplitMix64) -> AreaSpec {
        let mut zips = vec![CompactString::from(zip.zip.as_str())];
        if let Some(others) = zip
            .county_fips
            .as_deref()
            .and_then(|f| self.county_zips.get(f))
        {
            for _ in 0..rng.index(3) {
                if let Some(other) = rng.pick(others) {
                    if !zips.iter().any(|z| *z == other.zip) {
                        zips.push(other.zip.as_str().into());
                    }
                }
            }
        }
        AreaSpec::Zips { zips }
    }
}

impl Iterator for Generator<'_> {
    type Item = Provider;

    fn next(&mut self) -> Option<Provider> {
        while self.next < self.count {
            let index = self.next;
            self.next += 1;
            if let Some(provider) = self.make(index) {
                return Some(provider);
            }
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.count - self.next))
    }
}

/// Languages (ISO 639-1) for a contact in `region`.
fn languages(region: &Region<'_>, foreign: bool, rng: &mut SplitMix64) -> Vec<CompactString> {
    let mut languages: Vec<&'static str> = Vec::with_capacity(3);
    if foreign || region.territory {
        for (i, &code) in region.languages.iter().enumerate() {
            if i == 0 || (region.territory && code == "en") || rng.chance(0.5) {
                languages.push(code);
            }
        }
        if foreign && !languages.contains(&"en") && rng.chance(0.35) {
            languages.push("en");
        }
    } else {
        languages.push("en");
        if rng.chance(region.spanish) {
            languages.push("es");
        }
        if rng.chance(0.12) {
            if let Some(&extra) = rng.pick(US_EXTRA_LANGUAGES) {
                languages.push(extra);
            }
        }
    }
    if languages.is_empty() {
        languages.push("en");
    }
    languages.into_iter().map(CompactString::from).collect()
}

/// Each region's calling code and example national number, from
/// `data/dial/dial_plan.csv` (derived from libphonenumber's metadata by
/// `scripts/build-dial-plan`).
const DIAL_PLAN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/dial/dial_plan.csv"
));

/// How numbers are written in one country, as far as synthetic numbers
/// need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DialPlan {
    /// Country calling code, digits ("51").
    calling_code: &'static str,
    /// A valid national significant number (no calling code, no trunk
    /// prefix): its length is the length of a synthetic number, and in
    /// the North American plan its first three digits the area code.
    example: &'static str,
}

/// The dial plan of `country` (ISO 3166-1 alpha-2). Pitcairn, South
/// Georgia and the French Southern Territories, which libphonenumber does
/// not list, dial as New Zealand (+64), the Falklands (+500) and Réunion
/// (+262) do.
fn dial_plan(country: &str) -> Option<DialPlan> {
    static PLANS: std::sync::OnceLock<FxHashMap<&'static str, DialPlan>> =
        std::sync::OnceLock::new();
    let plans = PLANS.get_or_init(|| {
        DIAL_PLAN
            .lines()
            .skip(1)
            .filter_map(|line| {
                let fields: Vec<&'static str> = line.split(',').collect();
                match fields.as_slice() {
                    [region, code, _, _, _, example, _] if !example.is_empty() => Some((
                        *region,
                        DialPlan {
                            calling_code: code,
                            example,
                        },
                    )),
                    _ => None,
                }
            })
            .collect()
    });
    let country = match country {
        "PN" => "NZ",
        "GS" => "FK",
        "TF" => "RE",
        other => other,
    };
    plans.get(country).copied()
}

/// A fictional-looking foreign number that is still a valid dial string
/// for its country: `+CC` and a national number of the length of the
/// country's example number, made of `555 0100` padded or cut to fit and
/// ending in `last` (0–999). North American plan countries (Canada, the
/// Caribbean) get `+1 (AAA) 555-01xx` in the example's area code. Without
/// a dial plan (no such country) the number has no calling code to give,
/// so the US form `+1 (202) 555-01xx` is used.
fn foreign_number(country: &str, last: u64) -> String {
    let Some(plan) = dial_plan(country) else {
        return format!("+1 (202) 555-01{:02}", last % 100);
    };
    if plan.calling_code == "1" {
        let area = plan.example.get(..3).unwrap_or("202");
        return format!("+1 ({area}) 555-01{:02}", last % 100);
    }
    let length = plan.example.len().max(4);
    let tail = format!("{last:03}");
    let head_length = length - tail.len();
    let mut national: String = "5550100".chars().take(head_length).collect();
    while national.len() < head_length {
        national.push('0');
    }
    national.push_str(&tail);
    // Groups of three from the right; the first takes what is left over,
    // and a lone leftover digit joins the next group.
    let first = match national.len() % 3 {
        0 => 3,
        1 if national.len() > 4 => 4,
        leftover => leftover,
    };
    let (head, rest) = national.split_at(first.min(national.len()));
    let mut text = format!("+{} {head}", plan.calling_code);
    for group in rest.as_bytes().chunks(3) {
        text.push(' ');
        text.extend(group.iter().map(|&b| char::from(b)));
    }
    text
}

/// Plainly fictional phone numbers: 555-01xx in a local area code in the
/// US and its territories; abroad a valid dial string for the country made
/// of the same digits ([`foreign_number`]).
fn phones(
    archetype: &Archetype,
    place: &Place,
    region: &Region<'_>,
    foreign: bool,
    languages: &[CompactString],
    rng: &mut SplitMix64,
) -> Vec<Phone> {
    let area = rng.pick(region.area_codes).copied().unwrap_or(202);
    let number = |rng: &mut SplitMix64| {
        if foreign {
            foreign_number(&place.country, rng.below(1000))
        } else {
            format!("({area}) 555-01{:02}", rng.below(100))
        }
    };
    let make = |text: String, kind: PhoneKind, note: Option<&str>| {
        let mut phone = Phone::new(&text, kind);
        phone.country = Some(place.country.as_str().into());
        phone.note = note.map(CompactString::from);
        phone
    };
    let mut phones = Vec::with_capacity(2);
    phones.push(make(number(rng), PhoneKind::Voice, None));
    if !foreign && languages.iter().any(|l| l == "es") && rng.chance(0.12) {
        phones.push(make(number(rng), PhoneKind::Voice, Some("Spanish")));
    }
    let text_chance = if archetype.kind == Kind::Hotline {
        0.5
    } else {
        0.12
    };
    if rng.chance(text_chance) {
        phones.push(make(number(rng), PhoneKind::Text, None));
    }
    if !foreign && rng.chance(0.06) {
        phones.push(make(number(rng), PhoneKind::Tty, None));
    }
    phones
}

/// A radius of 10 to 150 km, in steps of 5.
fn radius_area(rng: &mut SplitMix64) -> AreaSpec {
    AreaSpec::Radius {
        radius_km: 10.0 + 5.0 * rng.below(29) as f64,
    }
}

/// Moves `point` by up to [`JITTER_KM`] in a uniform random direction,
/// keeping it a valid position.
fn jitter(point: LatLng, rng: &mut SplitMix64) -> LatLng {
    const KM_PER_DEGREE: f64 = 111.32;
    let distance = JITTER_KM * rng.unit().sqrt();
    let angle = std::f64::consts::TAU * rng.unit();
    let lat = (point.lat() + distance * angle.cos() / KM_PER_DEGREE).clamp(-90.0, 90.0);
    let shrink = point.lat().to_radians().cos().max(0.01);
    let mut lon = point.lon() + distance * angle.sin() / (KM_PER_DEGREE * shrink);
    if lon > 180.0 {
        lon -= 360.0;
    } else if lon < -180.0 {
        lon += 360.0;
    }
    LatLng::new(lat, lon).unwrap_or(point)
}

/// For each county, up to three nearest counties (by label point) in the
/// same state.
fn nearest_counties(counties: &[County]) -> Vec<Vec<usize>> {
    let mut by_state: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    for (i, county) in counties.iter().enumerate() {
        by_state.entry(county.state.as_str()).or_default().push(i);
    }
    counties
        .iter()
        .enumerate()
        .map(|(i, county)| {
            let mut others: Vec<(f64, usize)> = by_state
                .get(county.state.as_str())
                .into_iter()
                .flatten()
                .filter(|&&j| j != i)
                .filter_map(|&j| Some((county.label.distance_km(counties.get(j)?.label), j)))
                .collect();
            others.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            others.into_iter().take(3).map(|(_, j)| j).collect()
        })
        .collect()
}

fn kind_position(kind: Kind) -> usize {
    Kind::ALL.iter().position(|&k| k == kind).unwrap_or(0)
}

fn country_languages(code: &str) -> &'static [&'static str] {
    COUNTRY_LANGUAGES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(&["en"], |(_, languages)| languages)
}

/// A country's name as people say it ("United States", "Korea" for
/// "Korea, Republic of").
fn country_name(gazetteer: &Gazetteer, code: &str) -> String {
    if code == "US" {
        return "United States".to_owned();
    }
    match gazetteer.country(code) {
        Some(country) => country
            .name
            .split(',')
            .next()
            .unwrap_or(&country.name)
            .trim()
            .to_owned(),
        None => code.to_owned(),
    }
}

/// A confidential direct line beside `main`: the same number with its last
/// two digits replaced by a function of `number` (deterministic).
fn direct_line(main: Option<&Phone>, number: usize) -> Option<Phone> {
    let main = main?;
    let digits = main
        .number
        .char_indices()
        .filter(|(_, c)| c.is_ascii_digit());
    let cut = digits.clone().nth_back(1)?.0;
    if !main.number[cut..].chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut direct = Phone::new(
        &format!("{}{:02}", &main.number[..cut], (number * 37 + 11) % 100),
        PhoneKind::Voice,
    );
    direct.country.clone_from(&main.country);
    direct.note = Some("direct line".into());
    direct.confidential = true;
    Some(direct)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gazetteer::US_TERRITORIES;
    use crate::model::{dial_digits, Vocabulary};
    use std::collections::{BTreeMap, BTreeSet, HashSet};
    use std::sync::OnceLock;

    #[test]
    fn foreign_numbers_have_the_country_code_and_length() {
        assert_eq!(foreign_number("PE", 42), "+51 55 501 042");
        assert_eq!(foreign_number("GB", 7), "+44 5550 100 007");
        assert_eq!(foreign_number("CA", 142), "+1 (506) 555-0142");
        assert_eq!(foreign_number("DO", 5), "+1 (809) 555-0105");
        assert_eq!(foreign_number("AC", 999), "+247 55 999");
        assert_eq!(foreign_number("PN", 1), foreign_number("NZ", 1));
        for country in ["DE", "IN", "NG", "PH", "UA", "MD", "XK"] {
            let plan = dial_plan(country).unwrap();
            let dial = dial_digits(&foreign_number(country, 123));
            assert_eq!(
                dial,
                format!(
                    "+{}{}",
                    plan.calling_code,
                    &"5550100"[..plan.example.len() - 3]
                ) + &"0".repeat(plan.example.len().saturating_sub(10))
                    + "123",
                "{country}"
            );
        }
    }

    const COUNT: usize = 3200;
    const SEED: u64 = 20_260_301;

    fn gazetteer() -> &'static Gazetteer {
        static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
        GAZETTEER.get_or_init(|| Gazetteer::bundled().unwrap())
    }

    fn sample() -> &'static [Provider] {
        static SAMPLE: OnceLock<Vec<Provider>> = OnceLock::new();
        SAMPLE.get_or_init(|| generate(gazetteer(), COUNT, SEED))
    }

    fn country(p: &Provider) -> &str {
        p.address
            .as_ref()
            .and_then(|a| a.country.as_deref())
            .unwrap()
    }

    #[test]
    fn same_seed_same_directory_other_seed_differs() {
        let again = generate(gazetteer(), COUNT, SEED);
        assert_eq!(again, sample());
        let other = generate(gazetteer(), COUNT, SEED + 1);
        assert_eq!(other.len(), COUNT);
        let same = other.iter().zip(sample()).filter(|(a, b)| a == b).count();
        assert!(same < COUNT / 100, "{same} rows identical across seeds");
        // A shorter directory is a valid directory of its own.
        assert_eq!(generate(gazetteer(), 10, SEED).len(), 10);
        assert!(generate(gazetteer(), 0, SEED).is_empty());
    }

    #[test]
    fn covers_every_state_territory_and_sixty_countries() {
        let generator = Generator::new(gazetteer(), COUNT, SEED);
        assert!(generator.coverage_slots() <= COUNT);
        assert_eq!(sample().len(), COUNT);
        let regions: BTreeSet<&str> = sample()
            .iter()
            .filter(|p| is_us_or_territory(country(p)))
            .filter_map(|p| p.address.as_ref()?.region.as_deref())
            .collect();
        for state in gazetteer().states() {
            assert!(
                regions.contains(state.code.as_str()),
                "no provider in {}",
                state.code
            );
        }
        assert_eq!(regions.len(), 56, "{regions:?}");
        for territory in US_TERRITORIES {
            assert!(sample().iter().any(|p| country(p) == territory));
        }
        let foreign: BTreeSet<&str> = sample()
            .iter()
            .map(country)
            .filter(|c| !is_us_or_territory(c))
            .collect();
        assert!(foreign.len() >= 60, "{} countries", foreign.len());
        assert!(foreign.contains("CA") && foreign.contains("MX"));
        let abroad = sample()
            .iter()
            .filter(|p| !is_us_or_territory(country(p)))
            .count();
        assert!(
            (COUNT * 7 / 100..=COUNT * 13 / 100).contains(&abroad),
            "{abroad} abroad"
        );
    }

    #[test]
    fn places_are_real_gazetteer_places() {
        let mut places: FxHashMap<(&str, &str), Vec<LatLng>> = FxHashMap::default();
        for place in gazetteer().places() {
            places
                .entry((place.name.as_str(), place.country.as_str()))
                .or_default()
                .push(place.point);
        }
        for p in sample() {
            let address = p.address.as_ref().unwrap();
            let city = address.city.as_deref().unwrap();
            let location = p.location.unwrap();
            let near = places[&(city, country(p))]
                .iter()
                .any(|&point| point.distance_km(location) <= JITTER_KM + 0.01);
            let at_zip = p.precision == Some(Precision::PostalCode);
            assert!(near || at_zip, "{} is not near {city}", p.id);
            if at_zip {
                let zip = gazetteer()
                    .zip(address.postal_code.as_deref().unwrap())
                    .unwrap();
                assert_eq!(zip.point, location);
            }
            assert!((-90.0..=90.0).contains(&location.lat()));
            assert!((-180.0..=180.0).contains(&location.lon()));
        }
    }

    #[test]
    fn codes_come_from_the_vocabulary_and_the_language_table() {
        let vocabulary = Vocabulary::bundled().unwrap();
        let languages: HashSet<&str> = gazetteer()
            .languages()
            .iter()
            .filter_map(|l| l.iso639_1.as_deref())
            .collect();
        let mut issues_seen = BTreeSet::new();
        for p in sample() {
            assert!(!p.issues.is_empty(), "{}", p.id);
            for issue in &p.issues {
                assert!(vocabulary.issue(issue).is_some(), "{issue}");
                issues_seen.insert(issue.as_str());
            }
            for population in &p.populations {
                assert!(vocabulary.has_population(population), "{population}");
            }
            assert!(!p.languages.is_empty());
            for language in &p.languages {
                assert!(languages.contains(language.as_str()), "{language}");
            }
        }
        // Every issue of the vocabulary occurs in a sample of this size.
        for term in &vocabulary.issues {
            assert!(
                issues_seen.contains(term.code.as_str()),
                "{} unused",
                term.code
            );
        }
        // Every table the generator draws from holds valid codes.
        for (_, codes) in COUNTRY_LANGUAGES.iter().chain(TERRITORY_LANGUAGES) {
            for code in *codes {
                assert!(languages.contains(code), "{code}");
            }
        }
        for code in US_EXTRA_LANGUAGES {
            assert!(languages.contains(code), "{code}");
        }
        for archetype in ARCHETYPES {
            for issue in archetype.issues.iter().chain(archetype.extra_issues) {
                assert!(vocabulary.issue(issue).is_some(), "{issue}");
            }
            for population in archetype
                .populations
                .iter()
                .chain(archetype.extra_populations)
            {
                assert!(vocabulary.has_population(population), "{population}");
            }
        }
    }

    #[test]
    fn every_record_is_complete_and_plainly_fictional() {
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for (i, p) in sample().iter().enumerate() {
            assert_eq!(p.id, format!("syn-{:06}", i + 1));
            assert!(ids.insert(p.id.as_str()), "duplicate id {}", p.id);
            assert!(!p.name.trim().is_empty());
            assert!(names.insert(p.name.as_str()), "duplicate name {}", p.name);
            assert_eq!(p.source, SOURCE);
            assert_eq!(
                p.law_enforcement,
                p.kind == Kind::LawEnforcement,
                "{}",
                p.id
            );
            assert!(p.location.is_some() && p.precision.is_some());
            assert!(!p.phones.is_empty(), "{} has no phone", p.id);
            assert!(p.phones.iter().any(|ph| ph.kind == PhoneKind::Voice));
            let us = is_us_or_territory(country(p));
            for phone in &p.phones {
                assert_eq!(phone.dial, dial_digits(&phone.number));
                if us {
                    assert!(phone.number.contains(") 555-01"), "{}", phone.number);
                    assert_eq!(phone.dial.len(), 10);
                } else {
                    let plan = dial_plan(country(p)).unwrap();
                    assert!(
                        phone.dial.starts_with(&format!("+{}", plan.calling_code)),
                        "{}: {}",
                        country(p),
                        phone.number
                    );
                    assert_eq!(
                        phone.dial.len(),
                        1 + plan.calling_code.len() + plan.example.len(),
                        "{}: {}",
                        country(p),
                        phone.number
                    );
                    // The fictional digits: 555-01xx after a North
                    // American area code, else 55… first.
                    let national = &phone.dial[1 + plan.calling_code.len()..];
                    let fictional = if plan.calling_code == "1" {
                        national[3..].starts_with("55501")
                    } else {
                        national.starts_with("55")
                    };
                    assert!(fictional, "{}", phone.number);
                }
            }
            if let Some(email) = &p.email {
                assert!(email.ends_with("@example.org"), "{email}");
            }
            if let Some(website) = &p.website {
                assert!(website.starts_with("https://example.org/"), "{website}");
                assert!(!website.contains(' '));
            }
            if let Some(street) = p.address.as_ref().and_then(|a| a.street.as_deref()) {
                assert!(STREETS.iter().any(|s| street.ends_with(s)), "{street}");
            }
            let verified = p.verified_at.unwrap();
            assert!((VERIFIED_FROM..=VERIFIED_TO).contains(&verified));
            assert!(!p.service_area.is_empty());
        }
    }

    #[test]
    fn service_areas_and_hours_are_valid() {
        let g = gazetteer();
        let mut shapes = BTreeMap::new();
        for p in sample() {
            let country = country(p);
            for area in &p.service_area {
                let shape = area.to_text().first().map_or("worldwide".to_owned(), |t| {
                    t.split(':').next().unwrap_or_default().to_owned()
                });
                *shapes.entry(shape).or_insert(0) += 1;
                match area {
                    AreaSpec::Radius { radius_km } => {
                        assert!((10.0..=150.0).contains(radius_km));
                    }
                    AreaSpec::States { codes } => {
                        assert!(codes
                            .iter()
                            .all(|c| g.state(c).is_some_and(|s| s.code == *c)));
                    }
                    AreaSpec::Counties { fips } => {
                        assert!(fips.iter().all(|f| g.county(f).is_some()), "{fips:?}");
                        let state = &g.county(&fips[0]).unwrap().state;
                        assert!(fips.iter().all(|f| g.county(f).unwrap().state == *state));
                    }
                    AreaSpec::Zips { zips } => {
                        assert!(zips.iter().all(|z| g.zip(z).is_some()), "{zips:?}");
                    }
                    AreaSpec::Countries { codes } => {
                        assert_eq!(codes, &[country.to_owned()]);
                        assert!(g.country(country).is_some_and(|c| c.iso2 == country));
                    }
                    AreaSpec::Nationwide { country: c } => {
                        assert!(g.country(c).is_some_and(|k| k.iso2 == *c));
                    }
                    AreaSpec::Worldwide => {}
                    AreaSpec::Polygon { .. } => panic!("no polygons are generated"),
                }
            }
            // Hours round-trip through their text form in their own zone.
            if let Availability::Weekly { timezone, .. } = &p.availability {
                let text = p.availability.to_string();
                assert_eq!(
                    Availability::parse(&text, timezone).unwrap(),
                    p.availability
                );
            }
        }
        for shape in [
            "radius",
            "county",
            "state",
            "zip",
            "country",
            "nationwide",
            "worldwide",
        ] {
            assert!(shapes.contains_key(shape), "no {shape} areas: {shapes:?}");
        }
    }

    #[test]
    fn mix_is_realistic() {
        let n = sample().len() as f64;
        let share =
            |f: &dyn Fn(&Provider) -> bool| sample().iter().filter(|p| f(p)).count() as f64 / n;
        let mut kinds = BTreeMap::new();
        for p in sample() {
            *kinds.entry(p.kind).or_insert(0usize) += 1;
        }
        assert_eq!(kinds.len(), Kind::ALL.len(), "{kinds:?}");
        let most = kinds.iter().max_by_key(|(_, n)| **n).map(|(k, _)| *k);
        assert_eq!(most, Some(Kind::ServiceProvider));
        let open = share(&|p| p.availability.is_open_24h());
        assert!((0.15..=0.27).contains(&open), "24/7 share {open}");
        let unknown = share(&|p| p.availability == Availability::Unknown);
        assert!((0.03..=0.09).contains(&unknown), "unknown share {unknown}");
        let public = share(&|p| p.visibility == Visibility::Public);
        assert!((0.15..=0.27).contains(&public), "public share {public}");
        let spanish = share(&|p| p.languages.iter().any(|l| l == "es"));
        assert!(spanish > 0.3, "Spanish share {spanish}");
        let point = share(&|p| p.precision == Some(Precision::Point));
        assert!(point > 0.7, "point share {point}");
        assert!(share(&|p| p.precision == Some(Precision::PostalCode)) > 0.05);
        assert!(share(&|p| p.precision == Some(Precision::Locality)) > 0.05);
        assert!(share(&|p| p.phones.iter().any(|ph| ph.kind == PhoneKind::Text)) > 0.05);
        assert!(share(&|p| p.phones.iter().any(|ph| ph.kind == PhoneKind::Tty)) > 0.02);
        let overnight = share(&|p| match &p.availability {
            Availability::Weekly { intervals, .. } => intervals.iter().any(|i| i.closes_min > 1440),
            _ => false,
        });
        assert!(overnight > 0.0);
        let stale = share(&|p| {
            p.verified_at
                .is_some_and(|d| d < jiff::civil::date(2025, 6, 1))
        });
        assert!((0.4..=0.75).contains(&stale), "stale share {stale}");
    }

    /// The sample reaches what the referral directory holds: every kind,
    /// every issue of the vocabulary, every service-area shape, all 50
    /// states, DC and the territories, and 60+ countries abroad.
    #[test]
    fn sample_reaches_every_kind_issue_area_state_and_60_countries() {
        let mut kinds = BTreeSet::new();
        let mut issues = BTreeSet::new();
        let mut shapes = BTreeSet::new();
        let mut countries = BTreeSet::new();
        let mut regions = BTreeSet::new();
        for p in sample() {
            kinds.insert(p.kind);
            issues.extend(p.issues.iter().map(|i| i.as_str()));
            for a in &p.service_area {
                let text = a.to_text();
                let shape = text
                    .first()
                    .map_or("polygon", |t| t.split(':').next().unwrap_or_default());
                shapes.insert(shape.to_owned());
            }
            countries.insert(country(p));
            if is_us_or_territory(country(p)) {
                if let Some(region) = p.address.as_ref().and_then(|a| a.region.clone()) {
                    regions.insert(region);
                }
            }
        }
        assert_eq!(kinds.len(), Kind::ALL.len(), "{kinds:?}");
        let vocabulary = Vocabulary::bundled().expect("vocabulary");
        let leaves: Vec<&str> = vocabulary.issues.iter().map(|t| t.code.as_str()).collect();
        let missing: Vec<&&str> = leaves.iter().filter(|c| !issues.contains(**c)).collect();
        assert!(
            missing.len() * 10 <= leaves.len(),
            "issues never used: {missing:?}"
        );
        for shape in [
            "radius",
            "state",
            "county",
            "zip",
            "country",
            "nationwide",
            "worldwide",
        ] {
            assert!(shapes.contains(shape), "no {shape} area in {shapes:?}");
        }
        let foreign = countries.iter().filter(|c| !is_us_or_territory(c)).count();
        assert!(foreign >= 60, "{foreign} countries abroad");
        assert!(
            regions.len() >= 51,
            "{} US states, DC and territories: {regions:?}",
            regions.len()
        );
    }

    /// Times a million rows; run with
    /// `cargo test --release --lib synthetic -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn million_rows_are_fast() {
        let gazetteer = gazetteer();
        let started = std::time::Instant::now();
        let generator = Generator::new(gazetteer, 1_000_000, 1);
        let prepared = started.elapsed();
        let rows = generator.fold(0usize, |n, p| n + p.phones.len().min(1));
        println!(
            "1M rows: prepared in {prepared:?}, done in {:?}",
            started.elapsed()
        );
        assert_eq!(rows, 1_000_000);
    }
}
