//! The configured watchlists and the one matcher compiled from all their terms, asked by
//! name. The matcher numbers watchlists; that number stays in here.

use crate::matcher::{Explanation, Matcher, WatchlistMatch};
use crate::model::{ArticleMatch, Prominence, SourceName, WatchlistName};

use super::Watchlist;

/// Every watchlist of a config, in config order, with their compiled matcher.
///
/// Invariant: watchlist `i` of `lists` is watchlist `i` of `matcher`.
#[derive(Debug)]
pub struct Watchlists {
    lists: Vec<Watchlist>,
    matcher: Matcher,
}

impl Watchlists {
    /// `lists` with the matcher compiled from their terms, in the same order.
    pub(super) fn new(lists: Vec<Watchlist>, matcher: Matcher) -> Watchlists {
        debug_assert_eq!(lists.len(), matcher.watchlists());
        Watchlists { lists, matcher }
    }

    /// The one watchlist `list`, compiled on its own (`backtest --terms`).
    ///
    /// # Errors
    /// A term cannot be matched (the messages name it).
    pub fn single(list: Watchlist) -> Result<Watchlists, Vec<String>> {
        let matcher = Matcher::compile(std::slice::from_ref(&list.terms))
            .map_err(|errs| errs.into_iter().map(|e| e.message).collect::<Vec<_>>())?;
        Ok(Watchlists::new(vec![list], matcher))
    }

    /// The watchlist named `name`.
    #[must_use]
    pub fn get(&self, name: &WatchlistName) -> Option<&Watchlist> {
        self.lists.iter().find(|w| &w.name == name)
    }

    /// The watchlist named `name`, however the name was spelled on the command line.
    #[must_use]
    pub fn by_name(&self, name: &str) -> Option<&Watchlist> {
        self.lists.iter().find(|w| w.name == name)
    }

    /// Every watchlist, in config order.
    pub fn iter(&self) -> std::slice::Iter<'_, Watchlist> {
        self.lists.iter()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.lists.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// The matches of an article from `source` in language `lang` on every watchlist that
    /// watches that source and reads that language: the terms that matched (as written in the
    /// config, each once) and the snippet for the digest.
    #[must_use]
    pub fn find(
        &self,
        source: &SourceName,
        lang: Option<&str>,
        title: &str,
        body: &str,
    ) -> Vec<ArticleMatch> {
        self.matcher
            .find(title, body)
            .into_iter()
            .filter_map(|m| {
                let list = &self.lists[m.watchlist];
                if !list.watches(source) || !list.accepts_language(lang) {
                    return None;
                }
                let mut terms: Vec<String> = Vec::new();
                for h in &m.hits {
                    if !terms.contains(&h.term) {
                        terms.push(h.term.clone());
                    }
                }
                Some(ArticleMatch {
                    watchlist: list.name.clone(),
                    terms,
                    highlights: m
                        .snippet
                        .highlights
                        .iter()
                        .map(|r| (r.start, r.end))
                        .collect(),
                    title_highlights: m.title_spans.iter().map(|r| (r.start, r.end)).collect(),
                    prominence: prominence(&m, body),
                    snippet: m.snippet.text,
                })
            })
            .collect()
    }

    /// Where watchlist `name`'s terms sit in an article, if it matches (for `explain`'s
    /// score parts).
    #[must_use]
    pub fn prominence(&self, name: &WatchlistName, title: &str, body: &str) -> Option<Prominence> {
        let i = self.lists.iter().position(|w| &w.name == name)?;
        self.matcher
            .find(title, body)
            .into_iter()
            .find(|m| m.watchlist == i)
            .map(|m| prominence(&m, body))
    }

    /// How watchlist `name` decides on an article, term by term.
    #[must_use]
    pub fn explain(&self, name: &WatchlistName, title: &str, body: &str) -> Option<Explanation> {
        let i = self.lists.iter().position(|w| &w.name == name)?;
        Some(self.matcher.explain(i, title, body))
    }

    /// Approximate heap bytes of the compiled matcher.
    #[must_use]
    pub fn matcher_memory(&self) -> usize {
        self.matcher.memory_usage()
    }
}

impl<'a> IntoIterator for &'a Watchlists {
    type Item = &'a Watchlist;
    type IntoIter = std::slice::Iter<'a, Watchlist>;

    fn into_iter(self) -> Self::IntoIter {
        self.lists.iter()
    }
}

/// The ranking inputs of a match on an article with this `body`.
fn prominence(m: &WatchlistMatch, body: &str) -> Prominence {
    Prominence {
        in_title: !m.title_spans.is_empty(),
        first_in_body: m.first_body_hit.map(|at| {
            let permille = at.saturating_mul(1000) / body.len().max(1);
            u16::try_from(permille.min(999)).unwrap_or(999)
        }),
        occurrences: u32::try_from(m.title_spans.len() + m.body_hits).unwrap_or(u32::MAX),
    }
}
