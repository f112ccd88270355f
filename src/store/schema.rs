//! The database schema as numbered migrations. One SQLite file in WAL mode; timestamps
//! are RFC 3339 UTC text with milliseconds, so they sort as strings.
//!
//! A database records the last migration applied (`meta.schema_version`). Opening applies
//! every later migration in order, each in its own transaction with the version bump, so a
//! crash mid-upgrade leaves the database at the last whole version. A database from a
//! newer newswatch is refused before anything is written. Migrations are never edited once
//! released: a change is a new migration at the end of [`MIGRATIONS`].

use super::StoreError;

/// The database engines a migration is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One step of the schema's history.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The schema version this migration produces (1, 2, …, in order).
    pub version: i64,
    /// What it changes, for logs.
    pub name: &'static str,
    /// The statements for SQLite, run in one transaction.
    pub sqlite: &'static str,
    /// The same change for PostgreSQL: `BIGINT` for integers, identity columns for ids,
    /// `bytea` for blobs, and times as text compared byte for byte (`COLLATE "C"`).
    pub postgres: &'static str,
}

impl Migration {
    /// The statements for `backend`.
    #[must_use]
    pub fn sql(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
}

/// What an opened database holds, before any migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// No tables at all: a new database.
    Empty,
    /// A newswatch database at this schema version.
    Version(i64),
    /// Tables, but not newswatch's.
    Foreign,
}

impl Found {
    /// From the `meta.schema_version` value of a database that has a `meta` table. Release
    /// 0.1 created its tables and the version row in two steps: a `meta` table without the
    /// row is a version 1 database.
    #[must_use]
    pub fn from_stored(v: Option<&str>) -> Found {
        match v.map(str::parse::<i64>) {
            Some(Ok(v)) => Found::Version(v),
            Some(Err(_)) => Found::Foreign,
            None => Found::Version(1),
        }
    }
}

/// The version to migrate from, or why the database must not be touched.
///
/// # Errors
/// A foreign database, or one newer than this build.
pub fn check_version(found: Found, path: &str) -> Result<i64, StoreError> {
    match found {
        Found::Foreign => Err(StoreError::NotNewswatch {
            path: path.to_owned(),
            why: "it has tables, but no newswatch schema version",
        }),
        Found::Version(v) if v > SCHEMA_VERSION => Err(StoreError::SchemaVersion {
            path: path.to_owned(),
            found: v,
            expected: SCHEMA_VERSION,
        }),
        Found::Version(v) => Ok(v),
        Found::Empty => Ok(0),
    }
}

/// Records the version a migration reached (SQLite spelling of the shared statement).
pub const SET_VERSION_SQLITE: &str = "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// Every migration, oldest first; `MIGRATIONS[i].version == i + 1`.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial schema",
        sqlite: V1,
        postgres: PG_V1,
    },
    Migration {
        version: 2,
        name: "owed full text",
        sqlite: V2,
        postgres: PG_V2,
    },
    Migration {
        version: 3,
        name: "article text apart, retention indexes",
        sqlite: V3,
        postgres: PG_V3,
    },
    Migration {
        version: 4,
        name: "instances and leases",
        sqlite: V4,
        postgres: PG_V4,
    },
    Migration {
        version: 5,
        name: "stories",
        sqlite: V5,
        postgres: PG_V5,
    },
    Migration {
        version: 6,
        name: "each instance's sources",
        sqlite: V6,
        postgres: V6,
    },
    Migration {
        version: 7,
        name: "old articles kept as keys",
        sqlite: V7,
        postgres: PG_V7,
    },
];

