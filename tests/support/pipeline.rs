//! The real pipeline without the binary: a config loaded from its file, its SQLite store
//! and its fetcher, like one `newswatch scan` process, scanning one source at a time.

use chrono::Utc;
use newswatch::config::Config;
use newswatch::fetch::Fetcher;
use newswatch::pipeline::{scan_source, ScanMode, ScanReport, ScanStart};
use newswatch::store::Store;
use tempfile::TempDir;

use super::config::{path, ConfigFile};

/// A config, its store and its fetcher, in a temp dir of their own.
pub struct Harness {
    pub dir: TempDir,
    pub config: Config,
    pub store: Store,
    pub fetcher: Fetcher,
}

impl Harness {
    /// `config`, its `state_dir` in the harness's temp dir, written and loaded as
    /// `newswatch scan` would.
    pub fn new(config: &ConfigFile) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = config
            .clone()
            .set("state_dir", path(&dir.path().join("state")))
            .write_in(dir.path());
        let config = Config::load(&file).unwrap_or_else(|e| panic!("test config is valid: {e}"));
        let store = Store::open(&config.database_path()).expect("open store");
        let fetcher = Fetcher::new(config.http.clone()).expect("build fetcher");
        Harness {
            dir,
            config,
            store,
            fetcher,
        }
    }

    /// Scans the source `name` now and records what it found.
    pub async fn scan(&self, name: &str) -> ScanReport {
        let source = self.config.source(name).expect("configured source");
        scan_source(
            &self.config,
            &self.store,
            &self.fetcher,
            source,
            ScanMode::Record,
            Utc::now(),
            ScanStart::default(),
        )
        .await
        .expect("a scan fails only when the database does")
    }
}
