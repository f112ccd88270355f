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

use std::ops::Range;

use aho_corasick::automaton::{Automaton as _, StateID};
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchKind};

use super::stream::Stream;
use super::term::{possible_starts, Rule};

/// The compiled automaton and the rule of each check.
#[derive(Debug)]
pub(crate) struct Automaton {
    nfa: NFA,
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

/// One raw automaton hit: pattern and stream range.
#[derive(Debug, Clone, Copy)]
struct Hit {
    pattern: usize,
    start: usize,
    end: usize,
}

/// Runs `aut` anchored at `at` over `text` until it dies, pushing every
/// pattern that matches starting exactly at `at`. Stepping the automaton by
/// hand (rather than through `find_overlapping`) costs a table lookup per
/// byte and nothing per call, and most words leave the automaton within a
/// byte or two.
fn walk(aut: &NFA, start: StateID, text: &[u8], at: usize, hits: &mut Vec<Hit>) {
    let mut sid = start;
    for (i, &byte) in text[at..].iter().enumerate() {
        sid = aut.next_state(Anchored::Yes, sid, byte);
        if !aut.is_special(sid) {
            continue;
        }
        if aut.is_dead(sid) {
            return;
        }
        if aut.is_match(sid) {
            let end = at + i + 1;
            for k in 0..aut.match_len(sid) {
                let pattern = aut.match_pattern(sid, k);
                // Match states also list patterns that are suffixes of the
                // path walked; only those starting at `at` count.
                if end - aut.pattern_len(pattern) == at {
                    hits.push(Hit {
                        pattern: pattern.as_usize(),
                        start: at,
                        end,
                    });
                }
            }
        }
    }
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
        // Searches are anchored at the few places a term may start inside a
        // word (see `possible_starts`). A contiguous NFA, not a DFA: it is a
        // tenth of the size (3 MB instead of 23 MB for 10,000 terms), and the
        // walks are bound by cache misses, so it is also faster.
        let nfa = aho_corasick::nfa::contiguous::Builder::new()
            .match_kind(MatchKind::Standard)
            .build(keys)?;
        Ok(Automaton {
            nfa,
            pattern_checks,
            rules,
        })
    }

    /// Heap bytes held by the automaton itself.
    pub fn memory_usage(&self) -> usize {
        self.nfa.memory_usage()
    }

    /// Every raw hit in `stream`, word by word.
    fn hits(&self, stream: &Stream) -> Vec<Hit> {
        let text = stream.text.as_bytes();
        let mut hits = Vec::new();
        let Ok(start) = self.nfa.start_state(Anchored::Yes) else {
            return hits;
        };
        for token in &stream.tokens {
            let word = &stream.text[token.s_start..token.s_start + token.len];
            for at in possible_starts(word) {
                walk(&self.nfa, start, text, token.s_start + at, &mut hits);
            }
        }
        hits
    }

    /// Calls `visit(check, stream_range)` for the occurrences of every check
    /// in `stream` whose context rule holds. The automaton runs anchored at
    /// each offset of each word where a term may start (the word start, after
    /// a proclitic chain, after an elision); hits are reported word by word. The range covers the whole text
    /// words (proclitics and suffixes included): highlighting part of an
    /// Arabic word would break its letter joining.
    pub fn scan(&self, stream: &Stream, report: Report, mut visit: impl FnMut(u32, Range<usize>)) {
        // Checks already reported (Report::First), one bit each.
        let mut seen = vec![0u64; self.rules.len().div_ceil(64)];
        let is_seen = |seen: &[u64], c: u32| seen[c as usize / 64] & (1 << (c % 64)) != 0;
        let text = stream.text.as_str();
        for m in self.hits(stream) {
            let checks = &self.pattern_checks[m.pattern];
            if report == Report::First && checks.iter().all(|&c| is_seen(&seen, c)) {
                continue;
            }
            let first = stream.tokens[stream.token_at(m.start)];
            let last = stream.tokens[stream.token_at(m.end - 1)];
            let before = &text[first.s_start..m.start];
            let word_end = last.s_start + last.len;
            let after = &text[m.end..word_end];
            let teh = || stream.is_teh_marbuta_at(word_end - 2);
            for &check in checks {
                if report == Report::First && is_seen(&seen, check) {
                    continue;
                }
                let rule = self.rules[check as usize];
                let end_ok = after.is_empty() || rule.end_ok(after, after == "ه" && teh());
                if end_ok && rule.start_ok(before) {
                    if report == Report::First {
                        seen[check as usize / 64] |= 1 << (check % 64);
                    }
                    visit(check, first.s_start..word_end);
                }
            }
        }
    }
}
