//! Command line: `edge-verify proxy --upstream URL` or `edge-verify
//! auth-request`, with `--keys` (else `$EDGE_VERIFY_KEYS`), `--listen`,
//! `--max-skew`, `--max-validity`, `--replay-capacity`, `--debug`.

use origin_sdk::layer::DEFAULT_REPLAY_CAPACITY;
use origin_sdk::{KeySet, Verifier};

/// Which job the sidecar does.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Verify and forward to `upstream`.
    Proxy {
        /// The app's base URL.
        upstream: http::Uri,
    },
    /// Answer nginx `auth_request` subrequests.
    AuthRequest,
}

/// Parsed command line.
#[derive(Debug)]
pub struct Config {
    pub mode: Mode,
    pub listen: String,
    pub verifier: Verifier,
    pub replay_capacity: usize,
    pub debug: bool,
}

pub const USAGE: &str = "usage: edge-verify (proxy --upstream http://127.0.0.1:3000 | auth-request) \
[--listen 127.0.0.1:9000] [--keys kid:BASE64,...] [--max-skew SECS] [--max-validity SECS] \
[--replay-capacity N (0 = off)] [--debug]";

fn number<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
    v.as_deref().and_then(|s| s.parse().ok()).ok_or_else(|| format!("{flag} needs a number"))
}

impl Config {
    /// From arguments (without the program name) and the environment's
    /// `EDGE_VERIFY_KEYS` (used when `--keys` is absent).
    pub fn parse(args: impl IntoIterator<Item = String>, env_keys: Option<String>) -> Result<Config, String> {
        let mut args = args.into_iter();
        let mode_name = args.next().ok_or(USAGE)?;
        let (mut upstream, mut listen, mut keys) = (None, "127.0.0.1:9000".to_string(), env_keys);
        let (mut skew, mut validity, mut replay, mut debug) = (None, None, DEFAULT_REPLAY_CAPACITY, false);
        while let Some(flag) = args.next() {
            match flag.as_str() {
                "--upstream" => upstream = Some(args.next().ok_or("--upstream needs a URL")?),
                "--listen" => listen = args.next().ok_or("--listen needs HOST:PORT")?,
                "--keys" => keys = Some(args.next().ok_or("--keys needs a key list")?),
                "--max-skew" => skew = Some(number("--max-skew", args.next())?),
                "--max-validity" => validity = Some(number("--max-validity", args.next())?),
                "--replay-capacity" => replay = number("--replay-capacity", args.next())?,
                "--debug" => debug = true,
                other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
            }
        }
        let mode = match mode_name.as_str() {
            "proxy" => {
                let u: http::Uri = upstream.ok_or("proxy mode needs --upstream URL")?.parse().map_err(|e| format!("--upstream: {e}"))?;
                if u.scheme_str() != Some("http") || u.authority().is_none() {
                    return Err("--upstream must be an http:// URL with a host (the app on loopback)".into());
                }
                Mode::Proxy { upstream: u }
            }
            "auth-request" => Mode::AuthRequest,
            other => return Err(format!("unknown mode `{other}`\n{USAGE}")),
        };
        let keys = KeySet::from_spec(&keys.ok_or("no keys: pass --keys or set EDGE_VERIFY_KEYS")?).map_err(|e| format!("keys: {e}"))?;
        if keys.is_empty() {
            return Err("keys: the list is empty (every request would be refused)".into());
        }
        let mut verifier = Verifier::new(keys);
        if let Some(s) = skew {
            verifier = verifier.max_skew(s);
        }
        if let Some(v) = validity {
            verifier = verifier.max_validity(v);
        }
        Ok(Config { mode, listen, verifier, replay_capacity: replay, debug })
    }
}
