//! The offline gazetteer: US ZIP codes, places, counties, states and
//! territories, countries and languages, with forward and reverse geocoding.
//!
//! All data is derived from pinned registry packages by
//! `scripts/build-gazetteer` into `data/gazetteer/` (see `data/README.md`
//! for sources and licences) and compiled into the binary, so geocoding
//! never touches the network.

mod boundaries;
mod geocode;
mod names;
mod normalize;
mod outline;
mod tables;
pub mod topojson;

pub use boundaries::BoundaryIndex;
pub use geocode::{GeocodeError, Geocoded, Location, MAX_QUERY_CHARS};
pub use names::Subdivision;
pub use normalize::normalize;
pub use outline::{clean_outline, drop_degenerate_rings, split_at_antimeridian};
pub use tables::{AltNameRow, CountryRow, CountyRow, LanguageRow, PlaceRow, StateRow, ZipRow};

use crate::model::{LatLng, RegionKey};
use geo::{Area, BoundingRect, Centroid, InteriorPoint, MultiPolygon, Polygon};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// How far (degrees, planar lon/lat) a point may fall outside a simplified
/// coastline and still be given the nearest boundary: about 5.5 km.
const COAST_TOLERANCE_DEG: f64 = 0.05;

/// Why the gazetteer could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum GazetteerError {
    /// A data file could not be read from disk.
    #[error("cannot read gazetteer file {path}: {source}")]
    Io {
        /// The file's path.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CSV table has a bad row.
    #[error("gazetteer table {file}, line {line}: {reason}")]
    Table {
        /// The table's file name.
        file: &'static str,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// A boundary file could not be decoded.
    #[error("gazetteer boundaries {file}: {source}")]
    Boundaries {
        /// The boundary file's name.
        file: &'static str,
        /// The decoding error.
        source: topojson::TopoJsonError,
    },
    /// A row holds coordinates outside the valid range.
    #[error("gazetteer table {file}: bad coordinates for {key}: {source}")]
    Coordinates {
        /// The table's file name.
        file: &'static str,
        /// The row's key (ZIP, geonameid…).
        key: String,
        /// Why the coordinates were rejected.
        source: crate::model::LatLngError,
    },
}

/// The raw bytes of every gazetteer file, from the binary or from disk.
pub struct GazetteerFiles {
    /// `us_zip.csv`
    pub us_zip: Cow<'static, [u8]>,
    /// `places.csv`
    pub places: Cow<'static, [u8]>,
    /// `place_altnames.csv`
    pub place_altnames: Cow<'static, [u8]>,
    /// `us_state.csv`
    pub us_state: Cow<'static, [u8]>,
    /// `us_county.csv`
    pub us_county: Cow<'static, [u8]>,
    /// `country.csv`
    pub country: Cow<'static, [u8]>,
    /// `language.csv`
    pub language: Cow<'static, [u8]>,
    /// `boundaries/counties-10m.json` (us-atlas TopoJSON)
    pub us_counties_topojson: Cow<'static, [u8]>,
    /// `boundaries/countries-50m.json` (world-atlas TopoJSON)
    pub countries_topojson: Cow<'static, [u8]>,
}

macro_rules! bundled {
    ($file:literal) => {
        Cow::Borrowed(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/gazetteer/",
            $file
        )))
    };
}

impl GazetteerFiles {
    /// The files compiled into this binary from `data/gazetteer/`.
    pub fn bundled() -> Self {
        Self {
            us_zip: bundled!("us_zip.csv"),
            places: bundled!("places.csv"),
            place_altnames: bundled!("place_altnames.csv"),
            us_state: bundled!("us_state.csv"),
            us_county: bundled!("us_county.csv"),
            country: bundled!("country.csv"),
            language: bundled!("language.csv"),
            us_counties_topojson: bundled!("boundaries/counties-10m.json"),
            countries_topojson: bundled!("boundaries/countries-50m.json"),
        }
    }

    /// Reads the files from a directory laid out like `data/gazetteer/`.
    ///
    /// # Errors
    /// [`GazetteerError::Io`] naming the file that could not be read.
    pub fn from_dir(dir: &Path) -> Result<Self, GazetteerError> {
        let read = |name: &str| -> Result<Cow<'static, [u8]>, GazetteerError> {
            let path = dir.join(name);
            std::fs::read(&path)
                .map(Cow::Owned)
                .map_err(|source| GazetteerError::Io {
                    path: path.display().to_string(),
                    source,
                })
        };
        Ok(Self {
            us_zip: read("us_zip.csv")?,
            places: read("places.csv")?,
            place_altnames: read("place_altnames.csv")?,
            us_state: read("us_state.csv")?,
            us_county: read("us_county.csv")?,
            country: read("country.csv")?,
            language: read("language.csv")?,
            us_counties_topojson: read("boundaries/counties-10m.json")?,
            countries_topojson: read("boundaries/countries-50m.json")?,
        })
    }
}

