//! Time per `edge::auth::verify` (signature + claims) for each key type.
//! Run: `cargo bench -p edge --bench jwt -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use base64ct::{Base64UrlUnpadded, Encoding};
use criterion::{criterion_group, criterion_main, Criterion};
use edge::auth::{verify, Alg, JwksOptions, KeyStore, Policy};
use jwt_compact::{
    alg::{Ed25519, Es256, Hs256, Hs256Key, Rsa, RsaPrivateKey},
    Algorithm, AlgorithmSignature,
};
use rand_core::OsRng;
use rsa::traits::PublicKeyParts;
use serde_json::json;

const NOW: u64 = 1_700_000_000;
const SECRET: &[u8] = b"bench-secret-bench-secret-bench-secret!!";

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn token(alg: &str, kid: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let header = json!({"alg": alg, "kid": kid, "typ": "JWT"}).to_string();
    let claims = json!({"sub": "user-1", "iss": "https://idp.example", "aud": "api",
        "exp": NOW + 600, "iat": NOW, "scope": "read write"})
    .to_string();
    let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let sig = sign(input.as_bytes());
    format!("{input}.{}", b64(&sig))
}

fn bench(c: &mut Criterion) {
    let rsa = RsaPrivateKey::new(&mut OsRng, 2048).expect("rsa keygen");
    let p256 = <Es256 as Algorithm>::SigningKey::random(&mut OsRng);
    let ed = <Ed25519 as Algorithm>::SigningKey::from_bytes(&[7; 32]);

    let rsa_pub = rsa.to_public_key();
    let point = p256.verifying_key().to_encoded_point(false);
    let jwks = json!({"keys": [
        {"kty": "RSA", "kid": "rsa", "n": b64(&rsa_pub.n().to_bytes_be()), "e": b64(&rsa_pub.e().to_bytes_be())},
        {"kty": "EC", "kid": "ec", "crv": "P-256", "x": b64(point.x().expect("x")), "y": b64(point.y().expect("y"))},
        {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64(&ed.verifying_key().to_bytes())},
    ]});
    let mut keys =
        KeyStore::from_jwks(jwks.to_string().as_bytes(), &JwksOptions::default()).expect("jwks");
    keys.add_secret(Some("hs"), Alg::Hs256, SECRET)
        .expect("secret");
    let policy = Policy {
        issuers: vec!["https://idp.example".into()],
        audiences: vec!["api".into()],
        ..Policy::default()
    };

    let cases = [
        (
            "HS256",
            token("HS256", "hs", |m| {
                Hs256
                    .sign(&Hs256Key::new(SECRET), m)
                    .as_bytes()
                    .into_owned()
            }),
        ),
        (
            "RS256-2048",
            token("RS256", "rsa", |m| {
                Rsa::rs256().sign(&rsa, m).as_bytes().into_owned()
            }),
        ),
        (
            "ES256",
            token("ES256", "ec", |m| {
                Es256.sign(&p256, m).as_bytes().into_owned()
            }),
        ),
        (
            "EdDSA",
            token("EdDSA", "ed", |m| {
                Ed25519.sign(&ed, m).as_bytes().into_owned()
            }),
        ),
    ];
    let mut group = c.benchmark_group("jwt_verify");
    for (name, t) in &cases {
        assert!(verify(t, &keys, &policy, NOW).is_ok(), "{name}");
        group.bench_function(*name, |b| {
            b.iter(|| verify(black_box(t), &keys, &policy, NOW))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
