//! The `refmatch` command line: a thin layer over the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use refmatch::api::access::RateLimits;
use refmatch::api::{self, AppState};
use refmatch::gazetteer::{Gazetteer, GazetteerFiles};
use refmatch::index::{Directory, IndexOptions};
use refmatch::ingest::{self, Ingested, Validator};
use refmatch::live::{LiveDirectory, OpenedStore};
use refmatch::matching::{MatchError, Matcher, Query, View};
use refmatch::model::Vocabulary;
use refmatch::model::{LatLng, Role};
use refmatch::store::{Actor, SqliteStore, Store};
use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Geospatial referral matching for anti-trafficking hotlines.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Read the gazetteer from this directory instead of the copy built
    /// into the binary (laid out like data/gazetteer/).
    #[arg(long, global = true, env = "REFMATCH_GAZETTEER")]
    gazetteer: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API.
    Serve {
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
    },
    /// Manage API keys (stored hashed in the store of record).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Rank the providers for a caller's place and needs, as the API's
    /// /v1/match does, and print a table (or the API's JSON or GeoJSON).
    Match(MatchArgs),
    /// Read directory files, validate and geocode every row, resolve service
    /// areas, and write the normalised directory, rejection report,
    /// duplicates and summary to --out.
    Ingest {
        /// Input files (.csv, .parquet, .json, .ndjson, .jsonl, .geojson; HSDS JSON is detected).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// H3 resolution for service-area cells (3–8).
        #[arg(long, default_value_t = 5)]
        h3_resolution: u8,
        /// Never draw the progress bar. It is drawn on stderr only when
        /// stderr is a terminal; otherwise one line per file and phase.
        #[arg(long)]
        no_progress: bool,
    },
    /// Write a deterministic synthetic directory (.csv, .parquet, .ndjson or HSDS .json by extension).
    Generate {
        /// Number of providers.
        #[arg(long, default_value_t = 3200)]
        count: usize,
        /// Random seed; the same seed and count give the same file.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Export a directory as Open Referral HSDS 3.1 JSON.
    ExportHsds {
        /// Input files (default: the bundled data).
        files: Vec<PathBuf>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Geocode free text ("Fresno, CA", "93721", "Lima, Peru", "36.7,-119.8")
    /// and print the answer as JSON.
    Geocode {
        /// The text to geocode.
        #[arg(required_unless_present = "file", conflicts_with = "file")]
        query: Option<String>,
        /// Geocode each line of this file; prints one JSON object per line.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Coverage gaps of one need per region, as /v1/coverage computes them,
    /// written to --out as GeoJSON, CSV or Parquet (by extension).
    Coverage(CoverageArgs),
    /// Print the country, state and county holding a point, as JSON.
    Reverse {
        /// Latitude in degrees.
        #[arg(allow_negative_numbers = true)]
        lat: f64,
        /// Longitude in degrees.
        #[arg(allow_negative_numbers = true)]
        lon: f64,
    },
}

/// Where `serve` keeps its store of record unless told otherwise.
const DEFAULT_STORE: &str = "data/live/refmatch.sqlite";

#[derive(Subcommand)]
enum KeysAction {
    /// Create a key and print it once (only its SHA-256 is stored).
    Create {
        /// advocate (reads everything, decides submissions) or admin (also edits).
        #[arg(long)]
        role: String,
        /// Who or what the key is for; shown in the audit log.
        #[arg(long)]
        name: String,
        /// The store of record, as for `serve --store`.
        #[arg(long, env = "REFMATCH_STORE", default_value = DEFAULT_STORE)]
        store: PathBuf,
        /// Create the store when there is none at --store (without it, a
        /// missing store is an error: a key in a new empty store is one the
        /// running server does not know).
        #[arg(long)]
        init: bool,
    },
    /// List every key issued: number, first characters, name, role,
    /// created, revoked (never a secret).
    List {
        /// The store of record, as for `serve --store`.
        #[arg(long, env = "REFMATCH_STORE", default_value = DEFAULT_STORE)]
        store: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by its number (see `keys list`): it is refused from
    /// then on; a running server stops accepting it within
    /// `serve --key-cache-seconds`.
    Revoke {
        /// The key's number.
        id: u64,
        /// The store of record, as for `serve --store`.
        #[arg(long, env = "REFMATCH_STORE", default_value = DEFAULT_STORE)]
        store: PathBuf,
    },
}

/// `refmatch match` options; each maps to the /v1/match parameter of the
/// same name, and is checked by the same parser.
#[derive(clap::Args)]
struct MatchArgs {
    /// Where the caller is: "Fresno, CA", a ZIP, "Lima, Peru", "lat,lon".
    #[arg(long)]
    near: Option<String>,
    /// Caller latitude in degrees (with --lon).
    #[arg(long, allow_negative_numbers = true)]
    lat: Option<String>,
    /// Caller longitude in degrees (with --lat).
    #[arg(long, allow_negative_numbers = true)]
    lon: Option<String>,
    /// Issue codes (repeat or comma-separate); `trafficking` includes its children.
    #[arg(long)]
    issue: Vec<String>,
    /// Languages (any of): ISO 639-1 codes or names such as Spanish.
    #[arg(long)]
    language: Vec<String>,
    /// Only providers reachable around the clock.
    #[arg(long)]
    open_24h: bool,
    /// Only providers open now (or at --at), in their own time zone.
    #[arg(long)]
    open_now: bool,
    /// RFC 3339 instant for --open-now.
    #[arg(long)]
    at: Option<String>,
    /// Kinds to leave out, e.g. law_enforcement.
    #[arg(long)]
    exclude: Vec<String>,
    /// Populations (any of), e.g. minors, lgbtq.
    #[arg(long)]
    population: Vec<String>,
    /// Largest distance in km for providers with a location.
    #[arg(long)]
    radius_km: Option<String>,
    /// Most results (1–100, default 10).
    #[arg(long)]
    limit: Option<String>,
    /// Output: a readable table, or the API's json or geojson body.
    #[arg(long, value_enum, default_value_t = MatchFormat::Table)]
    format: MatchFormat,
    /// Directory files to match against (as for `serve --data`) instead
    /// of the store. Default: the store at --store when one exists, else
    /// the bundled hotlines and sample directory.
    #[arg(long, env = "REFMATCH_DATA")]
    data: Option<PathBuf>,
    /// The store of record to read, as for `serve --store`; used when it
    /// exists and holds a directory.
    #[arg(long, env = "REFMATCH_STORE", default_value = DEFAULT_STORE)]
    store: PathBuf,
    /// Answer as this API key's role (advocate or admin see confidential
    /// records), checked against the store like the API checks it.
    #[arg(long, env = "REFMATCH_KEY", conflicts_with = "staff")]
    key: Option<String>,
    /// Local staff access: answer as an advocate (every record and field)
    /// without a key, for whoever may read the files on this machine.
    /// Reads of confidential records from a store are audited.
    #[arg(long)]
    staff: bool,
}

impl MatchArgs {
    /// The options as /v1/match query parameters.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let singles = [
            ("near", &self.near),
            ("lat", &self.lat),
            ("lon", &self.lon),
            ("at", &self.at),
            ("radius_km", &self.radius_km),
            ("limit", &self.limit),
        ];
        for (name, value) in singles {
            if let Some(value) = value {
                pairs.push((name, value.clone()));
            }
        }
        let multis = [
            ("issue", &self.issue),
            ("language", &self.language),
            ("exclude", &self.exclude),
            ("population", &self.population),
        ];
        for (name, values) in multis {
            pairs.extend(values.iter().map(|v| (name, v.clone())));
        }
        for (name, on) in [("open_24h", self.open_24h), ("open_now", self.open_now)] {
            if on {
                pairs.push((name, "true".to_owned()));
            }
        }
        pairs
    }
}

/// `refmatch coverage` options; each maps to the /v1/coverage parameter of
/// the same name, and is checked by the same parser.
#[derive(clap::Args)]
struct CoverageArgs {
    /// Region set: state, county (default), country or h3.
    #[arg(long)]
    by: Option<String>,
    /// H3 resolution 3–8 (with --by h3; default 5).
    #[arg(long)]
    resolution: Option<String>,
    /// Area for --by h3: west,south,east,north in degrees (default: the contiguous US).
    #[arg(long, allow_hyphen_values = true)]
    bbox: Option<String>,
    /// Issue codes (repeat or comma-separate); `trafficking` includes its children.
    #[arg(long)]
    issue: Vec<String>,
    /// Languages (any of): ISO 639-1 codes or names such as Spanish.
    #[arg(long)]
    language: Vec<String>,
    /// Only providers reachable around the clock.
    #[arg(long)]
    open_24h: bool,
    /// Kinds to count (any of); default: every kind but hotline.
    #[arg(long)]
    kind: Vec<String>,
    /// Kinds to leave out, e.g. law_enforcement.
    #[arg(long)]
    exclude: Vec<String>,
    /// Populations (any of), e.g. minors, lgbtq.
    #[arg(long)]
    population: Vec<String>,
    /// Count hotlines too (national hotlines serve everywhere and hide gaps).
    #[arg(long)]
    include_hotlines: bool,
    /// Gap threshold in km (default 60).
    #[arg(long)]
    threshold_km: Option<String>,
    /// 2SFCA catchment in km (default 60).
    #[arg(long)]
    catchment_km: Option<String>,
    /// 2SFCA distance decay: gaussian (default) or binary.
    #[arg(long)]
    decay: Option<String>,
    /// Outline simplification tolerance in degrees (default 0.01).
    #[arg(long)]
    tolerance: Option<String>,
    /// Also suggest this many sites for new providers (printed as JSON on
    /// stdout, and in the GeoJSON metadata).
    #[arg(long)]
    suggest: Option<String>,
    /// Output file: .geojson (or .json), .csv or .parquet.
    #[arg(long)]
    out: PathBuf,
    /// Directory to analyse (as for `serve --data`). Default: the bundled
    /// hotlines and sample directory.
    #[arg(long, env = "REFMATCH_DATA")]
    data: Option<PathBuf>,
}

impl CoverageArgs {
    /// The options as /v1/coverage query parameters.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let singles = [
            ("by", &self.by),
            ("resolution", &self.resolution),
            ("bbox", &self.bbox),
            ("threshold_km", &self.threshold_km),
            ("catchment_km", &self.catchment_km),
            ("decay", &self.decay),
            ("tolerance", &self.tolerance),
            ("sites", &self.suggest),
        ];
        for (name, value) in singles {
            if let Some(value) = value {
                pairs.push((name, value.clone()));
            }
        }
        let multis = [
            ("issue", &self.issue),
            ("language", &self.language),
            ("kind", &self.kind),
            ("exclude", &self.exclude),
            ("population", &self.population),
        ];
        for (name, values) in multis {
            pairs.extend(values.iter().map(|v| (name, v.clone())));
        }
        for (name, on) in [
            ("open_24h", self.open_24h),
            ("include_hotlines", self.include_hotlines),
        ] {
            if on {
                pairs.push((name, "true".to_owned()));
            }
        }
        pairs
    }
}

