//! The SQLite backend: one database file (plus its WAL), opened by one
//! process at a time in practice, safe for several.
//!
//! Records are stored as their serde JSON text; timestamps as RFC 3339 text.
//! Every edit runs in one `BEGIN IMMEDIATE` transaction (the write lock is
//! taken up front, so a concurrent writer waits on the busy timeout instead
//! of failing half-way), writing the record, its history row and its audit
//! row together.

use super::{
    hash_secret, new_secret, Actor, ApiKey, AuditEntry, ConfidentialRead, HistoryEntry,
    ImportCounts, KeyListing, KeyReader, Store, StoreError, StoreReader, Stored, Submission,
    SubmissionStatus, KEY_PREFIX,
};
use crate::model::referral::{
    DayCounts, NewReferral, Referral, ReferralQuery, StatusChange, UnmetEvent,
};
use crate::model::{Provider, Role};
use rusqlite::{
    params, Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::time::Duration;
use subtle::ConstantTimeEq;

mod referrals;

/// Schema migrations, applied in order, each in its own transaction. The
/// database's `PRAGMA user_version` is the number applied. Append only:
/// never edit a migration that has shipped.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: records, their history, the audit log, submissions, API keys.
    "CREATE TABLE providers (
        id TEXT PRIMARY KEY,
        record TEXT NOT NULL,
        version INTEGER NOT NULL,
        active INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
    );
    CREATE TABLE provider_history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        provider_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        action TEXT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        before TEXT,
        after TEXT
    );
    CREATE INDEX provider_history_by_provider ON provider_history (provider_id);
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        provider_id TEXT,
        before TEXT,
        after TEXT,
        detail TEXT
    );
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at TEXT NOT NULL,
        sender TEXT NOT NULL,
        record TEXT NOT NULL,
        status TEXT NOT NULL,
        decided_at TEXT,
        decided_by TEXT,
        reason TEXT,
        provider_id TEXT
    );
    CREATE TABLE api_keys (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    );",
    // 2: a provider key's records (issue 15): a JSON array of record ids,
    // `[]` for every other key.
    "ALTER TABLE api_keys ADD COLUMN records TEXT NOT NULL DEFAULT '[]';",
    // 3: referrals (no caller identity: the place is a region key only),
    // their status history and notes, and the anonymous unmet-need log.
    // Indexes serve the shift views: open ones by creator, follow-ups due,
    // by provider, and the acceptance counts loaded at start.
    "CREATE TABLE referrals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        provider_id TEXT NOT NULL,
        provider_name TEXT NOT NULL,
        method TEXT NOT NULL,
        consent INTEGER NOT NULL,
        status TEXT NOT NULL,
        decline_reason TEXT,
        region TEXT NOT NULL,
        issues TEXT NOT NULL,
        languages TEXT NOT NULL,
        populations TEXT NOT NULL,
        follow_up_due TEXT,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        accepted_at TEXT
    );
    CREATE INDEX referrals_by_creator ON referrals (created_by, status, id);
    CREATE INDEX referrals_due ON referrals (follow_up_due, id)
        WHERE status IN ('sent', 'accepted') AND follow_up_due IS NOT NULL;
    CREATE INDEX referrals_by_provider ON referrals (provider_id, id);
    CREATE INDEX referrals_by_status ON referrals (status, id);
    CREATE INDEX referrals_by_created ON referrals (created_at);
    CREATE TABLE referral_history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        referral_id INTEGER NOT NULL REFERENCES referrals (id),
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        from_status TEXT,
        to_status TEXT NOT NULL,
        reason TEXT,
        note TEXT
    );
    CREATE INDEX referral_history_by_referral ON referral_history (referral_id, seq);
    CREATE TABLE referral_notes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        referral_id INTEGER NOT NULL REFERENCES referrals (id),
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX referral_notes_by_referral ON referral_notes (referral_id, seq);
    CREATE TABLE unmet_needs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        hour TEXT NOT NULL,
        region TEXT NOT NULL,
        outcome TEXT NOT NULL,
        reason TEXT,
        issues TEXT NOT NULL,
        languages TEXT NOT NULL,
        populations TEXT NOT NULL
    );
    CREATE INDEX unmet_needs_by_region ON unmet_needs (region);",
];

/// The store in an embedded SQLite database.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: Option<PathBuf>,
}

