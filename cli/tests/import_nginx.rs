//! `edge-rules import nginx` against real configs: crossplane's parser test
//! configs (with the parses its tests expect), h5bp's production config with
//! its includes, and the three API configs in `examples/nginx/` (whose
//! translations are committed and must come out byte for byte the same).

use std::path::{Path, PathBuf};
use std::process::Command;

use edge_rules::import::nginx::{self, parse, report::Outcome, Filesystem, Options};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn corpus(rel: &str) -> PathBuf {
    root().join("tests/corpora/nginx").join(rel)
}

fn outline_of(rel: &str) -> String {
    let tree = parse::parse_file(&corpus(rel), &Filesystem).unwrap_or_else(|e| panic!("{rel}: {e}"));
    parse::outline(&tree)
}

#[test]
fn crossplane_expected_parses() {
    // tests/test_parse.py: test_includes_regular (combined), test_includes_globbed_combined.
    assert_eq!(
        outline_of("crossplane/tests/configs/includes-globbed/nginx.conf"),
        "events {}http {server {listen 8080;location /foo {return 200 foo;}location /bar {return 200 bar;}}\
         server {listen 8081;location /foo {return 200 foo;}location /bar {return 200 bar;}}}"
    );
    // test_includes_regular: relative to the main file's directory, so
    // conf.d/server.conf's `include bar.conf` is an error at its line 5.
    let e = parse::parse_file(&corpus("crossplane/tests/configs/includes-regular/nginx.conf"), &Filesystem).unwrap_err();
    assert!(e.to_string().starts_with("conf.d/server.conf:5:5: include file \"bar.conf\" not found"), "{e}");
    // test_comments_between_args: comments anywhere, escapes kept as nginx keeps them.
    assert_eq!(outline_of("crossplane/tests/configs/comments-between-args/nginx.conf"), "http {log_format \\#arg\\ 1 #arg 2;}");
    // test_config_without_comments (with-comments/nginx.conf).
    let with_comments = outline_of("crossplane/tests/configs/with-comments/nginx.conf");
    assert!(with_comments.starts_with("events {worker_connections 1024;}http {server {listen 127.0.0.1:8080;server_name default_server;location /"), "{with_comments}");
    // quoted-right-brace: a `}` inside quotes is text.
    let q = outline_of("crossplane/tests/configs/quoted-right-brace/nginx.conf");
    assert!(q.contains("log_format main escape=json { \"@timestamp\": \"$time_iso8601\", ") && q.ends_with("}';}") == false && q.ends_with("\"'}\";}") == false, "{q}");
    // empty-value-map: '' is an argument.
    assert_eq!(outline_of("crossplane/tests/configs/empty-value-map/nginx.conf"), "events {}http {map string $variable { $arg;*.example.com ;}}");
    // lua-block-tricky: Lua code is one raw argument; a directive named like a Lua block is not one.
    let lua = parse::parse_file(&corpus("crossplane/tests/configs/lua-block-tricky/nginx.conf"), &Filesystem).unwrap();
    let server = &lua[0].block.as_ref().unwrap()[0];
    let names: Vec<&str> = server.block.as_ref().unwrap().iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["listen", "server_name", "set_by_lua_block", "rewrite_by_lua_block"]);
    let set = &server.block.as_ref().unwrap()[2];
    assert_eq!(set.args[0], "$res");
    assert!(set.args[1].contains("return a + b;"), "{:?}", set.args);
    assert_eq!(lua[0].block.as_ref().unwrap()[1].args, ["content_by_lua_block"]);
}

