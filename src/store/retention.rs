//! Retention: what is dropped when, in small batches, and what `status` and `backtest` read
//! of what is held.
//!
//! Two ages (policy passed in as cut-off times): past `text_before`, an article's text and a
//! digest's message body are dropped; past `identity_before`, everything of an article goes
//! (its URLs, fingerprint and matches), and digests whose articles are all gone. Never
//! pruned, whatever their age: articles with a pending match, articles whose page's text is
//! owed, digests with a delivery still pending. Each batch is one short write transaction
//! touching at most `limit` rows of each kind, so pruning never holds the write lock long.

use chrono::{DateTime, Utc};

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
    /// Articles forgotten entirely.
    pub articles: u64,
    /// Digests forgotten entirely.
    pub digests: u64,
    /// Source health events forgotten.
    pub events: u64,
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
    let texts = tx
        .exec(
            &format!(
                "DELETE FROM article_texts WHERE article_id IN (
                     SELECT t.article_id FROM article_texts t JOIN articles a ON a.id = t.article_id
                     WHERE t.first_seen < $1 AND {PRUNABLE}
                     ORDER BY t.first_seen LIMIT $2)"
            ),
            params![cut.text_before, limit],
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
    // The same articles in each statement: old, prunable, oldest first (nothing the
    // statements delete changes which those are).
    let chosen = format!(
        "SELECT a.id FROM articles a WHERE a.first_seen < $1 AND {PRUNABLE}
         ORDER BY a.first_seen, a.id LIMIT $2"
    );
    for table in ["matches", "article_urls", "article_texts", "story_sketches"] {
        tx.exec(
            &format!("DELETE FROM {table} WHERE article_id IN ({chosen})"),
            params![cut.identity_before, limit],
        )
        .await?;
    }
    let articles = tx
        .exec(
            &format!("DELETE FROM articles WHERE id IN ({chosen})"),
            params![cut.identity_before, limit],
        )
        .await?;
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
    })
}

/// What the database holds, for `status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Held {
    /// The database's size on disk, in bytes.
    pub bytes: u64,
    /// Articles with their text.
    pub articles_with_text: u64,
    /// Articles kept for dedup only (text dropped).
    pub articles_identity_only: u64,
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
                    (SELECT COUNT(*) FROM digests WHERE length(message) = 0)",
            &[],
        )
        .await?;
    Ok(Held {
        bytes: 0,
        articles_with_text: r.num(0)?,
        articles_identity_only: r.num(1)?,
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