impl SqliteStore {
    /// Opens (or creates) the database at `path`, creating its directory,
    /// and brings its schema up to date.
    ///
    /// A new folder is made `0700` and a new database file `0600` (SQLite
    /// gives its `-wal` and `-shm` files the database's mode), whatever
    /// the umask; an existing folder or file that other accounts may use
    /// is left as it is and logged with a warning (see [`super::files`]).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent() {
            super::files::create_private_dir(parent)?;
        }
        super::files::create_private_file(path)?;
        let conn = Connection::open(path)?;
        let store = Self::init(conn, Some(path.to_path_buf()))?;
        super::files::warn_exposed(&super::files::exposures(path));
        Ok(store)
    }

    /// A store in memory, gone when dropped (tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?, None)
    }

    fn init(mut conn: Connection, path: Option<PathBuf>) -> Result<Self, StoreError> {
        // Wait up to 5 s for another connection's write lock.
        conn.busy_timeout(Duration::from_millis(5000))?;
        // Write-ahead log: readers never block the writer nor the reader.
        let _mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        // FULL: the WAL is synced on every commit, so an edit that was
        // acknowledged survives a crash or a power loss (NORMAL could lose
        // the last commits on power loss).
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.set_prepared_statement_cache_capacity(32);
        migrate(&mut conn)?;
        Ok(SqliteStore { conn, path })
    }

    /// The database file; `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// SQLite's `PRAGMA integrity_check`: `"ok"` for a sound database,
    /// otherwise the problems found, one a line.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        let mut lines = Vec::new();
        self.conn.pragma_query(None, "integrity_check", |row| {
            lines.push(row.get::<_, String>(0)?);
            Ok(())
        })?;
        Ok(lines.join("\n"))
    }

    /// The connection, for tests that inspect the tables.
    #[cfg(test)]
    pub(super) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// A read-only connection on the same file; `None` in memory (another
    /// connection would open another, empty, database).
    fn open_reader(&self) -> Result<Option<SqliteReader>, StoreError> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_millis(5000))?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(Some(SqliteReader { conn }))
    }

    /// A write transaction, holding the write lock from its start.
    fn write(&mut self) -> Result<Transaction<'_>, StoreError> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }
}

fn user_version(conn: &Connection) -> Result<usize, StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    usize::try_from(version).map_err(|_| {
        StoreError::Migration(format!(
            "the database's schema version is {version}, which no refmatch writes: this is \
             not a refmatch database; check the path"
        ))
    })
}

/// Applies the migrations the database lacks; refuses a database written
/// by a newer refmatch.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let known = MIGRATIONS.len();
    let newer = |found: usize| {
        StoreError::Migration(format!(
            "the database is at schema version {found} but this refmatch knows versions up to \
             {known}: it was written by a newer refmatch; run that version (or a newer one), \
             or open a backup made by this one"
        ))
    };
    let found = user_version(conn)?;
    if found > known {
        return Err(newer(found));
    }
    if found == known {
        return Ok(());
    }
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read again under the write lock: another process may have
        // migrated since.
        let applied = user_version(&tx)?;
        if applied > known {
            return Err(newer(applied));
        }
        let Some(sql) = MIGRATIONS.get(applied) else {
            return Ok(());
        };
        tx.execute_batch(sql).map_err(|e| {
            StoreError::Migration(format!(
                "migration {} of {known} failed ({e}); the database was left at version \
                 {applied}: check the disk and retry",
                applied + 1
            ))
        })?;
        let next = i64::try_from(applied + 1)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        tx.pragma_update(None, "user_version", next)?;
        tx.commit()?;
    }
}

/// The current row of a record.
struct Current {
    record: String,
    version: u64,
    active: bool,
}

fn current(conn: &Connection, id: &str) -> Result<Option<Current>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT record, version, active FROM providers WHERE id = ?1")?;
    Ok(stmt
        .query_row([id], |row| {
            Ok(Current {
                record: row.get(0)?,
                version: get_u64(row, 1)?,
                active: row.get(2)?,
            })
        })
        .optional()?)
}

fn record_not_found(id: &str) -> StoreError {
    StoreError::NotFound(format!("record {id:?}"))
}

fn submission_not_found(id: u64) -> StoreError {
    StoreError::NotFound(format!("submission {id}"))
}

fn check_expected(id: &str, expected: Option<u64>, current: u64) -> Result<(), StoreError> {
    match expected {
        Some(expected) if expected != current => Err(StoreError::Stale {
            id: id.to_owned(),
            current,
        }),
        _ => Ok(()),
    }
}

fn to_json(provider: &Provider) -> Result<String, StoreError> {
    serde_json::to_string(provider).map_err(|e| {
        StoreError::Corrupt(format!(
            "record {:?} could not be written as JSON: {e}",
            provider.id
        ))
    })
}

fn parse_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn parse_time(text: &str, what: &str) -> Result<jiff::Timestamp, StoreError> {
    text.parse()
        .map_err(|e| StoreError::Corrupt(format!("{what}: timestamp {text:?}: {e}")))
}

fn parse_role(text: &str, what: &str) -> Result<Role, StoreError> {
    Role::parse(text).ok_or_else(|| StoreError::Corrupt(format!("{what}: unknown role {text:?}")))
}

