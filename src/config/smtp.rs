//! `[mail] smtp_url`, `ca_file` and `helo_name`: parsed and checked at load, so a typo is a
//! config error with `file:line:column` instead of a failure at the first delivery.
//!
//! Without `?tls=`, `smtp://` means STARTTLS *required* and `smtps://` implicit TLS: a
//! password never travels in clear unless the config says `tls=opportunistic` or `tls=none`.
//! The main type is [`SmtpConfig`]; the transport itself is built by `mail`.

use std::path::{Path, PathBuf};

use url::Url;

/// `smtp://` without a port: the submission port (RFC 6409).
pub const DEFAULT_SMTP_PORT: u16 = 587;
/// `smtps://` without a port: submissions (RFC 8314).
pub const DEFAULT_SMTPS_PORT: u16 = 465;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtps://`: TLS from the first byte.
    ImplicitTls,
    /// `smtp://` (the default, or `?tls=required`): STARTTLS, and no delivery without it.
    StartTlsRequired,
    /// `?tls=opportunistic`: STARTTLS when the server offers it, else plain text.
    StartTlsOpportunistic,
    /// `?tls=none`: plain text, credentials included.
    None,
}

impl SmtpSecurity {
    /// As written in `smtp_url` (`smtps` for implicit TLS).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::ImplicitTls => "smtps",
            SmtpSecurity::StartTlsRequired => "tls=required",
            SmtpSecurity::StartTlsOpportunistic => "tls=opportunistic",
            SmtpSecurity::None => "tls=none",
        }
    }
}

/// A validated `smtp_url`. Invariant: `host` is not empty, `port` is not 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// The URL as written (it holds no password).
    pub url: String,
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// The user name to log in with (percent-decoded); the password comes from the
    /// environment (`mail::smtp_password`).
    pub user: Option<String>,
    /// Line and column of `smtp_url` in the config file, for `check`'s warnings.
    pub position: Option<(usize, usize)>,
}

impl SmtpConfig {
    /// `host:port`, as messages name the server.
    #[must_use]
    pub fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// One thing wrong with an `smtp_url`: a byte offset into the URL and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlProblem {
    pub offset: usize,
    pub message: String,
}

const EXPECTED: &str = "expected smtp://[user@]host[:port][?tls=required|opportunistic|none] \
                        or smtps://[user@]host[:port]";

