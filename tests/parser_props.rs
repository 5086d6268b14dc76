//! Property tests of the parsers that read outside data (issue 12, item 6),
//! beside the `Query::parse` and bbox properties in `src/matching`:
//! the coverage query, the listing query, the flat CSV reader and the HSDS
//! reader. Arbitrary input never panics; every rejection names its source,
//! a line (0 only for the whole file) and a reason; every refused query
//! names a parameter and says what is valid.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use refmatch::coverage::{CoverageQuery, Purpose};
use refmatch::gazetteer::Gazetteer;
use refmatch::ingest::{hsds, Format, Ingested, Validator};
use refmatch::matching::{ListQuery, Terms};
use refmatch::model::Vocabulary;
use std::sync::OnceLock;

fn gazetteer() -> &'static Gazetteer {
    static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
    GAZETTEER.get_or_init(|| Gazetteer::bundled().unwrap())
}

fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(|| Vocabulary::bundled().unwrap())
}

fn terms() -> Terms<'static> {
    Terms {
        vocabulary: vocabulary(),
        gazetteer: gazetteer(),
    }
}

/// A parameter name: a known one or anything short.
fn name(known: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(known).prop_map(str::to_owned),
        1 => "[a-z_]{0,10}",
    ]
}

/// A parameter value: numbers, lists, codes, bboxes or anything.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{0,4}(\\.[0-9]{0,3})?",
        "(-?[0-9]{1,3}(\\.[0-9])?,){0,4}-?[0-9]{1,3}",
        "(state|county|country|h3|H3| h3 |zip)",
        "(trafficking|labor_trafficking|es|en|minors|hotline|gaussian|binary|true|false|csv)(,[a-z_]{0,12}){0,3}",
        ".{0,40}",
    ]
}

const COVERAGE_NAMES: &[&str] = &[
    "by",
    "resolution",
    "bbox",
    "issue",
    "language",
    "open_24h",
    "kind",
    "exclude",
    "population",
    "include_hotlines",
    "threshold_km",
    "catchment_km",
    "decay",
    "tolerance",
    "sites",
];

const LIST_NAMES: &[&str] = &[
    "bbox", "issue", "language", "kind", "limit", "cursor", "stale",
];

/// Every rejection names its source, a line within the input (0 for the
/// whole file) and a reason.
fn rejections_are_named(ingested: &Ingested, source: &str, lines: usize) {
    for r in &ingested.rejections {
        assert_eq!(r.source, source, "{r:?}");
        assert!(r.line as usize <= lines + 1, "line past the end: {r:?}");
        assert!(r.reason.trim().len() > 5, "no reason: {r:?}");
    }
}

/// The flat CSV header and one valid row to mutate.
const CSV_HEADER: &str = "id,name,kind,issues,languages,hours,lat,lon,service_area,visibility\n";
const CSV_ROW: [&str; 10] = [
    "prop-1",
    "Prop Shelter",
    "service_provider",
    "sex_trafficking",
    "en",
    "24/7",
    "36.74",
    "-119.79",
    "radius:30",
    "public",
];

/// A CSV field: the valid one, or something else.
fn csv_field(valid: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(valid.to_owned()),
        1 => "[^\n]{0,16}",
        1 => "\"[^\"]{0,8}\"?",
        1 => "-?[0-9]{1,4}(\\.[0-9]{0,6})?",
        1 => "(radius|county|state|country|polygon|nationwide):[^,\n]{0,12}",
    ]
}

fn csv_row() -> impl Strategy<Value = String> {
    CSV_ROW
        .iter()
        .map(|&valid| csv_field(valid))
        .collect::<Vec<_>>()
        .prop_map(|fields| fields.join(","))
}

/// One exported HSDS service to mutate.
fn hsds_service() -> serde_json::Value {
    static SERVICE: OnceLock<serde_json::Value> = OnceLock::new();
    SERVICE
        .get_or_init(|| {
            let csv = format!("{CSV_HEADER}{}\n", CSV_ROW.join(","));
            let validator = Validator::new(gazetteer(), vocabulary());
            let ingested = validator.read_bytes("seed.csv", Format::Csv, csv.as_bytes());
            assert_eq!(ingested.providers.len(), 1, "{:?}", ingested.rejections);
            hsds::export(&ingested.providers)
        })
        .clone()
}

