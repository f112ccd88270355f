//! The real `newswatch` binary as a child process: kill it if a test fails half-way, send it
//! signals, read its log lines, and wait for it to exit in bounded time.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::cli;

/// Kills the daemon when dropped, so no process outlives a failed test (a leaked child
/// holding the test's output pipe would also hang `cargo test | tail`).
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends `sig` (`"HUP"`, `"TERM"`, `"KILL"`, …) with kill(1).
pub fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(ok.success(), "kill -{sig} failed");
}

/// The child's stderr, line by line, read on a background thread.
pub fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let err = child.stderr.take().expect("stderr piped");
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Waits for the child to exit; panics if it takes longer than `limit`.
pub fn exits_within(child: &mut Child, limit: Duration) -> ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(t.elapsed() < limit, "must exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `newswatch --config CONFIG --state-dir STATE run` in the clean environment of
/// [`cli::command`] (outside systemd: no `NOTIFY_SOCKET`, no `JOURNAL_STREAM`; no failpoint),
/// logging at info to a piped stderr. Callers add their own env.
pub fn run_command(config: &Path, state_dir: &Path) -> Command {
    let mut cmd = cli::command();
    cmd.arg("--config")
        .arg(config)
        .arg("--state-dir")
        .arg(state_dir)
        .arg("run")
        .env("RUST_LOG", "newswatch=info")
        .stderr(std::process::Stdio::piped());
    cmd
}

/// The daemon on `config`, its state in `state/` next to it, stopped at `failpoint` if one
/// is named; its log lines come on the receiver.
pub fn spawn(config: &Path, failpoint: Option<&str>) -> (Guard, mpsc::Receiver<String>) {
    let state = config
        .parent()
        .expect("the config is in a directory")
        .join("state");
    let mut cmd = run_command(config, &state);
    if let Some(f) = failpoint {
        cmd.env("NEWSWATCH_FAILPOINT", f);
    }
    let mut child = cmd.spawn().expect("spawn newswatch");
    let rx = stderr_lines(&mut child);
    (Guard(child), rx)
}

/// Reads log lines from `rx` until one contains `needle`; each line read, that one too, is
/// added to `seen`. Panics with them if none does within `limit`.
pub fn wait_line(
    rx: &mpsc::Receiver<String>,
    needle: &str,
    limit: Duration,
    seen: &mut Vec<String>,
) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            let hit = l.contains(needle);
            seen.push(l);
            if hit {
                return;
            }
        }
    }
    panic!("never logged {needle:?}; log so far:\n{}", seen.join("\n"));
}
