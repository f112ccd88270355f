//! Fetching: polite, bounded HTTP GETs that end in a typed [`FetchOutcome`].
//!
//! Owns the HTTP client, conditional GET, redirects (at most [`MAX_REDIRECTS`], each hop gated
//! and robots-checked), the streaming body cap, content-type checks, the per-host gate
//! ([`politeness`]), `Retry-After`, robots.txt ([`robots`]) and the pure response
//! classification ([`classify`]). It leaves parsing to `extract` and source health/backoff
//! bookkeeping to `store`/`pipeline`: a [`FetchError`] carries the kind, status and
//! `retry_after` they need, and its message is logged by the caller with source and URL.
//!
//! How many requests may be in flight at once, and connections kept open between them, is
//! [`limits`]'s: both are sized to the process's file-descriptor limit.
//!
//! Which addresses may be connected to is [`guard`]'s: private networks are off limits to
//! links from third-party content, checked on the resolved address of every hop.
//!
//! The main type is [`Fetcher`]: build one per configuration and clone it freely.

pub mod classify;
mod client;
pub mod guard;
pub mod limits;
pub mod politeness;
pub mod robots;

use std::sync::Arc;
use std::time::Duration;

use url::Url;

pub use crate::model::Validators;
pub use classify::{classify, parse_max_age, parse_retry_after, refetch_floor, Verdict};
pub use guard::{NetworkPolicy, Refused};

/// Default `[http] user_agent`; its first word is the robots.txt product token.
pub const DEFAULT_USER_AGENT: &str = "newswatch/0.1 (+https://example.org/newswatch)";
/// Default total timeout of one request (`[http] timeout_secs`).
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// Default `[http] max_body_bytes`.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 10_000_000;
/// Default `[http] per_host_delay_ms`.
pub const DEFAULT_PER_HOST_DELAY_MS: u64 = 1000;
/// Default `[http] per_host_concurrency`.
pub const DEFAULT_PER_HOST_CONCURRENCY: usize = 1;
/// Redirects followed before a fetch fails with [`FailureKind::TooManyRedirects`].
pub const MAX_REDIRECTS: usize = 5;

/// The `[http]` settings, resolved.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Sent as `User-Agent`; its product token (before `/`) is matched against robots.txt.
    pub user_agent: String,
    /// Total time for one request, from connecting to the last body byte.
    pub timeout: Duration,
    /// Largest body accepted, counted after decompression.
    pub max_body_bytes: u64,
    /// Minimum gap between request starts to one host.
    pub per_host_delay: Duration,
    /// Requests in flight at once to one host (0 is treated as 1).
    pub per_host_concurrency: usize,
    /// Whether robots.txt is fetched and obeyed.
    pub respect_robots: bool,
    /// Which private addresses may be reached (`[http] allow_private_networks` and the hosts
    /// of the configured sources).
    pub network: NetworkPolicy,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            per_host_delay: Duration::from_millis(DEFAULT_PER_HOST_DELAY_MS),
            per_host_concurrency: DEFAULT_PER_HOST_CONCURRENCY,
            respect_robots: true,
            network: NetworkPolicy::default(),
        }
    }
}

/// A successfully fetched body.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// URL after redirects: the base for relative links.
    pub final_url: Url,
    /// Final HTTP status (2xx).
    pub status: u16,
    /// `Content-Type` as sent, charset parameter included.
    pub content_type: Option<String>,
    /// Decompressed body, at most `max_body_bytes` long.
    pub body: Vec<u8>,
    /// Validators to store for the next conditional GET.
    pub validators: Validators,
    /// `Cache-Control: max-age` or feed-level hint: do not refetch sooner.
    pub max_age: Option<Duration>,
    /// `Content-Location`, resolved against `final_url`: a feed's base for relative links.
    /// (Boxed: rarely sent, and it keeps [`FetchOutcome`]'s variants close in size.)
    pub content_location: Option<Box<Url>>,
}

