//! Row types of the derived gazetteer files in `data/gazetteer/` and their
//! CSV readers. The columns are documented in `data/README.md`.

use serde::Deserialize;

use super::GazetteerError;

/// `us_zip.csv`: one US ZIP code centroid.
#[derive(Debug, Clone, Deserialize)]
pub struct ZipRow {
    /// Five-digit ZIP code.
    pub zip: String,
    /// Latitude in degrees.
    pub lat: f64,
    /// Longitude in degrees.
    pub lon: f64,
    /// USPS state or territory code.
    pub state: String,
    /// Five-digit county FIPS, empty when unknown.
    pub county_fips: String,
    /// Place name the ZIP is filed under.
    pub place: String,
    /// `geonames` or `census_zcta`.
    pub src: String,
}

/// `places.csv`: one populated place.
#[derive(Debug, Clone, Deserialize)]
pub struct PlaceRow {
    /// GeoNames id.
    pub geonameid: u64,
    /// Place name as GeoNames spells it.
    pub name: String,
    /// ISO 3166-1 alpha-2 country (US territories have their own: PR, GU…).
    pub country: String,
    /// First-level division: the USPS code for the US and territories,
    /// GeoNames' admin1 code elsewhere.
    pub admin1: String,
    /// Five-digit county FIPS for US places, empty elsewhere.
    pub county_fips: String,
    /// Latitude in degrees.
    pub lat: f64,
    /// Longitude in degrees.
    pub lon: f64,
    /// Population (GeoNames).
    pub population: u64,
    /// IANA time zone.
    pub timezone: String,
}

/// `place_altnames.csv`: an alternate (Latin-script) name of a place.
#[derive(Debug, Clone, Deserialize)]
pub struct AltNameRow {
    /// GeoNames id of the place.
    pub geonameid: u64,
    /// The alternate name.
    pub altname: String,
}

/// `us_state.csv`: a US state, DC or territory.
#[derive(Debug, Clone, Deserialize)]
pub struct StateRow {
    /// Two-digit state FIPS.
    pub fips: String,
    /// USPS code.
    pub code: String,
    /// English name.
    pub name: String,
}

/// `us_county.csv`: a county or county equivalent.
#[derive(Debug, Clone, Deserialize)]
pub struct CountyRow {
    /// Five-digit FIPS.
    pub fips: String,
    /// USPS code of its state or territory.
    pub state: String,
    /// Short name ("Fresno").
    pub name: String,
    /// Legal name with its type ("Fresno County", "Orleans Parish").
    pub full_name: String,
    /// 2020 population estimate, when known.
    pub pop2020: Option<u64>,
}

/// `country.csv`: an ISO 3166-1 country.
#[derive(Debug, Clone, Deserialize)]
pub struct CountryRow {
    /// Alpha-2 code.
    pub iso2: String,
    /// Alpha-3 code.
    pub iso3: String,
    /// Numeric code, zero-padded to three digits.
    pub num: String,
    /// English short name.
    pub name: String,
    /// Other English names, `;`-separated.
    pub aliases: String,
    /// Capital city name.
    pub capital: String,
    /// Capital latitude in degrees, when known.
    pub lat: Option<f64>,
    /// Capital longitude in degrees, when known.
    pub lon: Option<f64>,
    /// Population (GeoNames).
    pub population: Option<u64>,
    /// Spanish, French and Portuguese names not among the English ones,
    /// `;`-separated (empty in files built before the column existed).
    #[serde(default)]
    pub names_intl: String,
}

/// `language.csv`: an ISO 639-3 language.
#[derive(Debug, Clone, Deserialize)]
pub struct LanguageRow {
    /// ISO 639-3 code.
    pub iso639_3: String,
    /// ISO 639-1 code, empty when the language has none.
    pub iso639_1: String,
    /// English reference name.
    pub name: String,
    /// `individual`, `macrolanguage` or `special`.
    pub scope: String,
    /// `living`, `historical`, `extinct`, `ancient`, `constructed`, `special`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// Reads every row of a headed CSV file named `file` (for error messages).
///
/// # Errors
/// [`GazetteerError::Table`] naming the file, line and problem.
pub fn read_rows<T: serde::de::DeserializeOwned>(
    file: &'static str,
    bytes: &[u8],
) -> Result<Vec<T>, GazetteerError> {
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let mut rows = Vec::new();
    for record in reader.deserialize() {
        let row = record.map_err(|source| GazetteerError::Table {
            file,
            line: source.position().map_or(0, |p| p.line()),
            reason: source.to_string(),
        })?;
        rows.push(row);
    }
    Ok(rows)
}
