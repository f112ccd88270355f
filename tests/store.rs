//! The state database on a real SQLite file: identity, baseline, exactly-once queuing.

use chrono::{Duration, Utc};
use newswatch::fetch::Validators;
use newswatch::model::TextFrom;
use newswatch::store::{
    DeliveryFailure, HealthChange, ScannedArticle, ScannedMatch, Store, TextDebt,
};

fn article(url: &str, fp: &str, reportable: bool, watchlists: &[&str]) -> ScannedArticle {
    ScannedArticle {
        urls: vec![url.to_string()],
        fingerprint: fp.to_string(),
        title: format!("title {fp}"),
        published: Some(Utc::now()),
        lang: Some("ar".into()),
        text: "النيجر".into(),
        text_from: Some(TextFrom::Page),
        debt: TextDebt::Settled,
        reportable_if_new: reportable,
        matches: watchlists
            .iter()
            .map(|w| ScannedMatch {
                watchlist: w.to_string(),
                terms: vec!["النيجر".into()],
                snippet: "النيجر".into(),
                highlights: vec![(0, 12)],
            })
            .collect(),
    }
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("state").join("newswatch.db")).unwrap();
    (dir, store)
}

#[test]
fn a_match_is_new_once_even_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newswatch.db");
    let now = Utc::now();
    {
        let store = Store::open(&path).unwrap();
        let r = store
            .record_scan(
                "s",
                &[article("https://a.example/1", "f1", true, &["niger"])],
                now,
            )
            .unwrap();
        assert!(r[0].new[0]);
        let r = store
            .record_scan(
                "s",
                &[article("https://a.example/1", "f1", true, &["niger"])],
                now,
            )
            .unwrap();
        assert!(!r[0].new[0]);
    }
    let store = Store::open(&path).unwrap();
    let r = store
        .record_scan(
            "s",
            &[article("https://a.example/1", "f1", true, &["niger"])],
            now,
        )
        .unwrap();
    assert!(!r[0].new[0], "a restart must not re-report");
    assert_eq!(store.pending_matches("niger").unwrap().len(), 1);
}

#[test]
fn same_story_by_another_url_or_fingerprint_is_one_article() {
    let (_d, store) = open();
    let now = Utc::now();
    store
        .record_scan(
            "feed-a",
            &[article("https://a.example/1", "same", true, &["niger"])],
            now,
        )
        .unwrap();
    let r = store
        .record_scan(
            "feed-b",
            &[article("https://b.example/other", "same", true, &["niger"])],
            now,
        )
        .unwrap();
    assert!(!r[0].new[0]);
    assert_eq!(
        r[0].url.as_deref(),
        Some("https://a.example/1"),
        "shown with the first canonical URL"
    );
    // A second watchlist on the same article is a new pair.
    let r = store
        .record_scan(
            "feed-b",
            &[article(
                "https://b.example/other",
                "same",
                true,
                &["niger", "sahel"],
            )],
            now,
        )
        .unwrap();
    assert_eq!(r[0].new, [false, true], "niger was recorded, sahel is new");
}

#[test]
fn baseline_articles_are_seen_but_never_reported() {
    let (_d, store) = open();
    let now = Utc::now();
    let r = store
        .record_scan(
            "s",
            &[article("https://a.example/old", "old", false, &["niger"])],
            now,
        )
        .unwrap();
    assert!(!r[0].new[0]);
    assert!(store.pending_matches("niger").unwrap().is_empty());
    assert!(store.source_state("s").unwrap().baselined);
    // Seen again later, it stays unreported.
    let r = store
        .record_scan(
            "s",
            &[article("https://a.example/old", "old", true, &["niger"])],
            now,
        )
        .unwrap();
    assert!(!r[0].new[0]);
}

#[test]
fn dry_run_peek_writes_nothing() {
    let (_d, store) = open();
    let arts = [article("https://a.example/1", "f1", true, &["niger"])];
    let r = store.peek_scan(&arts).unwrap();
    assert!(r[0].new[0]);
    assert!(store.pending_matches("niger").unwrap().is_empty());
    assert!(!store.source_state("s").unwrap().baselined);
}

