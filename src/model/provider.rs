//! The provider record: one referral contact, flattened for matching from
//! Open Referral HSDS 3.1 (organization, service, location,
//! service_at_location, phone, schedule, language, service_area).
//!
//! This is also the normalised directory format: `refmatch ingest` writes
//! providers as JSON lines of this shape, and `data/hotlines.json` holds them.

use super::{Availability, LatLng, Precision, ServiceCapacity};
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What sort of contact a provider is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A service provider (shelter, legal aid, case management…).
    ServiceProvider,
    /// Police, sheriff, prosecutor, federal agents.
    LawEnforcement,
    /// A government office or official.
    Government,
    /// A multi-agency anti-trafficking task force.
    TaskForce,
    /// A coalition of organisations.
    Coalition,
    /// A telephone or text hotline.
    Hotline,
    /// An individual practitioner.
    Individual,
    /// A collaborative initiative.
    CollaborativeInitiative,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 8] = [
        Kind::ServiceProvider,
        Kind::LawEnforcement,
        Kind::Government,
        Kind::TaskForce,
        Kind::Coalition,
        Kind::Hotline,
        Kind::Individual,
        Kind::CollaborativeInitiative,
    ];

    /// The snake_case code used in files and on the wire.
    pub fn code(self) -> &'static str {
        match self {
            Kind::ServiceProvider => "service_provider",
            Kind::LawEnforcement => "law_enforcement",
            Kind::Government => "government",
            Kind::TaskForce => "task_force",
            Kind::Coalition => "coalition",
            Kind::Hotline => "hotline",
            Kind::Individual => "individual",
            Kind::CollaborativeInitiative => "collaborative_initiative",
        }
    }

    /// Parses a code (case-insensitive, `-` or space for `_`).
    pub fn parse(text: &str) -> Option<Kind> {
        let code = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What a phone number is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneKind {
    /// An ordinary voice line.
    Voice,
    /// A toll-free voice line.
    TollFree,
    /// A text (SMS) line.
    Text,
    /// A TTY line for deaf and hard-of-hearing callers.
    Tty,
}

impl PhoneKind {
    /// Parses `voice`, `toll_free`, `text`, `tty` (case-insensitive).
    pub fn parse(text: &str) -> Option<PhoneKind> {
        match text
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "voice" | "" => Some(PhoneKind::Voice),
            "toll_free" | "tollfree" => Some(PhoneKind::TollFree),
            "text" | "sms" => Some(PhoneKind::Text),
            "tty" => Some(PhoneKind::Tty),
            _ => None,
        }
    }
}

/// A phone or text number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phone {
    /// The number as it should be shown, letters kept ("1-800-4-A-CHILD").
    pub number: CompactString,
    /// Digits to dial (and a leading `+` if written), letters mapped to the
    /// keypad ("18004224453"); derived from `number` on input when absent.
    #[serde(default)]
    pub dial: CompactString,
    /// What the number is for.
    pub kind: PhoneKind,
    /// ISO 3166-1 alpha-2 country the number serves, when it serves one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<CompactString>,
    /// A short note ("Spanish", "Youth", "from within Russia").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<CompactString>,
    /// A direct line to a person or a shelter's own desk: shown to
    /// advocates only, never to the public.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confidential: bool,
}

impl Phone {
    /// Builds a phone from its display text, computing [`Phone::dial`].
    pub fn new(number: &str, kind: PhoneKind) -> Phone {
        Phone {
            number: number.trim().into(),
            dial: dial_digits(number),
            kind,
            country: None,
            note: None,
            confidential: false,
        }
    }
}

