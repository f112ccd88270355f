//! Table-driven matcher tests over the fixture files in
//! `tests/fixtures/matching/` (SPEC "Matching"):
//!
//! - `cases.tsv`: the project's hand-written cases, a byte-for-byte copy of
//!   `../shared/corpus/matching/cases.tsv` (CI runs on a clean clone without
//!   `../shared`, so the copy lives in the repo);
//! - `edge-cases.tsv`: presentation forms, fullwidth Latin, harakat and
//!   tatweel, Persian letters, hamza, ة/ه, proclitic chains, elision,
//!   plurals, phrases, prefixes;
//! - `arabic-normalization.tsv`: the rows of the shared Arabic normalization
//!   corpus whose rule SPEC also states.
//!
//! Every row runs; a failure lists every failing row, not just the first.

use std::path::PathBuf;

use newswatch::matcher::{normalize, Decision, Matcher, WatchlistTerms};

fn fixture(name: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        "matching",
        name,
    ]
    .iter()
    .collect();
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading fixture {}: {e}", path.display()))
}

/// Data rows (1-based line number, tab-separated fields); `#` comments and
/// blank lines skipped.
fn rows(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i + 1, l.split('\t').collect()))
}

/// Resolves `\n`, `\r`, `\t`, `\\` and `\u{XXXX}` in a fixture field.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('u') => {
                let rest = chars.as_str();
                let close = rest.find('}').expect("\\u{...} escape is closed");
                let hex = &rest[1..close];
                let cp = u32::from_str_radix(hex, 16).expect("\\u{...} holds hex");
                out.push(char::from_u32(cp).expect("\\u{...} is a scalar value"));
                chars = rest[close + 1..].chars();
            }
            other => panic!("unknown escape \\{other:?} in {s:?}"),
        }
    }
    out
}

/// Whether `term` matches `text`, checked in the body and in the title
/// (the two must agree).
fn matches(term: &str, text: &str) -> bool {
    let lists = [WatchlistTerms {
        keywords: vec![term.to_owned()],
        ..Default::default()
    }];
    let m = Matcher::compile(&lists).unwrap_or_else(|e| panic!("term {term:?} refused: {e:?}"));
    let in_body = !m.find("", text).is_empty();
    let in_title = !m.find(text, "").is_empty();
    assert_eq!(
        in_body, in_title,
        "title and body disagree for {term:?} in {text:?}"
    );
    in_body
}

/// The file had at least `min` rows (the whole file was read) and none failed.
fn all_rows_pass(name: &str, count: usize, min: usize, failures: &[String]) {
    assert!(
        count >= min,
        "{name} has {count} rows, expected at least {min}"
    );
    assert!(
        failures.is_empty(),
        "{} of {count} rows of {name} fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs a `term<TAB>text<TAB>0|1[<TAB>note]` file; returns the failures.
fn run_match_file(name: &str) -> (usize, Vec<String>) {
    let text = fixture(name);
    let mut count = 0;
    let mut failures = Vec::new();
    for (line, fields) in rows(&text) {
        assert!(
            fields.len() >= 3,
            "{name}:{line}: want term, text, expected; found {fields:?}"
        );
        let (term, body) = (unescape(fields[0]), unescape(fields[1]));
        let want = match fields[2] {
            "1" => true,
            "0" => false,
            other => panic!("{name}:{line}: expected must be 0 or 1, found {other:?}"),
        };
        count += 1;
        if matches(&term, &body) != want {
            let note = fields.get(3).copied().unwrap_or_default();
            failures.push(format!(
                "{name}:{line}: {term:?} in {body:?}: want {want} ({note})"
            ));
        }
    }
    (count, failures)
}

#[test]
fn shared_cases_tsv_every_row() {
    let (count, failures) = run_match_file("cases.tsv");
    all_rows_pass("cases.tsv", count, 40, &failures);
}

#[test]
fn edge_cases_tsv_every_row() {
    let (count, failures) = run_match_file("edge-cases.tsv");
    all_rows_pass("edge-cases.tsv", count, 100, &failures);
}

#[test]
fn arabic_normalization_corpus_rows() {
    let text = fixture("arabic-normalization.tsv");
    let mut failures = Vec::new();
    let mut count = 0;
    for (line, f) in rows(&text).skip(1) {
        assert!(
            f.len() >= 5,
            "arabic-normalization.tsv:{line}: too few columns"
        );
        let (check, input, expected) = (f[0], f[3], f[4]);
        count += 1;
        let ok = match check {
            "normalize" => normalize(input) == expected,
            "same" => normalize(input) == normalize(expected),
            "match" => matches(expected, input),
            "nomatch" => !matches(expected, input),
            other => panic!("arabic-normalization.tsv:{line}: unknown check {other:?}"),
        };
        if !ok {
            failures.push(format!(
                "arabic-normalization.tsv:{line}: {check} {input:?} → {expected:?} (normalize gives {:?})",
                normalize(input)
            ));
        }
    }
    all_rows_pass("arabic-normalization.tsv", count, 50, &failures);
}

/// The seed article must match the Niger watchlist through its Arabic terms
/// only, and never through `القوات النيجيرية`.
#[test]
fn seed_article_matches_niger_watchlist() {
    let body = fixture("pentagon-niger-withdrawal-ar.txt");
    let lists = [WatchlistTerms {
        keywords: ["Niger", "النيجر", "Agadez", "أغاديز"]
            .map(String::from)
            .to_vec(),
        require: ["withdrawal", "انسحاب", "سحب القوات"]
            .map(String::from)
            .to_vec(),
        exclude: vec![],
    }];
    let m = Matcher::compile(&lists).expect("valid terms");
    let found = m.find("", &body);
    assert_eq!(found.len(), 1, "the seed article matches");
    for hit in &found[0].hits {
        let word = &body[hit.span.clone()];
        assert!(
            !word.contains("النيجيرية"),
            "{:?} hit the Nigerian forces: {word:?}",
            hit.term
        );
    }
}

struct RuleCase {
    name: &'static str,
    keywords: &'static [&'static str],
    require: &'static [&'static str],
    exclude: &'static [&'static str],
    title: &'static str,
    body: &'static str,
    want: Decision,
}

