//! The nginx replacement documents in `examples/rules/nginx-*.json`: each is
//! valid and `explain` shows a representative request handled as the nginx
//! setup it replaces would handle it.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_edge-rules");

fn doc(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rules").join(name).display().to_string()
}

fn check(name: &str) {
    let o = Command::new(BIN).args(["check", &doc(name)]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&o.stdout));
}

/// `explain --json` of one request: the decision and each phase as
/// "phase action rule".
fn explain(name: &str, request: &str, headers: &[&str]) -> (Value, Vec<String>) {
    let path = doc(name);
    let mut args = vec!["explain", &path, "--json", "--request", request, "--ip", "198.51.100.7"];
    for h in headers {
        args.extend(["-H", *h]);
    }
    let o = Command::new(BIN).args(&args).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let phases = v["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{} {} {}", p["phase"].as_str().unwrap(), p["action"].as_str().unwrap(), p["rule"].as_str().unwrap_or("-")))
        .collect();
    (v["decision"].clone(), phases)
}

fn header<'a>(decision: &'a Value, name: &str) -> Option<&'a str> {
    decision["headers"].as_array()?.iter().find(|h| h[0].as_str() == Some(name)).and_then(|h| h[1].as_str())
}

#[test]
fn nginx_api() {
    check("nginx-api.json");
    // return 301 https://$host$request_uri; except ACME.
    let (d, _) = explain("nginx-api.json", "GET http://api.example.com/users?page=2", &[]);
    assert_eq!((d["status"].as_u64(), d["rule"].as_str()), (Some(301), Some("to-https")));
    assert_eq!(header(&d, "location"), Some("https://api.example.com/users?page=2"));
    let (d, _) = explain("nginx-api.json", "GET http://api.example.com/.well-known/acme-challenge/tok", &[]);
    assert_eq!(d["type"], "forward");
    // limit_req zone=api burst=20 nodelay; zone=auth on /login only; /health counted by neither.
    let (d, phases) = explain("nginx-api.json", "POST https://api.example.com/login", &[]);
    assert_eq!(d["origin"], "api");
    let limits: Vec<&String> = phases.iter().filter(|p| p.starts_with("limit ")).collect();
    assert_eq!(limits.len(), 1, "{phases:?}");
    assert!(limits[0].ends_with(" auth"), "{phases:?}");
    let (_, phases) = explain("nginx-api.json", "GET https://api.example.com/health", &[]);
    assert!(phases.contains(&"limit continue -".to_string()), "{phases:?}");
    let (_, phases) = explain("nginx-api.json", "GET https://api.example.com/orders", &[]);
    assert!(phases.iter().any(|p| p.starts_with("limit ") && p.ends_with(" api")), "{phases:?}");
    assert!(phases.contains(&"respond security_headers security".to_string()), "{phases:?}");
    // WebSocket: its own origin, never cached, not rate limited per message.
    let (d, phases) = explain("nginx-api.json", "GET https://api.example.com/socket.io/?EIO=4&transport=websocket", &["Upgrade: websocket", "Connection: Upgrade"]);
    assert_eq!((d["origin"].as_str(), d["rule"].as_str()), (Some("realtime"), Some("websocket")));
    assert!(phases.contains(&"cache bypass no-cache-realtime".to_string()), "{phases:?}");
    assert!(phases.contains(&"limit continue -".to_string()), "{phases:?}");
}

#[test]
fn nginx_api_per_minute() {
    check("nginx-api-per-minute.json");
    let (d, phases) = explain("nginx-api-per-minute.json", "POST https://api.example.com/api/batch/jobs", &[]);
    assert_eq!(d["origin"], "api");
    let limits: Vec<&String> = phases.iter().filter(|p| p.starts_with("limit ")).collect();
    assert_eq!(limits.len(), 1, "{phases:?}");
    assert!(limits[0].ends_with(" batch"), "only the 25/min rule counts batch: {phases:?}");
    let (_, phases) = explain("nginx-api-per-minute.json", "GET https://api.example.com/api/orders", &[]);
    assert!(phases.iter().any(|p| p.starts_with("limit ") && p.ends_with(" api")), "{phases:?}");
    let (_, phases) = explain("nginx-api-per-minute.json", "GET https://api.example.com/api/health", &[]);
    assert!(!phases.iter().any(|p| p.starts_with("limit ") && p.ends_with(" api")), "health is exempt: {phases:?}");
}

#[test]
fn nginx_frontend_api() {
    check("nginx-frontend-api.json");
    // Split by host; static assets of the frontend cached, the API never.
    let (d, phases) = explain("nginx-frontend-api.json", "GET https://www.example.com/assets/app.js", &[]);
    assert_eq!(d["origin"], "frontend");
    assert!(phases.contains(&"cache cache static-assets".to_string()), "{phases:?}");
    let (d, phases) = explain("nginx-frontend-api.json", "GET https://api.example.com/assets/app.js", &[]);
    assert_eq!((d["origin"].as_str(), d["rule"].as_str()), (Some("api"), Some("api-host")));
    assert!(phases.contains(&"cache bypass api-no-cache".to_string()), "{phases:?}");
    // CORS preflight from the frontend answered at the edge; others get nothing.
    let pre = ["Origin: https://www.example.com", "Access-Control-Request-Method: POST"];
    let (d, _) = explain("nginx-frontend-api.json", "OPTIONS https://api.example.com/orders", &pre);
    assert_eq!((d["status"].as_u64(), d["rule"].as_str()), (Some(204), Some("api-cors")));
    assert!(header(&d, "access-control-allow-methods").is_some_and(|m| m.contains("POST")), "{d}");
    // client_max_body_size 50m.
    let (d, _) = explain("nginx-frontend-api.json", "POST https://api.example.com/upload", &["Content-Length: 52428801"]);
    assert_eq!((d["status"].as_u64(), d["rule"].as_str()), (Some(413), Some("body-cap")));
    // limit_req zone=uploads burst=5 on the API's uploads.
    let (d, phases) = explain("nginx-frontend-api.json", "POST https://api.example.com/upload", &["Content-Length: 1024"]);
    assert_eq!(d["origin"], "api");
    assert!(phases.iter().any(|p| p.starts_with("limit ") && p.ends_with(" uploads")), "{phases:?}");
    // An unknown Host is refused.
    let (d, _) = explain("nginx-frontend-api.json", "GET https://evil.example.net/", &[]);
    assert_eq!((d["status"].as_u64(), d["rule"].as_str()), (Some(421), Some("other-hosts")));
}
