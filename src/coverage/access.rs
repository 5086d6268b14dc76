//! Two-step floating catchment area (2SFCA) accessibility.
//!
//! # References
//! - Luo, W. and Wang, F. (2003). Measures of spatial accessibility to
//!   health care in a GIS environment: synthesis and a case study in the
//!   Chicago region. *Environment and Planning B* 30(6), 865–884.
//! - Dai, D. (2010). Black residential segregation, disparities in spatial
//!   access to health care facilities, and late-stage breast cancer
//!   diagnosis in metropolitan Detroit. *Health & Place* 16(5), 1038–1052
//!   (the Gaussian decay used here).

use crate::cancel::{Cancel, Cancelled};
use crate::model::{LatLng, EARTH_RADIUS_KM};
use rstar::primitives::GeomWithData;
use rstar::RTree;

/// How much a provider at distance `d` within the catchment `d0` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decay {
    /// Dai (2010): `W(d) = (exp(-½(d/d0)²) − exp(-½)) / (1 − exp(-½))`,
    /// 1 at the provider, falling smoothly to 0 at the catchment edge.
    Gaussian,
    /// Luo and Wang (2003): 1 within the catchment, 0 beyond.
    Binary,
}

impl Decay {
    /// Parses `gaussian` or `binary` (case-insensitive).
    pub fn parse(text: &str) -> Option<Decay> {
        match text.trim().to_ascii_lowercase().as_str() {
            "gaussian" => Some(Decay::Gaussian),
            "binary" => Some(Decay::Binary),
            _ => None,
        }
    }

    /// The parameter value.
    pub fn name(self) -> &'static str {
        match self {
            Decay::Gaussian => "gaussian",
            Decay::Binary => "binary",
        }
    }

    /// The weight at `distance_km` for a catchment of `catchment_km`: in
    /// 0–1, and 0 beyond the catchment.
    pub fn weight(self, distance_km: f64, catchment_km: f64) -> f64 {
        if distance_km > catchment_km {
            return 0.0;
        }
        match self {
            Decay::Binary => 1.0,
            Decay::Gaussian => {
                let edge = (-0.5f64).exp();
                let ratio = distance_km / catchment_km;
                (((-0.5 * ratio * ratio).exp() - edge) / (1.0 - edge)).max(0.0)
            }
        }
    }
}

type Demand = GeomWithData<[f64; 3], u32>;

fn unit(point: LatLng) -> [f64; 3] {
    let (lat, lon) = (point.lat().to_radians(), point.lon().to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// 2SFCA accessibility of each demand point: the supply within reach per
/// person, each provider's supply (1) shared among the population within
/// its catchment.
///
/// Step 1, for each provider `j`: `R_j = 1 / Σ_k P_k W(d_kj)` over the
/// demand points `k` within `catchment_km` (0 when none are). Step 2, for
/// each demand point `i`: `A_i = Σ_j R_j W(d_ij)` over the providers `j`
/// within `catchment_km`. Multiply by 100,000 for providers per 100,000
/// people.
///
/// `demand` is `(point, population)`; `supply` the providers' positions.
/// Distances are great-circle km. Runs on up to `threads` threads.
///
/// ```
/// use refmatch::coverage::{two_step_fca, Decay};
/// use refmatch::model::LatLng;
/// let town = LatLng::new(40.0, -100.0).unwrap();
/// // One provider, 50,000 people within reach: 2 per 100,000.
/// let a = two_step_fca(&[(town, 50_000.0)], &[town], 60.0, Decay::Binary, 1);
/// assert!((a[0] * 100_000.0 - 2.0).abs() < 1e-9);
/// ```
pub fn two_step_fca(
    demand: &[(LatLng, f64)],
    supply: &[LatLng],
    catchment_km: f64,
    decay: Decay,
    threads: usize,
) -> Vec<f64> {
    // A fresh token is never cancelled.
    two_step_fca_until(demand, supply, catchment_km, decay, threads, &Cancel::new())
        .unwrap_or_default()
}

/// [`two_step_fca`] that gives up, checking once per provider, when
/// `cancel` is cancelled.
pub(crate) fn two_step_fca_until(
    demand: &[(LatLng, f64)],
    supply: &[LatLng],
    catchment_km: f64,
    decay: Decay,
    threads: usize,
    cancel: &Cancel,
) -> Result<Vec<f64>, Cancelled> {
    let tree = RTree::bulk_load(
        demand
            .iter()
            .enumerate()
            .map(|(i, (p, _))| Demand::new(unit(*p), i as u32))
            .collect(),
    );
    // Chord length of the catchment on the unit sphere, squared, a little
    // widened so rounding never loses an edge point (the exact test is the
    // great-circle distance below).
    let chord = 2.0
        * (catchment_km / (2.0 * EARTH_RADIUS_KM))
            .min(std::f64::consts::FRAC_PI_2)
            .sin();
    let reach = (chord * (1.0 + 1e-9) + 1e-12).powi(2);
    let within = |provider: LatLng, visit: &mut dyn FnMut(usize, f64)| {
        for d in tree.locate_within_distance(unit(provider), reach) {
            let k = d.data as usize;
            let w = decay.weight(demand[k].0.distance_km(provider), catchment_km);
            if w > 0.0 {
                visit(k, w);
            }
        }
    };
    let threads = threads.clamp(1, 16);
    let chunk = supply.len().div_ceil(threads).max(1);
    let access = std::thread::scope(|scope| {
        let handles: Vec<_> = supply
            .chunks(chunk)
            .map(|providers| {
                let within = &within;
                scope.spawn(move || {
                    let mut access = vec![0.0; demand.len()];
                    let mut near: Vec<(usize, f64)> = Vec::new();
                    for &provider in providers {
                        if cancel.is_cancelled() {
                            break;
                        }
                        near.clear();
                        let mut total = 0.0;
                        within(provider, &mut |k, w| {
                            total += demand[k].1 * w;
                            near.push((k, w));
                        });
                        if total > 0.0 {
                            let ratio = 1.0 / total;
                            for &(k, w) in &near {
                                access[k] += ratio * w;
                            }
                        }
                    }
                    access
                })
            })
            .collect();
        let mut access = vec![0.0; demand.len()];
        for handle in handles {
            // A worker only panics on a bug; its share is then missing.
            if let Ok(part) = handle.join() {
                for (a, p) in access.iter_mut().zip(part) {
                    *a += p;
                }
            }
        }
        access
    });
    cancel.check()?;
    Ok(access)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_decay_is_one_at_zero_and_zero_at_the_edge() {
        assert!((Decay::Gaussian.weight(0.0, 60.0) - 1.0).abs() < 1e-12);
        assert!(Decay::Gaussian.weight(60.0, 60.0).abs() < 1e-12);
        assert_eq!(Decay::Gaussian.weight(61.0, 60.0), 0.0);
        let half = Decay::Gaussian.weight(30.0, 60.0);
        let expected = ((-0.125f64).exp() - (-0.5f64).exp()) / (1.0 - (-0.5f64).exp());
        assert!((half - expected).abs() < 1e-12);
        assert_eq!(Decay::Binary.weight(59.9, 60.0), 1.0);
    }
}
