//! Copies of one story: near-duplicate bodies recognised from their text, so a digest
//! shows one item per story (issue 19). Pure: takes texts, sketches and times, does no I/O.
//!
//! - [`sketch`] turns a body into a [`StorySketch`]: the body is normalized as the matcher
//!   normalizes it (NFKC, case folding, marks and Arabic letter forms), cut into words
//!   (runs of letters and digits), and every run of [`SHINGLE_WORDS`] consecutive words
//!   (a shingle) is hashed; the sketch keeps the [`SKETCH_SIZE`] smallest distinct hashes
//!   (a bottom-k sketch). A body with fewer than [`MIN_SHINGLES`] distinct shingles gets
//!   no sketch: an empty or one-line body clusters with nothing.
//! - [`similarity`] estimates from two sketches the *resemblance* of the two bodies (shared
//!   shingles over all their shingles, the Jaccard index) and the *containment* of the
//!   smaller in the larger (shared shingles over the smaller's), exactly when both bodies
//!   are short enough for their sketches to hold every shingle.
//! - [`Rule::same_story`] decides from those two numbers; [`cluster`] links every pair of
//!   copies it accepts whose first sightings are within [`Rule::window`] of each other, and
//!   returns the connected groups.
//!
//! Copies from one source are compared without that source's *furniture* ([`Furniture`]):
//! shingles found in [`FURNITURE_DOCS`] or more of the source's recent articles (a
//! disclaimer, a "read more" block, a byline that extraction kept), which would otherwise
//! make two different stories of one site look alike. Copies from different sources share
//! no furniture and are compared whole.
//!
//! The hashes are stored (`store`'s `story_sketches`): [`sketch`]'s hashing is part of the
//! database format and must not change without a migration that recomputes them.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use crate::matcher::normalize;
use crate::model::StorySketch;

/// Words per shingle.
pub const SHINGLE_WORDS: usize = 3;
/// Hashes a sketch keeps.
pub const SKETCH_SIZE: usize = 128;
/// Distinct shingles a body needs to be compared at all (about 14 words).
pub const MIN_SHINGLES: u32 = 12;
/// How many of one source's bodies a shingle must be in to be that source's furniture.
pub const FURNITURE_DOCS: usize = 3;
/// Copies first seen further apart than this are different stories.
pub const DEFAULT_WINDOW_HOURS: i64 = 72;
/// A posting list is scanned back this far when looking for candidates: enough for any
/// copy to find a few earlier copies of its story, however many there are, and a bound
/// on the work one very common shingle (furniture) makes.
const POSTINGS_SCANNED: usize = 64;
/// Sketch hashes two copies must share to be compared at all.
const MIN_SHARED: usize = 2;

/// The sketch of `body`, or `None` when it has too few words to tell a story by.
#[must_use]
pub fn sketch(body: &str) -> Option<StorySketch> {
    sketch_with(body, SHINGLE_WORDS, SKETCH_SIZE)
}

/// [`sketch`] with another shingle length and sketch size, for measuring them
/// (`benches/stories_quality.rs`); the stored sketches are [`sketch`]'s.
#[doc(hidden)]
#[must_use]
pub fn sketch_with(body: &str, shingle_words: usize, size: usize) -> Option<StorySketch> {
    let normalized = normalize(body);
    let words: Vec<u64> = normalized
        .split(|c: char| !crate::chars::is_alphanumeric(c))
        .filter(|w| !w.is_empty())
        .map(|w| word_hash(w.as_bytes()))
        .collect();
    let mut hashes: Vec<u64> = words
        .windows(shingle_words)
        .map(|w| w.iter().fold(SHINGLE_SEED, |h, &x| mix(h ^ x)))
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    let shingles = u32::try_from(hashes.len()).unwrap_or(u32::MAX);
    if shingles < MIN_SHINGLES {
        return None;
    }
    hashes.truncate(size);
    Some(StorySketch {
        words: u32::try_from(words.len()).unwrap_or(u32::MAX),
        shingles,
        hashes,
    })
}

