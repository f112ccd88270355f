//! Issue 17, bad input: the PostgreSQL server is down at start-up (a clear error, exit 1),
//! or goes away while an instance runs (it claims nothing, logs that once, and resumes when
//! the server is back; nothing recorded is lost and nothing is mailed twice). A cluster of
//! its own, since this test stops it.

mod support;

#[path = "support/daemon.rs"]
#[allow(dead_code, reason = "each test binary uses part of the helpers")]
mod daemon;
#[path = "support/mime.rs"]
mod mime;
#[path = "support/smtp_sink.rs"]
#[allow(dead_code, reason = "each test binary uses part of the sink")]
mod smtp_sink;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daemon::{exits_within, run_command, signal, stderr_lines, Guard};
use smtp_sink::SmtpSink;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn rss(base: &str, n: usize) -> String {
    let date = chrono::Utc::now().to_rfc2822();
    let mut s = String::from(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>wire</title>\
         <link>http://example.org/</link><description>d</description>",
    );
    for i in 1..=n {
        s.push_str(&format!(
            "<item><title>Niger: withdrawal, part {i}</title><link>{base}/a/{i}.html</link>\
             <description>The withdrawal from Niger, part {i}.</description><pubDate>{date}</pubDate></item>"
        ));
    }
    s.push_str("</channel></rss>");
    s
}

fn write_config(
    dir: &Path,
    db: &str,
    site: &str,
    smtp: std::net::SocketAddr,
) -> std::path::PathBuf {
    let text = format!(
        "state_dir = \"{}\"\n[database]\nurl = \"{db}\"\nlease_secs = 10\n\
         [http]\nper_host_delay_ms = 0\nrespect_robots = false\n\
         [mail]\nfrom = \"nw@example.org\"\ntransport = \"smtp\"\nsmtp_url = \"smtp://{smtp}?tls=none\"\n\
         [[source]]\nname = \"wire\"\nurl = \"{site}/feed.xml\"\nfollow = false\nschedule = \"*/1 * * * * *\"\nbackfill = \"all\"\n\
         [[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\"]\nto = [\"a@example.org\"]\ndigest = \"immediate\"\n",
        dir.join("state").display()
    );
    let p = dir.join("newswatch.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn message_id(data: &str) -> String {
    data.lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Articles mailed, each with the Message-IDs that carried it.
fn mailed(sink: &SmtpSink) -> HashMap<usize, BTreeSet<String>> {
    let mut out: HashMap<usize, BTreeSet<String>> = HashMap::new();
    for m in sink.messages() {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_down_at_start_up_is_a_clear_error() {
    let pg = support::pg::Cluster::start();
    let db = pg.fresh_db().await;
    pg.stop();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &db,
        "http://127.0.0.1:9",
        "127.0.0.1:9".parse().unwrap(),
    );
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
    // `check` says so too, with exit 1.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_newswatch"))
        .arg("--config")
        .arg(&config)
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect"));
}

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
                .set_body_raw(rss(&base, n).into_bytes(), "application/rss+xml")
        })
        .mount(&site)
        .await;
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db, &site.uri(), sink.addr());
    let mut child = run_command(&config, &dir.path().join("state"))
        .spawn()
        .unwrap();
    let logs = stderr_lines(&mut child);
    let mut guard = Guard(child);
    wait_mailed(&sink, 2, Duration::from_secs(30)).await;

    // The server goes away; new articles arrive meanwhile.
    pg.stop();
    *items.lock().unwrap() = 4;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(
        guard.0.try_wait().unwrap().is_none(),
        "the instance keeps running"
    );
    assert_eq!(
        mailed(&sink).len(),
        2,
        "nothing is mailed without the database"
    );

    // Back: the instance resumes and mails the new articles, each once.
    pg.run_server();
    wait_mailed(&sink, 4, Duration::from_secs(40)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    signal(&guard.0, "TERM");
    assert!(exits_within(&mut guard.0, Duration::from_secs(15)).success());
    let lines: Vec<String> = logs.try_iter().collect();
    let down = lines
        .iter()
        .filter(|l| l.contains("database unreachable"))
        .count();
    assert_eq!(
        down,
        1,
        "said once, not once per source or per try:\n{}",
        lines.join("\n")
    );
    assert!(lines.iter().any(|l| l.contains("database reachable again")));
    for (n, ids) in mailed(&sink) {
        assert_eq!(ids.len(), 1, "article {n} in {ids:?}");
    }
}
