//! Readers and validation: directory files → validated providers plus a
//! rejection for every row that could not be used. Nothing is lost: for
//! every input, `accepted + rejected == rows read`.
//!
//! Formats (chosen by file extension, see [`Format::from_path`]):
//! - **CSV** (`.csv`): the flat format, one provider per row, columns
//!   [`FLAT_COLUMNS`]; multi-valued cells separated by `;`; phones as
//!   `number|kind|country|note|confidential`; service areas as `radius:40`, `state:CA`,
//!   `county:06019`, `zip:93721`, `country:PE`, `nationwide:US`, `worldwide`.
//! - **JSON** (`.json`): an array of providers in the normalised form
//!   ([`Provider`]'s serde shape), or an HSDS 3.1 export (see [`hsds`]).
//! - **NDJSON** (`.ndjson`, `.jsonl`): one normalised provider per line.
//! - **Parquet** (`.parquet`): the flat format, one column per flat
//!   column (text, numbers or booleans), read with polars (see [`parquet`]);
//!   a row's line is its 1-based position.
//! - **GeoJSON** (`.geojson`): a FeatureCollection whose properties are the
//!   flat columns; a `Point` geometry is the location, a `Polygon` or
//!   `MultiPolygon` the service area. Features are decoded one by one with
//!   the `geojson` crate; a feature's line is its 1-based position.
//!
//! Each reader has its own file: `flat_csv.rs` (CSV), `parquet.rs`,
//! `json.rs` (JSON array and NDJSON), `geojson.rs` and [`hsds`]; this
//! module dispatches by [`Format`] ([`Validator::read_bytes`],
//! [`parse_bytes`]) and holds what every format shares (rejections,
//! ids and duplicates, the output files).
//!
//! Large inputs: a CSV file is streamed and its rows validated in batches
//! on every core, outcomes kept in input order with their lines
//! (`ordered.rs`, `flat_csv.rs`); a [`Progress`] counts rows and bytes for
//! a display on another thread; [`write_ndjson`] serialises on every core
//! and streams. Reading can also be split in two ([`parse_file`],
//! [`parse_bundled`], then [`Validator::check_parsed`]): the first step
//! needs no gazetteer, so `serve` runs it while the gazetteer loads.

mod data_dir;
mod flat_csv;
mod geojson;
pub mod hsds;
mod json;
mod ordered;
pub mod parquet;
mod parsed;
mod polygon;
mod progress;
mod provider_file;
mod validate;

pub use data_dir::{data_files, DataDirError};
pub use parsed::{parse_bundled, parse_bytes, parse_file, Parsed};
pub use polygon::{check_polygon, CheckedPolygon, PolygonError, MAX_POLYGON_VERTICES};
pub use progress::Progress;
pub use provider_file::{write_provider_file, ProviderFileError};
pub use validate::{parse_areas, to_flat_row, FlatRow, Validator, FLAT_COLUMNS};

use crate::gazetteer::normalize;
use crate::model::{LatLng, Provider};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
pub use validate::FieldError;

/// The largest cell (or JSON record) accepted, in bytes.
pub const MAX_CELL_BYTES: usize = 10_000;

/// Two providers with the same normalised name closer than this are
/// reported as likely duplicates, in metres.
pub const DUPLICATE_DISTANCE_M: f64 = 50.0;

/// A row that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// The file (or stream) it came from.
    pub source: String,
    /// 1-based line (CSV: the line the record starts on; NDJSON: its line;
    /// JSON array and GeoJSON: the record's 1-based position); 0 for the
    /// whole file.
    pub line: u64,
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// What is wrong and what would be valid.
    pub reason: String,
}

impl Rejection {
    /// A rejection of `line` in `source`.
    pub fn new(source: &str, line: u64, field: Option<&str>, reason: impl Into<String>) -> Self {
        Self {
            source: source.to_owned(),
            line,
            field: field.map(str::to_owned),
            reason: reason.into(),
        }
    }
}

