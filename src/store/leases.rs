//! Several instances on one database: who is running, and the claims (leases) that make
//! each piece of work one instance's: a source being scanned, a watchlist's digest being
//! composed, a delivery being sent, a request slot at a host. A lease lasts until its holder
//! releases it or `lease_until` passes; a dead instance's leases expire and another instance
//! takes the work over. The unique (watchlist, article) key stays the last line of defence:
//! two instances that did the same work still record each pair once.
//!
//! Claims pick rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL (instances racing for the
//! same due rows each take different ones); SQLite's one writer makes them exclusive anyway.

use chrono::{DateTime, Utc};

use super::sql::{params, Row, Tx};
use super::StoreError;
use crate::model::{Delivery, InstanceId, SourceName, WatchlistName};

/// A running (or lately running) instance.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Instance {
    pub id: InstanceId,
    /// The machine it runs on.
    pub host: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat.
    pub seen_at: DateTime<Utc>,
}

/// One lease held, for `status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Held {
    pub holder: InstanceId,
    /// `source`, `digest` or `delivery`.
    pub kind: &'static str,
    /// The source or watchlist name, or `<message-id> to <recipient>`.
    pub what: String,
    pub until: DateTime<Utc>,
}

/// When a configured source should be scanned, as an instance's config and the stored state
/// say at start-up or a reload.
#[derive(Debug, Clone)]
pub struct SourceDue {
    pub name: SourceName,
    /// Its next time now: at once for one never fetched, its back-off for one failing, its
    /// next cron tick otherwise.
    pub at: DateTime<Utc>,
}

pub(super) async fn register_instance(tx: &mut Tx<'_>, me: &Instance) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO instances (id, host, pid, started_at, seen_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
        params![me.id.as_str(), &me.host, me.pid, me.started_at, me.seen_at],
    )
    .await?;
    Ok(())
}

/// The instance's heartbeat: it is alive, and its leases last until `until`.
pub(super) async fn heartbeat(
    tx: &mut Tx<'_>,
    me: &InstanceId,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE instances SET seen_at = $2 WHERE id = $1",
        params![me.as_str(), now],
    )
    .await?;
    // A held source is looked at again when its lease would end (`next_due_at`), so an
    // expired claim is simply due.
    tx.exec(
        "UPDATE sources SET lease_until = $2, next_due_at = $2 WHERE lease_holder = $1",
        params![me.as_str(), until],
    )
    .await?;
    for table in ["watchlist_state", "deliveries"] {
        tx.exec(
            &format!("UPDATE {table} SET lease_until = $2 WHERE lease_holder = $1"),
            params![me.as_str(), until],
        )
        .await?;
    }
    tx.exec(
        "UPDATE host_slots SET until = $2 WHERE holder = $1",
        params![me.as_str(), until],
    )
    .await?;
    Ok(())
}

/// Releases every lease `id` holds and forgets it (it stopped, or it is known dead); the
/// sources it was scanning are due at `now`.
pub(super) async fn forget_instance(
    tx: &mut Tx<'_>,
    id: &InstanceId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE sources SET lease_holder = NULL, lease_until = NULL, next_due_at = $2
         WHERE lease_holder = $1",
        params![id.as_str(), now],
    )
    .await?;
    for table in ["watchlist_state", "deliveries"] {
        tx.exec(
            &format!("UPDATE {table} SET lease_holder = NULL, lease_until = NULL WHERE lease_holder = $1"),
            params![id.as_str()],
        )
        .await?;
    }
    tx.exec(
        "UPDATE host_slots SET holder = NULL, until = NULL WHERE holder = $1",
        params![id.as_str()],
    )
    .await?;
    tx.exec("DELETE FROM instances WHERE id = $1", params![id.as_str()])
        .await?;
    Ok(())
}

fn instance_row(r: &Row) -> Result<Instance, StoreError> {
    Ok(Instance {
        id: InstanceId::from_stored(r.text(0)?),
        host: r.text(1)?,
        pid: r.num(2)?,
        started_at: r.time(3)?,
        seen_at: r.time(4)?,
    })
}

pub(super) async fn instances(tx: &mut Tx<'_>) -> Result<Vec<Instance>, StoreError> {
    tx.rows(
        "SELECT id, host, pid, started_at, seen_at FROM instances ORDER BY started_at, id",
        &[],
    )
    .await?
    .iter()
    .map(instance_row)
    .collect()
}

pub(super) async fn holdings(tx: &mut Tx<'_>) -> Result<Vec<Held>, StoreError> {
    let mut out = Vec::new();
    let sets = [
        (
            "source",
            "SELECT lease_holder, name, lease_until FROM sources WHERE lease_holder IS NOT NULL",
        ),
        (
            "digest",
            "SELECT lease_holder, watchlist, lease_until FROM watchlist_state WHERE lease_holder IS NOT NULL",
        ),
        (
            "delivery",
            "SELECT d.lease_holder, g.message_id || ' to ' || d.recipient, d.lease_until
             FROM deliveries d JOIN digests g ON g.id = d.digest_id WHERE d.lease_holder IS NOT NULL",
        ),
    ];
    for (kind, sql) in sets {
        for r in tx.rows(sql, &[]).await? {
            out.push(Held {
                holder: InstanceId::from_stored(r.text(0)?),
                kind,
                what: r.text(1)?,
                until: r.time(2)?,
            });
        }
    }
    Ok(out)
}

