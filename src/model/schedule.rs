//! Opening hours: 24-hour capacity, or a weekly schedule in an IANA time
//! zone, written in a subset of the OpenStreetMap `opening_hours` syntax:
//!
//! - `24/7`
//! - `Mo-Fr 09:00-17:00`
//! - `Mo-Fr 08:00-12:00,13:00-17:00; Sa 10:00-14:00`
//! - `Fr-Sa 22:00-02:00` (past midnight: open until 02:00 the next day)
//!
//! Hours are evaluated in the provider's own time zone, across DST changes.

use compact_str::CompactString;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Minutes in a day.
const DAY_MINUTES: u16 = 24 * 60;

/// Day abbreviations in Monday-first order, as `opening_hours` writes them.
const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

/// Why an hours text or time zone was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScheduleError {
    /// The hours text does not follow the syntax.
    #[error("hours '{text}': {reason}; write e.g. '24/7' or 'Mo-Fr 09:00-17:00; Sa 10:00-14:00'")]
    Syntax {
        /// The offending text.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// The time zone is not an IANA name this build knows.
    #[error("unknown time zone '{0}'; use an IANA name such as America/New_York")]
    TimeZone(String),
}

/// One opening interval within a week, in minutes from the start of its day.
/// `closes_min` may exceed 1440 for intervals that run past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenInterval {
    /// Day the interval opens, 0 = Monday … 6 = Sunday.
    pub day: u8,
    /// Opening time in minutes after midnight.
    pub opens_min: u16,
    /// Closing time in minutes after the same midnight (up to 2880).
    pub closes_min: u16,
}

/// When a provider can be reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Availability {
    /// Reachable around the clock.
    Open24h,
    /// Reachable in the listed weekly intervals, in `timezone`.
    Weekly {
        /// IANA time zone the hours are given in.
        timezone: CompactString,
        /// Intervals, sorted by day and opening time.
        intervals: Vec<OpenInterval>,
    },
    /// Hours not known.
    Unknown,
}

impl Availability {
    /// Parses an hours text (`24/7`, `Mo-Fr 09:00-17:00`, …) in `timezone`.
    /// An empty text means [`Availability::Unknown`].
    ///
    /// ```
    /// use refmatch::model::Availability;
    /// let hours = Availability::parse("Mo-Fr 09:00-17:00", "America/New_York").unwrap();
    /// let monday_noon = "2026-03-02T17:00:00Z".parse().unwrap(); // 12:00 EST
    /// let monday_late = "2026-03-02T23:00:00Z".parse().unwrap(); // 18:00 EST
    /// assert_eq!(hours.is_open_at(monday_noon), Some(true));
    /// assert_eq!(hours.is_open_at(monday_late), Some(false));
    /// ```
    ///
    /// # Errors
    /// [`ScheduleError`] for bad syntax, impossible times or an unknown zone.
    pub fn parse(text: &str, timezone: &str) -> Result<Self, ScheduleError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Availability::Unknown);
        }
        if text == "24/7" {
            return Ok(Availability::Open24h);
        }
        let timezone = timezone.trim();
        TimeZone::get(timezone).map_err(|_| ScheduleError::TimeZone(timezone.to_owned()))?;
        let syntax = |reason: String| ScheduleError::Syntax {
            text: text.to_owned(),
            reason,
        };
        let mut intervals = Vec::new();
        for rule in text.split(';').map(str::trim).filter(|r| !r.is_empty()) {
            let (days, times) = rule
                .split_once(' ')
                .ok_or_else(|| syntax(format!("rule '{rule}' needs days and times")))?;
            let days = parse_days(days).map_err(&syntax)?;
            let times = times.trim();
            if times == "off" {
                continue;
            }
            for span in times.split(',') {
                let (opens, closes) = span
                    .trim()
                    .split_once('-')
                    .ok_or_else(|| syntax(format!("'{span}' is not HH:MM-HH:MM")))?;
                let opens_min = parse_time(opens).map_err(&syntax)?;
                let mut closes_min = parse_time(closes).map_err(&syntax)?;
                if closes_min == opens_min {
                    return Err(syntax(format!(
                        "'{span}' opens and closes at the same time"
                    )));
                }
                if closes_min < opens_min {
                    closes_min += DAY_MINUTES; // past midnight
                }
                for &day in &days {
                    intervals.push(OpenInterval {
                        day,
                        opens_min,
                        closes_min,
                    });
                }
            }
        }
        if intervals.is_empty() {
            return Err(syntax("no opening times".to_owned()));
        }
        intervals.sort_by_key(|i| (i.day, i.opens_min, i.closes_min));
        intervals.dedup();
        Ok(Availability::Weekly {
            timezone: timezone.into(),
            intervals,
        })
    }

    /// True when reachable around the clock.
    pub fn is_open_24h(&self) -> bool {
        matches!(self, Availability::Open24h)
    }

    /// Whether the provider is open at `instant`, evaluated in its own time
    /// zone; `None` when the hours are unknown.
    pub fn is_open_at(&self, instant: Timestamp) -> Option<bool> {
        match self {
            Availability::Open24h => Some(true),
            Availability::Unknown => None,
            Availability::Weekly {
                timezone,
                intervals,
            } => {
                let zone = TimeZone::get(timezone).ok()?;
                let local = zone.to_datetime(instant);
                let day = local.weekday().to_monday_zero_offset() as u8;
                let minute = local.hour() as u16 * 60 + local.minute() as u16;
                let yesterday = (day + 6) % 7;
                Some(intervals.iter().any(|i| {
                    (i.day == day && i.opens_min <= minute && minute < i.closes_min)
                        || (i.day == yesterday && minute + DAY_MINUTES < i.closes_min)
                }))
            }
        }
    }
}

