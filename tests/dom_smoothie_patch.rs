//! The patched `dom_smoothie` (`vendor/dom_smoothie`, see its `PATCHED.md`) skips an
//! extraction attempt only when it would repeat the one before; what `parse` returns must be
//! what the published 0.19.0 returns.
//!
//! The published `parse` tries with all three flags, then with one flag fewer at a time
//! (`Strict`, `Moderate`, `Clean`, `Raw`: exactly the four `ParsePolicy` values, each of
//! which runs that one attempt), stops at the first article of at least `char_threshold`
//! characters, and otherwise keeps the longest (the first of equal lengths).
//! `published_parse` does that with four single-attempt parses and is compared with `parse`
//! on short pages built so that each flag does, or does not, change the article: content in
//! blocks whose class makes them unlikely candidates, weighs them down or up, link lists that
//! conditional cleaning removes.

use dom_query::Document;
use dom_smoothie::{Article, Config, ParsePolicy, Readability};
use proptest::prelude::*;

const URL: &str = "https://news.example.org/2026/12/story.html";

fn config() -> Config {
    Config {
        keep_classes: true,
        ..Config::default()
    }
}

/// The length the attempt loop compares: whitespace runs counted as one character, over
/// the article before post-processing (which changes no text).
fn attempt_length(a: &Article) -> usize {
    Document::from(a.content.as_ref())
        .root()
        .normalized_char_count()
}

/// What the published `parse` cannot be seen to return from outside.
struct Unknowable;

/// `Readability::parse` as published in 0.19.0: the attempt loop over four policies;
/// [`Unknowable`] when that cannot be told from outside: a policy whose parse fails may
/// have failed after its attempt found an article (a candidate cleaned away with the id
/// that marks it), whose length the loop compared but this cannot see; that matters when
/// a later policy succeeds.
fn published_parse(html: &str) -> Result<Option<Article>, Unknowable> {
    let threshold = config().char_threshold;
    let mut best: Option<(Article, usize)> = None;
    let mut failed = false;
    for policy in [
        ParsePolicy::Strict,
        ParsePolicy::Moderate,
        ParsePolicy::Clean,
        ParsePolicy::Raw,
    ] {
        let mut r = Readability::new(html, Some(URL), Some(config())).unwrap();
        let Ok(article) = r.parse_with_policy(policy) else {
            failed = true;
            continue;
        };
        if failed {
            return Err(Unknowable);
        }
        let length = attempt_length(&article);
        if length >= threshold {
            return Ok(Some(article));
        }
        if best.as_ref().is_none_or(|(_, l)| length > *l) {
            best = Some((article, length));
        }
    }
    // Every policy failing means every attempt's article failed too, whichever was kept.
    Ok(best.map(|(a, _)| a))
}

fn patched_parse(html: &str) -> Option<Article> {
    Readability::new(html, Some(URL), Some(config()))
        .unwrap()
        .parse()
        .ok()
}

/// Whether the patched `parse` returns what the published one does; `false` when that
/// cannot be told ([`published_parse`]).
fn same(html: &str) -> bool {
    let Ok(published) = published_parse(html) else {
        return false;
    };
    let patched = patched_parse(html);
    match (&published, &patched) {
        (None, None) => {}
        (Some(a), Some(b)) => {
            assert_eq!(a.content, b.content, "content differs for {html}");
            assert_eq!(a.text_content, b.text_content, "text differs for {html}");
            assert_eq!(a.title, b.title);
        }
        _ => panic!(
            "published found {:?}, patched {:?}, for {html}",
            published.map(|a| a.text_content),
            patched.map(|a| a.text_content)
        ),
    }
    true
}

fn assert_same(html: &str) {
    assert!(
        same(html),
        "cannot tell what the published crate returns for {html}"
    );
}

fn page(body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><title>Soldiers leave Agadez base</title></head>\
         <body>{body}</body></html>"
    )
}

const BRIEF: &str = "<p>The last foreign soldiers left the Agadez air base on Sunday, \
    the Niger government said, ending the withdrawal agreed in spring.</p>";

#[test]
fn a_one_paragraph_brief_is_what_it_was() {
    // No flag changes anything here: the patched loop makes one attempt instead of four.
    let html = page(&format!("<h1>Soldiers leave Agadez base</h1>{BRIEF}"));
    assert_same(&html);
    let a = patched_parse(&html).unwrap();
    assert!(
        a.text_content.contains("Agadez air base"),
        "{}",
        a.text_content
    );
}

#[test]
fn a_brief_inside_an_unlikely_block_is_found_as_before() {
    // Only the attempt without `StripUnlikelys` keeps the brief: that attempt must run.
    let html = page(&format!(
        "<div class=\"sidebar\">{BRIEF}</div><div><p>Short.</p></div>"
    ));
    assert_same(&html);
    assert!(patched_parse(&html)
        .unwrap()
        .text_content
        .contains("Agadez air base"));
}

#[test]
fn a_brief_weighed_down_by_its_class_is_what_it_was() {
    let html = page(&format!(
        "<div class=\"widget\">{BRIEF}<p>Officials, diplomats, and residents, \
         all of them, said so, too.</p></div><div class=\"content\"><p>Weather: sunny, 31 degrees, \
         light wind from the north-east.</p></div>"
    ));
    assert_same(&html);
}

#[test]
fn a_brief_with_lists_cleaned_conditionally_is_what_it_was() {
    let html = page(&format!(
        "<div>{BRIEF}<ul><li><a href=\"/a\">Niger</a></li><li><a href=\"/b\">Mali</a></li>\
         <li><a href=\"/c\">Chad</a></li></ul><div><a href=\"/d\">More</a> <a href=\"/e\">news</a>\
         </div></div>"
    ));
    assert_same(&html);
}

/// One block of a generated page: its class, and what it holds.
fn block() -> impl Strategy<Value = String> {
    let class = prop::sample::select(vec![
        "", "sidebar", "comment", "menu", "widget", "share", "content", "article", "footer",
        "related", "promo",
    ]);
    let inner = prop::sample::select(vec![
        BRIEF.to_owned(),
        "<p>Short line.</p>".to_owned(),
        "<p>A longer paragraph, with commas, about the talks in Niamey, the junta, and the \
         troops who remain, for now, at the second base near the border.</p>"
            .to_owned(),
        "<ul><li><a href=\"/x\">Niger</a></li><li><a href=\"/y\">Mali</a></li></ul>".to_owned(),
        "<table><tr><td>Agadez</td><td>31°</td></tr></table>".to_owned(),
        "<form><input name=q></form>".to_owned(),
        "<h2 class=\"meta\">Related</h2>".to_owned(),
    ]);
    let tag = prop::sample::select(vec!["div", "section", "aside", "article"]);
    (class, prop::collection::vec(inner, 1..4), tag).prop_map(|(class, inner, tag)| {
        let attr = if class.is_empty() {
            String::new()
        } else {
            format!(" class=\"{class}\"")
        };
        format!("<{tag}{attr}>{}</{tag}>", inner.concat())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn generated_short_pages_are_what_they_were(blocks in prop::collection::vec(block(), 1..6)) {
        prop_assume!(same(&page(&blocks.concat())));
    }
}
