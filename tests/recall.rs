//! Issue 14, "never miss an article": a page that fails once is read again on a later scan
//! and matched on its full text; a host's cool-down does not turn the pages behind it into
//! teasers for good; a 404 is tried once; a host that fails forever ends its debt; nothing
//! is reported new twice; a crash between reading a page and recording it loses nothing.
//!
//! Real parts: a raw HTTP server on a 127.0.0.x address, SQLite in a temp dir, the
//! production fetcher and pipeline (and, for the crash, the release binary). The scans' clock
//! is passed in, so "a later scan" is minutes later without waiting.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use newswatch::config::Config;
use newswatch::fetch::Fetcher;
use newswatch::pipeline::{scan_source, ScanMode, ScanReport, ScanStart, TEXT_TRIES};
use newswatch::store::Store;
use support::config::{self, ConfigFile, Table};
use support::feeds::{rss, Item};
use support::hostile::{self, ok, response, Hostile, Reply, Request};

const TEASER: &str = "Read more.";

/// An article page that says it is one, with a body long enough to be sure of.
fn article_page(title: &str, body: &str) -> String {
    let para = "The convoy left at dawn under escort and reached the northern town by noon, \
                officials said, adding that further movements were planned for the week.";
    format!(
        "<!doctype html><html lang=\"en\"><head><title>{title}</title>\
         <meta property=\"og:type\" content=\"article\"></head><body>\
         <nav><a href=\"/\">Home</a> <a href=\"/africa\">Africa</a></nav>\
         <article><h1>{title}</h1><p>{body}</p><p>{para}</p><p>{para}</p></article>\
         <footer>© Sahel Wire</footer></body></html>"
    )
}

/// A loopback site whose replies are scripted per path: a queue used in turn, the last
/// reply forever after. Counts the requests per path.
struct Site {
    server: Hostile,
    script: Arc<Mutex<HashMap<String, Vec<Reply>>>>,
    served: Arc<Mutex<HashMap<String, usize>>>,
}

impl Site {
    async fn start() -> Site {
        let script: Arc<Mutex<HashMap<String, Vec<Reply>>>> = Arc::default();
        let served: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let (s, c) = (Arc::clone(&script), Arc::clone(&served));
        let server = Hostile::start(move |r: &Request| {
            let mut counts = c.lock().unwrap();
            let n = counts.entry(r.path.clone()).or_insert(0);
            *n += 1;
            match s.lock().unwrap().get(&r.path) {
                Some(replies) => replies[(*n - 1).min(replies.len() - 1)].clone(),
                None => hostile::not_found(),
            }
        })
        .await;
        Site {
            server,
            script,
            served,
        }
    }

    fn set(&self, path: &str, replies: Vec<Reply>) {
        self.script.lock().unwrap().insert(path.into(), replies);
    }

