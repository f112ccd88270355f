//! Rendering: a [`Digest`] value → [`Rendered`] `{ subject, text, html }`. Pure.
//!
//! Owns everything the reader sees: layout, time formatting, highlight markers,
//! escaping, right-to-left layout and line wrapping. It does not decide what goes into a
//! digest, in which order, or how it is split into parts ([`super::build`],
//! [`super::pack`]), nor how it is sent ([`crate::mail`]).
//!
//! Both parts show the same thing in the same order:
//!
//! - The subject reads `[newswatch] <watchlist>: 1 new article` or `N new articles`,
//!   N counting the items (stories) of this message, with ` (2/3)` at the end when the
//!   digest is one of several numbered parts.
//! - Items (stories) come in the order given. The first [`Digest::full`] are shown in
//!   full: title (terms highlighted) linked to the article, its link, an `Also in:` line
//!   naming each other copy's source and link, source and published time, matched terms,
//!   and the snippet. The rest are compact: title, link, `Also in:`, source and time.
//!   The `Also in:` line is one line in the text part, never wrapped.
//! - Copies of stories mailed before ([`Digest::earlier`]) follow, each under the title
//!   and link of the story as it was mailed, with its own `Also in:` line.
//! - Published times are shown in [`Digest::timezone`] as
//!   `2026-11-24 14:05 WAT` (`%Y-%m-%d %H:%M %Z`).
//! - Snippet highlights are marked `**Niger**` in the text part and with an inline
//!   styled `<b>` in the HTML part (`<b>` survives more mail clients than
//!   `<mark>`). Highlight ranges are widened to grapheme boundaries so a marker
//!   never separates an Arabic letter from its diacritics; invalid ranges are
//!   skipped, overlapping or touching ones merged.
//! - The text part is wrapped at [`TEXT_WIDTH`] columns (a column is one
//!   grapheme) on whole words; an item's title (unmarked: its terms are highlighted in
//!   the HTML part only) and URLs are never wrapped and sit on their own line; an
//!   ellipsis `…` is never alone on a line.
//! - The HTML part is a complete document with inline styles, table layout and
//!   no remote resources. Titles are linked only for `http`/`https` URLs. Every
//!   string taken from the web is escaped. Right-to-left items (Arabic, or
//!   another right-to-left language or script) get `dir="rtl"` and
//!   `text-align:right` on their block; source names, terms and times sit in
//!   `<bdi>` so mixed-direction lines keep their order.
//!
//! Web text is cleaned before it is shown: control characters and explicit
//! bidi embeddings/overrides/isolates are dropped (they could reorder the rest
//! of the line) and runs of whitespace become one space. Every item is bounded, so that
//! [`super::pack`] can bound a message: a title is cut at [`MAX_TITLE`] characters, a
//! snippet at [`MAX_SNIPPET`], the terms at [`MAX_TERMS`], a URL shown at [`MAX_URL`]
//! bytes (and not linked if longer).
//!
//! Each item renders to a fragment of each part that does not depend on the others
//! ([`measure_item`]), so a message's size is its frame's plus its items'.

mod clean;
mod html;
mod text;

use chrono::{DateTime, Utc};
use clean::{clean, cut, is_rtl, lang_attr, segments, shown_url, title_segments};
use std::ops::Range;

/// Width of the plain-text part, in columns (graphemes).
pub const TEXT_WIDTH: usize = 72;
/// Characters of a title shown at most.
pub const MAX_TITLE: usize = 300;
/// Characters of a snippet shown at most.
pub const MAX_SNIPPET: usize = 600;
/// Terms listed at most.
pub const MAX_TERMS: usize = 12;
/// Bytes of a URL shown at most; a longer one is cut and not linked.
pub const MAX_URL: usize = 2000;

/// The `strftime` format of published times.
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M %Z";

/// Another copy of a story: its source and link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherCopy {
    pub source: String,
    pub url: String,
}

