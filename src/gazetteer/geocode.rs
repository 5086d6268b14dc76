//! Forward geocoding: free text as an advocate types it → a position with
//! an honest precision.
//!
//! Accepted forms, tried in this order:
//! 1. `lat,lon` (or `lat lon`) in decimal degrees → `point`;
//! 2. a ZIP or ZIP+4 anywhere at the end ("City ST 12345", a full street
//!    address) → `postal_code`, with a note when street detail was dropped;
//! 3. comma-separated parts read from the right: an optional country, an
//!    optional US state or territory, then the subject (a place, a county,
//!    a state or a country); leading parts such as a street are ignored and
//!    the answer says so;
//! 4. without commas, the whole text as a subject, else its last one to
//!    three words as the qualifier ("San Juan PR", "Lima Peru").
//!
//! A subject alone is read as a US state or territory first, then a
//! country (or one of the UK's constituent countries), a county (with its
//! type word: "Cook County"), then a place. The most populous match wins and
//! the others come back as `alternatives`.
//!
//! Countries go by their ISO names, their common, short and former names
//! ("Syria", "Burma", "Holland", "DR Congo") and their Spanish, French and
//! Portuguese names ("Suiza", "Royaume-Uni"); see `names.rs`. **When the
//! text names a country, the answer lies in that country or is a 404** whose
//! suggestions lie there too: "London, England" is in England, and a US
//! place named like a country (England, AR; Scotland, PA; Holland, MI)
//! answers only with US context: a state ("England, AR"), a ZIP or "USA".
//! "Congo" names two countries: as a qualifier the one that holds the place
//! wins ("Brazzaville, Congo", "Kinshasa, Congo"); alone it is the
//! Democratic Republic of the Congo (the more populous, and the one callers
//! mostly mean), with the Republic of the Congo as the alternative.

use super::names::{self, Subdivision};
use super::{
    is_us_or_territory, normalize, Country, County, Gazetteer, Place, State, Zip, COUNTY_TYPES,
};
use crate::model::{LatLng, LatLngError, Precision};
use serde::Serialize;

/// The longest query accepted, in characters. Addresses are far shorter;
/// this bounds the work a request can cause.
pub const MAX_QUERY_CHARS: usize = 256;

/// How many alternatives an answer lists at most.
const MAX_ALTERNATIVES: usize = 10;

/// How many close spellings a not-found answer suggests at most.
const MAX_SUGGESTIONS: usize = 5;

/// Everyday names the source data does not carry, as normalised key →
/// query to geocode instead.
const ALIASES: &[(&str, &str)] = &[
    ("nyc", "New York City, NY"),
    ("new york city", "New York City, NY"),
    ("la", "Los Angeles, CA"),
    ("sf", "San Francisco, CA"),
    ("washington dc", "Washington, DC"),
    ("dc", "Washington, DC"),
    ("district of columbia", "Washington, DC"),
    ("usa", "United States"),
    ("us", "United States"),
    ("uk", "United Kingdom"),
];

/// Words that join the parts of a country's name ("Trinidad e Tobago").
const CONNECTORS: [&str; 5] = ["and", "y", "e", "et", "&"];

/// How alike (Jaro-Winkler) a qualifier must be to a country name to be
/// read as that country: "vietna" ~ "vietnam" (0.97), "surinam" ~
/// "suriname" (0.98); "salvador" ~ "el salvador" does not qualify.
const COUNTRY_SPELLING_MIN: f64 = 0.92;

/// How alike (Jaro-Winkler) a name must be to a place's name, within a
/// foreign country the text names, to answer with that place:
/// "helsinque" ~ "helsinki" (0.92), "dusambe" ~ "dushanbe".
const PLACE_SPELLING_MIN: f64 = 0.88;

/// The smallest place a close spelling may answer with: large enough that
/// callers name it and a near-miss is unlikely to be another place.
const PLACE_SPELLING_MIN_POPULATION: u64 = 50_000;

/// A place matched by its own name with at least this many people comes
/// before a country that only a Spanish, French or Portuguese name gives
/// ("Granada" is the Spanish city before Grenada).
const FOREIGN_NAME_PLACE_MIN_POPULATION: u64 = 100_000;

/// Why a query could not be geocoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeocodeError {
    /// Nothing but spaces or punctuation.
    #[error("the query is empty: give a place, ZIP code, county, state, country or 'lat,lon'")]
    Empty,
    /// Longer than [`MAX_QUERY_CHARS`].
    #[error("the query is {chars} characters long; at most {max} are accepted")]
    TooLong {
        /// Characters received.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// Holds a control character (other than tab).
    #[error(
        "the query holds a control character (U+{code:04X}) at character {position}; remove it"
    )]
    ControlCharacter {
        /// 1-based character position.
        position: usize,
        /// The character's code point.
        code: u32,
    },
    /// Looked like coordinates but they are invalid.
    #[error("invalid coordinates: {0}")]
    Coordinates(#[from] LatLngError),
    /// Nothing in the gazetteer matches.
    #[error("no place matches '{query}'")]
    NotFound {
        /// The query as given (trimmed).
        query: String,
        /// Close spellings that do exist, most similar first.
        suggestions: Vec<String>,
    },
}

