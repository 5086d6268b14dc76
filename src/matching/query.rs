//! The match query: what the caller needs and where they are, parsed and
//! checked from the string parameters the HTTP API and the CLI receive.

use crate::gazetteer::Gazetteer;
use crate::model::{Kind, LatLng, Vocabulary};
use jiff::Timestamp;

/// Results returned when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 10;
/// Most results one query may ask for.
pub const MAX_LIMIT: usize = 100;
/// Largest `radius_km` accepted: about half the Earth's circumference, km.
pub const MAX_RADIUS_KM: f64 = 20_000.0;
/// Most values a multi-valued parameter (`issue`, `language`…) may carry.
pub const MAX_VALUES: usize = 32;

/// Where the caller is.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// Coordinates in degrees.
    Point(LatLng),
    /// Free text for the gazetteer ("Fresno, CA", "93721", "Lima, Peru").
    Near(String),
}

/// A filter that may be relaxed when too few results satisfy every filter.
/// `issue`, `exclude` and `radius_km` are never relaxed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relaxable {
    /// `language`.
    Language,
    /// `open_now`.
    OpenNow,
    /// `open_24h`.
    #[serde(rename = "open_24h")]
    Open24h,
    /// `population`.
    Population,
}

impl Relaxable {
    /// The order filters are given up in, one more at a time.
    pub const ORDER: [Relaxable; 4] = [
        Relaxable::Language,
        Relaxable::OpenNow,
        Relaxable::Open24h,
        Relaxable::Population,
    ];

    /// The query parameter's name.
    pub fn parameter(self) -> &'static str {
        match self {
            Relaxable::Language => "language",
            Relaxable::OpenNow => "open_now",
            Relaxable::Open24h => "open_24h",
            Relaxable::Population => "population",
        }
    }
}

/// A checked match query. Build it with [`Query::parse`] (string
/// parameters) or directly.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Where the caller is.
    pub place: Place,
    /// Issue codes as asked; a parent (`trafficking`) also matches its
    /// children. Empty: any issue.
    pub issues: Vec<String>,
    /// ISO 639-1 codes; a provider must speak at least one. Empty: any.
    pub languages: Vec<String>,
    /// Require 24-hour capacity.
    pub open_24h: bool,
    /// Require the provider to be open at `at` (or now), in its own zone.
    pub open_now: bool,
    /// The instant `open_now` is evaluated at; `None` means now.
    pub at: Option<Timestamp>,
    /// Kinds to leave out (e.g. `law_enforcement`).
    pub exclude: Vec<Kind>,
    /// Population codes; a provider must serve at least one. Empty: any.
    pub populations: Vec<String>,
    /// Largest distance in km for providers with a location; hotlines
    /// without one are not affected.
    pub radius_km: Option<f64>,
    /// Most results, 1–[`MAX_LIMIT`].
    pub limit: usize,
}

impl Query {
    /// A query at `place` with no filters and the default limit.
    pub fn at_place(place: Place) -> Query {
        Query {
            place,
            issues: Vec::new(),
            languages: Vec::new(),
            open_24h: false,
            open_now: false,
            at: None,
            exclude: Vec::new(),
            populations: Vec::new(),
            radius_km: None,
            limit: DEFAULT_LIMIT,
        }
    }

    /// The filters of this query that [`Relaxable::ORDER`] could give up.
    pub fn relaxable(&self) -> Vec<Relaxable> {
        Relaxable::ORDER
            .into_iter()
            .filter(|r| match r {
                Relaxable::Language => !self.languages.is_empty(),
                Relaxable::OpenNow => self.open_now,
                Relaxable::Open24h => self.open_24h,
                Relaxable::Population => !self.populations.is_empty(),
            })
            .collect()
    }

