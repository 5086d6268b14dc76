//! Coverage report latency: the national county report, the state report
//! and H3 resolution 6 over the contiguous US for one need (labor
//! trafficking, Spanish, 24 hours), plus site suggestion, on the bundled
//! 3.2k directory, and on 1,000,000 generated providers when
//! `REFMATCH_BENCH_1M=1`. Both cores are used (`threads` = available
//! parallelism).
//!
//! Run with `cargo bench --bench coverage`. Results: `benches/README.md`.
#![allow(clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use refmatch::cancel::Cancel;
use refmatch::coverage::{self, CoverageQuery, Purpose};
use refmatch::gazetteer::Gazetteer;
use refmatch::index::{Directory, IndexOptions};
use refmatch::ingest::Validator;
use refmatch::matching::Terms;
use refmatch::model::Vocabulary;
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

fn query(params: &str) -> CoverageQuery {
    let terms = Terms {
        vocabulary: vocabulary(),
        gazetteer: gazetteer(),
    };
    let pairs = params.split('&').filter_map(|p| p.split_once('='));
    CoverageQuery::parse(pairs, &[], Purpose::Suggest, &terms).unwrap()
}

const NEED: &str = "issue=labor_trafficking&language=es&open_24h=true";

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn bench(c: &mut Criterion) {
    let mut directories = vec![("3.2k", {
        let ingested = Validator::new(gazetteer(), vocabulary()).read_bundled();
        Directory::build(ingested.providers, gazetteer(), IndexOptions::default())
            .unwrap()
            .0
    })];
    if std::env::var_os("REFMATCH_BENCH_1M").is_some() {
        let started = Instant::now();
        let providers = refmatch::synthetic::generate(gazetteer(), 1_000_000, 2026);
        let (directory, _) =
            Directory::build(providers, gazetteer(), IndexOptions::default()).unwrap();
        eprintln!(
            "1M directory generated and built in {:.1?}",
            started.elapsed()
        );
        directories.push(("1M", directory));
    }
    let cases = [
        ("county", format!("by=county&{NEED}")),
        ("state", format!("by=state&{NEED}")),
        (
            "h3_res6_contiguous_us",
            format!("by=h3&resolution=6&{NEED}"),
        ),
    ];
    let mut group = c.benchmark_group("coverage");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for (label, directory) in &directories {
        for (name, params) in &cases {
            let q = query(params);
            // One timed run first, with its size, for the README.
            let started = Instant::now();
            let report = coverage::report(
                gazetteer(),
                directory,
                vocabulary(),
                &q,
                threads(),
                &Cancel::new(),
            )
            .unwrap();
            let report_time = started.elapsed();
            let started = Instant::now();
            let suggestion =
                coverage::suggest(&report, gazetteer(), threads(), &Cancel::new()).unwrap();
            eprintln!(
                "{label} {name}: {} regions, {} matching providers, report {:.3?}, suggest 10 sites {:.3?} ({} candidates)",
                report.units.len(),
                report.matching_providers,
                report_time,
                started.elapsed(),
                suggestion.candidates
            );
            group.bench_function(BenchmarkId::new(*name, label), |b| {
                b.iter(|| {
                    black_box(
                        coverage::report(
                            gazetteer(),
                            directory,
                            vocabulary(),
                            &q,
                            threads(),
                            &Cancel::new(),
                        )
                        .unwrap(),
                    )
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
