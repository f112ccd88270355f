//! The digest state machine: a watchlist's pending matches → a composed digest (its stories
//! clustered and ranked, split into numbered parts when it would not fit one message), every
//! part recorded (Message-ID and exact bytes) in one transaction before any transport sees
//! it → handed to the transport → marked sent only when accepted. Failed deliveries are retried with back-off
//! ([`schedule::delivery_retry`]: 30 s doubling, cap 1 h) until accepted.
//!
//! It takes what a step needs (the watchlist, the mail settings, the time zone), never the
//! whole config; the rows it moves are `store`'s, the bytes `digest` and `mail` make.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tracing::{error, info, warn};

use crate::config::{MailConfig, Watchlist};
use crate::digest::build::{build_digest, Inputs};
use crate::digest::pack::split;
use crate::digest::render::Rendered;
use crate::mail::{compose, new_message_id, Headers, Transport};
use crate::model::{DeliveryFailure, DigestRecord, InstanceId, SourceName, WatchlistName};
use crate::schedule;
use crate::store::{DigestClaim, Store, StoreError};
use crate::stories::Rule;

/// What composing one watchlist's digest needs.
#[derive(Debug, Clone, Copy)]
pub struct DigestContext<'a> {
    pub watchlist: &'a Watchlist,
    pub mail: &'a MailConfig,
    /// Times in the digest are shown in this zone.
    pub timezone: Tz,
}

/// One message of a digest as it would be mailed now, not recorded.
#[derive(Debug, Clone)]
pub struct Preview {
    pub watchlist: WatchlistName,
    pub rendered: Rendered,
    /// The whole message, headers included.
    pub message: Vec<u8>,
    /// Stories (items) in it.
    pub items: usize,
    /// Matches it claims (the copies of its stories, and copies of stories mailed before).
    pub matches: usize,
}

/// Of a watchlist's recent articles, those of each source read to learn its furniture.
const NEIGHBOURS_PER_SOURCE: usize = 50;

/// Composes the pending digest of a watchlist without recording anything: one preview per
/// message (several when it is sent in numbered parts); empty when nothing would be sent.
///
/// # Errors
/// Database failure.
pub async fn preview_digest(
    store: &Store,
    cx: DigestContext<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<Preview>, StoreError> {
    Ok(prepare(store, cx, now)
        .await?
        .parts
        .into_iter()
        .map(|(p, _)| p)
        .collect())
}

/// A composed digest, message by message, and the rows that record them; or, when there
/// is no news, the late copies that have waited a whole clustering window for some.
#[derive(Default)]
struct Prepared {
    parts: Vec<(Preview, DigestRecord)>,
    /// (the digest that told the story, the late copies' articles).
    expired_late: Vec<(i64, Vec<i64>)>,
}

async fn prepare(
    store: &Store,
    cx: DigestContext<'_>,
    now: DateTime<Utc>,
) -> Result<Prepared, StoreError> {
    let wl = cx.watchlist;
    let pending = store.pending_matches(&wl.name).await?;
    let Some(oldest) = pending.iter().map(|p| p.first_seen).min() else {
        return Ok(Prepared::default());
    };
    let rule = Rule::default();
    let since = oldest - rule.window;
    let mailed = store.mailed_copies(&wl.name, since).await?;
    let mut sources: Vec<SourceName> = pending.iter().map(|p| p.source.clone()).collect();
    sources.sort();
    sources.dedup();
    let neighbours = store
        .source_sketches(&sources, since, NEIGHBOURS_PER_SOURCE)
        .await?;
    let events = store
        .pending_health_events(&wl.name, |s| wl.watches(s))
        .await?;
    let composition = build_digest(&Inputs {
        watchlist: &wl.name,
        pending: &pending,
        mailed: &mailed,
        neighbours: &neighbours,
        events: &events,
        prefer: &wl.prefer,
        rule: &rule,
        timezone: cx.timezone,
        now,
    });
    // Only copies of stories mailed before: they wait for the next digest with news, where
    // they are listed once (SPEC: no match, no mail, and a late copy is not a new story).
    // One that has waited a whole window joins the digest that told its story, unmailed.
    if composition.stories.is_empty() {
        let expired_late = composition
            .earlier
            .iter()
            .filter(|e| e.newest_seen + rule.window <= now)
            .map(|e| (e.told_in, e.article_ids.clone()))
            .collect();
        return Ok(Prepared {
            parts: Vec::new(),
            expired_late,
        });
    }
    let mut out = Vec::new();
    for (k, part) in split(&composition).into_iter().enumerate() {
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
        let message = match compose(&part.rendered, &headers) {
            Ok(m) => m,
            Err(e) => {
                error!(watchlist = %wl.name, error = %e, "cannot compose digest");
                return Ok(Prepared::default());
            }
        };
        let record = DigestRecord {
            watchlist: wl.name.clone(),
            message_id,
            subject: part.rendered.subject.clone(),
            message: message.clone(),
            article_ids: part.article_ids.clone(),
            recipients: wl.to.iter().map(|m| m.email.to_string()).collect(),
            // The health notes are in the first part.
            health_seen: if k == 0 {
                events.iter().map(|n| n.id).max()
            } else {
                None
            },
        };
        let preview = Preview {
            watchlist: wl.name.clone(),
            matches: part.article_ids.len(),
            items: part.stories,
            rendered: part.rendered,
            message,
        };
        out.push((preview, record));
    }
    Ok(Prepared {
        parts: out,
        expired_late: Vec::new(),
    })
}

/// How composing a watchlist's digest went ([`compose_due`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Composed {
    /// Composed and recorded: the matches it claims (0: nothing new, no mail).
    Done(usize),
    /// Another instance is composing it: try again later. If that instance dies, its claim
    /// expires and the digest (and its cron tick) is still to be composed.
    Busy,
    /// That cron tick was composed already, by this instance or another.
    Already,
}

