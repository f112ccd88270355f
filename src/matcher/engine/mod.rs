//! The matcher's engine, boxed: term keys and their rules in, occurrences out.
//!
//! Two calls make up its interface: [`Engine::decide`] (which checks occur in an article:
//! the cost most articles pay, since most match nothing) and [`Engine::occurrences`]
//! (every accepted occurrence with its exact span in the original text, for snippets and
//! `explain`). Everything behind them is the hot path and free to be dense: the token
//! stream built in one pass over the original text ([`stream`]), the Aho-Corasick automaton
//! walked as our own table ([`scan`]), and the one-byte spelling of Arabic letters the
//! deciding walk reads ([`compact`]). [`Words`] lets `explain` look at the words of a text
//! as the engine sees them.

mod compact;
mod scan;
mod stream;

use std::ops::Range;

use scan::{Automaton, Report};
use stream::Stream;

use super::term::Rule;

/// The compiled automaton over every term key.
#[derive(Debug)]
pub(crate) struct Engine {
    automaton: Automaton,
}

impl Engine {
    /// Compiles `keys`; `pattern_checks[p]` lists the checks of key `p` and `rules[c]` is
    /// the rule of check `c`.
    ///
    /// # Errors
    /// The keys are too many for the automaton's size limits (the message says so).
    pub fn build(
        keys: &[String],
        pattern_checks: &[Vec<u32>],
        rules: Vec<Rule>,
    ) -> Result<Engine, String> {
        Automaton::build(keys, pattern_checks, rules)
            .map(|automaton| Engine { automaton })
            .map_err(|e| e.to_string())
    }

    /// Calls `found(check)` once for every check that occurs in any of `texts` (a check
    /// found in one text is not looked for in the next).
    pub fn decide(&self, texts: &[&str], mut found: impl FnMut(u32)) {
        let mut seen = self.automaton.no_checks_seen();
        for text in texts {
            self.automaton.scan(
                &Stream::text_only(text, self.automaton.compact()),
                Report::First,
                &mut seen,
                |check, _| found(check),
            );
        }
    }

    /// Every accepted occurrence of every check in `words`' text: `(check, byte range in
    /// the original text)`, in text order. A range covers whole text words (proclitics and
    /// suffixes included).
    pub fn occurrences(&self, words: &Words) -> Vec<(u32, Range<usize>)> {
        let mut out = Vec::new();
        let stream = &words.0;
        self.automaton
            .scan(stream, Report::All, &mut [], |check, s| {
                out.push((check, stream.original_span(s)));
            });
        // The scan reports hits as they end; snippets look them up by start.
        out.sort_by_key(|(_, span)| span.start);
        out
    }

    /// Approximate heap bytes of the automaton.
    pub fn memory_usage(&self) -> usize {
        self.automaton.memory_usage()
    }
}

/// A text cut into the engine's words: normalized, UAX #29, with the way back to the text.
pub(crate) struct Words(Stream);

impl Words {
    pub fn new(text: &str) -> Words {
        Words(Stream::new(text))
    }

    /// How many words.
    pub fn len(&self) -> usize {
        self.0.tokens.len()
    }

    /// The normalized text of word `i`.
    pub fn word(&self, i: usize) -> &str {
        self.0.word(i)
    }

    /// Byte range in the original text of word `i`.
    pub fn span(&self, i: usize) -> Range<usize> {
        let t = self.0.tokens[i];
        self.0.original_span(t.s_start..t.s_start + t.len)
    }

    /// Byte range in the original text of words `i..=j`.
    pub fn span_of_words(&self, i: usize, j: usize) -> Range<usize> {
        let (a, b) = (self.0.tokens[i], self.0.tokens[j]);
        self.0.original_span(a.s_start..b.s_start + b.len)
    }

    /// Whether word `i` ends in a ه that was written ة (the feminine ending, never a
    /// pronoun).
    pub fn ends_in_teh_marbuta(&self, i: usize) -> bool {
        let t = self.0.tokens[i];
        t.len >= 2 && self.0.is_teh_marbuta_at(t.s_start + t.len - 2)
    }
}

/// Normalizes `text` and cuts it into words, returning the number of words: the part of
/// matching that does not depend on the terms.
#[cfg(feature = "bench")]
pub(crate) fn count_words(text: &str) -> usize {
    Stream::new(text).tokens.len()
}

/// Normalizes `text` into the text-only stream deciding uses and returns its length.
#[cfg(feature = "bench")]
pub(crate) fn text_only_len(text: &str) -> usize {
    Stream::text_only(text, true).text.len()
}
