//! The flat CSV reader: records parsed on the calling thread, rows built
//! (and checked, when the caller does) in batches on every core, outcomes
//! handed on in input order with the line each record starts on.

use super::validate::Cells;
use super::MAX_CELL_BYTES;
use super::{
    ordered, rejected_whole, Ingested, Outcome, Progress, Rejection, Validator, FLAT_COLUMNS,
};
use std::collections::BTreeMap;

/// Records read from a CSV file, reused from batch to batch.
#[derive(Default)]
struct CsvBatch {
    records: Vec<csv::ByteRecord>,
    /// The line each record starts on.
    lines: Vec<u64>,
    /// Records in use (the rest are spare).
    len: usize,
}

/// Where a CSV file's columns are, worked out once from its header row.
/// When a name repeats, its last column counts, as in a
/// [`FlatRow`](super::FlatRow).
pub(super) struct CsvLayout {
    /// Column names, trimmed and lower-cased, in file order.
    headers: Vec<String>,
    /// For each of [`FLAT_COLUMNS`], its column in the file.
    flat: [Option<usize>; FLAT_COLUMNS.len()],
    /// Each distinct name with its column, in the order of names.
    by_name: Vec<(String, usize)>,
}

impl CsvLayout {
    fn new(headers: Vec<String>) -> Self {
        let last: BTreeMap<&str, usize> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.as_str(), i))
            .collect();
        let flat = std::array::from_fn(|c| last.get(FLAT_COLUMNS[c]).copied());
        let by_name = last.iter().map(|(h, i)| ((*h).to_owned(), *i)).collect();
        Self {
            headers,
            flat,
            by_name,
        }
    }
}

/// One CSV record's cells, checked to be UTF-8, seen as a flat row.
pub(super) struct CsvCells<'a> {
    layout: &'a CsvLayout,
    cells: &'a [&'a str],
}

impl Cells for CsvCells<'_> {
    fn cell(&self, column: usize) -> Option<&str> {
        self.layout.flat[column].and_then(|i| self.cells.get(i).copied())
    }

    fn oversized(&self) -> Option<(&str, usize)> {
        self.layout.by_name.iter().find_map(|(name, i)| {
            let length = self.cells.get(*i).map_or(0, |c| c.len());
            (length > MAX_CELL_BYTES).then_some((name.as_str(), length))
        })
    }
}

