//! Referral records: what an advocate did after a match (the method, the
//! caller's consent), where it stands (a [`Status`] lifecycle whose names
//! map onto FHIR R4 `Task.status`), why a provider declined, and the
//! anonymous unmet-need events the hotline learns from.
//!
//! No caller identity is ever part of these types: the caller's place is a
//! region key only (`county:06019`, `h3:85…` at H3 resolution 5, `state:CA`,
//! `country:PE`), with need codes and languages.
//!
//! # The lifecycle
//! ```text
//! sent ──► accepted ──► completed | no_contact | cancelled
//!   └────► declined (reason) | cancelled
//! ```
//! Every other change is refused ([`Status::may_become`]).
//!
//! # FHIR Task mapping
//! | refmatch     | FHIR R4 `Task.status` |
//! |--------------|-----------------------|
//! | `sent`       | `requested`           |
//! | `accepted`   | `accepted`            |
//! | `declined`   | `rejected`            |
//! | `completed`  | `completed`           |
//! | `no_contact` | `failed`              |
//! | `cancelled`  | `cancelled`           |
//!
//! ```
//! use refmatch::model::referral::Status;
//! assert!(Status::Sent.may_become(Status::Accepted));
//! assert!(!Status::Declined.may_become(Status::Accepted));
//! assert_eq!(Status::NoContact.fhir(), "failed");
//! ```

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// How the caller was referred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The advocate called the provider with the caller on the line.
    WarmTransfer,
    /// The caller was given the provider's contact details.
    InformationGiven,
    /// The provider will call the caller back.
    ProviderCallback,
}

impl Method {
    /// Every method, in documentation order.
    pub const ALL: [Method; 3] = [
        Method::WarmTransfer,
        Method::InformationGiven,
        Method::ProviderCallback,
    ];

    /// The snake_case code on the wire and in the store.
    pub fn code(self) -> &'static str {
        match self {
            Method::WarmTransfer => "warm_transfer",
            Method::InformationGiven => "information_given",
            Method::ProviderCallback => "provider_callback",
        }
    }

    /// Parses a code (exact, lower case).
    pub fn parse(text: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.code() == text)
    }

    /// True when the method passes anything of the caller to the
    /// provider, so that it needs the caller's consent (only
    /// `information_given` does not).
    pub fn needs_consent(self) -> bool {
        self != Method::InformationGiven
    }
}

/// Where a referral stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Made; the provider has not answered (FHIR `requested`).
    Sent,
    /// The provider will serve the caller (FHIR `accepted`).
    Accepted,
    /// The provider cannot, with a [`DeclineReason`] (FHIR `rejected`).
    Declined,
    /// The caller was served (FHIR `completed`).
    Completed,
    /// Accepted, but the provider and the caller never met (FHIR `failed`).
    NoContact,
    /// Withdrawn by the hotline (FHIR `cancelled`).
    Cancelled,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 6] = [
        Status::Sent,
        Status::Accepted,
        Status::Declined,
        Status::Completed,
        Status::NoContact,
        Status::Cancelled,
    ];

    /// The snake_case code on the wire and in the store.
    pub fn code(self) -> &'static str {
        match self {
            Status::Sent => "sent",
            Status::Accepted => "accepted",
            Status::Declined => "declined",
            Status::Completed => "completed",
            Status::NoContact => "no_contact",
            Status::Cancelled => "cancelled",
        }
    }

    /// Parses a code (exact, lower case).
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == text)
    }

    /// The FHIR R4 `Task.status` this status maps to.
    pub fn fhir(self) -> &'static str {
        match self {
            Status::Sent => "requested",
            Status::Accepted => "accepted",
            Status::Declined => "rejected",
            Status::Completed => "completed",
            Status::NoContact => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    /// True while the referral still needs work: `sent` or `accepted`.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Sent | Status::Accepted)
    }

    /// The statuses this one may change to.
    pub fn next(self) -> &'static [Status] {
        match self {
            Status::Sent => &[Status::Accepted, Status::Declined, Status::Cancelled],
            Status::Accepted => &[Status::Completed, Status::NoContact, Status::Cancelled],
            Status::Declined | Status::Completed | Status::NoContact | Status::Cancelled => &[],
        }
    }

    /// True when the lifecycle allows `self → to`.
    pub fn may_become(self, to: Status) -> bool {
        self.next().contains(&to)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a provider declined a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    /// No bed, slot or staff free.
    NoCapacity,
    /// The caller is outside who the provider serves.
    NotEligible,
    /// The provider could not be reached.
    Unreachable,
    /// The caller chose not to go ahead.
    CallerDeclined,
    /// The caller is outside the provider's area.
    OutOfArea,
    /// Anything else (say what in the note).
    Other,
}

