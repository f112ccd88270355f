//! Extraction: fetched bytes → feed entries, listing links or an article.
//!
//! Owns everything between a response body and the text the matcher reads:
//! decoding ([`charset`]), telling feeds from HTML and parsing feeds
//! (`feed`), discovering article links on listing pages (`links`), the
//! article body (`page`: Readability through `dom_smoothie`; `content`: our own
//! content-container extraction; `choose`: which of the two; or the source's
//! `content` selector), page furniture (`furniture`), page metadata (`meta`) and
//! article identity ([`canonical_url`], [`fingerprint`]). It never does HTTP (it
//! gets bytes, the `Content-Type` and the URL) and never matches.
//!
//! An HTML page is parsed once, into the `dom_query` tree `dom_smoothie` works
//! on, after its script, style and comment text is cut (`prune`): metadata, links
//! and our own body are read from that tree before the readability port rewrites it.
//!
//! Sitemaps (`<urlset>`, `<sitemapindex>`, gzip'd or not) are read by [`sitemap`]; an index's
//! children are fetched by `crate::gather`, since this module does no HTTP.
//!
//! Entry points: [`extract_source`] for a configured source,
//! [`extract_article`] for a followed article page, [`extract_any`] for
//! `newswatch extract`. Bad input is an [`ExtractError`], never a panic, and
//! boilerplate is never passed off as an article.
//!
//! # The rules of the article body
//!
//! Each is general (no site is named anywhere) and was measured on the
//! extraction-eval development set and the readability corpus (BENCHMARKS.md,
//! "Extraction quality (issue 18)"):
//!
//! - **Furniture** (`furniture`): an element is furniture when its tag holds no
//!   prose (`nav`, `footer`, `aside`, `form`, `figcaption`, …), its ARIA role is
//!   navigation, banner, search, dialog or the like, it is hidden, or a word of its
//!   class or id (an id of at most three words) names share, social, newsletter,
//!   cookie, comment, related, sidebar, menu, footer, caption, credit, byline, author,
//!   tag, advertising or pagination boxes; furniture that holds more than half of the
//!   text around it is the article, not furniture.
//! - **Our own body** (`content`): the element marked as the article body
//!   (`itemprop=articleBody`, or an article word followed by a body word in a class or
//!   id: `article-body`, `entry-content`), else an `<article>`, else `<main>`, else
//!   `<body>`, the richest of its kind if it holds enough of the page's text; less its
//!   furniture and its link blocks (blocks whose text is 70 % link text or more).
//! - **The readability port's body** (`page`) is taken less its furniture too, but
//!   keeping `<figcaption>` and short link lines, which the port keeps on purpose; of
//!   its link blocks only paragraphs that are one headline-length link (a teaser) go.
//! - **Choosing** (`choose`): the port's body when it is an article on its own
//!   account (200 characters or more, at most half link text), unless ours is more
//!   than five times as long (the port chose a box); the port's body gets back the
//!   lead it dropped (our 20-word paragraph just before the first shared one).
//!   When the port finds nothing, ours, marked [`BodyConfidence::Unsure`], on a page
//!   that says it is an article (og:type, JSON-LD, an `<article>` holding the `<h1>`,
//!   an `<h1>` with a published time) as soon as it holds one sentence, or on any page
//!   when it holds 500 characters in two sentences. Error pages ("Page not found",
//!   "Cette page n'existe pas", a short title with 404) are never articles.
//! - **Hygiene**: photo-credit lines (`Foto: dpa`, `… (Bild: AFP)`, `©`) and
//!   advertising labels (`Anzeige`, `Advertisement`) are dropped; soft hyphens and
//!   zero-width spaces are removed (`text`).
//! - **Language** (`meta::article_lang`): the declared one, unless the text is plainly
//!   in another (another script, or twice the function words of another Latin-script
//!   language the detector knows); else the detected one.

pub mod charset;

mod article;
mod choose;
mod content;
mod feed;
mod furniture;
mod links;
mod meta;
mod page;
mod prune;
mod selector;
pub mod sitemap;
mod text;

