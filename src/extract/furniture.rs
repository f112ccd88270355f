//! Page furniture: the elements around an article that are never its text.
//!
//! One test, [`is_furniture`], used both by our own body extraction (`content`) and
//! on the body the readability port chose (`page`), so the two agree on what a
//! caption, a share box or a "related" list is. An element is furniture when
//!
//! - its tag is one that holds no article prose (`nav`, `footer`, `aside`, `form`,
//!   `figcaption`, `dialog`, `menu`, …);
//! - its ARIA role says so (`navigation`, `contentinfo`, `complementary`, `search`,
//!   `dialog`, `banner`, `menu`, …);
//! - it is hidden (`hidden`, `aria-hidden="true"`, `display:none`, `visibility:hidden`);
//! - one word of its `class` or `id` (split at `-`, `_`, spaces and lower-to-upper case
//!   changes) names furniture: share and social boxes, newsletter and subscription forms,
//!   cookie and consent banners, comments, related and recommended links, sidebars,
//!   breadcrumbs, menus and navigation, footers, captions and photo credits, bylines and
//!   author bios, tag lists, advertising and pagination; an `id` counts only when it has
//!   at most three words (longer ones are slugs made from headings).
//!
//! Callers keep the guard that makes a class test safe: a furniture-named element that
//! holds the article (most of its text) is not dropped (`content::FURNITURE_MAX_SHARE`).

use dom_query::NodeRef;

/// Tags whose content is never article prose.
const TAGS: &[&str] = &[
    "nav",
    "footer",
    "aside",
    "form",
    "figcaption",
    "dialog",
    "menu",
    "button",
    "select",
    "label",
    "fieldset",
];

/// ARIA roles of page furniture.
const ROLES: &[&str] = &[
    "navigation",
    "contentinfo",
    "complementary",
    "search",
    "dialog",
    "alertdialog",
    "banner",
    "menu",
    "menubar",
    "toolbar",
    "tablist",
];

/// Whole words of a class or id that name furniture.
const WORDS: &[&str] = &[
    "nav",
    "navbar",
    "navi",
    "navigation",
    "menu",
    "submenu",
    "breadcrumb",
    "breadcrumbs",
    "footer",
    "sidebar",
    "share",
    "shares",
    "sharing",
    "social",
    "socials",
    "newsletter",
    "subscribe",
    "subscription",
    "signup",
    "cookie",
    "cookies",
    "consent",
    "gdpr",
    "comment",
    "comments",
    "disqus",
    "related",
    "recommended",
    "recommendations",
    "caption",
    "credit",
    "credits",
    "copyright",
    "bio",
    "author",
    "authors",
    "byline",
    "tags",
    "taglist",
    "tagcloud",
    "ad",
    "ads",
    "advert",
    "advertisement",
    "adslot",
    "sponsored",
    "promo",
    "outbrain",
    "taboola",
    "pagination",
    "pager",
    "popup",
    "modal",
    "overlay",
    "toolbar",
    "print",
    "skip",
    "rating",
];

/// Word prefixes that name furniture however the word goes on
/// (`sharedaddy`, `socialbar`, `relatedposts`, `newsletterbox`).
const PREFIXES: &[&str] = &[
    "share",
    "social",
    "newsletter",
    "related",
    "breadcrumb",
    "cookie",
    "subscri",
    "recommend",
    "sidebar",
    "footer",
    "commentlist",
    "comments",
];

/// Whether `<figcaption>` counts as furniture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figcaptions {
    /// It does (our own body).
    Drop,
    /// It does not (the body the readability port chose: it keeps a figure's caption on
    /// purpose; captions and credits named by class or id are still furniture).
    Keep,
}

/// True when `node` is an element of page furniture (module docs).
pub fn is_furniture(node: &NodeRef<'_>) -> bool {
    is_furniture_but(node, Figcaptions::Drop)
}

/// True when `node` is an element of page furniture, `<figcaption>` counted as
/// `figcaptions` says.
pub fn is_furniture_but(node: &NodeRef<'_>, figcaptions: Figcaptions) -> bool {
    let Some(el) = node.element_ref() else {
        return false;
    };
    let tag = &*el.name.local;
    if TAGS.contains(&tag) && !(figcaptions == Figcaptions::Keep && tag == "figcaption") {
        return true;
    }
    let (mut role, mut class, mut id, mut hidden) = (None, None, None, false);
    for a in &el.attrs {
        match &*a.name.local {
            "role" => role = Some(a.value.clone()),
            "class" => class = Some(a.value.clone()),
            "id" => id = Some(a.value.clone()),
            "hidden" => hidden = true,
            "aria-hidden" => hidden |= a.value.trim().eq_ignore_ascii_case("true"),
            "style" => hidden |= style_hides(&a.value),
            _ => {}
        }
    }
    if hidden {
        return true;
    }
    if role.is_some_and(|r| {
        r.split_whitespace()
            .any(|r| ROLES.iter().any(|x| r.eq_ignore_ascii_case(x)))
    }) {
        return true;
    }
    class.as_deref().is_some_and(names_furniture)
        || id
            .as_deref()
            .is_some_and(|id| words(id).count() <= MAX_ID_WORDS && names_furniture(id))
}

/// An id of more words than this is a slug made from a heading
/// (`sharing-with-a-single-developer`), not the name of a box.
const MAX_ID_WORDS: usize = 3;

/// A `style` that hides the element.
fn style_hides(style: &str) -> bool {
    let compact: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    compact.contains("display:none") || compact.contains("visibility:hidden")
}

/// True when one word of a `class` or `id` value names furniture.
fn names_furniture(value: &str) -> bool {
    words(value).any(|w| WORDS.contains(&w.as_str()) || PREFIXES.iter().any(|p| w.starts_with(p)))
}

/// The lower-case words of a class or id value: split at spaces, `-`, `_`, `:`, `.`, digits
/// and lower-to-upper case changes (`articleBody` → `article`, `body`).
pub fn words(value: &str) -> impl Iterator<Item = String> + '_ {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in value.chars() {
        if !c.is_alphabetic() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dom_query::Document;

    #[test]
    fn class_words() {
        let w: Vec<String> = words("articleBody post-content__main  x_y").collect();
        assert_eq!(w, ["article", "body", "post", "content", "main", "x", "y"]);
        for furniture in [
            "share-buttons",
            "sharedaddy",
            "c-newsletter",
            "wp-caption-text",
            "related_posts",
            "cookieBanner",
            "author-bio",
            "ad",
            "comments-area",
        ] {
            assert!(names_furniture(furniture), "{furniture}");
        }
        for content in [
            "article-body",
            "entry-content",
            "post",
            "headline",
            "commentary",
            "address",
            "adventure",
            "navarra",
        ] {
            assert!(!names_furniture(content), "{content}");
        }
    }

    #[test]
    fn elements() {
        let doc = Document::from(
            "<nav id=a></nav><div id=b role=navigation></div><div id=c style='display: none'></div>\
             <div id=d aria-hidden=true></div><p id=e class='lead'></p><div id=f class='entry-meta'></div>",
        );
        let is = |id: &str| {
            let sel = doc.select(&format!("#{id}"));
            is_furniture(&sel.nodes()[0])
        };
        assert!(is("a") && is("b") && is("c") && is("d"));
        assert!(!is("e") && !is("f"));
    }
}
