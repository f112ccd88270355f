//! `cargo bench --features bench --bench matcher`: normalize + match throughput and the memory
//! of compiled watchlists (issue 3).
//!
//! Builds, deterministically and from text embedded in the repo (the seed
//! article in `tests/fixtures/matching/` plus English and French paragraphs
//! below), a mixed Arabic/English/French corpus of at least 50 MB, and term
//! sets of 10, 1,000 and 10,000 terms (real words of the three languages,
//! place names, generated pseudo-words, some phrases and `*` prefixes) spread
//! over watchlists of ten keywords, every fifth with a require and an exclude
//! term. For each set it reports, on one core, the throughput of
//! `Matcher::find` (which normalizes title and body, segments, runs the
//! automaton, checks the rules and cuts snippets), and the heap held by the
//! compiled matcher, counted by a global allocator.
//!
//! Set `MATCHBENCH_MB` to change the corpus size (default 50), and
//! `MATCHBENCH_TERMS` (e.g. `1000` or `10,10000-absent`) to run only some
//! term sets. `N-absent` is the ten terms of the smallest set plus N - 10 that
//! occur nowhere, which isolates the cost of the number of terms from the cost
//! of the matches they make. `N-none` is N terms that all occur nowhere: most
//! news matches nothing, and this is what `find` costs then. Their first
//! letters (`xqz`, `ظظظ`) are rare, so the automaton seldom leaves its start;
//! `N-near` is the N terms of set `N` each made to occur nowhere by a rare
//! ending, so the walk follows them as far as the text does and never matches:
//! the cost of the walk without the cost of matches.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use newswatch::matcher::{normalize, Matcher, WatchlistTerms};

/// Counts live heap bytes and the peak, for the compile memory figure.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// CPU time of this thread, in seconds. Throughput is bytes per CPU-second,
/// so a run on a machine shared with other work still measures one core.
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

const ARABIC: &str = include_str!("../tests/fixtures/matching/pentagon-niger-withdrawal-ar.txt");

const ENGLISH: &str = "The Pentagon confirmed on Monday that the United States is holding talks on \
withdrawing its troops from Niger, more than a month after the ruling junta ordered American forces \
to leave the country. About a thousand US service members are based in Niger, most of them at Air \
Base 201 near Agadez, a drone base built at a cost of more than 100 million dollars. Deputy Secretary \
of State Kurt Campbell told the prime minister appointed by the junta that the withdrawal would be \
orderly and responsible. Washington failed to reach a compromise with the military leaders in Niamey, \
while Russia keeps gaining ground across the Sahel. Russian military instructors arrived in the \
capital in April with an air defence system. The junta ended a 2012 cooperation agreement with \
Washington in March. Officials said the talks on the withdrawal's timing would continue in the coming \
weeks. Neighbouring Nigeria's president met state governors on security. Mali and Burkina Faso, also \
ruled by juntas, have turned away from France and the United States. The coup in July removed \
President Mohamed Bazoum, who remains detained in the presidential palace. Aid groups warn that \
food prices have risen sharply since the borders were closed. Analysts say the drone base was key to \
surveillance of armed groups operating in the region.";

const FRENCH: &str = "Le Pentagone a confirmé lundi que les États-Unis mènent des discussions sur le \
retrait de leurs troupes du Niger, plus d'un mois après l'ordre donné par la junte au pouvoir. \
Environ un millier de militaires américains sont stationnés au Niger, la plupart sur la base \
aérienne 201 près d'Agadez, une base de drones qui a coûté plus de cent millions de dollars. Le \
secrétaire d'État adjoint a assuré au Premier ministre nommé par la junte que le retrait serait \
ordonné et responsable. Washington n'a pas trouvé de compromis avec les militaires de Niamey, tandis \
que la Russie gagne du terrain dans tout le Sahel. Des instructeurs russes sont arrivés dans la \
capitale en avril avec un système de défense aérienne. La junte a dénoncé en mars l'accord de \
coopération de 2012 avec Washington. Les pourparlers sur le calendrier du retrait se poursuivront \
dans les semaines à venir, selon des responsables. Le Mali et le Burkina Faso, également dirigés par \
des juntes, se sont détournés de la France. Le coup d'État de juillet a renversé le président \
Mohamed Bazoum, toujours détenu au palais présidentiel. Les organisations humanitaires s'inquiètent \
de la hausse des prix depuis la fermeture des frontières jusqu'à nouvel ordre.";

