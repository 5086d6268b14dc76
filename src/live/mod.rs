//! The live directory: the store of record plus the in-memory index built
//! from it, kept in step.
//!
//! Every change is validated as ingest validates a row (and its service
//! area resolved against the gazetteer), committed to the [`Store`] in one
//! transaction with its history and audit entries, and only then applied
//! to the index. A rebuilder thread builds a new [`Snapshot`] from the
//! committed records and swaps it in atomically; queries hold an
//! `Arc<Snapshot>`, so a query never sees a half-applied change. Edits made
//! while a build runs are coalesced into the next build. A write call
//! returns once its change is visible to queries (read-your-writes).
//!
//! Regions tiled for one snapshot are reused by the next
//! ([`RegionCache`](crate::index::RegionCache)), so a rebuild after an edit re-tiles nothing that the
//! edit did not add.
//!
//! One room per job, composed here:
//! - `snapshot`: [`Snapshot`], the rebuilder thread and the `Arc` swap;
//! - `changes`: validation, imports and every write, under the one writer
//!   lock;
//! - `reads`: records, history, audit, submissions and keys read on
//!   connections of their own ([`Store::reader`]), never behind the writer;
//! - `audit_log`: the group commit of confidential reads' audit entries;
//! - `key_cache`: API key lookups, cached for a time-to-live;
//! - `referrals`: referral changes and reads, the in-memory referral
//!   counts and the unmet-need log written off the request's path.

mod audit_log;
mod changes;
mod key_cache;
mod reads;
mod referrals;
mod snapshot;
#[cfg(test)]
mod tests;

pub use key_cache::DEFAULT_KEY_CACHE_TTL;
pub use referrals::{region_key, region_of_point, today};
pub use snapshot::Snapshot;

use crate::cancel::Cancelled;
use crate::gazetteer::Gazetteer;
use crate::index::{AreaResolver, Directory, IndexError, IndexOptions};
use crate::ingest::{Ingested, Rejection};
use crate::model::{Role, Vocabulary};
use crate::store::{Actor, KeyReader, Store, StoreError, Stored};
use audit_log::AuditLog;
use key_cache::KeyCache;
use reads::Readers;
use snapshot::{Records, Snapshots};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Why a change was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The body is not a record of the expected shape.
    #[error("the body is not a provider record: {0}")]
    BadRecord(String),
    /// The record fails validation (as an ingested row would).
    #[error("{}", .0.reason)]
    Invalid(Rejection),
    /// The id in the body differs from the one in the path.
    #[error("the record's id '{body}' differs from '{path}' in the path; leave id out or make them equal")]
    IdMismatch {
        /// Id in the path.
        path: String,
        /// Id in the body.
        body: String,
    },
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The audit entries of a confidential read could not be written (in a
    /// batch with other requests' reads; the store's own error is in the
    /// text): the answer must not be sent unaudited.
    #[error("the audit log could not be written: {0}")]
    AuditFailed(String),
    /// The index could not be built.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The change was abandoned before its commit began (its request
    /// timed out or its client went away): nothing was stored.
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImportReport {
    /// Records read from the file.
    pub rows_read: usize,
    /// Records accepted (created, updated or unchanged).
    pub accepted: usize,
    /// How the accepted ones changed the store.
    pub created: usize,
    /// Existing records replaced.
    pub updated: usize,
    /// Records equal to the stored ones.
    pub unchanged: usize,
    /// Every rejected record, with its line and reason.
    pub rejections: Vec<Rejection>,
}

/// What opening the live directory did.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenReport {
    /// Records seeded into a new store (`None`: the store had records).
    pub seeded: Option<usize>,
    /// Rows of the seed data that were rejected.
    pub rejections: Vec<Rejection>,
    /// Active records indexed.
    pub providers: usize,
    /// Time to read the stored records ([`OpenedStore::read`]; it may
    /// have run beside the gazetteer load).
    pub read: Duration,
    /// Time to seed (a new store) and index, after the read.
    pub elapsed: Duration,
    /// Regions taken from the tile file instead of being tiled again
    /// ([`OpenedStore::with_tile_file`]).
    pub reused_tiles: usize,
}

