//! The store of record: the live, confidential directory and everything
//! done to it.
//!
//! An embedded SQLite database ([`SqliteStore`]) is the one backend today;
//! it sits behind the small [`Store`] trait so that another can be added.
//! The store keeps, besides the current version of every record:
//! - the **history** of every record (each version, with the record before
//!   and after, who changed it and when);
//! - an append-only **audit** log of every edit, every decision on a
//!   submission, every new API key and every read of confidential records;
//! - the **submissions** queue (records proposed by the public or partners,
//!   approved or rejected by a reviewer);
//! - **API keys**, of which only the SHA-256 of the secret is kept;
//! - **referrals** (staff records of who was referred where, never who the
//!   caller is: the place is a region key), with their status history and
//!   notes, and the anonymous **unmet-need log**.
//!
//! Deletion is soft: a deleted record stays (inactive), with its history,
//! and updating it restores it. Every edit takes an optional expected
//! version (optimistic concurrency): two editors cannot silently overwrite
//! each other.

pub mod files;
pub mod keys;
mod sqlite;
#[cfg(test)]
mod tests;

pub use sqlite::SqliteStore;

use crate::model::referral::{
    DayCounts, NewReferral, Referral, ReferralQuery, Status, StatusChange, UnmetEvent,
};
use crate::model::{Provider, Role};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One record as stored: the provider and its bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stored {
    /// The record itself (as last written, also when deleted).
    pub provider: Provider,
    /// Version, 1 when created, incremented by every change.
    pub version: u64,
    /// False once deleted (soft delete); updating restores it.
    pub active: bool,
    /// When the last change was made.
    pub updated_at: jiff::Timestamp,
    /// Who made the last change ([`Actor::name`]).
    pub updated_by: String,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ImportCounts {
    /// Records whose id was not stored before.
    pub created: usize,
    /// Records that replaced (or restored) a stored record.
    pub updated: usize,
    /// Records equal to the stored active version: not written.
    pub unchanged: usize,
}

/// One version of one record, in its history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// Position in the store's history (increasing).
    pub seq: u64,
    /// The record's id.
    pub provider_id: String,
    /// The version this change produced.
    pub version: u64,
    /// `seed`, `create`, `update`, `delete`, `restore`, `import` or `approve`.
    pub action: String,
    /// When.
    pub at: jiff::Timestamp,
    /// Who ([`Actor::name`]).
    pub actor: String,
    /// The record before the change (`None` when it was new).
    pub before: Option<Provider>,
    /// The record after the change (`None` when deleted).
    pub after: Option<Provider>,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Position in the log (increasing, never reused).
    pub seq: u64,
    /// When.
    pub at: jiff::Timestamp,
    /// Who ([`Actor::name`]).
    pub actor: String,
    /// The actor's role at the time.
    pub role: Role,
    /// `seed`, `create`, `update`, `delete`, `restore`, `import`, `approve`,
    /// `reject`, `submit`, `read_confidential`, `key_create` or `key_revoke`.
    pub action: String,
    /// The record concerned, when there is one.
    pub provider_id: Option<String>,
    /// The record (or submission) before, as JSON.
    pub before: Option<serde_json::Value>,
    /// The record (or submission) after, as JSON.
    pub after: Option<serde_json::Value>,
    /// Anything else worth keeping (a count, a reason, the route of a read).
    pub detail: Option<String>,
}

/// Where a submission stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    /// Waiting for a reviewer.
    Pending,
    /// Accepted: the record was created.
    Approved,
    /// Refused, with a reason.
    Rejected,
}

impl SubmissionStatus {
    /// The snake_case code used on the wire and in the database.
    pub fn code(self) -> &'static str {
        match self {
            SubmissionStatus::Pending => "pending",
            SubmissionStatus::Approved => "approved",
            SubmissionStatus::Rejected => "rejected",
        }
    }

    /// Parses `pending`, `approved` or `rejected` (case-insensitive).
    pub fn parse(text: &str) -> Option<SubmissionStatus> {
        match text.trim().to_ascii_lowercase().as_str() {
            "pending" => Some(SubmissionStatus::Pending),
            "approved" => Some(SubmissionStatus::Approved),
            "rejected" => Some(SubmissionStatus::Rejected),
            _ => None,
        }
    }
}

