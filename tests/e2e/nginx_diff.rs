//! `edge-rules import nginx`, checked against real nginx: each config runs in
//! Debian's nginx (a child process with a temp prefix; TLS listeners made
//! plain, upstream servers pointed at local backends, realip from a trusted
//! `X-Forwarded-For`) and, translated by the importer, in the edge under
//! workerd. The same requests go to both; status, redirect target, which
//! upstream answered, the headers the config sets and each burst's admitted
//! count must agree. Differences the importer reports as by design are
//! asserted as differences.
//!
//! Two edges per config: one that sees `https://` URLs (the TLS server's
//! content) and one plain-HTTP edge (the redirect server).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ensure;
use crate::harness::{free_port, repo_root, serve, Edge, Report};
use edge_rules::import::{import_nginx, nginx::parse, ImportArgs};

/// nginx as a child process; stopped on drop.
struct Nginx {
    child: Child,
    /// The plain-HTTP (redirect) listener and the content (TLS made plain) listener.
    http_port: u16,
    content_port: u16,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers (SIGKILL would orphan them).
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One config under test, with what its run needs.
struct World {
    nginx: Nginx,
    edge_https: Edge,
    /// Only when the document has an https_redirect rule.
    edge_http: Option<Edge>,
    http: reqwest::Client,
    /// Backend address (`app_1:8080`) → upstream name.
    pool_of: BTreeMap<String, String>,
    report: Vec<serde_json::Value>,
}

/// A response, reduced to what the comparison looks at.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    status: u16,
    location: Option<String>,
    /// The upstream pool whose server answered (`None`: nginx or the edge answered).
    upstream: Option<String>,
    headers: BTreeMap<String, String>,
}

/// A local backend: answers everything with 200 and `x-backend: ADDR`.
async fn backend(addr: String) -> u16 {
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let addr = addr.clone();
        async move {
            let path = req.uri().path().to_string();
            let ct = if path.ends_with(".png") { "image/png" } else { "text/html; charset=utf-8" };
            // Read the whole body, as an app would (an unread upload resets the stream).
            let body = axum::body::to_bytes(req.into_body(), 64 << 20).await.map(|b| b.len()).unwrap_or(0);
            ([("x-backend", addr.clone()), ("content-type", ct.to_string())], format!("{addr} {path} {body}"))
        }
    });
    serve(app).await
}

fn upstream_servers(conf: &Path) -> Result<Vec<(String, String)>, String> {
    let tree = parse::parse_file(conf, &parse::Filesystem).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    parse::walk(&tree, &mut |d, parents| {
        if d.name == "server" && d.block.is_none() {
            if let (Some(addr), Some(up)) = (d.args.first(), parents.last().filter(|p| p.name == "upstream")) {
                out.push((addr.clone(), up.args.first().cloned().unwrap_or_default()));
            }
        }
    });
    Ok(out)
}

