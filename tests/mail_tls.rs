//! Issue 22: passwords never travel in clear. The production lettre path against a real TLS
//! SMTP server on loopback (tests/support/smtp_tls.rs) with certificates from a CA made by
//! the test: `smtp://` without `?tls=` requires STARTTLS, the certificate is checked (refused
//! without `ca_file`, accepted with it), AUTH happens only inside TLS, a server without
//! STARTTLS gets neither the password nor the message, and every failure is one sentence
//! naming the server. Bad `smtp_url` / `ca_file` values are config errors with
//! file:line:column.

mod support;

use std::path::{Path, PathBuf};

use lettre::message::Mailbox;
use newswatch::config::Config;
use newswatch::mail::{MailError, Transport};
use support::cli;
use support::config::{self, ConfigFile, Table};
use support::smtp_tls::{Mode, TestPki, TlsSmtp};

const USER: &str = "alerts";
const PASSWORD: &str = "s3cret-Pa55";
const MESSAGE: &str = "Subject: t\r\nMessage-ID: <m1@example.org>\r\n\r\nbody\r\n";

/// `[mail]` through `smtp_url`, from `newswatch <newswatch@example.org>`.
fn mail(smtp_url: &str) -> Table {
    Table::new("mail")
        .set("from", "newswatch <newswatch@example.org>")
        .set("transport", "smtp")
        .set("smtp_url", smtp_url)
}

/// A config file in `dir` with `mail` as its `[mail]`; returns its path. The lines:
/// 1 `state_dir`, 2 `[mail]`, 3 `from`, 4 `transport`, 5 `smtp_url`, 6 the next key.
fn write_config(dir: &Path, mail: Table) -> PathBuf {
    ConfigFile::in_dir(dir).with(mail).write_in(dir)
}

fn ca_file(dir: &Path, pem: &str) -> PathBuf {
    let p = dir.join("relay-ca.pem");
    std::fs::write(&p, pem).unwrap();
    p
}

/// The transport the config at `path` describes, logging in with [`PASSWORD`].
fn transport(path: &Path) -> Transport {
    let config = Config::load(path).unwrap_or_else(|e| panic!("valid config: {e}"));
    Transport::with_password(&config.mail, &config.outbox_dir(), Some(PASSWORD.into())).unwrap()
}

async fn send(t: &Transport) -> Result<String, MailError> {
    let from: Mailbox = "newswatch@example.org".parse().unwrap();
    t.deliver(
        &from,
        "reader@example.org",
        MESSAGE.as_bytes(),
        "<m1@example.org>",
    )
    .await
}

/// The password in any form a client could send it: as is, and inside AUTH PLAIN / LOGIN.
fn password_forms() -> Vec<String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    vec![
        PASSWORD.to_owned(),
        b64.encode(format!("\0{USER}\0{PASSWORD}")),
        b64.encode(PASSWORD),
    ]
}

fn assert_password_never_in_clear(server: &TlsSmtp) {
    let plain = String::from_utf8_lossy(&server.plain_bytes()).into_owned();
    for form in password_forms() {
        assert!(!plain.contains(&form), "password crossed in clear: {plain}");
    }
    let early: Vec<_> = server
        .commands("AUTH")
        .into_iter()
        .filter(|l| !l.tls)
        .collect();
    assert!(early.is_empty(), "AUTH before TLS: {early:?}");
}

fn assert_one_sentence(err: &MailError, server: &TlsSmtp, needle: &str) {
    let msg = &err.message;
    assert!(!msg.contains('\n'), "one line: {msg:?}");
    assert!(
        msg.contains(&server.addr().to_string()),
        "names the server: {msg}"
    );
    assert!(msg.contains(needle), "says {needle:?}: {msg}");
    assert!(
        !msg.contains("Other(") && !msg.contains("Connection error"),
        "no debug dump: {msg}"
    );
}

