//! Turning a flat row into a validated [`Provider`], and the checks every
//! provider passes whatever format it came from. Each failure names the
//! field and says what would be valid.

use super::{Rejection, MAX_CELL_BYTES};
use crate::gazetteer::{normalize, Gazetteer};
use crate::model::{
    dial_digits, Address, AreaSpec, Availability, Kind, LatLng, Phone, PhoneKind, Precision,
    Provider, Visibility, Vocabulary, MAX_RADIUS_KM,
};
use compact_str::CompactString;
use std::collections::BTreeMap;

/// The columns of the flat format (CSV and GeoJSON properties), in order.
pub const FLAT_COLUMNS: [&str; 30] = [
    "id",
    "name",
    "organization",
    "kind",
    "issues",
    "services",
    "populations",
    "languages",
    "hours",
    "timezone",
    "hours_note",
    "phones",
    "email",
    "website",
    "contact_name",
    "law_enforcement",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "lat",
    "lon",
    "service_area",
    "visibility",
    "verified_at",
    "source",
    "funder",
    "description",
    "location_confidential",
];

/// A row of the flat format: column → text, as read.
pub type FlatRow = BTreeMap<String, String>;

/// The position of `name` in [`FLAT_COLUMNS`]; a compile error in a
/// `const` context when it is not a flat column.
const fn flat_column(name: &str) -> usize {
    let name = name.as_bytes();
    let mut i = 0;
    while i < FLAT_COLUMNS.len() {
        let column = FLAT_COLUMNS[i].as_bytes();
        if column.len() == name.len() {
            let mut j = 0;
            while j < name.len() && column[j] == name[j] {
                j += 1;
            }
            if j == name.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a flat column")
}

/// The index of a flat column, checked when compiling.
macro_rules! column {
    ($name:literal) => {
        const { flat_column($name) }
    };
}

/// A row of the flat format however it is held: a [`FlatRow`], or the
/// cells of a CSV record read without copying them into a map.
pub(super) trait Cells {
    /// The text of column `FLAT_COLUMNS[column]`, if the row has that column.
    fn cell(&self, column: usize) -> Option<&str>;

    /// The first cell, in the order of column names, longer than
    /// [`MAX_CELL_BYTES`]: its column name and length in bytes.
    fn oversized(&self) -> Option<(&str, usize)>;
}

impl Cells for FlatRow {
    fn cell(&self, column: usize) -> Option<&str> {
        self.get(FLAT_COLUMNS[column]).map(String::as_str)
    }

    fn oversized(&self) -> Option<(&str, usize)> {
        self.iter()
            .find(|(_, value)| value.len() > MAX_CELL_BYTES)
            .map(|(column, value)| (column.as_str(), value.len()))
    }
}

/// Everything validation needs to know, built once per ingest.
pub struct Validator<'a> {
    /// For geocoding addresses and checking codes.
    pub gazetteer: &'a Gazetteer,
    /// Issue and population codes.
    pub vocabulary: &'a Vocabulary,
}

/// A rejection before its source and line are known.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// The field at fault.
    pub field: &'static str,
    /// What is wrong and what would be valid.
    pub reason: String,
}

fn error(field: &'static str, reason: impl Into<String>) -> FieldError {
    FieldError {
        field,
        reason: reason.into(),
    }
}

impl<'a> Validator<'a> {
    /// Prepares a validator over the gazetteer and the vocabulary.
    pub fn new(gazetteer: &'a Gazetteer, vocabulary: &'a Vocabulary) -> Self {
        Self {
            gazetteer,
            vocabulary,
        }
    }

    /// Maps a language name, alias or code ("Spanish", "Farsi", "es",
    /// "spa") to ISO 639-1, with the resolver every query uses
    /// ([`Gazetteer::language_code`]).
    pub fn language_code(&self, text: &str) -> Option<&str> {
        self.gazetteer.language_code(text)
    }