/// The config as nginx runs it here: TLS listeners plain, upstream servers
/// local, paths under `dir`, realip from a trusted X-Forwarded-For.
fn rewrite_for_test(text: &str, dir: &Path, ports: &BTreeMap<String, u16>, http_port: u16, content_port: u16, saw_tls: &mut bool) -> String {
    let d = dir.display();
    let mut out = format!("user root;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n");
    let mut cache_n = 0;
    for line in text.lines() {
        let t = line.trim_start();
        let words: Vec<&str> = t.trim_end_matches(';').split_whitespace().collect();
        let first = words.first().copied().unwrap_or("");
        let new = match first {
            "user" | "pid" | "error_log" | "access_log" => String::new(),
            n if n.starts_with("ssl_") || n == "http2" => String::new(),
            "listen" if words.get(1).is_some_and(|a| a.starts_with("[::]")) => String::new(),
            "listen" => {
                let tls = words.iter().any(|w| *w == "ssl") || words.get(1).is_some_and(|a| a.ends_with("443"));
                *saw_tls |= tls;
                let port = if tls { content_port } else { http_port };
                let flag = if words.contains(&"default_server") { " default_server" } else { "" };
                format!("listen 127.0.0.1:{port}{flag};")
            }
            "server" if words.get(1).is_some_and(|a| ports.contains_key(*a)) => {
                let addr = words[1];
                line.replacen(addr, &format!("127.0.0.1:{}", ports[addr]), 1)
            }
            "proxy_cache_path" => {
                cache_n += 1;
                line.replacen(words.get(1).copied().unwrap_or(""), &format!("{d}/cache-{cache_n}"), 1)
            }
            "root" => {
                let root = format!("{d}/root");
                line.replacen(words.get(1).copied().unwrap_or(""), &root, 1)
            }
            _ => line.to_string(),
        };
        out.push_str(&new);
        out.push('\n');
        if t.starts_with("http {") || t == "http{" {
            out.push_str(&format!(
                "access_log off; client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi; \
                 uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\nset_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For;\n"
            ));
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}

/// Starts backends, nginx and both edges for the config at `conf` (its
/// directory is copied whole, so includes resolve as they do in place).
async fn start(name: &str, conf_dir: &Path, conf_file: &str, extra_files: &[(&str, &str)]) -> Result<World, String> {
    let dir = repo_root().join(format!("target/nginx-diff-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let site = dir.join("site");
    copy_dir(conf_dir, &site).map_err(|e| format!("copy {}: {e}", conf_dir.display()))?;
    for (from, to) in extra_files {
        std::fs::copy(site.join(from), site.join(to)).map_err(|e| format!("{from}: {e}"))?;
    }
    let conf = site.join(conf_file);
    // Only the config itself, not the whole examples directory's neighbours.
    let servers = upstream_servers(&conf)?;
    let mut ports = BTreeMap::new();
    let mut pool_of = BTreeMap::new();
    for (addr, pool) in &servers {
        if !ports.contains_key(addr) {
            ports.insert(addr.clone(), backend(addr.clone()).await);
        }
        pool_of.insert(addr.clone(), pool.clone());
    }
    // Configs without upstreams (h5bp serves files): the edge's origin is one backend.
    let static_port = backend("static".into()).await;
    pool_of.insert("static".into(), "static".into());

    // The importer, as a user runs it, with every backend mapped to its local port.
    let mut origin_map: Vec<String> = ports.iter().map(|(a, p)| format!("{a}=http://127.0.0.1:{p}")).collect();
    origin_map.push(format!("app=http://127.0.0.1:{static_port}"));
    let report_file = dir.join("report.json");
    let out = import_nginx(&ImportArgs { file: conf.clone(), server: None, origin_map, report: Some(report_file.clone()) })?;
    let report: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&report_file).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;

    // nginx, from the rewritten original.
    let (http_port, content_port) = (free_port(), free_port());
    for sub in ["root/.well-known/acme-challenge", "body", "proxy"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| e.to_string())?;
    }
    std::fs::write(dir.join("root/.well-known/acme-challenge/token-1"), "acme").map_err(|e| e.to_string())?;
    std::fs::write(dir.join("root/index.html"), "<!doctype html><title>static</title>").map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&conf).map_err(|e| e.to_string())?;
    // Included files get the same treatment (h5bp's conf.d/*.conf hold its servers).
    let mut all = vec![conf.clone()];
    parse_includes(&site, &mut all);
    let mut saw_tls = false;
    // Decided on the original (includes followed), before the rewrite.
    let content_port = if serves_tls(&conf)? { content_port } else { http_port };
    for f in &all {
        let t = if *f == conf { text.clone() } else { std::fs::read_to_string(f).map_err(|e| e.to_string())? };
        let mut rewritten = rewrite_for_test(&t, &dir, &ports, http_port, content_port, &mut saw_tls);
        if *f != conf {
            // Only the main file gets the main-context lines.
            rewritten = rewritten.lines().skip(3).collect::<Vec<_>>().join("\n") + "\n";
        }
        std::fs::write(f, rewritten).map_err(|e| e.to_string())?;
    }
    let check = Command::new("/usr/sbin/nginx")
        .args(["-t", "-q", "-p", &format!("{}/", site.display()), "-c", conf.to_str().unwrap_or_default()])
        .output()
        .map_err(|e| format!("run nginx (scripts/setup.sh installs it): {e}"))?;
    ensure!(check.status.success(), "nginx -t: {}", String::from_utf8_lossy(&check.stderr));
    let child = Command::new("/usr/sbin/nginx")
        .args(["-p", &format!("{}/", site.display()), "-c", conf.to_str().unwrap_or_default(), "-g", "daemon off; master_process on;"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("start nginx: {e}"))?;
    let nginx = Nginx { child, http_port, content_port };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", content_port)).is_err() {
        ensure!(started.elapsed() < Duration::from_secs(10), "nginx did not listen on {content_port}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // One edge sees https:// URLs, the other plain HTTP (started one after
    // the other: each `wrangler dev` runs the worker build in the same directory).
    let doc = out.document.clone();
    let default_origin = format!("http://127.0.0.1:{static_port}");
    let edge_https = Edge::start_with_args(&doc, &default_origin, &[], None, &["--upstream-protocol", "https"]);
    let edge_http = doc.contains("\"https_redirect\"").then(|| Edge::start(&doc, &default_origin));
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().map_err(|e| e.to_string())?;
    Ok(World { nginx, edge_https, edge_http, http, pool_of, report })
}

/// Whether the config nginx loads (includes followed) has a TLS listener.
fn serves_tls(conf: &Path) -> Result<bool, String> {
    let tree = parse::parse_file(conf, &parse::Filesystem).map_err(|e| e.to_string())?;
    let mut tls = false;
    parse::walk(&tree, &mut |d, _| {
        tls |= d.name == "listen" && (d.args.iter().any(|a| a == "ssl") || d.args.first().is_some_and(|a| a.ends_with("443")));
    });
    Ok(tls)
}

/// Files reached through `include` from the site, for the rewrite.
fn parse_includes(site: &Path, out: &mut Vec<PathBuf>) {
    fn visit(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                visit(&p, out);
            } else if p.extension().is_some_and(|x| x == "conf") && !out.contains(&p) {
                out.push(p);
            }
        }
    }
    visit(site, out);
}

/// Which side a request goes to.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Nginx,
    Edge,
}

