//! Referrals, their history and notes, and the unmet-need log in SQLite.
//! Each change writes the referral, its history or note row and its audit
//! row in one transaction (the store's `synchronous=FULL` makes the
//! commit durable before it is acknowledged).

use super::{add_audit, get_u64, int, parse_json, parse_time, row_id, AuditRow};
use crate::model::referral::{
    Answer, DayCounts, DeclineReason, Method, NewReferral, Note, Referral, ReferralQuery,
    ReferralView, Status, StatusChange, Transition, Unmet, UnmetEvent,
};
use crate::store::{Actor, StoreError};
use rusqlite::{params, Connection, OptionalExtension};

const COLUMNS: &str = "id, provider_id, provider_name, method, consent, status, decline_reason, \
     region, issues, languages, populations, follow_up_due, created_at, created_by, updated_at";

/// A referral row as stored, before parsing.
struct Row {
    id: u64,
    provider_id: String,
    provider_name: String,
    method: String,
    consent: bool,
    status: String,
    decline_reason: Option<String>,
    region: String,
    issues: String,
    languages: String,
    populations: String,
    follow_up_due: Option<String>,
    created_at: String,
    created_by: String,
    updated_at: String,
}

fn row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: get_u64(row, 0)?,
        provider_id: row.get(1)?,
        provider_name: row.get(2)?,
        method: row.get(3)?,
        consent: row.get(4)?,
        status: row.get(5)?,
        decline_reason: row.get(6)?,
        region: row.get(7)?,
        issues: row.get(8)?,
        languages: row.get(9)?,
        populations: row.get(10)?,
        follow_up_due: row.get(11)?,
        created_at: row.get(12)?,
        created_by: row.get(13)?,
        updated_at: row.get(14)?,
    })
}

fn corrupt(what: &str, field: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: unknown {field} {value:?}"))
}

fn parse_status(text: &str, what: &str) -> Result<Status, StoreError> {
    Status::parse(text).ok_or_else(|| corrupt(what, "status", text))
}

fn parse_reason(text: Option<&str>, what: &str) -> Result<Option<DeclineReason>, StoreError> {
    text.map(|t| DeclineReason::parse(t).ok_or_else(|| corrupt(what, "decline reason", t)))
        .transpose()
}

fn parse_date(text: Option<&str>, what: &str) -> Result<Option<jiff::civil::Date>, StoreError> {
    text.map(|t| {
        t.parse()
            .map_err(|e| StoreError::Corrupt(format!("{what}: date {t:?}: {e}")))
    })
    .transpose()
}

fn codes_json(codes: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(codes).map_err(|e| StoreError::Corrupt(format!("codes: {e}")))
}

impl Row {
    fn parse(self, conn: &Connection) -> Result<Referral, StoreError> {
        let what = format!("referral {}", self.id);
        let status = parse_status(&self.status, &what)?;
        Ok(Referral {
            id: self.id,
            provider_id: self.provider_id,
            provider_name: self.provider_name,
            method: Method::parse(&self.method)
                .ok_or_else(|| corrupt(&what, "method", &self.method))?,
            consent: self.consent,
            status,
            fhir_status: status.fhir(),
            decline_reason: parse_reason(self.decline_reason.as_deref(), &what)?,
            region: self.region,
            issue: parse_json(&self.issues, &what)?,
            language: parse_json(&self.languages, &what)?,
            population: parse_json(&self.populations, &what)?,
            follow_up_due: parse_date(self.follow_up_due.as_deref(), &what)?,
            created_at: parse_time(&self.created_at, &what)?,
            created_by: self.created_by,
            updated_at: parse_time(&self.updated_at, &what)?,
            notes: notes(conn, self.id, &what)?,
            history: history(conn, self.id, &what)?,
        })
    }
}

fn notes(conn: &Connection, id: u64, what: &str) -> Result<Vec<Note>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, actor, text FROM referral_notes WHERE referral_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([int(id)?], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
        ))
    })?;
    let mut notes = Vec::new();
    for row in rows {
        let (at, by, text) = row?;
        notes.push(Note {
            at: parse_time(&at, what)?,
            by,
            text,
        });
    }
    Ok(notes)
}

fn history(conn: &Connection, id: u64, what: &str) -> Result<Vec<Transition>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, actor, from_status, to_status, reason, note FROM referral_history
         WHERE referral_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([int(id)?], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, Option<String>>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, Option<String>>(4)?,
            row.get::<_, Option<String>>(5)?,
        ))
    })?;
    let mut history = Vec::new();
    for row in rows {
        let (at, by, from, to, reason, note) = row?;
        history.push(Transition {
            at: parse_time(&at, what)?,
            by,
            from: from.as_deref().map(|f| parse_status(f, what)).transpose()?,
            to: parse_status(&to, what)?,
            reason: parse_reason(reason.as_deref(), what)?,
            note,
        });
    }
    Ok(history)
}

/// One referral, with its notes and history.
pub(super) fn referral(conn: &Connection, id: u64) -> Result<Option<Referral>, StoreError> {
    let Ok(sql_id) = i64::try_from(id) else {
        return Ok(None);
    };
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM referrals WHERE id = ?1"))?;
    let found = stmt.query_row([sql_id], row).optional()?;
    found.map(|r| r.parse(conn)).transpose()
}

