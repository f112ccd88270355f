//! Issue 20 through the binary: `import-opml` on real readers' exports (FreshRSS, and
//! Thunderbird's nested folders), `--check` against a config, files that are not OPML;
//! `discover` on a loopback site announcing a feed and sitemaps; `languages` in the config
//! and in `explain`.

mod support;

use std::path::Path;

use newswatch::config::Config;
use support::cli::{self, run};
use support::config::{self, ConfigFile, Table};
use support::site;
use wiremock::MockServer;

/// The printed blocks are ready to paste: a config made of them (plus a watchlist) is valid.
fn pasted(blocks: &str) -> Config {
    let text = format!(
        "{blocks}\n[[watchlist]]\nname = \"w\"\nkeywords = [\"Niger\"]\nto = [\"a@example.org\"]\n"
    );
    Config::from_text(Path::new("pasted.toml"), &text)
        .unwrap_or_else(|e| panic!("pasted blocks are a valid config:\n{e}\n{text}"))
}

#[test]
fn import_opml_freshrss_export() {
    let out = run(&["import-opml", "tests/fixtures/opml/freshrss-export.opml"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let config = pasted(&out.stdout);
    let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "rfi-afrique",
            "jeune-afrique-politique",
            "le-monde-afrique",
            "le-monde-afrique-2",
            "الجزيرة-نت-أخبار",
            "الشرق-الأوسط-شمال-أفريقيا",
            "hespress-com",
            "sahel-intelligence-html-xpath",
            "ancien-flux",
        ]
    );
    let page = config
        .source("sahel-intelligence-html-xpath")
        .expect("page");
    assert_eq!(format!("{:?}", page.kind), "Page");
    assert_eq!(
        config.source("ancien-flux").map(|s| s.url.as_str()),
        Some("http://example.org/old.rss")
    );
    for heading in ["# ── Afrique ──", "# ── عربي ──", "# ── Sans catégorie ──"]
    {
        assert!(out.stdout.contains(heading), "{heading}:\n{}", out.stdout);
    }
    assert!(out.stdout.contains("# الشرق الأوسط & شمال أفريقيا"));
    assert!(out
        .stdout
        .contains("# skipped: Gopher: URL scheme \"gopher\" is not http(s)"));
}