/// A request: method, path, Host, extra headers, body size, client IP.
#[derive(Clone)]
struct Req<'a> {
    method: &'a str,
    path: &'a str,
    host: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: usize,
    ip: &'a str,
    /// Sent to the plain-HTTP listener (redirect server) instead of the content one.
    plain: bool,
}

fn get<'a>(host: &'a str, path: &'a str) -> Req<'a> {
    Req { method: "GET", path, host, headers: Vec::new(), body: 0, ip: "198.51.100.50", plain: false }
}

impl World {
    fn request(&self, side: Side, r: &Req<'_>) -> Result<reqwest::RequestBuilder, String> {
        let base = match (side, r.plain) {
            (Side::Nginx, false) => format!("http://127.0.0.1:{}", self.nginx.content_port),
            (Side::Nginx, true) => format!("http://127.0.0.1:{}", self.nginx.http_port),
            (Side::Edge, false) => self.edge_https.url(""),
            (Side::Edge, true) => self.edge_http.as_ref().ok_or("no plain-HTTP edge: the document has no https_redirect")?.url(""),
        };
        let method = reqwest::Method::from_bytes(r.method.as_bytes()).map_err(|e| e.to_string())?;
        // On the plain listener the Host carries a port: nginx's $host and the
        // edge's redirect both drop it, and wrangler dev's proxy (which rewrites
        // absolute URLs naming the request's own host:port to its local origin)
        // leaves the edge's Location as the worker wrote it.
        let host = if r.plain { format!("{}:8080", r.host) } else { r.host.to_string() };
        let mut req = self.http.request(method, format!("{base}{}", r.path)).header("host", host);
        req = match side {
            Side::Nginx => req.header("x-forwarded-for", r.ip),
            Side::Edge => req.header("cf-connecting-ip", r.ip).header("mf-cf-blob", r#"{"country":"DE","clientAcceptEncoding":""}"#),
        };
        for (k, v) in &r.headers {
            req = req.header(*k, *v);
        }
        if r.body > 0 {
            req = req.body(vec![b'x'; r.body]);
        }
        Ok(req)
    }

    async fn send(&self, side: Side, r: &Req<'_>, compare: &[&str]) -> Result<Seen, String> {
        let resp = self.request(side, r)?.send().await.map_err(|e| format!("{} {} to {}: {e}", r.method, r.path, if side == Side::Nginx { "nginx" } else { "edge" }))?;
        let h = resp.headers().clone();
        let value = |n: &str| h.get_all(n).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(", ");
        let upstream = h.get("x-backend").and_then(|v| v.to_str().ok()).map(|a| self.pool_of.get(a).cloned().unwrap_or_else(|| a.to_string()));
        let headers = compare.iter().filter(|n| h.contains_key(**n)).map(|n| (n.to_string(), value(n))).collect();
        let location = h.get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        let status = resp.status().as_u16();
        let _ = resp.bytes().await;
        Ok(Seen { status, location, upstream, headers })
    }

    /// The same request to both; they must agree.
    async fn same(&self, r: Req<'_>, compare: &[&str]) -> Result<Seen, String> {
        let n = self.send(Side::Nginx, &r, compare).await?;
        let e = self.send(Side::Edge, &r, compare).await?;
        ensure!(n == e, "{} {} (host {}, ip {}): nginx {n:?}\n      edge  {e:?}", r.method, r.path, r.host, r.ip);
        Ok(n)
    }

    /// `n` concurrent requests; the admitted (2xx) count of each side.
    async fn burst(&self, side: Side, r: &Req<'_>, n: usize) -> Result<(usize, Duration), String> {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..n {
            let req = self.request(side, r)?;
            set.spawn(async move { req.send().await.map(|resp| resp.status().as_u16()).map_err(|e| e.to_string()) });
        }
        let started = Instant::now();
        let mut admitted = 0;
        while let Some(done) = set.join_next().await {
            let status = done.map_err(|e| e.to_string())??;
            if status < 300 {
                admitted += 1;
            } else {
                ensure!(status == 429, "a refused request got {status}");
            }
        }
        Ok((admitted, started.elapsed()))
    }

