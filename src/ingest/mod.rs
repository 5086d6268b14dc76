//! Readers and validation: directory files → validated providers plus a
//! rejection for every row that could not be used. Nothing is lost: for
//! every input, `accepted + rejected == rows read`.
//!
//! Formats (chosen by file extension, see [`Format::from_path`]):
//! - **CSV** (`.csv`): the flat format, one provider per row, columns
//!   [`FLAT_COLUMNS`]; multi-valued cells separated by `;`; phones as
//!   `number|kind|country|note`; service areas as `radius:40`, `state:CA`,
//!   `county:06019`, `zip:93721`, `country:PE`, `nationwide:US`, `worldwide`.
//! - **JSON** (`.json`): an array of providers in the normalised form
//!   ([`Provider`]'s serde shape), or an HSDS 3.1 export (see [`hsds`]).
//! - **NDJSON** (`.ndjson`, `.jsonl`): one normalised provider per line.
//! - **Parquet** (`.parquet`): the flat format, one UTF-8 column per
//!   flat column (see [`parquet`]).
//! - **GeoJSON** (`.geojson`): a FeatureCollection whose properties are the
//!   flat columns; a `Point` geometry is the location, a `Polygon` or
//!   `MultiPolygon` the service area.

pub mod hsds;
pub mod parquet;
mod validate;

pub use validate::{parse_areas, to_flat_row, FlatRow, Validator, FLAT_COLUMNS, MAX_RADIUS_KM};

use crate::gazetteer::normalize;
use crate::model::{AreaSpec, LatLng, Provider};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

use std::path::Path;
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
    /// to `providers`.
    #[serde(skip)]
    pub origins: Vec<(String, u64)>,
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
    /// Adds another input's outcome.
    pub fn extend(&mut self, other: Ingested) {
        self.providers.extend(other.providers);
        self.origins.extend(other.origins);
        self.rejections.extend(other.rejections);
        self.rows_read += other.rows_read;
        self.warnings.extend(other.warnings);
    }

    /// Rejects providers whose id repeats an earlier one, then reports
    /// likely duplicates (same normalised name within
    /// [`DUPLICATE_DISTANCE_M`]). Call once after all inputs are read.
    pub fn finish(&mut self) {
        let mut seen = HashSet::new();
        let mut kept = Vec::with_capacity(self.providers.len());
        let mut kept_origins = Vec::with_capacity(self.providers.len());
        let origins = std::mem::take(&mut self.origins);
        for (provider, (source, line)) in
            std::mem::take(&mut self.providers).into_iter().zip(origins)
        {
            if seen.insert(provider.id.clone()) {
                kept.push(provider);
                kept_origins.push((source, line));
            } else {
                self.rejections.push(Rejection::new(
                    &source,
                    line,
                    Some("id"),
                    format!("id '{}' is used by an earlier record", provider.id),
                ));
            }
        }
        self.providers = kept;
        self.origins = kept_origins;
        self.duplicates = find_duplicates(&self.providers);
    }
}

impl Ingested {
    /// Records an accepted provider read from `line` of `source`.
    pub fn accept(&mut self, provider: Provider, source: &str, line: u64) {
        self.providers.push(provider);
        self.origins.push((source.to_owned(), line));
    }
}

