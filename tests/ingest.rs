//! `refmatch ingest` on each reader's fixture and on a corpus of malformed
//! inputs: every row ends as a provider or a rejection with its line and
//! reason, and nothing panics.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ingest")
        .join(name)
}

fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("refmatch-ingest-{label}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

struct Outcome {
    summary: Value,
    providers: Vec<Value>,
    rejections: Vec<(String, u64, String, String)>,
}

/// Runs `refmatch ingest FILES --out DIR` and reads what it wrote.
fn ingest(label: &str, files: &[PathBuf]) -> Outcome {
    let out = temp_dir(label);
    let output = Command::new(env!("CARGO_BIN_EXE_refmatch"))
        .arg("ingest")
        .args(files)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("refmatch runs");
    assert!(
        output.status.success(),
        "ingest failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&output.stdout).expect("summary JSON on stdout");
    let providers = std::fs::read_to_string(out.join("providers.ndjson"))
        .expect("providers.ndjson")
        .lines()
        .map(|l| serde_json::from_str(l).expect("provider JSON"))
        .collect();
    let mut reader = csv::Reader::from_path(out.join("rejections.csv")).expect("rejections.csv");
    let rejections = reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            (
                r[0].to_owned(),
                r[1].parse().expect("line"),
                r[2].to_owned(),
                r[3].to_owned(),
            )
        })
        .collect();
    std::fs::remove_dir_all(&out).ok();
    Outcome {
        summary,
        providers,
        rejections,
    }
}

fn accounted(outcome: &Outcome) {
    let read = outcome.summary["rows_read"].as_u64().unwrap_or(0);
    let accepted = outcome.providers.len() as u64;
    let rejected = outcome.rejections.len() as u64;
    assert_eq!(
        accepted + rejected,
        read,
        "accepted + rejected == rows read: {}",
        outcome.summary
    );
    assert_eq!(outcome.summary["accepted"].as_u64(), Some(accepted));
    assert_eq!(outcome.summary["rejected"].as_u64(), Some(rejected));
}

fn provider<'a>(outcome: &'a Outcome, id: &str) -> &'a Value {
    outcome
        .providers
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("{id} not accepted; rejections: {:?}", outcome.rejections))
}

#[test]
fn csv_reader_accepts_every_area_kind_and_geocodes_addresses() {
    let outcome = ingest("good", &[fixture("good.csv")]);
    accounted(&outcome);
    assert!(outcome.rejections.is_empty(), "{:?}", outcome.rejections);
    assert_eq!(outcome.providers.len(), 8);
    let shelter = provider(&outcome, "fresno-shelter");
    assert_eq!(
        shelter["languages"],
        serde_json::json!(["en", "es"]),
        "Spanish → es"
    );
    assert_eq!(shelter["availability"]["type"], "open24h");
    assert_eq!(shelter["precision"], "point");
    assert_eq!(shelter["phones"][1]["kind"], "text");
    assert_eq!(provider(&outcome, "cook-le")["law_enforcement"], true);
    // No coordinates: placed at the ZIP centroid, and it says so.
    let zip_only = provider(&outcome, "zip-only");
    assert_eq!(zip_only["precision"], "postal_code");
    assert!((zip_only["location"]["lat"].as_f64().unwrap_or(0.0) - 40.75).abs() < 0.1);
    let pr = provider(&outcome, "pr-coalition");
    assert_eq!(pr["precision"], "postal_code");
    let lima = provider(&outcome, "lima-ngo");
    assert_eq!(lima["precision"], "locality");
    assert_eq!(lima["phones"][0]["country"], "PE");
    assert_eq!(outcome.summary["by_precision"]["point"], 3);
    assert_eq!(outcome.summary["by_kind"]["hotline"], 1);
}

#[test]
fn malformed_csv_rows_are_each_rejected_with_line_field_and_reason() {
    let outcome = ingest("malformed", &[fixture("malformed.csv")]);
    accounted(&outcome);
    let ids: Vec<&str> = outcome
        .providers
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, ["ok-1", "ok-2"]);
    let expect = [
        (3, "lat", "between -90 and 90"),
        (4, "issues", "unknown issue 'alien_abduction'"),
        (5, "hours", "not a time of day"),
        (6, "name", "name is empty"),
        (7, "kind", "unknown kind 'wizard'"),
        (8, "timezone", "unknown time zone"),
        (9, "service_area", "unknown state 'ZZ'"),
        (10, "service_area", "needs a location"),
        (11, "email", "not an e-mail address"),
        (12, "languages", "unknown language 'klingonese'"),
        (13, "phones", "unknown phone kind 'pigeon'"),
        (14, "id", "used by an earlier record"),
        (15, "service_area", "out of range"),
        (16, "verified_at", "not a date"),
        // Passes row checks; rejected when the index resolves the area.
        (18, "service_area", "has no boundary"),
        (19, "", "truncated"),
    ];
    assert_eq!(
        outcome.rejections.len(),
        expect.len(),
        "{:#?}",
        outcome.rejections
    );
    for (line, field, reason) in expect {
        let found = outcome.rejections.iter().find(|r| r.1 == line);
        let (_, _, got_field, got_reason) = found
            .unwrap_or_else(|| panic!("no rejection for line {line}: {:#?}", outcome.rejections));
        assert_eq!(got_field, field, "line {line}: {got_reason}");
        assert!(got_reason.contains(reason), "line {line}: {got_reason}");
    }
}

