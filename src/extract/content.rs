//! Our own article body: the page's content container, less its furniture.
//!
//! Read-only over the parsed page (it runs before the readability port rewrites
//! the tree), so `mod.rs` can weigh its result against the port's:
//!
//! 1. **The container** ([`content_root`]) is the element the page marks as the
//!    article body (`itemprop="articleBody"`, or a class/id such as `article-body`,
//!    `entry-content`, `post-text`, `story-body`: an article word followed by a body
//!    word), else an `<article>`, else `<main>` / `role="main"` / a `content` or
//!    `main` class or id, else `<body>`; of several of a kind, the one with the most
//!    text, and a kind is passed over when its best holds less than
//!    [`MIN_ROOT_SHARE`] of the text the best container of any kind holds, or less
//!    than [`MIN_PAGE_SHARE`] of the page's text. Nothing inside furniture
//!    (`furniture`) is a candidate, unless that furniture holds most of the page.
//! 2. **Inside it**, furniture is left out unless it holds more than
//!    [`FURNITURE_MAX_SHARE`] of the container's text (then the class named the
//!    article, not a box in it); so is every block whose text is mostly link text
//!    (a list of links, a "read more" line), see [`is_link_block`].
//! 3. Trailing headings (a "Related" title whose list was dropped) are cut.

use std::collections::HashMap;

use dom_query::{Document, NodeData, NodeId, NodeRef};

use super::{furniture, text};

/// A furniture-named element inside the container is kept when it holds more than
/// this share of the container's text.
pub const FURNITURE_MAX_SHARE: f64 = 0.5;

/// A container kind is passed over when its best candidate holds less than this share
/// of the text of the best candidate of any kind.
pub const MIN_ROOT_SHARE: f64 = 0.3;

/// A container kind is passed over when its best candidate holds less than this share
/// of the text of the whole page outside links and furniture.
pub const MIN_PAGE_SHARE: f64 = 0.2;

/// A block whose link text is at least this share of its text is a link block.
const LINK_BLOCK_SHARE: f64 = 0.7;

/// The body our own rules find.
#[derive(Debug, Clone)]
pub struct Body {
    /// Plain text, paragraphs separated by blank lines.
    pub text: String,
    /// The text holds at least one sentence: a paragraph of [`SENTENCE_WORDS`] words or
    /// more that is not a link (or, in scripts written without spaces, as many characters).
    pub has_sentence: bool,
}

/// Words (or, for scripts without spaces, 3 × as many characters) that make a paragraph
/// a sentence rather than a label.
pub const SENTENCE_WORDS: usize = 6;

/// Non-space characters and those inside links, per element of the container.
#[derive(Clone, Copy, Default)]
struct Size {
    chars: usize,
    link_chars: usize,
}

/// Container kinds, best first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Container {
    /// Marked as the article body (`itemprop`, class or id).
    Marked,
    /// An `<article>`.
    Article,
    /// `<main>`, `role="main"`, a `content`/`main` class or id.
    Main,
    /// Nothing better: `<body>`.
    Body,
}

use Container as Kind;

/// The article body of `doc` by our own rules (module docs); `None` when the page
/// has no text outside its furniture.
#[must_use]
pub fn extract(doc: &Document) -> Option<Body> {
    let (root, _) = content_root(doc)?;
    let out = text_less_furniture(root, Prune::Full);
    if out.is_empty() {
        return None;
    }
    let has_sentence = out.split("\n\n").any(is_sentence);
    Some(Body {
        text: out,
        has_sentence,
    })
}

/// How much of a body [`text_less_furniture`] leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prune {
    /// Furniture, captions and link blocks: our own body.
    Full,
    /// Furniture but `<figcaption>`, and of the link blocks only teaser paragraphs: the
    /// body the readability port chose, which has already dropped the link lists it
    /// judged boilerplate and keeps figure captions and short link lines on purpose
    /// (`page`).
    Light,
}

