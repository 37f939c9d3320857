//! User-Agent classification and header-consistency bot scoring.
//!
//! Known bots come from the crawler-user-agents corpus (monperrus/crawler-user-agents,
//! MIT), compiled into `edge/data/bot_patterns.json` by the `bot_patterns_current` test
//! in `tests/waf_corpus.rs` and embedded here. Its patterns are matched as one lazily
//! built `RegexSet` (bytes, Unicode off: small automata, no Unicode tables in the wasm).

use std::sync::OnceLock;

use regex::bytes::RegexSet;
use serde::{Deserialize, Serialize};

/// What kind of client a User-Agent claims to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BotClass {
    Browser,
    SearchEngine,
    Monitoring,
    Seo,
    AiCrawler,
    Scanner,
    HttpLibrary,
    Empty,
    /// A known bot of another kind (feed reader, social preview, archiver, advertising,
    /// academic, browser automation).
    OtherBot,
    /// Neither a known bot nor a recognisable browser.
    Unknown,
    /// An agent whose Web Bot Auth signature verified against its key directory.
    VerifiedSignedAgent,
}

impl BotClass {
    /// Code used in `bot_patterns.json`.
    pub fn code(self) -> &'static str {
        match self {
            BotClass::Browser => "browser",
            BotClass::SearchEngine => "search_engine",
            BotClass::Monitoring => "monitoring",
            BotClass::Seo => "seo",
            BotClass::AiCrawler => "ai_crawler",
            BotClass::Scanner => "scanner",
            BotClass::HttpLibrary => "http_library",
            BotClass::Empty => "empty",
            BotClass::OtherBot => "other_bot",
            BotClass::Unknown => "unknown",
            BotClass::VerifiedSignedAgent => "verified_signed_agent",
        }
    }

    fn from_code(s: &str) -> BotClass {
        match s {
            "search_engine" => BotClass::SearchEngine,
            "monitoring" => BotClass::Monitoring,
            "seo" => BotClass::Seo,
            "ai_crawler" => BotClass::AiCrawler,
            "scanner" => BotClass::Scanner,
            "http_library" => BotClass::HttpLibrary,
            _ => BotClass::OtherBot,
        }
    }

    /// Class of a corpus entry from its tags; the most security-relevant tag wins
    /// (a crawler tagged both `search-engine` and `ai-crawler` is an AI crawler).
    pub fn from_corpus_tags<S: AsRef<str>>(tags: &[S]) -> BotClass {
        const ORDER: &[(&str, BotClass)] = &[
            ("scanner", BotClass::Scanner),
            ("ai-crawler", BotClass::AiCrawler),
            ("search-engine", BotClass::SearchEngine),
            ("monitoring", BotClass::Monitoring),
            ("seo", BotClass::Seo),
            ("http-library", BotClass::HttpLibrary),
        ];
        ORDER
            .iter()
            .find(|(t, _)| tags.iter().any(|x| x.as_ref() == *t))
            .map_or(BotClass::OtherBot, |(_, c)| *c)
    }

    /// Priority when several patterns match one UA (lower wins).
    fn rank(self) -> u8 {
        match self {
            BotClass::Scanner => 0,
            BotClass::AiCrawler => 1,
            BotClass::SearchEngine => 2,
            BotClass::Monitoring => 3,
            BotClass::Seo => 4,
            BotClass::HttpLibrary => 5,
            BotClass::OtherBot => 6,
            _ => 7,
        }
    }
}

/// Generated pattern list: `[[pattern, class_code], ...]`.
pub const BOT_PATTERNS_JSON: &str = include_str!("../../data/bot_patterns.json");

struct Compiled {
    set: RegexSet,
    classes: Vec<BotClass>,
}

static COMPILED: OnceLock<Option<Compiled>> = OnceLock::new();

fn compiled() -> Option<&'static Compiled> {
    COMPILED
        .get_or_init(|| {
            let rows: Vec<(String, String)> = serde_json::from_str(BOT_PATTERNS_JSON).ok()?;
            let set = RegexSet::new(rows.iter().map(|(p, _)| format!("(?-u){p}"))).ok()?;
            let classes = rows.iter().map(|(_, c)| BotClass::from_code(c)).collect();
            Some(Compiled { set, classes })
        })
        .as_ref()
}

