//! Filter phase: attack signatures (CRS-style anomaly scoring) and bot classification.
//!
//! Pure Rust, linear-time only: the `regex` crate (no backtracking) and hand-written
//! scanners. Every input is capped ([`decode`] limits), so a hostile request costs a
//! bounded amount of work and can never panic.

pub mod bots;
mod config;
pub mod crs;
mod decode;
mod extract;
mod prose;
mod rules;
mod scan;
#[cfg(test)]
mod test_util;

mod crlf;
mod graphql;
mod ldap;
mod mail;
mod nosql;
mod proto;
mod rce;
mod sqli;
mod ssi;
mod ssti;
mod traversal;
mod xss;
mod xxe;

pub use bots::{bot_score, classify_user_agent, BotClass, BotInputs, BotVerdict, UaClassifier};
pub use config::{Categories, Exclusion, OnOversize, Profile, WafConfig, DEFAULT_BODY_LIMIT, MAX_BODY_LIMIT};
pub use rules::{Category, Severity};

/// One request, as the shell hands it over. Borrowed so inspection copies nothing it
/// does not need to decode.
#[derive(Debug, Clone, Default)]
pub struct Inspectable<'a> {
    /// Raw (still percent-encoded) path, without the query string.
    pub path: &'a str,
    /// Raw query string without the leading `?`.
    pub query: &'a str,
    /// All request headers in arrival order; names in any case.
    pub headers: Vec<(&'a str, &'a str)>,
    /// The `Content-Type` header value, if any.
    pub content_type: Option<&'a str>,
    /// Request body, already capped by the shell (the WAF caps it again to
    /// [`WafConfig::body_limit_bytes`]).
    pub body: &'a [u8],
}

/// One rule that fired on one request target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Stable rule id, e.g. `sqli-union-select`; usable in [`Exclusion::rule_ids`].
    pub rule_id: &'static str,
    pub category: Category,
    /// Lowest paranoia level at which the rule is active (1–4).
    pub paranoia: u8,
    /// Where it fired: `path`, `query:NAME`, `header:NAME`, `cookie:NAME`, `body:FIELD`, `body`.
    pub target: String,
    /// Anomaly score added (CRS: critical 5, error 4, warning 3, notice 2).
    pub score: u32,
    /// Short, sanitized head of the offending value, safe for logs; never the full payload.
    pub snippet: String,
}

/// The outcome of [`inspect`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WafVerdict {
    /// Sum of the scores of all (rule, target) pairs that fired.
    pub score: u32,
    /// `score >= threshold`: the shell should block.
    pub threshold_exceeded: bool,
    /// At most [`MAX_MATCHES`] matches, in discovery order.
    pub matches: Vec<Match>,
}

/// Cap on reported matches (the score still counts every distinct hit).
pub const MAX_MATCHES: usize = 32;

/// Inspect one request against the rules enabled by `cfg`.
pub fn inspect(req: &Inspectable<'_>, cfg: &WafConfig) -> WafVerdict {
    if !cfg.enabled {
        return WafVerdict::default();
    }
    scan::run(req, cfg)
}

