//! The live directory: edits per second, and the time from a committed
//! edit to its visibility in `/v1/match`, on the bundled 3.2k directory
//! and, with `REFMATCH_BENCH_100K=1`, on 100,000 generated providers.
//!
//! A [`LiveDirectory`] runs over a file-backed [`SqliteStore`] (WAL,
//! `synchronous=FULL`) in a temporary directory. `update` returns once the
//! rebuilt snapshot holds the change, so its duration is the whole
//! edit-to-visibility latency: validation-free commit (one fsync'd
//! transaction), the rebuild of the index from every committed record, and
//! the swap. Criterion measures it on 3.2k; hand-timed loops print the
//! median and p95 of single edits, the time of a `Matcher` query right
//! after each edit (which must return the new name), the throughput of
//! several writer threads (their edits are coalesced into shared rebuilds)
//! and, for comparison, the bare store commit. Criterion also times a
//! store read (a record's history) idle and while another thread commits
//! edits back to back: reads have connections of their own, so the two
//! should be close.
//!
//! Run with `cargo bench --bench live`. Results: `benches/README.md`.
#![allow(clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use refmatch::cancel::Cancel;
use refmatch::gazetteer::Gazetteer;
use refmatch::index::{AreaResolver, Directory, IndexOptions};
use refmatch::ingest::{Ingested, Validator};
use refmatch::live::LiveDirectory;
use refmatch::matching::{Matcher, Query, Terms, View};
use refmatch::model::{Role, Vocabulary};
use refmatch::store::{Actor, SqliteStore, Store};
use std::collections::HashMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Sequential edits timed one by one.
const SEQUENTIAL: usize = 30;
/// Writer threads for the throughput run, and edits each makes.
const THREADS: usize = 4;
const EDITS_PER_THREAD: usize = 15;
/// Records each writer thread cycles through.
const IDS_PER_THREAD: usize = 5;

fn gazetteer() -> &'static Arc<Gazetteer> {
    static GAZETTEER: OnceLock<Arc<Gazetteer>> = OnceLock::new();
    GAZETTEER.get_or_init(|| Arc::new(Gazetteer::bundled().unwrap()))
}

fn vocabulary() -> &'static Arc<Vocabulary> {
    static VOCABULARY: OnceLock<Arc<Vocabulary>> = OnceLock::new();
    VOCABULARY.get_or_init(|| Arc::new(Vocabulary::bundled().unwrap()))
}

fn actor() -> Actor<'static> {
    Actor::new("bench:live", Role::Admin)
}

/// A live directory over a new store file, and what to edit in it.
struct Fixture {
    label: &'static str,
    live: LiveDirectory,
    /// Removed when the fixture is dropped (after `live`).
    _dir: TempDir,
    store: PathBuf,
    /// Records whose edits a `Matcher` query at their location shows.
    targets: Vec<String>,
    /// Their names before the bench.
    names: HashMap<String, String>,
    /// Edits made so far (for distinct names).
    edits: usize,
}

