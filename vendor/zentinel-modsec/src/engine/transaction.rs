//! Transaction processing for ModSecurity.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::chain::ChainState;
use super::control::{CtlDirective, TransactionControls};
use super::intervention::Intervention;
use super::phase::Phase;
use super::ruleset::{CompiledRule, CompiledRuleset, RuleEngineMode};
use super::scoring::AnomalyScore;
use crate::actions::{execute_actions_lean, ActionResult, DisruptiveOutcome, FlowOutcome};
use crate::error::Result;
use crate::operators::Operator;
use crate::variables::{Collection, MutableCollection, RequestData, ResponseData, TxCollection, VariableResolver};

/// Whether a lowercased Content-Type denotes a JSON body.
///
/// Covers the `+json` structured suffix (RFC 6839) as well as `application/json`,
/// so `application/vnd.api+json`, `application/problem+json` and friends are
/// inspected rather than silently falling through to the urlencoded parser.
/// Room for the TX keys of a CRS request before the map grows.
const TX_CAPACITY: usize = 256;

/// From this length a text's "this step leaves it alone" is remembered (see
/// `Transaction::walk`); a shorter one is rescanned, which costs less than
/// the lookup.
const LONG_TEXT: usize = 128;

fn is_json_content_type(ct_lower: &str) -> bool {
    let media_type = ct_lower.split(';').next().unwrap_or("").trim();
    media_type == "application/json" || media_type == "text/json" || media_type.ends_with("+json")
}

/// Whether a lowercased Content-Type denotes an XML body.
///
/// Covers the `+xml` structured suffix (RFC 6839), so SOAP
/// (`application/soap+xml`), Atom and friends are inspected rather than
/// falling through to a parser that finds nothing in them.
fn is_xml_content_type(ct_lower: &str) -> bool {
    let media_type = ct_lower.split(';').next().unwrap_or("").trim();
    media_type == "application/xml" || media_type == "text/xml" || media_type.ends_with("+xml")
}

thread_local! {
    /// Transactions given back by [`Transaction::recycle`], oldest first.
    static RECYCLED: RefCell<Vec<Transaction>> = const { RefCell::new(Vec::new()) };
}

/// How many recycled transactions a thread keeps (one per ruleset in use).
const RECYCLED_MAX: usize = 4;

/// A ModSecurity transaction for processing a single request.
pub struct Transaction {
    /// Compiled ruleset reference.
    ruleset: Arc<CompiledRuleset>,
    /// Request data.
    request: RequestData,
    /// Response data.
    response: ResponseData,
    /// TX collection (mutable variables).
    tx: TxCollection,
    /// Current phase.
    phase: Phase,
    /// Intervention (if any).
    intervention: Option<Intervention>,
    /// Anomaly score tracker.
    anomaly_score: AnomalyScore,
    /// Default block status.
    default_status: u16,
    /// Matched rules.
    matched_rules: Vec<String>,
    /// Allow flag (skip further processing).
    allowed: bool,
    /// Matched variables for current rule evaluation.
    matched_vars: Vec<(String, String)>,
    /// Regex captures from last match.
    captures: Vec<String>,
    /// Per-transaction `ctl:` overrides.
    controls: TransactionControls,
    /// Every variable that caused a rule to match, in order.
    ///
    /// Separate from `matched_vars`, which ModSecurity scopes to the current
    /// rule so that `MATCHED_VARS` reads correctly. This accumulates for the
    /// whole transaction, because audit logging wants to answer "what did
    /// rule 942100 actually see" after the fact.
    matched_data: Vec<MatchedData>,
    /// Transformed values and their prefilter hits, per pipeline, shared by
    /// every rule of the transaction (edge patch).
    memo: RefCell<Memo>,
}

/// Per-transaction caches of the edge patch: CRS reads the same few variable
/// lists through the same few transformation pipelines in hundreds of rules.
/// The per-phase tables are indexed by the small numbers the ruleset gives
/// static lists, variables and pipelines: no hashing, no copies of values.
#[derive(Default)]
struct Memo {
    /// Every distinct value seen, numbered (salted SipHash: the keys are request
    /// data, so a collision-resistant hasher stays).
    ids: crate::hash::Map<Rc<str>, u32>,
    /// `[value id]`: every value's text. Each text carries what its
    /// transformations made of it, so a step that pipelines share
    /// (`lowercase` after steps that left the value alone, say) runs once
    /// per text; a short one's node is shared with later transactions
    /// (`texts`, edge patch 41).
    values: Vec<Rc<Transformed>>,
    /// The ruleset's prefilter (`GroupFilter::id`, 0 for none): the shared
    /// texts' hits are that filter's.
    filter: u64,
    /// `[pipeline][value id]`: the value after that pipeline.
    transformed: Vec<Vec<Option<Rc<Transformed>>>>,
    /// `[static list]`, per phase (a list set before the body, per
    /// transaction): what each of its variables resolved to.
    lists: Vec<Option<Rc<[Rc<Resolved>]>>>,
    /// `[static variable]`, as `lists`: what it resolved to.
    specs: Vec<Option<Rc<Resolved>>>,
    /// `[static list][pipeline]`, as `lists`: which prefiltered rules could
    /// match any of the list's values.
    list_hits: Vec<Vec<Option<Vec<u64>>>>,
    /// `list_hits`' bit vectors once forgotten, for the next ones to fill.
    spare_bits: Vec<Vec<u64>>,
    /// The lists whose row of `list_hits` was written since it was last
    /// forgotten (the rows are many and mostly empty).
    hit_rows: Vec<u32>,
    /// This use of the transaction, unique (never 0): what a kept node's
    /// stamp is compared with (see `id`).
    serial: u64,
}

/// A new `Memo::serial`.
fn next_serial() -> u64 {
    static SERIALS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    SERIALS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// One variable's values: each name with its value's number.
type Resolved = Vec<(String, u32)>;

/// `v[i]`, the vector grown with `None`s to hold it.
fn slot<T>(v: &mut Vec<Option<T>>, i: usize) -> &mut Option<T> {
    if v.len() <= i {
        v.resize_with(i + 1, || None);
    }
    &mut v[i]
}

/// What a recycled transaction's tables keep: the vectors of a request of a
/// few thousand values, not more.
const KEPT_VALUES: usize = 4096;

impl Memo {
    /// Forgets what the lists resolved to and which rules their values hit.
    fn forget_resolved(&mut self) {
        // Hits are recorded only for a list resolved since the last call
        // (`cannot_match` after `list_values`): none to forget without one.
        if self.lists.is_empty() {
            return;
        }
        self.lists.clear();
        self.specs.clear();
        self.forget_hits(|_| true);
    }

    /// Forgets the prefilter hits of the written lists `forget` selects,
    /// their bit vectors kept for reuse.
    fn forget_hits(&mut self, mut forget: impl FnMut(usize) -> bool) {
        let Memo { hit_rows, list_hits, spare_bits, .. } = self;
        hit_rows.retain(|&list| {
            if !forget(list as usize) {
                return true;
            }
            if let Some(row) = list_hits.get_mut(list as usize) {
                spare_bits.extend(row.drain(..).flatten());
            }
            false
        });
    }

    /// Empties the tables for a recycled transaction, keeping what they
    /// allocated (edge patch).
    fn recycle(&mut self) {
        self.forget_resolved();
        if self.values.len() > KEPT_VALUES || self.spare_bits.len() > KEPT_VALUES {
            *self = Memo { filter: self.filter, serial: next_serial(), ..Memo::default() };
            return;
        }
        // A fresh serial: the stamps this use left on kept nodes are stale.
        self.serial = next_serial();
        self.ids.clear();
        self.values.clear();
        for row in &mut self.transformed {
            row.clear();
        }
    }

    fn id(&mut self, value: &str) -> u32 {
        // A short value: its kept node says whether this transaction has
        // numbered it (one lookup, where the map below took two more).
        if value.len() <= super::texts::MAX_TEXT {
            let node = super::texts::node(self.filter, value);
            if node.kept {
                let (serial, id) = node.stamp.get();
                if serial == self.serial {
                    return id;
                }
                let id = self.values.len() as u32;
                node.stamp.set((self.serial, id));
                self.values.push(node);
                return id;
            }
        }
        if let Some(id) = self.ids.get(value) {
            return *id;
        }
        let id = self.values.len() as u32;
        let node = super::texts::node(self.filter, value);
        self.ids.insert(Rc::clone(&node.value), id);
        self.values.push(node);
        id
    }
}

use super::texts::Transformed;

/// The variable a rule matched on.
#[derive(Debug, Clone)]
struct MatchedVariable {
    name: String,
    value: String,
    portion: Option<String>,
}

/// Result of evaluating one rule.
struct RuleOutcome {
    matched: bool,
    captures: Vec<String>,
    matched_variable: Option<MatchedVariable>,
    /// For a `capture` rule that matched: what goes into `TX:0`…`TX:9`.
    groups: Option<Vec<String>>,
    /// The other variables a chain's rule matched, `(name, value)`, after
    /// `matched_variable`: the rest of `MATCHED_VARS`.
    more: Vec<(String, String)>,
}

impl RuleOutcome {
    fn no_match() -> Self {
        Self {
            matched: false,
            captures: Vec::new(),
            matched_variable: None,
            groups: None,
            more: Vec::new(),
        }
    }
}

/// What a rule matched on.
///
/// `matched_rules()` gives rule IDs, which says a rule fired but not why.
/// Without the variable and value there is no way to tell a true positive
/// from a false one, or to write a useful audit log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedData {
    /// ID of the rule that matched, if it has one.
    pub rule_id: Option<String>,
    /// Name of the variable that matched, e.g. `ARGS:json.q`.
    pub variable: String,
    /// The variable's value, after transformations were applied.
    ///
    /// This is what `MATCHED_VAR` resolves to -- the whole value, not the
    /// portion the operator hit.
    pub value: String,
    /// The portion of the value the operator matched, when it reports one.
    ///
    /// `@contains evil` against `something-evil-here` gives `evil` here and
    /// the full string in `value`. Operators that match the whole value, or
    /// do not report a portion, leave this `None`.
    pub matched_portion: Option<String>,
}

