//! The coverage query: a need, a region set and options, parsed and checked
//! from the string parameters the HTTP API and the CLI receive.

use super::access::Decay;
use crate::index::{AttributeFilter, Geometry, MAX_RESOLUTION, MIN_RESOLUTION};
use crate::matching::Terms;
use crate::model::need::parameter;
use crate::model::{
    boolean, check_parameters, joined, number, BoundingBox, Kind, Need, ParameterDoc, QueryError,
    Vocabulary,
};

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
    /// H3 cells at `resolution` (3–8) covering `bbox` (which may cross the
    /// antimeridian), or the contiguous US (48 states and DC) when `None`.
    H3 {
        /// H3 resolution, 3–8.
        resolution: u8,
        /// The area; `None`: the contiguous US.
        bbox: Option<BoundingBox>,
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
    /// The need: issues, languages, populations, 24-hour capacity,
    /// kinds to count and kinds to leave out.
    pub need: Need,
    /// Count providers of kind `hotline` too. Off by default: national
    /// hotlines serve everywhere and would hide every gap.
    pub include_hotlines: bool,
    /// Count only records the public may see (set for callers without a
    /// key, so figures never reveal confidential records).
    pub public_only: bool,
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
            include_hotlines: false,
            public_only: false,
            threshold_km: DEFAULT_THRESHOLD_KM,
            catchment_km: DEFAULT_CATCHMENT_KM,
            decay: Decay::Gaussian,
            tolerance_deg: DEFAULT_TOLERANCE_DEG,
            sites: DEFAULT_SITES,
        }
    }

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

    /// The providers counted, as an [`AttributeFilter`]: the need's
    /// ([`AttributeFilter::of_need`]), without hotlines unless
    /// `include_hotlines`, public records only when `public_only`.
    pub fn attribute_filter(&self, vocabulary: &Vocabulary) -> AttributeFilter {
        let filter = AttributeFilter {
            public_only: self.public_only,
            ..AttributeFilter::of_need(&self.need, vocabulary)
        };
        if self.include_hotlines {
            filter
        } else {
            filter.without_kind(Kind::Hotline)
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
        let params: Vec<(&str, &str)> = params.into_iter().collect();
        let table = match purpose {
            Purpose::Report => COVERAGE_PARAMETERS,
            Purpose::Suggest => SUGGEST_PARAMETERS,
        };
        check_parameters(&params, table, ignored)?;
        let mut query = CoverageQuery::new(RegionSet::County);
        let mut by = None;
        let mut resolution = None;
        let mut bbox = None;
        for (name, value) in params {
            if ignored.contains(&name) || query.need.read(name, value, terms)? {
                continue;
            }
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
                "bbox" => bbox = Some(BoundingBox::parse(value)?),
                "include_hotlines" => query.include_hotlines = boolean(name, value)?,
                "threshold_km" => {
                    query.threshold_km = bounded(name, value, MAX_THRESHOLD_KM)?;
                }
                "catchment_km" => {
                    query.catchment_km = bounded(name, value, MAX_CATCHMENT_KM)?;
                }
                "decay" => {
                    query.decay = Decay::parse(value).ok_or_else(|| {
                        QueryError::new(
                            name,
                            format!("decay must be gaussian or binary, got '{value}'"),
                        )
                    })?;
                }
                "tolerance" => {
                    let t = number(name, value)?;
                    if !(0.0..=MAX_TOLERANCE_DEG).contains(&t) {
                        return Err(QueryError::new(
                            name,
                            format!("tolerance must be from 0 to {MAX_TOLERANCE_DEG} degrees, got {value}"),
                        ));
                    }
                    query.tolerance_deg = t;
                }
                "sites" => {
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
                // check_parameters let through only names of the table.
                _ => {}
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

/// Every parameter [`CoverageQuery::parse`] reads for a report (the HTTP
/// handler adds `format`).
pub const COVERAGE_PARAMETERS: &[ParameterDoc] = &joined::<10, 5, 15>(
    NEED_AND_REGIONS,
    [
        ParameterDoc::one("weight", "string", "population (default: gap figures weighted by the people in each region) or demand (staff only; 403 otherwise): US states or counties (by=state or by=county; other region sets are refused with 400 naming by) ranked by recorded unmet demand — matches whose strict answer was empty or needed relaxing, and declined referrals, matching the need (all when no need is given) — beside their population, as application/json."),
        ParameterDoc::one("threshold_km", "number", "Gap threshold in km (above 0, at most 1000; default 60): beyond it with no serving provider a region is far."),
        ParameterDoc::one("catchment_km", "number", "2SFCA catchment in km (above 0, at most 500; default 60)."),
        ParameterDoc::one("decay", "string", "2SFCA distance decay: gaussian (default, Dai 2010) or binary (Luo and Wang 2003)."),
        ParameterDoc::one("tolerance", "number", "Outline simplification tolerance in degrees (0 to 1, default 0.01; 0 keeps outlines as they are)."),
    ],
);

/// Every parameter [`CoverageQuery::parse`] reads for suggestions.
pub const SUGGEST_PARAMETERS: &[ParameterDoc] = &joined::<10, 2, 12>(
    NEED_AND_REGIONS,
    [
        ParameterDoc::one("threshold_km", "number", "Gap threshold in km (above 0, at most 1000; default 60): a site brings the unserved people within it. Budget: candidate sites × people points within threshold_km of each (estimated from the area) at most 200,000,000 per request; beyond it the answer is 422 naming threshold_km."),
        ParameterDoc::one("sites", "integer", "Sites to suggest, 1 to 100 (default 10)."),
    ],
);

/// The parameters reports and suggestions share: the region set and the
/// need.
const NEED_AND_REGIONS: [ParameterDoc; 10] = [
    BY,
    RESOLUTION,
    BBOX,
    parameter::ISSUE,
    parameter::LANGUAGE,
    parameter::OPEN_24H,
    parameter::KIND.described(
        "Kinds to count (any of), e.g. service_provider; default: every kind but hotline.",
    ),
    parameter::EXCLUDE,
    parameter::POPULATION,
    INCLUDE_HOTLINES,
];

const BY: ParameterDoc = ParameterDoc::one("by", "string", "Region set: state (50 states, DC, territories), county (default; all counties incl. territories), country, or h3. Budget: people points (regions plus populated places) × matching providers at most 1,000,000,000 per request; beyond it the answer is 422 naming by.");
const RESOLUTION: ParameterDoc = ParameterDoc::one("resolution", "integer", "H3 resolution 3 to 8 for by=h3 (default 5). Budget: at most 80,000 cells per request, estimated as the area over the cell area: resolution 5 covers the contiguous US, 6 about 2.9 million km², 7 about 410,000 km², 8 about 59,000 km². Beyond it the answer is 422 naming resolution (without bbox) or bbox.");
const BBOX: ParameterDoc = ParameterDoc::one("bbox", "string", "Area for by=h3: minLon,minLat,maxLon,maxLat (west,south,east,north) in degrees; minLon > maxLon crosses the antimeridian. Default: the contiguous US (48 states and DC). Its cells at the resolution count against the budget of 80,000 cells per request (422 naming bbox beyond it).");
const INCLUDE_HOTLINES: ParameterDoc = ParameterDoc::one("include_hotlines", "boolean", "Count hotlines too (default false: national hotlines serve everywhere and would hide every gap).");

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