/// Records which sources the config has and when each is due: a new one as given, one
/// being scanned as it is, one whose stored time passed before `stale_before` (nobody ran
/// then) at the given time, else the earlier of the two. Sources no longer configured are
/// never claimed.
pub(super) async fn sync_sources(
    tx: &mut Tx<'_>,
    due: &[SourceDue],
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE sources SET configured = 0 WHERE configured != 0",
        &[],
    )
    .await?;
    for s in due {
        tx.exec(
            "INSERT INTO sources (name, next_due_at) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET configured = 1, next_due_at = CASE
                 WHEN sources.lease_holder IS NOT NULL AND sources.lease_until > $3 THEN sources.next_due_at
                 WHEN sources.next_due_at IS NULL OR sources.next_due_at < $4 THEN excluded.next_due_at
                 WHEN sources.next_due_at < excluded.next_due_at THEN sources.next_due_at
                 ELSE excluded.next_due_at END",
            params![s.name.as_str(), s.at, now, stale_before],
        )
        .await?;
    }
    Ok(())
}

/// Claims up to `limit` configured sources that are due at `now` and not held (or whose
/// holder's lease has passed) until `until`; the earliest due first. A claimed source's
/// `next_due_at` becomes its lease's end: if the claim is not renewed or released by then, the
/// source is due again, for any instance (the index on due times is all the scheduler reads).
pub(super) async fn claim_due_sources(
    tx: &mut Tx<'_>,
    me: &InstanceId,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<SourceName>, StoreError> {
    let sql = format!(
        "UPDATE sources SET lease_holder = $1, lease_until = $3, next_due_at = $3 WHERE name IN (
             SELECT name FROM sources WHERE configured = 1 AND next_due_at <= $2
               AND (lease_holder IS NULL OR lease_until < $2)
             ORDER BY next_due_at LIMIT $4{}) RETURNING name",
        tx.skip_locked()
    );
    tx.rows(&sql, params![me.as_str(), now, until, limit])
        .await?
        .iter()
        .map(|r| Ok(SourceName::from_stored(r.text(0)?)))
        .collect()
}

/// When the scheduler should look again: the earliest time a configured source is due, or
/// a lease on one passes. A held source's `next_due_at` is its lease's end (claims and
/// heartbeats set both), and a claim needs `next_due_at` passed anyway, so the earliest
/// `next_due_at` is the answer: one step down the `sources_due` index, where an expression
/// over both columns read every source, once per scan (issue 21).
pub(super) async fn next_source_wake(tx: &mut Tx<'_>) -> Result<Option<DateTime<Utc>>, StoreError> {
    match tx
        .row(
            "SELECT next_due_at FROM sources WHERE configured = 1 AND next_due_at IS NOT NULL
             ORDER BY next_due_at LIMIT 1",
            &[],
        )
        .await?
    {
        Some(r) => r.opt_time(0),
        None => Ok(None),
    }
}

/// A scan of `name` ended: its lease is released and it is due next at `next_due`. False
/// when the lease was no longer this instance's (it expired and another took the source).
pub(super) async fn finish_source(
    tx: &mut Tx<'_>,
    name: &SourceName,
    me: &InstanceId,
    next_due: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = tx
        .exec(
            "UPDATE sources SET lease_holder = NULL, lease_until = NULL, next_due_at = $3
             WHERE name = $1 AND lease_holder = $2",
            params![name.as_str(), me.as_str(), next_due],
        )
        .await?;
    Ok(n == 1)
}

/// Claims composing `watchlist`'s digest until `until`; for a cron digest, `tick` is the
/// schedule's time, and a tick already claimed is not claimed again. False: another
/// instance holds it, or composed this tick already.
pub(super) async fn claim_digest(
    tx: &mut Tx<'_>,
    watchlist: &WatchlistName,
    me: &InstanceId,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    tick: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    tx.exec(
        "INSERT INTO watchlist_state (watchlist) VALUES ($1) ON CONFLICT (watchlist) DO NOTHING",
        params![watchlist.as_str()],
    )
    .await?;
    let n = tx
        .exec(
            "UPDATE watchlist_state SET lease_holder = $2, lease_until = $4,
                 digest_tick = CASE WHEN $6 = 1 THEN $5 ELSE digest_tick END
             WHERE watchlist = $1 AND (lease_holder IS NULL OR lease_until < $3)
               AND ($6 = 0 OR digest_tick IS NULL OR digest_tick < $5)",
            params![
                watchlist.as_str(),
                me.as_str(),
                now,
                until,
                tick.unwrap_or(now),
                i64::from(tick.is_some())
            ],
        )
        .await?;
    Ok(n == 1)
}

pub(super) async fn release_digest(
    tx: &mut Tx<'_>,
    watchlist: &WatchlistName,
    me: &InstanceId,
) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE watchlist_state SET lease_holder = NULL, lease_until = NULL
         WHERE watchlist = $1 AND lease_holder = $2",
        params![watchlist.as_str(), me.as_str()],
    )
    .await?;
    Ok(())
}

/// Claims sending `d` until `until`. False: another instance is sending it, or it was sent.
pub(super) async fn claim_delivery(
    tx: &mut Tx<'_>,
    d: &Delivery,
    me: &InstanceId,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = tx
        .exec(
            "UPDATE deliveries SET lease_holder = $3, lease_until = $5
             WHERE digest_id = $1 AND recipient = $2 AND state = 'pending'
               AND (lease_holder IS NULL OR lease_until < $4)",
            params![d.digest_id, &d.recipient, me.as_str(), now, until],
        )
        .await?;
    Ok(n == 1)
}
