//! One story, one item (issue 19), on real parts: articles recorded in SQLite with the
//! matches and sketches a scan makes (the config's matcher, `cluster::sketch`), digests
//! composed and recorded by `outbox`, delivered by the file transport (read back as `.eml`)
//! or by SMTP to a real server on loopback.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use newswatch::config::{Config, MailConfig, TransportConfig};
use newswatch::extract::fingerprint;
use newswatch::mail::Transport;
use newswatch::model::{InstanceId, ScannedArticle, SourceName, TextDebt, TextFrom};
use newswatch::outbox::{compose_digest, deliver_due, Claimant, DigestContext, Due};
use newswatch::store::Store;
use support::config::{self, ConfigFile};
use support::mime;
use support::smtp_sink::SmtpSink;

fn claimant_id() -> InstanceId {
    InstanceId::new("test", std::process::id(), 1)
}

fn claimant(me: &InstanceId) -> Claimant<'_> {
    Claimant {
        me,
        lease: Duration::from_secs(60),
    }
}

const NIGER: &str = include_str!("fixtures/stories/niger-us-withdrawal.txt");
const CHAD: &str = include_str!("fixtures/stories/chad-french-withdrawal.txt");
const SITE: &str = include_str!("fixtures/stories/sahel-daily-furniture.txt");

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, 0).unwrap()
}

struct World {
    dir: tempfile::TempDir,
    config: Config,
    store: Store,
}

impl World {
    /// Six sources and the watchlist "niger", preferring the sources `prefer` (if any).
    fn new(prefer: &[&str]) -> World {
        let dir = tempfile::tempdir().unwrap();
        let mut file = ConfigFile::in_dir(dir.path())
            .set("timezone", "Africa/Niamey")
            .with(config::file_outbox());
        for s in [
            "reuters",
            "apnews",
            "bbc-en",
            "aljazeera-en",
            "france24",
            "sahel-daily",
        ] {
            file = file.with(config::source(s, &format!("https://{s}.example/feed.xml")));
        }
        let mut watchlist = config::watchlist("niger", &["Niger", "Chad", "Sahel", "النيجر"])
            .set("to", vec!["analyst@example.org"]);
        if !prefer.is_empty() {
            watchlist = watchlist.set("prefer", prefer.to_vec());
        }
        let path = file.with(watchlist).write_in(dir.path());
        let config = Config::load(&path).expect("test config is valid");
        let store = Store::open(&config.database_path()).unwrap();
        World { dir, config, store }
    }

    /// Records one article as a scan of `source` would at `now`.
    async fn record(&self, source: &str, url: &str, title: &str, body: &str, now: DateTime<Utc>) {
        let source: SourceName = source.parse().unwrap();
        let matches = self
            .config
            .watchlists
            .find(&source, Some("en"), title, body);
        let a = ScannedArticle {
            urls: vec![url.to_owned()],
            fingerprint: fingerprint(title, body),
            title: title.to_owned(),
            published: Some(now),
            lang: Some("en".into()),
            text: body.to_owned(),
            text_from: Some(TextFrom::Page),
            debt: TextDebt::Settled,
            sketch: newswatch::stories::sketch(body),
            reportable_if_new: true,
            matches,
        };
        let r = self.store.record_scan(&source, &[a], now).await.unwrap();
        assert!(r[0].new.iter().all(|n| *n), "{url} is new");
    }

    /// Composes and delivers the digest at `now`; returns the matches it claimed.
    async fn digest(&self, now: DateTime<Utc>) -> usize {
        let wl = self.config.watchlists.by_name("niger").unwrap();
        let cx = DigestContext {
            watchlist: wl,
            mail: &self.config.mail,
            timezone: self.config.timezone,
        };
        let me = claimant_id();
        let n = compose_digest(&self.store, cx, now, claimant(&me), None)
            .await
            .unwrap();
        let transport =
            Transport::from_config(&self.config.mail, &self.config.outbox_dir()).unwrap();
        let r = deliver_due(
            &self.store,
            &self.config.mail,
            &transport,
            Due::All,
            claimant(&me),
        )
        .await
        .unwrap();
        assert_eq!(r.retrying + r.refused, 0);
        n
    }

    fn outbox(&self) -> PathBuf {
        self.config.outbox_dir()
    }

    async fn pending(&self) -> usize {
        self.store
            .pending_matches(&"niger".parse().unwrap())
            .await
            .unwrap()
            .len()
    }
}

/// A message read back: its subject, Message-ID, and decoded parts.
#[derive(Debug)]
struct Mail {
    subject: String,
    message_id: String,
    text: String,
    html: String,
}

