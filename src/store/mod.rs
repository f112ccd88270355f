//! State: the only SQL in newswatch. One SQLite database (WAL) in `state_dir`.
//!
//! Each public method is one transaction that encodes a SPEC guarantee: `record_scan`
//! records articles and their matches together and says which matches are new;
//! `record_digest` claims pending matches for one digest with its Message-ID and exact
//! bytes before anything is sent; `mark_delivered` happens only after the transport
//! accepted the message. Policy (backfill cut-offs, back-off delays) is passed in.

mod articles;
mod digests;
pub mod schema;
mod sources;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Connection;

pub use articles::{KnownArticle, RecordedMatch, ScannedArticle, ScannedMatch};
pub use digests::{Delivery, DeliveryFailure, HealthNote, PendingMatch};
pub use sources::{HealthChange, SourceHealth, SourceState};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create state directory {path}: {source}")]
    StateDir {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "database schema version {found} is newer than this newswatch understands ({expected})"
    )]
    SchemaVersion { found: i64, expected: i64 },
    #[error("matches were claimed by another digest meanwhile")]
    Conflict,
}

/// A handle on the database; cheap operations behind one connection.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    ///
    /// # Errors
    /// The directory cannot be created, the file cannot be opened, or its schema is newer.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::StateDir {
                path: dir.display().to_string(),
                source: e,
            })?;
        }
        let conn = Connection::open(path)?;
        // First, so that another process creating the same database waits instead of failing.
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // The outbox must survive a power cut: full sync on every commit.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // One transaction for the whole schema: one sync instead of one per statement
        // (a fresh start was ~140 ms of fsyncs), and never a half-created schema.
        conn.execute_batch(&format!("BEGIN IMMEDIATE;\n{}\nCOMMIT;", schema::SCHEMA))?;
        let found: Option<i64> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get::<_, String>(0),
            )
            .ok()
            .and_then(|v| v.parse().ok());
        match found {
            Some(v) if v > schema::SCHEMA_VERSION => {
                return Err(StoreError::SchemaVersion {
                    found: v,
                    expected: schema::SCHEMA_VERSION,
                })
            }
            Some(_) => {}
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                    [schema::SCHEMA_VERSION.to_string()],
                )?;
            }
        }
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half-applied
        // (rusqlite rolls back on drop), so a poisoned lock is still usable.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A cheap liveness check (for the watchdog).
    ///
    /// # Errors
    /// The database does not answer.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.conn().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }
}

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
