//! Clustering quality (issue 19), not a test: precision and recall of "one story" on a
//! labelled set built from the real pages of the shared corpus and synthetic rewrites of
//! them, with hard negatives. Prints the numbers for the shipped rule and a sweep of
//! shingle lengths, sketch sizes and thresholds.
//!
//! `cargo bench --bench stories_quality` (corpus at `$NEWSWATCH_CORPUS`, else
//! `../shared/corpus`, else `/work/shared/corpus`; without one it says so and stops).
//!
//! The set:
//! - bases: the article text newswatch extracts from each readability page and each
//!   extraction-eval page (gzip'd), and the seed article; pages with fewer than 80 words,
//!   Lorem ipsum pages, and pages that resemble an earlier base (exact shingle Jaccard
//!   ≥ 0.3: the same page twice) are left out;
//! - positives: rewrites of a base, each from another "source": a dateline added, a photo
//!   caption inserted, one paragraph cut, the story cut short (first 60% of paragraphs),
//!   light edits (5% of words replaced, 2% dropped), the whole in the furniture of one of
//!   three sites (that site is its source, and carries about 60 stories so), and all of
//!   these at once; the base and its rewrites are one story;
//! - negatives: every pair of different bases (different stories, many on one site:
//!   nytimes ×5, yahoo ×4, wikipedia ×4, …); one site's furniture (navigation, a long
//!   disclaimer, a footer) around the opening paragraph of four different bases, all from
//!   that one source; and a second troop-withdrawal story (`tests/fixtures/stories`) beside
//!   the Niger one; follow-ups (paragraphs of news, then the first half of an earlier
//!   story as background, the news at least as long as the background: news, not a copy); and copies that quote a long paragraph
//!   of another story (still copies of their own story, and no bridge to the other).

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use newswatch::model::StorySketch;
use newswatch::stories::{self, Copy, Furniture, Rule};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Base,
    Dateline,
    Caption,
    CutParagraph,
    Truncated,
    LightEdits,
    OtherFurniture,
    Everything,
    FurnitureSite,
    FollowUp,
    QuotesOther,
}

struct Doc {
    label: usize,
    kind: Kind,
    source: String,
    text: String,
    site: String,
}

const FURNITURE: [&str; 3] = [
    include_str!("../tests/fixtures/stories/sahel-daily-furniture.txt"),
    "Accueil | International | Afrique | Politique | Économie | Culture | Sport | Vidéos | Abonnez-vous | Se connecter\n\nCet article est réservé à nos abonnés. Toute reproduction, même partielle, est interdite sans l'autorisation écrite de la rédaction. Les commentaires sont modérés et doivent respecter notre charte de participation. Retrouvez toute l'actualité de l'Afrique dans notre lettre d'information quotidienne, envoyée chaque matin à nos lecteurs.\n\nMentions légales | Conditions générales | Politique de confidentialité | Gestion des cookies | Contact | Publicité\n----\n",
    "الرئيسية | أخبار | سياسة | اقتصاد | رياضة | ثقافة | رأي | فيديو | اشترك | تسجيل الدخول\n\nجميع الحقوق محفوظة للموقع، ويمنع نقل هذا المحتوى أو إعادة نشره كليا أو جزئيا دون إذن كتابي مسبق من إدارة التحرير. الآراء الواردة في مقالات الرأي تعبر عن أصحابها ولا تعبر بالضرورة عن السياسة التحريرية للموقع. تابعونا على مواقع التواصل الاجتماعي واشتركوا في نشرتنا البريدية اليومية.\n\nمن نحن | اتصل بنا | أعلن معنا | شروط الاستخدام | سياسة الخصوصية\n----\n",
];

fn corpus_dir() -> Option<PathBuf> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("NEWSWATCH_CORPUS")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            here.join("../shared/corpus"),
            PathBuf::from("/work/shared/corpus"),
        ])
        .find(|p| p.join("readability").is_dir())
}

fn extract(bytes: &[u8]) -> Option<String> {
    newswatch::extract::extract_article(bytes, Some("text/html"), None, None)
        .ok()
        .map(|a| a.text)
}