#[test]
fn huge_cells_invalid_utf8_and_missing_files_are_rejected_not_fatal() {
    let dir = temp_dir("hostile-inputs");
    let header = "id,name,kind,lat,lon,service_area\n";
    let mut csv = header.as_bytes().to_vec();
    csv.extend_from_slice(
        format!(
            "big,{},service_provider,36.7,-119.8,radius:10\n",
            "x".repeat(1 << 20)
        )
        .as_bytes(),
    );
    csv.extend_from_slice(b"utf,Bad \xff\xfe Name,service_provider,36.7,-119.8,radius:10\n");
    csv.extend_from_slice(b"fine,Fine Name,service_provider,36.7,-119.8,radius:10\n");
    let hostile = dir.join("hostile.csv");
    std::fs::write(&hostile, csv).expect("write");
    let empty = dir.join("empty.json");
    std::fs::write(&empty, b"").expect("write");
    let missing = dir.join("missing.csv");
    let outcome = ingest("hostile", &[hostile, empty, missing]);
    accounted(&outcome);
    assert_eq!(outcome.providers.len(), 1);
    let reasons: Vec<&str> = outcome.rejections.iter().map(|r| r.3.as_str()).collect();
    assert!(
        reasons.iter().any(|r| r.contains("bytes; at most")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("UTF-8")), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("not valid JSON")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("cannot read the file")),
        "{reasons:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn ndjson_reader_reports_bad_lines_by_number() {
    let outcome = ingest("ndjson", &[fixture("providers.ndjson")]);
    accounted(&outcome);
    let ids: Vec<&str> = outcome
        .providers
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, ["nd-1", "nd-2"]);
    let lines: Vec<u64> = outcome.rejections.iter().map(|r| r.1).collect();
    assert_eq!(lines, [2, 3, 6], "{:?}", outcome.rejections);
    assert_eq!(
        provider(&outcome, "nd-1")["phones"][0]["dial"],
        "5595550160"
    );
}

#[test]
fn geojson_reader_takes_points_and_polygons() {
    let outcome = ingest("geojson", &[fixture("directory.geojson")]);
    accounted(&outcome);
    let point = provider(&outcome, "gj-point");
    assert!((point["location"]["lon"].as_f64().unwrap_or(0.0) + 87.6298).abs() < 1e-6);
    let polygon = provider(&outcome, "gj-polygon");
    assert_eq!(polygon["service_area"][0]["type"], "polygon");
    assert_eq!(polygon["precision"], "locality", "placed at its city");
    let fields: Vec<&str> = outcome.rejections.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(fields, ["geometry", "name"], "{:?}", outcome.rejections);
}

