//! The outbox's rows: pending matches → a recorded digest (Message-ID and exact bytes) →
//! one delivery per recipient, each marked sent only after the transport accepted it. The
//! state machine that drives them is `crate::outbox`.

use chrono::{DateTime, Utc};

use super::sql::{params, Row, Tx};
use super::stories;
use super::StoreError;
use crate::model::{
    Delivery, DeliveryFailure, DeliveryState, DigestRecord, HealthChange, HealthEvent,
    PendingMatch, Prominence, SourceName, Undelivered, WatchlistName,
};

/// What is waiting, for `status` and the service's status line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Matches not yet in any digest.
    pub pending_matches: u64,
    /// Deliveries still to be tried.
    pub undelivered: u64,
    /// Deliveries a server refused for good.
    pub refused: u64,
}

pub(super) async fn pending_matches(
    tx: &mut Tx<'_>,
    watchlist: &WatchlistName,
) -> Result<Vec<PendingMatch>, StoreError> {
    let rows = tx
        .rows(
            "SELECT a.id, a.url, a.title, a.published, a.lang, m.source, m.terms, m.snippet, m.highlights,
                    m.title_highlights, m.in_title, m.first_in_body, m.occurrences, a.first_seen,
                    s.words, s.shingles, s.hashes
             FROM matches m JOIN articles a ON a.id = m.article_id
             LEFT JOIN story_sketches s ON s.article_id = a.id
             WHERE m.watchlist = $1 AND m.state = 'pending'
             ORDER BY m.matched_at, a.id",
            params![watchlist.as_str()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(PendingMatch {
                article_id: r.int(0)?,
                url: r.opt_text(1)?,
                title: r.text(2)?,
                published: r.opt_time(3)?,
                lang: r.opt_text(4)?,
                source: SourceName::from_stored(r.text(5)?),
                terms: r.json(6)?,
                snippet: r.text(7)?,
                highlights: r.json(8)?,
                title_highlights: match r.opt_text(9)? {
                    Some(_) => r.json(9)?,
                    None => Vec::new(),
                },
                prominence: Prominence {
                    in_title: r.opt_int(10)?.is_some_and(|n| n != 0),
                    first_in_body: r.opt_num(11)?,
                    occurrences: r.opt_num(12)?.unwrap_or(0),
                },
                first_seen: r.time(13)?,
                sketch: stories::sketch_at(r, 14)?,
            })
        })
        .collect()
}

pub(super) async fn pending_health_events(
    tx: &mut Tx<'_>,
    watchlist: &WatchlistName,
    watches: impl Fn(&SourceName) -> bool,
) -> Result<Vec<HealthEvent>, StoreError> {
    let seen = tx
        .row(
            "SELECT health_event_seen FROM watchlist_state WHERE watchlist = $1",
            params![watchlist.as_str()],
        )
        .await?
        .map(|r| r.int(0))
        .transpose()?
        .unwrap_or(0);
    let rows = tx
        .rows(
            "SELECT id, source, kind, at, detail FROM health_events WHERE id > $1 ORDER BY id",
            params![seen],
        )
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        let source = SourceName::from_stored(r.text(1)?);
        if !watches(&source) {
            continue;
        }
        let kind = r.text(2)?;
        out.push(HealthEvent {
            id: r.int(0)?,
            source,
            change: HealthChange::from_stored(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("health event kind {kind:?}")))?,
            at: r.time(3)?,
            detail: r.text(4)?,
        });
    }
    Ok(out)
}

pub(super) async fn record_digest(
    tx: &mut Tx<'_>,
    d: &DigestRecord,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = tx
        .one(
            "INSERT INTO digests (watchlist, message_id, created_at, subject, message, item_count)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            params![
                d.watchlist.as_str(),
                &d.message_id,
                now,
                &d.subject,
                d.message.as_slice(),
                d.article_ids.len()
            ],
        )
        .await?
        .int(0)?;
    for a in &d.article_ids {
        let n = tx
            .exec(
                "UPDATE matches SET state = 'digested', digest_id = $1
                 WHERE watchlist = $2 AND article_id = $3 AND state = 'pending'",
                params![id, d.watchlist.as_str(), *a],
            )
            .await?;
        if n != 1 {
            return Err(StoreError::Conflict);
        }
    }
    for r in &d.recipients {
        tx.exec(
            "INSERT INTO deliveries (digest_id, recipient, state, next_attempt_at)
             VALUES ($1, $2, 'pending', $3)",
            params![id, r, now],
        )
        .await?;
    }
    if let Some(seen) = d.health_seen {
        tx.exec(
            "INSERT INTO watchlist_state (watchlist, health_event_seen) VALUES ($1, $2)
             ON CONFLICT (watchlist) DO UPDATE SET health_event_seen = CASE
                 WHEN watchlist_state.health_event_seen > excluded.health_event_seen
                 THEN watchlist_state.health_event_seen ELSE excluded.health_event_seen END",
            params![d.watchlist.as_str(), seen],
        )
        .await?;
    }
    Ok(id)
}

