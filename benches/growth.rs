//! `cargo bench --bench growth`: a year of a 500-source install on one SQLite state file,
//! with retention on and a simulated clock (issue 16).
//!
//! Every simulated day, each source records one scan of `GROWTH_PER_DAY` (40) new articles
//! of about `GROWTH_TEXT` (3,000) characters, the way a scan does: one lookup of the
//! entries' URLs, then one `record_scan` transaction. One article in fifty matches the
//! watchlist; once a day its digest is composed as the daemon composes it (`outbox`:
//! stories clustered and ranked, parts that fit), written to a file outbox and marked sent.
//! Then the retention pass prunes (`keep_text` 30 days, `keep_identity` 400 days, or
//! `GROWTH_KEEP_TEXT_DAYS` / `GROWTH_KEEP_IDENTITY_DAYS`) batch by batch, each batch timed.
//! Then the keys of articles past `keep_identity` are forgotten (`Store::prune_keys`), timed.
//! Every 15 days it prints the database's size and what it holds, the mean and slowest
//! prune batch, and the latency of a scan's store work and of the digest, so the end can be
//! compared with the start.
//!
//! `GROWTH_SOURCES`, `GROWTH_DAYS` scale the run (the default is the issue's: 500 sources,
//! 365 days, 7.3 million articles).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use newswatch::config::Config;
use newswatch::config::Retention;
use newswatch::daemon::retention::{cutoffs, PRUNE_BATCH, PRUNE_KEYS_STEP};
use newswatch::mail::Transport;
use newswatch::model::{ArticleMatch, InstanceId, ScannedArticle, SourceName, TextDebt, TextFrom};
use newswatch::outbox::{self, Claimant, DigestContext, Due};
use newswatch::store::Store;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Deterministic filler text of about `len` characters, different for each article.
fn body(n: u64, len: usize) -> String {
    const WORDS: [&str; 16] = [
        "the",
        "convoy",
        "left",
        "Niamey",
        "at",
        "dawn",
        "officials",
        "said",
        "troops",
        "market",
        "Agadez",
        "region",
        "talks",
        "reported",
        "week",
        "border",
    ];
    let mut s = String::with_capacity(len + 16);
    let mut x = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    while s.len() < len {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        s.push_str(WORDS[(x >> 60) as usize]);
        s.push(' ');
    }
    s
}

