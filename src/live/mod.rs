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
//! ([`RegionCache`]), so a rebuild after an edit re-tiles nothing that the
//! edit did not add.

use crate::cancel::{Cancel, Cancelled};
use crate::gazetteer::Gazetteer;
use crate::index::{AreaResolver, Directory, IndexError, IndexOptions, RegionCache};
use crate::ingest::{Format, Ingested, Rejection, Validator};
use crate::model::{Provider, Role, Vocabulary};
use crate::store::{
    Actor, ApiKey, AuditEntry, ConfidentialRead, HistoryEntry, ImportCounts, KeyReader, Store,
    StoreError, Stored, Submission, SubmissionStatus,
};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
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
    records: BTreeMap<String, (Arc<Provider>, u64)>,
    /// Changes committed since start.
    committed: u64,
}

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

/// Confidential reads waiting to be audited, for group commit: one
/// request at a time writes every read queued so far in one transaction
/// (one sync to disk) while the next ones queue behind it.
#[derive(Default)]
struct ReadLog {
    /// Reads not yet taken by a writer, with their tickets.
    pending: Vec<(u64, ConfidentialRead)>,
    /// The next ticket.
    next_ticket: u64,
    /// True while a request is writing a batch.
    writing: bool,
    /// Outcomes of written batches by ticket, each removed by the request
    /// that waits for it.
    outcomes: FxHashMap<u64, Result<(), String>>,
}

/// A batch of reads being written: however the write ends (even by a
/// panic), dropping it posts the outcome for every ticket in it, frees the
/// log for the next writer and wakes the waiting requests.
struct ReadBatch<'a> {
    shared: &'a Shared,
    tickets: Vec<u64>,
    outcome: Result<(), String>,
}

impl Drop for ReadBatch<'_> {
    fn drop(&mut self) {
        let mut log = lock(&self.shared.reads);
        for ticket in self.tickets.drain(..) {
            log.outcomes.insert(ticket, self.outcome.clone());
        }
        log.writing = false;
        self.shared.reads_written.notify_all();
    }
}

/// How long a checked API key is trusted from memory by default.
pub const DEFAULT_KEY_CACHE_TTL: Duration = Duration::from_secs(30);

/// `duration` in whole milliseconds, saturating.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// How long the rebuilder waits before retrying a failed build.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

struct Shared {
    gazetteer: Arc<Gazetteer>,
    vocabulary: Arc<Vocabulary>,
    options: IndexOptions,
    writer: Mutex<Writer>,
    current: RwLock<Arc<Snapshot>>,
    regions: Mutex<RegionCache>,
    progress: Mutex<Progress>,
    /// Signalled when a change is committed or on stop.
    wake: Condvar,
    /// Signalled when a snapshot is swapped in.
    swapped: Condvar,
    /// Keys already seen, by secret hash, with when they were read from the
    /// store: an entry older than `key_cache_ttl` is read again, so a key
    /// revoked by another process (`refmatch keys revoke`) stops working.
    keys: Mutex<FxHashMap<String, (ApiKey, Instant)>>,
    /// How long a key is trusted from memory, in milliseconds (read on
    /// every keyed request, so an atomic rather than a lock).
    key_cache_ttl_ms: AtomicU64,
    /// The store's key reader, when it has one: a key lookup then never
    /// waits for the writer lock (held through every commit).
    key_reader: Option<Mutex<Box<dyn KeyReader>>>,
    /// Confidential reads waiting for their audit entries.
    reads: Mutex<ReadLog>,
    /// Signalled when a batch of reads is written.
    reads_written: Condvar,
}

