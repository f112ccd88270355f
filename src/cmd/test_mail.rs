//! `newswatch test-mail`: one test message through the configured transport.

use chrono::Utc;

use super::{CmdError, Globals};
use crate::digest::render::Rendered;
use crate::mail::{compose, new_message_id, Headers, Transport};

/// Sends one test message through the configured transport.
///
/// # Errors
/// A bad address; the transport refuses the message.
pub async fn run(globals: &Globals, to: &str) -> Result<(), CmdError> {
    let config = globals.load_config()?;
    let rcpt: lettre::message::Mailbox = to
        .parse()
        .map_err(|e| CmdError::Usage(format!("--to {to:?}: {e}")))?;
    let transport = Transport::from_config(&config.mail, &config.outbox_dir())
        .map_err(|e| CmdError::Runtime(e.into()))?;
    let now = Utc::now();
    let id = new_message_id(&config.mail.from, now);
    let rendered = Rendered {
        subject: "[newswatch] test message".into(),
        text: "This is a test message from newswatch. If you can read it, mail delivery works.\n"
            .into(),
        html:
            "<p>This is a test message from newswatch. If you can read it, mail delivery works.</p>"
                .into(),
    };
    let headers = Headers {
        from: &config.mail.from,
        to: std::slice::from_ref(&rcpt),
        list: "test",
        message_id: &id,
        date: now,
        list_unsubscribe: None,
    };
    let msg = compose(&rendered, &headers).map_err(|e| CmdError::Runtime(e.into()))?;
    let reply = transport
        .deliver(&config.mail.from, rcpt.email.as_ref(), &msg, &id)
        .await
        .map_err(|e| CmdError::Runtime(anyhow::anyhow!("test message not accepted: {e}")))?;
    println!("sent {id} to {to}: {reply}");
    Ok(())
}