/// How `refmatch match` prints its answer.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum MatchFormat {
    /// Rank, name, kind, distance, phone and reasons, one row per result.
    Table,
    /// The body of `/v1/match?format=json`.
    Json,
    /// The body of `/v1/match` (a GeoJSON FeatureCollection).
    Geojson,
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(code) => code,
        // `refmatch geocode … | head`: a closed pipe is not an error.
        Err(error)
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            std::process::ExitCode::SUCCESS
        }
        // A user's error is its message and causes, one line, never a
        // backtrace (even with RUST_BACKTRACE set: that is for panics).
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Fails unless a store exists at `path`: the `keys` commands never make
/// a new empty store by accident (a key in it would be unknown to the
/// server, whose store is elsewhere).
fn existing_store(path: &std::path::Path) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    anyhow::bail!(
        "there is no store at {}: run this where `refmatch serve` keeps its store, pass --store PATH, \
         or add --init to `keys create` to start a new one",
        path.display()
    )
}

/// Writes pretty JSON and a newline to stdout.
/// Prints a body exactly as the API sends it, then a newline.
fn print_body(body: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(body)?;
    writeln!(out)?;
    Ok(())
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    writeln!(std::io::stdout().lock(), "{text}")?;
    Ok(())
}

fn run() -> anyhow::Result<std::process::ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "refmatch=info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, not in a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let files = match &cli.gazetteer {
        Some(dir) => GazetteerFiles::from_dir(dir)?,
        None => GazetteerFiles::bundled(),
    };
    let loading = std::time::Instant::now();
    // `serve` reads its store (or, for a new store, parses the directory
    // files that will seed it) while the gazetteer loads: neither needs the
    // gazetteer, and the load leaves a core idle.
    let reading = match &cli.command {
        Command::Serve { data, store, .. } => Some(start_reading(store.clone(), data.clone())),
        _ => None,
    };
    let gazetteer = Gazetteer::load(&files).context("loading the gazetteer")?;
    let gazetteer_ms = loading.elapsed().as_secs_f64() * 1000.0;
    match cli.command {
        Command::Serve {
            addr,
            h3_resolution,
            cors_origin,
            store,
            verification_window_days,
            public_rate_limit,
            key_rate_limit,
            submission_rate_limit,
            key_cache_seconds,
            data,
        } => {
            tracing::info!(ms = %format!("{gazetteer_ms:.1}"), "gazetteer loaded");
            let vocabulary = Vocabulary::bundled()?;
            let (opened, parsed) = match reading.map(std::thread::JoinHandle::join) {
                Some(Ok(read)) => read?,
                _ => anyhow::bail!("the thread reading the store stopped"),
            };
            let (live, report) = LiveDirectory::open_read(
                opened,
                Arc::new(gazetteer),
                Arc::new(vocabulary),
                index_options(h3_resolution),
                |gazetteer, vocabulary| {
                    // Parsed beside the gazetteer load; used only to seed a
                    // new store.
                    let parsed = match parsed {
                        Some(Ok(parsed)) => parsed,
                        Some(Err(error)) => {
                            tracing::error!(error = %format!("{error:#}"), "reading the seed directory");
                            Vec::new()
                        }
                        None => Vec::new(),
                    };
                    Validator::new(gazetteer, vocabulary).check_all(parsed)
                },
            )?;
            match report.seeded {
                Some(count) => tracing::info!(
                    records = count,
                    rejected = report.rejections.len(),
                    store = %store.display(),
                    "new store seeded from {}",
                    data.as_deref().map_or_else(|| "the bundled data".to_owned(), |d| d.display().to_string())
                ),
                None if data.is_some() => tracing::warn!(
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
                since_start_ms = %format!("{:.1}", loading.elapsed().as_secs_f64() * 1000.0),
                "directory ready"
            );
            live.set_key_cache_ttl(std::time::Duration::from_secs(key_cache_seconds));
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            let mut state = AppState::new(Arc::new(live));
            state.verification_window_days = verification_window_days;
            state.limits = RateLimits {
                public_per_minute: public_rate_limit,
                key_per_minute: key_rate_limit,
                submissions_per_hour: submission_rate_limit,
            };
            let router = api::router_with(
                state,
                &api::RouterOptions {
                    cors_origins: cors_origin,
                    ..api::RouterOptions::default()
                },
            );
            runtime
                .block_on(api::serve(addr, router))
                .with_context(|| format!("serving on {addr}"))?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Keys {
            action:
                KeysAction::Create {
                    role,
                    name,
                    store,
                    init,
                },
        } => {
            if !init {
                existing_store(&store)?;
            }
            let role = match Role::parse(&role) {
                Some(role @ (Role::Advocate | Role::Admin)) => role,
                _ => {
                    eprintln!("error: --role must be advocate or admin, got '{role}'");
                    return Ok(std::process::ExitCode::from(2));
                }
            };
            if name.trim().is_empty() {
                eprintln!("error: --name must say who the key is for");
                return Ok(std::process::ExitCode::from(2));
            }
            let mut opened = SqliteStore::open(&store)
                .with_context(|| format!("opening the store {}", store.display()))?;
            let operator = Actor {
                name: "cli:keys",
                role: Role::Admin,
            };
            let (key, secret) = opened.create_key(name.trim(), role, &operator)?;
            eprintln!(
                "created key #{} '{}' with role {} in {}; it is shown once, keep it safe:",
                key.id,
                key.name,
                key.role,
                store.display()
            );
            println!("{secret}");
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Keys {
            action: KeysAction::List { store, json },
        } => {
            existing_store(&store)?;
            let opened = SqliteStore::open(&store)
                .with_context(|| format!("opening the store {}", store.display()))?;
            let keys = opened.keys()?;
            let mut out = std::io::stdout().lock();
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&keys)?)?;
            } else {
                refmatch::render::table::write_keys_table(&mut out, &keys)?;
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Keys {
            action: KeysAction::Revoke { id, store },
        } => {
            existing_store(&store)?;
            let mut opened = SqliteStore::open(&store)
                .with_context(|| format!("opening the store {}", store.display()))?;
            let operator = Actor {
                name: "cli:keys",
                role: Role::Admin,
            };
            match opened.revoke_key(id, &operator) {
                Ok((key, true)) => {
                    eprintln!(
                        "revoked key #{} '{}' ({}); a running server refuses it within its --key-cache-seconds",
                        key.id, key.name, key.role
                    );
                    Ok(std::process::ExitCode::SUCCESS)
                }
                Ok((key, false)) => {
                    eprintln!("key #{} '{}' was already revoked", key.id, key.name);
                    Ok(std::process::ExitCode::SUCCESS)
                }
                Err(refmatch::store::StoreError::NotFound(_)) => {
                    eprintln!("error: there is no key #{id} in {}; `refmatch keys list` shows the numbers", store.display());
                    Ok(std::process::ExitCode::from(2))
                }
                Err(error) => Err(error.into()),
            }
        }
        Command::Match(args) => match_command(gazetteer, &args),
        Command::Geocode { query, file } => match (query, file) {
            (Some(query), _) => geocode_one(&gazetteer, &query),
            (None, Some(path)) => geocode_file(&gazetteer, &path),
            (None, None) => anyhow::bail!("give a query or --file"),
        },
        Command::Ingest {
            files,
            out,
            h3_resolution,
            no_progress,
        } => {
            let bar = !no_progress && std::io::stderr().is_terminal();
            ingest_files(&gazetteer, &files, &out, h3_resolution, bar)
        }
        Command::Generate { count, seed, out } => {
            let providers = refmatch::synthetic::generate(&gazetteer, count, seed);
            write_providers(&out, &providers)?;
            eprintln!("wrote {count} synthetic providers to {}", out.display());
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::ExportHsds { files, out } => {
            let vocabulary = Vocabulary::bundled()?;
            let validator = Validator::new(&gazetteer, &vocabulary);
            let ingested = if files.is_empty() {
                validator.read_bundled()
            } else {
                validator.read_files(&files)
            };
            report_rejections(&ingested);
            let body = serde_json::to_vec_pretty(&ingest::hsds::export(&ingested.providers))?;
            std::fs::write(&out, body).with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "wrote {} HSDS services to {}",
                ingested.providers.len(),
                out.display()
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Coverage(args) => {
            let vocabulary = Vocabulary::bundled()?;
            let directory = load_directory(&gazetteer, &vocabulary, args.data.as_deref(), 5)?;
            run_coverage(&gazetteer, &directory, &vocabulary, &args)
        }
        Command::Reverse { lat, lon } => {
            let point = LatLng::new(lat, lon)?;
            print_json(&gazetteer.reverse(point))?;
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

/// `refmatch ingest`: reads and validates every file, rejects repeated ids,
/// indexes, and writes the output. Prints one line per file and phase on
/// stderr and, when `bar`, a progress bar (bytes and rows read, rate, ETA)
/// or a spinner while each step runs. The summary goes to stdout.
fn ingest_files(
    gazetteer: &Gazetteer,
    files: &[PathBuf],
    out: &std::path::Path,
    h3_resolution: u8,
    bar: bool,
) -> anyhow::Result<std::process::ExitCode> {
    let vocabulary = Vocabulary::bundled()?;
    let validator = Validator::new(gazetteer, &vocabulary);
    let started = std::time::Instant::now();
    let mut ingested = Ingested::default();
    for (i, path) in files.iter().enumerate() {
        let one = if bar {
            let name = path
                .file_name()
                .unwrap_or(path.as_os_str())
                .to_string_lossy();
            let label = format!("[{}/{}] {name}", i + 1, files.len());
            let one = read_with_bar(&validator, path, label);
            eprint!("reading {} … ", path.display());
            one
        } else {
            eprint!("reading {} … ", path.display());
            validator.read_file(path)
        };
        eprintln!(
            "{} rows, {} accepted, {} rejected",
            one.rows_read,
            one.providers.len(),
            one.rejections.len()
        );
        ingested.extend(one);
    }
    let read = started.elapsed();

    let spinner = phase_spinner(bar, "checking ids and duplicates");
    ingested.finish();
    let checked = started.elapsed();
    spinner.finish_and_clear();

    eprintln!(
        "resolving service areas and indexing {} providers …",
        ingested.providers.len()
    );
    let spinner = phase_spinner(bar, "resolving service areas and indexing");
    let before = ingested.rejections.len();
    let directory = Directory::build_from(&mut ingested, gazetteer, index_options(h3_resolution))?;
    let dropped = ingested.rejections.len() - before;
    let indexed = started.elapsed();
    spinner.finish_and_clear();

    let spinner = phase_spinner(bar, "writing");
    let summary = ingest::write_output(out, directory.providers(), &ingested)?;
    let written = started.elapsed();
    spinner.finish_and_clear();
    eprintln!(
        "{} rows read: {} accepted, {} rejected ({} by service area), {} likely duplicates; {} indexed in {:.2} s; wrote {}",
        summary.rows_read,
        summary.accepted,
        summary.rejected,
        dropped,
        summary.duplicates,
        directory.len(),
        written.as_secs_f64(),
        out.display()
    );
    eprintln!(
        "phases: read {:.2} s, ids and duplicates {:.2} s, index {:.2} s, write {:.2} s",
        read.as_secs_f64(),
        (checked - read).as_secs_f64(),
        (indexed - checked).as_secs_f64(),
        (written - indexed).as_secs_f64()
    );
    print_json(&summary)?;
    // The process ends here: freeing a million records one by one would
    // take seconds and return nothing to anyone.
    std::mem::forget(directory);
    if summary.accepted == 0 {
        // Nothing usable came in: say so with the exit status too.
        eprintln!(
            "error: no row was accepted; {} lists why each was rejected",
            out.join(ingest::REJECTIONS_FILE).display()
        );
        return Ok(std::process::ExitCode::FAILURE);
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Reads one file while a bar on stderr shows bytes read of the file's
/// size, the rate, the time left and the rows read, redrawn every 100 ms.
fn read_with_bar(validator: &Validator, path: &std::path::Path, label: String) -> Ingested {
    use indicatif::{HumanCount, ProgressBar, ProgressStyle};
    let total = std::fs::metadata(path).map_or(0, |m| m.len());
    let style = ProgressStyle::with_template(
        "{prefix} [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
    )
    .map(|style| style.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    let bar = ProgressBar::new(total).with_style(style).with_prefix(label);
    let progress = ingest::Progress::default();
    let done = std::sync::atomic::AtomicBool::new(false);
    let one = std::thread::scope(|scope| {
        let ticker = scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                bar.set_position(progress.bytes());
                bar.set_message(format!("{} rows", HumanCount(progress.rows())));
                std::thread::park_timeout(std::time::Duration::from_millis(100));
            }
        });
        let one = validator.read_file_with(path, &progress);
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        ticker.thread().unpark();
        one
    });
    bar.finish_and_clear();
    one
}

/// A spinner with the elapsed time on stderr while a step runs, when `bar`;
/// otherwise a bar that draws nothing.
fn phase_spinner(bar: bool, message: &'static str) -> indicatif::ProgressBar {
    if !bar {
        return indicatif::ProgressBar::hidden();
    }
    let spinner = indicatif::ProgressBar::new_spinner().with_message(message);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        spinner.set_style(style);
    }
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    spinner
}

/// What `serve` reads before the gazetteer is there: the store with its
/// records and, for a new store only, the parsed seed directory.
type StartRead = anyhow::Result<(OpenedStore, Option<anyhow::Result<Vec<ingest::Parsed>>>)>;

/// Opens `serve`'s store and reads its records on a thread of its own;
/// for a new store, parses the seed directory (the files of `data`, or the
/// bundled data) instead, to be checked once the gazetteer is loaded.
fn start_reading(store: PathBuf, data: Option<PathBuf>) -> std::thread::JoinHandle<StartRead> {
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let sqlite = SqliteStore::open(&store)
            .with_context(|| format!("opening the store {}", store.display()))?;
        let tiles = store.with_extension("tiles");
        // The tile file is written 0600; an older one may not be.
        refmatch::store::files::warn_exposed(
            &refmatch::store::files::exposure(&tiles)
                .into_iter()
                .collect::<Vec<_>>(),
        );
        let opened = OpenedStore::read(Box::new(sqlite))
            .with_context(|| format!("reading the store {}", store.display()))?
            .with_tile_file(tiles);
        if !opened.is_new() {
            tracing::info!(
                ms = %format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
                "store read"
            );
            return Ok((opened, None));
        }
        let parsed = match data {
            Some(dir) => data_files(&dir)
                .map(|files| files.iter().map(|path| ingest::parse_file(path)).collect()),
            None => Ok(ingest::parse_bundled()),
        };
        tracing::info!(
            ms = %format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
            "seed directory parsed"
        );
        Ok((opened, Some(parsed)))
    })
}

/// The input files of a `--data` directory: its `providers.ndjson` if it
/// is an ingest output, else every supported file in it, sorted.
fn data_files(dir: &std::path::Path) -> anyhow::Result<Vec<PathBuf>> {
    let normalised = dir.join(ingest::PROVIDERS_FILE);
    if normalised.is_file() {
        return Ok(vec![normalised]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading data directory {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| ingest::Format::from_path(path).is_ok())
        .collect();
    files.sort();
    anyhow::ensure!(
        !files.is_empty(),
        "no .csv, .json, .ndjson or .geojson files in {}",
        dir.display()
    );
    Ok(files)
}

/// Reads, validates and indexes the directory in `data` (an ingest output
/// or a folder of input files), or the bundled data.
fn load_directory(
    gazetteer: &Gazetteer,
    vocabulary: &Vocabulary,
    data: Option<&std::path::Path>,
    h3_resolution: u8,
) -> anyhow::Result<Directory> {
    let validator = Validator::new(gazetteer, vocabulary);
    let mut ingested = match data {
        Some(dir) => validator.read_files(&data_files(dir)?),
        None => validator.read_bundled(),
    };
    report_rejections(&ingested);
    Ok(Directory::build_from(
        &mut ingested,
        gazetteer,
        index_options(h3_resolution),
    )?)
}

/// `refmatch coverage`: exit 0 after writing --out, 2 for a malformed
/// option.
fn run_coverage(
    gazetteer: &Gazetteer,
    directory: &Directory,
    vocabulary: &Vocabulary,
    args: &CoverageArgs,
) -> anyhow::Result<std::process::ExitCode> {
    use refmatch::coverage::{self, CoverageQuery, Purpose, TableFormat};
    // The CLI reads the directory files directly: whoever runs it sees
    // every record, as an advocate does.
    let matcher = Matcher {
        gazetteer,
        directory,
        vocabulary,
        view: View::now(Role::Advocate),
    };
    let pairs = args.pairs();
    let purpose = if args.suggest.is_some() {
        Purpose::Suggest
    } else {
        Purpose::Report
    };
    let query = match CoverageQuery::parse(
        pairs.iter().map(|(k, v)| (*k, v.as_str())),
        &[],
        purpose,
        &matcher.terms(),
    ) {
        Ok(query) => query,
        Err(error) => {
            let flag = match error.parameter.as_str() {
                "sites" => "suggest".to_owned(),
                other => other.replace('_', "-"),
            };
            eprintln!("error: --{flag}: {}", error.detail);
            return Ok(std::process::ExitCode::from(2));
        }
    };
    let extension = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let table = match extension.as_str() {
        "geojson" | "json" => None,
        "csv" => Some(TableFormat::Csv),
        "parquet" => Some(TableFormat::Parquet),
        other => {
            eprintln!(
                "error: --out: '.{other}' is not an output format; use .geojson, .csv or .parquet"
            );
            return Ok(std::process::ExitCode::from(2));
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let started = std::time::Instant::now();
    // The command line has no deadline: Ctrl-C ends the process.
    let cancel = refmatch::cancel::Cancel::new();
    let report = match coverage::report(gazetteer, directory, vocabulary, &query, threads, &cancel)
    {
        Ok(report) => report,
        Err(error @ coverage::CoverageError::TooManyCells { .. }) => {
            eprintln!("error: --resolution: {error}");
            return Ok(std::process::ExitCode::from(2));
        }
        Err(error) => return Err(error.into()),
    };
    let suggestion = args
        .suggest
        .is_some()
        .then(|| coverage::suggest(&report, gazetteer, threads, &cancel))
        .transpose()?;
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut out = std::io::BufWriter::new(file);
    match table {
        None => serde_json::to_writer(&mut out, &report.geojson(suggestion.as_ref()))?,
        Some(format) => report.write_table(format, &mut out)?,
    }
    out.flush()
        .with_context(|| format!("writing {}", args.out.display()))?;
    let counts = report
        .gap_counts()
        .iter()
        .map(|(g, n)| format!("{n} {}", g.name()))
        .collect::<Vec<_>>()
        .join(", ");
    eprintln!(
        "{} regions ({counts}) for {} matching providers in {:.2} s; wrote {}",
        report.units.len(),
        report.matching_providers,
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    if let Some(suggestion) = &suggestion {
        print_json(suggestion)?;
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Who `refmatch match` answers for: the public unless given a key or
/// `--staff`.
struct MatchCaller {
    role: Role,
    /// The name an audit entry gives.
    name: String,
}

/// `refmatch match`: decides the caller (`--key`, `--staff` or the
/// public) and the data (`--data`, else the store at `--store` when it
/// holds a directory, else the bundled data), says on stderr which data
/// it read, and answers. Exit 0 with results, 1 when the place is
/// unknown, 2 for a malformed option or a key the store does not know.
fn match_command(gazetteer: Gazetteer, args: &MatchArgs) -> anyhow::Result<std::process::ExitCode> {
    let vocabulary = Vocabulary::bundled()?;
    // Only a store that is there is opened: `match` never creates one.
    let sqlite = if args.store.is_file() {
        Some(
            SqliteStore::open(&args.store)
                .with_context(|| format!("opening the store {}", args.store.display()))?,
        )
    } else {
        None
    };
    let caller = match (&args.key, args.staff) {
        (Some(secret), _) => {
            let Some(store) = &sqlite else {
                eprintln!(
                    "error: --key: there is no store at {} to check the key against; give --store, or --staff for local staff access",
                    args.store.display()
                );
                return Ok(std::process::ExitCode::from(2));
            };
            match store.find_key(secret.trim())? {
                Some(key) => MatchCaller {
                    role: key.role,
                    name: format!("key:{}#{}", key.name, key.id),
                },
                None => {
                    eprintln!(
                        "error: --key: the API key is not valid in the store {}; ask an administrator for one (refmatch keys create)",
                        args.store.display()
                    );
                    return Ok(std::process::ExitCode::from(2));
                }
            }
        }
        (None, true) => MatchCaller {
            role: Role::Advocate,
            name: format!(
                "cli:staff@{}",
                std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned())
            ),
        },
        (None, false) => MatchCaller {
            role: Role::Public,
            name: "cli:public".to_owned(),
        },
    };
    let opened = match sqlite {
        Some(store) if args.data.is_none() => {
            let opened = OpenedStore::read(Box::new(store))
                .with_context(|| format!("reading the store {}", args.store.display()))?;
            (!opened.is_new()).then(|| opened.with_tile_file(args.store.with_extension("tiles")))
        }
        _ => None,
    };
    let view = View::now(caller.role);
    match opened {
        Some(opened) => {
            let (live, report) = LiveDirectory::open_read(
                opened,
                Arc::new(gazetteer),
                Arc::new(vocabulary),
                index_options(5),
                |_, _| Ingested::default(),
            )?;
            eprintln!(
                "data: store {} ({} records)",
                args.store.display(),
                report.providers
            );
            let snapshot = live.snapshot();
            let audit = |ids: &[&str]| -> anyhow::Result<()> {
                if caller.role.sees_confidential() && !ids.is_empty() {
                    let actor = Actor {
                        name: &caller.name,
                        role: caller.role,
                    };
                    live.record_reads(&actor, ids, "cli match")
                        .context("auditing the read of confidential records")?;
                }
                Ok(())
            };
            run_match(
                live.gazetteer(),
                &snapshot.directory,
                live.vocabulary(),
                view,
                args,
                &audit,
            )
        }
        None => {
            let directory = load_directory(&gazetteer, &vocabulary, args.data.as_deref(), 5)?;
            match &args.data {
                Some(dir) => eprintln!(
                    "data: files in {} ({} records)",
                    dir.display(),
                    directory.len()
                ),
                None => eprintln!("data: bundled sample ({} records)", directory.len()),
            }
            run_match(&gazetteer, &directory, &vocabulary, view, args, &|_| Ok(()))
        }
    }
}

/// Answers one `refmatch match` query over `directory` for `view`;
/// `audit` is given the confidential records shown before they are
/// printed.
fn run_match(
    gazetteer: &Gazetteer,
    directory: &Directory,
    vocabulary: &Vocabulary,
    view: View,
    args: &MatchArgs,
    audit: &dyn Fn(&[&str]) -> anyhow::Result<()>,
) -> anyhow::Result<std::process::ExitCode> {
    let matcher = Matcher {
        gazetteer,
        directory,
        vocabulary,
        view,
    };
    let pairs = args.pairs();
    let parsed = Query::parse(
        pairs.iter().map(|(k, v)| (*k, v.as_str())),
        &[],
        &matcher.terms(),
    );
    let response = match parsed
        .map_err(MatchError::from)
        .and_then(|q| matcher.run(&q))
    {
        Ok(response) => response,
        Err(MatchError::Query(error)) => {
            eprintln!(
                "error: --{}: {}",
                error.parameter.replace('_', "-"),
                error.detail
            );
            return Ok(std::process::ExitCode::from(2));
        }
        Err(MatchError::Place(error)) => {
            eprintln!("error: --near: {error}");
            if let refmatch::gazetteer::GeocodeError::NotFound { suggestions, .. } = &error {
                if !suggestions.is_empty() {
                    eprintln!("did you mean: {}", suggestions.join("; "));
                }
                return Ok(std::process::ExitCode::from(1));
            }
            return Ok(std::process::ExitCode::from(2));
        }
    };
    let confidential: Vec<&str> = response
        .results
        .iter()
        .filter_map(|r| directory.provider(r.index))
        .filter(|p| !p.is_public())
        .map(|p| p.id.as_str())
        .collect();
    audit(&confidential)?;
    let renderer = refmatch::render::body::Renderer::new(directory, &matcher.view);
    match args.format {
        MatchFormat::Json => print_body(&renderer.match_json(&response))?,
        MatchFormat::Geojson => print_body(&renderer.match_geojson(&response))?,
        MatchFormat::Table => refmatch::render::table::write_match_table(
            &mut std::io::stdout().lock(),
            &response,
            directory,
        )?,
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn report_rejections(ingested: &Ingested) {
    if !ingested.rejections.is_empty() {
        tracing::warn!(
            rejected = ingested.rejections.len(),
            "some rows were rejected; run `refmatch ingest` for the report"
        );
    }
}

fn index_options(h3_resolution: u8) -> IndexOptions {
    IndexOptions {
        resolution: h3_resolution,
        ..IndexOptions::default()
    }
}

/// Writes providers by extension: `.csv` flat, `.ndjson`/`.jsonl`
/// normalised lines, `.json` HSDS 3.1.
fn write_providers(
    path: &std::path::Path,
    providers: &[refmatch::model::Provider],
) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    match ingest::Format::from_path(path).map_err(anyhow::Error::msg)? {
        ingest::Format::Csv => ingest::write_flat_csv(&mut out, providers)?,
        ingest::Format::Ndjson => {
            for provider in providers {
                serde_json::to_writer(&mut out, provider)?;
                writeln!(out)?;
            }
        }
        ingest::Format::Json => {
            serde_json::to_writer_pretty(&mut out, &ingest::hsds::export(providers))?
        }
        ingest::Format::Parquet => ingest::parquet::write(&mut out, providers)?,
        ingest::Format::GeoJson => {
            anyhow::bail!("generate writes .csv, .parquet, .ndjson or .json")
        }
    }
    out.flush()?;
    Ok(())
}

/// Prints the answer, or the error on stderr with exit code 1 (2 for bad
/// input) so scripts can tell them apart.
fn geocode_one(gazetteer: &Gazetteer, query: &str) -> anyhow::Result<std::process::ExitCode> {
    match gazetteer.geocode(query) {
        Ok(found) => {
            print_json(&found)?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("error: {error}");
            if let refmatch::gazetteer::GeocodeError::NotFound { suggestions, .. } = &error {
                if !suggestions.is_empty() {
                    eprintln!("did you mean: {}", suggestions.join("; "));
                }
                return Ok(std::process::ExitCode::from(1));
            }
            Ok(std::process::ExitCode::from(2))
        }
    }
}

/// One JSON object per input line, in order: the answer, or
/// `{"line", "query", "error", "suggestions"}`. Lines that are not UTF-8
/// are reported, not skipped. Exit code 1 if any line failed.
fn geocode_file(gazetteer: &Gazetteer, path: &PathBuf) -> anyhow::Result<std::process::ExitCode> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader = std::io::BufReader::new(file);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = 0usize;
    let mut buffer = Vec::new();
    let mut line_number = 0usize;
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .with_context(|| format!("reading {}", path.display()))?;
        if read == 0 {
            break;
        }
        line_number += 1;
        let line = match std::str::from_utf8(&buffer) {
            Ok(text) => text.trim_end_matches(['\n', '\r']),
            Err(error) => {
                failed += 1;
                let report = serde_json::json!({
                    "line": line_number,
                    "error": format!("line is not valid UTF-8 (byte {})", error.valid_up_to() + 1),
                });
                writeln!(out, "{report}")?;
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match gazetteer.geocode(line) {
            Ok(found) => writeln!(out, "{}", serde_json::to_string(&found)?)?,
            Err(error) => {
                failed += 1;
                let suggestions = match &error {
                    refmatch::gazetteer::GeocodeError::NotFound { suggestions, .. } => {
                        suggestions.clone()
                    }
                    _ => Vec::new(),
                };
                let report = serde_json::json!({
                    "line": line_number,
                    "query": line,
                    "error": error.to_string(),
                    "suggestions": suggestions,
                });
                writeln!(out, "{report}")?;
            }
        }
    }
    out.flush()?;
    Ok(if failed == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}