#[test]
fn hsds_export_round_trips_every_field() {
    let dir = temp_dir("hsds-inputs");
    let exported = dir.join("hsds.json");
    let output = Command::new(env!("CARGO_BIN_EXE_refmatch"))
        .arg("export-hsds")
        .arg(fixture("good.csv"))
        .arg(fixture("directory.geojson"))
        .arg("data/hotlines.json")
        .arg("--out")
        .arg(&exported)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let hsds: Value =
        serde_json::from_slice(&std::fs::read(&exported).expect("read")).expect("JSON");
    let first = &hsds[0];
    assert_eq!(first["status"], "active");
    assert!(first["service_at_locations"][0]["location"]["latitude"].is_number());
    let original = ingest(
        "hsds-original",
        &[
            fixture("good.csv"),
            fixture("directory.geojson"),
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/hotlines.json"),
        ],
    );
    let round = ingest("hsds-round", &[exported]);
    accounted(&round);
    assert_eq!(round.providers.len(), original.providers.len());
    for (a, b) in original.providers.iter().zip(&round.providers) {
        assert_eq!(a, b, "round trip changed {}", a["id"]);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn generate_is_deterministic_and_csv_and_parquet_read_the_same() {
    let dir = temp_dir("generate-inputs");
    let run = |name: &str, seed: &str| {
        let path = dir.join(name);
        let output = Command::new(env!("CARGO_BIN_EXE_refmatch"))
            .args(["generate", "--count", "300", "--seed", seed, "--out"])
            .arg(&path)
            .output()
            .expect("runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        path
    };
    let a = run("a.csv", "7");
    let b = run("b.csv", "7");
    let c = run("c.csv", "8");
    let parquet = run("a.parquet", "7");
    let read = |p: &Path| std::fs::read(p).expect("read");
    assert_eq!(read(&a), read(&b), "same seed, same bytes");
    assert_ne!(read(&a), read(&c), "another seed, another directory");
    let from_csv = ingest("gen-csv", &[a]);
    let from_parquet = ingest("gen-parquet", &[parquet]);
    accounted(&from_csv);
    accounted(&from_parquet);
    assert_eq!(from_csv.providers.len(), 300, "{:?}", from_csv.rejections);
    assert_eq!(from_csv.providers, from_parquet.providers);
    std::fs::remove_dir_all(&dir).ok();
}

/// One language resolver: the names a caller may use in `/v1/match`
/// (aliases such as Farsi and Tagalog, a full ISO name, a 639-3 code) are
/// accepted by ingest too, and a name nobody uses is still rejected.
#[test]
fn ingest_reads_language_aliases_as_queries_do() {
    let good = std::fs::read_to_string(fixture("good.csv")).expect("good.csv");
    let mut lines = good.lines();
    let header = lines.next().expect("header");
    let row = lines
        .find(|l| l.starts_with("fresno-shelter,"))
        .expect("fresno-shelter row");
    let dir = temp_dir("aliases");
    let file = dir.join("aliases.csv");
    let aliased = row.replacen(
        ",en;Spanish,",
        ",Farsi;Tagalog;Modern Greek (1453-);spa,",
        1,
    );
    let unknown = row
        .replacen("fresno-shelter,", "fresno-klingon,", 1)
        .replacen(",en;Spanish,", ",Klingon,", 1);
    std::fs::write(&file, format!("{header}\n{aliased}\n{unknown}\n")).expect("write");
    let outcome = ingest("aliases-out", &[file]);
    accounted(&outcome);
    assert_eq!(
        provider(&outcome, "fresno-shelter")["languages"],
        serde_json::json!(["fa", "tl", "el", "es"])
    );
    assert_eq!(outcome.rejections.len(), 1, "{:?}", outcome.rejections);
    assert_eq!(outcome.rejections[0].2, "languages");
    std::fs::remove_dir_all(&dir).ok();
}

/// GeoJSON features are decoded one by one with the `geojson` crate: a
/// null or missing geometry is a record without a point; any geometry but
/// a Point, Polygon or MultiPolygon, a position with an altitude, a
/// feature without `"type": "Feature"`, properties that are not an object
/// and an id that is neither string nor number are each the rejection of
/// that feature, on its own line, naming the member.
#[test]
fn geojson_features_are_decoded_one_by_one() {
    let outcome = ingest("geojson-edges", &[fixture("edges.geojson")]);
    accounted(&outcome);
    let ids: Vec<&str> = outcome
        .providers
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        ["gj-null", "gj-missing", "42"],
        "{:?}",
        outcome.rejections
    );
    assert_ne!(
        provider(&outcome, "gj-null")["precision"],
        "point",
        "no point from a null geometry"
    );
    assert_eq!(
        provider(&outcome, "42")["service_area"][0]["type"],
        "polygon"
    );
    let rejected: Vec<(u64, &str)> = outcome
        .rejections
        .iter()
        .map(|r| (r.1, r.2.as_str()))
        .collect();
    assert_eq!(
        rejected,
        [
            (3, "geometry"),
            (4, "geometry"),
            (5, "geometry"),
            (6, "type"),
            (7, "properties"),
            (8, "id"),
            (10, "geometry"),
        ],
        "{:?}",
        outcome.rejections
    );
    let reason = |line: u64| {
        outcome
            .rejections
            .iter()
            .find(|r| r.1 == line)
            .map_or("", |r| r.3.as_str())
    };
    assert!(
        reason(3).contains("'GeometryCollection' is not used"),
        "{}",
        reason(3)
    );
    assert_eq!(reason(4), "Point coordinates must be [lon, lat]");
    assert!(reason(5).contains("'Circle' is not used"), "{}", reason(5));
    assert_eq!(reason(10), "Point coordinates must be [lon, lat]");
}

/// Parquet read with polars, from a file another tool wrote (polars for
/// Python 1.44: Zstd pages, float and boolean columns, a binary column, a
/// capitalised column name): each bad row is rejected on its 1-based row
/// number with its field. Made with
/// `pl.DataFrame({...}, schema_overrides={"description": pl.Binary}).write_parquet(...)`.
#[test]
fn parquet_rows_are_rejected_on_their_row_number() {
    let outcome = ingest("parquet-rows", &[fixture("rows.parquet")]);
    accounted(&outcome);
    assert_eq!(outcome.summary["rows_read"], 6);
    let ids: Vec<&str> = outcome
        .providers
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, ["pq-1", "pq-6"], "{:?}", outcome.rejections);
    let six = provider(&outcome, "pq-6");
    assert_eq!(
        six["law_enforcement"], true,
        "a boolean column read as its text"
    );
    assert!((six["location"]["lat"].as_f64().unwrap_or(0.0) - 41.8781).abs() < 1e-9);
    let rejected: Vec<(u64, &str)> = outcome
        .rejections
        .iter()
        .map(|r| (r.1, r.2.as_str()))
        .collect();
    assert_eq!(
        rejected,
        [(2, "kind"), (3, "lat"), (4, "name"), (5, "description")],
        "{:?}",
        outcome.rejections
    );
    assert_eq!(outcome.rejections[3].3, "cell is not valid UTF-8");
}
