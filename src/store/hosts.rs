//! Politeness that holds for the whole cluster (issue 17): per host, at most
//! `per_host_concurrency` requests in flight from all instances together (request slots
//! leased like other work), request starts `per_host_delay` apart (each admission reserves
//! the next start time), and a `Retry-After` or a timeout's cool-down seen by one instance
//! blocks the host for all. Rows per host are created on first use.

use chrono::{DateTime, Utc};

use super::sql::{params, Tx};
use super::StoreError;
use crate::model::InstanceId;

/// The politeness rules of one request.
#[derive(Debug, Clone, Copy)]
pub struct HostRules {
    pub concurrency: u32,
    pub delay: chrono::Duration,
}

/// What the cluster says about a request to a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostTurn {
    /// Go: slot `slot` is this request's until released; start at `start_at`.
    Go { slot: u32, start_at: DateTime<Utc> },
    /// Every slot is taken; ask again shortly.
    Busy,
    /// The host is left alone until `until` (a `Retry-After`, or a cool-down).
    Blocked(HostBlock),
}

/// Why a host is being left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostBlock {
    pub until: DateTime<Utc>,
    pub status: Option<u16>,
    /// The server asked for it (`Retry-After`), rather than a cool-down after a timeout.
    pub asked: bool,
    pub reason: String,
}

pub(super) async fn reserve(
    tx: &mut Tx<'_>,
    host: &str,
    me: &InstanceId,
    rules: HostRules,
    now: DateTime<Utc>,
    slot_until: DateTime<Utc>,
) -> Result<HostTurn, StoreError> {
    tx.exec(
        "INSERT INTO hosts (host, next_start_at) VALUES ($1, $2) ON CONFLICT (host) DO NOTHING",
        params![host, now],
    )
    .await?;
    // The host's row, locked: reservations for one host are taken in turn.
    let lock = match tx.backend() {
        super::schema::Backend::Postgres => " FOR UPDATE",
        super::schema::Backend::Sqlite => "",
    };
    let r = tx
        .one(
            &format!(
                "SELECT next_start_at, blocked_until, block_status, block_asked, block_reason
                 FROM hosts WHERE host = $1{lock}"
            ),
            params![host],
        )
        .await?;
    let next_start = r.time(0)?;
    if let Some(until) = r.opt_time(1)?.filter(|u| *u > now) {
        return Ok(HostTurn::Blocked(HostBlock {
            until,
            status: r.opt_num(2)?,
            asked: r.flag(3)?,
            reason: r.opt_text(4)?.unwrap_or_default(),
        }));
    }
    let Some(slot) = claim_slot(tx, host, me, rules.concurrency, now, slot_until).await? else {
        return Ok(HostTurn::Busy);
    };
    let start_at = next_start.max(now);
    tx.exec(
        "UPDATE hosts SET next_start_at = $2 WHERE host = $1",
        params![host, start_at + rules.delay],
    )
    .await?;
    Ok(HostTurn::Go { slot, start_at })
}

/// A free (or abandoned) slot below `concurrency`, taken; slots are made as needed.
async fn claim_slot(
    tx: &mut Tx<'_>,
    host: &str,
    me: &InstanceId,
    concurrency: u32,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<u32>, StoreError> {
    let sql = format!(
        "UPDATE host_slots SET holder = $2, until = $3 WHERE host = $1 AND slot IN (
             SELECT slot FROM host_slots WHERE host = $1 AND slot < $5
               AND (holder IS NULL OR until < $4) ORDER BY slot LIMIT 1{}) RETURNING slot",
        tx.skip_locked()
    );
    for attempt in 0..2 {
        let got = tx
            .row(&sql, params![host, me.as_str(), until, now, concurrency])
            .await?;
        if let Some(r) = got {
            return Ok(Some(r.num(0)?));
        }
        if attempt == 0 {
            for slot in 0..concurrency {
                tx.exec(
                    "INSERT INTO host_slots (host, slot) VALUES ($1, $2) ON CONFLICT (host, slot) DO NOTHING",
                    params![host, slot],
                )
                .await?;
            }
        }
    }
    Ok(None)
}

pub(super) async fn release(
    tx: &mut Tx<'_>,
    host: &str,
    slot: u32,
    me: &InstanceId,
) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE host_slots SET holder = NULL, until = NULL WHERE host = $1 AND slot = $2 AND holder = $3",
        params![host, slot, me.as_str()],
    )
    .await?;
    Ok(())
}

/// Leaves `host` alone until `block.until` (a later block already set stays).
pub(super) async fn block(tx: &mut Tx<'_>, host: &str, b: &HostBlock) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO hosts (host, next_start_at) VALUES ($1, $2) ON CONFLICT (host) DO NOTHING",
        params![host, b.until],
    )
    .await?;
    tx.exec(
        "UPDATE hosts SET blocked_until = $2, block_status = $3, block_asked = $4, block_reason = $5
         WHERE host = $1 AND (blocked_until IS NULL OR blocked_until < $2)",
        params![host, b.until, b.status, b.asked, &b.reason],
    )
    .await?;
    Ok(())
}
