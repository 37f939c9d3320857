//! Payload-list and prompt corpora (vendored under `tests/corpora/`) turned into
//! requests, split into a tuning half and a held-out half. Shared by
//! `waf_payloads.rs` (inspected natively) and `tests/examples/waf_measure.rs`
//! (sent to the edge under workerd), so both count the same requests.
//!
//! Each attack payload is sent three ways (query parameter, form field, JSON
//! string value); each prompt as a JSON prompt body, a form field and a query
//! parameter. Lines are split by index: even lines tune, odd lines are held out.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// One named list of payloads, all attacks or all benign.
pub struct Set {
    pub name: &'static str,
    pub benign: bool,
    /// `(line index, payload)`; the index decides the half.
    pub items: Vec<(usize, String)>,
}

/// Which half of a list an item belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Half {
    Tune,
    Held,
}

impl Half {
    pub fn of(index: usize) -> Half {
        if index.is_multiple_of(2) {
            Half::Tune
        } else {
            Half::Held
        }
    }
}

/// Where a value is placed in the request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Place {
    Query,
    Form,
    Json,
}

pub const PLACES: [Place; 3] = [Place::Query, Place::Form, Place::Json];

/// A request built from one payload (owned; borrowed into `Inspectable` by callers).
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// `application/x-www-form-urlencoded` escaping (space as `+`), as browsers send it.
pub fn form_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The request carrying `value` in `place`; `field` names the parameter.
pub fn request(place: Place, path: &str, field: &str, value: &str) -> Req {
    match place {
        Place::Query => Req {
            method: "GET".into(),
            path: path.into(),
            query: format!("{field}={}", form_escape(value)),
            headers: Vec::new(),
            content_type: None,
            body: Vec::new(),
        },
        Place::Form => Req {
            method: "POST".into(),
            path: path.into(),
            query: String::new(),
            headers: Vec::new(),
            content_type: Some("application/x-www-form-urlencoded".into()),
            body: format!("{field}={}", form_escape(value)).into_bytes(),
        },
        Place::Json => Req {
            method: "POST".into(),
            path: path.into(),
            query: String::new(),
            headers: Vec::new(),
            content_type: Some("application/json".into()),
            body: serde_json::json!({ field: value, "max_tokens": 256 })
                .to_string()
                .into_bytes(),
        },
    }
}

/// The vendored corpora folder (`tests/corpora` at the repository root).
pub fn corpora() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpora")
}

/// Payloads shorter than this (`'`, `|`, `;`) are left out: no WAF can or should
/// block a lone quote.
pub const MIN_PAYLOAD: usize = 3;

/// A payload list given on a command line (one payload a line, shorter ones
/// skipped as in the vendored lists), or why it cannot be read.
pub fn list_file(name: &str, file: &str, benign: bool) -> Result<Set, String> {
    let text = std::fs::read(file).map(|b| String::from_utf8_lossy(&b).into_owned()).map_err(|e| format!("{file}: {e}"))?;
    let items = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| l.trim().len() >= MIN_PAYLOAD)
        .map(String::from)
        .enumerate()
        .collect();
    Ok(Set { name: Box::leak(name.to_string().into_boxed_str()), benign, items })
}