/// `value` as an SQLite integer (rusqlite converts no `u64` without its
/// `fallible_uint` feature).
fn int(value: u64) -> rusqlite::Result<i64> {
    i64::try_from(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// Column `index` of `row`, a non-negative integer.
fn get_u64(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<u64> {
    let value: i64 = row.get(index)?;
    u64::try_from(value).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(index, value))
}

fn row_id(rowid: i64) -> Result<u64, StoreError> {
    u64::try_from(rowid).map_err(|_| StoreError::Corrupt(format!("negative row id {rowid}")))
}

/// Inserts a new record at version 1; Conflict when the id exists.
fn insert_provider(
    conn: &Connection,
    id: &str,
    record: &str,
    at: &str,
    actor: &str,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO providers (id, record, version, active, updated_at, updated_by)
         VALUES (?1, ?2, 1, 1, ?3, ?4)",
    )?;
    match stmt.execute(params![id, record, at, actor]) {
        Ok(_) => Ok(()),
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
            Err(StoreError::Conflict(id.to_owned()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Rewrites an existing record.
fn update_provider(
    conn: &Connection,
    id: &str,
    record: &str,
    version: u64,
    active: bool,
    at: &str,
    actor: &str,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "UPDATE providers SET record = ?2, version = ?3, active = ?4, updated_at = ?5,
         updated_by = ?6 WHERE id = ?1",
    )?;
    stmt.execute(params![id, record, int(version)?, active, at, actor])?;
    Ok(())
}

/// One change to one record, for its history and the audit log.
struct Change<'a> {
    id: &'a str,
    action: &'a str,
    version: u64,
    before: Option<&'a str>,
    after: Option<&'a str>,
}

/// One audit row, apart from when and who.
struct AuditRow<'a> {
    action: &'a str,
    provider_id: Option<&'a str>,
    before: Option<&'a str>,
    after: Option<&'a str>,
    detail: Option<&'a str>,
}

fn add_history(
    conn: &Connection,
    at: &str,
    actor: &Actor<'_>,
    change: &Change<'_>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO provider_history (provider_id, version, action, at, actor, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    stmt.execute(params![
        change.id,
        int(change.version)?,
        change.action,
        at,
        actor.name,
        change.before,
        change.after
    ])?;
    Ok(())
}

fn add_audit(
    conn: &Connection,
    at: &str,
    actor: &Actor<'_>,
    row: &AuditRow<'_>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO audit (at, actor, role, action, provider_id, before, after, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    stmt.execute(params![
        at,
        actor.name,
        actor.role.code(),
        row.action,
        row.provider_id,
        row.before,
        row.after,
        row.detail
    ])?;
    Ok(())
}

/// The history row and the audit row of an edit.
fn log_edit(
    conn: &Connection,
    at: &str,
    actor: &Actor<'_>,
    change: &Change<'_>,
) -> Result<(), StoreError> {
    add_history(conn, at, actor, change)?;
    add_audit(
        conn,
        at,
        actor,
        &AuditRow {
            action: change.action,
            provider_id: Some(change.id),
            before: change.before,
            after: change.after,
            detail: None,
        },
    )
}

/// A submission row as stored.
struct SubmissionRow {
    id: u64,
    received_at: String,
    sender: String,
    record: String,
    status: String,
    decided_at: Option<String>,
    decided_by: Option<String>,
    reason: Option<String>,
    provider_id: Option<String>,
}

const SUBMISSION_COLUMNS: &str =
    "id, received_at, sender, record, status, decided_at, decided_by, reason, provider_id";

fn submission_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SubmissionRow> {
    Ok(SubmissionRow {
        id: get_u64(row, 0)?,
        received_at: row.get(1)?,
        sender: row.get(2)?,
        record: row.get(3)?,
        status: row.get(4)?,
        decided_at: row.get(5)?,
        decided_by: row.get(6)?,
        reason: row.get(7)?,
        provider_id: row.get(8)?,
    })
}

impl SubmissionRow {
    fn parse(self) -> Result<Submission, StoreError> {
        let what = format!("submission {}", self.id);
        Ok(Submission {
            id: self.id,
            received_at: parse_time(&self.received_at, &what)?,
            from: self.sender,
            record: parse_json(&self.record, &what)?,
            status: SubmissionStatus::parse(&self.status).ok_or_else(|| {
                StoreError::Corrupt(format!("{what}: unknown status {:?}", self.status))
            })?,
            decided_at: self
                .decided_at
                .as_deref()
                .map(|text| parse_time(text, &what))
                .transpose()?,
            decided_by: self.decided_by,
            reason: self.reason,
            provider_id: self.provider_id,
        })
    }
}

