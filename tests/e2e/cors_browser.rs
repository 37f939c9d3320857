//! CORS as a real browser enforces it: headless Chromium loads a page from an
//! allowed origin and one from another origin; both call the API through the
//! edge with credentials. The allowed page reads the answer; the other is
//! refused by the browser itself, because the edge's answers carry no
//! `Access-Control-Allow-Origin` for it.

use std::time::{Duration, Instant};

use origin_sdk::EdgeAuthLayer;
use serde_json::{json, Value};

use crate::browser::dump_dom;
use crate::ensure;
use crate::harness::{start_origin, Edge, Report};

struct World {
    edge: Edge,
    http: reqwest::Client,
    allowed: Page,
    denied: Page,
}

/// A page on its own loopback port, hence its own origin.
struct Page {
    label: &'static str,
    port: u16,
}

impl Page {
    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn rules(origin_port: u16, allowed_origin: &str) -> Value {
    json!({
        "version": 1,
        "settings": { "default_origin": "app", "rules_ttl_seconds": 1 },
        "origins": { "app": { "url": format!("http://127.0.0.1:{origin_port}") } },
        "phases": { "respond": [
            { "id": "api-cors", "when": { "paths": ["/api/*"] }, "action": "cors", "params": {
                "allow_origins": [allowed_origin], "allow_methods": ["GET"], "allow_headers": ["x-custom"],
                "allow_credentials": true, "max_age": 60 } }
        ] }
    })
}

/// The page's script: sets a cookie (sent to the edge too: cookies ignore
/// ports), then makes two credentialed calls through the edge, one with a
/// custom header (the browser preflights it) and one simple (no preflight),
/// and writes each outcome, text or error, into the document.
fn page_html(label: &str, edge: &str) -> String {
    format!(
        r#"<!doctype html><html><head><title>pending</title></head><body>
<pre id="preflighted">pending</pre><pre id="simple">pending</pre>
<script>
document.cookie = "e2e_session={label}; path=/";
function call(id, init) {{
  return fetch("{edge}/api/{label}/" + id, Object.assign({{ credentials: "include" }}, init))
    .then(r => r.text().then(t => "OK " + r.status + " " + t))
    .catch(e => "ERR " + e.name + ": " + e.message)
    .then(s => {{ document.getElementById(id).textContent = s; }});
}}
Promise.all([call("preflighted", {{ headers: {{ "X-Custom": "1" }} }}), call("simple", {{}})])
  .then(() => {{ document.title = "done"; }});
</script></body></html>"#
    )
}

async fn serve_page(listener: tokio::net::TcpListener, html: String) {
    let app = axum::Router::new().fallback(move || {
        let html = html.clone();
        async move { ([("content-type", "text/html; charset=utf-8")], html) }
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
}

/// The text of `<pre id="{id}">` in a dumped DOM, entities decoded.
fn outcome(dom: &str, id: &str) -> Option<String> {
    let start = format!("<pre id=\"{id}\">");
    let text = dom.split(start.as_str()).nth(1)?.split("</pre>").next()?;
    Some(text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&"))
}

/// Runs the page in Chromium and returns its two outcomes.
async fn run_page(w: &World, page: &Page) -> Result<(String, String), String> {
    let started = Instant::now();
    let out = dump_dom(&format!("{}/", page.origin()), &format!("cors-{}-{}", page.label, w.edge.port)).await?;
    println!("    chromium, {} page: {:.1} s", page.label, started.elapsed().as_secs_f64());
    let failed = || {
        format!(
            "{} page did not finish (exit {:?}): {}\nstderr: {}",
            page.label,
            out.exit,
            out.dom.chars().take(800).collect::<String>(),
            out.stderr.chars().take(800).collect::<String>()
        )
    };
    ensure!(out.dom.contains("<title>done</title>"), "{}", failed());
    let pre = outcome(&out.dom, "preflighted").ok_or_else(failed)?;
    let simple = outcome(&out.dom, "simple").ok_or_else(failed)?;
    Ok((pre, simple))
}

/// The origin's JSON echo behind "OK 200 ".
fn echoed(outcome: &str) -> Result<Value, String> {
    let body = outcome.strip_prefix("OK 200 ").ok_or_else(|| format!("not a 200 read: {outcome}"))?;
    serde_json::from_str(body).map_err(|e| format!("not JSON ({e}): {body}"))
}

async fn allowed_page_reads_the_answer(w: &World) -> Result<(), String> {
    let mark = w.edge.log_len();
    let (pre, simple) = run_page(w, &w.allowed).await?;
    for (id, text) in [("preflighted", &pre), ("simple", &simple)] {
        let v = echoed(text)?;
        ensure!(v["origin"] == "app" && v["facts"].is_object(), "{id}: not the origin's verified echo: {v}");
        ensure!(v["path"] == format!("/api/allowed/{id}"), "{id}: path {}", v["path"]);
        let h = &v["headers"];
        ensure!(h["origin"] == w.allowed.origin().as_str(), "{id}: Origin at the origin: {h}");
        // credentials: "include" sent the page's cookie through the edge.
        ensure!(h["cookie"].as_str().is_some_and(|c| c.contains("e2e_session=allowed")), "{id}: no cookie: {h}");
        if id == "preflighted" {
            ensure!(h["x-custom"] == "1", "{id}: custom header missing: {h}");
        }
    }
    // The browser did preflight the custom header, and the edge answered it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let preflights = w.edge.logs_since(mark, &["\"method\":\"OPTIONS\"", "\"path\":\"/api/allowed/preflighted\",\"status\":204"]);
    ensure!(preflights.len() == 1, "preflights answered at the edge: {preflights:?}");
    Ok(())
}

async fn other_origin_refused_by_the_browser(w: &World) -> Result<(), String> {
    let mark = w.edge.log_len();
    let (pre, simple) = run_page(w, &w.denied).await?;
    for (id, text) in [("preflighted", &pre), ("simple", &simple)] {
        ensure!(text.starts_with("ERR TypeError"), "{id}: the page read a cross-origin answer: {text}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Preflighted call: the edge answered the preflight, the browser then
    // never sent the request itself.
    let pre_logs = w.edge.logs_since(mark, &["\"path\":\"/api/denied/preflighted\""]);
    ensure!(
        pre_logs.len() == 1 && pre_logs.iter().all(|l| l.contains("\"method\":\"OPTIONS\"") && l.contains("\"status\":204")),
        "expected only the preflight at the edge: {pre_logs:?}"
    );
    // Simple call: it reached the origin and came back 200; the browser hid it.
    let simple_logs = w.edge.logs_since(mark, &["\"method\":\"GET\"", "\"path\":\"/api/denied/simple\",\"status\":200"]);
    ensure!(simple_logs.len() == 1, "simple call not answered 200 by the origin: {:?}", w.edge.logs_since(mark, &["/api/denied/"]));
    // What the edge told the browser: the same requests, replayed.
    let origin = w.denied.origin();
    let header = |r: &reqwest::Response, n: &str| r.headers().get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    let r = w
        .http
        .request(reqwest::Method::OPTIONS, w.edge.url("/api/denied/preflighted"))
        .header("Origin", &origin)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "x-custom")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    ensure!(r.status() == 204, "replayed preflight: {}", r.status());
    ensure!(
        header(&r, "access-control-allow-origin").is_none() && header(&r, "access-control-allow-headers").is_none(),
        "preflight for {origin} carried CORS grants: {:?}",
        r.headers()
    );
    let r = w.http.get(w.edge.url("/api/denied/simple")).header("Origin", &origin).send().await.map_err(|e| e.to_string())?;
    ensure!(r.status() == 200, "replayed simple call: {}", r.status());
    ensure!(header(&r, "access-control-allow-origin").is_none(), "response for {origin} carried ACAO: {:?}", r.headers());
    Ok(())
}

pub async fn run(report: &mut Report) {
    let origin_port = start_origin("app", EdgeAuthLayer::new).await;
    let bind = || async { tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind page") };
    let (allowed_listener, denied_listener) = (bind().await, bind().await);
    let port = |l: &tokio::net::TcpListener| l.local_addr().expect("page addr").port();
    let allowed = Page { label: "allowed", port: port(&allowed_listener) };
    let denied = Page { label: "denied", port: port(&denied_listener) };
    let edge = Edge::start(&rules(origin_port, &allowed.origin()).to_string(), &format!("http://127.0.0.1:{origin_port}"));
    serve_page(allowed_listener, page_html(allowed.label, &edge.url(""))).await;
    serve_page(denied_listener, page_html(denied.label, &edge.url(""))).await;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client");
    let w = World { edge, http, allowed, denied };

    report.check("cors_browser::allowed_page_reads_the_answer", allowed_page_reads_the_answer(&w)).await;
    report.check("cors_browser::other_origin_refused_by_the_browser", other_origin_refused_by_the_browser(&w)).await;
}
