//! Property tests for the matcher (SPEC "Matching").
//!
//! These double as the fuzzing of the matcher: the "arbitrary" strategies
//! draw from all of Unicode (`any::<String>()`) and from a soup of the
//! characters that matter here (Arabic letters, harakat, tatweel,
//! presentation forms, apostrophes, combining marks, bidi and zero-width
//! characters, fullwidth Latin, line breaks), and every public entry point
//! (`normalize`, `Matcher::compile`, `find`, `explain` and its report) runs
//! on them without panicking. Case counts stay modest so the file runs in a
//! few seconds in a debug build.

use newswatch::matcher::{normalize, Matcher, WatchlistTerms};
use proptest::prelude::*;

const CASES: u32 = 256;

/// Characters that exercise the normalization and word rules.
const SOUP: &[&str] = &[
    "ا",
    "ل",
    "ن",
    "ي",
    "ج",
    "ر",
    "م",
    "ة",
    "ه",
    "و",
    "ب",
    "ف",
    "ك",
    "ت",
    "س",
    "ح",
    "أ",
    "إ",
    "آ",
    "ٱ",
    "ى",
    "ئ",
    "ؤ",
    "ء",
    "ی",
    "ک",
    "ہ",
    "ۃ",
    "\u{064B}",
    "\u{064E}",
    "\u{0650}",
    "\u{0651}",
    "\u{0652}",
    "\u{0670}",
    "\u{0640}",
    "ﻻ",
    "ﺍ",
    "ﻟ",
    "ﻨ",
    "ﺔ",
    "ﷲ",
    "ﷺ",
    "\u{FEFF}",
    "٢",
    "۱",
    "a",
    "e",
    "N",
    "s",
    "'",
    "’",
    "ʼ",
    "＇",
    "Ｎ",
    "ｉ",
    "é",
    "e\u{0301}",
    "ß",
    "İ",
    "ﬁ",
    " ",
    "  ",
    "\n",
    "\r\n",
    "\t",
    ",",
    ".",
    "—",
    "-",
    "*",
    "\u{200C}",
    "\u{200D}",
    "\u{200F}",
    "\u{202E}",
    "\u{00AD}",
    "🇳🇪",
    "👍🏽",
    "\u{0300}",
    "\u{20DD}",
    "ᄀ",
    "中",
    "\u{10FFFF}",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(SOUP), 0..40).prop_map(|v| v.concat())
}

/// All of Unicode, or the soup.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), soup()]
}

/// Arabic words that are valid terms (three letters or more, so suffixes
/// apply too), including ones ending in ة and ones with hamza on alef.
const ARABIC_WORDS: &[&str] = &[
    "النيجر",
    "نيجر",
    "أغاديز",
    "انسحاب",
    "مالي",
    "مالية",
    "القوات",
    "الأمريكية",
    "إعلان",
    "آجن",
    "مسألة",
    "مبدأ",
    "كابل",
    "يحيى",
    "قوة",
    "لاجئ",
];

const PROCLITICS: &[&str] = &["", "و", "ب", "ل", "ف", "وب", "فب", "ك", "وك"];
const SUFFIXES: &[&str] = &["", "ها", "هم", "ات", "ين", "ون"];

/// Harakat, tanween, shadda, sukun (U+064B–U+0652) and tatweel (U+0640).
fn mark() -> impl Strategy<Value = char> {
    prop_oneof![
        (0x064Bu32..=0x0652).prop_map(|c| char::from_u32(c).expect("haraka")),
        Just('\u{0640}')
    ]
}

/// `word` with `marks` inserted before the characters at the given indices.
fn with_marks(word: &str, marks: &[(usize, char)]) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        for (_, m) in marks.iter().filter(|(at, _)| at % (chars.len() + 1) == i) {
            out.push(*m);
        }
        out.push(*c);
    }
    for (_, m) in marks
        .iter()
        .filter(|(at, _)| at % (chars.len() + 1) == chars.len())
    {
        out.push(*m);
    }
    out
}

fn compile(keywords: Vec<String>, require: Vec<String>, exclude: Vec<String>) -> Option<Matcher> {
    Matcher::compile(&[WatchlistTerms {
        keywords,
        require,
        exclude,
    }])
    .ok()
}

