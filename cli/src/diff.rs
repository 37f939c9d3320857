//! `edge-rules diff OLD NEW [--json]`: what changed, rule by rule. Both
//! documents are read as the edge reads them (defaults filled in), so a
//! setting written out with its default value is no change.

use std::collections::BTreeSet;

use edge::rules::RawDocument;
use serde_json::{json, Map, Value};

use crate::load::read;
use crate::outcome::{usage_error, Outcome};

/// What changed between two documents, rule by rule (defaults filled in).
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The document before.
    old: String,
    /// The document after.
    new: String,
    /// The changes as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: DiffArgs) -> Outcome {
    let DiffArgs { old: old_file, new: new_file, json: json_out } = args;
    let (old_file, new_file) = (&old_file, &new_file);
    let mut outcome = Outcome::Ok;
    let mut docs = Vec::new();
    for file in [old_file, new_file] {
        let bytes = match read(file) {
            Ok(b) => b,
            Err(e) => return usage_error(e),
        };
        // The full validation, for the verdict; the raw document, for the diff.
        if let Err(errors) = edge::rules::parse(&bytes) {
            for e in &errors.0 {
                eprintln!("{file}: {e}");
            }
            outcome = Outcome::Invalid;
        }
        match serde_json::from_slice::<RawDocument>(&bytes).map(serde_json::to_value) {
            Ok(Ok(v)) => docs.push(v),
            _ => {
                eprintln!("{file}: not a rules document; nothing to compare");
                return Outcome::Invalid;
            }
        }
    }
    let changes = diff(&docs[0], &docs[1]);
    if json_out {
        println!("{}", serde_json::to_string_pretty(&changes).unwrap_or_default());
    } else {
        print_text(&changes);
    }
    outcome
}

/// The changes from `old` to `new`, both serialized [`RawDocument`]s.
pub fn diff(old: &Value, new: &Value) -> Value {
    let mut settings = Vec::new();
    if old["version"] != new["version"] {
        settings.push(json!({ "field": "version", "old": old["version"], "new": new["version"] }));
    }
    for key in keys(&old["settings"], &new["settings"]) {
        let (o, n) = (&old["settings"][&key], &new["settings"][&key]);
        if o != n {
            settings.push(json!({ "field": format!("settings.{key}"), "old": o, "new": n }));
        }
    }

    let mut origins = json!({ "added": [], "removed": [], "changed": [] });
    for name in keys(&old["origins"], &new["origins"]) {
        let (o, n) = (&old["origins"][&name], &new["origins"][&name]);
        let entry = match (o.is_null(), n.is_null()) {
            (true, false) => ("added", json!({ "name": name, "url": n["url"] })),
            (false, true) => ("removed", json!({ "name": name, "url": o["url"] })),
            _ if o != n => ("changed", json!({ "name": name, "old": o["url"], "new": n["url"] })),
            _ => continue,
        };
        push(&mut origins[entry.0], entry.1);
    }

    let mut phases = Map::new();
    for phase in keys(&old["phases"], &new["phases"]) {
        let d = diff_phase(&old["phases"][&phase], &new["phases"][&phase]);
        if d != json!({ "added": [], "removed": [], "changed": [], "reordered": false }) {
            phases.insert(phase, d);
        }
    }
    json!({ "settings": settings, "origins": origins, "phases": phases })
}

fn diff_phase(old: &Value, new: &Value) -> Value {
    let rules = |v: &Value| -> Vec<(String, Value)> {
        v.as_array()
            .map(|a| a.iter().map(|r| (r["id"].as_str().unwrap_or_default().to_string(), r.clone())).collect())
            .unwrap_or_default()
    };
    let (old, new) = (rules(old), rules(new));
    let find = |list: &[(String, Value)], id: &str| list.iter().find(|(i, _)| i == id).map(|(_, r)| r.clone());
    let mut out = json!({ "added": [], "removed": [], "changed": [], "reordered": false });
    for (i, (id, rule)) in new.iter().enumerate() {
        match find(&old, id) {
            None => push(&mut out["added"], json!({ "id": id, "index": i, "action": rule["action"] })),
            Some(o) if &o != rule => {
                let mut changes = Vec::new();
                leaf_changes("", &o, rule, &mut changes);
                push(&mut out["changed"], json!({ "id": id, "changes": changes }));
            }
            Some(_) => {}
        }
    }
    for (id, rule) in &old {
        if find(&new, id).is_none() {
            push(&mut out["removed"], json!({ "id": id, "action": rule["action"] }));
        }
    }
    // First match wins in most phases: the order of the rules both keep matters.
    let common = |a: &[(String, Value)], b: &[(String, Value)]| -> Vec<String> {
        a.iter().filter(|(id, _)| b.iter().any(|(j, _)| j == id)).map(|(id, _)| id.clone()).collect()
    };
    let (old_order, new_order) = (common(&old, &new), common(&new, &old));
    if old_order != new_order {
        out["reordered"] = json!(true);
        out["old_order"] = json!(old_order);
        out["new_order"] = json!(new_order);
    }
    out
}

/// The fields that differ, descending into objects (`when.ips`, `params.set.x-frame-options`).
fn leaf_changes(prefix: &str, old: &Value, new: &Value, out: &mut Vec<Value>) {
    if let (Value::Object(_), Value::Object(_)) = (old, new) {
        for k in keys(old, new) {
            let (o, n) = (&old[&k], &new[&k]);
            if o != n {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                leaf_changes(&path, o, n, out);
            }
        }
    } else if old != new {
        out.push(json!({ "field": prefix, "old": old, "new": new }));
    }
}

fn keys(a: &Value, b: &Value) -> BTreeSet<String> {
    let names = |v: &Value| v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    names(a).into_iter().chain(names(b)).collect()
}

fn push(list: &mut Value, item: Value) {
    if let Some(a) = list.as_array_mut() {
        a.push(item);
    }
}

fn print_text(d: &Value) {
    let mut any = false;
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    for s in list(&d["settings"]) {
        println!("~ {}: {} -> {}", s["field"].as_str().unwrap_or_default(), s["old"], s["new"]);
        any = true;
    }
    for o in list(&d["origins"]["added"]) {
        println!("+ origins.{}: {}", o["name"].as_str().unwrap_or_default(), o["url"]);
        any = true;
    }
    for o in list(&d["origins"]["removed"]) {
        println!("- origins.{}: {}", o["name"].as_str().unwrap_or_default(), o["url"]);
        any = true;
    }
    for o in list(&d["origins"]["changed"]) {
        println!("~ origins.{}: {} -> {}", o["name"].as_str().unwrap_or_default(), o["old"], o["new"]);
        any = true;
    }
    if let Some(phases) = d["phases"].as_object() {
        for (phase, p) in phases {
            for r in list(&p["added"]) {
                println!("+ {phase} rule {} (action {}, position {})", r["id"].as_str().unwrap_or_default(), r["action"], r["index"]);
            }
            for r in list(&p["removed"]) {
                println!("- {phase} rule {} (action {})", r["id"].as_str().unwrap_or_default(), r["action"]);
            }
            for r in list(&p["changed"]) {
                let id = r["id"].as_str().unwrap_or_default();
                for c in list(&r["changes"]) {
                    println!("~ {phase} rule {id}: {}: {} -> {}", c["field"].as_str().unwrap_or_default(), c["old"], c["new"]);
                }
            }
            if p["reordered"] == json!(true) {
                println!("~ {phase}: order {} -> {}", p["old_order"], p["new_order"]);
            }
            any = true;
        }
    }
    if !any {
        println!("no changes");
    }
}
