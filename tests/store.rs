//! The state database: identity, baseline, exactly-once queuing, the outbox and health, on
//! a real database of every backend (`backends()`).

mod support;

use chrono::{Duration, Utc};
use newswatch::model::{
    ArticleMatch, DigestRecord, HealthChange, ScannedArticle, SourceName, TextDebt, TextFrom,
    Validators, WatchlistName,
};
use newswatch::store::{
    DeliveryFailure, FetchFailure, FetchSuccess, QueueCounts, Store, StoreError,
};
use support::name;

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
        sketch: None,
        reportable_if_new: reportable,
        matches: watchlists
            .iter()
            .map(|w| ArticleMatch {
                watchlist: name(w),
                terms: vec!["النيجر".into()],
                snippet: "النيجر".into(),
                highlights: vec![(0, 12)],
                title_highlights: vec![],
                prominence: newswatch::model::Prominence::default(),
            })
            .collect(),
    }
}

#[tokio::test]
async fn a_match_is_new_once_even_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newswatch.db");
    let url = support::pg::cluster().fresh_db().await;
    let sqlite = || async { Store::open(&path).unwrap() };
    let postgres = || async { Store::open_postgres(&url, None).await.unwrap() };
    for backend in ["sqlite", "postgresql"] {
        let open = || async {
            match backend {
                "sqlite" => sqlite().await,
                _ => postgres().await,
            }
        };
        let now = Utc::now();
        let s: SourceName = name("s");
        let a = [article("https://a.example/1", "f1", true, &["niger"])];
        {
            let store = open().await;
            assert_eq!(store.record_scan(&s, &a, now).await.unwrap()[0].new, [true]);
            assert_eq!(
                store.record_scan(&s, &a, now).await.unwrap()[0].new,
                [false]
            );
        }
        let store = open().await;
        let r = store.record_scan(&s, &a, now).await.unwrap();
        assert_eq!(r[0].new, [false], "{backend}: a restart must not re-report");
        assert_eq!(
            store.pending_matches(&name("niger")).await.unwrap().len(),
            1,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn same_story_by_another_url_or_fingerprint_is_one_article() {
    for (_d, store) in support::backends().await {
        let now = Utc::now();
        let a = [article("https://a.example/1", "same", true, &["niger"])];
        store.record_scan(&name("feed-a"), &a, now).await.unwrap();
        let b = [article("https://b.example/other", "same", true, &["niger"])];
        let r = store.record_scan(&name("feed-b"), &b, now).await.unwrap();
        assert_eq!(r[0].new, [false]);
        assert_eq!(
            r[0].url.as_deref(),
            Some("https://a.example/1"),
            "shown with the first canonical URL"
        );
        // A second watchlist on the same article is a new pair.
        let c = [article(
            "https://b.example/other",
            "same",
            true,
            &["niger", "sahel"],
        )];
        let r = store.record_scan(&name("feed-b"), &c, now).await.unwrap();
        assert_eq!(r[0].new, [false, true], "niger was recorded, sahel is new");
        // Known by either URL now.
        let known = store
            .known_articles(&["https://a.example/1", "https://b.example/other"])
            .await
            .unwrap();
        assert_eq!(known.len(), 2);
        let ids: std::collections::HashSet<i64> = known.values().map(|k| k.id).collect();
        assert_eq!(ids.len(), 1, "one article");
    }
}

#[tokio::test]
async fn baseline_articles_are_seen_but_never_reported() {
    for (_d, store) in support::backends().await {
        let now = Utc::now();
        let s: SourceName = name("s");
        let old = [article("https://a.example/old", "old", false, &["niger"])];
        let r = store.record_scan(&s, &old, now).await.unwrap();
        assert_eq!(r[0].new, [false]);
        assert!(store
            .pending_matches(&name("niger"))
            .await
            .unwrap()
            .is_empty());
        assert!(store.source_state(&s).await.unwrap().baselined);
        // Seen again later, it stays unreported.
        let again = [article("https://a.example/old", "old", true, &["niger"])];
        let r = store.record_scan(&s, &again, now).await.unwrap();
        assert_eq!(r[0].new, [false]);
    }
}

#[tokio::test]
async fn dry_run_peek_writes_nothing() {
    for (_d, store) in support::backends().await {
        let arts = [article("https://a.example/1", "f1", true, &["niger"])];
        let r = store.peek_scan(&arts).await.unwrap();
        assert_eq!(r[0].new, [true]);
        assert!(store
            .pending_matches(&name("niger"))
            .await
            .unwrap()
            .is_empty());
        assert!(!store.source_state(&name("s")).await.unwrap().baselined);
    }
}

#[tokio::test]
async fn owed_text_is_paid_once_and_its_new_pairs_are_new() {
    for (_d, store) in support::backends().await {
        let s: SourceName = name("s");
        let now = Utc::now();
        let mut teaser = article("https://a.example/1", "teaser", true, &[]);
        teaser.text_from = Some(TextFrom::Feed);
        teaser.debt = TextDebt::Owed {
            url: "https://a.example/1".into(),
            tries: 1,
            next_try_at: now + Duration::minutes(1),
            error: "timed out".into(),
        };
        store.record_scan(&s, &[teaser], now).await.unwrap();
        assert!(store.owed_due(&s, now).await.unwrap().is_empty(), "not yet");
        let due = store
            .owed_due(&s, now + Duration::minutes(2))
            .await
            .unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].owed.as_ref().unwrap().tries, 1);
        assert_eq!(store.owed_by_source().await.unwrap().get("s"), Some(&1));

        let full = article("https://a.example/1", "full text", true, &["niger"]);
        let r = store
            .record_scan(&s, std::slice::from_ref(&full), now)
            .await
            .unwrap();
        assert_eq!(r[0].new, [true], "the page's text adds a new pair");
        assert!(store.owed_by_source().await.unwrap().is_empty());
        let known = store
            .known_articles(&["https://a.example/1"])
            .await
            .unwrap();
        let k = &known["https://a.example/1"];
        assert_eq!(k.title, "title full text");
        assert_eq!(k.text_from, Some(TextFrom::Page));
        assert!(k.owed.is_none());
        let r = store.record_scan(&s, &[full], now).await.unwrap();
        assert_eq!(r[0].new, [false]);
    }
}

