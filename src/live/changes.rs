//! Changes: every write validated as ingest validates a row (with its
//! service area resolved against the gazetteer), committed to the store
//! under the one writer lock, then awaited until a snapshot serves it.

use super::{lock, ImportReport, LiveDirectory, LiveError};
use crate::cancel::Cancel;
use crate::index::AreaResolver;
use crate::ingest::{Format, Validator};
use crate::model::{Provider, Role};
use crate::store::{Actor, ApiKey, ImportCounts, Store, StoreError, Stored, Submission};
use std::sync::Arc;

impl LiveDirectory {
    /// Parses and validates one record from a JSON body, as ingest would
    /// (and resolves its service area). `id_from_path` is the id of the
    /// URL, if any; the body's id must equal it or be absent.
    ///
    /// # Errors
    /// [`LiveError::BadRecord`], [`LiveError::Invalid`] or
    /// [`LiveError::IdMismatch`].
    pub fn validate(&self, body: &[u8], id_from_path: Option<&str>) -> Result<Provider, LiveError> {
        let mut value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| LiveError::BadRecord(e.to_string()))?;
        if let (Some(path), Some(object)) = (id_from_path, value.as_object_mut()) {
            match object.get("id").and_then(|v| v.as_str()) {
                Some(body) if body != path => {
                    return Err(LiveError::IdMismatch {
                        path: path.to_owned(),
                        body: body.to_owned(),
                    })
                }
                _ => {
                    object.insert("id".to_owned(), serde_json::Value::from(path));
                }
            }
        }
        if let Some(object) = value.as_object_mut() {
            object
                .entry("source")
                .or_insert_with(|| serde_json::Value::from("api"));
        }
        let provider: Provider =
            serde_json::from_value(value).map_err(|e| LiveError::BadRecord(e.to_string()))?;
        self.check(provider, "request body", 1)
    }

    /// The checks of ingest plus service-area resolution, for one record.
    fn check(&self, provider: Provider, source: &str, line: u64) -> Result<Provider, LiveError> {
        let shared = &self.shared;
        let validator = Validator::new(&shared.gazetteer, &shared.vocabulary);
        let provider = validator
            .provider(provider, source, line)
            .map_err(LiveError::Invalid)?;
        let mut resolver = AreaResolver::new(&shared.gazetteer, &shared.options)?;
        resolver
            .resolve(&provider.service_area, provider.location)
            .map_err(|e| LiveError::Invalid(e.to_row(source, line)))?;
        Ok(provider)
    }

    /// Runs `change` on the store under the writer lock; it returns its
    /// outcome and the records it changed, which are applied to the
    /// committed records. Then waits until a snapshot holds the change.
    ///
    /// `cancel` is claimed ([`Cancel::begin_commit`]) once the lock is
    /// held, before the transaction: a change cancelled by then is not
    /// made ([`LiveError::Cancelled`]); one claimed runs to its end.
    pub(super) fn commit<T>(
        &self,
        cancel: &Cancel,
        change: impl FnOnce(&mut dyn Store) -> Result<(T, Vec<Stored>), StoreError>,
    ) -> Result<T, LiveError> {
        let mut writer = lock(&self.shared.writer);
        cancel.begin_commit()?;
        let (outcome, changed) = change(writer.store.as_mut())?;
        for stored in changed {
            if stored.active {
                writer.records.insert(
                    stored.provider.id.to_string(),
                    (Arc::new(stored.provider), stored.version),
                );
            } else {
                writer.records.remove(stored.provider.id.as_str());
            }
        }
        writer.committed += 1;
        let generation = writer.committed;
        drop(writer);
        self.shared.snapshots.notify_commit();
        self.shared.snapshots.wait_visible(generation)?;
        Ok(outcome)
    }

    /// Creates a record.
    ///
    /// # Errors
    /// Validation errors, [`StoreError::Conflict`] when the id exists, or
    /// [`LiveError::Cancelled`] when `cancel` was cancelled before the commit.
    pub fn create(
        &self,
        provider: &Provider,
        actor: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<Stored, LiveError> {
        self.commit(cancel, |store| {
            let stored = store.create(provider, actor)?;
            Ok((stored.clone(), vec![stored]))
        })
    }

    /// Replaces a record; `expected` is the version the caller last saw.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Stale`], or
    /// [`LiveError::Cancelled`] when `cancel` was cancelled before the commit.
    pub fn update(
        &self,
        provider: &Provider,
        expected: Option<u64>,
        actor: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<Stored, LiveError> {
        self.commit(cancel, |store| {
            let stored = store.update(provider, expected, actor)?;
            Ok((stored.clone(), vec![stored]))
        })
    }

    /// Changes part of active record `id` (its capacity, its hours):
    /// `change` edits the current record, which is then validated as any
    /// edit and stored as a new version (history and audit entry, as
    /// [`LiveDirectory::update`]). `expected` is the version the caller
    /// last saw (`If-Match`); without it the change applies to the
    /// current version, read again if another write got in between.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for no such active record,
    /// [`StoreError::Stale`] when `expected` is not current, `change`'s
    /// own error, validation errors, or [`LiveError::Cancelled`].
    pub fn modify(
        &self,
        id: &str,
        expected: Option<u64>,
        actor: &Actor<'_>,
        cancel: &Cancel,
        change: impl Fn(&mut Provider) -> Result<(), LiveError>,
    ) -> Result<Stored, LiveError> {
        // Without If-Match, a write that lands between the read and the
        // commit makes the version stale: read again, a few times.
        const ATTEMPTS: usize = 3;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let current = self
                .stored(id)?
                .filter(|stored| stored.active)
                .ok_or_else(|| StoreError::NotFound(format!("record {id:?}")))?;
            let mut provider = current.provider;
            change(&mut provider)?;
            let provider = self.check(provider, "request body", 1)?;
            let version = expected.unwrap_or(current.version);
            match self.update(&provider, Some(version), actor, cancel) {
                Err(LiveError::Store(StoreError::Stale { .. }))
                    if expected.is_none() && attempt < ATTEMPTS => {}
                outcome => return outcome,
            }
        }
    }

    /// Soft-deletes a record: it leaves every answer and stays in history.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Stale`], or
    /// [`LiveError::Cancelled`] when `cancel` was cancelled before the commit.
    pub fn delete(
        &self,
        id: &str,
        expected: Option<u64>,
        actor: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<Stored, LiveError> {
        self.commit(cancel, |store| {
            let stored = store.deactivate(id, expected, actor)?;
            Ok((stored.clone(), vec![stored]))
        })
    }

    /// Imports a CSV, JSON, NDJSON, GeoJSON or HSDS file: every valid
    /// record is created or replaced in one transaction; every other one is
    /// reported with its line and reason.
    ///
    /// # Errors
    /// [`LiveError::Store`] when the transaction fails (nothing is written);
    /// [`LiveError::Cancelled`] when `cancel` was cancelled before the
    /// commit began (checked per record while validating, then claimed
    /// before the transaction: nothing is written).
    pub fn import(
        &self,
        source: &str,
        format: Format,
        bytes: &[u8],
        actor: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<ImportReport, LiveError> {
        let shared = &self.shared;
        let validator = Validator::new(&shared.gazetteer, &shared.vocabulary);
        let mut ingested = validator.read_bytes(source, format, bytes);
        cancel.check()?;
        ingested.finish();
        let rows_read = ingested.rows_read;
        let mut rejections = std::mem::take(&mut ingested.rejections);
        let mut accepted = Vec::with_capacity(ingested.providers.len());
        let mut resolver = AreaResolver::with_regions(
            &shared.gazetteer,
            &shared.options,
            shared.snapshots.regions(),
        )?;
        for (provider, (source, line)) in ingested.providers.into_iter().zip(ingested.origins) {
            cancel.check()?;
            match resolver.resolve(&provider.service_area, provider.location) {
                Ok(_) => accepted.push(provider),
                Err(e) => rejections.push(e.to_row(&source, line)),
            }
        }
        rejections.sort_by_key(|r| r.line);
        let counts: ImportCounts = self.commit(cancel, |store| {
            let counts = store.import(&accepted, actor)?;
            let mut changed = Vec::with_capacity(accepted.len());
            for provider in &accepted {
                changed.extend(store.get(&provider.id)?);
            }
            Ok((counts, changed))
        })?;
        Ok(ImportReport {
            rows_read,
            accepted: accepted.len(),
            created: counts.created,
            updated: counts.updated,
            unchanged: counts.unchanged,
            rejections,
        })
    }

    /// Queues a submission after validating it as a record; `cancel` is
    /// claimed before it is stored.
    ///
    /// # Errors
    /// Validation errors, [`LiveError::Store`] or [`LiveError::Cancelled`].
    pub fn submit(
        &self,
        record: &Provider,
        from: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<Submission, LiveError> {
        let mut writer = lock(&self.shared.writer);
        cancel.begin_commit()?;
        Ok(writer.store.submit(record, from)?)
    }

    /// Approves submission `id`: its record (validated again now) becomes
    /// a provider.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::AlreadyDecided`],
    /// [`StoreError::Conflict`], validation errors, or
    /// [`LiveError::Cancelled`] when `cancel` was cancelled before the commit.
    pub fn approve(
        &self,
        id: u64,
        actor: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<(Submission, Stored), LiveError> {
        let submission = self
            .read(|store| store.submission(id))?
            .ok_or_else(|| StoreError::NotFound(format!("submission {id}")))?;
        let record = self.check(submission.record, "submission", id)?;
        self.commit(cancel, |store| {
            let (submission, stored) = store.approve(id, &record, actor)?;
            Ok(((submission, stored.clone()), vec![stored]))
        })
    }

    /// Rejects submission `id` with a reason.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::AlreadyDecided`], or
    /// [`LiveError::Cancelled`] when `cancel` was cancelled before the commit.
    pub fn reject(
        &self,
        id: u64,
        reason: &str,
        actor: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<Submission, LiveError> {
        let mut writer = lock(&self.shared.writer);
        cancel.begin_commit()?;
        Ok(writer.store.reject(id, reason, actor)?)
    }

    /// Creates an API key; the secret is returned once and not stored.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn create_key(
        &self,
        name: &str,
        role: Role,
        actor: &Actor<'_>,
    ) -> Result<(ApiKey, String), LiveError> {
        Ok(lock(&self.shared.writer)
            .store
            .create_key(name, role, actor)?)
    }

    /// Creates an API key bound to `records` (a `provider` key's own
    /// records); the secret is returned once and not stored.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn create_key_for(
        &self,
        name: &str,
        role: Role,
        records: &[String],
        actor: &Actor<'_>,
    ) -> Result<(ApiKey, String), LiveError> {
        Ok(lock(&self.shared.writer)
            .store
            .create_key_for(name, role, records, actor)?)
    }
}
