//! `cargo bench --bench sources`: many sources on one machine (issue 21).
//!
//! Tiny one-item feeds (and their one article page each) on 100 loopback hosts
//! (`tests/support/many_hosts.rs`, HTTP/1.1 keep-alive). Two measurements, picked with
//! `SOURCES_MODE` (default `once`):
//!
//! - `once`: for each count in `SOURCES_COUNTS` (default `2500,5000,10000`), with
//!   `per_host_delay_ms = 0` and a one-minute cron: `newswatch scan` (fresh state) reads
//!   every source once (wall, CPU, CPU per source, peak RSS); then `newswatch run` from a
//!   fresh state until every source was read once, and two minutes more (CPU per scan in
//!   each phase, peak RSS). With `SOURCES_BASELINE=<another binary>` that binary is
//!   measured too, run for run. `SOURCES_STATE=<dir>` puts the state there (`/dev/shm`:
//!   no disk in the numbers).
//! - `daemon`: `SOURCES_COUNT` (default 10,000) sources, default politeness, a 15-minute
//!   cron, the daemon run for `SOURCES_MINUTES` (default 60): per cron period, whether every
//!   source was scanned within it, the shortest gap between two requests to one host, the
//!   daemon's CPU, its RSS, and the database's size; at the end the peak RSS and `check`'s
//!   time on that config.
//!
//! - `day`: as `daemon`, but a day in fast motion: 96 periods of `SOURCES_PERIOD` seconds
//!   (default 20) with `per_host_delay_ms = 0`, a new story in every feed each period; the
//!   database's size after each period and after shutdown.
//!
//! `SOURCES_DAEMON=0` skips the daemon phase of `once`. `SOURCES_HOSTS` changes the number of hosts (default 100).

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::many_hosts::{self, until_next_tick, Sites, WATCHLIST};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn binary() -> PathBuf {
    if let Some(b) = std::env::var_os("SOURCES_BIN") {
        return PathBuf::from(b);
    }
    let status = Command::new("cargo")
        .args(["build", "--release", "--bin", "newswatch"])
        .status()
        .unwrap();
    assert!(status.success());
    PathBuf::from("target/release/newswatch")
}

/// A temporary directory under `SOURCES_STATE` if set.
fn workdir() -> tempfile::TempDir {
    match std::env::var_os("SOURCES_STATE") {
        Some(d) => tempfile::tempdir_in(d).unwrap(),
        None => tempfile::tempdir().unwrap(),
    }
}

