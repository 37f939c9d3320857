//! Origins that are not Rust, behind the edge under workerd: a real Express
//! app verifying with the npm package (installed from the tarball
//! `origin-sdk/js/build.sh` builds), and real nginx (Debian's) with the
//! `edge-verify` sidecar in `auth_request` mode in front of a plain app, plus
//! the sidecar as a reverse proxy, and nginx rewriting the path in front of
//! it (refused, and the sidecar's debug log says which value differs).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding};
use jwt_compact::alg::Ed25519;
use jwt_compact::{Algorithm, AlgorithmSignature};
use origin_sdk::{trust, Signer, SigningKey};
use serde_json::{json, Value};

use crate::ensure;
use crate::harness::{dev_keys, free_port, repo_root, serve, Edge, Report};

type EdKey = <Ed25519 as Algorithm>::SigningKey;

const ISS: &str = "https://id.test";
const AUD: &str = "edge-api";
/// The key being rotated out: still listed at every origin, no longer the edge's.
const OLD_KEYID: &str = "old-2025";

fn old_key() -> SigningKey {
    SigningKey::ed25519_from_seed(OLD_KEYID, &[0x25; 32])
}

/// A child process (its output kept), killed on drop.
struct Proc {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    fn spawn(cmd: &mut Command) -> Result<Proc, String> {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
        let mut child = cmd.spawn().map_err(|e| format!("spawn {cmd:?}: {e}"))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let streams = [child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
                       child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>)];
        for stream in streams.into_iter().flatten() {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Ok(mut l) = log.lock() {
                        l.push(line);
                    }
                }
            });
        }
        Ok(Proc { child, log })
    }

    fn lines(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Waits for a line containing `needle`.
    fn wait_for(&mut self, needle: &str) -> Result<String, String> {
        let start = Instant::now();
        loop {
            if let Some(l) = self.lines().into_iter().find(|l| l.contains(needle)) {
                return Ok(l);
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited {status} before `{needle}`: {:?}", self.lines()));
            }
            ensure!(start.elapsed() < Duration::from_secs(60), "no `{needle}` after 60 s: {:?}", self.lines());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_port(port: u16) -> Result<(), String> {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        ensure!(start.elapsed() < Duration::from_secs(30), "nothing listening on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// Keys every origin trusts: the edge's dev key and the old one.
fn origin_keys() -> String {
    let old = old_key().verifying_key().public_key_base64().unwrap_or_default();
    format!("{},{OLD_KEYID}:{old}", dev_keys().verify)
}

/// The plain app behind nginx and the proxying sidecar: reports the headers it
/// got, and the facts it reads from the sidecar's `x-verified-*` headers.
async fn start_plain_app() -> u16 {
    let app = axum::Router::new().fallback(|req: axum::extract::Request| async move {
        let h: serde_json::Map<String, Value> =
            req.headers().iter().map(|(n, v)| (n.to_string(), Value::String(v.to_str().unwrap_or("").to_string()))).collect();
        let get = |n: &str| h.get(n).cloned().unwrap_or(Value::Null);
        let claims = h.get("x-verified-claims").and_then(|v| v.as_str()).and_then(|s| serde_json::from_str(s).ok()).unwrap_or(Value::Null);
        let facts = json!({
            "clientIp": get("x-verified-client-ip"), "country": get("x-verified-country"), "user": get("x-verified-user"),
            "claims": claims, "keyid": get("x-verified-keyid"),
        });
        axum::Json(json!({ "origin": "plain", "path": req.uri().path(), "facts": facts, "headers": h }))
    });
    serve(app).await
}

fn sidecar(mode: &[&str], listen: u16) -> Result<Proc, String> {
    let bin = repo_root().join("target/debug/edge-verify");
    let mut cmd = Command::new(bin);
    cmd.args(mode).args(["--listen", &format!("127.0.0.1:{listen}"), "--debug"]).env("EDGE_VERIFY_KEYS", origin_keys());
    let mut p = Proc::spawn(&mut cmd)?;
    p.wait_for("edge-verify listening")?;
    Ok(p)
}

/// The documented nginx configurations (docs/origin-verification.md), on loopback ports:
/// `auth` = auth_request in front of the plain app; `rewriting` = nginx in
/// front of the proxying sidecar, once preserving the request, once stripping a prefix.
fn nginx_conf(dir: &std::path::Path, auth: u16, rewriting: u16, sidecar_auth: u16, sidecar_proxy: u16, app: u16) -> String {
    let d = dir.display();
    let facts = ["client-ip", "country", "user", "claims", "keyid"];
    let set: String = facts
        .iter()
        .map(|f| {
            let v = f.replace('-', "_");
            format!("      auth_request_set $verified_{v} $upstream_http_x_verified_{v};\n      proxy_set_header X-Verified-{f} $verified_{v};\n")
        })
        .collect();
    format!(
        r#"worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log notice;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{auth};
    location / {{
      auth_request /_edge_verify;
{set}      proxy_set_header Host $http_host;
      proxy_pass http://127.0.0.1:{app};
    }}
    location = /_edge_verify {{
      internal;
      proxy_pass http://127.0.0.1:{sidecar_auth};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
    }}
  }}
  server {{
    listen 127.0.0.1:{rewriting};
    location /preserved/ {{
      proxy_set_header Host $http_host;
      proxy_pass http://127.0.0.1:{sidecar_proxy};
    }}
    location /rewritten/ {{
      proxy_set_header Host $http_host;
      proxy_pass http://127.0.0.1:{sidecar_proxy}/;
    }}
  }}
}}
"#
    )
}

struct World {
    edge: Edge,
    http: reqwest::Client,
    ed: EdKey,
    /// Kind → the origin's own port (for direct requests).
    direct: Vec<(&'static str, u16)>,
    proxy_sidecar: Proc,
    _procs: Vec<Proc>,
}

fn b64(b: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(b)
}

fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl World {
    fn token(&self) -> String {
        let now = now_s();
        let claims = json!({"sub": "user-42", "iss": ISS, "aud": AUD, "iat": now, "exp": now + 600, "tenant": "acme", "roles": ["buyer"]});
        let input = format!("{}.{}", b64(json!({"alg": "EdDSA", "kid": "ed1", "typ": "JWT"}).to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        format!("{input}.{}", b64(&Ed25519.sign(&self.ed, input.as_bytes()).as_bytes()))
    }

    /// GET through the edge, as a visitor from 198.51.100.7 in DE.
    async fn get(&self, path: &str, extra: &[(&str, &str)]) -> Result<(u16, Value), String> {
        let mut req = self
            .http
            .get(self.edge.url(path))
            .header("MF-CF-Blob", json!({"colo": "FRA", "country": "DE", "asn": 3320, "clientAcceptEncoding": ""}).to_string())
            .header("CF-Connecting-IP", "198.51.100.7");
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.map_err(|e| format!("GET {path}: {e}"))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    /// GET straight to an origin port with the given headers.
    async fn direct(&self, port: u16, path: &str, headers: &[(String, String)]) -> Result<(u16, Value), String> {
        let mut req = self.http.get(format!("http://127.0.0.1:{port}{path}"));
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let resp = req.send().await.map_err(|e| format!("direct GET {path}: {e}"))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }
}

/// The edge's signed headers as the app received them (to replay them).
fn signed_headers(body: &Value) -> Vec<(String, String)> {
    // Every header the edge signs: the nine facts, and the deciding rules hash.
    let names = ["signature", "signature-input", trust::RULES].into_iter().chain(trust::ALL);
    names.filter_map(|n| body["headers"][n].as_str().map(|v| (n.to_string(), v.to_string()))).collect()
}

async fn facts_through_the_edge(w: &World) -> Result<(), String> {
    let token = format!("Bearer {}", w.token());
    for (kind, _) in &w.direct {
        let (status, body) = w.get(&format!("/{kind}/me"), &[("authorization", &token)]).await?;
        ensure!(status == 200, "{kind}: {status} {body}");
        let f = &body["facts"];
        ensure!(f["clientIp"] == "198.51.100.7" && f["country"] == "DE", "{kind}: ip/country {f}");
        ensure!(f["user"] == "user-42", "{kind}: user {f}");
        ensure!(f["claims"] == json!({"tenant": "acme", "roles": ["buyer"]}), "{kind}: claims {f}");
        ensure!(f["keyid"] == "dev-2026", "{kind}: keyid {f}");
    }
    // The Express app runs the installed package, not the source folder.
    let (_, body) = w.get("/express/pkg", &[]).await?;
    let pkg = body["package"].as_str().unwrap_or_default();
    ensure!(pkg.contains("tests/js/node_modules/edge-origin-sdk/"), "express loaded {pkg}");
    // ...and its Ed25519 check is node:crypto's (OpenSSL), not the wasm curve.
    ensure!(body["ed25519"] == "node:crypto", "express verifies Ed25519 with {}", body["ed25519"]);
    Ok(())
}

async fn direct_requests_refused(w: &World) -> Result<(), String> {
    for (kind, port) in &w.direct {
        let forged = [("x-edge-user".to_string(), "admin".to_string()), ("x-verified-user".to_string(), "admin".to_string())];
        let (status, body) = w.direct(*port, &format!("/{kind}/me"), &forged).await?;
        ensure!(status == 401, "{kind} direct: {status} {body}");
    }
    // Exempt path: served, but the forged trust header is gone.
    let port = w.direct[0].1;
    let (status, body) = w.direct(port, "/express/health", &[("x-edge-user".into(), "admin".into())]).await?;
    ensure!(status == 200 && body["facts"].is_null() && body["headers"].get("x-edge-user").is_none(), "exempt: {status} {body}");
    Ok(())
}

async fn forged_trust_headers_stripped(w: &World) -> Result<(), String> {
    let extra = [("x-edge-user", "admin"), ("x-edge-injected", "1"), ("x-verified-user", "root"), ("x-verified-keyid", "forged")];
    for (kind, _) in &w.direct {
        let (status, body) = w.get(&format!("/{kind}/anon"), &extra).await?;
        ensure!(status == 200, "{kind}: {status} {body}");
        let f = &body["facts"];
        ensure!(f["user"].is_null() && f["keyid"] == "dev-2026", "{kind}: forged facts believed: {f}");
        let h = &body["headers"];
        ensure!(h.get("x-edge-injected").is_none(), "{kind}: x-edge-injected reached the app");
        ensure!(h["x-edge-user"].as_str().unwrap_or("") == "", "{kind}: forged x-edge-user reached the app: {h}");
        // The sidecar's fact headers: set by it (or nginx) alone; Express apps read `req.edge`.
        ensure!(*kind == "express" || h.get("x-verified-user").is_none(), "{kind}: forged x-verified-user reached the app: {h}");
    }
    Ok(())
}

async fn replay_refused(w: &World) -> Result<(), String> {
    for (kind, port) in &w.direct {
        let path = format!("/{kind}/replay");
        let (status, body) = w.get(&path, &[]).await?;
        ensure!(status == 200, "{kind}: {status} {body}");
        let (status, again) = w.direct(*port, &path, &signed_headers(&body)).await?;
        ensure!(status == 401, "{kind} replay: {status} {again}");
        if *kind != "nginx" {
            ensure!(again["reason"] == "replayed", "{kind} replay: {again}");
        }
    }
    Ok(())
}

/// An origin lists the old and the new keyid; a request the old key signed
/// (as an edge still on it would) verifies next to the edge's current one.
async fn rotated_key_accepted(w: &World) -> Result<(), String> {
    for (kind, port) in &w.direct {
        let path = format!("/{kind}/rotated");
        let mut req = http::Request::get(&path).header("host", format!("127.0.0.1:{port}")).body(()).map_err(|e| e.to_string())?;
        for h in trust::ALL {
            req.headers_mut().insert(h, http::HeaderValue::from_static(""));
        }
        req.headers_mut().insert(trust::COUNTRY, http::HeaderValue::from_static("NL"));
        Signer::new(old_key()).sign(&mut req, now_s(), &format!("rot-{kind}-{}", now_s())).map_err(|e| e.to_string())?;
        let headers: Vec<(String, String)> =
            req.headers().iter().filter(|(n, _)| *n != "host").map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string())).collect();
        let (status, body) = w.direct(*port, &path, &headers).await?;
        ensure!(status == 200, "{kind}, old key: {status} {body}");
        ensure!(body["facts"]["keyid"] == OLD_KEYID && body["facts"]["country"] == "NL", "{kind}, old key: {}", body["facts"]);
    }
    Ok(())
}

/// nginx in front of the proxying sidecar: with Host and path preserved the
/// request verifies; when nginx strips `/rewritten` it is refused, and the
/// debug line names `@path` with the value computed here, without the signature.
async fn rewriting_proxy_diagnosed(w: &World) -> Result<(), String> {
    let (status, body) = w.get("/preserved/orders", &[]).await?;
    ensure!(status == 200 && body["path"] == "/preserved/orders" && body["facts"]["keyid"] == "dev-2026", "preserving nginx: {status} {body}");
    let (status, body) = w.get("/rewritten/orders", &[]).await?;
    ensure!(status == 401 && body["reason"] == "bad_signature", "rewritten path: {status} {body}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let line = w.proxy_sidecar.lines().into_iter().rev().find(|l| l.contains("edge_verify_refused")).ok_or("no refusal logged")?;
    let log: Value = serde_json::from_str(&line).map_err(|e| format!("{e}: {line}"))?;
    let covered = &log["signatures"][0]["covered"];
    ensure!(covered["\"@path\""] == "/orders", "computed @path: {log}");
    ensure!(covered["\"@authority\""].as_str().is_some_and(|a| a.starts_with("127.0.0.1:")), "computed @authority: {log}");
    ensure!(!line.contains("=:"), "the signature itself is in the log: {line}");
    Ok(())
}

async fn start() -> Result<World, String> {
    let root = repo_root();
    let build = Command::new("cargo").args(["build", "-q", "-p", "edge-verify"]).current_dir(&root).status().map_err(|e| e.to_string())?;
    ensure!(build.success(), "cargo build -p edge-verify failed");
    let pkg = root.join("tests/js/node_modules/edge-origin-sdk/package.json");
    ensure!(pkg.exists(), "edge-origin-sdk is not installed in tests/js: run `bash origin-sdk/js/build.sh` then `npm install --no-save --prefix tests/js target/npm-package/edge-origin-sdk-0.1.0.tgz` (scripts/test.sh does)");

    let app = start_plain_app().await;
    let express_port = free_port();
    let node = std::env::var("NODE").unwrap_or_else(|_| "node".into());
    let mut express = Proc::spawn(
        Command::new(node)
            .arg(root.join("tests/js/express_app.js"))
            .env("PORT", express_port.to_string())
            .env("EDGE_VERIFY_KEYS", origin_keys()),
    )?;
    express.wait_for("listening on")?;
    let (auth_port, proxy_port) = (free_port(), free_port());
    let auth_sidecar = sidecar(&["auth-request"], auth_port)?;
    let proxy_sidecar = sidecar(&["proxy", "--upstream", &format!("http://127.0.0.1:{app}")], proxy_port)?;
    let (nginx_port, rewriting_port) = (free_port(), free_port());
    let dir = root.join(format!("target/e2e-nginx-{nginx_port}"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, nginx_conf(&dir, nginx_port, rewriting_port, auth_port, proxy_port, app)).map_err(|e| e.to_string())?;
    let nginx = Proc::spawn(Command::new("nginx").arg("-p").arg(&dir).arg("-c").arg(&conf))?;
    wait_port(nginx_port)?;

    let mut seed = [0u8; 32];
    seed[0] = 42;
    let ed = EdKey::from_bytes(&seed);
    let jwk = json!({"kty": "OKP", "kid": "ed1", "crv": "Ed25519", "x": b64(&ed.verifying_key().to_bytes())});
    let origin = |p: u16| json!({ "url": format!("http://127.0.0.1:{p}") });
    let rules = json!({
        "version": 1,
        "settings": {"default_origin": "express", "rules_ttl_seconds": 1},
        "origins": {"express": origin(express_port), "nginx": origin(nginx_port), "proxy": origin(proxy_port), "rewriting": origin(rewriting_port)},
        "phases": {
            "authenticate": [{"id": "me", "when": {"paths": ["/express/me", "/nginx/me", "/proxy/me"]}, "action": "jwt", "params": {
                "keys": {"jwks": {"keys": [jwk]}},
                "policy": {"issuers": [ISS], "audiences": [AUD], "forward": {"user_claim": "sub", "claims": ["tenant", "roles"]}}}}],
            "route": [
                {"id": "nginx", "when": {"paths": ["/nginx/*"]}, "action": "origin", "params": {"origin": "nginx"}},
                {"id": "proxy", "when": {"paths": ["/proxy/*"]}, "action": "origin", "params": {"origin": "proxy"}},
                {"id": "rewriting", "when": {"paths": ["/rewritten/*", "/preserved/*"]}, "action": "origin", "params": {"origin": "rewriting"}}
            ]
        }
    });
    let edge = Edge::start(&rules.to_string(), &format!("http://127.0.0.1:{express_port}"));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().map_err(|e| e.to_string())?;
    Ok(World {
        edge,
        http,
        ed,
        direct: vec![("express", express_port), ("nginx", nginx_port), ("proxy", proxy_port)],
        proxy_sidecar,
        _procs: vec![express, auth_sidecar, nginx],
    })
}

pub async fn run(report: &mut Report) {
    let w = match start().await {
        Ok(w) => w,
        Err(e) => {
            report.check("js_origins_start", async { Err::<(), String>(e) }).await;
            return;
        }
    };
    report.check("js_origins_facts_through_the_edge", facts_through_the_edge(&w)).await;
    report.check("js_origins_direct_requests_refused", direct_requests_refused(&w)).await;
    report.check("js_origins_forged_trust_headers_stripped", forged_trust_headers_stripped(&w)).await;
    report.check("js_origins_replay_refused", replay_refused(&w)).await;
    report.check("js_origins_rotated_key_accepted", rotated_key_accepted(&w)).await;
    report.check("js_origins_rewriting_proxy_diagnosed", rewriting_proxy_diagnosed(&w)).await;
}
