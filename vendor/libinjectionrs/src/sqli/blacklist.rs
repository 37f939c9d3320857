// SQL injection blacklist checker - matches C implementation exactly

use super::sqli_data;

/// Check if a fingerprint is blacklisted
/// This matches libinjection_sqli_blacklist from the C version
pub fn is_blacklisted(fingerprint: &str) -> bool {
    // Match the C version: convert v0 fingerprint to v1 format
    // v0: up to 5 chars, mixed case  
    // v1: '0' prefix, up to 5 more chars, upper case
    
    if fingerprint.is_empty() {
        return false;
    }
    
    // Build the v1 fingerprint with '0' prefix and uppercase, on the stack
    // (edge patch: no String per check).
    let mut fp2 = [0u8; 8];
    fp2[0] = b'0';
    let mut len = 1;
    for &b in fingerprint.as_bytes() {
        if len == fp2.len() {
            return false;
        }
        fp2[len] = b.to_ascii_uppercase();
        len += 1;
    }

    // Check if this fingerprint is in the table's fingerprints (type 'F')
    sqli_data::is_fingerprint(&fp2[..len])
}
#[cfg(test)]
mod tests {
    use super::sqli_data::is_fingerprint;
    use std::collections::HashSet;

    /// The trie holds exactly the table's fingerprints (edge patch): every
    /// line of `fingerprints.txt`, and none of its one-symbol neighbours that
    /// the table lacks.
    #[test]
    fn trie_is_the_fingerprint_table() {
        let table: HashSet<&str> = include_str!("fingerprints.txt").lines().collect();
        assert_eq!(table.len(), 8367);
        let symbols = "&(),1:;ABCEFKNOSTUVXvsnkf";
        let mut checked = 0;
        for fp in &table {
            assert!(is_fingerprint(fp.as_bytes()), "{fp}");
            let mut near: Vec<String> = symbols.chars().map(|c| format!("{fp}{c}")).collect();
            near.push(fp[..fp.len() - 1].to_string());
            near.push(fp[1..].to_string());
            for n in near {
                assert_eq!(is_fingerprint(n.as_bytes()), table.contains(n.as_str()), "{n}");
                checked += 1;
            }
        }
        assert!(checked > 200_000);
        assert!(!is_fingerprint(b""));
        assert!(!is_fingerprint(b"0"));
    }

    /// Every keyword of the packed table is found, in any case, with its
    /// type, and words next to them are not (edge patch).
    #[test]
    fn packed_keywords_are_the_table() {
        use super::sqli_data::lookup_word;
        use crate::sqli::TokenType;
        let lines: Vec<(&str, &str)> = include_str!("keywords.txt").lines().filter_map(|l| l.split_once('\t')).collect();
        assert_eq!(lines.len(), 985);
        for (word, kind) in &lines {
            let want = match *kind {
                "k" => TokenType::Keyword,
                "f" => TokenType::Function,
                "U" => TokenType::Union,
                "E" => TokenType::Expression,
                "T" => TokenType::Tsql,
                "t" => TokenType::SqlType,
                "o" => TokenType::Operator,
                "&" => TokenType::LogicOperator,
                "v" => TokenType::Variable,
                "1" => TokenType::Number,
                "A" => TokenType::Collate,
                "B" => TokenType::Group,
                "n" => TokenType::Bareword,
                other => panic!("type {other}"),
            };
            assert_eq!(lookup_word(word), want, "{word}");
            assert_eq!(lookup_word(&word.to_ascii_lowercase()), want, "{word}");
            let longer = format!("{word}Q");
            if !lines.iter().any(|(w, _)| *w == longer) {
                assert_eq!(lookup_word(&longer), TokenType::Bareword, "{longer}");
            }
        }
        assert_eq!(lookup_word(""), TokenType::Bareword);
        assert_eq!(lookup_word("prose"), TokenType::Bareword);
    }
}
