//! Tests of the live directory: reads on their own connections never wait
//! for the writer, and see every write that returned.
#![allow(clippy::unwrap_used)]

use super::LiveDirectory;
use crate::cancel::Cancel;
use crate::gazetteer::Gazetteer;
use crate::index::IndexOptions;
use crate::ingest::Ingested;
use crate::model::{Role, Vocabulary};
use crate::store::{Actor, SqliteStore, Store};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Barrier, OnceLock};
use std::time::Duration;

/// How long a read may take before the test calls it blocked: only
/// reached when a read does wait for the writer (the test then fails).
const BLOCKED: Duration = Duration::from_secs(10);

fn gazetteer() -> Arc<Gazetteer> {
    static GAZETTEER: OnceLock<Arc<Gazetteer>> = OnceLock::new();
    Arc::clone(GAZETTEER.get_or_init(|| Arc::new(Gazetteer::bundled().unwrap())))
}

/// A temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn admin() -> Actor<'static> {
    Actor::new("test:admin", Role::Admin)
}

/// An empty live directory over a new store file, with one advocate key
/// (its secret is returned) and one pending submission.
fn open(name: &str) -> (LiveDirectory, String, TempDir) {
    let dir = std::env::temp_dir().join(format!("refmatch-live-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let dir = TempDir(dir);
    let mut store = SqliteStore::open(&dir.0.join("store.sqlite")).unwrap();
    let (_, secret) = store
        .create_key("reader", Role::Advocate, &admin())
        .unwrap();
    let (live, _) = LiveDirectory::open(
        Box::new(store),
        gazetteer(),
        Arc::new(Vocabulary::bundled().unwrap()),
        IndexOptions::default(),
        |_, _| Ingested::default(),
    )
    .unwrap();
    (live, secret, dir)
}

fn record(id: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": id,
        "name": "Example shelter",
        "kind": "service_provider",
        "issues": ["labor_trafficking"],
        "languages": ["en"],
        "availability": {"type": "open24h"},
        "phones": [{"number": "(559) 555-0100", "kind": "voice", "country": "US"}],
        "location": {"lat": 36.7378, "lon": -119.7871},
        "service_area": [{"type": "radius", "radius_km": 40}],
        "visibility": "public",
        "verified_at": "2026-11-01"
    }))
    .unwrap()
}

/// Every kind of store read, as the API makes them; panics on an error.
fn read_everything(live: &LiveDirectory, secret: &str) {
    live.stored("a").unwrap();
    live.history("a").unwrap();
    live.audit(0, 100).unwrap();
    live.submissions(None).unwrap();
    live.keys().unwrap();
    // Past the key cache: the lookup reaches the store.
    live.set_key_cache_ttl(Duration::ZERO);
    assert!(live.find_key(secret).unwrap().is_some());
}

