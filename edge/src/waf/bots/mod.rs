//! User-Agent classification with three clean answers, and header-consistency
//! bot scoring ([`signals`]).
//!
//! - **bot evidence** → a bot class: a known crawler (the crawler-user-agents
//!   corpus, monperrus/crawler-user-agents, MIT, compiled into
//!   `edge/data/bot_patterns.json` by the `bot_patterns_current` test in
//!   `tests/bots_corpus.rs`), an attack tool, an HTTP library, or the generic
//!   automation grammar of [`grammar`] (bots nobody listed yet);
//! - **browser evidence** → [`BotClass::Browser`]: the browser token grammar
//!   (platform comment, engine and product tokens; in-app browsers and
//!   WebViews keep it);
//! - **neither** → [`BotClass::Unknown`] (native apps, media players, made-up
//!   strings): rules decide what to do with clients that say nothing.
//!
//! Patterns are matched as one lazily built `RegexSet` (bytes, Unicode off:
//! small automata, no Unicode tables in the wasm).

mod grammar;
mod signals;

mod literals;
mod words;

use std::sync::OnceLock;

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};

use literals::LiteralIndex;

pub use signals::{bot_score, score, BotInputs, BotVerdict};
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
pub const BOT_PATTERNS_JSON: &str = include_str!("../../../data/bot_patterns.json");

/// A classifier over one crawler pattern table plus the grammar. The edge uses
/// [`classify_user_agent`] (the generated table); tests build one from part of
/// the corpus to measure how the grammar does on crawlers it was not given.
pub struct UaClassifier {
    index: LiteralIndex,
    patterns: Vec<String>,
    classes: Vec<BotClass>,
    /// Each pattern, compiled when a UA first contains its literal.
    single: Vec<OnceLock<Option<Regex>>>,
}

impl UaClassifier {
    /// A classifier over `(pattern, class)` rows.
    pub fn new<S: AsRef<str>>(rows: &[(S, BotClass)]) -> Result<Self, regex::Error> {
        let patterns: Vec<String> = rows.iter().map(|(p, _)| format!("(?-u){}", p.as_ref())).collect();
        for p in &patterns {
            regex::bytes::Regex::new(p)?;
        }
        Ok(Self {
            index: LiteralIndex::new(&patterns),
            classes: rows.iter().map(|(_, c)| *c).collect(),
            single: patterns.iter().map(|_| OnceLock::new()).collect(),
            patterns,
        })
    }

    /// The classifier over the generated table (`None` only if it failed to
    /// build, which the corpus test rules out).
    pub fn builtin() -> Option<&'static UaClassifier> {
        static BUILTIN: OnceLock<Option<UaClassifier>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                let rows: Vec<(String, String)> = serde_json::from_str(BOT_PATTERNS_JSON).ok()?;
                let rows: Vec<(String, BotClass)> = rows.into_iter().map(|(p, c)| (p, BotClass::from_code(&c))).collect();
                UaClassifier::new(&rows).ok()
            })
            .as_ref()
    }

    /// Classify a User-Agent string.
    pub fn classify(&self, ua: &str) -> BotClass {
        classify_with(Some(self), ua)
    }

    /// The best class among the crawler patterns that match where a bot
    /// names itself (see [`pattern_counts`]).
    fn known_crawler(&self, ua: &[u8], lower: &[u8]) -> Option<BotClass> {
        self.index
            .candidates(ua)
            .into_iter()
            .filter(|&i| self.pattern_counts(i, ua, lower))
            .filter_map(|i| self.classes.get(i).copied())
            .min_by_key(|c| c.rank())
    }

    /// Patterns no literal could be extracted from: they run on every UA.
    pub fn unindexed_patterns(&self) -> usize {
        self.index.always_len()
    }

    /// Whether pattern `i` matches where a bot names itself. A corpus pattern
    /// is a plain substring test; in a browser UA it can hit a device model
    /// (`HTC Butterfly`, `ViewSonic`). A match counts unless it starts inside
    /// a word, or lies in the platform comment without naming automation.
    fn pattern_counts(&self, i: usize, ua: &[u8], lower: &[u8]) -> bool {
        let Some(re) = self.single.get(i).and_then(|c| c.get_or_init(|| self.patterns.get(i).and_then(|p| Regex::new(p).ok())).as_ref()) else {
            return false;
        };
        let Some(m) = re.find(ua) else { return false };
        let (start, end) = (m.start(), m.end());
        if start > 0 && ua[start - 1].is_ascii_alphanumeric() && ua[start].is_ascii_alphanumeric() {
            return false;
        }
        match grammar::platform_comment(lower) {
            Some((ps, pe)) if start >= ps && end <= pe => grammar::automation_word(&lower[start..end]) || lower[start..end].windows(3).any(|w| w == b"bot"),
            _ => true,
        }
    }
}

/// Classify a User-Agent string with the built-in crawler table and the grammar.
pub fn classify_user_agent(ua: &str) -> BotClass {
    classify_with(UaClassifier::builtin(), ua)
}

fn classify_with(known: Option<&UaClassifier>, ua: &str) -> BotClass {
    let ua = ua.trim();
    if ua.is_empty() {
        return BotClass::Empty;
    }
    let ua = crate::waf::decode::truncate(ua, 1024).as_bytes();
    let lower = ua.to_ascii_lowercase();
    let flags = grammar::Flags::of(&lower);
    if grammar::scanner(&flags) {
        return BotClass::Scanner;
    }
    if let Some(class) = known.and_then(|k| k.known_crawler(ua, &lower)) {
        return class;
    }
    if grammar::http_library(&flags) {
        return BotClass::HttpLibrary;
    }
    if let Some(class) = grammar::automation(&flags, ua, &lower) {
        return class;
    }
    if grammar::browser(&flags, &lower) {
        return BotClass::Browser;
    }
    BotClass::Unknown
}

#[cfg(test)]
mod tests;
