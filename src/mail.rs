//! Mail: [`Rendered`] → an RFC 5322 message (Message-ID, Date, Auto-Submitted), and the
//! transports that hand it on: `.eml` files in the outbox, or SMTP through lettre.
//!
//! The SMTP password never comes from the config file: `$NEWSWATCH_SMTP_PASSWORD`, else the
//! systemd credential `smtp-password` (`$CREDENTIALS_DIRECTORY/smtp-password`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::address::Envelope;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{MailConfig, TransportConfig};
use crate::digest::render::Rendered;

pub const PASSWORD_ENV: &str = "NEWSWATCH_SMTP_PASSWORD";
pub const PASSWORD_CREDENTIAL: &str = "smtp-password";
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct MailError {
    /// The server refused for good (5xx): retrying will not help.
    pub permanent: bool,
    pub message: String,
}

impl MailError {
    fn transient(message: impl Into<String>) -> Self {
        MailError {
            permanent: false,
            message: message.into(),
        }
    }
}

macro_rules! text_header {
    ($ty:ident, $name:literal) => {
        #[derive(Debug, Clone)]
        struct $ty(String);
        impl Header for $ty {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($name)
            }
            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok($ty(s.to_string()))
            }
            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

text_header!(AutoSubmitted, "Auto-Submitted");
text_header!(ListId, "List-Id");
text_header!(ListUnsubscribe, "List-Unsubscribe");

/// A new globally unique Message-ID (with angle brackets) in the sender's domain.
pub fn new_message_id(from: &Mailbox, now: DateTime<Utc>) -> String {
    let nonce: u64 = rand::random();
    format!(
        "<{}.{nonce:016x}@{}>",
        now.format("%Y%m%d%H%M%S"),
        from.email.domain()
    )
}

/// Removes anything that could break out of a header line.
fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The headers of one message, besides its subject (which comes with the rendered body).
#[derive(Debug, Clone, Copy)]
pub struct Headers<'a> {
    pub from: &'a Mailbox,
    pub to: &'a [Mailbox],
    /// Names the list in `List-Id`.
    pub list: &'a str,
    /// With angle brackets.
    pub message_id: &'a str,
    pub date: DateTime<Utc>,
    pub list_unsubscribe: Option<&'a str>,
}

/// Builds the message to send.
///
/// # Errors
/// When lettre refuses the message (it should not: all inputs are validated).
pub fn compose(rendered: &Rendered, h: &Headers<'_>) -> Result<Vec<u8>, MailError> {
    let mut b = Message::builder()
        .from(h.from.clone())
        .subject(header_safe(&rendered.subject))
        .message_id(Some(h.message_id.to_string()))
        .date(h.date.into())
        .header(AutoSubmitted("auto-generated".into()))
        .header(ListId(format!(
            "newswatch {} <{}.{}>",
            header_safe(h.list),
            h.list,
            h.from.email.domain()
        )));
    for m in h.to {
        b = b.to(m.clone());
    }
    if let Some(u) = h.list_unsubscribe {
        b = b.header(ListUnsubscribe(header_safe(u)));
    }
    let msg = b
        .multipart(MultiPart::alternative_plain_html(
            rendered.text.clone(),
            rendered.html.clone(),
        ))
        .map_err(|e| MailError {
            permanent: true,
            message: format!("cannot build message: {e}"),
        })?;
    Ok(msg.formatted())
}

/// Where messages go.
#[derive(Clone)]
pub enum Transport {
    File { dir: PathBuf },
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::File { dir } => write!(f, "file transport ({})", dir.display()),
            Transport::Smtp(_) => f.write_str("smtp transport"),
        }
    }
}

