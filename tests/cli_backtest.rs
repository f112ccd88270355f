//! `newswatch backtest`: a watchlist, or other keywords for it, run over the articles still
//! held with the daemon's matcher; newest first; nothing recorded or sent.

mod support;

use support::cli::{json_lines, newswatch};
use support::config::{self, ConfigFile};
use support::feeds::{rss, Item};
use support::hostile::{ok, Hostile};

/// The wire's feed: `items` (title, description) linking to `base/a/0.html`, `/a/1.html`, ….
fn wire(base: &str, items: &[(&str, &str)]) -> String {
    let items: Vec<Item> = items
        .iter()
        .enumerate()
        .map(|(i, (title, text))| Item::new(*title, format!("{base}/a/{i}.html"), *text))
        .collect();
    rss(&items)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backtest_matches_what_is_held_newest_first_and_records_nothing() {
    let feed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let served = std::sync::Arc::clone(&feed);
    let site =
        Hostile::start(move |_| ok("application/rss+xml", served.lock().unwrap().as_bytes())).await;
    let dir = tempfile::tempdir().unwrap();
    let config = ConfigFile::in_dir(dir.path())
        .with(config::http())
        .with(
            config::source("wire", &site.url("/feed.xml"))
                .set("follow", false)
                .set("backfill", "all"),
        )
        .with(
            config::watchlist("niger", &["Niger", "النيجر"])
                .set("require", vec!["withdrawal", "انسحاب"]),
        )
        .write_in(dir.path());
    let base = site.url("");
    *feed.lock().unwrap() = wire(
        &base,
        &[
            (
                "Withdrawal from Niger begins",
                "The withdrawal of troops from Niger began.",
            ),
            ("Nigeria votes", "A withdrawal of candidates in Nigeria."),
        ],
    );
    assert_eq!(newswatch(&config, &["scan"]).code, Some(0));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    *feed.lock().unwrap() = wire(
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
    assert_eq!(newswatch(&config, &["scan"]).code, Some(0));
    let status_before = newswatch(&config, &["status", "--json"]).stdout;

    let out = newswatch(&config, &["backtest", "--watchlist", "niger", "--json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let found = json_lines(&out.stdout);
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
    let out = newswatch(
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
    let titles: Vec<String> = json_lines(&out.stdout)
        .iter()
        .map(|l| l["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(titles, ["Nigeria votes"]);

    // Human-readable, with a summary; a bad --since is a usage error.
    let out = newswatch(
        &config,
        &["backtest", "--watchlist", "niger", "--since", "7d"],
    );
    assert_eq!(out.code, Some(0));
    assert!(
        out.stdout
            .contains("2 of 4 articles first seen in the last 7d match watchlist \"niger\""),
        "{}",
        out.stdout
    );
    assert_eq!(
        newswatch(
            &config,
            &["backtest", "--watchlist", "niger", "--since", "soon"]
        )
        .code,
        Some(2)
    );
    assert_eq!(
        newswatch(&config, &["backtest", "--watchlist", "nope"]).code,
        Some(2)
    );

    // Nothing recorded, nothing sent.
    assert_eq!(
        newswatch(&config, &["status", "--json"]).stdout,
        status_before
    );
    assert!(!dir.path().join("state").join("outbox").exists());
}
