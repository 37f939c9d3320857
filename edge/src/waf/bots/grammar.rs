//! The User-Agent grammar: positive evidence of a browser, and generic evidence
//! of automation that holds for bots no list has seen yet.
//!
//! A browser UA is `Mozilla/5.0 (<platform>) <engine>/<version> <product>/<version>`
//! (or a phone's `Profile/MIDP-… Configuration/CLDC-…`, Opera's `Opera/9.80 (…)
//! Presto/…`, a TV's `HbbTV/…`); in-app browsers and WebViews keep that grammar
//! and add their own token. Automation shows itself by vocabulary (`crawl`,
//! `spider`, `…bot/`), a contact URL, or a `compatible;` comment naming
//! something that is not a browser. All matching runs on the lowercased UA
//! (the word lists are in [`super::words`]).

use super::words::{flag, scan};
use super::BotClass;

/// Which vocabularies occur in a whole (lowercased) UA: one pass.
pub(super) struct Flags(u16);

impl Flags {
    pub(super) fn of(lower: &[u8]) -> Flags {
        Flags(scan(lower))
    }

    fn has(&self, f: u16) -> bool {
        self.0 & f != 0
    }
}

fn platform_word(text: &[u8]) -> bool {
    scan(text) & flag::PLATFORM != 0
}

fn phone_token(text: &[u8]) -> bool {
    scan(text) & flag::PHONE != 0
}

/// Automation vocabulary in a part of a UA (a matched crawler pattern).
pub(super) fn automation_word(text: &[u8]) -> bool {
    scan(text) & flag::AUTOMATION != 0
}

/// A reduced UA that is only a desktop or phone platform
/// (`Mozilla/5.0 (Windows NT 10.0; Win64; x64)`).
fn reduced_platform_only(lower: &[u8]) -> bool {
    let Some(rest) = lower.strip_prefix(b"mozilla/5.0 (") else { return false };
    let Some(close) = rest.iter().position(|&b| b == b')') else { return false };
    if close + 1 != rest.len() {
        return false;
    }
    let digit_after = |p: &[u8]| rest.strip_prefix(p).and_then(|r| r.first()).is_some_and(u8::is_ascii_digit);
    digit_after(b"windows nt ") || digit_after(b"linux; android ") || [&b"macintosh; "[..], b"x11; ", b"iphone; ", b"ipad; "].iter().any(|p| rest.starts_with(p))
}

/// The first comment of `Mozilla/N.N (…)`, as a byte range of the UA.
fn first_comment(lower: &[u8]) -> Option<(usize, usize)> {
    let rest = lower.strip_prefix(b"mozilla/")?;
    let open = rest.iter().take(6).position(|&b| b == b'(')? + 8;
    let close = lower[open..].iter().position(|&b| b == b')').map_or(lower.len(), |c| open + c);
    Some((open + 1, close))
}

/// The platform comment of a Mozilla UA, unless it is a `compatible;`
/// comment (where bots name themselves): text in it describes the device.
pub(super) fn platform_comment(lower: &[u8]) -> Option<(usize, usize)> {
    first_comment(lower).filter(|&(start, end)| !lower[start..end].starts_with(b"compatible"))
}

/// `compatible; X` where X is not a browser (`MSIE`, `Konqueror`) and the
/// comment names no platform: how crawlers write themselves into a Mozilla UA.
fn compatible_non_browser(lower: &[u8]) -> bool {
    const NEEDLE: &[u8] = b"compatible";
    let mut from = 0;
    while let Some(at) = find(&lower[from..], NEEDLE).map(|i| from + i) {
        from = at + NEEDLE.len();
        let mut i = from;
        while lower.get(i).is_some_and(|b| matches!(b, b';' | b',' | b' ')) {
            i += 1;
        }
        let rest = &lower[i..];
        let comment = &rest[..rest.iter().position(|&b| b == b')').unwrap_or(rest.len())];
        let browser = [&b"msie"[..], b"konqueror"].iter().any(|p| comment.starts_with(p));
        if !comment.is_empty() && !comment[0].is_ascii_digit() && !browser && !platform_word(comment) && !phone_token(comment) {
            return true;
        }
    }
    false
}

/// A token ending in `bot` (`Googlebot/2.1`, `PetalBot;`): a crawler names
/// itself so. A short or all-caps stem is a product (`CUBOT`, `Cubot One`).
fn bot_suffix(ua: &[u8], lower: &[u8]) -> bool {
    let mut from = 0;
    while let Some(at) = find(&lower[from..], b"bot").map(|i| from + i) {
        from = at + 3;
        if lower.get(at + 3).is_some_and(u8::is_ascii_lowercase) {
            continue;
        }
        let stem_start = lower[..at].iter().rposition(|b| !b.is_ascii_alphabetic()).map_or(0, |p| p + 1);
        let token = &ua[stem_start..at + 3];
        let stem_len = at - stem_start;
        let all_caps = !token.iter().any(u8::is_ascii_lowercase);
        if lower.get(at + 3) == Some(&b'/') || stem_len == 0 || (stem_len >= 3 && !all_caps) {
            return true;
        }
    }
    false
}

/// First occurrence of `needle` (non-empty): a byte scan for its first byte,
/// then a comparison only there.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(i) = hay.get(from..)?.iter().position(|&b| b == first) {
        let at = from + i;
        if hay.get(at + 1..at + needle.len()).is_some_and(|w| w == rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Attack tools named in the UA.
pub(super) fn scanner(f: &Flags) -> bool {
    f.has(flag::SCANNER)
}

/// The UA starts with an HTTP library's product token.
pub(super) fn http_library(f: &Flags) -> bool {
    f.has(flag::HTTP_LIBRARY)
}

/// Generic evidence of automation, with the class it suggests.
pub(super) fn automation(f: &Flags, ua: &[u8], lower: &[u8]) -> Option<BotClass> {
    if f.has(flag::MONITORING) {
        Some(BotClass::Monitoring)
    } else if f.has(flag::AUTOMATION) || bot_suffix(ua, lower) || compatible_non_browser(lower) {
        Some(BotClass::OtherBot)
    } else {
        None
    }
}

/// Positive browser evidence: a platform comment with an engine or product
/// token, Opera's or a phone's grammar, a TV profile, a handset model.
pub(super) fn browser(f: &Flags, lower: &[u8]) -> bool {
    if f.has(flag::PLATFORM) && f.has(flag::ENGINE | flag::PRODUCT) {
        if let Some((start, end)) = first_comment(lower) {
            if platform_word(&lower[start..end]) {
                return true;
            }
        }
    }
    let spaced_mozilla = lower.starts_with(b"mozilla 5.0 (") || lower.starts_with(b"mozilla50 (");
    lower.starts_with(b"opera/")
        || reduced_platform_only(lower)
        || (spaced_mozilla && f.has(flag::PLATFORM))
        || f.has(flag::PHONE | flag::HANDSET)
}
