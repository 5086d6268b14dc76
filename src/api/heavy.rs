//! Bounded work per request: the request deadline, cancellation of the
//! work a request hands to the blocking pool, and a concurrency limit per
//! kind of heavy work.
//!
//! - **Deadline.** [`deadline`] gives every request a [`Cancel`] (in its
//!   extensions) and answers `408` problem+json once the request has run
//!   for [`RouterOptions::request_timeout`](super::RouterOptions). At that
//!   moment, and whenever the request future is dropped (the client went
//!   away), the token is cancelled; the library checks it per region,
//!   people point, provider, candidate site and feature written, so the
//!   thread stops within a few milliseconds and frees its memory.
//! - **Writes.** A write claims the token ([`Cancel::begin_commit`]) before
//!   its store transaction. A deadline that finds the token claimed waits
//!   for the write's own answer: an import or edit is either committed and
//!   answered with its outcome, or answered with an error and not stored.
//! - **Concurrency.** Each [`Heavy`] kind has a semaphore. A request waits
//!   for a permit in a queue of bounded length (its deadline still runs, so
//!   a request that waits too long is answered 408 like any slow request);
//!   when the queue is full it is refused at once with `503` and
//!   `Retry-After`. The permit moves into the worker thread and is released
//!   when the work really ends, not when the request is answered, so a
//!   cancelled report that is still unwinding keeps its slot (and the
//!   memory it holds stays counted). A body made by the work keeps the
//!   permit until it has been handed to the connection (`run_body`), so
//!   clients that read slowly cannot pile up finished bodies in memory.
//!
//! Queueing rather than refusing as soon as the permits are taken: the
//! heavy answers take one to a few seconds, so a short queue turns a burst
//! into answers a few seconds later instead of errors the client must
//! retry; the bound stops a flood from piling up parsed requests; the
//! deadline stops a queued request from waiting longer than any request
//! may take.

use super::{ApiError, AppState};
use crate::cancel::{Cancel, CancelOnDrop};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Seconds a client refused with `503` is told to wait (`Retry-After`).
pub const BUSY_RETRY_AFTER_SECONDS: u64 = 2;

/// A kind of heavy work, each with its own concurrency limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heavy {
    /// `GET /v1/coverage`.
    Coverage,
    /// `GET /v1/coverage/suggest`.
    Suggest,
    /// `GET /v1/outlines`.
    Outlines,
    /// `POST /v1/imports`.
    Import,
}

impl Heavy {
    /// Every kind.
    pub const ALL: [Heavy; 4] = [
        Heavy::Coverage,
        Heavy::Suggest,
        Heavy::Outlines,
        Heavy::Import,
    ];

    /// How the kind is named in problems and logs.
    pub fn name(self) -> &'static str {
        match self {
            Heavy::Coverage => "coverage reports",
            Heavy::Suggest => "site suggestions",
            Heavy::Outlines => "outline collections",
            Heavy::Import => "imports",
        }
    }

    /// Requests of this kind that may run at once by default.
    ///
    /// The coverage kinds and imports hold the most memory (a report over
    /// the budget's worth of regions is a few hundred MB at its peak), so
    /// they run one or two at a time: with the default budgets this keeps
    /// the server under [`MEMORY_CEILING_MB`](super::MEMORY_CEILING_MB).
    pub fn default_permits(self) -> usize {
        match self {
            Heavy::Coverage => 2,
            Heavy::Suggest => 1,
            Heavy::Outlines => 2,
            Heavy::Import => 1,
        }
    }

    /// Requests of this kind that may wait for a permit by default; one
    /// more is refused with `503`.
    pub fn default_queue(self) -> usize {
        64
    }
}

/// One kind's semaphore and queue.
#[derive(Debug)]
struct Lane {
    permits: Arc<Semaphore>,
    size: usize,
    waiting: AtomicUsize,
    queue: usize,
}

/// The concurrency limits of the heavy kinds.
#[derive(Debug)]
pub struct HeavyLimits {
    lanes: Vec<(Heavy, Lane)>,
}

impl Default for HeavyLimits {
    fn default() -> Self {
        HeavyLimits::new(|kind| (kind.default_permits(), kind.default_queue()))
    }
}

