//! State: the only SQL in newswatch.
//!
//! [`Store`] is the interface; every public method is one transaction that encodes a SPEC
//! guarantee: `record_scan` records articles and their matches together and says which
//! matches are new; `record_digest` claims pending matches for one digest with its
//! Message-ID and exact bytes before anything is sent; `mark_delivered` happens only after
//! the transport accepted the message. Policy (backfill cut-offs, back-off delays) is
//! passed in.
//!
//! The operations ([`articles`], [`sources`], [`outbox`], [`stories`]) are written once against the
//! shared SQL interface of [`sql`] and run on whichever backend the store was opened on: an
//! enum rather than a trait object, because there are exactly two backends, known at compile
//! time, and an enum keeps the async methods plain `async fn`s (a trait's async methods
//! cannot be called through `dyn`) and every match exhaustive. The backends: SQLite
//! ([`sqlite`], one file in `state_dir`, the default) and PostgreSQL ([`postgres`], one
//! database any number of instances share, with TLS as its URL's `sslmode` says). What lets
//! instances share one database (who runs, and the leases on sources, digests, deliveries
//! and host slots) is in `leases` and `hosts`.

mod articles;
mod hosts;
mod leases;
mod outbox;
pub mod postgres;
mod retention;
pub mod schema;
mod sources;
pub(crate) mod sql;
pub mod sqlite;
mod stories;

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};

pub use crate::model::{
    ArticleMatch, Delivery, DeliveryFailure, HealthChange, HealthEvent, KnownArticle, OwedText,
    PendingMatch, RecordedArticle, ScannedArticle, SourceHealth, SourceState, TextDebt,
    Undelivered,
};
use crate::model::{
    DigestRecord, InstanceId, MailedCopy, SourceName, StorySketch, Validators, WatchlistName,
};
pub use hosts::{HostBlock, HostRules, HostTurn};
pub use leases::{DigestClaim, Held as Lease, Instance, Release, SourceDue};
pub use outbox::QueueCounts;
pub use retention::{Cutoffs, Held, HeldArticle, HeldCursor, Pruned};
pub use sources::{FetchFailure, FetchSuccess, FAILING_AFTER};
use sql::{Mode, Tx};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create state directory {path}: {source}")]
    StateDir {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "database {path}: schema version {found} is newer than this newswatch understands ({expected}); run the newer release, or restore a backup"
    )]
    SchemaVersion {
        path: String,
        found: i64,
        expected: i64,
    },
    #[error("database {path}: {source}")]
    Open {
        path: String,
        source: Box<rusqlite::Error>,
    },
    #[error("{path} is not a newswatch database ({why})")]
    NotNewswatch { path: String, why: &'static str },
    #[error("{0}")]
    Postgres(String),
    /// The commit this transaction's work was grouped into failed (SQLite group commit).
    #[error("database: commit failed: {0}")]
    Commit(String),
    #[error("database holds a value newswatch cannot read: {0}")]
    Corrupt(String),
    #[error("matches were claimed by another digest meanwhile")]
    Conflict,
}

/// Runs one operation in its own transaction: `in_tx!(self, Write, |tx| op(tx, …))`.
macro_rules! in_tx {
    ($store:expr, $mode:ident, |$tx:ident| $op:expr) => {{
        let mut guard = $store.begin(Mode::$mode).await?;
        let $tx = &mut guard;
        let out = $op.await;
        let sent = guard.statements() + 2;
        $store
            .statements
            .fetch_add(sent, std::sync::atomic::Ordering::Relaxed);
        let out = out?;
        guard.commit().await?;
        Ok(out)
    }};
}

/// What [`Store::record_read`] recorded.
#[derive(Debug)]
pub struct Recorded {
    /// Per article in order, which of its matches were queued for a digest now.
    pub articles: Vec<RecordedArticle>,
    /// The source's health change.
    pub health: Option<HealthChange>,
    /// Whether the claim was given back (`Some(false)`: it was no longer this instance's);
    /// `None` without a release.
    pub released: Option<bool>,
}

