//! The `challenge` action's cryptography: a proof-of-work puzzle and the signed
//! clearance cookie that spares a client who solved it further puzzles.
//!
//! Both are HMAC-SHA256 under one key from a Worker secret and bound to the
//! client's IP and User-Agent, so a token or cookie copied to another client is
//! worthless. Everything here is pure: times are passed in, randomness comes
//! from the request id.
//!
//! ```text
//! token     = issued "." bits "." ttl "." seed "." b64url(HMAC(k, "token", issued, bits, ttl, seed, ip, ua))
//! solution  = n such that SHA-256(token ":" n) starts with `bits` zero bits
//! clearance = expires "." b64url(HMAC(k, "clearance", expires, ip, ua))
//! ```

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Worker secret holding the key (any string of at least [`MIN_KEY_BYTES`]).
pub const SECRET_NAME: &str = "EDGE_CHALLENGE_KEY";
/// Cookie carrying the clearance.
pub const COOKIE: &str = "edge_clearance";
/// Where the challenge page sends its answer; answered by the edge itself.
pub const VERIFY_PATH: &str = "/__edge/challenge";
/// Shortest accepted key: a guessable key would let anyone mint clearances.
pub const MIN_KEY_BYTES: usize = 16;
/// How long a client has to solve a puzzle.
pub const TOKEN_VALIDITY_SECONDS: u64 = 300;
/// Hardest puzzle accepted in rules (2^24 hashes is seconds of a phone's CPU).
pub const MAX_DIFFICULTY: u8 = 24;

type HmacSha256 = Hmac<Sha256>;

/// Who a token or clearance is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client<'a> {
    pub ip: &'a str,
    pub user_agent: &'a str,
}

/// A verified puzzle token's contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Puzzle {
    pub issued: u64,
    pub difficulty: u8,
    /// Lifetime of the clearance granted on success.
    pub ttl_seconds: u64,
}

/// Why a token, answer or cookie was refused (for logs; never shown verbatim to
/// a client beyond these words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Malformed,
    BadSignature,
    Expired,
    WrongAnswer,
}

impl Refused {
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::Malformed => "malformed",
            Refused::BadSignature => "bad signature",
            Refused::Expired => "expired",
            Refused::WrongAnswer => "wrong answer",
        }
    }
}

/// HMAC over length-prefixed parts: no two part lists share an input.
/// `None` only if the hmac crate refused a key, which HMAC never does.
fn mac(key: &[u8], parts: &[&str]) -> Option<HmacSha256> {
    let mut m = HmacSha256::new_from_slice(key).ok()?;
    for p in parts {
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p.as_bytes());
    }
    Some(m)
}

fn sign(key: &[u8], parts: &[&str]) -> String {
    mac(key, parts).map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())).unwrap_or_default()
}

/// Constant-time comparison of a presented signature with the expected one.
fn verify(key: &[u8], parts: &[&str], presented_b64: &str) -> bool {
    match (URL_SAFE_NO_PAD.decode(presented_b64), mac(key, parts)) {
        (Ok(sig), Some(m)) => m.verify_slice(&sig).is_ok(),
        _ => false,
    }
}

/// A new puzzle token. `seed` should be unpredictable (the request id).
pub fn issue(key: &[u8], client: Client<'_>, now_s: u64, difficulty: u8, ttl_seconds: u64, seed: &str) -> String {
    let seed: String = seed.chars().filter(char::is_ascii_alphanumeric).take(64).collect();
    let (issued, bits, ttl) = (now_s.to_string(), difficulty.to_string(), ttl_seconds.to_string());
    let sig = sign(key, &["token", &issued, &bits, &ttl, &seed, client.ip, client.user_agent]);
    format!("{issued}.{bits}.{ttl}.{seed}.{sig}")
}

