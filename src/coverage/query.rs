//! The coverage query: a need, a region set and options, parsed and checked
//! from the string parameters the HTTP API and the CLI receive.

use super::access::Decay;
use crate::index::{AttributeFilter, Geometry, MAX_RESOLUTION, MIN_RESOLUTION};
use crate::matching::{boolean, number, values, ParameterDoc, QueryError, Terms};
use crate::model::{Kind, Vocabulary};

/// Default gap threshold, km: about an hour's drive.
pub const DEFAULT_THRESHOLD_KM: f64 = 60.0;
/// Largest `threshold_km` accepted, km.
pub const MAX_THRESHOLD_KM: f64 = 1_000.0;
/// Default 2SFCA catchment, km.
pub const DEFAULT_CATCHMENT_KM: f64 = 60.0;
/// Largest `catchment_km` accepted, km.
pub const MAX_CATCHMENT_KM: f64 = 500.0;
/// Default geometry simplification tolerance, degrees.
pub const DEFAULT_TOLERANCE_DEG: f64 = 0.01;
/// Largest `tolerance` accepted, degrees.
pub const MAX_TOLERANCE_DEG: f64 = 1.0;
/// Sites suggested when `sites` is not given.
pub const DEFAULT_SITES: usize = 10;
/// Most sites one suggestion may ask for.
pub const MAX_SITES: usize = 100;
/// Most H3 cells one report may have.
pub const MAX_CELLS: usize = 600_000;

/// What kind of help is needed: the attribute filters of a match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Need {
    /// Issue codes as asked; a parent (`trafficking`) also matches its
    /// children. Empty: any issue.
    pub issues: Vec<String>,
    /// ISO 639-1 codes; a provider must speak at least one. Empty: any.
    pub languages: Vec<String>,
    /// Require 24-hour capacity.
    pub open_24h: bool,
    /// Allowed kinds; empty: any kind (but see `include_hotlines`).
    pub kinds: Vec<Kind>,
    /// Kinds to leave out.
    pub exclude: Vec<Kind>,
    /// Population codes; a provider must serve at least one. Empty: any.
    pub populations: Vec<String>,
    /// Count providers of kind `hotline` too. Off by default: national
    /// hotlines serve everywhere and would hide every gap.
    pub include_hotlines: bool,
    /// Count only records the public may see (set for callers without a
    /// key, so figures never reveal confidential records).
    pub public_only: bool,
}

impl Need {
    /// The geometry the figures are computed in: [`Geometry::Public`] when
    /// only public records count (a caller without a key), so a public
    /// figure never depends on a true confidential point.
    pub fn geometry(&self) -> Geometry {
        if self.public_only {
            Geometry::Public
        } else {
            Geometry::Exact
        }
    }

    /// The need as an [`AttributeFilter`]: issues expanded to their
    /// children, kinds narrowed by `kinds`, `exclude` and (unless
    /// `include_hotlines`) without `hotline`; excluding `law_enforcement`
    /// also leaves out providers of other kinds flagged as law enforcement,
    /// as in matching.
    pub fn attribute_filter(&self, vocabulary: &Vocabulary) -> AttributeFilter {
        let mut issues: Vec<String> = Vec::new();
        for code in &self.issues {
            for expanded in vocabulary.expand_issue(code) {
                if !issues.iter().any(|i| i == expanded) {
                    issues.push(expanded.to_owned());
                }
            }
        }
        let kinds: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| self.kinds.is_empty() || self.kinds.contains(k))
            .filter(|k| !self.exclude.contains(k))
            .filter(|k| self.include_hotlines || *k != Kind::Hotline)
            .collect();
        AttributeFilter {
            issues_any: issues,
            languages_any: self.languages.clone(),
            populations_any: self.populations.clone(),
            kinds: (kinds.len() < Kind::ALL.len()).then_some(kinds),
            open_24h: self.open_24h,
            countries_any: Vec::new(),
            public_only: self.public_only,
            civilian_only: self.exclude.contains(&Kind::LawEnforcement),
        }
    }
}

/// The regions figures are given for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RegionSet {
    /// The 50 US states, DC and the territories of the gazetteer.
    State,
    /// Every county and county equivalent of the gazetteer (territories
    /// included).
    County,
    /// Every country of the gazetteer.
    Country,
    /// H3 cells at `resolution` (3–8) covering `bbox` (`[west, south, east,
    /// north]` degrees), or the contiguous US (48 states and DC) when `None`.
    H3 {
        /// H3 resolution, 3–8.
        resolution: u8,
        /// `[west, south, east, north]` in degrees.
        bbox: Option<[f64; 4]>,
    },
}

