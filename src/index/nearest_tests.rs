//! Tests of attribute filters and the pruned nearest search: `compile` and
//! `accepts` semantics, and `nearest_matching` against a brute-force
//! haversine scan with an independently written filter check.

use super::test_support::{at, gazetteer, provider};
use super::*;
use crate::model::{Availability, Kind, LatLng, Provider};
use compact_str::CompactString;
use proptest::prelude::*;
use std::cell::RefCell;

fn build(providers: Vec<Provider>) -> Directory {
    let (directory, rejections) =
        Directory::build(providers, gazetteer(), IndexOptions::default()).unwrap();
    assert!(rejections.is_empty(), "{rejections:?}");
    directory
}

/// Codes as a provider's list or a filter's (whichever string type).
fn strings<T: for<'a> From<&'a str>>(codes: &[&str]) -> Vec<T> {
    codes.iter().map(|c| T::from(c)).collect()
}

/// The oracle: the filter's meaning, written straight from the provider.
fn passes(p: &Provider, f: &AttributeFilter) -> bool {
    let any = |have: &[CompactString], wanted: &[String]| {
        wanted.is_empty() || have.iter().any(|c| wanted.iter().any(|w| w == c))
    };
    any(&p.issues, &f.issues_any)
        && any(&p.languages, &f.languages_any)
        && any(&p.populations, &f.populations_any)
        && f.kinds.as_ref().is_none_or(|kinds| kinds.contains(&p.kind))
        && (!f.open_24h || matches!(p.availability, Availability::Open24h))
        && (f.countries_any.is_empty() || {
            let country = p.address.as_ref().and_then(|a| a.country.as_deref());
            f.countries_any
                .iter()
                .any(|c| c == country.unwrap_or_default())
        })
        && (!f.public_only || p.visibility == crate::model::Visibility::Public)
        && (!f.civilian_only || (p.kind != Kind::LawEnforcement && !p.law_enforcement))
}

/// Indexes of the providers `compile(filter)` accepts.
fn accepted(directory: &Directory, filter: &AttributeFilter) -> Vec<u32> {
    let compiled = directory.compile(filter);
    (0..directory.len() as u32)
        .filter(|&i| compiled.accepts(i))
        .collect()
}

/// Four providers with distinct attributes, located 1° apart on a line.
fn four() -> Directory {
    let mut a = provider("a", Some(at(0.0, 0.0)), vec![]);
    a.issues = strings(&["sex_trafficking", "domestic_violence"]);
    a.languages = strings(&["en", "es"]);
    a.populations = strings(&["minors"]);
    a.kind = Kind::Hotline;
    a.availability = Availability::Open24h;
    let mut b = provider("b", Some(at(0.0, 1.0)), vec![]);
    b.issues = strings(&["labor_trafficking"]);
    b.languages = strings(&["es"]);
    let mut c = provider("c", Some(at(0.0, 2.0)), vec![]);
    c.issues = strings(&["sex_trafficking"]);
    c.languages = strings(&["hi"]);
    c.populations = strings(&["adults", "minors"]);
    c.availability = Availability::Open24h;
    let mut d = provider("d", None, vec![]);
    d.issues = strings(&["labor_trafficking"]);
    d.languages = strings(&["so", "es"]);
    d.kind = Kind::LawEnforcement;
    build(vec![a, b, c, d])
}

#[test]
fn a_list_is_an_or_over_its_codes() {
    let directory = four();
    let languages = |codes: &[&str]| AttributeFilter {
        languages_any: strings(codes),
        ..AttributeFilter::default()
    };
    assert_eq!(accepted(&directory, &languages(&["hi"])), [2]);
    assert_eq!(accepted(&directory, &languages(&["hi", "so"])), [2, 3]);
    assert_eq!(accepted(&directory, &languages(&["es"])), [0, 1, 3]);
    let populations = AttributeFilter {
        populations_any: strings(&["adults", "minors"]),
        ..AttributeFilter::default()
    };
    assert_eq!(accepted(&directory, &populations), [0, 2]);
}

