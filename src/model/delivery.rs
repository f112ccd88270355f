//! Matches waiting for a digest, recorded digests and their deliveries.

use chrono::{DateTime, Utc};

use super::{Prominence, SourceName, StorySketch, WatchlistName};

/// A match waiting for its watchlist's next digest.
#[derive(Debug, Clone)]
pub struct PendingMatch {
    pub article_id: i64,
    pub url: Option<String>,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    pub source: SourceName,
    /// Terms as written in the config.
    pub terms: Vec<String>,
    pub snippet: String,
    /// Byte ranges into `snippet`.
    pub highlights: Vec<(usize, usize)>,
    /// Byte ranges into `title` (empty for matches recorded before newswatch kept them).
    pub title_highlights: Vec<(usize, usize)>,
    /// Where the terms sit (default for matches recorded before newswatch kept it).
    pub prominence: Prominence,
    /// When newswatch first recorded the article.
    pub first_seen: DateTime<Utc>,
    /// Its body's sketch; `None` for a body too short to tell (or recorded before).
    pub sketch: Option<StorySketch>,
}

/// A rendered message body: a one-line subject and the two alternative parts (made by
/// `digest`, wrapped and sent by `mail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A composed digest, recorded with its Message-ID and exact bytes before any transport
/// sees it, together with the matches it claims and the deliveries it owes.
#[derive(Debug, Clone)]
pub struct DigestRecord {
    pub watchlist: WatchlistName,
    pub message_id: String,
    pub subject: String,
    /// The whole message, headers included.
    pub message: Vec<u8>,
    /// The articles whose pending matches of `watchlist` it claims.
    pub article_ids: Vec<i64>,
    /// One delivery each.
    pub recipients: Vec<String>,
    /// The last health event it shows, if any.
    pub health_seen: Option<i64>,
}

/// One message to one recipient that has not been accepted yet.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub digest_id: i64,
    pub watchlist: WatchlistName,
    pub recipient: String,
    pub message_id: String,
    pub message: Vec<u8>,
    /// Attempts made so far.
    pub attempts: u32,
}

/// How a delivery attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryFailure {
    /// Try again at the given time.
    Transient(DateTime<Utc>),
    /// The server refused this recipient for good (5xx); stop trying.
    Permanent,
}

/// Where an undelivered message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Queued: it will be tried again.
    Pending,
    /// Refused for good.
    Failed,
}

/// A delivery not accepted (yet), for `status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Undelivered {
    pub watchlist: WatchlistName,
    pub message_id: String,
    #[serde(rename = "to")]
    pub recipient: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub state: DeliveryState,
}
