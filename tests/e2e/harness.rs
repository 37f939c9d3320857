//! Starts real parts for the end-to-end checks: example origins (axum, on
//! loopback ports) and the worker under workerd via `wrangler dev`, with rules
//! put into its local KV by `wrangler kv key put`, as an operator would.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use origin_sdk::{EdgeAuthLayer, KeySet, Verifier};

/// The public development key pair of `examples/dev-keys.env`.
pub struct DevKeys {
    pub signing: String,
    pub verify: String,
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn dev_keys() -> DevKeys {
    let text = std::fs::read_to_string(repo_root().join("examples/dev-keys.env")).expect("examples/dev-keys.env");
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k} in dev-keys.env"))
            .to_string()
    };
    DevKeys { signing: get("EDGE_SIGNING_KEY"), verify: get("EDGE_VERIFY_KEYS") }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// Serves `app` on a free loopback port until the test process ends.
pub async fn serve(app: axum::Router) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback server");
    let port = listener.local_addr().expect("server addr").port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    port
}

/// A JWKS endpoint (`/jwks.json`) on a loopback port whose document a test
/// swaps (a rotated key, junk); counts the fetches.
#[derive(Clone, Default)]
pub struct JwksServer {
    doc: Arc<Mutex<String>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    pub async fn start(doc: &str) -> (Self, u16) {
        let s = Self::default();
        s.serve(doc);
        let app = axum::Router::new()
            .route(
                "/jwks.json",
                axum::routing::get(|axum::extract::State(s): axum::extract::State<JwksServer>| async move {
                    s.hits.fetch_add(1, Ordering::SeqCst);
                    let body = s.doc.lock().map(|d| d.clone()).unwrap_or_default();
                    ([("content-type", "application/json")], body)
                }),
            )
            .with_state(s.clone());
        (s.clone(), serve(app).await)
    }

