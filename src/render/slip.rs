//! Referral slips: what an advocate gives a caller to keep, as plain text
//! (for an SMS) or as a printable HTML page.
//!
//! A slip holds a provider's **public** phones (never a `confidential`
//! direct line), its hours (day names in the caller's language) and its
//! address when the record is public and its location is not confidential.
//!
//! A **safe** slip (`safe = true`) is for a caller whose phone may be
//! watched: it names no organisation (a neutral label from the catalogue
//! instead), and leaves out every free text that names the provider or
//! reveals the purpose ("trafficking", "shelter", "abuse", "violence",
//! "crisis"…, in every catalogue's language), also inside a phone's note,
//! the hours note or an address; a number written with letters
//! ("1-888-NO-TRATA") is given as its digits. Its text fits in
//! [`SMS_CHARS`] characters where possible, shortened in this order
//! ([`Shortening`]): the address goes, then the hours detail (time zone,
//! hours note, phone notes), then the schedule (a 24-hour provider keeps
//! "24/7"), then every phone but one. The assembled text is checked once more as a
//! whole; should it still hold a name or a purpose word, the bare label and
//! one number are all that is given.
//!
//! Message catalogues are data (`data/slips/{code}.json`, embedded at build
//! time): a new language is a file and one entry of [`CATALOGUE_FILES`].
//!
//! ```
//! use refmatch::model::{Phone, PhoneKind, Provider};
//! use refmatch::render::slip::{catalogue, slip};
//!
//! let mut provider: Provider = serde_json::from_str(r#"{
//!     "id": "casa", "name": "Casa Esperanza Trafficking Shelter", "kind": "service_provider",
//!     "availability": {"type": "open24h"}, "source": "doc"}"#).unwrap();
//! provider.phones.push(Phone::new("(559) 555-0100", PhoneKind::Voice));
//! let spanish = catalogue("es").unwrap();
//! let text = slip(&provider, spanish, true).text();
//! assert_eq!(text.text, "Contacto\nLlame: (559) 555-0100\nHorario: 24 horas, todos los días");
//! assert!(text.fits_sms);
//! ```

use crate::gazetteer::normalize;
use crate::model::{Availability, OpenInterval, Phone, PhoneKind, Provider, Visibility};
use serde::Deserialize;
use std::fmt::Write as _;
use std::sync::OnceLock;

/// Characters of one SMS (GSM-7). A text with characters outside GSM-7
/// (most accented letters) is sent as UCS-2 with 70 per part; phones join
/// the parts, so 160 is the figure aimed at.
pub const SMS_CHARS: usize = 160;

/// Every language a slip can be written in: its ISO 639-1 code and its
/// catalogue file. A new language is a file in `data/slips/` and one entry
/// here.
pub const CATALOGUE_FILES: &[(&str, &str)] = &[
    ("en", include_str!("../../data/slips/en.json")),
    ("es", include_str!("../../data/slips/es.json")),
    ("fr", include_str!("../../data/slips/fr.json")),
    ("pt", include_str!("../../data/slips/pt.json")),
];

/// The messages of one language (`data/slips/{code}.json`). Every key is
/// required and no other is accepted, so a catalogue missing a message does
/// not load (a unit test loads every one).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// ISO 639-1 code (set from [`CATALOGUE_FILES`], not read from the file).
    #[serde(skip)]
    pub code: &'static str,
    /// The language's own name ("Español").
    pub language: String,
    /// Heading of a slip that is not safe ("Referral").
    pub title: String,
    /// The neutral label a safe slip carries instead of a name ("Contact").
    pub safe_label: String,
    /// Before a voice number ("Call").
    pub call: String,
    /// Before a text (SMS) number ("Text").
    pub text: String,
    /// Before a TTY number.
    pub tty: String,
    /// After a toll-free number ("toll-free").
    pub toll_free: String,
    /// Before the hours ("Hours").
    pub hours: String,
    /// Hours of a provider open around the clock.
    pub open_24h: String,
    /// The same, short (an SMS pressed for room).
    pub open_24h_short: String,
    /// Hours not known.
    pub hours_unknown: String,
    /// The provider's time zone; `{zone}` is its city ("{zone} time").
    pub time_zone: String,
    /// Before the address ("Address").
    pub address: String,
    /// Day names, Monday first, short.
    pub days: [String; 7],
    /// Words that reveal what a provider is for, in this language (matched
    /// case- and accent-insensitively, inside words too); a safe slip in
    /// any language leaves out a text holding a word of any catalogue.
    pub purpose_words: Vec<String>,
}