#[test]
fn messy_quote_and_escape_rules() {
    let tree = parse::parse_file(&corpus("crossplane/tests/configs/messy/nginx.conf"), &Filesystem).unwrap();
    let http = tree.iter().find(|d| d.name == "http").unwrap();
    let servers: Vec<_> = http.block.as_ref().unwrap().iter().filter(|d| d.name == "server").collect();
    assert_eq!(servers.len(), 3);
    let locs: Vec<String> = servers[1].block.as_ref().unwrap().iter().filter(|d| d.name == "location").map(|d| d.args.join(" ")).collect();
    assert_eq!(locs, ["~ /hello/world;", "/foo", "/bar", "/\\{\\;\\}\\ #\\ ab", "/status.html", "/sta;\n                    tus", "/upstream_conf"]);
    let ret = &servers[0].block.as_ref().unwrap()[1];
    assert_eq!(ret.args[1], "Ser\" ' ' ver\\ \\ $server_addr:\\$server_port\n\nTime: $time_local\n\n");
    let quotes = parse::parse_file(&corpus("crossplane/tests/configs/quote-behavior/nginx.conf"), &Filesystem).unwrap();
    assert_eq!(quotes[0].name, "outer-quote");
    assert_eq!(quotes[0].args, ["left", "-quote", "right-\"quote\"", "inner\"-\"quote"]);
}

#[test]
fn broken_configs_name_file_line_and_column() {
    for (file, line) in [("broken-above.conf", 4), ("broken-below.conf", 7)] {
        let e = parse::parse_file(&corpus(&format!("crossplane/tests/configs/missing-semicolon/{file}")), &Filesystem).unwrap_err();
        assert_eq!(e.at.pos.line, line, "{e}");
        assert!(e.to_string().starts_with(&format!("{file}:{line}:")), "{e}");
        assert!(e.to_string().contains("\"proxy_pass\" is not terminated by \";\""), "{e}");
    }
    let tmp = std::env::temp_dir().join(format!("nginx-broken-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for (text, want) in [
        ("http {\n  server {\n", "nginx.conf:2:10: unexpected end of file"),
        ("events {}\n}\n", "nginx.conf:2:1: unexpected \"}\""),
        ("include missing.conf;\n", "nginx.conf:1:1: include file \"missing.conf\" not found"),
        ("log_format x 'open\n", "nginx.conf:1:14: unexpected end of file, expecting closing '"),
    ] {
        std::fs::write(tmp.join("nginx.conf"), text).unwrap();
        let e = parse::parse_file(&tmp.join("nginx.conf"), &Filesystem).unwrap_err().to_string();
        assert!(e.starts_with(want), "{text:?}: {e}");
    }
}

#[test]
fn every_corpus_config_parses_or_fails_with_a_position() {
    let mut parsed = 0;
    for dir in std::fs::read_dir(corpus("crossplane/tests/configs")).unwrap() {
        let dir = dir.unwrap().path();
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "conf") {
                match parse::parse_file(&f, &Filesystem) {
                    Ok(_) => parsed += 1,
                    Err(e) => assert!(
                        (dir.ends_with("missing-semicolon") || dir.ends_with("includes-regular")) && e.at.pos.line > 0,
                        "{}: {e}",
                        f.display()
                    ),
                }
            }
        }
    }
    assert!(parsed >= 18, "{parsed}");
}

