//! Retention: what is dropped when, in small batches, and what `status` and `backtest` read
//! of what is held.
//!
//! Two ages (policy passed in as cut-off times): past `text_before`, a digest's message body
//! is dropped and an article is reduced to its keys (`article_keys`: one 64-bit key per
//! canonical URL and one for its fingerprint, with its day) — its row, text, URLs and
//! matches go; past `identity_before`, the keys go too, and digests whose articles are all
//! gone. Never pruned, whatever their age: articles with a pending match, articles whose
//! page's text is owed, digests with a delivery still pending. Each batch is one short write
//! transaction touching at most `limit` rows of each kind, so pruning never holds the write
//! lock long; the keys are found by a read walking them in key order, then deleted a range
//! at a time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::articles::{fingerprint_key, insert_keys, url_key};
use super::sql::{far_future, params, Tx, Value};
use super::StoreError;
use crate::model::SourceName;

/// What one batch pruned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Articles whose story sketch was dropped.
    pub sketches: u64,
    /// Articles whose text was dropped.
    pub texts: u64,
    /// Digests whose message body was dropped.
    pub bodies: u64,
    /// Articles reduced to their keys (past `keep_text`).
    pub articles: u64,
    /// Digests forgotten entirely.
    pub digests: u64,
    /// Source health events forgotten.
    pub events: u64,
    /// Keys of articles forgotten (past `keep_identity`).
    pub keys: u64,
}

impl Pruned {
    /// Whether the batch found nothing more to do.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Pruned::default()
    }
}

/// The ages past which things are pruned.
#[derive(Debug, Clone, Copy)]
pub struct Cutoffs {
    /// Story sketches of articles first seen before this are dropped (they are read only
    /// within the clustering window; never later than `text_before`).
    pub sketch_before: DateTime<Utc>,
    /// Article text and digest bodies first seen (created) before this are dropped.
    pub text_before: DateTime<Utc>,
    /// Articles first seen before this are forgotten.
    pub identity_before: DateTime<Utc>,
}

/// Articles a batch may prune: old enough, no pending match, no text owed.
const PRUNABLE: &str =
    "NOT EXISTS (SELECT 1 FROM matches m WHERE m.article_id = a.id AND m.state = 'pending')
     AND NOT EXISTS (SELECT 1 FROM owed_text o WHERE o.article_id = a.id)";

pub(super) async fn prune_batch(
    tx: &mut Tx<'_>,
    cut: Cutoffs,
    limit: usize,
) -> Result<Pruned, StoreError> {
    // A body's story sketch (a kilobyte, a third of a typical text) is read only within
    // the clustering window, so it goes long before the text.
    // Walked in the sketches' own order (article ids grow with first sight), so a batch
    // starts at the oldest sketch left rather than at the oldest article, whose sketch is
    // long gone: the walk is as long as the batch, not as long as the database's history.
    let sketches = tx
        .exec(
            "DELETE FROM story_sketches WHERE article_id IN (
                 SELECT s.article_id FROM story_sketches s
                 WHERE (SELECT a.first_seen FROM articles a WHERE a.id = s.article_id) < $1
                 AND NOT EXISTS (SELECT 1 FROM matches m
                                 WHERE m.article_id = s.article_id AND m.state = 'pending')
                 AND NOT EXISTS (SELECT 1 FROM owed_text o WHERE o.article_id = s.article_id)
                 ORDER BY s.article_id LIMIT $2)",
            params![cut.sketch_before, limit],
        )
        .await?;
    let bodies = tx
        .exec(
            "UPDATE digests SET message = $3 WHERE id IN (
                 SELECT g.id FROM digests g WHERE g.created_at < $1 AND length(g.message) > 0
                 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.digest_id = g.id AND d.state = 'pending')
                 ORDER BY g.created_at LIMIT $2)",
            params![cut.text_before, limit, Value::Blob(&[])],
        )
        .await?;
    let (texts, articles) = reduce_to_keys(tx, cut.text_before, limit).await?;
    let old_digests = "SELECT g.id FROM digests g WHERE g.created_at < $1
         AND NOT EXISTS (SELECT 1 FROM matches m WHERE m.digest_id = g.id)
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.digest_id = g.id AND d.state = 'pending')
         ORDER BY g.created_at LIMIT $2";
    tx.exec(
        &format!("DELETE FROM deliveries WHERE digest_id IN ({old_digests})"),
        params![cut.identity_before, limit],
    )
    .await?;
    let digests = tx
        .exec(
            &format!("DELETE FROM digests WHERE id IN ({old_digests})"),
            params![cut.identity_before, limit],
        )
        .await?;
    let events = tx
        .exec(
            "DELETE FROM health_events WHERE id IN (
                 SELECT id FROM health_events WHERE at < $1 ORDER BY id LIMIT $2)",
            params![cut.identity_before, limit],
        )
        .await?;
    Ok(Pruned {
        sketches,
        texts,
        bodies,
        articles,
        digests,
        events,
        keys: 0,
    })
}

