//! `newswatch run`: the daemon, wired to signals and to changes of the config file.

use std::sync::Arc;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;
use tracing::error;

use super::{open_store, CmdError, Globals};
use crate::daemon::{self, Control};

/// The daemon: schedules every source and digest until SIGTERM or SIGINT.
///
/// # Errors
/// An invalid config; the database cannot be opened; the daemon fails.
pub async fn run(globals: &Globals) -> Result<(), CmdError> {
    let config = match globals.load_config() {
        Ok(c) => c,
        Err(CmdError::Config(errors)) => {
            // Logged (with the journal's priority), so main must not print them again.
            for e in &errors.0 {
                error!(error = %e, "invalid config");
            }
            return Err(CmdError::Usage(format!(
                "{} config error(s)",
                errors.0.len()
            )));
        }
        Err(e) => return Err(e),
    };
    let store = Arc::new(open_store(&config).await?);
    let (tx, rx) = mpsc::channel(8);
    let mut term = signal(SignalKind::terminate()).map_err(|e| CmdError::Runtime(e.into()))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| CmdError::Runtime(e.into()))?;
    let mut hup = signal(SignalKind::hangup()).map_err(|e| CmdError::Runtime(e.into()))?;
    tokio::spawn(daemon::watch_config(globals.config_path(), tx.clone()));
    tokio::spawn(async move {
        loop {
            let msg = tokio::select! {
                _ = term.recv() => Control::Shutdown,
                _ = int.recv() => Control::Shutdown,
                _ = hup.recv() => Control::Reload,
            };
            if tx.send(msg).await.is_err() || msg == Control::Shutdown {
                return;
            }
        }
    });
    // On the runtime's workers, not on the thread that waits for it: the loop and the scans
    // it starts then hand work to each other without waking a third thread every time.
    let daemon = tokio::spawn(daemon::run(Arc::new(config), store, globals.loader(), rx));
    match daemon.await {
        Ok(r) => r.map_err(|e| CmdError::Runtime(e.into())),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(CmdError::Runtime(e.into())),
    }
}
