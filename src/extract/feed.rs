//! Feeds → entries: RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed through feed-rs, CDF here.
//!
//! Owns recognising a feed (by content type and by its first element, so a feed served as
//! `text/html` or `text/plain` is still one) and turning feed-rs's model into our [`Entry`]:
//! absolute link, title and summary as plain text, published (else updated) time. Non-UTF-8
//! feeds are decoded by [`super::charset`] and handed to feed-rs as UTF-8 with the XML
//! declaration's `encoding` removed; roots feed-rs refuses (version-less RSS, Atom 0.3) are
//! rewritten by `compat`. Each item's link is chosen by `links` (alternate first, `xml:base`,
//! text-only hrefs), since feed-rs drops some links and does not choose. A feed cut off
//! mid-item is repaired once by closing it after its last complete item, so the items before
//! the cut still arrive; anything else unparseable is [`ExtractError::BrokenFeed`].
//!
//! The base given is the document's URL (after redirects, or its `Content-Location`); an
//! `xml:base` inside the feed takes precedence over it.

use feed_rs::model;
use url::Url;

use super::{charset, text, Entry, ExtractError};

mod cdf;
mod compat;
mod links;

/// The kind of document a source returned, decided before any parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// RSS, Atom or JSON Feed.
    Feed,
    /// Anything that should go through the HTML parser.
    Html,
}

/// Decides feed vs HTML from the content type and the document's first element.
#[must_use]
pub fn sniff(decoded: &str, content_type: Option<&str>) -> Sniffed {
    let mime = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if mime.contains("rss") || mime.contains("atom") || mime == "application/feed+json" {
        return Sniffed::Feed;
    }
    let body = decoded.trim_start_matches('\u{feff}').trim_start();
    if body.starts_with('{') {
        let head: String = body.chars().take(2048).collect();
        return if head.contains("jsonfeed.org") || mime.contains("json") {
            Sniffed::Feed
        } else {
            Sniffed::Html
        };
    }
    match first_element(body).as_deref() {
        Some("rss" | "feed" | "rdf:rdf" | "rdf" | "channel") => Sniffed::Feed,
        _ => Sniffed::Html,
    }
}

/// Name (lower-case) of the first element, skipping the prolog, comments and doctype.
fn first_element(body: &str) -> Option<String> {
    let mut rest = body;
    for _ in 0..64 {
        let start = rest.find('<')?;
        rest = &rest[start..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if rest.starts_with("<?") || rest.starts_with("<!") {
            rest = &rest[rest.find('>')? + 1..];
        } else {
            let name: String = rest[1..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, ':' | '-' | '_'))
                .collect();
            return Some(name.to_ascii_lowercase());
        }
    }
    None
}

/// Parses a feed into entries, in feed order, deduplicated by URL.
///
/// # Errors
/// [`ExtractError::BrokenFeed`] when feed-rs cannot read it, even after
/// closing it after its last complete item.
pub fn extract_feed(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
) -> Result<Vec<Entry>, ExtractError> {
    extract_feed_first(bytes, content_type, base, usize::MAX).map(|(entries, _)| entries)
}

/// Like [`extract_feed`], reading only the feed's first `max` items; also says how many
/// items came after them, unread. A feed of 100,000 items is cut before it is parsed, so
/// memory follows `max`, not the feed (issue 21).
///
/// # Errors
/// As [`extract_feed`].
pub fn extract_feed_first(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
    max: usize,
) -> Result<(Vec<Entry>, usize), ExtractError> {
    let (decoded, _) = charset::decode(bytes, content_type);
    let xml = charset::for_xml_parser(&decoded);
    if first_element(&xml).as_deref() == Some("channel") {
        let mut entries = cdf::extract_cdf(&xml, base)?;
        let left = entries.len().saturating_sub(max);
        entries.truncate(max);
        return Ok((entries, left));
    }
    let xml = compat::for_feed_rs(&xml);
    if let Some((cut, left)) = cut_after_items(&xml, max) {
        // An item end inside CDATA can make the cut unreadable: then the whole feed is read.
        if let Ok(entries) = extract_parsed(cut, base) {
            return Ok((entries, left));
        }
    }
    let mut entries = extract_parsed(xml.into_owned(), base)?;
    let left = entries.len().saturating_sub(max);
    entries.truncate(max);
    Ok((entries, left))
}

/// Everything up to the end of the `max`-th item, closed again, and how many items follow;
/// `None` when the feed has `max` items or fewer. Items end with `</item>` (RSS) or
/// `</entry>` (Atom); a JSON Feed is never cut.
fn cut_after_items(xml: &str, max: usize) -> Option<(String, usize)> {
    let end = if xml.contains("</item>") {
        "</item>"
    } else {
        "</entry>"
    };
    let finder = memchr::memmem::Finder::new(end);
    let mut ends = finder.find_iter(xml.as_bytes());
    let cut = ends.nth(max.checked_sub(1)?)? + end.len();
    let left = ends.count();
    if left == 0 {
        return None;
    }
    let closed = close_truncated(&xml[..cut])?;
    Some((closed, left))
}

