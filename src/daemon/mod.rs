//! The daemon: a timer per source and per digest, SIGHUP reload (swap `Arc<Config>`),
//! SIGTERM drain, and a mail task that retries undelivered digests until accepted.
//!
//! [`run`] reads as its steps: start the mail task and the plan, then loop — ping the
//! watchdog, claim the sources that are due and start their scans ([`claims`], [`scans`]),
//! queue the digests that are due ([`mail`]), sleep until the earliest next fire time
//! ([`plan`]) or until a scan ends or a control message comes ([`control`]) — and drain on
//! shutdown. The sleep is like mini-redis `purge_expired_tasks`: until the next deadline or a
//! nudge, then recompute. Control messages come in through a channel so tests drive the same
//! loop without signals; [`watch_config`] is one more sender, turning an edit of the config
//! file into a reload. While the database is unreachable the loop keeps turning (and pinging
//! the watchdog) but claims nothing; what the outage left owed is settled when it is back.

mod claims;
mod control;
mod instance;
mod mail;
mod plan;
pub mod retention;
mod scans;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{error, info};

pub use control::{watch_config, CONFIG_POLL, CONFIG_QUIET};

use crate::config::Config;
use crate::fetch::{FetchError, Fetcher};
use crate::mail::{MailError, Transport};
use crate::store::{Store, StoreError};
use crate::systemd;
use control::{Status, Watchdog};
use instance::Presence;
use mail::MailTask;
use plan::DigestPlan;
use scans::{Finished, Scans};

/// In-flight work gets this long to finish after SIGTERM (systemd waits 10 s).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);
/// Never sleep longer than this, so clock jumps are noticed.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// With several instances on one database, look at it at least this often: another
/// instance's claims end and its scans change when sources are due.
const SHARED_POLL: Duration = Duration::from_secs(5);
/// While the database is unreachable, try it again this often.
const DB_RETRY: Duration = Duration::from_secs(5);
/// Scans one instance runs at once at most (each holds a source's lease and its fetches).
pub const MAX_SCANS: usize = 64;
/// While scans run, due sources are claimed once this many more could start.
pub const CLAIM_BATCH: usize = 8;

/// What the outside world can ask of a running daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Reload,
    Shutdown,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("http client: {0}")]
    Fetch(#[from] FetchError),
    #[error("mail transport: {0}")]
    Mail(#[from] MailError),
    #[error("{0}")]
    Clock(String),
}

/// Loads the config again on reload (the CLI's `--state-dir` override included).
pub type Loader = Arc<dyn Fn() -> Result<Config, crate::config::ConfigErrors> + Send + Sync>;

/// The daemon's moving parts between two turns of its loop.
struct Daemon {
    cfg: Arc<Config>,
    store: Arc<Store>,
    fetcher: Fetcher,
    mail: MailTask,
    digests: DigestPlan,
    scans: Scans,
    presence: Presence,
    watchdog: Watchdog,
    status: Status,
    /// When the database says to look again for due sources.
    source_wake: Option<DateTime<Utc>>,
    /// The sources to record again (a reload found the database unreachable): nothing is
    /// claimed until they are, so claims follow the running config.
    sync_owed: bool,
    /// Scans that ended while the database was unreachable: their sources, to release (due
    /// then) once it is back, so a claim never outlives its scan.
    releases_owed: Vec<(crate::model::SourceName, DateTime<Utc>)>,
    /// While the database is unreachable, when to try it again.
    next_probe: Instant,
    /// How long each claim of due sources took (for the totals logged at exit).
    claim_times: Vec<Duration>,
    /// The latest `[retention]`, for the retention task.
    retention: tokio::sync::watch::Sender<crate::config::Retention>,
    pruner: tokio::task::JoinHandle<()>,
}

/// Runs until `Control::Shutdown` (or the channel closes).
///
/// # Errors
/// The HTTP client or mail transport cannot be built, or the database fails at start-up.
pub async fn run(
    config: Arc<Config>,
    store: Arc<Store>,
    loader: Loader,
    mut control: mpsc::Receiver<Control>,
) -> Result<(), DaemonError> {
    let mut d = Daemon::start(config, store).await?;
    loop {
        let now = Utc::now();
        // The loop is turning: that is what the watchdog watches. A database outage is
        // waited out here, not a reason to be restarted (README, "Several instances").
        d.watchdog.ping_if_due();
        if d.db_ready().await {
            d.settle_owed(now).await;
            d.start_due_scans(now).await;
        }
        d.queue_due_digests(now);
        let wake = d.presence.wake_by(d.watchdog.wake_by(d.next_wake()));
        let wake = d.status.wake_by(wake);
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {
                d.presence.beat_if_due(&d.store).await;
                let db_ok = d.presence.db_ok();
                d.status.write_if_due(&d.cfg, &d.store, db_ok).await;
            }
            Some(done) = d.scans.next_finished(), if !d.scans.is_empty() => d.finish_scan(done).await,
            msg = control.recv() => match msg {
                Some(Control::Reload) => d.reload(&loader).await?,
                Some(Control::Shutdown) | None => break,
            },
        }
    }
    d.shutdown().await;
    Ok(())
}

