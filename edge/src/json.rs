//! JSON that refuses duplicate object keys at any depth, for every document
//! the edge reads from outside: rules documents, `rules.next`, JWT headers and
//! claims, JWKS.
//!
//! `serde_json::Value` keeps the last of two equal keys without a word. For a
//! JWT that is a smuggling vector: parsers disagree on which `alg` or `sub`
//! wins (RFC 7515 §5.2 allows either rejecting or taking the last). For a rules
//! document, an editor's duplicated `"filter"` would silently drop rules. Both
//! must be errors.
//!
//! Rules documents are read in two steps: the bytes into this tree (syntax and
//! duplicates, with serde_json's line and column), then the typed structs out
//! of the tree, with the JSON path of a fault through `serde_path_to_error`.
//! One deserializer type for the document and every action's `params` keeps
//! the worker about 6 KiB (gzip) smaller than reading the typed structs from
//! the bytes as well.
//!
//! ```
//! use edge::json::{is_duplicate_key, tree};
//! assert!(tree(br#"{"a": 1}"#).is_ok());
//! let e = tree(br#"{"a": 1, "a": 2}"#).unwrap_err();
//! assert!(is_duplicate_key(&e) && e.to_string().contains("duplicate key `a`"));
//! ```

use std::fmt;

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

const DUPLICATE: &str = "duplicate key `";

/// Parses `bytes` as JSON, failing on a duplicate key in any object.
pub fn tree(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<Strict>(bytes).map(|s| s.0)
}

/// Did [`tree`] fail because an object repeats a key?
pub fn is_duplicate_key(e: &serde_json::Error) -> bool {
    e.is_data() && e.to_string().starts_with(DUPLICATE)
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(value) = map.next_value()?;
            if out.contains_key(&key) {
                return Err(A::Error::custom(format_args!("{DUPLICATE}{key}`")));
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::{is_duplicate_key, tree};

    #[test]
    fn same_tree_as_serde_json_for_valid_documents() {
        let doc = br#"{"version": 1, "a": [1, -2, 3.5, "x", null, true, {"b": {}}], "c": {"d": [[]]}}"#;
        let plain: serde_json::Value = serde_json::from_slice(doc).unwrap();
        assert_eq!(tree(doc).unwrap(), plain);
    }

    #[test]
    fn duplicate_keys_fail_with_their_position() {
        let e = tree(b"{\"phases\": {\"filter\": [],\n \"filter\": []}}").unwrap_err();
        assert!(is_duplicate_key(&e) && e.to_string().contains("duplicate key `filter`"), "{e}");
        assert_eq!(e.line(), 2);
        // Equal keys in different objects are fine.
        assert!(tree(br#"{"a": {"x": 1}, "b": {"x": 1}}"#).is_ok());
    }

    #[test]
    fn syntax_errors_keep_serde_json_positions() {
        let e = tree(b"{\"a\": 1,\n}").unwrap_err();
        assert_eq!(e.line(), 2);
        assert!(!is_duplicate_key(&e));
    }
}
