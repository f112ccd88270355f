//! `newswatch check`: validates the config and prints the plan.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::{CmdError, Globals};
use crate::config::{Config, DigestSchedule, TransportConfig};

pub fn run(globals: &Globals) -> Result<(), CmdError> {
    let config = globals.load_config()?;
    print!("{}", plan(&config, Utc::now()));
    Ok(())
}

/// The human-readable plan of a valid config.
pub fn plan(c: &Config, now: DateTime<Utc>) -> String {
    let mut o = String::new();
    let tz = c.timezone;
    let _ = writeln!(o, "config {} is valid", c.path.display());
    let _ = writeln!(
        o,
        "state_dir {}  timezone {}",
        c.state_dir.display(),
        tz.name()
    );
    let transport = match &c.mail.transport {
        TransportConfig::File => format!("file ({})", c.outbox_dir().display()),
        TransportConfig::Smtp { url } => format!("smtp ({url})"),
    };
    let _ = writeln!(o, "mail from {}  via {transport}", c.mail.from);
    let _ = writeln!(o, "\nsources ({}):", c.sources.len());
    for s in &c.sources {
        let kind = format!("{:?}", s.kind).to_lowercase();
        let _ = writeln!(
            o,
            "  {}  {}  [{kind}{}]",
            s.name,
            s.url,
            if s.follow { ", follow" } else { "" }
        );
        let next: Vec<String> = s
            .schedule
            .upcoming(now, tz, 3)
            .iter()
            .map(|t| t.format("%Y-%m-%d %H:%M:%S %Z").to_string())
            .collect();
        let _ = writeln!(
            o,
            "    schedule {:<16} next {}",
            s.schedule.to_string(),
            next.join(", ")
        );
    }
    let _ = writeln!(o, "\nwatchlists ({}):", c.watchlists.len());
    for w in &c.watchlists {
        let _ = writeln!(o, "  {}", w.name);
        let _ = writeln!(o, "    keywords {}", w.terms.keywords.join(", "));
        if !w.terms.require.is_empty() {
            let _ = writeln!(o, "    require  {}", w.terms.require.join(", "));
        }
        if !w.terms.exclude.is_empty() {
            let _ = writeln!(o, "    exclude  {}", w.terms.exclude.join(", "));
        }
        let _ = writeln!(o, "    sources  {}", w.sources.join(", "));
        let to: Vec<String> = w.to.iter().map(ToString::to_string).collect();
        let _ = writeln!(o, "    to       {}", to.join(", "));
        let next = match &w.digest {
            DigestSchedule::Immediate => "after each scan with new matches".to_string(),
            DigestSchedule::Cron(cron) => cron
                .upcoming(now, tz, 1)
                .first()
                .map(|t| format!("next {}", t.format("%Y-%m-%d %H:%M %Z")))
                .unwrap_or_default(),
        };
        let _ = writeln!(o, "    digest   {}  {next}", w.digest);
    }
    o
}