fn load_submission(conn: &Connection, id: u64) -> Result<Option<Submission>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE id = ?1"
    ))?;
    stmt.query_row([int(id)?], submission_row)
        .optional()?
        .map(SubmissionRow::parse)
        .transpose()
}

/// A pending submission, or why it cannot be decided.
fn pending_submission(conn: &Connection, id: u64) -> Result<Submission, StoreError> {
    let submission = load_submission(conn, id)?.ok_or_else(|| submission_not_found(id))?;
    if submission.status != SubmissionStatus::Pending {
        return Err(StoreError::AlreadyDecided {
            id,
            status: submission.status,
        });
    }
    Ok(submission)
}

/// A provider row as stored.
struct ProviderRow {
    id: String,
    record: String,
    version: u64,
    active: bool,
    updated_at: String,
    updated_by: String,
}

const PROVIDER_COLUMNS: &str = "id, record, version, active, updated_at, updated_by";

fn provider_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ProviderRow> {
    Ok(ProviderRow {
        id: row.get(0)?,
        record: row.get(1)?,
        version: get_u64(row, 2)?,
        active: row.get(3)?,
        updated_at: row.get(4)?,
        updated_by: row.get(5)?,
    })
}

impl ProviderRow {
    fn parse(self) -> Result<Stored, StoreError> {
        let what = format!("record {:?}", self.id);
        Ok(Stored {
            provider: parse_json(&self.record, &what)?,
            version: self.version,
            active: self.active,
            updated_at: parse_time(&self.updated_at, &what)?,
            updated_by: self.updated_by,
        })
    }
}

