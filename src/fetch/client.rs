//! The I/O shell: one HTTP request per redirect hop, through the host's gate and robots check.
//!
//! Owns the reqwest clients (User-Agent, connect and total timeouts, gzip/br/deflate, rustls,
//! redirects handled by [`super::Fetcher::fetch`] so every hop is gated and robots-checked),
//! conditional request headers, the streaming body cap and the mapping of transport errors to
//! [`FailureKind`]s. Decisions about a response head are [`classify`]'s; which addresses may
//! be connected to is [`super::guard`]'s, wired in here as both clients' DNS resolver, as a
//! check of IP-literal URLs before every hop, and in robots.txt's own redirect policy.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderValue};
use reqwest::redirect::Policy;
use tracing::debug;
use url::Url;

use super::classify::{classify, parse_retry_after, too_large, Verdict};
use super::guard::{self, GuardedResolver, NetworkPolicy, Refused};
use super::limits::{self, KeepAlive, POOL_IDLE};
use super::politeness::{HostGate, HostKey, HostPool};
use super::robots::{self, RobotsResponse, RobotsRules, ROBOTS_MAX_BYTES};
use super::{FailureKind, FetchError, FetchOutcome, FetchSettings, Fetched, Validators};

/// Upper bound on the TCP/TLS connect phase (the total timeout still applies on top).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects robots.txt may take (RFC 9309 §2.3.1.2 asks for at least five).
const ROBOTS_REDIRECTS: usize = 5;

/// Result of one request: a final outcome or the next URL to try.
#[derive(Debug)]
pub(crate) enum Hop {
    Done(FetchOutcome),
    Redirect(Url),
}

/// Shared state behind [`super::Fetcher`].
#[derive(Debug)]
pub(crate) struct Client {
    pages: reqwest::Client,
    robots: reqwest::Client,
    settings: FetchSettings,
    product_token: String,
    hosts: HostPool,
    network: Arc<NetworkPolicy>,
    keep_alive: KeepAlive,
}

impl Client {
    pub(crate) fn new(
        settings: FetchSettings,
        resolver: Arc<dyn reqwest::dns::Resolve>,
        ledger: Option<Arc<dyn super::politeness::Ledger>>,
    ) -> Result<Self, FetchError> {
        let mut network = settings.network.clone();
        network.trusted_hosts.extend(guard::env_proxy_hosts());
        let network = Arc::new(network);
        let resolver = Arc::new(GuardedResolver::new(resolver, network.clone()));
        // Connections kept for the next request: as many per host as may be in flight to it,
        // closed after `POOL_IDLE` unused (see `limits`); robots.txt keeps none (it is read
        // once a day, by a client of its own).
        let per_host = settings.per_host_concurrency.max(1);
        let build = |policy: Policy, idle_per_host: usize| {
            reqwest::Client::builder()
                .pool_idle_timeout(POOL_IDLE)
                .pool_max_idle_per_host(idle_per_host)
                .dns_resolver(resolver.clone())
                .user_agent(settings.user_agent.clone())
                .connect_timeout(CONNECT_TIMEOUT.min(settings.timeout))
                .timeout(settings.timeout)
                .redirect(policy)
                .gzip(true)
                .brotli(true)
                .deflate(true)
                .use_rustls_tls()
                .build()
                .map_err(|err| FetchError {
                    kind: FailureKind::Other,
                    status: None,
                    message: format!("building http client failed: {}", error_chain(&err)),
                    retry_after: None,
                })
        };
        Ok(Self {
            pages: build(Policy::none(), per_host)?,
            robots: build(robots_redirects(network.clone()), 0)?,
            keep_alive: KeepAlive::new(limits::process_budget().idle, per_host, POOL_IDLE),
            product_token: robots::product_token(&settings.user_agent).to_owned(),
            hosts: HostPool::new(
                settings.per_host_concurrency,
                settings.per_host_delay,
                ledger,
            ),
            settings,
            network,
        })
    }

