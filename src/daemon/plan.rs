//! When each source and each digest fires next.
//!
//! Sources' times live in the database, where every instance sharing it sees them: each
//! start and reload records the configured sources and when each is due ([`sync_sources`]),
//! and each scan's end records when its source is due next ([`next_source_due`]); instances
//! claim what is due. Cron digests' ticks are computed here, in memory; the database says
//! which instance composes a tick.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{Config, DigestSchedule, Source};
use crate::model::{InstanceId, SourceState, WatchlistName};
use crate::schedule::CronSpec;
use crate::store::{SourceDue, Store, StoreError};

/// A stored due time older than this at start-up was missed while no instance ran: the
/// source waits for its next tick instead of every source being fetched at once.
pub const STALE_AFTER: chrono::Duration = chrono::Duration::minutes(1);

/// More sources never fetched than this are a herd: their first scans are spread out.
pub const FIRST_SCANS_AT_ONCE: usize = super::MAX_SCANS;
/// First scans are spread over a source's period, but over no longer than this: a new
/// daily source need not wait a day for its baseline.
pub const FIRST_SCAN_SPREAD_MAX: Duration = Duration::from_secs(3600);

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
    let mut first = Vec::new();
    for (i, s) in cfg.sources.iter().enumerate() {
        let state = store.source_state(&s.name).await?;
        if state.baselined || state.consecutive_failures > 0 {
            due.push(SourceDue {
                name: s.name.clone(),
                at: after_backoff(cfg, s, &state, now, now),
            });
        } else {
            first.push(i);
        }
    }
    due.extend(first_scans(cfg, &first, now));
    store.sync_sources(me, &due, now, now - STALE_AFTER).await
}

/// When the sources at `first` (indices into the config), never fetched, are first due. A
/// source never fetched is scanned at once, so a new user sees the baseline taken right
/// away; but when there are more than [`FIRST_SCANS_AT_ONCE`] (10,000 sources in a new
/// config, issue 21), their first scans are spread evenly over their period (at most
/// [`FIRST_SCAN_SPREAD_MAX`]) instead of all falling due in the first second, in an order
/// that takes each host's first source, then each host's second, and so on.
fn first_scans(cfg: &Config, first: &[usize], now: DateTime<Utc>) -> Vec<SourceDue> {
    let n = first.len();
    if n <= FIRST_SCANS_AT_ONCE {
        return first
            .iter()
            .map(|&i| SourceDue {
                name: cfg.sources[i].name.clone(),
                at: now,
            })
            .collect();
    }
    let mut order = first.to_vec();
    order.sort_by_key(|&i| (cfg.sources[i].host_rank, i));
    order
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let s = &cfg.sources[i];
            let window = period(s, cfg, now).min(FIRST_SCAN_SPREAD_MAX);
            let step = window.mul_f64(k as f64 / n as f64);
            SourceDue {
                name: s.name.clone(),
                at: now + chrono::Duration::from_std(step).unwrap_or_default(),
            }
        })
        .collect()
}

/// The time between two of `s`'s cron ticks after `now` (zero if it has none).
fn period(s: &Source, cfg: &Config, now: DateTime<Utc>) -> Duration {
    let next = |t| s.schedule.next_after(t, cfg.timezone);
    next(now)
        .and_then(|a| Some((next(a)? - a).to_std().unwrap_or_default()))
        .unwrap_or_default()
}

/// When `s`, in `state`, is due after a scan that started at `started` and ended at `now`.
///
/// Its next cron tick is the first after the scan *started*, not after it ended: a scan that
/// began before a tick read the source before it, so a tick that passes while it runs is
/// still owed a read (issue 21: with 10,000 first scans spread over a 15-minute period, the
/// ~11 whose scan straddled the first tick were next due a tick later and so went a whole
/// period unread).
pub(super) fn next_source_due(
    cfg: &Config,
    s: &Source,
    state: &SourceState,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    after_backoff(cfg, s, state, started.min(now), now)
}

/// When a source runs next. A failing source runs when its back-off ends (SPEC: 1 min
/// doubling, cap 6 h, never before a `Retry-After`), whatever its cron says: a daily source
/// that failed once must not wait a day (issue 22). A healthy one runs at its next cron tick
/// after `since` plus its host's offset ([`host_offset`]), but not before a refetch floor
/// (`retry_at` after a success: the server's max-age or the feed's ttl). Never in the past.
fn after_backoff(
    cfg: &Config,
    s: &Source,
    state: &SourceState,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    if let (true, Some(retry)) = (state.consecutive_failures > 0, state.retry_at) {
        return retry.max(now);
    }
    let cron = s
        .schedule
        .next_after(since, cfg.timezone)
        .map_or(DateTime::<Utc>::MAX_UTC, |t| {
            (t + host_offset(cfg, s, now)).max(now)
        });
    match state.retry_at {
        Some(r) if r > cron => r,
        _ => cron,
    }
}

/// How long after a cron tick `s` falls due: a politeness delay (or a millisecond) for each
/// source before it on the same host ([`Source::host_rank`]), so that at a tick a host's sources come due
/// as fast as the host may be asked, and the scans running at once are spread over hosts
/// instead of queueing at one (issue 21). Never more than a tenth of the period.
fn host_offset(cfg: &Config, s: &Source, now: DateTime<Utc>) -> chrono::Duration {
    // A millisecond at least: with no delay, the sources due at one tick are still claimed
    // each host's first, then each host's second, … (claims take the earliest due first).
    let step = cfg.http.per_host_delay.max(Duration::from_millis(1));
    let offset = step * s.host_rank;
    let offset = offset.min(period(s, cfg, now) / 10);
    chrono::Duration::from_std(offset).unwrap_or_default()
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
