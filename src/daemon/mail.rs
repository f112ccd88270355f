//! The mail task: composes digests when asked and delivers, retrying undelivered messages
//! when they fall due, until told to stop. One task, so deliveries never race each other.
//!
//! A digest it could not compose yet — the database unreachable, or another instance
//! composing that watchlist's digest — stays owed and is tried again every
//! [`COMPOSE_RETRY`]: a cron tick that falls during an outage is composed once the database
//! is back, not a whole schedule later, and one whose composer died is composed once its claim
//! expires. Database errors are logged once for the whole process ([`DbHealth`]).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::instance::{DbHealth, Presence};
use crate::config::{Config, DigestSchedule};
use crate::mail::Transport;
use crate::model::{InstanceId, WatchlistName};
use crate::outbox::{self, Claimant, Composed, DigestContext, Due};
use crate::store::Store;

/// The mail task never sleeps longer than this, so clock jumps are noticed.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// How often an owed digest is tried again.
pub const COMPOSE_RETRY: Duration = Duration::from_secs(5);

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
    pub fn start(mailer: Mailer) -> MailTask {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(mail_loop(mailer, rx));
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
pub(super) struct Mailer {
    cfg: Arc<Config>,
    store: Arc<Store>,
    transport: Transport,
    me: InstanceId,
    /// How long its claims on digests and deliveries last.
    lease: Duration,
    db: Arc<DbHealth>,
    /// Digests not composed yet: tried again every [`COMPOSE_RETRY`].
    owed: Vec<DigestJob>,
}

impl Mailer {
    /// The mail task of the instance `presence`.
    pub fn new(
        cfg: Arc<Config>,
        store: Arc<Store>,
        transport: Transport,
        presence: &Presence,
    ) -> Mailer {
        Mailer {
            cfg,
            store,
            transport,
            me: presence.id().clone(),
            lease: presence.lease,
            db: presence.health(),
            owed: Vec::new(),
        }
    }

    fn claimant(&self) -> Claimant<'_> {
        Claimant {
            me: &self.me,
            lease: self.lease,
        }
    }

    /// Composes `jobs` and what is owed; keeps owing what could not be composed yet.
    async fn compose(&mut self, jobs: Vec<DigestJob>) {
        for job in jobs {
            if !self.owed.contains(&job) {
                self.owed.push(job);
            }
        }
        let mut still = Vec::new();
        for (name, tick) in std::mem::take(&mut self.owed) {
            let Some(watchlist) = self.cfg.watchlists.get(&name) else {
                continue;
            };
            // With the database down, one failed try is enough to know: the rest wait.
            if self.db.is_down() && !still.is_empty() {
                still.push((name, tick));
                continue;
            }
            let cx = DigestContext {
                watchlist,
                mail: &self.cfg.mail,
                timezone: self.cfg.timezone,
            };
            let r = outbox::compose_due(&self.store, cx, Utc::now(), self.claimant(), tick).await;
            self.db.note(&r);
            if matches!(r, Ok(Composed::Busy) | Err(_)) {
                still.push((name, tick));
            }
        }
        self.owed = still;
    }

    async fn deliver(&self, due: Due) {
        if self.db.is_down() {
            return;
        }
        let r = outbox::deliver_due(
            &self.store,
            &self.cfg.mail,
            &self.transport,
            due,
            self.claimant(),
        )
        .await;
        self.db.note(&r);
    }

    /// How long to sleep: until the next delivery is due, or an owed digest is tried again.
    async fn sleep_for(&self) -> Duration {
        let mut sleep = MAX_SLEEP;
        if !self.owed.is_empty() || self.db.is_down() {
            sleep = sleep.min(COMPOSE_RETRY);
        }
        if self.db.is_down() {
            return sleep;
        }
        let next = self.store.next_delivery_at().await;
        self.db.note(&next);
        match next {
            Ok(Some(t)) => sleep.min((t - Utc::now()).to_std().unwrap_or_default()),
            Ok(None) => sleep,
            Err(_) => sleep.min(COMPOSE_RETRY),
        }
    }
}

async fn mail_loop(mut m: Mailer, mut rx: mpsc::UnboundedReceiver<Job>) {
    m.deliver(Due::All).await;
    loop {
        let sleep = m.sleep_for().await;
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
            () = tokio::time::sleep(sleep) => {
                if !m.owed.is_empty() {
                    m.compose(Vec::new()).await;
                }
                m.deliver(Due::Now).await;
            }
        }
    }
}
