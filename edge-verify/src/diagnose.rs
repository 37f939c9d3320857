//! Why a signature failed behind a proxy that changed the request: for each
//! `Signature-Input` member, the covered components and the values this side
//! computed for them (the signature base, line by line). Keys and signatures
//! never appear: the base holds neither.

use origin_sdk::base::{signature_base, Message, SignatureParams};
use origin_sdk::sf;
use serde_json::{json, Map, Value};

/// `[{"label": "edge", "covered": {"\"@authority\"": "app.example", ...},
/// "params": "(...);created=..."}]`, or an `error` per member whose base
/// could not be built (e.g. a covered header is missing).
pub fn covered_values<M: Message + ?Sized>(msg: &M) -> Value {
    let lines = msg.field_values("signature-input");
    if lines.is_empty() {
        return json!([]);
    }
    let input = lines.join(&b", "[..]);
    let dict = match sf::parse_dictionary(&input) {
        Ok(d) => d,
        Err(e) => return json!([{ "error": format!("Signature-Input: {e}") }]),
    };
    let mut out = Vec::new();
    for (label, member) in dict.iter() {
        let mut text = String::new();
        let params = sf::write_member(&mut text, member).map_err(|e| e.to_string()).and_then(|()| SignatureParams::parse(&text).map_err(|e| e.to_string()));
        let entry = match params.and_then(|p| signature_base(msg, &p).map_err(|e| e.to_string())) {
            Ok(base) => {
                let base = String::from_utf8_lossy(&base).into_owned();
                let mut covered = Map::new();
                let mut params = Value::Null;
                for line in base.lines() {
                    if let Some((id, value)) = line.split_once(": ") {
                        if id == "\"@signature-params\"" {
                            params = Value::String(value.to_string());
                        } else {
                            covered.insert(id.to_string(), Value::String(value.to_string()));
                        }
                    }
                }
                json!({ "label": label, "covered": covered, "params": params })
            }
            Err(e) => json!({ "label": label, "error": e }),
        };
        out.push(entry);
    }
    Value::Array(out)
}
