//! Sitemaps → entries: `<urlset>` (plain `<lastmod>` and the Google News `news:` extension)
//! and `<sitemapindex>`, gzip'd or not.
//!
//! Owns recognising a sitemap by its root element, after inflating a body that starts with
//! gzip's magic bytes whatever its name or content type says; inflating within a byte cap
//! (a gzip bomb stops at the cap); and reading the XML as a quick-xml event stream, so a
//! 50,000-URL sitemap never becomes a tree. A news entry's title, publication date and
//! language are kept as a feed item's would be; a plain sitemap's `<lastmod>` stands in for
//! the date. It never does HTTP: an index's child sitemaps are fetched by `crate::gather`.
//! `Sitemap:` lines of a robots.txt are read here too, for `newswatch discover`.
//!
//! Main type: [`Sitemap`].

use std::io::Read as _;

use chrono::{DateTime, Utc};
use quick_xml::events::Event;
use quick_xml::Reader;
use url::Url;

use super::{charset, meta, Entry, ExtractError};

/// URLs read from one sitemap: the protocol's own limit per file (sitemaps.org).
pub const MAX_SITEMAP_URLS: usize = 50_000;
/// Child sitemaps read from one index (the protocol's limit too).
pub const MAX_INDEX_CHILDREN: usize = 50_000;
/// Largest sitemap inflated, when no smaller cap is given: the protocol's 50 MiB.
pub const MAX_SITEMAP_BYTES: u64 = 50 * 1024 * 1024;

/// What a sitemap document holds.
#[derive(Debug, Clone)]
pub enum Sitemap {
    /// A `<urlset>`: article entries, newest first.
    Urls(UrlSet),
    /// A `<sitemapindex>`: child sitemaps, most recently modified first.
    Index(Vec<SitemapRef>),
}

/// The entries of a `<urlset>`.
#[derive(Debug, Clone, Default)]
pub struct UrlSet {
    /// Entries, newest first (by news publication date, else `<lastmod>`); undated ones
    /// last, in document order.
    pub entries: Vec<Entry>,
    /// `<url>` elements past [`MAX_SITEMAP_URLS`], counted but not read.
    pub left: usize,
}

/// One child of a sitemap index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitemapRef {
    /// Absolute URL of the child sitemap.
    pub url: Url,
    /// Its `<lastmod>`, when given.
    pub lastmod: Option<DateTime<Utc>>,
}

/// Whether `bytes` starts with gzip's magic number (RFC 1952 §2.3.1).
#[must_use]
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Inflates a gzip'd body, refusing to produce more than `cap` bytes.
///
/// # Errors
/// [`ExtractError::BrokenSitemap`] when the stream is corrupt or inflates past `cap`.
pub fn inflate(bytes: &[u8], cap: u64) -> Result<Vec<u8>, ExtractError> {
    let mut out = Vec::new();
    let mut decoder = flate2::read::MultiGzDecoder::new(bytes).take(cap.saturating_add(1));
    decoder
        .read_to_end(&mut out)
        .map_err(|e| ExtractError::BrokenSitemap(format!("gzip stream unreadable: {e}")))?;
    if out.len() as u64 > cap {
        return Err(ExtractError::BrokenSitemap(format!(
            "gzip'd sitemap inflates past {cap} bytes; not read"
        )));
    }
    Ok(out)
}

/// Whether `bytes` (gzip'd or not) is a sitemap: its root element is `<urlset>` or
/// `<sitemapindex>`. Only the document's head is looked at (and inflated).
#[must_use]
pub fn is_sitemap(bytes: &[u8]) -> bool {
    const HEAD: usize = 8 * 1024;
    let head = if is_gzip(bytes) {
        let mut out = Vec::with_capacity(HEAD);
        let mut decoder = flate2::read::MultiGzDecoder::new(bytes).take(HEAD as u64);
        // A stream cut by `take` is fine; only what inflated so far is looked at.
        let _ = decoder.read_to_end(&mut out);
        out
    } else {
        bytes[..bytes.len().min(HEAD)].to_vec()
    };
    let (text, _) = charset::decode(&head, None);
    matches!(root_name(&text).as_deref(), Some("urlset" | "sitemapindex"))
}

/// Reads a sitemap, inflating it first when it is gzip'd (at most `cap` bytes).
///
/// # Errors
/// [`ExtractError::BrokenSitemap`] for a corrupt or over-cap gzip stream, XML broken before
/// any entry, or a document whose root is not `<urlset>` or `<sitemapindex>`.
pub fn extract_sitemap(bytes: &[u8], base: &Url, cap: u64) -> Result<Sitemap, ExtractError> {
    let inflated;
    let bytes = if is_gzip(bytes) {
        inflated = inflate(bytes, cap)?;
        &inflated[..]
    } else {
        bytes
    };
    let (text, _) = charset::decode(bytes, None);
    match root_name(&text).as_deref() {
        Some("urlset") => read_urlset(&text, base).map(Sitemap::Urls),
        Some("sitemapindex") => read_index(&text, base).map(Sitemap::Index),
        Some(other) => Err(ExtractError::BrokenSitemap(format!(
            "expected a sitemap (<urlset> or <sitemapindex>), found <{other}>"
        ))),
        None => Err(ExtractError::BrokenSitemap(
            "expected a sitemap (<urlset> or <sitemapindex>), found no XML element".into(),
        )),
    }
}

