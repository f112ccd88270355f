//! Issue 21: 10,000 sources start under a 1,024-descriptor limit. Each source is a one-item
//! feed on a loopback address of its own (127.1.x.y), robots.txt asked and the article page
//! followed, as a default config does. The daemon (the real binary, its descriptor limit set
//! to 1,024 soft and hard before it starts) must read every source without "too many open
//! files" (it used to fail 1,522 of them: every host's connection stayed open in the pool),
//! and must not start them all at once.

mod support;

use std::collections::HashSet;
use std::os::unix::process::CommandExt as _;
use std::time::{Duration, Instant};

use support::daemon::{run_command, signal, stderr_lines, Guard};
use support::many_hosts::{until_next_tick, Sites, WATCHLIST};

const SOURCES: usize = 10_000;
/// The descriptor limit the daemon runs under, soft and hard (systemd's default soft limit).
const NOFILE: u64 = 1024;
/// Descriptors this process asks for: a listening socket per host and one per connection.
const WANTED_NOFILE: u64 = 16_384;
/// The first scans are spread over this (the cron's period).
const PERIOD: &str = "*/10 * * * * *";

/// This test process holds a listening socket per host and one per connection accepted:
/// its own soft limit goes up to the hard one.
fn raise_own_limit() -> u64 {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct they are given.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut l), 0);
        // Root (CI) may raise the hard limit too; anyone may raise the soft one to it.
        let wanted = l.rlim_max.max(WANTED_NOFILE);
        let raised = libc::rlimit {
            rlim_cur: wanted,
            rlim_max: wanted,
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raw const raised) == 0 {
            return wanted;
        }
        l.rlim_cur = l.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &raw const l), 0);
    }
    l.rlim_cur
}

/// The state directory: in memory when the machine has one (`/dev/shm`), so 10,000 scans'
/// commits wait on no disk; the test is about descriptors.
fn state_parent() -> tempfile::TempDir {
    tempfile::Builder::new()
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .expect("a temp dir")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario: sites, config, a daemon under a limit, its log and its database"
)]
async fn issue_21_ten_thousand_sources_under_1024_descriptors() {
    let own = raise_own_limit();
    // One host per source when this process may hold that many sockets; else fewer hosts,
    // still far more than the daemon's 1,024 descriptors.
    let hosts = SOURCES.min(
        usize::try_from(own)
            .unwrap_or(usize::MAX)
            .saturating_sub(3000)
            / 100
            * 100,
    );
    assert!(
        hosts >= 2 * usize::try_from(NOFILE).unwrap(),
        "this test needs a hard limit of 5,100 descriptors or more, found {own}"
    );
    let sites = Sites::start(hosts, SOURCES / hosts).await;

    let dir = state_parent();
    let state = dir.path().join("state");
    let config = dir.path().join("newswatch.toml");
    let text = format!(
        "state_dir = \"{}\"\n[http]\nper_host_delay_ms = 0\ntimeout_secs = 20\n\
         [defaults]\nschedule = \"{PERIOD}\"\nbackfill = \"all\"\n{}{WATCHLIST}",
        state.display(),
        sites.sources_toml()
    );
    std::fs::write(&config, text).unwrap();

    let mut cmd = run_command(&config, &state);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let l = libc::rlimit {
                rlim_cur: NOFILE,
                rlim_max: NOFILE,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raw const l) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let t = Instant::now();
    let mut child = Guard(cmd.spawn().expect("spawning newswatch"));
    let lines = stderr_lines(&mut child.0);

    let mut log = Vec::new();
    let mut read: HashSet<(usize, String)> = HashSet::new();
    let mut seen_hits = 0;
    let mut first_second = None;
    while read.len() < SOURCES {
        assert!(
            t.elapsed() < Duration::from_secs(240),
            "only {} of {SOURCES} sources read in 240 s",
            read.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        log.extend(lines.try_iter());
        let hits = sites.hits();
        for h in &hits[seen_hits..] {
            if h.path.starts_with("/f/") {
                read.insert((h.host, h.path.clone()));
            }
        }
        seen_hits = hits.len();
        if first_second.is_none() && t.elapsed() >= Duration::from_secs(1) {
            first_second = Some(read.len());
        }
    }
    let took = t.elapsed();
    // The scans that read the last feeds record them.
    tokio::time::sleep(Duration::from_secs(2)).await;
    signal(&child.0, "TERM");
    let _ = child.0.wait();
    log.extend(lines.try_iter());

    let emfile: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("too many open files") || l.contains("os error 24"))
        .collect();
    assert!(
        emfile.is_empty(),
        "{} lines like: {:?}",
        emfile.len(),
        emfile.first()
    );
    let failed: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("source fetch failed"))
        .collect();
    assert!(
        failed.is_empty(),
        "{} sources failed, like: {:?}",
        failed.len(),
        failed.first()
    );
    // A herd would have asked for most of them in the first second (it did: 9,832 scans were
    // in flight 20 s after start); spread over the period, about a tenth is due by then.
    let early = first_second.unwrap_or(SOURCES);
    assert!(
        early < SOURCES / 4,
        "{early} sources read in the first second"
    );

    let db = rusqlite::Connection::open(state.join("newswatch.db")).unwrap();
    let (scanned, failing): (i64, i64) = db
        .query_row(
            "SELECT COUNT(last_success_at), COALESCE(SUM(consecutive_failures > 0), 0) FROM sources",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((scanned, failing), (i64::try_from(SOURCES).unwrap(), 0));
    eprintln!("{SOURCES} sources on {hosts} hosts read in {took:?}, {early} in the first second");
}

