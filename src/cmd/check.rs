//! `newswatch check`: validates the config, prints the plan and the database's schema
//! version, and warns (on stderr, exit still 0) about settings that are valid but unsafe. A
//! database that cannot be used (unreachable, newer than this build, not newswatch's) is exit
//! 2, like an invalid config.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::{CmdError, Globals};
use crate::config::{Config, DigestSchedule, SmtpSecurity, TransportConfig};

pub async fn run(globals: &Globals) -> Result<(), CmdError> {
    let config = globals.load_config()?;
    let password = crate::mail::smtp_password().is_some();
    for w in warnings(&config, password) {
        eprintln!("{w}");
    }
    print!("{}", plan(&config, Utc::now()));
    println!("{}", database_line(&config).await?);
    Ok(())
}

/// The database, looked at without writing anything: its schema version. One that cannot be
/// used — unreachable, refusing the login, newer than this build, not newswatch's — makes the
/// config unusable as it stands: exit 2 (SPEC: `check` exits 0 or 2), with the database named
/// and the cause, the same for SQLite and PostgreSQL. (`run` exits 1 on the same database:
/// a runtime failure that the unit restarts.)
async fn database_line(config: &Config) -> Result<String, CmdError> {
    use crate::store::schema::{Found, SCHEMA_VERSION};
    let (name, found) = match &config.database {
        Some(db) => {
            let pw = crate::secrets::database_password();
            let found = crate::store::postgres::probe(&db.url, pw.as_deref())
                .await
                .map_err(|e| unusable(&format!("{e}")))?;
            (
                format!("postgresql {}", crate::store::postgres::shown_url(&db.url)),
                Some(found),
            )
        }
        None => {
            let path = config.database_path();
            let found =
                crate::store::sqlite::probe(&path).map_err(|e| unusable(&format!("{e}")))?;
            (format!("sqlite {}", path.display()), found)
        }
    };
    let Some(found) = found else {
        return Ok(format!("database: {name} (created at the first run)"));
    };
    match found {
        Found::Version(v) if v > SCHEMA_VERSION => Err(unusable(&format!(
            "database {name}: schema version {v} is newer than this build's {SCHEMA_VERSION}; run the newer release, or restore a backup"
        ))),
        Found::Foreign => Err(unusable(&format!(
            "database {name} is not a newswatch database (it has tables, but no newswatch schema version)"
        ))),
        found => Ok(format!("database: {name}, connected; {}", version_words(found))),
    }
}

fn unusable(why: &str) -> CmdError {
    CmdError::Usage(format!(
        "{why} (the config cannot be used with this database)"
    ))
}

fn version_words(found: crate::store::schema::Found) -> String {
    use crate::store::schema::{Found, SCHEMA_VERSION};
    match found {
        Found::Empty => format!("empty (schema version {SCHEMA_VERSION} is made at the first run)"),
        Found::Version(v) if v == SCHEMA_VERSION => format!("schema version {v}, this build's"),
        Found::Version(v) => {
            format!("schema version {v}; the first run upgrades it to {SCHEMA_VERSION}")
        }
        Found::Foreign => "not a newswatch database".to_string(),
    }
}

/// Valid but unsafe settings, each `file:line:column: warning: …`. `password`: whether an
/// SMTP password is set (the caller looks, so this stays pure).
pub fn warnings(c: &Config, password: bool) -> Vec<String> {
    let mut out = Vec::new();
    if let TransportConfig::Smtp(smtp) = &c.mail.transport {
        // A user in the URL means a login, whose password may come from a credential this
        // shell cannot see; a password without a user is not sent, but is one edit away.
        if smtp.security == SmtpSecurity::None && (password || smtp.user.is_some()) {
            let (line, col) = smtp.position.unwrap_or((0, 0));
            out.push(format!(
                "{}:{line}:{col}: warning: mail.smtp_url has tls=none with a password: the \
                 password and every digest cross the network in clear to {}; use tls=required \
                 (the default) or smtps://",
                c.path.display(),
                smtp.server()
            ));
        }
    }
    out
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
    let days = |d: std::time::Duration| d.as_secs() / 86_400;
    let _ = writeln!(
        o,
        "retention: article text and digest bodies {} days, what dedup needs {} days (pending matches and undelivered digests are never pruned)",
        days(c.retention.keep_text),
        days(c.retention.keep_identity)
    );
    let transport = match &c.mail.transport {
        TransportConfig::File => format!("file ({})", c.outbox_dir().display()),
        TransportConfig::Smtp(smtp) => {
            let tls = match smtp.security {
                SmtpSecurity::ImplicitTls => "implicit TLS",
                SmtpSecurity::StartTlsRequired => "STARTTLS required",
                SmtpSecurity::StartTlsOpportunistic => "STARTTLS if offered, else plain text",
                SmtpSecurity::None => "plain text, no TLS",
            };
            format!("smtp {} ({tls})", smtp.server())
        }
    };
    let _ = writeln!(
        o,
        "mail from {}  via {transport}  helo {}",
        c.mail.from, c.mail.helo_name
    );
    if let Some(ca) = &c.mail.ca_file {
        let _ = writeln!(
            o,
            "  trusts the system's roots and {} ({} certificate(s))",
            ca.path.display(),
            ca.certs.len()
        );
    }
    let network = if c.http.network.allow_private_networks {
        "any address (allow_private_networks = true)".to_string()
    } else {
        let hosts: Vec<&str> = c
            .http
            .network
            .trusted_hosts
            .iter()
            .map(String::as_str)
            .collect();
        format!(
            "public addresses; private ones only at source hosts ({})",
            if hosts.is_empty() {
                "none".to_string()
            } else {
                hosts.join(", ")
            }
        )
    };
    let _ = writeln!(o, "fetches reach {network}");
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
        if !w.languages.is_empty() {
            let _ = writeln!(
                o,
                "    languages {} (articles of unknown language are kept)",
                w.languages.join(", ")
            );
        }
        let to: Vec<String> = w.to.iter().map(ToString::to_string).collect();
        let shown = if w.show_recipients || w.to.len() < 2 {
            ""
        } else {
            "  (each sees only their own address)"
        };
        let _ = writeln!(o, "    to       {}{shown}", to.join(", "));
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
