//! Where the edge finds the token in a request.

use serde::{Deserialize, Serialize};

use super::error::JwtError;

/// Token location, from the rules JSON:
/// `{"type": "bearer"}` (default), `{"type": "cookie", "name": "session"}`,
/// `{"type": "header", "name": "x-access-token"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenSource {
    /// `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1).
    #[default]
    Bearer,
    /// A cookie of this (case-sensitive) name.
    Cookie { name: String },
    /// The whole value of this (case-insensitive) header.
    Header { name: String },
}

impl TokenSource {
    /// Finds the token among `(name, value)` header pairs.
    ///
    /// Ambiguity is an error, not a first-wins choice: two different tokens
    /// (duplicate headers, cookie tossing from a sibling subdomain) give
    /// [`JwtError::MultipleTokens`]. Absence gives [`JwtError::MissingToken`].
    pub fn extract<I, N, V>(&self, headers: I) -> Result<String, JwtError>
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: AsRef<str>,
    {
        let mut found: Option<String> = None;
        for (name, value) in headers {
            let (name, value) = (name.as_ref(), value.as_ref());
            match self {
                Self::Bearer if name.eq_ignore_ascii_case("authorization") => {
                    if let Some(token) = bearer_token(value)? {
                        // Two Authorization headers are ambiguous even if equal.
                        if found.is_some() {
                            return Err(JwtError::MultipleTokens);
                        }
                        offer(&mut found, token)?;
                    }
                }
                Self::Cookie { name: cookie } if name.eq_ignore_ascii_case("cookie") => {
                    for pair in value.split(';') {
                        let Some((k, v)) = pair.split_once('=') else {
                            continue;
                        };
                        if k.trim() != cookie {
                            continue;
                        }
                        let v = v.trim();
                        let v = v
                            .strip_prefix('"')
                            .and_then(|v| v.strip_suffix('"'))
                            .unwrap_or(v);
                        if !v.is_empty() {
                            offer(&mut found, v)?;
                        }
                    }
                }
                Self::Header { name: header } if name.eq_ignore_ascii_case(header) => {
                    let v = value.trim();
                    if !v.is_empty() {
                        offer(&mut found, v)?;
                    }
                }
                _ => {}
            }
        }
        found.ok_or(JwtError::MissingToken)
    }
}

/// `Some(token)` for a Bearer credential, `None` for another scheme (e.g.
/// Basic, which is simply "no bearer token").
fn bearer_token(value: &str) -> Result<Option<&str>, JwtError> {
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    let (scheme, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = rest.trim_matches(|c| c == ' ' || c == '\t');
    // b64token (RFC 6750 §2.1); a comma means folded duplicate headers.
    let b64token = |b: u8| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b);
    if token.is_empty() || !token.bytes().all(b64token) {
        return Err(JwtError::MalformedAuthorization);
    }
    Ok(Some(token))
}

fn offer(found: &mut Option<String>, token: &str) -> Result<(), JwtError> {
    match found {
        Some(existing) if existing != token => Err(JwtError::MultipleTokens),
        Some(_) => Ok(()),
        None => {
            *found = Some(token.to_owned());
            Ok(())
        }
    }
}
