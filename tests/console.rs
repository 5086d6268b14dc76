//! The advocate console end to end, in a real headless browser: starts the
//! `refmatch serve` binary on a fresh store, creates an advocate key, and
//! runs `tests/e2e/console.mjs` (playwright-core driving Debian's
//! chromium). Screenshots land in `target/e2e-screenshots/`.
//!
//! Needs `node`, `/usr/bin/chromium` (or `$CHROMIUM`) and
//! `tests/e2e/node_modules`; `bash scripts/test` installs them. Without them this
//! test fails and says how to install them: it never passes silently.
#![allow(clippy::unwrap_used)]

mod common;
use common::process::{free_port, http_get};
use std::io::Read;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const INSTALL: &str = "run the tests with `bash scripts/test`, or install them by hand: \
`apt-get update && apt-get install -y --no-install-recommends chromium` and \
`PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/e2e`";

/// Longest the browser run may take (a debug build computes the county
/// coverage report it draws).
const BROWSER_DEADLINE: Duration = Duration::from_secs(900);

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Fails with install instructions when a prerequisite is missing.
fn check_prerequisites() -> PathBuf {
    let node = Command::new("node").arg("--version").output();
    match node {
        Ok(output) if output.status.success() => {}
        _ => panic!("the console test needs Node.js (`node` on PATH); {INSTALL}"),
    }
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        chromium.exists(),
        "the console test needs chromium at {}; {INSTALL}",
        chromium.display()
    );
    let module = manifest_dir().join("tests/e2e/node_modules/playwright-core/package.json");
    assert!(
        module.exists(),
        "the console test needs playwright-core in tests/e2e/node_modules; {INSTALL}"
    );
    chromium
}

/// The server process, stopped when dropped (also when a check panics).
struct Server {
    child: Child,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Creates a key in `store` (`args`: its role, name and records) and
/// returns it.
fn create_key(store: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_refmatch"))
        .args(["keys", "create"])
        .args(args)
        .arg("--store")
        .arg(store)
        .output()
        .expect("refmatch keys create runs");
    assert!(
        output.status.success(),
        "keys create: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    text.split_whitespace()
        .find(|word| word.starts_with("rmk_"))
        .unwrap_or_else(|| panic!("no key in the output of keys create: {text}"))
        .to_owned()
}

fn start_server(dir: &Path, store: &Path, port: u16) -> Server {
    let log = dir.join("serve.log");
    let file = std::fs::File::create(&log).expect("log file");
    let child = Command::new(env!("CARGO_BIN_EXE_refmatch"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .arg("--store")
        .arg(store)
        .args(["--public-rate-limit", "0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .expect("refmatch serve starts");
    let server = Server { child, log };
    let started = Instant::now();
    loop {
        match http_get(port, "/healthz") {
            Ok(response) if response.starts_with("HTTP/1.1 200") => break,
            _ if started.elapsed() < Duration::from_secs(180) => {
                std::thread::sleep(Duration::from_millis(200));
            }
            other => panic!(
                "the server did not come up: {other:?}\n{}",
                server.log_text()
            ),
        }
    }
    server
}

/// Runs the browser script, killing it after [`BROWSER_DEADLINE`].
fn run_browser(base: &str, shots: &Path, key: &str, provider_key: &str, chromium: &Path) -> Output {
    let dir = manifest_dir();
    let mut child = Command::new("node")
        .arg(dir.join("tests/e2e/console.mjs"))
        .arg(base)
        .arg(shots)
        .current_dir(dir.join("tests/e2e"))
        .env("REFMATCH_E2E_ADVOCATE_KEY", key)
        .env("REFMATCH_E2E_PROVIDER_KEY", provider_key)
        .env("CHROMIUM", chromium)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    // Drain both pipes while waiting, so a chatty run cannot block.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut text = Vec::new();
        stdout.read_to_end(&mut text).ok();
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = Vec::new();
        stderr.read_to_end(&mut text).ok();
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break status;
        }
        if started.elapsed() > BROWSER_DEADLINE {
            child.kill().ok();
            break child.wait().expect("wait for node");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

#[test]
fn console_matches_and_maps_coverage_in_a_headless_browser() {
    let chromium = check_prerequisites();
    let dir = std::env::temp_dir().join(format!("refmatch-console-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = dir.join("s.sqlite");
    let key = create_key(
        &store,
        &["--role", "advocate", "--name", "console e2e", "--init"],
    );
    let port = free_port();
    let server = start_server(&dir, &store, port);
    // A provider key (bound to one record the server seeded) reads as
    // the public does.
    let provider_key = create_key(
        &store,
        &[
            "--role",
            "provider",
            "--name",
            "console e2e desk",
            "--records",
            "hotline-nhtrc",
        ],
    );

    // The page and its assets are served with their types and a strict CSP.
    let page = http_get(port, "/").expect("GET /");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    let lower = page.to_ascii_lowercase();
    assert!(lower.contains("content-type: text/html"), "{page}");
    assert!(lower.contains("content-security-policy: default-src 'self'"));
    assert!(lower.contains("cache-control:"));
    let script = http_get(port, "/console/vendor/leaflet/leaflet.js").expect("leaflet");
    assert!(script
        .to_ascii_lowercase()
        .contains("content-type: text/javascript"));

    // target/e2e-screenshots, beside the binary's profile directory.
    let shots = Path::new(env!("CARGO_BIN_EXE_refmatch"))
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| dir.join("screenshots"), |t| t.join("e2e-screenshots"));
    let output = run_browser(
        &format!("http://127.0.0.1:{port}"),
        &shots,
        &key,
        &provider_key,
        &chromium,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    // What this build serves decides which staff flows had to run: the
    // slip always; refer → follow-up once /v1/referrals is served; capacity
    // and warm transfer once /v1/providers/{id}/capacity is.
    let document = http_get(port, "/openapi.json").unwrap_or_default();
    let log = server.log_text();
    drop(server);
    assert!(
        output.status.success(),
        "tests/e2e/console.mjs failed ({}):\n{stdout}\n{stderr}\nserver log:\n{log}",
        output.status
    );
    let mut flows = vec!["slip: passed"];
    if document.contains("\"/v1/referrals\"") {
        flows.push("refer → follow-up: passed");
    }
    if document.contains("\"/v1/providers/{id}/capacity\"") {
        flows.push("capacity and warm transfer: passed");
    }
    for flow in flows {
        assert!(
            stdout.contains(flow),
            "the browser run did not report '{flow}':\n{stdout}"
        );
    }
    for name in ["match.png", "coverage.png", "narrow.png", "slip.png"] {
        assert!(shots.join(name).exists(), "screenshot {name}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