impl fmt::Display for Availability {
    /// Writes the hours back in `opening_hours` syntax (`24/7`,
    /// `Mo 09:00-17:00; Tu 09:00-17:00`), or nothing when unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Availability::Open24h => f.write_str("24/7"),
            Availability::Unknown => Ok(()),
            Availability::Weekly { intervals, .. } => {
                // Intervals are sorted by day: slice them per day, then merge
                // consecutive days with the same spans ("Mo-Fr 09:00-17:00").
                // Written straight to the formatter: this runs for every
                // result the API serialises.
                let spans_of = |day: u8| {
                    let start = intervals.partition_point(|i| i.day < day);
                    let end = intervals.partition_point(|i| i.day <= day);
                    &intervals[start..end]
                };
                let same = |a: &[OpenInterval], b: &[OpenInterval]| {
                    a.len() == b.len()
                        && a.iter().zip(b).all(|(x, y)| {
                            x.opens_min == y.opens_min && x.closes_min == y.closes_min
                        })
                };
                let mut first_rule = true;
                let mut day = 0u8;
                while day < 7 {
                    let spans = spans_of(day);
                    if spans.is_empty() {
                        day += 1;
                        continue;
                    }
                    let mut last = day;
                    while last < 6 && same(spans, spans_of(last + 1)) {
                        last += 1;
                    }
                    if !first_rule {
                        f.write_str("; ")?;
                    }
                    first_rule = false;
                    f.write_str(DAYS[day as usize])?;
                    if last != day {
                        write!(f, "-{}", DAYS[last as usize])?;
                    }
                    for (n, i) in spans.iter().enumerate() {
                        let separator = if n == 0 { " " } else { "," };
                        write!(
                            f,
                            "{separator}{}-{}",
                            clock(i.opens_min),
                            clock(i.closes_min % DAY_MINUTES)
                        )?;
                    }
                    day = last + 1;
                }
                Ok(())
            }
        }
    }
}

/// Minutes after midnight as `HH:MM`.
struct Clock(u16);

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

fn clock(minutes: u16) -> Clock {
    Clock(minutes)
}

fn day_index(name: &str) -> Result<u8, String> {
    DAYS.iter()
        .position(|d| d.eq_ignore_ascii_case(name))
        .map(|i| i as u8)
        .ok_or_else(|| format!("unknown day '{name}' (use Mo Tu We Th Fr Sa Su)"))
}

fn parse_days(text: &str) -> Result<Vec<u8>, String> {
    let mut days = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (day_index(first)?, day_index(last)?);
                let mut day = first;
                loop {
                    days.push(day);
                    if day == last {
                        break;
                    }
                    day = (day + 1) % 7;
                }
            }
            None => days.push(day_index(part)?),
        }
    }
    Ok(days)
}

