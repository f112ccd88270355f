//! The daemon's dealings with the outside: reloading the config (on SIGHUP or when the file
//! changes), the systemd watchdog, and the status line systemd shows.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{info, warn};

use super::{Control, Loader};
use crate::config::Config;
use crate::fetch::Fetcher;
use crate::mail::Transport;
use crate::store::Store;
use crate::systemd;

/// How often [`watch_config`] looks at the config file.
pub const CONFIG_POLL: Duration = Duration::from_secs(2);
/// A changed config file is reloaded once it has been left alone this long, so an editor's
/// save in several writes (or a write-then-rename) is read once, complete.
pub const CONFIG_QUIET: Duration = Duration::from_millis(500);

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

/// A config that passed validation, with the fetcher and transport built from it.
pub(super) struct Reloaded {
    pub config: Arc<Config>,
    pub fetcher: Fetcher,
    pub transport: Transport,
}

/// Loads the config again; its errors (one message each) if it is not valid, in which case
/// the running config stays. A changed `state_dir` waits for a restart.
pub(super) fn reload(cfg: &Config, loader: &Loader) -> Result<Reloaded, Vec<String>> {
    let mut new = loader().map_err(|e| e.0.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    if new.state_dir != cfg.state_dir {
        warn!(old = %cfg.state_dir.display(), new = %new.state_dir.display(), "state_dir changes take effect at restart");
        new.state_dir.clone_from(&cfg.state_dir);
    }
    let fetcher = Fetcher::new(new.http.clone()).map_err(|e| vec![e.to_string()])?;
    let transport =
        Transport::from_config(&new.mail, &new.outbox_dir()).map_err(|e| vec![e.to_string()])?;
    Ok(Reloaded {
        config: Arc::new(new),
        fetcher,
        transport,
    })
}

/// Pings systemd's watchdog (when `WatchdogSec` is set) each time the scheduler loop turns,
/// whether or not the database answers. What the watchdog is for is a wedged process — a
/// loop that no longer turns — which a restart cures. A database that is down is not cured
/// by a restart: the instance waits for it, claiming nothing (and a restart would find it
/// down and exit 1 over and over). The loop's turns stay short while it is down (one try
/// every few seconds, each bounded by the connect timeout), so the pings keep coming.
/// (miniflux pings only after its `store.Ping()`; with a database shared by several
/// instances that would have systemd kill every instance at once for one outage.)
pub(super) struct Watchdog {
    every: Option<Duration>,
    next: Instant,
}

impl Watchdog {
    pub fn from_env() -> Watchdog {
        Watchdog {
            every: systemd::watchdog_interval(),
            next: Instant::now(),
        }
    }

    /// The scheduler must wake by then to ping in time.
    pub fn wake_by(&self, wake: Instant) -> Instant {
        match self.every {
            Some(_) => wake.min(self.next),
            None => wake,
        }
    }

    /// Pings if a ping is due.
    pub fn ping_if_due(&mut self) {
        let Some(every) = self.every else { return };
        if Instant::now() < self.next {
            return;
        }
        systemd::watchdog();
        self.next = Instant::now() + every;
    }
}

/// The shortest time between two status lines written after scans.
pub const STATUS_EVERY: Duration = Duration::from_secs(5);

/// systemd's status line after scans: computing it reads every source's health, which cost
/// every scan time in proportion to the number of sources (issue 21). It is written at most
/// every [`STATUS_EVERY`], when something changed, and never without `NOTIFY_SOCKET`.
pub(super) struct Status {
    /// A scan ended since the line was last written.
    stale: bool,
    next: Instant,
    enabled: bool,
}

impl Status {
    pub fn new() -> Status {
        Status {
            stale: false,
            next: Instant::now(),
            enabled: std::env::var_os("NOTIFY_SOCKET").is_some(),
        }
    }

    /// Something the line counts changed: written now, or when [`STATUS_EVERY`] has passed.
    pub async fn changed(&mut self, cfg: &Config, store: &Store, db_ok: bool) {
        self.stale = self.enabled;
        self.write_if_due(cfg, store, db_ok).await;
    }

    /// Writes the line owed, if one is and [`STATUS_EVERY`] has passed.
    pub async fn write_if_due(&mut self, cfg: &Config, store: &Store, db_ok: bool) {
        if !self.stale || Instant::now() < self.next {
            return;
        }
        systemd::status(&status_line(cfg, store, db_ok).await);
        self.stale = false;
        self.next = Instant::now() + STATUS_EVERY;
    }

    /// The loop must wake by then to write a line owed.
    pub fn wake_by(&self, wake: Instant) -> Instant {
        if self.stale {
            wake.min(self.next)
        } else {
            wake
        }
    }
}

/// One line for systemd's status: sources (failing), matches pending, deliveries queued; or,
/// while the database is unreachable (`db_ok` false), that it is waited for.
pub(super) async fn status_line(cfg: &Config, store: &Store, db_ok: bool) -> String {
    if !db_ok {
        return format!(
            "{} sources; database unreachable, waiting for it (nothing claimed meanwhile)",
            cfg.sources.len()
        );
    }
    let failing = store.source_health().await.map_or(0, |h| {
        h.iter()
            .filter(|s| s.consecutive_failures > 0 && cfg.source(s.name.as_str()).is_some())
            .count()
    });
    let q = store.queue_counts().await.unwrap_or_default();
    format!(
        "{} sources ({} failing), {} matches pending, {} deliveries queued",
        cfg.sources.len(),
        failing,
        q.pending_matches,
        q.undelivered
    )
}
