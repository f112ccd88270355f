//! The schema's history: a database made by release 0.1 opens with everything in it intact,
//! and databases newswatch must not touch are refused with the file left as it was.

use std::path::{Path, PathBuf};

use chrono::Utc;
use newswatch::model::TextFrom;
use newswatch::store::{schema, ArticleMatch, ScannedArticle, Store, StoreError, TextDebt};

fn copy_of_v1(dir: &Path) -> PathBuf {
    let path = dir.join("newswatch.db");
    std::fs::copy("tests/fixtures/db/v1.sqlite", &path).unwrap();
    path
}

fn query_one(path: &Path, sql: &str) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(sql, [], |r| r.get::<_, String>(0)).unwrap()
}

#[tokio::test]
async fn a_release_0_1_database_opens_with_everything_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_of_v1(dir.path());
    let undelivered_id = query_one(
        &path,
        "SELECT g.message_id FROM digests g JOIN deliveries d ON d.digest_id = g.id
         WHERE d.state = 'pending' LIMIT 1",
    );
    let store = Store::open(&path).unwrap();
    assert_eq!(
        query_one(&path, "SELECT value FROM meta WHERE key = 'schema_version'"),
        schema::SCHEMA_VERSION.to_string()
    );

    // The pending match is still pending.
    let pending = store
        .pending_matches(&"niger".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].url.as_deref(),
        Some("http://127.0.0.1:18080/a/4.html")
    );
    // The undelivered digest goes out with its Message-ID; the sent one does not again.
    let due = store.due_deliveries(None).await.unwrap();
    assert_eq!(due.len(), 2, "two recipients of the undelivered digest");
    assert!(due.iter().all(|d| d.message_id == undelivered_id));
    // Source health survives.
    let health = store.source_health().await.unwrap();
    let dead = health.iter().find(|h| h.name.as_str() == "dead").unwrap();
    assert_eq!(dead.consecutive_failures, 3);
    assert!(dead.retry_at.is_some());
    assert!(
        store
            .source_state(&"wire".parse().unwrap())
            .await
            .unwrap()
            .baselined
    );

    // Dedup: an article already mailed, seen again, is not new.
    let again = ScannedArticle {
        urls: vec!["http://127.0.0.1:18080/a/1.html".into()],
        fingerprint: "another body".into(),
        title: "US troops begin withdrawal from Niger".into(),
        published: None,
        lang: None,
        text: "The withdrawal of US troops from Niger began.".into(),
        text_from: Some(TextFrom::Feed),
        debt: TextDebt::Settled,
        reportable_if_new: true,
        matches: vec![ArticleMatch {
            watchlist: "niger".parse().unwrap(),
            terms: vec!["Niger".into()],
            snippet: "Niger".into(),
            highlights: vec![(0, 5)],
        }],
    };
    let r = store
        .record_scan(&"wire".parse().unwrap(), &[again], Utc::now())
        .await
        .unwrap();
    assert_eq!(r[0].new, [false]);
    // Articles recorded before text_from was kept say so.
    let known = store
        .known_articles(&["http://127.0.0.1:18080/a/1.html"])
        .await
        .unwrap();
    assert_eq!(known.values().next().unwrap().text_from, None);
    drop(store);
    // Opening again is a no-op.
    Store::open(&path).unwrap();
}

#[test]
fn a_newer_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_of_v1(dir.path());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "UPDATE meta SET value = '999' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    match Store::open(&path) {
        Err(StoreError::SchemaVersion { found: 999, .. }) => {}
        other => panic!("expected a schema version error, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing written");
}

#[test]
fn foreign_and_broken_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("other.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x');")
        .unwrap();
    let before = std::fs::read(&foreign).unwrap();
    let err = Store::open(&foreign).unwrap_err();
    assert!(matches!(err, StoreError::NotNewswatch { .. }), "{err}");
    assert!(err.to_string().contains("other.db"), "{err}");
    assert_eq!(std::fs::read(&foreign).unwrap(), before);

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    let err = Store::open(&garbage).unwrap_err();
    assert!(err.to_string().contains("garbage.db"), "{err}");
}
