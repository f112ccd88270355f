#![allow(
    clippy::single_range_in_vec_init,
    reason = "highlights are lists of byte ranges; one-element lists are the point"
)]

use super::*;
use chrono::TimeZone;
use unicode_segmentation::UnicodeSegmentation;

fn at(h: u32, m: u32) -> Option<DateTime<Utc>> {
    Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).single()
}

fn item(source: &str, title: &str, published: Option<DateTime<Utc>>) -> DigestItem {
    DigestItem {
        title: title.into(),
        url: format!("https://example.org/{}", title.replace(' ', "-")),
        source: source.into(),
        published,
        lang: None,
        terms: vec!["Niger".into()],
        snippet: "Troops left Niger today.".into(),
        highlights: vec![12..17],
        title_highlights: vec![],
        also_in: vec![],
        more_copies: 0,
    }
}

fn digest(items: Vec<DigestItem>) -> Digest {
    Digest::new("niger", items, chrono_tz::Africa::Niamey)
}

fn seg(text: &str, highlight: bool) -> Segment {
    Segment {
        text: text.into(),
        highlight,
    }
}

#[test]
fn subject_format_and_one_line() {
    let mut d = digest(vec![item("a", "t", None)]);
    assert_eq!(
        render_digest(&d).subject,
        "[newswatch] niger: 1 new article"
    );
    d.watchlist = "x\r\nBcc: evil@example.org".into();
    let s = render_digest(&d).subject;
    assert!(!s.contains('\r') && !s.contains('\n'), "{s:?}");
    assert_eq!(s, "[newswatch] x Bcc: evil@example.org: 1 new article");
    d.watchlist = "niger".into();
    d.items.push(item("b", "u", None));
    assert_eq!(
        render_digest(&d).subject,
        "[newswatch] niger: 2 new articles"
    );
    d.part = Some(PartOf { number: 2, of: 3 });
    assert_eq!(
        render_digest(&d).subject,
        "[newswatch] niger: 2 new articles (2/3)"
    );
    let r = render_digest(&d);
    assert!(r
        .text
        .starts_with("2 new articles (part 2 of 3) for watchlist \"niger\"."));
}