/// Replaces the value at a path of object keys / array positions chosen
/// by `steps` with `replacement`.
fn mutate(value: &mut serde_json::Value, steps: &[usize], replacement: serde_json::Value) {
    let Some((&step, rest)) = steps.split_first() else {
        *value = replacement;
        return;
    };
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            let key = map.keys().nth(step % map.len()).cloned().unwrap();
            if let Some(next) = map.get_mut(&key) {
                mutate(next, rest, replacement);
            }
        }
        serde_json::Value::Array(items) if !items.is_empty() => {
            let i = step % items.len();
            mutate(&mut items[i], rest, replacement);
        }
        _ => *value = replacement,
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(serde_json::Value::from),
        ".{0,20}".prop_map(serde_json::Value::from),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
        Just(serde_json::json!([{"latitude": 95, "longitude": "x"}])),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any coverage parameters give a query or an error naming a
    /// parameter; an accepted query is within the documented limits.
    #[test]
    fn coverage_query_parse_never_panics(
        params in proptest::collection::vec((name(COVERAGE_NAMES), value()), 0..8),
        suggest in any::<bool>(),
    ) {
        let purpose = if suggest { Purpose::Suggest } else { Purpose::Report };
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        match CoverageQuery::parse(pairs, &["format"], purpose, &terms()) {
            Ok(query) => {
                prop_assert!(query.threshold_km > 0.0 && query.threshold_km <= 1_000.0);
                prop_assert!(query.catchment_km > 0.0 && query.catchment_km <= 500.0);
                prop_assert!((0.0..=1.0).contains(&query.tolerance_deg));
                prop_assert!((1..=100).contains(&query.sites));
            }
            Err(error) => {
                // The parameter named is one that was sent (or, for a
                // rule between two, a known one).
                let named = params.iter().any(|(k, _)| *k == error.parameter)
                    || COVERAGE_NAMES.contains(&error.parameter.as_str());
                prop_assert!(named, "{error:?}");
                prop_assert!(error.detail.len() > 10, "{error:?}");
            }
        }
    }

    /// Any listing parameters give a query or an error naming a parameter.
    #[test]
    fn list_query_parse_never_panics(
        params in proptest::collection::vec((name(LIST_NAMES), value()), 0..8),
    ) {
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        match ListQuery::parse(pairs, &[], &terms()) {
            Ok(query) => prop_assert!((1..=1000).contains(&query.limit)),
            Err(error) => {
                let named = params.iter().any(|(k, _)| *k == error.parameter)
                    || LIST_NAMES.contains(&error.parameter.as_str());
                prop_assert!(named, "{error:?}");
                prop_assert!(error.detail.len() > 10, "{error:?}");
            }
        }
    }

    /// Arbitrary bytes as CSV: no panic; every rejection is named.
    #[test]
    fn csv_reader_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let validator = Validator::new(gazetteer(), vocabulary());
        let ingested = validator.read_bytes("any.csv", Format::Csv, &bytes);
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
        rejections_are_named(&ingested, "any.csv", lines);
    }

    /// CSV rows near the valid one: each row is accepted or rejected with
    /// its own line (header on line 1, rows from line 2).
    #[test]
    fn csv_rows_are_accepted_or_rejected_by_line(rows in proptest::collection::vec(csv_row(), 1..6)) {
        let text = format!("{CSV_HEADER}{}\n", rows.join("\n"));
        let validator = Validator::new(gazetteer(), vocabulary());
        let ingested = validator.read_bytes("rows.csv", Format::Csv, text.as_bytes());
        rejections_are_named(&ingested, "rows.csv", text.lines().count());
        for r in &ingested.rejections {
            prop_assert!(r.line == 0 || r.line >= 2, "{r:?}");
        }
    }

    /// Arbitrary bytes as JSON / HSDS: no panic; every rejection is named.
    #[test]
    fn hsds_reader_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let validator = Validator::new(gazetteer(), vocabulary());
        let ingested = validator.read_bytes("any.json", Format::Json, &bytes);
        rejections_are_named(&ingested, "any.json", bytes.len());
    }

    /// An exported HSDS service with one value replaced anywhere in its
    /// tree: imported or rejected with its position and a reason.
    #[test]
    fn hsds_services_with_a_wrong_value_are_rejected_by_position(
        steps in proptest::collection::vec(any::<usize>(), 1..6),
        replacement in json_value(),
    ) {
        let mut export = hsds_service();
        mutate(&mut export, &steps, replacement);
        let bytes = serde_json::to_vec(&export).unwrap();
        let validator = Validator::new(gazetteer(), vocabulary());
        let ingested = validator.read_bytes("hsds.json", Format::Json, &bytes);
        rejections_are_named(&ingested, "hsds.json", 1);
    }
}
