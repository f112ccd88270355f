//! `cargo bench --bench bench_fetch`: fetching on loopback (issue 5), numbers for BENCHMARKS.
//!
//! Uses the hostile fixture server of the tests (raw TCP, one connection per request) on
//! several addresses of 127.0.0.0/8, and measures:
//! 1. fetch throughput of the library `Fetcher`: 1,000 small pages over 10 hosts
//!    (127.0.0.1–127.0.0.10) vs the same 1,000 pages on one host, `per_host_delay_ms = 0`,
//!    `per_host_concurrency = 1` (the SPEC default), robots.txt on;
//! 2. peak RSS (`VmHWM`) of `newswatch scan --dry-run --json` (the bench-profile binary) over
//!    8 good feeds plus a 1 GB gzip bomb and an endless chunked body, `max_body_bytes` 10 MB;
//! 3. wall time of the same kind of scan over 10 hosts of which one accepts and never
//!    answers, `timeout_secs = 5`.
//!
//! Prints one line per measurement.

#[path = "../tests/support/mod.rs"]
mod support;

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use newswatch::fetch::{FetchOutcome, FetchSettings, Fetcher};
use support::cli;
use support::config::{self, ConfigFile, Table};
use support::feeds::{rss, Item};
use support::hostile::{not_found, ok, Hostile, Reply, Request};
use url::Url;

const PAGES: usize = 1_000;
const HOSTS: u8 = 10;
/// Fetches in flight at once overall; the per-host gate still admits one per host.
const IN_FLIGHT: usize = 64;
const SCAN_TIMEOUT_SECS: i64 = 5;

fn small_page(path: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><title>{path}</title></head><body><article><h1>{path}</h1>\
         <p>{}</p></article></body></html>",
        "Niger withdrawal talks continue in Niamey. ".repeat(40)
    )
}

fn page_host(r: &Request) -> Reply {
    match r.path.as_str() {
        "/robots.txt" => not_found(),
        "/feed.xml" => ok("application/rss+xml", feed()),
        p => ok("text/html; charset=utf-8", small_page(p)),
    }
}

fn feed() -> String {
    let items: Vec<Item> = (0..20)
        .map(|i| Item::new(format!("Niger withdrawal {i}"), format!("/a/{i}.html"), "d"))
        .collect();
    rss(&items)
}

async fn throughput(urls: &[Url]) -> (f64, usize) {
    let fetcher = Fetcher::new(FetchSettings {
        per_host_delay: Duration::ZERO,
        per_host_concurrency: 1,
        timeout: Duration::from_secs(10),
        // The bench's site is on loopback.
        network: newswatch::fetch::NetworkPolicy {
            allow_private_networks: true,
            ..Default::default()
        },
        ..FetchSettings::default()
    })
    .expect("fetcher");
    let t = Instant::now();
    let fetched = stream::iter(urls.iter().map(|u| {
        let fetcher = fetcher.clone();
        async move { matches!(fetcher.fetch(u, None).await, FetchOutcome::Fetched(_)) }
    }))
    .buffer_unordered(IN_FLIGHT)
    .filter(|ok| std::future::ready(*ok))
    .count()
    .await;
    (t.elapsed().as_secs_f64(), fetched)
}

/// Writes a config with these (name, url) sources and runs `scan --dry-run --json` on it:
/// (wall time, peak RSS kB, match lines).
async fn scan(dir: &Path, sources: &[(String, String)]) -> (Duration, u64, usize) {
    let mut file = ConfigFile::in_dir(dir)
        .with(
            Table::new("http")
                .set("timeout_secs", SCAN_TIMEOUT_SECS)
                .set("max_body_bytes", 10_000_000)
                .set("per_host_delay_ms", 0),
        )
        .with(config::backfill_all());
    for (name, url) in sources {
        file = file.with(config::source(name, url).set("follow", true));
    }
    let path = dir.join("bench-fetch.toml");
    file.with(config::watchlist("niger", &["Niger"]))
        .write(&path);
    let mut cmd = cli::with_config(&path, &["-q", "scan", "--dry-run", "--json"]);
    let (_, out, peak, took) =
        tokio::task::spawn_blocking(move || cli::output_with_peak_rss(&mut cmd))
            .await
            .expect("the run's thread");
    (took, peak, out.lines().count())
}

#[tokio::main]
async fn main() {
    // 1. Throughput.
    let mut hosts = Vec::new();
    for n in 1..=HOSTS {
        hosts.push(Hostile::start_at(Ipv4Addr::new(127, 0, 0, n), page_host).await);
    }
    let spread: Vec<Url> = (0..PAGES)
        .map(|i| {
            let h = &hosts[i % hosts.len()];
            Url::parse(&h.url(&format!("/p/{i}.html"))).expect("url")
        })
        .collect();
    let single: Vec<Url> = (0..PAGES)
        .map(|i| Url::parse(&hosts[0].url(&format!("/q/{i}.html"))).expect("url"))
        .collect();
    for (label, urls) in [("10 hosts", &spread), ("1 host", &single)] {
        let (secs, fetched) = throughput(urls).await;
        println!(
            "throughput {label}: {fetched}/{PAGES} pages in {secs:.2} s = {:.0} pages/s",
            fetched as f64 / secs
        );
    }

    // 2. Peak RSS with a gzip bomb and an endless body in the scan.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut good: Vec<(String, String)> = hosts
        .iter()
        .take(8)
        .enumerate()
        .map(|(i, h)| (format!("good{i}"), h.url("/feed.xml")))
        .collect();
    let bomb = Hostile::start_at(Ipv4Addr::new(127, 0, 0, 11), |r: &Request| {
        match r.path.as_str() {
            "/robots.txt" => not_found(),
            _ => Reply::GzipBomb {
                decompressed: 1 << 30,
            },
        }
    })
    .await;
    let endless = Hostile::start_at(Ipv4Addr::new(127, 0, 0, 12), |_: &Request| {
        Reply::EndlessChunked
    })
    .await;
    let mut sources = good.clone();
    sources.push(("bomb".into(), bomb.url("/feed.xml")));
    sources.push(("endless".into(), endless.url("/feed.xml")));
    for run in 0..3 {
        let (took, peak, lines) = scan(dir.path(), &sources).await;
        println!(
            "scan with gzip bomb + endless body, run {run}: {:.2} s, {lines} matches, peak RSS {:.1} MB",
            took.as_secs_f64(),
            peak as f64 / 1024.0
        );
    }
    let (took, peak, lines) = scan(dir.path(), &good).await;
    println!(
        "scan of the 8 good feeds alone: {:.2} s, {lines} matches, peak RSS {:.1} MB",
        took.as_secs_f64(),
        peak as f64 / 1024.0
    );

    // 3. One of 10 hosts never answers.
    let silent = Hostile::start_at(Ipv4Addr::new(127, 0, 0, 13), |_: &Request| Reply::Hang).await;
    good.extend(
        hosts
            .iter()
            .skip(8)
            .enumerate()
            .map(|(i, h)| (format!("good{}", i + 8), h.url("/feed.xml"))),
    );
    good.truncate(9);
    good.push(("silent".into(), silent.url("/feed.xml")));
    for run in 0..3 {
        let (took, _, lines) = scan(dir.path(), &good).await;
        println!(
            "scan of 10 hosts, 1 silent, timeout {SCAN_TIMEOUT_SECS} s, run {run}: {:.2} s ({:.0} % of the timeout), {lines} matches",
            took.as_secs_f64(),
            took.as_secs_f64() * 100.0 / SCAN_TIMEOUT_SECS as f64
        );
    }
}
