//! The automaton: every term key of every watchlist in one Aho-Corasick
//! automaton, run over a token stream of the normalized text.
//!
//! The stream is the normalized text's UAX #29 words joined by single spaces,
//! so punctuation and line breaks between the words of a phrase disappear and
//! a key containing a space can only match across a word boundary. The
//! automaton runs once over the whole stream, one table lookup per byte, and
//! reports every occurrence of every key; each is then checked at both ends
//! against its term's [`Rule`]: what precedes the key inside its word
//! (proclitics, article, elision) and what follows it (suffixes, plural),
//! which is what makes matches whole-word. Every step is linear in the text;
//! each check looks at most [`MAX_BEFORE`] bytes back and to the end of the word.

#![allow(
    clippy::inline_always,
    reason = "the table lookups of the hot loop; measured faster forced inline (docs/bench-matcher.md)"
)]
#![allow(
    clippy::cast_possible_truncation,
    reason = "states, patterns and checks are counted when the automaton is built, which picks 16- or 32-bit numbers to fit them"
)]

use std::ops::Range;

use aho_corasick::automaton::{Automaton as _, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::PatternID;
use aho_corasick::{Anchored, MatchKind, StartKind};

use super::compact::{self, DECODE_MAX};
use super::stream::Stream;
use crate::matcher::term::{Rule, MAX_BEFORE};

/// The compiled automaton and the rule of each check.
#[derive(Debug)]
pub(crate) struct Automaton {
    /// aho-corasick's DFA, renumbered into our own table.
    table: Table,
    /// The keys are in the [`compact`] spelling: streams to decide on are
    /// built in it ([`Automaton::compact`]), and whole streams are read a
    /// letter at a time. Off only when the compact keys would use more than
    /// 255 distinct bytes (many scripts at once).
    compact: bool,
    /// The byte the DFA reads for each byte of the stream: the bytes that
    /// occur in keys numbered 1, 2, … in order, every other byte 0 (see
    /// [`Automaton::build`]).
    remap: [u8; 256],
    /// What match state `s` reports: `entries[state_from[s]..state_from[s +
    /// 1]]`. One flat table, so a match finds its checks with two reads
    /// instead of walking aho-corasick's list of patterns per state and a
    /// list of checks per pattern.
    state_from: Vec<u32>,
    entries: Vec<Entry>,
    /// For each check, its rule.
    rules: Vec<Rule>,
}

/// The DFA's transitions: states numbered from 0 with the match states
/// first, each state a row of `1 << shift` next states, one per symbol the
/// stream is remapped to; 16 bits a state when they fit, which halves the
/// table (and the cache lines a walk touches) against aho-corasick's 32.
#[derive(Debug)]
struct Table {
    shift: u32,
    start: usize,
    /// States below this number are match states.
    matches: usize,
    /// The longest pattern, in bytes of the keys as the DFA reads them.
    max_len: usize,
    next: Next,
}

#[derive(Debug)]
enum Next {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

/// A state number in a [`Table`].
trait StateNumber: Copy {
    fn get(self) -> usize;
}

impl StateNumber for u16 {
    #[inline(always)]
    fn get(self) -> usize {
        usize::from(self)
    }
}

impl StateNumber for u32 {
    #[inline(always)]
    fn get(self) -> usize {
        self as usize
    }
}

/// One check of one pattern that ends in a match state.
#[derive(Debug, Clone, Copy)]
struct Entry {
    check: u32,
    /// The pattern's length in the DFA (compact when the keys are).
    len: u32,
    /// The pattern's length as the whole stream spells it.
    key_len: u32,
}

/// The most states a [`Table`] numbers in 16 bits.
const NARROW: usize = 1 << 16;

/// Number of stretches of a text the automaton walks side by side.
const LANES: usize = 4;

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
        pattern_checks: &[Vec<u32>],
        rules: Vec<Rule>,
    ) -> Result<Automaton, aho_corasick::BuildError> {
        // An unanchored DFA: the whole stream is one search, and a state
        // is one row of a table; aho-corasick builds it, and it is then
        // renumbered into our own [`Table`] (6 MB for 10,000 terms, well
        // inside the 50 MB budget), match states first, so the loop only
        // leaves its fast path on a match.
        //
        // The DFA reads the stream's bytes through `remap`, which numbers
        // the bytes that occur in keys 1, 2, … and sends every other byte to
        // 0. It is one-to-one on key bytes, so a key occurs at an offset of
        // the stream exactly when its remapped bytes occur there in the
        // remapped stream; and the remapped byte is the column of the table
        // (61 for the bench's 1,000 terms, rows 64 entries wide).
        //
        // The keys are compact ([`compact`]). Keys are words of normalized
        // text, which hold no ASCII control byte but the 29 compact ones and
        // no ASCII punctuation but `' . : , ; _ "`, so they use at most
        // 44 + 29 + 115 = 188 distinct bytes and the numbers fit; should that
        // ever change, the keys stay as they are spelled.
        let spelled: Vec<String> = keys.iter().map(|k| compact::encode(k)).collect();
        if distinct_bytes(&spelled) <= 255 {
            Automaton::build_spelled(keys, &spelled, true, pattern_checks, rules, NARROW)
        } else {
            Automaton::build_spelled(keys, keys, false, pattern_checks, rules, NARROW)
        }
    }

    /// [`Automaton::build`] with the keys spelled `spelled`: compact or not;
    /// a table of up to `narrow` states has 16-bit state numbers.
    fn build_spelled(
        keys: &[String],
        spelled: &[String],
        compact: bool,
        pattern_checks: &[Vec<u32>],
        rules: Vec<Rule>,
        narrow: usize,
    ) -> Result<Automaton, aho_corasick::BuildError> {
        let remap = remap_table(spelled);
        let remapped: Vec<Vec<u8>> = spelled
            .iter()
            .map(|k| k.bytes().map(|b| remap[usize::from(b)]).collect())
            .collect();
        let dfa = aho_corasick::dfa::Builder::new()
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            .prefilter(false)
            .build(&remapped)?;
        let symbols = remap.iter().copied().max().unwrap_or(0);
        let (table, state_from, entries) = own_table(&dfa, symbols, narrow, |p, out| {
            let len = dfa.pattern_len(p) as u32;
            let key_len = keys[p.as_usize()].len() as u32;
            out.extend(pattern_checks[p.as_usize()].iter().map(|&check| Entry {
                check,
                len,
                key_len,
            }));
        });
        Ok(Automaton {
            table,
            compact,
            remap,
            state_from,
            entries,
            rules,
        })
    }

    /// Whether streams to decide on are to be built in the [`compact`]
    /// spelling ([`Stream::text_only`]).
    pub fn compact(&self) -> bool {
        self.compact
    }

    /// An empty `seen` set for [`Automaton::scan`] with [`Report::First`].
    pub fn no_checks_seen(&self) -> Vec<u64> {
        vec![0; self.rules.len().div_ceil(64)]
    }

    /// Heap bytes held by the automaton itself.
    pub fn memory_usage(&self) -> usize {
        let table = match &self.table.next {
            Next::Narrow(t) => 2 * t.capacity(),
            Next::Wide(t) => 4 * t.capacity(),
        };
        table
            + 4 * self.state_from.capacity()
            + std::mem::size_of::<Entry>() * self.entries.capacity()
    }

    /// Calls `visit(check, stream_range)` for the occurrences of every check
    /// in `stream` whose context rule holds, in the order they end. The
    /// range covers the whole text words (proclitics and suffixes included):
    /// highlighting part of an Arabic word would break its letter joining.
    /// Needs only the stream's text and teh marbuta flags
    /// ([`Stream::text_only`] is enough). With [`Report::First`], `seen`
    /// holds one bit per check already reported ([`Automaton::no_checks_seen`]),
    /// which are skipped, and gains those reported now; it may be carried
    /// from one field to the next. [`Report::All`] does not read it.
    pub fn scan(
        &self,
        stream: &Stream,
        report: Report,
        seen: &mut [u64],
        mut visit: impl FnMut(u32, Range<usize>),
    ) {
        match &self.table.next {
            Next::Narrow(next) => self.scan_with(next, stream, report, seen, &mut visit),
            Next::Wide(next) => self.scan_with(next, stream, report, seen, &mut visit),
        }
    }

    /// [`Automaton::scan`] with the table's transitions.
    fn scan_with<T: StateNumber>(
        &self,
        next: &[T],
        stream: &Stream,
        report: Report,
        seen: &mut [u64],
        visit: &mut impl FnMut(u32, Range<usize>),
    ) {
        match (self.compact, stream.compact) {
            (true, true) => self.walk::<T, true>(next, stream, report, seen, visit),
            (true, false) => self.walk_letters(next, stream, report, seen, visit),
            (false, false) => self.walk::<T, false>(next, stream, report, seen, visit),
            (false, true) => unreachable!("a compact stream for keys that are not"),
        }
    }

    /// The whole stream in the spelling of the keys, a byte at a time
    /// (`COMPACT`: both compact).
    fn walk<T: StateNumber, const COMPACT: bool>(
        &self,
        next: &[T],
        stream: &Stream,
        report: Report,
        seen: &mut [u64],
        visit: &mut impl FnMut(u32, Range<usize>),
    ) {
        let (shift, matches) = (self.table.shift, self.table.matches);
        let remap = &self.remap;
        let start = self.table.start;
        let text = stream.text.as_bytes();
        // Each step waits for the table lookup of the step before, so one
        // walk leaves the core idle on cache misses. The text is cut into
        // LANES stretches walked side by side, which overlaps their misses.
        // A stretch starts `overlap` bytes early so that its walk is in the
        // right state by its first offset, and reports only matches that
        // end inside it: every match is reported once, in end order within
        // its stretch.
        let overlap = self.table.max_len.saturating_sub(1);
        let stretch = text.len() / LANES;
        let mut lanes = [(0, 0, 0); LANES]; // (next offset, first reported end, end)
        if stretch > 4 * overlap {
            for (j, lane) in lanes.iter_mut().enumerate() {
                let from = j * stretch;
                let to = if j + 1 == LANES {
                    text.len()
                } else {
                    from + stretch
                };
                *lane = (from.saturating_sub(overlap), from + 1, to);
            }
        } else {
            lanes[0] = (0, 1, text.len());
        }
        let common = lanes.iter().map(|l| l.2 - l.0).min().unwrap_or(0);
        let [a, b, c, d] = lanes.map(|l| &text[l.0..l.0 + common]);
        let mut sids = [start; LANES];
        {
            // The four walks in locals, one statement each, so that nothing
            // but the table lookups orders them.
            let [mut s0, mut s1, mut s2, mut s3] = sids;
            macro_rules! step {
                ($sid:ident, $bytes:ident, $lane:expr, $t:ident) => {
                    $sid =
                        next[($sid << shift) | usize::from(remap[usize::from($bytes[$t])])].get();
                    if $sid < matches {
                        let end = lanes[$lane].0 + $t + 1;
                        if end >= lanes[$lane].1 {
                            self.matched::<COMPACT>(stream, $sid, end, report, seen, visit);
                        }
                    }
                };
            }
            for t in 0..common {
                step!(s0, a, 0, t);
                step!(s1, b, 1, t);
                step!(s2, c, 2, t);
                step!(s3, d, 3, t);
            }
            sids = [s0, s1, s2, s3];
        }
        for (lane, mut sid) in lanes.into_iter().zip(sids) {
            for (i, &byte) in text.iter().enumerate().take(lane.2).skip(lane.0 + common) {
                sid = next[(sid << shift) | usize::from(remap[usize::from(byte)])].get();
                if sid < matches && i + 1 >= lane.1 {
                    self.matched::<COMPACT>(stream, sid, i + 1, report, seen, visit);
                }
            }
        }
    }

    /// A stream spelled as usual for compact keys: each of the compact
    /// [`LETTERS`](compact::LETTERS) (two bytes here) is read as its one byte.
    /// Only `find` and `explain` walk such streams, and only for an article
    /// that matches, so one plain walk.
    fn walk_letters<T: StateNumber>(
        &self,
        next: &[T],
        stream: &Stream,
        report: Report,
        seen: &mut [u64],
        visit: &mut impl FnMut(u32, Range<usize>),
    ) {
        let (shift, matches) = (self.table.shift, self.table.matches);
        let mut sid = self.table.start;
        let text = stream.text.as_bytes();
        let mut o = 0;
        while let Some(&b) = text.get(o) {
            let letter = match (b, text.get(o + 1)) {
                (0xD8 | 0xD9, Some(&c)) => compact::pair_byte(b, c),
                _ => 0,
            };
            let byte = if letter == 0 {
                o += 1;
                b
            } else {
                o += 2;
                letter
            };
            sid = next[(sid << shift) | usize::from(self.remap[usize::from(byte)])].get();
            if sid < matches {
                self.matched::<false>(stream, sid, o, report, seen, visit);
            }
        }
    }

    /// Checks every key that ends at stream offset `end` in match state `sid`
    /// (`COMPACT`: of a compact stream).
    #[cold]
    fn matched<const COMPACT: bool>(
        &self,
        stream: &Stream,
        sid: usize,
        end: usize,
        report: Report,
        seen: &mut [u64],
        visit: &mut impl FnMut(u32, Range<usize>),
    ) {
        let (from, to) = (self.state_from[sid], self.state_from[sid + 1]);
        let entries = &self.entries[from as usize..to as usize];
        let is_seen = |seen: &[u64], c: u32| seen[c as usize / 64] & (1 << (c % 64)) != 0;
        if report == Report::First && entries.iter().all(|e| is_seen(seen, e.check)) {
            return;
        }
        let text = stream.text.as_bytes();
        for e in entries {
            if report == Report::First && is_seen(seen, e.check) {
                continue;
            }
            let start = end - if COMPACT { e.len } else { e.key_len } as usize;
            // The word the key starts in: at most MAX_BEFORE bytes before it
            // can be accepted, so look no further back.
            let lo = start.saturating_sub(MAX_BEFORE + 1);
            let word_start = match memchr::memrchr(b' ', &text[lo..start]) {
                Some(sp) => lo + sp + 1,
                None if lo == 0 => 0,
                None => continue,
            };
            let word_end = memchr::memchr(b' ', &text[end..]).map_or(text.len(), |n| end + n);
            let (mut before_buf, mut after_buf) = ([0; 2 * DECODE_MAX], [0; 2 * DECODE_MAX]);
            let before = &stream.text[word_start..start];
            // (Most keys start a word: nothing to decode.)
            let before = if COMPACT && !before.is_empty() {
                compact::decode(before, &mut before_buf)
            } else {
                before
            };
            // What follows the key in its word; `None` when longer than any
            // ending a rule lists (only `*` takes it).
            let after = &stream.text[end..word_end];
            let after = match (
                COMPACT && !after.is_empty(),
                after.len() <= Rule::LONGEST_END,
            ) {
                (_, false) => None,
                (true, true) => Some(compact::decode(after, &mut after_buf)),
                (false, true) => Some(after),
            };
            // The ه of an ending `ه` starts where the key ends.
            let teh = || stream.is_teh_marbuta_at(end);
            let rule = self.rules[e.check as usize];
            let end_ok = match after {
                Some(after) => after.is_empty() || rule.end_ok(after, after == "ه" && teh()),
                None => rule.takes_any_end(),
            };
            if end_ok && rule.start_ok(before) {
                if report == Report::First {
                    seen[e.check as usize / 64] |= 1 << (e.check % 64);
                }
                visit(e.check, word_start..word_end);
            }
        }
    }
}

