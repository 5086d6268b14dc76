//! `refmatch ingest`, `generate` and `export-hsds`: directory files in and
//! out. `ingest` draws a progress bar on stderr when it is a terminal.

use super::{index_options, print_json};
use anyhow::Context;
use refmatch::gazetteer::Gazetteer;
use refmatch::index::Directory;
use refmatch::ingest::{self, Ingested, Validator};
use refmatch::model::{Provider, Vocabulary};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `refmatch ingest` options.
#[derive(clap::Args)]
pub(super) struct IngestArgs {
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
}

/// `refmatch generate` options.
#[derive(clap::Args)]
pub(super) struct GenerateArgs {
    /// Number of providers.
    #[arg(long, default_value_t = 3200)]
    count: usize,
    /// Random seed; the same seed and count give the same file.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Output file.
    #[arg(long)]
    out: PathBuf,
}

/// `refmatch export-hsds` options.
#[derive(clap::Args)]
pub(super) struct ExportArgs {
    /// Input files (default: the bundled data).
    files: Vec<PathBuf>,
    /// Output file.
    #[arg(long)]
    out: PathBuf,
}

/// `refmatch ingest`, with the progress bar only for a terminal.
pub(super) fn ingest(gazetteer: &Gazetteer, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    let bar = !args.no_progress && std::io::stderr().is_terminal();
    ingest_files(gazetteer, &args.files, &args.out, args.h3_resolution, bar)
}

/// `refmatch generate`: a synthetic directory written by extension.
pub(super) fn generate(gazetteer: &Gazetteer, args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let providers = refmatch::synthetic::generate(gazetteer, args.count, args.seed);
    write_providers(&args.out, &providers)?;
    eprintln!(
        "wrote {} synthetic providers to {}",
        args.count,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `refmatch export-hsds`: the files (or the bundled data) read and
/// validated, written as HSDS 3.1 JSON.
pub(super) fn export_hsds(gazetteer: &Gazetteer, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let vocabulary = Vocabulary::bundled()?;
    let validator = Validator::new(gazetteer, &vocabulary);
    let ingested = if args.files.is_empty() {
        validator.read_bundled()
    } else {
        validator.read_files(&args.files)
    };
    ingested.warn_rejected();
    let body = serde_json::to_vec_pretty(&ingest::hsds::export(&ingested.providers))?;
    std::fs::write(&args.out, body).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "wrote {} HSDS services to {}",
        ingested.providers.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `refmatch ingest`: reads and validates every file, rejects repeated ids,
/// indexes, and writes the output. Prints one line per file and phase on
/// stderr and, when `bar`, a progress bar (bytes and rows read, rate, ETA)
/// or a spinner while each step runs. The summary goes to stdout.
fn ingest_files(
    gazetteer: &Gazetteer,
    files: &[PathBuf],
    out: &Path,
    h3_resolution: u8,
    bar: bool,
) -> anyhow::Result<ExitCode> {
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
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads one file while a bar on stderr shows bytes read of the file's
/// size, the rate, the time left and the rows read, redrawn every 100 ms.
fn read_with_bar(validator: &Validator, path: &Path, label: String) -> Ingested {
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

/// Writes providers by extension (see [`ingest::write_provider_file`]).
fn write_providers(path: &Path, providers: &[Provider]) -> anyhow::Result<()> {
    match ingest::write_provider_file(path, providers) {
        Err(ingest::ProviderFileError::GeoJson) => {
            anyhow::bail!("generate writes .csv, .parquet, .ndjson or .json")
        }
        // Kept an I/O error, so that a closed pipe is told apart as before.
        Err(ingest::ProviderFileError::Io(error)) => Err(error.into()),
        written => Ok(written?),
    }
}
