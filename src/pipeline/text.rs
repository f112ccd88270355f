//! Deciding what an article is matched on, and whether its page's text is still owed.
//!
//! Pure: takes what the feed said, what reading the page gave and `now`; no I/O. The
//! orchestrator in [`super`] fetches, this module decides, `store` records.

use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use crate::extract::{Article, BodyConfidence};
use crate::fetch::{FailureKind, FetchError};
use crate::model::TextFrom;
use crate::schedule::backoff;
use crate::store::TextDebt;

/// Attempts at an article's page in all (the first and five retries on later scans) before
/// its full text is no longer owed and it stays matched on the feed's text.
pub const TEXT_TRIES: u32 = 6;
/// An owed page is tried again no sooner than this after its first failure, doubling with
/// each further one (and never before its host's `Retry-After`).
pub const TEXT_RETRY_BASE: Duration = Duration::from_secs(60);
/// The longest wait between two tries of an owed page.
pub const TEXT_RETRY_CAP: Duration = Duration::from_secs(3600);

/// What reading an article's page gave.
#[derive(Debug, Clone)]
pub enum PageOutcome {
    /// The page was read: its article and the URL it was read at (after redirects).
    Read(Box<Article>, Url),
    /// The page will not be readable (404, 410, not HTML, no article on it, robots …).
    Permanent(String),
    /// The page may be readable later (timeout, reset, 5xx, 429, host cooling down).
    Transient {
        error: String,
        retry_after: Option<Duration>,
    },
}

/// Sorts a failed fetch of an article page into "try again later" or "never".
#[must_use]
pub fn classify_failure(e: &FetchError) -> PageOutcome {
    let transient = match e.kind {
        // A server error or an overloaded host; a dropped connection or a body cut short.
        FailureKind::Timeout | FailureKind::Connect | FailureKind::Other => true,
        FailureKind::Status => e
            .status
            .is_none_or(|s| s >= 500 || matches!(s, 408 | 425 | 429)),
        // Off limits: a private address a third-party link may not reach (logged once, by
        // the fetcher).
        FailureKind::TooLarge
        | FailureKind::WrongType
        | FailureKind::RobotsDisallowed
        | FailureKind::OffLimits
        | FailureKind::TooManyRedirects => false,
    };
    if transient {
        PageOutcome::Transient {
            error: e.message.clone(),
            retry_after: e.retry_after,
        }
    } else {
        PageOutcome::Permanent(e.message.clone())
    }
}

/// What the feed (or listing link) said about an article, or what was stored of it.
#[derive(Debug, Clone, Default)]
pub struct FeedText {
    pub title: String,
    pub text: String,
    pub published: Option<DateTime<Utc>>,
    /// A sitemap's `<news:language>` or the feed's `<language>`.
    pub lang: Option<String>,
}

/// The text an article is matched on, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub title: String,
    pub text: String,
    pub published: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    pub text_from: TextFrom,
}

/// Chooses the text to match: the page's body when extraction is sure of it; when it is
/// not (a brief, a page extraction could not fully read), everything the page offers —
/// its body and description — with the feed's text added where it says more; the feed's
/// text alone only when there is no page text at all.
#[must_use]
pub fn choose_text(feed: &FeedText, page: Option<&Article>) -> Chosen {
    let feed_only = || Chosen {
        title: feed.title.clone(),
        text: feed.text.clone(),
        published: feed.published,
        lang: feed.lang.clone(),
        text_from: TextFrom::Feed,
    };
    let Some(page) = page else {
        return feed_only();
    };
    let title = page
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map_or_else(|| feed.title.clone(), str::to_owned);
    let published = page.published.or(feed.published);
    let body = page.text.trim();
    let (text, text_from) = match page.confidence {
        BodyConfidence::Sure if !body.is_empty() => (body.to_owned(), TextFrom::Page),
        _ => {
            let mut parts: Vec<Part<'_>> = Vec::new();
            push_new(&mut parts, body, true);
            push_new(
                &mut parts,
                page.description.as_deref().unwrap_or("").trim(),
                true,
            );
            push_new(&mut parts, feed.text.trim(), false);
            let from_page = parts.iter().any(|p| p.1);
            let from_feed = parts.iter().any(|p| !p.1);
            let text_from = match (from_page, from_feed) {
                (true, false) => TextFrom::Page,
                (true, true) => TextFrom::PageAndFeed,
                (false, _) => TextFrom::Feed,
            };
            let text = parts.iter().map(|p| p.0).collect::<Vec<_>>().join("\n\n");
            (text, text_from)
        }
    };
    Chosen {
        title,
        text,
        published,
        lang: page.lang.clone().or_else(|| feed.lang.clone()),
        text_from,
    }
}

