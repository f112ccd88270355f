//! The PostgreSQL backend: a small pool of connections (deadpool) to one database that any
//! number of newswatch instances share, over TLS as the URL's `sslmode` asks ([`tls`]). Transactions are `BEGIN` … `COMMIT` on a pooled
//! connection; a transaction dropped uncommitted takes its connection out of the pool and
//! closes it, so the server rolls it back and no half-done transaction is ever reused.
//!
//! Statements are the shared dialect of [`super::sql`] (prepared once per connection and
//! cached); results map onto its cells: integers and booleans to [`Cell::Int`], text to
//! [`Cell::Text`], `bytea` to [`Cell::Blob`].

pub mod tls;

use std::time::Duration;

use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

use super::schema::{self, Backend};
use super::sql::{Cell, Mode, Row, Value};
use super::StoreError;

/// Connections each instance keeps at most.
pub const POOL_SIZE: usize = 8;
/// How long getting a connection may take before the database counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A server that stops answering without closing the connection (a host gone, a network
/// partition) is noticed within about this long — TCP keepalives and `TCP_USER_TIMEOUT`
/// — instead of the system's default of many minutes, so a call to it fails rather than
/// wedging the instance (the watchdog would restart it then). The URL's own `keepalives*` /
/// `tcp_user_timeout` settings win.
pub const DEAD_PEER: Duration = Duration::from_secs(30);
/// The advisory lock that serializes migrations between instances starting at once.
const MIGRATION_LOCK: i64 = 0x6e65_7773_7761_7463; // "newswatc"

/// A shared PostgreSQL database.
#[derive(Debug)]
pub struct Postgres {
    pool: Pool,
    /// The URL without its password, for messages.
    shown: String,
}

/// Why a PostgreSQL database cannot be used: the error and what caused it, in one line
/// (`error connecting to server: No such file or directory`).
fn pg_error(shown: &str, e: impl std::error::Error) -> StoreError {
    pg_message(shown, &chain(&e))
}

fn pg_message(shown: &str, message: &str) -> StoreError {
    StoreError::Postgres(format!("database {shown}: {message}"))
}

/// `e` and its sources as `outer: inner: innermost`, skipping a source its outer error
/// already says.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let said = cause.to_string();
        if !out.contains(&said) {
            out.push_str(": ");
            out.push_str(&said);
        }
        next = cause.source();
    }
    out.replace("Error occurred while creating a new object: ", "")
}

impl Postgres {
    /// Connects to `url` (with `password` if given) and brings the schema up to date.
    ///
    /// # Errors
    /// The URL is not one libpq accepts, the server cannot be reached or refuses the login,
    /// the schema is newer than this build (nothing is written then), or a migration fails
    /// (it is rolled back whole).
    pub async fn open(url: &str, password: Option<&str>) -> Result<Postgres, StoreError> {
        let db = Postgres::connect(url, password)?;
        db.migrate().await?;
        Ok(db)
    }

    /// The pool for `url` (it connects on first use), over TLS as its `sslmode` says.
    fn connect(url: &str, password: Option<&str>) -> Result<Postgres, StoreError> {
        let shown = shown_url(url);
        let target =
            tls::parse(url).map_err(|e| StoreError::Postgres(format!("database url: {e}")))?;
        let connector = tls::connector(&target).map_err(|e| pg_message(&shown, &e))?;
        let mut config = target.config;
        if let Some(p) = password {
            config.password(p);
        }
        config.connect_timeout(CONNECT_TIMEOUT);
        if !url.contains("keepalives") && !url.contains("tcp_user_timeout") {
            config
                .keepalives_idle(DEAD_PEER / 3)
                .keepalives_interval(DEAD_PEER / 6)
                .keepalives_retries(2)
                .tcp_user_timeout(DEAD_PEER);
        }
        if config.get_application_name().is_none() {
            config.application_name("newswatch");
        }
        let manager = Manager::from_config(
            config,
            connector,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| pg_error(&shown, e))?;
        Ok(Postgres { pool, shown })
    }

    /// The database, for messages (no password).
    #[must_use]
    pub fn shown(&self) -> &str {
        &self.shown
    }