use chrono::{DateTime, Utc};
use dom_query::Document;
use url::Url;

pub use article::{canonical_url, fingerprint};
pub use feed::{announced_feeds, sniff, AnnouncedFeed, Sniffed};
pub use links::article_like;
pub use meta::{detect_lang, parse_date, trim_site_name};
pub use page::MIN_ARTICLE_CHARS;
pub use selector::{Selector, SelectorError};
pub use sitemap::{Sitemap, SitemapRef};
pub use text::html_fragment_text;

/// How a source's document is to be read (`kind` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceKind {
    /// Sniff: a feed if it looks like one, else an HTML listing page.
    #[default]
    Auto,
    /// Always a feed.
    Feed,
    /// Always an HTML listing page.
    Page,
    /// Always a sitemap (`<urlset>`, a Google News sitemap, or a `<sitemapindex>`).
    Sitemap,
}

/// One item of a feed or one link of a listing page.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// Absolute article URL, when the item has one.
    pub url: Option<Url>,
    /// Title (feed item title or link anchor text), plain text.
    pub title: Option<String>,
    /// Publication time (feed items only).
    pub published: Option<DateTime<Utc>>,
    /// Summary/content as plain text; empty for listing links.
    pub text: String,
    /// Primary language subtag the source declares for this item (a news sitemap's
    /// `<news:language>`, a feed's `<language>`), lower-case.
    pub lang: Option<String>,
}

/// An article page.
#[derive(Debug, Clone, Default)]
pub struct Article {
    /// `<link rel=canonical>` when present, absolute.
    pub url: Option<Url>,
    /// Title with the site name trimmed.
    pub title: Option<String>,
    /// Publication time from the page's metadata.
    pub published: Option<DateTime<Utc>>,
    /// Primary language subtag, lower-case (`ar`, `fr`, `en`): declared, else detected.
    pub lang: Option<String>,
    /// Body as plain text, paragraphs separated by blank lines.
    pub text: String,
    /// The page's own summary (`og:description`, `<meta name=description>`), plain text.
    pub description: Option<String>,
    /// How sure extraction is that `text` is the article's whole body.
    pub confidence: BodyConfidence,
}

/// How sure extraction is that an [`Article`]'s `text` is its whole body.
///
/// A page that says it is an article (og:type, JSON-LD, `<article>`, an `<h1>` with a
/// published time) is an article however short its body; when extraction is not sure it
/// found all of it, the pipeline matches on everything the page offers (headline,
/// description and body) rather than on the body alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyConfidence {
    /// The body was found and is the article.
    #[default]
    Sure,
    /// A body was found but may be partial (a brief, or a page extraction is unsure of).
    Unsure,
}

/// What a document turned out to be (for `newswatch extract`).
#[derive(Debug, Clone)]
pub enum Extracted {
    /// A feed and its entries.
    Feed(Vec<Entry>),
    /// An HTML page without an article, and the article links found on it.
    Listing(Vec<Entry>),
    /// An article page.
    Article(Article),
}

/// An RSS feed's `<ttl>` (minutes it may be cached), if the document declares one in its
/// first 64 KiB. Any other document: `None`.
#[must_use]
pub fn feed_ttl_minutes(bytes: &[u8]) -> Option<u64> {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let at = head
        .windows(5)
        .position(|w| w.eq_ignore_ascii_case(b"<ttl>"))?
        + 5;
    let digits: Vec<u8> = head[at..]
        .iter()
        .copied()
        .skip_while(u8::is_ascii_whitespace)
        .take_while(u8::is_ascii_digit)
        .take(9)
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

/// Why a document yielded nothing.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// Empty, binary, or otherwise not a feed or a web page.
    #[error("not a feed or an HTML page ({0})")]
    Unsupported(String),
    /// A feed that cannot be parsed, even in part.
    #[error("broken feed: {0}")]
    BrokenFeed(String),
    /// An HTML page with no article body.
    #[error("no article found")]
    NoArticle,
    /// A sitemap that cannot be read: not one, broken XML, a corrupt or over-cap gzip stream.
    #[error("broken sitemap: {0}")]
    BrokenSitemap(String),
}

