//! The compiled CRS ruleset, its settings, and one request through it.

use std::sync::{Arc, Mutex};

use zentinel_modsec::variables::Collection;
use zentinel_modsec::{ModSecurity, Transaction};

use super::load::{self, LoadNote};
use crate::waf::{Categories, Exclusion, WafConfig};

/// What the engine is compiled from: the parts of a [`WafConfig`] CRS reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    pub paranoia: u8,
    pub threshold: u32,
    pub categories: Categories,
    pub exclusions: Vec<Exclusion>,
    /// Extra SecLang placed after the setup, before the rules. For the
    /// conformance tests (CRS's go-ftw setup); documents cannot set it.
    #[doc(hidden)]
    pub extra_setup: String,
    /// Evaluate CRS's paranoia gates on every request instead of deciding
    /// them at load (`paranoia.rs`); for the tests that compare the two.
    #[doc(hidden)]
    pub keep_paranoia_gates: bool,
}

impl Settings {
    pub fn from_config(cfg: &WafConfig) -> Self {
        Settings {
            paranoia: cfg.paranoia_level(),
            threshold: cfg.threshold,
            categories: cfg.categories.clone(),
            exclusions: cfg.exclusions.clone(),
            extra_setup: String::new(),
            keep_paranoia_gates: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrsError {
    /// The shipped rules did not load (a bug: `tests::stock_rules_load` guards it).
    Load(String),
    /// An exclusion cannot be expressed for CRS.
    Config(String),
}

impl std::fmt::Display for CrsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CrsError::Load(e) => write!(f, "CRS rules failed to load: {e}"),
            CrsError::Config(e) => write!(f, "CRS exclusion: {e}"),
        }
    }
}

impl std::error::Error for CrsError {}

/// One request as CRS sees it.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub method: &'a str,
    /// Raw request target: path and query, still percent-encoded.
    pub uri: &'a str,
    /// `HTTP/1.1`, `HTTP/2`, …
    pub protocol: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    pub client_ip: Option<&'a str>,
}

/// One CRS detection rule that matched, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrsMatch {
    pub rule_id: String,
    /// The SecLang variable, e.g. `ARGS:id`, `REQUEST_HEADERS:User-Agent`.
    pub target: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// `TX:BLOCKING_INBOUND_ANOMALY_SCORE` after phase 2.
    pub score: u32,
    /// CRS denied the request (949110, or another disruptive rule).
    pub blocked: bool,
    /// Detection rules (911–944) that matched, at most [`crate::waf::MAX_MATCHES`].
    pub matches: Vec<CrsMatch>,
    /// Every rule that fired in full (whole chain), bookkeeping rules
    /// included, sorted (the go-ftw conformance tests name those too).
    pub rule_ids: Vec<String>,
}

/// CRS detection rules are `9NN100`–`9NN999` in files 911–944; the `9NN0xx`
/// rules only gate paranoia levels.
fn detection_rule(id: u64) -> bool {
    (911_000..949_000).contains(&id) && id % 1000 >= 100
}

/// A compiled CRS ruleset for one configuration.
pub struct Engine {
    modsec: ModSecurity,
    notes: Vec<LoadNote>,
    probes: super::captures::Probes,
    /// The rule ids a verdict reports when they fire, sorted.
    reported: Vec<u64>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("rules", &self.modsec.rule_count()).finish()
    }
}

impl Engine {
    pub fn new(settings: &Settings) -> Result<Engine, CrsError> {
        let loaded = load::load(settings)?;
        Ok(Engine { modsec: loaded.modsec, notes: loaded.notes, probes: loaded.probes, reported: loaded.reported })
    }

    /// What the loader changed in the stock rules (inlined word lists, …).
    pub fn notes(&self) -> &[LoadNote] {
        &self.notes
    }

    pub fn rule_count(&self) -> usize {
        self.modsec.rule_count()
    }

    /// Every variable a rule (or chain link) matched, in order, as
    /// `id target=value`: for debugging the conformance suite (`CRS_ONLY`).
    #[doc(hidden)]
    pub fn trace(&self, req: &Request<'_>) -> Vec<String> {
        let tx = self.run(req);
        tx.matched_data().iter().map(|m| format!("{} {}={:?}", m.rule_id.as_deref().unwrap_or("-"), m.variable, m.value)).collect()
    }