fn read_mail(raw: &str) -> Mail {
    let header = |name: &str| mime::header(raw, name).unwrap_or_default();
    let (mut text, mut html) = (String::new(), String::new());
    for part in raw.split("\r\n--").skip(1) {
        let head = part
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let decoded = mime::decoded_text(&format!("\r\n--{part}"));
        if head.contains("content-type: text/plain") {
            text = decoded;
        } else if head.contains("content-type: text/html") {
            html = decoded;
        }
    }
    Mail {
        subject: decode_subject(&header("Subject")),
        message_id: header("Message-ID"),
        // The wire's CRLF line ends, read as the text a reader sees.
        text: text.replace("\r\n", "\n"),
        html: html.replace("\r\n", "\n"),
    }
}

/// The subject, with RFC 2047 words decoded (lettre encodes non-ASCII ones).
fn decode_subject(s: &str) -> String {
    if !s.contains("=?") {
        return s.to_owned();
    }
    s.split_whitespace()
        .map(|w| {
            w.strip_prefix("=?utf-8?b?")
                .or_else(|| w.strip_prefix("=?UTF-8?B?"))
                .and_then(|b| b.strip_suffix("?="))
                .map_or_else(
                    || w.to_owned(),
                    |b| {
                        mime::decoded_text(&format!(
                            "\r\n--x\r\nContent-Transfer-Encoding: base64\r\n\r\n{b}\r\n"
                        ))
                        .trim()
                        .to_owned()
                    },
                )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn mails_in(dir: &Path) -> Vec<Mail> {
    mime::outbox(dir)
        .iter()
        .map(|(_, m)| read_mail(m))
        .collect()
}

fn paragraphs(s: &str) -> Vec<&str> {
    s.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// The Niger story as five outlets carry it, each under its own headline: a dateline,
/// words changed, a paragraph cut and a caption added, a reworded top, the end cut.
fn five_copies() -> Vec<(&'static str, String, String)> {
    let p = paragraphs(NIGER);
    vec![
        (
            "reuters",
            "US to withdraw troops from Niger, Pentagon says".into(),
            format!("NIAMEY, April 19 (Reuters) - {}", p.join("\n\n")),
        ),
        (
            "apnews",
            "Pentagon confirms US troop withdrawal from Niger".into(),
            p.join("\n\n")
                .replace("said on Friday", "announced on Friday")
                .replace("Hundreds of people", "Several hundred people"),
        ),
        (
            "bbc-en",
            "Niger: US agrees to pull out its troops".into(),
            {
                let mut q: Vec<String> = p.iter().map(|s| (*s).to_owned()).collect();
                q.remove(5);
                q.insert(2, "Protesters in Niamey hold a sign demanding that American soldiers leave Niger. (Photo: AFP)".into());
                q.join("\n\n")
            },
        ),
        (
            "aljazeera-en",
            "Washington to pull troops out of Niger after junta talks fail".into(),
            p.join("\n\n")
                .replace("The United States will withdraw", "Washington is to pull")
                .replace("drone base", "drone facility"),
        ),
        (
            "france24",
            "American troops to leave Niger by September".into(),
            format!("(AFP) {}", p[..5].join("\n\n")),
        ),
    ]
}

fn url(source: &str, k: usize) -> String {
    format!("https://{source}.example/world/{k}.html")
}

fn also_in_line(text: &str, after_url: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == after_url)
        .unwrap_or_else(|| panic!("{after_url} not in {text}"));
    lines[at + 1].trim().to_owned()
}

#[tokio::test]
async fn five_copies_are_one_item_naming_the_other_four_and_chad_stays_apart() {
    let w = World::new(&[]);
    for (k, (source, title, body)) in five_copies().iter().enumerate() {
        w.record(
            source,
            &url(source, k),
            title,
            body,
            t0() + chrono::Duration::minutes(k as i64),
        )
        .await;
    }
    w.record(
        "reuters",
        &url("reuters", 99),
        "France completes withdrawal from Chad",
        CHAD,
        t0(),
    )
    .await;
    assert_eq!(
        w.digest(t0() + chrono::Duration::hours(1)).await,
        6,
        "every copy is claimed"
    );
    let mails = mails_in(&w.outbox());
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.subject, "[newswatch] niger: 2 new articles");
    let items: Vec<&str> = m.text.lines().filter(|l| l.starts_with("* ")).collect();
    assert_eq!(items.len(), 2, "{}", m.text);
    // The most complete copy (the dateline adds words) is shown; the others are named.
    assert!(
        m.text
            .lines()
            .any(|l| l == "* US to withdraw troops from Niger, Pentagon says"),
        "{}",
        m.text
    );
    let also = also_in_line(&m.text, &url("reuters", 0));
    assert!(also.starts_with("Also in: "), "{also}");
    for (k, (source, _, _)) in five_copies().iter().enumerate().skip(1) {
        assert!(
            also.contains(&format!("{source} {}", url(source, k))),
            "{also}"
        );
    }
    assert!(
        !also.contains(&url("reuters", 99)),
        "Chad is another story: {also}"
    );
    assert!(m
        .text
        .lines()
        .any(|l| l == "* France completes withdrawal from Chad"));
    assert_eq!(m.text.matches("Also in:").count(), 1, "Chad has no copies");
    for (source, title, _) in five_copies().iter().skip(1) {
        assert!(
            !m.text.contains(title.as_str()),
            "{source}'s headline is not an item"
        );
    }
    assert!(m
        .html
        .contains("Also in: <a href=\"https://apnews.example/world/1.html\""));
    assert_eq!(w.pending().await, 0);
}

#[tokio::test]
async fn a_preferred_source_is_shown_first() {
    let w = World::new(&["france24", "bbc-en"]);
    for (k, (source, title, body)) in five_copies().iter().enumerate() {
        w.record(source, &url(source, k), title, body, t0()).await;
    }
    w.digest(t0()).await;
    let m = &mails_in(&w.outbox())[0];
    assert_eq!(m.subject, "[newswatch] niger: 1 new article");
    assert!(
        m.text
            .lines()
            .any(|l| l == "* American troops to leave Niger by September"),
        "{}",
        m.text
    );
    let also = also_in_line(&m.text, &url("france24", 4));
    assert!(
        also.starts_with("Also in: bbc-en "),
        "the next preferred comes first: {also}"
    );
}

#[tokio::test]
async fn a_copy_a_day_later_is_not_a_new_story_and_is_listed_once() {
    let w = World::new(&[]);
    let copies = five_copies();
    for (k, (source, title, body)) in copies.iter().enumerate().take(4) {
        w.record(source, &url(source, k), title, body, t0()).await;
    }
    assert_eq!(w.digest(t0()).await, 4);
    let (source, title, body) = &copies[4];
    let day = t0() + chrono::Duration::hours(24);
    w.record(source, &url(source, 4), title, body, day).await;
    // Alone, the late copy is no news: nothing is sent, and it waits.
    assert_eq!(w.digest(day).await, 0);
    assert_eq!(mails_in(&w.outbox()).len(), 1);
    assert_eq!(w.pending().await, 1);

    // A restart: the state is all in the database.
    let World { dir, config, store } = w;
    drop(store);
    let w = World {
        store: Store::open(&config.database_path()).unwrap(),
        dir,
        config,
    };
    let later = day + chrono::Duration::hours(1);
    w.record(
        "reuters",
        &url("reuters", 99),
        "France completes withdrawal from Chad",
        CHAD,
        later,
    )
    .await;
    assert_eq!(w.digest(later).await, 2, "the news and the late copy");
    assert_eq!(w.digest(later).await, 0);
    let mails = mails_in(&w.outbox());
    assert_eq!(mails.len(), 2);
    let second = mails.iter().find(|m| m.text.contains("Chad")).unwrap();
    assert_eq!(
        second.subject, "[newswatch] niger: 1 new article",
        "the late copy is no item"
    );
    let tail = &second.text[second
        .text
        .find("Already mailed, now also in:")
        .expect("listed")..];
    assert!(
        tail.contains("* US to withdraw troops from Niger, Pentagon says"),
        "{tail}"
    );
    assert!(
        tail.contains(&format!("Also in: france24 {}", url("france24", 4))),
        "{tail}"
    );
    let everything: String = mails.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        everything.matches(&url("france24", 4)).count(),
        1,
        "mailed once"
    );
    assert_eq!(w.pending().await, 0);
}

/// A late copy with no news after it for a whole clustering window (72 h) is not left
/// pending for ever: it joins the digest that told its story, and nothing is mailed.
#[tokio::test]
async fn a_late_copy_with_no_news_for_a_window_joins_the_digest_that_told_its_story() {
    let w = World::new(&[]);
    let copies = five_copies();
    for (k, (source, title, body)) in copies.iter().enumerate().take(2) {
        w.record(source, &url(source, k), title, body, t0()).await;
    }
    assert_eq!(w.digest(t0()).await, 2);
    let (source, title, body) = &copies[4];
    let day = t0() + chrono::Duration::hours(24);
    w.record(source, &url(source, 4), title, body, day).await;
    assert_eq!(w.digest(day + chrono::Duration::hours(71)).await, 0);
    assert_eq!(w.pending().await, 1, "it waits within the window");
    assert_eq!(
        w.digest(day + chrono::Duration::hours(72)).await,
        0,
        "no mail"
    );
    assert_eq!(w.pending().await, 0, "settled with its story");
    assert_eq!(
        mails_in(&w.outbox()).len(),
        1,
        "only the story's own digest"
    );
    let later = day + chrono::Duration::hours(80);
    w.record(
        "reuters",
        &url("reuters", 99),
        "France completes withdrawal from Chad",
        CHAD,
        later,
    )
    .await;
    assert_eq!(w.digest(later).await, 1, "the next news comes alone");
    let mails = mails_in(&w.outbox());
    let everything: String = mails.iter().map(|m| m.text.as_str()).collect();
    assert!(
        !everything.contains(&url(source, 4)),
        "the settled copy is never mailed"
    );
}

/// 300 different stories: every HTML part at most 100 kB, numbered parts with their own
/// Message-IDs and counts, every story mailed exactly once, over real SMTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_matches_fit_in_numbered_parts_each_mailed_once() {
    let sink = SmtpSink::start().await;
    let w = World::new(&[]);
    let mut rng = 19u64;
    let mut word = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let syll = [
            "ka", "ni", "sa", "hel", "ma", "li", "ra", "to", "de", "mon", "ba", "lu", "zi",
        ];
        (0..2 + rng % 3)
            .map(|k| syll[((rng >> (k * 5)) % syll.len() as u64) as usize])
            .collect::<String>()
    };
    for i in 0..300 {
        let words: Vec<String> = (0..120).map(|_| word()).collect();
        let (title, body) = if i % 3 == 1 {
            (
                format!("انسحاب القوات من النيجر: تقرير رقم {i}"),
                format!(
                    "قالت مصادر إن القوات تنسحب من النيجر. {} {}",
                    words.join(" "),
                    "بحسب ما أعلنت وزارة الدفاع.".repeat(2)
                ),
            )
        } else {
            (
                format!("Niger: report {i} on the withdrawal of troops, {}", word()),
                format!(
                    "Officials in Niger said on Monday that {}.",
                    words.join(" ")
                ),
            )
        };
        let source = format!("source-{}", i % 17);
        w.record(
            &source,
            &format!("https://news.example/{i}/story.html"),
            &title,
            &body,
            t0(),
        )
        .await;
    }
    let smtp = newswatch::config::smtp::parse_smtp_url(&format!("smtp://{}?tls=none", sink.addr()))
        .unwrap();
    let mail = MailConfig::new(
        "newswatch <nw@example.org>".parse().unwrap(),
        TransportConfig::Smtp(smtp),
    );
    let wl = w.config.watchlists.by_name("niger").unwrap();
    let cx = DigestContext {
        watchlist: wl,
        mail: &mail,
        timezone: w.config.timezone,
    };
    let me = claimant_id();
    assert_eq!(
        compose_digest(&w.store, cx, t0(), claimant(&me), None)
            .await
            .unwrap(),
        300
    );
    let transport = Transport::from_config(&mail, Path::new("/nonexistent")).unwrap();
    let r = deliver_due(&w.store, &mail, &transport, Due::All, claimant(&me))
        .await
        .unwrap();
    assert_eq!((r.retrying, r.refused), (0, 0));
    let got = sink.wait_for(r.sent, Duration::from_secs(10)).await;
    assert!(got.len() >= 2, "300 stories do not fit one message");
    let mails: Vec<Mail> = got.iter().map(|m| read_mail(&m.data)).collect();
    let n = mails.len();
    let mut ids: Vec<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "each part its own Message-ID");
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut total = 0;
    for (k, m) in mails.iter().enumerate() {
        assert!(
            m.html.len() <= 100_000,
            "part {k}: HTML {} bytes",
            m.html.len()
        );
        assert!(
            m.text.len() <= 100_000,
            "part {k}: text {} bytes",
            m.text.len()
        );
        assert!(
            m.html.trim_end().ends_with("</html>"),
            "a whole document: {:?}",
            &m.html[m.html.len().saturating_sub(60)..]
        );
        let items = m.text.lines().filter(|l| l.starts_with("* ")).count();
        total += items;
        let want = format!("[newswatch] niger: {items} new articles ({}/{n})", k + 1);
        assert_eq!(m.subject, want, "each part counts its own items");
        for i in 0..300 {
            let c = m
                .text
                .matches(&format!("https://news.example/{i}/story.html"))
                .count();
            *seen.entry(i).or_default() += c;
        }
    }
    assert_eq!(total, 300);
    assert!(seen.values().all(|&c| c == 1), "every story exactly once");
    let first = &mails[0];
    assert!(
        first.text.contains("Matched: "),
        "the first stories in full"
    );
    assert!(first.text.contains("More new articles, in brief:"));
    assert_eq!(w.pending().await, 0);
    let counts = w.store.queue_counts().await.unwrap();
    assert_eq!(counts.undelivered, 0);
}