#[tokio::test]
async fn starttls_is_required_by_default_and_the_ca_decides() {
    let pki = TestPki::new();
    let server = TlsSmtp::start(Mode::StartTls, &pki.server_cert(), USER, PASSWORD).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("smtp://{USER}@{}", server.addr());

    // No ca_file: the test CA is in no system store, so the handshake is refused before AUTH.
    let err = send(&transport(&write_config(dir.path(), mail(&url))))
        .await
        .expect_err("an unknown CA is refused");
    assert!(!err.permanent, "stays queued: {err}");
    assert_one_sentence(&err, &server, "is not trusted");
    assert!(err.message.contains("[mail] ca_file"), "{err}");
    assert_eq!(server.commands("STARTTLS").len(), 1, "{:?}", server.lines());
    assert!(server.commands("AUTH").is_empty() && server.commands("MAIL").is_empty());
    assert!(server.accepted().is_empty());

    // With the CA in ca_file: STARTTLS, then AUTH inside TLS, then the message.
    let ca = ca_file(dir.path(), &pki.ca_pem);
    let cfg = write_config(dir.path(), mail(&url).set("ca_file", config::path(&ca)));
    let reply = send(&transport(&cfg)).await.expect("accepted with ca_file");
    assert!(reply.starts_with("250"), "{reply}");
    let got = server.accepted();
    assert_eq!(got.len(), 1);
    assert!(got[0].tls, "the message went inside TLS");
    assert_eq!(got[0].user.as_deref(), Some(USER), "logged in");
    assert_eq!(server.commands("AUTH").len(), 1);
    assert_password_never_in_clear(&server);
    // EHLO names the domain of `from` by default, before and after STARTTLS.
    let ehlo: Vec<String> = server
        .commands("EHLO")
        .into_iter()
        .map(|l| l.text)
        .collect();
    assert!(ehlo.iter().all(|l| l == "EHLO example.org"), "{ehlo:?}");
}

#[tokio::test]
async fn a_server_without_starttls_gets_neither_password_nor_message() {
    let pki = TestPki::new();
    let server = TlsSmtp::start(Mode::NoStartTls, &pki.server_cert(), USER, PASSWORD).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        mail(&format!("smtp://{USER}@{}", server.addr())),
    );
    let err = send(&transport(&cfg)).await.expect_err("TLS is required");
    assert!(!err.permanent, "the delivery stays queued: {err}");
    assert_one_sentence(&err, &server, "does not offer STARTTLS");
    assert!(err.message.contains("nothing was sent"), "{err}");
    assert!(server.commands("AUTH").is_empty(), "{:?}", server.lines());
    assert!(server.commands("MAIL").is_empty());
    assert_password_never_in_clear(&server);
}

#[tokio::test]
async fn implicit_tls_for_smtps() {
    let pki = TestPki::new();
    let server = TlsSmtp::start(Mode::Implicit, &pki.server_cert(), USER, PASSWORD).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = ca_file(dir.path(), &pki.ca_pem);
    let cfg = write_config(
        dir.path(),
        mail(&format!("smtps://{USER}@{}", server.addr()))
            .set("ca_file", config::path(&ca))
            .set("helo_name", "newswatch.example.net"),
    );
    send(&transport(&cfg)).await.expect("accepted over smtps");
    assert!(server.accepted()[0].tls);
    assert_eq!(server.accepted()[0].user.as_deref(), Some(USER));
    assert!(server.plain_bytes().is_empty(), "not one byte in clear");
    let ehlo: Vec<String> = server
        .commands("EHLO")
        .into_iter()
        .map(|l| l.text)
        .collect();
    assert_eq!(ehlo, ["EHLO newswatch.example.net"], "helo_name is used");
}

#[tokio::test]
async fn a_self_signed_relay_is_trusted_through_ca_file() {
    let cert = TestPki::self_signed();
    let server = TlsSmtp::start(Mode::StartTls, &cert, USER, PASSWORD).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("smtp://{USER}@{}", server.addr());
    let err = send(&transport(&write_config(dir.path(), mail(&url))))
        .await
        .expect_err("self-signed is refused by default");
    assert_one_sentence(&err, &server, "is not trusted");
    let ca = ca_file(dir.path(), &cert.pem);
    let cfg = write_config(dir.path(), mail(&url).set("ca_file", config::path(&ca)));
    send(&transport(&cfg)).await.expect("trusted once named");
    assert_password_never_in_clear(&server);
}

#[tokio::test]
async fn a_ca_certificate_served_as_the_server_certificate_is_explained() {
    let pki = TestPki::new();
    let server = TlsSmtp::start(Mode::StartTls, &pki.ca_as_server(), USER, PASSWORD).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = ca_file(dir.path(), &pki.ca_pem);
    let cfg = write_config(
        dir.path(),
        mail(&format!("smtp://{USER}@{}", server.addr())).set("ca_file", config::path(&ca)),
    );
    let err = send(&transport(&cfg)).await.expect_err("refused");
    assert_one_sentence(
        &err,
        &server,
        "is a CA certificate, not a server certificate",
    );
    assert!(server.commands("AUTH").is_empty());
}