impl RegionSet {
    /// The `by` parameter value: `state`, `county`, `country` or `h3`.
    pub fn name(&self) -> &'static str {
        match self {
            RegionSet::State => "state",
            RegionSet::County => "county",
            RegionSet::Country => "country",
            RegionSet::H3 { .. } => "h3",
        }
    }
}

/// What a query is for: a report, or site suggestions (which accept
/// `sites`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `GET /v1/coverage`.
    Report,
    /// `GET /v1/coverage/suggest`.
    Suggest,
}

/// A checked coverage query.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageQuery {
    /// The regions.
    pub regions: RegionSet,
    /// The need.
    pub need: Need,
    /// Gap threshold, km (default 60).
    pub threshold_km: f64,
    /// 2SFCA catchment, km (default 60).
    pub catchment_km: f64,
    /// 2SFCA distance decay (default Gaussian).
    pub decay: Decay,
    /// Geometry simplification tolerance, degrees (default 0.01; 0 keeps
    /// the outlines as they are).
    pub tolerance_deg: f64,
    /// Sites to suggest (suggestions only).
    pub sites: usize,
}

impl CoverageQuery {
    /// A query for `regions` with no filters and default options.
    pub fn new(regions: RegionSet) -> CoverageQuery {
        CoverageQuery {
            regions,
            need: Need::default(),
            threshold_km: DEFAULT_THRESHOLD_KM,
            catchment_km: DEFAULT_CATCHMENT_KM,
            decay: Decay::Gaussian,
            tolerance_deg: DEFAULT_TOLERANCE_DEG,
            sites: DEFAULT_SITES,
        }
    }

