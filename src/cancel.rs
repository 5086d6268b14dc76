//! Cooperative cancellation of long work.
//!
//! The HTTP layer hands heavy work (coverage reports, site suggestions,
//! outlines, imports) to the blocking pool. When the request times out or
//! its client goes away, the async side drops its future; that alone does
//! not stop a thread. A [`Cancel`] shared by both sides does: the async
//! side calls [`Cancel::cancel`] (from a drop guard or its deadline) and
//! the library checks [`Cancel::check`] at every unit of work (a region, a
//! people point, a provider, a candidate site, a feature written), giving
//! up with [`Cancelled`].
//!
//! A write has a point of no return: [`Cancel::begin_commit`] claims the
//! token before the store transaction starts. After that the token cannot
//! be cancelled, so the request's answer waits for the commit; before it,
//! a cancelled token makes the write give up with nothing stored. Either an
//! import is committed and answered with its outcome, or it is answered
//! with an error and absent from the store.
//!
//! # Examples
//! ```
//! use refmatch::cancel::{Cancel, Cancelled};
//!
//! let cancel = Cancel::new();
//! assert_eq!(cancel.check(), Ok(()));
//! assert!(cancel.cancel());
//! assert_eq!(cancel.check(), Err(Cancelled));
//!
//! // Once a commit has begun, the work can no longer be cancelled.
//! let write = Cancel::new();
//! assert_eq!(write.begin_commit(), Ok(()));
//! assert!(!write.cancel());
//! assert_eq!(write.check(), Ok(()));
//! ```

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

/// The work may go on.
const RUNNING: u8 = 0;
/// The work should stop: nobody waits for its result.
const CANCELLED: u8 = 1;
/// A commit has begun: the work runs to its end and its answer is sent.
const COMMITTING: u8 = 2;

/// A cancellation token shared by a request and the work it started.
/// Cloning shares the token. Checking costs one atomic load.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicU8>);

/// The work stopped because its [`Cancel`] was cancelled: its request
/// timed out or its client went away. Nothing was committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the work was cancelled: its request timed out or its client went away")]
pub struct Cancelled;

impl Cancel {
    /// A token that is not cancelled.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks the work to stop. Returns true when the work is (now or
    /// already) cancelled, false when a commit has begun
    /// ([`Cancel::begin_commit`]): then the work runs to its end and the
    /// caller should wait for its answer.
    pub fn cancel(&self) -> bool {
        match self
            .0
            .compare_exchange(RUNNING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(state) => state == CANCELLED,
        }
    }

    /// True once [`Cancel::cancel`] succeeded.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire) == CANCELLED
    }

    /// True once [`Cancel::begin_commit`] succeeded.
    pub fn is_committing(&self) -> bool {
        self.0.load(Ordering::Acquire) == COMMITTING
    }

    /// `Ok` while the work may go on.
    ///
    /// # Errors
    /// [`Cancelled`] once the token is cancelled.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    /// Claims the point of no return before a commit: afterwards
    /// [`Cancel::cancel`] fails and the work's answer must be awaited.
    /// Claiming twice is fine.
    ///
    /// # Errors
    /// [`Cancelled`] when the token was cancelled first: do not commit.
    pub fn begin_commit(&self) -> Result<(), Cancelled> {
        match self
            .0
            .compare_exchange(RUNNING, COMMITTING, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Ok(()),
            Err(COMMITTING) => Ok(()),
            Err(_) => Err(Cancelled),
        }
    }
}

/// Cancels its token when dropped: hold one in the async side of a
/// request, so that a request future dropped by a timeout or a closed
/// connection stops the work it handed to a thread.
#[derive(Debug)]
pub struct CancelOnDrop(pub Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_wins_over_a_later_commit() {
        let token = Cancel::new();
        assert!(token.cancel());
        assert!(token.cancel(), "cancelling twice still reports cancelled");
        assert_eq!(token.begin_commit(), Err(Cancelled));
        assert!(token.is_cancelled());
        assert!(!token.is_committing());
    }

    #[test]
    fn commit_wins_over_a_later_cancel() {
        let token = Cancel::new();
        assert_eq!(token.begin_commit(), Ok(()));
        assert_eq!(token.begin_commit(), Ok(()));
        assert!(!token.cancel());
        assert!(token.is_committing());
        assert_eq!(token.check(), Ok(()));
    }

    #[test]
    fn dropping_the_guard_cancels_every_clone() {
        let token = Cancel::new();
        let work = token.clone();
        drop(CancelOnDrop(token));
        assert_eq!(work.check(), Err(Cancelled));
    }

    #[test]
    fn racing_cancel_and_commit_agree_on_one_winner() {
        for _ in 0..200 {
            let token = Cancel::new();
            let other = token.clone();
            let committer = std::thread::spawn(move || other.begin_commit().is_ok());
            let cancelled = token.cancel();
            let committed = committer.join().unwrap_or(false);
            assert_ne!(cancelled, committed, "exactly one side wins");
        }
    }
}
