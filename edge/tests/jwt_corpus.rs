//! Runs `edge::auth` against the vendored JWT corpora (`tests/corpora/jwt/`): RFC 7515 Appendix A / RFC 8037 examples and every case of
//! Wycheproof `json_web_signature_test.json`.

use std::collections::BTreeMap;

use edge::auth::{verify, verify_jws, Alg, JwksOptions, JwtError, KeyStore, Policy};
use serde_json::Value;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpora/jwt/");

/// exp of every RFC 7515 example (2011-03-22T18:43:00Z).
const RFC_EXP: u64 = 1_300_819_380;
/// A time well after the examples expired.
const TODAY: u64 = 1_760_000_000;

fn load(path: &str) -> Value {
    let full = format!("{CORPUS}{path}");
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn opts() -> JwksOptions {
    // The corpora carry HMAC keys as `oct` JWKs; production passes secrets
    // through `add_secret` instead.
    JwksOptions {
        allow_oct: true,
        ..JwksOptions::default()
    }
}

fn store_with(jwk: &Value) -> KeyStore {
    let mut keys = KeyStore::new();
    keys.add_jwk(jwk, &opts())
        .unwrap_or_else(|e| panic!("{jwk}: {e}"));
    keys
}

#[test]
fn rfc7515_appendix_a() {
    let doc = load("rfc7515_7517_8037_jws_examples.json");
    let examples = doc["jws_rfc7515_appendix_a"].as_array().expect("examples");
    let mut checked = 0;
    for ex in examples {
        let id = ex["id"].as_str().expect("id");
        let compact = ex["compact"].as_str().expect("compact");
        match ex["alg"].as_str().expect("alg") {
            alg @ ("HS256" | "RS256" | "ES256") => {
                let keys = store_with(&ex["jwk"]);
                // Valid with a clock before the 2011 exp…
                let ok = verify(compact, &keys, &Policy::default(), RFC_EXP - 1)
                    .unwrap_or_else(|e| panic!("{id}: {e}"));
                assert_eq!(ok.alg, Alg::from_name(alg).expect("alg"));
                assert_eq!(ok.claims["iss"], "joe");
                // …exactly expired at exp with zero leeway…
                let strict = Policy {
                    leeway_s: 0,
                    ..Policy::default()
                };
                assert_eq!(
                    verify(compact, &keys, &strict, RFC_EXP).unwrap_err(),
                    JwtError::Expired,
                    "{id}"
                );
                // …and expired today.
                assert_eq!(
                    verify(compact, &keys, &Policy::default(), TODAY).unwrap_err(),
                    JwtError::Expired,
                    "{id}"
                );
            }
            "ES512" => {
                // P-521 is not supported: the key is refused and the header
                // alg is refused before any key lookup.
                assert!(
                    KeyStore::new().add_jwk(&ex["jwk"], &opts()).is_err(),
                    "{id}"
                );
                assert_eq!(
                    verify_jws(compact, &KeyStore::new()).unwrap_err(),
                    JwtError::UnsupportedAlgorithm,
                    "{id}"
                );
            }
            "none" => {
                let keys = store_with(
                    &serde_json::json!({"kty": "oct", "k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}),
                );
                // Compact `alg: none` has an empty signature segment.
                let err = verify(compact, &keys, &Policy::default(), RFC_EXP - 1).unwrap_err();
                assert!(
                    matches!(err, JwtError::InvalidStructure | JwtError::AlgNone),
                    "{id}: {err:?}"
                );
                let with_sig = format!("{compact}AAAA");
                assert_eq!(
                    verify(&with_sig, &keys, &Policy::default(), RFC_EXP - 1).unwrap_err(),
                    JwtError::AlgNone
                );
            }
            other => panic!("unexpected example alg {other}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 5);

    let crit = doc["negative_rfc7515_crit"]["compact"]
        .as_str()
        .expect("crit");
    let err = verify_jws(crit, &KeyStore::new()).unwrap_err();
    // The example is alg none + crit; either refusal is correct, and it must
    // also be refused with a real alg (see unit tests for HS256 + crit).
    assert!(
        matches!(
            err,
            JwtError::AlgNone | JwtError::UnsupportedCritical | JwtError::InvalidStructure
        ),
        "{err:?}"
    );
}

#[test]
fn rfc8037_ed25519() {
    let doc = load("rfc7515_7517_8037_jws_examples.json");
    let public = &doc["jwk_rfc8037"]["A.2_public"]["keys"][0];
    let keys = store_with(public);
    let cookbook = load("jose-cookbook/curve25519/jws.json");
    let compact = cookbook["output"]["compact"].as_str().expect("compact");
    // Payload is text, not JWT claims: verify at the JWS level.
    let jws = verify_jws(compact, &keys).expect("RFC 8037 A.4 verifies");
    assert_eq!(jws.payload, b"Example of Ed25519 signing");
    assert_eq!(jws.alg, Alg::EdDsa);
    // And as a JWT it is refused (payload is not a JSON object).
    assert!(verify(compact, &keys, &Policy::default(), TODAY).is_err());
    // One flipped signature bit is refused.
    let mut bad = compact.to_owned();
    let last = bad.pop().expect("char");
    bad.push(if last == 'g' { 'h' } else { 'g' });
    assert!(verify_jws(&bad, &keys).is_err());
}

/// Wycheproof cases marked `valid` that our closed-by-default policy refuses
/// on purpose, with the error we return.
fn refused_by_design(tc_id: u64) -> Option<(&'static str, JwtError)> {
    Some(match tc_id {
        // RFC 7520 Figure 20: header says PS384 but the JWK pins `alg: PS256`.
        // The key's alg is authoritative (no algorithm switching per token).
        346 | 350 => (
            "PS384 token for a PS256-pinned key",
            JwtError::AlgorithmMismatch {
                key_alg: Alg::Ps256,
            },
        ),
        // RFC 7520 Figure 27: ES512 over P-521 is not supported; the key is
        // skipped at load, so its kid is unknown.
        347 | 351 => ("ES512/P-521 unsupported", JwtError::UnsupportedAlgorithm),
        // A `?` inserted into the base64url header/payload: lenient decoders
        // skip it; we require canonical base64url (one encoding per token).
        372 => (
            "non-base64url byte in header",
            JwtError::InvalidBase64(edge::auth::Part::Header),
        ),
        373 => (
            "non-base64url byte in payload",
            JwtError::InvalidBase64(edge::auth::Part::Payload),
        ),
        _ => return None,
    })
}

#[test]
fn wycheproof_json_web_signature() {
    let doc = load("wycheproof/json_web_signature_test.json");
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut total = 0;
    for group in doc["testGroups"].as_array().expect("groups") {
        // Verification uses the public key when given; HMAC groups only have
        // the (symmetric) private key.
        let jwk = if group["public"].is_object() {
            &group["public"]
        } else {
            &group["private"]
        };
        let mut keys = KeyStore::new();
        // Keys that may not be used for verification (use=enc, key_ops
        // without verify, P-521) are refused here; their cases must fail.
        let key_loaded = keys.add_jwk(jwk, &opts()).is_ok();

        let tests = group["tests"].as_array().expect("tests");
        let valid_jws: Vec<&str> = tests
            .iter()
            .filter(|c| c["result"] == "valid")
            .filter_map(|c| c["jws"].as_str())
            .collect();
        for case in tests {
            total += 1;
            let tc = case["tcId"].as_u64().expect("tcId");
            let expected_valid = case["result"] == "valid";
            let result = match case["jws"].as_str() {
                Some(compact) => verify_jws(compact, &keys).map(|_| ()),
                // JSON serialization is not a compact token.
                None => Err(JwtError::InvalidStructure),
            };
            if !expected_valid && case["jws"].as_str().is_some_and(|j| valid_jws.contains(&j)) {
                // Corpus defect: tc 367 `invalidBase64Padding` and tc 370
                // `invalidBase64PaddingInPayload` are byte-identical to the
                // valid tc 357 (the `=` padding was lost upstream of this
                // copy), so no verifier can both accept 357 and reject them.
                // We accept them (as 357) and check the padded variants the
                // comments describe are refused.
                assert!(result.is_ok(), "tc {tc}");
                let compact = case["jws"].as_str().unwrap_or_default();
                let (head, sig) = compact.rsplit_once('.').expect("3 parts");
                let (hdr, payload) = head.split_once('.').expect("3 parts");
                for padded in [
                    format!("{hdr}=.{payload}.{sig}"),
                    format!("{hdr}.{payload}==.{sig}"),
                    format!("{compact}="),
                ] {
                    assert!(
                        matches!(verify_jws(&padded, &keys), Err(JwtError::InvalidBase64(_))),
                        "tc {tc}: {padded}"
                    );
                }
                *counts
                    .entry("invalid identical to a valid case (corpus defect)")
                    .or_default() += 1;
                continue;
            }
            match (expected_valid, result, refused_by_design(tc)) {
                (true, Err(err), Some((why, expected))) => {
                    if tc == 347 || tc == 351 {
                        // Header alg ES512 is refused before lookup.
                        assert!(!key_loaded, "tc {tc}: P-521 key should not load");
                    }
                    assert_eq!(err, expected, "tc {tc} ({why})");
                    *counts.entry("valid refused by design").or_default() += 1;
                }
                (true, Ok(()), None) => *counts.entry("valid accepted").or_default() += 1,
                (false, Err(_), None) => *counts.entry("invalid rejected").or_default() += 1,
                (expected, got, _) => panic!(
                    "tc {tc} ({}): expected {}, got {got:?}",
                    case["comment"],
                    if expected { "valid" } else { "invalid" }
                ),
            }
        }
    }
    println!("wycheproof json_web_signature: {total} cases: {counts:?}");
    assert_eq!(total, 401);
    assert_eq!(counts.get("valid accepted"), Some(&40));
    assert_eq!(counts.get("valid refused by design"), Some(&6));
    assert_eq!(counts.get("invalid rejected"), Some(&353));
    assert_eq!(
        counts.get("invalid identical to a valid case (corpus defect)"),
        Some(&2)
    );
}