/// What became of one row: a provider and the line (or position) it was
/// read from, or a rejection.
type Outcome = Result<(Provider, u64), Rejection>;

/// Two accepted providers that look like the same contact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Duplicate {
    /// Id of the first seen.
    pub first: String,
    /// Id of the second.
    pub second: String,
    /// Distance between them in metres.
    pub distance_m: f64,
}

/// The outcome of reading one or more inputs.
#[derive(Debug, Default, Serialize)]
pub struct Ingested {
    /// Accepted providers, in input order.
    pub providers: Vec<Provider>,
    /// Rejected rows, in input order.
    pub rejections: Vec<Rejection>,
    /// Likely duplicates among the accepted (all are kept).
    pub duplicates: Vec<Duplicate>,
    /// Rows (records) read, accepted or not.
    pub rows_read: usize,
    /// Notes about the inputs that reject no row (e.g. unknown columns).
    pub warnings: Vec<String>,
    /// Where each accepted provider came from: `(source, line)`, parallel
    /// to `providers`. Providers read from one source share its name.
    #[serde(skip)]
    pub origins: Vec<(Arc<str>, u64)>,
}

/// An input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The flat CSV format.
    Csv,
    /// A JSON array of normalised providers, or an HSDS export.
    Json,
    /// Newline-delimited normalised providers.
    Ndjson,
    /// A GeoJSON FeatureCollection with flat properties.
    GeoJson,
    /// The flat format in Apache Parquet.
    Parquet,
}

impl Format {
    /// The format a file name says it holds.
    ///
    /// # Errors
    /// A message naming the extension and the supported ones.
    pub fn from_path(path: &Path) -> Result<Format, String> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.ends_with(".csv") {
            Ok(Format::Csv)
        } else if name.ends_with(".parquet") {
            Ok(Format::Parquet)
        } else if name.ends_with(".geojson") {
            Ok(Format::GeoJson)
        } else if name.ends_with(".ndjson") || name.ends_with(".jsonl") {
            Ok(Format::Ndjson)
        } else if name.ends_with(".json") {
            Ok(Format::Json)
        } else {
            Err(format!(
                "cannot tell the format of '{}'; use .csv, .parquet, .json, .ndjson, .jsonl or .geojson",
                path.display()
            ))
        }
    }
}

impl Ingested {
    /// Adds another input's outcome. The first non-empty outcome is moved
    /// in rather than copied, so reading one large file never holds its
    /// providers twice.
    pub fn extend(&mut self, other: Ingested) {
        fn append<T>(to: &mut Vec<T>, mut from: Vec<T>) {
            if to.is_empty() {
                std::mem::swap(to, &mut from);
            } else {
                to.append(&mut from);
            }
        }
        append(&mut self.providers, other.providers);
        append(&mut self.origins, other.origins);
        append(&mut self.rejections, other.rejections);
        append(&mut self.warnings, other.warnings);
        self.rows_read += other.rows_read;
    }

    /// Rejects providers whose id repeats an earlier one, then reports
    /// likely duplicates (same normalised name within
    /// [`DUPLICATE_DISTANCE_M`]). Call once after all inputs are read.
    pub fn finish(&mut self) {
        let keep: Vec<bool> = {
            let mut seen: FxHashSet<&str> = FxHashSet::default();
            seen.reserve(self.providers.len());
            self.providers
                .iter()
                .map(|p| seen.insert(p.id.as_str()))
                .collect()
        };
        if keep.contains(&false) {
            for (index, provider) in self.providers.iter().enumerate() {
                if keep[index] {
                    continue;
                }
                let (source, line) = self
                    .origins
                    .get(index)
                    .map_or(("", 0), |(source, line)| (&**source, *line));
                self.rejections.push(Rejection::new(
                    source,
                    line,
                    Some("id"),
                    format!("id '{}' is used by an earlier record", provider.id),
                ));
            }
            // In place: a copy of a million records is 600 MB.
            let mut index = 0;
            self.providers.retain(|_| {
                index += 1;
                keep[index - 1]
            });
            let mut index = 0;
            self.origins.retain(|_| {
                index += 1;
                keep.get(index - 1).copied().unwrap_or(true)
            });
        }
        self.duplicates = find_duplicates(&self.providers);
    }
}