/// A store with its active records already read: the part of opening the
/// live directory that needs no gazetteer, so that `serve` can do it on a
/// second core while the gazetteer loads.
pub struct OpenedStore {
    store: Box<dyn Store>,
    /// The active records; `None` for a store that never held one (it will
    /// be seeded).
    stored: Option<Vec<Stored>>,
    read: Duration,
    tile_file: Option<std::path::PathBuf>,
}

impl OpenedStore {
    /// Reads `store`'s active records (none for a new store).
    ///
    /// # Errors
    /// [`LiveError::Store`] when the store cannot be read.
    pub fn read(store: Box<dyn Store>) -> Result<OpenedStore, LiveError> {
        let started = Instant::now();
        let stored = if store.is_empty()? {
            None
        } else {
            Some(store.active()?)
        };
        Ok(OpenedStore {
            store,
            stored,
            read: started.elapsed(),
            tile_file: None,
        })
    }

    /// Keeps tiled regions in `path` between starts: opening reuses the
    /// tiles whose boundaries are unchanged, and rewrites the file when it
    /// had to tile anything (see [`AreaResolver::load_tiles`]). A missing,
    /// stale or unreadable file only means tiling again.
    #[must_use]
    pub fn with_tile_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.tile_file = Some(path.into());
        self
    }

    /// True when the store never held a record and will be seeded.
    pub fn is_new(&self) -> bool {
        self.stored.is_none()
    }
}

/// Committed state: the store, the active records and their versions.
struct Writer {
    store: Box<dyn Store>,
    /// Shared, so the rebuilder copies the map, not the records, while it
    /// holds the writer lock.
    records: Records,
    /// Changes committed since start.
    committed: u64,
}

/// Everything the directory's rooms share.
struct Shared {
    gazetteer: Arc<Gazetteer>,
    vocabulary: Arc<Vocabulary>,
    options: IndexOptions,
    /// The one writer: every change and every audit batch is committed
    /// under this lock.
    writer: Mutex<Writer>,
    /// The served snapshot and the rebuilder's progress.
    snapshots: Snapshots,
    /// Reader connections: reads never take the writer lock.
    readers: Readers,
    /// API keys already checked.
    keys: KeyCache,
    /// The store's key reader, when it has one: a key lookup then never
    /// waits for the writer lock (held through every commit).
    key_reader: Option<Mutex<Box<dyn KeyReader>>>,
    /// Confidential reads waiting for their audit entries.
    audit: AuditLog,
    /// Referral counts and the unmet-need queue.
    referrals: referrals::ReferralRoom,
}

