//! Page metadata: title, published time, language, canonical URL.
//!
//! Reads the signals publishers put in the page, strongest first: JSON-LD
//! (`NewsArticle` & co.), Open Graph / `article:*` meta tags, common meta
//! names, `<time datetime>`, then the visible `<h1>`/`<title>`. The body text
//! is left to [`super::page`]; language detection from text lives here because
//! it is the last fallback of the language signal.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use dom_query::{Document, Matcher, NodeRef, Selection};
use url::Url;

use super::text;

/// What a page says about itself, before its body is extracted.
#[derive(Debug, Clone, Default)]
pub struct PageMeta {
    /// The document's base URL: `<base href>` resolved against the page URL.
    pub base: Option<Url>,
    /// Title with the site name trimmed.
    pub title: Option<String>,
    /// Publication time.
    pub published: Option<DateTime<Utc>>,
    /// Declared language as its primary subtag, lower-case (`ar`, `fr`, `en`).
    pub lang: Option<String>,
    /// `<link rel=canonical>`, absolute.
    pub canonical: Option<Url>,
    /// The page says it is an article: `og:type` article, a JSON-LD article `@type`,
    /// an `<article>` holding the page's `<h1>`, or an `<h1>` and a published time.
    pub says_article: bool,
    /// The page's own summary (`og:description`, `twitter:description`,
    /// `<meta name=description>`, JSON-LD `description`), plain text.
    pub description: Option<String>,
    /// The page's title or `<h1>` says it is an error page ("Page not found", "404",
    /// "Cette page n'existe pas", …), whatever else it claims.
    pub not_found: bool,
}

static BASE: LazyLock<Matcher> = LazyLock::new(|| {
    Matcher::new("base[href]").expect("static selector in extract::meta is valid CSS")
});

/// Meta names/properties that carry a publication time, best first.
const DATE_META: &[&str] = &[
    "article:published_time",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "article.published",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "dcterms.created",
    "date",
];

/// JSON-LD `@type`s that are articles.
const ARTICLE_TYPES: &[&str] = &[
    "Article",
    "NewsArticle",
    "ReportageNewsArticle",
    "AnalysisNewsArticle",
    "OpinionNewsArticle",
    "BackgroundNewsArticle",
    "BlogPosting",
    "LiveBlogPosting",
    "ScholarlyArticle",
    "Report",
];

/// The document's base URL: `<base href>` resolved against `base`.
#[must_use]
pub fn document_base(doc: &Document, base: Option<&Url>) -> Option<Url> {
    let href = Selection::from(doc.root())
        .select_matcher_iter(&BASE)
        .next()
        .and_then(|e| e.attr("href"));
    resolve_base(base, href.as_deref())
}

fn resolve_base(base: Option<&Url>, href: Option<&str>) -> Option<Url> {
    match (base, href) {
        (Some(b), Some(h)) => b.join(h.trim()).ok().or_else(|| Some(b.clone())),
        (None, Some(h)) => Url::parse(h.trim()).ok(),
        (b, None) => b.cloned(),
    }
}

/// The elements metadata is read from, in document order, gathered in one
/// walk over the tree (a walk per signal cost more than the rest of `meta`).
#[derive(Default)]
struct Tags<'a> {
    /// First `<base href>`.
    base: Option<String>,
    /// First `<html lang>`.
    html_lang: Option<String>,
    /// `<meta content>`.
    metas: Vec<NodeRef<'a>>,
    /// `<script type="application/ld+json">`.
    json_ld: Vec<NodeRef<'a>>,
    /// `<link rel href>`.
    links: Vec<NodeRef<'a>>,
    /// `<time datetime>`.
    times: Vec<NodeRef<'a>>,
    h1: Vec<NodeRef<'a>>,
    title: Vec<NodeRef<'a>>,
    /// Some `<h1>` sits inside an `<article>`.
    h1_in_article: bool,
}

