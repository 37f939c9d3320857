//! The User-Agent classifier against labelled corpora it was not built from
//! (vendored under `tests/corpora/useragents/`):
//! - crawler-user-agents (monperrus, MIT): every instance is a bot. Also the
//!   generator of `edge/data/bot_patterns.json` (`BOTS_REGEN=1` rewrites it).
//! - top-user-agents (microlinkhq, MIT): every entry is a browser.
//! - uap-core (ua-parser, Apache-2.0): `tests/test_device.yaml` labels bots
//!   with the device family `Spider`; everything else is a device (a browser
//!   or an app, never a bot). The Firefox and Opera Mini lists are browsers.
//!
//! Each set is split by a hash of the UA: `train` (4/5) is what the grammar
//! was tuned on, `held-out` (1/5) was only measured. For crawlers a second
//! hold-out removes the *patterns* of a fifth of the corpus from the table,
//! so their instances measure the grammar alone on bots it was never given.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use edge::waf::{bot_score, classify_user_agent, BotClass, UaClassifier};
use serde::Deserialize;

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpora/useragents").join(rel)
}

fn read(rel: &str) -> String {
    let p = corpus(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[derive(Deserialize)]
struct Crawler {
    pattern: String,
    #[serde(default)]
    instances: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
}

fn crawlers() -> Vec<Crawler> {
    serde_json::from_str(&read("crawler-user-agents/crawler-user-agents.json")).unwrap_or_else(|e| panic!("crawler-user-agents: {e}"))
}

#[derive(Deserialize)]
struct UapCases {
    test_cases: Vec<UapCase>,
}

#[derive(Deserialize)]
struct UapCase {
    user_agent_string: String,
    family: String,
}

fn uap(rel: &str) -> Vec<UapCase> {
    serde_norway::from_str::<UapCases>(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}")).test_cases
}

/// FNV-1a: a stable split that does not depend on the corpus order.
fn held_out(s: &str) -> bool {
    let h = s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    h % 5 == 0
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Label {
    Bot,
    Browser,
    /// A device's UA: a browser or an app, not a bot.
    NotBot,
}

#[derive(Default, Debug)]
struct Tally {
    total: usize,
    bot: usize,
    browser: usize,
    unknown: usize,
}

impl Tally {
    fn add(&mut self, class: BotClass) {
        self.total += 1;
        match class {
            BotClass::Browser => self.browser += 1,
            BotClass::Unknown => self.unknown += 1,
            _ => self.bot += 1,
        }
    }
    fn pct(&self, n: usize) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            100.0 * n as f64 / self.total as f64
        }
    }
}

type Table = BTreeMap<(String, Label, &'static str), Tally>;

fn measure(table: &mut Table, set: &str, label: Label, uas: impl IntoIterator<Item = String>, classify: &dyn Fn(&str) -> BotClass, odd: &mut Vec<String>) {
    for ua in uas {
        let split = if held_out(&ua) { "held-out" } else { "train" };
        let class = classify(&ua);
        let wrong = match label {
            Label::Bot => matches!(class, BotClass::Browser | BotClass::Unknown),
            Label::Browser => class != BotClass::Browser,
            Label::NotBot => !matches!(class, BotClass::Browser | BotClass::Unknown),
        };
        if wrong && odd.len() < 40 && split == "train" {
            odd.push(format!("{set} {label:?} -> {}: {ua}", class.code()));
        }
        table.entry((set.to_string(), label, split)).or_default().add(class);
    }
}

fn labelled_table() -> (Table, Vec<String>) {
    let mut table = Table::new();
    let mut odd = Vec::new();
    let builtin = &classify_user_agent;
    let list = crawlers();
    measure(&mut table, "crawler-user-agents", Label::Bot, list.iter().flat_map(|c| c.instances.clone()), builtin, &mut odd);
    // The grammar alone on crawlers whose patterns it was not given.
    let rows: Vec<(&str, BotClass)> = list.iter().filter(|c| !held_out(&c.pattern)).map(|c| (c.pattern.as_str(), BotClass::from_corpus_tags(&c.tags))).collect();
    let partial = UaClassifier::new(&rows).unwrap_or_else(|e| panic!("patterns: {e}"));
    let unseen = list.iter().filter(|c| held_out(&c.pattern)).flat_map(|c| c.instances.clone());
    for ua in unseen {
        let class = partial.classify(&ua);
        if matches!(class, BotClass::Browser | BotClass::Unknown) && odd.len() < 60 {
            odd.push(format!("crawler (pattern unseen) -> {}: {ua}", class.code()));
        }
        table.entry(("crawler-user-agents, patterns unseen".into(), Label::Bot, "held-out")).or_default().add(class);
    }
    let top: Vec<String> = serde_json::from_str(&read("top-user-agents/src/index.json")).unwrap_or_default();
    assert_eq!(top.len(), 100, "top-user-agents");
    measure(&mut table, "top-user-agents", Label::Browser, top, builtin, &mut odd);
    let (spiders, devices): (Vec<_>, Vec<_>) = uap("uap-core/tests/test_device.yaml").into_iter().partition(|c| c.family == "Spider");
    measure(&mut table, "uap-core test_device", Label::Bot, spiders.into_iter().map(|c| c.user_agent_string), builtin, &mut odd);
    measure(&mut table, "uap-core test_device", Label::NotBot, devices.into_iter().map(|c| c.user_agent_string), builtin, &mut odd);
    for (name, rel) in [("uap-core firefox", "uap-core/test_resources/firefox_user_agent_strings.yaml"), ("uap-core opera mini", "uap-core/test_resources/opera_mini_user_agent_strings.yaml")] {
        measure(&mut table, name, Label::Browser, uap(rel).into_iter().map(|c| c.user_agent_string), builtin, &mut odd);
    }
    (table, odd)
}

/// Every labelled UA of every corpus, classified; the rates per corpus and
/// split are printed (the README and docs/benchmarks.md quote them) and held
/// to floors on both splits.
#[test]
fn labelled_user_agents_get_their_class() {
    let (table, odd) = labelled_table();
    let unindexed = UaClassifier::builtin().map_or(usize::MAX, UaClassifier::unindexed_patterns);
    println!("crawler patterns without a literal (run on every UA): {unindexed}");
    assert!(unindexed <= 30, "{unindexed} patterns run on every UA");
    println!("{:<40} {:<8} {:<9} {:>6} {:>8} {:>9} {:>9}", "corpus", "label", "split", "n", "bot %", "browser %", "unknown %");
    for ((set, label, split), t) in &table {
        println!("{set:<40} {:<8} {split:<9} {:>6} {:>8.2} {:>9.2} {:>9.2}", format!("{label:?}"), t.total, t.pct(t.bot), t.pct(t.browser), t.pct(t.unknown));
    }
    for line in &odd {
        println!("  {line}");
    }
    for ((set, label, split), t) in &table {
        let at = format!("{set} {label:?} {split}: {t:?}");
        assert!(t.total > 0, "{at}");
        match (set.as_str(), label) {
            ("crawler-user-agents", Label::Bot) => assert!(t.pct(t.bot) >= 99.0, "{at}"),
            ("crawler-user-agents, patterns unseen", _) => assert!(t.pct(t.bot) >= 80.0 && t.pct(t.browser) <= 5.0, "{at}"),
            (_, Label::Bot) => assert!(t.pct(t.bot) >= 85.0 && t.pct(t.browser) <= 5.0, "{at}"),
            ("top-user-agents" | "uap-core firefox" | "uap-core opera mini", Label::Browser) => assert!(t.pct(t.browser) >= 99.0, "{at}"),
            (_, Label::NotBot) => assert!(t.pct(t.bot) <= 1.5 && t.pct(t.browser) >= 85.0, "{at}"),
            _ => panic!("no floor for {at}"),
        }
    }
}

/// Each crawler instance gets the class its corpus tags give it.
#[test]
fn crawler_instances_classify_by_tag() {
    let mut right = 0;
    let mut total = 0;
    for c in crawlers() {
        let want = BotClass::from_corpus_tags(&c.tags);
        for inst in &c.instances {
            total += 1;
            right += usize::from(classify_user_agent(inst) == want);
        }
    }
    let pct = 100.0 * right as f64 / total as f64;
    println!("crawler instances with their tagged class: {right}/{total} {pct:.2}%");
    assert!(pct >= 98.0, "{pct:.2}%");
}

#[test]
fn top_browsers_with_browser_headers_score_human() {
    let top: Vec<String> = serde_json::from_str(&read("top-user-agents/src/index.json")).unwrap_or_default();
    let headers = [("Accept", "text/html"), ("Accept-Language", "en-US"), ("Accept-Encoding", "br")];
    for ua in &top {
        let v = bot_score(ua, &headers, "HTTP/2", None, false);
        assert!(v.score >= 80, "{ua}: {v:?}");
    }
}

/// The generator: one `[pattern, class]` row per line, corpus order.
fn generate_bot_patterns(list: &[Crawler]) -> String {
    let mut out = String::from("[\n");
    for (i, c) in list.iter().enumerate() {
        let row = (&c.pattern, BotClass::from_corpus_tags(&c.tags).code());
        out.push_str(&serde_json::to_string(&row).unwrap_or_default());
        out.push_str(if i + 1 < list.len() { ",\n" } else { "\n" });
    }
    out.push_str("]\n");
    out
}

#[test]
fn bot_patterns_current() {
    let generated = generate_bot_patterns(&crawlers());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/bot_patterns.json");
    if std::env::var_os("BOTS_REGEN").is_some() {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(current == generated, "edge/data/bot_patterns.json is stale: rerun with BOTS_REGEN=1");
}
