//! `cargo bench --bench scan`: the whole pipeline over loopback.
//!
//! Serves a generated site of 1,000 articles (10 RSS feeds × 100 items, each linking an
//! article page in Arabic, French or English) on 127.0.0.1, then measures:
//! - `newswatch scan --dry-run` (the release binary): articles per second and peak RSS;
//! - `newswatch run` idle between scans: RSS once the first scans are done.
//!
//! Prints one line per measurement; the numbers go in BENCHMARKS.md.

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    let date = chrono::Utc::now().to_rfc2822();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>bench</title><link>http://example.org/</link><description>d</description>");
    for k in 0..PER_FEED {
        let i = f * PER_FEED + k;
        let _ = write!(s, "<item><title>Item {i}</title><link>{base}/a/{i}.html</link><description>teaser {i}</description><pubDate>{date}</pubDate></item>");
    }
    s.push_str("</channel></rss>");
    s
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
    let mut s = format!(
        "state_dir = \"{}\"\n[http]\nper_host_delay_ms = 0\nper_host_concurrency = 16\nrespect_robots = false\n[defaults]\nschedule = \"{schedule}\"\nbackfill = \"all\"\n",
        dir.join("state").display()
    );
    for f in 0..FEEDS {
        let _ = write!(
            s,
            "[[source]]\nname = \"feed{f}\"\nurl = \"{base}/feed/{f}.xml\"\n"
        );
    }
    s.push_str("[[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\", \"النيجر\", \"Agadez\", \"أغاديز\"]\nrequire = [\"withdrawal\", \"retrait\", \"انسحاب\"]\nto = [\"a@example.org\"]\n");
    let p = dir.join("bench.toml");
    std::fs::write(&p, s).unwrap();
    p
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
