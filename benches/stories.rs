//! Clustering speed (issue 19), not a test: sketch and cluster 10,000 articles, then build
//! and split a digest of them, and print the time, throughput and memory.
//!
//! `cargo bench --bench stories` (`CLUSTER_ARTICLES=n` for another count).
//!
//! The articles are synthetic and need no corpus: 300–800 words in paragraphs, drawn from a
//! Zipf-distributed vocabulary of 30,000 words (so that different stories share common
//! words as real ones do), a third of the stories carried 2–6 times with a dateline, one
//! paragraph cut and 3% of words changed, the rest once.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use newswatch::digest::build::{build_digest, Inputs};
use newswatch::digest::pack::split;
use newswatch::model::{PendingMatch, Prominence, StorySketch};
use newswatch::stories::{self, Copy, Furniture, Rule};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const VOCABULARY: usize = 30_000;

fn vocabulary() -> Vec<String> {
    let syllables = [
        "ka", "ni", "ger", "sa", "hel", "ma", "li", "ra", "to", "de", "mon", "tri", "ba", "se",
        "lu", "po", "an", "ter", "vi", "os", "el", "qu", "zi", "ad", "ro", "fa", "ne", "ul",
    ];
    let mut rng = StdRng::seed_from_u64(7);
    (0..VOCABULARY)
        .map(|_| {
            let n = rng.gen_range(1..4);
            (0..n)
                .map(|_| syllables[rng.gen_range(0..syllables.len())])
                .collect()
        })
        .collect()
}

/// A Zipf(1) sampler over ranks 0..n.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Zipf {
        let mut acc = 0.0;
        let cumulative = (1..=n)
            .map(|r| {
                acc += 1.0 / r as f64;
                acc
            })
            .collect();
        Zipf { cumulative }
    }
    fn sample(&self, rng: &mut StdRng) -> usize {
        let x = rng.gen::<f64>() * self.cumulative.last().unwrap();
        self.cumulative.partition_point(|&c| c < x)
    }
}

fn story(vocab: &[String], zipf: &Zipf, rng: &mut StdRng) -> Vec<String> {
    let words = rng.gen_range(300..800);
    let mut paras = Vec::new();
    let mut left = words;
    while left > 0 {
        let n = rng.gen_range(30..90).min(left);
        left -= n;
        let p: Vec<&str> = (0..n).map(|_| vocab[zipf.sample(rng)].as_str()).collect();
        paras.push(p.join(" ") + ".");
    }
    paras
}

fn copy_of(paras: &[String], vocab: &[String], rng: &mut StdRng) -> String {
    let mut ps = paras.to_vec();
    if ps.len() > 2 {
        ps.remove(rng.gen_range(1..ps.len()));
    }
    let text = ps.join("\n\n");
    let edited: Vec<&str> = text
        .split(' ')
        .map(|w| {
            if rng.gen::<f64>() < 0.03 {
                vocab[rng.gen_range(0..vocab.len())].as_str()
            } else {
                w
            }
        })
        .collect();
    format!("NIAMEY (Reuters) - {}", edited.join(" "))
}

