//! When each source and each digest fires next.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::config::{Config, DigestSchedule, Source};
use crate::model::{SourceName, SourceState, WatchlistName};
use crate::schedule::CronSpec;
use crate::store::{Store, StoreError};

/// Next fire times.
pub(super) struct Plan {
    /// A source being scanned is parked at `DateTime::MAX_UTC` until its scan ends.
    pub sources: HashMap<SourceName, DateTime<Utc>>,
    pub digests: HashMap<WatchlistName, (DateTime<Utc>, CronSpec)>,
}

impl Plan {
    /// The plan for `cfg` at `now`: a source never fetched is due at once, others at their
    /// next tick or back-off; cron digests at their next tick.
    pub async fn new(cfg: &Config, store: &Store, now: DateTime<Utc>) -> Result<Plan, StoreError> {
        let mut sources = HashMap::new();
        for s in &cfg.sources {
            let state = store.source_state(&s.name).await?;
            // A source never fetched is scanned at once, so a new user sees the baseline
            // taken right away instead of at the first cron tick.
            let at = if state.baselined || state.consecutive_failures > 0 {
                after_backoff(cfg, s, &state, now)
            } else {
                now
            };
            sources.insert(s.name.clone(), at);
        }
        let digests = cfg
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
        Ok(Plan { sources, digests })
    }

    /// When `s` fires after a scan that ended at `now`.
    pub async fn next_source_fire(
        cfg: &Config,
        store: &Store,
        s: &Source,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let state = store.source_state(&s.name).await.unwrap_or_default();
        after_backoff(cfg, s, &state, now)
    }

    /// Sources due at `now`, parked until their scans end.
    pub fn take_due_sources(&mut self, now: DateTime<Utc>) -> Vec<SourceName> {
        let mut due = Vec::new();
        for (name, at) in &mut self.sources {
            if *at <= now {
                due.push(name.clone());
                *at = DateTime::<Utc>::MAX_UTC;
            }
        }
        due
    }

    /// Cron digests due at `now`, rescheduled to their next tick.
    pub fn take_due_digests(&mut self, cfg: &Config, now: DateTime<Utc>) -> Vec<WatchlistName> {
        let mut due = Vec::new();
        for (name, (at, cron)) in &mut self.digests {
            if *at <= now {
                due.push(name.clone());
                *at = cron
                    .next_after(now, cfg.timezone)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
            }
        }
        due
    }

    pub fn earliest(&self) -> Option<DateTime<Utc>> {
        self.sources
            .values()
            .copied()
            .chain(self.digests.values().map(|(t, _)| *t))
            .min()
    }
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
