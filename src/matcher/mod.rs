//! Watchlist matching (STUB: replaced by the matcher work).

use std::ops::Range;

/// The three term groups of a watchlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TermGroup {
    Keywords,
    Require,
    Exclude,
}

/// A watchlist's terms, as written in the config.
#[derive(Debug, Clone, Default)]
pub struct WatchlistTerms {
    pub keywords: Vec<String>,
    pub require: Vec<String>,
    pub exclude: Vec<String>,
}

/// A term the matcher cannot honour.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TermError {
    pub watchlist: usize,
    pub group: TermGroup,
    pub index: usize,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Title,
    Body,
}

/// Text around a match; `highlights` are byte ranges into `text`, sorted, disjoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snippet {
    pub text: String,
    pub highlights: Vec<Range<usize>>,
}

#[derive(Debug, Clone)]
pub struct TermHit {
    /// The term as written in the config.
    pub term: String,
    pub group: TermGroup,
    pub field: Field,
    /// Byte range in the original field text.
    pub span: Range<usize>,
    pub snippet: Snippet,
}

#[derive(Debug, Clone)]
pub struct WatchlistMatch {
    pub watchlist: usize,
    pub hits: Vec<TermHit>,
    pub snippet: Snippet,
}

/// All watchlists compiled into one matcher.
#[derive(Debug)]
pub struct Matcher {}

impl Matcher {
    /// # Errors
    /// Every term that cannot be honoured.
    pub fn compile(_lists: &[WatchlistTerms]) -> Result<Matcher, Vec<TermError>> {
        Ok(Matcher {})
    }

    pub fn find(&self, _title: &str, _body: &str) -> Vec<WatchlistMatch> {
        Vec::new()
    }
}

impl Matcher {
    /// STUB
    pub fn explain(&self, _watchlist: usize, _title: &str, _body: &str) -> String {
        todo!("matcher stub")
    }
}
