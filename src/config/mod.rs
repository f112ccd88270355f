//! Configuration: TOML → [`raw::RawConfig`] → validated, compiled [`Config`].
//!
//! Everything is compiled at load (cron lines, CSS selectors, watchlist terms, time zone,
//! `sources` patterns), so a running daemon has no "invalid rule" path. A `Config` is
//! immutable and shared as `Arc<Config>`; a reload builds a new one and swaps it only if valid.

pub mod error;
pub mod language;
pub mod opml;
pub mod raw;
pub mod smtp;
pub mod source_block;
pub mod validate;
mod watchlists;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use url::Url;

pub use error::{ConfigError, ConfigErrors};
pub use smtp::{CaFile, SmtpConfig, SmtpSecurity};
pub use watchlists::Watchlists;

use crate::extract::SourceKind;
use crate::fetch::FetchSettings;
use crate::matcher::WatchlistTerms;
use crate::model::{SourceName, WatchlistName};
use crate::schedule::CronSpec;

pub const DEFAULT_CONFIG_PATH: &str = "/etc/newswatch/newswatch.toml";
pub const DEFAULT_STATE_DIR: &str = "/var/lib/newswatch";
pub const DEFAULT_FROM: &str = "newswatch <newswatch@localhost>";
pub const DEFAULT_SCHEDULE: &str = "*/15 * * * *";
pub const DEFAULT_DIGEST: &str = "0 7 * * *";
pub const DEFAULT_BACKFILL: &str = "24h";

/// The validated configuration.
#[derive(Debug)]
pub struct Config {
    pub path: PathBuf,
    pub state_dir: PathBuf,
    pub timezone: Tz,
    pub http: FetchSettings,
    pub mail: MailConfig,
    pub sources: Vec<Source>,
    /// The watchlists and their compiled terms.
    pub watchlists: Watchlists,
    pub retention: Retention,
    /// `[database]`: a PostgreSQL database shared by several instances; `None`: SQLite in
    /// `state_dir`.
    pub database: Option<DatabaseConfig>,
    /// Where each source is in `sources`: a scan looks its source up by name, and a
    /// search through 10,000 of them made every scan's cost grow with the count (issue 21).
    source_index: std::collections::HashMap<String, usize>,
}

/// `[database]`: the PostgreSQL database instances share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    /// As written, without a password (that comes from the environment or a credential).
    pub url: String,
    /// How long an instance's claim on a source, a digest or a delivery lasts unless renewed.
    pub lease: Duration,
}

/// `[database] lease_secs` when not set.
pub const DEFAULT_LEASE_SECS: u64 = 60;
/// The shortest lease: a claim must outlast a slow request.
pub const MIN_LEASE_SECS: i64 = 10;
/// The longest lease: a dead instance's claims hold its work back this long.
pub const MAX_LEASE_SECS: i64 = 3600;

/// How long what is stored is kept (`[retention]`).
///
/// Invariant: `keep_text <= keep_identity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Article text and digest message bodies older than this are dropped.
    pub keep_text: Duration,
    /// What dedup needs (canonical URLs, fingerprints, which pairs were mailed) is kept this
    /// long, so an old article that reappears in a feed is still not mailed again.
    pub keep_identity: Duration,
}

/// `[retention] keep_text` when not set.
pub const DEFAULT_KEEP_TEXT: &str = "30d";
/// `[retention] keep_identity` when not set.
pub const DEFAULT_KEEP_IDENTITY: &str = "400d";
/// The shortest `keep_text`: a day, so a digest's articles outlive the digest.
pub const MIN_KEEP_TEXT: Duration = Duration::from_secs(86_400);
/// The shortest `keep_identity`: longer than feeds keep their items.
pub const MIN_KEEP_IDENTITY: Duration = Duration::from_secs(7 * 86_400);

