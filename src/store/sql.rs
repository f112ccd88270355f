//! The one SQL interface the store's operations are written against, whatever the backend:
//! a transaction ([`Tx`]) that runs a statement with parameters ([`Value`]) and returns
//! rows ([`Row`]) of a few plain kinds of cell.
//!
//! Statements are written once, in the dialect both SQLite and PostgreSQL speak: `$1`, `$2`
//! parameters (rewritten to SQLite's `?1` there), `ON CONFLICT`, `RETURNING`, integers for
//! booleans, RFC 3339 text for timestamps (which sorts as the times do; PostgreSQL compares
//! those columns with the "C" collation). Each backend maps its own types onto [`Cell`].

use chrono::{DateTime, SecondsFormat, Utc};

use super::StoreError;
use super::{postgres, sqlite};

/// A statement parameter.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Blob(&'a [u8]),
    /// Bound as its [`ts`] text.
    Time(DateTime<Utc>),
}

impl Value<'_> {
    /// The text a [`Value::Time`] is bound as; `None` for the other kinds.
    #[must_use]
    pub fn time_text(&self) -> Option<String> {
        match self {
            Value::Time(t) => Some(ts(*t)),
            _ => None,
        }
    }
}

impl From<DateTime<Utc>> for Value<'_> {
    fn from(t: DateTime<Utc>) -> Self {
        Value::Time(t)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::Text(s)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(s: &'a String) -> Self {
        Value::Text(s)
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(b: &'a [u8]) -> Self {
        Value::Blob(b)
    }
}

impl From<i64> for Value<'_> {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<u32> for Value<'_> {
    fn from(n: u32) -> Self {
        Value::Int(i64::from(n))
    }
}

impl From<u16> for Value<'_> {
    fn from(n: u16) -> Self {
        Value::Int(i64::from(n))
    }
}

impl From<usize> for Value<'_> {
    fn from(n: usize) -> Self {
        Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<bool> for Value<'_> {
    fn from(b: bool) -> Self {
        Value::Int(i64::from(b))
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Statement parameters: `params![a, b, c]` with anything that converts into a [`Value`].
macro_rules! params {
    ($($v:expr),* $(,)?) => {
        &[$($crate::store::sql::Value::from($v)),*][..]
    };
}
pub(crate) use params;

/// One cell of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// One result row; cells are read by position, in the order the statement selects them.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Cell>);

impl Row {
    fn cell(&self, i: usize) -> Result<&Cell, StoreError> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Corrupt(format!("row has no column {i}")))
    }

    fn kind_error(&self, i: usize, want: &str) -> StoreError {
        StoreError::Corrupt(format!(
            "column {i}: expected {want}, found {:?}",
            self.0.get(i)
        ))
    }

    /// An integer column.
    ///
    /// # Errors
    /// The cell is not an integer.
    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.cell(i)? {
            Cell::Int(n) => Ok(*n),
            _ => Err(self.kind_error(i, "an integer")),
        }
    }

    /// A nullable integer column.
    ///
    /// # Errors
    /// The cell is neither null nor an integer.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Int(n) => Ok(Some(*n)),
            _ => Err(self.kind_error(i, "an integer or null")),
        }
    }

    /// A count or another integer that fits `T`.
    ///
    /// # Errors
    /// The cell is not an integer of that range.
    pub fn num<T: TryFrom<i64>>(&self, i: usize) -> Result<T, StoreError> {
        let n = self.int(i)?;
        T::try_from(n).map_err(|_| self.kind_error(i, "a smaller number"))
    }

    /// A nullable number that fits `T`.
    ///
    /// # Errors
    /// The cell is neither null nor an integer of that range.
    pub fn opt_num<T: TryFrom<i64>>(&self, i: usize) -> Result<Option<T>, StoreError> {
        self.opt_int(i)?
            .map(|n| T::try_from(n).map_err(|_| self.kind_error(i, "a smaller number")))
            .transpose()
    }

    /// A boolean stored as an integer (or a PostgreSQL boolean).
    ///
    /// # Errors
    /// The cell is not an integer.
    pub fn flag(&self, i: usize) -> Result<bool, StoreError> {
        Ok(self.int(i)? != 0)
    }

    /// A text column.
    ///
    /// # Errors
    /// The cell is not text.
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        match self.cell(i)? {
            Cell::Text(s) => Ok(s.clone()),
            _ => Err(self.kind_error(i, "text")),
        }
    }

    /// A nullable text column.
    ///
    /// # Errors
    /// The cell is neither null nor text.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Text(s) => Ok(Some(s.clone())),
            _ => Err(self.kind_error(i, "text or null")),
        }
    }

    /// A blob column.
    ///
    /// # Errors
    /// The cell is not a blob (or text, which SQLite may hold there).
    pub fn blob(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        match self.cell(i)? {
            Cell::Blob(b) => Ok(b.clone()),
            Cell::Text(s) => Ok(s.clone().into_bytes()),
            _ => Err(self.kind_error(i, "bytes")),
        }
    }

    /// A timestamp column (RFC 3339 text).
    ///
    /// # Errors
    /// The cell is not a timestamp.
    pub fn time(&self, i: usize) -> Result<DateTime<Utc>, StoreError> {
        let s = self.text(i)?;
        parse_ts(&s).ok_or_else(|| self.kind_error(i, "an RFC 3339 time"))
    }

    /// A nullable timestamp column.
    ///
    /// # Errors
    /// The cell is neither null nor a timestamp.
    pub fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.opt_text(i)? {
            None => Ok(None),
            Some(s) => parse_ts(&s)
                .map(Some)
                .ok_or_else(|| self.kind_error(i, "an RFC 3339 time or null")),
        }
    }

    /// A JSON column holding `T`.
    ///
    /// # Errors
    /// The cell is not text, or not that JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self, i: usize) -> Result<T, StoreError> {
        let s = self.text(i)?;
        serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("column {i}: {e}: {s:?}")))
    }
}

