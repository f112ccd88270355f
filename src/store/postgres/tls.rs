//! TLS to the PostgreSQL server, as the URL's `sslmode` asks, with libpq's meanings
//! (<https://www.postgresql.org/docs/current/libpq-ssl.html>, table "SSL Mode Descriptions"):
//!
//! | `sslmode` | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (the default) | when the server offers it | not checked |
//! | `require` | always | not checked (checked as `verify-ca` when `sslrootcert` is given) |
//! | `verify-ca` | always | issued by a trusted root |
//! | `verify-full` | always | issued by a trusted root, for the host in the URL |
//!
//! Trusted roots: the file named by `sslrootcert` (PEM), else the system's (Debian's
//! `ca-certificates`; `SSL_CERT_FILE` / `SSL_CERT_DIR` are honoured); `sslrootcert=system`
//! names the system's explicitly. tokio-postgres knows only the first three modes and no
//! `sslrootcert`, so [`parse`] takes those out of the URL before handing it over. The
//! connection is rustls (ring, as for SMTP and HTTP) through `tokio-postgres-rustls`, which
//! also gives SCRAM its channel binding. PostgreSQL never uses TLS on a Unix socket.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

/// What `sslmode` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// Where the trusted roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    System,
    File(PathBuf),
}

/// A database URL, understood.
#[derive(Debug, Clone)]
pub struct Target {
    /// What tokio-postgres connects with (`sslmode` at most `require`).
    pub config: tokio_postgres::Config,
    pub mode: SslMode,
    pub roots: Roots,
}

/// Reads a `postgresql://` URL as libpq would, `sslmode=verify-ca|verify-full` and
/// `sslrootcert` included.
///
/// # Errors
/// What is wrong with the URL, in tokio-postgres's words or ours.
pub fn parse(url: &str) -> Result<Target, String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut kept = Vec::new();
    let mut verify = None;
    let mut roots = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(v).decode_utf8_lossy();
        match (k, value.as_ref()) {
            ("sslmode", "verify-ca") => verify = Some(SslMode::VerifyCa),
            ("sslmode", "verify-full") => verify = Some(SslMode::VerifyFull),
            ("sslmode", "allow") => {
                return Err("sslmode \"allow\" is not supported (use prefer, require, verify-ca or verify-full)".into())
            }
            ("sslrootcert", "system") => roots = Some(Roots::System),
            ("sslrootcert", "") => return Err("sslrootcert: expected a file name".into()),
            ("sslrootcert", path) => roots = Some(Roots::File(PathBuf::from(path))),
            _ => kept.push(pair),
        }
    }
    if verify.is_some() {
        kept.push("sslmode=require");
    }
    let rebuilt = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let config: tokio_postgres::Config = rebuilt
        .parse()
        .map_err(|e: tokio_postgres::Error| super::chain(&e))?;
    let mode = verify.unwrap_or(match config.get_ssl_mode() {
        tokio_postgres::config::SslMode::Disable => SslMode::Disable,
        tokio_postgres::config::SslMode::Require if roots.is_some() => SslMode::VerifyCa,
        tokio_postgres::config::SslMode::Require => SslMode::Require,
        _ => SslMode::Prefer,
    });
    if roots == Some(Roots::System) && !matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) {
        // libpq 16: sslrootcert=system asks for certificates to be checked.
        return Err("sslrootcert=system needs sslmode=verify-ca or verify-full".into());
    }
    Ok(Target {
        config,
        mode,
        roots: roots.unwrap_or(Roots::System),
    })
}

/// The connector for `target`: rustls with the verification its `sslmode` asks for.
///
/// # Errors
/// The roots cannot be read (the file is missing or holds no certificate, or the system has
/// none).
pub fn connector(target: &Target) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let config = match target.mode {
        SslMode::Disable | SslMode::Prefer | SslMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
            .with_no_client_auth(),
        SslMode::VerifyCa => {
            let webpki = WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(&target.roots)?),
                provider,
            )
            .build()
            .map_err(|e| format!("TLS: {e}"))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyName(webpki)))
                .with_no_client_auth()
        }
        SslMode::VerifyFull => builder
            .with_root_certificates(roots(&target.roots)?)
            .with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
}