#[test]
fn lists_are_anded() {
    let directory = four();
    let filter = AttributeFilter {
        issues_any: strings(&["labor_trafficking"]),
        languages_any: strings(&["es"]),
        ..AttributeFilter::default()
    };
    assert_eq!(accepted(&directory, &filter), [1, 3]);
    let filter = AttributeFilter {
        issues_any: strings(&["sex_trafficking"]),
        populations_any: strings(&["minors"]),
        open_24h: true,
        ..AttributeFilter::default()
    };
    assert_eq!(accepted(&directory, &filter), [0, 2]);
    let filter = AttributeFilter {
        issues_any: strings(&["sex_trafficking"]),
        languages_any: strings(&["so"]),
        ..AttributeFilter::default()
    };
    assert_eq!(accepted(&directory, &filter), [] as [u32; 0]);
}

#[test]
fn kinds_are_an_allow_list() {
    let directory = four();
    let kinds = |kinds: Option<Vec<Kind>>| AttributeFilter {
        kinds,
        ..AttributeFilter::default()
    };
    assert_eq!(accepted(&directory, &kinds(None)), [0, 1, 2, 3]);
    assert_eq!(accepted(&directory, &kinds(Some(vec![Kind::Hotline]))), [0]);
    assert_eq!(
        accepted(
            &directory,
            &kinds(Some(vec![
                Kind::LawEnforcement,
                Kind::Hotline,
                Kind::Hotline
            ]))
        ),
        [0, 3]
    );
    assert_eq!(
        accepted(&directory, &kinds(Some(vec![Kind::Coalition]))),
        [] as [u32; 0]
    );
    assert_eq!(
        accepted(&directory, &kinds(Some(Vec::new()))),
        [] as [u32; 0]
    );
}

#[test]
fn unknown_codes_match_nothing() {
    let directory = four();
    let unknown = AttributeFilter {
        issues_any: strings(&["no_such_issue"]),
        ..AttributeFilter::default()
    };
    assert_eq!(accepted(&directory, &unknown), [] as [u32; 0]);
    let compiled = directory.compile(&unknown);
    assert!(!compiled.is_unrestricted());
    assert!(directory
        .nearest_matching(Geometry::Exact, at(0.0, 0.0), 5, None, &compiled, |_| true)
        .is_empty());
    // Beside a known code, an unknown one changes nothing.
    let mixed = AttributeFilter {
        issues_any: strings(&["no_such_issue", "labor_trafficking"]),
        ..AttributeFilter::default()
    };
    assert_eq!(accepted(&directory, &mixed), [1, 3]);
    // A code of another table is unknown in this one.
    let crossed = AttributeFilter {
        languages_any: strings(&["sex_trafficking"]),
        ..AttributeFilter::default()
    };
    assert_eq!(accepted(&directory, &crossed), [] as [u32; 0]);
}

#[test]
fn the_default_filter_is_unrestricted_and_bounded_by_the_directory() {
    let directory = four();
    let compiled = directory.compile(&AttributeFilter::default());
    assert!(compiled.is_unrestricted());
    assert_eq!(
        accepted(&directory, &AttributeFilter::default()),
        [0, 1, 2, 3]
    );
    assert!(!compiled.accepts(4));
    assert!(!compiled.accepts(u32::MAX));
    let open = directory.compile(&AttributeFilter {
        open_24h: true,
        ..AttributeFilter::default()
    });
    assert!(!open.is_unrestricted());
    assert!(open.accepts(0) && !open.accepts(1));
}

