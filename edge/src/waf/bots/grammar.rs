//! The User-Agent grammar: positive evidence of a browser, and generic evidence
//! of automation that holds for bots no list has seen yet.
//!
//! A browser UA is `Mozilla/5.0 (<platform>) <engine>/<version> <product>/<version>`
//! (or a phone's `Profile/MIDP-… Configuration/CLDC-…`, Opera's `Opera/9.80 (…)
//! Presto/…`, a TV's `HbbTV/…`); in-app browsers and WebViews keep that grammar
//! and add their own token. Automation shows itself by vocabulary (`crawl`,
//! `spider`, `…bot/`), a contact URL, or a `compatible;` comment naming
//! something that is not a browser. All matching runs on the lowercased UA
//! (Unicode off: small automata, nothing large in the wasm).

use std::sync::OnceLock;

use regex::bytes::{Regex, RegexSet};

use super::BotClass;

fn lazy(cell: &'static OnceLock<Option<Regex>>, pattern: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(&format!("(?-u){pattern}")).ok()).as_ref()
}

/// A vocabulary: its pattern (for [`Flags`], one pass over the whole UA) and
/// a function for parts of a UA (a comment, a matched token).
macro_rules! vocabulary {
    ($vis:vis $name:ident, $konst:ident, $pattern:expr) => {
        const $konst: &str = $pattern;
        #[allow(dead_code)]
        $vis fn $name(lower: &[u8]) -> bool {
            static CELL: OnceLock<Option<Regex>> = OnceLock::new();
            lazy(&CELL, $pattern).is_some_and(|r| r.is_match(lower))
        }
    };
}

// Attack tools, as whole words (`vega/`, not the Vega phone).
vocabulary!(
    scanner_word, SCANNER_WORD,
    r"(?:^|[^a-z0-9])(?:sqlmap|nikto|nuclei|nmap|masscan|zgrab|gobuster|dirbuster|dirb/|wfuzz|ffuf|fuzz faster u fool|feroxbuster|acunetix|netsparker|burp(?:suite| collaborator)|openvas|nessus|whatweb|wpscan|jaeles|arachni|w3af|skipfish|hydra/|commix|xsstrike|gotestwaf|owasp zap|zaproxy|appscan|qualys|interactsh|joomscan|droopescan|havij|paros/|webinspect|vega/|zmeu|morfeus)(?:$|[^a-z])"
);

// Programmatic HTTP clients: the UA starts with the library's product token.
vocabulary!(
    http_library_prefix, HTTP_LIBRARY_PREFIX,
    r"^(?:curl|libcurl|pycurl|wget|python-requests|python-urllib\d?|python-httpx|python|aiohttp|httpx|urllib3?|httplib2|mechanize|go-http-client|go|okhttp|java|apache-httpclient|jakarta commons-httpclient|libwww-perl|lwp::[a-z]+|axios|node-fetch|node|undici|got|ky|superagent|needle|guzzlehttp|php|ruby|faraday|http\.rb|typhoeus|rest-client|httpie|postmanruntime|insomnia|restsharp|dart|reqwest|hyper|ureq|isahc|winhttp|powershell|[a-z.-]*httpclient|scrapy|http_request2|cpp-httplib|deno|bun|aws-sdk-[a-z]+|botocore|boto3|google-api-[a-z]+-client|azure-[a-z-]+)(?:[/ -]|$)"
);

// Words only automation puts in a UA. `monitoring` ones get their own class.
vocabulary!(
    monitoring_word, MONITORING_WORD,
    r"monitor|uptime|pingdom|statuscake|site24x7|synthetic|healthcheck|health-check|checker|validator|linkcheck"
);
vocabulary!(
    pub(super) automation_word, AUTOMATION_WORD,
    r"robot|crawl|spider|scrap(?:e|er|ing)|slurp|fetch(?:er)?\b|archiv(?:e|er)r?\b|index(?:er|ing)\b|harvest|sitemap|preview|headless|phantomjs|puppeteer|playwright|selenium|webdriver|lighthouse|pagespeed|siteaudit|scanner|probe|survey|analy[sz]er|extractor|collector|downloader|feed\b|agent\b|inspector|httpclient|rss|reader|aggregator|parser|httrack|https?://|\+www\.|\(www\."
);

// Platform comment tokens: operating systems and device classes.
vocabulary!(
    platform_word, PLATFORM_WORD,
    r"windows|macintosh|mac os|iphone|ipad|ipod|android|linux|x11|cros|blackberry|bb10|symbian|series ?[46]0|s60|kaios|tizen|webos|web0s|smart-?tv|playstation|nintendo|xbox|j2me|midp|mobile|tablet|meego|maemo|bada|sailfish|harmonyos|freebsd|openbsd|netbsd|sunos|beos|haiku|palm|wap|brew|kindle|silk|roku|appletv|crkey|viera|netcast|bravia|hbbtv|sonyericsson|nokia"
);

// Rendering engines.
vocabulary!(
    engine_token, ENGINE_TOKEN,
    r"applewebkit[/ ]\d|gecko/\d|\) gecko|like gecko|khtml|trident/\d|presto/\d|edgehtml|goanna/\d|netfront|obigo|up\.browser|openwave|msie \d|opera mini|ucweb|ucbrowser|teashark|polaris|jasmine|dolfin|semc-browser|nokia[a-z]*browser|s40ovibrowser"
);

