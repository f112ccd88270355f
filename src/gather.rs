//! A source's entries from its fetched document, fetching more only for a sitemap index.
//!
//! The one step between `fetch` and `extract` that may need more requests than the source's
//! own: a `<sitemapindex>` lists the sitemaps that hold the articles, and those are fetched
//! here (through the same [`Fetcher`], so robots.txt, the per-host gate and `max_body_bytes`
//! apply to each). Everything else is [`extract::extract_source`] on the document, with the
//! base a feed's relative links resolve against: its `Content-Location`, else the URL after
//! redirects (an `xml:base` inside the feed still wins).
//!
//! Bounds, all logged and none fatal: an index is followed at most [`MAX_INDEX_DEPTH`]
//! levels deep and at most [`MAX_SITEMAPS_PER_SCAN`] sitemaps are fetched per scan (most
//! recently modified first); a sitemap already read in this scan (an index listing itself)
//! is not read again; a sitemap over `max_body_bytes`, compressed or inflated, is skipped;
//! and of all the URLs read only the [`pipeline::MAX_ENTRIES`] newest go on.

use std::collections::{HashSet, VecDeque};

use tracing::{debug, info, warn};
use url::Url;

use crate::config::Source;
use crate::extract::sitemap::{self, UrlSet};
use crate::extract::{self, canonical_url, Entry, ExtractError, Sitemap, SourceKind};
use crate::fetch::{FetchOutcome, Fetched, Fetcher};
use crate::pipeline;

/// Levels of sitemap index followed below the source's own document.
pub const MAX_INDEX_DEPTH: usize = 3;
/// Child sitemaps fetched for one scan of one source.
pub const MAX_SITEMAPS_PER_SCAN: usize = 20;

/// The entries of `source`'s fetched document; for a sitemap index, of the sitemaps it lists.
///
/// # Errors
/// What [`extract::extract_source`] returns for the document itself, and
/// [`ExtractError::BrokenSitemap`] when not one sitemap an index lists could be read.
pub async fn source_entries(
    fetcher: &Fetcher,
    fetched: &Fetched,
    source: &Source,
    max_body_bytes: u64,
) -> Result<Vec<Entry>, ExtractError> {
    let content_type = fetched.content_type.as_deref();
    let is_sitemap = match source.kind {
        SourceKind::Sitemap => true,
        SourceKind::Auto => sitemap::is_sitemap(&fetched.body),
        SourceKind::Feed | SourceKind::Page => false,
    };
    if !is_sitemap {
        let base = document_base(fetched, source.kind);
        let (entries, left) = extract::extract_source_first(
            &fetched.body,
            content_type,
            &base,
            source.kind,
            source.links.as_ref(),
            pipeline::MAX_ENTRIES,
        )?;
        if left > 0 {
            warn!(
                url = %fetched.final_url,
                read = entries.len(),
                left,
                "source lists more entries than one scan reads; the first kept, the rest left"
            );
        }
        return Ok(entries);
    }
    let cap = max_body_bytes.min(sitemap::MAX_SITEMAP_BYTES);
    let root = sitemap::extract_sitemap(&fetched.body, &fetched.final_url, cap)?;
    let mut walk = Walk::default();
    walk.seen.insert(canonical_url(&source.url).to_string());
    walk.seen
        .insert(canonical_url(&fetched.final_url).to_string());
    walk.take(root, 0, &fetched.final_url);
    walk.follow(fetcher, cap).await?;
    Ok(walk.finish())
}

/// The base a document's relative URLs resolve against. A feed's is its `Content-Location`
/// when it sent one (as feedparser and feed readers do); an HTML page keeps the URL it was
/// fetched from, since RFC 7231 §3.1.4.2 no longer makes `Content-Location` a base and HTML
/// has `<base href>` for that.
fn document_base(fetched: &Fetched, kind: SourceKind) -> Url {
    let is_feed = match kind {
        SourceKind::Feed => true,
        SourceKind::Page | SourceKind::Sitemap => false,
        SourceKind::Auto => {
            let head = &fetched.body[..fetched.body.len().min(4096)];
            let (text, _) = extract::charset::decode(head, fetched.content_type.as_deref());
            extract::sniff(&text, fetched.content_type.as_deref()) == extract::Sniffed::Feed
        }
    };
    match &fetched.content_location {
        Some(location) if is_feed && matches!(location.scheme(), "http" | "https") => {
            (**location).clone()
        }
        _ => fetched.final_url.clone(),
    }
}

