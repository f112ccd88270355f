//! `cargo bench --bench cluster`: issue 17's measurement. 5,000 sources spread over 50
//! loopback hosts (127.0.0.2 … 127.0.0.51, 100 feeds each, 5 articles a feed, every article
//! page followed), read once by one, two and three `newswatch run` instances sharing a
//! PostgreSQL database (a throwaway cluster, as in the tests), and by one instance on
//! SQLite. For each: articles recorded per second (first scan of every source to the last
//! article recorded), statements sent to the database per article (each a round trip with
//! PostgreSQL; `BEGIN` and `COMMIT` included), and the p50 / p99 latency of claiming due
//! sources, as the instances log them at exit.
//!
//! `CLUSTER_SOURCES`, `CLUSTER_HOSTS`, `CLUSTER_ITEMS` scale it; `CLUSTER_RUNS` picks the runs
//! (default `sqlite:1,pg:1,pg:2,pg:3`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::config::{self, ConfigFile, Table};
use support::daemon::{exits_within, run_command, signal, stderr_lines};
use support::feeds::{rss, Item};
use support::hostile::{ok, Hostile, Request};
use support::pg;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn feed(base: &str, feed: usize, items: usize) -> String {
    let items: Vec<Item> = (0..items)
        .map(|i| {
            Item::new(
                format!("Feed {feed} story {i}"),
                format!("{base}/a/{feed}/{i}.html"),
                format!("Summary {i}."),
            )
        })
        .collect();
    rss(&items)
}

fn page(path: &str) -> String {
    format!(
        "<!doctype html><html><head><title>{path}</title><meta property=\"og:type\" content=\"article\"></head>\
         <body><article><h1>{path}</h1><p>The withdrawal from Niger went on as convoys left the bases \
         in the north, officials said on Monday, and talks continued in the capital.</p>\
         <p>Further movements were planned for the week, a spokesman added.</p></article></body></html>"
    )
}

/// One loopback site per host: `/feed/<n>.xml` and its article pages.
async fn sites(hosts: usize, items: usize) -> Vec<Hostile> {
    let mut out = Vec::new();
    for h in 0..hosts {
        let ip = Ipv4Addr::new(127, 0, 0, u8::try_from(h + 2).expect("at most 253 hosts"));
        let server = Hostile::start_at(ip, move |r: &Request| {
            if let Some(n) = r
                .path
                .strip_prefix("/feed/")
                .and_then(|p| p.strip_suffix(".xml"))
            {
                let base = format!("http://{}", r.header("host").unwrap_or_default());
                return ok(
                    "application/rss+xml",
                    feed(&base, n.parse().unwrap_or(0), items),
                );
            }
            // Host and path in the text: every page is its own story.
            let at = format!("{}{}", r.header("host").unwrap_or_default(), r.path);
            ok("text/html", page(&at))
        })
        .await;
        out.push(server);
    }
    out
}

fn config(dir: &Path, sites: &[Hostile], per_host: usize, database: Option<&str>) -> PathBuf {
    let mut file = ConfigFile::in_dir(dir).with(config::http().set("per_host_concurrency", 2));
    if let Some(db) = database {
        file = file.with(Table::new("database").set("url", db).set("lease_secs", 60));
    }
    for (h, site) in sites.iter().enumerate() {
        for n in 0..per_host {
            file = file.with(
                config::source(&format!("s{h}-{n}"), &site.url(&format!("/feed/{n}.xml")))
                    .set("schedule", "0 0 * * *")
                    .set("backfill", "all"),
            );
        }
    }
    file.with(config::watchlist("niger", &["Niger"]))
        .write_in(dir)
}