impl fmt::Display for SubmissionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A proposed record, waiting for (or after) review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Submission {
    /// Submission number (increasing).
    pub id: u64,
    /// When it arrived.
    pub received_at: jiff::Timestamp,
    /// Who sent it ([`Actor::name`]).
    pub from: String,
    /// The record as submitted.
    pub record: Provider,
    /// Pending, approved or rejected.
    pub status: SubmissionStatus,
    /// When it was decided.
    pub decided_at: Option<jiff::Timestamp>,
    /// Who decided it.
    pub decided_by: Option<String>,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The record created on approval.
    pub provider_id: Option<String>,
}

/// An API key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    /// Key number.
    pub id: u64,
    /// Whom the key was issued to.
    pub name: String,
    /// What the key may do.
    pub role: Role,
    /// First 8 characters of the secret, for logs and listings.
    pub prefix: String,
    /// When it was created.
    pub created_at: jiff::Timestamp,
    /// The record ids a [`Role::Provider`] key may change the capacity
    /// and hours of; empty for every other role.
    pub records: Vec<String>,
}

/// Who does an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor<'a> {
    /// A name for the log, such as `key:alice#3` or `public@127.0.0.1`.
    pub name: &'a str,
    /// The role the action is done with.
    pub role: Role,
}

impl<'a> Actor<'a> {
    /// An actor named `name` with role `role`.
    pub fn new(name: &'a str, role: Role) -> Self {
        Actor { name, role }
    }
}

/// A staff read of confidential records, to be audited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfidentialRead {
    /// Who read (as [`Actor::name`]).
    pub actor: String,
    /// With which role.
    pub role: Role,
    /// The confidential records read.
    pub ids: Vec<String>,
    /// The route or command that read them.
    pub via: String,
}

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No record or submission with that id.
    #[error("{0} does not exist: check the id (a deleted record is still found by its id)")]
    NotFound(String),
    /// A record with that id exists, active or deleted.
    #[error(
        "a record with id {0:?} already exists (active or deleted): update it (PUT) to change \
         or restore it, or choose another id"
    )]
    Conflict(String),
    /// The caller's expected version is not the current one.
    #[error(
        "record {id:?} was changed by someone else and is now at version {current}: fetch it \
         again, reapply your change and send it with version {current}"
    )]
    Stale {
        /// The record's id.
        id: String,
        /// Its current version.
        current: u64,
    },
    /// The submission is no longer pending.
    #[error(
        "submission {id} was already {status}: only a pending submission can be approved or \
         rejected"
    )]
    AlreadyDecided {
        /// The submission.
        id: u64,
        /// Its status.
        status: SubmissionStatus,
    },
    /// The referral lifecycle does not allow this change.
    #[error(
        "referral {id} is {from} and cannot become {to}: {}",
        allowed_next(*from)
    )]
    InvalidTransition {
        /// The referral.
        id: u64,
        /// Its status.
        from: Status,
        /// The status asked for.
        to: Status,
    },
    /// SQLite failed.
    #[error(
        "the database failed: {0}; check the disk, its free space and file permissions, then retry"
    )]
    Database(#[from] rusqlite::Error),
    /// Something stored does not parse.
    #[error(
        "stored data does not parse ({0}): the database is damaged or was edited by hand; run \
         an integrity check and restore from a backup"
    )]
    Corrupt(String),
    /// The database's directory could not be created.
    #[error("could not prepare the database location: {0}; check the path and permissions")]
    Io(#[from] std::io::Error),
    /// The schema could not be brought up to date.
    #[error("database schema: {0}")]
    Migration(String),
    /// The system random number generator failed (making a key).
    #[error(
        "the system random number generator failed: {0}; retry, and check the operating \
         system's entropy source"
    )]
    Random(String),
}