#[tokio::test]
async fn owed_text_that_is_another_stored_story_is_that_story() {
    for (_d, store) in support::backends().await {
        let s: SourceName = name("s");
        let now = Utc::now();
        let original = article("https://a.example/story", "wire copy", true, &["niger"]);
        store.record_scan(&s, &[original], now).await.unwrap();
        let mut teaser = article("https://b.example/copy", "teaser", true, &[]);
        teaser.debt = TextDebt::Owed {
            url: "https://b.example/copy".into(),
            tries: 1,
            next_try_at: now,
            error: "503".into(),
        };
        store.record_scan(&s, &[teaser], now).await.unwrap();
        // Its page turns out to be the wire copy already stored.
        let copy = article("https://b.example/copy", "wire copy", true, &["niger"]);
        let r = store.record_scan(&s, &[copy], now).await.unwrap();
        assert_eq!(r[0].new, [false], "the story was recorded already");
        assert_eq!(r[0].url.as_deref(), Some("https://a.example/story"));
        assert!(store.owed_by_source().await.unwrap().is_empty());
        assert_eq!(
            store.pending_matches(&name("niger")).await.unwrap().len(),
            1
        );
    }
}

fn record(watchlist: &str, id: &str, ids: &[i64]) -> DigestRecord {
    DigestRecord {
        watchlist: name(watchlist),
        message_id: id.into(),
        subject: "subj".into(),
        message: b"bytes".to_vec(),
        article_ids: ids.to_vec(),
        recipients: vec!["a@example.org".into(), "b@example.org".into()],
        health_seen: None,
    }
}

