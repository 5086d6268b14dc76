//! Plain domain types shared by every later stage.
//!
//! Nothing here touches I/O or a heavy dependency; the types hold their
//! invariants (a [`LatLng`] is always a finite, in-range WGS84 position).

mod access;
mod bbox;
mod capacity;
pub mod need;
mod parameters;
mod provider;
pub mod referral;
mod region_key;
mod schedule;
mod vocabulary;

pub use access::{Freshness, Role, DEFAULT_VERIFICATION_WINDOW_DAYS, FRESHNESS_EDGE};
pub use bbox::BoundingBox;
pub use capacity::{
    check_capacity, Accepting, CapacityError, CapacityWindow, ServiceCapacity,
    DEFAULT_CAPACITY_FRESH_HOURS, MAX_CAPACITY_ENTRIES, MAX_CAPACITY_UNIT_CHARS,
};
pub use need::{Need, TermResolver};
pub use parameters::{
    boolean, check_parameters, joined, number, values, ParameterDoc, QueryError, MAX_VALUES,
};
pub use provider::{dial_digits, Address, AreaSpec, Kind, Phone, PhoneKind, Provider, Visibility};
pub use region_key::RegionKey;
pub use schedule::{Availability, OpenInterval, ScheduleError};
pub use vocabulary::{IssueTerm, PopulationTerm, Vocabulary, VocabularyError};

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// Mean Earth radius in kilometres (IUGG), used for great-circle distances.
pub const EARTH_RADIUS_KM: f64 = 6_371.008_8;

/// Largest radius accepted anywhere, km: a service area's radius and a
/// match's `radius_km`. About half the Earth's circumference.
pub const MAX_RADIUS_KM: f64 = 20_000.0;

/// A validated WGS84 position in decimal degrees.
///
/// Latitude is in `[-90, 90]`, longitude in `[-180, 180]`; both are finite.
/// Note the order: the constructor takes latitude first (as people say it),
/// while GeoJSON and [`LatLng::to_lon_lat`] use `[lon, lat]`.
///
/// ```
/// use refmatch::model::LatLng;
/// let fresno = LatLng::new(36.7378, -119.7871).unwrap();
/// assert_eq!(fresno.to_lon_lat(), [-119.7871, 36.7378]);
/// assert!(LatLng::new(91.0, 0.0).is_err());
/// assert!(LatLng::new(f64::NAN, 0.0).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatLng {
    lat: f64,
    lon: f64,
}

/// Why a coordinate pair was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LatLngError {
    /// A coordinate was NaN or infinite.
    #[error("{axis} must be a finite number, got {value}")]
    NotFinite {
        /// `"lat"` or `"lon"`.
        axis: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// Latitude outside `[-90, 90]` degrees.
    #[error("lat must be between -90 and 90 degrees, got {0}")]
    LatOutOfRange(f64),
    /// Longitude outside `[-180, 180]` degrees.
    #[error("lon must be between -180 and 180 degrees, got {0}")]
    LonOutOfRange(f64),
}

impl LatLngError {
    /// The field at fault: `"lat"` or `"lon"` (a NaN `lon` is `"lon"`).
    pub fn field(&self) -> &'static str {
        match self {
            LatLngError::NotFinite { axis, .. } => axis,
            LatLngError::LatOutOfRange(_) => "lat",
            LatLngError::LonOutOfRange(_) => "lon",
        }
    }
}

impl LatLng {
    /// Builds a position from latitude and longitude in degrees.
    ///
    /// # Errors
    /// [`LatLngError`] when either value is not finite or out of range.
    pub fn new(lat: f64, lon: f64) -> Result<Self, LatLngError> {
        if !lat.is_finite() {
            return Err(LatLngError::NotFinite {
                axis: "lat",
                value: lat,
            });
        }
        if !lon.is_finite() {
            return Err(LatLngError::NotFinite {
                axis: "lon",
                value: lon,
            });
        }
        if !(-90.0..=90.0).contains(&lat) {
            return Err(LatLngError::LatOutOfRange(lat));
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(LatLngError::LonOutOfRange(lon));
        }
        Ok(Self { lat, lon })
    }

    /// Latitude in degrees.
    pub fn lat(self) -> f64 {
        self.lat
    }

    /// Latitude and longitude 0, 0 (valid: open ocean).
    pub const ORIGIN: LatLng = LatLng { lat: 0.0, lon: 0.0 };

    /// Longitude in degrees.
    pub fn lon(self) -> f64 {
        self.lon
    }

