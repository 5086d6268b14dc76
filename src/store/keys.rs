//! API key administration from the machine that holds the store
//! (`refmatch keys create/list/revoke`): opening the store only where one
//! is meant to be, and checking a new key's role and name. The keys
//! themselves are kept by [`Store`] (only their SHA-256).

use super::{Actor, ApiKey, SqliteStore, Store, StoreError};
use crate::model::Role;
use std::path::{Path, PathBuf};

/// Why the key store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// There is no store at the path, and none was to be created.
    #[error(
        "there is no store at {}: run this where `refmatch serve` keeps its store, pass --store PATH, \
         or add --init to `keys create` to start a new one",
        path.display()
    )]
    Missing {
        /// Where the store was looked for.
        path: PathBuf,
    },
    /// The store could not be opened.
    #[error("opening the store {}", path.display())]
    Open {
        /// The store's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: StoreError,
    },
}

/// Fails unless a store exists at `path`: key administration never makes
/// a new empty store by accident (a key in it would be unknown to the
/// server, whose store is elsewhere). Call it before
/// [`open_key_store`] unless a new store is wanted.
///
/// # Errors
/// [`KeyStoreError::Missing`] when nothing is at `path`.
pub fn require_store(path: &Path) -> Result<(), KeyStoreError> {
    if path.exists() {
        Ok(())
    } else {
        Err(KeyStoreError::Missing {
            path: path.to_owned(),
        })
    }
}

/// Opens the store at `path` (creating it when there is none).
///
/// # Errors
/// [`KeyStoreError::Open`] with the store's error.
pub fn open_key_store(path: &Path) -> Result<SqliteStore, KeyStoreError> {
    SqliteStore::open(path).map_err(|source| KeyStoreError::Open {
        path: path.to_owned(),
        source,
    })
}

/// Why a key may not be issued as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewKeyError {
    /// The role is not one a key is issued for.
    #[error("a key's role must be advocate or admin, got '{0}'")]
    Role(String),
    /// The name is empty.
    #[error("a key's name must say who the key is for")]
    EmptyName,
}

/// A key to issue, checked: a staff role (advocate or admin: the public
/// needs no key) and a name, trimmed, saying who the key is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    name: String,
    role: Role,
}

impl NewKey {
    /// Checks `role` (`advocate` or `admin`, as [`Role::parse`] reads
    /// them) and `name` (not blank).
    ///
    /// # Errors
    /// [`NewKeyError::Role`] for another role, [`NewKeyError::EmptyName`]
    /// for a blank name; the role is checked first.
    ///
    /// # Examples
    /// ```
    /// use refmatch::store::keys::{NewKey, NewKeyError};
    /// assert!(NewKey::parse("advocate", " hotline desk ").is_ok());
    /// assert_eq!(
    ///     NewKey::parse("public", "x"),
    ///     Err(NewKeyError::Role("public".to_owned()))
    /// );
    /// ```
    pub fn parse(role: &str, name: &str) -> Result<NewKey, NewKeyError> {
        let role = match Role::parse(role) {
            Some(role @ (Role::Advocate | Role::Admin)) => role,
            _ => return Err(NewKeyError::Role(role.to_owned())),
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(NewKeyError::EmptyName);
        }
        Ok(NewKey {
            name: name.to_owned(),
            role,
        })
    }

    /// Issues the key in `store`, audited as done by `operator`; returns
    /// it with its secret, which is shown once and never stored.
    ///
    /// # Errors
    /// The store's error.
    pub fn issue(
        &self,
        store: &mut dyn Store,
        operator: &Actor<'_>,
    ) -> Result<(ApiKey, String), StoreError> {
        store.create_key(&self.name, self.role, operator)
    }
}