/// A populated place with its position.
#[derive(Debug, Clone)]
pub struct Place {
    /// GeoNames id.
    pub geonameid: u64,
    /// Name as GeoNames spells it.
    pub name: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// USPS code for US places and territories, GeoNames admin1 elsewhere.
    pub admin1: String,
    /// County FIPS for US places.
    pub county_fips: Option<String>,
    /// Position.
    pub point: LatLng,
    /// Population (GeoNames).
    pub population: u64,
    /// IANA time zone.
    pub timezone: String,
}

/// A US ZIP code centroid.
#[derive(Debug, Clone)]
pub struct Zip {
    /// Five-digit code.
    pub zip: String,
    /// Centroid.
    pub point: LatLng,
    /// USPS state or territory code.
    pub state: String,
    /// County FIPS, when known.
    pub county_fips: Option<String>,
    /// Place name the ZIP is filed under.
    pub place: String,
}

/// A US state, DC or territory with its outline.
#[derive(Debug, Clone)]
pub struct State {
    /// Two-digit FIPS.
    pub fips: String,
    /// USPS code.
    pub code: String,
    /// English name.
    pub name: String,
    /// Label point inside the outline.
    pub label: LatLng,
    /// Outline in `[lon, lat]` degrees (empty if the atlas lacks one).
    pub shape: MultiPolygon<f64>,
}

/// A US county or county equivalent with its outline.
#[derive(Debug, Clone)]
pub struct County {
    /// Five-digit FIPS.
    pub fips: String,
    /// USPS code of its state or territory.
    pub state: String,
    /// Short name ("Fresno").
    pub name: String,
    /// Legal name ("Fresno County").
    pub full_name: String,
    /// 2020 population, when known.
    pub population: Option<u64>,
    /// Label point inside the outline.
    pub label: LatLng,
    /// Outline in `[lon, lat]` degrees.
    pub shape: MultiPolygon<f64>,
}

/// A country with its outline.
#[derive(Debug, Clone)]
pub struct Country {
    /// ISO 3166-1 alpha-2.
    pub iso2: String,
    /// ISO 3166-1 alpha-3.
    pub iso3: String,
    /// English short name.
    pub name: String,
    /// Other English names.
    pub aliases: Vec<String>,
    /// Label point: the capital where known, else inside the outline.
    pub label: Option<LatLng>,
    /// Population (GeoNames), when known.
    pub population: Option<u64>,
    /// Outline in `[lon, lat]` degrees (empty for a few tiny territories).
    pub shape: MultiPolygon<f64>,
}

/// A language with its ISO 639 codes.
#[derive(Debug, Clone, Serialize)]
pub struct Language {
    /// ISO 639-3 code.
    pub iso639_3: String,
    /// ISO 639-1 code, when it has one.
    pub iso639_1: Option<String>,
    /// English reference name.
    pub name: String,
}

impl Language {
    /// The name without qualifiers: "Modern Greek (1453-)" → "Greek".
    pub fn plain_name(&self) -> &str {
        let name = self.name.split(" (").next().unwrap_or(&self.name);
        name.strip_prefix("Modern ").unwrap_or(name)
    }
}

impl Reverse {
    /// The regions the point lies in, most specific first: county, state
    /// or territory, country (each when known).
    pub fn region_keys(&self) -> Vec<RegionKey> {
        RegionKey::containing(
            self.county_fips.as_deref(),
            self.region.as_deref(),
            self.country.as_deref(),
        )
    }
}

/// The answer of [`Gazetteer::reverse`]: which country, US state or
/// territory and county hold a point. Every field is `null` for open ocean.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reverse {
    /// Latitude queried, in degrees.
    pub lat: f64,
    /// Longitude queried, in degrees.
    pub lon: f64,
    /// ISO 3166-1 alpha-2 country (US territories have their own codes).
    pub country: Option<String>,
    /// USPS state or territory code, for US points.
    pub region: Option<String>,
    /// Five-digit county FIPS, for US points.
    pub county_fips: Option<String>,
    /// County legal name ("Fresno County").
    pub county: Option<String>,
}

/// The loaded gazetteer. Cheap to query, immutable, `Send + Sync`.
pub struct Gazetteer {
    zips: FxHashMap<String, Zip>,
    places: Vec<Place>,
    /// Normalised name (or alternate name) → place indexes, most populous first.
    place_keys: FxHashMap<String, Vec<u32>>,
    states: Vec<State>,
    state_keys: HashMap<String, usize>,
    counties: Vec<County>,
    county_by_fips: HashMap<String, usize>,
    /// Normalised county names with and without their type word.
    county_keys: HashMap<String, Vec<usize>>,
    countries: Vec<Country>,
    /// Normalised ISO, English, common and former names → country.
    country_keys: HashMap<String, usize>,
    /// Keys of `country_keys` that only a Spanish, French or Portuguese
    /// name gave ("granada" is Grenada in Spanish): a large place of that
    /// name comes before the country.
    country_foreign_keys: std::collections::HashSet<String>,
    languages: Vec<Language>,
    /// Lower-case ISO 639-1 and 639-3 codes and plain English names of the
    /// languages with a 639-1 code → index in `languages`.
    language_keys: FxHashMap<String, usize>,
    county_index: BoundaryIndex,
    country_index: BoundaryIndex,
}

