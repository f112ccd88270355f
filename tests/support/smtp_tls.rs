//! A small but real SMTP server with TLS on loopback, for the mail TLS tests: STARTTLS
//! (RFC 3207) or implicit TLS (RFC 8314) through tokio-rustls, AUTH PLAIN and LOGIN
//! (RFC 4954), MAIL/RCPT/DATA. It records every command line with whether TLS was on, and
//! every byte that arrived in plain text, so a test can prove what crossed the wire in clear.
//!
//! Certificates come from [`TestPki`]: a CA generated per test with rcgen, and a server
//! certificate for 127.0.0.1 signed by it (or variants: self-signed, the CA itself).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// A test CA and certificates for the server at 127.0.0.1.
#[allow(clippy::struct_field_names, reason = "the parts of the test CA")]
pub struct TestPki {
    /// The CA's certificate, PEM: what `[mail] ca_file` names.
    pub ca_pem: String,
    ca_cert: rcgen::Certificate,
    ca_key: KeyPair,
}

/// What the server presents: a chain and its key.
#[derive(Clone)]
pub struct ServerCert {
    pub chain: Vec<CertificateDer<'static>>,
    key_der: Vec<u8>,
    /// PEM of the certificate itself (for a self-signed one, what `ca_file` names).
    pub pem: String,
}

fn leaf_params() -> CertificateParams {
    let mut p = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("leaf params");
    p.distinguished_name
        .push(DnType::CommonName, "smtp.newswatch.test");
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p
}

impl TestPki {
    pub fn new() -> TestPki {
        let ca_key = KeyPair::generate().expect("ca key");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name
            .push(DnType::CommonName, "newswatch test CA");
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = p.self_signed(&ca_key).expect("ca cert");
        TestPki {
            ca_pem: ca_cert.pem(),
            ca_cert,
            ca_key,
        }
    }

    /// A server certificate for 127.0.0.1 issued by the CA.
    pub fn server_cert(&self) -> ServerCert {
        let key = KeyPair::generate().expect("leaf key");
        let cert = leaf_params()
            .signed_by(&key, &self.ca_cert, &self.ca_key)
            .expect("leaf cert");
        ServerCert {
            chain: vec![cert.der().clone()],
            key_der: key.serialize_der(),
            pem: cert.pem(),
        }
    }

    /// A self-signed server certificate for 127.0.0.1 (no CA involved).
    pub fn self_signed() -> ServerCert {
        let key = KeyPair::generate().expect("key");
        let cert = leaf_params().self_signed(&key).expect("self-signed cert");
        ServerCert {
            chain: vec![cert.der().clone()],
            key_der: key.serialize_der(),
            pem: cert.pem(),
        }
    }

    /// The CA's own certificate (and key) as the server's: a common misconfiguration.
    pub fn ca_as_server(&self) -> ServerCert {
        ServerCert {
            chain: vec![self.ca_cert.der().clone()],
            key_der: self.ca_key.serialize_der(),
            pem: self.ca_pem.clone(),
        }
    }
}

/// How the server offers TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plain text, STARTTLS offered.
    StartTls,
    /// Plain text, no STARTTLS (a relay that was never given a certificate).
    NoStartTls,
    /// TLS from the first byte (smtps, port 465).
    Implicit,
}

/// One command line the server read.
#[derive(Debug, Clone)]
pub struct Line {
    pub tls: bool,
    pub text: String,
}

/// A message the server accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub tls: bool,
    pub user: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Default)]
struct State {
    lines: Vec<Line>,
    plain_bytes: Vec<u8>,
    accepted: Vec<Accepted>,
}

pub struct TlsSmtp {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

struct Cfg {
    mode: Mode,
    acceptor: TlsAcceptor,
    user: String,
    password: String,
}

impl TlsSmtp {
    /// Serves on 127.0.0.1 (free port) until dropped; logins succeed with `user`/`password`.
    /// AUTH is advertised in plain text too, as a careless server would, so a client that
    /// logs in before TLS would be caught.
    pub async fn start(mode: Mode, cert: &ServerCert, user: &str, password: &str) -> TlsSmtp {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_der.clone()));
        let config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(cert.chain.clone(), key)
            .expect("server tls config");
        let cfg = Arc::new(Cfg {
            mode,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            user: user.to_owned(),
            password: password.to_owned(),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(connection(sock, cfg.clone(), st.clone()));
            }
        });
        TlsSmtp { addr, state }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn lines(&self) -> Vec<Line> {
        self.state.lock().unwrap().lines.clone()
    }

    /// Every byte the server received before TLS was on, across all connections.
    pub fn plain_bytes(&self) -> Vec<u8> {
        self.state.lock().unwrap().plain_bytes.clone()
    }

    pub fn accepted(&self) -> Vec<Accepted> {
        self.state.lock().unwrap().accepted.clone()
    }

    /// The command lines starting with `verb` (case-insensitive).
    pub fn commands(&self, verb: &str) -> Vec<Line> {
        self.lines()
            .into_iter()
            .filter(|l| {
                l.text
                    .get(..verb.len())
                    .is_some_and(|v| v.eq_ignore_ascii_case(verb))
            })
            .collect()
    }
}

