//! WAF hot paths: a benign GET, 2 KB form and JSON bodies, and UA classification.

use criterion::{criterion_group, criterion_main, Criterion};
use edge::waf::{bot_score, classify_user_agent, inspect, Inspectable, WafConfig};
use std::hint::black_box;

const UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

fn headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Host", "shop.example.com"),
        ("User-Agent", UA),
        (
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ),
        ("Accept-Language", "en-US,en;q=0.9"),
        (
            "Referer",
            "https://shop.example.com/search?q=red+shoes&page=2",
        ),
        (
            "Cookie",
            "session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; consent=1",
        ),
        ("X-Forwarded-For", "203.0.113.7"),
    ]
}

fn form_body() -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < 2048 {
        s.push_str(&format!(
            "field{i}=Some+ordinary+text+value+number+{i}%2C+with+punctuation.&"
        ));
        i += 1;
    }
    s
}

fn json_body() -> String {
    let mut items = Vec::new();
    let mut i = 0;
    while items.iter().map(String::len).sum::<usize>() < 2000 {
        items.push(format!(r#"{{"id":{i},"name":"Item {i}","note":"A normal description, nothing odd here.","tags":["a","b"]}}"#));
        i += 1;
    }
    format!(
        r#"{{"order":{{"customer":"jane@example.com","items":[{}]}}}}"#,
        items.join(",")
    )
}

/// A 4 KB chat request: one long prose prompt (quoting a shell command and SQL, as
/// prompts do) and a few structured fields.
fn prompt_body() -> String {
    let sentence = "I want you to act as a Linux terminal and a SQL console; I will type commands such as `ls -la /tmp` or SELECT name FROM users WHERE id = 1, and you will reply with what the terminal would show, nothing else. ";
    let mut prompt = String::new();
    while prompt.len() < 4000 {
        prompt.push_str(sentence);
    }
    serde_json::json!({ "model": "m-large", "temperature": 0.2, "max_tokens": 512, "prompt": prompt }).to_string()
}

fn bench(c: &mut Criterion) {
    let cfg = WafConfig::default();
    let h = headers();
    let get = Inspectable {
        path: "/products/shoes/running",
        query: "q=red%20shoes&size=42&sort=price_asc&page=2",
        headers: h.clone(),
        content_type: None,
        body: b"",
    };
    c.bench_function("waf_inspect_get", |b| {
        b.iter(|| inspect(black_box(&get), &cfg))
    });

    let form = form_body();
    let post = Inspectable {
        path: "/checkout",
        query: "",
        headers: h.clone(),
        content_type: Some("application/x-www-form-urlencoded"),
        body: form.as_bytes(),
    };
    c.bench_function("waf_inspect_form_2k", |b| {
        b.iter(|| inspect(black_box(&post), &cfg))
    });

    let json = json_body();
    let post = Inspectable {
        content_type: Some("application/json"),
        body: json.as_bytes(),
        ..post.clone()
    };
    c.bench_function("waf_inspect_json_2k", |b| {
        b.iter(|| inspect(black_box(&post), &cfg))
    });

    let prompt = prompt_body();
    let chat = Inspectable {
        path: "/v1/chat",
        content_type: Some("application/json"),
        body: prompt.as_bytes(),
        ..post.clone()
    };
    c.bench_function("waf_inspect_prompt_4k", |b| {
        b.iter(|| inspect(black_box(&chat), &cfg))
    });
    let prompt_api: WafConfig = serde_json::from_str(r#"{"profile":"prompt_api"}"#).unwrap_or_default();
    c.bench_function("waf_inspect_prompt_4k_prompt_api", |b| {
        b.iter(|| inspect(black_box(&chat), &prompt_api))
    });

    let attack = Inspectable {
        query: "id=1%27%20union%20select%20password%20from%20users--",
        ..get.clone()
    };
    c.bench_function("waf_inspect_sqli_get", |b| {
        b.iter(|| inspect(black_box(&attack), &cfg))
    });

    c.bench_function("bots_classify_browser", |b| {
        b.iter(|| classify_user_agent(black_box(UA)))
    });
    let bot = "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)";
    c.bench_function("bots_classify_bot", |b| {
        b.iter(|| classify_user_agent(black_box(bot)))
    });
    c.bench_function("bots_score", |b| {
        b.iter(|| bot_score(black_box(UA), &h, "HTTP/2", None, false))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
