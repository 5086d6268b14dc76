//! Response bodies: GeoJSON (RFC 7946) FeatureCollections and plain JSON,
//! written straight into one byte buffer from borrowed provider records.
//! Coordinates are `[lon, lat]` in degrees. The CLI prints the same bodies.
//!
//! A provider's properties are of two kinds. Most depend only on the
//! record and on whether the viewer is staff (name, kind, codes, hours,
//! address…): they are rendered once per record, audience and snapshot
//! and kept in [`Fragments`], so a busy server copies them instead of
//! serialising them again. The rest depend on the request (rank, reasons,
//! distance, the numbers that serve the caller's country, staleness as of
//! today) and are written each time.
//!
//! The writer is hand-written rather than derived `Serialize` structs
//! because it is measurably faster: with it (and kept fragments) the
//! public `/v1/match` load went from 18.6–20.7k to 24.2–24.9k requests a
//! second (×1.31) and advocates' from about 4.2k to 9.1k (×2.16); see
//! "After rendered records" in `benches/README.md`.

use crate::index::Directory;
use crate::matching::{
    AppliedFilters, Match, MatchResponse, Page, ResolvedPlace, View, WarmTransfer,
};
use crate::model::referral::ReferralCounts;
use crate::model::{Address, Availability, LatLng, Phone, Provider};
use rustc_hash::FxHashMap;
use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;
use std::sync::{Arc, Mutex, PoisonError};

/// Appends `value` as JSON. The types written here cannot fail to
/// serialise; if one ever did, `null` is written in its place so the body
/// stays valid JSON.
fn json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let mark = out.len();
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.truncate(mark);
        out.extend_from_slice(b"null");
    }
}

/// A JSON object being written: `{`, then `"key":value` members.
struct Object<'o> {
    out: &'o mut Vec<u8>,
    empty: bool,
}

impl<'o> Object<'o> {
    fn open(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Object { out, empty: true }
    }

    /// Starts member `key` (a fixed ASCII name: nothing to escape).
    fn key(&mut self, key: &str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        self.key(key);
        json(self.out, value);
    }

    /// Members already written as `"a":1,"b":2` (no braces).
    fn members(&mut self, members: &[u8]) {
        if members.is_empty() {
            return;
        }
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.extend_from_slice(members);
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// Writes `[item, item, …]`.
fn array<T>(
    out: &mut Vec<u8>,
    items: impl IntoIterator<Item = T>,
    mut write: impl FnMut(&mut Vec<u8>, T),
) {
    out.push(b'[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

/// Hours as `opening_hours` text (`24/7`, `Mo-Fr 09:00-17:00`), `null`
/// when unknown.
struct Hours<'a>(&'a Availability);

impl Serialize for Hours<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Availability::Unknown => serializer.serialize_none(),
            other => serializer.collect_str(other),
        }
    }
}

fn timezone(availability: &Availability) -> Option<&str> {
    match availability {
        Availability::Weekly { timezone, .. } => Some(timezone),
        _ => None,
    }
}

/// The address a viewer may see: all of it for staff; for the public no
/// street, and no postal code where the location is confidential.
struct ShownAddress<'a> {
    address: &'a Address,
    staff: bool,
    location_confidential: bool,
}

impl Serialize for ShownAddress<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let a = self.address;
        let mut out = serializer.serialize_struct("Address", 5)?;
        if self.staff {
            out.serialize_field("street", &a.street)?;
        }
        out.serialize_field("city", &a.city)?;
        out.serialize_field("region", &a.region)?;
        if self.staff || !self.location_confidential {
            out.serialize_field("postal_code", &a.postal_code)?;
        }
        out.serialize_field("country", &a.country)?;
        out.end()
    }
}

/// The members of `p`'s properties that depend only on the record and the
/// audience (`staff` or the public), without braces. Confidential fields
/// (street, e-mail, contact name) are written for staff only.
fn record_members(p: &Provider, staff: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(768);
    let mut o = Object::open(&mut out);
    o.field("id", &p.id);
    o.field("name", &p.name);
    o.field("organization", &p.organization);
    o.field("kind", &p.kind);
    o.field("issues", &p.issues);
    o.field("populations", &p.populations);
    o.field("languages", &p.languages);
    o.field("open_24h", &p.availability.is_open_24h());
    // `opening_hours` syntax, in `timezone`.
    o.field("hours", &Hours(&p.availability));
    o.field("timezone", &timezone(&p.availability));
    o.field("hours_note", &p.hours_note);
    o.field("website", &p.website);
    o.field("law_enforcement", &p.law_enforcement);
    o.field("precision", &p.precision);
    o.field("incomplete", &p.incomplete);
    o.field("verified_at", &p.verified_at);
    o.field(
        "address",
        &p.address.as_ref().map(|address| ShownAddress {
            address,
            staff,
            location_confidential: p.location_confidential,
        }),
    );
    if staff {
        o.field("visibility", &p.visibility);
        o.field("location_confidential", &p.location_confidential);
        o.field("email", &p.email);
        o.field("contact_name", &p.contact_name);
    } else if p.location_confidential {
        // Say why the point is approximate.
        o.field("location_approximate", &true);
    }
    o.close();
    // Without the braces.
    out.pop();
    out.remove(0);
    out
}