#[test]
fn nearest_matching_skips_non_matching_and_unlocated_providers() {
    let directory = four();
    let spanish = directory.compile(&AttributeFilter {
        languages_any: strings(&["es"]),
        ..AttributeFilter::default()
    });
    // `d` speaks Spanish but has no location.
    let hits =
        directory.nearest_matching(Geometry::Exact, at(0.0, 2.0), 10, None, &spanish, |_| true);
    assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [1, 0]);
    assert!((hits[0].1 - at(0.0, 2.0).distance_km(at(0.0, 1.0))).abs() < 1e-9);
    let hits = directory.nearest_matching(Geometry::Exact, at(0.0, 2.0), 10, None, &spanish, |i| {
        i != 1
    });
    assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [0]);
    let hits = directory.nearest_matching(
        Geometry::Exact,
        at(0.0, 2.0),
        10,
        Some(150.0),
        &spanish,
        |_| true,
    );
    assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [1]);
    for bound in [-1.0, f64::NEG_INFINITY] {
        assert!(directory
            .nearest_matching(
                Geometry::Exact,
                at(0.0, 2.0),
                10,
                Some(bound),
                &spanish,
                |_| true
            )
            .is_empty());
    }
    for bound in [f64::NAN, f64::INFINITY, 1e9] {
        let hits = directory.nearest_matching(
            Geometry::Exact,
            at(0.0, 2.0),
            10,
            Some(bound),
            &spanish,
            |_| true,
        );
        assert_eq!(hits.len(), 2, "bound {bound}");
    }
}

#[test]
fn extra_is_called_in_distance_order_on_passers_only_until_k_hits() {
    let mut providers = Vec::new();
    for i in 0..2_000u32 {
        let mut p = provider(
            &format!("p{i}"),
            Some(at(f64::from(i % 50) * 0.1, f64::from(i / 50) * 0.1)),
            vec![],
        );
        if i % 7 == 0 {
            p.languages = strings(&["hi"]);
        }
        providers.push(p);
    }
    let directory = build(providers);
    let hindi = directory.compile(&AttributeFilter {
        languages_any: strings(&["hi"]),
        ..AttributeFilter::default()
    });
    let query = at(2.0, 2.0);
    let calls = RefCell::new(Vec::new());
    let hits = directory.nearest_matching(Geometry::Exact, query, 5, None, &hindi, |i| {
        calls.borrow_mut().push(i);
        i % 2 == 0
    });
    let calls = calls.into_inner();
    assert_eq!(hits.len(), 5);
    assert!(calls.iter().all(|i| i % 7 == 0), "{calls:?}");
    assert_eq!(calls.last(), hits.last().map(|h| &h.0));
    let distance =
        |i: &u32| query.distance_km(directory.providers()[*i as usize].location.unwrap());
    assert!(calls
        .windows(2)
        .all(|w| distance(&w[0]) <= distance(&w[1]) + 1e-9));
    assert_eq!(calls.iter().filter(|i| *i % 2 == 0).count(), 5);
}

/// More distinct codes than summary bits, so rare codes share bits: the
/// search must still find exactly the providers with the wanted code.
#[test]
fn shared_summary_bits_lose_nothing() {
    let mut next = lcg(0xB175);
    let providers: Vec<Provider> = (0..1_500u32)
        .map(|i| {
            let mut p = provider(
                &format!("p{i}"),
                Some(at(30.0 + 15.0 * next(), -120.0 + 40.0 * next())),
                vec![],
            );
            p.languages = vec![compact_str::format_compact!("l{}", i % 300)];
            p.issues = vec![compact_str::format_compact!("i{}", i % 7)];
            p
        })
        .collect();
    let directory = build(providers);
    for code in ["l0", "l150", "l299", "l37"] {
        let filter = AttributeFilter {
            languages_any: vec![code.to_owned()],
            ..AttributeFilter::default()
        };
        for _ in 0..20 {
            let query = at(25.0 + 25.0 * next(), -125.0 + 50.0 * next());
            check(&directory, query, 3, None, &filter, |_| true);
        }
    }
}