impl Ingested {
    /// Logs a warning giving the number of rejected rows, when there are
    /// any, for callers that read a directory without writing the
    /// rejection report (`refmatch ingest` writes it).
    pub fn warn_rejected(&self) {
        if !self.rejections.is_empty() {
            tracing::warn!(
                rejected = self.rejections.len(),
                "some rows were rejected; run `refmatch ingest` for the report"
            );
        }
    }

    /// Records an accepted provider read from `line` of `source`.
    pub fn accept(&mut self, provider: Provider, source: &str, line: u64) {
        self.providers.push(provider);
        // One name per source, not one per row: a million rows of one file
        // would otherwise hold a million copies of its path.
        let shared = match self.origins.last() {
            Some((last, _)) if **last == *source => Arc::clone(last),
            _ => Arc::from(source),
        };
        self.origins.push((shared, line));
    }

    /// Records the outcome of one row: a provider read from `line`, or a
    /// rejection.
    fn record(&mut self, outcome: Outcome, source: &str) {
        match outcome {
            Ok((provider, line)) => self.accept(provider, source, line),
            Err(rejection) => self.rejections.push(rejection),
        }
    }
}

/// Likely duplicates: providers with the same normalised name whose
/// points are within [`DUPLICATE_DISTANCE_M`], sorted by ids.
///
/// Names are grouped by a 64-bit hash of their normalised form, and names
/// in a group are compared in full, so a hash collision costs a comparison
/// but never a false pair; no normalised name is kept for the
/// (overwhelmingly common) provider whose name is unique. Within a name,
/// points are swept by latitude, so only pairs less than the duplicate
/// distance apart north–south are measured: a directory where thousands of
/// offices share one name ("Sheriff's Office") costs about one measurement
/// per office, not one per pair of offices.
fn find_duplicates(providers: &[Provider]) -> Vec<Duplicate> {
    use std::hash::BuildHasher;
    let hasher = rustc_hash::FxBuildHasher;
    // Per provider: the next located provider (by index) in its group.
    let mut next: Vec<u32> = vec![u32::MAX; providers.len()];
    let mut last_of_group: FxHashMap<u64, u32> = FxHashMap::default();
    let mut first_of_group: Vec<u32> = Vec::new();
    for (i, provider) in providers.iter().enumerate() {
        if provider.location.is_none() {
            continue;
        }
        let i = i as u32;
        let key = hasher.hash_one(normalize(&provider.name));
        match last_of_group.insert(key, i) {
            Some(previous) => next[previous as usize] = i,
            None => first_of_group.push(i),
        }
    }
    drop(last_of_group);
    // Two points further apart in latitude than this (degrees) are further
    // apart than the duplicate distance: a great circle is at least as long
    // as the meridian arc between their latitudes. With a margin for
    // rounding.
    let band_deg =
        (DUPLICATE_DISTANCE_M / 1000.0 / crate::model::EARTH_RADIUS_KM).to_degrees() * 1.01;
    let mut duplicates = Vec::new();
    let mut group: Vec<(String, f64, usize, LatLng)> = Vec::new();
    for first in first_of_group {
        if next[first as usize] == u32::MAX {
            continue; // a name no other located provider has
        }
        group.clear();
        let mut member = first;
        while member != u32::MAX {
            let provider = &providers[member as usize];
            if let Some(point) = provider.location {
                let name = normalize(&provider.name);
                group.push((name, point.lat(), member as usize, point));
            }
            member = next[member as usize];
        }
        group.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        for (a, (name, lat, i, p)) in group.iter().enumerate() {
            for (other, other_lat, j, q) in &group[a + 1..] {
                if other != name || other_lat - lat > band_deg {
                    break;
                }
                // Measured from the earlier record, as reported.
                let (first, second, distance_km) = if i < j {
                    (*i, *j, p.distance_km(*q))
                } else {
                    (*j, *i, q.distance_km(*p))
                };
                let distance_m = distance_km * 1000.0;
                if distance_m <= DUPLICATE_DISTANCE_M {
                    duplicates.push(Duplicate {
                        first: providers[first].id.to_string(),
                        second: providers[second].id.to_string(),
                        distance_m: (distance_m * 10.0).round() / 10.0,
                    });
                }
            }
        }
    }
    duplicates.sort_by(|a, b| a.first.cmp(&b.first).then_with(|| a.second.cmp(&b.second)));
    duplicates
}