/// Why a fetch failed, for backoff decisions and health records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No complete answer within the timeout (also: host in timeout cool-down).
    Timeout,
    /// No HTTP response: refused, reset, closed, TLS failure.
    Connect,
    /// An HTTP status we do not read (4xx, 5xx, 429 …); see [`FetchError::status`].
    Status,
    /// Declared or actual (decompressed) body over `max_body_bytes`.
    TooLarge,
    /// A content type extract cannot parse (PDF, image, octet-stream …).
    WrongType,
    /// robots.txt forbids the URL for our user agent; it was not requested.
    RobotsDisallowed,
    /// More than [`MAX_REDIRECTS`] redirects (loops included).
    TooManyRedirects,
    /// Not requested: the URL is not http(s), or its address is in a private network that
    /// links from feeds may not reach ([`guard`]). The same URL always gets the same answer.
    OffLimits,
    /// Anything else: invalid redirect target, undecodable body.
    Other,
}

impl FailureKind {
    /// Whether trying the same URL again can give another answer. `OffLimits` and
    /// `RobotsDisallowed` cannot (until the config or robots.txt changes).
    #[must_use]
    pub fn is_permanent(self) -> bool {
        matches!(self, FailureKind::OffLimits | FailureKind::RobotsDisallowed)
    }
}

/// A failed fetch. `message` is lowercase, without URL, and says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FetchError {
    /// The category callers branch on.
    pub kind: FailureKind,
    /// The HTTP status, when one was received.
    pub status: Option<u16>,
    /// Human-readable reason.
    pub message: String,
    /// From `Retry-After` on 429/503 (or the time left of an earlier one for this host).
    pub retry_after: Option<Duration>,
}

/// The answer to "what did fetching this URL give?".
#[derive(Debug, Clone)]
pub enum FetchOutcome {
    /// A body to extract from.
    Fetched(Fetched),
    /// 304: nothing new; store these validators (the server's, else the ones sent).
    NotModified {
        /// Validators to keep.
        validators: Validators,
    },
    /// Nothing to extract; log and record it.
    Failed(FetchError),
}

/// Polite HTTP client; cheap to clone (an `Arc` inside), share one per configuration so all
/// fetches see the same per-host gates and robots cache.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: Arc<client::Client>,
}

impl Fetcher {
    /// Build the client and an empty host pool.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (e.g. TLS backend initialisation fails).
    pub fn new(settings: FetchSettings) -> Result<Self, FetchError> {
        Self::with_resolver(settings, Arc::new(guard::SystemResolver))
    }

    /// Like [`Fetcher::new`], with `resolver` looking names up instead of the system's
    /// resolver. The network guard still judges every address it returns.
    ///
    /// # Errors
    /// As [`Fetcher::new`].
    pub fn with_resolver(
        settings: FetchSettings,
        resolver: Arc<dyn reqwest::dns::Resolve>,
    ) -> Result<Self, FetchError> {
        Ok(Self {
            client: Arc::new(client::Client::new(settings, resolver, None)?),
        })
    }

    /// Like [`Fetcher::new`], keeping the politeness of a cluster of instances through
    /// `ledger` besides this process's own.
    ///
    /// # Errors
    /// As [`Fetcher::new`].
    pub fn clustered(
        settings: FetchSettings,
        ledger: Arc<dyn politeness::Ledger>,
    ) -> Result<Self, FetchError> {
        Ok(Self {
            client: Arc::new(client::Client::new(
                settings,
                Arc::new(guard::SystemResolver),
                Some(ledger),
            )?),
        })
    }

    /// GET `url`, conditionally when `validators` are given. Never panics; every failure is
    /// [`FetchOutcome::Failed`] with a reason.
    pub async fn fetch(&self, url: &Url, validators: Option<&Validators>) -> FetchOutcome {
        let mut current = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            match self.client.hop(&current, validators).await {
                client::Hop::Done(outcome) => return outcome,
                client::Hop::Redirect(next) => current = next,
            }
        }
        FetchOutcome::Failed(FetchError {
            kind: FailureKind::TooManyRedirects,
            status: None,
            message: format!("more than {MAX_REDIRECTS} redirects, last to {current}"),
            retry_after: None,
        })
    }
}
