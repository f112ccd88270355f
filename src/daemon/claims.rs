//! The daemon's claims on sources: claiming the due ones (as many as there is room for) and
//! starting their scans, giving a source back when its scan ends, and, around an outage of
//! the database, what must wait for it: whether it answers again (one cheap try every
//! [`DB_RETRY`]), the config's sources to record after a reload, and the claims of scans that
//! ended meanwhile to give back — so a claim never outlives its scan.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::{plan, Daemon, CLAIM_BATCH, DB_RETRY, MAX_SCANS};
use crate::model::SourceName;
use crate::model::SourceState;

impl Daemon {
    /// Whether the database answers: while it is known to be unreachable, one cheap try
    /// every [`DB_RETRY`] (the loop makes no other call to it meanwhile, so its turns stay
    /// short and the watchdog is pinged).
    pub(super) async fn db_ready(&mut self) -> bool {
        if self.presence.db_ok() {
            return true;
        }
        if Instant::now() < self.next_probe {
            return false;
        }
        self.next_probe = Instant::now() + DB_RETRY;
        let r = self.store.ping().await;
        self.presence.note(&r);
        r.is_ok()
    }

    /// What an outage left owed: the config's sources recorded, ended scans' sources released.
    pub(super) async fn settle_owed(&mut self, now: DateTime<Utc>) {
        if self.sync_owed {
            let r = plan::sync_sources(&self.cfg, &self.store, self.presence.id(), now).await;
            self.presence.note(&r);
            if r.is_ok() {
                self.sync_owed = false;
                self.source_wake = None;
            }
        }
        while let Some((source, next)) = self.releases_owed.pop() {
            let r = self
                .store
                .finish_source(&source, self.presence.id(), next)
                .await;
            self.presence.note(&r);
            if r.is_err() {
                self.releases_owed.push((source, next));
                return;
            }
        }
    }

    /// Claims the sources due now (as many as there is room for) and starts their scans.
    pub(super) async fn start_due_scans(&mut self, now: DateTime<Utc>) {
        if self.sync_owed || self.source_wake.is_some_and(|w| w > now) {
            return;
        }
        let room = MAX_SCANS.saturating_sub(self.scans.len());
        if room < CLAIM_BATCH && !self.scans.is_empty() {
            // Claims come a batch at a time, not one per scan that ends: each is a commit.
            // The next scan to end looks again.
            self.source_wake = None;
            return;
        }
        let until = self.presence.lease_until(now);
        let claimed = if room == 0 {
            Ok(Vec::new())
        } else {
            let t = Instant::now();
            let claimed = self
                .store
                .claim_due_sources(self.presence.id(), now, until, room)
                .await;
            self.claim_times.push(t.elapsed());
            claimed
        };
        self.presence.note(&claimed);
        for name in claimed.unwrap_or_default() {
            if self.scans.is_running(&name) {
                // Its scan's record gave the claim back and the source fell due again
                // before the scan's end reached this loop: it starts again once that end
                // has (`finish_scan`), not never (the claim would be renewed forever).
                self.scans.claimed_again(name);
                continue;
            }
            self.start_scan(name);
        }
        let wake = self.store.next_source_wake(self.presence.id()).await;
        self.presence.note(&wake);
        self.source_wake = match wake {
            Ok(w) => w,
            Err(_) => Some(now + chrono::Duration::from_std(DB_RETRY).unwrap_or_default()),
        };
    }

    /// Starts scanning `name`, claimed by this instance, with the config and fetcher of now.
    pub(super) fn start_scan(&mut self, name: SourceName) {
        self.scans.spawn(
            name,
            self.cfg.clone(),
            self.store.clone(),
            self.fetcher.clone(),
            self.presence.id().clone(),
        );
    }

    /// Gives back the claim on a source whose scan, started at `started`, ended: due at its
    /// next time, or at once when the source is not (or no longer) in this instance's config,
    /// for an instance that has it. While the database is unreachable the release waits for
    /// it (the heartbeat must never renew a claim whose scan is over).
    pub(super) async fn release_source(&mut self, source: SourceName, started: DateTime<Utc>) {
        let now = Utc::now();
        let cfg = self.cfg.clone();
        let planned = cfg.source(source.as_str());
        // Without the source's state (the database is unreachable), its next cron tick.
        let fallback = planned.map_or(now, |s| {
            plan::next_source_due(&cfg, s, &SourceState::default(), started, now)
        });
        if !self.presence.db_ok() {
            self.releases_owed.push((source, fallback));
            return;
        }
        // The state read and the release in one transaction (issue 21).
        let finished = self
            .store
            .finish_source_after(&source, self.presence.id(), |state| {
                planned.map_or(now, |s| plan::next_source_due(&cfg, s, state, started, now))
            })
            .await;
        self.presence.note(&finished);
        match finished {
            Ok(released) => self.released(&source, released),
            Err(_) => self.releases_owed.push((source, fallback)),
        }
    }

    /// The claim on `source` was given back (`false`: it was no longer this instance's).
    pub(super) fn released(&mut self, source: &SourceName, released: bool) {
        if !released {
            tracing::warn!(source = %source, "the scan outlasted its claim; another instance may have scanned the source too (each match is still recorded once)");
        }
        // Its next time may be the earliest.
        self.source_wake = Some(Utc::now());
    }
}