/// A source document: a feed's items, or a listing page's article links.
///
/// `links` selects article links on a listing page; without it they are
/// discovered automatically.
///
/// # Errors
/// [`ExtractError::Unsupported`] for empty or binary bodies,
/// [`ExtractError::BrokenFeed`] for an unreadable feed,
/// [`ExtractError::BrokenSitemap`] for an unreadable sitemap or a sitemap index (whose child
/// sitemaps `crate::gather` fetches).
pub fn extract_source(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
    kind: SourceKind,
    links: Option<&Selector>,
) -> Result<Vec<Entry>, ExtractError> {
    extract_source_first(bytes, content_type, base, kind, links, usize::MAX).map(|(e, _)| e)
}

/// Like [`extract_source`], keeping the document's first `max` entries; also says how many
/// came after them, unread. A feed is cut before it is parsed (see
/// [`feed::extract_feed_first`]), so a feed of 100,000 items costs what `max` items cost.
///
/// # Errors
/// As [`extract_source`].
pub fn extract_source_first(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
    kind: SourceKind,
    links: Option<&Selector>,
    max: usize,
) -> Result<(Vec<Entry>, usize), ExtractError> {
    let mut entries = extract_source_all(bytes, content_type, base, kind, links, max)?;
    let left = entries.1 + entries.0.len().saturating_sub(max);
    entries.0.truncate(max);
    Ok((entries.0, left))
}

fn extract_source_all(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
    kind: SourceKind,
    links: Option<&Selector>,
    max: usize,
) -> Result<(Vec<Entry>, usize), ExtractError> {
    // Sitemaps first: a gzip'd one is recognised by its magic bytes, which
    // `check_document` refuses as binary.
    if kind == SourceKind::Sitemap || (kind == SourceKind::Auto && sitemap::is_sitemap(bytes)) {
        return match sitemap::extract_sitemap(bytes, base, sitemap::MAX_SITEMAP_BYTES)? {
            Sitemap::Urls(set) => Ok((set.entries, set.left)),
            Sitemap::Index(children) => Err(ExtractError::BrokenSitemap(format!(
                "a sitemap index of {} sitemaps; its sitemaps are fetched by the scan",
                children.len()
            ))),
        };
    }
    check_document(bytes, content_type)?;
    let (decoded, _) = charset::decode(bytes, content_type);
    let is_feed = match kind {
        SourceKind::Feed => true,
        SourceKind::Page | SourceKind::Sitemap => false,
        SourceKind::Auto => feed::sniff(&decoded, content_type) == Sniffed::Feed,
    };
    if is_feed {
        return feed::extract_feed_first(bytes, content_type, base, max);
    }
    let doc = parse_page(&decoded);
    let doc_base = meta::document_base(&doc, Some(base));
    Ok((links::extract_links(&doc, doc_base.as_ref(), links), 0))
}

/// A followed article page: body, title, published time, language, canonical URL.
///
/// `content` overrides automatic body extraction.
///
/// # Errors
/// [`ExtractError::NoArticle`] when the page holds no article;
/// [`ExtractError::Unsupported`] for empty, binary or feed documents.
pub fn extract_article(
    bytes: &[u8],
    content_type: Option<&str>,
    base: Option<&Url>,
    content: Option<&Selector>,
) -> Result<Article, ExtractError> {
    check_document(bytes, content_type)?;
    let (decoded, _) = charset::decode(bytes, content_type);
    if feed::sniff(&decoded, content_type) == Sniffed::Feed {
        return Err(ExtractError::Unsupported(
            "a feed, not an article page".into(),
        ));
    }
    let doc = parse_page(&decoded);
    let meta = meta::read_meta(&doc, base);
    read_article(doc, meta, content)
}

