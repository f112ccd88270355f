//! Stage 2: [`RawConfig`] → [`Config`], reporting every error rather than the first.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use url::Url;

mod mail;

use super::raw::{RawConfig, RawSource, RawWatchlist};
use super::{
    glob_match, parse_backfill, parse_duration, raw, Backfill, Config, ConfigError, CronSpec,
    DatabaseConfig, DigestSchedule, FetchSettings, Retention, Source, SourceKind, SourceName, Tz,
    Watchlist, WatchlistName, Watchlists, DEFAULT_BACKFILL, DEFAULT_DIGEST, DEFAULT_LEASE_SECS,
    DEFAULT_SCHEDULE, DEFAULT_STATE_DIR, MAX_LEASE_SECS, MIN_KEEP_IDENTITY, MIN_KEEP_TEXT,
    MIN_LEASE_SECS,
};
use crate::matcher::{TermGroup, WatchlistTerms};

struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
    errors: Vec<ConfigError>,
}

impl Ctx<'_> {
    fn err(&mut self, span: Range<usize>, msg: impl Into<String>) {
        let e = ConfigError::at(self.path, self.text, span.start, msg);
        self.errors.push(e);
    }

    /// The file offset of byte `idx` of a string value, when the value is written without
    /// escapes (so the two line up); else, and for `idx` 0, the start of the value (its quote).
    fn offset_in_string(&self, s: &Spanned<String>, idx: usize) -> usize {
        let span = s.span();
        let written = self.text.get(span.clone()).unwrap_or_default();
        let value = s.get_ref();
        let plain = [format!("\"{value}\""), format!("'{value}'")];
        if idx > 0 && plain.iter().any(|p| p == written) {
            span.start + 1 + idx
        } else {
            span.start
        }
    }

    fn cron(&mut self, what: &str, s: &Spanned<String>) -> Option<CronSpec> {
        match s.get_ref().parse::<CronSpec>() {
            Ok(c) => Some(c),
            Err(e) => {
                self.err(
                    s.span(),
                    format!("{what}: cron line {:?}: {e}", s.get_ref()),
                );
                None
            }
        }
    }

    fn positive(&mut self, key: &str, v: Option<&Spanned<i64>>, default: u64, min: i64) -> u64 {
        // `min` is never negative, so a value at or above it is one.
        match v.map(|v| (v, u64::try_from(*v.get_ref()))) {
            None => default,
            Some((v, Ok(n))) if *v.get_ref() >= min => n,
            Some((v, _)) => {
                self.err(
                    v.span(),
                    format!(
                        "http.{key}: expected an integer >= {min}, found {}",
                        v.get_ref()
                    ),
                );
                default
            }
        }
    }
}

/// Validates and compiles a parsed config.
///
/// # Errors
/// Every problem found, each with <file:line:column>, in file order.
///
/// # Panics
/// Never: the built-in defaults parse, and the mail settings and the matcher are missing
/// only when an error was recorded.
pub fn validate(raw: RawConfig, path: &Path, text: &str) -> Result<Config, Vec<ConfigError>> {
    let mut cx = Ctx {
        path,
        text,
        errors: Vec::new(),
    };

    let state_dir = raw.state_dir.as_ref().map_or_else(
        || PathBuf::from(DEFAULT_STATE_DIR),
        |s| PathBuf::from(s.get_ref()),
    );
    let timezone = match &raw.timezone {
        None => Tz::UTC,
        Some(s) => s.get_ref().parse::<Tz>().unwrap_or_else(|_| {
            cx.err(
                s.span(),
                format!(
                    "timezone: expected an IANA time zone name like \"Africa/Niamey\", found {:?}",
                    s.get_ref()
                ),
            );
            Tz::UTC
        }),
    };

    let mut http = validate_http(&mut cx, raw.http.unwrap_or_default());
    let retention = validate_retention(&mut cx, &raw.retention.unwrap_or_default());
    let database = raw.database.and_then(|d| validate_database(&mut cx, d));

    let mail = mail::validate_mail(&mut cx, raw.mail.unwrap_or_default());

    let defaults = raw.defaults.unwrap_or_default();
    let default_schedule = match &defaults.schedule {
        Some(s) => cx.cron("defaults.schedule", s),
        None => DEFAULT_SCHEDULE.parse().ok(),
    };
    let default_digest = match &defaults.digest {
        Some(s) => digest_schedule(&mut cx, "defaults.digest", s),
        None => DEFAULT_DIGEST.parse().ok().map(DigestSchedule::Cron),
    };
    let builtin_backfill =
        parse_backfill(DEFAULT_BACKFILL).expect("DEFAULT_BACKFILL is a valid duration");
    let default_backfill = match &defaults.backfill {
        Some(s) => parse_backfill(s.get_ref()).unwrap_or_else(|e| {
            cx.err(s.span(), format!("defaults.backfill: {e}"));
            builtin_backfill
        }),
        None => builtin_backfill,
    };

    let sources = validate_sources(
        &mut cx,
        raw.source,
        default_schedule.as_ref(),
        default_backfill,
        &mut http,
    );
    let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();

    let (watchlists, term_spans) =
        validate_watchlists(&mut cx, raw.watchlist, &names, default_digest.as_ref());
    let matcher = compile_matcher(&mut cx, &watchlists, &term_spans);

    if !cx.errors.is_empty() {
        cx.errors.sort_by_key(|e| (e.line, e.column));
        return Err(cx.errors);
    }
    Ok(Config {
        path: path.to_path_buf(),
        state_dir,
        timezone,
        http,
        mail: mail.expect("mail is Some when no error was recorded"),
        source_index: Config::index_sources(&sources),
        sources,
        watchlists: Watchlists::new(
            watchlists,
            matcher.expect("matcher is Some when no error was recorded"),
        ),
        retention,
        database,
    })
}