/// Issue 21, at small scale: 200 sources (more than the 64 scanned at once, so their first
/// scans are spread over the period) on 20 hosts, a 10-second cron, a politeness delay of
/// 200 ms. Every source is read within the first full period after start — a first scan that
/// began before the tick and ended after it used to be due a tick later, so the source went
/// a whole period unread (11 of 10,000 at 15 minutes) — and no host sees two requests closer
/// than the delay (it saw 0.996 s for 1 s: the gate spaced the requests' starts, the host
/// times their arrivals).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_21_every_source_read_in_its_period_and_the_delay_held_at_the_host() {
    const HOSTS: usize = 20;
    const FEEDS: usize = 10;
    const DELAY: Duration = Duration::from_millis(200);
    let period = Duration::from_secs(10);
    let sites = Sites::start(HOSTS, FEEDS).await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let state = dir.path().join("state");
    let config = dir.path().join("newswatch.toml");
    let text = format!(
        "state_dir = \"{}\"\n[http]\nper_host_delay_ms = {}\n\
         [defaults]\nschedule = \"{PERIOD}\"\nbackfill = \"all\"\n{}{WATCHLIST}",
        state.display(),
        DELAY.as_millis(),
        sites.sources_toml()
    );
    std::fs::write(&config, text).unwrap();

    let start = Instant::now();
    // The first cron tick after start, as an offset from it.
    let tick0 = until_next_tick(period);
    let mut child = Guard(
        run_command(&config, &state)
            .spawn()
            .expect("spawning newswatch"),
    );
    let lines = stderr_lines(&mut child.0);
    tokio::time::sleep(
        (tick0 + period + Duration::from_millis(300)).saturating_sub(start.elapsed()),
    )
    .await;
    signal(&child.0, "TERM");
    let _ = child.0.wait();
    let log: Vec<String> = lines.try_iter().collect();

    let hits = sites.hits();
    let (from, to) = (start + tick0, start + tick0 + period);
    let read: HashSet<(usize, &str)> = hits
        .iter()
        .filter(|h| h.at >= from && h.at < to && h.path.starts_with("/f/"))
        .map(|h| (h.host, h.path.as_str()))
        .collect();
    let missed: Vec<String> = (0..HOSTS)
        .flat_map(|h| (0..FEEDS).map(move |f| (h, f)))
        .filter(|&(h, f)| !read.contains(&(h, format!("/f/{f}.xml").as_str())))
        .map(|(h, f)| format!("h{h}f{f}"))
        .collect();
    assert!(
        missed.is_empty(),
        "{} of {} sources not read in the first full period: {missed:?}; log: {:?}",
        missed.len(),
        HOSTS * FEEDS,
        log.iter().rev().take(5).collect::<Vec<_>>()
    );

    let mut last: std::collections::HashMap<usize, Instant> = std::collections::HashMap::new();
    let mut shortest = Duration::MAX;
    for h in &hits {
        if let Some(prev) = last.insert(h.host, h.at) {
            shortest = shortest.min(h.at.duration_since(prev));
        }
    }
    assert!(
        shortest >= DELAY,
        "a host saw two requests {shortest:?} apart, the delay is {DELAY:?}"
    );
    eprintln!(
        "{} requests; all {} sources read in the first full period; shortest gap at a host {shortest:?}",
        hits.len(),
        HOSTS * FEEDS
    );
}

