//! `scan`, `digest` and `digest --send` as a user runs them, against a loopback site: the
//! preview shows the message without recording it, `--send` writes it to the file outbox
//! once, and a second `--send` has nothing new.

#[path = "support/feed_site.rs"]
mod feed_site;

use std::process::{Command, Output};

use wiremock::MockServer;

async fn site() -> MockServer {
    let server = MockServer::start().await;
    let date = chrono::Utc::now().to_rfc2822();
    let feed = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><link>{0}/</link><description>d</description>\
         <item><title>US troops begin withdrawal from Niger</title><link>{0}/a/1.html</link><description>The withdrawal of US troops from Niger began on Monday.</description><pubDate>{date}</pubDate></item>\
         <item><title>انسحاب القوات من النيجر</title><link>{0}/a/2.html</link><description>بدأ انسحاب القوات الأمريكية من النيجر يوم الاثنين.</description><pubDate>{date}</pubDate></item>\
         <item><title>Nigeria's president meets governors</title><link>{0}/a/3.html</link><description>Security talks in Abuja.</description><pubDate>{date}</pubDate></item>\
         </channel></rss>",
        server.uri()
    );
    feed_site::serve_feed(&server, feed).await;
    server
}

fn newswatch(cfg: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_newswatch"))
        .arg("--config")
        .arg(cfg)
        .args(args)
        .env_remove("NOTIFY_SOCKET")
        .output()
        .unwrap()
}

fn eml_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_then_send_once_one_digest_per_watchlist() {
    let server = site().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("newswatch.toml");
    std::fs::write(
        &cfg,
        format!(
            "state_dir = \"{}\"\n[http]\nper_host_delay_ms = 0\nrespect_robots = false\n[mail]\nfrom = \"newswatch <nw@example.org>\"\ntransport = \"file\"\n\
             [[source]]\nname = \"wire\"\nurl = \"{}/feed.xml\"\nfollow = false\n\
             [[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\", \"النيجر\"]\nto = [\"analyst@example.org\"]\n\
             [[watchlist]]\nname = \"troops\"\nkeywords = [\"withdrawal\"]\nto = [\"analyst@example.org\"]\n",
            dir.path().join("state").display(),
            server.uri()
        ),
    )
    .unwrap();
    let outbox = dir.path().join("state").join("outbox");

    let scan = newswatch(&cfg, &["scan"]);
    assert!(
        scan.status.success(),
        "{}",
        String::from_utf8_lossy(&scan.stderr)
    );

    let preview = newswatch(&cfg, &["digest"]);
    assert!(preview.status.success());
    let text = String::from_utf8(preview.stdout).unwrap();
    assert!(
        text.contains("Subject: [newswatch] niger: 2 new articles"),
        "{text}"
    );
    assert!(text.contains("Auto-Submitted: auto-generated"), "{text}");
    assert!(text.contains("To: analyst@example.org"), "{text}");
    assert!(
        text.contains("US troops begin withdrawal from Niger"),
        "{text}"
    );
    assert!(text.contains("انسحاب القوات من النيجر"), "{text}");
    assert!(
        !text.contains("Nigeria"),
        "Niger never matches Nigeria: {text}"
    );
    assert!(
        eml_files(&outbox).is_empty(),
        "a preview records and sends nothing"
    );

    assert!(
        text.contains("Subject: [newswatch] troops: 1 new article"),
        "a second watchlist with the same recipient has its own digest: {text}"
    );

    let send = newswatch(&cfg, &["digest", "--send"]);
    assert!(
        send.status.success(),
        "{}",
        String::from_utf8_lossy(&send.stderr)
    );
    let sent = eml_files(&outbox);
    assert_eq!(
        sent.len(),
        2,
        "one message per watchlist, though both go to one reader"
    );
    let subjects: Vec<String> = sent
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .filter_map(|m| {
            m.lines()
                .find(|l| l.starts_with("Subject: "))
                .map(str::to_owned)
        })
        .collect();
    assert!(
        subjects.iter().any(|s| s.contains("niger: 2 new")),
        "{subjects:?}"
    );
    assert!(
        subjects.iter().any(|s| s.contains("troops: 1 new")),
        "{subjects:?}"
    );

    let again = newswatch(&cfg, &["digest", "--send"]);
    assert!(again.status.success());
    assert_eq!(eml_files(&outbox).len(), 2, "nothing is mailed twice");
    let preview = newswatch(&cfg, &["digest"]);
    assert!(preview.stdout.is_empty(), "nothing pending after sending");
}