impl Validator<'_> {
    /// Reads one file; an unreadable file is one rejection with line 0.
    pub fn read_file(&self, path: &Path) -> Ingested {
        self.read_file_with(path, &Progress::default())
    }

    /// Reads one file, counting rows and bytes read in `progress` as it
    /// goes (CSV, batch by batch; other formats once the file is read), so
    /// that another thread can show how far it is. A CSV file is streamed
    /// rather than loaded whole.
    pub fn read_file_with(&self, path: &Path, progress: &Progress) -> Ingested {
        let source = path.display().to_string();
        let format = match Format::from_path(path) {
            Ok(format) => format,
            Err(reason) => {
                progress.add_rows(1);
                return file_rejected(&source, reason);
            }
        };
        if format == Format::Csv {
            match std::fs::File::open(path) {
                Ok(file) if file.metadata().is_ok_and(|m| m.is_file()) => {
                    let input = progress::Counting::new(file, progress);
                    return self.read_csv(&source, input, progress);
                }
                // Not a plain file (a directory, a pipe): reading it whole
                // below gives the error, or the bytes, as for any format.
                Ok(_) => {}
                Err(e) => {
                    progress.add_rows(1);
                    return file_rejected(&source, format!("cannot read the file: {e}"));
                }
            }
        }
        match std::fs::read(path) {
            Ok(bytes) => {
                progress.add_bytes(bytes.len() as u64);
                self.read_bytes_with(&source, format, &bytes, progress)
            }
            Err(e) => {
                progress.add_rows(1);
                file_rejected(&source, format!("cannot read the file: {e}"))
            }
        }
    }

    /// Reads an input held in memory.
    pub fn read_bytes(&self, source: &str, format: Format, bytes: &[u8]) -> Ingested {
        self.read_bytes_with(source, format, bytes, &Progress::default())
    }

    fn read_bytes_with(
        &self,
        source: &str,
        format: Format,
        bytes: &[u8],
        progress: &Progress,
    ) -> Ingested {
        let out = match format {
            Format::Csv => return self.read_csv(source, bytes, progress),
            Format::Ndjson | Format::Json => self.check_parsed(parse_bytes(source, format, bytes)),
            Format::GeoJson => self.read_geojson(source, bytes),
            Format::Parquet => self.read_parquet(source, bytes),
        };
        progress.add_rows(out.rows_read as u64);
        out
    }
}

fn file_rejected(source: &str, reason: impl Into<String>) -> Ingested {
    rejected_whole(Rejection::new(source, 0, None, reason))
}

/// An input rejected whole: one row read, one rejection.
fn rejected_whole(rejection: Rejection) -> Ingested {
    Ingested {
        rows_read: 1,
        rejections: vec![rejection],
        ..Ingested::default()
    }
}

/// Counts for the ingest summary.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Rows read.
    pub rows_read: usize,
    /// Providers accepted.
    pub accepted: usize,
    /// Rows rejected.
    pub rejected: usize,
    /// Likely duplicate pairs.
    pub duplicates: usize,
    /// Accepted providers by country of their address or location.
    pub by_country: BTreeMap<String, usize>,
    /// Accepted US providers by state or territory.
    pub by_state: BTreeMap<String, usize>,
    /// By kind.
    pub by_kind: BTreeMap<String, usize>,
    /// By issue code.
    pub by_issue: BTreeMap<String, usize>,
    /// By geocoding precision (`none` for no location).
    pub by_precision: BTreeMap<String, usize>,
    /// Rejections by field (`row` where no field applies).
    pub rejects_by_field: BTreeMap<String, usize>,
}

