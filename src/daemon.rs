//! The daemon: a timer per source and per digest, SIGHUP reload (swap `Arc<Config>`),
//! SIGTERM drain, and a mail task that retries undelivered digests until accepted.
//!
//! The scheduler sleeps until the earliest next fire time or a control message, then
//! recomputes (like mini-redis `purge_expired_tasks`). Control messages come in through a
//! channel so tests drive the same loop without signals; [`watch_config`] is one more sender,
//! turning an edit of the config file into a reload.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::config::{Config, DigestSchedule};
use crate::fetch::{FetchError, Fetcher};
use crate::mail::{MailError, Transport};
use crate::outbox;
use crate::pipeline::{scan_source, ScanMode, ScanReport};
use crate::store::{Store, StoreError};
use crate::systemd;

/// In-flight work gets this long to finish after SIGTERM (systemd waits 10 s).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);
/// Never sleep longer than this, so clock jumps are noticed.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// How often [`watch_config`] looks at the config file.
pub const CONFIG_POLL: Duration = Duration::from_secs(2);
/// A changed config file is reloaded once it has been left alone this long, so an editor's
/// save in several writes (or a write-then-rename) is read once, complete.
pub const CONFIG_QUIET: Duration = Duration::from_millis(500);

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

enum MailJob {
    /// Compose (and send) the digests of these watchlists.
    Compose(Vec<String>),
    /// A new config (and its transport) after a reload.
    Reconfigure(Arc<Config>, Transport),
    Stop,
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
    let mut cfg = config;
    let mut fetcher = Fetcher::new(cfg.http.clone())?;
    let transport = Transport::from_config(&cfg.mail, &cfg.outbox_dir())?;
    let (mail_tx, mail_rx) = mpsc::unbounded_channel();
    let mut mail_task = tokio::spawn(mail_loop(cfg.clone(), store.clone(), transport, mail_rx));

    // Matches recorded before a crash but not yet digested go out now for "immediate"
    // watchlists; cron watchlists keep them for their next digest.
    let immediate: Vec<String> = immediate_watchlists(&cfg);
    let _ = mail_tx.send(MailJob::Compose(immediate));

    let mut plan = Plan::new(&cfg, &store, Utc::now())?;
    let mut scans: JoinSet<(String, Result<ScanReport, StoreError>)> = JoinSet::new();
    let mut running: HashSet<String> = HashSet::new();
    // The source each scan task is for, so a task that panics (its result
    // lost) still frees its source and gets it rescheduled.
    let mut task_sources: HashMap<tokio::task::Id, String> = HashMap::new();
    let watchdog = systemd::watchdog_interval();
    let mut next_ping = Instant::now();
    systemd::ready(&status_line(&cfg, &store));
    info!(
        sources = cfg.sources.len(),
        watchlists = cfg.watchlists.len(),
        "newswatch running"
    );