impl<'a> Tags<'a> {
    fn gather(doc: &'a Document) -> Self {
        let mut tags = Tags::default();
        for node in doc.root().descendants_it() {
            let Some(el) = node.element_ref() else {
                continue;
            };
            let has = |attr: &str| el.has_attr(attr);
            match &*el.name.local {
                "meta" if has("content") => tags.metas.push(node),
                "script"
                    if el
                        .attr("type")
                        .is_some_and(|t| t.eq_ignore_ascii_case("application/ld+json")) =>
                {
                    tags.json_ld.push(node);
                }
                "link" if has("rel") && has("href") => tags.links.push(node),
                "time" if has("datetime") => tags.times.push(node),
                "h1" => {
                    tags.h1_in_article |= node
                        .ancestors_it(None)
                        .any(|a| a.node_name().is_some_and(|n| &*n == "article"));
                    tags.h1.push(node);
                }
                "title" => tags.title.push(node),
                "base" if tags.base.is_none() => tags.base = el.attr("href").map(String::from),
                "html" if tags.html_lang.is_none() => {
                    tags.html_lang = el.attr("lang").map(String::from);
                }
                _ => {}
            }
        }
        tags
    }
}

/// Reads every metadata signal of `doc`; `url` is the page's own URL, which
/// `<base href>` refines and the canonical link is resolved against.
#[must_use]
pub fn read_meta(doc: &Document, url: Option<&Url>) -> PageMeta {
    let tags = Tags::gather(doc);
    let base = resolve_base(url, tags.base.as_deref());
    let metas = meta_map(&tags.metas);
    let ld = json_ld_article(&tags.json_ld);
    let site_name = metas.get("og:site_name").cloned();
    let title = metas
        .get("og:title")
        .or_else(|| metas.get("twitter:title"))
        .cloned()
        .or_else(|| ld.as_ref().and_then(|v| str_field(v, "headline")))
        .or_else(|| first_text(&tags.h1))
        .or_else(|| first_text(&tags.title))
        .map(|t| trim_site_name(&text::collapse(&t), site_name.as_deref()))
        .filter(|t| !t.is_empty());
    let published = ld
        .as_ref()
        .and_then(|v| str_field(v, "datePublished"))
        .and_then(|s| parse_date(&s))
        .or_else(|| {
            DATE_META
                .iter()
                .find_map(|k| metas.get(*k).and_then(|s| parse_date(s)))
        })
        .or_else(|| {
            tags.times
                .iter()
                .find_map(|t| t.attr("datetime").and_then(|d| parse_date(&d)))
        });
    let lang = tags
        .html_lang
        .as_deref()
        .or_else(|| metas.get("content-language").map(String::as_str))
        .or_else(|| metas.get("og:locale").map(String::as_str))
        .and_then(primary_subtag)
        .or_else(|| {
            ld.as_ref()
                .and_then(|v| str_field(v, "inLanguage"))
                .and_then(|l| primary_subtag(&l))
        });
    let first_h1 = first_text(&tags.h1);
    let dated = ld
        .as_ref()
        .and_then(|v| str_field(v, "datePublished"))
        .and_then(|s| parse_date(&s))
        .or_else(|| {
            DATE_META
                .iter()
                .find_map(|k| metas.get(*k).and_then(|s| parse_date(s)))
        })
        .is_some()
        || time_beside_h1(&tags);
    let says_article = ld.is_some()
        || metas
            .get("og:type")
            .is_some_and(|t| t.eq_ignore_ascii_case("article"))
        || tags.h1_in_article
        || (first_h1.is_some() && dated);
    let description = ["og:description", "twitter:description", "description"]
        .iter()
        .find_map(|k| metas.get(*k).cloned())
        .or_else(|| ld.as_ref().and_then(|v| str_field(v, "description")))
        .map(|d| text::html_fragment_text(&d))
        .filter(|d| !d.is_empty());
    let not_found = [
        first_text(&tags.title),
        first_h1,
        metas.get("og:title").cloned(),
    ]
    .iter()
    .flatten()
    .any(|t| says_not_found(t));
    PageMeta {
        canonical: canonical_link(&tags.links, base.as_ref()),
        base,
        title,
        published,
        lang,
        says_article,
        description,
        not_found,
    }
}

/// What error pages say in their title, lower case (English, French, Arabic, and
/// the other languages of the sites newswatch is pointed at).
const NOT_FOUND_PHRASES: &[&str] = &[
    "page not found",
    "page cannot be found",
    "page could not be found",
    "page does not exist",
    "page doesn't exist",
    "page doesn’t exist",
    "page no longer exists",
    "not found (404)",
    "error 404",
    "404 error",
    "404 not found",
    "page introuvable",
    "page non trouvée",
    "cette page n'existe pas",
    "cette page n’existe pas",
    "la page demandée n'existe pas",
    "la page demandée n’existe pas",
    "erreur 404",
    "seite nicht gefunden",
    "página no encontrada",
    "pagina non trovata",
    "الصفحة غير موجودة",
    "الصفحة المطلوبة غير موجودة",
    "لم يتم العثور على الصفحة",
    "الصفحة التي تبحث عنها غير موجودة",
    "خطأ 404",
];