fn rss_kb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn main() {
    let n: usize = std::env::var("CLUSTER_ARTICLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let vocab = vocabulary();
    let zipf = Zipf::new(vocab.len());
    let mut rng = StdRng::seed_from_u64(19);
    let mut texts: Vec<String> = Vec::with_capacity(n);
    let mut truth: Vec<usize> = Vec::with_capacity(n);
    let mut label = 0;
    while texts.len() < n {
        let paras = story(&vocab, &zipf, &mut rng);
        let copies = if rng.gen_range(0..3) == 0 {
            rng.gen_range(2..=6)
        } else {
            1
        };
        texts.push(paras.join("\n\n"));
        truth.push(label);
        for _ in 1..copies {
            if texts.len() == n {
                break;
            }
            texts.push(copy_of(&paras, &vocab, &mut rng));
            truth.push(label);
        }
        label += 1;
    }
    let bytes: usize = texts.iter().map(String::len).sum();
    let (rss0, _) = rss_kb();

    let t = Instant::now();
    let sketches: Vec<Option<StorySketch>> = texts.iter().map(|t| stories::sketch(t)).collect();
    let sketch_secs = t.elapsed().as_secs_f64();
    let sketch_bytes: usize = sketches
        .iter()
        .flatten()
        .map(|s| s.hashes.len() * 8 + std::mem::size_of::<StorySketch>())
        .sum();

    let now: DateTime<Utc> = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let sources: Vec<String> = (0..n).map(|i| format!("source-{}", i % 200)).collect();
    let copies: Vec<Copy<'_>> = sketches
        .iter()
        .zip(&sources)
        .enumerate()
        .map(|(i, (s, src))| Copy {
            sketch: s.as_ref(),
            source: src,
            seen: now - Duration::minutes((n - i) as i64 % (60 * 72)),
        })
        .collect();
    let t = Instant::now();
    let furniture = Furniture::learn(
        copies
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.sketch.map(|s| (i as i64, c.source, s))),
    );
    let labels = stories::cluster(&copies, &furniture, &Rule::default());
    let cluster_secs = t.elapsed().as_secs_f64();
    let (_, hwm) = rss_kb();

    let (mut tp, mut fp, mut fn_) = (0u64, 0u64, 0u64);
    let mut by_label: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    for (i, &l) in labels.iter().enumerate() {
        by_label.entry(l).or_default().push(i);
    }
    for members in by_label.values() {
        for (a, &i) in members.iter().enumerate() {
            for &j in &members[a + 1..] {
                if truth[i] == truth[j] {
                    tp += 1;
                } else {
                    fp += 1;
                }
            }
        }
    }
    let mut by_truth: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    for (i, &l) in truth.iter().enumerate() {
        by_truth.entry(l).or_default().push(i);
    }
    for members in by_truth.values() {
        for (a, &i) in members.iter().enumerate() {
            for &j in &members[a + 1..] {
                if labels[i] != labels[j] {
                    fn_ += 1;
                }
            }
        }
    }

    println!(
        "{n} articles, {:.1} MB of text, {} stories by construction",
        bytes as f64 / 1e6,
        label
    );
    println!(
        "sketch: {:.3} s = {:.0} articles/s, {:.1} MB/s; sketches hold {:.2} MB ({} B per article)",
        sketch_secs,
        n as f64 / sketch_secs,
        bytes as f64 / 1e6 / sketch_secs,
        sketch_bytes as f64 / 1e6,
        sketch_bytes / n.max(1)
    );
    println!(
        "cluster: {:.3} s = {:.0} articles/s; {} stories found; pairs P {:.4} R {:.4}",
        cluster_secs,
        n as f64 / cluster_secs,
        by_label.len(),
        tp as f64 / (tp + fp).max(1) as f64,
        tp as f64 / (tp + fn_).max(1) as f64
    );
    println!(
        "sketch + cluster: {:.3} s for {n} articles; RSS {:.1} MB before, peak {:.1} MB",
        sketch_secs + cluster_secs,
        rss0 as f64 / 1024.0,
        hwm as f64 / 1024.0
    );

    // The digest of all of them as one watchlist's pending matches: cluster, rank, split.
    let pending: Vec<PendingMatch> = texts
        .iter()
        .zip(sketches.iter().cloned())
        .enumerate()
        .map(|(i, (t, sketch))| PendingMatch {
            article_id: i as i64,
            url: Some(format!("https://news.example/{i}/story.html")),
            title: t.split_whitespace().take(9).collect::<Vec<_>>().join(" "),
            published: Some(copies[i].seen),
            lang: None,
            source: sources[i].parse().unwrap(),
            terms: vec!["Niger".into()],
            snippet: t.chars().take(200).collect(),
            highlights: vec![(0, 5)],
            title_highlights: vec![],
            prominence: Prominence {
                in_title: i % 3 == 0,
                first_in_body: Some((i % 1000) as u16),
                occurrences: (i % 7) as u32,
            },
            first_seen: copies[i].seen,
            sketch,
        })
        .collect();
    let name = "niger".parse().unwrap();
    let t = Instant::now();
    let c = build_digest(&Inputs {
        watchlist: &name,
        pending: &pending,
        mailed: &[],
        neighbours: &[],
        events: &[],
        prefer: &[],
        rule: &Rule::default(),
        timezone: chrono_tz::UTC,
        now,
    });
    let built = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let parts = split(&c);
    let packed = t.elapsed().as_secs_f64();
    let max_html = parts
        .iter()
        .map(|p| p.rendered.html.len())
        .max()
        .unwrap_or(0);
    let max_text = parts
        .iter()
        .map(|p| p.rendered.text.len())
        .max()
        .unwrap_or(0);
    let (_, hwm) = rss_kb();
    println!(
        "digest of {n} pending matches: build (cluster + rank) {:.3} s, split and render {:.3} s: {} stories in {} parts, largest HTML part {} B, largest text part {} B; peak RSS {:.1} MB",
        built,
        packed,
        c.stories.len(),
        parts.len(),
        max_html,
        max_text,
        hwm as f64 / 1024.0
    );
}
