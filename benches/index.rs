//! Criterion benchmarks for the directory index: building the snapshot,
//! `covering` (which providers serve a point), filtered `nearest`, and the
//! attribute-pruned `nearest_matching`. Results: `benches/README.md`.
//!
//! Run with `cargo bench --bench index`. The `index_build` and
//! `index_query` providers are synthetic, generated here from a fixed-seed
//! LCG at real US places from the gazetteer.
//!
//! The `nearest_matching` group uses the library's own generator
//! (`refmatch::synthetic`, seed 2026: the directory `refmatch generate
//! --count N --seed 2026` writes) at 3,200 providers, and at 1,000,000 when
//! `REFMATCH_BENCH_1M=1` is set (generating and indexing it takes about
//! 15 s and 3 GB; its benchmarks about a minute). Query points are every 41st row of
//! `data/gazetteer/us_zip.csv` (1,000 ZIP centroids), the same points
//! `benches/postgis-knn.sh` asks PostGIS about. Besides criterion's
//! figures, the group times each of the 1,000 queries and prints
//! percentiles for the pruned search, for `nearest` with a closure, and for
//! the pre-pruning implementation (rstar's `nearest_neighbor_iter` with a
//! closure, kept here as the baseline). With `REFMATCH_BENCH_RESULTS=FILE`
//! it writes the pruned search's answers (`n,query,rank,id,distance_km`).
#![allow(clippy::unwrap_used)]

use compact_str::CompactString;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use refmatch::gazetteer::{Gazetteer, Place};
use refmatch::index::{AttributeFilter, Bitset, Directory, Geometry, IndexOptions};
use refmatch::matching::{LanguageFit, WarmTransfer};
use refmatch::model::{
    AreaSpec, Availability, CapacityWindow, Kind, LatLng, Provider, ServiceCapacity, Visibility,
};
use rstar::primitives::GeomWithData;
use rstar::RTree;
use std::hint::black_box;
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

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
            let county: CompactString = place.county_fips.as_deref().unwrap_or_default().into();
            let roll = rng.unit();
            let service_area = if roll < 0.45 {
                vec![AreaSpec::Radius {
                    radius_km: 10.0 + 90.0 * rng.unit(),
                }]
            } else if roll < 0.75 {
                vec![AreaSpec::Counties { fips: vec![county] }]
            } else if roll < 0.90 {
                vec![AreaSpec::States {
                    codes: vec![place.admin1.as_str().into()],
                }]
            } else if roll < 0.95 {
                let other = places[rng.below(places.len())];
                vec![AreaSpec::Counties {
                    fips: vec![
                        county,
                        other.county_fips.as_deref().unwrap_or_default().into(),
                    ],
                }]
            } else {
                vec![AreaSpec::Nationwide {
                    country: "US".into(),
                }]
            };
            let issues = (0..1 + rng.below(3))
                .map(|_| CompactString::from(ISSUES[rng.below(ISSUES.len())]))
                .collect();
            let mut languages = vec![CompactString::from("en")];
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
                id: compact_str::format_compact!("bench-{i:07}"),
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
                location_confidential: false,
                service_area,
                visibility: Visibility::Public,
                verified_at: None,
                source: "synthetic".into(),
                funder: None,
                description: None,
                incomplete: false,
                capacity: Vec::new(),
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
                black_box(directory.covering(Geometry::Exact, points[i], gazetteer()))
            })
        });
        let places: Vec<_> = points.iter().map(|p| gazetteer().reverse(*p)).collect();
        group.bench_function(BenchmarkId::new("covering_in_prereversed", n), |b| {
            b.iter(|| {
                i = (i + 1) % points.len();
                black_box(directory.covering_in(Geometry::Exact, points[i], &places[i]))
            })
        });
        group.bench_function(BenchmarkId::new("nearest_k10", n), |b| {
            b.iter(|| {
                i = (i + 1) % points.len();
                black_box(directory.nearest(Geometry::Exact, points[i], 10, None, |_| true))
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
                black_box(
                    directory.nearest(Geometry::Exact, points[i], 10, None, |p| rare.contains(p)),
                )
            })
        });
        let compiled = directory.compile(&AttributeFilter {
            languages_any: vec![RARE_LANGUAGE.into()],
            ..AttributeFilter::default()
        });
        group.bench_function(
            BenchmarkId::new("nearest_matching_k10_filter_1.5pct", n),
            |b| {
                b.iter(|| {
                    i = (i + 1) % points.len();
                    black_box(directory.nearest_matching(
                        Geometry::Exact,
                        points[i],
                        10,
                        None,
                        &compiled,
                        |_| true,
                    ))
                })
            },
        );
        group.finish();
    }
}