/// The text of `root` less its furniture and link blocks (module docs, steps 2 and 3).
#[must_use]
pub fn text_less_furniture(root: NodeRef<'_>, prune: Prune) -> String {
    let sizes = measure(root);
    let total = sizes.get(&root.id).copied().unwrap_or_default();
    if total.chars == 0 {
        return String::new();
    }
    let skip = |n: &NodeRef<'_>| {
        let size = sizes.get(&n.id).copied().unwrap_or_default();
        let figcaptions = match prune {
            Prune::Full => furniture::Figcaptions::Drop,
            Prune::Light => furniture::Figcaptions::Keep,
        };
        if furniture::is_furniture_but(n, figcaptions) {
            return !holds_most(Some(size), total);
        }
        match prune {
            Prune::Full => is_link_block(n, size),
            Prune::Light => is_teaser_paragraph(n, size),
        }
    };
    let mut out = text::node_text_without(root, &skip);
    drop_trailing_headings(root, &skip, &mut out);
    out
}

/// A paragraph long enough to be prose (see [`SENTENCE_WORDS`]).
#[must_use]
pub fn is_sentence(paragraph: &str) -> bool {
    let words = paragraph.split_whitespace().count();
    let chars = paragraph.chars().filter(|c| !c.is_whitespace()).count();
    words >= SENTENCE_WORDS || (words < 3 && chars >= 3 * SENTENCE_WORDS)
}

/// Link text that makes a linked paragraph a teaser (a headline, not a word or two).
pub const TEASER_LINK_CHARS: usize = 40;

/// A `<p>` that is mostly one headline-length link (see [`TEASER_LINK_CHARS`]): a
/// "read more" teaser inside the body the readability port chose.
fn is_teaser_paragraph(n: &NodeRef<'_>, size: Size) -> bool {
    size.link_chars >= TEASER_LINK_CHARS
        && n.node_name().is_some_and(|t| &*t == "p")
        && is_link_block(n, size)
}

/// A block (paragraph, list, list item, table, section…) that is mostly links.
fn is_link_block(n: &NodeRef<'_>, size: Size) -> bool {
    if size.link_chars == 0 {
        return false;
    }
    let Some(name) = n.node_name() else {
        return false;
    };
    if !matches!(
        &*name,
        "p" | "li"
            | "ul"
            | "ol"
            | "dl"
            | "div"
            | "section"
            | "table"
            | "tr"
            | "td"
            | "span"
            | "header"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
    ) {
        return false;
    }
    #[allow(clippy::cast_precision_loss, reason = "ratio of text lengths")]
    let share = size.link_chars as f64 / size.chars.max(1) as f64;
    share >= LINK_BLOCK_SHARE
}

