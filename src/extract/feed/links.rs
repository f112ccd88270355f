//! Each feed item's article link, chosen as feedparser chooses `link`, with `xml:base`.
//!
//! feed-rs keeps only `<link>` elements that have an `href` and leaves the choice among them
//! to us; feeds in the wild also write the URL as the element's text, put `rel="enclosure"`
//! before the alternate, or rely on `xml:base` chains and the document's own URL. So one
//! quick-xml pass over the same text walks every item and picks, among its direct children:
//! the first `rel="alternate"` (the default rel) link of an HTML type (the default type),
//! else the first alternate link of any type, else an RSS `<guid>` that is a permalink, else
//! an Atom `<id>` that is an http(s) URL. A CDF `<ITEM HREF>` counts as an alternate link.
//! Each is resolved against the `xml:base` in force on its element (RFC 3986 §5.1, XML Base
//! §4.2), the document's base being the innermost.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use url::Url;

/// An item's link candidates, in document order.
#[derive(Default)]
struct Item {
    depth: usize,
    /// (rel, type, href) of each link-like direct child.
    links: Vec<(String, String, Url)>,
    guid: Option<Url>,
    id: Option<Url>,
}

impl Item {
    fn choose(self) -> Option<Url> {
        let html = |t: &str| matches!(t, "text/html" | "application/xhtml+xml");
        let alternate = || self.links.iter().filter(|(rel, _, _)| rel == "alternate");
        alternate()
            .find(|(_, t, _)| html(t))
            .or_else(|| alternate().next())
            .map(|(_, _, u)| u.clone())
            .or(self.guid)
            .or(self.id)
    }
}

/// A direct child of an item whose text is being read.
struct Pending {
    kind: PendingKind,
    base: Url,
    text: String,
}

enum PendingKind {
    Link { rel: String, mime: String },
    Guid,
    Id,
}

/// The article link of every item (`<item>`, `<entry>`, CDF `<ITEM>`) of `xml`, in document
/// order; `None` for an item without one. Stops at the first XML error, so a caller should
/// only trust the list when its length matches the items it parsed otherwise.
pub(crate) fn item_links(xml: &str, doc_base: &Url) -> Vec<Option<Url>> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = false;
    let mut bases: Vec<Url> = vec![doc_base.clone()];
    let mut item: Option<Item> = None;
    let mut pending: Option<Pending> = None;
    let mut out = Vec::new();
    loop {
        let (start, empty) = match reader.read_event() {
            Ok(Event::Start(e)) => (e, false),
            Ok(Event::Empty(e)) => (e, true),
            Ok(Event::End(_)) => {
                bases.pop();
                let depth = bases.len();
                // After the pop, `depth` is the depth of the element that just ended.
                if item.as_ref().is_some_and(|i| depth == i.depth + 1) {
                    if let Some(p) = pending.take() {
                        finish(p, item.as_mut());
                    }
                }
                if item.as_ref().is_some_and(|i| depth == i.depth) {
                    out.push(item.take().and_then(Item::choose));
                }
                continue;
            }
            Ok(Event::Text(t)) => {
                if let (Some(p), Ok(s)) = (pending.as_mut(), t.xml10_content()) {
                    p.text.push_str(&s);
                }
                continue;
            }
            Ok(Event::CData(t)) => {
                if let (Some(p), Ok(s)) = (pending.as_mut(), t.xml10_content()) {
                    p.text.push_str(&s);
                }
                continue;
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(p) = pending.as_mut() {
                    p.text.push_str(&resolve_ref(&r));
                }
                continue;
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => continue,
        };
        let parent = bases.last().cloned().unwrap_or_else(|| doc_base.clone());
        let base = match attr(&start, b"xml:base") {
            Some(b) => parent.join(b.trim()).unwrap_or(parent),
            None => parent,
        };
        let depth = bases.len();
        let name = String::from_utf8_lossy(start.local_name().as_ref()).to_ascii_lowercase();
        match item.as_mut() {
            None if matches!(name.as_str(), "item" | "entry") => {
                let mut new = Item {
                    depth,
                    ..Item::default()
                };
                // CDF: <ITEM HREF="…">.
                if let Some(u) = attr_ci(&start, "href").and_then(|h| http_url(&base, &h)) {
                    new.links.push(("alternate".into(), "text/html".into(), u));
                }
                if empty {
                    out.push(new.choose());
                } else {
                    item = Some(new);
                }
            }
            Some(it) if depth == it.depth + 1 => {
                let kind = item_child(&start, &name, &base, it);
                if let (Some(kind), false) = (kind, empty) {
                    pending = Some(Pending {
                        kind,
                        base: base.clone(),
                        text: String::new(),
                    });
                }
            }
            _ => {}
        }
        if !empty {
            bases.push(base);
        }
    }
    out
}

/// What a child element of an item says of its link: a `<link href>` is recorded in `it`
/// at once; a `<link>`, permalink `<guid>` or `<id>` whose text is the link is returned as
/// pending, to be read when it ends.
fn item_child(
    start: &BytesStart<'_>,
    name: &str,
    base: &Url,
    it: &mut Item,
) -> Option<PendingKind> {
    match name {
        "link" => {
            let rel = attr(start, b"rel").map_or_else(
                || "alternate".to_string(),
                |r| r.trim().to_ascii_lowercase(),
            );
            let mime = attr(start, b"type").map_or_else(
                || "text/html".to_string(),
                |t| t.trim().to_ascii_lowercase(),
            );
            if let Some(href) = attr(start, b"href") {
                if let Some(u) = http_url(base, &href) {
                    it.links.push((rel, mime, u));
                }
                None
            } else {
                Some(PendingKind::Link { rel, mime })
            }
        }
        "guid" => {
            let permalink = attr_ci(start, "ispermalink")
                .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
            permalink.then_some(PendingKind::Guid)
        }
        "id" => Some(PendingKind::Id),
        _ => None,
    }
}