/// A story carried 500 times is one item of bounded size.
#[tokio::test]
async fn five_hundred_copies_are_one_bounded_item() {
    let w = World::new(&[]);
    let p = paragraphs(NIGER);
    for k in 0..500 {
        let mut q = p.clone();
        q.remove(k % p.len());
        let body = format!("DATELINE {k} - {}", q.join("\n\n"));
        let source = format!("outlet-{k}");
        w.record(
            &source,
            &url(&source, k),
            &format!("US troops to leave Niger ({k})"),
            &body,
            t0(),
        )
        .await;
    }
    assert_eq!(w.digest(t0()).await, 500);
    let mails = mails_in(&w.outbox());
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.subject, "[newswatch] niger: 1 new article");
    assert!(m.html.len() < 20_000, "bounded: {} bytes", m.html.len());
    let also = m
        .text
        .lines()
        .find(|l| l.trim_start().starts_with("Also in:"))
        .unwrap();
    assert!(also.ends_with("| and 491 more copies"), "{also}");
    assert_eq!(also.matches(" https://").count(), 8);
    assert_eq!(w.pending().await, 0, "every copy claimed");
}

/// Pages of one site that share only its furniture are not one story; empty and one-word
/// bodies cluster with nothing.
#[tokio::test]
async fn furniture_and_short_bodies_do_not_make_a_story() {
    let w = World::new(&[]);
    let parts: Vec<&str> = SITE.split("\n----\n").collect();
    for (k, body) in parts[1..].iter().enumerate() {
        let text = format!("{}\n\n{body}", parts[0]);
        w.record(
            "sahel-daily",
            &url("sahel-daily", k),
            &format!("Sahel Daily story {k}"),
            &text,
            t0(),
        )
        .await;
    }
    for k in 0..3 {
        let body = ["", "Niger", "Niger."][k];
        w.record(
            "apnews",
            &url("apnews", k),
            &format!("Niger brief number {k}"),
            body,
            t0(),
        )
        .await;
    }
    w.digest(t0()).await;
    let m = &mails_in(&w.outbox())[0];
    assert_eq!(m.subject, "[newswatch] niger: 7 new articles", "{}", m.text);
    assert!(!m.text.contains("Also in:"), "{}", m.text);
}

