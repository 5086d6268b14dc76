//! The flat format as Apache Parquet: one optional UTF-8 column per flat
//! column ([`FLAT_COLUMNS`]); an empty cell is a null. Numeric or boolean
//! columns written by other tools are read as their text.
//!
//! This uses the `parquet` crate's record API without Arrow, which keeps
//! the build light (polars is kept for the coverage tables).

use super::validate::{to_flat_row, FlatRow, FLAT_COLUMNS};
use super::{file_rejected, Ingested, Rejection, Validator};
use crate::model::Provider;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::Field;
use parquet::schema::parser::parse_message_type;
use std::sync::Arc;

/// Rows per row group when writing.
const ROW_GROUP_ROWS: usize = 65_536;

/// Reads every row of a Parquet file as flat rows, or the reason the file
/// cannot be read. A row that fails to decode ends the file with an error
/// naming its 1-based position.
pub(super) fn read_rows(bytes: &[u8]) -> Result<Vec<FlatRow>, (u64, String)> {
    let reader = SerializedFileReader::new(bytes::Bytes::copy_from_slice(bytes))
        .map_err(|e| (0, format!("not a readable Parquet file: {e}")))?;
    let rows = reader
        .get_row_iter(None)
        .map_err(|e| (0, format!("cannot read Parquet rows: {e}")))?;
    let mut out = Vec::new();
    for (index, row) in rows.enumerate() {
        let row = row.map_err(|e| (index as u64 + 1, format!("cannot decode row: {e}")))?;
        let mut flat = FlatRow::new();
        for (name, field) in row.get_column_iter() {
            let text = match field {
                Field::Null => continue,
                Field::Str(s) => s.clone(),
                Field::Bytes(b) => match std::str::from_utf8(b.data()) {
                    Ok(s) => s.to_owned(),
                    Err(_) => {
                        return Err((index as u64 + 1, format!("column {name} is not UTF-8")))
                    }
                },
                other => other.to_string(),
            };
            flat.insert(name.to_ascii_lowercase(), text);
        }
        out.push(flat);
    }
    Ok(out)
}

/// Writes providers as a Parquet file of the flat format (Snappy-compressed).
///
/// # Errors
/// The Parquet error when writing fails.
pub fn write<W: std::io::Write + Send>(
    writer: W,
    providers: &[Provider],
) -> Result<(), parquet::errors::ParquetError> {
    let fields: Vec<String> = FLAT_COLUMNS
        .iter()
        .map(|c| format!("OPTIONAL BYTE_ARRAY {c} (UTF8);"))
        .collect();
    let schema = Arc::new(parse_message_type(&format!(
        "message provider {{ {} }}",
        fields.join(" ")
    ))?);
    let properties = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let mut file = SerializedFileWriter::new(writer, schema, properties)?;
    for chunk in providers.chunks(ROW_GROUP_ROWS) {
        let rows: Vec<Vec<String>> = chunk.iter().map(to_flat_row).collect();
        let mut group = file.next_row_group()?;
        let mut column_index = 0;
        while let Some(mut column) = group.next_column()? {
            let mut values = Vec::with_capacity(rows.len());
            let mut definition_levels = Vec::with_capacity(rows.len());
            for row in &rows {
                let cell = row
                    .get(column_index)
                    .map(String::as_str)
                    .unwrap_or_default();
                if cell.is_empty() {
                    definition_levels.push(0);
                } else {
                    definition_levels.push(1);
                    values.push(ByteArray::from(cell));
                }
            }
            column
                .typed::<ByteArrayType>()
                .write_batch(&values, Some(&definition_levels), None)?;
            column.close()?;
            column_index += 1;
        }
        group.close()?;
    }
    file.close()?;
    Ok(())
}

impl Validator<'_> {
    /// Reads the flat format from a Parquet file held in memory; a row's
    /// line is its 1-based position.
    pub(super) fn read_parquet(&self, source: &str, bytes: &[u8]) -> Ingested {
        let (rows, failure) = match read_rows(bytes) {
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
}
