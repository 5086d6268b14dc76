//! Referral records in the store of record: the time to create one and to
//! change its status with durable commits (a file store in WAL mode with
//! `synchronous=FULL`: each call returns after its transaction is on
//! disk), and the time to list a shift's referrals (`mine`, `due`, by
//! provider) out of 1,000,000 stored.
//!
//! The million are written once through the same `Store` calls into a
//! store on `/dev/shm` (tmpfs: a commit costs no disk flush, so filling
//! takes minutes, not hours), 90% of them then closed, and the file copied
//! to a folder on disk, where the listings are timed (page cache warm, as
//! on a server that has been answering). `REFMATCH_BENCH_REFERRALS=N`
//! stores N instead of 1,000,000.
//!
//! Hand-timed loops print p50/p99; criterion reports the median of
//! batches. Run with `cargo bench --bench referrals`. Results:
//! `benches/README.md`, "Referrals (issue 15)".
#![allow(clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use refmatch::model::referral::{
    DeclineReason, Method, NewReferral, ReferralQuery, ReferralView, Status, StatusChange,
};
use refmatch::model::Role;
use refmatch::store::{Actor, SqliteStore, Store};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Advocates whose referrals fill the big store (names `advocate-N`).
const ADVOCATES: u64 = 200;
/// Providers referred to (ids `provider-N`).
const PROVIDERS: u64 = 5_000;
/// Single calls timed for the percentiles.
const TIMED: usize = 300;

/// A folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(parent: &Path, label: &str) -> TempDir {
        let dir = parent.join(format!(
            "refmatch-bench-referrals-{label}-{}",
            std::process::id()
        ));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn referral(n: u64, today: jiff::civil::Date) -> NewReferral {
    NewReferral {
        provider_id: format!("provider-{}", n % PROVIDERS),
        provider_name: format!("Provider {}", n % PROVIDERS),
        method: if n.is_multiple_of(3) {
            Method::WarmTransfer
        } else {
            Method::InformationGiven
        },
        consent: true,
        region: format!("county:{:05}", 1001 + (n % 3000)),
        issue: vec!["trafficking".into()],
        language: if n.is_multiple_of(4) {
            vec!["es".into()]
        } else {
            vec![]
        },
        population: vec![],
        follow_up_due: Some(
            today
                .checked_add(jiff::Span::new().days((n % 15) as i64 - 7))
                .unwrap(),
        ),
        note: None,
    }
}

fn advocate(n: u64) -> String {
    format!("advocate-{}", n % ADVOCATES)
}

fn percentiles(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    eprintln!(
        "{label}: {} calls: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms",
        samples.len(),
        at(0.5),
        at(0.9),
        at(0.99)
    );
}

/// Creates and changes referrals one at a time on a store on disk.
fn durable_writes(c: &mut Criterion) {
    let dir = TempDir::new(&std::env::temp_dir(), "durable");
    let mut store = SqliteStore::open(&dir.0.join("store.sqlite")).unwrap();
    let today = jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date();
    let actor = Actor::new("advocate-0", Role::Advocate);
    let mut created = Vec::new();
    let mut samples = Vec::new();
    for n in 0..TIMED as u64 {
        let new = referral(n, today);
        let start = Instant::now();
        let made = store.create_referral(&new, &actor).unwrap();
        samples.push(start.elapsed());
        created.push(made.id);
    }
    percentiles("create (durable)", samples);
    let mut samples = Vec::new();
    for (i, id) in created.iter().enumerate() {
        let change = if i % 2 == 0 {
            StatusChange {
                to: Status::Accepted,
                reason: None,
                note: Some("called back".into()),
                follow_up_due: None,
            }
        } else {
            StatusChange {
                to: Status::Declined,
                reason: Some(DeclineReason::NoCapacity),
                note: None,
                follow_up_due: None,
            }
        };
        let start = Instant::now();
        store.change_referral(*id, &change, &actor).unwrap();
        samples.push(start.elapsed());
    }
    percentiles("status change (durable)", samples);

    let mut group = c.benchmark_group("referral");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(10));
    let mut n = TIMED as u64;
    group.bench_function("create_durable", |b| {
        b.iter(|| {
            n += 1;
            black_box(store.create_referral(&referral(n, today), &actor).unwrap())
        })
    });
    group.finish();
}

/// Fills a store with `count` referrals on tmpfs, closes 90% of them and
/// copies the file to disk.
fn filled_store(count: u64, today: jiff::civil::Date) -> (TempDir, PathBuf) {
    let shm = TempDir::new(Path::new("/dev/shm"), "fill");
    let path = shm.0.join("store.sqlite");
    let started = Instant::now();
    {
        let mut store = SqliteStore::open(&path).unwrap();
        for n in 0..count {
            let name = advocate(n);
            let actor = Actor::new(&name, Role::Advocate);
            let made = store.create_referral(&referral(n, today), &actor).unwrap();
            // Every advocate keeps a tenth of theirs open (n / ADVOCATES
            // counts an advocate's own referrals).
            let own = n / ADVOCATES;
            if !own.is_multiple_of(10) {
                let change = StatusChange {
                    to: if own % 10 < 5 {
                        Status::Cancelled
                    } else {
                        Status::Declined
                    },
                    reason: (own % 10 >= 5).then_some(DeclineReason::NoCapacity),
                    note: None,
                    follow_up_due: None,
                };
                store.change_referral(made.id, &change, &actor).unwrap();
            }
            if n > 0 && n % 100_000 == 0 {
                eprintln!("  {n} referrals stored in {:.0?}", started.elapsed());
            }
        }
    }
    eprintln!(
        "{count} referrals stored (90% closed) in {:.1?}",
        started.elapsed()
    );
    let disk = TempDir::new(&std::env::temp_dir(), "listing");
    let copy = disk.0.join("store.sqlite");
    std::fs::copy(&path, &copy).unwrap();
    eprintln!(
        "store file {:.0} MB",
        std::fs::metadata(&copy).unwrap().len() as f64 / 1e6
    );
    (disk, copy)
}

/// Lists a shift's referrals out of a million stored.
fn shift_listings(c: &mut Criterion) {
    let count: u64 = std::env::var("REFMATCH_BENCH_REFERRALS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let today = jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date();
    let (_dir, path) = filled_store(count, today);
    let store = SqliteStore::open(&path).unwrap();
    let views = [
        ("mine", ReferralView::Mine, None),
        ("due", ReferralView::Due, None),
        (
            "provider",
            ReferralView::All,
            Some("provider-42".to_owned()),
        ),
    ];
    let mut group = c.benchmark_group("referral_list");
    for (label, view, provider) in views {
        let query = |n: u64| ReferralQuery {
            view,
            creator: advocate(n),
            today,
            provider: provider.clone(),
            before: None,
            limit: 50,
        };
        let mut samples = Vec::new();
        let mut found = 0;
        for n in 0..TIMED as u64 {
            let q = query(n);
            let start = Instant::now();
            found += store.referrals(&q).unwrap().len();
            samples.push(start.elapsed());
        }
        percentiles(
            &format!("list {label} of {count} (avg {} rows)", found / TIMED),
            samples,
        );
        let mut n = 0;
        group.bench_function(label, |b| {
            b.iter(|| {
                n += 1;
                black_box(store.referrals(&query(n)).unwrap())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, durable_writes, shift_listings);
criterion_main!(benches);