/// A fixed-seed 64-bit LCG giving `[0, 1)`.
fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Compares `nearest_matching` with a brute-force haversine scan using
/// [`passes`]; panics with the first difference.
fn check(
    directory: &Directory,
    query: LatLng,
    k: usize,
    max_km: Option<f64>,
    filter: &AttributeFilter,
    extra: impl Fn(u32) -> bool,
) {
    let compiled = directory.compile(filter);
    let hits = directory.nearest_matching(Geometry::Exact, query, k, max_km, &compiled, &extra);
    let mut brute: Vec<(u32, f64)> = directory
        .providers()
        .iter()
        .zip(0u32..)
        .filter(|(p, i)| passes(p, filter) && extra(*i))
        .filter_map(|(p, i)| Some((i, query.distance_km(p.location?))))
        .filter(|&(_, d)| max_km.is_none_or(|m| d <= m))
        .collect();
    brute.sort_by(|a, b| a.1.total_cmp(&b.1));
    brute.truncate(k);

    // A hit exactly at the max_km edge may differ by rounding.
    let at_edge = |d: f64| max_km.is_some_and(|m| (d - m).abs() < 1e-6);
    let context = || {
        format!("query {query}, k {k}, max {max_km:?}, {filter:?}\nhits  {hits:?}\nbrute {brute:?}")
    };
    if hits.len() != brute.len() {
        let longer = if hits.len() > brute.len() {
            &hits
        } else {
            &brute
        };
        let shorter = hits.len().min(brute.len());
        assert!(
            longer.len() == shorter + 1 && at_edge(longer[shorter].1),
            "count differs: {}",
            context()
        );
    }
    for (hit, expected) in hits.iter().zip(&brute) {
        assert!(
            (hit.1 - expected.1).abs() < 1e-6,
            "distance differs: {}",
            context()
        );
        let p = &directory.providers()[hit.0 as usize];
        assert!(
            passes(p, filter) && extra(hit.0),
            "{p:?} fails: {}",
            context()
        );
        assert!(compiled.accepts(hit.0));
        let own = query.distance_km(p.location.unwrap());
        assert!((hit.1 - own).abs() < 1e-6, "own distance: {}", context());
        assert!(max_km.is_none_or(|m| hit.1 <= m));
    }
    assert!(
        hits.windows(2).all(|w| w[0].1 <= w[1].1),
        "not sorted: {}",
        context()
    );
}

const ISSUES: [&str; 3] = ["sex_trafficking", "labor_trafficking", "immigration"];
const LANGUAGES: [&str; 3] = ["en", "es", "hi"];
const POPULATIONS: [&str; 3] = ["adults", "minors", "lgbtq"];
/// Given to about 1% of providers: the selective filter.
const RARE: &str = "rare_issue";

/// Positions biased towards the hard places: the poles, the antimeridian,
/// Guam and American Samoa.
fn position() -> impl Strategy<Value = (f64, f64)> {
    prop_oneof![
        (-90.0f64..=90.0, -180.0f64..=180.0),
        (
            prop_oneof![80.0f64..=90.0, -90.0f64..=-80.0],
            -180.0f64..=180.0
        ),
        (
            -60.0f64..=60.0,
            prop_oneof![170.0f64..=180.0, -180.0f64..=-170.0]
        ),
        (12.0f64..=15.0, 143.0f64..=146.0),
        (-15.5f64..=-13.0, -172.0f64..=-169.0),
    ]
}

/// A provider from a position (if located), random attribute bits and a
/// percentile (0: it gets the rare issue).
fn make(i: usize, (location, bits, percent): (Option<(f64, f64)>, u32, u8)) -> Provider {
    let mut p = provider(
        &format!("p{i}"),
        location.map(|(lat, lon)| at(lat, lon)),
        vec![],
    );
    let pick = |codes: &[&str], bits: u32| -> Vec<CompactString> {
        codes
            .iter()
            .enumerate()
            .filter(|(j, _)| bits & (1 << j) != 0)
            .map(|(_, c)| CompactString::from(*c))
            .collect()
    };
    p.issues = pick(&ISSUES, bits);
    if percent == 0 {
        p.issues.push(RARE.into());
    }
    p.languages = pick(&LANGUAGES, bits >> 3);
    p.populations = pick(&POPULATIONS, bits >> 6);
    p.kind = Kind::ALL[(bits >> 9) as usize % Kind::ALL.len()];
    if bits & (1 << 12) != 0 {
        p.availability = Availability::Open24h;
    }
    // Two bits: no address, or one of three countries.
    let country = ["", "US", "PR", "CA"][(bits >> 13) as usize % 4];
    if !country.is_empty() {
        p.address = Some(crate::model::Address {
            country: Some(country.into()),
            ..crate::model::Address::default()
        });
    }
    if bits & (1 << 15) != 0 {
        p.visibility = crate::model::Visibility::Confidential;
    }
    // A task force or coalition may be police-led.
    if bits & (1 << 16) != 0 {
        p.law_enforcement = true;
    }
    p
}