/// Reduces up to `limit` prunable articles first seen before `before`, oldest first, to
/// their keys: returns (texts dropped, articles reduced).
async fn reduce_to_keys(
    tx: &mut Tx<'_>,
    before: DateTime<Utc>,
    limit: usize,
) -> Result<(u64, u64), StoreError> {
    // The same articles in each statement: old, prunable, oldest first (nothing the
    // statements insert or delete changes which those are).
    let chosen = format!(
        "SELECT a.id FROM articles a WHERE a.first_seen < $1 AND {PRUNABLE}
         ORDER BY a.first_seen, a.id LIMIT $2"
    );
    let mut keys: Vec<(i64, i64)> = Vec::new();
    let mut days: HashMap<i64, i64> = HashMap::new();
    for r in tx
        .rows(
            &format!("SELECT id, fingerprint, first_seen FROM articles WHERE id IN ({chosen})"),
            params![before, limit],
        )
        .await?
    {
        let day = day_of(r.time(2)?);
        days.insert(r.int(0)?, day);
        let fingerprint = r.text(1)?;
        if !fingerprint.is_empty() {
            keys.push((fingerprint_key(&fingerprint), day));
        }
    }
    if days.is_empty() {
        return Ok((0, 0));
    }
    for r in tx
        .rows(
            &format!("SELECT article_id, url FROM article_urls WHERE article_id IN ({chosen})"),
            params![before, limit],
        )
        .await?
    {
        if let Some(day) = days.get(&r.int(0)?) {
            keys.push((url_key(&r.text(1)?), *day));
        }
    }
    insert_keys(tx, &keys).await?;
    if let Some(&oldest) = days.values().min() {
        lower_oldest_key_day(tx, oldest).await?;
    }
    let mut texts = 0;
    for table in ["matches", "article_urls", "article_texts", "story_sketches"] {
        let n = tx
            .exec(
                &format!("DELETE FROM {table} WHERE article_id IN ({chosen})"),
                params![before, limit],
            )
            .await?;
        if table == "article_texts" {
            texts = n;
        }
    }
    let articles = tx
        .exec(
            &format!("DELETE FROM articles WHERE id IN ({chosen})"),
            params![before, limit],
        )
        .await?;
    Ok((texts, articles))
}

/// Days since 1970-01-01 (UTC): the age a key keeps.
pub(super) fn day_of(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(86_400)
}

/// `meta` row: no key is older than this day (so a pass over the keys is needed only when
/// the cut-off passes it).
const OLDEST_KEY_DAY: &str = "oldest_key_day";

pub(super) async fn oldest_key_day(tx: &mut Tx<'_>) -> Result<Option<i64>, StoreError> {
    Ok(tx
        .row(
            "SELECT value FROM meta WHERE key = $1",
            params![OLDEST_KEY_DAY],
        )
        .await?
        .map(|r| r.text(0))
        .transpose()?
        .and_then(|v| v.parse().ok()))
}

pub(super) async fn lower_oldest_key_day(tx: &mut Tx<'_>, day: i64) -> Result<(), StoreError> {
    if oldest_key_day(tx).await?.is_some_and(|d| d <= day) {
        return Ok(());
    }
    tx.exec(
        "INSERT INTO meta (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![OLDEST_KEY_DAY, &day.to_string()],
    )
    .await?;
    Ok(())
}

/// Whether a pass over the keys is needed to forget those first seen before `before`, and
/// the `meta` row it was decided on. A read: no lock.
pub(super) async fn keys_pass(
    tx: &mut Tx<'_>,
    before: DateTime<Utc>,
) -> Result<Option<Option<i64>>, StoreError> {
    Ok(match oldest_key_day(tx).await? {
        // No row: no key was ever recorded (every insert lowers the row).
        None => None,
        Some(d) if d >= day_of(before) => None,
        seen => Some(seen),
    })
}

/// One step of a pass: the next up to `limit` keys after `after`, in key order.
#[derive(Debug, Clone, Copy)]
pub(super) struct KeysChunk {
    /// The last key of the chunk (the next step starts after it).
    pub last: i64,
    /// How many of them were first seen before the cut-off.
    pub old: u64,
    /// The oldest day among the others.
    pub oldest_kept: Option<i64>,
}

/// Reads the chunk after `after` (`None` past the last key). The walk is in key order (the
/// rowid), each step reading on from the last; there is no index on `day`, which would cost
/// as much again as the keys.
pub(super) async fn keys_chunk(
    tx: &mut Tx<'_>,
    before: DateTime<Utc>,
    after: Option<i64>,
    limit: usize,
) -> Result<Option<KeysChunk>, StoreError> {
    let r = tx
        .one(
            "SELECT MAX(key), COUNT(*) - COUNT(kept), MIN(kept) FROM (
                 SELECT key, CASE WHEN day >= $2 THEN day END AS kept FROM article_keys
                 WHERE key > $1 ORDER BY key LIMIT $3) AS chunk",
            params![after.unwrap_or(i64::MIN), day_of(before), limit],
        )
        .await?;
    let Some(last) = r.opt_int(0)? else {
        return Ok(None);
    };
    Ok(Some(KeysChunk {
        last,
        old: r.num(1)?,
        oldest_kept: r.opt_int(2)?,
    }))
}