impl Store for SqliteStore {
    fn is_empty(&self) -> Result<bool, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT NOT EXISTS (SELECT 1 FROM providers)")?;
        Ok(stmt.query_row([], |row| row.get(0))?)
    }

    fn seed(&mut self, providers: &[Provider], actor: &Actor<'_>) -> Result<usize, StoreError> {
        let at = jiff::Timestamp::now().to_string();
        let tx = self.write()?;
        for provider in providers {
            let json = to_json(provider)?;
            insert_provider(&tx, &provider.id, &json, &at, actor.name)?;
            add_history(
                &tx,
                &at,
                actor,
                &Change {
                    id: &provider.id,
                    action: "seed",
                    version: 1,
                    before: None,
                    after: Some(&json),
                },
            )?;
        }
        let detail = format!("{} records", providers.len());
        add_audit(
            &tx,
            &at,
            actor,
            &AuditRow {
                action: "seed",
                provider_id: None,
                before: None,
                after: None,
                detail: Some(&detail),
            },
        )?;
        tx.commit()?;
        Ok(providers.len())
    }

    fn active(&self) -> Result<Vec<Stored>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PROVIDER_COLUMNS} FROM providers WHERE active = 1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([], provider_row)?;
        let mut stored = Vec::new();
        for row in rows {
            stored.push(row?.parse()?);
        }
        Ok(stored)
    }

    fn get(&self, id: &str) -> Result<Option<Stored>, StoreError> {
        get(&self.conn, id)
    }

    fn create(&mut self, provider: &Provider, actor: &Actor<'_>) -> Result<Stored, StoreError> {
        let json = to_json(provider)?;
        let now = jiff::Timestamp::now();
        let at = now.to_string();
        let tx = self.write()?;
        insert_provider(&tx, &provider.id, &json, &at, actor.name)?;
        log_edit(
            &tx,
            &at,
            actor,
            &Change {
                id: &provider.id,
                action: "create",
                version: 1,
                before: None,
                after: Some(&json),
            },
        )?;
        tx.commit()?;
        Ok(Stored {
            provider: provider.clone(),
            version: 1,
            active: true,
            updated_at: now,
            updated_by: actor.name.to_owned(),
        })
    }

    fn update(
        &mut self,
        provider: &Provider,
        expected: Option<u64>,
        actor: &Actor<'_>,
    ) -> Result<Stored, StoreError> {
        let id = provider.id.as_str();
        let json = to_json(provider)?;
        let now = jiff::Timestamp::now();
        let at = now.to_string();
        let tx = self.write()?;
        let old = current(&tx, id)?.ok_or_else(|| record_not_found(id))?;
        check_expected(id, expected, old.version)?;
        let version = old.version + 1;
        update_provider(&tx, id, &json, version, true, &at, actor.name)?;
        log_edit(
            &tx,
            &at,
            actor,
            &Change {
                id,
                action: if old.active { "update" } else { "restore" },
                version,
                before: Some(&old.record),
                after: Some(&json),
            },
        )?;
        tx.commit()?;
        Ok(Stored {
            provider: provider.clone(),
            version,
            active: true,
            updated_at: now,
            updated_by: actor.name.to_owned(),
        })
    }

    fn deactivate(
        &mut self,
        id: &str,
        expected: Option<u64>,
        actor: &Actor<'_>,
    ) -> Result<Stored, StoreError> {
        let now = jiff::Timestamp::now();
        let at = now.to_string();
        let tx = self.write()?;
        let old = current(&tx, id)?
            .filter(|old| old.active)
            .ok_or_else(|| record_not_found(id))?;
        check_expected(id, expected, old.version)?;
        let provider: Provider = parse_json(&old.record, &format!("record {id:?}"))?;
        let version = old.version + 1;
        update_provider(&tx, id, &old.record, version, false, &at, actor.name)?;
        log_edit(
            &tx,
            &at,
            actor,
            &Change {
                id,
                action: "delete",
                version,
                before: Some(&old.record),
                after: None,
            },
        )?;
        tx.commit()?;
        Ok(Stored {
            provider,
            version,
            active: false,
            updated_at: now,
            updated_by: actor.name.to_owned(),
        })
    }

    fn import(
        &mut self,
        providers: &[Provider],
        actor: &Actor<'_>,
    ) -> Result<ImportCounts, StoreError> {
        let at = jiff::Timestamp::now().to_string();
        let mut counts = ImportCounts::default();
        let tx = self.write()?;
        for provider in providers {
            let id = provider.id.as_str();
            let json = to_json(provider)?;
            match current(&tx, id)? {
                None => {
                    insert_provider(&tx, id, &json, &at, actor.name)?;
                    log_edit(
                        &tx,
                        &at,
                        actor,
                        &Change {
                            id,
                            action: "import",
                            version: 1,
                            before: None,
                            after: Some(&json),
                        },
                    )?;
                    counts.created += 1;
                }
                Some(old)
                    if old.active
                        && (old.record == json
                            || parse_json::<Provider>(&old.record, &format!("record {id:?}"))?
                                == *provider) =>
                {
                    counts.unchanged += 1;
                }
                Some(old) => {
                    let version = old.version + 1;
                    update_provider(&tx, id, &json, version, true, &at, actor.name)?;
                    log_edit(
                        &tx,
                        &at,
                        actor,
                        &Change {
                            id,
                            action: "import",
                            version,
                            before: Some(&old.record),
                            after: Some(&json),
                        },
                    )?;
                    counts.updated += 1;
                }
            }
        }
        tx.commit()?;
        Ok(counts)
    }

    fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        history(&self.conn, id)
    }

    fn record_read_batch(&mut self, reads: &[ConfidentialRead]) -> Result<(), StoreError> {
        if reads.iter().all(|r| r.ids.is_empty()) {
            return Ok(());
        }
        let at = jiff::Timestamp::now().to_string();
        let tx = self.write()?;
        for read in reads {
            let actor = Actor::new(&read.actor, read.role);
            for id in &read.ids {
                add_audit(
                    &tx,
                    &at,
                    &actor,
                    &AuditRow {
                        action: "read_confidential",
                        provider_id: Some(id),
                        before: None,
                        after: None,
                        detail: Some(&read.via),
                    },
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn audit(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        audit(&self.conn, after, limit)
    }

    fn submit(&mut self, record: &Provider, from: &Actor<'_>) -> Result<Submission, StoreError> {
        let json = to_json(record)?;
        let now = jiff::Timestamp::now();
        let at = now.to_string();
        let tx = self.write()?;
        tx.prepare_cached(
            "INSERT INTO submissions (received_at, sender, record, status)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            at,
            from.name,
            json,
            SubmissionStatus::Pending.code()
        ])?;
        let id = row_id(tx.last_insert_rowid())?;
        let detail = format!("submission {id}");
        add_audit(
            &tx,
            &at,
            from,
            &AuditRow {
                action: "submit",
                provider_id: Some(&record.id),
                before: None,
                after: Some(&json),
                detail: Some(&detail),
            },
        )?;
        tx.commit()?;
        Ok(Submission {
            id,
            received_at: now,
            from: from.name.to_owned(),
            record: record.clone(),
            status: SubmissionStatus::Pending,
            decided_at: None,
            decided_by: None,
            reason: None,
            provider_id: None,
        })
    }

    fn submissions(&self, status: Option<SubmissionStatus>) -> Result<Vec<Submission>, StoreError> {
        submissions(&self.conn, status)
    }

    fn submission(&self, id: u64) -> Result<Option<Submission>, StoreError> {
        load_submission(&self.conn, id)
    }

    fn approve(
        &mut self,
        id: u64,
        record: &Provider,
        actor: &Actor<'_>,
    ) -> Result<(Submission, Stored), StoreError> {
        let json = to_json(record)?;
        let now = jiff::Timestamp::now();
        let at = now.to_string();
        let tx = self.write()?;
        let mut submission = pending_submission(&tx, id)?;
        insert_provider(&tx, &record.id, &json, &at, actor.name)?;
        add_history(
            &tx,
            &at,
            actor,
            &Change {
                id: &record.id,
                action: "approve",
                version: 1,
                before: None,
                after: Some(&json),
            },
        )?;
        tx.prepare_cached(
            "UPDATE submissions SET status = ?2, decided_at = ?3, decided_by = ?4,
             provider_id = ?5 WHERE id = ?1",
        )?
        .execute(params![
            int(id)?,
            SubmissionStatus::Approved.code(),
            at,
            actor.name,
            record.id.as_str()
        ])?;
        let detail = format!("submission {id}");
        add_audit(
            &tx,
            &at,
            actor,
            &AuditRow {
                action: "approve",
                provider_id: Some(&record.id),
                before: None,
                after: Some(&json),
                detail: Some(&detail),
            },
        )?;
        tx.commit()?;
        submission.status = SubmissionStatus::Approved;
        submission.decided_at = Some(now);
        submission.decided_by = Some(actor.name.to_owned());
        submission.provider_id = Some(record.id.to_string());
        let stored = Stored {
            provider: record.clone(),
            version: 1,
            active: true,
            updated_at: now,
            updated_by: actor.name.to_owned(),
        };
        Ok((submission, stored))
    }

    fn reject(
        &mut self,
        id: u64,
        reason: &str,
        actor: &Actor<'_>,
    ) -> Result<Submission, StoreError> {
        let now = jiff::Timestamp::now();
        let at = now.to_string();
        let tx = self.write()?;
        let mut submission = pending_submission(&tx, id)?;
        tx.prepare_cached(
            "UPDATE submissions SET status = ?2, decided_at = ?3, decided_by = ?4, reason = ?5
             WHERE id = ?1",
        )?
        .execute(params![
            int(id)?,
            SubmissionStatus::Rejected.code(),
            at,
            actor.name,
            reason
        ])?;
        let detail = format!("submission {id}: {reason}");
        add_audit(
            &tx,
            &at,
            actor,
            &AuditRow {
                action: "reject",
                provider_id: Some(&submission.record.id),
                before: None,
                after: None,
                detail: Some(&detail),
            },
        )?;
        tx.commit()?;
        submission.status = SubmissionStatus::Rejected;
        submission.decided_at = Some(now);
        submission.decided_by = Some(actor.name.to_owned());
        submission.reason = Some(reason.to_owned());
        Ok(submission)
    }

    fn create_key_for(
        &mut self,
        name: &str,
        role: Role,
        records: &[String],
        actor: &Actor<'_>,
    ) -> Result<(ApiKey, String), StoreError> {
        let records_json =
            serde_json::to_string(records).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let secret = new_secret()?;
        let hash = hash_secret(&secret);
        let prefix: String = secret.chars().take(8).collect();
        let now = jiff::Timestamp::now();
        let at = now.to_string();
        let tx = self.write()?;
        tx.prepare_cached(
            "INSERT INTO api_keys (name, role, hash, prefix, created_at, records)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![name, role.code(), hash, prefix, at, records_json])?;
        let id = row_id(tx.last_insert_rowid())?;
        let detail = if records.is_empty() {
            format!("key {id} for {name:?}, role {role}")
        } else {
            format!(
                "key {id} for {name:?}, role {role}, records {}",
                records.join(",")
            )
        };
        add_audit(
            &tx,
            &at,
            actor,
            &AuditRow {
                action: "key_create",
                provider_id: None,
                before: None,
                after: None,
                detail: Some(&detail),
            },
        )?;
        tx.commit()?;
        let key = ApiKey {
            id,
            name: name.to_owned(),
            role,
            prefix,
            created_at: now,
            records: records.to_vec(),
        };
        Ok((key, secret))
    }

    fn find_key(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        find_key(&self.conn, secret)
    }

    fn key_reader(&self) -> Result<Option<Box<dyn KeyReader>>, StoreError> {
        Ok(self
            .open_reader()?
            .map(|reader| Box::new(reader) as Box<dyn KeyReader>))
    }

    fn reader(&self) -> Result<Option<Box<dyn StoreReader + Send>>, StoreError> {
        Ok(self
            .open_reader()?
            .map(|reader| Box::new(reader) as Box<dyn StoreReader + Send>))
    }

    fn keys(&self) -> Result<Vec<KeyListing>, StoreError> {
        keys(&self.conn)
    }

    fn revoke_key(&mut self, id: u64, actor: &Actor<'_>) -> Result<(ApiKey, bool), StoreError> {
        let what = format!("API key {id}");
        let sql_id = i64::try_from(id).map_err(|_| StoreError::NotFound(what.clone()))?;
        let tx = self.write()?;
        let row = tx
            .prepare_cached(
                "SELECT name, role, prefix, created_at, revoked, records FROM api_keys
                 WHERE id = ?1",
            )?
            .query_row([sql_id], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, i64>(4)?,
                    row.get::<_, String>(5)?,
                ))
            })
            .optional()?;
        let Some((name, role, prefix, created_at, revoked, records)) = row else {
            return Err(StoreError::NotFound(what));
        };
        let key = api_key(id, name, &role, prefix, &created_at, &records)?;
        if revoked != 0 {
            return Ok((key, false));
        }
        tx.prepare_cached("UPDATE api_keys SET revoked = 1 WHERE id = ?1")?
            .execute([sql_id])?;
        let detail = format!("key {id} for {:?}, role {}", key.name, key.role);
        add_audit(
            &tx,
            &jiff::Timestamp::now().to_string(),
            actor,
            &AuditRow {
                action: "key_revoke",
                provider_id: None,
                before: None,
                after: None,
                detail: Some(&detail),
            },
        )?;
        tx.commit()?;
        Ok((key, true))
    }

    fn create_referral(
        &mut self,
        new: &NewReferral,
        actor: &Actor<'_>,
    ) -> Result<Referral, StoreError> {
        let tx = self.write()?;
        let created = referrals::create(&tx, new, actor)?;
        tx.commit()?;
        Ok(created)
    }

    fn change_referral(
        &mut self,
        id: u64,
        change: &StatusChange,
        actor: &Actor<'_>,
    ) -> Result<(Referral, Referral), StoreError> {
        let tx = self.write()?;
        let changed = referrals::change(&tx, id, change, actor)?;
        tx.commit()?;
        Ok(changed)
    }

    fn note_referral(
        &mut self,
        id: u64,
        text: &str,
        actor: &Actor<'_>,
    ) -> Result<Referral, StoreError> {
        let tx = self.write()?;
        let noted = referrals::note(&tx, id, text, actor)?;
        tx.commit()?;
        Ok(noted)
    }

    fn record_unmet(&mut self, events: &[UnmetEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let tx = self.write()?;
        referrals::record_unmet(&tx, events)?;
        tx.commit()?;
        Ok(())
    }

    fn referral_counts(
        &self,
        since: jiff::civil::Date,
    ) -> Result<Vec<(String, i32, DayCounts)>, StoreError> {
        referrals::counts(&self.conn, since)
    }

    fn referral(&self, id: u64) -> Result<Option<Referral>, StoreError> {
        referrals::referral(&self.conn, id)
    }

    fn referrals(&self, query: &ReferralQuery) -> Result<Vec<Referral>, StoreError> {
        referrals::referrals(&self.conn, query)
    }

    fn unmet(&self) -> Result<Vec<UnmetEvent>, StoreError> {
        referrals::unmet(&self.conn)
    }
}

// Reads, shared by the store and its readers (each on its own
// connection).
/// One record, active or not ([`Store::get`]).
fn get(conn: &Connection, id: &str) -> Result<Option<Stored>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PROVIDER_COLUMNS} FROM providers WHERE id = ?1"
    ))?;
    stmt.query_row([id], provider_row)
        .optional()?
        .map(ProviderRow::parse)
        .transpose()
}

