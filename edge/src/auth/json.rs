//! A JWT's header, claims and JWKS as JSON objects, duplicate members refused
//! at any depth ([`crate::json`]: parsers disagreeing on which `alg`/`sub` wins
//! is a classic smuggling vector).

use serde_json::{Map, Value};

/// Why a JSON document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonError {
    /// Not valid JSON (syntax, encoding, trailing data, nesting too deep).
    Syntax,
    /// An object repeats a member name.
    DuplicateKey,
    /// Valid JSON, but the top level is not an object.
    NotObject,
}

/// Parses `bytes` as a JSON object, rejecting duplicate members anywhere.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    match crate::json::tree(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(JsonError::NotObject),
        Err(err) if crate::json::is_duplicate_key(&err) => Err(JsonError::DuplicateKey),
        Err(_) => Err(JsonError::Syntax),
    }
}