/// True when a staff view of `p` shows something its public view hides:
/// the whole record when it is not public; for a public record its street,
/// e-mail, contact name, a confidential (direct) line, or the exact point
/// (and postal code) of a confidential location. A staff answer holding
/// such a record is audited as a read of confidential data. It names the
/// fields `record_members`, `ShownAddress`, [`View::may_dial`] and
/// [`View::location`] keep from the public; keep them in step.
pub fn shows_confidential(p: &Provider) -> bool {
    !p.is_public()
        || (p.location_confidential && p.location.is_some())
        || p.email.is_some()
        || p.contact_name.is_some()
        || p.address.as_ref().is_some_and(|a| a.street.is_some())
        || p.phones.iter().any(|phone| phone.confidential)
}

/// The rendered record fields (those that depend only on the record and
/// the audience) of the records a server has answered with, by snapshot
/// generation, record and audience. A new generation (an edit
/// was published) empties it; it holds at most [`Fragments::CAPACITY`]
/// entries and starts over when full.
#[derive(Default)]
pub struct Fragments {
    map: Mutex<FragmentMap>,
}

#[derive(Default)]
struct FragmentMap {
    generation: u64,
    entries: FxHashMap<(u32, bool), Arc<[u8]>>,
}

impl Fragments {
    /// Most entries kept (about 0.7 KB each).
    pub const CAPACITY: usize = 50_000;

    fn get(&self, generation: u64, index: u32, p: &Provider, staff: bool) -> Arc<[u8]> {
        let key = (index, staff);
        {
            let map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
            if map.generation == generation {
                if let Some(found) = map.entries.get(&key) {
                    return Arc::clone(found);
                }
            }
        }
        let rendered: Arc<[u8]> = record_members(p, staff).into();
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.generation != generation {
            if generation < map.generation {
                // An answer from an older snapshot, finishing late.
                return rendered;
            }
            map.entries.clear();
            map.generation = generation;
        }
        if map.entries.len() >= Self::CAPACITY {
            map.entries.clear();
        }
        map.entries.insert(key, Arc::clone(&rendered));
        rendered
    }
}