/// Takes a waiting slot off its lane when the wait ends, however it ends.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HeavyLimits {
    /// Limits with `(permits, queue)` per kind (permits at least 1).
    pub fn new(limits: impl Fn(Heavy) -> (usize, usize)) -> HeavyLimits {
        HeavyLimits {
            lanes: Heavy::ALL
                .iter()
                .map(|&kind| {
                    let (permits, queue) = limits(kind);
                    (
                        kind,
                        Lane {
                            permits: Arc::new(Semaphore::new(permits.max(1))),
                            size: permits.max(1),
                            waiting: AtomicUsize::new(0),
                            queue,
                        },
                    )
                })
                .collect(),
        }
    }

    fn lane(&self, kind: Heavy) -> Result<&Lane, ApiError> {
        self.lanes
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, lane)| lane)
            .ok_or(ApiError::Internal)
    }

    /// Requests of `kind` running now (holding a permit; a cancelled one
    /// holds it until its thread has stopped).
    pub fn running(&self, kind: Heavy) -> usize {
        self.lane(kind).map_or(0, |lane| {
            lane.size.saturating_sub(lane.permits.available_permits())
        })
    }

    /// A permit to run work of `kind`: at once when one is free, else
    /// after waiting in the kind's queue.
    ///
    /// # Errors
    /// [`ApiError::Busy`] (503) when the queue is full.
    pub async fn acquire(&self, kind: Heavy) -> Result<OwnedSemaphorePermit, ApiError> {
        let lane = self.lane(kind)?;
        if let Ok(permit) = Arc::clone(&lane.permits).try_acquire_owned() {
            return Ok(permit);
        }
        let busy = || ApiError::Busy {
            what: kind.name(),
            retry_after: BUSY_RETRY_AFTER_SECONDS,
        };
        if lane.waiting.fetch_add(1, Ordering::AcqRel) >= lane.queue {
            lane.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(busy());
        }
        let _waiting = Waiting(&lane.waiting);
        // The semaphore is never closed; a closed one would mean shutdown.
        Arc::clone(&lane.permits)
            .acquire_owned()
            .await
            .map_err(|_| busy())
    }
}

/// Runs `work` of `kind` on the blocking pool once a permit is free,
/// handing it the request's `cancel`. The permit is held until `work`
/// returns. A worker that panicked is a 500 whose details go to the log.
pub(super) async fn run<T: Send + 'static>(
    state: &AppState,
    kind: Heavy,
    cancel: &Cancel,
    work: impl FnOnce(&Cancel) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let permit = state.heavy.acquire(kind).await?;
    let cancel = cancel.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        cancel.check()?;
        work(&cancel)
    })
    .await
    .map_err(|error| {
        tracing::error!(%error, what = kind.name(), "blocking worker");
        ApiError::Internal
    })?
}

/// A body written by heavy work, with the permit of that work: the
/// permit is released when the body is dropped (sent, or its connection
/// closed). Handed to the connection in [`CHUNK_BYTES`] pieces, so the
/// connection asks for the last piece only when the rest has gone out.
struct HeldBody {
    data: Bytes,
    _permit: OwnedSemaphorePermit,
}

/// Bytes per frame of a [`HeldBody`].
const CHUNK_BYTES: usize = 64 * 1024;

impl http_body::Body for HeldBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if self.data.is_empty() {
            return Poll::Ready(None);
        }
        let n = CHUNK_BYTES.min(self.data.len());
        let piece = self.data.split_to(n);
        Poll::Ready(Some(Ok(http_body::Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.data.len() as u64)
    }
}

/// [`run`] for work that writes a body of `content_type`: the answer holds
/// the kind's permit until its body has been handed to the connection.
pub(super) async fn run_body(
    state: &AppState,
    kind: Heavy,
    cancel: &Cancel,
    work: impl FnOnce(&Cancel) -> Result<(&'static str, Vec<u8>), ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    let permit = state.heavy.acquire(kind).await?;
    let cancel = cancel.clone();
    let (permit, content_type, bytes) = tokio::task::spawn_blocking(move || {
        cancel.check()?;
        // On an error the permit is dropped here, as the work ends.
        let (content_type, bytes) = work(&cancel)?;
        Ok::<_, ApiError>((permit, content_type, bytes))
    })
    .await
    .map_err(|error| {
        tracing::error!(%error, what = kind.name(), "blocking worker");
        ApiError::Internal
    })??;
    let body = HeldBody {
        data: Bytes::from(bytes),
        _permit: permit,
    };
    Ok(([(header::CONTENT_TYPE, content_type)], Body::new(body)).into_response())
}

/// Middleware: the request's [`Cancel`] and its deadline (`timeout`).
///
/// The token is cancelled when the deadline passes or the request future
/// is dropped (a closed connection). A request whose token was claimed by
/// a commit is not cut at the deadline: its answer says what was stored.
pub async fn deadline(
    State(timeout): State<Duration>,
    mut request: Request,
    next: Next,
) -> Response {
    let cancel = Cancel::new();
    request.extensions_mut().insert(cancel.clone());
    let _guard = CancelOnDrop(cancel.clone());
    let answer = next.run(request);
    tokio::pin!(answer);
    tokio::select! {
        response = &mut answer => response,
        () = tokio::time::sleep(timeout) => {
            if cancel.cancel() {
                ApiError::Timeout { seconds: timeout.as_secs_f64() }.into_response()
            } else {
                // A commit has begun: its outcome is the answer.
                answer.await
            }
        }
    }
}
