//! A request as Python hands it over (method, URL, header pairs), readable by
//! origin-sdk's signature base through [`Message`].

use origin_sdk::Message;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString, PyTuple};

/// One request; header names are lowercased once, values kept as octets.
#[derive(Debug)]
pub struct Request {
    method: String,
    scheme: Option<String>,
    authority: Option<String>,
    path: String,
    query: Option<String>,
    pub fields: Vec<(String, Vec<u8>)>,
}

impl Request {
    /// `url` is absolute (`https://host/path?q`) or origin-form (`/path?q`,
    /// then `@authority` comes from `Host`). A fragment is ignored.
    pub fn new(method: &str, url: &str, fields: Vec<(String, Vec<u8>)>) -> Self {
        let url = url.split('#').next().unwrap_or("");
        let (scheme, rest) = match url.split_once("://") {
            Some((s, rest)) if !s.is_empty() && !s.contains(['/', '?']) => (Some(s.to_string()), rest),
            _ => (None, url),
        };
        let (authority, target) = if scheme.is_some() {
            let end = rest.find(['/', '?']).unwrap_or(rest.len());
            (Some(rest[..end].to_string()), &rest[end..])
        } else {
            (None, rest)
        };
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (target.to_string(), None),
        };
        Request { method: method.to_string(), scheme, authority, path, query, fields }
    }
}

impl Message for Request {
    fn method(&self) -> Option<&str> {
        Some(&self.method)
    }
    fn scheme(&self) -> Option<&str> {
        self.scheme.as_deref()
    }
    fn authority(&self) -> Option<&str> {
        self.authority.as_deref().filter(|a| !a.is_empty()).or_else(|| {
            let host = self.fields.iter().find(|(n, _)| n == "host")?;
            core::str::from_utf8(&host.1).ok().map(str::trim)
        })
    }
    fn path(&self) -> Option<&str> {
        Some(&self.path)
    }
    fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }
    fn field_values(&self, name: &str) -> Vec<&[u8]> {
        self.fields.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_slice()).collect()
    }
    fn field_names(&self) -> Vec<&str> {
        self.fields.iter().map(|(n, _)| n.as_str()).collect()
    }
}

/// `str` (UTF-8) or `bytes`/`bytearray` (as is) into octets.
pub fn octets(v: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(b) = v.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(s) = v.cast::<PyString>() {
        // Lone surrogates (from `surrogateescape`) cannot be UTF-8: keep the
        // rest, so the request is refused by its signature, not by an exception.
        return Ok(match s.to_cow() {
            Ok(c) => c.as_bytes().to_vec(),
            Err(_) => s.to_string_lossy().into_owned().into_bytes(),
        });
    }
    if let Ok(b) = v.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    Err(PyTypeError::new_err(format!("{what} must be str or bytes, not {}", v.get_type().name()?)))
}

/// Request line text (method, target) from `str` or `bytes`; bytes that are
/// not UTF-8 are replaced, which no signature covers.
pub fn text(v: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    Ok(String::from_utf8_lossy(&octets(v, what)?).into_owned())
}

fn pair(item: &Bound<'_, PyAny>) -> PyResult<(String, Vec<u8>)> {
    let bad = || PyTypeError::new_err("each header must be a (name, value) pair");
    let (name, value) = if let Ok(t) = item.cast::<PyTuple>() {
        if t.len() != 2 {
            return Err(bad());
        }
        (t.get_item(0)?, t.get_item(1)?)
    } else if item.is_instance_of::<PyString>() || item.is_instance_of::<PyBytes>() {
        return Err(bad());
    } else {
        let mut it = item.try_iter().map_err(|_| bad())?;
        match (it.next(), it.next(), it.next()) {
            (Some(n), Some(v), None) => (n?, v?),
            _ => return Err(bad()),
        }
    };
    let mut name = String::from_utf8_lossy(&octets(&name, "header name")?).into_owned();
    name.make_ascii_lowercase();
    Ok((name, octets(&value, "header value")?))
}

/// Header pairs from a mapping (`.items()`) or an iterable of pairs, in order.
pub fn fields(headers: &Bound<'_, PyAny>) -> PyResult<Vec<(String, Vec<u8>)>> {
    let not_headers = || PyTypeError::new_err("headers must be a mapping or an iterable of (name, value) pairs");
    if headers.is_instance_of::<PyString>() || headers.is_instance_of::<PyBytes>() {
        return Err(not_headers());
    }
    let iter = match headers.getattr("items") {
        Ok(items) => items.call0()?.try_iter().map_err(|_| not_headers())?,
        Err(_) => headers.try_iter().map_err(|_| not_headers())?,
    };
    iter.map(|item| pair(&item?)).collect()
}
