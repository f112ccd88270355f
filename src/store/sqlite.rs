//! The SQLite backend: one database file in WAL mode behind one connection, the default
//! that needs no set-up. Transactions are `BEGIN` / `BEGIN IMMEDIATE` … `COMMIT` on that
//! connection, taken in turn (a tokio mutex, so a task waiting for it does not block a
//! thread); another process on the same file waits up to [`BUSY_TIMEOUT`] for its lock.
//!
//! **Group commit.** Every commit syncs the log to disk (`synchronous = FULL`: the outbox
//! must survive a power cut), and that sync was most of a small write's cost (issue 21). A
//! writer that finishes while other writers wait for the connection does not commit: it
//! leaves the transaction open, the waiting writers each run theirs inside it (a savepoint
//! each, so one that fails is undone alone), and the first of them to come back for its
//! outcome commits the whole group with one sync. Nobody's `commit` returns before the
//! group's commit has: what a caller was told is committed is on disk, as before. With a
//! window set ([`Sqlite::set_group_window`]), a group also waits that long for writers that
//! are not waiting yet, and its members come back for its outcome after it. A reader
//! reads on a connection of its own, so it sees only what is committed and durable.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension};
use tokio::sync::{Mutex, MutexGuard};
use tokio::time::Instant;

use super::schema::{self, Backend};
use super::sql::{Cell, Mode, Row, Value};
use super::StoreError;

/// Prepared statements kept on the connection (the store has about a hundred).
const STATEMENT_CACHE: usize = 256;

/// How long a statement waits for another process's lock before it fails.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The most transactions one group commit holds; the next writer starts a new group.
const GROUP_MAX: usize = 256;

/// An open SQLite database.
#[derive(Debug)]
pub struct Sqlite {
    conn: Mutex<Conn>,
    /// A second connection, for read transactions: they see what is committed (in WAL mode
    /// a reader does not wait for the writer), and they neither wait for a group's sync nor
    /// cut a group short.
    reader: Mutex<Connection>,
    path: String,
    /// Writers waiting for the connection: a committing writer that sees one leaves its
    /// transaction open for them to join.
    writers_waiting: AtomicUsize,
    /// How long a group stays open for writers to come, in microseconds (0: only for the
    /// ones already waiting). See [`Sqlite::set_group_window`].
    window_us: AtomicU64,
}

/// The connection and the group commit open on it.
#[derive(Debug)]
struct Conn {
    db: Connection,
    /// The open group: its number and how many transactions it holds.
    group: Option<Group>,
    next_group: u64,
    /// Groups whose commit failed: the error, and how many members have yet to read it.
    failed: HashMap<u64, (String, usize)>,
    /// Write transactions committed (a group counts once).
    commits: u64,
}

#[derive(Debug, Clone, Copy)]
struct Group {
    number: u64,
    members: usize,
    /// Committed when its first member comes back after this (a window, if one is set).
    until: Option<Instant>,
}

impl Conn {
    /// Commits the open group, if any; its members read the outcome when they come back
    /// ([`Conn::outcome`]).
    fn settle(&mut self) {
        let Some(group) = self.group.take() else {
            return;
        };
        // A statement error that rolled the whole transaction back (disk full, I/O) leaves
        // no transaction to commit: the group is lost, not committed.
        self.commits += 1;
        let outcome = if self.db.is_autocommit() {
            Err("the database rolled the transaction back".to_owned())
        } else {
            control(&self.db, "COMMIT").map_err(|e| {
                // A failed COMMIT may leave the transaction open: end it.
                let _ = control(&self.db, "ROLLBACK");
                e.to_string()
            })
        };
        if let Err(why) = outcome {
            tracing::debug!(members = group.members, %why, "group commit failed");
            self.failed.insert(group.number, (why, group.members));
        }
    }

