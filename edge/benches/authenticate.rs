//! Time per `authenticate` phase decision (rule match, token extraction, key
//! sources, verification, facts) over the in-memory `Keys` path: the cost the
//! phase adds on top of `edge::auth::verify` (see `benches/jwt.rs`).
//! Run: `cargo bench -p edge --bench authenticate -- --warm-up-time 1 --measurement-time 3`.

use std::cell::RefCell;
use std::hint::black_box;
use std::sync::Arc;

use base64ct::{Base64UrlUnpadded, Encoding};
use criterion::{criterion_group, criterion_main, Criterion};
use edge::auth::{cached_jwks, JwksCache, JwksSource, KeyStore};
use edge::phases::authenticate::{self, Keys};
use edge::pipeline::Ctx;
use edge::request::RequestInfo;
use edge::testing::block_on;
use jwt_compact::alg::{Ed25519, Hs256, Hs256Key};
use jwt_compact::{Algorithm, AlgorithmSignature};
use serde_json::json;

const NOW: u64 = 1_700_000_000;
const SECRET: &str = "bench-secret-bench-secret-bench-secret!!";

type EdKey = <Ed25519 as Algorithm>::SigningKey;

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn token(alg: &str, kid: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let header = json!({"alg": alg, "kid": kid}).to_string();
    let claims = json!({"sub": "user-1", "iss": "https://idp.example", "aud": "api",
        "exp": NOW + 600, "iat": NOW, "scope": "read write", "tenant": "t"})
    .to_string();
    let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    format!("{input}.{}", b64(&sign(input.as_bytes())))
}

struct BenchKeys {
    jwks: Vec<u8>,
    cache: RefCell<JwksCache>,
}

impl Keys for BenchKeys {
    async fn jwks(&self, source: &JwksSource, now_ms: u64, refresh: bool) -> Result<Arc<KeyStore>, String> {
        cached_jwks(&self.cache, source, now_ms, refresh, |_| async { Ok(self.jwks.clone()) }).await
    }

    fn secret(&self, _name: &str) -> Option<Vec<u8>> {
        Some(SECRET.as_bytes().to_vec())
    }
}

fn bench(c: &mut Criterion) {
    let ed = EdKey::from_bytes(&[7; 32]);
    let io = BenchKeys {
        jwks: json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "ed1", "x": b64(&ed.verifying_key().to_bytes())}]})
            .to_string()
            .into_bytes(),
        cache: RefCell::new(JwksCache::new()),
    };
    let policy = json!({"issuers": ["https://idp.example"], "audiences": ["api"],
        "scopes": {"any_of": ["read"]}, "forward": {"claims": ["tenant"]}});
    let doc = json!({"version": 1, "phases": {"authenticate": [
        {"id": "hs", "when": {"paths": ["/hs/*"]}, "action": "jwt", "params": {
            "keys": {"secrets": [{"secret": "JWT_SECRET", "alg": "HS256", "kid": "hs1"}]}, "policy": policy}},
        {"id": "jwks", "when": {"paths": ["/jwks/*"]}, "action": "jwt", "params": {
            "keys": {"jwks_url": "https://idp.example/jwks.json"}, "policy": policy}}]}});
    let rules = edge::rules::parse(doc.to_string().as_bytes()).expect("rules");
    let hs = token("HS256", "hs1", |m| Hs256.sign(&Hs256Key::new(SECRET.as_bytes()), m).as_bytes().into_owned());
    let eddsa = token("EdDSA", "ed1", |m| Ed25519.sign(&ed, m).as_bytes().into_owned());

    for (name, path, token) in [("hs256_worker_secret", "/hs/x", &hs), ("eddsa_cached_jwks", "/jwks/x", &eddsa)] {
        let mut req = RequestInfo::from_url("GET", &format!("https://api.example{path}")).expect("url");
        req.headers = vec![("authorization".into(), format!("Bearer {token}"))];
        c.bench_function(&format!("authenticate_phase/{name}"), |b| {
            b.iter(|| {
                let mut ctx = Ctx::new("r", NOW * 1000);
                let v = block_on(authenticate::run(&rules, black_box(&req), &mut ctx, &io));
                assert!(ctx.facts.user.is_some());
                v
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
