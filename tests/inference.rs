//! The public API played by an attacker without a key who wants the true
//! point of a shelter the public is shown only at its coarsened point (the
//! centre of its H3 resolution-5 cell).
//!
//! For every public record of the bundled directory whose location is
//! confidential, each attack below estimates the true point from what the
//! public endpoints publish, with only what an attacker has: the public
//! answers, the public records (listed page by page) and the documented
//! formulas. The test fails when any estimate lands closer to the true
//! point than half the coarsening error (the distance from the true point
//! to the coarsened one): closer than that, arithmetic on the answers has
//! recovered more than the coarsened point gives away.
//!
//! - **coverage fit**: `/v1/coverage?by=h3&resolution=8` over a small box,
//!   `nearest_km` beside each cell's label point, least squares;
//! - **distance fit**: `/v1/match` from 25 caller points, the published
//!   `distance_km` (the published `score` no longer depends on distance),
//!   least squares;
//! - **radius bisection**: `/v1/match?radius_km=` bisected until the record
//!   appears, from several caller points, then trilateration;
//! - **service-area edge**: for a radius area, `serves_location` probed
//!   along rays until it flips, then the centre of the circle of the
//!   published radius through the edge points;
//! - **rank order**: the order of the record against public records at
//!   known points (scores ignored, the documented formula with the
//!   record's constant fitted), bisected along rays, then least squares.
//!
//! The attacks are real: on a build whose public figures come from the
//! true point (`View::geometry` answering `Geometry::Exact` for the
//! public) they land within metres; `--nocapture` prints the table.

mod common;

use axum::http::StatusCode;
use refmatch::api::router;
use refmatch::index::coarsen;
use refmatch::model::LatLng;
use serde_json::Value;
use std::collections::HashMap;

/// Km per degree of latitude on the model sphere.
const KM_PER_DEGREE: f64 = 111.194_93;

/// A public GET through the router; the body as JSON.
async fn get(app: &axum::Router, uri: &str) -> Value {
    let (status, text) = fetch(app, uri, None).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{uri}: not JSON: {text}"))
}

/// A point `east_km`, `north_km` from `origin` (local tangent plane).
fn offset(origin: LatLng, east_km: f64, north_km: f64) -> LatLng {
    let lat = origin.lat() + north_km / KM_PER_DEGREE;
    let lon = origin.lon() + east_km / (KM_PER_DEGREE * origin.lat().to_radians().cos());
    LatLng::new(lat.clamp(-90.0, 90.0), lon).expect("in range")
}

/// An observation for a fit: a point, and the value the attack read there.
type Observation = (LatLng, f64);

/// Least squares over the position of the hidden point (and, with
/// `free_constant`, an additive constant of the model) by a grid search
/// refined around the best cell: robust to a cost with several dips.
/// `model(km)` is the value expected at distance `km`. Observations whose
/// residual stands out are dropped and the fit repeated once.
fn fit(
    around: LatLng,
    observations: &[Observation],
    model: impl Fn(f64) -> f64,
    free_constant: bool,
) -> Option<LatLng> {
    if observations.len() < 3 {
        return None;
    }
    let mut kept: Vec<Observation> = observations.to_vec();
    let mut best = around;
    for round in 0..2 {
        let cost = |p: LatLng| -> f64 {
            let residuals: Vec<f64> = kept
                .iter()
                .map(|(at, value)| value - model(p.distance_km(*at)))
                .collect();
            let shift = if free_constant {
                residuals.iter().sum::<f64>() / residuals.len() as f64
            } else {
                0.0
            };
            residuals.iter().map(|r| (r - shift).powi(2)).sum()
        };
        let (mut centre, mut step) = (around, 1.0);
        let mut steps = 20; // ±20 km at 1 km, then finer
        for _ in 0..9 {
            let mut best_cost = f64::INFINITY;
            let mut best_here = centre;
            for i in -steps..=steps {
                for j in -steps..=steps {
                    let p = offset(centre, f64::from(i) * step, f64::from(j) * step);
                    let c = cost(p);
                    if c < best_cost {
                        best_cost = c;
                        best_here = p;
                    }
                }
            }
            centre = best_here;
            step /= 5.0;
            steps = 6;
        }
        best = centre;
        if round == 0 {
            // Drop outliers (another record was nearest, a rounding step):
            // residuals above three times the median.
            let mut residuals: Vec<f64> = kept
                .iter()
                .map(|(at, value)| (value - model(best.distance_km(*at))).abs())
                .collect();
            let mut sorted = residuals.clone();
            sorted.sort_by(f64::total_cmp);
            let median = sorted[sorted.len() / 2];
            let limit = (3.0 * median).max(1e-6);
            let mut next = Vec::new();
            for (o, r) in kept.iter().zip(residuals.drain(..)) {
                if r <= limit {
                    next.push(*o);
                }
            }
            if next.len() < 3 {
                break;
            }
            kept = next;
        }
    }
    Some(best)
}

