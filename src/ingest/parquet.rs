//! The flat format as Apache Parquet, read and written with polars (the
//! one Parquet implementation in the tree; the coverage tables use it
//! too): one column per flat column ([`FLAT_COLUMNS`]); a null or empty
//! cell is an empty cell. Numeric or boolean columns written by other
//! tools are read as their text; Snappy, Zstd, Gzip, LZ4 and Brotli pages
//! are all read. A row's line is its 1-based position in the file.

use super::validate::{to_flat_row, Cells, FLAT_COLUMNS};
use super::{file_rejected, ordered, Ingested, Outcome, Rejection, Validator, MAX_CELL_BYTES};
use crate::model::Provider;
use polars::prelude::{
    BinaryChunked, Column, DataFrame, DataType, IntoColumn, NamedFrom, ParquetCompression,
    ParquetReader, ParquetWriter, SerReader, Series, StringChunked,
};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::io::Cursor;

/// Rows per row group when writing.
const ROW_GROUP_ROWS: usize = 65_536;

/// Why [`write()`] failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot write Parquet: {0}")]
pub struct ParquetWriteError(#[from] polars::error::PolarsError);

/// A Parquet file's columns as text, with where each flat column is.
/// When two columns' names differ only in case, the later one counts, as
/// in a CSV header.
struct Table {
    /// Column names, lower-cased, with their text.
    columns: Vec<(String, StringChunked)>,
    /// For each of [`FLAT_COLUMNS`], its index in `columns`.
    flat: [Option<usize>; FLAT_COLUMNS.len()],
    /// Each distinct name with its column, in the order of names.
    by_name: Vec<(String, usize)>,
    /// Rows with a binary cell that is not UTF-8: row → column name.
    not_utf8: FxHashMap<usize, String>,
    /// Rows in the file.
    height: usize,
}

impl Table {
    /// Reads the file and turns every column into text.
    ///
    /// # Errors
    /// The reason the file cannot be read, or names the column that cannot
    /// be read as text (a list or struct column).
    fn read(bytes: &[u8]) -> Result<Table, String> {
        let frame: DataFrame = ParquetReader::new(Cursor::new(bytes))
            .set_rechunk(true)
            .finish()
            .map_err(|e| format!("not a readable Parquet file: {e}"))?;
        let height = frame.height();
        let mut columns = Vec::with_capacity(frame.width());
        let mut not_utf8 = FxHashMap::default();
        for column in frame.columns() {
            let name = column.name().to_ascii_lowercase();
            let text = match column.dtype() {
                DataType::String => column.str().cloned(),
                DataType::Binary => column.binary().map(|binary| {
                    text_of_binary(binary, |row| {
                        not_utf8.entry(row).or_insert_with(|| name.clone());
                    })
                }),
                dtype if dtype.is_nested() || dtype.is_object() => {
                    return Err(format!(
                        "column {name} holds {dtype} values; the flat format's columns are text, numbers or booleans"
                    ))
                }
                _ => column
                    .cast(&DataType::String)
                    .and_then(|c| c.str().cloned()),
            }
            .map_err(|e| format!("cannot read column {name} as text: {e}"))?;
            columns.push((name, text));
        }
        let last: BTreeMap<&str, usize> = columns
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.as_str(), i))
            .collect();
        let flat = std::array::from_fn(|c| last.get(FLAT_COLUMNS[c]).copied());
        let by_name = last.iter().map(|(h, i)| ((*h).to_owned(), *i)).collect();
        Ok(Table {
            columns,
            flat,
            by_name,
            not_utf8,
            height,
        })
    }
}

/// A binary column as text; a value that is not UTF-8 becomes null and
/// its row is passed to `bad`.
fn text_of_binary(binary: &BinaryChunked, mut bad: impl FnMut(usize)) -> StringChunked {
    let values: Vec<Option<&str>> = binary
        .downcast_iter()
        .flat_map(|chunk| chunk.iter())
        .enumerate()
        .map(|(row, value)| {
            value.and_then(|bytes| match std::str::from_utf8(bytes) {
                Ok(text) => Some(text),
                Err(_) => {
                    bad(row);
                    None
                }
            })
        })
        .collect();
    StringChunked::new(binary.name().clone(), values)
}

/// One row of a [`Table`], seen as a flat row.
struct Row<'a> {
    table: &'a Table,
    index: usize,
}

impl Cells for Row<'_> {
    fn cell(&self, column: usize) -> Option<&str> {
        let i = self.table.flat[column]?;
        self.table.columns[i].1.get(self.index)
    }

    fn oversized(&self) -> Option<(&str, usize)> {
        self.table.by_name.iter().find_map(|(name, i)| {
            let length = self.table.columns[*i].1.get(self.index).map_or(0, str::len);
            (length > MAX_CELL_BYTES).then_some((name.as_str(), length))
        })
    }
}

impl Validator<'_> {
    /// Reads the flat format from a Parquet file held in memory, validating
    /// rows in batches on every core; a row's line is its 1-based position.
    /// A file polars cannot read is one rejection with line 0.
    pub(super) fn read_parquet(&self, source: &str, bytes: &[u8]) -> Ingested {
        let table = match Table::read(bytes) {
            Ok(table) => table,
            Err(reason) => return file_rejected(source, reason),
        };
        let mut out = Ingested {
            rows_read: table.height,
            ..Ingested::default()
        };
        let mut next = 0;
        ordered::in_order(
            ordered::worker_threads(),
            || 0..0,
            |rows: &mut std::ops::Range<usize>| {
                *rows = next..(next + ordered::BATCH_ROWS).min(table.height);
                next = rows.end;
                rows.start < rows.end
            },
            |rows| {
                rows.clone()
                    .map(|index| -> Outcome {
                        let line = index as u64 + 1;
                        if let Some(column) = table.not_utf8.get(&index) {
                            return Err(Rejection::new(
                                source,
                                line,
                                Some(column),
                                "cell is not valid UTF-8",
                            ));
                        }
                        let row = Row {
                            table: &table,
                            index,
                        };
                        self.cells_row(&row, source, line).map(|p| (p, line))
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
}

/// Writes providers as a Parquet file of the flat format: one UTF-8 column
/// per flat column (empty cells as nulls), Snappy-compressed, in row
/// groups of 65,536 rows.
///
/// # Errors
/// [`ParquetWriteError`] when polars cannot write to `writer`.
pub fn write<W: std::io::Write + Send>(
    writer: W,
    providers: &[Provider],
) -> Result<(), ParquetWriteError> {
    let frame = |chunk: &[Provider]| -> Result<DataFrame, ParquetWriteError> {
        let rows: Vec<Vec<String>> = chunk.iter().map(to_flat_row).collect();
        let columns: Vec<Column> = FLAT_COLUMNS
            .iter()
            .enumerate()
            .map(|(c, name)| {
                let cells: Vec<Option<&str>> = rows
                    .iter()
                    .map(|row| row.get(c).map(String::as_str).filter(|s| !s.is_empty()))
                    .collect();
                Series::new((*name).into(), cells).into_column()
            })
            .collect();
        Ok(DataFrame::new(chunk.len(), columns)?)
    };
    let first = frame(&providers[..0])?;
    let mut file = ParquetWriter::new(writer)
        .with_compression(ParquetCompression::Snappy)
        .batched(first.schema())?;
    for chunk in providers.chunks(ROW_GROUP_ROWS) {
        file.write_batch(&frame(chunk)?)?;
    }
    file.finish()?;
    Ok(())
}
