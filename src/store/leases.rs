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

use super::sql::{params, Row, Tx, Value};
use super::StoreError;
use crate::model::{Delivery, InstanceId, SourceName, SourceState, WatchlistName};

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
    tx.exec(
        "DELETE FROM instance_sources WHERE instance = $1",
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

/// Records which sources `me`'s config has and when each is due: a new one as given, one
/// being scanned as it is, one whose stored time passed before `stale_before` (nobody ran
/// then) at the given time, else the earlier of the two. Instances' configs may differ (a
/// rolling config change): each records its own list, claims only what is on it, and a source
/// is `configured` while any instance has it. A source on no list is never claimed.
pub(super) async fn sync_sources(
    tx: &mut Tx<'_>,
    me: &InstanceId,
    due: &[SourceDue],
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.exec(
        "DELETE FROM instance_sources WHERE instance = $1",
        params![me.as_str()],
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
    record_instance_sources(tx, me, due).await?;
    tx.exec(
        "UPDATE sources SET configured = 0 WHERE configured != 0 AND NOT EXISTS (
             SELECT 1 FROM instance_sources i WHERE i.source = sources.name)",
        &[],
    )
    .await?;
    Ok(())
}

/// Rows of `instance_sources` written per statement.
const LIST_CHUNK: usize = 500;

/// `me`'s list of sources, a few hundred rows per statement.
async fn record_instance_sources(
    tx: &mut Tx<'_>,
    me: &InstanceId,
    due: &[SourceDue],
) -> Result<(), StoreError> {
    for chunk in due.chunks(LIST_CHUNK) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, ${})", i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO instance_sources (instance, source) VALUES {} ON CONFLICT DO NOTHING",
            rows.join(", ")
        );
        let mut values = vec![Value::from(me.as_str())];
        values.extend(chunk.iter().map(|s| Value::from(s.name.as_str())));
        tx.exec(&sql, &values).await?;
    }
    Ok(())
}

/// Claims up to `limit` of `me`'s sources (those on its config's list, see [`sync_sources`])
/// that are due at `now` and not held (or whose holder's lease has passed) until `until`; the
/// earliest due first. A claimed source's
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
             SELECT s.name FROM sources s WHERE s.configured = 1 AND s.next_due_at <= $2
               AND (s.lease_holder IS NULL OR s.lease_until < $2)
               AND EXISTS (SELECT 1 FROM instance_sources i WHERE i.instance = $1 AND i.source = s.name)
             ORDER BY s.next_due_at LIMIT $4{}) RETURNING name",
        tx.skip_locked()
    );
    tx.rows(&sql, params![me.as_str(), now, until, limit])
        .await?
        .iter()
        .map(|r| Ok(SourceName::from_stored(r.text(0)?)))
        .collect()
}

/// When `me`'s scheduler should look again: the earliest time one of its sources is due, or
/// a lease on one passes. A held source's `next_due_at` is its lease's end (claims and
/// heartbeats set both), and a claim needs `next_due_at` passed anyway, so the earliest
/// `next_due_at` is the answer: a walk down the `sources_due` index to the first of `me`'s,
/// where an expression over both columns read every source, once per scan (issue 21).
pub(super) async fn next_source_wake(
    tx: &mut Tx<'_>,
    me: &InstanceId,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    match tx
        .row(
            "SELECT s.next_due_at FROM sources s
             WHERE s.configured = 1 AND s.next_due_at IS NOT NULL
               AND EXISTS (SELECT 1 FROM instance_sources i WHERE i.instance = $1 AND i.source = s.name)
             ORDER BY s.next_due_at LIMIT 1",
            params![me.as_str()],
        )
        .await?
    {
        Some(r) => r.opt_time(0),
        None => Ok(None),
    }
}

/// Gives a source's claim back in the transaction that records its scan: one commit at the
/// end of a scan, not two. The daemon's scans pass one; since the release happens inside the
/// scan's task, the source may be claimed again before the daemon sees the scan end, and the
/// daemon then starts it once it has (`daemon/scans.rs`, `Scans::claimed_again`).
pub struct Release<'a> {
    pub me: &'a InstanceId,
    /// The source's next due time, from its state as the scan left it.
    pub next_due: &'a (dyn Fn(&SourceState) -> DateTime<Utc> + Sync),
}

