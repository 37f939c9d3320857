//! CPU per request of the same CRS rules at the edge and in ModSecurity 2, on
//! the requests of `benches/crs.rs` (`scripts/modsecurity.sh cpu` starts the
//! Apache this talks to).
//!
//! ```text
//! crs_vs_modsecurity --on PORT --off PORT --pid PID [--paranoia N] [--threshold N] [--requests N]
//! ```
//! `--on` is Apache with ModSecurity deciding, `--off` the same server with
//! `SecRuleEngine Off`, `--pid` its one prefork child. ModSecurity's cost is the
//! child's CPU time per request on `--on` minus that on `--off` (its scheduler
//! statistics, in nanoseconds); the edge's is `Engine::inspect` natively, on this
//! thread, at the worker's optimisation level. Both decisions are printed, and a
//! request the two decide differently is reported.

#[path = "../benches/crs_requests/mod.rs"]
mod crs_requests;

use crs_requests::{cases, headers, Case};
use edge::waf::crs::{Engine, Request, Settings};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

struct Args {
    on: u16,
    off: u16,
    pid: u32,
    paranoia: u8,
    threshold: u32,
    requests: u32,
}

fn args() -> Result<Args, String> {
    let mut a = Args { on: 0, off: 0, pid: 0, paranoia: 1, threshold: 5, requests: 2000 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |_| format!("{flag} {value}: not a number");
        match flag.as_str() {
            "--on" => a.on = value.parse().map_err(bad)?,
            "--off" => a.off = value.parse().map_err(bad)?,
            "--pid" => a.pid = value.parse().map_err(bad)?,
            "--paranoia" => a.paranoia = value.parse().map_err(bad)?,
            "--threshold" => a.threshold = value.parse().map_err(bad)?,
            "--requests" => a.requests = value.parse().map_err(bad)?,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    if a.on == 0 || a.off == 0 || a.pid == 0 {
        return Err("--on, --off and --pid are required".into());
    }
    Ok(a)
}

/// Nanoseconds process `pid` has run (its only thread: a prefork child).
fn cpu_ns(pid: u32) -> Result<u64, String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).map_err(|e| format!("/proc/{pid}/schedstat: {e}"))?;
    text.split_whitespace().next().and_then(|n| n.parse().ok()).ok_or(format!("/proc/{pid}/schedstat: {text:?}"))
}

/// The request as a browser would send it over a kept-alive connection.
fn raw(case: &Case) -> Vec<u8> {
    let target = if case.query.is_empty() { case.path.to_string() } else { format!("{}?{}", case.path, case.query) };
    let mut head = format!("{} {target} HTTP/1.1\r\n", case.method);
    for (name, value) in headers(case.content_type, case.body.len()) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(case.body.as_bytes());
    bytes
}

/// Sends `request` and reads the whole answer; its status.
fn exchange(conn: &mut BufReader<TcpStream>, request: &[u8]) -> Result<u16, String> {
    conn.get_mut().write_all(request).map_err(|e| format!("send: {e}"))?;
    let mut line = String::new();
    conn.read_line(&mut line).map_err(|e| format!("read: {e}"))?;
    let status = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or(format!("status line {line:?}"))?;
    let mut length = 0usize;
    loop {
        line.clear();
        conn.read_line(&mut line).map_err(|e| format!("read: {e}"))?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().map_err(|_| format!("Content-Length {value:?}"))?;
            }
        }
    }
    let mut body = vec![0; length];
    conn.read_exact(&mut body).map_err(|e| format!("body: {e}"))?;
    Ok(status)
}

/// The server child's CPU per request on `port` (µs), and the last status.
fn server_cost(port: u16, pid: u32, request: &[u8], n: u32) -> Result<(f64, u16), String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect {port}: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    let mut conn = BufReader::new(stream);
    let mut status = 0;
    for _ in 0..50 {
        status = exchange(&mut conn, request)?;
    }
    let before = cpu_ns(pid)?;
    for _ in 0..n {
        status = exchange(&mut conn, request)?;
    }
    let after = cpu_ns(pid)?;
    Ok((after.saturating_sub(before) as f64 / 1e3 / f64::from(n), status))
}

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("crs_vs_modsecurity: {e}");
            std::process::exit(2)
        }
    };
    let settings = Settings { paranoia: a.paranoia, threshold: a.threshold, ..Default::default() };
    let crs = match Engine::new(&settings) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("crs_vs_modsecurity: CRS does not load: {e}");
            std::process::exit(1)
        }
    };
    println!("CRS PL{} threshold {}, {} requests each; µs of CPU per request", a.paranoia, a.threshold, a.requests);
    println!("{:<16} {:>12} {:>12} {:>12} {:>10} {:>12}  decisions (edge / ModSecurity)", "request", "Apache+MS", "Apache off", "ModSecurity", "edge CRS", "MS / edge");
    let mut differ = false;
    for case in cases() {
        let h = headers(case.content_type, case.body.len());
        let borrowed: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let uri = if case.query.is_empty() { case.path.to_string() } else { format!("{}?{}", case.path, case.query) };
        let req = Request { method: case.method, uri: &uri, protocol: "HTTP/1.1", headers: &borrowed, body: case.body.as_bytes(), client_ip: Some("203.0.113.7") };
        let verdict = crs.inspect(&req);
        let start = Instant::now();
        for _ in 0..a.requests {
            std::hint::black_box(crs.inspect(std::hint::black_box(&req)));
        }
        let edge = start.elapsed().as_secs_f64() * 1e6 / f64::from(a.requests);
        let wire = raw(&case);
        let (on, off) = match (server_cost(a.on, a.pid, &wire, a.requests), server_cost(a.off, a.pid, &wire, a.requests)) {
            (Ok(on), Ok(off)) => (on, off),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("crs_vs_modsecurity: {}: {e}", case.name);
                std::process::exit(1)
            }
        };
        let modsec = on.0 - off.0;
        let edge_says = if verdict.blocked { format!("blocked (score {})", verdict.score) } else { "passed".into() };
        let modsec_says = match on.1 {
            403 => "blocked".to_string(),
            200 | 404 => "passed".to_string(),
            s => format!("status {s}"),
        };
        differ |= verdict.blocked != (on.1 == 403);
        println!("{:<16} {:>12.1} {:>12.1} {:>12.1} {:>10.1} {:>11.2}×  {edge_says} / {modsec_says}", case.name, on.0, off.0, modsec, edge, modsec / edge);
    }
    if differ {
        println!("note: the edge and ModSecurity decide at least one of these requests differently");
    }
}
