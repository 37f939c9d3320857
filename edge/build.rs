//! With the `owasp-crs` feature: copies the vendored CRS files (`crs/`) into
//! `OUT_DIR` without their comment and blank lines and their log-only actions
//! (`msg`, `logdata`, `ver`), for `src/waf/crs/bundle.rs`
//! to embed. Comments are two thirds of CRS's text and a sixth of the gzipped
//! worker; SecLang and the word lists ignore them, and the files in `crs/`
//! stay byte for byte as published.

use std::path::Path;
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-changed=crs");
    if env::var_os("CARGO_FEATURE_OWASP_CRS").is_none() {
        return;
    }
    let (Some(out), Some(dir)) = (env::var_os("OUT_DIR"), env::var_os("CARGO_MANIFEST_DIR")) else {
        panic!("cargo sets OUT_DIR and CARGO_MANIFEST_DIR");
    };
    let out = Path::new(&out).join("crs");
    fs::create_dir_all(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    let crs = Path::new(&dir).join("crs");
    let mut files = vec![crs.join("crs-setup.conf.example")];
    let rules = fs::read_dir(crs.join("rules")).unwrap_or_else(|e| panic!("crs/rules: {e}"));
    files.extend(rules.filter_map(|e| Some(e.ok()?.path())).filter(|p| p.extension().is_some_and(|x| x == "conf" || x == "data")));
    for file in files {
        let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let Some(name) = file.file_name() else { continue };
        fs::write(out.join(name), without_comments(&text)).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    }
}

/// `text` without the lines that are blank or start with `#` — except inside
/// a directive continued with a trailing backslash, where a line is content —
/// and without the action lines only a log reads (see [`log_only_action`]).
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len() / 2);
    let mut continued = false;
    for line in text.lines() {
        let t = line.trim_start();
        if !continued && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        continued = line.trim_end().ends_with('\\');
        if continued && log_only_action(t.trim_end()) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A continued line holding one `msg`, `logdata` or `ver` action and nothing
/// else (`msg:'…',\`). These only feed ModSecurity's audit log: the edge logs
/// rule ids, and no CRS rule reads them back (`%{rule.msg}`), so the worker
/// need not carry them (~100 KB of the rule text).
fn log_only_action(line: &str) -> bool {
    let Some(rest) = ["msg:'", "logdata:'", "ver:'"].iter().find_map(|p| line.strip_prefix(p)) else { return false };
    let Some(value) = rest.strip_suffix("',\\") else { return false };
    // One quoted value: no unescaped quote inside it.
    let mut escaped = false;
    value.chars().all(|c| {
        let ok = escaped || c != '\'';
        escaped = !escaped && c == '\\';
        ok
    })
}
