//! Issue 16, "years on one state file": retention on a real database. Text and digest bodies
//! go after `keep_text`, identity after `keep_identity`; pending matches, owed text and
//! undelivered digests are never pruned; batches are bounded; the file gives space back.

mod support;

use chrono::{DateTime, Duration, Utc};
use newswatch::config::Retention;
use newswatch::daemon::retention::{cutoffs, prune_all};
use newswatch::model::{
    ArticleMatch, ScannedArticle, SourceName, TextDebt, TextFrom, WatchlistName,
};
use newswatch::store::Store;
use support::name;

fn article(n: usize, text: &str, watchlists: &[&str]) -> ScannedArticle {
    ScannedArticle {
        urls: vec![format!("https://a.example/{n}")],
        fingerprint: format!("fp{n}"),
        title: format!("story {n}"),
        published: None,
        lang: Some("en".into()),
        text: text.into(),
        text_from: Some(TextFrom::Page),
        debt: TextDebt::Settled,
        reportable_if_new: true,
        // Every article has a sketch, so pruning must take it along (a foreign key).
        sketch: Some(newswatch::model::StorySketch {
            words: 40,
            shingles: 2,
            hashes: vec![n as u64, n as u64 + 1],
        }),
        matches: watchlists
            .iter()
            .map(|w| ArticleMatch {
                watchlist: name(w),
                terms: vec!["Niger".into()],
                snippet: "Niger".into(),
                highlights: vec![(0, 5)],
                title_highlights: vec![],
                prominence: newswatch::model::Prominence::default(),
            })
            .collect(),
    }
}

fn retention(text_days: u64, identity_days: u64) -> Retention {
    Retention {
        keep_text: std::time::Duration::from_secs(text_days * 86_400),
        keep_identity: std::time::Duration::from_secs(identity_days * 86_400),
    }
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

async fn text_of(store: &Store, n: usize) -> Option<String> {
    let url = format!("https://a.example/{n}");
    store
        .known_articles(&[url.as_str()])
        .await
        .unwrap()
        .remove(&url)
        .map(|k| k.text)
}

#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "three articles' lives from day 0 to day 451, in order"
)]
async fn text_goes_after_keep_text_and_identity_after_keep_identity() {
    for (_dir, store) in support::backends().await {
        let s: SourceName = name("s");
        let niger: WatchlistName = name("niger");
        let t0: DateTime<Utc> = Utc::now() - days(500);

        // Day 0: three articles. 1 is digested and mailed, 2 stays pending, 3 is owed its text.
        store
            .record_scan(&s, &[article(1, "body one", &["niger"])], t0)
            .await
            .unwrap();
        support::digest_pending(&store, &niger, "<d1@x>", vec![b'x'; 4000], t0).await;
        let d = store.due_deliveries(None).await.unwrap().remove(0);
        store.mark_delivered(&d, "250 ok", t0).await.unwrap();
        store
            .record_scan(&s, &[article(2, "body two", &["niger"])], t0)
            .await
            .unwrap();
        let mut owed = article(3, "teaser three", &[]);
        owed.debt = TextDebt::Owed {
            url: "https://a.example/3".into(),
            tries: 1,
            next_try_at: t0 + days(600),
            error: "timed out".into(),
        };
        store.record_scan(&s, &[owed], t0).await.unwrap();
        // Day 100: a recent article.
        store
            .record_scan(&s, &[article(4, "body four", &[])], t0 + days(100))
            .await
            .unwrap();

        // At day 110 with 30 days of text: 1's text and the digest's body go; 2 (pending) and
        // 3 (owed) keep theirs; 4 is recent.
        let p = prune_all(
            &store,
            retention(30, 400),
            t0 + days(110),
            std::time::Duration::ZERO,
        )
        .await
        .unwrap();
        assert_eq!((p.texts, p.bodies, p.articles), (1, 1, 1), "{p:?}");
        assert!(
            forgotten(&store, "https://a.example/1").await,
            "1 is its keys"
        );
        assert_eq!(text_of(&store, 1).await.as_deref(), Some(""));
        assert_eq!(text_of(&store, 2).await.as_deref(), Some("body two"));
        assert_eq!(text_of(&store, 3).await.as_deref(), Some("teaser three"));
        assert_eq!(text_of(&store, 4).await.as_deref(), Some("body four"));
        let held = store.held().await.unwrap();
        assert_eq!(
            (
                held.articles_with_text,
                held.articles_without_text,
                held.identity_keys
            ),
            (3, 0, 2),
            "2, 3 and 4 with their text; 1's URL and fingerprint as keys"
        );
        assert_eq!(
            held.matches, 1,
            "1's mailed match went with it; 2's pending one stays"
        );
        assert_eq!(held.digests_without_body, 1);
        assert!(held.bytes > 0);
        // Pruning again finds nothing.
        let again = prune_all(
            &store,
            retention(30, 400),
            t0 + days(110),
            std::time::Duration::ZERO,
        )
        .await
        .unwrap();
        assert!(again.is_empty(), "{again:?}");

        // Article 1 reappears in a feed within keep_identity: still not new.
        let r = store
            .record_scan(&s, &[article(1, "body one", &["niger"])], t0 + days(120))
            .await
            .unwrap();
        assert_eq!(r[0].new, [false], "dedup outlives the text");
        // And the same story under another URL: known by its fingerprint, and by that URL
        // from now on.
        let mut copy = article(1, "body one", &["niger"]);
        copy.urls = vec!["https://b.example/copy-of-1".into()];
        let r = store
            .record_scan(&s, &[copy], t0 + days(121))
            .await
            .unwrap();
        assert_eq!(r[0].new, [false], "a copy of a story seen long ago");
        assert!(forgotten(&store, "https://b.example/copy-of-1").await);
        assert_eq!(store.held().await.unwrap().identity_keys, 3);

        // At day 450 the identity of 1 is gone (and its digest); 2 (pending) and 3 (owed) stay.
        let p = prune_all(
            &store,
            retention(30, 400),
            t0 + days(450),
            std::time::Duration::ZERO,
        )
        .await
        .unwrap();
        assert_eq!(
            (p.keys, p.articles),
            (2, 1),
            "1's URL and fingerprint forgotten; 4 (day 100) reduced to keys: {p:?}"
        );
        assert_eq!(p.digests, 1, "{p:?}");
        assert_eq!(text_of(&store, 1).await, None);
        assert!(
            forgotten(&store, "https://b.example/copy-of-1").await,
            "the copy's URL was first seen on day 121: kept 400 days from then"
        );
        assert_eq!(text_of(&store, 2).await.as_deref(), Some("body two"));
        assert_eq!(text_of(&store, 3).await.as_deref(), Some("teaser three"));
        assert_eq!(store.pending_matches(&niger).await.unwrap().len(), 1);
        // Past keep_identity an article that reappears is a new article.
        let r = store
            .record_scan(&s, &[article(1, "body one", &["niger"])], t0 + days(451))
            .await
            .unwrap();
        assert_eq!(r[0].new, [true], "forgotten past keep_identity");
    }
}