    /// `/feed.xml`: items (title, path) of teasers, linking to the paths on this site.
    fn feed(&self, items: &[(&str, &str)]) {
        let items: Vec<Item> = items
            .iter()
            .map(|(title, path)| Item::new(*title, self.url(path), TEASER))
            .collect();
        let feed = rss(&items);
        self.set("/feed.xml", vec![ok("application/rss+xml", feed)]);
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    fn served(&self, path: &str) -> usize {
        self.served.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

fn busy() -> Reply {
    response(503, &[("Content-Type", "text/html")], b"busy")
}

/// `http`, the source "wire" reading `feed_url` (its pages followed; a first scan reports
/// what it finds) and `watchlist`.
fn config_file(dir: &Path, feed_url: &str, http: Table, watchlist: Table) -> ConfigFile {
    ConfigFile::in_dir(dir)
        .with(http)
        .with(config::source("wire", feed_url).set("backfill", "all"))
        .with(watchlist)
}

fn config(dir: &Path, feed_url: &str) -> Config {
    let text = config_file(
        dir,
        feed_url,
        config::http().set("timeout_secs", 1),
        config::watchlist("niger", &["Niger", "النيجر"])
            .set("require", vec!["withdrawal", "curfew", "انسحاب"]),
    )
    .text();
    Config::from_text(&dir.join("newswatch.toml"), &text).expect("valid config")
}

/// Scans the one source at `at` with a fresh fetcher (as a later run would have: the
/// host's cool-downs of an earlier scan are long over by then).
async fn scan(config: &Config, store: &Store, at: DateTime<Utc>) -> ScanReport {
    let fetcher = Fetcher::new(config.http.clone()).unwrap();
    let source = &config.sources[0];
    scan_source(
        config,
        store,
        &fetcher,
        source,
        ScanMode::Record,
        at,
        ScanStart::default(),
    )
    .await
    .expect("the database works")
}

fn new_pairs(r: &ScanReport) -> Vec<(String, String)> {
    r.matches
        .iter()
        .filter(|m| m.new)
        .map(|m| (m.watchlist.to_string(), m.url.clone()))
        .collect()
}

fn minutes(n: i64) -> chrono::Duration {
    chrono::Duration::minutes(n)
}

#[tokio::test]
async fn a_page_that_fails_once_is_matched_on_its_full_text_later() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start().await;
    let full = article_page(
        "Breaking",
        "The withdrawal of foreign troops from Niger began on Monday.",
    );
    site.set("/a/503.html", vec![busy(), ok("text/html", &full)]);
    site.set("/a/404.html", vec![hostile::not_found()]);
    site.feed(&[("Breaking", "/a/503.html"), ("Gone", "/a/404.html")]);
    let cfg = config(dir.path(), &site.url("/feed.xml"));
    let store = Store::open(&cfg.database_path()).unwrap();
    let t0 = Utc::now();

    let first = scan(&cfg, &store, t0).await;
    assert!(first.matches.is_empty(), "the teaser matches nothing");
    assert_eq!(store.owed_by_source().await.unwrap().get("wire"), Some(&1));

    // Too early: the page is not asked again before its back-off.
    let early = scan(&cfg, &store, t0 + chrono::Duration::seconds(10)).await;
    assert!(early.matches.is_empty());
    assert_eq!(site.served("/a/503.html"), 1);

    let later = scan(&cfg, &store, t0 + minutes(2)).await;
    let url = site.url("/a/503.html");
    assert_eq!(new_pairs(&later), [("niger".to_string(), url.clone())]);
    let m = &later.matches[0];
    assert_eq!(m.terms, ["Niger", "withdrawal"]);
    assert_eq!(
        m.text_from.map(newswatch::model::TextFrom::as_str),
        Some("page")
    );
    assert!(
        store.owed_by_source().await.unwrap().is_empty(),
        "the debt is paid"
    );

    let again = scan(&cfg, &store, t0 + minutes(30)).await;
    assert!(new_pairs(&again).is_empty(), "never new twice");
    assert_eq!(again.matches.len(), 1, "still a match, not new");
    assert_eq!(site.served("/a/503.html"), 2, "read once more, then known");
    assert_eq!(site.served("/a/404.html"), 1, "a 404 is tried once only");
    assert_eq!(
        store
            .pending_matches(&"niger".parse().unwrap())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_page_that_hangs_once_and_the_pages_behind_it_are_all_matched_later() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start().await;
    let mut items = Vec::new();
    for i in 1..=4 {
        let page = article_page(
            &format!("Story {i}"),
            &format!("Story {i}: the withdrawal from Niger goes on."),
        );
        let replies = if i == 1 {
            vec![Reply::Hang, ok("text/html", &page)]
        } else {
            vec![ok("text/html", &page)]
        };
        site.set(&format!("/a/{i}.html"), replies);
        items.push((format!("Story {i}"), format!("/a/{i}.html")));
    }
    let items: Vec<(&str, &str)> = items
        .iter()
        .map(|(t, p)| (t.as_str(), p.as_str()))
        .collect();
    site.feed(&items);
    let mut cfg = config(dir.path(), &site.url("/feed.xml"));
    // One request at a time: the pages queue behind the one that hangs.
    cfg.http.per_host_concurrency = 1;
    let store = Store::open(&cfg.database_path()).unwrap();
    let t0 = Utc::now();

    let first = scan(&cfg, &store, t0).await;
    let first_new: HashSet<_> = new_pairs(&first).into_iter().collect();
    assert!(
        !first_new.contains(&("niger".to_string(), site.url("/a/1.html"))),
        "the page that hung was not read"
    );
    let owed = store
        .owed_by_source()
        .await
        .unwrap()
        .get("wire")
        .copied()
        .unwrap_or(0);
    assert!(owed >= 1);
    assert_eq!(
        usize::try_from(owed).unwrap() + first_new.len(),
        4,
        "every page not read is owed: {first_new:?}"
    );

    let later = scan(&cfg, &store, t0 + minutes(5)).await;
    let mut all: Vec<_> = first_new.iter().cloned().collect();
    all.extend(new_pairs(&later));
    let distinct: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(all.len(), distinct.len(), "no pair reported new twice");
    let want: HashSet<_> = (1..=4)
        .map(|i| ("niger".to_string(), site.url(&format!("/a/{i}.html"))))
        .collect();
    assert_eq!(distinct, want, "all four stories matched on their pages");
    assert!(later
        .matches
        .iter()
        .all(|m| m.text_from.map(newswatch::model::TextFrom::as_str) == Some("page")));
    assert!(store.owed_by_source().await.unwrap().is_empty());
    let again = scan(&cfg, &store, t0 + minutes(60)).await;
    assert!(new_pairs(&again).is_empty());
}

#[tokio::test]
async fn a_host_that_fails_forever_ends_its_debt_after_its_tries() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start().await;
    site.set("/a/down.html", vec![busy()]);
    site.feed(&[("Niger: the withdrawal", "/a/down.html")]);
    let cfg = config(dir.path(), &site.url("/feed.xml"));
    let store = Store::open(&cfg.database_path()).unwrap();
    let t0 = Utc::now();
    let mut reported = Vec::new();
    for scan_no in 0..(i64::from(TEXT_TRIES) + 4) {
        // Scans an hour apart: every back-off has passed.
        let r = scan(&cfg, &store, t0 + minutes(60 * scan_no)).await;
        reported.extend(new_pairs(&r));
        assert!(r
            .matches
            .iter()
            .all(|m| m.text_from.map(newswatch::model::TextFrom::as_str) == Some("feed")));
    }
    // The title matched from the first scan on (the feed's text), once.
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert_eq!(
        site.served("/a/down.html"),
        TEXT_TRIES as usize,
        "tried exactly its tries"
    );
    assert!(
        store.owed_by_source().await.unwrap().is_empty(),
        "the debt ended"
    );
}

/// The release binary is killed after it read a page and before it recorded it: the next
/// run reads it again and reports its match, once. (Multi-threaded: the test blocks on the
/// child while the site keeps serving.) Needs the `failpoints` feature.
#[cfg(feature = "failpoints")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_reading_a_page_and_recording_it_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let page = article_page(
        "Breaking",
        "The withdrawal of foreign troops from Niger began on Monday.",
    );
    let site = Site::start().await;
    site.set("/a/1.html", vec![busy(), ok("text/html", &page)]);
    site.feed(&[("Breaking", "/a/1.html")]);
    let conf = config_file(
        dir.path(),
        &site.url("/feed.xml"),
        config::http(),
        config::watchlist("niger", &["Niger"]).set("require", vec!["withdrawal"]),
    )
    .write_in(dir.path());
    let run = |failpoint: Option<&str>| {
        let mut cmd = support::cli::with_config(&conf, &["scan", "--json"]);
        if let Some(f) = failpoint {
            cmd.env("NEWSWATCH_FAILPOINT", f);
        }
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd
    };
    let json_lines = |out: &std::process::Output| {
        support::cli::json_lines(&String::from_utf8_lossy(&out.stdout))
    };
    // First run: the page answers 503, the article is owed its text.
    let out = tokio::task::spawn_blocking({
        let mut c = run(None);
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    assert!(json_lines(&out).is_empty());
    // Time passes: the owed page is due again.
    make_owed_due(&dir.path().join("state").join("newswatch.db"));

    // Second run reads the page and is killed before it records anything.
    let mut child = support::daemon::Guard(run(Some("after-follow")).spawn().unwrap());
    let lines = support::daemon::stderr_lines(&mut child.0);
    support::daemon::wait_line(
        &lines,
        "failpoint after-follow reached",
        std::time::Duration::from_secs(20),
        &mut Vec::new(),
    );
    support::daemon::signal(&child.0, "KILL");
    support::daemon::exits_within(&mut child.0, std::time::Duration::from_secs(5));
    assert_eq!(site.served("/a/1.html"), 2);

    // Third run: the page is read again and its match is reported, new.
    let out = tokio::task::spawn_blocking({
        let mut c = run(None);
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["new"], true);
    assert_eq!(lines[0]["text_from"], "page");
    assert_eq!(site.served("/a/1.html"), 3);
    // And never again.
    let out = tokio::task::spawn_blocking({
        let mut c = run(None);
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["new"], false);
}

/// Moves every owed page's next try into the past, as if the back-off had passed.
#[cfg(feature = "failpoints")]
fn make_owed_due(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let n = conn
        .execute(
            "UPDATE owed_text SET next_try_at = '2000-01-01T00:00:00.000Z'",
            [],
        )
        .unwrap();
    assert_eq!(n, 1, "one article owed its text");
}

/// One-line briefs on article pages (Arabic, French, English), behind feed items that say
/// only "Read more.", are matched on their bodies; a link list and a soft 404 behind others
/// are not matched on their boilerplate.
#[tokio::test]
async fn one_line_briefs_are_matched_on_their_pages() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start().await;
    let page = |f: &str| {
        std::fs::read_to_string(format!("tests/fixtures/pages/{f}")).expect("fixture page")
    };
    for f in [
        "brief-ar.html",
        "brief-fr.html",
        "brief-en.html",
        "link-list.html",
        "soft-404.html",
    ] {
        site.set(
            &format!("/p/{f}"),
            vec![ok("text/html; charset=utf-8", page(f))],
        );
    }
    site.feed(&[
        ("عاجل", "/p/brief-ar.html"),
        ("Flash", "/p/brief-fr.html"),
        ("Breaking", "/p/brief-en.html"),
        ("Africa", "/p/link-list.html"),
        ("Oops", "/p/soft-404.html"),
    ]);
    let text = config_file(
        dir.path(),
        &site.url("/feed.xml"),
        config::http(),
        config::watchlist("sahel", &["أغاديز", "Niamey", "Niger", "Sahel", "Afrique"]),
    )
    .text();
    let cfg = Config::from_text(&dir.path().join("newswatch.toml"), &text).unwrap();
    let store = Store::open(&cfg.database_path()).unwrap();
    let r = scan(&cfg, &store, Utc::now()).await;
    let mut got: Vec<(String, Vec<String>, String)> = r
        .matches
        .iter()
        .map(|m| {
            (
                m.url.rsplit('/').next().unwrap().to_owned(),
                m.terms.clone(),
                m.text_from
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect();
    got.sort();
    let names: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
    assert_eq!(
        names,
        ["brief-ar.html", "brief-en.html", "brief-fr.html"],
        "the briefs, and not the listing's or the 404's furniture: {got:?}"
    );
    for (page, terms, from) in &got {
        assert!(
            from.starts_with("page"),
            "{page} matched on its page: {from}"
        );
        assert!(!terms.is_empty());
    }
    assert_eq!(got[0].1, ["أغاديز"]);
    assert_eq!(got[1].1, ["Niamey", "Niger"]);
    assert_eq!(got[2].1, ["Niamey"]);
    assert!(new_pairs(&r).len() == 3);
}

/// Issue 16: past `keep_text` an article is only its keys, and it stays seen. The feed that
/// still lists it gets no new read of its page and no new pair; a copy of it under another
/// URL is read once, known by its fingerprint, reported nowhere, and not read again.
#[tokio::test]
async fn an_article_reduced_to_its_keys_is_not_read_or_reported_again() {
    use newswatch::config::Retention;
    use newswatch::daemon::retention::prune_all;

    let site = Site::start().await;
    let page = article_page(
        "Agadez convoy",
        "The withdrawal of foreign troops from Niger went on in Agadez.",
    );
    site.set("/a/old.html", vec![ok("text/html", page.clone())]);
    site.feed(&[("Agadez convoy", "/a/old.html")]);
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &site.url("/feed.xml"));
    let store = Store::open(&dir.path().join("state.db")).unwrap();
    let t0 = Utc::now() - chrono::Duration::days(60);
    assert_eq!(new_pairs(&scan(&config, &store, t0).await).len(), 1);
    // Mailed: its match is no longer pending, so retention may reduce it.
    support::digest_pending(
        &store,
        &"niger".parse().unwrap(),
        "<d@x>",
        b"m".to_vec(),
        t0,
    )
    .await;
    let keep = Retention {
        keep_text: std::time::Duration::from_secs(30 * 86_400),
        keep_identity: std::time::Duration::from_secs(400 * 86_400),
    };
    let p = prune_all(
        &store,
        keep,
        t0 + chrono::Duration::days(40),
        std::time::Duration::ZERO,
    )
    .await
    .unwrap();
    assert_eq!(p.articles, 1, "{p:?}");

    let later = scan(&config, &store, t0 + chrono::Duration::days(41)).await;
    assert!(new_pairs(&later).is_empty(), "{later:?}");
    assert_eq!(site.served("/a/old.html"), 1, "its page is not read again");

    site.set("/a/copy.html", vec![ok("text/html", page)]);
    site.feed(&[
        ("Agadez convoy", "/a/old.html"),
        ("Agadez convoy", "/a/copy.html"),
    ]);
    let copy = scan(&config, &store, t0 + chrono::Duration::days(42)).await;
    assert!(new_pairs(&copy).is_empty(), "a copy of it: {copy:?}");
    assert_eq!(site.served("/a/copy.html"), 1);
    let again = scan(&config, &store, t0 + chrono::Duration::days(43)).await;
    assert!(new_pairs(&again).is_empty(), "{again:?}");
    assert_eq!(
        site.served("/a/copy.html"),
        1,
        "the copy's URL is a key now"
    );
    assert_eq!(store.held().await.unwrap().identity_keys, 3);
}