/// The attack lists grouped by class, one set per class, with comment lines dropped
/// (as listed in the corpus README) and sqlmap placeholders filled in.
pub fn attack_sets(root: &Path) -> Vec<Set> {
    const F: &str = "attacks-seclists/Fuzzing";
    const SQLI: &str = "attacks-seclists/Fuzzing/Databases/SQLi";
    const SQLMAP: &str = "attacks-seclists/Fuzzing/Databases/SQLi/sqlmap-risk-classified";
    let groups: &[(&'static str, &[&str])] = &[
        (
            "sqli",
            &[
                "Generic-SQLi.txt",
                "quick-SQLi.txt",
                "sqli.auth.bypass.txt",
                "SQLi-Polyglots.txt",
                "MySQL-SQLi-Login-Bypass.fuzzdb.txt",
                "MSSQL.fuzzdb.txt",
            ],
        ),
        (
            "sqlmap",
            &[
                "Low-Risk-Payloads/boolean_blind.txt",
                "Low-Risk-Payloads/error_based.txt",
                "Low-Risk-Payloads/inline_query.txt",
                "Low-Risk-Payloads/stacked_queries.txt",
                "Low-Risk-Payloads/time_blind.txt",
                "Medium-Risk-Payloads/stacked_queries.txt",
                "Medium-Risk-Payloads/time_blind.txt",
                "High-Risk-Payloads/boolean_blind.txt",
                "High-Risk-Payloads/error_based.txt",
                "High-Risk-Payloads/time_blind.txt",
            ],
        ),
        ("nosql", &["Databases/NoSQL.txt"]),
        (
            "xss",
            &[
                "XSS/robot-friendly/XSS-Jhaddix.txt",
                "XSS/robot-friendly/XSS-RSNAKE.txt",
                "XSS/robot-friendly/XSS-BruteLogic.txt",
                "XSS/robot-friendly/XSS-Bypass-Strings-BruteLogic.txt",
                "XSS/robot-friendly/XSS-Somdev.txt",
                "XSS/robot-friendly/xss-without-parentheses-semi-colons-portswigger.txt",
                "XSS/robot-friendly/XSS-Vectors-Mario.txt",
                "Polyglots/XSS_Polyglots.txt",
            ],
        ),
        (
            "traversal",
            &[
                "LFI/LFI-Jhaddix.txt",
                "LFI/LFI-gracefulsecurity-linux.txt",
                "LFI/LFI-gracefulsecurity-windows.txt",
            ],
        ),
        ("cmdi", &["UnixAttacks.fuzzdb.txt"]),
        (
            "ssti",
            &[
                "template-engines-expression.txt",
                "template-engines-special-vars.txt",
            ],
        ),
        ("ssi", &["SSI-Injection-Jhaddix.txt"]),
        ("ldap", &["LDAP.Fuzzing.txt"]),
    ];
    groups
        .iter()
        .map(|(name, files)| {
            let mut items = Vec::new();
            for f in *files {
                let dir = match *name {
                    "sqli" => SQLI,
                    "sqlmap" => SQLMAP,
                    _ => F,
                };
                let path = root.join(dir).join(f);
                let text = std::fs::read(&path)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let skip_head = match *f {
                    "MySQL-SQLi-Login-Bypass.fuzzdb.txt" => 3,
                    "MSSQL.fuzzdb.txt" | "UnixAttacks.fuzzdb.txt" => 1,
                    _ => 0,
                };
                for line in text.lines().skip(skip_head) {
                    let line = line.trim_end_matches('\r');
                    if line.trim().len() < MIN_PAYLOAD
                        || (*f == "template-engines-special-vars.txt" && line.starts_with("# "))
                        || line == "# from wapiti"
                    {
                        continue;
                    }
                    let payload = if *name == "sqlmap" {
                        // sqlmap appends its template to the parameter's original value.
                        format!("1 {}", fill_sqlmap(line))
                    } else {
                        line.to_string()
                    };
                    items.push(payload);
                }
            }
            // Index by position in the class, so both halves mix every file.
            let items = items.into_iter().enumerate().collect();
            Set {
                name,
                benign: false,
                items,
            }
        })
        .collect()
}

/// sqlmap's template placeholders, filled with values like the ones it sends.
fn fill_sqlmap(t: &str) -> String {
    t.replace("[RANDNUM1]", "7352")
        .replace("[RANDNUM2]", "1826")
        .replace("[RANDNUM3]", "9071")
        .replace("[RANDNUM4]", "3349")
        .replace("[RANDNUM5]", "5518")
        .replace("[RANDNUM]", "4821")
        .replace("[SLEEPTIME]", "5")
        .replace("[DELIMITER_START]", "qvkpq")
        .replace("[DELIMITER_STOP]", "qzxjq")
        .replace("[ORIGVALUE]", "1")
        .replace("[RANDSTR]", "xKqz")
}

/// The benign prompts (`prompts.csv`, column `prompt`).
pub fn prompts(root: &Path) -> Set {
    let path = root.join("benign-prompts/prompts.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rows = parse_csv(&text);
    let items = rows
        .into_iter()
        .skip(1)
        .filter_map(|r| r.into_iter().nth(1))
        .enumerate()
        .collect();
    Set {
        name: "prompts",
        benign: true,
        items,
    }
}

/// RFC 4180 CSV: quoted fields, `""` for a quote, newlines inside quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// Real browser User-Agents (ua-parser's labelled test strings), without the ones
/// its authors list as spiders or tools.
pub fn user_agents(root: &Path) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Doc {
        test_cases: Vec<UaCase>,
    }
    #[derive(serde::Deserialize)]
    struct UaCase {
        user_agent_string: String,
    }
    let path = root.join("useragents/uap-core/tests/test_ua.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Doc = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    doc.test_cases.into_iter().map(|c| c.user_agent_string).collect()
}

/// One go-ftw test (OWASP CRS regression format): its request, and whether the
/// test expects a rule to fire (an attack) or only that some rules do not.
pub struct FtwCase {
    /// The folder the YAML file is in (`REQUEST-932-APPLICATION-ATTACK-RCE`).
    pub folder: String,
    pub id: String,
    pub attack: bool,
    pub req: Req,
}

/// Every go-ftw test under `dir` (recursively) whose input is a plain request;
/// raw `encoded_request` inputs are left out.
pub fn ftw_cases(dir: &Path) -> Vec<FtwCase> {
    use serde_norway::Value;
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    let str_of = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else { continue };
        let Ok(doc) = serde_norway::from_str::<Value>(&text) else { continue };
        let folder = f
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(tests) = doc.get("tests").and_then(Value::as_sequence) else { continue };
        for t in tests {
            let id = t.get("test_id").and_then(str_of).unwrap_or_default();
            let Some(stage) = t.get("stages").and_then(Value::as_sequence).and_then(|s| s.first()) else {
                continue;
            };
            let Some(input) = stage.get("input") else { continue };
            if input.get("encoded_request").is_some() {
                continue;
            }
            let attack = stage
                .get("output")
                .and_then(|o| o.get("log"))
                .and_then(|l| l.get("expect_ids"))
                .and_then(Value::as_sequence)
                .is_some_and(|ids| !ids.is_empty());
            let uri = input.get("uri").and_then(str_of).unwrap_or_else(|| "/".into());
            let (path, query) = uri.split_once('?').unwrap_or((&uri, ""));
            let headers: Vec<(String, String)> = input
                .get("headers")
                .and_then(Value::as_mapping)
                .map(|m| m.iter().filter_map(|(k, v)| Some((str_of(k)?, str_of(v)?))).collect())
                .unwrap_or_default();
            let content_type = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.clone());
            let body = input.get("data").and_then(str_of).unwrap_or_default().into_bytes();
            out.push(FtwCase {
                folder: folder.clone(),
                id: format!("{}-{id}", f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()),
                attack,
                req: Req {
                    method: input.get("method").and_then(str_of).unwrap_or_else(|| "GET".into()),
                    path: path.to_string(),
                    query: query.to_string(),
                    headers,
                    content_type,
                    body,
                },
            });
        }
    }
    out
}

/// The `waf` params compared, by name. Another ruleset or setting is one more line.
pub const CONFIGS: &[(&str, &str)] = &[
    ("pl1", "{}"),
    ("pl2", r#"{"paranoia":2}"#),
    ("prompt_api", r#"{"profile":"prompt_api"}"#),
];
