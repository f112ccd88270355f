//! `newswatch explain`: the whole decision for one watchlist and one article,
//! as data ([`Explanation`]) and as a human-readable report (`Display`).

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use super::engine::Words;
use super::normalize::{is_arabic, normalize};
use super::term::{strip_article, word_forms, ELIDED};
use super::{Field, Matcher, TermGroup, TermHit};

/// Near misses reported per term, at most.
const NEAR_MISSES_PER_TERM: usize = 5;

/// Why a watchlist did or did not match an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A keyword matched, the require rule holds and no exclude term matched.
    Matched,
    /// No keyword matched.
    NoKeyword,
    /// A keyword matched, but none of the require terms.
    RequireMissing,
    /// The keyword (and require) rule held, but an exclude term matched.
    Excluded,
}

/// A word that shares a term's first letters without matching it, such as
/// `Nigeria` for `Niger` or `مالية` for `مالي`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearMiss {
    /// The term as written in the config.
    pub term: String,
    /// The term's group.
    pub group: TermGroup,
    /// Where the word is.
    pub field: Field,
    /// The word as written in the article.
    pub word: String,
    /// Byte range of the word in the original field text.
    pub span: Range<usize>,
    /// For a phrase whose first words matched: which word of the text is not the
    /// phrase's next word.
    pub reason: Option<String>,
}

/// The full decision for one watchlist and one article.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// Index of the watchlist.
    pub watchlist: usize,
    /// The outcome.
    pub decision: Decision,
    /// First occurrence of every term of the watchlist that matched, all
    /// three groups, in config order (keywords, require, exclude).
    pub hits: Vec<TermHit>,
    /// Terms that did not match, with their group, in config order.
    pub unmatched: Vec<(TermGroup, String)>,
    /// Whether the watchlist has require terms at all.
    pub has_require: bool,
    /// Words close to a term that did not count as it.
    pub near_misses: Vec<NearMiss>,
    /// For each phrase hit (index into `hits`) whose words differ from the phrase's as
    /// written: which text word stood for which term word.
    pub phrase_notes: Vec<(usize, String)>,
}

impl Matcher {
    /// Explains how watchlist `watchlist` decides on this article.
    ///
    /// # Panics
    /// If `watchlist` is not an index of the compiled watchlists.
    #[must_use]
    pub fn explain(&self, watchlist: usize, title: &str, body: &str) -> Explanation {
        assert!(
            watchlist < self.lists.len(),
            "watchlist index {watchlist} out of range"
        );
        let streams = [Words::new(title), Words::new(body)];
        let all = self.all_hits(&streams[0], &streams[1]);
        let first = all.first_hits(self);
        let list = &self.lists[watchlist];
        let ids: Vec<u32> = list
            .keywords
            .iter()
            .chain(&list.require)
            .chain(&list.exclude)
            .copied()
            .collect();
        let mut hits = Vec::new();
        let mut unmatched = Vec::new();
        let mut near_misses = Vec::new();
        for &t in &ids {
            if let Some(hit) = self.term_hit(watchlist, t, &first, &all, [title, body]) {
                hits.push(hit);
            } else {
                let info = &self.terms[t as usize];
                unmatched.push((info.group, info.text.clone()));
            }
            near_misses.extend(self.near_misses(t, &streams, [title, body]));
            near_misses.extend(self.phrase_near_misses(t, &streams, [title, body]));
        }
        let phrase_notes = hits
            .iter()
            .enumerate()
            .filter_map(|(i, h)| {
                let text = if h.field == Field::Title { title } else { body };
                phrase_note(&h.term, &text[h.span.clone()]).map(|n| (i, n))
            })
            .collect();
        Explanation {
            watchlist,
            decision: self.decide(watchlist, |t| first.contains_key(&t)),
            hits,
            unmatched,
            has_require: !list.require.is_empty(),
            near_misses,
            phrase_notes,
        }
    }

