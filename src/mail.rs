//! Mail: [`Rendered`] → an RFC 5322 message (Message-ID, Date, Auto-Submitted), and the
//! transports that hand it on: `.eml` files in the outbox, or SMTP through lettre.
//!
//! The SMTP password never comes from the config file: `$NEWSWATCH_SMTP_PASSWORD`, else the
//! systemd credential `smtp-password` (`$CREDENTIALS_DIRECTORY/smtp-password`). It is sent
//! only over TLS unless `smtp_url` says `tls=opportunistic` or `tls=none`: without `?tls=`,
//! `smtp://` requires STARTTLS and lettre stops before AUTH when the server does not offer it.
//! The server's certificate is checked against the system's roots (rustls-native-certs, so
//! `SSL_CERT_FILE` works too) plus `[mail] ca_file`. What went wrong is told in one sentence
//! naming the server ([`smtp_error`] in `mail/errors.rs`).
//!
//! A message composed without `To:` (a watchlist without `show_recipients`) gets its
//! recipient's own `To:` at delivery, so recipients do not see each other; the bytes are
//! otherwise those recorded, Message-ID included.

mod errors;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::address::Envelope;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{MailConfig, SmtpConfig, SmtpSecurity, TransportConfig};
use crate::model::Rendered;

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

/// Builds the message to send. With `to` empty the message has no `To:`: each delivery adds
/// its recipient's own ([`Transport::deliver`]).
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
    if h.to.is_empty() {
        // lettre derives an envelope from the headers and refuses one without recipients;
        // this one is never used: every delivery brings its own.
        let envelope = Envelope::new(Some(h.from.email.clone()), vec![h.from.email.clone()])
            .map_err(|e| MailError {
                permanent: true,
                message: format!("cannot build message: {e}"),
            })?;
        b = b.envelope(envelope);
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
    Smtp(Box<SmtpTransport>),
}

/// lettre's SMTP transport and what error messages say about it.
#[derive(Clone)]
pub struct SmtpTransport {
    inner: AsyncSmtpTransport<Tokio1Executor>,
    target: errors::Target,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::File { dir } => write!(f, "file transport ({})", dir.display()),
            Transport::Smtp(s) => write!(f, "smtp transport ({})", s.target.server),
        }
    }
}

impl Transport {
    /// The configured transport.
    ///
    /// # Errors
    /// TLS cannot be set up with the configured roots.
    pub fn from_config(mail: &MailConfig, outbox: &Path) -> Result<Transport, MailError> {
        Self::with_password(mail, outbox, smtp_password())
    }

    /// The configured transport, logging in with `password` (when `smtp_url` names a user)
    /// instead of the one from the environment.
    ///
    /// # Errors
    /// As [`Transport::from_config`].
    pub fn with_password(
        mail: &MailConfig,
        outbox: &Path,
        password: Option<String>,
    ) -> Result<Transport, MailError> {
        match &mail.transport {
            TransportConfig::File => Ok(Transport::File {
                dir: outbox.to_path_buf(),
            }),
            TransportConfig::Smtp(smtp) => Ok(Transport::Smtp(Box::new(smtp_transport(
                mail, smtp, password,
            )?))),
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
        let to_addr = to.parse::<Mailbox>().map_err(|e| MailError {
            permanent: true,
            message: format!("recipient {to:?}: {e}"),
        })?;
        let message = addressed_to(message, &to_addr);
        match self {
            Transport::File { dir } => write_eml(dir, to, &message, message_id).await,
            Transport::Smtp(smtp) => {
                let envelope = Envelope::new(Some(from.email.clone()), vec![to_addr.email])
                    .map_err(|e| MailError {
                        permanent: true,
                        message: format!("envelope: {e}"),
                    })?;
                match smtp.inner.send_raw(&envelope, &message).await {
                    Ok(resp) => Ok(format!(
                        "{} {}",
                        resp.code(),
                        resp.message().collect::<Vec<_>>().join(" ")
                    )),
                    Err(e) => Err(errors::smtp_error(&smtp.target, &e)),
                }
            }
        }
    }
}

fn smtp_transport(
    mail: &MailConfig,
    smtp: &SmtpConfig,
    password: Option<String>,
) -> Result<SmtpTransport, MailError> {
    let target = errors::Target {
        server: smtp.server(),
        user: smtp.user.clone(),
        security: smtp.security,
    };
    let tls = match smtp.security {
        SmtpSecurity::None => Tls::None,
        security => {
            // Default store: the system's roots (rustls-native-certs), then ca_file's.
            let mut params = TlsParameters::builder(smtp.host.clone());
            for der in mail.ca_file.iter().flat_map(|ca| ca.certs.iter()) {
                let cert = Certificate::from_der(der.clone()).map_err(|e| MailError {
                    permanent: true,
                    message: format!("ca_file: {e}"),
                })?;
                params = params.add_root_certificate(cert);
            }
            let params = params.build_rustls().map_err(|e| MailError {
                permanent: true,
                message: format!("cannot set up TLS for smtp server {}: {e}", target.server),
            })?;
            match security {
                SmtpSecurity::ImplicitTls => Tls::Wrapper(params),
                SmtpSecurity::StartTlsOpportunistic => Tls::Opportunistic(params),
                _ => Tls::Required(params),
            }
        }
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone())
        .port(smtp.port)
        .tls(tls)
        .hello_name(ClientId::Domain(mail.helo_name.clone()))
        .timeout(Some(SMTP_TIMEOUT));
    if let (Some(user), Some(password)) = (&smtp.user, password) {
        builder = builder
            .credentials(Credentials::new(user.clone(), password))
            .authentication(vec![Mechanism::Plain, Mechanism::Login]);
    }
    Ok(SmtpTransport {
        inner: builder.build(),
        target,
    })
}

/// `message` with `To: <to>` added when it has no `To:` of its own: what `to` receives.
pub fn addressed_to<'a>(message: &'a [u8], to: &Mailbox) -> Cow<'a, [u8]> {
    let head_end = memchr::memmem::find(message, b"\r\n\r\n").unwrap_or(message.len());
    let has_to = message[..head_end]
        .split(|&b| b == b'\n')
        .any(|line| line.len() >= 3 && line[..3].eq_ignore_ascii_case(b"to:"));
    if has_to {
        return Cow::Borrowed(message);
    }
    let mut headers = lettre::message::header::Headers::new();
    headers.set(lettre::message::header::To::from(
        lettre::message::Mailboxes::from(to.clone()),
    ));
    let mut out = headers.to_string().into_bytes();
    out.extend_from_slice(message);
    Cow::Owned(out)
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

/// The SMTP password from the environment or the systemd credential, if any. An empty one
/// is none: the unit hands the service an empty credential when the operator created no file.
pub fn smtp_password() -> Option<String> {
    crate::secrets::lookup(PASSWORD_ENV, PASSWORD_CREDENTIAL)
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
            &rendered("[newswatch] niger: 1 new article"),
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