/// How a transaction takes the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Reads only: a consistent snapshot, taking no write lock.
    Read,
    /// Reads and writes: takes the write lock at once (SQLite `BEGIN IMMEDIATE`), so it never
    /// fails half-way on a lock another writer took meanwhile.
    Write,
}

/// A transaction on whichever backend the store uses. Dropped without [`Tx::commit`], it
/// rolls back.
#[allow(
    clippy::large_enum_variant,
    reason = "one per transaction, on the stack for its length; boxing would cost an allocation each"
)]
pub enum Tx<'a> {
    Sqlite(sqlite::Tx<'a>, u64),
    Postgres(postgres::Tx, u64),
}

impl Tx<'_> {
    /// Which engine this transaction runs on, for the few statements that differ
    /// ([`Tx::skip_locked`]).
    #[must_use]
    pub fn backend(&self) -> super::schema::Backend {
        match self {
            Tx::Sqlite(..) => super::schema::Backend::Sqlite,
            Tx::Postgres(..) => super::schema::Backend::Postgres,
        }
    }

    /// `FOR UPDATE SKIP LOCKED` on PostgreSQL, where claims race between instances (a row
    /// another instance is claiming is passed over, not waited for); nothing on SQLite,
    /// whose one writer at a time makes every claim exclusive already.
    #[must_use]
    pub fn skip_locked(&self) -> &'static str {
        match self {
            Tx::Sqlite(..) => "",
            Tx::Postgres(..) => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Statements run in this transaction so far.
    #[must_use]
    pub fn statements(&self) -> u64 {
        match self {
            Tx::Sqlite(_, n) | Tx::Postgres(_, n) => *n,
        }
    }

    /// Runs a statement; returns the number of rows it changed.
    ///
    /// # Errors
    /// The statement fails.
    pub async fn exec(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError> {
        match self {
            Tx::Sqlite(t, n) => {
                *n += 1;
                t.exec(sql, params)
            }
            Tx::Postgres(t, n) => {
                *n += 1;
                t.exec(sql, params).await
            }
        }
    }

    /// Runs a query; returns every row.
    ///
    /// # Errors
    /// The query fails.
    pub async fn rows(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row>, StoreError> {
        match self {
            Tx::Sqlite(t, n) => {
                *n += 1;
                t.rows(sql, params)
            }
            Tx::Postgres(t, n) => {
                *n += 1;
                t.rows(sql, params).await
            }
        }
    }

    /// Runs a query; returns its first row, if any.
    ///
    /// # Errors
    /// The query fails.
    pub async fn row(
        &mut self,
        sql: &str,
        params: &[Value<'_>],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.rows(sql, params).await?.into_iter().next())
    }

    /// Runs a query that returns exactly one row.
    ///
    /// # Errors
    /// The query fails or returns no row.
    pub async fn one(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Row, StoreError> {
        self.row(sql, params)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("no row from {}", first_line(sql))))
    }

    /// Makes the transaction's changes durable.
    ///
    /// # Errors
    /// The commit fails (nothing of the transaction is kept then).
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t, _) => t.commit().await,
            Tx::Postgres(t, _) => t.commit().await,
        }
    }
}

fn first_line(sql: &str) -> &str {
    sql.trim().lines().next().unwrap_or_default()
}

/// A time as the database keeps it: RFC 3339 UTC with milliseconds, which sorts as text.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A time later than any the database holds (and, unlike `DateTime::MAX_UTC`, one whose
/// [`ts`] text sorts after theirs).
pub(crate) fn far_future() -> DateTime<Utc> {
    parse_ts("9999-12-31T23:59:59.999Z").expect("a valid RFC 3339 time")
}

pub(crate) fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
