//! Helpers the test binaries share: `mod support;` in a test (a bench:
//! `#[path = "../tests/support/mod.rs"] mod support;`), then `use support::…`.
//!
//! - [`cli`]: the binary run to the end, in a clean environment (exit code, stdout, stderr).
//! - [`config`]: a config file's text, table by table, every value TOML-escaped.
//! - [`daemon`]: the binary as a running daemon: signals, log lines, bounded exits.
//! - [`feeds`]: RSS documents of items.
//! - [`hostile`]: a raw-TCP HTTP server that misbehaves on purpose, one loopback host each.
//! - [`many_hosts`]: many tiny keep-alive news sites on loopback addresses of their own, with
//!   a log of when each host was asked for what.
//! - [`listing`]: scores listing-page link discovery on labelled pages.
//! - [`mime`]: a message's header fields and decoded parts; a file outbox's messages.
//! - [`pg`]: a throwaway PostgreSQL cluster started by the test binary.
//! - [`pipeline`]: a config, store and fetcher scanning sources through the real pipeline.
//! - [`site`]: wiremock sites serving documents and feeds.
//! - [`smtp_sink`]: a plain SMTP server that keeps what it accepts and fails on demand.
//! - [`smtp_tls`]: an SMTP server with STARTTLS or implicit TLS, certificates from a test CA.

#![allow(dead_code, reason = "each test binary uses part of the helpers")]

pub mod cli;
pub mod config;
pub mod daemon;
pub mod feeds;
pub mod hostile;
pub mod listing;
pub mod many_hosts;
pub mod mime;
pub mod pg;
pub mod pipeline;
pub mod site;
pub mod smtp_sink;
pub mod smtp_tls;

use newswatch::store::Store;

/// A fresh, empty database of each backend (SQLite in a temp dir; PostgreSQL in the cluster
/// the test binary started), with what keeps it alive: every store test runs on both.
pub async fn backends() -> Vec<(Option<tempfile::TempDir>, Store)> {
    let dir = tempfile::tempdir().expect("a temp dir");
    let sqlite = Store::open(&dir.path().join("state").join("newswatch.db")).expect("sqlite");
    let url = pg::cluster().fresh_db().await;
    let postgres = Store::open_postgres(&url, None).await.expect("postgres");
    vec![(Some(dir), sqlite), (None, postgres)]
}

/// A validated name (`SourceName`, `WatchlistName`) from a string the test knows is valid.
pub fn name<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect("a valid name")
}

/// Mails every pending match of `watchlist` in one digest recorded at `at` (`message` as its
/// bytes, one recipient), as the outbox would: the matches are no longer pending.
pub async fn digest_pending(
    store: &newswatch::store::Store,
    watchlist: &newswatch::model::WatchlistName,
    message_id: &str,
    message: Vec<u8>,
    at: chrono::DateTime<chrono::Utc>,
) {
    let article_ids = store
        .pending_matches(watchlist)
        .await
        .expect("pending matches")
        .iter()
        .map(|p| p.article_id)
        .collect();
    let digest = newswatch::model::DigestRecord {
        watchlist: watchlist.clone(),
        message_id: message_id.into(),
        subject: "s".into(),
        message,
        article_ids,
        recipients: vec!["a@example.org".into()],
        health_seen: None,
    };
    store
        .record_digest(&digest, at)
        .await
        .expect("digest recorded");
}
