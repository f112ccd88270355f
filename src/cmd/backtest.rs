//! `newswatch backtest`: a watchlist (or other keywords for it) run over the articles still
//! held, with the daemon's own matcher; prints what it would have matched, newest first, and
//! records and sends nothing.

use chrono::{DateTime, SecondsFormat, Utc};

use super::{open_store, CmdError, Globals};
use crate::config::{parse_duration, Watchlists};
use crate::store::HeldCursor;

/// Articles read from the database at a time.
const PAGE: usize = 500;

/// What was asked on the command line.
#[derive(Debug)]
pub struct Ask<'a> {
    pub watchlist: &'a str,
    pub since: Option<&'a str>,
    /// Keywords instead of the watchlist's; empty: its own.
    pub terms: &'a [String],
    pub json: bool,
}

/// Runs a watchlist over the articles still held and prints what it would have matched,
/// newest first, recording and sending nothing.
///
/// # Errors
/// A bad watchlist or `--since` ([`CmdError::Usage`]); the database cannot be read.
pub async fn run(globals: &Globals, ask: &Ask<'_>) -> Result<(), CmdError> {
    let config = globals.load_config()?;
    let mut wl = config
        .watchlists
        .by_name(ask.watchlist)
        .ok_or_else(|| CmdError::Usage(format!("unknown watchlist {:?}", ask.watchlist)))?
        .clone();
    let now = Utc::now();
    let since = match ask.since {
        None => DateTime::<Utc>::UNIX_EPOCH,
        Some(s) => {
            let d = parse_duration(s).map_err(|e| CmdError::Usage(format!("--since: {e}")))?;
            now - chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX / 2)
        }
    };
    if !ask.terms.is_empty() {
        wl.terms.keywords = ask.terms.to_vec();
    }
    let name = wl.name.clone();
    let lists = Watchlists::single(wl)
        .map_err(|e| CmdError::Usage(format!("--terms: {}", e.join("; "))))?;
    let store = open_store(&config).await?;
    let rt = |e: crate::store::StoreError| CmdError::Runtime(e.into());
    let (mut read, mut matched) = (0usize, 0usize);
    let mut after: Option<HeldCursor> = None;
    loop {
        let page = store.held_articles(since, after, PAGE).await.map_err(rt)?;
        let Some(last) = page.last() else { break };
        after = Some(HeldCursor {
            first_seen: last.first_seen,
            id: last.id,
        });
        for a in &page {
            read += 1;
            let found = lists.find(&a.source, a.lang.as_deref(), &a.title, &a.text);
            let Some(m) = found.into_iter().find(|m| m.watchlist == name) else {
                continue;
            };
            matched += 1;
            let url = a.url.clone().unwrap_or_default();
            if ask.json {
                let line = serde_json::json!({
                    "watchlist": name,
                    "source": a.source,
                    "url": url,
                    "title": a.title,
                    "published": a.published.map(|p| p.to_rfc3339_opts(SecondsFormat::Secs, true)),
                    "first_seen": a.first_seen.to_rfc3339_opts(SecondsFormat::Secs, true),
                    "terms": m.terms,
                    "snippet": m.snippet,
                });
                println!("{line}");
            } else {
                let when = a
                    .published
                    .unwrap_or(a.first_seen)
                    .with_timezone(&config.timezone)
                    .format("%Y-%m-%d %H:%M %Z");
                println!("{when}  {}  {}", a.source, a.title);
                println!("    {url}");
                println!("    terms: {}", m.terms.join(", "));
                println!("    {}", m.snippet);
            }
        }
    }
    if !ask.json {
        let window = ask.since.map_or_else(
            || "every article still held".to_string(),
            |s| format!("articles first seen in the last {s}"),
        );
        println!(
            "\n{matched} of {read} {window} match watchlist {name:?} (nothing recorded or sent)"
        );
    }
    Ok(())
}