    /// One hop: address check, robots check, gate admission, request, classification, body.
    pub(crate) async fn hop(&self, url: &Url, validators: Option<&Validators>) -> Hop {
        if let Err(refused) = self.network.check_url(url) {
            return Hop::Done(FetchOutcome::Failed(off_limits(&refused)));
        }
        let key = match HostKey::from_url(url) {
            Ok(key) => key,
            Err(err) => return Hop::Done(FetchOutcome::Failed(err)),
        };
        let host = self.hosts.host(&key);
        if self.settings.respect_robots {
            let rules = host
                .robots
                .rules(|| self.fetch_robots(&host.gate, url))
                .await;
            if !rules.allows(url) {
                debug!(url = %url, "robots.txt disallows url");
                return Hop::Done(FetchOutcome::Failed(FetchError {
                    kind: FailureKind::RobotsDisallowed,
                    status: None,
                    message: format!(
                        "disallowed by robots.txt of {key} for user agent {:?}; not requested",
                        self.product_token
                    ),
                    retry_after: None,
                }));
            }
        }
        let admission = match host.gate.admit().await {
            Ok(admission) => admission,
            Err(err) => return Hop::Done(FetchOutcome::Failed(err)),
        };
        // The host said yes; now a descriptor for it. Not the other way round: a request
        // waiting for its host's politeness delay must not hold one of these.
        let in_flight = limits::in_flight()
            .acquire()
            .await
            .expect("the in-flight semaphore is never closed");
        debug!(url = %url, "requesting");
        let timeout = self.settings.timeout;
        let result = tokio::time::timeout(timeout, self.request(url, &key, validators))
            .await
            .unwrap_or_else(|_| Err(timeout_error(timeout)));
        drop(in_flight);
        drop(admission);
        match result {
            Ok(hop) => hop,
            Err(err) => {
                if err.kind == FailureKind::Timeout {
                    host.gate.timed_out();
                }
                if let (Some(after), Some(status)) = (err.retry_after, err.status) {
                    host.gate.retry_after(after, status);
                }
                Hop::Done(FetchOutcome::Failed(err))
            }
        }
    }

    async fn request(
        &self,
        url: &Url,
        key: &HostKey,
        validators: Option<&Validators>,
    ) -> Result<Hop, FetchError> {
        let mut request = self.pages.get(url.clone());
        if !self.keep_alive.grant(key, std::time::Instant::now()) {
            // Too many hosts' connections are waiting in the pool already (`limits`).
            request = request.header(header::CONNECTION, "close");
        }
        if let Some(v) = validators {
            // A stored validator that is not a valid header value is skipped, not fatal.
            if let Some(etag) = v
                .etag
                .as_deref()
                .and_then(|s| HeaderValue::from_str(s).ok())
            {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = v
                .last_modified
                .as_deref()
                .and_then(|s| HeaderValue::from_str(s).ok())
            {
                request = request.header(header::IF_MODIFIED_SINCE, lm);
            }
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| transport_error(e, Phase::Send))?;
        let status = response.status().as_u16();
        let cap = self.settings.max_body_bytes;
        match classify(status, response.headers(), cap, SystemTime::now()) {
            Verdict::NotModified { validators: sent } => Ok(Hop::Done(FetchOutcome::NotModified {
                validators: merge_validators(sent, validators),
            })),
            Verdict::Redirect { location } => {
                url.join(&location)
                    .map(Hop::Redirect)
                    .map_err(|err| FetchError {
                        kind: FailureKind::Other,
                        status: Some(status),
                        message: format!("redirect to invalid location {location:?}: {err}"),
                        retry_after: None,
                    })
            }
            Verdict::Failed(err) => Err(err),
            Verdict::Accept(accepted) => {
                let body = read_capped(&mut response, cap).await?;
                Ok(Hop::Done(FetchOutcome::Fetched(Fetched {
                    final_url: url.clone(),
                    status,
                    content_type: accepted.content_type,
                    body,
                    validators: accepted.validators,
                    max_age: accepted.max_age,
                    content_location: accepted
                        .content_location
                        .and_then(|l| url.join(l.trim()).ok())
                        .map(Box::new),
                })))
            }
        }
    }

    /// Fetch and interpret robots.txt for the host of `page_url`, through the host's gate.
    async fn fetch_robots(&self, gate: &HostGate, page_url: &Url) -> (RobotsRules, Duration) {
        let url = robots::robots_url(page_url);
        let Ok(admission) = gate.admit().await else {
            // The host is blocked; the page request will fail fast with the reason. Cache
            // nothing so robots.txt is asked for once the block ends.
            return (RobotsRules::AllowAll, Duration::ZERO);
        };
        let in_flight = limits::in_flight()
            .acquire()
            .await
            .expect("the in-flight semaphore is never closed");
        let timeout = self.settings.timeout;
        let result = tokio::time::timeout(timeout, self.request_robots(&url)).await;
        drop(in_flight);
        drop(admission);
        let response = match result {
            Ok(Ok((status, body, retry_after))) => {
                if let Some(after) = retry_after {
                    gate.retry_after(after, status);
                }
                RobotsResponse::Answered { status, body }
            }
            Ok(Err(err)) => {
                debug!(url = %url, error = %err, "robots.txt unreachable");
                if err.kind == FailureKind::Timeout {
                    gate.timed_out();
                }
                RobotsResponse::Unreachable
            }
            Err(_) => {
                debug!(url = %url, "robots.txt timed out");
                gate.timed_out();
                RobotsResponse::Unreachable
            }
        };
        robots::rules_for(&response, &self.product_token)
    }

    async fn request_robots(
        &self,
        url: &Url,
    ) -> Result<(u16, Vec<u8>, Option<Duration>), FetchError> {
        let mut response = self
            .robots
            .get(url.clone())
            .send()
            .await
            .map_err(|e| transport_error(e, Phase::Send))?;
        let status = response.status().as_u16();
        let retry_after = if matches!(status, 429 | 503) {
            response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()))
        } else {
            None
        };
        let mut body = Vec::new();
        if (200..300).contains(&status) {
            // Rules past the first 512 KiB are ignored (RFC 9309 §2.5), not an error.
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| transport_error(e, Phase::Body))?
            {
                let room = usize::try_from(ROBOTS_MAX_BYTES).unwrap_or(usize::MAX) - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() as u64 >= ROBOTS_MAX_BYTES {
                    break;
                }
            }
        }
        debug!(url = %url, status, "robots.txt fetched");
        Ok((status, body, retry_after))
    }
}