/// A catalogue that failed to load (a bug of the build: tests load them all).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("slip catalogue data/slips/{code}.json does not load: {reason}")]
pub struct CatalogueError {
    /// The language code.
    pub code: &'static str,
    /// What serde said.
    pub reason: String,
}

/// Every catalogue of [`CATALOGUE_FILES`], parsed once, in its order.
///
/// # Errors
/// [`CatalogueError`] naming the first file that does not load.
pub fn catalogues() -> Result<&'static [Catalogue], CatalogueError> {
    static LOADED: OnceLock<Result<Vec<Catalogue>, CatalogueError>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            CATALOGUE_FILES
                .iter()
                .map(|(code, text)| {
                    let mut catalogue: Catalogue =
                        serde_json::from_str(text).map_err(|e| CatalogueError {
                            code,
                            reason: e.to_string(),
                        })?;
                    catalogue.code = code;
                    Ok(catalogue)
                })
                .collect()
        })
        .as_deref()
        .map_err(Clone::clone)
}

/// The catalogue of language `code` (`en`, `es`, `fr`, `pt`;
/// case-insensitive); `None` for a language without one.
pub fn catalogue(code: &str) -> Option<&'static Catalogue> {
    let code = code.trim();
    catalogues()
        .ok()?
        .iter()
        .find(|c| c.code.eq_ignore_ascii_case(code))
}

/// The codes of every language a slip can be written in.
pub fn language_codes() -> impl Iterator<Item = &'static str> {
    CATALOGUE_FILES.iter().map(|(code, _)| *code)
}

/// Every catalogue's purpose words, folded as [`normalize`] folds text.
fn purpose_words() -> &'static [String] {
    static WORDS: OnceLock<Vec<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut words: Vec<String> = catalogues()
            .unwrap_or_default()
            .iter()
            .flat_map(|c| c.purpose_words.iter())
            .map(|w| normalize(w))
            .filter(|w| !w.is_empty())
            .collect();
        words.sort();
        words.dedup();
        words
    })
}

/// The purpose word `text` holds, if any (case- and accent-insensitive,
/// inside words too: "anti-trafficking" holds "trafficking").
pub fn purpose_word_in(text: &str) -> Option<&'static str> {
    let folded = normalize(text);
    purpose_words()
        .iter()
        .find(|w| folded.contains(w.as_str()))
        .map(String::as_str)
}

/// What a safe slip must not say of `provider`: its name and organisation
/// (whole, folded) and each of their words of four letters or more.
struct Secrets {
    names: Vec<String>,
    words: Vec<String>,
}

impl Secrets {
    fn of(provider: &Provider) -> Secrets {
        let names: Vec<String> = [
            Some(provider.name.as_str()),
            provider.organization.as_deref(),
        ]
        .into_iter()
        .flatten()
        .map(normalize)
        .filter(|n| !n.is_empty())
        .collect();
        let words = names
            .iter()
            .flat_map(|n| n.split(' '))
            .filter(|w| w.chars().count() >= 4)
            .map(str::to_owned)
            .collect();
        Secrets { names, words }
    }

    /// True when `text` (a free text of the record: a note, an address
    /// part) names the provider, holds one of its names' words, or reveals
    /// the purpose.
    fn revealed_by(&self, text: &str) -> bool {
        let folded = normalize(text);
        // Whole words for the names' words ("Casa" is not in "Casablanca
        // Ave"), anywhere for the full names.
        self.reveals_in_whole(text) || self.words.iter().any(|w| folded.split(' ').any(|x| x == w))
    }

