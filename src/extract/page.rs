//! Article pages → body text.
//!
//! Automatic extraction is `dom_smoothie`, a port of Mozilla Readability that
//! measured best of the Rust extractors on the readability corpus (see
//! BENCHMARKS.md, "Extraction (issue 4)"); it stays behind [`extract_body`] so it can be
//! replaced. A source's `content` selector overrides it ([`selected_body`]).
//! [`Readable::is_article`] is the port's body judged on its own: too little
//! text, or text that is mostly link anchors, is not an article by itself
//! (`mod.rs` then weighs what the page says about itself and our own body).

use dom_query::{Document, NodeData, NodeId, NodeRef, Selection};
use url::Url;

use super::{content, text, ExtractError, Selector};

/// Fewer characters of body text than this is not an article (a teaser, an
/// error page, a cookie wall). Short wire stories are still ~300 characters.
pub const MIN_ARTICLE_CHARS: usize = 200;

/// Share of body text inside links above which the "body" is a link list.
const MAX_LINK_DENSITY: f64 = 0.5;

/// Element nesting deeper than any real page; such documents are not handed
/// to the readability port, whose tree walks recurse.
pub const MAX_DEPTH: usize = 512;

/// Element count above which a page is not an article page but a dump.
const MAX_ELEMENTS: usize = 200_000;

/// The element `dom_smoothie` puts the extracted article in.
const ARTICLE_ROOT: &str = "#readability-page-1";

/// The text a source's `content` selector picks out of `doc`.
///
/// # Errors
/// [`ExtractError::NoArticle`] when the selector matches no text.
pub fn selected_body(doc: &Document, sel: &Selector) -> Result<String, ExtractError> {
    let parts: Vec<String> = Selection::from(doc.root())
        .select_matcher_iter(sel.matcher())
        .map(text::node_text)
        .filter(|t| !t.is_empty())
        .collect();
    let body = parts.join("\n\n");
    if body.is_empty() {
        Err(ExtractError::NoArticle)
    } else {
        Ok(body)
    }
}

/// The body the readability port chose, with what it takes to judge it.
#[derive(Debug, Clone)]
pub struct Readable {
    /// Plain text, paragraphs separated by blank lines.
    pub text: String,
    /// Non-space characters of `text`.
    pub chars: usize,
    /// Share of those characters inside links.
    pub link_density: f64,
}

impl Readable {
    /// Long enough, and not a list of links: an article on its own account.
    #[must_use]
    pub fn is_article(&self) -> bool {
        self.chars >= MIN_ARTICLE_CHARS && self.link_density <= MAX_LINK_DENSITY
    }
}

/// The article body of `doc` as the readability port sees it; `None` when it
/// finds none, or the page is too deep or too large to hand to it.
///
/// `doc` is consumed: the readability port rewrites it in place, so read
/// anything else (metadata, links, our own body) from it first. `base`
/// resolves relative links inside the readability port.
#[must_use]
pub fn readability_body(doc: Document, base: Option<&Url>) -> Option<Readable> {
    let (depth, elements) = tree_shape(doc.root());
    if depth > MAX_DEPTH || elements > MAX_ELEMENTS {
        tracing::debug!(depth, elements, "page too deep or too large for extraction");
        return None;
    }
    let url = base
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(Url::as_str);
    // No `max_elements_to_parse`: `tree_shape` has just counted the elements
    // against the same limit, and the port would walk the whole tree again.
    // Classes are kept so that furniture inside the chosen body can be told by them.
    let cfg = dom_smoothie::Config {
        keep_classes: true,
        ..dom_smoothie::Config::default()
    };
    let mut readability = dom_smoothie::Readability::with_document(doc, url, Some(cfg)).ok()?;
    readability.parse().ok()?;
    // `parse` leaves the cleaned article in the document; reading it there
    // spares serializing it to HTML and parsing that again.
    let root = readability.doc.select_single(ARTICLE_ROOT);
    let root = *root.nodes().first()?;
    // The port keeps share boxes, newsletter forms and "related" lists inside the body
    // it chose; our furniture rules leave them out (but its captions, see `Prune`).
    let text = content::text_less_furniture(root, content::Prune::Light);
    let chars = text.chars().filter(|c| !c.is_whitespace()).count();
    Some(Readable {
        link_density: link_density(root),
        text,
        chars,
    })
}

/// Maximum element depth and element count, without recursion.
fn tree_shape(root: NodeRef<'_>) -> (usize, usize) {
    let tree = root.tree;
    let mut stack: Vec<(NodeId, usize)> = vec![(root.id, 0)];
    let (mut max_depth, mut elements) = (0, 0);
    while let Some((id, depth)) = stack.pop() {
        max_depth = max_depth.max(depth);
        if depth > MAX_DEPTH {
            // Deep enough to refuse; no need to walk the rest.
            return (depth, elements);
        }
        for child in tree.child_ids_of_it(&id, false) {
            if tree.query_node_or(&child, false, dom_query::TreeNode::is_element) {
                elements += 1;
                stack.push((child, depth + 1));
            }
        }
    }
    (max_depth, elements)
}

/// Share of non-space characters that sit inside `<a>` elements.
fn link_density(root: NodeRef<'_>) -> f64 {
    let tree = root.tree;
    let (mut linked, mut total) = (0usize, 0usize);
    let mut stack = vec![(root.id, false)];
    while let Some((id, in_link)) = stack.pop() {
        let descend = tree.query_node_or(&id, None, |n| match &n.data {
            NodeData::Text { contents } => {
                let chars = contents.chars().filter(|c| !c.is_whitespace()).count();
                total += chars;
                if in_link {
                    linked += chars;
                }
                None
            }
            NodeData::Element(e) => Some(in_link || &*e.name.local == "a"),
            NodeData::Document | NodeData::Fragment => Some(false),
            _ => None,
        });
        if let Some(in_link) = descend {
            stack.extend(tree.child_ids_of_it(&id, false).map(|c| (c, in_link)));
        }
    }
    if total == 0 {
        return 1.0;
    }
    #[allow(clippy::cast_precision_loss, reason = "ratio of text lengths")]
    let density = linked as f64 / total as f64;
    density
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(html: &str) -> Result<String, ExtractError> {
        match readability_body(Document::from(html), None) {
            Some(r) if r.is_article() => Ok(r.text),
            _ => Err(ExtractError::NoArticle),
        }
    }

    #[test]
    fn content_selector_overrides() {
        let html = "<div class=a><p>one</p></div><div class=b><p>two</p></div>";
        let sel = Selector::parse("div.b").expect("valid selector");
        assert_eq!(
            selected_body(&Document::from(html), &sel).ok().as_deref(),
            Some("two")
        );
        let none = Selector::parse("div.c").expect("valid selector");
        assert!(matches!(
            selected_body(&Document::from(html), &none),
            Err(ExtractError::NoArticle)
        ));
    }

    #[test]
    fn link_lists_and_stubs_are_not_articles() {
        let links: String = (0..40)
            .map(|i| format!("<li><a href='/n/{i}'>A headline about the news number {i}</a></li>"))
            .collect();
        assert!(body(&format!("<html><body><ul>{links}</ul></body></html>")).is_err());
        assert!(body("<html><body><p>Page not found.</p></body></html>").is_err());
    }
}
