//! The grammar's vocabularies as word lists, found in one pass over a UA by a
//! trigram index (like the crawler table's): a handful of table lookups per
//! byte, where ten regex automata built at the bundle's size-optimised
//! profile cost several microseconds per UA.
//!
//! A word is lowercase text with edge marks: `^word` only at the start of the
//! text, `<word` not inside a word, `word>` not followed by a word character,
//! `word|` not followed by a letter, `word#` followed by a digit (after at most
//! one `/` or space), `word~` followed by `/`, space, `-`, a digit or the end,
//! `word$` followed only by model characters to the end.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::OnceLock;

use super::literals::TrigramHasher;

/// One bit per vocabulary.
pub(super) mod flag {
    pub const SCANNER: u16 = 1;
    pub const HTTP_LIBRARY: u16 = 1 << 1;
    pub const MONITORING: u16 = 1 << 2;
    pub const AUTOMATION: u16 = 1 << 3;
    pub const PLATFORM: u16 = 1 << 4;
    pub const ENGINE: u16 = 1 << 5;
    pub const PRODUCT: u16 = 1 << 6;
    pub const PHONE: u16 = 1 << 7;
    pub const HANDSET: u16 = 1 << 8;
}

/// Attack tools, as whole words (`vega/`, not the Vega phone).
const SCANNER: &[&str] = &[
    "<sqlmap|", "<nikto|", "<nuclei|", "<nmap|", "<masscan|", "<zgrab|", "<gobuster|", "<dirbuster|", "<dirb/", "<wfuzz|", "<ffuf|",
    "<fuzz faster u fool", "<feroxbuster|", "<acunetix|", "<netsparker|", "<burpsuite", "<burp collaborator", "<openvas|", "<nessus|",
    "<whatweb|", "<wpscan|", "<jaeles|", "<arachni|", "<w3af|", "<skipfish|", "<hydra/", "<commix|", "<xsstrike|", "<gotestwaf|",
    "<owasp zap", "<zaproxy|", "<appscan|", "<qualys|", "<interactsh|", "<joomscan|", "<droopescan|", "<havij|", "<paros/",
    "<webinspect|", "<vega/", "<zmeu|", "<morfeus|",
];

/// Programmatic HTTP clients: the UA starts with the library's product token.
const HTTP_LIBRARY: &[&str] = &[
    "^curl~", "^libcurl~", "^pycurl~", "^wget~", "^python-requests~", "^python-urllib~", "^python-httpx~", "^python~", "^aiohttp~",
    "^httpx~", "^urllib~", "^httplib2~", "^mechanize~", "^go-http-client~", "^go/", "^okhttp~", "^java~", "^apache-httpclient~",
    "^jakarta commons-httpclient~", "^libwww-perl~", "^lwp::", "^axios~", "^node-fetch~", "^node~", "^undici~", "^got~", "^ky/",
    "^superagent~", "^needle~", "^guzzlehttp~", "^php~", "^ruby~", "^faraday~", "^http.rb~", "^typhoeus~", "^rest-client~",
    "^httpie~", "^postmanruntime~", "^insomnia~", "^restsharp~", "^dart~", "^reqwest~", "^hyper~", "^ureq~", "^isahc~", "^winhttp~",
    "^powershell~", "^scrapy~", "^http_request2~", "^cpp-httplib~", "^deno~", "^bun~", "^aws-sdk-", "^botocore~", "^boto3~",
    "^google-api-", "^azure-",
];

/// Words only monitoring puts in a UA.
const MONITORING: &[&str] =
    &["monitor", "uptime", "pingdom", "statuscake", "site24x7", "synthetic", "healthcheck", "health-check", "checker", "validator", "linkcheck"];

/// Words only automation puts in a UA, and contact URLs.
const AUTOMATION: &[&str] = &[
    "robot", "crawl", "spider", "scrape", "scraping", "slurp", "fetch>", "fetcher>", "archive>", "archiver>", "indexer>", "indexing>",
    "harvest", "sitemap", "preview", "headless", "phantomjs", "puppeteer", "playwright", "selenium", "webdriver", "lighthouse",
    "pagespeed", "siteaudit", "scanner", "probe", "survey", "analyser", "analyzer", "extractor", "collector", "downloader", "feed>",
    "agent>", "inspector", "httpclient", "rss", "reader", "aggregator", "parser", "httrack", "http://", "https://", "+www.", "(www.",
];