fn validate_database(cx: &mut Ctx<'_>, table: Spanned<raw::RawDatabase>) -> Option<DatabaseConfig> {
    let span = table.span();
    let d = table.into_inner();
    let lease = match &d.lease_secs {
        None => DEFAULT_LEASE_SECS,
        Some(v) if (MIN_LEASE_SECS..=MAX_LEASE_SECS).contains(v.get_ref()) => {
            v.get_ref().unsigned_abs()
        }
        Some(v) => {
            cx.err(
                v.span(),
                format!(
                    "database.lease_secs: expected an integer from {MIN_LEASE_SECS} to {MAX_LEASE_SECS} (seconds), found {}",
                    v.get_ref()
                ),
            );
            DEFAULT_LEASE_SECS
        }
    };
    let Some(url) = d.url else {
        cx.err(
            span,
            "database: url is required (omit [database] to keep state in SQLite in state_dir)",
        );
        return None;
    };
    let text = url.get_ref();
    let scheme_ok = text.starts_with("postgresql://") || text.starts_with("postgres://");
    // Never echo a password written in the URL.
    let shown = crate::store::postgres::shown_url(text);
    match crate::store::postgres::tls::parse(text) {
        _ if !scheme_ok => cx.err(
            url.span(),
            format!("database.url: expected a postgresql:// or postgres:// URL, found {shown:?}"),
        ),
        Ok(t) if t.config.get_password().is_some() => cx.err(
            url.span(),
            "database.url: a password does not belong in the config file; set $NEWSWATCH_DATABASE_PASSWORD or the systemd credential \"database-password\"",
        ),
        Ok(_) => {
            return Some(DatabaseConfig {
                url: text.clone(),
                lease: Duration::from_secs(lease),
            })
        }
        Err(e) => cx.err(
            url.span(),
            format!("database.url: {e}, found {shown:?} (e.g. postgresql://newswatch@db.example.org/newswatch?sslmode=verify-full or postgresql://newswatch@/newswatch?host=/run/postgresql)"),
        ),
    }
    None
}

/// The `[[source]]` tables, each host's sources ranked in config order; their hosts are
/// trusted by `http`'s network policy (the operator named them).
fn validate_sources(
    cx: &mut Ctx<'_>,
    raw: Vec<Spanned<RawSource>>,
    default_schedule: Option<&CronSpec>,
    default_backfill: Backfill,
    http: &mut FetchSettings,
) -> Vec<Source> {
    let mut sources = Vec::new();
    let mut seen = HashSet::new();
    for s in raw {
        let s = s.into_inner();
        if !seen.insert(s.name.get_ref().clone()) {
            cx.err(
                s.name.span(),
                format!(
                    "source {:?} is defined twice; names must be unique",
                    s.name.get_ref()
                ),
            );
        }
        if let Some(src) = validate_source(cx, s, default_schedule, default_backfill) {
            sources.push(src);
        }
    }
    // The operator named these hosts: their private addresses are theirs to reach.
    let mut per_host: HashMap<String, u32> = HashMap::new();
    for s in &mut sources {
        http.network.trust_url(&s.url);
        let host = crate::fetch::politeness::HostKey::from_url(&s.url)
            .map_or_else(|_| s.url.to_string(), |k| k.to_string());
        let rank = per_host.entry(host).or_default();
        s.host_rank = *rank;
        *rank += 1;
    }
    sources
}

