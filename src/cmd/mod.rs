//! One module per subcommand: each wires modules together and prints results.

pub mod backtest;
pub mod check;
pub mod digest;
pub mod discover;
pub mod explain;
pub mod extract;
pub mod import_opml;
pub mod run;
pub mod scan;
pub mod status;
pub mod test_mail;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use crate::config::{Config, ConfigErrors, DEFAULT_CONFIG_PATH};
use crate::store::Store;

/// How a command failed, which decides the exit code.
#[derive(Debug)]
pub enum CmdError {
    /// Bad usage or an invalid config: exit 2.
    Usage(String),
    Config(ConfigErrors),
    /// Anything else: exit 1.
    Runtime(anyhow::Error),
}

impl CmdError {
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            CmdError::Usage(_) | CmdError::Config(_) => 2,
            CmdError::Runtime(_) => 1,
        }
    }
}

impl From<anyhow::Error> for CmdError {
    fn from(e: anyhow::Error) -> Self {
        CmdError::Runtime(e)
    }
}

impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CmdError::Usage(m) => write!(f, "{m}"),
            CmdError::Config(e) => write!(f, "{e}"),
            CmdError::Runtime(e) => write!(f, "{e:#}"),
        }
    }
}

/// Global options every command shares.
#[derive(Debug, Clone, Default)]
pub struct Globals {
    pub config: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
}

impl Globals {
    /// `--config`, else `$NEWSWATCH_CONFIG`, else the system path.
    #[must_use]
    pub fn config_path(&self) -> PathBuf {
        self.config
            .clone()
            .or_else(|| {
                std::env::var_os("NEWSWATCH_CONFIG")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH))
    }

    /// Loads and validates the config, applying `--state-dir`.
    ///
    /// # Errors
    /// Every config error.
    pub fn load_config(&self) -> Result<Config, CmdError> {
        load_with_override(&self.config_path(), self.state_dir.as_deref()).map_err(CmdError::Config)
    }

    /// A loader for reloads that keeps the `--state-dir` override.
    /// The config's `[http]` settings (the defaults without a valid config) for fetching `url`,
    /// a URL the operator named on the command line: like a source's, its host may be private.
    #[must_use]
    pub fn http_settings_for(&self, url: &url::Url) -> crate::fetch::FetchSettings {
        let mut settings = self.load_config().map(|c| c.http).unwrap_or_default();
        settings.network.trust_url(url);
        settings
    }

    #[must_use]
    pub fn loader(&self) -> crate::daemon::Loader {
        let path = self.config_path();
        let dir = self.state_dir.clone();
        Arc::new(move || load_with_override(&path, dir.as_deref()))
    }
}

fn load_with_override(path: &Path, state_dir: Option<&Path>) -> Result<Config, ConfigErrors> {
    let mut c = Config::load(path)?;
    if let Some(d) = state_dir {
        c.state_dir = d.to_path_buf();
    }
    Ok(c)
}

/// Opens the state database named by the config.
///
/// # Errors
/// The database cannot be opened.
pub async fn open_store(config: &Config) -> Result<Store, CmdError> {
    if let Some(db) = &config.database {
        let password = crate::secrets::database_password();
        Store::open_postgres(&db.url, password.as_deref())
            .await
            .context("opening the state database")
            .map_err(CmdError::Runtime)
    } else {
        let path = config.database_path();
        Store::open(&path)
            .with_context(|| format!("opening state database {}", path.display()))
            .map_err(CmdError::Runtime)
    }
}

/// Reads a document named on the command line: a file, `-` for stdin, or an http(s) URL.
/// Returns the bytes, the content type if known, and the URL for a fetched document.
///
/// # Errors
/// The file cannot be read or the URL cannot be fetched.
pub async fn read_input(
    globals: &Globals,
    input: &str,
) -> Result<(Vec<u8>, Option<String>, Option<url::Url>), CmdError> {
    use std::io::Read as _;
    if input == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        return Ok((buf, None, None));
    }
    if input.starts_with("http://") || input.starts_with("https://") {
        let url = url::Url::parse(input)
            .map_err(|e| CmdError::Usage(format!("invalid URL {input:?}: {e}")))?;
        let settings = globals.http_settings_for(&url);
        let fetcher =
            crate::fetch::Fetcher::new(settings).map_err(|e| CmdError::Runtime(e.into()))?;
        return match fetcher.fetch(&url, None).await {
            crate::fetch::FetchOutcome::Fetched(f) => {
                Ok((f.body, f.content_type, Some(f.final_url)))
            }
            crate::fetch::FetchOutcome::NotModified { .. } => {
                Err(CmdError::Runtime(anyhow::anyhow!("{url}: not modified")))
            }
            crate::fetch::FetchOutcome::Failed(e) => {
                Err(CmdError::Runtime(anyhow::anyhow!("{url}: {}", e.message)))
            }
        };
    }
    let bytes = std::fs::read(input).with_context(|| format!("reading {input}"))?;
    Ok((bytes, None, None))
}