    async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(|e| pg_error(&self.shown, e))
    }

    /// Begins a transaction (PostgreSQL takes row locks as statements run: `Write` and
    /// `Read` begin alike).
    ///
    /// # Errors
    /// No connection can be had, or `BEGIN` fails.
    pub async fn begin(&self, mode: Mode) -> Result<Tx, StoreError> {
        let client = self.client().await?;
        let begin = match mode {
            Mode::Read => "BEGIN READ ONLY",
            Mode::Write => "BEGIN",
        };
        client
            .batch_execute(begin)
            .await
            .map_err(|e| pg_error(&self.shown, e))?;
        Ok(Tx {
            client: Some(client),
            shown: self.shown.clone(),
        })
    }

    /// The database's size on disk.
    ///
    /// # Errors
    /// The database fails.
    pub async fn size_bytes(&self) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT pg_database_size(current_database())", &[])
            .await
            .map_err(|e| pg_error(&self.shown, e))?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    /// The schema version recorded, and every migration after it applied — each in one
    /// transaction holding an advisory lock and re-reading the version under it, so
    /// instances starting together apply each migration once.
    async fn migrate(&self) -> Result<(), StoreError> {
        let found = self.read_version().await?;
        let from = schema::check_version(found, &self.shown)?;
        for m in schema::MIGRATIONS.iter().filter(|m| m.version > from) {
            let mut client = self.client().await?;
            let err = |e: tokio_postgres::Error| {
                pg_message(
                    &self.shown,
                    &format!("migration {}: {}", m.version, chain(&e)),
                )
            };
            let tx = client.transaction().await.map_err(err)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await
                .map_err(err)?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            )
            .await
            .map_err(err)?;
            let now: i64 = tx
                .query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])
                .await
                .map_err(err)?
                .and_then(|r| r.get::<_, String>(0).parse().ok())
                .unwrap_or(0);
            if now >= m.version {
                tx.commit().await.map_err(err)?;
                continue;
            }
            tx.batch_execute(m.sql(Backend::Postgres))
                .await
                .map_err(err)?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', $1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&m.version.to_string()],
            )
            .await
            .map_err(err)?;
            crate::failpoint::hit(crate::failpoint::DURING_MIGRATION);
            tx.commit().await.map_err(err)?;
            tracing::info!(version = m.version, migration = m.name, "database migrated");
        }
        Ok(())
    }

    async fn read_version(&self) -> Result<schema::Found, StoreError> {
        let client = self.client().await?;
        let tables: i64 = client
            .query_one(
                "SELECT COUNT(*) FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
                &[],
            )
            .await
            .map_err(|e| pg_error(&self.shown, e))?
            .get(0);
        if tables == 0 {
            return Ok(schema::Found::Empty);
        }
        let has_meta: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name = 'meta')",
                &[],
            )
            .await
            .map_err(|e| pg_error(&self.shown, e))?
            .get(0);
        if !has_meta {
            return Ok(schema::Found::Foreign);
        }
        let v: Option<String> = client
            .query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])
            .await
            .map_err(|e| pg_error(&self.shown, e))?
            .map(|r| r.get(0));
        Ok(match v {
            // A `meta` table and no version: the first migration was cut short before it
            // made anything else (each migration is one transaction).
            None => schema::Found::Version(0),
            v => schema::Found::from_stored(v.as_deref()),
        })
    }
}

/// Connects to `url` and reads its schema version, writing nothing.
///
/// # Errors
/// As [`Postgres::open`], but for migrations.
pub async fn probe(url: &str, password: Option<&str>) -> Result<schema::Found, StoreError> {
    let db = Postgres::connect(url, password)?;
    db.read_version().await
}

/// A transaction on a pooled connection.
pub struct Tx {
    /// `None` once committed.
    client: Option<Object>,
    shown: String,
}

impl Tx {
    fn client(&self) -> &Object {
        self.client
            .as_ref()
            .expect("a transaction is used only until it is committed")
    }

    async fn prepared(&self, sql: &str) -> Result<tokio_postgres::Statement, StoreError> {
        self.client()
            .prepare_cached(sql)
            .await
            .map_err(|e| pg_message(&self.shown, &format!("{}: {}", chain(&e), first_line(sql))))
    }

