//! Starting the server as `refmatch serve` does: the store of record read
//! on a thread of its own while the gazetteer loads ([`StoreReading`]),
//! then the live directory opened (a new store seeded from the data
//! files), the state and router built from [`ServeOptions`], and the
//! router served until Ctrl-C or SIGTERM ([`serve_live`]).

use super::access::RateLimits;
use super::{router_with, serve, AppState, RouterOptions};
use crate::gazetteer::Gazetteer;
use crate::index::IndexOptions;
use crate::ingest::{self, DataDirError, Parsed, Validator};
use crate::live::{LiveDirectory, LiveError, OpenedStore};
use crate::model::{Vocabulary, VocabularyError};
use crate::store::{files, SqliteStore, StoreError};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What `refmatch serve` is told: where to listen, the store, the data
/// that seeds a new store, and the server's limits.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// The store of record (SQLite); created on first run.
    pub store: PathBuf,
    /// Directory files that seed a new store (an `ingest --out` folder or
    /// a folder of input files); `None`: the bundled data. Unused once the
    /// store holds a directory.
    pub data: Option<PathBuf>,
    /// H3 resolution of service-area cells (3–8).
    pub h3_resolution: u8,
    /// Browser origins allowed to call the API (see
    /// [`RouterOptions::cors_origins`]).
    pub cors_origins: Vec<String>,
    /// Days a record's verification stays fresh.
    pub verification_window_days: u32,
    /// Hours a capacity figure stays fresh; older ones are stale and
    /// count as unknown.
    pub capacity_fresh_hours: u32,
    /// Request limits.
    pub limits: RateLimits,
    /// How long a checked API key is trusted from memory.
    pub key_cache_ttl: Duration,
}