/// Where a watchlist's keywords, require and exclude terms are in the file, term by term.
type TermSpans = [Vec<Range<usize>>; 3];

/// The `[[watchlist]]` tables, and the spans of each one's keywords, require and exclude terms.
fn validate_watchlists(
    cx: &mut Ctx<'_>,
    raw: Vec<Spanned<RawWatchlist>>,
    sources: &[&str],
    default_digest: Option<&DigestSchedule>,
) -> (Vec<Watchlist>, Vec<TermSpans>) {
    let mut watchlists = Vec::new();
    let mut term_spans = Vec::new();
    let mut wl_names = HashSet::new();
    for w in raw {
        let w = w.into_inner();
        if !wl_names.insert(w.name.get_ref().clone()) {
            cx.err(
                w.name.span(),
                format!(
                    "watchlist {:?} is defined twice; names must be unique",
                    w.name.get_ref()
                ),
            );
        }
        let (wl, spans) = validate_watchlist(cx, &w, sources, default_digest);
        watchlists.push(wl);
        term_spans.push(spans);
    }

    (watchlists, term_spans)
}

/// The watchlists' matcher; `None` when a term does not compile (each error recorded at its
/// term's span).
fn compile_matcher(
    cx: &mut Ctx<'_>,
    watchlists: &[Watchlist],
    term_spans: &[TermSpans],
) -> Option<crate::matcher::Matcher> {
    let lists: Vec<WatchlistTerms> = watchlists
        .iter()
        .map(|w: &Watchlist| w.terms.clone())
        .collect();
    match crate::matcher::Matcher::compile(&lists) {
        Ok(m) => Some(m),
        Err(errs) => {
            for e in errs {
                let spans: &[Vec<Range<usize>>; 3] = &term_spans[e.watchlist];
                let g = match e.group {
                    TermGroup::Keywords => 0,
                    TermGroup::Require => 1,
                    TermGroup::Exclude => 2,
                };
                let span = spans[g].get(e.index).cloned().unwrap_or(0..0);
                let name = &watchlists[e.watchlist].name;
                cx.err(span, format!("watchlist {name:?}: {}", e.message));
            }
            None
        }
    }
}

fn validate_retention(cx: &mut Ctx<'_>, r: &raw::RawRetention) -> Retention {
    let d = Retention::default();
    let mut get = |key: &str, v: &Option<Spanned<String>>, default: Duration, min: Duration| {
        let Some(v) = v else { return default };
        match parse_duration(v.get_ref()) {
            Ok(x) if x >= min => x,
            Ok(_) => {
                cx.err(
                    v.span(),
                    format!(
                        "retention.{key}: must be at least {}d, found {:?}",
                        min.as_secs() / 86_400,
                        v.get_ref()
                    ),
                );
                default
            }
            Err(e) => {
                cx.err(v.span(), format!("retention.{key}: {e}"));
                default
            }
        }
    };
    let keep_text = get("keep_text", &r.keep_text, d.keep_text, MIN_KEEP_TEXT);
    let keep_identity = get(
        "keep_identity",
        &r.keep_identity,
        d.keep_identity,
        MIN_KEEP_IDENTITY,
    );
    if keep_identity < keep_text {
        let span = r
            .keep_identity
            .as_ref()
            .or(r.keep_text.as_ref())
            .map_or(0..0, Spanned::span);
        cx.err(
            span,
            "retention: keep_identity must be at least keep_text (what dedup needs outlives the text)",
        );
    }
    Retention {
        keep_text,
        keep_identity: keep_identity.max(keep_text),
    }
}

fn validate_http(cx: &mut Ctx<'_>, http: raw::RawHttp) -> FetchSettings {
    let d = FetchSettings::default();
    let whole = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let timeout = cx.positive(
        "timeout_secs",
        http.timeout_secs.as_ref(),
        d.timeout.as_secs(),
        1,
    );
    let max_body = cx.positive(
        "max_body_bytes",
        http.max_body_bytes.as_ref(),
        d.max_body_bytes,
        1,
    );
    let delay = cx.positive(
        "per_host_delay_ms",
        http.per_host_delay_ms.as_ref(),
        whole(d.per_host_delay),
        0,
    );
    let conc = cx.positive(
        "per_host_concurrency",
        http.per_host_concurrency.as_ref(),
        d.per_host_concurrency as u64,
        1,
    );
    FetchSettings {
        user_agent: http.user_agent.map_or(d.user_agent, Spanned::into_inner),
        timeout: Duration::from_secs(timeout),
        max_body_bytes: max_body,
        per_host_delay: Duration::from_millis(delay),
        per_host_concurrency: usize::try_from(conc).unwrap_or(usize::MAX),
        respect_robots: http.respect_robots.unwrap_or(d.respect_robots),
        network: crate::fetch::NetworkPolicy {
            allow_private_networks: http.allow_private_networks.unwrap_or(false),
            trusted_hosts: std::collections::BTreeSet::new(),
        },
    }
}