    /// The outcome of group `number` for one of its members; commits it if still open.
    fn outcome(&mut self, number: u64) -> Result<(), StoreError> {
        if self.group.is_some_and(|g| g.number == number) {
            self.settle();
        }
        let Some((why, left)) = self.failed.get_mut(&number) else {
            return Ok(());
        };
        let err = StoreError::Commit(why.clone());
        *left -= 1;
        if *left == 0 {
            self.failed.remove(&number);
        }
        Err(err)
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // A group's members finished their work; only their wait for its outcome was
        // abandoned (the runtime shutting down): keep it rather than roll it back.
        self.settle();
    }
}

/// Counts a writer waiting for the connection while it waits (also if its wait is dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        Waiting(n)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Sqlite {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// The directory cannot be created; the file cannot be opened, is not a newswatch
    /// database, or is damaged; its schema is newer than this build (nothing is written
    /// then); a migration fails (it is rolled back whole).
    pub fn open(path: &Path) -> Result<Sqlite, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::StateDir {
                path: dir.display().to_string(),
                source: e,
            })?;
        }
        let name = path.display().to_string();
        // SQLite takes a file too short for its header for an empty database and writes
        // over it: refuse anything that is not empty and not a SQLite file.
        if let Some(head) = file_head(path) {
            if !head.is_empty()
                && !SQLITE_MAGIC.starts_with(&head)
                && !head.starts_with(SQLITE_MAGIC)
            {
                return Err(StoreError::NotNewswatch {
                    path: name,
                    why: "it is not an SQLite file",
                });
            }
        }
        let at = |source: rusqlite::Error| StoreError::Open {
            path: name.clone(),
            source: Box::new(source),
        };
        let mut conn = Connection::open(path).map_err(at)?;
        // First, so that another process creating the same database waits instead of failing.
        conn.busy_timeout(BUSY_TIMEOUT).map_err(at)?;
        // Read before writing anything: a newer or foreign database is left untouched.
        let found = read_version(&conn).map_err(at)?;
        let from = schema::check_version(found, &name)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(at)?;
        // The outbox must survive a power cut: full sync on every commit.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(at)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(at)?;
        // Statement journals (a statement or a group member's savepoint undone alone) in
        // memory: on disk they were temporary files written ~30 times per source scanned.
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(at)?;
        // The log is emptied down to this size after checkpoints, so one big write does not
        // leave a big log file behind.
        conn.pragma_update(None, "journal_size_limit", 4 * 1024 * 1024)
            .map_err(at)?;
        migrate(&mut conn, from).map_err(at)?;
        incremental_vacuum_on(&conn).map_err(at)?;
        // Every statement is prepared once and kept: the store runs more distinct statements
        // than rusqlite's default cache of 16 holds, and preparing them again on every use
        // was a fifth of a daemon's CPU (issue 21).
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let reader = Connection::open(path).map_err(at)?;
        reader.busy_timeout(BUSY_TIMEOUT).map_err(at)?;
        reader.pragma_update(None, "query_only", true).map_err(at)?;
        reader.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Sqlite {
            reader: Mutex::new(reader),
            conn: Mutex::new(Conn {
                db: conn,
                group: None,
                next_group: 0,
                failed: HashMap::new(),
                commits: 0,
            }),
            path: name,
            writers_waiting: AtomicUsize::new(0),
            window_us: AtomicU64::new(0),
        })
    }

    /// Keeps every group commit open for `window` so that writers to come join it, not
    /// only those already waiting: for a batch of many small writes whose callers wait for
    /// all of them anyway (`scan` over many sources), where the group's one sync and its
    /// pages written once instead of once per writer matter more than each write's latency.
    /// A writer's commit returns `window` later at most, still only once on disk.
    pub fn set_group_window(&self, window: Duration) {
        let us = u64::try_from(window.as_micros()).unwrap_or(u64::MAX);
        self.window_us.store(us, Ordering::Relaxed);
    }

    fn group_until(&self) -> Option<Instant> {
        match self.window_us.load(Ordering::Relaxed) {
            0 => None,
            us => Some(Instant::now() + Duration::from_micros(us)),
        }
    }

    /// The database file, for messages.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The database's size on disk: the file and its write-ahead log.
    #[must_use]
    pub fn size_bytes(&self) -> u64 {
        let file = |p: &str| std::fs::metadata(p).map_or(0, |m| m.len());
        file(&self.path) + file(&format!("{}-wal", self.path))
    }

    /// Gives free pages back to the file system, keeping free a tenth as many pages as are
    /// used, for the rows to come (SQLite reuses free pages before it grows the file).
    ///
    /// # Errors
    /// The database fails.
    pub async fn compact(&self) -> Result<u64, StoreError> {
        let mut guard = self.conn.lock().await;
        guard.settle();
        let conn = &guard.db;
        let free: u64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
        let pages: u64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let used = pages.saturating_sub(free);
        let spare = free.saturating_sub(used / 10);
        if spare > 0 {
            // Stepped to the end: the pragma frees its pages one step at a time.
            let mut stmt = conn.prepare(&format!("PRAGMA incremental_vacuum({spare})"))?;
            let mut rows = stmt.query([])?;
            while rows.next()?.is_some() {}
            // Fold the log into the file (which then shrinks) and empty the log; a reader
            // still on an old snapshot makes this a partial checkpoint, which is fine.
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(spare)
    }

    /// Begins a transaction; a write joins the group commit open on the connection, if any.
    ///
    /// # Errors
    /// The database is locked past [`BUSY_TIMEOUT`] or fails.
    pub async fn begin(&self, mode: Mode) -> Result<Tx<'_>, StoreError> {
        if matches!(mode, Mode::Read) {
            let reader = self.reader.lock().await;
            control(&reader, "BEGIN")?;
            return Ok(Tx {
                conn: On::Reader(reader),
                sqlite: self,
                joined: None,
                open: true,
            });
        }
        let waiting = Waiting::new(&self.writers_waiting);
        let mut conn = self.conn.lock().await;
        drop(waiting);
        let joined = match conn.group {
            Some(group) if !conn.db.is_autocommit() => {
                control(&conn.db, "SAVEPOINT member")?;
                Some(group.number)
            }
            _ => {
                // A group whose transaction the database rolled back is settled (as failed)
                // before a new transaction begins.
                conn.settle();
                control(&conn.db, "BEGIN IMMEDIATE")?;
                None
            }
        };
        Ok(Tx {
            conn: On::Writer(conn),
            sqlite: self,
            joined,
            open: true,
        })
    }
}

