//! The digest state machine: a watchlist's pending matches → a composed digest, recorded
//! (Message-ID and exact bytes) before any transport sees it → handed to the transport →
//! marked sent only when accepted. Failed deliveries are retried with back-off
//! ([`schedule::delivery_retry`]: 30 s doubling, cap 1 h) until accepted.
//!
//! It takes what a step needs (the watchlist, the mail settings, the time zone), never the
//! whole config; the rows it moves are `store`'s, the bytes `digest` and `mail` make.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tracing::{error, info, warn};

use crate::config::{MailConfig, Watchlist};
use crate::digest::build::build_digest;
use crate::digest::render::{render_digest, Rendered};
use crate::mail::{compose, new_message_id, Headers, Transport};
use crate::model::{DeliveryFailure, DigestRecord, InstanceId, WatchlistName};
use crate::schedule;
use crate::store::{Store, StoreError};

/// What composing one watchlist's digest needs.
#[derive(Debug, Clone, Copy)]
pub struct DigestContext<'a> {
    pub watchlist: &'a Watchlist,
    pub mail: &'a MailConfig,
    /// Times in the digest are shown in this zone.
    pub timezone: Tz,
}

/// A digest as it would be mailed now, not recorded.
#[derive(Debug, Clone)]
pub struct Preview {
    pub watchlist: WatchlistName,
    pub rendered: Rendered,
    /// The whole message, headers included.
    pub message: Vec<u8>,
    pub items: usize,
}

/// Composes the pending digest of a watchlist without recording anything.
///
/// # Errors
/// Database failure.
pub async fn preview_digest(
    store: &Store,
    cx: DigestContext<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Preview>, StoreError> {
    Ok(prepare(store, cx, now).await?.map(|(p, _)| p))
}

/// A composed digest and the row that records it.
async fn prepare(
    store: &Store,
    cx: DigestContext<'_>,
    now: DateTime<Utc>,
) -> Result<Option<(Preview, DigestRecord)>, StoreError> {
    let wl = cx.watchlist;
    let pending = store.pending_matches(&wl.name).await?;
    if pending.is_empty() {
        return Ok(None);
    }
    let events = store
        .pending_health_events(&wl.name, |s| wl.watches(s))
        .await?;
    let digest = build_digest(&wl.name, &pending, &events, cx.timezone);
    let rendered = render_digest(&digest);
    let message_id = new_message_id(&cx.mail.from, now);
    // Without show_recipients the message names no one; each delivery adds its own `To:`.
    let to: &[lettre::message::Mailbox] = if wl.show_recipients { &wl.to } else { &[] };
    let headers = Headers {
        from: &cx.mail.from,
        to,
        list: wl.name.as_str(),
        message_id: &message_id,
        date: now,
        list_unsubscribe: cx.mail.list_unsubscribe.as_deref(),
    };
    let message = match compose(&rendered, &headers) {
        Ok(m) => m,
        Err(e) => {
            error!(watchlist = %wl.name, error = %e, "cannot compose digest");
            return Ok(None);
        }
    };
    let record = DigestRecord {
        watchlist: wl.name.clone(),
        message_id,
        subject: rendered.subject.clone(),
        message: message.clone(),
        article_ids: pending.iter().map(|p| p.article_id).collect(),
        recipients: wl.to.iter().map(|m| m.email.to_string()).collect(),
        health_seen: events.iter().map(|n| n.id).max(),
    };
    let preview = Preview {
        watchlist: wl.name.clone(),
        rendered,
        message,
        items: pending.len(),
    };
    Ok(Some((preview, record)))
}

/// Composes and records the digest of a watchlist if it has pending matches, once claimed
/// (for the cron `tick`, if it is one): an instance that finds the claim taken, or the tick
/// composed already, leaves it. Returns the number of articles it holds (0: nothing sent).
///
/// # Errors
/// Database failure.
pub async fn compose_digest(
    store: &Store,
    cx: DigestContext<'_>,
    now: DateTime<Utc>,
    claimant: Claimant<'_>,
    tick: Option<DateTime<Utc>>,
) -> Result<usize, StoreError> {
    let name = &cx.watchlist.name;
    if !store
        .claim_digest(name, claimant.me, now, claimant.until(now), tick)
        .await?
    {
        return Ok(0);
    }
    let composed = compose_claimed(store, cx, now).await;
    store.release_digest(name, claimant.me).await?;
    composed
}

async fn compose_claimed(
    store: &Store,
    cx: DigestContext<'_>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let Some((preview, record)) = prepare(store, cx, now).await? else {
        return Ok(0);
    };
    match store.record_digest(&record, now).await {
        Ok(_) => {
            crate::failpoint::hit(crate::failpoint::AFTER_RECORD_DIGEST);
            info!(watchlist = %record.watchlist, articles = preview.items, message_id = %record.message_id, "digest composed");
            Ok(preview.items)
        }
        Err(StoreError::Conflict) => {
            warn!(watchlist = %record.watchlist, "digest matches were claimed concurrently; skipped");
            Ok(0)
        }
        Err(e) => Err(e),
    }
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retrying: usize,
    pub refused: usize,
}

/// Which deliveries a round hands to the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Those whose next attempt is due now.
    Now,
    /// Every undelivered one (at start-up, and for `digest --send`).
    All,
}

/// Who claims a delivery while sending it, and for how long: another instance sharing the
/// database (or a `digest --send` while the daemon runs) leaves it alone meanwhile.
#[derive(Debug, Clone, Copy)]
pub struct Claimant<'a> {
    pub me: &'a InstanceId,
    pub lease: std::time::Duration,
}

impl Claimant<'_> {
    fn until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::minutes(1))
    }
}

/// Hands the due deliveries to the transport, each once claimed, and records each outcome.
///
/// # Errors
/// Database failure.
pub async fn deliver_due(
    store: &Store,
    mail: &MailConfig,
    transport: &Transport,
    due: Due,
    claimant: Claimant<'_>,
) -> Result<DeliveryReport, StoreError> {
    let now = Utc::now();
    let deliveries = store
        .due_deliveries(match due {
            Due::All => None,
            Due::Now => Some(now),
        })
        .await?;
    let mut report = DeliveryReport::default();
    for d in deliveries {
        let now = Utc::now();
        if !store
            .claim_delivery(&d, claimant.me, now, claimant.until(now))
            .await?
        {
            // Another instance is sending it (or just sent it).
            continue;
        }
        match transport
            .deliver(&mail.from, &d.recipient, &d.message, &d.message_id)
            .await
        {
            Ok(reply) => {
                crate::failpoint::hit(crate::failpoint::AFTER_DELIVER);
                store.mark_delivered(&d, &reply, Utc::now()).await?;
                info!(watchlist = %d.watchlist, to = %d.recipient, message_id = %d.message_id, reply = %reply, "digest sent");
                report.sent += 1;
            }
            Err(e) if e.permanent => {
                store
                    .mark_delivery_failed(&d, &e.message, DeliveryFailure::Permanent)
                    .await?;
                error!(watchlist = %d.watchlist, to = %d.recipient, message_id = %d.message_id, error = %e, "recipient refused; not retrying");
                report.refused += 1;
            }
            Err(e) => {
                let wait = schedule::delivery_retry(d.attempts + 1);
                let at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                store
                    .mark_delivery_failed(&d, &e.message, DeliveryFailure::Transient(at))
                    .await?;
                warn!(watchlist = %d.watchlist, to = %d.recipient, message_id = %d.message_id, error = %e, retry_in_secs = wait.as_secs(), "delivery failed; will retry");
                report.retrying += 1;
            }
        }
    }
    Ok(report)
}
