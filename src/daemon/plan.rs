//! When each source and each digest fires next.
//!
//! Sources' times live in the database, where every instance sharing it sees them: each
//! start and reload records the configured sources and when each is due ([`sync_sources`]),
//! and each scan's end records when its source is due next ([`next_source_due`]); instances
//! claim what is due. Cron digests' ticks are computed here, in memory; the database says
//! which instance composes a tick.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::config::{Config, DigestSchedule, Source};
use crate::model::{InstanceId, SourceState, WatchlistName};
use crate::schedule::CronSpec;
use crate::store::{SourceDue, Store, StoreError};

/// A stored due time older than this at start-up was missed while no instance ran: the
/// source waits for its next tick instead of every source being fetched at once.
pub const STALE_AFTER: chrono::Duration = chrono::Duration::minutes(1);

/// Records every configured source as `me`'s and when it is due at `now`.
///
/// # Errors
/// The database fails.
pub(super) async fn sync_sources(
    cfg: &Config,
    store: &Store,
    me: &InstanceId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut due = Vec::with_capacity(cfg.sources.len());
    for s in &cfg.sources {
        let state = store.source_state(&s.name).await?;
        // A source never fetched is scanned at once, so a new user sees the baseline
        // taken right away instead of at the first cron tick.
        let at = if state.baselined || state.consecutive_failures > 0 {
            after_backoff(cfg, s, &state, now)
        } else {
            now
        };
        due.push(SourceDue {
            name: s.name.clone(),
            at,
        });
    }
    store.sync_sources(me, &due, now, now - STALE_AFTER).await
}

/// When `s` is due after a scan that ended at `now`.
pub(super) async fn next_source_due(
    cfg: &Config,
    store: &Store,
    s: &Source,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let state = store.source_state(&s.name).await.unwrap_or_default();
    after_backoff(cfg, s, &state, now)
}

/// When a source runs next. A failing source runs when its back-off ends (SPEC: 1 min
/// doubling, cap 6 h, never before a `Retry-After`), whatever its cron says: a daily source
/// that failed once must not wait a day (issue 22). A healthy one runs at its next cron tick,
/// but not before a refetch floor (`retry_at` after a success: the server's max-age or the
/// feed's ttl). Never in the past.
fn after_backoff(
    cfg: &Config,
    s: &Source,
    state: &SourceState,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    if let (true, Some(retry)) = (state.consecutive_failures > 0, state.retry_at) {
        return retry.max(now);
    }
    let cron = s
        .schedule
        .next_after(now, cfg.timezone)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    match state.retry_at {
        Some(r) if r > cron => r,
        _ => cron,
    }
}

/// The cron digests' next ticks.
pub(super) struct DigestPlan {
    ticks: HashMap<WatchlistName, (DateTime<Utc>, CronSpec)>,
}

impl DigestPlan {
    pub fn new(cfg: &Config, now: DateTime<Utc>) -> DigestPlan {
        let ticks = cfg
            .watchlists
            .iter()
            .filter_map(|w| match &w.digest {
                DigestSchedule::Cron(c) => Some((
                    w.name.clone(),
                    (c.next_after(now, cfg.timezone)?, c.clone()),
                )),
                DigestSchedule::Immediate => None,
            })
            .collect();
        DigestPlan { ticks }
    }

    /// Digests whose tick has come at `now`, each with its tick, rescheduled to the next.
    pub fn take_due(
        &mut self,
        cfg: &Config,
        now: DateTime<Utc>,
    ) -> Vec<(WatchlistName, DateTime<Utc>)> {
        let mut due = Vec::new();
        for (name, (at, cron)) in &mut self.ticks {
            if *at <= now {
                due.push((name.clone(), *at));
                *at = cron
                    .next_after(now, cfg.timezone)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
            }
        }
        due
    }

    pub fn earliest(&self) -> Option<DateTime<Utc>> {
        self.ticks.values().map(|(t, _)| *t).min()
    }
}
