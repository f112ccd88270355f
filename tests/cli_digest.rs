//! `scan`, `digest` and `digest --send` as a user runs them, against a loopback site: the
//! preview shows the message without recording it, `--send` writes it to the file outbox
//! once, and a second `--send` has nothing new.

mod support;

use support::cli::newswatch;
use support::config::{self, ConfigFile};
use support::feeds::{rss, Item};
use support::mime;
use support::site;
use wiremock::MockServer;

async fn site() -> MockServer {
    let server = MockServer::start().await;
    let base = server.uri();
    let feed = rss(&[
        Item::new(
            "US troops begin withdrawal from Niger",
            format!("{base}/a/1.html"),
            "The withdrawal of US troops from Niger began on Monday.",
        ),
        Item::new(
            "انسحاب القوات من النيجر",
            format!("{base}/a/2.html"),
            "بدأ انسحاب القوات الأمريكية من النيجر يوم الاثنين.",
        ),
        Item::new(
            "Nigeria's president meets governors",
            format!("{base}/a/3.html"),
            "Security talks in Abuja.",
        ),
    ]);
    site::serve_feed(&server, feed).await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_then_send_once_one_digest_per_watchlist() {
    let server = site().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = ConfigFile::in_dir(dir.path())
        .with(config::http())
        .with(config::file_outbox())
        .with(config::source("wire", &format!("{}/feed.xml", server.uri())).set("follow", false))
        .with(
            config::watchlist("niger", &["Niger", "النيجر"]).set("to", vec!["analyst@example.org"]),
        )
        .with(config::watchlist("troops", &["withdrawal"]).set("to", vec!["analyst@example.org"]))
        .write_in(dir.path());
    let outbox = dir.path().join("state").join("outbox");

    let scan = newswatch(&cfg, &["scan"]);
    assert_eq!(scan.code, Some(0), "{}", scan.stderr);

    let preview = newswatch(&cfg, &["digest"]);
    assert_eq!(preview.code, Some(0));
    let text = preview.stdout;
    assert!(
        text.contains("Subject: [newswatch] niger: 2 new articles"),
        "{text}"
    );
    assert!(text.contains("Auto-Submitted: auto-generated"), "{text}");
    assert!(text.contains("To: analyst@example.org"), "{text}");
    assert!(
        text.contains("US troops begin withdrawal from Niger"),
        "{text}"
    );
    assert!(text.contains("انسحاب القوات من النيجر"), "{text}");
    assert!(
        !text.contains("Nigeria"),
        "Niger never matches Nigeria: {text}"
    );
    assert!(
        mime::outbox(&outbox).is_empty(),
        "a preview records and sends nothing"
    );

    assert!(
        text.contains("Subject: [newswatch] troops: 1 new article"),
        "a second watchlist with the same recipient has its own digest: {text}"
    );

    let send = newswatch(&cfg, &["digest", "--send"]);
    assert_eq!(send.code, Some(0), "{}", send.stderr);
    let sent = mime::outbox(&outbox);
    assert_eq!(
        sent.len(),
        2,
        "one message per watchlist, though both go to one reader"
    );
    let subjects: Vec<String> = sent
        .iter()
        .filter_map(|(_, m)| mime::header(m, "Subject"))
        .collect();
    assert!(
        subjects.iter().any(|s| s.contains("niger: 2 new")),
        "{subjects:?}"
    );
    assert!(
        subjects.iter().any(|s| s.contains("troops: 1 new")),
        "{subjects:?}"
    );

    let again = newswatch(&cfg, &["digest", "--send"]);
    assert_eq!(again.code, Some(0));
    assert_eq!(mime::outbox(&outbox).len(), 2, "nothing is mailed twice");
    let preview = newswatch(&cfg, &["digest"]);
    assert!(preview.stdout.is_empty(), "nothing pending after sending");
}