    /// A burst to both sides from fresh client IPs: the admitted counts agree
    /// (`burst + 1`, plus what the rate refills while the burst is in flight).
    async fn same_burst(&self, r: Req<'_>, n: usize, burst: usize, per_second: f64, ips: (&str, &str)) -> Result<(), String> {
        let (na, nt) = self.burst(Side::Nginx, &Req { ip: ips.0, ..r.clone() }, n).await?;
        let (ea, et) = self.burst(Side::Edge, &Req { ip: ips.1, ..r.clone() }, n).await?;
        let bound = |t: Duration| burst + 1 + (t.as_secs_f64() * per_second).ceil() as usize;
        ensure!(na >= burst + 1 && na <= bound(nt), "nginx admitted {na} of {n} in {nt:?}");
        ensure!(ea >= burst + 1 && ea <= bound(et), "edge admitted {ea} of {n} in {et:?}");
        ensure!(na.abs_diff(ea) <= bound(nt.max(et)) - (burst + 1), "admitted: nginx {na}, edge {ea}");
        Ok(())
    }

    /// The report line of the directive starting with `directive`.
    fn outcome(&self, directive: &str) -> String {
        self.report
            .iter()
            .find(|l| l["directive"].as_str().is_some_and(|d| d.starts_with(directive)))
            .and_then(|l| l["outcome"].as_str())
            .unwrap_or("missing")
            .to_string()
    }
}