    /// Parses the parameters of `GET /v1/coverage` (and `refmatch
    /// coverage`): `by`, `resolution`, `bbox`, `issue`, `language`,
    /// `open_24h`, `kind`, `exclude`, `population`, `include_hotlines`,
    /// `threshold_km`, `catchment_km`, `decay`, `tolerance`, and for
    /// [`Purpose::Suggest`] also `sites`. Multi-valued parameters may
    /// repeat or hold comma-separated values. Names in `ignored` (e.g.
    /// `format`) are skipped; any other unknown name is an error.
    ///
    /// # Errors
    /// [`QueryError`] naming the parameter and what is valid.
    pub fn parse<'p>(
        params: impl IntoIterator<Item = (&'p str, &'p str)>,
        ignored: &[&str],
        purpose: Purpose,
        terms: &Terms<'_>,
    ) -> Result<CoverageQuery, QueryError> {
        let mut query = CoverageQuery::new(RegionSet::County);
        let mut by = None;
        let mut resolution = None;
        let mut bbox = None;
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in params {
            if ignored.contains(&name) {
                continue;
            }
            if SINGLE_VALUED.contains(&name) && seen.contains(&name) {
                return Err(QueryError::new(
                    name,
                    format!("'{name}' is given more than once; give it once"),
                ));
            }
            seen.push(name);
            let need = &mut query.need;
            match name {
                "by" => {
                    by = Some(match value.trim().to_ascii_lowercase().as_str() {
                        "state" => "state",
                        "county" => "county",
                        "country" => "country",
                        "h3" => "h3",
                        _ => {
                            return Err(QueryError::new(
                                name,
                                format!("by must be state, county, country or h3, got '{value}'"),
                            ))
                        }
                    })
                }
                "resolution" => {
                    let r = value
                        .trim()
                        .parse::<u8>()
                        .ok()
                        .filter(|r| (MIN_RESOLUTION..=MAX_RESOLUTION).contains(r));
                    resolution = Some(r.ok_or_else(|| {
                        QueryError::new(
                            name,
                            format!("resolution must be a whole number from {MIN_RESOLUTION} to {MAX_RESOLUTION}, got '{value}'"),
                        )
                    })?);
                }
                "bbox" => bbox = Some(parse_bbox(value)?),
                "issue" => {
                    for code in values(name, value, need.issues.len())? {
                        let code = terms.issue(code)?;
                        if !need.issues.contains(&code) {
                            need.issues.push(code);
                        }
                    }
                }
                "language" => {
                    for text in values(name, value, need.languages.len())? {
                        let code = terms.language(text)?;
                        if !need.languages.contains(&code) {
                            need.languages.push(code);
                        }
                    }
                }
                "population" => {
                    for code in values(name, value, need.populations.len())? {
                        let code = terms.population(code)?;
                        if !need.populations.contains(&code) {
                            need.populations.push(code);
                        }
                    }
                }
                "kind" | "exclude" => {
                    let list = if name == "kind" {
                        &mut need.kinds
                    } else {
                        &mut need.exclude
                    };
                    for code in values(name, value, list.len())? {
                        let kind = Kind::parse(code).ok_or_else(|| {
                            QueryError::new(
                                name,
                                format!(
                                    "'{code}' is not a kind; use one of {}",
                                    Kind::ALL.map(Kind::code).join(", ")
                                ),
                            )
                        })?;
                        if !list.contains(&kind) {
                            list.push(kind);
                        }
                    }
                }
                "open_24h" => need.open_24h = boolean(name, value)?,
                "include_hotlines" => need.include_hotlines = boolean(name, value)?,
                "threshold_km" => {
                    query.threshold_km = bounded(name, value, MAX_THRESHOLD_KM)?;
                }
                "catchment_km" if purpose == Purpose::Report => {
                    query.catchment_km = bounded(name, value, MAX_CATCHMENT_KM)?;
                }
                "decay" if purpose == Purpose::Report => {
                    query.decay = Decay::parse(value).ok_or_else(|| {
                        QueryError::new(
                            name,
                            format!("decay must be gaussian or binary, got '{value}'"),
                        )
                    })?;
                }
                "tolerance" if purpose == Purpose::Report => {
                    let t = number(name, value)?;
                    if !(0.0..=MAX_TOLERANCE_DEG).contains(&t) {
                        return Err(QueryError::new(
                            name,
                            format!("tolerance must be from 0 to {MAX_TOLERANCE_DEG} degrees, got {value}"),
                        ));
                    }
                    query.tolerance_deg = t;
                }
                "sites" if purpose == Purpose::Suggest => {
                    let sites = value
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|s| (1..=MAX_SITES).contains(s));
                    query.sites = sites.ok_or_else(|| {
                        QueryError::new(
                            name,
                            format!(
                                "sites must be a whole number from 1 to {MAX_SITES}, got '{value}'"
                            ),
                        )
                    })?;
                }
                other => {
                    let table = match purpose {
                        Purpose::Report => COVERAGE_PARAMETERS,
                        Purpose::Suggest => SUGGEST_PARAMETERS,
                    };
                    let mut known: Vec<&str> = table.iter().map(|p| p.name).collect();
                    known.extend(ignored);
                    return Err(QueryError::new(
                        other,
                        format!("unknown parameter '{other}'; known: {}", known.join(", ")),
                    ));
                }
            }
        }
        query.regions = match by.unwrap_or("county") {
            "state" => RegionSet::State,
            "country" => RegionSet::Country,
            "h3" => RegionSet::H3 {
                resolution: resolution.unwrap_or(5),
                bbox,
            },
            _ => RegionSet::County,
        };
        if !matches!(query.regions, RegionSet::H3 { .. }) {
            for (given, parameter) in [
                (resolution.is_some(), "resolution"),
                (bbox.is_some(), "bbox"),
            ] {
                if given {
                    return Err(QueryError::new(
                        parameter,
                        format!("{parameter} applies only to by=h3"),
                    ));
                }
            }
        }
        Ok(query)
    }
}

/// Parameters that may appear only once.
const SINGLE_VALUED: [&str; 10] = [
    "by",
    "resolution",
    "bbox",
    "open_24h",
    "include_hotlines",
    "threshold_km",
    "catchment_km",
    "decay",
    "tolerance",
    "sites",
];

