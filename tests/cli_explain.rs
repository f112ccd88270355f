//! `newswatch explain` through the binary: why a phrase matched word by word or nearly did
//! (issue 14 item 3), a page with no article shown as its text, not its markup (item 4), and
//! an article's rank in a digest part by part (issue 19 item 2).

mod support;

use support::cli::newswatch;
use support::config::{self, ConfigFile};

/// Runs `explain --watchlist base` on a file holding `doc`; returns (exit code, stdout).
fn explain(doc: &str, file: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = ConfigFile::in_dir(dir.path())
        .with(config::source("s", "https://example.org/feed.xml"))
        .with(
            config::watchlist(
                "base",
                &["قاعدة جوية", "retrait d'Agadez", "troop withdrawal"],
            )
            .set("to", vec!["analyst@example.org"]),
        )
        .write_in(dir.path());
    let input = dir.path().join(file);
    std::fs::write(&input, doc).expect("write document");
    let input = input.to_str().expect("a UTF-8 path");
    let out = newswatch(&cfg, &["explain", "--watchlist", "base", input]);
    (out.code, out.stdout)
}

#[test]
fn issue_14_phrases_are_explained_word_by_word_and_near_misses_named() {
    let (code, out) = explain(
        "قصفت الطائرات بالقاعدة الجوية في أغاديز. Le retrait d’Agadez est annoncé. \
         Many troop withdrawals. قاعدة عسكرية جوية",
        "doc.txt",
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("MATCH"), "{out}");
    // The article on every word of an Arabic phrase, and a proclitic on its first.
    assert!(
        out.contains(
            r#"each word compared as a word: "بالقاعدة" for "قاعدة", "الجوية" for "جوية""#
        ),
        "{out}"
    );
    assert!(out.contains("[بالقاعدة الجوية]"), "{out}");
    // French elision with a curly apostrophe inside a phrase.
    assert!(out.contains("[retrait d’Agadez]"), "{out}");
    // A plural on the last English word.
    assert!(out.contains(r#""withdrawals" for "withdrawal""#), "{out}");
    // A phrase interrupted by another word is a near miss, and says which word differs.
    assert!(
        out.contains(r#""قاعدة عسكرية" in body"#) && out.contains(r#""عسكرية" is not "جوية""#),
        "{out}"
    );
}

#[test]
fn issue_14_a_page_without_an_article_is_explained_on_its_text_not_its_markup() {
    let page = "<!DOCTYPE html><html><head><title>Menu</title></head><body>\
        <nav><a href=\"/a\">Home</a> <a href=\"/b\">World</a> <a href=\"/c\">Sahel</a></nav>\
        <div class=\"promo\">troop withdrawal</div></body></html>";
    let (code, out) = explain(page, "page.html");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("no article found on this page"), "{out}");
    assert!(
        out.contains("  | troop withdrawal"),
        "the text it shows: {out}"
    );
    assert!(
        !out.contains("<a href") && !out.contains("<div"),
        "no markup: {out}"
    );
    assert!(out.contains("MATCH"), "matched on that text: {out}");
}

#[test]
fn issue_19_a_matching_article_shows_its_rank_part_by_part() {
    let (_, out) = explain(
        "Troop withdrawals were announced on Friday, officials said.",
        "doc.txt",
    );
    let line = out
        .lines()
        .find(|l| l.starts_with("rank in a digest"))
        .unwrap_or_else(|| panic!("no rank line: {out}"));
    // A term at the first word of the body, once, no title, one outlet, just now.
    assert!(
        line.contains("title 0 + early 20 + often 2 + outlets 0 + recency 20 = 42"),
        "{line}"
    );
    let (_, miss) = explain("Nothing of interest here at all today.", "doc.txt");
    assert!(
        !miss.contains("rank in a digest"),
        "no rank without a match: {miss}"
    );
}
