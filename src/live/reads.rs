//! Reads of the store (records, history, audit, submissions, keys) on
//! connections of their own, never behind the writer lock.
//!
//! The store's readers ([`Store::reader`]) each hold a read-only
//! connection; in WAL mode a reader sees the last commit while the writer
//! writes, so a read waits neither for the writer lock (held through a
//! whole commit and the audit batches) nor for SQLite's write lock. Every
//! write returns after its commit, so a read made after a write sees it.
//! A store without readers (in memory) is read under the writer lock.

use super::{lock, LiveDirectory, LiveError};
use crate::model::referral::{Referral, ReferralQuery, UnmetEvent};
use crate::store::{
    AuditEntry, HistoryEntry, KeyListing, Store, StoreError, StoreReader, Stored, Submission,
    SubmissionStatus,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

/// Reader connections opened with the live directory: concurrent reads
/// take a free one; when all are busy a read waits for one of them (never
/// for the writer).
pub(super) const READERS: usize = 4;

/// A store reader, boxed.
type Reader = Box<dyn StoreReader + Send>;

/// The pool of reader connections.
pub(super) struct Readers {
    pool: Vec<Mutex<Reader>>,
    /// Which busy reader the next read queues for (round robin).
    next: AtomicUsize,
}

impl Readers {
    /// Opens [`READERS`] readers of `store`; none when it has none.
    ///
    /// # Errors
    /// [`StoreError`] when a reader cannot be opened.
    pub(super) fn open(store: &dyn Store) -> Result<Readers, StoreError> {
        let mut pool = Vec::with_capacity(READERS);
        while pool.len() < READERS {
            match store.reader()? {
                Some(reader) => pool.push(Mutex::new(reader)),
                None => break,
            }
        }
        Ok(Readers {
            pool,
            next: AtomicUsize::new(0),
        })
    }

    /// True when the store has no readers (reads go through the writer).
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.pool.is_empty()
    }

    /// A free reader (or, all busy, the next one in turn, once it is
    /// free); `None` when there are no readers.
    fn checkout(&self) -> Option<MutexGuard<'_, Reader>> {
        for slot in &self.pool {
            match slot.try_lock() {
                Ok(reader) => return Some(reader),
                Err(TryLockError::Poisoned(poisoned)) => return Some(poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        let slot = self.pool.get(turn % self.pool.len().max(1))?;
        Some(slot.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The writer's store read as a [`StoreReader`], for stores without
/// readers.
struct ThroughWriter<'a>(&'a dyn Store);

impl StoreReader for ThroughWriter<'_> {
    fn get(&self, id: &str) -> Result<Option<Stored>, StoreError> {
        self.0.get(id)
    }

    fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        self.0.history(id)
    }

    fn audit(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.0.audit(after, limit)
    }

    fn submissions(&self, status: Option<SubmissionStatus>) -> Result<Vec<Submission>, StoreError> {
        self.0.submissions(status)
    }

    fn submission(&self, id: u64) -> Result<Option<Submission>, StoreError> {
        self.0.submission(id)
    }

    fn keys(&self) -> Result<Vec<KeyListing>, StoreError> {
        self.0.keys()
    }

    fn referral(&self, id: u64) -> Result<Option<Referral>, StoreError> {
        self.0.referral(id)
    }

    fn referrals(&self, query: &ReferralQuery) -> Result<Vec<Referral>, StoreError> {
        self.0.referrals(query)
    }

    fn unmet(&self) -> Result<Vec<UnmetEvent>, StoreError> {
        self.0.unmet()
    }
}

impl LiveDirectory {
    /// Runs `read` on a reader connection, or under the writer lock for a
    /// store without readers.
    pub(super) fn read<T>(
        &self,
        read: impl FnOnce(&dyn StoreReader) -> Result<T, StoreError>,
    ) -> Result<T, LiveError> {
        Ok(match self.shared.readers.checkout() {
            Some(reader) => read(reader.as_ref())?,
            None => read(&ThroughWriter(lock(&self.shared.writer).store.as_ref()))?,
        })
    }

    /// The stored record `id`, active or not (for history and 404/410).
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn stored(&self, id: &str) -> Result<Option<Stored>, LiveError> {
        self.read(|store| store.get(id))
    }

    /// Every version of record `id`, oldest first.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, LiveError> {
        self.read(|store| store.history(id))
    }

    /// Audit entries after `after`, at most `limit`.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn audit(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, LiveError> {
        self.read(|store| store.audit(after, limit))
    }

    /// Submissions, newest first.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn submissions(
        &self,
        status: Option<SubmissionStatus>,
    ) -> Result<Vec<Submission>, LiveError> {
        self.read(|store| store.submissions(status))
    }

    /// Every key issued, oldest first, with whether it was revoked.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn keys(&self) -> Result<Vec<KeyListing>, LiveError> {
        self.read(|store| store.keys())
    }
}
