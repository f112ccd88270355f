//! The `newswatch` binary run to the end, as a user runs it: exit code, stdout and stderr.
//!
//! Every command starts from an environment without what would change the binary's
//! behaviour behind the test's back (a config named by `NEWSWATCH_CONFIG`, `RUST_LOG`, a
//! failpoint, systemd's sockets, an SMTP password); a test sets what it needs on top.

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Variables a test run of the binary starts without.
const CLEARED: [&str; 9] = [
    "NEWSWATCH_CONFIG",
    "RUST_LOG",
    "NEWSWATCH_FAILPOINT",
    "NOTIFY_SOCKET",
    "JOURNAL_STREAM",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "NEWSWATCH_SMTP_PASSWORD",
    "CREDENTIALS_DIRECTORY",
];

/// What a run printed, and how it ended.
#[derive(Debug)]
pub struct Output {
    /// `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// The binary, with the environment cleaned (see the module's doc).
pub fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_newswatch"));
    for var in CLEARED {
        cmd.env_remove(var);
    }
    cmd
}

/// `newswatch --config CONFIG ARGS…`, not yet run.
pub fn with_config(config: &Path, args: &[&str]) -> Command {
    let mut cmd = command();
    cmd.arg("--config").arg(config).args(args);
    cmd
}

/// Runs `cmd` to the end.
pub fn output(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run newswatch");
    Output {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// `newswatch ARGS…` (no `--config`), run to the end.
pub fn run(args: &[&str]) -> Output {
    output(command().args(args))
}

/// `newswatch --config CONFIG ARGS…`, run to the end.
pub fn newswatch(config: &Path, args: &[&str]) -> Output {
    output(&mut with_config(config, args))
}

/// What `--json` printed: one JSON value a line.
pub fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a JSON line: {e}: {l}")))
        .collect()
}

/// Runs `cmd` to the end with stdout piped and stderr dropped, sampling its peak resident
/// set every 2 ms: (exit code, stdout, peak RSS in kB, wall time). Blocks the thread.
pub fn output_with_peak_rss(cmd: &mut Command) -> (Option<i32>, String, u64, Duration) {
    let t = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn newswatch");
    // Drain stdout meanwhile: a full pipe would stall the child.
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).expect("read stdout");
        out
    });
    let pid = child.id();
    let mut peak = 0;
    // The zombie keeps /proc/<pid>/status readable until it is reaped below.
    while child.try_wait().expect("try_wait").is_none() {
        peak = peak.max(vm_hwm_kb(pid));
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = child.wait().expect("wait");
    let took = t.elapsed();
    let out = reader.join().expect("reader thread");
    (status.code(), out, peak, took)
}

/// `VmHWM` (peak resident set) of a live process in kB, 0 once it is gone.
///
/// Not `wait4`'s `ru_maxrss`: Linux carries the high-water mark of the mm replaced at
/// `execve` into it, and std spawns with `CLONE_VM`, so that figure includes the parent's RSS.
pub fn vm_hwm_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
