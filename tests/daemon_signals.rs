//! The real binary as a daemon: SIGHUP reloads (an invalid config keeps the old one),
//! SIGTERM exits 0 within 10 seconds.

mod support;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::cli::newswatch;
use support::daemon::{exits_within, run_command, signal, stderr_lines, wait_line, Guard};

/// Waits up to 15 s for a log line containing `needle`, adding what it reads to `seen`.
fn wait_for(rx: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) {
    wait_line(rx, needle, Duration::from_secs(15), seen);
}

const CONFIG: &str = r#"
timezone = "UTC"
[mail]
transport = "file"
[[watchlist]]
name = "niger"
keywords = ["Niger"]
to = ["a@example.org"]
"#;

/// The daemon on [`CONFIG`] in a temp dir, once it logged that it runs.
fn start() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    Guard,
    mpsc::Receiver<String>,
    Vec<String>,
) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("newswatch.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let mut guard = Guard(
        run_command(&cfg, &dir.path().join("state"))
            .spawn()
            .unwrap(),
    );
    let rx = stderr_lines(&mut guard.0);
    let mut seen = Vec::new();
    wait_for(&rx, "newswatch running", &mut seen);
    (dir, cfg, guard, rx, seen)
}

#[test]
fn sighup_reloads_and_sigterm_exits_zero() {
    let (dir, cfg, mut guard, rx, mut seen) = start();
    let child = &mut guard.0;
    assert!(
        dir.path().join("state").join("newswatch.db").exists(),
        "--state-dir is honoured"
    );

    // A broken config: every error is logged with file:line:column, the old config stays.
    std::fs::write(
        &cfg,
        format!("{CONFIG}\nbogus = 1\n[http]\ntimeout_secs = 0\n"),
    )
    .unwrap();
    signal(child, "HUP");
    wait_for(&rx, "timeout_secs", &mut seen);
    let log = seen.join("\n");
    assert!(log.contains("unknown key `watchlist.0.bogus`"), "{log}");
    assert!(log.contains(&format!("{}:", cfg.display())), "{log}");
    assert!(
        child.try_wait().unwrap().is_none(),
        "still running on the old config"
    );

    // A valid config is taken.
    std::fs::write(
        &cfg,
        CONFIG.replace("[\"Niger\"]", "[\"Niger\", \"Agadez\"]"),
    )
    .unwrap();
    signal(child, "HUP");
    wait_for(&rx, "config reloaded", &mut seen);

    signal(child, "TERM");
    assert_eq!(exits_within(child, Duration::from_secs(10)).code(), Some(0));
}

#[test]
fn run_refuses_an_invalid_config_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("newswatch.toml");
    std::fs::write(&cfg, "[[source]]\nname = \"x\"\nurl = \"notaurl\"\n").unwrap();
    let out = newswatch(&cfg, &["run"]);
    assert_eq!(out.code, Some(2));
    let err = out.stderr;
    assert!(err.contains(&format!("{}:3:7", cfg.display())), "{err}");
}

#[test]
fn config_edit_on_disk_reloads_without_a_signal() {
    let (_dir, cfg, mut guard, rx, mut seen) = start();
    let child = &mut guard.0;

    // An editor that writes in two steps: one reload, of the finished file.
    let t = Instant::now();
    std::fs::write(&cfg, format!("{CONFIG}\n# half")).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(
        &cfg,
        CONFIG.replace("[\"Niger\"]", "[\"Niger\", \"Agadez\"]"),
    )
    .unwrap();
    wait_for(&rx, "config reloaded", &mut seen);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "reloaded {:?} after the edit; polls every 2 s plus 0.5 s of quiet",
        t.elapsed()
    );
    // A broken edit is logged with its location; the daemon keeps running.
    std::fs::write(&cfg, format!("{CONFIG}\nbogus = 1\n")).unwrap();
    wait_for(&rx, "unknown key `watchlist.0.bogus`", &mut seen);
    assert!(child.try_wait().unwrap().is_none());
    let log = seen.join("\n");
    assert_eq!(
        log.matches("config reloaded").count(),
        1,
        "one reload per edit:\n{log}"
    );

    signal(child, "TERM");
    assert_eq!(exits_within(child, Duration::from_secs(10)).code(), Some(0));
}