/// When the terms are in the title, the snippet still comes from the body, and the title
/// carries the highlights; no `…` where nothing was cut.
#[tokio::test]
async fn snippet_comes_from_the_body_when_the_title_matches() {
    let w = World::new(&[]);
    let body = "Officials said on Friday that the last American soldiers would leave Niger by September, after talks in Niamey failed.";
    w.record(
        "reuters",
        &url("reuters", 1),
        "Niger: US troops to leave",
        body,
        t0(),
    )
    .await;
    let only_title = "The last French soldiers are expected to leave the base in the capital by the end of January, the army said in a statement on Thursday.";
    w.record(
        "apnews",
        &url("apnews", 2),
        "Chad and Niger: another withdrawal",
        only_title,
        t0(),
    )
    .await;
    w.digest(t0()).await;
    let m = &mails_in(&w.outbox())[0];
    assert!(
        m.text.lines().any(|l| l == "* Niger: US troops to leave"),
        "{}",
        m.text
    );
    assert!(m.text.contains("  Officials said on Friday that the last American soldiers would leave\n  **Niger** by September, after talks in Niamey failed.\n"), "{}", m.text);
    assert!(
        m.text
            .lines()
            .any(|l| l == "* Chad and Niger: another withdrawal"),
        "{}",
        m.text
    );
    assert!(m.text.contains("  The last French soldiers are expected to leave the base in the capital\n  by the end of January, the army said in a statement on Thursday.\n"), "{}", m.text);
    assert!(!m.text.contains('…'), "nothing was cut: {}", m.text);
    assert_eq!(
        m.html.matches(">Niger</b>").count(),
        3,
        "two titles and one snippet"
    );
}