/// `require` and `exclude` terms follow exactly the same word rules as
/// keywords: proclitics, suffixes, ة, elision, plurals, prefixes.
#[test]
#[allow(clippy::too_many_lines, reason = "one row per case, read as a table")]
fn require_and_exclude_follow_the_same_rules() {
    use Decision::{Excluded, Matched, NoKeyword, RequireMissing};
    let cases = [
        RuleCase {
            name: "require_elision",
            keywords: &["Niger"],
            require: &["Agadez"],
            exclude: &[],
            title: "Niger",
            body: "la base d’Agadez",
            want: Matched,
        },
        RuleCase {
            name: "require_plural",
            keywords: &["Niger"],
            require: &["withdrawal"],
            exclude: &[],
            title: "Niger",
            body: "troop withdrawals",
            want: Matched,
        },
        RuleCase {
            name: "require_not_other_word",
            keywords: &["Niger"],
            require: &["withdrawal"],
            exclude: &[],
            title: "Niger",
            body: "troops withdrawn",
            want: RequireMissing,
        },
        RuleCase {
            name: "require_arabic_proclitic",
            keywords: &["النيجر"],
            require: &["انسحاب"],
            exclude: &[],
            title: "النيجر",
            body: "بانسحابها",
            want: Matched,
        },
        RuleCase {
            name: "require_prefix",
            keywords: &["Niger"],
            require: &["withdraw*"],
            exclude: &[],
            title: "",
            body: "Niger: troops withdrawing",
            want: Matched,
        },
        RuleCase {
            name: "exclude_not_nigeria",
            keywords: &["Niger"],
            require: &[],
            exclude: &["Nigeria"],
            title: "Niger",
            body: "Nigerian officials",
            want: Matched,
        },
        RuleCase {
            name: "exclude_nigeria",
            keywords: &["Niger"],
            require: &[],
            exclude: &["Nigeria"],
            title: "Niger",
            body: "Nigeria's officials",
            want: Excluded,
        },
        RuleCase {
            name: "exclude_mali_not_financial",
            keywords: &["النيجر"],
            require: &[],
            exclude: &["مالي"],
            title: "النيجر",
            body: "أزمة مالية",
            want: Matched,
        },
        RuleCase {
            name: "exclude_mali_proclitic",
            keywords: &["النيجر"],
            require: &[],
            exclude: &["مالي"],
            title: "النيجر",
            body: "وفي مالي والنيجر",
            want: Excluded,
        },
        RuleCase {
            name: "exclude_arabic_nigeria",
            keywords: &["النيجر"],
            require: &[],
            exclude: &["نيجيريا"],
            title: "النيجر",
            body: "وبنيجيريا",
            want: Excluded,
        },
        RuleCase {
            name: "exclude_phrase_across_lines",
            keywords: &["Niger"],
            require: &[],
            exclude: &["Niger Delta"],
            title: "",
            body: "the Niger\nDelta",
            want: Excluded,
        },
        RuleCase {
            name: "exclude_prefix",
            keywords: &["Niger"],
            require: &[],
            exclude: &["football*"],
            title: "Niger",
            body: "footballers",
            want: Excluded,
        },
        RuleCase {
            name: "exclude_presentation_forms",
            keywords: &["Niger"],
            require: &[],
            exclude: &["مالي"],
            title: "Niger",
            body: "ﻣﺎﻟﻲ",
            want: Excluded,
        },
        RuleCase {
            name: "no_keyword",
            keywords: &["Niger"],
            require: &["Agadez"],
            exclude: &[],
            title: "Nigeria",
            body: "Agadez",
            want: NoKeyword,
        },
        RuleCase {
            name: "require_without_keyword",
            keywords: &["Niger"],
            require: &[],
            exclude: &[],
            title: "",
            body: "Nigerien",
            want: NoKeyword,
        },
    ];
    let mut failures = Vec::new();
    for c in cases {
        let owned = |s: &[&str]| s.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
        let lists = [WatchlistTerms {
            keywords: owned(c.keywords),
            require: owned(c.require),
            exclude: owned(c.exclude),
        }];
        let m = Matcher::compile(&lists).expect("valid terms");
        let got = m.explain(0, c.title, c.body).decision;
        let found = !m.find(c.title, c.body).is_empty();
        if got != c.want || found != (c.want == Matched) {
            failures.push(format!(
                "{}: want {:?}, explain says {got:?}, find says {found}",
                c.name, c.want
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
