//! Helpers the test binaries share: `mod support;` in a test, then `support::pg`, …
//!
//! - [`pg`]: a throwaway PostgreSQL cluster started by the test binary.

#![allow(dead_code, reason = "each test binary uses part of the helpers")]

pub mod pg;

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