    /// Builds and checks a provider from a flat row; `line` and `source`
    /// label a rejection.
    pub fn flat_row(&self, row: &FlatRow, source: &str, line: u64) -> Result<Provider, Rejection> {
        self.cells_row(row, source, line)
    }

    /// [`Validator::flat_row`] for a row however it is held.
    pub(super) fn cells_row(
        &self,
        row: &(impl Cells + ?Sized),
        source: &str,
        line: u64,
    ) -> Result<Provider, Rejection> {
        build_flat(row, source)
            .and_then(|provider| self.check(provider))
            .map_err(|e| Rejection::new(source, line, Some(e.field), e.reason))
    }

    /// Checks a provider read in the normalised form (JSON) and completes
    /// what can be derived (dial digits, location from the address).
    pub fn provider(
        &self,
        provider: Provider,
        source: &str,
        line: u64,
    ) -> Result<Provider, Rejection> {
        self.check(provider)
            .map_err(|e| Rejection::new(source, line, Some(e.field), e.reason))
    }

    /// The checks every provider passes, whatever its format.
    fn check(&self, mut provider: Provider) -> Result<Provider, FieldError> {
        if provider.name.trim().len() != provider.name.len() {
            provider.name = provider.name.trim().to_owned();
        }
        if provider.name.is_empty() {
            return Err(error("name", "name is empty"));
        }
        if provider.id.trim().is_empty() {
            provider.id = stable_id(&provider);
        }
        if provider.id.len() > 200 || provider.id.chars().any(char::is_control) {
            return Err(error("id", "id must be at most 200 printable characters"));
        }
        for issue in &provider.issues {
            if self.vocabulary.issue(issue).is_none() {
                let valid: Vec<&str> = self
                    .vocabulary
                    .issues
                    .iter()
                    .map(|t| t.code.as_str())
                    .collect();
                return Err(error(
                    "issues",
                    format!("unknown issue '{issue}'; valid: {}", valid.join(", ")),
                ));
            }
        }
        for population in &provider.populations {
            if !self.vocabulary.has_population(population) {
                let valid: Vec<&str> = self
                    .vocabulary
                    .populations
                    .iter()
                    .map(|t| t.code.as_str())
                    .collect();
                return Err(error(
                    "populations",
                    format!(
                        "unknown population '{population}'; valid: {}",
                        valid.join(", ")
                    ),
                ));
            }
        }
        let mut languages = Vec::with_capacity(provider.languages.len());
        for language in &provider.languages {
            let code = self.language_code(language).ok_or_else(|| {
                error(
                    "languages",
                    format!("unknown language '{language}'; use an ISO 639-1 code such as es, or a name such as Spanish"),
                )
            })?;
            if !languages.iter().any(|l: &CompactString| l == code) {
                languages.push(CompactString::from(code));
            }
        }
        provider.languages = languages;
        for phone in &mut provider.phones {
            if phone.number.trim().is_empty() {
                return Err(error("phones", "a phone number is empty"));
            }
            phone.dial = dial_digits(&phone.number);
            if phone.dial.trim_start_matches('+').is_empty() {
                return Err(error(
                    "phones",
                    format!("'{}' has no digits to dial", phone.number),
                ));
            }
            if let Some(country) = &phone.country {
                if self.gazetteer.country(country).is_none() {
                    return Err(error(
                        "phones",
                        format!("unknown country '{country}' on phone {}", phone.number),
                    ));
                }
            }
        }
        if let Some(email) = &provider.email {
            let valid =
                email.contains('@') && !email.contains(char::is_whitespace) && email.len() <= 254;
            if !valid {
                return Err(error(
                    "email",
                    format!("'{email}' is not an e-mail address"),
                ));
            }
        }
        if let Some(website) = &provider.website {
            if !(website.starts_with("https://") || website.starts_with("http://")) {
                return Err(error(
                    "website",
                    format!("'{website}' must start with https:// or http://"),
                ));
            }
        }
        if let Err(reason) = crate::model::check_capacity(&provider.capacity) {
            return Err(error("capacity", reason.to_string()));
        }
        if let Availability::Weekly {
            timezone,
            intervals,
        } = &mut provider.availability
        {
            if jiff::tz::TimeZone::get(timezone).is_err() {
                return Err(error(
                    "timezone",
                    format!(
                        "unknown time zone '{timezone}'; use an IANA name such as America/New_York"
                    ),
                ));
            }
            let impossible = intervals.iter().find(|i| {
                i.day > 6
                    || i.opens_min >= 24 * 60
                    || i.closes_min <= i.opens_min
                    || i.closes_min > 48 * 60
            });
            if let Some(i) = impossible {
                return Err(error(
                    "hours",
                    format!(
                        "impossible interval: day {} from minute {} to {}",
                        i.day, i.opens_min, i.closes_min
                    ),
                ));
            }
            if intervals.is_empty() {
                return Err(error(
                    "hours",
                    "weekly hours with no intervals; use type unknown instead",
                ));
            }
            intervals.sort_by_key(|i| (i.day, i.opens_min, i.closes_min));
            intervals.dedup();
        }
        if provider.kind == Kind::LawEnforcement {
            provider.law_enforcement = true;
        }
        if let Some(address) = &mut provider.address {
            if let Some(country) = &address.country {
                let known = self.gazetteer.country(country).ok_or_else(|| {
                    error(
                        "country",
                        format!(
                            "unknown country '{country}'; use ISO 3166-1 alpha-2 such as US or PE"
                        ),
                    )
                })?;
                address.country = Some(known.iso2.as_str().into());
            }
        }
        self.check_areas(&provider.service_area)?;
        if provider.location.is_none() {
            if let Some((point, precision)) = self.geocode_address(provider.address.as_ref()) {
                provider.location = Some(point);
                provider.precision = Some(precision);
            }
        } else if provider.precision.is_none() {
            provider.precision = Some(Precision::Point);
        }
        let needs_location = provider
            .service_area
            .iter()
            .any(|a| matches!(a, AreaSpec::Radius { .. }));
        if needs_location && provider.location.is_none() {
            return Err(error(
                "service_area",
                "a radius service area needs a location: give lat/lon or an address that geocodes",
            ));
        }
        // An incomplete record (a name the source gives without details) is
        // kept with what is known, even though it cannot be matched yet.
        if provider.location.is_none() && provider.service_area.is_empty() && !provider.incomplete {
            return Err(error(
                "service_area",
                "the record has neither a location nor a service area, so it can never be matched",
            ));
        }
        fit(&mut provider);
        Ok(provider)
    }