/// Checks a token's signature, binding and age.
pub fn check_token(key: &[u8], client: Client<'_>, token: &str, now_s: u64) -> Result<Puzzle, Refused> {
    let parts: Vec<&str> = token.split('.').collect();
    let [issued, bits, ttl, seed, sig] = parts[..] else {
        return Err(Refused::Malformed);
    };
    let (Ok(issued_n), Ok(bits_n), Ok(ttl_n)) = (issued.parse::<u64>(), bits.parse::<u8>(), ttl.parse::<u64>()) else {
        return Err(Refused::Malformed);
    };
    if !verify(key, &["token", issued, bits, ttl, seed, client.ip, client.user_agent], sig) {
        return Err(Refused::BadSignature);
    }
    if issued_n > now_s.saturating_add(5) || now_s.saturating_sub(issued_n) > TOKEN_VALIDITY_SECONDS {
        return Err(Refused::Expired);
    }
    Ok(Puzzle { issued: issued_n, difficulty: bits_n, ttl_seconds: ttl_n })
}

/// Leading zero bits of a hash.
pub fn leading_zero_bits(hash: &[u8]) -> u32 {
    let mut n = 0;
    for b in hash {
        if *b == 0 {
            n += 8;
        } else {
            return n + b.leading_zeros();
        }
    }
    n
}

/// Whether `answer` (decimal, as the page sends it) solves `token` at `difficulty`.
pub fn solves(token: &str, answer: &str, difficulty: u8) -> bool {
    if answer.is_empty() || answer.len() > 20 || !answer.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let hash = Sha256::new().chain_update(token.as_bytes()).chain_update(b":").chain_update(answer.as_bytes()).finalize();
    leading_zero_bits(&hash) >= u32::from(difficulty)
}

/// Checks a submitted answer: a valid token for this client, solved.
pub fn verify_answer(key: &[u8], client: Client<'_>, token: &str, answer: &str, now_s: u64) -> Result<Puzzle, Refused> {
    let puzzle = check_token(key, client, token, now_s)?;
    if solves(token, answer, puzzle.difficulty) {
        Ok(puzzle)
    } else {
        Err(Refused::WrongAnswer)
    }
}

/// Brute-force solver (tests; the page does the same in JavaScript).
pub fn solve(token: &str, difficulty: u8) -> u64 {
    (0u64..).find(|n| solves(token, &n.to_string(), difficulty)).unwrap_or(0)
}

/// A clearance cookie value valid until `expires_s`.
pub fn clearance(key: &[u8], client: Client<'_>, expires_s: u64) -> String {
    let expires = expires_s.to_string();
    let sig = sign(key, &["clearance", &expires, client.ip, client.user_agent]);
    format!("{expires}.{sig}")
}

/// Whether a presented clearance is ours, for this client, and unexpired.
pub fn check_clearance(key: &[u8], client: Client<'_>, value: &str, now_s: u64) -> Result<(), Refused> {
    let Some((expires, sig)) = value.split_once('.') else {
        return Err(Refused::Malformed);
    };
    let Ok(expires_n) = expires.parse::<u64>() else {
        return Err(Refused::Malformed);
    };
    if !verify(key, &["clearance", expires, client.ip, client.user_agent], sig) {
        return Err(Refused::BadSignature);
    }
    if now_s >= expires_n {
        return Err(Refused::Expired);
    }
    Ok(())
}

/// A cookie's value from a `Cookie` header (first occurrence).
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|c| {
        let (n, v) = c.trim().split_once('=')?;
        (n == name).then_some(v.trim())
    })
}

/// A path to return to after the challenge: same-site paths only, so the
/// verify endpoint cannot be used as an open redirect.
pub fn safe_return_path(raw: &str) -> String {
    let decoded = percent_decode(raw);
    let ok = decoded.starts_with('/')
        && !decoded.starts_with("//")
        && !decoded.starts_with("/\\")
        && decoded.len() <= 2048
        && decoded.bytes().all(|b| (0x21..0x7f).contains(&b));
    if ok { decoded } else { "/".to_string() }
}