fn subset(codes: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(codes, 0..=codes.len())
        .prop_map(|c| c.into_iter().map(str::to_owned).collect())
}

/// Filters from everything-passes to nothing-passes: random requirements
/// (unknown codes among them), the 1% code, an unknown code alone.
fn filter() -> impl Strategy<Value = AttributeFilter> {
    let random = (
        subset(&[
            "sex_trafficking",
            "labor_trafficking",
            "immigration",
            "none",
        ]),
        subset(&["en", "es", "hi", "xx"]),
        subset(&["adults", "minors", "lgbtq"]),
        proptest::option::of(proptest::sample::subsequence(Kind::ALL.to_vec(), 0..=3)),
        any::<bool>(),
        subset(&["", "US", "PR", "MX"]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                issues_any,
                languages_any,
                populations_any,
                kinds,
                open_24h,
                countries_any,
                public_only,
                civilian_only,
            )| {
                AttributeFilter {
                    issues_any,
                    languages_any,
                    populations_any,
                    kinds,
                    open_24h,
                    countries_any,
                    public_only,
                    civilian_only,
                }
            },
        );
    prop_oneof![
        3 => random,
        2 => Just(AttributeFilter { issues_any: vec![RARE.into()], ..AttributeFilter::default() }),
        1 => Just(AttributeFilter::default()),
        1 => Just(AttributeFilter { languages_any: vec!["xx".into()], ..AttributeFilter::default() }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn nearest_matching_equals_brute_force_haversine(
        providers in proptest::collection::vec(
            (proptest::option::weighted(0.94, position()), any::<u32>(), 0u8..100),
            0..700,
        ),
        queries in proptest::collection::vec(position(), 1..6),
        k in prop_oneof![1usize..12, 100usize..800],
        modulus in 1u32..4,
        max_km in proptest::option::of(prop_oneof![1.0f64..500.0, 500.0f64..25_000.0]),
        filter in filter(),
    ) {
        let providers: Vec<Provider> = providers.into_iter().enumerate().map(|(i, p)| make(i, p)).collect();
        let directory = build(providers);
        for (lat, lon) in queries {
            check(&directory, at(lat, lon), k, max_km, &filter, |i| i % modulus == 0);
        }
    }
}

/// A larger, deeper tree than the property test builds: 6,000 providers
/// (three levels of inner nodes), 1% passing the rare filter.
#[test]
fn deep_tree_equals_brute_force() {
    let mut next = lcg(2026);
    let providers: Vec<Provider> = (0..6_000)
        .map(|i| {
            let location = if next() < 0.5 {
                Some((40.0 + 10.0 * next(), -100.0 + 20.0 * next()))
            } else {
                Some((180.0 * next() - 90.0, 360.0 * next() - 180.0))
            };
            make(
                i,
                (location, (next() * 8192.0) as u32, (next() * 100.0) as u8),
            )
        })
        .collect();
    let directory = build(providers);
    let rare = AttributeFilter {
        issues_any: vec![RARE.into()],
        ..AttributeFilter::default()
    };
    let pass = accepted(&directory, &rare).len();
    assert!((30..=90).contains(&pass), "{pass} pass the rare filter");
    let hindi_open = AttributeFilter {
        languages_any: vec!["hi".into()],
        kinds: Some(vec![Kind::Hotline, Kind::Coalition]),
        open_24h: true,
        ..AttributeFilter::default()
    };
    for _ in 0..40 {
        let query = at(180.0 * next() - 90.0, 360.0 * next() - 180.0);
        for filter in [&rare, &hindi_open, &AttributeFilter::default()] {
            check(&directory, query, 10, None, filter, |_| true);
            check(&directory, query, 10, Some(800.0), filter, |_| true);
        }
        check(&directory, query, 100, None, &rare, |i| i % 3 != 0);
    }
}
