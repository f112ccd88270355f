//! `newswatch backtest`: a watchlist, or other keywords for it, run over the articles still
//! held with the daemon's matcher; newest first; nothing recorded or sent.

#[path = "support/hostile.rs"]
#[allow(dead_code, reason = "each test uses part of the server")]
mod hostile;

use std::path::Path;
use std::process::Command;

use hostile::{ok, Hostile};

fn rss(base: &str, items: &[(&str, &str)]) -> String {
    let date = chrono::Utc::now().to_rfc2822();
    let mut s = String::from(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>wire</title>\
         <link>http://example.org/</link><description>d</description>",
    );
    for (i, (title, text)) in items.iter().enumerate() {
        s.push_str(&format!(
            "<item><title>{title}</title><link>{base}/a/{i}.html</link>\
             <description>{text}</description><pubDate>{date}</pubDate></item>"
        ));
    }
    s.push_str("</channel></rss>");
    s
}

fn newswatch(config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_newswatch"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backtest_matches_what_is_held_newest_first_and_records_nothing() {
    let feed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let served = std::sync::Arc::clone(&feed);
    let site =
        Hostile::start(move |_| ok("application/rss+xml", served.lock().unwrap().as_bytes())).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("newswatch.toml");
    std::fs::write(
        &config,
        format!(
            "state_dir = \"{}\"\n[http]\nper_host_delay_ms = 0\nrespect_robots = false\n\
             [[source]]\nname = \"wire\"\nurl = \"{}\"\nfollow = false\nbackfill = \"all\"\n\
             [[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\", \"النيجر\"]\n\
             require = [\"withdrawal\", \"انسحاب\"]\nto = [\"a@example.org\"]\n",
            dir.path().join("state").display(),
            site.url("/feed.xml")
        ),
    )
    .unwrap();
    let base = site.url("");
    *feed.lock().unwrap() = rss(
        &base,
        &[
            (
                "Withdrawal from Niger begins",
                "The withdrawal of troops from Niger began.",
            ),
            ("Nigeria votes", "A withdrawal of candidates in Nigeria."),
        ],
    );
    assert_eq!(newswatch(&config, &["scan"]).0, 0);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    *feed.lock().unwrap() = rss(
        &base,
        &[
            (
                "Withdrawal from Niger begins",
                "The withdrawal of troops from Niger began.",
            ),
            ("Nigeria votes", "A withdrawal of candidates in Nigeria."),
            (
                "بدء انسحاب القوات من النيجر",
                "بدأ انسحاب القوات الأمريكية من النيجر.",
            ),
            (
                "Agadez market reopens",
                "Traders returned to Agadez on Monday.",
            ),
        ],
    );
    assert_eq!(newswatch(&config, &["scan"]).0, 0);
    let status_before = newswatch(&config, &["status", "--json"]).1;

    let (code, out, err) = newswatch(&config, &["backtest", "--watchlist", "niger", "--json"]);
    assert_eq!(code, 0, "{err}");
    let found = lines(&out);
    let titles: Vec<&str> = found.iter().map(|l| l["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "بدء انسحاب القوات من النيجر",
            "Withdrawal from Niger begins"
        ],
        "newest first; Nigeria is not Niger"
    );
    assert_eq!(found[0]["terms"], serde_json::json!(["النيجر", "انسحاب"]));
    assert_eq!(found[1]["url"], format!("{base}/a/0.html"));

    // Other keywords, the watchlist's require terms still apply: Agadez alone has none.
    let (_, out, _) = newswatch(
        &config,
        &[
            "backtest",
            "--watchlist",
            "niger",
            "--terms",
            "Agadez",
            "Nigeria",
            "--json",
        ],
    );
    let titles: Vec<String> = lines(&out)
        .iter()
        .map(|l| l["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(titles, ["Nigeria votes"]);

    // Human-readable, with a summary; a bad --since is a usage error.
    let (code, out, _) = newswatch(
        &config,
        &["backtest", "--watchlist", "niger", "--since", "7d"],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("2 of 4 articles first seen in the last 7d match watchlist \"niger\""),
        "{out}"
    );
    assert_eq!(
        newswatch(
            &config,
            &["backtest", "--watchlist", "niger", "--since", "soon"]
        )
        .0,
        2
    );
    assert_eq!(
        newswatch(&config, &["backtest", "--watchlist", "nope"]).0,
        2
    );

    // Nothing recorded, nothing sent.
    assert_eq!(newswatch(&config, &["status", "--json"]).1, status_before);
    assert!(!dir.path().join("state").join("outbox").exists());
}
