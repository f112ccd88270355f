//! Command-line types (clap). Dispatch lives in `main.rs`, work in `cmd::*`.

#![allow(
    clippy::doc_markdown,
    reason = "these doc comments are clap's --help text, where backticks would show"
)]

use std::path::PathBuf;

use clap::{ArgAction, Parser, Subcommand};

/// Watches news feeds and pages, matches articles against multilingual keyword
/// watchlists, and emails digests of what it has never reported before.
#[derive(Debug, Parser)]
#[command(name = "newswatch", version, about, max_term_width = 100)]
pub struct Cli {
    /// Config file [default: $NEWSWATCH_CONFIG, else /etc/newswatch/newswatch.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Overrides `state_dir` from the config
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// More logging (repeat for more); RUST_LOG also works
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Less logging (repeat for less)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub quiet: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The daemon: schedules every source and digest, runs until SIGTERM/SIGINT
    Run,
    /// Validates the config and prints the plan
    Check,
    /// One pass now over all (or the named) sources
    Scan {
        /// Only this source (repeatable)
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
        /// Record nothing and send nothing
        #[arg(long)]
        dry_run: bool,
        /// One JSON object per match per line
        #[arg(long)]
        json: bool,
    },
    /// Prints the pending digest(s) as they would be mailed
    Digest {
        /// Only this watchlist (repeatable)
        #[arg(long = "watchlist", value_name = "NAME")]
        watchlists: Vec<String>,
        /// Mail them now
        #[arg(long)]
        send: bool,
    },
    /// Extracts one page or feed and prints what newswatch sees
    Extract {
        /// Print one JSON object
        #[arg(long)]
        json: bool,
        /// A file, an http(s) URL, or - for standard input
        input: String,
    },
    /// Shows which terms of a watchlist match a document, where, and why not
    Explain {
        /// The watchlist to explain
        #[arg(long, value_name = "NAME")]
        watchlist: String,
        /// A file, an http(s) URL, or - for standard input
        input: String,
    },
    /// Per source: last fetch, last error, failures; pending matches and undelivered digests
    Status {
        /// Print one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Sends one test message through the configured transport
    TestMail {
        /// Recipient address
        #[arg(long, value_name = "ADDR")]
        to: String,
    },
    /// Runs a watchlist over the articles still held and prints what it would have matched,
    /// newest first; records and sends nothing
    Backtest {
        /// The watchlist to run
        #[arg(long, value_name = "NAME")]
        watchlist: String,
        /// Only articles first seen this recently (e.g. 7d, 36h) [default: everything held]
        #[arg(long, value_name = "DUR")]
        since: Option<String>,
        /// Keywords to try instead of the watchlist's (repeatable; its require and exclude
        /// terms, sources and languages still apply)
        #[arg(long = "terms", value_name = "TERM", num_args = 1..)]
        terms: Vec<String>,
        /// One JSON object per match per line
        #[arg(long)]
        json: bool,
    },
    /// Prints the feeds and sitemaps a site announces, as [[source]] blocks
    Discover {
        /// The site's page (its home page, or a section's)
        url: String,
    },
    /// Prints [[source]] blocks for the feeds of an OPML file (a feed reader's export)
    ImportOpml {
        /// The OPML file, or - for standard input
        file: String,
        /// Say which would clash with sources already in the config (and comment those out)
        #[arg(long)]
        check: bool,
    },
}
