//! Extraction (STUB: replaced by the extract work).

use chrono::{DateTime, Utc};
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceKind {
    #[default]
    Auto,
    Feed,
    Page,
}

/// One item of a feed or one link of a listing page.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub url: Option<Url>,
    pub title: Option<String>,
    pub published: Option<DateTime<Utc>>,
    /// Summary/content as plain text; empty for listing links.
    pub text: String,
}

/// An article page.
#[derive(Debug, Clone, Default)]
pub struct Article {
    /// `<link rel=canonical>` when present.
    pub url: Option<Url>,
    pub title: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone)]
pub enum Extracted {
    Feed(Vec<Entry>),
    Listing(Vec<Entry>),
    Article(Article),
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("not a feed or an HTML page ({0})")]
    Unsupported(String),
    #[error("broken feed: {0}")]
    BrokenFeed(String),
    #[error("no article found")]
    NoArticle,
}

/// A source document: a feed's items, or a listing page's article links.
///
/// # Errors
/// See [`ExtractError`].
pub fn extract_source(
    _bytes: &[u8],
    _content_type: Option<&str>,
    _base: &Url,
    _kind: SourceKind,
    _links: Option<&scraper::Selector>,
) -> Result<Vec<Entry>, ExtractError> {
    todo!("extract stub")
}

/// An article page.
///
/// # Errors
/// See [`ExtractError`].
pub fn extract_article(
    _bytes: &[u8],
    _content_type: Option<&str>,
    _base: Option<&Url>,
    _content: Option<&scraper::Selector>,
) -> Result<Article, ExtractError> {
    todo!("extract stub")
}

/// Any document, classified automatically (for `newswatch extract`).
///
/// # Errors
/// See [`ExtractError`].
pub fn extract_any(
    _bytes: &[u8],
    _content_type: Option<&str>,
    _base: Option<&Url>,
) -> Result<Extracted, ExtractError> {
    todo!("extract stub")
}

/// Canonical form of an article URL: lower-case scheme and host, no fragment,
/// no `utm_*`, `fbclid`, `gclid` parameters.
pub fn canonical_url(url: &Url) -> Url {
    url.clone()
}

/// Fingerprint of an article's normalized title and body.
pub fn fingerprint(_title: &str, _body: &str) -> String {
    todo!("extract stub")
}
