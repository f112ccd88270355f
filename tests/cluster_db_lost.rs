//! Issue 17, bad input: the PostgreSQL server is down at start-up (a clear error, exit 1),
//! or goes away while an instance runs (it claims nothing, logs that once, and resumes when
//! the server is back; nothing recorded is lost and nothing is mailed twice). A cluster of
//! its own, since this test stops it.

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::cli;
use support::config::{self, ConfigFile, Table};
use support::daemon::{exits_within, signal, spawn};
use support::feeds::{rss, Item};
use support::smtp_sink::SmtpSink;
use wiremock::MockServer;

/// The feed: parts 1 to `n` of the story.
fn feed(base: &str, n: usize) -> String {
    let items: Vec<Item> = (1..=n)
        .map(|i| {
            Item::new(
                format!("Niger: withdrawal, part {i}"),
                format!("{base}/a/{i}.html"),
                format!("The withdrawal from Niger, part {i}."),
            )
        })
        .collect();
    rss(&items)
}

fn write_config(
    dir: &Path,
    db: &str,
    site: &str,
    smtp: std::net::SocketAddr,
) -> std::path::PathBuf {
    ConfigFile::in_dir(dir)
        .with(Table::new("database").set("url", db).set("lease_secs", 10))
        .with(config::http())
        .with(config::smtp(smtp))
        .with(
            config::source("wire", &format!("{site}/feed.xml"))
                .set("follow", false)
                .set("schedule", "*/1 * * * * *")
                .set("backfill", "all"),
        )
        .with(config::watchlist("niger", &["Niger"]).set("digest", "immediate"))
        .write_in(dir)
}

async fn wait_mailed(sink: &SmtpSink, n: usize, limit: Duration) {
    let t = Instant::now();
    while sink.articles_mailed(20).len() < n {
        assert!(
            t.elapsed() < limit,
            "only {:?} mailed",
            sink.articles_mailed(20).keys()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_down_at_start_up_is_a_clear_error() {
    let pg = support::pg::Cluster::start();
    let db = pg.fresh_db().await;
    pg.stop();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &db,
        "http://127.0.0.1:9",
        "127.0.0.1:9".parse().unwrap(),
    );
    let out = cli::newswatch(&config, &["run"]);
    let err = &out.stderr;
    assert_eq!(out.code, Some(1), "{err}");
    assert!(err.contains("database"), "{err}");
    assert!(!err.contains("password"), "{err}");
    // `check` says so too, with exit 1.
    let out = cli::newswatch(&config, &["check"]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("cannot connect"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_rides_out_a_lost_database_and_loses_nothing() {
    let pg = support::pg::Cluster::start();
    let db = pg.fresh_db().await;
    let items = Arc::new(Mutex::new(2usize));
    let site = MockServer::start().await;
    let base = site.uri();
    let served = Arc::clone(&items);
    support::site::serve_live_feed(&site, move || feed(&base, *served.lock().unwrap())).await;
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db, &site.uri(), sink.addr());
    let (mut guard, logs) = spawn(&config, None);
    wait_mailed(&sink, 2, Duration::from_secs(30)).await;

    // The server goes away; new articles arrive meanwhile.
    pg.stop();
    *items.lock().unwrap() = 4;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(
        guard.0.try_wait().unwrap().is_none(),
        "the instance keeps running"
    );
    assert_eq!(
        sink.articles_mailed(20).len(),
        2,
        "nothing is mailed without the database"
    );

    // Back: the instance resumes and mails the new articles, each once.
    pg.run_server();
    wait_mailed(&sink, 4, Duration::from_secs(40)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    signal(&guard.0, "TERM");
    assert!(exits_within(&mut guard.0, Duration::from_secs(15)).success());
    let lines: Vec<String> = logs.try_iter().collect();
    let down = lines
        .iter()
        .filter(|l| l.contains("database unreachable"))
        .count();
    assert_eq!(
        down,
        1,
        "said once, not once per source or per try:\n{}",
        lines.join("\n")
    );
    assert!(lines.iter().any(|l| l.contains("database reachable again")));
    for (n, ids) in sink.articles_mailed(20) {
        assert_eq!(ids.len(), 1, "article {n} in {ids:?}");
    }
}
