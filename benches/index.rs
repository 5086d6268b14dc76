//! Criterion benchmarks for the directory index: building the snapshot,
//! `covering` (which providers serve a point) and filtered `nearest`.
//! Results: `benches/README.md`.
//!
//! Run with `cargo bench --bench index`. Providers are synthetic, generated
//! here from a fixed-seed LCG at real US places from the gazetteer.
#![allow(clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use refmatch::gazetteer::{Gazetteer, Place};
use refmatch::index::{Directory, IndexOptions};
use refmatch::model::{AreaSpec, Availability, Kind, LatLng, Provider, Visibility};
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

/// Directory sizes benchmarked.
const SIZES: [usize; 2] = [3_200, 100_000];

/// Issue codes handed out at random.
const ISSUES: [&str; 14] = [
    "sex_trafficking",
    "labor_trafficking",
    "domestic_violence",
    "sexual_assault",
    "runaway_homeless_youth",
    "immigration",
    "refugee_resettlement",
    "child_abuse",
    "missing_children",
    "wage_and_hour",
    "workplace_discrimination",
    "lgbtq_support",
    "suicide_prevention",
    "teen_dating_abuse",
];

/// The language given to about 1.5% of providers: the selective filter.
const RARE_LANGUAGE: &str = "so";

fn gazetteer() -> &'static Gazetteer {
    static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
    GAZETTEER.get_or_init(|| Gazetteer::bundled().unwrap())
}

/// A fixed-seed 64-bit LCG (Knuth's MMIX constants) giving `[0, 1)`.
struct Lcg(u64);

impl Lcg {
    fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.unit() * n as f64) as usize).min(n.saturating_sub(1))
    }
}

/// US places (states, DC, territories) in a county with an outline.
fn us_places() -> Vec<&'static Place> {
    let g = gazetteer();
    g.places()
        .iter()
        .filter(|p| refmatch::gazetteer::is_us_or_territory(&p.country))
        .filter(|p| {
            p.county_fips
                .as_deref()
                .is_some_and(|f| g.county(f).is_some())
        })
        .filter(|p| g.state(&p.admin1).is_some())
        .collect()
}

/// `n` synthetic providers: 45% radius (10–100 km), 30% their county, 15%
/// their state, 5% two counties, 5% nationwide US.
fn providers(n: usize) -> Vec<Provider> {
    let places = us_places();
    let mut rng = Lcg(0x5EED_1DE7_0000_0001 ^ n as u64);
    (0..n)
        .map(|i| {
            let place = places[rng.below(places.len())];
            let county = place.county_fips.clone().unwrap_or_default();
            let roll = rng.unit();
            let service_area = if roll < 0.45 {
                vec![AreaSpec::Radius {
                    radius_km: 10.0 + 90.0 * rng.unit(),
                }]
            } else if roll < 0.75 {
                vec![AreaSpec::Counties { fips: vec![county] }]
            } else if roll < 0.90 {
                vec![AreaSpec::States {
                    codes: vec![place.admin1.clone()],
                }]
            } else if roll < 0.95 {
                let other = places[rng.below(places.len())];
                vec![AreaSpec::Counties {
                    fips: vec![county, other.county_fips.clone().unwrap_or_default()],
                }]
            } else {
                vec![AreaSpec::Nationwide {
                    country: "US".into(),
                }]
            };
            let issues = (0..1 + rng.below(3))
                .map(|_| ISSUES[rng.below(ISSUES.len())].to_owned())
                .collect();
            let mut languages = vec!["en".to_owned()];
            if rng.unit() < 0.3 {
                languages.push("es".into());
            }
            if rng.unit() < 0.015 {
                languages.push(RARE_LANGUAGE.into());
            }
            // Jitter within ~5 km so providers of one town differ.
            let location = LatLng::new(
                (place.point.lat() + (rng.unit() - 0.5) * 0.09).clamp(-90.0, 90.0),
                (place.point.lon() + (rng.unit() - 0.5) * 0.09).clamp(-180.0, 180.0),
            )
            .unwrap();
            Provider {
                id: format!("bench-{i:07}"),
                name: format!("Bench provider {i}"),
                organization: None,
                kind: Kind::ALL[rng.below(Kind::ALL.len())],
                issues,
                services: Vec::new(),
                populations: Vec::new(),
                languages,
                availability: if rng.unit() < 0.2 {
                    Availability::Open24h
                } else {
                    Availability::Unknown
                },
                hours_note: None,
                phones: Vec::new(),
                email: None,
                website: None,
                contact_name: None,
                law_enforcement: false,
                address: None,
                location: Some(location),
                precision: None,
                service_area,
                visibility: Visibility::Public,
                verified_at: None,
                source: "synthetic".into(),
                funder: None,
                description: None,
                incomplete: false,
            }
        })
        .collect()
}

/// 1,000 query points at random US places, jittered by ~10 km.
fn query_points() -> Vec<LatLng> {
    let places = us_places();
    let mut rng = Lcg(0xC0FF_EE00_0000_0042);
    (0..1000)
        .map(|_| {
            let p = places[rng.below(places.len())].point;
            LatLng::new(
                (p.lat() + (rng.unit() - 0.5) * 0.18).clamp(-90.0, 90.0),
                (p.lon() + (rng.unit() - 0.5) * 0.18).clamp(-180.0, 180.0),
            )
            .unwrap()
        })
        .collect()
}

fn directory(n: usize) -> Directory {
    let (directory, rejections) =
        Directory::build(providers(n), gazetteer(), IndexOptions::default()).unwrap();
    assert!(rejections.is_empty(), "{:?}", &rejections[..1]);
    let memory = directory.memory();
    eprintln!(
        "index n={n}: {} regions, {} cells, index memory ≈ {:.1} MB ({memory:?})",
        directory.regions().len(),
        directory.cell_count(),
        memory.total() as f64 / 1e6,
    );
    directory
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("index_build");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for n in SIZES {
        let input = providers(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &input, |b, input| {
            b.iter_batched(
                || input.clone(),
                |providers| {
                    Directory::build(providers, gazetteer(), IndexOptions::default()).unwrap()
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn queries(c: &mut Criterion) {
    let points = query_points();
    for n in SIZES {
        let directory = directory(n);
        let mut group = c.benchmark_group("index_query");
        let mut i = 0;
        group.bench_function(BenchmarkId::new("covering", n), |b| {
            b.iter(|| {
                i = (i + 1) % points.len();
                black_box(directory.covering(points[i], gazetteer()))
            })
        });
        let places: Vec<_> = points.iter().map(|p| gazetteer().reverse(*p)).collect();
        group.bench_function(BenchmarkId::new("covering_in_prereversed", n), |b| {
            b.iter(|| {
                i = (i + 1) % points.len();
                black_box(directory.covering_in(points[i], &places[i]))
            })
        });
        group.bench_function(BenchmarkId::new("nearest_k10", n), |b| {
            b.iter(|| {
                i = (i + 1) % points.len();
                black_box(directory.nearest(points[i], 10, None, |_| true))
            })
        });
        let rare = directory.with_language(RARE_LANGUAGE);
        eprintln!(
            "filter passes {:.2}% of {n}",
            100.0 * rare.count() as f64 / directory.len() as f64
        );
        group.bench_function(BenchmarkId::new("nearest_k10_filter_1.5pct", n), |b| {
            b.iter(|| {
                i = (i + 1) % points.len();
                black_box(directory.nearest(points[i], 10, None, |p| rare.contains(p)))
            })
        });
        group.finish();
    }
}

criterion_group!(benches, build, queries);
criterion_main!(benches);
