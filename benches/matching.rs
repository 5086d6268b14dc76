//! In-process match latency: `Matcher::run` (geocoding, candidates,
//! ranking, reasons) on the bundled 3.2k directory, and on 1,000,000
//! generated providers when `REFMATCH_BENCH_1M=1`.
//!
//! Criterion reports the median of batches; the p50/p99 of single queries
//! are timed separately over the same rotating query list and printed.
//! Run with `cargo bench --bench matching`. Results: `benches/README.md`.
//! `REFMATCH_BENCH_WARM=1` adds `warm_transfer=true` to every query (a
//! staff filter: the default staff view applies it), over directories
//! where a third of the providers carry a fresh capacity figure, a sixth
//! a full one and a sixth a stale one (issue 15).
#![allow(clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use refmatch::gazetteer::Gazetteer;
use refmatch::index::{Directory, IndexOptions};
use refmatch::ingest::Validator;
use refmatch::matching::{Matcher, Query, View};
use refmatch::model::{Role, Vocabulary};
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn gazetteer() -> &'static Gazetteer {
    static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
    GAZETTEER.get_or_init(|| Gazetteer::bundled().unwrap())
}

fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(|| Vocabulary::bundled().unwrap())
}

/// Places advocates type, US-heavy with some abroad.
const PLACES: [&str; 12] = [
    "Fresno, CA",
    "Houston, TX",
    "Chicago, IL",
    "Miami, FL",
    "10001",
    "Atlanta, GA",
    "San Juan, PR",
    "Anchorage, AK",
    "Lima, Peru",
    "Kyiv, Ukraine",
    "Toronto, Canada",
    "36.7378,-119.7871",
];

/// Filter mixes, from none to several.
const FILTERS: [&str; 4] = [
    "",
    "issue=labor_trafficking",
    "issue=trafficking&language=es&exclude=law_enforcement",
    "issue=domestic_violence&open_24h=true&population=minors",
];

fn queries() -> Vec<Query> {
    let matcher_terms = refmatch::matching::Terms {
        vocabulary: vocabulary(),
        gazetteer: gazetteer(),
    };
    let mut out = Vec::new();
    for place in PLACES {
        for filter in FILTERS {
            let mut pairs: Vec<(&str, &str)> = vec![("near", place), ("limit", "10")];
            pairs.extend(
                filter
                    .split('&')
                    .filter(|p| !p.is_empty())
                    .filter_map(|p| p.split_once('=')),
            );
            if std::env::var_os("REFMATCH_BENCH_WARM").is_some() {
                pairs.push(("warm_transfer", "true"));
            }
            out.push(Query::parse(pairs, &[], &matcher_terms).unwrap());
        }
    }
    out
}

/// With `REFMATCH_BENCH_WARM`, capacity for the providers: fresh with
/// room (a third), fresh and full (a sixth), stale (a sixth), none.
fn with_capacity(providers: &mut [refmatch::model::Provider]) {
    if std::env::var_os("REFMATCH_BENCH_WARM").is_none() {
        return;
    }
    let now = jiff::Timestamp::now();
    for (i, p) in providers.iter_mut().enumerate() {
        let (available, hours) = match i % 6 {
            0 | 1 => (3, 1),
            2 => (0, 1),
            3 => (3, 72),
            _ => continue,
        };
        p.capacity = vec![refmatch::model::ServiceCapacity {
            available,
            maximum: Some(12),
            unit: "beds".into(),
            updated_at: Some(now - jiff::SignedDuration::from_hours(hours)),
            updated_by: None,
        }];
    }
}

fn sample_directory() -> Directory {
    let mut ingested = Validator::new(gazetteer(), vocabulary()).read_bundled();
    with_capacity(&mut ingested.providers);
    Directory::build(ingested.providers, gazetteer(), IndexOptions::default())
        .unwrap()
        .0
}

fn million_directory() -> Directory {
    let started = Instant::now();
    let mut providers = refmatch::synthetic::generate(gazetteer(), 1_000_000, 2026);
    with_capacity(&mut providers);
    let (directory, _) = Directory::build(providers, gazetteer(), IndexOptions::default()).unwrap();
    eprintln!(
        "1M directory generated and built in {:.1?}",
        started.elapsed()
    );
    directory
}

/// Times each query once per round and prints p50/p99 in µs.
fn percentiles(label: &str, matcher: &Matcher<'_>, queries: &[Query]) {
    let mut samples = Vec::new();
    let rounds: usize = std::env::var("REFMATCH_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200);
    for _ in 0..rounds {
        for query in queries {
            let start = Instant::now();
            black_box(matcher.run(query).unwrap());
            samples.push(start.elapsed());
        }
    }
    if std::env::var_os("REFMATCH_BENCH_EACH").is_some() {
        for query in queries {
            let start = Instant::now();
            for _ in 0..20 {
                black_box(matcher.run(query).unwrap());
            }
            eprintln!(
                "{:>10.1} µs  {query:?}",
                start.elapsed().as_secs_f64() * 1e6 / 20.0
            );
        }
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
    eprintln!(
        "{label}: {} single queries: p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs",
        samples.len(),
        at(0.5),
        at(0.9),
        at(0.99)
    );
}

fn bench(c: &mut Criterion) {
    let mut queries = queries();
    // REFMATCH_BENCH_PLACE=Fresno keeps only the queries near that place
    // (for profiling one kind of query).
    if let Ok(place) = std::env::var("REFMATCH_BENCH_PLACE") {
        queries.retain(|q| format!("{:?}", q.place).contains(&place));
    }
    let mut directories = vec![("3.2k", sample_directory())];
    if std::env::var_os("REFMATCH_BENCH_1M").is_some() {
        directories.push(("1M", million_directory()));
    }
    let mut group = c.benchmark_group("match");
    group.measurement_time(Duration::from_secs(5));
    for (label, directory) in &directories {
        let matcher = Matcher {
            gazetteer: gazetteer(),
            directory,
            vocabulary: vocabulary(),
            // Staff answers (the view that sees every record), or the
            // public's with REFMATCH_BENCH_PUBLIC=1.
            view: View::now(if std::env::var_os("REFMATCH_BENCH_PUBLIC").is_some() {
                Role::Public
            } else {
                Role::Advocate
            }),
        };
        percentiles(label, &matcher, &queries);
        group.bench_function(BenchmarkId::new("mixed_48", label), |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % queries.len();
                black_box(matcher.run(&queries[i]).unwrap())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
