//! The crash test of the live directory (issue 6): start the server
//! binary, send a stream of edits, kill it with SIGKILL mid-stream, restart
//! it on the same store, and find every acknowledged edit present (at its
//! acknowledged version, or at the next one when a later write to the same
//! record was in flight) and the database passing `PRAGMA integrity_check`.
//!
//! No timing is asserted: the kill comes after enough acknowledged edits
//! or a few seconds, whichever is first, and every wait is generous.
#![allow(clippy::unwrap_used)]

mod common;
use common::process::{free_port, refmatch};
use refmatch::store::{SqliteStore, Store};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Writer threads, each editing its own ids.
const WRITERS: usize = 2;
/// Acknowledged edits (all writers) after which the server is killed.
const KILL_AFTER_ACKS: usize = 30;
/// Or this long after the first acknowledgement, whichever comes first.
const KILL_AFTER: Duration = Duration::from_secs(2);

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The version an `ETag: "N"` names.
    fn etag(&self) -> Option<u64> {
        self.header("etag")?
            .trim_start_matches("W/")
            .trim_matches('"')
            .parse()
            .ok()
    }
}

/// Decodes a chunked body; `None` when it is cut short.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

/// Parses a whole response read to EOF; an error when it is incomplete
/// (the connection died mid-answer).
fn parse_response(raw: &[u8]) -> std::io::Result<Response> {
    let broken =
        |what: &str| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, what.to_owned());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| broken("no complete head"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| broken("no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let rest = &raw[split + 4..];
    if response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        response.body = dechunk(rest).ok_or_else(|| broken("chunked body cut short"))?;
    } else if let Some(length) = response.header("content-length") {
        let length: usize = length.parse().map_err(|_| broken("bad Content-Length"))?;
        response.body = rest
            .get(..length)
            .ok_or_else(|| broken("body cut short"))?
            .to_vec();
    } else {
        response.body = rest.to_vec();
    }
    Ok(response)
}

/// Sends one request on a new connection (`Connection: close`) and reads
/// the whole answer.
fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    // Generous: a write waits for an index rebuild on a loaded machine.
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_write_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    let mut message = head.into_bytes();
    message.extend_from_slice(body.unwrap_or_default());
    stream.write_all(&message)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

