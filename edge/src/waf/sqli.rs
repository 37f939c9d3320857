//! SQL injection, libinjection-style: tokenize the value as SQL three times (as-is, and
//! as if it continued a `'`- or `"`-quoted string, i.e. after a string break), then
//! classify token sequences. Generalises over spacing, comments, case and literal values
//! instead of listing payloads.

use super::rules::{rule, Category::Sqli, Rule, Severity::*};
use super::scan::{AsciiSet, Text};

static UNION_SELECT: Rule = rule("sqli-union-select", Sqli, 1, Critical);
static TAUTOLOGY: Rule = rule("sqli-tautology", Sqli, 1, Critical);
static BREAK_COMMENT: Rule = rule("sqli-string-break-comment", Sqli, 1, Critical);
static BREAK_KEYWORD: Rule = rule("sqli-string-break-keyword", Sqli, 1, Critical);
static STACKED: Rule = rule("sqli-stacked-query", Sqli, 1, Critical);
static TIME: Rule = rule("sqli-time-based", Sqli, 1, Critical);
static SELECT_EXPR: Rule = rule("sqli-select-expression", Sqli, 1, Critical);
static SCHEMA: Rule = rule("sqli-system-object", Sqli, 1, Critical);
static DECLARE: Rule = rule("sqli-declare-variable", Sqli, 1, Critical);
static ORDER_PROBE: Rule = rule("sqli-order-by-probe", Sqli, 2, Error);
static NUM_COMMENT: Rule = rule("sqli-number-comment", Sqli, 3, Warning);
static CONDITION: Rule = rule("sqli-conditional-probe", Sqli, 1, Critical);
static SQL_ONLY_FUNC: Rule = rule("sqli-sql-only-function", Sqli, 1, Critical);
static TYPE_CAST: Rule = rule("sqli-type-cast", Sqli, 1, Critical);

/// Tokens looked at per context (bounded work on huge values).
const MAX_TOKENS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    /// Quoted string; `brk` marks the synthetic one ending at the first quote (the break).
    Str {
        closed: bool,
        brk: bool,
    },
    Num,
    Word,
    Var,
    Op,
    LParen,
    RParen,
    Comma,
    Semi,
    Comment,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    t: T,
    s: &'a str,
}

// Called per byte; opt-level "z" would otherwise keep the call.
#[inline(always)]
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.') || b >= 0x80
}

/// Tokenize `s` into `out` (cleared first, so one buffer serves every context); with
/// `quote`, start inside a string delimited by that byte.
fn tokenize<'a>(s: &'a str, quote: Option<u8>, out: &mut Vec<Tok<'a>>) {
    let b = s.as_bytes();
    out.clear();
    let mut i = 0;
    let tok = |t: T, from: usize, to: usize| Tok {
        t,
        s: s.get(from..to).unwrap_or(""),
    };
    if let Some(q) = quote {
        let (end, closed) = scan_string(b, 0, q);
        out.push(tok(T::Str { closed, brk: true }, 0, end));
        i = end + usize::from(closed);
    }
    while i < b.len() && out.len() < MAX_TOKENS {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'\'' | b'"' => {
                let (end, closed) = scan_string(b, i + 1, c);
                out.push(tok(T::Str { closed, brk: false }, i + 1, end));
                i = end + usize::from(closed);
            }
            b'`' => {
                let end = b[i + 1..]
                    .iter()
                    .position(|x| *x == b'`')
                    .map_or(b.len(), |p| i + 1 + p);
                out.push(tok(T::Word, i + 1, end));
                i = (end + 1).min(b.len());
            }
            b'#' => {
                out.push(tok(T::Comment, i, i + 1));
                i = line_end(b, i);
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                out.push(tok(T::Comment, i, i + 2));
                i = line_end(b, i);
            }
            b'(' => {
                out.push(tok(T::LParen, i, i + 1));
                i += 1;
            }
            b')' => {
                out.push(tok(T::RParen, i, i + 1));
                i += 1;
            }
            b',' => {
                out.push(tok(T::Comma, i, i + 1));
                i += 1;
            }
            b';' => {
                out.push(tok(T::Semi, i, i + 1));
                i += 1;
            }
            b'@' => {
                i += 1;
                while i < b.len() && (is_word_byte(b[i]) || b[i] == b'@') {
                    i += 1;
                }
                out.push(tok(T::Var, start, i));
            }
            b'=' | b'<' | b'>' | b'!' | b'|' | b'&' | b'^' | b'+' | b'-' | b'*' | b'/' | b'%'
            | b'~' | b':' => {
                i += 1;
                while i < b.len()
                    && i - start < 3
                    && matches!(b[i], b'=' | b'<' | b'>' | b'|' | b'&' | b':')
                {
                    i += 1;
                }
                out.push(tok(T::Op, start, i));
            }
            c if is_word_byte(c) => {
                while i < b.len() && is_word_byte(b[i]) {
                    i += 1;
                }
                let w = s.get(start..i).unwrap_or("");
                out.push(Tok {
                    t: if is_number(w) { T::Num } else { T::Word },
                    s: w,
                });
            }
            _ => {
                out.push(tok(T::Other, i, i + 1));
                i += 1;
                while i < b.len() && !s.is_char_boundary(i) {
                    i += 1;
                }
            }
        }
    }
}

