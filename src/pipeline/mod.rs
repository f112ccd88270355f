//! One source, one pass: fetch → extract → resolve each article → match → store.
//!
//! Resolving an article ([`resolve`]) takes it from the database when it is known, else reads
//! its page (with `follow`); what it is matched on is decided by [`text::choose_text`] and
//! whether its page's text is still owed by [`text::debt_after`], both pure. A page that
//! could not be read for a transient reason is tried again on later scans until its text
//! arrives or its tries are spent; the matches its text adds are new then.
//!
//! Per-item failure is data: a source that cannot be fetched or parsed yields a
//! [`ScanReport`] with `error` set and is recorded in the source's health; a linked page that
//! fails falls back to the feed's own text. `Err` only means the database failed.

mod text;

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use tracing::{debug, info, instrument, warn};
use url::Url;

use crate::config::{Config, Source};
use crate::extract::{self, canonical_url, fingerprint, Entry};
use crate::fetch::{FetchOutcome, Fetcher};
use crate::model::{
    HealthChange, KnownArticle, ScannedArticle, SourceName, SourceState, TextDebt, TextFrom,
    Validators, WatchlistName,
};
use crate::schedule::source_backoff;
use crate::store::{FetchFailure, FetchSuccess, Release, Store, StoreError};

pub use text::{
    choose_text, classify_failure, debt_after, Chosen, DebtAfter, FeedText, PageOutcome,
    TEXT_RETRY_BASE, TEXT_RETRY_CAP, TEXT_TRIES,
};

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
    pub watchlist: WatchlistName,
    pub source: SourceName,
    pub url: String,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub terms: Vec<String>,
    pub snippet: String,
    pub new: bool,
    /// What the article was matched on; `None` for articles recorded before this was kept.
    pub text_from: Option<TextFrom>,
}

/// What one scan of one source did.
#[derive(Debug, Clone)]
pub struct ScanReport {
    pub source: SourceName,
    /// The source was unchanged (304).
    pub not_modified: bool,
    /// Why the source could not be scanned, if it could not.
    pub error: Option<String>,
    pub articles: usize,
    pub matches: Vec<ScanMatch>,
    pub health: Option<HealthChange>,
    /// Whether the scan's record gave the source's claim back (a [`Release`] was given):
    /// `Some(false)` when the claim was no longer this instance's.
    pub released: Option<bool>,
}

impl ScanReport {
    /// A report of nothing done yet.
    #[must_use]
    pub fn new(source: SourceName) -> ScanReport {
        ScanReport {
            source,
            not_modified: false,
            error: None,
            articles: 0,
            matches: Vec::new(),
            health: None,
            released: None,
        }
    }

    /// Watchlists that got newly queued matches.
    #[must_use]
    pub fn watchlists_with_new(&self) -> HashSet<WatchlistName> {
        self.matches
            .iter()
            .filter(|m| m.new)
            .map(|m| m.watchlist.clone())
            .collect()
    }
}

