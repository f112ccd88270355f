//! This process among the instances sharing a database: its identity, its heartbeat
//! (renewing every lease it holds), the cleanup of instances on this machine that died, and
//! one log line when the database goes away and one when it is back, for the whole process
//! ([`DbHealth`], shared with the mail task).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{error, info, warn};

use super::DaemonError;
use crate::model::InstanceId;
use crate::store::{Instance, Store, StoreError};

/// What claims last when the config has no `[database]` (one instance on SQLite).
pub const LOCAL_LEASE: Duration = Duration::from_secs(crate::config::DEFAULT_LEASE_SECS);

/// This instance, and how long its claims last.
pub(super) struct Presence {
    pub me: Instance,
    pub lease: Duration,
    next_beat: tokio::time::Instant,
    db: Arc<DbHealth>,
}

impl Presence {
    /// Registers this process; forgets instances of this machine whose process is gone (a
    /// restart after a crash takes its old claims back at once instead of waiting them out).
    ///
    /// # Errors
    /// The database fails, or this machine's clock is too far from the database server's
    /// for leases to mean the same to every instance ([`check_clock`]).
    pub async fn start(store: &Store, lease: Duration) -> Result<Presence, DaemonError> {
        check_clock(store, lease).await?;
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
            db: Arc::default(),
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
    pub fn note<T>(&self, r: &Result<T, StoreError>) {
        self.db.note(r);
    }

    /// Whether the database answered last time.
    pub fn db_ok(&self) -> bool {
        !self.db.is_down()
    }

    /// The process's view of the database, for the mail task.
    pub fn health(&self) -> Arc<DbHealth> {
        Arc::clone(&self.db)
    }

    /// Stops: every claim released, so others need not wait them out.
    pub async fn leave(&self, store: &Store) {
        if let Err(e) = store.forget_instance(&self.me.id, Utc::now()).await {
            warn!(error = %e, "could not release this instance's claims; they expire by themselves");
        }
    }
}

/// Whether the database answers, as the last call found it; logs its going away once and
/// its coming back once for the whole process — not once per source, per delivery round or
/// per task.
#[derive(Debug, Default)]
pub(super) struct DbHealth {
    down: AtomicBool,
}

impl DbHealth {
    pub fn note<T>(&self, r: &Result<T, StoreError>) {
        match r {
            Err(e) => {
                if !self.down.swap(true, Ordering::Relaxed) {
                    error!(error = %e, "database unreachable: claiming no new work until it is back; what is recorded is safe");
                }
            }
            Ok(_) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    info!("database reachable again: resuming");
                }
            }
        }
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }
}

/// How far this machine's clock may be from the database server's before the start is
/// refused, as a part of the lease: a holder renews its claims a third of a lease before they
/// end, so instances whose clocks differ by less than that never take live claims from
/// each other.
const SKEW_REFUSED: u32 = 3;
/// A skew above this is logged: per-host delays and `Retry-After` are kept by the instances'
/// clocks too, so they are off by the skew.
const SKEW_LOGGED: chrono::Duration = chrono::Duration::seconds(1);

/// Leases are stamped with each instance's clock (the instances keep time with NTP; see the
/// README). With a shared database, the server's clock is the common reference: this one is
/// compared with it once at start-up, the round trip's midpoint against the server's time.
async fn check_clock(store: &Store, lease: Duration) -> Result<(), DaemonError> {
    let before = Utc::now();
    let Some(server) = store.server_time().await? else {
        return Ok(());
    };
    let after = Utc::now();
    let skew = clock_skew(before, server, after);
    let limit = chrono::Duration::from_std(lease / SKEW_REFUSED).unwrap_or(SKEW_LOGGED);
    if skew.abs() > limit {
        return Err(DaemonError::Clock(format!(
            "this machine's clock is {:.1} s {} the database server's; leases of {} s need \
             the instances' clocks within {} s of each other (run NTP, e.g. systemd-timesyncd \
             or chrony)",
            skew.abs().as_seconds_f64(),
            if skew > chrono::Duration::zero() {
                "behind"
            } else {
                "ahead of"
            },
            lease.as_secs(),
            limit.num_seconds()
        )));
    }
    if skew.abs() > SKEW_LOGGED {
        warn!(skew_ms = skew.num_milliseconds(), "this machine's clock differs from the database server's; per-host delays across instances are off by as much (run NTP)");
    }
    Ok(())
}

/// The server's clock minus ours: positive when ours is behind. `before` and `after` bracket
/// the round trip that read `server`.
fn clock_skew(
    before: DateTime<Utc>,
    server: DateTime<Utc>,
    after: DateTime<Utc>,
) -> chrono::Duration {
    let mid = before + (after - before) / 2;
    server - mid
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_700_000_000_000 + ms).unwrap()
    }

    #[test]
    fn skew_is_measured_from_the_round_trip_s_midpoint() {
        for (before, server, after, skew_ms) in [
            (0, 50, 100, 0),
            (0, 5_050, 100, 5_000),
            (0, -4_950, 100, -5_000),
            (1_000, 1_000, 1_000, 0),
        ] {
            assert_eq!(
                clock_skew(at(before), at(server), at(after)).num_milliseconds(),
                skew_ms,
                "{before} {server} {after}"
            );
        }
    }
}
