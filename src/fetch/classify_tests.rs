//! Table tests for [`super::classify`], from hand-built heads (no server).
#![allow(
    clippy::type_complexity,
    reason = "table rows read best with their shape written inline"
)]

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::*;

const CAP: u64 = 1000;

fn now() -> SystemTime {
    // Sun, 06 Nov 1994 08:49:37 GMT, the RFC 9110 example date.
    SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777)
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).expect("valid header name"),
            HeaderValue::from_str(value).expect("valid header value"),
        );
    }
    map
}

/// What a verdict boils down to, for compact expectations.
#[derive(Debug, PartialEq)]
enum Short {
    Accept,
    NotModified,
    Redirect(&'static str),
    Failed(FailureKind, Option<u16>, Option<u64>),
}

fn short(v: &Verdict) -> Short {
    match v {
        Verdict::Accept(_) => Short::Accept,
        Verdict::NotModified { .. } => Short::NotModified,
        Verdict::Redirect { location } => {
            Short::Redirect(if location == "/b" { "/b" } else { "?" })
        }
        Verdict::Failed(e) => Short::Failed(e.kind, e.status, e.retry_after.map(|d| d.as_secs())),
    }
}

#[test]
#[allow(clippy::too_many_lines, reason = "one row per case, read as a table")]
fn table() {
    use FailureKind as K;
    let cases: &[(&str, u16, &[(&str, &str)], Short)] = &[
        (
            "200 html",
            200,
            &[("content-type", "text/html; charset=utf-8")],
            Short::Accept,
        ),
        ("200 no content type", 200, &[], Short::Accept),
        (
            "200 rss",
            200,
            &[("content-type", "application/rss+xml")],
            Short::Accept,
        ),
        (
            "200 atom",
            200,
            &[("content-type", "application/atom+xml")],
            Short::Accept,
        ),
        (
            "200 xhtml",
            200,
            &[("content-type", "application/xhtml+xml")],
            Short::Accept,
        ),
        (
            "200 text/xml",
            200,
            &[("content-type", "TEXT/XML; charset=windows-1256")],
            Short::Accept,
        ),
        (
            "200 json feed",
            200,
            &[("content-type", "application/feed+json")],
            Short::Accept,
        ),
        (
            "200 json",
            200,
            &[("content-type", "application/json")],
            Short::Accept,
        ),
        (
            "200 text/plain",
            200,
            &[("content-type", "text/plain")],
            Short::Accept,
        ),
        (
            "203 html",
            203,
            &[("content-type", "text/html")],
            Short::Accept,
        ),
        (
            "200 pdf",
            200,
            &[("content-type", "application/pdf")],
            Short::Failed(K::WrongType, None, None),
        ),
        (
            "200 png",
            200,
            &[("content-type", "image/png")],
            Short::Failed(K::WrongType, None, None),
        ),
        (
            "200 video",
            200,
            &[("content-type", "video/mp4")],
            Short::Failed(K::WrongType, None, None),
        ),
        (
            "200 octet",
            200,
            &[("content-type", "application/octet-stream")],
            Short::Failed(K::WrongType, None, None),
        ),
        (
            "200 at cap",
            200,
            &[("content-length", "1000")],
            Short::Accept,
        ),
        (
            "200 over cap",
            200,
            &[("content-length", "1001")],
            Short::Failed(K::TooLarge, None, None),
        ),
        (
            "200 lying 2 GB",
            200,
            &[("content-length", "2000000000")],
            Short::Failed(K::TooLarge, None, None),
        ),
        (
            "200 garbage length",
            200,
            &[("content-length", "lots")],
            Short::Accept,
        ),
        ("304", 304, &[("etag", "\"v2\"")], Short::NotModified),
        ("301", 301, &[("location", "/b")], Short::Redirect("/b")),
        ("308", 308, &[("location", "/b")], Short::Redirect("/b")),
        (
            "302 no location",
            302,
            &[],
            Short::Failed(K::Status, Some(302), None),
        ),
        ("404", 404, &[], Short::Failed(K::Status, Some(404), None)),
        ("410", 410, &[], Short::Failed(K::Status, Some(410), None)),
        ("500", 500, &[], Short::Failed(K::Status, Some(500), None)),
        (
            "429 secs",
            429,
            &[("retry-after", "120")],
            Short::Failed(K::Status, Some(429), Some(120)),
        ),
        (
            "503 date",
            503,
            &[("retry-after", "Sun, 06 Nov 1994 08:51:37 GMT")],
            Short::Failed(K::Status, Some(503), Some(120)),
        ),
        (
            "503 past date",
            503,
            &[("retry-after", "Sun, 06 Nov 1994 08:00:00 GMT")],
            Short::Failed(K::Status, Some(503), Some(0)),
        ),
        (
            "429 garbage",
            429,
            &[("retry-after", "soon")],
            Short::Failed(K::Status, Some(429), None),
        ),
        (
            "429 none",
            429,
            &[],
            Short::Failed(K::Status, Some(429), None),
        ),
        (
            "429 huge capped",
            429,
            &[("retry-after", "99999999")],
            Short::Failed(K::Status, Some(429), Some(86_400)),
        ),
        (
            "500 retry-after ignored",
            500,
            &[("retry-after", "60")],
            Short::Failed(K::Status, Some(500), None),
        ),
        ("101", 101, &[], Short::Failed(K::Status, Some(101), None)),
    ];
    for (name, status, pairs, expected) in cases {
        let verdict = classify(*status, &headers(pairs), CAP, now());
        assert_eq!(&short(&verdict), expected, "{name}");
    }
}

#[test]
fn accepted_keeps_validators_type_and_max_age() {
    let h = headers(&[
        ("content-type", "application/rss+xml; charset=utf-8"),
        ("etag", "W/\"abc\""),
        ("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ("cache-control", "public, max-age=600"),
    ]);
    let Verdict::Accept(a) = classify(200, &h, CAP, now()) else {
        panic!("expected accept");
    };
    assert_eq!(
        a.content_type.as_deref(),
        Some("application/rss+xml; charset=utf-8")
    );
    assert_eq!(a.validators.etag.as_deref(), Some("W/\"abc\""));
    assert_eq!(
        a.validators.last_modified.as_deref(),
        Some("Sun, 06 Nov 1994 08:49:37 GMT")
    );
    assert_eq!(a.max_age, Some(Duration::from_secs(600)));
}

#[test]
fn messages_are_lowercase_and_say_why() {
    let cases: &[(u16, &[(&str, &str)], &str)] = &[
        (404, &[], "http status 404 (not found)"),
        (
            429,
            &[("retry-after", "30")],
            "http status 429 (too many requests), retry after 30s",
        ),
        (
            200,
            &[("content-type", "application/pdf")],
            "content type \"application/pdf\"",
        ),
        (
            200,
            &[("content-length", "5000")],
            "content-length 5000 exceeds max_body_bytes 1000",
        ),
    ];
    for (status, pairs, expected) in cases {
        let Verdict::Failed(err) = classify(*status, &headers(pairs), CAP, now()) else {
            panic!("{status}: expected failure");
        };
        assert!(
            err.message.contains(expected),
            "{status}: {:?}",
            err.message
        );
    }
}

#[test]
fn max_age_rules() {
    let cases: &[(&str, &[&str], Option<u64>)] = &[
        ("none", &[], None),
        ("plain", &["max-age=300"], Some(300)),
        (
            "with others",
            &["public, max-age=60, must-revalidate"],
            Some(60),
        ),
        ("zero", &["max-age=0"], None),
        ("no-cache wins", &["max-age=60, no-cache"], None),
        ("no-store wins", &["no-store", "max-age=60"], None),
        ("capped at 6 h", &["max-age=31536000"], Some(6 * 3600)),
        ("garbage", &["max-age=soon"], None),
    ];
    for (name, values, expected) in cases {
        let pairs: Vec<(&str, &str)> = values.iter().map(|v| ("cache-control", *v)).collect();
        let got = parse_max_age(&headers(&pairs)).map(|d| d.as_secs());
        assert_eq!(got, *expected, "{name}");
    }
}

#[test]
fn refetch_floor_takes_the_larger_hint_capped() {
    let m = |s| Some(Duration::from_secs(s));
    assert_eq!(refetch_floor(None, None), None);
    assert_eq!(refetch_floor(m(600), None), m(600));
    assert_eq!(refetch_floor(None, Some(15)), m(900));
    assert_eq!(refetch_floor(m(600), Some(5)), m(600));
    assert_eq!(refetch_floor(None, Some(0)), None);
    assert_eq!(refetch_floor(None, Some(u64::MAX)), Some(MAX_REFETCH_FLOOR));
}

#[test]
fn content_type_essence_is_case_and_parameter_insensitive() {
    assert!(is_accepted_content_type("Text/HTML ; charset=UTF-8"));
    assert!(is_accepted_content_type("application/x-rss+xml"));
    assert!(is_accepted_content_type(""));
    assert!(!is_accepted_content_type("text/css"));
    assert!(!is_accepted_content_type("application/zip"));
}