/// Headings at the end of the text title nothing that is left.
fn drop_trailing_headings(
    root: NodeRef<'_>,
    skip: &dyn Fn(&NodeRef<'_>) -> bool,
    out: &mut String,
) {
    let headings: Vec<String> = root
        .descendants_it()
        .filter(|n| {
            n.node_name()
                .is_some_and(|t| matches!(&*t, "h1" | "h2" | "h3" | "h4" | "h5" | "h6"))
        })
        .map(|h| text::node_text_without(h, skip))
        .filter(|t| !t.is_empty())
        .collect();
    loop {
        let (rest, last) = match out.rsplit_once("\n\n") {
            Some((r, l)) => (r.len(), l),
            None => (0, out.as_str()),
        };
        if headings.iter().any(|h| h == last) && rest > 0 {
            out.truncate(rest);
        } else {
            return;
        }
    }
}

/// The element holding the article (module docs, step 1).
fn content_root(doc: &Document) -> Option<(NodeRef<'_>, Container)> {
    let body = doc.tree.body()?;
    let sizes = measure(body);
    let page = sizes.get(&body.id).copied().unwrap_or_default();
    let furniture = |n: &NodeRef<'_>| {
        furniture::is_furniture(n) && !holds_most(sizes.get(&n.id).copied(), page)
    };
    let mut found: Vec<(Kind, NodeRef<'_>)> = Vec::new();
    let mut stack = vec![body.id];
    let tree = &doc.tree;
    while let Some(id) = stack.pop() {
        let node = NodeRef::new(id, tree);
        if !node.is_element() || (id != body.id && furniture(&node)) {
            continue;
        }
        if let Some(kind) = container_kind(&node) {
            if found.len() < 64 {
                found.push((kind, node));
            }
        }
        stack.extend(tree.child_ids_of_it(&id, true));
    }
    let weigh = |n: NodeRef<'_>| visible_chars(n, &furniture);
    let page_weight = weigh(body);
    let sized: Vec<(Kind, usize, NodeRef<'_>)> =
        found.into_iter().map(|(k, n)| (k, weigh(n), n)).collect();
    let most = sized.iter().map(|(_, c, _)| *c).max().unwrap_or(0);
    for kind in [Kind::Marked, Kind::Article, Kind::Main] {
        let best = sized
            .iter()
            .filter(|(k, _, _)| *k == kind)
            .max_by_key(|(_, c, _)| *c);
        if let Some((_, chars, node)) = best {
            #[allow(clippy::cast_precision_loss, reason = "ratio of text lengths")]
            let (share, of_page) = (
                *chars as f64 / most.max(1) as f64,
                *chars as f64 / page_weight.max(1) as f64,
            );
            if *chars > 0 && share >= MIN_ROOT_SHARE && of_page >= MIN_PAGE_SHARE {
                return Some((*node, kind));
            }
        }
    }
    Some((body, Container::Body))
}

/// An element's text is more than [`FURNITURE_MAX_SHARE`] of `of`'s.
fn holds_most(size: Option<Size>, of: Size) -> bool {
    let chars = size.unwrap_or_default().chars;
    #[allow(clippy::cast_precision_loss, reason = "ratio of text lengths")]
    let share = chars as f64 / of.chars.max(1) as f64;
    share > FURNITURE_MAX_SHARE
}

/// Article words and body words whose pairing in a class or id marks the body.
const ARTICLE_WORDS: &[&str] = &[
    "article", "entry", "post", "story", "blog", "news", "single", "main", "page", "item", "td",
    "node",
];
const BODY_WORDS: &[&str] = &["body", "content", "text", "copy", "inner", "entry"];

fn container_kind(node: &NodeRef<'_>) -> Option<Kind> {
    let el = node.element_ref()?;
    let tag = &*el.name.local;
    if !matches!(tag, "div" | "article" | "main" | "section" | "td") {
        return None;
    }
    let mut main = tag == "main";
    for a in &el.attrs {
        let name = &*a.name.local;
        if name == "itemprop" && a.value.split_whitespace().any(|v| v == "articleBody") {
            return Some(Kind::Marked);
        }
        if name == "role" && a.value.trim().eq_ignore_ascii_case("main") {
            main = true;
        }
        if name == "class" || name == "id" {
            let words: Vec<String> = furniture::words(&a.value).collect();
            let marked = words.windows(2).any(|w| {
                ARTICLE_WORDS.contains(&w[0].as_str()) && BODY_WORDS.contains(&w[1].as_str())
            }) || words.iter().any(|w| {
                matches!(
                    w.as_str(),
                    "articlebody"
                        | "articletext"
                        | "postcontent"
                        | "entrycontent"
                        | "storybody"
                        | "bodytext"
                        | "fulltext"
                        | "articlecontent"
                        | "storytext"
                )
            });
            if marked {
                return Some(Kind::Marked);
            }
            main |= words.iter().any(|w| w == "content" || w == "main");
        }
    }
    if tag == "article" {
        Some(Kind::Article)
    } else {
        main.then_some(Kind::Main)
    }
}

/// Non-space characters of `node`'s text outside links and furniture (a quick measure
/// for choosing the container).
fn visible_chars(node: NodeRef<'_>, furniture: &dyn Fn(&NodeRef<'_>) -> bool) -> usize {
    let tree = node.tree;
    let mut count = 0;
    let mut stack = vec![node.id];
    while let Some(id) = stack.pop() {
        let n = NodeRef::new(id, tree);
        let descend = tree.query_node_or(&id, false, |d| match &d.data {
            NodeData::Text { contents } => {
                count += contents.chars().filter(|c| !c.is_whitespace()).count();
                false
            }
            NodeData::Element(e) => !matches!(
                &*e.name.local,
                "a" | "script" | "style" | "noscript" | "template"
            ),
            _ => false,
        });
        if descend && (id == node.id || !furniture(&n)) {
            stack.extend(tree.child_ids_of_it(&id, false));
        }
    }
    count
}

/// Text and link-text sizes of every element under `root`, in one post-order walk.
fn measure(root: NodeRef<'_>) -> HashMap<NodeId, Size> {
    let tree = root.tree;
    let mut sizes: HashMap<NodeId, Size> = HashMap::new();
    // (node, inside a link, children done)
    let mut stack: Vec<(NodeId, bool, bool)> = vec![(root.id, false, false)];
    while let Some((id, in_link, done)) = stack.pop() {
        if done {
            let mut total = Size::default();
            for c in tree.child_ids_of_it(&id, false) {
                if let Some(s) = sizes.get(&c) {
                    total.chars += s.chars;
                    total.link_chars += s.link_chars;
                }
            }
            sizes.insert(id, total);
            continue;
        }
        let step = tree.query_node_or(&id, None, |d| match &d.data {
            NodeData::Text { contents } => {
                let chars = contents.chars().filter(|c| !c.is_whitespace()).count();
                let link_chars = if in_link { chars } else { 0 };
                Some(Err(Size { chars, link_chars }))
            }
            NodeData::Element(e) => {
                let name = &*e.name.local;
                if matches!(name, "script" | "style" | "noscript" | "template") {
                    None
                } else {
                    Some(Ok(in_link || name == "a"))
                }
            }
            _ => None,
        });
        match step {
            Some(Err(size)) => {
                sizes.insert(id, size);
            }
            Some(Ok(link)) => {
                stack.push((id, in_link, true));
                stack.extend(tree.child_ids_of_it(&id, false).map(|c| (c, link, false)));
            }
            None => {}
        }
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(html: &str) -> Option<Body> {
        extract(&Document::from(html))
    }

    #[test]
    fn marked_container_less_furniture() {
        let b = body(
            "<body><nav><a href=/>Home</a></nav><div class='sidebar'><p>Most read today in the world of news.</p></div>\
             <div class='article-body'><p>Niger's junta ordered a night curfew in Niamey after protests.</p>\
             <figure><img src=x><figcaption>Photo: AFP</figcaption></figure>\
             <div class='share-tools'>Share this on Facebook</div>\
             <h2>Related</h2><ul><li><a href=/a>Another story about the Sahel</a></li></ul></div>\
             <footer>© 2026</footer></body>",
        )
        .expect("a body");
        assert_eq!(
            b.text,
            "Niger's junta ordered a night curfew in Niamey after protests."
        );
        assert!(b.has_sentence);
    }

    #[test]
    fn furniture_class_holding_the_article_is_kept() {
        let b = body(
            "<body><div class='widget-area related-wrap'><p>One paragraph of the article that is long.</p>\
             <p>Another paragraph of the same article, also long.</p></div></body>",
        )
        .expect("a body");
        assert!(b.text.contains("Another paragraph"), "{}", b.text);
    }

    #[test]
    fn navigation_only_is_nothing() {
        let b = body(
            "<body><article><ul><li><a href=/a>Home</a></li><li><a href=/b>World</a></li>\
             <li><a href=/c>Sport</a></li></ul></article></body>",
        );
        assert!(b.is_none(), "{b:?}");
    }

    #[test]
    fn sentences() {
        assert!(is_sentence(
            "أغاديز: وصول قافلة مساعدات إلى المدينة بعد إغلاق الطرق."
        ));
        assert!(is_sentence(
            "Niger's junta ordered a night curfew in Niamey."
        ));
        assert!(!is_sentence("Home World Sport"));
        assert!(is_sentence("子どもへの虐待をなくすための法律ができて"));
    }
}