/// Codes of the US territories, which ISO 3166-1 lists as countries of
/// their own and USPS as states.
pub const US_TERRITORIES: [&str; 5] = ["PR", "GU", "VI", "AS", "MP"];

/// True for `US` and the five inhabited US territories.
pub fn is_us_or_territory(iso2: &str) -> bool {
    iso2 == "US" || US_TERRITORIES.contains(&iso2)
}

impl Gazetteer {
    /// Loads the gazetteer compiled into the binary.
    ///
    /// # Errors
    /// [`GazetteerError`] if the bundled data is corrupt (a build problem).
    pub fn bundled() -> Result<Self, GazetteerError> {
        Self::load(&GazetteerFiles::bundled())
    }

    /// Loads a gazetteer from its files.
    ///
    /// # Errors
    /// [`GazetteerError`] naming the file and row that is wrong.
    pub fn load(files: &GazetteerFiles) -> Result<Self, GazetteerError> {
        // Two balanced halves for the two cores of the target machine, in
        // two rounds. First: boundaries, ZIPs and alternate names on one
        // thread; places and their own names on the other. Then: the
        // alternate names joined to the places on one thread; states,
        // counties, countries, languages and the boundary indexes on the
        // other.
        let (side, places) = std::thread::scope(|scope| {
            let side = scope.spawn(|| -> Result<_, GazetteerError> {
                Ok((
                    load_shapes(files)?,
                    load_zips(files)?,
                    load_altnames(files)?,
                ))
            });
            let places = load_places(files).map(|places| {
                let names = PlaceNames::of(&places);
                (places, names)
            });
            let side = side
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (side, places)
        });
        let ((state_shapes, county_shapes, country_shapes), zips, altnames) = side?;
        let (places, names) = places?;
        let (place_keys, regions) = std::thread::scope(|scope| {
            let keys = scope.spawn(|| names.with_alternates(&places, altnames));
            let regions = Regions::load(files, &state_shapes, &county_shapes, &country_shapes);
            let keys = keys
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (keys, regions)
        });
        let Regions {
            states,
            state_keys,
            counties,
            county_by_fips,
            county_keys,
            countries,
            country_keys,
            country_foreign_keys,
            languages,
            language_keys,
            county_index,
            country_index,
        } = regions?;
        Ok(Self {
            zips,
            places,
            place_keys,
            states,
            state_keys,
            counties,
            county_by_fips,
            county_keys,
            countries,
            country_keys,
            country_foreign_keys,
            languages,
            language_keys,
            county_index,
            country_index,
        })
    }

    /// Reverse geocodes a point: the country, US state or territory and
    /// county that hold it, by point-in-polygon over the atlas boundaries.
    /// A point just off a simplified coastline (within about 5 km) is given
    /// the nearest boundary; open ocean gives all `null`.
    ///
    /// ```
    /// # let gazetteer = refmatch::gazetteer::Gazetteer::bundled().unwrap();
    /// use refmatch::model::LatLng;
    /// let r = gazetteer.reverse(LatLng::new(36.7378, -119.7871).unwrap());
    /// assert_eq!(r.county_fips.as_deref(), Some("06019"));
    /// assert_eq!(r.region.as_deref(), Some("CA"));
    /// ```
    pub fn reverse(&self, point: LatLng) -> Reverse {
        let (lon, lat) = (point.lon(), point.lat());
        let county = self
            .county_index
            .containing(lon, lat)
            .map(|i| &self.counties[i]);
        let country = self
            .country_index
            .containing(lon, lat)
            .map(|i| &self.countries[i]);
        // Fall back to a near boundary only where exact lookups found nothing,
        // so a point on land is never pulled across a border.
        let (county, country) = match (county, country) {
            (None, None) => (
                self.county_index
                    .containing_or_near(lon, lat, COAST_TOLERANCE_DEG)
                    .map(|i| &self.counties[i]),
                self.country_index
                    .containing_or_near(lon, lat, COAST_TOLERANCE_DEG)
                    .map(|i| &self.countries[i]),
            ),
            (None, Some(c)) if is_us_or_territory(&c.iso2) => (
                self.county_index
                    .containing_or_near(lon, lat, COAST_TOLERANCE_DEG)
                    .map(|i| &self.counties[i]),
                Some(c),
            ),
            found => found,
        };
        let region = county.map(|c| c.state.clone());
        // The county atlas is finer than the world atlas: trust it for the
        // US/territory split (a point in a PR municipio is in PR).
        let country_code = match (&region, country) {
            (Some(code), _) => Some(country_of_region(code).to_owned()),
            (None, Some(c)) => Some(c.iso2.clone()),
            (None, None) => None,
        };
        let region = region.or_else(|| {
            country_code
                .as_deref()
                .filter(|c| US_TERRITORIES.contains(c))
                .map(str::to_owned)
        });
        Reverse {
            lat,
            lon,
            country: country_code,
            region,
            county_fips: county.map(|c| c.fips.clone()),
            county: county.map(|c| c.full_name.clone()),
        }
    }

