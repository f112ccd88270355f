//! Stories' rows: each article's body sketch (written with the article, replaced with its
//! text), where each match's terms sit, and what a digest looks back at to recognise a copy
//! of a story already mailed: the watchlist's mailed copies and each source's recent
//! sketches (its furniture). Deciding what is one story is `crate::stories`'s.

use chrono::{DateTime, Utc};

use super::sql::{params, Row, Tx};
use super::StoreError;
use crate::model::{MailedCopy, SourceName, StorySketch, WatchlistName};

/// Records (or replaces, or with `None` removes) the sketch of article `id`'s body.
pub(super) async fn write_sketch(
    tx: &mut Tx<'_>,
    id: i64,
    sketch: Option<&StorySketch>,
) -> Result<(), StoreError> {
    match sketch {
        None => {
            tx.exec(
                "DELETE FROM story_sketches WHERE article_id = $1",
                params![id],
            )
            .await?;
        }
        Some(s) => {
            let bytes = s.hash_bytes();
            tx.exec(
                "INSERT INTO story_sketches (article_id, words, shingles, hashes)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (article_id) DO UPDATE SET words = excluded.words,
                     shingles = excluded.shingles, hashes = excluded.hashes",
                params![id, s.words, s.shingles, bytes.as_slice()],
            )
            .await?;
        }
    }
    Ok(())
}

/// A sketch from its three columns at `i`, `i + 1`, `i + 2` (words, shingles, hashes);
/// `None` when they are null (no sketch) or damaged.
pub(super) fn sketch_at(r: &Row, i: usize) -> Result<Option<StorySketch>, StoreError> {
    let (Some(words), Some(shingles)) = (r.opt_num::<u32>(i)?, r.opt_num::<u32>(i + 1)?) else {
        return Ok(None);
    };
    Ok(StorySketch::from_stored(words, shingles, &r.blob(i + 2)?))
}

/// The copies `watchlist` has mailed of articles first seen since `since`, with a sketch,
/// oldest first.
pub(super) async fn mailed_copies(
    tx: &mut Tx<'_>,
    watchlist: &WatchlistName,
    since: DateTime<Utc>,
) -> Result<Vec<MailedCopy>, StoreError> {
    // matched_at >= first_seen, so the first condition only narrows the index range.
    let rows = tx
        .rows(
            "SELECT a.id, a.url, a.title, m.source, a.first_seen, g.created_at,
                    s.words, s.shingles, s.hashes, g.id
             FROM matches m
             JOIN articles a ON a.id = m.article_id
             JOIN story_sketches s ON s.article_id = a.id
             JOIN digests g ON g.id = m.digest_id
             WHERE m.watchlist = $1 AND m.state = 'digested' AND m.matched_at >= $2
                 AND a.first_seen >= $2
             ORDER BY a.first_seen, a.id",
            params![watchlist.as_str(), since],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let Some(sketch) = sketch_at(r, 6)? else {
            continue;
        };
        out.push(MailedCopy {
            article_id: r.int(0)?,
            url: r.opt_text(1)?,
            title: r.text(2)?,
            source: SourceName::from_stored(r.text(3)?),
            first_seen: r.time(4)?,
            mailed_at: r.time(5)?,
            digest_id: r.int(9)?,
            sketch,
        });
    }
    Ok(out)
}

/// Settles late copies of a story already told: their pending matches join the digest
/// `told_in` that mailed the story, without a mail of their own. Returns how many.
pub(super) async fn fold_late_copies(
    tx: &mut Tx<'_>,
    watchlist: &WatchlistName,
    told_in: i64,
    article_ids: &[i64],
) -> Result<u64, StoreError> {
    let mut n = 0;
    for &id in article_ids {
        n += tx
            .exec(
                "UPDATE matches SET state = 'digested', digest_id = $3
                 WHERE watchlist = $1 AND article_id = $2 AND state = 'pending'",
                params![watchlist.as_str(), id, told_in],
            )
            .await?;
    }
    Ok(n)
}

/// The sketches of `source`'s articles first seen since `since`, newest first, at most
/// `limit`: what its furniture is learnt from.
pub(super) async fn source_sketches(
    tx: &mut Tx<'_>,
    source: &SourceName,
    since: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<(i64, StorySketch)>, StoreError> {
    let rows = tx
        .rows(
            "SELECT a.id, s.words, s.shingles, s.hashes
             FROM articles a JOIN story_sketches s ON s.article_id = a.id
             WHERE a.source = $1 AND a.first_seen >= $2
             ORDER BY a.first_seen DESC, a.id DESC LIMIT $3",
            params![source.as_str(), since, limit],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(s) = sketch_at(r, 1)? {
            out.push((r.int(0)?, s));
        }
    }
    Ok(out)
}