#[test]
fn script_in_title_and_snippet_is_escaped() {
    let mut i = item("s<b>", "<script>alert(1)</script> & co", at(10, 0));
    i.snippet = "before <script>x()</script> Niger \"q\"".into();
    i.highlights = vec![28..33];
    i.terms = vec!["<i>Niger</i>".into()];
    let mut d = digest(vec![i]);
    d.footer = vec!["Source <img src=x> failing".into()];
    d.watchlist = "<w>".into();
    let r = render_digest(&d);
    for raw in ["<script", "<img", "<i>", "s<b>", "<w>"] {
        assert!(!r.html.contains(raw), "raw {raw:?} in html");
    }
    assert!(r
        .html
        .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
    assert!(r.html.contains(">Niger</b>"));
    // The text part is not HTML: it shows the title as is.
    assert!(r.text.contains("<script>alert(1)</script> & co"));
}

#[test]
fn href_is_attribute_escaped() {
    let mut i = item("s", "t", None);
    i.url = "https://example.org/a?x=1&y=\"><script>".into();
    let r = render_digest(&digest(vec![i]));
    assert!(!r.html.contains("\"><script>"));
    assert!(r
        .html
        .contains("href=\"https://example.org/a?x=1&amp;y=%22%3E%3Cscript%3E\""));
}

#[test]
fn only_http_and_https_are_linked() {
    for (url, linked) in [
        ("javascript:alert(1)", false),
        (" JavaScript:alert(1)", false),
        ("java\nscript:alert(1)", false),
        ("data:text/html,<b>x</b>", false),
        ("/relative/path", false),
        ("", false),
        ("http://example.org/a", true),
        ("HTTPS://example.org/a", true),
    ] {
        let mut i = item("s", "Title", None);
        i.url = url.into();
        let html = render_digest(&digest(vec![i])).html;
        assert_eq!(html.contains("<a "), linked, "{url:?}: {html}");
        assert!(!html.contains("href=\"javascript"), "{url:?}");
    }
}

#[test]
fn arabic_item_is_rtl() {
    let mut by_lang = item("bbc-ar", "Title", at(9, 0));
    by_lang.lang = Some("ar".into());
    let mut by_script = item("aljazeera", "انسحاب القوات من النيجر", at(8, 0));
    by_script.snippet = "أعلنت الحكومة في النيجر اليوم".into();
    by_script.highlights = vec![];
    let latin = item("rfi", "Le Niger et l'armée", at(7, 0));
    let r = render_digest(&digest(vec![by_lang, by_script, latin]));
    assert_eq!(r.html.matches("dir=\"rtl\"").count(), 2, "{}", r.html);
    let rtl_blocks: Vec<&str> = r
        .html
        .lines()
        .filter(|l| l.starts_with("<tr><td dir=\"rtl\""))
        .collect();
    assert_eq!(rtl_blocks.len(), 2);
    assert!(rtl_blocks.iter().all(|l| l.contains("text-align:right;")));
    assert!(r.html.contains("<td dir=\"rtl\" lang=\"ar\""));
    assert_eq!(r.html.matches("<td dir=\"ltr\"").count(), 1);
}

#[test]
fn rtl_detection() {
    assert!(is_rtl(Some("ar-EG"), "Niger", ""));
    assert!(is_rtl(Some("AR"), "", ""));
    assert!(!is_rtl(Some("arn"), "Niger", ""));
    assert!(is_rtl(None, "النيجر: 3 قتلى في Niamey", ""));
    assert!(!is_rtl(None, "Niger: النيجر in the news today", ""));
    assert!(!is_rtl(Some("fr"), "", ""));
}

#[test]
fn text_wraps_at_72_columns() {
    let mut i = item("s", &"headline words ".repeat(20), at(10, 0));
    i.url = format!("https://example.org/{}", "long-path-".repeat(12));
    i.snippet = format!(
        "{} Niger {} {}",
        "lorem ipsum dolor ".repeat(10),
        "x".repeat(100),
        "النيجر ".repeat(20)
    );
    i.highlights = vec![181..186];
    let mut d = digest(vec![i]);
    d.footer = vec!["Source s has been failing since 2026-11-24 12:00 WAT: ".repeat(3)];
    let r = render_digest(&d);
    let url = format!("  {}", d.items[0].url);
    let title = format!("* {}", d.items[0].title.trim());
    for line in r.text.lines() {
        if line == url || line == title {
            continue;
        }
        assert!(line.chars().count() <= TEXT_WIDTH, "too long: {line:?}");
    }
    assert!(
        r.text.lines().any(|l| l == title),
        "title not whole on its own line"
    );
    assert!(r.text.lines().any(|l| l == url), "URL not on its own line");
    assert!(r.text.contains("**Niger**"));
}

#[test]
fn wrap_keeps_words_and_graphemes_whole() {
    assert_eq!(
        text::wrap("aaa bbb ccc", 7, "", ""),
        vec!["aaa bbb".to_string(), "ccc".to_string()]
    );
    assert_eq!(
        text::wrap("aaa bbb", 7, "* ", "  "),
        vec!["* aaa".to_string(), "  bbb".to_string()]
    );
    // A word longer than the line is cut between graphemes, never inside one.
    let word = "e\u{301}".repeat(10);
    let lines = text::wrap(&word, 4, "", "");
    assert_eq!(lines.len(), 3);
    for l in &lines {
        assert!(l.graphemes(true).count() <= 4);
        assert!(!l.starts_with('\u{301}'));
    }
    assert_eq!(lines.concat(), word);
    // A combining mark after a space stays with it (one grapheme) and is kept.
    let joined = text::wrap("a \u{301}b c", 80, "", "").concat();
    assert!(joined.contains('\u{301}'));
    assert!(text::wrap("   ", 10, "", "").is_empty());
}

#[test]
fn items_in_the_order_given_full_then_compact() {
    let mut d = digest(vec![
        item("s1", "first", at(8, 0)),
        item("s2", "second", None),
        item("s3", "third", at(12, 0)),
    ]);
    d.full = 1;
    let r = render_digest(&d);
    let order: Vec<&str> = r
        .text
        .lines()
        .filter_map(|l| l.strip_prefix("* "))
        .collect();
    assert_eq!(order, ["first", "second", "third"]);
    assert_eq!(r.text.matches("Matched: Niger").count(), 1, "{}", r.text);
    assert_eq!(
        r.text.matches("Troops left").count(),
        1,
        "compact items have no snippet"
    );
    assert!(r.text.contains("More new articles, in brief:"));
    let html_pos = |s: &str| r.html.find(s).unwrap();
    assert!(html_pos(">first<") < html_pos(">second<"));
    assert!(html_pos("in brief") < html_pos(">second<"));
    assert_eq!(r.html.matches("Matched:").count(), 1);
}

#[test]
fn also_in_is_one_line_after_title_and_link() {
    let mut i = item("reuters", "Niger: US troops to leave", at(9, 0));
    i.also_in = (0..4)
        .map(|k| OtherCopy {
            source: format!("outlet-{k}"),
            url: format!(
                "https://outlet-{k}.example/world/africa/{}",
                "long-slug-".repeat(6)
            ),
        })
        .collect();
    i.more_copies = 3;
    let r = render_digest(&digest(vec![i.clone()]));
    let lines: Vec<&str> = r.text.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("* Niger")).unwrap();
    assert_eq!(lines[at + 1], format!("  {}", i.url));
    let also = lines[at + 2].trim_start();
    assert!(also.starts_with("Also in: "), "{also}");
    for c in &i.also_in {
        assert!(also.contains(&format!("{} {}", c.source, c.url)), "{also}");
    }
    assert!(also.ends_with("| and 3 more copies"), "{also}");
    assert_eq!(r.text.matches("Also in:").count(), 1);
    assert!(r
        .html
        .contains("Also in: <a href=\"https://outlet-0.example/"));
    assert!(r.html.contains(" and 3 more copies</div>"));
    // Compact items say it too.
    let mut d = digest(vec![i]);
    d.full = 0;
    assert!(render_digest(&d)
        .text
        .contains("  Also in: outlet-0 https://"));
}

