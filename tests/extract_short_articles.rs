//! Issue 14, item 1: an article page is an article however short; a link list, an
//! error page or a navigation-only "article" is still none. Fixtures:
//! `tests/fixtures/pages/` (README there).

use newswatch::extract::{extract_any, extract_article, BodyConfidence, ExtractError, Extracted};
use url::Url;

fn page(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pages")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn base() -> Url {
    Url::parse("https://sahel.example/news/2026/11/30/story-88231").expect("static URL")
}

/// Words of the page furniture around each brief; none may reach the body.
const FURNITURE: &[&str] = &[
    "cookie",
    "ملفات تعريف الارتباط",
    "الرئيسية",
    "ذات صلة",
    "الأكثر قراءة",
    "جميع الحقوق",
    "فيسبوك",
    "Partager",
    "Articles similaires",
    "Articles récents",
    "Mentions légales",
    "Tillabéri",
    "Subscribe",
    "Africa Briefing",
    "More from Africa",
    "Trending",
    "Advertisement",
    "All rights reserved",
    "Mali",
];

fn assert_brief(name: &str, sentence: &str, lang: &str) {
    let bytes = page(name);
    let a = extract_article(&bytes, Some("text/html"), Some(&base()), None)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(a.text, sentence, "{name}");
    assert_eq!(a.confidence, BodyConfidence::Unsure, "{name}");
    assert_eq!(a.lang.as_deref(), Some(lang), "{name}");
    for word in FURNITURE {
        assert!(
            !a.text.contains(word),
            "{name}: furniture {word:?} in {:?}",
            a.text
        );
    }
    assert!(a.published.is_some(), "{name}: published time");
    match extract_any(&bytes, Some("text/html"), Some(&base())).expect("a page") {
        Extracted::Article(b) => assert_eq!(b.text, sentence, "{name}"),
        other => panic!("{name}: an article, not {other:?}"),
    }
}

#[test]
fn issue_14_arabic_brief_is_an_article() {
    assert_brief(
        "brief-ar.html",
        "أغاديز: وصول قافلة مساعدات إلى المدينة بعد إغلاق الطرق.",
        "ar",
    );
    let a = extract_article(&page("brief-ar.html"), None, Some(&base()), None).expect("article");
    assert_eq!(
        a.description.as_deref(),
        Some("وصلت قافلة مساعدات إنسانية إلى مدينة أغاديز شمال النيجر.")
    );
}

#[test]
fn issue_14_french_brief_is_an_article() {
    assert_brief(
        "brief-fr.html",
        "La junte a décrété un couvre-feu nocturne à Niamey après les manifestations de jeudi.",
        "fr",
    );
    let a = extract_article(&page("brief-fr.html"), None, Some(&base()), None).expect("article");
    assert_eq!(
        a.description.as_deref(),
        Some("La junte a décrété un couvre-feu nocturne à Niamey après des manifestations.")
    );
}

#[test]
fn issue_14_english_flash_is_an_article() {
    assert_brief(
        "brief-en.html",
        "Niger's junta ordered a night curfew in Niamey after protests.",
        "en",
    );
    let a = extract_article(&page("brief-en.html"), None, Some(&base()), None).expect("article");
    assert_eq!(
        a.description.as_deref(),
        Some("Curfew follows two days of protests in the capital.")
    );
}

#[test]
fn issue_14_link_list_is_not_an_article() {
    let bytes = page("link-list.html");
    let got = extract_article(&bytes, Some("text/html"), Some(&base()), None);
    assert!(matches!(got, Err(ExtractError::NoArticle)), "{got:?}");
    match extract_any(&bytes, Some("text/html"), Some(&base())).expect("a page") {
        Extracted::Listing(links) => assert_eq!(links.len(), 10, "{links:?}"),
        other => panic!("a listing, not {other:?}"),
    }
}

#[test]
fn issue_14_soft_404_is_not_an_article() {
    let bytes = page("soft-404.html");
    let got = extract_article(&bytes, Some("text/html"), Some(&base()), None);
    assert!(matches!(got, Err(ExtractError::NoArticle)), "{got:?}");
    assert!(matches!(
        extract_any(&bytes, Some("text/html"), Some(&base())),
        Ok(Extracted::Listing(_))
    ));
}

#[test]
fn issue_14_navigation_only_article_is_not_an_article() {
    let bytes = page("nav-only.html");
    let got = extract_article(&bytes, Some("text/html"), Some(&base()), None);
    assert!(matches!(got, Err(ExtractError::NoArticle)), "{got:?}");
}

#[test]
fn issue_14_long_article_stays_sure() {
    let para = "<p>Niger's junta ordered a night curfew in Niamey after two days of protests \
        against the cost of living, the interior ministry said on Friday evening.</p>";
    let html = format!(
        "<html><head><meta property='og:type' content='article'><title>Curfew</title></head>\
         <body><nav><a href='/'>Home</a></nav><article><h1>Curfew</h1>{}</article></body></html>",
        para.repeat(5)
    );
    let a = extract_article(html.as_bytes(), Some("text/html"), Some(&base()), None)
        .expect("an article");
    assert_eq!(a.confidence, BodyConfidence::Sure);
    assert!(a.text.contains("interior ministry"));
}