/// Writes response bodies for one viewer over one directory snapshot.
#[derive(Clone, Copy)]
pub struct Renderer<'a> {
    directory: &'a Directory,
    view: &'a View,
    cache: Option<(&'a Fragments, u64)>,
    /// Referral counts and today (days since the epoch, UTC), for the
    /// `referral_stats` of staff match results.
    referrals: Option<(&'a ReferralCounts, i32)>,
}

/// About how many bytes one feature takes, to size the buffer once.
const FEATURE_BYTES: usize = 1_200;

impl<'a> Renderer<'a> {
    /// Renders every record afresh.
    pub fn new(directory: &'a Directory, view: &'a View) -> Self {
        Renderer {
            directory,
            view,
            cache: None,
            referrals: None,
        }
    }

    /// Reuses the rendered record fields in `fragments`; `generation`
    /// identifies the snapshot `directory` is (a different directory must
    /// come with a different generation).
    #[must_use]
    pub fn cached(self, fragments: &'a Fragments, generation: u64) -> Self {
        Renderer {
            cache: Some((fragments, generation)),
            ..self
        }
    }

    /// Writes each staff match result's `referral_stats` from `counts`
    /// as of `today` (days since 1970-01-01, UTC); public answers never
    /// carry them.
    #[must_use]
    pub fn with_referral_stats(self, counts: &'a ReferralCounts, today: i32) -> Self {
        Renderer {
            referrals: Some((counts, today)),
            ..self
        }
    }

    /// `referral_stats` of provider `p`, for staff views given counts.
    fn referral_members(&self, o: &mut Object<'_>, p: &Provider) {
        if let Some((counts, today)) = self.referrals {
            if self.staff() {
                o.field("referral_stats", &counts.stats(&p.id, today));
            }
        }
    }

    fn staff(&self) -> bool {
        self.view.role.sees_confidential()
    }

    /// The provider's properties: `extra` members first (a match's rank
    /// and reasons), then the record's, its `phones` and `stale`.
    fn properties<'p>(
        &self,
        out: &mut Vec<u8>,
        index: u32,
        p: &Provider,
        phones: impl Iterator<Item = &'p Phone>,
        extra: impl FnOnce(&mut Object<'_>),
    ) {
        let mut o = Object::open(out);
        extra(&mut o);
        let staff = self.staff();
        match self.cache {
            Some((fragments, generation)) => {
                o.members(&fragments.get(generation, index, p, staff));
            }
            None => o.members(&record_members(p, staff)),
        }
        o.key("phones");
        let view = self.view;
        array(o.out, phones.filter(|phone| view.may_dial(phone)), json);
        o.field("stale", &self.view.freshness.is_stale(p));
        o.close();
    }

    /// `{"type":"Feature","id":…,"geometry":…,"properties":…}` for record
    /// `index`, at the point the viewer may be shown.
    fn feature<'p>(
        &self,
        out: &mut Vec<u8>,
        index: u32,
        p: &Provider,
        phones: impl Iterator<Item = &'p Phone>,
        extra: impl FnOnce(&mut Object<'_>),
    ) {
        let mut o = Object::open(out);
        o.field("type", "Feature");
        o.field("id", &p.id);
        o.field(
            "geometry",
            &self
                .view
                .location(self.directory, index)
                .map(PointGeometry::new),
        );
        o.key("properties");
        self.properties(o.out, index, p, phones, extra);
        o.close();
    }

    /// A match answer as a GeoJSON FeatureCollection, features in rank
    /// order, with the resolved place and filters as the foreign member
    /// `query`.
    pub fn match_geojson(&self, response: &MatchResponse) -> Vec<u8> {
        let mut out = Vec::with_capacity(1_024 + response.results.len() * FEATURE_BYTES);
        let mut o = Object::open(&mut out);
        o.field("type", "FeatureCollection");
        o.field("query", &MatchEcho::new(response));
        o.key("features");
        array(o.out, self.results(response), |out, (r, p)| {
            self.feature(out, r.index, p, r.phones(p), |o| {
                match_members(o, r, p);
                self.referral_members(o, p);
            });
        });
        o.close();
        out
    }

    /// A match answer as plain JSON: `{query, results}`, each result with
    /// `lat`/`lon` then the properties.
    pub fn match_json(&self, response: &MatchResponse) -> Vec<u8> {
        let mut out = Vec::with_capacity(1_024 + response.results.len() * FEATURE_BYTES);
        let mut o = Object::open(&mut out);
        o.field("query", &MatchEcho::new(response));
        o.key("results");
        array(o.out, self.results(response), |out, (r, p)| {
            let location = self.view.location(self.directory, r.index);
            self.properties(out, r.index, p, r.phones(p), |o| {
                o.field("lat", &location.map(|l| l.lat()));
                o.field("lon", &location.map(|l| l.lon()));
                match_members(o, r, p);
                self.referral_members(o, p);
            });
        });
        o.close();
        out
    }

    fn results<'r>(
        &self,
        response: &'r MatchResponse,
    ) -> impl Iterator<Item = (&'r Match, &'a Provider)> + use<'r, 'a> {
        let directory = self.directory;
        response
            .results
            .iter()
            .filter_map(move |r| Some((r, directory.provider(r.index)?)))
    }

    /// Provider `index` as a GeoJSON Feature with every phone the viewer
    /// may dial; `None` when there is no such provider.
    pub fn provider_feature(&self, index: u32) -> Option<Vec<u8>> {
        let p = self.directory.provider(index)?;
        let mut out = Vec::with_capacity(FEATURE_BYTES);
        self.feature(&mut out, index, p, p.phones.iter(), |_| {});
        Some(out)
    }

    /// Providers `indexes` as a FeatureCollection, with an optional
    /// `query` echo and, for a page of a listing, `count` and
    /// `next_cursor`; `phones` picks each one's numbers (direct lines are
    /// then left out unless the viewer may dial them).
    pub fn providers_geojson(
        &self,
        indexes: &[u32],
        query: Option<&impl Serialize>,
        page: Option<&Page>,
        phones: impl Fn(&'a Provider) -> Vec<&'a Phone>,
    ) -> Vec<u8> {
        let directory = self.directory;
        let shown: Vec<(u32, &Provider)> = indexes
            .iter()
            .filter_map(|&i| Some((i, directory.provider(i)?)))
            .collect();
        let mut out = Vec::with_capacity(1_024 + shown.len() * FEATURE_BYTES);
        let mut o = Object::open(&mut out);
        o.field("type", "FeatureCollection");
        if let Some(query) = query {
            o.field("query", query);
        }
        o.key("features");
        array(o.out, &shown, |out, &(i, p)| {
            self.feature(out, i, p, phones(p).into_iter(), |_| {});
        });
        if let Some(page) = page {
            o.field("count", &shown.len());
            if let Some(cursor) = page.next_cursor {
                o.field("next_cursor", &cursor.to_string());
            }
        }
        o.close();
        out
    }
}

/// A match's own members: rank, score, tier, distance, reasons; for staff
/// (when the matcher filled them) its warm-transfer checklist and
/// capacity figure, which the public never gets.
fn match_members(o: &mut Object<'_>, r: &Match, p: &Provider) {
    o.field("rank", &r.rank);
    o.field("score", &r.score);
    o.field("tier", &r.tier);
    // Help the caller can walk into (local or nearby), or remote.
    o.field("in_person", &r.tier.in_person());
    o.field("national_line", &r.national_line);
    o.field("language", &r.language);
    // Great-circle km; `null` without a location.
    o.field("distance_km", &r.distance_km);
    o.field("serves_location", &r.serves_location);
    o.field("reasons", &r.reasons);
    o.field("relaxed", &r.relaxed);
    if let Some(check) = &r.warm_transfer {
        o.field(
            "warm_transfer",
            &WarmTransferShown {
                check,
                direct_line: check
                    .direct_line
                    .and_then(|i| p.phones.get(usize::from(i)))
                    .map(|phone| phone.dial.as_str()),
            },
        );
        o.field(
            "capacity",
            &r.capacity.and_then(|shown| {
                let entry = p.capacity.get(usize::from(shown.position))?;
                Some(CapacityFigure {
                    available: entry.available,
                    maximum: entry.maximum,
                    unit: &entry.unit,
                    updated_at: entry.updated_at,
                    updated_by: entry.updated_by.as_deref(),
                    stale: shown.stale,
                })
            }),
        );
    }
}

/// A staff result's `warm_transfer` member.
struct WarmTransferShown<'a> {
    check: &'a WarmTransfer,
    /// Digits to dial, of the line the checklist found.
    direct_line: Option<&'a str>,
}

