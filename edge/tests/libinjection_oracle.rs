//! CRS's `@detectSQLi` and `@detectXSS` against the C library they port: every payload of the
//! vendored SecLists lists, every prompt and every argument of CRS's go-ftw
//! tests (`tests/corpora/`), as sent and in a few variants (quoted singly and doubly, commented,
//! cut short, lower-cased: other tokenizer states), goes through
//! the operator the worker runs (`libinjectionrs`, vendored) and through C
//! libinjection 3.9.2, the version ModSecurity 2.9 bundles
//! (`tests/py/libinjection_oracle.py`, `libinjection-python`, which
//! `scripts/setup.sh` installs). The SQLi verdicts must agree, and so must the
//! fingerprint of each injection (CRS logs it as the match). The XSS verdicts
//! must agree but for one difference of versions: the port follows today's
//! libinjection, whose list of event-handler attributes has grown since 3.9.2
//! (`onorientationchange`, `onfinish`), so it may also flag a value carrying one.

mod payload_sets;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use payload_sets::{attack_sets, corpora, ftw_cases, prompts};
use zentinel_modsec::operators::{DetectSqliOperator, DetectXssOperator, Operator};
use zentinel_modsec::transformations::create_transformation;

/// `[is_sqli, fingerprint, is_xss]` of each input, from the C library.
fn oracle(inputs: &[String]) -> Vec<(bool, String, bool)> {
    let script = corpora().join("../py/libinjection_oracle.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 {}: {e}", script.display()));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let lines: String = inputs.iter().map(|i| serde_json::to_string(i).expect("a string serializes") + "\n").collect();
    let writer = std::thread::spawn(move || stdin.write_all(lines.as_bytes()));
    let out: Vec<(bool, String, bool)> = BufReader::new(child.stdout.take().expect("piped stdout"))
        .lines()
        .map(|l| serde_json::from_str(&l.expect("oracle output")).expect("[is_sqli, fingerprint, is_xss]"))
        .collect();
    writer.join().expect("writer").expect("oracle stdin");
    let status = child.wait().expect("oracle exit");
    assert!(status.success(), "{} failed ({status}); is libinjection-python installed (scripts/setup.sh)?", script.display());
    out
}

/// Every value a set, go-ftw's query and form arguments, and their variants.
fn inputs() -> Vec<String> {
    let root = corpora();
    let mut sets = attack_sets(&root);
    sets.push(prompts(&root));
    let mut base: Vec<String> = sets.iter().flat_map(|s| s.items.iter().map(|(_, p)| p.clone())).collect();
    // The arguments decoded as 942100 reads them (`t:urlDecodeUni`).
    let decode = create_transformation("urlDecodeUni").expect("a stock transformation");
    for case in ftw_cases(&root.join("owasp-crs/tests/regression/tests")) {
        let body = String::from_utf8_lossy(&case.req.body).into_owned();
        for pair in case.req.query.split('&').chain(body.split('&')) {
            let value = pair.split_once('=').map_or(pair, |(_, v)| v);
            if !value.is_empty() {
                base.push(decode.transform(value).into_owned());
            }
        }
    }
    base.sort();
    base.dedup();
    let mut all = Vec::with_capacity(base.len() * 5);
    for v in base {
        let half: String = v.chars().take(v.chars().count() / 2).collect();
        all.extend([format!("'{v}"), format!("\"{v}"), format!("{v} -- x"), v.to_lowercase(), half, v]);
    }
    all
}

/// Whether `value` sets an `on…` event-handler attribute (`<x onfoo=`).
fn has_event_handler(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    v.match_indices("on").any(|(i, _)| {
        let before = v[..i].chars().next_back();
        let name: String = v[i..].chars().take_while(|c| c.is_ascii_alphabetic()).collect();
        let rest = v[i + name.len()..].trim_start();
        matches!(before, Some(c) if c.is_whitespace() || c == '/' || c == '"' || c == '\'') && name.len() > 2 && rest.starts_with('=')
    })
}

#[test]
fn detect_xss_agrees_with_c_libinjection() {
    let inputs = inputs();
    let want = oracle(&inputs);
    assert_eq!(want.len(), inputs.len(), "the oracle answered every input");
    let (mut xss, mut missed, mut newer) = (0, Vec::new(), Vec::new());
    for (input, (_, _, c_xss)) in inputs.iter().zip(&want) {
        let got = DetectXssOperator.execute(input).matched;
        xss += usize::from(*c_xss);
        match (*c_xss, got) {
            (true, false) => missed.push(format!("{input:?}")),
            (false, true) => newer.push(input.as_str()),
            _ => {}
        }
    }
    println!("{} inputs, {xss} XSS by C libinjection, {} missed, {} flagged by the newer event-handler list", inputs.len(), missed.len(), newer.len());
    assert!(xss > 2_000, "the corpora are there");
    assert!(missed.is_empty(), "{} missed:\n{}", missed.len(), missed.join("\n"));
    let other: Vec<&&str> = newer.iter().filter(|v| !has_event_handler(v)).collect();
    assert!(other.is_empty(), "flagged without an event handler: {other:?}");
    assert!(newer.len() * 100 < xss, "the newer list explains a few values, not {}", newer.len());
}

#[test]
fn detect_sqli_agrees_with_c_libinjection() {
    let inputs = inputs();
    let want = oracle(&inputs);
    assert_eq!(want.len(), inputs.len(), "the oracle answered every input");
    let operator = DetectSqliOperator;
    let (mut injections, mut differ) = (0, Vec::new());
    for (input, (sqli, fingerprint, _)) in inputs.iter().zip(&want) {
        let got = operator.execute(input);
        injections += usize::from(*sqli);
        let same = got.matched == *sqli && (!sqli || got.matched_value.as_deref() == Some(fingerprint.as_str()));
        if !same {
            differ.push(format!("{input:?}: C says {sqli} {fingerprint:?}, the edge {} {:?}", got.matched, got.matched_value));
        }
    }
    println!("{} inputs, {injections} injections by C libinjection, {} decided differently", inputs.len(), differ.len());
    assert!(inputs.len() > 20_000 && injections > 2_000, "the corpora are there");
    assert!(differ.is_empty(), "{} differences:\n{}", differ.len(), differ.join("\n"));
}
