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
use rusqlite::{Connection, OptionalExtension};

pub use articles::{
    KnownArticle, OwedText, RecordedArticle, ScannedArticle, ScannedMatch, TextDebt,
};
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
    #[error("database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("{path} is not a newswatch database (it has tables, but no newswatch schema version)")]
    NotNewswatch { path: String },
    #[error("matches were claimed by another digest meanwhile")]
    Conflict,
}

/// A handle on the database; cheap operations behind one connection.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// The directory cannot be created; the file cannot be opened, is not a newswatch
    /// database, or is damaged; its schema is newer than this build (nothing is written
    /// then); a migration fails (it is rolled back whole).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::StateDir {
                path: dir.display().to_string(),
                source: e,
            })?;
        }
        let at = |source: rusqlite::Error| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let mut conn = Connection::open(path).map_err(at)?;
        // First, so that another process creating the same database waits instead of failing.
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(at)?;
        // Read before writing anything: a newer or foreign database is left untouched.
        let found = schema_version(&conn).map_err(at)?;
        match found {
            Found::Foreign => {
                return Err(StoreError::NotNewswatch {
                    path: path.display().to_string(),
                })
            }
            Found::Version(v) if v > schema::SCHEMA_VERSION => {
                return Err(StoreError::SchemaVersion {
                    found: v,
                    expected: schema::SCHEMA_VERSION,
                })
            }
            Found::Empty | Found::Version(_) => {}
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(at)?;
        // The outbox must survive a power cut: full sync on every commit.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(at)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(at)?;
        let from = match found {
            Found::Version(v) => v,
            _ => 0,
        };
        migrate(&mut conn, from).map_err(at)?;
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

/// What an opened file holds, before any migration.
enum Found {
    /// No tables at all: a new database.
    Empty,
    /// A newswatch database at this schema version.
    Version(i64),
    /// Tables, but not newswatch's.
    Foreign,
}

fn schema_version(conn: &Connection) -> rusqlite::Result<Found> {
    let tables: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?;
    if tables == 0 {
        return Ok(Found::Empty);
    }
    let has_meta: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta')",
        [],
        |r| r.get(0),
    )?;
    if !has_meta {
        return Ok(Found::Foreign);
    }
    let v: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    // Release 0.1 created its tables and the version row in two steps: a database with
    // the tables but no version row is a version 1 database.
    Ok(match v.map(|v| v.parse::<i64>()) {
        Some(Ok(v)) => Found::Version(v),
        Some(Err(_)) => Found::Foreign,
        None => Found::Version(1),
    })
}

/// Applies every migration after `from`, each in its own transaction with its version.
fn migrate(conn: &mut Connection, from: i64) -> rusqlite::Result<()> {
    for m in schema::MIGRATIONS.iter().filter(|m| m.version > from) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(m.sql)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [m.version.to_string()],
        )?;
        tx.commit()?;
        if from > 0 {
            tracing::info!(version = m.version, migration = m.name, "database migrated");
        }
    }
    Ok(())
}

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
