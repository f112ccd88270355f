// newswatch patch (see PATCHED.md): runs of 8 ASCII bytes are counted at once;
// everything else goes through the original `char` loop, so the result is the same.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// For 8 ASCII bytes (little-endian in `w`), the high bit of each byte that is
/// ASCII whitespace for `char::is_whitespace`: `\t` `\n` `\x0B` `\x0C` `\r` (9..=13) or ` `.
/// No byte exceeds 0x7F, so the additions below never carry into the next byte.
fn ascii_whitespace_bits(w: u64) -> u64 {
    let in_9_to_13 = (w + ONES * 0x77) & !(w + ONES * 0x72);
    let x = w ^ (ONES * 0x20);
    let space = !(((x & !HIGH_BITS) + !HIGH_BITS) | x);
    (in_9_to_13 | space) & HIGH_BITS
}

pub(crate) fn normalized_char_count(text: &str, start_whitespace: bool) -> usize {
    let bytes = text.as_bytes();
    let mut char_count = 0;
    let mut prev_was_whitespace = start_whitespace;
    let mut i = 0;

    while i < bytes.len() {
        if let Some(chunk) = bytes[i..].first_chunk::<8>() {
            let w = u64::from_le_bytes(*chunk);
            if w & HIGH_BITS == 0 {
                // 8 chars; each whitespace one that follows whitespace is not counted.
                let ws = ascii_whitespace_bits(w);
                let follows_ws = (ws << 8) | (u64::from(prev_was_whitespace) << 7);
                let skipped = ((ws & follows_ws) >> 7).wrapping_mul(ONES) >> 56;
                char_count += 8 - skipped as usize;
                prev_was_whitespace = ws >> 63 != 0;
                i += 8;
                continue;
            }
        }
        // The original loop, for at least the next 8 bytes (or the rest).
        let mut taken = 0;
        for c in text[i..].chars() {
            let is_ws = c.is_whitespace();
            if !(prev_was_whitespace && is_ws) {
                char_count += 1;
            }
            prev_was_whitespace = is_ws;
            taken += c.len_utf8();
            if taken >= 8 {
                break;
            }
        }
        i += taken;
    }
    char_count
}