/// What a referral in `from` may become, in words.
fn allowed_next(from: Status) -> String {
    let next: Vec<&str> = from.next().iter().map(|s| s.code()).collect();
    if next.is_empty() {
        format!("{from} ends the lifecycle (sent → accepted | declined | cancelled; accepted → completed | no_contact | cancelled)")
    } else {
        format!("from {from} it may become {}", next.join(", "))
    }
}

/// The store of record. Every edit writes the record, its history and the
/// audit log in one transaction: all or nothing.
pub trait Store: Send {
    /// True when no provider was ever stored (a new database to seed).
    fn is_empty(&self) -> Result<bool, StoreError>;

    /// Stores `providers` as version 1 in one transaction (history action
    /// `seed`, one audit entry `seed` with detail `N records`). Returns the
    /// count. [`StoreError::Conflict`] (and nothing stored) if an id exists
    /// or repeats.
    fn seed(&mut self, providers: &[Provider], actor: &Actor<'_>) -> Result<usize, StoreError>;

    /// Every active record, in id order.
    fn active(&self) -> Result<Vec<Stored>, StoreError>;

    /// One record, active or not.
    fn get(&self, id: &str) -> Result<Option<Stored>, StoreError>;

    /// A new record (version 1). [`StoreError::Conflict`] if the id exists.
    fn create(&mut self, provider: &Provider, actor: &Actor<'_>) -> Result<Stored, StoreError>;

    /// Replaces record `provider.id`. `expected` is the version the caller
    /// last saw (`None`: no check). [`StoreError::NotFound`] if absent,
    /// [`StoreError::Stale`] if `expected` is not the current version. A
    /// deleted record becomes active again (action `restore`). The version
    /// is incremented.
    fn update(
        &mut self,
        provider: &Provider,
        expected: Option<u64>,
        actor: &Actor<'_>,
    ) -> Result<Stored, StoreError>;

    /// Soft delete: inactive, version incremented, history kept (action
    /// `delete`). NotFound and Stale as for [`Store::update`]; deleting a
    /// deleted record is [`StoreError::NotFound`].
    fn deactivate(
        &mut self,
        id: &str,
        expected: Option<u64>,
        actor: &Actor<'_>,
    ) -> Result<Stored, StoreError>;

    /// Upserts many records in one transaction (action `import` for each
    /// changed record; records equal to the stored active version are
    /// counted unchanged and not written; deleted records are restored).
    fn import(
        &mut self,
        providers: &[Provider],
        actor: &Actor<'_>,
    ) -> Result<ImportCounts, StoreError>;

    /// Every version of a record, oldest first (empty when unknown).
    fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, StoreError>;

    /// Appends one `read_confidential` audit entry per id (detail: `via`,
    /// the route or command that read them), in one transaction.
    fn record_reads(
        &mut self,
        actor: &Actor<'_>,
        ids: &[&str],
        via: &str,
    ) -> Result<(), StoreError> {
        self.record_read_batch(&[ConfidentialRead {
            actor: actor.name.to_owned(),
            role: actor.role,
            ids: ids.iter().map(|id| (*id).to_owned()).collect(),
            via: via.to_owned(),
        }])
    }

    /// Appends the audit entries of several reads (one `read_confidential`
    /// entry per id, in order) in one transaction: one commit, one sync
    /// to disk, for the reads of every request waiting at that moment.
    fn record_read_batch(&mut self, reads: &[ConfidentialRead]) -> Result<(), StoreError>;

    /// Audit entries with `seq > after`, oldest first, at most `limit`.
    fn audit(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;

    /// Queues a submission (status pending); audit `submit`.
    fn submit(&mut self, record: &Provider, from: &Actor<'_>) -> Result<Submission, StoreError>;

    /// Submissions, newest first, optionally only those with one status.
    fn submissions(&self, status: Option<SubmissionStatus>) -> Result<Vec<Submission>, StoreError>;

    /// One submission.
    fn submission(&self, id: u64) -> Result<Option<Submission>, StoreError>;

    /// Approves a pending submission: creates `record` (the validated
    /// record, usually the submitted one) and marks the submission approved
    /// with its provider id, in one transaction (audit `approve`).
    /// [`StoreError::Conflict`] if the id exists,
    /// [`StoreError::AlreadyDecided`] if not pending,
    /// [`StoreError::NotFound`] if absent.
    fn approve(
        &mut self,
        id: u64,
        record: &Provider,
        actor: &Actor<'_>,
    ) -> Result<(Submission, Stored), StoreError>;

    /// Rejects a pending submission with a reason (audit `reject`).
    /// [`StoreError::AlreadyDecided`] if not pending,
    /// [`StoreError::NotFound`] if absent.
    fn reject(
        &mut self,
        id: u64,
        reason: &str,
        actor: &Actor<'_>,
    ) -> Result<Submission, StoreError>;

    /// Creates an API key; returns it with its secret, which is not stored
    /// (only its SHA-256). Audit `key_create` (detail: name and role, never
    /// the secret). As [`Store::create_key_for`] with no records.
    fn create_key(
        &mut self,
        name: &str,
        role: Role,
        actor: &Actor<'_>,
    ) -> Result<(ApiKey, String), StoreError> {
        self.create_key_for(name, role, &[], actor)
    }

    /// Creates an API key bound to `records` (a [`Role::Provider`] key's
    /// own records; empty for other roles); returns it with its secret,
    /// which is not stored (only its SHA-256). Audit `key_create` (detail:
    /// name, role and records, never the secret).
    fn create_key_for(
        &mut self,
        name: &str,
        role: Role,
        records: &[String],
        actor: &Actor<'_>,
    ) -> Result<(ApiKey, String), StoreError>;

    /// The key whose secret this is; `None` when unknown or revoked.
    fn find_key(&self, secret: &str) -> Result<Option<ApiKey>, StoreError>;

    /// A reader of API keys with a connection of its own, so that checking
    /// a key never waits for a write in progress (the live directory
    /// serialises writes behind one lock). `None` when the backend cannot
    /// open one (an in-memory database): keys are then read through the
    /// store itself.
    fn key_reader(&self) -> Result<Option<Box<dyn KeyReader>>, StoreError> {
        Ok(None)
    }

    /// A reader with a connection of its own for every read the live
    /// directory serves (records, history, audit, submissions, keys), so
    /// that a read never waits for a write in progress: the writer keeps
    /// this store, readers see the last commit. Each call opens another.
    /// `None` when the backend cannot (an in-memory database): reads then
    /// go through the store itself.
    fn reader(&self) -> Result<Option<Box<dyn StoreReader + Send>>, StoreError> {
        Ok(None)
    }

    /// Every key ever issued, oldest first, with whether it was revoked.
    fn keys(&self) -> Result<Vec<KeyListing>, StoreError>;

    /// Revokes key `id`: its secret is refused from then on (a running
    /// server stops accepting it once its key cache entry expires). Audit
    /// `key_revoke`. Returns the key; `false` when it was already revoked
    /// (nothing is changed or logged then). [`StoreError::NotFound`] when
    /// there is no such key.
    fn revoke_key(&mut self, id: u64, actor: &Actor<'_>) -> Result<(ApiKey, bool), StoreError>;

    /// Stores a new referral (status `sent`, its first history entry, its
    /// note if any) with audit `referral_create`, in one transaction.
    fn create_referral(
        &mut self,
        new: &NewReferral,
        actor: &Actor<'_>,
    ) -> Result<Referral, StoreError>;

    /// Changes referral `id`'s status with a history entry and audit
    /// `referral_status`; a decline is also written to the unmet-need log
    /// (region, need codes, hour, reason), all in one transaction. Returns
    /// the referral before and after. [`StoreError::NotFound`] when there
    /// is no such referral, [`StoreError::InvalidTransition`] when the
    /// lifecycle does not allow the change (nothing is written).
    fn change_referral(
        &mut self,
        id: u64,
        change: &StatusChange,
        actor: &Actor<'_>,
    ) -> Result<(Referral, Referral), StoreError>;

    /// Adds a note to referral `id` (audit `referral_note`).
    /// [`StoreError::NotFound`] when there is no such referral.
    fn note_referral(
        &mut self,
        id: u64,
        text: &str,
        actor: &Actor<'_>,
    ) -> Result<Referral, StoreError>;

    /// Appends anonymous unmet-need events in one transaction.
    fn record_unmet(&mut self, events: &[UnmetEvent]) -> Result<(), StoreError>;

    /// Referral counts per provider and creation day (days since
    /// 1970-01-01, UTC) of the referrals made on or after `since`: what
    /// the live directory keeps in memory for acceptance rates.
    fn referral_counts(
        &self,
        since: jiff::civil::Date,
    ) -> Result<Vec<(String, i32, DayCounts)>, StoreError>;

    /// One referral with its notes and history.
    fn referral(&self, id: u64) -> Result<Option<Referral>, StoreError>;

    /// A page of referrals, newest first.
    fn referrals(&self, query: &ReferralQuery) -> Result<Vec<Referral>, StoreError>;

    /// Every unmet-need event, oldest first.
    fn unmet(&self) -> Result<Vec<UnmetEvent>, StoreError>;
}

/// Looks up API keys apart from the store's writer (see
/// [`Store::key_reader`]).
pub trait KeyReader: Send {
    /// As [`Store::find_key`]: the key whose secret this is; `None` when
    /// unknown or revoked.
    fn find_key(&self, secret: &str) -> Result<Option<ApiKey>, StoreError>;
}

/// The reads of a [`Store`], apart from its writer (see [`Store::reader`]).
/// Each method answers as the [`Store`] method of the same name, from the
/// last commit.
pub trait StoreReader {
    /// As [`Store::get`]: one record, active or not.
    fn get(&self, id: &str) -> Result<Option<Stored>, StoreError>;

    /// As [`Store::history`]: every version of a record, oldest first.
    fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, StoreError>;

    /// As [`Store::audit`]: entries with `seq > after`, at most `limit`.
    fn audit(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;

    /// As [`Store::submissions`]: newest first, optionally of one status.
    fn submissions(&self, status: Option<SubmissionStatus>) -> Result<Vec<Submission>, StoreError>;

    /// As [`Store::submission`]: one submission.
    fn submission(&self, id: u64) -> Result<Option<Submission>, StoreError>;

    /// As [`Store::keys`]: every key issued, oldest first.
    fn keys(&self) -> Result<Vec<KeyListing>, StoreError>;

    /// As [`Store::referral`]: one referral.
    fn referral(&self, id: u64) -> Result<Option<Referral>, StoreError>;

    /// As [`Store::referrals`]: a page of referrals, newest first.
    fn referrals(&self, query: &ReferralQuery) -> Result<Vec<Referral>, StoreError>;

    /// As [`Store::unmet`]: every unmet-need event, oldest first.
    fn unmet(&self) -> Result<Vec<UnmetEvent>, StoreError>;
}

/// A key as listed for administrators: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyListing {
    /// The key.
    #[serde(flatten)]
    pub key: ApiKey,
    /// True once revoked.
    pub revoked: bool,
}

/// Prefix of every API key secret.
pub const KEY_PREFIX: &str = "rmk_";

/// A new secret: [`KEY_PREFIX`] and 40 lowercase hex digits (160 random
/// bits from the operating system).
fn new_secret() -> Result<String, StoreError> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Random(e.to_string()))?;
    let mut secret = String::with_capacity(KEY_PREFIX.len() + 40);
    secret.push_str(KEY_PREFIX);
    secret.push_str(&hex(&bytes));
    Ok(secret)
}

/// The SHA-256 of `secret`, as 64 lowercase hex digits: what the key
/// table stores instead of the secret.
pub fn hash_secret(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Lowercase hex digits of `bytes`.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}
