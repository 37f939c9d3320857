//! Python origins behind the edge: real FastAPI (uvicorn), Django (gunicorn)
//! and Flask (gunicorn with `--header-map dangerous`, so `X_Edge_User` and
//! `X-Edge-User` land in one environ key) apps from `origin-sdk/python/examples`,
//! verifying with the `edge-origin` wheel (`scripts/build-python.sh`).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http;
use base64ct::{Base64UrlUnpadded, Encoding};
use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{Algorithm, AlgorithmSignature};
use origin_sdk::{trust, Signer, SigningKey};
use serde_json::{json, Value};

use crate::ensure;
use crate::harness::{dev_keys, free_port, repo_root, Edge, Report};

const SECRET_NAME: &str = "JWT_HS256_SECRET";
const JWT_SECRET: &str = "python-origins-e2e-hs256-secret-0123456789";
const ISS: &str = "https://id.test";
const AUD: &str = "edge-api";
/// The key the origins also accept while the edge's key rotates.
const OLD_KEYID: &str = "old-2025";
const OLD_SEED: [u8; 32] = [0x25; 32];

fn now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A Python app server in its own process group, killed on drop.
struct PyOrigin {
    name: &'static str,
    port: u16,
    child: Child,
}

impl PyOrigin {
    fn start(name: &'static str, verify_keys: &str) -> PyOrigin {
        let port = free_port();
        let bind = format!("127.0.0.1:{port}");
        let port_arg = port.to_string();
        let args: Vec<String> = match name {
            "fastapi" => ["-m", "uvicorn", "fastapi_app:app", "--host", "127.0.0.1", "--port", port_arg.as_str(), "--log-level", "warning"]
                .map(String::from)
                .to_vec(),
            // One worker: the replay cache is per process.
            "django" => ["-m", "gunicorn", "django_app:application", "--bind", bind.as_str(), "--workers", "1", "--threads", "4"].map(String::from).to_vec(),
            _ => ["-m", "gunicorn", "flask_app:app", "--bind", bind.as_str(), "--workers", "1", "--header-map", "dangerous"].map(String::from).to_vec(),
        };
        let log = std::fs::File::create(repo_root().join(format!("target/e2e-python-{name}-{port}.log"))).expect("origin log file");
        let mut cmd = Command::new("python3");
        cmd.args(&args)
            .current_dir(repo_root().join("origin-sdk/python/examples"))
            .env("EDGE_VERIFY_KEYS", verify_keys)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().expect("spawn python origin");
        PyOrigin { name, port, child }
    }

    async fn wait_ready(&mut self, http: &reqwest::Client) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if let Ok(r) = http.get(self.url("/health")).send().await {
                if r.status() == 200 {
                    return Ok(());
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("{} exited ({status}); see target/e2e-python-{}-{}.log (is the wheel installed?)", self.name, self.name, self.port));
            }
            ensure!(start.elapsed() < Duration::from_secs(60), "{} not ready after 60 s", self.name);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for PyOrigin {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

struct World {
    edge: Edge,
    http: reqwest::Client,
    origins: Vec<PyOrigin>,
}

fn rules(origins: &[PyOrigin]) -> Value {
    let mut defs = serde_json::Map::new();
    let mut routes = Vec::new();
    let mut protected = Vec::new();
    for o in origins {
        defs.insert(o.name.to_string(), json!({ "url": format!("http://127.0.0.1:{}", o.port) }));
        routes.push(json!({ "id": o.name, "when": { "paths": [format!("/{}/*", o.name)] }, "action": "origin", "params": { "origin": o.name } }));
        protected.push(format!("/{}/api/*", o.name));
    }
    json!({
        "version": 1,
        "settings": { "default_origin": origins[0].name, "rules_ttl_seconds": 1 },
        "origins": defs,
        "phases": {
            "authenticate": [{ "id": "api-jwt", "when": { "paths": protected }, "action": "jwt", "params": {
                "keys": { "secrets": [{ "secret": SECRET_NAME, "alg": "HS256", "kid": "hs1" }] },
                "policy": { "issuers": [ISS], "audiences": [AUD], "forward": { "user_claim": "sub", "claims": ["tenant", "roles"] } } } }],
            "route": routes
        }
    })
}

fn token() -> String {
    let now = now_s();
    let header = json!({ "alg": "HS256", "kid": "hs1", "typ": "JWT" }).to_string();
    let claims = json!({ "sub": "user-42", "iss": ISS, "aud": AUD, "iat": now, "exp": now + 600, "tenant": "acme", "roles": ["buyer"] }).to_string();
    let input = format!("{}.{}", Base64UrlUnpadded::encode_string(header.as_bytes()), Base64UrlUnpadded::encode_string(claims.as_bytes()));
    let sig = Hs256.sign(&Hs256Key::new(JWT_SECRET.as_bytes()), input.as_bytes());
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&sig.as_bytes()))
}