/// Every regex table, so a test can prove they all compile.
#[cfg(test)]
fn tables() -> Vec<&'static rules::PatternTable> {
    vec![
        &crlf::TABLE,
        &crlf::GENERIC,
        &graphql::TABLE,
        &ldap::TABLE,
        &mail::TABLE,
        &nosql::KEYS,
        &nosql::VALUES,
        &proto::TABLE,
        &rce::TABLE,
        &rce::CODE,
        &ssi::TABLE,
        &ssti::TABLE,
        &traversal::TABLE,
        &traversal::VALUE_TABLE,
        &xss::TABLE,
        &xxe::TABLE,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(path: &'a str, query: &'a str) -> Inspectable<'a> {
        Inspectable {
            path,
            query,
            ..Default::default()
        }
    }

    #[test]
    fn hidden_files_in_the_path_are_refused_but_not_well_known() {
        let cfg = WafConfig::default();
        for path in ["/.env", "/app/.git/config", "/.aws/credentials", "/.cursor/mcp.json", "/%2eenv"] {
            let v = inspect(&get(path, ""), &cfg);
            assert!(v.matches.iter().any(|m| m.rule_id == "traversal-hidden-path"), "{path}: {:?}", v.matches);
        }
        for path in ["/.well-known/openid-configuration", "/.well-known/acme-challenge/x", "/a/./b", "/v1.2/users", "/file.env"] {
            let v = inspect(&get(path, ""), &cfg);
            assert!(!v.threshold_exceeded, "{path}: {:?}", v.matches);
        }
        // A value naming a dotfile is not the path's business.
        assert!(!inspect(&get("/search", "q=.env+files+explained"), &cfg).threshold_exceeded);
    }

    #[test]
    fn realistic_benign_traffic_passes() {
        let cfg = WafConfig::default();
        let queries = [
            "q=select+the+union+of+two+sets&page=2",
            "redirect=https%3A%2F%2Fexample.com%2Fa%2Fb%3Fc%3D1&lang=en-US",
            "email=jane.o%27brien%40example.com&name=Jane+O%27Brien",
            "search=rock+%27n%27+roll+or+blues&sort=-date",
            "filter=price%3E%3D10%20and%20price%3C%3D20",
            "text=Hello+%3Cb%3Eworld%3C%2Fb%3E%21+See+you+at+5%3A30.",
            "file=report.v2.final.pdf&dir=docs%2F2024",
            "code=a1b2c3d4e5f6&state=eyJyZXR1cm5UbyI6Ii9ob21lIn0",
            "msg=I+can%27t+log+in%3B+please+help+%26+thanks",
            "expr=(a%2Bb)*c&unit=m%2Fs",
            "comment=Great+product%21+Works+as+expected+%3A)+5%2F5",
            "tags=c%2B%2B,c%23,f%23&ids[]=1&ids[]=2",
        ];
        for q in queries {
            let v = inspect(&get("/search", q), &cfg);
            assert!(!v.threshold_exceeded, "{q}: {:?}", v.matches);
        }
        let json = br#"{"user":{"name":"Mary-Jane O'Neil","email":"mj@example.com","bio":"I select the best; union rep & SQL fan. <3"},"items":[{"sku":"A-1","qty":2}],"note":"Call me at 10:30, or after 5 -- thanks!"}"#;
        let req = Inspectable {
            path: "/api/orders",
            content_type: Some("application/json"),
            body: json,
            ..Default::default()
        };
        let v = inspect(&req, &cfg);
        assert!(!v.threshold_exceeded, "{:?}", v.matches);
        for path in [
            "/static/js/app.3f2a1b.min.js",
            "/blog/2024/05/what-is-sql-injection",
            "/users/o'brien/profile",
            "/a/b/c.d.e/",
        ] {
            assert!(!inspect(&get(path, ""), &cfg).threshold_exceeded, "{path}");
        }
    }

    #[test]
    fn attacks_block_and_report_safely() {
        let cfg = WafConfig::default();
        let v = inspect(
            &get(
                "/item",
                "id=1%27%20UNION%20SELECT%20password%20FROM%20users--",
            ),
            &cfg,
        );
        assert!(v.threshold_exceeded);
        let m = &v.matches[0];
        assert_eq!(
            (m.category, m.target.as_str()),
            (Category::Sqli, "query:id")
        );
        assert!(m.snippet.len() <= 27 && !m.snippet.contains('\''));
        let req = Inspectable {
            headers: vec![
                ("Authorization", "<script>alert(1)</script>"),
                ("Referer", "<script>alert(1)</script>"),
            ],
            ..Default::default()
        };
        let v = inspect(&req, &cfg);
        assert!(
            v.matches.iter().all(|m| m.target == "header:referer"),
            "{:?}",
            v.matches
        );
    }

    #[test]
    fn config_switches() {
        let attack = get("/x", "q=%3Cscript%3Ealert(1)%3C/script%3E");
        let off = WafConfig {
            enabled: false,
            ..Default::default()
        };
        assert_eq!(inspect(&attack, &off), WafVerdict::default());
        let mut cfg = WafConfig::default();
        cfg.categories.xss = false;
        assert!(!inspect(&attack, &cfg).threshold_exceeded);
        let cfg: WafConfig =
            serde_json::from_str(r#"{"exclusions":[{"paths":["/x"],"targets":["query:q"]}]}"#)
                .unwrap();
        assert!(!inspect(&attack, &cfg).threshold_exceeded);
        let cfg: WafConfig = serde_json::from_str(r#"{"exclusions":[{"paths":["/y"]}]}"#).unwrap();
        assert!(inspect(&attack, &cfg).threshold_exceeded);
        let cfg: WafConfig = serde_json::from_str(r#"{"threshold":100}"#).unwrap();
        let v = inspect(&attack, &cfg);
        assert!(!v.threshold_exceeded && v.score >= 5);
    }

    #[test]
    fn hostile_inputs_are_bounded() {
        let cfg = WafConfig {
            paranoia: 4,
            ..Default::default()
        };
        let big = "%27%20or%201%3D1%20".repeat(50_000);
        let body = "<a>".repeat(100_000);
        let req = Inspectable {
            path: &big,
            query: &big,
            content_type: Some("text/xml"),
            body: body.as_bytes(),
            ..Default::default()
        };
        let t = std::time::Instant::now();
        let v = inspect(&req, &cfg);
        assert!(v.threshold_exceeded && v.matches.len() <= MAX_MATCHES);
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn never_panics(q in ".{0,200}", b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), ct in "(application/json|multipart/form-data; boundary=x|text/xml|application/x-www-form-urlencoded|)") {
            let req = Inspectable { path: &q, query: &q, headers: vec![("X-A", &q), ("Cookie", &q)], content_type: Some(&ct), body: &b };
            let _ = inspect(&req, &WafConfig { paranoia: 4, ..Default::default() });
            let _ = bot_score(&q, &[], &q, None, false);
        }
    }
}
