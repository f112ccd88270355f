//! The binary's config handling: exit codes and every error with file:line:column.

mod support;

use support::cli::{self, run};
use support::config::{ConfigFile, Table};

#[test]
fn shipped_config_is_valid_and_check_prints_the_plan() {
    let out = run(&["--config", "config/newswatch.toml", "check"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let plan = out.stdout;
    assert!(plan.contains("aljazeera-ar"), "{plan}");
    assert!(plan.contains("النيجر"));
    assert!(plan.contains("analyst@example.org"));
    // Three fire times per source, in the configured zone (Africa/Niamey is WAT).
    let line = plan.lines().find(|l| l.contains("schedule */10")).unwrap();
    assert_eq!(line.matches("WAT").count(), 3, "{line}");
}

#[test]
fn every_error_is_reported_with_file_line_column() {
    let out = run(&["--config", "tests/fixtures/configs/broken.toml", "check"]);
    assert_eq!(out.code, Some(2));
    let err = out.stderr;
    let p = "tests/fixtures/configs/broken.toml";
    for expected in [
        format!("{p}:2:1: unknown key `bogus`"),
        format!("{p}:5:16: http.timeout_secs: expected an integer >= 1, found 0"),
        format!("{p}:8:8: source name"),
        format!("{p}:9:7: source \"a b\": url must be http or https"),
        format!("{p}:10:12: source \"a b\": schedule: cron line \"*/61 * * * *\": minute step must be 1-59, found 61"),
        format!("{p}:11:1: unknown key `source.0.colour`"),
        format!("{p}:19:22: watchlist \"niger\": term \"***\": `*` is only allowed once"),
        format!("{p}:19:29: watchlist \"niger\": term \"ـــ\": has no letters or digits to match after normalization"),
        format!("{p}:20:7: watchlist \"niger\": to: expected an email address"),
        format!("{p}:21:12: watchlist \"niger\": sources names unknown source \"aljazera-ar\" (did you mean \"aljazeera-ar\"?)"),
        format!("{p}:22:10: watchlist \"niger\": digest: cron line \"0 7 * * 9\": weekday must be 0-7"),
    ] {
        assert!(err.contains(&expected), "missing {expected:?} in:\n{err}");
    }
}

#[test]
fn syntax_error_names_the_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, "state_dir = \"x\"\n[http\n").unwrap();
    let out = cli::newswatch(&path, &["check"]);
    assert_eq!(out.code, Some(2));
    let err = out.stderr;
    assert!(err.contains(&format!("{}:2:", path.display())), "{err}");
}

#[test]
fn missing_config_is_exit_2_and_env_var_is_honoured() {
    let out = run(&["--config", "/nonexistent/newswatch.toml", "check"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("/nonexistent/newswatch.toml"));
    let out = cli::output(
        cli::command()
            .env("NEWSWATCH_CONFIG", "config/newswatch.toml")
            .arg("check"),
    );
    assert_eq!(out.code, Some(0));
}

#[test]
fn bad_usage_is_exit_2() {
    assert_eq!(run(&["frobnicate"]).code, Some(2));
    let out = run(&[
        "--config",
        "config/newswatch.toml",
        "scan",
        "--source",
        "nope",
        "--dry-run",
    ]);
    assert_eq!(out.code, Some(2));
}

#[test]
fn password_in_smtp_url_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    // Line 1 `[mail]`, line 2 `transport`, line 3 `smtp_url = "…"`.
    ConfigFile::new()
        .with(
            Table::new("mail")
                .set("transport", "smtp")
                .set("smtp_url", "smtp://u:secret@mail.example.org:587"),
        )
        .write(&path);
    let out = cli::newswatch(&path, &["check"]);
    assert_eq!(out.code, Some(2));
    let err = out.stderr;
    assert!(
        err.contains(":3:12: mail.smtp_url: a password does not belong"),
        "{err}"
    );
    assert!(
        !err.contains("secret"),
        "the password must not be echoed: {err}"
    );
}

/// Issue 17: `[database]` mistakes, each with file:line:column, all reported at once; a
/// password in the URL is refused and never echoed.
#[test]
fn database_errors_name_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let check = |text: &str| {
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        let out = cli::newswatch(&path, &["check"]);
        assert_eq!(out.code, Some(2), "{text}");
        out.stderr
    };
    let err = check(
        "[database]\nurl = \"postgresql://newswatch:secret@db.example.org/newswatch\"\nlease_secs = 5\n",
    );
    for expected in [
        ":2:7: database.url: a password does not belong in the config file; set $NEWSWATCH_DATABASE_PASSWORD or the systemd credential \"database-password\"",
        ":3:14: database.lease_secs: expected an integer from 10 to 3600 (seconds), found 5",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert!(
        !err.contains("secret"),
        "the password must not be echoed: {err}"
    );
    let err = check("[database]\nurl = \"postgresql://db.example.org/nw?password=secret\"\n");
    assert!(
        err.contains(":2:7: database.url: a password does not belong"),
        "{err}"
    );
    assert!(!err.contains("secret"), "{err}");

    for (text, expected) in [
        (
            "[database]\nlease_secs = 3601\nurl = \"postgresql://newswatch@db.example.org/nw\"\n",
            ":2:14: database.lease_secs: expected an integer from 10 to 3600 (seconds), found 3601",
        ),
        ("[database]\nlease_secs = 60\n", ":1:1: database: url is required"),
        (
            "[database]\nurl = \"mysql://db.example.org/nw\"\n",
            ":2:7: database.url: expected a postgresql:// or postgres:// URL",
        ),
        (
            "[database]\nurl = \"postgresql://u:pw@db.example.org/nw?sslmode=sometimes\"\n",
            ":2:7: database.url: invalid connection string: invalid value for option `sslmode`, found \"postgresql://u:***@db.example.org/nw?sslmode=sometimes\"",
        ),
        (
            "[database]\nurl = \"postgresql://db.example.org/nw?sslrootcert=system\"\n",
            ":2:7: database.url: sslrootcert=system needs sslmode=verify-ca or verify-full",
        ),
        (
            "[database]\nurl = \"postgresql://db.example.org/nw\"\ncolour = \"blue\"\n",
            ":3:1: unknown key `database.colour`",
        ),
    ] {
        let err = check(text);
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
}
