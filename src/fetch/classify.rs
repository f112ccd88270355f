//! Pure classification of an HTTP response head (status + headers) into a typed verdict.
//!
//! Owns the decisions that need no network: is it modified, is it a redirect, is the content
//! type one we parse, is the declared length over the cap, when may we ask again
//! (`Retry-After`), how long is it fresh (`Cache-Control: max-age`). The I/O shell in
//! [`super::client`] sends the request, calls [`classify`] once and acts on the [`Verdict`];
//! it never re-inspects status codes itself. Like miniflux's `ResponseHandler`, every rule
//! here is table-tested from hand-built headers.

use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap};

use super::{FailureKind, FetchError, Validators};

/// Longest `Retry-After` we honour; a server asking for more is capped, so a typo or a
/// hostile value cannot silence a host for weeks.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Longest refetch floor a `Cache-Control: max-age` or feed `<ttl>` may impose (the same
/// cap as the failure backoff in SPEC): a site cannot make us look away for longer.
pub const MAX_REFETCH_FLOOR: Duration = Duration::from_secs(6 * 3600);

/// What to do with a response, decided from its head alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx with an acceptable content type and no over-cap `Content-Length`: read the body.
    Accept(Accepted),
    /// 304: the caller's copy is current; validators are those the server sent (may be empty).
    NotModified {
        /// Validators from the 304 response itself.
        validators: Validators,
    },
    /// 3xx with a `Location` (unresolved, as sent).
    Redirect {
        /// The raw `Location` header value.
        location: String,
    },
    /// Anything we will not read; `retry_after` is set for 429/503 with `Retry-After`.
    Failed(FetchError),
}

/// The parts of an accepted response head the fetcher keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// `Content-Type` as sent (charset parameter included), if any.
    pub content_type: Option<String>,
    /// `ETag` / `Last-Modified` for the next conditional GET.
    pub validators: Validators,
    /// From `Cache-Control: max-age`, capped at [`MAX_REFETCH_FLOOR`].
    pub max_age: Option<Duration>,
    /// `Content-Location` as sent (unresolved): feeds resolve relative links against it.
    pub content_location: Option<String>,
}

/// Classify a response head. Pure: `now` is only used to turn an HTTP-date `Retry-After`
/// into a duration.
#[must_use]
pub fn classify(status: u16, headers: &HeaderMap, max_body_bytes: u64, now: SystemTime) -> Verdict {
    match status {
        304 => Verdict::NotModified {
            validators: validators(headers),
        },
        300..=399 => match header_str(headers, &header::LOCATION) {
            Some(location) if !location.is_empty() => Verdict::Redirect {
                location: location.to_owned(),
            },
            _ => Verdict::Failed(status_error(status, "redirect without location", None)),
        },
        200..=299 => classify_success(headers, max_body_bytes),
        429 | 503 => {
            let retry_after =
                header_str(headers, &header::RETRY_AFTER).and_then(|v| parse_retry_after(v, now));
            let reason = if status == 429 {
                "too many requests"
            } else {
                "service unavailable"
            };
            Verdict::Failed(status_error(status, reason, retry_after))
        }
        _ => {
            let reason = reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("unexpected status");
            Verdict::Failed(status_error(status, &reason.to_lowercase(), None))
        }
    }
}