#[test]
fn import_opml_keeps_nested_folders_as_comments() {
    let out = run(&["import-opml", "tests/fixtures/opml/thunderbird-export.opml"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let config = pasted(&out.stdout);
    assert_eq!(config.sources.len(), 5);
    let order: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("# ──") || l.starts_with("name = "))
        .collect();
    assert_eq!(
        order,
        [
            "# ── Afrique / Sahel / Niger ──",
            "name = \"actuniger\"",
            "name = \"studio-kalangou-info\"",
            "# ── Afrique / Sahel ──",
            "name = \"sahelien-com\"",
            "# ── Afrique ──",
            "name = \"bbc-afrique\"",
            "# ── (no category) ──",
            "name = \"reuters-world\"",
        ]
    );
    assert_eq!(
        config
            .source("studio-kalangou-info")
            .map(|s| s.url.as_str()),
        Some("https://www.studiokalangou.org/index.php?format=feed&type=rss")
    );
}

#[test]
fn import_opml_check_reports_clashes_with_the_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = ConfigFile::new()
        .with(config::source(
            "rfi",
            "https://WWW.RFI.FR/fr/afrique/rss?utm_source=x",
        ))
        .with(config::source(
            "bbc-afrique",
            "https://www.bbc.com/afrique/index.xml",
        ))
        .write_in(dir.path());
    let cfg = cfg.to_str().expect("a UTF-8 path");
    let file = "tests/fixtures/opml/freshrss-export.opml";
    let out = run(&["--config", cfg, "import-opml", file, "--check"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("# clash: this feed is already source \"rfi\"\n# RFI - Afrique"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("# name = \"rfi-afrique\""));
    assert!(
        out.stderr.contains("1 of 9 feeds are already sources in")
            && out.stderr.contains("0 renamed"),
        "{}",
        out.stderr
    );
    // Pasted after the config's own sources, the rest is still valid: no duplicate names.
    let existing = std::fs::read_to_string(cfg).expect("config");
    pasted(&format!("{existing}\n{}", out.stdout));

    let out = run(&[
        "--config",
        cfg,
        "import-opml",
        "tests/fixtures/opml/thunderbird-export.opml",
        "--check",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("name = \"bbc-afrique-2\""),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(
        "# clash: source \"bbc-afrique\" exists already (https://www.bbc.com/afrique/index.xml); this one is named \"bbc-afrique-2\""
    ));
    assert!(out.stderr.contains("1 renamed"), "{}", out.stderr);
    pasted(&format!("{existing}\n{}", out.stdout));
}

#[test]
fn import_opml_refuses_what_is_not_opml_with_line_and_column() {
    let out = run(&["import-opml", "tests/fixtures/opml/not-xml.opml"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains(
            "tests/fixtures/opml/not-xml.opml:1:1: expected an OPML document (an <opml> root element), found text"
        ),
        "{}",
        out.stderr
    );
    let out = run(&["import-opml", "tests/fixtures/opml/broken.opml"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("tests/fixtures/opml/broken.opml:5:3: not well-formed XML"),
        "{}",
        out.stderr
    );
    let out = run(&["import-opml", "tests/fixtures/opml/missing.opml"]);
    assert_eq!(out.code, Some(1), "an unreadable file is a runtime failure");
}

#[tokio::test(flavor = "multi_thread")]
async fn discover_prints_the_feeds_and_sitemaps_a_site_announces() {
    let server = MockServer::start().await;
    let site = server.uri();
    site::serve(
        &server,
        "/fr/",
        "<!DOCTYPE html><html lang=\"fr\"><head><title>Sahel Wire</title>\
         <link rel=\"alternate\" type=\"application/rss+xml\" title=\"Sahel Wire — À la une\" href=\"/fr/rss.xml\">\
         <link rel=\"alternate\" type=\"application/atom+xml\" href=\"atom.xml\">\
         <link rel=\"alternate\" hreflang=\"ar\" href=\"/ar/\"></head><body><p>Accueil</p></body></html>",
        "text/html; charset=utf-8",
    )
    .await;
    site::serve(
        &server,
        "/robots.txt",
        format!(
            "User-agent: *\nDisallow: /admin/\n\nSitemap: {site}/news-sitemap.xml\nSitemap: {site}/sitemap_index.xml\n"
        ),
        "text/plain",
    )
    .await;
    site::serve(
        &server,
        "/news-sitemap.xml",
        format!(
            "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">\
             <url><loc>{site}/fr/1</loc><news:news><news:publication><news:name>Sahel Wire</news:name><news:language>fr</news:language></news:publication>\
             <news:publication_date>2024-04-18T10:00:00Z</news:publication_date><news:title>Niger</news:title></news:news></url></urlset>"
        ),
        "application/xml",
    )
    .await;
    site::serve(
        &server,
        "/sitemap_index.xml",
        format!(
            "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
             <sitemap><loc>{site}/s/1.xml</loc></sitemap><sitemap><loc>{site}/s/2.xml</loc></sitemap></sitemapindex>"
        ),
        "application/xml",
    )
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = ConfigFile::new()
        .with(Table::new("http").set("per_host_delay_ms", 0))
        .write_in(dir.path());
    let url = format!("{site}/fr/");
    let out = tokio::task::spawn_blocking(move || cli::newswatch(&cfg, &["discover", &url]))
        .await
        .expect("join");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let config = pasted(&out.stdout);
    let got: Vec<(String, String, String)> = config
        .sources
        .iter()
        .map(|s| {
            (
                s.name.to_string(),
                s.url.as_str().trim_start_matches(&site).to_string(),
                format!("{:?}", s.kind),
            )
        })
        .collect();
    let want = [
        ("sahel-wire-a-la-une", "/fr/rss.xml", "Feed"),
        ("127-0-0-1", "/fr/atom.xml", "Feed"),
        ("127-0-0-1-news", "/news-sitemap.xml", "Sitemap"),
        ("127-0-0-1-sitemap", "/sitemap_index.xml", "Sitemap"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| ((*a).into(), (*b).into(), (*c).into()))
        .collect();
    assert_eq!(got, want, "{}", out.stdout);
    assert!(out
        .stdout
        .contains("# Google News sitemap: 1 URLs, newest 2024-04-18 10:00 UTC"));
    assert!(out.stdout.contains("# sitemap index of 2 sitemaps"));
}

#[test]
fn watchlist_languages_are_validated_with_file_line_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = dir.path().join("newswatch.toml");
    // Positions are asserted: the text as written.
    std::fs::write(
        &cfg,
        "[[watchlist]]\nname = \"sahel\"\nkeywords = [\"Niger\"]\nto = [\"a@example.org\"]\n\
         languages = [\"ar\", \"fr-CA\", \"ara\", \"ar\"]\n\
         [[watchlist]]\nname = \"none\"\nkeywords = [\"Niger\"]\nto = [\"a@example.org\"]\nlanguages = []\n\
         [[source]]\nname = \"s\"\nurl = \"https://example.org/\"\nkind = \"sitemaps\"\n",
    )
    .expect("write config");
    let p = cfg.to_string_lossy().into_owned();
    let out = run(&["--config", &p, "check"]);
    assert_eq!(out.code, Some(2));
    for want in [
        format!("{p}:5:20: watchlist \"sahel\": languages: expected a two-letter ISO 639-1 language code like \"ar\" or \"fr\", found \"fr-CA\" (articles carry no region: write \"fr\")"),
        format!("{p}:5:29: watchlist \"sahel\": languages: expected a two-letter ISO 639-1 language code like \"ar\" or \"fr\", found \"ara\" (did you mean \"ar\"?)"),
        format!("{p}:5:36: watchlist \"sahel\": languages lists \"ar\" twice"),
        format!("{p}:10:13: watchlist \"none\": languages is empty; omit it to keep every language"),
        format!("{p}:14:8: source \"s\": kind: expected \"auto\", \"feed\", \"page\" or \"sitemap\", found \"sitemaps\""),
    ] {
        assert!(out.stderr.contains(&want), "missing {want}\n{}", out.stderr);
    }
}

#[test]
fn explain_says_when_the_language_excluded_the_article() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = ConfigFile::new()
        .with(config::watchlist("fr-only", &["النيجر", "Niger"]).set("languages", vec!["fr"]))
        .write_in(dir.path());
    let ar = dir.path().join("ar.txt");
    std::fs::write(
        &ar,
        "قالت وزارة الدفاع الأمريكية إن المحادثات مع المجلس العسكري في النيجر مستمرة بشأن الانسحاب.",
    )
    .expect("write article");
    let fr = dir.path().join("fr.txt");
    std::fs::write(&fr, "Le retrait des troupes du Niger commence.").expect("write article");
    let p = cfg.to_string_lossy().into_owned();
    let out = run(&[
        "--config",
        &p,
        "explain",
        "--watchlist",
        "fr-only",
        &ar.to_string_lossy(),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains(
            "language: EXCLUDED: the article is in \"ar\"; watchlist \"fr-only\" reads only fr"
        ),
        "{}",
        out.stdout
    );
    let out = run(&[
        "--config",
        &p,
        "explain",
        "--watchlist",
        "fr-only",
        &fr.to_string_lossy(),
    ]);
    assert!(!out.stdout.contains("EXCLUDED"), "{}", out.stdout);
}