fn matches(term: &str, text: &str) -> bool {
    let m = compile(vec![term.to_owned()], vec![], vec![]).expect("valid term");
    !m.find("", text).is_empty()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn normalize_is_idempotent(s in any_text()) {
        let once = normalize(&s);
        prop_assert_eq!(normalize(&once), once);
    }

    /// Harakat and tatweel anywhere in a matching word, or in the term,
    /// change nothing.
    #[test]
    fn harakat_and_tatweel_keep_a_match(
        word in prop::sample::select(ARABIC_WORDS),
        pro in prop::sample::select(PROCLITICS),
        suf in prop::sample::select(SUFFIXES),
        in_text in prop::collection::vec((0usize..32, mark()), 1..6),
        in_term in prop::collection::vec((0usize..32, mark()), 0..3),
    ) {
        // ة before a suffix is written ت; keep the suffix-free form for those.
        let suf = if word.ends_with('ة') { "" } else { suf };
        let plain = format!("{pro}{word}{suf}");
        prop_assume!(matches(word, &plain));
        let text = format!("قبل {} بعد", with_marks(&plain, &in_text));
        let term = with_marks(word, &in_term);
        prop_assert!(matches(&term, &text), "{:?} should match {:?}", term, text);
    }

    /// Whatever compiles as a term matches a text made of that term.
    #[test]
    fn a_term_matches_itself(term in any_text()) {
        let Some(m) = compile(vec![term.clone()], vec![], vec![]) else {
            return Ok(());
        };
        prop_assert!(!m.find("", &term).is_empty(), "{:?} does not match itself", term);
        prop_assert!(!m.find(&term, "").is_empty(), "{:?} does not match itself in a title", term);
    }

    /// Arbitrary text through every entry point: no panic, spans and
    /// highlights on char boundaries, and each hit's span alone still matches
    /// its term.
    #[test]
    fn arbitrary_text_is_safe(
        title in any_text(),
        body in any_text(),
        extra in prop::collection::vec(any_text(), 0..3),
    ) {
        let mut keywords: Vec<String> =
            ["Niger", "النيجر", "withdraw*", "سحب القوات", "مالي", "a", "é"].map(String::from).to_vec();
        keywords.extend(extra.iter().filter(|t| compile(vec![(*t).clone()], vec![], vec![]).is_some()).cloned());
        let m = compile(keywords, vec!["Agadez".into()], vec!["ﻻ".into()]).expect("valid terms");
        let found_all = m.find(&title, &body);
        // Deciding alone (the text-only stream) and the whole path (words,
        // spans, snippets) agree, and so does `explain`.
        let decided = m.matching_watchlists(&title, &body);
        let listed: Vec<usize> = found_all.iter().map(|f| f.watchlist).collect();
        prop_assert_eq!(&listed, &decided);
        let explained = m.explain(0, &title, &body).decision == newswatch::matcher::Decision::Matched;
        prop_assert_eq!(explained, decided == [0]);
        for found in found_all {
            for hit in &found.hits {
                let text = if hit.field == newswatch::matcher::Field::Title { &title } else { &body };
                prop_assert!(hit.span.start <= hit.span.end && hit.span.end <= text.len());
                prop_assert!(text.is_char_boundary(hit.span.start) && text.is_char_boundary(hit.span.end));
                prop_assert!(
                    matches(&hit.term, &text[hit.span.clone()]),
                    "span {:?} = {:?} does not match {:?} alone", hit.span, &text[hit.span.clone()], hit.term
                );
                for h in &hit.snippet.highlights {
                    prop_assert!(h.start <= h.end && h.end <= hit.snippet.text.len());
                    prop_assert!(hit.snippet.text.is_char_boundary(h.start));
                    prop_assert!(hit.snippet.text.is_char_boundary(h.end));
                }
            }
        }
        let e = m.explain(0, &title, &body);
        let _ = e.to_string();
        for miss in &e.near_misses {
            let text = if miss.field == newswatch::matcher::Field::Title { &title } else { &body };
            prop_assert_eq!(&text[miss.span.clone()], miss.word.as_str());
        }
    }
}