/// The version a database has once every migration is applied.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// Release 0.1's schema (`CREATE … IF NOT EXISTS`, as that release wrote it).
const V1: &str = r"
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    name                 TEXT PRIMARY KEY,
    etag                 TEXT,
    last_modified        TEXT,
    first_fetch_at       TEXT,
    last_fetch_at        TEXT,
    last_success_at      TEXT,
    last_status          INTEGER,
    last_error           TEXT,
    last_error_at        TEXT,
    failing_since        TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    retry_at             TEXT,
    articles_seen        INTEGER NOT NULL DEFAULT 0,
    health               TEXT NOT NULL DEFAULT 'ok'
);
CREATE TABLE IF NOT EXISTS articles (
    id          INTEGER PRIMARY KEY,
    url         TEXT,
    fingerprint TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    published   TEXT,
    lang        TEXT,
    text        TEXT NOT NULL,
    source      TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    reportable  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS article_urls (
    url        TEXT PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id)
);
CREATE TABLE IF NOT EXISTS digests (
    id          INTEGER PRIMARY KEY,
    watchlist   TEXT NOT NULL,
    message_id  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    message     BLOB NOT NULL,
    item_count  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS matches (
    watchlist  TEXT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    source     TEXT NOT NULL,
    terms      TEXT NOT NULL,
    snippet    TEXT NOT NULL,
    highlights TEXT NOT NULL,
    matched_at TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'baseline', 'digested')),
    digest_id  INTEGER REFERENCES digests(id),
    PRIMARY KEY (watchlist, article_id)
);
CREATE INDEX IF NOT EXISTS matches_pending ON matches(watchlist, state);
CREATE TABLE IF NOT EXISTS deliveries (
    digest_id       INTEGER NOT NULL REFERENCES digests(id),
    recipient       TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    sent_at         TEXT,
    reply           TEXT,
    PRIMARY KEY (digest_id, recipient)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, next_attempt_at);