/// The `Sitemap:` URLs a robots.txt announces (absolute http(s) only, in file order, once each).
#[must_use]
pub fn robots_sitemaps(robots_txt: &str) -> Vec<Url> {
    let mut out: Vec<Url> = Vec::new();
    for line in robots_txt.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("sitemap") {
            continue;
        }
        if let Ok(url) = Url::parse(value.trim()) {
            if matches!(url.scheme(), "http" | "https") && !out.contains(&url) {
                out.push(url);
            }
        }
    }
    out
}

/// `zh-CN` → `zh`: the lower-case primary subtag of a language tag, if it is one.
#[must_use]
pub fn primary_language(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    ((2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic()))
        .then_some(primary)
}

/// Local name (lower-case, prefix dropped) of the document's first element.
fn root_name(text: &str) -> Option<String> {
    let mut reader = Reader::from_str(text);
    for _ in 0..256 {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                return Some(String::from_utf8_lossy(e.local_name().as_ref()).to_lowercase());
            }
            Ok(Event::Eof) | Err(_) => return None,
            Ok(_) => {}
        }
    }
    None
}

/// Text gathered for the element being read, entity references resolved.
#[derive(Default)]
struct TextBuf(String);

impl TextBuf {
    fn push_event(&mut self, event: &Event<'_>) {
        match event {
            Event::Text(t) => {
                if let Ok(s) = t.xml10_content() {
                    self.0.push_str(&s);
                }
            }
            Event::CData(c) => {
                if let Ok(s) = c.xml10_content() {
                    self.0.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    self.0.push(c);
                } else {
                    let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                    match name.as_str() {
                        "amp" => self.0.push('&'),
                        "lt" => self.0.push('<'),
                        "gt" => self.0.push('>'),
                        "quot" => self.0.push('"'),
                        "apos" => self.0.push('\''),
                        _ => {
                            self.0.push('&');
                            self.0.push_str(&name);
                            self.0.push(';');
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn take(&mut self) -> String {
        let s = self.0.trim().to_string();
        self.0.clear();
        s
    }
}

/// What one `<url>` said, before it becomes an [`Entry`].
#[derive(Default)]
struct UrlRecord {
    loc: Option<String>,
    lastmod: Option<String>,
    news_date: Option<String>,
    news_title: Option<String>,
    news_lang: Option<String>,
}

impl UrlRecord {
    fn into_entry(self, base: &Url) -> Option<Entry> {
        let url = base.join(self.loc?.trim()).ok()?;
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        let published = self
            .news_date
            .as_deref()
            .and_then(meta::parse_date)
            .or_else(|| self.lastmod.as_deref().and_then(meta::parse_date));
        Some(Entry {
            url: Some(url),
            title: self.news_title.filter(|t| !t.is_empty()),
            published,
            text: String::new(),
            lang: self.news_lang.as_deref().and_then(primary_language),
        })
    }
}

/// Streams a `<urlset>`. XML broken after some entries keeps those entries.
fn read_urlset(text: &str, base: &Url) -> Result<UrlSet, ExtractError> {
    let mut reader = Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut buf = TextBuf::default();
    let mut record: Option<UrlRecord> = None;
    let mut set = UrlSet::default();
    let mut read = 0usize;
    loop {
        let event = match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(e) => e,
            Err(e) if set.entries.is_empty() => return Err(broken_xml(&reader, text, &e)),
            Err(_) => break,
        };
        match &event {
            Event::Start(e) => {
                let name = local(e.local_name().as_ref());
                if name == "url" && path.len() == 1 {
                    if read < MAX_SITEMAP_URLS {
                        record = Some(UrlRecord::default());
                    } else {
                        set.left += 1;
                    }
                    read += 1;
                }
                path.push(name);
                buf.take();
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                let value = buf.take();
                if let Some(r) = record.as_mut() {
                    let in_news = path.iter().any(|p| p == "news");
                    match name.as_str() {
                        "loc" if path.len() == 2 => r.loc = Some(value),
                        "lastmod" if path.len() == 2 => r.lastmod = Some(value),
                        "publication_date" if in_news => r.news_date = Some(value),
                        "title" if in_news => r.news_title = Some(value),
                        "language" if in_news => r.news_lang = Some(value),
                        "url" if path.len() == 1 => {
                            if let Some(entry) = record.take().and_then(|r| r.into_entry(base)) {
                                set.entries.push(entry);
                            }
                        }
                        _ => {}
                    }
                }
            }
            other => buf.push_event(other),
        }
    }
    newest_first(&mut set.entries);
    Ok(set)
}

/// Streams a `<sitemapindex>`; children sorted most recently modified first.
fn read_index(text: &str, base: &Url) -> Result<Vec<SitemapRef>, ExtractError> {
    let mut reader = Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut buf = TextBuf::default();
    let (mut loc, mut lastmod) = (None::<String>, None::<String>);
    let mut out: Vec<SitemapRef> = Vec::new();
    loop {
        let event = match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(e) => e,
            Err(e) if out.is_empty() => return Err(broken_xml(&reader, text, &e)),
            Err(_) => break,
        };
        match &event {
            Event::Start(e) => {
                path.push(local(e.local_name().as_ref()));
                buf.take();
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                let value = buf.take();
                match name.as_str() {
                    "loc" if path.len() == 2 => loc = Some(value),
                    "lastmod" if path.len() == 2 => lastmod = Some(value),
                    "sitemap" if path.len() == 1 => {
                        let url = loc.take().and_then(|l| base.join(l.trim()).ok());
                        let lastmod = lastmod.take().as_deref().and_then(meta::parse_date);
                        if let Some(url) = url.filter(|u| matches!(u.scheme(), "http" | "https")) {
                            if out.len() < MAX_INDEX_CHILDREN && !out.iter().any(|r| r.url == url) {
                                out.push(SitemapRef { url, lastmod });
                            }
                        }
                    }
                    _ => {}
                }
            }
            other => buf.push_event(other),
        }
    }
    // Most recently modified first; undated last, in document order (the sort is stable).
    out.sort_by_key(|r| std::cmp::Reverse(r.lastmod));
    Ok(out)
}

/// Newest first by `published`; undated entries last, in document order.
pub(crate) fn newest_first(entries: &mut [Entry]) {
    entries.sort_by_key(|e| std::cmp::Reverse(e.published));
}

fn local(name: &[u8]) -> String {
    String::from_utf8_lossy(name).to_lowercase()
}

fn broken_xml(reader: &Reader<&[u8]>, text: &str, err: &quick_xml::Error) -> ExtractError {
    let at = usize::try_from(reader.error_position()).unwrap_or(0);
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    ExtractError::BrokenSitemap(format!("broken XML at line {line}, column {column}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://news.example.org/sitemap.xml").expect("static URL")
    }

    const NEWS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://news.example.org/ar/2024/04/17/niger</loc>
    <news:news>
      <news:publication><news:name>الخبر</news:name><news:language>ar</news:language></news:publication>
      <news:publication_date>2024-04-17T09:30:00+01:00</news:publication_date>
      <news:title>انسحاب القوات من النيجر</news:title>
    </news:news>
  </url>
  <url>
    <loc>https://news.example.org/fr/2024/04/18/agadez?a=1&amp;b=2</loc>
    <news:news>
      <news:publication><news:name>Le Journal</news:name><news:language>fr-FR</news:language></news:publication>
      <news:publication_date>2024-04-18</news:publication_date>
      <news:title><![CDATA[Retrait d'Agadez & après]]></news:title>
    </news:news>
  </url>
  <url><loc>https://news.example.org/undated</loc></url>
  <url><loc>/relative/old</loc><lastmod>2023-01-01</lastmod></url>
</urlset>"#;

    #[test]
    fn news_sitemap_entries_newest_first() {
        let Sitemap::Urls(set) =
            extract_sitemap(NEWS.as_bytes(), &base(), MAX_SITEMAP_BYTES).expect("valid sitemap")
        else {
            panic!("a urlset");
        };
        let urls: Vec<&str> = set
            .entries
            .iter()
            .map(|e| e.url.as_ref().map_or("", Url::as_str))
            .collect();
        assert_eq!(
            urls,
            [
                "https://news.example.org/fr/2024/04/18/agadez?a=1&b=2",
                "https://news.example.org/ar/2024/04/17/niger",
                "https://news.example.org/relative/old",
                "https://news.example.org/undated",
            ]
        );
        let fr = &set.entries[0];
        assert_eq!(fr.title.as_deref(), Some("Retrait d'Agadez & après"));
        assert_eq!(fr.lang.as_deref(), Some("fr"));
        let ar = &set.entries[1];
        assert_eq!(ar.title.as_deref(), Some("انسحاب القوات من النيجر"));
        assert_eq!(ar.lang.as_deref(), Some("ar"));
        assert_eq!(
            ar.published.map(|d| d.to_rfc3339()),
            Some("2024-04-17T08:30:00+00:00".into())
        );
        assert!(set.entries[2].published.is_some(), "lastmod stands in");
        assert!(set.entries[3].published.is_none());
        assert_eq!(set.left, 0);
    }

    #[test]
    fn index_children_most_recent_first() {
        let index = br#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <sitemap><loc>https://x.example/a.xml.gz</loc><lastmod>2024-01-01</lastmod></sitemap>
            <sitemap><loc>https://x.example/b.xml.gz</loc><lastmod>2024-03-01T00:00:00Z</lastmod></sitemap>
            <sitemap><loc>https://x.example/c.xml</loc></sitemap>
            <sitemap><loc>https://x.example/a.xml.gz</loc></sitemap>
            <sitemap><loc>ftp://x.example/d.xml</loc></sitemap>
        </sitemapindex>"#;
        let Sitemap::Index(children) =
            extract_sitemap(index, &base(), MAX_SITEMAP_BYTES).expect("valid index")
        else {
            panic!("an index");
        };
        let urls: Vec<&str> = children.iter().map(|c| c.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://x.example/b.xml.gz",
                "https://x.example/a.xml.gz",
                "https://x.example/c.xml"
            ]
        );
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write as _;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).expect("in-memory write");
        enc.finish().expect("in-memory gzip")
    }

    #[test]
    fn gzip_recognised_by_magic_and_capped() {
        let gz = gzip(NEWS.as_bytes());
        assert!(is_gzip(&gz));
        assert!(is_sitemap(&gz));
        assert!(is_sitemap(NEWS.as_bytes()));
        assert!(!is_sitemap(b"<rss version=\"2.0\"><channel/></rss>"));
        assert!(!is_sitemap(&gzip(b"<html><body>x</body></html>")));
        assert!(matches!(
            extract_sitemap(&gz, &base(), MAX_SITEMAP_BYTES),
            Ok(Sitemap::Urls(s)) if s.entries.len() == 4
        ));
        let err = extract_sitemap(&gz, &base(), 100).expect_err("over the cap");
        assert!(err.to_string().contains("inflates past 100 bytes"), "{err}");
        let err = extract_sitemap(&gz[..gz.len() / 2], &base(), MAX_SITEMAP_BYTES)
            .expect_err("cut stream");
        assert!(err.to_string().contains("gzip"), "{err}");
    }

    #[test]
    fn more_than_the_protocol_limit_is_counted_not_read() {
        let mut xml = String::from("<urlset>");
        for i in 0..MAX_SITEMAP_URLS + 7 {
            xml.push_str(&format!("<url><loc>https://x.example/{i}</loc></url>"));
        }
        xml.push_str("</urlset>");
        let Ok(Sitemap::Urls(set)) = extract_sitemap(xml.as_bytes(), &base(), MAX_SITEMAP_BYTES)
        else {
            panic!("a urlset");
        };
        assert_eq!(set.entries.len(), MAX_SITEMAP_URLS);
        assert_eq!(set.left, 7);
    }

    #[test]
    fn not_a_sitemap_and_broken_xml() {
        let err =
            extract_sitemap(b"<html><body/></html>", &base(), MAX_SITEMAP_BYTES).expect_err("html");
        assert!(err.to_string().contains("found <html>"), "{err}");
        let err = extract_sitemap(b"just text", &base(), MAX_SITEMAP_BYTES).expect_err("text");
        assert!(err.to_string().contains("no XML element"), "{err}");
        let err = extract_sitemap(b"<urlset>\n<url><loc>x</lo></url>", &base(), 1000)
            .expect_err("broken");
        assert!(err.to_string().contains("line 2"), "{err}");
        // Broken after an entry: the entries before the break are kept.
        let cut = b"<urlset><url><loc>https://x.example/1</loc></url><url><loc>https://x.exa";
        assert!(matches!(
            extract_sitemap(cut, &base(), 1000),
            Ok(Sitemap::Urls(s)) if s.entries.len() == 1
        ));
    }

    #[test]
    fn robots_sitemap_lines() {
        let robots = "User-agent: *\nDisallow: /private\nSitemap: https://x.example/news.xml\n\
            sitemap:https://x.example/index.xml # all\nSITEMAP: /relative.xml\n\
            Sitemap: https://x.example/news.xml\n";
        let got: Vec<String> = robots_sitemaps(robots)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            got,
            ["https://x.example/news.xml", "https://x.example/index.xml"]
        );
    }

    #[test]
    fn language_tags() {
        assert_eq!(primary_language("zh-cn").as_deref(), Some("zh"));
        assert_eq!(primary_language(" AR ").as_deref(), Some("ar"));
        assert_eq!(primary_language("fr_FR").as_deref(), Some("fr"));
        assert_eq!(primary_language("français"), None);
        assert_eq!(primary_language(""), None);
    }
}
