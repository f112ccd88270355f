//! Articles and their matches, recorded together, and the full text still owed to some.
//!
//! An article's identity is its canonical URL and, failing that, the fingerprint of its
//! normalized title and body: every URL an article was reached by is kept in
//! `article_urls`, so a story reached through two feeds or two URLs is one article.
//!
//! Past `keep_text` an article is reduced to its keys ([`url_key`], [`fingerprint_key`] in
//! `article_keys`): an entry or a page found there is an article seen long ago, and nothing
//! of it is matched or recorded again.
//!
//! An article whose page could not be read for a transient reason is recorded with the
//! feed's text and a row in `owed_text`; when a later scan reads the page, its text replaces
//! the feed's in the same transaction that records the matches it adds, and the debt ends.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::retention::{day_of, lower_oldest_key_day};
use super::sources::ensure_row;
use super::sql::{params, Row, Tx, Value};
use super::stories;
use super::StoreError;
use crate::model::{
    KnownArticle, OwedText, RecordedArticle, ScannedArticle, SourceName, TextDebt, TextFrom,
};

const KNOWN_COLUMNS: &str = "a.id, a.url, a.title, a.published, a.lang, COALESCE(t.text, ''),
     a.text_from, o.url, o.tries, o.next_try_at";

/// The joins [`KNOWN_COLUMNS`] reads from, after `articles a`.
const KNOWN_JOINS: &str = "LEFT JOIN article_texts t ON t.article_id = a.id
     LEFT JOIN owed_text o ON o.article_id = a.id";

fn known_row(r: &Row) -> Result<KnownArticle, StoreError> {
    let owed = match r.opt_text(7)? {
        Some(url) => Some(OwedText {
            url,
            tries: r.num(8)?,
            next_try_at: r.time(9)?,
        }),
        None => None,
    };
    Ok(KnownArticle {
        id: r.int(0)?,
        url: r.opt_text(1)?,
        title: r.text(2)?,
        published: r.opt_time(3)?,
        lang: r.opt_text(4)?,
        text: r.text(5)?,
        text_from: r.opt_text(6)?.and_then(|t| t.parse().ok()),
        owed,
        forgotten: false,
    })
}

pub(super) async fn known_articles(
    tx: &mut Tx<'_>,
    urls: &[&str],
) -> Result<HashMap<String, KnownArticle>, StoreError> {
    let sql = format!(
        "SELECT {KNOWN_COLUMNS} FROM article_urls u JOIN articles a ON a.id = u.article_id
         {KNOWN_JOINS} WHERE u.url = $1"
    );
    let mut out = HashMap::new();
    let mut unknown = Vec::new();
    for url in urls {
        if let Some(r) = tx.row(&sql, params![*url]).await? {
            out.insert((*url).to_owned(), known_row(&r)?);
        } else {
            unknown.push(*url);
        }
    }
    // One more statement for the rest: are any of them articles reduced to their keys?
    let keys: Vec<i64> = unknown.iter().map(|u| url_key(u)).collect();
    let found = keys_found(tx, &keys).await?;
    for (url, key) in unknown.iter().zip(&keys) {
        if found.contains(key) {
            out.insert((*url).to_owned(), KnownArticle::forgotten(url));
        }
    }
    Ok(out)
}

/// The key an article past `keep_text` is known by for each of its canonical URLs: the
/// first 8 bytes of SHA-256 over a tag and the URL. Two of a year's ~15 million keys share
/// one with a chance of about 10⁻⁵; a shared key would make an article look seen.
#[must_use]
pub fn url_key(url: &str) -> i64 {
    key(b"url", url)
}

/// The key an article past `keep_text` is known by for its fingerprint.
#[must_use]
pub fn fingerprint_key(fingerprint: &str) -> i64 {
    key(b"fingerprint", fingerprint)
}

