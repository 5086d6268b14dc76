//! The command line's commands, one file per group: [`serve`], [`keys`],
//! [`lookup`] (`match`, `geocode`, `reverse`), [`files`] (`ingest`,
//! `generate`, `export-hsds`) and [`coverage`]. Each declares its options,
//! calls the library and prints (bodies and tables through
//! `refmatch::render`). `anyhow` lives here only; the library's errors are
//! typed.
//!
//! Exit codes: 0 done, 1 a failure (or, for `match` and `geocode`, a place
//! not found), 2 a malformed option or input.

mod coverage;
mod files;
mod keys;
mod lookup;
mod serve;

use anyhow::Context;
use clap::{Parser, Subcommand};
use refmatch::gazetteer::{Gazetteer, GazetteerFiles};
use refmatch::index::IndexOptions;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

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
    Serve(serve::ServeArgs),
    /// Manage API keys (stored hashed in the store of record).
    Keys {
        #[command(subcommand)]
        action: keys::KeysAction,
    },
    /// Rank the providers for a caller's place and needs, as the API's
    /// /v1/match does, and print a table (or the API's JSON or GeoJSON).
    Match(lookup::MatchArgs),
    /// Read directory files, validate and geocode every row, resolve service
    /// areas, and write the normalised directory, rejection report,
    /// duplicates and summary to --out.
    Ingest(files::IngestArgs),
    /// Write a deterministic synthetic directory (.csv, .parquet, .ndjson or HSDS .json by extension).
    Generate(files::GenerateArgs),
    /// Export a directory as Open Referral HSDS 3.1 JSON.
    ExportHsds(files::ExportArgs),
    /// Geocode free text ("Fresno, CA", "93721", "Lima, Peru", "36.7,-119.8")
    /// and print the answer as JSON.
    Geocode(lookup::GeocodeArgs),
    /// Coverage gaps of one need per region, as /v1/coverage computes them,
    /// written to --out as GeoJSON, CSV or Parquet (by extension).
    Coverage(coverage::CoverageArgs),
    /// Print the country, state and county holding a point, as JSON.
    Reverse(lookup::ReverseArgs),
}

/// Where `serve` keeps its store of record unless told otherwise.
const DEFAULT_STORE: &str = "data/live/refmatch.sqlite";

/// Runs the command line and gives the process its exit code.
pub fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        // `refmatch geocode … | head`: a closed pipe is not an error.
        Err(error)
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        // A user's error is its message and causes, one line, never a
        // backtrace (even with RUST_BACKTRACE set: that is for panics).
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
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
    let gazetteer = || load_gazetteer(&files);
    match cli.command {
        // `serve` reads its store while the gazetteer loads.
        Command::Serve(args) => serve::run(&args, &files),
        Command::Keys { action } => {
            // `keys` needs no gazetteer, but a gazetteer that does not load
            // fails it as it fails every command.
            gazetteer()?;
            keys::run(action)
        }
        Command::Match(args) => lookup::match_command(gazetteer()?, &args),
        Command::Geocode(args) => lookup::geocode(&gazetteer()?, args),
        Command::Reverse(args) => lookup::reverse(&gazetteer()?, &args),
        Command::Ingest(args) => files::ingest(&gazetteer()?, &args),
        Command::Generate(args) => files::generate(&gazetteer()?, &args),
        Command::ExportHsds(args) => files::export_hsds(&gazetteer()?, &args),
        Command::Coverage(args) => coverage::run(&gazetteer()?, &args),
    }
}

/// Loads the gazetteer from `files`.
fn load_gazetteer(files: &GazetteerFiles) -> anyhow::Result<Gazetteer> {
    Gazetteer::load(files).context("loading the gazetteer")
}

/// Index options with service-area cells at `h3_resolution`.
fn index_options(h3_resolution: u8) -> IndexOptions {
    IndexOptions {
        resolution: h3_resolution,
        ..IndexOptions::default()
    }
}

/// Command-line options as the query parameters of the HTTP endpoint that
/// answers the same question, for its parser: single values, repeated
/// values and flags (`true` when set).
fn query_pairs(
    singles: &[(&'static str, &Option<String>)],
    multis: &[(&'static str, &Vec<String>)],
    flags: &[(&'static str, bool)],
) -> Vec<(&'static str, String)> {
    let mut pairs = Vec::new();
    for (name, value) in singles {
        if let Some(value) = value {
            pairs.push((*name, value.clone()));
        }
    }
    for (name, values) in multis {
        pairs.extend(values.iter().map(|v| (*name, v.clone())));
    }
    for (name, on) in flags {
        if *on {
            pairs.push((*name, "true".to_owned()));
        }
    }
    pairs
}

/// Prints a body exactly as the API sends it, then a newline.
fn print_body(body: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(body)?;
    writeln!(out)?;
    Ok(())
}

/// Writes pretty JSON and a newline to stdout.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    writeln!(std::io::stdout().lock(), "{text}")?;
    Ok(())
}