/// Every version of record `id`, oldest first ([`Store::history`]).
fn history(conn: &Connection, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, version, action, at, actor, before, after FROM provider_history
         WHERE provider_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([id], |row| {
        Ok((
            get_u64(row, 0)?,
            get_u64(row, 1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, Option<String>>(5)?,
            row.get::<_, Option<String>>(6)?,
        ))
    })?;
    let mut entries = Vec::new();
    for row in rows {
        let (seq, version, action, at, actor, before, after) = row?;
        let what = format!("history {seq} of record {id:?}");
        entries.push(HistoryEntry {
            seq,
            provider_id: id.to_owned(),
            version,
            action,
            at: parse_time(&at, &what)?,
            actor,
            before: before.map(|text| parse_json(&text, &what)).transpose()?,
            after: after.map(|text| parse_json(&text, &what)).transpose()?,
        });
    }
    Ok(entries)
}

/// Audit entries after `after`, at most `limit` ([`Store::audit`]).
fn audit(conn: &Connection, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, actor, role, action, provider_id, before, after, detail FROM audit
         WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    // Past i64::MAX: every row (SQLite's LIMIT is signed).
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![after, limit], |row| {
        Ok((
            get_u64(row, 0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, Option<String>>(5)?,
            row.get::<_, Option<String>>(6)?,
            row.get::<_, Option<String>>(7)?,
            row.get::<_, Option<String>>(8)?,
        ))
    })?;
    let mut entries = Vec::new();
    for row in rows {
        let (seq, at, actor, role, action, provider_id, before, after, detail) = row?;
        let what = format!("audit entry {seq}");
        entries.push(AuditEntry {
            seq,
            at: parse_time(&at, &what)?,
            actor,
            role: parse_role(&role, &what)?,
            action,
            provider_id,
            before: before.map(|text| parse_json(&text, &what)).transpose()?,
            after: after.map(|text| parse_json(&text, &what)).transpose()?,
            detail,
        });
    }
    Ok(entries)
}

/// Submissions, newest first ([`Store::submissions`]).
fn submissions(
    conn: &Connection,
    status: Option<SubmissionStatus>,
) -> Result<Vec<Submission>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SUBMISSION_COLUMNS} FROM submissions
         WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC"
    ))?;
    let rows = stmt.query_map([status.map(SubmissionStatus::code)], submission_row)?;
    let mut submissions = Vec::new();
    for row in rows {
        submissions.push(row?.parse()?);
    }
    Ok(submissions)
}