fn find_duplicates(providers: &[Provider]) -> Vec<Duplicate> {
    let mut by_name: HashMap<String, Vec<(usize, LatLng)>> = HashMap::new();
    for (i, provider) in providers.iter().enumerate() {
        if let Some(point) = provider.location {
            by_name
                .entry(normalize(&provider.name))
                .or_default()
                .push((i, point));
        }
    }
    let mut duplicates = Vec::new();
    for group in by_name.values().filter(|g| g.len() > 1) {
        for (a, &(i, p)) in group.iter().enumerate() {
            for &(j, q) in &group[a + 1..] {
                let distance_m = p.distance_km(q) * 1000.0;
                if distance_m <= DUPLICATE_DISTANCE_M {
                    duplicates.push(Duplicate {
                        first: providers[i].id.clone(),
                        second: providers[j].id.clone(),
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
        let source = path.display().to_string();
        let format = match Format::from_path(path) {
            Ok(format) => format,
            Err(reason) => return file_rejected(&source, reason),
        };
        match std::fs::read(path) {
            Ok(bytes) => self.read_bytes(&source, format, &bytes),
            Err(e) => file_rejected(&source, format!("cannot read the file: {e}")),
        }
    }

    /// Reads an input held in memory.
    pub fn read_bytes(&self, source: &str, format: Format, bytes: &[u8]) -> Ingested {
        match format {
            Format::Csv => self.read_csv(source, bytes),
            Format::Ndjson => self.read_ndjson(source, bytes),
            Format::Json => self.read_json(source, bytes),
            Format::GeoJson => self.read_geojson(source, bytes),
            Format::Parquet => self.read_parquet(source, bytes),
        }
    }

    fn read_parquet(&self, source: &str, bytes: &[u8]) -> Ingested {
        let (rows, failure) = match parquet::read_rows(bytes) {
            Ok(rows) => (rows, None),
            Err((0, reason)) => return file_rejected(source, reason),
            Err((position, reason)) => (Vec::new(), Some((position, reason))),
        };
        let mut out = Ingested::default();
        for (index, row) in rows.iter().enumerate() {
            let position = index as u64 + 1;
            out.rows_read += 1;
            match self.flat_row(row, source, position) {
                Ok(p) => out.accept(p, source, position),
                Err(r) => out.rejections.push(r),
            }
        }
        if let Some((position, reason)) = failure {
            out.rows_read += 1;
            out.rejections
                .push(Rejection::new(source, position, None, reason));
        }
        out
    }

    fn read_csv(&self, source: &str, bytes: &[u8]) -> Ingested {
        let mut out = Ingested::default();
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let headers: Vec<String> = match reader.headers() {
            Ok(h) => h
                .iter()
                .map(|c| c.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
                .collect(),
            Err(e) => return file_rejected(source, format!("cannot read the header row: {e}")),
        };
        if !headers.iter().any(|h| h == "name") || !headers.iter().any(|h| h == "kind") {
            return file_rejected(
                source,
                format!(
                    "the header row needs at least 'name' and 'kind'; columns are {}",
                    FLAT_COLUMNS.join(",")
                ),
            );
        }
        let unknown: Vec<&str> = headers
            .iter()
            .filter(|h| !FLAT_COLUMNS.contains(&h.as_str()))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            out.warnings.push(format!(
                "{source}: ignored unknown columns: {}",
                unknown.join(", ")
            ));
        }
        let mut record = csv::ByteRecord::new();
        loop {
            let line = reader.position().line();
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    out.rows_read += 1;
                    out.rejections.push(Rejection::new(
                        source,
                        line,
                        None,
                        format!("unreadable CSV row: {e}"),
                    ));
                    // A CSV error leaves the reader mid-record; stop here
                    // rather than guess where the next record starts.
                    break;
                }
            }
            out.rows_read += 1;
            let line = record.position().map_or(line, |p| p.line());
            if record.len() != headers.len() {
                out.rejections.push(Rejection::new(
                    source,
                    line,
                    None,
                    format!(
                        "row has {} fields but the header has {} (truncated or misquoted row?)",
                        record.len(),
                        headers.len()
                    ),
                ));
                continue;
            }
            let mut row = FlatRow::new();
            let mut bad_utf8 = None;
            for (header, value) in headers.iter().zip(record.iter()) {
                match std::str::from_utf8(value) {
                    Ok(text) => {
                        row.insert(header.clone(), text.to_owned());
                    }
                    Err(_) => {
                        bad_utf8 = Some(header.clone());
                        break;
                    }
                }
            }
            if let Some(field) = bad_utf8 {
                out.rejections.push(Rejection::new(
                    source,
                    line,
                    Some(&field),
                    "cell is not valid UTF-8",
                ));
                continue;
            }
            match self.flat_row(&row, source, line) {
                Ok(provider) => out.accept(provider, source, line),
                Err(rejection) => out.rejections.push(rejection),
            }
        }
        out
    }

    fn read_ndjson(&self, source: &str, bytes: &[u8]) -> Ingested {
        let mut out = Ingested::default();
        for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
            let line_number = index as u64 + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            out.rows_read += 1;
            let parsed = std::str::from_utf8(line)
                .map_err(|_| "line is not valid UTF-8".to_owned())
                .and_then(|text| {
                    serde_json::from_str::<Provider>(text)
                        .map_err(|e| format!("not a provider record: {e}"))
                });
            match parsed {
                Ok(provider) => match self.provider(provider, source, line_number) {
                    Ok(p) => out.accept(p, source, line_number),
                    Err(r) => out.rejections.push(r),
                },
                Err(reason) => {
                    out.rejections
                        .push(Rejection::new(source, line_number, None, reason))
                }
            }
        }
        out
    }

    fn read_json(&self, source: &str, bytes: &[u8]) -> Ingested {
        let value: serde_json::Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => {
                let mut out =
                    file_rejected(source, format!("not valid JSON (truncated file?): {e}"));
                out.rejections[0].line = e.line() as u64;
                return out;
            }
        };
        if hsds::looks_like_hsds(&value) {
            return hsds::import(self, source, value);
        }
        let serde_json::Value::Array(items) = value else {
            return file_rejected(
                source,
                "expected a JSON array of provider records (or an HSDS export)",
            );
        };
        let mut out = Ingested::default();
        for (index, item) in items.into_iter().enumerate() {
            let position = index as u64 + 1;
            out.rows_read += 1;
            match serde_json::from_value::<Provider>(item) {
                Ok(provider) => match self.provider(provider, source, position) {
                    Ok(p) => out.accept(p, source, position),
                    Err(r) => out.rejections.push(r),
                },
                Err(e) => out.rejections.push(Rejection::new(
                    source,
                    position,
                    None,
                    format!("not a provider record: {e}"),
                )),
            }
        }
        out
    }

    fn read_geojson(&self, source: &str, bytes: &[u8]) -> Ingested {
        let value: serde_json::Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => {
                return file_rejected(source, format!("not valid JSON (truncated file?): {e}"))
            }
        };
        if value.get("type").and_then(|t| t.as_str()) != Some("FeatureCollection") {
            return file_rejected(source, "expected a GeoJSON FeatureCollection");
        }
        let features = value
            .get("features")
            .and_then(|f| f.as_array())
            .cloned()
            .unwrap_or_default();
        let mut out = Ingested::default();
        for (index, feature) in features.iter().enumerate() {
            let position = index as u64 + 1;
            out.rows_read += 1;
            match self.feature(feature, source, position) {
                Ok(p) => out.accept(p, source, position),
                Err(r) => out.rejections.push(r),
            }
        }
        out
    }

    fn feature(
        &self,
        feature: &serde_json::Value,
        source: &str,
        position: u64,
    ) -> Result<Provider, Rejection> {
        let reject =
            |field: Option<&str>, reason: String| Rejection::new(source, position, field, reason);
        let mut row = FlatRow::new();
        if let Some(properties) = feature.get("properties").and_then(|p| p.as_object()) {
            for (key, value) in properties {
                let text = match value {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(";"),
                    other => other.to_string(),
                };
                row.insert(key.to_ascii_lowercase(), text);
            }
        }
        if let Some(id) = feature.get("id") {
            let id = id.as_str().map_or_else(|| id.to_string(), str::to_owned);
            row.entry("id".to_owned()).or_insert(id);
        }
        let mut polygon = None;
        if let Some(geometry) = feature.get("geometry").filter(|g| !g.is_null()) {
            let kind = geometry
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or_default();
            let coordinates = geometry.get("coordinates").cloned().unwrap_or_default();
            match kind {
                "Point" => {
                    let [lon, lat]: [f64; 2] = serde_json::from_value(coordinates)
                        .map_err(|_| reject(Some("geometry"), "Point coordinates must be [lon, lat]".into()))?;
                    row.insert("lat".into(), lat.to_string());
                    row.insert("lon".into(), lon.to_string());
                }
                "Polygon" => {
                    let rings: Vec<Vec<[f64; 2]>> = serde_json::from_value(coordinates)
                        .map_err(|_| reject(Some("geometry"), "Polygon coordinates must be rings of [lon, lat]".into()))?;
                    polygon = Some(vec![rings]);
                }
                "MultiPolygon" => {
                    let polygons: Vec<Vec<Vec<[f64; 2]>>> = serde_json::from_value(coordinates).map_err(|_| {
                        reject(Some("geometry"), "MultiPolygon coordinates must be polygons of [lon, lat] rings".into())
                    })?;
                    polygon = Some(polygons);
                }
                other => {
                    return Err(reject(
                        Some("geometry"),
                        format!("geometry type '{other}' is not used; give a Point (location) or a Polygon/MultiPolygon (service area)"),
                    ))
                }
            }
        }
        let mut provider = self
            .build_flat(&row, source)
            .map_err(|e| reject(Some(e.field), e.reason))?;
        if let Some(coordinates) = polygon {
            provider
                .service_area
                .push(AreaSpec::Polygon { coordinates });
        }
        self.provider(provider, source, position)
    }
}