    /// Places where a phrase's first words stand in the text but a later one does not:
    /// `قاعدة عسكرية` for `قاعدة جوية`.
    fn phrase_near_misses(&self, t: u32, streams: &[Words; 2], texts: [&str; 2]) -> Vec<NearMiss> {
        let info = &self.terms[t as usize];
        let words: Vec<&str> = info.key.split(' ').collect();
        if words.len() < 2 {
            return Vec::new();
        }
        let written: Vec<&str> = info.text.unicode_words().collect();
        let mut out = Vec::new();
        for (stream, (field, text)) in streams
            .iter()
            .zip([Field::Title, Field::Body].into_iter().zip(texts))
        {
            let n = stream.len();
            for i in 0..n {
                if !Self::accepts(info, stream.word(i), false) {
                    continue;
                }
                let inner_ok = |j: usize| {
                    let w = stream.word(i + j);
                    let forms = word_forms(words[j], &ELIDED);
                    if j + 1 < words.len() {
                        return forms.iter().any(|f| f == w);
                    }
                    forms.iter().any(|f| {
                        w.strip_prefix(f.as_str())
                            .is_some_and(|after| info.rule.end_ok(after, false))
                    })
                };
                let j = (1..words.len())
                    .take_while(|&j| i + j < n && inner_ok(j))
                    .count()
                    + 1;
                if j == words.len() || i + j >= n {
                    continue;
                }
                let span = stream.span_of_words(i, i + j);
                let bad = stream.span(i + j);
                let want = written.get(j).copied().unwrap_or(words[j]);
                out.push(NearMiss {
                    term: info.text.clone(),
                    group: info.group,
                    field,
                    word: text[span.clone()].to_owned(),
                    span,
                    reason: Some(format!("{:?} is not {want:?}", &text[bad])),
                });
                if out.len() == NEAR_MISSES_PER_TERM {
                    return out;
                }
            }
        }
        out
    }

    /// Words whose stem shares most of the first letters of the term's first
    /// word but that the term's rule did not accept.
    fn near_misses(&self, t: u32, streams: &[Words; 2], texts: [&str; 2]) -> Vec<NearMiss> {
        let info = &self.terms[t as usize];
        let key = info.key.split(' ').next().unwrap_or_default();
        let key_len = key.chars().count();
        if key_len < 3 {
            return Vec::new();
        }
        let need = (key_len * 3).div_ceil(4).max(3);
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (stream, (field, text)) in streams
            .iter()
            .zip([Field::Title, Field::Body].into_iter().zip(texts))
        {
            for i in 0..stream.len() {
                let word = stream.word(i);
                let teh = stream.ends_in_teh_marbuta(i);
                let close = stems(word, info.rule.arabic_start).into_iter().any(|stem| {
                    stem.chars()
                        .zip(key.chars())
                        .take_while(|(a, b)| a == b)
                        .count()
                        >= need
                }) && !Self::accepts(info, word, teh);
                if close && seen.insert(word.to_owned()) {
                    let span = stream.span(i);
                    out.push(NearMiss {
                        term: info.text.clone(),
                        group: info.group,
                        field,
                        word: text[span.clone()].to_owned(),
                        span,
                        reason: None,
                    });
                    if out.len() == NEAR_MISSES_PER_TERM {
                        return out;
                    }
                }
            }
        }
        out
    }

    /// Whether `word` is an occurrence of the term's first word;
    /// `teh`: the word ends in a ه written ة.
    fn accepts(info: &super::TermInfo, word: &str, teh: bool) -> bool {
        let key = info.key.split(' ').next().unwrap_or_default();
        let phrase = info.key.contains(' ');
        word.match_indices(key).any(|(at, _)| {
            let after = &word[at + key.len()..];
            info.rule.start_ok(&word[..at])
                && if phrase {
                    after.is_empty()
                } else {
                    info.rule.end_ok(after, after == "\u{0647}" && teh)
                }
        })
    }
}

/// For a phrase hit whose words are not the phrase's as written, which text word stood for
/// which term word (`"بالقاعدة" for "قاعدة", "الجوية" for "جوية"`); `None` for a word term
/// or a phrase found as written.
fn phrase_note(term: &str, found: &str) -> Option<String> {
    let term_words: Vec<&str> = term.trim_end_matches('*').unicode_words().collect();
    let found_words: Vec<&str> = found.unicode_words().collect();
    if term_words.len() < 2 || term_words.len() != found_words.len() {
        return None;
    }
    let pairs: Vec<String> = term_words
        .iter()
        .zip(&found_words)
        .filter(|(t, f)| normalize(t) != normalize(f))
        .map(|(t, f)| format!("{f:?} for {t:?}"))
        .collect();
    (!pairs.is_empty()).then(|| format!("each word compared as a word: {}", pairs.join(", ")))
}