    fn check_areas(&self, areas: &[AreaSpec]) -> Result<(), FieldError> {
        let g = self.gazetteer;
        for area in areas {
            match area {
                AreaSpec::Radius { radius_km } => {
                    if !(radius_km.is_finite() && *radius_km > 0.0 && *radius_km <= MAX_RADIUS_KM) {
                        return Err(error(
                            "service_area",
                            format!("radius {radius_km} km is out of range; use more than 0 and at most {MAX_RADIUS_KM}"),
                        ));
                    }
                }
                AreaSpec::States { codes } => {
                    if let Some(bad) = codes
                        .iter()
                        .find(|c| g.state(c).is_none_or(|s| s.code != **c))
                    {
                        return Err(error(
                            "service_area",
                            format!("unknown state '{bad}'; use a USPS code such as CA or PR"),
                        ));
                    }
                }
                AreaSpec::Counties { fips } => {
                    if let Some(bad) = fips.iter().find(|f| g.county(f).is_none()) {
                        return Err(error(
                            "service_area",
                            format!("unknown county FIPS '{bad}'; use five digits such as 06019"),
                        ));
                    }
                }
                AreaSpec::Zips { zips } => {
                    if let Some(bad) = zips.iter().find(|z| g.zip(z).is_none()) {
                        return Err(error("service_area", format!("unknown ZIP '{bad}'")));
                    }
                }
                AreaSpec::Countries { codes } => {
                    if let Some(bad) = codes
                        .iter()
                        .find(|c| g.country(c).is_none_or(|k| k.iso2 != **c))
                    {
                        return Err(error(
                            "service_area",
                            format!("unknown country '{bad}'; use ISO 3166-1 alpha-2 such as PE"),
                        ));
                    }
                }
                AreaSpec::Nationwide { country } => {
                    if g.country(country).is_none_or(|k| k.iso2 != *country) {
                        return Err(error(
                            "service_area",
                            format!("unknown country '{country}' for nationwide"),
                        ));
                    }
                }
                AreaSpec::Worldwide => {}
                AreaSpec::Polygon { coordinates } => {
                    // Self-intersections and the vertex cap included: a
                    // polygon that passes is one the index can tile.
                    super::check_polygon(coordinates)
                        .map_err(|e| error("service_area", format!("polygon: {e}")))?;
                }
            }
        }
        Ok(())
    }

