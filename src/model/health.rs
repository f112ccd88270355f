//! What is known about fetching a source: HTTP validators, its state before a scan, its
//! health for `status`, and the changes of health that digests announce.

use chrono::{DateTime, Utc};

use super::SourceName;

/// HTTP cache validators for conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// `ETag`, sent back as `If-None-Match`.
    pub etag: Option<String>,
    /// `Last-Modified`, sent back as `If-Modified-Since`.
    pub last_modified: Option<String>,
}

impl Validators {
    /// Whether there is anything to make a request conditional with.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// What the pipeline needs to know about a source before fetching it.
#[derive(Debug, Clone, Default)]
pub struct SourceState {
    pub validators: Validators,
    /// False until the first successful fetch recorded articles (the baseline).
    pub baselined: bool,
    pub consecutive_failures: u32,
    /// Back-off or a server's cache hint: do not fetch before this.
    pub retry_at: Option<DateTime<Utc>>,
}

/// A change of a source's announced health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthChange {
    /// It has failed for a day (`store::FAILING_AFTER`).
    Failing,
    /// It works again after it was announced as failing.
    Recovered,
}

impl HealthChange {
    /// The spelling in the database.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            HealthChange::Failing => "failing",
            HealthChange::Recovered => "recovered",
        }
    }

    /// The change spelled `s` in the database.
    #[must_use]
    pub fn from_stored(s: &str) -> Option<HealthChange> {
        match s {
            "failing" => Some(HealthChange::Failing),
            "recovered" => Some(HealthChange::Recovered),
            _ => None,
        }
    }
}

/// A health change recorded for a source, to be mentioned once in the digests that watch it.
#[derive(Debug, Clone)]
pub struct HealthEvent {
    /// Increasing: a watchlist remembers the last one its digests showed.
    pub id: i64,
    pub source: SourceName,
    pub change: HealthChange,
    /// Since when it failed, or when it recovered.
    pub at: DateTime<Utc>,
    /// The last error, for a failing source.
    pub detail: String,
}

/// A source's health, for `status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceHealth {
    pub name: SourceName,
    pub last_fetch: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    pub failing_since: Option<DateTime<Utc>>,
    pub retry_at: Option<DateTime<Utc>>,
    pub articles_seen: u64,
    /// Whether the digests have announced it as failing.
    pub failing: bool,
}