    /// Looks up a ZIP code (five digits).
    pub fn zip(&self, zip: &str) -> Option<&Zip> {
        self.zips.get(zip)
    }

    /// Every place, in GeoNames id order.
    pub fn places(&self) -> &[Place] {
        &self.places
    }

    /// Every US state, DC and territory, in FIPS order.
    pub fn states(&self) -> &[State] {
        &self.states
    }

    /// A state or territory by USPS code or name (any case).
    pub fn state(&self, code_or_name: &str) -> Option<&State> {
        self.state_keys
            .get(&normalize(code_or_name))
            .map(|&i| &self.states[i])
    }

    /// Every county with an outline, in FIPS order.
    pub fn counties(&self) -> &[County] {
        &self.counties
    }

    /// A county by five-digit FIPS.
    pub fn county(&self, fips: &str) -> Option<&County> {
        self.county_by_fips.get(fips).map(|&i| &self.counties[i])
    }

    /// Every country, in alpha-2 order.
    pub fn countries(&self) -> &[Country] {
        &self.countries
    }

    /// A country by alpha-2, alpha-3, English name or alias, common or
    /// former name ("Burma", "Holland") or Spanish, French or Portuguese
    /// name ("Suiza"), any case, with or without a leading "the". A name
    /// several countries go by ("Congo") gives the most populous.
    pub fn country(&self, code_or_name: &str) -> Option<&Country> {
        self.countries_named(&normalize(code_or_name))
            .into_iter()
            .next()
    }

    /// Every country a normalised name denotes, most likely first.
    fn countries_named(&self, key: &str) -> Vec<&Country> {
        let key = ["the ", "el ", "la ", "le ", "les ", "o ", "a "]
            .iter()
            .find_map(|article| key.strip_prefix(article))
            .filter(|rest| self.country_keys.contains_key(*rest) || ambiguous(rest).is_some())
            .unwrap_or(key);
        if let Some(codes) = ambiguous(key) {
            return codes
                .iter()
                .filter_map(|code| self.countries.iter().find(|c| c.iso2 == *code))
                .collect();
        }
        if let Some(&i) = self.country_keys.get(key) {
            return vec![&self.countries[i]];
        }
        // "Trinidad e Tobago", "Bósnia e Herzegovina": without the
        // connecting words.
        let words: Vec<&str> = key.split(' ').collect();
        if words.len() > 2 && words.iter().any(|w| names::CONNECTORS.contains(w)) {
            let plain: Vec<&str> = words
                .into_iter()
                .filter(|w| !names::CONNECTORS.contains(w))
                .collect();
            return self.countries_named(&plain.join(" "));
        }
        Vec::new()
    }

    /// Every ISO 639-3 language.
    pub fn languages(&self) -> &[Language] {
        &self.languages
    }

    /// A language that has an ISO 639-1 code, by that code (`es`), its
    /// ISO 639-3 code (`spa`), its English name, plain or in full
    /// (`Greek`, `Modern Greek (1453-)`), or a name people use that ISO
    /// 639 does not (`Farsi`, `Mandarin`, `Tagalog`; see
    /// [`LANGUAGE_ALIASES`]), case- and accent-insensitive. The one
    /// resolver of language names: ingest and every query use it.
    pub fn language(&self, code_or_name: &str) -> Option<&Language> {
        // Codes first, as written: normalising would turn "pt" into "point".
        self.language_keys
            .get(&code_or_name.trim().to_lowercase())
            .or_else(|| self.language_keys.get(&normalize(code_or_name)))
            .map(|&i| &self.languages[i])
    }

    /// The ISO 639-1 code of a language named as [`Gazetteer::language`]
    /// reads it: `"Farsi"` → `fa`, `"spa"` → `es`.
    pub fn language_code(&self, code_or_name: &str) -> Option<&str> {
        self.language(code_or_name)
            .and_then(|l| l.iso639_1.as_deref())
    }

    /// Number of ZIP codes loaded.
    pub fn zip_count(&self) -> usize {
        self.zips.len()
    }
}