impl Transaction {
    /// Create a new transaction.
    pub fn new(ruleset: Arc<CompiledRuleset>, default_status: u16) -> Self {
        let ruleset_filter = ruleset.prefilter().map_or(0, super::prefilter::GroupFilter::id);
        Self {
            ruleset,
            request: RequestData::new(),
            response: ResponseData::new(),
            // CRS sets a couple of hundred TX keys per request: sized once
            // instead of rehashing (SipHash of every key) as it grows
            // (edge patch).
            tx: TxCollection::with_capacity(TX_CAPACITY),
            phase: Phase::RequestHeaders,
            intervention: None,
            anomaly_score: AnomalyScore::new(),
            default_status,
            matched_rules: Vec::new(),
            allowed: false,
            matched_vars: Vec::new(),
            captures: Vec::new(),
            controls: TransactionControls::default(),
            matched_data: Vec::new(),
            memo: RefCell::new(Memo { filter: ruleset_filter, serial: next_serial(), ..Memo::default() }),
        }
    }

    /// A transaction of `ruleset`: one this thread recycled when there is
    /// one, else a new one (edge patch; see [`recycle`](Self::recycle)).
    pub(crate) fn reused_or_new(ruleset: &Arc<CompiledRuleset>, default_status: u16) -> Self {
        let reused = RECYCLED
            .try_with(|kept| {
                let mut kept = kept.try_borrow_mut().ok()?;
                let at = kept.iter().position(|t| Arc::ptr_eq(&t.ruleset, ruleset))?;
                Some(kept.swap_remove(at))
            })
            .ok()
            .flatten();
        match reused {
            Some(mut tx) => {
                tx.default_status = default_status;
                tx
            }
            None => Self::new(Arc::clone(ruleset), default_status),
        }
    }

    /// Done with this transaction: it is emptied to what [`new`](Self::new)
    /// makes, keeping its collections' and tables' allocations, for this
    /// thread's next transaction of the same ruleset (edge patch). CRS sets
    /// over a hundred TX keys and fills a dozen tables per request; a new
    /// transaction allocated all of them again. A few are kept per thread.
    pub fn recycle(mut self) {
        let Transaction {
            ruleset: _,
            request,
            response,
            tx,
            phase,
            intervention,
            anomaly_score,
            default_status: _,
            matched_rules,
            allowed,
            matched_vars,
            captures,
            controls,
            matched_data,
            memo,
        } = &mut self;
        request.recycle();
        *response = ResponseData::new();
        tx.recycle();
        *phase = Phase::RequestHeaders;
        *intervention = None;
        *anomaly_score = AnomalyScore::new();
        matched_rules.clear();
        *allowed = false;
        matched_vars.clear();
        captures.clear();
        *controls = TransactionControls::default();
        matched_data.clear();
        memo.get_mut().recycle();
        let _ = RECYCLED.try_with(|kept| {
            if let Ok(mut kept) = kept.try_borrow_mut() {
                if kept.len() >= RECYCLED_MAX {
                    kept.remove(0);
                }
                kept.push(self);
            }
        });
    }

    /// Set the client address, backing `REMOTE_ADDR` and `REMOTE_PORT`.
    ///
    /// Without this there is no way for a caller to populate them, so every
    /// IP-based rule -- `@ipMatch`, CRS IP reputation, allow and deny lists --
    /// evaluated against an empty string and never matched.
    pub fn set_client_addr(&mut self, ip: &str, port: u16) {
        self.request.client_ip = ip.to_string();
        self.request.client_port = port;
    }

    /// Set the local address, backing `SERVER_ADDR` and `SERVER_PORT`.
    pub fn set_server_addr(&mut self, ip: &str, port: u16) {
        self.request.server_addr = ip.to_string();
        self.request.server_port = port;
    }

    /// Set the server name, backing `SERVER_NAME`.
    pub fn set_server_name(&mut self, name: &str) {
        self.request.server_name = name.to_string();
    }

    /// Every variable that caused a rule to match, in order.
    ///
    /// Pairs with [`matched_rules`](Self::matched_rules): that says which
    /// rules fired, this says what they saw.
    pub fn matched_data(&self) -> &[MatchedData] {
        &self.matched_data
    }

    /// Forget what variables resolved to: the request or TX changed from
    /// outside (edge patch; see `run_phase`).
    fn forget_resolved(&mut self) {
        self.memo.get_mut().forget_resolved();
    }

    /// Process the request URI.
    pub fn process_uri(&mut self, uri: &str, method: &str, protocol: &str) -> Result<()> {
        self.forget_resolved();
        self.request.set_uri(uri);
        self.request.set_method(method);
        self.request.set_protocol(protocol);
        Ok(())
    }

    /// Add a request header.
    pub fn add_request_header(&mut self, name: &str, value: &str) -> Result<()> {
        self.forget_resolved();
        self.request.add_header(name, value);
        Ok(())
    }

    /// Process request headers (Phase 1).
    pub fn process_request_headers(&mut self) -> Result<()> {
        self.phase = Phase::RequestHeaders;
        self.run_phase(Phase::RequestHeaders)?;
        Ok(())
    }

    /// Append data to request body.
    pub fn append_request_body(&mut self, data: &[u8]) -> Result<()> {
        self.request.append_body(data);
        Ok(())
    }

    /// Process request body (Phase 2).
    pub fn process_request_body(&mut self) -> Result<()> {
        self.phase = Phase::RequestBody;

        let content_type = self
            .request
            .headers
            .get("content-type")
            .and_then(|v| v.first().map(|s| s.to_string()));
        let ct_lower = content_type
            .as_deref()
            .map(|ct| ct.trim_start().to_ascii_lowercase())
            .unwrap_or_default();

        // ctl:requestBodyAccess=Off, typically set in phase 1, suppresses body
        // parsing entirely. Phase 2 rules still run; they just find no ARGS_POST
        // or FILES, which is what disabling body access means.
        if !self.controls.request_body_access() {
            self.run_phase(Phase::RequestBody)?;
            return Ok(());
        }

        // ctl:requestBodyProcessor overrides Content-Type sniffing. CRS relies
        // on this to force a processor when the header is absent or lying.
        if let Some(forced) = self.controls.request_body_processor() {
            match forced {
                "MULTIPART" => {
                    if !self
                        .request
                        .parse_multipart_body(content_type.as_deref().unwrap_or_default())
                    {
                        tracing::warn!(
                            "ctl:requestBodyProcessor=MULTIPART, but the body has no parseable \
                             boundary; body arguments were not extracted"
                        );
                    }
                }
                "URLENCODED" => {
                    self.request.parse_form_body();
                    self.request.body_processor = "URLENCODED".to_string();
                }
                "JSON" => self.process_json_body(),
                "XML" => self.process_xml_body(),
                // CtlDirective::parse admits no other value.
                other => debug_assert!(false, "unsupported forced body processor: {other}"),
            }
            self.run_phase(Phase::RequestBody)?;
            return Ok(());
        }

        if ct_lower.starts_with("multipart/form-data") {
            // Multipart body processor: populates ARGS_POST, FILES and
            // MULTIPART_PART_HEADERS. Never fall back to the urlencoded
            // parser for multipart payloads — that would produce bogus ARGS.
            if !self
                .request
                .parse_multipart_body(content_type.as_deref().unwrap_or_default())
            {
                tracing::warn!(
                    "multipart/form-data request without a parseable boundary; \
                     body arguments were not extracted"
                );
            }
        } else if is_xml_content_type(&ct_lower) {
            self.process_xml_body();
        } else if is_json_content_type(&ct_lower) {
            // JSON bodies previously fell through to the urlencoded parser,
            // which extracts nothing usable from them -- so ARGS was empty and
            // rules like CRS 942100 (`SecRule ARGS "@detectSQLi"`) had nothing
            // to inspect. An injection payload was blocked in a form body and
            // passed unexamined in a JSON body.
            self.process_json_body();
        } else {
            self.request.parse_form_body();
            if ct_lower.starts_with("application/x-www-form-urlencoded") {
                self.request.body_processor = "URLENCODED".to_string();
            }
        }

        self.run_phase(Phase::RequestBody)?;
        Ok(())
    }

    /// Run the XML body processor, recording any failure.
    ///
    /// As with JSON, a failure is not fatal: phase 2 still runs so a rule
    /// testing `REQBODY_ERROR` can act on it.
    fn process_xml_body(&mut self) {
        if let Err(e) = self.request.parse_xml_body() {
            tracing::debug!(
                error = %e,
                "request body could not be processed as XML; REQBODY_ERROR is set"
            );
        }
    }

    /// Run the JSON body processor, recording any failure.
    ///
    /// A failure is deliberately not fatal: the request still goes through
    /// phase 2 so that rules testing `REQBODY_ERROR` can act on it, which is
    /// how CRS rule 200002 blocks bodies it could not parse. Dropping the
    /// request here instead would take that decision away from the ruleset.
    fn process_json_body(&mut self) {
        if let Err(e) = self.request.parse_json_body() {
            tracing::debug!(
                error = %e,
                "request body could not be processed as JSON; REQBODY_ERROR is set"
            );
        }
    }

    /// Add a response header.
    pub fn add_response_header(&mut self, name: &str, value: &str) -> Result<()> {
        self.response.add_header(name, value);
        Ok(())
    }

    /// Process response headers (Phase 3).
    pub fn process_response_headers(&mut self) -> Result<()> {
        self.phase = Phase::ResponseHeaders;
        self.run_phase(Phase::ResponseHeaders)?;
        Ok(())
    }

    /// Append data to response body.
    pub fn append_response_body(&mut self, data: &[u8]) -> Result<()> {
        self.response.append_body(data);
        Ok(())
    }

    /// Process response body (Phase 4).
    pub fn process_response_body(&mut self) -> Result<()> {
        self.phase = Phase::ResponseBody;
        self.run_phase(Phase::ResponseBody)?;
        Ok(())
    }

    /// Process logging phase (Phase 5).
    pub fn process_logging(&mut self) -> Result<()> {
        self.phase = Phase::Logging;
        self.run_phase(Phase::Logging)?;
        Ok(())
    }

    /// Get current intervention (if any).
    pub fn intervention(&self) -> Option<&Intervention> {
        self.intervention.as_ref()
    }

