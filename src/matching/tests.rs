//! The ranking against a brute-force oracle.
//!
//! The oracle ranks the whole directory with the ranking function of the
//! module docs and none of the index: it scans every provider, decides
//! whether its area covers the caller by testing each part of the area,
//! measures every distance, takes the reach from a full sort, sorts every
//! queue completely and deals them. [`Matcher::run`] must give exactly the
//! oracle's first `limit` results, for every `limit`: so the pruned
//! searches are exact, and the answer at a smaller limit is a prefix of the
//! one at a larger limit. The bonus of one provider is computed by the
//! same function ([`Matcher::candidate`]) in both: the oracle checks which
//! providers are compared and in what order, not the arithmetic of an edge.
//!
//! Some providers carry capacity (fresh with room, fresh at zero, stale),
//! and staff queries may ask `accepting` and `warm_transfer`: the oracle
//! ranks those too, and [`warm_transfer_is_exactly_the_four_conditions`]
//! checks the filter against a plain reading of its definition, provider
//! by provider over the whole directory.

use super::*;
use crate::index::test_support::gazetteer;
use crate::index::IndexOptions;
use crate::model::Role;
use proptest::prelude::*;
use std::sync::OnceLock;

/// A generated directory with hotlines, national and regional areas,
/// confidential locations and records, and interpreting lines.
fn directory() -> &'static Directory {
    static DIRECTORY: OnceLock<Directory> = OnceLock::new();
    DIRECTORY.get_or_init(|| {
        let mut providers = crate::synthetic::generate(gazetteer(), 5_000, 2026);
        with_capacity(&mut providers);
        Directory::build(providers, gazetteer(), IndexOptions::default())
            .expect("synthetic directory indexes")
            .0
    })
}

/// The instant capacity and warm transfers are judged at in these tests
/// (a Tuesday morning in the Americas).
fn judged_at() -> Timestamp {
    "2026-12-01T16:00:00Z".parse().expect("an instant")
}

/// Capacity for a fifth of the providers each: fresh with room, fresh at
/// zero, stale with room, undated; the rest have none.
fn with_capacity(providers: &mut [Provider]) {
    use crate::model::ServiceCapacity;
    let hours_before = |h: i64| judged_at() - jiff::SignedDuration::from_hours(h);
    for (i, provider) in providers.iter_mut().enumerate() {
        let figure = |available: u32, updated_at: Option<Timestamp>| ServiceCapacity {
            available,
            maximum: Some(12),
            unit: "beds".into(),
            updated_at,
            updated_by: Some("test".to_owned()),
        };
        provider.capacity = match i % 6 {
            0 => vec![figure(1 + (i % 7) as u32, Some(hours_before(2)))],
            1 => vec![figure(0, Some(hours_before(5)))],
            2 => vec![figure(4, Some(hours_before(48)))],
            3 => vec![figure(2, None)],
            _ => Vec::new(),
        };
    }
}

fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(|| Vocabulary::bundled().expect("bundled vocabulary"))
}

fn matcher(role: Role) -> Matcher<'static> {
    Matcher {
        gazetteer: gazetteer(),
        directory: directory(),
        vocabulary: vocabulary(),
        view: View {
            role,
            freshness: Freshness {
                today: jiff::civil::date(2026, 12, 1),
                window_days: DEFAULT_VERIFICATION_WINDOW_DAYS,
            },
            capacity_fresh_hours: DEFAULT_CAPACITY_FRESH_HOURS,
        },
    }
}

/// The filters `m.run` applies for `query` at `place`.
fn needs_of<'q>(m: &'q Matcher<'_>, query: &'q Query, place: &'q ResolvedPlace) -> Needs<'q> {
    let instant = query.at.unwrap_or_else(judged_at);
    m.needs(
        query,
        query.open_now.then_some(instant),
        instant,
        place.country.as_deref(),
    )
}

