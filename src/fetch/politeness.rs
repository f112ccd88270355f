//! Per-host politeness: one [`HostGate`] per scheme+host+port, created lazily by [`HostPool`].
//!
//! A gate admits at most `per_host_concurrency` requests in flight and spaces request *starts*
//! `per_host_delay` apart. It also remembers when a host must be left alone: after a 429/503
//! with `Retry-After` until that instant, and after a timeout for [`TIMEOUT_COOLDOWN`]. While
//! blocked, new requests to that host fail fast with the remaining time instead of sleeping
//! (a daemon must not park a task for hours); the source's backoff decides when to retry.
//! Gates are independent: waiting at one never delays another host (lychee `HostPool`).
//!
//! The per-host robots.txt slot lives next to the gate ([`Host`]) so one map owns all
//! per-host state; the robots logic itself is in [`super::robots`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;
use url::Url;

use super::robots::RobotsSlot;
use super::{FailureKind, FetchError};

/// After a request to a host times out, further requests to it fail fast for this long, so a
/// host that accepts and never answers costs one timeout per scan, not one per queued URL.
pub const TIMEOUT_COOLDOWN: Duration = Duration::from_secs(60);

/// Identity of a host for politeness: scheme, host and effective port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostKey {
    scheme: String,
    host: String,
    port: u16,
}

