//! One file of providers in the format its extension names (`refmatch
//! generate`): `.csv` and `.parquet` flat, `.ndjson`/`.jsonl` normalised
//! lines, `.json` HSDS 3.1.

use super::{hsds, parquet, write_flat_csv, Format};
use crate::model::Provider;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why a provider file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ProviderFileError {
    /// The file could not be created.
    #[error("creating {}", path.display())]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The extension names no format (the message lists the known ones).
    #[error("{0}")]
    Extension(String),
    /// GeoJSON is read, never written.
    #[error("providers are written as .csv, .parquet, .ndjson or .json, not .geojson")]
    GeoJson,
    /// Writing the flat CSV failed.
    #[error(transparent)]
    Csv(#[from] csv::Error),
    /// Writing JSON failed.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Writing Parquet failed.
    #[error(transparent)]
    Parquet(#[from] super::parquet::ParquetWriteError),
    /// Writing the file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Writes `providers` to a new file at `path` in the format its
/// extension names: `.csv` flat, `.parquet` flat, `.ndjson`/`.jsonl` one
/// normalised provider a line, `.json` an HSDS 3.1 export. The file is
/// created (emptied) before the extension is checked.
///
/// # Errors
/// [`ProviderFileError::Create`] when the file cannot be created,
/// [`ProviderFileError::Extension`] or [`ProviderFileError::GeoJson`] for
/// an extension that is not written, and the writer's error otherwise.
pub fn write_provider_file(path: &Path, providers: &[Provider]) -> Result<(), ProviderFileError> {
    let file = std::fs::File::create(path).map_err(|source| ProviderFileError::Create {
        path: path.to_owned(),
        source,
    })?;
    let mut out = std::io::BufWriter::new(file);
    match Format::from_path(path).map_err(ProviderFileError::Extension)? {
        Format::Csv => write_flat_csv(&mut out, providers)?,
        Format::Ndjson => {
            for provider in providers {
                serde_json::to_writer(&mut out, provider)?;
                writeln!(out)?;
            }
        }
        Format::Json => serde_json::to_writer_pretty(&mut out, &hsds::export(providers))?,
        Format::Parquet => parquet::write(&mut out, providers)?,
        Format::GeoJson => return Err(ProviderFileError::GeoJson),
    }
    out.flush()?;
    Ok(())
}
