//! Crash-test hooks. With `NEWSWATCH_FAILPOINT=<name>` in the environment, the process
//! stops dead (blocks forever) when it reaches that point, so a test can SIGKILL it
//! exactly there and prove that a restart loses and duplicates nothing; or, for
//! [`PANIC_IN_SCAN`], the first scan panics, so a test can prove the daemon goes on
//! scanning that source. Without the variable every hook is one cached comparison.
//!
//! They exist only in builds with the `failpoints` feature (the crash tests enable it:
//! `cargo test --all-features`); elsewhere every hook is an empty function and the
//! environment variable means nothing.

#[cfg(feature = "failpoints")]
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(feature = "failpoints")]
use std::sync::OnceLock;

pub const ENV: &str = "NEWSWATCH_FAILPOINT";

/// Inside a migration's transaction, its statements run, before it commits.
pub const DURING_MIGRATION: &str = "during-migration";
/// After an article's page was fetched and read, before anything of it is recorded.
pub const AFTER_FOLLOW: &str = "after-follow";
/// After a scan's articles and matches are committed, before any digest is composed.
pub const AFTER_RECORD_SCAN: &str = "after-record-scan";
/// After a digest (Message-ID, bytes) is committed, before the transport sees it.
pub const AFTER_RECORD_DIGEST: &str = "after-record-digest";
/// After the transport accepted a message, before it is marked sent.
pub const AFTER_DELIVER: &str = "after-deliver";
/// At the start of a source's scan: the first one panics (see [`panic_once`]).
pub const PANIC_IN_SCAN: &str = "panic-in-scan";

#[cfg(feature = "failpoints")]
fn armed() -> Option<&'static str> {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    ARMED
        .get_or_init(|| std::env::var(ENV).ok().filter(|v| !v.is_empty()))
        .as_deref()
}

/// Blocks this thread forever if `name` is the armed failpoint.
#[cfg(feature = "failpoints")]
pub fn hit(name: &str) {
    if armed() == Some(name) {
        tracing::warn!(failpoint = name, "failpoint reached; waiting to be killed");
        eprintln!("newswatch: failpoint {name} reached");
        loop {
            std::thread::park();
        }
    }
}

/// Panics the first time it is reached if `name` is the armed failpoint.
///
/// # Panics
/// That is what it is for.
#[cfg(feature = "failpoints")]
pub fn panic_once(name: &str) {
    static FIRED: AtomicBool = AtomicBool::new(false);
    if armed() == Some(name) && !FIRED.swap(true, Ordering::Relaxed) {
        eprintln!("newswatch: failpoint {name} reached");
        panic!("failpoint {name}");
    }
}

/// Without the `failpoints` feature: nothing.
#[cfg(not(feature = "failpoints"))]
#[inline]
pub fn hit(_name: &str) {}

/// Without the `failpoints` feature: nothing.
#[cfg(not(feature = "failpoints"))]
#[inline]
pub fn panic_once(_name: &str) {}
