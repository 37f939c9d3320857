//! The built `edge-rules` binary, run as CI and operators run it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_edge-rules");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn basic() -> String {
    workspace().join("examples/rules/basic.json").display().to_string()
}

/// A fresh directory under the system temp dir for one test.
fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("edge-rules-{}-{name}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).current_dir(workspace()).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json_out(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

const INVALID: &str = r#"{ "version": 1,
  "settings": { "default_origin": "nowhere" },
  "phases": { "filter": [
    { "id": "a", "action": "block", "when": { "ips": ["10.0.0.0/33"] } },
    { "id": "b", "action": "explode" } ] } }"#;

#[test]
fn check_exit_codes_and_paths() {
    let dir = temp_dir("check");
    let bad = write(&dir, "bad.json", INVALID);

    let ok = run(&["check", &basic()]);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert!(stdout(&ok).contains("ok (version 1"), "{ok:?}");

    let invalid = run(&["check", &bad]);
    assert_eq!(invalid.status.code(), Some(1));
    let out = stdout(&invalid);
    for path in ["$.settings.default_origin:", "$.phases.filter[0].when.ips[0]:", "$.phases.filter[1].action:"] {
        assert!(out.contains(path), "missing {path} in {out}");
    }

    // One bad file among good ones fails the run; the JSON names every fault.
    let both = run(&["check", "--json", &basic(), &bad]);
    assert_eq!(both.status.code(), Some(1));
    let v = json_out(&both);
    assert_eq!(v[0]["valid"], true);
    assert_eq!(v[1]["valid"], false);
    let paths: Vec<&str> = v[1]["errors"].as_array().unwrap().iter().filter_map(|e| e["path"].as_str()).collect();
    assert_eq!(paths, ["$.settings.default_origin", "$.phases.filter[0].when.ips[0]", "$.phases.filter[1].action"]);

    // Syntax errors carry a path too.
    let syntax = write(&dir, "syntax.json", r#"{"version":1,"settings":{"rules_ttl_seconds":"x"}}"#);
    let o = run(&["check", &syntax]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("$.settings.rules_ttl_seconds"), "{o:?}");

    assert_eq!(run(&["check", "/nonexistent/rules.json"]).status.code(), Some(2));
    assert_eq!(run(&["check"]).status.code(), Some(2));
    assert_eq!(run(&["check", "--bogus", &basic()]).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn explain_a_blocked_request_names_the_rule() {
    let o = run(&["explain", &basic(), "--request", "GET https://shop.example/.env"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = stdout(&o);
    assert!(text.contains("filter       block      rule no-dotfiles"), "{text}");
    assert!(text.contains("decision: respond 404 at the edge by rule no-dotfiles"), "{text}");
    assert!(!text.contains("trust headers"), "nothing is forwarded: {text}");

    // Outside the office network /admin is refused; inside it is forwarded.
    let v = json_out(&run(&["explain", &basic(), "--json", "--request", "GET https://shop.example/admin/users", "--ip", "198.51.100.7"]));
    assert_eq!(v["decision"]["type"], "respond");
    assert_eq!(v["decision"]["status"], 403);
    assert_eq!(v["decision"]["rule"], "admin-only-from-office");
    let filter = v["phases"].as_array().unwrap().iter().find(|p| p["phase"] == "filter").unwrap();
    assert_eq!(filter["rule"], "admin-only-from-office");
    let v = json_out(&run(&["explain", &basic(), "--json", "--request", "GET https://shop.example/admin/users", "--ip", "203.0.113.7"]));
    assert_eq!(v["decision"]["type"], "forward");
}

#[test]
fn explain_a_forwarded_request_shows_upstream_and_trust_headers() {
    let dir = temp_dir("explain");
    let doc = write(
        &dir,
        "routes.json",
        r#"{ "version": 1, "settings": { "default_origin": "app" },
          "origins": { "app": { "url": "https://app.internal" }, "api": { "url": "https://api.internal/v2" } },
          "phases": { "route": [ { "id": "api-host", "when": { "hosts": ["api.example.com"] },
                                   "action": "origin", "params": { "origin": "api" } } ] } }"#,
    );
    let o = run(&[
        "explain", &doc, "--json",
        "--request", "POST https://api.example.com/orders?id=7",
        "-H", "X-Edge-Country: XX",
        "-H", "Content-Type: application/json",
        "--ip", "203.0.113.7",
        "--cf", r#"{"country":"DE","asn":3320,"colo":"FRA"}"#,
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v = json_out(&o);
    assert_eq!(v["decision"], json!({ "type": "forward", "origin": "api", "url": "https://api.internal/v2/orders?id=7", "rule": "api-host" }));
    let t = &v["trust_headers"];
    assert_eq!(t["x-edge-client-ip"], "203.0.113.7");
    assert_eq!(t["x-edge-country"], "DE", "the client's own x-edge-country never wins");
    assert_eq!(t["x-edge-asn"], "3320");
    assert_eq!(t["x-edge-colo"], "FRA");
    assert_eq!(t["x-edge-user"], "");
    let route = v["phases"].as_array().unwrap().iter().find(|p| p["phase"] == "route").unwrap();
    assert_eq!(route["rule"], "api-host");

    let text = stdout(&run(&["explain", &doc, "--request", "GET https://www.example.com/", "--ip", "203.0.113.7"]));
    assert!(text.contains("decision: forward to origin app (default origin)"), "{text}");
    assert!(text.contains("upstream: GET https://app.internal/"), "{text}");
    assert!(text.contains("x-edge-client-ip: 203.0.113.7"), "{text}");

    assert_eq!(run(&["explain", &doc]).status.code(), Some(2), "--request is required");
    assert_eq!(run(&["explain", &doc, "--request", "GET not-a-url"]).status.code(), Some(2));
    assert_eq!(run(&["explain", &doc, "--request", "GET https://a.example/", "--cf", "{"]).status.code(), Some(2));
}

#[test]
fn replay_counts_outcomes_and_rules() {
    let dir = temp_dir("replay");
    let requests = write(
        &dir,
        "requests.jsonl",
        r#"{"method":"GET","url":"https://shop.example/","ip":"198.51.100.1","cf":{"country":"DE","colo":"FRA"}}
{"method":"GET","url":"https://shop.example/.env"}
{"url":"https://shop.example/.git/config"}
{"url":"https://shop.example/admin/x","ip":"203.0.113.9","headers":{"cookie":"a=b"}}
{"url":"https://shop.example/admin/x","ip":"198.51.100.9","headers":[["accept","*/*"]]}

not json
{"url":"https://shop.example/a","ip":"not-an-ip"}
"#,
    );
    let o = run(&["replay", &basic(), &requests, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v = json_out(&o);
    assert_eq!(v["requests"], 5);
    assert_eq!(v["skipped"], 2);
    assert_eq!(v["outcomes"], json!({ "forward app": 2, "respond 403": 1, "respond 404": 2 }));
    assert_eq!(v["rules"]["no-dotfiles"], json!({ "filter block": 2 }));
    assert_eq!(v["rules"]["admin-only-from-office"], json!({ "filter block": 1 }));
    assert_eq!(v["rules"]["security-headers"], json!({ "respond headers": 5 }));
    assert_eq!(v["actions"]["route default"], 2);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(":7: skipped") && stderr.contains(":8: skipped"), "{stderr}");

    let text = stdout(&run(&["replay", &basic(), &requests]));
    assert!(text.contains("5 requests (2 lines skipped)"), "{text}");
    assert_eq!(run(&["replay", &basic(), "/nonexistent.jsonl"]).status.code(), Some(2));
}

#[test]
fn diff_reports_rule_by_rule() {
    let dir = temp_dir("diff");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(basic()).unwrap()).unwrap();
    doc["settings"]["rules_ttl_seconds"] = json!(60);
    doc["origins"]["api"] = json!({ "url": "https://api.internal" });
    let filter = doc["phases"]["filter"].as_array_mut().unwrap();
    filter.swap(0, 1);
    filter[0]["when"]["ips"] = json!(["!203.0.113.0/24", "!198.51.100.0/24"]);
    filter.push(json!({ "id": "no-wp", "when": { "paths": ["/wp-admin/*"] }, "action": "block" }));
    doc["phases"]["respond"] = json!([]);
    let new = write(&dir, "new.json", &doc.to_string());

    let o = run(&["diff", &basic(), &new, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v = json_out(&o);
    assert_eq!(v["settings"], json!([{ "field": "settings.rules_ttl_seconds", "old": 2, "new": 60 }]));
    assert_eq!(v["origins"]["added"], json!([{ "name": "api", "url": "https://api.internal" }]));
    let f = &v["phases"]["filter"];
    assert_eq!(f["added"], json!([{ "id": "no-wp", "index": 2, "action": "block" }]));
    assert_eq!(f["changed"][0]["id"], "admin-only-from-office");
    assert_eq!(f["changed"][0]["changes"][0]["field"], "when.ips");
    assert_eq!(f["reordered"], true);
    assert_eq!(v["phases"]["respond"]["removed"], json!([{ "id": "security-headers", "action": "headers" }]));
    assert!(v["phases"].get("route").is_none(), "unchanged phases are left out");

    let text = stdout(&run(&["diff", &basic(), &new]));
    assert!(text.contains("+ filter rule no-wp"), "{text}");
    assert!(text.contains("- respond rule security-headers"), "{text}");
    assert!(text.contains("~ filter rule admin-only-from-office: when.ips:"), "{text}");
    assert_eq!(stdout(&run(&["diff", &basic(), &basic()])).trim(), "no changes");

    // An invalid NEW is still compared, but the run fails.
    let bad = write(&dir, "bad.json", INVALID);
    let o = run(&["diff", &basic(), &bad]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("$.phases.filter[1].action"), "{o:?}");
    assert_eq!(run(&["diff", &basic()]).status.code(), Some(2));
}

/// A stand-in for wrangler that records its arguments.
fn fake_wrangler(dir: &Path) -> (String, PathBuf) {
    let marker = dir.join("wrangler-args");
    // Records every call; answers `kv key list` with an empty list.
    let script = write(dir, "wrangler.sh", &format!("#!/bin/sh\necho \"$@\" >> {}\ncase \"$*\" in *\"key list\"*) echo '[]';; esac\n", marker.display()));
    (format!("sh {script}"), marker)
}

#[test]
fn push_refuses_an_invalid_document_without_calling_wrangler() {
    let dir = temp_dir("push-invalid");
    let bad = write(&dir, "bad.json", INVALID);
    let (wrangler, marker) = fake_wrangler(&dir);
    let o = Command::new(BIN).args(["push", &bad, "--local"]).env("EDGE_RULES_WRANGLER", &wrangler).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(stdout(&o).contains("$.phases.filter[0].when.ips[0]"), "{o:?}");
    assert!(!marker.exists(), "wrangler must not run for an invalid document");

    let o = Command::new(BIN).args(["push", &basic(), "--env", "staging", "--remote"]).env("EDGE_RULES_WRANGLER", &wrangler).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let calls = std::fs::read_to_string(&marker).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 3, "put rules, put history, list history: {calls:?}");
    assert!(calls[0].starts_with("kv key put rules --path ") && calls[0].ends_with(" --binding RULES --env staging --remote"), "{calls:?}");
    assert!(calls[1].starts_with("kv key put rules.history."), "{calls:?}");
    assert!(calls[2].starts_with("kv key list --prefix rules.history. --binding RULES --env staging --remote"), "{calls:?}");

    assert_eq!(run(&["push", &basic(), "--local", "--remote"]).status.code(), Some(2));
}

#[test]
fn push_local_puts_the_document_into_kv() {
    let dir = temp_dir("push-local");
    let persist = dir.join("state").display().to_string();
    let doc = std::fs::read_to_string(basic()).unwrap();
    let o = run(&["push", &basic(), "--local", "--persist-to", &persist]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let got = Command::new("npx")
        .args(["wrangler", "kv", "key", "get", "rules", "--binding", "RULES", "--local", "--persist-to", &persist, "--text"])
        .current_dir(workspace())
        .output()
        .unwrap();
    assert!(got.status.success(), "{got:?}");
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), doc.trim());
}

/// The worked example of docs/nginx-migration.md does what the table says.
#[test]
fn nginx_migration_example_behaves_as_documented() {
    let doc = workspace().join("examples/rules/nginx-migration.json").display().to_string();
    assert_eq!(run(&["check", &doc]).status.code(), Some(0));
    let decide = |request: &str, ip: &str| -> (String, Value, Value) {
        let v = json_out(&run(&["explain", &doc, "--json", "--request", request, "--ip", ip]));
        let d = &v["decision"];
        let what = match d["type"].as_str() {
            Some("forward") => format!("forward {}", d["origin"].as_str().unwrap_or_default()),
            _ => format!("respond {}", d["status"]),
        };
        (what, d["rule"].clone(), v["decision"]["url"].clone())
    };
    let office = "203.0.113.5";
    let home = "198.51.100.5";
    assert_eq!(decide("GET https://www.example.com/", home).0, "forward app");
    assert_eq!(decide("GET https://www.example.com/admin/users", office).0, "forward app");
    assert_eq!(decide("GET https://www.example.com/admin/users", home), ("respond 403".into(), json!("admin-office-only"), Value::Null));
    assert_eq!(decide("GET https://www.example.com/", "192.0.2.1").1, json!("deny-scanner-net"));
    assert_eq!(decide("GET https://www.example.com/app/.htaccess", home), ("respond 404".into(), json!("no-dotfiles"), Value::Null));
    assert_eq!(decide("GET https://api.example.com/users", home), ("forward api".into(), json!("api-host"), json!("http://10.0.0.20:8080/v1/users")));
    assert_eq!(decide("GET https://www.example.com/api/users", home).1, json!("api-path"));
}

#[test]
fn check_summary_counts_errors_in_words_on_its_own_line() {
    let dir = temp_dir("summary");
    let one = write(&dir, "one.json", r#"{"version":1,"phases":{"filter":[{"id":"x","action":"explode"}]}}"#);
    let o = run(&["check", &one]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).ends_with(&format!("{one}: invalid (1 error)\n")), "{:?}", stdout(&o));
    let three = write(&dir, "three.json", INVALID);
    assert!(stdout(&run(&["check", &three])).ends_with(&format!("{three}: invalid (3 errors)\n")));
}

#[test]
fn clap_help_errors_and_completions() {
    for cmd in ["check", "explain", "replay", "diff", "push", "status", "rollout", "history", "rollback", "schema", "completions"] {
        let o = run(&[cmd, "--help"]);
        assert_eq!(o.status.code(), Some(0), "{cmd} --help: {o:?}");
        assert!(stdout(&o).contains("Usage: edge-rules "), "{cmd} --help: {}", stdout(&o));
    }
    let o = run(&["check", "--bogus", &basic()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("'--bogus'"), "the error names the flag: {o:?}");
    let o = run(&["explain", &basic()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--request"), "the error names the missing flag: {o:?}");
    let o = run(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("edge-rules") && stdout(&o).contains("complete"), "not a bash completion script");
}