impl Summary {
    /// Summarises an ingest outcome whose accepted providers are `providers`.
    pub fn of(providers: &[Provider], ingested: &Ingested) -> Summary {
        let mut summary = Summary {
            rows_read: ingested.rows_read,
            accepted: providers.len(),
            rejected: ingested.rejections.len(),
            duplicates: ingested.duplicates.len(),
            ..Summary::default()
        };
        // Counted under borrowed keys, converted once at the end.
        let mut by_country: BTreeMap<&str, usize> = BTreeMap::new();
        let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
        let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
        let mut by_issue: BTreeMap<&str, usize> = BTreeMap::new();
        let mut by_precision: BTreeMap<&str, usize> = BTreeMap::new();
        for provider in providers {
            let address = provider.address.as_ref();
            let country = address
                .and_then(|a| a.country.as_deref())
                .unwrap_or("unknown");
            *by_country.entry(country).or_default() += 1;
            if crate::gazetteer::is_us_or_territory(country) {
                if let Some(region) = address.and_then(|a| a.region.as_deref()) {
                    *by_state.entry(region).or_default() += 1;
                }
            }
            *by_kind.entry(provider.kind.code()).or_default() += 1;
            for issue in &provider.issues {
                *by_issue.entry(issue).or_default() += 1;
            }
            *by_precision
                .entry(provider.precision.map_or("none", |p| p.as_str()))
                .or_default() += 1;
        }
        let owned = |counts: BTreeMap<&str, usize>| -> BTreeMap<String, usize> {
            counts.into_iter().map(|(k, n)| (k.to_owned(), n)).collect()
        };
        summary.by_country = owned(by_country);
        summary.by_state = owned(by_state);
        summary.by_kind = owned(by_kind);
        summary.by_issue = owned(by_issue);
        summary.by_precision = owned(by_precision);
        for rejection in &ingested.rejections {
            let field = rejection.field.clone().unwrap_or_else(|| "row".into());
            *summary.rejects_by_field.entry(field).or_default() += 1;
        }
        summary
    }
}

/// The inputs compiled into the binary: the real hotlines from the seed
/// page (`data/hotlines.json`) and the synthetic sample directory
/// (`data/sample/directory.csv`), as `(name, format, bytes)`.
pub fn bundled_inputs() -> [(&'static str, Format, &'static [u8]); 2] {
    [
        (
            "data/hotlines.json",
            Format::Json,
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/hotlines.json")),
        ),
        (
            "data/sample/directory.csv",
            Format::Csv,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/data/sample/directory.csv"
            )),
        ),
    ]
}

impl Validator<'_> {
    /// Reads every file, then rejects repeated ids and reports duplicates.
    pub fn read_files(&self, paths: &[std::path::PathBuf]) -> Ingested {
        let mut all = Ingested::default();
        for path in paths {
            all.extend(self.read_file(path));
        }
        all.finish();
        all
    }

    /// Reads the bundled hotlines and sample directory.
    pub fn read_bundled(&self) -> Ingested {
        self.check_all(parse_bundled())
    }
}

