//! Texts shared by the transactions of one thread (edge patch 41).
//!
//! A request's headers and short arguments mostly repeat those of the
//! requests before it: the same `User-Agent`, `Accept`, `Host`, cookie names.
//! What the engine derives from a text alone (each transformation's output,
//! and which prefiltered rules' literals it holds) is the same every time,
//! so each short value's [`Transformed`] node, with the steps and hits
//! recorded on it, is kept here for the transactions that follow, instead of
//! being rebuilt by each.
//!
//! Hits belong to one prefilter, so the texts are kept per filter (a few at
//! most: an isolate runs one or two rulesets). The store is bounded: past
//! [`MAX_BYTES`] of text it starts again empty; nodes a running transaction
//! holds live on until it ends. Long values (bodies, prompts) seldom repeat
//! and are not kept.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

/// Values longer than this are not kept.
pub(super) const MAX_TEXT: usize = 256;
/// Bytes of kept text (each node counted with [`NODE_COST`] more) before the
/// store starts again.
const MAX_BYTES: usize = 1 << 20;
/// What a node costs beside its text: the node, its hits and its steps.
const NODE_COST: usize = 160;
/// What an entry of `Transformed::finals` is counted as.
const FINAL_COST: usize = 32;
/// Filters whose texts are kept at once.
const MAX_FILTERS: usize = 4;

/// One text: a value, or what transformations made of one.
pub(super) struct Transformed {
    pub(super) value: Rc<str>,
    /// Which prefiltered rules' literals `value` holds.
    pub(super) hits: OnceCell<Vec<u64>>,
    /// What each transformation (by name) made of this text, `None` where it
    /// left it alone, so a step pipelines share runs once per text.
    pub(super) steps: RefCell<Vec<Step>>,
    /// Whether the node is kept for later transactions (its steps' texts
    /// are then kept and counted too).
    pub(super) kept: bool,
    /// The operators that found nothing in `value` (`Operator::clean_mark`).
    pub(super) clean: Cell<u8>,
    /// On a kept node: what whole pipelines (by the ruleset's number; the
    /// filter's id is the ruleset's) made of it, `None` for itself (a node
    /// never holds itself, so nodes stay a tree).
    pub(super) finals: RefCell<Vec<(u32, Option<Rc<Transformed>>)>>,
    /// On a kept node: the last transaction that numbered it (its
    /// `Memo::serial`) and the number, so a transaction finds a short
    /// value's number with the store's lookup alone.
    pub(super) stamp: Cell<(u64, u32)>,
}

/// A transformation's name and what it made of a text (`None`: the same).
pub(super) type Step = (&'static str, Option<Rc<Transformed>>);

impl Transformed {
    pub(super) fn new(value: Rc<str>, kept: bool) -> Self {
        Transformed { value, hits: OnceCell::new(), steps: RefCell::new(Vec::new()), kept, clean: Cell::new(0), finals: RefCell::new(Vec::new()), stamp: Cell::new((0, 0)) }
    }
}

#[derive(Default)]
struct Store {
    filter: u64,
    texts: crate::hash::Map<Rc<str>, Rc<Transformed>>,
    bytes: usize,
}

thread_local! {
    static STORES: RefCell<Vec<Store>> = const { RefCell::new(Vec::new()) };
}

/// The node of `value` for prefilter `filter` (0: none): the kept one when
/// there is one, else a new one, kept when `value` is short.
pub(super) fn node(filter: u64, value: &str) -> Rc<Transformed> {
    if value.len() > MAX_TEXT {
        return Rc::new(Transformed::new(Rc::from(value), false));
    }
    STORES
        .try_with(|stores| {
            let Ok(mut stores) = stores.try_borrow_mut() else { return None };
            let store = store_of(&mut stores, filter);
            if let Some(found) = store.texts.get(value) {
                return Some(Rc::clone(found));
            }
            charge_store(store, value.len() + NODE_COST);
            let text: Rc<str> = Rc::from(value);
            let node = Rc::new(Transformed::new(Rc::clone(&text), true));
            store.texts.insert(text, Rc::clone(&node));
            Some(node)
        })
        .ok()
        .flatten()
        .unwrap_or_else(|| Rc::new(Transformed::new(Rc::from(value), false)))
}

/// Counts `len` bytes of a text a kept node's step made against filter
/// `filter`'s store.
pub(super) fn charge(filter: u64, len: usize) {
    charge_bytes(filter, len + NODE_COST);
}

/// Counts a pipeline's result recorded on a kept node
/// (`Transformed::finals`).
pub(super) fn charge_final(filter: u64) {
    charge_bytes(filter, FINAL_COST);
}

fn charge_bytes(filter: u64, cost: usize) {
    let _ = STORES.try_with(|stores| {
        if let Ok(mut stores) = stores.try_borrow_mut() {
            charge_store(store_of(&mut stores, filter), cost);
        }
    });
}

fn charge_store(store: &mut Store, cost: usize) {
    store.bytes += cost;
    if store.bytes > MAX_BYTES {
        store.texts.clear();
        store.bytes = cost;
    }
}

fn store_of(stores: &mut Vec<Store>, filter: u64) -> &mut Store {
    let at = match stores.iter().position(|s| s.filter == filter) {
        Some(at) => at,
        None => {
            if stores.len() >= MAX_FILTERS {
                stores.remove(0);
            }
            stores.push(Store { filter, ..Store::default() });
            stores.len() - 1
        }
    };
    &mut stores[at]
}

/// How many texts are kept for `filter` (tests).
#[cfg(test)]
pub(super) fn kept(filter: u64) -> usize {
    STORES.with(|s| s.borrow().iter().find(|s| s.filter == filter).map_or(0, |s| s.texts.len()))
}
