//! API key lookups: a cache of keys already checked against the store,
//! trusted for a time-to-live, in front of the store's key reader (a
//! connection of its own, so a lookup never waits for a commit).

use super::{lock, LiveDirectory, LiveError};
use crate::store::ApiKey;
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a checked API key is trusted from memory by default.
pub const DEFAULT_KEY_CACHE_TTL: Duration = Duration::from_secs(30);

/// Keys already seen, by secret hash, with when they were read from the
/// store: an entry older than the time-to-live is read again, so a key
/// revoked by another process (`refmatch keys revoke`) stops working.
pub(super) struct KeyCache {
    keys: Mutex<FxHashMap<String, (ApiKey, Instant)>>,
    /// How long a key is trusted from memory, in milliseconds (read on
    /// every keyed request, so an atomic rather than a lock).
    ttl_ms: AtomicU64,
}

impl Default for KeyCache {
    fn default() -> Self {
        KeyCache {
            keys: Mutex::new(FxHashMap::default()),
            ttl_ms: AtomicU64::new(millis(DEFAULT_KEY_CACHE_TTL)),
        }
    }
}

/// `duration` in whole milliseconds, saturating.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl KeyCache {
    /// The key whose secret hash is `digest`, if it was read from the
    /// store less than the time-to-live ago.
    fn get(&self, digest: &str) -> Option<ApiKey> {
        let ttl = Duration::from_millis(self.ttl_ms.load(Ordering::Relaxed));
        lock(&self.keys)
            .get(digest)
            .filter(|(_, read_at)| read_at.elapsed() < ttl)
            .map(|(key, _)| key.clone())
    }

    /// Keeps what the store just answered for `digest`: the key, or that
    /// there is none (any entry is dropped).
    fn remember(&self, digest: String, found: Option<&ApiKey>) {
        let mut keys = lock(&self.keys);
        match found {
            Some(key) => {
                keys.insert(digest, (key.clone(), Instant::now()));
            }
            None => {
                keys.remove(&digest);
            }
        }
    }
}

impl LiveDirectory {
    /// The key whose secret is `secret` if it was looked up before (no
    /// store access, so it never blocks); `None` means "ask
    /// [`LiveDirectory::find_key`]", not "unknown".
    pub fn cached_key(&self, secret: &str) -> Option<ApiKey> {
        self.shared.keys.get(&crate::store::hash_secret(secret))
    }

    /// How long a key, once checked against the store, is trusted from
    /// memory (default [`DEFAULT_KEY_CACHE_TTL`]): a key revoked with
    /// `refmatch keys revoke` stops working on a running server within
    /// that time. Zero checks the store on every request.
    pub fn set_key_cache_ttl(&self, ttl: Duration) {
        self.shared
            .keys
            .ttl_ms
            .store(millis(ttl), Ordering::Relaxed);
    }

    /// The key whose secret this is, if any (cached after the first hit).
    /// The store is read through its key reader
    /// ([`Store::key_reader`](crate::store::Store::key_reader)), so a
    /// lookup never waits for a commit in progress; only a store without
    /// one (in memory) is read under the writer lock.
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
        self.shared.keys.remember(digest, found.as_ref());
        Ok(found)
    }
}