impl Serialize for WarmTransferShown<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let c = self.check;
        let mut out = serializer.serialize_struct("WarmTransfer", 5)?;
        out.serialize_field("open", &c.open)?;
        out.serialize_field("accepting", &c.accepting)?;
        out.serialize_field("direct_line", &self.direct_line)?;
        out.serialize_field("language", &c.language)?;
        out.serialize_field("ready", &c.ready)?;
        out.end()
    }
}

/// A staff result's `capacity` member: the figure shown, and whether it
/// is stale (older than the fresh window: it then counts as unknown).
#[derive(Serialize)]
struct CapacityFigure<'a> {
    available: u32,
    maximum: Option<u32>,
    unit: &'a str,
    updated_at: Option<jiff::Timestamp>,
    updated_by: Option<&'a str>,
    stale: bool,
}

/// A GeoJSON `Point` geometry, `[lon, lat]` degrees.
#[derive(Debug, Clone, Copy, Serialize)]
struct PointGeometry {
    #[serde(rename = "type")]
    kind: &'static str,
    coordinates: [f64; 2],
}

impl PointGeometry {
    fn new(at: LatLng) -> Self {
        PointGeometry {
            kind: "Point",
            coordinates: at.to_lon_lat(),
        }
    }
}

/// The `query` member of a match body: the resolved place's fields and
/// the filters.
struct MatchEcho<'a> {
    place: &'a ResolvedPlace,
    filters: &'a AppliedFilters,
}

impl<'a> MatchEcho<'a> {
    fn new(response: &'a MatchResponse) -> Self {
        MatchEcho {
            place: &response.place,
            filters: &response.filters,
        }
    }
}

impl Serialize for MatchEcho<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let p = self.place;
        let mut out = serializer.serialize_struct("MatchEcho", 10)?;
        out.serialize_field("name", &p.name)?;
        out.serialize_field("lat", &p.lat)?;
        out.serialize_field("lon", &p.lon)?;
        out.serialize_field("precision", &p.precision)?;
        out.serialize_field("country", &p.country)?;
        out.serialize_field("region", &p.region)?;
        out.serialize_field("county_fips", &p.county_fips)?;
        out.serialize_field("county", &p.county)?;
        if let Some(note) = &p.note {
            out.serialize_field("note", note)?;
        }
        out.serialize_field("filters", self.filters)?;
        out.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_and_arrays_are_valid_json() {
        let mut out = Vec::new();
        let mut o = Object::open(&mut out);
        o.field("a", &1);
        o.members(b"");
        o.members(br#""b":"x\"y""#);
        o.key("c");
        array(o.out, [1.5, 2.0], |out, v| json(out, &v));
        o.close();
        let value: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(
            value,
            serde_json::json!({"a": 1, "b": "x\"y", "c": [1.5, 2.0]})
        );
        let mut empty = Vec::new();
        Object::open(&mut empty).close();
        assert_eq!(empty, b"{}");
    }
}