fn write_config(dir: &Path, sites: &Sites, http: &str, schedule: &str) -> PathBuf {
    let text = format!(
        "state_dir = \"{}\"\n[http]\n{http}\n[defaults]\nschedule = \"{schedule}\"\n\
         backfill = \"all\"\n{}{WATCHLIST}",
        dir.join("state").display(),
        sites.sources_toml()
    );
    let p = dir.join("newswatch.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// `/proc/<pid>/stat` utime + stime, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat; `after` starts at field 3.
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Wall, CPU and peak RSS (kB) of a command run to its end.
#[allow(
    clippy::zombie_processes,
    reason = "reaped by wait4, which also gives its CPU time"
)]
async fn measure(cmd: &mut Command) -> (f64, f64, u64, bool) {
    let t = Instant::now();
    let child = cmd.spawn().unwrap();
    let pid = i32::try_from(child.id()).unwrap();
    let mut peak = 0;
    loop {
        peak = peak.max(status_kb(child.id(), "VmHWM:"));
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is our child; the pointers are valid for the call.
        let r = unsafe { libc::wait4(pid, &raw mut status, libc::WNOHANG, &raw mut usage) };
        if r == pid {
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            let cpu = secs(usage.ru_utime) + secs(usage.ru_stime);
            return (
                t.elapsed().as_secs_f64(),
                cpu,
                peak,
                libc::WEXITSTATUS(status) == 0,
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Feeds of `sites` read since `hits_before` requests, counted once each.
fn feeds_read(sites: &Sites, hits_before: usize) -> usize {
    let hits = sites.hits();
    let mut seen: std::collections::HashSet<(usize, String)> = std::collections::HashSet::new();
    for h in &hits[hits_before.min(hits.len())..] {
        if h.path.starts_with("/f/") {
            seen.insert((h.host, h.path.clone()));
        }
    }
    seen.len()
}

async fn once_scan(bin: &Path, who: &str, dir: &Path, cfg: &Path, n: usize) {
    let _ = std::fs::remove_dir_all(dir.join("state"));
    let (wall, cpu, peak, ok) = measure(
        Command::new(bin)
            .arg("--config")
            .arg(cfg)
            .args(["-q", "scan"])
            .stdout(Stdio::null()),
    )
    .await;
    println!(
        "{who} scan {n:>6} sources: {wall:6.2} s wall, {cpu:6.2} s CPU = {:.3} ms CPU/source; peak RSS {:.1} MB; {}",
        cpu * 1e3 / n as f64,
        peak as f64 / 1024.0,
        if ok { "exit 0" } else { "FAILED" }
    );
}

/// Requests for feeds and for pages among `hits`.
fn counts(hits: &[many_hosts::Hit]) -> (usize, usize) {
    let feeds = hits.iter().filter(|h| h.path.starts_with("/f/")).count();
    let pages = hits.iter().filter(|h| h.path.starts_with("/a/")).count();
    (feeds, pages)
}

/// The daemon on a one-minute cron: until every source was read once (its first scans,
/// spread over the minute, each following its article's page), then two minutes more (each
/// source read again every minute, its article known): CPU per scan in each phase.
async fn once_daemon(bin: &Path, who: &str, dir: &Path, cfg: &Path, sites: &Sites, n: usize) {
    let _ = std::fs::remove_dir_all(dir.join("state"));
    let before = sites.hits().len();
    let t = Instant::now();
    let mut child = Command::new(bin)
        .arg("--config")
        .arg(cfg)
        .args(["-q", "run"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak = 0;
    let limit = Duration::from_secs(900);
    while feeds_read(sites, before) < n && t.elapsed() < limit {
        peak = peak.max(status_kb(pid, "VmHWM:"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (first_cpu, first_wall) = (cpu_secs(pid), t.elapsed().as_secs_f64());
    let hits = sites.hits();
    let (f1, p1) = counts(&hits[before..]);
    let mark = hits.len();
    tokio::time::sleep(Duration::from_secs(120)).await;
    let steady_cpu = cpu_secs(pid) - first_cpu;
    let (f2, p2) = counts(&sites.hits()[mark..]);
    peak = peak.max(status_kb(pid, "VmHWM:"));
    let rss = status_kb(pid, "VmRSS:");
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = child.wait();
    println!(
        "{who} run  {n:>6} sources: all read once in {first_wall:6.1} s: {f1} feed and {p1} page requests, CPU {first_cpu:6.2} s = {:.3} ms per scan; then 120 s: {f2} feeds, {p2} pages, CPU {steady_cpu:5.2} s = {:.3} ms per scan; peak RSS {:.1} MB, RSS at end {:.1} MB",
        first_cpu * 1e3 / f1.max(1) as f64,
        steady_cpu * 1e3 / f2.max(1) as f64,
        peak as f64 / 1024.0,
        rss as f64 / 1024.0,
    );
}

async fn once(bins: &[(PathBuf, &str)]) {
    let hosts = env("SOURCES_HOSTS", 100);
    let counts: Vec<usize> = std::env::var("SOURCES_COUNTS")
        .unwrap_or_else(|_| "2500,5000,10000".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    for n in counts {
        let sites = Sites::start(hosts, n.div_ceil(hosts)).await;
        let dir = workdir();
        let cfg = write_config(dir.path(), &sites, "per_host_delay_ms = 0", "* * * * *");
        let n = hosts * n.div_ceil(hosts);
        for (bin, who) in bins {
            once_scan(bin, who, dir.path(), &cfg, n).await;
        }
        if std::env::var("SOURCES_DAEMON").as_deref() == Ok("0") {
            continue;
        }
        for (bin, who) in bins {
            once_daemon(bin, who, dir.path(), &cfg, &sites, n).await;
        }
    }
}

/// One sample of the running daemon.
struct Sample {
    at: Duration,
    cpu: f64,
    rss_kb: u64,
    db_bytes: u64,
}

fn db_bytes(state: &Path) -> u64 {
    ["newswatch.db", "newswatch.db-wal"]
        .iter()
        .map(|f| std::fs::metadata(state.join(f)).map_or(0, |m| m.len()))
        .sum()
}

/// `check`'s wall time on `cfg`, median of five.
fn time_check(bin: &Path, cfg: &Path) -> f64 {
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let ok = Command::new(bin)
                .arg("--config")
                .arg(cfg)
                .arg("check")
                .stdout(Stdio::null())
                .status()
                .unwrap()
                .success();
            assert!(ok, "check failed");
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[2]
}

/// Per cron period: were all feeds read, when was the last one read after the tick, and the
/// shortest gap between two requests to one host (over the whole run).
fn judge(sites: &Sites, start: Instant, tick0: Duration, period: Duration, samples: &[Sample]) {
    let hits = sites.hits();
    let n = sites.hosts * sites.feeds;
    let mut last_by_host: std::collections::HashMap<usize, Instant> =
        std::collections::HashMap::default();
    let (mut min_gap, mut short) = (Duration::MAX, 0usize);
    for h in &hits {
        if let Some(prev) = last_by_host.insert(h.host, h.at) {
            let gap = h.at.duration_since(prev);
            min_gap = min_gap.min(gap);
            short += usize::from(gap < Duration::from_secs(1));
        }
    }
    println!(
        "requests {}; shortest gap between two requests to one host {:.3} s; gaps under 1 s: {short}",
        hits.len(),
        min_gap.as_secs_f64()
    );
    let end = samples.last().map_or(Duration::ZERO, |s| s.at);
    let mut k = 0u32;
    loop {
        let from = tick0 + period * k;
        let to = from + period;
        if to > end {
            break;
        }
        let mut feeds = std::collections::HashSet::new();
        let mut last = Duration::ZERO;
        for h in &hits {
            let at = h.at.duration_since(start);
            if at >= from && at < to && h.path.starts_with("/f/") {
                feeds.insert((h.host, h.path.clone()));
                last = last.max(at.checked_sub(from).unwrap());
            }
        }
        let at = |t: Duration| samples.iter().find(|s| s.at >= t).or(samples.last());
        let (a, b) = (at(from), at(to));
        let cpu = match (a, b) {
            (Some(a), Some(b)) => b.cpu - a.cpu,
            _ => 0.0,
        };
        let rss = samples
            .iter()
            .filter(|s| s.at >= from && s.at < to)
            .map(|s| s.rss_kb)
            .max()
            .unwrap_or(0);
        let missed: Vec<String> = (0..sites.hosts)
            .flat_map(|h| (0..sites.feeds).map(move |f| (h, f)))
            .filter(|&(h, f)| !feeds.contains(&(h, format!("/f/{f}.xml"))))
            .map(|(h, f)| format!("h{h}f{f}"))
            .collect();
        println!(
            "period {k}: {} of {n} feeds read, the last {:.1} s after the tick{}; CPU {cpu:.1} s = {:.3} ms/source; max RSS {:.1} MB; db {:.1} MB at its end",
            feeds.len(),
            last.as_secs_f64(),
            if missed.is_empty() {
                String::new()
            } else {
                format!("; not read: {}", missed.join(" "))
            },
            cpu * 1e3 / n as f64,
            rss as f64 / 1024.0,
            b.map_or(0, |s| s.db_bytes) as f64 / 1e6
        );
        k += 1;
    }
}

/// `SOURCES_COUNT` sources, default politeness, a 15-minute cron, the daemon for
/// `SOURCES_MINUTES`; every feed's item is a new story each period.
async fn daemon(bin: &Path, day: bool) {
    let hosts = env("SOURCES_HOSTS", 100);
    let n = env("SOURCES_COUNT", 10_000);
    // A day in fast motion: 96 periods of `SOURCES_PERIOD` seconds without a politeness delay.
    let (period, minutes, http, cron) = if day {
        let secs = env("SOURCES_PERIOD", 20);
        let cron = format!("*/{secs} * * * * *");
        (
            secs as u64,
            (96 * secs).div_ceil(60) + 1,
            "per_host_delay_ms = 0",
            cron,
        )
    } else {
        (
            900,
            env("SOURCES_MINUTES", 60),
            "",
            "*/15 * * * *".to_owned(),
        )
    };
    let period = Duration::from_secs(period);
    let sites = Sites::start_rotating(hosts, n.div_ceil(hosts), Some(period)).await;
    let dir = workdir();
    let cfg = write_config(dir.path(), &sites, http, &cron);
    println!(
        "{} sources on {hosts} hosts; check on this config: {:.3} s (median of 5)",
        hosts * n.div_ceil(hosts),
        time_check(bin, &cfg)
    );
    let start = Instant::now();
    // The first cron tick after start, as an offset from it.
    let tick0 = until_next_tick(period);
    let mut child = Command::new(bin)
        .arg("--config")
        .arg(&cfg)
        .args(["-q", "run"])
        .stderr(std::fs::File::create(dir.path().join("daemon.log")).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id();
    let state = dir.path().join("state");
    let mut samples = Vec::new();
    while start.elapsed() < Duration::from_secs(60 * minutes as u64) {
        samples.push(Sample {
            at: start.elapsed(),
            cpu: cpu_secs(pid),
            rss_kb: status_kb(pid, "VmRSS:"),
            db_bytes: db_bytes(&state),
        });
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let peak = status_kb(pid, "VmHWM:");
    let running = db_bytes(&state);
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = child.wait();
    println!(
        "ran {minutes} min: CPU {:.1} s, peak RSS {:.1} MB, db {:.1} MB running, {:.1} MB after shutdown (log folded in); first tick {} s after start",
        cpu_secs_last(&samples),
        peak as f64 / 1024.0,
        running as f64 / 1e6,
        db_bytes(&state) as f64 / 1e6,
        tick0.as_secs()
    );
    let first = samples
        .iter()
        .find(|s| s.at >= tick0)
        .map_or(0.0, |s| s.cpu);
    println!("CPU before the first tick (first scans, spread): {first:.1} s");
    judge(&sites, start, tick0, period, &samples);
    let errors = std::fs::read_to_string(dir.path().join("daemon.log")).unwrap_or_default();
    let failed = errors.lines().filter(|l| l.contains("failed")).count();
    println!(
        "daemon log: {} lines, {failed} with \"failed\"",
        errors.lines().count()
    );
}

fn cpu_secs_last(samples: &[Sample]) -> f64 {
    samples.last().map_or(0.0, |s| s.cpu)
}

/// For profiling by hand: `SOURCES_COUNT` sources served until killed, their config printed.
async fn serve() {
    let hosts = env("SOURCES_HOSTS", 100);
    let n = env("SOURCES_COUNT", 10_000);
    let sites = Sites::start(hosts, n.div_ceil(hosts)).await;
    let dir = workdir();
    let http = std::env::var("SOURCES_HTTP").unwrap_or_else(|_| "per_host_delay_ms = 0".into());
    let schedule = std::env::var("SOURCES_CRON").unwrap_or_else(|_| "0 0 1 1 *".into());
    let cfg = write_config(dir.path(), &sites, &http, &schedule);
    println!("serving; config {}", cfg.display());
    tokio::time::sleep(Duration::from_secs(86_400)).await;
}

#[tokio::main]
async fn main() {
    // Thousands of listening sockets: the bench's own descriptor limit up to the hard one.
    // SAFETY: plain getrlimit/setrlimit on this process.
    unsafe {
        let mut l: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut l) == 0 {
            l.rlim_cur = l.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &raw const l);
        }
    }
    let mut bins = vec![(binary(), "newswatch")];
    if let Some(b) = std::env::var_os("SOURCES_BASELINE") {
        bins.insert(0, (PathBuf::from(b), "baseline "));
    }
    println!(
        "load average {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    match std::env::var("SOURCES_MODE").as_deref() {
        Ok("daemon") => daemon(&bins[bins.len() - 1].0, false).await,
        Ok("day") => daemon(&bins[bins.len() - 1].0, true).await,
        Ok("serve") => serve().await,
        _ => once(&bins).await,
    }
    println!(
        "load average {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
}
