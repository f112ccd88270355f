//! Issue 3, "Bad input": any text is matched in linear time with no panic.
//! Each text below is megabytes long (ten for the text without a space) and
//! shaped to hit one path of the matcher hard; a step that were quadratic in
//! the length of a chunk, a word or the number of hits would take hours here,
//! not seconds. (A chunk of many words on the normalizing path was quadratic
//! until 2026-11-26.)

use std::time::{Duration, Instant};

use newswatch::matcher::{Matcher, WatchlistTerms};

fn matcher() -> Matcher {
    let lists = [WatchlistTerms {
        keywords: ["a", "a*", "Niger", "النيجر", "é", "x x", "مالي"]
            .map(String::from)
            .to_vec(),
        require: vec![],
        exclude: vec!["ﻻ".into()],
    }];
    Matcher::compile(&lists).expect("valid terms")
}

/// Runs every entry point on `text` as the body and returns how many
/// watchlists matched; fails if that takes longer than `limit`.
fn bounded(m: &Matcher, what: &str, text: &str, limit: Duration) -> usize {
    let t = Instant::now();
    let found = m.find("", text).len();
    let decided = m.matching_watchlists("", text).len();
    let explained = m.explain(0, "", text);
    let _ = explained.to_string();
    let took = t.elapsed();
    assert!(
        took < limit,
        "{what} ({} bytes) took {took:?}, limit {limit:?}",
        text.len()
    );
    assert_eq!(found, decided, "{what}");
    found
}

// Generous: these run unoptimized, beside other tests, on a 2-core CI machine;
// a quadratic step would take hours.
const LIMIT: Duration = Duration::from_secs(120);

#[test]
fn ten_megabytes_without_a_space() {
    let m = matcher();
    // One word of ten million letters: every byte is a hit of `a`.
    let text = "a".repeat(10_000_000);
    assert_eq!(
        bounded(&m, "one long word", &text, LIMIT),
        1,
        "a* matches it"
    );
    // Letters, a combining mark and punctuation: one chunk of millions of
    // words that takes the general (normalizing) path.
    let text = "x\u{301}-".repeat(500_000);
    assert_eq!(bounded(&m, "many words, one chunk", &text, LIMIT), 1);
    // Arabic and Latin and bidi controls, never a space.
    let text = "abcالنيجر\u{200f}Niger\u{200e}".repeat(100_000);
    assert_eq!(
        bounded(&m, "mixed direction", &text, LIMIT),
        1,
        "a* matches the one word"
    );
}

#[test]
fn only_combining_marks_and_harakat() {
    let m = matcher();
    let text = "\u{301}\u{64e}\u{640}".repeat(500_000);
    assert_eq!(bounded(&m, "marks only", &text, LIMIT), 0);
    let text = "ن\u{64e}ي\u{651}\u{640}".repeat(300_000);
    assert_eq!(bounded(&m, "one long Arabic word", &text, LIMIT), 0);
}

#[test]
fn a_hit_at_every_word() {
    let m = matcher();
    // Hundreds of thousands of hits of `a`, `a*`, `x x` and the exclude term.
    let text = "a x ﻻ ".repeat(200_000);
    assert_eq!(bounded(&m, "hits everywhere", &text, LIMIT), 0, "excluded");
    let text = "والنيجر مالية ".repeat(100_000);
    assert_eq!(bounded(&m, "Arabic hits and near misses", &text, LIMIT), 1);
}