fn article(n: u64, text_len: usize, matches: bool) -> ScannedArticle {
    let text = body(n, text_len);
    let sketch = newswatch::stories::sketch(&text);
    ScannedArticle {
        // As long as a real article's URL (~90 characters): path, date and slug.
        urls: vec![format!(
            "https://www.news{}.example/africa/2026/12/07/story-{n}-niger-agadez-troops-leave",
            n % 97
        )],
        fingerprint: format!("{:064x}", u128::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        title: format!("Story number {n} from the Sahel desk"),
        published: None,
        lang: Some("en".into()),
        text,
        text_from: Some(TextFrom::Page),
        debt: TextDebt::Settled,
        sketch,
        reportable_if_new: true,
        matches: if matches {
            vec![ArticleMatch {
                watchlist: "niger".parse().expect("valid name"),
                terms: vec!["Niger".into()],
                snippet: "… troops left Niger …".into(),
                highlights: vec![(15, 20)],
                title_highlights: vec![],
                prominence: newswatch::model::Prominence::default(),
            }]
        } else {
            Vec::new()
        },
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main(flavor = "current_thread")]
#[allow(clippy::too_many_lines, reason = "the benchmark's steps in order")]
async fn main() {
    let sources = env("GROWTH_SOURCES", 500);
    let days = env("GROWTH_DAYS", 365);
    let per_day = env("GROWTH_PER_DAY", 40);
    let text_len = usize::try_from(env("GROWTH_TEXT", 3000)).unwrap_or(3000);
    let retention = Retention {
        keep_text: Duration::from_secs(env("GROWTH_KEEP_TEXT_DAYS", 30) * 86_400),
        keep_identity: Duration::from_secs(env("GROWTH_KEEP_IDENTITY_DAYS", 400) * 86_400),
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    // `GROWTH_DB=path` keeps the database there, to look at afterwards.
    let path = std::env::var("GROWTH_DB").map_or_else(
        |_| dir.path().join("newswatch.db"),
        std::path::PathBuf::from,
    );
    let store = Store::open(&path).expect("the database opens");
    let names: Vec<SourceName> = (0..sources)
        .map(|i| format!("source-{i}").parse().expect("valid name"))
        .collect();
    let config = Config::from_text(
        &dir.path().join("newswatch.toml"),
        &format!(
            "state_dir = {:?}\n[[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\"]\nto = [\"a@example.org\"]\n",
            dir.path().display().to_string()
        ),
    )
    .expect("the bench's config is valid");
    let wl = config.watchlists.by_name("niger").expect("the watchlist");
    let transport = Transport::from_config(&config.mail, &config.outbox_dir()).expect("outbox");
    let me = InstanceId::new("growth", std::process::id(), 1);
    let claimant = Claimant {
        me: &me,
        lease: Duration::from_secs(60),
    };
    let start: DateTime<Utc> =
        Utc::now() - chrono::Duration::days(i64::try_from(days).unwrap_or(365));
    println!(
        "growth: {sources} sources × {per_day} articles/day × {days} days, {text_len}-char bodies; keep_text {} d, keep_identity {} d",
        retention.keep_text.as_secs() / 86_400,
        retention.keep_identity.as_secs() / 86_400
    );
    println!();
    println!("| day | articles recorded | DB MB | with text | keys (dedup only) | prune batches | ms per batch (mean / max) | keys pass ms | compact ms | scan store ms (mean) | digest ms | wall s |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let t_run = Instant::now();
    let mut n = 0u64;
    let mut first_scan_ms = None;
    for day in 0..days {
        let today = start + chrono::Duration::days(i64::try_from(day).unwrap_or(0));
        let mut scan_time = Duration::ZERO;
        for (s, name) in names.iter().enumerate() {
            let batch: Vec<ScannedArticle> = (0..per_day)
                .map(|i| {
                    let id = n + i;
                    article(id, text_len, id % 50 == (s as u64) % 50)
                })
                .collect();
            n += per_day;
            let t = Instant::now();
            let urls: Vec<&str> = batch.iter().map(|a| a.urls[0].as_str()).collect();
            let known = store.known_articles(&urls).await.expect("lookup");
            assert!(known.is_empty());
            store
                .record_scan(name, &batch, today)
                .await
                .expect("record");
            scan_time += t.elapsed();
        }
        let t = Instant::now();
        // The day's digest as the daemon composes it (stories clustered and ranked, split
        // into parts that fit), written to the file outbox and marked sent.
        let cx = DigestContext {
            watchlist: wl,
            mail: &config.mail,
            timezone: config.timezone,
        };
        outbox::compose_digest(&store, cx, today, claimant, None)
            .await
            .expect("digest");
        outbox::deliver_due(&store, &config.mail, &transport, Due::All, claimant)
            .await
            .expect("delivered");
        let digest_ms = ms(t.elapsed());
        // Retention as the daemon runs it (`daemon::retention::prune_all`), batch by
        // batch, each batch timed: a batch is one write transaction, so its time is how
        // long it can hold up a scan.
        let cut = cutoffs(retention, today + chrono::Duration::hours(23));
        let (mut batches, mut prune_time, mut slowest) = (0u32, Duration::ZERO, Duration::ZERO);
        loop {
            let t = Instant::now();
            let p = store.prune_batch(cut, PRUNE_BATCH).await.expect("prune");
            let took = t.elapsed();
            if p.is_empty() {
                break;
            }
            batches += 1;
            prune_time += took;
            slowest = slowest.max(took);
        }
        // Then the keys past keep_identity: a read walking them in key order, a short
        // write per range (no pause here, so this is the whole pass's work).
        let t = Instant::now();
        store
            .prune_keys(cut, PRUNE_KEYS_STEP, Duration::ZERO)
            .await
            .expect("keys");
        let keys_ms = ms(t.elapsed());
        let t = Instant::now();
        store.compact().await.expect("compact");
        let compact_ms = ms(t.elapsed());
        let scan_ms = ms(scan_time) / sources as f64;
        first_scan_ms.get_or_insert(scan_ms);
        if day % 15 == 0 || day + 1 == days {
            let held = store.held().await.expect("held");
            println!(
                "| {day} | {n} | {:.0} | {} | {} | {batches} | {:.1} / {:.1} | {keys_ms:.0} | {compact_ms:.1} | {scan_ms:.2} | {digest_ms:.1} | {:.0} |",
                held.bytes as f64 / 1e6,
                held.articles_with_text,
                held.identity_keys,
                ms(prune_time) / f64::from(batches.max(1)),
                ms(slowest),
                t_run.elapsed().as_secs_f64()
            );
        }
    }
    println!();
    println!(
        "scan store latency: {:.2} ms per 40-article scan on day 0 (see the table for the end)",
        first_scan_ms.unwrap_or_default()
    );
}