    /// Parses the parameters of `GET /v1/match` (and `refmatch match`):
    /// `near` or `lat`+`lon`, `issue`, `language`, `open_24h`, `open_now`,
    /// `at`, `exclude`, `population`, `radius_km`, `limit`. Multi-valued
    /// parameters may repeat or hold comma-separated values. Parameters
    /// named in `ignored` (e.g. `format`) are skipped; any other unknown
    /// name is an error, so a typo never silently widens a search.
    ///
    /// # Errors
    /// [`QueryError`] naming the parameter and what is valid.
    pub fn parse<'p>(
        params: impl IntoIterator<Item = (&'p str, &'p str)>,
        ignored: &[&str],
        terms: &Terms<'_>,
    ) -> Result<Query, QueryError> {
        let mut near = None;
        let mut lat = None;
        let mut lon = None;
        let mut query = Query::at_place(Place::Near(String::new()));
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in params {
            if ignored.contains(&name) {
                continue;
            }
            let single = SINGLE_VALUED.contains(&name);
            if single && seen.contains(&name) {
                return Err(QueryError::new(
                    name,
                    format!("'{name}' is given more than once; give it once"),
                ));
            }
            seen.push(name);
            match name {
                "near" => near = Some(value.trim().to_owned()),
                "lat" => lat = Some(number(name, value)?),
                "lon" => lon = Some(number(name, value)?),
                "issue" => {
                    for code in values(name, value, query.issues.len())? {
                        query.issues.push(terms.issue(code)?);
                    }
                }
                "language" => {
                    for text in values(name, value, query.languages.len())? {
                        let code = terms.language(text)?;
                        if !query.languages.contains(&code) {
                            query.languages.push(code);
                        }
                    }
                }
                "population" => {
                    for code in values(name, value, query.populations.len())? {
                        query.populations.push(terms.population(code)?);
                    }
                }
                "exclude" => {
                    for code in values(name, value, query.exclude.len())? {
                        let kind = Kind::parse(code).ok_or_else(|| {
                            QueryError::new(
                                name,
                                format!(
                                    "'{code}' is not a kind; use one of {}",
                                    Kind::ALL.map(Kind::code).join(", ")
                                ),
                            )
                        })?;
                        if !query.exclude.contains(&kind) {
                            query.exclude.push(kind);
                        }
                    }
                }
                "open_24h" => query.open_24h = boolean(name, value)?,
                "open_now" => query.open_now = boolean(name, value)?,
                "at" => {
                    let instant = value.trim().parse::<Timestamp>().map_err(|_| {
                        QueryError::new(
                            name,
                            format!(
                                "'{value}' is not an RFC 3339 instant; write e.g. 2026-03-02T14:30:00-05:00 or 2026-03-02T19:30:00Z"
                            ),
                        )
                    })?;
                    query.at = Some(instant);
                }
                "radius_km" => {
                    let km = number(name, value)?;
                    if !(km > 0.0 && km <= MAX_RADIUS_KM) {
                        return Err(QueryError::new(
                            name,
                            format!("radius_km must be more than 0 and at most {MAX_RADIUS_KM}, got {value}"),
                        ));
                    }
                    query.radius_km = Some(km);
                }
                "limit" => {
                    let limit = value
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|l| (1..=MAX_LIMIT).contains(l));
                    query.limit = limit.ok_or_else(|| {
                        QueryError::new(
                            name,
                            format!(
                                "limit must be a whole number from 1 to {MAX_LIMIT}, got '{value}'"
                            ),
                        )
                    })?;
                }
                other => {
                    let mut known: Vec<&str> = MATCH_PARAMETERS.iter().map(|p| p.name).collect();
                    known.extend(ignored);
                    return Err(QueryError::new(
                        other,
                        format!("unknown parameter '{other}'; known: {}", known.join(", ")),
                    ));
                }
            }
        }
        query.place = match (near, lat, lon) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(QueryError::new(
                    "near",
                    "give either near or lat and lon, not both",
                ))
            }
            (Some(text), None, None) if text.is_empty() => {
                return Err(QueryError::new(
                    "near",
                    "near is empty: give a place such as 'Fresno, CA', a ZIP code or 'lat,lon'",
                ))
            }
            (Some(text), None, None) => Place::Near(text),
            (None, Some(lat), Some(lon)) => {
                Place::Point(
                    LatLng::new(lat, lon).map_err(|e| QueryError::new(e.field(), e.to_string()))?,
                )
            }
            (None, Some(_), None) => return Err(QueryError::new("lon", "lat is given without lon; give both, in degrees")),
            (None, None, Some(_)) => return Err(QueryError::new("lat", "lon is given without lat; give both, in degrees")),
            (None, None, None) => {
                return Err(QueryError::new(
                    "near",
                    "say where the caller is: near=<place, ZIP or 'lat,lon'> or lat=<degrees>&lon=<degrees>",
                ))
            }
        };
        Ok(query)
    }
}

