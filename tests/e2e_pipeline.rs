//! End to end on real parts: the daemon's run loop fetches a fixture site over loopback
//! HTTP, follows feed items to their pages, matches, records in SQLite and mails digests to
//! a real SMTP server on loopback.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use newswatch::config::Config;
use newswatch::daemon::{self, Control};
use newswatch::store::Store;
use support::config::{self, ConfigFile, Table};
use support::feeds::{rss, Item};
use support::mime;
use support::site;
use support::smtp_sink::SmtpSink;
use tokio::sync::mpsc;
use wiremock::MockServer;

const SEED_TITLE: &str = "البنتاغون يؤكد إجراء محادثات لسحب القوات الأمريكية من النيجر";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new("tests/fixtures/site").join(name)).expect("fixture file")
}

/// Serves the fixture site: two feeds (the second reaches the seed story with utm_* junk).
async fn site(extra_items: bool) -> MockServer {
    let server = MockServer::start().await;
    let base = server.uri();
    let now = Utc::now();
    let recent = now - chrono::Duration::hours(1);
    let old = now - chrono::Duration::days(3);
    let published = recent.to_rfc3339_opts(SecondsFormat::Secs, true);
    let page = |name: &str| {
        fixture(name)
            .replace("__PUBLISHED__", &published)
            .replace("__BASE__", &base)
    };
    site::serve(
        &server,
        "/ar/pentagon-niger-withdrawal.html",
        page("seed-article-ar.html"),
        "text/html; charset=utf-8",
    )
    .await;
    site::serve(
        &server,
        "/en/nigeria-security.html",
        page("nigeria-en.html"),
        "text/html; charset=utf-8",
    )
    .await;
    site::serve(
        &server,
        "/en/dakar-port.html",
        page("sidebar-en.html"),
        "text/html; charset=utf-8",
    )
    .await;
    site::serve(
        &server,
        "/en/old-niger-story.html",
        page("nigeria-en.html").replace("Nigeria's president", "Niger withdrawal: an old story"),
        "text/html",
    )
    .await;

    let mut items = vec![
        Item::new(
            "تقرير: محادثات في واشنطن",
            format!("{base}/ar/pentagon-niger-withdrawal.html"),
            "تفاصيل جديدة من البنتاغون",
        )
        .published(recent),
        Item::new(
            "Nigeria's president meets governors",
            format!("{base}/en/nigeria-security.html"),
            "Security talks in Abuja",
        )
        .published(recent),
        Item::new(
            "Senegal opens new port terminal",
            format!("{base}/en/dakar-port.html"),
            "Dakar port doubles capacity",
        )
        .published(recent),
        Item::new(
            "Niger troops withdrawal, three days ago",
            format!("{base}/en/old-niger-story.html"),
            "Niger withdrawal",
        )
        .published(old),
    ];
    if extra_items {
        site::serve(
            &server,
            "/ar/agadez-base.html",
            page("seed-article-ar.html")
                .replace(SEED_TITLE, "انسحاب القوات من قاعدة أغاديز")
                .replace(
                    "فشلت واشنطن",
                    "قالت مصادر إن واشنطن بدأت انسحابها من قاعدة أغاديز بعد أن فشلت",
                ),
            "text/html; charset=utf-8",
        )
        .await;
        items.push(
            Item::new("خبر عاجل", format!("{base}/ar/agadez-base.html"), "تفاصيل").published(now),
        );
    }
    site::serve_feed(&server, rss(&items)).await;
    let utm = format!(
        "{base}/ar/pentagon-niger-withdrawal.html?utm_source=rss&utm_medium=feed&fbclid=abc#top"
    );
    site::serve(
        &server,
        "/other-feed.xml",
        rss(&[Item::new("Pentagon: talks", utm, "from the other feed").published(recent)]),
        "application/rss+xml",
    )
    .await;
    server
}

fn config(dir: &Path, site: &str, smtp: std::net::SocketAddr) -> Config {
    let path = ConfigFile::in_dir(dir)
        .set("timezone", "Africa/Niamey")
        .with(
            Table::new("http")
                .set("per_host_delay_ms", 0)
                .set("timeout_secs", 5),
        )
        .with(config::smtp(smtp).set("from", "newswatch <newswatch@example.org>"))
        .with(
            Table::new("defaults")
                .set("schedule", "*/1 * * * * *")
                .set("backfill", "24h"),
        )
        .with(config::source("wire", &format!("{site}/feed.xml")))
        .with(config::source("other", &format!("{site}/other-feed.xml")))
        .with(
            config::watchlist("niger", &["Niger", "النيجر", "Agadez", "أغاديز"])
                .set(
                    "require",
                    vec!["withdrawal", "withdraw*", "انسحاب", "سحب القوات"],
                )
                .set("exclude", vec!["Niger Delta", "دلتا النيجر"])
                .set("to", vec!["analyst@example.org"])
                .set("digest", "immediate"),
        )
        .write_in(dir);
    Config::load(&path).expect("test config is valid")
}

