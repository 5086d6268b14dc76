//! How far a long read has got, for a progress display on another thread.

use std::sync::atomic::{AtomicU64, Ordering};

/// Rows and bytes read so far, updated by the readers as they go (CSV once
/// per batch of rows, other formats once per file) and read from any
/// thread. Updating costs one atomic addition per batch.
///
/// ```
/// use refmatch::ingest::Progress;
/// let progress = Progress::default();
/// assert_eq!((progress.rows(), progress.bytes()), (0, 0));
/// ```
#[derive(Debug, Default)]
pub struct Progress {
    rows: AtomicU64,
    bytes: AtomicU64,
}

impl Progress {
    /// Rows (records) read so far, accepted or not, as counted in
    /// [`Ingested::rows_read`](super::Ingested::rows_read).
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    /// Bytes of input read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    pub(super) fn add_rows(&self, rows: u64) {
        self.rows.fetch_add(rows, Ordering::Relaxed);
    }

    pub(super) fn add_bytes(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// A reader that counts the bytes it hands out in a [`Progress`].
pub(super) struct Counting<'a, R> {
    inner: R,
    progress: &'a Progress,
}

impl<'a, R> Counting<'a, R> {
    pub(super) fn new(inner: R, progress: &'a Progress) -> Self {
        Self { inner, progress }
    }
}

impl<R: std::io::Read> std::io::Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.progress.add_bytes(read as u64);
        Ok(read)
    }
}