impl Daemon {
    /// This instance registered, the sources recorded, the mail task (which retries
    /// undelivered digests at once), READY=1.
    async fn start(cfg: Arc<Config>, store: Arc<Store>) -> Result<Daemon, DaemonError> {
        let lease = cfg
            .database
            .as_ref()
            .map_or(instance::LOCAL_LEASE, |db| db.lease);
        let presence = Presence::start(&store, lease).await?;
        let fetcher = fetcher_for(&cfg, &store, &presence)?;
        let transport = Transport::from_config(&cfg.mail, &cfg.outbox_dir())?;
        plan::sync_sources(&cfg, &store, presence.id(), Utc::now()).await?;
        let mail = MailTask::start(mail::Mailer::new(
            cfg.clone(),
            store.clone(),
            transport,
            &presence,
        ));
        // Matches recorded before a crash but not yet digested go out now for "immediate"
        // watchlists; cron watchlists keep them for their next digest.
        mail.compose(immediate_jobs(mail::immediate_watchlists(&cfg)));
        let digests = DigestPlan::new(&cfg, Utc::now());
        let (retention, settings) = tokio::sync::watch::channel(cfg.retention);
        let pruner = tokio::spawn(retention::run(store.clone(), settings));
        systemd::ready(&control::status_line(&cfg, &store, true).await);
        info!(
            sources = cfg.sources.len(),
            watchlists = cfg.watchlists.len(),
            instance = %presence.id(),
            database = %store.describe(),
            "newswatch running"
        );
        Ok(Daemon {
            cfg,
            store,
            fetcher,
            mail,
            digests,
            scans: Scans::default(),
            presence,
            watchdog: Watchdog::from_env(),
            status: Status::new(),
            source_wake: None,
            sync_owed: false,
            releases_owed: Vec::new(),
            next_probe: Instant::now(),
            claim_times: Vec::new(),
            retention,
            pruner,
        })
    }

    fn queue_due_digests(&mut self, now: DateTime<Utc>) {
        let due = self
            .digests
            .take_due(&self.cfg, now)
            .into_iter()
            .map(|(name, tick)| (name, Some(tick)))
            .collect();
        self.mail.compose(due);
    }

    fn next_wake(&self) -> Instant {
        let mut wait = MAX_SLEEP;
        if self.store.is_shared() {
            wait = wait.min(SHARED_POLL);
        }
        if !self.presence.db_ok() {
            wait = wait.min(self.next_probe.saturating_duration_since(Instant::now()));
        }
        let until = |t: DateTime<Utc>| (t - Utc::now()).to_std().unwrap_or_default();
        if let Some(t) = self.source_wake {
            wait = wait.min(until(t));
        }
        if let Some(t) = self.digests.earliest() {
            wait = wait.min(until(t));
        }
        Instant::now() + wait
    }