/// Why an ingest output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A record could not be serialised.
    #[error("cannot serialise {path}: {source}")]
    Serialise {
        /// The file.
        path: String,
        /// The underlying error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// The files `refmatch ingest --out DIR` writes.
pub const PROVIDERS_FILE: &str = "providers.ndjson";
/// Rejected rows, one per line: `source,line,field,reason`.
pub const REJECTIONS_FILE: &str = "rejections.csv";
/// Likely duplicates: `first,second,distance_m`.
pub const DUPLICATES_FILE: &str = "duplicates.csv";
/// Counts by country, state, kind, issue, precision and rejected field.
pub const SUMMARY_FILE: &str = "summary.json";

/// Writes the accepted `providers` (normalised, one JSON per line), the
/// rejection report, the duplicates and the summary of `ingested` into
/// `dir` (created if missing).
///
/// # Errors
/// [`WriteError`] naming the file that failed.
pub fn write_output(
    dir: &Path,
    providers: &[Provider],
    ingested: &Ingested,
) -> Result<Summary, WriteError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| WriteError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let providers_path = dir.join(PROVIDERS_FILE);
    let file = std::fs::File::create(&providers_path).map_err(io(&providers_path))?;
    let mut file = std::io::BufWriter::with_capacity(1 << 20, file);
    write_ndjson(&mut file, providers).map_err(|e| match e {
        NdjsonError::Io(source) => WriteError::Io {
            path: providers_path.display().to_string(),
            source,
        },
        NdjsonError::Json(e) => WriteError::Serialise {
            path: providers_path.display().to_string(),
            source: Box::new(e),
        },
    })?;
    file.flush().map_err(io(&providers_path))?;

    let csv_error = |path: &Path| {
        let path = path.display().to_string();
        move |e: csv::Error| WriteError::Serialise {
            path,
            source: Box::new(e),
        }
    };
    let rejections_path = dir.join(REJECTIONS_FILE);
    let mut writer =
        csv::Writer::from_path(&rejections_path).map_err(csv_error(&rejections_path))?;
    writer
        .write_record(["source", "line", "field", "reason"])
        .map_err(csv_error(&rejections_path))?;
    for r in &ingested.rejections {
        writer
            .write_record([
                r.source.as_str(),
                &r.line.to_string(),
                r.field.as_deref().unwrap_or(""),
                &r.reason,
            ])
            .map_err(csv_error(&rejections_path))?;
    }
    writer.flush().map_err(io(&rejections_path))?;

    let duplicates_path = dir.join(DUPLICATES_FILE);
    let mut writer =
        csv::Writer::from_path(&duplicates_path).map_err(csv_error(&duplicates_path))?;
    writer
        .write_record(["first", "second", "distance_m"])
        .map_err(csv_error(&duplicates_path))?;
    for d in &ingested.duplicates {
        writer
            .write_record([d.first.as_str(), &d.second, &d.distance_m.to_string()])
            .map_err(csv_error(&duplicates_path))?;
    }
    writer.flush().map_err(io(&duplicates_path))?;

    let summary = Summary::of(providers, ingested);
    let summary_path = dir.join(SUMMARY_FILE);
    let json = serde_json::to_string_pretty(&summary).map_err(|e| WriteError::Serialise {
        path: summary_path.display().to_string(),
        source: Box::new(e),
    })?;
    std::fs::write(&summary_path, json).map_err(io(&summary_path))?;
    Ok(summary)
}

/// Why [`write_ndjson`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum NdjsonError {
    /// Writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A provider could not be serialised.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// Writes providers as normalised JSON, one per line, in order. Chunks of
/// providers are serialised on every core while this thread writes, and
/// no more than a few chunks of text are held at once.
///
/// # Errors
/// The first write or serialisation error; nothing is written after it.
pub fn write_ndjson(
    writer: &mut impl std::io::Write,
    providers: &[Provider],
) -> Result<(), NdjsonError> {
    const CHUNK: usize = 1024;
    #[derive(Default)]
    struct Chunk {
        range: std::ops::Range<usize>,
        text: Vec<u8>,
    }
    let mut next = 0;
    let failed = std::cell::Cell::new(false);
    let mut result = Ok(());
    ordered::in_order(
        ordered::worker_threads(),
        Chunk::default,
        |chunk| {
            if next >= providers.len() || failed.get() {
                return false;
            }
            chunk.range = next..(next + CHUNK).min(providers.len());
            next = chunk.range.end;
            true
        },
        |chunk| -> Result<(), serde_json::Error> {
            chunk.text.clear();
            for provider in &providers[chunk.range.clone()] {
                serde_json::to_writer(&mut chunk.text, provider)?;
                chunk.text.push(b'\n');
            }
            Ok(())
        },
        |chunk, serialised| {
            if failed.get() {
                return;
            }
            let written = serialised
                .map_err(NdjsonError::from)
                .and_then(|()| Ok(writer.write_all(&chunk.text)?));
            if let Err(e) = written {
                failed.set(true);
                result = Err(e);
            }
        },
    );
    result
}

