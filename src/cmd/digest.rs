//! `newswatch digest`: prints the pending digests, or mails them with `--send`.

use chrono::Utc;

use super::{open_store, CmdError, Globals};
use crate::mail::Transport;
use crate::outbox;

pub async fn run(globals: &Globals, names: &[String], send: bool) -> Result<(), CmdError> {
    let config = globals.load_config()?;
    let mut indices = Vec::new();
    for n in names {
        match config.watchlist_index(n) {
            Some(i) => indices.push(i),
            None => return Err(CmdError::Usage(format!("unknown watchlist {n:?}"))),
        }
    }
    if indices.is_empty() {
        indices = (0..config.watchlists.len()).collect();
    }
    let store = open_store(&config)?;
    let now = Utc::now();
    if send {
        let transport = Transport::from_config(&config.mail, &config.outbox_dir())
            .map_err(|e| CmdError::Runtime(e.into()))?;
        for &i in &indices {
            let n = outbox::compose_digest(&config, &store, i, now)
                .map_err(|e| CmdError::Runtime(e.into()))?;
            let name = &config.watchlists[i].name;
            if n == 0 {
                println!("{name}: nothing new");
            } else {
                println!("{name}: digest of {n} article(s) queued");
            }
        }
        let r = outbox::deliver_due(&config, &store, &transport, now, true)
            .await
            .map_err(|e| CmdError::Runtime(e.into()))?;
        println!(
            "sent {}, retrying later {}, refused {}",
            r.sent, r.retrying, r.refused
        );
        if r.retrying > 0 {
            return Err(CmdError::Runtime(anyhow::anyhow!(
                "{} deliveries failed and stay queued",
                r.retrying
            )));
        }
        return Ok(());
    }
    let mut any = false;
    for &i in &indices {
        let preview = outbox::preview_digest(&config, &store, i, now)
            .map_err(|e| CmdError::Runtime(e.into()))?;
        let Some(p) = preview else { continue };
        any = true;
        let wl = &config.watchlists[i];
        let to: Vec<String> = wl.to.iter().map(ToString::to_string).collect();
        println!("From: {}", config.mail.from);
        println!("To: {}", to.join(", "));
        println!("Subject: {}", p.rendered.subject);
        println!();
        println!("{}", p.rendered.text);
    }
    if !any {
        eprintln!("no pending matches: nothing would be mailed");
    }
    Ok(())
}
