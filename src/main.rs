//! The `newswatch` binary: parses the command line and dispatches to `cmd::*`.

use std::process::ExitCode;

use clap::Parser;
use newswatch::cli::{Cli, Command};
use newswatch::cmd::{self, CmdError, Globals};

/// Parsing a page allocates and frees hundreds of thousands of small nodes and strings:
/// mimalloc does that in less CPU than glibc's allocator (BENCHMARKS.md, issue 21: a scan
/// of 2,000 articles in 30 % less CPU).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its `mimalloc.h`, version 3; the crate names no
/// constant for it): how many milliseconds freed memory waits before it goes back to the
/// system.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // No transparent huge pages for this process (mimalloc asks for them on its arenas, and
    // mimalloc's own switch is read before `main`): with them the idle daemon held 27 MB
    // instead of 18. Freed memory goes back at once rather than after 10 ms: a burst of
    // 2,000 pages peaked 5 MB lower. Measured in BENCHMARKS.md (issue 21).
    // SAFETY: prctl and mi_option_set take plain integers; this runs before any other
    // thread exists, as mimalloc asks of `mi_option_set`.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Run) {
        // `newswatch extract … | head` should end quietly, like any Unix filter. The daemon
        // keeps Rust's default (SIGPIPE ignored) so a closed socket is an error, not a death.
        // SAFETY: called before any thread is spawned; resets one signal disposition.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let level = |n: u8| i8::try_from(n).unwrap_or(i8::MAX);
    newswatch::log::init(level(cli.verbose) - level(cli.quiet));
    // Every request holds a descriptor: the soft limit (1,024 under systemd unless the unit
    // raises it) up to the hard one, before any client sizes its limits by it (issue 21).
    let (soft, hard) = newswatch::fetch::limits::raise_nofile_limit();
    let budget = newswatch::fetch::limits::process_budget();
    tracing::debug!(
        soft,
        hard,
        in_flight = budget.in_flight,
        kept_alive = budget.idle,
        "descriptor limit"
    );
    let globals = Globals {
        config: cli.config.clone(),
        state_dir: cli.state_dir.clone(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("newswatch: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result: Result<(), CmdError> = runtime.block_on(async {
        match &cli.command {
            Command::Run => cmd::run::run(&globals).await,
            Command::Check => cmd::check::run(&globals).await,
            Command::Scan {
                sources,
                dry_run,
                json,
            } => cmd::scan::run(&globals, sources, *dry_run, *json).await,
            Command::Digest { watchlists, send } => {
                cmd::digest::run(&globals, watchlists, *send).await
            }
            Command::Extract { json, input } => cmd::extract::run(&globals, input, *json).await,
            Command::Explain { watchlist, input } => {
                cmd::explain::run(&globals, watchlist, input).await
            }
            Command::Status { json } => cmd::status::run(&globals, *json).await,
            Command::TestMail { to } => cmd::test_mail::run(&globals, to).await,
            Command::Backtest {
                watchlist,
                since,
                terms,
                json,
            } => {
                let ask = cmd::backtest::Ask {
                    watchlist,
                    since: since.as_deref(),
                    terms,
                    json: *json,
                };
                cmd::backtest::run(&globals, &ask).await
            }
            Command::Discover { url } => cmd::discover::run(&globals, url).await,
            Command::ImportOpml { file, check } => cmd::import_opml::run(&globals, file, *check),
        }
    });
    // Don't wait for stray blocking tasks (stdin readers, DNS) at exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CmdError::Config(errors)) => {
            for e in &errors.0 {
                eprintln!("{e}");
            }
            eprintln!("newswatch: {} config error(s)", errors.0.len());
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("newswatch: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