#[test]
fn title_highlights_and_no_lone_ellipsis() {
    let mut i = item("s", "Niger: troops leave Niger", at(9, 0));
    i.title_highlights = vec![0..5, 20..25];
    i.snippet = format!("… {} end …", "word ".repeat(13).trim_end());
    i.highlights = vec![];
    let r = render_digest(&digest(vec![i]));
    // The text part keeps the title as written, on one line; the HTML part marks it.
    assert!(
        r.text.contains("\n* Niger: troops leave Niger\n"),
        "{}",
        r.text
    );
    assert_eq!(r.html.matches(">Niger</b>").count(), 2);
    for width in [8usize, 20, 30, 66, 67, 68, 69, 70] {
        let line = format!("{} …", "x".repeat(width));
        for l in text::wrap(&line, 72, "  ", "  ") {
            assert_ne!(l.trim(), "…", "width {width}");
        }
        for l in text::wrap(&format!("… {line}"), 72, "  ", "  ") {
            assert_ne!(l.trim(), "…", "width {width}");
        }
    }
    for l in r.text.lines() {
        assert_ne!(l.trim(), "…");
    }
}

#[test]
fn earlier_stories_are_listed_under_their_title() {
    let mut d = digest(vec![item("s", "new story", at(9, 0))]);
    d.earlier = vec![EarlierStory {
        title: "Mailed yesterday".into(),
        url: "https://a.example/1".into(),
        source: "reuters".into(),
        mailed: at(7, 0).unwrap(),
        also_in: vec![OtherCopy {
            source: "late-wire".into(),
            url: "https://late.example/x".into(),
        }],
        more_copies: 0,
    }];
    let r = render_digest(&d);
    assert_eq!(r.subject, "[newswatch] niger: 1 new article");
    let tail = &r.text[r.text.find("Already mailed, now also in:").unwrap()..];
    assert!(tail.contains("* Mailed yesterday\n  https://a.example/1\n  Also in: late-wire https://late.example/x\n  reuters | mailed 2026-11-24 08:00 WAT"), "{tail}");
    assert!(r.html.contains("Already mailed, now also in"));
}

#[test]
fn long_titles_urls_and_snippets_are_bounded() {
    let mut i = item("s", &"T".repeat(5000), at(9, 0));
    i.url = format!("https://example.org/{}", "p".repeat(10_000));
    i.snippet = "Niger ".repeat(1000);
    i.terms = (0..100).map(|k| format!("term{k}")).collect();
    let size = measure_item(&i, true, chrono_tz::UTC);
    assert!(size.html < 20_000 && size.text < 10_000, "{size:?}");
    let r = render_digest(&digest(vec![i]));
    assert!(!r.html.contains("<a "), "a URL cut short is not linked");
}

#[test]
fn published_time_in_digest_timezone() {
    let r = render_digest(&digest(vec![item("s", "t", at(13, 5))]));
    assert!(r.text.contains("s | 2026-11-24 14:05 WAT"), "{}", r.text);
    assert!(r.html.contains("<bdi>2026-11-24 14:05 WAT</bdi>"));
}

#[test]
fn highlights_at_start_end_adjacent() {
    assert_eq!(
        segments("Niger and Mali", &[0..5, 10..14]),
        vec![seg("Niger", true), seg(" and ", false), seg("Mali", true)]
    );
    // Touching ranges merge into one run.
    assert_eq!(
        segments("NigerMali x", &[0..5, 5..9]),
        vec![seg("NigerMali", true), seg(" x", false)]
    );
    assert_eq!(segments("whole", &[0..5]), vec![seg("whole", true)]);
    assert_eq!(segments("", &[]), vec![]);
}

