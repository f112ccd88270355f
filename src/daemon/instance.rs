//! This process among the instances sharing a database: its identity, its heartbeat
//! (renewing every lease it holds), the cleanup of instances on this machine that died, and
//! one log line when the database goes away and one when it is back.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{error, info, warn};

use crate::model::InstanceId;
use crate::store::{Instance, Store, StoreError};

/// What claims last when the config has no `[database]` (one instance on SQLite).
pub const LOCAL_LEASE: Duration = Duration::from_secs(crate::config::DEFAULT_LEASE_SECS);

/// This instance, and how long its claims last.
pub(super) struct Presence {
    pub me: Instance,
    pub lease: Duration,
    next_beat: tokio::time::Instant,
    db: DbHealth,
}

impl Presence {
    /// Registers this process; forgets instances of this machine whose process is gone (a
    /// restart after a crash takes its old claims back at once instead of waiting them out).
    ///
    /// # Errors
    /// The database fails.
    pub async fn start(store: &Store, lease: Duration) -> Result<Presence, StoreError> {
        let now = Utc::now();
        let machine = machine_name();
        let pid = std::process::id();
        let me = Instance {
            id: InstanceId::new(&machine, pid, rand::random()),
            host: machine.clone(),
            pid,
            started_at: now,
            seen_at: now,
        };
        for other in store.instances().await? {
            let long_gone = now - other.seen_at > chrono::Duration::days(1);
            if (other.host == machine && !process_alive(other.pid)) || long_gone {
                info!(instance = %other.id, "forgetting an instance that is gone; its claims are free");
                store.forget_instance(&other.id, now).await?;
            }
        }
        store.register_instance(&me).await?;
        Ok(Presence {
            me,
            lease,
            next_beat: tokio::time::Instant::now() + lease / 3,
            db: DbHealth::default(),
        })
    }

    pub fn id(&self) -> &InstanceId {
        &self.me.id
    }

    /// When a claim taken at `now` ends.
    pub fn lease_until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::minutes(1))
    }

    /// The loop must wake by then for the next heartbeat.
    pub fn wake_by(&self, wake: tokio::time::Instant) -> tokio::time::Instant {
        wake.min(self.next_beat)
    }

    /// The heartbeat, when due: alive, and every claim renewed for a lease.
    pub async fn beat_if_due(&mut self, store: &Store) {
        if tokio::time::Instant::now() < self.next_beat {
            return;
        }
        let now = Utc::now();
        let r = store
            .heartbeat(&self.me.id, now, self.lease_until(now))
            .await;
        self.db.note(&r);
        self.next_beat = tokio::time::Instant::now() + self.lease / 3;
    }

    /// Records how a database call went, for the once-per-change log lines.
    pub fn note<T>(&mut self, r: &Result<T, StoreError>) {
        self.db.note(r);
    }

    /// Whether the database answered last time.
    pub fn db_ok(&self) -> bool {
        !self.db.down
    }

    /// Stops: every claim released, so others need not wait them out.
    pub async fn leave(&self, store: &Store) {
        if let Err(e) = store.forget_instance(&self.me.id, Utc::now()).await {
            warn!(error = %e, "could not release this instance's claims; they expire by themselves");
        }
    }
}

/// Logs the database going away once, and coming back once — not once per source.
#[derive(Default)]
struct DbHealth {
    down: bool,
}

impl DbHealth {
    fn note<T>(&mut self, r: &Result<T, StoreError>) {
        match (r, self.down) {
            (Err(e), false) => {
                error!(error = %e, "database unreachable: claiming no new work until it is back; what is recorded is safe");
                self.down = true;
            }
            (Ok(_), true) => {
                info!("database reachable again: resuming");
                self.down = false;
            }
            _ => {}
        }
    }
}

/// This machine's name (for telling which instances run here).
fn machine_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Whether process `pid` exists on this machine.
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
