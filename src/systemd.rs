//! The systemd notify protocol; every function is a no-op without `NOTIFY_SOCKET`.

use std::time::Duration;

use sd_notify::NotifyState;

/// Sends one notify datagram. The send never blocks: if the manager stopped reading and
/// its queue is full, the message is dropped (and logged at debug) rather than stalling the
/// scheduler loop, which would also stop the watchdog pings that tell systemd we hang.
fn send(states: &[NotifyState<'_>]) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let msg: String = states.iter().fold(String::new(), |mut m, s| {
        m.push_str(&s.to_string());
        m.push('\n');
        m
    });
    if let Err(e) = send_nonblocking(&path, msg.as_bytes()) {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}

fn send_nonblocking(path: &std::ffi::OsStr, msg: &[u8]) -> std::io::Result<()> {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};

    let sock = UnixDatagram::unbound()?;
    sock.set_nonblocking(true)?;
    match path.as_bytes().strip_prefix(b"@") {
        Some(abstract_name) => {
            sock.send_to_addr(msg, &SocketAddr::from_abstract_name(abstract_name)?)?;
        }
        None => {
            sock.send_to(msg, path)?;
        }
    }
    Ok(())
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
/// Read like `sd_watchdog_enabled(3)`: `WATCHDOG_USEC` set and positive, and `WATCHDOG_PID`
/// either unset or this process. (The `sd-notify` crate also requires `WATCHDOG_PID` to be
/// set, which libsystemd does not.) Without `NOTIFY_SOCKET` pings go nowhere, so `None`.
#[must_use]
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
    fn a_full_notify_queue_never_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let _listener = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        // Nobody reads: the queue fills after a few datagrams; later sends must fail fast.
        let t = std::time::Instant::now();
        let mut failed = 0;
        for _ in 0..1000 {
            if send_nonblocking(path.as_os_str(), b"WATCHDOG=1\n").is_err() {
                failed += 1;
            }
        }
        assert!(failed > 0, "the queue should have filled");
        assert!(t.elapsed() < Duration::from_secs(2));
    }

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
