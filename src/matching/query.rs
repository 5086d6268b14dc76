//! The match query: what the caller needs and where they are, parsed and
//! checked from the string parameters the HTTP API and the CLI receive.

use crate::gazetteer::Gazetteer;
use crate::model::need::parameter;
use crate::model::{check_parameters, number, LatLng, Need, TermResolver, Vocabulary};
pub use crate::model::{ParameterDoc, QueryError, MAX_RADIUS_KM, MAX_VALUES};
use jiff::Timestamp;

/// Results returned when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 10;
/// Most results one query may ask for.
pub const MAX_LIMIT: usize = 100;

/// Where the caller is.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// Coordinates in degrees.
    Point(LatLng),
    /// Free text for the gazetteer ("Fresno, CA", "93721", "Lima, Peru").
    Near(String),
}

/// A filter that may be relaxed when too few results satisfy every filter.
/// `issue`, `exclude` and `radius_km` are never relaxed. `warm_transfer`
/// and `accepting` are staff-only filters (see [`Query::staff_only`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relaxable {
    /// `warm_transfer`: open now, accepting, a direct line, the caller's
    /// language (see `matching::WarmTransfer`).
    WarmTransfer,
    /// `language`.
    Language,
    /// `open_now`.
    OpenNow,
    /// `open_24h`.
    #[serde(rename = "open_24h")]
    Open24h,
    /// `population`.
    Population,
    /// `accepting`: capacity above zero, or unknown (flagged).
    Accepting,
}

impl Relaxable {
    /// The order filters are given up in, one more at a time.
    /// `warm_transfer` is given up first (its parts stay as their own
    /// filters when asked), `accepting` last: a provider with no room
    /// cannot take the caller at all.
    pub const ORDER: [Relaxable; 6] = [
        Relaxable::WarmTransfer,
        Relaxable::Language,
        Relaxable::OpenNow,
        Relaxable::Open24h,
        Relaxable::Population,
        Relaxable::Accepting,
    ];

    /// The query parameter's name.
    pub fn parameter(self) -> &'static str {
        match self {
            Relaxable::Language => "language",
            Relaxable::OpenNow => "open_now",
            Relaxable::Open24h => "open_24h",
            Relaxable::Population => "population",
            Relaxable::WarmTransfer => "warm_transfer",
            Relaxable::Accepting => "accepting",
        }
    }
}

/// A checked match query. Build it with [`Query::parse`] (string
/// parameters) or directly.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Where the caller is.
    pub place: Place,
    /// What help is needed: issues, languages, populations, 24-hour
    /// capacity and kinds to leave out (a match takes no `kind`).
    pub need: Need,
    /// Require the provider to be open at `at` (or now), in its own zone.
    pub open_now: bool,
    /// The instant `open_now` is evaluated at; `None` means now.
    pub at: Option<Timestamp>,
    /// Largest distance in km for providers with a location; hotlines
    /// without one are not affected.
    pub radius_km: Option<f64>,
    /// Most results, 1–[`MAX_LIMIT`].
    pub limit: usize,
    /// Staff only: keep providers with room (fresh capacity above zero)
    /// or whose capacity is unknown (flagged).
    pub accepting: bool,
    /// Staff only: keep providers that can take a warm transfer now
    /// (open, accepting, a direct line, the caller's language).
    pub warm_transfer: bool,
}

impl Query {
    /// A query at `place` with no filters and the default limit.
    pub fn at_place(place: Place) -> Query {
        Query {
            place,
            need: Need::default(),
            open_now: false,
            at: None,
            radius_km: None,
            limit: DEFAULT_LIMIT,
            accepting: false,
            warm_transfer: false,
        }
    }