/// A title that says the page is an error page: it holds one of
/// [`NOT_FOUND_PHRASES`], or it is short and holds the word `404`.
fn says_not_found(title: &str) -> bool {
    let lower = title.to_lowercase();
    if NOT_FOUND_PHRASES.iter().any(|p| lower.contains(p)) {
        return true;
    }
    let words: Vec<&str> = lower
        .split(|c: char| !crate::chars::is_alphanumeric(c))
        .filter(|w| !w.is_empty())
        .collect();
    words.len() <= 6 && words.contains(&"404")
}

/// A `<time datetime>` in the same block as the first `<h1>` (their parents or
/// grandparents meet): the headline's own date, not a teaser's on a listing page.
fn time_beside_h1(tags: &Tags<'_>) -> bool {
    let Some(h1) = tags.h1.first() else {
        return false;
    };
    let near: Vec<_> = h1.ancestors_it(Some(2)).map(|a| a.id).collect();
    tags.times
        .iter()
        .any(|t| t.ancestors_it(Some(2)).any(|a| near.contains(&a.id)))
}

/// `name`/`property`/`itemprop`/`http-equiv` (lower-case) → first `content`.
fn meta_map(metas: &[NodeRef<'_>]) -> std::collections::HashMap<String, String> {
    let mut map = std::collections::HashMap::new();
    for m in metas {
        let content = m.attr("content").unwrap_or_default();
        let content = content.trim();
        if content.is_empty() {
            continue;
        }
        for attr in ["property", "name", "itemprop", "http-equiv"] {
            if let Some(key) = m.attr(attr) {
                for k in key.split_whitespace() {
                    map.entry(k.to_ascii_lowercase())
                        .or_insert_with(|| content.to_string());
                }
            }
        }
    }
    map
}

/// The first JSON-LD object whose `@type` is an article type.
fn json_ld_article(scripts: &[NodeRef<'_>]) -> Option<serde_json::Value> {
    scripts.iter().find_map(|script| {
        let raw = script.text();
        let value: serde_json::Value = serde_json::from_str(raw.trim()).ok()?;
        find_article(value, 0)
    })
}

fn find_article(value: serde_json::Value, depth: usize) -> Option<serde_json::Value> {
    if depth > 8 {
        return None;
    }
    match value {
        serde_json::Value::Array(items) => {
            items.into_iter().find_map(|v| find_article(v, depth + 1))
        }
        serde_json::Value::Object(mut map) => {
            let is_article = match map.get("@type") {
                Some(serde_json::Value::String(t)) => ARTICLE_TYPES.contains(&t.as_str()),
                Some(serde_json::Value::Array(ts)) => ts
                    .iter()
                    .any(|t| t.as_str().is_some_and(|t| ARTICLE_TYPES.contains(&t))),
                _ => false,
            };
            if is_article {
                return Some(serde_json::Value::Object(map));
            }
            map.remove("@graph")
                .and_then(|g| find_article(g, depth + 1))
        }
        _ => None,
    }
}

fn str_field(v: &serde_json::Value, key: &str) -> Option<String> {
    match v.get(key)? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Array(a) => a.first()?.as_str().map(str::to_string),
        _ => None,
    }
}

fn first_text(elements: &[NodeRef<'_>]) -> Option<String> {
    elements
        .iter()
        .map(|e| text::collapse(&e.text()))
        .find(|t| !t.is_empty())
}

fn canonical_link(links: &[NodeRef<'_>], base: Option<&Url>) -> Option<Url> {
    let link = links.iter().find(|l| {
        l.attr("rel").is_some_and(|r| {
            r.split_whitespace()
                .any(|r| r.eq_ignore_ascii_case("canonical"))
        })
    })?;
    let href = link.attr("href")?;
    let href = href.trim();
    let url = match base {
        Some(b) => b.join(href).ok()?,
        None => Url::parse(href).ok()?,
    };
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// Separators sites put between a story's title and their own name.
const TITLE_SEPARATORS: &[&str] = &[
    " | ", " - ", " – ", " — ", " :: ", " » ", " « ", " · ", " / ",
];

/// Drops the site name from a title: the segment equal to `og:site_name`, or
/// else the short trailing (or leading) segment after a separator.
#[must_use]
pub fn trim_site_name(title: &str, site_name: Option<&str>) -> String {
    let Some(sep) = TITLE_SEPARATORS.iter().find(|s| title.contains(**s)) else {
        return title.to_string();
    };
    let parts: Vec<&str> = title.split(sep).map(str::trim).collect();
    if let Some(site) = site_name.map(str::trim).filter(|s| !s.is_empty()) {
        let kept: Vec<&str> = parts
            .iter()
            .copied()
            .filter(|p| !p.eq_ignore_ascii_case(site))
            .collect();
        if kept.len() < parts.len() && !kept.is_empty() {
            return kept.join(sep);
        }
    }
    let words = |s: &str| s.split_whitespace().count();
    let (head, tail) = title.rsplit_once(sep).unwrap_or((title, ""));
    if words(head) >= 3 && words(tail) <= 4 {
        return head.trim().to_string();
    }
    let (first, rest) = title.split_once(sep).unwrap_or((title, ""));
    if words(first) <= 4 && words(rest) >= 3 {
        return rest.trim().to_string();
    }
    title.to_string()
}

/// Parses the date formats found in meta tags and JSON-LD; times without a
/// zone are taken as UTC, dates without a time as midnight UTC.
#[must_use]
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return Some(d.with_timezone(&Utc));
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return Some(d.and_utc());
        }
    }
    for f in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return d.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
        }
    }
    None
}