fn parse_time(text: &str) -> Result<u16, String> {
    let text = text.trim();
    let (hours, minutes) = text
        .split_once(':')
        .ok_or_else(|| format!("'{text}' is not HH:MM"))?;
    let hours: u16 = hours
        .parse()
        .map_err(|_| format!("'{text}' is not HH:MM"))?;
    let minutes: u16 = minutes
        .parse()
        .map_err(|_| format!("'{text}' is not HH:MM"))?;
    if hours > 24 || minutes > 59 || (hours == 24 && minutes != 0) {
        return Err(format!("'{text}' is not a time of day"));
    }
    Ok(hours * 60 + minutes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn weekday_nine_to_five_eastern_across_dst() {
        let hours = Availability::parse("Mo-Fr 09:00-17:00", "America/New_York").unwrap();
        // Winter (EST, UTC-5): 09:30 local = 14:30Z.
        assert_eq!(hours.is_open_at(at("2026-01-05T14:30:00Z")), Some(true));
        assert_eq!(hours.is_open_at(at("2026-01-05T13:30:00Z")), Some(false));
        // Summer (EDT, UTC-4): 09:30 local = 13:30Z.
        assert_eq!(hours.is_open_at(at("2026-07-06T13:30:00Z")), Some(true));
        assert_eq!(hours.is_open_at(at("2026-07-06T21:30:00Z")), Some(false));
        // Monday 8 March 2026, the day after the spring change: 16:30 EDT.
        assert_eq!(hours.is_open_at(at("2026-03-09T20:30:00Z")), Some(true));
        // Saturday.
        assert_eq!(hours.is_open_at(at("2026-01-10T15:00:00Z")), Some(false));
    }

    #[test]
    fn same_instant_differs_by_zone() {
        let instant = at("2026-01-05T16:30:00Z"); // 11:30 New York, 08:30 Los Angeles
        let east = Availability::parse("Mo-Fr 09:00-17:00", "America/New_York").unwrap();
        let west = Availability::parse("Mo-Fr 09:00-17:00", "America/Los_Angeles").unwrap();
        assert_eq!(east.is_open_at(instant), Some(true));
        assert_eq!(west.is_open_at(instant), Some(false));
    }

    #[test]
    fn overnight_spans_roll_into_the_next_day() {
        let hours = Availability::parse("Fr 22:00-02:00", "UTC").unwrap();
        assert_eq!(hours.is_open_at(at("2026-01-09T23:00:00Z")), Some(true)); // Fri 23:00
        assert_eq!(hours.is_open_at(at("2026-01-10T01:30:00Z")), Some(true)); // Sat 01:30
        assert_eq!(hours.is_open_at(at("2026-01-10T02:30:00Z")), Some(false));
        let wrap = Availability::parse("Su 23:00-01:00", "UTC").unwrap();
        assert_eq!(wrap.is_open_at(at("2026-01-12T00:30:00Z")), Some(true)); // Mon 00:30
    }

    #[test]
    fn rejects_impossible_hours_with_reasons() {
        for (text, needle) in [
            ("Mo-Fr 25:00-26:00", "not a time of day"),
            ("Mo-Fr 09:60-17:00", "not a time of day"),
            ("Xx 09:00-17:00", "unknown day"),
            ("Mo-Fr", "needs days and times"),
            ("Mo 09:00", "HH:MM-HH:MM"),
            ("Mo 09:00-09:00", "same time"),
        ] {
            let error = Availability::parse(text, "UTC").unwrap_err().to_string();
            assert!(error.contains(needle), "{text}: {error}");
        }
        assert_eq!(
            Availability::parse("Mo 09:00-17:00", "Mars/Olympus"),
            Err(ScheduleError::TimeZone("Mars/Olympus".into()))
        );
        assert_eq!(Availability::parse("", "UTC"), Ok(Availability::Unknown));
        assert_eq!(Availability::parse("24/7", ""), Ok(Availability::Open24h));
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "24/7",
            "Mo-Fr 09:00-17:00",
            "Mo-Fr 08:00-12:00,13:00-17:00; Sa 10:00-14:00",
            "Fr 22:00-02:00",
        ] {
            let hours = Availability::parse(text, "America/Chicago").unwrap();
            assert_eq!(hours.to_string(), text);
            assert_eq!(
                Availability::parse(&hours.to_string(), "America/Chicago").unwrap(),
                hours
            );
        }
    }

    proptest! {
        #[test]
        fn parser_never_panics(text in "\\PC{0,40}") {
            let _ = Availability::parse(&text, "UTC");
        }
    }
}