/// Whether `url` is known only by its key (its article was reduced to keys).
async fn forgotten(store: &Store, url: &str) -> bool {
    store
        .known_articles(&[url])
        .await
        .unwrap()
        .remove(url)
        .is_some_and(|k| k.forgotten)
}

/// The keys are forgotten by a walk in key order, a range per step, however many steps it
/// takes; a key still within `keep_identity` stays, and once a pass is done the next finds
/// nothing to walk until the cut-off passes another day.
#[tokio::test]
async fn keys_are_forgotten_range_by_range() {
    for (_dir, store) in support::backends().await {
        let s: SourceName = name("s");
        let t0: DateTime<Utc> = Utc::now() - days(100);
        let old: Vec<ScannedArticle> = (0..10).map(|n| article(n, "old", &[])).collect();
        store.record_scan(&s, &old, t0).await.unwrap();
        let newer: Vec<ScannedArticle> = (10..15).map(|n| article(n, "newer", &[])).collect();
        store.record_scan(&s, &newer, t0 + days(50)).await.unwrap();
        let now = t0 + days(85);
        let p = prune_all(&store, retention(30, 400), now, std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!((p.articles, p.keys), (15, 0), "{p:?}");
        assert_eq!(store.held().await.unwrap().identity_keys, 30);
        // keep_identity of 60 days: the day-0 keys (20) go, three at a time at most.
        let cut = cutoffs(retention(30, 60), now);
        let gone = store
            .prune_keys(cut, 3, std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(gone, 20);
        assert_eq!(store.held().await.unwrap().identity_keys, 10);
        let again = store
            .prune_keys(cut, 3, std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(again, 0);
        let r = store
            .record_scan(
                &s,
                &[
                    article(0, "old", &["niger"]),
                    article(12, "newer", &["niger"]),
                ],
                now,
            )
            .await
            .unwrap();
        assert_eq!(r[0].new, [true], "0 was forgotten");
        assert_eq!(r[1].new, [false], "12 is still known by its keys");
    }
}

/// Copies `niger` mailed since a day before `t0` that still have their sketch.
async fn mailed(store: &Store, niger: &WatchlistName, t0: DateTime<Utc>) -> usize {
    store
        .mailed_copies(niger, t0 - days(1))
        .await
        .unwrap()
        .len()
}

/// Issue 19's sketches are read only within the clustering window: a mailed article's
/// sketch goes after twice the window (6 days), long before its text (30 days).
#[tokio::test]
async fn story_sketches_go_after_twice_the_clustering_window() {
    for (_dir, store) in support::backends().await {
        let s: SourceName = name("s");
        let niger: WatchlistName = name("niger");
        let t0: DateTime<Utc> = Utc::now() - days(20);
        store
            .record_scan(&s, &[article(1, "body one", &["niger"])], t0)
            .await
            .unwrap();
        support::digest_pending(&store, &niger, "<d1@x>", vec![b'x'; 100], t0).await;
        assert_eq!(
            mailed(&store, &niger, t0).await,
            1,
            "a mailed copy with its sketch"
        );
        let r = retention(30, 400);
        prune_all(&store, r, t0 + days(5), std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(
            mailed(&store, &niger, t0).await,
            1,
            "kept within twice the window"
        );
        // A batch that drops only sketches counts them: `prune_all` goes on while batches
        // prune anything, so a day's thousands of sketches go, not one batch of them.
        let p = store
            .prune_batch(cutoffs(r, t0 + days(7)), 500)
            .await
            .unwrap();
        assert_eq!((p.sketches, p.texts), (1, 0), "{p:?}");
        assert!(!p.is_empty());
        assert_eq!(mailed(&store, &niger, t0).await, 0, "the sketch is gone");
        assert_eq!(
            text_of(&store, 1).await.as_deref(),
            Some("body one"),
            "the text stays"
        );
    }
}

#[tokio::test]
async fn undelivered_digests_keep_their_message_whatever_their_age() {
    for (_dir, store) in support::backends().await {
        let niger: WatchlistName = name("niger");
        let t0 = Utc::now() - days(1000);
        store
            .record_scan(&name("s"), &[article(1, "body", &["niger"])], t0)
            .await
            .unwrap();
        support::digest_pending(&store, &niger, "<old@x>", b"the whole message".to_vec(), t0).await;
        prune_all(
            &store,
            retention(30, 400),
            Utc::now(),
            std::time::Duration::ZERO,
        )
        .await
        .unwrap();
        let due = store.due_deliveries(None).await.unwrap();
        assert_eq!(due.len(), 1, "still queued");
        assert_eq!(due[0].message, b"the whole message", "bytes intact");
        assert_eq!(due[0].message_id, "<old@x>");
    }
}

#[tokio::test]
async fn a_batch_prunes_at_most_its_limit() {
    for (_dir, store) in support::backends().await {
        let t0 = Utc::now() - days(60);
        let batch: Vec<ScannedArticle> = (0..10).map(|n| article(n, "text", &[])).collect();
        store.record_scan(&name("s"), &batch, t0).await.unwrap();
        let cut = cutoffs(retention(30, 400), Utc::now());
        let p = store.prune_batch(cut, 3).await.unwrap();
        assert_eq!(p.texts, 3);
        let mut total = 3;
        loop {
            let p = store.prune_batch(cut, 3).await.unwrap();
            if p.is_empty() {
                break;
            }
            assert!(p.texts <= 3);
            total += p.texts;
        }
        assert_eq!(total, 10);
    }
}

/// SQLite only: giving pruned space back to the file system is newswatch's job there
/// (incremental vacuum, `Store::compact`). On PostgreSQL it is the server's: autovacuum makes
/// the space of deleted rows reusable and `compact` does nothing, so there is no behaviour of
/// newswatch's to test (the pruning itself is tested on both backends above).
#[tokio::test]
async fn pruned_space_is_given_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newswatch.db");
    let store = Store::open(&path).unwrap();
    let t0 = Utc::now() - days(60);
    let body = "Niger ".repeat(2_000);
    for chunk in 0..20 {
        let batch: Vec<ScannedArticle> = (0..50)
            .map(|n| article(chunk * 50 + n, &body, &[]))
            .collect();
        store.record_scan(&name("s"), &batch, t0).await.unwrap();
    }
    let before = store.held().await.unwrap().bytes;
    prune_all(
        &store,
        retention(30, 400),
        Utc::now(),
        std::time::Duration::ZERO,
    )
    .await
    .unwrap();
    // The write-ahead log folds into the file at its next checkpoint; compare files then.
    drop(store);
    let store = Store::open(&path).unwrap();
    let after = store.held().await.unwrap().bytes;
    assert!(
        after * 3 < before,
        "the file shrinks: {before} bytes before, {after} after"
    );
}
