//! `cargo bench --bench cluster`: issue 17's measurement. 5,000 sources spread over 50
//! loopback hosts (127.0.0.2 … 127.0.0.51, 100 feeds each, 5 articles a feed, every article
//! page followed), read once by one, two and three `newswatch run` instances sharing a
//! PostgreSQL database (a throwaway cluster, as in the tests), and by one instance on
//! SQLite. For each: articles recorded per second (first scan of every source to the last
//! article recorded), statements sent to the database per article (each a round trip with
//! PostgreSQL; `BEGIN` and `COMMIT` included), and the p50 / p99 latency of claiming due
//! sources, as the instances log them at exit.
//!
//! Where the CPU went, per run: the instances' CPU seconds, the PostgreSQL server's (the
//! postmaster and every backend, exited ones included), this process's (the loopback sites),
//! and how busy the machine's cores were (other work on the machine included), so the
//! table says what limits the rate.
//!
//! `CLUSTER_SOURCES`, `CLUSTER_HOSTS`, `CLUSTER_ITEMS` scale it; `CLUSTER_RUNS` picks the runs
//! (default `sqlite:1,pg:1,pg:2,pg:3`). `CLUSTER_LATENCY_MS` makes every answer of the sites
//! that late (default 0: loopback answers at once, and the machine's cores are the limit);
//! `CLUSTER_PER_HOST` sets `per_host_concurrency` (default 2). With a latency, what limits
//! one instance is how many scans it runs at once, as with real, distant sites.
//!
//! Every run also counts the feed requests the sites saw: each feed is fresh for an hour,
//! so a cluster that shares its work asks for each once, whatever the number of instances.

#[path = "../tests/support/mod.rs"]
mod support;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::config::{self, ConfigFile, Table};
use support::daemon::{exits_within, run_command, signal, stderr_lines};
use support::feeds::{rss, Item};
use support::hostile::{late, ok, response, Hostile, Request};
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
async fn sites(hosts: usize, items: usize, latency: Duration) -> Vec<Hostile> {
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
                // Fresh for an hour: after its first read a feed is not due again during
                // the run, whatever the cron says (the refetch floor).
                return late(
                    latency,
                    response(
                        200,
                        &[
                            ("Content-Type", "application/rss+xml"),
                            ("Cache-Control", "max-age=3600"),
                        ],
                        feed(&base, n.parse().unwrap_or(0), items).as_bytes(),
                    ),
                );
            }
            // Host and path in the text: every page is its own story.
            let at = format!("{}{}", r.header("host").unwrap_or_default(), r.path);
            late(latency, ok("text/html", page(&at)))
        })
        .await;
        out.push(server);
    }
    out
}

fn config(
    dir: &Path,
    sites: &[Hostile],
    per_host: usize,
    concurrency: usize,
    database: Option<&str>,
) -> PathBuf {
    let mut file = ConfigFile::in_dir(dir).with(config::http().set(
        "per_host_concurrency",
        i64::try_from(concurrency).unwrap_or(2),
    ));
    if let Some(db) = database {
        file = file.with(Table::new("database").set("url", db).set("lease_secs", 60));
    }
    for (h, site) in sites.iter().enumerate() {
        for n in 0..per_host {
            file = file.with(
                config::source(&format!("s{h}-{n}"), &site.url(&format!("/feed/{n}.xml")))
                    // Every second: since issue 21 a new config's first scans are spread
                    // over the sources' period (at most an hour), so every source falls due
                    // within the first second, as before; the feeds' max-age keeps them
                    // from being read again during the run.
                    .set("schedule", "* * * * * *")
                    .set("backfill", "all"),
            );
        }
    }
    file.with(config::watchlist("niger", &["Niger"]))
        .write_in(dir)
}

/// Articles recorded so far.
async fn articles(dir: &Path, database: Option<&str>) -> usize {
    if let Some(db) = database {
        let Ok((client, conn)) = tokio_postgres::connect(db, tokio_postgres::NoTls).await else {
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
    } else {
        let path = dir.join("state").join("newswatch.db");
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM articles", [], |r| r.get::<_, i64>(0)))
            .map_or(0, |n| usize::try_from(n).unwrap_or(0))
    }
}

/// CPU seconds (user + system) of process `pid`, and with `children` those of its children
/// it has waited for; 0 when it is gone.
fn cpu_secs(pid: u32, children: bool) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces), from field 3 on.
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return 0.0;
    };
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    // utime, stime, cutime, cstime are fields 14-17: 11-14 of `rest` (0-based from field 3).
    let own = f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0);
    let waited = if children {
        f.get(13).unwrap_or(&0.0) + f.get(14).unwrap_or(&0.0)
    } else {
        0.0
    };
    (own + waited) / 100.0
}