/// robots.txt follows its redirects inside reqwest, so the IP-literal check is made here too
/// (named hosts go through the guarded resolver like every other request).
fn robots_redirects(network: Arc<NetworkPolicy>) -> Policy {
    Policy::custom(move |attempt| {
        if attempt.previous().len() > ROBOTS_REDIRECTS {
            attempt.error("too many redirects")
        } else if let Err(refused) = network.check_url(attempt.url()) {
            attempt.error(refused)
        } else {
            attempt.follow()
        }
    })
}

fn off_limits(refused: &Refused) -> FetchError {
    FetchError {
        kind: FailureKind::OffLimits,
        status: None,
        message: format!("not requested: {refused}"),
        retry_after: None,
    }
}

/// The guard's refusal, when it is what made `err` fail.
fn find_refused<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(r) = e.downcast_ref::<Refused>() {
            return Some(r);
        }
        source = e.source();
    }
    None
}

/// Read the (decompressed) body, failing as soon as it would exceed `cap` bytes. Never
/// allocates from `Content-Length`; memory stays at most `cap` plus one chunk.
async fn read_capped(response: &mut reqwest::Response, cap: u64) -> Result<Vec<u8>, FetchError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(e, Phase::Body))?
    {
        if body.len() as u64 + chunk.len() as u64 > cap {
            return Err(too_large(&format!(
                "body exceeds max_body_bytes {cap} after decompression; stopped reading"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A 304 may omit validators (RFC 9110 §15.4.5 only says SHOULD); keep the caller's then.
fn merge_validators(sent: Validators, previous: Option<&Validators>) -> Validators {
    let previous = previous.cloned().unwrap_or_default();
    Validators {
        etag: sent.etag.or(previous.etag),
        last_modified: sent.last_modified.or(previous.last_modified),
    }
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Send,
    Body,
}

pub(crate) fn timeout_error(timeout: Duration) -> FetchError {
    FetchError {
        kind: FailureKind::Timeout,
        status: None,
        message: format!("timed out after {}s", timeout.as_secs_f64()),
        retry_after: None,
    }
}

fn transport_error(err: reqwest::Error, phase: Phase) -> FetchError {
    let err = err.without_url();
    if let Some(refused) = find_refused(&err) {
        return off_limits(refused);
    }
    let (kind, what) = if err.is_timeout() {
        (FailureKind::Timeout, "timed out")
    } else if err.is_redirect() {
        (FailureKind::TooManyRedirects, "too many redirects")
    } else if err.is_builder() {
        (FailureKind::Other, "invalid request")
    } else if err.is_decode() {
        (FailureKind::Other, "body decoding failed")
    } else {
        match phase {
            // No response head arrived: refused, reset, closed, tls or garbage.
            Phase::Send => (FailureKind::Connect, "connection failed"),
            Phase::Body if is_connection_loss(&err) => (FailureKind::Connect, "connection lost"),
            Phase::Body => (FailureKind::Other, "reading body failed"),
        }
    };
    FetchError {
        kind,
        status: err.status().map(|s| s.as_u16()),
        message: format!("{what}: {}", error_chain(&err)).to_lowercase(),
        retry_after: None,
    }
}

fn is_connection_loss(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            return matches!(
                io.kind(),
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof
            );
        }
        source = e.source();
    }
    false
}

/// `outer: inner: innermost`, deduplicating adjacent repeats.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(err);
    while let Some(e) = source {
        let text = e.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}