fn digest_schedule(cx: &mut Ctx<'_>, what: &str, s: &Spanned<String>) -> Option<DigestSchedule> {
    if s.get_ref().trim() == "immediate" {
        return Some(DigestSchedule::Immediate);
    }
    cx.cron(what, s).map(DigestSchedule::Cron)
}

fn validate_source(
    cx: &mut Ctx<'_>,
    s: RawSource,
    default_schedule: Option<&CronSpec>,
    default_backfill: Backfill,
) -> Option<Source> {
    let name = s.name.get_ref().clone();
    let before = cx.errors.len();
    let valid = name.parse::<SourceName>();
    if let Err(e) = &valid {
        cx.err(s.name.span(), format!("source name: {e}"));
    }
    let url = match Url::parse(s.url.get_ref()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u),
        Ok(u) => {
            cx.err(
                s.url.span(),
                format!(
                    "source {name:?}: url must be http or https, found scheme {:?}",
                    u.scheme()
                ),
            );
            None
        }
        Err(e) => {
            cx.err(
                s.url.span(),
                format!("source {name:?}: url {:?}: {e}", s.url.get_ref()),
            );
            None
        }
    };
    let kind = match s.kind.as_ref().map(|k| (k.get_ref().as_str(), k.span())) {
        None | Some(("auto", _)) => SourceKind::Auto,
        Some(("feed", _)) => SourceKind::Feed,
        Some(("page", _)) => SourceKind::Page,
        Some(("sitemap", _)) => SourceKind::Sitemap,
        Some((other, sp)) => {
            cx.err(sp, format!("source {name:?}: kind: expected \"auto\", \"feed\", \"page\" or \"sitemap\", found {other:?}"));
            SourceKind::Auto
        }
    };
    let schedule = match &s.schedule {
        Some(c) => cx.cron(&format!("source {name:?}: schedule"), c),
        None => default_schedule.cloned(),
    };
    let selector = |cx: &mut Ctx<'_>, key: &str, v: &Option<Spanned<String>>| {
        v.as_ref()
            .and_then(|v| match crate::extract::Selector::parse(v.get_ref()) {
                Ok(sel) => Some(sel),
                Err(e) => {
                    cx.err(
                        v.span(),
                        format!(
                            "source {name:?}: {key}: invalid CSS selector {:?}: {e}",
                            v.get_ref()
                        ),
                    );
                    None
                }
            })
    };
    let links = selector(cx, "links", &s.links);
    let content = selector(cx, "content", &s.content);
    let backfill = match &s.backfill {
        Some(b) => parse_backfill(b.get_ref()).unwrap_or_else(|e| {
            cx.err(b.span(), format!("source {name:?}: backfill: {e}"));
            default_backfill
        }),
        None => default_backfill,
    };
    if cx.errors.len() > before {
        return None;
    }
    Some(Source {
        name: valid.ok()?,
        url: url?,
        kind,
        schedule: schedule?,
        follow: s.follow.unwrap_or(true),
        links,
        links_text: s.links.map(Spanned::into_inner),
        content,
        content_text: s.content.map(Spanned::into_inner),
        backfill,
        host_rank: 0,
    })
}