impl Default for Retention {
    fn default() -> Self {
        Retention {
            keep_text: parse_duration(DEFAULT_KEEP_TEXT).expect("DEFAULT_KEEP_TEXT is valid"),
            keep_identity: parse_duration(DEFAULT_KEEP_IDENTITY)
                .expect("DEFAULT_KEEP_IDENTITY is valid"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub from: lettre::message::Mailbox,
    pub transport: TransportConfig,
    pub list_unsubscribe: Option<String>,
    /// The EHLO name: `[mail] helo_name`, else the domain of `from`.
    pub helo_name: String,
    /// `[mail] ca_file`: roots trusted for the SMTP server besides the system's.
    pub ca_file: Option<CaFile>,
}

impl MailConfig {
    /// `from` and `transport` with every other setting at its default.
    #[must_use]
    pub fn new(from: lettre::message::Mailbox, transport: TransportConfig) -> Self {
        MailConfig {
            helo_name: from.email.domain().to_owned(),
            from,
            transport,
            list_unsubscribe: None,
            ca_file: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportConfig {
    /// `.eml` files in `<state_dir>/outbox`.
    File,
    /// An `smtp://` or `smtps://` URL, validated (no password: that comes from the environment).
    Smtp(SmtpConfig),
}

/// How much history to report on a source's first fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backfill {
    /// Report articles published within this long before the first fetch.
    Within(Duration),
    /// Report everything, dated or not.
    All,
}

impl Backfill {
    /// Whether an article first seen on a source's first fetch at `now` is reported.
    #[must_use]
    pub fn reports(self, published: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        match (self, published) {
            (Backfill::All, _) => true,
            (Backfill::Within(_), None) => false,
            (Backfill::Within(d), Some(p)) => {
                let d = chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
                now.checked_sub_signed(d).is_none_or(|cut| p >= cut)
            }
        }
    }
}

#[derive(Debug)]
pub struct Source {
    pub name: SourceName,
    pub url: Url,
    pub kind: SourceKind,
    pub schedule: CronSpec,
    pub follow: bool,
    pub links: Option<crate::extract::Selector>,
    pub links_text: Option<String>,
    pub content: Option<crate::extract::Selector>,
    pub content_text: Option<String>,
    pub backfill: Backfill,
    /// How many sources before this one in the config are read from the same host (scheme,
    /// host and port): the daemon lets a host's sources fall due a politeness delay apart
    /// after each cron tick, so that they do not all wait at the host's gate at once while
    /// other hosts sit idle (issue 21).
    pub host_rank: u32,
}

#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per watchlist, built once at load; boxing buys nothing"
)]
pub enum DigestSchedule {
    Immediate,
    Cron(CronSpec),
}

impl std::fmt::Display for DigestSchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DigestSchedule::Immediate => f.write_str("immediate"),
            DigestSchedule::Cron(c) => write!(f, "{c}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Watchlist {
    pub name: WatchlistName,
    pub terms: WatchlistTerms,
    /// Source patterns as written (`*`, names, or globs with `*`).
    pub sources: Vec<String>,
    pub to: Vec<lettre::message::Mailbox>,
    pub digest: DigestSchedule,
    /// `show_recipients`: one `To:` naming every recipient, instead of each message naming
    /// only its own.
    pub show_recipients: bool,
    /// ISO 639-1 codes (lower-case) of the languages kept; empty keeps every language.
    pub languages: Vec<String>,
    /// `prefer`: sources whose copy of a story is shown first, most preferred first.
    pub prefer: Vec<SourceName>,
}

impl Watchlist {
    /// Whether this watchlist watches the named source.
    #[must_use]
    pub fn watches(&self, source: &SourceName) -> bool {
        self.sources.iter().any(|p| glob_match(p, source.as_str()))
    }

    /// Whether an article in language `lang` (a primary subtag such as `ar`, as extraction
    /// reports it) is one this watchlist reads.
    ///
    /// An article whose language is unknown (`None`: nothing declared, too little text to
    /// detect) is kept: a monitoring service that silently drops a story because detection
    /// failed is worse than one that reports it, and the terms still have to match.
    #[must_use]
    pub fn accepts_language(&self, lang: Option<&str>) -> bool {
        match lang {
            _ if self.languages.is_empty() => true,
            None => true,
            Some(l) => {
                let l = l.trim();
                let primary = l.split(['-', '_']).next().unwrap_or(l);
                self.languages
                    .iter()
                    .any(|w| w.eq_ignore_ascii_case(primary))
            }
        }
    }
}

impl Config {
    /// Reads and validates the config at `path`.
    ///
    /// # Errors
    /// Every problem found, each with <file:line:column>.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError::whole(
                path,
                format!("cannot read config: {e}"),
            )])
        })?;
        Self::from_text(path, &text)
    }

    /// Validates config `text` as if read from `path`.
    ///
    /// # Errors
    /// Every problem found, each with <file:line:column>.
    pub fn from_text(path: &Path, text: &str) -> Result<Config, ConfigErrors> {
        let (raw, mut errors) = raw::parse(path, text).map_err(ConfigErrors)?;
        match validate::validate(raw, path, text) {
            Ok(c) if errors.is_empty() => Ok(c),
            Ok(_) => Err(ConfigErrors(errors)),
            Err(more) => {
                errors.extend(more);
                errors.sort_by_key(|e| (e.line, e.column));
                Err(ConfigErrors(errors))
            }
        }
    }

    /// The source named `name`.
    #[must_use]
    pub fn source(&self, name: &str) -> Option<&Source> {
        let &i = self.source_index.get(name)?;
        self.sources.get(i).filter(|s| s.name == name)
    }

    /// The index behind [`Config::source`].
    fn index_sources(sources: &[Source]) -> std::collections::HashMap<String, usize> {
        sources
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str().to_owned(), i))
            .collect()
    }

    /// The SQLite database path.
    #[must_use]
    pub fn database_path(&self) -> PathBuf {
        self.state_dir.join("newswatch.db")
    }

    /// Where the file transport writes `.eml` files.
    #[must_use]
    pub fn outbox_dir(&self) -> PathBuf {
        self.state_dir.join("outbox")
    }
}

