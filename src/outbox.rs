//! The outbox: composes a watchlist's digest, records it (Message-ID and exact bytes)
//! before any transport sees it, hands it on, and marks it sent only when accepted.
//! Failed deliveries are retried with back-off (30 s doubling, cap 1 h) until accepted.

use chrono::{DateTime, Utc};
use tracing::{error, info, warn};

use crate::config::Config;
use crate::digest::build::build_digest;
use crate::digest::render::{render_digest, Rendered};
use crate::mail::{compose, new_message_id, Transport};
use crate::schedule::{backoff, DELIVERY_RETRY_BASE, DELIVERY_RETRY_CAP};
use crate::store::{DeliveryFailure, Store, StoreError};

/// A digest as it would be mailed now, not recorded.
#[derive(Debug, Clone)]
pub struct Preview {
    pub watchlist: String,
    pub rendered: Rendered,
    /// The whole message, headers included.
    pub message: Vec<u8>,
    pub items: usize,
}

/// Composes the pending digest of watchlist `idx` without recording anything.
///
/// # Errors
/// Database failure.
pub fn preview_digest(
    config: &Config,
    store: &Store,
    idx: usize,
    now: DateTime<Utc>,
) -> Result<Option<Preview>, StoreError> {
    Ok(prepare(config, store, idx, now)?.map(|(p, _, _, _)| p))
}

type Prepared = (Preview, String, Vec<i64>, Option<i64>);

fn prepare(
    config: &Config,
    store: &Store,
    idx: usize,
    now: DateTime<Utc>,
) -> Result<Option<Prepared>, StoreError> {
    let wl = &config.watchlists[idx];
    let pending = store.pending_matches(&wl.name)?;
    if pending.is_empty() {
        return Ok(None);
    }
    let notes = store.pending_health_notes(&wl.name, |s| wl.watches(s))?;
    let digest = build_digest(&wl.name, &pending, &notes, config.timezone);
    let rendered = render_digest(&digest);
    let message_id = new_message_id(&config.mail.from, now);
    // Without show_recipients the message names no one; each delivery adds its own `To:`.
    let to: &[lettre::message::Mailbox] = if wl.show_recipients { &wl.to } else { &[] };
    let message = match compose(
        &rendered,
        &config.mail.from,
        to,
        &wl.name,
        &message_id,
        now,
        config.mail.list_unsubscribe.as_deref(),
    ) {
        Ok(m) => m,
        Err(e) => {
            error!(watchlist = %wl.name, error = %e, "cannot compose digest");
            return Ok(None);
        }
    };
    let ids = pending.iter().map(|p| p.article_id).collect();
    let seen = notes.iter().map(|n| n.id).max();
    let preview = Preview {
        watchlist: wl.name.clone(),
        rendered,
        message,
        items: pending.len(),
    };
    Ok(Some((preview, message_id, ids, seen)))
}

/// Composes and records the digest of watchlist `idx` if it has pending matches.
/// Returns the number of articles it holds (0: nothing to send).
///
/// # Errors
/// Database failure.
pub fn compose_digest(
    config: &Config,
    store: &Store,
    idx: usize,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let Some((preview, message_id, ids, seen)) = prepare(config, store, idx, now)? else {
        return Ok(0);
    };
    let wl = &config.watchlists[idx];
    let recipients: Vec<String> = wl.to.iter().map(|m| m.email.to_string()).collect();
    match store.record_digest(
        &wl.name,
        &message_id,
        &preview.rendered.subject,
        &preview.message,
        &ids,
        &recipients,
        seen,
        now,
    ) {
        Ok(_) => {
            crate::failpoint::hit(crate::failpoint::AFTER_RECORD_DIGEST);
            info!(watchlist = %wl.name, articles = preview.items, message_id = %message_id, "digest composed");
            Ok(preview.items)
        }
        Err(StoreError::Conflict) => {
            warn!(watchlist = %wl.name, "digest matches were claimed concurrently; skipped");
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

/// Hands every due delivery (every pending one with `all`) to the transport.
///
/// # Errors
/// Database failure.
pub async fn deliver_due(
    config: &Config,
    store: &Store,
    transport: &Transport,
    now: DateTime<Utc>,
    all: bool,
) -> Result<DeliveryReport, StoreError> {
    let due = store.due_deliveries(if all { None } else { Some(now) })?;
    let mut report = DeliveryReport::default();
    for d in due {
        match transport
            .deliver(&config.mail.from, &d.recipient, &d.message, &d.message_id)
            .await
        {
            Ok(reply) => {
                crate::failpoint::hit(crate::failpoint::AFTER_DELIVER);
                store.mark_delivered(d.digest_id, &d.recipient, &reply, Utc::now())?;
                info!(watchlist = %d.watchlist, to = %d.recipient, message_id = %d.message_id, reply = %reply, "digest sent");
                report.sent += 1;
            }
            Err(e) if e.permanent => {
                store.mark_delivery_failed(
                    d.digest_id,
                    &d.recipient,
                    &e.message,
                    DeliveryFailure::Permanent,
                )?;
                error!(watchlist = %d.watchlist, to = %d.recipient, message_id = %d.message_id, error = %e, "recipient refused; not retrying");
                report.refused += 1;
            }
            Err(e) => {
                let wait = backoff(d.attempts + 1, DELIVERY_RETRY_BASE, DELIVERY_RETRY_CAP);
                let at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                store.mark_delivery_failed(
                    d.digest_id,
                    &d.recipient,
                    &e.message,
                    DeliveryFailure::Transient(at),
                )?;
                warn!(watchlist = %d.watchlist, to = %d.recipient, message_id = %d.message_id, error = %e, retry_in_secs = wait.as_secs(), "delivery failed; will retry");
                report.retrying += 1;
            }
        }
    }
    Ok(report)
}