    /// True when `text` (a whole slip, the catalogue's own words included)
    /// holds a full name or a purpose word. The names' single words are
    /// not checked here: "Call" or "Contact" in a name must not make every
    /// slip of it bare.
    fn reveals_in_whole(&self, text: &str) -> bool {
        let folded = normalize(text);
        purpose_word_in(text).is_some() || self.names.iter().any(|n| folded.contains(n.as_str()))
    }
}

/// One number on a slip.
#[derive(Debug, Clone, PartialEq)]
pub struct SlipPhone {
    /// What to do with it, from the catalogue ("Call", "Text", "TTY").
    pub action: String,
    /// The number as shown; digits when the written form has letters in a
    /// safe slip.
    pub number: String,
    /// Digits to dial (for `tel:`/`sms:` links).
    pub dial: String,
    /// What kind of line it is.
    pub kind: PhoneKind,
    /// Toll-free and the phone's note, when there are any (and, in a safe
    /// slip, only when they reveal nothing).
    pub note: Option<String>,
}

/// A slip's content before it is written as text or HTML.
#[derive(Debug, Clone, PartialEq)]
pub struct Slip {
    /// The catalogue's language code.
    pub language: &'static str,
    /// True for a safe slip.
    pub safe: bool,
    /// The provider's name, or the neutral label in a safe slip.
    pub heading: String,
    /// The organisation, when it differs from the name (never in a safe slip).
    pub organization: Option<String>,
    /// Public numbers, in the record's order.
    pub phones: Vec<SlipPhone>,
    /// The hours in the caller's language, e.g. "Mon-Fri 09:00-17:00".
    pub hours: String,
    /// The provider's time zone, as a city ("Los Angeles time"), for a
    /// weekly schedule.
    pub time_zone: Option<String>,
    /// The hours note, when there is one (in a safe slip, only when it
    /// reveals nothing).
    pub hours_note: Option<String>,
    /// Short hours for a pressed SMS: "24/7" for a provider open around the
    /// clock, else none.
    pub hours_short: Option<String>,
    /// The address, one line, when the record is public and its location is
    /// not confidential.
    pub address: Option<String>,
    catalogue: &'static Catalogue,
}

/// How much of a slip its text holds: each step leaves out more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shortening {
    /// Everything.
    Full,
    /// No address.
    NoAddress,
    /// No address, no hours detail: the schedule stays, its time zone, the
    /// hours note and the phones' notes go.
    NoHoursDetail,
    /// No address and no hours, but "24/7" for a provider open around the
    /// clock.
    NoHours,
    /// As [`Shortening::NoHours`], with one phone (the first voice line,
    /// else the first).
    OnePhone,
    /// The bare label and one number: the assembled text still revealed a
    /// name or a purpose (a safe slip only).
    Bare,
}

/// A slip written as text.
#[derive(Debug, Clone, PartialEq)]
pub struct SlipText {
    /// The text, lines joined by `\n`.
    pub text: String,
    /// Its length in characters.
    pub chars: usize,
    /// True when it fits in one SMS ([`SMS_CHARS`]).
    pub fits_sms: bool,
    /// How much was left out to fit.
    pub shortening: Shortening,
}