/// The digits to dial for a written number. A parenthesised run of digits
/// is taken as the dialable form ("BeFree (233733)" → `233733`,
/// "1-800-4-A-CHILD (800-422-4453)" → `8004224453`); otherwise letters map
/// to the telephone keypad ("1-888-NO-TRATA" → `18886687282`).
///
/// ```
/// use refmatch::model::dial_digits;
/// assert_eq!(dial_digits("1-800-4-A-CHILD"), "18004224453");
/// assert_eq!(dial_digits("text BeFree (233733)"), "233733");
/// assert_eq!(dial_digits("+ 48 22 628 9999"), "+48226289999");
/// ```
pub fn dial_digits(number: &str) -> CompactString {
    if let (Some(open), Some(close)) = (number.find('('), number.rfind(')')) {
        if open < close {
            let inner = &number[open + 1..close];
            let digits: CompactString = inner.chars().filter(char::is_ascii_digit).collect();
            let only_digits = inner
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '.' | '+'));
            if only_digits && digits.len() >= 5 {
                return digits;
            }
        }
    }
    let mut dial = CompactString::default();
    for ch in number.chars() {
        match ch {
            '+' if dial.is_empty() => dial.push('+'),
            '0'..='9' => dial.push(ch),
            'a'..='z' | 'A'..='Z' => dial.push(keypad(ch)),
            _ => {}
        }
    }
    dial
}

fn keypad(letter: char) -> char {
    match letter.to_ascii_uppercase() {
        'A'..='C' => '2',
        'D'..='F' => '3',
        'G'..='I' => '4',
        'J'..='L' => '5',
        'M'..='O' => '6',
        'P'..='S' => '7',
        'T'..='V' => '8',
        _ => '9',
    }
}

/// Who may see a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// May be shown to the public.
    Public,
    /// Only for advocates and administrators.
    #[default]
    Confidential,
}

/// A postal address (HSDS `address`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    /// Street line(s); confidential for shelters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<CompactString>,
    /// City or town.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<CompactString>,
    /// USPS state or territory code, or a foreign first-level division.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<CompactString>,
    /// ZIP or postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<CompactString>,
    /// ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<CompactString>,
}

/// One part of a service area, as written in a directory. The union of a
/// provider's parts is the area it serves; `index` resolves each part into
/// a geometry and H3 cells using the gazetteer's boundaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AreaSpec {
    /// Within `radius_km` kilometres of the provider's location.
    Radius {
        /// Radius in km.
        radius_km: f64,
    },
    /// US states or territories by USPS code.
    States {
        /// USPS codes.
        codes: Vec<CompactString>,
    },
    /// US counties by five-digit FIPS.
    Counties {
        /// FIPS codes.
        fips: Vec<CompactString>,
    },
    /// US ZIP codes (the counties holding them in the coverage index).
    Zips {
        /// Five-digit ZIPs.
        zips: Vec<CompactString>,
    },
    /// Countries by ISO 3166-1 alpha-2.
    Countries {
        /// Alpha-2 codes.
        codes: Vec<CompactString>,
    },
    /// A whole country, including (for `US`) its territories.
    Nationwide {
        /// Alpha-2 code.
        country: CompactString,
    },
    /// Everywhere.
    Worldwide,
    /// A GeoJSON MultiPolygon's coordinates, `[lon, lat]` degrees.
    Polygon {
        /// `coordinates` of a GeoJSON MultiPolygon.
        coordinates: Vec<Vec<Vec<[f64; 2]>>>,
    },
}

impl AreaSpec {
    /// The compact text form used in flat files: `radius:40`, `state:CA`,
    /// `county:06019`, `zip:93721`, `country:PE`, `nationwide:US`,
    /// `worldwide`. Polygons have no text form (they travel as GeoJSON).
    pub fn to_text(&self) -> Vec<String> {
        match self {
            AreaSpec::Radius { radius_km } => vec![format!("radius:{radius_km}")],
            AreaSpec::States { codes } => codes.iter().map(|c| format!("state:{c}")).collect(),
            AreaSpec::Counties { fips } => fips.iter().map(|c| format!("county:{c}")).collect(),
            AreaSpec::Zips { zips } => zips.iter().map(|c| format!("zip:{c}")).collect(),
            AreaSpec::Countries { codes } => codes.iter().map(|c| format!("country:{c}")).collect(),
            AreaSpec::Nationwide { country } => vec![format!("nationwide:{country}")],
            AreaSpec::Worldwide => vec!["worldwide".to_owned()],
            AreaSpec::Polygon { .. } => Vec::new(),
        }
    }
}

