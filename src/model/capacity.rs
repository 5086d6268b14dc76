//! How much room a provider has now: HSDS 3.1 `service_capacity`
//! (available, maximum, unit, updated_at, updated_by), judged fresh or
//! stale against a window in hours.
//!
//! Capacity is a staff-only field: [`Provider::redact_for_public`] drops
//! it, and no public or `provider`-key answer shows it. A figure older
//! than the window ([`CapacityWindow`]) is shown with `stale: true` and
//! counts as unknown, exactly as no figure at all.

use super::Provider;
use compact_str::CompactString;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Hours a capacity figure stays fresh unless `serve --capacity-fresh-hours`
/// says otherwise.
pub const DEFAULT_CAPACITY_FRESH_HOURS: u32 = 24;

/// Longest text of a capacity `unit` ("beds", "slots"), in characters.
pub const MAX_CAPACITY_UNIT_CHARS: usize = 40;

/// Most capacity entries one record may hold (one per unit is usual).
pub const MAX_CAPACITY_ENTRIES: usize = 16;

/// One capacity figure, shaped like HSDS 3.1 `service_capacity`: how many
/// `unit`s (beds, slots) are free now, out of how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceCapacity {
    /// Units free now (non-negative).
    pub available: u32,
    /// Units in all, when known (non-negative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<u32>,
    /// What is counted, free text ("beds", "slots").
    pub unit: CompactString,
    /// When the figure was given (RFC 3339); a figure without one counts
    /// as stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// Who gave it: the name of the API key, or the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

/// Why a capacity figure is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapacityError {
    /// `unit` is blank or too long.
    #[error(
        "capacity unit must say what is counted (beds, slots), 1 to {MAX_CAPACITY_UNIT_CHARS} \
         characters, got {0:?}"
    )]
    Unit(String),
    /// `available` is more than `maximum`.
    #[error("capacity available ({available}) is more than its maximum ({maximum})")]
    AboveMaximum {
        /// The figure given as available.
        available: u32,
        /// The figure given as maximum.
        maximum: u32,
    },
    /// More entries than [`MAX_CAPACITY_ENTRIES`].
    #[error("at most {MAX_CAPACITY_ENTRIES} capacity entries, got {0}")]
    TooMany(usize),
}

impl ServiceCapacity {
    /// Checks the figure: a unit of 1 to [`MAX_CAPACITY_UNIT_CHARS`]
    /// characters, and `available` at most `maximum` when both are given.
    ///
    /// # Errors
    /// [`CapacityError::Unit`] or [`CapacityError::AboveMaximum`].
    pub fn check(&self) -> Result<(), CapacityError> {
        let unit = self.unit.trim();
        if unit.is_empty() || unit.chars().count() > MAX_CAPACITY_UNIT_CHARS {
            return Err(CapacityError::Unit(self.unit.to_string()));
        }
        if let Some(maximum) = self.maximum {
            if self.available > maximum {
                return Err(CapacityError::AboveMaximum {
                    available: self.available,
                    maximum,
                });
            }
        }
        Ok(())
    }
}

/// Checks every entry of a capacity list and their number.
///
/// # Errors
/// The first entry's [`CapacityError`], or [`CapacityError::TooMany`].
pub fn check_capacity(capacity: &[ServiceCapacity]) -> Result<(), CapacityError> {
    if capacity.len() > MAX_CAPACITY_ENTRIES {
        return Err(CapacityError::TooMany(capacity.len()));
    }
    capacity.iter().try_for_each(ServiceCapacity::check)
}

/// Whether a provider can take a caller, as far as its capacity says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Accepting {
    /// A fresh figure has room (available above zero).
    Yes,
    /// Fresh figures, all at zero.
    No,
    /// No figure, or only stale ones: ask.
    Unknown,
}

impl Accepting {
    /// True unless fresh figures say there is no room: what
    /// `accepting=true` keeps (unknown is kept, and flagged).
    pub fn admits(self) -> bool {
        self != Accepting::No
    }
}

/// The window a capacity figure stays fresh in, and the instant it is
/// judged at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapacityWindow {
    /// The instant freshness is judged at (a match's `at`, or now).
    pub at: Timestamp,
    /// A figure older than this many hours is stale.
    pub fresh_hours: u32,
}

impl CapacityWindow {
    /// The window of `fresh_hours` hours, judged now.
    pub fn now(fresh_hours: u32) -> CapacityWindow {
        CapacityWindow {
            at: Timestamp::now(),
            fresh_hours,
        }
    }

    /// The same window judged at `at`.
    #[must_use]
    pub fn judged_at(self, at: Timestamp) -> CapacityWindow {
        CapacityWindow { at, ..self }
    }

