//! `edge_origin._native`: the PyO3 module under the `edge_origin` Python
//! package. It only translates; verification, replay refusal and the choice
//! of headers to strip are origin-sdk's.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod request;
mod signer;
mod verifier;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<verifier::Verifier>()?;
    m.add("Rejected", m.py().get_type::<verifier::Rejected>())?;
    m.add_function(wrap_pyfunction!(signer::sign, m)?)?;
    m.add_function(wrap_pyfunction!(verifier::trust_like, m)?)?;
    m.add("TAG", origin_sdk::TAG)?;
    m.add("DEFAULT_REPLAY_CAPACITY", origin_sdk::replay::DEFAULT_REPLAY_CAPACITY)?;
    Ok(())
}
