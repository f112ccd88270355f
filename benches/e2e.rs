//! `cargo bench --bench e2e`: newswatch against urlwatch, end to end, in the same run (issue 21).
//!
//! A static site of 2,000 article pages behind 20 RSS feeds (100 items each) is written to a
//! temporary directory and served by nginx on 127.0.0.1 (one worker, keep-alive, no access
//! log). Then, in interleaved rounds:
//! - `newswatch scan --dry-run --json` (the release binary; `per_host_delay_ms = 0`,
//!   `per_host_concurrency = 4`, a fresh state directory each round) reads the 20 feeds and
//!   follows every item to its page: articles per second (wall), articles per CPU-second
//!   (user + system of the process), peak RSS, and whether its matches are exactly the site's
//!   (the pages written to match the watchlist, each once, nothing else);
//! - urlwatch (from `PyPI`, `$URLWATCH`, default `/work/venv-urlwatch/bin/urlwatch`) checks the
//!   same 2,020 URLs (one job each, no filter, a fresh cache each round: every job is new and
//!   stored): pages per second, CPU, peak RSS, and that no job failed.
//!
//! The ratio printed is urlwatch's wall time over newswatch's for the same URLs. nginx comes
//! from `$NGINX` or `/usr/sbin/nginx` (Debian: `apt-get install nginx-light`). `E2E_ROUNDS`
//! (default 5), `E2E_CONCURRENCY` (default 4) and `E2E_ONLY=newswatch` change the run;
//! `E2E_BASELINE=<another newswatch binary>` runs it too, round for round.

use std::fmt::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FEEDS: usize = 20;
const PER_FEED: usize = 100;
const ARTICLES: usize = FEEDS * PER_FEED;

/// The same pages as `benches/scan.rs`: one in three English (no match), the others Arabic
/// or French reports of a withdrawal from Niger (a match of the watchlist below).
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

