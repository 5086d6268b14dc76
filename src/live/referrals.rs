//! Referrals and the unmet-need log.
//!
//! Referral changes are committed under the one writer lock, like every
//! write (each with its history and audit rows, durable before it is
//! answered), but need no new snapshot: the index does not hold them.
//! Reads go through the reader pool. Per-provider referral counts are kept
//! in memory ([`ReferralCounts`], loaded at open, updated with each
//! change under the writer lock), so a match reads acceptance rates
//! without touching the store.
//!
//! Unmet-need events from matches are queued and written by a thread of
//! their own, many per transaction (the group commit of `audit_log`, but
//! off the request's path: a match never waits for the disk). An event
//! still queued when the process dies is lost; declines are written in
//! the transaction of the status change itself.

use super::{lock, LiveDirectory, LiveError, Shared};
use crate::cancel::Cancel;
use crate::gazetteer::Gazetteer;
use crate::model::referral::{
    epoch_day, Answer, NewReferral, Referral, ReferralCounts, ReferralQuery, Status, StatusChange,
    UnmetEvent, STATS_WINDOW_DAYS,
};
use crate::model::{LatLng, Precision};
use crate::store::{Actor, Store, StoreError};
use std::sync::{Condvar, Mutex, PoisonError, RwLock, RwLockReadGuard};

/// Referral counts and the unmet-need queue.
#[derive(Default)]
pub(super) struct ReferralRoom {
    counts: RwLock<ReferralCounts>,
    queue: Mutex<UnmetQueue>,
    /// Signalled when events are queued, written, or the writer stops.
    changed: Condvar,
}

/// Unmet-need events waiting for the writer thread.
#[derive(Default)]
struct UnmetQueue {
    pending: Vec<UnmetEvent>,
    /// Events queued since open.
    queued: u64,
    /// Events written (or given up on) since open.
    written: u64,
    /// Set when the directory closes: the thread writes what is left and ends.
    stop: bool,
}

impl ReferralRoom {
    /// A room whose counts are loaded from `store` (the referrals of the
    /// last [`STATS_WINDOW_DAYS`] days).
    pub(super) fn load(store: &dyn Store) -> Result<ReferralRoom, StoreError> {
        let today = today();
        let since = today
            .checked_sub(jiff::Span::new().days(i64::from(STATS_WINDOW_DAYS)))
            .unwrap_or(today);
        let mut counts = ReferralCounts::default();
        for (provider, day, day_counts) in store.referral_counts(since)? {
            counts.add(&provider, day, day_counts);
        }
        Ok(ReferralRoom {
            counts: RwLock::new(counts),
            ..ReferralRoom::default()
        })
    }

    /// Asks the writer thread to end once the queue is written.
    pub(super) fn stop(&self) {
        lock(&self.queue).stop = true;
        self.changed.notify_all();
    }
}

/// Today's date, UTC.
pub fn today() -> jiff::civil::Date {
    utc_date(jiff::Timestamp::now())
}

/// The UTC calendar date of `at`.
fn utc_date(at: jiff::Timestamp) -> jiff::civil::Date {
    jiff::tz::TimeZone::UTC.to_datetime(at).date()
}

/// The writer thread of unmet-need events: waits for events, writes every
/// one queued in one transaction, and ends when the directory closes.
pub(super) fn unmet_writer(shared: &Shared) {
    let room = &shared.referrals;
    loop {
        let mut queue = lock(&room.queue);
        while queue.pending.is_empty() && !queue.stop {
            queue = room
                .changed
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if queue.pending.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut queue.pending);
        drop(queue);
        if let Err(error) = lock(&shared.writer).store.record_unmet(&batch) {
            tracing::warn!(%error, events = batch.len(), "unmet-need events not written");
        }
        let mut queue = lock(&room.queue);
        queue.written += u64::try_from(batch.len()).unwrap_or(u64::MAX);
        drop(queue);
        room.changed.notify_all();
    }
}

/// What a caller's place is kept as: the county (`county:06019`) in the
/// US, the H3 resolution-5 cell (`h3:85…`) elsewhere, the state
/// (`state:CA`) or country (`country:PE`) when the place is no finer than
/// that; `unknown` when nothing is known.
///
/// `point` is the place's position, `precision` how precise it is, and
/// the codes those the gazetteer gave for it.
pub fn region_key(
    point: Option<LatLng>,
    precision: Precision,
    country: Option<&str>,
    state: Option<&str>,
    county_fips: Option<&str>,
) -> String {
    if let Some(fips) = county_fips {
        return format!("county:{fips}");
    }
    match (precision, state, country) {
        (Precision::Region, Some(state), _) => return format!("state:{state}"),
        (Precision::Region | Precision::Country, _, Some(country)) => {
            return format!("country:{country}")
        }
        _ => {}
    }
    if let Some(cell) = point.and_then(crate::index::coarse_cell) {
        return format!("h3:{cell}");
    }
    country.map_or_else(|| "unknown".to_owned(), |c| format!("country:{c}"))
}