/// `en-US` → `en`; rejects values that are not language tags.
fn primary_subtag(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    ((2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic()))
        .then_some(primary)
}

/// Guesses the language of `text` from its script, and for Latin script from
/// its most common function words. Good enough for ar/fr/en and neighbours.
#[must_use]
pub fn detect_lang(text: &str) -> Option<String> {
    let (mut arabic, mut latin, mut cjk, mut kana, mut hangul, mut cyrillic, mut hebrew) =
        (0usize, 0usize, 0usize, 0usize, 0usize, 0usize, 0usize);
    for c in text.chars().take(5000) {
        match c as u32 {
            0x0600..=0x06FF | 0x0750..=0x077F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => arabic += 1,
            0x0590..=0x05FF => hebrew += 1,
            0x0400..=0x04FF => cyrillic += 1,
            0x3040..=0x30FF => kana += 1,
            0xAC00..=0xD7AF => hangul += 1,
            0x4E00..=0x9FFF => cjk += 1,
            _ if c.is_ascii_alphabetic() || ('\u{C0}'..='\u{24F}').contains(&c) => {
                latin += 1;
            }
            _ => {}
        }
    }
    let counts = [
        (arabic, "ar"),
        (hebrew, "he"),
        (cyrillic, "ru"),
        (kana + cjk / 4, "ja"),
        (hangul, "ko"),
        (cjk, "zh"),
    ];
    let (n, best) = counts.iter().copied().max_by_key(|(n, _)| *n)?;
    if n > latin && n >= 10 {
        return Some(best.to_string());
    }
    (latin >= 20).then(|| latin_lang(text).to_string())
}

/// The writing system a language is written in, for the languages whose script
/// [`detect_lang`] can tell; `None` for any other.
fn script_of(lang: &str) -> Option<&'static str> {
    Some(match lang {
        "ar" | "fa" | "ur" | "ps" | "ku" | "sd" | "ug" => "arabic",
        "he" | "yi" => "hebrew",
        "ru" | "uk" | "bg" | "sr" | "mk" | "be" | "kk" | "ky" | "mn" | "tg" => "cyrillic",
        "ja" => "japanese",
        "ko" => "hangul",
        "zh" => "han",
        "en" | "fr" | "es" | "de" | "pt" | "it" | "nl" | "pl" | "cs" | "sk" | "sv" | "da"
        | "no" | "nb" | "fi" | "ro" | "hu" | "tr" | "id" | "ca" | "hr" | "sl" => "latin",
        _ => return None,
    })
}