#[tokio::test]
async fn a_wrong_password_is_one_sentence_and_not_permanent() {
    let pki = TestPki::new();
    let server = TlsSmtp::start(Mode::StartTls, &pki.server_cert(), USER, "other").await;
    let dir = tempfile::tempdir().unwrap();
    let ca = ca_file(dir.path(), &pki.ca_pem);
    let cfg = write_config(
        dir.path(),
        mail(&format!("smtp://{USER}@{}", server.addr())).set("ca_file", config::path(&ca)),
    );
    let err = send(&transport(&cfg)).await.expect_err("535");
    assert!(
        !err.permanent,
        "a login problem is the operator's to fix: stays queued"
    );
    assert_one_sentence(&err, &server, "refused the login of user \"alerts\" (535");
    assert!(!err.message.contains(PASSWORD));
}

#[tokio::test]
async fn plain_text_only_when_written_out() {
    let pki = TestPki::new();
    let server = TlsSmtp::start(Mode::StartTls, &pki.server_cert(), USER, PASSWORD).await;
    let dir = tempfile::tempdir().unwrap();
    // tls=none: no STARTTLS even when offered (the operator asked for it).
    let cfg = write_config(
        dir.path(),
        mail(&format!("smtp://{}?tls=none", server.addr())),
    );
    send(&transport(&cfg)).await.expect("plain text accepted");
    assert!(server.commands("STARTTLS").is_empty());
    assert!(!server.accepted()[0].tls);

    // tls=opportunistic against a server without STARTTLS: plain text too.
    let bare = TlsSmtp::start(Mode::NoStartTls, &pki.server_cert(), USER, PASSWORD).await;
    let cfg = write_config(
        dir.path(),
        mail(&format!("smtp://{}?tls=opportunistic", bare.addr())),
    );
    send(&transport(&cfg))
        .await
        .expect("opportunistic falls back");
    assert!(!bare.accepted()[0].tls);
}

/// `newswatch --config CONFIG ARGS…` with `envs` set: exit code, stdout, stderr.
fn newswatch(config: &Path, args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = cli::with_config(config, args);
    cmd.envs(envs.iter().copied());
    let out = cli::output(&mut cmd);
    (out.code.unwrap_or(-1), out.stdout, out.stderr)
}

#[test]
fn ca_file_missing_or_not_pem_is_a_config_error_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let cases = [
        (config::path(&missing), "cannot read "),
        ("junk.pem".into(), "holds no PEM certificate"),
        ("broken.pem".into(), "is not PEM"),
    ];
    std::fs::write(dir.path().join("junk.pem"), "not a certificate\n").unwrap();
    std::fs::write(
        dir.path().join("broken.pem"),
        "-----BEGIN CERTIFICATE-----\nMIIB\n",
    )
    .unwrap();
    for (ca, needle) in cases {
        let line = format!("ca_file = {ca}");
        let cfg = write_config(
            dir.path(),
            mail("smtp://mail.example.org").set("ca_file", ca),
        );
        let (code, _, err) = newswatch(&cfg, &["check"], &[]);
        assert_eq!(code, 2, "{line}: {err}");
        let want = format!("{}:6:11: mail.ca_file: ", cfg.display());
        let hit = err.lines().find(|l| l.starts_with(&want));
        let hit = hit.unwrap_or_else(|| panic!("{line}: no {want:?} in {err}"));
        assert!(hit.contains(needle), "{line}: {hit}");
    }
}

#[test]
fn every_part_of_smtp_url_is_checked_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        mail("smtp://alerts@mail.example.org:587?tls=bogus"),
    );
    let want = format!(
        "{}:5:48: mail.smtp_url: tls: expected \"required\", \"opportunistic\" or \"none\", found \"bogus\"",
        cfg.display()
    );
    for cmd in ["check", "run"] {
        let (code, _, err) = newswatch(&cfg, &[cmd], &[]);
        assert_eq!(code, 2, "{cmd}: {err}");
        assert_eq!(
            err.matches("tls: expected").count(),
            1,
            "{cmd}: said once: {err}"
        );
        assert!(err.contains(&want), "{cmd}: {err}");
    }
}

