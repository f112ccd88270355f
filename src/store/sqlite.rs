//! The SQLite backend: one database file in WAL mode behind one connection, the default
//! that needs no set-up. Transactions are `BEGIN` / `BEGIN IMMEDIATE` … `COMMIT` on that
//! connection, taken in turn (a tokio mutex, so a task waiting for it does not block a
//! thread); another process on the same file waits up to [`BUSY_TIMEOUT`] for its lock.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension};
use tokio::sync::{Mutex, MutexGuard};

use super::schema::{self, Backend};
use super::sql::{Cell, Mode, Row, Value};
use super::StoreError;

/// Prepared statements kept on the connection (the store has about a hundred).
const STATEMENT_CACHE: usize = 256;

/// How long a statement waits for another process's lock before it fails.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open SQLite database.
#[derive(Debug)]
pub struct Sqlite {
    conn: Mutex<Connection>,
    path: String,
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
        Ok(Sqlite {
            conn: Mutex::new(conn),
            path: name,
        })
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
        let conn = self.conn.lock().await;
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

    /// Begins a transaction.
    ///
    /// # Errors
    /// The database is locked past [`BUSY_TIMEOUT`] or fails.
    pub async fn begin(&self, mode: Mode) -> Result<Tx<'_>, StoreError> {
        let conn = self.conn.lock().await;
        conn.execute_batch(match mode {
            Mode::Read => "BEGIN",
            Mode::Write => "BEGIN IMMEDIATE",
        })?;
        Ok(Tx { conn, open: true })
    }
}

/// A transaction on the connection; rolled back when dropped uncommitted.
pub struct Tx<'a> {
    conn: MutexGuard<'a, Connection>,
    open: bool,
}

impl Tx<'_> {
    /// Runs one statement; the rows it changed.
    ///
    /// # Errors
    /// The statement fails.
    pub fn exec(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare_cached(&dialect(sql))?;
        let n = stmt.execute(rusqlite::params_from_iter(params.iter().map(Bind)))?;
        Ok(n as u64)
    }

    /// Runs one query; all its rows.
    ///
    /// # Errors
    /// The query fails.
    pub fn rows(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&dialect(sql))?;
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

    /// Commits the transaction.
    ///
    /// # Errors
    /// The commit fails (the transaction is rolled back).
    pub fn commit(mut self) -> Result<(), StoreError> {
        self.open = false;
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            // A failed rollback leaves SQLite to roll back when the connection next begins.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
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
