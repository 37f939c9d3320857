//! Key parsing and redaction.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use origin_sdk::{Algorithm, KeyError, KeySet, SigningKey, VerifyingKey};

// Bytes chosen so standard and URL-safe encodings differ (contain + / vs - _).
const SEED: [u8; 32] = [0xfb; 32];

#[test]
fn base64_variants() {
    let reference = SigningKey::ed25519_from_seed("k", &SEED).verifying_key().public_key_base64();
    for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
        let s = engine.encode(SEED);
        let k = SigningKey::ed25519_from_base64("k", &format!(" {s}\n")).unwrap();
        assert_eq!(k.verifying_key().public_key_base64(), reference, "{s}");
        let pk = URL_SAFE_NO_PAD.encode(STANDARD.decode(reference.as_ref().unwrap()).unwrap());
        assert_eq!(VerifyingKey::ed25519_from_base64("k", &pk).unwrap().public_key_base64(), reference);
    }
    assert_eq!(SigningKey::ed25519_from_base64("k", "not base64!").unwrap_err(), KeyError::InvalidBase64);
    assert_eq!(SigningKey::ed25519_from_base64("k", "AAAA").unwrap_err(), KeyError::InvalidLength { expected: 32, actual: 3 });
    assert_eq!(SigningKey::hmac("k", b"short").unwrap_err(), KeyError::SecretTooShort(5));
    let h = SigningKey::hmac_from_base64("h", &URL_SAFE_NO_PAD.encode([0xfe; 20])).unwrap();
    assert_eq!(h.algorithm(), Algorithm::HmacSha256);
    assert_eq!(h.verifying_key().public_key_base64(), None);
}

#[test]
fn sign_and_verify_bytes() {
    for k in [SigningKey::ed25519_from_seed("e", &SEED), SigningKey::hmac("h", &[1; 32]).unwrap()] {
        let sig = k.sign(b"base");
        let v = k.verifying_key();
        assert!(v.verify(b"base", &sig));
        assert!(!v.verify(b"basf", &sig));
        assert!(!v.verify(b"base", &sig[..sig.len() - 1]));
        assert!(!v.verify(b"base", &[]));
    }
}

