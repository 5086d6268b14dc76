//! Browsing the directory for map dashboards (providers in a bounding box,
//! paged) and listing the hotlines that serve a country.

use super::query::{ParameterDoc, QueryError, Terms, MAX_VALUES};
use super::View;
use crate::index::{nationwide_countries, AreaPart, Directory};
use crate::model::{Kind, Vocabulary};

/// Providers per page when `limit` is not given.
pub const DEFAULT_PAGE: usize = 100;
/// Most providers per page.
pub const MAX_PAGE: usize = 1000;

/// A longitude/latitude box in degrees, GeoJSON order
/// `[min_lon, min_lat, max_lon, max_lat]`. `min_lon > max_lon` means the
/// box crosses the antimeridian (RFC 7946 §5.2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    /// Western edge, degrees.
    pub min_lon: f64,
    /// Southern edge, degrees.
    pub min_lat: f64,
    /// Eastern edge, degrees.
    pub max_lon: f64,
    /// Northern edge, degrees.
    pub max_lat: f64,
}

impl BoundingBox {
    /// Parses `minLon,minLat,maxLon,maxLat` in degrees.
    ///
    /// # Errors
    /// [`QueryError`] on `bbox` saying what is wrong.
    pub fn parse(text: &str) -> Result<BoundingBox, QueryError> {
        let invalid = |why: &str| {
            QueryError::new(
                "bbox",
                format!(
                    "bbox must be minLon,minLat,maxLon,maxLat in degrees ({why}), got '{text}'"
                ),
            )
        };
        let numbers: Vec<f64> = text
            .split(',')
            .map(|n| n.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| invalid("four numbers"))?;
        let [min_lon, min_lat, max_lon, max_lat] = numbers[..] else {
            return Err(invalid("four numbers"));
        };
        if ![min_lon, max_lon]
            .iter()
            .all(|l| (-180.0..=180.0).contains(l))
        {
            return Err(invalid("longitudes from -180 to 180"));
        }
        if ![min_lat, max_lat]
            .iter()
            .all(|l| (-90.0..=90.0).contains(l))
        {
            return Err(invalid("latitudes from -90 to 90"));
        }
        if min_lat > max_lat {
            return Err(invalid("minLat above maxLat"));
        }
        Ok(BoundingBox {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        })
    }

    /// True when the point (degrees) lies in the box, edges included.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        let lon_ok = if self.min_lon <= self.max_lon {
            (self.min_lon..=self.max_lon).contains(&lon)
        } else {
            lon >= self.min_lon || lon <= self.max_lon
        };
        lon_ok && (self.min_lat..=self.max_lat).contains(&lat)
    }
}

/// A page request of `GET /v1/providers`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Only providers located in this box; `None`: everywhere (providers
    /// without a location are listed too).
    pub bbox: Option<BoundingBox>,
    /// Issue codes (parents expand); any of.
    pub issues: Vec<String>,
    /// ISO 639-1 codes; any of.
    pub languages: Vec<String>,
    /// Kinds; any of.
    pub kinds: Vec<Kind>,
    /// Providers per page, 1–[`MAX_PAGE`].
    pub limit: usize,
    /// Where the page starts: the `next_cursor` of the previous page.
    pub cursor: Option<u32>,
    /// `Some(true)`: only records past their verification window (or never
    /// verified); `Some(false)`: only fresh ones; `None`: both.
    pub stale: Option<bool>,
}

/// Every parameter [`ListQuery::parse`] reads.
pub const LIST_PARAMETERS: &[ParameterDoc] = &[
    ParameterDoc { name: "bbox", schema_type: "string", description: "minLon,minLat,maxLon,maxLat in degrees; minLon > maxLon crosses the antimeridian. Without it, every provider is listed." },
    ParameterDoc { name: "issue", schema_type: "string", description: "Issue codes, any of (parents include their children)." },
    ParameterDoc { name: "language", schema_type: "string", description: "Languages, any of: ISO 639-1 codes or English names." },
    ParameterDoc { name: "kind", schema_type: "string", description: "Kinds, any of, e.g. service_provider,task_force." },
    ParameterDoc { name: "limit", schema_type: "integer", description: "Providers per page, 1 to 1000 (default 100)." },
    ParameterDoc { name: "cursor", schema_type: "string", description: "The next_cursor of the previous page." },
    ParameterDoc { name: "stale", schema_type: "boolean", description: "true: only records not verified within the verification window (default 365 days), for re-verification; false: only fresh ones." },
];