/// The connection a transaction runs on.
enum On<'a> {
    Writer(MutexGuard<'a, Conn>),
    Reader(MutexGuard<'a, Connection>),
}

/// A transaction on the connection; rolled back when dropped uncommitted.
pub struct Tx<'a> {
    conn: On<'a>,
    sqlite: &'a Sqlite,
    /// The group this transaction runs in as a savepoint; `None`: it began the transaction.
    joined: Option<u64>,
    open: bool,
}

impl Tx<'_> {
    fn db(&self) -> &Connection {
        match &self.conn {
            On::Writer(c) => &c.db,
            On::Reader(c) => c,
        }
    }

    /// Runs one statement; the rows it changed.
    ///
    /// # Errors
    /// The statement fails.
    pub fn exec(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError> {
        let mut stmt = self.db().prepare_cached(&dialect(sql))?;
        let n = stmt.execute(rusqlite::params_from_iter(params.iter().map(Bind)))?;
        Ok(n as u64)
    }

    /// Runs one query; all its rows.
    ///
    /// # Errors
    /// The query fails.
    pub fn rows(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.db().prepare_cached(&dialect(sql))?;
        let width = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter().map(Bind)))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                cells.push(match r.get_ref(i)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(n) => Cell::Int(n),
                    ValueRef::Real(f) => Cell::Text(f.to_string()),
                    ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
                });
            }
            out.push(Row(cells));
        }
        Ok(out)
    }

    /// Commits the transaction: returns once its work is on disk. A write that finishes
    /// while other writers wait leaves the transaction open for them and waits for the
    /// group's commit (module doc).
    ///
    /// # Errors
    /// The commit fails (the transaction is rolled back).
    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.open = false;
        let waiting = self.sqlite.writers_waiting.load(Ordering::SeqCst);
        let conn = match &mut self.conn {
            On::Reader(reader) => {
                control(reader, "COMMIT")?;
                return Ok(());
            }
            On::Writer(conn) => &mut **conn,
        };
        if let Some(number) = self.joined {
            if let Err(e) = control(&conn.db, "RELEASE member") {
                let _ = conn.db.execute_batch("ROLLBACK TO member; RELEASE member");
                return Err(e.into());
            }
            let group = conn.group.as_mut().filter(|g| g.number == number);
            let Some(group) = group else {
                return conn.outcome(number);
            };
            group.members += 1;
            if group.members >= GROUP_MAX || (waiting == 0 && group.until.is_none()) {
                return conn.outcome(number);
            }
            let until = group.until;
            return self.wait_for(number, until).await;
        }
        let until = self.sqlite.group_until();
        if waiting == 0 && until.is_none() {
            conn.commits += 1;
            if let Err(e) = control(&conn.db, "COMMIT") {
                // A COMMIT refused (a deferred constraint) leaves the transaction open: end
                // it, or the next one could not begin.
                let _ = control(&conn.db, "ROLLBACK");
                return Err(e.into());
            }
            return Ok(());
        }
        let number = conn.next_group;
        conn.next_group += 1;
        conn.group = Some(Group {
            number,
            members: 1,
            until,
        });
        self.wait_for(number, until).await
    }

    /// Lets the waiting writers (and, until `until`, the writers to come) join group
    /// `number`, then comes back for its outcome.
    async fn wait_for(self, number: u64, until: Option<Instant>) -> Result<(), StoreError> {
        let sqlite = self.sqlite;
        drop(self);
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
        sqlite.conn.lock().await.outcome(number)
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        // A failed rollback leaves SQLite to roll back when the connection next begins.
        let _ = self.db().execute_batch(if self.joined.is_some() {
            // Only this member's work is undone; the group goes on.
            "ROLLBACK TO member; RELEASE member"
        } else {
            "ROLLBACK"
        });
    }
}