/// The word itself and the word without any leading proclitic chain (Arabic)
/// or elided article (Latin).
fn stems(word: &str, arabic: bool) -> Vec<&str> {
    let mut out = vec![word];
    if arabic && word.chars().next().is_some_and(is_arabic) {
        for (i, _) in word.char_indices().take(5).skip(1) {
            out.push(&word[i..]);
        }
        out.push(strip_article(word));
    } else if let Some(i) = word.find(['\'', '\u{2019}', '\u{02BC}']) {
        let rest = &word[i..];
        let skip = rest.chars().next().map_or(0, char::len_utf8);
        out.push(&rest[skip..]);
    }
    out
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = match self.decision {
            Decision::Matched => {
                "MATCH: a keyword matched, the require rule holds, no exclude term matched"
            }
            Decision::NoKeyword => "NO MATCH: none of the keywords matched",
            Decision::RequireMissing => {
                "NO MATCH: a keyword matched, but none of the require terms"
            }
            Decision::Excluded => "NO MATCH: an exclude term matched",
        };
        writeln!(f, "{verdict}")?;
        for group in [TermGroup::Keywords, TermGroup::Require, TermGroup::Exclude] {
            let hits: Vec<&TermHit> = self.hits.iter().filter(|h| h.group == group).collect();
            let missing: Vec<&String> = self
                .unmatched
                .iter()
                .filter(|(g, _)| *g == group)
                .map(|(_, t)| t)
                .collect();
            if hits.is_empty() && missing.is_empty() {
                let why = match group {
                    TermGroup::Require => "none: any keyword is enough",
                    TermGroup::Exclude => "none",
                    TermGroup::Keywords => "none: this watchlist can never match",
                };
                writeln!(f, "\n{group}: {why}")?;
                continue;
            }
            let summary = match (group, hits.is_empty()) {
                (TermGroup::Keywords | TermGroup::Require, false) => "satisfied",
                (TermGroup::Keywords, true) => "not satisfied: no keyword matched",
                (TermGroup::Require, true) => "not satisfied: no require term matched",
                (TermGroup::Exclude, false) => "an exclude term matched: the article is left out",
                (TermGroup::Exclude, true) => "no exclude term matched",
            };
            writeln!(f, "\n{group}: {summary}")?;
            for h in hits {
                writeln!(
                    f,
                    "  + {:?} in {} at bytes {}..{}",
                    h.term, h.field, h.span.start, h.span.end
                )?;
                let index = self.hits.iter().position(|x| std::ptr::eq(x, h));
                if let Some((_, note)) = self.phrase_notes.iter().find(|(i, _)| Some(*i) == index) {
                    writeln!(f, "      ({note})")?;
                }
                writeln!(f, "      {}", marked(&h.snippet))?;
            }
            for t in missing {
                writeln!(f, "  - {t:?}: no match")?;
            }
        }
        if !self.near_misses.is_empty() {
            writeln!(
                f,
                "\nnear misses (share a term's first letters, but are other words):"
            )?;
            for m in &self.near_misses {
                write!(
                    f,
                    "  ~ {:?} in {} at bytes {}..{} is not {:?} ({})",
                    m.word, m.field, m.span.start, m.span.end, m.term, m.group
                )?;
                match &m.reason {
                    Some(r) => writeln!(f, ": {r}")?,
                    None => writeln!(f)?,
                }
            }
        }
        Ok(())
    }
}

/// The snippet with `[` `]` around each highlight.
fn marked(s: &super::Snippet) -> String {
    let mut out = String::with_capacity(s.text.len() + 4 * s.highlights.len());
    let mut at = 0;
    for h in &s.highlights {
        out.push_str(&s.text[at..h.start]);
        out.push('[');
        out.push_str(&s.text[h.clone()]);
        out.push(']');
        at = h.end;
    }
    out.push_str(&s.text[at..]);
    out
}