impl Transport {
    /// The configured transport.
    ///
    /// # Errors
    /// The SMTP URL cannot be used.
    pub fn from_config(mail: &MailConfig, outbox: &Path) -> Result<Transport, MailError> {
        match &mail.transport {
            TransportConfig::File => Ok(Transport::File {
                dir: outbox.to_path_buf(),
            }),
            TransportConfig::Smtp { url } => {
                let mut url = url::Url::parse(url).map_err(|e| MailError {
                    permanent: true,
                    message: format!("smtp_url: {e}"),
                })?;
                if let Some(pw) = smtp_password() {
                    if !url.username().is_empty() {
                        url.set_password(Some(&pw)).map_err(|()| MailError {
                            permanent: true,
                            message: "smtp_url cannot take a password".into(),
                        })?;
                    }
                }
                let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.as_str())
                    .map_err(|e| MailError {
                        permanent: true,
                        message: format!("smtp_url: {e}"),
                    })?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build();
                Ok(Transport::Smtp(t))
            }
        }
    }

    /// Hands `message` to the transport for one recipient. Returns the server's answer.
    ///
    /// # Errors
    /// The transport did not accept the message; `permanent` says whether to give up.
    pub async fn deliver(
        &self,
        from: &Mailbox,
        to: &str,
        message: &[u8],
        message_id: &str,
    ) -> Result<String, MailError> {
        match self {
            Transport::File { dir } => write_eml(dir, to, message, message_id).await,
            Transport::Smtp(smtp) => {
                let to_addr = to.parse::<Mailbox>().map_err(|e| MailError {
                    permanent: true,
                    message: format!("recipient {to:?}: {e}"),
                })?;
                let envelope = Envelope::new(Some(from.email.clone()), vec![to_addr.email])
                    .map_err(|e| MailError {
                        permanent: true,
                        message: format!("envelope: {e}"),
                    })?;
                match smtp.send_raw(&envelope, message).await {
                    Ok(resp) => Ok(format!(
                        "{} {}",
                        resp.code(),
                        resp.message().collect::<Vec<_>>().join(" ")
                    )),
                    Err(e) => Err(MailError {
                        permanent: e.is_permanent(),
                        message: format!("smtp: {e}"),
                    }),
                }
            }
        }
    }
}

/// Writes `<dir>/<message-id>--<recipient>.eml` atomically. The name is a function of the
/// message and the recipient, so a retry after a crash rewrites the same file.
async fn write_eml(
    dir: &Path,
    to: &str,
    message: &[u8],
    message_id: &str,
) -> Result<String, MailError> {
    let safe = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, '<' | '>'))
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let name = format!("{}--{}.eml", safe(message_id), safe(to));
    let path = dir.join(&name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let write = async {
        tokio::fs::create_dir_all(dir).await?;
        tokio::fs::write(&tmp, message).await?;
        let f = tokio::fs::File::open(&tmp).await?;
        f.sync_all().await?;
        tokio::fs::rename(&tmp, &path).await
    };
    write
        .await
        .map_err(|e| MailError::transient(format!("writing {}: {e}", path.display())))?;
    Ok(format!("written to {}", path.display()))
}

/// The SMTP password from the environment or the systemd credential, if any.
pub fn smtp_password() -> Option<String> {
    if let Ok(pw) = std::env::var(PASSWORD_ENV) {
        if !pw.is_empty() {
            return Some(pw);
        }
    }
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY")?;
    let pw = std::fs::read_to_string(Path::new(&dir).join(PASSWORD_CREDENTIAL)).ok()?;
    Some(pw.trim_end_matches(['\r', '\n']).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(subject: &str) -> Rendered {
        Rendered {
            subject: subject.into(),
            text: "plain".into(),
            html: "<p>html</p>".into(),
        }
    }

    #[test]
    fn message_has_required_headers() {
        let from: Mailbox = "newswatch <nw@example.org>".parse().unwrap();
        let to: Vec<Mailbox> = vec!["a@example.org".parse().unwrap()];
        let id = new_message_id(&from, Utc::now());
        let bytes = compose(
            &rendered("[newswatch] niger: 1 new article(s)"),
            &Headers {
                from: &from,
                to: &to,
                list: "niger",
                message_id: &id,
                date: Utc::now(),
                list_unsubscribe: None,
            },
        )
        .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains(&format!("Message-ID: {id}")), "{text}");
        assert!(text.contains("Auto-Submitted: auto-generated"));
        assert!(text.contains("\r\nDate: "));
        assert!(text.contains("List-Id: "));
        assert!(text.contains("multipart/alternative"));
        assert!(text.contains("text/plain") && text.contains("text/html"));
    }

    #[test]
    fn subject_cannot_inject_headers() {
        let from: Mailbox = "nw@example.org".parse().unwrap();
        let to: Vec<Mailbox> = vec!["a@example.org".parse().unwrap()];
        let bytes = compose(
            &rendered("x\r\nBcc: evil@example.org"),
            &Headers {
                from: &from,
                to: &to,
                list: "w",
                message_id: "<a@b>",
                date: Utc::now(),
                list_unsubscribe: None,
            },
        )
        .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(!text.contains("\r\nBcc:"), "{text}");
    }

    #[tokio::test]
    async fn file_transport_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let t = Transport::File {
            dir: dir.path().join("outbox"),
        };
        let from: Mailbox = "nw@example.org".parse().unwrap();
        t.deliver(&from, "a@example.org", b"one", "<x@y>")
            .await
            .unwrap();
        t.deliver(&from, "a@example.org", b"one", "<x@y>")
            .await
            .unwrap();
        let n = std::fs::read_dir(dir.path().join("outbox"))
            .unwrap()
            .count();
        assert_eq!(n, 1);
    }
}