/// Every key issued, oldest first ([`Store::keys`]).
fn keys(conn: &Connection) -> Result<Vec<KeyListing>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, role, prefix, created_at, revoked, records FROM api_keys ORDER BY id",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok((
            (
                get_u64(row, 0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ),
            row.get::<_, String>(4)?,
            row.get::<_, i64>(5)?,
            row.get::<_, String>(6)?,
        ))
    })?;
    let mut listed = Vec::new();
    for row in rows {
        let ((id, name, role, prefix), created_at, revoked, records) = row?;
        listed.push(KeyListing {
            key: api_key(id, name, &role, prefix, &created_at, &records)?,
            revoked: revoked != 0,
        });
    }
    Ok(listed)
}

/// A read-only connection of its own on the store's file: in WAL mode it
/// reads the last commit while the writer's connection writes, and never
/// waits for it.
struct SqliteReader {
    conn: Connection,
}

impl KeyReader for SqliteReader {
    fn find_key(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        find_key(&self.conn, secret)
    }
}

impl StoreReader for SqliteReader {
    fn get(&self, id: &str) -> Result<Option<Stored>, StoreError> {
        get(&self.conn, id)
    }

    fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        history(&self.conn, id)
    }

    fn audit(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        audit(&self.conn, after, limit)
    }

    fn submissions(&self, status: Option<SubmissionStatus>) -> Result<Vec<Submission>, StoreError> {
        submissions(&self.conn, status)
    }

    fn submission(&self, id: u64) -> Result<Option<Submission>, StoreError> {
        load_submission(&self.conn, id)
    }

    fn keys(&self) -> Result<Vec<KeyListing>, StoreError> {
        keys(&self.conn)
    }

    fn referral(&self, id: u64) -> Result<Option<Referral>, StoreError> {
        referrals::referral(&self.conn, id)
    }

    fn referrals(&self, query: &ReferralQuery) -> Result<Vec<Referral>, StoreError> {
        referrals::referrals(&self.conn, query)
    }

    fn unmet(&self) -> Result<Vec<UnmetEvent>, StoreError> {
        referrals::unmet(&self.conn)
    }
}

