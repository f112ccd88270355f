//! Table of SPEC "Matching" examples; the larger tables live in
//! `tests/matcher_cases.rs`.

use super::*;

fn matches(term: &str, text: &str) -> bool {
    let lists = [WatchlistTerms {
        keywords: vec![term.to_owned()],
        ..Default::default()
    }];
    let m = Matcher::compile(&lists).expect("valid term");
    !m.find("", text).is_empty()
}

#[test]
fn phrase_spellings_are_bounded() {
    for words in 1..=8 {
        let arabic = vec!["القوات"; words].join(" ");
        let latin = vec!["armee"; words].join(" ");
        for phrase in [arabic, latin] {
            let t = term::parse_term(&phrase).expect("valid phrase");
            assert!(
                t.variants.len() < term::MAX_SPELLINGS,
                "{phrase}: {} spellings",
                t.variants.len()
            );
            assert!(!t.variants.contains(&t.key), "{phrase}");
        }
    }
    // Past the bound, the all-bare and all-definite spellings remain.
    // Eight words: seven inner ones would make 128 spellings.
    let long = "القوات الجوية الامريكية الخاصة البحرية البرية العسكرية الكبرى";
    assert!(matches(
        long,
        "قوات جوية امريكية خاصة بحرية برية عسكرية كبرى"
    ));
    assert!(matches(
        long,
        "القوات الجوية الأمريكية الخاصة البحرية البرية العسكرية الكبرى"
    ));
    assert!(!matches(
        long,
        "القوات جوية الأمريكية الخاصة البحرية البرية العسكرية الكبرى"
    ));
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one row per SPEC example, read as a table"
)]
fn spec_examples() {
    let cases = [
        ("niger_word", "Niger", "leaving Niger now", true),
        ("niger_not_nigeria", "Niger", "Nigeria votes", false),
        ("niger_not_nigerian", "Niger", "Nigerian forces", false),
        ("article_in_text", "نيجر", "عاصمة النيجر نيامي", true),
        ("article_in_term", "النيجر", "جمهورية نيجر", true),
        ("wa_al", "النيجر", "مالي والنيجر", true),
        ("bi_al", "النيجر", "العلاقات بالنيجر", true),
        ("li_l", "النيجر", "دعم للنيجر", true),
        ("fa_al", "النيجر", "فالنيجر", true),
        ("not_nigeria_ar", "النيجر", "زيارة إلى نيجيريا", false),
        ("not_nigerian_ar", "النيجر", "القوات النيجيرية", false),
        ("not_nigeriya", "النيجر", "النيجرية", false),
        ("suffix_ha", "انسحاب", "انسحابها من البلاد", true),
        ("suffix_iin", "مالي", "اللاجئين الماليين", true),
        ("teh_marbuta_not_pronoun", "مالي", "أزمة مالية", false),
        ("heh_pronoun", "مالي", "ميزانية ماليه", true),
        (
            "apostrophe_in_term",
            "Côte d'Ivoire",
            "la Côte d’Ivoire vote",
            true,
        ),
        (
            "curly_in_term",
            "Côte d’Ivoire",
            "la Côte d'Ivoire vote",
            true,
        ),
        ("modifier_in_text", "aujourd'hui", "aujourdʼhui", true),
        ("left_quote_in_word", "aujourd'hui", "aujourd‘hui", true),
        (
            "apostrophe_not_a_word",
            "Côte d'Ivoire",
            "la Côte d’Ivoirienne",
            false,
        ),
        ("plural", "withdrawal", "troop withdrawals", true),
        ("possessive", "withdrawal", "the withdrawal's timing", true),
        (
            "possessive_curly",
            "withdrawal",
            "the withdrawal’s timing",
            true,
        ),
        ("other_form", "withdrawal", "withdrawn", false),
        ("elision", "Agadez", "la base d'Agadez", true),
        ("elision_curly", "Agadez", "l’Agadez", true),
        ("phrase_punct", "سحب القوات", "سحب، القوات", true),
        ("phrase_gap", "سحب القوات", "سحب بعض القوات", false),
        // Issue 14: each word of a phrase follows the rules of a word.
        (
            "issue_14_phrase_definite",
            "قاعدة جوية",
            "القاعدة الجوية",
            true,
        ),
        (
            "issue_14_phrase_bi_al",
            "قاعدة جوية",
            "بالقاعدة الجوية",
            true,
        ),
        (
            "issue_14_phrase_indefinite",
            "القاعدة الجوية",
            "قاعدة جوية",
            true,
        ),
        ("issue_14_phrase_mixed", "قاعدة جوية", "قاعدة الجوية", true),
        ("issue_14_phrase_wa", "سحب القوات", "وسحب القوات", true),
        ("issue_14_phrase_bare_inner", "سحب القوات", "سحب قوات", true),
        (
            "issue_14_phrase_suffix_last",
            "سحب القوات",
            "سحب قواتها",
            true,
        ),
        (
            "issue_14_phrase_other_word",
            "قاعدة جوية",
            "قاعدة عسكرية",
            false,
        ),
        (
            "issue_14_phrase_inner_proclitic_not_a_word",
            "قاعدة جوية",
            "قاعدة سالجوية",
            false,
        ),
        ("issue_14_phrase_teh_last", "قوات مالي", "قوات مالية", false),
        (
            "issue_14_phrase_elision",
            "retrait Agadez",
            "le retrait d’Agadez",
            true,
        ),
        (
            "issue_14_phrase_elision_l",
            "retrait Agadez",
            "retrait l'Agadez",
            true,
        ),
        (
            "issue_14_phrase_written_elision",
            "retrait d'Agadez",
            "retrait d’Agadez",
            true,
        ),
        (
            "issue_14_phrase_plural_last",
            "troop withdrawal",
            "troop withdrawals",
            true,
        ),
        (
            "issue_14_phrase_plural_inner",
            "troop withdrawal",
            "troops withdrawal",
            false,
        ),
        ("prefix", "withdraw*", "withdrawing troops", true),
        ("prefix_not_inside", "withdraw*", "withdrew", false),
        ("accent", "café", "Le Cafe du Sahel", true),
    ];
    for (name, term, text, want) in cases {
        assert_eq!(
            matches(term, text),
            want,
            "case {name}: {term:?} in {text:?}"
        );
    }
}

