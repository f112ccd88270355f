//! Stage 1: TOML text → [`RawConfig`], with spans on every value validated later.
//!
//! Unknown keys are collected with `serde_ignored` (so all of them are reported, not just
//! the first) and located with `toml_edit` to give each its line and column.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::error::ConfigError;

type S<T> = Spanned<T>;

#[derive(Debug, Deserialize, Default)]
pub struct RawConfig {
    pub state_dir: Option<S<String>>,
    pub timezone: Option<S<String>>,
    pub http: Option<RawHttp>,
    pub mail: Option<RawMail>,
    pub defaults: Option<RawDefaults>,
    pub retention: Option<RawRetention>,
    pub database: Option<S<RawDatabase>>,
    #[serde(default)]
    pub source: Vec<S<RawSource>>,
    #[serde(default)]
    pub watchlist: Vec<S<RawWatchlist>>,
}

#[derive(Debug, Deserialize, Default)]
pub struct RawDatabase {
    pub url: Option<S<String>>,
    pub lease_secs: Option<S<i64>>,
}

#[derive(Debug, Deserialize, Default)]
pub struct RawRetention {
    pub keep_text: Option<S<String>>,
    pub keep_identity: Option<S<String>>,
}

#[derive(Debug, Deserialize, Default)]
pub struct RawHttp {
    pub user_agent: Option<S<String>>,
    pub timeout_secs: Option<S<i64>>,
    pub max_body_bytes: Option<S<i64>>,
    pub per_host_delay_ms: Option<S<i64>>,
    pub per_host_concurrency: Option<S<i64>>,
    pub respect_robots: Option<bool>,
    pub allow_private_networks: Option<bool>,
}

#[derive(Debug, Deserialize, Default)]
pub struct RawMail {
    pub from: Option<S<String>>,
    pub transport: Option<S<String>>,
    pub smtp_url: Option<S<String>>,
    pub list_unsubscribe: Option<S<String>>,
    pub ca_file: Option<S<String>>,
    pub helo_name: Option<S<String>>,
}

#[derive(Debug, Deserialize, Default)]
pub struct RawDefaults {
    pub schedule: Option<S<String>>,
    pub digest: Option<S<String>>,
    pub backfill: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
pub struct RawSource {
    pub name: S<String>,
    pub url: S<String>,
    pub kind: Option<S<String>>,
    pub schedule: Option<S<String>>,
    pub follow: Option<bool>,
    pub links: Option<S<String>>,
    pub content: Option<S<String>>,
    pub backfill: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
pub struct RawWatchlist {
    pub name: S<String>,
    pub keywords: S<Vec<S<String>>>,
    #[serde(default)]
    pub require: Vec<S<String>>,
    #[serde(default)]
    pub exclude: Vec<S<String>>,
    pub sources: Option<S<Vec<S<String>>>>,
    pub to: S<Vec<S<String>>>,
    pub digest: Option<S<String>>,
    pub show_recipients: Option<bool>,
    pub languages: Option<S<Vec<S<String>>>>,
    pub prefer: Option<S<Vec<S<String>>>>,
}

/// Parses `text` into the raw config and the list of unknown keys found (as errors), so
/// validation can go on and report everything at once.
///
/// # Errors
/// A TOML syntax or type error (one error: parsing stops there).
pub fn parse(path: &Path, text: &str) -> Result<(RawConfig, Vec<ConfigError>), Vec<ConfigError>> {
    let mut unknown = Vec::new();
    let de = toml::Deserializer::new(text);
    let raw: Result<RawConfig, _> = serde_ignored::deserialize(de, |p| unknown.push(p.to_string()));
    let raw = match raw {
        Ok(raw) => raw,
        Err(e) => {
            let offset = e.span().map_or(0, |s| s.start);
            let msg = e.message().trim().to_string();
            return Err(vec![ConfigError::at(path, text, offset, msg)]);
        }
    };
    if unknown.is_empty() {
        return Ok((raw, Vec::new()));
    }
    let doc = toml_edit::ImDocument::parse(text).ok();
    let errors = unknown
        .iter()
        .map(|key| {
            // serde_ignored paths carry `?` for an Option and the Spanned wrapper's field.
            let key = key
                .split('.')
                .filter(|p| *p != "?" && !p.starts_with("$__serde_spanned"))
                .collect::<Vec<_>>()
                .join(".");
            let key = key.as_str();
            let offset = doc
                .as_ref()
                .and_then(|d| key_offset(d.as_table(), key))
                .unwrap_or(0);
            ConfigError::at(path, text, offset, format!("unknown key `{key}`"))
        })
        .collect();
    Ok((raw, errors))
}

/// Byte offset of a dotted path like `source.0.bogus` in a parsed document.
fn key_offset(root: &toml_edit::Table, dotted: &str) -> Option<usize> {
    let mut parts = dotted.split('.').peekable();
    let mut table: &dyn toml_edit::TableLike = root;
    while let Some(part) = parts.next() {
        let (key, item) = table.get_key_value(part)?;
        if parts.peek().is_none() {
            return key.span().map(|s| s.start);
        }
        table = match item {
            toml_edit::Item::Table(t) => t,
            toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => t,
            toml_edit::Item::ArrayOfTables(a) => {
                let idx: usize = parts.next()?.parse().ok()?;
                let t = a.get(idx)?;
                if parts.peek().is_none() {
                    return t.span().map(|s| s.start);
                }
                t
            }
            _ => return key.span().map(|s| s.start),
        };
    }
    None
}