/// The trusted roots.
fn roots(from: &Roots) -> Result<RootCertStore, String> {
    use rustls::pki_types::pem::PemObject as _;
    let mut store = RootCertStore::empty();
    match from {
        Roots::File(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| format!("sslrootcert: cannot read {}: {e}", path.display()))?;
            for cert in CertificateDer::pem_slice_iter(&bytes) {
                let cert =
                    cert.map_err(|e| format!("sslrootcert: {} is not PEM: {e}", path.display()))?;
                store
                    .add(cert)
                    .map_err(|e| format!("sslrootcert: {}: {e}", path.display()))?;
            }
            if store.is_empty() {
                return Err(format!(
                    "sslrootcert: {} holds no PEM certificate",
                    path.display()
                ));
            }
        }
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err("sslmode asks to verify the server's certificate, but this system has no trusted roots (install ca-certificates, or name a file with sslrootcert)".into());
            }
        }
    }
    Ok(store)
}

/// `prefer` and `require` without roots: encrypted, the certificate not checked (libpq's
/// meaning; it keeps out eavesdroppers, not a man in the middle). The handshake's signatures
/// are still checked, so the session is with the holder of the certificate shown.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the host name is not compared (the
/// chain is checked first, so a name mismatch is the only error let through).
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_read_as_libpq_does() {
        for (url, mode, roots) in [
            ("postgresql://u@h/db", SslMode::Prefer, Roots::System),
            ("postgresql://u@h/db?sslmode=disable", SslMode::Disable, Roots::System),
            ("postgresql://u@h/db?sslmode=require", SslMode::Require, Roots::System),
            (
                "postgresql://u@h/db?sslmode=require&sslrootcert=/etc/ca.pem",
                SslMode::VerifyCa,
                Roots::File("/etc/ca.pem".into()),
            ),
            ("postgresql://u@h/db?sslmode=verify-ca", SslMode::VerifyCa, Roots::System),
            (
                "postgres://u@h:5433/db?application_name=x&sslmode=verify-full&sslrootcert=%2Fa%20b.pem",
                SslMode::VerifyFull,
                Roots::File("/a b.pem".into()),
            ),
            (
                "postgresql://u@h/db?sslmode=verify-full&sslrootcert=system",
                SslMode::VerifyFull,
                Roots::System,
            ),
        ] {
            let t = parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!((t.mode, t.roots), (mode, roots), "{url}");
        }
        let t = parse("postgres://u@h:5433/db?application_name=x&sslmode=verify-full").unwrap();
        assert_eq!(t.config.get_ports(), [5433]);
        assert_eq!(t.config.get_application_name(), Some("x"));
    }

    #[test]
    fn what_is_not_supported_is_said() {
        for (url, said) in [
            (
                "postgresql://u@h/db?sslmode=allow",
                "\"allow\" is not supported",
            ),
            ("postgresql://u@h/db?sslmode=bogus", "sslmode"),
            (
                "postgresql://u@h/db?sslrootcert=system",
                "needs sslmode=verify-ca",
            ),
            ("postgresql://u@h/db?sslrootcert=", "expected a file name"),
            ("postgresql://u@h/db?colour=blue", "unknown option `colour`"),
        ] {
            let e = parse(url).unwrap_err();
            assert!(e.contains(said), "{url}: {e}");
        }
    }

    #[test]
    fn a_missing_or_empty_root_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "nothing here\n").unwrap();
        for (file, said) in [
            (dir.path().join("missing.pem"), "cannot read"),
            (empty, "holds no PEM certificate"),
        ] {
            let url = format!(
                "postgresql://u@h/db?sslmode=verify-full&sslrootcert={}",
                file.display()
            );
            let e = connector(&parse(&url).unwrap()).map(|_| ()).unwrap_err();
            assert!(
                e.contains(said) && e.contains(&file.display().to_string()),
                "{e}"
            );
        }
    }
}
