//! Articles and their matches, recorded together, and the full text still owed to some.
//!
//! An article's identity is its canonical URL and, failing that, the fingerprint of its
//! normalized title and body: every URL an article was reached by is kept in
//! `article_urls`, so a story reached through two feeds or two URLs is one article.
//!
//! An article whose page could not be read for a transient reason is recorded with the
//! feed's text and a row in `owed_text`; when a later scan reads the page, its text replaces
//! the feed's in the same transaction that records the matches it adds, and the debt ends.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use super::sources::ensure_row;
use super::{parse_ts, ts, Store, StoreError};
use crate::model::TextFrom;

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

/// Whether a scanned article's text is final, or its page's text is still owed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextDebt {
    /// The text was taken from the database as it is: nothing about it changes.
    Stored,
    /// The text is final: the page was read, or will not be (not followed, a permanent
    /// failure, or its tries are spent).
    Settled,
    /// The page could not be read for a transient reason: the article is recorded with
    /// what it has, and its page is tried again from `next_try_at`.
    Owed {
        /// The page to fetch.
        url: String,
        /// Failed attempts so far, this one included (≥ 1).
        tries: u32,
        next_try_at: DateTime<Utc>,
        error: String,
    },
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
    /// The text it was matched on.
    pub text: String,
    /// Where that text came from; `None` only for articles stored before this was kept.
    pub text_from: Option<TextFrom>,
    pub debt: TextDebt,
    /// Whether its matches are reported if the article is new (the backfill decision).
    pub reportable_if_new: bool,
    pub matches: Vec<ScannedMatch>,
}

/// What recording one scanned article did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedArticle {
    /// The article's canonical URL as stored (its first URL), if any.
    pub url: Option<String>,
    /// For each of the scanned article's matches, in order: queued for a digest now.
    pub new: Vec<bool>,
}

/// A page whose text is owed to a stored article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwedText {
    pub url: String,
    /// Failed attempts so far.
    pub tries: u32,
    pub next_try_at: DateTime<Utc>,
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
    /// `None` for articles recorded before newswatch kept it.
    pub text_from: Option<TextFrom>,
    /// Set while its page's text is owed.
    pub owed: Option<OwedText>,
}

const KNOWN_COLUMNS: &str = "a.id, a.url, a.title, a.published, a.lang, a.text, a.text_from,
     o.url, o.tries, o.next_try_at";

fn known_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KnownArticle> {
    let owed_url: Option<String> = r.get(7)?;
    Ok(KnownArticle {
        id: r.get(0)?,
        url: r.get(1)?,
        title: r.get(2)?,
        published: r.get::<_, Option<String>>(3)?.as_deref().and_then(parse_ts),
        lang: r.get(4)?,
        text: r.get(5)?,
        text_from: r.get::<_, Option<String>>(6)?.and_then(|t| t.parse().ok()),
        owed: match owed_url {
            Some(url) => Some(OwedText {
                url,
                tries: r.get(8)?,
                next_try_at: parse_ts(&r.get::<_, String>(9)?).unwrap_or_default(),
            }),
            None => None,
        },
    })
}

