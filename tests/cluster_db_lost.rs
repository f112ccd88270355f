//! Issue 17, bad input: the PostgreSQL server is down at start-up (a clear error, exit 1),
//! or goes away while an instance runs (it claims nothing, logs that once, and resumes when
//! the server is back; nothing recorded is lost and nothing is mailed twice). A cluster of
//! its own, since this test stops it.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::daemon::{exits_within, run_command, signal, stderr_lines, Guard};
use support::feeds::{rss, Item};
use support::mime::{self, message_id};
use support::smtp_sink::SmtpSink;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The feed: parts 1 to `n` of the story.
fn feed(base: &str, n: usize) -> String {
    let items: Vec<Item> = (1..=n)
        .map(|i| {
            Item::new(
                format!("Niger: withdrawal, part {i}"),
                format!("{base}/a/{i}.html"),
                format!("The withdrawal from Niger, part {i}."),
            )
        })
        .collect();
    rss(&items)
}

fn write_config(
    dir: &Path,
    db: &str,
    site: &str,
    smtp: std::net::SocketAddr,
) -> std::path::PathBuf {
    write_config_with(dir, db, site, smtp, "")
}

/// The config, with `more` (more watchlists) at its end.
fn write_config_with(
    dir: &Path,
    db: &str,
    site: &str,
    smtp: std::net::SocketAddr,
    more: &str,
) -> std::path::PathBuf {
    let text = format!(
        "state_dir = \"{}\"\n[database]\nurl = \"{db}\"\nlease_secs = 10\n\
         [http]\nper_host_delay_ms = 0\nrespect_robots = false\n\
         [mail]\nfrom = \"nw@example.org\"\ntransport = \"smtp\"\nsmtp_url = \"smtp://{smtp}?tls=none\"\n\
         [[source]]\nname = \"wire\"\nurl = \"{site}/feed.xml\"\nfollow = false\nschedule = \"*/1 * * * * *\"\nbackfill = \"all\"\n\
         [[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\"]\nto = [\"a@example.org\"]\ndigest = \"immediate\"\n{more}",
        dir.join("state").display()
    );
    let p = dir.join("newswatch.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// Articles mailed, each with the Message-IDs that carried it.
fn mailed(sink: &SmtpSink) -> HashMap<usize, BTreeSet<String>> {
    mailed_to(sink, "a@example.org")
}

/// Articles mailed to `rcpt`, each with the Message-IDs that carried it.
fn mailed_to(sink: &SmtpSink, rcpt: &str) -> HashMap<usize, BTreeSet<String>> {
    let mut out: HashMap<usize, BTreeSet<String>> = HashMap::new();
    for m in sink
        .messages()
        .iter()
        .filter(|m| m.to.iter().any(|t| t.contains(rcpt)))
    {
        let text = mime::decoded_text(&m.data);
        for n in 1..=20 {
            if text.contains(&format!("/a/{n}.html")) {
                out.entry(n).or_default().insert(message_id(&m.data));
            }
        }
    }
    out
}

async fn wait_mailed(sink: &SmtpSink, n: usize, limit: Duration) {
    let t = Instant::now();
    while mailed(sink).len() < n {
        assert!(t.elapsed() < limit, "only {:?} mailed", mailed(sink).keys());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn check(config: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_newswatch"))
        .arg("--config")
        .arg(config)
        .arg("check")
        .env_remove(newswatch::secrets::DATABASE_PASSWORD_ENV)
        .output()
        .unwrap()
}

/// `check` connects and says what the database holds: an empty one, then one at this build's
/// schema version. With the server down, `check` is exit 2 naming the database (the config
/// cannot be used as it stands; SPEC: check exits 0 or 2) and `run` is exit 1 (a runtime
/// failure the unit restarts), each with a clear cause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_the_schema_and_a_server_down_is_a_clear_error() {
    let pg = support::pg::Cluster::start();
    let db = pg.fresh_db().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &db,
        "http://127.0.0.1:9",
        "127.0.0.1:9".parse().unwrap(),
    );
    let version = newswatch::store::schema::SCHEMA_VERSION;
    let out = check(&config);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains(&format!(
            "postgresql {db}, connected; empty (schema version {version} is made at the first run)"
        )),
        "{said}"
    );
    drop(
        newswatch::store::Store::open_postgres(&db, None)
            .await
            .unwrap(),
    );
    let out = check(&config);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains(&format!(
            "connected; schema version {version}, this build's"
        )),
        "{said}"
    );

    pg.stop();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_newswatch"))
        .arg("--config")
        .arg(&config)
        .arg("run")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("database"), "{err}");
    assert!(!err.contains("password"), "{err}");
    let out = check(&config);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("database {db}: error connecting to server")),
        "{err}"
    );
    assert!(err.contains("the config cannot be used"), "{err}");
}

/// `NOTIFY_SOCKET` as systemd would bind it: every datagram received, with when.
struct Notify {
    path: std::path::PathBuf,
    got: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Notify {
    fn bind(dir: &Path) -> Notify {
        let path = dir.join("notify.sock");
        let sock = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let into = Arc::clone(&got);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = sock.recv(&mut buf) {
                let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                into.lock().unwrap().push((Instant::now(), msg));
            }
        });
        Notify { path, got }
    }

    /// When each `WATCHDOG=1` came.
    fn pings(&self) -> Vec<Instant> {
        let got = self.got.lock().unwrap();
        got.iter()
            .filter(|(_, m)| m.lines().any(|l| l == "WATCHDOG=1"))
            .map(|(t, _)| *t)
            .collect()
    }
}

