//! The snapshot machine: the served [`Snapshot`], the rebuilder thread
//! that builds the next one from the committed records, and the atomic
//! `Arc` swap between them.
//!
//! A commit bumps the writer's generation and wakes the rebuilder
//! ([`Snapshots::notify_commit`]); the rebuilder copies the record map
//! (the records themselves are shared), builds a [`Directory`] reusing the
//! tiled regions of the last build, and swaps it in. Commits made while a
//! build runs are coalesced into the next build. A writer waits
//! ([`Snapshots::wait_visible`]) until the served snapshot holds its
//! generation.

use super::{lock, LiveError, Shared};
use crate::index::{AreaResolver, Directory, IndexError, RegionCache};
use crate::model::Provider;
use crate::store::StoreError;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// One consistent state of the directory, as queries see it.
pub struct Snapshot {
    /// The indexed active records.
    pub directory: Directory,
    /// Stored version of each record in `directory`, by id (for `ETag`).
    versions: FxHashMap<String, u64>,
    /// Commit generation this snapshot includes (counts changes since the
    /// server started).
    pub generation: u64,
}

impl Snapshot {
    /// The stored version of record `id`, when the snapshot holds it.
    pub fn version(&self, id: &str) -> Option<u64> {
        self.versions.get(id).copied()
    }
}

/// The active records by id, each with its stored version: what a
/// snapshot is built from. Shared, so the rebuilder copies the map, not
/// the records.
pub(super) type Records = BTreeMap<String, (Arc<Provider>, u64)>;

/// How long the rebuilder waits before retrying a failed build.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// Build progress shared with the rebuilder thread.
#[derive(Default)]
struct Progress {
    /// Generation of the snapshot being served.
    built: u64,
    /// Set when the directory is dropped.
    stop: bool,
    /// The last build's generation and error, when it failed: writers
    /// waiting for that generation or an earlier one get the error (their
    /// change is committed but not yet served). Cleared by a good build.
    failed: Option<(u64, String)>,
}

/// The served snapshot, the regions tiled so far, and the rebuilder's
/// progress with the signals between it and the writers.
pub(super) struct Snapshots {
    current: RwLock<Arc<Snapshot>>,
    /// Regions tiled by earlier builds, reused by the next one (and by
    /// imports, to resolve areas without tiling again).
    regions: Mutex<RegionCache>,
    progress: Mutex<Progress>,
    /// Signalled when a change is committed or on stop.
    wake: Condvar,
    /// Signalled when a snapshot is swapped in.
    swapped: Condvar,
}

impl Snapshots {
    /// Serves `first` (generation 0), keeping `regions` for the next build.
    pub(super) fn new(first: Snapshot, regions: RegionCache) -> Self {
        Snapshots {
            current: RwLock::new(Arc::new(first)),
            regions: Mutex::new(regions),
            progress: Mutex::new(Progress::default()),
            wake: Condvar::new(),
            swapped: Condvar::new(),
        }
    }

    /// The snapshot queries should use now.
    pub(super) fn current(&self) -> Arc<Snapshot> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// A copy of the regions tiled so far.
    pub(super) fn regions(&self) -> RegionCache {
        lock(&self.regions).clone()
    }

    /// Wakes the rebuilder after a commit.
    pub(super) fn notify_commit(&self) {
        // Taking the progress lock orders this wake-up after the
        // rebuilder's check of `committed` or before it: never lost.
        drop(lock(&self.progress));
        self.wake.notify_all();
    }

    /// Blocks until the served snapshot includes commit `generation`.
    ///
    /// # Errors
    /// [`LiveError::Store`] when the build holding it failed (the change
    /// is stored but not yet served).
    pub(super) fn wait_visible(&self, generation: u64) -> Result<(), LiveError> {
        let mut progress = lock(&self.progress);
        while progress.built < generation {
            if let Some((failed, error)) = &progress.failed {
                if *failed >= generation {
                    return Err(LiveError::Store(StoreError::Corrupt(format!(
                        "the change is stored but the index could not be rebuilt ({error}); it will be served once a rebuild succeeds"
                    ))));
                }
            }
            progress = self
                .swapped
                .wait(progress)
                .unwrap_or_else(PoisonError::into_inner);
        }
        Ok(())
    }