/// Platform comment tokens: operating systems and device classes.
const PLATFORM: &[&str] = &[
    "windows", "macintosh", "mac os", "iphone", "ipad", "ipod", "android", "linux", "x11", "cros", "blackberry", "bb10", "symbian",
    "series40", "series 40", "series60", "series 60", "s60", "kaios", "tizen", "webos", "web0s", "smart-tv", "smarttv", "playstation",
    "nintendo", "xbox", "j2me", "midp", "mobile", "tablet", "meego", "maemo", "bada", "sailfish", "harmonyos", "freebsd", "openbsd",
    "netbsd", "sunos", "beos", "haiku", "palm", "wap", "brew", "kindle", "silk", "roku", "appletv", "crkey", "viera", "netcast",
    "bravia", "hbbtv", "sonyericsson", "nokia",
];

/// Rendering engines.
const ENGINE: &[&str] = &[
    "applewebkit/#", "applewebkit #", "gecko/#", ") gecko", "like gecko", "khtml", "trident/#", "presto/#", "edgehtml", "goanna/#",
    "netfront", "obigo", "up.browser", "openwave", "msie #", "opera mini", "ucweb", "ucbrowser", "teashark", "polaris", "jasmine",
    "dolfin", "semc-browser", "nokiabrowser", "s40ovibrowser",
];

/// Browser products with a version (`Firefox/125.0`, `Instagram 250.0`).
const PRODUCT: &[&str] = &[
    "<chrome#", "<crios#", "<chromium#", "<firefox#", "<fxios#", "<safari#", "<version#", "<edg#", "<edge#", "<edga#", "<edgios#",
    "<opr#", "<opera#", "<opios#", "<samsungbrowser#", "<yabrowser#", "<vivaldi#", "<brave#", "<silk#", "<mobile#", "<msie#",
    "<iemobile#", "<seamonkey#", "<camino#", "<netscape#", "<konqueror#", "<epiphany#", "<midori#", "<falkon#", "<palemoon#",
    "<waterfox#", "<iceweasel#", "<k-meleon#", "<thunderbird#", "<maxthon#", "<qqbrowser#", "<mqqbrowser#", "<baidubrowser#",
    "<miuibrowser#", "<huaweibrowser#", "<heytapbrowser#", "<puffin#", "<whale#", "<duckduckgo#", "<focus#", "<instagram#",
    "<fban#", "<fbav#", "<line#", "<micromessenger#", "<weibo#", "<snapchat#", "<twitter#", "<pinterest#", "<gsa#", "<electron#",
    "<dolphin#", "<tizenbrowser#", "<nintendobrowser#", "<crkey#", "<smarttv#", "<coc_coc_browser#", "<kiwi#", "<lynx#", "<links#",
    "<elinks#", "<w3m#", "<netsurf#", "<dillo#",
];

/// Feature phones and their WAP/J2ME browsers, TV profiles.
pub(super) const PHONE: &[&str] = &[
    "profile/midp", "configuration/cldc", "up.browser", "up.link", "mmp/#", "obigo", "netfront", "docomo/", "kddi-", "j-phone/",
    "vodafone/", "softbank/", "opera mini", "ucweb", "ucbrowser", "semc-browser", "browser/", "wap2.0", "/wap1.", "hbbtv/#",
];