/// One scan's walk over a sitemap index.
#[derive(Default)]
struct Walk {
    /// Canonical URLs of the sitemaps read or queued.
    seen: HashSet<String>,
    queue: VecDeque<(Url, usize)>,
    entries: Vec<Entry>,
    entry_urls: HashSet<String>,
    /// URLs read but not kept: past a sitemap's 50,000, or older than the newest kept.
    left: usize,
    /// Sitemaps listed again (an index listing itself, or two listing one sitemap).
    repeated: usize,
    fetched: usize,
    readable: usize,
    first_failure: Option<String>,
}

impl Walk {
    /// Adds what one sitemap held: its entries, or its children to the queue.
    fn take(&mut self, map: Sitemap, depth: usize, url: &Url) {
        match map {
            Sitemap::Urls(set) => self.add_urls(set),
            Sitemap::Index(children) if depth >= MAX_INDEX_DEPTH => {
                warn!(
                    url = %url,
                    children = children.len(),
                    max_depth = MAX_INDEX_DEPTH,
                    "sitemap index nested too deep; its sitemaps not read"
                );
            }
            Sitemap::Index(children) => {
                for child in children {
                    if self.seen.insert(canonical_url(&child.url).to_string()) {
                        self.queue.push_back((child.url, depth + 1));
                    } else {
                        self.repeated += 1;
                        debug!(index = %url, sitemap = %child.url, "sitemap listed again; not read twice");
                    }
                }
            }
        }
    }

    fn add_urls(&mut self, set: UrlSet) {
        self.left += set.left;
        for entry in set.entries {
            let key = entry.url.as_ref().map(|u| canonical_url(u).to_string());
            if key.is_none_or(|k| self.entry_urls.insert(k)) {
                self.entries.push(entry);
            }
        }
        // Keep memory to the entries that can still be among the newest.
        if self.entries.len() > 4 * pipeline::MAX_ENTRIES {
            self.keep_newest();
        }
    }

    fn keep_newest(&mut self) {
        sitemap::newest_first(&mut self.entries);
        if self.entries.len() > pipeline::MAX_ENTRIES {
            self.left += self.entries.len() - pipeline::MAX_ENTRIES;
            self.entries.truncate(pipeline::MAX_ENTRIES);
        }
    }

    /// Fetches and reads the queued sitemaps, most recently modified first, within the bounds.
    async fn follow(&mut self, fetcher: &Fetcher, cap: u64) -> Result<(), ExtractError> {
        let listed = self.queue.len();
        while let Some((url, depth)) = self.queue.pop_front() {
            if self.fetched == MAX_SITEMAPS_PER_SCAN {
                warn!(
                    not_read = self.queue.len() + 1,
                    max = MAX_SITEMAPS_PER_SCAN,
                    "sitemap index lists more sitemaps than one scan reads; the least recently modified wait"
                );
                break;
            }
            self.fetched += 1;
            match self.read_one(fetcher, &url, cap).await {
                Ok((map, final_url)) => {
                    self.readable += 1;
                    self.seen.insert(canonical_url(&final_url).to_string());
                    self.take(map, depth, &final_url);
                }
                Err(reason) => {
                    warn!(url = %url, error = %reason, "sitemap skipped");
                    self.first_failure.get_or_insert(format!("{url}: {reason}"));
                }
            }
        }
        if self.repeated > 0 {
            info!(
                repeated = self.repeated,
                "sitemap index lists sitemaps already read in this scan (itself, or one twice); each read once"
            );
        }
        if self.fetched > 0 && self.readable == 0 {
            return Err(ExtractError::BrokenSitemap(format!(
                "none of the {listed} sitemaps the index lists could be read; first: {}",
                self.first_failure.take().unwrap_or_default()
            )));
        }
        Ok(())
    }

    async fn read_one(
        &self,
        fetcher: &Fetcher,
        url: &Url,
        cap: u64,
    ) -> Result<(Sitemap, Url), String> {
        match fetcher.fetch(url, None).await {
            FetchOutcome::Fetched(f) => sitemap::extract_sitemap(&f.body, &f.final_url, cap)
                .map(|m| (m, f.final_url))
                .map_err(|e| e.to_string()),
            FetchOutcome::NotModified { .. } => Err("not modified without validators".into()),
            FetchOutcome::Failed(e) => Err(e.message),
        }
    }

    /// The newest entries, at most [`pipeline::MAX_ENTRIES`], saying what was left.
    fn finish(mut self) -> Vec<Entry> {
        self.keep_newest();
        if self.left > 0 {
            info!(
                kept = self.entries.len(),
                left = self.left,
                "sitemap holds more URLs than one scan reads; the newest kept, the older left"
            );
        }
        self.entries
    }
}