/// The live directory. Cheap to share behind an `Arc`; every method takes
/// `&self` and may block (call it from a blocking thread in async code).
pub struct LiveDirectory {
    shared: Arc<Shared>,
    rebuilder: Option<std::thread::JoinHandle<()>>,
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
            let mut ingested = seed(&gazetteer, &vocabulary);
            let (directory, dropped) = Directory::build_with(
                std::mem::take(&mut ingested.providers),
                &mut resolver,
                options.threads,
            )?;
            rejections = std::mem::take(&mut ingested.rejections);
            for dropped in dropped {
                let (source, line) = ingested
                    .origins
                    .get(dropped.input_index)
                    .map_or(("", 0), |(s, l)| (&**s, *l));
                rejections.push(Rejection::new(
                    source,
                    line,
                    Some("service_area"),
                    dropped.reason.to_string(),
                ));
            }
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
        let records: BTreeMap<String, (Arc<Provider>, u64)> = stored
            .into_iter()
            .map(|s| (s.provider.id.to_string(), (Arc::new(s.provider), s.version)))
            .collect();
        let snapshot = build_snapshot(&records, &mut resolver, options.threads, 0)?;
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
        let shared = Arc::new(Shared {
            regions: Mutex::new(resolver.into_regions()),
            gazetteer,
            vocabulary,
            options,
            writer: Mutex::new(Writer {
                store,
                records,
                committed: 0,
            }),
            current: RwLock::new(Arc::new(snapshot)),
            progress: Mutex::new(Progress::default()),
            wake: Condvar::new(),
            swapped: Condvar::new(),
            keys: Mutex::new(FxHashMap::default()),
            key_cache_ttl_ms: AtomicU64::new(millis(DEFAULT_KEY_CACHE_TTL)),
            key_reader,
            reads: Mutex::new(ReadLog::default()),
            reads_written: Condvar::new(),
        });
        let worker = Arc::clone(&shared);
        let rebuilder = std::thread::Builder::new()
            .name("refmatch-rebuild".to_owned())
            .spawn(move || rebuild_loop(&worker))
            .map_err(StoreError::Io)?;
        Ok((
            LiveDirectory {
                shared,
                rebuilder: Some(rebuilder),
            },
            report,
        ))
    }

    /// The snapshot queries should use now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(
            &self
                .shared
                .current
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// The gazetteer records are validated against.
    pub fn gazetteer(&self) -> &Arc<Gazetteer> {
        &self.shared.gazetteer
    }

    /// The vocabulary records are validated against.
    pub fn vocabulary(&self) -> &Arc<Vocabulary> {
        &self.shared.vocabulary
    }

    /// Parses and validates one record from a JSON body, as ingest would
    /// (and resolves its service area). `id_from_path` is the id of the
    /// URL, if any; the body's id must equal it or be absent.
    ///
    /// # Errors
    /// [`LiveError::BadRecord`], [`LiveError::Invalid`] or
    /// [`LiveError::IdMismatch`].
    pub fn validate(&self, body: &[u8], id_from_path: Option<&str>) -> Result<Provider, LiveError> {
        let mut value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| LiveError::BadRecord(e.to_string()))?;
        if let (Some(path), Some(object)) = (id_from_path, value.as_object_mut()) {
            match object.get("id").and_then(|v| v.as_str()) {
                Some(body) if body != path => {
                    return Err(LiveError::IdMismatch {
                        path: path.to_owned(),
                        body: body.to_owned(),
                    })
                }
                _ => {
                    object.insert("id".to_owned(), serde_json::Value::from(path));
                }
            }
        }
        if let Some(object) = value.as_object_mut() {
            object
                .entry("source")
                .or_insert_with(|| serde_json::Value::from("api"));
        }
        let provider: Provider =
            serde_json::from_value(value).map_err(|e| LiveError::BadRecord(e.to_string()))?;
        self.check(provider, "request body", 1)
    }

    /// The checks of ingest plus service-area resolution, for one record.
    fn check(&self, provider: Provider, source: &str, line: u64) -> Result<Provider, LiveError> {
        let shared = &self.shared;
        let validator = Validator::new(&shared.gazetteer, &shared.vocabulary);
        let provider = validator
            .provider(provider, source, line)
            .map_err(LiveError::Invalid)?;
        let mut resolver = AreaResolver::new(&shared.gazetteer, &shared.options)?;
        resolver
            .resolve(&provider.service_area, provider.location)
            .map_err(|e| {
                LiveError::Invalid(Rejection::new(
                    source,
                    line,
                    Some("service_area"),
                    e.to_string(),
                ))
            })?;
        Ok(provider)
    }

    /// Runs `change` on the store under the writer lock; it returns its
    /// outcome and the records it changed, which are applied to the
    /// committed records. Then waits until a snapshot holds the change.
    ///
    /// `cancel` is claimed ([`Cancel::begin_commit`]) once the lock is
    /// held, before the transaction: a change cancelled by then is not
    /// made ([`LiveError::Cancelled`]); one claimed runs to its end.
    fn commit<T>(
        &self,
        cancel: &Cancel,
        change: impl FnOnce(&mut dyn Store) -> Result<(T, Vec<Stored>), StoreError>,
    ) -> Result<T, LiveError> {
        let mut writer = lock(&self.shared.writer);
        cancel.begin_commit()?;
        let (outcome, changed) = change(writer.store.as_mut())?;
        for stored in changed {
            if stored.active {
                writer.records.insert(
                    stored.provider.id.to_string(),
                    (Arc::new(stored.provider), stored.version),
                );
            } else {
                writer.records.remove(stored.provider.id.as_str());
            }
        }
        writer.committed += 1;
        let generation = writer.committed;
        drop(writer);
        // Taking the progress lock orders this wake-up after the
        // rebuilder's check of `committed` or before it: never lost.
        drop(lock(&self.shared.progress));
        self.shared.wake.notify_all();
        self.wait_visible(generation)?;
        Ok(outcome)
    }

    /// Blocks until the served snapshot includes commit `generation`.
    fn wait_visible(&self, generation: u64) -> Result<(), LiveError> {
        let mut progress = lock(&self.shared.progress);
        while progress.built < generation {
            if let Some((failed, error)) = &progress.failed {
                if *failed >= generation {
                    return Err(LiveError::Store(StoreError::Corrupt(format!(
                        "the change is stored but the index could not be rebuilt ({error}); it will be served once a rebuild succeeds"
                    ))));
                }
            }
            progress = self
                .shared
                .swapped
                .wait(progress)
                .unwrap_or_else(PoisonError::into_inner);
        }
        Ok(())
    }

    /// Creates a record.
    ///
    /// # Errors
    /// Validation errors, [`StoreError::Conflict`] when the id exists, or
    /// [`LiveError::Cancelled`] when `cancel` was cancelled before the commit.
    pub fn create(
        &self,
        provider: &Provider,
        actor: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<Stored, LiveError> {
        self.commit(cancel, |store| {
            let stored = store.create(provider, actor)?;
            Ok((stored.clone(), vec![stored]))
        })
    }

    /// Replaces a record; `expected` is the version the caller last saw.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Stale`], or
    /// [`LiveError::Cancelled`] when `cancel` was cancelled before the commit.
    pub fn update(
        &self,
        provider: &Provider,
        expected: Option<u64>,
        actor: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<Stored, LiveError> {
        self.commit(cancel, |store| {
            let stored = store.update(provider, expected, actor)?;
            Ok((stored.clone(), vec![stored]))
        })
    }

    /// Soft-deletes a record: it leaves every answer and stays in history.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Stale`], or
    /// [`LiveError::Cancelled`] when `cancel` was cancelled before the commit.
    pub fn delete(
        &self,
        id: &str,
        expected: Option<u64>,
        actor: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<Stored, LiveError> {
        self.commit(cancel, |store| {
            let stored = store.deactivate(id, expected, actor)?;
            Ok((stored.clone(), vec![stored]))
        })
    }

    /// Imports a CSV, JSON, NDJSON, GeoJSON or HSDS file: every valid
    /// record is created or replaced in one transaction; every other one is
    /// reported with its line and reason.
    ///
    /// # Errors
    /// [`LiveError::Store`] when the transaction fails (nothing is written);
    /// [`LiveError::Cancelled`] when `cancel` was cancelled before the
    /// commit began (checked per record while validating, then claimed
    /// before the transaction: nothing is written).
    pub fn import(
        &self,
        source: &str,
        format: Format,
        bytes: &[u8],
        actor: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<ImportReport, LiveError> {
        let shared = &self.shared;
        let validator = Validator::new(&shared.gazetteer, &shared.vocabulary);
        let mut ingested = validator.read_bytes(source, format, bytes);
        cancel.check()?;
        ingested.finish();
        let rows_read = ingested.rows_read;
        let mut rejections = std::mem::take(&mut ingested.rejections);
        let mut accepted = Vec::with_capacity(ingested.providers.len());
        let mut resolver = AreaResolver::with_regions(
            &shared.gazetteer,
            &shared.options,
            lock(&shared.regions).clone(),
        )?;
        for (provider, (source, line)) in ingested.providers.into_iter().zip(ingested.origins) {
            cancel.check()?;
            match resolver.resolve(&provider.service_area, provider.location) {
                Ok(_) => accepted.push(provider),
                Err(e) => rejections.push(Rejection::new(
                    &source,
                    line,
                    Some("service_area"),
                    e.to_string(),
                )),
            }
        }
        rejections.sort_by_key(|r| r.line);
        let counts: ImportCounts = self.commit(cancel, |store| {
            let counts = store.import(&accepted, actor)?;
            let mut changed = Vec::with_capacity(accepted.len());
            for provider in &accepted {
                changed.extend(store.get(&provider.id)?);
            }
            Ok((counts, changed))
        })?;
        Ok(ImportReport {
            rows_read,
            accepted: accepted.len(),
            created: counts.created,
            updated: counts.updated,
            unchanged: counts.unchanged,
            rejections,
        })
    }

    /// The stored record `id`, active or not (for history and 404/410).
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn stored(&self, id: &str) -> Result<Option<Stored>, LiveError> {
        Ok(lock(&self.shared.writer).store.get(id)?)
    }

    /// Every version of record `id`, oldest first.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, LiveError> {
        Ok(lock(&self.shared.writer).store.history(id)?)
    }

    /// Audit entries after `after`, at most `limit`.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn audit(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, LiveError> {
        Ok(lock(&self.shared.writer).store.audit(after, limit)?)
    }

    /// Records that `actor` was shown the confidential records `ids`, and
    /// returns once the entries are committed (the answer may then be
    /// sent). Reads of concurrent requests are committed together (group
    /// commit): the first waiting request writes every read queued so far
    /// in one transaction while later ones queue for the next.
    ///
    /// # Errors
    /// [`LiveError::AuditFailed`] when the batch holding this read could
    /// not be written.
    pub fn record_reads(
        &self,
        actor: &Actor<'_>,
        ids: &[&str],
        via: &str,
    ) -> Result<(), LiveError> {
        if ids.is_empty() {
            return Ok(());
        }
        let read = ConfidentialRead {
            actor: actor.name.to_owned(),
            role: actor.role,
            ids: ids.iter().map(|id| (*id).to_owned()).collect(),
            via: via.to_owned(),
        };
        let mut log = lock(&self.shared.reads);
        let ticket = log.next_ticket;
        log.next_ticket += 1;
        log.pending.push((ticket, read));
        loop {
            if let Some(outcome) = log.outcomes.remove(&ticket) {
                return outcome.map_err(LiveError::AuditFailed);
            }
            if log.writing {
                log = self
                    .shared
                    .reads_written
                    .wait(log)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Nobody is writing and this read is still pending: write the
            // whole queue.
            log.writing = true;
            let (tickets, reads): (Vec<u64>, Vec<ConfidentialRead>) =
                std::mem::take(&mut log.pending).into_iter().unzip();
            drop(log);
            let mut batch = ReadBatch {
                shared: &self.shared,
                tickets,
                outcome: Err("the audit writer stopped".to_owned()),
            };
            batch.outcome = lock(&self.shared.writer)
                .store
                .record_read_batch(&reads)
                .map_err(|e| e.to_string());
            // Dropping the batch posts the outcome and wakes the waiters.
            drop(batch);
            log = lock(&self.shared.reads);
        }
    }

    /// Queues a submission after validating it as a record; `cancel` is
    /// claimed before it is stored.
    ///
    /// # Errors
    /// Validation errors, [`LiveError::Store`] or [`LiveError::Cancelled`].
    pub fn submit(
        &self,
        record: &Provider,
        from: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<Submission, LiveError> {
        let mut writer = lock(&self.shared.writer);
        cancel.begin_commit()?;
        Ok(writer.store.submit(record, from)?)
    }

    /// Submissions, newest first.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn submissions(
        &self,
        status: Option<SubmissionStatus>,
    ) -> Result<Vec<Submission>, LiveError> {
        Ok(lock(&self.shared.writer).store.submissions(status)?)
    }

    /// Approves submission `id`: its record (validated again now) becomes
    /// a provider.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::AlreadyDecided`],
    /// [`StoreError::Conflict`], validation errors, or
    /// [`LiveError::Cancelled`] when `cancel` was cancelled before the commit.
    pub fn approve(
        &self,
        id: u64,
        actor: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<(Submission, Stored), LiveError> {
        let submission = lock(&self.shared.writer)
            .store
            .submission(id)?
            .ok_or_else(|| StoreError::NotFound(format!("submission {id}")))?;
        let record = self.check(submission.record, "submission", id)?;
        self.commit(cancel, |store| {
            let (submission, stored) = store.approve(id, &record, actor)?;
            Ok(((submission, stored.clone()), vec![stored]))
        })
    }

    /// Rejects submission `id` with a reason.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::AlreadyDecided`], or
    /// [`LiveError::Cancelled`] when `cancel` was cancelled before the commit.
    pub fn reject(
        &self,
        id: u64,
        reason: &str,
        actor: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<Submission, LiveError> {
        let mut writer = lock(&self.shared.writer);
        cancel.begin_commit()?;
        Ok(writer.store.reject(id, reason, actor)?)
    }

    /// Creates an API key; the secret is returned once and not stored.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn create_key(
        &self,
        name: &str,
        role: Role,
        actor: &Actor<'_>,
    ) -> Result<(ApiKey, String), LiveError> {
        Ok(lock(&self.shared.writer)
            .store
            .create_key(name, role, actor)?)
    }

    /// The key whose secret is `secret` if it was looked up before (no
    /// store access, so it never blocks); `None` means "ask
    /// [`LiveDirectory::find_key`]", not "unknown".
    pub fn cached_key(&self, secret: &str) -> Option<ApiKey> {
        let digest = crate::store::hash_secret(secret);
        let ttl = Duration::from_millis(self.shared.key_cache_ttl_ms.load(Ordering::Relaxed));
        lock(&self.shared.keys)
            .get(&digest)
            .filter(|(_, read_at)| read_at.elapsed() < ttl)
            .map(|(key, _)| key.clone())
    }

    /// How long a key, once checked against the store, is trusted from
    /// memory (default [`DEFAULT_KEY_CACHE_TTL`]): a key revoked with
    /// `refmatch keys revoke` stops working on a running server within
    /// that time. Zero checks the store on every request.
    pub fn set_key_cache_ttl(&self, ttl: Duration) {
        self.shared
            .key_cache_ttl_ms
            .store(millis(ttl), Ordering::Relaxed);
    }

    /// Every key issued, oldest first, with whether it was revoked.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn keys(&self) -> Result<Vec<crate::store::KeyListing>, LiveError> {
        Ok(lock(&self.shared.writer).store.keys()?)
    }

    /// The key whose secret this is, if any (cached after the first hit).
    /// The store is read through its key reader ([`Store::key_reader`]),
    /// so a lookup never waits for a commit in progress; only a store
    /// without one (in memory) is read under the writer lock.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn find_key(&self, secret: &str) -> Result<Option<ApiKey>, LiveError> {
        if let Some(key) = self.cached_key(secret) {
            return Ok(Some(key));
        }
        let digest = crate::store::hash_secret(secret);
        let found = match &self.shared.key_reader {
            Some(reader) => lock(reader).find_key(secret)?,
            None => lock(&self.shared.writer).store.find_key(secret)?,
        };
        let mut keys = lock(&self.shared.keys);
        match &found {
            Some(key) => {
                keys.insert(digest, (key.clone(), Instant::now()));
            }
            None => {
                keys.remove(&digest);
            }
        }
        Ok(found)
    }
}

impl Drop for LiveDirectory {
    fn drop(&mut self) {
        lock(&self.shared.progress).stop = true;
        self.shared.wake.notify_all();
        if let Some(handle) = self.rebuilder.take() {
            // A panicked rebuilder has nothing left to clean up.
            let _ = handle.join();
        }
    }
}

/// Builds a snapshot of `records` at `generation`.
fn build_snapshot(
    records: &BTreeMap<String, (Arc<Provider>, u64)>,
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
fn rebuild_loop(shared: &Shared) {
    loop {
        {
            let mut progress = lock(&shared.progress);
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
                let (next, timeout) = shared
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
        let regions = std::mem::take(&mut *lock(&shared.regions));
        let outcome = AreaResolver::with_regions(&shared.gazetteer, &shared.options, regions)
            .and_then(|mut resolver| {
                let built =
                    build_snapshot(&records, &mut resolver, shared.options.threads, generation);
                *lock(&shared.regions) = resolver.into_regions();
                built
            });
        let mut retired = None;
        match outcome {
            Ok(snapshot) => {
                // Swap under the lock; free the old snapshot after it (at
                // 100k records that takes a noticeable time).
                retired = Some(std::mem::replace(
                    &mut *shared
                        .current
                        .write()
                        .unwrap_or_else(PoisonError::into_inner),
                    Arc::new(snapshot),
                ));
                let mut progress = lock(&shared.progress);
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
                lock(&shared.progress).failed = Some((generation, error.to_string()));
            }
        }
        shared.swapped.notify_all();
        drop(records);
        drop(retired);
    }
}