impl ListQuery {
    /// Parses the parameters of `GET /v1/providers`; names in `ignored`
    /// are skipped, any other unknown name is an error.
    ///
    /// # Errors
    /// [`QueryError`] naming the parameter and what is valid.
    pub fn parse<'p>(
        params: impl IntoIterator<Item = (&'p str, &'p str)>,
        ignored: &[&str],
        terms: &Terms<'_>,
    ) -> Result<ListQuery, QueryError> {
        let mut query = ListQuery {
            bbox: None,
            issues: Vec::new(),
            languages: Vec::new(),
            kinds: Vec::new(),
            limit: DEFAULT_PAGE,
            cursor: None,
            stale: None,
        };
        let split = |name: &str, value: &'p str, already: usize| {
            let parts: Vec<&'p str> = value
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect();
            if parts.is_empty() || already + parts.len() > MAX_VALUES {
                return Err(QueryError::new(
                    name,
                    format!("{name} needs 1 to {MAX_VALUES} comma-separated values"),
                ));
            }
            Ok(parts)
        };
        for (name, value) in params {
            match name {
                _ if ignored.contains(&name) => {}
                "bbox" => query.bbox = Some(BoundingBox::parse(value)?),
                "issue" => {
                    for code in split(name, value, query.issues.len())? {
                        query.issues.push(terms.issue(code)?);
                    }
                }
                "language" => {
                    for text in split(name, value, query.languages.len())? {
                        query.languages.push(terms.language(text)?);
                    }
                }
                "kind" => {
                    for code in split(name, value, query.kinds.len())? {
                        query.kinds.push(Kind::parse(code).ok_or_else(|| {
                            QueryError::new(
                                name,
                                format!(
                                    "'{code}' is not a kind; use one of {}",
                                    Kind::ALL.map(Kind::code).join(", ")
                                ),
                            )
                        })?);
                    }
                }
                "limit" => {
                    query.limit = value
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|l| (1..=MAX_PAGE).contains(l))
                        .ok_or_else(|| {
                            QueryError::new(name, format!("limit must be a whole number from 1 to {MAX_PAGE}, got '{value}'"))
                        })?;
                }
                "stale" => {
                    query.stale = Some(match value.trim() {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        other => {
                            return Err(QueryError::new(
                                name,
                                format!("stale must be true or false, got '{other}'"),
                            ))
                        }
                    });
                }
                "cursor" => {
                    query.cursor = Some(value.trim().parse::<u32>().map_err(|_| {
                        QueryError::new(name, format!("'{value}' is not a cursor; pass the next_cursor of the previous page unchanged"))
                    })?);
                }
                other => {
                    let known: Vec<&str> = LIST_PARAMETERS
                        .iter()
                        .map(|p| p.name)
                        .chain(ignored.iter().copied())
                        .collect();
                    return Err(QueryError::new(
                        other,
                        format!("unknown parameter '{other}'; known: {}", known.join(", ")),
                    ));
                }
            }
        }
        Ok(query)
    }
}

/// One page of providers.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Provider indexes, in directory order.
    pub indexes: Vec<u32>,
    /// Cursor of the next page; `None` on the last page.
    pub next_cursor: Option<u32>,
}

