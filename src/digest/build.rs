//! Pending matches → stories, ranked ([`Composition`]); health notes → footer lines. Pure.
//!
//! The watchlist's pending matches and the copies it mailed recently are clustered together
//! ([`crate::stories`]). A group holding a copy mailed before is a story already told: its
//! new copies are listed once, under that story's title ([`EarlierStory`]), and not as a
//! new story. Every other group is a story: its primary copy is the first of
//! [`Watchlist::prefer`](crate::config::Watchlist) among its sources, else the most
//! complete (the most words; then the first seen), and the others are named on its
//! `Also in:` line, at most [`ALSO_IN_SHOWN`] of them (the rest are counted). Stories are
//! ranked by [`super::rank`]. Every pending match is in exactly one story or earlier
//! story of the result.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::rank::{rank_order, RankKey, Score};
use super::render::{DigestItem, EarlierStory, OtherCopy};
use crate::model::{
    HealthChange, HealthEvent, MailedCopy, PendingMatch, SourceName, StorySketch, WatchlistName,
};
use crate::stories::{self, Furniture, Rule};

/// Other copies named on a story's `Also in:` line, at most; the rest are counted.
pub const ALSO_IN_SHOWN: usize = 8;
/// Bytes of links the `Also in:` line names at most (a bound on one item's size).
pub const ALSO_IN_URL_BYTES: usize = 4000;

/// What a digest is built from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub watchlist: &'a WatchlistName,
    pub pending: &'a [PendingMatch],
    /// Copies the watchlist mailed of articles first seen within the window before the
    /// oldest pending one.
    pub mailed: &'a [MailedCopy],
    /// Other recent articles of the sources at hand (with their ids), to learn each
    /// source's furniture from.
    pub neighbours: &'a [(SourceName, i64, StorySketch)],
    pub events: &'a [HealthEvent],
    /// `prefer`: sources whose copy is shown first, most preferred first.
    pub prefer: &'a [SourceName],
    pub rule: &'a Rule,
    pub timezone: Tz,
    pub now: DateTime<Utc>,
}

/// A story and the articles whose matches it claims.
#[derive(Debug, Clone)]
pub struct Story {
    pub item: DigestItem,
    /// Every copy's article (the primary's first).
    pub article_ids: Vec<i64>,
    pub score: Score,
    /// The newest copy's time (published, else first seen): ties in rank go to it.
    pub newest: DateTime<Utc>,
}

/// New copies of a story mailed before, and the articles whose matches they claim.
#[derive(Debug, Clone)]
pub struct Earlier {
    pub item: EarlierStory,
    pub article_ids: Vec<i64>,
    /// The digest that told the story (of the copy shown).
    pub told_in: i64,
    /// When the newest of these copies was first seen.
    pub newest_seen: DateTime<Utc>,
}

/// A watchlist's digest before it is split into messages.
#[derive(Debug, Clone)]
pub struct Composition {
    pub watchlist: String,
    /// Ranked, most important first.
    pub stories: Vec<Story>,
    pub earlier: Vec<Earlier>,
    pub footer: Vec<String>,
    pub timezone: Tz,
}

/// Clusters, ranks and lays out the pending matches of a watchlist.
#[must_use]
pub fn build_digest(i: &Inputs<'_>) -> Composition {
    let mailed_n = i.mailed.len();
    let copies: Vec<stories::Copy<'_>> = i
        .mailed
        .iter()
        .map(|m| stories::Copy {
            sketch: Some(&m.sketch),
            source: m.source.as_str(),
            seen: m.first_seen,
        })
        .chain(i.pending.iter().map(|p| stories::Copy {
            sketch: p.sketch.as_ref(),
            source: p.source.as_str(),
            seen: p.first_seen,
        }))
        .collect();
    let furniture = Furniture::learn(
        i.neighbours
            .iter()
            .map(|(s, id, sk)| (*id, s.as_str(), sk))
            .chain(
                i.mailed
                    .iter()
                    .map(|m| (m.article_id, m.source.as_str(), &m.sketch)),
            )
            .chain(i.pending.iter().filter_map(|p| {
                p.sketch
                    .as_ref()
                    .map(|sk| (p.article_id, p.source.as_str(), sk))
            })),
    );
    let labels = stories::cluster(&copies, &furniture, i.rule);
    // Groups in the order of their first copy, so the result does not depend on hashing.
    let mut groups: BTreeMap<usize, (Vec<&MailedCopy>, Vec<&PendingMatch>)> = BTreeMap::new();
    for (k, &label) in labels.iter().enumerate() {
        let g = groups.entry(label).or_default();
        if k < mailed_n {
            g.0.push(&i.mailed[k]);
        } else {
            g.1.push(&i.pending[k - mailed_n]);
        }
    }
    let mut stories = Vec::new();
    let mut earlier = Vec::new();
    for (mailed, mut pending) in groups.into_values() {
        if pending.is_empty() {
            continue;
        }
        pending.sort_by(|a, b| primary_first(i.prefer, a, b));
        if mailed.is_empty() {
            stories.push(story(i, &pending));
        } else {
            earlier.push(earlier_story(i.prefer, &mailed, &pending));
        }
    }
    stories.sort_by(|a, b| rank_order(&rank_key(a), &rank_key(b)));
    earlier.sort_by(|a, b| {
        b.item
            .mailed
            .cmp(&a.item.mailed)
            .then_with(|| a.item.title.cmp(&b.item.title))
    });
    Composition {
        watchlist: i.watchlist.to_string(),
        stories,
        earlier,
        footer: i
            .events
            .iter()
            .map(|n| health_line(n, i.timezone))
            .collect(),
        timezone: i.timezone,
    }
}

