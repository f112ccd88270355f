//! Watchlist matching: decides which watchlists an article matches, where,
//! and why (SPEC "Matching").
//!
//! [`Matcher::compile`] normalizes every term of every watchlist once and
//! builds one Aho-Corasick automaton over all of them ([`scan`]). For an
//! article, [`Matcher::find`] normalizes the title and body ([`normalize`]),
//! cuts them into UAX #29 words ([`stream`]), runs the automaton once per field
//! and checks each raw hit against its term's context rule ([`term`]): Arabic proclitics,
//! article and suffixes, French elision, English plurals and possessives. Hits
//! map back to exact byte spans of the original text; [`snippet`] cuts the
//! text shown in digests; [`Matcher::explain`] reports the whole decision.
//! Deciding alone ([`Matcher::matching_watchlists`], and the first step of
//! `find`) builds only the normalized text, without the way back to the
//! original, which most articles (those that match nothing) never need.
//!
//! This module does no I/O. Reading the config (and turning a [`TermError`]
//! into file:line:column) is `config`'s job; storing matches is `store`'s.

mod engine;
mod explain;
mod normalize;
mod snippet;
mod term;

use std::collections::HashMap;
use std::ops::Range;

pub use explain::{Decision, Explanation, NearMiss};
pub use normalize::normalize;
pub use snippet::SNIPPET_CHARS;

use engine::{Engine, Words};
use term::{parse_term, Rule};

/// The three term groups of a watchlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TermGroup {
    /// Any of these must match.
    Keywords,
    /// When non-empty, one of these must match as well.
    Require,
    /// None of these may match.
    Exclude,
}

impl std::fmt::Display for TermGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TermGroup::Keywords => "keywords",
            TermGroup::Require => "require",
            TermGroup::Exclude => "exclude",
        })
    }
}

/// A watchlist's terms, as written in the config.
#[derive(Debug, Clone, Default)]
pub struct WatchlistTerms {
    /// Any of these.
    pub keywords: Vec<String>,
    /// And, when non-empty, one of these.
    pub require: Vec<String>,
    /// And none of these.
    pub exclude: Vec<String>,
}

/// A term the matcher cannot honour.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TermError {
    /// Index of the watchlist in the slice given to [`Matcher::compile`].
    pub watchlist: usize,
    /// The group holding the term.
    pub group: TermGroup,
    /// Index of the term within its group.
    pub index: usize,
    /// What is wrong, naming the term.
    pub message: String,
}

/// The part of an article a hit is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The title.
    Title,
    /// The body text.
    Body,
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Field::Title => "title",
            Field::Body => "body",
        })
    }
}

/// Text around a match; `highlights` are byte ranges into `text`, sorted, disjoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snippet {
    /// About [`SNIPPET_CHARS`] characters of whole words, whitespace runs
    /// collapsed, `…` where the field text was cut.
    pub text: String,
    /// Every occurrence of a matched term inside `text`.
    pub highlights: Vec<Range<usize>>,
}

/// One term's first occurrence in an article.
#[derive(Debug, Clone)]
pub struct TermHit {
    /// The term as written in the config.
    pub term: String,
    /// The group of the term.
    pub group: TermGroup,
    /// Where it was found (the title is searched before the body).
    pub field: Field,
    /// Byte range in the original field text.
    pub span: Range<usize>,
    /// Text around the hit.
    pub snippet: Snippet,
}

/// A watchlist whose rule holds for an article.
#[derive(Debug, Clone)]
pub struct WatchlistMatch {
    /// Index of the watchlist in the slice given to [`Matcher::compile`].
    pub watchlist: usize,
    /// First occurrence of each matching keyword, then of each matching
    /// require term, in config order.
    pub hits: Vec<TermHit>,
    /// The snippet for the digest, always from the body (the digest shows the title
    /// already): around the body's first occurrence of a keyword or require term, else
    /// the body's opening words without highlights (the terms are in the title only).
    pub snippet: Snippet,
    /// Every occurrence of the watchlist's keyword and require terms in the title:
    /// byte ranges of the title, in text order (they may overlap).
    pub title_spans: Vec<Range<usize>>,
    /// Occurrences of those terms in the body.
    pub body_hits: usize,
    /// Byte offset in the body of the first of them.
    pub first_body_hit: Option<usize>,
}