/// One story in a digest: its primary copy, and the others.
#[derive(Debug, Clone)]
pub struct DigestItem {
    pub title: String,
    pub url: String,
    pub source: String,
    pub published: Option<DateTime<Utc>>,
    /// Language tag of the article (`ar`, `fr-FR`), when known.
    pub lang: Option<String>,
    pub terms: Vec<String>,
    /// From the body.
    pub snippet: String,
    /// Byte ranges into `snippet`, sorted, disjoint, on char boundaries.
    /// The renderer still checks them and skips the ones that are not.
    pub highlights: Vec<Range<usize>>,
    /// Byte ranges into `title`, checked like `highlights`.
    pub title_highlights: Vec<Range<usize>>,
    /// The other copies named on the `Also in:` line.
    pub also_in: Vec<OtherCopy>,
    /// Copies of the story beyond those named.
    pub more_copies: usize,
}

/// Copies of a story mailed before, arrived since: listed once, under that story.
#[derive(Debug, Clone)]
pub struct EarlierStory {
    /// The story as it was mailed: its primary copy's title, link and source.
    pub title: String,
    pub url: String,
    pub source: String,
    /// When it was mailed.
    pub mailed: DateTime<Utc>,
    /// The copies arrived since.
    pub also_in: Vec<OtherCopy>,
    pub more_copies: usize,
}

/// Which message of a digest sent in several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartOf {
    /// 1, 2, …
    pub number: usize,
    /// How many parts (≥ 2).
    pub of: usize,
}

/// Everything one digest email shows.
#[derive(Debug, Clone)]
pub struct Digest {
    pub watchlist: String,
    /// Stories, in the order shown.
    pub items: Vec<DigestItem>,
    /// How many of the first items are shown in full; the rest are compact.
    pub full: usize,
    pub earlier: Vec<EarlierStory>,
    /// Source health notes ("source x has failed for 24 hours").
    pub footer: Vec<String>,
    pub timezone: chrono_tz::Tz,
    /// `None` for a digest sent as one message.
    pub part: Option<PartOf>,
}

impl Digest {
    /// A digest of `items`, all in full, sent as one message.
    #[must_use]
    pub fn new(watchlist: &str, items: Vec<DigestItem>, timezone: chrono_tz::Tz) -> Digest {
        Digest {
            watchlist: watchlist.to_owned(),
            full: items.len(),
            items,
            earlier: Vec::new(),
            footer: Vec::new(),
            timezone,
            part: None,
        }
    }
}

pub use crate::model::Rendered;

/// Bytes an item adds to each part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Size {
    pub text: usize,
    pub html: usize,
}

impl std::ops::Add for Size {
    type Output = Size;
    fn add(self, o: Size) -> Size {
        Size {
            text: self.text + o.text,
            html: self.html + o.html,
        }
    }
}

/// Render `d` to a subject, a plain-text part and an HTML part.
#[must_use]
pub fn render_digest(d: &Digest) -> Rendered {
    let view = View::new(d);
    let count = match d.items.len() {
        1 => "1 new article".to_string(),
        n => format!("{n} new articles"),
    };
    let part = d
        .part
        .map(|p| format!(" ({}/{})", p.number, p.of))
        .unwrap_or_default();
    Rendered {
        subject: format!("[newswatch] {}: {count}{part}", view.watchlist),
        text: text::render(&view),
        html: html::render(&view),
    }
}

/// What `item` adds to each part, in full or compact.
#[must_use]
pub fn measure_item(item: &DigestItem, full: bool, tz: chrono_tz::Tz) -> Size {
    let v = item_view(item, tz);
    Size {
        text: text::item(&v, full).len(),
        html: html::item(&v, full).len(),
    }
}

/// What `e` adds to each part.
#[must_use]
pub fn measure_earlier(e: &EarlierStory, tz: chrono_tz::Tz) -> Size {
    let v = earlier_view(e, tz);
    Size {
        text: text::earlier(&v).len(),
        html: html::earlier(&v).len(),
    }
}

/// The digest, cleaned: what both parts render.
struct View {
    /// Cleaned to one line.
    watchlist: String,
    items: Vec<ItemView>,
    /// How many of `items` are shown in full.
    full: usize,
    earlier: Vec<EarlierView>,
    footer: Vec<String>,
    part: Option<PartOf>,
}

