//! Generates the man pages and shell completions from the clap definitions in `cli.rs`:
//!
//! ```sh
//! cargo run --example gen-docs -- target/docs    # or scripts/gen-docs.sh
//! ```
//!
//! writes `newswatch.1`, one `newswatch-<command>.1` per subcommand, and
//! `completions/{newswatch.bash,_newswatch,newswatch.fish}`. An example rather than a
//! subcommand or a second binary: SPEC lists the commands and "one binary", and the
//! generators stay dev-dependencies that the shipped binary never links.

use std::io::{self, Write};
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::Man;
use newswatch::cli::Cli;

/// The shells we ship completions for, with the file name each one's loader expects.
pub const SHELLS: [(Shell, &str); 3] = [
    (Shell::Bash, "newswatch.bash"),
    (Shell::Zsh, "_newswatch"),
    (Shell::Fish, "newswatch.fish"),
];

/// Sections clap does not know about: what an operator looks for in a daemon's page.
const EXTRA_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
success
.TP
\fB1\fR
runtime failure (network, database, mail transport); \fBscan\fR when any source failed
.TP
\fB2\fR
bad usage or invalid config; every config error is printed as \fIfile\fR:\fIline\fR:\fIcolumn\fR; \fBcheck\fR also when the database cannot be used (unreachable, newer than this build, not a newswatch database)
.SH SIGNALS
.TP
\fBSIGHUP\fR
\fBnewswatch run\fR reloads the config. An invalid new config is logged with all its errors and the old one keeps running; a changed \fBstate_dir\fR takes effect at restart.
.TP
\fBSIGTERM\fR, \fBSIGINT\fR
stop taking new work, give in\-flight scans and deliveries 8 seconds, exit 0.
.SH ENVIRONMENT
.TP
\fBNEWSWATCH_CONFIG\fR
config file when \fB\-\-config\fR is not given
.TP
\fBNEWSWATCH_SMTP_PASSWORD\fR
SMTP password; else the systemd credential \fBsmtp\-password\fR in \fB$CREDENTIALS_DIRECTORY\fR
.TP
\fBNEWSWATCH_DATABASE_PASSWORD\fR
PostgreSQL password for \fB[database] url\fR; else the systemd credential \fBdatabase\-password\fR in \fB$CREDENTIALS_DIRECTORY\fR
.TP
\fBSSL_CERT_FILE\fR, \fBSSL_CERT_DIR\fR
where the system's roots for the SMTP server's certificate (besides \fB[mail] ca_file\fR) and, with \fBsslmode=verify\-ca\fR or \fBverify\-full\fR, the database server's are read
.TP
\fBRUST_LOG\fR
log filter, overriding \fB\-v\fR and \fB\-q\fR
.TP
\fBNOTIFY_SOCKET\fR, \fBWATCHDOG_USEC\fR, \fBWATCHDOG_PID\fR, \fBJOURNAL_STREAM\fR
set by systemd: \fBREADY=1\fR, \fBRELOADING=1\fR, \fBSTOPPING=1\fR, \fBSTATUS=\fR and watchdog pings are sent, and log lines carry the syslog priority prefix
.SH FILES
.TP
\fI/etc/newswatch/newswatch.toml\fR
the config file
.TP
\fI/etc/newswatch/smtp\-password\fR
loaded as the credential \fBsmtp\-password\fR by the unit, when it exists (optional)
.TP
\fI/etc/newswatch/database\-password\fR
loaded as the credential \fBdatabase\-password\fR by the unit, when it exists (optional; only with \fB[database]\fR)
.TP
\fI/var/lib/newswatch/newswatch.db\fR
state: articles, matches, digests (SQLite, WAL); with \fB[database]\fR, a PostgreSQL database instead, shared by several instances
.TP
\fI/var/lib/newswatch/outbox/\fR
\&.eml files written by the \fBfile\fR transport
.TP
\fI/lib/systemd/system/newswatch.service\fR
the systemd unit
.SH "SEE ALSO"
\fBsystemctl\fR(1), \fBjournalctl\fR(1), \fBsystemd.exec\fR(5), \fBsystemd\-analyze\fR(1)
"#;

/// The clap command as the man pages and completions see it.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// `newswatch.1`: clap's sections, then [`EXTRA_SECTIONS`].
///
/// # Errors
/// Writing to `w` fails.
pub fn render_man(w: &mut dyn Write) -> io::Result<()> {
    let man = Man::new(command()).section("1").manual("newswatch manual");
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    man.render_options_section(w)?;
    man.render_subcommands_section(w)?;
    w.write_all(EXTRA_SECTIONS.as_bytes())?;
    man.render_version_section(w)
}

/// Completion script for one shell.
pub fn render_completion(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command(), "newswatch", &mut out);
    out
}

/// Writes every page and completion under `dir`.
///
/// # Errors
/// A file cannot be written.
pub fn generate(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir.join("completions"))?;
    let mut page = Vec::new();
    render_man(&mut page)?;
    std::fs::write(dir.join("newswatch.1"), page)?;
    for sub in command().get_subcommands().filter(|s| !s.is_hide_set()) {
        Man::new(sub.clone())
            .manual("newswatch manual")
            .generate_to(dir)?;
    }
    for (shell, name) in SHELLS {
        std::fs::write(dir.join("completions").join(name), render_completion(shell))?;
    }
    Ok(())
}

#[allow(
    dead_code,
    reason = "tests/docs.rs includes this file for its functions only"
)]
fn main() -> std::process::ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| "target/docs".into(), std::path::PathBuf::from);
    match generate(&dir) {
        Ok(()) => {
            println!("wrote man pages and completions to {}", dir.display());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-docs: {}: {e}", dir.display());
            std::process::ExitCode::FAILURE
        }
    }
}