const SECURITY: &[&str] = &["strict-transport-security", "x-content-type-options", "x-frame-options", "referrer-policy", "content-security-policy"];

async fn api_gateway(w: &World) -> Result<(), String> {
    let host = "api.example.com";
    for path in ["/", "/orders/7", "/auth/login", "/health", "/uploads/a", "/static/app.css", "/ws/socket"] {
        let seen = w.same(get(host, path), SECURITY).await?;
        ensure!(seen.status == 200 && seen.upstream.is_some(), "{path}: {seen:?}");
    }
    ensure!(w.same(get(host, "/ws/x"), &[]).await?.upstream.as_deref() == Some("realtime"), "WebSocket location's pool");
    for path in ["/.git/config", "/a/.env", "/.svn/entries"] {
        let seen = w.same(get(host, path), SECURITY).await?;
        ensure!(seen.status == 403 && seen.headers.contains_key("x-frame-options"), "{path}: {seen:?}");
    }
    // ^~ /static/ stops the regex search: a dotfile under it is served.
    ensure!(w.same(get(host, "/static/.env"), SECURITY).await?.status == 200, "^~ prefix wins over the regex");
    // Bodies: 1m by default, 50m on /uploads/.
    let post = |path, body| Req { method: "POST", body, ..get(host, path) };
    ensure!(w.same(post("/orders", 2 * 1024 * 1024), &[]).await?.status == 413, "2 MB to the API");
    ensure!(w.same(post("/uploads/big", 2 * 1024 * 1024), &[]).await?.status == 200, "2 MB upload");
    ensure!(w.same(post("/orders", 512 * 1024), &[]).await?.status == 200, "512 KB to the API");
    // Redirect server: HTTPS redirect, ACME kept on plain HTTP.
    let plain = |path| Req { plain: true, ..get(host, path) };
    let r = w.same(plain("/orders/7?x=1"), &[]).await?;
    ensure!(r.status == 301 && r.location.as_deref() == Some("https://api.example.com/orders/7?x=1"), "{r:?}");
    let n = w.send(Side::Nginx, &plain("/.well-known/acme-challenge/token-1"), &[]).await?;
    let e = w.send(Side::Edge, &plain("/.well-known/acme-challenge/token-1"), &[]).await?;
    ensure!(n.status == 200 && e.status == 200, "ACME on plain HTTP: nginx {n:?} edge {e:?}");
    ensure!(n.upstream.is_none() && e.upstream.is_some(), "by design: nginx serves the token from root, the edge from the origin ({})", w.outcome("root /var/www/acme"));
    // Bursts: auth 2 r/s burst 5, api 10 r/s burst 20 (both nodelay); /health has no limit.
    w.same_burst(get(host, "/auth/login"), 12, 5, 2.0, ("198.51.100.61", "198.51.100.62")).await?;
    w.same_burst(get(host, "/orders"), 35, 20, 10.0, ("198.51.100.63", "198.51.100.64")).await?;
    let (na, _) = w.burst(Side::Nginx, &Req { ip: "198.51.100.65", ..get(host, "/health") }, 30).await?;
    let (ea, _) = w.burst(Side::Edge, &Req { ip: "198.51.100.66", ..get(host, "/health") }, 30).await?;
    ensure!(na == 30 && ea == 30, "health exempt: nginx {na}, edge {ea}");
    // /uploads/ counts in the same api zone as / (one counter in nginx and at the edge).
    let ips = ("198.51.100.67", "198.51.100.68");
    for side in [Side::Nginx, Side::Edge] {
        let ip = if side == Side::Nginx { ips.0 } else { ips.1 };
        let (a, t) = w.burst(side, &Req { ip, ..get(host, "/orders") }, 21).await?;
        ensure!(a >= 21, "first burst {a}");
        let (b, _) = w.burst(side, &Req { ip, ..get(host, "/uploads/x") }, 5).await?;
        ensure!(b <= 1 + (t.as_secs_f64() * 10.0).ceil() as usize, "shared zone: /uploads/ admitted {b} after the zone's burst was spent");
    }
    Ok(())
}

