//! Demand-weighted gaps: regions ranked by the unmet need callers actually
//! brought (the anonymous unmet-need log: matches whose strict answer was
//! empty or needed relaxing, and declined referrals), beside their
//! population.
//!
//! Events keep the caller's region only (`county:06019`, `state:CA`,
//! `h3:…`, `country:…`), so demand can be counted for the US region sets:
//! `county` (events placed in a county) and `state` (events placed in one
//! of its counties, or in the state itself). Other region sets are refused
//! ([`DemandError::UnsupportedRegions`]): an H3 cell abroad does not nest in
//! a country's outline exactly, and events placed at country level say
//! nothing about where in the country the need is.

use super::query::RegionSet;
use crate::gazetteer::Gazetteer;
use crate::model::referral::{Unmet, UnmetEvent};
use crate::model::{Need, Vocabulary};
use rustc_hash::FxHashMap;
use serde::Serialize;

/// The region sets demand can be counted for, as `by` values.
pub const DEMAND_REGION_SETS: &[&str] = &["state", "county"];

/// Why a demand ranking cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DemandError {
    /// The region set is not one demand is counted for.
    #[error(
        "weight=demand ranks US states or counties only (by=state or by=county), not by={0}: \
         unmet-need events keep a county, a state, an H3 cell abroad or a country, and only \
         counties and states can be counted exactly"
    )]
    UnsupportedRegions(&'static str),
}

/// One region's recorded unmet demand and its population.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemandRow {
    /// 1-based rank by unmet demand (ties: the more populous first).
    pub rank: usize,
    /// 1-based rank by population (what a population-weighted view shows).
    pub population_rank: usize,
    /// Region id: a USPS state code or a 5-digit county FIPS.
    pub id: String,
    /// Display name ("Fresno County, CA", "California").
    pub name: String,
    /// Unmet-need events matching the need: `none + relaxed + declined`.
    pub unmet: u64,
    /// Matches that found nothing.
    pub none: u64,
    /// Matches that needed relaxed filters.
    pub relaxed: u64,
    /// Declined referrals.
    pub declined: u64,
    /// Residents (2020 census; a state's is the sum of its counties').
    pub population: u64,
    /// `unmet` per 100,000 residents; `null` without a population.
    pub unmet_per_100k: Option<f64>,
}

/// True when `event` is about `need`: each list the need gives (issues,
/// expanded to their children; languages; populations) shares a code
/// with the event's. An empty need takes every event.
pub fn event_matches(event: &UnmetEvent, need: &Need, vocabulary: &Vocabulary) -> bool {
    let issues = need.expanded_issues(vocabulary);
    let issue_ok = issues.is_empty()
        || event
            .issues
            .iter()
            .flat_map(|code| vocabulary.expand_issue(code))
            .any(|code| issues.contains(&code));
    let language_ok =
        need.languages.is_empty() || event.languages.iter().any(|l| need.languages.contains(l));
    let population_ok = need.populations.is_empty()
        || event
            .populations
            .iter()
            .any(|p| need.populations.contains(p));
    issue_ok && language_ok && population_ok
}

/// Every region of `regions` (state or county) with the unmet-need
/// `events` matching `need` that lie in it, most unmet demand first.
///
/// # Errors
/// [`DemandError::UnsupportedRegions`] for a region set other than
/// [`RegionSet::State`] and [`RegionSet::County`].
pub fn demand_ranking(
    gazetteer: &Gazetteer,
    vocabulary: &Vocabulary,
    events: &[UnmetEvent],
    regions: &RegionSet,
    need: &Need,
) -> Result<Vec<DemandRow>, DemandError> {
    let by_state = match regions {
        RegionSet::State => true,
        RegionSet::County => false,
        RegionSet::Country => return Err(DemandError::UnsupportedRegions("country")),
        RegionSet::H3 { .. } => return Err(DemandError::UnsupportedRegions("h3")),
    };
    let mut rows: Vec<DemandRow> = if by_state {
        let mut population: FxHashMap<&str, u64> = FxHashMap::default();
        for county in gazetteer.counties() {
            *population.entry(county.state.as_str()).or_default() += county.population.unwrap_or(0);
        }
        gazetteer
            .states()
            .iter()
            .map(|s| row(&s.code, &s.name, population.get(s.code.as_str()).copied()))
            .collect()
    } else {
        gazetteer
            .counties()
            .iter()
            .map(|c| {
                row(
                    &c.fips,
                    &format!("{}, {}", c.full_name, c.state),
                    c.population,
                )
            })
            .collect()
    };
    let position: FxHashMap<String, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    for event in events {
        if !event_matches(event, need, vocabulary) {
            continue;
        }
        let id = match event.region.split_once(':') {
            Some(("county", fips)) if by_state => gazetteer.county(fips).map(|c| c.state.as_str()),
            Some(("county", fips)) => Some(fips),
            Some(("state", code)) if by_state => Some(code),
            _ => None,
        };
        let Some(row) = id
            .and_then(|id| position.get(id))
            .and_then(|&i| rows.get_mut(i))
        else {
            continue;
        };
        match event.outcome {
            Unmet::None => row.none += 1,
            Unmet::Relaxed => row.relaxed += 1,
            Unmet::Declined => row.declined += 1,
        }
        row.unmet += 1;
    }
    for row in &mut rows {
        row.unmet_per_100k =
            (row.population > 0).then(|| row.unmet as f64 * 100_000.0 / row.population as f64);
    }
    rows.sort_by(|a, b| b.population.cmp(&a.population).then(a.id.cmp(&b.id)));
    for (i, row) in rows.iter_mut().enumerate() {
        row.population_rank = i + 1;
    }
    // Stable: equal demand keeps the population order.
    rows.sort_by_key(|r| std::cmp::Reverse(r.unmet));
    for (i, row) in rows.iter_mut().enumerate() {
        row.rank = i + 1;
    }
    Ok(rows)
}

fn row(id: &str, name: &str, population: Option<u64>) -> DemandRow {
    DemandRow {
        rank: 0,
        population_rank: 0,
        id: id.to_owned(),
        name: name.to_owned(),
        unmet: 0,
        none: 0,
        relaxed: 0,
        declined: 0,
        population: population.unwrap_or(0),
        unmet_per_100k: None,
    }
}