    /// Tells the rebuilder to stop (it returns from [`rebuild_loop`]).
    pub(super) fn stop(&self) {
        lock(&self.progress).stop = true;
        self.wake.notify_all();
    }
}

/// Builds a snapshot of `records` at `generation`.
pub(super) fn build_snapshot(
    records: &Records,
    resolver: &mut AreaResolver<'_>,
    threads: usize,
    generation: u64,
) -> Result<Snapshot, IndexError> {
    let providers: Vec<Provider> = records.values().map(|(p, _)| (**p).clone()).collect();
    let (directory, dropped) = Directory::build_with(providers, resolver, threads)?;
    for dropped in &dropped {
        // Records are checked before they are committed; one that fails
        // here (a gazetteer changed under a stored record) is served by no
        // query but stays in the store.
        tracing::warn!(id = %dropped.provider_id, reason = %dropped.reason, "stored record left out of the index");
    }
    let versions = records
        .iter()
        .map(|(id, (_, version))| (id.clone(), *version))
        .collect();
    Ok(Snapshot {
        directory,
        versions,
        generation,
    })
}

/// The rebuilder: waits for commits, builds a snapshot of everything
/// committed so far and swaps it in, until stopped.
pub(super) fn rebuild_loop(shared: &Shared) {
    let snapshots = &shared.snapshots;
    loop {
        {
            let mut progress = lock(&snapshots.progress);
            loop {
                if progress.stop {
                    return;
                }
                let committed = lock(&shared.writer).committed;
                // After a failure, retry on the next commit or after a pause.
                let retry = progress
                    .failed
                    .as_ref()
                    .is_none_or(|(failed, _)| committed > *failed);
                if committed > progress.built && retry {
                    break;
                }
                let (next, timeout) = snapshots
                    .wake
                    .wait_timeout(
                        progress,
                        if retry {
                            Duration::from_millis(200)
                        } else {
                            RETRY_AFTER_FAILURE
                        },
                    )
                    .unwrap_or_else(PoisonError::into_inner);
                progress = next;
                if timeout.timed_out() && !retry {
                    progress.failed = None;
                }
            }
        }
        let started = Instant::now();
        // Only the map is copied under the lock; records are shared.
        let (records, generation) = {
            let writer = lock(&shared.writer);
            (writer.records.clone(), writer.committed)
        };
        let regions = std::mem::take(&mut *lock(&snapshots.regions));
        let outcome = AreaResolver::with_regions(&shared.gazetteer, &shared.options, regions)
            .and_then(|mut resolver| {
                let built =
                    build_snapshot(&records, &mut resolver, shared.options.threads, generation);
                *lock(&snapshots.regions) = resolver.into_regions();
                built
            });
        let mut retired = None;
        match outcome {
            Ok(snapshot) => {
                // Swap under the lock; free the old snapshot after it (at
                // 100k records that takes a noticeable time).
                retired = Some(std::mem::replace(
                    &mut *snapshots
                        .current
                        .write()
                        .unwrap_or_else(PoisonError::into_inner),
                    Arc::new(snapshot),
                ));
                let mut progress = lock(&snapshots.progress);
                progress.built = generation;
                progress.failed = None;
                tracing::info!(
                    generation,
                    providers = records.len(),
                    ms = %format!("{:.1}", started.elapsed().as_secs_f64() * 1e3),
                    "snapshot swapped in"
                );
            }
            Err(error) => {
                tracing::error!(%error, "rebuilding the index failed; retrying");
                lock(&snapshots.progress).failed = Some((generation, error.to_string()));
            }
        }
        snapshots.swapped.notify_all();
        drop(records);
        drop(retired);
    }
}
