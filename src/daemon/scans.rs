//! Scans in flight: one task per source being scanned, at most one per source, and what
//! to do when one ends (or panics: its source is freed and rescheduled all the same).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;
use tracing::error;

use crate::config::Config;
use crate::fetch::Fetcher;
use crate::model::{InstanceId, SourceName, SourceState};
use crate::pipeline::{scan_source, ScanMode, ScanReport, ScanStart};
use crate::store::{Release, Store, StoreError};

type Outcome = (SourceName, Result<Option<ScanReport>, StoreError>);

/// The scans running now.
#[derive(Default)]
pub(super) struct Scans {
    set: JoinSet<Outcome>,
    running: HashSet<SourceName>,
    /// The source each task is for and when it started, so a task that panics (its result
    /// lost) still frees its source and gets it rescheduled.
    sources: HashMap<tokio::task::Id, (SourceName, DateTime<Utc>)>,
    /// Sources claimed again while their scan was finishing (see [`Scans::claimed_again`]).
    again: HashSet<SourceName>,
}

/// How a scan ended.
pub(super) struct Finished {
    pub source: SourceName,
    /// When the scan started: its source's next cron tick is the first after this, so a
    /// tick that passed while the scan ran is not skipped.
    pub started: DateTime<Utc>,
    /// `Ok(None)` when the task panicked or its source left the config meanwhile; `Err` when
    /// the database failed (the daemon logs that once, not once per source).
    pub report: Result<Option<ScanReport>, StoreError>,
}

impl Scans {
    pub fn is_running(&self, name: &SourceName) -> bool {
        self.running.contains(name)
    }

    /// `name`, still running, was claimed again: its record has given the claim back and
    /// the source was due once more before the daemon saw the scan end.
    pub fn claimed_again(&mut self, name: SourceName) {
        self.again.insert(name);
    }

    /// Whether `name` was claimed again while its scan was finishing (forgotten here).
    pub fn take_again(&mut self, name: &SourceName) -> bool {
        self.again.remove(name)
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Starts scanning `name` with the config and fetcher of now; the scan's record gives
    /// `me`'s claim on the source back, due at its next time.
    pub fn spawn(
        &mut self,
        name: SourceName,
        cfg: Arc<Config>,
        store: Arc<Store>,
        fetcher: Fetcher,
        me: InstanceId,
    ) {
        self.running.insert(name.clone());
        let source_name = name.clone();
        let started = Utc::now();
        let task = self.set.spawn(async move {
            let Some(source) = cfg.source(source_name.as_str()) else {
                return (source_name, Ok(None));
            };
            let next_due = |state: &SourceState| {
                super::plan::next_source_due(&cfg, source, state, started, Utc::now())
            };
            let release = Release {
                me: &me,
                next_due: &next_due,
            };
            let r = scan_source(
                &cfg,
                &store,
                &fetcher,
                source,
                ScanMode::Record,
                started,
                ScanStart {
                    state: None,
                    release: Some(&release),
                },
            )
            .await
            .map(Some);
            (source_name, r)
        });
        self.sources.insert(task.id(), (name, started));
    }

    /// Waits for the next scan to end. Never returns while none is running.
    pub async fn next_finished(&mut self) -> Option<Finished> {
        let done = self.set.join_next_with_id().await?;
        let (source, started, report) = match done {
            Ok((id, (name, result))) => {
                let started = self.sources.remove(&id).map_or_else(Utc::now, |(_, t)| t);
                (name, started, result)
            }
            Err(e) => {
                let (name, started) = self.sources.remove(&e.id())?;
                error!(source = %name, error = %e, "scan failed unexpectedly; the source runs again at its next time");
                (name, started, Ok(None))
            }
        };
        self.running.remove(&source);
        Some(Finished {
            source,
            started,
            report,
        })
    }

    /// Waits until `deadline` for the running scans; cancels those still running then (a
    /// cancelled scan rolls back and runs again next time).
    pub async fn drain(&mut self, deadline: tokio::time::Instant) {
        if tokio::time::timeout_at(deadline, async {
            while self.set.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            tracing::warn!("scans still running at shutdown were cancelled; they will run again");
            self.set.abort_all();
        }
    }
}
