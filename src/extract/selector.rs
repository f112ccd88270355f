//! CSS selectors a source configures (`links`, `content`), compiled once.
//!
//! The extractor parses each page once, into the `dom_query` tree the
//! readability port works on, so selectors are compiled for that tree's
//! engine. `config` validates them with [`Selector::parse`] at load, so the
//! running daemon never meets an invalid one.

use std::fmt;
use std::str::FromStr;

use dom_query::Matcher;

/// A compiled CSS selector group (`div.body, article > p`).
#[derive(Clone)]
pub struct Selector {
    css: String,
    matcher: Matcher,
}

/// Why a selector did not compile: the CSS parser's account of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SelectorError {
    /// What the parser expected and found.
    pub reason: String,
}

impl Selector {
    /// Compiles `css`.
    ///
    /// # Errors
    /// [`SelectorError`] when `css` is not a valid selector group.
    pub fn parse(css: &str) -> Result<Self, SelectorError> {
        let matcher = Matcher::new(css).map_err(|e| SelectorError {
            reason: format!("{:?}", e.kind),
        })?;
        Ok(Self {
            css: css.to_string(),
            matcher,
        })
    }

    /// The selector text as configured.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.css
    }

    pub(super) fn matcher(&self) -> &Matcher {
        &self.matcher
    }
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Selector").field(&self.css).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reports_errors() {
        let ok = Selector::parse("div.article-body, article > p").expect("valid selector");
        assert_eq!(ok.as_str(), "div.article-body, article > p");
        for bad in ["div[", "", "a >> b", "p:unknown-pseudo"] {
            let err = Selector::parse(bad).expect_err(bad);
            assert!(!err.reason.is_empty(), "{bad}: {err}");
        }
    }
}
