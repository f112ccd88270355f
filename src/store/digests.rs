//! The outbox: pending matches → a recorded digest (Message-ID and exact bytes) →
//! one delivery per recipient, each marked sent only after the transport accepted it.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{parse_ts, ts, Store, StoreError};

/// A match waiting for its watchlist's next digest.
#[derive(Debug, Clone)]
pub struct PendingMatch {
    pub article_id: i64,
    pub url: Option<String>,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    pub source: String,
    pub terms: Vec<String>,
    pub snippet: String,
    pub highlights: Vec<(usize, usize)>,
}

/// A source health change not yet mentioned in a watchlist's digest.
#[derive(Debug, Clone)]
pub struct HealthNote {
    pub id: i64,
    pub source: String,
    /// `failing` or `recovered`.
    pub kind: String,
    pub at: DateTime<Utc>,
    pub detail: String,
}

/// One message to one recipient that has not been accepted yet.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub digest_id: i64,
    pub watchlist: String,
    pub recipient: String,
    pub message_id: String,
    pub message: Vec<u8>,
    pub attempts: u32,
}

/// How a delivery attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryFailure {
    /// Try again at the given time.
    Transient(DateTime<Utc>),
    /// The server refused this recipient for good (5xx); stop trying.
    Permanent,
}

