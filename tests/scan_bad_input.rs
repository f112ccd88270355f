//! Issue 21, bad input: a feed of 100,000 entries, or 10,000 new entries at once, is read
//! within `MAX_ENTRIES` with a log line saying what was left, in bounded memory; and a scan
//! never holds the database's write lock while it waits on the network (another process can
//! write while a page hangs).

mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use newswatch::pipeline::MAX_ENTRIES;
use support::hostile::{not_found, ok, Hostile, Reply};

/// An RSS feed of `items` items, the newest (`first`) first, each linking `/a/<n>`.
fn feed(base: &str, first: usize, items: usize) -> String {
    let mut s = String::with_capacity(items * 80 + 200);
    s.push_str("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><link>http://example.org/</link><description>d</description>");
    for n in (first + 1 - items..=first).rev() {
        let _ = write!(
            s,
            "<item><title>Niger withdrawal {n}</title><link>{base}/a/{n}</link></item>"
        );
    }
    s.push_str("</channel></rss>");
    s
}

fn config(dir: &Path, url: &str, follow: bool) -> PathBuf {
    let text = format!(
        "state_dir = \"{}\"\n[http]\nper_host_delay_ms = 0\ntimeout_secs = 30\n\
         [defaults]\nbackfill = \"all\"\n\
         [[source]]\nname = \"wire\"\nurl = \"{url}\"\nfollow = {follow}\n\
         [[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\"]\nto = [\"a@example.org\"]\n",
        dir.join("state").display()
    );
    let path = dir.join("newswatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `scan --json` (plus `args`) to its end: its match lines, its stderr and its peak RSS
/// in kB.
fn scan(config: &Path, args: &[&str]) -> (Vec<serde_json::Value>, String, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_newswatch"))
        .arg("--config")
        .arg(config)
        .args(["scan", "--json"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(out).unwrap());
    let err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || std::io::read_to_string(err).unwrap());
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        peak = peak.max(support::cli::vm_hwm_kb(pid));
        std::thread::sleep(Duration::from_millis(5));
    }
    let lines = reader
        .join()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines, err_reader.join().unwrap(), peak)
}

/// The `left=` of the log line saying a feed was not read to its end.
fn left(stderr: &str) -> Option<usize> {
    let line = stderr
        .lines()
        .find(|l| l.contains("source lists more entries than one scan reads"))?;
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("left="))?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_21_a_feed_of_100000_entries_is_read_within_max_entries() {
    const ITEMS: usize = 100_000;
    let body = Arc::new(std::sync::OnceLock::<Vec<u8>>::new());
    let served = Arc::clone(&body);
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/feed.xml" => ok(
            "application/rss+xml",
            served.get().expect("set before the scan"),
        ),
        _ => not_found(),
    })
    .await;
    let text = feed(&server.url(""), ITEMS - 1, ITEMS);
    assert!(text.len() < 10_000_000, "within the default max_body_bytes");
    body.set(text.into_bytes()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.url("/feed.xml"), false);

    let (lines, stderr, peak_kb) = tokio::task::spawn_blocking(move || scan(&cfg, &["--dry-run"]))
        .await
        .unwrap();
    assert_eq!(lines.len(), MAX_ENTRIES, "{stderr}");
    // The first entries of the feed (its newest) are the ones read.
    assert!(lines.iter().any(|l| l["title"] == "Niger withdrawal 99999"));
    assert!(!lines.iter().any(|l| l["title"] == "Niger withdrawal 99000"));
    assert_eq!(left(&stderr), Some(ITEMS - MAX_ENTRIES), "{stderr}");
    // Parsing all 100,000 items took 239 MB (release build); cut at MAX_ENTRIES, 53 MB: the
    // feed's 9 MB and their decoded copies.
    assert!(peak_kb < 80 * 1024, "peak RSS {peak_kb} kB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_21_ten_thousand_new_entries_at_once() {
    let newest = Arc::new(AtomicUsize::new(0));
    let items = Arc::new(AtomicUsize::new(10));
    let (n, k) = (Arc::clone(&newest), Arc::clone(&items));
    let server = Hostile::start_at(std::net::Ipv4Addr::LOCALHOST, move |r| {
        match r.path.as_str() {
            "/feed.xml" => ok(
                "application/rss+xml",
                feed(
                    "http://127.0.0.1",
                    n.load(Ordering::SeqCst),
                    k.load(Ordering::SeqCst),
                ),
            ),
            _ => not_found(),
        }
    })
    .await;
    newest.store(9, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.url("/feed.xml"), false);
    let first = cfg.clone();
    let (lines, _, _) = tokio::task::spawn_blocking(move || scan(&first, &[]))
        .await
        .unwrap();
    assert_eq!(lines.len(), 10);

    // 10,000 stories at once on top of the ten already seen.
    newest.store(10_009, Ordering::SeqCst);
    items.store(10_010, Ordering::SeqCst);
    let (lines, stderr, _) = tokio::task::spawn_blocking(move || scan(&cfg, &[]))
        .await
        .unwrap();
    let new = lines.iter().filter(|l| l["new"] == true).count();
    assert_eq!((lines.len(), new), (MAX_ENTRIES, MAX_ENTRIES), "{stderr}");
    assert_eq!(left(&stderr), Some(10_010 - MAX_ENTRIES), "{stderr}");
}

/// Whether another connection can take the write lock at once.
fn can_write(db: &Path) -> Result<(), String> {
    let conn = rusqlite::Connection::open(db).map_err(|e| e.to_string())?;
    conn.busy_timeout(Duration::ZERO)
        .map_err(|e| e.to_string())?;
    conn.execute_batch(
        "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS lock_probe (x); DROP TABLE lock_probe; COMMIT;",
    )
    .map_err(|e| e.to_string())
}

/// A site whose feed lists one article, whose page never answers.
async fn hanging_page_site() -> Hostile {
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let b = Arc::clone(&base);
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/feed.xml" => ok(
            "application/rss+xml",
            feed(b.get().expect("set before any request"), 1, 1),
        ),
        "/a/1" => Reply::Hang,
        _ => not_found(),
    })
    .await;
    base.set(server.url("")).unwrap();
    server
}

async fn wait_for_hit(server: &Hostile, path: &str) {
    let t = Instant::now();
    while server.hits(path) == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "{path} never asked for"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_21_scan_holds_no_write_lock_while_a_page_hangs() {
    let server = hanging_page_site().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.url("/feed.xml"), true);
    let db = dir.path().join("state").join("newswatch.db");
    let mut scan = support::daemon::Guard(
        Command::new(env!("CARGO_BIN_EXE_newswatch"))
            .arg("--config")
            .arg(&cfg)
            .args(["-q", "scan"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_hit(&server, "/a/1").await;
    // The scan is waiting on the network now: the database is free for another writer.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        scan.0.try_wait().unwrap(),
        None,
        "the scan is still waiting"
    );
    assert_eq!(can_write(&db), Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_21_daemon_holds_no_write_lock_while_a_page_hangs() {
    let server = hanging_page_site().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.url("/feed.xml"), true);
    let state = dir.path().join("state");
    let mut run = support::daemon::Guard(
        support::daemon::run_command(&cfg, &state)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_hit(&server, "/a/1").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(run.0.try_wait().unwrap(), None, "the daemon is running");
    assert_eq!(can_write(&state.join("newswatch.db")), Ok(()));
}
