//! The token stream the automaton runs over: the normalized text's UAX #29
//! words joined by single spaces, with the way back to the original text.
//!
//! Building it is most of the cost of matching, so it is done in one pass
//! over the original text. Each whitespace-separated chunk takes a fast path
//! when it is made only of characters whose normalization and word-break
//! class are simple (ASCII letters and digits, Latin-1 letters that fold to
//! one ASCII letter, Arabic letters, harakat and digits, and the common
//! punctuation); any other chunk is normalized by [`Normalized`] and cut by
//! `unicode-segmentation`, as every chunk used to be. The result is the same
//! either way: tests compare the two on arbitrary input. Chunks can be
//! handled on their own because UAX #29 always breaks at ASCII whitespace,
//! which normalization leaves in place.

#![allow(
    clippy::inline_always,
    reason = "the per-character helpers of the hot loop; measured faster forced inline (docs/bench-matcher.md)"
)]
#![allow(
    clippy::cast_possible_truncation,
    reason = "bytes taken from a word of text are masked to their width before the cast"
)]

use std::ops::Range;
use std::sync::OnceLock;

use unicode_segmentation::UnicodeSegmentation;

use super::compact;
use crate::matcher::normalize::{
    is_arabic_identity, map_arabic, normalize, Block, Normalized, OffsetMap,
};

/// One word of the stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    /// Offset in the stream.
    pub s_start: usize,
    /// Length in bytes.
    pub len: usize,
}

/// A normalized document cut into words.
#[derive(Debug, Default)]
pub(crate) struct Stream {
    /// The normalized words joined by single spaces.
    pub text: String,
    /// The words, in order.
    pub tokens: Vec<Token>,
    /// Stream offsets → original offsets; each separator is a block standing
    /// for the whole gap between two words.
    map: OffsetMap,
    /// Stream offsets of every ه that was a ة, ascending.
    teh_marbuta: Vec<usize>,
    /// The text is in the [`compact`] spelling (only [`Stream::text_only`]).
    pub compact: bool,
}

impl Stream {
    /// Normalizes `original` and cuts it into words.
    pub fn new(original: &str) -> Stream {
        Builder::<true>::run(original, false)
    }

    /// The stream's text and teh marbuta flags alone, without the words'
    /// records and the way back to the original: enough to decide which
    /// terms occur, at less cost. `tokens` is empty and [`Stream::original_span`]
    /// must not be called. With `compact`, the text (and the flags' offsets)
    /// are in the [`compact`] spelling.
    pub fn text_only(original: &str, compact: bool) -> Stream {
        Builder::<false>::run(original, compact)
    }

    /// Byte range in the original text of the stream range `s`.
    pub fn original_span(&self, s: Range<usize>) -> Range<usize> {
        self.map.start_in_original(s.start)..self.map.end_in_original(s.end)
    }

    /// The normalized text of token `i`.
    pub fn word(&self, i: usize) -> &str {
        let t = self.tokens[i];
        &self.text[t.s_start..t.s_start + t.len]
    }

    /// Whether the character at stream offset `s` is a ه written as ة.
    pub fn is_teh_marbuta_at(&self, s: usize) -> bool {
        self.teh_marbuta.binary_search(&s).is_ok()
    }
}

/// What a word character is, for the joining rules of UAX #29.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Letter,
    Digit,
}

/// How the fast path treats one original character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Normalizes to this word character (ASCII or a two-byte Arabic letter).
    Word(char, Kind),
    /// Removed by normalization (harakat, tatweel).
    Removed,
    /// Always a word break (WB "Other"): brackets, dashes, quotes, `؟`.
    Break,
    /// Joins two letters (`MidLetter`), two digits (`MidNum`), or either
    /// (`MidNumLet`, `Single_Quote`) when it stands between them (WB6/7, WB11/12).
    Mid { letters: bool, digits: bool },
    /// Anything else: the chunk takes the slow path.
    Other,
}

/// The class of the Arabic-block character U+0600 + `i` and of the Latin-1
/// character U+00C0 + `i`, computed once from the normalization itself.
struct Tables {
    arabic: [Class; 256],
    /// For U+0600–U+067F: normalization keeps the letter as it is.
    arabic_identity: [bool; 128],
    latin: [Class; 64],
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut arabic = [Class::Other; 256];
        for (i, class) in arabic.iter_mut().enumerate() {
            let c = char::from_u32(0x0600 + u32::try_from(i).expect("< 256")).expect("BMP");
            *class = match (c, map_arabic(c)) {
                ('\u{060C}', _) => Class::Mid {
                    letters: false,
                    digits: true,
                },
                ('\u{061B}' | '\u{061F}', _) => Class::Break,
                (_, Some(None)) => Class::Removed,
                (_, Some(Some(m))) if m.is_ascii_digit() => Class::Word(m, Kind::Digit),
                (_, Some(Some(m))) if matches!(u32::from(m), 0x0621..=0x063A | 0x0641..=0x064A) => {
                    Class::Word(m, Kind::Letter)
                }
                _ => Class::Other,
            };
        }
        let mut latin = [Class::Other; 64];
        for (i, class) in latin.iter_mut().enumerate() {
            let c = char::from_u32(0xC0 + u32::try_from(i).expect("< 64")).expect("Latin-1");
            let n = normalize(&c.to_string());
            let mut chars = n.chars();
            if let (Some(m), None) = (chars.next(), chars.next()) {
                if m.is_ascii_lowercase() {
                    *class = Class::Word(m, Kind::Letter);
                }
            }
        }
        let mut arabic_identity = [false; 128];
        for (i, identity) in arabic_identity.iter_mut().enumerate() {
            let (lead, next) = if i < 64 { (0xD8, i) } else { (0xD9, i - 64) };
            let next = 0x80 + u8::try_from(next).expect("< 64");
            *identity = is_arabic_identity(lead, Some(next));
        }
        Tables {
            arabic,
            arabic_identity,
            latin,
        }
    })
}

