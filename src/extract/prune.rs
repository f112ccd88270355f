//! Drops the text of `<script>` and `<style>` elements, and of comments,
//! before a page is parsed.
//!
//! On the readability corpus 31% of the bytes are script text, 16% style text
//! and 0.7% comments. Nothing in `extract` reads them (JSON-LD scripts are kept
//! for `meta`), and the readability port deletes all three before scoring,
//! but html5ever still tokenizes and stores every byte. [`drop_unread_text`]
//! cuts that text out and keeps the tags and the (now empty) comments, so the
//! parsed tree is the same except that those elements and comments are empty.
//!
//! That holds only if the scan agrees with the HTML tokenizer
//! (<https://html.spec.whatwg.org/#tokenization>) about where such an element's
//! text starts and ends, so it follows it that far: comments and other markup
//! declarations, quoted attribute values, the raw text of `title`,
//! `textarea`, `iframe` and friends, and escaped script text (`<!-- <script>
//! … </script> -->`). Where the parser might not switch to raw text — inside
//! `<svg>`/`<math>` (foreign content) or `<select>`, and after `<frameset>` or
//! `<plaintext>` — it leaves the rest alone: keeping text is always safe.

use std::borrow::Cow;

use memchr::{memchr, memmem};

/// `html` without the contents of its `<script>` (except JSON-LD) and `<style>`
/// elements and of its comments; borrowed when there is nothing to drop.
#[must_use]
pub fn drop_unread_text(html: &str) -> Cow<'_, str> {
    let b = html.as_bytes();
    let mut dropped: Vec<(usize, usize)> = Vec::new();
    let (mut foreign, mut select) = (0usize, 0usize);
    let mut i = 0;
    while let Some(off) = memchr(b'<', &b[i..]) {
        let lt = i + off;
        let Some(&next) = b.get(lt + 1) else { break };
        if next == b'!' || next == b'?' {
            match skip_declaration(b, lt, foreign > 0) {
                Some(end) => {
                    if let Some(text) = comment_text(b, lt, end) {
                        dropped.push(text);
                    }
                    i = end;
                }
                None => break,
            }
            continue;
        }
        if next == b'/' {
            if !b.get(lt + 2).is_some_and(u8::is_ascii_alphabetic) {
                // `</>` is dropped by the tokenizer; `</ x>` and `</3>` are bogus comments.
                match memchr(b'>', &b[lt + 1..]) {
                    Some(gt) => i = lt + 1 + gt + 1,
                    None => break,
                }
                continue;
            }
            let Some(tag) = scan_tag(b, lt + 2) else {
                break;
            };
            match tag.name {
                Name::Foreign => foreign = foreign.saturating_sub(1),
                Name::Select => select = select.saturating_sub(1),
                _ => {}
            }
            i = tag.end;
            continue;
        }
        if !next.is_ascii_alphabetic() {
            i = lt + 1;
            continue;
        }
        let Some(tag) = scan_tag(b, lt + 1) else {
            break;
        };
        i = tag.end;
        match tag.name {
            // Script text starts wherever an HTML <script> does; <style> is
            // ignored inside <select> by older parsers, so it is left there.
            Name::Script | Name::Style
                if foreign == 0 && (tag.name == Name::Script || select == 0) =>
            {
                let end = if tag.name == Name::Script {
                    script_text_end(b, tag.end)
                } else {
                    raw_text_end(b, tag.end, b"style")
                };
                if !tag.json_ld && end > tag.end {
                    dropped.push((tag.end, end));
                }
                i = end;
            }
            Name::RawText(name) if foreign == 0 => i = raw_text_end(b, tag.end, name),
            Name::Stop => break,
            Name::Foreign if !tag.self_closing => foreign += 1,
            Name::Select => select += 1,
            _ => {}
        }
    }
    if dropped.is_empty() {
        return Cow::Borrowed(html);
    }
    let cut: usize = dropped.iter().map(|(s, e)| e - s).sum();
    let mut out = String::with_capacity(html.len() - cut);
    let mut from = 0;
    for (start, end) in dropped {
        out.push_str(&html[from..start]);
        from = end;
    }
    out.push_str(&html[from..]);
    Cow::Owned(out)
}