/// (site, text) of every usable page.
fn bases(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir.join("readability"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    names.sort();
    for p in names {
        let Ok(bytes) = std::fs::read(p.join("source.html")) else {
            continue;
        };
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let site = name
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '-')
            .to_string();
        if let Some(t) = extract(&bytes) {
            out.push((format!("readability/{site}"), t));
        }
    }
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir.join("extraction-eval/pages"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    pages.sort();
    for p in pages {
        let mut bytes = Vec::new();
        let f = std::fs::File::open(&p).unwrap();
        if flate2::read::GzDecoder::new(f)
            .read_to_end(&mut bytes)
            .is_err()
        {
            continue;
        }
        if let Some(t) = extract(&bytes) {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            out.push((format!("eval/{}", name.split('.').next().unwrap_or("")), t));
        }
    }
    if let Ok(seed) = std::fs::read_to_string(dir.join("seed/pentagon-niger-withdrawal-ar.txt")) {
        out.push(("seed".into(), seed));
    }
    out
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

fn paragraphs(s: &str) -> Vec<String> {
    s.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Exact shingle set of a text, for dropping duplicate bases.
fn shingle_set(s: &str) -> HashSet<Vec<String>> {
    let n = newswatch::matcher::normalize(s);
    let w: Vec<String> = n
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    w.windows(3).map(<[String]>::to_vec).collect()
}

fn jaccard(a: &HashSet<Vec<String>>, b: &HashSet<Vec<String>>) -> f64 {
    let i = a.intersection(b).count();
    let u = a.len() + b.len() - i;
    if u == 0 {
        0.0
    } else {
        i as f64 / u as f64
    }
}

fn dateline(rng: &mut StdRng) -> String {
    let cities = ["NIAMEY", "PARIS", "WASHINGTON", "DAKAR", "RABAT", "BERLIN"];
    let agencies = ["Reuters", "AFP", "AP", "dpa"];
    format!(
        "{}, {} (",
        cities[rng.gen_range(0..cities.len())],
        rng.gen_range(1..29)
    ) + agencies[rng.gen_range(0..agencies.len())]
        + ") - "
}

fn light_edits(text: &str, rng: &mut StdRng) -> String {
    let vocab: Vec<&str> = text.split_whitespace().collect();
    let mut out: Vec<String> = Vec::new();
    for para in text.split("\n\n") {
        let mut p: Vec<&str> = Vec::new();
        for w in para.split_whitespace() {
            let r: f64 = rng.gen();
            if r < 0.02 {
                continue;
            }
            if r < 0.07 {
                p.push(vocab[rng.gen_range(0..vocab.len())]);
            } else {
                p.push(w);
            }
        }
        out.push(p.join(" "));
    }
    out.join("\n\n")
}

fn rewrite(kind: Kind, text: &str, rng: &mut StdRng) -> String {
    let mut ps = paragraphs(text);
    match kind {
        Kind::Dateline => format!("{}{}", dateline(rng), text),
        Kind::Caption => {
            let at = 1.min(ps.len());
            ps.insert(at, "A handout picture shows officials at a press conference in the capital on Monday. (Photo: AFP via Getty Images)".into());
            ps.join("\n\n")
        }
        Kind::CutParagraph => {
            if ps.len() > 2 {
                let k = rng.gen_range(1..ps.len());
                ps.remove(k);
            }
            ps.join("\n\n")
        }
        Kind::Truncated => {
            let keep = (ps.len() * 6).div_ceil(10).max(1);
            if ps.len() == 1 {
                let w: Vec<&str> = text.split_whitespace().collect();
                return w[..w.len() * 6 / 10].join(" ");
            }
            ps.truncate(keep);
            ps.join("\n\n")
        }
        Kind::LightEdits => light_edits(text, rng),
        Kind::OtherFurniture => {
            // The site is chosen by the caller (`furniture_site`).
            let f = FURNITURE[rng.gen_range(0..FURNITURE.len())];
            let f = f.split("\n----\n").next().unwrap();
            format!("{f}\n\n{text}")
        }
        Kind::Everything => {
            let t = rewrite(Kind::CutParagraph, text, rng);
            let t = rewrite(Kind::Caption, &t, rng);
            let t = light_edits(&t, rng);
            format!("{}{}", dateline(rng), t)
        }
        Kind::Base | Kind::FurnitureSite | Kind::FollowUp | Kind::QuotesOther => text.to_owned(),
    }
}

const REWRITES: [Kind; 7] = [
    Kind::Dateline,
    Kind::Caption,
    Kind::CutParagraph,
    Kind::Truncated,
    Kind::LightEdits,
    Kind::OtherFurniture,
    Kind::Everything,
];

fn build_set(dir: &Path) -> Vec<Doc> {
    let raw = bases(dir);
    let total = raw.len();
    let mut kept: Vec<(String, String, HashSet<Vec<String>>)> = Vec::new();
    let (mut short, mut lorem, mut dup) = (0, 0, 0);
    for (site, text) in raw {
        if words(&text) < 80 {
            short += 1;
            continue;
        }
        if text.to_lowercase().contains("lorem ipsum") {
            lorem += 1;
            continue;
        }
        let set = shingle_set(&text);
        if kept.iter().any(|(_, _, s)| jaccard(s, &set) >= 0.3) {
            dup += 1;
            continue;
        }
        kept.push((site, text, set));
    }
    println!(
        "bases: {} pages read, {} kept ({short} under 80 words, {lorem} Lorem ipsum, {dup} resembling an earlier page)",
        total,
        kept.len()
    );
    let mut rng = StdRng::seed_from_u64(19);
    let mut docs = Vec::new();
    for (label, (site, text, _)) in kept.iter().enumerate() {
        docs.push(Doc {
            label,
            kind: Kind::Base,
            source: format!("base-{label}"),
            text: text.clone(),
            site: site.clone(),
        });
        // Two or three rewrites each, every kind equally often over the set.
        let n = 2 + usize::from(label % 2 == 0);
        for k in 0..n {
            let kind = REWRITES[(label * 3 + k) % REWRITES.len()];
            let text = rewrite(kind, text, &mut rng);
            // A copy in a site's furniture is that site's: its source is the site, which
            // carries many stories (and the furniture-only pages below).
            let source = match FURNITURE
                .iter()
                .position(|f| text.starts_with(f.split("\n----\n").next().unwrap()))
            {
                Some(g) if kind == Kind::OtherFurniture => format!("furniture-site-{g}"),
                _ => format!("copy-{label}-{k}"),
            };
            docs.push(Doc {
                label,
                kind,
                site: source.clone(),
                source,
                text,
            });
        }
    }
    let mut next = kept.len();
    // Hard negatives: a follow-up (two new paragraphs, then the first half of the story
    // as background) is news, not a copy; a copy quoting a paragraph of another story
    // is still a copy of its own, and does not bridge the two.
    for x in (0..kept.len()).step_by(7) {
        let ps = paragraphs(&kept[x].1);
        let z = paragraphs(&kept[(x * 13 + 5) % kept.len()].1);
        let background = &ps[..ps.len() / 2];
        let old_words: usize = background.iter().map(|p| words(p)).sum();
        let mut fresh: Vec<String> = Vec::new();
        for p in &z {
            if fresh.iter().map(|p| words(p)).sum::<usize>() >= old_words {
                break;
            }
            fresh.push(p.clone());
        }
        let new_words: usize = fresh.iter().map(|p| words(p)).sum();
        if ps.len() >= 4 && new_words >= old_words && (x * 13 + 5) % kept.len() != x {
            let mut t = fresh;
            t.extend(background.iter().cloned());
            docs.push(Doc {
                label: next,
                kind: Kind::FollowUp,
                source: format!("followup-{x}"),
                text: t.join("\n\n"),
                site: format!("followup-{x}"),
            });
            next += 1;
        }
        let y = (x * 17 + 3) % kept.len();
        if y != x {
            let longest = ps
                .iter()
                .max_by_key(|p| p.len())
                .cloned()
                .unwrap_or_default();
            let mut t = paragraphs(&kept[y].1);
            let at = t.len() / 2;
            t.insert(at, longest);
            docs.push(Doc {
                label: y,
                kind: Kind::QuotesOther,
                source: format!("quotes-{x}"),
                text: t.join("\n\n"),
                site: format!("quotes-{x}"),
            });
        }
    }
    // One site's furniture around four different stories' openings, per template.
    for (g, f) in FURNITURE.iter().enumerate() {
        let furniture = f.split("\n----\n").next().unwrap();
        for k in 0..4 {
            let base = &kept[(g * 37 + k * 11) % kept.len()].1;
            let lede = paragraphs(base).into_iter().next().unwrap_or_default();
            let lede: String = lede
                .split_whitespace()
                .take(60)
                .collect::<Vec<_>>()
                .join(" ");
            docs.push(Doc {
                label: next,
                kind: Kind::FurnitureSite,
                source: format!("furniture-site-{g}"),
                text: format!("{furniture}\n\n{lede}"),
                site: format!("furniture-site-{g}"),
            });
            next += 1;
        }
    }
    // Two troop withdrawals with overlapping vocabulary.
    for (k, t) in [
        include_str!("../tests/fixtures/stories/niger-us-withdrawal.txt"),
        include_str!("../tests/fixtures/stories/chad-french-withdrawal.txt"),
    ]
    .iter()
    .enumerate()
    {
        docs.push(Doc {
            label: next,
            kind: Kind::Base,
            source: format!("withdrawal-{k}"),
            text: (*t).to_owned(),
            site: "fixtures".into(),
        });
        next += 1;
    }
    docs
}

#[derive(Default, Debug, Clone, Copy)]
struct Counts {
    tp: u64,
    fp: u64,
    fn_: u64,
}

impl Counts {
    fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

struct Outcome {
    pairs: Counts,
    /// (kind) → (base–copy pairs together, all)
    by_kind: HashMap<Kind, (u64, u64)>,
    same_site_fp: u64,
    same_site_pairs: u64,
    furniture_fp: u64,
    withdrawal_fp: u64,
    /// Follow-ups put with the story they follow (out of all follow-ups).
    followup_fp: (u64, u64),
    no_sketch: usize,
}

fn evaluate(docs: &[Doc], sketches: &[Option<StorySketch>], rule: &Rule) -> Outcome {
    let now: DateTime<Utc> = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let copies: Vec<Copy<'_>> = docs
        .iter()
        .zip(sketches)
        .map(|(d, s)| Copy {
            sketch: s.as_ref(),
            source: &d.source,
            seen: now,
        })
        .collect();
    let furniture = Furniture::learn(
        docs.iter()
            .zip(sketches)
            .enumerate()
            .filter_map(|(i, (d, s))| s.as_ref().map(|s| (i as i64, d.source.as_str(), s))),
    );
    let labels = stories::cluster(&copies, &furniture, rule);
    if std::env::var_os("CLUSTER_DEBUG").is_some() {
        let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, &l) in labels.iter().enumerate() {
            groups.entry(l).or_default().push(i);
        }
        for members in groups.values() {
            let stories: HashSet<usize> = members.iter().map(|&i| docs[i].label).collect();
            if stories.len() > 1 {
                println!(
                    "mixed cluster of {} docs, {} stories:",
                    members.len(),
                    stories.len()
                );
                for &i in members.iter().take(12) {
                    let d = &docs[i];
                    let head: String = d.text.chars().take(90).collect();
                    println!(
                        "  [{}] {:?} {} {}: {:?}",
                        d.label, d.kind, d.source, d.site, head
                    );
                }
            }
        }
    }
    let mut o = Outcome {
        pairs: Counts::default(),
        by_kind: HashMap::new(),
        same_site_fp: 0,
        same_site_pairs: 0,
        furniture_fp: 0,
        withdrawal_fp: 0,
        followup_fp: (0, 0),
        no_sketch: sketches.iter().filter(|s| s.is_none()).count(),
    };
    for i in 0..docs.len() {
        for j in i + 1..docs.len() {
            let truth = docs[i].label == docs[j].label;
            let said = labels[i] == labels[j];
            match (truth, said) {
                (true, true) => o.pairs.tp += 1,
                (false, true) => o.pairs.fp += 1,
                (true, false) => o.pairs.fn_ += 1,
                (false, false) => {}
            }
            if truth && docs[i].kind == Kind::Base {
                let e = o.by_kind.entry(docs[j].kind).or_default();
                e.1 += 1;
                e.0 += u64::from(said);
            }
            if !truth
                && docs[i].site == docs[j].site
                && docs[i].kind == Kind::Base
                && docs[j].kind == Kind::Base
            {
                o.same_site_pairs += 1;
                o.same_site_fp += u64::from(said);
            }
            if !truth
                && said
                && docs[i].kind == Kind::FurnitureSite
                && docs[j].kind == Kind::FurnitureSite
            {
                o.furniture_fp += 1;
            }
            if docs[j].kind == Kind::FollowUp && docs[i].kind == Kind::Base {
                let followed = docs[j].text.contains(
                    paragraphs(&docs[i].text)
                        .first()
                        .map_or("\u{0}", String::as_str),
                );
                if followed {
                    o.followup_fp.1 += 1;
                    o.followup_fp.0 += u64::from(said);
                }
            }
            if !truth
                && said
                && docs[i].source.starts_with("withdrawal-")
                && docs[j].source.starts_with("withdrawal-")
            {
                o.withdrawal_fp += 1;
            }
        }
    }
    o
}

fn main() {
    let Some(dir) = corpus_dir() else {
        println!("stories_quality: no corpus found (set NEWSWATCH_CORPUS); nothing measured");
        return;
    };
    let docs = build_set(&dir);
    let mut kinds: HashMap<Kind, usize> = HashMap::new();
    for d in &docs {
        *kinds.entry(d.kind).or_default() += 1;
    }
    let mut kv: Vec<_> = kinds.into_iter().collect();
    kv.sort();
    println!("documents: {} ({kv:?})", docs.len());
    let labels: HashSet<usize> = docs.iter().map(|d| d.label).collect();
    println!("stories: {}", labels.len());

    let shipped = Rule::default();
    let sketches: Vec<Option<StorySketch>> =
        docs.iter().map(|d| stories::sketch(&d.text)).collect();
    let o = evaluate(&docs, &sketches, &shipped);
    report(
        "shipped",
        &shipped,
        stories::SHINGLE_WORDS,
        stories::SKETCH_SIZE,
        &o,
    );
    let mut kinds: Vec<_> = o.by_kind.iter().collect();
    kinds.sort();
    for (k, (t, n)) in kinds {
        println!("  recall {k:?}: {t}/{n} = {:.3}", *t as f64 / *n as f64);
    }
    if std::env::var_os("CLUSTER_COMPARE").is_some() {
        for (r, c, floor) in [
            (0.5, 0.8, 0.2),
            (0.5, 0.9, 0.1),
            (0.5, 0.9, 0.15),
            (0.5, 0.9, 0.2),
            (0.45, 0.9, 0.15),
            (0.55, 0.9, 0.15),
            (0.6, 0.9, 0.15),
        ] {
            let rule = Rule {
                resemblance: r,
                containment: c,
                containment_floor: floor,
                ..shipped
            };
            report(
                "compare",
                &rule,
                stories::SHINGLE_WORDS,
                stories::SKETCH_SIZE,
                &evaluate(&docs, &sketches, &rule),
            );
        }
    }
    if std::env::var_os("CLUSTER_SWEEP").is_none() {
        println!("(CLUSTER_SWEEP=1 for the sweep of shingle lengths, sketch sizes and thresholds)");
        return;
    }
    for shingle in [2, 3, 4] {
        for size in [64, 128] {
            let sk: Vec<Option<StorySketch>> = docs
                .iter()
                .map(|d| stories::sketch_with(&d.text, shingle, size))
                .collect();
            let mut best: Option<(f64, Rule, Outcome)> = None;
            for r in [0.3, 0.35, 0.4, 0.45, 0.5, 0.6] {
                for c in [0.6, 0.7, 0.8, 0.9, 1.01] {
                    for floor in [0.1, 0.15, 0.2, 0.3] {
                        let rule = Rule {
                            resemblance: r,
                            containment: c,
                            containment_floor: floor,
                            ..shipped
                        };
                        let o = evaluate(&docs, &sk, &rule);
                        if best.as_ref().is_none_or(|(f, _, _)| o.pairs.f1() > *f) {
                            best = Some((o.pairs.f1(), rule, o));
                        }
                    }
                }
            }
            let (_, rule, o) = best.unwrap();
            report("best", &rule, shingle, size, &o);
            let o = evaluate(&docs, &sk, &shipped);
            report("shipped rule", &shipped, shingle, size, &o);
        }
    }
}

fn report(what: &str, rule: &Rule, shingle: usize, size: usize, o: &Outcome) {
    println!(
        "{what:>12} k={shingle} size={size:3} R>={:.2} | C>={:.2}&R>={:.2}: pairs P {:.3} R {:.3} F1 {:.3} (tp {} fp {} fn {}); same-site different stories together {}/{}; furniture pages together {}; withdrawals together {}; follow-ups with their story {}/{}; unsketched {}",
        rule.resemblance,
        rule.containment,
        rule.containment_floor,
        o.pairs.precision(),
        o.pairs.recall(),
        o.pairs.f1(),
        o.pairs.tp,
        o.pairs.fp,
        o.pairs.fn_,
        o.same_site_fp,
        o.same_site_pairs,
        o.furniture_fp,
        o.withdrawal_fp,
        o.followup_fp.0,
        o.followup_fp.1,
        o.no_sketch
    );
}