impl Fixture {
    fn open(label: &'static str, seed: impl FnOnce(&Gazetteer, &Vocabulary) -> Ingested) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "refmatch-bench-live-{label}-{}",
            std::process::id()
        ));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        let store = dir.join("live.sqlite");
        let started = Instant::now();
        let (live, report) = LiveDirectory::open(
            Box::new(SqliteStore::open(&store).unwrap()),
            Arc::clone(gazetteer()),
            Arc::clone(vocabulary()),
            IndexOptions::default(),
            seed,
        )
        .unwrap();
        eprintln!(
            "{label}: opened, seeded {:?} records ({} rejected) and indexed {} in {:.1?} \
             (store file {:.0} MB)",
            report.seeded,
            report.rejections.len(),
            report.providers,
            started.elapsed(),
            std::fs::metadata(&store).map_or(0.0, |m| m.len() as f64 / 1e6),
        );
        let mut fixture = Fixture {
            label,
            live,
            _dir: TempDir(dir),
            store,
            targets: Vec::new(),
            names: HashMap::new(),
            edits: 0,
        };
        fixture.pick_targets(SEQUENTIAL + THREADS * IDS_PER_THREAD);
        fixture
    }

    /// Records spread over the directory that a `Matcher` query at their
    /// own location returns (so an edit can be checked end to end).
    fn pick_targets(&mut self, count: usize) {
        let snapshot = self.live.snapshot();
        let providers = snapshot.directory.providers();
        let step = (providers.len() / (count * 3)).max(1);
        for provider in providers.iter().step_by(step) {
            if self.targets.len() == count {
                break;
            }
            if provider.location.is_none() {
                continue;
            }
            if let Some(name) = self.matched_name(&provider.id) {
                self.names.insert(provider.id.to_string(), name);
                self.targets.push(provider.id.to_string());
            }
        }
        assert_eq!(self.targets.len(), count, "{}: too few targets", self.label);
    }

    /// The name a `Matcher` query (staff view, 100 results) at record
    /// `id`'s location gives it in the served snapshot, if it is returned.
    fn matched_name(&self, id: &str) -> Option<String> {
        let snapshot = self.live.snapshot();
        let directory = &snapshot.directory;
        let index = directory.index_of(id)?;
        let location = directory.provider(index)?.location?;
        let (lat, lon) = (location.lat().to_string(), location.lon().to_string());
        let terms = Terms {
            vocabulary: vocabulary(),
            gazetteer: gazetteer(),
        };
        let query = Query::parse(
            [
                ("lat", lat.as_str()),
                ("lon", lon.as_str()),
                ("limit", "100"),
            ],
            &[],
            &terms,
        )
        .unwrap();
        let matcher = Matcher {
            gazetteer: gazetteer(),
            directory,
            vocabulary: vocabulary(),
            view: View::now(Role::Advocate),
        };
        let response = matcher.run(&query).ok()?;
        response
            .results
            .iter()
            .find(|m| directory.provider(m.index).is_some_and(|p| p.id == id))
            .and_then(|m| directory.provider(m.index))
            .map(|p| p.name.clone())
    }

    /// Renames record `id` (a new name each time) and returns how long
    /// `update` took: commit, rebuild and swap, until visible.
    fn rename(&self, id: &str, edit: usize) -> (Duration, String) {
        let stored = self.live.stored(id).unwrap().unwrap();
        let mut provider = stored.provider;
        let name = format!("{} (bench edit {edit})", self.names[id]);
        provider.name.clone_from(&name);
        let started = Instant::now();
        let updated = self
            .live
            .update(&provider, Some(stored.version), &actor(), &Cancel::new())
            .unwrap();
        let took = started.elapsed();
        assert_eq!(updated.version, stored.version + 1);
        (took, name)
    }

    fn next_edit(&mut self) -> usize {
        self.edits += 1;
        self.edits
    }
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median and p95 (nearest rank) of `samples`, in ms.
fn summary(samples: &mut [Duration]) -> String {
    samples.sort();
    let at = |q: f64| {
        let rank = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len());
        ms(samples[rank - 1])
    };
    format!(
        "median {:.1} ms, p95 {:.1} ms, min {:.1} ms, max {:.1} ms (n = {})",
        at(0.5),
        at(0.95),
        ms(samples[0]),
        ms(samples[samples.len() - 1]),
        samples.len()
    )
}

