//! The one bounding box: the `bbox` of listings and of H3 coverage, in
//! GeoJSON order, crossing the antimeridian when its western edge lies east
//! of its eastern edge (RFC 7946 §5.2).

use super::parameters::QueryError;
use super::EARTH_RADIUS_KM;
use serde::{Serialize, Serializer};

/// A longitude/latitude box in degrees, GeoJSON order
/// `[min_lon, min_lat, max_lon, max_lat]` (west, south, east, north).
/// `min_lon > max_lon` means the box crosses the antimeridian: `170,-20,
/// -170,20` is the 20° band around 180°. Serialises as that array.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    /// Western edge, degrees.
    pub min_lon: f64,
    /// Southern edge, degrees.
    pub min_lat: f64,
    /// Eastern edge, degrees.
    pub max_lon: f64,
    /// Northern edge, degrees.
    pub max_lat: f64,
}

impl BoundingBox {
    /// Parses `minLon,minLat,maxLon,maxLat` (west,south,east,north) in
    /// degrees. The box must have an area: south below north, and west
    /// unlike east (west above east crosses the antimeridian).
    ///
    /// # Errors
    /// [`QueryError`] on `bbox` saying what is wrong.
    pub fn parse(text: &str) -> Result<BoundingBox, QueryError> {
        let invalid = |why: &str| {
            QueryError::new(
                "bbox",
                format!(
                    "bbox must be minLon,minLat,maxLon,maxLat in degrees ({why}), got '{text}'"
                ),
            )
        };
        let numbers: Vec<f64> = text
            .split(',')
            .map(|n| n.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| invalid("four numbers"))?;
        let [min_lon, min_lat, max_lon, max_lat] = numbers[..] else {
            return Err(invalid("four numbers"));
        };
        if ![min_lon, max_lon]
            .iter()
            .all(|l| (-180.0..=180.0).contains(l))
        {
            return Err(invalid("longitudes from -180 to 180"));
        }
        if ![min_lat, max_lat]
            .iter()
            .all(|l| (-90.0..=90.0).contains(l))
        {
            return Err(invalid("latitudes from -90 to 90"));
        }
        if min_lat >= max_lat {
            return Err(invalid("minLat below maxLat"));
        }
        if min_lon == max_lon {
            return Err(invalid(
                "minLon unlike maxLon; minLon above maxLon crosses the antimeridian",
            ));
        }
        Ok(BoundingBox {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        })
    }

    /// Whether the box crosses the antimeridian (west above east).
    pub fn crosses_antimeridian(&self) -> bool {
        self.min_lon > self.max_lon
    }

    /// True when the point (degrees) lies in the box, edges included.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        let lon_ok = if self.crosses_antimeridian() {
            lon >= self.min_lon || lon <= self.max_lon
        } else {
            (self.min_lon..=self.max_lon).contains(&lon)
        };
        lon_ok && (self.min_lat..=self.max_lat).contains(&lat)
    }

    /// The box as one or two boxes that do not cross the antimeridian,
    /// each `[west, south, east, north]` with west below east.
    pub fn parts(&self) -> Vec<[f64; 4]> {
        let (s, n) = (self.min_lat, self.max_lat);
        if self.crosses_antimeridian() {
            vec![[self.min_lon, s, 180.0, n], [-180.0, s, self.max_lon, n]]
        } else {
            vec![[self.min_lon, s, self.max_lon, n]]
        }
    }

    /// Area on the sphere, km².
    pub fn area_km2(&self) -> f64 {
        self.parts()
            .iter()
            .map(|[w, s, e, n]| {
                EARTH_RADIUS_KM.powi(2)
                    * (e - w).to_radians()
                    * (n.to_radians().sin() - s.to_radians().sin())
            })
            .sum()
    }

    /// `[min_lon, min_lat, max_lon, max_lat]`, degrees.
    pub fn to_array(&self) -> [f64; 4] {
        [self.min_lon, self.min_lat, self.max_lon, self.max_lat]
    }
}

impl Serialize for BoundingBox {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_array().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_box_crossing_the_antimeridian_holds_both_sides_and_splits_in_two() {
        let bbox = BoundingBox::parse("170,-20,-170,20").unwrap();
        assert!(bbox.crosses_antimeridian());
        assert!(bbox.contains(0.0, 179.0) && bbox.contains(0.0, -179.0));
        assert!(!bbox.contains(0.0, 0.0));
        assert_eq!(
            bbox.parts(),
            [[170.0, -20.0, 180.0, 20.0], [-180.0, -20.0, -170.0, 20.0]]
        );
        let same_width = BoundingBox::parse("-10,-20,10,20").unwrap();
        assert!((bbox.area_km2() - same_width.area_km2()).abs() < 1e-6);
    }

    #[test]
    fn boxes_without_area_or_out_of_range_are_refused_on_bbox() {
        for text in [
            "1,2,3",
            "1,2,1,3",
            "0,5,10,5",
            "0,6,10,5",
            "-190,0,0,1",
            "0,-91,1,0",
            "a,b,c,d",
            "NaN,0,1,1",
        ] {
            let error = BoundingBox::parse(text).unwrap_err();
            assert_eq!(error.parameter, "bbox", "{text}");
            assert!(error.detail.contains(text), "{error}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepts_only_boxes_with_area(text in ".{0,60}") {
            if let Ok(bbox) = BoundingBox::parse(&text) {
                prop_assert!(bbox.min_lat < bbox.max_lat);
                prop_assert!(bbox.min_lon != bbox.max_lon);
                prop_assert!(bbox.area_km2() > 0.0);
            }
        }

        /// Every corner lies in the box; every point of a part lies in it;
        /// a point outside every part lies outside it.
        #[test]
        fn parts_cover_exactly_the_box(
            a in -180.0f64..180.0, b in -90.0f64..90.0, c in -180.0f64..180.0, d in -90.0f64..90.0,
            lat in -90.0f64..90.0, lon in -180.0f64..180.0,
        ) {
            prop_assume!(a != c && b != d);
            let (lo, hi) = (b.min(d), b.max(d));
            let bbox = BoundingBox::parse(&format!("{a},{lo},{c},{hi}")).unwrap();
            prop_assert!(bbox.contains(lo, a) && bbox.contains(hi, c));
            let in_parts = bbox.parts().iter().any(|[w, s, e, n]| {
                (*w..=*e).contains(&lon) && (*s..=*n).contains(&lat)
            });
            prop_assert_eq!(in_parts, bbox.contains(lat, lon));
        }
    }
}