#[test]
fn rule_require_exclude() {
    let lists = [WatchlistTerms {
        keywords: vec!["Niger".into()],
        require: vec!["withdraw*".into()],
        exclude: vec!["Niger Delta".into()],
    }];
    let m = Matcher::compile(&lists).expect("valid");
    assert_eq!(m.find("Niger", "troops withdrawing").len(), 1);
    assert!(m.find("Niger", "troops stay").is_empty());
    assert!(m
        .find("Niger", "withdrawing from the Niger delta")
        .is_empty());
    let e = m.explain(0, "Niger", "troops stay");
    assert_eq!(e.decision, Decision::RequireMissing);
}

#[test]
fn spans_and_snippet() {
    let lists = [WatchlistTerms {
        keywords: vec!["النيجر".into(), "Agadez".into()],
        ..Default::default()
    }];
    let m = Matcher::compile(&lists).expect("valid");
    let body = "قرب أغاديز في والنّيجر، near d’Agadez.";
    let found = m.find("", body);
    assert_eq!(found.len(), 1);
    let hits = &found[0].hits;
    assert_eq!(&body[hits[0].span.clone()], "والنّيجر");
    assert_eq!(&body[hits[1].span.clone()], "d’Agadez");
    let s = &found[0].snippet;
    let marked: Vec<&str> = s.highlights.iter().map(|h| &s.text[h.clone()]).collect();
    assert_eq!(marked, ["والنّيجر", "d’Agadez"]);
}

/// A typographic apostrophe is one byte in the stream and three in the
/// text: spans still cover exactly the original words, on both paths.
#[test]
fn spans_across_a_curly_apostrophe() {
    let lists = [WatchlistTerms {
        keywords: vec!["Côte d'Ivoire".into(), "aujourd'hui".into()],
        ..Default::default()
    }];
    let m = Matcher::compile(&lists).expect("valid");
    // The second text holds a character outside the fast path (ʼ).
    for (body, want) in [
        (
            "En Côte d’Ivoire aujourd’hui.",
            ["Côte d’Ivoire", "aujourd’hui"],
        ),
        (
            "aujourdʼhui en Côte d‘Ivoire.",
            ["aujourdʼhui", "Côte d‘Ivoire"],
        ),
    ] {
        let found = m.find("", body);
        assert_eq!(found.len(), 1, "{body}");
        // Hits come in term order, highlights in text order.
        let mut spans: Vec<&str> = found[0]
            .hits
            .iter()
            .map(|h| &body[h.span.clone()])
            .collect();
        spans.sort_by_key(|s| body.find(s));
        assert_eq!(spans, want);
        let s = &found[0].snippet;
        let marked: Vec<&str> = s.highlights.iter().map(|h| &s.text[h.clone()]).collect();
        assert_eq!(marked, want);
    }
}

#[test]
fn bad_terms_are_reported_with_position() {
    let lists = [
        WatchlistTerms {
            keywords: vec!["ok".into(), "*".into()],
            ..Default::default()
        },
        WatchlistTerms {
            keywords: vec!["x".into()],
            exclude: vec!["a*b".into()],
            ..Default::default()
        },
    ];
    let errs = Matcher::compile(&lists).expect_err("two bad terms");
    let at: Vec<(usize, TermGroup, usize)> = errs
        .iter()
        .map(|e| (e.watchlist, e.group, e.index))
        .collect();
    assert_eq!(
        at,
        [(0, TermGroup::Keywords, 1), (1, TermGroup::Exclude, 0)]
    );
}

/// Property test find: an article before a digit was stripped from the key,
/// which then no longer started with Arabic, so the term lost the proclitic
/// rule and did not match its own text.
#[test]
fn issue_3_article_before_digit() {
    assert!(matches("أل٢اا", "أل٢اا"));
    assert!(matches("ال16", "وال16"));
    assert!(matches("النيجر", "والنيجر"));
}

