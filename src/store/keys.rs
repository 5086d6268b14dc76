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
    #[error("a key's role must be provider, advocate or admin, got '{0}'")]
    Role(String),
    /// The name is empty.
    #[error("a key's name must say who the key is for")]
    EmptyName,
    /// A provider key names no record.
    #[error("a provider key must name the records it may change (--records id1,id2)")]
    NoRecords,
    /// Records were given for a staff key, which is bound to none.
    #[error("only a provider key is bound to records; a {0} key takes no --records")]
    RecordsForStaff(Role),
    /// A record id is blank or too long.
    #[error("record id {0:?} must be 1 to 200 printable characters")]
    RecordId(String),
}

/// A key to issue, checked: a role (provider, advocate or admin: the
/// public needs no key), a name, trimmed, saying who the key is for, and
/// for a provider key the records it may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    name: String,
    role: Role,
    records: Vec<String>,
}

impl NewKey {
    /// Checks `role` (`provider`, `advocate` or `admin`, as
    /// [`Role::parse`] reads them; a provider key needs records, see
    /// [`NewKey::parse_for`]) and `name` (not blank).
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
        NewKey::parse_for(role, name, &[])
    }

    /// As [`NewKey::parse`], and `records`: the record ids a `provider`
    /// key may change (trimmed, blanks dropped, repeats removed; at least
    /// one), none for a staff key.
    ///
    /// # Errors
    /// As [`NewKey::parse`], then [`NewKeyError::NoRecords`],
    /// [`NewKeyError::RecordsForStaff`] or [`NewKeyError::RecordId`].
    ///
    /// # Examples
    /// ```
    /// use refmatch::store::keys::{NewKey, NewKeyError};
    /// let ids = ["casa-x".to_owned(), " casa-y ".to_owned()];
    /// assert!(NewKey::parse_for("provider", "Casa X desk", &ids).is_ok());
    /// assert_eq!(NewKey::parse_for("provider", "Casa X desk", &[]), Err(NewKeyError::NoRecords));
    /// ```
    pub fn parse_for(role: &str, name: &str, records: &[String]) -> Result<NewKey, NewKeyError> {
        let role = match Role::parse(role) {
            Some(role @ (Role::Provider | Role::Advocate | Role::Admin)) => role,
            _ => return Err(NewKeyError::Role(role.to_owned())),
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(NewKeyError::EmptyName);
        }
        let mut ids: Vec<String> = Vec::new();
        for id in records.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
            if id.len() > 200 || id.chars().any(char::is_control) {
                return Err(NewKeyError::RecordId(id.to_owned()));
            }
            if !ids.iter().any(|known| known == id) {
                ids.push(id.to_owned());
            }
        }
        match (role, ids.is_empty()) {
            (Role::Provider, true) => return Err(NewKeyError::NoRecords),
            (Role::Advocate | Role::Admin, false) => {
                return Err(NewKeyError::RecordsForStaff(role))
            }
            _ => {}
        }
        Ok(NewKey {
            name: name.to_owned(),
            role,
            records: ids,
        })
    }

    /// Issues the key in `store`, audited as done by `operator`; returns
    /// it with its secret, which is shown once and never stored.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] naming a record of a provider key that the
    /// store does not hold (nothing is issued then); the store's error.
    pub fn issue(
        &self,
        store: &mut dyn Store,
        operator: &Actor<'_>,
    ) -> Result<(ApiKey, String), StoreError> {
        for id in &self.records {
            if store.get(id)?.is_none() {
                return Err(StoreError::NotFound(format!("record {id:?}")));
            }
        }
        store.create_key_for(&self.name, self.role, &self.records, operator)
    }
}