/// The tag names the scan acts on.
#[derive(Clone, Copy, PartialEq)]
enum Name {
    Script,
    Style,
    /// Another element whose text is raw text or RCDATA (`title`, `iframe`, …).
    RawText(&'static [u8]),
    /// `plaintext`, `frameset`: the scan stops.
    Stop,
    /// `svg`, `math`.
    Foreign,
    Select,
    Other,
}

fn classify(name: &[u8]) -> Name {
    const RAW_TEXT: &[&[u8]] = &[
        b"title",
        b"textarea",
        b"xmp",
        b"iframe",
        b"noembed",
        b"noframes",
    ];
    let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
    if is(b"script") {
        Name::Script
    } else if is(b"style") {
        Name::Style
    } else if let Some(raw) = RAW_TEXT.iter().find(|n| is(n)) {
        Name::RawText(raw)
    } else if is(b"plaintext") || is(b"frameset") {
        Name::Stop
    } else if is(b"svg") || is(b"math") {
        Name::Foreign
    } else if is(b"select") {
        Name::Select
    } else {
        Name::Other
    }
}

/// A start or end tag as the tokenizer reads it.
struct Tag {
    name: Name,
    /// Index just past its `>`.
    end: usize,
    self_closing: bool,
    /// A `type` attribute says `application/ld+json`.
    json_ld: bool,
}

fn is_space(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// Reads the tag whose name starts at `at`; `None` when the document ends inside it.
fn scan_tag(b: &[u8], at: usize) -> Option<Tag> {
    let mut j = at;
    while j < b.len() && !is_space(b[j]) && b[j] != b'/' && b[j] != b'>' {
        j += 1;
    }
    let name = classify(&b[at..j]);
    let mut json_ld = false;
    loop {
        while j < b.len() && is_space(b[j]) {
            j += 1;
        }
        match *b.get(j)? {
            b'>' => {
                return Some(Tag {
                    name,
                    end: j + 1,
                    self_closing: false,
                    json_ld,
                })
            }
            b'/' => {
                j += 1;
                if b.get(j) == Some(&b'>') {
                    return Some(Tag {
                        name,
                        end: j + 1,
                        self_closing: true,
                        json_ld,
                    });
                }
            }
            _ => {
                // An attribute name: its first character may be anything (even `=`).
                let start = j;
                j += 1;
                while j < b.len() && !is_space(b[j]) && !matches!(b[j], b'/' | b'>' | b'=') {
                    j += 1;
                }
                let attr = &b[start..j];
                while j < b.len() && is_space(b[j]) {
                    j += 1;
                }
                if b.get(j) != Some(&b'=') {
                    continue;
                }
                j += 1;
                while j < b.len() && is_space(b[j]) {
                    j += 1;
                }
                let value = match *b.get(j)? {
                    q @ (b'"' | b'\'') => {
                        let len = memchr(q, &b[j + 1..])?;
                        let value = &b[j + 1..j + 1 + len];
                        j += len + 2;
                        value
                    }
                    b'>' => &b[j..j],
                    _ => {
                        let start = j;
                        while j < b.len() && !is_space(b[j]) && b[j] != b'>' {
                            j += 1;
                        }
                        &b[start..j]
                    }
                };
                json_ld |= attr.eq_ignore_ascii_case(b"type")
                    && value
                        .trim_ascii()
                        .eq_ignore_ascii_case(b"application/ld+json");
            }
        }
    }
}

/// Skips `<!…>` or `<?…>` at `lt`: a comment, a doctype, a CDATA section in
/// foreign content, or a bogus comment. `None` when it runs to the end.
fn skip_declaration(b: &[u8], lt: usize, foreign: bool) -> Option<usize> {
    let rest = &b[lt..];
    if rest.starts_with(b"<!--") {
        let body = &b[lt + 4..];
        // `<!-->` and `<!--->` are complete (empty) comments.
        if body.starts_with(b">") {
            return Some(lt + 5);
        }
        if body.starts_with(b"->") {
            return Some(lt + 6);
        }
        // The first `-->` or `--!>` closes it (one pass: a search per form
        // would rescan the rest of the page for the rare one).
        let mut k = 0;
        loop {
            let at = k + memmem::find(&body[k..], b"--")?;
            let tail = &body[at + 2..];
            if tail.starts_with(b">") {
                return Some(lt + 4 + at + 3);
            }
            if tail.starts_with(b"!>") {
                return Some(lt + 4 + at + 4);
            }
            k = at + 1;
        }
    }
    if foreign && rest.starts_with(b"<![CDATA[") {
        return memmem::find(&rest[9..], b"]]>").map(|p| lt + 9 + p + 3);
    }
    memchr(b'>', &rest[1..]).map(|gt| lt + 1 + gt + 1)
}

/// The text of the comment `<!--text-->` (or `<!--text--!>`) that spans
/// `lt..end`, when there is any: it is cut and the empty comment kept, so the
/// tree keeps its comment node and no two text nodes merge.
fn comment_text(b: &[u8], lt: usize, end: usize) -> Option<(usize, usize)> {
    if !b[lt..].starts_with(b"<!--") {
        return None;
    }
    let close = if b[..end].ends_with(b"--!>") { 4 } else { 3 };
    let (start, stop) = (lt + 4, end - close);
    (stop > start).then_some((start, stop))
}

/// Where the raw text (or RCDATA) of element `name` that starts at `from`
/// ends: at its `</name` end tag, or at the end of the document.
fn raw_text_end(b: &[u8], from: usize, name: &[u8]) -> usize {
    let mut j = from;
    while let Some(off) = memmem::find(&b[j..], b"</") {
        let at = j + off;
        if ends_element(b, at, name) {
            return at;
        }
        j = at + 2;
    }
    b.len()
}

/// `</name` at `at`, followed by a character that ends a tag name.
fn ends_element(b: &[u8], at: usize, name: &[u8]) -> bool {
    let after = at + 2 + name.len();
    b.get(at..at + 2) == Some(b"</")
        && b.get(at + 2..after)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
        && b.get(after)
            .is_some_and(|&c| is_space(c) || c == b'/' || c == b'>')
}

/// `<script` at `at` as the tokenizer's double-escape start sees it.
fn opens_script(b: &[u8], at: usize) -> bool {
    b.get(at + 1..at + 7)
        .is_some_and(|n| n.eq_ignore_ascii_case(b"script"))
        && b.get(at + 7)
            .is_some_and(|&c| is_space(c) || c == b'/' || c == b'>')
}

/// Where script text starting at `from` ends, following the tokenizer's
/// script data states: `<!--` escapes, and inside an escape `<script` opens a
/// double escape in which `</script>` does not end the element.
fn script_text_end(b: &[u8], from: usize) -> usize {
    #[derive(PartialEq)]
    enum State {
        Data,
        Escaped,
        DoubleEscaped,
    }
    let mut state = State::Data;
    let mut j = from;
    while j < b.len() {
        let Some(off) = memchr::memchr2(b'<', b'-', &b[j..]) else {
            break;
        };
        j += off;
        if b[j] == b'-' {
            if state != State::Data && b[j..].starts_with(b"-->") {
                state = State::Data;
                j += 3;
            } else {
                j += 1;
            }
            continue;
        }
        match state {
            State::Data if b[j..].starts_with(b"<!--") => {
                state = State::Escaped;
                // The dashes of `<!--` can also close it: `<!-->`.
                j += 2;
            }
            State::Data | State::Escaped if ends_element(b, j, b"script") => return j,
            State::Escaped if opens_script(b, j) => {
                state = State::DoubleEscaped;
                j += 7;
            }
            State::DoubleEscaped if ends_element(b, j, b"script") => {
                state = State::Escaped;
                j += 8;
            }
            _ => j += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dom_query::{Document, NodeData, NodeId, NodeRef, Selection};

    /// The document as parsed, with script (but JSON-LD) and style elements
    /// and comments emptied.
    fn parsed_without_script_text(html: &str) -> String {
        let doc = Document::from(html);
        let comments: Vec<NodeId> = doc
            .root()
            .descendants_it()
            .filter(NodeRef::is_comment)
            .map(|n| n.id)
            .collect();
        for id in comments {
            doc.tree.update_node(&id, |n| {
                if let NodeData::Comment { contents } = &mut n.data {
                    contents.clear();
                }
            });
        }
        for node in Selection::from(doc.root()).select("script, style").nodes() {
            let ld = node
                .attr("type")
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"));
            let html_ns = node
                .qual_name_ref()
                .is_some_and(|q| &*q.ns == "http://www.w3.org/1999/xhtml");
            if !ld && html_ns {
                node.remove_children();
            }
        }
        doc.html().to_string()
    }

    fn same_tree(html: &str) {
        let pruned = drop_unread_text(html);
        assert_eq!(
            parsed_without_script_text(html),
            parsed_without_script_text(&pruned),
            "input: {html}\npruned: {pruned}"
        );
    }

    #[test]
    fn drops_script_and_style_text_only() {
        let html = r#"<html><head><style>p{color:red}</style>
            <script type="application/ld+json">{"@type":"NewsArticle"}</script>
            <script src=a.js></script><script>var a = "<p>" < 3;</script></head>
            <body><p>keep <b>this</b></p><SCRIPT type=text/javascript>x()</SCRIPT ></body></html>"#;
        let pruned = drop_unread_text(html);
        assert!(
            !pruned.contains("color:red") && !pruned.contains("x()") && !pruned.contains("< 3")
        );
        assert!(pruned.contains(r#"{"@type":"NewsArticle"}"#));
        assert!(pruned.contains("<p>keep <b>this</b></p>"));
        assert_eq!(
            drop_unread_text("<p>a<!-- note -->b<!--x--!></p>"),
            "<p>a<!---->b<!----!></p>"
        );
        same_tree(html);
        assert!(matches!(
            drop_unread_text("<p>no scripts</p>"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn follows_the_tokenizer_where_it_matters() {
        for html in [
            // Tags inside comments, attribute values and raw text are not tags.
            "<!-- <script> --><p>a</p><script>b</script>",
            "<!--> <script>x</script>",
            "<!---> <script>x</script>",
            "<!-- a --!> <script>x</script><p>c</p>",
            "<div title='<script>'>text</div><p>after</p><script>z</script>",
            "<div data-x=\"a>b\" title=<script>>t</div><script>y</script>",
            "<title><script>not a script</script></title><script>y</script>",
            "<textarea></textarea ><script>q</script><p>r</p></textarea>",
            "<iframe><style></iframe><p>x</p><style>s</style>",
            // Escaped and double-escaped script text.
            "<script><!-- document.write('<script>a</script>'); --></script><p>after</p>",
            "<script><!--<script></script>--></script><p>p</p>",
            "<script><!-- </script><p>ends at the first end tag</p>",
            "<script>a</scriptx>b</script><p>c</p>",
            "<script>if (a<!--b) {}</script><p>d</p>",
            // Foreign content, select, frameset, plaintext and unterminated input.
            "<svg><style>a<b>c</b></style><script>x<y>z</y></script></svg><script>w</script>",
            "<math><mi><script>1</script></mi></math><style>s</style>",
            "<svg/><script>gone</script>",
            "<select><style><option>x</style></select><style>y</style>",
            "<frameset><script>a<b>c</b></script></frameset>",
            "<plaintext><script>a</script>",
            "<script>never closed <p>",
            "<p title='unterminated><script>x</script>",
            "<!doctype html><?php echo 1 ?><script>x</script><p>y</p>",
            "</ x><script>x</script></3><p>y</p>",
            // Comments: emptied, never merged away, and only where they are comments.
            "<p>a<!-- x -->b</p><!--y--!><p>c</p><!--z--!-->",
            "<!-- a -- b --><!-- <!-- --><p>d</p><!---x--->",
            "<!--[if IE]><p>old</p><![endif]--><p>e</p>",
            "<title><!-- t --></title><textarea><!-- u --></textarea><p>f</p>",
            "<svg><!-- s --><![CDATA[<!-- c -->]]></svg><p>g</p>",
            "<div title='<!--'>h</div><!-- i -->",
            "<!-- never closed <p>j</p>",
        ] {
            same_tree(html);
        }
    }

    /// Every HTML fixture in the repository, and the readability corpus when it
    /// is there (`../shared`, not in CI): the parse is unchanged.
    #[test]
    fn parse_unchanged_on_real_pages() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut pages = Vec::new();
        for dir in ["tests/fixtures/site", "tests/fixtures/listing"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("fixture dir") {
                let path = entry.expect("dir entry").path();
                if path.extension().is_some_and(|e| e == "html") {
                    pages.push(path);
                }
            }
        }
        if let Ok(corpus) = std::fs::read_dir(root.join("../shared/corpus/readability")) {
            pages.extend(corpus.filter_map(|e| Some(e.ok()?.path().join("source.html"))));
        }
        for path in pages.iter().filter(|p| p.is_file()) {
            let html =
                String::from_utf8_lossy(&std::fs::read(path).expect("readable page")).into_owned();
            let pruned = drop_unread_text(&html);
            assert_eq!(
                parsed_without_script_text(&html),
                parsed_without_script_text(&pruned),
                "{}",
                path.display()
            );
        }
    }
}