/// A 6-field cron line firing once a day at `at` (UTC).
fn daily_at(at: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Timelike as _;
    format!("{} {} {} * * *", at.second(), at.minute(), at.hour())
}

/// Issue 17, "database lost while running", and the audit's B1 and B2: while PostgreSQL is
/// down the instance keeps pinging the watchdog (it is alive and waiting, not wedged),
/// survives a SIGHUP, claims nothing and mails nothing, logs the outage once; a daily
/// digest whose tick falls in the outage goes out when the database is back (not a day
/// later), the articles that came meanwhile are mailed, and nothing is mailed twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_rides_out_a_lost_database_and_loses_nothing() {
    let pg = support::pg::Cluster::start();
    let db = pg.fresh_db().await;
    let items = Arc::new(Mutex::new(2usize));
    let site = MockServer::start().await;
    let base = site.uri();
    let served = Arc::clone(&items);
    Mock::given(method("GET"))
        .and(path_regex("^/feed.xml$"))
        .respond_with(move |_: &Request| {
            let n = *served.lock().unwrap();
            ResponseTemplate::new(200)
                .set_body_raw(feed(&base, n).into_bytes(), "application/rss+xml")
        })
        .mount(&site)
        .await;
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db, &site.uri(), sink.addr());
    let notify = Notify::bind(dir.path());
    let mut child = run_command(&config, &dir.path().join("state"))
        .env("NOTIFY_SOCKET", &notify.path)
        .env("WATCHDOG_USEC", "4000000")
        .env_remove("WATCHDOG_PID")
        .spawn()
        .unwrap();
    let logs = stderr_lines(&mut child);
    let mut guard = Guard(child);
    wait_mailed(&sink, 2, Duration::from_secs(30)).await;

    // A daily digest is added, ticking in a while; a third article is recorded for both
    // watchlists (mailed at once for "niger").
    let tick = chrono::Utc::now() + chrono::Duration::seconds(20);
    let daily = format!(
        "[[watchlist]]\nname = \"daily\"\nkeywords = [\"Niger\"]\nto = [\"b@example.org\"]\ndigest = \"{}\"\n",
        daily_at(tick)
    );
    write_config_with(dir.path(), &db, &site.uri(), sink.addr(), &daily);
    *items.lock().unwrap() = 3;
    signal(&guard.0, "HUP");
    wait_mailed(&sink, 3, Duration::from_secs(20)).await;
    assert!(
        chrono::Utc::now() + chrono::Duration::seconds(3) < tick,
        "the machine is too slow for this test's timing: the tick must fall in the outage"
    );

    // The server goes away before the tick; new articles arrive and the config is reloaded
    // meanwhile.
    pg.stop();
    let down_at = Instant::now();
    *items.lock().unwrap() = 4;
    signal(&guard.0, "HUP");
    while chrono::Utc::now() < tick + chrono::Duration::seconds(4) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        guard.0.try_wait().unwrap().is_none(),
        "the instance keeps running, a reload included"
    );
    assert_eq!(
        mailed(&sink).len(),
        3,
        "nothing is mailed without the database"
    );
    assert!(mailed_to(&sink, "b@example.org").is_empty());

    // Back: the instance resumes, mails the new article, and the daily digest whose tick
    // passed in the outage goes out now.
    pg.run_server();
    let up_at = Instant::now();
    wait_mailed(&sink, 4, Duration::from_secs(40)).await;
    let t = Instant::now();
    while mailed_to(&sink, "b@example.org").len() < 3 {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the daily digest of the tick that fell in the outage was not mailed: {:?}",
            mailed_to(&sink, "b@example.org")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    signal(&guard.0, "TERM");
    assert!(exits_within(&mut guard.0, Duration::from_secs(15)).success());

    // The watchdog was pinged all through the outage (WATCHDOG_USEC = 4 s: about every 2 s;
    // systemd would kill the service after a gap of 4 s).
    let pings: Vec<Instant> = notify
        .pings()
        .into_iter()
        .filter(|t| *t >= down_at && *t <= up_at)
        .collect();
    let outage = up_at - down_at;
    assert!(
        pings.len() as u128 >= outage.as_millis() / 3000,
        "{} WATCHDOG=1 in an outage of {outage:?}",
        pings.len()
    );
    let mut edges = vec![down_at];
    edges.extend(&pings);
    edges.push(up_at);
    for w in edges.windows(2) {
        assert!(
            w[1] - w[0] < Duration::from_secs(4),
            "a gap of {:?} in the watchdog pings during the outage",
            w[1] - w[0]
        );
    }
    let lines: Vec<String> = logs.try_iter().collect();
    let said = |what: &str| lines.iter().filter(|l| l.contains(what)).count();
    assert_eq!(
        said("database unreachable"),
        1,
        "said once, not once per source, task or try:\n{}",
        lines.join("\n")
    );
    assert_eq!(said("delivery round failed"), 0, "{}", lines.join("\n"));
    assert_eq!(said("cannot record digest"), 0, "{}", lines.join("\n"));
    assert!(said("database reachable again") >= 1);
    // (The file's change is seen by the config watcher too: two or more reloads.)
    assert!(said("config reloaded") >= 2, "{}", lines.join("\n"));
    for rcpt in ["a@example.org", "b@example.org"] {
        for (n, ids) in mailed_to(&sink, rcpt) {
            assert_eq!(ids.len(), 1, "article {n} to {rcpt} in {ids:?}");
        }
    }
}
