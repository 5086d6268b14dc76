//! For the tests that run the `refmatch` binary as a user would: the
//! command, a free loopback port, and a minimal HTTP/1.1 GET.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

/// The `refmatch` binary built for this test run.
pub fn refmatch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_refmatch"))
}

/// A loopback port free at the time of the call.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Sends one HTTP/1.1 GET to 127.0.0.1:`port` and returns the raw response
/// text (status line, headers, body).
pub fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

/// A `refmatch serve` started on a free loopback port; killed if dropped
/// while still running (a failing test leaves no server behind).
pub struct Server {
    child: std::process::Child,
    /// The port it listens on.
    pub port: u16,
}

impl Server {
    /// Starts `serve` over `store` with `RUST_LOG=rust_log`, its stderr
    /// going to `stderr`, and waits up to a minute for `/healthz`.
    pub fn start(store: &std::path::Path, stderr: std::process::Stdio, rust_log: &str) -> Server {
        Server::start_with(store, stderr, rust_log, &[])
    }

    /// [`Server::start`] with more `serve` arguments.
    pub fn start_with(
        store: &std::path::Path,
        stderr: std::process::Stdio,
        rust_log: &str,
        args: &[&str],
    ) -> Server {
        Server::launch(refmatch(), store, stderr, rust_log, args)
    }

    /// [`Server::start`] with the process umask set to `umask` (octal
    /// digits such as `000`): `sh` sets it and `exec`s the server, so the
    /// child is the server itself.
    pub fn start_with_umask(
        store: &std::path::Path,
        stderr: std::process::Stdio,
        rust_log: &str,
        umask: &str,
    ) -> Server {
        let mut shell = Command::new("sh");
        shell
            .arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_refmatch"));
        Server::launch(shell, store, stderr, rust_log, &[])
    }

    fn launch(
        mut command: Command,
        store: &std::path::Path,
        stderr: std::process::Stdio,
        rust_log: &str,
        args: &[&str],
    ) -> Server {
        let port = free_port();
        let child = command
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .arg("--store")
            .arg(store)
            .args(args)
            .env("RUST_LOG", rust_log)
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("server starts");
        let mut server = Server { child, port };
        let started = std::time::Instant::now();
        while http_get(port, "/healthz").is_err() {
            if started.elapsed() > Duration::from_secs(60) {
                server.child.kill().ok();
                panic!("server did not come up");
            }
            if let Ok(Some(exit)) = server.child.try_wait() {
                panic!("server exited before answering: {exit:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// The server's process id (for `/proc/<pid>/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it with SIGTERM and returns how it exited (within 20 s).
    pub fn stop(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(exit) = self.child.try_wait().expect("wait") {
                return exit;
            }
            if std::time::Instant::now() > deadline {
                self.child.kill().ok();
                panic!("server did not stop after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}