/// The language of an article: the one its text is plainly written in when that
/// disagrees with the page's declaration, else the declared one, else the detected one.
///
/// The text disagrees when it is in another script than the declared language's
/// (an Arabic article on a page declared `en`), or, between the Latin-script languages
/// [`detect_lang`] knows, when the detected language's function words are at least
/// [`LANG_MARGIN`] times as frequent as the declared one's, and at least
/// [`LANG_MIN_HITS`] (a German article declared `en`).
#[must_use]
pub fn article_lang(declared: Option<String>, text: &str) -> Option<String> {
    let detected = detect_lang(text);
    let (Some(dec), Some(det)) = (declared.as_deref(), detected.as_deref()) else {
        return declared.or(detected);
    };
    if dec == det {
        return declared;
    }
    let (Some(dec_script), Some(det_script)) = (script_of(dec), script_of(det)) else {
        return declared;
    };
    if dec_script != det_script {
        return detected;
    }
    if det_script == "latin" {
        let scores = latin_scores(text);
        let hits = |l: &str| scores.iter().find(|(x, _)| *x == l).map(|(_, n)| *n);
        if let (Some(d), Some(t)) = (hits(dec), hits(det)) {
            if t >= LANG_MIN_HITS && t >= LANG_MARGIN * d {
                return detected;
            }
        }
    }
    declared
}

/// How many times more frequent the detected language's function words must be.
pub const LANG_MARGIN: usize = 2;

/// Fewest function-word hits that let the text overrule the declaration.
pub const LANG_MIN_HITS: usize = 10;

fn latin_lang(text: &str) -> &'static str {
    let scores = latin_scores(text);
    let best = (0..scores.len()).max_by_key(|i| scores[*i].1).unwrap_or(0);
    scores[best].0
}

/// Each Latin-script language [`detect_lang`] tells apart, and its commonest function words.
const WORDS: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "the", "and", "of", "to", "is", "that", "with", "for", "was", "on",
        ],
    ),
    (
        "fr",
        &[
            "le", "la", "les", "et", "des", "est", "une", "dans", "pour", "du", "qui",
        ],
    ),
    (
        "es",
        &[
            "el", "los", "las", "y", "que", "por", "una", "con", "para", "del",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "und", "das", "ist", "nicht", "mit", "den", "von", "auf",
        ],
    ),
    (
        "pt",
        &[
            "o", "os", "e", "que", "não", "uma", "com", "para", "do", "da",
        ],
    ),
    (
        "it",
        &[
            "il", "gli", "e", "che", "non", "una", "con", "per", "della", "sono",
        ],
    ),
];

/// The longest function word [`latin_scores`] counts, in characters.
const FUNCTION_WORD_MAX_CHARS: usize = 5;