    /// From now on `/jwks.json` answers `doc`.
    pub fn serve(&self, doc: &str) {
        if let Ok(mut d) = self.doc.lock() {
            *d = doc.to_string();
        }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// An example origin on a loopback port, verifying the dev key.
pub async fn start_origin(name: &str, layer: impl FnOnce(Verifier) -> EdgeAuthLayer) -> u16 {
    let keys = KeySet::from_spec(&dev_keys().verify).expect("dev verify keys");
    let app = example_origin::router_with_layer(name.to_string(), layer(Verifier::new(keys)));
    serve(app).await
}

/// `wrangler dev` running the worker; killed (with its process group) on drop.
pub struct Edge {
    child: Child,
    pub port: u16,
    pub persist: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
}

fn npx(args: &[&str]) -> Command {
    let mut c = Command::new("npx");
    c.args(args)
        .current_dir(repo_root())
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("NO_COLOR", "1");
    c
}

impl Edge {
    /// Puts `rules` into a fresh local KV, then starts the worker and waits
    /// until it answers.
    pub fn start(rules: &str, default_origin: &str) -> Edge {
        Self::start_with_secrets(rules, default_origin, &[])
    }

    /// Like [`Edge::start`], with extra Worker secrets (`NAME`, `value`) in
    /// the run's env file.
    pub fn start_with_secrets(rules: &str, default_origin: &str, secrets: &[(&str, &str)]) -> Edge {
        Self::start_with_config(rules, default_origin, secrets, None)
    }

    /// Like [`Edge::start_with_secrets`] with another wrangler config (e.g. one
    /// lacking a binding, to see the edge without it).
    pub fn start_with_config(rules: &str, default_origin: &str, secrets: &[(&str, &str)], config: Option<&Path>) -> Edge {
        Self::start_with_args(rules, default_origin, secrets, config, &[])
    }

    /// Like [`Edge::start_with_config`] with extra `wrangler dev` arguments
    /// (`--upstream-protocol https`: the worker sees https:// URLs).
    pub fn start_with_args(rules: &str, default_origin: &str, secrets: &[(&str, &str)], config: Option<&Path>, extra: &[&str]) -> Edge {
        let port = free_port();
        let persist = repo_root().join(format!("target/e2e-state-{port}"));
        let _ = std::fs::remove_dir_all(&persist);
        let vars = repo_root().join(format!("target/e2e-dev-vars-{port}"));
        let mut env_file = format!("EDGE_SIGNING_KEY={}\n", dev_keys().signing);
        for (name, value) in secrets {
            env_file.push_str(&format!("{name}={value}\n"));
        }
        std::fs::write(&vars, env_file).expect("write dev vars");
        let edge = {
            let mut cmd = npx(&[
                "wrangler", "dev", "--ip", "127.0.0.1", "--port", &port.to_string(),
                "--inspector-port", &free_port().to_string(),
                "--persist-to", persist.to_str().expect("utf-8 path"),
                "--env-file", vars.to_str().expect("utf-8 path"),
                "--var", &format!("DEFAULT_ORIGIN:{default_origin}"),
                "--show-interactive-dev-session=false",
            ]);
            if let Some(config) = config {
                cmd.args(["--config", config.to_str().expect("utf-8 path")]);
            }
            cmd.args(extra);
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            let mut child = cmd.spawn().expect("spawn wrangler dev");
            let log = Arc::new(Mutex::new(Vec::new()));
            let file = repo_root().join(format!("target/e2e-wrangler-{port}.log"));
            for stream in [child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
                           child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>)].into_iter().flatten() {
                let log = log.clone();
                let file = file.clone();
                std::thread::spawn(move || {
                    use std::io::Write;
                    let mut out = std::fs::OpenOptions::new().create(true).append(true).open(file).ok();
                    for line in BufReader::new(stream).lines().map_while(Result::ok) {
                        if let Some(f) = out.as_mut() {
                            let _ = writeln!(f, "{line}");
                        }
                        if let Ok(mut l) = log.lock() {
                            l.push(line);
                        }
                    }
                });
            }
            Edge { child, port, persist, log }
        };
        edge.put_rules(rules);
        edge.wait_ready(Duration::from_secs(900));
        edge
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `wrangler kv key put rules` into this edge's local KV.
    pub fn put_rules(&self, rules: &str) {
        let file = self.persist.with_extension(format!("rules-{}.json", self.log_len()));
        std::fs::write(&file, rules).expect("write rules file");
        self.kv(&["put", "rules", "--path", file.to_str().expect("utf-8 path")]);
    }

    pub fn delete_rules(&self) {
        self.kv(&["delete", "rules"]);
    }

    fn kv(&self, args: &[&str]) {
        let mut all = vec!["wrangler", "kv", "key"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--binding", "RULES", "--local", "--persist-to", self.persist.to_str().expect("utf-8 path")]);
        let out = npx(&all).output().expect("run wrangler kv");
        assert!(out.status.success(), "wrangler kv {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn wait_ready(&self, limit: Duration) {
        let start = Instant::now();
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && self.logs().iter().any(|l| l.contains("Ready on"))
            {
                return;
            }
            assert!(start.elapsed() < limit, "wrangler dev not ready after {limit:?}; see target/e2e-wrangler-{}.log", self.port);
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    pub fn logs(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn log_len(&self) -> usize {
        self.log.lock().map(|l| l.len()).unwrap_or(0)
    }

    /// Log lines after index `from` that contain every needle.
    pub fn logs_since(&self, from: usize, needles: &[&str]) -> Vec<String> {
        self.logs().into_iter().skip(from).filter(|l| needles.iter().all(|n| l.contains(n))).collect()
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        // wrangler and workerd share the process group started for npx.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// Counts checks and prints one line each, libtest style.
#[derive(Debug, Default)]
pub struct Report {
    pub passed: usize,
    pub failed: usize,
}

impl Report {
    pub async fn check(&mut self, name: &str, fut: impl std::future::Future<Output = Result<(), String>>) {
        match fut.await {
            Ok(()) => {
                self.passed += 1;
                println!("test {name} ... ok");
            }
            Err(e) => {
                self.failed += 1;
                println!("test {name} ... FAILED\n    {e}");
            }
        }
    }
}