    loop {
        let now = Utc::now();
        for (name, at) in &mut plan.sources {
            if *at <= now && !running.contains(name) {
                running.insert(name.clone());
                *at = DateTime::<Utc>::MAX_UTC;
                let (cfg, store, fetcher, source_name) =
                    (cfg.clone(), store.clone(), fetcher.clone(), name.clone());
                let task = scans.spawn(async move {
                    let Some(source) = cfg.source(&source_name) else {
                        return (source_name, Ok(ScanReport::default()));
                    };
                    let r =
                        scan_source(&cfg, &store, &fetcher, source, ScanMode::Record, Utc::now())
                            .await;
                    (source_name, r)
                });
                task_sources.insert(task.id(), name.clone());
            }
        }
        let mut due = Vec::new();
        for (name, (at, cron)) in &mut plan.digests {
            if *at <= now {
                due.push(name.clone());
                *at = cron
                    .next_after(now, cfg.timezone)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
            }
        }
        if !due.is_empty() {
            let _ = mail_tx.send(MailJob::Compose(due));
        }

        let wake = plan.earliest().map_or(MAX_SLEEP, |t| {
            (t - Utc::now()).to_std().unwrap_or_default().min(MAX_SLEEP)
        });
        let mut wake = Instant::now() + wake;
        if let Some(w) = watchdog {
            wake = wake.min(next_ping);
            if Instant::now() >= next_ping {
                if store.ping().is_ok() {
                    systemd::watchdog();
                }
                next_ping = Instant::now() + w;
            }
        }
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {}
            Some(done) = scans.join_next_with_id(), if !scans.is_empty() => {
                let (name, result) = match done {
                    Ok((id, (name, result))) => {
                        task_sources.remove(&id);
                        (name, Some(result))
                    }
                    Err(e) => {
                        let Some(name) = task_sources.remove(&e.id()) else { continue };
                        error!(source = %name, error = %e, "scan failed unexpectedly; the source runs again at its next time");
                        (name, None)
                    }
                };
                running.remove(&name);
                match result {
                    None => {}
                    Some(Ok(report)) => {
                        let new = report.watchlists_with_new();
                        let immediate: Vec<String> = immediate_watchlists(&cfg).into_iter().filter(|w| new.contains(w)).collect();
                        if !immediate.is_empty() {
                            let _ = mail_tx.send(MailJob::Compose(immediate));
                        }
                    }
                    Some(Err(e)) => error!(source = %name, error = %e, "scan could not be recorded"),
                }
                if let Some(source) = cfg.source(&name) {
                    let at = plan.next_source_fire(&cfg, &store, source, Utc::now());
                    plan.sources.insert(name, at);
                }
                systemd::status(&status_line(&cfg, &store));
            }
            msg = control.recv() => match msg {
                Some(Control::Reload) => {
                    systemd::reloading();
                    match reload(&cfg, &loader) {
                        Ok((new, f, t)) => {
                            cfg = new;
                            fetcher = f;
                            let _ = mail_tx.send(MailJob::Reconfigure(cfg.clone(), t));
                            plan = Plan::new(&cfg, &store, Utc::now())?;
                            for name in &running {
                                plan.sources.insert(name.clone(), DateTime::<Utc>::MAX_UTC);
                            }
                            info!(sources = cfg.sources.len(), watchlists = cfg.watchlists.len(), "config reloaded");
                        }
                        Err(errors) => {
                            for e in errors {
                                error!(error = %e, "config reload failed; keeping the running config");
                            }
                        }
                    }
                    systemd::ready(&status_line(&cfg, &store));
                }
                Some(Control::Shutdown) | None => break,
            },
        }
    }

    systemd::stopping();
    info!(scans_in_flight = scans.len(), "shutting down");
    let deadline = Instant::now() + SHUTDOWN_GRACE;
    let _ = mail_tx.send(MailJob::Stop);
    if tokio::time::timeout_at(deadline, async {
        while scans.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        warn!("scans still running at shutdown were cancelled; they will run again");
        scans.abort_all();
    }
    if tokio::time::timeout_at(deadline, &mut mail_task)
        .await
        .is_err()
    {
        warn!("a delivery still running at shutdown was cancelled; it will be retried with the same Message-ID");
        mail_task.abort();
    }
    info!("stopped");
    Ok(())
}

/// What identifies one version of the config file: `None` while it is missing.
type FileStamp = Option<(std::time::SystemTime, u64, u64)>;

fn stamp(path: &std::path::Path) -> FileStamp {
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len(), m.ino()))
}

/// Sends `Control::Reload` when the file at `path` changes: polled every [`CONFIG_POLL`]
/// (no inotify: a poll costs one `stat` and survives editors that replace the file), and sent
/// once the file has been unchanged for [`CONFIG_QUIET`]. Returns when `tx` is closed.
pub async fn watch_config(path: std::path::PathBuf, tx: mpsc::Sender<Control>) {
    let mut seen = stamp(&path);
    loop {
        tokio::time::sleep(CONFIG_POLL).await;
        if tx.is_closed() {
            return;
        }
        let mut now = stamp(&path);
        if now == seen {
            continue;
        }
        // Debounce: wait for a quiet period with no further change.
        loop {
            tokio::time::sleep(CONFIG_QUIET).await;
            let again = stamp(&path);
            if again == now {
                break;
            }
            now = again;
        }
        seen = now;
        info!(path = %path.display(), "config file changed on disk");
        if tx.send(Control::Reload).await.is_err() {
            return;
        }
    }
}