/// The writer lock held through a commit (its transaction stopped half
/// way by the test) does not hold up any read: were reads taken under the
/// writer lock again, they would wait for the release, which comes only
/// after they finished or the test gave up on them.
#[test]
fn reads_never_wait_for_the_writer() {
    let (live, secret, _dir) = open("reads-writer");
    let live = Arc::new(live);
    let provider = live.validate(&record("a"), None).unwrap();
    live.create(&provider, &admin(), &Cancel::new()).unwrap();

    let (held_tx, held_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let writer = {
        let live = Arc::clone(&live);
        std::thread::spawn(move || {
            live.commit(&Cancel::new(), |store| {
                // A write in flight: the writer lock is held from here
                // until the test releases it.
                let mut provider = store.get("a")?.unwrap().provider;
                provider.name = "Renamed while readers read".to_owned();
                held_tx.send(()).unwrap();
                release_rx.recv().ok();
                let stored = store.update(&provider, None, &admin())?;
                Ok(((), vec![stored]))
            })
        })
    };
    held_rx.recv().unwrap();
    assert!(
        live.shared.writer.try_lock().is_err(),
        "the commit holds the writer lock"
    );

    let (done_tx, done_rx) = mpsc::channel();
    let reader = {
        let live = Arc::clone(&live);
        let secret = secret.clone();
        std::thread::spawn(move || {
            read_everything(&live, &secret);
            // The write is not committed yet: readers see the last commit.
            let seen = live.stored("a").unwrap().unwrap();
            done_tx.send(seen.version).unwrap();
        })
    };
    let outcome = done_rx.recv_timeout(BLOCKED);
    release_tx.send(()).unwrap();
    writer.join().unwrap().unwrap();
    reader.join().unwrap();
    assert_eq!(
        outcome,
        Ok(1),
        "reads waited for the writer lock (or failed)"
    );
    // Once the write returned, a reader connection sees it.
    let after = live.stored("a").unwrap().unwrap();
    assert_eq!(after.version, 2);
    assert_eq!(after.provider.name, "Renamed while readers read");
    assert_eq!(live.history("a").unwrap().len(), 2);
}

/// More concurrent reads than reader connections, during a held commit:
/// the busy ones queue for a reader, not for the writer.
#[test]
fn more_reads_than_readers_all_finish_during_a_write() {
    let (live, secret, _dir) = open("reads-many");
    let live = Arc::new(live);
    let (held_tx, held_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let writer = {
        let live = Arc::clone(&live);
        std::thread::spawn(move || {
            live.commit(&Cancel::new(), |_| {
                held_tx.send(()).unwrap();
                release_rx.recv().ok();
                Ok(((), Vec::new()))
            })
        })
    };
    held_rx.recv().unwrap();
    let threads = 3 * super::reads::READERS;
    let start = Arc::new(Barrier::new(threads));
    let (done_tx, done_rx) = mpsc::channel();
    let readers: Vec<_> = (0..threads)
        .map(|_| {
            let (live, secret, start, done_tx) = (
                Arc::clone(&live),
                secret.clone(),
                Arc::clone(&start),
                done_tx.clone(),
            );
            std::thread::spawn(move || {
                start.wait();
                read_everything(&live, &secret);
                done_tx.send(()).unwrap();
            })
        })
        .collect();
    let finished = (0..threads)
        .take_while(|_| done_rx.recv_timeout(BLOCKED).is_ok())
        .count();
    release_tx.send(()).unwrap();
    writer.join().unwrap().unwrap();
    for reader in readers {
        reader.join().unwrap();
    }
    assert_eq!(finished, threads, "reads waited for the writer lock");
}

/// A store without reader connections (in memory) is read under the
/// writer lock, with the same answers.
#[test]
fn a_store_without_readers_is_read_through_the_writer() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    assert!(store.reader().unwrap().is_none());
    let (_, secret) = store
        .create_key("reader", Role::Advocate, &admin())
        .unwrap();
    let (live, _) = LiveDirectory::open(
        Box::new(store),
        gazetteer(),
        Arc::new(Vocabulary::bundled().unwrap()),
        IndexOptions::default(),
        |_, _| Ingested::default(),
    )
    .unwrap();
    assert!(live.shared.readers.is_empty());
    let provider = live.validate(&record("a"), None).unwrap();
    live.create(&provider, &admin(), &Cancel::new()).unwrap();
    read_everything(&live, &secret);
    assert_eq!(live.stored("a").unwrap().unwrap().version, 1);
    assert_eq!(live.keys().unwrap().len(), 1);
}

#[test]
fn unmet_events_are_written_off_the_callers_path_and_counts_reload_at_open() {
    use crate::model::referral::{
        epoch_day, Method, NewReferral, Status, StatusChange, Unmet, UnmetEvent,
    };
    let (live, _, dir) = open("unmet");
    let event = |t: usize| UnmetEvent {
        hour: "2026-12-03T18".to_owned(),
        region: format!("county:0601{}", t % 10),
        outcome: Unmet::Relaxed,
        reason: None,
        issues: vec!["trafficking".to_owned()],
        languages: vec!["es".to_owned()],
        populations: Vec::new(),
    };
    // Many callers at once: each returns at once, the writer batches.
    std::thread::scope(|scope| {
        for t in 0..8 {
            let live = &live;
            scope.spawn(move || {
                for _ in 0..50 {
                    live.record_unmet(event(t));
                }
            });
        }
    });
    let made = live
        .create_referral(
            &NewReferral {
                provider_id: "p1".to_owned(),
                provider_name: "P One".to_owned(),
                method: Method::WarmTransfer,
                consent: true,
                region: "county:06019".to_owned(),
                issue: Vec::new(),
                language: Vec::new(),
                population: Vec::new(),
                follow_up_due: None,
                note: None,
            },
            &admin(),
            &Cancel::new(),
        )
        .unwrap();
    let accepted = StatusChange {
        to: Status::Accepted,
        reason: None,
        note: None,
        follow_up_due: None,
    };
    live.change_referral(made.id, &accepted, &admin(), &Cancel::new())
        .unwrap();
    let today = epoch_day(super::today());
    assert_eq!(live.referral_counts().stats("p1", today).accepted, 1);
    // A cancelled change writes nothing and changes no count.
    let cancelled = Cancel::new();
    cancelled.cancel();
    assert!(live
        .change_referral(made.id, &accepted, &admin(), &cancelled)
        .is_err());
    // Closing writes what is still queued.
    drop(live);
    let store = SqliteStore::open(&dir.0.join("store.sqlite")).unwrap();
    let (live, _) = LiveDirectory::open(
        Box::new(store),
        gazetteer(),
        Arc::new(Vocabulary::bundled().unwrap()),
        IndexOptions::default(),
        |_, _| Ingested::default(),
    )
    .unwrap();
    assert_eq!(live.unmet().unwrap().len(), 400);
    let stats = live.referral_counts().stats("p1", today);
    assert_eq!((stats.sent, stats.accepted), (1, 1), "loaded at open");
    assert_eq!(stats.acceptance_rate, Some(1.0));
}