/// Builds the slip of `provider` in `catalogue`'s language; `safe` for a
/// slip that names no organisation and reveals no purpose (module docs).
pub fn slip(provider: &Provider, catalogue: &'static Catalogue, safe: bool) -> Slip {
    let secrets = Secrets::of(provider);
    // A free text is kept unless the slip is safe and it reveals something.
    let keep = |text: &str| -> Option<String> {
        let text = text.trim();
        let withheld = text.is_empty() || (safe && secrets.revealed_by(text));
        (!withheld).then(|| text.to_owned())
    };
    let phones = provider
        .phones
        .iter()
        .filter(|p| !p.confidential)
        .map(|p| slip_phone(p, catalogue, safe, &keep))
        .collect();
    let (hours, time_zone, hours_short) = hours_of(&provider.availability, catalogue);
    let time_zone = time_zone.and_then(|z| keep(&z));
    let address = if provider.visibility == Visibility::Public && !provider.location_confidential {
        provider.address.as_ref().and_then(|a| {
            let parts: Vec<String> = [&a.street, &a.city, &a.region, &a.postal_code]
                .into_iter()
                .flatten()
                .filter_map(|part| keep(part))
                .collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        })
    } else {
        None
    };
    let organization = provider
        .organization
        .as_deref()
        .filter(|o| !safe && o.trim() != provider.name.trim())
        .map(|o| o.trim().to_owned());
    Slip {
        language: catalogue.code,
        safe,
        heading: if safe {
            catalogue.safe_label.clone()
        } else {
            provider.name.trim().to_owned()
        },
        organization,
        phones,
        hours,
        time_zone,
        hours_note: provider.hours_note.as_deref().and_then(keep),
        hours_short,
        address,
        catalogue,
    }
    .checked(&secrets)
}

fn slip_phone(
    phone: &Phone,
    catalogue: &Catalogue,
    safe: bool,
    keep: &impl Fn(&str) -> Option<String>,
) -> SlipPhone {
    let action = match phone.kind {
        PhoneKind::Voice | PhoneKind::TollFree => &catalogue.call,
        PhoneKind::Text => &catalogue.text,
        PhoneKind::Tty => &catalogue.tty,
    };
    let has_letters = phone.number.chars().any(char::is_alphabetic);
    let number = if safe && has_letters {
        phone.dial.to_string()
    } else {
        phone.number.trim().to_owned()
    };
    let mut notes = Vec::new();
    if phone.kind == PhoneKind::TollFree {
        notes.push(catalogue.toll_free.clone());
    }
    if let Some(note) = phone.note.as_deref().and_then(keep) {
        notes.push(note);
    }
    SlipPhone {
        action: action.clone(),
        number,
        dial: phone.dial.to_string(),
        kind: phone.kind,
        note: (!notes.is_empty()).then(|| notes.join(", ")),
    }
}

/// `HH:MM` of minutes after midnight (past midnight wraps).
fn clock(minutes: u16) -> String {
    let minutes = minutes % (24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The hours in `catalogue`'s day names ("Mon-Fri 09:00-17:00; Sat
/// 10:00-14:00"), the zone's city for a weekly schedule, and the short form.
fn hours_of(
    availability: &Availability,
    catalogue: &Catalogue,
) -> (String, Option<String>, Option<String>) {
    match availability {
        Availability::Open24h => (
            catalogue.open_24h.clone(),
            None,
            Some(catalogue.open_24h_short.clone()),
        ),
        Availability::Unknown => (catalogue.hours_unknown.clone(), None, None),
        Availability::Weekly {
            timezone,
            intervals,
        } => {
            let spans_of = |day: u8| -> &[OpenInterval] {
                let start = intervals.partition_point(|i| i.day < day);
                let end = intervals.partition_point(|i| i.day <= day);
                &intervals[start..end]
            };
            let same = |a: &[OpenInterval], b: &[OpenInterval]| {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| x.opens_min == y.opens_min && x.closes_min == y.closes_min)
            };
            let day_name = |d: u8| catalogue.days[usize::from(d % 7)].as_str();
            let mut rules = Vec::new();
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
                let mut rule = day_name(day).to_owned();
                if last != day {
                    rule.push('-');
                    rule.push_str(day_name(last));
                }
                let times: Vec<String> = spans
                    .iter()
                    .map(|i| format!("{}-{}", clock(i.opens_min), clock(i.closes_min)))
                    .collect();
                rule.push(' ');
                rule.push_str(&times.join(","));
                rules.push(rule);
                day = last + 1;
            }
            let city = timezone
                .rsplit('/')
                .next()
                .unwrap_or(timezone)
                .replace('_', " ");
            let zone = (!city.is_empty()).then(|| catalogue.time_zone.replace("{zone}", &city));
            (rules.join("; "), zone, None)
        }
    }
}

