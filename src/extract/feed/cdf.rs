//! CDF, Microsoft's Channel Definition Format (1997): a `<CHANNEL>` of `<ITEM HREF LASTMOD>`
//! elements with `<TITLE>` and `<ABSTRACT>`, still served by a few old sites and read by
//! feedparser. feed-rs does not know it, so it is read here with quick-xml.

use quick_xml::events::Event;
use quick_xml::Reader;
use url::Url;

use super::super::{meta, text, Entry, ExtractError};
use super::links::{attr_ci, resolve_ref};

#[derive(Default)]
struct Item {
    depth: usize,
    href: Option<String>,
    lastmod: Option<String>,
    title: String,
    summary: String,
}

/// Which child's text is being read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    None,
    Title,
    Abstract,
}

/// The items of a CDF channel (nested channels included), in document order.
///
/// # Errors
/// [`ExtractError::BrokenFeed`] when the XML breaks before the first item.
pub(crate) fn extract_cdf(xml: &str, base: &Url) -> Result<Vec<Entry>, ExtractError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = false;
    let mut depth = 0usize;
    let mut item: Option<Item> = None;
    let mut field = Field::None;
    let mut out = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.local_name().as_ref().to_ascii_lowercase();
                match (&name[..], item.as_ref()) {
                    (b"item", None) => {
                        item = Some(Item {
                            depth,
                            href: attr_ci(&e, "href"),
                            lastmod: attr_ci(&e, "lastmod"),
                            ..Item::default()
                        });
                    }
                    (b"title", Some(i)) if depth == i.depth + 1 => field = Field::Title,
                    (b"abstract", Some(i)) if depth == i.depth + 1 => field = Field::Abstract,
                    _ => {}
                }
                depth += 1;
            }
            Ok(Event::Empty(e)) if e.local_name().as_ref().eq_ignore_ascii_case(b"item") => {
                let href = attr_ci(&e, "href");
                out.extend(to_entry(
                    &Item {
                        href,
                        ..Item::default()
                    },
                    base,
                ));
            }
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                field = Field::None;
                if item.as_ref().is_some_and(|i| i.depth == depth) {
                    out.extend(item.take().and_then(|i| to_entry(&i, base)));
                }
            }
            Ok(ev @ (Event::Text(_) | Event::CData(_) | Event::GeneralRef(_))) => {
                let Some(i) = item.as_mut() else { continue };
                let target = match field {
                    Field::Title => &mut i.title,
                    Field::Abstract => &mut i.summary,
                    Field::None => continue,
                };
                match ev {
                    Event::Text(t) => target.push_str(&t.xml10_content().unwrap_or_default()),
                    Event::CData(t) => target.push_str(&t.xml10_content().unwrap_or_default()),
                    Event::GeneralRef(r) => target.push_str(&resolve_ref(&r)),
                    _ => {}
                }
            }
            Err(e) if out.is_empty() => return Err(ExtractError::BrokenFeed(format!("CDF: {e}"))),
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    Ok(out)
}

fn to_entry(item: &Item, base: &Url) -> Option<Entry> {
    let url = item
        .href
        .as_deref()
        .and_then(|h| base.join(h.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    let title =
        Some(text::collapse(&text::html_fragment_text(&item.title))).filter(|t| !t.is_empty());
    let summary = text::html_fragment_text(&item.summary);
    if url.is_none() && title.is_none() && summary.trim().is_empty() {
        return None;
    }
    Some(Entry {
        url,
        title,
        published: item.lastmod.as_deref().and_then(meta::parse_date),
        text: summary,
        lang: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_items() {
        let base = Url::parse("http://example.org/channel.cdf").expect("static URL");
        let cdf = r#"<?xml version="1.0"?>
<CHANNEL HREF="http://www.example.org/">
  <TITLE>Example channel</TITLE>
  <ITEM HREF="/one" LASTMOD="2004-04-06T23:05:43-05:00">
    <TITLE>Example item</TITLE>
    <ABSTRACT>Example &amp; description</ABSTRACT>
  </ITEM>
  <CHANNEL><ITEM HREF="http://www.example.org/two"/></CHANNEL>
</CHANNEL>"#;
        let entries = extract_cdf(cdf, &base).expect("valid CDF");
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0].url.as_ref().map(Url::as_str),
            Some("http://example.org/one")
        );
        assert_eq!(entries[0].title.as_deref(), Some("Example item"));
        assert_eq!(entries[0].text, "Example & description");
        assert_eq!(
            entries[0].published.map(|d| d.to_rfc3339()),
            Some("2004-04-07T04:05:43+00:00".into())
        );
        assert_eq!(
            entries[1].url.as_ref().map(Url::as_str),
            Some("http://www.example.org/two")
        );
    }
}