/// Names people use for languages that ISO 639 names otherwise, → ISO
/// 639-1 code.
pub const LANGUAGE_ALIASES: &[(&str, &str)] = &[
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

/// The lookup keys of every language with an ISO 639-1 code: the codes as
/// written (lower case), the plain and the full English name (lower case
/// and [`normalize`]d), and the [`LANGUAGE_ALIASES`]. A code or an earlier
/// language's name wins over a later name.
fn language_keys(languages: &[Language]) -> FxHashMap<String, usize> {
    let mut keys = FxHashMap::default();
    for (i, language) in languages.iter().enumerate() {
        if let Some(code) = &language.iso639_1 {
            keys.insert(code.to_lowercase(), i);
            keys.insert(language.iso639_3.to_lowercase(), i);
        }
    }
    for (i, language) in languages.iter().enumerate() {
        if language.iso639_1.is_some() {
            for name in [language.plain_name(), language.name.as_str()] {
                keys.entry(name.to_lowercase()).or_insert(i);
                keys.entry(normalize(name)).or_insert(i);
            }
        }
    }
    for (alias, code) in LANGUAGE_ALIASES {
        if let Some(&i) = keys.get(*code) {
            keys.entry((*alias).to_owned()).or_insert(i);
        }
    }
    keys
}

/// The countries a name several countries go by denotes.
fn ambiguous(key: &str) -> Option<&'static [&'static str]> {
    names::AMBIGUOUS_COUNTRY_NAMES
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, codes)| *codes)
}

/// world-atlas features without an ISO numeric id, by name → the country
/// they are filed under: Kosovo under its user-assigned code (983 in
/// `country.csv`), the others under the ISO 3166 country that contains them.
/// Siachen Glacier is disputed and stays unassigned.
const UNNUMBERED_FEATURES: [(&str, &str); 4] = [
    ("Kosovo", "983"),
    ("N. Cyprus", "196"),
    ("Somaliland", "706"),
    ("Indian Ocean Ter.", "036"),
];

/// Common names of territories that differ from the atlas' formal names.
const STATE_ALIASES: &[(&str, &str)] = &[
    ("Virgin Islands", "VI"),
    ("US Virgin Islands", "VI"),
    ("USVI", "VI"),
    ("Northern Mariana Islands", "MP"),
    ("Northern Marianas", "MP"),
    ("CNMI", "MP"),
    ("Guam", "GU"),
    ("American Samoa", "AS"),
    ("Puerto Rico", "PR"),
];

/// Words that name a county-equivalent's type, lower case.
const COUNTY_TYPES: [&str; 8] = [
    "county",
    "parish",
    "borough",
    "municipio",
    "municipality",
    "census area",
    "city and borough",
    "district",
];

/// The ISO country of a USPS state or territory code.
fn country_of_region(code: &str) -> &str {
    US_TERRITORIES
        .iter()
        .find(|t| **t == code)
        .copied()
        .unwrap_or("US")
}

type Shapes = (
    HashMap<String, MultiPolygon<f64>>,
    HashMap<String, MultiPolygon<f64>>,
    HashMap<String, MultiPolygon<f64>>,
);

fn load_shapes(files: &GazetteerFiles) -> Result<Shapes, GazetteerError> {
    let us = decode_topology(
        "counties-10m.json",
        &files.us_counties_topojson,
        &["states", "counties"],
    )?;
    let world = decode_topology(
        "countries-50m.json",
        &files.countries_topojson,
        &["countries"],
    )?;
    let mut us = us.into_iter();
    let states = us.next().unwrap_or_default();
    let counties = us.next().unwrap_or_default();
    let countries = world.into_iter().next().unwrap_or_default();
    Ok((states, counties, countries))
}

/// Decodes the named objects of a TopoJSON file into `id → outline` maps.
fn decode_topology(
    file: &'static str,
    bytes: &[u8],
    objects: &[&str],
) -> Result<Vec<HashMap<String, MultiPolygon<f64>>>, GazetteerError> {
    let error = |source| GazetteerError::Boundaries { file, source };
    let topo = topojson::Topo::parse(bytes).map_err(error)?;
    objects
        .iter()
        .map(|object| {
            let mut map: HashMap<String, MultiPolygon<f64>> = HashMap::new();
            for feature in topo.features(object).map_err(error)? {
                let id = feature.id.or_else(|| {
                    let name = feature.name.as_deref()?;
                    UNNUMBERED_FEATURES
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, id)| (*id).to_owned())
                });
                if let Some(id) = id {
                    // world-atlas lists `036` twice (Australia and Ashmore
                    // and Cartier Islands): merge the parts.
                    map.entry(id)
                        .or_insert_with(empty_shape)
                        .0
                        .extend(feature.shape.0);
                }
            }
            Ok(map
                .into_iter()
                .map(|(id, shape)| {
                    // A county drawn too small for 1:10M (Falls Church,
                    // VA) is all degenerate rings: keep it as drawn.
                    let cleaned = clean_outline(shape.clone());
                    (id, if cleaned.0.is_empty() { shape } else { cleaned })
                })
                .collect())
        })
        .collect()
}