/// Minimal percent-decoding for query values (invalid escapes stay as they are).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', ..) => {
                out.push(b' ');
                i += 1;
            }
            (c, ..) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The interstitial: a small page whose script finds the answer (synchronous
/// SHA-256 in plain JavaScript, so it also works where `crypto.subtle` is
/// unavailable) and goes to [`VERIFY_PATH`], which sets the cookie and
/// redirects back to `return_to`.
pub fn page(token: &str, difficulty: u8, return_to: &str) -> String {
    // Token and path are ASCII without quotes or '<' (signature alphabet,
    // percent-encoded path), so they embed safely in the script.
    let ret = percent_encode(return_to);
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Checking your browser</title></head>
<body style="font-family:sans-serif;text-align:center;margin-top:20vh"><p id="s">Checking your browser…</p>
<noscript>Please enable JavaScript to continue.</noscript>
<script>
var T="{token}",D={difficulty},R="{ret}",P="{VERIFY_PATH}";
{SHA256_JS}
function z(h){{var n=0;for(var i=0;i<h.length;i++){{if(h[i]===0){{n+=8;continue}}var b=h[i];while(!(b&128)){{n++;b<<=1}}return n}}return n}}
var n=0;(function run(){{var t=Date.now();for(;Date.now()-t<50;n++){{if(z(sha256(T+":"+n))>=D){{location.replace(P+"?token="+encodeURIComponent(T)+"&answer="+n+"&return="+R);return}}}}setTimeout(run,0)}})();
</script></body></html>"#
    )
}