/// End index (exclusive) of a string body starting at `from`, and whether it closed.
/// Handles backslash escapes and doubled quotes.
fn scan_string(b: &[u8], from: usize, q: u8) -> (usize, bool) {
    let mut i = from;
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == q {
            if b.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return (i, true);
        }
        i += 1;
    }
    (b.len(), false)
}

fn line_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|c| *c == b'\n')
        .map_or(b.len(), |p| i + p)
}

fn is_number(w: &str) -> bool {
    let b = w.as_bytes();
    if b.len() > 2 && b[0] == b'0' && b[1] == b'x' {
        return b[2..].iter().all(u8::is_ascii_hexdigit);
    }
    let mut seen_e = false;
    let mut prev = b' ';
    for &c in b {
        match c {
            b'0'..=b'9' | b'.' => {}
            b'e' if !seen_e && prev.is_ascii_digit() => seen_e = true,
            _ => return false,
        }
        prev = c;
    }
    b.first().is_some_and(|c| c.is_ascii_digit() || *c == b'.') && b.iter().any(u8::is_ascii_digit)
}

fn kw(t: &Tok<'_>, words: &[&str]) -> bool {
    t.t == T::Word && words.contains(&t.s)
}

fn is_logic(t: &Tok<'_>) -> bool {
    kw(t, &["or", "and", "xor", "div"]) || (t.t == T::Op && matches!(t.s, "||" | "&&"))
}

fn is_cmp(t: &Tok<'_>) -> bool {
    (t.t == T::Op
        && matches!(
            t.s,
            "=" | "==" | "<" | ">" | "<=" | ">=" | "!=" | "<>" | "<=>" | "!<" | "!>"
        ))
        || kw(
            t,
            &[
                "like", "rlike", "regexp", "is", "in", "between", "sounds", "glob", "match",
            ],
        )
}

fn is_literal(t: &Tok<'_>) -> bool {
    matches!(t.t, T::Num | T::Str { .. })
}

/// SQL functions that show up in blind/boolean probes.
const SQL_FUNCS: &[&str] = &[
    "char",
    "chr",
    "ascii",
    "ord",
    "substring",
    "substr",
    "mid",
    "left",
    "right",
    "length",
    "len",
    "concat",
    "concat_ws",
    "group_concat",
    "version",
    "database",
    "user",
    "current_user",
    "system_user",
    "schema",
    "count",
    "extractvalue",
    "updatexml",
    "hex",
    "unhex",
    "if",
    "iif",
    "cast",
    "convert",
    "coalesce",
    "ifnull",
    "nvl",
    "instr",
    "locate",
    "elt",
    "make_set",
    "rand",
    "md5",
    "sha1",
    "bin",
    "exp",
    "floor",
    "json_extract",
    "json_depth",
    "json_keys",
    "json_length",
    "json_valid",
    "json_type",
    "row",
    "name_const",
    "load_file",
    "sleep",
    "benchmark",
    "pg_sleep",
    "db_name",
    "host_name",
    "suser_name",
    "is_srvrolemember",
    "utl_inaddr.get_host_address",
    "dbms_pipe.receive_message",
    "randomblob",
    "sqlite_version",
    "@@version",
];