fn load_zips(files: &GazetteerFiles) -> Result<FxHashMap<String, Zip>, GazetteerError> {
    let zip_rows: Vec<ZipRow> = tables::read_rows("us_zip.csv", &files.us_zip)?;
    let mut zips = FxHashMap::with_capacity_and_hasher(zip_rows.len(), Default::default());
    for row in zip_rows {
        let point =
            LatLng::new(row.lat, row.lon).map_err(|source| GazetteerError::Coordinates {
                file: "us_zip.csv",
                key: row.zip.clone(),
                source,
            })?;
        zips.insert(
            row.zip.clone(),
            Zip {
                zip: row.zip,
                point,
                state: row.state,
                county_fips: Some(row.county_fips).filter(|f| !f.is_empty()),
                place: row.place,
            },
        );
    }
    Ok(zips)
}

fn load_places(files: &GazetteerFiles) -> Result<Vec<Place>, GazetteerError> {
    let place_rows: Vec<PlaceRow> = tables::read_rows("places.csv", &files.places)?;
    place_rows
        .into_iter()
        .map(|row| {
            let point =
                LatLng::new(row.lat, row.lon).map_err(|source| GazetteerError::Coordinates {
                    file: "places.csv",
                    key: row.geonameid.to_string(),
                    source,
                })?;
            Ok(Place {
                geonameid: row.geonameid,
                name: row.name,
                country: row.country,
                admin1: row.admin1,
                county_fips: Some(row.county_fips).filter(|f| !f.is_empty()),
                point,
                population: row.population,
                timezone: row.timezone,
            })
        })
        .collect()
}

/// Alternate names as `(geonameid, normalised key)`.
fn load_altnames(files: &GazetteerFiles) -> Result<Vec<(u64, String)>, GazetteerError> {
    let rows: Vec<AltNameRow> = tables::read_rows("place_altnames.csv", &files.place_altnames)?;
    Ok(rows
        .into_iter()
        .map(|row| (row.geonameid, normalize(&row.altname)))
        .collect())
}

/// Marks a place index in a key list as matched through an alternate name.
pub(crate) const ALTERNATE_NAME_BIT: u32 = 1 << 31;

/// The name index being built: normalised name or alternate name → place
/// indexes, most populous first. A place matched only by an alternate name
/// counts a tenth of its population and carries [`ALTERNATE_NAME_BIT`]:
/// "Vila Velha" is the Brazilian city of that name, not a larger one that
/// lists it as an old name, while "Kiev" still finds Kyiv.
struct PlaceNames {
    keys: FxHashMap<String, Vec<u32>>,
    by_geonameid: FxHashMap<u64, u32>,
}

impl PlaceNames {
    /// The places' own names (done while the alternate names load).
    fn of(places: &[Place]) -> PlaceNames {
        let mut keys: FxHashMap<String, Vec<u32>> =
            FxHashMap::with_capacity_and_hasher(places.len() * 4, Default::default());
        let mut by_geonameid: FxHashMap<u64, u32> =
            FxHashMap::with_capacity_and_hasher(places.len(), Default::default());
        for (index, place) in places.iter().enumerate() {
            let index = index as u32;
            by_geonameid.insert(place.geonameid, index);
            keys.entry(normalize(&place.name)).or_default().push(index);
        }
        PlaceNames { keys, by_geonameid }
    }

    /// Adds the alternate names and orders every list.
    fn with_alternates(
        self,
        places: &[Place],
        altnames: Vec<(u64, String)>,
    ) -> FxHashMap<String, Vec<u32>> {
        let PlaceNames {
            mut keys,
            by_geonameid,
        } = self;
        for (geonameid, key) in altnames {
            if let Some(&index) = by_geonameid.get(&geonameid) {
                let list = keys.entry(key).or_default();
                if !list.iter().any(|i| i & !ALTERNATE_NAME_BIT == index) {
                    list.push(index | ALTERNATE_NAME_BIT);
                }
            }
        }
        for list in keys.values_mut().filter(|l| l.len() > 1) {
            list.sort_by_key(|&flagged| {
                let place = &places[(flagged & !ALTERNATE_NAME_BIT) as usize];
                let weight = if flagged & ALTERNATE_NAME_BIT != 0 {
                    place.population / 10
                } else {
                    place.population
                };
                (std::cmp::Reverse(weight), place.geonameid)
            });
        }
        keys
    }
}

/// The gazetteer's administrative tables, with their outlines and indexes.
struct Regions {
    states: Vec<State>,
    state_keys: HashMap<String, usize>,
    counties: Vec<County>,
    county_by_fips: HashMap<String, usize>,
    county_keys: HashMap<String, Vec<usize>>,
    countries: Vec<Country>,
    country_keys: HashMap<String, usize>,
    country_foreign_keys: std::collections::HashSet<String>,
    languages: Vec<Language>,
    language_keys: FxHashMap<String, usize>,
    county_index: BoundaryIndex,
    country_index: BoundaryIndex,
}

