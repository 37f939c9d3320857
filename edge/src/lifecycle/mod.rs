//! The rules document's life in KV: content hashes, the status the edge writes
//! back next to the document, gradual rollout of a candidate, and the history
//! `edge-rules push` keeps for rollback. Pure decisions only; the shell does the
//! KV and Durable Object I/O, the CLI the wrangler calls.
//!
//! Keys in the rules namespace:
//!
//! | key                          | written by            | holds                                  |
//! |------------------------------|-----------------------|----------------------------------------|
//! | `rules`                      | operator, CLI         | the current document                   |
//! | `rules.next`                 | `edge-rules rollout`  | a candidate and its rollout ([`rollout`]) |
//! | `rules.status`               | the edge (one writer) | what the edge made of both ([`status`]) |
//! | `rules.history.<ms>.<hash>`  | `edge-rules push`     | earlier documents, byte for byte ([`history`]) |

pub mod book;
pub mod history;
pub mod rollout;
pub mod status;

use sha2::{Digest, Sha256};

/// The current document.
pub const RULES_KEY: &str = "rules";
/// The candidate under rollout.
pub const NEXT_KEY: &str = "rules.next";
/// The edge's report on both.
pub const STATUS_KEY: &str = "rules.status";

/// A document's identity: the first 64 bits of the SHA-256 of its bytes, as 16
/// lowercase hex digits. Bytes, not meaning: a reformatted document is a new
/// document, which is what an operator comparing the dashboard with the status
/// expects. Short enough for a header and a log line; collisions among a
/// namespace's few dozen documents are not a concern at 64 bits.
pub fn doc_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_hex_of_sha256() {
        // SHA-256("abc") = ba7816bf8f01cfea…
        assert_eq!(doc_hash(b"abc"), "ba7816bf8f01cfea");
        assert_ne!(doc_hash(b"{\"version\":1}"), doc_hash(b"{\"version\": 1}"));
    }
}
