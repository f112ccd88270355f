//! Issue 20: sitemap sources on a loopback site, through the real pipeline (`scan_source`
//! with a `Config` loaded from TOML, SQLite in a temp dir, wiremock on 127.0.0.1).
//!
//! A Google News sitemap whose pages are still followed for their text, with a watchlist
//! that keeps only Arabic and French; a sitemap index of two gzip'd sitemaps (one served as
//! `application/xml`, so only its magic bytes say gzip) that also lists itself; and the bad
//! input: an index pointing to itself, a 50,000-URL sitemap, a 50 MB sitemap, a gzip bomb,
//! an index nested too deep and a page where a sitemap should be. Bounded, logged, never fatal.

mod support;

use std::io::Write as _;
use std::path::Path;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use newswatch::pipeline::MAX_ENTRIES;
use support::config::{self, source, watchlist, ConfigFile, Table};
use support::pipeline::Harness;
use support::site;
use wiremock::MockServer;

/// A harness on `http` and `tables`; every first scan reports what it finds.
fn harness(http: Table, tables: Vec<Table>) -> Harness {
    let mut file = ConfigFile::new().with(http).with(config::backfill_all());
    for t in tables {
        file = file.with(t);
    }
    Harness::new(&file)
}

fn rfc3339(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A Google News `<url>`.
fn news_url(loc: &str, lang: &str, title: &str, date: DateTime<Utc>) -> String {
    format!(
        "<url><loc>{loc}</loc><news:news><news:publication><news:name>Sahel Wire</news:name>\
         <news:language>{lang}</news:language></news:publication>\
         <news:publication_date>{}</news:publication_date><news:title>{title}</news:title>\
         </news:news></url>\n",
        rfc3339(date)
    )
}

fn urlset(urls: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">\n{urls}</urlset>\n"
    )
}

fn index(locs: &[String]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for l in locs {
        s.push_str(&format!("<sitemap><loc>{l}</loc></sitemap>\n"));
    }
    s.push_str("</sitemapindex>\n");
    s
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("in-memory write");
    enc.finish().expect("in-memory gzip")
}

/// Serves `body` at `p`, to be requested `times` times.
async fn mount(server: &MockServer, p: &str, body: Vec<u8>, content_type: &str, times: u64) {
    site::get(p, body, content_type)
        .expect(times)
        .mount(server)
        .await;
}

fn page(lang: &str, title: &str, body: &str) -> Vec<u8> {
    let para = format!("<p>{body}</p>").repeat(6);
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta property=\"og:type\" content=\"article\"></head><body><article><h1>{title}</h1>{para}\
         </article></body></html>"
    )
    .into_bytes()
}

/// No delay between requests to a host; robots.txt asked for.
fn http() -> Table {
    config::http().set("respect_robots", true)
}

