//! `edge-rules status | rollout | history | rollback` and `push`'s history
//! against a real local KV namespace (`wrangler … --local --persist-to DIR`),
//! with a clear error for each misuse.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use edge::lifecycle::status::{Report, StatusDoc};
use edge::lifecycle::{doc_hash, history};

const BIN: &str = env!("CARGO_BIN_EXE_edge-rules");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One local KV namespace and the files of one test.
struct Local {
    dir: PathBuf,
    persist: String,
}

impl Local {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("edge-rules-lifecycle-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let persist = dir.join("state").display().to_string();
        Self { dir, persist }
    }

    fn file(&self, name: &str, text: &str) -> String {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    /// `edge-rules ARGS --local --persist-to DIR`
    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN).args(args).args(["--local", "--persist-to", &self.persist]).current_dir(workspace()).output().unwrap()
    }

    fn wrangler(&self, args: &[&str]) -> Output {
        let out = Command::new("npx")
            .arg("wrangler")
            .args(["kv", "key"])
            .args(args)
            .args(["--binding", "RULES", "--local", "--persist-to", &self.persist])
            .current_dir(workspace())
            .env("WRANGLER_SEND_METRICS", "false")
            .output()
            .unwrap();
        assert!(out.status.success(), "wrangler {args:?}: {out:?}");
        out
    }

    fn get(&self, key: &str) -> Vec<u8> {
        self.wrangler(&["get", key]).stdout
    }

    fn put(&self, key: &str, text: &str) {
        let f = self.file("put.tmp", text);
        self.wrangler(&["put", key, "--path", &f]);
    }

    fn keys(&self, prefix: &str) -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(&self.wrangler(&["list", "--prefix", prefix]).stdout).unwrap();
        v.as_array().unwrap().iter().filter_map(|k| k["name"].as_str().map(str::to_string)).collect()
    }
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn doc(marker: &str) -> String {
    format!(
        r#"{{ "version": 1, "settings": {{ "default_origin": "app" }},
  "origins": {{ "app": {{ "url": "https://app.internal" }} }},
  "phases": {{ "filter": [ {{ "id": "{marker}", "when": {{ "paths": ["/{marker}"] }}, "action": "block" }} ] }} }}
"#
    )
}

const INVALID: &str = r#"{ "version": 1, "phases": { "filter": [ { "id": "x", "action": "explode" } ] } }"#;

#[test]
fn push_history_and_rollback() {
    let kv = Local::new("history");
    let (a, b, c) = (doc("a"), doc("b"), doc("c"));
    let o = kv.run(&["history"]);
    assert!(o.status.success() && text(&o).contains("no history"), "{}", text(&o));
    let o = kv.run(&["rollback"]);
    assert_eq!(o.status.code(), Some(2), "nothing to roll back to: {}", text(&o));
    assert!(text(&o).contains("no history"), "{}", text(&o));

    for d in [&a, &b, &c] {
        let o = kv.run(&["push", &kv.file("doc.json", d), "--keep", "2"]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains(&doc_hash(d.as_bytes())), "push names the hash: {}", text(&o));
    }
    // --keep 2: the oldest push is gone.
    let kept = history::entries(&kv.keys(history::PREFIX));
    let hashes: Vec<&str> = kept.iter().map(|e| e.hash.as_str()).collect();
    assert_eq!(hashes, [doc_hash(c.as_bytes()), doc_hash(b.as_bytes())]);
    let listing = text(&kv.run(&["history"]));
    assert!(listing.contains(&format!("{}  (current)", doc_hash(c.as_bytes()))), "{listing}");

    let o = kv.run(&["rollback"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(kv.get("rules"), b.as_bytes(), "the previous document, byte for byte");

    let o = kv.run(&["rollback", "deadbeef"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no kept document has hash \"deadbeef\""), "{}", text(&o));

    // A kept document that no longer validates (an older schema) is refused.
    let old = history::key(1, &doc_hash(INVALID.as_bytes()));
    kv.put(&old, INVALID);
    let o = kv.run(&["rollback", &doc_hash(INVALID.as_bytes())]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("no longer validates") && text(&o).contains("$.phases.filter[0].action"), "{}", text(&o));
    assert_eq!(kv.get("rules"), b.as_bytes(), "an invalid target leaves KV alone");

    let o = kv.run(&["rollback", &doc_hash(c.as_bytes())[..6]]);
    assert!(o.status.success(), "by hash prefix: {}", text(&o));
    assert_eq!(kv.get("rules"), c.as_bytes());
}

#[test]
fn rollout_start_status_promote_abort() {
    let kv = Local::new("rollout");
    for cmd in ["status", "promote", "abort"] {
        let o = kv.run(&["rollout", cmd]);
        assert_eq!(o.status.code(), Some(2), "rollout {cmd} without a candidate: {}", text(&o));
        assert!(text(&o).contains("no candidate"), "{}", text(&o));
    }
    let cand = doc("cand");
    let file = kv.file("cand.json", &cand);
    let o = kv.run(&["rollout", "start", &file]);
    assert_eq!(o.status.code(), Some(2), "who gets it must be said: {}", text(&o));
    assert!(text(&o).contains("--percent"), "{}", text(&o));
    let o = kv.run(&["rollout", "start", &file, "--percent", "150"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--percent"), "{}", text(&o));
    let o = kv.run(&["rollout", "start", &kv.file("bad.json", INVALID), "--percent", "5"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    let o = kv.run(&["rollout", "start", &file, "--percent", "5", "--colo", "fra"]);
    assert!(o.status.success(), "{}", text(&o));
    let next: serde_json::Value = serde_json::from_slice(&kv.get("rules.next")).unwrap();
    assert_eq!(next["percent"], 5.0);
    assert_eq!(next["colos"], serde_json::json!(["FRA"]));
    assert_eq!(next["document"], cand.as_str());
    let o = kv.run(&["rollout", "status"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(&doc_hash(cand.as_bytes())) && text(&o).contains("5% of clients in FRA"), "{}", text(&o));

    let o = kv.run(&["rollout", "promote"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(kv.get("rules"), cand.as_bytes(), "promote puts the candidate's bytes under rules");
    assert!(kv.keys("rules.next").is_empty(), "promote ends the rollout");
    assert!(history::entries(&kv.keys(history::PREFIX)).iter().any(|e| e.hash == doc_hash(cand.as_bytes())), "promote keeps history");

    kv.run(&["rollout", "start", &file, "--colo", "AMS"]);
    let o = kv.run(&["rollout", "abort"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(kv.keys("rules.next").is_empty());
}

#[test]
fn status_prints_what_the_edge_wrote() {
    let kv = Local::new("status");
    let o = kv.run(&["status"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no status yet"), "{}", text(&o));

    // What the edge's status writer puts there for a rejected document.
    let errors = edge::rules::parse(INVALID.as_bytes()).unwrap_err();
    let status = StatusDoc { current: Some(Report::rejected("00ff00ff00ff00ff", &errors, "1234123412341234", 0)), candidate: None };
    kv.put("rules.status", &status.to_json());
    let o = kv.run(&["status"]);
    assert_eq!(o.status.code(), Some(1), "a rejected document fails the command: {}", text(&o));
    let out = text(&o);
    for want in ["rejected 00ff00ff00ff00ff", "$.phases.filter[0].action", "serving instead: 1234123412341234", "candidate: none"] {
        assert!(out.contains(want), "missing {want:?} in {out}");
    }
    let o = kv.run(&["status", "--json"]);
    let back: StatusDoc = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(back, status);
}