/// The live directory. Cheap to share behind an `Arc`; every method takes
/// `&self` and may block (call it from a blocking thread in async code).
pub struct LiveDirectory {
    shared: Arc<Shared>,
    rebuilder: Option<std::thread::JoinHandle<()>>,
    unmet_writer: Option<std::thread::JoinHandle<()>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LiveDirectory {
    /// Opens the live directory over `store`. A store that never held a
    /// record is first seeded with `seed()` (the bundled or `--data`
    /// directory): its accepted records whose service areas resolve are
    /// stored as version 1, the others reported in
    /// [`OpenReport::rejections`].
    ///
    /// # Errors
    /// [`LiveError`] when the store cannot be read or written, or the
    /// index options are invalid.
    pub fn open(
        store: Box<dyn Store>,
        gazetteer: Arc<Gazetteer>,
        vocabulary: Arc<Vocabulary>,
        options: IndexOptions,
        seed: impl FnOnce(&Gazetteer, &Vocabulary) -> Ingested,
    ) -> Result<(LiveDirectory, OpenReport), LiveError> {
        LiveDirectory::open_read(
            OpenedStore::read(store)?,
            gazetteer,
            vocabulary,
            options,
            seed,
        )
    }

    /// [`LiveDirectory::open`] over a store whose records were read
    /// beforehand ([`OpenedStore::read`]).
    ///
    /// # Errors
    /// As [`LiveDirectory::open`].
    pub fn open_read(
        opened: OpenedStore,
        gazetteer: Arc<Gazetteer>,
        vocabulary: Arc<Vocabulary>,
        options: IndexOptions,
        seed: impl FnOnce(&Gazetteer, &Vocabulary) -> Ingested,
    ) -> Result<(LiveDirectory, OpenReport), LiveError> {
        let started = Instant::now();
        let OpenedStore {
            mut store,
            stored,
            read,
            tile_file,
        } = opened;
        let mut resolver = AreaResolver::new(&gazetteer, &options)?;
        let mut reused_tiles = 0;
        if let Some(path) = &tile_file {
            match resolver.load_tiles(path) {
                Ok(count) => reused_tiles = count,
                Err(error) => tracing::warn!(%error, "tiling regions again"),
            }
        }
        let mut seeded = None;
        let mut rejections = Vec::new();
        if stored.is_none() {
            let ingested = seed(&gazetteer, &vocabulary);
            let (directory, dropped) = Directory::build_rows(
                ingested.providers,
                &ingested.origins,
                &mut resolver,
                options.threads,
            )?;
            rejections = ingested.rejections;
            rejections.extend(dropped);
            let system = Actor {
                name: "system:seed",
                role: Role::Admin,
            };
            seeded = Some(store.seed(directory.providers(), &system)?);
        }
        // One path for a new and an existing store: the index is built from
        // what the store holds (the seed build above only found rejections
        // and warmed the region cache).
        let stored = match stored {
            Some(stored) => stored,
            None => store.active()?,
        };
        let records: Records = stored
            .into_iter()
            .map(|s| (s.provider.id.to_string(), (Arc::new(s.provider), s.version)))
            .collect();
        let snapshot = snapshot::build_snapshot(&records, &mut resolver, options.threads, 0)?;
        let key_reader = store.key_reader()?.map(Mutex::new);
        if let Some(path) = &tile_file {
            if resolver.region_count() > reused_tiles {
                if let Err(error) = resolver.save_tiles(path) {
                    tracing::warn!(%error, "keeping the tiled regions for the next start");
                }
            }
        }
        let report = OpenReport {
            seeded,
            rejections,
            providers: snapshot.directory.len(),
            read,
            elapsed: started.elapsed(),
            reused_tiles,
        };
        let readers = Readers::open(store.as_ref())?;
        let referrals = referrals::ReferralRoom::load(store.as_ref())?;
        let shared = Arc::new(Shared {
            snapshots: Snapshots::new(snapshot, resolver.into_regions()),
            gazetteer,
            vocabulary,
            options,
            writer: Mutex::new(Writer {
                store,
                records,
                committed: 0,
            }),
            readers,
            keys: KeyCache::default(),
            key_reader,
            audit: AuditLog::default(),
            referrals,
        });
        let worker = Arc::clone(&shared);
        let rebuilder = std::thread::Builder::new()
            .name("refmatch-rebuild".to_owned())
            .spawn(move || snapshot::rebuild_loop(&worker))
            .map_err(StoreError::Io)?;
        let worker = Arc::clone(&shared);
        let unmet_writer = std::thread::Builder::new()
            .name("refmatch-unmet".to_owned())
            .spawn(move || referrals::unmet_writer(&worker))
            .map_err(StoreError::Io)?;
        Ok((
            LiveDirectory {
                shared,
                rebuilder: Some(rebuilder),
                unmet_writer: Some(unmet_writer),
            },
            report,
        ))
    }

    /// The snapshot queries should use now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.shared.snapshots.current()
    }

    /// The gazetteer records are validated against.
    pub fn gazetteer(&self) -> &Arc<Gazetteer> {
        &self.shared.gazetteer
    }

    /// The vocabulary records are validated against.
    pub fn vocabulary(&self) -> &Arc<Vocabulary> {
        &self.shared.vocabulary
    }
}

impl Drop for LiveDirectory {
    fn drop(&mut self) {
        self.shared.snapshots.stop();
        self.shared.referrals.stop();
        if let Some(handle) = self.rebuilder.take() {
            // A panicked rebuilder has nothing left to clean up.
            let _ = handle.join();
        }
        if let Some(handle) = self.unmet_writer.take() {
            // It writes what is queued, then ends.
            let _ = handle.join();
        }
    }
}
