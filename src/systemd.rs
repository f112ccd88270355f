//! The systemd notify protocol; every function is a no-op without `NOTIFY_SOCKET`.

use std::time::Duration;

use sd_notify::NotifyState;

fn send(states: &[NotifyState<'_>]) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}

/// READY=1: the config is valid and the database open.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// RELOADING=1 with the monotonic timestamp systemd asks for (`Type=notify-reload`).
pub fn reloading() {
    match sd_notify::NotifyState::monotonic_usec_now() {
        Ok(t) => send(&[NotifyState::Reloading, t]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

pub fn status(line: &str) {
    send(&[NotifyState::Status(line)]);
}

pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// Half the watchdog interval systemd expects, when the watchdog is enabled.
///
/// Read like sd_watchdog_enabled(3): `WATCHDOG_USEC` set and positive, and `WATCHDOG_PID`
/// either unset or this process. (The `sd-notify` crate also requires `WATCHDOG_PID` to be
/// set, which libsystemd does not.) Without `NOTIFY_SOCKET` pings go nowhere, so `None`.
pub fn watchdog_interval() -> Option<Duration> {
    std::env::var_os("NOTIFY_SOCKET")?;
    watchdog_from(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

fn watchdog_from(usec: Option<&str>, pid: Option<&str>, me: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok().filter(|&u| u > 0)?;
    if let Some(pid) = pid {
        if pid.trim().parse::<u32>().ok() != Some(me) {
            return None;
        }
    }
    Some(Duration::from_micros(usec / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_env_is_read_like_libsystemd() {
        let half = Some(Duration::from_millis(200));
        let cases = [
            ("pid unset", Some("400000"), None, half),
            ("pid is us", Some("400000"), Some("42"), half),
            ("pid is another process", Some("400000"), Some("41"), None),
            ("pid garbage", Some("400000"), Some("x"), None),
            ("usec unset", None, Some("42"), None),
            ("usec zero", Some("0"), None, None),
            ("usec garbage", Some("soon"), None, None),
        ];
        for (name, usec, pid, want) in cases {
            assert_eq!(watchdog_from(usec, pid, 42), want, "{name}");
        }
    }
}
