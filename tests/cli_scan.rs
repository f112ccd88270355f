//! Issue 22: honest exit codes. `scan` exits 0 only when every source was read; a failed
//! source makes it exit 1, with one stderr line per failure and, with `--json`, one
//! `{"source": …, "error": …}` line per failed source next to the match lines.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::Utc;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn site() -> MockServer {
    let server = MockServer::start().await;
    let rss = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>wire</title>\
         <link>http://example.org/</link><description>d</description>\
         <item><title>Niger junta talks continue</title><link>http://example.org/a/1</link>\
         <description>Talks go on.</description><pubDate>{}</pubDate></item></channel></rss>",
        Utc::now().to_rfc2822()
    );
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(rss, "application/rss+xml"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/gone.xml"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/broken.xml"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("<rss><channel><item>", "application/rss+xml"),
        )
        .mount(&server)
        .await;
    server
}

fn config(dir: &Path, base: &str) -> PathBuf {
    let text = format!(
        "state_dir = \"{}\"\n[http]\nper_host_delay_ms = 0\n[defaults]\nbackfill = \"all\"\n\
         [[source]]\nname = \"good\"\nurl = \"{base}/feed.xml\"\nfollow = false\n\
         [[source]]\nname = \"gone\"\nurl = \"{base}/gone.xml\"\n\
         [[source]]\nname = \"broken\"\nurl = \"{base}/broken.xml\"\n\
         [[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\"]\nto = [\"a@example.org\"]\n",
        dir.join("state").display()
    );
    let path = dir.join("newswatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn scan(config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_newswatch"))
        .arg("--config")
        .arg(config)
        .arg("-q")
        .arg("scan")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
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
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
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
