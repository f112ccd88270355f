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
