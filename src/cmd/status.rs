//! `newswatch status`: source health, pending matches, undelivered digests.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{open_store, CmdError, Globals};
use crate::config::Config;
use crate::model::{DeliveryState, SourceHealth, SourceName, Undelivered, WatchlistName};
use crate::store::{Held, Instance, Lease, Store, StoreError};

/// What `status` reports, read from the database in one go.
struct Report {
    health: Vec<SourceHealth>,
    pending: Vec<(WatchlistName, u64)>,
    undelivered: Vec<Undelivered>,
    owed: HashMap<SourceName, u64>,
    held: Held,
    instances: Vec<Instance>,
    leases: Vec<Lease>,
}

impl Report {
    async fn read(store: &Store) -> Result<Report, StoreError> {
        Ok(Report {
            health: store.source_health().await?,
            pending: store.pending_by_watchlist().await?,
            undelivered: store.undelivered().await?,
            owed: store.owed_by_source().await?,
            held: store.held().await?,
            instances: store.instances().await?,
            leases: store.leases().await?,
        })
    }

    fn owed_of(&self, name: &SourceName) -> u64 {
        self.owed.get(name).copied().unwrap_or(0)
    }

    fn health_of(&self, name: &SourceName) -> Option<&SourceHealth> {
        self.health.iter().find(|h| &h.name == name)
    }
}

/// How times are shown: in the config's zone; a back-off that has ended means "at once"
/// (the daemon retries it then), never a time in the past.
struct Clock {
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
}

impl Clock {
    fn next_try(&self, t: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        t.map(|t| t.max(self.now))
    }

    fn show(&self, t: Option<DateTime<Utc>>) -> String {
        t.map_or_else(
            || "-".to_string(),
            |t| {
                t.with_timezone(&self.zone)
                    .format("%Y-%m-%d %H:%M:%S %Z")
                    .to_string()
            },
        )
    }
}

/// Prints per source its last fetch, error and failures; pending matches, undelivered
/// digests, owed texts, instances and what the database holds.
///
/// # Errors
/// The config is invalid or the database cannot be read.
pub async fn run(globals: &Globals, json: bool) -> Result<(), CmdError> {
    let config = globals.load_config()?;
    let store = open_store(&config).await?;
    let report = Report::read(&store)
        .await
        .map_err(|e| CmdError::Runtime(e.into()))?;
    let clock = Clock {
        zone: config.timezone,
        now: Utc::now(),
    };
    if json {
        print_json(&config, &report, &clock);
    } else {
        println!("instances ({}):", store.describe());
        print_instances(&report, &clock);
        print_sources(&config, &report, &clock);
        println!("database: {}", database_line(&report.held));
        print_queues(&report);
    }
    Ok(())
}

fn print_json(config: &Config, r: &Report, clock: &Clock) {
    let sources: Vec<_> = config
        .sources
        .iter()
        .map(|s| {
            let h = r.health_of(&s.name);
            serde_json::json!({
                "name": s.name,
                "url": s.url.as_str(),
                "last_fetch": h.and_then(|h| h.last_fetch),
                "last_success": h.and_then(|h| h.last_success),
                "last_status": h.and_then(|h| h.last_status),
                "last_error": h.and_then(|h| h.last_error.clone()),
                "consecutive_failures": h.map_or(0, |h| h.consecutive_failures),
                "failing_since": h.and_then(|h| h.failing_since),
                "next_retry": clock.next_try(h.and_then(|h| h.retry_at)),
                "articles_seen": h.map_or(0, |h| h.articles_seen),
                "owed_text": r.owed_of(&s.name),
            })
        })
        .collect();
    let pending: serde_json::Map<_, _> = r
        .pending
        .iter()
        .map(|(w, n)| (w.to_string(), serde_json::json!(n)))
        .collect();
    println!(
        "{}",
        serde_json::json!({"sources": sources, "pending_matches": pending, "undelivered": r.undelivered, "database": r.held, "instances": r.instances, "leases": r.leases})
    );
}

fn print_instances(r: &Report, clock: &Clock) {
    if r.instances.is_empty() {
        println!("  none running");
    }
    for i in &r.instances {
        let holds: Vec<String> = r
            .leases
            .iter()
            .filter(|l| l.holder == i.id)
            .map(|l| format!("{} {}", l.kind, l.what))
            .collect();
        println!(
            "  {}  pid {} on {}  started {}  last seen {}  holds {}",
            i.id,
            i.pid,
            i.host,
            clock.show(Some(i.started_at)),
            clock.show(Some(i.seen_at)),
            if holds.is_empty() {
                "nothing".to_string()
            } else {
                holds.join(", ")
            }
        );
    }
}

fn print_sources(config: &Config, r: &Report, clock: &Clock) {
    println!("sources:");
    for s in &config.sources {
        let Some(h) = r.health_of(&s.name) else {
            println!("  {}  never fetched", s.name);
            continue;
        };
        println!(
            "  {}  last fetch {}  last success {}  status {}  articles {}",
            s.name,
            clock.show(h.last_fetch),
            clock.show(h.last_success),
            h.last_status.map_or("-".into(), |s| s.to_string()),
            h.articles_seen
        );
        if r.owed_of(&s.name) > 0 {
            println!(
                "    owed full text: {} article(s) matched on the feed's text so far; their pages are tried again",
                r.owed_of(&s.name)
            );
        }
        if h.consecutive_failures > 0 {
            println!(
                "    failing: {} consecutive failures since {}; next try {}; last error: {}",
                h.consecutive_failures,
                clock.show(h.failing_since),
                clock.show(clock.next_try(h.retry_at)),
                h.last_error.as_deref().unwrap_or("-")
            );
        }
    }
}

fn print_queues(r: &Report) {
    println!("pending matches:");
    if r.pending.is_empty() {
        println!("  none");
    }
    for (w, n) in &r.pending {
        println!("  {w}: {n}");
    }
    println!("undelivered digests:");
    if r.undelivered.is_empty() {
        println!("  none");
    }
    for u in &r.undelivered {
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
}

/// `12.3 MB: 1234 articles with text, 5 without; 5678 keys of older articles …`.
fn database_line(h: &Held) -> String {
    #[allow(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
    let mb = h.bytes as f64 / 1e6;
    format!(
        "{mb:.1} MB: {} articles with text, {} without; {} keys of older articles kept for dedup only; {} matches; {} digests with their message, {} without",
        h.articles_with_text,
        h.articles_without_text,
        h.identity_keys,
        h.matches,
        h.digests_with_body,
        h.digests_without_body
    )
}
