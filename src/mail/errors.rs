//! SMTP failures as one plain sentence naming the server and the cause, and whether retrying
//! can help.
//!
//! lettre's own messages are debug dumps ("tls error: invalid peer certificate:
//! Other(OtherError(CaUsedAsEndEntity))", "Connection error" twice); an operator reading the
//! journal needs to know which server, what went wrong and what to change. Only a refusal
//! of the message itself (a 5xx outside authentication) is permanent: a TLS, login or
//! connection problem is the operator's to fix, so the digest stays queued meanwhile.

use std::error::Error as StdError;

use lettre::transport::smtp::Error as SmtpError;

use super::{MailError, SMTP_TIMEOUT};
use crate::config::SmtpSecurity;

/// What error messages say about the server.
#[derive(Debug, Clone)]
pub(super) struct Target {
    /// `host:port`.
    pub server: String,
    pub user: Option<String>,
    pub security: SmtpSecurity,
}

/// Reply codes of a failed login or of a server that wants one (RFC 4954 §6, RFC 3207).
const AUTH_CODES: [&str; 5] = ["454", "530", "534", "535", "538"];

pub(super) fn smtp_error(target: &Target, err: &SmtpError) -> MailError {
    let server = &target.server;
    let transient = |message: String| MailError {
        permanent: false,
        message,
    };
    if let Some(code) = err.status() {
        let code = code.to_string();
        let reply = err.source().map(ToString::to_string).unwrap_or_default();
        let reply = reply.trim();
        if AUTH_CODES.contains(&code.as_str()) {
            let who = target
                .user
                .as_deref()
                .map_or_else(String::new, |u| format!(" of user {u:?}"));
            return transient(format!(
                "smtp server {server} refused the login{who} ({code} {reply}); check the user \
                 in smtp_url and the password in $NEWSWATCH_SMTP_PASSWORD or the credential \
                 \"smtp-password\""
            ));
        }
        return MailError {
            permanent: err.is_permanent(),
            message: format!("smtp server {server} answered {code} {reply}"),
        };
    }
    // A certificate refused during STARTTLS arrives as an I/O error wrapping rustls's.
    if err.is_tls() || find::<rustls::Error>(err).is_some() {
        return transient(tls_sentence(server, err));
    }
    let text = err.to_string();
    if text.contains("STARTTLS is not supported") {
        return transient(format!(
            "smtp server {server} does not offer STARTTLS, which smtp_url requires \
             (tls=required is the default without ?tls=); nothing was sent, the password \
             included"
        ));
    }
    if text.contains("No compatible authentication mechanism") {
        let why = if target.security == SmtpSecurity::StartTlsOpportunistic {
            " (many servers offer a login only over TLS, and this one offered no STARTTLS)"
        } else {
            ""
        };
        return transient(format!(
            "smtp server {server} offers no login method newswatch can use (PLAIN or LOGIN){why}"
        ));
    }
    if err.is_timeout() {
        return transient(format!(
            "smtp server {server} did not answer within {}s",
            SMTP_TIMEOUT.as_secs()
        ));
    }
    if let Some(io) = find::<std::io::Error>(err) {
        return transient(format!("cannot talk to smtp server {server}: {io}"));
    }
    transient(format!("smtp server {server}: {}", chain(err)))
}

/// The TLS failure, by its cause.
fn tls_sentence(server: &str, err: &SmtpError) -> String {
    use rustls::{CertificateError as C, Error as R};
    let Some(cause) = find::<R>(err) else {
        return format!("TLS with smtp server {server} failed: {}", chain(err));
    };
    let cert = |what: &str| format!("the TLS certificate of smtp server {server} {what}");
    match cause {
        R::InvalidCertificate(C::UnknownIssuer) => cert(
            "is not trusted: no root of the system or of [mail] ca_file issued it (for a \
             private CA or a self-signed relay, name its certificate in [mail] ca_file)",
        ),
        R::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            cert("is not valid for the host name in smtp_url")
        }
        R::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => cert("has expired"),
        R::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => {
            cert("is not valid yet (is the clock right?)")
        }
        R::InvalidCertificate(C::Revoked) => cert("has been revoked"),
        R::InvalidCertificate(C::Other(other))
            if format!("{other:?}").contains("CaUsedAsEndEntity") =>
        {
            cert(
                "is a CA certificate, not a server certificate (give the server a certificate \
             issued by that CA, and the CA to [mail] ca_file)",
            )
        }
        R::InvalidCertificate(other) => cert(&format!("is not accepted ({other:?})")),
        R::AlertReceived(alert) => {
            format!("smtp server {server} ended the TLS handshake with alert {alert:?}")
        }
        other => format!("TLS with smtp server {server} failed: {other}"),
    }
}

/// The first error of type `T` in `err`'s chain, looking inside `io::Error`s too (their
/// `source()` skips the error they wrap, which is where rustls puts its own).
fn find<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if let Some(t) = find::<T>(inner) {
                return Some(t);
            }
        }
        source = e.source();
    }
    None
}

/// `outer: inner`, without lettre's repeated kind names.
fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(err);
    while let Some(e) = source {
        let text = e.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}