    /// Only the values the layer computes per request for the engine (see
    /// `captures`), returning how many: for the benchmark that prices them.
    #[doc(hidden)]
    pub fn layer_values(&self, req: &Request<'_>) -> usize {
        let parsed = super::captures::request_data(req.method, req.uri, req.protocol, req.headers, req.body);
        let mut tx = zentinel_modsec::variables::TxCollection::new();
        self.probes.fill(&parsed, &mut tx);
        zentinel_modsec::variables::Collection::count(&tx)
    }

    /// Run phases 1 and 2 (request headers, request body).
    pub fn inspect(&self, req: &Request<'_>) -> Verdict {
        let tx = self.run(req);
        let verdict = self.verdict(&tx);
        // Its collections and tables serve the isolate's next request.
        tx.recycle();
        verdict
    }

    fn run(&self, req: &Request<'_>) -> Transaction {
        let mut tx = self.modsec.new_transaction();
        if let Some(ip) = req.client_ip {
            tx.set_client_addr(ip, 0);
        }
        let protocol = if req.protocol.is_empty() { "HTTP/1.1" } else { req.protocol };
        let method = if req.method.is_empty() { "GET" } else { req.method };
        let parsed = super::captures::request_data(method, req.uri, protocol, req.headers, req.body);
        self.probes.fill(&parsed, tx.tx_mut());
        // These calls record into the transaction and do not fail on request
        // data; an error would still leave what ran so far, which is reported.
        let _ = tx.process_uri(req.uri, method, protocol);
        for (name, value) in req.headers {
            let _ = tx.add_request_header(name, value);
        }
        let _ = tx.process_request_headers();
        if tx.intervention().is_none() {
            if !req.body.is_empty() {
                let _ = tx.append_request_body(req.body);
            }
            let _ = tx.process_request_body();
        }
        tx
    }

    fn verdict(&self, tx: &Transaction) -> Verdict {
        let score = tx
            .tx()
            .get("blocking_inbound_anomaly_score")
            .and_then(|v| v.first().and_then(|s| s.trim().parse::<i64>().ok()))
            .unwrap_or(0)
            .max(0) as u32;
        let mut fired: Vec<u64> = tx
            .matched_rules()
            .iter()
            .filter_map(|id| id.parse::<u64>().ok())
            .filter(|id| self.reported.binary_search(id).is_ok())
            .collect();
        fired.sort_unstable();
        fired.dedup();
        let mut matches: Vec<CrsMatch> = Vec::new();
        for m in tx.matched_data() {
            let Some(id) = m.rule_id.as_deref().and_then(|id| id.parse::<u64>().ok()) else { continue };
            if !detection_rule(id) || fired.binary_search(&id).is_err() {
                continue;
            }
            let target = super::captures::reported_target(&m.variable);
            let found = CrsMatch { rule_id: id.to_string(), target };
            if !matches.contains(&found) && matches.len() < crate::waf::MAX_MATCHES {
                matches.push(found);
            }
        }
        let rule_ids = fired.iter().map(u64::to_string).collect();
        Verdict { score, blocked: tx.has_intervention(), matches, rule_ids }
    }
}

/// Compiled engines of this isolate, most recent last. A handful of distinct
/// `waf` configurations is the norm; the cap bounds memory if a document
/// changes often (an engine is a few MB).
static ENGINES: Mutex<Vec<(Settings, Arc<Engine>)>> = Mutex::new(Vec::new());
const MAX_ENGINES: usize = 4;

/// The engine for `cfg`, compiled on first use in this isolate.
pub fn engine(cfg: &WafConfig) -> Result<Arc<Engine>, CrsError> {
    let settings = Settings::from_config(cfg);
    let mut cache = ENGINES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, e)) = cache.iter().find(|(s, _)| *s == settings) {
        return Ok(Arc::clone(e));
    }
    let engine = Arc::new(Engine::new(&settings)?);
    if cache.len() >= MAX_ENGINES {
        cache.remove(0);
    }
    cache.push((settings, Arc::clone(&engine)));
    Ok(engine)
}

