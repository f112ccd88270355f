//! Bytes → text: finds a document's character encoding and decodes it.
//!
//! The order follows what browsers and feed readers do, with one deliberate
//! change from the brief: a byte-order mark wins over everything, because a BOM
//! is unambiguous and a header that contradicts it is always the wrong one
//! (WHATWG "decode" does the same). Then the `Content-Type` charset, then an
//! in-document declaration (`<meta charset>`, `http-equiv`, or the XML
//! declaration), then UTF-16 sniffed from `<` NUL patterns, then detection:
//! valid UTF-8 stays UTF-8, anything else is guessed by chardetng. Malformed
//! sequences become U+FFFD; decoding never fails.
//!
//! It leaves HTTP to `fetch` and parsing to [`super::feed`] / [`super::page`];
//! [`for_xml_parser`] prepares decoded feed text for feed-rs, which only reads
//! UTF-8 reliably.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

/// How far into a document to look for an encoding declaration. HTML says
/// 1024 bytes; real pages put long comments and scripts first, so look further.
const DECLARATION_WINDOW: usize = 4096;

/// How many bytes chardetng sees. Enough text to tell Arabic code pages apart.
const DETECTION_WINDOW: usize = 64 * 1024;

/// Decodes `bytes` to a `String` and says which encoding was used.
///
/// `content_type` is the HTTP `Content-Type` header, when there is one.
#[must_use]
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> (String, &'static Encoding) {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return (text.into_owned(), enc);
    }
    let enc = content_type
        .and_then(header_charset)
        .or_else(|| declared_charset(bytes))
        .or_else(|| sniff_utf16(bytes))
        .unwrap_or_else(|| detect(bytes));
    let (text, _) = enc.decode_without_bom_handling(bytes);
    (text.into_owned(), enc)
}

/// The `charset` parameter of a `Content-Type` header, if `encoding_rs` knows it.
#[must_use]
pub fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        Encoding::for_label(value.as_bytes())
    })
}

/// An encoding declared inside the document: the XML declaration or an HTML
/// `<meta>` in the first few kilobytes.
fn declared_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(DECLARATION_WINDOW)];
    // ASCII-compatible view: a declaration is ASCII in every encoding we can
    // reach here (UTF-16 without a BOM is sniffed separately).
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let label = xml_declared(&head).or_else(|| meta_declared(&head))?;
    let enc = Encoding::for_label(label.as_bytes())?;
    // A document that declares UTF-16 while its bytes are readable as ASCII is
    // lying (HTML spec: treat as UTF-8); x-user-defined means windows-1252.
    if enc == UTF_16LE || enc == UTF_16BE {
        return Some(UTF_8);
    }
    if enc.name() == "x-user-defined" {
        return Some(WINDOWS_1252);
    }
    Some(enc)
}

/// `encoding="…"` from `<?xml … ?>` at the start of the document.
fn xml_declared(head: &str) -> Option<String> {
    let start = head.find("<?xml")?;
    if !head[..start].trim().is_empty() {
        return None;
    }
    let decl = &head[start..start + head[start..].find("?>")?];
    attribute_value(decl, "encoding")
}

/// `<meta charset=…>` or `<meta http-equiv="content-type" content="…charset=…">`.
fn meta_declared(head: &str) -> Option<String> {
    let mut rest = head;
    while let Some(pos) = rest.find("<meta") {
        let tag_end = rest[pos..].find('>').map_or(rest.len(), |e| pos + e);
        let tag = &rest[pos..tag_end];
        if let Some(v) = attribute_value(tag, "charset") {
            return Some(v);
        }
        if tag.contains("http-equiv") {
            if let Some(content) = attribute_value(tag, "content") {
                if let Some(i) = content.find("charset=") {
                    let v = content[i + 8..].trim_matches(|c| c == '"' || c == '\'');
                    let v: String = v.chars().take_while(|c| !matches!(c, ';' | ' ')).collect();
                    return Some(v);
                }
            }
        }
        rest = &rest[tag_end..];
    }
    None
}