/// Every provider the query may return, ranked, by brute force: the ids
/// in order and the reach used.
fn oracle(m: &Matcher<'_>, query: &Query) -> (Vec<String>, f64) {
    let place = m.resolve(&query.place).expect("a point always resolves");
    let point = place.point().expect("a point");
    let needs = needs_of(m, query, &place);
    let directory = m.directory;
    let geometry = m.view.geometry();
    let country = place.country.as_deref();
    let same_country = same_country_codes(country);
    let in_country = |p: &Provider| {
        same_country.is_empty()
            || same_country.iter().any(|c| {
                c == p
                    .address
                    .as_ref()
                    .and_then(|a| a.country.as_deref())
                    .unwrap_or("")
            })
    };
    let trusted = place.region_keys();
    let hard = |i: u32, p: &Provider| {
        let visible = m.view.role.sees_confidential() || p.is_public();
        let issue = needs.issues.is_empty()
            || p.issues
                .iter()
                .any(|code| needs.issues.contains(&code.as_str()));
        let exclude = &needs.need.exclude;
        let excluded = exclude.contains(&p.kind)
            || (p.law_enforcement && exclude.contains(&Kind::LawEnforcement));
        let _ = i;
        visible && issue && !excluded
    };
    // Reach: the third nearest in-person provider for the need.
    let mut in_person_km: Vec<f64> = (0..directory.len() as u32)
        .filter_map(|i| {
            let p = directory.provider(i)?;
            let km = directory.location(geometry, i)?.distance_km(point);
            (hard(i, p) && p.kind != Kind::Hotline && in_country(p) && km <= NEARBY_MAX_KM)
                .then_some(km)
        })
        .collect();
    in_person_km.sort_by(f64::total_cmp);
    let reach = in_person_km
        .get(REACH_DENSITY_RANK - 1)
        .map_or(REACH_MAX_KM, |km| {
            (REACH_FACTOR * km).clamp(REACH_MIN_KM, REACH_MAX_KM)
        });
    let reach = query.radius_km.map_or(reach, |r| reach.min(r));
    let farthest = query
        .radius_km
        .map_or(NEARBY_MAX_KM, |r| r.min(NEARBY_MAX_KM));
    let staff = m.view.role.sees_confidential();
    let relaxable: Vec<Relaxable> = query
        .relaxable()
        .into_iter()
        .filter(|r| staff || !matches!(r, Relaxable::Accepting | Relaxable::WarmTransfer))
        .collect();
    // Each candidate in the first level that allows every filter it fails.
    let mut levels: Vec<Vec<Candidate<'_>>> = vec![Vec::new(); relaxable.len() + 1];
    for i in 0..directory.len() as u32 {
        let Some(p) = directory.provider(i) else {
            continue;
        };
        if !hard(i, p) {
            continue;
        }
        let failed = needs.fails(p, i);
        let Some(level) =
            (0..=relaxable.len()).find(|&n| failed.within(RelaxSet::of(&relaxable[..n])))
        else {
            continue;
        };
        let km = directory
            .location(geometry, i)
            .map(|l| l.distance_km(point));
        let cover = directory.area(geometry, i).and_then(|area| {
            area.parts()
                .iter()
                .filter_map(|part| match part {
                    AreaPart::Radius { center, radius_km } => (center.distance_km(point)
                        <= *radius_km)
                        .then_some(Cover::Radius(*radius_km)),
                    AreaPart::Shared(region) | AreaPart::Polygon(region) => {
                        // Compared as text: the oracle does not trust the
                        // typed key it checks.
                        let trusted = trusted.iter().any(|t| t.to_string() == region.key());
                        (trusted || region.covers(point))
                            .then(|| region.region_key().map_or(Cover::Polygon, Cover::Region))
                    }
                    AreaPart::Nationwide(code) => country
                        .is_some_and(|c| nationwide_countries(code).contains(&c))
                        .then_some(Cover::Nationwide(code.as_str())),
                    AreaPart::Worldwide => Some(Cover::Worldwide),
                })
                .min_by_key(Cover::rank)
        });
        let in_person = p.kind != Kind::Hotline && km.is_some();
        let tier = match (&cover, km) {
            (Some(_), Some(d)) if query.radius_km.is_some_and(|r| d > r) => continue,
            (Some(_), Some(d)) if in_person && d <= reach => Tier::Local,
            (Some(_), _) if in_person => Tier::Remote,
            (Some(_), _) => Tier::Helpline,
            (None, Some(d)) if in_person && in_country(p) && d <= reach => Tier::Nearby,
            (None, Some(d)) if in_person && in_country(p) && d <= farthest => Tier::Farther,
            (None, _) => continue,
        };
        levels[level].push(m.candidate(i, p, km, cover, tier, failed, &place, &needs));
    }
    let mut ranked = Vec::new();
    for mut found in levels {
        fn take<'d>(
            m: &Matcher<'_>,
            found: &mut Vec<Candidate<'d>>,
            tier: Tier,
        ) -> Vec<Candidate<'d>> {
            let (mut mine, rest): (Vec<_>, Vec<_>) = found.drain(..).partition(|c| c.tier == tier);
            *found = rest;
            if tier.by_distance() {
                mine.sort_by(|a, b| m.by_effective_distance(a, b));
            } else {
                mine.sort_by(|a, b| m.by_bonus(a, b));
            }
            mine
        }
        let local = take(m, &mut found, Tier::Local);
        let nearby = take(m, &mut found, Tier::Nearby);
        let mut helplines = take(m, &mut found, Tier::Helpline);
        let remote = take(m, &mut found, Tier::Remote);
        let farther = take(m, &mut found, Tier::Farther);
        assert!(found.is_empty());
        // Helplines are sorted by bonus: the first national one is the line.
        let national = helplines
            .iter()
            .position(|c| c.cover.as_ref().is_some_and(Cover::is_national))
            .map(|k| helplines.remove(k));
        let in_person: Vec<_> = local.into_iter().chain(nearby).collect();
        let remote: Vec<_> = national
            .into_iter()
            .chain(helplines)
            .chain(remote)
            .collect();
        ranked.extend(deal(in_person, remote, farther, usize::MAX));
    }
    let ids = ranked.iter().map(|c| m.id(c.index).to_owned()).collect();
    (ids, reach)
}