/// Checks that `record` (starting on `line`) has a cell for every column
/// and that each is UTF-8, then hands its cells to `build`.
pub(super) fn with_cells<T>(
    layout: &CsvLayout,
    record: &csv::ByteRecord,
    line: u64,
    source: &str,
    build: impl FnOnce(&CsvCells<'_>) -> Result<T, Rejection>,
) -> Result<(T, u64), Rejection> {
    if record.len() != layout.headers.len() {
        return Err(Rejection::new(
            source,
            line,
            None,
            format!(
                "row has {} fields but the header has {} (truncated or misquoted row?)",
                record.len(),
                layout.headers.len()
            ),
        ));
    }
    let mut cells = Vec::with_capacity(record.len());
    for (header, value) in layout.headers.iter().zip(record.iter()) {
        match std::str::from_utf8(value) {
            Ok(text) => cells.push(text),
            Err(_) => {
                return Err(Rejection::new(
                    source,
                    line,
                    Some(header),
                    "cell is not valid UTF-8",
                ))
            }
        }
    }
    let row = CsvCells {
        layout,
        cells: &cells,
    };
    build(&row).map(|built| (built, line))
}

/// What reading a CSV file gave besides its rows.
pub(super) struct CsvRead {
    /// Records read (not counting `failure`).
    pub(super) rows_read: usize,
    /// Notes on the header (unknown columns).
    pub(super) warnings: Vec<String>,
    /// A record the parser could not read; reading stopped there.
    pub(super) failure: Option<Rejection>,
}

impl CsvRead {
    /// Adds the counts, warnings and any failure (one more row read, and
    /// the last rejection) to `out`.
    pub(super) fn complete(self, mut out: Ingested, progress: &Progress) -> Ingested {
        out.rows_read += self.rows_read;
        out.warnings.extend(self.warnings);
        if let Some(rejection) = self.failure {
            out.rows_read += 1;
            progress.add_rows(1);
            out.rejections.push(rejection);
        }
        out
    }
}

/// Reads the flat CSV format from `input`. Records are parsed on this
/// thread and `row` turns each (with the line it starts on) into an
/// outcome, in batches on every core; `sink` gets each batch's outcomes in
/// input order. Rows read are counted in `progress` batch by batch.
///
/// # Errors
/// The rejection of the whole file (line 0, counted as a row read) when
/// the header row cannot be read or lacks `name` or `kind`.
pub(super) fn read_rows(
    source: &str,
    input: impl std::io::Read,
    progress: &Progress,
    row: impl Fn(&CsvLayout, &csv::ByteRecord, u64) -> Outcome + Sync,
    mut sink: impl FnMut(Vec<Outcome>),
) -> Result<CsvRead, Rejection> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(input);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h
            .iter()
            .map(|c| c.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect(),
        Err(e) => {
            progress.add_rows(1);
            return Err(Rejection::new(
                source,
                0,
                None,
                format!("cannot read the header row: {e}"),
            ));
        }
    };
    if !headers.iter().any(|h| h == "name") || !headers.iter().any(|h| h == "kind") {
        progress.add_rows(1);
        return Err(Rejection::new(
            source,
            0,
            None,
            format!(
                "the header row needs at least 'name' and 'kind'; columns are {}",
                FLAT_COLUMNS.join(",")
            ),
        ));
    }
    let unknown: Vec<&str> = headers
        .iter()
        .filter(|h| !FLAT_COLUMNS.contains(&h.as_str()))
        .map(String::as_str)
        .collect();
    let mut warnings = Vec::new();
    if !unknown.is_empty() {
        warnings.push(format!(
            "{source}: ignored unknown columns: {}",
            unknown.join(", ")
        ));
    }
    let layout = CsvLayout::new(headers);

    let mut rows_read = 0usize;
    let mut failure = None;
    ordered::in_order(
        ordered::worker_threads(),
        CsvBatch::default,
        |batch| {
            batch.len = 0;
            if failure.is_some() {
                return false;
            }
            while batch.len < ordered::BATCH_ROWS {
                if batch.records.len() == batch.len {
                    batch.records.push(csv::ByteRecord::new());
                    batch.lines.push(0);
                }
                let line = reader.position().line();
                let record = &mut batch.records[batch.len];
                match reader.read_byte_record(record) {
                    Ok(false) => break,
                    Ok(true) => {
                        batch.lines[batch.len] = record.position().map_or(line, |p| p.line());
                        batch.len += 1;
                    }
                    Err(e) => {
                        // A CSV error leaves the reader mid-record; stop
                        // here rather than guess where the next record
                        // starts.
                        failure = Some(Rejection::new(
                            source,
                            line,
                            None,
                            format!("unreadable CSV row: {e}"),
                        ));
                        break;
                    }
                }
            }
            rows_read += batch.len;
            progress.add_rows(batch.len as u64);
            batch.len > 0
        },
        |batch| {
            (0..batch.len)
                .map(|i| row(&layout, &batch.records[i], batch.lines[i]))
                .collect::<Vec<_>>()
        },
        |_, outcomes| sink(outcomes),
    );
    Ok(CsvRead {
        rows_read,
        warnings,
        failure,
    })
}

impl Validator<'_> {
    /// Reads the flat CSV format from `input`, validating records in
    /// batches on every core (see [`read_rows`]).
    pub(super) fn read_csv(
        &self,
        source: &str,
        input: impl std::io::Read,
        progress: &Progress,
    ) -> Ingested {
        let mut out = Ingested::default();
        let read = read_rows(
            source,
            input,
            progress,
            |layout, record, line| {
                with_cells(layout, record, line, source, |row| {
                    self.cells_row(row, source, line)
                })
            },
            |outcomes| {
                for outcome in outcomes {
                    out.record(outcome, source);
                }
            },
        );
        match read {
            Ok(read) => read.complete(out, progress),
            Err(rejection) => rejected_whole(rejection),
        }
    }
}