    /// The staff-only parameters this query sets (`accepting`,
    /// `warm_transfer`): the public and `provider` keys may not send them
    /// (the API answers 403 naming the first).
    pub fn staff_only(&self) -> Vec<&'static str> {
        let mut named = Vec::new();
        if self.accepting {
            named.push("accepting");
        }
        if self.warm_transfer {
            named.push("warm_transfer");
        }
        named
    }

    /// The filters of this query that [`Relaxable::ORDER`] could give up.
    pub fn relaxable(&self) -> Vec<Relaxable> {
        Relaxable::ORDER
            .into_iter()
            .filter(|r| match r {
                Relaxable::Language => !self.need.languages.is_empty(),
                Relaxable::OpenNow => self.open_now,
                Relaxable::Open24h => self.need.open_24h,
                Relaxable::Population => !self.need.populations.is_empty(),
                Relaxable::WarmTransfer => self.warm_transfer,
                Relaxable::Accepting => self.accepting,
            })
            .collect()
    }

    /// Parses the parameters of `GET /v1/match` (and `refmatch match`):
    /// `near` or `lat`+`lon`, `issue`, `language`, `open_24h`, `open_now`,
    /// `at`, `exclude`, `population`, `radius_km`, `limit`
    /// ([`MATCH_PARAMETERS`]). Multi-valued parameters may repeat or hold
    /// comma-separated values. Parameters named in `ignored` (e.g.
    /// `format`) are left to the caller; any other unknown name, or a
    /// single-valued parameter given twice, is an error, so a typo never
    /// silently widens a search.
    ///
    /// # Errors
    /// [`QueryError`] naming the parameter and what is valid.
    pub fn parse<'p>(
        params: impl IntoIterator<Item = (&'p str, &'p str)>,
        ignored: &[&str],
        terms: &Terms<'_>,
    ) -> Result<Query, QueryError> {
        let params: Vec<(&str, &str)> = params.into_iter().collect();
        check_parameters(&params, MATCH_PARAMETERS, ignored)?;
        let mut near = None;
        let mut lat = None;
        let mut lon = None;
        let mut query = Query::at_place(Place::Near(String::new()));
        for (name, value) in params {
            if ignored.contains(&name) || query.need.read(name, value, terms)? {
                continue;
            }
            match name {
                "near" => near = Some(value.trim().to_owned()),
                "lat" => lat = Some(number(name, value)?),
                "lon" => lon = Some(number(name, value)?),
                "open_now" => query.open_now = crate::model::boolean(name, value)?,
                "accepting" => query.accepting = crate::model::boolean(name, value)?,
                "warm_transfer" => query.warm_transfer = crate::model::boolean(name, value)?,
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
                // check_parameters let through only names of the table.
                _ => {}
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

/// Every parameter [`Query::parse`] reads: the one table that checks the
/// parameters, documents them (OpenAPI) and lists them in errors.
pub const MATCH_PARAMETERS: &[ParameterDoc] = &[
    ParameterDoc::one("near", "string", "Where the caller is, as free text: 'Fresno, CA', a ZIP code, 'Cook County, IL', 'Lima, Peru' or 'lat,lon'. Give near or lat and lon."),
    ParameterDoc::one("lat", "number", "Caller latitude in degrees (-90 to 90), with lon."),
    ParameterDoc::one("lon", "number", "Caller longitude in degrees (-180 to 180), with lat."),
    parameter::ISSUE,
    parameter::LANGUAGE,
    parameter::OPEN_24H,
    ParameterDoc::one("open_now", "boolean", "Only providers open at 'at' (default: now), in each provider's own time zone."),
    ParameterDoc::one("at", "string", "RFC 3339 instant for open_now, e.g. 2026-03-02T14:30:00-05:00."),
    parameter::EXCLUDE,
    parameter::POPULATION,
    ParameterDoc::one("radius_km", "number", "Largest distance in km (above 0, at most 20000) for providers with a location; hotlines without one are kept."),
    ParameterDoc::one("limit", "integer", "Most results, 1 to 100 (default 10)."),
    ParameterDoc::one("accepting", "boolean", "Staff only (advocate or admin; 403 otherwise): only providers with room, a capacity figure above zero updated within the server's --capacity-fresh-hours of 'at' (default: now), or whose capacity is unknown (none, or stale), flagged as unknown. Relaxed last."),
    ParameterDoc::one("warm_transfer", "boolean", "Staff only (advocate or admin; 403 otherwise): only providers that can take a warm transfer now: open at 'at' (default: now) in their own zone or 24-hour, accepting (as accepting=true), a voice or toll-free line for the caller's country (direct lines included), and the caller's language spoken or via interpreter (met when no language is asked). Relaxed first."),
];

/// The vocabularies a query is checked against: issue and population
/// codes, kinds, and language codes and names.
#[derive(Clone, Copy)]
pub struct Terms<'a> {
    /// Issue and population codes.
    pub vocabulary: &'a Vocabulary,
    /// Languages (ISO 639-1 codes and English names).
    pub gazetteer: &'a Gazetteer,
}

impl TermResolver for Terms<'_> {
    fn vocabulary(&self) -> &Vocabulary {
        self.vocabulary
    }

    /// Reads a language as an ISO 639-1 code (`es`), an ISO 639-3 code
    /// (`spa`) or an English name or alias (`Spanish`, `Farsi`),
    /// case-insensitive, with the gazetteer's one resolver
    /// ([`Gazetteer::language_code`]); suggests close names otherwise.
    fn language(&self, text: &str) -> Result<String, QueryError> {
        if let Some(code) = self.gazetteer.language_code(text) {
            return Ok(code.to_owned());
        }
        let wanted = text.trim().to_lowercase();
        let mut close: Vec<(f64, String)> = self
            .gazetteer
            .languages()
            .iter()
            .filter_map(|l| Some((l, l.iso639_1.as_deref()?)))
            .map(|(l, code)| {
                let name = l.plain_name().to_lowercase();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;
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
            query.need.issues,
            ["trafficking", "domestic_violence", "sexual_assault"]
        );
        assert_eq!(query.need.languages, ["es", "fa"], "repeats collapse");
        assert!(query.need.open_24h && query.open_now);
        assert_eq!(
            query.at,
            Some("2026-03-02T15:00:00Z".parse::<Timestamp>().unwrap())
        );
        assert_eq!(query.need.exclude, [Kind::LawEnforcement]);
        assert_eq!(query.need.populations, ["minors"]);
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
        assert!(query.staff_only().is_empty());
        let staff = Query::parse(
            [
                ("near", "Fresno, CA"),
                ("accepting", "true"),
                ("warm_transfer", "yes"),
            ],
            &[],
            &terms(),
        )
        .unwrap();
        assert_eq!(staff.staff_only(), ["accepting", "warm_transfer"]);
        assert_eq!(
            staff.relaxable(),
            [Relaxable::WarmTransfer, Relaxable::Accepting]
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
                    prop_assert!(query.need.issues.len() <= MAX_VALUES);
                }
                Err(error) => {
                    // The error names a parameter that was given, or the
                    // place when none was; and says what to fix.
                    let named = params.iter().any(|(k, _)| *k == error.parameter)
                        || ["near", "lat", "lon"].contains(&error.parameter.as_str());
                    prop_assert!(named, "{error:?} for {params:?}");
                    prop_assert!(!error.detail.is_empty(), "{error:?}");
                }
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
