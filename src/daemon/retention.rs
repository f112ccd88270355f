//! The retention task: now and then, prunes what `[retention]` says is old, in small
//! batches with a pause between them, so scans and deliveries are never held up for long;
//! then gives the freed space back to the file system.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tracing::{debug, error, info};

use crate::config::Retention;
use crate::store::{Cutoffs, Pruned, Store};

/// How often the task looks for something to prune (and once shortly after start-up).
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// The first pass, after start-up's scans have begun.
const FIRST_PRUNE_AFTER: Duration = Duration::from_secs(60);
/// Rows of each kind one batch (one short write transaction) prunes at most. Reducing an
/// article to its keys inserts two keys at random places of a large table (a page written
/// each), so a batch of 500 held the write lock 60–120 ms on a year's database; 200 keeps it
/// near 40 ms.
pub const PRUNE_BATCH: usize = 200;
/// Keys one step of the walk over old articles' keys reads (one read; then, if some are past
/// `keep_identity`, one short write deleting those of them).
pub const PRUNE_KEYS_STEP: usize = 20_000;
/// The pause between two batches, for the scans' transactions.
const BETWEEN_BATCHES: Duration = Duration::from_millis(50);

/// How long an article's story sketch is kept: twice the clustering window, so a digest
/// delayed a few days (a mail server down) still recognises its copies.
pub const KEEP_SKETCH: Duration =
    Duration::from_secs(2 * crate::stories::DEFAULT_WINDOW_HOURS.unsigned_abs() * 3600);

/// The cut-offs `retention` sets at `now`.
#[must_use]
pub fn cutoffs(retention: Retention, now: DateTime<Utc>) -> Cutoffs {
    let back =
        |d: Duration| now - chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX / 2);
    Cutoffs {
        sketch_before: back(KEEP_SKETCH.min(retention.keep_text)),
        text_before: back(retention.keep_text),
        identity_before: back(retention.keep_identity),
    }
}

/// Prunes everything past the cut-offs at `now`, batch after batch, and compacts the file.
/// Returns the total pruned.
///
/// # Errors
/// The database fails (what earlier batches pruned stays pruned).
pub async fn prune_all(
    store: &Store,
    retention: Retention,
    now: DateTime<Utc>,
    pause: Duration,
) -> Result<Pruned, crate::store::StoreError> {
    let cut = cutoffs(retention, now);
    let mut total = Pruned::default();
    loop {
        let p = store.prune_batch(cut, PRUNE_BATCH).await?;
        if p.is_empty() {
            break;
        }
        total.sketches += p.sketches;
        total.texts += p.texts;
        total.bodies += p.bodies;
        total.articles += p.articles;
        total.digests += p.digests;
        total.events += p.events;
        tokio::time::sleep(pause).await;
    }
    total.keys = store.prune_keys(cut, PRUNE_KEYS_STEP, pause).await?;
    let pages = store.compact().await?;
    if total.is_empty() {
        debug!("retention: nothing to prune");
    } else {
        info!(
            sketches = total.sketches,
            texts = total.texts,
            bodies = total.bodies,
            articles = total.articles,
            digests = total.digests,
            events = total.events,
            keys = total.keys,
            pages_freed = pages,
            "retention pruned old state"
        );
    }
    Ok(total)
}

/// Runs [`prune_all`] every [`PRUNE_EVERY`] with the latest `[retention]` settings until
/// aborted (a batch cut short rolls back).
pub async fn run(store: Arc<Store>, settings: watch::Receiver<Retention>) {
    tokio::time::sleep(FIRST_PRUNE_AFTER).await;
    loop {
        let retention = *settings.borrow();
        if let Err(e) = prune_all(&store, retention, Utc::now(), BETWEEN_BATCHES).await {
            error!(error = %e, "retention could not prune; trying again later");
        }
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}