#[derive(Debug)]
struct TermInfo {
    watchlist: usize,
    group: TermGroup,
    text: String,
    key: String,
    rule: Rule,
}

#[derive(Debug, Default)]
struct ListInfo {
    keywords: Vec<u32>,
    require: Vec<u32>,
    exclude: Vec<u32>,
}

/// All watchlists compiled into one matcher. Immutable; share it freely
/// (`Send + Sync`).
#[derive(Debug)]
pub struct Matcher {
    engine: Engine,
    /// For each check, the terms it decides.
    check_terms: Vec<Vec<u32>>,
    terms: Vec<TermInfo>,
    lists: Vec<ListInfo>,
}

/// First occurrence of every term that matched in an article.
pub(crate) type FirstHits = HashMap<u32, (Field, Range<usize>)>;

impl Matcher {
    /// Normalizes every term once and builds the automaton.
    ///
    /// # Errors
    /// One [`TermError`] per term that cannot be honoured: it normalizes to
    /// no word at all, or its `*` is not a single final `*` after a word.
    pub fn compile(lists: &[WatchlistTerms]) -> Result<Matcher, Vec<TermError>> {
        let mut errors = Vec::new();
        let mut terms = Vec::new();
        let mut infos = Vec::with_capacity(lists.len());
        let mut keys: Vec<String> = Vec::new();
        let mut key_ids: HashMap<String, usize> = HashMap::new();
        let mut pattern_checks: Vec<Vec<u32>> = Vec::new();
        let mut check_ids: HashMap<(usize, Rule), u32> = HashMap::new();
        let mut rules: Vec<Rule> = Vec::new();
        let mut check_terms: Vec<Vec<u32>> = Vec::new();
        for (watchlist, list) in lists.iter().enumerate() {
            let mut info = ListInfo::default();
            for (group, raw_terms) in [
                (TermGroup::Keywords, &list.keywords),
                (TermGroup::Require, &list.require),
                (TermGroup::Exclude, &list.exclude),
            ] {
                for (index, raw) in raw_terms.iter().enumerate() {
                    let parsed = match parse_term(raw) {
                        Ok(p) => p,
                        Err(message) => {
                            errors.push(TermError {
                                watchlist,
                                group,
                                index,
                                message,
                            });
                            continue;
                        }
                    };
                    let id = u32::try_from(terms.len()).expect("fewer than 2^32 terms");
                    // The key, and for a short term that keeps its article the
                    // spelling after the preposition ل (الله → لله).
                    // A phrase's other spellings (the article on its inner Arabic words,
                    // an elision on its inner Latin words) share the key's rule.
                    let spellings = std::iter::once((parsed.key.clone(), parsed.rule))
                        .chain(parsed.lam_form.clone())
                        .chain(parsed.variants.iter().map(|v| (v.clone(), parsed.rule)));
                    for (key, rule) in spellings {
                        let pattern = *key_ids.entry(key.clone()).or_insert_with(|| {
                            keys.push(key);
                            pattern_checks.push(Vec::new());
                            keys.len() - 1
                        });
                        let check = *check_ids.entry((pattern, rule)).or_insert_with(|| {
                            rules.push(rule);
                            check_terms.push(Vec::new());
                            let id =
                                u32::try_from(rules.len() - 1).expect("fewer than 2^32 checks");
                            pattern_checks[pattern].push(id);
                            id
                        });
                        check_terms[check as usize].push(id);
                    }
                    terms.push(TermInfo {
                        watchlist,
                        group,
                        text: raw.clone(),
                        key: parsed.key,
                        rule: parsed.rule,
                    });
                    match group {
                        TermGroup::Keywords => info.keywords.push(id),
                        TermGroup::Require => info.require.push(id),
                        TermGroup::Exclude => info.exclude.push(id),
                    }
                }
            }
            infos.push(info);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let engine = Engine::build(&keys, pattern_checks, rules).map_err(|e| {
            vec![TermError {
                watchlist: 0,
                group: TermGroup::Keywords,
                index: 0,
                message: format!("the watchlist terms are too many to compile: {e}"),
            }]
        })?;
        Ok(Matcher {
            engine,
            check_terms,
            terms,
            lists: infos,
        })
    }

    /// Normalizes `text` and cuts it into words, returning the number of
    /// words: the part of [`Matcher::find`] that does not depend on the terms.
    /// For benchmarks (feature `bench`).
    #[cfg(feature = "bench")]
    #[must_use]
    pub fn count_words(text: &str) -> usize {
        engine::count_words(text)
    }

    /// Normalizes `text` into the text-only stream deciding uses (no word
    /// records, no offsets) and returns its length. For benchmarks (feature `bench`).
    #[cfg(feature = "bench")]
    #[must_use]
    pub fn text_only_len(text: &str) -> usize {
        engine::text_only_len(text)
    }

    /// Number of watchlists compiled.
    #[must_use]
    pub fn watchlists(&self) -> usize {
        self.lists.len()
    }

    /// Approximate heap bytes held by the compiled matcher.
    #[must_use]
    pub fn memory_usage(&self) -> usize {
        let terms: usize = self
            .terms
            .iter()
            .map(|t| std::mem::size_of::<TermInfo>() + t.text.capacity() + t.key.capacity())
            .sum();
        let checks: usize = self.check_terms.iter().map(|c| 24 + 4 * c.capacity()).sum();
        self.engine.memory_usage() + terms + 2 * checks + self.lists.len() * 72
    }

    /// The watchlists whose rule holds for this article, ascending by index.
    #[must_use]
    pub fn find(&self, title: &str, body: &str) -> Vec<WatchlistMatch> {
        // Most articles match nothing: decide first, at a fraction of the
        // cost of the spans and snippets.
        if self.matching_watchlists(title, body).is_empty() {
            return Vec::new();
        }
        let all = self.all_hits(&Words::new(title), &Words::new(body));
        let first = all.first_hits(self);
        let matched = self.matched(first.keys().copied(), |t| first.contains_key(&t));
        let texts = [title, body];
        matched
            .into_iter()
            .map(|w| {
                let list = &self.lists[w];
                let hits: Vec<TermHit> = list
                    .keywords
                    .iter()
                    .chain(&list.require)
                    .filter_map(|&t| self.term_hit(w, t, &first, &all, texts))
                    .collect();
                let own = |(check, _): &&(u32, Range<usize>)| self.is_own(w, *check, false);
                let title_spans: Vec<Range<usize>> = all.fields[0]
                    .iter()
                    .filter(own)
                    .map(|(_, r)| r.clone())
                    .collect();
                let mut in_body = all.fields[1].iter().filter(own);
                let first_body_hit = in_body.next().map(|(_, r)| r.clone());
                let body_hits = usize::from(first_body_hit.is_some()) + in_body.count();
                let snippet = match &first_body_hit {
                    Some(span) => self.snippet(w, body, &all.fields[1], span.clone(), false),
                    None => snippet::opening(body),
                };
                WatchlistMatch {
                    watchlist: w,
                    hits,
                    snippet,
                    title_spans,
                    body_hits,
                    first_body_hit: first_body_hit.map(|r| r.start),
                }
            })
            .collect()
    }

    /// The watchlists whose rule holds for this article, ascending, without the terms'
    /// spans and snippets that [`Matcher::find`] adds: the matching cost alone.
    #[must_use]
    pub fn matching_watchlists(&self, title: &str, body: &str) -> Vec<usize> {
        // Which terms occur is all the decision needs: no words' records,
        // no way back to the original text, one bit per term.
        let mut found = vec![0u64; self.terms.len().div_ceil(64)];
        self.engine.decide(&[title, body], |check| {
            for &t in &self.check_terms[check as usize] {
                found[t as usize / 64] |= 1 << (t % 64);
            }
        });
        let mut ids = Vec::new();
        for (i, &bits) in (0u32..).zip(&found) {
            let mut rest = bits;
            while rest != 0 {
                ids.push(i * 64 + rest.trailing_zeros());
                rest &= rest - 1;
            }
        }
        self.matched(ids, |t| found[t as usize / 64] & (1 << (t % 64)) != 0)
    }

    /// The watchlists whose rule holds, given which terms were found; ascending.
    fn matched(
        &self,
        found_ids: impl IntoIterator<Item = u32>,
        found: impl Fn(u32) -> bool,
    ) -> Vec<usize> {
        let mut touched: Vec<usize> = found_ids
            .into_iter()
            .map(|t| self.terms[t as usize].watchlist)
            .collect();
        touched.sort_unstable();
        touched.dedup();
        touched
            .into_iter()
            .filter(|&w| self.decide(w, &found) == Decision::Matched)
            .collect()
    }

    /// Every accepted occurrence of every check, per field, in text order.
    fn all_hits(&self, title: &Words, body: &Words) -> AllHits {
        AllHits {
            fields: [
                self.engine.occurrences(title),
                self.engine.occurrences(body),
            ],
        }
    }

    /// Applies a watchlist's rule to the terms found.
    fn decide(&self, w: usize, found: impl Fn(u32) -> bool) -> Decision {
        let list = &self.lists[w];
        let any = |ids: &[u32]| ids.iter().any(|&t| found(t));
        if list.keywords.is_empty() || !any(&list.keywords) {
            Decision::NoKeyword
        } else if !list.require.is_empty() && !any(&list.require) {
            Decision::RequireMissing
        } else if any(&list.exclude) {
            Decision::Excluded
        } else {
            Decision::Matched
        }
    }

    fn term_hit(
        &self,
        w: usize,
        t: u32,
        first: &FirstHits,
        all: &AllHits,
        texts: [&str; 2],
    ) -> Option<TermHit> {
        let (field, span) = first.get(&t)?.clone();
        let info = &self.terms[t as usize];
        let i = usize::from(field == Field::Body);
        let with_exclude = info.group == TermGroup::Exclude;
        Some(TermHit {
            term: info.text.clone(),
            group: info.group,
            field,
            snippet: self.snippet(w, texts[i], &all.fields[i], span.clone(), with_exclude),
            span,
        })
    }

    /// Whether `check` decides a term of watchlist `w` (its keyword or require terms, and
    /// its exclude terms if asked).
    fn is_own(&self, w: usize, check: u32, with_exclude: bool) -> bool {
        self.check_terms[check as usize].iter().any(|&t| {
            let info = &self.terms[t as usize];
            info.watchlist == w && (with_exclude || info.group != TermGroup::Exclude)
        })
    }

    /// The snippet around `span`, highlighting every occurrence of the
    /// watchlist's keyword and require terms (and exclude terms if asked)
    /// that lies wholly inside it; `hits` are the field's occurrences.
    fn snippet(
        &self,
        w: usize,
        text: &str,
        hits: &[(u32, Range<usize>)],
        span: Range<usize>,
        with_exclude: bool,
    ) -> Snippet {
        let window = snippet::window(text, span.clone());
        let mut highlights = vec![span];
        let from = hits.partition_point(|(_, r)| r.start < window.start);
        for (check, r) in hits[from..]
            .iter()
            .take_while(|(_, r)| r.start < window.end)
        {
            if r.end <= window.end && self.is_own(w, *check, with_exclude) {
                highlights.push(r.clone());
            }
        }
        snippet::build(text, window, &highlights)
    }
}

/// Every accepted occurrence in an article: for the title, then the body,
/// `(check, original span)` in text order.
#[derive(Debug, Default)]
pub(crate) struct AllHits {
    fields: [Vec<(u32, Range<usize>)>; 2],
}

impl AllHits {
    /// First occurrence of each term, title before body.
    fn first_hits(&self, m: &Matcher) -> FirstHits {
        let mut first = FirstHits::new();
        for (field, hits) in [Field::Title, Field::Body].into_iter().zip(&self.fields) {
            for (check, span) in hits {
                for &t in &m.check_terms[*check as usize] {
                    first.entry(t).or_insert_with(|| (field, span.clone()));
                }
            }
        }
        first
    }
}

#[cfg(test)]
mod tests;
