//! `_native.Verifier`: origin-sdk's [`Guard`] (verify, replay cache, which
//! headers to strip) for Python. The GIL is released while it verifies.

use crate::request::{fields, text, Request};
use origin_sdk::{Component, Guard, KeySet, VerifiedFacts, VerifyError};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use std::time::{SystemTime, UNIX_EPOCH};

pyo3::create_exception!(
    _native,
    Rejected,
    pyo3::exceptions::PyException,
    "A refused signature: args are (reason code, message) from the Rust VerifyError."
);

fn rejected(e: &VerifyError) -> PyErr {
    Rejected::new_err((e.reason(), e.to_string()))
}

fn system_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The facts as a flat tuple, in `VerifiedFacts` field order; the Python
/// layer turns the IP into an `ipaddress` object and the claims into a dict.
fn facts_tuple<'py>(py: Python<'py>, f: &VerifiedFacts) -> PyResult<Bound<'py, PyTuple>> {
    let items: [Bound<'py, PyAny>; 13] = [
        f.client_ip.map(|ip| ip.to_string()).into_pyobject(py)?,
        f.country.as_deref().into_pyobject(py)?,
        f.asn.into_pyobject(py)?,
        f.colo.as_deref().into_pyobject(py)?,
        f.request_id.as_deref().into_pyobject(py)?,
        f.user.as_deref().into_pyobject(py)?,
        f.claims.as_ref().map(|c| c.to_string()).into_pyobject(py)?,
        f.bot_score.into_pyobject(py)?,
        f.bot_class.as_deref().into_pyobject(py)?,
        f.keyid.as_str().into_pyobject(py)?.into_any(),
        f.created.into_pyobject(py)?.into_any(),
        f.expires.into_pyobject(py)?.into_any(),
        f.nonce.as_deref().into_pyobject(py)?,
    ];
    PyTuple::new(py, items)
}

/// Verifies edge signatures; one per process, shared by all requests.
#[pyclass(frozen, module = "edge_origin._native")]
pub struct Verifier {
    guard: Guard,
}

impl Verifier {
    fn check(
        &self,
        py: Python<'_>,
        method: &Bound<'_, PyAny>,
        url: &Bound<'_, PyAny>,
        headers: &Bound<'_, PyAny>,
        now: Option<u64>,
    ) -> PyResult<(Request, origin_sdk::Accepted)> {
        let req = Request::new(&text(method, "method")?, &text(url, "url")?, fields(headers)?);
        let now = now.unwrap_or_else(system_now);
        let outcome = py.detach(|| self.guard.check(&req, now));
        match outcome {
            Ok(accepted) => Ok((req, accepted)),
            Err(e) => Err(rejected(&e)),
        }
    }
}

#[pymethods]
impl Verifier {
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        keys: &str,
        max_skew: u64,
        max_validity: u64,
        tag: Option<&str>,
        label: Option<&str>,
        required_components: Option<Vec<String>>,
        require_nonce: bool,
        require_expires: bool,
        replay_capacity: usize,
    ) -> PyResult<Self> {
        let keys = KeySet::from_spec(keys).map_err(|e| PyValueError::new_err(format!("keys: {e}")))?;
        if keys.is_empty() {
            return Err(PyValueError::new_err("keys: no key given (expected `keyid:BASE64[,keyid:BASE64…]`)"));
        }
        let mut verifier = origin_sdk::Verifier::new(keys)
            .max_skew(max_skew)
            .max_validity(max_validity)
            .required_tag(tag)
            .label(label)
            .require_nonce(require_nonce)
            .require_expires(require_expires);
        if let Some(components) = required_components {
            verifier = verifier.required_components(components.into_iter().map(Component::new));
        }
        Ok(Verifier { guard: Guard::new(verifier).replay_capacity(replay_capacity) })
    }

    /// Verifies and returns the facts tuple; raises `Rejected`.
    #[pyo3(signature = (method, url, headers, now=None))]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        method: &Bound<'py, PyAny>,
        url: &Bound<'py, PyAny>,
        headers: &Bound<'py, PyAny>,
        now: Option<u64>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let (_, accepted) = self.check(py, method, url, headers, now)?;
        facts_tuple(py, &accepted.facts)
    }

    /// Like `verify`, plus the indices (in `headers` order) of the headers
    /// the application must not see.
    #[pyo3(signature = (method, url, headers, now=None))]
    fn verify_and_strip<'py>(
        &self,
        py: Python<'py>,
        method: &Bound<'py, PyAny>,
        url: &Bound<'py, PyAny>,
        headers: &Bound<'py, PyAny>,
        now: Option<u64>,
    ) -> PyResult<(Bound<'py, PyTuple>, Bound<'py, PyList>)> {
        let (req, accepted) = self.check(py, method, url, headers, now)?;
        let strip: Vec<usize> = req.fields.iter().enumerate().filter(|(_, (name, _))| !accepted.keeps(name)).map(|(i, _)| i).collect();
        Ok((facts_tuple(py, &accepted.facts)?, PyList::new(py, strip)?))
    }

    /// Allowed clock skew in seconds.
    #[getter]
    fn max_skew(&self) -> u64 {
        self.guard.verifier().skew()
    }
}

/// Indices of the headers that are, or a server could read as, trust
/// headers: what to strip where nothing was verified (exempt paths).
#[pyfunction]
pub fn trust_like(headers: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    Ok(fields(headers)?.iter().enumerate().filter(|(_, (n, _))| origin_sdk::guard::is_trust_like(n)).map(|(i, _)| i).collect())
}
