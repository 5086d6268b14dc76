//! Unit-sphere geometry for the spatial indexes.
//!
//! Positions are indexed as 3-D unit vectors `[x, y, z]` (x towards
//! lat 0 / lon 0, y towards lat 0 / lon 90° E, z towards the north pole).
//! The straight-line (chord) distance between two unit vectors grows
//! monotonically with their great-circle distance, so "nearest by chord" is
//! "nearest on the globe", also across the antimeridian and near the poles.

use crate::model::{LatLng, EARTH_RADIUS_KM};
use rstar::AABB;
use std::f64::consts::PI;

/// Slack added to cap envelopes (unit-sphere units, about 6 µm on the
/// ground) so floating-point rounding never drops a candidate; the final
/// decision is always an exact great-circle distance check.
const ENVELOPE_SLACK: f64 = 1e-12;

/// The unit vector of a position (`lat`, `lon` in degrees).
pub(crate) fn unit_vector(point: LatLng) -> [f64; 3] {
    let (lat, lon) = (point.lat().to_radians(), point.lon().to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// Great-circle distance in km for a chord length on the unit sphere.
pub(crate) fn chord_to_km(chord: f64) -> f64 {
    2.0 * EARTH_RADIUS_KM * (chord / 2.0).clamp(0.0, 1.0).asin()
}

/// Chord length on the unit sphere for a great-circle distance in km, or
/// `None` when `km` is NaN or at least half the circumference (every point
/// is that close).
pub(crate) fn km_to_chord(km: f64) -> Option<f64> {
    let angle = km / EARTH_RADIUS_KM;
    (angle < PI).then(|| 2.0 * (angle / 2.0).sin())
}

/// The axis-aligned 3-D box around the spherical cap of all points within
/// `radius_km` (great-circle) of `center`.
///
/// Along each axis `i` the cap spans the angles `[α − θ, α + θ]` from that
/// axis (α = angle between `center` and the axis, θ = the cap's angular
/// radius), clamped to `[0, π]`; the coordinate is the cosine of the angle.
pub(crate) fn cap_envelope(center: [f64; 3], radius_km: f64) -> AABB<[f64; 3]> {
    let theta = (radius_km / EARTH_RADIUS_KM).clamp(0.0, PI);
    let mut lower = [0.0; 3];
    let mut upper = [0.0; 3];
    for axis in 0..3 {
        let alpha = center[axis].clamp(-1.0, 1.0).acos();
        upper[axis] = (alpha - theta).max(0.0).cos() + ENVELOPE_SLACK;
        lower[axis] = (alpha + theta).min(PI).cos() - ENVELOPE_SLACK;
    }
    AABB::from_corners(lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstar::Envelope;

    fn chord(a: [f64; 3], b: [f64; 3]) -> f64 {
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
    }

    proptest! {
        #[test]
        fn chord_distance_equals_haversine(a in -90.0f64..=90.0, b in -180.0f64..=180.0, c in -90.0f64..=90.0, d in -180.0f64..=180.0) {
            let p = LatLng::new(a, b).unwrap();
            let q = LatLng::new(c, d).unwrap();
            let km = chord_to_km(chord(unit_vector(p), unit_vector(q)));
            prop_assert!((km - p.distance_km(q)).abs() < 1e-3, "{km} vs {}", p.distance_km(q));
        }

        #[test]
        fn km_to_chord_inverts_chord_to_km(km in 0.0f64..20_000.0) {
            let chord = km_to_chord(km).unwrap();
            prop_assert!((chord_to_km(chord) - km).abs() < 1e-6);
        }

        #[test]
        fn cap_envelope_holds_every_point_of_the_cap(a in -90.0f64..=90.0, b in -180.0f64..=180.0, c in -90.0f64..=90.0, d in -180.0f64..=180.0, radius_km in 0.0f64..25_000.0) {
            let center = LatLng::new(a, b).unwrap();
            let point = LatLng::new(c, d).unwrap();
            let envelope = cap_envelope(unit_vector(center), radius_km);
            if center.distance_km(point) <= radius_km {
                prop_assert!(envelope.contains_point(&unit_vector(point)));
            }
        }
    }
}