#[tokio::test]
async fn digest_claims_matches_once_and_deliveries_retry() {
    for (_d, store) in support::backends().await {
        let now = Utc::now();
        let niger: WatchlistName = name("niger");
        let a = [article("https://a.example/1", "f1", true, &["niger"])];
        store.record_scan(&name("s"), &a, now).await.unwrap();
        let pending = store.pending_matches(&niger).await.unwrap();
        let ids: Vec<i64> = pending.iter().map(|p| p.article_id).collect();
        store
            .record_digest(&record("niger", "<m1@x>", &ids), now)
            .await
            .unwrap();
        assert!(store.pending_matches(&niger).await.unwrap().is_empty());
        // The same matches cannot be claimed twice.
        assert!(matches!(
            store
                .record_digest(&record("niger", "<m2@x>", &ids), now)
                .await,
            Err(StoreError::Conflict)
        ));

        let due = store.due_deliveries(Some(now)).await.unwrap();
        assert_eq!(due.len(), 2);
        assert!(due
            .iter()
            .all(|d| d.message_id == "<m1@x>" && d.message == b"bytes"));
        let (to_a, to_b) = (&due[0], &due[1]);
        assert_eq!(to_a.recipient, "a@example.org");
        store.mark_delivered(to_a, "250 ok", now).await.unwrap();
        let later = now + Duration::seconds(30);
        store
            .mark_delivery_failed(to_b, "451 try later", DeliveryFailure::Transient(later))
            .await
            .unwrap();
        assert!(store.due_deliveries(Some(now)).await.unwrap().is_empty());
        assert_eq!(
            store
                .next_delivery_at()
                .await
                .unwrap()
                .unwrap()
                .timestamp_millis(),
            later.timestamp_millis()
        );
        let all = store.due_deliveries(None).await.unwrap();
        assert_eq!(all.len(), 1, "start-up retries everything at once");
        assert_eq!(all[0].recipient, "b@example.org");
        assert_eq!(all[0].message_id, "<m1@x>");
        assert_eq!(all[0].attempts, 1);
        store
            .mark_delivery_failed(&all[0], "550 no such user", DeliveryFailure::Permanent)
            .await
            .unwrap();
        assert!(store.due_deliveries(None).await.unwrap().is_empty());
        assert_eq!(
            store.queue_counts().await.unwrap(),
            QueueCounts {
                pending_matches: 0,
                undelivered: 0,
                refused: 1
            }
        );
        let undelivered = store.undelivered().await.unwrap();
        assert_eq!(undelivered.len(), 1);
        assert_eq!(
            undelivered[0].last_error.as_deref(),
            Some("550 no such user")
        );
    }
}

/// A successful read writes its source's row in one `UPDATE` (issue 21): validators, the
/// refetch floor (or none), failures reset, the baseline, a recovery after failing — and a
/// source without a row yet gets one.
#[tokio::test]
async fn a_read_records_everything_of_its_source_in_one_update() {
    for (_d, store) in support::backends().await {
        let t0 = Utc::now();
        let v = Validators {
            etag: Some("\"e7\"".into()),
            last_modified: Some("Mon, 07 Dec 2026 10:00:00 GMT".into()),
        };
        let floor = t0 + Duration::minutes(30);
        let read = |refetch_floor| FetchSuccess {
            validators: v.clone(),
            status: 200,
            refetch_floor,
        };
        // Never seen before: no row until this read.
        let fresh: SourceName = name("fresh");
        let a = article("https://example.org/a", "fa", true, &["niger"]);
        let r = store
            .record_read(&fresh, &[a], &read(Some(floor)), t0, None)
            .await
            .unwrap();
        assert_eq!((r.health, r.articles.len()), (None, 1));
        let state = store.source_state(&fresh).await.unwrap();
        assert_eq!(state.validators, v);
        assert_eq!(
            state.retry_at.map(|t| t.timestamp()),
            Some(floor.timestamp())
        );
        assert!(state.baselined, "the read's article counts: {state:?}");
        assert_eq!(state.consecutive_failures, 0);

        // Failing for a day, then read: recovered, failures and back-off cleared.
        let sick: SourceName = name("sick");
        let failure = FetchFailure {
            message: "timeout".into(),
            status: None,
            retry_at: t0 + Duration::hours(40),
        };
        for hours in [0, 12, 25] {
            store
                .record_fetch_failure(&sick, &failure, t0 + Duration::hours(hours))
                .await
                .unwrap();
        }
        let at = t0 + Duration::hours(26);
        let r = store
            .record_read(&sick, &[], &read(None), at, None)
            .await
            .unwrap();
        assert_eq!(r.health, Some(HealthChange::Recovered));
        let state = store.source_state(&sick).await.unwrap();
        assert_eq!((state.consecutive_failures, state.retry_at), (0, None));
        assert_eq!(state.validators, v);
        // Once recovered, the next read changes nothing.
        let r = store
            .record_read(&sick, &[], &read(None), at, None)
            .await
            .unwrap();
        assert_eq!(r.health, None);

        // Every source's state read at once is each one's own (`scan` reads them so).
        let all = store.source_states().await.unwrap();
        for s in [&fresh, &sick] {
            let one = store.source_state(s).await.unwrap();
            let got = &all[s];
            assert_eq!(
                (
                    &got.validators,
                    got.baselined,
                    got.consecutive_failures,
                    got.retry_at
                ),
                (
                    &one.validators,
                    one.baselined,
                    one.consecutive_failures,
                    one.retry_at
                ),
                "{s}"
            );
        }
        assert!(!all.contains_key("never"));
    }
}