CREATE TABLE IF NOT EXISTS health_events (
    id     INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    kind   TEXT NOT NULL CHECK (kind IN ('failing', 'recovered')),
    at     TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS watchlist_state (
    watchlist         TEXT PRIMARY KEY,
    health_event_seen INTEGER NOT NULL DEFAULT 0
);
";

/// Articles whose page could not be read yet: their full text is owed (issue 14).
/// `text_from` says what an article was matched on; NULL for articles recorded before.
const V2: &str = r"
ALTER TABLE articles ADD COLUMN text_from TEXT
    CHECK (text_from IN ('page', 'feed', 'page+feed'));
CREATE TABLE owed_text (
    article_id  INTEGER PRIMARY KEY REFERENCES articles(id),
    source      TEXT NOT NULL,
    url         TEXT NOT NULL,
    tries       INTEGER NOT NULL,
    next_try_at TEXT NOT NULL,
    last_error  TEXT NOT NULL
);
CREATE INDEX owed_text_due ON owed_text(source, next_try_at);
";

/// Retention (issue 16). An article's text moves to a table of its own, so dropping it frees
/// whole pages (a shrunken row would leave its page nearly empty: a 3 kB article fills a page
/// of `articles` alone); the text row keeps the article's age for pruning in order. Indexes
/// let retention find what to prune without reading every row.
const V3: &str = r"
CREATE TABLE article_texts (
    article_id INTEGER PRIMARY KEY REFERENCES articles(id),
    first_seen TEXT NOT NULL,
    text       TEXT NOT NULL
);
INSERT INTO article_texts (article_id, first_seen, text)
    SELECT id, first_seen, text FROM articles WHERE text != '';
ALTER TABLE articles DROP COLUMN text;
CREATE INDEX article_texts_first_seen ON article_texts(first_seen);
CREATE INDEX articles_first_seen ON articles(first_seen);
CREATE INDEX article_urls_article ON article_urls(article_id);
CREATE INDEX matches_article ON matches(article_id);
CREATE INDEX digests_created ON digests(created_at);
";

/// Several instances on one database (issue 17): who is running, and claims that expire
/// unless renewed: a source being scanned (and when it is due next), a watchlist's digest being
/// composed, a delivery being sent; and, per host, the politeness every instance keeps.
const V4: &str = r"
CREATE TABLE instances (
    id         TEXT PRIMARY KEY,
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL
);
ALTER TABLE sources ADD COLUMN configured INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sources ADD COLUMN next_due_at TEXT;
ALTER TABLE sources ADD COLUMN lease_holder TEXT;
ALTER TABLE sources ADD COLUMN lease_until TEXT;
CREATE INDEX sources_due ON sources(configured, next_due_at);
ALTER TABLE watchlist_state ADD COLUMN digest_tick TEXT;
ALTER TABLE watchlist_state ADD COLUMN lease_holder TEXT;
ALTER TABLE watchlist_state ADD COLUMN lease_until TEXT;
ALTER TABLE deliveries ADD COLUMN lease_holder TEXT;
ALTER TABLE deliveries ADD COLUMN lease_until TEXT;
CREATE TABLE hosts (
    host          TEXT PRIMARY KEY,
    next_start_at TEXT NOT NULL,
    blocked_until TEXT,
    block_status  INTEGER,
    block_asked   INTEGER NOT NULL DEFAULT 0,
    block_reason  TEXT
);
CREATE TABLE host_slots (
    host   TEXT NOT NULL,
    slot   INTEGER NOT NULL,
    holder TEXT,
    until  TEXT,
    PRIMARY KEY (host, slot)
);
";

const PG_V1: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE sources (
    name                 TEXT PRIMARY KEY,
    etag                 TEXT,
    last_modified        TEXT,
    first_fetch_at       TEXT COLLATE "C",
    last_fetch_at        TEXT COLLATE "C",
    last_success_at      TEXT COLLATE "C",
    last_status          BIGINT,
    last_error           TEXT,
    last_error_at        TEXT COLLATE "C",
    failing_since        TEXT COLLATE "C",
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    retry_at             TEXT COLLATE "C",
    articles_seen        BIGINT NOT NULL DEFAULT 0,
    health               TEXT NOT NULL DEFAULT 'ok'
);
CREATE TABLE articles (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    url         TEXT,
    fingerprint TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    published   TEXT COLLATE "C",
    lang        TEXT,
    text        TEXT NOT NULL,
    source      TEXT NOT NULL,
    first_seen  TEXT COLLATE "C" NOT NULL,
    reportable  BIGINT NOT NULL
);
CREATE TABLE article_urls (
    url        TEXT PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles(id)
);
CREATE TABLE digests (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    watchlist   TEXT NOT NULL,
    message_id  TEXT NOT NULL UNIQUE,
    created_at  TEXT COLLATE "C" NOT NULL,
    subject     TEXT NOT NULL,
    message     BYTEA NOT NULL,
    item_count  BIGINT NOT NULL
);
CREATE TABLE matches (
    watchlist  TEXT NOT NULL,
    article_id BIGINT NOT NULL REFERENCES articles(id),
    source     TEXT NOT NULL,
    terms      TEXT NOT NULL,
    snippet    TEXT NOT NULL,
    highlights TEXT NOT NULL,
    matched_at TEXT COLLATE "C" NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'baseline', 'digested')),
    digest_id  BIGINT REFERENCES digests(id),
    PRIMARY KEY (watchlist, article_id)
);
CREATE INDEX matches_pending ON matches(watchlist, state);
CREATE TABLE deliveries (
    digest_id       BIGINT NOT NULL REFERENCES digests(id),
    recipient       TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT COLLATE "C" NOT NULL,
    last_error      TEXT,
    sent_at         TEXT COLLATE "C",
    reply           TEXT,
    PRIMARY KEY (digest_id, recipient)
);
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
CREATE TABLE health_events (
    id     BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    source TEXT NOT NULL,
    kind   TEXT NOT NULL CHECK (kind IN ('failing', 'recovered')),
    at     TEXT COLLATE "C" NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE watchlist_state (
    watchlist         TEXT PRIMARY KEY,
    health_event_seen BIGINT NOT NULL DEFAULT 0
);
"#;

const PG_V2: &str = r#"
ALTER TABLE articles ADD COLUMN text_from TEXT
    CHECK (text_from IN ('page', 'feed', 'page+feed'));
CREATE TABLE owed_text (
    article_id  BIGINT PRIMARY KEY REFERENCES articles(id),
    source      TEXT NOT NULL,
    url         TEXT NOT NULL,
    tries       BIGINT NOT NULL,
    next_try_at TEXT COLLATE "C" NOT NULL,
    last_error  TEXT NOT NULL
);
CREATE INDEX owed_text_due ON owed_text(source, next_try_at);
"#;

const PG_V3: &str = r#"
CREATE TABLE article_texts (
    article_id BIGINT PRIMARY KEY REFERENCES articles(id),
    first_seen TEXT COLLATE "C" NOT NULL,
    text       TEXT NOT NULL
);
INSERT INTO article_texts (article_id, first_seen, text)
    SELECT id, first_seen, text FROM articles WHERE text != '';
ALTER TABLE articles DROP COLUMN text;
CREATE INDEX article_texts_first_seen ON article_texts(first_seen);
CREATE INDEX articles_first_seen ON articles(first_seen);
CREATE INDEX article_urls_article ON article_urls(article_id);
CREATE INDEX matches_article ON matches(article_id);
CREATE INDEX digests_created ON digests(created_at);
"#;

const PG_V4: &str = r#"
CREATE TABLE instances (
    id         TEXT PRIMARY KEY,
    host       TEXT NOT NULL,
    pid        BIGINT NOT NULL,
    started_at TEXT COLLATE "C" NOT NULL,
    seen_at    TEXT COLLATE "C" NOT NULL
);
ALTER TABLE sources ADD COLUMN configured BIGINT NOT NULL DEFAULT 1;
ALTER TABLE sources ADD COLUMN next_due_at TEXT COLLATE "C";
ALTER TABLE sources ADD COLUMN lease_holder TEXT;
ALTER TABLE sources ADD COLUMN lease_until TEXT COLLATE "C";
CREATE INDEX sources_due ON sources(configured, next_due_at);
ALTER TABLE watchlist_state ADD COLUMN digest_tick TEXT COLLATE "C";
ALTER TABLE watchlist_state ADD COLUMN lease_holder TEXT;
ALTER TABLE watchlist_state ADD COLUMN lease_until TEXT COLLATE "C";
ALTER TABLE deliveries ADD COLUMN lease_holder TEXT;
ALTER TABLE deliveries ADD COLUMN lease_until TEXT COLLATE "C";
CREATE TABLE hosts (
    host          TEXT PRIMARY KEY,
    next_start_at TEXT COLLATE "C" NOT NULL,
    blocked_until TEXT COLLATE "C",
    block_status  BIGINT,
    block_asked   BIGINT NOT NULL DEFAULT 0,
    block_reason  TEXT
);
CREATE TABLE host_slots (
    host   TEXT NOT NULL,
    slot   BIGINT NOT NULL,
    holder TEXT,
    until  TEXT COLLATE "C",
    PRIMARY KEY (host, slot)
);
"#;

/// Stories (issue 19): each article's body sketch, which copies of one story are recognised
/// by (`crate::stories`; no row for a body too short to tell), and where a match's terms sit
/// (title highlights as JSON byte ranges, the ranking inputs), NULL for matches recorded
/// before. The indexes serve the digest's look-back: a watchlist's matches mailed since a
/// time, a source's recent articles.
const V5: &str = r"
CREATE TABLE story_sketches (
    article_id INTEGER PRIMARY KEY REFERENCES articles(id),
    words      INTEGER NOT NULL,
    shingles   INTEGER NOT NULL,
    hashes     BLOB NOT NULL
);
ALTER TABLE matches ADD COLUMN title_highlights TEXT;
ALTER TABLE matches ADD COLUMN in_title INTEGER;
ALTER TABLE matches ADD COLUMN first_in_body INTEGER;
ALTER TABLE matches ADD COLUMN occurrences INTEGER;
CREATE INDEX matches_mailed ON matches(watchlist, state, matched_at);
CREATE INDEX articles_source_seen ON articles(source, first_seen);
";

const PG_V5: &str = r"
CREATE TABLE story_sketches (
    article_id BIGINT PRIMARY KEY REFERENCES articles(id),
    words      BIGINT NOT NULL,
    shingles   BIGINT NOT NULL,
    hashes     BYTEA NOT NULL
);
ALTER TABLE matches ADD COLUMN title_highlights TEXT;
ALTER TABLE matches ADD COLUMN in_title BIGINT;
ALTER TABLE matches ADD COLUMN first_in_body BIGINT;
ALTER TABLE matches ADD COLUMN occurrences BIGINT;
CREATE INDEX matches_mailed ON matches(watchlist, state, matched_at);
CREATE INDEX articles_source_seen ON articles(source, first_seen);
";

/// Each instance's own list of sources (issue 17): instances whose configs differ (a rolling
/// config change) claim only the sources they have, and one instance's list never hides
/// another's sources. The same statements on both engines.
const V6: &str = r"
CREATE TABLE instance_sources (
    instance TEXT NOT NULL,
    source   TEXT NOT NULL,
    PRIMARY KEY (instance, source)
);
CREATE INDEX instance_sources_source ON instance_sources(source);
";

/// What dedup needs of an article past `keep_text` (issue 16): not its row, its URLs and
/// matches, but 64-bit keys of its canonical URLs and its fingerprint, with the day it was
/// first seen, kept until `keep_identity`. A key is a whole row of a rowid table (the key is
/// the rowid): ~20 bytes an article's URL or fingerprint instead of ~550 bytes of rows and
/// indexes, so the file stops growing with the days once the texts go. No index on `day`:
/// retention walks the table in key order once a day (`store::retention`).
const V7: &str = r"
CREATE TABLE article_keys (
    key INTEGER PRIMARY KEY,
    day INTEGER NOT NULL
);
";

const PG_V7: &str = r"
CREATE TABLE article_keys (
    key BIGINT PRIMARY KEY,
    day BIGINT NOT NULL
);
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(
                usize::try_from(m.version),
                Ok(i + 1),
                "migration {:?}",
                m.name
            );
        }
    }
}
