//! Underscore twins of trust and covered headers (`X_Edge_User`,
//! `signature_input`) refuse a request: a CGI-style server would map them onto
//! the real header's variable.

mod common;

use common::{key, request, signed, verifier, NOW};
use origin_sdk::{trust, Component, Signer, VerifyError};
use proptest::prelude::*;

fn with_header(mut r: http::Request<()>, name: &str, value: &str) -> http::Request<()> {
    let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
    r.headers_mut().append(name, value.parse().unwrap());
    r
}

#[test]
fn twins_of_trust_headers_are_refused() {
    for name in ["x_edge_user", "X_Edge_User", "X_EDGE_COUNTRY", "x-edge_claims", "signature_input", "Signature_Input", "x_edge_whatever"] {
        let r = with_header(signed(), name, "admin");
        let e = verifier().verify(&r, NOW).unwrap_err();
        assert_eq!(e, VerifyError::AmbiguousHeader(name.to_ascii_lowercase()), "{name}");
        assert_eq!(e.reason(), "ambiguous_header");
        assert!(e.to_string().contains("ambiguous header"), "{e}");
    }
}

#[test]
fn twin_next_to_the_real_header_is_refused_and_stripped() {
    // Duplicated with the real name: the signed `x-edge-user` stays, the twin joins it.
    let mut r = with_header(signed(), "x_edge_user", "admin");
    let e = verifier().verify_and_strip(&mut r, NOW).unwrap_err();
    assert_eq!(e, VerifyError::AmbiguousHeader("x_edge_user".into()));
    // A handler that ignores the error reads neither spelling.
    let left: Vec<&str> = r.headers().keys().map(|k| k.as_str()).collect();
    assert!(left.iter().all(|k| !trust::is_trust_header(k) && !trust::is_trust_twin(k)), "{left:?}");
    assert!(left.contains(&"content-type"));
}

#[test]
fn twin_is_refused_before_the_signature_is_looked_at() {
    let r = with_header(request(), "x_edge_user", "admin");
    assert_eq!(verifier().verify(&r, NOW).unwrap_err().reason(), "ambiguous_header");
}

#[test]
fn twin_of_a_covered_non_trust_header_is_refused() {
    let signer = Signer::new(key());
    let mut r = request();
    let params = signer.params(NOW, "n").unwrap();
    let params = origin_sdk::SignatureParams {
        components: params.components.into_iter().chain([Component::new("content-type")]).collect(),
        ..params
    };
    let h = signer.sign_params(&r, &params).unwrap();
    r.headers_mut().insert("signature-input", h.signature_input.parse().unwrap());
    r.headers_mut().insert("signature", h.signature.parse().unwrap());
    assert!(verifier().verify(&r, NOW).is_ok());
    let r = with_header(r, "Content_Type", "text/html");
    assert_eq!(verifier().verify(&r, NOW).unwrap_err(), VerifyError::AmbiguousHeader("content_type".into()));
}

#[test]
fn other_underscore_headers_pass() {
    // Not a twin of anything the signature or the edge vouches for.
    for name in ["x_request_start", "signature_agent", "x_edg", "accept_language"] {
        let r = with_header(signed(), name, "1");
        assert!(verifier().verify(&r, NOW).is_ok(), "{name}");
    }
}

/// A spelling of `name`: each `-` kept or made `_`, each letter in either case.
fn spelling(name: &'static str) -> impl Strategy<Value = String> {
    proptest::collection::vec((any::<bool>(), any::<bool>()), name.len()).prop_map(move |flips| {
        name.chars()
            .zip(flips)
            .map(|(c, (underscore, upper))| match c {
                '-' if underscore => '_',
                c if upper => c.to_ascii_uppercase(),
                c => c,
            })
            .collect()
    })
}

fn trust_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(trust::ALL.iter().copied().chain(["signature", "signature-input", "x-edge-other"]).collect::<Vec<_>>())
}

proptest! {
    /// Every spelling of a trust header with at least one `_` refuses; the
    /// ones without are the real header (HeaderMap folds case).
    #[test]
    fn any_underscore_spelling_of_a_trust_header_refuses(spelled in trust_name().prop_flat_map(spelling)) {
        let r = with_header(signed(), &spelled, "forged");
        let result = verifier().verify(&r, NOW);
        if spelled.contains('_') {
            prop_assert_eq!(result.unwrap_err(), VerifyError::AmbiguousHeader(spelled.to_ascii_lowercase()));
        } else {
            // The real name: a second value of a covered header breaks the
            // signature; an uncovered one is stripped by verify_and_strip.
            prop_assert!(!matches!(result, Err(VerifyError::AmbiguousHeader(_))));
        }
    }

    /// Names that are no twin of a trust or covered header never refuse.
    #[test]
    fn unrelated_names_never_refuse(name in "[a-zA-Z0-9][a-zA-Z0-9_-]{0,24}") {
        let dashed = trust::dash_form(&name);
        prop_assume!(!trust::is_trust_header(&dashed));
        let r = with_header(signed(), &name, "v");
        prop_assert!(verifier().verify(&r, NOW).is_ok(), "{}", name);
    }

    /// The predicate is exactly "has `_` and reads as a trust header with `-`".
    #[test]
    fn twin_predicate(name in "[a-zA-Z_-]{0,20}") {
        let expected = name.contains('_') && trust::is_trust_header(&name.replace('_', "-"));
        prop_assert_eq!(trust::is_trust_twin(&name), expected);
    }
}