impl DeclineReason {
    /// Every reason, in documentation order.
    pub const ALL: [DeclineReason; 6] = [
        DeclineReason::NoCapacity,
        DeclineReason::NotEligible,
        DeclineReason::Unreachable,
        DeclineReason::CallerDeclined,
        DeclineReason::OutOfArea,
        DeclineReason::Other,
    ];

    /// The snake_case code on the wire and in the store.
    pub fn code(self) -> &'static str {
        match self {
            DeclineReason::NoCapacity => "no_capacity",
            DeclineReason::NotEligible => "not_eligible",
            DeclineReason::Unreachable => "unreachable",
            DeclineReason::CallerDeclined => "caller_declined",
            DeclineReason::OutOfArea => "out_of_area",
            DeclineReason::Other => "other",
        }
    }

    /// Parses a code (exact, lower case).
    pub fn parse(text: &str) -> Option<DeclineReason> {
        DeclineReason::ALL.into_iter().find(|r| r.code() == text)
    }
}

/// One note on a referral.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// When it was written.
    pub at: jiff::Timestamp,
    /// Who wrote it (the key's audit name).
    pub by: String,
    /// The text.
    pub text: String,
}

/// One change of a referral's status (its creation is the first, from
/// `null` to `sent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// When.
    pub at: jiff::Timestamp,
    /// Who (the key's audit name).
    pub by: String,
    /// The status before; `None` for the creation.
    pub from: Option<Status>,
    /// The status after.
    pub to: Status,
    /// Why it was declined (only for `declined`).
    pub reason: Option<DeclineReason>,
    /// A note given with the change.
    pub note: Option<String>,
}

/// A referral as stored and answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Referral {
    /// Referral number (increasing).
    pub id: u64,
    /// The provider referred to.
    pub provider_id: String,
    /// Its name when the referral was made.
    pub provider_name: String,
    /// How.
    pub method: Method,
    /// Whether the caller agreed to their details being passed on.
    pub consent: bool,
    /// Where it stands.
    pub status: Status,
    /// The FHIR R4 `Task.status` of [`Referral::status`].
    pub fhir_status: &'static str,
    /// Why it was declined.
    pub decline_reason: Option<DeclineReason>,
    /// The caller's region only (`county:06019`, `h3:85…`, `state:CA`,
    /// `country:PE`): never a finer place.
    pub region: String,
    /// Issue codes of the need.
    pub issue: Vec<String>,
    /// ISO 639-1 codes of the caller's languages.
    pub language: Vec<String>,
    /// Population codes of the need.
    pub population: Vec<String>,
    /// When to check on it (a calendar date).
    pub follow_up_due: Option<jiff::civil::Date>,
    /// When it was made.
    pub created_at: jiff::Timestamp,
    /// Who made it (the key's audit name, `key:<name>#<id>`).
    pub created_by: String,
    /// When it last changed.
    pub updated_at: jiff::Timestamp,
    /// Notes, oldest first.
    pub notes: Vec<Note>,
    /// Status changes, oldest first (the creation first).
    pub history: Vec<Transition>,
}

/// A referral to store: what the caller of `POST /v1/referrals` gave,
/// validated, with the place already reduced to a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReferral {
    /// The provider referred to (an active record).
    pub provider_id: String,
    /// Its name now.
    pub provider_name: String,
    /// How.
    pub method: Method,
    /// The caller's consent.
    pub consent: bool,
    /// The caller's region key.
    pub region: String,
    /// Issue codes.
    pub issue: Vec<String>,
    /// ISO 639-1 codes.
    pub language: Vec<String>,
    /// Population codes.
    pub population: Vec<String>,
    /// When to check on it.
    pub follow_up_due: Option<jiff::civil::Date>,
    /// A first note.
    pub note: Option<String>,
}

/// A status change to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The new status.
    pub to: Status,
    /// Why (required for `declined`, refused otherwise).
    pub reason: Option<DeclineReason>,
    /// A note kept in the history.
    pub note: Option<String>,
    /// A new follow-up date, when given.
    pub follow_up_due: Option<jiff::civil::Date>,
}

/// The shift views of `GET /v1/referrals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralView {
    /// Open referrals made by the caller's key.
    Mine,
    /// Open referrals whose follow-up date is today or past.
    Due,
    /// Sent or accepted.
    Open,
    /// Every referral.
    All,
}

impl ReferralView {
    /// Parses `mine`, `due`, `open` or `all`.
    pub fn parse(text: &str) -> Option<ReferralView> {
        match text {
            "mine" => Some(ReferralView::Mine),
            "due" => Some(ReferralView::Due),
            "open" => Some(ReferralView::Open),
            "all" => Some(ReferralView::All),
            _ => None,
        }
    }
}

