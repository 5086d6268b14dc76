//! Bounded load through the binary (issue 12): `refmatch serve` on a
//! loopback port, 32 clients per heavy kind of public request (an H3
//! report at the finest resolution over the largest bbox the budget
//! allows, the nationwide county report with unsimplified outlines, 100
//! suggested sites at the widest threshold the budget allows, county
//! outlines, a match with the largest limit and radius, the largest
//! listing page), each sending request after request for
//! `REFMATCH_LOAD_SECONDS` (default 10; the figures in
//! `benches/README.md` are for 60):
//!
//! - no answer is a 5xx (a full queue would be a 503, a panic a 500);
//!   a request still waiting for a permit at its deadline is a 408, as is
//!   one whose work the deadline cancelled;
//! - no answer starts later than the request timeout plus
//!   [`SLACK`] (the deadline cancels work, it does not just stop waiting);
//! - the server's peak resident set (`VmHWM` in `/proc/<pid>/status`)
//!   stays under [`refmatch::api::MEMORY_CEILING_MB`].
//!
//! The per-address rate limit is off (`--public-rate-limit 0`): every
//! client is 127.0.0.1, and the point is what the server does with the
//! requests the limit lets through from many addresses.
#![allow(clippy::unwrap_used)]

mod common;
use common::process::Server;
use refmatch::api::{MEMORY_CEILING_MB, REQUEST_TIMEOUT};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Clients per kind of request.
const CLIENTS: usize = 32;

/// How much later than the request timeout an answer may start: the
/// time to accept the connection and read the request among 192 busy
/// clients on a small machine.
const SLACK: Duration = Duration::from_secs(3);

/// The heavy kinds of public request, worst case each.
const KINDS: [(&str, &str); 6] = [
    (
        "coverage h3 res 8",
        // 78,000 cells: just under the 80,000-cell budget.
        "/v1/coverage?by=h3&resolution=8&bbox=-92,38,-89,40&tolerance=0",
    ),
    ("coverage county", "/v1/coverage?by=county&tolerance=0"),
    (
        "suggest",
        "/v1/coverage/suggest?by=county&issue=labor_trafficking&language=es&open_24h=true&sites=100&threshold_km=1000",
    ),
    ("outlines county", "/v1/outlines?by=county&tolerance=0"),
    (
        "match",
        "/v1/match?near=Kansas%20City,%20MO&limit=100&radius_km=20000",
    ),
    ("providers page", "/v1/providers?limit=1000"),
];

/// One answer: status, time to its status line, time to its last byte,
/// body bytes.
struct Answer {
    status: u16,
    head: Duration,
    total: Duration,
    bytes: u64,
}

/// Sends one GET and reads the whole answer.
fn fetch(port: u16, path: &str) -> std::io::Result<Answer> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT + Duration::from_secs(120)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let head = started.elapsed();
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let bytes = std::io::copy(&mut reader, &mut std::io::sink())?;
    Ok(Answer {
        status,
        head,
        total: started.elapsed(),
        bytes,
    })
}

/// `VmHWM` of process `pid`, MB.
fn peak_rss_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024
}

#[test]
fn heavy_public_requests_stay_bounded_in_time_and_memory() {
    let seconds: u64 = std::env::var("REFMATCH_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let run_for = Duration::from_secs(seconds.clamp(1, 3600));
    let dir = std::env::temp_dir().join(format!("refmatch-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = Server::start_with(
        &dir.join("store.sqlite"),
        std::process::Stdio::null(),
        "warn",
        &["--public-rate-limit", "0"],
    );
    let (port, pid) = (server.port, server.pid());
    let started_mb = peak_rss_mb(pid);
    let started = Instant::now();
    let handles: Vec<_> = KINDS
        .iter()
        .flat_map(|&(kind, path)| {
            (0..CLIENTS).map(move |_| {
                std::thread::spawn(move || {
                    let mut answers = Vec::new();
                    // Bounded: one request at a time until the time is up.
                    while started.elapsed() < run_for {
                        answers.push(fetch(port, path).map_err(|e| format!("{kind}: {e}")));
                    }
                    (kind, answers)
                })
            })
        })
        .collect();
    let mut by_kind: BTreeMap<&str, Vec<Answer>> = BTreeMap::new();
    let mut failures = Vec::new();
    for handle in handles {
        let (kind, answers) = handle.join().unwrap();
        for answer in answers {
            match answer {
                Ok(answer) => by_kind.entry(kind).or_default().push(answer),
                Err(error) => failures.push(error),
            }
        }
    }
    let elapsed = started.elapsed();
    let peak_mb = peak_rss_mb(pid);
    let exit = server.stop();
    std::fs::remove_dir_all(&dir).ok();

    eprintln!(
        "{} clients per kind for {:.0} s (took {:.1} s): peak RSS {peak_mb} MB (after start {started_mb} MB), ceiling {MEMORY_CEILING_MB} MB",
        CLIENTS,
        run_for.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    eprintln!("| kind | answers | statuses | slowest start s | median total s | MB per answer |");
    eprintln!("| --- | ---: | --- | ---: | ---: | ---: |");
    for (kind, answers) in &by_kind {
        let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
        for a in answers {
            *statuses.entry(a.status).or_default() += 1;
        }
        let mut totals: Vec<Duration> = answers.iter().map(|a| a.total).collect();
        totals.sort();
        let slowest = answers.iter().map(|a| a.head).max().unwrap_or_default();
        let ok_bytes: Vec<u64> = answers
            .iter()
            .filter(|a| a.status == 200)
            .map(|a| a.bytes)
            .collect();
        eprintln!(
            "| {kind} | {} | {} | {:.2} | {:.2} | {:.2} |",
            answers.len(),
            statuses
                .iter()
                .map(|(s, n)| format!("{s}×{n}"))
                .collect::<Vec<_>>()
                .join(" "),
            slowest.as_secs_f64(),
            totals[totals.len() / 2].as_secs_f64(),
            ok_bytes.iter().sum::<u64>() as f64 / ok_bytes.len().max(1) as f64 / 1e6
        );
    }

    assert!(exit.success(), "server exited with {exit:?}");
    assert!(failures.is_empty(), "requests failed: {failures:?}");
    for (kind, _) in KINDS {
        let answers = &by_kind[kind];
        let errors: Vec<u16> = answers
            .iter()
            .map(|a| a.status)
            .filter(|s| *s >= 500 || *s == 0)
            .collect();
        assert!(errors.is_empty(), "{kind}: server errors {errors:?}");
        let late: Vec<f64> = answers
            .iter()
            .filter(|a| a.head > REQUEST_TIMEOUT + SLACK)
            .map(|a| a.head.as_secs_f64())
            .collect();
        assert!(
            late.is_empty(),
            "{kind}: answers after the timeout: {late:?} s"
        );
    }
    // The load was the work asked for: every kind was computed at least
    // once (the two coverage reports share one queue of two permits, and
    // under this load most of its requests time out waiting: FIFO order
    // may serve one of them only).
    let computed = |kinds: &[&str]| {
        kinds
            .iter()
            .any(|k| by_kind[k].iter().any(|a| a.status == 200))
    };
    for kinds in [
        &["coverage h3 res 8", "coverage county"][..],
        &["suggest"][..],
        &["outlines county"][..],
        &["match"][..],
        &["providers page"][..],
    ] {
        assert!(computed(kinds), "{kinds:?}: not one answer was 200");
    }
    assert!(
        peak_mb < MEMORY_CEILING_MB,
        "peak RSS {peak_mb} MB is over the ceiling of {MEMORY_CEILING_MB} MB"
    );
}
