//! Who is asking, what they may see, and how fresh a record is.
//!
//! The directory is confidential: the public sees only records marked
//! [`Visibility::Public`](super::Visibility), and of those never the
//! confidential fields ([`Provider::redact_for_public`]). A provider's
//! own key reads as the public does and may change only the capacity and
//! hours of its own records. Advocates see everything and cannot edit
//! records (they may set capacity); administrators edit.

use super::{Provider, Visibility};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A caller's role. Requests without an API key are [`Role::Public`].
/// Roles are ordered `Public < Provider < Advocate < Admin`: a role has
/// every right of the roles below it, except that a [`Role::Provider`]
/// key's edits are bound to its own records (see `store::ApiKey::records`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// No key: public records only, confidential fields removed.
    Public,
    /// A provider's own desk: reads as the public; may change only the
    /// capacity and hours of the records its key is bound to.
    Provider,
    /// Hotline advocate: reads everything, edits nothing (but may decide
    /// submissions).
    Advocate,
    /// Administrator: reads and edits everything.
    Admin,
}

impl Role {
    /// The snake_case code used on the wire and in the key table.
    pub fn code(self) -> &'static str {
        match self {
            Role::Public => "public",
            Role::Provider => "provider",
            Role::Advocate => "advocate",
            Role::Admin => "admin",
        }
    }

    /// Parses `public`, `provider`, `advocate` or `admin`
    /// (case-insensitive).
    pub fn parse(text: &str) -> Option<Role> {
        match text.trim().to_ascii_lowercase().as_str() {
            "public" => Some(Role::Public),
            "provider" => Some(Role::Provider),
            "advocate" => Some(Role::Advocate),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// True when this role sees confidential records and fields.
    pub fn sees_confidential(self) -> bool {
        self >= Role::Advocate
    }

    /// True when this role may create, change and delete records.
    pub fn may_edit(self) -> bool {
        self == Role::Admin
    }

    /// True when this role may list and decide intake submissions.
    pub fn may_review(self) -> bool {
        self >= Role::Advocate
    }

    /// True when this role may set the capacity of any record (staff); a
    /// [`Role::Provider`] key may set only its own records'.
    pub fn may_set_any_capacity(self) -> bool {
        self >= Role::Advocate
    }

    /// True when this role may set the hours of any record (admin); a
    /// [`Role::Provider`] key may set only its own records'.
    pub fn may_set_any_hours(self) -> bool {
        self == Role::Admin
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Default verification window: a record not verified for this many days
/// is stale.
pub const DEFAULT_VERIFICATION_WINDOW_DAYS: u32 = 365;

/// Largest ranking edge a freshly verified record gets over a stale or
/// never-verified one (bonus units of the ranking: a bonus `b` divides
/// the distance by `e^b`).
pub const FRESHNESS_EDGE: f64 = 0.05;

/// How recently records must have been verified.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Freshness {
    /// The date "today" is taken to be (civil date, UTC).
    pub today: jiff::civil::Date,
    /// Records verified more than this many days before `today` are stale.
    pub window_days: u32,
}

impl Freshness {
    /// The window `window_days` as of today (UTC).
    pub fn now(window_days: u32) -> Freshness {
        Freshness {
            today: jiff::tz::TimeZone::UTC
                .to_datetime(jiff::Timestamp::now())
                .date(),
            window_days,
        }
    }

    /// Days since `provider` was verified; `None` when it never was. A date
    /// in the future counts as today.
    pub fn age_days(&self, provider: &Provider) -> Option<i64> {
        let verified = provider.verified_at?;
        let days = (self.today - verified).get_days();
        Some(i64::from(days.max(0)))
    }

    /// True when `provider` was never verified or not within the window.
    pub fn is_stale(&self, provider: &Provider) -> bool {
        self.age_days(provider)
            .is_none_or(|age| age > i64::from(self.window_days))
    }

    /// The ranking edge of `provider`: [`FRESHNESS_EDGE`] for a record
    /// verified today, falling linearly to 0 at the end of the window;
    /// 0 when stale or never verified.
    pub fn edge(&self, provider: &Provider) -> f64 {
        match self.age_days(provider) {
            Some(age) if age <= i64::from(self.window_days) && self.window_days > 0 => {
                FRESHNESS_EDGE * (1.0 - age as f64 / f64::from(self.window_days))
            }
            _ => 0.0,
        }
    }
}

impl Provider {
    /// True when the public may see this record at all.
    pub fn is_public(&self) -> bool {
        self.visibility == Visibility::Public
    }

    /// The record as the public may see it: without the street address,
    /// e-mail, contact name, confidential direct lines and capacity. The location is
    /// kept (matching uses the true point); answers coarsen it where
    /// [`Provider::location_confidential`] is set.
    pub fn redact_for_public(&self) -> Provider {
        let mut public = self.clone();
        public.email = None;
        public.contact_name = None;
        if let Some(address) = &mut public.address {
            address.street = None;
        }
        public.phones.retain(|phone| !phone.confidential);
        public.capacity.clear();
        public
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_order_their_rights() {
        assert!(!Role::Public.sees_confidential());
        assert!(Role::Public < Role::Provider && Role::Provider < Role::Advocate);
        assert!(!Role::Provider.sees_confidential() && !Role::Provider.may_review());
        assert!(!Role::Provider.may_edit() && !Role::Provider.may_set_any_capacity());
        assert!(!Role::Provider.may_set_any_hours());
        assert!(Role::Advocate.may_set_any_capacity() && !Role::Advocate.may_set_any_hours());
        assert!(Role::Advocate.sees_confidential() && !Role::Advocate.may_edit());
        assert!(Role::Admin.may_edit() && Role::Admin.may_review());
        assert!(Role::Admin.may_set_any_hours());
        for role in [Role::Public, Role::Provider, Role::Advocate, Role::Admin] {
            assert_eq!(Role::parse(role.code()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn freshness_edge_falls_to_zero_at_the_window() {
        let today: jiff::civil::Date = "2026-11-29".parse().unwrap();
        let freshness = Freshness {
            today,
            window_days: 365,
        };
        let mut provider: Provider = serde_json::from_value(serde_json::json!({
            "id": "x", "name": "X", "kind": "hotline", "availability": {"type": "open24h"}, "source": "t"
        }))
        .unwrap();
        assert!(freshness.is_stale(&provider));
        assert_eq!(freshness.edge(&provider), 0.0);
        provider.verified_at = Some(today);
        assert!((freshness.edge(&provider) - FRESHNESS_EDGE).abs() < 1e-12);
        provider.verified_at = Some("2025-11-29".parse().unwrap());
        assert!(!freshness.is_stale(&provider));
        assert!(freshness.edge(&provider).abs() < 1e-12);
        provider.verified_at = Some("2025-11-28".parse().unwrap());
        assert!(freshness.is_stale(&provider));
    }
}
