//! `newswatch scan`: one pass now over all (or the named) sources.
//!
//! Exit 1 when any source failed (each failure one line on stderr; `--json` adds one
//! `{"source": …, "error": …}` line per failed source to its output), 0 only when every
//! source was read (a 304 counts as read).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;

use super::{open_store, CmdError, Globals};
use crate::config::Config;
use crate::fetch::Fetcher;
use crate::pipeline::{scan_source, ScanMode, ScanReport, ScanStart};
use crate::store::{Store, StoreError};

/// Sources scanned at once: each is its own task, so a scan uses every core; the fetcher's
/// limits (per host, and on requests in flight) still apply to all of them together.
pub const SCANS_AT_ONCE: usize = crate::daemon::MAX_SCANS;

/// How long the records of a scan over several sources wait for each other to be committed
/// together (SQLite): a record then costs a share of one sync and of the pages a group
/// writes, instead of a sync and its pages each (BENCHMARKS.md, issue 21: 15 % less CPU over
/// 2,500 tiny sources). The command waits for all its scans anyway.
const GROUP_WINDOW: std::time::Duration = std::time::Duration::from_millis(5);

/// `newswatch scan`: the named sources (all when none is named) read once, recorded unless
/// `dry_run`, a report per source printed.
///
/// # Errors
/// The config or the database cannot be opened, a named source is not in the config, or
/// some source could not be read (after every other was).
pub async fn run(
    globals: &Globals,
    names: &[String],
    dry_run: bool,
    json: bool,
) -> Result<(), CmdError> {
    let config = globals.load_config()?;
    for n in names {
        if config.source(n).is_none() {
            let known: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
            return Err(CmdError::Usage(format!(
                "unknown source {n:?}; sources are: {}",
                known.join(", ")
            )));
        }
    }
    let store = Arc::new(open_store(&config).await?);
    // On a database other instances share, a manual scan keeps the cluster's politeness too.
    let fetcher = if store.is_shared() {
        let me = crate::model::InstanceId::new("scan", std::process::id(), rand::random());
        // No heartbeat renews a one-off scan's slots: they last a request and then some.
        let slot_lease = config.http.timeout + std::time::Duration::from_secs(30);
        let ledger =
            crate::cluster::StoreLedger::new(std::sync::Arc::clone(&store), me, slot_lease);
        Fetcher::clustered(config.http.clone(), std::sync::Arc::new(ledger))
    } else {
        Fetcher::new(config.http.clone())
    }
    .map_err(|e| CmdError::Runtime(e.into()))?;
    let mode = if dry_run {
        ScanMode::DryRun
    } else {
        ScanMode::Record
    };
    let now = Utc::now();
    let selected: Vec<usize> = (0..config.sources.len())
        .filter(|&i| names.is_empty() || names.iter().any(|n| config.sources[i].name == n.as_str()))
        .collect();
    let reports = scan_all(&Arc::new(config), &store, &fetcher, &selected, mode, now)
        .await
        .map_err(|e| CmdError::Runtime(e.into()))?;
    let total = reports.len();
    let mut failed = 0usize;
    for r in reports {
        let r = r.map_err(|e| CmdError::Runtime(e.into()))?;
        if let Some(e) = &r.error {
            failed += 1;
            eprintln!(
                "newswatch: source {:?} failed: {}",
                r.source,
                e.replace('\n', "\\n")
            );
            if json {
                println!("{}", serde_json::json!({"source": r.source, "error": e}));
            }
        }
        if json {
            for m in &r.matches {
                let mut line = serde_json::json!({
                    "watchlist": m.watchlist,
                    "source": m.source,
                    "url": m.url,
                    "title": m.title,
                    "published": m.published.map(|p| p.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                    "terms": m.terms,
                    "snippet": m.snippet,
                    "new": m.new,
                });
                // Left out, not null, for an article recorded before newswatch said where
                // its text came from (release 0.1): the key's values are the three below.
                if let Some(from) = m.text_from {
                    line["text_from"] = serde_json::json!(from);
                }
                println!("{line}");
            }
            continue;
        }
        match (&r.error, r.not_modified) {
            (Some(e), _) => println!("{}: failed: {e}", r.source),
            (None, true) => println!("{}: not modified", r.source),
            (None, false) => {
                let new = r.matches.iter().filter(|m| m.new).count();
                println!(
                    "{}: {} articles, {} matches ({new} new)",
                    r.source,
                    r.articles,
                    r.matches.len()
                );
                for m in &r.matches {
                    println!(
                        "  [{}]{} {} <{}> ({})",
                        m.watchlist,
                        if m.new { " new" } else { "" },
                        m.title,
                        m.url,
                        m.terms.join(", ")
                    );
                }
            }
        }
    }
    if failed > 0 {
        return Err(CmdError::Runtime(anyhow::anyhow!(
            "{failed} of {total} source(s) failed"
        )));
    }
    Ok(())
}

/// Scans the sources at `selected` (indices into the config), [`SCANS_AT_ONCE`] at a time;
/// their reports in the order of `selected`.
///
/// # Errors
/// The sources' states cannot be read (a scan's own database failure is in its report).
async fn scan_all(
    config: &Arc<Config>,
    store: &Arc<Store>,
    fetcher: &Fetcher,
    selected: &[usize],
    mode: ScanMode,
    now: DateTime<Utc>,
) -> Result<Vec<Result<ScanReport, StoreError>>, StoreError> {
    let mut reports: Vec<Option<Result<ScanReport, StoreError>>> =
        selected.iter().map(|_| None).collect();
    // Every source's state in one read, not one read each: a scan of thousands of small
    // sources spent a transaction per source on it (issue 21). Each is read just before its
    // scan otherwise; here it is at most this pass old, as it is for a scan that runs long.
    let mut states = store.source_states().await?;
    if selected.len() > 1 {
        store.set_group_window(GROUP_WINDOW);
    }
    // Each host's first source, then each host's second, …: the scans running at once are
    // spread over hosts instead of queueing at one host's gate.
    let mut order: Vec<usize> = (0..selected.len()).collect();
    order.sort_by_key(|&slot| (config.sources[selected[slot]].host_rank, slot));
    let mut running = JoinSet::new();
    let mut next = order.into_iter().map(|slot| (slot, selected[slot]));
    loop {
        while running.len() < SCANS_AT_ONCE {
            let Some((slot, i)) = next.next() else { break };
            let (config, store, fetcher) = (Arc::clone(config), Arc::clone(store), fetcher.clone());
            let start = ScanStart {
                state: Some(states.remove(&config.sources[i].name).unwrap_or_default()),
                release: None,
            };
            running.spawn(async move {
                let source = &config.sources[i];
                (
                    slot,
                    scan_source(&config, &store, &fetcher, source, mode, now, start).await,
                )
            });
        }
        match running.join_next().await {
            Some(Ok((slot, report))) => reports[slot] = Some(report),
            // A scan that panicked takes the command down, as it did when it ran inline.
            Some(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Some(Err(e)) => unreachable!("scan tasks are never cancelled: {e}"),
            None => break,
        }
    }
    Ok(reports
        .into_iter()
        .map(|r| r.expect("every selected source was scanned"))
        .collect())
}