/// Place and actor names in the three languages; most are not in the texts.
const NAMES: &[&str] = &[
    "Niger",
    "Nigeria",
    "Mali",
    "Burkina Faso",
    "Tchad",
    "Chad",
    "Soudan",
    "Sudan",
    "Libya",
    "Libye",
    "Algeria",
    "Algérie",
    "Sénégal",
    "Senegal",
    "Mauritanie",
    "Mauritania",
    "Cameroun",
    "Benin",
    "Togo",
    "Ghana",
    "Niamey",
    "Bamako",
    "Ouagadougou",
    "N'Djamena",
    "Khartoum",
    "Tripoli",
    "Dakar",
    "Agadez",
    "Tillabéri",
    "Diffa",
    "Zinder",
    "Tahoua",
    "Arlit",
    "Wagner",
    "Africa Corps",
    "ECOWAS",
    "CEDEAO",
    "Bazoum",
    "Tiani",
    "Goïta",
    "Traoré",
    "AFRICOM",
    "Barkhane",
    "MINUSMA",
    "uranium",
    "Orano",
    "النيجر",
    "نيامي",
    "أغاديز",
    "مالي",
    "باماكو",
    "تشاد",
    "السودان",
    "الخرطوم",
    "ليبيا",
    "طرابلس",
    "الجزائر",
    "موريتانيا",
    "السنغال",
    "بوركينا فاسو",
    "واغادوغو",
    "فاغنر",
    "إيكواس",
    "بازوم",
    "تياني",
    "اليورانيوم",
    "الساحل",
    "انسحاب",
    "سحب القوات",
    "الانقلاب",
    "المجلس العسكري",
    "retrait",
    "retrait des troupes",
    "junte",
    "coup d'État",
    "withdraw*",
    "withdrawal",
    "junta",
    "coup",
    "drone base",
    "انسحب*",
    "retir*",
];

/// xorshift64*: the corpus and terms must be the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("fits")
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

const LATIN_SYLLABLES: &[&str] = &[
    "ba", "ko", "ri", "ta", "mu", "sel", "dan", "or", "vi", "ne", "la", "gru", "fen", "to", "par",
    "zi", "que", "mon", "é", "ast",
];
const ARABIC_LETTERS: &[char] = &[
    'ب', 'ت', 'ث', 'ج', 'ح', 'خ', 'د', 'ر', 'ز', 'س', 'ش', 'ص', 'ط', 'ع', 'غ', 'ف', 'ق', 'ك', 'ل',
    'م', 'ن', 'ه', 'و', 'ي', 'ا', 'أ', 'ة',
];

fn pseudo_word(rng: &mut Rng) -> String {
    if rng.below(2) == 0 {
        (0..2 + rng.below(3))
            .map(|_| *rng.pick(LATIN_SYLLABLES))
            .collect()
    } else {
        (0..3 + rng.below(4))
            .map(|_| *rng.pick(ARABIC_LETTERS))
            .collect()
    }
}

fn sentences(text: &str) -> Vec<&str> {
    text.split_inclusive(['.', '؟', '\n'])
        .map(str::trim)
        .filter(|s| s.chars().count() > 20)
        .collect()
}

/// One article: a title sentence and a body of 8–30 sentences in one
/// language, with some words swapped for pseudo-words, numbers and harakat.
fn article(rng: &mut Rng, pools: &[Vec<&str>; 3]) -> (String, String) {
    let pool = rng.pick(pools);
    let title = (*rng.pick(pool)).to_owned();
    let mut body = String::new();
    for _ in 0..8 + rng.below(23) {
        for word in rng.pick(pool).split(' ') {
            match rng.below(40) {
                0 => body.push_str(&pseudo_word(rng)),
                1 => body.push_str(&rng.below(100_000).to_string()),
                2 if word.starts_with(|c: char| ('\u{0621}'..='\u{064A}').contains(&c)) => {
                    for (i, c) in word.chars().enumerate() {
                        body.push(c);
                        if i % 2 == 0 {
                            body.push('\u{064E}');
                        }
                    }
                }
                _ => body.push_str(word),
            }
            body.push(' ');
        }
        if rng.below(6) == 0 {
            body.push_str("\n\n");
        }
    }
    (title, body)
}