impl Regions {
    /// Reads the state, county, country and language tables and joins the
    /// outlines decoded from the atlases (keyed by FIPS or ISO numeric).
    fn load(
        files: &GazetteerFiles,
        state_shapes: &HashMap<String, MultiPolygon<f64>>,
        county_shapes: &HashMap<String, MultiPolygon<f64>>,
        country_shapes: &HashMap<String, MultiPolygon<f64>>,
    ) -> Result<Regions, GazetteerError> {
        let state_rows: Vec<StateRow> = tables::read_rows("us_state.csv", &files.us_state)?;
        let mut states = Vec::with_capacity(state_rows.len());
        let mut state_keys = HashMap::new();
        for row in state_rows {
            let shape = state_shapes
                .get(&row.fips)
                .cloned()
                .unwrap_or_else(empty_shape);
            let label = label_point(&shape).ok_or_else(|| GazetteerError::Table {
                file: "us_state.csv",
                line: 0,
                reason: format!("state {} has no outline in counties-10m.json", row.code),
            })?;
            state_keys.insert(normalize(&row.code), states.len());
            state_keys.insert(normalize(&row.name), states.len());
            for (alias, code) in STATE_ALIASES {
                if *code == row.code {
                    state_keys.insert(normalize(alias), states.len());
                }
            }
            states.push(State {
                fips: row.fips,
                code: row.code,
                name: row.name,
                label,
                shape,
            });
        }

        let county_rows: Vec<CountyRow> = tables::read_rows("us_county.csv", &files.us_county)?;
        let mut counties = Vec::with_capacity(county_rows.len());
        let mut county_by_fips = HashMap::new();
        let mut county_keys: HashMap<String, Vec<usize>> = HashMap::new();
        for row in county_rows {
            let Some(shape) = county_shapes.get(&row.fips).cloned() else {
                continue;
            };
            let Some(label) = label_point(&shape) else {
                continue;
            };
            let index = counties.len();
            county_by_fips.insert(row.fips.clone(), index);
            let mut keys = vec![normalize(&row.full_name), normalize(&row.name)];
            for suffix in COUNTY_TYPES {
                keys.push(format!("{} {suffix}", normalize(&row.name)));
            }
            keys.sort();
            keys.dedup();
            for key in keys {
                county_keys.entry(key).or_default().push(index);
            }
            counties.push(County {
                fips: row.fips,
                state: row.state,
                name: row.name,
                full_name: row.full_name,
                population: row.pop2020,
                label,
                shape,
            });
        }
        for list in county_keys.values_mut() {
            list.sort_by_key(|&i| std::cmp::Reverse(counties[i].population.unwrap_or(0)));
        }

        let country_rows: Vec<CountryRow> = tables::read_rows("country.csv", &files.country)?;
        let mut countries = Vec::with_capacity(country_rows.len());
        let mut country_keys = HashMap::new();
        let mut foreign_names: Vec<(String, usize)> = Vec::new();
        for row in country_rows {
            let shape = country_shapes
                .get(&row.num)
                .cloned()
                .unwrap_or_else(empty_shape);
            let capital = match (row.lat, row.lon) {
                (Some(lat), Some(lon)) => LatLng::new(lat, lon).ok(),
                _ => None,
            };
            let aliases: Vec<String> = row
                .aliases
                .split(';')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect();
            let index = countries.len();
            for key in [&row.iso2, &row.iso3, &row.name]
                .into_iter()
                .chain(&aliases)
            {
                country_keys.entry(normalize(key)).or_insert(index);
            }
            foreign_names.extend(
                row.names_intl
                    .split(';')
                    .map(normalize)
                    .filter(|k| !k.is_empty())
                    .map(|k| (k, index)),
            );
            countries.push(Country {
                label: capital.or_else(|| label_point(&shape)),
                iso2: row.iso2,
                iso3: row.iso3,
                name: row.name,
                aliases,
                population: row.population,
                shape,
            });
        }

        // Names callers use override the ISO aliases ("Congo" is not one
        // country: see `names::AMBIGUOUS_COUNTRY_NAMES`); Spanish, French and
        // Portuguese names fill only what no English name took.
        for (key, iso2) in names::COMMON_COUNTRY_NAMES {
            if let Some(index) = countries.iter().position(|c| c.iso2 == *iso2) {
                country_keys.insert((*key).to_owned(), index);
            }
        }
        for (key, _) in names::AMBIGUOUS_COUNTRY_NAMES {
            country_keys.remove(*key);
        }
        let mut country_foreign_keys = std::collections::HashSet::new();
        for (key, index) in foreign_names {
            if let std::collections::hash_map::Entry::Vacant(entry) = country_keys.entry(key) {
                country_foreign_keys.insert(entry.key().clone());
                entry.insert(index);
            }
        }

        let language_rows: Vec<LanguageRow> = tables::read_rows("language.csv", &files.language)?;
        let languages: Vec<Language> = language_rows
            .into_iter()
            .map(|row| Language {
                iso639_1: Some(row.iso639_1).filter(|c| !c.is_empty()),
                iso639_3: row.iso639_3,
                name: row.name,
            })
            .collect();
        let language_keys = language_keys(&languages);

        let county_index = BoundaryIndex::new(counties.iter().map(|c| &c.shape));
        let country_index = BoundaryIndex::new(countries.iter().map(|c| &c.shape));
        Ok(Regions {
            states,
            state_keys,
            counties,
            county_by_fips,
            county_keys,
            countries,
            country_keys,
            country_foreign_keys,
            languages,
            language_keys,
            county_index,
            country_index,
        })
    }
}