/// The page's one parse serves everything: `meta` was read from `doc`
/// before the readability port rewrites it to find the body.
fn read_article(
    doc: Document,
    meta: meta::PageMeta,
    content: Option<&Selector>,
) -> Result<Article, ExtractError> {
    if meta.not_found {
        return Err(ExtractError::NoArticle);
    }
    let (body, confidence) = match content {
        Some(sel) => (page::selected_body(&doc, sel)?, BodyConfidence::Sure),
        None => choose_body(doc, &meta)?,
    };
    Ok(Article {
        url: meta.canonical,
        title: meta.title,
        published: meta.published,
        lang: meta::article_lang(meta.lang, &body),
        text: body,
        description: meta.description,
        confidence,
    })
}

/// Our own body and the readability port's, weighed (`choose`).
fn choose_body(
    doc: Document,
    meta: &meta::PageMeta,
) -> Result<(String, BodyConfidence), ExtractError> {
    // Ours first: the port rewrites the tree.
    let own = content::extract(&doc);
    let readable = page::readability_body(doc, meta.base.as_ref());
    let claims = choose::Claims {
        says_article: meta.says_article,
    };
    choose::choose(own, readable, claims).ok_or(ExtractError::NoArticle)
}

/// Any document, classified automatically (for `newswatch extract`): a feed,
/// an article page, or else a listing page with its article links.
///
/// # Errors
/// [`ExtractError::Unsupported`] for empty or binary bodies,
/// [`ExtractError::BrokenFeed`] for an unreadable feed.
///
/// # Panics
/// Never: the fallback base, `file:///`, is a valid URL.
pub fn extract_any(
    bytes: &[u8],
    content_type: Option<&str>,
    base: Option<&Url>,
) -> Result<Extracted, ExtractError> {
    check_document(bytes, content_type)?;
    let (decoded, _) = charset::decode(bytes, content_type);
    if feed::sniff(&decoded, content_type) == Sniffed::Feed {
        let fallback = Url::parse("file:///").expect("static URL is valid");
        return feed::extract_feed(bytes, content_type, base.unwrap_or(&fallback))
            .map(Extracted::Feed);
    }
    let doc = parse_page(&decoded);
    let meta = meta::read_meta(&doc, base);
    let listing = links::extract_links(&doc, meta.base.as_ref(), None);
    let says_article = meta.says_article;
    match read_article(doc, meta, None) {
        Ok(article) if is_article_page(says_article, &article, &listing) => {
            Ok(Extracted::Article(article))
        }
        _ => Ok(Extracted::Listing(listing)),
    }
}

/// An extracted body is the page's point, not a teaser among many links:
/// the page calls itself an article, or its body outweighs its headlines.
fn is_article_page(says_article: bool, article: &Article, listing: &[Entry]) -> bool {
    if says_article {
        return true;
    }
    let headline_chars: usize = listing
        .iter()
        .filter_map(|e| e.title.as_ref())
        .map(|t| t.chars().count())
        .sum();
    article.text.chars().count() >= 2 * headline_chars
}

/// Parses an HTML page, without the script, style and comment text no step
/// reads (`prune`): html5ever spends much of a news page's parse on it.
fn parse_page(decoded: &str) -> Document {
    Document::from(&*prune::drop_unread_text(decoded))
}

/// The first bytes of binary formats served where pages are expected (PDF, PNG, GIF, JPEG,
/// ZIP, gzip).
const MAGIC: &[&[u8]] = &[
    b"%PDF",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\x1f\x8b",
];

/// Refuses bodies that are not text documents: empty, or binary by magic
/// number, content type or NUL bytes (UTF-16 excepted).
fn check_document(bytes: &[u8], content_type: Option<&str>) -> Result<(), ExtractError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ExtractError::Unsupported("empty body".into()));
    }
    let mime = content_type
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if ["image/", "audio/", "video/", "font/"]
        .iter()
        .any(|p| mime.starts_with(p))
        || matches!(
            mime.as_str(),
            "application/pdf" | "application/zip" | "application/gzip"
        )
    {
        return Err(ExtractError::Unsupported(format!("content type {mime}")));
    }
    let utf16 = bytes.starts_with(b"\xff\xfe")
        || bytes.starts_with(b"\xfe\xff")
        || matches!(bytes, [b'<', 0, ..] | [0, b'<', ..]);
    let head = &bytes[..bytes.len().min(1024)];
    if MAGIC.iter().any(|m| bytes.starts_with(m)) || (!utf16 && head.contains(&0)) {
        return Err(ExtractError::Unsupported("binary body".into()));
    }
    if open_tag_depth(bytes, MAX_NESTING) > MAX_NESTING {
        return Err(ExtractError::Unsupported(format!(
            "markup nested more than {MAX_NESTING} levels deep"
        )));
    }
    Ok(())
}