/// One referral contact.
///
/// Short texts (the id, codes, phone numbers, address parts, time zone,
/// source) are [`CompactString`]s, which keep up to 24 bytes in place
/// instead of on the heap; they serialise as plain strings. A directory
/// of a million providers would otherwise hold some twenty million heap
/// blocks of a few bytes each. Free text (name, e-mail, web site,
/// description) is a `String`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provider {
    /// Stable identifier, unique in a directory.
    pub id: CompactString,
    /// Display name (the HSDS service or organization name).
    pub name: String,
    /// Parent organisation, when it differs from the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// What sort of contact this is.
    pub kind: Kind,
    /// Issue codes from the vocabulary (`data/vocabulary.json`).
    #[serde(default)]
    pub issues: Vec<CompactString>,
    /// Services offered, free text ("shelter", "legal aid").
    #[serde(default)]
    pub services: Vec<CompactString>,
    /// Population codes from the vocabulary (`minors`, `lgbtq`…).
    #[serde(default)]
    pub populations: Vec<CompactString>,
    /// ISO 639-1 codes of languages spoken.
    #[serde(default)]
    pub languages: Vec<CompactString>,
    /// When the provider can be reached.
    pub availability: Availability,
    /// Hours as the source wrote them, when that says more than the schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_note: Option<String>,
    /// Phone, text and TTY numbers.
    #[serde(default)]
    pub phones: Vec<Phone>,
    /// Contact e-mail (confidential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Web site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Contact person (confidential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    /// Whether contacting this provider means contacting law enforcement.
    #[serde(default)]
    pub law_enforcement: bool,
    /// Postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Position, serialised as `{"lat", "lon"}` in degrees; none for a
    /// hotline with no place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LatLng>,
    /// How precisely `location` is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<Precision>,
    /// True when the location itself must not be shown to the public (a
    /// shelter): public answers carry a coarsened point, while matching
    /// uses the true one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub location_confidential: bool,
    /// The area served: the union of these parts.
    #[serde(default)]
    pub service_area: Vec<AreaSpec>,
    /// Who may see the record.
    #[serde(default)]
    pub visibility: Visibility,
    /// When the record was last verified (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<jiff::civil::Date>,
    /// Where the record came from (`synthetic`, a file name, a URL).
    pub source: CompactString,
    /// Funder, as the source states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funder: Option<String>,
    /// What the provider does, in a sentence or two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// True when the source names the provider without enough detail to
    /// refer to it; the record keeps what is known and invents nothing.
    #[serde(default)]
    pub incomplete: bool,
    /// Room now (HSDS 3.1 `service_capacity`): staff only, removed by
    /// [`Provider::redact_for_public`]; set by `PUT
    /// /v1/providers/{id}/capacity`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capacity: Vec<ServiceCapacity>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vanity_numbers_keep_letters_and_dial_digits() {
        let phone = Phone::new("1-888-NO-TRATA", PhoneKind::TollFree);
        assert_eq!(phone.number, "1-888-NO-TRATA");
        assert_eq!(phone.dial, "18886687282");
        assert_eq!(dial_digits("800-656-HOPE (800-656-4673)"), "8006564673");
        assert_eq!(dial_digits("1-800-273-TALK"), "18002738255");
        assert_eq!(dial_digits("911"), "911");
    }

    #[test]
    fn kinds_parse_leniently() {
        assert_eq!(Kind::parse("Law-Enforcement"), Some(Kind::LawEnforcement));
        assert_eq!(Kind::parse("task force"), Some(Kind::TaskForce));
        assert_eq!(Kind::parse("wizard"), None);
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.code()), Some(kind));
        }
    }
}