fn extract_parsed(xml: String, base: &Url) -> Result<Vec<Entry>, ExtractError> {
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .sanitize_content(false)
        .build();
    let (feed, read) = match parser.parse(xml.as_bytes()) {
        Ok(feed) => (feed, xml),
        Err(first) => {
            let repaired = close_truncated(&xml).ok_or_else(|| broken(&first))?;
            let feed = parser
                .parse(repaired.as_bytes())
                .map_err(|_| broken(&first))?;
            (feed, repaired)
        }
    };
    let mut chosen = links::item_links(&read, base);
    // The walk and feed-rs must agree on the items for the walk's links to be theirs
    // (a JSON Feed has no XML items at all).
    if chosen.len() != feed.entries.len() {
        chosen.clear();
    }
    Ok(convert(feed, chosen, base))
}

/// A feed an HTML page announces with `<link rel="alternate" type="application/rss+xml">`
/// (RSS Autodiscovery; Atom and JSON Feed alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncedFeed {
    /// Absolute http(s) URL (resolved against `<base href>`, else the page URL).
    pub url: Url,
    /// The link's `title`, when given.
    pub title: Option<String>,
    /// The announced media type, lower-case.
    pub media_type: String,
}

/// The feeds `html` announces, in page order, each once.
#[must_use]
pub fn announced_feeds(html: &str, page_url: &Url) -> Vec<AnnouncedFeed> {
    const FEED_TYPES: &[&str] = &[
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
        "application/x-rss+xml",
        "application/x.atom+xml",
        "text/xml",
    ];
    let doc = dom_query::Document::from(html);
    let base = super::meta::document_base(&doc, Some(page_url)).unwrap_or_else(|| page_url.clone());
    let mut out: Vec<AnnouncedFeed> = Vec::new();
    for link in &doc.select("link[href]") {
        let alternate = link.attr("rel").is_some_and(|r| {
            r.split_whitespace()
                .any(|t| t.eq_ignore_ascii_case("alternate"))
        });
        let media_type = link
            .attr("type")
            .map(|t| t.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if !alternate || !FEED_TYPES.contains(&media_type.as_str()) {
            continue;
        }
        let Some(url) = link
            .attr("href")
            .and_then(|h| base.join(h.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
        else {
            continue;
        };
        if out.iter().any(|f| f.url == url) {
            continue;
        }
        let title = link
            .attr("title")
            .map(|t| text::collapse(&t))
            .filter(|t| !t.is_empty());
        out.push(AnnouncedFeed {
            url,
            title,
            media_type,
        });
    }
    out
}

fn broken(err: &feed_rs::parser::ParseFeedError) -> ExtractError {
    ExtractError::BrokenFeed(err.to_string())
}

/// A feed cut after its last complete item, with its containers closed again.
fn close_truncated(xml: &str) -> Option<String> {
    let (cut, tail) = if let Some(i) = xml.rfind("</item>") {
        let root = first_element(xml)?;
        let tail = if root.contains("rdf") {
            "</rdf:RDF>"
        } else {
            "</channel></rss>"
        };
        (i + "</item>".len(), tail)
    } else {
        (xml.rfind("</entry>")? + "</entry>".len(), "</feed>")
    };
    Some(format!("{}{tail}", &xml[..cut]))
}

/// `chosen` holds each item's link from [`links::item_links`], or is empty to let
/// [`entry_url`] choose among feed-rs's links.
fn convert(feed: model::Feed, chosen: Vec<Option<Url>>, base: &Url) -> Vec<Entry> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(feed.entries.len());
    let mut chosen = chosen.into_iter();
    // RSS `<language>` / Atom `xml:lang` on the feed: what it says its items are written in.
    let lang = feed
        .language
        .as_deref()
        .and_then(super::sitemap::primary_language);
    for item in feed.entries {
        let url = match chosen.next() {
            Some(link) => link,
            None => entry_url(&item, base),
        };
        if let Some(u) = &url {
            if !seen.insert(u.as_str().to_string()) {
                continue;
            }
        }
        let title = item
            .title
            .as_ref()
            .map(|t| text::collapse(&text::html_fragment_text(&t.content)))
            .filter(|t| !t.is_empty());
        let body = item
            .content
            .as_ref()
            .and_then(|c| c.body.as_deref())
            .filter(|b| !b.trim().is_empty())
            .or_else(|| item.summary.as_ref().map(|s| s.content.as_str()))
            .unwrap_or("");
        out.push(Entry {
            url,
            title,
            published: item.published.or(item.updated),
            text: text::html_fragment_text(body),
            lang: lang.clone(),
        });
    }
    out
}

/// The item's article link: its alternate (or only) link, else a URL-shaped id.
fn entry_url(item: &model::Entry, base: &Url) -> Option<Url> {
    let is_article = |l: &&model::Link| {
        matches!(l.rel.as_deref(), None | Some("alternate"))
            && l.media_type.as_deref().is_none_or(|m| m.contains("html"))
    };
    let href = item
        .links
        .iter()
        .find(is_article)
        .or_else(|| item.links.first())
        .map(|l| l.href.as_str())
        .or_else(|| {
            let id = item.id.trim();
            (id.starts_with("http://") || id.starts_with("https://")).then_some(id)
        })?;
    let url = base.join(href.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://example.org/feed.xml").expect("static URL")
    }

    #[test]
    fn sniffs_feeds_and_pages() {
        assert_eq!(
            sniff("<?xml version='1.0'?><!-- x --><rss>", None),
            Sniffed::Feed
        );
        assert_eq!(sniff("<rdf:RDF xmlns:rdf='x'>", None), Sniffed::Feed);
        assert_eq!(
            sniff("<feed xmlns='http://www.w3.org/2005/Atom'>", None),
            Sniffed::Feed
        );
        assert_eq!(
            sniff("{\"version\": \"https://jsonfeed.org/version/1\"}", None),
            Sniffed::Feed
        );
        assert_eq!(sniff("<!DOCTYPE html><html>", None), Sniffed::Html);
        assert_eq!(sniff("<html>", Some("application/rss+xml")), Sniffed::Feed);
    }

    #[test]
    fn rss_items_resolved_and_stripped() {
        let rss = br#"<rss version="2.0"><channel><title>t</title>
            <item><title>One &amp; two</title><link>/a/1</link>
            <description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;</description>
            <pubDate>Wed, 17 Apr 2024 10:00:00 GMT</pubDate></item>
            <item><title>dup</title><link>https://example.org/a/1</link></item>
            </channel></rss>"#;
        let entries = extract_feed(rss, None, &base()).expect("valid feed");
        assert_eq!(entries.len(), 1);
        assert_eq!(
            entries[0].url.as_ref().map(Url::as_str),
            Some("https://example.org/a/1")
        );
        assert_eq!(entries[0].title.as_deref(), Some("One & two"));
        assert_eq!(entries[0].text, "Hello world");
        assert!(entries[0].published.is_some());
    }

    #[test]
    fn feed_language_is_its_items() {
        let rss = b"<rss version=\"2.0\"><channel><title>t</title><language>fr-FR</language>\
            <item><title>a</title><link>https://example.org/a</link></item></channel></rss>";
        let entries = extract_feed(rss, None, &base()).expect("valid feed");
        assert_eq!(entries[0].lang.as_deref(), Some("fr"));
        let rss = b"<rss version=\"2.0\"><channel><title>t</title>\
            <item><title>a</title><link>https://example.org/a</link></item></channel></rss>";
        let entries = extract_feed(rss, None, &base()).expect("valid feed");
        assert_eq!(entries[0].lang, None);
    }

    #[test]
    fn truncated_feed_keeps_complete_items() {
        let rss = b"<rss version=\"2.0\"><channel><title>t</title>\
            <item><title>first</title><link>https://example.org/1</link></item>\
            <item><title>sec";
        let entries = extract_feed(rss, None, &base()).expect("repairable");
        assert_eq!(entries.len(), 1);
    }

    #[test]
    fn feeds_a_page_announces() {
        let html = r#"<html><head><base href="https://example.org/fr/">
            <link rel="alternate" type="application/rss+xml" title="Le  fil" href="rss.xml">
            <link rel="alternate" type="application/atom+xml" href="/atom">
            <link rel="Alternate Feed" type="Application/Feed+JSON" href="https://example.org/feed.json">
            <link rel="alternate" type="application/json+oembed" href="/oembed">
            <link rel="alternate" hreflang="ar" href="/ar/">
            <link rel="stylesheet" type="text/css" href="/s.css">
            <link rel="alternate" type="application/rss+xml" href="rss.xml">
            </head><body></body></html>"#;
        let got = announced_feeds(html, &base());
        let urls: Vec<&str> = got.iter().map(|f| f.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://example.org/fr/rss.xml",
                "https://example.org/atom",
                "https://example.org/feed.json"
            ]
        );
        assert_eq!(got[0].title.as_deref(), Some("Le fil"));
        assert_eq!(got[2].media_type, "application/feed+json");
    }

    #[test]
    fn garbage_is_broken_feed() {
        let err = extract_feed(b"<rss><channel><item>", None, &base());
        assert!(matches!(err, Err(ExtractError::BrokenFeed(_))));
    }
}