/// Attack tools the corpus may lack; matched case-insensitively as substrings.
const SCANNERS: &[&str] = &[
    "sqlmap",
    "nikto",
    "nuclei",
    "nmap",
    "masscan",
    "zgrab",
    "gobuster",
    "dirbuster",
    "dirb/",
    "wfuzz",
    "ffuf",
    "fuzz faster u fool",
    "feroxbuster",
    "acunetix",
    "netsparker",
    "burp",
    "openvas",
    "nessus",
    "whatweb",
    "wpscan",
    "jaeles",
    "arachni",
    "w3af",
    "skipfish",
    "hydra",
    "commix",
    "xsstrike",
    "gotestwaf",
    "owasp zap",
    "zaproxy",
    "appscan",
    "qualys",
    "interactsh",
    "joomscan",
    "droopescan",
    "havij",
    "paros",
    "webinspect",
    "vega/",
    "zmeu",
    "morfeus",
];

/// Programmatic HTTP clients the corpus may lack (prefix of the UA, case-insensitive).
const HTTP_LIBS: &[&str] = &[
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "python-httpx",
    "python/",
    "aiohttp",
    "go-http-client",
    "okhttp",
    "java/",
    "apache-httpclient",
    "libwww-perl",
    "lwp::",
    "axios/",
    "node-fetch",
    "undici",
    "got ",
    "guzzlehttp",
    "php/",
    "ruby",
    "faraday",
    "httpie",
    "postmanruntime",
    "insomnia",
    "restsharp",
    "dart:io",
    "reqwest",
    "hyper/",
    "winhttp",
    "powershell",
    "httpclient",
    "scrapy",
];

/// Classify a User-Agent string.
pub fn classify_user_agent(ua: &str) -> BotClass {
    let ua = ua.trim();
    if ua.is_empty() {
        return BotClass::Empty;
    }
    let ua = crate::waf::decode::truncate(ua, 1024);
    let lower = ua.to_ascii_lowercase();
    if SCANNERS.iter().any(|s| lower.contains(s)) {
        return BotClass::Scanner;
    }
    if let Some(c) = compiled() {
        let best = c
            .set
            .matches(ua.as_bytes())
            .iter()
            .filter_map(|i| c.classes.get(i).copied())
            .min_by_key(|c| c.rank());
        if let Some(class) = best {
            return class;
        }
    }
    if HTTP_LIBS.iter().any(|p| lower.starts_with(p)) {
        return BotClass::HttpLibrary;
    }
    if looks_like_browser(&lower) {
        return BotClass::Browser;
    }
    BotClass::Unknown
}

/// Browser UAs all start `Mozilla/5.0 (<platform>`; reduced/frozen UAs may carry
/// nothing else, so the platform token is what counts.
fn looks_like_browser(lower: &str) -> bool {
    let Some(rest) = lower.strip_prefix("mozilla/5.0 (") else {
        return lower.starts_with("opera/");
    };
    [
        "windows",
        "macintosh",
        "iphone",
        "ipad",
        "ipod",
        "android",
        "linux",
        "x11",
        "cros",
        "mobile",
        "tablet",
    ]
    .iter()
    .any(|p| rest.starts_with(p) || rest.split(')').next().is_some_and(|plat| plat.contains(p)))
}

/// Outcome of [`bot_score`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotVerdict {
    pub class: BotClass,
    /// 1..=99, Cloudflare style: 1 = certainly automated, 99 = certainly human.
    pub score: u8,
    /// Cloudflare verified the bot (reverse DNS / IP ranges). Only verified bots should
    /// be trusted; an unverified `SearchEngine` is probably an impostor.
    pub verified: bool,
    /// Machine-readable reasons for the score, for logs and rules.
    pub reasons: Vec<&'static str>,
}

fn header<'a>(headers: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// Major version after `marker` in a UA (`Chrome/124.0` → 124).
fn major_after(s: &str, marker: &str) -> Option<u32> {
    let rest = &s[s.find(marker)? + marker.len()..];
    let digits: String = rest
        .chars()
        .take_while(char::is_ascii_digit)
        .take(6)
        .collect();
    digits.parse().ok()
}