/// A page of referrals to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralQuery {
    /// Which view.
    pub view: ReferralView,
    /// The caller's audit name (for [`ReferralView::Mine`]).
    pub creator: String,
    /// Today, UTC (for [`ReferralView::Due`]).
    pub today: jiff::civil::Date,
    /// Only referrals to this provider.
    pub provider: Option<String>,
    /// Only referrals with an id below this one (the cursor: the last id
    /// of the previous page); newest first.
    pub before: Option<u64>,
    /// Most referrals.
    pub limit: usize,
}

/// Why a match's need went unmet, or a referral was declined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unmet {
    /// The strict answer was empty and relaxing found nothing either.
    None,
    /// The answer needed relaxed filters.
    Relaxed,
    /// A referral was declined (with its reason).
    Declined,
}

impl Unmet {
    /// The snake_case code on the wire and in the store.
    pub fn code(self) -> &'static str {
        match self {
            Unmet::None => "none",
            Unmet::Relaxed => "relaxed",
            Unmet::Declined => "declined",
        }
    }

    /// Parses a code.
    pub fn parse(text: &str) -> Option<Unmet> {
        match text {
            "none" => Some(Unmet::None),
            "relaxed" => Some(Unmet::Relaxed),
            "declined" => Some(Unmet::Declined),
            _ => None,
        }
    }
}

/// One anonymous unmet-need event: never the query text, never a finer
/// place than the region, never who asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmetEvent {
    /// The UTC hour it happened in (`2026-12-03T18`).
    pub hour: String,
    /// The caller's region key.
    pub region: String,
    /// What went unmet.
    pub outcome: Unmet,
    /// The decline reason, for [`Unmet::Declined`].
    pub reason: Option<DeclineReason>,
    /// Issue codes asked for (expanded as the match expanded them).
    pub issues: Vec<String>,
    /// Languages asked for.
    pub languages: Vec<String>,
    /// Populations asked for.
    pub populations: Vec<String>,
}

/// The UTC hour bucket of `at`: `YYYY-MM-DDTHH`.
pub fn hour_bucket(at: jiff::Timestamp) -> String {
    let text = at.to_string();
    text.get(..13).unwrap_or(&text).to_owned()
}

/// Days in the acceptance-rate window of [`ReferralStats`].
pub const STATS_WINDOW_DAYS: i32 = 90;

/// A provider's recent referrals, as staff see them beside its results.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReferralStats {
    /// The window, days back from today (UTC).
    pub window_days: i32,
    /// Referrals made to it in the window.
    pub sent: u32,
    /// Of those, how many it accepted (whatever happened after).
    pub accepted: u32,
    /// Of those, how many it declined.
    pub declined: u32,
    /// `accepted / (accepted + declined)`; `null` before it answered any.
    pub acceptance_rate: Option<f64>,
}

/// Referrals made on one day to one provider, by what the provider did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts {
    /// Made.
    pub sent: u32,
    /// Accepted (now accepted, completed, no_contact, or cancelled after
    /// being accepted).
    pub accepted: u32,
    /// Declined.
    pub declined: u32,
}

/// What a referral counts as in [`ReferralCounts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The provider has not answered (sent, or cancelled before).
    Unanswered,
    /// It accepted.
    Accepted,
    /// It declined.
    Declined,
}

impl Answer {
    /// What a referral with `status` counts as (`was_accepted`: it passed
    /// through `accepted`).
    pub fn of(status: Status, was_accepted: bool) -> Answer {
        match status {
            Status::Declined => Answer::Declined,
            Status::Accepted | Status::Completed | Status::NoContact => Answer::Accepted,
            Status::Cancelled if was_accepted => Answer::Accepted,
            Status::Sent | Status::Cancelled => Answer::Unanswered,
        }
    }
}

/// Per-provider referral counts by day, kept in memory so that a match
/// reads acceptance rates without touching the store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReferralCounts {
    /// Provider id → day (days since 1970-01-01, UTC) → counts.
    by_provider: FxHashMap<String, BTreeMap<i32, DayCounts>>,
}

/// Days since 1970-01-01 of `date`.
pub fn epoch_day(date: jiff::civil::Date) -> i32 {
    let epoch = jiff::civil::date(1970, 1, 1);
    (date - epoch).get_days()
}

impl ReferralCounts {
    /// Adds `counts` for `provider` on `day` (loading from the store).
    pub fn add(&mut self, provider: &str, day: i32, counts: DayCounts) {
        let slot = self
            .by_provider
            .entry(provider.to_owned())
            .or_default()
            .entry(day)
            .or_default();
        slot.sent += counts.sent;
        slot.accepted += counts.accepted;
        slot.declined += counts.declined;
    }