async fn saas(w: &World) -> Result<(), String> {
    let (api, app) = ("api.example.com", "app.example.com");
    let compare: Vec<&str> = SECURITY.iter().copied().chain(["access-control-allow-origin", "access-control-allow-credentials"]).collect();
    let cors = [("origin", "https://app.example.com")];
    for (host, path, pool) in [(api, "/v1/orders", "api_servers"), (api, "/healthz", "api_servers"), (app, "/", "web_servers"), (app, "/assets/app.js", "web_servers")] {
        let seen = w.same(Req { headers: cors.to_vec(), ..get(host, path) }, &compare).await?;
        ensure!(seen.status == 200 && seen.upstream.as_deref() == Some(pool), "{host}{path}: {seen:?}");
    }
    ensure!(w.same(get(app, "/assets/app.js"), &["cache-control"]).await?.headers.get("cache-control").map(String::as_str) == Some("max-age=604800"), "expires 7d");
    // Office-only /admin/ (realip from X-Forwarded-For at nginx, CF-Connecting-IP at the edge).
    for (ip, status) in [("203.0.113.9", 200), ("198.51.100.7", 200), ("192.0.2.44", 403)] {
        let seen = w.same(Req { ip, ..get(api, "/admin/users") }, &[]).await?;
        ensure!(seen.status == status, "{ip}: {seen:?}");
    }
    // Methods outside the list: 405 for the whole API host, not the app.
    // (A standard method: workerd hands the worker unknown ones, PROPFIND, as GET.)
    ensure!(w.same(Req { method: "DELETE", ..get(api, "/v1/orders") }, &[]).await?.status == 405, "DELETE on the API");
    ensure!(w.same(Req { method: "DELETE", ..get(app, "/") }, &[]).await?.status == 200, "DELETE on the app");
    // Preflight answered with 204 and the allowed origin.
    let pre = Req {
        method: "OPTIONS",
        headers: vec![("origin", "https://app.example.com"), ("access-control-request-method", "PUT"), ("access-control-request-headers", "content-type")],
        ..get(api, "/v1/orders")
    };
    let n = w.send(Side::Nginx, &pre, &["access-control-allow-origin", "access-control-allow-methods", "access-control-max-age"]).await?;
    let e = w.send(Side::Edge, &pre, &["access-control-allow-origin", "access-control-allow-methods", "access-control-max-age"]).await?;
    ensure!(n.status == 204 && e.status == 204, "preflight: nginx {n:?} edge {e:?}");
    for h in ["access-control-allow-origin", "access-control-max-age"] {
        ensure!(n.headers.get(h) == e.headers.get(h), "{h}: nginx {n:?} edge {e:?}");
    }
    let tokens = |s: &Seen| s.headers.get("access-control-allow-methods").map(|v| v.split(',').map(|t| t.trim().to_string()).collect::<BTreeSet<_>>());
    ensure!(tokens(&n) == tokens(&e), "allowed methods: nginx {n:?} edge {e:?}");
    // By design (report: differs): without an Origin nginx still sends ACAO, the edge does not.
    let n = w.send(Side::Nginx, &get(api, "/v1/orders"), &compare).await?;
    let e = w.send(Side::Edge, &get(api, "/v1/orders"), &compare).await?;
    ensure!(n.headers.contains_key("access-control-allow-origin") && !e.headers.contains_key("access-control-allow-origin"), "ACAO without Origin: {n:?} {e:?}");
    ensure!(w.outcome("add_header Access-Control-Allow-Origin") == "differs", "reported as a difference");
    // Both hosts redirect to HTTPS on plain HTTP.
    for host in [api, app] {
        let r = w.same(Req { plain: true, ..get(host, "/v1/x?a=b") }, &[]).await?;
        ensure!(r.status == 301 && r.location == Some(format!("https://{host}/v1/x?a=b")), "{host}: {r:?}");
    }
    // /v1/ counts in two zones: per API key (100 r/m, burst 99) and per IP
    // (20 r/s, burst 40); from one IP the per-IP zone refuses first.
    w.same_burst(Req { headers: vec![("x-api-key", "key-1")], ..get(api, "/v1/items") }, 60, 40, 20.0, ("198.51.100.71", "198.51.100.72")).await?;
    // The login limit (1 r/s, burst 3).
    w.same_burst(get(api, "/v1/login"), 8, 3, 1.0, ("198.51.100.73", "198.51.100.74")).await?;
    Ok(())
}