/// The schema version of the database at `path`, read without writing; `None` when there
/// is no file yet.
///
/// # Errors
/// The file cannot be read as a database.
pub fn probe(path: &Path) -> Result<Option<schema::Found>, StoreError> {
    if !path.exists() {
        return Ok(None);
    }
    let at = |source: rusqlite::Error| StoreError::Open {
        path: path.display().to_string(),
        source: Box::new(source),
    };
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(at)?;
    read_version(&conn).map(Some).map_err(at)
}

/// The first bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

/// The first 16 bytes of the file at `path`, if it exists.
fn file_head(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let mut f = std::fs::File::open(path).ok()?;
    let mut head = Vec::with_capacity(16);
    f.by_ref().take(16).read_to_end(&mut head).ok()?;
    Some(head)
}

/// Runs a transaction-control statement (`BEGIN`, `COMMIT`, `SAVEPOINT`…) kept prepared:
/// `execute_batch` parsed it again on every transaction, several times per source scanned.
fn control(db: &Connection, sql: &str) -> rusqlite::Result<()> {
    db.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// A parameter as rusqlite binds it.
struct Bind<'v, 'a>(&'v Value<'a>);

impl rusqlite::ToSql for Bind<'_, '_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Value::Time(_) => ToSqlOutput::Owned(rusqlite::types::Value::Text(
                self.0.time_text().unwrap_or_default(),
            )),
        })
    }
}

/// The shared dialect's `$1` parameters as SQLite's `?1` (the same numbered binding; SQLite
/// would read `$1` as a *named* parameter numbered by first appearance).
fn dialect(sql: &str) -> String {
    sql.replace('$', "?")
}