/// Writes providers in the flat CSV format.
///
/// # Errors
/// The CSV error when writing fails.
pub fn write_flat_csv<W: std::io::Write>(
    writer: W,
    providers: &[Provider],
) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(writer);
    writer.write_record(FLAT_COLUMNS)?;
    for provider in providers {
        writer.write_record(to_flat_row(provider))?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gazetteer::Gazetteer;
    use crate::model::Vocabulary;
    use std::sync::OnceLock;

    fn gazetteer() -> &'static Gazetteer {
        static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
        GAZETTEER.get_or_init(|| Gazetteer::bundled().expect("bundled gazetteer loads"))
    }

    /// A CSV spanning several read batches: row `i` is on line `i + 1`,
    /// and every 97th row names an unknown kind.
    fn batches_csv(rows: usize) -> String {
        let mut text = String::from("id,name,kind,lat,lon,service_area\n");
        for i in 1..=rows {
            let kind = if i % 97 == 0 { "wizard" } else { "hotline" };
            text.push_str(&format!("r{i},Row {i},{kind},36.7,-119.8,radius:10\n"));
        }
        text
    }

    #[test]
    fn progress_reports_every_row_and_byte_read() {
        let vocabulary = Vocabulary::bundled().expect("vocabulary");
        let validator = Validator::new(gazetteer(), &vocabulary);
        let dir = std::env::temp_dir().join(format!("refmatch-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let csv = dir.join("rows.csv");
        let text = batches_csv(3 * ordered::BATCH_ROWS + 5);
        std::fs::write(&csv, &text).expect("write");

        let progress = Progress::default();
        let read = validator.read_file_with(&csv, &progress);
        assert_eq!(read.rows_read, 3 * ordered::BATCH_ROWS + 5);
        assert_eq!(progress.rows(), read.rows_read as u64);
        assert_eq!(progress.bytes(), text.len() as u64);

        // Other formats count once the file is read; a missing file is
        // the one row it is reported as.
        let ndjson =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ingest/providers.ndjson");
        let more = validator.read_file_with(&ndjson, &progress);
        let missing = validator.read_file_with(&dir.join("missing.csv"), &progress);
        assert_eq!(
            progress.rows(),
            (read.rows_read + more.rows_read + missing.rows_read) as u64
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    /// A provider named `name` at (`lat`, `lon`).
    fn named(id: usize, name: &str, lat: f64, lon: f64) -> Provider {
        let mut provider: Provider = serde_json::from_value(serde_json::json!({
            "id": format!("p{id:05}"),
            "name": name,
            "kind": "hotline",
            "availability": {"type": "unknown"},
            "source": "test",
        }))
        .expect("provider");
        provider.location = LatLng::new(lat, lon).ok();
        provider
    }

    #[test]
    fn duplicates_are_every_same_name_pair_within_50_m() {
        // Fixed-seed points in a few small clusters, two names (one in
        // two spellings that normalise alike), some far apart in longitude
        // at the same latitude, and one record without a location.
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let names = ["County Sheriff", "county sheriff.", "Shelter"];
        let mut providers = Vec::new();
        for id in 0..600 {
            let cluster = (id % 5) as f64;
            let lat = 10.0 + cluster * 0.0004 + random() * 0.0006;
            let lon = if id % 7 == 0 { 120.0 } else { -70.0 } + random() * 0.0006;
            providers.push(named(id, names[id % 3], lat, lon));
        }
        let mut unplaced = named(600, "Shelter", 0.0, 0.0);
        unplaced.location = None;
        providers.push(unplaced);

        let mut expected = Vec::new();
        for (i, a) in providers.iter().enumerate() {
            for b in &providers[i + 1..] {
                let (Some(p), Some(q)) = (a.location, b.location) else {
                    continue;
                };
                let distance_m = p.distance_km(q) * 1000.0;
                if normalize(&a.name) == normalize(&b.name) && distance_m <= DUPLICATE_DISTANCE_M {
                    expected.push(Duplicate {
                        first: a.id.to_string(),
                        second: b.id.to_string(),
                        distance_m: (distance_m * 10.0).round() / 10.0,
                    });
                }
            }
        }
        expected.sort_by(|a, b| a.first.cmp(&b.first).then_with(|| a.second.cmp(&b.second)));
        assert!(expected.len() > 100, "the fixture has pairs to find");
        assert_eq!(find_duplicates(&providers), expected);
    }

    #[test]
    fn parsing_then_checking_reads_what_reading_in_one_step_reads() {
        let vocabulary = Vocabulary::bundled().expect("vocabulary");
        let validator = Validator::new(gazetteer(), &vocabulary);
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for name in [
            "tests/fixtures/ingest/good.csv",
            "tests/fixtures/ingest/malformed.csv",
            "tests/fixtures/ingest/providers.ndjson",
            "tests/fixtures/ingest/directory.geojson",
            "tests/fixtures/ingest/edges.geojson",
            "tests/fixtures/ingest/rows.parquet",
            "data/hotlines.json",
            "tests/fixtures/ingest/missing.csv",
        ] {
            let path = root.join(name);
            let one_step = validator.read_file(&path);
            let two_steps = validator.check_parsed(parse_file(&path));
            assert_eq!(two_steps.providers, one_step.providers, "{name}");
            assert_eq!(two_steps.origins, one_step.origins, "{name}");
            assert_eq!(two_steps.rejections, one_step.rejections, "{name}");
            assert_eq!(two_steps.rows_read, one_step.rows_read, "{name}");
            assert_eq!(two_steps.warnings, one_step.warnings, "{name}");
        }
        let mut bundled = Ingested::default();
        for (name, format, bytes) in bundled_inputs() {
            bundled.extend(validator.read_bytes(name, format, bytes));
        }
        bundled.finish();
        let parsed = validator.read_bundled();
        assert_eq!(parsed.rows_read, bundled.rows_read);
        assert_eq!(parsed.providers, bundled.providers);
        assert_eq!(parsed.rejections, bundled.rejections);
        assert_eq!(parsed.duplicates, bundled.duplicates);
    }

    #[test]
    fn csv_rows_validated_on_every_core_keep_their_order_and_lines() {
        let vocabulary = Vocabulary::bundled().expect("vocabulary");
        let validator = Validator::new(gazetteer(), &vocabulary);
        let rows = 5 * ordered::BATCH_ROWS + 3;
        let read = validator.read_bytes("rows.csv", Format::Csv, batches_csv(rows).as_bytes());
        assert_eq!(read.rows_read, rows);
        let expected_ids: Vec<String> = (1..=rows)
            .filter(|i| i % 97 != 0)
            .map(|i| format!("r{i}"))
            .collect();
        let ids: Vec<&str> = read.providers.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, expected_ids);
        let lines: Vec<u64> = read.origins.iter().map(|(_, line)| *line).collect();
        let expected_lines: Vec<u64> = (1..=rows as u64)
            .filter(|i| i % 97 != 0)
            .map(|i| i + 1)
            .collect();
        assert_eq!(lines, expected_lines);
        let rejected: Vec<(u64, Option<&str>)> = read
            .rejections
            .iter()
            .map(|r| (r.line, r.field.as_deref()))
            .collect();
        let expected_rejected: Vec<(u64, Option<&str>)> = (1..=rows as u64)
            .filter(|i| i % 97 == 0)
            .map(|i| (i + 1, Some("kind")))
            .collect();
        assert_eq!(rejected, expected_rejected);
    }
}
