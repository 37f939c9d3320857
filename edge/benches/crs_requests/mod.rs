//! The requests CRS's cost is measured on (`benches/crs.rs`,
//! `examples/crs_vs_modsecurity.rs`): a benign GET, a 2 KB form POST and a
//! 4 KB JSON prompt, with a browser's headers.

pub const UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

pub fn headers(content_type: Option<&'static str>, len: usize) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("Host", "shop.example.com".to_string()),
        ("User-Agent", UA.to_string()),
        ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".to_string()),
        ("Accept-Language", "en-US,en;q=0.9".to_string()),
        ("Referer", "https://shop.example.com/search?q=red+shoes&page=2".to_string()),
        ("Cookie", "session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; consent=1".to_string()),
        ("X-Forwarded-For", "203.0.113.7".to_string()),
    ];
    if let Some(ct) = content_type {
        h.push(("Content-Type", ct.to_string()));
        h.push(("Content-Length", len.to_string()));
    }
    h
}

pub fn form_body() -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < 2048 {
        s.push_str(&format!("field{i}=Some+ordinary+text+value+number+{i}%2C+with+punctuation.&"));
        i += 1;
    }
    s
}

/// A 4 KB prompt in the style of the benign-prompts corpus: prose that names
/// code and commands in passing.
pub fn prompt_body() -> String {
    let para = "I want you to act as a senior travel planner. I will tell you where I am and what kind of places I like, and you will suggest places to visit near my location, with a short reason for each, opening hours if you know them, and how long to stay. Keep the answer friendly and practical, and ask me one question at the end. ";
    let mut text = String::new();
    while text.len() < 4000 {
        text.push_str(para);
    }
    format!(r#"{{"model":"chat-small","prompt":"{text}","temperature":0.7}}"#)
}

pub struct Case {
    pub name: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub query: &'static str,
    pub content_type: Option<&'static str>,
    pub body: String,
}

/// The three requests, in the order the figures list them.
pub fn cases() -> [Case; 3] {
    [
        Case { name: "get", method: "GET", path: "/products/shoes/running", query: "q=red%20shoes&size=42&sort=price_asc&page=2", content_type: None, body: String::new() },
        Case { name: "form_2k", method: "POST", path: "/checkout", query: "", content_type: Some("application/x-www-form-urlencoded"), body: form_body() },
        Case { name: "json_prompt_4k", method: "POST", path: "/v1/complete", query: "", content_type: Some("application/json"), body: prompt_body() },
    ]
}