fn file_rejected(source: &str, reason: impl Into<String>) -> Ingested {
    Ingested {
        rows_read: 1,
        rejections: vec![Rejection::new(source, 0, None, reason)],
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
        for provider in providers {
            let address = provider.address.as_ref();
            let country = address
                .and_then(|a| a.country.clone())
                .unwrap_or_else(|| "unknown".into());
            *summary.by_country.entry(country.clone()).or_default() += 1;
            if crate::gazetteer::is_us_or_territory(&country) {
                if let Some(region) = address.and_then(|a| a.region.clone()) {
                    *summary.by_state.entry(region).or_default() += 1;
                }
            }
            *summary
                .by_kind
                .entry(provider.kind.code().to_owned())
                .or_default() += 1;
            for issue in &provider.issues {
                *summary.by_issue.entry(issue.clone()).or_default() += 1;
            }
            let precision = provider.precision.map_or("none", |p| p.as_str());
            *summary
                .by_precision
                .entry(precision.to_owned())
                .or_default() += 1;
        }
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
        let mut all = Ingested::default();
        for (name, format, bytes) in bundled_inputs() {
            all.extend(self.read_bytes(name, format, bytes));
        }
        all.finish();
        all
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
    let mut text = String::new();
    for provider in providers {
        let line = serde_json::to_string(provider).map_err(|e| WriteError::Serialise {
            path: providers_path.display().to_string(),
            source: Box::new(e),
        })?;
        text.push_str(&line);
        text.push('\n');
    }
    std::fs::write(&providers_path, text).map_err(io(&providers_path))?;

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