impl Slip {
    /// The slip's catalogue.
    pub fn catalogue(&self) -> &'static Catalogue {
        self.catalogue
    }

    /// A safe slip whose whole text still names the provider or reveals the
    /// purpose (words met across two parts) keeps only its label and a
    /// number.
    fn checked(mut self, secrets: &Secrets) -> Slip {
        if self.safe && secrets.reveals_in_whole(&self.lines(Shortening::Full).join("\n")) {
            self.strip_to_bare();
        }
        self
    }

    fn strip_to_bare(&mut self) {
        let one = self.one_phone().cloned();
        self.phones = one
            .map(|p| SlipPhone { note: None, ..p })
            .into_iter()
            .collect();
        self.hours = String::new();
        self.time_zone = None;
        self.hours_note = None;
        self.hours_short = None;
        self.address = None;
    }

    /// The phone a pressed slip keeps: the first voice or toll-free line,
    /// else the first.
    fn one_phone(&self) -> Option<&SlipPhone> {
        self.phones
            .iter()
            .find(|p| matches!(p.kind, PhoneKind::Voice | PhoneKind::TollFree))
            .or_else(|| self.phones.first())
    }

    /// The hours line's text (schedule, zone and note), without its label.
    fn hours_detail(&self) -> String {
        let mut text = self.hours.clone();
        if let Some(zone) = &self.time_zone {
            let _ = write!(text, " ({zone})");
        }
        if let Some(note) = &self.hours_note {
            if text.is_empty() {
                text.push_str(note);
            } else {
                let _ = write!(text, "; {note}");
            }
        }
        text
    }

    fn lines(&self, level: Shortening) -> Vec<String> {
        let c = self.catalogue;
        let mut lines = vec![self.heading.clone()];
        if let Some(org) = &self.organization {
            lines.push(org.clone());
        }
        let phone_line = |p: &SlipPhone, with_note: bool| {
            let mut line = format!("{}: {}", p.action, p.number);
            if let (true, Some(note)) = (with_note, &p.note) {
                let _ = write!(line, " ({note})");
            }
            line
        };
        if level >= Shortening::OnePhone {
            lines.extend(self.one_phone().map(|p| phone_line(p, false)));
        } else {
            let notes = level < Shortening::NoHoursDetail;
            lines.extend(self.phones.iter().map(|p| phone_line(p, notes)));
        }
        if level < Shortening::NoHoursDetail {
            let detail = self.hours_detail();
            if !detail.is_empty() {
                lines.push(format!("{}: {detail}", c.hours));
            }
        } else if level < Shortening::NoHours && self.hours_short.is_none() {
            if !self.hours.is_empty() {
                lines.push(format!("{}: {}", c.hours, self.hours));
            }
        } else if level < Shortening::Bare {
            if let Some(short) = &self.hours_short {
                lines.push(format!("{}: {short}", c.hours));
            }
        }
        if level < Shortening::NoAddress {
            if let Some(address) = &self.address {
                lines.push(format!("{}: {address}", c.address));
            }
        }
        lines
    }

    /// The slip as plain text. A safe slip is shortened until it fits in
    /// one SMS ([`SMS_CHARS`]) where it can (address, then hours detail,
    /// then the schedule, then all phones but one); a slip that is not
    /// safe is given whole.
    pub fn text(&self) -> SlipText {
        let bare = self.phones.len() <= 1
            && self.hours.is_empty()
            && self.hours_note.is_none()
            && self.address.is_none();
        let levels: &[Shortening] = if !self.safe {
            &[Shortening::Full]
        } else if bare {
            &[Shortening::Bare]
        } else {
            &[
                Shortening::Full,
                Shortening::NoAddress,
                Shortening::NoHoursDetail,
                Shortening::NoHours,
                Shortening::OnePhone,
            ]
        };
        let mut written = None;
        for &level in levels {
            let text = self.lines(level).join("\n");
            let chars = text.chars().count();
            let fits_sms = chars <= SMS_CHARS;
            written = Some(SlipText {
                text,
                chars,
                fits_sms,
                shortening: level,
            });
            if fits_sms {
                break;
            }
        }
        written.unwrap_or_else(|| SlipText {
            text: self.heading.clone(),
            chars: self.heading.chars().count(),
            fits_sms: self.heading.chars().count() <= SMS_CHARS,
            shortening: Shortening::Bare,
        })
    }

    /// The slip as a printable HTML page: every text escaped, no script,
    /// one inline stylesheet ([`STYLESHEET`], allowed by its hash:
    /// [`stylesheet_hash`]) with print rules; numbers are `tel:`/`sms:`
    /// links. Nothing is shortened.
    pub fn html(&self) -> String {
        let c = self.catalogue;
        let mut html = String::with_capacity(2048);
        let title = if self.safe { &c.safe_label } else { &c.title };
        let _ = write!(
            html,
            "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"referrer\" content=\"no-referrer\">\n<title>{}</title>\n\
             <style>{STYLESHEET}</style>\n</head>\n<body>\n<main class=\"slip\">\n<h1>{}</h1>\n",
            escape(self.language),
            escape(title),
            escape(&self.heading)
        );
        if let Some(org) = &self.organization {
            let _ = writeln!(html, "<p class=\"org\">{}</p>", escape(org));
        }
        if !self.phones.is_empty() {
            html.push_str("<ul class=\"phones\">\n");
            for p in &self.phones {
                let scheme = if p.kind == PhoneKind::Text {
                    "sms"
                } else {
                    "tel"
                };
                let dial: String = p
                    .dial
                    .chars()
                    .filter(|c| c.is_ascii_digit() || *c == '+')
                    .collect();
                let _ = write!(
                    html,
                    "<li><span class=\"action\">{}:</span> ",
                    escape(&p.action)
                );
                if dial.is_empty() {
                    let _ = write!(html, "<span class=\"number\">{}</span>", escape(&p.number));
                } else {
                    let _ = write!(
                        html,
                        "<a class=\"number\" href=\"{scheme}:{}\">{}</a>",
                        escape(&dial),
                        escape(&p.number)
                    );
                }
                if let Some(note) = &p.note {
                    let _ = write!(html, " <span class=\"note\">({})</span>", escape(note));
                }
                html.push_str("</li>\n");
            }
            html.push_str("</ul>\n");
        }
        let detail = self.hours_detail();
        if !detail.is_empty() {
            let _ = writeln!(
                html,
                "<p class=\"hours\"><strong>{}:</strong> {}</p>",
                escape(&c.hours),
                escape(&detail)
            );
        }
        if let Some(address) = &self.address {
            let _ = writeln!(
                html,
                "<p class=\"address\"><strong>{}:</strong> {}</p>",
                escape(&c.address),
                escape(address)
            );
        }
        html.push_str("</main>\n</body>\n</html>\n");
        html
    }
}

