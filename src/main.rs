//! The `refmatch` command line: a thin layer over the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use refmatch::api::{self, AppState};
use refmatch::gazetteer::{Gazetteer, GazetteerFiles};
use refmatch::model::LatLng;
use std::io::{BufRead, Write};
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

fn main() -> anyhow::Result<std::process::ExitCode> {
    match run() {
        // `refmatch geocode … | head`: a closed pipe is not an error.
        Err(error)
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(std::process::ExitCode::SUCCESS)
        }
        other => other,
    }
}

/// Writes pretty JSON and a newline to stdout.
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
        .init();
    let cli = Cli::parse();
    let files = match &cli.gazetteer {
        Some(dir) => GazetteerFiles::from_dir(dir)?,
        None => GazetteerFiles::bundled(),
    };
    let gazetteer = Gazetteer::load(&files).context("loading the gazetteer")?;
    match cli.command {
        Command::Serve { addr } => {
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            let router = api::router(AppState {
                gazetteer: Arc::new(gazetteer),
            });
            runtime
                .block_on(api::serve(addr, router))
                .with_context(|| format!("serving on {addr}"))?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Geocode { query, file } => match (query, file) {
            (Some(query), _) => geocode_one(&gazetteer, &query),
            (None, Some(path)) => geocode_file(&gazetteer, &path),
            (None, None) => anyhow::bail!("give a query or --file"),
        },
        Command::Reverse { lat, lon } => {
            let point = LatLng::new(lat, lon)?;
            print_json(&gazetteer.reverse(point))?;
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
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
