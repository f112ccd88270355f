//! A config file's text, written table by table. Every value is written by the `toml` crate,
//! so strings and paths are quoted and escaped as TOML wants; one line a key, in the order
//! given, no blank lines: a test that asserts a position (`file:line:column`) can count it.
//!
//! ```ignore
//! let path = ConfigFile::in_dir(dir)
//!     .with(config::http())
//!     .with(config::source("wire", &feed_url).set("follow", false))
//!     .with(config::watchlist("niger", &["Niger", "النيجر"]))
//!     .write_in(dir);
//! ```

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use toml::Value;

/// Keys in the order they were set; setting a key again replaces its value in place.
#[derive(Debug, Clone, Default)]
struct Keys(Vec<(String, Value)>);

impl Keys {
    fn set(&mut self, key: &str, value: Value) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key.to_owned(), value)),
        }
    }

    fn write(&self, out: &mut String) {
        for (k, v) in &self.0 {
            let _ = writeln!(out, "{k} = {v}");
        }
    }
}

/// One `[table]` or one entry of an `[[array]]` of tables.
#[derive(Debug, Clone)]
pub struct Table {
    header: String,
    keys: Keys,
}

impl Table {
    /// `[name]`.
    pub fn new(name: &str) -> Table {
        Table {
            header: format!("[{name}]"),
            keys: Keys::default(),
        }
    }

    /// One `[[name]]`.
    pub fn entry(name: &str) -> Table {
        Table {
            header: format!("[[{name}]]"),
            keys: Keys::default(),
        }
    }

    /// `key = value` (replacing an earlier value of `key`).
    #[must_use]
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> Table {
        self.keys.set(key, value.into());
        self
    }
}

/// A `[[source]]`: its name and URL.
pub fn source(name: &str, url: &str) -> Table {
    Table::entry("source").set("name", name).set("url", url)
}

/// A `[[watchlist]]` of `keywords`, to `a@example.org`.
pub fn watchlist(name: &str, keywords: &[&str]) -> Table {
    Table::entry("watchlist")
        .set("name", name)
        .set("keywords", keywords.to_vec())
        .set("to", vec!["a@example.org"])
}

/// `[http]` for a loopback test site: no delay between requests to a host, robots.txt not
/// asked for.
pub fn http() -> Table {
    Table::new("http")
        .set("per_host_delay_ms", 0)
        .set("respect_robots", false)
}

/// `[defaults]` with `backfill = "all"`: a first scan reports what it finds.
pub fn backfill_all() -> Table {
    Table::new("defaults").set("backfill", "all")
}

/// `[mail]` through the SMTP server at `addr`, in plain text, from `nw@example.org`.
pub fn smtp(addr: SocketAddr) -> Table {
    Table::new("mail")
        .set("from", "nw@example.org")
        .set("transport", "smtp")
        .set("smtp_url", format!("smtp://{addr}?tls=none"))
}

/// `[mail]` to the file outbox in the state directory, from `newswatch <nw@example.org>`.
pub fn file_outbox() -> Table {
    Table::new("mail")
        .set("from", "newswatch <nw@example.org>")
        .set("transport", "file")
}

/// A path as a TOML string.
pub fn path(p: &Path) -> Value {
    Value::String(p.to_str().expect("test paths are UTF-8").to_owned())
}

/// A whole config file: top-level keys first, then the tables in the order added.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    top: Keys,
    tables: Vec<Table>,
}

impl ConfigFile {
    /// No keys yet.
    pub fn new() -> ConfigFile {
        ConfigFile::default()
    }

    /// A config for the temp dir `dir`: `state_dir` is `dir/state`.
    pub fn in_dir(dir: &Path) -> ConfigFile {
        ConfigFile::new().set("state_dir", path(&dir.join("state")))
    }

    /// A top-level `key = value` (replacing an earlier value of `key`).
    #[must_use]
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> ConfigFile {
        self.top.set(key, value.into());
        self
    }

    /// `table`, after those added before.
    #[must_use]
    pub fn with(mut self, table: Table) -> ConfigFile {
        self.tables.push(table);
        self
    }

    /// The file's text.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.top.write(&mut out);
        for t in &self.tables {
            out.push_str(&t.header);
            out.push('\n');
            t.keys.write(&mut out);
        }
        out
    }

    /// Writes the file at `path`.
    pub fn write(&self, path: &Path) {
        std::fs::write(path, self.text()).expect("write the config");
    }

    /// Writes the file at `dir/newswatch.toml`; returns that path.
    pub fn write_in(&self, dir: &Path) -> PathBuf {
        let path = dir.join("newswatch.toml");
        self.write(&path);
        path
    }
}
