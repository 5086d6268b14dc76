//! The input files of a data directory (`--data`): an `ingest --out`
//! folder, or a folder of directory files.

use super::{Format, PROVIDERS_FILE};
use std::path::{Path, PathBuf};

/// Why a data directory gives no input files.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// The folder could not be listed.
    #[error("reading data directory {}", dir.display())]
    Read {
        /// The folder.
        dir: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The folder holds no file of a supported format.
    #[error("no .csv, .json, .ndjson or .geojson files in {}", dir.display())]
    Empty {
        /// The folder.
        dir: PathBuf,
    },
}

/// The input files of data directory `dir`: its [`PROVIDERS_FILE`] if it
/// is an ingest output, else every file in it whose extension names a
/// supported [`Format`], sorted by path.
///
/// # Errors
/// [`DataDirError::Read`] when `dir` cannot be listed,
/// [`DataDirError::Empty`] when it holds no supported file.
pub fn data_files(dir: &Path) -> Result<Vec<PathBuf>, DataDirError> {
    let normalised = dir.join(PROVIDERS_FILE);
    if normalised.is_file() {
        return Ok(vec![normalised]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| DataDirError::Read {
            dir: dir.to_owned(),
            source,
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| Format::from_path(path).is_ok())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(DataDirError::Empty {
            dir: dir.to_owned(),
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_folder_is_named_in_the_error() {
        let dir = std::env::temp_dir().join(format!("refmatch-data-dir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), "not a directory file").unwrap();
        let error = data_files(&dir).unwrap_err();
        assert!(matches!(error, DataDirError::Empty { .. }), "{error}");
        std::fs::write(dir.join("b.csv"), "").unwrap();
        std::fs::write(dir.join("a.ndjson"), "").unwrap();
        assert_eq!(
            data_files(&dir).unwrap(),
            vec![dir.join("a.ndjson"), dir.join("b.csv")]
        );
        std::fs::write(dir.join(PROVIDERS_FILE), "").unwrap();
        assert_eq!(data_files(&dir).unwrap(), vec![dir.join(PROVIDERS_FILE)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