/// Seed of the generated directories (as `refmatch generate --seed 2026`).
const SEED: u64 = 2026;

/// The selective filter of the `nearest_matching` group: of the candidate
/// single codes, the one whose pass rate on the generated 1M directory is
/// closest to 1.5% (the group prints every candidate's rate).
const FILTER: (Table, &str) = (Table::Language, "ar");

/// Candidate filters, as listed in the matching issue.
const CANDIDATES: [(Table, &str); 5] = [
    (Table::Issue, "workplace_discrimination"),
    (Table::Language, "hi"),
    (Table::Language, "zh"),
    (Table::Language, "fr"),
    (Table::Language, "ar"),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Table {
    Issue,
    Language,
}

impl Table {
    fn filter(self, code: &str) -> AttributeFilter {
        let codes = vec![code.to_owned()];
        match self {
            Table::Issue => AttributeFilter {
                issues_any: codes,
                ..AttributeFilter::default()
            },
            Table::Language => AttributeFilter {
                languages_any: codes,
                ..AttributeFilter::default()
            },
        }
    }

    fn set(self, directory: &Directory, code: &str) -> Bitset {
        match self {
            Table::Issue => directory.with_issue(code).clone(),
            Table::Language => directory.with_language(code).clone(),
        }
    }
}

/// Every 41st ZIP centroid of the bundled table, from the first row: 1,000
/// points across every state and territory (`benches/postgis-knn.sh` takes
/// the same rows with `awk`).
fn zip_points() -> Vec<(String, LatLng)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/gazetteer/us_zip.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("zip,lat,lon,"));
    lines
        .step_by(41)
        .take(1000)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let point = LatLng::new(cells[1].parse().unwrap(), cells[2].parse().unwrap()).unwrap();
            (cells[0].to_owned(), point)
        })
        .collect()
}

/// The nearest search as it was before attribute pruning: rstar's
/// best-first iterator over unit vectors, rejecting non-matching points one
/// by one (a copy of the removed `Directory::nearest` body).
struct Baseline {
    points: RTree<GeomWithData<[f64; 3], u32>>,
}

impl Baseline {
    fn build(directory: &Directory) -> Self {
        let points = directory
            .providers()
            .iter()
            .zip(0u32..)
            .filter_map(|(p, i)| Some(GeomWithData::new(unit_vector(p.location?), i)))
            .collect();
        Baseline {
            points: RTree::bulk_load(points),
        }
    }

    fn nearest(
        &self,
        point: LatLng,
        k: usize,
        max_km: Option<f64>,
        filter: impl Fn(u32) -> bool,
    ) -> Vec<(u32, f64)> {
        let mut found = Vec::with_capacity(k.min(256));
        if k == 0 {
            return found;
        }
        for (entry, chord2) in self
            .points
            .nearest_neighbor_iter_with_distance_2(&unit_vector(point))
        {
            let km = 2.0
                * refmatch::model::EARTH_RADIUS_KM
                * (chord2.sqrt() / 2.0).clamp(0.0, 1.0).asin();
            if max_km.is_some_and(|max| km > max) {
                break;
            }
            if filter(entry.data) {
                found.push((entry.data, km));
                if found.len() == k {
                    break;
                }
            }
        }
        found
    }
}