/// Forgets the keys after `after` up to `last` first seen before `before`: one short write.
pub(super) async fn forget_keys(
    tx: &mut Tx<'_>,
    before: DateTime<Utc>,
    after: Option<i64>,
    last: i64,
) -> Result<u64, StoreError> {
    tx.exec(
        "DELETE FROM article_keys WHERE key > $1 AND key <= $2 AND day < $3",
        params![after.unwrap_or(i64::MIN), last, day_of(before)],
    )
    .await
}

/// A pass reached the last key: the oldest day left is `oldest_kept` (none: no key is left),
/// so no pass is needed until the cut-off passes it. Unless the row changed meanwhile (keys
/// were added by another transaction): then it stays as they set it.
pub(super) async fn keys_pass_done(
    tx: &mut Tx<'_>,
    seen: Option<i64>,
    oldest_kept: Option<i64>,
) -> Result<(), StoreError> {
    if oldest_key_day(tx).await? != seen {
        return Ok(());
    }
    match oldest_kept {
        Some(day) => {
            tx.exec(
                "UPDATE meta SET value = $2 WHERE key = $1",
                params![OLDEST_KEY_DAY, &day.to_string()],
            )
            .await?;
        }
        None => {
            tx.exec("DELETE FROM meta WHERE key = $1", params![OLDEST_KEY_DAY])
                .await?;
        }
    }
    Ok(())
}

/// What the database holds, for `status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Held {
    /// The database's size on disk, in bytes.
    pub bytes: u64,
    /// Articles with their text.
    pub articles_with_text: u64,
    /// Articles held without a text (an empty page, or still pending or owed past
    /// `keep_text`).
    pub articles_without_text: u64,
    /// Keys of articles seen before `keep_text` (one per URL and one per fingerprint),
    /// kept for dedup only.
    pub identity_keys: u64,
    pub matches: u64,
    /// Digests with their message body.
    pub digests_with_body: u64,
    /// Digests kept without their body.
    pub digests_without_body: u64,
}

pub(super) async fn held(tx: &mut Tx<'_>) -> Result<Held, StoreError> {
    let r = tx
        .one(
            "SELECT (SELECT COUNT(*) FROM article_texts),
                    (SELECT COUNT(*) FROM articles) - (SELECT COUNT(*) FROM article_texts),
                    (SELECT COUNT(*) FROM matches),
                    (SELECT COUNT(*) FROM digests WHERE length(message) > 0),
                    (SELECT COUNT(*) FROM digests WHERE length(message) = 0),
                    (SELECT COUNT(*) FROM article_keys)",
            &[],
        )
        .await?;
    Ok(Held {
        bytes: 0,
        articles_with_text: r.num(0)?,
        articles_without_text: r.num(1)?,
        identity_keys: r.num(5)?,
        matches: r.num(2)?,
        digests_with_body: r.num(3)?,
        digests_without_body: r.num(4)?,
    })
}

/// An article whose text is still held, for `backtest`.
#[derive(Debug, Clone)]
pub struct HeldArticle {
    pub id: i64,
    pub url: Option<String>,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub first_seen: DateTime<Utc>,
    pub lang: Option<String>,
    pub text: String,
    pub source: SourceName,
}

/// Where a page of [`held_articles`] ends: the next page starts after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldCursor {
    pub first_seen: DateTime<Utc>,
    pub id: i64,
}

pub(super) async fn held_articles(
    tx: &mut Tx<'_>,
    since: DateTime<Utc>,
    after: Option<HeldCursor>,
    limit: usize,
) -> Result<Vec<HeldArticle>, StoreError> {
    // Newest first; a page starts strictly after the last one's end.
    let (until, until_id) = after.map_or((far_future(), i64::MAX), |c| (c.first_seen, c.id));
    let rows = tx
        .rows(
            "SELECT a.id, a.url, a.title, a.published, a.first_seen, a.lang, t.text, a.source
             FROM article_texts t JOIN articles a ON a.id = t.article_id
             WHERE t.first_seen >= $1
               AND (t.first_seen < $2 OR (t.first_seen = $2 AND a.id < $3))
             ORDER BY t.first_seen DESC, a.id DESC LIMIT $4",
            params![since, until, until_id, limit],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(HeldArticle {
                id: r.int(0)?,
                url: r.opt_text(1)?,
                title: r.text(2)?,
                published: r.opt_time(3)?,
                first_seen: r.time(4)?,
                lang: r.opt_text(5)?,
                text: r.text(6)?,
                source: SourceName::from_stored(r.text(7)?),
            })
        })
        .collect()
}