/// A public record whose location is confidential, as the attacker knows
/// it (public fields), and its true point (known to the test only).
struct Target {
    id: String,
    kind: String,
    issues: Vec<String>,
    /// Where the public is shown it.
    shown: LatLng,
    truth: LatLng,
}

/// A public record as listed to the public.
#[derive(Clone)]
struct Listed {
    kind: String,
    issues: Vec<String>,
    /// The point published.
    at: LatLng,
    /// The published point is a coarsened one (`location_approximate`).
    approximate: bool,
}

/// Every public record as listed to the public, by id.
async fn public_records(app: &axum::Router) -> HashMap<String, Listed> {
    let mut records = HashMap::new();
    let mut uri = "/v1/providers?limit=1000".to_owned();
    loop {
        let page = get(app, &uri).await;
        for feature in page["features"].as_array().expect("features") {
            let p = &feature["properties"];
            let at = &feature["geometry"]["coordinates"];
            let Some(point) = at[1]
                .as_f64()
                .zip(at[0].as_f64())
                .and_then(|(lat, lon)| LatLng::new(lat, lon).ok())
            else {
                continue;
            };
            let issues = p["issues"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            records.insert(
                p["id"].as_str().unwrap_or_default().to_owned(),
                Listed {
                    kind: p["kind"].as_str().unwrap_or("").to_owned(),
                    issues,
                    at: point,
                    approximate: p["location_approximate"] == true,
                },
            );
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => uri = format!("/v1/providers?limit=1000&cursor={cursor}"),
            None => break,
        }
    }
    records
}

/// The issue of `target` the fewest public records near it share (the
/// attacker's most selective filter).
fn rarest_issue(target: &Target, records: &HashMap<String, Listed>) -> String {
    target
        .issues
        .iter()
        .min_by_key(|issue| {
            records
                .values()
                .filter(|r| r.issues.contains(issue) && r.at.distance_km(target.shown) < 60.0)
                .count()
        })
        .cloned()
        .unwrap_or_default()
}

/// The target's entry in a match answer (JSON format).
fn result_for<'v>(answer: &'v Value, id: &str) -> Option<&'v Value> {
    answer["results"].as_array()?.iter().find(|r| r["id"] == id)
}

async fn coverage_fit(app: &axum::Router, t: &Target, issue: &str) -> Option<LatLng> {
    let (lat, lon) = (t.shown.lat(), t.shown.lon());
    let uri = format!(
        "/v1/coverage?by=h3&resolution=8&bbox={},{},{},{}&issue={issue}&kind={}&include_hotlines=true&tolerance=0",
        lon - 0.12,
        lat - 0.1,
        lon + 0.12,
        lat + 0.1,
        t.kind
    );
    let answer = get(app, &uri).await;
    let observations: Vec<Observation> = answer["features"]
        .as_array()?
        .iter()
        .filter(|f| f["properties"]["people_points"] == 1)
        .filter_map(|f| {
            let p = &f["properties"];
            let at = LatLng::new(p["label_lat"].as_f64()?, p["label_lon"].as_f64()?).ok()?;
            Some((at, p["nearest_km"].as_f64()?))
        })
        .collect();
    fit(t.shown, &observations, |km| km, false)
}

async fn distance_fit(app: &axum::Router, t: &Target, issue: &str) -> Option<LatLng> {
    let mut observations: Vec<Observation> = Vec::new();
    for i in -2..=2 {
        for j in -2..=2 {
            let caller = offset(t.shown, f64::from(i) * 6.0, f64::from(j) * 6.0);
            let uri = format!(
                "/v1/match?lat={}&lon={}&issue={issue}&limit=100&format=json",
                caller.lat(),
                caller.lon()
            );
            let answer = get(app, &uri).await;
            if let Some(km) = result_for(&answer, &t.id).and_then(|r| r["distance_km"].as_f64()) {
                observations.push((caller, km));
            }
        }
    }
    fit(t.shown, &observations, |km| km, false)
}

/// Whether the target appears within `radius_km` of `caller`.
async fn appears_within(
    app: &axum::Router,
    t: &Target,
    issue: &str,
    caller: LatLng,
    radius_km: f64,
) -> bool {
    let uri = format!(
        "/v1/match?lat={}&lon={}&issue={issue}&radius_km={radius_km}&limit=100&format=json",
        caller.lat(),
        caller.lon()
    );
    result_for(&get(app, &uri).await, &t.id).is_some()
}