fn matches_watchlist(i: usize) -> bool {
    i % 3 != 2
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

fn write_site(root: &Path, base: &str) {
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::fs::create_dir_all(root.join("feed")).unwrap();
    for i in 0..ARTICLES {
        std::fs::write(root.join(format!("a/{i}.html")), article_page(i)).unwrap();
    }
    for f in 0..FEEDS {
        std::fs::write(root.join(format!("feed/{f}.xml")), feed(base, f)).unwrap();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// nginx in the foreground (`daemon off;`) on `port`, serving `root`, in a process group of
/// its own; the whole group is killed when the guard drops. Killing only the master (as
/// `Child::kill` does) left its worker running after the bench: SIGKILL gives the master no
/// chance to stop its workers, and they do not notice its death.
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        // The master leads the group (`process_group(0)` below), so its pid is the group's
        // id; the group is signalled before the master is reaped, while that id is still
        // the group's.
        if let Ok(pgid) = i32::try_from(self.0.id()) {
            // SAFETY: killpg has no memory-safety preconditions.
            unsafe { libc::killpg(pgid, libc::SIGKILL) };
        }
        let _ = self.0.wait();
    }
}

fn start_nginx(dir: &Path, root: &Path, port: u16) -> Nginx {
    let nginx = std::env::var("NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".into());
    // As root, workers would switch to `nobody`, who cannot read the temporary directory.
    // SAFETY: geteuid has no preconditions.
    let user = if unsafe { libc::geteuid() } == 0 {
        "user root;"
    } else {
        ""
    };
    let d = dir.display();
    let conf = format!(
        "{user}\ndaemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/nginx-error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n access_log off;\n keepalive_requests 100000;\n\
          types {{ text/html html; application/rss+xml xml; }}\n default_type text/plain;\n\
          client_body_temp_path {d}/t1; proxy_temp_path {d}/t2; fastcgi_temp_path {d}/t3;\n\
          uwsgi_temp_path {d}/t4; scgi_temp_path {d}/t5;\n\
          server {{ listen 127.0.0.1:{port}; root {}; }}\n}}\n",
        root.display()
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let mut cmd = Command::new(&nginx);
    // Its own group keeps Ctrl-C on the bench from reaching it; if the bench dies without
    // dropping the guard (Ctrl-C, a kill), the master gets SIGTERM (nginx's fast shutdown,
    // which stops its workers) when the thread that started it ends.
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let child = cmd
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .arg("-e")
        .arg(dir.join("nginx-error.log"))
        .stdout(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {nginx}: {e} (Debian: apt-get install nginx-light)"));
    let guard = Nginx(child);
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(5), "nginx did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    guard
}

fn newswatch_config(dir: &Path, base: &str, concurrency: usize) -> PathBuf {
    let mut s = format!(
        "state_dir = \"{}\"\n[http]\nper_host_delay_ms = 0\nper_host_concurrency = {concurrency}\n\
         [defaults]\nbackfill = \"all\"\n",
        dir.join("state").display()
    );
    for f in 0..FEEDS {
        let _ = write!(
            s,
            "[[source]]\nname = \"feed{f}\"\nurl = \"{base}/feed/{f}.xml\"\n"
        );
    }
    s.push_str("[[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\", \"النيجر\", \"Agadez\", \"أغاديز\"]\nrequire = [\"withdrawal\", \"retrait\", \"انسحاب\"]\nto = [\"a@example.org\"]\n");
    let p = dir.join("newswatch.toml");
    std::fs::write(&p, s).unwrap();
    p
}

fn urlwatch_files(dir: &Path, base: &str) -> PathBuf {
    let mut s = String::new();
    for f in 0..FEEDS {
        let _ = write!(s, "name: \"feed{f}\"\nurl: \"{base}/feed/{f}.xml\"\n---\n");
    }
    for i in 0..ARTICLES {
        let _ = write!(s, "name: \"a{i}\"\nurl: \"{base}/a/{i}.html\"\n---\n");
    }
    let urls = dir.join("urls.yaml");
    std::fs::write(&urls, s.trim_end_matches("---\n")).unwrap();
    urls
}

/// What one run of a program cost.
struct Cost {
    wall: f64,
    cpu: f64,
    peak_kb: u64,
    exit: i32,
}

fn vm_hwm_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Runs `cmd` to its end, sampling its peak RSS; its CPU time from `wait4`.
#[allow(
    clippy::zombie_processes,
    reason = "reaped by wait4, which also gives its CPU time"
)]
fn measure(cmd: &mut Command) -> Cost {
    let t = Instant::now();
    let child = cmd.spawn().unwrap();
    let pid = i32::try_from(child.id()).unwrap();
    let mut peak = 0;
    loop {
        peak = peak.max(vm_hwm_kb(child.id()));
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is our child; the pointers are valid for the call.
        let r = unsafe { libc::wait4(pid, &raw mut status, libc::WNOHANG, &raw mut usage) };
        if r == pid {
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            return Cost {
                wall: t.elapsed().as_secs_f64(),
                cpu: secs(usage.ru_utime) + secs(usage.ru_stime),
                peak_kb: peak,
                exit: libc::WEXITSTATUS(status),
            };
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Whether the scan's JSON lines are exactly the site's matches, each once.
fn exact(out: &Path, base: &str) -> Result<usize, String> {
    let text = std::fs::read_to_string(out).unwrap();
    let mut got: Vec<String> = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        if v.get("error").is_some() {
            return Err(format!("source failed: {line}"));
        }
        got.push(v["url"].as_str().unwrap_or_default().to_owned());
    }
    got.sort();
    let mut want: Vec<String> = (0..ARTICLES)
        .filter(|&i| matches_watchlist(i))
        .map(|i| format!("{base}/a/{i}.html"))
        .collect();
    want.sort();
    if got == want {
        Ok(got.len())
    } else {
        Err(format!("{} matches, expected {}", got.len(), want.len()))
    }
}

fn binary() -> PathBuf {
    let status = Command::new("cargo")
        .args(["build", "--release", "--bin", "newswatch"])
        .status()
        .unwrap();
    assert!(status.success());
    PathBuf::from("target/release/newswatch")
}

fn run_newswatch(bin: &Path, dir: &Path, cfg: &Path, base: &str, round: usize, who: &str) -> Cost {
    let _ = std::fs::remove_dir_all(dir.join("state"));
    let out = dir.join(format!("newswatch-{round}.jsonl"));
    // To a file, not a pipe: a pipe nobody reads fills up and stalls the scan.
    let cost = measure(
        Command::new(bin)
            .arg("--config")
            .arg(cfg)
            .args(["-q", "scan", "--dry-run", "--json"])
            .stdout(std::fs::File::create(&out).unwrap()),
    );
    let verdict = match exact(&out, base) {
        Ok(n) => format!("{n} matches, exact"),
        Err(e) => format!("NOT EXACT: {e}"),
    };
    println!(
        "round {round} {who}: {ARTICLES} articles in {:.3} s = {:.0} articles/s; CPU {:.3} s = {:.0} articles/CPU-s; peak RSS {:.1} MB; exit {}; {verdict}",
        cost.wall,
        ARTICLES as f64 / cost.wall,
        cost.cpu,
        ARTICLES as f64 / cost.cpu,
        cost.peak_kb as f64 / 1024.0,
        cost.exit
    );
    cost
}

fn run_urlwatch(urlwatch: &str, dir: &Path, urls: &Path, round: usize) -> Cost {
    let cache = dir.join("cache.db");
    let _ = std::fs::remove_file(&cache);
    let out = dir.join(format!("urlwatch-{round}.txt"));
    let cost = measure(
        Command::new(urlwatch)
            .arg("--urls")
            .arg(urls)
            .arg("--config")
            .arg(dir.join("urlwatch.yaml"))
            .arg("--hooks")
            .arg(dir.join("hooks.py"))
            .arg("--cache")
            .arg(&cache)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(Stdio::null()),
    );
    let report = std::fs::read_to_string(&out).unwrap_or_default();
    let new = report.lines().filter(|l| l.contains("NEW: ")).count();
    let errors = report.lines().filter(|l| l.contains("ERROR: ")).count();
    let pages = FEEDS + ARTICLES;
    println!(
        "round {round} urlwatch:  {pages} pages in {:.3} s = {:.0} pages/s; CPU {:.3} s = {:.0} pages/CPU-s; peak RSS {:.1} MB; exit {}; {new} new, {errors} errors",
        cost.wall,
        pages as f64 / cost.wall,
        cost.cpu,
        pages as f64 / cost.cpu,
        cost.peak_kb as f64 / 1024.0,
        cost.exit
    );
    cost
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let bin = binary();
    let urlwatch =
        std::env::var("URLWATCH").unwrap_or_else(|_| "/work/venv-urlwatch/bin/urlwatch".into());
    let only_newswatch = std::env::var("E2E_ONLY").is_ok_and(|v| v == "newswatch");
    let rounds = env("E2E_ROUNDS", 5);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    write_site(&dir.path().join("site"), &base);
    let _nginx = start_nginx(dir.path(), &dir.path().join("site"), port);
    let cfg = newswatch_config(dir.path(), &base, env("E2E_CONCURRENCY", 4));
    let urls = urlwatch_files(dir.path(), &base);
    println!(
        "site: {FEEDS} feeds x {PER_FEED} articles on nginx at {base}; load average {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    let (mut ratios, mut ours, mut per_cpu, mut theirs) = (vec![], vec![], vec![], vec![]);
    // Another build, interleaved with this one round for round (the VM's speed drifts).
    let baseline = std::env::var_os("E2E_BASELINE").map(PathBuf::from);
    let mut base_rates = vec![];
    for round in 0..rounds {
        if let Some(b) = &baseline {
            let c = run_newswatch(b, dir.path(), &cfg, &base, round, "baseline");
            base_rates.push(ARTICLES as f64 / c.wall);
        }
        let n = run_newswatch(&bin, dir.path(), &cfg, &base, round, "newswatch");
        ours.push(ARTICLES as f64 / n.wall);
        per_cpu.push(ARTICLES as f64 / n.cpu);
        if only_newswatch {
            continue;
        }
        let u = run_urlwatch(&urlwatch, dir.path(), &urls, round);
        theirs.push((FEEDS + ARTICLES) as f64 / u.wall);
        ratios.push(u.wall / n.wall);
        println!(
            "round {round} ratio: urlwatch wall / newswatch wall = {:.2}",
            u.wall / n.wall
        );
    }
    println!(
        "median of {rounds}: newswatch {:.0} articles/s ({:.0} articles/CPU-s)",
        median(ours),
        median(per_cpu)
    );
    if !base_rates.is_empty() {
        println!(
            "median of {rounds}: baseline {:.0} articles/s",
            median(base_rates)
        );
    }
    if !only_newswatch {
        println!(
            "median of {rounds}: urlwatch {:.0} pages/s; ratio {:.2} (min {:.2}, max {:.2})",
            median(theirs),
            median(ratios.clone()),
            ratios.iter().copied().fold(f64::INFINITY, f64::min),
            ratios.iter().copied().fold(0.0, f64::max)
        );
    }
    println!(
        "load average {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    // For profiling by hand: the site stays up this long, its config printed.
    if let Some(secs) = std::env::var("E2E_HOLD").ok().and_then(|v| v.parse().ok()) {
        println!("serving {base} for {secs} s; config {}", cfg.display());
        std::thread::sleep(Duration::from_secs(secs));
    }
}