/// Why the server did not start, or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened.
    #[error("opening the store {}", path.display())]
    OpenStore {
        /// The store's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The store's records could not be read.
    #[error("reading the store {}", path.display())]
    ReadStore {
        /// The store's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: LiveError,
    },
    /// The thread reading the store panicked.
    #[error("the thread reading the store stopped")]
    ReaderStopped,
    /// The bundled vocabulary is broken.
    #[error(transparent)]
    Vocabulary(#[from] VocabularyError),
    /// The live directory could not be opened.
    #[error(transparent)]
    Live(#[from] LiveError),
    /// The async runtime could not be started.
    #[error("starting the runtime")]
    Runtime(#[source] std::io::Error),
    /// The address could not be bound, or the server failed.
    #[error("serving on {addr}")]
    Serve {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What is read before the gazetteer is there: the store with its records
/// and, for a new store only, the parsed seed directory.
type StoreRead = Result<(OpenedStore, Option<Result<Vec<Parsed>, DataDirError>>), ServeError>;

/// The store being read on a thread of its own (it needs no gazetteer,
/// and the gazetteer load leaves a core idle).
pub struct StoreReading {
    thread: JoinHandle<StoreRead>,
}

impl StoreReading {
    /// Opens `options.store` and reads its records on a new thread; for a
    /// new store, parses the seed directory (the files of `options.data`,
    /// or the bundled data) instead, to be checked once the gazetteer is
    /// loaded. Warns when the store's tile file is open to others.
    pub fn start(options: &ServeOptions) -> StoreReading {
        let store = options.store.clone();
        let data = options.data.clone();
        StoreReading {
            thread: std::thread::spawn(move || read_store(store, data)),
        }
    }

    fn finish(self) -> StoreRead {
        self.thread.join().unwrap_or(Err(ServeError::ReaderStopped))
    }
}

fn read_store(store: PathBuf, data: Option<PathBuf>) -> StoreRead {
    let started = Instant::now();
    let sqlite = SqliteStore::open(&store).map_err(|source| ServeError::OpenStore {
        path: store.clone(),
        source,
    })?;
    let tiles = store.with_extension("tiles");
    // The tile file is written 0600; an older one may not be.
    files::warn_exposed(&files::exposure(&tiles).into_iter().collect::<Vec<_>>());
    let opened = OpenedStore::read(Box::new(sqlite))
        .map_err(|source| ServeError::ReadStore {
            path: store.clone(),
            source,
        })?
        .with_tile_file(tiles);
    if !opened.is_new() {
        tracing::info!(
            ms = %format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
            "store read"
        );
        return Ok((opened, None));
    }
    let parsed = match data {
        Some(dir) => ingest::data_files(&dir)
            .map(|files| files.iter().map(|path| ingest::parse_file(path)).collect()),
        None => Ok(ingest::parse_bundled()),
    };
    tracing::info!(
        ms = %format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
        "seed directory parsed"
    );
    Ok((opened, Some(parsed)))
}

/// An error and its causes on one line, `outer: inner: …`.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// Opens the live directory over the store `reading` read (seeding a new
/// store from the data files, rejected rows logged), builds the state and
/// router from `options` and serves until Ctrl-C or SIGTERM. `started`
/// is when the command began, for the "directory ready" log line.
///
/// # Errors
/// [`ServeError`] when the store cannot be opened or read, the directory
/// cannot be indexed, or the address cannot be bound.
pub fn serve_live(
    gazetteer: Gazetteer,
    reading: StoreReading,
    options: ServeOptions,
    started: Instant,
) -> Result<(), ServeError> {
    let vocabulary = Vocabulary::bundled()?;
    let (opened, parsed) = reading.finish()?;
    let (live, report) = LiveDirectory::open_read(
        opened,
        Arc::new(gazetteer),
        Arc::new(vocabulary),
        IndexOptions {
            resolution: options.h3_resolution,
            ..IndexOptions::default()
        },
        |gazetteer, vocabulary| {
            // Parsed beside the gazetteer load; used only to seed a new
            // store.
            let parsed = match parsed {
                Some(Ok(parsed)) => parsed,
                Some(Err(error)) => {
                    tracing::error!(error = %with_causes(&error), "reading the seed directory");
                    Vec::new()
                }
                None => Vec::new(),
            };
            Validator::new(gazetteer, vocabulary).check_all(parsed)
        },
    )?;
    let store = &options.store;
    match report.seeded {
        Some(count) => tracing::info!(
            records = count,
            rejected = report.rejections.len(),
            store = %store.display(),
            "new store seeded from {}",
            options.data.as_deref().map_or_else(|| "the bundled data".to_owned(), |d| d.display().to_string())
        ),
        None if options.data.is_some() => tracing::warn!(
            store = %store.display(),
            "the store already holds the directory; --data only seeds a new store (use POST /v1/imports to add files)"
        ),
        None => {}
    }
    for rejection in report.rejections.iter().take(20) {
        tracing::warn!(
            source = %rejection.source,
            line = rejection.line,
            field = rejection.field.as_deref().unwrap_or(""),
            "{}",
            rejection.reason
        );
    }
    tracing::info!(
        providers = report.providers,
        read_ms = %format!("{:.1}", report.read.as_secs_f64() * 1000.0),
        reused_tiles = report.reused_tiles,
        ms = %format!("{:.1}", report.elapsed.as_secs_f64() * 1000.0),
        since_start_ms = %format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
        "directory ready"
    );
    live.set_key_cache_ttl(options.key_cache_ttl);
    let runtime = tokio::runtime::Runtime::new().map_err(ServeError::Runtime)?;
    let mut state = AppState::new(Arc::new(live));
    state.verification_window_days = options.verification_window_days;
    state.capacity_fresh_hours = options.capacity_fresh_hours;
    state.limits = options.limits;
    let router = router_with(
        state,
        &RouterOptions {
            cors_origins: options.cors_origins,
            ..RouterOptions::default()
        },
    );
    let addr = options.addr;
    runtime
        .block_on(serve(addr, router))
        .map_err(|source| ServeError::Serve { addr, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_follow_the_error_on_one_line() {
        let error = DataDirError::Read {
            dir: PathBuf::from("/nowhere"),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
        };
        assert_eq!(
            with_causes(&error),
            "reading data directory /nowhere: no such folder"
        );
    }
}