    /// Check if there's an intervention.
    pub fn has_intervention(&self) -> bool {
        self.intervention.is_some()
    }

    /// Get matched rule IDs.
    pub fn matched_rules(&self) -> &[String] {
        &self.matched_rules
    }

    /// Get the anomaly score.
    pub fn anomaly_score(&self) -> i32 {
        self.anomaly_score.inbound
    }

    /// Get the TX collection.
    pub fn tx(&self) -> &TxCollection {
        &self.tx
    }

    /// Get mutable TX collection.
    pub fn tx_mut(&mut self) -> &mut TxCollection {
        self.forget_resolved();
        &mut self.tx
    }

    /// The engine mode in force for this transaction.
    ///
    /// `ctl:ruleEngine` overrides the ruleset's configured mode for the
    /// remainder of the transaction; with no override this is the ruleset's
    /// own mode.
    fn engine_mode(&self) -> RuleEngineMode {
        self.controls.engine_mode(self.ruleset.engine_mode())
    }

    /// Run rules for a specific phase.
    fn run_phase(&mut self, phase: Phase) -> Result<()> {
        if self.allowed || self.intervention.is_some() {
            return Ok(());
        }

        // ctl:ruleEngine overrides the ruleset's mode for this transaction, so
        // the effective mode has to be re-read rather than captured once: a
        // rule in an earlier phase may have switched it off.
        if self.engine_mode() == RuleEngineMode::Off {
            return Ok(());
        }

        // Hold the ruleset through its own `Arc` so the rules can be borrowed
        // while `self` is mutated (upstream cloned every rule, actions and
        // variable lists included, per phase per transaction).
        let ruleset = Arc::clone(&self.ruleset);
        let rules: &[CompiledRule] = ruleset.rules_for_phase(phase);
        if rules.is_empty() {
            return Ok(());
        }

        // The body's arguments arrive between phases: what a variable list
        // resolved to in the previous phase is stale, unless it was set before
        // the body (edge patch: the headers, cookies and URI are resolved once
        // a transaction, not once a phase).
        {
            let mut memo = self.memo.borrow_mut();
            let memo = &mut *memo;
            for (i, v) in memo.specs.iter_mut().enumerate() {
                if !ruleset.persistent_spec(i) {
                    *v = None;
                }
            }
            for (i, v) in memo.lists.iter_mut().enumerate() {
                if !ruleset.persistent_list(i) {
                    *v = None;
                }
            }
            memo.forget_hits(|list| !ruleset.persistent_list(list));
        }

        let mut chain_state = ChainState::new();
        // A chain is one logical rule: the starter's actions fire only when
        // every link matches, so they are held here until the chain completes.
        let mut pending_chain_actions: Option<ActionResult> = None;
        // The rule those actions are from (its metadata goes into an
        // intervention).
        let mut pending_chain_rule: usize = 0;
        let mut skip_count: u32 = 0;
        let mut skip_after: Option<String> = None;

        let mut idx = 0;
        while idx < rules.len() {
            // Handle skip
            if skip_count > 0 {
                skip_count -= 1;
                idx += 1;
                continue;
            }

            // Handle skipAfter
            if let Some(ref marker) = skip_after {
                // `idx` is already the rule after the one that skips, so a
                // marker right after that rule sits at `idx` (edge patch: this
                // was `>`, which skipped the rest of the phase instead; CRS's
                // last gate of a file, `@lt 4`, is followed by its marker, so
                // at paranoia 3 nothing after the first file ever ran).
                if let Some(marker_idx) = self.ruleset.marker(marker, phase) {
                    if marker_idx >= idx {
                        idx = marker_idx;
                        skip_after = None;
                        continue;
                    }
                }
                // The marker is unknown, or sits behind the skipping rule:
                // ModSecurity does not jump backwards, so the rest of the
                // phase is skipped.
                idx += 1;
                continue;
            }

            // A ctl:ruleEngine=Off from an earlier rule stops this phase where
            // it stands, rather than only taking effect from the next phase.
            if self.engine_mode() == RuleEngineMode::Off {
                return Ok(());
            }

            let rule = &rules[idx];

            // ctl:ruleRemoveById excluded this rule for this transaction. Skip
            // it as though it were not in the ruleset -- including its chain
            // links, which cannot fire without their starter.
            if self.controls.is_rule_removed(rule.id.as_deref()) {
                if rule.is_chain {
                    chain_state.reset();
                    pending_chain_actions = None;
                    idx += 1;
                    while idx < rules.len() && rules[idx - 1].is_chain {
                        idx += 1;
                    }
                    continue;
                }
                idx += 1;
                continue;
            }

            // Handle chain continuation
            if chain_state.in_chain && !rule.is_chain && rule.chain_next.is_none() {
                // End of chain, check if previous rules in chain matched
                if !chain_state.chain_matched {
                    chain_state.reset();
                    idx += 1;
                    continue;
                }
            }

            // Evaluate rule
            let outcome = self.evaluate_rule(rule)?;
            let matched = outcome.matched;
            let captures = outcome.captures;
            // `capture`: the match's groups in TX:0…TX:9 at once, where the
            // next link of a chain and the rule's own setvars read them; the
            // numbers past the last group are unset, as ModSecurity does.
            if let Some(groups) = outcome.groups {
                const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
                for (i, key) in DIGITS.iter().enumerate() {
                    match groups.get(i) {
                        Some(g) => self.tx.set_str(key, g),
                        None => self.tx.delete(key),
                    }
                }
            }

            if matched {
                // MATCHED_VARS is scoped to the current rule in ModSecurity,
                // so this replaces rather than appends -- otherwise a later
                // rule would read the previous rule's matches.
                // (The first entry's strings are refilled, not reallocated:
                // most of a request's matches are CRS's paranoia gates.)
                self.matched_vars.truncate(1);
                if let Some(var) = outcome.matched_variable {
                    match self.matched_vars.first_mut() {
                        Some((name, value)) => {
                            name.clear();
                            name.push_str(&var.name);
                            value.clear();
                            value.push_str(&var.value);
                        }
                        None => self.matched_vars.push((var.name.clone(), var.value.clone())),
                    }
                    self.matched_vars.extend(outcome.more);
                    // The outcome is moved in, not copied (edge patch).
                    self.matched_data.push(MatchedData {
                        rule_id: rule.id.clone(),
                        variable: var.name,
                        value: var.value,
                        matched_portion: var.portion,
                    });
                } else {
                    self.matched_vars.clear();
                }
            }

            if matched {
                // Execute actions
                let action_result = execute_actions_lean(&rule.actions);

                if rule.is_chain {
                    // A link that expects more links after it. Hold the
                    // starter's actions: nothing may fire until the whole
                    // chain has matched.
                    if !chain_state.in_chain {
                        chain_state.start_chain(idx);
                        pending_chain_actions = Some(action_result);
                        pending_chain_rule = idx;
                    }
                    chain_state.continue_chain(true, &captures);
                    idx += 1;
                    continue;
                }

                // Either a standalone rule, or the final link of a chain that
                // has now matched in full. A completed chain executes the
                // starter's actions, not the last link's.
                let (action_result, source) = if chain_state.in_chain {
                    chain_state.reset();
                    match pending_chain_actions.take() {
                        Some(held) => (held, pending_chain_rule),
                        None => (action_result, idx),
                    }
                } else {
                    (action_result, idx)
                };
                let metadata = || crate::actions::rule_metadata(&rules[source].actions);

                // The rule fired: a chain when its last link matched, under
                // its starter's id, as ModSecurity logs it (edge patch:
                // upstream recorded a starter as soon as it matched, so a
                // chain that then failed was reported as fired).
                if let Some(id) = &rules[source].id {
                    self.matched_rules.push(id.clone());
                }

                // Apply the rule's setvars, from its actions (edge patch:
                // `execute_actions_lean` no longer copies them).
                for action in &rules[source].actions {
                    if let crate::parser::Action::Data(crate::parser::DataAction::SetVar(spec)) = action {
                        self.apply_setvar(spec);
                    }
                }

                // Apply ctl: overrides before the disruptive action below, so
                // that ctl:ruleEngine=DetectionOnly on the same rule governs
                // whether that rule blocks.
                for ctl in &action_result.control_ops {
                    self.controls.apply(CtlDirective::parse(ctl));
                }

                // Handle flow control
                match action_result.flow {
                    FlowOutcome::Chain => {
                        if !chain_state.in_chain {
                            chain_state.start_chain(idx);
                        }
                        chain_state.continue_chain(true, &captures);
                    }
                    FlowOutcome::Skip(n) => {
                        skip_count = n;
                    }
                    FlowOutcome::SkipAfter(marker) => {
                        skip_after = Some(marker);
                    }
                    FlowOutcome::Continue => {}
                }

                // Handle disruptive action
                if let Some(outcome) = action_result.disruptive {
                    // Only apply if not in detection-only mode
                    let should_block = self.engine_mode() == RuleEngineMode::On;

                    match outcome {
                        DisruptiveOutcome::Deny(status) => {
                            if should_block {
                                let mut intervention =
                                    Intervention::deny(status, phase, rule.id.clone());
                                intervention.add_metadata(metadata());
                                self.intervention = Some(intervention);
                                return Ok(());
                            }
                        }
                        DisruptiveOutcome::Block => {
                            if should_block {
                                let mut intervention =
                                    Intervention::deny(self.default_status, phase, rule.id.clone());
                                intervention.add_metadata(metadata());
                                self.intervention = Some(intervention);
                                return Ok(());
                            }
                        }
                        DisruptiveOutcome::Allow => {
                            self.allowed = true;
                            return Ok(());
                        }
                        DisruptiveOutcome::Redirect(url) => {
                            if should_block {
                                let mut intervention =
                                    Intervention::redirect(url, phase, rule.id.clone());
                                intervention.add_metadata(metadata());
                                self.intervention = Some(intervention);
                                return Ok(());
                            }
                        }
                        DisruptiveOutcome::Drop => {
                            if should_block {
                                let mut intervention = Intervention::drop(phase, rule.id.clone());
                                intervention.add_metadata(metadata());
                                self.intervention = Some(intervention);
                                return Ok(());
                            }
                        }
                        DisruptiveOutcome::Pass => {
                            // Continue processing
                        }
                    }
                }
            } else {
                // Rule didn't match. If it belongs to a chain, the chain as a
                // whole cannot match: drop the starter's held actions and skip
                // past the remaining links so they are never evaluated on
                // their own.
                if chain_state.in_chain || rule.is_chain {
                    chain_state.reset();
                    pending_chain_actions = None;
                    while idx < rules.len() && rules[idx].is_chain {
                        idx += 1;
                    }
                    idx += 1;
                    continue;
                }
            }

            // End chain if this is the last rule in chain
            if chain_state.in_chain && !rule.is_chain {
                chain_state.end_chain();
            }

            idx += 1;
        }

        // Sync anomaly score to TX
        self.anomaly_score.sync_to_tx(&mut self.tx);

        Ok(())
    }

