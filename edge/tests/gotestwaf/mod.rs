//! GoTestWAF's request builders (wallarm/gotestwaf `internal/payload`):
//! every encoder and placeholder, so a corpus case becomes the request
//! GoTestWAF would send. Shared by `waf_corpus.rs` (inspected natively) and
//! `tests/examples/waf_measure.rs` (sent to the edge under workerd).

use serde::Deserialize;

#[derive(Deserialize)]
pub struct Case {
    pub payload: Vec<String>,
    pub encoder: Vec<String>,
    pub placeholder: Vec<serde_norway::Value>,
    #[serde(rename = "type", default)]
    pub kind: String,
}

// ---- GoTestWAF encoders (internal/payload/encoder) ----

/// Go `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn base64(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `\uXXXX` per UTF-16 code unit (GoTestWAF JSUnicode).
fn js_unicode(s: &str) -> String {
    s.encode_utf16().map(|u| format!("\\u{u:04x}")).collect()
}

/// Go `xml.NewEncoder(b).Encode(string)`: `<string>` + EscapeText + `</string>`.
fn xml_entity(s: &str) -> String {
    let mut out = String::from("<string>");
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out.push_str("</string>");
    out
}

pub fn encode(enc: &str, p: &str) -> Option<String> {
    Some(match enc {
        "Plain" => p.to_string(),
        "URL" => query_escape(p),
        "Base64" => base64(p),
        "Base64Flat" => base64(p).replace('=', ""),
        "JSUnicode" => js_unicode(p),
        "XMLEntity" => xml_entity(p),
        _ => return None,
    })
}

// ---- GoTestWAF placeholders (internal/payload/placeholder) ----

/// An owned request, as GoTestWAF would send it.
#[derive(Default)]
pub struct Req {
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Req {
    /// Split a request target into path and query as Go's URL parser does.
    fn with_url(url: &str) -> Req {
        let url = url.split('#').next().unwrap_or("");
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        Req {
            path: path.into(),
            query: query.into(),
            ..Default::default()
        }
    }
}

const RAND: &str = "a1b2c3d4e5";

pub fn place(placeholder: &serde_norway::Value, payload: &str) -> Option<Req> {
    let (name, conf) = match placeholder {
        serde_norway::Value::String(s) => (s.as_str(), None),
        serde_norway::Value::Mapping(m) => {
            let (k, v) = m.iter().next()?;
            (k.as_str()?, Some(v))
        }
        _ => return None,
    };
    let conf_str = |key: &str| {
        conf.and_then(|c| c.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let mut r = Req::default();
    match name {
        "URLPath" => r = Req::with_url(&format!("/{payload}")),
        "URLParam" => r = Req::with_url(&format!("/?{RAND}={payload}")),
        "Header" => r.headers.push((format!("X-{RAND}"), payload.into())),
        "UserAgent" => r.headers.push(("User-Agent".into(), payload.into())),
        "HTMLForm" => {
            r.content_type = Some("application/x-www-form-urlencoded".into());
            r.body = format!("{RAND}={payload}").into_bytes();
        }
        "HTMLMultipartForm" => {
            let b = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab";
            r.content_type = Some(format!("multipart/form-data; boundary={b}"));
            r.body = format!("--{b}\r\nContent-Disposition: form-data; name=\"{RAND}\"\r\n\r\n{payload}\r\n--{b}--\r\n").into_bytes();
        }
        "JSONBody" => {
            r.content_type = Some("application/json".into());
            r.body = payload.as_bytes().to_vec();
        }
        "JSONRequest" => {
            r.content_type = Some("application/json".into());
            r.body =
                format!("{{\"test\":true, \"{RAND}\": \"{}\"}}", js_unicode(payload)).into_bytes();
        }
        "SOAPBody" => {
            r.content_type = Some("text/xml".into());
            r.headers.push((
                "SOAPAction".into(),
                "\"http://schemas.xmlsoap.org/soap/actor/next\"".into(),
            ));
            r.body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"\n\txmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n\t<soapenv:Header>\n\t\t<ns1:RequestHeader soapenv:actor=\"http://schemas.xmlsoap.org/soap/actor/next\"\n\t\t\tsoapenv:mustUnderstand=\"0\" xmlns:ns1=\"https://www.google.com/apis/ads/publisher/v202002\">\n\t\t</ns1:RequestHeader>\n\t</soapenv:Header>\n\t<soapenv:Body>\n\t\t<getAdUnitsByStatement xmlns=\"https://www.google.com/apis/ads/publisher/v202002\">\n\t\t\t<filterStatement>\n\t\t\t\t<ab{RAND}>{}</ab{RAND}>\n\t\t\t</filterStatement>\n\t\t</getAdUnitsByStatement>\n\t</soapenv:Body>\n</soapenv:Envelope>",
                xml_entity(payload)
            )
            .into_bytes();
        }
        "XMLBody" => {
            r.content_type = Some("text/xml".into());
            r.body = payload.as_bytes().to_vec();
        }
        "RequestBody" => r.body = payload.as_bytes().to_vec(),
        "GraphQL" => match conf_str("method").as_deref() {
            Some("GET") => r.query = format!("query={}", query_escape(payload)),
            _ => r.body = payload.as_bytes().to_vec(),
        },
        "RawRequest" => {
            let path = conf_str("path")
                .unwrap_or_else(|| "/".into())
                .replace("{{payload}}", payload);
            r = Req::with_url(&path);
            r.body = conf_str("body")
                .unwrap_or_default()
                .replace("{{payload}}", payload)
                .into_bytes();
        }
        // gRPC needs an HTTP/2 gRPC frame the edge never parses as text: skipped.
        _ => return None,
    }
    Some(r)
}
