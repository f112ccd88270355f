//! One source, one pass: fetch → extract → (follow) → match → store.
//!
//! Per-item failure is data: a source that cannot be fetched or parsed yields a
//! [`ScanReport`] with `error` set and is recorded in the source's health; a linked page that
//! fails falls back to the feed's own text. `Err` only means the database failed.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use tracing::{debug, info, instrument, warn};
use url::Url;

use crate::config::{Config, Source};
use crate::extract::{self, canonical_url, fingerprint, Entry};
use crate::fetch::{FetchOutcome, Fetcher};
use crate::schedule::{backoff, with_jitter, SOURCE_BACKOFF_BASE, SOURCE_BACKOFF_CAP};
use crate::store::{HealthChange, ScannedArticle, ScannedMatch, Store, StoreError};

/// At most this many entries of one source document are considered per scan.
pub const MAX_ENTRIES: usize = 500;
/// Linked pages fetched at once per source (the per-host gate still applies).
pub const FOLLOW_CONCURRENCY: usize = 8;

/// Whether a scan writes to the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanMode {
    Record,
    DryRun,
}

/// One (watchlist, article) match found by a scan.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScanMatch {
    pub watchlist: String,
    pub source: String,
    pub url: String,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub terms: Vec<String>,
    pub snippet: String,
    pub new: bool,
}

/// What one scan of one source did.
#[derive(Debug, Clone, Default)]
pub struct ScanReport {
    pub source: String,
    /// The source was unchanged (304).
    pub not_modified: bool,
    /// Why the source could not be scanned, if it could not.
    pub error: Option<String>,
    pub articles: usize,
    pub matches: Vec<ScanMatch>,
    pub health: Option<HealthChange>,
}

impl ScanReport {
    /// Watchlists that got newly queued matches.
    pub fn watchlists_with_new(&self) -> HashSet<String> {
        self.matches
            .iter()
            .filter(|m| m.new)
            .map(|m| m.watchlist.clone())
            .collect()
    }
}

/// Scans `source` once.
///
/// # Errors
/// Only a database failure; every fetch or parse problem is in the report.
#[instrument(skip_all, fields(source = %source.name))]
pub async fn scan_source(
    config: &Config,
    store: &Store,
    fetcher: &Fetcher,
    source: &Source,
    mode: ScanMode,
    now: DateTime<Utc>,
) -> Result<ScanReport, StoreError> {
    crate::failpoint::panic_once(crate::failpoint::PANIC_IN_SCAN);
    let mut report = ScanReport {
        source: source.name.clone(),
        ..ScanReport::default()
    };
    let state = store.source_state(&source.name)?;
    let validators = (mode == ScanMode::Record
        && (state.validators.etag.is_some() || state.validators.last_modified.is_some()))
    .then_some(&state.validators);

    let fetched = match fetcher.fetch(&source.url, validators).await {
        FetchOutcome::Fetched(f) => f,
        FetchOutcome::NotModified { validators } => {
            debug!(url = %source.url, "not modified");
            report.not_modified = true;
            if mode == ScanMode::Record {
                report.health =
                    store.record_fetch_success(&source.name, Some(&validators), 304, now)?;
            }
            return Ok(report);
        }
        FetchOutcome::Failed(e) => {
            let msg = e.message.clone();
            warn!(url = %source.url, error = %msg, "source fetch failed");
            if mode == ScanMode::Record {
                report.health =
                    record_failure(store, source, &state, &msg, e.status, e.retry_after, now)?;
            }
            report.error = Some(msg);
            return Ok(report);
        }
    };

    let gathered =
        crate::gather::source_entries(fetcher, &fetched, source, config.http.max_body_bytes).await;
    let entries = match gathered {
        Ok(e) => e,
        Err(e) => {
            let msg = format!("{e}");
            warn!(url = %fetched.final_url, error = %msg, "source document skipped");
            if mode == ScanMode::Record {
                report.health =
                    record_failure(store, source, &state, &msg, Some(fetched.status), None, now)?;
            }
            report.error = Some(msg);
            return Ok(report);
        }
    };

    let entries = dedup_entries(entries);
    let articles: Vec<ScannedArticle> = stream::iter(entries.into_iter().map(|entry| {
        let baselined = state.baselined;
        async move { build_article(config, store, fetcher, source, entry, baselined, now).await }
    }))
    .buffered(FOLLOW_CONCURRENCY)
    .filter_map(|a| async move { a })
    .collect()
    .await;
    report.articles = articles.len();

    let recorded = match mode {
        ScanMode::Record => {
            let r = store.record_scan(&source.name, &articles, now)?;
            crate::failpoint::hit(crate::failpoint::AFTER_RECORD_SCAN);
            r
        }
        ScanMode::DryRun => store.peek_scan(&articles)?,
    };
    for r in recorded {
        let a = &articles[r.article];
        let m = a.matches.iter().find(|m| m.watchlist == r.watchlist);
        report.matches.push(ScanMatch {
            watchlist: r.watchlist.clone(),
            source: source.name.clone(),
            url: r.url.unwrap_or_else(|| source.url.to_string()),
            title: a.title.clone(),
            published: a.published,
            terms: m.map(|m| m.terms.clone()).unwrap_or_default(),
            snippet: m.map(|m| m.snippet.clone()).unwrap_or_default(),
            new: r.new,
        });
    }
    if mode == ScanMode::Record {
        report.health = store.record_fetch_success(
            &source.name,
            Some(&fetched.validators),
            fetched.status,
            now,
        )?;
        let ttl = extract::feed_ttl_minutes(&fetched.body);
        if let Some(floor) = crate::fetch::refetch_floor(fetched.max_age, ttl) {
            let until = now + chrono::Duration::from_std(floor).unwrap_or_default();
            store.set_refetch_floor(&source.name, until)?;
            debug!(source = %source.name, until = %until, "server asks not to refetch before");
        }
        let new = report.matches.iter().filter(|m| m.new).count();
        info!(
            articles = report.articles,
            matches = report.matches.len(),
            new,
            "source scanned"
        );
    }
    Ok(report)
}