fn classify_success(headers: &HeaderMap, max_body_bytes: u64) -> Verdict {
    let content_type = header_str(headers, &header::CONTENT_TYPE).map(str::to_owned);
    if let Some(ct) = content_type.as_deref() {
        if !is_accepted_content_type(ct) {
            return Verdict::Failed(FetchError {
                kind: FailureKind::WrongType,
                status: None,
                message: format!(
                    "content type {ct:?} is not html, xml, json or text; body not read"
                ),
                retry_after: None,
            });
        }
    }
    // A declared length over the cap is refused up front; a lying or missing one is caught
    // while streaming, so this is an early exit, never an allocation hint.
    let declared = header_str(headers, &header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared.filter(|&len| len > max_body_bytes) {
        return Verdict::Failed(too_large(&format!(
            "content-length {len} exceeds max_body_bytes {max_body_bytes}; body not read"
        )));
    }
    Verdict::Accept(Accepted {
        content_type,
        validators: validators(headers),
        max_age: parse_max_age(headers),
        content_location: header_str(headers, &header::CONTENT_LOCATION).map(str::to_owned),
    })
}

/// Whether a `Content-Type` value names something extract can parse: HTML, XHTML,
/// XML (RSS, Atom, RDF, any `+xml`), JSON (JSON Feed, any `+json`), plain text, or gzip
/// (a `sitemap.xml.gz` served as the file it is; extract inflates it within a cap).
#[must_use]
pub fn is_accepted_content_type(value: &str) -> bool {
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence.is_empty() {
        return true;
    }
    matches!(
        essence.as_str(),
        "text/html"
            | "text/plain"
            | "text/xml"
            | "application/xml"
            | "application/json"
            | "application/gzip"
            | "application/x-gzip"
    ) || essence.ends_with("+xml")
        || essence.ends_with("+json")
}

/// `ETag` and `Last-Modified` of a response, for the next conditional GET.
#[must_use]
pub fn validators(headers: &HeaderMap) -> Validators {
    Validators {
        etag: header_str(headers, &header::ETAG).map(str::to_owned),
        last_modified: header_str(headers, &header::LAST_MODIFIED).map(str::to_owned),
    }
}

/// Parse `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date relative to `now`.
/// A date in the past gives zero; values are capped at [`MAX_RETRY_AFTER`]; garbage is `None`.
#[must_use]
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let delay = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let when = httpdate::parse_http_date(value).ok()?;
        when.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

/// `max-age` from `Cache-Control`, capped at [`MAX_REFETCH_FLOOR`]. `no-store`/`no-cache`
/// or `max-age=0` mean no floor.
#[must_use]
pub fn parse_max_age(headers: &HeaderMap) -> Option<Duration> {
    let mut max_age = None;
    for value in headers.get_all(header::CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',') {
            let directive = directive.trim().to_ascii_lowercase();
            if directive == "no-store" || directive == "no-cache" {
                return None;
            }
            if let Some(secs) = directive.strip_prefix("max-age=") {
                max_age = secs.trim_matches('"').parse::<u64>().ok();
            }
        }
    }
    max_age
        .filter(|&secs| secs > 0)
        .map(|secs| Duration::from_secs(secs).min(MAX_REFETCH_FLOOR))
}

/// The earliest a source may be fetched again after a success: the larger of the response's
/// `max-age` and a feed's `<ttl>` (minutes, RSS 2.0), capped at [`MAX_REFETCH_FLOOR`].
/// The scheduler uses it as a floor on the cron schedule, never as a replacement.
#[must_use]
pub fn refetch_floor(max_age: Option<Duration>, feed_ttl_minutes: Option<u64>) -> Option<Duration> {
    let ttl = feed_ttl_minutes
        .filter(|&m| m > 0)
        .map(|m| Duration::from_secs(m.saturating_mul(60)));
    max_age.max(ttl).map(|d| d.min(MAX_REFETCH_FLOOR))
}

pub(crate) fn too_large(message: &str) -> FetchError {
    FetchError {
        kind: FailureKind::TooLarge,
        status: None,
        message: message.to_owned(),
        retry_after: None,
    }
}

fn status_error(status: u16, reason: &str, retry_after: Option<Duration>) -> FetchError {
    let message = match retry_after {
        Some(d) => format!(
            "http status {status} ({reason}), retry after {}s",
            d.as_secs()
        ),
        None => format!("http status {status} ({reason})"),
    };
    FetchError {
        kind: FailureKind::Status,
        status: Some(status),
        message,
        retry_after,
    }
}

fn header_str<'h>(headers: &'h HeaderMap, name: &header::HeaderName) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
