//! The SMTP transport against a real SMTP server on loopback: what is accepted arrives
//! byte for byte, and each kind of refusal is classified as permanent or not.

mod support;

use std::time::Duration;

use lettre::message::Mailbox;
use newswatch::config::smtp::parse_smtp_url;
use newswatch::config::{MailConfig, TransportConfig};
use newswatch::mail::Transport;
use support::smtp_sink::SmtpSink;

fn transport(sink: &SmtpSink) -> Transport {
    // The sink speaks no TLS: plain text has to be asked for (issue 22).
    let smtp = parse_smtp_url(&format!("smtp://{}?tls=none", sink.addr())).unwrap();
    let cfg = MailConfig::new(
        "newswatch <newswatch@example.org>".parse().unwrap(),
        TransportConfig::Smtp(smtp),
    );
    Transport::from_config(&cfg, std::path::Path::new("/nonexistent")).unwrap()
}

fn from() -> Mailbox {
    "newswatch@example.org".parse().unwrap()
}

/// Delivers [`MESSAGE`] to `to` through `t`.
async fn send(t: &Transport, to: &str) -> Result<String, newswatch::mail::MailError> {
    t.deliver(&from(), to, MESSAGE.as_bytes(), "<m1@example.org>")
        .await
}

const MESSAGE: &str =
    "Subject: t\r\nMessage-ID: <m1@example.org>\r\n\r\nline one\r\n.starts with a dot\r\n";

#[tokio::test]
async fn accepted_message_arrives_intact() {
    let sink = SmtpSink::start().await;
    let t = transport(&sink);
    let answer = send(&t, "reader@example.org").await.expect("accepted");
    assert!(
        answer.starts_with("250"),
        "server answer reported: {answer}"
    );
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from, "newswatch@example.org");
    assert_eq!(got[0].to, vec!["reader@example.org".to_string()]);
    assert!(
        got[0].data.contains("\r\n.starts with a dot\r\n"),
        "dot-stuffing round-trips: {:?}",
        got[0].data
    );
}

#[tokio::test]
async fn temporary_refusal_is_not_permanent() {
    let sink = SmtpSink::start().await;
    sink.fail_next(1, 451);
    let t = transport(&sink);
    let err = send(&t, "reader@example.org")
        .await
        .expect_err("451 refuses");
    assert!(!err.permanent, "{err}");
    assert!(sink.messages().is_empty());
    send(&t, "reader@example.org")
        .await
        .expect("the retry goes through");
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn unknown_recipient_is_permanent() {
    let sink = SmtpSink::start().await;
    sink.reject_rcpt("gone@example.org", 550);
    let t = transport(&sink);
    let err = send(&t, "gone@example.org").await.expect_err("550 on RCPT");
    assert!(err.permanent, "{err}");
    send(&t, "reader@example.org")
        .await
        .expect("other recipients still get it");
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn connection_cut_during_data_is_retryable() {
    let sink = SmtpSink::start().await;
    sink.close_mid_data(1);
    let t = transport(&sink);
    let err = tokio::time::timeout(Duration::from_secs(10), send(&t, "reader@example.org"))
        .await
        .expect("a dropped connection is noticed at once")
        .expect_err("cut off");
    assert!(!err.permanent, "{err}");
    assert!(sink.messages().is_empty());
}
