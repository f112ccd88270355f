//! An article as a scan saw it (made by `pipeline`, recorded by `store`), as the store knows
//! it, and whether the text of its page is still owed.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::{Prominence, StorySketch, WatchlistName};

/// What an article was matched on (`scan --json` `text_from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextFrom {
    /// The article page's body (and headline).
    Page,
    /// The feed entry or listing link alone: the page was not followed, or could not be read.
    Feed,
    /// The page's text with the feed's added, because the page alone looked incomplete.
    PageAndFeed,
}

impl TextFrom {
    /// The spelling in `scan --json` and in the database.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TextFrom::Page => "page",
            TextFrom::Feed => "feed",
            TextFrom::PageAndFeed => "page+feed",
        }
    }
}

impl fmt::Display for TextFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for TextFrom {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl FromStr for TextFrom {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "page" => Ok(TextFrom::Page),
            "feed" => Ok(TextFrom::Feed),
            "page+feed" => Ok(TextFrom::PageAndFeed),
            other => Err(format!(
                "expected \"page\", \"feed\" or \"page+feed\", found {other:?}"
            )),
        }
    }
}

/// One watchlist's match on an article: what the digest shows and the store records.
#[derive(Debug, Clone)]
pub struct ArticleMatch {
    pub watchlist: WatchlistName,
    /// Terms as written in the config.
    pub terms: Vec<String>,
    /// From the body (the digest shows the title already).
    pub snippet: String,
    /// Byte ranges into `snippet`.
    pub highlights: Vec<(usize, usize)>,
    /// Byte ranges of the article's title where the terms are.
    pub title_highlights: Vec<(usize, usize)>,
    /// Where the terms sit, for ranking.
    pub prominence: Prominence,
}

/// Whether a scanned article's text is final, or its page's text is still owed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextDebt {
    /// The text was taken from the database as it is: nothing about it changes.
    Stored,
    /// The text is final: the page was read, or will not be (not followed, a permanent
    /// failure, or its tries are spent).
    Settled,
    /// The page could not be read for a transient reason: the article is recorded with
    /// what it has, and its page is tried again from `next_try_at`.
    Owed {
        /// The page to fetch.
        url: String,
        /// Failed attempts so far, this one included (≥ 1).
        tries: u32,
        next_try_at: DateTime<Utc>,
        error: String,
    },
}

/// An article as one scan saw it.
#[derive(Debug, Clone)]
pub struct ScannedArticle {
    /// Canonical URLs it was reached by, preferred first (may be empty).
    pub urls: Vec<String>,
    pub fingerprint: String,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    /// The text it was matched on.
    pub text: String,
    /// Where that text came from; `None` only for articles stored before this was kept.
    pub text_from: Option<TextFrom>,
    pub debt: TextDebt,
    /// The sketch of `text` copies of its story are recognised by; `None` for a body too
    /// short to tell (it clusters with nothing), and for a [`TextDebt::Stored`] article,
    /// whose sketch is stored already.
    pub sketch: Option<StorySketch>,
    /// Whether its matches are reported if the article is new (the backfill decision).
    pub reportable_if_new: bool,
    pub matches: Vec<ArticleMatch>,
}

/// What recording one scanned article did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedArticle {
    /// The article's canonical URL as stored (its first URL), if any.
    pub url: Option<String>,
    /// For each of the scanned article's matches, in order: queued for a digest now.
    pub new: Vec<bool>,
}

/// A page whose text is owed to a stored article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwedText {
    pub url: String,
    /// Failed attempts so far.
    pub tries: u32,
    pub next_try_at: DateTime<Utc>,
}

/// An article already in the database.
#[derive(Debug, Clone)]
pub struct KnownArticle {
    pub id: i64,
    pub url: Option<String>,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    pub text: String,
    /// `None` for articles recorded before newswatch kept it.
    pub text_from: Option<TextFrom>,
    /// Set while its page's text is owed.
    pub owed: Option<OwedText>,
    /// Seen before `keep_text`: only its keys are left, nothing to match or record.
    pub forgotten: bool,
}

impl KnownArticle {
    /// An article known only by the key of `url` (its row was reduced to keys).
    #[must_use]
    pub fn forgotten(url: &str) -> KnownArticle {
        KnownArticle {
            id: 0,
            url: Some(url.to_owned()),
            title: String::new(),
            published: None,
            lang: None,
            text: String::new(),
            text_from: None,
            owed: None,
            forgotten: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_round_trips() {
        for t in [TextFrom::Page, TextFrom::Feed, TextFrom::PageAndFeed] {
            assert_eq!(t.as_str().parse::<TextFrom>(), Ok(t));
        }
        assert!("html".parse::<TextFrom>().is_err());
    }
}
