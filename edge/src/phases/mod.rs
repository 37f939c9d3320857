//! The request phases, one file each, in the order the pipeline runs them.
//! Each phase reads its compiled rules and records one decision in the [`Ctx`](crate::pipeline::Ctx).

pub mod authenticate;
pub mod botauth;
pub mod cache;
pub mod cors;
pub mod filter;
pub mod https_redirect;
pub mod limit;
pub mod normalize;
pub mod respond;
pub mod route;
pub mod security_headers;
