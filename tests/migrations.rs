//! The schema's history: a database made by release 0.1 opens with everything in it intact,
//! and databases newswatch must not touch are refused with the file left as it was; on
//! PostgreSQL too (a newer schema, a foreign database, a migration killed half-way).

mod support;

use std::path::{Path, PathBuf};

use chrono::Utc;
use newswatch::model::TextFrom;
use newswatch::store::{schema, ArticleMatch, ScannedArticle, Store, StoreError, TextDebt};
use support::cli::{self, Output};
use support::config::{self, ConfigFile};

fn copy_of_v1(dir: &Path) -> PathBuf {
    let path = dir.join("newswatch.db");
    std::fs::copy("tests/fixtures/db/v1.sqlite", &path).unwrap();
    path
}

/// The first column of the first row, as text.
fn query_one(path: &Path, sql: &str) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(sql, [], |r| {
        Ok(match r.get_ref(0)? {
            rusqlite::types::ValueRef::Integer(n) => n.to_string(),
            v => v.as_str().unwrap_or_default().to_owned(),
        })
    })
    .unwrap()
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
        sketch: None,
        reportable_if_new: true,
        matches: vec![ArticleMatch {
            watchlist: "niger".parse().unwrap(),
            terms: vec!["Niger".into()],
            snippet: "Niger".into(),
            highlights: vec![(0, 5)],
            title_highlights: vec![],
            prominence: Default::default(),
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

/// A state directory holding a copy of the release 0.1 database, and a config using it.
fn state_with_v1(dir: &Path) -> PathBuf {
    let state = dir.join("state");
    std::fs::create_dir_all(&state).unwrap();
    copy_of_v1(&state);
    ConfigFile::in_dir(dir)
        .with(config::source("wire", "http://127.0.0.1:18080/a.xml"))
        .with(config::source("dead", "http://127.0.0.1:18081/feed.xml"))
        .with(config::watchlist("niger", &["Niger"]))
        .write_in(dir)
}

/// `newswatch --config CONFIG status`, with `limit` bytes as the largest file it may write.
fn status(config: &Path, file_size_limit: Option<u64>) -> Output {
    use std::os::unix::process::CommandExt as _;
    let mut cmd = cli::with_config(config, &["status"]);
    if let Some(limit) = file_size_limit {
        // SAFETY: between fork and exec only async-signal-safe calls (signal, setrlimit).
        unsafe {
            cmd.pre_exec(move || {
                // Past the limit a write fails with EFBIG instead of killing the process.
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let lim = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
    }
    cli::output(&mut cmd)
}

fn version(db: &Path) -> String {
    query_one(db, "SELECT value FROM meta WHERE key = 'schema_version'")
}

fn integrity(db: &Path) -> String {
    query_one(db, "PRAGMA integrity_check")
}

#[test]
fn status_on_a_file_that_is_not_a_newswatch_database_exits_1_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = state_with_v1(dir.path());
    let db = dir.path().join("state").join("newswatch.db");
    for (what, bytes) in [
        ("foreign", None),
        (
            "truncated",
            Some(std::fs::read(&db).unwrap()[..4096].to_vec()),
        ),
        (
            "garbage",
            Some(b"SQLite format 3\0 but not really".repeat(300)),
        ),
        ("one byte", Some(b"x".to_vec())),
        (
            "text",
            Some(b"state_dir = \"/var/lib/newswatch\"\n".to_vec()),
        ),
    ] {
        match bytes {
            Some(b) => std::fs::write(&db, b).unwrap(),
            None => {
                std::fs::remove_file(&db).unwrap();
                rusqlite::Connection::open(&db)
                    .unwrap()
                    .execute_batch("CREATE TABLE notes (body TEXT);")
                    .unwrap();
            }
        }
        let before = std::fs::read(&db).unwrap();
        let out = status(&config, None);
        let err = &out.stderr;
        assert_eq!(out.code, Some(1), "{what}: {err}");
        assert!(
            err.contains("newswatch.db"),
            "{what}: the file is named: {err}"
        );
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert_eq!(
            std::fs::read(&db).unwrap(),
            before,
            "{what}: nothing written"
        );
    }
}

#[test]
fn a_database_that_cannot_be_written_exits_1_and_keeps_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let config = state_with_v1(dir.path());
    let db = dir.path().join("state").join("newswatch.db");
    let out = status(&config, Some(0));
    let err = &out.stderr;
    assert_eq!(out.code, Some(1), "{err}");
    assert!(err.contains("newswatch.db"), "{err}");
    assert_eq!(version(&db), "1", "no migration applied, none half-applied");
    assert_eq!(integrity(&db), "ok");
}

#[test]
fn a_full_disk_during_the_upgrade_leaves_a_whole_version_and_a_later_run_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let config = state_with_v1(dir.path());
    let db = dir.path().join("state").join("newswatch.db");
    let size = std::fs::metadata(&db).unwrap().len();
    // Room for a little, not for all: the upgrade (migrations, then the rebuild for
    // incremental vacuum) runs out of space part of the way.
    let mut failed_somewhere = false;
    for extra in [4096, 16 * 1024, 64 * 1024] {
        let fresh = tempfile::tempdir().unwrap();
        let config = state_with_v1(fresh.path());
        let db = fresh.path().join("state").join("newswatch.db");
        let out = status(&config, Some(size + extra));
        if out.code == Some(1) {
            failed_somewhere = true;
            let err = &out.stderr;
            assert!(err.contains("newswatch.db"), "{err}");
        }
        let v: i64 = version(&db).parse().unwrap();
        assert!((1..=schema::SCHEMA_VERSION).contains(&v));
        assert_eq!(integrity(&db), "ok");
        // With room again, the upgrade finishes and nothing is lost.
        let out = status(&config, None);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        assert_eq!(version(&db), schema::SCHEMA_VERSION.to_string());
        let pending = query_one(&db, "SELECT COUNT(*) FROM matches WHERE state = 'pending'");
        assert_eq!(pending, "1");
    }
    assert!(failed_somewhere, "some limit made the upgrade fail");
    let _ = (config, db);
}

/// SIGKILL in the middle of a migration's transaction: the database stays at the version
/// before it, whole, and the next start upgrades it.
#[cfg(feature = "failpoints")]
#[test]
fn an_upgrade_killed_mid_migration_leaves_no_partial_migration() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().unwrap();
    let config = state_with_v1(dir.path());
    let db = dir.path().join("state").join("newswatch.db");
    let mut child = cli::with_config(&config, &["status"])
        .env("NEWSWATCH_FAILPOINT", "during-migration")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(err).lines();
    loop {
        let line = lines.next().expect("the failpoint is reached").unwrap();
        if line.contains("failpoint during-migration reached") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        version(&db),
        "1",
        "the migration in flight is rolled back whole"
    );
    let has_owed: String = query_one(
        &db,
        "SELECT COUNT(*) FROM sqlite_master WHERE name = 'owed_text'",
    );
    assert_eq!(has_owed, "0");
    assert_eq!(integrity(&db), "ok");
    let out = status(&config, None);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(version(&db), schema::SCHEMA_VERSION.to_string());
}

/// `newswatch --config CONFIG check`.
fn check(config: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_newswatch"))
        .arg("--config")
        .arg(config)
        .arg("check")
        .output()
        .unwrap()
}

/// What `run` and `status` refuse (exit 1), `check` reports as a config that cannot be used
/// (exit 2: SPEC's `check` exits 0 or 2), naming the file; nothing is written.
#[test]
fn check_refuses_a_newer_or_foreign_sqlite_database_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = state_with_v1(dir.path());
    let db = dir.path().join("state").join("newswatch.db");
    let out = check(&config);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains(&format!(
            "connected; schema version 1; the first run upgrades it to {}",
            schema::SCHEMA_VERSION
        )),
        "{said}"
    );
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE meta SET value = '999' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    let before = std::fs::read(&db).unwrap();
    let out = check(&config);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("newswatch.db: schema version 999 is newer"),
        "{err}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);

    std::fs::remove_file(&db).unwrap();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE notes (body TEXT);")
        .unwrap();
    let out = check(&config);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("newswatch.db is not a newswatch database"),
        "{err}"
    );
}

