//! The automaton: every term key of every watchlist in one Aho-Corasick
//! automaton, run over a token stream of the normalized text.
//!
//! The stream is the normalized text's UAX #29 words joined by single spaces,
//! so punctuation and line breaks between the words of a phrase disappear and
//! a key containing a space can only match across a word boundary. Each raw
//! automaton hit is then checked at both ends against its term's [`Rule`]:
//! what precedes the key inside its word (proclitics, article, elision) and
//! what follows it (suffixes, plural), which is what makes matches whole-word.
//! Every step is linear in the text; each hit is checked in constant time.

use std::collections::HashSet;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use unicode_segmentation::UnicodeSegmentation;

use super::normalize::Normalized;
use super::term::Rule;

/// One word of the stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    /// Offset in the stream.
    pub s_start: usize,
    /// Offset in the normalized text.
    pub n_start: usize,
    /// Length in bytes (same in both).
    pub len: usize,
}

/// A normalized document cut into words.
#[derive(Debug)]
pub(crate) struct Stream {
    pub norm: Normalized,
    pub text: String,
    pub tokens: Vec<Token>,
}

impl Stream {
    /// Normalizes `original` and cuts it into words.
    pub fn new(original: &str) -> Stream {
        let norm = Normalized::new(original);
        let mut text = String::with_capacity(norm.text.len());
        let mut tokens = Vec::new();
        for (n_start, word) in norm.text.unicode_word_indices() {
            if !text.is_empty() {
                text.push(' ');
            }
            tokens.push(Token {
                s_start: text.len(),
                n_start,
                len: word.len(),
            });
            text.push_str(word);
        }
        Stream { norm, text, tokens }
    }

    /// Index of the token containing stream offset `s`.
    fn token_at(&self, s: usize) -> usize {
        self.tokens
            .partition_point(|t| t.s_start <= s)
            .saturating_sub(1)
    }

    /// Byte range in the original text of the stream range `s`.
    pub fn original_span(&self, s: Range<usize>) -> Range<usize> {
        let first = self.tokens[self.token_at(s.start)];
        let last = self.tokens[self.token_at(s.end.saturating_sub(1))];
        let n_start = first.n_start + (s.start - first.s_start);
        let n_end = last.n_start + (s.end - last.s_start);
        self.norm.start_in_original(n_start)..self.norm.end_in_original(n_end)
    }

    /// The normalized text of token `i`.
    pub fn word(&self, i: usize) -> &str {
        let t = self.tokens[i];
        &self.text[t.s_start..t.s_start + t.len]
    }
}

/// The compiled automaton and the rule of each check.
#[derive(Debug)]
pub(crate) struct Automaton {
    ac: AhoCorasick,
    /// For each pattern, the checks (distinct rules) that use it.
    pattern_checks: Vec<Vec<u32>>,
    /// For each check, its rule.
    rules: Vec<Rule>,
}

/// Which occurrences a scan reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Report {
    /// Only the first occurrence of each check.
    First,
    /// Every occurrence.
    All,
}

impl Automaton {
    /// Builds the automaton. `pattern_checks[p]` lists the checks of pattern
    /// `keys[p]`; `rules[c]` is the rule of check `c`.
    ///
    /// # Errors
    /// The automaton would exceed aho-corasick's size limits.
    pub fn build(
        keys: &[String],
        pattern_checks: Vec<Vec<u32>>,
        rules: Vec<Rule>,
    ) -> Result<Automaton, aho_corasick::BuildError> {
        // Overlapping search needs standard semantics; a DFA is the fastest
        // automaton and stays within budget for tens of thousands of terms.
        let dfa = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(keys);
        let ac = match dfa {
            Ok(ac) => ac,
            Err(_) => AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(keys)?,
        };
        Ok(Automaton {
            ac,
            pattern_checks,
            rules,
        })
    }

    /// Heap bytes held by the automaton itself.
    pub fn memory_usage(&self) -> usize {
        self.ac.memory_usage()
    }

    /// Calls `visit(check, stream_range)` for the occurrences of every check
    /// in `stream` whose context rule holds. The range covers the whole text
    /// words (proclitics and suffixes included): highlighting part of an
    /// Arabic word would break its letter joining.
    pub fn scan(&self, stream: &Stream, report: Report, mut visit: impl FnMut(u32, Range<usize>)) {
        let mut seen = HashSet::new();
        let text = stream.text.as_str();
        for m in self.ac.find_overlapping_iter(text) {
            let checks = &self.pattern_checks[m.pattern().as_usize()];
            if report == Report::First && checks.iter().all(|c| seen.contains(c)) {
                continue;
            }
            let first = stream.tokens[stream.token_at(m.start())];
            let last = stream.tokens[stream.token_at(m.end() - 1)];
            let before = &text[first.s_start..m.start()];
            let word_end = last.s_start + last.len;
            let after = &text[m.end()..word_end];
            let teh = || stream.norm.is_teh_marbuta_at(last.n_start + last.len - 2);
            for &check in checks {
                if report == Report::First && seen.contains(&check) {
                    continue;
                }
                let rule = self.rules[check as usize];
                let end_ok = after.is_empty() || rule.end_ok(after, after == "ه" && teh());
                if end_ok && rule.start_ok(before) {
                    if report == Report::First {
                        seen.insert(check);
                    }
                    visit(check, first.s_start..word_end);
                }
            }
        }
    }
}