/// Parses and checks every part of an `smtp_url`.
///
/// # Errors
/// Every problem found, each at its offset in `text`.
pub fn parse_smtp_url(text: &str) -> Result<SmtpConfig, Vec<UrlProblem>> {
    let at = |needle: &str| text.find(needle).unwrap_or(0);
    let problem = |offset: usize, message: String| UrlProblem { offset, message };
    let url = Url::parse(text)
        .map_err(|e| vec![problem(0, format!("{EXPECTED}, found {text:?} ({e})"))])?;
    let mut problems = Vec::new();
    let implicit = match url.scheme() {
        "smtp" => false,
        "smtps" => true,
        other => {
            return Err(vec![problem(
                0,
                format!("{EXPECTED}, found scheme {other:?}"),
            )])
        }
    };
    let host = match url.host_str() {
        Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']').to_owned(),
        _ => {
            return Err(vec![problem(
                0,
                format!("{EXPECTED}, found no host in {text:?}"),
            )])
        }
    };
    if url.password().is_some() {
        problems.push(problem(
            0,
            "a password does not belong in the config file; set $NEWSWATCH_SMTP_PASSWORD or \
             the systemd credential \"smtp-password\""
                .into(),
        ));
    }
    if url.port() == Some(0) {
        problems.push(problem(at(":0"), "port must be 1-65535, found 0".into()));
    }
    if !matches!(url.path(), "" | "/") {
        problems.push(problem(
            at(url.path()),
            format!(
                "the path {:?} is not used; set the EHLO name with [mail] helo_name",
                url.path()
            ),
        ));
    }
    if url.fragment().is_some() {
        problems.push(problem(at("#"), format!("{EXPECTED}, found a fragment")));
    }
    let security = read_security(text, &url, implicit, &mut problems);
    let user = (!url.username().is_empty()).then(|| {
        percent_encoding::percent_decode_str(url.username())
            .decode_utf8_lossy()
            .into_owned()
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    let default_port = if implicit {
        DEFAULT_SMTPS_PORT
    } else {
        DEFAULT_SMTP_PORT
    };
    Ok(SmtpConfig {
        url: text.to_owned(),
        host,
        port: url.port().unwrap_or(default_port),
        security,
        user,
        position: None,
    })
}

/// The `tls` parameter of an `smtp_url`, checked, and the security it asks for (with
/// `implicit` for `smtps://`); problems go to `problems`, at their offset in `text`.
fn read_security(
    text: &str,
    url: &Url,
    implicit: bool,
    problems: &mut Vec<UrlProblem>,
) -> SmtpSecurity {
    let at = |needle: &str| text.find(needle).unwrap_or(0);
    let problem = |offset: usize, message: String| UrlProblem { offset, message };
    let mut tls: Option<String> = None;
    for (key, value) in url.query_pairs() {
        let offset = at(&format!("{key}="));
        if key != "tls" {
            problems.push(problem(
                offset,
                format!(
                    "unknown parameter {key:?}; the only one is tls=required|opportunistic|none"
                ),
            ));
        } else if tls.is_some() {
            problems.push(problem(offset, "tls is given twice".into()));
        } else {
            tls = Some(value.into_owned());
        }
    }
    let tls_at = at("tls=");
    match (implicit, tls.as_deref()) {
        (true, None | Some("required")) => SmtpSecurity::ImplicitTls,
        (true, Some(other)) => {
            problems.push(problem(
                tls_at,
                format!("smtps:// is always TLS; tls={other:?} needs smtp://"),
            ));
            SmtpSecurity::ImplicitTls
        }
        (false, None | Some("required")) => SmtpSecurity::StartTlsRequired,
        (false, Some("opportunistic")) => SmtpSecurity::StartTlsOpportunistic,
        (false, Some("none")) => SmtpSecurity::None,
        (false, Some(other)) => {
            problems.push(problem(
                tls_at,
                format!(
                    "tls: expected \"required\", \"opportunistic\" or \"none\", found {other:?}"
                ),
            ));
            SmtpSecurity::StartTlsRequired
        }
    }
}

/// `[mail] ca_file`, read and parsed: extra roots for the SMTP server's certificate.
/// Invariant: `certs` holds at least one DER certificate a rustls root store accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaFile {
    pub path: PathBuf,
    pub certs: Vec<Vec<u8>>,
}

/// Reads `path` (relative paths are relative to the config file's directory) as PEM
/// certificates.
///
/// # Errors
/// A message saying what is wrong with the file.
pub fn load_ca_file(config_path: &Path, path: &str) -> Result<CaFile, String> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::CertificateDer;

    let written = Path::new(path);
    let path = if written.is_relative() {
        config_path
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join(written)
    } else {
        written.to_path_buf()
    };
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{} is not PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{} holds no PEM certificate (expected \"-----BEGIN CERTIFICATE-----\" blocks)",
            path.display()
        ));
    }
    let mut store = rustls::RootCertStore::empty();
    for (i, cert) in certs.iter().enumerate() {
        store.add(cert.clone()).map_err(|e| {
            format!(
                "certificate {} of {} cannot be a root: {e}",
                i + 1,
                path.display()
            )
        })?;
    }
    Ok(CaFile {
        path,
        certs: certs.into_iter().map(|c| c.as_ref().to_vec()).collect(),
    })
}