#[test]
fn jwk() {
    let seed = URL_SAFE_NO_PAD.encode(SEED);
    let k = SigningKey::from_jwk(&format!(r#"{{"kty":"OKP","crv":"Ed25519","kid":"j1","d":"{seed}"}}"#)).unwrap();
    assert_eq!((k.keyid(), k.algorithm()), ("j1", Algorithm::Ed25519));
    let x = URL_SAFE_NO_PAD.encode(STANDARD.decode(k.verifying_key().public_key_base64().unwrap()).unwrap());
    let full = format!(r#"{{"kty":"OKP","crv":"Ed25519","kid":"j1","d":"{seed}","x":"{x}"}}"#);
    assert!(SigningKey::from_jwk(&full).is_ok());
    let v = VerifyingKey::from_jwk(&full).unwrap();
    assert!(v.verify(b"m", &k.sign(b"m")));
    let public_only = format!(r#"{{"kty":"OKP","crv":"Ed25519","kid":"j1","x":"{x}"}}"#);
    assert!(VerifyingKey::from_jwk(&public_only).is_ok());
    assert_eq!(SigningKey::from_jwk(&public_only).unwrap_err(), KeyError::NotASigningKey);
    let wrong_x = format!(r#"{{"kty":"OKP","crv":"Ed25519","kid":"j1","d":"{seed}","x":"{}"}}"#, URL_SAFE_NO_PAD.encode([9u8; 32]));
    assert!(SigningKey::from_jwk(&wrong_x).is_err());

    let k = URL_SAFE_NO_PAD.encode([7u8; 24]);
    let oct = format!(r#"{{"kty":"oct","kid":"o1","k":"{k}"}}"#);
    let s = SigningKey::from_jwk(&oct).unwrap();
    assert!(VerifyingKey::from_jwk(&oct).unwrap().verify(b"m", &s.sign(b"m")));
    assert_eq!(SigningKey::from_jwk(r#"{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAA"}"#).unwrap_err(), KeyError::MissingKeyId);
    assert_eq!(SigningKey::from_jwk(r#"{"kty":"RSA","kid":"r"}"#).unwrap_err(), KeyError::UnsupportedJwk);
    assert_eq!(SigningKey::from_jwk(r#"{"kty":"OKP","crv":"X25519","kid":"r"}"#).unwrap_err(), KeyError::UnsupportedJwk);
    assert!(matches!(SigningKey::from_jwk("[").unwrap_err(), KeyError::InvalidJwk(_)));
    assert!(matches!(VerifyingKey::from_jwk("{}").unwrap_err(), KeyError::InvalidJwk(_)));
}

#[test]
fn debug_is_redacted() {
    let seed_b64 = STANDARD.encode(SEED);
    let secret = [0x42u8; 32];
    let ed = SigningKey::ed25519_from_seed("ed-id", &SEED);
    let hm = SigningKey::hmac("hm-id", &secret).unwrap();
    let outputs = [
        format!("{ed:?}"),
        format!("{hm:?}"),
        format!("{:?}", hm.verifying_key()),
        format!("{:#?}", KeySet::new().with(hm.verifying_key())),
        format!("{:?}", origin_sdk::Signer::new(hm.clone())),
        format!("{:?}", origin_sdk::Verifier::new(KeySet::new().with(hm.verifying_key()))),
    ];
    for out in &outputs {
        assert!(!out.contains(&seed_b64) && !out.contains(&STANDARD.encode(secret)), "{out}");
        assert!(!out.contains("66, 66") && !out.contains("251, 251") && !out.contains("0x42"), "{out}");
    }
    assert!(outputs[0].contains("ed-id") && outputs[0].contains("Ed25519"), "{}", outputs[0]);
    assert!(outputs[1].contains("hm-id") && outputs[1].contains("HmacSha256"), "{}", outputs[1]);
    // The Ed25519 public key is not secret and is shown.
    assert!(format!("{:?}", ed.verifying_key()).contains(&ed.verifying_key().public_key_base64().unwrap()));
}

#[test]
fn key_spec() {
    let ed = SigningKey::ed25519_from_seed("a", &SEED).verifying_key();
    let spec = format!(" a:{} , b:hmac:{} ,, c:ed25519:{}", ed.public_key_base64().unwrap(), STANDARD.encode([3u8; 32]), ed.public_key_base64().unwrap());
    let set = KeySet::from_spec(&spec).unwrap();
    assert_eq!(set.len(), 3);
    assert_eq!(set.get("b").unwrap().algorithm(), Algorithm::HmacSha256);
    assert_eq!(set.get("c").unwrap().algorithm(), Algorithm::Ed25519);
    assert!(KeySet::from_spec("").unwrap().is_empty());
    for bad in ["nokey", ":AAAA", "a:rsa:AAAA", "a:hmac:AAAA", "a:AAAA"] {
        assert!(KeySet::from_spec(bad).is_err(), "{bad}");
    }
    // The error never echoes key material.
    let e = KeySet::from_spec("k:weird:c2VjcmV0c2VjcmV0c2VjcmV0").unwrap_err().to_string();
    assert!(!e.contains("c2Vj"), "{e}");
}

/// RSA public keys: 2048..=4096-bit moduli and a usable exponent only; a bad
/// key is an error, never a panic.
#[test]
fn rsa_key_bounds() {
    let e = [1u8, 0, 1];
    let modulus = |bits: usize| {
        let mut n = vec![0xffu8; bits / 8];
        if let Some(last) = n.last_mut() {
            *last = 0xfb;
        }
        n
    };
    assert!(VerifyingKey::rsa_pss_sha512("k", &modulus(2048), &e).is_ok());
    assert!(VerifyingKey::rsa_pss_sha512("k", &modulus(4096), &e).is_ok());
    assert!(matches!(VerifyingKey::rsa_pss_sha512("k", &modulus(1024), &e), Err(KeyError::InvalidRsaKey(_))));
    assert!(matches!(VerifyingKey::rsa_pss_sha512("k", &modulus(4104), &e), Err(KeyError::InvalidRsaKey(_))));
    // Leading zero bytes do not make a short modulus long.
    let mut padded = vec![0u8; 200];
    padded.extend(modulus(1024));
    assert!(matches!(VerifyingKey::rsa_pss_sha512("k", &padded, &e), Err(KeyError::InvalidRsaKey(_))));
    assert!(matches!(VerifyingKey::rsa_pss_sha512("k", &modulus(2048), &[1]), Err(KeyError::InvalidRsaKey(_))));
    assert!(matches!(VerifyingKey::rsa_pss_sha512("k", &modulus(2048), &[]), Err(KeyError::InvalidRsaKey(_))));
    let key = VerifyingKey::rsa_pss_sha512("k", &modulus(2048), &e).unwrap();
    assert_eq!(key.algorithm(), Algorithm::RsaPssSha512);
    assert_eq!(key.public_key_base64(), None);
    assert!(!key.verify(b"m", &[0u8; 256]));
    assert!(!key.verify(b"m", &[0xffu8; 256]));
    assert!(!key.verify(b"m", &[0u8; 3]));
    assert!(format!("{key:?}").contains("RsaPssSha512"));
    assert!(matches!(VerifyingKey::from_jwk(r#"{"kty":"RSA","kid":"r","e":"AQAB"}"#), Err(KeyError::InvalidJwk(_))));
    assert!(matches!(VerifyingKey::from_jwk(r#"{"kty":"RSA","kid":"r","n":"AQAB"}"#), Err(KeyError::InvalidJwk(_))));
}