    /// Geocodes an address: its ZIP (US), else "city, region, country",
    /// else the region or country alone. The precision says which.
    fn geocode_address(&self, address: Option<&Address>) -> Option<(LatLng, Precision)> {
        let address = address?;
        let us = address
            .country
            .as_deref()
            .is_none_or(crate::gazetteer::is_us_or_territory);
        if us {
            if let Some(zip) = address
                .postal_code
                .as_deref()
                .and_then(|z| self.gazetteer.zip(z.get(..5)?))
            {
                return Some((zip.point, Precision::PostalCode));
            }
        }
        let parts: Vec<&str> = [
            address.city.as_deref(),
            address.region.as_deref(),
            address.country.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() {
            return None;
        }
        let found = self.gazetteer.geocode(&parts.join(", ")).ok()?;
        Some((found.best.point, found.best.precision))
    }
}

/// Drops the spare room of a provider's lists. Accepted records live as
/// long as the directory, and a list grown by pushing (or deserialised)
/// keeps up to three quarters of its room unused: at a million providers
/// that is hundreds of megabytes.
fn fit(provider: &mut Provider) {
    provider.issues.shrink_to_fit();
    provider.services.shrink_to_fit();
    provider.populations.shrink_to_fit();
    provider.languages.shrink_to_fit();
    provider.phones.shrink_to_fit();
    provider.service_area.shrink_to_fit();
    for area in &mut provider.service_area {
        match area {
            AreaSpec::States { codes } | AreaSpec::Countries { codes } => codes.shrink_to_fit(),
            AreaSpec::Counties { fips } => fips.shrink_to_fit(),
            AreaSpec::Zips { zips } => zips.shrink_to_fit(),
            AreaSpec::Polygon { coordinates } => coordinates.shrink_to_fit(),
            AreaSpec::Radius { .. } | AreaSpec::Nationwide { .. } | AreaSpec::Worldwide => {}
        }
    }
    if let Availability::Weekly { intervals, .. } = &mut provider.availability {
        intervals.shrink_to_fit();
    }
}

/// Builds a provider from a flat row without the checks that need the
/// gazetteer and vocabulary ([`Validator::provider`]): the GeoJSON reader
/// adds a polygon before checking, and reading can run while the gazetteer
/// loads.
pub(super) fn build_flat(
    row: &(impl Cells + ?Sized),
    source: &str,
) -> Result<Provider, FieldError> {
    if let Some((column, length)) = row.oversized() {
        return Err(FieldError {
            field: FLAT_COLUMNS
                .iter()
                .find(|c| **c == column)
                .copied()
                .unwrap_or("row"),
            reason: format!("cell is {length} bytes; at most {MAX_CELL_BYTES} are accepted"),
        });
    }
    let text = |column: usize| -> Option<String> {
        row.cell(column)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let items = |column: usize| {
        row.cell(column)
            .unwrap_or_default()
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    // Sized to fit: a million providers keep these lists for as long
    // as the directory lives.
    let list = |column: usize| -> Vec<CompactString> {
        let mut list = Vec::with_capacity(items(column).count());
        list.extend(items(column).map(CompactString::from));
        list
    };
    // Short texts (codes, ids, names of places) are kept inline.
    let short = |column: usize| -> Option<CompactString> {
        row.cell(column)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(CompactString::from)
    };
    let name = text(column!("name")).ok_or_else(|| error("name", "name is empty"))?;
    let kind_text = text(column!("kind"))
        .ok_or_else(|| error("kind", format!("kind is empty; use one of {}", kind_list())))?;
    let kind = Kind::parse(&kind_text).ok_or_else(|| {
        error(
            "kind",
            format!("unknown kind '{kind_text}'; use one of {}", kind_list()),
        )
    })?;
    let hours = text(column!("hours")).unwrap_or_default();
    let timezone = text(column!("timezone")).unwrap_or_default();
    let availability = if !hours.is_empty() && hours != "24/7" && timezone.is_empty() {
        return Err(error(
            "timezone",
            "weekly hours need an IANA time zone, e.g. America/New_York",
        ));
    } else {
        Availability::parse(&hours, &timezone).map_err(|e| {
            let field = if matches!(e, crate::model::ScheduleError::TimeZone(_)) {
                "timezone"
            } else {
                "hours"
            };
            error(field, e.to_string())
        })?
    };
    let mut phones = Vec::with_capacity(items(column!("phones")).count());
    for item in items(column!("phones")) {
        phones.push(parse_phone(item)?);
    }
    let law_enforcement = yes_no(text(column!("law_enforcement")), "law_enforcement")?;
    let location_confidential = yes_no(
        text(column!("location_confidential")),
        "location_confidential",
    )?;
    let location = match (text(column!("lat")), text(column!("lon"))) {
        (None, None) => None,
        (Some(lat), Some(lon)) => {
            let lat: f64 = lat
                .parse()
                .map_err(|_| error("lat", format!("'{lat}' is not a number of degrees")))?;
            let lon: f64 = lon
                .parse()
                .map_err(|_| error("lon", format!("'{lon}' is not a number of degrees")))?;
            Some(LatLng::new(lat, lon).map_err(|e| error(e.field(), e.to_string()))?)
        }
        (Some(_), None) => return Err(error("lon", "lat is given without lon")),
        (None, Some(_)) => return Err(error("lat", "lon is given without lat")),
    };
    let address = Address {
        street: short(column!("street")),
        city: short(column!("city")),
        region: short(column!("region")),
        postal_code: short(column!("postal_code")),
        country: short(column!("country")).map(|c| c.to_ascii_uppercase()),
    };
    let address = (address != Address::default()).then_some(address);
    let service_area = parse_areas(&list(column!("service_area")))?;
    let visibility = match text(column!("visibility"))
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("confidential") => Visibility::Confidential,
        Some("public") => Visibility::Public,
        Some(other) => {
            return Err(error(
                "visibility",
                format!("unknown visibility '{other}'; use public or confidential"),
            ))
        }
    };
    let verified_at = text(column!("verified_at"))
        .map(|d| {
            d.parse::<jiff::civil::Date>().map_err(|_| {
                error(
                    "verified_at",
                    format!("'{d}' is not a date; use YYYY-MM-DD"),
                )
            })
        })
        .transpose()?;
    let mut provider = Provider {
        id: short(column!("id")).unwrap_or_default(),
        name,
        organization: text(column!("organization")),
        kind,
        issues: list(column!("issues")),
        services: list(column!("services")),
        populations: list(column!("populations")),
        languages: list(column!("languages")),
        availability,
        hours_note: text(column!("hours_note")),
        phones,
        email: text(column!("email")),
        website: text(column!("website")),
        contact_name: text(column!("contact_name")),
        law_enforcement,
        address,
        location,
        precision: location.map(|_| Precision::Point),
        location_confidential,
        service_area,
        visibility,
        verified_at,
        source: short(column!("source")).unwrap_or_else(|| source.into()),
        funder: text(column!("funder")),
        description: text(column!("description")),
        incomplete: false,
        capacity: Vec::new(),
    };
    if provider.id.is_empty() {
        provider.id = stable_id(&provider);
    }
    Ok(provider)
}

fn kind_list() -> String {
    Kind::ALL.map(Kind::code).join(", ")
}

/// A yes/no cell: empty is no.
fn yes_no(cell: Option<String>, field: &'static str) -> Result<bool, FieldError> {
    match cell.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "no" | "0" | "n") => Ok(false),
        Some("true" | "yes" | "1" | "y") => Ok(true),
        Some(other) => Err(error(
            field,
            format!("'{other}' is not a yes/no value; use true or false"),
        )),
    }
}