/// Parameters that may appear only once.
const SINGLE_VALUED: [&str; 8] = [
    "near",
    "lat",
    "lon",
    "open_24h",
    "open_now",
    "at",
    "radius_km",
    "limit",
];

/// A query parameter as documented (in the OpenAPI document and `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParameterDoc {
    /// Parameter name.
    pub name: &'static str,
    /// JSON Schema type: `string`, `number`, `integer` or `boolean`.
    pub schema_type: &'static str,
    /// What it means, with units.
    pub description: &'static str,
}

/// Every parameter [`Query::parse`] reads.
pub const MATCH_PARAMETERS: &[ParameterDoc] = &[
    ParameterDoc { name: "near", schema_type: "string", description: "Where the caller is, as free text: 'Fresno, CA', a ZIP code, 'Cook County, IL', 'Lima, Peru' or 'lat,lon'. Give near or lat and lon." },
    ParameterDoc { name: "lat", schema_type: "number", description: "Caller latitude in degrees (-90 to 90), with lon." },
    ParameterDoc { name: "lon", schema_type: "number", description: "Caller longitude in degrees (-180 to 180), with lat." },
    ParameterDoc { name: "issue", schema_type: "string", description: "Issue codes (repeat or comma-separate); a parent such as trafficking includes its children. See /v1/vocabulary." },
    ParameterDoc { name: "language", schema_type: "string", description: "Languages the provider must speak (any of): ISO 639-1 codes or English names such as Spanish." },
    ParameterDoc { name: "open_24h", schema_type: "boolean", description: "Only providers reachable around the clock." },
    ParameterDoc { name: "open_now", schema_type: "boolean", description: "Only providers open at 'at' (default: now), in each provider's own time zone." },
    ParameterDoc { name: "at", schema_type: "string", description: "RFC 3339 instant for open_now, e.g. 2026-03-02T14:30:00-05:00." },
    ParameterDoc { name: "exclude", schema_type: "string", description: "Kinds to leave out, e.g. law_enforcement (repeat or comma-separate)." },
    ParameterDoc { name: "population", schema_type: "string", description: "Populations the provider must serve (any of), e.g. minors, lgbtq." },
    ParameterDoc { name: "radius_km", schema_type: "number", description: "Largest distance in km (above 0, at most 20000) for providers with a location; hotlines without one are kept." },
    ParameterDoc { name: "limit", schema_type: "integer", description: "Most results, 1 to 100 (default 10)." },
];

/// Why a query was rejected: the parameter and what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{detail}")]
pub struct QueryError {
    /// The parameter at fault.
    pub parameter: String,
    /// What is wrong and what is valid.
    pub detail: String,
}

impl QueryError {
    /// An error about `parameter`.
    pub fn new(parameter: &str, detail: impl Into<String>) -> QueryError {
        QueryError {
            parameter: parameter.to_owned(),
            detail: detail.into(),
        }
    }
}

