//! Values that cross layers: made by one step of the pipeline and read by others
//! (`extract`, `store`, `digest`, `cmd`), so none of them has to import another's types.
//!
//! Nothing here does I/O or holds policy; each type states its invariants.

use std::fmt;
use std::str::FromStr;

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
