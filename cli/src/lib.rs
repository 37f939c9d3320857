//! Library part of `edge-rules`: the importers, so tests and the fuzz target
//! reach them without the binary.

pub mod import;