/// The region of a point given as coordinates (reverse geocoded).
pub fn region_of_point(gazetteer: &Gazetteer, point: LatLng) -> String {
    let found = gazetteer.reverse(point);
    region_key(
        Some(point),
        Precision::Point,
        found.country.as_deref(),
        found.region.as_deref(),
        found.county_fips.as_deref(),
    )
}

/// True when a referral passed through `accepted`.
fn was_accepted(referral: &Referral) -> bool {
    referral.history.iter().any(|t| t.to == Status::Accepted)
}

impl LiveDirectory {
    /// Runs a referral change on the store under the writer lock (claiming
    /// `cancel` first), with `counts` updated in the same critical section.
    fn commit_referral<T>(
        &self,
        cancel: &Cancel,
        change: impl FnOnce(&mut dyn Store) -> Result<T, StoreError>,
        count: impl FnOnce(&mut ReferralCounts, &T),
    ) -> Result<T, LiveError> {
        let mut writer = lock(&self.shared.writer);
        cancel.begin_commit()?;
        let outcome = change(writer.store.as_mut())?;
        let mut counts = self
            .shared
            .referrals
            .counts
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        count(&mut counts, &outcome);
        Ok(outcome)
    }

    /// Stores a new referral (audited).
    ///
    /// # Errors
    /// [`LiveError::Store`], or [`LiveError::Cancelled`] when `cancel` was
    /// cancelled before the commit.
    pub fn create_referral(
        &self,
        new: &NewReferral,
        actor: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<Referral, LiveError> {
        self.commit_referral(
            cancel,
            |store| store.create_referral(new, actor),
            |counts, created| {
                let day = epoch_day(utc_date(created.created_at));
                counts.created(&created.provider_id, day);
            },
        )
    }

    /// Changes a referral's status (audited; a decline is logged as
    /// unmet need).
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::InvalidTransition`],
    /// [`LiveError::Cancelled`].
    pub fn change_referral(
        &self,
        id: u64,
        change: &StatusChange,
        actor: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<Referral, LiveError> {
        let (_, after) = self.commit_referral(
            cancel,
            |store| store.change_referral(id, change, actor),
            |counts, (before, after): &(Referral, Referral)| {
                let day = epoch_day(utc_date(before.created_at));
                counts.changed(
                    &before.provider_id,
                    day,
                    Answer::of(before.status, was_accepted(before)),
                    Answer::of(after.status, was_accepted(after)),
                );
            },
        )?;
        Ok(after)
    }

    /// Adds a note to a referral (audited).
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`LiveError::Cancelled`].
    pub fn note_referral(
        &self,
        id: u64,
        text: &str,
        actor: &Actor<'_>,
        cancel: &Cancel,
    ) -> Result<Referral, LiveError> {
        self.commit_referral(
            cancel,
            |store| store.note_referral(id, text, actor),
            |_, _| {},
        )
    }

    /// One referral (from a reader connection).
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn referral(&self, id: u64) -> Result<Option<Referral>, LiveError> {
        self.read(|store| store.referral(id))
    }

    /// A page of referrals, newest first (from a reader connection).
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn referrals(&self, query: &ReferralQuery) -> Result<Vec<Referral>, LiveError> {
        self.read(|store| store.referrals(query))
    }

    /// The in-memory referral counts, for acceptance rates beside staff
    /// results (a read lock: hold it only while rendering).
    pub fn referral_counts(&self) -> RwLockReadGuard<'_, ReferralCounts> {
        self.shared
            .referrals
            .counts
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an unmet-need event; returns at once (a thread writes the
    /// queue in batches).
    pub fn record_unmet(&self, event: UnmetEvent) {
        let room = &self.shared.referrals;
        let mut queue = lock(&room.queue);
        queue.pending.push(event);
        queue.queued += 1;
        drop(queue);
        room.changed.notify_all();
    }

    /// Waits until every unmet-need event queued so far is written.
    pub fn flush_unmet(&self) {
        let room = &self.shared.referrals;
        let mut queue = lock(&room.queue);
        let target = queue.queued;
        while queue.written < target && !(queue.stop && queue.pending.is_empty()) {
            queue = room
                .changed
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Every unmet-need event recorded, after writing the queued ones.
    ///
    /// # Errors
    /// [`LiveError::Store`].
    pub fn unmet(&self) -> Result<Vec<UnmetEvent>, LiveError> {
        self.flush_unmet();
        self.read(|store| store.unmet())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_is_kept_as_a_region_only() {
        let fresno = LatLng::new(36.7378, -119.7871).ok();
        assert_eq!(
            region_key(
                fresno,
                Precision::Point,
                Some("US"),
                Some("CA"),
                Some("06019")
            ),
            "county:06019"
        );
        assert_eq!(
            region_key(fresno, Precision::Region, Some("US"), Some("CA"), None),
            "state:CA"
        );
        assert_eq!(
            region_key(None, Precision::Country, Some("PE"), None, None),
            "country:PE"
        );
        let lima = LatLng::new(-12.0464, -77.0428).ok();
        let cell = region_key(lima, Precision::Locality, Some("PE"), None, None);
        assert!(cell.starts_with("h3:85"), "{cell}");
        assert_eq!(
            region_key(None, Precision::Point, None, None, None),
            "unknown"
        );
    }
}