/// The parent of process `pid`.
fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU seconds of the PostgreSQL server: the postmaster, the backends it reaped, and those
/// running now.
fn server_cpu(postmaster: Option<u32>) -> f64 {
    let Some(pm) = postmaster else { return 0.0 };
    let live: f64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| parent(pid) == Some(pm))
        .map(|pid| cpu_secs(pid, false))
        .sum();
    cpu_secs(pm, true) + live
}

/// The machine's CPU ticks: (busy, all), from /proc/stat.
fn machine_ticks() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    let all: f64 = v.iter().take(8).sum();
    // idle and iowait are the 4th and 5th.
    let idle = v.get(3).unwrap_or(&0.0) + v.get(4).unwrap_or(&0.0);
    (all - idle, all)
}

/// Feed requests the sites have answered so far.
fn feed_requests(sites: &[Hostile]) -> usize {
    sites
        .iter()
        .map(|s| {
            s.requests()
                .iter()
                .filter(|r| r.path.starts_with("/feed/"))
                .count()
        })
        .sum()
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
    let latency_ms = env("CLUSTER_LATENCY_MS", 0);
    let concurrency = env("CLUSTER_PER_HOST", 2);
    let runs = std::env::var("CLUSTER_RUNS").unwrap_or_else(|_| "sqlite:1,pg:1,pg:2,pg:3".into());
    let latency = Duration::from_millis(u64::try_from(latency_ms).unwrap_or(0));
    let sites = sites(hosts, items, latency).await;
    let cluster = runs.contains("pg").then(pg::Cluster::start);
    let expected = per_host * hosts * items;
    println!(
        "cluster: {} sources over {hosts} loopback hosts, {items} articles each ({expected} articles, every page followed); per_host_concurrency {concurrency}, no delay; every answer {latency_ms} ms late",
        per_host * hosts
    );
    println!();
    println!("| database | instances | seconds | articles/s | statements per article | claim p50 ms | claim p99 ms | CPU s: instances / server / sites | cores busy | load before | feed requests |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for run in runs.split(',') {
        let (backend, n) = run.split_once(':').expect("runs look like pg:2");
        let n: usize = n.parse().expect("a number of instances");
        let dir = tempfile::tempdir().expect("a temp dir");
        let db = match (backend, &cluster) {
            ("pg", Some(c)) => Some(c.fresh_db().await),
            _ => None,
        };
        let path = config(dir.path(), &sites, per_host, concurrency, db.as_deref());
        let feeds_before = feed_requests(&sites);
        let postmaster = cluster.as_ref().and_then(pg::Cluster::pid);
        let load = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().map(str::to_owned))
            .unwrap_or_default();
        let (server0, me0, ticks0) = (
            server_cpu(postmaster),
            cpu_secs(std::process::id(), false),
            machine_ticks(),
        );
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
        let ticks1 = machine_ticks();
        let busy = (ticks1.0 - ticks0.0) / (ticks1.1 - ticks0.1).max(1.0);
        let server = if backend == "pg" {
            server_cpu(postmaster) - server0
        } else {
            0.0
        };
        let sites_cpu = cpu_secs(std::process::id(), false) - me0;
        let instances_cpu: f64 = children.iter().map(|(c, _)| cpu_secs(c.id(), false)).sum();
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
            "| {backend} | {n} | {secs:.1} | {:.0} | {:.1} | {p50:.1} | {p99:.1} | {instances_cpu:.0} / {server:.0} / {sites_cpu:.0} | {:.0} % | {load} | {} |{}",
            got as f64 / secs,
            statements / got.max(1) as f64,
            busy * 100.0,
            feed_requests(&sites) - feeds_before,
            if got < expected {
                format!(" (only {got} of {expected} in {}s)", limit.as_secs())
            } else {
                String::new()
            }
        );
    }
}
