//! Header-consistency signals: does the request look like what the browser its
//! User-Agent claims would send? Each signal is something every current
//! browser of that family does on every request, so a real browser pays
//! nothing for it; the table in the README's bot section says which.
//!
//! Signals that depend on the family are only applied to the family that has
//! the behaviour: Safari and Firefox send no client hints, so their absence
//! costs nothing; Chromium sends `sec-ch-ua` and all three send `Sec-Fetch-*`
//! only to secure origins, so those are only expected over https.

use super::{classify_user_agent, BotClass};

/// Outcome of [`bot_score`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotVerdict {
    pub class: BotClass,
    /// 1..=99, Cloudflare style: 1 = certainly automated, 99 = certainly human.
    pub score: u8,
    /// Cloudflare verified the bot (reverse DNS / IP ranges). Only verified bots should
    /// be trusted; an unverified `SearchEngine` is probably an impostor.
    pub verified: bool,
    /// Machine-readable reasons for the score, for logs and rules.
    pub reasons: Vec<&'static str>,
}

/// What the score looks at.
#[derive(Debug, Clone, Copy, Default)]
pub struct BotInputs<'a> {
    pub user_agent: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    /// `HTTP/1.0`, `HTTP/2`, … (`cf.httpProtocol`); empty if unknown.
    pub http_version: &'a str,
    /// Over https: client hints and `Sec-Fetch-*` are expected only then.
    /// `None` when unknown: those signals are skipped.
    pub secure: Option<bool>,
    pub cf_bot_score: Option<u8>,
    pub cf_verified_bot: bool,
}

/// Score how bot-like a request is from its UA class and header consistency,
/// combined with Cloudflare's own score when present (the lower wins). The
/// scheme is unknown here, so https-only expectations are not applied.
pub fn bot_score(ua: &str, headers: &[(&str, &str)], http_version: &str, cf_bot_score: Option<u8>, cf_verified_bot: bool) -> BotVerdict {
    score(&BotInputs { user_agent: ua, headers, http_version, secure: None, cf_bot_score, cf_verified_bot })
}

/// [`bot_score`] with everything the request offers.
pub fn score(input: &BotInputs<'_>) -> BotVerdict {
    let class = classify_user_agent(input.user_agent);
    let mut reasons = Vec::new();
    let mut score: i32 = match class {
        BotClass::Browser => 90,
        BotClass::Unknown => {
            reasons.push("unrecognised_user_agent");
            30
        }
        BotClass::Empty => {
            reasons.push("empty_user_agent");
            1
        }
        BotClass::Scanner => {
            reasons.push("scanner_user_agent");
            1
        }
        _ => {
            reasons.push("declared_bot");
            1
        }
    };
    if class == BotClass::SearchEngine && !input.cf_verified_bot {
        reasons.push("unverified_search_engine");
    }
    if class == BotClass::Browser {
        for (penalty, reason) in browser_signals(input) {
            score -= penalty;
            reasons.push(reason);
        }
    }
    let mut score = score.clamp(1, 99) as u8;
    if let Some(cf) = input.cf_bot_score.map(|s| s.clamp(1, 99)) {
        if cf < score {
            score = cf;
            reasons.push("cf_bot_score");
        }
    }
    BotVerdict { class, score, verified: input.cf_verified_bot, reasons }
}

/// The browser family a UA claims, with its major (and minor) version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Chrome, Edge, Opera, Samsung Internet, WebViews: `Chrome/N` on a
    /// desktop or Android platform (iOS browsers are all WebKit).
    Chromium { major: u32, edge: bool },
    Firefox { major: u32 },
    /// Safari and every iOS browser: `Version/N.M` or `CPU OS N_M`.
    Safari { major: u32, minor: u32 },
    Other,
}

fn family(lower: &str) -> Family {
    let ios = lower.contains("iphone") || lower.contains("ipad") || lower.contains("ipod");
    if !ios {
        if let Some(major) = number_after(lower, "chrome/") {
            return Family::Chromium { major, edge: lower.contains("edg/") };
        }
        if let Some(major) = number_after(lower, "firefox/") {
            return Family::Firefox { major };
        }
    }
    if (lower.contains("applewebkit/") && lower.contains("safari/")) || ios {
        let version = after(lower, "version/").or_else(|| after(lower, " os ").filter(|_| ios));
        if let Some(v) = version {
            let mut parts = v.split(['.', '_']).map(|p| digits(p).parse::<u32>().ok());
            if let (Some(Some(major)), minor) = (parts.next(), parts.next().flatten()) {
                return Family::Safari { major, minor: minor.unwrap_or(0) };
            }
        }
    }
    Family::Other
}

fn after<'a>(s: &'a str, marker: &str) -> Option<&'a str> {
    s.find(marker).map(|i| &s[i + marker.len()..])
}

fn digits(s: &str) -> &str {
    let end = s.bytes().take(6).take_while(u8::is_ascii_digit).count();
    &s[..end]
}

/// Major version after `marker` (`chrome/124.0` → 124).
fn number_after(s: &str, marker: &str) -> Option<u32> {
    digits(after(s, marker)?).parse().ok()
}

fn header<'a>(headers: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
}

