//! `cargo bench --bench scan`: the whole pipeline over loopback.
//!
//! Serves a generated site of 1,000 articles (10 RSS feeds × 100 items, each linking an
//! article page in Arabic, French or English) on 127.0.0.1, then measures:
//! - `newswatch scan --dry-run` (the release binary): articles per second and peak RSS;
//! - `newswatch run` idle between scans: RSS once the first scans are done.
//!
//! Prints one line per measurement; the numbers go in BENCHMARKS.md.

#[path = "../tests/support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::config::{self, ConfigFile, Table};
use support::feeds::{rss, Item};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const FEEDS: usize = 10;
const PER_FEED: usize = 100;

fn article_page(i: usize) -> String {
    let (lang, title, para) = match i % 3 {
        0 => ("ar", format!("تقرير رقم {i}: محادثات حول انسحاب القوات من النيجر"), "قالت وزارة الدفاع إن المحادثات مع المجلس العسكري في نيامي مستمرة بشأن الانسحاب المنظم للقوات من قاعدة أغاديز الجوية. "),
        1 => ("fr", format!("Dépêche {i} : le retrait des troupes du Niger se poursuit"), "Les autorités de Niamey ont confirmé que le retrait des soldats de la base d'Agadez se déroule selon le calendrier prévu avec Washington. "),
        _ => ("en", format!("Report {i}: Senegal port terminal opens in Dakar"), "Senegal opened a new container terminal at the port of Dakar, doubling capacity on the West African coast, officials said on Tuesday. "),
    };
    let mut body = String::new();
    for _ in 0..8 {
        let _ = write!(body, "<p>{}</p>", para.repeat(3));
    }
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta property=\"article:published_time\" content=\"2026-11-24T06:00:00Z\"></head><body>\
         <nav><a href=\"/\">Home</a><a href=\"/africa\">Africa</a></nav><article><h1>{title}</h1>{body}</article>\
         <aside><h3>Most read</h3><ul><li><a href=\"/x\">Something else</a></li></ul></aside><footer>©</footer></body></html>"
    )
}

fn feed(base: &str, f: usize) -> String {
    let items: Vec<Item> = (f * PER_FEED..(f + 1) * PER_FEED)
        .map(|i| {
            Item::new(
                format!("Item {i}"),
                format!("{base}/a/{i}.html"),
                format!("teaser {i}"),
            )
        })
        .collect();
    rss(&items)
}

async fn serve() -> MockServer {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("GET"))
        .and(path_regex(r"^/a/\d+\.html$"))
        .respond_with(|req: &Request| {
            let i: usize = req
                .url
                .path()
                .trim_start_matches("/a/")
                .trim_end_matches(".html")
                .parse()
                .unwrap_or(0);
            ResponseTemplate::new(200)
                .set_body_raw(article_page(i).into_bytes(), "text/html; charset=utf-8")
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/feed/\d+\.xml$"))
        .respond_with(move |req: &Request| {
            let f: usize = req
                .url
                .path()
                .trim_start_matches("/feed/")
                .trim_end_matches(".xml")
                .parse()
                .unwrap_or(0);
            ResponseTemplate::new(200)
                .set_body_raw(feed(&base, f).into_bytes(), "application/rss+xml")
        })
        .mount(&server)
        .await;
    server
}

fn config(dir: &std::path::Path, base: &str, schedule: &str) -> std::path::PathBuf {
    let mut file = ConfigFile::in_dir(dir)
        .with(config::http().set("per_host_concurrency", 16))
        .with(
            Table::new("defaults")
                .set("schedule", schedule)
                .set("backfill", "all"),
        );
    for f in 0..FEEDS {
        file = file.with(config::source(
            &format!("feed{f}"),
            &format!("{base}/feed/{f}.xml"),
        ));
    }
    let path = dir.join("bench.toml");
    file.with(
        config::watchlist("niger", &["Niger", "النيجر", "Agadez", "أغاديز"])
            .set("require", vec!["withdrawal", "retrait", "انسحاب"]),
    )
    .write(&path);
    path
}

/// Peak and current RSS (kB) of a running process.
fn rss_kb(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn binary() -> std::path::PathBuf {
    let status = Command::new("cargo")
        .args(["build", "--release", "--bin", "newswatch"])
        .status()
        .unwrap();
    assert!(status.success());
    std::path::PathBuf::from("target/release/newswatch")
}

#[tokio::main]
async fn main() {
    let bin = binary();
    let server = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), "0 0 * * *");

    for run in 0..3 {
        // Output to a file, not a pipe: a pipe nobody reads fills up and stalls the scan.
        let out_path = dir.path().join(format!("scan-{run}.jsonl"));
        let out_file = std::fs::File::create(&out_path).unwrap();
        let t = Instant::now();
        let mut child = Command::new(&bin)
            .arg("--config")
            .arg(&cfg)
            .args(["-q", "scan", "--dry-run", "--json"])
            .stdout(Stdio::from(out_file))
            .spawn()
            .unwrap();
        let pid = child.id();
        let mut peak = 0;
        while child.try_wait().unwrap().is_none() {
            peak = peak.max(rss_kb(pid).0);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let secs = t.elapsed().as_secs_f64();
        let lines = std::fs::read_to_string(&out_path).unwrap().lines().count();
        let articles = FEEDS * PER_FEED;
        println!(
            "scan --dry-run run {run}: {articles} articles in {secs:.2} s = {:.0} articles/s; {lines} matches; peak RSS {:.1} MB",
            articles as f64 / secs,
            peak as f64 / 1024.0
        );
    }

    // The daemon: first scans at start (never fetched), then idle until midnight.
    let mut child = Command::new(&bin)
        .arg("--config")
        .arg(&cfg)
        .args(["-q", "run"])
        .spawn()
        .unwrap();
    let pid = child.id();
    let db = dir.path().join("state").join("newswatch.db");
    tokio::time::sleep(Duration::from_secs(20)).await;
    let (peak, rss) = rss_kb(pid);
    println!(
        "daemon after first scans of {} articles: RSS {:.1} MB (peak {:.1} MB), db {} kB",
        FEEDS * PER_FEED,
        rss as f64 / 1024.0,
        peak as f64 / 1024.0,
        std::fs::metadata(&db).map(|m| m.len() / 1024).unwrap_or(0)
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (_, rss2) = rss_kb(pid);
    println!("daemon idle 10 s later: RSS {:.1} MB", rss2 as f64 / 1024.0);
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = child.wait();
}
