//! Operator trait definition.

/// Result of operator execution.
#[derive(Debug, Clone, Default)]
pub struct OperatorResult {
    /// Whether the operator matched.
    pub matched: bool,
    /// Captured groups from regex.
    pub captures: Vec<String>,
    /// The matched value.
    pub matched_value: Option<String>,
}

impl OperatorResult {
    /// Create a result indicating no match.
    pub fn no_match() -> Self {
        Self {
            matched: false,
            captures: Vec::new(),
            matched_value: None,
        }
    }

    /// Create a result indicating a match.
    pub fn matched(value: String) -> Self {
        Self {
            matched: true,
            captures: Vec::new(),
            matched_value: Some(value),
        }
    }

    /// Create a result with captures.
    pub fn matched_with_captures(value: String, captures: Vec<String>) -> Self {
        Self {
            matched: true,
            captures,
            matched_value: Some(value),
        }
    }
}

/// Trait for all operators.
pub trait Operator: Send + Sync {
    /// Execute the operator against a value.
    fn execute(&self, value: &str) -> OperatorResult;

    /// [`execute`](Self::execute) for a caller that reads no capture groups
    /// (the transaction stores none): an operator that can match without
    /// computing them (`@rx`, which then needs only the lazy DFA, not the
    /// PikeVM) leaves `captures` empty. Edge patch.
    fn execute_uncaptured(&self, value: &str) -> OperatorResult {
        self.execute(value)
    }

    /// Get the operator name.
    fn name(&self) -> &'static str;

    /// Nonzero for an operator whose result is a function of the text alone
    /// and costs far more than a lookup (libinjection's): its bit in the
    /// mark a text keeps of the operators that found nothing in it, so a
    /// header or argument seen before is not scanned again (edge patch).
    fn clean_mark(&self) -> u8 {
        0
    }

    /// Whether this operator supports capture groups.
    fn supports_capture(&self) -> bool {
        false
    }

    /// What `capture` stores in `TX:0`…`TX:9` when this operator matches
    /// `value`: the whole match, then each group up to the last one that took
    /// part (one that did not, before it, is empty), as ModSecurity copies
    /// PCRE's groups. `None` for an operator without groups (edge patch).
    fn capture_groups(&self, _value: &str) -> Option<Vec<String>> {
        None
    }

    /// Literals one of which (ASCII case aside) is in every value this
    /// operator matches, if it knows a small such set: what the ruleset's
    /// prefilter skips rules by (edge patch).
    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        None
    }
}