fn validate_watchlist(
    cx: &mut Ctx<'_>,
    w: &RawWatchlist,
    sources: &[&str],
    default_digest: Option<&DigestSchedule>,
) -> (Watchlist, [Vec<Range<usize>>; 3]) {
    let name = w.name.get_ref().clone();
    let valid = name.parse::<WatchlistName>();
    if let Err(e) = &valid {
        cx.err(w.name.span(), format!("watchlist name: {e}"));
    }
    if w.keywords.get_ref().is_empty() {
        cx.err(
            w.keywords.span(),
            format!("watchlist {name:?}: keywords must name at least one term"),
        );
    }
    let spans = [
        w.keywords.get_ref().iter().map(Spanned::span).collect(),
        w.require.iter().map(Spanned::span).collect(),
        w.exclude.iter().map(Spanned::span).collect(),
    ];
    let strings = |v: &[Spanned<String>]| v.iter().map(|s| s.get_ref().clone()).collect::<Vec<_>>();
    let terms = WatchlistTerms {
        keywords: strings(w.keywords.get_ref()),
        require: strings(&w.require),
        exclude: strings(&w.exclude),
    };
    let patterns = match &w.sources {
        None => vec!["*".to_string()],
        Some(list) => {
            if list.get_ref().is_empty() {
                cx.err(list.span(), format!("watchlist {name:?}: sources is empty; omit it or use [\"*\"] for every source"));
            }
            for p in list.get_ref() {
                let pat = p.get_ref();
                if !sources.iter().any(|s| glob_match(pat, s)) {
                    let hint = closest(pat, sources)
                        .map(|c| format!(" (did you mean {c:?}?)"))
                        .unwrap_or_default();
                    cx.err(
                        p.span(),
                        format!("watchlist {name:?}: sources names unknown source {pat:?}{hint}"),
                    );
                }
            }
            strings(list.get_ref())
        }
    };
    if w.to.get_ref().is_empty() {
        cx.err(
            w.to.span(),
            format!("watchlist {name:?}: to must list at least one recipient"),
        );
    }
    let mut to = Vec::new();
    for t in w.to.get_ref() {
        match t.get_ref().parse::<lettre::message::Mailbox>() {
            Ok(m) => to.push(m),
            Err(e) => cx.err(
                t.span(),
                format!(
                    "watchlist {name:?}: to: expected an email address, found {:?} ({e})",
                    t.get_ref()
                ),
            ),
        }
    }
    let digest = match &w.digest {
        Some(d) => digest_schedule(cx, &format!("watchlist {name:?}: digest"), d),
        None => default_digest.cloned(),
    }
    .unwrap_or(DigestSchedule::Immediate);
    let languages = validate_languages(cx, &name, w.languages.as_ref());
    let prefer = validate_prefer(cx, &name, w.prefer.as_ref(), sources);
    (
        Watchlist {
            // An invalid name is an error already: this config is never used.
            name: valid.unwrap_or_else(|_| WatchlistName::from_stored(name)),
            terms,
            sources: patterns,
            to,
            digest,
            show_recipients: w.show_recipients.unwrap_or(false),
            languages,
            prefer,
        },
        spans,
    )
}

/// `languages = [...]`: ISO 639-1 codes, each once; absent keeps every language.
fn validate_languages(
    cx: &mut Ctx<'_>,
    name: &str,
    list: Option<&Spanned<Vec<Spanned<String>>>>,
) -> Vec<String> {
    let Some(list) = list else {
        return Vec::new();
    };
    if list.get_ref().is_empty() {
        cx.err(
            list.span(),
            format!("watchlist {name:?}: languages is empty; omit it to keep every language"),
        );
    }
    let mut out: Vec<String> = Vec::new();
    for l in list.get_ref() {
        match super::language::parse_language(l.get_ref()) {
            Ok(code) if out.contains(&code) => cx.err(
                l.span(),
                format!("watchlist {name:?}: languages lists {code:?} twice"),
            ),
            Ok(code) => out.push(code),
            Err(e) => cx.err(l.span(), format!("watchlist {name:?}: languages: {e}")),
        }
    }
    out
}

/// `prefer = [...]`: names of configured sources (no patterns), each once.
fn validate_prefer(
    cx: &mut Ctx<'_>,
    name: &str,
    list: Option<&Spanned<Vec<Spanned<String>>>>,
    sources: &[&str],
) -> Vec<SourceName> {
    let mut out: Vec<SourceName> = Vec::new();
    for p in list.map(|l| l.get_ref().as_slice()).unwrap_or_default() {
        let s = p.get_ref();
        if !sources.contains(&s.as_str()) {
            let hint = closest(s, sources)
                .map(|c| format!(" (did you mean {c:?}?)"))
                .unwrap_or_default();
            cx.err(
                p.span(),
                format!("watchlist {name:?}: prefer names unknown source {s:?}{hint}"),
            );
        } else if out.iter().any(|o| o == s.as_str()) {
            cx.err(
                p.span(),
                format!("watchlist {name:?}: prefer lists {s:?} twice"),
            );
        } else {
            out.push(SourceName::from_stored(s.clone()));
        }
    }
    out
}

/// The known name closest to `s`, if it is close enough to be a typo.
fn closest<'a>(s: &str, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .map(|n| (edit_distance(s, n), *n))
        .filter(|(d, n)| *d <= 2.max(n.chars().count() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
