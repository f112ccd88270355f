//! Markup → plain text, the one way every part of `extract` does it.
//!
//! Block elements (paragraphs, headings, list items, table cells…) become
//! paragraphs separated by one blank line; `<br>` is a line break inside a
//! paragraph; runs of whitespace collapse to one space; scripts, styles and
//! other non-text elements are dropped; soft hyphens (U+00AD) and zero-width
//! spaces are removed, so a word broken for typesetting reads as one word to
//! snippets and watch terms. The walk is iterative so a document nested
//! 100,000 levels deep cannot overflow the stack.

use dom_query::{Document, NodeData, NodeId, NodeRef};

/// Elements whose text is never shown to a reader.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "head", "title", "svg", "math", "iframe", "object",
    "button", "select", "textarea", "input", "canvas", "video", "audio",
];

/// Elements that start and end a paragraph.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "html",
    "legend",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Characters that only guide typesetting: soft hyphen, zero-width space, BOM.
const INVISIBLE: &[char] = &['\u{AD}', '\u{200B}', '\u{FEFF}'];

/// Accumulates text, collapsing whitespace and paragraph breaks as it goes.
#[derive(Default)]
struct TextBuilder {
    out: String,
    /// 0 = inside a line, 1 = after a line break, 2 = after a paragraph break.
    pending_break: u8,
    pending_space: bool,
}

impl TextBuilder {
    fn text(&mut self, s: &str) {
        for (i, word) in s.split(char::is_whitespace).enumerate() {
            // Every piece after the first was preceded by whitespace.
            if i > 0 {
                self.pending_space = true;
            }
            if word.is_empty() {
                continue;
            }
            if !self.out.is_empty() {
                match self.pending_break {
                    2 => self.out.push_str("\n\n"),
                    1 => self.out.push('\n'),
                    _ if self.pending_space => self.out.push(' '),
                    _ => {}
                }
            }
            self.pending_break = 0;
            self.pending_space = false;
            if word.contains(INVISIBLE) {
                self.out
                    .extend(word.chars().filter(|c| !INVISIBLE.contains(c)));
            } else {
                self.out.push_str(word);
            }
        }
    }

    fn line_break(&mut self) {
        self.pending_break = self.pending_break.max(1);
    }

    fn paragraph_break(&mut self) {
        self.pending_break = 2;
    }
}

/// Plain text of a node and its descendants.
#[must_use]
pub fn node_text(node: NodeRef<'_>) -> String {
    node_text_without(node, &|_| false)
}

/// Plain text of a node and its descendants, leaving out every element (and
/// its subtree) for which `skip` is true.
#[must_use]
pub fn node_text_without(node: NodeRef<'_>, skip: &dyn Fn(&NodeRef<'_>) -> bool) -> String {
    let mut b = TextBuilder::default();
    append_node(node, &mut b, skip);
    b.out
}

/// Plain text of an HTML fragment (feed summaries).
#[must_use]
pub fn html_fragment_text(html: &str) -> String {
    if !html.contains('<') && !html.contains('&') {
        let mut b = TextBuilder::default();
        b.text(html);
        return b.out;
    }
    let doc = Document::fragment(html);
    node_text(doc.root())
}

/// Collapses whitespace in a short inline string (titles, anchor texts).
#[must_use]
pub fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the walk does with one node.
enum Step {
    Skip,
    Descend,
    Block,
}

fn append_node(root: NodeRef<'_>, b: &mut TextBuilder, skip: &dyn Fn(&NodeRef<'_>) -> bool) {
    let tree = root.tree;
    // (node, leaving): leaving = true marks the end of a block element.
    let mut stack: Vec<(NodeId, bool)> = vec![(root.id, false)];
    while let Some((id, leaving)) = stack.pop() {
        if leaving {
            b.paragraph_break();
            continue;
        }
        let step = tree.query_node_or(&id, Step::Skip, |n| match &n.data {
            NodeData::Text { contents } => {
                b.text(contents);
                Step::Skip
            }
            NodeData::Element(e) => {
                let name: &str = &e.name.local;
                if SKIPPED.contains(&name) {
                    Step::Skip
                } else if name == "br" {
                    b.line_break();
                    Step::Skip
                } else if BLOCKS.contains(&name) {
                    Step::Block
                } else {
                    Step::Descend
                }
            }
            NodeData::Document | NodeData::Fragment => Step::Descend,
            _ => Step::Skip,
        });
        if !matches!(step, Step::Skip) && id != root.id && skip(&NodeRef::new(id, tree)) {
            continue;
        }
        match step {
            Step::Skip => continue,
            Step::Block => {
                b.paragraph_break();
                stack.push((id, true));
            }
            Step::Descend => {}
        }
        // Reversed, so the first child is popped first.
        stack.extend(tree.child_ids_of_it(&id, true).map(|c| (c, false)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_inline() {
        let t = html_fragment_text(
            "<h1>Title</h1><p>One <b>bold</b>\n word.</p><ul><li>a</li><li>b</li></ul><p>x<br>y</p>\
             <script>var z;</script>",
        );
        assert_eq!(t, "Title\n\nOne bold word.\n\na\n\nb\n\nx\ny");
    }

    #[test]
    fn soft_hyphens_and_zero_width_spaces_are_removed() {
        assert_eq!(
            html_fragment_text("<p>St. Magda\u{AD}lener Wein\u{200B}kenner</p>"),
            "St. Magdalener Weinkenner"
        );
        assert_eq!(html_fragment_text("Magda&shy;lener"), "Magdalener");
    }

    #[test]
    fn entities_and_plain() {
        assert_eq!(html_fragment_text("A &amp; B"), "A & B");
        assert_eq!(html_fragment_text("  plain   text "), "plain text");
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let html = format!(
            "{}deep{}",
            "<span>".repeat(50_000),
            "</span>".repeat(50_000)
        );
        assert_eq!(html_fragment_text(&html), "deep");
    }
}
