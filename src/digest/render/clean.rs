//! Web text made fit to show: controls and bidi overrides dropped, whitespace collapsed,
//! highlight ranges checked and widened to graphemes, URLs vetted for linking, long
//! strings cut, and the direction of an item's script.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use super::{Segment, MAX_TITLE, MAX_URL};

/// A URL as shown (whitespace and controls removed, cut at [`MAX_URL`] bytes) and its
/// link target, if it is one.
pub(super) fn shown_url(raw: &str) -> (String, Option<String>) {
    let url: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control() && !is_bidi_control(*c))
        .collect();
    if url.len() > MAX_URL {
        let mut end = MAX_URL;
        while !url.is_char_boundary(end) {
            end -= 1;
        }
        return (format!("{}…", &url[..end]), None);
    }
    let href = link_target(&url);
    (url, href)
}

/// The title's runs, highlighted where the terms are; cut at [`MAX_TITLE`] characters
/// (without highlights then).
pub(super) fn title_segments(title: &str, highlights: &[Range<usize>]) -> Vec<Segment> {
    let cleaned = clean(title);
    if cleaned.chars().count() > MAX_TITLE {
        return vec![Segment {
            text: cut(&cleaned, MAX_TITLE),
            highlight: false,
        }];
    }
    segments(title, highlights)
}

/// `s` cut to at most `max` characters on a grapheme boundary, with `…` if it was cut.
pub(super) fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut n = 0;
    for g in s.graphemes(true) {
        n += g.chars().count();
        if n > max.saturating_sub(1) {
            break;
        }
        out.push_str(g);
    }
    format!("{}…", out.trim_end())
}

/// The URL to link to, if it is an absolute `http`/`https` URL. Anything else
/// (`javascript:`, `data:`, relative, unparsable) is shown but never linked.
pub(super) fn link_target(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

/// Explicit bidi formatting characters (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI,
/// PDI). Unbalanced ones from a title would reorder everything after them.
pub(super) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// One line of display text: controls and bidi overrides dropped, whitespace
/// runs collapsed to one space, trimmed.
pub(super) fn clean(s: &str) -> String {
    collapse(s).trim().to_string()
}

/// Like [`clean`] but not trimmed, for snippet segments that sit next to each other.
pub(super) fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = true;
        } else if !c.is_control() && !is_bidi_control(c) {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    if space {
        out.push(' ');
    }
    out
}

/// Split `snippet` into plain and highlighted runs.
///
/// Ranges that are empty, out of bounds or not on char boundaries are skipped;
/// the rest are widened to grapheme boundaries, sorted and merged when they
/// overlap or touch. Never panics.
pub(super) fn segments(snippet: &str, highlights: &[Range<usize>]) -> Vec<Segment> {
    let bounds: Vec<usize> = snippet
        .grapheme_indices(true)
        .map(|(i, _)| i)
        .chain(std::iter::once(snippet.len()))
        .collect();
    let mut ranges: Vec<Range<usize>> = highlights
        .iter()
        .filter(|r| {
            r.start < r.end
                && r.end <= snippet.len()
                && snippet.is_char_boundary(r.start)
                && snippet.is_char_boundary(r.end)
        })
        .map(|r| {
            // `bounds` starts with 0 and ends with len, so both lookups succeed.
            let start = bounds[bounds.partition_point(|&b| b <= r.start) - 1];
            let end = bounds[bounds.partition_point(|&b| b < r.end)];
            start..end
        })
        .collect();
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }

    let mut out = Vec::new();
    let mut push = |text: &str, highlight: bool| {
        let text = collapse(text);
        if !text.is_empty() {
            out.push(Segment { text, highlight });
        }
    };
    let mut at = 0;
    for r in merged {
        push(&snippet[at..r.start], false);
        push(&snippet[r.clone()], true);
        at = r.end;
    }
    push(&snippet[at..], false);
    if let Some(first) = out.first_mut() {
        first.text = first.text.trim_start().to_string();
    }
    if let Some(last) = out.last_mut() {
        last.text = last.text.trim_end().to_string();
    }
    out.retain(|s| !s.text.is_empty());
    out
}

/// Primary language subtags written right to left.
pub(super) const RTL_LANGS: &[&str] =
    &["ar", "fa", "ur", "he", "ps", "ckb", "sd", "ug", "yi", "dv"];

/// Whether an item reads right to left: its language says so, or most letters
/// of its title and snippet are in a right-to-left script.
pub(super) fn is_rtl(lang: Option<&str>, title: &str, snippet: &str) -> bool {
    if let Some(lang) = lang {
        let primary = lang.split(['-', '_']).next().unwrap_or("");
        if RTL_LANGS.iter().any(|l| primary.eq_ignore_ascii_case(l)) {
            return true;
        }
    }
    let (mut letters, mut rtl) = (0usize, 0usize);
    for c in title.chars().chain(snippet.chars()) {
        if c.is_alphabetic() {
            letters += 1;
            if is_rtl_letter(c) {
                rtl += 1;
            }
        }
    }
    rtl * 2 > letters
}

/// Hebrew and Arabic-script blocks (Arabic, Supplement, Extended-A,
/// Presentation Forms A and B).
pub(super) fn is_rtl_letter(c: char) -> bool {
    matches!(c,
        '\u{0590}'..='\u{05FF}'
        | '\u{0600}'..='\u{06FF}'
        | '\u{0750}'..='\u{077F}'
        | '\u{08A0}'..='\u{08FF}'
        | '\u{FB1D}'..='\u{FDFF}'
        | '\u{FE70}'..='\u{FEFF}')
}

/// A language tag safe to put in an attribute: letters, digits and `-` only.
pub(super) fn lang_attr(lang: &str) -> Option<String> {
    let lang = lang.trim();
    (!lang.is_empty()
        && lang.len() <= 35
        && lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    .then(|| lang.to_string())
}