fn key(tag: &[u8], value: &str) -> i64 {
    let mut h = Sha256::new();
    h.update(tag);
    h.update([0]);
    h.update(value.as_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    i64::from_be_bytes(first)
}

/// Which of `keys` are held: one statement (per 200 keys).
async fn keys_found(tx: &mut Tx<'_>, keys: &[i64]) -> Result<HashSet<i64>, StoreError> {
    let mut out = HashSet::new();
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let list = placeholders(chunk.len(), 1);
        let sql = format!("SELECT key FROM article_keys WHERE key IN ({list})");
        let values: Vec<Value> = chunk.iter().map(|k| Value::Int(*k)).collect();
        for r in tx.rows(&sql, &values).await? {
            out.insert(r.int(0)?);
        }
    }
    Ok(out)
}

/// Keys (and their days) bound in one statement at most: well under both engines' limits.
const KEYS_PER_STATEMENT: usize = 200;

/// `($1, $2), ($3, $4)…`: `n` groups of `width` placeholders (`$1, $2…` bare for width 1).
fn placeholders(n: usize, width: usize) -> String {
    (0..n)
        .map(|i| {
            let group: Vec<String> = (0..width)
                .map(|j| format!("${}", 1 + i * width + j))
                .collect();
            if width == 1 {
                group.concat()
            } else {
                format!("({})", group.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records `(key, day)` pairs; a key already held keeps its day.
pub(super) async fn insert_keys(tx: &mut Tx<'_>, keys: &[(i64, i64)]) -> Result<(), StoreError> {
    for chunk in keys.chunks(KEYS_PER_STATEMENT / 2) {
        let sql = format!(
            "INSERT INTO article_keys (key, day) VALUES {} ON CONFLICT (key) DO NOTHING",
            placeholders(chunk.len(), 2)
        );
        let values: Vec<Value> = chunk
            .iter()
            .flat_map(|(k, d)| [Value::Int(*k), Value::Int(*d)])
            .collect();
        tx.exec(&sql, &values).await?;
    }
    Ok(())
}

/// The keys a scanned article would be known by once reduced to them.
fn keys_of(a: &ScannedArticle) -> Vec<i64> {
    let mut keys: Vec<i64> = a.urls.iter().map(|u| url_key(u)).collect();
    if !a.fingerprint.is_empty() {
        keys.push(fingerprint_key(&a.fingerprint));
    }
    keys
}

pub(super) async fn owed_due(
    tx: &mut Tx<'_>,
    source: &SourceName,
    now: DateTime<Utc>,
) -> Result<Vec<KnownArticle>, StoreError> {
    let sql = format!(
        "SELECT {KNOWN_COLUMNS} FROM articles a {KNOWN_JOINS}
         WHERE o.source = $1 AND o.next_try_at <= $2 ORDER BY o.next_try_at, a.id"
    );
    tx.rows(&sql, params![source.as_str(), now])
        .await?
        .iter()
        .map(known_row)
        .collect()
}

pub(super) async fn owed_by_source(
    tx: &mut Tx<'_>,
) -> Result<HashMap<SourceName, u64>, StoreError> {
    tx.rows(
        "SELECT source, COUNT(*) FROM owed_text GROUP BY source",
        &[],
    )
    .await?
    .iter()
    .map(|r| Ok((SourceName::from_stored(r.text(0)?), r.num(1)?)))
    .collect()
}

pub(super) async fn record_scan(
    tx: &mut Tx<'_>,
    source: &SourceName,
    articles: &[ScannedArticle],
    now: DateTime<Utc>,
) -> Result<Vec<RecordedArticle>, StoreError> {
    ensure_row(tx, source).await?;
    let (out, inserted) = record_articles(tx, source, articles, now).await?;
    tx.exec(
        "UPDATE sources SET first_fetch_at = COALESCE(first_fetch_at, $2),
             articles_seen = articles_seen + $3 WHERE name = $1",
        params![
            source.as_str(),
            now,
            i64::try_from(inserted).unwrap_or(i64::MAX)
        ],
    )
    .await?;
    Ok(out)
}

/// The articles of a scan and their matches; with how many articles were new. The source's
/// own row is the caller's to update.
pub(super) async fn record_articles(
    tx: &mut Tx<'_>,
    source: &SourceName,
    articles: &[ScannedArticle],
    now: DateTime<Utc>,
) -> Result<(Vec<RecordedArticle>, u64), StoreError> {
    let mut keys = held_keys(tx, articles).await?;
    let mut out = Vec::with_capacity(articles.len());
    let mut inserted = 0u64;
    for a in articles {
        let Some(stored) = upsert_article(tx, source, a, &mut keys, now).await? else {
            // A stored article that is gone meanwhile, or one seen long ago (only its keys
            // are left): nothing to record it against.
            out.push(RecordedArticle {
                url: a.urls.first().cloned(),
                new: vec![false; a.matches.len()],
            });
            continue;
        };
        inserted += u64::from(stored.inserted);
        let state = if stored.reportable {
            "pending"
        } else {
            "baseline"
        };
        let mut new = Vec::with_capacity(a.matches.len());
        for m in &a.matches {
            let terms = serde_json::to_string(&m.terms).unwrap_or_default();
            let highlights = serde_json::to_string(&m.highlights).unwrap_or_default();
            let title_highlights = serde_json::to_string(&m.title_highlights).unwrap_or_default();
            let p = m.prominence;
            let changed = tx
                .exec(
                    "INSERT INTO matches (watchlist, article_id, source, terms, snippet, highlights, matched_at, state,
                         title_highlights, in_title, first_in_body, occurrences)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                     ON CONFLICT (watchlist, article_id) DO NOTHING",
                    params![
                        m.watchlist.as_str(),
                        stored.id,
                        source.as_str(),
                        &terms,
                        &m.snippet,
                        &highlights,
                        now,
                        state,
                        &title_highlights,
                        p.in_title,
                        p.first_in_body.map(u32::from),
                        p.occurrences
                    ],
                )
                .await?;
            new.push(changed == 1 && stored.reportable);
        }
        out.push(RecordedArticle {
            url: stored.url,
            new,
        });
    }
    Ok((out, inserted))
}

pub(super) async fn peek_scan(
    tx: &mut Tx<'_>,
    articles: &[ScannedArticle],
) -> Result<Vec<RecordedArticle>, StoreError> {
    let keys = held_keys(tx, articles).await?;
    let mut out = Vec::with_capacity(articles.len());
    for a in articles {
        let existing = match find_article(tx, a, &keys).await? {
            Lookup::Stored(found) => Some(found),
            Lookup::New => None,
            Lookup::Forgotten { .. } => {
                out.push(RecordedArticle {
                    url: a.urls.first().cloned(),
                    new: vec![false; a.matches.len()],
                });
                continue;
            }
        };
        let mut new = Vec::with_capacity(a.matches.len());
        for m in &a.matches {
            new.push(match &existing {
                Some(found) => {
                    let recorded = tx
                        .one(
                            "SELECT EXISTS (SELECT 1 FROM matches WHERE watchlist = $1 AND article_id = $2)",
                            params![m.watchlist.as_str(), found.id],
                        )
                        .await?
                        .flag(0)?;
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
    Ok(out)
}

/// The stored article a scanned one is.
struct Found {
    id: i64,
    url: Option<String>,
    reportable: bool,
    owed: bool,
}

fn found_row(r: &Row) -> Result<Found, StoreError> {
    Ok(Found {
        id: r.int(0)?,
        url: r.opt_text(1)?,
        reportable: r.flag(2)?,
        owed: r.flag(3)?,
    })
}

/// What the database knows of a scanned article.
enum Lookup {
    /// Its row, found by URL or fingerprint.
    Stored(Found),
    /// Only its keys are left (seen before `keep_text`): known by all of these from now on.
    Forgotten {
        keys: Vec<i64>,
    },
    New,
}

/// The stored article matching `a` by URL or fingerprint, or the keys it left (`held`: the
/// keys of the scan's articles that are held).
async fn find_article(
    tx: &mut Tx<'_>,
    a: &ScannedArticle,
    held: &HashSet<i64>,
) -> Result<Lookup, StoreError> {
    if let Some(found) = find_row(tx, a).await? {
        return Ok(Lookup::Stored(found));
    }
    let keys = keys_of(a);
    Ok(if keys.iter().any(|k| held.contains(k)) {
        Lookup::Forgotten { keys }
    } else {
        Lookup::New
    })
}

/// Which keys of `articles` are held: one statement for a whole scan, not one per article.
async fn held_keys(
    tx: &mut Tx<'_>,
    articles: &[ScannedArticle],
) -> Result<HashSet<i64>, StoreError> {
    // Articles taken from the database were found by URL; their rows are looked up anyway.
    let keys: Vec<i64> = articles
        .iter()
        .filter(|a| a.debt != TextDebt::Stored)
        .flat_map(keys_of)
        .collect();
    keys_found(tx, &keys).await
}

async fn find_row(tx: &mut Tx<'_>, a: &ScannedArticle) -> Result<Option<Found>, StoreError> {
    // One statement for every way the article may be stored, the first of them preferred:
    // by each of its URLs in turn, then by its fingerprint.
    let mut parts = Vec::with_capacity(a.urls.len() + 1);
    let mut values: Vec<Value> = Vec::with_capacity(a.urls.len() + 1);
    for url in &a.urls {
        values.push(Value::Text(url));
        parts.push(format!(
            "SELECT {FOUND_COLUMNS}, {} FROM article_urls u JOIN articles a ON a.id = u.article_id
             LEFT JOIN owed_text o ON o.article_id = a.id WHERE u.url = ${}",
            values.len(),
            values.len()
        ));
    }
    if !a.fingerprint.is_empty() {
        values.push(Value::Text(&a.fingerprint));
        parts.push(format!(
            "SELECT {FOUND_COLUMNS}, {} FROM articles a LEFT JOIN owed_text o ON o.article_id = a.id
             WHERE a.fingerprint = ${}",
            values.len(),
            values.len()
        ));
    }
    if parts.is_empty() {
        return Ok(None);
    }
    let sql = format!("{} ORDER BY 5 LIMIT 1", parts.join(" UNION ALL "));
    tx.row(&sql, &values)
        .await?
        .as_ref()
        .map(found_row)
        .transpose()
}

/// What [`found_row`] reads.
const FOUND_COLUMNS: &str =
    "a.id, a.url, a.reportable, CASE WHEN o.article_id IS NULL THEN 0 ELSE 1 END";

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
async fn upsert_article(
    tx: &mut Tx<'_>,
    source: &SourceName,
    a: &ScannedArticle,
    held: &mut HashSet<i64>,
    now: DateTime<Utc>,
) -> Result<Option<Stored>, StoreError> {
    let stored = match find_article(tx, a, held).await? {
        Lookup::New if a.debt == TextDebt::Stored => return Ok(None),
        Lookup::Forgotten { keys } => {
            // Reached by a new URL, or the same story under another: known by these keys
            // too now, for `keep_identity` from today, so the next scan need not read its
            // page. (A key already held keeps its day.)
            let day = day_of(now);
            let pairs: Vec<(i64, i64)> = keys.into_iter().map(|k| (k, day)).collect();
            insert_keys(tx, &pairs).await?;
            lower_oldest_key_day(tx, day).await?;
            held.extend(pairs.iter().map(|&(k, _)| k));
            return Ok(None);
        }
        Lookup::Stored(found) => {
            add_urls(tx, found.id, &a.urls).await?;
            if found.owed && a.debt != TextDebt::Stored {
                return settle_owed(tx, source, a, found).await.map(Some);
            }
            Stored {
                id: found.id,
                url: found.url,
                reportable: found.reportable,
                inserted: false,
            }
        }
        Lookup::New => {
            let id = tx
                .one(
                    "INSERT INTO articles (url, fingerprint, title, published, lang, source, first_seen, reportable, text_from)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    params![
                        a.urls.first(),
                        &a.fingerprint,
                        &a.title,
                        a.published,
                        a.lang.as_ref(),
                        source.as_str(),
                        now,
                        a.reportable_if_new,
                        a.text_from.map(TextFrom::as_str),
                    ],
                )
                .await?
                .int(0)?;
            write_text(tx, id, &a.text, now).await?;
            add_urls(tx, id, &a.urls).await?;
            // A new article owes nothing yet: only a debt it starts with is written.
            if matches!(a.debt, TextDebt::Owed { .. }) {
                write_debt(tx, id, source, &a.debt).await?;
            }
            stories::write_sketch(tx, id, a.sketch.as_ref()).await?;
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
async fn settle_owed(
    tx: &mut Tx<'_>,
    source: &SourceName,
    a: &ScannedArticle,
    found: Found,
) -> Result<Stored, StoreError> {
    let twin = tx
        .row(
            "SELECT id, url, reportable FROM articles WHERE fingerprint = $1 AND id != $2",
            params![&a.fingerprint, found.id],
        )
        .await?;
    if let Some(r) = twin {
        tx.exec(
            "DELETE FROM owed_text WHERE article_id = $1",
            params![found.id],
        )
        .await?;
        return Ok(Stored {
            id: r.int(0)?,
            url: r.opt_text(1)?,
            reportable: r.flag(2)?,
            inserted: false,
        });
    }
    let first_seen = tx
        .one(
            "UPDATE articles SET fingerprint = $2, title = $3, published = COALESCE($4, published),
                 lang = COALESCE($5, lang), text_from = $6 WHERE id = $1 RETURNING first_seen",
            params![
                found.id,
                &a.fingerprint,
                &a.title,
                a.published,
                a.lang.as_ref(),
                a.text_from.map(TextFrom::as_str),
            ],
        )
        .await?
        .time(0)?;
    write_text(tx, found.id, &a.text, first_seen).await?;
    write_debt(tx, found.id, source, &a.debt).await?;
    stories::write_sketch(tx, found.id, a.sketch.as_ref()).await?;
    Ok(Stored {
        id: found.id,
        url: found.url,
        reportable: found.reportable,
        inserted: false,
    })
}

/// The article's text (none kept for an empty one); `first_seen` orders its pruning.
async fn write_text(
    tx: &mut Tx<'_>,
    id: i64,
    text: &str,
    first_seen: DateTime<Utc>,
) -> Result<(), StoreError> {
    if text.is_empty() {
        tx.exec(
            "DELETE FROM article_texts WHERE article_id = $1",
            params![id],
        )
        .await?;
        return Ok(());
    }
    tx.exec(
        "INSERT INTO article_texts (article_id, first_seen, text) VALUES ($1, $2, $3)
         ON CONFLICT (article_id) DO UPDATE SET text = excluded.text",
        params![id, first_seen, text],
    )
    .await?;
    Ok(())
}

async fn add_urls(tx: &mut Tx<'_>, id: i64, urls: &[String]) -> Result<(), StoreError> {
    for u in urls {
        tx.exec(
            "INSERT INTO article_urls (url, article_id) VALUES ($1, $2) ON CONFLICT (url) DO NOTHING",
            params![u, id],
        )
        .await?;
    }
    Ok(())
}

async fn write_debt(
    tx: &mut Tx<'_>,
    id: i64,
    source: &SourceName,
    debt: &TextDebt,
) -> Result<(), StoreError> {
    match debt {
        TextDebt::Stored => {}
        TextDebt::Settled => {
            tx.exec("DELETE FROM owed_text WHERE article_id = $1", params![id])
                .await?;
        }
        TextDebt::Owed {
            url,
            tries,
            next_try_at,
            error,
        } => {
            tx.exec(
                "INSERT INTO owed_text (article_id, source, url, tries, next_try_at, last_error)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (article_id) DO UPDATE SET url = excluded.url, tries = excluded.tries,
                     next_try_at = excluded.next_try_at, last_error = excluded.last_error",
                params![id, source.as_str(), url, *tries, *next_try_at, error],
            )
            .await?;
        }
    }
    Ok(())
}