/// The header list an app echoed: `[[name, value], ...]`.
fn echoed_headers(body: &Value) -> Vec<(String, String)> {
    body["headers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((p.get(0)?.as_str()?.to_string(), p.get(1)?.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// `(status, body)` of a response whose body is JSON (text otherwise).
async fn read(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

impl World {
    async fn via_edge(&self, path: &str, extra: &[(&str, &str)]) -> Result<(u16, Value), String> {
        let mut req = self
            .http
            .get(self.edge.url(path))
            .header("MF-CF-Blob", json!({ "country": "DE", "asn": 3320, "colo": "FRA", "clientAcceptEncoding": "" }).to_string())
            .header("CF-Connecting-IP", "198.51.100.7");
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        Ok(read(req.send().await.map_err(|e| format!("GET {path}: {e}"))?).await)
    }

    /// A request signed here as the edge would (key `key`), sent straight to
    /// the origin with `extra` headers added after signing.
    async fn signed_direct(&self, o: &PyOrigin, key: &SigningKey, path: &str, user: &str, extra: &[(&str, &str)]) -> Result<(u16, Value), String> {
        let mut req = http::Request::get(o.url(path)).body(()).map_err(|e| e.to_string())?;
        for name in trust::ALL {
            req.headers_mut().insert(name, http::HeaderValue::from_static(""));
        }
        req.headers_mut().insert(trust::USER, http::HeaderValue::from_str(user).map_err(|e| e.to_string())?);
        let nonce = format!("direct-{}-{}", o.name, SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
        Signer::new(key.clone()).sign(&mut req, now_s(), &nonce).map_err(|e| e.to_string())?;
        let mut out = self.http.get(o.url(path));
        for (k, v) in req.headers() {
            out = out.header(k.as_str(), v.as_bytes());
        }
        for (k, v) in extra {
            out = out.header(*k, *v);
        }
        Ok(read(out.send().await.map_err(|e| e.to_string())?).await)
    }
}

fn dev_signing_key() -> Result<SigningKey, String> {
    let spec = dev_keys().signing;
    let (keyid, b64) = spec.split_once(":ed25519:").ok_or("dev signing key spec")?;
    SigningKey::ed25519_from_base64(keyid, b64).map_err(|e| e.to_string())
}

async fn verified_facts_reach_app(w: &World, o: &PyOrigin) -> Result<(), String> {
    let bearer = format!("Bearer {}", token());
    let (status, body) = w.via_edge(&format!("/{}/api/orders?id=7", o.name), &[("authorization", &bearer)]).await?;
    ensure!(status == 200, "status {status}: {body}");
    ensure!(body["framework"] == o.name, "answered by {}", body["framework"]);
    let f = &body["facts"];
    ensure!(f["client_ip"] == "198.51.100.7" && f["country"] == "DE" && f["asn"] == 3320 && f["colo"] == "FRA", "network facts: {f}");
    ensure!(f["user"] == "user-42", "user: {f}");
    ensure!(f["claims"]["tenant"] == "acme" && f["claims"]["roles"] == json!(["buyer"]), "claims: {f}");
    ensure!(f["keyid"] == "dev-2026" && f["nonce"].is_string(), "signature facts: {f}");
    ensure!(body["path"] == format!("/{}/api/orders", o.name), "path: {}", body["path"]);
    Ok(())
}

async fn direct_request_refused(w: &World, o: &PyOrigin) -> Result<(), String> {
    let (status, body) = read(w.http.get(o.url("/api/orders")).header("x-edge-user", "admin").send().await.map_err(|e| e.to_string())?).await;
    ensure!(status == 401 && body["reason"] == "missing_signature", "direct: {status} {body}");
    Ok(())
}

async fn forged_trust_headers_never_reach_app(w: &World, o: &PyOrigin) -> Result<(), String> {
    let (status, body) = w.via_edge(&format!("/{}/forged", o.name), &[("x-edge-user", "admin"), ("x-edge-role", "admin"), ("x-edge-country", "XX")]).await?;
    ensure!(status == 200, "status {status}: {body}");
    ensure!(body["facts"]["user"].is_null() && body["facts"]["country"] == "DE", "forged facts: {}", body["facts"]);
    let headers = echoed_headers(&body);
    ensure!(!headers.iter().any(|(_, v)| v.contains("admin") || v == "XX"), "forged value reached the app: {headers:?}");
    // Signed request sent straight to the app, plus an uncovered trust header.
    let (status, body) = w.signed_direct(o, &dev_signing_key()?, "/extra", "alice", &[("x-edge-role", "admin")]).await?;
    ensure!(status == 200 && body["facts"]["user"] == "alice", "signed direct: {status} {body}");
    ensure!(!echoed_headers(&body).iter().any(|(n, _)| n.eq_ignore_ascii_case("x-edge-role")), "uncovered x-edge-role reached the app: {body}");
    Ok(())
}

async fn underscore_twin_never_reaches_app(w: &World, o: &PyOrigin) -> Result<(), String> {
    let leaked = |body: &Value| echoed_headers(body).iter().any(|(_, v)| v.contains("admin")) || body["facts"]["user"] == "admin";
    let (status, body) = w.via_edge(&format!("/{}/twin", o.name), &[("X_Edge_User", "admin")]).await?;
    ensure!((status == 200 || status == 401) && !leaked(&body), "through the edge: {status} {body}");
    let (status, body) = w.signed_direct(o, &dev_signing_key()?, "/twin", "alice", &[("X_Edge_User", "admin")]).await?;
    ensure!(!leaked(&body), "X_Edge_User reached the app: {status} {body}");
    if o.name == "flask" {
        // gunicorn --header-map dangerous joined both into HTTP_X_EDGE_USER: the signature breaks.
        ensure!(status == 401 && body["reason"] == "bad_signature", "merged twin: {status} {body}");
    } else {
        ensure!(status == 401 || (status == 200 && body["facts"]["user"] == "alice"), "twin: {status} {body}");
    }
    Ok(())
}

async fn replay_refused(w: &World, o: &PyOrigin) -> Result<(), String> {
    let (status, body) = w.via_edge(&format!("/{}/replay", o.name), &[]).await?;
    ensure!(status == 200, "first: {status} {body}");
    let mut again = w.http.get(o.url(&format!("/{}/replay", o.name)));
    for (k, v) in echoed_headers(&body) {
        if !["host", "content-length", "connection", "transfer-encoding"].contains(&k.to_ascii_lowercase().as_str()) {
            again = again.header(k, v);
        }
    }
    let (status, body) = read(again.send().await.map_err(|e| e.to_string())?).await;
    ensure!(status == 401 && body["reason"] == "replayed", "replay: {status} {body}");
    Ok(())
}

async fn rotated_keys_both_verify(w: &World, o: &PyOrigin) -> Result<(), String> {
    let old = SigningKey::ed25519_from_seed(OLD_KEYID, &OLD_SEED);
    let (status, body) = w.signed_direct(o, &old, "/rotated", "bob", &[]).await?;
    ensure!(status == 200 && body["facts"]["keyid"] == OLD_KEYID && body["facts"]["user"] == "bob", "old key: {status} {body}");
    let (status, body) = w.signed_direct(o, &dev_signing_key()?, "/rotated", "bob", &[]).await?;
    ensure!(status == 200 && body["facts"]["keyid"] == "dev-2026", "new key: {status} {body}");
    let retired = SigningKey::ed25519_from_seed("retired-2024", &[0x24; 32]);
    let (status, body) = w.signed_direct(o, &retired, "/rotated", "bob", &[]).await?;
    ensure!(status == 401 && body["reason"] == "unknown_keyid", "unlisted key: {status} {body}");
    Ok(())
}

/// The capture an app received through the edge verifies with the binding and
/// with the independent `http-message-signatures`; a tampered copy with neither.
async fn capture_verified_by_binding_and_independent(w: &World) -> Result<(), String> {
    let o = w.origins.iter().find(|o| o.name == "fastapi").ok_or("fastapi origin")?;
    let bearer = format!("Bearer {}", token());
    let (status, body) = w.via_edge("/fastapi/api/capture?check=1", &[("authorization", &bearer)]).await?;
    ensure!(status == 200, "capture: {status} {body}");
    let public = dev_keys().verify.split(':').nth(1).unwrap_or_default().to_string();
    let headers: Vec<Value> = echoed_headers(&body).into_iter().map(|(k, v)| json!([k, v])).collect();
    let capture = |headers: Vec<Value>| {
        json!({ "method": "GET", "url": format!("http://127.0.0.1:{}/fastapi/api/capture?check=1", o.port),
                "headers": headers, "public_key_b64": public, "keyid": "dev-2026" })
    };
    let run = |script: &str, input: &Value| -> Result<(bool, String), String> {
        let mut child = Command::new("python3")
            .arg(repo_root().join(script))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("python3: {e}"))?;
        use std::io::Write;
        child.stdin.take().ok_or("stdin")?.write_all(input.to_string().as_bytes()).map_err(|e| e.to_string())?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        Ok((out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))))
    };
    // Kept for inspection (and as the source of the SDK's recorded capture fixture).
    let _ = std::fs::write(repo_root().join("target/e2e-python-capture.json"), capture(headers.clone()).to_string());
    ensure!(body["facts"]["user"] == "user-42", "capture without the authenticated user: {}", body["facts"]);
    let tampered: Vec<Value> = headers
        .iter()
        .map(|p| if p[0] == "x-edge-user" { json!(["x-edge-user", "admin"]) } else { p.clone() })
        .collect();
    for script in ["tests/py/verify_capture.py", "origin-sdk/python/tests/verify_capture_native.py"] {
        let (ok, out) = run(script, &capture(headers.clone()))?;
        ensure!(ok && out.contains("verified"), "{script} refused the edge's capture: {out}");
        let (ok, out) = run(script, &capture(tampered.clone()))?;
        ensure!(!ok, "{script} verified a tampered capture: {out}");
    }
    Ok(())
}

pub async fn run(report: &mut Report) {
    let old_public = SigningKey::ed25519_from_seed(OLD_KEYID, &OLD_SEED).verifying_key().public_key_base64().unwrap_or_default();
    let verify_keys = format!("{OLD_KEYID}:{old_public},{}", dev_keys().verify);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client");
    let mut origins: Vec<PyOrigin> = ["fastapi", "django", "flask"].into_iter().map(|n| PyOrigin::start(n, &verify_keys)).collect();
    for o in origins.iter_mut() {
        let name = format!("python_origins::{}::starts", o.name);
        report.check(&name, o.wait_ready(&http)).await;
    }
    let edge = Edge::start_with_secrets(&rules(&origins).to_string(), &origins[0].url(""), &[(SECRET_NAME, JWT_SECRET)]);
    let w = World { edge, http, origins };
    for o in &w.origins {
        let n = o.name;
        report.check(&format!("python_origins::{n}::verified_facts_reach_app"), verified_facts_reach_app(&w, o)).await;
        report.check(&format!("python_origins::{n}::direct_request_refused"), direct_request_refused(&w, o)).await;
        report.check(&format!("python_origins::{n}::forged_trust_headers_never_reach_app"), forged_trust_headers_never_reach_app(&w, o)).await;
        report.check(&format!("python_origins::{n}::underscore_twin_never_reaches_app"), underscore_twin_never_reaches_app(&w, o)).await;
        report.check(&format!("python_origins::{n}::replay_refused"), replay_refused(&w, o)).await;
        report.check(&format!("python_origins::{n}::rotated_keys_both_verify"), rotated_keys_both_verify(&w, o)).await;
    }
    report.check("python_origins::capture_verified_by_binding_and_independent", capture_verified_by_binding_and_independent(&w)).await;
}