struct Running {
    tx: mpsc::Sender<Control>,
    handle: tokio::task::JoinHandle<()>,
}

fn start(config: Config) -> Running {
    let store = Arc::new(Store::open(&config.database_path()).unwrap());
    let path = config.path.clone();
    let loader: daemon::Loader = Arc::new(move || Config::load(&path));
    let (tx, rx) = mpsc::channel(4);
    let handle = tokio::spawn(async move {
        daemon::run(Arc::new(config), store, loader, rx)
            .await
            .expect("daemon runs");
    });
    Running { tx, handle }
}

async fn stop(r: Running) {
    r.tx.send(Control::Shutdown).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), r.handle)
        .await
        .expect("daemon stops within 10 s")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_article_is_mailed_once_and_nothing_else() {
    let sink = SmtpSink::start().await;
    let server = site(false).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), sink.addr());

    // First run: the baseline scan reports the recent seed story only.
    let d = start(cfg);
    let got = sink.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 1, "one digest");
    let msg = &got[0];
    assert_eq!(msg.to, vec!["analyst@example.org".to_string()]);
    let subject = mime::header(&msg.data, "Subject").unwrap_or_default();
    assert!(
        subject.contains("niger") && subject.contains("1 new article"),
        "subject {subject:?}"
    );
    assert!(msg.data.contains("Auto-Submitted: auto-generated"));
    let body = mime::decoded_text(&msg.data);
    assert!(
        body.contains(SEED_TITLE),
        "the seed article, titled from its page: {body}"
    );
    assert!(body.contains("/ar/pentagon-niger-withdrawal.html"));
    assert!(!body.contains("utm_source"), "canonical URLs only");
    assert!(!body.contains("Nigeria"), "Niger must not match Nigeria");
    assert!(
        !body.contains("Senegal") && !body.contains("Dakar"),
        "a term only in a sidebar must not match"
    );
    assert!(
        !body.contains("three days ago") && !body.contains("old story"),
        "backfill: old articles are baseline"
    );

    // Several more scans (every second) of both feeds mail nothing more.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop(d).await;
    assert_eq!(
        sink.messages().len(),
        1,
        "no duplicate from the utm_* URL or rescans"
    );

    // A restart mails nothing again.
    let d = start(config(dir.path(), &server.uri(), sink.addr()));
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop(d).await;
    assert_eq!(sink.messages().len(), 1, "a restart never re-reports");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsent_digest_is_sent_after_smtp_comes_back_with_the_same_message_id() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let server = site(true).await;
    sink.fail_next(100, 451);
    let d = start(config(dir.path(), &server.uri(), sink.addr()));
    // Wait until the digest has been recorded and its first delivery failed.
    let store = Store::open(&dir.path().join("state").join("newswatch.db")).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let undelivered = store.undelivered().await.unwrap();
        if undelivered.iter().any(|u| u.attempts >= 1) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the delivery was never attempted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop(d).await;
    // Usually one digest; on a loaded machine a page fetch can time out and its
    // match land in a second digest a scan later. Either way, every queued
    // digest must go out later with the Message-ID it was given.
    let mut queued: Vec<String> = store
        .undelivered()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.message_id)
        .collect();
    queued.sort();
    assert!(sink.messages().is_empty());
    assert_eq!(
        store.queue_counts().await.unwrap().undelivered,
        queued.len() as u64,
        "still queued, nothing dropped"
    );

    // SMTP is back: at start-up the undelivered digests go out at once, same Message-IDs.
    sink.fail_next(0, 451);
    let d = start(config(dir.path(), &server.uri(), sink.addr()));
    let got = sink.wait_for(queued.len(), Duration::from_secs(20)).await;
    stop(d).await;
    let mut sent: Vec<String> = got.iter().map(|m| mime::message_id(&m.data)).collect();
    sent.sort();
    assert_eq!(sent, queued);
    let bodies: String = got.iter().map(|m| mime::decoded_text(&m.data)).collect();
    assert!(bodies.contains("أغاديز"), "{bodies}");
    // The seed story, as an item of its own or with the Agadez copy (whichever of the two
    // is the more complete copy is the item, the other is named on its `Also in:` line).
    assert!(
        bodies.contains("/ar/pentagon-niger-withdrawal.html"),
        "{bodies}"
    );
    let counts = store.queue_counts().await.unwrap();
    assert_eq!((counts.undelivered, counts.refused), (0, 0), "{counts:?}");
    // The Agadez page is a copy of the seed story (its text with one sentence changed): when
    // it is read after the story's digest was composed, it is no news of its own and waits,
    // pending, for the next digest with news (issue 19).
    let pending = store
        .pending_matches(&"niger".parse().unwrap())
        .await
        .unwrap();
    assert!(
        pending.iter().all(|p| p
            .url
            .as_deref()
            .is_some_and(|u| u.ends_with("/ar/agadez-base.html"))),
        "{pending:?}"
    );
}
