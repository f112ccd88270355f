//! When each source and each digest fires next.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::config::{Config, DigestSchedule, Source};
use crate::model::{SourceName, WatchlistName};
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
                after_backoff(cfg, s, state.retry_at, now)
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
        let retry_at = store
            .source_state(&s.name)
            .await
            .ok()
            .and_then(|st| st.retry_at);
        after_backoff(cfg, s, retry_at, now)
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

/// The later of a source's next cron tick and its back-off (or cache hint).
fn after_backoff(
    cfg: &Config,
    s: &Source,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let cron = s
        .schedule
        .next_after(now, cfg.timezone)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    match retry_at {
        Some(r) if r > cron => r,
        _ => cron,
    }
}