fn corpus(bytes: usize) -> Vec<(String, String)> {
    let pools = [sentences(ARABIC), sentences(ENGLISH), sentences(FRENCH)];
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut out = Vec::new();
    let mut total = 0;
    while total < bytes {
        let a = article(&mut rng, &pools);
        total += a.0.len() + a.1.len();
        out.push(a);
    }
    out
}

/// `n` terms: the watchlist names first, then words of the texts (one in a
/// hundred: the corpus repeats three small texts, so each of their words is in
/// most articles of its language, far more often than in real news), pseudo-words, and some phrases and prefixes of either.
fn terms(n: usize) -> Vec<String> {
    let mut rng = Rng(0x7E57_0000_0000_0042 ^ n as u64);
    let words: Vec<&str> = [ARABIC, ENGLISH, FRENCH]
        .iter()
        .flat_map(|t| t.split(|c: char| !c.is_alphanumeric() && c != '\''))
        .filter(|w| w.chars().count() >= 5)
        .collect();
    let mut out: Vec<String> = NAMES.iter().take(n).map(|s| (*s).to_owned()).collect();
    while out.len() < n {
        let base = if rng.below(100) == 0 {
            (*rng.pick(&words)).to_owned()
        } else {
            pseudo_word(&mut rng)
        };
        let term = match rng.below(10) {
            0 => format!("{base} {}", pseudo_word(&mut rng)),
            1 => format!("{}*", base.chars().take(5).collect::<String>()),
            _ => base,
        };
        out.push(term);
    }
    out
}

/// Ten keywords per watchlist; every fifth also requires and excludes a term.
fn watchlists(terms: &[String]) -> Vec<WatchlistTerms> {
    terms
        .chunks(10)
        .enumerate()
        .map(|(i, chunk)| {
            let mut list = WatchlistTerms {
                keywords: chunk.to_vec(),
                ..Default::default()
            };
            if i % 5 == 4 && chunk.len() > 2 {
                list.keywords = chunk[..chunk.len() - 2].to_vec();
                list.require = vec![chunk[chunk.len() - 2].clone()];
                list.exclude = vec![chunk[chunk.len() - 1].clone()];
            }
            list
        })
        .collect()
}

struct Row {
    terms: usize,
    lists: usize,
    mb_s: f64,
    decide_mb_s: f64,
    matches: usize,
    heap: usize,
    peak: usize,
    compile_ms: f64,
}

/// The ten terms of the smallest set, then `n - 10` terms that occur nowhere
/// in the corpus (the generated ones, with a first word made impossible): the
/// matches stay those of ten terms, so only the number of terms grows.
fn terms_with_absent(n: usize) -> Vec<String> {
    let mut out = terms(10);
    out.extend(terms(n).into_iter().skip(10).take(n - 10).map(|t| {
        if t.starts_with(|c: char| c.is_ascii()) {
            format!("xqz{t}")
        } else {
            format!("ظظظ{t}")
        }
    }));
    out
}

/// `term` with a rare ending (before its `*`, if a prefix), so that it
/// occurs nowhere in the corpus but shares every other letter with the text.
fn never_occurring(term: &str) -> String {
    let (stem, star) = term.strip_suffix('*').map_or((term, ""), |s| (s, "*"));
    let ending = if stem.ends_with(|c: char| c.is_ascii()) {
        "qzx"
    } else {
        "ظظظ"
    };
    format!("{stem}{ending}{star}")
}

