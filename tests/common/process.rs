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