/// Score how bot-like a request is from its UA class and header consistency, combined
/// with Cloudflare's own score when present (the lower of the two wins).
pub fn bot_score(
    ua: &str,
    headers: &[(&str, &str)],
    http_version: &str,
    cf_bot_score: Option<u8>,
    cf_verified_bot: bool,
) -> BotVerdict {
    let class = classify_user_agent(ua);
    let mut reasons = Vec::new();
    let mut score: i32 = match class {
        BotClass::Browser => 90,
        BotClass::Unknown => {
            reasons.push("unrecognised_user_agent");
            30
        }
        BotClass::Empty => {
            reasons.push("empty_user_agent");
            1
        }
        BotClass::Scanner => {
            reasons.push("scanner_user_agent");
            1
        }
        _ => {
            reasons.push("declared_bot");
            1
        }
    };
    if class == BotClass::SearchEngine && !cf_verified_bot {
        reasons.push("unverified_search_engine");
    }
    if class == BotClass::Browser {
        let lower = ua.to_ascii_lowercase();
        if header(headers, "accept").is_none() {
            score -= 30;
            reasons.push("browser_without_accept");
        }
        if header(headers, "accept-language").is_none() {
            score -= 30;
            reasons.push("browser_without_accept_language");
        }
        if header(headers, "accept-encoding").is_none() {
            score -= 10;
            reasons.push("browser_without_accept_encoding");
        }
        if http_version.trim().eq_ignore_ascii_case("http/1.0") || http_version.trim() == "1.0" {
            score -= 50;
            reasons.push("http10_modern_browser");
        }
        if let Some(ch) = header(headers, "sec-ch-ua") {
            if client_hints_contradict(&lower, &ch.to_ascii_lowercase()) {
                score -= 50;
                reasons.push("sec_ch_ua_mismatch");
            }
        }
    }
    let mut score = score.clamp(1, 99) as u8;
    if let Some(cf) = cf_bot_score.map(|s| s.clamp(1, 99)) {
        if cf < score {
            score = cf;
            reasons.push("cf_bot_score");
        }
    }
    BotVerdict {
        class,
        score,
        verified: cf_verified_bot,
        reasons,
    }
}

/// `sec-ch-ua` is sent only by Chromium browsers, with the same major version as the UA.
fn client_hints_contradict(ua: &str, ch: &str) -> bool {
    let chromium_ua = ua.contains("chrome/") || ua.contains("chromium/") || ua.contains("edg/");
    if !chromium_ua {
        return true; // Firefox/Safari never send it
    }
    if ua.contains("edg/") && !ch.contains("edge") {
        return true;
    }
    let ua_major = major_after(ua, "chrome/").or_else(|| major_after(ua, "chromium/"));
    let ch_major = ch
        .split(',')
        .find(|b| b.contains("chromium") || b.contains("google chrome"))
        .and_then(|b| major_after(b, "v=\""));
    matches!((ua_major, ch_major), (Some(a), Some(b)) if a != b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";

    #[test]
    fn classes() {
        assert_eq!(classify_user_agent(CHROME), BotClass::Browser);
        assert_eq!(classify_user_agent(""), BotClass::Empty);
        assert_eq!(
            classify_user_agent("sqlmap/1.7 (https://sqlmap.org)"),
            BotClass::Scanner
        );
        assert_eq!(
            classify_user_agent(
                "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)"
            ),
            BotClass::Scanner
        );
        assert_eq!(
            classify_user_agent(
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
            ),
            BotClass::SearchEngine
        );
        assert_eq!(classify_user_agent("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"), BotClass::AiCrawler);
        assert_eq!(classify_user_agent("curl/8.5.0"), BotClass::HttpLibrary);
        assert_eq!(classify_user_agent("my-thing"), BotClass::Unknown);
    }

    #[test]
    fn scores() {
        let full = [
            ("Accept", "text/html"),
            ("Accept-Language", "en"),
            ("Accept-Encoding", "gzip"),
        ];
        let v = bot_score(CHROME, &full, "HTTP/2", None, false);
        assert!(v.score >= 80 && v.reasons.is_empty(), "{v:?}");
        let v = bot_score(CHROME, &[], "HTTP/1.0", None, false);
        assert!(
            v.score < 10 && v.reasons.contains(&"http10_modern_browser"),
            "{v:?}"
        );
        let mut hints = full.to_vec();
        hints.push(("sec-ch-ua", "\"Chromium\";v=\"124\""));
        assert!(bot_score(FIREFOX, &hints, "HTTP/2", None, false)
            .reasons
            .contains(&"sec_ch_ua_mismatch"));
        assert!(bot_score(CHROME, &hints, "HTTP/2", None, false)
            .reasons
            .is_empty());
        hints[3] = ("sec-ch-ua", "\"Chromium\";v=\"99\"");
        assert!(bot_score(CHROME, &hints, "HTTP/2", None, false)
            .reasons
            .contains(&"sec_ch_ua_mismatch"));
        let g = "Googlebot/2.1 (+http://www.google.com/bot.html)";
        let v = bot_score(g, &[], "HTTP/1.1", None, false);
        assert_eq!(
            (v.class, v.verified, v.score),
            (BotClass::SearchEngine, false, 1)
        );
        assert!(v.reasons.contains(&"unverified_search_engine"));
        assert!(bot_score(g, &[], "HTTP/1.1", None, true).verified);
        assert_eq!(bot_score(CHROME, &full, "HTTP/2", Some(3), false).score, 3);
    }
}
