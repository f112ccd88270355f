//! Fetching (STUB: replaced by the fetch work).

use std::time::Duration;
use url::Url;

pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub user_agent: String,
    pub timeout: Duration,
    pub max_body_bytes: u64,
    pub per_host_delay: Duration,
    pub per_host_concurrency: usize,
    pub respect_robots: bool,
}

/// HTTP cache validators for conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Fetched {
    pub final_url: Url,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub validators: Validators,
    /// `Cache-Control: max-age` or feed-level hint: do not refetch sooner.
    pub max_age: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Timeout,
    Connect,
    Status,
    TooLarge,
    WrongType,
    RobotsDisallowed,
    TooManyRedirects,
    Other,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct FetchError {
    pub kind: FailureKind,
    pub status: Option<u16>,
    pub message: String,
    /// From `Retry-After` on 429/503.
    pub retry_after: Option<Duration>,
}

#[derive(Debug, Clone)]
pub enum FetchOutcome {
    Fetched(Fetched),
    NotModified { validators: Validators },
    Failed(FetchError),
}

/// Polite HTTP client; cheap to clone.
#[derive(Debug, Clone)]
pub struct Fetcher {}

impl Fetcher {
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(_settings: FetchSettings) -> Result<Self, FetchError> {
        todo!("fetch stub")
    }

    pub async fn fetch(&self, _url: &Url, _validators: Option<&Validators>) -> FetchOutcome {
        todo!("fetch stub")
    }
}