/// Records a finished child's text as a candidate.
fn finish(p: Pending, item: Option<&mut Item>) {
    let Some(item) = item else { return };
    let Some(url) = http_url(&p.base, &p.text) else {
        return;
    };
    match p.kind {
        PendingKind::Link { rel, mime } => item.links.push((rel, mime, url)),
        PendingKind::Guid => {
            item.guid.get_or_insert(url);
        }
        // An Atom id is a URL to follow only when it is absolute already, not by resolution.
        PendingKind::Id if p.text.trim().starts_with("http") => {
            item.id.get_or_insert(url);
        }
        PendingKind::Id => {}
    }
}

fn http_url(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let url = base.join(href).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// An attribute's value, entities resolved (exact, case-sensitive name).
fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .map(|a| attr_value(&a))
}

/// An attribute's value by local name, ignoring case (CDF writes `HREF`, RSS `isPermaLink`).
pub(crate) fn attr_ci(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| {
            a.key
                .local_name()
                .as_ref()
                .eq_ignore_ascii_case(name.as_bytes())
        })
        .map(|a| attr_value(&a))
}

/// An attribute's value with entities resolved; as written when an entity is unknown.
fn attr_value(a: &quick_xml::events::attributes::Attribute<'_>) -> String {
    let raw = String::from_utf8_lossy(&a.value);
    quick_xml::escape::unescape(&raw).map_or_else(|_| raw.to_string(), std::borrow::Cow::into_owned)
}

/// `&amp;` → `&`, `&#233;` → `é`; an unknown entity is kept as written.
pub(crate) fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> String {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return c.to_string();
    }
    let name = String::from_utf8_lossy(r.as_ref());
    match &*name {
        "amp" => "&".into(),
        "lt" => "<".into(),
        "gt" => ">".into(),
        "quot" => "\"".into(),
        "apos" => "'".into(),
        other => format!("&{other};"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(xml: &str) -> Vec<Option<String>> {
        let base = Url::parse("http://127.0.0.1:8097/feeds/feed.xml").expect("static URL");
        item_links(xml, &base)
            .into_iter()
            .map(|u| u.map(|u| u.to_string()))
            .collect()
    }

    #[test]
    fn alternate_preferred_and_text_hrefs_read() {
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom">
            <entry><link rel="enclosure" href="http://x.test/a.mp3"/>
                   <link rel="alternate" type="text/html">http://x.test/alt</link></entry>
            <entry><link rel="related" type="text/html" href="http://x.test/rel"/>
                   <link href="http://x.test/plain"/></entry>
            <entry><link rel="alternate" type="application/pdf" href="/doc.pdf"/></entry>
            <entry><id>urn:uuid:1</id><link rel="self" href="http://x.test/self"/></entry>
            <entry><id>http://x.test/by-id</id></entry>
        </feed>"#;
        assert_eq!(
            links(xml),
            [
                Some("http://x.test/alt".into()),
                Some("http://x.test/plain".into()),
                Some("http://127.0.0.1:8097/doc.pdf".into()),
                None,
                Some("http://x.test/by-id".into()),
            ]
        );
    }

    #[test]
    fn xml_base_chain_and_document_url() {
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://example.com/feed/">
            <entry xml:base="entry/"><link href="page.html"/></entry>
            <entry><link xml:base="/other/" href="x"/></entry>
        </feed>
        "#;
        assert_eq!(
            links(xml),
            [
                Some("http://example.com/feed/entry/page.html".into()),
                Some("http://example.com/other/x".into())
            ]
        );
        let rss = "<rss><channel><item><link>/relative/uri</link></item></channel></rss>";
        assert_eq!(
            links(rss),
            [Some("http://127.0.0.1:8097/relative/uri".into())]
        );
    }

    #[test]
    fn rss_guid_image_link_and_cdf() {
        let rss = r#"<rss version="2.0"><channel>
            <item><guid>http://guid.test/</guid></item>
            <item><guid isPermaLink="false">http://guid.test/</guid></item>
            <item><link>http://item.test/</link><image><link>http://img.test/</link></image>
                  <guid>http://guid.test/</guid></item>
            <item><guid isPermaLink="true">http://example.c[o.test/</guid></item>
        </channel></rss>"#;
        assert_eq!(
            links(rss),
            [
                Some("http://guid.test/".into()),
                None,
                Some("http://item.test/".into()),
                None
            ]
        );
        let cdf = r#"<CHANNEL HREF="http://chan.test/"><ITEM HREF="http://a.test/x?a=1&amp;b=2">
            <TITLE>t</TITLE></ITEM><ITEM HREF="/rel"/></CHANNEL>"#;
        assert_eq!(
            links(cdf),
            [
                Some("http://a.test/x?a=1&b=2".into()),
                Some("http://127.0.0.1:8097/rel".into())
            ]
        );
    }
}
