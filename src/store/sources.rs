//! Per-source fetch state and health.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::sql::{params, Row, Tx};
use super::StoreError;
use crate::model::{HealthChange, SourceHealth, SourceName, SourceState, Validators};

/// How long a source must fail before the digests say so (SPEC "Email").
pub const FAILING_AFTER: Duration = Duration::hours(24);

/// A failed fetch of a source, as recorded.
#[derive(Debug, Clone)]
pub struct FetchFailure {
    /// Why, as logged.
    pub message: String,
    /// The HTTP status, when one was received.
    pub status: Option<u16>,
    /// Do not fetch again before this (the back-off the caller chose).
    pub retry_at: DateTime<Utc>,
}

/// A successful fetch of a source (200 or 304), as recorded with what the scan read.
#[derive(Debug, Clone)]
pub struct FetchSuccess {
    /// Validators for the next conditional request.
    pub validators: Validators,
    /// 2xx, or 304.
    pub status: u16,
    /// Not fetched again before this (the server's `max-age` or the feed's `<ttl>`).
    pub refetch_floor: Option<DateTime<Utc>>,
}

/// What [`state_row`] reads, after the source's name.
const STATE_COLUMNS: &str = "etag, last_modified, first_fetch_at, consecutive_failures, retry_at";

pub(super) async fn source_state(
    tx: &mut Tx<'_>,
    name: &SourceName,
) -> Result<SourceState, StoreError> {
    let row = tx
        .row(
            &format!("SELECT name, {STATE_COLUMNS} FROM sources WHERE name = $1"),
            params![name.as_str()],
        )
        .await?;
    row.map_or_else(|| Ok(SourceState::default()), |r| state_row(&r))
}

/// The state of every source with a row, in one statement.
pub(super) async fn source_states(
    tx: &mut Tx<'_>,
) -> Result<HashMap<SourceName, SourceState>, StoreError> {
    tx.rows(&format!("SELECT name, {STATE_COLUMNS} FROM sources"), &[])
        .await?
        .iter()
        .map(|r| Ok((SourceName::from_stored(r.text(0)?), state_row(r)?)))
        .collect()
}

fn state_row(r: &Row) -> Result<SourceState, StoreError> {
    Ok(SourceState {
        validators: Validators {
            etag: r.opt_text(1)?,
            last_modified: r.opt_text(2)?,
        },
        baselined: r.opt_text(3)?.is_some(),
        consecutive_failures: r.num(4)?,
        retry_at: r.opt_time(5)?,
    })
}

pub(super) async fn record_fetch_success(
    tx: &mut Tx<'_>,
    name: &SourceName,
    validators: Option<&Validators>,
    status: u16,
    now: DateTime<Utc>,
) -> Result<Option<HealthChange>, StoreError> {
    ensure_row(tx, name).await?;
    let health = tx
        .one(
            "SELECT health FROM sources WHERE name = $1",
            params![name.as_str()],
        )
        .await?
        .text(0)?;
    tx.exec(
        "UPDATE sources SET last_fetch_at = $2, last_success_at = $2, last_status = $3,
             consecutive_failures = 0, failing_since = NULL, retry_at = NULL, health = 'ok'
         WHERE name = $1",
        params![name.as_str(), now, status],
    )
    .await?;
    if let Some(v) = validators {
        tx.exec(
            "UPDATE sources SET etag = $2, last_modified = $3 WHERE name = $1",
            params![name.as_str(), v.etag.as_ref(), v.last_modified.as_ref()],
        )
        .await?;
    }
    recovered_if(tx, name, &health, now).await
}

