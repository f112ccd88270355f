//! Articles and their matches, recorded together.
//!
//! An article's identity is its canonical URL and, failing that, the fingerprint of its
//! normalized title and body: every URL an article was reached by is kept in
//! `article_urls`, so a story reached through two feeds or two URLs is one article.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use super::sources::ensure_row;
use super::{parse_ts, ts, Store, StoreError};

/// One watchlist's match on an article, ready to store.
#[derive(Debug, Clone)]
pub struct ScannedMatch {
    pub watchlist: String,
    /// Terms as written in the config.
    pub terms: Vec<String>,
    pub snippet: String,
    /// Byte ranges into `snippet`.
    pub highlights: Vec<(usize, usize)>,
}

/// An article as one scan saw it.
#[derive(Debug, Clone)]
pub struct ScannedArticle {
    /// Canonical URLs it was reached by, preferred first (may be empty).
    pub urls: Vec<String>,
    pub fingerprint: String,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    pub text: String,
    /// Whether its matches are reported if the article is new (the backfill decision).
    pub reportable_if_new: bool,
    pub matches: Vec<ScannedMatch>,
}

/// A (watchlist, article) pair after a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedMatch {
    /// Index into the scanned articles.
    pub article: usize,
    pub watchlist: String,
    /// The article's canonical URL as stored (its first URL), if any.
    pub url: Option<String>,
    /// True when this scan queued the pair for a digest.
    pub new: bool,
}

/// An article already in the database.
#[derive(Debug, Clone)]
pub struct KnownArticle {
    pub id: i64,
    pub url: Option<String>,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    pub text: String,
}

impl Store {
    /// The stored article reached by any of `urls`, if any (so it need not be fetched again).
    ///
    /// # Errors
    /// Database failure.
    pub fn known_article(&self, urls: &[&str]) -> Result<Option<KnownArticle>, StoreError> {
        let conn = self.conn();
        for url in urls {
            let found = conn
                .query_row(
                    "SELECT a.id, a.url, a.title, a.published, a.lang, a.text
                     FROM article_urls u JOIN articles a ON a.id = u.article_id WHERE u.url = ?1",
                    [url],
                    |r| {
                        Ok(KnownArticle {
                            id: r.get(0)?,
                            url: r.get(1)?,
                            title: r.get(2)?,
                            published: r.get::<_, Option<String>>(3)?.as_deref().and_then(parse_ts),
                            lang: r.get(4)?,
                            text: r.get(5)?,
                        })
                    },
                )
                .optional()?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// Records one scan of `source`: every article as seen and every match, in one
    /// transaction, and marks the source as baselined. Returns each (watchlist, article)
    /// pair with `new` true when it was queued for a digest now.
    ///
    /// # Errors
    /// Database failure (nothing is recorded then).
    pub fn record_scan(
        &self,
        source: &str,
        articles: &[ScannedArticle],
        now: DateTime<Utc>,
    ) -> Result<Vec<RecordedMatch>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        ensure_row(&tx, source)?;
        let mut out = Vec::new();
        let mut inserted = 0u64;
        for (i, a) in articles.iter().enumerate() {
            let (id, url, reportable, is_new) = upsert_article(&tx, source, a, now)?;
            inserted += u64::from(is_new);
            for m in &a.matches {
                let state = if reportable { "pending" } else { "baseline" };
                let changed = tx.execute(
                    "INSERT INTO matches (watchlist, article_id, source, terms, snippet, highlights, matched_at, state)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (watchlist, article_id) DO NOTHING",
                    params![
                        m.watchlist,
                        id,
                        source,
                        serde_json::to_string(&m.terms).unwrap_or_default(),
                        m.snippet,
                        serde_json::to_string(&m.highlights).unwrap_or_default(),
                        ts(now),
                        state
                    ],
                )?;
                out.push(RecordedMatch {
                    article: i,
                    watchlist: m.watchlist.clone(),
                    url: url.clone(),
                    new: changed == 1 && reportable,
                });
            }
        }
        tx.execute(
            "UPDATE sources SET first_fetch_at = COALESCE(first_fetch_at, ?2),
                 articles_seen = articles_seen + ?3 WHERE name = ?1",
            params![source, ts(now), inserted],
        )?;
        tx.commit()?;
        Ok(out)
    }

    /// What [`Store::record_scan`] would return, without writing anything (`--dry-run`).
    ///
    /// # Errors
    /// Database failure.
    pub fn peek_scan(&self, articles: &[ScannedArticle]) -> Result<Vec<RecordedMatch>, StoreError> {
        let conn = self.conn();
        let mut out = Vec::new();
        for (i, a) in articles.iter().enumerate() {
            let existing = find_article(&conn, a)?;
            for m in &a.matches {
                let (url, new) = match existing {
                    Some((id, ref url, reportable)) => {
                        let recorded: bool = conn.query_row(
                            "SELECT EXISTS (SELECT 1 FROM matches WHERE watchlist = ?1 AND article_id = ?2)",
                            params![m.watchlist, id],
                            |r| r.get(0),
                        )?;
                        (url.clone(), reportable && !recorded)
                    }
                    None => (a.urls.first().cloned(), a.reportable_if_new),
                };
                out.push(RecordedMatch {
                    article: i,
                    watchlist: m.watchlist.clone(),
                    url,
                    new,
                });
            }
        }
        Ok(out)
    }
}

/// `(id, url, reportable)` of the stored article matching `a` by URL or fingerprint.
fn find_article(
    conn: &rusqlite::Connection,
    a: &ScannedArticle,
) -> rusqlite::Result<Option<(i64, Option<String>, bool)>> {
    let row = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, r.get(1)?, r.get(2)?));
    for url in &a.urls {
        let hit = conn
            .query_row(
                "SELECT a.id, a.url, a.reportable FROM article_urls u
                 JOIN articles a ON a.id = u.article_id WHERE u.url = ?1",
                [url],
                row,
            )
            .optional()?;
        if hit.is_some() {
            return Ok(hit);
        }
    }
    conn.query_row(
        "SELECT id, url, reportable FROM articles WHERE fingerprint = ?1",
        [&a.fingerprint],
        row,
    )
    .optional()
}

/// Finds or inserts the article; returns `(id, url, reportable, inserted)`.
fn upsert_article(
    tx: &Transaction<'_>,
    source: &str,
    a: &ScannedArticle,
    now: DateTime<Utc>,
) -> rusqlite::Result<(i64, Option<String>, bool, bool)> {
    let (id, url, reportable, inserted) = match find_article(tx, a)? {
        Some((id, url, reportable)) => (id, url, reportable, false),
        None => {
            tx.execute(
                "INSERT INTO articles (url, fingerprint, title, published, lang, text, source, first_seen, reportable)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    a.urls.first(),
                    a.fingerprint,
                    a.title,
                    a.published.map(ts),
                    a.lang,
                    a.text,
                    source,
                    ts(now),
                    a.reportable_if_new
                ],
            )?;
            (
                tx.last_insert_rowid(),
                a.urls.first().cloned(),
                a.reportable_if_new,
                true,
            )
        }
    };
    for u in &a.urls {
        tx.execute(
            "INSERT OR IGNORE INTO article_urls (url, article_id) VALUES (?1, ?2)",
            params![u, id],
        )?;
    }
    Ok((id, url, reportable, inserted))
}