/// aho-corasick's DFA as a [`Table`], with [`Automaton::state_from`] and its
/// entries: every state the DFA can reach from its start (reading the
/// remapped symbols `0..=symbols`), the match states numbered first;
/// `entries_of(pattern, out)` appends a pattern's entries, in aho-corasick's
/// order of patterns at each state.
fn own_table(
    dfa: &DFA,
    symbols: u8,
    narrow: usize,
    mut entries_of: impl FnMut(PatternID, &mut Vec<Entry>),
) -> (Table, Vec<u32>, Vec<Entry>) {
    let shift = (usize::from(symbols) + 1)
        .next_power_of_two()
        .trailing_zeros();
    let Ok(start) = dfa.start_state(Anchored::No) else {
        // No key at all: one state that never matches.
        let table = Table {
            shift,
            start: 0,
            matches: 0,
            max_len: 0,
            next: Next::Narrow(vec![0; 1 << shift]),
        };
        return (table, vec![0], Vec::new());
    };
    // Every reachable state, in the order found. aho-corasick's ids are
    // multiples of its row width: `id >> k` numbers them without big gaps.
    let mut position: Vec<u32> = Vec::new();
    let mut k = u32::MAX;
    let mut states = vec![start];
    let mut seen_ids: Vec<u64> = Vec::new();
    let mut mark = |sid: StateID| {
        let (word, bit) = (sid.as_usize() / 64, sid.as_usize() % 64);
        if seen_ids.len() <= word {
            seen_ids.resize(word + 1, 0);
        }
        let new = seen_ids[word] & (1 << bit) == 0;
        seen_ids[word] |= 1 << bit;
        new
    };
    mark(start);
    let mut i = 0;
    while let Some(&sid) = states.get(i) {
        i += 1;
        for symbol in 0..=symbols {
            let to = dfa.next_state(Anchored::No, sid, symbol);
            if mark(to) {
                states.push(to);
            }
        }
    }
    for s in states.iter().filter(|s| s.as_usize() != 0) {
        k = k.min(s.as_usize().trailing_zeros());
    }
    let k = if k == u32::MAX { 0 } else { k };
    let last = states.iter().map(|s| s.as_usize() >> k).max().unwrap_or(0);
    position.resize(last + 1, u32::MAX);
    for (p, s) in states.iter().enumerate() {
        position[s.as_usize() >> k] = p as u32;
    }
    // Our numbers: the match states first.
    let order: Vec<usize> = (0..states.len())
        .filter(|&p| dfa.is_match(states[p]))
        .chain((0..states.len()).filter(|&p| !dfa.is_match(states[p])))
        .collect();
    let matches = order
        .iter()
        .take_while(|&&p| dfa.is_match(states[p]))
        .count();
    let mut number = vec![0u32; states.len()];
    for (n, &p) in order.iter().enumerate() {
        number[p] = n as u32;
    }
    let number_of = |sid: StateID| number[position[sid.as_usize() >> k] as usize];
    // The rows, written straight into the table of the width that fits.
    let fill = |row: &mut dyn FnMut(usize, u32)| {
        for (n, &p) in order.iter().enumerate() {
            for symbol in 0..=symbols {
                let to = dfa.next_state(Anchored::No, states[p], symbol);
                row((n << shift) | usize::from(symbol), number_of(to));
            }
        }
    };
    let next = if states.len() <= narrow {
        let mut next = vec![0u16; states.len() << shift];
        fill(&mut |at, to| next[at] = to as u16);
        Next::Narrow(next)
    } else {
        let mut next = vec![0u32; states.len() << shift];
        fill(&mut |at, to| next[at] = to);
        Next::Wide(next)
    };
    let mut from = Vec::with_capacity(matches + 1);
    let mut entries = Vec::new();
    from.push(0);
    for &p in &order[..matches] {
        for m in 0..dfa.match_len(states[p]) {
            entries_of(dfa.match_pattern(states[p], m), &mut entries);
        }
        from.push(entries.len() as u32);
    }
    let table = Table {
        shift,
        start: number_of(start) as usize,
        matches,
        max_len: dfa.max_pattern_len(),
        next,
    };
    (table, from, entries)
}