#[test]
fn invalid_highlights_are_skipped() {
    let s = "é Niger";
    let want = vec![seg("é ", false), seg("Niger", true)];
    // Out of bounds, empty, reversed, inside a char: skipped. Unsorted and
    // overlapping ones are sorted and merged.
    #[allow(clippy::reversed_empty_ranges, reason = "testing bad input")]
    let bad = vec![3..8, 1..2, 4..4, 5..3, 0..99, 99..100, 3..6];
    assert_eq!(segments(s, &bad), want);
    let r = render_digest(&digest(vec![DigestItem {
        snippet: s.into(),
        highlights: bad,
        ..item("s", "t", None)
    }]));
    assert!(r.text.contains("é **Niger**"));
}

#[test]
fn arabic_highlight_on_grapheme_boundaries() {
    // "النيجرُ": the damma (U+064F) belongs to the last letter's grapheme.
    let s = "في النيجرُ اليوم";
    let start = s.find("النيجر").unwrap();
    let end = start + "النيجر".len(); // stops before the damma
    let segs = segments(s, &[start..end]);
    assert_eq!(segs[1], seg("النيجرُ", true));
    let text = render_digest(&digest(vec![DigestItem {
        snippet: s.into(),
        highlights: vec![start..end],
        lang: Some("ar".into()),
        ..item("s", "t", None)
    }]))
    .text;
    assert!(text.contains("**النيجرُ**"), "{text}");
    // A range starting on the damma widens back to its base letter.
    let damma = s.find('\u{64F}').unwrap();
    assert_eq!(
        segments(s, &[damma..damma + 2]),
        vec![seg("في النيج", false), seg("رُ", true), seg(" اليوم", false)]
    );
}

#[test]
fn controls_and_bidi_overrides_are_dropped() {
    let mut i = item("s", "a\u{202E}evil\u{1b}[31m\ttitle", None);
    i.snippet = "x\u{2066}y\n\nz".into();
    i.highlights = vec![];
    let r = render_digest(&digest(vec![i]));
    assert!(r.text.contains("* aevil[31m title"));
    assert!(r.text.contains("  xy z"));
    assert!(!r.html.contains('\u{202E}') && !r.html.contains('\u{1b}'));
}

#[test]
fn empty_digest_renders_footer() {
    let mut d = digest(vec![]);
    d.footer = vec!["Source bbc-ar has recovered (2026-11-24 14:05 WAT).".into()];
    let r = render_digest(&d);
    assert_eq!(r.subject, "[newswatch] niger: 0 new articles");
    assert!(r
        .text
        .starts_with("No new articles for watchlist \"niger\"."));
    assert!(r.text.contains("- Source bbc-ar has recovered"));
    assert!(r.text.contains("watchlist \"niger\""));
    assert!(r.html.contains("Source health"));
    assert!(r.html.ends_with("</html>\n"));
}

#[test]
fn html_has_no_remote_resources() {
    let mut i = item("s", "t", at(1, 0));
    i.snippet = "<img src=\"http://tracker/x.png\"><link rel=stylesheet href=//x>".into();
    let r = render_digest(&digest(vec![i]));
    assert!(r.html.starts_with("<!DOCTYPE html>"));
    assert!(r.html.contains("<meta charset=\"utf-8\">"));
    for bad in ["<img", "<link", "<script", "<style", "url("] {
        assert!(!r.html.contains(bad), "{bad}");
    }
}

proptest::proptest! {
    /// Any snippet with any ranges renders without panicking, the text part
    /// stays within the width (URL lines aside) and no raw `<` from the web
    /// reaches the HTML outside our own tags.
    #[test]
    fn never_panics_and_stays_narrow(
        snippet in "[a-zé \u{64F}\u{627}-\u{64A}<>&\"\n\u{301}]{0,200}",
        title in "[a-z \u{627}-\u{64A}<]{0,120}",
        ranges in proptest::collection::vec((0usize..220, 0usize..220), 0..8),
    ) {
        let d = digest(vec![DigestItem {
            title: title.clone(),
            snippet: snippet.clone(),
            highlights: ranges.into_iter().map(|(a, b)| a..b).collect(),
            ..item("s", "t", at(3, 0))
        }]);
        let r = render_digest(&d);
        let url = format!("  {}", d.items[0].url);
        // The title's line is never wrapped (it is at most MAX_TITLE characters).
        let title_line = |l: &str| l.starts_with("* ");
        for line in r.text.lines().filter(|l| *l != url && !title_line(l)) {
            proptest::prop_assert!(line.graphemes(true).count() <= TEXT_WIDTH, "{line:?}");
        }
        let body = &r.html[r.html.find("<body").unwrap()..];
        let raw_lt = body.contains("<<") || body.contains("< ") || body.contains("<\u{627}");
        proptest::prop_assert!(!raw_lt, "unescaped < in {}", body);
    }
}
