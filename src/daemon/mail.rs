//! The mail task: composes digests when asked and delivers, retrying undelivered messages
//! when they fall due, until told to stop. One task, so deliveries never race each other.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use tracing::error;

use crate::config::{Config, DigestSchedule};
use crate::mail::Transport;
use crate::model::WatchlistName;
use crate::outbox::{self, DigestContext, Due};
use crate::store::Store;

/// The mail task never sleeps longer than this, so clock jumps are noticed.
const MAX_SLEEP: Duration = Duration::from_secs(60);

enum Job {
    /// Compose (and send) the digests of these watchlists.
    Compose(Vec<WatchlistName>),
    /// A new config (and its transport) after a reload.
    Reconfigure(Arc<Config>, Transport),
    Stop,
}

/// The handle the scheduler talks to the mail task through.
pub(super) struct MailTask {
    tx: mpsc::UnboundedSender<Job>,
    task: tokio::task::JoinHandle<()>,
}

impl MailTask {
    /// Starts the task; it first retries every undelivered message (SPEC: at start-up).
    pub fn start(cfg: Arc<Config>, store: Arc<Store>, transport: Transport) -> MailTask {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(mail_loop(cfg, store, transport, rx));
        MailTask { tx, task }
    }

    /// Compose and send the digests of `names` (nothing happens for those with nothing new).
    pub fn compose(&self, names: Vec<WatchlistName>) {
        if !names.is_empty() {
            let _ = self.tx.send(Job::Compose(names));
        }
    }

    pub fn reconfigure(&self, cfg: Arc<Config>, transport: Transport) {
        let _ = self.tx.send(Job::Reconfigure(cfg, transport));
    }

    /// Asks the task to stop after the job at hand and waits until `deadline`; a delivery
    /// still running then is cancelled (and retried with the same Message-ID next time).
    pub async fn stop(mut self, deadline: tokio::time::Instant) {
        let _ = self.tx.send(Job::Stop);
        if tokio::time::timeout_at(deadline, &mut self.task)
            .await
            .is_err()
        {
            tracing::warn!("a delivery still running at shutdown was cancelled; it will be retried with the same Message-ID");
            self.task.abort();
        }
    }
}

/// The watchlists whose digests go out as soon as they have matches.
pub(super) fn immediate_watchlists(cfg: &Config) -> Vec<WatchlistName> {
    cfg.watchlists
        .iter()
        .filter(|w| matches!(w.digest, DigestSchedule::Immediate))
        .map(|w| w.name.clone())
        .collect()
}

async fn mail_loop(
    mut cfg: Arc<Config>,
    store: Arc<Store>,
    mut transport: Transport,
    mut rx: mpsc::UnboundedReceiver<Job>,
) {
    deliver(&cfg, &store, &transport, Due::All).await;
    loop {
        let next = store.next_delivery_at().await.ok().flatten();
        let sleep = next.map_or(MAX_SLEEP, |t| {
            (t - Utc::now()).to_std().unwrap_or_default().min(MAX_SLEEP)
        });
        tokio::select! {
            job = rx.recv() => match job {
                Some(Job::Compose(names)) => {
                    for name in names {
                        let Some(watchlist) = cfg.watchlists.get(&name) else { continue };
                        let cx = DigestContext { watchlist, mail: &cfg.mail, timezone: cfg.timezone };
                        if let Err(e) = outbox::compose_digest(&store, cx, Utc::now()).await {
                            error!(watchlist = %name, error = %e, "cannot record digest");
                        }
                    }
                    deliver(&cfg, &store, &transport, Due::Now).await;
                }
                Some(Job::Reconfigure(c, t)) => {
                    cfg = c;
                    transport = t;
                }
                Some(Job::Stop) | None => return,
            },
            () = tokio::time::sleep(sleep) => deliver(&cfg, &store, &transport, Due::Now).await,
        }
    }
}

async fn deliver(cfg: &Config, store: &Store, transport: &Transport, due: Due) {
    if let Err(e) = outbox::deliver_due(store, &cfg.mail, transport, Utc::now(), due).await {
        error!(error = %e, "delivery round failed");
    }
}