/// h5bp's nginx.conf with its template site enabled (as its README says:
/// copy a template into conf.d/). Each call gets its own copy: tests run in
/// parallel threads of one process, and a shared directory was removed under
/// a parse in progress.
fn h5bp_site() -> PathBuf {
    static COPIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COPIES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("h5bp-site-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&corpus("h5bp"), &dir);
    std::fs::copy(dir.join("conf.d/templates/no-ssl.example.com.conf"), dir.join("conf.d/example.com.conf")).unwrap();
    dir.join("nginx.conf")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn count(tree: &[parse::Directive]) -> usize {
    let mut n = 0;
    parse::walk(tree, &mut |_, _| n += 1);
    n
}

#[test]
fn h5bp_translates_and_reports_every_directive() {
    let main = h5bp_site();
    let tree = parse::parse_file(&main, &Filesystem).unwrap();
    // The dotfile conf.d/.default.conf is not matched by conf.d/*.conf (glob(3)).
    assert!(!parse::outline(&tree).contains("listen [::]:443 ssl http2 default_server"));
    let out = nginx::import(&main, &Filesystem, &Options::default()).unwrap();
    assert_eq!(out.report.len(), count(&tree), "one report line per directive");
    edge::rules::parse(out.document.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{}", out.document));
    let doc: serde_json::Value = serde_json::from_str(&out.document).unwrap();
    let filter = doc["phases"]["filter"].as_array().unwrap();
    let deny = filter.iter().find(|r| r["params"]["status"] == 403).unwrap();
    assert_eq!(deny["when"]["path_regex"][0], "(?i)/\\.");
    let find = |needle: &str| out.report.iter().find(|l| l.directive.starts_with(needle)).unwrap_or_else(|| panic!("{needle}"));
    assert_eq!(find("gzip on").outcome, Outcome::Cloudflare);
    assert_eq!(find("add_header X-Content-Type-Options").outcome, Outcome::Translated);
    assert_eq!(find("add_header X-Frame-Options $x_frame_options").outcome, Outcome::Differs);
    assert_eq!(find("location ~* /\\.(?!well-known").outcome, Outcome::Differs);
    assert_eq!(find("return 444").outcome, Outcome::NotTranslatable);
}

fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("examples/nginx"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    v.sort();
    v
}

#[test]
fn examples_translate_to_their_committed_documents_byte_for_byte() {
    let examples = examples();
    assert_eq!(examples.len(), 3);
    for conf in examples {
        let a = nginx::import(&conf, &Filesystem, &Options::default()).unwrap();
        let b = nginx::import(&conf, &Filesystem, &Options::default()).unwrap();
        assert_eq!(a.document, b.document, "stable output");
        let tree = parse::parse_file(&conf, &Filesystem).unwrap();
        assert_eq!(a.report.len(), count(&tree), "{}: one report line per directive", conf.display());
        edge::rules::parse(a.document.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", conf.display()));
        let json = conf.with_extension("json");
        if std::env::var_os("UPDATE_EXAMPLES").is_some() {
            std::fs::write(&json, &a.document).unwrap();
        }
        let committed = std::fs::read_to_string(&json).unwrap_or_default();
        assert!(committed == a.document, "{} differs from the importer's output; UPDATE_EXAMPLES=1 cargo test -p edge-rules --test import_nginx", json.display());
    }
}

#[test]
fn the_command_line_path() {
    let bin = env!("CARGO_BIN_EXE_edge-rules");
    let report = std::env::temp_dir().join(format!("nginx-report-{}.json", std::process::id()));
    let conf = root().join("examples/nginx/api-gateway.conf");
    let out = Command::new(bin)
        .args(["import", "nginx", conf.to_str().unwrap(), "--origin-map", "app_1:8080=https://app1.example.net", "--report", report.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["$schema"], "rules.schema.json");
    assert_eq!(doc["origins"]["app_pool"]["servers"][0]["url"], "https://app1.example.net");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("limit_req zone=api burst=20 nodelay") && stderr.contains("directives:"), "{stderr}");
    let lines: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(lines.iter().any(|l| l["outcome"] == "cloudflare" && l["directive"].as_str().unwrap().starts_with("ssl_certificate")));
    // The document passes `check`.
    let file = std::env::temp_dir().join(format!("nginx-doc-{}.json", std::process::id()));
    std::fs::write(&file, &out.stdout).unwrap();
    let check = Command::new(bin).args(["check", file.to_str().unwrap()]).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    // A broken config: exit 2, the position on standard error.
    let broken = corpus("crossplane/tests/configs/missing-semicolon/broken-above.conf");
    let out = Command::new(bin).args(["import", "nginx", broken.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken-above.conf:4:"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
}

/// A cheap, deterministic stand-in for the fuzz target (fuzz/fuzz_targets/
/// nginx_parse.rs) that runs in CI: every prefix of each example, and
/// hundreds of byte edits, parse or fail with a position and translate or
/// fail, without a panic.
#[test]
fn mutated_configs_never_panic() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = b"{};\"'\\#$ \n~^=*()/.location server if return deny limit_req add_header";
    for conf in examples() {
        let text = std::fs::read_to_string(&conf).unwrap();
        let bytes = text.as_bytes();
        let mut inputs: Vec<Vec<u8>> = (0..bytes.len()).step_by(211).map(|i| bytes[..i].to_vec()).collect();
        for _ in 0..25 {
            let mut m = bytes.to_vec();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % m.len().max(1);
                match next() % 3 {
                    0 => m.insert(at, alphabet[(next() as usize) % alphabet.len()]),
                    1 if !m.is_empty() => {
                        m.remove(at.min(m.len() - 1));
                    }
                    _ => {
                        if let Some(b) = m.get_mut(at) {
                            *b = alphabet[(next() as usize) % alphabet.len()];
                        }
                    }
                }
            }
            inputs.push(m);
        }
        for input in inputs {
            let text = String::from_utf8_lossy(&input);
            match parse::parse_text(&text, "fuzz.conf") {
                Ok(tree) => {
                    if let Ok(t) = nginx::translate(&tree, &Options::default()) {
                        // Invalid values (a mangled address) are refused by the
                        // CLI before output; here only "no panic" is asserted.
                        let doc = serde_json::to_string(&t.document).unwrap();
                        let _ = edge::rules::parse(doc.as_bytes());
                    }
                }
                Err(e) => assert!(e.at.pos.line > 0, "{e}"),
            }
        }
    }
}

/// `docs/nginx-migration.md`'s directive table is what the importer reports
/// for the examples and h5bp: regenerated here and compared
/// (`UPDATE_DOCS=1 cargo test -p edge-rules --test import_nginx` rewrites it).
#[test]
fn migration_doc_matches_the_importer() {
    let mut confs = examples();
    confs.push(h5bp_site());
    // directive name → outcome → first detail seen.
    let mut table: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> = Default::default();
    for conf in confs {
        for line in nginx::import(&conf, &Filesystem, &Options::default()).unwrap().report {
            let name = line.directive.split_whitespace().next().unwrap_or("").to_string();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()) || line.at.contains("mime.types") {
                continue;
            }
            let outcome = serde_json::to_value(line.outcome).unwrap().as_str().unwrap().replace('_', " ");
            table.entry(name).or_default().entry(outcome).or_insert(line.detail.clone());
        }
    }
    let mut generated = String::from("| directive | outcome | what the importer does |\n|---|---|---|\n");
    for (name, outcomes) in &table {
        for (outcome, detail) in outcomes {
            generated.push_str(&format!("| `{name}` | {outcome} | {} |\n", detail.replace('|', "\\|")));
        }
    }
    let doc_path = root().join("docs/nginx-migration.md");
    let doc = std::fs::read_to_string(&doc_path).unwrap();
    let (begin, end) = ("<!-- import-nginx-table:begin (generated by cli/tests/import_nginx.rs) -->\n", "<!-- import-nginx-table:end -->");
    let (Some(b), Some(e)) = (doc.find(begin), doc.find(end)) else { panic!("docs/nginx-migration.md lacks the generated table markers") };
    let current = &doc[b + begin.len()..e];
    if std::env::var_os("UPDATE_DOCS").is_some() && current != generated {
        let updated = format!("{}{generated}{}", &doc[..b + begin.len()], &doc[e..]);
        std::fs::write(&doc_path, updated).unwrap();
        return;
    }
    assert!(current == generated, "docs/nginx-migration.md's table differs from the importer; UPDATE_DOCS=1 cargo test -p edge-rules --test import_nginx");
}