/// A running `refmatch serve`, killed when dropped (a failing test leaves
/// no server behind).
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(store: &Path, log: &Path) -> Server {
        let port = free_port();
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("server log");
        let child = refmatch()
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .arg("--store")
            .arg(store)
            .args(["--key-rate-limit", "0", "--public-rate-limit", "0"])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("server starts");
        let mut server = Server { child, port };
        let started = Instant::now();
        loop {
            if let Ok(response) = request(port, "GET", "/healthz", &[], None) {
                if response.status == 200 {
                    break;
                }
            }
            if let Some(exit) = server.child.try_wait().expect("wait") {
                panic!(
                    "server exited before answering ({exit:?}); log:\n{}",
                    read_log(log)
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "server did not answer /healthz within 180 s; log:\n{}",
                read_log(log)
            );
            thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// `directory.providers` and `directory.generation` of `/healthz`.
    fn health(&self) -> (u64, u64) {
        let body = request(self.port, "GET", "/healthz", &[], None)
            .expect("healthz")
            .json();
        (
            body["directory"]["providers"].as_u64().expect("providers"),
            body["directory"]["generation"]
                .as_u64()
                .expect("generation"),
        )
    }

    /// Sends `signal` (`KILL`, `TERM`) and waits for the process to end.
    fn signal_and_wait(&mut self, signal: &str) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(exit) = self.child.try_wait().expect("wait") {
                return exit;
            }
            assert!(
                Instant::now() < deadline,
                "server did not stop within 60 s of SIGKILL/SIGTERM"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

fn read_log(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    // The end is what matters.
    let start = text.len().saturating_sub(8000);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    text[start..].to_owned()
}

/// A provider record body for `id`, named `name`.
fn record(id: &str, name: &str, n: usize) -> Vec<u8> {
    // Spread the records around Fresno a little.
    let lat = 36.7378 + (n % 50) as f64 * 0.002;
    let lon = -119.7871 - (n % 37) as f64 * 0.002;
    serde_json::to_vec(&json!({
        "id": id,
        "name": name,
        "kind": "service_provider",
        "issues": ["sex_trafficking"],
        "languages": ["en"],
        "availability": {"type": "open24h"},
        "phones": [{"number": "(559) 555-0100", "kind": "voice", "country": "US"}],
        "location": {"lat": lat, "lon": lon},
        "service_area": [{"type": "radius", "radius_km": 40}],
        "visibility": "public",
        "source": "test"
    }))
    .unwrap()
}

/// What one record's writes came to, as its writer saw them.
#[derive(Debug, Clone, Default)]
struct Seen {
    /// The last acknowledged version and name (`None`: never acknowledged).
    acked: Option<(u64, String)>,
    /// A write sent after the last acknowledgement whose answer never came
    /// (the kill): the version and name it would have made.
    in_flight: Option<(u64, String)>,
}

/// What a writer did.
#[derive(Debug, Default)]
struct Log {
    records: BTreeMap<String, Seen>,
    acked_edits: usize,
    /// Answers other than 201/200 (none are expected).
    unexpected: Vec<String>,
    /// The error that stopped the writer.
    stopped_by: Option<String>,
}

/// Sends creates and updates until the connection fails: every other
/// edit creates a new record, the rest update the created ones in turn
/// with `If-Match` of the version last acknowledged.
fn writer(port: u16, key: &str, prefix: &str, acks: &AtomicUsize) -> Log {
    let auth = format!("Bearer {key}");
    let mut log = Log::default();
    let mut created: Vec<String> = Vec::new();
    let mut next_update = 0usize;
    for step in 0usize.. {
        let create = step % 2 == 0 || created.is_empty();
        let (id, version, method, path, if_match) = if create {
            let id = format!("crash-{prefix}-{:04}", created.len() + 1);
            (id, 1, "POST", "/v1/providers".to_owned(), None)
        } else {
            let id = created[next_update % created.len()].clone();
            next_update += 1;
            let current = log.records[&id]
                .acked
                .as_ref()
                .map(|(v, _)| *v)
                .expect("updated records were acknowledged");
            let path = format!("/v1/providers/{id}");
            (id, current + 1, "PUT", path, Some(format!("\"{current}\"")))
        };
        let name = format!("Crash Test Shelter {id} v{version}");
        let body = record(&id, &name, step);
        let mut headers = vec![("Authorization", auth.as_str())];
        if let Some(if_match) = &if_match {
            headers.push(("If-Match", if_match.as_str()));
        }
        log.records.entry(id.clone()).or_default().in_flight = Some((version, name.clone()));
        match request(port, method, &path, &headers, Some(&body)) {
            Ok(response) if matches!(response.status, 200 | 201) => {
                let answer = response.json();
                let got = answer["version"].as_u64().expect("version in the answer");
                assert_eq!(got, version, "{method} {path} answered {answer}");
                assert_eq!(response.etag(), Some(version), "ETag of {method} {path}");
                assert_eq!(answer["record"]["name"], name.as_str());
                let seen = log.records.get_mut(&id).expect("entry made above");
                seen.acked = Some((version, name));
                seen.in_flight = None;
                log.acked_edits += 1;
                acks.fetch_add(1, Ordering::SeqCst);
                if create {
                    created.push(id);
                }
            }
            Ok(response) => {
                let seen = log.records.get_mut(&id).expect("entry made above");
                seen.in_flight = None;
                if seen.acked.is_none() {
                    log.records.remove(&id);
                }
                log.unexpected.push(format!(
                    "{method} {path}: {} {}",
                    response.status,
                    String::from_utf8_lossy(&response.body)
                ));
                // A refused edit is a test bug; stop rather than loop.
                break;
            }
            Err(error) => {
                // The server is gone (or going): this edit may or may not
                // have been committed. Stop.
                log.stopped_by = Some(format!("{method} {path}: {error}"));
                break;
            }
        }
    }
    log
}

/// A new, empty scratch directory for `test` (removed by the test when it
/// passes; left for inspection when it fails).
fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("refmatch-{test}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn acknowledged_edits_survive_sigkill() {
    let dir = scratch_dir("crash-sigkill");
    let store = dir.join("live.sqlite");
    let log_path = dir.join("server.log");

    // An admin key, made by the CLI in the new store (which creates it
    // without providers: `serve` seeds it on first start).
    let keys = refmatch()
        .args([
            "keys",
            "create",
            "--role",
            "admin",
            "--name",
            "crash-test",
            "--init",
        ])
        .arg("--store")
        .arg(&store)
        .output()
        .expect("keys create runs");
    assert!(
        keys.status.success(),
        "{}",
        String::from_utf8_lossy(&keys.stderr)
    );
    let key = String::from_utf8(keys.stdout)
        .expect("UTF-8 key")
        .trim()
        .to_owned();
    assert!(key.starts_with("rmk_"), "printed key: {key}");

    // First run: seeds the store, then takes edits until killed.
    let mut server = Server::start(&store, &log_path);
    let (seeded, generation) = server.health();
    assert_eq!(generation, 0, "no edit yet");
    assert!(
        (3000..4000).contains(&seeded),
        "the bundled directory seeds about 3,220 records, got {seeded}"
    );
    let acks = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let acks = Arc::clone(&acks);
            let key = key.clone();
            let port = server.port;
            let prefix = char::from(b'a' + u8::try_from(w).unwrap()).to_string();
            thread::spawn(move || writer(port, &key, &prefix, &acks))
        })
        .collect();
    let started = Instant::now();
    let mut first_ack = None;
    loop {
        let acked = acks.load(Ordering::SeqCst);
        if acked > 0 && first_ack.is_none() {
            first_ack = Some(Instant::now());
        }
        if acked >= KILL_AFTER_ACKS || first_ack.is_some_and(|t| t.elapsed() >= KILL_AFTER) {
            break;
        }
        if writers.iter().all(thread::JoinHandle::is_finished) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no edit acknowledged within 120 s; log:\n{}",
            read_log(&log_path)
        );
        thread::sleep(Duration::from_millis(5));
    }
    // Writers are mid-request now (each always has one outstanding).
    let killed = server.signal_and_wait("KILL");
    assert!(!killed.success(), "SIGKILL ends the process: {killed:?}");
    drop(server);
    let logs: Vec<Log> = writers
        .into_iter()
        .map(|w| w.join().expect("writer thread"))
        .collect();
    for log in &logs {
        assert!(
            log.unexpected.is_empty(),
            "unexpected answers: {:?}",
            log.unexpected
        );
        assert!(
            log.stopped_by.is_some(),
            "a writer stops only when the server is gone"
        );
    }
    let acked_total: usize = logs.iter().map(|l| l.acked_edits).sum();
    assert!(
        acked_total > 0,
        "some edits were acknowledged before the kill"
    );
    let in_flight = logs
        .iter()
        .flat_map(|l| l.records.values())
        .filter(|s| s.in_flight.is_some())
        .count();
    eprintln!(
        "killed after {acked_total} acknowledged edits ({in_flight} in flight) over {} ids",
        logs.iter().map(|l| l.records.len()).sum::<usize>()
    );

    // The killed server's database (with its WAL) is sound before anything
    // else opens it for writing.
    {
        let opened = SqliteStore::open(&store).expect("store opens after the kill");
        assert_eq!(
            opened.integrity_check().expect("integrity check"),
            "ok",
            "right after SIGKILL"
        );
    }

    // Second run: the same store, not seeded again.
    let mut server = Server::start(&store, &log_path);
    let auth = format!("Bearer {key}");
    let mut present = 0u64;
    // Unacknowledged edits found committed after the restart.
    let mut in_flight_committed = 0usize;
    for (id, seen) in logs.iter().flat_map(|l| l.records.iter()) {
        let response = request(
            server.port,
            "GET",
            &format!("/v1/providers/{id}?format=record"),
            &[("Authorization", auth.as_str())],
            None,
        )
        .expect("GET after restart");
        let Some((acked_version, acked_name)) = &seen.acked else {
            // Only an unacknowledged create: either outcome is right.
            assert!(
                matches!(response.status, 200 | 404),
                "{id}: {} {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            );
            if response.status == 200 {
                let (version, name) = seen.in_flight.clone().expect("a create was sent");
                assert_eq!(response.etag(), Some(version), "{id}");
                assert_eq!(response.json()["name"], name.as_str(), "{id}");
                present += 1;
                in_flight_committed += 1;
            }
            continue;
        };
        assert_eq!(
            response.status,
            200,
            "acknowledged record {id} (v{acked_version}) is missing after the restart: {}",
            String::from_utf8_lossy(&response.body)
        );
        present += 1;
        let version = response.etag().expect("ETag on a record");
        let name = response.json()["name"].as_str().expect("name").to_owned();
        match &seen.in_flight {
            Some((next, next_name)) if version == *next => {
                assert_eq!(&name, next_name, "{id} at the in-flight version");
                in_flight_committed += 1;
            }
            _ => {
                assert_eq!(
                    version, *acked_version,
                    "{id}: acknowledged v{acked_version}, found v{version}"
                );
                assert_eq!(&name, acked_name, "{id} at the acknowledged version");
            }
        }
    }
    eprintln!("after the restart: every acknowledged edit present; {in_flight_committed} of {in_flight} unacknowledged edits were committed");
    let (providers, generation) = server.health();
    assert_eq!(generation, 0, "the restart committed nothing (no seeding)");
    assert_eq!(
        providers,
        seeded + present,
        "the restarted directory is the seed plus the records created, not seeded again"
    );
    let stopped = server.signal_and_wait("TERM");
    assert!(stopped.success(), "graceful shutdown exits 0: {stopped:?}");
    drop(server);

    // The store of record itself, opened directly.
    let opened = SqliteStore::open(&store).expect("store opens");
    assert_eq!(opened.integrity_check().expect("integrity check"), "ok");
    for (id, seen) in logs.iter().flat_map(|l| l.records.iter()) {
        let Some((acked_version, _)) = &seen.acked else {
            continue;
        };
        let stored = opened.get(id).expect("read").expect("stored");
        assert!(stored.active, "{id} is active");
        assert!(
            stored.version >= *acked_version,
            "{id}: stored v{} < acknowledged v{acked_version}",
            stored.version
        );
        let history = opened.history(id).expect("history");
        assert_eq!(
            history.len() as u64,
            stored.version,
            "{id}: one history entry per version"
        );
    }
    assert_eq!(
        opened.active().expect("active").len() as u64,
        seeded + present
    );
    drop(opened);
    std::fs::remove_dir_all(&dir).ok();
}