/// One geocoded location.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Location {
    /// Display name, e.g. "Fresno, CA", "Cook County, IL", "Lima, Peru".
    pub name: String,
    /// The position (serialised as `lat`, `lon` in degrees).
    #[serde(flatten)]
    pub point: LatLng,
    /// How precise the position is.
    pub precision: Precision,
    /// ISO 3166-1 alpha-2 country; US territories have their own (PR, GU…).
    pub country: Option<String>,
    /// USPS state or territory code for US locations, else `null`.
    pub region: Option<String>,
    /// Five-digit county FIPS where known.
    pub county_fips: Option<String>,
    /// Population of the place, county or country, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub population: Option<u64>,
}

/// A geocoding answer: the best location and the other readings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Geocoded {
    /// The query as given (trimmed).
    pub query: String,
    /// The best reading.
    #[serde(flatten)]
    pub best: Location,
    /// Other readings, most likely first (e.g. the other Springfields).
    pub alternatives: Vec<Location>,
    /// What was approximated, e.g. a street address placed at its ZIP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What the right-hand part of a query limits the subject to.
#[derive(Debug, Clone, Copy)]
enum Scope<'g> {
    Anywhere,
    State(&'g State),
    Country(&'g Country),
    /// Part of a country: one of the UK's constituent countries.
    Subdivision(&'g Country, &'static Subdivision),
}

impl Gazetteer {
    /// Geocodes free text. See the module documentation for the forms.
    ///
    /// ```
    /// # let gazetteer = refmatch::gazetteer::Gazetteer::bundled().unwrap();
    /// use refmatch::model::Precision;
    /// let fresno = gazetteer.geocode("Fresno, CA").unwrap();
    /// assert_eq!(fresno.best.precision, Precision::Locality);
    /// assert_eq!(fresno.best.county_fips.as_deref(), Some("06019"));
    /// assert_eq!(gazetteer.geocode("93721").unwrap().best.precision, Precision::PostalCode);
    /// ```
    ///
    /// # Errors
    /// [`GeocodeError`]: empty, too long, control characters, invalid
    /// coordinates (400-class), or nothing found with close spellings (404).
    pub fn geocode(&self, query: &str) -> Result<Geocoded, GeocodeError> {
        let query = query.trim();
        let chars = query.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(GeocodeError::TooLong {
                chars,
                max: MAX_QUERY_CHARS,
            });
        }
        if let Some((position, ch)) = query
            .chars()
            .enumerate()
            .find(|(_, c)| c.is_control() && *c != '\t')
        {
            return Err(GeocodeError::ControlCharacter {
                position: position + 1,
                code: u32::from(ch),
            });
        }
        if let Some(coordinates) = parse_coordinates(query) {
            let point = coordinates?;
            return Ok(self.answer(query, self.point_location(point), Vec::new(), None));
        }
        let parts: Vec<String> = query
            .split([',', ';'])
            .map(normalize)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            return Err(GeocodeError::Empty);
        }
        if let Some(found) = self.geocode_zip(query, &parts)? {
            return Ok(found);
        }
        if let Some((_, alias)) = ALIASES.iter().find(|(key, _)| *key == parts.join(" ")) {
            let alias_parts: Vec<String> = alias.split(',').map(normalize).collect();
            return self.geocode_parts(query, &alias_parts);
        }
        self.geocode_parts(query, &parts)
    }

    fn answer(
        &self,
        query: &str,
        best: Location,
        alternatives: Vec<Location>,
        note: Option<String>,
    ) -> Geocoded {
        Geocoded {
            query: query.to_owned(),
            best,
            alternatives,
            note,
        }
    }

    /// A ZIP at the end of the last part, possibly with ZIP+4.
    fn geocode_zip(&self, query: &str, parts: &[String]) -> Result<Option<Geocoded>, GeocodeError> {
        let Some(last) = parts.last() else {
            return Ok(None);
        };
        let words: Vec<&str> = last.split(' ').collect();
        let is_digits = |w: &str, n: usize| w.len() == n && w.bytes().all(|b| b.is_ascii_digit());
        let zip_at = match words.as_slice() {
            [.., zip, plus4] if is_digits(zip, 5) && is_digits(plus4, 4) => words.len() - 2,
            [.., zip] if is_digits(zip, 5) => words.len() - 1,
            _ => return Ok(None),
        };
        let code = words[zip_at];
        let alone = parts.len() == 1 && zip_at == 0;
        match self.zip(code) {
            Some(zip) => {
                let street_dropped = parts.len() > 1
                    && parts[0]
                        .split(' ')
                        .next()
                        .is_some_and(|w| w.bytes().all(|b| b.is_ascii_digit()));
                let note = street_dropped.then(|| {
                    format!(
                        "street-level geocoding is not supported: placed at the centroid of ZIP {}",
                        zip.zip
                    )
                });
                Ok(Some(self.answer(
                    query,
                    self.zip_location(zip),
                    Vec::new(),
                    note,
                )))
            }
            None if alone => Err(GeocodeError::NotFound {
                query: query.to_owned(),
                suggestions: self.nearby_zips(code),
            }),
            // "Springfield, IL 99999": an unknown ZIP, but the rest may resolve.
            None => Ok(None),
        }
    }

    fn geocode_parts(&self, query: &str, parts: &[String]) -> Result<Geocoded, GeocodeError> {
        let mut parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        // Strip a trailing ZIP that did not resolve ("Springfield, IL 99999").
        if let Some(last) = parts.last_mut() {
            let words: Vec<&str> = last.split(' ').collect();
            if words.len() > 1
                && words
                    .iter()
                    .rev()
                    .take(2)
                    .any(|w| w.bytes().all(|b| b.is_ascii_digit()))
            {
                let keep = words
                    .iter()
                    .rposition(|w| !w.bytes().all(|b| b.is_ascii_digit()))
                    .map_or(0, |i| i + 1);
                let trimmed_len = words[..keep].join(" ").len();
                *last = &last[..trimmed_len];
            }
        }
        parts.retain(|p| !p.is_empty());

        let mut note = None;
        let found = if parts.len() == 1 {
            self.resolve_words(parts[0])
        } else {
            // Read qualifiers from the right: [.., subject, state?, country?]
            let mut rest = parts.as_slice();
            let mut scopes = vec![Scope::Anywhere];
            if let [head @ .., last] = rest {
                let as_scope = self.scopes_of(last);
                if !as_scope.is_empty() {
                    scopes = as_scope;
                    rest = head;
                    // "Springfield, IL, USA": a state before a US country.
                    if let (Some(Scope::Country(c)), [head2 @ .., state]) = (scopes.first(), rest) {
                        if is_us_or_territory(&c.iso2) && !head2.is_empty() {
                            if let Some(s) = self.state_by_key(state) {
                                scopes = vec![Scope::State(s)];
                                rest = head2;
                            }
                        }
                    }
                    // "Edinburgh, Scotland, UK": a constituent country
                    // before its country.
                    if let (Some(Scope::Country(c)), [head2 @ .., part]) = (scopes.first(), rest) {
                        let c = *c;
                        if let Some(sub) = names::subdivision(part)
                            .filter(|sub| sub.country == c.iso2 && !head2.is_empty())
                        {
                            scopes = vec![Scope::Subdivision(c, sub)];
                            rest = head2;
                        }
                    }
                }
            }
            match rest {
                [] => {
                    // Only qualifiers, e.g. "California, USA".
                    self.resolve_scoped(parts[0], Scope::Anywhere)
                }
                [.., subject] => {
                    if rest.len() > 1 {
                        note = Some(format!(
                            "only '{subject}' and what follows it were used: street-level geocoding is not supported"
                        ));
                    }
                    let found = scopes
                        .iter()
                        .map(|&scope| self.resolve_scoped(subject, scope))
                        .find(|found| !found.is_empty())
                        .unwrap_or_default();
                    if found.is_empty() {
                        // Abroad, a name spelled the caller's way
                        // ("Helsinque, Finlândia") is the closest spelling
                        // in the country named, and the answer says so.
                        match scopes
                            .iter()
                            .find_map(|&s| self.closest_spelling(subject, s))
                        {
                            Some(location) => {
                                note = Some(format!(
                                    "no place is named '{subject}' there; answered with the closest spelling, {}",
                                    location.name
                                ));
                                vec![location]
                            }
                            None => found,
                        }
                    } else {
                        found
                    }
                }
            }
        };
        let mut found = found.into_iter();
        match found.next() {
            Some(best) => {
                Ok(self.answer(query, best, found.take(MAX_ALTERNATIVES).collect(), note))
            }
            None => Err(GeocodeError::NotFound {
                query: query.to_owned(),
                suggestions: self.suggestions(
                    parts.first().copied().unwrap_or_default(),
                    &self.qualifier_scopes(&parts),
                ),
            }),
        }
    }

    /// The scopes a not-found query's qualifier limits its suggestions to:
    /// the country (or constituent country) it names, if it names one, so
    /// "Fakeville, Peru" suggests only places in Peru.
    fn qualifier_scopes(&self, parts: &[&str]) -> Vec<Scope<'_>> {
        let qualifier = match parts {
            [_, .., last] => (*last).to_owned(),
            [only] => {
                // "Fakeville Peru": the last one to three words.
                let words: Vec<&str> = only.split(' ').collect();
                let scoped = (1..=3.min(words.len().saturating_sub(1))).find_map(|n| {
                    let q = words[words.len() - n..].join(" ");
                    let scopes = self.scopes_of(&q);
                    (!scopes.is_empty()).then_some(scopes)
                });
                return scoped.unwrap_or_else(|| vec![Scope::Anywhere]);
            }
            [] => return vec![Scope::Anywhere],
        };
        let scopes = self.scopes_of(&qualifier);
        if scopes.is_empty() {
            vec![Scope::Anywhere]
        } else {
            scopes
        }
    }

    /// One part without commas: the whole text, else split off a qualifier
    /// of one to three trailing words.
    fn resolve_words(&self, text: &str) -> Vec<Location> {
        let whole = self.resolve_scoped(text, Scope::Anywhere);
        if !whole.is_empty() {
            return whole;
        }
        let words: Vec<&str> = text.split(' ').collect();
        for qualifier_len in 1..=3.min(words.len().saturating_sub(1)) {
            let split = words.len() - qualifier_len;
            let qualifier = words[split..].join(" ");
            let subject = words[..split].join(" ");
            for scope in self.scopes_of(&qualifier) {
                let found = self.resolve_scoped(&subject, scope);
                if !found.is_empty() {
                    return found;
                }
            }
        }
        Vec::new()
    }

    /// Readings of a qualifier, most likely first: a US state or territory,
    /// then a country ("CA" is California before Canada).
    fn scopes_of(&self, key: &str) -> Vec<Scope<'_>> {
        let mut scopes = Vec::new();
        if let Some(state) = self.state_by_key(key) {
            scopes.push(Scope::State(state));
        }
        scopes.extend(self.countries_named(key).into_iter().map(Scope::Country));
        if let Some(sub) = names::subdivision(key) {
            if let Some(country) = self.country(sub.country) {
                scopes.push(Scope::Subdivision(country, sub));
            }
        }
        if scopes.is_empty() {
            // "Trinidad e Tobago", "Bósnia e Herzegovina": without the
            // connecting word; else a close spelling of one country name
            // ("Vietnã", "Burquina Faso", "Surinam").
            let plain: Vec<&str> = key.split(' ').filter(|w| !CONNECTORS.contains(w)).collect();
            let plain = plain.join(" ");
            let countries = if plain == key {
                Vec::new()
            } else {
                self.countries_named(&plain)
            };
            if countries.is_empty() {
                scopes.extend(self.country_by_spelling(&plain).map(Scope::Country));
            } else {
                scopes.extend(countries.into_iter().map(Scope::Country));
            }
        }
        scopes
    }

    /// The one country whose name is spelled most like `key`
    /// (Jaro-Winkler ≥ [`COUNTRY_SPELLING_MIN`], same first letter, at least
    /// four letters), or `None` when no name or two countries are as close.
    fn country_by_spelling(&self, key: &str) -> Option<&Country> {
        let first = key.chars().next()?;
        if key.len() < 4 || key.bytes().any(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut best: Option<(f64, usize)> = None;
        let mut tied = false;
        for (name, &index) in &self.country_keys {
            if name.len() < 4 || !name.starts_with(first) {
                continue;
            }
            let score = strsim::jaro_winkler(key, name);
            if score < COUNTRY_SPELLING_MIN {
                continue;
            }
            match best {
                Some((b, i)) if score < b || (score == b && i == index) => {}
                Some((b, i)) if score == b && i != index => tied = true,
                _ => {
                    best = Some((score, index));
                    tied = false;
                }
            }
        }
        best.filter(|_| !tied).map(|(_, i)| &self.countries[i])
    }

    /// The place of a foreign country (or constituent country) whose name
    /// or alternate name is spelled most like `subject` (Jaro-Winkler ≥
    /// [`PLACE_SPELLING_MIN`], same first letter, at least
    /// [`PLACE_SPELLING_MIN_POPULATION`] people), most populous among the
    /// closest. Never in the US or its territories, where a misspelling
    /// gets suggestions instead.
    fn closest_spelling(&self, subject: &str, scope: Scope<'_>) -> Option<Location> {
        let (iso2, admin1) = match scope {
            Scope::Country(c) if !is_us_or_territory(&c.iso2) => (c.iso2.as_str(), None),
            Scope::Subdivision(c, sub) => (c.iso2.as_str(), Some(sub.admin1)),
            _ => return None,
        };
        let first = subject.chars().next()?;
        if subject.len() < 4 {
            return None;
        }
        let mut best: Option<(f64, u64, usize)> = None;
        for (name, list) in &self.place_keys {
            if !name.starts_with(first) || name.len().abs_diff(subject.len()) > 3 {
                continue;
            }
            let score = strsim::jaro_winkler(subject, name);
            if score < PLACE_SPELLING_MIN {
                continue;
            }
            for &flagged in list {
                let index = (flagged & !super::ALTERNATE_NAME_BIT) as usize;
                let place = &self.places[index];
                if place.country != iso2
                    || admin1.is_some_and(|a| place.admin1 != a)
                    || place.population < PLACE_SPELLING_MIN_POPULATION
                {
                    continue;
                }
                let better = best.is_none_or(|(s, p, i)| {
                    (score, place.population, std::cmp::Reverse(index))
                        > (s, p, std::cmp::Reverse(i))
                });
                if better {
                    best = Some((score, place.population, index));
                }
            }
        }
        best.map(|(_, _, i)| self.place_location(&self.places[i]))
    }

    fn state_by_key(&self, key: &str) -> Option<&State> {
        self.state_keys.get(key).map(|&i| &self.states[i])
    }

    /// Every reading of `subject` within `scope`, best first.
    fn resolve_scoped(&self, subject: &str, scope: Scope<'_>) -> Vec<Location> {
        let mut found = Vec::new();
        let in_scope_state = |code: &str| match scope {
            Scope::Anywhere => true,
            Scope::State(s) => s.code == code,
            Scope::Country(c) => c.iso2 == super::country_of_region(code),
            Scope::Subdivision(..) => false,
        };
        // A state or territory by name or code; but "New York, NY" means
        // the city, so a state named again as its own qualifier comes last.
        let mut restated_state = None;
        if let Some(state) = self.state_by_key(subject) {
            match scope {
                Scope::State(s) if s.code == state.code => restated_state = Some(state),
                _ if in_scope_state(&state.code) => found.push(self.state_location(state)),
                _ => {}
            }
        }
        // A country (or a constituent country), only when nothing narrower
        // scopes it; after a large place of the same name when only a
        // Spanish, French or Portuguese name makes it a country.
        let mut countries = Vec::new();
        if matches!(scope, Scope::Anywhere) {
            countries.extend(
                self.countries_named(subject)
                    .into_iter()
                    .filter_map(|c| self.country_location(c)),
            );
            countries
                .extend(names::subdivision(subject).and_then(|sub| self.subdivision_location(sub)));
        }
        let country_after_places = self.country_foreign_keys.contains(subject)
            && self.place_keys.get(subject).is_some_and(|list| {
                list.iter().any(|&i| {
                    i & super::ALTERNATE_NAME_BIT == 0
                        && self.places[i as usize].population >= FOREIGN_NAME_PLACE_MIN_POPULATION
                })
            });
        if !country_after_places {
            found.append(&mut countries);
        }
        // A county: with its type word ("Cook County") it comes before any
        // place of that name; under a state without it ("Fresno, CA" also
        // names Fresno County) it follows the places.
        let has_type_word = COUNTY_TYPES
            .iter()
            .any(|t| subject.ends_with(&format!(" {t}")));
        let counties: Vec<Location> = if has_type_word || matches!(scope, Scope::State(_)) {
            self.county_keys
                .get(subject)
                .into_iter()
                .flatten()
                .map(|&i| &self.counties[i])
                .filter(|c| in_scope_state(&c.state))
                .map(|c| self.county_location(c))
                .collect()
        } else {
            Vec::new()
        };
        let places = self.places_named(subject, scope);
        if has_type_word {
            found.extend(counties);
            found.extend(places);
        } else {
            found.extend(places);
            found.extend(counties);
        }
        found.extend(restated_state.map(|s| self.state_location(s)));
        found.append(&mut countries);
        dedup(found)
    }

    fn places_named(&self, key: &str, scope: Scope<'_>) -> Vec<Location> {
        let Some(list) = self.place_keys.get(key) else {
            return Vec::new();
        };
        list.iter()
            .map(|&i| &self.places[(i & !super::ALTERNATE_NAME_BIT) as usize])
            .filter(|p| match scope {
                Scope::Anywhere => true,
                Scope::State(s) => p.admin1 == s.code && is_us_or_territory(&p.country),
                Scope::Country(c) => p.country == c.iso2,
                Scope::Subdivision(c, sub) => p.country == c.iso2 && p.admin1 == sub.admin1,
            })
            .map(|p| self.place_location(p))
            .collect()
    }

    /// A location for coordinates given directly, described by reverse
    /// geocoding.
    fn point_location(&self, point: LatLng) -> Location {
        let reverse = self.reverse(point);
        let name = match (&reverse.county, &reverse.region, &reverse.country) {
            (Some(county), Some(region), _) => format!("{county}, {region}"),
            (None, Some(region), _) => region.clone(),
            (None, None, Some(country)) => self
                .country(country)
                .map_or_else(|| country.clone(), |c| c.name.clone()),
            _ => point.to_string(),
        };
        Location {
            name,
            point,
            precision: Precision::Point,
            country: reverse.country,
            region: reverse.region,
            county_fips: reverse.county_fips,
            population: None,
        }
    }

    fn zip_location(&self, zip: &Zip) -> Location {
        Location {
            name: format!("{} {}, {}", zip.zip, zip.place, zip.state),
            point: zip.point,
            precision: Precision::PostalCode,
            country: Some(super::country_of_region(&zip.state).to_owned()),
            region: Some(zip.state.clone()),
            county_fips: zip.county_fips.clone(),
            population: None,
        }
    }

    fn place_location(&self, place: &Place) -> Location {
        let us = is_us_or_territory(&place.country);
        let name = if us {
            format!("{}, {}", place.name, place.admin1)
        } else {
            let country = self
                .country(&place.country)
                .map_or(place.country.as_str(), |c| c.name.as_str());
            format!("{}, {}", place.name, country)
        };
        Location {
            name,
            point: place.point,
            precision: Precision::Locality,
            country: Some(place.country.clone()),
            region: us.then(|| place.admin1.clone()),
            county_fips: place.county_fips.clone(),
            population: Some(place.population),
        }
    }

    fn county_location(&self, county: &County) -> Location {
        Location {
            name: format!("{}, {}", county.full_name, county.state),
            point: county.label,
            precision: Precision::County,
            country: Some(super::country_of_region(&county.state).to_owned()),
            region: Some(county.state.clone()),
            county_fips: Some(county.fips.clone()),
            population: county.population,
        }
    }

    fn state_location(&self, state: &State) -> Location {
        let population = self
            .counties
            .iter()
            .filter(|c| c.state == state.code)
            .filter_map(|c| c.population)
            .sum::<u64>();
        Location {
            name: state.name.clone(),
            point: state.label,
            precision: Precision::Region,
            country: Some(super::country_of_region(&state.code).to_owned()),
            region: Some(state.code.clone()),
            county_fips: None,
            population: Some(population).filter(|p| *p > 0),
        }
    }

    /// A constituent country, at its capital. `None` if the capital is
    /// missing from the places (a data problem).
    fn subdivision_location(&self, sub: &'static Subdivision) -> Option<Location> {
        let country = self.country(sub.country)?;
        let capital = self
            .places_named(&normalize(sub.capital), Scope::Subdivision(country, sub))
            .into_iter()
            .next()?;
        Some(Location {
            name: format!("{}, {}", sub.name, country.name),
            point: capital.point,
            precision: Precision::Region,
            country: Some(country.iso2.clone()),
            region: None,
            county_fips: None,
            population: None,
        })
    }

    /// `None` for the few countries with neither a capital nor an outline.
    fn country_location(&self, country: &Country) -> Option<Location> {
        Some(Location {
            name: country.name.clone(),
            point: country.label?,
            precision: Precision::Country,
            country: Some(country.iso2.clone()),
            region: super::US_TERRITORIES
                .contains(&country.iso2.as_str())
                .then(|| country.iso2.clone()),
            county_fips: None,
            population: country.population,
        })
    }

    /// ZIP codes numerically closest to an unknown one.
    fn nearby_zips(&self, code: &str) -> Vec<String> {
        let Ok(target) = code.parse::<i64>() else {
            return Vec::new();
        };
        let mut near: Vec<(i64, &str)> = self
            .zips
            .keys()
            .filter_map(|z| Some(((z.parse::<i64>().ok()? - target).abs(), z.as_str())))
            .collect();
        near.sort_unstable();
        near.into_iter()
            .take(MAX_SUGGESTIONS)
            .map(|(_, z)| z.to_owned())
            .collect()
    }

    /// Names that are spelled like `key` (Jaro-Winkler ≥ 0.88) and have a
    /// reading within one of `scopes`, shown the way the gazetteer would
    /// answer them.
    fn suggestions(&self, key: &str, scopes: &[Scope<'_>]) -> Vec<String> {
        let words: Vec<&str> = key.split(' ').collect();
        // Try the whole text and, for "Fresnoo CA", the text without a
        // trailing qualifier.
        let mut subjects = vec![key.to_owned()];
        for qualifier_len in 1..=2.min(words.len().saturating_sub(1)) {
            subjects.push(words[..words.len() - qualifier_len].join(" "));
        }
        let mut scored: Vec<(f64, String)> = Vec::new();
        for subject in &subjects {
            let Some(first) = subject.chars().next() else {
                continue;
            };
            let candidates = self
                .place_keys
                .keys()
                .chain(self.state_keys.keys())
                .chain(self.country_keys.keys())
                .chain(self.county_keys.keys());
            for candidate in candidates {
                if !candidate.starts_with(first)
                    || candidate.len().abs_diff(subject.len()) > 3
                    || candidate == subject
                {
                    continue;
                }
                let score = strsim::jaro_winkler(subject, candidate);
                if score >= 0.88 {
                    scored.push((score, candidate.clone()));
                }
            }
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let mut names: Vec<String> = Vec::new();
        for (_, key) in scored {
            let Some(best) = scopes
                .iter()
                .find_map(|&scope| self.resolve_scoped(&key, scope).into_iter().next())
            else {
                continue;
            };
            if !names.contains(&best.name) {
                names.push(best.name);
            }
            if names.len() == MAX_SUGGESTIONS {
                break;
            }
        }
        names
    }
}

/// Drops repeated readings (same name and precision), keeping the first.
fn dedup(found: Vec<Location>) -> Vec<Location> {
    let mut unique: Vec<Location> = Vec::with_capacity(found.len());
    for location in found {
        if !unique
            .iter()
            .any(|u| u.name == location.name && u.precision == location.precision)
        {
            unique.push(location);
        }
    }
    unique
}

/// `Some` when the text is two numbers separated by a comma or spaces,
/// holding the validated position or why it is invalid.
fn parse_coordinates(text: &str) -> Option<Result<LatLng, GeocodeError>> {
    let mut numbers = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty());
    let (lat, lon) = (numbers.next()?, numbers.next()?);
    if numbers.next().is_some() {
        return None;
    }
    let looks_numeric = |t: &str| {
        t.parse::<f64>().is_ok()
            && t.bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
            || matches!(
                t.to_ascii_lowercase().as_str(),
                "nan" | "inf" | "-inf" | "+inf" | "infinity"
            )
    };
    if !(looks_numeric(lat) && looks_numeric(lon)) {
        return None;
    }
    let (lat, lon) = (lat.parse::<f64>().ok()?, lon.parse::<f64>().ok()?);
    Some(LatLng::new(lat, lon).map_err(GeocodeError::from))
}

#[cfg(test)]
mod tests {
    use super::super::tests::gazetteer;
    use super::*;

    /// The best answer's country, name and precision for a query.
    fn best(query: &str) -> Location {
        match gazetteer().geocode(query) {
            Ok(found) => found.best,
            Err(e) => panic!("{query}: {e}"),
        }
    }

    fn assert_near(query: &str, country: &str, lat: f64, lon: f64) {
        let found = best(query);
        assert_eq!(
            found.country.as_deref(),
            Some(country),
            "{query}: {found:?}"
        );
        let truth = LatLng::new(lat, lon).unwrap();
        let km = found.point.distance_km(truth);
        assert!(km < 25.0, "{query}: {} is {km:.0} km away", found.name);
    }

    fn assert_us(query: &str, state: &str) {
        let found = best(query);
        assert_eq!(found.country.as_deref(), Some("US"), "{query}: {found:?}");
        assert_eq!(found.region.as_deref(), Some(state), "{query}: {found:?}");
    }

    /// Issue 13: each of these went to a US town or another country.
    #[test]
    fn countries_as_callers_name_them_win_over_us_towns() {
        assert_near("London, England", "GB", 51.507, -0.128);
        assert_near("Edinburgh, Scotland", "GB", 55.953, -3.188);
        assert_near("Cardiff, Wales", "GB", 51.481, -3.179);
        assert_near("Belfast, Northern Ireland", "GB", 54.597, -5.930);
        assert_near("Amsterdam, Holland", "NL", 52.370, 4.895);
        assert_near("Skopje, Macedonia", "MK", 41.998, 21.425);
        assert_near("Vientiane, Laos", "LA", 17.975, 102.633);
        assert_near("Port of Spain, Trinidad", "TT", 10.657, -61.518);
        assert_near("Damascus, Syria", "SY", 33.513, 36.292);
        assert_near("Chisinau, Moldova", "MD", 47.011, 28.863);
        assert_near("Kinshasa, DR Congo", "CD", -4.322, 15.312);
        assert_near("Kinshasa, DRC", "CD", -4.322, 15.312);
        assert_near("Kinshasa, Congo-Kinshasa", "CD", -4.322, 15.312);
        assert_near("Brazzaville, Congo", "CG", -4.263, 15.242);
        assert_near("Brazzaville, Congo-Brazzaville", "CG", -4.263, 15.242);
        assert_near("Rangoon, Burma", "MM", 16.805, 96.156);
    }

    #[test]
    fn countries_alone_by_common_and_former_names() {
        for (query, iso2) in [
            ("Swaziland", "SZ"),
            ("East Timor", "TL"),
            ("Bosnia", "BA"),
            ("Syria", "SY"),
            ("Burma", "MM"),
            ("Holland", "NL"),
            ("Macedonia", "MK"),
            ("Micronesia", "FM"),
            ("Ivory Coast", "CI"),
            ("Cape Verde", "CV"),
            ("The Bahamas", "BS"),
            ("Czechia", "CZ"),
            ("Czech Republic", "CZ"),
            ("Turkey", "TR"),
            ("Türkiye", "TR"),
            ("Russia", "RU"),
            ("South Korea", "KR"),
            ("North Korea", "KP"),
            ("Vietnam", "VN"),
            ("Iran", "IR"),
            ("Bolivia", "BO"),
            ("Venezuela", "VE"),
            ("Tanzania", "TZ"),
            ("UAE", "AE"),
            ("UK", "GB"),
            ("Great Britain", "GB"),
            ("USA", "US"),
            ("Suiza", "CH"),
            ("Royaume-Uni", "GB"),
            ("Estados Unidos", "US"),
        ] {
            let found = best(query);
            assert_eq!(found.precision, Precision::Country, "{query}: {found:?}");
            assert_eq!(found.country.as_deref(), Some(iso2), "{query}: {found:?}");
        }
        // "Congo" alone: the Democratic Republic, the other as alternative.
        let congo = gazetteer().geocode("Congo").unwrap();
        assert_eq!(congo.best.country.as_deref(), Some("CD"));
        assert!(congo
            .alternatives
            .iter()
            .any(|a| a.country.as_deref() == Some("CG")));
        // A constituent country alone is a region of GB at its capital.
        let scotland = best("Scotland");
        assert_eq!(scotland.precision, Precision::Region);
        assert_eq!(scotland.country.as_deref(), Some("GB"));
    }

    /// The US towns named like countries still answer with US context.
    #[test]
    fn us_towns_named_like_countries_need_us_context() {
        assert_us("England, AR", "AR");
        assert_us("England, Arkansas", "AR");
        assert_us("Scotland, PA", "PA");
        assert_us("Holland, MI", "MI");
        assert_us("Holland MI", "MI");
        assert_us("Macedonia, OH", "OH");
        assert_us("Trinidad, CO", "CO");
        assert_us("Scotland, USA", "PA");
        assert_us("Holland, MI 49423", "MI");
        assert_us("49423", "MI");
    }

    #[test]
    fn spanish_french_and_portuguese_names() {
        assert_near("Londres", "GB", 51.507, -0.128);
        assert_near("Nueva York", "US", 40.713, -74.006);
        assert_near("Ginebra, Suiza", "CH", 46.204, 6.143);
        assert_near("Bruxelles", "BE", 50.847, 4.352);
        assert_near("Londres, Inglaterra", "GB", 51.507, -0.128);
        assert_near("Édimbourg, Écosse", "GB", 55.953, -3.188);
        assert_near("Lisboa, Portugal", "PT", 38.717, -9.139);
        assert_near("Varsovie, Pologne", "PL", 52.230, 21.011);
        assert_near("Trinidad e Tobago", "TT", 10.657, -61.518);
        // A Brazilian spelling of the city in the country named, with a note.
        let helsinki = gazetteer().geocode("Helsinque, Finlândia").unwrap();
        assert_eq!(helsinki.best.country.as_deref(), Some("FI"));
        assert!(helsinki
            .note
            .as_deref()
            .is_some_and(|n| n.contains("closest spelling")));
    }

    /// "Granada" is Grenada only in Spanish: the Spanish city comes first.
    #[test]
    fn a_large_city_beats_a_country_named_so_only_in_another_language() {
        assert_eq!(best("Granada").country.as_deref(), Some("ES"));
        assert_eq!(best("Grenada").country.as_deref(), Some("GD"));
    }

    /// Text naming a country that lacks the place is a 404 whose
    /// suggestions are in that country.
    #[test]
    fn a_place_missing_from_the_named_country_is_not_found_there() {
        for query in ["Springfield, England", "Fresno, Peru", "Lima, Scotland"] {
            match gazetteer().geocode(query) {
                Err(GeocodeError::NotFound { suggestions, .. }) => {
                    let country = query.rsplit(", ").next().unwrap();
                    let country = if country == "Peru" {
                        "Peru"
                    } else {
                        "United Kingdom"
                    };
                    for s in &suggestions {
                        assert!(s.ends_with(country), "{query}: suggested {s}");
                    }
                }
                other => panic!("{query}: {other:?}"),
            }
        }
    }
}