/// The class of the character at `bytes[i..]` and its length in bytes.
fn classify(bytes: &[u8], i: usize, t: &Tables) -> (Class, usize) {
    let b = bytes[i];
    let next = bytes.get(i + 1).copied().unwrap_or(0);
    match b {
        b'a'..=b'z' | b'A'..=b'Z' => (Class::Word(char::from(b), Kind::Letter), 1),
        b'0'..=b'9' => (Class::Word(char::from(b), Kind::Digit), 1),
        b'.' | b'\'' => (
            Class::Mid {
                letters: true,
                digits: true,
            },
            1,
        ),
        b':' => (
            Class::Mid {
                letters: true,
                digits: false,
            },
            1,
        ),
        b',' | b';' => (
            Class::Mid {
                letters: false,
                digits: true,
            },
            1,
        ),
        // `_` joins words (ExtendNumLet); `"` joins Hebrew letters.
        b'_' | b'"' => (Class::Other, 1),
        _ if b.is_ascii_punctuation() => (Class::Break, 1),
        0xC3 if (0x80..0xC0).contains(&next) => (t.latin[usize::from(next - 0x80)], 2),
        0xD8..=0xDB if (0x80..0xC0).contains(&next) => {
            let i = (usize::from(b - 0xD8) << 6) | usize::from(next - 0x80);
            (t.arabic[i], 2)
        }
        0xC2 if matches!(next, 0xAB | 0xBB) => (Class::Break, 2), // « »
        0xE2 if next == 0x80 => match bytes.get(i + 2) {
            // – — “ ” …
            Some(0x93 | 0x94 | 0x9C | 0x9D | 0xA6) => (Class::Break, 3),
            // ‘ ’
            Some(0x98 | 0x99) => (
                Class::Mid {
                    letters: true,
                    digits: true,
                },
                3,
            ),
            _ => (Class::Other, 1),
        },
        _ => (Class::Other, 1),
    }
}

/// Appends the word character `c`, as its one byte if `compact` and it is
/// one of the [`compact`] letters.
#[inline]
fn push_letter(text: &mut String, c: char, compact: bool) {
    match compact.then(|| compact::byte_for(c)).flatten() {
        Some(b) => text.push(char::from(b)),
        None => text.push(c),
    }
}

/// What the stream holds for the MidLetter/MidNum character `original[o..o +
/// len]` inside a word: itself, except `‘` and `’`, which are read as `'`
/// (see [`normalize`](super::normalize::normalize)).
fn joined_mid(original: &str, o: usize, len: usize) -> &str {
    if original.as_bytes()[o] == 0xE2 {
        "'"
    } else {
        &original[o..o + len]
    }
}

/// Whether a MidLetter/MidNum character (`letters`, `digits`: which it joins)
/// that follows a word character of kind `last` joins it to the character at
/// `bytes[next..]` (UAX #29 WB6/7, WB11/12). `None` when that character is one
/// normalization removes: what follows it decides, which is the slow path's job.
fn mid_joins(
    bytes: &[u8],
    next: usize,
    last: Kind,
    letters: bool,
    digits: bool,
    t: &Tables,
) -> Option<bool> {
    if next >= bytes.len() {
        return Some(false);
    }
    match classify(bytes, next, t).0 {
        Class::Word(_, kind) => Some(
            kind == last
                && if last == Kind::Letter {
                    letters
                } else {
                    digits
                },
        ),
        Class::Removed => None,
        _ => Some(false),
    }
}

/// Length of the run at the start of `s` of ASCII letters and digits and of
/// the Arabic letters normalization keeps as they are ([`is_arabic_identity`]),
/// and the range of the run holding its upper-case ASCII letters (empty when
/// there are none, as in most words, which then need no case folding).
#[inline]
fn identity_run(s: &[u8]) -> (usize, Range<usize>) {
    let mut i = 0;
    // First and last capital seen, as (first, past last); none yet.
    let (mut first_upper, mut end_upper) = (usize::MAX, 0);
    let mut mark_upper = |from: usize, to: usize| {
        first_upper = first_upper.min(from);
        end_upper = end_upper.max(to);
    };
    loop {
        match s.get(i) {
            Some(b) if b.is_ascii_alphanumeric() => {
                let (len, upper) = ascii_run(&s[i..]);
                if !upper.is_empty() {
                    mark_upper(i + upper.start, i + upper.end);
                }
                i += len;
            }
            Some(&b @ (0xD8 | 0xD9)) if is_arabic_identity(b, s.get(i + 1).copied()) => i += 2,
            _ => {
                let upper = if first_upper < end_upper {
                    first_upper..end_upper
                } else {
                    0..0
                };
                return (i, upper);
            }
        }
    }
}

