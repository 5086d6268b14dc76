//! `refmatch match`, `geocode` and `reverse`: answers about a place, as
//! the API's /v1/match, /v1/geocode and /v1/reverse give them. `match`
//! prints the API's bodies (through `refmatch::render`) or a table.

use super::{index_options, print_body, print_json, DEFAULT_STORE};
use anyhow::Context;
use refmatch::gazetteer::{Gazetteer, GeocodeError};
use refmatch::index::Directory;
use refmatch::ingest::Ingested;
use refmatch::live::{LiveDirectory, OpenedStore};
use refmatch::matching::{MatchError, Matcher, Query, View};
use refmatch::model::{LatLng, Role, Vocabulary};
use refmatch::render::body::Renderer;
use refmatch::render::table::write_match_table;
use refmatch::store::{Actor, SqliteStore, Store};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// `refmatch match` options; each maps to the /v1/match parameter of the
/// same name, and is checked by the same parser.
#[derive(clap::Args)]
pub(super) struct MatchArgs {
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
    /// Staff only (--staff or an advocate or admin --key): only providers
    /// with room, or whose capacity is unknown (flagged).
    #[arg(long)]
    accepting: bool,
    /// Staff only: only providers that can take a warm transfer now (open,
    /// accepting, a direct line, the caller's language).
    #[arg(long)]
    warm_transfer: bool,
    /// Hours a capacity figure stays fresh, as `serve
    /// --capacity-fresh-hours`.
    #[arg(long, default_value_t = refmatch::model::DEFAULT_CAPACITY_FRESH_HOURS)]
    capacity_fresh_hours: u32,
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
        super::query_pairs(
            &[
                ("near", &self.near),
                ("lat", &self.lat),
                ("lon", &self.lon),
                ("at", &self.at),
                ("radius_km", &self.radius_km),
                ("limit", &self.limit),
            ],
            &[
                ("issue", &self.issue),
                ("language", &self.language),
                ("exclude", &self.exclude),
                ("population", &self.population),
            ],
            &[
                ("open_24h", self.open_24h),
                ("open_now", self.open_now),
                ("accepting", self.accepting),
                ("warm_transfer", self.warm_transfer),
            ],
        )
    }
}

/// How `refmatch match` prints its answer.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum MatchFormat {
    /// Rank, name, kind, distance, phone and reasons, one row per result.
    Table,
    /// The body of `/v1/match?format=json`.
    Json,
    /// The body of `/v1/match` (a GeoJSON FeatureCollection).
    Geojson,
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
pub(super) fn match_command(gazetteer: Gazetteer, args: &MatchArgs) -> anyhow::Result<ExitCode> {
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
                return Ok(ExitCode::from(2));
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
                    return Ok(ExitCode::from(2));
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
    if !caller.role.sees_confidential() {
        if let Some(flag) = [
            ("accepting", args.accepting),
            ("warm-transfer", args.warm_transfer),
        ]
        .into_iter()
        .find_map(|(flag, on)| on.then_some(flag))
        {
            eprintln!(
                "error: --{flag} is for staff: give --staff or an advocate or admin --key (this caller is {})",
                caller.role
            );
            return Ok(ExitCode::from(2));
        }
    }
    let view = View {
        capacity_fresh_hours: args.capacity_fresh_hours,
        ..View::now(caller.role)
    };
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
            let directory = Directory::load(
                &gazetteer,
                &vocabulary,
                args.data.as_deref(),
                index_options(5),
            )?;
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
) -> anyhow::Result<ExitCode> {
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
            return Ok(ExitCode::from(2));
        }
        Err(MatchError::Place(error)) => {
            eprintln!("error: --near: {error}");
            if let GeocodeError::NotFound { suggestions, .. } = &error {
                if !suggestions.is_empty() {
                    eprintln!("did you mean: {}", suggestions.join("; "));
                }
                return Ok(ExitCode::from(1));
            }
            return Ok(ExitCode::from(2));
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
    let renderer = Renderer::new(directory, &matcher.view);
    match args.format {
        MatchFormat::Json => print_body(&renderer.match_json(&response))?,
        MatchFormat::Geojson => print_body(&renderer.match_geojson(&response))?,
        MatchFormat::Table => {
            write_match_table(&mut std::io::stdout().lock(), &response, directory)?
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `refmatch geocode` options.
#[derive(clap::Args)]
pub(super) struct GeocodeArgs {
    /// The text to geocode.
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    query: Option<String>,
    /// Geocode each line of this file; prints one JSON object per line.
    #[arg(long)]
    file: Option<PathBuf>,
}

/// `refmatch reverse` options.
#[derive(clap::Args)]
pub(super) struct ReverseArgs {
    /// Latitude in degrees.
    #[arg(allow_negative_numbers = true)]
    lat: f64,
    /// Longitude in degrees.
    #[arg(allow_negative_numbers = true)]
    lon: f64,
}

/// `refmatch geocode`: one query, or every line of `--file`.
pub(super) fn geocode(gazetteer: &Gazetteer, args: GeocodeArgs) -> anyhow::Result<ExitCode> {
    match (args.query, args.file) {
        (Some(query), _) => geocode_one(gazetteer, &query),
        (None, Some(path)) => geocode_file(gazetteer, &path),
        (None, None) => anyhow::bail!("give a query or --file"),
    }
}

/// `refmatch reverse`: the places holding the point, as JSON; a point out
/// of range is an error.
pub(super) fn reverse(gazetteer: &Gazetteer, args: &ReverseArgs) -> anyhow::Result<ExitCode> {
    let point = LatLng::new(args.lat, args.lon)?;
    print_json(&gazetteer.reverse(point))?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the answer, or the error on stderr with exit code 1 (2 for bad
/// input) so scripts can tell them apart.
fn geocode_one(gazetteer: &Gazetteer, query: &str) -> anyhow::Result<ExitCode> {
    match gazetteer.geocode(query) {
        Ok(found) => {
            print_json(&found)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("error: {error}");
            if let GeocodeError::NotFound { suggestions, .. } = &error {
                if !suggestions.is_empty() {
                    eprintln!("did you mean: {}", suggestions.join("; "));
                }
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::from(2))
        }
    }
}

/// One JSON object per input line, in order: the answer, or
/// `{"line", "query", "error", "suggestions"}`. Lines that are not UTF-8
/// are reported, not skipped. Exit code 1 if any line failed.
fn geocode_file(gazetteer: &Gazetteer, path: &Path) -> anyhow::Result<ExitCode> {
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
                    GeocodeError::NotFound { suggestions, .. } => suggestions.clone(),
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
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