fn delivery_row(r: &Row) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        digest_id: r.int(0)?,
        watchlist: WatchlistName::from_stored(r.text(1)?),
        recipient: r.text(2)?,
        message_id: r.text(3)?,
        message: r.blob(4)?,
        attempts: r.num(5)?,
    })
}

pub(super) async fn due_deliveries(
    tx: &mut Tx<'_>,
    now: Option<DateTime<Utc>>,
) -> Result<Vec<Delivery>, StoreError> {
    let sql = "SELECT d.digest_id, g.watchlist, d.recipient, g.message_id, g.message, d.attempts
         FROM deliveries d JOIN digests g ON g.id = d.digest_id
         WHERE d.state = 'pending' AND ($1 OR d.next_attempt_at <= $2)
         ORDER BY d.digest_id, d.recipient";
    let all = now.is_none();
    let until = now.unwrap_or_default();
    tx.rows(sql, params![all, until])
        .await?
        .iter()
        .map(delivery_row)
        .collect()
}

pub(super) async fn next_delivery_at(tx: &mut Tx<'_>) -> Result<Option<DateTime<Utc>>, StoreError> {
    tx.one(
        "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'pending'",
        &[],
    )
    .await?
    .opt_time(0)
}

pub(super) async fn mark_delivered(
    tx: &mut Tx<'_>,
    d: &Delivery,
    reply: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE deliveries SET state = 'sent', sent_at = $3, reply = $4, attempts = attempts + 1,
             lease_holder = NULL, lease_until = NULL
         WHERE digest_id = $1 AND recipient = $2",
        params![d.digest_id, &d.recipient, now, reply],
    )
    .await?;
    Ok(())
}

pub(super) async fn mark_delivery_failed(
    tx: &mut Tx<'_>,
    d: &Delivery,
    error: &str,
    failure: DeliveryFailure,
) -> Result<(), StoreError> {
    let (state, next) = match failure {
        DeliveryFailure::Transient(at) => ("pending", Some(at)),
        DeliveryFailure::Permanent => ("failed", None),
    };
    tx.exec(
        "UPDATE deliveries SET state = $3, last_error = $4, attempts = attempts + 1,
             next_attempt_at = COALESCE($5, next_attempt_at), lease_holder = NULL, lease_until = NULL
         WHERE digest_id = $1 AND recipient = $2",
        params![d.digest_id, &d.recipient, state, error, next],
    )
    .await?;
    Ok(())
}

pub(super) async fn queue_counts(tx: &mut Tx<'_>) -> Result<QueueCounts, StoreError> {
    let r = tx
        .one(
            "SELECT (SELECT COUNT(*) FROM matches WHERE state = 'pending'),
                    (SELECT COUNT(*) FROM deliveries WHERE state = 'pending'),
                    (SELECT COUNT(*) FROM deliveries WHERE state = 'failed')",
            &[],
        )
        .await?;
    Ok(QueueCounts {
        pending_matches: r.num(0)?,
        undelivered: r.num(1)?,
        refused: r.num(2)?,
    })
}

pub(super) async fn pending_by_watchlist(
    tx: &mut Tx<'_>,
) -> Result<Vec<(WatchlistName, u64)>, StoreError> {
    tx.rows(
        "SELECT watchlist, COUNT(*) FROM matches WHERE state = 'pending'
         GROUP BY watchlist ORDER BY watchlist",
        &[],
    )
    .await?
    .iter()
    .map(|r| Ok((WatchlistName::from_stored(r.text(0)?), r.num(1)?)))
    .collect()
}

pub(super) async fn undelivered(tx: &mut Tx<'_>) -> Result<Vec<Undelivered>, StoreError> {
    let rows = tx
        .rows(
            "SELECT g.watchlist, g.message_id, d.recipient, d.attempts, d.last_error, d.state
             FROM deliveries d JOIN digests g ON g.id = d.digest_id
             WHERE d.state != 'sent' ORDER BY d.digest_id, d.recipient",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Undelivered {
                watchlist: WatchlistName::from_stored(r.text(0)?),
                message_id: r.text(1)?,
                recipient: r.text(2)?,
                attempts: r.num(3)?,
                last_error: r.opt_text(4)?,
                state: match r.text(5)?.as_str() {
                    "failed" => DeliveryState::Failed,
                    _ => DeliveryState::Pending,
                },
            })
        })
        .collect()
}
