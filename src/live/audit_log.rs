//! The audit of confidential reads, by group commit: the first waiting
//! request writes every read queued so far in one transaction (one sync
//! to disk) while later ones queue for the next batch.

use super::{lock, LiveDirectory, LiveError};
use crate::store::{Actor, ConfidentialRead};
use rustc_hash::FxHashMap;
use std::sync::{Condvar, Mutex, PoisonError};

/// Confidential reads waiting to be audited, and the batch being written.
#[derive(Default)]
pub(super) struct AuditLog {
    queue: Mutex<ReadQueue>,
    /// Signalled when a batch of reads is written.
    written: Condvar,
}

/// The queue of reads: one request at a time writes every read queued so
/// far while the next ones queue behind it.
#[derive(Default)]
struct ReadQueue {
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
/// queue for the next writer and wakes the waiting requests.
struct ReadBatch<'a> {
    log: &'a AuditLog,
    tickets: Vec<u64>,
    outcome: Result<(), String>,
}

impl Drop for ReadBatch<'_> {
    fn drop(&mut self) {
        let mut queue = lock(&self.log.queue);
        for ticket in self.tickets.drain(..) {
            queue.outcomes.insert(ticket, self.outcome.clone());
        }
        queue.writing = false;
        self.log.written.notify_all();
    }
}

impl AuditLog {
    /// Queues `read` and returns once the batch holding it was written by
    /// `write` (called by whichever waiting request finds nobody writing,
    /// with every read queued by then).
    ///
    /// # Errors
    /// The text of `write`'s error for the batch holding this read.
    fn record(
        &self,
        read: ConfidentialRead,
        write: impl Fn(&[ConfidentialRead]) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut queue = lock(&self.queue);
        let ticket = queue.next_ticket;
        queue.next_ticket += 1;
        queue.pending.push((ticket, read));
        loop {
            if let Some(outcome) = queue.outcomes.remove(&ticket) {
                return outcome;
            }
            if queue.writing {
                queue = self
                    .written
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Nobody is writing and this read is still pending: write the
            // whole queue.
            queue.writing = true;
            let (tickets, reads): (Vec<u64>, Vec<ConfidentialRead>) =
                std::mem::take(&mut queue.pending).into_iter().unzip();
            drop(queue);
            let mut batch = ReadBatch {
                log: self,
                tickets,
                outcome: Err("the audit writer stopped".to_owned()),
            };
            batch.outcome = write(&reads);
            // Dropping the batch posts the outcome and wakes the waiters.
            drop(batch);
            queue = lock(&self.queue);
        }
    }
}

impl LiveDirectory {
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
        self.shared
            .audit
            .record(read, |reads| {
                lock(&self.shared.writer)
                    .store
                    .record_read_batch(reads)
                    .map_err(|e| e.to_string())
            })
            .map_err(LiveError::AuditFailed)
    }
}
