//! Extraction on hostile and odd input: no panic, bounded time, a clear error instead of
//! boilerplate, and Arabic pages in legacy encodings read right with or without a
//! declared charset.

use std::time::{Duration, Instant};

use newswatch::extract::{charset, extract_any, extract_article, ExtractError, Extracted};
use url::Url;

const ARABIC: &str = "بدأت الولايات المتحدة سحب قواتها من النيجر، وأعلنت وزارة الدفاع أن \
    الانسحاب من قاعدة أغاديز الجوية سيكتمل قبل نهاية العام. وقال مسؤولون في نيامي إن \
    المحادثات مع واشنطن تناولت جدول الانسحاب ومصير المعدات العسكرية في القاعدة.";

fn article_page(body: &str, head: &str) -> String {
    let paras: String = (0..6).map(|_| format!("<p>{body}</p>\n")).collect();
    format!(
        "<!DOCTYPE html><html><head>{head}<title>انسحاب القوات من النيجر</title></head>\
         <body><nav><a href=\"/\">الرئيسية</a></nav><article><h1>انسحاب القوات من النيجر</h1>{paras}</article>\
         <footer>جميع الحقوق محفوظة</footer></body></html>"
    )
}

fn base() -> Url {
    Url::parse("https://news.example/ar/2026/11/24/niger-withdrawal-12345.html").unwrap()
}

/// Runs `f` and asserts it took less than `limit` (debug build, shared CI core).
fn bounded<T>(limit: Duration, what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    assert!(t.elapsed() < limit, "{what} took {:?}", t.elapsed());
    out
}

#[test]
fn windows_1256_without_declared_charset_reads_right() {
    let html = article_page(ARABIC, "");
    let (bytes, _, lossy) = encoding_rs::WINDOWS_1256.encode(&html);
    assert!(!lossy);
    let a = extract_article(&bytes, Some("text/html"), Some(&base()), None).expect("an article");
    assert!(
        a.text.contains("قاعدة أغاديز"),
        "decoded: {}",
        &a.text[..a.text.len().min(300)]
    );
    assert_eq!(a.lang.as_deref(), Some("ar"));
}

#[test]
fn windows_1256_declared_in_meta_reads_right() {
    let html = article_page(ARABIC, "<meta charset=\"windows-1256\">");
    let (bytes, _, _) = encoding_rs::WINDOWS_1256.encode(&html);
    let a = extract_article(&bytes, None, Some(&base()), None).expect("an article");
    assert!(a.text.contains("النيجر"));
}

#[test]
fn iso_8859_6_declared_in_header_reads_right() {
    let html = article_page(ARABIC, "");
    let (bytes, _, lossy) = encoding_rs::ISO_8859_6.encode(&html);
    assert!(!lossy, "the text fits ISO-8859-6");
    let a = extract_article(
        &bytes,
        Some("text/html; charset=ISO-8859-6"),
        Some(&base()),
        None,
    )
    .expect("an article");
    assert!(a.text.contains("الانسحاب"));
}

#[test]
fn utf16_with_bom_and_no_declared_charset_reads_right() {
    let html = article_page(ARABIC, "");
    let mut le = vec![0xFF, 0xFE];
    le.extend(html.encode_utf16().flat_map(u16::to_le_bytes));
    let mut be = vec![0xFE, 0xFF];
    be.extend(html.encode_utf16().flat_map(u16::to_be_bytes));
    for bytes in [le, be] {
        let (text, _) = charset::decode(&bytes, Some("text/html"));
        assert!(text.contains("قاعدة أغاديز"));
        let a =
            extract_article(&bytes, Some("text/html"), Some(&base()), None).expect("an article");
        assert!(a.text.contains("قاعدة أغاديز"));
    }
}

#[test]
fn windows_1252_french_without_declared_charset_reads_right() {
    let body = "Le retrait des troupes françaises du Niger s'achève : à Niamey, l'état-major \
        a confirmé que les derniers soldats quitteront la base aérienne avant la fin de l'année.";
    let html = article_page(body, "");
    let html = html.replace("انسحاب القوات من النيجر", "Retrait du Niger");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&html);
    let a = extract_article(&bytes, Some("text/html"), Some(&base()), None).expect("an article");
    assert!(
        a.text.contains("françaises") && a.text.contains("l'état-major"),
        "{}",
        a.text
    );
}