/// Handset vendors whose phones send a bare model (`SAMSUNG-SGH-X660V`, `LG CU915`):
/// the whole UA is the vendor and a model.
const HANDSET: &[&str] = &[
    "^samsung$", "^sec-$", "^sgh$", "^nokia$", "^sonyericsson$", "^sie-$", "^mot-$", "^motorola$", "^lg-$", "^lg $", "^lge$",
    "^alcatel$", "^htc$", "^zte$", "^huawei$", "^docomo$", "^kddi$", "^sharp$", "^sanyo$", "^panasonic$", "^philips$", "^sagem$",
    "^benq$", "^amoi$", "^blackberry$", "^kyocera$", "^audiovox$", "^lenovo$", "^pantech$", "^micromax$", "^karbonn$", "^spice$",
    "^lava$", "^intex$", "^tecno$", "^itel$", "^gionee$", "^coolpad$", "^asus$", "^acer$", "^toshiba$", "^i-mobile$",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum After {
    Any,
    /// Not followed by `[a-z0-9_]`.
    WordEnd,
    /// Not followed by a letter.
    NotLetter,
    /// A digit, after at most one `/` or space.
    Digit,
    /// `/`, space, `-`, a digit or the end.
    Separator,
    /// Only `[a-z0-9 ._/+-]` to the end.
    Model,
}

struct Word {
    text: Box<[u8]>,
    flag: u16,
    at_start: bool,
    word_start: bool,
    after: After,
}

impl Word {
    fn parse(spec: &str, flag: u16) -> Word {
        let at_start = spec.starts_with('^');
        let word_start = spec.starts_with('<');
        let body = spec.trim_start_matches(['^', '<']);
        let (body, after) = match body.as_bytes().last() {
            Some(b'>') => (&body[..body.len() - 1], After::WordEnd),
            Some(b'|') => (&body[..body.len() - 1], After::NotLetter),
            Some(b'#') => (&body[..body.len() - 1], After::Digit),
            Some(b'~') => (&body[..body.len() - 1], After::Separator),
            Some(b'$') => (&body[..body.len() - 1], After::Model),
            _ => (body, After::Any),
        };
        Word { text: body.as_bytes().into(), flag, at_start, word_start, after }
    }

    /// Whether the word, found at `pos` of `text`, satisfies its marks.
    fn fits(&self, text: &[u8], pos: usize) -> bool {
        if self.at_start && pos != 0 {
            return false;
        }
        if self.word_start && pos > 0 && text[pos - 1].is_ascii_alphanumeric() {
            return false;
        }
        let rest = &text[pos + self.text.len()..];
        match self.after {
            After::Any => true,
            After::WordEnd => rest.first().is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_')),
            After::NotLetter => rest.first().is_none_or(|b| !b.is_ascii_lowercase()),
            After::Digit => match rest {
                [b'/' | b' ', d, ..] if d.is_ascii_digit() => true,
                [d, ..] => d.is_ascii_digit(),
                [] => false,
            },
            After::Separator => rest.first().is_none_or(|b| matches!(b, b'/' | b' ' | b'-') || b.is_ascii_digit()),
            After::Model => rest.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b' ' | b'.' | b'_' | b'/' | b'+' | b'-')),
        }
    }
}

/// Words shorter than this are spelled with their edge (`go/`, `ky/`).
const MIN_WORD: usize = 3;

struct Index {
    words: Vec<Word>,
    by_trigram: HashMap<u32, Vec<u16>, BuildHasherDefault<TrigramHasher>>,
    bigrams: Box<[u64; 1024]>,
}

fn trigram(b: &[u8]) -> u32 {
    u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2])
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let lists: [(&[&str], u16); 9] = [
            (SCANNER, flag::SCANNER),
            (HTTP_LIBRARY, flag::HTTP_LIBRARY),
            (MONITORING, flag::MONITORING),
            (AUTOMATION, flag::AUTOMATION),
            (PLATFORM, flag::PLATFORM),
            (ENGINE, flag::ENGINE),
            (PRODUCT, flag::PRODUCT),
            (PHONE, flag::PHONE),
            (HANDSET, flag::HANDSET),
        ];
        let words: Vec<Word> = lists.iter().flat_map(|(list, f)| list.iter().map(|w| Word::parse(w, *f))).filter(|w| w.text.len() >= MIN_WORD).collect();
        let mut by_trigram: HashMap<u32, Vec<u16>, BuildHasherDefault<TrigramHasher>> = HashMap::default();
        let mut bigrams = Box::new([0u64; 1024]);
        for (i, w) in words.iter().enumerate() {
            let bigram = usize::from(w.text[0]) << 8 | usize::from(w.text[1]);
            bigrams[bigram / 64] |= 1 << (bigram % 64);
            by_trigram.entry(trigram(&w.text)).or_default().push(i as u16);
        }
        Index { words, by_trigram, bigrams }
    })
}

/// The vocabularies (see [`flag`]) whose words occur in `lower`.
pub(super) fn scan(lower: &[u8]) -> u16 {
    let ix = index();
    let mut found = 0;
    for pos in 0..lower.len().saturating_sub(MIN_WORD - 1) {
        let bigram = usize::from(lower[pos]) << 8 | usize::from(lower[pos + 1]);
        if ix.bigrams[bigram / 64] & (1 << (bigram % 64)) == 0 {
            continue;
        }
        let Some(list) = ix.by_trigram.get(&trigram(&lower[pos..])) else { continue };
        for &i in list {
            let Some(w) = ix.words.get(usize::from(i)) else { continue };
            if (found & w.flag) == 0 && lower[pos..].starts_with(&w.text) && w.fits(lower, pos) {
                found |= w.flag;
            }
        }
    }
    found
}