/// The number of distinct bytes in `keys`.
fn distinct_bytes(keys: &[String]) -> usize {
    let mut used = [false; 256];
    for b in keys.iter().flat_map(|k| k.bytes()) {
        used[usize::from(b)] = true;
    }
    used.iter().filter(|&&u| u).count()
}

/// [`Automaton::remap`] for `keys`: the bytes that occur in them numbered from
/// 1 in byte order, every other byte 0. At most 255 distinct bytes can occur
/// in UTF-8 (never 0xC0, 0xC1 or 0xF5 to 0xFF), so the numbers fit; compact
/// keys are checked ([`distinct_bytes`]).
fn remap_table(keys: &[String]) -> [u8; 256] {
    let mut used = [false; 256];
    for b in keys.iter().flat_map(|k| k.bytes()) {
        used[usize::from(b)] = true;
    }
    let mut remap = [0u8; 256];
    let mut next = 0u8;
    for (to, _) in remap.iter_mut().zip(used).filter(|(_, used)| *used) {
        next += 1;
        *to = next;
    }
    remap
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::term::parse_term;

    #[test]
    fn remap_numbers_key_bytes_and_nothing_else() {
        let keys = ["niger".to_owned(), "النيجر".to_owned(), "d'i".to_owned()];
        let remap = remap_table(&keys);
        let used: std::collections::BTreeSet<u8> = keys.iter().flat_map(|k| k.bytes()).collect();
        let numbers: Vec<u8> = used.iter().map(|&b| remap[usize::from(b)]).collect();
        // One-to-one on key bytes, in byte order, from 1.
        assert_eq!(numbers, (1..=used.len() as u8).collect::<Vec<_>>());
        for b in 0..=255u8 {
            if !used.contains(&b) {
                assert_eq!(remap[usize::from(b)], 0, "byte {b:#x}");
            }
        }
    }

    /// An automaton over the keys of `terms`, one check per term.
    fn automaton(terms: &[&str]) -> (Automaton, Vec<String>) {
        let parsed: Vec<_> = terms
            .iter()
            .map(|t| parse_term(t).expect("valid term"))
            .collect();
        let keys: Vec<String> = parsed.iter().map(|p| p.key.clone()).collect();
        let n = u32::try_from(keys.len()).expect("few keys");
        let a = Automaton::build(
            &keys,
            &(0..n).map(|p| vec![p]).collect::<Vec<_>>(),
            parsed.iter().map(|p| p.rule).collect(),
        )
        .expect("builds");
        (a, keys)
    }

    /// Every hit of `stream` as (check, text of the words hit, spelled as
    /// usual), sorted.
    fn hits(a: &Automaton, stream: &Stream) -> Vec<(u32, String)> {
        let mut out = Vec::new();
        a.scan(stream, Report::All, &mut [], |check, r| {
            let words: String = stream.text[r]
                .chars()
                .map(|c| match u8::try_from(c) {
                    Ok(b @ 1..=0x1D) => compact::LETTERS[usize::from(b - 1)],
                    _ => c,
                })
                .collect();
            out.push((check, words));
        });
        out.sort();
        out
    }

    const TEXT: &str = "وقالت وزارة الدفاع إن القوات الأمريكية انسحبت من النيجر، وبالنيجر \
        قاعدتها في أغاديز. لنيجيريا ومالية ومالي ومالييها. Niger’s troops left Niger; \
        Nigeria did not. l’Agadez d'Agadez withdrawals withdrawn Mali's مالي مالي";
    const TERMS: [&str; 9] = [
        "النيجر",
        "مالي",
        "أغاديز",
        "القوات الأمريكية",
        "Niger",
        "Agadez",
        "withdraw*",
        "Mali",
        "وزارة",
    ];

    #[test]
    fn compact_and_whole_streams_give_the_same_hits() {
        let (a, _) = automaton(&TERMS);
        assert!(a.compact());
        let long = [TEXT; 40].join(" ");
        for text in [TEXT, long.as_str()] {
            let whole = hits(&a, &Stream::new(text));
            let compact = hits(&a, &Stream::text_only(text, true));
            assert!(whole.len() >= 14, "{whole:?}");
            assert_eq!(compact, whole);
            // Every term is found, and not in the words it must not match.
            for (check, words) in &whole {
                assert!(
                    !words.contains("نيجيريا") && !words.contains("Nigeria"),
                    "{words}"
                );
                assert!(!words.contains("مالية"), "{check} {words}");
            }
            let found: std::collections::BTreeSet<u32> = whole.iter().map(|h| h.0).collect();
            assert_eq!(found.len(), TERMS.len(), "{whole:?}");
        }
    }

    #[test]
    fn keys_of_every_script_stay_within_255_bytes() {
        // A character of every block of the BMP and beyond that normalizes
        // to a term: every lead and continuation byte, the compact letters.
        let terms: Vec<String> = (0x80..0x11_0000)
            .step_by(61)
            .chain(0x0621..0x064B)
            .filter_map(char::from_u32)
            .map(|c| format!("{c}{c}"))
            .filter(|t| parse_term(t).is_ok())
            .collect();
        let mut all: Vec<&str> = TERMS.to_vec();
        all.extend(terms.iter().map(String::as_str));
        let (a, keys) = automaton(&all);
        let spelled: Vec<String> = keys.iter().map(|k| compact::encode(k)).collect();
        let used = distinct_bytes(&spelled);
        assert!((150..=188).contains(&used), "{used} distinct bytes");
        assert!(a.compact());
        assert_eq!(
            hits(&a, &Stream::text_only(TEXT, true)),
            hits(&a, &Stream::new(TEXT))
        );
    }

    #[test]
    fn keys_as_spelled_are_walked_a_byte_at_a_time() {
        // The way kept for keys that would not fit compact.
        let (compact_a, keys) = automaton(&TERMS);
        let parsed: Vec<_> = TERMS
            .iter()
            .map(|t| parse_term(t).expect("valid"))
            .collect();
        let n = u32::try_from(keys.len()).expect("few keys");
        let build = |spelled: &[String], compact: bool, narrow: usize| {
            Automaton::build_spelled(
                &keys,
                spelled,
                compact,
                &(0..n).map(|p| vec![p]).collect::<Vec<_>>(),
                parsed.iter().map(|p| p.rule).collect(),
                narrow,
            )
            .expect("builds")
        };
        let a = build(&keys, false, NARROW);
        assert!(!a.compact());
        let long = [TEXT; 40].join(" ");
        for text in [TEXT, long.as_str()] {
            let whole = hits(&a, &Stream::new(text));
            assert_eq!(hits(&a, &Stream::text_only(text, false)), whole);
            assert_eq!(whole, hits(&compact_a, &Stream::new(text)));
        }
    }

    #[test]
    fn tables_with_32_bit_states_find_the_same() {
        // The width a table takes past 65,536 states, forced.
        let (narrow, keys) = automaton(&TERMS);
        assert!(matches!(narrow.table.next, Next::Narrow(_)));
        let spelled: Vec<String> = keys.iter().map(|k| compact::encode(k)).collect();
        let parsed: Vec<_> = TERMS
            .iter()
            .map(|t| parse_term(t).expect("valid"))
            .collect();
        let n = u32::try_from(keys.len()).expect("few keys");
        let wide = Automaton::build_spelled(
            &keys,
            &spelled,
            true,
            &(0..n).map(|p| vec![p]).collect::<Vec<_>>(),
            parsed.iter().map(|p| p.rule).collect(),
            0,
        )
        .expect("builds");
        assert!(matches!(wide.table.next, Next::Wide(_)));
        let long = [TEXT; 40].join(" ");
        for text in [TEXT, long.as_str()] {
            for stream in [Stream::new(text), Stream::text_only(text, true)] {
                assert_eq!(hits(&wide, &stream), hits(&narrow, &stream));
            }
        }
    }
}
