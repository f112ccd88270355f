//! robots.txt (RFC 9309): the per-host cache slot and the pure status → rules mapping.
//!
//! Parsing and matching are `texting_robots`; this module decides what a robots.txt response
//! means and for how long. The fetching itself (through the host's gate, with the shared
//! client) is done by [`super::client`]; [`RobotsSlot::rules`] makes sure it happens once per
//! host even when many fetches to a new host start together.
//!
//! Policy (the issue's, which is more permissive than RFC 9309 §2.3.1.4 on unreachable files):
//! 2xx → the file's rules; 401/403 → disallow all; 404 and other 4xx → allow all;
//! 429, 5xx and transport failures → allow all, re-checked sooner.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use texting_robots::Robot;
use tokio::time::Instant;
use url::Url;

/// How long a robots.txt answer (2xx or 4xx) is trusted before it is fetched again.
pub const ROBOTS_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long an allow-all from a 429/5xx robots.txt is trusted.
pub const ROBOTS_ERROR_TTL: Duration = Duration::from_secs(3600);
/// How long an allow-all from an unreachable robots.txt (timeout, refused, reset) is trusted.
pub const ROBOTS_UNREACHABLE_TTL: Duration = Duration::from_secs(600);
/// Bytes of robots.txt we read and parse; RFC 9309 §2.5 asks for at least 500 KiB.
pub const ROBOTS_MAX_BYTES: u64 = 512 * 1024;

/// The rules that apply to our user agent on one host.
#[derive(Debug)]
pub enum RobotsRules {
    /// No robots.txt, or one we treat as absent.
    AllowAll,
    /// robots.txt answered 401/403.
    DisallowAll,
    /// Parsed rules for our product token.
    Parsed(Robot),
}

impl RobotsRules {
    /// Whether `url` (on this host) may be fetched.
    #[must_use]
    pub fn allows(&self, url: &Url) -> bool {
        match self {
            Self::AllowAll => true,
            Self::DisallowAll => false,
            Self::Parsed(robot) => robot.allowed(url.as_str()),
        }
    }
}

/// What fetching robots.txt produced.
#[derive(Debug)]
pub enum RobotsResponse {
    /// The server answered (after redirects) with this status and (possibly truncated) body.
    Answered {
        /// Final HTTP status.
        status: u16,
        /// Body, at most [`ROBOTS_MAX_BYTES`].
        body: Vec<u8>,
    },
    /// Timeout, connection refused or reset, too many redirects, unreadable body.
    Unreachable,
}

/// Map a robots.txt response to rules for `product_token` and how long to keep them.
#[must_use]
pub fn rules_for(response: &RobotsResponse, product_token: &str) -> (RobotsRules, Duration) {
    match response {
        RobotsResponse::Answered { status, body } => match status {
            200..=299 => match Robot::new(product_token, body) {
                Ok(robot) => (RobotsRules::Parsed(robot), ROBOTS_TTL),
                // texting_robots is forgiving; a file it cannot read at all states no rules.
                Err(_) => (RobotsRules::AllowAll, ROBOTS_TTL),
            },
            401 | 403 => (RobotsRules::DisallowAll, ROBOTS_TTL),
            429 | 500..=599 => (RobotsRules::AllowAll, ROBOTS_ERROR_TTL),
            _ => (RobotsRules::AllowAll, ROBOTS_TTL),
        },
        RobotsResponse::Unreachable => (RobotsRules::AllowAll, ROBOTS_UNREACHABLE_TTL),
    }
}

/// The product token robots.txt groups are matched against: the User-Agent up to the first
/// `/` or space (`"newswatch/0.1 (+https://…)"` → `"newswatch"`).
#[must_use]
pub fn product_token(user_agent: &str) -> &str {
    let token = user_agent
        .split(|c: char| c == '/' || c.is_whitespace())
        .next()
        .unwrap_or("");
    if token.is_empty() {
        "*"
    } else {
        token
    }
}

/// `/robots.txt` on the same scheme, host and port as `url`.
#[must_use]
pub fn robots_url(url: &Url) -> Url {
    let mut robots = url.clone();
    robots.set_path("/robots.txt");
    robots.set_query(None);
    robots.set_fragment(None);
    // Credentials in a source URL must not leak into a robots.txt request log line.
    let _ = robots.set_username("");
    let _ = robots.set_password(None);
    robots
}

#[derive(Debug)]
struct Entry {
    rules: Arc<RobotsRules>,
    expires: Instant,
}

/// Per-host cache of robots.txt rules.
#[derive(Debug, Default)]
pub struct RobotsSlot {
    entry: tokio::sync::Mutex<Option<Entry>>,
}

impl RobotsSlot {
    /// The cached rules, or the rules `refresh` produces when there are none or they expired.
    /// Concurrent callers wait for the one refresh in progress instead of starting their own.
    pub async fn rules<F, Fut>(&self, refresh: F) -> Arc<RobotsRules>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = (RobotsRules, Duration)>,
    {
        let mut entry = self.entry.lock().await;
        if let Some(cached) = entry.as_ref().filter(|e| e.expires > Instant::now()) {
            return Arc::clone(&cached.rules);
        }
        let (rules, ttl) = refresh().await;
        let rules = Arc::new(rules);
        *entry = Some(Entry {
            rules: Arc::clone(&rules),
            expires: Instant::now() + ttl,
        });
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, body: &str) -> RobotsResponse {
        RobotsResponse::Answered {
            status,
            body: body.as_bytes().to_vec(),
        }
    }

    fn allows(response: &RobotsResponse, path: &str) -> bool {
        let url = Url::parse("http://example.org")
            .expect("valid")
            .join(path)
            .expect("valid");
        rules_for(response, "newswatch").0.allows(&url)
    }

    #[test]
    fn status_policy() {
        let cases = [
            ("404 allows all", answered(404, ""), true, ROBOTS_TTL),
            ("401 disallows all", answered(401, ""), false, ROBOTS_TTL),
            ("403 disallows all", answered(403, ""), false, ROBOTS_TTL),
            (
                "500 allows all briefly",
                answered(500, ""),
                true,
                ROBOTS_ERROR_TTL,
            ),
            (
                "429 allows all briefly",
                answered(429, ""),
                true,
                ROBOTS_ERROR_TTL,
            ),
            (
                "unreachable allows all",
                RobotsResponse::Unreachable,
                true,
                ROBOTS_UNREACHABLE_TTL,
            ),
        ];
        for (name, response, allowed, ttl) in cases {
            assert_eq!(allows(&response, "/news/1"), allowed, "{name}");
            assert_eq!(rules_for(&response, "newswatch").1, ttl, "{name}");
        }
    }

    #[test]
    fn groups_match_our_product_token() {
        let txt = "User-agent: *\nDisallow: /\n\nUser-agent: newswatch\nDisallow: /private\n";
        let r = answered(200, txt);
        assert!(allows(&r, "/news/1"));
        assert!(!allows(&r, "/private/x"));
        let star_only = answered(200, "User-agent: *\nDisallow: /secret\n");
        assert!(!allows(&star_only, "/secret?q=1"));
        assert!(allows(&star_only, "/open"));
    }

    #[test]
    fn product_token_and_url() {
        assert_eq!(
            product_token("newswatch/0.1 (+https://example.org)"),
            "newswatch"
        );
        assert_eq!(product_token("Bot (x)"), "Bot");
        assert_eq!(product_token(""), "*");
        let u = Url::parse("https://u:p@example.org:8443/a/b?c#d").expect("valid");
        assert_eq!(
            robots_url(&u).as_str(),
            "https://example.org:8443/robots.txt"
        );
    }
}
