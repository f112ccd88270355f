//! Character classes asked of every character of every page (word splitting, fingerprints,
//! language guesses), answered from a table for U+0000–U+07FF — Latin, Greek, Cyrillic,
//! Hebrew and Arabic, the scripts newswatch's users read most — and by the standard library
//! above it. The standard library answers ASCII at once but searches a range table for every
//! other character: on Arabic and French pages that search was a twentieth of a scan's CPU
//! (issue 21). The answers are the standard library's, to the character (a test checks).

use std::sync::OnceLock;

/// Characters below this are answered from the table.
const TABLE_END: u32 = 0x800;
const ALPHABETIC: u8 = 1;
const NUMERIC: u8 = 2;

fn table() -> &'static [u8; TABLE_END as usize] {
    static TABLE: OnceLock<[u8; TABLE_END as usize]> = OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|i| {
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\0');
            (u8::from(c.is_alphabetic()) * ALPHABETIC) | (u8::from(c.is_numeric()) * NUMERIC)
        })
    })
}

fn class(c: char) -> Option<u8> {
    let i = usize::try_from(u32::from(c)).ok()?;
    table().get(i).copied()
}

/// [`char::is_alphanumeric`].
#[inline]
#[must_use]
pub fn is_alphanumeric(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    class(c).map_or_else(|| c.is_alphanumeric(), |k| k != 0)
}

/// [`char::is_alphabetic`].
#[inline]
#[must_use]
pub fn is_alphabetic(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    class(c).map_or_else(|| c.is_alphabetic(), |k| k & ALPHABETIC != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_library_s_answers_everywhere() {
        for c in (0..=0x3_0000).filter_map(char::from_u32) {
            assert_eq!(
                is_alphanumeric(c),
                c.is_alphanumeric(),
                "U+{:04X}",
                u32::from(c)
            );
            assert_eq!(
                is_alphabetic(c),
                c.is_alphabetic(),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }
}