    /// True when `entry` has no `updated_at`, or was given more than
    /// `fresh_hours` before [`CapacityWindow::at`]. A figure dated after
    /// `at` counts as fresh.
    ///
    /// ```
    /// use refmatch::model::{CapacityWindow, ServiceCapacity};
    /// let window = CapacityWindow { at: "2026-12-03T18:00:00Z".parse().unwrap(), fresh_hours: 24 };
    /// let mut beds = ServiceCapacity { available: 3, maximum: Some(12), unit: "beds".into(),
    ///     updated_at: Some("2026-12-02T18:00:00Z".parse().unwrap()), updated_by: None };
    /// assert!(!window.is_stale(&beds));
    /// beds.updated_at = Some("2026-12-02T17:59:59Z".parse().unwrap());
    /// assert!(window.is_stale(&beds));
    /// ```
    pub fn is_stale(&self, entry: &ServiceCapacity) -> bool {
        let Some(updated) = entry.updated_at else {
            return true;
        };
        let age = self.at.duration_since(updated);
        age > SignedDuration::from_hours(i64::from(self.fresh_hours))
    }

    /// Whether `provider` is accepting: [`Accepting::Yes`] when a fresh
    /// figure has room, [`Accepting::No`] when fresh figures exist and all
    /// are at zero, else [`Accepting::Unknown`].
    pub fn accepting(&self, provider: &Provider) -> Accepting {
        let mut fresh = false;
        for entry in provider.capacity.iter().filter(|e| !self.is_stale(e)) {
            if entry.available > 0 {
                return Accepting::Yes;
            }
            fresh = true;
        }
        if fresh {
            Accepting::No
        } else {
            Accepting::Unknown
        }
    }

    /// The figure to show for `provider`: the freshest entry with room,
    /// else the freshest entry (stale or not), with whether it is stale;
    /// `None` without capacity.
    pub fn shown<'p>(&self, provider: &'p Provider) -> Option<(&'p ServiceCapacity, bool)> {
        let newest = |entries: &mut dyn Iterator<Item = &'p ServiceCapacity>| {
            entries.max_by_key(|e| e.updated_at.unwrap_or(Timestamp::MIN))
        };
        let with_room = newest(
            &mut provider
                .capacity
                .iter()
                .filter(|e| e.available > 0 && !self.is_stale(e)),
        );
        let entry = with_room.or_else(|| newest(&mut provider.capacity.iter()))?;
        Some((entry, self.is_stale(entry)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(available: u32, updated_at: Option<&str>) -> ServiceCapacity {
        ServiceCapacity {
            available,
            maximum: Some(12),
            unit: "beds".into(),
            updated_at: updated_at.map(|t| t.parse().unwrap()),
            updated_by: Some("desk".to_owned()),
        }
    }

    fn provider(capacity: Vec<ServiceCapacity>) -> Provider {
        let mut provider: Provider = serde_json::from_value(serde_json::json!({
            "id": "x", "name": "X", "kind": "service_provider",
            "availability": {"type": "open24h"}, "source": "t"
        }))
        .unwrap();
        provider.capacity = capacity;
        provider
    }

    #[test]
    fn fresh_room_is_yes_fresh_zero_is_no_stale_or_none_is_unknown() {
        let window = CapacityWindow {
            at: "2026-12-03T18:00:00Z".parse().unwrap(),
            fresh_hours: 24,
        };
        let fresh = Some("2026-12-03T10:00:00Z");
        let old = Some("2026-12-01T10:00:00Z");
        assert_eq!(window.accepting(&provider(vec![])), Accepting::Unknown);
        assert_eq!(
            window.accepting(&provider(vec![entry(3, fresh)])),
            Accepting::Yes
        );
        assert_eq!(
            window.accepting(&provider(vec![entry(0, fresh)])),
            Accepting::No
        );
        assert_eq!(
            window.accepting(&provider(vec![entry(3, old)])),
            Accepting::Unknown
        );
        assert_eq!(
            window.accepting(&provider(vec![entry(3, None)])),
            Accepting::Unknown
        );
        // A stale figure with room does not outweigh a fresh zero.
        assert_eq!(
            window.accepting(&provider(vec![entry(3, old), entry(0, fresh)])),
            Accepting::No
        );
        let shown = provider(vec![entry(3, old), entry(0, fresh)]);
        let (figure, stale) = window.shown(&shown).unwrap();
        assert_eq!((figure.available, stale), (0, false));
        // Judged earlier, the old figure is fresh again.
        let earlier = window.judged_at("2026-12-01T12:00:00Z".parse().unwrap());
        assert_eq!(
            earlier.accepting(&provider(vec![entry(3, old)])),
            Accepting::Yes
        );
    }

    #[test]
    fn checks_unit_and_maximum() {
        assert!(entry(3, None).check().is_ok());
        assert!(matches!(
            entry(13, None).check(),
            Err(CapacityError::AboveMaximum { .. })
        ));
        let mut blank = entry(1, None);
        blank.unit = " ".into();
        assert!(matches!(blank.check(), Err(CapacityError::Unit(_))));
        assert!(matches!(
            check_capacity(&vec![entry(1, None); MAX_CAPACITY_ENTRIES + 1]),
            Err(CapacityError::TooMany(_))
        ));
    }
}
