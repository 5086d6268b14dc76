//! Reading in two steps, so that the part that needs no gazetteer can run
//! while the gazetteer loads (as `refmatch serve` does): parse inputs and
//! build providers from them ([`parse_bytes`], [`parse_file`],
//! [`parse_bundled`]), then check those against the gazetteer and
//! vocabulary ([`Validator::check_parsed`], [`Validator::check_all`]).
//! The outcome is the same as reading in one step.

use super::validate::build_flat;
use super::{
    bundled_inputs, file_rejected, flat_csv, hsds, json, ordered, rejected_whole, Format, Ingested,
    Outcome, Progress, Rejection, Validator,
};
use std::path::Path;

/// One input, parsed into providers that still await
/// [`Validator::check_parsed`].
#[derive(Debug)]
pub struct Parsed {
    source: String,
    body: Body,
}

#[derive(Debug)]
pub(super) enum Body {
    /// Rows in input order, in batches: a provider built but not checked
    /// yet (with its line), or a rejection.
    Rows {
        batches: Vec<Vec<Outcome>>,
        rows_read: usize,
        warnings: Vec<String>,
    },
    /// An HSDS export, imported and checked together.
    Hsds(serde_json::Value),
    /// A format read in one step with the gazetteer (GeoJSON, Parquet).
    Whole { format: Format, bytes: Vec<u8> },
    /// Already settled: the input was rejected whole.
    Settled(Ingested),
}

impl Parsed {
    /// The file (or stream) it came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    fn settled(source: &str, ingested: Ingested) -> Parsed {
        Parsed {
            source: source.to_owned(),
            body: Body::Settled(ingested),
        }
    }
}

/// Parses an input held in memory.
pub fn parse_bytes(source: &str, format: Format, bytes: &[u8]) -> Parsed {
    let body = match format {
        Format::Csv => return parse_csv(source, bytes),
        Format::Ndjson => json::parse_ndjson(source, bytes),
        Format::Json => match json::parse_json(source, bytes) {
            Ok(body) => body,
            Err(rejection) => Body::Settled(rejected_whole(rejection)),
        },
        Format::GeoJson | Format::Parquet => Body::Whole {
            format,
            bytes: bytes.to_vec(),
        },
    };
    Parsed {
        source: source.to_owned(),
        body,
    }
}

/// Parses one file (a CSV file is streamed); an unreadable file is one
/// rejection with line 0, as for [`Validator::read_file`].
pub fn parse_file(path: &Path) -> Parsed {
    let source = path.display().to_string();
    let format = match Format::from_path(path) {
        Ok(format) => format,
        Err(reason) => return Parsed::settled(&source, file_rejected(&source, reason)),
    };
    if format == Format::Csv {
        match std::fs::File::open(path) {
            Ok(file) if file.metadata().is_ok_and(|m| m.is_file()) => {
                return parse_csv(&source, file);
            }
            Ok(_) => {}
            Err(e) => {
                let rejected = file_rejected(&source, format!("cannot read the file: {e}"));
                return Parsed::settled(&source, rejected);
            }
        }
    }
    match std::fs::read(path) {
        Ok(bytes) => parse_bytes(&source, format, &bytes),
        Err(e) => {
            let rejected = file_rejected(&source, format!("cannot read the file: {e}"));
            Parsed::settled(&source, rejected)
        }
    }
}

/// Parses the inputs compiled into the binary ([`bundled_inputs`]).
pub fn parse_bundled() -> Vec<Parsed> {
    bundled_inputs()
        .into_iter()
        .map(|(name, format, bytes)| parse_bytes(name, format, bytes))
        .collect()
}

fn parse_csv(source: &str, input: impl std::io::Read) -> Parsed {
    let mut batches = Vec::new();
    let read = flat_csv::read_rows(
        source,
        input,
        &Progress::default(),
        |layout, record, line| {
            flat_csv::with_cells(layout, record, line, source, |row| {
                build_flat(row, source)
                    .map_err(|e| Rejection::new(source, line, Some(e.field), e.reason))
            })
        },
        |outcomes| batches.push(outcomes),
    );
    let read = match read {
        Ok(read) => read,
        Err(rejection) => return Parsed::settled(source, rejected_whole(rejection)),
    };
    let mut rows_read = read.rows_read;
    if let Some(failure) = read.failure {
        rows_read += 1;
        batches.push(vec![Err(failure)]);
    }
    Parsed {
        source: source.to_owned(),
        body: Body::Rows {
            batches,
            rows_read,
            warnings: read.warnings,
        },
    }
}

impl Validator<'_> {
    /// Checks parsed providers against the gazetteer and vocabulary (in
    /// batches on every core, keeping input order); the outcome is what
    /// reading the input in one step gives.
    pub fn check_parsed(&self, parsed: Parsed) -> Ingested {
        let source = parsed.source.as_str();
        let (batches, rows_read, warnings) = match parsed.body {
            Body::Rows {
                batches,
                rows_read,
                warnings,
            } => (batches, rows_read, warnings),
            Body::Hsds(value) => return hsds::import(self, source, value),
            Body::Whole { format, bytes } => return self.read_bytes(source, format, &bytes),
            Body::Settled(ingested) => return ingested,
        };
        let mut out = Ingested {
            rows_read,
            warnings,
            ..Ingested::default()
        };
        let threads = ordered::worker_threads().min(batches.len());
        let mut batches = batches.into_iter();
        ordered::in_order(
            threads,
            Vec::new,
            |batch| match batches.next() {
                Some(next) => {
                    *batch = next;
                    true
                }
                None => false,
            },
            |batch| {
                std::mem::take(batch)
                    .into_iter()
                    .map(|outcome| {
                        let (provider, line) = outcome?;
                        self.provider(provider, source, line)
                            .map(|provider| (provider, line))
                    })
                    .collect::<Vec<_>>()
            },
            |_, outcomes| {
                for outcome in outcomes {
                    out.record(outcome, source);
                }
            },
        );
        out
    }

    /// Checks every parsed input, then rejects repeated ids and reports
    /// duplicates, as [`Validator::read_files`] does.
    pub fn check_all(&self, parsed: Vec<Parsed>) -> Ingested {
        let mut all = Ingested::default();
        for one in parsed {
            all.extend(self.check_parsed(one));
        }
        all.finish();
        all
    }
}