/// A scan's record gives its source's claim back in its own transaction (issue 21). A scan
/// that crosses a tick of its cron leaves the source due at once, so the next claim round
/// may take it again before the daemon has seen that scan end: the daemon must then start it
/// again when it does. The first build with the release in the record skipped such a source
/// as "still running" and kept renewing its claim, so it was never read again
/// (`issue_21_every_source_read_in_its_period…` above missed 2 of 200 in a CI run). Here a
/// one-second cron and a 150 ms delay make most scans cross a tick: every source must still
/// be read in each of the last seconds of the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_21_a_source_claimed_again_while_its_scan_ends_is_read_again() {
    const HOSTS: usize = 12;
    const FEEDS: usize = 3;
    const RUN: Duration = Duration::from_secs(9);
    let sites = Sites::start(HOSTS, FEEDS).await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let state = dir.path().join("state");
    let config = dir.path().join("newswatch.toml");
    let text = format!(
        "state_dir = \"{}\"\n[http]\nper_host_delay_ms = 150\n\
         [defaults]\nschedule = \"* * * * * *\"\nbackfill = \"all\"\n{}{WATCHLIST}",
        state.display(),
        sites.sources_toml()
    );
    std::fs::write(&config, text).unwrap();
    let start = Instant::now();
    let mut child = Guard(
        run_command(&config, &state)
            .spawn()
            .expect("spawning newswatch"),
    );
    let lines = stderr_lines(&mut child.0);
    tokio::time::sleep(RUN).await;
    signal(&child.0, "TERM");
    let _ = child.0.wait();
    let log: Vec<String> = lines.try_iter().collect();

    let hits = sites.hits();
    // Each of the last four whole seconds before the end (9 s): which sources were read in it.
    let mut unread = Vec::new();
    for second in 4..8 {
        let (from, to) = (
            start + Duration::from_secs(second),
            start + Duration::from_secs(second + 1),
        );
        let read: HashSet<(usize, &str)> = hits
            .iter()
            .filter(|h| h.at >= from && h.at < to && h.path.starts_with("/f/"))
            .map(|h| (h.host, h.path.as_str()))
            .collect();
        for (h, f) in (0..HOSTS).flat_map(|h| (0..FEEDS).map(move |f| (h, f))) {
            if !read.contains(&(h, format!("/f/{f}.xml").as_str())) {
                unread.push(format!("second {second}: h{h}f{f}"));
            }
        }
    }
    // A host's turn may slip a source by a second now and then; a source left claimed is
    // unread in all four.
    let stuck: Vec<&String> = unread
        .iter()
        .filter(|u| {
            let name = u.split(": ").nth(1).unwrap_or_default();
            unread
                .iter()
                .filter(|v| v.ends_with(&format!(": {name}")))
                .count()
                == 4
        })
        .collect();
    assert!(
        stuck.is_empty(),
        "sources never read again: {stuck:?}; log: {:?}",
        log.iter().rev().take(5).collect::<Vec<_>>()
    );
    assert!(
        unread.len() <= 2 * HOSTS * FEEDS,
        "{} of {} source-seconds unread: {unread:?}",
        unread.len(),
        4 * HOSTS * FEEDS
    );
}