/// The slip page's only stylesheet, inline: large type on screen, a small
/// card on paper.
pub const STYLESHEET: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#111;background:#fff}.slip{max-width:32rem;border:1px solid #999;border-radius:6px;padding:1rem 1.5rem}h1{font-size:1.5rem;margin:0 0 .5rem}.org{margin:0 0 .75rem;color:#444}.phones{list-style:none;padding:0;margin:.5rem 0;font-size:1.25rem}.phones li{margin:.25rem 0}.action{font-weight:600}.note{color:#444;font-size:1rem}a{color:#0b4f8a}@page{size:A6;margin:8mm}@media print{body{margin:0}.slip{border:none;padding:0}a{color:#000;text-decoration:none}}";

/// The CSP source of [`STYLESHEET`] (`'sha256-…'`), so a policy can allow
/// exactly this inline style and nothing else.
pub fn stylesheet_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        use sha2::{Digest, Sha256};
        format!(
            "'sha256-{}'",
            base64(&Sha256::digest(STYLESHEET.as_bytes()))
        )
    })
}

/// The `Content-Security-Policy` of a slip page: nothing but its own
/// stylesheet; no script, no request, no form.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        stylesheet_hash()
    )
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `text` with `& < > " '` escaped for HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
#[path = "slip_tests.rs"]
mod tests;