fn not_found(id: u64) -> StoreError {
    StoreError::NotFound(format!("referral {id}"))
}

/// A page of referrals, newest first.
pub(super) fn referrals(
    conn: &Connection,
    query: &ReferralQuery,
) -> Result<Vec<Referral>, StoreError> {
    let view = match query.view {
        ReferralView::Mine => "status IN ('sent', 'accepted') AND created_by = ?3",
        ReferralView::Due => {
            "status IN ('sent', 'accepted') AND follow_up_due IS NOT NULL AND follow_up_due <= ?4"
        }
        ReferralView::Open => "status IN ('sent', 'accepted')",
        ReferralView::All => "1",
    };
    let provider = if query.provider.is_some() {
        "AND provider_id = ?5"
    } else {
        "AND ?5 IS NULL"
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM referrals WHERE id < ?1 AND {view} {provider}
         ORDER BY id DESC LIMIT ?2"
    );
    let before = query
        .before
        .and_then(|b| i64::try_from(b).ok())
        .unwrap_or(i64::MAX);
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
    let today = query.today.to_string();
    let mut stmt = conn.prepare_cached(&sql)?;
    // Every statement names every parameter, so one binding fits all.
    let rows: Vec<Row> = stmt
        .query_map(
            params![before, limit, query.creator, today, query.provider],
            row,
        )?
        .collect::<Result<_, _>>()?;
    rows.into_iter().map(|r| r.parse(conn)).collect()
}

/// The audit row of a referral change.
fn audit(
    conn: &Connection,
    at: &str,
    actor: &Actor<'_>,
    action: &str,
    before: Option<&Referral>,
    after: &Referral,
    detail: &str,
) -> Result<(), StoreError> {
    let json = |r: &Referral| {
        serde_json::to_string(r).map_err(|e| StoreError::Corrupt(format!("referral {}: {e}", r.id)))
    };
    let before = before.map(json).transpose()?;
    let after_json = json(after)?;
    add_audit(
        conn,
        at,
        actor,
        &AuditRow {
            action,
            provider_id: Some(&after.provider_id),
            before: before.as_deref(),
            after: Some(&after_json),
            detail: Some(detail),
        },
    )
}

#[allow(clippy::too_many_arguments)]
fn add_transition(
    conn: &Connection,
    id: u64,
    at: &str,
    actor: &str,
    from: Option<Status>,
    to: Status,
    reason: Option<DeclineReason>,
    note: Option<&str>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO referral_history (referral_id, at, actor, from_status, to_status, reason, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        int(id)?,
        at,
        actor,
        from.map(Status::code),
        to.code(),
        reason.map(DeclineReason::code),
        note
    ])?;
    Ok(())
}

fn add_note(
    conn: &Connection,
    id: u64,
    at: &str,
    actor: &str,
    text: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO referral_notes (referral_id, at, actor, text) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![int(id)?, at, actor, text])?;
    Ok(())
}

/// Stores a new referral (status `sent`), its first history row, its
/// note and its audit row (`referral_create`).
pub(super) fn create(
    conn: &Connection,
    new: &NewReferral,
    actor: &Actor<'_>,
) -> Result<Referral, StoreError> {
    let at = jiff::Timestamp::now().to_string();
    conn.prepare_cached(
        "INSERT INTO referrals (provider_id, provider_name, method, consent, status, region,
         issues, languages, populations, follow_up_due, created_at, created_by, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'sent', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?10)",
    )?
    .execute(params![
        new.provider_id,
        new.provider_name,
        new.method.code(),
        new.consent,
        new.region,
        codes_json(&new.issue)?,
        codes_json(&new.language)?,
        codes_json(&new.population)?,
        new.follow_up_due.map(|d| d.to_string()),
        at,
        actor.name,
    ])?;
    let id = row_id(conn.last_insert_rowid())?;
    add_transition(conn, id, &at, actor.name, None, Status::Sent, None, None)?;
    if let Some(note) = &new.note {
        add_note(conn, id, &at, actor.name, note)?;
    }
    let created = referral(conn, id)?.ok_or_else(|| not_found(id))?;
    let detail = format!(
        "referral {id}: {} to {}",
        new.method.code(),
        new.provider_id
    );
    audit(conn, &at, actor, "referral_create", None, &created, &detail)?;
    Ok(created)
}

