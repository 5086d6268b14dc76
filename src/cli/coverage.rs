//! `refmatch coverage`: coverage gaps of one need per region, as
//! /v1/coverage computes them, written to a GeoJSON, CSV or Parquet file.

use super::{index_options, print_json};
use anyhow::Context;
use refmatch::coverage::{self, CoverageQuery, Purpose, TableFormat};
use refmatch::gazetteer::Gazetteer;
use refmatch::index::Directory;
use refmatch::matching::{Matcher, View};
use refmatch::model::{Role, Vocabulary};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// `refmatch coverage` options; each maps to the /v1/coverage parameter of
/// the same name, and is checked by the same parser.
#[derive(clap::Args)]
pub(super) struct CoverageArgs {
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
        super::query_pairs(
            &[
                ("by", &self.by),
                ("resolution", &self.resolution),
                ("bbox", &self.bbox),
                ("threshold_km", &self.threshold_km),
                ("catchment_km", &self.catchment_km),
                ("decay", &self.decay),
                ("tolerance", &self.tolerance),
                ("sites", &self.suggest),
            ],
            &[
                ("issue", &self.issue),
                ("language", &self.language),
                ("kind", &self.kind),
                ("exclude", &self.exclude),
                ("population", &self.population),
            ],
            &[
                ("open_24h", self.open_24h),
                ("include_hotlines", self.include_hotlines),
            ],
        )
    }
}

/// `refmatch coverage`: reads the directory (`--data` or the bundled
/// data), then computes and writes the report.
pub(super) fn run(gazetteer: &Gazetteer, args: &CoverageArgs) -> anyhow::Result<ExitCode> {
    let vocabulary = Vocabulary::bundled()?;
    let directory = Directory::load(
        gazetteer,
        &vocabulary,
        args.data.as_deref(),
        index_options(5),
    )?;
    run_coverage(gazetteer, &directory, &vocabulary, args)
}

/// `refmatch coverage`: exit 0 after writing --out, 2 for a malformed
/// option.
fn run_coverage(
    gazetteer: &Gazetteer,
    directory: &Directory,
    vocabulary: &Vocabulary,
    args: &CoverageArgs,
) -> anyhow::Result<ExitCode> {
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
            return Ok(ExitCode::from(2));
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
            return Ok(ExitCode::from(2));
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
            return Ok(ExitCode::from(2));
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
    Ok(ExitCode::SUCCESS)
}
