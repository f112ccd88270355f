//! OPML (a feed reader's export) → the feeds it lists, with the categories they sit in.
//!
//! Owns reading OPML 1.0/2.0 as Miniflux, FreshRSS, Feedly, Inoreader, NetNewsWire and
//! Thunderbird write it: every `<outline>` with an `xmlUrl` is a feed, titled by its `title`
//! (else `text`), and the outlines around it are its category path. FreshRSS's scraped pages
//! (`type="HTML+XPath"`, an `htmlUrl` and no `xmlUrl`) are pages to watch. Pure: it gets the file's
//! text and never touches the filesystem or the config. A file that is not OPML is an
//! [`OpmlError`] with the line and column where reading stopped; an outline whose `xmlUrl`
//! is not an http(s) URL is kept in [`Opml::skipped`], never silently dropped.
//!
//! Main type: [`Opml`].

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use url::Url;

use super::error::line_col;

/// Outlines read from one file, at most (an OPML of a million outlines is not an export).
pub const MAX_OUTLINES: usize = 100_000;

/// What an OPML file lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opml {
    /// `<head><title>`, when given.
    pub title: Option<String>,
    /// The feeds, in file order.
    pub feeds: Vec<OpmlFeed>,
    /// Outlines with an `xmlUrl` that cannot be fetched, as `title: reason`.
    pub skipped: Vec<String>,
}

/// One feed outline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    /// `title`, else `text`, else empty.
    pub title: String,
    /// The feed (`xmlUrl`), or for a scraped page its `htmlUrl`.
    pub url: Url,
    /// A web page the reader scraped (FreshRSS `HTML+XPath`), not a feed.
    pub page: bool,
    /// The site's own page (`htmlUrl`), as written.
    pub html_url: Option<String>,
    /// Titles of the enclosing outlines, outermost first.
    pub categories: Vec<String>,
}

/// Why a file is not OPML, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct OpmlError {
    /// 1-based line and column (characters).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Reads an OPML document.
///
/// # Errors
/// [`OpmlError`] when the text is not XML, or its root element is not `<opml>`.
pub fn parse_opml(text: &str) -> Result<Opml, OpmlError> {
    let mut reader = Reader::from_str(text);
    let mut opml = Opml::default();
    let mut root_seen = false;
    // The enclosing outlines' titles; `None` for the head, body and other elements.
    let mut stack: Vec<Option<String>> = Vec::new();
    let mut in_title = false;
    let mut outlines = 0usize;
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(0);
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(0);
                return Err(error_at(text, at, format!("not well-formed XML: {e}")));
            }
        };
        match event {
            Event::Start(e) | Event::Empty(e) if !root_seen => {
                root_seen = true;
                if !e.local_name().as_ref().eq_ignore_ascii_case(b"opml") {
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    return Err(error_at(
                        text,
                        before,
                        format!(
                            "expected an OPML document (an <opml> root element), found <{name}>"
                        ),
                    ));
                }
                stack.push(None);
            }
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_ascii_lowercase();
                in_title = name == b"title" && stack.len() == 2;
                let title = if name == b"outline" {
                    outlines += 1;
                    Some(read_outline(&e, &stack, &mut opml))
                } else {
                    None
                };
                stack.push(title);
            }
            Event::Empty(e) if e.local_name().as_ref().eq_ignore_ascii_case(b"outline") => {
                outlines += 1;
                read_outline(&e, &stack, &mut opml);
            }
            Event::End(_) => {
                stack.pop();
                in_title = false;
            }
            Event::Text(t) if in_title => {
                let title = t.xml10_content().unwrap_or_default().trim().to_string();
                opml.title = Some(title).filter(|t| !t.is_empty());
            }
            Event::Text(t) if !root_seen => {
                let raw = t.xml10_content().unwrap_or_default();
                if let Some(off) = raw.find(|c: char| !c.is_whitespace()) {
                    return Err(error_at(
                        text,
                        before + off,
                        "expected an OPML document (an <opml> root element), found text".into(),
                    ));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if outlines > MAX_OUTLINES {
            return Err(error_at(
                text,
                before,
                format!("more than {MAX_OUTLINES} outlines; not a feed reader's export"),
            ));
        }
    }
    if !root_seen {
        return Err(error_at(
            text,
            0,
            "expected an OPML document (an <opml> root element), found no XML element".into(),
        ));
    }
    Ok(opml)
}

