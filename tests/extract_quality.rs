//! Issue 18: what the article text holds and what it does not, on a page with the
//! furniture the extraction-eval pages have (`tests/fixtures/pages/article-de.html`).

use newswatch::extract::{extract_article, BodyConfidence};
use url::Url;

fn article() -> newswatch::extract::Article {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pages/article-de.html");
    let bytes = std::fs::read(&path).expect("fixture");
    let base = Url::parse("https://sahel.example/politik/2026/11/28/abzug").expect("static URL");
    extract_article(&bytes, Some("text/html"), Some(&base), None).expect("an article")
}

#[test]
fn issue_18_article_text_keeps_the_article() {
    let a = article();
    for kept in [
        "Die Bundeswehr zieht ihre letzten Soldaten aus Niger ab",
        "Das Verteidigungsministerium in Berlin bestätigte am Freitag",
        "Der Lufttransportstützpunkt in Niamey war seit 2016 eine wichtige Drehscheibe",
        "Die Opposition im Bundestag kritisierte",
        "Nach dem Abzug will die Bundesregierung",
    ] {
        assert!(a.text.contains(kept), "missing {kept:?} in {:?}", a.text);
    }
    assert_eq!(a.confidence, BodyConfidence::Sure);
}

#[test]
fn issue_18_article_text_leaves_out_the_furniture() {
    let a = article();
    for left_out in [
        "Foto: dpa",
        "Auf Facebook teilen",
        "Anzeige",
        "Lesen Sie auch",
        "Sahel-Newsletter",
        "Jetzt kostenlos anmelden",
        "Anna Beispiel berichtet",
        "Mehr zum Thema",
        "Tschad",
        "Cookies",
        "Impressum",
        "\u{AD}",
    ] {
        assert!(
            !a.text.contains(left_out),
            "leaked {left_out:?} in {:?}",
            a.text
        );
    }
}

#[test]
fn issue_18_language_of_the_text_beats_the_declaration() {
    assert_eq!(article().lang.as_deref(), Some("de"));
}
