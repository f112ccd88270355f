//! Issue 22: back-off means back-off. A source on a daily schedule that failed is tried again
//! when its back-off ends, not at tomorrow's cron tick; `status` never shows a next try in
//! the past.

mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use newswatch::store::{FetchFailure, Store};
use support::cli::newswatch;
use support::config::{self, ConfigFile, Table};
use support::daemon::{exits_within, run_command, signal, Guard};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A daily source whose next cron tick is far away whatever the time of the test (the
/// minute after now, yesterday), so only the back-off can bring it back today.
fn config(dir: &std::path::Path, feed: &str) -> std::path::PathBuf {
    let t = Utc::now() - chrono::Duration::minutes(10);
    ConfigFile::in_dir(dir)
        .with(config::http())
        .with(Table::new("mail").set("transport", "file"))
        .with(
            config::source("daily", &format!("{feed}/feed.xml"))
                .set("schedule", t.format("%M %H * * *").to_string()),
        )
        .with(config::watchlist("niger", &["Niger"]))
        .write_in(dir)
}

fn status(config: &std::path::Path) -> serde_json::Value {
    let out = newswatch(config, &["status", "--json"]);
    assert_eq!(out.code, Some(0));
    let all: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    all["sources"][0].clone()
}

fn next_retry(source: &serde_json::Value) -> chrono::DateTime<Utc> {
    source["next_retry"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .unwrap_or_else(|| panic!("next_retry in {source}"))
        .with_timezone(&Utc)
}

async fn hits(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_daily_source_is_retried_when_its_back_off_ends() {
    let feed = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&feed)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &feed.uri());

    // The state a first failure leaves, with a short back-off so the test need not wait a
    // minute: it ends 2 seconds from now.
    let now = Utc::now();
    {
        let store = Store::open(&dir.path().join("state/newswatch.db")).unwrap();
        let failure = FetchFailure {
            message: "dns error".into(),
            status: None,
            retry_at: now + chrono::Duration::seconds(2),
        };
        store
            .record_fetch_failure(&"daily".parse().unwrap(), &failure, now)
            .await
            .unwrap();
    }
    // Until then, status shows the back-off's end, in the future.
    assert!(next_retry(&status(&cfg)) >= now);

    let mut guard = Guard(
        run_command(&cfg, &dir.path().join("state"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let t = Instant::now();
    while hits(&feed).await == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "not retried when the back-off ended (the daily cron would wait a day)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        Utc::now() >= now + chrono::Duration::seconds(2),
        "not before the back-off ends"
    );

    // It failed again: the next back-off (2 min, +10 % jitter) is in the future, shown by
    // status, and the source is left alone meanwhile.
    let t = Instant::now();
    let source = loop {
        let s = status(&cfg);
        if s["consecutive_failures"] == 2 {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "{s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let wait = next_retry(&source) - Utc::now();
    assert!(
        wait > chrono::Duration::seconds(100) && wait <= chrono::Duration::seconds(133),
        "second back-off 2 min: {source}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(hits(&feed).await, 1, "no retry before the back-off ends");

    signal(&guard.0, "TERM");
    assert_eq!(
        exits_within(&mut guard.0, Duration::from_secs(10)).code(),
        Some(0)
    );
}

#[tokio::test]
async fn status_never_shows_a_next_try_in_the_past() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "http://127.0.0.1:9");
    let now = Utc::now();
    let store = Store::open(&dir.path().join("state/newswatch.db")).unwrap();
    // A back-off that ended an hour ago, while no daemon ran.
    let failure = FetchFailure {
        message: "timed out".into(),
        status: None,
        retry_at: now - chrono::Duration::hours(1),
    };
    store
        .record_fetch_failure(
            &"daily".parse().unwrap(),
            &failure,
            now - chrono::Duration::hours(2),
        )
        .await
        .unwrap();
    let source = status(&cfg);
    assert_eq!(source["consecutive_failures"], 1);
    assert!(next_retry(&source) >= now, "{source}");
}