impl Store {
    /// The stored articles reached by any of `urls`, keyed by the URL asked for, read in
    /// one transaction (so they need not be fetched again).
    ///
    /// # Errors
    /// Database failure.
    pub fn known_articles(
        &self,
        urls: &[&str],
    ) -> Result<HashMap<String, KnownArticle>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut out = HashMap::new();
        {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {KNOWN_COLUMNS} FROM article_urls u JOIN articles a ON a.id = u.article_id
                 LEFT JOIN owed_text o ON o.article_id = a.id WHERE u.url = ?1"
            ))?;
            for url in urls {
                if let Some(k) = stmt.query_row([url], known_row).optional()? {
                    out.insert((*url).to_owned(), k);
                }
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// Articles of `source` whose page's text is owed and may be tried again at `now`.
    ///
    /// # Errors
    /// Database failure.
    pub fn owed_due(
        &self,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<KnownArticle>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {KNOWN_COLUMNS} FROM owed_text o JOIN articles a ON a.id = o.article_id
             WHERE o.source = ?1 AND o.next_try_at <= ?2 ORDER BY o.next_try_at, a.id"
        ))?;
        let rows = stmt.query_map(params![source, ts(now)], known_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many articles are owed their page's text, per source (for `status`).
    ///
    /// # Errors
    /// Database failure.
    pub fn owed_by_source(&self) -> Result<HashMap<String, u64>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT source, COUNT(*) FROM owed_text GROUP BY source")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records one scan of `source`: every article as seen, its text and its debt, and every
    /// match, in one transaction, and marks the source as baselined. Returns, per article in
    /// order, which of its matches were queued for a digest now.
    ///
    /// # Errors
    /// Database failure (nothing is recorded then).
    pub fn record_scan(
        &self,
        source: &str,
        articles: &[ScannedArticle],
        now: DateTime<Utc>,
    ) -> Result<Vec<RecordedArticle>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        ensure_row(&tx, source)?;
        let mut out = Vec::with_capacity(articles.len());
        let mut inserted = 0u64;
        for a in articles {
            let Some(stored) = upsert_article(&tx, source, a, now)? else {
                // A stored article that is gone meanwhile: nothing to record it against.
                out.push(RecordedArticle {
                    url: a.urls.first().cloned(),
                    new: vec![false; a.matches.len()],
                });
                continue;
            };
            inserted += u64::from(stored.inserted);
            let mut new = Vec::with_capacity(a.matches.len());
            for m in &a.matches {
                let state = if stored.reportable {
                    "pending"
                } else {
                    "baseline"
                };
                let changed = tx.execute(
                    "INSERT INTO matches (watchlist, article_id, source, terms, snippet, highlights, matched_at, state)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (watchlist, article_id) DO NOTHING",
                    params![
                        m.watchlist,
                        stored.id,
                        source,
                        serde_json::to_string(&m.terms).unwrap_or_default(),
                        m.snippet,
                        serde_json::to_string(&m.highlights).unwrap_or_default(),
                        ts(now),
                        state
                    ],
                )?;
                new.push(changed == 1 && stored.reportable);
            }
            out.push(RecordedArticle {
                url: stored.url,
                new,
            });
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
    pub fn peek_scan(
        &self,
        articles: &[ScannedArticle],
    ) -> Result<Vec<RecordedArticle>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut out = Vec::with_capacity(articles.len());
        for a in articles {
            let existing = find_article(&tx, a)?;
            let mut new = Vec::with_capacity(a.matches.len());
            for m in &a.matches {
                new.push(match &existing {
                    Some(found) => {
                        let recorded: bool = tx.query_row(
                            "SELECT EXISTS (SELECT 1 FROM matches WHERE watchlist = ?1 AND article_id = ?2)",
                            params![m.watchlist, found.id],
                            |r| r.get(0),
                        )?;
                        found.reportable && !recorded
                    }
                    None => a.reportable_if_new,
                });
            }
            out.push(RecordedArticle {
                url: existing.map_or_else(|| a.urls.first().cloned(), |f| f.url),
                new,
            });
        }
        tx.commit()?;
        Ok(out)
    }
}

/// The stored article a scanned one is.
struct Found {
    id: i64,
    url: Option<String>,
    reportable: bool,
    owed: bool,
}

/// The stored article matching `a` by URL or fingerprint.
fn find_article(
    conn: &rusqlite::Connection,
    a: &ScannedArticle,
) -> rusqlite::Result<Option<Found>> {
    let row = |r: &rusqlite::Row<'_>| {
        Ok(Found {
            id: r.get(0)?,
            url: r.get(1)?,
            reportable: r.get(2)?,
            owed: r.get(3)?,
        })
    };
    for url in &a.urls {
        let hit = conn
            .prepare_cached(
                "SELECT a.id, a.url, a.reportable, o.article_id IS NOT NULL FROM article_urls u
                 JOIN articles a ON a.id = u.article_id
                 LEFT JOIN owed_text o ON o.article_id = a.id WHERE u.url = ?1",
            )?
            .query_row([url], row)
            .optional()?;
        if hit.is_some() {
            return Ok(hit);
        }
    }
    if a.fingerprint.is_empty() {
        return Ok(None);
    }
    conn.prepare_cached(
        "SELECT a.id, a.url, a.reportable, o.article_id IS NOT NULL FROM articles a
         LEFT JOIN owed_text o ON o.article_id = a.id WHERE a.fingerprint = ?1",
    )?
    .query_row([&a.fingerprint], row)
    .optional()
}

