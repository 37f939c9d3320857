//! Runs the real binary on an ephemeral port and talks HTTP/1.1 to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

struct Kill(std::process::Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(addr: &str, raw: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn serves_health_and_refuses_unsigned() {
    let child = Command::new(env!("CARGO_BIN_EXE_example-origin"))
        .args(["--addr", "127.0.0.1:0"])
        .env("ORIGIN_NAME", "bin-test")
        .env("EDGE_VERIFY_KEYS", "k1:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=,k2:hmac:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Kill(child);
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line}")).to_string();

    let health = get(&addr, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(health.starts_with("HTTP/1.1 200") && health.ends_with("ok"), "{health}");
    let denied = get(&addr, "GET /x HTTP/1.1\r\nHost: x\r\nX-Edge-User: admin\r\nConnection: close\r\n\r\n");
    assert!(denied.starts_with("HTTP/1.1 401") && denied.contains("missing Signature"), "{denied}");
}

#[test]
fn bad_key_config_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_example-origin")).env("EDGE_VERIFY_KEYS", "k1:nonsense").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("EDGE_VERIFY_KEYS"));
}