/// Composes and records the digest of a watchlist if it has news, once claimed (for the cron
/// `tick`, if it is one). Every part of the digest is recorded in one transaction; the tick
/// is marked composed only then, so a composer that dies half-way leaves it to another.
///
/// # Errors
/// Database failure (the claim is given back, the tick still to be composed).
pub async fn compose_due(
    store: &Store,
    cx: DigestContext<'_>,
    now: DateTime<Utc>,
    claimant: Claimant<'_>,
    tick: Option<DateTime<Utc>>,
) -> Result<Composed, StoreError> {
    let name = &cx.watchlist.name;
    match store
        .claim_digest(name, claimant.me, now, claimant.until(now), tick)
        .await?
    {
        DigestClaim::Claimed => {}
        DigestClaim::Busy => return Ok(Composed::Busy),
        DigestClaim::Composed => return Ok(Composed::Already),
    }
    match compose_claimed(store, cx, now).await {
        Ok(n) => {
            store.release_digest(name, claimant.me, tick).await?;
            Ok(Composed::Done(n))
        }
        Err(e) => {
            // Not composed: free for whoever tries next (or the claim expires).
            let _ = store.release_digest(name, claimant.me, None).await;
            Err(e)
        }
    }
}

/// [`compose_due`] for callers that do not retry: the matches the digest claims, 0 when
/// there was nothing new or another instance holds (or held) the claim.
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
    Ok(match compose_due(store, cx, now, claimant, tick).await? {
        Composed::Done(n) => n,
        Composed::Busy | Composed::Already => 0,
    })
}

async fn compose_claimed(
    store: &Store,
    cx: DigestContext<'_>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let name = &cx.watchlist.name;
    let prepared = prepare(store, cx, now).await?;
    for (told_in, ids) in &prepared.expired_late {
        let n = store.fold_late_copies(name, *told_in, ids).await?;
        info!(watchlist = %name, copies = n, told_in, "late copies joined the digest that told their story");
    }
    let Some((first, _)) = prepared.parts.first() else {
        return Ok(0);
    };
    let watchlist = first.watchlist.clone();
    let (previews, records): (Vec<Preview>, Vec<DigestRecord>) = prepared.parts.into_iter().unzip();
    match store.record_digests(&records, now).await {
        Ok(_) => {
            crate::failpoint::hit(crate::failpoint::AFTER_RECORD_DIGEST);
            let matches: usize = previews.iter().map(|p| p.matches).sum();
            let stories: usize = previews.iter().map(|p| p.items).sum();
            let ids: Vec<&str> = records.iter().map(|r| r.message_id.as_str()).collect();
            info!(watchlist = %watchlist, articles = matches, stories, parts = records.len(), message_id = %ids.join(" "), "digest composed");
            Ok(matches)
        }
        Err(StoreError::Conflict) => {
            warn!(watchlist = %watchlist, "digest matches were claimed concurrently; skipped");
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