/// `*` matches any run of characters; everything else matches itself.
#[must_use]
pub fn glob_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else {
                return false;
            };
            if tail.is_empty() {
                return true;
            }
            (0..=rest.len())
                .filter(|&i| rest.is_char_boundary(i))
                .any(|i| glob_match(tail, &rest[i..]))
        }
    }
}

/// Parses `24h`, `30m`, `7d`, `1w`, `90s`, `2h30m`, `0` or `all`.
///
/// # Errors
/// A message saying what was expected.
pub fn parse_backfill(s: &str) -> Result<Backfill, String> {
    if s.trim().eq_ignore_ascii_case("all") {
        return Ok(Backfill::All);
    }
    duration(s, r#""24h", "7d", "0" or "all""#, r#""0" or "all""#).map(Backfill::Within)
}

/// Parses a duration: `24h`, `30m`, `7d`, `1w`, `90s`, `2h30m` or `0`.
///
/// # Errors
/// A message saying what was expected.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    duration(s, r#""24h", "7d" or "0""#, r#""0""#)
}

/// A duration; the errors give `examples` of what is accepted, and `unitless`, what may be
/// written without a unit.
fn duration(s: &str, examples: &str, unitless: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0u64;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(format!("expected a duration like {examples}, found {s:?}")),
        };
        let n: u64 = num
            .parse()
            .map_err(|_| format!("expected a number before '{c}' in {s:?}"))?;
        total = total.saturating_add(n.saturating_mul(unit));
        num.clear();
    }
    if !num.is_empty() || t.is_empty() {
        return Err(format!(
            "expected a duration with a unit (s, m, h, d, w) like \"24h\", or {unitless}, found {s:?}"
        ));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match("aljazeera-*", "aljazeera-ar"));
        assert!(!glob_match("aljazeera-*", "bbc-ar"));
        assert!(glob_match("*-ar", "bbc-ar"));
        assert!(glob_match("bbc", "bbc"));
        assert!(!glob_match("bbc", "bbc-ar"));
    }

    #[test]
    fn watchlist_languages() {
        let config = |languages: &[&str]| {
            let text = format!(
                "[[watchlist]]\nname = \"w\"\nkeywords = [\"x\"]\nto = [\"a@example.org\"]\n{}",
                if languages.is_empty() {
                    String::new()
                } else {
                    format!("languages = {languages:?}\n")
                }
            );
            Config::from_text(Path::new("t.toml"), &text).expect("valid")
        };
        let c = config(&["ar", "FR"]);
        let ar_fr = c.watchlists.by_name("w").expect("one watchlist");
        assert_eq!(ar_fr.languages, ["ar", "fr"]);
        for (lang, kept) in [
            (Some("ar"), true),
            (Some("fr"), true),
            (Some("fr-CA"), true),
            (Some("AR"), true),
            (Some("en"), false),
            (Some(""), false),
            (None, true),
        ] {
            assert_eq!(ar_fr.accepts_language(lang), kept, "{lang:?}");
        }
        let c = config(&[]);
        let all = c.watchlists.by_name("w").expect("one watchlist");
        assert!(all.accepts_language(Some("en")) && all.accepts_language(None));
    }

    #[test]
    fn backfill_values() {
        assert_eq!(
            parse_backfill("24h"),
            Ok(Backfill::Within(Duration::from_secs(86_400)))
        );
        assert_eq!(
            parse_backfill("2h30m"),
            Ok(Backfill::Within(Duration::from_secs(9000)))
        );
        assert_eq!(parse_backfill("0"), Ok(Backfill::Within(Duration::ZERO)));
        assert_eq!(parse_backfill("all"), Ok(Backfill::All));
        assert!(parse_backfill("24").is_err());
        assert!(parse_backfill("soon").is_err());
    }

    #[test]
    fn backfill_cutoff() {
        let now = Utc::now();
        let day = Backfill::Within(Duration::from_secs(86_400));
        assert!(day.reports(Some(now - chrono::Duration::hours(1)), now));
        assert!(!day.reports(Some(now - chrono::Duration::hours(25)), now));
        assert!(!day.reports(None, now));
        assert!(Backfill::All.reports(None, now));
        assert!(!Backfill::Within(Duration::ZERO)
            .reports(Some(now - chrono::Duration::seconds(1)), now));
    }
}
