//! `newswatch status`: source health, pending matches, undelivered digests.

use super::{open_store, CmdError, Globals};
use crate::model::{DeliveryState, SourceName};

pub async fn run(globals: &Globals, json: bool) -> Result<(), CmdError> {
    let config = globals.load_config()?;
    let store = open_store(&config).await?;
    let rt = |e: crate::store::StoreError| CmdError::Runtime(e.into());
    let health = store.source_health().await.map_err(rt)?;
    let pending = store.pending_by_watchlist().await.map_err(rt)?;
    let undelivered = store.undelivered().await.map_err(rt)?;
    let owed = store.owed_by_source().await.map_err(rt)?;
    let held = store.held().await.map_err(rt)?;
    let instances = store.instances().await.map_err(rt)?;
    let leases = store.leases().await.map_err(rt)?;
    let owed_of = |name: &SourceName| owed.get(name).copied().unwrap_or(0);
    // A back-off that has ended means "at once" (the daemon retries it then), never a time
    // in the past.
    let now = chrono::Utc::now();
    let next_try = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.max(now));
    let ts = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(
            || "-".to_string(),
            |t| {
                t.with_timezone(&config.timezone)
                    .format("%Y-%m-%d %H:%M:%S %Z")
                    .to_string()
            },
        )
    };
    if json {
        let sources: Vec<_> = config
            .sources
            .iter()
            .map(|s| {
                let h = health.iter().find(|h| h.name == s.name);
                serde_json::json!({
                    "name": s.name,
                    "url": s.url.as_str(),
                    "last_fetch": h.and_then(|h| h.last_fetch),
                    "last_success": h.and_then(|h| h.last_success),
                    "last_status": h.and_then(|h| h.last_status),
                    "last_error": h.and_then(|h| h.last_error.clone()),
                    "consecutive_failures": h.map_or(0, |h| h.consecutive_failures),
                    "failing_since": h.and_then(|h| h.failing_since),
                    "next_retry": next_try(h.and_then(|h| h.retry_at)),
                    "articles_seen": h.map_or(0, |h| h.articles_seen),
                    "owed_text": owed_of(&s.name),
                })
            })
            .collect();
        let pending: serde_json::Map<_, _> = pending
            .iter()
            .map(|(w, n)| (w.to_string(), serde_json::json!(n)))
            .collect();

        println!(
            "{}",
            serde_json::json!({"sources": sources, "pending_matches": pending, "undelivered": undelivered, "database": held, "instances": instances, "leases": leases})
        );
        return Ok(());
    }
    println!("instances ({}):", store.describe());
    if instances.is_empty() {
        println!("  none running");
    }
    for i in &instances {
        let holds: Vec<String> = leases
            .iter()
            .filter(|l| l.holder == i.id)
            .map(|l| format!("{} {}", l.kind, l.what))
            .collect();
        println!(
            "  {}  pid {} on {}  started {}  last seen {}  holds {}",
            i.id,
            i.pid,
            i.host,
            ts(Some(i.started_at)),
            ts(Some(i.seen_at)),
            if holds.is_empty() {
                "nothing".to_string()
            } else {
                holds.join(", ")
            }
        );
    }
    println!("sources:");
    for s in &config.sources {
        let h = health.iter().find(|h| h.name == s.name);
        match h {
            None => println!("  {}  never fetched", s.name),
            Some(h) => {
                println!(
                    "  {}  last fetch {}  last success {}  status {}  articles {}",
                    s.name,
                    ts(h.last_fetch),
                    ts(h.last_success),
                    h.last_status.map_or("-".into(), |s| s.to_string()),
                    h.articles_seen
                );
                if owed_of(&s.name) > 0 {
                    println!(
                        "    owed full text: {} article(s) matched on the feed's text so far; their pages are tried again",
                        owed_of(&s.name)
                    );
                }
                if h.consecutive_failures > 0 {
                    println!("    failing: {} consecutive failures since {}; next try {}; last error: {}", h.consecutive_failures, ts(h.failing_since), ts(next_try(h.retry_at)), h.last_error.as_deref().unwrap_or("-"));
                }
            }
        }
    }
    println!("database: {}", database_line(&held));
    println!("pending matches:");
    if pending.is_empty() {
        println!("  none");
    }
    for (w, n) in &pending {
        println!("  {w}: {n}");
    }
    println!("undelivered digests:");
    if undelivered.is_empty() {
        println!("  none");
    }
    for u in &undelivered {
        let what = match u.state {
            DeliveryState::Failed => "refused",
            DeliveryState::Pending => "queued",
        };
        println!(
            "  {} {} to {}: {what} after {} attempt(s): {}",
            u.watchlist,
            u.message_id,
            u.recipient,
            u.attempts,
            u.last_error.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

/// `12.3 MB: 1,234 articles with text, 5,678 kept for dedup only, …`.
fn database_line(h: &crate::store::Held) -> String {
    #[allow(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
    let mb = h.bytes as f64 / 1e6;
    format!(
        "{mb:.1} MB: {} articles with text, {} kept for dedup only (text dropped); {} matches; {} digests with their message, {} without",
        h.articles_with_text,
        h.articles_identity_only,
        h.matches,
        h.digests_with_body,
        h.digests_without_body
    )
}