    /// Evaluate a single rule.
    fn evaluate_rule(&self, rule: &CompiledRule) -> Result<RuleOutcome> {
        let resolver = VariableResolver::new(
            &self.request,
            &self.response,
            &self.tx,
            // MATCHED_VAR is the value the previous rule matched on. This was
            // a literal `None`, so a rule reading MATCHED_VAR could never
            // fire, however many rules had matched before it.
            self.matched_vars.last().map(|(_, value)| value.as_str()),
            &self.matched_vars,
            &self.captures,
        );

        // Resolve variables from all specs.
        //
        // A spec in count mode (`&VAR`) contributes the *number* of matching
        // values as a single value — 0 when the variable is absent — rather than
        // the values themselves. This matches ModSecurity's `&VARIABLE` semantics
        // and is what CRS's `SecRule &TX:x "@eq 0"` initialization relies on.
        // Emitting a value even for an absent count also keeps the spec out of
        // the "resolved to nothing" early-return below, so `&x "@eq 0"` matches.
        // ctl:ruleRemoveTargetById drops individual targets from this rule for
        // this transaction. The check is hoisted so rules with no exclusion --
        // effectively all of them -- pay one comparison rather than a scan per
        // variable.
        let filter_targets = self.controls.has_target_removals(rule.id.as_deref());

        if !filter_targets {
            if let Some(outcome) = self.evaluate_on_tx_key(rule) {
                return Ok(outcome);
            }
        }

        // A rule over a static list: its values were resolved once this phase.
        // One none of whose literals occurs in any of them cannot match:
        // skip it without running its operator.
        let cached = match rule.static_vars {
            Some(list) if !filter_targets => Some(self.list_values(list, rule, &resolver)),
            _ => None,
        };
        if let Some((list, values)) = &cached {
            // (A multiMatch rule also runs on the texts before its last
            // transformation, which the list's hits do not cover.)
            if !rule.operator_negated && !rule.multi_match && self.cannot_match(rule, *list, values) {
                return Ok(RuleOutcome::no_match());
            }
        }

        let mut all_values: crate::variables::Values<'_> = Vec::new();
        let mut any_excluded = false;
        for spec in rule.variables.iter().filter(|_| cached.is_none()) {
            let mut resolved = resolver.resolve_values(spec);
            if filter_targets {
                let before = resolved.len();
                resolved.retain(|(name, _)| {
                    !self
                        .controls
                        .is_target_removed(rule.id.as_deref(), spec, name)
                });
                any_excluded |= resolved.len() != before;
            }
            if spec.count_mode {
                // An exclusion reduces the count, which is what a rule like
                // `SecRule &ARGS:x "@eq 0"` is asking about.
                all_values.push((format!("&{:?}", spec.name), resolved.len().to_string().into()));
            } else {
                all_values.extend(resolved);
            }
        }

        // Exclusions removed everything this rule had to test. Return before
        // the branch below: a rule stripped down to nothing is not the same as
        // a SecAction with no targets, and running the operator unconditionally
        // could match.
        if any_excluded && all_values.is_empty() {
            return Ok(RuleOutcome::no_match());
        }

        let no_values = match &cached {
            Some((_, values)) => values.iter().all(|v| v.is_empty()),
            None => all_values.is_empty(),
        };
        if no_values {
            // A rule with no variable specs at all (i.e. SecAction) runs its
            // operator unconditionally — this is how CRS sets up TX thresholds.
            if rule.variables.is_empty() {
                let result = rule.operator.execute("");
                let matched = if rule.operator_negated {
                    !result.matched
                } else {
                    result.matched
                };
                // A SecAction has no variable, so there is nothing to report
                // as the match target.
                return Ok(RuleOutcome {
                    matched,
                    captures: result.captures,
                    matched_variable: None,
                    groups: None,
                    more: Vec::new(),
                });
            }
            // Variables were specified but resolved to nothing (e.g. absent
            // header). ModSecurity does not run the operator when there is no
            // value to run it against, so the rule does not match -- including
            // when the operator is negated. Reporting a negated operator as a
            // match here inverts "this variable is absent" into "every request
            // matches", which is how an unimplemented variable turned CRS
            // 920100 (`REQUEST_LINE "!@rx ..."`) into a rule that denied all
            // traffic. Absence is tested with `&VAR "@eq 0"`, which resolves to
            // a count and so never reaches this branch.
            return Ok(RuleOutcome::no_match());
        }

        // If the operator argument references runtime macros (e.g.
        // `@ge %{tx.inbound_anomaly_score_threshold}`), expand them against the
        // current TX state and recompile the operator so the comparison runs
        // against the resolved value. Otherwise use the precompiled operator.
        let dynamic_operator;
        let operator: &dyn Operator = if rule.expanded_operator.applies() {
            let expanded = self.expand_operator_macros(&rule.operator_spec.argument);
            dynamic_operator = rule.expanded_operator.get(&rule.operator_spec, expanded)?;
            dynamic_operator.as_ref()
        } else {
            rule.operator.as_ref()
        };

        // Apply transformations and match
        let fresh = all_values.iter().map(|(n, v)| (n.as_str(), self.memo.borrow_mut().id(v)));
        let listed = cached.as_ref().map(|(_, v)| &v[..]).unwrap_or(&[]);
        let iter = listed.iter().flat_map(|r| r.iter().map(|(n, id)| (n.as_str(), *id))).chain(fresh);
        // The first match decides; a rule a chain goes on from keeps going, as
        // ModSecurity does, so the next link's `MATCHED_VARS` holds every
        // variable it matched (933150's `MATCHED_VARS "@pm ( )"`), one match
        // per value (edge patch).
        let mut first: Option<RuleOutcome> = None;
        let mut last_text: Option<Rc<Transformed>> = None;
        let mut staged: Vec<Rc<Transformed>> = Vec::new();
        'values: for (name, id) in iter {
            let last;
            let texts: &[Rc<Transformed>] = if rule.multi_match {
                // What `multiMatch` runs the operator on: the value as it
                // is, then each text a transformation of `rule` changed it
                // into, in order (ModSecurity's `msre_rule_process_normal`).
                staged.clear();
                self.walk(rule, id, Some(&mut staged));
                &staged
            } else {
                last = [self.transformed(rule, id)];
                &last
            };
            for transformed in texts {
                let result = match (rule.prefilter_slot, self.ruleset.prefilter()) {
                    // None of the literals every match of this regex contains is
                    // in the value: the regex cannot match, so it is not run.
                    (Some(slot), Some(filter))
                        if !super::prefilter::has(transformed.hits.get_or_init(|| filter.hits(&transformed.value)), slot) =>
                    {
                        crate::operators::OperatorResult::no_match()
                    }
                    // An operator that found nothing in this text before
                    // finds nothing again.
                    _ if operator.clean_mark() & transformed.clean.get() != 0 => crate::operators::OperatorResult::no_match(),
                    // Without groups: a `capture` rule's are taken once, from
                    // its last match, below.
                    _ => {
                        let result = operator.execute_uncaptured(&transformed.value);
                        if !result.matched {
                            transformed.clean.set(transformed.clean.get() | operator.clean_mark());
                        }
                        result
                    }
                };

                let final_match = if rule.operator_negated {
                    !result.matched
                } else {
                    result.matched
                };

                if final_match {
                    let matched = MatchedVariable {
                        name: name.to_string(),
                        // ModSecurity's MATCHED_VAR is the *variable's* value, not
                        // the portion the operator hit. The portion is reported
                        // separately, since an audit log wants both: the value to
                        // judge the match, the portion to see what triggered it.
                        value: transformed.value.to_string(),
                        portion: result.matched_value,
                    };
                    match first.as_mut() {
                        None => {
                            first = Some(RuleOutcome {
                                matched: true,
                                captures: result.captures,
                                matched_variable: Some(matched),
                                groups: None,
                                more: Vec::new(),
                            })
                        }
                        Some(f) => f.more.push((matched.name, matched.value)),
                    }
                    last_text = Some(Rc::clone(transformed));
                    if !rule.is_chain {
                        break 'values;
                    }
                    continue 'values;
                }
            }
        }