const TIME_FUNCS: &[&str] = &[
    "sleep",
    "user_lock.sleep",
    "dbms_session.sleep",
    "sys.dbms_lock.sleep",
    "benchmark",
    "pg_sleep",
    "dbms_lock.sleep",
    "dbms_pipe.receive_message",
    "randomblob",
    "pg_sleep_for",
];

/// Functions that exist only in SQL dialects and are the tools of error-based and
/// blind extraction; calling one with arguments is SQL whatever surrounds it.
const SQL_ONLY_FUNCS: &[&str] = &[
    "extractvalue",
    "updatexml",
    "make_set",
    "elt",
    "name_const",
    "gtid_subset",
    "gtid_subtract",
    "regexp_substring",
    "crypt_key",
    "raise_error",
    "sys_context",
    "xmltype",
    "dbms_pipe.receive_message",
    "dbms_utility.sqlid_to_sqlhash",
    "utl_inaddr.get_host_address",
    "utl_inaddr.get_host_name",
    "ctxsys.drithsx.sn",
    "dbms_xdb_version.checkin",
    "json_keys",
    "group_concat",
    "concat_ws",
    "load_file",
    "pg_sleep",
    "sqlite_version",
    "randomblob",
    "to_number",
    "convert_from",
    "lo_import",
    "lo_export",
    "lo_get",
    "lo_put",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "jsonb_pretty",
    "json_build_object",
    "find_in_set",
];

/// PostgreSQL types a value is cast to with `::` to make an error or a
/// comparison of what an injection read (`password::int`, `(…)::jsonb`). Not
/// `json`, `xml`, `date` or `text` alone: `serde_json::json!`, `Nokogiri::XML`
/// and their like are code in other languages.
const CAST_TYPES: &[&str] = &[
    "int", "int2", "int4", "int8", "integer", "bigint", "smallint", "numeric", "decimal", "real", "float4", "float8",
    "double precision", "bool", "boolean", "varchar", "bytea", "jsonb", "regclass", "oid", "inet", "uuid",
];

/// Does `s` cast something to one of [`CAST_TYPES`] (`x::int`, `')::bool`)?
fn has_type_cast(s: &str) -> bool {
    s.match_indices("::").any(|(i, _)| {
        let operand = s[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, ')' | '\'' | '"' | '_'));
        let ty = &s[i + 2..];
        operand
            && CAST_TYPES.iter().any(|t| {
                ty.starts_with(t) && !ty[t.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            })
    })
}

const SYSTEM_OBJECTS: &[&str] = &[
    "information_schema",
    "xp_cmdshell",
    "sp_executesql",
    "sp_oacreate",
    "sp_makewebtask",
    "sp_addextendedproc",
    "sp_configure",
    "xp_regread",
    "xp_dirtree",
    "xp_fileexist",
    "mysql.user",
    "pg_catalog",
    "pg_shadow",
    "pg_user",
    "sysobjects",
    "syscolumns",
    "sys.objects",
    "sys.tables",
    "sys.fn_varbintohexstr",
    "sys.sql_logins",
    "msysobjects",
    "msysaccessobjects",
    "sqlite_master",
    "sqlite_schema",
    "all_tables",
    "user_tables",
    "dba_users",
    "all_users",
    "v$version",
    "utl_http",
    "utl_inaddr",
    "load_file",
    "outfile",
    "dumpfile",
    "master.dbo",
    "master..sysdatabases",
];

