//! Rendering: a [`Digest`] value → [`Rendered`] `{ subject, text, html }`. Pure.
//!
//! Owns everything the reader sees: grouping, ordering, time formatting,
//! highlight markers, escaping, right-to-left layout and line wrapping. It does
//! not decide what goes into a digest ([`super::build`]) nor how it is sent
//! ([`crate::mail`]).
//!
//! Both parts show the same thing in the same order:
//!
//! - Items are grouped by source. Sources are ordered by their newest item,
//!   newest first; within a source items are newest first; items without a
//!   published time come last (in the order they were given). Ties between
//!   sources go by source name.
//! - Published times are shown in [`Digest::timezone`] as
//!   `2026-11-24 14:05 WAT` (`%Y-%m-%d %H:%M %Z`).
//! - Highlights are marked `**Niger**` in the text part and with an inline
//!   styled `<b>` in the HTML part (`<b>` survives more mail clients than
//!   `<mark>`). Highlight ranges are widened to grapheme boundaries so a marker
//!   never separates an Arabic letter from its diacritics; invalid ranges are
//!   skipped, overlapping or touching ones merged.
//! - The text part is wrapped at [`TEXT_WIDTH`] columns (a column is one
//!   grapheme) on whole words; URLs are never wrapped and sit on their own line.
//! - The HTML part is a complete document with inline styles, table layout and
//!   no remote resources. Titles are linked only for `http`/`https` URLs. Every
//!   string taken from the web is escaped. Right-to-left items (Arabic, or
//!   another right-to-left language or script) get `dir="rtl"` and
//!   `text-align:right` on their block; source names, terms and times sit in
//!   `<bdi>` so mixed-direction lines keep their order.
//!
//! Web text is cleaned before it is shown: control characters and explicit
//! bidi embeddings/overrides/isolates are dropped (they could reorder the rest
//! of the line) and runs of whitespace become one space.

mod html;
mod text;

use chrono::{DateTime, Utc};
use std::cmp::Ordering;
use std::ops::Range;
use unicode_segmentation::UnicodeSegmentation;

/// Width of the plain-text part, in columns (graphemes).
pub const TEXT_WIDTH: usize = 72;

/// The `strftime` format of published times.
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M %Z";

/// One matched article in a digest.
#[derive(Debug, Clone)]
pub struct DigestItem {
    pub title: String,
    pub url: String,
    pub source: String,
    pub published: Option<DateTime<Utc>>,
    /// Language tag of the article (`ar`, `fr-FR`), when known.
    pub lang: Option<String>,
    pub terms: Vec<String>,
    pub snippet: String,
    /// Byte ranges into `snippet`, sorted, disjoint, on char boundaries.
    /// The renderer still checks them and skips the ones that are not.
    pub highlights: Vec<Range<usize>>,
}

/// Everything one digest email shows.
#[derive(Debug, Clone)]
pub struct Digest {
    pub watchlist: String,
    pub items: Vec<DigestItem>,
    /// Source health notes ("source x has failed for 24 hours").
    pub footer: Vec<String>,
    pub timezone: chrono_tz::Tz,
}

pub use crate::model::Rendered;

/// Render `d` to a subject, a plain-text part and an HTML part.
#[must_use]
pub fn render_digest(d: &Digest) -> Rendered {
    let view = View::new(d);
    Rendered {
        subject: format!(
            "[newswatch] {}: {} new article(s)",
            view.watchlist,
            d.items.len()
        ),
        text: text::render(&view),
        html: html::render(&view),
    }
}

/// The digest, cleaned, grouped and ordered: what both parts render.
struct View {
    /// Cleaned to one line.
    watchlist: String,
    count: usize,
    groups: Vec<Group>,
    footer: Vec<String>,
}

struct Group {
    source: String,
    items: Vec<ItemView>,
}

struct ItemView {
    title: String,
    /// The URL as shown (whitespace and controls removed); may be empty.
    url: String,
    /// The link target, only for valid `http`/`https` URLs.
    href: Option<String>,
    source: String,
    published: Option<String>,
    terms: Vec<String>,
    snippet: Vec<Segment>,
    rtl: bool,
    /// A sanitised language tag for the HTML `lang` attribute.
    lang: Option<String>,
}