fn run(label: &str, docs: &[(String, String)], mb: f64) -> Row {
    let parse = |n: &str| -> usize {
        n.parse()
            .expect("MATCHBENCH_TERMS: N, N-absent, N-none or N-near")
    };
    let (n, all_terms) = if let Some(n) = label.strip_suffix("-absent") {
        (parse(n), terms_with_absent(parse(n)))
    } else if let Some(n) = label.strip_suffix("-none") {
        // Ten absent terms in place of the ten that occur.
        let mut all = terms_with_absent(parse(n) + 10);
        all.drain(..10);
        (parse(n), all)
    } else if let Some(n) = label.strip_suffix("-near") {
        let near = terms(parse(n)).iter().map(|t| never_occurring(t)).collect();
        (parse(n), near)
    } else {
        (parse(label), terms(parse(label)))
    };
    let lists = watchlists(&all_terms);
    let (live0, ()) = (
        LIVE.load(Ordering::Relaxed),
        PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed),
    );
    let t = Instant::now();
    let matcher = Matcher::compile(&lists).expect("bench terms compile");
    let compile_ms = t.elapsed().as_secs_f64() * 1e3;
    let heap = LIVE.load(Ordering::Relaxed) - live0;
    let peak = PEAK.load(Ordering::Relaxed) - live0;
    // Warm up on a slice, then one timed pass over everything.
    for (title, body) in docs.iter().take(200) {
        black_box(matcher.find(title, body));
    }
    // `MATCHBENCH_DECIDE_ONLY=N` skips the `find` pass and decides N times over
    // (for profiling deciding).
    let passes: usize = std::env::var("MATCHBENCH_DECIDE_ONLY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let decide_only = passes > 0;
    let t = cpu_seconds();
    let mut matches = 0;
    if !decide_only {
        for (title, body) in docs {
            matches += black_box(matcher.find(title, body)).len();
        }
    }
    let secs = cpu_seconds() - t;
    // The same pass deciding only which watchlists match (no spans or snippets).
    let t = cpu_seconds();
    let mut decided = 0;
    for _ in 0..passes.max(1) {
        decided = 0;
        for (title, body) in docs {
            decided += black_box(matcher.matching_watchlists(title, body)).len();
        }
    }
    let decide_secs = (cpu_seconds() - t) / passes.max(1) as f64;
    if decide_only {
        matches = decided;
    }
    assert_eq!(decided, matches, "find and matching_watchlists agree");
    if let Ok(dir) = std::env::var("MATCHBENCH_DUMP") {
        // Every hit of every match, to compare two builds' results exactly.
        let mut out = String::new();
        for (i, (title, body)) in docs.iter().enumerate() {
            for m in matcher.find(title, body) {
                for h in &m.hits {
                    out.push_str(&format!(
                        "{i}\t{}\t{}\t{}\t{:?}\t{:?}\t{:?}\n",
                        m.watchlist, h.term, h.field, h.span, h.snippet.highlights, h.snippet.text
                    ));
                }
            }
        }
        std::fs::write(format!("{dir}/hits-{label}.tsv"), out).expect("write the dump");
    }
    Row {
        terms: n,
        lists: lists.len(),
        mb_s: mb / secs,
        decide_mb_s: mb / decide_secs,
        matches,
        heap,
        peak,
        compile_ms,
    }
}