impl HostKey {
    /// The key of an `http`/`https` URL with a host.
    ///
    /// # Errors
    /// `FailureKind::Other` for other schemes or a URL without host.
    pub fn from_url(url: &Url) -> Result<Self, FetchError> {
        let scheme = url.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(other_error(format!(
                "unsupported url scheme {scheme:?}, expected http or https"
            )));
        }
        let host = url
            .host_str()
            .ok_or_else(|| other_error("url has no host".to_owned()))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| other_error("url has no port".to_owned()))?;
        Ok(Self {
            scheme: scheme.to_owned(),
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

impl std::fmt::Display for HostKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// Why a host is not being asked right now.
#[derive(Debug, Clone)]
struct Block {
    until: Instant,
    kind: FailureKind,
    status: Option<u16>,
    /// Whether the server asked for it (so the error carries `retry_after`).
    server_asked: bool,
    reason: String,
}

#[derive(Debug)]
struct Schedule {
    next_start: Instant,
    block: Option<Block>,
}

/// The gate in front of one host.
///
/// Invariant: at most `concurrency` [`Admission`]s exist at once, and their start instants are
/// at least `delay` apart.
#[derive(Debug)]
pub struct HostGate {
    permits: Semaphore,
    delay: Duration,
    schedule: Mutex<Schedule>,
}

/// Proof of admission; the host slot is released when dropped.
#[derive(Debug)]
pub struct Admission<'g> {
    _permit: SemaphorePermit<'g>,
}

impl HostGate {
    /// A gate admitting `concurrency` (at least 1) requests at once, starts `delay` apart.
    #[must_use]
    pub fn new(concurrency: usize, delay: Duration) -> Self {
        Self {
            permits: Semaphore::new(concurrency.max(1)),
            delay,
            schedule: Mutex::new(Schedule {
                next_start: Instant::now(),
                block: None,
            }),
        }
    }

    /// Wait for a slot and for the politeness delay, then admit one request.
    ///
    /// # Errors
    /// The host is blocked (Retry-After or timeout cool-down): fails fast with the reason.
    pub async fn admit(&self) -> Result<Admission<'_>, FetchError> {
        self.check_block()?;
        let permit = self
            .permits
            .acquire()
            .await
            .expect("host gate semaphore is never closed");
        // The request that held the slot may have blocked the host meanwhile.
        self.check_block()?;
        let start = {
            let mut schedule = self.lock();
            let start = schedule.next_start.max(Instant::now());
            schedule.next_start = start + self.delay;
            start
        };
        tokio::time::sleep_until(start).await;
        Ok(Admission { _permit: permit })
    }

    /// Honour a server's `Retry-After`: refuse new requests to this host for `after`.
    pub fn retry_after(&self, after: Duration, status: u16) {
        self.block(Block {
            until: Instant::now() + after,
            kind: FailureKind::Status,
            status: Some(status),
            server_asked: true,
            reason: format!(
                "host answered http {status} with retry-after {}s",
                after.as_secs()
            ),
        });
    }

    /// The host did not answer in time: refuse new requests for [`TIMEOUT_COOLDOWN`].
    pub fn timed_out(&self) {
        self.block(Block {
            until: Instant::now() + TIMEOUT_COOLDOWN,
            kind: FailureKind::Timeout,
            status: None,
            server_asked: false,
            reason: "host timed out on an earlier request".to_owned(),
        });
    }

    fn block(&self, block: Block) {
        let mut schedule = self.lock();
        // Keep the later of two blocks: a short cool-down must not shorten a Retry-After.
        if schedule
            .block
            .as_ref()
            .is_none_or(|b| b.until < block.until)
        {
            schedule.block = Some(block);
        }
    }

    fn check_block(&self) -> Result<(), FetchError> {
        let mut schedule = self.lock();
        let now = Instant::now();
        match &schedule.block {
            Some(block) if block.until > now => {
                let left = block.until - now;
                Err(FetchError {
                    kind: block.kind,
                    status: block.status,
                    message: format!(
                        "skipped without request: {}; {}s left",
                        block.reason,
                        left.as_secs_f64().ceil()
                    ),
                    retry_after: block.server_asked.then_some(left),
                })
            }
            Some(_) => {
                schedule.block = None;
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Schedule> {
        // The critical sections cannot panic; recover the data if one ever did.
        self.schedule.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// All per-host state of one host: its gate and its robots.txt cache slot.
#[derive(Debug)]
pub struct Host {
    /// The politeness gate.
    pub gate: HostGate,
    /// Cached robots.txt rules (fetched once, refreshed daily).
    pub robots: RobotsSlot,
}

/// Lazily created [`Host`]s by [`HostKey`]. Hosts are never evicted: a daemon talks to a
/// bounded set of configured sites and the pages they link to.
#[derive(Debug)]
pub struct HostPool {
    concurrency: usize,
    delay: Duration,
    hosts: Mutex<HashMap<HostKey, Arc<Host>>>,
}

impl HostPool {
    /// A pool whose gates admit `concurrency` requests at once, `delay` apart.
    #[must_use]
    pub fn new(concurrency: usize, delay: Duration) -> Self {
        Self {
            concurrency,
            delay,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// The host for `key`, created on first use.
    pub fn host(&self, key: &HostKey) -> Arc<Host> {
        let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(hosts.entry(key.clone()).or_insert_with(|| {
            Arc::new(Host {
                gate: HostGate::new(self.concurrency, self.delay),
                robots: RobotsSlot::default(),
            })
        }))
    }
}

fn other_error(message: String) -> FetchError {
    FetchError {
        kind: FailureKind::Other,
        status: None,
        message,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn starts_are_spaced_by_delay() {
        let gate = HostGate::new(4, Duration::from_secs(1));
        let t0 = Instant::now();
        for i in 0..3u64 {
            let _a = gate.admit().await.expect("not blocked");
            assert_eq!(Instant::now() - t0, Duration::from_secs(i));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_fails_fast_then_expires() {
        let gate = HostGate::new(1, Duration::ZERO);
        gate.retry_after(Duration::from_secs(120), 429);
        let err = gate.admit().await.expect_err("blocked");
        assert_eq!(err.kind, FailureKind::Status);
        assert_eq!(err.status, Some(429));
        assert_eq!(err.retry_after, Some(Duration::from_secs(120)));
        tokio::time::advance(Duration::from_secs(121)).await;
        assert!(gate.admit().await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_cooldown_has_no_retry_after_and_does_not_shorten_block() {
        let gate = HostGate::new(1, Duration::ZERO);
        gate.retry_after(Duration::from_secs(600), 503);
        gate.timed_out();
        let err = gate.admit().await.expect_err("blocked");
        assert_eq!(err.status, Some(503));
        let gate = HostGate::new(1, Duration::ZERO);
        gate.timed_out();
        let err = gate.admit().await.expect_err("blocked");
        assert_eq!((err.kind, err.retry_after), (FailureKind::Timeout, None));
    }

    #[test]
    fn host_key_includes_scheme_and_port() {
        let key = |s: &str| HostKey::from_url(&Url::parse(s).expect("valid url"));
        assert_eq!(
            key("http://A.example/x").ok(),
            key("http://a.example:80/y").ok()
        );
        assert_ne!(
            key("http://a.example/").ok(),
            key("https://a.example/").ok()
        );
        assert_eq!(
            key("ftp://a.example/").map_err(|e| e.kind).err(),
            Some(FailureKind::Other)
        );
    }
}
