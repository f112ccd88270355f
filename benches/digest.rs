//! Digest benchmark (not a test): render, compose and send one digest of 500 matches
//! over loopback SMTP to a real SMTP server, and report the time and the message size.
//!
//! `cargo bench --bench digest`

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use newswatch::config::{MailConfig, TransportConfig};
use newswatch::digest::render::{render_digest, Digest, DigestItem};
use newswatch::mail::{compose, new_message_id, Headers, Transport};

const ITEMS: usize = 500;

fn digest() -> Digest {
    let base = Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, 0).unwrap();
    let items = (0..ITEMS)
        .map(|i| {
            let (title, snippet, term) = match i % 3 {
                0 => (
                    format!("US troops begin withdrawal from Niger, report {i}"),
                    format!("Niamey - the withdrawal of US troops from Niger began on Monday, officials said in report {i}; the Agadez air base will be handed over before the end of the year, according to the Pentagon."),
                    "Niger",
                ),
                1 => (
                    format!("انسحاب القوات الأمريكية من النيجر {i}"),
                    format!("بدأت الولايات المتحدة سحب قواتها من النيجر، وأعلنت وزارة الدفاع أن الانسحاب من قاعدة أغاديز الجوية سيكتمل قبل نهاية العام {i}."),
                    "النيجر",
                ),
                _ => (
                    format!("Niger : le retrait des troupes s'achève {i}"),
                    format!("Le retrait des troupes étrangères du Niger s'achève : à Niamey, l'état-major a confirmé le calendrier ({i})."),
                    "Niger",
                ),
            };
            let at = snippet.find(term).unwrap();
            DigestItem {
                title,
                url: format!("https://news.example/{i}/story.html"),
                source: format!("source-{}", i % 13),
                published: Some(base + chrono::Duration::minutes(i as i64)),
                terms: vec![term.to_string()],
                highlights: std::iter::once(at..at + term.len()).collect(),
                snippet,
                lang: None,
                title_highlights: Vec::new(),
                also_in: Vec::new(),
                more_copies: 0,
            }
        })
        .collect();
    Digest::new("niger", items, chrono_tz::Africa::Niamey)
}

#[tokio::main]
async fn main() {
    let sink = support::smtp_sink::SmtpSink::start().await;
    let smtp = newswatch::config::smtp::parse_smtp_url(&format!("smtp://{}?tls=none", sink.addr()))
        .unwrap();
    let mail = MailConfig::new(
        "newswatch <newswatch@example.org>".parse().unwrap(),
        TransportConfig::Smtp(smtp),
    );
    let transport = Transport::from_config(&mail, std::path::Path::new("/nonexistent")).unwrap();
    let d = digest();
    let runs = 5;
    let mut times = Vec::new();
    let mut size = 0;
    for run in 0..runs {
        let t = Instant::now();
        let rendered = render_digest(&d);
        let id = new_message_id(&mail.from, Utc::now());
        let to = vec!["analyst@example.org".parse().unwrap()];
        let headers = Headers {
            from: &mail.from,
            to: &to,
            list: "niger",
            message_id: &id,
            date: Utc::now(),
            list_unsubscribe: None,
        };
        let bytes = compose(&rendered, &headers).unwrap();
        let composed = t.elapsed();
        transport
            .deliver(&mail.from, "analyst@example.org", &bytes, &id)
            .await
            .expect("the loopback server accepts");
        let total = t.elapsed();
        size = bytes.len();
        println!(
            "run {run}: render+compose {:.1} ms, + SMTP send {:.1} ms = {:.1} ms; message {} bytes (text {} B, html {} B)",
            composed.as_secs_f64() * 1e3,
            (total - composed).as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e3,
            bytes.len(),
            rendered.text.len(),
            rendered.html.len()
        );
        times.push(total);
    }
    let got = sink.wait_for(runs, Duration::from_secs(5)).await;
    assert_eq!(got.len(), runs, "every digest arrived");
    times.sort();
    println!(
        "digest of {ITEMS} matches: median {:.1} ms to render, compose and send over loopback SMTP; message {:.0} kB",
        times[runs / 2].as_secs_f64() * 1e3,
        size as f64 / 1024.0
    );
}