/// A part of a chosen text: the text, whether it is from the page, and its [`squeeze`]d form.
type Part<'a> = (&'a str, bool, String);

/// Adds `part` (from the page or not) unless it is empty or already said by the parts
/// before; a part that says all an earlier one does replaces it.
fn push_new<'a>(parts: &mut Vec<Part<'a>>, part: &'a str, from_page: bool) {
    let key = squeeze(part);
    if key.is_empty() || parts.iter().any(|p| p.2.contains(&key)) {
        return;
    }
    parts.retain(|p| !key.contains(&p.2));
    parts.push((part, from_page, key));
}

/// Lower case, words joined by one space: "said already" ignores spacing and case.
/// Each word as `str::to_lowercase` has it (an ASCII word without its allocation).
fn squeeze(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.is_ascii() {
            out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            out.push_str(&word.to_lowercase());
        }
    }
    out
}

/// What becomes of an article's text debt after an attempt at its page.
///
/// `tries_before` counts the failed attempts before this one (0 for a first fetch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DebtAfter {
    /// The text is final (read, or a permanent failure).
    Settled,
    /// Still owed: record this debt.
    Owed(TextDebt),
    /// This was the last try: the article stays matched on what it has.
    GivenUp { error: String },
}

/// The debt after `outcome`, given the attempts before it.
#[must_use]
pub fn debt_after(
    url: &Url,
    tries_before: u32,
    outcome: &PageOutcome,
    now: DateTime<Utc>,
) -> DebtAfter {
    let PageOutcome::Transient { error, retry_after } = outcome else {
        return DebtAfter::Settled;
    };
    let tries = tries_before + 1;
    if tries >= TEXT_TRIES {
        return DebtAfter::GivenUp {
            error: error.clone(),
        };
    }
    let wait = backoff(tries, TEXT_RETRY_BASE, TEXT_RETRY_CAP).max(retry_after.unwrap_or_default());
    let next_try_at = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
    DebtAfter::Owed(TextDebt::Owed {
        url: url.to_string(),
        tries,
        next_try_at,
        error: error.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `squeeze` as first written: every word through `str::to_lowercase`.
    fn squeeze_as_before(s: &str) -> String {
        s.split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn squeeze_is_each_word_lowercased_and_single_spaced() {
        for s in [
            "",
            "  \t\n ",
            "Niger  said\tAGADEZ\n\nToday ",
            "ΟΔΟΣ ΟΔΟΣ. Σ", // final sigma: only `str::to_lowercase` knows it
            "İstanbul Ærø ÉTÉ",
            "النيجر  أغاديز",
            "\u{a0}Niger\u{2003}x\u{3000}y",
        ] {
            assert_eq!(squeeze(s), squeeze_as_before(s), "{s:?}");
        }
        assert_eq!(squeeze(" A\t b "), "a b");
    }

    proptest::proptest! {
        #[test]
        fn squeeze_as_before_on_any_text(s in "\\PC{0,60}|[ a-zA-ZΣσςİ\t\n]{0,60}") {
            proptest::prop_assert_eq!(squeeze(&s), squeeze_as_before(&s));
        }
    }

    fn feed(text: &str) -> FeedText {
        FeedText {
            title: "Feed title".into(),
            text: text.into(),
            published: None,
            lang: None,
        }
    }

    fn page(text: &str, description: Option<&str>, confidence: BodyConfidence) -> Article {
        Article {
            title: Some("Page headline".into()),
            text: text.into(),
            description: description.map(Into::into),
            confidence,
            lang: Some("ar".into()),
            ..Article::default()
        }
    }

    #[test]
    fn choose_text_cases() {
        let brief = "أغاديز: وصول قافلة مساعدات إلى المدينة بعد إغلاق الطرق.";
        let cases: Vec<(&str, FeedText, Option<Article>, &str, TextFrom)> = vec![
            (
                "no page: the feed",
                feed("Read more."),
                None,
                "Read more.",
                TextFrom::Feed,
            ),
            (
                "a sure body replaces the teaser",
                feed("Read more."),
                Some(page("Full body.", None, BodyConfidence::Sure)),
                "Full body.",
                TextFrom::Page,
            ),
            (
                "a brief keeps its one line and the teaser adds nothing said",
                feed(brief),
                Some(page(brief, None, BodyConfidence::Unsure)),
                brief,
                TextFrom::Page,
            ),
            (
                "an unsure body gains description and feed text",
                feed("The feed's summary names Agadez."),
                Some(page(
                    "Short body.",
                    Some("A description."),
                    BodyConfidence::Unsure,
                )),
                "Short body.\n\nA description.\n\nThe feed's summary names Agadez.",
                TextFrom::PageAndFeed,
            ),
            (
                "a description already in the body is not repeated",
                feed(""),
                Some(page(
                    "Short body. More.",
                    Some("short  BODY."),
                    BodyConfidence::Unsure,
                )),
                "Short body. More.",
                TextFrom::Page,
            ),
            (
                "an empty sure body falls back to description and feed",
                feed("Teaser."),
                Some(page("", Some("The description."), BodyConfidence::Sure)),
                "The description.\n\nTeaser.",
                TextFrom::PageAndFeed,
            ),
            (
                "a feed that says all the brief does and more is the feed's text",
                feed("Short body. And the rest of the story."),
                Some(page("Short body.", None, BodyConfidence::Unsure)),
                "Short body. And the rest of the story.",
                TextFrom::Feed,
            ),
            (
                "nothing on the page: the feed",
                feed("Teaser."),
                Some(page(" ", None, BodyConfidence::Unsure)),
                "Teaser.",
                TextFrom::Feed,
            ),
        ];
        for (name, f, p, text, from) in cases {
            let c = choose_text(&f, p.as_ref());
            assert_eq!(c.text, text, "{name}");
            assert_eq!(c.text_from, from, "{name}");
            let want_title = if p.is_some() {
                "Page headline"
            } else {
                "Feed title"
            };
            assert_eq!(c.title, want_title, "{name}");
        }
    }

    fn failure(kind: FailureKind, status: Option<u16>) -> FetchError {
        FetchError {
            kind,
            status,
            message: "x".into(),
            retry_after: None,
        }
    }

    #[test]
    fn failures_sorted_into_transient_and_permanent() {
        let transient = [
            failure(FailureKind::Timeout, None),
            failure(FailureKind::Connect, None),
            failure(FailureKind::Status, Some(503)),
            failure(FailureKind::Status, Some(429)),
            failure(FailureKind::Status, Some(500)),
        ];
        for f in &transient {
            assert!(
                matches!(classify_failure(f), PageOutcome::Transient { .. }),
                "{f:?}"
            );
        }
        let permanent = [
            failure(FailureKind::Status, Some(404)),
            failure(FailureKind::Status, Some(410)),
            failure(FailureKind::Status, Some(403)),
            failure(FailureKind::WrongType, None),
            failure(FailureKind::TooLarge, None),
            failure(FailureKind::RobotsDisallowed, None),
            failure(FailureKind::OffLimits, None),
        ];
        for f in &permanent {
            assert!(
                matches!(classify_failure(f), PageOutcome::Permanent(_)),
                "{f:?}"
            );
        }
    }

    #[test]
    fn debt_is_bounded_and_backs_off() {
        let url = Url::parse("https://example.org/a").expect("valid");
        let now = Utc::now();
        let t = PageOutcome::Transient {
            error: "timed out".into(),
            retry_after: None,
        };
        let mut waits = Vec::new();
        for before in 0..TEXT_TRIES - 1 {
            match debt_after(&url, before, &t, now) {
                DebtAfter::Owed(TextDebt::Owed {
                    tries, next_try_at, ..
                }) => {
                    assert_eq!(tries, before + 1);
                    waits.push((next_try_at - now).num_seconds());
                }
                other => panic!("try {before}: {other:?}"),
            }
        }
        assert_eq!(waits, [60, 120, 240, 480, 960]);
        assert!(matches!(
            debt_after(&url, TEXT_TRIES - 1, &t, now),
            DebtAfter::GivenUp { .. }
        ));
        let later = PageOutcome::Transient {
            error: "503".into(),
            retry_after: Some(Duration::from_secs(7200)),
        };
        match debt_after(&url, 0, &later, now) {
            DebtAfter::Owed(TextDebt::Owed { next_try_at, .. }) => {
                assert_eq!((next_try_at - now).num_seconds(), 7200, "Retry-After wins");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            debt_after(&url, 3, &PageOutcome::Permanent("404".into()), now),
            DebtAfter::Settled
        );
    }
}