/// Value of `name=…` inside a tag or declaration (quoted or bare).
fn attribute_value(tag: &str, name: &str) -> Option<String> {
    let mut from = 0;
    while let Some(i) = tag[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let before_ok = at == 0 || !tag.as_bytes()[at - 1].is_ascii_alphanumeric();
        let after = tag[from..].trim_start();
        if !before_ok || !after.starts_with('=') {
            continue;
        }
        let value = after[1..].trim_start();
        let (quote, body) = match value.chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), &value[1..]),
            _ => (None, value),
        };
        let end = body
            .find(|c: char| {
                quote.map_or(
                    matches!(c, '>' | '/' | '"' | '\'' | ';') || c.is_whitespace(),
                    |q| c == q,
                )
            })
            .unwrap_or(body.len());
        let v = body[..end].trim();
        return (!v.is_empty()).then(|| v.to_string());
    }
    None
}

/// UTF-16 without a BOM, recognised by the NUL byte next to the first `<`.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    match bytes {
        [b'<', 0, b, 0, ..] if *b != 0 => Some(UTF_16LE),
        [0, b'<', 0, b, ..] if *b != 0 => Some(UTF_16BE),
        _ => None,
    }
}

/// No declaration anywhere: valid UTF-8 is UTF-8, everything else is guessed.
fn detect(bytes: &[u8]) -> &'static Encoding {
    let sample = &bytes[..bytes.len().min(DETECTION_WINDOW)];
    let valid_utf8 = match std::str::from_utf8(sample) {
        Ok(_) => true,
        // A multi-byte sequence cut by the window is still UTF-8.
        Err(e) => e.error_len().is_none(),
    };
    if valid_utf8 {
        return UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(sample, sample.len() == bytes.len());
    detector.guess(None, true)
}

/// Makes decoded XML safe for an XML parser that reads UTF-8: drops a leading
/// BOM and rewrites the XML declaration without its `encoding`, since the text
/// is UTF-8 now whatever the original bytes were.
#[must_use]
pub fn for_xml_parser(text: &str) -> String {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if let Some(rest) = text.strip_prefix("<?xml") {
        if let Some(end) = rest.find("?>") {
            return format!("<?xml version=\"1.0\"?>{}", &rest[end + 2..]);
        }
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(bytes: &[u8], ct: Option<&str>) -> &'static str {
        decode(bytes, ct).1.name()
    }

    #[test]
    fn header_wins_over_meta() {
        let page = b"<meta charset=\"windows-1256\"><p>x</p>";
        assert_eq!(enc(page, Some("text/html; charset=UTF-8")), "UTF-8");
        assert_eq!(enc(page, Some("text/html")), "windows-1256");
    }

    #[test]
    fn declarations() {
        assert_eq!(
            enc(b"<?xml version='1.0' encoding='ISO-8859-6'?><rss/>", None),
            "ISO-8859-6"
        );
        assert_eq!(
            enc(
                b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1256\">",
                None
            ),
            "windows-1256"
        );
        assert_eq!(enc(b"<meta charset=utf-16><p>a</p>", None), "UTF-8");
        assert_eq!(enc(b"<meta charset=latin1>", None), "windows-1252");
    }

    #[test]
    fn boms_and_utf16_sniffing() {
        assert_eq!(
            enc(b"\xff\xfe<\0a\0", Some("text/html; charset=utf-8")),
            "UTF-16LE"
        );
        assert_eq!(enc(b"<\0r\0s\0s\0", None), "UTF-16LE");
        assert_eq!(enc(b"\0<\0r\0s\0s", None), "UTF-16BE");
    }

    #[test]
    fn undeclared_utf8_and_detection() {
        assert_eq!(enc("<p>النيجر</p>".as_bytes(), None), "UTF-8");
        assert_eq!(enc(b"", None), "UTF-8");
    }

    #[test]
    fn xml_declaration_rewritten() {
        let out = for_xml_parser("\u{feff}<?xml version=\"1.0\" encoding=\"windows-1256\"?><rss/>");
        assert_eq!(out, "<?xml version=\"1.0\"?><rss/>");
    }
}