fn reload(cfg: &Config, loader: &Loader) -> Result<(Arc<Config>, Fetcher, Transport), Vec<String>> {
    let mut new = loader().map_err(|e| e.0.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    if new.state_dir != cfg.state_dir {
        warn!(old = %cfg.state_dir.display(), new = %new.state_dir.display(), "state_dir changes take effect at restart");
        new.state_dir.clone_from(&cfg.state_dir);
    }
    let fetcher = Fetcher::new(new.http.clone()).map_err(|e| vec![e.to_string()])?;
    let transport =
        Transport::from_config(&new.mail, &new.outbox_dir()).map_err(|e| vec![e.to_string()])?;
    Ok((Arc::new(new), fetcher, transport))
}

fn immediate_watchlists(cfg: &Config) -> Vec<String> {
    cfg.watchlists
        .iter()
        .filter(|w| matches!(w.digest, DigestSchedule::Immediate))
        .map(|w| w.name.clone())
        .collect()
}

fn status_line(cfg: &Config, store: &Store) -> String {
    let failing = store
        .source_health()
        .map(|h| {
            h.iter()
                .filter(|s| s.consecutive_failures > 0 && cfg.source(&s.name).is_some())
                .count()
        })
        .unwrap_or(0);
    let (pending, undelivered, _) = store.queue_counts().unwrap_or_default();
    format!(
        "{} sources ({} failing), {pending} matches pending, {undelivered} deliveries queued",
        cfg.sources.len(),
        failing
    )
}

/// Next fire times.
struct Plan {
    sources: HashMap<String, DateTime<Utc>>,
    digests: HashMap<String, (DateTime<Utc>, crate::schedule::CronSpec)>,
}

impl Plan {
    fn new(cfg: &Config, store: &Store, now: DateTime<Utc>) -> Result<Plan, StoreError> {
        let mut sources = HashMap::new();
        for s in &cfg.sources {
            let state = store.source_state(&s.name)?;
            // A source never fetched is scanned at once, so a new user sees the baseline
            // taken right away instead of at the first cron tick.
            let at = if state.baselined || state.consecutive_failures > 0 {
                Self::after_backoff(cfg, s, &state, now)
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

    /// When a source runs next. A failing source runs when its back-off ends (SPEC: 1 min
    /// doubling, cap 6 h, never before a `Retry-After`), whatever its cron says: a daily
    /// source that failed once must not wait a day (issue 22). A healthy one runs at its next
    /// cron tick, but not before a refetch floor (`retry_at` after a success: the server's
    /// max-age or the feed's ttl). Never in the past.
    fn after_backoff(
        cfg: &Config,
        s: &crate::config::Source,
        state: &crate::store::SourceState,
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

    fn next_source_fire(
        &self,
        cfg: &Config,
        store: &Store,
        s: &crate::config::Source,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let state = store.source_state(&s.name).unwrap_or_default();
        Self::after_backoff(cfg, s, &state, now)
    }

    fn earliest(&self) -> Option<DateTime<Utc>> {
        self.sources
            .values()
            .copied()
            .chain(self.digests.values().map(|(t, _)| *t))
            .min()
    }
}

async fn mail_loop(
    mut cfg: Arc<Config>,
    store: Arc<Store>,
    mut transport: Transport,
    mut rx: mpsc::UnboundedReceiver<MailJob>,
) {
    // At start-up undelivered digests are retried at once (SPEC).
    deliver(&cfg, &store, &transport, true).await;
    loop {
        let next = store.next_delivery_at().ok().flatten();
        let sleep = next.map_or(MAX_SLEEP, |t| {
            (t - Utc::now()).to_std().unwrap_or_default().min(MAX_SLEEP)
        });
        tokio::select! {
            job = rx.recv() => match job {
                Some(MailJob::Compose(names)) => {
                    for name in names {
                        let Some(idx) = cfg.watchlist_index(&name) else { continue };
                        if let Err(e) = outbox::compose_digest(&cfg, &store, idx, Utc::now()) {
                            error!(watchlist = %name, error = %e, "cannot record digest");
                        }
                    }
                    deliver(&cfg, &store, &transport, false).await;
                }
                Some(MailJob::Reconfigure(c, t)) => {
                    cfg = c;
                    transport = t;
                }
                Some(MailJob::Stop) | None => return,
            },
            () = tokio::time::sleep(sleep) => deliver(&cfg, &store, &transport, false).await,
        }
    }
}

async fn deliver(cfg: &Config, store: &Store, transport: &Transport, all: bool) {
    if let Err(e) = outbox::deliver_due(cfg, store, transport, Utc::now(), all).await {
        error!(error = %e, "delivery round failed");
    }
}