/// Each failed expectation: (penalty, reason).
fn browser_signals(input: &BotInputs<'_>) -> Vec<(i32, &'static str)> {
    let headers = input.headers;
    let lower = input.user_agent.to_ascii_lowercase();
    let fam = family(&lower);
    let secure = input.secure == Some(true);
    let mut out = Vec::new();
    let accept = header(headers, "accept");
    if accept.is_none() {
        out.push((30, "browser_without_accept"));
    }
    match header(headers, "accept-language") {
        None => out.push((30, "browser_without_accept_language")),
        Some(v) if !language_list(v) => out.push((20, "malformed_accept_language")),
        Some(_) => {}
    }
    if header(headers, "accept-encoding").is_none() {
        out.push((10, "browser_without_accept_encoding"));
    }
    let v = input.http_version.trim();
    if v.eq_ignore_ascii_case("http/1.0") || v == "1.0" {
        out.push((50, "http10_modern_browser"));
    }
    let sec_fetch_dest = header(headers, "sec-fetch-dest");
    let sec_fetch_mode = header(headers, "sec-fetch-mode");
    // A navigation asks for HTML in every browser.
    let navigation = sec_fetch_mode.is_some_and(|m| m.trim().eq_ignore_ascii_case("navigate")) || sec_fetch_dest.is_some_and(|d| d.trim().eq_ignore_ascii_case("document"));
    if navigation && accept.is_some_and(|a| !a.to_ascii_lowercase().contains("text/html")) {
        out.push((20, "navigation_accept_not_html"));
    }
    let has_sec_fetch = sec_fetch_mode.is_some() || sec_fetch_dest.is_some() || header(headers, "sec-fetch-site").is_some();
    match (fetch_metadata_since(fam), has_sec_fetch) {
        // Claims a browser from before Fetch Metadata, yet sends it.
        (Some(false), true) => out.push((40, "sec_fetch_from_older_browser")),
        (Some(true), false) if secure => out.push((15, "modern_browser_without_sec_fetch")),
        _ => {}
    }
    let ch_ua = header(headers, "sec-ch-ua");
    match (fam, ch_ua) {
        (Family::Chromium { major, edge }, Some(ch)) if client_hints_contradict(major, edge, &ch.to_ascii_lowercase()) => {
            out.push((50, "sec_ch_ua_mismatch"))
        }
        (Family::Chromium { .. }, Some(_)) => {}
        // Chromium 89+ sends `sec-ch-ua` on every secure request.
        (Family::Chromium { major, .. }, None) if secure && major >= 90 => out.push((15, "chromium_without_client_hints")),
        // Firefox and Safari never send client hints.
        (Family::Firefox { .. } | Family::Safari { .. }, Some(_)) => out.push((50, "sec_ch_ua_mismatch")),
        (Family::Other, Some(_)) if !lower.contains("chrome/") => out.push((50, "sec_ch_ua_mismatch")),
        _ => {}
    }
    if ch_ua.is_some() {
        if let Some(m) = header(headers, "sec-ch-ua-mobile") {
            let says_mobile = m.trim() == "?1";
            if says_mobile != lower.contains("mobile") && (says_mobile || lower.contains("android")) {
                out.push((30, "sec_ch_ua_mobile_mismatch"));
            }
        }
        if let Some(p) = header(headers, "sec-ch-ua-platform") {
            if platform_contradicts(&p.trim().trim_matches('"').to_ascii_lowercase(), &lower) {
                out.push((30, "sec_ch_ua_platform_mismatch"));
            }
        }
    }
    out
}

/// Whether the family sends `Sec-Fetch-*` at that version (Chromium 76,
/// Firefox 90, Safari 16.4); `None` if the family is unknown.
fn fetch_metadata_since(fam: Family) -> Option<bool> {
    match fam {
        Family::Chromium { major, .. } => Some(major >= 76),
        Family::Firefox { major } => Some(major >= 90),
        Family::Safari { major, minor } => Some(major > 16 || (major == 16 && minor >= 4)),
        Family::Other => None,
    }
}

/// `sec-ch-ua` carries the same major version as the UA's `Chrome/N`, and
/// Edge names itself in it. GREASE brands (`"Not A(Brand"`) are ignored.
fn client_hints_contradict(ua_major: u32, edge: bool, ch: &str) -> bool {
    if edge && !ch.contains("edge") {
        return true;
    }
    let ch_major = ch.split(',').find(|b| b.contains("chromium") || b.contains("google chrome")).and_then(|b| number_after(b, "v=\""));
    ch_major.is_some_and(|m| m != ua_major)
}

/// `sec-ch-ua-platform` names another OS than the UA's platform comment.
fn platform_contradicts(platform: &str, ua: &str) -> bool {
    let expected: &[&str] = match platform {
        "windows" => &["windows"],
        "macos" => &["macintosh", "mac os x"],
        "android" => &["android"],
        "chrome os" | "chromium os" => &["cros"],
        "linux" => &["linux", "x11"],
        _ => return false,
    };
    !expected.iter().any(|e| ua.contains(e)) || (platform == "linux" && ua.contains("android"))
}

/// `Accept-Language` as RFC 9110 §12.5.4 has it: language ranges with optional
/// weights (`en-US,en;q=0.9`, `*`).
fn language_list(v: &str) -> bool {
    let v = v.trim();
    !v.is_empty()
        && v.split(',').all(|item| {
            let mut parts = item.trim().split(';');
            let range = parts.next().unwrap_or("").trim();
            let range_ok = range == "*" || (!range.is_empty() && range.split('-').enumerate().all(|(i, sub)| (1..=8).contains(&sub.len()) && sub.bytes().all(|b| if i == 0 { b.is_ascii_alphabetic() } else { b.is_ascii_alphanumeric() })));
            range_ok && parts.all(|p| p.trim().strip_prefix("q=").is_some_and(|q| q.parse::<f32>().is_ok_and(|q| (0.0..=1.0).contains(&q))))
        })
}

#[cfg(test)]
mod tests;
