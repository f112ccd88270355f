//! Stage 2 for `[mail]`: `from`, the transport and every part of `smtp_url`, `helo_name`
//! (default: the domain of `from`) and `ca_file` (read and parsed here, so a missing or
//! broken file is a config error at its line and column, not a failed delivery).

use toml::Spanned;

use super::super::smtp::{self, SmtpConfig};
use super::super::{error, raw, MailConfig, TransportConfig, DEFAULT_FROM};
use super::Ctx;

pub(super) fn validate_mail(cx: &mut Ctx<'_>, m: raw::RawMail) -> Option<MailConfig> {
    let from: Option<lettre::message::Mailbox> = match &m.from {
        None => DEFAULT_FROM.parse().ok(),
        Some(f) => f.get_ref().parse().map_err(|e| cx.err(f.span(), format!("mail.from: expected a mailbox like \"newswatch <newswatch@example.org>\", found {:?} ({e})", f.get_ref()))).ok(),
    };
    let transport = match m
        .transport
        .as_ref()
        .map(|t| (t.get_ref().as_str(), t.span()))
    {
        None | Some(("file", _)) => {
            // Checked even when unused, so switching to smtp later holds no surprise.
            if let Some(u) = &m.smtp_url {
                validate_smtp_url(cx, u);
            }
            Some(TransportConfig::File)
        }
        Some(("smtp", span)) => match &m.smtp_url {
            None => {
                cx.err(span, "mail.transport = \"smtp\" needs mail.smtp_url");
                None
            }
            Some(u) => validate_smtp_url(cx, u).map(TransportConfig::Smtp),
        },
        Some((other, span)) => {
            cx.err(
                span,
                format!("mail.transport: expected \"file\" or \"smtp\", found {other:?}"),
            );
            None
        }
    };
    let helo_name = match &m.helo_name {
        Some(h) => match smtp::check_helo_name(h.get_ref()) {
            Ok(()) => Some(h.get_ref().clone()),
            Err(e) => {
                cx.err(h.span(), format!("mail.helo_name: {e}"));
                None
            }
        },
        None => from.as_ref().map(|f| f.email.domain().to_owned()),
    };
    let ca_file = match &m.ca_file {
        None => Some(None),
        Some(p) => match smtp::load_ca_file(cx.path, p.get_ref()) {
            Ok(ca) => Some(Some(ca)),
            Err(e) => {
                cx.err(p.span(), format!("mail.ca_file: {e}"));
                None
            }
        },
    };
    Some(MailConfig {
        from: from?,
        transport: transport?,
        list_unsubscribe: m.list_unsubscribe.map(Spanned::into_inner),
        helo_name: helo_name?,
        ca_file: ca_file?,
    })
}

fn validate_smtp_url(cx: &mut Ctx<'_>, u: &Spanned<String>) -> Option<SmtpConfig> {
    match smtp::parse_smtp_url(u.get_ref()) {
        Ok(mut c) => {
            c.position = Some(error::line_col(cx.text, u.span().start));
            Some(c)
        }
        Err(problems) => {
            for p in problems {
                let at = cx.offset_in_string(u, p.offset);
                cx.err(at..at, format!("mail.smtp_url: {}", p.message));
            }
            None
        }
    }
}