fn ids(response: &MatchResponse) -> Vec<String> {
    response
        .results
        .iter()
        .filter_map(|r| directory().provider(r.index))
        .map(|p| p.id.to_string())
        .collect()
}

/// Places callers are drawn around: dense and sparse US areas, the
/// territories and abroad.
const ANCHORS: [(f64, f64); 12] = [
    (36.7378, -119.7871), // Fresno
    (40.7128, -74.0060),  // New York
    (45.7833, -108.5007), // Billings
    (61.2181, -149.9003), // Anchorage
    (13.4443, 144.7937),  // Hagåtña
    (18.4655, -66.1057),  // San Juan
    (29.7604, -95.3698),  // Houston
    (41.8781, -87.6298),  // Chicago
    (-12.0464, -77.0428), // Lima
    (50.4501, 30.5234),   // Kyiv
    (43.6532, -79.3832),  // Toronto
    (39.7392, -104.9903), // Denver
];

fn query_strategy() -> impl Strategy<Value = (Query, Role)> {
    (
        0..ANCHORS.len(),
        -1.5f64..1.5,
        -1.5f64..1.5,
        prop::sample::select(vec![
            vec![],
            vec!["trafficking"],
            vec!["labor_trafficking"],
            vec!["domestic_violence"],
            vec!["sexual_assault", "runaway_homeless_youth"],
            vec!["immigration"],
        ]),
        prop::sample::select(vec![vec![], vec!["es"], vec!["es", "ar"], vec!["so"]]),
        prop::sample::select(vec![vec![], vec!["minors"], vec!["lgbtq"]]),
        any::<bool>(),
        prop::sample::select(vec![
            vec![],
            vec![Kind::LawEnforcement],
            vec![Kind::Government],
        ]),
        prop::option::weighted(0.25, 20.0f64..600.0),
        any::<bool>(),
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.3),
    )
        .prop_map(
            |(
                anchor,
                dlat,
                dlon,
                issues,
                languages,
                populations,
                open_24h,
                exclude,
                radius,
                staff,
                accepting,
                warm_transfer,
            )| {
                let (lat, lon) = ANCHORS[anchor];
                let point =
                    LatLng::new((lat + dlat).clamp(-89.0, 89.0), lon + dlon).expect("in range");
                let query = Query {
                    place: Place::Point(point),
                    need: Need {
                        issues: issues.into_iter().map(str::to_owned).collect(),
                        languages: languages.into_iter().map(str::to_owned).collect(),
                        open_24h,
                        exclude,
                        populations: populations.into_iter().map(str::to_owned).collect(),
                        kinds: Vec::new(),
                    },
                    open_now: false,
                    at: Some(judged_at()),
                    radius_km: radius,
                    limit: MAX_LIMIT,
                    accepting,
                    warm_transfer,
                };
                (query, if staff { Role::Advocate } else { Role::Public })
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The answer at every limit is the first `limit` of the oracle's
    /// ranking of the whole directory: exact top-k, hence prefix-stable.
    #[test]
    fn every_limit_gives_the_oracles_first_results((query, role) in query_strategy()) {
        let m = matcher(role);
        let (expected, reach) = oracle(&m, &query);
        for limit in [1, 2, 3, 5, 8, 13, 30, MAX_LIMIT] {
            let answer = m.run(&Query { limit, ..query.clone() }).expect("answers");
            let got = ids(&answer);
            let want: Vec<String> = expected.iter().take(limit).cloned().collect();
            prop_assert_eq!(&got, &want, "limit {}", limit);
            let published = answer.filters.reach_km.expect("reach");
            prop_assert!((published - reach).abs() <= 0.05 + 1e-9);
        }
    }

    /// Within a tier and a relaxed set, a provider never ranks above one
    /// less than a third of its distance away, and effective distance never
    /// falls; helplines come by bonus.
    #[test]
    fn distance_keeps_its_meaning_within_a_tier((query, role) in query_strategy()) {
        let m = matcher(role);
        let place = m.resolve(&query.place).expect("resolves");
        let needs = needs_of(&m, &query, &place);
        // The candidates before rounding for publication.
        let (results, _) = m.ranked(&place, &needs, &query);
        for (a, earlier) in results.iter().enumerate() {
            for later in &results[a + 1..] {
                if earlier.tier != later.tier || earlier.relaxed != later.relaxed {
                    continue;
                }
                let (Some(d_earlier), Some(d_later)) = (earlier.distance_km, later.distance_km) else {
                    continue;
                };
                if earlier.tier.by_distance() {
                    prop_assert!(
                        d_later >= d_earlier / 3.0,
                        "{} km ranked above {} km in {:?}", d_earlier, d_later, earlier.tier
                    );
                    prop_assert!(
                        later.effective_km >= earlier.effective_km,
                        "effective distance falls in {:?}", earlier.tier
                    );
                    prop_assert!(
                        (later.effective_km - d_later / later.bonus.exp()).abs() < 1e-9
                    );
                } else if !earlier.national_line {
                    prop_assert!(later.bonus <= earlier.bonus);
                }
            }
        }
    }
}

/// The ceiling is the sum of the edges (its bound below `ln 3` and the
/// order of the language edges are checked at compile time).
#[test]
fn the_bonus_ceiling_is_the_sum_of_the_edges() {
    let edges = [
        BONUS_REACHABLE,
        BONUS_OPEN_24H,
        BONUS_SPEAKS,
        BONUS_SPECIFICITY,
        crate::model::FRESHNESS_EDGE,
    ];
    assert!((MAX_BONUS - edges.iter().sum::<f64>()).abs() < 1e-12);
    assert!(MAX_BONUS < 3f64.ln());
}

/// Dealing: remote queue at positions 3 and 5, in-person elsewhere, a
/// queue that runs out gives its turn, farther last.
#[test]
fn dealing_reserves_positions_three_and_five_for_remote_help() {
    let dealt = deal(
        vec!["a1", "a2", "a3", "a4"],
        vec!["r1", "r2", "r3"],
        vec!["f1"],
        10,
    );
    assert_eq!(dealt, ["a1", "a2", "r1", "a3", "r2", "a4", "r3", "f1"]);
    let dealt = deal(vec!["a1"], vec!["r1", "r2", "r3"], vec![], 10);
    assert_eq!(dealt, ["a1", "r1", "r2", "r3"]);
    let dealt = deal(vec!["a1", "a2", "a3"], vec![], vec!["f1"], 4);
    assert_eq!(dealt, ["a1", "a2", "a3", "f1"]);
    assert_eq!(deal(vec!["a1"], vec!["r1"], vec![], 1), ["a1"]);
}

/// Whether `p` can take a warm transfer for a caller in `country` speaking
/// `languages` at `at`, read plainly from the definition: open (or
/// 24-hour), not full by a fresh figure, a voice or toll-free line for the
/// caller's country, the language spoken or interpreted (or none asked).
fn plainly_ready(p: &Provider, languages: &[String], country: Option<&str>, at: Timestamp) -> bool {
    let open = p.availability.is_open_at(at) == Some(true);
    let fresh: Vec<u32> = p
        .capacity
        .iter()
        .filter(|c| {
            c.updated_at
                .is_some_and(|t| at.duration_since(t) <= jiff::SignedDuration::from_hours(24))
        })
        .map(|c| c.available)
        .collect();
    let accepting = fresh.is_empty() || fresh.iter().any(|&n| n > 0);
    let line = p.phones.iter().any(|phone| {
        matches!(phone.kind, PhoneKind::Voice | PhoneKind::TollFree) && phone_serves(phone, country)
    });
    let language = languages.is_empty()
        || p.languages
            .iter()
            .any(|l| languages.contains(&l.to_string()))
        || p.services.iter().any(|s| s == "interpretation");
    open && accepting && line && language
}

/// Over the whole directory, for staff queries at many places and
/// languages: a provider fails `warm_transfer` exactly when it does not
/// meet the four conditions, its checklist says the same, and every strict
/// result of `warm_transfer=true` meets them (which results come, and in
/// what order, is the oracle's test above).
#[test]
fn warm_transfer_is_exactly_the_four_conditions() {
    let m = matcher(Role::Advocate);
    let mut ready_seen = 0;
    for (anchor, languages) in ANCHORS.iter().zip(
        [vec![], vec!["es"], vec!["so"], vec!["es", "ar"]]
            .into_iter()
            .cycle(),
    ) {
        let point = LatLng::new(anchor.0, anchor.1).expect("in range");
        let languages: Vec<String> = languages.into_iter().map(str::to_owned).collect();
        let query = Query {
            need: Need {
                languages: languages.clone(),
                ..Need::default()
            },
            at: Some(judged_at()),
            warm_transfer: true,
            limit: MAX_LIMIT,
            ..Query::at_place(Place::Point(point))
        };
        let place = m.resolve(&query.place).expect("resolves");
        let needs = needs_of(&m, &query, &place);
        let country = place.country.as_deref();
        for i in 0..directory().len() as u32 {
            let p = directory().provider(i).expect("provider");
            let plain = plainly_ready(p, &languages, country, judged_at());
            let fails = needs
                .fails(p, i)
                .to_vec()
                .contains(&Relaxable::WarmTransfer);
            assert_eq!(fails, !plain, "{} at {anchor:?} for {languages:?}", p.id);
            let check = WarmTransfer::of(p, country, needs.language_fit(p, i), &needs.window);
            assert_eq!(check.ready, plain, "{}", p.id);
            assert_eq!(
                WarmTransfer::is_ready(p, country, needs.language_fit(p, i), &needs.window),
                plain,
                "{}",
                p.id
            );
            ready_seen += usize::from(plain);
        }
        let answer = m.run(&query).expect("answers");
        for result in &answer.results {
            let p = directory().provider(result.index).expect("provider");
            let check = result
                .warm_transfer
                .expect("a staff result has a checklist");
            let strict = !result.relaxed.contains(&Relaxable::WarmTransfer);
            assert_eq!(strict, check.ready, "{}", p.id);
            assert_eq!(
                check.ready,
                plainly_ready(p, &languages, country, judged_at())
            );
            if check.ready {
                assert!(result
                    .reasons
                    .iter()
                    .any(|r| r == "can take a warm transfer now"));
            }
        }
    }
    assert!(
        ready_seen > 100,
        "only {ready_seen} ready: the test sees too little"
    );
}

/// The public gets no checklist or capacity, and its answer ignores the
/// staff-only filters (the API refuses them with 403 before).
#[test]
fn the_public_gets_no_capacity_or_checklist() {
    let m = matcher(Role::Public);
    let query = Query {
        at: Some(judged_at()),
        limit: MAX_LIMIT,
        ..Query::at_place(Place::Near("Fresno, CA".to_owned()))
    };
    let plain = m.run(&query).expect("answers");
    let asked = m
        .run(&Query {
            accepting: true,
            warm_transfer: true,
            ..query.clone()
        })
        .expect("answers");
    assert_eq!(ids(&plain), ids(&asked));
    assert!(!asked.filters.accepting && !asked.filters.warm_transfer);
    for result in &asked.results {
        assert!(result.warm_transfer.is_none() && result.capacity.is_none());
        assert!(result
            .reasons
            .iter()
            .all(|r| !r.contains("capacity") && !r.contains("accepting")));
    }
}

/// `accepting=true` keeps fresh room and unknown capacity, relaxes fresh
/// zeros, and says which it is.
#[test]
fn accepting_keeps_room_and_unknown_and_flags_unknown() {
    let m = matcher(Role::Advocate);
    let query = Query {
        at: Some(judged_at()),
        accepting: true,
        limit: MAX_LIMIT,
        ..Query::at_place(Place::Near("Chicago, IL".to_owned()))
    };
    let answer = m.run(&query).expect("answers");
    let window = CapacityWindow {
        at: judged_at(),
        fresh_hours: DEFAULT_CAPACITY_FRESH_HOURS,
    };
    let mut kinds = std::collections::BTreeSet::new();
    for result in &answer.results {
        let p = directory().provider(result.index).expect("provider");
        let accepting = window.accepting(p);
        let relaxed = result.relaxed.contains(&Relaxable::Accepting);
        assert_eq!(relaxed, accepting == Accepting::No, "{}", p.id);
        let said = |text: &str| result.reasons.iter().any(|r| r.starts_with(text));
        match accepting {
            Accepting::Yes => assert!(said("accepting: "), "{:?}", result.reasons),
            Accepting::No => assert!(said("no capacity now")),
            Accepting::Unknown => assert!(said("capacity unknown")),
        }
        if let Some(shown) = result.capacity {
            let stale = window.is_stale(&p.capacity[usize::from(shown.position)]);
            assert_eq!(shown.stale, stale);
        } else {
            assert!(p.capacity.is_empty());
        }
        kinds.insert(format!("{accepting:?}"));
    }
    assert!(
        kinds.contains("Yes") && kinds.contains("Unknown"),
        "{kinds:?}"
    );
}
