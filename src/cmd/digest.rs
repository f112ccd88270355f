//! `newswatch digest`: prints the pending digests, or mails them with `--send`.

use chrono::Utc;

use super::{open_store, CmdError, Globals};
use crate::config::Watchlist;
use crate::mail::Transport;
use crate::outbox::{self, DigestContext, Due};

pub async fn run(globals: &Globals, names: &[String], send: bool) -> Result<(), CmdError> {
    let config = globals.load_config()?;
    let mut chosen: Vec<&Watchlist> = Vec::new();
    for n in names {
        match config.watchlists.by_name(n) {
            Some(w) => chosen.push(w),
            None => return Err(CmdError::Usage(format!("unknown watchlist {n:?}"))),
        }
    }
    if chosen.is_empty() {
        chosen = config.watchlists.iter().collect();
    }
    let store = open_store(&config).await?;
    let now = Utc::now();
    let cx = |watchlist| DigestContext {
        watchlist,
        mail: &config.mail,
        timezone: config.timezone,
    };
    // `digest --send` claims what it composes and sends, like a daemon instance, so one
    // running meanwhile leaves those alone.
    let me = crate::model::InstanceId::new("digest-send", std::process::id(), rand::random());
    let claimant = outbox::Claimant {
        me: &me,
        lease: std::time::Duration::from_secs(crate::config::DEFAULT_LEASE_SECS),
    };
    if send {
        let transport = Transport::from_config(&config.mail, &config.outbox_dir())
            .map_err(|e| CmdError::Runtime(e.into()))?;
        for &w in &chosen {
            let n = outbox::compose_digest(&store, cx(w), now, claimant, None)
                .await
                .map_err(|e| CmdError::Runtime(e.into()))?;
            let name = &w.name;
            if n == 0 {
                println!("{name}: nothing new");
            } else {
                // n counts matches: copies of one story are one item, but each is queued.
                let plural = if n == 1 { "" } else { "s" };
                println!("{name}: digest of {n} matched article{plural} queued");
            }
        }
        let r = outbox::deliver_due(&store, &config.mail, &transport, Due::All, claimant)
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
    for &w in &chosen {
        let previews = outbox::preview_digest(&store, cx(w), now)
            .await
            .map_err(|e| CmdError::Runtime(e.into()))?;
        for p in previews {
            any = true;
            // As the first recipient receives it (each gets their own `To:` unless
            // show_recipients).
            let wl = w;
            let message = match wl.to.first() {
                Some(first) => {
                    // Deliveries address the recipient's bare address, as recorded.
                    let bare = lettre::message::Mailbox::new(None, first.email.clone());
                    crate::mail::addressed_to(&p.message, &bare).into_owned()
                }
                None => p.message.clone(),
            };
            if !wl.show_recipients && wl.to.len() > 1 {
                let others: Vec<String> = wl.to[1..].iter().map(|m| m.email.to_string()).collect();
                println!(
                    "[also sent to {}, each with only their own address in To:]",
                    others.join(", ")
                );
            }
            print!("{}", preview_text(&message, &p.rendered));
        }
    }
    if !any {
        eprintln!("no pending matches: nothing would be mailed");
    }
    Ok(())
}

/// The message as it would be mailed: its header block exactly as composed (Message-ID and
/// Date are assigned again when the digest is recorded), then the plain-text part as the
/// reader sees it. The HTML part is the same content; its size is given.
fn preview_text(message: &[u8], rendered: &crate::digest::render::Rendered) -> String {
    let raw = String::from_utf8_lossy(message);
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    let mut out = String::new();
    for line in head.split("\r\n") {
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&rendered.text);
    if !rendered.text.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "\n[text/html alternative part: {} bytes; `digest --send` with the file transport writes the whole message to the outbox]\n\n",
        rendered.html.len()
    ));
    out
}
