//! Issue 17: three instances of the real binary share one PostgreSQL database (a throwaway
//! cluster of the test's own) and a loopback site. One is SIGKILLed in the middle of a scan,
//! another while the SMTP server holds its DATA reply. Every (watchlist, article) pair still
//! arrives in exactly one digest, a new article after the kills is mailed by the survivor,
//! and the feed is fetched once per schedule tick, not once per instance.

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::config::{self, ConfigFile, Table};
use support::daemon::{signal, spawn, Guard};
use support::feeds::{rss, Item};
use support::site;
use support::smtp_sink::SmtpSink;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// How long a claim lasts in this test (the shortest the config allows).
const LEASE_SECS: i64 = 10;

fn article_page(n: usize) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><title>Story {n}</title>\
         <meta property=\"og:type\" content=\"article\"></head><body><article><h1>Story {n}</h1>\
         <p>Story {n}: the withdrawal of foreign troops from Niger went on this week, officials \
         in Niamey said, as convoys left the northern bases under escort.</p>\
         <p>The talks continue in the capital, where a new timetable is expected soon.</p>\
         </article></body></html>"
    )
}

/// The feed: stories 1 to `n`, each linking to its page.
fn feed(base: &str, n: usize) -> String {
    let items: Vec<Item> = (1..=n)
        .map(|i| {
            Item::new(
                format!("Story {i}"),
                format!("{base}/a/{i}.html"),
                "Read more.",
            )
        })
        .collect();
    rss(&items)
}

/// The site: a feed of `articles` items (changed by the test) and slow article pages.
async fn site(articles: Arc<Mutex<usize>>) -> MockServer {
    let server = MockServer::start().await;
    let base = server.uri();
    site::serve_live_feed(&server, move || feed(&base, *articles.lock().unwrap())).await;
    for n in 1..=10 {
        Mock::given(method("GET"))
            .and(path(format!("/a/{n}.html")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_raw(article_page(n).into_bytes(), "text/html")
                    // A scan of six pages, two at a time, takes about two seconds: long
                    // enough to be killed in the middle of.
                    .set_delay(Duration::from_millis(600)),
            )
            .mount(&server)
            .await;
    }
    server
}

fn write_config(
    dir: &Path,
    db: &str,
    site: &str,
    smtp: std::net::SocketAddr,
) -> std::path::PathBuf {
    ConfigFile::in_dir(dir)
        .with(
            Table::new("database")
                .set("url", db)
                .set("lease_secs", LEASE_SECS),
        )
        .with(config::http().set("per_host_concurrency", 2))
        .with(config::smtp(smtp))
        .with(
            config::source("wire", &format!("{site}/feed.xml"))
                .set("schedule", "*/2 * * * * *")
                .set("backfill", "all"),
        )
        .with(
            config::watchlist("niger", &["Niger"])
                .set("require", vec!["withdrawal"])
                .set("digest", "immediate"),
        )
        .write_in(dir)
}

async fn query(db: &str, sql: &str) -> Vec<Option<String>> {
    let (client, conn) = tokio_postgres::connect(db, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(conn);
    // Before the instances made the schema, there is nothing to read.
    let rows = client.query(sql, &[]).await.unwrap_or_default();
    drop(client);
    let _ = task.await;
    rows.iter().map(|r| r.get::<_, Option<String>>(0)).collect()
}

/// Waits until `sql` returns a holder (`machine:pid:nonce`) and gives its pid; on a time
/// out, fails with what the instances logged.
async fn holder_pid(
    db: &str,
    sql: &str,
    limit: Duration,
    guards: &[(Guard, std::sync::mpsc::Receiver<String>)],
) -> u32 {
    let t = Instant::now();
    loop {
        if let Some(Some(h)) = query(db, sql).await.into_iter().next() {
            return h.split(':').nth(1).unwrap().parse().unwrap();
        }
        if t.elapsed() > limit {
            let logs: Vec<String> = guards
                .iter()
                .map(|(g, rx)| {
                    format!(
                        "--- pid {}\n{}",
                        g.0.id(),
                        rx.try_iter().collect::<Vec<_>>().join("\n")
                    )
                })
                .collect();
            panic!("nobody claimed it: {sql}\n{}", logs.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn kill_pid(guards: &mut [(Guard, std::sync::mpsc::Receiver<String>)], pid: u32) -> usize {
    let i = guards
        .iter()
        .position(|(g, _)| g.0.id() == pid)
        .expect("the holder is one of ours");
    signal(&guards[i].0 .0, "KILL");
    let _ = guards[i].0 .0.wait();
    i
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_share_the_work_and_survive_two_kills() {
    let db = support::pg::cluster().fresh_db().await;
    let articles = Arc::new(Mutex::new(6));
    let site = site(Arc::clone(&articles)).await;
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db, &site.uri(), sink.addr());
    let started = Instant::now();
    let mut guards: Vec<_> = (0..3).map(|_| spawn(&config, None)).collect();

    // Kill the instance that claimed the source, in the middle of its scan.
    let scanner = holder_pid(
        &db,
        "SELECT lease_holder FROM sources WHERE name = 'wire' AND lease_holder IS NOT NULL",
        Duration::from_secs(30),
        &guards,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let killed_first = kill_pid(&mut guards, scanner);
    sink.hold_data(true);

    // Its claim runs out; another instance scans, records the six matches and sends the
    // digest: kill that one while the server holds its DATA reply.
    let sender = holder_pid(
        &db,
        "SELECT lease_holder FROM deliveries WHERE lease_holder IS NOT NULL",
        Duration::from_secs(60),
        &guards,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let killed_second = kill_pid(&mut guards, sender);
    assert_ne!(killed_first, killed_second);
    sink.hold_data(false);

    // A new article after the kills: the survivor mails it.
    *articles.lock().unwrap() = 7;
    let deadline = Instant::now() + Duration::from_secs(60);
    while sink.articles_mailed(7).len() < 7 {
        assert!(Instant::now() < deadline, "not every article was mailed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let the survivor settle: no retry, rescan or digest may add another copy of a pair.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let elapsed = started.elapsed();
    for (g, _) in &mut guards {
        if g.0.try_wait().unwrap().is_none() {
            signal(&g.0, "TERM");
        }
    }

    // Each article is in exactly one digest (a digest resent after a crash carries the same
    // Message-ID: it is the same digest).
    let digests_of = sink.articles_mailed(7);
    for n in 1..=7 {
        let ids = &digests_of[&n];
        assert_eq!(ids.len(), 1, "article {n} was mailed in {ids:?}");
    }
    let matches = query(&db, "SELECT COUNT(*)::text FROM matches").await;
    assert_eq!(matches[0].as_deref(), Some("7"));

    // One fetch of the feed per two-second tick at most, whatever the number of instances
    // (a tick while a scan runs is skipped, not queued).
    let fetches = site
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/feed.xml")
        .count();
    let ticks = elapsed.as_secs() / 2 + 2;
    assert!(
        fetches as u64 <= ticks,
        "{fetches} feed fetches in {elapsed:?} ({ticks} ticks): fetched once per instance?"
    );
    assert!(fetches >= 2);
}
