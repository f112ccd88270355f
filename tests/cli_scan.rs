//! Issue 22: honest exit codes. `scan` exits 0 only when every source was read; a failed
//! source makes it exit 1, with one stderr line per failure and, with `--json`, one
//! `{"source": …, "error": …}` line per failed source next to the match lines.

mod support;

use std::path::{Path, PathBuf};

use support::config::{self, ConfigFile};
use support::feeds::{rss, Item};
use support::{cli, site};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn site() -> MockServer {
    let server = MockServer::start().await;
    let feed = rss(&[Item::new(
        "Niger junta talks continue",
        "http://example.org/a/1",
        "Talks go on.",
    )]);
    site::serve_feed(&server, feed).await;
    Mock::given(method("GET"))
        .and(path("/gone.xml"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    site::serve(
        &server,
        "/broken.xml",
        "<rss><channel><item>",
        "application/rss+xml",
    )
    .await;
    server
}

fn config(dir: &Path, base: &str) -> PathBuf {
    ConfigFile::in_dir(dir)
        .with(config::http().set("respect_robots", true))
        .with(config::backfill_all())
        .with(config::source("good", &format!("{base}/feed.xml")).set("follow", false))
        .with(config::source("gone", &format!("{base}/gone.xml")))
        .with(config::source("broken", &format!("{base}/broken.xml")))
        .with(config::watchlist("niger", &["Niger"]))
        .write_in(dir)
}

fn scan(config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = cli::newswatch(config, &[&["-q", "scan"], args].concat());
    (out.code.unwrap_or(-1), out.stdout, out.stderr)
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_0_only_when_every_source_was_read() {
    let server = site().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri());

    let (code, out, err) = scan(&cfg, &["--source", "good", "--dry-run"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("good: 1 articles"), "{out}");

    let (code, out, err) = scan(&cfg, &["--dry-run"]);
    assert_eq!(code, 1, "{out}\n{err}");
    for name in ["gone", "broken"] {
        let lines: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with(&format!("newswatch: source \"{name}\" failed: ")))
            .collect();
        assert_eq!(lines.len(), 1, "{name}: {err}");
    }
    assert!(err.contains("newswatch: 2 of 3 source(s) failed"), "{err}");
    assert!(!err.contains("source \"good\" failed"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_adds_one_error_line_per_failed_source() {
    let server = site().await;
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = scan(&config(dir.path(), &server.uri()), &["--json"]);
    assert_eq!(code, 1);
    let lines = cli::json_lines(&out);
    let errors: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l.get("error").is_some()).collect();
    let mut failed: Vec<&str> = errors
        .iter()
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    failed.sort_unstable();
    assert_eq!(failed, ["broken", "gone"], "{out}");
    for e in &errors {
        let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["error", "source"],
            "exactly the documented shape: {e}"
        );
        assert!(!e["error"].as_str().unwrap().is_empty());
    }
    assert!(
        errors
            .iter()
            .any(|e| e["error"].as_str().unwrap().contains("404")),
        "{out}"
    );
    let matches = lines
        .iter()
        .filter(|l| l.get("watchlist").is_some())
        .count();
    assert_eq!(matches, 1, "the good source still reports its match: {out}");
}

/// `scan` reads every source's state in one go before its scans start (issue 21): what a
/// scan recorded (the feed's validators) is what the next `scan` starts from, so it asks
/// conditionally and the unchanged feed is not read again.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_scan_starts_from_what_the_first_recorded() {
    let server = MockServer::start().await;
    let feed = rss(&[Item::new(
        "Niger junta talks continue",
        "http://example.org/a/1",
        "Talks go on.",
    )]);
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"v1\"")
                .set_body_raw(feed, "application/rss+xml"),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = ConfigFile::in_dir(dir.path())
        .with(config::backfill_all())
        .with(config::source("good", &format!("{}/feed.xml", server.uri())).set("follow", false))
        .with(config::watchlist("niger", &["Niger"]))
        .write_in(dir.path());

    let (code, out, err) = scan(&cfg, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("good: 1 articles, 1 matches (1 new)"), "{out}");
    let (code, out, err) = scan(&cfg, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("good: not modified"), "{out}");
}