#[tokio::test]
async fn health_changes_once_per_change() {
    for (_d, store) in support::backends().await {
        let s: SourceName = name("s");
        let t0 = Utc::now();
        let failure = FetchFailure {
            message: "timeout".into(),
            status: None,
            retry_at: t0 + Duration::minutes(1),
        };
        let mut changes = Vec::new();
        for hours in [0, 12, 24, 30] {
            let at = t0 + Duration::hours(hours);
            changes.push(store.record_fetch_failure(&s, &failure, at).await.unwrap());
        }
        assert_eq!(changes, [None, None, Some(HealthChange::Failing), None]);
        let v = Validators {
            etag: Some("\"e1\"".into()),
            last_modified: None,
        };
        let at = t0 + Duration::hours(31);
        assert_eq!(
            store
                .record_fetch_success(&s, Some(&v), 200, at)
                .await
                .unwrap(),
            Some(HealthChange::Recovered)
        );
        let at = t0 + Duration::hours(32);
        assert_eq!(
            store
                .record_fetch_success(&s, Some(&v), 304, at)
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.source_state(&s).await.unwrap().validators, v);
        let niger: WatchlistName = name("niger");
        let events = store.pending_health_events(&niger, |_| true).await.unwrap();
        assert_eq!(
            events.iter().map(|n| n.change).collect::<Vec<_>>(),
            [HealthChange::Failing, HealthChange::Recovered]
        );
        assert!(store
            .pending_health_events(&niger, |n| n.as_str() != "s")
            .await
            .unwrap()
            .is_empty());
    }
}

fn sketch(words: u32, hashes: &[u64]) -> newswatch::model::StorySketch {
    newswatch::model::StorySketch {
        words,
        shingles: u32::try_from(hashes.len()).unwrap(),
        hashes: hashes.to_vec(),
    }
}