/// A successful read of `name` that found `inserted` new articles, in one write of its row
/// (what [`record_fetch_success`], [`set_refetch_floor`] and the scan's own count would
/// write in five statements; a first read makes the row): its health back to ok (an event
/// when it was failing), its validators, its refetch floor.
pub(super) async fn record_read_success(
    tx: &mut Tx<'_>,
    name: &SourceName,
    inserted: u64,
    fetch: &FetchSuccess,
    now: DateTime<Utc>,
) -> Result<Option<HealthChange>, StoreError> {
    let health = tx
        .row(
            "SELECT health FROM sources WHERE name = $1",
            params![name.as_str()],
        )
        .await?
        .map(|row| row.text(0))
        .transpose()?
        .unwrap_or_default();
    let v = &fetch.validators;
    tx.exec(
        "INSERT INTO sources (name, first_fetch_at, articles_seen, last_fetch_at, last_success_at,
             last_status, etag, last_modified, retry_at)
         VALUES ($1, $2, $3, $2, $2, $4, $5, $6, $7)
         ON CONFLICT (name) DO UPDATE SET
             first_fetch_at = COALESCE(sources.first_fetch_at, $2),
             articles_seen = sources.articles_seen + $3, last_fetch_at = $2, last_success_at = $2,
             last_status = $4, consecutive_failures = 0, failing_since = NULL, health = 'ok',
             etag = $5, last_modified = $6, retry_at = $7",
        params![
            name.as_str(),
            now,
            i64::try_from(inserted).unwrap_or(i64::MAX),
            fetch.status,
            v.etag.as_ref(),
            v.last_modified.as_ref(),
            fetch.refetch_floor
        ],
    )
    .await?;
    recovered_if(tx, name, &health, now).await
}

/// The `recovered` event, when the source's health before this success (`health`) was
/// failing.
async fn recovered_if(
    tx: &mut Tx<'_>,
    name: &SourceName,
    health: &str,
    now: DateTime<Utc>,
) -> Result<Option<HealthChange>, StoreError> {
    if health != HealthChange::Failing.as_str() {
        return Ok(None);
    }
    tx.exec(
        "INSERT INTO health_events (source, kind, at, detail) VALUES ($1, 'recovered', $2, '')",
        params![name.as_str(), now],
    )
    .await?;
    Ok(Some(HealthChange::Recovered))
}

pub(super) async fn set_refetch_floor(
    tx: &mut Tx<'_>,
    name: &SourceName,
    until: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE sources SET retry_at = $2 WHERE name = $1 AND (retry_at IS NULL OR retry_at < $2)",
        params![name.as_str(), until],
    )
    .await?;
    Ok(())
}

pub(super) async fn record_fetch_failure(
    tx: &mut Tx<'_>,
    name: &SourceName,
    failure: &FetchFailure,
    now: DateTime<Utc>,
) -> Result<Option<HealthChange>, StoreError> {
    ensure_row(tx, name).await?;
    tx.exec(
        "UPDATE sources SET last_fetch_at = $2, last_status = $3, last_error = $4,
             last_error_at = $2, failing_since = COALESCE(failing_since, $2),
             consecutive_failures = consecutive_failures + 1, retry_at = $5
         WHERE name = $1",
        params![
            name.as_str(),
            now,
            failure.status,
            &failure.message,
            failure.retry_at
        ],
    )
    .await?;
    let r = tx
        .one(
            "SELECT failing_since, health FROM sources WHERE name = $1",
            params![name.as_str()],
        )
        .await?;
    let since = r.time(0)?;
    let health = r.text(1)?;
    if health != "ok" || now - since < FAILING_AFTER {
        return Ok(None);
    }
    tx.exec(
        "UPDATE sources SET health = 'failing' WHERE name = $1",
        params![name.as_str()],
    )
    .await?;
    tx.exec(
        "INSERT INTO health_events (source, kind, at, detail) VALUES ($1, 'failing', $2, $3)",
        params![name.as_str(), since, &failure.message],
    )
    .await?;
    Ok(Some(HealthChange::Failing))
}

pub(super) async fn source_health(tx: &mut Tx<'_>) -> Result<Vec<SourceHealth>, StoreError> {
    let rows = tx
        .rows(
            "SELECT name, last_fetch_at, last_success_at, last_status, last_error, last_error_at,
                    consecutive_failures, failing_since, retry_at, articles_seen, health
             FROM sources ORDER BY name",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(SourceHealth {
                name: SourceName::from_stored(r.text(0)?),
                last_fetch: r.opt_time(1)?,
                last_success: r.opt_time(2)?,
                last_status: r.opt_num(3)?,
                last_error: r.opt_text(4)?,
                last_error_at: r.opt_time(5)?,
                consecutive_failures: r.num(6)?,
                failing_since: r.opt_time(7)?,
                retry_at: r.opt_time(8)?,
                articles_seen: r.num(9)?,
                failing: r.text(10)? == HealthChange::Failing.as_str(),
            })
        })
        .collect()
}

pub(super) async fn ensure_row(tx: &mut Tx<'_>, name: &SourceName) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO sources (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
        params![name.as_str()],
    )
    .await?;
    Ok(())
}