/// A handle on the database; cheap operations, one transaction each.
#[derive(Debug)]
pub struct Store {
    backend: Backend,
    /// Statements sent (`BEGIN` and `COMMIT` included): the round trips to a server.
    statements: std::sync::atomic::AtomicU64,
}

#[derive(Debug)]
enum Backend {
    Sqlite(Box<sqlite::Sqlite>),
    Postgres(postgres::Postgres),
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and brings its schema up to
    /// date.
    ///
    /// # Errors
    /// See [`sqlite::Sqlite::open`].
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Sqlite(Box::new(sqlite::Sqlite::open(path)?)),
            statements: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Connects to the PostgreSQL database at `url` (`password` from the environment or a
    /// credential) and brings its schema up to date.
    ///
    /// # Errors
    /// See [`postgres::Postgres::open`].
    pub async fn open_postgres(url: &str, password: Option<&str>) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Postgres(postgres::Postgres::open(url, password).await?),
            statements: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Which backend, for messages: `sqlite <path>` or `postgresql <url>`.
    #[must_use]
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Sqlite(db) => format!("sqlite {}", db.path()),
            Backend::Postgres(db) => format!("postgresql {}", db.shown()),
        }
    }

    /// Statements sent so far (`BEGIN` and `COMMIT` included): with PostgreSQL, the round
    /// trips to the server.
    #[must_use]
    pub fn statements(&self) -> u64 {
        self.statements.load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn begin(&self, mode: Mode) -> Result<Tx<'_>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => Ok(Tx::Sqlite(db.begin(mode).await?, 0)),
            Backend::Postgres(db) => Ok(Tx::Postgres(db.begin(mode).await?, 0)),
        }
    }

    /// A cheap liveness check (for the watchdog).
    ///
    /// # Errors
    /// The database does not answer.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut tx = self.begin(Mode::Read).await?;
        tx.one("SELECT 1", &[]).await?;
        tx.commit().await
    }

    /// The database server's clock, for comparing an instance's with it; `None` for SQLite,
    /// which runs on this machine's.
    ///
    /// # Errors
    /// The database does not answer.
    pub async fn server_time(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        if !self.is_shared() {
            return Ok(None);
        }
        let ms: Result<i64, StoreError> = in_tx!(self, Read, |tx| async {
            tx.one(
                "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
                &[],
            )
            .await?
            .int(0)
        });
        DateTime::from_timestamp_millis(ms?)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt("the server's clock is out of range".into()))
    }

    // --- articles -------------------------------------------------------------------------

    /// The stored articles reached by any of `urls`, keyed by the URL asked for, read in
    /// one transaction (so they need not be fetched again).
    ///
    /// # Errors
    /// Database failure.
    pub async fn known_articles(
        &self,
        urls: &[&str],
    ) -> Result<HashMap<String, KnownArticle>, StoreError> {
        in_tx!(self, Read, |tx| articles::known_articles(tx, urls))
    }

    /// [`Store::known_articles`] and, with `owed`, [`Store::owed_due`] for that source and
    /// time, read in one transaction (a scan's plan needs both).
    ///
    /// # Errors
    /// Database failure.
    pub async fn known_and_owed(
        &self,
        urls: &[&str],
        owed: Option<(&SourceName, DateTime<Utc>)>,
    ) -> Result<(HashMap<String, KnownArticle>, Vec<KnownArticle>), StoreError> {
        in_tx!(self, Read, |tx| async {
            let known = articles::known_articles(tx, urls).await?;
            let owed = match owed {
                Some((source, now)) => articles::owed_due(tx, source, now).await?,
                None => Vec::new(),
            };
            Ok::<_, StoreError>((known, owed))
        })
    }

    /// Articles of `source` whose page's text is owed and may be tried again at `now`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn owed_due(
        &self,
        source: &SourceName,
        now: DateTime<Utc>,
    ) -> Result<Vec<KnownArticle>, StoreError> {
        in_tx!(self, Read, |tx| articles::owed_due(tx, source, now))
    }

    /// How many articles are owed their page's text, per source (for `status`).
    ///
    /// # Errors
    /// Database failure.
    pub async fn owed_by_source(&self) -> Result<HashMap<SourceName, u64>, StoreError> {
        in_tx!(self, Read, |tx| articles::owed_by_source(tx))
    }

    /// Records one scan of `source`: every article as seen, its text and its debt, and every
    /// match, in one transaction, and marks the source as baselined. Returns, per article in
    /// order, which of its matches were queued for a digest now.
    ///
    /// # Errors
    /// Database failure (nothing is recorded then).
    pub async fn record_scan(
        &self,
        source: &SourceName,
        scanned: &[ScannedArticle],
        now: DateTime<Utc>,
    ) -> Result<Vec<RecordedArticle>, StoreError> {
        in_tx!(self, Write, |tx| articles::record_scan(
            tx, source, scanned, now
        ))
    }

    /// [`Store::record_scan`] and the successful fetch it read (as
    /// [`Store::record_fetch_success`] and [`Store::set_refetch_floor`]), in one
    /// transaction: one commit, so one sync to disk, per scan instead of three (issue 21);
    /// with a `release`, the source's claim is given back in it too.
    ///
    /// # Errors
    /// Database failure (nothing is recorded then).
    pub async fn record_read(
        &self,
        source: &SourceName,
        scanned: &[ScannedArticle],
        fetch: &FetchSuccess,
        now: DateTime<Utc>,
        release: Option<&Release<'_>>,
    ) -> Result<Recorded, StoreError> {
        in_tx!(self, Write, |tx| async {
            let (articles, inserted) = articles::record_articles(tx, source, scanned, now).await?;
            let health = sources::record_read_success(tx, source, inserted, fetch, now).await?;
            let released = leases::release_after(tx, source, release).await?;
            Ok::<_, StoreError>(Recorded {
                articles,
                health,
                released,
            })
        })
    }

    /// What [`Store::record_scan`] would return, without writing anything (`--dry-run`).
    ///
    /// # Errors
    /// Database failure.
    pub async fn peek_scan(
        &self,
        scanned: &[ScannedArticle],
    ) -> Result<Vec<RecordedArticle>, StoreError> {
        in_tx!(self, Read, |tx| articles::peek_scan(tx, scanned))
    }

    // --- instances and leases ---------------------------------------------------------------

    /// Records `me` as running.
    ///
    /// # Errors
    /// Database failure.
    pub async fn register_instance(&self, me: &Instance) -> Result<(), StoreError> {
        in_tx!(self, Write, |tx| leases::register_instance(tx, me))
    }

    /// `me` is alive: its heartbeat, and every lease it holds renewed until `until`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn heartbeat(
        &self,
        me: &InstanceId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        in_tx!(self, Write, |tx| leases::heartbeat(tx, me, now, until))
    }

    /// Releases everything `id` holds and forgets it (it stopped, or is known dead).
    ///
    /// # Errors
    /// Database failure.
    pub async fn forget_instance(
        &self,
        id: &InstanceId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        in_tx!(self, Write, |tx| leases::forget_instance(tx, id, now))
    }

    /// Every instance recorded, oldest first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn instances(&self) -> Result<Vec<Instance>, StoreError> {
        in_tx!(self, Read, |tx| leases::instances(tx))
    }

    /// Every lease held now, for `status`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn leases(&self) -> Result<Vec<Lease>, StoreError> {
        in_tx!(self, Read, |tx| leases::holdings(tx))
    }

    /// Records `me`'s configured sources and when each is due (see
    /// `leases::sync_sources`).
    ///
    /// # Errors
    /// Database failure.
    pub async fn sync_sources(
        &self,
        me: &InstanceId,
        due: &[SourceDue],
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        in_tx!(self, Write, |tx| leases::sync_sources(
            tx,
            me,
            due,
            now,
            stale_before
        ))
    }

    /// Claims up to `limit` of `me`'s due sources until `until` (only sources on `me`'s
    /// list: see [`Store::sync_sources`]).
    ///
    /// # Errors
    /// Database failure.
    pub async fn claim_due_sources(
        &self,
        me: &InstanceId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<SourceName>, StoreError> {
        in_tx!(self, Write, |tx| leases::claim_due_sources(
            tx, me, now, until, limit
        ))
    }

    /// The earliest time one of `me`'s sources is due or a lease on one passes.
    ///
    /// # Errors
    /// Database failure.
    pub async fn next_source_wake(
        &self,
        me: &InstanceId,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        in_tx!(self, Read, |tx| leases::next_source_wake(tx, me))
    }

    /// Releases `me`'s lease on `name`, due next at `next_due`; false if it was lost.
    ///
    /// # Errors
    /// Database failure.
    pub async fn finish_source(
        &self,
        name: &SourceName,
        me: &InstanceId,
        next_due: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        in_tx!(self, Write, |tx| leases::finish_source(
            tx, name, me, next_due
        ))
    }

    /// [`Store::finish_source`] with the next due time computed from the source's state as
    /// the same transaction reads it: one transaction at the end of a scan, not two.
    ///
    /// # Errors
    /// Database failure.
    pub async fn finish_source_after(
        &self,
        name: &SourceName,
        me: &InstanceId,
        next_due: impl FnOnce(&SourceState) -> DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        in_tx!(self, Write, |tx| async {
            let state = sources::source_state(tx, name).await?;
            leases::finish_source(tx, name, me, next_due(&state)).await
        })
    }

    /// Claims composing `watchlist`'s digest (for the cron `tick`, if any): claimed, held by
    /// another instance (try later), or that tick composed already.
    ///
    /// # Errors
    /// Database failure.
    pub async fn claim_digest(
        &self,
        watchlist: &WatchlistName,
        me: &InstanceId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        tick: Option<DateTime<Utc>>,
    ) -> Result<DigestClaim, StoreError> {
        in_tx!(self, Write, |tx| leases::claim_digest(
            tx, watchlist, me, now, until, tick
        ))
    }

    /// Releases `me`'s claim on composing `watchlist`'s digest; `composed`: the cron tick
    /// whose digest is now recorded (or found to have nothing to send), so no instance
    /// composes it again.
    ///
    /// # Errors
    /// Database failure.
    pub async fn release_digest(
        &self,
        watchlist: &WatchlistName,
        me: &InstanceId,
        composed: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        in_tx!(self, Write, |tx| leases::release_digest(
            tx, watchlist, me, composed
        ))
    }

    /// Claims sending `d`; false if another instance is sending it or it was sent.
    ///
    /// # Errors
    /// Database failure.
    pub async fn claim_delivery(
        &self,
        d: &Delivery,
        me: &InstanceId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        in_tx!(self, Write, |tx| leases::claim_delivery(
            tx, d, me, now, until
        ))
    }

    /// A turn at `host` under the cluster's politeness (see `hosts`).
    ///
    /// # Errors
    /// Database failure.
    pub async fn reserve_host(
        &self,
        host: &str,
        me: &InstanceId,
        rules: HostRules,
        now: DateTime<Utc>,
        slot_until: DateTime<Utc>,
    ) -> Result<HostTurn, StoreError> {
        in_tx!(self, Write, |tx| hosts::reserve(
            tx, host, me, rules, now, slot_until
        ))
    }

    /// Gives back a request slot at `host`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn release_host(
        &self,
        host: &str,
        slot: u32,
        me: &InstanceId,
    ) -> Result<(), StoreError> {
        in_tx!(self, Write, |tx| hosts::release(tx, host, slot, me))
    }

    /// Leaves `host` alone, for every instance, until `block.until`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn block_host(&self, host: &str, block: &HostBlock) -> Result<(), StoreError> {
        in_tx!(self, Write, |tx| hosts::block(tx, host, block))
    }

    /// Whether this store is shared by several instances (PostgreSQL).
    #[must_use]
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    // --- retention ------------------------------------------------------------------------

    /// Prunes one batch (at most `limit` rows of each kind) past the cut-offs.
    ///
    /// # Errors
    /// Database failure (the batch is rolled back).
    pub async fn prune_batch(&self, cutoffs: Cutoffs, limit: usize) -> Result<Pruned, StoreError> {
        in_tx!(self, Write, |tx| retention::prune_batch(tx, cutoffs, limit))
    }

    /// Forgets keys of articles first seen before `cutoffs.identity_before`, walking the
    /// keys in order: each step one read (no lock) of the next `limit` keys and, when some of
    /// them are old, one short write deleting those, then `pause`. Skipped until the cut-off
    /// passes the oldest key's day, which a pass records. Returns the keys forgotten.
    ///
    /// # Errors
    /// Database failure (what earlier steps forgot stays forgotten).
    pub async fn prune_keys(
        &self,
        cutoffs: Cutoffs,
        limit: usize,
        pause: std::time::Duration,
    ) -> Result<u64, StoreError> {
        let before = cutoffs.identity_before;
        let start: Result<Option<Option<i64>>, StoreError> =
            in_tx!(self, Read, |tx| retention::keys_pass(tx, before));
        let Some(seen) = start? else {
            return Ok(0);
        };
        let (mut after, mut oldest_kept, mut forgotten) = (None, None::<i64>, 0);
        loop {
            let chunk: Result<_, StoreError> = in_tx!(self, Read, |tx| retention::keys_chunk(
                tx, before, after, limit
            ));
            let Some(chunk) = chunk? else {
                break;
            };
            if chunk.old > 0 {
                let n: Result<u64, StoreError> = in_tx!(self, Write, |tx| retention::forget_keys(
                    tx, before, after, chunk.last
                ));
                forgotten += n?;
                tokio::time::sleep(pause).await;
            }
            oldest_kept = match (oldest_kept, chunk.oldest_kept) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            after = Some(chunk.last);
        }
        let done: Result<(), StoreError> = in_tx!(self, Write, |tx| retention::keys_pass_done(
            tx,
            seen,
            oldest_kept
        ));
        done?;
        Ok(forgotten)
    }

    /// Gives the space pruning freed back to the file system, a little at a time; returns
    /// the pages given back.
    ///
    /// # Errors
    /// Database failure.
    pub async fn compact(&self) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.compact().await,
            // Autovacuum gives PostgreSQL's dead rows back.
            Backend::Postgres(_) => Ok(0),
        }
    }

    /// What the database holds and its size, for `status`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn held(&self) -> Result<Held, StoreError> {
        let counts: Result<Held, StoreError> = in_tx!(self, Read, |tx| retention::held(tx));
        let counts = counts?;
        let bytes = match &self.backend {
            Backend::Sqlite(db) => db.size_bytes(),
            Backend::Postgres(db) => db.size_bytes().await?,
        };
        Ok(Held { bytes, ..counts })
    }

    /// Articles whose text is still held, first seen at or after `since`, newest first, a
    /// page of at most `limit` after `after` (the last of the page before).
    ///
    /// # Errors
    /// Database failure.
    pub async fn held_articles(
        &self,
        since: DateTime<Utc>,
        after: Option<HeldCursor>,
        limit: usize,
    ) -> Result<Vec<HeldArticle>, StoreError> {
        in_tx!(self, Read, |tx| retention::held_articles(
            tx, since, after, limit
        ))
    }

    // --- sources --------------------------------------------------------------------------

    /// The stored state of `name` (defaults for a source never fetched).
    ///
    /// # Errors
    /// Database failure.
    pub async fn source_state(&self, name: &SourceName) -> Result<SourceState, StoreError> {
        in_tx!(self, Read, |tx| sources::source_state(tx, name))
    }

    /// On SQLite, keeps each group commit open for `window` for writers to come
    /// ([`sqlite::Sqlite::set_group_window`]); PostgreSQL commits each transaction itself.
    pub fn set_group_window(&self, window: std::time::Duration) {
        if let Backend::Sqlite(db) = &self.backend {
            db.set_group_window(window);
        }
    }

    /// The state of every source the database knows, read at once (a source it does not
    /// know has [`SourceState::default`]).
    ///
    /// # Errors
    /// Database failure.
    pub async fn source_states(&self) -> Result<HashMap<SourceName, SourceState>, StoreError> {
        in_tx!(self, Read, |tx| sources::source_states(tx))
    }

    /// Records a successful fetch (200 or 304); returns `Recovered` if the source had been
    /// announced as failing.
    ///
    /// # Errors
    /// Database failure.
    pub async fn record_fetch_success(
        &self,
        name: &SourceName,
        validators: Option<&Validators>,
        status: u16,
        now: DateTime<Utc>,
    ) -> Result<Option<HealthChange>, StoreError> {
        in_tx!(self, Write, |tx| sources::record_fetch_success(
            tx, name, validators, status, now
        ))
    }

    /// After a success: the source is not fetched again before `until` (the server's
    /// `Cache-Control: max-age` or the feed's `<ttl>`), whatever its cron says.
    ///
    /// # Errors
    /// Database failure.
    pub async fn set_refetch_floor(
        &self,
        name: &SourceName,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        in_tx!(self, Write, |tx| sources::set_refetch_floor(
            tx, name, until
        ))
    }

    /// Records a failed fetch; its `retry_at` is the back-off the caller chose. Returns
    /// `Failing` the first time the source has failed for [`FAILING_AFTER`].
    ///
    /// # Errors
    /// Database failure.
    pub async fn record_fetch_failure(
        &self,
        name: &SourceName,
        failure: &FetchFailure,
        now: DateTime<Utc>,
    ) -> Result<Option<HealthChange>, StoreError> {
        self.record_failure_then(name, failure, now, None)
            .await
            .map(|(change, _)| change)
    }

    /// [`Store::record_fetch_failure`], then the claim released as `release` says, in one
    /// transaction; whether it was released (`None` without a `release`).
    ///
    /// # Errors
    /// Database failure.
    pub async fn record_failure_then(
        &self,
        name: &SourceName,
        failure: &FetchFailure,
        now: DateTime<Utc>,
        release: Option<&Release<'_>>,
    ) -> Result<(Option<HealthChange>, Option<bool>), StoreError> {
        in_tx!(self, Write, |tx| async {
            let change = sources::record_fetch_failure(tx, name, failure, now).await?;
            let released = leases::release_after(tx, name, release).await?;
            Ok::<_, StoreError>((change, released))
        })
    }

    /// Every known source's health, by name.
    ///
    /// # Errors
    /// Database failure.
    pub async fn source_health(&self) -> Result<Vec<SourceHealth>, StoreError> {
        in_tx!(self, Read, |tx| sources::source_health(tx))
    }

    // --- outbox ---------------------------------------------------------------------------

    /// Matches of `watchlist` not yet in any digest, oldest first.
    ///
    /// # Errors
    /// Database failure; a match row that cannot be read.
    pub async fn pending_matches(
        &self,
        watchlist: &WatchlistName,
    ) -> Result<Vec<PendingMatch>, StoreError> {
        in_tx!(self, Read, |tx| outbox::pending_matches(tx, watchlist))
    }

    /// Health events of the sources `watches` accepts that `watchlist`'s digests have not
    /// shown yet.
    ///
    /// # Errors
    /// Database failure.
    pub async fn pending_health_events(
        &self,
        watchlist: &WatchlistName,
        watches: impl Fn(&SourceName) -> bool,
    ) -> Result<Vec<HealthEvent>, StoreError> {
        in_tx!(self, Read, |tx| outbox::pending_health_events(
            tx, watchlist, watches
        ))
    }

    /// Records a composed digest and claims its matches, in one transaction, before it is
    /// handed to any transport. Returns the digest id.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when any of the matches was claimed meanwhile (nothing is
    /// recorded then); database failure.
    pub async fn record_digest(
        &self,
        digest: &DigestRecord,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        in_tx!(self, Write, |tx| outbox::record_digest(tx, digest, now))
    }

    /// Records the numbered parts of one digest, each with its Message-ID, its matches and
    /// its deliveries, all in one transaction: every match is claimed by exactly one part,
    /// or (on any failure) none is recorded. Returns the digest ids, in order.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when any of the matches was claimed meanwhile (nothing is
    /// recorded then); database failure.
    pub async fn record_digests(
        &self,
        parts: &[DigestRecord],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        in_tx!(self, Write, |tx| async {
            let mut ids = Vec::with_capacity(parts.len());
            for d in parts {
                ids.push(outbox::record_digest(tx, d, now).await?);
            }
            Ok::<_, StoreError>(ids)
        })
    }

    // --- stories --------------------------------------------------------------------------

    /// The copies `watchlist` has mailed of articles first seen since `since` that have a
    /// sketch: what a copy arriving later is recognised against.
    ///
    /// # Errors
    /// Database failure.
    pub async fn mailed_copies(
        &self,
        watchlist: &WatchlistName,
        since: DateTime<Utc>,
    ) -> Result<Vec<MailedCopy>, StoreError> {
        in_tx!(self, Read, |tx| stories::mailed_copies(
            tx, watchlist, since
        ))
    }

    /// Settles late copies of a story already mailed that no digest with news listed
    /// within the clustering window: their matches join the digest `told_in` that mailed
    /// the story (exactly one digest per pair), and no mail is sent for them.
    ///
    /// # Errors
    /// Database failure.
    pub async fn fold_late_copies(
        &self,
        watchlist: &WatchlistName,
        told_in: i64,
        article_ids: &[i64],
    ) -> Result<u64, StoreError> {
        in_tx!(self, Write, |tx| stories::fold_late_copies(
            tx,
            watchlist,
            told_in,
            article_ids
        ))
    }

    /// The sketches of each of `sources`' articles first seen since `since`, at most
    /// `per_source` of the newest each, with their article ids: what each source's furniture
    /// is learnt from.
    ///
    /// # Errors
    /// Database failure.
    pub async fn source_sketches(
        &self,
        sources: &[SourceName],
        since: DateTime<Utc>,
        per_source: usize,
    ) -> Result<Vec<(SourceName, i64, StorySketch)>, StoreError> {
        in_tx!(self, Read, |tx| async {
            let mut out = Vec::new();
            for s in sources {
                for (id, sk) in stories::source_sketches(tx, s, since, per_source).await? {
                    out.push((s.clone(), id, sk));
                }
            }
            Ok::<_, StoreError>(out)
        })
    }

    /// Deliveries not yet accepted whose next attempt is due at `now` (all of them with
    /// `None`, as at start-up).
    ///
    /// # Errors
    /// Database failure.
    pub async fn due_deliveries(
        &self,
        now: Option<DateTime<Utc>>,
    ) -> Result<Vec<Delivery>, StoreError> {
        in_tx!(self, Read, |tx| outbox::due_deliveries(tx, now))
    }

    /// When the earliest pending delivery is due.
    ///
    /// # Errors
    /// Database failure.
    pub async fn next_delivery_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        in_tx!(self, Read, |tx| outbox::next_delivery_at(tx))
    }

    /// The transport accepted the message for this recipient.
    ///
    /// # Errors
    /// Database failure.
    pub async fn mark_delivered(
        &self,
        delivery: &Delivery,
        reply: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        in_tx!(self, Write, |tx| outbox::mark_delivered(
            tx, delivery, reply, now
        ))
    }

    /// A delivery attempt failed.
    ///
    /// # Errors
    /// Database failure.
    pub async fn mark_delivery_failed(
        &self,
        delivery: &Delivery,
        error: &str,
        failure: DeliveryFailure,
    ) -> Result<(), StoreError> {
        in_tx!(self, Write, |tx| outbox::mark_delivery_failed(
            tx, delivery, error, failure
        ))
    }

    /// Pending matches and deliveries, counted.
    ///
    /// # Errors
    /// Database failure.
    pub async fn queue_counts(&self) -> Result<QueueCounts, StoreError> {
        in_tx!(self, Read, |tx| outbox::queue_counts(tx))
    }

    /// Pending matches per watchlist, for `status`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn pending_by_watchlist(&self) -> Result<Vec<(WatchlistName, u64)>, StoreError> {
        in_tx!(self, Read, |tx| outbox::pending_by_watchlist(tx))
    }

    /// Deliveries not accepted yet, with their last error, for `status`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn undelivered(&self) -> Result<Vec<Undelivered>, StoreError> {
        in_tx!(self, Read, |tx| outbox::undelivered(tx))
    }
}
