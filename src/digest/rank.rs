//! Ranking: how important a story is to a watchlist, as a sum of named integer parts, so
//! the order is stable and can be explained (`newswatch explain` prints them). Pure.
//!
//! | part | points | from |
//! |---|---|---|
//! | `title` | 40 when a term is in a headline | any copy |
//! | `early` | 0–20: 20 when the body's first term is its first word, falling linearly to 0 at its end; 0 when the body has none | the best copy |
//! | `often` | 2 per occurrence of the terms, title and body, at most 20 | the best copy |
//! | `outlets` | 10 per source beyond the first that carries the story, at most 40 | the story |
//! | `recency` | 0–20: 20 when just published, falling linearly to 0 at 72 hours old | the newest copy (its published time, else when newswatch first saw it) |
//!
//! Stories are ordered by total, highest first; ties by the newest copy's time, newest
//! first; then by headline and link, so the same stories always come in the same order.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, Utc};

use crate::model::Prominence;

/// Points for a term in the headline.
pub const TITLE_POINTS: u32 = 40;
/// Points at most for how early the body names a term.
pub const EARLY_POINTS: u32 = 20;
/// Points per occurrence, and at most.
pub const OCCURRENCE_POINTS: u32 = 2;
pub const OFTEN_POINTS: u32 = 20;
/// Points per outlet beyond the first, and at most.
pub const OUTLET_POINTS: u32 = 10;
pub const OUTLETS_POINTS: u32 = 40;
/// Points at most for being new, and the age at which there are none left.
pub const RECENCY_POINTS: u32 = 20;
pub const RECENCY_HOURS: i64 = 72;

/// A story's score, part by part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Score {
    pub title: u32,
    pub early: u32,
    pub often: u32,
    pub outlets: u32,
    pub recency: u32,
}

impl Score {
    /// The score of one article seen alone: where its terms sit, how many sources carry
    /// it (`outlets` ≥ 1), and how old it is at `now`.
    #[must_use]
    pub fn of(p: &Prominence, outlets: usize, when: DateTime<Utc>, now: DateTime<Utc>) -> Score {
        Score {
            title: if p.in_title { TITLE_POINTS } else { 0 },
            early: p.first_in_body.map_or(0, |permille| {
                EARLY_POINTS * (1000 - u32::from(permille.min(1000))) / 1000
            }),
            often: (p.occurrences.saturating_mul(OCCURRENCE_POINTS)).min(OFTEN_POINTS),
            outlets: outlet_points(outlets),
            recency: recency_points(when, now),
        }
    }

    /// The score of a story whose copies scored `copies`: each of the article's own parts
    /// at its best copy, `outlets` sources, and the newest copy's time.
    #[must_use]
    pub fn of_story(
        copies: impl IntoIterator<Item = Prominence>,
        outlets: usize,
        newest: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Score {
        copies
            .into_iter()
            .map(|p| Score::of(&p, outlets, newest, now))
            .reduce(|a, b| Score {
                title: a.title.max(b.title),
                early: a.early.max(b.early),
                often: a.often.max(b.often),
                ..a
            })
            .unwrap_or(Score {
                outlets: outlet_points(outlets),
                recency: recency_points(newest, now),
                ..Score::default()
            })
    }

    #[must_use]
    pub fn total(&self) -> u32 {
        self.title + self.early + self.often + self.outlets + self.recency
    }
}

fn outlet_points(outlets: usize) -> u32 {
    let beyond = u32::try_from(outlets.saturating_sub(1)).unwrap_or(u32::MAX);
    beyond.saturating_mul(OUTLET_POINTS).min(OUTLETS_POINTS)
}

fn recency_points(when: DateTime<Utc>, now: DateTime<Utc>) -> u32 {
    let minutes = (now - when).num_minutes().clamp(0, RECENCY_HOURS * 60);
    let left = RECENCY_HOURS * 60 - minutes;
    u32::try_from(i64::from(RECENCY_POINTS) * left / (RECENCY_HOURS * 60)).unwrap_or(0)
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "title {} + early {} + often {} + outlets {} + recency {} = {}",
            self.title,
            self.early,
            self.often,
            self.outlets,
            self.recency,
            self.total()
        )
    }
}

/// What stories are ordered by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankKey<'a> {
    pub score: Score,
    /// The newest copy's time.
    pub newest: DateTime<Utc>,
    pub title: &'a str,
    pub url: &'a str,
}

/// Highest total first, then newest first, then by headline and link.
#[must_use]
pub fn rank_order(a: &RankKey<'_>, b: &RankKey<'_>) -> Ordering {
    b.score
        .total()
        .cmp(&a.score.total())
        .then_with(|| b.newest.cmp(&a.newest))
        .then_with(|| a.title.cmp(b.title))
        .then_with(|| a.url.cmp(b.url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::hours(h)
    }

    #[test]
    fn parts_and_caps() {
        let now = at(0);
        let p = Prominence {
            in_title: true,
            first_in_body: Some(0),
            occurrences: 30,
        };
        let s = Score::of(&p, 9, now, now);
        assert_eq!(
            (s.title, s.early, s.often, s.outlets, s.recency),
            (40, 20, 20, 40, 20)
        );
        assert_eq!(s.total(), 140);
        let late = Prominence {
            in_title: false,
            first_in_body: Some(500),
            occurrences: 3,
        };
        let s = Score::of(&late, 1, at(-36), now);
        assert_eq!(
            (s.title, s.early, s.often, s.outlets, s.recency),
            (0, 10, 6, 0, 10)
        );
        assert_eq!(
            Score::of(&Prominence::default(), 1, at(-100), now).total(),
            0
        );
        // A time in the future is as new as now.
        assert_eq!(Score::of(&Prominence::default(), 1, at(5), now).recency, 20);
        assert_eq!(
            s.to_string(),
            "title 0 + early 10 + often 6 + outlets 0 + recency 10 = 26"
        );
    }

    #[test]
    fn a_story_takes_each_part_at_its_best_copy() {
        let now = at(0);
        let a = Prominence {
            in_title: true,
            first_in_body: Some(900),
            occurrences: 1,
        };
        let b = Prominence {
            in_title: false,
            first_in_body: Some(0),
            occurrences: 5,
        };
        let s = Score::of_story([a, b], 3, now, now);
        assert_eq!((s.title, s.early, s.often, s.outlets), (40, 20, 10, 20));
    }

    #[test]
    fn order_is_total_then_newest_then_title() {
        let k = |total: u32, h: i64, title: &'static str| RankKey {
            score: Score {
                title: total,
                ..Score::default()
            },
            newest: at(h),
            title,
            url: "",
        };
        let mut v = [k(10, 0, "b"), k(50, -5, "z"), k(10, 0, "a"), k(10, 2, "c")];
        v.sort_by(rank_order);
        let titles: Vec<&str> = v.iter().map(|k| k.title).collect();
        assert_eq!(titles, ["z", "c", "a", "b"]);
    }
}