/// Issue 19: an article's sketch and where its terms sit are kept with it, the sketch
/// replaced when its owed text arrives, and read back with its pending match.
#[tokio::test]
async fn sketches_and_term_places_are_kept_with_the_article() {
    for (_d, store) in support::backends().await {
        let s: SourceName = name("s");
        let now = Utc::now();
        let mut teaser = article("https://a.example/1", "teaser", true, &["niger"]);
        teaser.sketch = Some(sketch(20, &[1, 2, 3]));
        teaser.matches[0].title_highlights = vec![(0, 5)];
        teaser.matches[0].prominence = newswatch::model::Prominence {
            in_title: true,
            first_in_body: Some(120),
            occurrences: 4,
        };
        teaser.debt = TextDebt::Owed {
            url: "https://a.example/1".into(),
            tries: 1,
            next_try_at: now,
            error: "timed out".into(),
        };
        store.record_scan(&s, &[teaser], now).await.unwrap();
        let p = store.pending_matches(&name("niger")).await.unwrap();
        assert_eq!(p[0].sketch, Some(sketch(20, &[1, 2, 3])));
        assert_eq!(p[0].title_highlights, [(0, 5)]);
        assert_eq!(p[0].prominence.first_in_body, Some(120));
        assert!(p[0].prominence.in_title);
        assert_eq!(p[0].prominence.occurrences, 4);
        assert_eq!(p[0].first_seen.timestamp_millis(), now.timestamp_millis());

        let mut full = article("https://a.example/1", "full text", true, &["niger"]);
        full.sketch = Some(sketch(400, &[5, 8]));
        store.record_scan(&s, &[full], now).await.unwrap();
        let p = store.pending_matches(&name("niger")).await.unwrap();
        assert_eq!(
            p[0].sketch,
            Some(sketch(400, &[5, 8])),
            "the page's text's sketch"
        );
        let mut gone = article("https://b.example/2", "short", true, &["niger"]);
        gone.sketch = None;
        store.record_scan(&s, &[gone], now).await.unwrap();
        let p = store.pending_matches(&name("niger")).await.unwrap();
        assert_eq!(p[1].sketch, None);
        assert_eq!(
            p[1].prominence,
            newswatch::model::Prominence::default(),
            "no term places given"
        );
    }
}

/// Issue 19: the parts of one digest are recorded together or not at all, and what a
/// watchlist mailed is found again within the window.
#[tokio::test]
async fn digest_parts_are_recorded_together_and_mailed_copies_found_again() {
    for (_d, store) in support::backends().await {
        let now = Utc::now();
        let mut scanned = Vec::new();
        for k in 0..4u64 {
            let mut a = article(
                &format!("https://a.example/{k}"),
                &format!("f{k}"),
                true,
                &["niger"],
            );
            a.sketch = Some(sketch(10 * u32::try_from(k).unwrap(), &[k, k + 10]));
            scanned.push(a);
        }
        store
            .record_scan(&name("wire"), &scanned, now)
            .await
            .unwrap();
        let ids: Vec<i64> = store
            .pending_matches(&name("niger"))
            .await
            .unwrap()
            .iter()
            .map(|p| p.article_id)
            .collect();
        // The second part claims a match the first claims too: neither is recorded.
        let clash = [
            record("niger", "<p1@x>", &ids[..2]),
            record("niger", "<p2@x>", &ids[1..]),
        ];
        assert!(matches!(
            store.record_digests(&clash, now).await,
            Err(StoreError::Conflict)
        ));
        assert_eq!(
            store.pending_matches(&name("niger")).await.unwrap().len(),
            4
        );
        assert!(store.undelivered().await.unwrap().is_empty());
        let parts = [
            record("niger", "<p1@x>", &ids[..2]),
            record("niger", "<p2@x>", &ids[2..]),
        ];
        let digest_ids = store.record_digests(&parts, now).await.unwrap();
        assert_eq!(digest_ids.len(), 2);
        assert!(store
            .pending_matches(&name("niger"))
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            store.undelivered().await.unwrap().len(),
            4,
            "2 parts × 2 recipients"
        );

        let mailed = store
            .mailed_copies(&name("niger"), now - Duration::hours(72))
            .await
            .unwrap();
        assert_eq!(mailed.len(), 4);
        assert_eq!(mailed[1].sketch, sketch(10, &[1, 11]));
        assert_eq!(mailed[0].source, "wire");
        assert!(store
            .mailed_copies(&name("niger"), now + Duration::hours(1))
            .await
            .unwrap()
            .is_empty());
        assert!(store
            .mailed_copies(&name("other"), now - Duration::hours(1))
            .await
            .unwrap()
            .is_empty());
        let recent = store
            .source_sketches(&[name("wire"), name("nobody")], now - Duration::hours(1), 3)
            .await
            .unwrap();
        assert_eq!(recent.len(), 3, "at most 3 per source");
        assert!(recent.iter().all(|(s, _, _)| s == "wire"));
    }
}