/// Records a feed outline (or a skipped one); returns the outline's title for the category
/// stack.
fn read_outline(e: &BytesStart<'_>, stack: &[Option<String>], opml: &mut Opml) -> String {
    let attr = |key: &str| {
        e.attributes()
            .flatten()
            .find(|a| {
                a.key
                    .local_name()
                    .as_ref()
                    .eq_ignore_ascii_case(key.as_bytes())
            })
            .map(|a| {
                let raw = String::from_utf8_lossy(&a.value).into_owned();
                quick_xml::escape::unescape(&raw).map_or(raw.clone(), std::borrow::Cow::into_owned)
            })
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let title = attr("title").or_else(|| attr("text")).unwrap_or_default();
    let scraped = attr("type").is_some_and(|t| t.to_ascii_lowercase().starts_with("html"));
    let (url, page) = match (attr("xmlUrl"), attr("htmlUrl")) {
        (Some(x), _) => (Some(x), false),
        (None, Some(h)) if scraped => (Some(h), true),
        _ => (None, false),
    };
    if let Some(xml_url) = url {
        match Url::parse(&legacy_feed_scheme(&xml_url)) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => opml.feeds.push(OpmlFeed {
                title: title.clone(),
                url: u,
                page,
                html_url: attr("htmlUrl"),
                categories: stack.iter().flatten().cloned().collect(),
            }),
            Ok(u) => opml.skipped.push(format!(
                "{title}: URL scheme {:?} is not http(s)",
                u.scheme()
            )),
            Err(err) => opml
                .skipped
                .push(format!("{title}: {xml_url:?} is not a URL ({err})")),
        }
    }
    title
}

/// `feed://host/x` → `http://host/x`, `feed:https://host/x` → `https://host/x`: the pseudo
/// scheme old readers wrote for "subscribe to this".
fn legacy_feed_scheme(url: &str) -> String {
    match url.strip_prefix("feed:") {
        Some(rest) if rest.starts_with("http://") || rest.starts_with("https://") => rest.into(),
        Some(rest) if rest.starts_with("//") => format!("http:{rest}"),
        _ => url.to_string(),
    }
}

fn error_at(text: &str, offset: usize, message: String) -> OpmlError {
    let (line, column) = line_col(text, offset);
    OpmlError {
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_categories_and_titles() {
        let opml = r#"<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Miniflux</title></head>
  <body>
    <outline text="Afrique">
      <outline text="Sahel" title="Sahel">
        <outline title="RFI &amp; Afrique" text="x" xmlUrl="https://www.rfi.fr/fr/afrique/rss" htmlUrl="https://www.rfi.fr/fr/afrique/"/>
      </outline>
    </outline>
    <outline text="الجزيرة" xmlUrl="https://www.aljazeera.net/rss" type="rss"></outline>
    <outline text="broken" xmlUrl="not a url"/>
    <outline text="Scraped" type="HTML+XPath" htmlUrl="https://sahel.example/"/>
    <outline text="gopher" xmlUrl="gopher://x.example/"/>
    <outline text="old" xmlUrl="feed://old.example/rss"/>
  </body>
</opml>"#;
        let got = parse_opml(opml).expect("valid OPML");
        assert_eq!(got.title.as_deref(), Some("Miniflux"));
        assert_eq!(got.feeds.len(), 4);
        assert!(got.feeds[2].page && !got.feeds[0].page);
        assert_eq!(got.feeds[3].url.as_str(), "http://old.example/rss");
        assert_eq!(got.feeds[0].title, "RFI & Afrique");
        assert_eq!(got.feeds[0].categories, ["Afrique", "Sahel"]);
        assert_eq!(got.feeds[1].title, "الجزيرة");
        assert!(got.feeds[1].categories.is_empty());
        assert_eq!(got.skipped.len(), 2, "{:?}", got.skipped);
    }

    #[test]
    fn not_opml_says_where() {
        let e = parse_opml("{\"feeds\": []}").expect_err("json");
        assert_eq!((e.line, e.column), (1, 1), "{e}");
        let e = parse_opml("\n\n  <html><body/></html>").expect_err("html");
        assert_eq!((e.line, e.column), (3, 3), "{e}");
        assert!(e.message.contains("found <html>"), "{e}");
        let e = parse_opml("<opml>\n<body>\n<outline text=\"a\">\n</body></opml>")
            .expect_err("mismatched");
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("not well-formed"), "{e}");
        let e = parse_opml("").expect_err("empty");
        assert_eq!((e.line, e.column), (1, 1));
    }
}
