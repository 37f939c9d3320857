//! Transformation functions for ModSecurity.

pub(crate) mod decode;
mod encode;
mod normalize;
mod pipeline;

pub use decode::*;
pub use encode::*;
pub use normalize::*;
pub use pipeline::TransformationPipeline;

use crate::error::{Error, Result};
use std::borrow::Cow;
use std::sync::Arc;

/// Trait for transformations.
pub trait Transformation: Send + Sync {
    /// Apply the transformation.
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str>;

    /// Get the transformation name.
    fn name(&self) -> &'static str;

    /// `false` only if `transform(input)` is certainly `input` unchanged: a
    /// cheap scan (is there a `%` to decode?) that lets a pipeline skip the
    /// copy most transformations make of every value (edge patch).
    fn may_change(&self, _input: &str) -> bool {
        true
    }
}

/// Create a transformation from a name.
pub fn create_transformation(name: &str) -> Result<Arc<dyn Transformation>> {
    match name.to_lowercase().as_str() {
        // Decoding
        "urldecode" => Ok(Arc::new(UrlDecode)),
        "urldecodeuni" => Ok(Arc::new(UrlDecodeUni)),
        "base64decode" => Ok(Arc::new(Base64Decode)),
        "base64decodeext" => Ok(Arc::new(Base64DecodeExt)),
        "hexdecode" => Ok(Arc::new(HexDecode)),
        "htmlentitydecode" => Ok(Arc::new(HtmlEntityDecode)),
        "jsdecode" => Ok(Arc::new(JsDecode)),
        "cssdecode" => Ok(Arc::new(CssDecode)),

        // Encoding
        "base64encode" => Ok(Arc::new(Base64Encode)),
        "hexencode" => Ok(Arc::new(HexEncode)),
        "urlencode" => Ok(Arc::new(UrlEncode)),

        // Normalization
        "lowercase" => Ok(Arc::new(Lowercase)),
        "uppercase" => Ok(Arc::new(Uppercase)),
        "compresswhitespace" => Ok(Arc::new(CompressWhitespace)),
        "removewhitespace" => Ok(Arc::new(RemoveWhitespace)),
        "removenulls" => Ok(Arc::new(RemoveNulls)),
        "replacenulls" => Ok(Arc::new(ReplaceNulls)),
        "trim" => Ok(Arc::new(Trim)),
        "trimleft" => Ok(Arc::new(TrimLeft)),
        "trimright" => Ok(Arc::new(TrimRight)),
        // CRS uses the British spelling (normalise*); accept both.
        "normalizepath" | "normalisepath" => Ok(Arc::new(NormalizePath)),
        "normalizepathwin" | "normalisepathwin" => Ok(Arc::new(NormalizePathWin)),
        "removecomments" => Ok(Arc::new(RemoveComments)),
        "replacecomments" => Ok(Arc::new(ReplaceComments)),
        "cmdline" => Ok(Arc::new(CmdLine)),
        "removecommentschar" => Ok(Arc::new(RemoveCommentsChar)),

        // Hashing
        "md5" => Ok(Arc::new(Md5)),
        "sha1" => Ok(Arc::new(Sha1)),

        // Special
        "length" => Ok(Arc::new(Length)),
        "none" => Ok(Arc::new(None_)),

        // Additional CRS transformations
        "sqlhexdecode" => Ok(Arc::new(SqlHexDecode)),
        "utf8tounicode" => Ok(Arc::new(Utf8ToUnicode)),
        "escapeseqdecode" => Ok(Arc::new(EscapeSeqDecode)),
        "parityeven7bit" | "parityodd7bit" | "parityzero7bit" => {
            Ok(Arc::new(None_)) // Placeholder - pass through
        }
        "sha256" => Ok(Arc::new(Sha256)),

        _ => Err(Error::UnknownTransformation {
            name: name.to_string(),
        }),
    }
}

/// None transformation (clears the transformation chain).
pub struct None_;

impl Transformation for None_ {
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        Cow::Borrowed(input)
    }

    fn name(&self) -> &'static str {
        "none"
    }
}

/// Length transformation (returns the length of the input).
pub struct Length;

impl Transformation for Length {
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        Cow::Owned(input.len().to_string())
    }

    fn name(&self) -> &'static str {
        "length"
    }
}

#[cfg(test)]
mod tests {
    use super::create_transformation;

    /// Strings from an alphabet rich in what transformations act on, from a
    /// fixed xorshift sequence (repeatable, no dependency).
    fn samples() -> Vec<String> {
        const ALPHABET: &[&str] = &[
            "a", "Z", "0", "9", " ", "  ", "\t", "\n", "\r", "\u{b}", "\u{c}", "\0", "%", "%2", "%41", "%u0041", "%U00e9", "+",
            "&", "&amp;", "&#x41;", "&lt", ";", "#", "\\", "\\x41", "\\u0041", "\\n", "/", "//", "/./", "/../", ".", "..", "*",
            "/*", "*/", "--", "'", "\"", "^", ",", "(", "é", "É", "€", "\u{2028}", "\u{a0}", "ſ", "x", "X", "f",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut out: Vec<String> = ALPHABET.iter().map(|s| s.to_string()).collect();
        for _ in 0..20_000 {
            let len = (next() % 8) as usize;
            out.push((0..len).map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize]).collect());
        }
        out
    }

    /// The ASCII paths of `cmdLine`, `removeWhitespace` and
    /// `compressWhitespace` are the per-`char` ones on every ASCII sample
    /// (for `compressWhitespace` down to whether the value is kept as is).
    #[test]
    fn ascii_paths_agree_with_char_paths() {
        let mut checked = 0;
        for s in samples().iter().filter(|s| s.is_ascii()) {
            assert_eq!(super::normalize::cmd_line_ascii(s).as_deref(), Some(super::normalize::cmd_line_chars(s).as_str()), "cmdLine {s:?}");
            let chars: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            assert_eq!(super::normalize::remove_ascii_space(s), chars, "removeWhitespace {s:?}");
            let (fast, slow) = (super::normalize::compress_ascii_space(s), super::normalize::compress_chars(s));
            assert_eq!(fast, slow, "compressWhitespace {s:?}");
            assert_eq!(matches!(fast, std::borrow::Cow::Borrowed(_)), matches!(slow, std::borrow::Cow::Borrowed(_)), "compressWhitespace {s:?} kept");
            checked += 1;
        }
        assert!(checked > 1000);
    }

    /// The fast path is sound: whenever `may_change` says no, the
    /// transformation really leaves the value as it is.
    #[test]
    fn may_change_is_necessary() {
        let names = [
            "urlDecode", "urlDecodeUni", "htmlEntityDecode", "jsDecode", "cssDecode", "lowercase", "compressWhitespace",
            "removeWhitespace", "removeNulls", "normalizePath", "removeComments", "replaceComments", "utf8toUnicode",
            "escapeSeqDecode", "cmdLine",
        ];
        let samples = samples();
        for name in names {
            let t = create_transformation(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut skipped = 0;
            for s in &samples {
                if !t.may_change(s) {
                    skipped += 1;
                    assert_eq!(t.transform(s), s.as_str(), "{name} changes {s:?} although may_change said no");
                }
            }
            assert!(skipped > 0, "{name}: the sample never exercised the fast path");
        }
    }
}
