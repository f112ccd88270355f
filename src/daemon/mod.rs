//! The daemon: a timer per source and per digest, SIGHUP reload (swap `Arc<Config>`),
//! SIGTERM drain, and a mail task that retries undelivered digests until accepted.
//!
//! [`run`] reads as its steps: start the mail task and the plan, then loop — start the
//! scans that are due ([`scans`]), queue the digests that are due ([`mail`]), sleep until the
//! earliest next fire time ([`plan`]) or until a scan ends or a control message comes
//! ([`control`]) — and drain on shutdown. The sleep is like mini-redis
//! `purge_expired_tasks`: until the next deadline or a nudge, then recompute. Control
//! messages come in through a channel so tests drive the same loop without signals;
//! [`watch_config`] is one more sender, turning an edit of the config file into a reload.

mod control;
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
use control::Watchdog;
use mail::MailTask;
use plan::Plan;
use scans::{Finished, Scans};

/// In-flight work gets this long to finish after SIGTERM (systemd waits 10 s).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);
/// Never sleep longer than this, so clock jumps are noticed.
const MAX_SLEEP: Duration = Duration::from_secs(60);

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
}

/// Loads the config again on reload (the CLI's `--state-dir` override included).
pub type Loader = Arc<dyn Fn() -> Result<Config, crate::config::ConfigErrors> + Send + Sync>;

/// The daemon's moving parts between two turns of its loop.
struct Daemon {
    cfg: Arc<Config>,
    store: Arc<Store>,
    fetcher: Fetcher,
    mail: MailTask,
    plan: Plan,
    scans: Scans,
    watchdog: Watchdog,
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
        d.start_due_scans(now);
        d.queue_due_digests(now);
        let wake = d.watchdog.wake_by(d.next_wake());
        tokio::select! {
            () = tokio::time::sleep_until(wake) => d.watchdog.ping_if_due(&d.store).await,
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
    /// The mail task (which retries undelivered digests at once), the plan, READY=1.
    async fn start(cfg: Arc<Config>, store: Arc<Store>) -> Result<Daemon, DaemonError> {
        let fetcher = Fetcher::new(cfg.http.clone())?;
        let transport = Transport::from_config(&cfg.mail, &cfg.outbox_dir())?;
        let mail = MailTask::start(cfg.clone(), store.clone(), transport);
        // Matches recorded before a crash but not yet digested go out now for "immediate"
        // watchlists; cron watchlists keep them for their next digest.
        mail.compose(mail::immediate_watchlists(&cfg));
        let plan = Plan::new(&cfg, &store, Utc::now()).await?;
        let (retention, settings) = tokio::sync::watch::channel(cfg.retention);
        let pruner = tokio::spawn(retention::run(store.clone(), settings));
        systemd::ready(&control::status_line(&cfg, &store).await);
        info!(
            sources = cfg.sources.len(),
            watchlists = cfg.watchlists.len(),
            "newswatch running"
        );
        Ok(Daemon {
            cfg,
            store,
            fetcher,
            mail,
            plan,
            scans: Scans::default(),
            watchdog: Watchdog::from_env(),
            retention,
            pruner,
        })
    }

    fn start_due_scans(&mut self, now: DateTime<Utc>) {
        for name in self.plan.take_due_sources(now) {
            if self.scans.is_running(&name) {
                continue;
            }
            self.scans.spawn(
                name,
                self.cfg.clone(),
                self.store.clone(),
                self.fetcher.clone(),
            );
        }
    }

    fn queue_due_digests(&mut self, now: DateTime<Utc>) {
        let due = self.plan.take_due_digests(&self.cfg, now);
        self.mail.compose(due);
    }

    fn next_wake(&self) -> Instant {
        let wait = self.plan.earliest().map_or(MAX_SLEEP, |t| {
            (t - Utc::now()).to_std().unwrap_or_default().min(MAX_SLEEP)
        });
        Instant::now() + wait
    }

    /// A scan ended: immediate digests for what it found, and the source's next time.
    async fn finish_scan(&mut self, done: Finished) {
        if let Some(report) = done.report {
            let new = report.watchlists_with_new();
            let immediate = mail::immediate_watchlists(&self.cfg)
                .into_iter()
                .filter(|w| new.contains(w))
                .collect();
            self.mail.compose(immediate);
        }
        if let Some(source) = self.cfg.source(done.source.as_str()) {
            let at = Plan::next_source_fire(&self.cfg, &self.store, source, Utc::now()).await;
            self.plan.sources.insert(done.source, at);
        }
        systemd::status(&control::status_line(&self.cfg, &self.store).await);
    }

    /// Swaps in a valid new config (new plan; running scans keep theirs); keeps the old one
    /// and logs every error otherwise.
    async fn reload(&mut self, loader: &Loader) -> Result<(), DaemonError> {
        systemd::reloading();
        match control::reload(&self.cfg, loader) {
            Ok(new) => {
                self.cfg = new.config;
                self.fetcher = new.fetcher;
                self.mail.reconfigure(self.cfg.clone(), new.transport);
                let _ = self.retention.send(self.cfg.retention);
                self.plan = Plan::new(&self.cfg, &self.store, Utc::now()).await?;
                for name in self.scans.running() {
                    self.plan
                        .sources
                        .insert(name.clone(), DateTime::<Utc>::MAX_UTC);
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
        systemd::ready(&control::status_line(&self.cfg, &self.store).await);
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
        info!("stopped");
    }
}