async fn connection(sock: TcpStream, cfg: Arc<Cfg>, state: Arc<Mutex<State>>) {
    if cfg.mode == Mode::Implicit {
        let Ok(tls) = cfg.acceptor.accept(sock).await else {
            return;
        };
        let _ = session(BufReader::new(tls), true, &cfg, &state).await;
        return;
    }
    let mut plain = BufReader::new(sock);
    if let Some(Upgrade) = session(&mut plain, false, &cfg, &state).await {
        let Ok(tls) = cfg.acceptor.accept(plain.into_inner()).await else {
            return;
        };
        let _ = session(BufReader::new(tls), true, &cfg, &state).await;
    }
}

/// The client asked for STARTTLS and was told to go ahead.
struct Upgrade;

async fn session<S: AsyncBufRead + AsyncWrite + Unpin>(
    mut s: S,
    tls: bool,
    cfg: &Cfg,
    state: &Mutex<State>,
) -> Option<Upgrade> {
    macro_rules! say {
        ($($t:tt)*) => {
            if s.write_all(format!($($t)*).as_bytes()).await.is_err() {
                return None;
            }
        };
    }
    if !tls || cfg.mode == Mode::Implicit {
        say!("220 smtp.newswatch.test ESMTP test server\r\n");
    }
    let (mut from, mut to, mut user): (Option<String>, Vec<String>, Option<String>) =
        (None, Vec::new(), None);
    let mut line = String::new();
    loop {
        let text = read_line(&mut s, &mut line, tls, state).await?;
        state.lock().unwrap().lines.push(Line {
            tls,
            text: text.clone(),
        });
        let verb = text.split(' ').next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => {
                say!("250-smtp.newswatch.test\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n");
                if !tls && cfg.mode == Mode::StartTls {
                    say!("250-STARTTLS\r\n");
                }
                say!("250 SMTPUTF8\r\n");
            }
            "STARTTLS" if !tls && cfg.mode == Mode::StartTls => {
                say!("220 2.0.0 Ready to start TLS\r\n");
                return Some(Upgrade);
            }
            "AUTH" => {
                let got = auth(&mut s, &text, tls, state).await?;
                if got == (cfg.user.clone(), cfg.password.clone()) {
                    user = Some(got.0);
                    say!("235 2.7.0 Authentication successful\r\n");
                } else {
                    say!("535 5.7.8 Authentication credentials invalid\r\n");
                }
            }
            "MAIL" => {
                from = Some(path_arg(&text));
                to.clear();
                say!("250 2.1.0 OK\r\n");
            }
            "RCPT" => {
                to.push(path_arg(&text));
                say!("250 2.1.5 OK\r\n");
            }
            "DATA" => {
                say!("354 End data with <CR><LF>.<CR><LF>\r\n");
                let mut data = String::new();
                loop {
                    let l = read_line(&mut s, &mut line, tls, state).await?;
                    if l == "." {
                        break;
                    }
                    data.push_str(l.strip_prefix('.').unwrap_or(&l));
                    data.push_str("\r\n");
                }
                state.lock().unwrap().accepted.push(Accepted {
                    tls,
                    user: user.clone(),
                    from: from.take().unwrap_or_default(),
                    to: std::mem::take(&mut to),
                    data,
                });
                say!("250 2.0.0 Queued\r\n");
            }
            "RSET" | "NOOP" => say!("250 2.0.0 OK\r\n"),
            "QUIT" => {
                say!("221 2.0.0 Bye\r\n");
                return None;
            }
            _ => say!("502 5.5.2 Command not implemented\r\n"),
        }
    }
}

async fn read_line<S: AsyncBufRead + Unpin>(
    s: &mut S,
    line: &mut String,
    tls: bool,
    state: &Mutex<State>,
) -> Option<String> {
    line.clear();
    match s.read_line(line).await {
        Ok(0) | Err(_) => return None,
        Ok(_) => {}
    }
    if !tls {
        state
            .lock()
            .unwrap()
            .plain_bytes
            .extend_from_slice(line.as_bytes());
    }
    Some(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Reads an AUTH exchange; returns the (user, password) the client sent.
async fn auth<S: AsyncBufRead + AsyncWrite + Unpin>(
    s: &mut S,
    first: &str,
    tls: bool,
    state: &Mutex<State>,
) -> Option<(String, String)> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let decode =
        |t: &str| String::from_utf8_lossy(&b64.decode(t.trim()).unwrap_or_default()).into_owned();
    let mut parts = first.split(' ').skip(1);
    let mech = parts.next().unwrap_or("").to_ascii_uppercase();
    let initial = parts.next().map(str::to_owned);
    if mech == "PLAIN" {
        let blob = match initial {
            Some(i) => i,
            None => prompt(s, "", tls, state).await?,
        };
        let text = decode(&blob);
        let mut f = text.split('\0').skip(1);
        return Some((f.next()?.to_owned(), f.next().unwrap_or("").to_owned()));
    }
    let user = decode(&prompt(s, "VXNlcm5hbWU6", tls, state).await?);
    let password = decode(&prompt(s, "UGFzc3dvcmQ6", tls, state).await?);
    Some((user, password))
}

async fn prompt<S: AsyncBufRead + AsyncWrite + Unpin>(
    s: &mut S,
    text: &str,
    tls: bool,
    state: &Mutex<State>,
) -> Option<String> {
    s.write_all(format!("334 {text}\r\n").as_bytes())
        .await
        .ok()?;
    let mut line = String::new();
    read_line(s, &mut line, tls, state).await
}

fn path_arg(line: &str) -> String {
    let rest = line.split_once(':').map_or("", |(_, r)| r).trim();
    rest.strip_prefix('<')
        .and_then(|r| r.split_once('>'))
        .map_or_else(|| rest.to_owned(), |(a, _)| a.to_owned())
}