/// The active key whose secret this is.
fn find_key(conn: &Connection, secret: &str) -> Result<Option<ApiKey>, StoreError> {
    if !secret.starts_with(KEY_PREFIX) {
        return Ok(None);
    }
    let hash = hash_secret(secret);
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, role, hash, prefix, created_at, records FROM api_keys
         WHERE hash = ?1 AND revoked = 0",
    )?;
    let row = stmt
        .query_row([&hash], |row| {
            Ok((
                get_u64(row, 0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, String>(6)?,
            ))
        })
        .optional()?;
    let Some((id, name, role, stored_hash, prefix, created_at, records)) = row else {
        return Ok(None);
    };
    // The lookup used the index; compare again in constant time so
    // the answer does not depend on how much of the hash matched.
    if !bool::from(stored_hash.as_bytes().ct_eq(hash.as_bytes())) {
        return Ok(None);
    }
    Ok(Some(api_key(
        id,
        name,
        &role,
        prefix,
        &created_at,
        &records,
    )?))
}

/// An [`ApiKey`] from its stored columns.
fn api_key(
    id: u64,
    name: String,
    role: &str,
    prefix: String,
    created_at: &str,
    records: &str,
) -> Result<ApiKey, StoreError> {
    let what = format!("API key {id}");
    Ok(ApiKey {
        id,
        name,
        role: parse_role(role, &what)?,
        prefix,
        created_at: parse_time(created_at, &what)?,
        records: serde_json::from_str(records)
            .map_err(|e| StoreError::Corrupt(format!("{what}: records {records:?}: {e}")))?,
    })
}