/// Where a scanned article was recorded.
struct Stored {
    /// The article its matches belong to.
    id: i64,
    url: Option<String>,
    reportable: bool,
    inserted: bool,
}

/// Finds or inserts the article, pays or records its text debt. `None`: an article taken
/// from the database ([`TextDebt::Stored`]) that is no longer there.
fn upsert_article(
    tx: &Transaction<'_>,
    source: &str,
    a: &ScannedArticle,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<Stored>> {
    let stored = match find_article(tx, a)? {
        None if a.debt == TextDebt::Stored => return Ok(None),
        Some(found) => {
            add_urls(tx, found.id, &a.urls)?;
            if found.owed && a.debt != TextDebt::Stored {
                return settle_owed(tx, source, a, found).map(Some);
            }
            Stored {
                id: found.id,
                url: found.url,
                reportable: found.reportable,
                inserted: false,
            }
        }
        None => {
            tx.execute(
                "INSERT INTO articles (url, fingerprint, title, published, lang, text, source, first_seen, reportable, text_from)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    a.urls.first(),
                    a.fingerprint,
                    a.title,
                    a.published.map(ts),
                    a.lang,
                    a.text,
                    source,
                    ts(now),
                    a.reportable_if_new,
                    a.text_from.map(TextFrom::as_str),
                ],
            )?;
            let id = tx.last_insert_rowid();
            add_urls(tx, id, &a.urls)?;
            write_debt(tx, id, source, &a.debt)?;
            Stored {
                id,
                url: a.urls.first().cloned(),
                reportable: a.reportable_if_new,
                inserted: true,
            }
        }
    };
    Ok(Some(stored))
}

/// A later scan read (or gave up on) the page of an article whose text was owed: its text
/// replaces the one recorded, and its debt is paid or carried on. When the page's text turns
/// out to be a story already stored under another URL, it is that article (its matches go
/// there) and this one's debt ends.
fn settle_owed(
    tx: &Transaction<'_>,
    source: &str,
    a: &ScannedArticle,
    found: Found,
) -> rusqlite::Result<Stored> {
    let twin: Option<(i64, Option<String>, bool)> = tx
        .query_row(
            "SELECT id, url, reportable FROM articles WHERE fingerprint = ?1 AND id != ?2",
            params![a.fingerprint, found.id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if let Some((id, url, reportable)) = twin {
        tx.execute("DELETE FROM owed_text WHERE article_id = ?1", [found.id])?;
        return Ok(Stored {
            id,
            url,
            reportable,
            inserted: false,
        });
    }
    tx.execute(
        "UPDATE articles SET fingerprint = ?2, title = ?3, published = COALESCE(?4, published),
             lang = COALESCE(?5, lang), text = ?6, text_from = ?7 WHERE id = ?1",
        params![
            found.id,
            a.fingerprint,
            a.title,
            a.published.map(ts),
            a.lang,
            a.text,
            a.text_from.map(TextFrom::as_str),
        ],
    )?;
    write_debt(tx, found.id, source, &a.debt)?;
    Ok(Stored {
        id: found.id,
        url: found.url,
        reportable: found.reportable,
        inserted: false,
    })
}

fn add_urls(tx: &Transaction<'_>, id: i64, urls: &[String]) -> rusqlite::Result<()> {
    let mut stmt =
        tx.prepare_cached("INSERT OR IGNORE INTO article_urls (url, article_id) VALUES (?1, ?2)")?;
    for u in urls {
        stmt.execute(params![u, id])?;
    }
    Ok(())
}

fn write_debt(
    tx: &Transaction<'_>,
    id: i64,
    source: &str,
    debt: &TextDebt,
) -> rusqlite::Result<()> {
    match debt {
        TextDebt::Stored => {}
        TextDebt::Settled => {
            tx.execute("DELETE FROM owed_text WHERE article_id = ?1", [id])?;
        }
        TextDebt::Owed {
            url,
            tries,
            next_try_at,
            error,
        } => {
            tx.execute(
                "INSERT INTO owed_text (article_id, source, url, tries, next_try_at, last_error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (article_id) DO UPDATE SET url = excluded.url, tries = excluded.tries,
                     next_try_at = excluded.next_try_at, last_error = excluded.last_error",
                params![id, source, url, tries, ts(*next_try_at), error],
            )?;
        }
    }
    Ok(())
}