/// The hand-timed measurements on one directory.
fn hand_timed(fixture: &mut Fixture) {
    let label = fixture.label;
    // (1) Sequential single edits, and (3) a match right after each.
    let mut latencies = Vec::new();
    let mut matches = Vec::new();
    for i in 0..SEQUENTIAL {
        let id = fixture.targets[i].clone();
        let edit = fixture.next_edit();
        let (took, name) = fixture.rename(&id, edit);
        latencies.push(took);
        let started = Instant::now();
        let seen = fixture.matched_name(&id);
        matches.push(started.elapsed());
        assert_eq!(
            seen.as_deref(),
            Some(name.as_str()),
            "{label}: the match right after the edit shows the new name"
        );
    }
    eprintln!(
        "{label}: edit to visible (update: commit + rebuild + swap), one writer: {}",
        summary(&mut latencies)
    );
    eprintln!(
        "{label}: Matcher query right after the edit (new name returned every time): {}",
        summary(&mut matches)
    );
    let sequential_rate =
        SEQUENTIAL as f64 / latencies.iter().map(Duration::as_secs_f64).sum::<f64>();
    eprintln!("{label}: one writer: {sequential_rate:.1} edits/s");

    // (2) Several writers, each on its own records.
    let first = SEQUENTIAL;
    let base = fixture.next_edit() * 1000;
    let fixture_ref = &*fixture;
    let generation_before = fixture_ref.live.snapshot().generation;
    let started = Instant::now();
    // A reader probing how long taking the served snapshot (what every
    // query does first) waits while the writers' rebuilds swap snapshots.
    let done = AtomicBool::new(false);
    let (per_edit, mut waits): (Vec<Duration>, Vec<Duration>) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut waits = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let started = Instant::now();
                let snapshot = fixture_ref.live.snapshot();
                waits.push(started.elapsed());
                drop(snapshot);
                std::thread::sleep(Duration::from_millis(2));
            }
            waits
        });
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let ids: Vec<String> = fixture_ref.targets
                    [first + t * IDS_PER_THREAD..first + (t + 1) * IDS_PER_THREAD]
                    .to_vec();
                scope.spawn(move || {
                    (0..EDITS_PER_THREAD)
                        .map(|e| {
                            let id = &ids[e % ids.len()];
                            fixture_ref.rename(id, base + t * 100 + e).0
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let per_edit = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        done.store(true, Ordering::Relaxed);
        (per_edit, reader.join().unwrap())
    });
    let elapsed = started.elapsed();
    let total = THREADS * EDITS_PER_THREAD;
    let mut per_edit = per_edit;
    eprintln!(
        "{label}: {THREADS} writers x {EDITS_PER_THREAD} edits: {total} edits in {:.2} s = \
         {:.1} edits/s; each edit until visible: {}",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        summary(&mut per_edit)
    );
    waits.sort();
    eprintln!(
        "{label}: meanwhile, LiveDirectory::snapshot() (a reader, every 2 ms): {} calls, \
         {} waited over 1 ms, p99 {:.2} ms, max {:.1} ms",
        waits.len(),
        waits
            .iter()
            .filter(|w| **w > Duration::from_millis(1))
            .count(),
        ms(waits[(waits.len() - 1) * 99 / 100]),
        ms(waits[waits.len() - 1])
    );
    let generation_after = fixture_ref.live.snapshot().generation;
    eprintln!(
        "{label}: {} commits in this run",
        generation_after - generation_before
    );
}

/// What a rebuild is made of, timed apart on the served records: cloning
/// every record (the rebuilder clones the committed map, then each record
/// again into the build's input), `Directory::build_with` with the region
/// cache warm (as after an edit), and dropping the replaced directory.
fn rebuild_parts(fixture: &Fixture) {
    let snapshot = fixture.live.snapshot();
    let providers = snapshot.directory.providers().to_vec();
    let options = IndexOptions::default();
    let mut resolver = AreaResolver::new(gazetteer(), &options).unwrap();
    let (mut previous, _) =
        Directory::build_with(providers.clone(), &mut resolver, options.threads).unwrap();
    let (mut clones, mut builds, mut drops) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..7 {
        let started = Instant::now();
        let input = black_box(providers.clone());
        clones.push(started.elapsed());
        let started = Instant::now();
        let (built, _) = Directory::build_with(input, &mut resolver, options.threads).unwrap();
        builds.push(started.elapsed());
        let started = Instant::now();
        drop(std::mem::replace(&mut previous, built));
        drops.push(started.elapsed());
    }
    eprintln!(
        "{}: parts of a rebuild: clone all records {}; Directory::build_with (regions cached) \
         {}; drop the old directory {}",
        fixture.label,
        summary(&mut clones),
        summary(&mut builds),
        summary(&mut drops)
    );
}

/// The bare store commit (one `update` transaction, fsync'd WAL), on the
/// same store file once the live directory is closed.
fn store_commit(label: &str, store: &std::path::Path, ids: &[String]) {
    let mut opened = SqliteStore::open(store).unwrap();
    let mut samples = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let stored = opened.get(id).unwrap().unwrap();
        let mut provider = stored.provider;
        provider.name = format!("{} (store commit {i})", provider.name);
        let started = Instant::now();
        opened
            .update(&provider, Some(stored.version), &actor())
            .unwrap();
        samples.push(started.elapsed());
    }
    eprintln!(
        "{label}: SqliteStore::update alone (commit with synchronous=FULL): {}",
        summary(&mut samples)
    );
}