/// A config whose `[database]` is the PostgreSQL database at `url`.
fn pg_config(dir: &Path, url: &str) -> PathBuf {
    let config = dir.join("newswatch.toml");
    std::fs::write(
        &config,
        format!(
            "state_dir = \"{}\"\n[database]\nurl = \"{url}\"\n\
             [[source]]\nname = \"wire\"\nurl = \"http://127.0.0.1:18080/a.xml\"\n\
             [[watchlist]]\nname = \"niger\"\nkeywords = [\"Niger\"]\nto = [\"a@example.org\"]\n",
            dir.join("state").display()
        ),
    )
    .unwrap();
    config
}

const PG_TABLES: &str = "SELECT COUNT(*) FROM information_schema.tables \
                         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'";

/// PostgreSQL: a database from a newer newswatch is refused before anything is written, by
/// the store and by `check` (exit 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_newer_database_is_refused_and_left_untouched() {
    use support::pg::Cluster;
    let url = support::pg::cluster().fresh_db().await;
    drop(Store::open_postgres(&url, None).await.unwrap());
    Cluster::execute(
        &url,
        "UPDATE meta SET value = '999' WHERE key = 'schema_version';
         CREATE TABLE marker (n BIGINT)",
    )
    .await;
    let tables = Cluster::scalar(&url, PG_TABLES).await;
    match Store::open_postgres(&url, None).await {
        Err(StoreError::SchemaVersion { found: 999, .. }) => {}
        other => panic!("expected a schema version error, got {other:?}"),
    }
    let dir = tempfile::tempdir().unwrap();
    let out = check(&pg_config(dir.path(), &url));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("schema version 999 is newer"), "{err}");
    assert_eq!(
        Cluster::scalar(&url, "SELECT value FROM meta WHERE key = 'schema_version'").await,
        Some("999".into())
    );
    assert_eq!(
        Cluster::scalar(&url, PG_TABLES).await,
        tables,
        "nothing made"
    );
}

