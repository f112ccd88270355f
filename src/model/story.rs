//! Stories: what clustering and ranking need of each copy of an article, made at scan time
//! (`pipeline`, `config::Watchlists`), kept by `store`, read by `digest` and `outbox`.
//!
//! A [`StorySketch`] stands for an article's body when copies of one story are recognised
//! (`crate::stories` makes and compares them); a [`Prominence`] says where a watchlist's
//! terms sit in the article (`crate::digest::rank` scores it); a [`MailedCopy`] is an article
//! already mailed for a watchlist, which a copy arriving later is compared with.

use chrono::{DateTime, Utc};

use super::SourceName;

/// A near-duplicate sketch of an article's body: the smallest hashes of its word shingles
/// (a bottom-k sketch, Broder 1997), from which two bodies' resemblance and containment are
/// estimated without their text.
///
/// Invariants: `hashes` ascending and distinct, at most the sketch size `crate::stories`
/// uses; `hashes.len() <= shingles as usize`; when `shingles` is at most the sketch size,
/// `hashes` holds every shingle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorySketch {
    /// Words in the body: how complete a copy is.
    pub words: u32,
    /// Distinct shingles in the body.
    pub shingles: u32,
    /// The smallest distinct shingle hashes, ascending.
    pub hashes: Vec<u64>,
}

impl StorySketch {
    /// The hashes as stored: 8 bytes each, little-endian, in order.
    #[must_use]
    pub fn hash_bytes(&self) -> Vec<u8> {
        self.hashes.iter().flat_map(|h| h.to_le_bytes()).collect()
    }

    /// A sketch read back from the store; `None` when `bytes` is not a whole number of
    /// ascending hashes (a damaged row clusters with nothing rather than failing a digest).
    #[must_use]
    pub fn from_stored(words: u32, shingles: u32, bytes: &[u8]) -> Option<StorySketch> {
        if bytes.len() % 8 != 0 {
            return None;
        }
        let hashes: Vec<u64> = bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("chunks of 8 bytes")))
            .collect();
        hashes
            .windows(2)
            .all(|w| w[0] < w[1])
            .then_some(StorySketch {
                words,
                shingles,
                hashes,
            })
    }
}

/// Where a watchlist's terms (keywords and require terms) sit in one article: the inputs
/// of its ranking that the article alone decides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prominence {
    /// A term is in the title.
    pub in_title: bool,
    /// Where the first term in the body begins, in thousandths of the body's length
    /// (0 = its first word); `None` when no term is in the body.
    pub first_in_body: Option<u16>,
    /// How often the terms occur, title and body together.
    pub occurrences: u32,
}

/// A copy of a story already mailed for a watchlist: a copy arriving later is compared with
/// it, and listed under its title.
#[derive(Debug, Clone)]
pub struct MailedCopy {
    pub article_id: i64,
    pub url: Option<String>,
    pub title: String,
    pub source: SourceName,
    /// When newswatch first recorded it.
    pub first_seen: DateTime<Utc>,
    /// When the digest that mailed it was composed.
    pub mailed_at: DateTime<Utc>,
    /// The digest that mailed it.
    pub digest_id: i64,
    pub sketch: StorySketch,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sketch_bytes_round_trip() {
        let s = StorySketch {
            words: 40,
            shingles: 3,
            hashes: vec![1, 7, u64::MAX],
        };
        assert_eq!(StorySketch::from_stored(40, 3, &s.hash_bytes()), Some(s));
        assert_eq!(
            StorySketch::from_stored(1, 1, &[0; 7]),
            None,
            "not whole hashes"
        );
        let unsorted: Vec<u8> = [7u64, 1].iter().flat_map(|h| h.to_le_bytes()).collect();
        assert_eq!(StorySketch::from_stored(1, 2, &unsorted), None);
    }
}