    pub async fn exec(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError> {
        let stmt = self.prepared(sql).await?;
        let binds: Vec<Bind<'_, '_>> = params.iter().map(Bind).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = binds.iter().map(|b| b as _).collect();
        self.client()
            .execute(&stmt, &refs)
            .await
            .map_err(|e| pg_message(&self.shown, &format!("{}: {}", chain(&e), first_line(sql))))
    }

    pub async fn rows(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row>, StoreError> {
        let stmt = self.prepared(sql).await?;
        let binds: Vec<Bind<'_, '_>> = params.iter().map(Bind).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = binds.iter().map(|b| b as _).collect();
        let rows =
            self.client().query(&stmt, &refs).await.map_err(|e| {
                pg_message(&self.shown, &format!("{}: {}", chain(&e), first_line(sql)))
            })?;
        rows.iter().map(|r| cells(r, &self.shown)).collect()
    }

    pub async fn commit(mut self) -> Result<(), StoreError> {
        let client = self.client.take().expect("a transaction is committed once");
        client
            .batch_execute("COMMIT")
            .await
            .map_err(|e| pg_error(&self.shown, e))
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // Uncommitted: the connection leaves the pool and closes; the server rolls the
            // transaction back.
            drop(Object::take(client));
        }
    }
}

fn first_line(sql: &str) -> &str {
    sql.trim().lines().next().unwrap_or_default()
}

/// A row's cells, by column type.
fn cells(r: &tokio_postgres::Row, shown: &str) -> Result<Row, StoreError> {
    let mut out = Vec::with_capacity(r.len());
    for (i, c) in r.columns().iter().enumerate() {
        let bad = |e: tokio_postgres::Error| pg_error(shown, e);
        let cell = match *c.type_() {
            Type::INT8 => r.try_get::<_, Option<i64>>(i).map_err(bad)?.map(Cell::Int),
            Type::INT4 => r
                .try_get::<_, Option<i32>>(i)
                .map_err(bad)?
                .map(|n| Cell::Int(i64::from(n))),
            Type::INT2 => r
                .try_get::<_, Option<i16>>(i)
                .map_err(bad)?
                .map(|n| Cell::Int(i64::from(n))),
            Type::BOOL => r
                .try_get::<_, Option<bool>>(i)
                .map_err(bad)?
                .map(|b| Cell::Int(i64::from(b))),
            Type::BYTEA => r
                .try_get::<_, Option<Vec<u8>>>(i)
                .map_err(bad)?
                .map(Cell::Blob),
            _ => r
                .try_get::<_, Option<String>>(i)
                .map_err(bad)?
                .map(Cell::Text),
        };
        out.push(cell.unwrap_or(Cell::Null));
    }
    Ok(Row(out))
}

/// A parameter as tokio-postgres binds it: the shared dialect's few kinds onto the type the
/// server inferred for the parameter.
#[derive(Debug)]
struct Bind<'v, 'a>(&'v Value<'a>);

impl ToSql for Bind<'_, '_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) => match *ty {
                Type::INT8 => n.to_sql(ty, out),
                Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                Type::BOOL => (*n != 0).to_sql(ty, out),
                _ => n.to_string().to_sql(ty, out),
            },
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
            Value::Time(_) => self.0.time_text().unwrap_or_default().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// `url` with any password (in its user part or a `password=` parameter) replaced by `***`,
/// for messages. A password in the URL is refused by the config; this keeps it out of the
/// messages that say so, and out of any other.
#[must_use]
pub fn shown_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<&str> = query
                .split('&')
                .map(|p| {
                    if p.starts_with("password=") {
                        "password=***"
                    } else {
                        p
                    }
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::shown_url;

    #[test]
    fn a_password_is_never_shown() {
        for (url, shown) in [
            ("postgresql://u@h/db", "postgresql://u@h/db"),
            (
                "postgresql://u:pw@h:5432/db",
                "postgresql://u:***@h:5432/db",
            ),
            (
                "postgresql://u:pw@/db?host=/run/pg",
                "postgresql://u:***@/db?host=/run/pg",
            ),
            (
                "postgres://u@h/db?sslmode=require&password=pw",
                "postgres://u@h/db?sslmode=require&password=***",
            ),
            ("postgresql://u:p@w@h/db", "postgresql://u:***@h/db"),
        ] {
            assert_eq!(shown_url(url), shown);
        }
    }
}