impl Store {
    /// Matches of `watchlist` not yet in any digest, oldest first.
    ///
    /// # Errors
    /// Database failure.
    pub fn pending_matches(&self, watchlist: &str) -> Result<Vec<PendingMatch>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT a.id, a.url, a.title, a.published, a.lang, m.source, m.terms, m.snippet, m.highlights
             FROM matches m JOIN articles a ON a.id = m.article_id
             WHERE m.watchlist = ?1 AND m.state = 'pending'
             ORDER BY m.matched_at, a.id",
        )?;
        let rows = stmt.query_map([watchlist], |r| {
            Ok(PendingMatch {
                article_id: r.get(0)?,
                url: r.get(1)?,
                title: r.get(2)?,
                published: r.get::<_, Option<String>>(3)?.as_deref().and_then(parse_ts),
                lang: r.get(4)?,
                source: r.get(5)?,
                terms: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
                snippet: r.get(7)?,
                highlights: serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Health changes of the given sources that `watchlist`'s digests have not shown yet.
    ///
    /// # Errors
    /// Database failure.
    pub fn pending_health_notes(
        &self,
        watchlist: &str,
        watches: impl Fn(&str) -> bool,
    ) -> Result<Vec<HealthNote>, StoreError> {
        let conn = self.conn();
        let seen: i64 = conn
            .query_row(
                "SELECT health_event_seen FROM watchlist_state WHERE watchlist = ?1",
                [watchlist],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        let mut stmt = conn.prepare(
            "SELECT id, source, kind, at, detail FROM health_events WHERE id > ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([seen], |r| {
            Ok(HealthNote {
                id: r.get(0)?,
                source: r.get(1)?,
                kind: r.get(2)?,
                at: parse_ts(&r.get::<_, String>(3)?).unwrap_or_default(),
                detail: r.get(4)?,
            })
        })?;
        let notes: Vec<HealthNote> = rows.collect::<Result<_, _>>()?;
        Ok(notes.into_iter().filter(|n| watches(&n.source)).collect())
    }

    /// Records a composed digest and claims its matches, in one transaction, before it is
    /// handed to any transport. Returns the digest id.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when any of the matches was claimed meanwhile (nothing is
    /// recorded then); database failure.
    #[allow(clippy::too_many_arguments, reason = "one row's columns")]
    pub fn record_digest(
        &self,
        watchlist: &str,
        message_id: &str,
        subject: &str,
        message: &[u8],
        article_ids: &[i64],
        recipients: &[String],
        health_seen: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO digests (watchlist, message_id, created_at, subject, message, item_count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                watchlist,
                message_id,
                ts(now),
                subject,
                message,
                article_ids.len()
            ],
        )?;
        let id = tx.last_insert_rowid();
        for a in article_ids {
            let n = tx.execute(
                "UPDATE matches SET state = 'digested', digest_id = ?1
                 WHERE watchlist = ?2 AND article_id = ?3 AND state = 'pending'",
                params![id, watchlist, a],
            )?;
            if n != 1 {
                return Err(StoreError::Conflict);
            }
        }
        for r in recipients {
            tx.execute(
                "INSERT INTO deliveries (digest_id, recipient, state, next_attempt_at)
                 VALUES (?1, ?2, 'pending', ?3)",
                params![id, r, ts(now)],
            )?;
        }
        if let Some(seen) = health_seen {
            tx.execute(
                "INSERT INTO watchlist_state (watchlist, health_event_seen) VALUES (?1, ?2)
                 ON CONFLICT (watchlist) DO UPDATE SET health_event_seen = MAX(health_event_seen, ?2)",
                params![watchlist, seen],
            )?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Deliveries not yet accepted whose next attempt is due at `now` (all of them with
    /// `None`, as at start-up).
    ///
    /// # Errors
    /// Database failure.
    pub fn due_deliveries(&self, now: Option<DateTime<Utc>>) -> Result<Vec<Delivery>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT d.digest_id, g.watchlist, d.recipient, g.message_id, g.message, d.attempts
             FROM deliveries d JOIN digests g ON g.id = d.digest_id
             WHERE d.state = 'pending' AND (?1 IS NULL OR d.next_attempt_at <= ?1)
             ORDER BY d.digest_id, d.recipient",
        )?;
        let rows = stmt.query_map([now.map(ts)], |r| {
            Ok(Delivery {
                digest_id: r.get(0)?,
                watchlist: r.get(1)?,
                recipient: r.get(2)?,
                message_id: r.get(3)?,
                message: r.get(4)?,
                attempts: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When the earliest pending delivery is due.
    ///
    /// # Errors
    /// Database failure.
    pub fn next_delivery_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let conn = self.conn();
        let t: Option<String> = conn.query_row(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?;
        Ok(t.as_deref().and_then(parse_ts))
    }

    /// The transport accepted the message for this recipient.
    ///
    /// # Errors
    /// Database failure.
    pub fn mark_delivered(
        &self,
        digest_id: i64,
        recipient: &str,
        reply: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE deliveries SET state = 'sent', sent_at = ?3, reply = ?4, attempts = attempts + 1
             WHERE digest_id = ?1 AND recipient = ?2",
            params![digest_id, recipient, ts(now), reply],
        )?;
        Ok(())
    }

    /// A delivery attempt failed.
    ///
    /// # Errors
    /// Database failure.
    pub fn mark_delivery_failed(
        &self,
        digest_id: i64,
        recipient: &str,
        error: &str,
        failure: DeliveryFailure,
    ) -> Result<(), StoreError> {
        let (state, next) = match failure {
            DeliveryFailure::Transient(at) => ("pending", Some(ts(at))),
            DeliveryFailure::Permanent => ("failed", None),
        };
        self.conn().execute(
            "UPDATE deliveries SET state = ?3, last_error = ?4, attempts = attempts + 1,
                 next_attempt_at = COALESCE(?5, next_attempt_at)
             WHERE digest_id = ?1 AND recipient = ?2",
            params![digest_id, recipient, state, error, next],
        )?;
        Ok(())
    }

    /// `(pending matches, undelivered deliveries, permanently failed deliveries)`.
    ///
    /// # Errors
    /// Database failure.
    pub fn queue_counts(&self) -> Result<(u64, u64, u64), StoreError> {
        let conn = self.conn();
        let pending = conn.query_row(
            "SELECT COUNT(*) FROM matches WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?;
        let undelivered = conn.query_row(
            "SELECT COUNT(*) FROM deliveries WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?;
        let failed = conn.query_row(
            "SELECT COUNT(*) FROM deliveries WHERE state = 'failed'",
            [],
            |r| r.get(0),
        )?;
        Ok((pending, undelivered, failed))
    }

    /// Pending matches per watchlist, for `status`.
    ///
    /// # Errors
    /// Database failure.
    pub fn pending_by_watchlist(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT watchlist, COUNT(*) FROM matches WHERE state = 'pending' GROUP BY watchlist ORDER BY watchlist",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deliveries not accepted yet, with their last error, for `status`.
    ///
    /// # Errors
    /// Database failure.
    #[allow(
        clippy::type_complexity,
        reason = "a row tuple read by two callers; a struct is a larger change"
    )]
    pub fn undelivered(
        &self,
    ) -> Result<Vec<(String, String, String, u32, Option<String>, String)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT g.watchlist, g.message_id, d.recipient, d.attempts, d.last_error, d.state
             FROM deliveries d JOIN digests g ON g.id = d.digest_id
             WHERE d.state != 'sent' ORDER BY d.digest_id, d.recipient",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