fn bundled(gazetteer: &Gazetteer, vocabulary: &Vocabulary) -> Ingested {
    Validator::new(gazetteer, vocabulary).read_bundled()
}

fn generated(gazetteer: &Gazetteer, _: &Vocabulary) -> Ingested {
    let started = Instant::now();
    let providers = refmatch::synthetic::generate(gazetteer, 100_000, 2026);
    eprintln!("100k: generated in {:.1?}", started.elapsed());
    Ingested {
        rows_read: providers.len(),
        providers,
        ..Ingested::default()
    }
}

fn bench(c: &mut Criterion) {
    let mut fixtures = vec![Fixture::open("3.2k", bundled)];
    if std::env::var_os("REFMATCH_BENCH_100K").is_some() {
        fixtures.push(Fixture::open("100k", generated));
    } else {
        eprintln!("100k: skipped (set REFMATCH_BENCH_100K=1 to run it)");
    }
    for fixture in &mut fixtures {
        hand_timed(fixture);
        rebuild_parts(fixture);
    }
    // Criterion on the 3.2k directory: one edit until visible.
    let mut group = c.benchmark_group("live");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(15));
    {
        let fixture = &mut fixtures[0];
        let id = fixture.targets[0].clone();
        group.bench_function(
            BenchmarkId::new("update_until_visible", fixture.label),
            |b| {
                b.iter(|| {
                    let edit = fixture.next_edit();
                    black_box(fixture.rename(&id, edit))
                })
            },
        );
    }
    // A store read (one record's history) idle, then while edits are
    // committed back to back by another thread: the read runs on a reader
    // connection of its own, so it does not queue behind the writer lock.
    {
        let fixture = &fixtures[0];
        let (read_id, write_id) = (fixture.targets[1].clone(), fixture.targets[2].clone());
        group.bench_function(BenchmarkId::new("history_idle", fixture.label), |b| {
            b.iter(|| black_box(fixture.live.history(&read_id).unwrap()))
        });
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let mut edit = 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    edit += 1;
                    fixture.rename(&write_id, edit);
                }
            });
            group.bench_function(
                BenchmarkId::new("history_while_writing", fixture.label),
                |b| b.iter(|| black_box(fixture.live.history(&read_id).unwrap())),
            );
            stop.store(true, Ordering::Relaxed);
        });
    }
    group.finish();
    for fixture in fixtures {
        // Close the live directory (and its connection), keep the file.
        let Fixture {
            label,
            live,
            _dir: dir,
            store,
            targets,
            ..
        } = fixture;
        drop(live);
        store_commit(label, &store, &targets[..SEQUENTIAL]);
        drop(dir);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