/// [`identity_run`] for ASCII letters and digits alone. Eight bytes at a
/// time: most words end within one step, instead of costing a test and a
/// branch per byte.
#[inline]
fn ascii_run(s: &[u8]) -> (usize, Range<usize>) {
    let (mut first_upper, mut end_upper) = (usize::MAX, 0);
    let mut i = 0;
    while let Some(eight) = s.get(i..i + 8) {
        let x = u64::from_le_bytes(eight.try_into().expect("eight bytes"));
        let (alnum, caps) = ascii_alnum(x);
        let other = !alnum & HIGH_BITS;
        let (len, run_bits) = if other == 0 {
            (8, u64::MAX)
        } else {
            let tz = other.trailing_zeros();
            (tz as usize / 8, (1u64 << tz) - 1)
        };
        let caps = caps & run_bits;
        if caps != 0 {
            first_upper = first_upper.min(i + caps.trailing_zeros() as usize / 8);
            end_upper = i + (63 - caps.leading_zeros() as usize) / 8 + 1;
        }
        i += len;
        if len < 8 {
            break;
        }
    }
    if s.len() < i + 8 {
        while let Some(b) = s.get(i).filter(|b| b.is_ascii_alphanumeric()) {
            if b.is_ascii_uppercase() {
                first_upper = first_upper.min(i);
                end_upper = i + 1;
            }
            i += 1;
        }
    }
    if first_upper < end_upper {
        (i, first_upper..end_upper)
    } else {
        (i, 0..0)
    }
}

/// Copies to `text` the longest run at the start of `s` (which starts with
/// an ASCII letter or digit) of whole blocks of eight bytes that are ASCII
/// letters, digits and single spaces between them, case folded, plus the
/// part of the first block that is not whole up to its last letter or digit.
/// Such bytes are the stream as they are: each space stands between two
/// words and the words need no other change. Returns the number of bytes
/// taken and the offset in `s` of the last space taken, if any.
///
/// This is most of English and French prose between its punctuation, read
/// eight bytes and often two words per step instead of one word, a copy and
/// a few branches at a time. It stops with fewer than eight bytes left; the
/// caller goes on a word at a time.
#[inline]
fn copy_ascii_words(text: &mut String, s: &[u8]) -> (usize, Option<usize>) {
    let mut took = 0;
    let mut last_space = None;
    while let Some(eight) = s.get(took..took + 8) {
        let x = u64::from_le_bytes(eight.try_into().expect("eight bytes"));
        let (alnum, caps) = ascii_alnum(x);
        let space = ascii_space(x);
        // A space right after a space is not one; byte 0 of a block follows a
        // letter or digit (the run's first byte, or the last of a whole block).
        let simple = alnum | (space & !(space << 8));
        let not_simple = !simple & HIGH_BITS;
        let len = if not_simple == 0 {
            8
        } else {
            not_simple.trailing_zeros() as usize / 8
        };
        let alnum = alnum & low_bytes(len);
        if alnum == 0 {
            break;
        }
        // Up to the last letter or digit: a trailing space may stand before
        // punctuation or a second space.
        let take = (63 - alnum.leading_zeros() as usize) / 8 + 1;
        let spaces = space & low_bytes(take);
        if spaces != 0 {
            last_space = Some(took + (63 - spaces.leading_zeros() as usize) / 8);
        }
        // Capitals are 0x41–0x5A; 0x20 more is the small letter.
        let folded = x | ((caps & low_bytes(take)) >> 2);
        push_ascii_prefix(text, folded.to_le_bytes(), take);
        took += take;
        if take < 8 {
            break;
        }
    }
    (took, last_space)
}

/// Writes to `text` the compact bytes of the run at the start of `s` of
/// [`compact`] letters, four letters (eight bytes) at a time, and returns the
/// number of bytes taken: a multiple of eight, the rest of the run is the
/// caller's.
#[inline]
fn copy_compact_letters(text: &mut String, s: &[u8]) -> usize {
    let mut took = 0;
    while let Some(eight) = s.get(took..took + 8) {
        let x = u64::from_le_bytes(eight.try_into().expect("eight bytes"));
        // Four characters of U+0600–U+067F: 0xD8 or 0xD9, then a
        // continuation byte, four times.
        if x & 0xC0FE_C0FE_C0FE_C0FE != 0x80D8_80D8_80D8_80D8 {
            break;
        }
        let mut out = [0u8; 8];
        for (i, byte) in out.iter_mut().take(4).enumerate() {
            let [lead, continuation] = ((x >> (16 * i)) as u16).to_le_bytes();
            *byte = compact::pair_byte(lead, continuation);
        }
        if out[..4].contains(&0) {
            break;
        }
        push_ascii_prefix(text, out, 4);
        took += 8;
    }
    took
}

/// The mask of the low `n` bytes of a `u64` (`n` ≤ 8).
fn low_bytes(n: usize) -> u64 {
    if n >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * n)) - 1
    }
}

/// Appends `bytes[..take]`, which is ASCII (letters, digits, spaces or the
/// [`compact`] control bytes), to `text`, with one eight-byte store instead
/// of a copy of variable length.
#[inline]
fn push_ascii_prefix(text: &mut String, bytes: [u8; 8], take: usize) {
    debug_assert!(take <= 8 && bytes[..take].is_ascii());
    // SAFETY: the bytes kept, `bytes[..take]`, are ASCII, so `text` is UTF-8
    // again once cut back to `n + take`, before anything else can read it
    // (neither call in between can unwind with the bytes in place: a failed
    // allocation aborts, a capacity overflow panics before writing).
    let v = unsafe { text.as_mut_vec() };
    let n = v.len();
    v.extend_from_slice(&bytes);
    v.truncate(n + take);
}