/// Every parameter [`CoverageQuery::parse`] reads for a report (the HTTP
/// handler adds `format`).
pub const COVERAGE_PARAMETERS: &[ParameterDoc] = &[
    ParameterDoc { name: "by", schema_type: "string", description: "Region set: state (50 states, DC, territories), county (default; all counties incl. territories), country, or h3. Budget: people points (regions plus populated places) × matching providers at most 1,000,000,000 per request; beyond it the answer is 422 naming by." },
    ParameterDoc { name: "resolution", schema_type: "integer", description: "H3 resolution 3 to 8 for by=h3 (default 5). Budget: at most 80,000 cells per request, estimated as the area over the cell area: resolution 5 covers the contiguous US, 6 about 2.9 million km², 7 about 410,000 km², 8 about 59,000 km². Beyond it the answer is 422 naming resolution (without bbox) or bbox." },
    ParameterDoc { name: "bbox", schema_type: "string", description: "Area for by=h3: west,south,east,north in degrees (west < east). Default: the contiguous US (48 states and DC). Its cells at the resolution count against the budget of 80,000 cells per request (422 naming bbox beyond it)." },
    ParameterDoc { name: "issue", schema_type: "string", description: "Issue codes (repeat or comma-separate); a parent such as trafficking includes its children." },
    ParameterDoc { name: "language", schema_type: "string", description: "Languages the provider must speak (any of): ISO 639-1 codes or English names." },
    ParameterDoc { name: "open_24h", schema_type: "boolean", description: "Only providers reachable around the clock." },
    ParameterDoc { name: "kind", schema_type: "string", description: "Kinds to count (any of), e.g. service_provider; default: every kind but hotline." },
    ParameterDoc { name: "exclude", schema_type: "string", description: "Kinds to leave out, e.g. law_enforcement." },
    ParameterDoc { name: "population", schema_type: "string", description: "Populations the provider must serve (any of), e.g. minors." },
    ParameterDoc { name: "include_hotlines", schema_type: "boolean", description: "Count hotlines too (default false: national hotlines serve everywhere and would hide every gap)." },
    ParameterDoc { name: "threshold_km", schema_type: "number", description: "Gap threshold in km (above 0, at most 1000; default 60): beyond it with no serving provider a region is far." },
    ParameterDoc { name: "catchment_km", schema_type: "number", description: "2SFCA catchment in km (above 0, at most 500; default 60)." },
    ParameterDoc { name: "decay", schema_type: "string", description: "2SFCA distance decay: gaussian (default, Dai 2010) or binary (Luo and Wang 2003)." },
    ParameterDoc { name: "tolerance", schema_type: "number", description: "Outline simplification tolerance in degrees (0 to 1, default 0.01; 0 keeps outlines as they are)." },
];

/// Every parameter [`CoverageQuery::parse`] reads for suggestions.
pub const SUGGEST_PARAMETERS: &[ParameterDoc] = &[
    COVERAGE_PARAMETERS[0],
    COVERAGE_PARAMETERS[1],
    COVERAGE_PARAMETERS[2],
    COVERAGE_PARAMETERS[3],
    COVERAGE_PARAMETERS[4],
    COVERAGE_PARAMETERS[5],
    COVERAGE_PARAMETERS[6],
    COVERAGE_PARAMETERS[7],
    COVERAGE_PARAMETERS[8],
    COVERAGE_PARAMETERS[9],
    ParameterDoc {
        name: "threshold_km",
        schema_type: "number",
        description: "Gap threshold in km (above 0, at most 1000; default 60): a site brings the unserved people within it. Budget: candidate sites × people points within threshold_km of each (estimated from the area) at most 200,000,000 per request; beyond it the answer is 422 naming threshold_km.",
    },
    ParameterDoc {
        name: "sites",
        schema_type: "integer",
        description: "Sites to suggest, 1 to 100 (default 10).",
    },
];

fn parse_bbox(value: &str) -> Result<[f64; 4], QueryError> {
    let bad = |why: &str| {
        QueryError::new(
            "bbox",
            format!("bbox must be west,south,east,north in degrees ({why}), got '{value}'"),
        )
    };
    let parts: Vec<f64> = value
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("four numbers"))?;
    let [west, south, east, north] = parts[..] else {
        return Err(bad("four numbers"));
    };
    if !parts.iter().all(|p| p.is_finite()) {
        return Err(bad("four numbers"));
    }
    if !((-180.0..=180.0).contains(&west) && (-180.0..=180.0).contains(&east)) {
        return Err(bad("longitudes from -180 to 180"));
    }
    if !((-90.0..=90.0).contains(&south) && (-90.0..=90.0).contains(&north)) {
        return Err(bad("latitudes from -90 to 90"));
    }
    if west >= east || south >= north {
        return Err(bad("west < east and south < north"));
    }
    Ok([west, south, east, north])
}

/// A number of km above 0 and at most `max`.
fn bounded(name: &str, value: &str, max: f64) -> Result<f64, QueryError> {
    let km = number(name, value)?;
    if !(km > 0.0 && km <= max) {
        return Err(QueryError::new(
            name,
            format!("{name} must be more than 0 and at most {max} km, got {value}"),
        ));
    }
    Ok(km)
}