/// A run of snippet text, highlighted or not.
#[derive(Debug, PartialEq, Eq)]
struct Segment {
    text: String,
    highlight: bool,
}

impl View {
    fn new(d: &Digest) -> View {
        let mut groups: Vec<(&str, Vec<&DigestItem>)> = Vec::new();
        for item in &d.items {
            match groups.iter_mut().find(|(s, _)| *s == item.source) {
                Some((_, items)) => items.push(item),
                None => groups.push((&item.source, vec![item])),
            }
        }
        for (_, items) in &mut groups {
            items.sort_by(|a, b| newest_first(a.published, b.published));
        }
        groups.sort_by(|(sa, a), (sb, b)| {
            newest_first(a[0].published, b[0].published).then_with(|| sa.cmp(sb))
        });
        View {
            watchlist: clean(&d.watchlist),
            count: d.items.len(),
            groups: groups
                .into_iter()
                .map(|(source, items)| Group {
                    source: clean(source),
                    items: items
                        .into_iter()
                        .map(|i| item_view(i, d.timezone))
                        .collect(),
                })
                .collect(),
            footer: d.footer.iter().map(|f| clean(f)).collect(),
        }
    }
}

impl View {
    /// Why the mail was sent; `name` is the watchlist name as the part shows it.
    fn why(&self, name: &str) -> String {
        if self.count == 0 {
            format!("newswatch sent this because sources of the watchlist {name} changed health.")
        } else {
            format!("newswatch sent this because new articles matched the watchlist {name}.")
        }
    }
}

fn item_view(i: &DigestItem, tz: chrono_tz::Tz) -> ItemView {
    let url: String = i
        .url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control() && !is_bidi_control(*c))
        .collect();
    let title = clean(&i.title);
    ItemView {
        title: if title.is_empty() { url.clone() } else { title },
        href: link_target(&url),
        url,
        source: clean(&i.source),
        published: i
            .published
            .map(|p| p.with_timezone(&tz).format(TIME_FORMAT).to_string()),
        terms: i
            .terms
            .iter()
            .map(|t| clean(t))
            .filter(|t| !t.is_empty())
            .collect(),
        snippet: segments(&i.snippet, &i.highlights),
        rtl: is_rtl(i.lang.as_deref(), &i.title, &i.snippet),
        lang: i.lang.as_deref().and_then(lang_attr),
    }
}

/// `Some` newest first, then `None`.
fn newest_first(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.cmp(&a),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The URL to link to, if it is an absolute `http`/`https` URL. Anything else
/// (`javascript:`, `data:`, relative, unparsable) is shown but never linked.
fn link_target(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

/// Explicit bidi formatting characters (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI,
/// PDI). Unbalanced ones from a title would reorder everything after them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// One line of display text: controls and bidi overrides dropped, whitespace
/// runs collapsed to one space, trimmed.
fn clean(s: &str) -> String {
    collapse(s).trim().to_string()
}

/// Like [`clean`] but not trimmed, for snippet segments that sit next to each other.
fn collapse(s: &str) -> String {
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
fn segments(snippet: &str, highlights: &[Range<usize>]) -> Vec<Segment> {
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
const RTL_LANGS: &[&str] = &["ar", "fa", "ur", "he", "ps", "ckb", "sd", "ug", "yi", "dv"];

/// Whether an item reads right to left: its language says so, or most letters
/// of its title and snippet are in a right-to-left script.
fn is_rtl(lang: Option<&str>, title: &str, snippet: &str) -> bool {
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
fn is_rtl_letter(c: char) -> bool {
    matches!(c,
        '\u{0590}'..='\u{05FF}'
        | '\u{0600}'..='\u{06FF}'
        | '\u{0750}'..='\u{077F}'
        | '\u{08A0}'..='\u{08FF}'
        | '\u{FB1D}'..='\u{FDFF}'
        | '\u{FE70}'..='\u{FEFF}')
}

/// A language tag safe to put in an attribute: letters, digits and `-` only.
fn lang_attr(lang: &str) -> Option<String> {
    let lang = lang.trim();
    (!lang.is_empty()
        && lang.len() <= 35
        && lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    .then(|| lang.to_string())
}

#[cfg(test)]
mod tests;