/// Index after an operand starting at `i` (a literal, word, variable or a function call
/// with its parenthesised arguments), or `None` if `ts[i]` is not an operand.
fn operand_end(ts: &[Tok<'_>], mut i: usize) -> Option<usize> {
    let mut open = 0usize;
    while ts
        .get(i)
        .is_some_and(|t| t.t == T::LParen || kw(t, &["not"]) || (t.t == T::Op && t.s == "-"))
    {
        open += usize::from(ts[i].t == T::LParen);
        i += 1;
    }
    let mut end = operand_core(ts, i)?;
    // Close the parentheses opened before the operand: `('x')`.
    while open > 0 && ts.get(end).is_some_and(|t| t.t == T::RParen) {
        open -= 1;
        end += 1;
    }
    Some(end)
}

fn operand_core(ts: &[Tok<'_>], i: usize) -> Option<usize> {
    let t = ts.get(i)?;
    match t.t {
        T::Num | T::Str { .. } | T::Var => Some(i + 1),
        T::Word if ts.get(i + 1).is_some_and(|n| n.t == T::LParen) => {
            let mut depth = 0usize;
            for (j, x) in ts.iter().enumerate().skip(i + 1) {
                match x.t {
                    T::LParen => depth += 1,
                    T::RParen => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
            }
            Some(ts.len())
        }
        T::Word if !is_logic(t) && !is_cmp(t) => Some(i + 1),
        _ => None,
    }
}

fn is_func_call(ts: &[Tok<'_>], i: usize, names: &[&str]) -> bool {
    ts.get(i).is_some_and(|t| kw(t, names)) && ts.get(i + 1).is_some_and(|n| n.t == T::LParen)
}

fn classify(ts: &[Tok<'_>], out: &mut Vec<&'static Rule>) {
    let broke = ts
        .first()
        .is_some_and(|t| matches!(t.t, T::Str { brk: true, .. }));
    // After the break, skip closing parens: `') or ...`.
    let after_break = if broke {
        let mut j = 1;
        while ts.get(j).is_some_and(|t| t.t == T::RParen) {
            j += 1;
        }
        Some(j)
    } else if ts.first().is_some_and(is_logic) && ts.len() > 1 {
        // A value that starts with `or`/`and` continues a numeric context
        // (`id=1` + ` or true--`): read it as if right after a break.
        Some(0)
    } else {
        None
    };

    if let Some(j) = after_break {
        match ts.get(j) {
            Some(t) if t.t == T::Comment => out.push(&BREAK_COMMENT),
            Some(t)
                if kw(
                    t,
                    &[
                        "union",
                        "select",
                        "having",
                        "procedure",
                        "waitfor",
                        "into",
                        "limit",
                    ],
                ) =>
            {
                out.push(&BREAK_KEYWORD)
            }
            Some(t)
                if kw(t, &["order", "group"]) && ts.get(j + 1).is_some_and(|n| kw(n, &["by"])) =>
            {
                out.push(&BREAK_KEYWORD)
            }
            // `' exec sp_…`, `' drop table …`: a statement right after the break.
            Some(t) if broke && stacked_statement(ts, j, t) => out.push(&BREAK_KEYWORD),
            Some(t) if t.t == T::Op && matches!(t.s, "+" | "||" | "-" | "|") => {
                let k = j + 1;
                let sub = ts.get(k).is_some_and(|n| n.t == T::LParen)
                    && ts.get(k + 1).is_some_and(|n| kw(n, &["select"]));
                if sub || is_func_call(ts, k, SQL_FUNCS) {
                    out.push(&BREAK_KEYWORD);
                }
            }
            Some(t) if is_logic(t) => {
                // `' or 1--`, `' and x#`: operand then comment/end/`;`.
                if let Some(e) = operand_end(ts, j + 1) {
                    let next = ts.get(e);
                    // Without a break, `or word` is English; a literal is not.
                    let operand = first_operand(ts, j + 1);
                    let sql_operand = broke
                        || operand.is_some_and(|o| {
                            o.t != T::Word || kw(o, &["true", "false", "null"]) || e > j + 2
                        });
                    if sql_operand && next.is_none_or(|n| matches!(n.t, T::Comment | T::Semi)) {
                        out.push(&TAUTOLOGY);
                    }
                }
            }
            _ => {}
        }
    }

    for i in 0..ts.len() {
        let t = &ts[i];
        // Only a word right before `(` can be a call: the list is looked up for
        // those alone, not for every word of a prose value.
        if t.t == T::Word
            && ts.get(i + 1).is_some_and(|n| n.t == T::LParen)
            && SQL_ONLY_FUNCS.contains(&t.s)
            && ts
                .get(i + 2)
                .is_some_and(|a| matches!(a.t, T::Num | T::LParen | T::Var | T::Word | T::Str { .. }))
            && (t.s.contains(['_', '.']) || has_second_argument(ts, i + 1))
        {
            out.push(&SQL_ONLY_FUNC);
        }
        if !interesting(t) {
            continue;
        }
        let next = ts.get(i + 1);
        if kw(t, &["union"]) {
            let mut k = i + 1;
            if ts.get(k).is_some_and(|n| kw(n, &["all", "distinct"])) {
                k += 1;
            }
            while ts.get(k).is_some_and(|n| n.t == T::LParen) {
                k += 1;
            }
            if ts.get(k).is_some_and(|n| kw(n, &["select", "values"])) {
                out.push(&UNION_SELECT);
            }
        }
        if is_logic(t) {
            if let Some(a_end) = operand_end(ts, i + 1) {
                if ts.get(a_end).is_some_and(is_cmp) {
                    if let Some(b_end) = operand_end(ts, a_end + 1) {
                        let a = first_operand(ts, i + 1);
                        let b = first_operand(ts, a_end + 1);
                        let lit = a.zip(b).is_some_and(|(a, b)| {
                            (is_literal(a) && is_literal(b))
                                || (a.t == T::Word && a.s == b.s && a_end == i + 2)
                                || (b.t == T::Var && b.s.starts_with("@@"))
                        });
                        // In a string-break context the condition must follow the
                        // break (`' and x like 'a`), not sit in prose far after it.
                        let near_break = after_break.is_some_and(|j| i == j);
                        let func = a.is_some_and(|a| {
                            a.t == T::Word && SQL_FUNCS.contains(&a.s) && a_end > i + 2
                        });
                        if lit || func || (near_break && b_end > a_end) {
                            out.push(&TAUTOLOGY);
                        }
                    }
                }
            }
        }
        if t.t == T::Semi {
            if let Some(n) = next {
                if stacked_statement(ts, i + 1, n) {
                    out.push(&STACKED);
                }
            }
        }
        if is_func_call(ts, i, TIME_FUNCS)
            && ts
                .get(i + 2)
                .is_some_and(|a| matches!(a.t, T::Num | T::LParen | T::Var | T::Word | T::Str { .. }))
        {
            out.push(&TIME);
        }
        if is_literal(t) && conditional_probe(ts, i) {
            out.push(&CONDITION);
        }
        if kw(t, &["waitfor"]) && next.is_some_and(|n| kw(n, &["delay", "time"])) {
            out.push(&TIME);
        }
        if kw(t, &["select"]) && select_expression(ts, i, i > 0 && ts[i - 1].t == T::LParen) {
            out.push(&SELECT_EXPR);
        }
        if t.t == T::Word && may_be_system_object(t.s) && is_system_object(t.s) {
            out.push(&SCHEMA);
        }
        if kw(t, &["into"]) && next.is_some_and(|n| kw(n, &["outfile", "dumpfile"])) {
            out.push(&SCHEMA);
        }
        if kw(t, &["declare"]) && next.is_some_and(|n| n.t == T::Var) {
            out.push(&DECLARE);
        }
        if kw(t, &["order", "group"])
            && next.is_some_and(|n| kw(n, &["by"]))
            && ts.get(i + 2).is_some_and(|n| n.t == T::Num)
            && ts
                .get(i + 3)
                .is_none_or(|n| matches!(n.t, T::Comment | T::Semi))
        {
            out.push(&ORDER_PROBE);
        }
        if t.t == T::Num && i == 0 && next.is_some_and(|n| n.t == T::Comment) {
            out.push(&NUM_COMMENT);
        }
    }
}

/// Does the call whose `(` is at `open` take a second argument (a comma at depth 1)?
/// A plain English word before parentheses (`elt (english …)`) takes none.
fn has_second_argument(ts: &[Tok<'_>], open: usize) -> bool {
    let mut depth = 0usize;
    for t in ts.iter().skip(open).take(64) {
        match t.t {
            T::LParen => depth += 1,
            T::RParen => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return false;
                }
            }
            T::Comma if depth == 1 => return true,
            _ => {}
        }
    }
    false
}

/// `lit cmp lit` as a condition: the same literal on both sides (sqlmap's
/// `4821=4821`) inside a call, a parenthesis or a list, or any literal comparison
/// between `case when` and `then`. Boolean-blind probes are built from exactly this.
fn conditional_probe(ts: &[Tok<'_>], i: usize) -> bool {
    let (Some(cmp), Some(b)) = (ts.get(i + 1), ts.get(i + 2)) else { return false };
    if !is_cmp(cmp) || !is_literal(b) {
        return false;
    }
    let prev = i.checked_sub(1).and_then(|p| ts.get(p));
    let when = prev.is_some_and(|p| kw(p, &["when"])) && ts.get(i + 3).is_some_and(|n| kw(n, &["then"]));
    let same = ts[i].s == b.s && ts[i].t == b.t;
    let nested = prev.is_some_and(|p| matches!(p.t, T::LParen | T::Comma) || kw(p, &["when", "where", "having"]));
    when || (same && nested && cmp.t == T::Op)
}

/// Tokens that can start a sequence `classify` looks for; everything else is skipped
/// cheaply (most words in benign text).
fn interesting(t: &Tok<'_>) -> bool {
    match t.t {
        T::Semi | T::Num | T::Str { .. } => true,
        T::Op => matches!(t.s, "||" | "&&"),
        T::Word => {
            // A word whose first byte starts no listed word cannot be one of them.
            let listed = t.s.as_bytes().first().is_some_and(|&b| START_BYTES.contains(b))
                && (START_WORDS.contains(&t.s) || TIME_FUNCS.contains(&t.s));
            listed || may_be_system_object(t.s)
        }
        _ => false,
    }
}

/// Keywords that start a sequence `classify` looks for (with `TIME_FUNCS` and system
/// objects).
const START_WORDS: &[&str] = &[
    "union", "or", "and", "xor", "div", "waitfor", "select", "into", "declare", "order", "group",
];

/// First bytes of every word in `START_WORDS` and `TIME_FUNCS`.
const START_BYTES: AsciiSet = first_bytes(&[START_WORDS, TIME_FUNCS]);

const fn first_bytes(lists: &[&[&str]]) -> AsciiSet {
    let mut set = AsciiSet::EMPTY;
    let mut l = 0;
    while l < lists.len() {
        let mut w = 0;
        while w < lists[l].len() {
            if let Some(&b) = lists[l][w].as_bytes().first() {
                set = set.with(b);
            }
            w += 1;
        }
        l += 1;
    }
    set
}

/// Does `w` start or end with an entry of `SYSTEM_OBJECTS`? The entry's first (last)
/// byte is compared before the whole prefix (suffix), so most entries cost one compare.
fn is_system_object(w: &str) -> bool {
    let b = w.as_bytes();
    SYSTEM_OBJECTS.iter().any(|o| {
        let o = o.as_bytes();
        (o.first() == b.first() && b.starts_with(o)) || (o.last() == b.last() && b.ends_with(o))
    })
}

/// Every entry of `SYSTEM_OBJECTS` has one of these features; a cheap pre-check
/// (slice patterns: plain byte compares).
fn may_be_system_object(w: &str) -> bool {
    let b = w.as_bytes();
    b.len() >= 7
        && (b.iter().any(|c| matches!(c, b'_' | b'.' | b'$'))
            || matches!(
                b,
                [b's', b'y', b's', ..]
                    | [b'm', b's', b'y', b's', ..]
                    | [.., b'f', b'i', b'l', b'e']
            ))
}

fn first_operand<'a, 'b>(ts: &'b [Tok<'a>], mut i: usize) -> Option<&'b Tok<'a>> {
    while ts
        .get(i)
        .is_some_and(|t| t.t == T::LParen || kw(t, &["not"]) || (t.t == T::Op && t.s == "-"))
    {
        i += 1;
    }
    ts.get(i)
}

/// `; <statement>` where the statement looks like SQL rather than prose after a `;`.
fn stacked_statement(ts: &[Tok<'_>], k: usize, n: &Tok<'_>) -> bool {
    let a = ts.get(k + 1);
    let b = ts.get(k + 2);
    match n.s {
        _ if n.t != T::Word => false,
        "drop" | "create" | "alter" | "truncate" => a.is_some_and(|a| {
            kw(
                a,
                &[
                    "table",
                    "database",
                    "user",
                    "procedure",
                    "function",
                    "view",
                    "index",
                    "schema",
                    "login",
                    "trigger",
                ],
            )
        }),
        "declare" | "set" => a.is_some_and(|a| a.t == T::Var),
        "exec" | "execute" => a.is_some_and(|a| {
            a.t == T::LParen
                || a.t == T::Var
                || kw(a, &["immediate"])
                || a.s.starts_with("xp_")
                || a.s.starts_with("sp_")
                || a.s.starts_with("master")
        }),
        "select" => select_expression(ts, k, true),
        "insert" => a.is_some_and(|a| kw(a, &["into"])),
        "update" => b.is_some_and(|b| kw(b, &["set"])),
        "delete" => a.is_some_and(|a| kw(a, &["from"])),
        "shutdown" => a.is_none_or(|a| matches!(a.t, T::Comment | T::Semi) || kw(a, &["with"])),
        "waitfor" => a.is_some_and(|a| kw(a, &["delay", "time"])),
        "call" | "begin" => a.is_some_and(|a| a.t == T::Word) && b.is_some_and(|b| b.t == T::LParen),
        "grant" | "revoke" => b.is_some_and(|b| kw(b, &["on", "to"])),
        _ => false,
    }
}

/// `select` followed by something only SQL has: `*`/variable/function call, a literal
/// list, or (inside parentheses) any operand followed by `from`.
fn select_expression(ts: &[Tok<'_>], i: usize, in_paren: bool) -> bool {
    let Some(a) = ts.get(i + 1) else { return false };
    let b = ts.get(i + 2);
    let ends = |t: Option<&Tok<'_>>| {
        t.is_none_or(|t| {
            matches!(t.t, T::Comma | T::Comment | T::Semi | T::RParen) || kw(t, &["from"])
        })
    };
    match a.t {
        T::Var => true,
        T::LParen => in_paren || ts.get(i + 2).is_some_and(|n| kw(n, &["select"])),
        T::Op if a.s == "*" => b.is_none_or(|b| kw(b, &["from"]) || matches!(b.t, T::Comment | T::Semi)),
        T::Num | T::Str { .. } => {
            (ends(b) && (in_paren || b.is_some())) || b.is_some_and(|b| b.t == T::Op && b.s == "||")
        }
        T::Word if b.is_some_and(|b| b.t == T::LParen) => SQL_FUNCS.contains(&a.s),
        T::Word => in_paren && b.is_some_and(|b| kw(b, &["from"]) || b.t == T::Comma),
        _ => false,
    }
}

pub fn detect(t: &Text<'_>, out: &mut Vec<&'static Rule>) {
    if t.has(b':') && has_type_cast(t.s) {
        out.push(&TYPE_CAST);
    }
    if !t.has_any(b" '\"();=-#|&@*") {
        return;
    }
    let start = out.len();
    // Sized once for typical text (about one token per four bytes) instead of regrown.
    let mut toks = Vec::with_capacity((t.s.len() / 4 + 4).min(MAX_TOKENS));
    tokenize(t.s, None, &mut toks);
    classify(&toks, out);
    for q in [b'\'', b'"'] {
        if t.has(q) {
            tokenize(t.s, Some(q), &mut toks);
            classify(&toks, out);
        }
    }
    // Several contexts can report the same rule; keep one.
    let mut i = start;
    while i < out.len() {
        if out[start..i].iter().any(|r| r.id == out[i].id) {
            out.remove(i);
        } else {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{fires, ids};
    use super::*;

    proptest::proptest! {
        /// The byte-level shortcuts answer exactly as the plain list lookups.
        #[test]
        fn word_shortcuts_match_list_lookups(
            pre in "(|s|x|sys|_)",
            i in 0usize..64,
            post in "(|s|e|file|_x|\\.y)",
        ) {
            let all: Vec<&str> = START_WORDS.iter().chain(TIME_FUNCS).chain(SYSTEM_OBJECTS).copied().collect();
            let w = format!("{pre}{}{post}", all[i % all.len()]);
            let listed = START_WORDS.contains(&w.as_str()) || TIME_FUNCS.contains(&w.as_str());
            let tok = Tok { t: T::Word, s: &w };
            proptest::prop_assert_eq!(interesting(&tok), listed || may_be_system_object(&w));
            let plain = SYSTEM_OBJECTS.iter().any(|o| w.starts_with(o) || w.ends_with(o));
            proptest::prop_assert_eq!(is_system_object(&w), plain);
        }
    }

    #[test]
    fn attacks() {
        for p in [
            "password::int",
            "1' and unistr(password)::bool--",
            "OR '{\"b\":2}'::jsonb <@ '{\"a\":1, \"b\":2}'",
            "lo_import('/etc' || '/pass' || 'wd')",
            "jsonb_pretty((1,password)::jsonb)",
            "1 union select 1,2,3",
            "1 UNION/**/ALL/**/SELECT password FROM users",
            "x' or 'a'='a",
            "1 or 1=1",
            "admin'--",
            "admin' #",
            "') or ('x')=('x",
            "1; drop table users",
            "1;waitfor delay '0:0:5'",
            "1 and sleep(5)",
            "(select(0)from(select(sleep(15)))v)",
            "1 and benchmark(1000000,md5(1))",
            "' and pg_sleep(3)--",
            "-1' union select table_name from information_schema.tables",
            "1' order by 10--",
            "1 AND 12=12",
            "' or 1--",
            "x'+(select 1)+'",
            "123) AND JSON_DEPTH('{}') != 2521",
            "select * from users",
            "select @@version",
            "3; DECLARE @c varchar(255); EXEC master.dbo.xp_cmdshell @c",
            "%27%20or%201%3D1--",
            "1 AND ELT(4821=4821,7352)",
            "1 (CASE WHEN 4821=4821 THEN 4821 ELSE NULL END)",
            "1 (4821=4821)*7352",
            "1 ,EXTRACTVALUE(4821,CONCAT('\\','qvkpq',(SELECT (ELT(4821=4821,1))),'qzxjq'))",
            "1 ;BEGIN USER_LOCK.SLEEP(5); END",
            "1 AND 4821=DBMS_PIPE.RECEIVE_MESSAGE('xKqz',5)",
            "1 SELECT 'qvkpq'||(CASE 4821 WHEN 4821 THEN 1 ELSE 0 END)||'qzxjq' FROM RDB$DATABASE",
            " or true--",
            "or username like char(37);",
            "' exec sp_addsrvrolemember 'name' , 'sysadmin' --",
            "'; execute immediate 'sel' || 'ect us' || 'er'",
            "1 or 1 in (@@version)--",
        ] {
            assert!(fires(p, "sqli-"), "{p}: {:?}", ids(p));
        }
    }

    #[test]
    fn benign() {
        for p in [
            "std::string name",
            "serde_json::json!({})",
            "Nokogiri::XML::Document",
            "use std::io::Read;",
            "the meeting is at 10::30",
            "select the union of two sets",
            "union was a great select",
            "D'or 1st parfume",
            "john+or@var.es",
            "1) a-b=c",
            "DEAR FINN,--I think it would do",
            "and =IS=C5HF95_=",
            "and &IN=color&=",
            "_SELECT all the rows of fromDate = @-_",
            "I would like a number between 1 and 10, please.",
            "It's rock 'n' roll, or is it? a=b",
            "select 3 items from the list",
            "Tom & Jerry; select one",
            "drop me a line; create something",
            "O'Brien and O'Neil",
            "price >= 10 or < 20",
            "{\"id\": 1, \"name\": \"x\"}",
            "user@example.com",
            "The parameter 5 is&|.",
            "url=/?usr=subject;-",
            "in case when you are late, then call me",
            "the elt (english language teaching) course",
            "x = 1 and y = 2 in the example",
            "or maybe later, if you like",
            "or something",
            "and then we left",
            "You'll need budgeting and risk management and regulations in order to help them",
        ] {
            assert!(!fires(p, "sqli-"), "{p}: {:?}", ids(p));
        }
    }
}