/// The schema version recorded in the file, before anything is written.
fn read_version(conn: &Connection) -> rusqlite::Result<schema::Found> {
    let tables: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?;
    if tables == 0 {
        return Ok(schema::Found::Empty);
    }
    let has_meta: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta')",
        [],
        |r| r.get(0),
    )?;
    if !has_meta {
        return Ok(schema::Found::Foreign);
    }
    let v: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(schema::Found::from_stored(v.as_deref()))
}

/// A database made before retention (no auto-vacuum) is rebuilt once with incremental
/// vacuum, so what retention prunes can be given back.
fn incremental_vacuum_on(conn: &Connection) -> rusqlite::Result<()> {
    let mode: i64 = conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?;
    if mode == 2 {
        return Ok(());
    }
    tracing::info!("rebuilding the database once for incremental vacuum");
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
    conn.execute_batch("VACUUM")
}

/// Applies every migration after `from`, each in its own transaction with its version.
fn migrate(conn: &mut Connection, from: i64) -> rusqlite::Result<()> {
    for m in schema::MIGRATIONS.iter().filter(|m| m.version > from) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(m.sql(Backend::Sqlite))?;
        tx.execute(schema::SET_VERSION_SQLITE, [m.version.to_string()])?;
        crate::failpoint::hit(crate::failpoint::DURING_MIGRATION);
        tx.commit()?;
        if from > 0 {
            tracing::info!(version = m.version, migration = m.name, "database migrated");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    async fn open() -> (tempfile::TempDir, Arc<Sqlite>) {
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(&dir.path().join("t.db")).unwrap();
        let mut tx = db.begin(Mode::Write).await.unwrap();
        tx.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY)", &[])
            .unwrap();
        tx.exec(
            "CREATE TABLE t (v TEXT NOT NULL, \
               p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
            &[],
        )
        .unwrap();
        tx.commit().await.unwrap();
        (dir, Arc::new(db))
    }

    async fn values(db: &Sqlite) -> Vec<String> {
        let mut tx = db.begin(Mode::Read).await.unwrap();
        let rows = tx.rows("SELECT v FROM t ORDER BY v", &[]).unwrap();
        tx.commit().await.unwrap();
        rows.iter().map(|r| r.text(0).unwrap()).collect()
    }

    async fn commits(db: &Sqlite) -> u64 {
        db.conn.lock().await.commits
    }

    /// Starts a writer that inserts `v` (and, if `parent` is set, refers to that parent),
    /// then fails instead of committing when `fail` is set.
    fn writer(
        db: &Arc<Sqlite>,
        v: &'static str,
        parent: Option<i64>,
        fail: bool,
    ) -> tokio::task::JoinHandle<Result<(), StoreError>> {
        let db = Arc::clone(db);
        tokio::spawn(async move {
            let mut tx = db.begin(Mode::Write).await?;
            tx.exec(
                "INSERT INTO t (v, p) VALUES ($1, $2)",
                &[Value::Text(v), parent.into()],
            )?;
            if fail {
                tx.exec("INSERT INTO t (v) VALUES (NULL)", &[])?;
            }
            tx.commit().await
        })
    }

    /// Waits until `n` writers wait for the connection.
    async fn until_waiting(db: &Sqlite, n: usize) {
        while db.writers_waiting.load(Ordering::SeqCst) < n {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_waiting_share_one_commit_and_a_failing_one_is_undone_alone() {
        let (_dir, db) = open().await;
        let before = commits(&db).await;
        let mut first = db.begin(Mode::Write).await.unwrap();
        first.exec("INSERT INTO t (v) VALUES ('a')", &[]).unwrap();
        let b = writer(&db, "b", None, true);
        until_waiting(&db, 1).await;
        let c = writer(&db, "c", None, false);
        until_waiting(&db, 2).await;
        first.commit().await.unwrap();
        assert!(b.await.unwrap().is_err(), "b's own statement fails");
        c.await.unwrap().unwrap();
        assert_eq!(values(&db).await, ["a", "c"]);
        assert_eq!(commits(&db).await - before, 1, "a and c in one commit");
        // The connection goes on as before.
        writer(&db, "d", None, false).await.unwrap().unwrap();
        assert_eq!(values(&db).await, ["a", "c", "d"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_whose_commit_fails_fails_every_member_and_keeps_nothing() {
        let (_dir, db) = open().await;
        let mut first = db.begin(Mode::Write).await.unwrap();
        first.exec("INSERT INTO t (v) VALUES ('a')", &[]).unwrap();
        // b refers to a parent that does not exist: its deferred check fails the COMMIT.
        let b = writer(&db, "b", Some(7), false);
        until_waiting(&db, 1).await;
        let c = writer(&db, "c", None, false);
        until_waiting(&db, 2).await;
        let a = first.commit().await;
        let (b, c) = (b.await.unwrap(), c.await.unwrap());
        for (who, r) in [("a", a), ("b", b), ("c", c)] {
            assert!(matches!(r, Err(StoreError::Commit(_))), "{who}: {r:?}");
        }
        assert!(values(&db).await.is_empty());
        writer(&db, "d", None, false).await.unwrap().unwrap();
        assert_eq!(values(&db).await, ["d"]);
    }

    #[tokio::test]
    async fn a_commit_refused_alone_is_rolled_back_and_the_next_one_begins() {
        let (_dir, db) = open().await;
        let r = writer(&db, "a", Some(7), false).await.unwrap();
        assert!(r.is_err(), "{r:?}");
        writer(&db, "b", None, false).await.unwrap().unwrap();
        assert_eq!(values(&db).await, ["b"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn many_concurrent_writers_all_land_in_fewer_commits() {
        let (dir, db) = open().await;
        let before = commits(&db).await;
        let names: Vec<&'static str> = (0..200)
            .map(|i| &*Box::leak(format!("{i:03}").into_boxed_str()))
            .collect();
        let tasks: Vec<_> = names.iter().map(|v| writer(&db, v, None, false)).collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let made = commits(&db).await - before;
        assert!(made < 200, "{made} commits for 200 writers");
        // On disk: a fresh connection sees every one.
        drop(db);
        let again = Sqlite::open(&dir.path().join("t.db")).unwrap();
        assert_eq!(values(&again).await, names);
    }

    /// With a window, writers that come one after another, none waiting when the one
    /// before commits, still share one commit; none returns before it, and what each wrote
    /// is on disk when it returns; a failing one is undone alone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_window_groups_writers_that_come_one_after_another() {
        let (dir, db) = open().await;
        db.set_group_window(std::time::Duration::from_millis(300));
        let before = commits(&db).await;
        let started = std::time::Instant::now();
        let a = writer(&db, "a", None, false);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // a has committed its work into the open group by now and waits for the window.
        assert_eq!(db.writers_waiting.load(Ordering::SeqCst), 0);
        assert!(
            !a.is_finished(),
            "a returned before its group was committed"
        );
        let b = writer(&db, "b", None, true);
        let c = writer(&db, "c", None, false);
        a.await.unwrap().unwrap();
        assert!(b.await.unwrap().is_err(), "b's own statement fails");
        c.await.unwrap().unwrap();
        assert!(started.elapsed() >= std::time::Duration::from_millis(300));
        assert_eq!(commits(&db).await - before, 1, "a and c in one commit");
        // Without a window, a writer alone commits at once again.
        db.set_group_window(std::time::Duration::ZERO);
        writer(&db, "d", None, false).await.unwrap().unwrap();
        assert_eq!(commits(&db).await - before, 2);
        drop(db);
        let again = Sqlite::open(&dir.path().join("t.db")).unwrap();
        assert_eq!(values(&again).await, ["a", "c", "d"]);
    }
}