        match first {
            Some(mut outcome) => {
                // `capture`: the groups of the last match, which ModSecurity's
                // operator wrote last (the regex again, with its groups, on the
                // one text it matched).
                if rule.capture && !rule.operator_negated {
                    outcome.groups = last_text.and_then(|t| operator.capture_groups(&t.value));
                }
                Ok(outcome)
            }
            None => Ok(RuleOutcome::no_match()),
        }
    }

    /// A rule whose one variable is a TX key (`TX:DETECTION_PARANOIA_LEVEL
    /// "@lt 2"`, `&TX:threshold "@eq 0"`), with no transformation or macro,
    /// evaluated on the stored value in place: what the general path decides,
    /// without resolving copies and numbering the value (edge patch). CRS's
    /// paranoia-level gates and set-up checks are over a third of the rules a
    /// request evaluates. `None` for any other rule.
    fn evaluate_on_tx_key(&self, rule: &CompiledRule) -> Option<RuleOutcome> {
        let [spec] = &rule.variables[..] else { return None };
        let Some(crate::parser::Selection::Key(key)) = &spec.selection else { return None };
        if spec.name != crate::parser::VariableName::Tx
            || rule.capture
            || !spec.exclusions.is_empty()
            || !rule.transformations.is_empty()
            || rule.expanded_operator.applies()
        {
            return None;
        }
        let judge = |value: &str, name: &dyn Fn() -> String| {
            let result = rule.operator.execute_uncaptured(value);
            (result.matched != rule.operator_negated).then(|| RuleOutcome {
                matched: true,
                captures: result.captures,
                matched_variable: Some(MatchedVariable { name: name(), value: value.to_string(), portion: result.matched_value }),
                groups: None,
                more: Vec::new(),
            })
        };
        let outcome = if spec.count_mode {
            let count = self.tx.count_key(key).to_string();
            // `format!("&{:?}", spec.name)` of the general path; the name is TX.
            judge(&count, &|| String::from("&Tx"))
        } else {
            // No value: the operator is not run, negated or not (see below).
            self.tx.values(key).iter().find_map(|value| judge(value, &|| ["TX:", key].concat()))
        };
        Some(outcome.unwrap_or_else(RuleOutcome::no_match))
    }

    /// The values of static list `list` (what `rule`'s variables resolve
    /// to), resolved once per phase and numbered.
    fn list_values(
        &self,
        list: u32,
        rule: &CompiledRule,
        resolver: &VariableResolver<'_>,
    ) -> (u32, Rc<[Rc<Resolved>]>) {
        if let Some(Some(v)) = self.memo.borrow().lists.get(list as usize) {
            return (list, Rc::clone(v));
        }
        let mut memo = self.memo.borrow_mut();
        let memo = &mut *memo;
        let mut values = Vec::with_capacity(rule.variables.len());
        for (spec, spec_id) in rule.variables.iter().zip(&rule.static_specs) {
            let resolve = |memo: &mut Memo, spec_id: u32, spec: &crate::parser::VariableSpec| -> Rc<Resolved> {
                if let Some(r) = slot(&mut memo.specs, spec_id as usize) {
                    return Rc::clone(r);
                }
                let r: Resolved = resolver.resolve_values(spec).into_iter().map(|(n, v)| (n, memo.id(&v))).collect();
                let r = Rc::new(r);
                memo.specs[spec_id as usize] = Some(Rc::clone(&r));
                r
            };
            let resolved = match self.ruleset.spec_base(*spec_id as usize) {
                // With exclusions: the variable without them, resolved once
                // for every list that reads it, filtered as `resolve` filters.
                Some(base) if slot(&mut memo.specs, *spec_id as usize).is_none() => {
                    let all = resolve(memo, base.id, &base.spec);
                    let excluded = |name: &str| base.exclusions.iter().any(|e| e.matches(name));
                    let r: Rc<Resolved> = Rc::new(all.iter().filter(|(n, _)| !excluded(n)).cloned().collect());
                    memo.specs[*spec_id as usize] = Some(Rc::clone(&r));
                    r
                }
                _ => resolve(memo, *spec_id, spec),
            };
            values.push(resolved);
        }
        let values: Rc<[Rc<Resolved>]> = values.into();
        *slot(&mut memo.lists, list as usize) = Some(Rc::clone(&values));
        (list, values)
    }

    /// Whether `rule` (non-negated, over static list `list`) is a
    /// prefiltered one none of whose literals is in any of the list's values.
    fn cannot_match(&self, rule: &CompiledRule, list: u32, values: &[Rc<Resolved>]) -> bool {
        let (Some(slot_no), Some(filter)) = (rule.prefilter_slot, self.ruleset.prefilter()) else {
            return false;
        };
        if let Some(Some(bits)) = self.memo.borrow().list_hits.get(list as usize).and_then(|row| row.get(rule.pipeline as usize)) {
            return !super::prefilter::has(bits, slot_no);
        }
        let mut bits: Vec<u64> = self.memo.borrow_mut().spare_bits.pop().unwrap_or_default();
        bits.clear();
        for (_, id) in values.iter().flat_map(|r| r.iter()) {
            let t = self.transformed(rule, *id);
            let hits = t.hits.get_or_init(|| filter.hits(&t.value));
            if bits.len() < hits.len() {
                bits.resize(hits.len(), 0);
            }
            for (b, h) in bits.iter_mut().zip(hits) {
                *b |= h;
            }
        }
        let skip = !super::prefilter::has(&bits, slot_no);
        let mut memo = self.memo.borrow_mut();
        if memo.list_hits.len() <= list as usize {
            memo.list_hits.resize_with(list as usize + 1, Vec::new);
        }
        *slot(&mut memo.list_hits[list as usize], rule.pipeline as usize) = Some(bits);
        memo.hit_rows.push(list);
        skip
    }

    /// Value `id` after `rule`'s transformations, computed once per pipeline
    /// and value in this transaction.
    fn transformed(&self, rule: &CompiledRule, id: u32) -> Rc<Transformed> {
        self.walk(rule, id, None)
    }

    /// Walks value `id` through `rule`'s transformations, each step of each
    /// text made once in this transaction; `changes`, when given, gets the
    /// value and every text a step changed it into.
    fn walk(&self, rule: &CompiledRule, id: u32, mut changes: Option<&mut Vec<Rc<Transformed>>>) -> Rc<Transformed> {
        let mut memo = self.memo.borrow_mut();
        let memo = &mut *memo;
        let id = id as usize;
        let pipeline = rule.pipeline as usize;
        if memo.transformed.len() <= pipeline {
            memo.transformed.resize_with(pipeline + 1, Vec::new);
        }
        let source = Rc::clone(&memo.values[id]);
        // A kept text remembers what each pipeline of this ruleset made of
        // it (the filter's id is the ruleset's; 0, no filter, is shared).
        let remembers = source.kept && memo.filter != 0;
        if changes.is_none() {
            if let Some(hit) = slot(&mut memo.transformed[pipeline], id) {
                return Rc::clone(hit);
            }
            if remembers {
                let found = source.finals.borrow().iter().find(|(p, _)| *p == rule.pipeline).map(|(_, f)| f.clone());
                if let Some(last) = found {
                    let last = last.unwrap_or_else(|| Rc::clone(&source));
                    *slot(&mut memo.transformed[pipeline], id) = Some(Rc::clone(&last));
                    return last;
                }
            }
        }
        let mut node = Rc::clone(&source);
        if let Some(c) = changes.as_deref_mut() {
            c.push(Rc::clone(&node));
        }
        // What `rule.transformations.apply` computes, step by step, each step
        // of each text made once (for a shared text, once per thread).
        for step in rule.transformations.steps() {
            // A short text is scanned again rather than looked up.
            let short = node.value.len() < LONG_TEXT;
            if short && !step.may_change(&node.value) {
                continue;
            }
            let name = step.name();
            let known = node.steps.borrow().iter().find(|(n, _)| *n == name).map(|(_, next)| next.clone());
            let next = match known {
                Some(next) => next,
                None => {
                    // A step that leaves a long text alone is recorded too, so
                    // its `may_change` scan (a pass over the text) runs once
                    // per text, not once per pipeline that reaches it.
                    let next = if !short && !step.may_change(&node.value) {
                        None
                    } else {
                        match step.transform(&node.value) {
                            std::borrow::Cow::Borrowed(_) => None,
                            std::borrow::Cow::Owned(s) => {
                                if node.kept {
                                    super::texts::charge(memo.filter, s.len());
                                }
                                Some(Rc::new(Transformed::new(Rc::from(s), node.kept)))
                            }
                        }
                    };
                    node.steps.borrow_mut().push((name, next.clone()));
                    next
                }
            };
            if let Some(next) = next {
                if let Some(c) = changes.as_deref_mut() {
                    c.push(Rc::clone(&next));
                }
                node = next;
            }
        }
        // (Without `changes`, the lookup above found no record.)
        if remembers && (changes.is_none() || !source.finals.borrow().iter().any(|(p, _)| *p == rule.pipeline)) {
            let last = (!Rc::ptr_eq(&node, &source)).then(|| Rc::clone(&node));
            source.finals.borrow_mut().push((rule.pipeline, last));
            super::texts::charge_final(memo.filter);
        }
        *slot(&mut memo.transformed[pipeline], id) = Some(Rc::clone(&node));
        node
    }

    /// Expand `%{...}` macros in an operator argument against current TX state.
    ///
    /// Only the `TX`/`tx` collection is resolved (the source of operator-argument
    /// macros in CRS, e.g. thresholds and `tx.allowed_methods`); an unresolved
    /// macro expands to an empty string, matching ModSecurity behaviour.
    fn expand_operator_macros(&self, arg: &str) -> String {
        // Edge patch: a scan for `%{…}` instead of a regex `replace_all`
        // (`%\{([^}]+)\}`, the same matches), which ran per evaluation of
        // every rule with a macro in its operator.
        let mut out = String::with_capacity(arg.len());
        let mut rest = arg;
        while let Some(start) = rest.find("%{") {
            let after = &rest[start + 2..];
            match after.find('}') {
                Some(end) if end > 0 => {
                    out.push_str(&rest[..start]);
                    let inner = &after[..end];
                    let (collection, name) = inner.split_once('.').unwrap_or(("tx", inner));
                    if collection.eq_ignore_ascii_case("tx") {
                        if let Some(v) = self.tx.values(name).first() {
                            out.push_str(v);
                        }
                    }
                    rest = &after[end + 1..];
                }
                // `%{}`: not a macro; the scan resumes after its `%`.
                Some(_) => {
                    out.push_str(&rest[..start + 1]);
                    rest = &rest[start + 1..];
                }
                None => break,
            }
        }
        out.push_str(rest);
        out
    }

    /// Apply one `setvar` action to TX (its collection is always TX here).
    fn apply_setvar(&mut self, spec: &crate::parser::SetVarSpec) {
        use crate::parser::SetVarValue;
        let key = spec.key.as_str();
        match &spec.value {
            SetVarValue::String(v) => self.tx.set_str(key, v),
            SetVarValue::Increment(n) => self.tx.increment(key, *n),
            SetVarValue::Decrement(n) => self.tx.decrement(key, *n),
            SetVarValue::Delete => self.tx.delete(key),
            // A macro-bearing value (e.g. `+%{tx.critical_anomaly_score}`) is
            // resolved here, where TX state is available, then re-interpreted
            // as a concrete set/increment/decrement.
            SetVarValue::Macro(raw) => {
                // An empty or non-numeric increment (an unresolved macro) adds 0.
                let expanded = self.expand_operator_macros(raw);
                let amount = |rest: &str| rest.trim().parse().unwrap_or(0);
                if let Some(rest) = expanded.strip_prefix('+') {
                    self.tx.increment(key, amount(rest));
                } else if let Some(rest) = expanded.strip_prefix('-') {
                    self.tx.decrement(key, amount(rest));
                } else {
                    self.tx.set_str(key, &expanded);
                }
            }
        }

        // Sync anomaly score from TX if relevant
        if key == "anomaly_score" {
            self.anomaly_score.sync_from_tx(&self.tx);
        }
    }
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("phase", &self.phase)
            .field("has_intervention", &self.intervention.is_some())
            .field("anomaly_score", &self.anomaly_score.inbound)
            .field("matched_rules", &self.matched_rules)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::variables::Collection;

    fn make_ruleset(rules: &str) -> Arc<CompiledRuleset> {
        Arc::new(CompiledRuleset::from_string(rules).unwrap())
    }

    /// A list set before the body (REQUEST_HEADERS) is resolved once for
    /// both phases, and forgotten when the request changes from outside; a
    /// body variable (ARGS) is resolved again in phase 2.
    #[test]
    fn lists_set_before_the_body_are_kept_across_phases() {
        let rules = r#"
            SecRule REQUEST_HEADERS "@contains evil" "id:1,phase:1,pass,setvar:tx.h1=+1"
            SecRule REQUEST_HEADERS "@contains evil" "id:2,phase:2,pass,setvar:tx.h2=+1"
            SecRule ARGS "@contains evil" "id:3,phase:2,pass,setvar:tx.a2=+1"
        "#;
        let count = |tx: &Transaction, k: &str| tx.tx().get(k).and_then(|v| v.first().map(|s| s.to_string()));
        let mut tx = Transaction::new(make_ruleset(rules), 403);
        tx.process_uri("/?q=evil", "GET", "HTTP/1.1").unwrap();
        tx.add_request_header("X-A", "fine").unwrap();
        tx.process_request_headers().unwrap();
        assert_eq!(count(&tx, "h1"), None);
        // Handed a header between the phases: phase 2 sees it.
        tx.add_request_header("X-B", "evil").unwrap();
        tx.process_request_body().unwrap();
        assert_eq!(count(&tx, "h2").as_deref(), Some("1"));
        assert_eq!(count(&tx, "a2").as_deref(), Some("1"));
        let ruleset = make_ruleset(rules);
        let rule = |phase, id: &str| ruleset.rules_for_phase(phase).iter().find(|r| r.id.as_deref() == Some(id)).cloned();
        let headers = rule(Phase::RequestHeaders, "1").and_then(|r| r.static_specs.first().copied());
        assert!(headers.is_some_and(|s| ruleset.persistent_spec(s as usize)), "REQUEST_HEADERS is set before the body");
        let args = rule(Phase::RequestBody, "3").and_then(|r| r.static_vars);
        assert!(args.is_some_and(|l| !ruleset.persistent_list(l as usize)), "ARGS changes with the body");
    }

    /// Lists with exclusions read the variable resolved once, filtered: each
    /// exclusion (by key, by key regex, case-insensitive) applies to its own
    /// rule only, in either order of the rules.
    #[test]
    fn exclusions_filter_a_shared_resolution() {
        let rules = r#"
            SecRule ARGS|!ARGS:skip "@contains evil" "id:1,phase:2,pass,setvar:tx.r1=+1"
            SecRule ARGS "@contains evil" "id:2,phase:2,pass,setvar:tx.r2=+1"
            SecRule ARGS|!ARGS:/^sk/ "@contains evil" "id:3,phase:2,pass,setvar:tx.r3=+1"
            SecRule ARGS|!ARGS:SKIP|!ARGS:other "@contains evil" "id:4,phase:2,pass,setvar:tx.r4=+1"
        "#;
        let count = |tx: &Transaction, k: &str| tx.tx().get(k).and_then(|v| v.first().map(|s| s.to_string()));
        let run = |uri: &str| {
            let mut tx = Transaction::new(make_ruleset(rules), 403);
            tx.process_uri(uri, "GET", "HTTP/1.1").unwrap();
            tx.process_request_headers().unwrap();
            tx.process_request_body().unwrap();
            ["r1", "r2", "r3", "r4"].map(|k| count(&tx, k).is_some())
        };
        assert_eq!(run("/?skip=evil&other=fine"), [false, true, false, false]);
        assert_eq!(run("/?skip=fine&other=evil"), [true, true, true, false]);
        assert_eq!(run("/?skipper=evil"), [true, true, false, true]);
        let ruleset = make_ruleset(rules);
        let spec = |id: &str| {
            let rule = ruleset.rules_for_phase(Phase::RequestBody).iter().find(|r| r.id.as_deref() == Some(id)).cloned();
            rule.and_then(|r| r.static_specs.first().copied()).expect("a static list")
        };
        let base = |id| ruleset.spec_base(spec(id) as usize).map(|b| b.id);
        assert_eq!(base("1"), Some(spec("2")), "ARGS without exclusions is the base");
        assert_eq!(base("3"), base("1"));
        assert_eq!(base("2"), None);
    }

    /// `multiMatch` runs the operator on the value and after each change,
    /// including through the prefilter (`@rx` with a literal) and on a static
    /// list; without it, only the last text counts.
    #[test]
    fn multi_match_sees_every_stage() {
        let rules = r#"
            SecRule ARGS "@rx a\x20b" "id:1,phase:2,pass,t:none,t:removeWhitespace,multiMatch,setvar:tx.multi=+1"
            SecRule ARGS "@rx a\x20b" "id:2,phase:2,pass,t:none,t:removeWhitespace,setvar:tx.last=+1"
            SecRule ARGS "@rx ^ab$" "id:3,phase:2,pass,t:none,t:removeWhitespace,multiMatch,setvar:tx.after=+1"
        "#;
        let count = |tx: &Transaction, k: &str| tx.tx().get(k).and_then(|v| v.first().map(|s| s.to_string()));
        let mut tx = Transaction::new(make_ruleset(rules), 403);
        tx.process_uri("/?q=a%20b", "GET", "HTTP/1.1").unwrap();
        tx.process_request_headers().unwrap();
        tx.process_request_body().unwrap();
        assert_eq!(count(&tx, "multi").as_deref(), Some("1"), "the value as sent");
        assert_eq!(count(&tx, "last"), None, "only `ab` without multiMatch");
        assert_eq!(count(&tx, "after").as_deref(), Some("1"), "the transformed value too");
    }

    /// `capture` stores a match's groups in TX:0–9 at once: the next link of
    /// its chain and the chain's setvars read them (they run when the chain
    /// completes), and a later capture with fewer groups unsets the rest.
    #[test]
    fn capture_groups_are_tx_digits() {
        let rules = r#"
            SecRule ARGS:a "@rx ^(\w+)-(\w+)$" "id:1,phase:2,pass,capture,t:none,setvar:tx.first=%{tx.1},setvar:tx.same=1,chain"
                SecRule TX:2 "@streq %{TX.1}" "t:none"
            SecRule ARGS:b "@rx ^(\w+)$" "id:2,phase:2,pass,capture,t:none,setvar:tx.after=%{tx.0}"
        "#;
        let get = |tx: &Transaction, k: &str| tx.tx().get(k).and_then(|v| v.first().map(|s| s.to_string()));
        let run = |uri: &str| {
            let mut tx = Transaction::new(make_ruleset(rules), 403);
            tx.process_uri(uri, "GET", "HTTP/1.1").unwrap();
            tx.process_request_headers().unwrap();
            tx.process_request_body().unwrap();
            tx
        };
        let tx = run("/?a=x-x&b=z");
        assert_eq!(get(&tx, "same").as_deref(), Some("1"));
        assert_eq!(get(&tx, "first").as_deref(), Some("x"));
        assert_eq!((get(&tx, "0").as_deref(), get(&tx, "1").as_deref(), get(&tx, "2")), (Some("z"), Some("z"), None));
        assert_eq!(get(&tx, "after").as_deref(), Some("z"));
        let tx = run("/?a=x-y");
        assert_eq!((get(&tx, "same"), get(&tx, "first")), (None, None), "the groups differ: the chain fails");
        assert_eq!(get(&tx, "2").as_deref(), Some("y"), "the starter matched all the same");
    }

    /// A rule a chain goes on from collects every variable it matches, so the
    /// next link's `MATCHED_VARS` sees the second argument too (933150).
    #[test]
    fn a_chain_reads_every_matched_variable() {
        let rules = r#"
            SecRule ARGS "@contains x" "id:1,phase:2,pass,t:none,setvar:tx.hit=1,chain"
                SecRule MATCHED_VARS "@contains (" "t:none"
        "#;
        let mut tx = Transaction::new(make_ruleset(rules), 403);
        tx.process_uri("/?a=x&b=x(", "GET", "HTTP/1.1").unwrap();
        tx.process_request_headers().unwrap();
        tx.process_request_body().unwrap();
        assert_eq!(tx.tx().get("hit").and_then(|v| v.first().map(|s| s.to_string())).as_deref(), Some("1"));
    }

    #[test]
    fn test_basic_match() {
        let ruleset = make_ruleset(
            r#"
            SecRule REQUEST_URI "@contains /admin" "id:1,phase:1,deny"
        "#,
        );
        let mut tx = Transaction::new(ruleset, 403);
        tx.process_uri("/admin/dashboard", "GET", "HTTP/1.1")
            .unwrap();
        tx.process_request_headers().unwrap();

        assert!(tx.has_intervention());
        let intervention = tx.intervention().unwrap();
        assert_eq!(intervention.status, 403);
    }

    /// A `skipAfter` whose marker directly follows the rule resumes after the
    /// marker; only a marker behind the rule ends the phase.
    #[test]
    fn skip_after_resumes_at_a_marker_right_after_the_rule() {
        let ruleset = make_ruleset(
            r#"
            SecRule REQUEST_URI "@contains /" "id:1,phase:1,pass,skipAfter:END-A"
            SecMarker END-A
            SecRule REQUEST_URI "@contains /" "id:2,phase:1,pass,setvar:tx.after_a=1"
            SecMarker END-B
            SecRule REQUEST_URI "@contains /" "id:3,phase:1,pass,skipAfter:END-B"
            SecRule REQUEST_URI "@contains /" "id:4,phase:1,pass,setvar:tx.after_b=1"
        "#,
        );
        let mut tx = Transaction::new(ruleset, 403);
        tx.process_uri("/x", "GET", "HTTP/1.1").unwrap();
        tx.process_request_headers().unwrap();
        assert!(tx.tx().get("after_a").is_some(), "rule 2 follows the marker rule 1 skips to");
        assert!(tx.tx().get("after_b").is_none(), "rule 3's marker is behind it: the phase ends");
    }

    #[test]
    fn test_no_match() {
        let ruleset = make_ruleset(
            r#"
            SecRule REQUEST_URI "@contains /admin" "id:1,phase:1,deny"
        "#,
        );
        let mut tx = Transaction::new(ruleset, 403);
        tx.process_uri("/public/index.html", "GET", "HTTP/1.1")
            .unwrap();
        tx.process_request_headers().unwrap();

        assert!(!tx.has_intervention());
    }

    #[test]
    fn test_setvar() {
        let ruleset = make_ruleset(
            r#"
            SecRule REQUEST_URI "@contains /test" "id:1,phase:1,pass,setvar:TX.score=5"
        "#,
        );
        let mut tx = Transaction::new(ruleset, 403);
        tx.process_uri("/test/page", "GET", "HTTP/1.1").unwrap();
        tx.process_request_headers().unwrap();

        assert!(!tx.has_intervention());
        let score = tx
            .tx()
            .get("score")
            .and_then(|v| v.first().map(|s| s.to_string()));
        assert_eq!(score, Some("5".to_string()));
    }

    #[test]
    fn test_operator_arg_macro_ge_threshold() {
        // @ge with a %{tx.*} argument must compare against the resolved value.
        let ruleset = make_ruleset(
            r#"
            SecRule REQUEST_URI "@contains /" "id:1,phase:1,pass,nolog,setvar:tx.threshold=5"
            SecRule REQUEST_URI "@contains /" "id:2,phase:1,pass,nolog,setvar:tx.score=10"
            SecRule TX:score "@ge %{tx.threshold}" "id:3,phase:1,deny"
        "#,
        );
        let mut tx = Transaction::new(ruleset, 403);
        tx.process_uri("/", "GET", "HTTP/1.1").unwrap();
        tx.process_request_headers().unwrap();
        assert!(
            tx.has_intervention(),
            "score 10 >= threshold 5 should block"
        );
    }

    #[test]
    fn test_operator_arg_macro_ge_below_threshold() {
        let ruleset = make_ruleset(
            r#"
            SecRule REQUEST_URI "@contains /" "id:1,phase:1,pass,nolog,setvar:tx.threshold=5"
            SecRule REQUEST_URI "@contains /" "id:2,phase:1,pass,nolog,setvar:tx.score=3"
            SecRule TX:score "@ge %{tx.threshold}" "id:3,phase:1,deny"
        "#,
        );
        let mut tx = Transaction::new(ruleset, 403);
        tx.process_uri("/", "GET", "HTTP/1.1").unwrap();
        tx.process_request_headers().unwrap();
        assert!(
            !tx.has_intervention(),
            "score 3 < threshold 5 should not block"
        );
    }

    #[test]
    fn test_negated_within_macro_does_not_block_allowed() {
        // Regression for the 911100 case: a negated @within whose argument is a
        // resolvable macro must not block when the value IS in the list.
        let ruleset = make_ruleset(
            r#"
            SecRule REQUEST_URI "@contains /" "id:1,phase:1,pass,nolog,setvar:tx.allowed=GET"
            SecRule REQUEST_METHOD "!@within %{tx.allowed}" "id:2,phase:1,deny"
        "#,
        );
        let mut tx = Transaction::new(ruleset, 403);
        tx.process_uri("/", "GET", "HTTP/1.1").unwrap();
        tx.process_request_headers().unwrap();
        assert!(!tx.has_intervention(), "GET is allowed, must not block");
    }

    #[test]
    fn test_negated_within_macro_blocks_disallowed() {
        let ruleset = make_ruleset(
            r#"
            SecRule REQUEST_URI "@contains /" "id:1,phase:1,pass,nolog,setvar:tx.allowed=GET"
            SecRule REQUEST_METHOD "!@within %{tx.allowed}" "id:2,phase:1,deny"
        "#,
        );
        let mut tx = Transaction::new(ruleset, 403);
        tx.process_uri("/", "POST", "HTTP/1.1").unwrap();
        tx.process_request_headers().unwrap();
        assert!(tx.has_intervention(), "POST is not allowed, must block");
    }

    #[test]
    fn test_secaction_sets_tx_and_macro_resolves() {
        // CRS-style: SecAction (no variables) seeds a TX threshold that a later
        // rule's operator macro resolves against.
        let ruleset = make_ruleset(
            r#"
            SecAction "id:1,phase:1,pass,nolog,setvar:tx.threshold=5"
            SecRule REQUEST_URI "@contains /" "id:2,phase:1,pass,nolog,setvar:tx.score=10"
            SecRule TX:score "@ge %{tx.threshold}" "id:3,phase:1,deny"
        "#,
        );
        let mut tx = Transaction::new(ruleset, 403);
        tx.process_uri("/", "GET", "HTTP/1.1").unwrap();
        tx.process_request_headers().unwrap();
        let threshold = tx
            .tx()
            .get("threshold")
            .and_then(|v| v.first().map(|s| s.to_string()));
        assert_eq!(
            threshold,
            Some("5".to_string()),
            "SecAction setvar must apply"
        );
        assert!(tx.has_intervention(), "10 >= 5 should block");
    }

    #[test]
    fn test_request_header_named_selector_matches() {
        // REQUEST_HEADERS:User-Agent must match regardless of header-name case.
        let ruleset = make_ruleset(
            r#"
            SecRule REQUEST_HEADERS:User-Agent "@contains sqlmap" "id:1,phase:1,deny"
        "#,
        );
        let mut tx = Transaction::new(ruleset, 403);
        tx.process_uri("/", "GET", "HTTP/1.1").unwrap();
        tx.add_request_header("User-Agent", "sqlmap/1.0").unwrap();
        tx.process_request_headers().unwrap();
        assert!(tx.has_intervention(), "User-Agent selector should match");
    }

    #[test]
    fn test_setvar_value_macro_accumulates() {
        // CRS-style score accumulation: setvar:'tx.anomaly_score=+%{tx.critical_anomaly_score}'
        // must add the resolved delta (5), and twice must yield 10.
        let ruleset = make_ruleset(
            r#"
            SecAction "id:1,phase:1,pass,nolog,setvar:tx.critical_anomaly_score=5"
            SecRule REQUEST_URI "@contains /" "id:2,phase:1,pass,nolog,setvar:'tx.anomaly_score=+%{tx.critical_anomaly_score}'"
            SecRule REQUEST_URI "@contains /" "id:3,phase:1,pass,nolog,setvar:'tx.anomaly_score=+%{tx.critical_anomaly_score}'"
        "#,
        );
        let mut tx = Transaction::new(ruleset, 403);
        tx.process_uri("/", "GET", "HTTP/1.1").unwrap();
        tx.process_request_headers().unwrap();
        let score = tx
            .tx()
            .get("anomaly_score")
            .and_then(|v| v.first().map(|s| s.to_string()));
        assert_eq!(
            score,
            Some("10".to_string()),
            "two +5 macro increments should total 10"
        );
    }

    #[test]
    fn test_setvar_value_macro_unresolved_is_noop() {
        // An unresolved macro delta must not silently increment by 1.
        let ruleset = make_ruleset(
            r#"
            SecRule REQUEST_URI "@contains /" "id:1,phase:1,pass,nolog,setvar:'tx.anomaly_score=+%{tx.missing}'"
        "#,
        );
        let mut tx = Transaction::new(ruleset, 403);
        tx.process_uri("/", "GET", "HTTP/1.1").unwrap();
        tx.process_request_headers().unwrap();
        let score = tx
            .tx()
            .get("anomaly_score")
            .and_then(|v| v.first().map(|s| s.to_string()));
        assert_eq!(
            score,
            Some("0".to_string()),
            "unresolved macro increment should be a no-op"
        );
    }

    /// A step that leaves a long text alone is remembered per text (`walk`'s
    /// `LONG_TEXT`): the pipelines after it still see their own output.
    #[test]
    fn unchanged_steps_of_long_texts_are_remembered_per_text() {
        let rules = r#"
            SecRule ARGS "@endsWith abc%41" "id:1,phase:1,pass,t:removeNulls,t:lowercase,setvar:tx.a=1"
            SecRule ARGS "@endsWith abca" "id:2,phase:1,pass,t:removeNulls,t:urlDecode,t:lowercase,setvar:tx.b=1"
            SecRule ARGS "@endsWith AbC%41" "id:3,phase:1,pass,t:removeNulls,setvar:tx.c=1"
            SecRule ARGS "@endsWith AbCA" "id:4,phase:1,pass,t:removeNulls,t:urlDecode,setvar:tx.d=1"
            SecRule ARGS "@endsWith abc%41" "id:5,phase:1,pass,t:lowercase,t:removeNulls,setvar:tx.e=1"
            SecRule ARGS "@endsWith abc%41" "id:6,phase:1,pass,t:removeNulls,t:urlDecode,setvar:tx.f=1"
        "#;
        for prefix in [String::new(), "Long text ".repeat(LONG_TEXT / 5)] {
            let mut tx = Transaction::new(make_ruleset(rules), 403);
            let uri = format!("/?x={}AbC%2541", prefix.replace(' ', "+"));
            tx.process_uri(&uri, "GET", "HTTP/1.1").unwrap();
            tx.process_request_headers().unwrap();
            for (k, want) in [("a", true), ("b", true), ("c", true), ("d", true), ("e", true), ("f", false)] {
                assert_eq!(tx.tx().get(k).is_some(), want, "tx.{k}, {} bytes", prefix.len());
            }
        }
    }

    /// A short value's node, steps and hits are kept for the next
    /// transaction of the same ruleset (`texts`, patch 41), and two rulesets
    /// with different prefilters, interleaved, each decide as on their own.
    #[test]
    fn texts_are_shared_by_later_transactions_of_one_ruleset() {
        let a = make_ruleset(r#"SecRule ARGS "@contains evil" "id:1,phase:1,pass,t:urlDecode,t:lowercase,setvar:tx.hit=1""#);
        let b = make_ruleset(r#"SecRule ARGS "@contains good" "id:1,phase:1,pass,t:urlDecode,t:lowercase,setvar:tx.hit=1""#);
        let filter = a.prefilter().map_or(0, super::super::prefilter::GroupFilter::id);
        assert_ne!(filter, 0);
        let run = |ruleset: &Arc<CompiledRuleset>, q: &str| {
            let mut tx = Transaction::new(Arc::clone(ruleset), 403);
            tx.process_uri(&format!("/?x={q}"), "GET", "HTTP/1.1").unwrap();
            tx.process_request_headers().unwrap();
            tx.tx().get("hit").is_some()
        };
        for _ in 0..3 {
            assert!(run(&a, "%45VIL"));
            assert!(!run(&b, "%45VIL"));
            assert!(run(&b, "GOO%44"));
            assert!(!run(&a, "GOO%44"));
        }
        assert!(super::super::texts::kept(filter) >= 2);
        let long = "x".repeat(super::super::texts::MAX_TEXT + 1);
        let before = super::super::texts::kept(filter);
        assert!(!run(&a, &long));
        assert!(run(&a, &format!("{long}evil")));
        assert_eq!(super::super::texts::kept(filter), before, "long values are not kept");
    }

    /// A recycled transaction decides as a new one: nothing of the request,
    /// TX, matches, `ctl:` overrides or intervention of the one before it
    /// survives, whatever that one did; and only transactions of the same
    /// ruleset are reused.
    #[test]
    fn recycled_transactions_decide_as_new_ones() {
        let ruleset = make_ruleset(
            r#"
            SecRule ARGS:off "@streq 1" "id:1,phase:1,pass,ctl:ruleRemoveById=3,setvar:tx.removed=1"
            SecRule REQUEST_HEADERS:X-Mark "@rx ." "id:2,phase:1,pass,setvar:tx.marked=%{REQUEST_HEADERS.X-Mark}"
            SecRule ARGS "@contains evil" "id:3,phase:1,deny,status:403,setvar:tx.evil=+5"
            SecRule &TX:marked "@eq 0" "id:4,phase:1,pass,setvar:tx.unmarked=1"
            SecRule REMOTE_ADDR "@ipMatch 192.0.2.1" "id:5,phase:1,pass,setvar:tx.from_doc=1"
        "#,
        );
        let modsec = super::super::ModSecurity { ruleset: Arc::clone(&ruleset), default_status: 403 };
        let run = |q: &str, mark: Option<&str>, ip: Option<&str>| {
            let mut tx = modsec.new_transaction();
            if let Some(ip) = ip {
                tx.set_client_addr(ip, 0);
            }
            tx.process_uri(&format!("/?{q}"), "GET", "HTTP/1.1").unwrap();
            if let Some(m) = mark {
                tx.add_request_header("X-Mark", m).unwrap();
            }
            tx.process_request_headers().unwrap();
            let mut keys: Vec<String> = tx.tx().all().into_iter().map(|(k, v)| format!("{k}={v}")).collect();
            keys.sort();
            let seen = (tx.has_intervention(), tx.matched_rules().to_vec(), keys, tx.matched_data().len());
            tx.recycle();
            seen
        };
        let fresh = |q: &str, mark: Option<&str>, ip: Option<&str>| {
            RECYCLED.with(|kept| kept.borrow_mut().clear());
            run(q, mark, ip)
        };
        let cases: [(&str, Option<&str>, Option<&str>); 5] = [
            ("a=evil", Some("x"), Some("192.0.2.1")),
            ("off=1&a=evil", None, None),
            ("a=fine", None, None),
            ("a=evil&b=evil", Some("yy"), None),
            ("a=fine", Some("x"), Some("198.51.100.2")),
        ];
        let want: Vec<_> = cases.iter().map(|(q, m, ip)| fresh(q, *m, *ip)).collect();
        assert!(want[0].0 && !want[1].0 && !want[2].0, "the rules decide as written");
        for order in [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [0, 0, 2, 1, 1]] {
            for i in order {
                let (q, m, ip) = cases[i];
                assert_eq!(run(q, m, ip), want[i], "case {i} after others");
            }
        }
        assert_eq!(RECYCLED.with(|kept| kept.borrow().len()), 1);
        let other = super::super::ModSecurity { ruleset: make_ruleset(r#"SecRule ARGS "@contains fine" "id:9,phase:1,deny""#), default_status: 403 };
        let mut tx = other.new_transaction();
        tx.process_uri("/?a=fine", "GET", "HTTP/1.1").unwrap();
        tx.process_request_headers().unwrap();
        assert_eq!(tx.matched_rules(), ["9"], "another ruleset's transaction is not reused");
    }

    /// A chain fires, and is recorded, under its starter's id only when its
    /// last link matched; a starter that matched alone is not a fired rule.
    #[test]
    fn a_chain_is_recorded_when_it_fires_in_full() {
        let ruleset = make_ruleset(
            r#"
            SecRule ARGS:a "@streq x" "id:1,phase:1,pass,setvar:tx.one=1,chain"
                SecRule ARGS:b "@streq y" "t:none"
            SecRule ARGS:a "@streq x" "id:2,phase:1,pass"
        "#,
        );
        let run = |q: &str| {
            let mut tx = Transaction::new(Arc::clone(&ruleset), 403);
            tx.process_uri(&format!("/?{q}"), "GET", "HTTP/1.1").unwrap();
            tx.process_request_headers().unwrap();
            (tx.matched_rules().to_vec(), tx.tx().get("one").is_some())
        };
        assert_eq!(run("a=x&b=y"), (vec!["1".to_string(), "2".to_string()], true));
        assert_eq!(run("a=x&b=n"), (vec!["2".to_string()], false));
        assert_eq!(run("a=n&b=y"), (vec![], false));
    }

    /// The name a count of a TX key is reported under, on the fast path, is
    /// the general path's.
    #[test]
    fn tx_count_is_named_as_the_general_path_names_it() {
        assert_eq!(format!("&{:?}", crate::parser::VariableName::Tx), "&Tx");
    }

    /// libinjection's "nothing here" is kept on a shared text, and only
    /// that: an attack is detected however often it and its neighbours
    /// repeat.
    #[test]
    fn libinjection_remembers_only_clean_texts() {
        let ruleset = make_ruleset(
            r#"
            SecRule ARGS "@detectSQLi" "id:1,phase:1,pass,t:urlDecodeUni,setvar:tx.sqli=+1"
            SecRule ARGS "@detectXSS" "id:2,phase:1,pass,t:urlDecodeUni,setvar:tx.xss=+1"
        "#,
        );
        let run = |q: &str| {
            let mut tx = Transaction::new(Arc::clone(&ruleset), 403);
            tx.process_uri(&format!("/?{q}"), "GET", "HTTP/1.1").unwrap();
            tx.process_request_headers().unwrap();
            let n = |k: &str| tx.tx().get(k).and_then(|v| v.first().and_then(|s| s.parse::<u32>().ok())).unwrap_or(0);
            (n("sqli"), n("xss"))
        };
        for _ in 0..3 {
            assert_eq!(run("a=red%20shoes"), (0, 0));
            assert_eq!(run("a=1%27%20or%20%271%27%3D%271"), (1, 0));
            assert_eq!(run("a=%3Cscript%3Ealert(1)%3C/script%3E&b=red%20shoes"), (0, 1));
            assert_eq!(run("a=red%20shoes&b=1%27%20or%20%271%27%3D%271&c=%3Cscript%3Ealert(1)%3C/script%3E"), (1, 1));
        }
    }

    #[test]
    fn shared_transformation_steps_give_each_pipeline_its_own_result() {
        // The memo shares steps between pipelines (`lowercase` of the raw
        // value is the first step of one and the last of another): each rule
        // must still see exactly its own pipeline's output.
        let ruleset = make_ruleset(
            r#"
            SecRule ARGS "@streq abc%41" "id:1,phase:1,pass,t:lowercase,setvar:tx.a=1"
            SecRule ARGS "@streq abca" "id:2,phase:1,pass,t:urlDecode,t:lowercase,setvar:tx.b=1"
            SecRule ARGS "@streq abcA" "id:3,phase:1,pass,t:lowercase,t:urlDecode,setvar:tx.c=1"
            SecRule ARGS "@streq AbCA" "id:4,phase:1,pass,t:urlDecode,setvar:tx.d=1"
            SecRule ARGS "@streq AbC%41" "id:5,phase:1,pass,t:none,setvar:tx.e=1"
            SecRule ARGS "@streq abc%41" "id:6,phase:1,pass,t:urlDecode,setvar:tx.f=1"
        "#,
        );
        let mut tx = Transaction::new(ruleset, 403);
        tx.process_uri("/?x=AbC%2541", "GET", "HTTP/1.1").unwrap();
        tx.process_request_headers().unwrap();
        for (k, want) in [("a", true), ("b", true), ("c", true), ("d", true), ("e", true), ("f", false)] {
            assert_eq!(tx.tx().get(k).is_some(), want, "tx.{k}");
        }
    }

    #[test]
    fn test_detection_only_mode() {
        let _ruleset = make_ruleset(
            r#"
            SecRuleEngine DetectionOnly
            SecRule REQUEST_URI "@contains /admin" "id:1,phase:1,deny"
        "#,
        );
        let mut tx = Transaction::new(
            Arc::new(
                CompiledRuleset::from_string(
                    r#"
                SecRuleEngine DetectionOnly
                SecRule REQUEST_URI "@contains /admin" "id:1,phase:1,deny"
            "#,
                )
                .unwrap(),
            ),
            403,
        );
        tx.process_uri("/admin/dashboard", "GET", "HTTP/1.1")
            .unwrap();
        tx.process_request_headers().unwrap();

        // Should match but not block
        assert!(!tx.has_intervention());
        assert!(tx.matched_rules().contains(&"1".to_string()));
    }
}
