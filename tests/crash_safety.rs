//! Crash safety: the real daemon is SIGKILLed at each step of delivery, restarted, and
//! every match still reaches the inbox; a repeat, if any, carries the same Message-ID.

mod support;

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use newswatch::store::Store;
use support::config::{self, ConfigFile};
use support::daemon::{exits_within, signal, spawn, wait_line};
use support::feeds::{rss, Item};
use support::mime::{self, message_id};
use support::site;
use support::smtp_sink::SmtpSink;
use wiremock::MockServer;

const TITLE: &str = "US troops begin withdrawal from Niger";

async fn site() -> MockServer {
    let server = MockServer::start().await;
    let base = server.uri();
    let feed = rss(&[
        Item::new(
            TITLE,
            format!("{base}/a/1.html"),
            "Niamey - the withdrawal of US troops from Niger began on Monday.",
        ),
        Item::new(
            "Second story: Agadez base handed over",
            format!("{base}/a/2.html"),
            "The Agadez base was handed over after the withdrawal.",
        ),
    ]);
    site::serve_feed(&server, feed).await;
    server
}

fn write_config(dir: &Path, site: &str, smtp: std::net::SocketAddr) -> std::path::PathBuf {
    ConfigFile::in_dir(dir)
        .with(config::http().set("respect_robots", true))
        .with(config::smtp(smtp))
        .with(
            config::source("wire", &format!("{site}/feed.xml"))
                .set("follow", false)
                .set("schedule", "*/1 * * * * *"),
        )
        .with(
            config::watchlist("niger", &["Niger", "Agadez"])
                .set("require", vec!["withdrawal"])
                .set("digest", "immediate"),
        )
        .write_in(dir)
}

/// Waits up to 20 s for a log line containing `needle`.
fn wait_log(rx: &std::sync::mpsc::Receiver<String>, needle: &str) {
    wait_line(rx, needle, Duration::from_secs(20), &mut Vec::new());
}

fn kill9(child: &mut Child) {
    signal(child, "KILL");
    child.wait().unwrap();
}

fn term(child: &mut Child) {
    signal(child, "TERM");
    exits_within(child, Duration::from_secs(10));
}

enum Crash {
    At(&'static str),
    WhileServerHoldsData,
}

async fn crash_then_recover(crash: Crash) {
    let sink = SmtpSink::start().await;
    let server = site().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &server.uri(), sink.addr());

    let (mut first, rx) = match crash {
        Crash::At(fp) => {
            let (c, rx) = spawn(&cfg, Some(fp));
            wait_log(&rx, &format!("failpoint {fp} reached"));
            (c, rx)
        }
        Crash::WhileServerHoldsData => {
            sink.hold_data(true);
            let (c, rx) = spawn(&cfg, None);
            // Open the database only once the daemon has created it.
            wait_log(&rx, "newswatch running");
            let store = Store::open(&dir.path().join("state").join("newswatch.db")).unwrap();
            let t = Instant::now();
            while store.queue_counts().await.unwrap().undelivered == 0 {
                assert!(
                    t.elapsed() < Duration::from_secs(20),
                    "a digest was never recorded"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // Give the transport time to reach DATA; the server never answers it.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            (c, rx)
        }
    };
    kill9(&mut first.0);
    drop(rx);
    sink.hold_data(false);

    let (mut guard, _rx) = spawn(&cfg, None);
    let child = &mut guard.0;
    let got = sink.wait_for(1, Duration::from_secs(20)).await;
    // Let the daemon settle: rescans and retries must not add a different message.
    tokio::time::sleep(Duration::from_secs(2)).await;
    term(child);
    let got = if sink.messages().len() > got.len() {
        sink.messages()
    } else {
        got
    };

    let all: String = got.iter().map(|m| mime::decoded_text(&m.data)).collect();
    assert!(all.contains("Niger"), "the first story reached the inbox");
    assert!(all.contains("Agadez"), "the second story reached the inbox");
    let ids: std::collections::HashSet<String> = got.iter().map(|m| message_id(&m.data)).collect();
    assert_eq!(ids.len(), 1, "every copy has the same Message-ID: {ids:?}");
    let store = Store::open(&dir.path().join("state").join("newswatch.db")).unwrap();
    assert_eq!(
        store.queue_counts().await.unwrap(),
        newswatch::store::QueueCounts::default(),
        "nothing pending or queued"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_the_match_is_recorded() {
    crash_then_recover(Crash::At(newswatch::failpoint::AFTER_RECORD_SCAN)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_the_digest_is_recorded() {
    crash_then_recover(Crash::At(newswatch::failpoint::AFTER_RECORD_DIGEST)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_the_server_holds_the_data_reply() {
    crash_then_recover(Crash::WhileServerHoldsData).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_the_server_accepted_before_marked_sent() {
    crash_then_recover(Crash::At(newswatch::failpoint::AFTER_DELIVER)).await;
}

/// A scan that panics (a bug, never input: input is logged and skipped) loses
/// only that run: the daemon stays up and scans the source again at its next
/// time, so the story still reaches the inbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_that_panics_does_not_stop_its_source() {
    let sink = SmtpSink::start().await;
    let server = site().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &server.uri(), sink.addr());
    let (mut guard, rx) = spawn(&cfg, Some("panic-in-scan"));
    wait_log(&rx, "failpoint panic-in-scan reached");
    let got = sink.wait_for(1, Duration::from_secs(20)).await;
    assert!(
        guard.0.try_wait().unwrap().is_none(),
        "the daemon is still running"
    );
    term(&mut guard.0);
    let all: String = got.iter().map(|m| mime::decoded_text(&m.data)).collect();
    assert!(all.contains("Niger"), "the source was scanned again: {all}");
}