/// Checks a `helo_name`: a domain name (letters, digits, `-`, dots) or an address literal
/// like `[192.0.2.1]` (RFC 5321 §4.1.3).
///
/// # Errors
/// What was expected.
pub fn check_helo_name(name: &str) -> Result<(), String> {
    if let Some(inner) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        let ip = inner.strip_prefix("IPv6:").unwrap_or(inner);
        return ip
            .parse::<std::net::IpAddr>()
            .map(|_| ())
            .map_err(|_| format!("expected an address literal like [192.0.2.1], found {name:?}"));
    }
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected a domain name like \"newswatch.example.org\", found {name:?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_urls() {
        let cases: &[(&str, &str, u16, SmtpSecurity, Option<&str>)] = &[
            (
                "default is starttls required",
                "smtp://mail.example.org",
                587,
                SmtpSecurity::StartTlsRequired,
                None,
            ),
            (
                "port 25 still required",
                "smtp://u@mx.example.org:25",
                25,
                SmtpSecurity::StartTlsRequired,
                Some("u"),
            ),
            (
                "explicit required",
                "smtp://mail.example.org:587?tls=required",
                587,
                SmtpSecurity::StartTlsRequired,
                None,
            ),
            (
                "opportunistic",
                "smtp://mail.example.org?tls=opportunistic",
                587,
                SmtpSecurity::StartTlsOpportunistic,
                None,
            ),
            (
                "none",
                "smtp://127.0.0.1:2525?tls=none",
                2525,
                SmtpSecurity::None,
                None,
            ),
            (
                "smtps",
                "smtps://alerts@mail.example.org",
                465,
                SmtpSecurity::ImplicitTls,
                Some("alerts"),
            ),
            (
                "smtps tls=required",
                "smtps://mail.example.org?tls=required",
                465,
                SmtpSecurity::ImplicitTls,
                None,
            ),
            (
                "encoded user",
                "smtp://me%40example.org@mail.example.org/",
                587,
                SmtpSecurity::StartTlsRequired,
                Some("me@example.org"),
            ),
            (
                "ipv6",
                "smtp://[::1]:2525?tls=none",
                2525,
                SmtpSecurity::None,
                None,
            ),
        ];
        for (name, url, port, security, user) in cases {
            let c = parse_smtp_url(url).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(
                (c.port, c.security, c.user.as_deref()),
                (*port, *security, *user),
                "{name}"
            );
        }
        assert_eq!(
            parse_smtp_url("smtp://[::1]:25").unwrap().server(),
            "[::1]:25"
        );
    }

    #[test]
    fn bad_urls() {
        let cases: &[(&str, &str, usize, &str)] = &[
            ("bogus tls", "smtp://h?tls=bogus", 9, "found \"bogus\""),
            (
                "unknown param",
                "smtp://h?tls=none&auth=plain",
                18,
                "unknown parameter \"auth\"",
            ),
            (
                "tls twice",
                "smtp://h?tls=none&tls=required",
                9,
                "tls is given twice",
            ),
            (
                "smtps none",
                "smtps://h?tls=none",
                10,
                "smtps:// is always TLS",
            ),
            ("password", "smtp://u:pw@h", 0, "a password does not belong"),
            (
                "path",
                "smtp://h/helo.example",
                8,
                "set the EHLO name with [mail] helo_name",
            ),
            ("scheme", "http://h", 0, "found scheme \"http\""),
            ("no host", "smtp:///x", 0, "found no host"),
            ("not a url", "mail.example.org:587", 0, "expected smtp://"),
            ("fragment", "smtp://h#x", 8, "found a fragment"),
        ];
        for (name, url, offset, needle) in cases {
            let errs = parse_smtp_url(url).expect_err(name);
            let hit = errs.iter().find(|e| e.message.contains(needle));
            let hit = hit.unwrap_or_else(|| panic!("{name}: {errs:?}"));
            assert_eq!(hit.offset, *offset, "{name}: {errs:?}");
        }
    }

    #[test]
    fn helo_names() {
        for good in [
            "example.org",
            "newswatch-1.example.org",
            "localhost",
            "[192.0.2.1]",
            "[IPv6:::1]",
        ] {
            assert_eq!(check_helo_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "a..b",
            "-a.example",
            "has space",
            "under_score.example",
            "[nope]",
        ] {
            assert!(check_helo_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ca_file_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("newswatch.toml");
        let missing = load_ca_file(&cfg, "nope.pem").unwrap_err();
        assert!(
            missing.starts_with("cannot read ") && missing.contains("nope.pem"),
            "{missing}"
        );
        std::fs::write(dir.path().join("junk.pem"), "hello\n").unwrap();
        let junk = load_ca_file(&cfg, "junk.pem").unwrap_err();
        assert!(junk.contains("holds no PEM certificate"), "{junk}");
        std::fs::write(
            dir.path().join("bad.pem"),
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let bad = load_ca_file(&cfg, "bad.pem").unwrap_err();
        assert!(
            bad.contains("is not PEM") || bad.contains("cannot be a root"),
            "{bad}"
        );
    }
}