    /// A referral made to `provider` on `day`.
    pub fn created(&mut self, provider: &str, day: i32) {
        self.add(
            provider,
            day,
            DayCounts {
                sent: 1,
                ..DayCounts::default()
            },
        );
    }

    /// A referral made to `provider` on `day` changed from `from` to `to`.
    pub fn changed(&mut self, provider: &str, day: i32, from: Answer, to: Answer) {
        if from == to {
            return;
        }
        let slot = self
            .by_provider
            .entry(provider.to_owned())
            .or_default()
            .entry(day)
            .or_default();
        match from {
            Answer::Accepted => slot.accepted = slot.accepted.saturating_sub(1),
            Answer::Declined => slot.declined = slot.declined.saturating_sub(1),
            Answer::Unanswered => {}
        }
        match to {
            Answer::Accepted => slot.accepted += 1,
            Answer::Declined => slot.declined += 1,
            Answer::Unanswered => {}
        }
    }

    /// `provider`'s figures over the [`STATS_WINDOW_DAYS`] days up to
    /// `today` (days since the epoch, UTC), both ends included.
    pub fn stats(&self, provider: &str, today: i32) -> ReferralStats {
        let mut total = DayCounts::default();
        if let Some(days) = self.by_provider.get(provider) {
            for counts in days
                .range(today - STATS_WINDOW_DAYS + 1..=today)
                .map(|(_, c)| c)
            {
                total.sent += counts.sent;
                total.accepted += counts.accepted;
                total.declined += counts.declined;
            }
        }
        let answered = total.accepted + total.declined;
        ReferralStats {
            window_days: STATS_WINDOW_DAYS,
            sent: total.sent,
            accepted: total.accepted,
            declined: total.declined,
            acceptance_rate: (answered > 0)
                .then(|| f64::from(total.accepted) / f64::from(answered)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_allows_exactly_the_documented_changes() {
        let allowed = [
            (Status::Sent, Status::Accepted),
            (Status::Sent, Status::Declined),
            (Status::Sent, Status::Cancelled),
            (Status::Accepted, Status::Completed),
            (Status::Accepted, Status::NoContact),
            (Status::Accepted, Status::Cancelled),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                assert_eq!(
                    from.may_become(to),
                    allowed.contains(&(from, to)),
                    "{from} → {to}"
                );
            }
        }
        // Only sent and accepted are open; the others end the lifecycle.
        for status in Status::ALL {
            assert_eq!(status.is_open(), !status.next().is_empty(), "{status}");
        }
    }

    #[test]
    fn statuses_map_onto_fhir_task_statuses() {
        let fhir: Vec<&str> = Status::ALL.map(Status::fhir).to_vec();
        assert_eq!(
            fhir,
            [
                "requested",
                "accepted",
                "rejected",
                "completed",
                "failed",
                "cancelled"
            ]
        );
    }

    #[test]
    fn codes_read_back() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.code()), Some(s));
            assert_eq!(serde_json::to_value(s).ok(), Some(s.code().into()));
        }
        for m in Method::ALL {
            assert_eq!(Method::parse(m.code()), Some(m));
        }
        for r in DeclineReason::ALL {
            assert_eq!(DeclineReason::parse(r.code()), Some(r));
        }
        assert_eq!(Status::parse("Sent"), None);
        assert!(!Method::InformationGiven.needs_consent());
        assert!(Method::WarmTransfer.needs_consent());
    }

    #[test]
    fn counts_follow_changes_and_the_window() {
        let mut counts = ReferralCounts::default();
        let today = 20_000;
        for _ in 0..3 {
            counts.created("a", today);
        }
        counts.created("a", today - STATS_WINDOW_DAYS); // outside the window
        counts.changed("a", today, Answer::Unanswered, Answer::Accepted);
        counts.changed("a", today, Answer::Unanswered, Answer::Declined);
        // accepted then cancelled still counts as accepted
        counts.changed(
            "a",
            today,
            Answer::Accepted,
            Answer::of(Status::Cancelled, true),
        );
        let stats = counts.stats("a", today);
        assert_eq!((stats.sent, stats.accepted, stats.declined), (3, 1, 1));
        assert_eq!(stats.acceptance_rate, Some(0.5));
        assert_eq!(counts.stats("b", today).acceptance_rate, None);
        assert_eq!(counts.stats("a", today + STATS_WINDOW_DAYS).sent, 0);
    }

    #[test]
    fn the_hour_bucket_is_utc_to_the_hour() {
        let at: jiff::Timestamp = "2026-12-03T18:41:14.5Z".parse().expect("timestamp");
        assert_eq!(hour_bucket(at), "2026-12-03T18");
        assert_eq!(epoch_day(jiff::civil::date(1970, 1, 2)), 1);
    }
}
