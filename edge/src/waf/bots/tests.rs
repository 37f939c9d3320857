use super::*;

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

fn class(ua: &str) -> BotClass {
    classify_user_agent(ua)
}

#[test]
fn declared_bots_tools_and_libraries() {
    assert_eq!(class(""), BotClass::Empty);
    assert_eq!(class("   "), BotClass::Empty);
    assert_eq!(class("sqlmap/1.7 (https://sqlmap.org)"), BotClass::Scanner);
    assert_eq!(class("Nuclei - Open-source project (github.com/projectdiscovery/nuclei)"), BotClass::Scanner);
    assert_eq!(class("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"), BotClass::SearchEngine);
    assert_eq!(class("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"), BotClass::AiCrawler);
    assert_eq!(class("curl/8.5.0"), BotClass::HttpLibrary);
    assert_eq!(class("python-httpx/0.27.0"), BotClass::HttpLibrary);
    assert_eq!(class("my-thing"), BotClass::Unknown);
}

/// Bots no list names: the grammar alone recognises them.
#[test]
fn unlisted_bots_by_grammar() {
    for ua in [
        "Mozilla/5.0 (compatible; NovelCrawler/0.3; +https://novel.example/about)",
        "AcmeSpider/2.0",
        "WidgetFetcher/1.1 (contact: ops@example.com)",
        "Mozilla/5.0 (compatible; Frobnicator/4.2)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36",
        "ZorgBot/1.0",
        "Mozilla/5.0 (Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko; compatible; Acme-Agent/1.0)",
    ] {
        assert_ne!(class(ua), BotClass::Browser, "{ua}");
        assert_ne!(class(ua), BotClass::Unknown, "{ua}");
    }
    assert_eq!(class("Mozilla/5.0 (compatible; UptimeWatch/1.0)"), BotClass::Monitoring);
}

/// In-app browsers, WebViews, TVs, consoles, Electron, old phones: browsers.
#[test]
fn unusual_browsers_are_browsers() {
    for ua in [
        CHROME,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 250.0.0.21.109 (iPhone14,2; iOS 16_0; en_US; en; scale=3.00; 1170x2532; 394071253)",
        "Mozilla/5.0 (Linux; Android 12; SM-G991B Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/108.0.5359.128 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/397.0.0.23.404;]",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.33.73 Chrome/114.0.5735.134 Electron/25.2.0 Safari/537.36",
        "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 85.0.4183.93/6.0 TV Safari/537.36",
        "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15",
        "Mozilla/5.0 (Linux; U; Android 2.3.6; en-us; GT-S5830 Build/GINGERBREAD) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1",
        "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)",
        "Opera/9.80 (J2ME/MIDP; Opera Mini/4.2.14912/22.387; U; en) Presto/2.5.25 Version/10.54",
        "Nokia6650x/1.0 Profile/MIDP-1.0 Configuration/CLDC-1.0",
        "HbbTV/1.2.1 (;Panasonic;VIERA 2013;3.672;4101-0003 0002-0000;)",
        "Mozilla/5.0 (Linux; Android 4.2.2; CUBOT GT72E Build/JDQ39) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/30.0.1599.92 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 4.0.3; Vega Build/IML74K) AppleWebKit/535.19 (KHTML, like Gecko) Chrome/18.0.1025.166 Safari/535.19",
        "Mozilla/5.0 (Linux; Android 4.1.1; HTC Butterfly Build/JRO03C) AppleWebKit/535.19 (KHTML, like Gecko) Chrome/18.0.1025.166 Mobile Safari/535.19",
    ] {
        assert_eq!(class(ua), BotClass::Browser, "{ua}");
    }
}

/// Native apps and bare strings say neither.
#[test]
fn apps_and_strings_are_unknown() {
    for ua in ["Dalvik/2.1.0 (Linux; U; Android 11; Pixel 5 Build/RQ3A.210805.001.A1)", "Spotify/8.8.0 iOS/16.0 (iPhone14,2)", "hello"] {
        assert_eq!(class(ua), BotClass::Unknown, "{ua}");
    }
}

#[test]
fn a_classifier_from_rows_uses_them_and_the_grammar() {
    let c = UaClassifier::new(&[("Frobnic", BotClass::SearchEngine)]).unwrap();
    assert_eq!(c.classify("Frobnic/1.0"), BotClass::SearchEngine);
    assert_eq!(c.classify(CHROME), BotClass::Browser);
    // Not in the rows, still a bot by its grammar.
    assert_eq!(c.classify("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"), BotClass::OtherBot);
    assert!(UaClassifier::new(&[("(", BotClass::Seo)]).is_err());
}

mod junk {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Random printable junk carries no browser grammar.
        #[test]
        fn random_strings_are_never_browsers(s in "[ -~]{0,200}") {
            prop_assert_ne!(classify_user_agent(&s), BotClass::Browser);
        }

        /// Junk shaped like a UA (product tokens, a comment) still is not one
        /// without a platform and an engine.
        #[test]
        fn token_soup_is_never_a_browser(name in "[A-Za-z]{1,12}", v in "[0-9]{1,3}(\\.[0-9]{1,3}){0,2}", comment in "[A-Za-z0-9 ;:._-]{0,40}") {
            let ua = format!("{name}/{v} ({comment}) {name}/{v}");
            // A feature-phone browser's own token (`MMP/2`, `NetFront`,
            // `words::PHONE`) is that browser, not soup.
            let lower = ua.to_ascii_lowercase();
            prop_assume!(!words::PHONE.iter().any(|w| lower.contains(w.trim_end_matches('#'))));
            prop_assert_ne!(classify_user_agent(&ua), BotClass::Browser);
        }
    }
}