async fn radius_bisection(app: &axum::Router, t: &Target, issue: &str) -> Option<LatLng> {
    let mut observations = Vec::new();
    for (east, north) in [(0.0, 0.0), (15.0, 0.0), (-8.0, 13.0), (-8.0, -13.0)] {
        let caller = offset(t.shown, east, north);
        let (mut lo, mut hi) = (0.0001, caller.distance_km(t.shown) + 20.0);
        if !appears_within(app, t, issue, caller, hi).await {
            continue;
        }
        while hi - lo > 0.005 {
            let mid = (lo + hi) / 2.0;
            if appears_within(app, t, issue, caller, mid).await {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        observations.push((caller, (lo + hi) / 2.0));
    }
    fit(t.shown, &observations, |km| km, false)
}

/// Whether the target is listed as serving `caller`.
async fn serves(app: &axum::Router, t: &Target, issue: &str, caller: LatLng) -> bool {
    let uri = format!(
        "/v1/match?lat={}&lon={}&issue={issue}&limit=100&format=json",
        caller.lat(),
        caller.lon()
    );
    result_for(&get(app, &uri).await, &t.id).is_some_and(|r| r["serves_location"] == true)
}

async fn service_area_edge(app: &axum::Router, t: &Target, issue: &str) -> Option<LatLng> {
    // The published radius, from the reasons ("in person: serves within
    // 45 km of its office").
    let uri = format!(
        "/v1/match?lat={}&lon={}&issue={issue}&limit=100&format=json",
        t.shown.lat(),
        t.shown.lon()
    );
    let answer = get(app, &uri).await;
    let radius_km: f64 = result_for(&answer, &t.id)?["reasons"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find_map(|r| {
            r.split_once("serves within ")?
                .1
                .split(' ')
                .next()?
                .parse()
                .ok()
        })?;
    let mut observations = Vec::new();
    for ray in 0..6 {
        let angle = f64::from(ray) * std::f64::consts::PI / 3.0;
        let along = |km: f64| offset(t.shown, km * angle.cos(), km * angle.sin());
        let (mut lo, mut hi) = (0.0, radius_km + 30.0);
        if !serves(app, t, issue, along(lo)).await || serves(app, t, issue, along(hi)).await {
            continue;
        }
        while hi - lo > 0.005 {
            let mid = (lo + hi) / 2.0;
            if serves(app, t, issue, along(mid)).await {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        observations.push((along((lo + hi) / 2.0), radius_km));
    }
    fit(t.shown, &observations, |km| km, false)
}

/// The ranked ids of a match at `caller` with `issue`, and each one's tier.
async fn ranking(app: &axum::Router, issue: &str, caller: LatLng) -> Vec<(String, String)> {
    let uri = format!(
        "/v1/match?lat={}&lon={}&issue={issue}&limit=100&format=json",
        caller.lat(),
        caller.lon()
    );
    get(app, &uri).await["results"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    (
                        r["id"].as_str().unwrap_or("").to_owned(),
                        r["tier"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Rank order, scores ignored: the order of the target against a public
/// record at a known point ranked near it in the same tier, bisected along
/// rays to where the two swap. At a swap the two effective distances
/// (`km / e^bonus`) are equal, so the logarithms of the two distances
/// differ by the records' constant bonus difference (fitted), and each
/// swap point gives the target's distance.
async fn rank_order(
    app: &axum::Router,
    t: &Target,
    issue: &str,
    records: &HashMap<String, Listed>,
) -> Option<LatLng> {
    let log_km = |km: f64| km.max(1e-6).ln();
    const REACH_KM: f64 = 25.0;
    const RAYS: u8 = 16;
    let start = ranking(app, issue, t.shown).await;
    let at = start.iter().position(|(id, _)| *id == t.id)?;
    let tier = start[at].1.clone();
    // Records at known points in the same tier, nearest in rank first.
    let mut candidates: Vec<(usize, String)> = start
        .iter()
        .enumerate()
        .filter(|(i, (id, tier_of))| {
            *i != at && *tier_of == tier && records.get(id).is_some_and(|r| !r.approximate)
        })
        .map(|(i, (id, _))| (i.abs_diff(at), id.clone()))
        .collect();
    candidates.sort();
    candidates.truncate(4);
    // Whether the target ranks before `reference`, both still in the tier
    // they had at the start (across tiers the order says nothing of scores).
    let before = |order: &[(String, String)], reference: &str| {
        let a = order
            .iter()
            .position(|(id, t_of)| *id == t.id && *t_of == tier);
        let b = order
            .iter()
            .position(|(id, t_of)| id == reference && *t_of == tier);
        match (a, b) {
            (Some(a), Some(b)) => Some(a < b),
            _ => None,
        }
    };
    let along = |ray: u8, km: f64| {
        let angle = f64::from(ray) * std::f64::consts::TAU / f64::from(RAYS);
        offset(t.shown, km * angle.cos(), km * angle.sin())
    };
    let mut far = Vec::new();
    for ray in 0..RAYS {
        far.push(ranking(app, issue, along(ray, REACH_KM)).await);
    }
    // The reference whose order against the target changes on most rays.
    let (reference, rays) = candidates
        .iter()
        .map(|(_, id)| {
            let near = before(&start, id);
            let rays: Vec<u8> = (0..RAYS)
                .filter(|&ray| {
                    let there = before(&far[usize::from(ray)], id);
                    there.is_some() && there != near
                })
                .collect();
            (id.clone(), rays)
        })
        .max_by_key(|(_, rays)| rays.len())?;
    let reference_at = records.get(&reference)?.at;
    let near = before(&start, &reference);
    // Swap points: (caller, the log of the reference's distance there).
    let mut swaps: Vec<Observation> = Vec::new();
    for ray in rays {
        let (mut lo, mut hi) = (0.0, REACH_KM);
        let mut broken = false;
        while hi - lo > 0.005 {
            let mid = (lo + hi) / 2.0;
            match before(&ranking(app, issue, along(ray, mid)).await, &reference) {
                None => {
                    broken = true;
                    break;
                }
                order if order == near => lo = mid,
                _ => hi = mid,
            }
        }
        if !broken {
            let swap = along(ray, (lo + hi) / 2.0);
            swaps.push((swap, log_km(swap.distance_km(reference_at))));
        }
    }
    // At a swap, ln d(target) = ln d(reference) + constant.
    fit(t.shown, &swaps, log_km, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_attack_on_public_answers_recovers_a_hidden_location() {
    let f = common::fixture();
    let app = router(f.state.clone());
    let records = public_records(&app).await;
    let snapshot = f.state.live.snapshot();
    let targets: Vec<Target> = snapshot
        .directory
        .providers()
        .iter()
        .filter(|p| p.is_public() && p.location_confidential)
        .filter_map(|p| {
            let truth = p.location?;
            let listed = records.get(p.id.as_str())?;
            Some(Target {
                id: p.id.to_string(),
                kind: listed.kind.clone(),
                issues: listed.issues.clone(),
                shown: listed.at,
                truth,
            })
        })
        .collect();
    assert!(
        targets.len() >= 50,
        "the sample has public records with confidential locations, each listed"
    );
    let attacks = [
        "coverage fit",
        "distance fit",
        "radius bisection",
        "service-area edge",
        "rank order",
    ];
    let mut tried = [0usize; 5];
    let mut close = [0usize; 5];
    let mut landed: Vec<String> = Vec::new();
    for t in &targets {
        // (serde_json may read the last digit differently.)
        assert!(
            t.shown.distance_km(coarsen(t.truth)) < 1e-6,
            "{} is shown coarsened",
            t.id
        );
        let hidden_km = t.truth.distance_km(t.shown);
        let issue = rarest_issue(t, &records);
        let estimates = [
            coverage_fit(&app, t, &issue).await,
            distance_fit(&app, t, &issue).await,
            radius_bisection(&app, t, &issue).await,
            service_area_edge(&app, t, &issue).await,
            rank_order(&app, t, &issue, &records).await,
        ];
        for (a, estimate) in estimates.into_iter().enumerate() {
            let Some(estimate) = estimate else { continue };
            tried[a] += 1;
            let error_km = estimate.distance_km(t.truth);
            if error_km < hidden_km / 2.0 {
                close[a] += 1;
                landed.push(format!(
                    "{}: {} lands {:.3} km from the true point (coarsened {:.3} km away)",
                    attacks[a], t.id, error_km, hidden_km
                ));
            }
        }
    }
    for ((name, n), k) in attacks.iter().zip(tried).zip(close) {
        println!("{name}: {n} estimates, {k} closer than half the coarsening error");
    }
    for line in landed.iter().take(20) {
        println!("{line}");
    }
    // Each attack had something to work on, so the test can fail.
    assert!(
        tried.iter().all(|&n| n > 0),
        "every attack found observations: {tried:?}"
    );
    assert!(
        landed.is_empty(),
        "{} of the attacks recovered a hidden location:\n{}",
        landed.len(),
        landed[..landed.len().min(20)].join("\n")
    );
}

/// A GET as the public (`auth: None`) or with a key: status and body text.
async fn fetch(app: &axum::Router, uri: &str, auth: Option<&str>) -> (StatusCode, String) {
    let (status, bytes) = common::get_bytes(app, uri, auth).await;
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// The whole public API cannot tell two directories apart that differ only
/// in what the public must not learn: every public record whose location is
/// confidential moved elsewhere in its coarse cell, every confidential
/// record moved up to half a degree. Every public answer near the shelters
/// (matches in both formats, with and without `radius_km`, coverage of
/// small H3 cells and by state, suggested sites, listings by bbox,
/// hotlines) is the same byte for byte; the advocate's answers differ, so
/// the comparison can fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_answers_are_the_same_wherever_hidden_points_really_are() {
    let original = common::fixture();
    // A fixed-seed stream of offsets, km.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let mut moved_shelters = 0;
    let moved = common::fixture_with(|providers| {
        for p in providers.iter_mut() {
            let Some(location) = p.location else { continue };
            if !p.is_public() {
                p.location = LatLng::new(
                    (location.lat() + 0.5 * next()).clamp(-89.0, 89.0),
                    (location.lon() + 0.5 * next()).clamp(-180.0, 180.0),
                )
                .ok();
            } else if p.location_confidential {
                for _ in 0..20 {
                    let there = offset(location, 5.0 * next(), 5.0 * next());
                    if coarsen(there) == coarsen(location) && there.distance_km(location) > 0.5 {
                        p.location = Some(there);
                        moved_shelters += 1;
                        break;
                    }
                }
            }
        }
    });
    assert!(
        moved_shelters > 50,
        "shelters moved within their cells: {moved_shelters}"
    );
    let (a, b) = (router(original.state.clone()), router(moved.state.clone()));

    let snapshot = original.state.live.snapshot();
    let shown: Vec<LatLng> = snapshot
        .directory
        .providers()
        .iter()
        .filter(|p| p.is_public() && p.location_confidential)
        .filter_map(|p| Some(coarsen(p.location?)))
        .collect();
    let mut uris = vec![
        "/v1/coverage?by=state&issue=domestic_violence&include_hotlines=true".to_owned(),
        "/v1/coverage?by=state&issue=trafficking&format=csv".to_owned(),
        "/v1/coverage/suggest?by=state&issue=sexual_assault&include_hotlines=true&sites=5"
            .to_owned(),
        "/v1/hotlines?country=US".to_owned(),
    ];
    for at in &shown {
        let (lat, lon) = (at.lat(), at.lon());
        for extra in ["", "&radius_km=12", "&radius_km=30&issue=sex_trafficking"] {
            for format in ["json", "geojson"] {
                uris.push(format!(
                    "/v1/match?lat={lat}&lon={lon}&limit=100&format={format}{extra}"
                ));
            }
        }
        let near = offset(*at, 7.0, -4.0);
        uris.push(format!(
            "/v1/match?lat={}&lon={}&limit=100&format=json&issue=trafficking",
            near.lat(),
            near.lon()
        ));
        uris.push(format!(
            "/v1/coverage?by=h3&resolution=8&bbox={},{},{},{}&include_hotlines=true&tolerance=0",
            lon - 0.08,
            lat - 0.06,
            lon + 0.08,
            lat + 0.06
        ));
        uris.push(format!(
            "/v1/providers?bbox={},{},{},{}&limit=1000",
            lon - 0.1,
            lat - 0.1,
            lon + 0.1,
            lat + 0.1
        ));
    }
    for uri in &uris {
        let (status_a, body_a) = fetch(&a, uri, None).await;
        let (status_b, body_b) = fetch(&b, uri, None).await;
        assert_eq!(status_a, StatusCode::OK, "{uri}: {body_a}");
        assert_eq!(status_b, status_a, "{uri}");
        assert!(
            body_a == body_b,
            "{uri}: the public answer depends on a hidden point"
        );
    }
    // Staff see the true points: the same questions tell the two apart.
    let mut staff_differs = 0;
    for uri in uris.iter().filter(|u| u.starts_with("/v1/match")).take(40) {
        let (_, body_a) = fetch(&a, uri, Some(&format!("Bearer {}", original.advocate_key))).await;
        let (_, body_b) = fetch(&b, uri, Some(&format!("Bearer {}", moved.advocate_key))).await;
        staff_differs += usize::from(body_a != body_b);
    }
    assert!(staff_differs > 10, "staff answers differ: {staff_differs}");
}