/// Lists providers matching `query`, in directory order, one page at a
/// time. Paging is stable for a given snapshot: following `next_cursor`
/// visits every matching provider exactly once. Only records `view` may
/// see are listed; the public's `bbox` test uses the coarsened point of a
/// confidential location.
///
/// # Errors
/// [`QueryError`] on `cursor` when it points past the directory.
pub fn list(
    directory: &Directory,
    vocabulary: &Vocabulary,
    query: &ListQuery,
    view: &View,
) -> Result<Page, QueryError> {
    let start = query.cursor.unwrap_or(0);
    if start as usize > directory.len() {
        return Err(QueryError::new(
            "cursor",
            "the cursor is past the end of the directory (it may come from an older snapshot); start again without one",
        ));
    }
    let issues: Vec<&str> = query
        .issues
        .iter()
        .flat_map(|c| vocabulary.expand_issue(c))
        .collect();
    let mut indexes = Vec::with_capacity(query.limit.min(directory.len()));
    let mut next_cursor = None;
    for (offset, provider) in directory.providers()[start as usize..].iter().enumerate() {
        let i = start + offset as u32;
        if !view.may_see(directory, i) {
            continue;
        }
        if query
            .stale
            .is_some_and(|wanted| view.freshness.is_stale(provider) != wanted)
        {
            continue;
        }
        let located_ok = match (query.bbox, view.location(directory, i)) {
            (None, _) => true,
            (Some(bbox), Some(at)) => bbox.contains(at.lat(), at.lon()),
            (Some(_), None) => false,
        };
        let ok = located_ok
            && (issues.is_empty() || issues.iter().any(|c| directory.with_issue(c).contains(i)))
            && (query.languages.is_empty()
                || query
                    .languages
                    .iter()
                    .any(|l| directory.with_language(l).contains(i)))
            && (query.kinds.is_empty() || query.kinds.contains(&provider.kind));
        if ok {
            if indexes.len() == query.limit {
                next_cursor = Some(i);
                break;
            }
            indexes.push(i);
        }
    }
    Ok(Page {
        indexes,
        next_cursor,
    })
}

/// Hotlines and other providers without a location, that `view` may see,
/// whose area covers the
/// whole of `country` (ISO alpha-2): a nationwide area (`US` includes its
/// territories), a country area naming it, or worldwide. Those naming the
/// country come first, then worldwide ones; by name within each.
pub fn hotlines_for(directory: &Directory, country: &str, view: &View) -> Vec<u32> {
    let mut found: Vec<(u8, &str, u32)> = Vec::new();
    for (i, provider) in directory.providers().iter().enumerate() {
        let i = i as u32;
        if !view.may_see(directory, i) {
            continue;
        }
        if provider.kind != Kind::Hotline && provider.location.is_some() {
            continue;
        }
        let Some(area) = directory.area(view.geometry(), i) else {
            continue;
        };
        let scope = area
            .parts()
            .iter()
            .filter_map(|part| match part {
                AreaPart::Nationwide(code) => {
                    nationwide_countries(code).contains(&country).then_some(0)
                }
                AreaPart::Shared(region) => {
                    (region.key().strip_prefix("country:") == Some(country)).then_some(0)
                }
                AreaPart::Worldwide => Some(1),
                _ => None,
            })
            .min();
        if let Some(scope) = scope {
            found.push((scope, provider.name.as_str(), i));
        }
    }
    found.sort();
    found.into_iter().map(|(_, _, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bbox_crossing_the_antimeridian_holds_both_sides() {
        let pacific = BoundingBox::parse("140,-20,-165,20").unwrap();
        assert!(pacific.contains(13.47, 144.75)); // Guam
        assert!(pacific.contains(-14.27, -170.70)); // American Samoa
        assert!(!pacific.contains(0.0, 0.0));
        let plain = BoundingBox::parse("-124.5, 32.5, -114, 42").unwrap();
        assert!(plain.contains(36.74, -119.78));
        assert!(!plain.contains(36.74, -100.0));
    }

    proptest! {
        #[test]
        fn bbox_parse_never_panics(text in ".{0,60}") {
            if let Ok(bbox) = BoundingBox::parse(&text) {
                prop_assert!(bbox.min_lat <= bbox.max_lat);
                prop_assert!((-180.0..=180.0).contains(&bbox.min_lon));
            }
        }

        #[test]
        fn bbox_contains_its_corners(a in -180.0f64..180.0, b in -90.0f64..90.0, c in -180.0f64..180.0, d in -90.0f64..90.0) {
            let (lo, hi) = if b <= d { (b, d) } else { (d, b) };
            let bbox = BoundingBox::parse(&format!("{a},{lo},{c},{hi}")).unwrap();
            prop_assert!(bbox.contains(lo, a) && bbox.contains(hi, c));
        }
    }
}