fn empty_shape() -> MultiPolygon<f64> {
    MultiPolygon::new(Vec::new())
}

/// A point inside the outline, near its middle: the centroid of its
/// largest polygon when that lies inside, else an interior point.
fn label_point(shape: &MultiPolygon<f64>) -> Option<LatLng> {
    let largest: &Polygon<f64> = shape
        .0
        .iter()
        .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))?;
    let inside = |p: geo::Point<f64>| geo::Contains::contains(largest, &p);
    let point = largest
        .centroid()
        .filter(|c| inside(*c))
        .or_else(|| largest.interior_point())
        .or_else(|| largest.bounding_rect().map(|r| r.center().into()))?;
    let round = |v: f64| (v * 1e5).round() / 1e5;
    LatLng::new(round(point.y()), round(point.x())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    pub(crate) fn gazetteer() -> &'static Gazetteer {
        static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
        GAZETTEER.get_or_init(|| Gazetteer::bundled().expect("bundled gazetteer loads"))
    }

    fn at(lat: f64, lon: f64) -> Reverse {
        gazetteer().reverse(LatLng::new(lat, lon).unwrap())
    }

    #[test]
    fn reverse_finds_us_county_state_and_country() {
        let r = at(41.8781, -87.6298); // Chicago
        assert_eq!(r.country.as_deref(), Some("US"));
        assert_eq!(r.region.as_deref(), Some("IL"));
        assert_eq!(r.county_fips.as_deref(), Some("17031"));
        assert_eq!(r.county.as_deref(), Some("Cook County"));
    }

    #[test]
    fn reverse_puts_territories_in_their_own_country() {
        let r = at(18.4655, -66.1057); // San Juan, PR
        assert_eq!(r.country.as_deref(), Some("PR"));
        assert_eq!(r.region.as_deref(), Some("PR"));
        assert_eq!(r.county_fips.as_deref(), Some("72127"));
        let guam = at(13.4757, 144.7489); // Hagåtña
        assert_eq!(guam.country.as_deref(), Some("GU"));
        assert_eq!(guam.region.as_deref(), Some("GU"));
    }

    #[test]
    fn reverse_abroad_and_at_sea() {
        assert_eq!(at(-12.0464, -77.0428).country.as_deref(), Some("PE"));
        assert_eq!(at(50.4501, 30.5234).country.as_deref(), Some("UA"));
        let ocean = at(0.0, 0.0);
        assert_eq!(ocean.country, None);
        assert_eq!(ocean.region, None);
        assert_eq!(ocean.county_fips, None);
    }

    /// Regression: Russia's outline jumps from +180° to -180°; read as a
    /// planar ring it covered a band round the globe and put northern
    /// Canada in Russia.
    #[test]
    fn reverse_across_the_antimeridian() {
        assert_eq!(at(64.3, -96.0).country.as_deref(), Some("CA")); // Baker Lake
        assert_eq!(at(69.1, -105.06).country.as_deref(), Some("CA")); // Cambridge Bay
        assert_eq!(at(65.5, -175.0).country.as_deref(), Some("RU")); // Chukotka, west of 180°
        assert_eq!(at(65.0, 100.0).country.as_deref(), Some("RU"));
        assert_eq!(at(-17.7, 178.1).country.as_deref(), Some("FJ"));
    }

    #[test]
    fn atlas_features_without_an_id_are_filed_by_name() {
        assert_eq!(at(42.6629, 21.1655).country.as_deref(), Some("XK")); // Pristina
        assert_eq!(at(9.56, 44.065).country.as_deref(), Some("SO")); // Hargeisa
        assert_eq!(at(35.34, 33.32).country.as_deref(), Some("CY")); // Kyrenia
    }

    #[test]
    fn lookups_by_code_and_name() {
        let g = gazetteer();
        assert_eq!(g.state("california").map(|s| s.code.as_str()), Some("CA"));
        assert_eq!(g.state("PR").map(|s| s.fips.as_str()), Some("72"));
        assert_eq!(g.country("Peru").map(|c| c.iso2.as_str()), Some("PE"));
        assert_eq!(g.country("usa").map(|c| c.iso2.as_str()), Some("US"));
        assert_eq!(g.zip("93721").map(|z| z.state.as_str()), Some("CA"));
        assert!(g.county("06019").is_some());
        assert!(g
            .languages()
            .iter()
            .any(|l| l.iso639_1.as_deref() == Some("es")));
    }
}
