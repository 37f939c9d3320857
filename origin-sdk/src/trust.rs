//! The edge's trust headers: facts the edge asserts about a request.
//!
//! The edge removes every header for which [`is_trust_header`] is true from the
//! client's request before it sets its own, so an origin may rely on them only
//! when they are covered by a valid edge signature.

/// Prefix shared by all trust headers; anything under it is reserved for the edge.
pub const PREFIX: &str = "x-edge-";

/// Client IP address as seen by the edge (IPv4 or IPv6 text form).
pub const CLIENT_IP: &str = "x-edge-client-ip";
/// ISO 3166-1 alpha-2 country code.
pub const COUNTRY: &str = "x-edge-country";
/// Autonomous system number, decimal (an `AS` prefix is tolerated when read).
pub const ASN: &str = "x-edge-asn";
/// Edge data-centre (colo) code, e.g. `AMS`.
pub const COLO: &str = "x-edge-colo";
/// Edge-assigned request id.
pub const REQUEST_ID: &str = "x-edge-request-id";
/// Authenticated user (subject), if the edge authenticated one.
pub const USER: &str = "x-edge-user";
/// Authenticated claims: base64url (unpadded) JSON object, or raw JSON.
pub const CLAIMS: &str = "x-edge-claims";
/// Bot score 1 (bot) ..= 99 (human).
pub const BOT_SCORE: &str = "x-edge-bot-score";
/// Bot class, e.g. `human`, `verified-bot`, `likely-bot`.
pub const BOT_CLASS: &str = "x-edge-bot-class";

/// Every trust header the edge emits (always all of them, empty where unknown).
pub const ALL: [&str; 9] = [CLIENT_IP, COUNTRY, ASN, COLO, REQUEST_ID, USER, CLAIMS, BOT_SCORE, BOT_CLASS];

/// True for names the edge owns: the `x-edge-` prefix plus `signature` and
/// `signature-input` (ASCII case-insensitive).
pub fn is_trust_header(name: &str) -> bool {
    let b = name.as_bytes();
    (b.len() >= PREFIX.len() && b[..PREFIX.len()].eq_ignore_ascii_case(PREFIX.as_bytes()))
        || name.eq_ignore_ascii_case("signature")
        || name.eq_ignore_ascii_case("signature-input")
}

/// True for a name that is not a trust header but reads as one once `_` is
/// taken for `-` (`X_Edge_User`, `signature_input`): CGI-style servers (WSGI,
/// PHP, uWSGI, mod_wsgi) map both spellings to one variable (`HTTP_X_EDGE_USER`),
/// and which of the two wins depends on the server.
pub fn is_trust_twin(name: &str) -> bool {
    name.contains('_') && is_trust_header(&dash_form(name))
}

/// The name with `_` read as `-`, lowercase: what a CGI-style server sees.
pub fn dash_form(name: &str) -> String {
    name.bytes().map(|b| if b == b'_' { '-' } else { char::from(b.to_ascii_lowercase()) }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_names() {
        for n in ALL {
            assert!(is_trust_header(n));
            assert!(n.starts_with(PREFIX));
        }
        assert!(is_trust_header("X-Edge-Anything"));
        assert!(is_trust_header("Signature-Input"));
        assert!(is_trust_header("SIGNATURE"));
        assert!(!is_trust_header("x-edg"));
        assert!(!is_trust_header("signature-agent"));
        assert!(!is_trust_header("host"));
    }

    #[test]
    fn underscore_twins() {
        for n in ["x_edge_user", "X_EDGE_COUNTRY", "x_Edge-Claims", "x-edge_bot-score", "Signature_Input", "x_edge_"] {
            assert!(is_trust_twin(n), "{n}");
        }
        // The real names are trust headers, not twins; other names are neither.
        for n in ["x-edge-user", "signature", "signature-input", "x_edg", "signature_agent", "x_custom", "signature__input"] {
            assert!(!is_trust_twin(n), "{n}");
        }
        assert_eq!(dash_form("X_Edge_User"), "x-edge-user");
    }
}