/// `number|kind|country|note|confidential`, where only the number is
/// required; a fifth part `confidential` marks a direct line.
fn parse_phone(item: &str) -> Result<Phone, FieldError> {
    let mut parts = item.split('|').map(str::trim);
    let number = parts.next().unwrap_or_default();
    let kind_text = parts.next().unwrap_or_default();
    let kind = PhoneKind::parse(kind_text).ok_or_else(|| {
        error(
            "phones",
            format!("unknown phone kind '{kind_text}'; use voice, toll_free, text or tty"),
        )
    })?;
    let mut phone = Phone::new(number, kind);
    phone.country = parts
        .next()
        .filter(|c| !c.is_empty())
        .map(|c| CompactString::from(c).to_ascii_uppercase());
    phone.note = parts
        .next()
        .filter(|n| !n.is_empty())
        .map(CompactString::from);
    phone.confidential = match parts.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => false,
        Some("confidential") => true,
        Some(other) => {
            return Err(error(
                "phones",
                format!("unknown phone flag '{other}'; the fifth part may only be 'confidential'"),
            ))
        }
    };
    if phone.number.is_empty() {
        return Err(error("phones", "a phone number is empty"));
    }
    Ok(phone)
}

/// Parses `radius:40;state:CA;county:06019;zip:93721;country:PE;nationwide:US;worldwide`,
/// merging repeated kinds.
pub fn parse_areas(items: &[impl AsRef<str>]) -> Result<Vec<AreaSpec>, FieldError> {
    let mut states = Vec::new();
    let mut counties = Vec::new();
    let mut zips = Vec::new();
    let mut countries = Vec::new();
    let mut areas = Vec::new();
    for item in items {
        let item = item.as_ref();
        let (kind, value) = item.split_once(':').unwrap_or((item, ""));
        let value = value.trim();
        match kind.trim().to_ascii_lowercase().as_str() {
            "radius" => {
                let radius_km: f64 = value
                    .trim_end_matches("km")
                    .trim()
                    .parse()
                    .map_err(|_| error("service_area", format!("'{item}': radius must be a number of km")))?;
                areas.push(AreaSpec::Radius { radius_km });
            }
            "state" => states.push(CompactString::from(value).to_ascii_uppercase()),
            "county" => counties.push(CompactString::from(value)),
            "zip" => zips.push(CompactString::from(value)),
            "country" => countries.push(CompactString::from(value).to_ascii_uppercase()),
            "nationwide" => areas.push(AreaSpec::Nationwide {
                country: CompactString::from(value).to_ascii_uppercase(),
            }),
            "worldwide" => areas.push(AreaSpec::Worldwide),
            _ => {
                return Err(error(
                    "service_area",
                    format!("'{item}' is not an area; use radius:KM, state:ST, county:FIPS, zip:ZIP, country:CC, nationwide:CC or worldwide"),
                ))
            }
        }
    }
    if !states.is_empty() {
        areas.push(AreaSpec::States { codes: states });
    }
    if !counties.is_empty() {
        areas.push(AreaSpec::Counties { fips: counties });
    }
    if !zips.is_empty() {
        areas.push(AreaSpec::Zips { zips });
    }
    if !countries.is_empty() {
        areas.push(AreaSpec::Countries { codes: countries });
    }
    Ok(areas)
}