#[test]
fn matcher_is_shareable() {
    fn assert_send_sync<T: Send + Sync + std::fmt::Debug>() {}
    assert_send_sync::<Matcher>();
}

/// A snippet highlights its own watchlist's terms, every occurrence inside
/// the window, and nothing of another watchlist or outside the window.
#[test]
fn snippet_highlights_only_own_terms_inside_the_window() {
    let lists = [
        WatchlistTerms {
            keywords: vec!["Niger".into()],
            ..Default::default()
        },
        WatchlistTerms {
            keywords: vec!["Agadez".into()],
            ..Default::default()
        },
    ];
    let m = Matcher::compile(&lists).expect("valid");
    let far = "filler ".repeat(60);
    let body = format!("Niger and Agadez, then Niger again. {far}Niger at the end.");
    let found = m.find("", &body);
    assert_eq!(found.len(), 2);
    let s = &found[0].snippet;
    let marked: Vec<&str> = s.highlights.iter().map(|h| &s.text[h.clone()]).collect();
    assert_eq!(marked, ["Niger", "Niger"], "{:?}", s.text);
    assert!(
        !s.text.contains("the end"),
        "window is about 200 characters"
    );
    let s = &found[1].snippet;
    let marked: Vec<&str> = s.highlights.iter().map(|h| &s.text[h.clone()]).collect();
    assert_eq!(marked, ["Agadez"]);
}

/// A phrase that starts before a snippet's window is not highlighted, not
/// even the part of it inside the window, however the window falls; a term
/// inside the phrase that lies wholly in the window is.
#[test]
fn snippet_never_highlights_part_of_a_phrase() {
    let lists = [WatchlistTerms {
        keywords: vec![
            "junte".into(),
            "coup d'État militaire".into(),
            "État".into(),
            "Bazoum".into(),
        ],
        ..Default::default()
    }];
    let m = Matcher::compile(&lists).expect("valid");
    let mut cut_inside = 0;
    for n in 0..80 {
        let body = format!(
            "La junte, la junte. Le coup d'État militaire de 2023. {}Bazoum a parlé.",
            "mot ".repeat(n)
        );
        let found = m.find("", &body);
        for hit in &found[0].hits {
            let s = &hit.snippet;
            for h in &s.highlights {
                let marked = &s.text[h.clone()];
                assert!(
                    ["junte", "coup d'État militaire", "d'État", "Bazoum"].contains(&marked),
                    "{marked:?} in {:?}",
                    s.text
                );
            }
            if s.text.starts_with("… d'État") {
                cut_inside += 1;
            }
        }
    }
    assert!(cut_inside > 0, "some window starts inside the phrase");
}

/// ل + الله is written لله; a short term that keeps its article is found
/// after the preposition ل too, and only there.
#[test]
fn short_article_terms_after_lam() {
    let lists = [WatchlistTerms {
        keywords: vec!["الله".into()],
        ..Default::default()
    }];
    let m = Matcher::compile(&lists).expect("valid");
    for text in [
        "الحمد لله",
        "ولله الأمر",
        "فلله",
        "والله",
        "بالله",
        "عبدالله الله",
    ] {
        assert_eq!(m.find("", text).len(), 1, "{text}");
    }
    for text in ["له", "للهجوم", "اللهجة", "لهم"] {
        assert!(m.find("", text).is_empty(), "{text}");
    }
}

/// The automaton walks long texts in several stretches side by side; every
/// occurrence is still reported exactly once, wherever the stretches meet.
#[test]
fn every_occurrence_once_across_stretches() {
    let lists = [WatchlistTerms {
        keywords: vec!["Niger".into(), "Niger Niger Delta".into(), "النيجر".into()],
        ..Default::default()
    }];
    let m = Matcher::compile(&lists).expect("valid");
    for len in [10, 57, 200, 401, 1000] {
        // A deterministic mix of the words, so occurrences fall everywhere.
        let words = ["Niger", "Delta", "x", "النيجر", "Nigeria", "بالنيجر"];
        let mut state = u64::try_from(len).unwrap();
        let text: Vec<&str> = (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                words[(state >> 33) as usize % words.len()]
            })
            .collect();
        let body = text.join(" ");
        let mut expected = Vec::new();
        let mut at = 0;
        for (i, w) in text.iter().enumerate() {
            let span = at..at + w.len();
            if *w == "Niger" {
                expected.push((0, span.clone()));
                if text.get(i + 1..i + 3) == Some(&["Niger", "Delta"][..]) {
                    let end = span.end + " Niger Delta".len();
                    expected.push((1, span.start..end));
                }
            }
            if *w == "النيجر" || *w == "بالنيجر" {
                expected.push((2, span.clone()));
            }
            at = span.end + 1;
        }
        let all = m.all_hits(&Words::new(""), &Words::new(&body));
        let mut got: Vec<(u32, Range<usize>)> = all.fields[1].clone();
        got.sort_by_key(|(c, r)| (r.start, *c));
        expected.sort_by_key(|(c, r)| (r.start, *c));
        assert_eq!(got, expected, "{len} words");
    }
}
