//! Per-source fetch state and health.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, OptionalExtension};

use super::{parse_ts, ts, Store, StoreError};
use crate::fetch::Validators;

/// How long a source must fail before the digests say so (SPEC "Email").
pub const FAILING_AFTER: Duration = Duration::hours(24);

/// What the pipeline needs to know about a source before fetching it.
#[derive(Debug, Clone, Default)]
pub struct SourceState {
    pub validators: Validators,
    /// False until the first successful fetch recorded articles (the baseline).
    pub baselined: bool,
    pub consecutive_failures: u32,
    /// Back-off: do not fetch before this.
    pub retry_at: Option<DateTime<Utc>>,
}

/// A change of a source's announced health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthChange {
    Failing,
    Recovered,
}

/// A source's health, for `status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceHealth {
    pub name: String,
    pub last_fetch: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    pub failing_since: Option<DateTime<Utc>>,
    pub retry_at: Option<DateTime<Utc>>,
    pub articles_seen: u64,
    pub health: String,
}

impl Store {
    /// The stored state of `name` (defaults for a source never fetched).
    ///
    /// # Errors
    /// Database failure.
    pub fn source_state(&self, name: &str) -> Result<SourceState, StoreError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT etag, last_modified, first_fetch_at, consecutive_failures, retry_at
                 FROM sources WHERE name = ?1",
                [name],
                |r| {
                    Ok(SourceState {
                        validators: Validators {
                            etag: r.get(0)?,
                            last_modified: r.get(1)?,
                        },
                        baselined: r.get::<_, Option<String>>(2)?.is_some(),
                        consecutive_failures: r.get(3)?,
                        retry_at: r.get::<_, Option<String>>(4)?.as_deref().and_then(parse_ts),
                    })
                },
            )
            .optional()?;
        Ok(row.unwrap_or_default())
    }

    /// Records a successful fetch (200 or 304); returns `Recovered` if the source had been
    /// announced as failing.
    ///
    /// # Errors
    /// Database failure.
    pub fn record_fetch_success(
        &self,
        name: &str,
        validators: Option<&Validators>,
        status: u16,
        now: DateTime<Utc>,
    ) -> Result<Option<HealthChange>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        ensure_row(&tx, name)?;
        let health: String =
            tx.query_row("SELECT health FROM sources WHERE name = ?1", [name], |r| {
                r.get(0)
            })?;
        tx.execute(
            "UPDATE sources SET last_fetch_at = ?2, last_success_at = ?2, last_status = ?3,
                 consecutive_failures = 0, failing_since = NULL, retry_at = NULL, health = 'ok'
             WHERE name = ?1",
            params![name, ts(now), status],
        )?;
        if let Some(v) = validators {
            tx.execute(
                "UPDATE sources SET etag = ?2, last_modified = ?3 WHERE name = ?1",
                params![name, v.etag, v.last_modified],
            )?;
        }
        let change = if health == "failing" {
            tx.execute(
                "INSERT INTO health_events (source, kind, at, detail) VALUES (?1, 'recovered', ?2, '')",
                params![name, ts(now)],
            )?;
            Some(HealthChange::Recovered)
        } else {
            None
        };
        tx.commit()?;
        Ok(change)
    }

    /// After a success: the source is not fetched again before `until` (the server's
    /// `Cache-Control: max-age` or the feed's `<ttl>`), whatever its cron says.
    ///
    /// # Errors
    /// Database failure.
    pub fn set_refetch_floor(&self, name: &str, until: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE sources SET retry_at = ?2 WHERE name = ?1 AND (retry_at IS NULL OR retry_at < ?2)",
            params![name, ts(until)],
        )?;
        Ok(())
    }

    /// Records a failed fetch; `retry_at` is the back-off the caller chose. Returns
    /// `Failing` the first time the source has failed for [`FAILING_AFTER`].
    ///
    /// # Errors
    /// Database failure.
    pub fn record_fetch_failure(
        &self,
        name: &str,
        error: &str,
        status: Option<u16>,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<HealthChange>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        ensure_row(&tx, name)?;
        tx.execute(
            "UPDATE sources SET last_fetch_at = ?2, last_status = ?3, last_error = ?4,
                 last_error_at = ?2, failing_since = COALESCE(failing_since, ?2),
                 consecutive_failures = consecutive_failures + 1, retry_at = ?5
             WHERE name = ?1",
            params![name, ts(now), status, error, ts(retry_at)],
        )?;
        let (since, health): (String, String) = tx.query_row(
            "SELECT failing_since, health FROM sources WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let failing_long = parse_ts(&since).is_some_and(|s| now - s >= FAILING_AFTER);
        let change = if health == "ok" && failing_long {
            tx.execute(
                "UPDATE sources SET health = 'failing' WHERE name = ?1",
                [name],
            )?;
            tx.execute(
                "INSERT INTO health_events (source, kind, at, detail) VALUES (?1, 'failing', ?2, ?3)",
                params![name, since, error],
            )?;
            Some(HealthChange::Failing)
        } else {
            None
        };
        tx.commit()?;
        Ok(change)
    }

    /// Every known source's health, by name.
    ///
    /// # Errors
    /// Database failure.
    pub fn source_health(&self) -> Result<Vec<SourceHealth>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT name, last_fetch_at, last_success_at, last_status, last_error, last_error_at,
                    consecutive_failures, failing_since, retry_at, articles_seen, health
             FROM sources ORDER BY name",
        )?;
        let t = |r: &rusqlite::Row<'_>, i| -> rusqlite::Result<Option<DateTime<Utc>>> {
            Ok(r.get::<_, Option<String>>(i)?.as_deref().and_then(parse_ts))
        };
        let rows = stmt.query_map([], |r| {
            Ok(SourceHealth {
                name: r.get(0)?,
                last_fetch: t(r, 1)?,
                last_success: t(r, 2)?,
                last_status: r.get(3)?,
                last_error: r.get(4)?,
                last_error_at: t(r, 5)?,
                consecutive_failures: r.get(6)?,
                failing_since: t(r, 7)?,
                retry_at: t(r, 8)?,
                articles_seen: r.get(9)?,
                health: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

pub(super) fn ensure_row(tx: &rusqlite::Transaction<'_>, name: &str) -> rusqlite::Result<()> {
    tx.execute("INSERT OR IGNORE INTO sources (name) VALUES (?1)", [name])?;
    Ok(())
}