    /// The position as a GeoJSON coordinate, `[lon, lat]`.
    pub fn to_lon_lat(self) -> [f64; 2] {
        [self.lon, self.lat]
    }

    /// Great-circle (haversine) distance to `other` in kilometres, on a
    /// sphere of radius [`EARTH_RADIUS_KM`]. Correct across the antimeridian
    /// and near the poles.
    ///
    /// ```
    /// use refmatch::model::LatLng;
    /// let a = LatLng::new(0.0, 179.5).unwrap();
    /// let b = LatLng::new(0.0, -179.5).unwrap();
    /// assert!((a.distance_km(b) - 111.2).abs() < 0.1);
    /// ```
    pub fn distance_km(self, other: LatLng) -> f64 {
        let (lat1, lat2) = (self.lat.to_radians(), other.lat.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.lon - self.lon).to_radians();
        let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
    }
}

impl<'de> Deserialize<'de> for LatLng {
    /// Reads `{"lat": …, "lon": …}` and validates it like [`LatLng::new`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            lat: f64,
            lon: f64,
        }
        let raw = Raw::deserialize(deserializer)?;
        LatLng::new(raw.lat, raw.lon).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for LatLng {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.5},{:.5}", self.lat, self.lon)
    }
}

/// How precisely a geocoded position is known, from finest to coarsest.
///
/// A provider placed only at its ZIP centroid says `postal_code`; a street
/// address the gazetteer cannot resolve to the door is never reported as
/// `point`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// Coordinates given directly.
    Point,
    /// Centroid of a US ZIP code.
    PostalCode,
    /// A city, town or village.
    Locality,
    /// A US county or county equivalent (parish, borough, municipio).
    County,
    /// A US state or territory.
    Region,
    /// A country.
    Country,
}

impl Precision {
    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Point => "point",
            Precision::PostalCode => "postal_code",
            Precision::Locality => "locality",
            Precision::County => "county",
            Precision::Region => "region",
            Precision::Country => "country",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_out_of_range_and_non_finite() {
        assert_eq!(
            LatLng::new(91.0, 0.0),
            Err(LatLngError::LatOutOfRange(91.0))
        );
        assert_eq!(
            LatLng::new(0.0, -181.0),
            Err(LatLngError::LonOutOfRange(-181.0))
        );
        assert!(matches!(
            LatLng::new(f64::NAN, 0.0),
            Err(LatLngError::NotFinite { axis: "lat", .. })
        ));
        assert!(matches!(
            LatLng::new(0.0, f64::INFINITY),
            Err(LatLngError::NotFinite { axis: "lon", .. })
        ));
        assert!(LatLng::new(0.0, 0.0).is_ok());
        assert!(LatLng::new(-90.0, 180.0).is_ok());
    }

    #[test]
    fn errors_name_the_field_at_fault() {
        let field = |lat: f64, lon: f64| LatLng::new(lat, lon).err().map(|e| e.field());
        assert_eq!(field(91.0, 0.0), Some("lat"));
        assert_eq!(field(f64::NAN, 0.0), Some("lat"));
        assert_eq!(field(0.0, -181.0), Some("lon"));
        // A NaN longitude is the longitude's fault (ingest once said "lat").
        assert_eq!(field(0.0, f64::NAN), Some("lon"));
        assert_eq!(field(0.0, 0.0), None);
    }

    #[test]
    fn distance_matches_known_pair() {
        // Los Angeles to New York, a textbook haversine example (~3936 km).
        let la = LatLng::new(34.0522, -118.2437).unwrap();
        let ny = LatLng::new(40.7128, -74.0060).unwrap();
        assert!((la.distance_km(ny) - 3936.0).abs() < 5.0);
    }

    proptest! {
        #[test]
        fn constructor_accepts_exactly_the_valid_range(lat in proptest::num::f64::ANY, lon in proptest::num::f64::ANY) {
            let ok = lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon);
            prop_assert_eq!(LatLng::new(lat, lon).is_ok(), ok);
        }

        #[test]
        fn distance_is_symmetric_and_bounded(a in -90.0f64..=90.0, b in -180.0f64..=180.0, c in -90.0f64..=90.0, d in -180.0f64..=180.0) {
            let p = LatLng::new(a, b).unwrap();
            let q = LatLng::new(c, d).unwrap();
            let pq = p.distance_km(q);
            prop_assert!((pq - q.distance_km(p)).abs() < 1e-6);
            prop_assert!((0.0..=std::f64::consts::PI * EARTH_RADIUS_KM + 1e-6).contains(&pq));
        }
    }
}
