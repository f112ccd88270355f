//! Issue 22: recipients do not see each other. One digest to two recipients goes out as one
//! message per recipient, each with its own address alone in `To:` and the same Message-ID,
//! through the file transport and through SMTP; `show_recipients = true` names them all.

#[path = "support/smtp_sink.rs"]
#[allow(dead_code, reason = "each test binary uses part of the sink")]
mod smtp_sink;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::Utc;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const A: &str = "analyst@example.org";
const B: &str = "desk@example.net";

async fn feed() -> MockServer {
    let server = MockServer::start().await;
    let rss = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>wire</title>\
         <link>http://example.org/</link><description>d</description>\
         <item><title>Niger junta talks continue</title><link>http://example.org/a/1</link>\
         <description>Talks on the withdrawal from Niger go on.</description>\
         <pubDate>{}</pubDate></item></channel></rss>",
        Utc::now().to_rfc2822()
    );
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(rss, "application/rss+xml"))
        .mount(&server)
        .await;
    server
}

fn config(dir: &Path, feed: &str, mail: &str, show: Option<bool>) -> PathBuf {
    let show = show.map_or_else(String::new, |s| format!("show_recipients = {s}\n"));
    let text = format!(
        "state_dir = \"{}\"\n[http]\nper_host_delay_ms = 0\n[mail]\n\
         from = \"newswatch <newswatch@example.org>\"\n{mail}\n\
         [defaults]\nbackfill = \"all\"\n\
         [[source]]\nname = \"wire\"\nurl = \"{feed}/feed.xml\"\nfollow = false\n\
         [[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\"]\n\
         to = [\"{A}\", \"Desk <{B}>\"]\n{show}",
        dir.join("state").display()
    );
    let path = dir.join("newswatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn newswatch(config: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_newswatch"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The header block's `name:` lines (unfolded).
fn header(message: &str, name: &str) -> Vec<String> {
    let head = message.split("\r\n\r\n").next().unwrap_or_default();
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded
        .split("\r\n")
        .filter(|l| {
            l.get(..name.len() + 1)
                .is_some_and(|p| p.eq_ignore_ascii_case(&format!("{name}:")))
        })
        .map(|l| l[name.len() + 1..].trim().to_owned())
        .collect()
}

/// The outbox's messages, keyed by the recipient in their file name.
fn outbox(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir.join("state/outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn assert_private(messages: &[(String, String)]) {
    assert_eq!(messages.len(), 2, "one message per recipient");
    let ids: Vec<Vec<String>> = messages
        .iter()
        .map(|(_, m)| header(m, "Message-ID"))
        .collect();
    assert_eq!(ids[0].len(), 1);
    assert_eq!(ids[0], ids[1], "the same Message-ID for all");
    for (rcpt, other) in [(A, B), (B, A)] {
        let (_, m) = messages
            .iter()
            .find(|(n, _)| n.contains(rcpt))
            .unwrap_or_else(|| panic!("a message for {rcpt}"));
        assert_eq!(header(m, "To"), [rcpt.to_string()], "{m}");
        let head = m.split("\r\n\r\n").next().unwrap();
        assert!(!head.contains(other), "{rcpt} sees {other}: {head}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_recipient_sees_only_their_own_address() {
    let site = feed().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &site.uri(), "transport = \"file\"", None);
    newswatch(&cfg, &["scan"]);
    newswatch(&cfg, &["digest", "--send"]);
    assert_private(&outbox(dir.path()));
}

#[tokio::test(flavor = "multi_thread")]
async fn over_smtp_too() {
    let site = feed().await;
    let sink = smtp_sink::SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mail = format!(
        "transport = \"smtp\"\nsmtp_url = \"smtp://{}?tls=none\"",
        sink.addr()
    );
    let cfg = config(dir.path(), &site.uri(), &mail, None);
    newswatch(&cfg, &["scan"]);
    newswatch(&cfg, &["digest", "--send"]);
    let got: Vec<(String, String)> = sink
        .messages()
        .into_iter()
        .map(|m| (m.to.join(","), m.data))
        .collect();
    assert_private(&got);
}

#[tokio::test(flavor = "multi_thread")]
async fn show_recipients_names_everyone() {
    let site = feed().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &site.uri(), "transport = \"file\"", Some(true));
    newswatch(&cfg, &["scan"]);
    newswatch(&cfg, &["digest", "--send"]);
    let messages = outbox(dir.path());
    assert_eq!(messages.len(), 2);
    for (_, m) in &messages {
        let to = header(m, "To");
        assert_eq!(to.len(), 1, "{m}");
        assert!(to[0].contains(A) && to[0].contains(B), "{to:?}");
    }
}
