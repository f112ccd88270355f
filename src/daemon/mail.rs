//! The mail task: composes digests when asked and delivers, retrying undelivered messages
//! when they fall due, until told to stop. One task, so deliveries never race each other.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use tracing::error;

use chrono::DateTime;

use crate::config::{Config, DigestSchedule};
use crate::mail::Transport;
use crate::model::{InstanceId, WatchlistName};
use crate::outbox::{self, Claimant, DigestContext, Due};
use crate::store::Store;

/// The mail task never sleeps longer than this, so clock jumps are noticed.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// A digest to compose: the watchlist, and for a cron digest the tick it is for.
pub(super) type DigestJob = (WatchlistName, Option<DateTime<Utc>>);

enum Job {
    /// Compose (and send) the digests of these watchlists.
    Compose(Vec<DigestJob>),
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
    /// `me` claims each digest and delivery for `lease` while it works on it.
    pub fn start(
        cfg: Arc<Config>,
        store: Arc<Store>,
        transport: Transport,
        me: InstanceId,
        lease: Duration,
    ) -> MailTask {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(mail_loop(
            Mailer {
                cfg,
                store,
                transport,
                me,
                lease,
            },
            rx,
        ));
        MailTask { tx, task }
    }

    /// Compose and send these digests (nothing happens for those with nothing new).
    pub fn compose(&self, names: Vec<DigestJob>) {
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

/// What the mail task works with.
struct Mailer {
    cfg: Arc<Config>,
    store: Arc<Store>,
    transport: Transport,
    me: InstanceId,
    lease: Duration,
}

impl Mailer {
    fn claimant(&self) -> Claimant<'_> {
        Claimant {
            me: &self.me,
            lease: self.lease,
        }
    }

    async fn compose(&self, jobs: Vec<DigestJob>) {
        for (name, tick) in jobs {
            let Some(watchlist) = self.cfg.watchlists.get(&name) else {
                continue;
            };
            let cx = DigestContext {
                watchlist,
                mail: &self.cfg.mail,
                timezone: self.cfg.timezone,
            };
            if let Err(e) =
                outbox::compose_digest(&self.store, cx, Utc::now(), self.claimant(), tick).await
            {
                error!(watchlist = %name, error = %e, "cannot record digest");
            }
        }
    }

    async fn deliver(&self, due: Due) {
        let r = outbox::deliver_due(
            &self.store,
            &self.cfg.mail,
            &self.transport,
            due,
            self.claimant(),
        )
        .await;
        if let Err(e) = r {
            error!(error = %e, "delivery round failed");
        }
    }
}

async fn mail_loop(mut m: Mailer, mut rx: mpsc::UnboundedReceiver<Job>) {
    m.deliver(Due::All).await;
    loop {
        let next = m.store.next_delivery_at().await.ok().flatten();
        let sleep = next.map_or(MAX_SLEEP, |t| {
            (t - Utc::now()).to_std().unwrap_or_default().min(MAX_SLEEP)
        });
        tokio::select! {
            job = rx.recv() => match job {
                Some(Job::Compose(jobs)) => {
                    m.compose(jobs).await;
                    m.deliver(Due::Now).await;
                }
                Some(Job::Reconfigure(c, t)) => {
                    m.cfg = c;
                    m.transport = t;
                }
                Some(Job::Stop) | None => return,
            },
            () = tokio::time::sleep(sleep) => m.deliver(Due::Now).await,
        }
    }
}