/// Articles recorded so far.
async fn articles(dir: &Path, database: Option<&str>) -> usize {
    match database {
        Some(db) => {
            let Ok((client, conn)) = tokio_postgres::connect(db, tokio_postgres::NoTls).await
            else {
                return 0;
            };
            let task = tokio::spawn(conn);
            let n = client
                .query_one("SELECT COUNT(*) FROM articles", &[])
                .await
                .map_or(0, |r| r.get::<_, i64>(0));
            drop(client);
            let _ = task.await;
            usize::try_from(n).unwrap_or(0)
        }
        None => {
            let path = dir.join("state").join("newswatch.db");
            rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .and_then(|c| {
                    c.query_row("SELECT COUNT(*) FROM articles", [], |r| r.get::<_, i64>(0))
                })
                .map_or(0, |n| usize::try_from(n).unwrap_or(0))
        }
    }
}

/// A field of the instance's last log line containing `needle`: `name=value`.
fn field(lines: &[String], needle: &str, name: &str) -> Option<f64> {
    let line = lines.iter().rev().find(|l| l.contains(needle))?;
    let at = line.find(&format!("{name}="))? + name.len() + 1;
    line[at..].split_whitespace().next()?.parse().ok()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total = env("CLUSTER_SOURCES", 5000);
    let hosts = env("CLUSTER_HOSTS", 50);
    let items = env("CLUSTER_ITEMS", 5);
    let per_host = total / hosts;
    let runs = std::env::var("CLUSTER_RUNS").unwrap_or_else(|_| "sqlite:1,pg:1,pg:2,pg:3".into());
    let sites = sites(hosts, items).await;
    let cluster = runs.contains("pg").then(pg::Cluster::start);
    let expected = per_host * hosts * items;
    println!(
        "cluster: {} sources over {hosts} loopback hosts, {items} articles each ({expected} articles, every page followed); per_host_concurrency 2, no delay",
        per_host * hosts
    );
    println!();
    println!("| database | instances | seconds | articles/s | statements per article | claim p50 ms | claim p99 ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for run in runs.split(',') {
        let (backend, n) = run.split_once(':').expect("runs look like pg:2");
        let n: usize = n.parse().expect("a number of instances");
        let dir = tempfile::tempdir().expect("a temp dir");
        let db = match (backend, &cluster) {
            ("pg", Some(c)) => Some(c.fresh_db().await),
            _ => None,
        };
        let path = config(dir.path(), &sites, per_host, db.as_deref());
        let t = Instant::now();
        let mut children = Vec::new();
        for _ in 0..n {
            let mut cmd = run_command(&path, &dir.path().join("state"));
            cmd.env("RUST_LOG", "newswatch=info");
            let mut child = cmd.spawn().expect("start newswatch");
            let logs = stderr_lines(&mut child);
            children.push((child, logs));
        }
        let limit = Duration::from_secs(
            std::env::var("CLUSTER_LIMIT_SECS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(900),
        );
        while articles(dir.path(), db.as_deref()).await < expected && t.elapsed() < limit {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let secs = t.elapsed().as_secs_f64();
        let got = articles(dir.path(), db.as_deref()).await;
        let (mut statements, mut p50, mut p99) = (0.0, 0.0f64, 0.0f64);
        for (child, logs) in &mut children {
            signal(child, "TERM");
            let _ = exits_within(child, Duration::from_secs(30));
            let lines: Vec<String> = logs.try_iter().collect();
            if got < expected {
                eprintln!("{}", lines.join("\n"));
            }
            statements += field(&lines, "stopped", "statements").unwrap_or(0.0);
            p50 = p50.max(field(&lines, "stopped", "claim_p50_ms").unwrap_or(0.0));
            p99 = p99.max(field(&lines, "stopped", "claim_p99_ms").unwrap_or(0.0));
        }
        println!(
            "| {backend} | {n} | {secs:.1} | {:.0} | {:.1} | {p50:.1} | {p99:.1} |{}",
            got as f64 / secs,
            statements / got.max(1) as f64,
            if got < expected {
                format!(" (only {got} of {expected} in {}s)", limit.as_secs())
            } else {
                String::new()
            }
        );
    }
}