#[tokio::test]
async fn news_sitemap_followed_and_filtered_by_language() {
    let server = MockServer::start().await;
    let site = server.uri();
    let now = Utc::now();
    let urls = [
        news_url(
            &format!("{site}/ar/1"),
            "ar",
            "خبر عاجل من الساحل",
            now - Duration::hours(1),
        ),
        news_url(
            &format!("{site}/fr/1"),
            "fr",
            "Retrait des troupes",
            now - Duration::hours(2),
        ),
        news_url(
            &format!("{site}/en/1"),
            "en",
            "Troops withdraw",
            now - Duration::hours(3),
        ),
    ]
    .concat();
    mount(
        &server,
        "/news-sitemap.xml",
        urlset(&urls).into_bytes(),
        "application/xml",
        1,
    )
    .await;
    // The terms are in the pages' bodies only: a match proves the page was followed.
    let ar = "قالت وزارة الدفاع إن القوات ستنسحب من النيجر خلال الأشهر المقبلة بعد محادثات طويلة.";
    let fr = "Le ministère a confirmé le retrait des troupes du Niger dans les prochains mois.";
    let en = "The ministry confirmed that troops will leave Niger in the coming months.";
    mount(
        &server,
        "/ar/1",
        page("ar", "خبر عاجل من الساحل", ar),
        "text/html",
        1,
    )
    .await;
    mount(
        &server,
        "/fr/1",
        page("fr", "Retrait des troupes", fr),
        "text/html",
        1,
    )
    .await;
    mount(
        &server,
        "/en/1",
        page("en", "Troops withdraw", en),
        "text/html",
        1,
    )
    .await;
    let h = harness(
        http(),
        vec![
            source("sahel-news", &format!("{site}/news-sitemap.xml")),
            watchlist("all", &["Niger", "النيجر"]),
            watchlist("ar-fr", &["Niger", "النيجر"]).set("languages", vec!["ar", "fr"]),
        ],
    );
    let report = h.scan("sahel-news").await;
    assert_eq!(report.error, None);
    assert_eq!(report.articles, 3);
    let matched = |wl: &str| {
        let mut urls: Vec<String> = report
            .matches
            .iter()
            .filter(|m| m.watchlist == wl)
            .map(|m| m.url.trim_start_matches(&site).to_string())
            .collect();
        urls.sort();
        urls
    };
    assert_eq!(matched("all"), ["/ar/1", "/en/1", "/fr/1"]);
    assert_eq!(
        matched("ar-fr"),
        ["/ar/1", "/fr/1"],
        "English excluded by languages"
    );
    // The page has no date: the news sitemap's is the article's.
    let ar_match = report
        .matches
        .iter()
        .find(|m| m.url.ends_with("/ar/1"))
        .expect("ar match");
    assert_eq!(
        ar_match.published.map(rfc3339),
        Some(rfc3339(now - Duration::hours(1)))
    );
}

#[tokio::test]
async fn index_of_two_gzipped_sitemaps_each_read_once() {
    let server = MockServer::start().await;
    let site = server.uri();
    let now = Utc::now();
    let april = urlset(
        &[
            news_url(
                &format!("{site}/a/1"),
                "fr",
                "Niger : un accord",
                now - Duration::hours(1),
            ),
            news_url(
                &format!("{site}/a/2"),
                "fr",
                "Agadez sous tension",
                now - Duration::hours(2),
            ),
        ]
        .concat(),
    );
    let march = urlset(&news_url(
        &format!("{site}/m/1"),
        "ar",
        "النيجر: اتفاق جديد",
        now - Duration::days(20),
    ));
    mount(
        &server,
        "/sitemaps/2024-04.xml.gz",
        gzip(april.as_bytes()),
        "application/x-gzip",
        1,
    )
    .await;
    // Named and typed as XML; only the magic bytes say gzip.
    mount(
        &server,
        "/sitemaps/2024-03.xml",
        gzip(march.as_bytes()),
        "application/xml",
        1,
    )
    .await;
    let idx = index(&[
        format!("{site}/sitemaps/2024-04.xml.gz"),
        format!("{site}/sitemap_index.xml"),
        format!("{site}/sitemaps/2024-03.xml"),
        format!("{site}/sitemaps/2024-04.xml.gz"),
    ]);
    mount(
        &server,
        "/sitemap_index.xml",
        idx.into_bytes(),
        "text/xml",
        1,
    )
    .await;
    let h = harness(
        http(),
        vec![
            source("sahel-index", &format!("{site}/sitemap_index.xml"))
                .set("kind", "sitemap")
                .set("follow", false),
            watchlist("niger", &["Niger", "النيجر", "Agadez"]),
        ],
    );
    let report = h.scan("sahel-index").await;
    assert_eq!(report.error, None);
    assert_eq!(report.articles, 3);
    let mut titles: Vec<&str> = report.matches.iter().map(|m| m.title.as_str()).collect();
    titles.sort_unstable();
    assert_eq!(
        titles,
        [
            "Agadez sous tension",
            "Niger : un accord",
            "النيجر: اتفاق جديد"
        ]
    );
    // `.expect(1)` on every mock is checked when the server drops: each read once.
}

