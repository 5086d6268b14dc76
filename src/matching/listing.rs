//! Browsing the directory for map dashboards (providers in a bounding box,
//! paged) and listing the hotlines that serve a country.

use super::query::Terms;
use super::View;
use crate::index::{nationwide_countries, AreaPart, AttributeFilter, Directory};
use crate::model::need::parameter;
use crate::model::{
    boolean, check_parameters, BoundingBox, Kind, Need, ParameterDoc, QueryError, RegionKey,
    Vocabulary,
};

/// Providers per page when `limit` is not given.
pub const DEFAULT_PAGE: usize = 100;
/// Most providers per page.
pub const MAX_PAGE: usize = 1000;

/// A page request of `GET /v1/providers`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Only providers located in this box; `None`: everywhere (providers
    /// without a location are listed too).
    pub bbox: Option<BoundingBox>,
    /// Issues (parents expand), languages and kinds, each any of (a
    /// listing takes no other part of a need).
    pub need: Need,
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
    ParameterDoc::one("bbox", "string", "minLon,minLat,maxLon,maxLat in degrees; minLon > maxLon crosses the antimeridian. Without it, every provider is listed."),
    parameter::ISSUE,
    parameter::LANGUAGE,
    parameter::KIND,
    ParameterDoc::one("limit", "integer", "Providers per page, 1 to 1000 (default 100)."),
    ParameterDoc::one("cursor", "string", "The next_cursor of the previous page."),
    ParameterDoc::one("stale", "boolean", "true: only records not verified within the verification window (default 365 days), for re-verification; false: only fresh ones."),
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
        let params: Vec<(&str, &str)> = params.into_iter().collect();
        check_parameters(&params, LIST_PARAMETERS, ignored)?;
        let mut query = ListQuery {
            bbox: None,
            need: Need::default(),
            limit: DEFAULT_PAGE,
            cursor: None,
            stale: None,
        };
        for (name, value) in params {
            if ignored.contains(&name) || query.need.read(name, value, terms)? {
                continue;
            }
            match name {
                "bbox" => query.bbox = Some(BoundingBox::parse(value)?),
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
                "stale" => query.stale = Some(boolean(name, value)?),
                "cursor" => {
                    query.cursor = Some(value.trim().parse::<u32>().map_err(|_| {
                        QueryError::new(name, format!("'{value}' is not a cursor; pass the next_cursor of the previous page unchanged"))
                    })?);
                }
                // check_parameters let through only names of the table.
                _ => {}
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
    // The listing takes issues, languages and kinds; the need's other
    // parts are never set here.
    let filter = directory.compile(&AttributeFilter::of_need(&query.need, vocabulary));
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
        let ok = located_ok && filter.accepts(i);
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
                    matches!(region.region_key(), Some(RegionKey::Country(c)) if c == country)
                        .then_some(0)
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