/// The high bit of each byte of `x` that is an ASCII space (0x20), all
/// other bits clear.
fn ascii_space(x: u64) -> u64 {
    // As in [`ascii_alnum`]: bytes strictly between 0x1F and 0x21.
    let low7 = x & (LOW_BITS * 127);
    (LOW_BITS * (127 + 0x21) - low7) & !x & (low7 + LOW_BITS * (127 - 0x1F)) & HIGH_BITS
}

const LOW_BITS: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` set where that byte is an ASCII letter
/// or digit, all other bits clear; and the same for upper-case letters.
fn ascii_alnum(x: u64) -> (u64, u64) {
    // Bytes strictly between `lo` and `hi` (both at most 128), exactly, per
    // byte ("Determine if a word has a byte between m and n", Bit Twiddling
    // Hacks); bytes of 128 and above never count.
    let between = |lo: u64, hi: u64| {
        let low7 = x & (LOW_BITS * 127);
        (LOW_BITS * (127 + hi) - low7) & !x & (low7 + LOW_BITS * (127 - lo)) & HIGH_BITS
    };
    let caps = between(u64::from(b'A') - 1, u64::from(b'Z') + 1);
    let alnum = between(u64::from(b'0') - 1, u64::from(b'9') + 1)
        | caps
        | between(u64::from(b'a') - 1, u64::from(b'z') + 1);
    (alnum, caps)
}

/// Builds a [`Stream`]; without `FULL`, only its text and teh marbuta flags.
struct Builder<const FULL: bool> {
    s: Stream,
    /// Original offset where the gap before the next word starts.
    gap_start: usize,
    /// Original offset just past the current word (and removed characters
    /// that follow it).
    word_end: usize,
    /// A word is open.
    in_word: bool,
    /// Write the [`compact`] spelling (never with `FULL`).
    compact: bool,
}

/// A whitespace-separated chunk the text-only fast path began, and where to
/// roll back to if it cannot finish it.
#[derive(Clone, Copy)]
struct Chunk {
    start: usize,
    mark: Mark,
}

/// Where the text-only fast path stands.
struct Cursor {
    /// Offset in the original text.
    o: usize,
    in_word: bool,
    /// What the last character taken was (for the UAX #29 mid-word rules).
    last: Kind,
    /// The whitespace-separated chunk it is in.
    chunk: Chunk,
}

/// Where to roll back to when a chunk leaves the fast path.
#[derive(Clone, Copy)]
struct Mark {
    text: usize,
    tokens: usize,
    blocks: usize,
    teh: usize,
    gap_start: usize,
}

impl<const FULL: bool> Builder<FULL> {
    fn run(original: &str, compact: bool) -> Stream {
        debug_assert!(
            !(FULL && compact),
            "the whole stream maps back to the original"
        );
        let mut b = Builder::<FULL> {
            s: Stream {
                text: String::with_capacity(original.len()),
                compact,
                ..Stream::default()
            },
            gap_start: 0,
            word_end: 0,
            in_word: false,
            compact,
        };
        let bytes = original.as_bytes();
        let t = tables();
        let mut i = 0;
        if !FULL {
            // The text-only fast path runs on through whitespace and says
            // where the chunk it could not take began.
            while i < bytes.len() {
                match b.fast_text(original, i, t) {
                    Ok(end) => i = end,
                    Err((chunk, stuck)) => {
                        let end = bytes[stuck..]
                            .iter()
                            .position(u8::is_ascii_whitespace)
                            .map_or(bytes.len(), |n| stuck + n);
                        b.rollback(chunk.mark);
                        b.slow_chunk(original, chunk.start, end);
                        i = end;
                    }
                }
            }
            return b.s;
        }
        while i < bytes.len() {
            if bytes[i].is_ascii_whitespace() {
                i += 1;
                continue;
            }
            let mark = b.mark();
            i = match b.fast_chunk(original, i, t) {
                Ok(end) => end,
                Err(stuck) => {
                    let end = bytes[stuck..]
                        .iter()
                        .position(u8::is_ascii_whitespace)
                        .map_or(bytes.len(), |n| stuck + n);
                    b.rollback(mark);
                    b.slow_chunk(original, i, end);
                    end
                }
            };
        }
        b.s
    }

    /// Records that stream bytes `n_start..n_end` come from original bytes
    /// `o_start..o_end` (only when building the whole stream).
    fn block(&mut self, n_start: usize, n_end: usize, o_start: usize, o_end: usize) {
        if FULL {
            self.s.map.blocks.push(Block {
                n_start,
                n_end,
                o_start,
                o_end,
            });
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            text: self.s.text.len(),
            tokens: self.s.tokens.len(),
            blocks: self.s.map.blocks.len(),
            teh: self.s.teh_marbuta.len(),
            gap_start: self.gap_start,
        }
    }

    fn rollback(&mut self, m: Mark) {
        self.s.text.truncate(m.text);
        self.s.tokens.truncate(m.tokens);
        self.s.map.blocks.truncate(m.blocks);
        self.s.teh_marbuta.truncate(m.teh);
        self.gap_start = m.gap_start;
        self.in_word = false;
    }

    /// Opens a word whose first character starts at original offset `o`.
    fn begin_word(&mut self, o: usize) {
        if self.s.text.is_empty() {
            if o > 0 {
                self.block(0, 0, 0, o);
            }
        } else {
            // The separator stands for the gap; the map already takes a
            // one-byte gap (a single ASCII space) to the right place.
            let sep = self.s.text.len();
            self.s.text.push(' ');
            if o != self.gap_start + 1 {
                self.block(sep, sep + 1, self.gap_start, o);
            }
        }
        if FULL {
            self.s.tokens.push(Token {
                s_start: self.s.text.len(),
                len: 0,
            });
        }
        self.in_word = true;
    }

    fn end_word(&mut self) {
        if self.in_word {
            if FULL {
                let len = self.s.text.len();
                let token = self.s.tokens.last_mut().expect("an open word has a token");
                token.len = len - token.s_start;
            }
            self.gap_start = self.word_end;
            self.in_word = false;
        }
    }

    /// The fast path over the chunk starting at `start`: the chunk's end, or
    /// `Err(at)` when the character at `at` is one it does not handle.
    fn fast_chunk(&mut self, original: &str, start: usize, t: &Tables) -> Result<usize, usize> {
        let bytes = original.as_bytes();
        let mut last = Kind::Letter;
        let mut o = start;
        while o < bytes.len() && !bytes[o].is_ascii_whitespace() {
            let (run, upper) = identity_run(&bytes[o..]);
            if run > 0 {
                // Letters and digits that normalize to themselves (up to
                // ASCII case), copied at once.
                if !self.in_word {
                    self.begin_word(o);
                }
                let r = o + run;
                let n = self.s.text.len();
                self.s.text.push_str(&original[o..r]);
                self.s.text[n + upper.start..n + upper.end].make_ascii_lowercase();
                last = if bytes[r - 1].is_ascii_digit() {
                    Kind::Digit
                } else {
                    Kind::Letter
                };
                o = r;
                self.word_end = r;
                continue;
            }
            let (class, len) = classify(bytes, o, t);
            match class {
                Class::Word(c, kind) => {
                    if !self.in_word {
                        self.begin_word(o);
                    }
                    let n = self.s.text.len();
                    if c.len_utf8() != len {
                        self.block(n, n + c.len_utf8(), o, o + len);
                    }
                    // ة U+0629 and ۃ U+06C3 (see `is_teh_marbuta`).
                    if matches!(
                        (bytes[o], bytes.get(o + 1)),
                        (0xD8, Some(0xA9)) | (0xDB, Some(0x83))
                    ) {
                        self.s.teh_marbuta.push(n);
                    }
                    self.s.text.push(c);
                    last = kind;
                    self.word_end = o + len;
                }
                Class::Removed => {
                    if self.in_word {
                        let n = self.s.text.len();
                        self.block(n, n, o, o + len);
                        self.word_end = o + len;
                    }
                }
                Class::Break => self.end_word(),
                Class::Mid { letters, digits } => {
                    let joins = self.in_word
                        && match mid_joins(bytes, o + len, last, letters, digits, t) {
                            Some(joins) => joins,
                            None => return Err(o),
                        };
                    if joins {
                        let mid = joined_mid(original, o, len);
                        let n = self.s.text.len();
                        if mid.len() != len {
                            self.block(n, n + mid.len(), o, o + len);
                        }
                        self.s.text.push_str(mid);
                    } else {
                        self.end_word();
                    }
                }
                Class::Other => return Err(o),
            }
            o += len;
        }
        self.end_word();
        Ok(o)
    }

    /// [`Builder::fast_chunk`] for the text alone, from `start` to the end of
    /// the text: the same words and teh marbuta flags, with no offsets to
    /// keep, which is most of the cost of deciding which terms occur.
    /// `Err((chunk, at))`: the character at `at` is one it does not handle;
    /// `chunk` is where its whitespace-separated chunk began.
    ///
    /// One helper per kind of character: Latin letters and digits
    /// ([`Builder::text_latin`]), Arabic from the table ([`Builder::text_arabic`]),
    /// whitespace, and everything else ([`Builder::text_other`]).
    fn fast_text(
        &mut self,
        original: &str,
        start: usize,
        t: &Tables,
    ) -> Result<usize, (Chunk, usize)> {
        let bytes = original.as_bytes();
        let mut c = Cursor {
            o: start,
            in_word: false,
            last: Kind::Letter,
            chunk: Chunk {
                start,
                mark: self.mark(),
            },
        };
        while let Some(&b) = bytes.get(c.o) {
            if b.is_ascii_alphanumeric() {
                self.text_latin(original, &mut c);
                continue;
            }
            if let (0xD8 | 0xD9, Some(&next @ 0x80..=0xBF)) = (b, bytes.get(c.o + 1)) {
                if self.text_arabic(original, &mut c, (b, next), t) {
                    continue;
                }
            }
            if b.is_ascii_whitespace() {
                c.in_word = false;
                c.o += 1;
                c.chunk = Chunk {
                    start: c.o,
                    mark: self.text_mark(c.chunk.mark),
                };
                continue;
            }
            self.text_other(original, &mut c, t)?;
        }
        self.in_word = false;
        Ok(c.o)
    }

    /// The separator before a word the text-only path opens.
    #[inline(always)]
    fn open_text_word(&mut self, c: &mut Cursor) {
        if !c.in_word {
            if !self.s.text.is_empty() {
                self.s.text.push(' ');
            }
            c.in_word = true;
        }
    }

    /// `mark` moved to where the text-only path stands now.
    #[inline(always)]
    fn text_mark(&self, mark: Mark) -> Mark {
        Mark {
            text: self.s.text.len(),
            teh: self.s.teh_marbuta.len(),
            ..mark
        }
    }

    /// ASCII letters and digits: most Latin text, words and single spaces eight bytes at a
    /// time, then the rest of the word.
    #[inline(always)]
    fn text_latin(&mut self, original: &str, c: &mut Cursor) {
        let bytes = original.as_bytes();
        self.open_text_word(c);
        let before = self.s.text.len();
        let (took, last_space) = copy_ascii_words(&mut self.s.text, &bytes[c.o..]);
        if let Some(sp) = last_space {
            // As at any whitespace: the next chunk starts after it.
            c.chunk = Chunk {
                start: c.o + sp + 1,
                mark: Mark {
                    text: before + sp,
                    teh: self.s.teh_marbuta.len(),
                    ..c.chunk.mark
                },
            };
        }
        c.o += took;
        if took == 0 || bytes.get(c.o).is_some_and(u8::is_ascii_alphanumeric) {
            // The rest of the word, when fewer than eight bytes are left.
            let (run, upper) = ascii_run(&bytes[c.o..]);
            let n = self.s.text.len();
            self.s.text.push_str(&original[c.o..c.o + run]);
            self.s.text[n + upper.start..n + upper.end].make_ascii_lowercase();
            c.o += run;
        }
        c.last = if bytes[c.o - 1].is_ascii_digit() {
            Kind::Digit
        } else {
            Kind::Letter
        };
    }

    /// The Arabic letters, harakat and digits, from the table, the two-byte character
    /// `pair` first; a run of letters that stay as they are is copied at once. `false`:
    /// not one the table handles (the general case takes it).
    #[inline(always)]
    fn text_arabic(&mut self, original: &str, c: &mut Cursor, pair: (u8, u8), t: &Tables) -> bool {
        let bytes = original.as_bytes();
        let index = (usize::from(pair.0 - 0xD8) << 6) | usize::from(pair.1 - 0x80);
        if t.arabic_identity[index] {
            self.open_text_word(c);
            if self.compact {
                // The same run, each letter written as its one byte (the letters kept as
                // they are are the compact ones).
                c.o += copy_compact_letters(&mut self.s.text, &bytes[c.o..]);
                while let (Some(&b0 @ (0xD8 | 0xD9)), Some(&b1 @ 0x80..=0xBF)) =
                    (bytes.get(c.o), bytes.get(c.o + 1))
                {
                    let byte = compact::pair_byte(b0, b1);
                    if byte == 0 {
                        break;
                    }
                    self.s.text.push(char::from(byte));
                    c.o += 2;
                }
            } else {
                let mut end = c.o + 2;
                while let (Some(&b0 @ (0xD8 | 0xD9)), Some(&b1 @ 0x80..=0xBF)) =
                    (bytes.get(end), bytes.get(end + 1))
                {
                    if !t.arabic_identity[(usize::from(b0 - 0xD8) << 6) | usize::from(b1 - 0x80)] {
                        break;
                    }
                    end += 2;
                }
                self.s.text.push_str(&original[c.o..end]);
                c.o = end;
            }
            c.last = Kind::Letter;
            return true;
        }
        match t.arabic[index] {
            Class::Word(ch, kind) => {
                self.open_text_word(c);
                if pair == (0xD8, 0xA9) {
                    self.s.teh_marbuta.push(self.s.text.len());
                }
                push_letter(&mut self.s.text, ch, self.compact);
                c.last = kind;
                c.o += 2;
                true
            }
            Class::Removed => {
                c.o += 2;
                true
            }
            _ => false,
        }
    }

    /// Any other character, by its class. `Err`: one the fast path does not handle.
    #[inline(always)]
    fn text_other(
        &mut self,
        original: &str,
        c: &mut Cursor,
        t: &Tables,
    ) -> Result<(), (Chunk, usize)> {
        let bytes = original.as_bytes();
        let (class, len) = classify(bytes, c.o, t);
        match class {
            Class::Word(ch, kind) => {
                self.open_text_word(c);
                if matches!(
                    (bytes[c.o], bytes.get(c.o + 1)),
                    (0xD8, Some(0xA9)) | (0xDB, Some(0x83))
                ) {
                    self.s.teh_marbuta.push(self.s.text.len());
                }
                push_letter(&mut self.s.text, ch, self.compact);
                c.last = kind;
            }
            Class::Removed => {}
            Class::Break => c.in_word = false,
            Class::Mid { letters, digits } => {
                let joins = c.in_word
                    && match mid_joins(bytes, c.o + len, c.last, letters, digits, t) {
                        Some(joins) => joins,
                        None => return Err((c.chunk, c.o)),
                    };
                if joins {
                    self.s.text.push_str(joined_mid(original, c.o, len));
                } else {
                    c.in_word = false;
                }
            }
            Class::Other => return Err((c.chunk, c.o)),
        }
        c.o += len;
        Ok(())
    }

    /// Normalizes the chunk `original[start..end]` and cuts it with the UAX #29 tables.
    fn slow_chunk(&mut self, original: &str, start: usize, end: usize) {
        let norm = Normalized::new(&original[start..end]);
        // Cursors into the chunk's blocks and teh marbuta offsets (both
        // ascending): a long chunk of many words stays linear.
        let (mut next_block, mut next_teh) = (0, 0);
        for (at, word) in norm.text.unicode_word_indices() {
            let w_end = at + word.len();
            self.begin_word(start + norm.map.start_in_original(at));
            let teh = &norm.teh_marbuta;
            while teh.get(next_teh).is_some_and(|&n| n < at) {
                next_teh += 1;
            }
            if self.compact {
                // Letter by letter, the flags at their compact offsets.
                for (i, c) in word.char_indices() {
                    if teh.get(next_teh) == Some(&(at + i)) {
                        self.s.teh_marbuta.push(self.s.text.len());
                        next_teh += 1;
                    }
                    push_letter(&mut self.s.text, c, true);
                }
                self.word_end = start + norm.map.end_in_original(w_end);
                self.end_word();
                continue;
            }
            let base = self.s.text.len();
            self.s.text.push_str(word);
            let to_stream = |n: usize| base + n - at;
            if FULL {
                let blocks = &norm.map.blocks;
                while blocks.get(next_block).is_some_and(|b| b.n_end <= at) {
                    next_block += 1;
                }
                for b in blocks[next_block..]
                    .iter()
                    .take_while(|b| b.n_start <= w_end)
                {
                    let inside = if b.n_start == b.n_end {
                        // Removed characters: inside or trailing, not leading.
                        b.n_start > at
                    } else {
                        b.n_end > at && b.n_start < w_end
                    };
                    if inside {
                        self.block(
                            to_stream(b.n_start.max(at)),
                            to_stream(b.n_end.min(w_end)),
                            start + b.o_start,
                            start + b.o_end,
                        );
                    }
                }
            }
            while let Some(&n) = teh.get(next_teh).filter(|&&n| n < w_end) {
                self.s.teh_marbuta.push(to_stream(n));
                next_teh += 1;
            }
            self.word_end = start + norm.map.end_in_original(w_end);
            self.end_word();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    /// The stream as it was built before the fast path: normalize the whole
    /// text, cut it with the UAX #29 tables. Words, their original spans and
    /// their teh marbuta flags must come out the same.
    fn reference(original: &str) -> Vec<(String, Range<usize>, Vec<usize>)> {
        let norm = Normalized::new(original);
        norm.text
            .unicode_word_indices()
            .map(|(at, w)| {
                let span = norm.start_in_original(at)..norm.end_in_original(at + w.len());
                let teh = (0..w.len())
                    .filter(|&k| norm.is_teh_marbuta_at(at + k))
                    .collect();
                (w.to_owned(), span, teh)
            })
            .collect()
    }

    fn built(original: &str) -> Vec<(String, Range<usize>, Vec<usize>)> {
        let s = Stream::new(original);
        let mut expected_text = String::new();
        let out = (0..s.tokens.len())
            .map(|i| {
                let t = s.tokens[i];
                if i > 0 {
                    expected_text.push(' ');
                }
                expected_text.push_str(s.word(i));
                let span = s.original_span(t.s_start..t.s_start + t.len);
                let teh = (0..t.len)
                    .filter(|&k| s.is_teh_marbuta_at(t.s_start + k))
                    .collect();
                (s.word(i).to_owned(), span, teh)
            })
            .collect();
        assert_eq!(s.text, expected_text, "words joined by single spaces");
        out
    }

    #[test]
    fn ascii_alnum_is_exact_on_every_byte() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                let x = u64::from(b) << (8 * pos) | 0x2020_2020_2020_2020 & !(0xFF << (8 * pos));
                let expected = if b.is_ascii_alphanumeric() {
                    0x80 << (8 * pos)
                } else {
                    0
                };
                assert_eq!(ascii_alnum(x).0, expected, "byte {b:#x} at {pos}");
                let upper = if b.is_ascii_uppercase() { expected } else { 0 };
                assert_eq!(ascii_alnum(x).1, upper, "byte {b:#x} at {pos}");
            }
        }
        assert_eq!(identity_run(b"Agadez2024 x"), (10, 0..1));
        assert_eq!(identity_run(b"agadez2024 x"), (10, 0..0));
        assert_eq!(identity_run(b"abcdefgHIjklMnop.QR"), (16, 7..13));
        assert_eq!(identity_run("abcdefghالنيجرxYz.".as_bytes()), (23, 21..22));
        assert_eq!(identity_run("abcdefgH\u{e9}".as_bytes()), (8, 7..8));
        for text in [
            "Agadez2024 x",
            "abcdefgHIjklMnop.QR",
            "aB",
            "abcdefghijK",
            "ABCDEFGH",
        ] {
            let ascii = text
                .split(|c: char| !c.is_ascii_alphanumeric())
                .next()
                .unwrap_or("");
            let (run, upper) = ascii_run(text.as_bytes());
            assert_eq!(run, ascii.len(), "{text}");
            assert_eq!((run, upper), identity_run(text.as_bytes()), "{text}");
        }
        assert_eq!(ascii_run("abcdefghالنيجر".as_bytes()).0, 8);
    }

    #[test]
    fn same_as_reference() {
        for text in [
            "Niger, Agadez. (Niamey) «النيجر» ،الساحل؛ 2012.",
            "d'Agadez l’État U.S. 3.5 1,000 États-Unis foo_bar _x_ 'quoted' a:b 1:2 a.1",
            "“withdrawal”… — Niger’s troops' base ١٢٣،٤٥ ١٢٣،x",
            "ال2اا abcعرب 12ab שלום' ש\"ב",
            "  \t\n\r ... ,,, ؟؟ ",
            "e\u{301}t\u{e9} ｎｉｇｅｒ 🇳🇪 a\u{200d}b ﻻ ﷺ x",
            "سَحْبِ القُوّاتِ، مالية وماليه ٱلنيجر ـالنيجرـ َبَ a.َb",
            "Café CAFÉ Straße İstanbul Œuvre æ",
            "\u{64e} \u{64e}ب بَ\u{64e}",
            // Latin prose taken eight bytes at a time: capitals, digits,
            // double spaces, punctuation at every offset of a block, a chunk
            // that leaves the fast path after its start was moved by a block.
            "The Pentagon said on Friday that US troops  had left Niger, and Agadez 201 too",
            "abcdefgh ijklmnop  QRSTUVWX yz,abc 1234 5678 90a.b.c d'Ivoire l’État xyz",
            "aaaaaaa bbbbbbb cccccccc ddd eeeeeeeéé fff gggggggg hhhhhhhh iiiiiiiiｎjj kk",
            "x y z w v u t s r q p o n m l k j i h g f e d c b a A B C D E F G H I J K L",
            "Niger niger NIGER Niger's 3,000 1.5 U.S. plan: a:b c;d e_f g\"h 'i' j",
            // Arabic prose: a word that leaves the fast path after a space;
            // words of one to nine letters; letters that are not compact.
            "نيجر مالي نيجرﻻ سحب القوات من النيجر ب با باب بابا بابان بابانا نيجرأنا ة",
        ] {
            assert_eq!(built(text), reference(text), "{text:?}");
            assert_eq!(text_only_differs(text), None);
        }
    }

    const PIECES: &[&str] = &[
        "Niger",
        "niger",
        "2012",
        "ال",
        "نيجر",
        "مالية",
        "أ",
        "ى",
        "ة",
        "ۃ",
        "ؤ",
        "النَّيْجَر",
        "١٢",
        "َ",
        "ـ",
        " ",
        "  ",
        "\n",
        "\t",
        ".",
        ",",
        ";",
        ":",
        "'",
        "’",
        "‘",
        "_",
        "-",
        "،",
        "؛",
        "؟",
        "«",
        "»",
        "“",
        "”",
        "…",
        "—",
        "É",
        "é",
        "ß",
        "\u{301}",
        "\u{200d}",
        "ש",
        "\"",
        "🇳",
        "ｎ",
        "ﻻ",
        "x",
        "1",
        "(",
        "\u{a0}",
    ];

    /// The whole stream's text and teh marbuta offsets in the compact spelling.
    fn compacted(whole: &Stream) -> (String, Vec<usize>) {
        let (mut text, mut teh) = (String::new(), Vec::new());
        let mut flags = whole.teh_marbuta.iter().peekable();
        for (i, c) in whole.text.char_indices() {
            if flags.next_if_eq(&&i).is_some() {
                teh.push(text.len());
            }
            match compact::byte_for(c) {
                Some(b) => text.push(char::from(b)),
                None => text.push(c),
            }
        }
        (text, teh)
    }

    /// How the text-only streams of `text` (either spelling) differ from the
    /// whole stream's text and flags, if they do.
    fn text_only_differs(text: &str) -> Option<String> {
        let whole = Stream::new(text);
        let plain = Stream::text_only(text, false);
        let compact = Stream::text_only(text, true);
        let wanted = compacted(&whole);
        if (&plain.text, &plain.teh_marbuta) != (&whole.text, &whole.teh_marbuta) {
            return Some(format!(
                "{text:?}: text only {:?} {:?}, whole {:?} {:?}",
                plain.text, plain.teh_marbuta, whole.text, whole.teh_marbuta
            ));
        }
        if (&compact.text, &compact.teh_marbuta) != (&wanted.0, &wanted.1) {
            return Some(format!(
                "{text:?}: compact {:?} {:?}, wanted {:?} {:?}",
                compact.text, compact.teh_marbuta, wanted.0, wanted.1
            ));
        }
        None
    }

    /// Pieces of Latin prose, for the eight-byte path ([`copy_ascii_words`]).
    const LATIN: &[&str] = &[
        "Niger",
        "AGADEZ",
        "a",
        "Bb",
        "withdrawal",
        "2012",
        " ",
        " ",
        " ",
        "  ",
        "\n",
        ",",
        ".",
        "'",
        "’",
        ":",
        "é",
        "ｎ",
        "\u{301}",
        "_",
        "نيجر",
        "ة",
    ];

    proptest::proptest! {
        #[test]
        fn latin_prose_same_as_reference(
            text in proptest::collection::vec(proptest::sample::select(LATIN), 0..80)
                .prop_map(|v| v.concat())
        ) {
            proptest::prop_assert_eq!(built(&text), reference(&text));
            proptest::prop_assert_eq!(text_only_differs(&text), None);
        }

        #[test]
        fn same_as_reference_on_any_text(
            text in proptest::prop_oneof![
                proptest::prelude::any::<String>(),
                proptest::collection::vec(proptest::sample::select(PIECES), 0..30)
                    .prop_map(|v| v.concat()),
            ]
        ) {
            proptest::prop_assert_eq!(built(&text), reference(&text));
            proptest::prop_assert_eq!(text_only_differs(&text), None);
        }
    }
}