/// Function-word hits per Latin-script language.
fn latin_scores(text: &str) -> [(&'static str, usize); 6] {
    let mut scores = [("", 0usize); 6];
    for (slot, (lang, _)) in scores.iter_mut().zip(WORDS) {
        slot.0 = lang;
    }
    for w in text
        .split(|c: char| !crate::chars::is_alphabetic(c))
        .take(3000)
    {
        // No function word is longer than this, and lower-casing never shortens a word.
        if w.is_empty() || w.chars().nth(FUNCTION_WORD_MAX_CHARS).is_some() {
            continue;
        }
        let w = w.to_lowercase();
        for (i, (_, list)) in WORDS.iter().enumerate() {
            scores[i].1 += usize::from(list.contains(&w.as_str()));
        }
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_word_max_chars_is_the_longest() {
        let longest = WORDS
            .iter()
            .flat_map(|(_, w)| w.iter())
            .map(|w| w.chars().count())
            .max();
        assert_eq!(longest, Some(FUNCTION_WORD_MAX_CHARS));
    }

    #[test]
    fn titles_lose_site_name() {
        for (t, site, want) in [
            (
                "US troops to leave Niger | Al Jazeera",
                None,
                "US troops to leave Niger",
            ),
            (
                "Al Jazeera - US troops to leave Niger soon",
                Some("Al Jazeera"),
                "US troops to leave Niger soon",
            ),
            (
                "Le Monde - Le retrait des troupes du Niger",
                None,
                "Le retrait des troupes du Niger",
            ),
            (
                "انسحاب القوات الأمريكية من النيجر | الجزيرة نت",
                None,
                "انسحاب القوات الأمريكية من النيجر",
            ),
            ("Plain title", None, "Plain title"),
        ] {
            assert_eq!(trim_site_name(t, site), want);
        }
    }

    #[test]
    fn dates() {
        for s in [
            "2024-04-17T10:00:00Z",
            "2024-04-17T12:00:00+02:00",
            "2024-04-17T10:00:00.000+0000",
            "2024-04-17 10:00:00",
            "Wed, 17 Apr 2024 10:00:00 GMT",
        ] {
            assert_eq!(
                parse_date(s).map(|d| d.to_rfc3339()).as_deref(),
                Some("2024-04-17T10:00:00+00:00"),
                "{s}"
            );
        }
        assert!(parse_date("2024-04-17").is_some());
        assert!(parse_date("yesterday").is_none());
    }

    #[test]
    fn languages() {
        assert_eq!(
            detect_lang("أعلنت وزارة الدفاع الأمريكية عن انسحاب القوات من النيجر").as_deref(),
            Some("ar")
        );
        assert_eq!(detect_lang("Le retrait des troupes américaines du Niger est une décision qui pèse dans la région").as_deref(), Some("fr"));
        assert_eq!(
            detect_lang(
                "The withdrawal of the troops from Niger is a decision that was taken on Friday"
            )
            .as_deref(),
            Some("en")
        );
        assert_eq!(detect_lang("12 34"), None);
    }

    #[test]
    fn text_language_wins_when_it_plainly_disagrees() {
        let de = "Die Bundesregierung hat am Freitag beschlossen, dass die Truppen nicht \
            vor dem Ende des Jahres abgezogen werden. Der Minister sagte, die Lage sei mit \
            den Partnern abgestimmt und die Soldaten würden auf den Abzug vorbereitet. Die \
            Opposition kritisierte den Beschluss, der von der Mehrheit getragen wird.";
        assert_eq!(article_lang(Some("en".into()), de).as_deref(), Some("de"));
        assert_eq!(article_lang(Some("de".into()), de).as_deref(), Some("de"));
        assert_eq!(article_lang(None, de).as_deref(), Some("de"));
        let ar = "أعلنت وزارة الدفاع الأمريكية عن انسحاب القوات من النيجر";
        assert_eq!(article_lang(Some("en".into()), ar).as_deref(), Some("ar"));
        // Persian is written in Arabic script: the declaration stands.
        assert_eq!(article_lang(Some("fa".into()), ar).as_deref(), Some("fa"));
        // Polish is not a language the detector knows: the declaration stands.
        assert_eq!(article_lang(Some("pl".into()), de).as_deref(), Some("pl"));
        // A few English words in a French text do not overrule its declaration.
        let fr = "Le retrait des troupes du Niger est une décision qui pèse dans la région, \
            selon le ministre, the end.";
        assert_eq!(article_lang(Some("fr".into()), fr).as_deref(), Some("fr"));
    }

    #[test]
    fn metadata_from_page() {
        let doc = Document::from(
            r#"<html lang="ar-EG"><head><title>x | Site</title>
            <link rel="canonical" href="/news/1">
            <script type="application/ld+json">{"@graph":[{"@type":"NewsArticle","headline":"H","datePublished":"2024-04-17T10:00:00Z"}]}</script>
            </head><body><h1>Other</h1></body></html>"#,
        );
        let base = Url::parse("https://example.org/a/b").expect("static URL");
        let m = read_meta(&doc, Some(&base));
        assert_eq!(m.title.as_deref(), Some("H"));
        assert_eq!(m.lang.as_deref(), Some("ar"));
        assert_eq!(
            m.canonical.map(|u| u.to_string()).as_deref(),
            Some("https://example.org/news/1")
        );
        assert!(m.published.is_some() && m.says_article);
    }

    #[test]
    fn error_pages_say_so() {
        for t in [
            "Page not found | Le Journal",
            "404",
            "Erreur 404 - Cette page n'existe pas",
            "الصفحة غير موجودة - الجزيرة نت",
            "Oops! 404 — Example News",
        ] {
            assert!(says_not_found(t), "{t}");
        }
        for t in [
            "Body of missing hiker not found after a week of searching",
            "US troops to leave Niger | Al Jazeera",
            "Flight 404 lands safely after engine scare over the Atlantic Ocean",
        ] {
            assert!(!says_not_found(t), "{t}");
        }
    }
}