/// The vocabularies a query is checked against: issue and population
/// codes, kinds, and language codes and names.
#[derive(Clone, Copy)]
pub struct Terms<'a> {
    /// Issue and population codes.
    pub vocabulary: &'a Vocabulary,
    /// Languages (ISO 639-1 codes and English names).
    pub gazetteer: &'a Gazetteer,
}

/// English names people use for languages that ISO 639 names otherwise.
const LANGUAGE_ALIASES: &[(&str, &str)] = &[
    ("farsi", "fa"),
    ("greek", "el"),
    ("haitian creole", "ht"),
    ("creole", "ht"),
    ("mandarin", "zh"),
    ("cantonese", "zh"),
    ("filipino", "tl"),
    ("tagalog", "tl"),
    ("swahili", "sw"),
    ("malay", "ms"),
    ("nepali", "ne"),
    ("punjabi", "pa"),
    ("panjabi", "pa"),
];

impl Terms<'_> {
    /// Checks an issue code (case-insensitive).
    ///
    /// # Errors
    /// [`QueryError`] listing the known codes.
    pub fn issue(&self, text: &str) -> Result<String, QueryError> {
        let code = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        match self.vocabulary.issue(&code) {
            Some(term) => Ok(term.code.clone()),
            None => Err(QueryError::new(
                "issue",
                format!(
                    "'{text}' is not an issue code; use one of {}",
                    self.vocabulary
                        .issues
                        .iter()
                        .map(|t| t.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    /// Checks a population code (case-insensitive).
    ///
    /// # Errors
    /// [`QueryError`] listing the known codes.
    pub fn population(&self, text: &str) -> Result<String, QueryError> {
        let code = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        if self.vocabulary.has_population(&code) {
            return Ok(code);
        }
        Err(QueryError::new(
            "population",
            format!(
                "'{text}' is not a population code; use one of {}",
                self.vocabulary
                    .populations
                    .iter()
                    .map(|t| t.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }

    /// Reads a language as an ISO 639-1 code (`es`), an ISO 639-3 code
    /// (`spa`) or an English name (`Spanish`, `Farsi`), case-insensitive.
    ///
    /// # Errors
    /// [`QueryError`] with close names when nothing matches.
    pub fn language(&self, text: &str) -> Result<String, QueryError> {
        let wanted = text.trim().to_lowercase();
        if let Some(code) = self
            .gazetteer
            .language(&wanted)
            .and_then(|l| l.iso639_1.as_deref())
        {
            return Ok(code.to_owned());
        }
        if let Some((_, code)) = LANGUAGE_ALIASES.iter().find(|(name, _)| *name == wanted) {
            return Ok((*code).to_owned());
        }
        let with_code = || {
            self.gazetteer
                .languages()
                .iter()
                .filter_map(|l| Some((l, l.iso639_1.as_deref()?)))
        };
        let plain = |l: &crate::gazetteer::Language| l.plain_name().to_lowercase();
        let mut close: Vec<(f64, String)> = with_code()
            .map(|(l, code)| {
                let name = plain(l);
                (
                    strsim::jaro_winkler(&wanted, &name),
                    format!("{} ({code})", l.name),
                )
            })
            .filter(|(score, _)| *score > 0.85)
            .collect();
        close.sort_by(|a, b| b.0.total_cmp(&a.0));
        let hint = if close.is_empty() {
            String::new()
        } else {
            format!(
                "; did you mean {}?",
                close
                    .into_iter()
                    .take(3)
                    .map(|(_, n)| n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        Err(QueryError::new(
            "language",
            format!("'{text}' is not a known language; use an ISO 639-1 code such as es or an English name such as Spanish{hint}"),
        ))
    }
}

/// A finite number, or a [`QueryError`] on `name`.
pub(crate) fn number(name: &str, value: &str) -> Result<f64, QueryError> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| QueryError::new(name, format!("{name} must be a number, got '{value}'")))
}

/// `true`/`1`/`yes`/empty or `false`/`0`/`no`, or a [`QueryError`] on `name`.
pub(crate) fn boolean(name: &str, value: &str) -> Result<bool, QueryError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(QueryError::new(
            name,
            format!("{name} must be true or false, got '{value}'"),
        )),
    }
}

/// Splits a comma-separated value, checking that the total count stays
/// within [`MAX_VALUES`].
pub(crate) fn values<'v>(
    name: &str,
    value: &'v str,
    already: usize,
) -> Result<Vec<&'v str>, QueryError> {
    let parts: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(QueryError::new(
            name,
            format!("{name} is empty; give at least one value or leave it out"),
        ));
    }
    if already + parts.len() > MAX_VALUES {
        return Err(QueryError::new(
            name,
            format!("at most {MAX_VALUES} values of {name} are accepted"),
        ));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn terms() -> Terms<'static> {
        static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
        static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
        Terms {
            gazetteer: GAZETTEER.get_or_init(|| Gazetteer::bundled().unwrap()),
            vocabulary: VOCABULARY.get_or_init(|| Vocabulary::bundled().unwrap()),
        }
    }

    #[test]
    fn parses_every_parameter() {
        let query = Query::parse(
            [
                ("near", " Fresno, CA "),
                ("issue", "trafficking,domestic_violence"),
                ("issue", "Sexual-Assault"),
                ("language", "Spanish,fa"),
                ("language", "spa"),
                ("open_24h", "yes"),
                ("open_now", "1"),
                ("at", "2026-03-02T10:00:00-05:00"),
                ("exclude", "law-enforcement"),
                ("population", "minors"),
                ("radius_km", "150.5"),
                ("limit", "25"),
                ("format", "json"),
            ],
            &["format"],
            &terms(),
        )
        .unwrap();
        assert_eq!(query.place, Place::Near("Fresno, CA".into()));
        assert_eq!(
            query.issues,
            ["trafficking", "domestic_violence", "sexual_assault"]
        );
        assert_eq!(query.languages, ["es", "fa"], "repeats collapse");
        assert!(query.open_24h && query.open_now);
        assert_eq!(query.exclude, [Kind::LawEnforcement]);
        assert_eq!(query.radius_km, Some(150.5));
        assert_eq!(query.limit, 25);
        assert_eq!(
            query.relaxable(),
            [
                Relaxable::Language,
                Relaxable::OpenNow,
                Relaxable::Open24h,
                Relaxable::Population
            ]
        );
    }

    proptest! {
        /// Any parameters at all give a query or a typed error naming a
        /// parameter, never a panic; an accepted query is within limits.
        #[test]
        fn parse_never_panics(
            params in proptest::collection::vec(
                (
                    prop_oneof![
                        Just("near".to_owned()), Just("lat".to_owned()), Just("lon".to_owned()),
                        Just("issue".to_owned()), Just("language".to_owned()),
                        Just("limit".to_owned()), Just("radius_km".to_owned()),
                        Just("at".to_owned()), Just("open_now".to_owned()),
                        Just("exclude".to_owned()), "[a-z_]{0,8}",
                    ],
                    ".{0,40}",
                ),
                0..8,
            )
        ) {
            let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            match Query::parse(pairs, &[], &terms()) {
                Ok(query) => {
                    prop_assert!((1..=MAX_LIMIT).contains(&query.limit));
                    prop_assert!(query.radius_km.is_none_or(|r| r > 0.0 && r <= MAX_RADIUS_KM));
                    prop_assert!(query.issues.len() <= MAX_VALUES);
                }
                Err(error) => prop_assert!(error.detail.len() > 10, "{error:?}"),
            }
        }
    }

    #[test]
    fn relaxable_filters_serialise_as_their_parameter_names() {
        for relaxable in Relaxable::ORDER {
            assert_eq!(
                serde_json::to_value(relaxable).unwrap(),
                relaxable.parameter()
            );
        }
    }
}
