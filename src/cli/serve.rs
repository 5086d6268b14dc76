//! `refmatch serve`: the HTTP API over the store of record. The wiring
//! (store read beside the gazetteer load, live directory, state, router)
//! is [`refmatch::api::launch`]; this file holds the options.

use super::{load_gazetteer, DEFAULT_STORE};
use refmatch::api::access::RateLimits;
use refmatch::api::launch::{serve_live, ServeOptions, StoreReading};
use refmatch::gazetteer::GazetteerFiles;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `refmatch serve` options.
#[derive(clap::Args)]
pub(super) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "REFMATCH_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Directory to serve: an `ingest --out` folder (its providers.ndjson)
    /// or a folder of .csv/.json/.ndjson/.geojson files. Default: the
    /// bundled hotlines and sample directory.
    #[arg(long, env = "REFMATCH_DATA")]
    data: Option<PathBuf>,
    /// H3 resolution for service-area cells (3–8).
    #[arg(long, default_value_t = 5)]
    h3_resolution: u8,
    /// Browser origins allowed to call the API (CORS), comma-separated;
    /// `*` allows any. Default: none (same-origin only).
    #[arg(long, env = "REFMATCH_CORS_ORIGINS", value_delimiter = ',')]
    cors_origin: Vec<String>,
    /// The store of record (SQLite). Created on first run and seeded
    /// from --data (or the bundled data); afterwards --data is unused.
    #[arg(long, env = "REFMATCH_STORE", default_value = DEFAULT_STORE)]
    store: PathBuf,
    /// Days a record's verification stays fresh; older ones are stale.
    #[arg(long, default_value_t = refmatch::model::DEFAULT_VERIFICATION_WINDOW_DAYS)]
    verification_window_days: u32,
    /// Hours a provider's capacity figure stays fresh; an older one is
    /// shown as stale and counts as unknown (for accepting and
    /// warm_transfer, judged at a match's `at`, or now).
    #[arg(long, default_value_t = refmatch::model::DEFAULT_CAPACITY_FRESH_HOURS)]
    capacity_fresh_hours: u32,
    /// Requests a minute per client address without a key (0: no limit).
    #[arg(long, env = "REFMATCH_PUBLIC_RATE_LIMIT", default_value_t = RateLimits::default().public_per_minute)]
    public_rate_limit: u32,
    /// Requests a minute per API key (0: no limit).
    #[arg(long, env = "REFMATCH_KEY_RATE_LIMIT", default_value_t = RateLimits::default().key_per_minute)]
    key_rate_limit: u32,
    /// Intake submissions an hour per client address (0: no limit).
    #[arg(long, default_value_t = RateLimits::default().submissions_per_hour)]
    submission_rate_limit: u32,
    /// Seconds an API key, once checked, is trusted from memory: a key
    /// revoked with `refmatch keys revoke` stops working within this
    /// time (0: check the store on every request).
    #[arg(long, env = "REFMATCH_KEY_CACHE_SECONDS", default_value_t = refmatch::live::DEFAULT_KEY_CACHE_TTL.as_secs())]
    key_cache_seconds: u64,
}

impl ServeArgs {
    /// The options as the library takes them.
    fn options(&self) -> ServeOptions {
        ServeOptions {
            addr: self.addr,
            store: self.store.clone(),
            data: self.data.clone(),
            h3_resolution: self.h3_resolution,
            cors_origins: self.cors_origin.clone(),
            verification_window_days: self.verification_window_days,
            capacity_fresh_hours: self.capacity_fresh_hours,
            limits: RateLimits {
                public_per_minute: self.public_rate_limit,
                key_per_minute: self.key_rate_limit,
                submissions_per_hour: self.submission_rate_limit,
            },
            key_cache_ttl: Duration::from_secs(self.key_cache_seconds),
        }
    }
}

/// Reads the store (or, for a new store, parses the directory files that
/// will seed it) while the gazetteer loads, since neither needs the
/// gazetteer and the load leaves a core idle; then serves until Ctrl-C
/// or SIGTERM.
pub(super) fn run(args: &ServeArgs, files: &GazetteerFiles) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let options = args.options();
    let reading = StoreReading::start(&options);
    let gazetteer = load_gazetteer(files)?;
    tracing::info!(ms = %format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0), "gazetteer loaded");
    serve_live(gazetteer, reading, options, started)?;
    Ok(ExitCode::SUCCESS)
}