/// Compact synchronous SHA-256 of an ASCII string, returning bytes.
const SHA256_JS: &str = r#"function sha256(s){var K=[0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2];
var H=[0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19],l=s.length,m=[],i,j;
for(i=0;i<l;i++)m[i>>2]|=(s.charCodeAt(i)&255)<<(24-(i&3)*8);m[l>>2]|=128<<(24-(l&3)*8);var nw=((l+8)>>6)*16+16;for(i=(l>>2)+1;i<nw;i++)m[i]=m[i]|0;m[nw-1]=l*8;
var w=[],a,b,c,d,e,f,g,h,t1,t2,r=function(x,n){return(x>>>n)|(x<<(32-n))};
for(i=0;i<nw;i+=16){a=H[0];b=H[1];c=H[2];d=H[3];e=H[4];f=H[5];g=H[6];h=H[7];
for(j=0;j<64;j++){if(j<16)w[j]=m[i+j]|0;else w[j]=(r(w[j-2],17)^r(w[j-2],19)^(w[j-2]>>>10))+w[j-7]+(r(w[j-15],7)^r(w[j-15],18)^(w[j-15]>>>3))+w[j-16]|0;
t1=h+(r(e,6)^r(e,11)^r(e,25))+((e&f)^(~e&g))+K[j]+w[j]|0;t2=(r(a,2)^r(a,13)^r(a,22))+((a&b)^(a&c)^(b&c))|0;h=g;g=f;f=e;e=d+t1|0;d=c;c=b;b=a;a=t1+t2|0}
H[0]=H[0]+a|0;H[1]=H[1]+b|0;H[2]=H[2]+c|0;H[3]=H[3]+d|0;H[4]=H[4]+e|0;H[5]=H[5]+f|0;H[6]=H[6]+g|0;H[7]=H[7]+h|0}
var o=[];for(i=0;i<32;i++)o[i]=(H[i>>2]>>>(24-(i&3)*8))&255;return o}"#;

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"test-challenge-key-0123456789";
    const ME: Client<'static> = Client { ip: "198.51.100.7", user_agent: "Mozilla/5.0 (X11; Linux x86_64)" };

    #[test]
    fn round_trip() {
        let token = issue(KEY, ME, 1_000, 8, 600, "6f1c-44aa");
        let puzzle = check_token(KEY, ME, &token, 1_010).unwrap();
        assert_eq!(puzzle, Puzzle { issued: 1_000, difficulty: 8, ttl_seconds: 600 });
        let n = solve(&token, 8);
        assert_eq!(verify_answer(KEY, ME, &token, &n.to_string(), 1_010), Ok(puzzle));
        let cookie = clearance(KEY, ME, 1_610);
        assert_eq!(check_clearance(KEY, ME, &cookie, 1_609), Ok(()));
        assert_eq!(check_clearance(KEY, ME, &cookie, 1_610), Err(Refused::Expired));
    }

    #[test]
    fn wrong_answers_and_stale_tokens() {
        let token = issue(KEY, ME, 1_000, 12, 600, "seed");
        let n = solve(&token, 12);
        let wrong = (0..).find(|m| !solves(&token, &m.to_string(), 12)).unwrap();
        assert_eq!(verify_answer(KEY, ME, &token, &wrong.to_string(), 1_001), Err(Refused::WrongAnswer));
        for bad in ["", "-1", "1e3", "123456789012345678901", " 1"] {
            assert!(!solves(&token, bad, 0), "{bad:?}");
        }
        assert_eq!(check_token(KEY, ME, &token, 1_000 + TOKEN_VALIDITY_SECONDS + 1), Err(Refused::Expired));
        assert_eq!(check_token(KEY, ME, &token, 900), Err(Refused::Expired), "issued in the future");
        assert!(verify_answer(KEY, ME, &token, &n.to_string(), 1_001).is_ok());
    }

    #[test]
    fn forgeries_and_other_clients_refused() {
        let token = issue(KEY, ME, 1_000, 4, 600, "seed");
        // Lowering the difficulty or lengthening the ttl breaks the signature.
        let easier = token.replacen(".4.", ".0.", 1);
        assert_eq!(check_token(KEY, ME, &easier, 1_001), Err(Refused::BadSignature));
        let other = Client { ip: "203.0.113.9", ..ME };
        assert_eq!(check_token(KEY, other, &token, 1_001), Err(Refused::BadSignature));
        let other_ua = Client { user_agent: "curl/8", ..ME };
        assert_eq!(check_token(KEY, other_ua, &token, 1_001), Err(Refused::BadSignature));
        assert_eq!(check_token(b"another-key-0123456789", ME, &token, 1_001), Err(Refused::BadSignature));
        for junk in ["", ".", "a.b.c.d.e", "1.2.3.4.5.6", "1.2.3.seed.!!!"] {
            assert!(check_token(KEY, ME, junk, 1_001).is_err(), "{junk:?}");
        }

        let cookie = clearance(KEY, ME, 5_000);
        assert_eq!(check_clearance(KEY, other, &cookie, 1_000), Err(Refused::BadSignature));
        let extended = cookie.replacen("5000", "9000", 1);
        assert_eq!(check_clearance(KEY, ME, &extended, 1_000), Err(Refused::BadSignature));
        for junk in ["", "5000", "x.y", "5000.", "5000.AAAA"] {
            assert!(check_clearance(KEY, ME, junk, 1_000).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn zero_bits() {
        assert_eq!(leading_zero_bits(&[0, 0, 0x10, 0xff]), 19);
        assert_eq!(leading_zero_bits(&[0x80]), 0);
        assert_eq!(leading_zero_bits(&[0, 0]), 16);
    }

    #[test]
    fn cookies_and_return_paths() {
        assert_eq!(cookie("a=1; edge_clearance=xyz.abc; b=2", COOKIE), Some("xyz.abc"));
        assert_eq!(cookie("a=1", COOKIE), None);
        assert_eq!(safe_return_path("%2Fapp%3Fx%3D1"), "/app?x=1");
        for evil in ["https://evil.example/", "//evil.example", "/\\evil.example", "%2F%2Fevil", "", "/a%0d%0aSet-Cookie:x"] {
            assert_eq!(safe_return_path(evil), "/", "{evil:?}");
        }
    }

    #[test]
    fn page_embeds_token_and_escapes_path() {
        let p = page("1.8.600.seed.sig", 8, "/a b\"<x>");
        assert!(p.contains(r#"T="1.8.600.seed.sig",D=8"#));
        assert!(p.contains("/a%20b%22%3Cx%3E") && !p.contains("\"<x>"));
    }
}
