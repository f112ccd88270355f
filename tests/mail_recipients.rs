//! Issue 22: recipients do not see each other. One digest to two recipients goes out as one
//! message per recipient, each with its own address alone in `To:` and the same Message-ID,
//! through the file transport and through SMTP; `show_recipients = true` names them all.

mod support;

use std::path::{Path, PathBuf};

use support::cli;
use support::config::{self, ConfigFile, Table};
use support::feeds::{rss, Item};
use support::mime::{self, headers};
use support::site;
use support::smtp_sink::SmtpSink;
use wiremock::MockServer;

const A: &str = "analyst@example.org";
const B: &str = "desk@example.net";

async fn feed() -> MockServer {
    let server = MockServer::start().await;
    let feed = rss(&[Item::new(
        "Niger junta talks continue",
        "http://example.org/a/1",
        "Talks on the withdrawal from Niger go on.",
    )]);
    site::serve_feed(&server, feed).await;
    server
}

/// A config mailing the watchlist "niger" to A and B through `mail` (from
/// `newswatch <newswatch@example.org>`), naming them all if `show`.
fn config(dir: &Path, feed: &str, mail: Table, show: Option<bool>) -> PathBuf {
    let mut watchlist =
        config::watchlist("niger", &["Niger"]).set("to", vec![A.to_owned(), format!("Desk <{B}>")]);
    if let Some(show) = show {
        watchlist = watchlist.set("show_recipients", show);
    }
    ConfigFile::in_dir(dir)
        .with(Table::new("http").set("per_host_delay_ms", 0))
        .with(mail.set("from", "newswatch <newswatch@example.org>"))
        .with(config::backfill_all())
        .with(config::source("wire", &format!("{feed}/feed.xml")).set("follow", false))
        .with(watchlist)
        .write_in(dir)
}

/// `[mail]` to the file outbox.
fn file_outbox() -> Table {
    Table::new("mail").set("transport", "file")
}

/// Runs `newswatch ARGS…` on `config`; it must succeed.
fn newswatch(config: &Path, args: &[&str]) {
    let out = cli::newswatch(config, args);
    assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
}

/// The outbox's messages, keyed by the recipient in their file name.
fn outbox(dir: &Path) -> Vec<(String, String)> {
    mime::outbox(&dir.join("state/outbox"))
}

fn assert_private(messages: &[(String, String)]) {
    assert_eq!(messages.len(), 2, "one message per recipient");
    let ids: Vec<Vec<String>> = messages
        .iter()
        .map(|(_, m)| headers(m, "Message-ID"))
        .collect();
    assert_eq!(ids[0].len(), 1);
    assert_eq!(ids[0], ids[1], "the same Message-ID for all");
    for (rcpt, other) in [(A, B), (B, A)] {
        let (_, m) = messages
            .iter()
            .find(|(n, _)| n.contains(rcpt))
            .unwrap_or_else(|| panic!("a message for {rcpt}"));
        assert_eq!(headers(m, "To"), [rcpt.to_string()], "{m}");
        let head = m.split("\r\n\r\n").next().unwrap();
        assert!(!head.contains(other), "{rcpt} sees {other}: {head}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_recipient_sees_only_their_own_address() {
    let site = feed().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &site.uri(), file_outbox(), None);
    newswatch(&cfg, &["scan"]);
    newswatch(&cfg, &["digest", "--send"]);
    assert_private(&outbox(dir.path()));
}

#[tokio::test(flavor = "multi_thread")]
async fn over_smtp_too() {
    let site = feed().await;
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &site.uri(), config::smtp(sink.addr()), None);
    newswatch(&cfg, &["scan"]);
    newswatch(&cfg, &["digest", "--send"]);
    let got: Vec<(String, String)> = sink
        .messages()
        .into_iter()
        .map(|m| (m.to.join(","), m.data))
        .collect();
    assert_private(&got);
}

#[tokio::test(flavor = "multi_thread")]
async fn show_recipients_names_everyone() {
    let site = feed().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &site.uri(), file_outbox(), Some(true));
    newswatch(&cfg, &["scan"]);
    newswatch(&cfg, &["digest", "--send"]);
    let messages = outbox(dir.path());
    assert_eq!(messages.len(), 2);
    for (_, m) in &messages {
        let to = headers(m, "To");
        assert_eq!(to.len(), 1, "{m}");
        assert!(to[0].contains(A) && to[0].contains(B), "{to:?}");
    }
}
