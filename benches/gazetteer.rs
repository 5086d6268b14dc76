//! Criterion benchmarks for the offline gazetteer: loading, forward
//! geocoding and reverse geocoding. Results and targets: `benches/README.md`.
//!
//! Run with `cargo bench --bench gazetteer`.
#![allow(clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use refmatch::gazetteer::{Gazetteer, GazetteerFiles};
use refmatch::model::LatLng;
use std::hint::black_box;
use std::time::Duration;

/// Forward-geocoding cases: (benchmark name, query, expected to succeed).
const GEOCODE_CASES: &[(&str, &str, bool)] = &[
    ("zip", "93721", true),
    ("zip_plus4", "93721-1234", true),
    ("city_state", "Fresno, CA", true),
    ("city_state_nocomma", "San Juan PR", true),
    ("county", "Cook County, IL", true),
    ("city_country", "Lima, Peru", true),
    ("coordinates", "36.7378,-119.7871", true),
    ("not_found", "Fresnoo, CA", false),
];

/// Reverse-geocoding single points: (benchmark name, lat, lon).
const REVERSE_CASES: &[(&str, f64, f64)] = &[
    ("us_county", 36.7378, -119.7871), // Fresno, CA
    ("abroad", 50.45, 30.52),          // Kyiv
    ("ocean", 0.0, 0.0),               // Gulf of Guinea
];

/// Number of points in `reverse/mixed_1000`.
const MIXED_POINTS: usize = 1000;

fn gazetteer() -> Gazetteer {
    Gazetteer::bundled().expect("bundled gazetteer loads")
}

/// `n` deterministic pseudo-random points over the contiguous US bounding
/// box (lat 24.5..49.4, lon -124.8..-66.9), from a fixed-seed 64-bit LCG
/// (Knuth's MMIX constants). Some fall in the sea, Canada or Mexico, which
/// is intended: a realistic mix of lookups.
fn us_points(n: usize) -> Vec<LatLng> {
    let mut state: u64 = 0x5EED_F00D_CAFE_0001;
    let mut next_unit = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // Top 53 bits → [0, 1).
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let lat = 24.5 + next_unit() * (49.4 - 24.5);
            let lon = -124.8 + next_unit() * (124.8 - 66.9);
            LatLng::new(lat, lon).unwrap()
        })
        .collect()
}

fn bench_load(c: &mut Criterion) {
    let files = GazetteerFiles::bundled();
    // Time the load only: the loaded gazetteers are dropped outside the
    // timed loop (a server keeps its gazetteer; the CLI exits without
    // freeing it).
    c.bench_function("gazetteer_load", |b| {
        b.iter_with_large_drop(|| Gazetteer::load(black_box(&files)).unwrap());
    });
}

fn bench_geocode(c: &mut Criterion) {
    let gazetteer = gazetteer();
    let mut group = c.benchmark_group("geocode");
    for &(name, query, ok) in GEOCODE_CASES {
        // Make sure each case exercises the path its name says.
        assert_eq!(
            gazetteer.geocode(query).is_ok(),
            ok,
            "geocode({query:?}) should {}",
            if ok { "succeed" } else { "fail" }
        );
        group.bench_function(name, |b| {
            b.iter(|| gazetteer.geocode(black_box(query)));
        });
    }
    group.finish();
}

fn bench_reverse(c: &mut Criterion) {
    let gazetteer = gazetteer();
    let mut group = c.benchmark_group("reverse");
    for &(name, lat, lon) in REVERSE_CASES {
        let point = LatLng::new(lat, lon).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| gazetteer.reverse(black_box(point)));
        });
    }

    let points = us_points(MIXED_POINTS);
    let in_a_county = points
        .iter()
        .filter(|p| gazetteer.reverse(**p).county_fips.is_some())
        .count();
    assert!(
        in_a_county > MIXED_POINTS / 2,
        "most mixed points should land in a US county, got {in_a_county}"
    );
    group.throughput(Throughput::Elements(MIXED_POINTS as u64));
    group.bench_function("mixed_1000", |b| {
        b.iter(|| {
            for &point in &points {
                black_box(gazetteer.reverse(black_box(point)));
            }
        });
    });
    group.finish();
}

criterion_group! {
    name = load;
    // One load is a few hundred milliseconds: few samples, long enough window.
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(20));
    targets = bench_load
}
criterion_group!(lookups, bench_geocode, bench_reverse);
criterion_main!(load, lookups);