#[test]
fn check_warns_on_tls_none_with_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        mail("smtp://alerts@mail.example.org:25?tls=none"),
    );
    let (code, out, err) = newswatch(&cfg, &["check"], &[("NEWSWATCH_SMTP_PASSWORD", PASSWORD)]);
    assert_eq!(code, 0, "valid, only unsafe: {err}");
    let want = format!(
        "{}:5:12: warning: mail.smtp_url has tls=none",
        cfg.display()
    );
    assert!(err.contains(&want), "{err}");
    assert!(err.contains("in clear to mail.example.org:25"), "{err}");
    assert!(!err.contains(PASSWORD) && !out.contains(PASSWORD));
    assert!(
        out.contains("plain text, no TLS"),
        "the plan says so too: {out}"
    );

    // The default needs no warning, and the plan says what it does.
    let cfg = write_config(dir.path(), mail("smtp://alerts@mail.example.org"));
    let (code, out, err) = newswatch(&cfg, &["check"], &[("NEWSWATCH_SMTP_PASSWORD", PASSWORD)]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert!(
        out.contains("smtp mail.example.org:587 (STARTTLS required)"),
        "{out}"
    );
    assert!(out.contains("helo example.org"), "{out}");
}

/// Bad input: a relay without STARTTLS while TLS is required. Through the real binary: the
/// digest stays queued, the password is never sent, and the log says why in one line.
#[tokio::test(flavor = "multi_thread")]
async fn a_digest_for_a_relay_without_starttls_stays_queued_and_the_log_says_why() {
    use support::feeds::{rss, Item};
    use wiremock::MockServer;

    let pki = TestPki::new();
    let relay = TlsSmtp::start(Mode::NoStartTls, &pki.server_cert(), USER, PASSWORD).await;
    let site = MockServer::start().await;
    let feed = rss(&[Item::new(
        "Niger junta talks continue",
        "http://example.org/a/1",
        "Talks go on.",
    )]);
    support::site::serve_feed(&site, feed).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = ConfigFile::in_dir(dir.path())
        .with(mail(&format!("smtp://{USER}@{}", relay.addr())))
        .with(Table::new("http").set("per_host_delay_ms", 0))
        .with(config::backfill_all())
        .with(config::source("wire", &format!("{}/feed.xml", site.uri())).set("follow", false))
        .with(config::watchlist("niger", &["Niger"]))
        .write_in(dir.path());
    let pw = [("NEWSWATCH_SMTP_PASSWORD", PASSWORD)];
    let (code, _, err) = newswatch(&cfg, &["scan"], &pw);
    assert_eq!(code, 0, "{err}");

    let (code, out, err) = newswatch(&cfg, &["digest", "--send"], &pw);
    assert_eq!(code, 1, "a delivery stayed queued: {out}\n{err}");
    let why: Vec<&str> = err.lines().filter(|l| l.contains("STARTTLS")).collect();
    assert_eq!(why.len(), 1, "one line says why: {err}");
    assert!(why[0].contains("delivery failed; will retry"), "{}", why[0]);
    assert!(why[0].contains(&relay.addr().to_string()), "{}", why[0]);
    assert!(!err.contains(PASSWORD));
    assert!(relay.commands("AUTH").is_empty() && relay.commands("MAIL").is_empty());
    assert_password_never_in_clear(&relay);

    let (code, out, err) = newswatch(&cfg, &["status", "--json"], &[]);
    assert_eq!(code, 0, "{err}");
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    let queued = status["undelivered"].as_array().unwrap();
    assert_eq!(queued.len(), 1, "{status}");
    assert_ne!(queued[0]["state"], "failed", "not given up: {status}");
    assert!(
        queued[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("does not offer STARTTLS")),
        "{status}"
    );
}

/// The unit's fallback credential (`SetCredential=smtp-password:\n`, used when the operator
/// created no password file) reads as no password at all.
#[test]
fn an_empty_credential_is_no_password() {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("creds");
    std::fs::create_dir(&creds).unwrap();
    let cfg = write_config(dir.path(), mail("smtp://mail.example.org:25?tls=none"));
    let creds_dir = creds.to_str().unwrap();
    for (content, warned) in [("\n", false), ("", false), ("hunter2\n", true)] {
        std::fs::write(creds.join("smtp-password"), content).unwrap();
        let (code, _, err) = newswatch(&cfg, &["check"], &[("CREDENTIALS_DIRECTORY", creds_dir)]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            err.contains("warning: mail.smtp_url has tls=none"),
            warned,
            "{content:?}: {err}"
        );
    }
}
