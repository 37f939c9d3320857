//! go-ftw's YAML test format, in which OWASP CRS writes its regression suite
//! (`tests/corpora/owasp-crs/tests/regression/tests/`). Shared by the native
//! conformance test (`crs_conformance.rs`) and the e2e `crs` suite, so both
//! read the suite the same way.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_norway::Value;

#[derive(Deserialize, Default)]
pub struct TestFile {
    #[serde(default)]
    pub tests: Vec<Test>,
}

#[derive(Deserialize)]
pub struct Test {
    #[serde(default)]
    pub test_id: Option<Value>,
    #[serde(default)]
    pub stages: Vec<Stage>,
}

#[derive(Deserialize)]
pub struct Stage {
    pub input: Input,
    #[serde(default)]
    pub output: Output,
}

#[derive(Deserialize, Default)]
pub struct Input {
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, Value>,
    #[serde(default)]
    pub data: Option<Value>,
    #[serde(default)]
    pub encoded_request: Option<String>,
    #[serde(default)]
    pub autocomplete_headers: Option<bool>,
}

#[derive(Deserialize, Default)]
pub struct Output {
    #[serde(default)]
    pub log: Option<Log>,
}

#[derive(Deserialize, Default)]
pub struct Log {
    #[serde(default)]
    pub expect_ids: Vec<Value>,
    #[serde(default)]
    pub no_expect_ids: Vec<Value>,
}

/// A YAML scalar as go-ftw sends it: numbers and booleans as written, a
/// sequence (multi-line `data`) joined.
pub fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Sequence(items) => items.iter().map(scalar).collect::<Vec<_>>().join(""),
        _ => String::new(),
    }
}

impl Test {
    /// The test's id as go-ftw prints it (`1`, `2`, ...).
    pub fn id(&self) -> String {
        self.test_id.as_ref().map(scalar).unwrap_or_default()
    }
}

/// One test file; a file that is all comments (one only silences CRS's linter)
/// or does not parse reads as no tests.
pub fn read(file: &Path) -> TestFile {
    std::fs::read_to_string(file).ok().and_then(|t| serde_norway::from_str(&t).ok()).unwrap_or_default()
}

/// The entries of `dir` (sorted, so runs are in file order), optionally only
/// those with extension `ext`; none if the folder cannot be read.
pub fn sorted_entries(dir: &Path, ext: Option<&str>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.retain(|p| ext.is_none_or(|x| p.extension().is_some_and(|e| e == x)));
    out.sort();
    out
}
