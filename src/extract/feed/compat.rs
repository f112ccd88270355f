//! Feeds feed-rs refuses for their root element alone, rewritten so it reads them.
//!
//! feed-rs dispatches on the root: `<rss>` only with `version` 2.0, 0.91 or 0.92, and Atom
//! only in the Atom 1.0 namespace. The web also serves `<rss>` with no version, 0.93, 0.94,
//! 2.01 (all read as 2.0, a superset), and Atom 0.3 (`http://purl.org/atom/ns#`, deprecated
//! in 2005 yet still generated), whose `issued`/`modified` are 1.0's `published`/`updated`
//! and whose text constructs name MIME types (`type="text/plain"`, `text/html`,
//! `application/xhtml+xml`) where 1.0 says `text`, `html`, `xhtml`; feed-rs refuses a whole
//! feed over one such title. Only the root tag (RSS), or the namespace, those two element
//! names and those `type` values outside `<link>` (Atom 0.3), change.

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::Reader;

const ATOM_03: &str = "http://purl.org/atom/ns#";
const ATOM_10: &str = "http://www.w3.org/2005/Atom";

/// `xml` as feed-rs will read it: unchanged unless its root is one of the above.
pub(crate) fn for_feed_rs(xml: &str) -> Cow<'_, str> {
    let mut reader = Reader::from_str(xml);
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(0);
        let root = match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => e,
            Ok(Event::Eof) | Err(_) => return Cow::Borrowed(xml),
            Ok(_) => continue,
        };
        let after = usize::try_from(reader.buffer_position()).unwrap_or(0);
        let attr = |key: &[u8]| {
            root.attributes()
                .flatten()
                .find(|a| a.key.as_ref() == key)
                .map(|a| String::from_utf8_lossy(&a.value).trim().to_string())
        };
        return match root.name().as_ref() {
            b"rss" => {
                if matches!(attr(b"version").as_deref(), Some("2.0" | "0.91" | "0.92")) {
                    return Cow::Borrowed(xml);
                }
                let mut tag = String::from("<rss version=\"2.0\"");
                for a in root.attributes().flatten() {
                    if a.key.as_ref() != b"version" {
                        let value = String::from_utf8_lossy(&a.value).replace('"', "&quot;");
                        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                        tag.push_str(&format!(" {key}=\"{value}\""));
                    }
                }
                tag.push_str(if xml[..after].ends_with("/>") {
                    "/>"
                } else {
                    ">"
                });
                Cow::Owned(format!("{}{tag}{}", &xml[..before], &xml[after..]))
            }
            b"feed" if attr(b"xmlns").as_deref() == Some(ATOM_03) => {
                let mut s = atom_03_types(xml).replace(ATOM_03, ATOM_10);
                for (old, new) in [("issued", "published"), ("modified", "updated")] {
                    s = s
                        .replace(&format!("<{old}>"), &format!("<{new}>"))
                        .replace(&format!("</{old}>"), &format!("</{new}>"));
                }
                Cow::Owned(s)
            }
            _ => Cow::Borrowed(xml),
        };
    }
}

/// Atom 0.3's MIME-typed text constructs as Atom 1.0's `type` values (links keep theirs).
fn atom_03_types(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut copied = 0;
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = false;
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(0);
        let (tag, empty) = match reader.read_event() {
            Ok(Event::Start(e)) => (e, false),
            Ok(Event::Empty(e)) => (e, true),
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => continue,
        };
        if tag.local_name().as_ref() == b"link" {
            continue;
        }
        let ty = tag
            .attributes()
            .flatten()
            .find(|a| a.key.as_ref() == b"type")
            .map(|a| {
                String::from_utf8_lossy(&a.value)
                    .trim()
                    .to_ascii_lowercase()
            });
        let new_ty = match ty.as_deref() {
            Some("text/plain") => "text",
            Some("text/html") => "html",
            Some("application/xhtml+xml") => "xhtml",
            _ => continue,
        };
        let after = usize::try_from(reader.buffer_position()).unwrap_or(0);
        let name = String::from_utf8_lossy(tag.name().as_ref()).into_owned();
        let mut rebuilt = format!("<{name} type=\"{new_ty}\"");
        for a in tag.attributes().flatten() {
            if !matches!(a.key.as_ref(), b"type" | b"mode") {
                let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                let value = String::from_utf8_lossy(&a.value).replace('"', "&quot;");
                rebuilt.push_str(&format!(" {key}=\"{value}\""));
            }
        }
        rebuilt.push_str(if empty { "/>" } else { ">" });
        out.push_str(&xml[copied..before]);
        out.push_str(&rebuilt);
        copied = after;
    }
    out.push_str(&xml[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_versions_feed_rs_refuses_become_2_0() {
        assert!(matches!(
            for_feed_rs("<rss version=\"2.0\"><channel/></rss>"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            for_feed_rs("<?xml version='1.0'?>\n<!-- c -->\n<rss xmlns:dc='x&amp;y'><channel/></rss>"),
            "<?xml version='1.0'?>\n<!-- c -->\n<rss version=\"2.0\" xmlns:dc=\"x&amp;y\"><channel/></rss>"
        );
        assert_eq!(
            for_feed_rs("<rss version = \"0.93\"><channel/></rss>"),
            "<rss version=\"2.0\"><channel/></rss>"
        );
    }

    #[test]
    fn atom_03_reads_as_1_0() {
        let got = for_feed_rs(
            "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><entry><issued>2004-01-01T00:00:00Z</issued><modified>2004-01-02T00:00:00Z</modified></entry></feed>",
        );
        assert_eq!(got, "<feed version=\"0.3\" xmlns=\"http://www.w3.org/2005/Atom\"><entry><published>2004-01-01T00:00:00Z</published><updated>2004-01-02T00:00:00Z</updated></entry></feed>");
        let got = for_feed_rs(
            "<feed xmlns=\"http://purl.org/atom/ns#\"><entry><title type=\"text/plain\" mode=\"escaped\">a</title><link rel=\"alternate\" type=\"text/html\" href=\"x\"/><content type='application/xhtml+xml' xml:base='b'/></entry></feed>",
        );
        assert_eq!(got, "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><title type=\"text\">a</title><link rel=\"alternate\" type=\"text/html\" href=\"x\"/><content type=\"xhtml\" xml:base=\"b\"/></entry></feed>");
    }
}