/// Releases the claim as `release` says, after the scan's record in `tx`; `None` without one.
pub(super) async fn release_after(
    tx: &mut Tx<'_>,
    name: &SourceName,
    release: Option<&Release<'_>>,
) -> Result<Option<bool>, StoreError> {
    let Some(r) = release else {
        return Ok(None);
    };
    let state = super::sources::source_state(tx, name).await?;
    finish_source(tx, name, r.me, (r.next_due)(&state))
        .await
        .map(Some)
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

/// How a claim on composing a digest went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestClaim {
    /// This instance composes it now.
    Claimed,
    /// Another instance holds the claim: try again later (if it dies, its claim expires and
    /// the tick is still to be composed).
    Busy,
    /// That cron tick was composed already.
    Composed,
}

/// Claims composing `watchlist`'s digest until `until`; for a cron digest, `tick` is the
/// schedule's time. The tick is marked composed only when its composer releases the claim
/// having recorded the digest ([`release_digest`]), so an instance that dies half-way leaves
/// the tick to whoever claims it after its lease. `me` may claim again what it holds (a retry
/// after a database error).
pub(super) async fn claim_digest(
    tx: &mut Tx<'_>,
    watchlist: &WatchlistName,
    me: &InstanceId,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    tick: Option<DateTime<Utc>>,
) -> Result<DigestClaim, StoreError> {
    tx.exec(
        "INSERT INTO watchlist_state (watchlist) VALUES ($1) ON CONFLICT (watchlist) DO NOTHING",
        params![watchlist.as_str()],
    )
    .await?;
    let ticked = i64::from(tick.is_some());
    let tick = tick.unwrap_or(now);
    let n = tx
        .exec(
            "UPDATE watchlist_state SET lease_holder = $2, lease_until = $4
             WHERE watchlist = $1 AND (lease_holder IS NULL OR lease_until < $3 OR lease_holder = $2)
               AND ($6 = 0 OR digest_tick IS NULL OR digest_tick < $5)",
            params![watchlist.as_str(), me.as_str(), now, until, tick, ticked],
        )
        .await?;
    if n == 1 {
        return Ok(DigestClaim::Claimed);
    }
    let done = tx
        .one(
            "SELECT COUNT(*) FROM watchlist_state
             WHERE watchlist = $1 AND $3 = 1 AND digest_tick IS NOT NULL AND digest_tick >= $2",
            params![watchlist.as_str(), tick, ticked],
        )
        .await?
        .int(0)?;
    Ok(if done > 0 {
        DigestClaim::Composed
    } else {
        DigestClaim::Busy
    })
}

/// Releases `me`'s claim on composing `watchlist`'s digest; `composed`: the cron tick whose
/// digest is recorded now (never moved backwards).
pub(super) async fn release_digest(
    tx: &mut Tx<'_>,
    watchlist: &WatchlistName,
    me: &InstanceId,
    composed: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE watchlist_state SET lease_holder = NULL, lease_until = NULL,
             digest_tick = CASE WHEN $4 = 1 AND (digest_tick IS NULL OR digest_tick < $3)
                 THEN $3 ELSE digest_tick END
         WHERE watchlist = $1 AND lease_holder = $2",
        params![
            watchlist.as_str(),
            me.as_str(),
            composed,
            i64::from(composed.is_some())
        ],
    )
    .await?;
    Ok(())
}

/// Claims sending `d` until `until`. False: another instance is sending it, or it was sent.
/// `me` may claim again what it holds: a delivery whose outcome could not be recorded (the
/// database went away after the server answered) is sent again, with the same Message-ID,
/// rather than held by a claim the heartbeat keeps renewing.
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
               AND (lease_holder IS NULL OR lease_until < $4 OR lease_holder = $3)",
            params![d.digest_id, &d.recipient, me.as_str(), now, until],
        )
        .await?;
    Ok(n == 1)
}