    /// A scan ended: immediate digests for what it found, the source due next and released
    /// (by the scan's own record, or now when the scan did not record).
    async fn finish_scan(&mut self, done: Finished) {
        let report = match done.report {
            Ok(r) => r,
            Err(e) => {
                if self.presence.db_ok() {
                    error!(source = %done.source, error = %e, "scan could not be recorded; the source is scanned again");
                }
                self.presence.note::<()>(&Err(e));
                None
            }
        };
        let mut released = None;
        if let Some(report) = report {
            released = report.released;
            let new = report.watchlists_with_new();
            let immediate = mail::immediate_watchlists(&self.cfg)
                .into_iter()
                .filter(|w| new.contains(w))
                .collect();
            self.mail.compose(immediate_jobs(immediate));
        }
        let source = done.source.clone();
        match released {
            Some(r) => self.released(&done.source, r),
            None => self.release_source(done.source, done.started).await,
        }
        // Claimed again after its record released it, before this end was seen: the claim
        // is this instance's, the source due, so its next scan starts now. (Without a
        // release by the record, any such claim was just given back with the release.)
        if self.scans.take_again(&source) && released == Some(true) {
            self.start_scan(source);
        }
        let db_ok = self.presence.db_ok();
        self.status.changed(&self.cfg, &self.store, db_ok).await;
    }

    /// Swaps in a valid new config (sources recorded again; running scans keep theirs);
    /// keeps the old one and logs every error otherwise.
    async fn reload(&mut self, loader: &Loader) -> Result<(), DaemonError> {
        systemd::reloading();
        match control::reload(&self.cfg, loader) {
            Ok(new) => {
                self.cfg = new.config;
                self.fetcher = if self.store.is_shared() {
                    fetcher_for(&self.cfg, &self.store, &self.presence)?
                } else {
                    new.fetcher
                };
                self.mail.reconfigure(self.cfg.clone(), new.transport);
                let _ = self.retention.send(self.cfg.retention);
                self.digests = DigestPlan::new(&self.cfg, Utc::now());
                // Recorded now if the database answers, else as soon as it does; the
                // daemon keeps running either way.
                self.sync_owed = true;
                if self.presence.db_ok() {
                    self.settle_owed(Utc::now()).await;
                }
                info!(
                    sources = self.cfg.sources.len(),
                    watchlists = self.cfg.watchlists.len(),
                    "config reloaded"
                );
            }
            Err(errors) => {
                for e in errors {
                    error!(error = %e, "config reload failed; keeping the running config");
                }
            }
        }
        let db_ok = self.presence.db_ok();
        systemd::ready(&control::status_line(&self.cfg, &self.store, db_ok).await);
        Ok(())
    }

    /// Stops taking work; gives scans and the mail task [`SHUTDOWN_GRACE`].
    async fn shutdown(mut self) {
        systemd::stopping();
        info!(scans_in_flight = self.scans.len(), "shutting down");
        self.pruner.abort();
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        // Ask the mail task to stop first, so it finishes its job while scans drain.
        let mail = self.mail;
        let stop_mail = tokio::spawn(async move { mail.stop(deadline).await });
        self.scans.drain(deadline).await;
        let _ = stop_mail.await;
        self.presence.leave(&self.store).await;
        let mut times = std::mem::take(&mut self.claim_times);
        times.sort_unstable();
        let pct = |p: usize| times.get((times.len() * p / 100).min(times.len().saturating_sub(1)));
        let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1e3);
        info!(
            statements = self.store.statements(),
            claims = times.len(),
            claim_p50_ms = ms(pct(50)),
            claim_p99_ms = ms(pct(99)),
            "stopped"
        );
    }
}

/// Composing immediate digests: no tick.
fn immediate_jobs(names: Vec<crate::model::WatchlistName>) -> Vec<mail::DigestJob> {
    names.into_iter().map(|n| (n, None)).collect()
}

/// The fetcher: with several instances on one database, one that keeps the cluster's
/// politeness too.
fn fetcher_for(cfg: &Config, store: &Arc<Store>, me: &Presence) -> Result<Fetcher, FetchError> {
    if store.is_shared() {
        let ledger = crate::cluster::StoreLedger::new(Arc::clone(store), me.id().clone(), me.lease);
        Fetcher::clustered(cfg.http.clone(), Arc::new(ledger))
    } else {
        Fetcher::new(cfg.http.clone())
    }
}
