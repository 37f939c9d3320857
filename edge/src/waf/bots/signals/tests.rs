use super::*;

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
const SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
const CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";

/// What the browser sends on a navigation over https (no client hints).
fn navigation() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("Accept-Language", "en-US,en;q=0.5"),
        ("Accept-Encoding", "gzip, deflate, br"),
        ("Sec-Fetch-Dest", "document"),
        ("Sec-Fetch-Mode", "navigate"),
        ("Sec-Fetch-Site", "none"),
    ]
}

/// What Chrome adds: its low-entropy client hints.
fn chrome_navigation(major: &'static str, platform: &'static str, mobile: &'static str) -> Vec<(&'static str, String)> {
    let mut h: Vec<(&str, String)> = navigation().into_iter().map(|(n, v)| (n, v.to_string())).collect();
    h.push(("sec-ch-ua", format!("\"Chromium\";v=\"{major}\", \"Google Chrome\";v=\"{major}\", \"Not-A.Brand\";v=\"99\"")));
    h.push(("sec-ch-ua-mobile", mobile.to_string()));
    h.push(("sec-ch-ua-platform", format!("\"{platform}\"")));
    h
}

fn verdict(ua: &str, headers: &[(&str, &str)], secure: bool) -> BotVerdict {
    score(&BotInputs { user_agent: ua, headers, http_version: "HTTP/2", secure: Some(secure), cf_bot_score: None, cf_verified_bot: false })
}

fn owned<'a>(h: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    h.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

#[test]
fn real_browsers_pay_nothing() {
    // Firefox and Safari send no client hints: not a penalty.
    for ua in [FIREFOX, SAFARI, IPHONE] {
        let v = verdict(ua, &navigation(), true);
        assert!(v.score >= 80 && v.reasons.is_empty(), "{ua}: {v:?}");
    }
    let v = verdict(CHROME, &owned(&chrome_navigation("124", "Windows", "?0")), true);
    assert!(v.score >= 80 && v.reasons.is_empty(), "{v:?}");
    let v = verdict(CHROME_ANDROID, &owned(&chrome_navigation("124", "Android", "?1")), true);
    assert!(v.reasons.is_empty(), "{v:?}");
    // Over plain http Chromium sends neither client hints nor Sec-Fetch-*.
    let plain: Vec<_> = navigation().into_iter().filter(|(n, _)| !n.starts_with("Sec-")).collect();
    assert!(verdict(CHROME, &plain, false).reasons.is_empty());
    // An old Safari predates Fetch Metadata: its absence is expected.
    let old = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6 Safari/605.1.15";
    assert!(verdict(old, &plain, true).reasons.is_empty());
}

#[test]
fn missing_basics_and_http10() {
    let v = bot_score(CHROME, &[], "HTTP/1.0", None, false);
    assert!(v.score < 10, "{v:?}");
    for r in ["browser_without_accept", "browser_without_accept_language", "browser_without_accept_encoding", "http10_modern_browser"] {
        assert!(v.reasons.contains(&r), "{r}: {v:?}");
    }
    let mut h = navigation();
    h[1] = ("Accept-Language", "english please");
    assert!(verdict(FIREFOX, &h, true).reasons.contains(&"malformed_accept_language"));
}

#[test]
fn client_hints_must_match_the_claimed_browser() {
    let chrome = chrome_navigation("124", "Windows", "?0");
    let hints = owned(&chrome);
    // Firefox and Safari never send sec-ch-ua.
    assert!(verdict(FIREFOX, &hints, true).reasons.contains(&"sec_ch_ua_mismatch"));
    assert!(verdict(SAFARI, &hints, true).reasons.contains(&"sec_ch_ua_mismatch"));
    // Another major version than the UA's.
    let v = verdict(CHROME, &owned(&chrome_navigation("99", "Windows", "?0")), true);
    assert!(v.reasons.contains(&"sec_ch_ua_mismatch") && v.score < 50, "{v:?}");
    // Platform and mobile flags that contradict the UA.
    assert!(verdict(CHROME, &owned(&chrome_navigation("124", "macOS", "?0")), true).reasons.contains(&"sec_ch_ua_platform_mismatch"));
    assert!(verdict(CHROME, &owned(&chrome_navigation("124", "Windows", "?1")), true).reasons.contains(&"sec_ch_ua_mobile_mismatch"));
    // Chromium over https without any client hint.
    let v = verdict(CHROME, &navigation(), true);
    assert_eq!(v.reasons, vec!["chromium_without_client_hints"]);
    assert!(v.score >= 70, "a light signal alone: {v:?}");
}

#[test]
fn fetch_metadata_must_fit_the_version() {
    // Firefox 60 predates Sec-Fetch-*.
    let old_ff = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:60.0) Gecko/20100101 Firefox/60.0";
    assert!(verdict(old_ff, &navigation(), true).reasons.contains(&"sec_fetch_from_older_browser"));
    // A current one sends it over https.
    let plain: Vec<_> = navigation().into_iter().filter(|(n, _)| !n.starts_with("Sec-")).collect();
    assert!(verdict(FIREFOX, &plain, true).reasons.contains(&"modern_browser_without_sec_fetch"));
    // A navigation that does not ask for HTML.
    let mut h = navigation();
    h[0] = ("Accept", "*/*");
    assert!(verdict(FIREFOX, &h, true).reasons.contains(&"navigation_accept_not_html"));
}

#[test]
fn bots_and_cloudflare() {
    let g = "Googlebot/2.1 (+http://www.google.com/bot.html)";
    let v = bot_score(g, &[], "HTTP/1.1", None, false);
    assert_eq!((v.class, v.verified, v.score), (BotClass::SearchEngine, false, 1));
    assert!(v.reasons.contains(&"unverified_search_engine"));
    assert!(bot_score(g, &[], "HTTP/1.1", None, true).verified);
    assert_eq!(bot_score(CHROME, &navigation(), "HTTP/2", Some(3), false).score, 3);
    assert_eq!(bot_score("hello", &navigation(), "HTTP/2", None, false).score, 30);
}

#[test]
fn accept_language_grammar() {
    for ok in ["en", "en-US,en;q=0.9", "*", "de-CH, de;q=0.9, en;q=0.8", "zh-Hant-TW"] {
        assert!(language_list(ok), "{ok}");
    }
    for bad in ["", "english please", "en;q=2", "en-", "12-34", "en;x=1"] {
        assert!(!language_list(bad), "{bad}");
    }
}
