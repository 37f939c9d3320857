//! The rules namespace in Workers KV, through wrangler (`kv key put/get/delete/list`),
//! local (`--local --persist-to DIR`) or remote, exactly as an operator would.
//!
//! The wrangler command is `npx wrangler` unless `EDGE_RULES_WRANGLER` names
//! another (split on whitespace), e.g. a pinned path.

use std::process::{Command, Output};

/// The KV binding the edge reads its documents from.
pub const BINDING: &str = "RULES";

/// Which KV namespace: the flags every KV command shares, passed to wrangler.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct KvTarget {
    /// wrangler environment (`[env.NAME]` in wrangler.toml).
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// Use the local KV of `wrangler dev`.
    #[arg(long, conflicts_with = "remote")]
    local: bool,
    /// Use the deployed namespace.
    #[arg(long)]
    remote: bool,
    /// Directory of the local state (with --local).
    #[arg(long, value_name = "DIR", conflicts_with = "remote")]
    persist_to: Option<String>,
    /// Path of wrangler.toml.
    #[arg(long, value_name = "PATH")]
    config: Option<String>,
}

/// A KV namespace reached through wrangler.
pub struct Kv {
    target: KvTarget,
}

impl Kv {
    pub fn new(target: KvTarget) -> Self {
        Self { target }
    }

    /// Writes `value` under `key` (through a temporary file: a document may hold
    /// anything, and an argument is not the place for it).
    pub fn put(&self, key: &str, value: &[u8]) -> Result<(), String> {
        let file = TempFile::new(value)?;
        self.put_file(key, &file.path)
    }

    /// Writes the file at `path` under `key`.
    pub fn put_file(&self, key: &str, path: &str) -> Result<(), String> {
        self.run(&["put", key, "--path", path])?;
        Ok(())
    }

    /// The value under `key`, or `None` when there is none.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        // `kv key get` prints "Value not found" for a missing key, which a
        // document could also say: listing by prefix tells the two apart.
        if !self.list(key)?.iter().any(|k| k == key) {
            return Ok(None);
        }
        Ok(Some(self.run(&["get", key])?.stdout))
    }

    pub fn delete(&self, key: &str) -> Result<(), String> {
        self.run(&["delete", key])?;
        Ok(())
    }

    /// Key names starting with `prefix`.
    pub fn list(&self, prefix: &str) -> Result<Vec<String>, String> {
        let mut cmd = self.wrangler()?;
        cmd.args(["kv", "key", "list", "--prefix", prefix, "--binding", BINDING]);
        self.target_args(&mut cmd);
        let out = output(cmd, "kv key list")?;
        let listed: Vec<serde_json::Value> =
            serde_json::from_slice(&out.stdout).map_err(|e| format!("wrangler kv key list: not a JSON list ({e})"))?;
        Ok(listed.iter().filter_map(|k| k["name"].as_str().map(str::to_string)).collect())
    }

    fn run(&self, args: &[&str]) -> Result<Output, String> {
        let mut cmd = self.wrangler()?;
        cmd.args(["kv", "key"]).args(args).args(["--binding", BINDING]);
        self.target_args(&mut cmd);
        output(cmd, &format!("kv key {} {}", args[0], args.get(1).copied().unwrap_or_default()))
    }

    fn wrangler(&self) -> Result<Command, String> {
        let wrangler = std::env::var("EDGE_RULES_WRANGLER").unwrap_or_else(|_| "npx wrangler".to_string());
        let mut words = wrangler.split_whitespace();
        let program = words.next().ok_or("EDGE_RULES_WRANGLER is empty")?;
        let mut cmd = Command::new(program);
        cmd.args(words).env("WRANGLER_SEND_METRICS", "false").env("NO_COLOR", "1");
        Ok(cmd)
    }

    fn target_args(&self, cmd: &mut Command) {
        let t = &self.target;
        if let Some(env) = &t.env {
            cmd.args(["--env", env]);
        }
        if t.local {
            cmd.arg("--local");
        }
        if t.remote {
            cmd.arg("--remote");
        }
        if let Some(dir) = &t.persist_to {
            cmd.args(["--persist-to", dir]);
        }
        if let Some(config) = &t.config {
            cmd.args(["--config", config]);
        }
    }
}

fn output(mut cmd: Command, what: &str) -> Result<Output, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    match cmd.output() {
        Ok(o) if o.status.success() => Ok(o),
        Ok(o) => Err(format!("wrangler {what} failed ({}): {}", o.status, String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => Err(format!("cannot run {program}: {e}")),
    }
}

/// A file removed on drop, for `kv key put --path`.
struct TempFile {
    path: String,
}

impl TempFile {
    fn new(bytes: &[u8]) -> Result<Self, String> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir()
            .join(format!("edge-rules-put-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)))
            .display()
            .to_string();
        std::fs::write(&path, bytes).map_err(|e| format!("{path}: cannot write: {e}"))?;
        Ok(Self { path })
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