/// A stable id from what identifies a contact: its normalised name and
/// address (FNV-1a, 64 bits, hex).
fn stable_id(provider: &Provider) -> CompactString {
    let address = provider.address.clone().unwrap_or_default();
    let key = [
        Some(provider.name.as_str()),
        address.city.as_deref(),
        address.region.as_deref(),
        address.postal_code.as_deref(),
        address.country.as_deref(),
    ]
    .map(|part| normalize(part.unwrap_or_default()))
    .join("|");
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    compact_str::format_compact!("p-{hash:016x}")
}

/// The flat row of a provider (the inverse of [`Validator::flat_row`] for
/// everything the flat format carries; polygons travel only in GeoJSON).
pub fn to_flat_row(provider: &Provider) -> Vec<String> {
    let join = |items: &[CompactString]| items.join(";");
    let address = provider.address.clone().unwrap_or_default();
    let (hours, timezone) = match &provider.availability {
        Availability::Weekly { timezone, .. } => {
            (provider.availability.to_string(), timezone.to_string())
        }
        other => (other.to_string(), String::new()),
    };
    let phones: Vec<String> = provider
        .phones
        .iter()
        .map(|p| {
            let kind = match p.kind {
                PhoneKind::Voice => "voice",
                PhoneKind::TollFree => "toll_free",
                PhoneKind::Text => "text",
                PhoneKind::Tty => "tty",
            };
            let mut item = format!("{}|{kind}", p.number);
            if p.country.is_some() || p.note.is_some() || p.confidential {
                item.push('|');
                item.push_str(p.country.as_deref().unwrap_or_default());
            }
            if p.note.is_some() || p.confidential {
                item.push('|');
                item.push_str(p.note.as_deref().unwrap_or_default());
            }
            if p.confidential {
                item.push_str("|confidential");
            }
            item
        })
        .collect();
    let areas: Vec<String> = provider
        .service_area
        .iter()
        .flat_map(AreaSpec::to_text)
        .collect();
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let short = |v: &Option<CompactString>| v.as_deref().unwrap_or_default().to_owned();
    vec![
        provider.id.to_string(),
        provider.name.clone(),
        opt(&provider.organization),
        provider.kind.code().to_owned(),
        join(&provider.issues),
        join(&provider.services),
        join(&provider.populations),
        join(&provider.languages),
        hours,
        timezone,
        opt(&provider.hours_note),
        phones.join(";"),
        opt(&provider.email),
        opt(&provider.website),
        opt(&provider.contact_name),
        provider.law_enforcement.to_string(),
        short(&address.street),
        short(&address.city),
        short(&address.region),
        short(&address.postal_code),
        short(&address.country),
        provider
            .location
            .map(|p| format!("{:.6}", p.lat()))
            .unwrap_or_default(),
        provider
            .location
            .map(|p| format!("{:.6}", p.lon()))
            .unwrap_or_default(),
        areas.join(";"),
        match provider.visibility {
            Visibility::Public => "public".to_owned(),
            Visibility::Confidential => "confidential".to_owned(),
        },
        provider
            .verified_at
            .map(|d| d.to_string())
            .unwrap_or_default(),
        provider.source.to_string(),
        opt(&provider.funder),
        opt(&provider.description),
        if provider.location_confidential {
            "true".to_owned()
        } else {
            String::new()
        },
    ]
}