fn rank_key(s: &Story) -> RankKey<'_> {
    RankKey {
        score: s.score,
        newest: s.newest,
        title: &s.item.title,
        url: &s.item.url,
    }
}

/// The order copies of a story are shown in: preferred sources first (in `prefer`'s
/// order), then the most complete, then the first seen.
fn primary_first(prefer: &[SourceName], a: &PendingMatch, b: &PendingMatch) -> Ordering {
    let rank = |p: &PendingMatch| prefer.iter().position(|s| *s == p.source);
    let words = |p: &PendingMatch| p.sketch.as_ref().map_or(0, |s| s.words);
    rank(a)
        .unwrap_or(usize::MAX)
        .cmp(&rank(b).unwrap_or(usize::MAX))
        .then_with(|| Reverse(words(a)).cmp(&Reverse(words(b))))
        .then_with(|| a.first_seen.cmp(&b.first_seen))
        .then_with(|| a.article_id.cmp(&b.article_id))
}

/// When a copy is news: its published time, else when newswatch first saw it.
fn copy_time(p: &PendingMatch) -> DateTime<Utc> {
    p.published.unwrap_or(p.first_seen)
}

/// A new story from its copies, primary first.
fn story(i: &Inputs<'_>, copies: &[&PendingMatch]) -> Story {
    let primary = copies[0];
    let outlets = copies
        .iter()
        .map(|c| &c.source)
        .collect::<HashSet<_>>()
        .len();
    let newest = copies.iter().map(|c| copy_time(c)).max().unwrap_or(i.now);
    let score = Score::of_story(copies.iter().map(|c| c.prominence), outlets, newest, i.now);
    let mut terms: Vec<String> = Vec::new();
    for t in copies.iter().flat_map(|c| &c.terms) {
        if !terms.contains(t) {
            terms.push(t.clone());
        }
    }
    let (also_in, more_copies) = others(&copies[1..]);
    Story {
        item: DigestItem {
            title: if primary.title.trim().is_empty() {
                primary.url.clone().unwrap_or_default()
            } else {
                primary.title.clone()
            },
            url: primary.url.clone().unwrap_or_default(),
            source: primary.source.to_string(),
            published: primary.published,
            lang: primary.lang.clone(),
            terms,
            snippet: primary.snippet.clone(),
            highlights: ranges(&primary.snippet, &primary.highlights),
            title_highlights: ranges(&primary.title, &primary.title_highlights),
            also_in,
            more_copies,
        },
        article_ids: copies.iter().map(|c| c.article_id).collect(),
        score,
        newest,
    }
}

/// New copies of a story mailed before, under the copy it was mailed with.
fn earlier_story(
    prefer: &[SourceName],
    mailed: &[&MailedCopy],
    copies: &[&PendingMatch],
) -> Earlier {
    let rank = |m: &MailedCopy| {
        prefer
            .iter()
            .position(|s| *s == m.source)
            .unwrap_or(usize::MAX)
    };
    let shown = mailed
        .iter()
        .min_by(|a, b| {
            rank(a)
                .cmp(&rank(b))
                .then_with(|| b.sketch.words.cmp(&a.sketch.words))
                .then_with(|| a.first_seen.cmp(&b.first_seen))
        })
        .expect("an earlier story has a mailed copy");
    let (also_in, more_copies) = others(copies);
    Earlier {
        item: EarlierStory {
            title: shown.title.clone(),
            url: shown.url.clone().unwrap_or_default(),
            source: shown.source.to_string(),
            mailed: mailed
                .iter()
                .map(|m| m.mailed_at)
                .min()
                .unwrap_or(shown.mailed_at),
            also_in,
            more_copies,
        },
        article_ids: copies.iter().map(|c| c.article_id).collect(),
        told_in: shown.digest_id,
        newest_seen: copies
            .iter()
            .map(|c| c.first_seen)
            .max()
            .unwrap_or(shown.mailed_at),
    }
}

/// The copies an `Also in:` line names, and how many more there are.
fn others(copies: &[&PendingMatch]) -> (Vec<OtherCopy>, usize) {
    let mut named = Vec::new();
    let mut bytes = 0;
    for c in copies {
        let url = c.url.clone().unwrap_or_default();
        if named.len() == ALSO_IN_SHOWN || bytes + url.len() > ALSO_IN_URL_BYTES {
            break;
        }
        bytes += url.len();
        named.push(OtherCopy {
            source: c.source.to_string(),
            url,
        });
    }
    let more = copies.len() - named.len();
    (named, more)
}

/// The stored byte ranges that are valid for `s`.
fn ranges(s: &str, stored: &[(usize, usize)]) -> Vec<std::ops::Range<usize>> {
    stored
        .iter()
        .filter(|(a, e)| a < e && *e <= s.len() && s.is_char_boundary(*a) && s.is_char_boundary(*e))
        .map(|&(a, e)| a..e)
        .collect()
}

fn health_line(n: &HealthEvent, tz: Tz) -> String {
    let at = n.at.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z");
    match n.change {
        HealthChange::Failing if n.detail.is_empty() => {
            format!("Source {} has been failing since {at}.", n.source)
        }
        HealthChange::Failing => format!(
            "Source {} has been failing since {at}: {}",
            n.source, n.detail
        ),
        HealthChange::Recovered => format!("Source {} has recovered ({at}).", n.source),
    }
}

#[cfg(test)]
mod tests;