const SHINGLE_SEED: u64 = 0x6e65_7773_7761_7463; // "newswatc"

/// FNV-1a, 64 bits: stable across platforms and Rust releases (the hashes are stored).
fn word_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The splitmix64 finalizer: spreads a shingle's bits over the whole range, so the
/// smallest hashes are a uniform sample of the shingles.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How alike two bodies are, estimated from their sketches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    /// Shared shingles over all shingles of both (Jaccard), 0–1.
    pub resemblance: f64,
    /// Shared shingles over the smaller body's shingles, 0–1.
    pub containment: f64,
    /// Sampled shingles the estimate rests on that both share.
    pub shared: usize,
}

/// The largest hash a sketch vouches for: below it, it holds every shingle of its body.
fn horizon(s: &StorySketch) -> u64 {
    if s.shingles as usize <= s.hashes.len() {
        u64::MAX
    } else {
        s.hashes.last().copied().unwrap_or(u64::MAX)
    }
}

/// Estimates how alike the bodies of `a` and `b` are, leaving out the shingles in `ignore`
/// (a source's furniture).
#[must_use]
pub fn similarity<S: std::hash::BuildHasher>(
    a: &StorySketch,
    b: &StorySketch,
    ignore: &HashSet<u64, S>,
) -> Similarity {
    // Below the lower horizon both sketches hold every shingle of their bodies: what they
    // share there is an exact sample of what the bodies share.
    let limit = horizon(a).min(horizon(b));
    let keep = |h: &&u64| **h <= limit && !ignore.contains(*h);
    let (mut i, mut j) = (0, 0);
    let xs: Vec<u64> = a.hashes.iter().filter(keep).copied().collect();
    let ys: Vec<u64> = b.hashes.iter().filter(keep).copied().collect();
    let mut shared = 0;
    while i < xs.len() && j < ys.len() {
        match xs[i].cmp(&ys[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = xs.len() + ys.len() - shared;
    // The smaller body is the one with fewer shingles; its sampled part is what it has
    // below the limit.
    let smaller = if a.shingles <= b.shingles {
        xs.len()
    } else {
        ys.len()
    };
    let ratio = |n: usize, d: usize| {
        if d == 0 {
            0.0
        } else {
            n as f64 / d as f64
        }
    };
    Similarity {
        resemblance: ratio(shared, union),
        containment: ratio(shared, smaller),
        shared,
    }
}

/// When two copies are one story.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// Resemblance at or above which two bodies are one story.
    pub resemblance: f64,
    /// Containment at or above which two bodies are one story (one is a cut of the
    /// other: a paragraph dropped, a wire story cut short) …
    pub containment: f64,
    /// … provided they resemble each other at least this much, so that a long round-up
    /// quoting a short story whole does not join it (and every other story it quotes).
    pub containment_floor: f64,
    /// Sampled shingles two copies must share: an estimate resting on fewer is noise.
    pub min_shared: usize,
    /// Copies first seen further apart are different stories.
    pub window: Duration,
}

impl Default for Rule {
    /// Measured on the labelled set of BENCHMARKS.md (issue 19).
    fn default() -> Rule {
        Rule {
            resemblance: 0.5,
            containment: 0.9,
            containment_floor: 0.2,
            min_shared: 4,
            window: Duration::hours(DEFAULT_WINDOW_HOURS),
        }
    }
}

impl Rule {
    /// Whether two copies this alike are one story.
    #[must_use]
    pub fn same_story(&self, s: &Similarity) -> bool {
        s.shared >= self.min_shared
            && (s.resemblance >= self.resemblance
                || (s.containment >= self.containment && s.resemblance >= self.containment_floor))
    }
}

/// One copy to cluster.
#[derive(Debug, Clone, Copy)]
pub struct Copy<'a> {
    /// `None`: a body too short to tell; it stays alone.
    pub sketch: Option<&'a StorySketch>,
    pub source: &'a str,
    /// When it was first seen.
    pub seen: DateTime<Utc>,
}

/// Groups `copies` into stories: the result gives, for each copy, the index of the first
/// copy of its story (so a copy alone points at itself). Linked copies are those
/// [`Rule::same_story`] accepts within the rule's window, each source's `furniture` left
/// out between two of its copies; stories are the connected groups.
///
/// # Panics
/// Never: only copies with a sketch are posted for comparison.
#[must_use]
pub fn cluster(copies: &[Copy<'_>], furniture: &Furniture, rule: &Rule) -> Vec<usize> {
    let no_furniture = HashSet::new();
    let mut sets = DisjointSets::new(copies.len());
    let mut postings: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut shared: HashMap<usize, usize> = HashMap::new();
    for (i, c) in copies.iter().enumerate() {
        let Some(sk) = c.sketch else { continue };
        shared.clear();
        for h in &sk.hashes {
            if let Some(list) = postings.get(h) {
                for &j in list.iter().rev().take(POSTINGS_SCANNED) {
                    *shared.entry(j).or_default() += 1;
                }
            }
        }
        let mut candidates: Vec<usize> = shared
            .iter()
            .filter(|&(_, &n)| n >= MIN_SHARED.min(rule.min_shared))
            .map(|(&j, _)| j)
            .collect();
        candidates.sort_unstable();
        for j in candidates {
            let other = &copies[j];
            if (c.seen - other.seen).abs() > rule.window || sets.same(i, j) {
                continue;
            }
            let ignore = if c.source == other.source {
                furniture.of(c.source).unwrap_or(&no_furniture)
            } else {
                &no_furniture
            };
            let osk = other.sketch.expect("only sketched copies are posted");
            if rule.same_story(&similarity(sk, osk, ignore)) {
                sets.join(i, j);
            }
        }
        for h in &sk.hashes {
            postings.entry(*h).or_default().push(i);
        }
    }
    (0..copies.len()).map(|i| sets.first(i)).collect()
}

/// Per source, the sketch hashes found in [`FURNITURE_DOCS`] or more of its articles.
#[derive(Debug, Default)]
pub struct Furniture {
    by_source: HashMap<String, HashSet<u64>>,
}

impl Furniture {
    /// Learns each source's furniture from its articles, each counted once by its id
    /// (an article may be given twice: as a copy to cluster and as another of its source's
    /// articles).
    pub fn learn<'a>(
        articles: impl IntoIterator<Item = (i64, &'a str, &'a StorySketch)>,
    ) -> Furniture {
        let mut seen: HashSet<i64> = HashSet::new();
        let mut counts: HashMap<&str, HashMap<u64, usize>> = HashMap::new();
        for (id, source, sk) in articles {
            if !seen.insert(id) {
                continue;
            }
            let per = counts.entry(source).or_default();
            for h in &sk.hashes {
                *per.entry(*h).or_default() += 1;
            }
        }
        let by_source = counts
            .into_iter()
            .map(|(src, per)| {
                let common: HashSet<u64> = per
                    .into_iter()
                    .filter(|&(_, n)| n >= FURNITURE_DOCS)
                    .map(|(h, _)| h)
                    .collect();
                (src.to_owned(), common)
            })
            .filter(|(_, common)| !common.is_empty())
            .collect();
        Furniture { by_source }
    }

    /// The furniture of `source`, if it has any.
    #[must_use]
    pub fn of(&self, source: &str) -> Option<&HashSet<u64>> {
        self.by_source.get(source)
    }
}

/// Union-find whose representative is each group's smallest index.
struct DisjointSets {
    parent: Vec<usize>,
}

impl DisjointSets {
    fn new(n: usize) -> DisjointSets {
        DisjointSets {
            parent: (0..n).collect(),
        }
    }

    fn root(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn same(&mut self, a: usize, b: usize) -> bool {
        self.root(a) == self.root(b)
    }

    fn join(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.root(a), self.root(b));
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[hi] = lo;
    }

    fn first(&mut self, i: usize) -> usize {
        self.root(i)
    }
}

#[cfg(test)]
mod tests;