/// What a scan starts from besides its source: the source's state when the caller read it
/// already, and the claim its record gives back.
#[derive(Default)]
pub struct ScanStart<'a> {
    /// The source's state, read for it (`None`: the scan reads it).
    pub state: Option<SourceState>,
    /// Given back with the scan's record (the daemon's claims).
    pub release: Option<&'a Release<'a>>,
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
    start: ScanStart<'_>,
) -> Result<ScanReport, StoreError> {
    crate::failpoint::panic_once(crate::failpoint::PANIC_IN_SCAN);
    let mut report = ScanReport::new(source.name.clone());
    let release = start.release;
    let state = match start.state {
        Some(state) => state,
        None => store.source_state(&source.name).await?,
    };
    let (entries, read) = match fetch_entries(config, fetcher, source, &state, mode).await {
        SourceDoc::Read(entries, fetched) => (dedup_entries(entries), read_of(&fetched, now)),
        // Unchanged: no entries, but pages still owed their text are tried again.
        SourceDoc::NotModified(validators) => {
            report.not_modified = true;
            let read = FetchSuccess {
                validators,
                status: 304,
                refetch_floor: None,
            };
            (Vec::new(), read)
        }
        SourceDoc::Failed(f) => {
            if mode == ScanMode::Record {
                (report.health, report.released) =
                    record_failure(store, source, &state, &f, now, release).await?;
            }
            report.error = Some(f.message);
            return Ok(report);
        }
    };

    let candidates = plan_articles(store, source, entries, state.baselined, mode, now).await?;
    let articles: Vec<ScannedArticle> = stream::iter(
        candidates
            .into_iter()
            .map(|c| resolve(config, fetcher, source, c, state.baselined, mode, now)),
    )
    .buffered(FOLLOW_CONCURRENCY)
    .filter_map(|a| async move { a })
    .collect()
    .await;
    report.articles = articles.len();
    (report.matches, report.health, report.released) =
        record(store, source, &articles, mode, &read, now, release).await?;
    if mode == ScanMode::Record {
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

/// What fetching a source's own document gave.
enum SourceDoc {
    Read(Vec<Entry>, crate::fetch::Fetched),
    NotModified(Validators),
    Failed(SourceFailure),
}

/// Why a source's document could not be read.
struct SourceFailure {
    message: String,
    status: Option<u16>,
    retry_after: Option<std::time::Duration>,
}

/// Fetches the source's feed, sitemap or listing page (conditionally when validators are
/// stored) and gathers its entries (a sitemap index's sitemaps are fetched by `gather`).
async fn fetch_entries(
    config: &Config,
    fetcher: &Fetcher,
    source: &Source,
    state: &SourceState,
    mode: ScanMode,
) -> SourceDoc {
    let validators = (mode == ScanMode::Record
        && (state.validators.etag.is_some() || state.validators.last_modified.is_some()))
    .then_some(&state.validators);
    let fetched = match fetcher.fetch(&source.url, validators).await {
        FetchOutcome::Fetched(f) => f,
        FetchOutcome::NotModified { validators } => {
            debug!(url = %source.url, "not modified");
            return SourceDoc::NotModified(validators);
        }
        FetchOutcome::Failed(e) => {
            warn!(url = %source.url, error = %e.message, "source fetch failed");
            return SourceDoc::Failed(SourceFailure {
                message: e.message,
                status: e.status,
                retry_after: e.retry_after,
            });
        }
    };
    let gathered =
        crate::gather::source_entries(fetcher, &fetched, source, config.http.max_body_bytes).await;
    match gathered {
        Ok(entries) => SourceDoc::Read(entries, fetched),
        Err(e) => {
            let message = e.to_string();
            warn!(url = %fetched.final_url, error = %message, "source document skipped");
            SourceDoc::Failed(SourceFailure {
                message,
                status: Some(fetched.status),
                retry_after: None,
            })
        }
    }
}

/// What a successful fetch of the source's document leaves to record: its validators, its
/// status, and how long the server or the feed asks not to be fetched again.
fn read_of(fetched: &crate::fetch::Fetched, now: DateTime<Utc>) -> FetchSuccess {
    let ttl = extract::feed_ttl_minutes(&fetched.body);
    let refetch_floor = crate::fetch::refetch_floor(fetched.max_age, ttl)
        .map(|floor| now + chrono::Duration::from_std(floor).unwrap_or_default());
    if let Some(until) = refetch_floor {
        debug!(until = %until, "server asks not to refetch before");
    }
    FetchSuccess {
        validators: fetched.validators.clone(),
        status: fetched.status,
        refetch_floor,
    }
}

/// Records the scanned articles with the fetch that read them, in one transaction (or, in a
/// dry run, says what recording would do); returns one [`ScanMatch`] per (watchlist,
/// article) pair, and the source's health change.
async fn record(
    store: &Store,
    source: &Source,
    articles: &[ScannedArticle],
    mode: ScanMode,
    read: &FetchSuccess,
    now: DateTime<Utc>,
    release: Option<&Release<'_>>,
) -> Result<(Vec<ScanMatch>, Option<HealthChange>, Option<bool>), StoreError> {
    let (recorded, health, released) = match mode {
        ScanMode::Record => {
            let r = store
                .record_read(&source.name, articles, read, now, release)
                .await?;
            crate::failpoint::hit(crate::failpoint::AFTER_RECORD_SCAN);
            (r.articles, r.health, r.released)
        }
        ScanMode::DryRun => (store.peek_scan(articles).await?, None, None),
    };
    let mut out = Vec::new();
    for (a, r) in articles.iter().zip(recorded) {
        let url = r
            .url
            .or_else(|| a.urls.first().cloned())
            .unwrap_or_else(|| source.url.to_string());
        for (m, new) in a.matches.iter().zip(r.new) {
            out.push(ScanMatch {
                watchlist: m.watchlist.clone(),
                source: source.name.clone(),
                url: url.clone(),
                title: a.title.clone(),
                published: a.published,
                terms: m.terms.clone(),
                snippet: m.snippet.clone(),
                new,
                text_from: a.text_from,
            });
        }
    }
    Ok((out, health, released))
}

async fn record_failure(
    store: &Store,
    source: &Source,
    state: &SourceState,
    failure: &SourceFailure,
    now: DateTime<Utc>,
    release: Option<&Release<'_>>,
) -> Result<(Option<HealthChange>, Option<bool>), StoreError> {
    let seed = u64::from(now.timestamp_subsec_nanos()) ^ source.name.as_str().len() as u64;
    let wait = source_backoff(state.consecutive_failures + 1, failure.retry_after, seed);
    let retry_at =
        now + chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::hours(6));
    let recorded = FetchFailure {
        message: failure.message.clone(),
        status: failure.status,
        retry_at,
    };
    let (change, released) = store
        .record_failure_then(&source.name, &recorded, now, release)
        .await?;
    if let Some(c) = change {
        warn!(url = %source.url, change = ?c, "source health changed");
    }
    Ok((change, released))
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

/// One article a scan will look at, and how its text will be had.
struct Candidate {
    /// What the feed said (or, for a page tried again, what was recorded from it).
    feed: FeedText,
    /// Canonical URLs it was reached by, preferred first.
    urls: Vec<String>,
    plan: Plan,
}

enum Plan {
    /// Known, with its text final or not due again yet: match what is stored.
    Stored(Box<KnownArticle>),
    /// Read its page; `tries_before` failed attempts were made already.
    Follow { url: Url, tries_before: u32 },
    /// Match the feed's text (no link, `follow = false`, or an old entry on a first fetch).
    FeedOnly,
}

/// Decides, for every entry and every owed page of the source, where its text comes from:
/// one read of the database for all entries.
async fn plan_articles(
    store: &Store,
    source: &Source,
    entries: Vec<Entry>,
    baselined: bool,
    mode: ScanMode,
    now: DateTime<Utc>,
) -> Result<Vec<Candidate>, StoreError> {
    let urls: Vec<Option<String>> = entries
        .iter()
        .map(|e| e.url.as_ref().map(|u| canonical_url(u).to_string()))
        .collect();
    let wanted: Vec<&str> = urls.iter().flatten().map(String::as_str).collect();
    // Owed pages are tried again whether or not the feed still lists them; dry runs only look.
    // A source never read owes nothing: its debts are written with its first record.
    let owed = (mode == ScanMode::Record && baselined).then_some((&source.name, now));
    let (mut known, mut owed) = store.known_and_owed(&wanted, owed).await?;
    let mut seen_ids = HashSet::new();
    let mut out = Vec::with_capacity(entries.len() + owed.len());
    for (entry, url) in entries.into_iter().zip(urls) {
        let candidate = if let Some(k) = url.as_ref().and_then(|u| known.remove(u)) {
            if k.forgotten {
                // Seen before `keep_text`: nothing to read, match or record.
                continue;
            }
            seen_ids.insert(k.id);
            plan_known(k, mode, now)
        } else {
            // On a first fetch an old entry is baseline: no need to fetch its page. An
            // undated entry is followed, since the page may carry the date the feed left out.
            let worth_following = baselined
                || entry.published.is_none()
                || source.backfill.reports(entry.published, now);
            let plan = match &entry.url {
                Some(u) if source.follow && worth_following => Plan::Follow {
                    url: u.clone(),
                    tries_before: 0,
                },
                _ => Plan::FeedOnly,
            };
            Candidate {
                feed: FeedText {
                    title: entry.title.unwrap_or_default(),
                    text: entry.text,
                    published: entry.published,
                    lang: entry.lang,
                },
                urls: url.into_iter().collect(),
                plan,
            }
        };
        out.push(candidate);
    }
    owed.retain(|k| !seen_ids.contains(&k.id));
    out.extend(owed.into_iter().map(|k| plan_known(k, mode, now)));
    Ok(out)
}

/// A known article's page is read again only when its text is owed and due; what was
/// recorded from the feed then stands in for the feed's text.
fn plan_known(k: KnownArticle, mode: ScanMode, now: DateTime<Utc>) -> Candidate {
    let urls = k.url.iter().cloned().collect();
    let retry = k
        .owed
        .as_ref()
        .filter(|o| mode == ScanMode::Record && o.next_try_at <= now)
        .and_then(|o| Some((Url::parse(&o.url).ok()?, o.tries)));
    match retry {
        Some((url, tries_before)) => Candidate {
            feed: FeedText {
                title: k.title,
                text: k.text,
                published: k.published,
                lang: k.lang,
            },
            urls,
            plan: Plan::Follow { url, tries_before },
        },
        None => Candidate {
            feed: FeedText::default(),
            urls,
            plan: Plan::Stored(Box::new(k)),
        },
    }
}

/// The article behind one candidate, matched: from the database, its page or the feed.
async fn resolve(
    config: &Config,
    fetcher: &Fetcher,
    source: &Source,
    c: Candidate,
    baselined: bool,
    mode: ScanMode,
    now: DateTime<Utc>,
) -> Option<ScannedArticle> {
    let Candidate {
        feed,
        mut urls,
        plan,
    } = c;
    let (chosen, text_from, debt) = match plan {
        Plan::Stored(k) => {
            let text_from = k.text_from;
            let chosen = Chosen {
                title: k.title,
                text: k.text,
                published: k.published,
                lang: k.lang,
                text_from: text_from.unwrap_or(TextFrom::Feed),
            };
            (chosen, text_from, TextDebt::Stored)
        }
        Plan::FeedOnly => {
            let chosen = choose_text(&feed, None);
            (chosen, Some(TextFrom::Feed), TextDebt::Settled)
        }
        Plan::Follow { url, tries_before } => {
            let outcome = read_page(fetcher, source, &url).await;
            let page = match &outcome {
                PageOutcome::Read(article, final_url) => {
                    let fin = canonical_url(final_url).to_string();
                    if !urls.contains(&fin) {
                        urls.push(fin);
                    }
                    crate::failpoint::hit(crate::failpoint::AFTER_FOLLOW);
                    Some(&**article)
                }
                _ => None,
            };
            let chosen = choose_text(&feed, page);
            let debt = text_debt(&url, tries_before, &outcome, now);
            (chosen.clone(), Some(chosen.text_from), debt)
        }
    };
    if chosen.title.trim().is_empty() && chosen.text.trim().is_empty() && debt == TextDebt::Settled
    {
        return None;
    }
    let matches = config.watchlists.find(
        &source.name,
        chosen.lang.as_deref(),
        &chosen.title,
        &chosen.text,
    );
    Some(ScannedArticle {
        // Stored articles are found by URL; their fingerprint is not needed again.
        fingerprint: match debt {
            TextDebt::Stored => String::new(),
            _ => fingerprint(&chosen.title, &chosen.text),
        },
        urls,
        // A stored article's sketch is stored with it; a dry run stores none.
        sketch: match (&debt, mode) {
            (TextDebt::Stored, _) | (_, ScanMode::DryRun) => None,
            _ => crate::stories::sketch(&chosen.text),
        },
        reportable_if_new: baselined || source.backfill.reports(chosen.published, now),
        title: chosen.title,
        published: chosen.published,
        lang: chosen.lang,
        text: chosen.text,
        text_from,
        debt,
        matches,
    })
}

/// The debt after an attempt at a page, logged: a page that keeps failing is logged when it
/// first fails and when its tries are spent, not on every scan.
fn text_debt(url: &Url, tries_before: u32, outcome: &PageOutcome, now: DateTime<Utc>) -> TextDebt {
    match debt_after(url, tries_before, outcome, now) {
        DebtAfter::Settled => {
            if let PageOutcome::Permanent(error) = outcome {
                warn!(url = %url, error = %error, "article page cannot be read; matched on the feed's text");
            }
            TextDebt::Settled
        }
        DebtAfter::Owed(d) => {
            if tries_before == 0 {
                if let PageOutcome::Transient { error, .. } = outcome {
                    warn!(url = %url, error = %error, "article page not read; matched on the feed's text for now, will try again");
                }
            } else {
                debug!(url = %url, tries = tries_before + 1, "article page still not read");
            }
            d
        }
        DebtAfter::GivenUp { error } => {
            warn!(url = %url, tries = TEXT_TRIES, error = %error, "article page never read; it stays matched on the feed's text");
            TextDebt::Settled
        }
    }
}

/// Fetches and extracts a linked article page, in a task of its own: the pages of one
/// source are extracted on every core at once instead of one after another in the scan's
/// task (issue 21); the host's gate still decides how many are fetched at once.
async fn read_page(fetcher: &Fetcher, source: &Source, url: &Url) -> PageOutcome {
    let (fetcher, url, content) = (fetcher.clone(), url.clone(), source.content.clone());
    let mut task = AbortOnDrop(tokio::spawn(async move {
        read_page_here(&fetcher, &url, content.as_ref()).await
    }));
    match (&mut task.0).await {
        Ok(outcome) => outcome,
        // A panic while reading a page is the scan's, as it was when it ran inline.
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => PageOutcome::Transient {
            error: format!("reading the page was cancelled: {e}"),
            retry_after: None,
        },
    }
}

/// A task that is cancelled when its handle is dropped (a cancelled scan leaves no page
/// reads behind).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn read_page_here(
    fetcher: &Fetcher,
    url: &Url,
    content: Option<&extract::Selector>,
) -> PageOutcome {
    match fetcher.fetch(url, None).await {
        FetchOutcome::Fetched(f) => match extract::extract_article(
            &f.body,
            f.content_type.as_deref(),
            Some(&f.final_url),
            content,
        ) {
            Ok(a) => PageOutcome::Read(Box::new(a), f.final_url),
            Err(e) => PageOutcome::Permanent(e.to_string()),
        },
        // Nothing was sent to make it conditional: a server answering 304 is confused.
        FetchOutcome::NotModified { .. } => PageOutcome::Transient {
            error: "unexpected 304 Not Modified".into(),
            retry_after: None,
        },
        FetchOutcome::Failed(e) => classify_failure(&e),
    }
}
