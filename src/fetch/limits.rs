//! File descriptors: how many requests may be in flight at once and how many connections may
//! be kept open between requests, both sized to the process's descriptor limit (issue 21).
//!
//! Every request holds a socket; every connection kept alive in a client's pool holds one
//! while it waits. Under systemd the soft limit is 1,024 unless the unit raises it, and
//! 10,000 sources on 10,000 hosts once ran out (`too many open files`). So:
//! - [`raise_nofile_limit`], called once at start, lifts the soft limit to the hard one
//!   (systemd's hard limit is 524,288 by default);
//! - [`in_flight`] is one process-wide semaphore: a request takes a permit after its host's
//!   gate admitted it and gives it back when its body is read;
//! - [`KeepAlive`] decides whether a request may leave its connection open for the next: yes
//!   while the hosts whose connections may be waiting in the pool, times the connections
//!   each may keep ([`super::FetchSettings::per_host_concurrency`]), fit the rest of the
//!   budget; otherwise the request asks the server to close (`Connection: close`).
//!
//! A pooled connection is dropped after [`POOL_IDLE`] unused; the pool looks for such
//! connections every [`POOL_IDLE`], so one lives at most twice that after its last request:
//! [`KeepAlive`] counts a host for that long after it let a request keep its connection.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::politeness::HostKey;

/// Descriptors left for everything but HTTP: the database (and its log), standard streams,
/// the runtime's epoll and wake-up descriptors, signals, SMTP, a PostgreSQL pool.
pub const RESERVED_FDS: u64 = 64;
/// Requests in flight at once, however high the descriptor limit.
pub const MAX_IN_FLIGHT: usize = 256;
/// Requests in flight at once, however low the descriptor limit.
pub const MIN_IN_FLIGHT: usize = 4;
/// How long a connection waits unused in a client's pool before it is closed.
pub const POOL_IDLE: Duration = Duration::from_secs(10);

/// How the descriptors HTTP may use are shared out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Requests in flight at once (each holds a connection).
    pub in_flight: usize,
    /// Connections kept open between requests.
    pub idle: usize,
}

/// The budget under a soft descriptor limit of `soft`: half for requests in flight (at
/// most [`MAX_IN_FLIGHT`]), the rest for connections kept alive.
#[must_use]
pub fn budget(soft: u64) -> Budget {
    let usable = usize::try_from(soft.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX);
    let in_flight = (usable / 2).clamp(MIN_IN_FLIGHT, MAX_IN_FLIGHT);
    Budget {
        in_flight,
        idle: usable.saturating_sub(in_flight),
    }
}

/// The process's soft descriptor limit now.
#[must_use]
pub fn nofile_soft() -> u64 {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut l) } != 0 {
        return 1024;
    }
    l.rlim_cur
}

/// Raises the soft descriptor limit to the hard one; the (soft, hard) limits in force after.
/// Call before the first client is built.
#[must_use]
pub fn raise_nofile_limit() -> (u64, u64) {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct they are given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut l) != 0 {
            return (1024, 1024);
        }
        if l.rlim_cur < l.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: l.rlim_max,
                rlim_max: l.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raw const raised) == 0 {
                l = raised;
            }
        }
    }
    (l.rlim_cur, l.rlim_max)
}

/// The process's budget, fixed the first time it is asked for.
pub fn process_budget() -> Budget {
    static BUDGET: OnceLock<Budget> = OnceLock::new();
    *BUDGET.get_or_init(|| budget(nofile_soft()))
}

/// The permits of requests in flight, shared by every client of the process.
pub(crate) fn in_flight() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| Semaphore::new(process_budget().in_flight))
}

/// Which hosts may keep connections open in one client's pool (see the module's docs).
#[derive(Debug)]
pub(crate) struct KeepAlive {
    /// Connections at most, summed over hosts.
    idle: usize,
    /// Connections one host may keep.
    per_host: usize,
    /// How long a host counts after a request to it kept its connection.
    window: Duration,
    state: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    /// Each host counted now, and when a request last kept a connection to it.
    last: HashMap<HostKey, Instant>,
    /// Every grant in the window, oldest first.
    grants: VecDeque<(Instant, HostKey)>,
}

impl KeepAlive {
    /// At most `idle` connections kept, `per_host` per host, for pools that close a
    /// connection after `pool_idle` unused.
    pub(crate) fn new(idle: usize, per_host: usize, pool_idle: Duration) -> KeepAlive {
        KeepAlive {
            idle,
            per_host: per_host.max(1),
            window: pool_idle * 2 + Duration::from_secs(1),
            state: Mutex::new(Kept::default()),
        }
    }

    /// Whether a request to `host` starting at `now` may keep its connection open.
    pub(crate) fn grant(&self, host: &HostKey, now: Instant) -> bool {
        let mut kept = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some((t, _)) = kept.grants.front() {
            if now.duration_since(*t) < self.window {
                break;
            }
            let (t, h) = kept.grants.pop_front().expect("front exists");
            if kept.last.get(&h) == Some(&t) {
                kept.last.remove(&h);
            }
        }
        let counted = kept.last.contains_key(host);
        if !counted && (kept.last.len() + 1) * self.per_host > self.idle {
            return false;
        }
        kept.last.insert(host.clone(), now);
        kept.grants.push_back((now, host.clone()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> HostKey {
        HostKey::from_url(&url::Url::parse(&format!("http://h{n}.example/")).expect("url"))
            .expect("http url")
    }

    #[test]
    fn budget_follows_the_limit() {
        assert_eq!(
            budget(1024),
            Budget {
                in_flight: 256,
                idle: 704
            }
        );
        assert_eq!(
            budget(256),
            Budget {
                in_flight: 96,
                idle: 96
            }
        );
        assert_eq!(budget(10).in_flight, MIN_IN_FLIGHT);
        assert_eq!(budget(1 << 20).in_flight, MAX_IN_FLIGHT);
    }

    #[test]
    fn keep_alive_counts_hosts_until_their_connections_expire() {
        let k = KeepAlive::new(4, 2, Duration::from_secs(10));
        let t = Instant::now();
        assert!(k.grant(&key(1), t));
        assert!(k.grant(&key(2), t));
        // Two hosts of two connections fill the four.
        assert!(!k.grant(&key(3), t));
        // A host already counted may go on.
        assert!(k.grant(&key(1), t + Duration::from_secs(5)));
        // Host 2's connections have expired by then; host 1's not (granted at 5 s).
        let later = t + Duration::from_secs(22);
        assert!(k.grant(&key(3), later));
        assert!(!k.grant(&key(4), later));
        assert!(k.grant(&key(4), t + Duration::from_secs(27)));
    }
}