#[tokio::test]
async fn bad_sitemaps_are_bounded_logged_and_never_fatal() {
    let server = MockServer::start().await;
    let site = server.uri();
    let now = Utc::now();

    // An index that points to itself.
    let me = index(&[format!("{site}/self.xml")]);
    mount(&server, "/self.xml", me.into_bytes(), "application/xml", 1).await;

    // An index whose sitemaps are 50 MB, a gzip bomb (64 MiB inflated) and one good one.
    let mut huge = urlset("").into_bytes();
    huge.splice(
        huge.len() - 10..huge.len() - 10,
        std::iter::repeat_n(b' ', 50_000_000),
    );
    mount(&server, "/huge.xml", huge, "application/xml", 1).await;
    let bomb = std::fs::read(Path::new("tests/fixtures/sitemaps/bomb.xml.gz")).expect("fixture");
    mount(&server, "/bomb.xml.gz", bomb, "application/x-gzip", 1).await;
    let ok = urlset(&news_url(&format!("{site}/ok/1"), "fr", "Niger", now));
    mount(&server, "/ok.xml", ok.into_bytes(), "application/xml", 1).await;
    let mixed = index(&[
        format!("{site}/huge.xml"),
        format!("{site}/bomb.xml.gz"),
        format!("{site}/ok.xml"),
    ]);
    mount(
        &server,
        "/mixed.xml",
        mixed.into_bytes(),
        "application/xml",
        1,
    )
    .await;

    // 50,000 URLs, oldest first in the file.
    let start = now - Duration::days(60);
    let mut many = String::new();
    for i in 0..50_000 {
        let date = start + Duration::minutes(i);
        many.push_str(&news_url(
            &format!("{site}/n/{i}"),
            "fr",
            &format!("Niger {i}"),
            date,
        ));
    }
    mount(
        &server,
        "/many.xml",
        urlset(&many).into_bytes(),
        "application/xml",
        1,
    )
    .await;

    // Indexes nested deeper than the pipeline follows.
    for level in 0..6 {
        let next = index(&[format!("{site}/deep/{}.xml", level + 1)]);
        let times = if level <= 3 { 1 } else { 0 };
        mount(
            &server,
            &format!("/deep/{level}.xml"),
            next.into_bytes(),
            "application/xml",
            times,
        )
        .await;
    }

    // A page where a sitemap should be.
    mount(
        &server,
        "/not-a-sitemap",
        b"<html><body><p>Hello</p></body></html>".to_vec(),
        "text/html",
        1,
    )
    .await;

    let sources = [
        ("self", "/self.xml"),
        ("mixed", "/mixed.xml"),
        ("many", "/many.xml"),
        ("deep", "/deep/0.xml"),
        ("html", "/not-a-sitemap"),
    ];
    let mut tables: Vec<Table> = sources
        .iter()
        .map(|(name, p)| {
            source(name, &format!("{site}{p}"))
                .set("kind", "sitemap")
                .set("follow", false)
        })
        .collect();
    tables.push(watchlist("niger", &["Niger"]));
    let h = harness(
        config::http()
            .set("max_body_bytes", 20_000_000)
            .set("timeout_secs", 20),
        tables,
    );

    let report = h.scan("self").await;
    assert_eq!((report.error.as_deref(), report.articles), (None, 0));

    let report = h.scan("mixed").await;
    assert_eq!(report.error, None, "two bad sitemaps of three are skipped");
    assert_eq!(report.articles, 1);

    let report = h.scan("many").await;
    assert_eq!(report.error, None);
    assert_eq!(
        report.articles, MAX_ENTRIES,
        "read within the pipeline's limit"
    );
    // The sitemap writes whole seconds.
    let oldest_kept = start + Duration::minutes(50_000 - MAX_ENTRIES as i64) - Duration::seconds(1);
    assert!(
        report
            .matches
            .iter()
            .all(|m| m.published.is_some_and(|p| p >= oldest_kept)),
        "the newest are kept: oldest kept {:?}, {} matches, {:?}",
        report.matches.iter().map(|m| m.published).min(),
        report.matches.len(),
        report
            .matches
            .iter()
            .take(3)
            .map(|m| (&m.title, m.published))
            .collect::<Vec<_>>()
    );

    let report = h.scan("deep").await;
    assert_eq!((report.error.as_deref(), report.articles), (None, 0));

    let report = h.scan("html").await;
    let err = report.error.expect("a page is not a sitemap");
    assert!(err.contains("expected a sitemap"), "{err}");
}