#[test]
fn digest_claims_matches_once_and_deliveries_retry() {
    let (_d, store) = open();
    let now = Utc::now();
    store
        .record_scan(
            "s",
            &[article("https://a.example/1", "f1", true, &["niger"])],
            now,
        )
        .unwrap();
    let pending = store.pending_matches("niger").unwrap();
    let ids: Vec<i64> = pending.iter().map(|p| p.article_id).collect();
    let rcpts = vec!["a@example.org".to_string(), "b@example.org".to_string()];
    let id = store
        .record_digest("niger", "<m1@x>", "subj", b"bytes", &ids, &rcpts, None, now)
        .unwrap();
    assert!(store.pending_matches("niger").unwrap().is_empty());
    // The same matches cannot be claimed twice.
    assert!(store
        .record_digest("niger", "<m2@x>", "subj", b"bytes", &ids, &rcpts, None, now)
        .is_err());

    let due = store.due_deliveries(Some(now)).unwrap();
    assert_eq!(due.len(), 2);
    assert!(due
        .iter()
        .all(|d| d.message_id == "<m1@x>" && d.message == b"bytes"));
    store
        .mark_delivered(id, "a@example.org", "250 ok", now)
        .unwrap();
    let later = now + Duration::seconds(30);
    store
        .mark_delivery_failed(
            id,
            "b@example.org",
            "451 try later",
            DeliveryFailure::Transient(later),
        )
        .unwrap();
    assert!(store.due_deliveries(Some(now)).unwrap().is_empty());
    assert_eq!(
        store
            .next_delivery_at()
            .unwrap()
            .unwrap()
            .timestamp_millis(),
        later.timestamp_millis()
    );
    let all = store.due_deliveries(None).unwrap();
    assert_eq!(all.len(), 1, "start-up retries everything at once");
    assert_eq!(all[0].recipient, "b@example.org");
    assert_eq!(all[0].message_id, "<m1@x>");
    store
        .mark_delivery_failed(
            id,
            "b@example.org",
            "550 no such user",
            DeliveryFailure::Permanent,
        )
        .unwrap();
    assert!(store.due_deliveries(None).unwrap().is_empty());
    assert_eq!(store.queue_counts().unwrap(), (0, 0, 1));
}

#[test]
fn health_changes_once_per_change() {
    let (_d, store) = open();
    let t0 = Utc::now();
    let retry = t0 + Duration::minutes(1);
    assert_eq!(
        store
            .record_fetch_failure("s", "timeout", None, retry, t0)
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .record_fetch_failure("s", "timeout", None, retry, t0 + Duration::hours(12))
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .record_fetch_failure("s", "timeout", None, retry, t0 + Duration::hours(24))
            .unwrap(),
        Some(HealthChange::Failing)
    );
    assert_eq!(
        store
            .record_fetch_failure("s", "timeout", None, retry, t0 + Duration::hours(30))
            .unwrap(),
        None
    );
    let v = Validators {
        etag: Some("\"e1\"".into()),
        last_modified: None,
    };
    assert_eq!(
        store
            .record_fetch_success("s", Some(&v), 200, t0 + Duration::hours(31))
            .unwrap(),
        Some(HealthChange::Recovered)
    );
    assert_eq!(
        store
            .record_fetch_success("s", Some(&v), 304, t0 + Duration::hours(32))
            .unwrap(),
        None
    );
    assert_eq!(store.source_state("s").unwrap().validators, v);
    let notes = store.pending_health_notes("niger", |_| true).unwrap();
    assert_eq!(
        notes.iter().map(|n| n.kind.as_str()).collect::<Vec<_>>(),
        ["failing", "recovered"]
    );
    assert!(store
        .pending_health_notes("niger", |s| s != "s")
        .unwrap()
        .is_empty());
}
