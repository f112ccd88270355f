//! The patched `dom_query` (`vendor/dom_query`, see its `PATCHED.md`) must count
//! exactly as the published 0.29.0 does: `dom_smoothie`'s scores and cleaning
//! thresholds are built on `NodeRef::normalized_char_count`, so one character
//! more or less can change which block becomes the article.
//!
//! `published_count` is the published code (`dom_tree/helpers.rs` and
//! `TreeNodeOps::normalized_char_count`) applied to the text nodes in document
//! order; it is compared with the patched count on every code point up to
//! U+30FF (all of Unicode's whitespace is below U+3001) in every position of an
//! 8-byte block, and on arbitrary texts split over nested nodes.

use dom_query::{Document, NodeRef};
use proptest::prelude::*;

/// Every `char::is_whitespace` code point above ASCII, and neighbours that are not.
const UNICODE_WHITESPACE: &[char] = &[
    '\u{85}', '\u{A0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}',
    '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200A}', '\u{2028}', '\u{2029}',
    '\u{202F}', '\u{205F}', '\u{3000}',
];
const NEAR_WHITESPACE: &[char] = &[
    '\u{8}', '\u{E}', '\u{1C}', '\u{1F}', '\u{84}', '\u{86}', '\u{9F}', '\u{180E}', '\u{200B}',
    '\u{2060}', '\u{FEFF}', 'é', 'ن', '中', '😀',
];

/// `dom_query` 0.29.0 as published, over the texts of a node's text descendants.
fn published_count(texts: &[&str]) -> usize {
    let mut c = 0;
    let mut last_was_whitespace = true;
    for text in texts {
        let mut prev_was_whitespace = last_was_whitespace;
        for ch in text.chars() {
            let is_ws = ch.is_whitespace();
            if !(prev_was_whitespace && is_ws) {
                c += 1;
            }
            prev_was_whitespace = is_ws;
        }
        last_was_whitespace = text.ends_with(char::is_whitespace);
    }
    if last_was_whitespace && c > 0 {
        c -= 1;
    }
    c
}

/// A `<div>` holding `pieces` as text nodes, each directly in it or in a `<span>`.
fn build<'a>(doc: &'a Document, pieces: &[(bool, &str)]) -> NodeRef<'a> {
    let div = doc.tree.new_element("div");
    for &(in_span, text) in pieces {
        let node = doc.tree.new_text(text);
        if in_span {
            let span = doc.tree.new_element("span");
            span.append_child(&node);
            div.append_child(&span);
        } else {
            div.append_child(&node);
        }
    }
    div
}

#[test]
fn normalized_char_count_every_code_point_in_every_lane() {
    let chars = ('\0'..='\u{30FF}').chain(NEAR_WHITESPACE.iter().copied());
    for c in chars {
        let doc = Document::from("");
        for lane in 0..9 {
            for pad in ["a", " ", "\u{A0}"] {
                let text = format!("{}{c}{c}x\t\n y{c}{}", pad.repeat(lane), " z".repeat(lane));
                for start in [false, true] {
                    let pieces = [(false, if start { " " } else { "b" }), (false, &*text)];
                    let div = build(&doc, &pieces);
                    assert_eq!(
                        div.normalized_char_count(),
                        published_count(&[pieces[0].1, &text]),
                        "{text:?} after {:?}",
                        pieces[0].1
                    );
                }
            }
        }
    }
}

fn soup_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select(vec!['\t', '\n', '\u{B}', '\u{C}', '\r', ' ']),
        4 => prop::sample::select(vec!['a', 'b', 'Z', '0', '.', '<']),
        2 => prop::sample::select(UNICODE_WHITESPACE),
        2 => prop::sample::select(NEAR_WHITESPACE),
        1 => any::<char>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn normalized_char_count_as_published(
        pieces in prop::collection::vec(
            (any::<bool>(), prop::collection::vec(soup_char(), 0..40)),
            0..8,
        )
    ) {
        let texts: Vec<String> = pieces.iter().map(|(_, cs)| cs.iter().collect()).collect();
        let pieces: Vec<(bool, &str)> =
            pieces.iter().zip(&texts).map(|((in_span, _), t)| (*in_span, t.as_str())).collect();
        let doc = Document::from("");
        let div = build(&doc, &pieces);
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        prop_assert_eq!(div.normalized_char_count(), published_count(&texts));
    }
}

/// The page the selector tests select in: classes, ids, attributes, nesting.
const SELECTOR_PAGE: &str = r#"<html><body>
<div id="main" class="content article"><h1>T</h1><p class="lead">a</p><p>b <a href="/x">x</a></p>
<ul><li>1</li><li class="share">2</li></ul></div>
<aside class="related"><p>c</p><a href="https://e.org/">e</a></aside>
<footer><p>d</p></footer></body></html>"#;

/// What `sel` selects (element names and their text), or `None` when it does not parse.
fn selected(doc: &Document, sel: &str) -> Option<Vec<String>> {
    let matcher = dom_query::Matcher::new(sel).ok()?;
    Some(
        doc.select_matcher(&matcher)
            .nodes()
            .iter()
            .map(|n| format!("{}:{}", n.node_name().unwrap_or_default(), n.text()))
            .collect(),
    )
}

/// The patch keeps compiled selectors per thread, by their text. A selector compiled before
/// (and one asked for after the cache was emptied for being full) must select exactly what
/// the same text compiles to on a thread that never saw it; one that does not parse must
/// fail every time.
#[test]
fn kept_selectors_select_as_freshly_compiled_ones() {
    let bases = [
        "p",
        "div p",
        "#main > p",
        ".lead",
        "p.lead",
        "ul li:not(.share)",
        "a[href^='https']",
        "aside p, footer p",
        "li:first-child",
        "div.content.article h1",
        "*",
        "a[href]",
    ];
    // More texts than the cache holds (512), so it empties and fills again.
    let mut selectors: Vec<String> = Vec::new();
    for i in 0..60 {
        for b in bases {
            selectors.push(format!("{b}{}", ", x".repeat(i % 4) + &format!(", i{i}")));
        }
    }
    selectors.extend(["p[", "::", "div >", ""].map(str::to_owned));
    assert!(selectors.len() > 512 + 100);
    let fresh: Vec<Option<Vec<String>>> = selectors
        .iter()
        .map(|sel| {
            let sel = sel.clone();
            std::thread::spawn(move || selected(&Document::from(SELECTOR_PAGE), &sel))
                .join()
                .expect("thread")
        })
        .collect();
    let doc = Document::from(SELECTOR_PAGE);
    for round in 0..3 {
        for (sel, want) in selectors.iter().zip(&fresh) {
            assert_eq!(&selected(&doc, sel), want, "round {round}: {sel:?}");
        }
    }
    // They do select something, and the broken ones fail.
    assert_eq!(fresh[0].as_ref().map(Vec::len), Some(4), "{:?}", fresh[0]);
    assert!(fresh[fresh.len() - 4..].iter().all(Option::is_none));
}
