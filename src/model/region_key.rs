//! [`RegionKey`]: the administrative regions a service area can name and a
//! place lies in, typed, in place of `"county:06019"` strings.

use serde::{Serialize, Serializer};
use std::fmt;

/// A US state or territory, a US county or a country, as a service area
/// names it and as a caller's place lies in it. Written `state:CA`,
/// `county:06019`, `country:PE` ([`fmt::Display`], [`RegionKey::parse`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RegionKey {
    /// A US state, DC or a territory, by USPS code (`CA`, `PR`).
    State(String),
    /// A US county or county equivalent, by 5-digit FIPS code (`06019`).
    County(String),
    /// A country, by ISO 3166-1 alpha-2 code (`PE`).
    Country(String),
}

impl RegionKey {
    /// Reads `state:CA`, `county:06019` or `country:PE`; `None` for any
    /// other text (a provider's own polygon, a radius).
    pub fn parse(text: &str) -> Option<RegionKey> {
        let (kind, code) = text.split_once(':')?;
        let code = code.to_owned();
        match kind {
            "state" => Some(RegionKey::State(code)),
            "county" => Some(RegionKey::County(code)),
            "country" => Some(RegionKey::Country(code)),
            _ => None,
        }
    }

    /// The regions a place lies in, most specific first: its county, its
    /// state or territory, its country (each when known).
    pub fn containing(
        county_fips: Option<&str>,
        state: Option<&str>,
        country: Option<&str>,
    ) -> Vec<RegionKey> {
        [
            county_fips.map(|f| RegionKey::County(f.to_owned())),
            state.map(|s| RegionKey::State(s.to_owned())),
            country.map(|c| RegionKey::Country(c.to_owned())),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The code: a USPS code, a FIPS code or an ISO alpha-2 code.
    pub fn code(&self) -> &str {
        match self {
            RegionKey::State(code) | RegionKey::County(code) | RegionKey::Country(code) => code,
        }
    }
}

impl fmt::Display for RegionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegionKey::State(code) => write!(f, "state:{code}"),
            RegionKey::County(fips) => write!(f, "county:{fips}"),
            RegionKey::Country(iso2) => write!(f, "country:{iso2}"),
        }
    }
}

impl Serialize for RegionKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_place_lies_in_its_county_state_and_country_in_that_order() {
        assert_eq!(
            RegionKey::containing(Some("06019"), Some("CA"), Some("US")),
            [
                RegionKey::County("06019".into()),
                RegionKey::State("CA".into()),
                RegionKey::Country("US".into())
            ]
        );
        assert_eq!(
            RegionKey::containing(None, None, Some("PE")),
            [RegionKey::Country("PE".into())]
        );
        assert_eq!(RegionKey::parse("radius:40"), None);
        assert_eq!(RegionKey::parse("county"), None);
    }

    proptest! {
        #[test]
        fn text_round_trips(kind in 0..3usize, code in "[A-Z0-9]{1,6}") {
            let key = match kind {
                0 => RegionKey::State(code),
                1 => RegionKey::County(code),
                _ => RegionKey::Country(code),
            };
            prop_assert_eq!(RegionKey::parse(&key.to_string()), Some(key));
        }
    }
}