/// PostgreSQL: a database holding someone else's tables is refused by name, untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_foreign_database_is_refused_by_name() {
    use support::pg::Cluster;
    let url = support::pg::cluster().fresh_db().await;
    Cluster::execute(&url, "CREATE TABLE notes (body TEXT)").await;
    let err = Store::open_postgres(&url, None).await.unwrap_err();
    assert!(matches!(err, StoreError::NotNewswatch { .. }), "{err}");
    assert!(err.to_string().contains(&url), "{err}");
    assert_eq!(Cluster::scalar(&url, PG_TABLES).await, Some("1".into()));
    let dir = tempfile::tempdir().unwrap();
    let out = check(&pg_config(dir.path(), &url));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is not a newswatch database"), "{err}");
}

/// PostgreSQL: SIGKILL in the middle of a migration's transaction leaves nothing of it (the
/// server rolls it back when the connection drops); the next start migrates the database.
#[cfg(feature = "failpoints")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_upgrade_killed_mid_migration_leaves_no_partial_migration() {
    use std::io::BufRead as _;
    use support::pg::Cluster;
    let url = support::pg::cluster().fresh_db().await;
    let dir = tempfile::tempdir().unwrap();
    let config = pg_config(dir.path(), &url);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_newswatch"))
        .arg("--config")
        .arg(&config)
        .arg("status")
        .env("NEWSWATCH_FAILPOINT", "during-migration")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(err).lines();
    loop {
        let line = lines.next().expect("the failpoint is reached").unwrap();
        if line.contains("failpoint during-migration reached") {
            break;
        }
    }
    // Inside the transaction, before its commit: the first migration's tables exist for it.
    child.kill().unwrap();
    child.wait().unwrap();
    let t = std::time::Instant::now();
    loop {
        // The server notices the connection gone and rolls the transaction back.
        if Cluster::scalar(&url, PG_TABLES).await == Some("0".into()) {
            break;
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "the migration in flight must be rolled back whole"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let out = status(&config, None);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        Cluster::scalar(&url, "SELECT value FROM meta WHERE key = 'schema_version'").await,
        Some(schema::SCHEMA_VERSION.to_string())
    );
}