fn unit_vector(point: LatLng) -> [f64; 3] {
    let (lat, lon) = (point.lat().to_radians(), point.lon().to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// Times each query once per pass (one warm-up pass, then `PASSES`) and
/// prints the per-query latency percentiles.
fn percentiles(
    label: &str,
    n: usize,
    points: &[(String, LatLng)],
    query: impl Fn(LatLng) -> usize,
) {
    const PASSES: usize = 5;
    let mut hits = 0;
    for (_, p) in points {
        hits += black_box(query(*p));
    }
    let mut samples = Vec::with_capacity(points.len() * PASSES);
    for _ in 0..PASSES {
        for (_, p) in points {
            let started = Instant::now();
            black_box(query(*p));
            samples.push(started.elapsed());
        }
    }
    samples.sort_unstable();
    let at =
        |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6;
    let mean = samples.iter().sum::<Duration>().as_secs_f64() * 1e6 / samples.len() as f64;
    eprintln!(
        "per-query n={n} {label:<22} p50 {:>8.2} µs  p90 {:>8.2} µs  p99 {:>8.2} µs  max {:>8.1} µs  mean {:>8.2} µs  ({} queries × {PASSES}, {:.2} hits/query)",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        mean,
        points.len(),
        hits as f64 / points.len() as f64,
    );
}

/// Peak resident memory of this process so far (Linux), in MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1e3)
}

/// Capacity for the `nearest_matching` group's providers (issue 15), as
/// the matching bench gives it: fresh with room (a third), fresh and full
/// (a sixth), stale (a sixth), none (the rest).
fn with_capacity(providers: &mut [Provider]) {
    let now = jiff::Timestamp::now();
    for (i, p) in providers.iter_mut().enumerate() {
        let (available, hours) = match i % 6 {
            0 | 1 => (3, 1),
            2 => (0, 1),
            3 => (3, 72),
            _ => continue,
        };
        p.capacity = vec![ServiceCapacity {
            available,
            maximum: Some(12),
            unit: "beds".into(),
            updated_at: Some(now - jiff::SignedDuration::from_hours(hours)),
            updated_by: None,
        }];
    }
}

fn nearest_matching(c: &mut Criterion) {
    let points = zip_points();
    let mut sizes = vec![3_200];
    if std::env::var_os("REFMATCH_BENCH_1M").is_some_and(|v| v == "1") {
        sizes.push(1_000_000);
    } else {
        eprintln!(
            "nearest_matching: set REFMATCH_BENCH_1M=1 to add the 1,000,000-provider directory"
        );
    }
    let mut results = std::env::var_os("REFMATCH_BENCH_RESULTS")
        .map(|path| std::io::BufWriter::new(std::fs::File::create(path).unwrap()));
    if let Some(out) = &mut results {
        writeln!(out, "n,query,rank,id,distance_km").unwrap();
    }
    for n in sizes {
        let started = Instant::now();
        let mut providers = refmatch::synthetic::generate(gazetteer(), n, SEED);
        with_capacity(&mut providers);
        eprintln!(
            "generated n={n} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(std::io::stderr)
            .finish();
        let (directory, rejections) = tracing::subscriber::with_default(subscriber, || {
            Directory::build(providers, gazetteer(), IndexOptions::default()).unwrap()
        });
        let memory = directory.memory();
        eprintln!(
            "Directory::build n={n}: {:.1} s, {} rejected, {} located; point tree {:.1} MB; index memory ≈ {:.1} MB; peak RSS {:.0} MB",
            started.elapsed().as_secs_f64(),
            rejections.len(),
            directory.located().count(),
            memory.points as f64 / 1e6,
            memory.total() as f64 / 1e6,
            peak_rss_mb().unwrap_or(f64::NAN),
        );
        for (table, code) in CANDIDATES {
            let pass = directory.compile(&table.filter(code));
            let count = (0..directory.len() as u32)
                .filter(|&i| pass.accepts(i))
                .count();
            let located = directory
                .located()
                .iter()
                .filter(|&i| pass.accepts(i))
                .count();
            eprintln!(
                "filter {table:?} {code:<24} passes {count} of {n} = {:.3}% ({located} located){}",
                100.0 * count as f64 / n as f64,
                if (table, code) == FILTER {
                    "  <- benchmarked"
                } else {
                    ""
                },
            );
        }
        let filter = FILTER.0.filter(FILTER.1);
        let compiled = directory.compile(&filter);
        let set = FILTER.0.set(&directory, FILTER.1);
        let started = Instant::now();
        let baseline = Baseline::build(&directory);
        eprintln!(
            "baseline rstar bulk load n={n}: {:.2} s",
            started.elapsed().as_secs_f64()
        );

        // The three paths answer alike (distances; ties may swap ids).
        for (q, (zip, point)) in points.iter().enumerate() {
            let pruned =
                directory.nearest_matching(Geometry::Exact, *point, 10, None, &compiled, |_| true);
            let closure = directory.nearest(Geometry::Exact, *point, 10, None, |i| set.contains(i));
            let old = baseline.nearest(*point, 10, None, |i| set.contains(i));
            for other in [&closure, &old] {
                assert_eq!(pruned.len(), other.len(), "ZIP {zip}");
                for (a, b) in pruned.iter().zip(other) {
                    assert!(
                        (a.1 - b.1).abs() < 1e-9,
                        "ZIP {zip}: {pruned:?} vs {other:?}"
                    );
                }
            }
            if let Some(out) = &mut results {
                for (rank, (i, km)) in pruned.iter().enumerate() {
                    let id = &directory.providers()[*i as usize].id;
                    writeln!(out, "{n},{q},{},{id},{km:.6}", rank + 1).unwrap();
                }
            }
        }
        percentiles("nearest_matching", n, &points, |p| {
            directory
                .nearest_matching(Geometry::Exact, p, 10, None, &compiled, |_| true)
                .len()
        });
        // Issue 15: the same search with the warm-transfer conditions
        // (open now or 24-hour, accepting, a direct line; the language not
        // asked) checked on every candidate the walk reaches.
        let window = CapacityWindow::now(24);
        let warm = |i: u32| {
            WarmTransfer::is_ready(
                &directory.providers()[i as usize],
                Some("US"),
                LanguageFit::NotAsked,
                &window,
            )
        };
        percentiles("nearest_matching+warm_transfer", n, &points, |p| {
            directory
                .nearest_matching(Geometry::Exact, p, 10, None, &compiled, warm)
                .len()
        });
        percentiles("nearest(closure)", n, &points, |p| {
            directory
                .nearest(Geometry::Exact, p, 10, None, |i| set.contains(i))
                .len()
        });
        percentiles("baseline rstar+closure", n, &points, |p| {
            baseline.nearest(p, 10, None, |i| set.contains(i)).len()
        });

        let mut group = c.benchmark_group("nearest_matching");
        let mut i = 0;
        group.bench_function(BenchmarkId::new("pruned_k10", n), |b| {
            b.iter(|| {
                i = (i + 1) % points.len();
                black_box(directory.nearest_matching(
                    Geometry::Exact,
                    points[i].1,
                    10,
                    None,
                    &compiled,
                    |_| true,
                ))
            })
        });
        group.bench_function(BenchmarkId::new("warm_transfer_k10", n), |b| {
            b.iter(|| {
                i = (i + 1) % points.len();
                black_box(directory.nearest_matching(
                    Geometry::Exact,
                    points[i].1,
                    10,
                    None,
                    &compiled,
                    warm,
                ))
            })
        });
        group.bench_function(BenchmarkId::new("closure_k10", n), |b| {
            b.iter(|| {
                i = (i + 1) % points.len();
                black_box(
                    directory.nearest(Geometry::Exact, points[i].1, 10, None, |p| set.contains(p)),
                )
            })
        });
        group.bench_function(BenchmarkId::new("baseline_rstar_k10", n), |b| {
            b.iter(|| {
                i = (i + 1) % points.len();
                black_box(baseline.nearest(points[i].1, 10, None, |p| set.contains(p)))
            })
        });
        group.bench_function(BenchmarkId::new("unfiltered_k10", n), |b| {
            b.iter(|| {
                i = (i + 1) % points.len();
                black_box(directory.nearest(Geometry::Exact, points[i].1, 10, None, |_| true))
            })
        });
        group.bench_function(BenchmarkId::new("baseline_rstar_unfiltered_k10", n), |b| {
            b.iter(|| {
                i = (i + 1) % points.len();
                black_box(baseline.nearest(points[i].1, 10, None, |_| true))
            })
        });
        group.finish();
    }
    if let Some(mut out) = results {
        out.flush().unwrap();
    }
}

criterion_group!(benches, build, queries, nearest_matching);
criterion_main!(benches);