/// Changes a referral's status (refused unless the lifecycle allows it);
/// a decline also goes to the unmet-need log. Returns the referral before
/// and after.
pub(super) fn change(
    conn: &Connection,
    id: u64,
    change: &StatusChange,
    actor: &Actor<'_>,
) -> Result<(Referral, Referral), StoreError> {
    let now = jiff::Timestamp::now();
    let at = now.to_string();
    let before = referral(conn, id)?.ok_or_else(|| not_found(id))?;
    if !before.status.may_become(change.to) {
        return Err(StoreError::InvalidTransition {
            id,
            from: before.status,
            to: change.to,
        });
    }
    conn.prepare_cached(
        "UPDATE referrals SET status = ?2, decline_reason = ?3,
         follow_up_due = COALESCE(?4, follow_up_due), updated_at = ?5,
         accepted_at = CASE WHEN ?2 = 'accepted' THEN ?5 ELSE accepted_at END
         WHERE id = ?1",
    )?
    .execute(params![
        int(id)?,
        change.to.code(),
        change.reason.map(DeclineReason::code),
        change.follow_up_due.map(|d| d.to_string()),
        at,
    ])?;
    add_transition(
        conn,
        id,
        &at,
        actor.name,
        Some(before.status),
        change.to,
        change.reason,
        change.note.as_deref(),
    )?;
    if change.to == Status::Declined {
        record_unmet(
            conn,
            &[UnmetEvent {
                hour: crate::model::referral::hour_bucket(now),
                region: before.region.clone(),
                outcome: Unmet::Declined,
                reason: change.reason,
                issues: before.issue.clone(),
                languages: before.language.clone(),
                populations: before.population.clone(),
            }],
        )?;
    }
    let after = referral(conn, id)?.ok_or_else(|| not_found(id))?;
    let detail = format!("referral {id}: {} → {}", before.status, change.to);
    audit(
        conn,
        &at,
        actor,
        "referral_status",
        Some(&before),
        &after,
        &detail,
    )?;
    Ok((before, after))
}

/// Adds a note (audit `referral_note`).
pub(super) fn note(
    conn: &Connection,
    id: u64,
    text: &str,
    actor: &Actor<'_>,
) -> Result<Referral, StoreError> {
    let at = jiff::Timestamp::now().to_string();
    let before = referral(conn, id)?.ok_or_else(|| not_found(id))?;
    add_note(conn, id, &at, actor.name, text)?;
    conn.prepare_cached("UPDATE referrals SET updated_at = ?2 WHERE id = ?1")?
        .execute(params![int(id)?, at])?;
    let after = referral(conn, id)?.ok_or_else(|| not_found(id))?;
    let detail = format!("referral {id}: note");
    audit(
        conn,
        &at,
        actor,
        "referral_note",
        Some(&before),
        &after,
        &detail,
    )?;
    Ok(after)
}

/// Appends unmet-need events.
pub(super) fn record_unmet(conn: &Connection, events: &[UnmetEvent]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO unmet_needs (hour, region, outcome, reason, issues, languages, populations)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for event in events {
        stmt.execute(params![
            event.hour,
            event.region,
            event.outcome.code(),
            event.reason.map(DeclineReason::code),
            codes_json(&event.issues)?,
            codes_json(&event.languages)?,
            codes_json(&event.populations)?,
        ])?;
    }
    Ok(())
}

/// Every unmet-need event, oldest first.
pub(super) fn unmet(conn: &Connection) -> Result<Vec<UnmetEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, hour, region, outcome, reason, issues, languages, populations
         FROM unmet_needs ORDER BY seq",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok((
            get_u64(row, 0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, Option<String>>(4)?,
            row.get::<_, String>(5)?,
            row.get::<_, String>(6)?,
            row.get::<_, String>(7)?,
        ))
    })?;
    let mut events = Vec::new();
    for row in rows {
        let (seq, hour, region, outcome, reason, issues, languages, populations) = row?;
        let what = format!("unmet need {seq}");
        events.push(UnmetEvent {
            hour,
            region,
            outcome: Unmet::parse(&outcome).ok_or_else(|| corrupt(&what, "outcome", &outcome))?,
            reason: parse_reason(reason.as_deref(), &what)?,
            issues: parse_json(&issues, &what)?,
            languages: parse_json(&languages, &what)?,
            populations: parse_json(&populations, &what)?,
        });
    }
    Ok(events)
}

/// Referral counts per provider and creation day (days since the epoch)
/// for referrals made on or after `since`.
pub(super) fn counts(
    conn: &Connection,
    since: jiff::civil::Date,
) -> Result<Vec<(String, i32, DayCounts)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT provider_id, substr(created_at, 1, 10), status, accepted_at IS NOT NULL, count(*)
         FROM referrals WHERE created_at >= ?1 GROUP BY 1, 2, 3, 4",
    )?;
    let rows = stmt.query_map([since.to_string()], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, bool>(3)?,
            get_u64(row, 4)?,
        ))
    })?;
    let mut counts = Vec::new();
    for row in rows {
        let (provider, day, status, was_accepted, n) = row?;
        let what = format!("referrals of {provider:?}");
        let date: jiff::civil::Date = day
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("{what}: date {day:?}: {e}")))?;
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        let mut day_counts = DayCounts {
            sent: n,
            ..DayCounts::default()
        };
        match Answer::of(parse_status(&status, &what)?, was_accepted) {
            Answer::Accepted => day_counts.accepted = n,
            Answer::Declined => day_counts.declined = n,
            Answer::Unanswered => {}
        }
        counts.push((
            provider,
            crate::model::referral::epoch_day(date),
            day_counts,
        ));
    }
    Ok(counts)
}