fn record_failure(
    store: &Store,
    source: &Source,
    state: &crate::store::SourceState,
    msg: &str,
    status: Option<u16>,
    retry_after: Option<std::time::Duration>,
    now: DateTime<Utc>,
) -> Result<Option<HealthChange>, StoreError> {
    let wait = backoff(
        state.consecutive_failures + 1,
        SOURCE_BACKOFF_BASE,
        SOURCE_BACKOFF_CAP,
    );
    let seed = now.timestamp_subsec_nanos() as u64 ^ source.name.len() as u64;
    let wait = with_jitter(wait, seed).max(retry_after.unwrap_or_default());
    let retry_at =
        now + chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::hours(6));
    let change = store.record_fetch_failure(&source.name, msg, status, retry_at, now)?;
    if let Some(c) = change {
        warn!(url = %source.url, change = ?c, "source health changed");
    }
    Ok(change)
}

/// Drops repeated links (by canonical URL) and caps the count, keeping document order.
fn dedup_entries(entries: Vec<Entry>) -> Vec<Entry> {
    let mut seen = HashSet::new();
    entries
        .into_iter()
        .filter(|e| {
            e.url
                .as_ref()
                .is_none_or(|u| seen.insert(canonical_url(u).to_string()))
        })
        .take(MAX_ENTRIES)
        .collect()
}

/// The article behind one entry: from the database when known, else the linked page
/// (with `follow`), else the entry itself.
async fn build_article(
    config: &Config,
    store: &Store,
    fetcher: &Fetcher,
    source: &Source,
    entry: Entry,
    baselined: bool,
    now: DateTime<Utc>,
) -> Option<ScannedArticle> {
    let canonical = entry.url.as_ref().map(canonical_url);
    let mut urls: Vec<String> = canonical.iter().map(Url::to_string).collect();
    // On a first fetch an old entry is baseline: no need to fetch its page. An undated
    // entry is followed, since the page may carry the date the feed left out.
    let worth_following =
        baselined || entry.published.is_none() || source.backfill.reports(entry.published, now);

    let known = match urls.first() {
        Some(u) => store.known_article(&[u.as_str()]).ok().flatten(),
        None => None,
    };
    let (title, text, published, lang) = if let Some(k) = known {
        (k.title, k.text, k.published.or(entry.published), k.lang)
    } else if let (true, true, Some(url)) = (source.follow, worth_following, entry.url.as_ref()) {
        match follow(fetcher, source, url).await {
            Some((article, final_url)) => {
                let fin = canonical_url(&final_url).to_string();
                if !urls.contains(&fin) {
                    urls.push(fin);
                }
                let title = article
                    .title
                    .filter(|t| !t.trim().is_empty())
                    .or(entry.title.clone())
                    .unwrap_or_default();
                let text = if article.text.trim().is_empty() {
                    entry.text.clone()
                } else {
                    article.text
                };
                (
                    title,
                    text,
                    article.published.or(entry.published),
                    article.lang,
                )
            }
            None => (
                entry.title.clone().unwrap_or_default(),
                entry.text.clone(),
                entry.published,
                None,
            ),
        }
    } else {
        (
            entry.title.clone().unwrap_or_default(),
            entry.text.clone(),
            entry.published,
            None,
        )
    };
    if title.trim().is_empty() && text.trim().is_empty() {
        return None;
    }
    let reportable_if_new = baselined || source.backfill.reports(published, now);
    let matches = config
        .matcher
        .find(&title, &text)
        .into_iter()
        .filter(|m| {
            config.watchlists[m.watchlist].watches(&source.name)
                && config.watchlists[m.watchlist]
                    .accepts_language(lang.as_deref().or(entry.lang.as_deref()))
        })
        .map(|m| {
            let mut terms: Vec<String> = Vec::new();
            for h in &m.hits {
                if !terms.contains(&h.term) {
                    terms.push(h.term.clone());
                }
            }
            ScannedMatch {
                watchlist: config.watchlists[m.watchlist].name.clone(),
                terms,
                snippet: m.snippet.text.clone(),
                highlights: m
                    .snippet
                    .highlights
                    .iter()
                    .map(|r| (r.start, r.end))
                    .collect(),
            }
        })
        .collect();
    Some(ScannedArticle {
        urls,
        fingerprint: fingerprint(&title, &text),
        title,
        published,
        lang,
        text,
        reportable_if_new,
        matches,
    })
}

/// Fetches and extracts a linked article page; `None` (logged) when that fails.
async fn follow(fetcher: &Fetcher, source: &Source, url: &Url) -> Option<(extract::Article, Url)> {
    match fetcher.fetch(url, None).await {
        FetchOutcome::Fetched(f) => {
            match extract::extract_article(
                &f.body,
                f.content_type.as_deref(),
                Some(&f.final_url),
                source.content.as_ref(),
            ) {
                Ok(a) => Some((a, f.final_url)),
                Err(e) => {
                    warn!(url = %url, error = %e, "article page skipped; using the feed's text");
                    None
                }
            }
        }
        FetchOutcome::NotModified { .. } => None,
        FetchOutcome::Failed(e) => {
            warn!(url = %url, error = %e.message, "article fetch failed; using the feed's text");
            None
        }
    }
}