// Browser products with a version (`Firefox/125.0`, `Instagram 250.0`).
vocabulary!(
    product_token, PRODUCT_TOKEN,
    r"\b(?:chrome|crios|chromium|firefox|fxios|safari|version|edg|edge|edga|edgios|opr|opera|opios|samsungbrowser|yabrowser|vivaldi|brave|silk|mobile|msie|iemobile|seamonkey|camino|netscape|konqueror|epiphany|midori|falkon|palemoon|waterfox|iceweasel|k-meleon|thunderbird|maxthon|qqbrowser|mqqbrowser|baidubrowser|miuibrowser|huaweibrowser|heytapbrowser|puffin|whale|duckduckgo|focus|instagram|fban|fbav|line|micromessenger|weibo|snapchat|twitter|pinterest|gsa|electron|dolphin|tizenbrowser|nintendobrowser|crkey|smarttv|coc_coc_browser|kiwi|lynx|links|elinks|w3m|netsurf|dillo)[/ ]?\d"
);

// Feature phones and their WAP/J2ME browsers.
vocabulary!(
    phone_token, PHONE_TOKEN,
    r"profile/midp|configuration/cldc|up\.browser|up\.link|mmp/\d|obigo|netfront|docomo/|kddi-|j-phone/|vodafone/|softbank/|opera mini|ucweb|ucbrowser|semc-browser|browser/|wap2\.0|/wap1\.|hbbtv/\d"
);

// Handset vendors whose phones send a bare model (`SAMSUNG-SGH-X660V`, `LG CU915`):
// the whole UA is the vendor and a model.
vocabulary!(
    handset_model, HANDSET_MODEL,
    r"^(?:samsung|sec-|sgh|nokia|sonyericsson|sie-|mot-|motorola|lg[- ]|lge|alcatel|htc|zte|huawei|docomo|kddi|sharp|sanyo|panasonic|philips|sagem|benq|amoi|blackberry|kyocera|audiovox|lenovo|pantech|micromax|karbonn|spice|lava|intex|tecno|itel|gionee|coolpad|asus|acer|toshiba|i-mobile)[a-z0-9 ._/+-]*$"
);

// A reduced UA that is only a desktop or phone platform (`Mozilla/5.0 (Windows NT 10.0; Win64; x64)`).
vocabulary!(
    reduced_platform_only, REDUCED_PLATFORM_ONLY,
    r"^mozilla/5\.0 \((?:windows nt \d|macintosh; |x11; |linux; android \d|iphone; |ipad; )[^)]*\)$"
);

/// Which vocabularies occur in a whole (lowercased) UA: one pass of one
/// automaton instead of one per vocabulary.
pub(super) struct Flags {
    scanner: bool,
    http_library: bool,
    monitoring: bool,
    automation: bool,
    platform: bool,
    engine: bool,
    product: bool,
    phone: bool,
    handset: bool,
    reduced: bool,
}

impl Flags {
    pub(super) fn of(lower: &[u8]) -> Flags {
        const ALL: [&str; 10] = [SCANNER_WORD, HTTP_LIBRARY_PREFIX, MONITORING_WORD, AUTOMATION_WORD, PLATFORM_WORD, ENGINE_TOKEN, PRODUCT_TOKEN, PHONE_TOKEN, HANDSET_MODEL, REDUCED_PLATFORM_ONLY];
        static SET: OnceLock<Option<RegexSet>> = OnceLock::new();
        let set = SET.get_or_init(|| RegexSet::new(ALL.iter().map(|p| format!("(?-u){p}"))).ok());
        let m = set.as_ref().map(|s| s.matches(lower));
        let on = |i: usize| m.as_ref().is_some_and(|m| m.matched(i));
        Flags {
            scanner: on(0),
            http_library: on(1),
            monitoring: on(2),
            automation: on(3),
            platform: on(4),
            engine: on(5),
            product: on(6),
            phone: on(7),
            handset: on(8),
            reduced: on(9),
        }
    }
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

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Attack tools named in the UA.
pub(super) fn scanner(f: &Flags) -> bool {
    f.scanner
}

/// The UA starts with an HTTP library's product token.
pub(super) fn http_library(f: &Flags) -> bool {
    f.http_library
}

/// Generic evidence of automation, with the class it suggests.
pub(super) fn automation(f: &Flags, ua: &[u8], lower: &[u8]) -> Option<BotClass> {
    if f.monitoring {
        Some(BotClass::Monitoring)
    } else if f.automation || bot_suffix(ua, lower) || compatible_non_browser(lower) {
        Some(BotClass::OtherBot)
    } else {
        None
    }
}

/// Positive browser evidence: a platform comment with an engine or product
/// token, Opera's or a phone's grammar, a TV profile, a handset model.
pub(super) fn browser(f: &Flags, lower: &[u8]) -> bool {
    if f.platform && (f.engine || f.product) {
        if let Some((start, end)) = first_comment(lower) {
            if platform_word(&lower[start..end]) {
                return true;
            }
        }
    }
    let spaced_mozilla = lower.starts_with(b"mozilla 5.0 (") || lower.starts_with(b"mozilla50 (");
    lower.starts_with(b"opera/") || f.reduced || (spaced_mozilla && f.platform) || f.phone || f.handset
}
