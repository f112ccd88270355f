//! Logging: one event per line on stderr. Under systemd (`JOURNAL_STREAM` set) each line
//! starts with the `<N>` syslog priority and has no timestamp (journald adds its own);
//! otherwise lines are human-readable with timestamps.
//!
//! One event is one line whatever its values hold: a multi-line value (a TOML error quoted by
//! a reload, a server's multi-line reply) has its line breaks written as `\n` / `\r`
//! ([`OneLine`]), so journald and `grep` never see half an event.

use std::fmt;
use std::io;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{DefaultFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// `<N>` prefixes as sd-daemon(3) defines them.
fn priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

struct Journald;

impl<S, N> FormatEvent<S, N> for Journald
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(w, "<{}>", priority(*event.metadata().level()))?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                write!(w, "{}", span.name())?;
                let ext = span.extensions();
                if let Some(fields) = ext.get::<tracing_subscriber::fmt::FormattedFields<N>>() {
                    if !fields.is_empty() {
                        write!(w, "{{{fields}}}")?;
                    }
                }
                w.write_str(": ")?;
            }
        }
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// A writer that escapes every line break of an event except the one that ends it.
/// tracing-subscriber formats an event into one buffer and writes it with one `write_all`,
/// so each `write` here is one whole event.
#[derive(Debug, Clone, Copy)]
pub struct OneLine<M>(pub M);

impl<'a, M: tracing_subscriber::fmt::MakeWriter<'a>> tracing_subscriber::fmt::MakeWriter<'a>
    for OneLine<M>
{
    type Writer = OneLineWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        OneLineWriter(self.0.make_writer())
    }
}

/// See [`OneLine`].
#[derive(Debug)]
pub struct OneLineWriter<W>(W);

impl<W: io::Write> io::Write for OneLineWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(&escape_line_breaks(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// `buf` with `\n` and `\r` written as backslash escapes, except one final `\n`.
#[must_use]
pub fn escape_line_breaks(buf: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let body = buf.strip_suffix(b"\n").unwrap_or(buf);
    if !body.iter().any(|&b| b == b'\n' || b == b'\r') {
        return std::borrow::Cow::Borrowed(buf);
    }
    let mut out = Vec::with_capacity(buf.len() + 8);
    for &b in body {
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
    if body.len() < buf.len() {
        out.push(b'\n');
    }
    std::borrow::Cow::Owned(out)
}

/// Installs the global subscriber. `verbosity`: 0 = info, 1 = debug, 2+ = trace, -1 = warn,
/// -2 and below = error. `RUST_LOG` wins when set.
pub fn init(verbosity: i8) {
    let level = match verbosity {
        i8::MIN..=-2 => "error",
        -1 => "warn",
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "newswatch={level},{}",
            if verbosity > 1 { "debug" } else { "warn" }
        ))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(OneLine(std::io::stderr));
    let result = if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder
            .fmt_fields(DefaultFields::new())
            .event_format(Journald)
            .try_init()
    } else {
        builder
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init()
    };
    let _ = result;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn line_breaks_inside_an_event_are_escaped() {
        let cases: &[(&str, &str)] = &[
            ("plain", "a=1\n"),
            ("inner newline", "error=line one\\nline two\n"),
            ("crlf", "error=a\\r\\nb\n"),
            ("no final newline", "x\\ny"),
        ];
        for (name, want) in cases {
            let input = want.replace("\\n", "\n").replace("\\r", "\r");
            let got = escape_line_breaks(input.as_bytes());
            assert_eq!(String::from_utf8_lossy(&got), *want, "{name}");
        }
    }

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_multi_line_error_is_logged_as_one_line() {
        let buf = Buf::default();
        let sink = buf.clone();
        for journald in [false, true] {
            buf.0.lock().unwrap().clear();
            let sink = sink.clone();
            let builder = tracing_subscriber::fmt()
                .with_writer(OneLine(move || sink.clone()))
                .with_ansi(false);
            let error = "TOML parse error at line 3\n  |\n3 | bogus\n  | ^";
            let emit = || tracing::error!(error = %error, "config reload failed; keeping the running config");
            if journald {
                let sub = builder
                    .fmt_fields(DefaultFields::new())
                    .event_format(Journald)
                    .finish();
                tracing::subscriber::with_default(sub, emit);
            } else {
                tracing::subscriber::with_default(builder.finish(), emit);
            }
            let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
            assert_eq!(out.matches('\n').count(), 1, "journald={journald}: {out:?}");
            assert!(out.ends_with('\n'));
            assert!(out.contains("line 3\\n  |\\n3 | bogus"), "{out}");
        }
    }
}