/// Pages whose tags nest deeper than this are refused before parsing: an HTML parser's
/// scope checks make such pages quadratic, and no real article needs them.
pub const MAX_NESTING: usize = 2_000;

/// A cheap, parser-free estimate of how deep `bytes`' tags nest, stopping once past
/// `limit`. Void and implicitly closed elements (`br`, `p`, `li`, …) do not count.
fn open_tag_depth(bytes: &[u8], limit: usize) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut at = 0;
    // memchr: this scan runs over every byte of every page before parsing.
    while let Some(lt) = memchr::memchr(b'<', &bytes[at..]) {
        let rest = &bytes[at + lt + 1..];
        at += lt + 1;
        match rest.first() {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(c) if c.is_ascii_alphabetic() => {
                let name_len = rest
                    .iter()
                    .position(|b| !b.is_ascii_alphanumeric())
                    .unwrap_or(rest.len());
                if is_flat_tag(&rest[..name_len]) {
                    continue;
                }
                let end = memchr::memchr(b'>', rest).unwrap_or(rest.len());
                let self_closing = end > 0 && rest[end - 1] == b'/';
                if !self_closing {
                    depth += 1;
                    max = max.max(depth);
                    if max > limit {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    max
}

/// Void and implicitly closed elements, which never hold the nesting open.
fn is_flat_tag(name: &[u8]) -> bool {
    if name.len() > 6 {
        return false;
    }
    let mut lower = [0u8; 6];
    for (l, b) in lower.iter_mut().zip(name) {
        *l = b.to_ascii_lowercase();
    }
    matches!(
        &lower[..name.len()],
        b"area"
            | b"base"
            | b"br"
            | b"col"
            | b"embed"
            | b"hr"
            | b"img"
            | b"input"
            | b"link"
            | b"meta"
            | b"param"
            | b"source"
            | b"track"
            | b"wbr"
            | b"p"
            | b"li"
            | b"td"
            | b"th"
            | b"tr"
            | b"option"
            | b"dd"
            | b"dt"
    )
}

#[cfg(test)]
mod nesting_tests {
    use super::*;

    #[test]
    fn feed_ttl() {
        let rss = b"<rss><channel><title>t</title><ttl> 90 </ttl><item/></channel></rss>";
        assert_eq!(feed_ttl_minutes(rss), Some(90));
        assert_eq!(
            feed_ttl_minutes(b"<rss><channel><TTL>5</TTL></channel></rss>"),
            Some(5)
        );
        assert_eq!(feed_ttl_minutes(b"<rss><channel></channel></rss>"), None);
        assert_eq!(feed_ttl_minutes(b"<rss><ttl>soon</ttl></rss>"), None);
        assert_eq!(feed_ttl_minutes(b""), None);
    }

    #[test]
    fn depth_estimate() {
        assert_eq!(
            open_tag_depth(b"<html><body><div><p>a<br>b</div></body></html>", 100),
            3
        );
        assert_eq!(
            open_tag_depth(b"<ul><li>a<li>b<li>c</ul><img src=x/>", 100),
            1
        );
        assert_eq!(
            open_tag_depth(b"<DIV><BR><Img src=x><P>a<section><OPTION>b<br/>", 100),
            2
        );
        let deep = "<div>".repeat(10_000);
        assert!(open_tag_depth(deep.as_bytes(), MAX_NESTING) > MAX_NESTING);
        let flat = "<div>a</div>".repeat(100_000);
        assert_eq!(open_tag_depth(flat.as_bytes(), MAX_NESTING), 1);
    }
}
