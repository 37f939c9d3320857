//! Verification never panics on hostile Signature / Signature-Input values.

mod common;

use origin_sdk::sf;
use proptest::prelude::*;

fn sfish() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,120}",
        "[a-z0-9=();:\"@ ,.*?\\-+/\\\\]{0,120}",
        // Mutations of a real Signature-Input.
        (0usize..400, "[a-z0-9=();:\"@ ,.*?\\-]{0,6}").prop_map(|(at, ins)| {
            let r = common::signed();
            let mut s = r.headers()["signature-input"].to_str().unwrap().to_string();
            let at = at.min(s.len());
            s.insert_str(at, &ins);
            s
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn verify_never_panics(input in sfish(), sig in sfish(), extra in proptest::option::of(sfish())) {
        let mut r = common::signed();
        if let Ok(v) = http::HeaderValue::from_str(&input) {
            r.headers_mut().insert("signature-input", v);
        }
        if let Ok(v) = http::HeaderValue::from_str(&sig) {
            r.headers_mut().insert("signature", v);
        }
        if let Some(e) = extra.and_then(|e| http::HeaderValue::from_str(&e).ok()) {
            r.headers_mut().append("signature-input", e);
        }
        let v = common::verifier().required_tag(None).required_components(Vec::<origin_sdk::Component>::new()).require_nonce(false).require_expires(false);
        let _ = v.verify(&r, common::NOW);
        let _ = common::verifier().verify_and_strip(&mut r, common::NOW);
    }

    #[test]
    fn sf_roundtrip(input in sfish()) {
        if let Ok(d) = sf::parse_dictionary(input.as_bytes()) {
            let s = sf::serialize_dictionary(&d).unwrap();
            prop_assert_eq!(sf::parse_dictionary(s.as_bytes()).unwrap(), d);
        }
    }

    #[test]
    fn obs_text_fields_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut r = common::signed();
        if let Ok(v) = http::HeaderValue::from_bytes(&bytes) {
            r.headers_mut().insert(origin_sdk::trust::USER, v);
        }
        let _ = common::verifier().verify(&r, common::NOW);
    }
}
