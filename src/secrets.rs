//! Secrets come from the environment or a systemd credential, never from the config file.
//! This is the one place that reads them.

use std::path::Path;

/// The secret in `$env`, else in the systemd credential `credential`
/// (`$CREDENTIALS_DIRECTORY/<credential>`, its trailing newline dropped), if any. An empty
/// one is none: the unit hands the service an empty credential when the operator created no
/// file.
#[must_use]
pub fn lookup(env: &str, credential: &str) -> Option<String> {
    if let Ok(v) = std::env::var(env) {
        if !v.is_empty() {
            return Some(v);
        }
    }
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY")?;
    let v = std::fs::read_to_string(Path::new(&dir).join(credential)).ok()?;
    let v = v.trim_end_matches(['\r', '\n']);
    (!v.is_empty()).then(|| v.to_string())
}

/// `$NEWSWATCH_DATABASE_PASSWORD`, for `[database] url`.
pub const DATABASE_PASSWORD_ENV: &str = "NEWSWATCH_DATABASE_PASSWORD";
/// The systemd credential holding the database password.
pub const DATABASE_PASSWORD_CREDENTIAL: &str = "database-password";

/// The PostgreSQL password, if one is set.
#[must_use]
pub fn database_password() -> Option<String> {
    lookup(DATABASE_PASSWORD_ENV, DATABASE_PASSWORD_CREDENTIAL)
}