async fn media(w: &World) -> Result<(), String> {
    let host = "media.example.com";
    // Edge-made answers carry Cache-Control: no-store by design; compared on 200s only.
    let compare = ["x-content-type-options", "x-media"];
    for (path, status) in [("/", 200), ("/healthz", 200), ("/upload/x", 200), ("/img/cat.png", 200), ("/img/.hidden.png", 200), ("/.env", 404), ("/db.sql", 403), ("/a/.git/HEAD", 404)] {
        let seen = w.same(get(host, path), &compare).await?;
        ensure!(seen.status == status, "{path}: {seen:?}");
    }
    let img = w.same(get(host, "/img/cat.png"), &["x-content-type-options", "x-media", "cache-control"]).await?;
    ensure!(img.headers.get("cache-control").map(String::as_str) == Some("max-age=2592000"), "expires 30d: {img:?}");
    let n = w.send(Side::Nginx, &get(host, "/.env"), &["cache-control"]).await?;
    let e = w.send(Side::Edge, &get(host, "/.env"), &["cache-control"]).await?;
    ensure!(!n.headers.contains_key("cache-control") && e.headers.get("cache-control").map(String::as_str) == Some("no-store"), "by design: edge-made answers are no-store: {n:?} {e:?}");
    ensure!(img.headers.get("x-media").map(String::as_str) == Some("cache") && img.upstream.as_deref() == Some("media"), "{img:?}");
    // Denied networks, IPv4 and IPv6.
    for ip in ["192.0.2.10", "2001:db8:bad::1"] {
        ensure!(w.same(Req { ip, ..get(host, "/img/cat.png") }, &[]).await?.status == 403, "{ip} denied");
    }
    let post = |path, body| Req { method: "POST", body, ..get(host, path) };
    ensure!(w.same(post("/upload/big", 3 * 1024 * 1024), &[]).await?.status == 200, "3 MB upload");
    ensure!(w.same(post("/api", 3 * 1024 * 1024), &[]).await?.status == 413, "3 MB elsewhere");
    let r = w.same(Req { plain: true, ..get(host, "/.well-known/acme-challenge/t") }, &[]).await?;
    ensure!(r.status == 308 && r.location.as_deref() == Some("https://media.example.com/.well-known/acme-challenge/t"), "308 for everything: {r:?}");
    w.same_burst(get(host, "/upload/part"), 12, 5, 2.0, ("198.51.100.81", "198.51.100.82")).await?;
    let (na, _) = w.burst(Side::Nginx, &Req { ip: "198.51.100.83", ..get(host, "/healthz") }, 40).await?;
    let (ea, _) = w.burst(Side::Edge, &Req { ip: "198.51.100.84", ..get(host, "/healthz") }, 40).await?;
    ensure!(na == 40 && ea == 40, "health exempt: nginx {na}, edge {ea}");
    Ok(())
}

