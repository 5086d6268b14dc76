//! Drives the `refmatch` binary the way a user runs it: `geocode`,
//! `geocode --file`, `reverse`, `ingest` writing plain lines (no progress
//! bar) to a piped stderr, and `serve` answering real HTTP on loopback and
//! stopping cleanly on SIGTERM.

mod common;
use common::process::{http_get, refmatch, Server};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;

#[test]
fn geocode_prints_json() {
    let output = refmatch()
        .args(["geocode", "Fresno, CA"])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let body: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(body["name"], "Fresno, CA");
    assert_eq!(body["county_fips"], "06019");
}

#[test]
fn geocode_errors_go_to_stderr_with_distinct_exit_codes() {
    let not_found = refmatch()
        .args(["geocode", "Fresnoo, CA"])
        .output()
        .expect("runs");
    assert_eq!(not_found.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&not_found.stderr);
    assert!(
        stderr.contains("did you mean") && stderr.contains("Fresno, CA"),
        "{stderr}"
    );
    let bad = refmatch().args(["geocode", "91,0"]).output().expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("between -90 and 90"));
}

#[test]
fn geocode_file_answers_every_line_in_order() {
    let dir = std::env::temp_dir().join(format!("refmatch-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("queries.txt");
    let mut content = b"Fresno, CA\n93721\r\nLima, Peru\n\nnowhere-at-all-xyz\n".to_vec();
    content.extend_from_slice(b"bad \xff\xfe bytes\n0,0");
    std::fs::write(&path, content).expect("write queries");
    let output = refmatch()
        .args(["geocode", "--file"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1), "some lines fail");
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(
        lines.len(),
        6,
        "blank line skipped, every other line answered"
    );
    assert_eq!(lines[0]["county_fips"], "06019");
    assert_eq!(lines[1]["precision"], "postal_code");
    assert_eq!(lines[2]["country"], "PE");
    assert_eq!(lines[3]["line"], 5);
    assert!(lines[3]["error"]
        .as_str()
        .unwrap_or_default()
        .contains("no place"));
    assert_eq!(lines[4]["line"], 6);
    assert!(lines[4]["error"]
        .as_str()
        .unwrap_or_default()
        .contains("UTF-8"));
    assert_eq!(lines[5]["precision"], "point");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn reverse_prints_json() {
    let output = refmatch()
        .args(["reverse", "18.4655", "-66.1057"])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let body: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(body["country"], "PR");
    assert_eq!(body["county_fips"], "72127");
    let bad = refmatch()
        .args(["reverse", "0", "200"])
        .output()
        .expect("runs");
    assert!(!bad.status.success());
}

#[test]
fn serve_answers_http_and_stops_on_sigterm() {
    let store =
        std::env::temp_dir().join(format!("refmatch-cli-serve-{}.sqlite", std::process::id()));
    let server = Server::start(&store, Stdio::null(), "refmatch=info");
    let port = server.port;
    let health = http_get(port, "/healthz").expect("health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let geocode = http_get(port, "/v1/geocode?q=San%20Juan%20PR").expect("geocode");
    assert!(
        geocode.starts_with("HTTP/1.1 200") && geocode.contains("\"72127\""),
        "{geocode}"
    );
    let bad = http_get(port, "/v1/reverse?lat=91&lon=0").expect("reverse");
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
    assert!(bad.contains("application/problem+json"), "{bad}");

    let exit = server.stop();
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
    for suffix in ["", "-wal", "-shm"] {
        let mut path = store.clone().into_os_string();
        path.push(suffix);
        std::fs::remove_file(path).ok();
    }
}

/// `refmatch match` over the bundled data: `--store` names a store that
/// does not exist, and no key, data or store comes from the environment.
fn matching() -> std::process::Command {
    let mut command = refmatch();
    command
        .arg("match")
        .arg("--store")
        .arg(std::env::temp_dir().join(format!(
            "refmatch-cli-no-store-{}.sqlite",
            std::process::id()
        )))
        .env_remove("REFMATCH_STORE")
        .env_remove("REFMATCH_DATA")
        .env_remove("REFMATCH_KEY");
    command
}

/// The ids of a GeoJSON match body printed on stdout, in rank order.
fn feature_ids(output: &std::process::Output) -> Vec<String> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let body: Value = serde_json::from_slice(&output.stdout).expect("GeoJSON on stdout");
    body["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The ids of the bundled sample's confidential records.
fn bundled_confidential_ids() -> std::collections::HashSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample/directory.csv");
    let mut reader = csv::Reader::from_path(path).expect("sample");
    let headers = reader.headers().expect("header").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (id, visibility) = (column("id"), column("visibility"));
    reader
        .records()
        .map(|row| row.expect("row"))
        .filter(|row| &row[visibility] == "confidential")
        .map(|row| row[id].to_owned())
        .collect()
}

#[test]
fn match_answers_the_public_unless_told_staff_and_says_which_data_it_read() {
    let confidential = bundled_confidential_ids();
    assert!(confidential.len() > 1000);
    let query = [
        "--near",
        "Fresno, CA",
        "--issue",
        "trafficking",
        "--limit",
        "50",
        "--format",
        "geojson",
    ];
    let public = matching().args(query).output().expect("runs");
    let stderr = String::from_utf8_lossy(&public.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l == "data: bundled sample (3220 records)"),
        "one line says which data was read: {stderr}"
    );
    let public_ids = feature_ids(&public);
    assert_eq!(public_ids.len(), 50);
    let leaked: Vec<&String> = public_ids
        .iter()
        .filter(|id| confidential.contains(*id))
        .collect();
    assert!(
        leaked.is_empty(),
        "the public CLI shows confidential records {leaked:?}"
    );

    let staff = matching()
        .args(query)
        .arg("--staff")
        .output()
        .expect("runs");
    let staff_ids = feature_ids(&staff);
    assert!(
        staff_ids.iter().any(|id| confidential.contains(id)),
        "--staff sees confidential records: {staff_ids:?}"
    );

    // A key needs a store to be checked against.
    let keyed = matching()
        .args(query)
        .args(["--key", "rmk_x"])
        .output()
        .expect("runs");
    assert_eq!(keyed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&keyed.stderr).contains("--key"));
    let both = matching()
        .args(query)
        .args(["--key", "rmk_x", "--staff"])
        .output()
        .expect("runs");
    assert_eq!(
        both.status.code(),
        Some(2),
        "--key and --staff exclude each other"
    );
}

#[test]
fn match_reads_the_store_when_there_is_one_and_checks_keys_against_it() {
    let dir = std::env::temp_dir().join(format!("refmatch-cli-match-store-{}", std::process::id()));
    let data = dir.join("data");
    std::fs::create_dir_all(&data).expect("temp dir");
    let header = "id,name,kind,issues,languages,hours,timezone,phones,city,region,country,lat,lon,service_area,visibility,source";
    std::fs::write(
        data.join("fresno.csv"),
        format!(
            "{header}\n\
             fresno-open,Fresno Open Door,service_provider,sex_trafficking,en,24/7,,(559) 555-0101|voice|US,Fresno,CA,US,36.75,-119.78,radius:50,public,test\n\
             fresno-shelter,Fresno Safe House,service_provider,sex_trafficking,en,24/7,,(559) 555-0102|voice|US,Fresno,CA,US,36.76,-119.79,radius:50,confidential,test\n\
             clovis-legal,Clovis Legal Aid,service_provider,sex_trafficking,es,Mo-Fr 09:00-17:00,America/Los_Angeles,(559) 555-0103|voice|US,Clovis,CA,US,36.82,-119.70,radius:30,public,test\n"
        ),
    )
    .expect("write data");
    let store = dir.join("store.sqlite");
    let path = "/v1/match?near=Fresno,%20CA&issue=sex_trafficking&format=geojson";
    let server = Server::start_with(
        &store,
        Stdio::null(),
        "refmatch=warn",
        &["--data", data.to_str().expect("utf-8 path")],
    );
    let api = http_get(server.port, path).expect("answers");
    server.stop();
    let api_body: Value =
        serde_json::from_str(api.split_once("\r\n\r\n").expect("body").1).expect("JSON");
    let api_ids: Vec<&str> = api_body["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_str().expect("id"))
        .collect();
    assert_eq!(api_ids, ["fresno-open", "clovis-legal"], "the public API");

    let cli = |extra: &[&str]| {
        refmatch()
            .args([
                "match",
                "--near",
                "Fresno, CA",
                "--issue",
                "sex_trafficking",
                "--format",
                "geojson",
            ])
            .arg("--store")
            .arg(&store)
            .args(extra)
            .env_remove("REFMATCH_DATA")
            .env_remove("REFMATCH_KEY")
            .output()
            .expect("runs")
    };
    let public = cli(&[]);
    let stderr = String::from_utf8_lossy(&public.stderr);
    assert!(
        stderr.contains(&format!("data: store {} (3 records)", store.display())),
        "{stderr}"
    );
    assert_eq!(
        feature_ids(&public),
        api_ids,
        "the CLI answers as the API does"
    );

    let key = refmatch()
        .args([
            "keys", "create", "--init", "--role", "advocate", "--name", "cli test", "--store",
        ])
        .arg(&store)
        .output()
        .expect("runs");
    assert!(key.status.success());
    let key = String::from_utf8(key.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    let advocate = feature_ids(&cli(&["--key", &key]));
    assert!(
        advocate.iter().any(|id| id == "fresno-shelter"),
        "{advocate:?}"
    );
    assert_eq!(
        feature_ids(&cli(&["--staff"])),
        advocate,
        "--staff is the advocate view"
    );
    // Both staff reads of the confidential record are in the audit log.
    let audit = rusqlite::Connection::open(&store).expect("store");
    let audited: Vec<String> = audit
        .prepare(
            "SELECT actor FROM audit WHERE action = 'read_confidential' \
             AND detail = 'cli match' AND provider_id = 'fresno-shelter' ORDER BY seq",
        )
        .expect("query")
        .query_map([], |row| row.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("actors");
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert!(audited[0].starts_with("key:cli test#"), "{audited:?}");
    assert!(audited[1].starts_with("cli:staff@"), "{audited:?}");

    let refused = cli(&["--key", "rmk_not_a_key"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--key: the API key is not valid"));
    std::fs::remove_dir_all(&dir).ok();
}

/// Splits a README command line into words: spaces separate, double
/// quotes group.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            _ => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[test]
fn the_readme_cli_example_answers_as_the_api_example_beside_it() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let api_line = readme
        .lines()
        .find(|l| l.starts_with("curl 'http://127.0.0.1:8080/v1/match?"))
        .expect("the README's /v1/match example");
    let path = api_line
        .trim_start_matches("curl 'http://127.0.0.1:8080")
        .split('\'')
        .next()
        .expect("path")
        .to_owned();
    let cli_line = readme
        .lines()
        .find(|l| l.starts_with("cargo run --release -- match "))
        .expect("the README's match example");
    let args = words(cli_line.trim_start_matches("cargo run --release -- "));

    let dir = std::env::temp_dir().join(format!("refmatch-cli-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = dir.join("store.sqlite");
    let server = Server::start(&store, Stdio::null(), "refmatch=warn");
    let api = http_get(server.port, &format!("{path}&format=geojson")).expect("answers");
    server.stop();
    let api_body: Value =
        serde_json::from_str(api.split_once("\r\n\r\n").expect("body").1).expect("JSON");
    let api_ids: Vec<String> = api_body["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_owned())
        .collect();
    assert!(!api_ids.is_empty(), "{api}");

    let cli = refmatch()
        .args(&args)
        .args(["--format", "geojson", "--store"])
        .arg(&store)
        .env_remove("REFMATCH_DATA")
        .env_remove("REFMATCH_KEY")
        .output()
        .expect("runs");
    assert_eq!(
        feature_ids(&cli),
        api_ids,
        "{cli_line} answers as {api_line}"
    );
    // The same over the bundled data, without a store.
    let bundled = refmatch()
        .args(&args)
        .args(["--format", "geojson", "--store"])
        .arg(dir.join("none.sqlite"))
        .env_remove("REFMATCH_DATA")
        .env_remove("REFMATCH_KEY")
        .output()
        .expect("runs");
    assert_eq!(
        feature_ids(&bundled),
        api_ids,
        "the bundled data seeds the store"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn match_prints_a_ranked_table() {
    let output = matching()
        .args([
            "--near",
            "Fresno, CA",
            "--issue",
            "labor_trafficking",
            "--language",
            "es",
            "--open-24h",
            "--limit",
            "5",
        ])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("caller: Fresno, CA"), "{stdout}");
    assert!(
        lines[1].contains("rank") && lines[1].contains("reasons"),
        "{stdout}"
    );
    let ranks: Vec<&str> = lines[2..]
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(ranks, ["1", "2", "3", "4", "5"], "{stdout}");
    for line in &lines[2..] {
        assert!(
            line.contains("speaks Spanish") && line.contains("24-hour"),
            "{line}"
        );
    }
}

#[test]
fn match_geojson_is_the_api_body() {
    // Staff: the public view of Lima has only two trafficking results.
    let output = matching()
        .args([
            "--lat",
            "-12.05",
            "--lon",
            "-77.04",
            "--issue",
            "trafficking",
            "--format",
            "geojson",
            "--staff",
        ])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let body: Value = serde_json::from_slice(&output.stdout).expect("GeoJSON on stdout");
    assert_eq!(body["type"], "FeatureCollection");
    assert_eq!(body["query"]["country"], "PE");
    let features = body["features"].as_array().expect("features");
    assert!(
        (3..=10).contains(&features.len()),
        "at most the default limit"
    );
    assert!(features.iter().any(|f| f["id"] == "hotline-llama-y-vive"));
}

#[test]
fn match_errors_name_the_option_and_exit_2_or_1() {
    let bad = matching()
        .args(["--near", "Fresno, CA", "--limit", "0"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("--limit") && stderr.contains("1 to 100"),
        "{stderr}"
    );
    let unknown = matching()
        .args(["--near", "Fresnoo, CA"])
        .output()
        .expect("runs");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("did you mean"));
    let nowhere = matching().output().expect("runs");
    assert_eq!(nowhere.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("--near"));
}

#[test]
fn ingest_to_a_pipe_prints_lines_and_no_progress_bar() {
    let dir = std::env::temp_dir().join(format!("refmatch-cli-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let input = dir.join("directory.csv");
    let generated = refmatch()
        .args(["generate", "--count", "2000", "--seed", "11", "--out"])
        .arg(&input)
        .output()
        .expect("runs");
    assert!(generated.status.success());
    let run = |out: &str, extra: &[&str]| {
        let output = refmatch()
            .arg("ingest")
            .arg(&input)
            .arg("--out")
            .arg(dir.join(out))
            .args(extra)
            .output()
            .expect("runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    };
    let piped = run("piped", &[]);
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\r'),
        "no bar escape codes on a pipe: {stderr:?}"
    );
    assert!(
        stderr.contains("directory.csv … 2000 rows, 2000 accepted, 0 rejected"),
        "{stderr}"
    );
    let summary: Value = serde_json::from_slice(&piped.stdout).expect("summary JSON");
    assert_eq!(summary["rows_read"], 2000);
    assert_eq!(summary["accepted"], 2000);

    let quiet = run("quiet", &["--no-progress"]);
    assert_eq!(piped.stdout, quiet.stdout, "same summary either way");
    let providers =
        |out: &str| std::fs::read(dir.join(out).join("providers.ndjson")).expect("read");
    assert_eq!(providers("piped"), providers("quiet"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn request_logs_hold_neither_callers_places_nor_keys() {
    let dir = std::env::temp_dir().join(format!("refmatch-cli-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let log = std::fs::File::create(dir.join("stderr.log")).expect("log file");
    let server = Server::start(
        &dir.join("store.sqlite"),
        log.into(),
        "refmatch=info,tower_http=info",
    );
    let port = server.port;
    let matched =
        http_get(port, "/v1/match?near=Fresno,%20CA&issue=labor_trafficking").expect("match");
    assert!(matched.starts_with("HTTP/1.1 200"), "{matched}");
    let secret = "rmk_0123456789abcdef0123456789abcdef01234567";
    let refused = status_with_key(port, "/v1/audit", secret);
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    server.stop();
    let text = std::fs::read_to_string(dir.join("stderr.log")).expect("log");
    std::fs::remove_dir_all(&dir).ok();
    // The requests were logged ...
    assert!(
        text.contains("/v1/match") && text.contains("/v1/audit"),
        "{text}"
    );
    // ... without the caller's place, the query or the key.
    for secret_part in ["Fresno", "labor_trafficking", "near=", secret, "Bearer"] {
        assert!(
            !text.contains(secret_part),
            "the log holds {secret_part}: {text}"
        );
    }
}

/// Runs `serve` on `store` until `/healthz` answers, fetches `paths`, stops
/// it with SIGTERM and returns the bodies and the log (colour codes
/// removed).
fn serve_once(store: &std::path::Path, paths: &[&str]) -> (Vec<String>, String) {
    let log_path = store.with_extension("log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let server = Server::start(store, log.into(), "refmatch=info");
    let port = server.port;
    let bodies = paths
        .iter()
        .map(|path| {
            let response = http_get(port, path).expect("answers");
            assert!(response.starts_with("HTTP/1.1 200"), "{path}: {response}");
            response
                .split_once("\r\n\r\n")
                .map(|(_, body)| body.to_owned())
                .unwrap_or_default()
        })
        .collect();
    server.stop();
    let raw = std::fs::read_to_string(&log_path).expect("log");
    let mut text = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip an ANSI sequence up to its final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            text.push(c);
        }
    }
    (bodies, text)
}

/// The number after `name=` in the "directory ready" log line.
fn logged_count(log: &str, name: &str) -> Option<usize> {
    let line = log.lines().find(|l| l.contains("directory ready"))?;
    let rest = &line[line.find(&format!("{name}="))? + name.len() + 1..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[test]
fn a_restart_reuses_tiled_regions_and_answers_the_same() {
    let dir = std::env::temp_dir().join(format!("refmatch-cli-tiles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = dir.join("store.sqlite");
    let tiles = dir.join("store.tiles");
    // Places served through counties, states and countries.
    let paths = [
        "/v1/match?near=Fresno,%20CA&limit=20",
        "/v1/match?near=San%20Juan,%20PR&limit=20",
        "/v1/match?near=Toronto,%20Canada&limit=20",
        "/v1/match?lat=39.0997&lon=-94.5786&limit=20",
    ];

    let (first, log) = serve_once(&store, &paths);
    assert_eq!(logged_count(&log, "reused_tiles"), Some(0), "{log}");
    assert!(tiles.is_file(), "the first start keeps its tiles: {log}");

    let (second, log) = serve_once(&store, &paths);
    let reused = logged_count(&log, "reused_tiles").unwrap_or(0);
    assert!(reused > 50, "the restart reuses the tiles: {log}");
    assert_eq!(first, second, "the same answers from reused tiles");

    // A damaged file is refused and tiled again, with the same answers.
    let bytes = std::fs::read(&tiles).expect("tiles");
    std::fs::write(&tiles, &bytes[..bytes.len() / 2]).expect("truncate");
    let (third, log) = serve_once(&store, &paths);
    assert_eq!(logged_count(&log, "reused_tiles"), Some(0), "{log}");
    assert!(log.contains("tiling regions again"), "{log}");
    assert_eq!(first, third);
    assert_eq!(
        std::fs::read(&tiles).expect("rewritten").len(),
        bytes.len(),
        "the file is written whole again"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Sends GET `path` with `Authorization: Bearer key` and returns the status line.
fn status_with_key(port: u16, path: &str, key: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn keys_are_listed_and_a_revoked_key_stops_working_on_a_running_server() {
    let dir = std::env::temp_dir().join(format!("refmatch-cli-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = dir.join("store.sqlite");
    // `refmatch keys ARGS --store STORE`.
    let keys = |args: &[&str]| {
        refmatch()
            .arg("keys")
            .args(args)
            .arg("--store")
            .arg(&store)
            .output()
            .expect("runs")
    };
    // No store yet: `keys` refuses to make one unless asked (a key in a
    // new empty store is one the server does not know), and says how.
    let refused = keys(&["create", "--role", "admin", "--name", "too early"]);
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("no store at") && said.contains("--init"),
        "{said}"
    );
    assert!(refused.stdout.is_empty(), "no key printed");
    assert!(!keys(&["list"]).status.success());
    assert!(!store.exists(), "no store was created");
    let create = |name: &str, role: &str| {
        let output = keys(&["create", "--init", "--role", role, "--name", name]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("utf-8")
            .trim()
            .to_owned()
    };
    let admin = create("ops admin", "admin");
    let advocate = create("night shift", "advocate");
    let list = || {
        let output = keys(&["list", "--json"]);
        assert!(output.status.success());
        let text = String::from_utf8(output.stdout).expect("utf-8");
        assert!(
            !text.contains(&admin) && !text.contains(&advocate),
            "no secrets listed"
        );
        serde_json::from_str::<Value>(&text).expect("JSON")
    };
    let listed = list();
    assert_eq!(listed[1]["name"], "night shift");
    assert_eq!(listed[1]["role"], "advocate");
    assert_eq!(listed[1]["prefix"], advocate[..8]);
    assert_eq!(listed[1]["revoked"], false);
    let advocate_id = listed[1]["id"].as_u64().expect("id").to_string();

    // The server trusts a checked key for one second.
    let server = Server::start_with(
        &store,
        Stdio::null(),
        "refmatch=warn",
        &["--key-cache-seconds", "1"],
    );
    let port = server.port;
    let staff_path = "/v1/providers?limit=1";
    assert!(status_with_key(port, staff_path, &advocate).contains(" 200 "));
    let revoke = keys(&["revoke", &advocate_id]);
    assert!(
        revoke.status.success(),
        "{}",
        String::from_utf8_lossy(&revoke.stderr)
    );
    std::thread::sleep(std::time::Duration::from_millis(1_300));
    let refused = status_with_key(port, staff_path, &advocate);
    assert!(refused.contains(" 401 "), "{refused}");
    assert!(
        status_with_key(port, staff_path, &admin).contains(" 200 "),
        "other keys still work"
    );
    server.stop();

    assert_eq!(list()[1]["revoked"], true);
    let unknown = keys(&["revoke", "999"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no key #999"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_provider_key_is_bound_to_records_the_store_holds_and_listed_with_them() {
    let dir = std::env::temp_dir().join(format!("refmatch-cli-provider-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = dir.join("store.sqlite");
    let keys = |args: &[&str]| {
        refmatch()
            .arg("keys")
            .args(args)
            .arg("--store")
            .arg(&store)
            .output()
            .expect("runs")
    };
    let admin = keys(&["create", "--init", "--role", "admin", "--name", "ops"]);
    assert!(admin.status.success());
    // A provider key names its records; a staff key takes none; a record
    // the store does not hold is refused (the store is still empty).
    let none = keys(&["create", "--role", "provider", "--name", "Casa X desk"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("--records"));
    let staff = keys(&[
        "create",
        "--role",
        "advocate",
        "--name",
        "x",
        "--records",
        "a",
    ]);
    assert_eq!(staff.status.code(), Some(2));
    let missing = keys(&[
        "create",
        "--role",
        "provider",
        "--name",
        "Casa X desk",
        "--records",
        "hotline-nhtrc",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("hotline-nhtrc"));
    assert!(missing.stdout.is_empty(), "no key printed");
    // Once the server has seeded the store, the records exist.
    let server = Server::start_with(&store, Stdio::null(), "refmatch=warn", &[]);
    let created = keys(&[
        "create",
        "--role",
        "provider",
        "--name",
        "Casa X desk",
        "--records",
        "hotline-nhtrc,hotline-ncmec",
    ]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let secret = String::from_utf8(created.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    // It reads as the public does.
    let read = status_with_key(server.port, "/v1/providers?limit=1", &secret);
    assert!(read.contains(" 200 "), "{read}");
    server.stop();
    let listed: Value = serde_json::from_slice(&keys(&["list", "--json"]).stdout).expect("JSON");
    assert_eq!(listed[1]["role"], "provider");
    assert_eq!(
        listed[1]["records"],
        json!(["hotline-nhtrc", "hotline-ncmec"])
    );
    assert_eq!(listed[0]["records"], json!([]));
    let table = String::from_utf8(keys(&["list"]).stdout).expect("utf-8");
    assert!(
        table.contains("provider") && table.contains("records: hotline-nhtrc, hotline-ncmec"),
        "{table}"
    );
    // `match` refuses the staff-only filters to a provider key.
    let refused = refmatch()
        .args([
            "match",
            "--near",
            "Fresno, CA",
            "--warm-transfer",
            "--key",
            &secret,
            "--store",
        ])
        .arg(&store)
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--warm-transfer is for staff"));
    std::fs::remove_dir_all(&dir).ok();
}

/// Permission bits of `path`.
#[cfg(unix)]
fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
#[test]
fn store_files_are_private_whatever_the_umask() {
    let dir = std::env::temp_dir().join(format!("refmatch-cli-private-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    // Both folders are the server's to create.
    let live = dir.join("live");
    let store = live.join("store.sqlite");
    let log_path =
        std::env::temp_dir().join(format!("refmatch-cli-private-{}.log", std::process::id()));
    let log = std::fs::File::create(&log_path).expect("log file");
    let server = Server::start_with_umask(&store, log.into(), "refmatch=info", "000");
    // A write, so the WAL holds something.
    let key = refmatch()
        .args([
            "keys",
            "create",
            "--role",
            "advocate",
            "--name",
            "umask test",
            "--store",
        ])
        .arg(&store)
        .output()
        .expect("keys runs");
    assert!(
        key.status.success(),
        "{}",
        String::from_utf8_lossy(&key.stderr)
    );
    let mut files: Vec<(String, u32)> = std::fs::read_dir(&live)
        .expect("store folder")
        .map(|entry| {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, mode_of(&path))
        })
        .collect();
    files.sort();
    let folders = (mode_of(&dir), mode_of(&live));
    server.stop();
    let log = std::fs::read_to_string(&log_path).expect("log");
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_file(&log_path).ok();
    assert_eq!(folders, (0o700, 0o700), "the folders the server made");
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "store.sqlite",
        "store.sqlite-wal",
        "store.sqlite-shm",
        "store.tiles",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    for (name, mode) in &files {
        assert_eq!(*mode, 0o600, "{name} has mode {mode:o}");
    }
    assert!(
        !log.contains("other accounts can"),
        "no warning for a private store: {log}"
    );
    // A log written to a file has no terminal colour codes.
    assert!(log.contains("listening"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "ANSI escapes in a log file: {log:?}"
    );
}

#[test]
fn a_command_that_accomplishes_nothing_fails_with_one_plain_error_line() {
    let out = std::env::temp_dir().join(format!("refmatch-cli-nothing-{}", std::process::id()));
    // Nothing read: a missing file is a rejection, and no row accepted is
    // a failure, with the report still written.
    let ingest = refmatch()
        .arg("ingest")
        .arg("there-is-no-such-file.csv")
        .arg("--out")
        .arg(&out)
        .arg("--no-progress")
        .output()
        .expect("runs");
    let said = String::from_utf8_lossy(&ingest.stderr).into_owned();
    let report = std::fs::read_to_string(out.join("rejections.csv")).unwrap_or_default();
    std::fs::remove_dir_all(&out).ok();
    assert_eq!(ingest.status.code(), Some(1), "{said}");
    assert!(said.contains("error: no row was accepted"), "{said}");
    assert!(report.contains("there-is-no-such-file.csv"), "{report}");
    // A user's error is one line, with no backtrace even when backtraces
    // are asked for (they are for panics).
    let missing =
        std::env::temp_dir().join(format!("refmatch-cli-none-{}.sqlite", std::process::id()));
    let list = refmatch()
        .args(["keys", "list", "--store"])
        .arg(&missing)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("runs");
    let said = String::from_utf8_lossy(&list.stderr).into_owned();
    assert_eq!(list.status.code(), Some(1), "{said}");
    assert!(said.starts_with("error: there is no store at"), "{said}");
    assert_eq!(said.trim_end().lines().count(), 1, "{said}");
    assert!(!said.to_lowercase().contains("backtrace"), "{said}");
    assert!(!missing.exists());
}

#[cfg(unix)]
#[test]
fn a_store_open_to_others_is_reported_at_start_and_left_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("refmatch-cli-open-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod dir");
    let store = dir.join("store.sqlite");
    std::fs::write(&store, b"").expect("empty store");
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let log_path = dir.join("stderr.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let server = Server::start(&store, log.into(), "refmatch=warn");
    let modes = (mode_of(&dir), mode_of(&store));
    server.stop();
    let log = std::fs::read_to_string(&log_path).expect("log");
    std::fs::remove_dir_all(&dir).ok();
    let file_line = format!("the store file {} has mode 0644", store.display());
    assert!(
        log.contains(&file_line) && log.contains("chmod 600"),
        "{log}"
    );
    let folder_line = format!("the store folder {} has mode 0755", dir.display());
    assert!(
        log.contains(&folder_line) && log.contains("chmod 700"),
        "{log}"
    );
    assert_eq!(modes, (0o755, 0o644), "existing modes are the operator's");
}

/// Sends `head` (a request line and headers, without the blank line) to
/// 127.0.0.1:`port` and returns the raw response.
fn raw_request(port: u16, head: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    write!(stream, "{head}Connection: close\r\n\r\n").expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok();
    String::from_utf8_lossy(&response).into_owned()
}

#[test]
fn an_over_long_uri_or_head_gets_a_problem_document_over_tcp() {
    let store =
        std::env::temp_dir().join(format!("refmatch-cli-head-{}.sqlite", std::process::id()));
    let server = Server::start(&store, Stdio::null(), "refmatch=warn");
    let port = server.port;
    // 414: past our limit, well under hyper's.
    let long = format!(
        "/v1/match?near={}",
        "x".repeat(refmatch::api::problems::MAX_URI_BYTES)
    );
    let answer = raw_request(port, &format!("GET {long} HTTP/1.1\r\nHost: localhost\r\n"));
    assert!(
        answer.starts_with("HTTP/1.1 414"),
        "{}",
        &answer[..answer.len().min(300)]
    );
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("\"status\":414"), "{answer}");
    // 431: header bytes past our limit.
    let padding = "y".repeat(refmatch::api::problems::MAX_HEADER_BYTES);
    let answer = raw_request(
        port,
        &format!("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: {padding}\r\n"),
    );
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "{}",
        &answer[..answer.len().min(300)]
    );
    assert!(
        answer.contains("application/problem+json") && answer.contains("\"status\":431"),
        "{answer}"
    );
    // 431: too many headers (ours: more than 64; hyper's: more than 100).
    let many: String = (0..80).map(|i| format!("X-H{i}: 1\r\n")).collect();
    let answer = raw_request(
        port,
        &format!("GET /healthz HTTP/1.1\r\nHost: localhost\r\n{many}"),
    );
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "{}",
        &answer[..answer.len().min(300)]
    );
    assert!(answer.contains("application/problem+json"), "{answer}");
    // A malformed path, a wrong method: ours too.
    let answer = raw_request(
        port,
        "GET /v1/providers/%FF HTTP/1.1\r\nHost: localhost\r\n",
    );
    assert!(
        answer.starts_with("HTTP/1.1 400") && answer.contains("application/problem+json"),
        "{answer}"
    );
    let answer = raw_request(port, "PATCH /v1/match HTTP/1.1\r\nHost: localhost\r\n");
    assert!(
        answer.starts_with("HTTP/1.1 405") && answer.contains("application/problem+json"),
        "{answer}"
    );
    server.stop();
    for suffix in ["", "-wal", "-shm"] {
        let mut path = store.clone().into_os_string();
        path.push(suffix);
        std::fs::remove_file(path).ok();
    }
    std::fs::remove_file(store.with_extension("tiles")).ok();
}
