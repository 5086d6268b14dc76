//! A directory from files in one step: read, validate, index. The command
//! line's `match --data` and `coverage` read their directory this way.

use super::{Directory, IndexError, IndexOptions};
use crate::gazetteer::Gazetteer;
use crate::ingest::{data_files, DataDirError, Validator};
use crate::model::Vocabulary;
use std::path::Path;

/// Why [`Directory::load`] gave no directory.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The data directory gives no input files.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The providers could not be indexed.
    #[error(transparent)]
    Index(#[from] IndexError),
}

impl Directory {
    /// Reads, validates and indexes the directory in `data` (an
    /// `ingest --out` folder or a folder of input files, see
    /// [`data_files`]), or the bundled data when `data` is `None`.
    /// Rejected rows are left out, with a warning giving their number.
    ///
    /// # Errors
    /// [`LoadError::DataDir`] when `data` gives no input files,
    /// [`LoadError::Index`] when `options` are not valid.
    pub fn load(
        gazetteer: &Gazetteer,
        vocabulary: &Vocabulary,
        data: Option<&Path>,
        options: IndexOptions,
    ) -> Result<Directory, LoadError> {
        let validator = Validator::new(gazetteer, vocabulary);
        let mut ingested = match data {
            Some(dir) => validator.read_files(&data_files(dir)?),
            None => validator.read_bundled(),
        };
        ingested.warn_rejected();
        Ok(Directory::build_from(&mut ingested, gazetteer, options)?)
    }
}