async fn h5bp(w: &World) -> Result<(), String> {
    let host = "example.com";
    let compare = ["x-content-type-options", "x-frame-options", "referrer-policy"];
    for path in ["/.git/config", "/.env", "/backup.sql", "/site.conf", "/x.bak"] {
        let seen = w.same(get(host, path), &compare).await?;
        ensure!(seen.status == 403 && seen.headers.len() == 3, "{path}: {seen:?}");
    }
    // The page itself: same security headers (text/html values of h5bp's maps).
    let n = w.send(Side::Nginx, &get(host, "/index.html"), &["x-content-type-options", "x-frame-options", "referrer-policy", "cache-control"]).await?;
    let e = w.send(Side::Edge, &get(host, "/index.html"), &["x-content-type-options", "x-frame-options", "referrer-policy", "cache-control"]).await?;
    ensure!(n.status == 200 && e.status == 200, "page: {n:?} {e:?}");
    for h in compare {
        ensure!(n.headers.get(h) == e.headers.get(h), "{h}: nginx {n:?} edge {e:?}");
    }
    // By design (reported): `expires $expires` by content type is not translated.
    ensure!(n.headers.contains_key("cache-control") && !e.headers.contains_key("cache-control"), "expires: {n:?} {e:?}");
    ensure!(w.outcome("expires $expires") == "not_translatable", "expires reported");
    // ACME stays reachable (the look-ahead excludes .well-known).
    let n = w.send(Side::Nginx, &get(host, "/.well-known/acme-challenge/token-1"), &[]).await?;
    let e = w.send(Side::Edge, &get(host, "/.well-known/acme-challenge/token-1"), &[]).await?;
    ensure!(n.status == 200 && e.status == 200, ".well-known: nginx {n:?} edge {e:?}");
    // By design (reported): www.example.com's redirect to the apex is a Cloudflare Redirect Rule.
    let n = w.send(Side::Nginx, &get("www.example.com", "/a"), &[]).await?;
    let e = w.send(Side::Edge, &get("www.example.com", "/a"), &[]).await?;
    ensure!(n.status == 301 && e.status == 200, "www: nginx {n:?} edge {e:?}");
    ensure!(w.outcome("return 301 $scheme://example.com") == "not_translatable", "www redirect reported");
    Ok(())
}

pub async fn run(report: &mut Report) {
    let examples = repo_root().join("examples/nginx");
    let h5bp_dir = repo_root().join("tests/corpora/nginx/h5bp");
    let cases: Vec<(&str, PathBuf, &str, Vec<(&str, &str)>)> = vec![
        ("api_gateway", examples.clone(), "api-gateway.conf", vec![]),
        ("saas_app_api", examples.clone(), "saas-app-api.conf", vec![]),
        ("media_uploads", examples.clone(), "media-uploads.conf", vec![]),
        // h5bp's README: enable a site by copying its template into conf.d/.
        ("h5bp", h5bp_dir, "nginx.conf", vec![("conf.d/templates/no-ssl.example.com.conf", "conf.d/example.com.conf")]),
    ];
    // NGINX_DIFF_ONLY=h5bp runs one config.
    let only = std::env::var("NGINX_DIFF_ONLY").ok();
    for (name, dir, file, extra) in cases {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let world = match start(name, &dir, file, &extra).await {
            Ok(w) => w,
            Err(e) => {
                report.check(&format!("nginx_diff::{name}::start"), async { Err::<(), String>(e) }).await;
                continue;
            }
        };
        let check = format!("nginx_diff::{name}");
        match name {
            "api_gateway" => report.check(&check, api_gateway(&world)).await,
            "saas_app_api" => report.check(&check, saas(&world)).await,
            "media_uploads" => report.check(&check, media(&world)).await,
            _ => report.check(&check, h5bp(&world)).await,
        }
    }
}
