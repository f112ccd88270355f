//! The compact spelling of normalized text that deciding walks: each of the
//! 29 Arabic letters normalization keeps ([`LETTERS`]) written as one byte,
//! 0x01 to 0x1D, instead of two.
//!
//! Those bytes are ASCII control characters, which never occur in the token
//! stream (UAX #29 always breaks at them, so no word holds one), so the
//! spelling is one-to-one and still UTF-8. A compact key occurs in a compact
//! stream exactly where the key occurs in the stream: every character is
//! written on its own, and a character's bytes never begin inside another's.
//! Half the bytes of Arabic text means half the automaton's steps over it and
//! Arabic keys half as deep in the automaton.

#![allow(
    clippy::inline_always,
    reason = "called once per Arabic letter in the hot loop; measured faster forced inline"
)]
#![allow(
    clippy::cast_possible_truncation,
    reason = "the compact alphabet has 29 letters: their indices fit a byte"
)]

/// The Arabic letters written as one byte: the letters normalization keeps
/// as they are ([`super::normalize::is_arabic_identity`]); the letter
/// `LETTERS[i]` is written `i + 1`.
pub(crate) const LETTERS: [char; 29] = [
    '\u{0621}', '\u{0627}', '\u{0628}', '\u{062A}', '\u{062B}', '\u{062C}', '\u{062D}', '\u{062E}',
    '\u{062F}', '\u{0630}', '\u{0631}', '\u{0632}', '\u{0633}', '\u{0634}', '\u{0635}', '\u{0636}',
    '\u{0637}', '\u{0638}', '\u{0639}', '\u{063A}', '\u{0641}', '\u{0642}', '\u{0643}', '\u{0644}',
    '\u{0645}', '\u{0646}', '\u{0647}', '\u{0648}', '\u{064A}',
];

/// The byte for the character U+0600 + `(lead & 1) << 6 | (continuation &
/// 0x3F)` (its UTF-8 bytes `lead`, `continuation`, lead 0xD8 or 0xD9), or 0
/// when it is not one of [`LETTERS`].
static PAIR_BYTE: [u8; 128] = pair_bytes();

const fn pair_bytes() -> [u8; 128] {
    let mut table = [0u8; 128];
    let mut i = 0;
    while i < LETTERS.len() {
        table[LETTERS[i] as usize - 0x0600] = i as u8 + 1;
        i += 1;
    }
    table
}

/// The byte for the character whose UTF-8 bytes are `lead` (0xD8 or 0xD9)
/// and `continuation`, or 0 when it is not one of [`LETTERS`].
#[inline(always)]
pub(crate) fn pair_byte(lead: u8, continuation: u8) -> u8 {
    PAIR_BYTE[usize::from(((lead & 1) << 6) | (continuation & 0x3F))]
}

/// The byte for `c`, if it is one of [`LETTERS`].
pub(crate) fn byte_for(c: char) -> Option<u8> {
    match u32::from(c) {
        cp @ 0x0600..=0x067F => Some(PAIR_BYTE[cp as usize - 0x0600]).filter(|&b| b != 0),
        _ => None,
    }
}

/// `text` (normalized) in the compact spelling.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match byte_for(c) {
            Some(b) => out.push(char::from(b)),
            None => out.push(c),
        }
    }
    out
}

/// The longest compact text [`decode`] takes.
pub(crate) const DECODE_MAX: usize = 16;

/// `text` (compact, at most [`DECODE_MAX`] bytes) as it is spelled in the
/// stream, in `buf`.
pub(crate) fn decode<'a>(text: &str, buf: &'a mut [u8; 2 * DECODE_MAX]) -> &'a str {
    let mut n = 0;
    for &b in text.as_bytes() {
        if (1..=LETTERS.len() as u8).contains(&b) {
            n += LETTERS[usize::from(b - 1)]
                .encode_utf8(&mut buf[n..n + 2])
                .len();
        } else {
            buf[n] = b;
            n += 1;
        }
    }
    std::str::from_utf8(&buf[..n]).expect("a character for each control byte keeps UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::normalize::{is_arabic_identity, normalize};

    #[test]
    fn the_letters_are_those_normalization_keeps() {
        for cp in 0x0600..0x0680u32 {
            let c = char::from_u32(cp).expect("BMP");
            let mut utf8 = [0u8; 2];
            let bytes = c.encode_utf8(&mut utf8).as_bytes();
            assert_eq!(
                byte_for(c).is_some(),
                is_arabic_identity(bytes[0], Some(bytes[1])),
                "{c:?}"
            );
        }
        // Every letter of the Arabic alphabet normalization writes is one of
        // them (the rarer U+063B–U+063F are kept as they are, in two bytes).
        for cp in (0x0600..0x0700u32).chain(0xFB50..0xFF00) {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            for out in normalize(&c.to_string()).chars() {
                if matches!(out, '\u{0621}'..='\u{063A}' | '\u{0641}'..='\u{064A}') {
                    assert!(byte_for(out).is_some(), "{c:?} → {out:?}");
                }
            }
        }
    }

    #[test]
    fn round_trip_and_one_byte_per_letter() {
        let text = "وبالنيجر niger's مالية 2012 ٹ ש";
        let compact = encode(text);
        // ة and ٹ are not among the letters: they keep their two bytes.
        assert_eq!(
            compact.len(),
            text.len() - 12,
            "twelve letters, a byte each"
        );
        assert_eq!(compact.bytes().filter(|b| *b < 0x20).count(), 12);
        let mut buf = [0u8; 2 * DECODE_MAX];
        for word in compact.split(' ').filter(|w| w.len() <= DECODE_MAX) {
            assert!(
                text.split(' ').any(|t| t == decode(word, &mut buf)),
                "{word:?}"
            );
        }
        assert_eq!(decode(&encode("وبال"), &mut buf), "وبال");
    }
}
