//! Attack and happy-path tests for `auth`. Keys are generated per run.

use std::sync::OnceLock;

use base64ct::{Base64UrlUnpadded, Encoding};
use jwt_compact::{
    alg::{Ed25519, Es256, Hs256, Hs256Key, Hs384, Hs384Key, RsaPrivateKey},
    Algorithm, AlgorithmSignature,
};
use rand_core::{OsRng, RngCore};
use rsa::{pkcs8::EncodePublicKey, traits::PublicKeyParts};
use serde_json::json;

use super::*;

const NOW: u64 = 1_700_000_000;

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn rsa_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut OsRng, 2048).expect("rsa keygen"))
}

type P256Signing = <Es256 as Algorithm>::SigningKey;
type EdSigning = <Ed25519 as Algorithm>::SigningKey;

fn p256_key() -> &'static P256Signing {
    static KEY: OnceLock<P256Signing> = OnceLock::new();
    KEY.get_or_init(|| P256Signing::random(&mut OsRng))
}

fn ed_key() -> &'static EdSigning {
    static KEY: OnceLock<EdSigning> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut seed = [0u8; 32];
        OsRng.fill_bytes(&mut seed);
        EdSigning::from_bytes(&seed)
    })
}

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-hs256-test-secret";

enum Signer {
    Hs256(&'static [u8]),
    Hs384(&'static [u8]),
    HmacWith(Vec<u8>),
    Rsa(Alg),
    Es256,
    EdDsa,
}

fn sign_raw(signing_input: &str, signer: &Signer) -> Vec<u8> {
    let msg = signing_input.as_bytes();
    match signer {
        Signer::Hs256(k) => Hs256.sign(&Hs256Key::new(k), msg).as_bytes().into_owned(),
        Signer::HmacWith(k) => Hs256.sign(&Hs256Key::new(k), msg).as_bytes().into_owned(),
        Signer::Hs384(k) => Hs384.sign(&Hs384Key::new(k), msg).as_bytes().into_owned(),
        Signer::Rsa(alg) => alg.rsa().sign(rsa_key(), msg).as_bytes().into_owned(),
        Signer::Es256 => Es256.sign(p256_key(), msg).as_bytes().into_owned(),
        Signer::EdDsa => Ed25519.sign(ed_key(), msg).as_bytes().into_owned(),
    }
}

fn token(header: &serde_json::Value, claims: &serde_json::Value, signer: &Signer) -> String {
    token_raw(
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
        signer,
    )
}

fn token_raw(header: &[u8], claims: &[u8], signer: &Signer) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let sig = sign_raw(&input, signer);
    format!("{input}.{}", b64(&sig))
}

fn jwks() -> Vec<u8> {
    let rsa = rsa_key().to_public_key();
    let point = p256_key().verifying_key().to_encoded_point(false);
    let x = point.x().expect("x");
    let y = point.y().expect("y");
    json!({"keys": [
        {"kty": "RSA", "kid": "rsa1", "use": "sig", "n": b64(&rsa.n().to_bytes_be()), "e": b64(&rsa.e().to_bytes_be())},
        {"kty": "RSA", "kid": "pss1", "alg": "PS256", "n": b64(&rsa.n().to_bytes_be()), "e": b64(&rsa.e().to_bytes_be())},
        {"kty": "EC", "kid": "ec1", "crv": "P-256", "x": b64(x), "y": b64(y)},
        {"kty": "OKP", "kid": "ed1", "crv": "Ed25519", "x": b64(&ed_key().verifying_key().to_bytes())},
        {"kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA"},
        {"kty": "RSA", "kid": "enc", "use": "enc", "n": b64(&rsa.n().to_bytes_be()), "e": "AQAB"},
    ]})
    .to_string()
    .into_bytes()
}

fn store() -> KeyStore {
    let mut keys = KeyStore::new();
    let report = keys
        .add_jwks(&jwks(), &JwksOptions::default())
        .expect("jwks");
    assert_eq!(report.loaded, 4, "{report:?}");
    assert_eq!(report.skipped.len(), 2);
    keys.add_secret(Some("hmac1"), Alg::Hs256, SECRET)
        .expect("secret");
    keys
}

fn claims() -> serde_json::Value {
    json!({"sub": "user-1", "iss": "https://idp.example", "aud": "api", "exp": NOW + 600, "iat": NOW - 10, "scope": "read write", "tenant": "t1"})
}

fn policy() -> Policy {
    Policy {
        issuers: vec!["https://idp.example".into()],
        audiences: vec!["api".into()],
        ..Policy::default()
    }
}

fn hs(kid: &str) -> serde_json::Value {
    json!({"alg": "HS256", "kid": kid, "typ": "JWT"})
}

fn check(token: &str) -> Result<VerifiedToken, JwtError> {
    verify(token, &store(), &policy(), NOW)
}

fn with_claims(extra: serde_json::Value) -> String {
    let mut c = claims();
    for (k, v) in extra.as_object().expect("object") {
        if v.is_null() {
            c.as_object_mut().expect("object").remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    token(&hs("hmac1"), &c, &Signer::Hs256(SECRET))
}

// ---- valid tokens --------------------------------------------------------

#[test]
fn valid_hs256() {
    let t = check(&with_claims(json!({}))).expect("valid");
    assert_eq!(t.sub.as_deref(), Some("user-1"));
    assert_eq!(t.user.as_deref(), Some("user-1"));
    assert_eq!(t.alg, Alg::Hs256);
    assert_eq!(t.kid.as_deref(), Some("hmac1"));
    assert_eq!(t.expires_at, Some(NOW + 600));
    assert_eq!(t.claim_str("tenant").as_deref(), Some("t1"));
}

#[test]
fn valid_each_asymmetric_alg() {
    for (kid, alg, signer) in [
        ("rsa1", "RS256", Signer::Rsa(Alg::Rs256)),
        ("pss1", "PS256", Signer::Rsa(Alg::Ps256)),
        ("ec1", "ES256", Signer::Es256),
        ("ed1", "EdDSA", Signer::EdDsa),
    ] {
        let t = token(&json!({"alg": alg, "kid": kid}), &claims(), &signer);
        let v = check(&t).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(v.alg.as_str(), alg);
    }
}

#[test]
fn valid_without_kid_tries_keys_of_that_alg() {
    let t = token(&json!({"alg": "ES256"}), &claims(), &Signer::Es256);
    assert!(check(&t).is_ok());
    let t = token(&json!({"alg": "HS384"}), &claims(), &Signer::Hs384(SECRET));
    assert_eq!(check(&t).unwrap_err(), JwtError::NoMatchingKey);
}

#[test]
fn hs384_secret_and_short_secret_rejected() {
    let mut keys = KeyStore::new();
    assert_eq!(
        keys.add_secret(None, Alg::Hs256, b"short"),
        Err(KeyError::WeakKey)
    );
    assert_eq!(
        keys.add_secret(None, Alg::Rs256, SECRET),
        Err(KeyError::UnsupportedAlgorithm)
    );
    keys.add_secret(Some("h384"), Alg::Hs384, SECRET)
        .expect("48+ bytes");
    let t = token(
        &json!({"alg": "HS384", "kid": "h384"}),
        &claims(),
        &Signer::Hs384(SECRET),
    );
    assert!(verify(&t, &keys, &Policy::default(), NOW).is_ok());
}

#[test]
fn scopes_any_and_all() {
    let mut p = policy();
    p.scopes = Some(ScopeRule {
        claim: "scope".into(),
        any_of: vec!["admin".into(), "write".into()],
        all_of: vec!["read".into()],
    });
    let keys = store();
    assert!(verify(&with_claims(json!({})), &keys, &p, NOW).is_ok());
    let err = verify(&with_claims(json!({"scope": "read"})), &keys, &p, NOW).unwrap_err();
    assert!(matches!(err, JwtError::InsufficientScope { .. }));
    assert_eq!(err.status(), 403);
    assert_eq!(
        err.www_authenticate(Some("api")),
        r#"Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="read""#
    );
    let err = verify(
        &with_claims(json!({"scope": "write admin"})),
        &keys,
        &p,
        NOW,
    )
    .unwrap_err();
    assert!(matches!(err, JwtError::InsufficientScope { .. }));
    // Array-valued claim (roles).
    p.scopes = Some(ScopeRule {
        claim: "roles".into(),
        any_of: vec![],
        all_of: vec!["a".into(), "b".into()],
    });
    assert!(verify(
        &with_claims(json!({"roles": ["b", "a", 1]})),
        &keys,
        &p,
        NOW
    )
    .is_ok());
    assert!(verify(&with_claims(json!({"roles": ["a"]})), &keys, &p, NOW).is_err());
    assert!(
        verify(&with_claims(json!({})), &keys, &p, NOW).is_err(),
        "missing claim"
    );
    // "a b" as one array element is not two roles.
    assert!(verify(&with_claims(json!({"roles": ["a b"]})), &keys, &p, NOW).is_err());
}

#[test]
fn forwarded_claims_and_user_claim() {
    let mut p = policy();
    p.forward = ForwardRule {
        user_claim: "uid".into(),
        claims: vec!["tenant".into(), "email".into()],
    };
    let t = verify(&with_claims(json!({"uid": 42})), &store(), &p, NOW).expect("valid");
    assert_eq!(t.user.as_deref(), Some("42"));
    assert_eq!(t.forwarded_claims.len(), 1);
    assert_eq!(t.forwarded_claims["tenant"], "t1");
}

// ---- algorithm attacks ---------------------------------------------------

#[test]
fn alg_none_rejected_in_any_case() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let t = format!(
            "{}.{}.",
            b64(json!({"alg": alg}).to_string().as_bytes()),
            b64(claims().to_string().as_bytes())
        );
        assert_eq!(
            check(&t).unwrap_err(),
            JwtError::InvalidStructure,
            "{alg} empty sig"
        );
        let t = format!("{t}AAAA");
        assert_eq!(check(&t).unwrap_err(), JwtError::AlgNone, "{alg}");
    }
}

#[test]
fn rsa_public_key_as_hmac_secret_rejected() {
    let public = rsa_key().to_public_key();
    let der = public.to_public_key_der().expect("der").as_bytes().to_vec();
    let pem = public
        .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
        .expect("pem")
        .into_bytes();
    for secret in [der, pem] {
        let t = token(
            &json!({"alg": "HS256", "kid": "rsa1"}),
            &claims(),
            &Signer::HmacWith(secret.clone()),
        );
        assert_eq!(
            check(&t).unwrap_err(),
            JwtError::AlgorithmMismatch {
                key_alg: Alg::Rs256
            }
        );
        // Without kid: only HS256 keys are tried, and the RSA key is not one.
        let t = token(
            &json!({"alg": "HS256"}),
            &claims(),
            &Signer::HmacWith(secret),
        );
        assert_eq!(check(&t).unwrap_err(), JwtError::InvalidSignature);
    }
}

#[test]
fn rs256_token_against_pss_pinned_key_rejected() {
    let t = token(
        &json!({"alg": "RS256", "kid": "pss1"}),
        &claims(),
        &Signer::Rsa(Alg::Rs256),
    );
    assert_eq!(
        check(&t).unwrap_err(),
        JwtError::AlgorithmMismatch {
            key_alg: Alg::Ps256
        }
    );
}

#[test]
fn unsupported_alg_rejected() {
    let t = token_raw(br#"{"alg":"ES512","kid":"ec1"}"#, b"{}", &Signer::Es256);
    assert_eq!(check(&t).unwrap_err(), JwtError::UnsupportedAlgorithm);
    let t = token_raw(
        br#"{"alg":"hs256","kid":"hmac1"}"#,
        b"{}",
        &Signer::Hs256(SECRET),
    );
    assert_eq!(
        check(&t).unwrap_err(),
        JwtError::UnsupportedAlgorithm,
        "alg is case-sensitive"
    );
    let t = token_raw(br#"{"kid":"hmac1"}"#, b"{}", &Signer::Hs256(SECRET));
    assert_eq!(check(&t).unwrap_err(), JwtError::MalformedHeader("alg"));
}

#[test]
fn crit_rejected() {
    let t = token(
        &json!({"alg": "HS256", "kid": "hmac1", "crit": ["exp"], "exp": 1}),
        &claims(),
        &Signer::Hs256(SECRET),
    );
    assert_eq!(check(&t).unwrap_err(), JwtError::UnsupportedCritical);
    let t = token(
        &json!({"alg": "HS256", "kid": "hmac1", "crit": []}),
        &claims(),
        &Signer::Hs256(SECRET),
    );
    assert_eq!(check(&t).unwrap_err(), JwtError::UnsupportedCritical);
}

#[test]
fn key_reference_headers_rejected() {
    for h in ["jku", "x5u", "jwk", "x5c"] {
        let mut header = hs("hmac1");
        header[h] = json!("https://attacker.example/keys");
        let t = token(&header, &claims(), &Signer::Hs256(SECRET));
        assert_eq!(check(&t).unwrap_err(), JwtError::ForbiddenHeader(h));
    }
}

#[test]
fn hostile_kids_are_just_unknown() {
    for kid in [
        "../../etc/passwd",
        "' OR 1=1 --",
        "hmac1\u{0}",
        "file:///etc/passwd",
        "HMAC1",
        "",
    ] {
        let t = token(&hs(kid), &claims(), &Signer::Hs256(SECRET));
        let err = check(&t).unwrap_err();
        assert_eq!(err, JwtError::UnknownKid, "{kid:?}");
        assert!(err.may_refresh_keys());
        assert_eq!(err.status(), 401);
    }
    let t = token(
        &json!({"alg": "HS256", "kid": 7}),
        &claims(),
        &Signer::Hs256(SECRET),
    );
    assert_eq!(check(&t).unwrap_err(), JwtError::MalformedHeader("kid"));
}

#[test]
fn skipped_jwks_keys_are_not_usable() {
    // `enc` key was skipped; its kid is unknown.
    let t = token(
        &json!({"alg": "RS256", "kid": "enc"}),
        &claims(),
        &Signer::Rsa(Alg::Rs256),
    );
    assert_eq!(check(&t).unwrap_err(), JwtError::UnknownKid);
}

#[test]
fn es256_out_of_range_scalars_rejected() {
    let t = token(
        &json!({"alg": "ES256", "kid": "ec1"}),
        &claims(),
        &Signer::Es256,
    );
    let (input, sig) = t.rsplit_once('.').expect("3 parts");
    let sig = Base64UrlUnpadded::decode_vec(sig).expect("b64");
    assert!(keys::es256_scalars_in_range(&sig));
    let n: [u8; 32] = hex32("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    let mut n_minus_1 = n;
    n_minus_1[31] -= 1;
    let cases: Vec<Vec<u8>> = vec![
        [[0u8; 32].as_slice(), &sig[32..]].concat(),    // r = 0
        [&sig[..32], [0u8; 32].as_slice()].concat(),    // s = 0
        [n.as_slice(), &sig[32..]].concat(),            // r = n
        [&sig[..32], n.as_slice()].concat(),            // s = n
        [[0xffu8; 32].as_slice(), &sig[32..]].concat(), // r > n
        [0u8; 64].to_vec(),
    ];
    for bad in &cases {
        assert!(!keys::es256_scalars_in_range(bad));
        let forged = format!("{input}.{}", b64(bad));
        assert_eq!(check(&forged).unwrap_err(), JwtError::InvalidSignature);
    }
    // r = n - 1 is in range, but still not a valid signature.
    let near = [n_minus_1.as_slice(), &sig[32..]].concat();
    assert!(keys::es256_scalars_in_range(&near));
    assert_eq!(
        check(&format!("{input}.{}", b64(&near))).unwrap_err(),
        JwtError::InvalidSignature
    );
    // DER-encoded or padded signatures are not raw r||s.
    assert_eq!(
        check(&format!(
            "{input}.{}",
            b64(&[sig.as_slice(), &[0]].concat())
        ))
        .unwrap_err(),
        JwtError::InvalidSignature
    );
}

fn hex32(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex");
    }
    out
}

#[test]
fn tampered_payload_and_signature_rejected() {
    let t = with_claims(json!({}));
    let (h, rest) = t.split_once('.').expect("parts");
    let (_, s) = rest.split_once('.').expect("parts");
    let other = b64(json!({"sub": "admin", "exp": NOW + 600})
        .to_string()
        .as_bytes());
    assert_eq!(
        check(&format!("{h}.{other}.{s}")).unwrap_err(),
        JwtError::InvalidSignature
    );
    let mut sig = Base64UrlUnpadded::decode_vec(s).expect("b64");
    sig[0] ^= 1;
    assert_eq!(
        check(&format!(
            "{h}.{}.{}",
            rest.split_once('.').expect("p").0,
            b64(&sig)
        ))
        .unwrap_err(),
        JwtError::InvalidSignature
    );
}

// ---- structure and encoding ----------------------------------------------

#[test]
fn oversized_token_rejected_before_decoding() {
    let big = "a".repeat(MAX_TOKEN_LEN + 1);
    assert_eq!(check(&big).unwrap_err(), JwtError::TokenTooLarge);
    // A well-formed token that is just too big.
    let t = with_claims(json!({"pad": "x".repeat(6200)}));
    assert!(t.len() > MAX_TOKEN_LEN);
    assert_eq!(check(&t).unwrap_err(), JwtError::TokenTooLarge);
    // Just under the limit still works.
    let mut pad = 6200;
    let ok = loop {
        let t = with_claims(json!({"pad": "x".repeat(pad)}));
        if t.len() <= MAX_TOKEN_LEN {
            break t;
        }
        pad -= 1;
    };
    assert!(check(&ok).is_ok());
}

#[test]
fn structure_errors() {
    let t = with_claims(json!({}));
    assert_eq!(
        check(&format!("{t}.")).unwrap_err(),
        JwtError::InvalidStructure
    );
    assert_eq!(
        check(&format!("{t}.e30")).unwrap_err(),
        JwtError::InvalidStructure
    );
    assert_eq!(
        check(t.rsplit_once('.').expect("p").0).unwrap_err(),
        JwtError::InvalidStructure
    );
    assert_eq!(check("").unwrap_err(), JwtError::InvalidStructure);
    assert_eq!(check("..").unwrap_err(), JwtError::InvalidStructure);
    assert_eq!(
        check(&format!("{t} ")).unwrap_err(),
        JwtError::InvalidBase64(Part::Signature)
    );
    assert_eq!(
        check(&format!(" {t}")).unwrap_err(),
        JwtError::InvalidBase64(Part::Header)
    );
    assert_eq!(
        check(&format!("{t}=")).unwrap_err(),
        JwtError::InvalidBase64(Part::Signature)
    );
    assert_eq!(
        check(&format!("{t}\n")).unwrap_err(),
        JwtError::InvalidBase64(Part::Signature)
    );
    assert_eq!(
        check(&t.replacen('.', "+.", 1)).unwrap_err(),
        JwtError::InvalidBase64(Part::Header)
    );
    // Standard-alphabet characters are not base64url.
    let (h, rest) = t.split_once('.').expect("p");
    let std_payload = rest
        .split_once('.')
        .expect("p")
        .0
        .replace('-', "+")
        .replace('_', "/");
    let _ = std_payload; // may contain none; covered by the `+` case above.
                         // Non-canonical trailing bits: "e30" = "{}"; "e31" decodes to the same bytes.
    let t2 = format!("{h}.e31.{}", rest.split_once('.').expect("p").1);
    assert_eq!(
        check(&t2).unwrap_err(),
        JwtError::InvalidBase64(Part::Payload)
    );
    // Length ≡ 1 (mod 4) can never be valid.
    let t3 = format!("{h}.e30AA.{}", rest.split_once('.').expect("p").1);
    assert_eq!(
        check(&t3).unwrap_err(),
        JwtError::InvalidBase64(Part::Payload)
    );
}

#[test]
fn bad_json_rejected() {
    let s = Signer::Hs256(SECRET);
    let t = token_raw(b"not json", b"{}", &s);
    assert_eq!(check(&t).unwrap_err(), JwtError::InvalidJson(Part::Header));
    let t = token_raw(br#"["alg","HS256"]"#, b"{}", &s);
    assert_eq!(check(&t).unwrap_err(), JwtError::InvalidJson(Part::Header));
    let t = token_raw(br#"{"alg":"HS256","kid":"hmac1"} x"#, b"{}", &s);
    assert_eq!(check(&t).unwrap_err(), JwtError::InvalidJson(Part::Header));
    let t = token_raw(br#"{"alg":"HS256","kid":"hmac1"}"#, b"{\"sub\":", &s);
    assert_eq!(check(&t).unwrap_err(), JwtError::InvalidJson(Part::Payload));
    let t = token_raw(
        br#"{"alg":"HS256","kid":"hmac1"}"#,
        b"\"just a string\"",
        &s,
    );
    assert_eq!(check(&t).unwrap_err(), JwtError::InvalidJson(Part::Payload));
    let t = token_raw(br#"{"alg":"HS256","kid":"hmac1"}"#, b"{\"a\":\"\xff\"}", &s);
    assert_eq!(check(&t).unwrap_err(), JwtError::InvalidJson(Part::Payload));
}

#[test]
fn duplicate_json_keys_rejected() {
    let s = Signer::Hs256(SECRET);
    let t = token_raw(br#"{"alg":"HS256","kid":"hmac1","alg":"none"}"#, b"{}", &s);
    assert_eq!(
        check(&t).unwrap_err(),
        JwtError::DuplicateJsonKey(Part::Header)
    );
    let claims = format!(r#"{{"sub":"user-1","exp":{},"sub":"admin"}}"#, NOW + 60);
    let t = token_raw(br#"{"alg":"HS256","kid":"hmac1"}"#, claims.as_bytes(), &s);
    assert_eq!(
        check(&t).unwrap_err(),
        JwtError::DuplicateJsonKey(Part::Payload)
    );
    // Nested objects too; escaped spellings of the same name count.
    let claims = format!(r#"{{"exp":{},"x":{{"a":1,"\u0061":2}}}}"#, NOW + 60);
    let t = token_raw(br#"{"alg":"HS256","kid":"hmac1"}"#, claims.as_bytes(), &s);
    assert_eq!(
        check(&t).unwrap_err(),
        JwtError::DuplicateJsonKey(Part::Payload)
    );
}

// ---- time claims ---------------------------------------------------------

#[test]
fn exp_boundaries_with_leeway() {
    // Valid iff now < exp + leeway (60 s).
    let exp_at = |exp: u64| check(&with_claims(json!({"exp": exp, "iat": null})));
    assert!(exp_at(NOW - 59).is_ok());
    assert_eq!(exp_at(NOW - 60).unwrap_err(), JwtError::Expired);
    assert_eq!(exp_at(NOW - 3600).unwrap_err(), JwtError::Expired);
    let mut p = policy();
    p.leeway_s = 0;
    assert!(verify(&with_claims(json!({"exp": NOW + 1})), &store(), &p, NOW).is_ok());
    assert_eq!(
        verify(&with_claims(json!({"exp": NOW})), &store(), &p, NOW).unwrap_err(),
        JwtError::Expired
    );
    // Fractional exp rounds down.
    assert_eq!(
        verify(
            &with_claims(json!({"exp": NOW as f64 + 0.5})),
            &store(),
            &p,
            NOW
        )
        .unwrap_err(),
        JwtError::Expired
    );
    // Missing exp is refused by default, allowed when configured.
    assert_eq!(
        check(&with_claims(json!({"exp": null}))).unwrap_err(),
        JwtError::MissingClaim("exp".into())
    );
    p.require_exp = false;
    assert!(verify(&with_claims(json!({"exp": null})), &store(), &p, NOW).is_ok());
    // Wrong type is malformed, not missing.
    assert_eq!(
        check(&with_claims(json!({"exp": "9999999999"}))).unwrap_err(),
        JwtError::MalformedClaim("exp")
    );
}

#[test]
fn nbf_boundaries_with_leeway() {
    // Valid iff nbf <= now + leeway.
    let nbf_at = |nbf: u64| check(&with_claims(json!({"nbf": nbf})));
    assert!(nbf_at(NOW + 60).is_ok());
    assert_eq!(nbf_at(NOW + 61).unwrap_err(), JwtError::NotYetValid);
    assert!(nbf_at(NOW - 1000).is_ok());
    assert_eq!(
        check(&with_claims(json!({"nbf": true}))).unwrap_err(),
        JwtError::MalformedClaim("nbf")
    );
}

#[test]
fn iat_far_future_rejected() {
    // Valid iff iat <= now + max_iat_future_s (60).
    let iat_at = |iat: u64| check(&with_claims(json!({"iat": iat})));
    assert!(iat_at(NOW + 60).is_ok());
    assert_eq!(iat_at(NOW + 61).unwrap_err(), JwtError::IssuedInFuture);
    assert_eq!(
        iat_at(NOW + 86_400 * 365).unwrap_err(),
        JwtError::IssuedInFuture
    );
    assert!(check(&with_claims(json!({"iat": u64::MAX}))).is_err());
    assert!(check(&with_claims(json!({"iat": -5}))).is_ok());
    assert!(check(&with_claims(json!({"exp": 1e300}))).is_ok());
}

// ---- iss / aud / required ------------------------------------------------

#[test]
fn issuer_and_audience() {
    assert_eq!(
        check(&with_claims(json!({"iss": "https://evil.example"}))).unwrap_err(),
        JwtError::InvalidIssuer
    );
    assert_eq!(
        check(&with_claims(json!({"iss": null}))).unwrap_err(),
        JwtError::MissingClaim("iss".into())
    );
    assert_eq!(
        check(&with_claims(json!({"iss": ["https://idp.example"]}))).unwrap_err(),
        JwtError::MalformedClaim("iss")
    );
    assert_eq!(
        check(&with_claims(json!({"aud": "other"}))).unwrap_err(),
        JwtError::InvalidAudience
    );
    assert_eq!(
        check(&with_claims(json!({"aud": ["a", "b"]}))).unwrap_err(),
        JwtError::InvalidAudience
    );
    assert_eq!(
        check(&with_claims(json!({"aud": []}))).unwrap_err(),
        JwtError::InvalidAudience
    );
    assert!(check(&with_claims(json!({"aud": ["other", "api"]}))).is_ok());
    assert_eq!(
        check(&with_claims(json!({"aud": ["api", 1]}))).unwrap_err(),
        JwtError::MalformedClaim("aud")
    );
    assert_eq!(
        check(&with_claims(json!({"aud": null}))).unwrap_err(),
        JwtError::MissingClaim("aud".into())
    );
    assert_eq!(
        check(&with_claims(json!({"sub": 5}))).unwrap_err(),
        JwtError::MalformedClaim("sub")
    );
}

#[test]
fn required_claims() {
    let mut p = policy();
    p.required_claims = vec!["tenant".into(), "email".into()];
    let err = verify(&with_claims(json!({})), &store(), &p, NOW).unwrap_err();
    assert_eq!(err, JwtError::MissingClaim("email".into()));
    assert!(verify(&with_claims(json!({"email": "a@b"})), &store(), &p, NOW).is_ok());
}

// ---- RFC 6750 rendering ---------------------------------------------------

#[test]
fn www_authenticate_rendering() {
    assert_eq!(bearer_challenge(None), "Bearer");
    assert_eq!(
        JwtError::MissingToken.www_authenticate(Some("edge")),
        r#"Bearer realm="edge""#
    );
    assert_eq!(JwtError::MissingToken.status(), 401);
    assert_eq!(
        JwtError::Expired.www_authenticate(None),
        r#"Bearer error="invalid_token", error_description="token expired""#
    );
    assert_eq!(JwtError::MultipleTokens.status(), 400);
    assert_eq!(
        JwtError::MultipleTokens.bearer_error(),
        Some(BearerError::InvalidRequest)
    );
    assert_eq!(
        bearer_challenge(Some("a\"b\\c\r\nX: y")),
        r#"Bearer realm="a\"b\\cX: y""#
    );
    let err = JwtError::InsufficientScope {
        scope: vec!["ok".into(), "bad\"".into()],
    };
    assert!(err.www_authenticate(None).ends_with(r#"scope="ok""#));
}

#[test]
fn descriptions_never_echo_token_data() {
    let t = token(
        &hs("../../secret-kid-VALUE"),
        &claims(),
        &Signer::Hs256(SECRET),
    );
    let err = check(&t).unwrap_err();
    let header = err.www_authenticate(Some("r"));
    assert!(!header.contains("secret-kid-VALUE"));
    assert!(!header.contains(&t[..20]));
}

// ---- token extraction ----------------------------------------------------

#[test]
fn extract_bearer() {
    let src = TokenSource::Bearer;
    assert_eq!(
        src.extract([("Authorization", "Bearer abc.def.ghi")])
            .as_deref(),
        Ok("abc.def.ghi")
    );
    assert_eq!(
        src.extract([("authorization", "bEaReR   abc.def.ghi  ")])
            .as_deref(),
        Ok("abc.def.ghi")
    );
    assert_eq!(
        src.extract([("Authorization", "Basic dXNlcjpwdw==")]),
        Err(JwtError::MissingToken)
    );
    assert_eq!(
        src.extract(Vec::<(String, String)>::new()),
        Err(JwtError::MissingToken)
    );
    assert_eq!(
        src.extract([("Authorization", "Bearer")]),
        Err(JwtError::MalformedAuthorization)
    );
    assert_eq!(
        src.extract([("Authorization", "Bearer a b")]),
        Err(JwtError::MalformedAuthorization)
    );
    assert_eq!(
        src.extract([("Authorization", "Bearer a, Bearer b")]),
        Err(JwtError::MalformedAuthorization)
    );
    assert_eq!(
        src.extract([("Authorization", "Bearera.b.c")]),
        Err(JwtError::MissingToken)
    );
    assert_eq!(
        src.extract([
            ("Authorization", "Bearer a.b.c"),
            ("authorization", "Bearer a.b.c")
        ]),
        Err(JwtError::MultipleTokens)
    );
}

#[test]
fn extract_cookie_and_header() {
    let src = TokenSource::Cookie {
        name: "session".into(),
    };
    assert_eq!(
        src.extract([("Cookie", "a=1;session=t.o.k; b=2")])
            .as_deref(),
        Ok("t.o.k")
    );
    assert_eq!(
        src.extract([("cookie", "a=1 ;  session = t.o.k ;")])
            .as_deref(),
        Ok("t.o.k")
    );
    assert_eq!(
        src.extract([("cookie", "session=\"t.o.k\"")]).as_deref(),
        Ok("t.o.k")
    );
    assert_eq!(
        src.extract([("cookie", "Session=t.o.k")]),
        Err(JwtError::MissingToken)
    );
    assert_eq!(
        src.extract([("cookie", "xsession=t.o.k; session=")]),
        Err(JwtError::MissingToken)
    );
    assert_eq!(
        src.extract([("cookie", "session=a"), ("cookie", "session=b")]),
        Err(JwtError::MultipleTokens)
    );
    assert_eq!(
        src.extract([("cookie", "session=a; session=a")]).as_deref(),
        Ok("a")
    );
    let src = TokenSource::Header {
        name: "X-Access-Token".into(),
    };
    assert_eq!(
        src.extract([("x-access-token", " t.o.k ")]).as_deref(),
        Ok("t.o.k")
    );
    assert_eq!(
        src.extract([("x-access-token", "a"), ("X-ACCESS-TOKEN", "b")]),
        Err(JwtError::MultipleTokens)
    );
}

#[test]
fn serde_shapes() {
    let src: TokenSource =
        serde_json::from_value(json!({"type": "cookie", "name": "s"})).expect("cookie");
    assert_eq!(src, TokenSource::Cookie { name: "s".into() });
    let src: TokenSource = serde_json::from_value(json!({"type": "bearer"})).expect("bearer");
    assert_eq!(src, TokenSource::Bearer);
    assert!(serde_json::from_value::<TokenSource>(
        json!({"type": "header", "name": "x", "extra": 1})
    )
    .is_err());
    assert!(serde_json::from_value::<TokenSource>(json!({"type": "query", "name": "x"})).is_err());

    let p: Policy = serde_json::from_value(json!({
        "issuers": ["i"], "audiences": ["a"], "leeway_s": 5, "max_iat_future_s": 10, "require_exp": false,
        "required_claims": ["sub"], "scopes": {"claim": "roles", "all_of": ["x"]},
        "forward": {"user_claim": "email", "claims": ["tenant"]}
    }))
    .expect("policy");
    assert_eq!(p.leeway_s, 5);
    assert_eq!(p.scopes.as_ref().map(|s| s.any_of.len()), Some(0));
    let d: Policy = serde_json::from_value(json!({})).expect("defaults");
    assert_eq!(d, Policy::default());
    assert_eq!(d.leeway_s, 60);
    assert_eq!(d.forward.user_claim, "sub");
    assert!(serde_json::from_value::<Policy>(json!({"issuer": "typo"})).is_err());
    assert!(serde_json::from_value::<Policy>(json!({"scopes": {"any": []}})).is_err());
    let o: JwksOptions = serde_json::from_value(json!({"rsa_alg": "PS256"})).expect("opts");
    assert_eq!(o.rsa_alg, Alg::Ps256);
}

// ---- key loading ---------------------------------------------------------

#[test]
fn jwks_loading_rules() {
    let o = JwksOptions::default();
    assert_eq!(
        KeyStore::from_jwks(b"[]", &o).unwrap_err(),
        KeyError::MalformedJwks
    );
    assert_eq!(
        KeyStore::from_jwks(br#"{"keys":[],"keys":[]}"#, &o).unwrap_err(),
        KeyError::MalformedJwks
    );
    let mut ks = KeyStore::new();
    let r = ks
        .add_jwks(
            br#"{"keys":[
                {"kty":"oct","kid":"h","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"},
                {"kty":"RSA","kid":"small","n":"AQAB","e":"AQAB"},
                {"kty":"RSA","kid":"ec-alg","alg":"ES256","n":"AQAB","e":"AQAB"},
                {"kty":"OKP","kid":"x448","crv":"Ed448","x":"AA"},
                {"kty":"EC","kid":"off-curve","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
                {"kty":"OKP","kid":"ops","crv":"Ed25519","key_ops":["sign"],"x":"AA"},
                "nonsense"
            ]}"#,
            &o,
        )
        .expect("document ok");
    assert_eq!(r.loaded, 0);
    let reasons: Vec<KeyError> = r.skipped.into_iter().map(|(_, e)| e).collect();
    assert_eq!(
        reasons,
        vec![
            KeyError::UnsupportedKeyType,
            KeyError::WeakKey,
            KeyError::UnsupportedAlgorithm,
            KeyError::UnsupportedCurve,
            KeyError::InvalidKeyMaterial("x"),
            KeyError::NotForVerification,
            KeyError::MalformedJwk,
        ]
    );
    let allow = JwksOptions {
        allow_oct: true,
        ..JwksOptions::default()
    };
    let ks = KeyStore::from_jwks(
        br#"{"keys":[{"kty":"oct","kid":"h","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}]}"#,
        &allow,
    )
    .expect("oct allowed");
    assert_eq!(ks.iter().next().map(Key::alg), Some(Alg::Hs256));
    // max_keys bound.
    let few = JwksOptions {
        max_keys: 1,
        ..JwksOptions::default()
    };
    let r = KeyStore::new().add_jwks(&jwks(), &few).expect("ok");
    assert_eq!(r.loaded, 1);
    assert!(r.skipped.iter().any(|(_, e)| *e == KeyError::TooManyKeys));
    // Debug never shows secrets.
    let mut ks = KeyStore::new();
    ks.add_secret(Some("k"), Alg::Hs256, SECRET).expect("ok");
    assert!(!format!("{ks:?}").contains("0123456789"));
}

#[test]
fn no_kid_candidates_are_bounded() {
    let mut ks = KeyStore::new();
    for i in 0..10u8 {
        let secret = [i; 32];
        ks.add_secret(None, Alg::Hs256, &secret).expect("ok");
    }
    assert_eq!(
        ks.candidates(None, Alg::Hs256).expect("some").len(),
        MAX_CANDIDATES
    );
    // A token signed by the 10th key is not found without a kid.
    let secret: &'static [u8] = Box::leak(Box::new([9u8; 32]));
    let t = token(&json!({"alg": "HS256"}), &claims(), &Signer::Hs256(secret));
    assert_eq!(
        verify(&t, &ks, &Policy::default(), NOW).unwrap_err(),
        JwtError::InvalidSignature
    );
    let secret: &'static [u8] = Box::leak(Box::new([2u8; 32]));
    let t = token(&json!({"alg": "HS256"}), &claims(), &Signer::Hs256(secret));
    assert!(verify(&t, &ks, &Policy::default(), NOW).is_ok());
}

// ---- never panics ---------------------------------------------------------

mod props {
    use proptest::prelude::*;

    use super::*;

    fn keys() -> &'static KeyStore {
        static KEYS: OnceLock<KeyStore> = OnceLock::new();
        KEYS.get_or_init(store)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_strings(s in ".{0,300}") {
            let _ = verify(&s, keys(), &policy(), NOW);
        }

        #[test]
        fn arbitrary_three_part_tokens(
            h in "[A-Za-z0-9_=+/ -]{0,80}",
            p in "[A-Za-z0-9_-]{0,80}",
            s in "[A-Za-z0-9_-]{0,90}",
        ) {
            let t = format!("{h}.{p}.{s}");
            prop_assert!(verify(&t, keys(), &policy(), NOW).is_err());
        }

        #[test]
        fn arbitrary_json_in_valid_encoding(
            header in prop::sample::select(vec![
                r#"{"alg":"HS256","kid":"hmac1"}"#, r#"{"alg":"ES256"}"#, r#"{"alg":"RS256","kid":"rsa1"}"#,
                r#"{"alg":"EdDSA","kid":"ed1"}"#, r#"{"alg":"PS256"}"#, r#"{"alg":"none"}"#, "{}", "null",
            ]),
            claims in "\\PC{0,120}",
            sig in prop::collection::vec(any::<u8>(), 0..300),
        ) {
            let t = format!("{}.{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()), b64(&sig));
            prop_assert!(verify(&t, keys(), &policy(), NOW).is_err());
        }

        #[test]
        fn arbitrary_signed_claims(claims in "\\PC{0,200}") {
            // Correctly signed, arbitrary payload: must not panic (may succeed).
            let t = token_raw(br#"{"alg":"HS256","kid":"hmac1"}"#, claims.as_bytes(), &Signer::Hs256(SECRET));
            let _ = verify(&t, keys(), &Policy::default(), NOW);
        }

        #[test]
        fn arbitrary_jwks(doc in "\\PC{0,300}") {
            let _ = KeyStore::from_jwks(doc.as_bytes(), &JwksOptions::default());
        }
    }
}