#[test]
fn invalid_utf8_is_replaced_not_fatal() {
    let mut bytes = article_page(ARABIC, "<meta charset=\"utf-8\">").into_bytes();
    let mid = bytes.len() / 2;
    bytes.splice(mid..mid, [0xFF, 0xFE, 0xC3, 0x28, 0x80]);
    let got = bounded(Duration::from_secs(5), "invalid UTF-8", || {
        extract_article(
            &bytes,
            Some("text/html; charset=utf-8"),
            Some(&base()),
            None,
        )
    });
    let a = got.expect("still an article");
    assert!(a.text.contains("النيجر"));
}

#[test]
fn empty_and_binary_bodies_are_unsupported() {
    for (bytes, ct) in [
        (Vec::new(), Some("text/html")),
        (b"   \n\t ".to_vec(), Some("text/html")),
        (
            b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<<>>\nendobj\n\x00\x00\x00".to_vec(),
            None,
        ),
        ((0u8..=255).cycle().take(64 * 1024).collect(), None),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec(),
            Some("image/png"),
        ),
    ] {
        let got = extract_any(&bytes, ct, Some(&base()));
        assert!(
            matches!(got, Err(ExtractError::Unsupported(_))),
            "{:?} gave {got:?}",
            &bytes[..bytes.len().min(16)]
        );
    }
}

#[test]
fn page_without_an_article_is_no_article_not_boilerplate() {
    let html = "<html><head><title>Accueil</title></head><body>\
        <nav><a href=\"/monde\">Monde</a> <a href=\"/afrique\">Afrique</a> <a href=\"/sport\">Sport</a></nav>\
        <div class=\"cookie\">Nous utilisons des cookies. Accepter</div>\
        <footer>© 2026 Journal — Mentions légales — Contact</footer></body></html>";
    let got = extract_article(html.as_bytes(), Some("text/html"), Some(&base()), None);
    assert!(matches!(got, Err(ExtractError::NoArticle)), "{got:?}");
}

#[test]
fn deeply_nested_markup_is_bounded() {
    let depth = 100_000;
    let mut html = String::with_capacity(depth * 11 + 1000);
    html.push_str("<html><body>");
    for _ in 0..depth {
        html.push_str("<div>");
    }
    html.push_str("<p>");
    html.push_str(ARABIC);
    html.push_str("</p>");
    for _ in 0..depth {
        html.push_str("</div>");
    }
    html.push_str("</body></html>");
    // Refused with a clear error before parsing: no stack overflow, no quadratic parse.
    let got = bounded(Duration::from_secs(5), "100,000 nested divs", || {
        extract_article(html.as_bytes(), Some("text/html"), Some(&base()), None)
    });
    assert!(
        matches!(&got, Err(ExtractError::Unsupported(m)) if m.contains("nested")),
        "{got:?}"
    );
    // Just under the limit it is parsed and still bounded.
    let depth = newswatch::extract::MAX_NESTING - 10;
    let html = format!(
        "<html><body>{}<p>{ARABIC}</p>{}</body></html>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    let _ = bounded(Duration::from_secs(60), "2,000 nested divs", || {
        extract_any(html.as_bytes(), Some("text/html"), Some(&base()))
    });
}

#[test]
fn ten_megabyte_text_node_is_bounded() {
    let word = "withdrawal Niger ";
    let big: String = word.repeat(10 * 1024 * 1024 / word.len());
    let html = format!("<html><body><article><h1>Big</h1><p>{big}</p></article></body></html>");
    let got = bounded(Duration::from_secs(60), "a 10 MB text node", || {
        extract_article(html.as_bytes(), Some("text/html"), Some(&base()), None)
    });
    if let Ok(a) = got {
        assert!(a.text.len() <= html.len(), "no blow-up of the text");
    }
}

#[test]
fn listing_page_is_not_an_article() {
    let mut html = String::from("<html><body><h1>أخبار</h1><ul>");
    for i in 0..30 {
        html.push_str(&format!(
            "<li><a href=\"/ar/2026/11/{:02}/story-about-niger-number-{i}.html\">عنوان خبر طويل عن النيجر رقم {i} في الساحل</a></li>",
            i % 28 + 1
        ));
    }
    html.push_str("</ul></body></html>");
    match extract_any(html.as_bytes(), Some("text/html"), Some(&base())).expect("a page") {
        Extracted::Listing(links) => assert_eq!(links.len(), 30, "every headline link found"),
        other => panic!("a listing page, not {other:?}"),
    }
}