/// A config file with `lists` as its watchlists (and one source), as a user
/// would write it.
fn config_text(lists: &[WatchlistTerms]) -> String {
    let quote = |terms: &[String]| {
        terms
            .iter()
            .map(|t| toml::Value::String(t.clone()).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = String::from(
        "state_dir = \"./state\"\n[mail]\nfrom = \"nw <nw@localhost>\"\ntransport = \"file\"\n\n\
         [[source]]\nname = \"feed\"\nurl = \"https://example.org/rss\"\n",
    );
    for (i, list) in lists.iter().enumerate() {
        text.push_str(&format!(
            "\n[[watchlist]]\nname = \"list-{i}\"\nkeywords = [{}]\n",
            quote(&list.keywords)
        ));
        if !list.require.is_empty() {
            text.push_str(&format!("require = [{}]\n", quote(&list.require)));
        }
        if !list.exclude.is_empty() {
            text.push_str(&format!("exclude = [{}]\n", quote(&list.exclude)));
        }
        text.push_str("to = [\"a@example.org\"]\n");
    }
    text
}

/// Wall time to load, validate and compile a config file with `n` terms
/// (best of three), as `newswatch run` and `check` do at start and reload.
fn config_load_ms(n: usize) -> f64 {
    let text = config_text(&watchlists(&terms(n)));
    let path = std::env::temp_dir().join(format!("newswatch-bench-{}.toml", std::process::id()));
    std::fs::write(&path, text).expect("write the bench config");
    let best = (0..3)
        .map(|_| {
            let t = Instant::now();
            let config = newswatch::config::Config::load(&path).expect("bench config is valid");
            black_box(config);
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min);
    std::fs::remove_file(&path).ok();
    best
}

#[allow(clippy::too_many_lines, reason = "the benchmark's steps in order")]
fn main() {
    let mb: usize = std::env::var("MATCHBENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let docs = corpus(mb * 1_000_000);
    let bytes: usize = docs.iter().map(|(t, b)| t.len() + b.len()).sum();
    let total_mb = bytes as f64 / 1e6;
    println!(
        "corpus: {} articles, {total_mb:.1} MB (ar/en/fr, deterministic)",
        docs.len()
    );

    // Throughput of one step alone, over every title and body.
    let alone = |step: fn(&str) -> usize| {
        let t = cpu_seconds();
        for (title, body) in &docs {
            black_box(step(title));
            black_box(step(body));
        }
        total_mb / (cpu_seconds() - t)
    };
    println!(
        "normalize alone: {:.0} MB/s",
        alone(|text| normalize(text).len())
    );
    println!(
        "normalize + cut into words (the token stream), no terms: {:.0} MB/s",
        alone(Matcher::count_words)
    );
    println!(
        "the text-only stream deciding uses, no terms: {:.0} MB/s",
        alone(Matcher::text_only_len)
    );

    println!();
    println!("| terms | watchlists | find MB/s | decide only MB/s | matched (article, watchlist) | compile ms | heap MB | peak MB during compile |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut rows = Vec::new();
    let sets: Vec<String> = std::env::var("MATCHBENCH_TERMS").map_or_else(
        |_| {
            [
                "10",
                "1000",
                "10000",
                "10000-absent",
                "1000-none",
                "1000-near",
            ]
            .map(String::from)
            .to_vec()
        },
        |v| v.split(',').map(|n| n.trim().to_owned()).collect(),
    );
    for label in &sets {
        let r = run(label, &docs, total_mb);
        let terms = if label.ends_with("-absent") {
            format!("{} (10 + {} absent)", r.terms, r.terms - 10)
        } else if label.ends_with("-none") {
            format!("{} (all absent)", r.terms)
        } else if label.ends_with("-near") {
            format!("{} (all absent, near words)", r.terms)
        } else {
            r.terms.to_string()
        };
        println!(
            "| {terms} | {} | {:.0} | {:.0} | {} | {:.0} | {:.1} | {:.1} |",
            r.lists,
            r.mb_s,
            r.decide_mb_s,
            r.matches,
            r.compile_ms,
            r.heap as f64 / 1e6,
            r.peak as f64 / 1e6
        );
        rows.push(r);
    }
    println!();
    println!(
        "load + validate + compile a config file with 10,000 terms: {:.0} ms (target ≤ 200)",
        config_load_ms(10_000)
    );
    if rows.len() < 4 {
        return;
    }
    println!(
        "10,000 terms (9,990 absent) vs 10: {:.2}× slower with snippets, {:.2}× deciding only \
         (same matches: only the number of terms grows)",
        rows[0].mb_s / rows[3].mb_s,
        rows[0].decide_mb_s / rows[3].decide_mb_s
    );
    let ratio = rows[0].mb_s / rows[2].mb_s;
    println!();
    println!("10,000 terms vs 10: {ratio:.2}× slower (target ≤ 2)");
    println!(
        "10,000 terms vs 10, deciding only: {:.2}× slower",
        rows[0].decide_mb_s / rows[2].decide_mb_s
    );
    println!(
        "1,000 terms: {:.0} MB/s deciding, {:.0} MB/s with snippets (target ≥ 200)",
        rows[1].decide_mb_s, rows[1].mb_s
    );
    println!(
        "10,000 terms: {:.1} MB heap (target ≤ 50)",
        rows[2].heap as f64 / 1e6
    );
}
