//! Tower middleware: verify the edge signature before the inner service runs.

use crate::verify::{Verifier, VerifyError};
use crate::VerifiedFacts;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

pub use crate::replay::{ReplayCache, DEFAULT_REPLAY_CAPACITY};

type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

fn system_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Layer that wraps services in [`EdgeAuth`].
#[derive(Clone)]
pub struct EdgeAuthLayer {
    verifier: Arc<Verifier>,
    replay: Option<Arc<Mutex<ReplayCache>>>,
    clock: Clock,
}

impl core::fmt::Debug for EdgeAuthLayer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EdgeAuthLayer").field("verifier", &self.verifier).field("replay_cache", &self.replay.is_some()).finish()
    }
}

impl EdgeAuthLayer {
    /// Verifies with `verifier`, system clock, replay cache of
    /// [`DEFAULT_REPLAY_CAPACITY`] nonces.
    pub fn new(verifier: Verifier) -> Self {
        EdgeAuthLayer {
            verifier: Arc::new(verifier),
            replay: Some(Arc::new(Mutex::new(ReplayCache::new(DEFAULT_REPLAY_CAPACITY)))),
            clock: Arc::new(system_now),
        }
    }

    /// Turns replay protection off (e.g. when nonces are not unique per request).
    pub fn without_replay_cache(mut self) -> Self {
        self.replay = None;
        self
    }

    /// Replay cache with room for `capacity` nonces.
    pub fn replay_capacity(mut self, capacity: usize) -> Self {
        self.replay = Some(Arc::new(Mutex::new(ReplayCache::new(capacity))));
        self
    }

    /// Replaces the clock (Unix seconds), for tests.
    pub fn clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }
}

impl<S> tower_layer::Layer<S> for EdgeAuthLayer {
    type Service = EdgeAuth<S>;
    fn layer(&self, inner: S) -> EdgeAuth<S> {
        EdgeAuth { inner, layer: self.clone() }
    }
}

/// Middleware: on a valid edge signature, inserts [`VerifiedFacts`] into the
/// request extensions and calls the inner service; otherwise answers 401
/// `text/plain` naming the error. Uncovered or forged trust headers are
/// removed either way.
#[derive(Clone, Debug)]
pub struct EdgeAuth<S> {
    inner: S,
    layer: EdgeAuthLayer,
}

/// What [`EdgeAuth`] does before the inner service runs: verify, strip the
/// trust headers the signature does not cover (all of them on error), and
/// refuse a (keyid, nonce) already in `replay`. Public so that bindings (npm,
/// Python) and the sidecar admit requests exactly as the Layer does.
pub fn admit<B>(
    verifier: &Verifier,
    replay: Option<&Mutex<ReplayCache>>,
    req: &mut http::Request<B>,
    now: u64,
) -> Result<VerifiedFacts, VerifyError> {
    let facts = verifier.verify_and_strip(req, now)?;
    if let Some(cache) = replay {
        if let Err(e) = crate::replay::admit(cache, &facts, verifier.skew(), now) {
            crate::verify::strip_all(req.headers_mut());
            return Err(e);
        }
    }
    Ok(facts)
}

impl<S> EdgeAuth<S> {
    fn check<B>(&self, req: &mut http::Request<B>) -> Result<VerifiedFacts, VerifyError> {
        admit(&self.layer.verifier, self.layer.replay.as_deref(), req, (self.layer.clock)())
    }
}

fn unauthorized<B: From<String>>(e: &VerifyError) -> http::Response<B> {
    let mut res = http::Response::new(B::from(format!("edge signature rejected: {e}\n")));
    *res.status_mut() = http::StatusCode::UNAUTHORIZED;
    res.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain; charset=utf-8"));
    res
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for EdgeAuth<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    ResBody: From<String>,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<ReqBody>) -> Self::Future {
        match self.check(&mut req) {
            Ok(facts) => {
                req.extensions_mut().insert(facts);
                ResponseFuture { state: State::Inner { fut: self.inner.call(req) } }
            }
            Err(e) => ResponseFuture { state: State::Rejected { res: Some(unauthorized(&e)) } },
        }
    }
}

pin_project_lite::pin_project! {
    /// Future of [`EdgeAuth`].
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Inner { #[pin] fut: F },
        Rejected { res: Option<http::Response<B>> },
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = Result<http::Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { fut } => fut.poll(cx),
            StateProj::Rejected { res } => match res.take() {
                Some(r) => Poll::Ready(Ok(r)),
                // Polled after completion: stay pending rather than panic.
                None => Poll::Pending,
            },
        }
    }
}

#[cfg(feature = "axum")]
mod axum_impl {
    use super::*;
    use axum_core::response::{IntoResponse, Response};

    /// Rejection when no [`VerifiedFacts`] are in the request: the route is not
    /// behind [`EdgeAuthLayer`], or verification did not run.
    #[derive(Clone, Copy, Debug, Default)]
    pub struct MissingFacts;

    impl IntoResponse for MissingFacts {
        fn into_response(self) -> Response {
            (http::StatusCode::UNAUTHORIZED, "edge signature required\n").into_response()
        }
    }

    impl<S: Send + Sync> axum_core::extract::FromRequestParts<S> for VerifiedFacts {
        type Rejection = MissingFacts;

        async fn from_request_parts(parts: &mut http::request::Parts, _state: &S) -> Result<Self, Self::Rejection> {
            parts.extensions.get::<VerifiedFacts>().cloned().ok_or(MissingFacts)
        }
    }

    impl<S: Send + Sync> axum_core::extract::OptionalFromRequestParts<S> for VerifiedFacts {
        type Rejection = core::convert::Infallible;

        async fn from_request_parts(parts: &mut http::request::Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
            Ok(parts.extensions.get::<VerifiedFacts>().cloned())
        }
    }
}

#[cfg(feature = "axum")]
pub use axum_impl::MissingFacts;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_cache_bounds_and_expiry() {
        let mut c = ReplayCache::new(2);
        assert!(c.check_and_insert("k", "a", 10, 0));
        assert!(!c.check_and_insert("k", "a", 10, 5));
        assert!(c.check_and_insert("k2", "a", 10, 5));
        assert!(c.check_and_insert("k", "b", 10, 5)); // evicts oldest
        assert_eq!(c.len(), 2);
        assert!(c.check_and_insert("k", "a", 20, 11)); // expired
        assert!(c.len() <= 2);
    }
}