struct ItemView {
    title: Vec<Segment>,
    /// The URL as shown (whitespace and controls removed); may be empty.
    url: String,
    /// The link target, only for valid `http`/`https` URLs.
    href: Option<String>,
    source: String,
    published: Option<String>,
    terms: Vec<String>,
    snippet: Vec<Segment>,
    also_in: Vec<CopyView>,
    more_copies: usize,
    rtl: bool,
    /// A sanitised language tag for the HTML `lang` attribute.
    lang: Option<String>,
}

struct CopyView {
    source: String,
    url: String,
    href: Option<String>,
}

struct EarlierView {
    title: String,
    url: String,
    href: Option<String>,
    source: String,
    mailed: String,
    also_in: Vec<CopyView>,
    more_copies: usize,
    rtl: bool,
}

/// A run of snippet text, highlighted or not.
#[derive(Debug, PartialEq, Eq)]
struct Segment {
    text: String,
    highlight: bool,
}

impl View {
    fn new(d: &Digest) -> View {
        View {
            watchlist: clean(&d.watchlist),
            items: d.items.iter().map(|i| item_view(i, d.timezone)).collect(),
            full: d.full.min(d.items.len()),
            earlier: d
                .earlier
                .iter()
                .map(|e| earlier_view(e, d.timezone))
                .collect(),
            footer: d.footer.iter().map(|f| clean(f)).collect(),
            part: d.part,
        }
    }

    /// Why the mail was sent; `name` is the watchlist name as the part shows it.
    fn why(&self, name: &str) -> String {
        if self.items.is_empty() && self.earlier.is_empty() {
            format!("newswatch sent this because sources of the watchlist {name} changed health.")
        } else {
            format!("newswatch sent this because new articles matched the watchlist {name}.")
        }
    }

    /// `180 new articles` and, for a part, ` (part 2 of 3)`.
    fn count_line(&self) -> String {
        let count = match self.items.len() {
            0 => "No new articles".to_string(),
            1 => "1 new article".to_string(),
            n => format!("{n} new articles"),
        };
        match self.part {
            Some(p) => format!("{count} (part {} of {})", p.number, p.of),
            None => count,
        }
    }
}

fn item_view(i: &DigestItem, tz: chrono_tz::Tz) -> ItemView {
    let (url, href) = shown_url(&i.url);
    let mut title = title_segments(&i.title, &i.title_highlights);
    if title.is_empty() {
        title = vec![Segment {
            text: url.clone(),
            highlight: false,
        }];
    }
    let snippet = if i.snippet.chars().count() > MAX_SNIPPET {
        vec![Segment {
            text: cut(&clean(&i.snippet), MAX_SNIPPET),
            highlight: false,
        }]
    } else {
        segments(&i.snippet, &i.highlights)
    };
    ItemView {
        title,
        href,
        url,
        source: clean(&i.source),
        published: i
            .published
            .map(|p| p.with_timezone(&tz).format(TIME_FORMAT).to_string()),
        terms: i
            .terms
            .iter()
            .map(|t| cut(&clean(t), MAX_TITLE))
            .filter(|t| !t.is_empty())
            .take(MAX_TERMS)
            .collect(),
        snippet,
        also_in: i.also_in.iter().map(copy_view).collect(),
        more_copies: i.more_copies,
        rtl: is_rtl(i.lang.as_deref(), &i.title, &i.snippet),
        lang: i.lang.as_deref().and_then(lang_attr),
    }
}

fn earlier_view(e: &EarlierStory, tz: chrono_tz::Tz) -> EarlierView {
    let (url, href) = shown_url(&e.url);
    let title = cut(&clean(&e.title), MAX_TITLE);
    EarlierView {
        rtl: is_rtl(None, &title, ""),
        title: if title.is_empty() { url.clone() } else { title },
        url,
        href,
        source: clean(&e.source),
        mailed: e.mailed.with_timezone(&tz).format(TIME_FORMAT).to_string(),
        also_in: e.also_in.iter().map(copy_view).collect(),
        more_copies: e.more_copies,
    }
}

fn copy_view(c: &OtherCopy) -> CopyView {
    let (url, href) = shown_url(&c.url);
    CopyView {
        source: clean(&c.source),
        url,
        href,
    }
}

#[cfg(test)]
mod tests;
