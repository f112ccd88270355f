//! Text normalization shared by terms and documents (SPEC "Matching").
//!
//! Every character is compatibility-decomposed (NFKD, which covers everything
//! NFKC folds, such as Arabic presentation forms and fullwidth Latin), fully
//! case folded, decomposed again, stripped of combining marks and invisible
//! format characters, and finally mapped through the Arabic letter table
//! (hamza-on-alef → alef, ى → ي, ة → ه, Persian/Urdu forms, digits). The
//! typographic apostrophes `‘` `’` `ʼ` become `'`.
//!
//! [`Normalized`] keeps a compact map from normalized byte offsets back to the
//! original text, so a match found in normalized text keeps its exact span.

use caseless::Caseless;
use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Normalizes `s` the way terms and documents are compared.
///
/// The result is NFKD-shaped (no combining marks at all), case folded, and has
/// the Arabic letter forms of SPEC "Matching" unified. It is idempotent:
/// `normalize(&normalize(s)) == normalize(s)`.
#[must_use]
pub fn normalize(s: &str) -> String {
    Normalized::new(s).text
}

/// Length of the run at the start of `s` that normalizes to itself up to
/// ASCII case: ASCII, and the Arabic letters the table keeps as they are.
fn identity_run(s: &[u8]) -> usize {
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b.is_ascii() {
            i += 1;
        } else if is_arabic_identity(b, s.get(i + 1).copied()) {
            i += 2;
        } else {
            break;
        }
    }
    i
}

/// Whether the two bytes `b0 b1` encode an Arabic letter that the table keeps
/// as it is (U+0621, U+0627–U+0628, U+062A–U+063A, U+0641–U+0648, U+064A).
pub(crate) fn is_arabic_identity(b0: u8, b1: Option<u8>) -> bool {
    matches!(
        (b0, b1),
        (0xD8, Some(0xA1 | 0xA7 | 0xA8 | 0xAA..=0xBA)) | (0xD9, Some(0x81..=0x88 | 0x8A))
    )
}

/// What one original character turned into.
#[derive(Clone, Copy)]
struct Pushed {
    /// Number of characters appended.
    chars: usize,
    /// The last appended character is a ه that was a teh marbuta (ة).
    teh_marbuta: bool,
}

/// Appends the normalized form of `c` to `out`.
fn push_normalized(c: char, out: &mut String) -> Pushed {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return Pushed {
            chars: 1,
            teh_marbuta: false,
        };
    }
    if let Some(mapped) = map_arabic(c) {
        return match mapped {
            Some(m) => {
                out.push(m);
                Pushed {
                    chars: 1,
                    teh_marbuta: is_teh_marbuta(c),
                }
            }
            None => Pushed {
                chars: 0,
                teh_marbuta: false,
            },
        };
    }
    let mut pushed = Pushed {
        chars: 0,
        teh_marbuta: false,
    };
    if matches!(c, '\u{2018}' | '\u{2019}' | '\u{02BC}') {
        // Typographic apostrophes are read as `'`, so that a term written
        // with one matches text written with another (`Côte d'Ivoire`,
        // `Côte d’Ivoire`).
        out.push('\'');
        return Pushed {
            chars: 1,
            teh_marbuta: false,
        };
    }
    decompose_compatible(c, |d| {
        for f in std::iter::once(d).default_case_fold() {
            decompose_compatible(f, |g| {
                let kept = match map_arabic(g) {
                    Some(m) => m,
                    None if is_removed(g) => None,
                    None => Some(g),
                };
                if let Some(k) = kept {
                    out.push(k);
                    pushed.chars += 1;
                    pushed.teh_marbuta = is_teh_marbuta(g);
                }
            });
        }
    });
    pushed
}

pub(crate) fn is_teh_marbuta(c: char) -> bool {
    matches!(c, '\u{0629}' | '\u{06C3}')
}

/// Combining marks and invisible format characters (soft hyphen, joiners,
/// bidi controls, BOM) are dropped: they never distinguish two words.
fn is_removed(c: char) -> bool {
    is_combining_mark(c)
        || matches!(c,
            '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200C}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}' | '\u{FEFF}')
}

/// The Arabic-block table. `None`: not decided here (use the general path);
/// `Some(None)`: removed; `Some(Some(c))`: mapped (or kept) as `c`.
#[allow(clippy::option_option, reason = "three outcomes, private helper")]
pub(crate) fn map_arabic(c: char) -> Option<Option<char>> {
    let cp = u32::from(c);
    if !(0x0600..=0x06FF).contains(&cp) {
        return None;
    }
    let mapped = match cp {
        // آ أ إ ٱ ٲ ٳ ٵ: alef with hamza/madda/wasla → bare alef.
        0x0622 | 0x0623 | 0x0625 | 0x0671..=0x0673 | 0x0675 => Some('\u{0627}'),
        0x0624 => Some('\u{0648}'),                   // ؤ → و
        0x0626 | 0x0649 | 0x06CC => Some('\u{064A}'), // ئ ى ی → ي
        0x0629 | 0x06C1 | 0x06C3 => Some('\u{0647}'), // ة ہ ۃ → ه
        0x06A9 => Some('\u{0643}'),                   // ک → ك
        // Tatweel, harakat, tanween, shadda, sukun, superscript alef, high hamza.
        0x0640 | 0x064B..=0x065F | 0x0670 | 0x0674 => None,
        0x0660..=0x0669 => char::from_digit(cp - 0x0660, 10),
        0x06F0..=0x06F9 => char::from_digit(cp - 0x06F0, 10),
        0x0621 | 0x0627..=0x063A | 0x0641..=0x064A => Some(c),
        _ => return None,
    };
    Some(mapped)
}

/// True for letters of the Arabic script blocks (after normalization).
pub(crate) fn is_arabic(c: char) -> bool {
    matches!(u32::from(c), 0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF)
}

/// One original character whose normalized form is not a same-length copy
/// (or, in a [`super::stream::Stream`], the gap between two words).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Block {
    pub n_start: usize,
    pub n_end: usize,
    pub o_start: usize,
    pub o_end: usize,
}

/// The way from offsets in a derived text back to the original: the spans
/// that were not copied 1:1, sorted by `n_start` (at equal `n_start`, removed
/// characters come before the one that produced text). Between blocks, text
/// was copied byte for byte.
#[derive(Debug, Default)]
pub(crate) struct OffsetMap {
    pub blocks: Vec<Block>,
}

impl OffsetMap {
    /// Original offset where the derived character at `n` starts (leading
    /// removed characters such as bidi marks are skipped).
    pub fn start_in_original(&self, n: usize) -> usize {
        let i = self.blocks.partition_point(|b| b.n_start <= n);
        match i.checked_sub(1).map(|j| self.blocks[j]) {
            None => n,
            Some(b) if n < b.n_end => b.o_start,
            Some(b) => b.o_end + (n - b.n_end),
        }
    }

    /// Original offset where derived text ending at `n` ends; trailing
    /// removed characters (harakat, tatweel) stay with the word they follow.
    pub fn end_in_original(&self, n: usize) -> usize {
        let i = self
            .blocks
            .partition_point(|b| b.n_start < n || (b.n_start == n && b.n_end == n));
        match i.checked_sub(1).map(|j| self.blocks[j]) {
            None => n,
            Some(b) if n < b.n_end => b.o_end,
            Some(b) => b.o_end + (n - b.n_end),
        }
    }
}

/// A normalized text with the way back to the original.
#[derive(Debug, Default)]
pub(crate) struct Normalized {
    /// The normalized text.
    pub text: String,
    /// Normalized offsets → original offsets.
    pub map: OffsetMap,
    /// Normalized offsets of every ه that was a ة, ascending.
    pub teh_marbuta: Vec<usize>,
}

impl Normalized {
    /// Normalizes `original`, recording the offset map.
    pub fn new(original: &str) -> Normalized {
        let mut text = String::with_capacity(original.len());
        let mut blocks = Vec::new();
        let mut teh_marbuta = Vec::new();
        let bytes = original.as_bytes();
        let mut o_start = 0;
        while o_start < bytes.len() {
            // Runs that normalize to themselves are copied in bulk (ASCII
            // lower-cased): same length, so no map entry is needed.
            let run = identity_run(&bytes[o_start..]);
            if run > 0 {
                let n_start = text.len();
                text.push_str(&original[o_start..o_start + run]);
                text[n_start..].make_ascii_lowercase();
                o_start += run;
                continue;
            }
            let c = original[o_start..].chars().next().expect("not at the end");
            let n_start = text.len();
            let pushed = push_normalized(c, &mut text);
            let n_end = text.len();
            let o_end = o_start + c.len_utf8();
            if pushed.chars != 1 || n_end - n_start != o_end - o_start {
                blocks.push(Block {
                    n_start,
                    n_end,
                    o_start,
                    o_end,
                });
            }
            if pushed.teh_marbuta {
                teh_marbuta.push(n_end - '\u{0647}'.len_utf8());
            }
            o_start = o_end;
        }
        Normalized {
            text,
            map: OffsetMap { blocks },
            teh_marbuta,
        }
    }

    /// Whether the character at normalized offset `n` is a ه written as ة.
    #[cfg(test)]
    pub fn is_teh_marbuta_at(&self, n: usize) -> bool {
        self.teh_marbuta.binary_search(&n).is_ok()
    }

    /// See [`OffsetMap::start_in_original`].
    #[cfg(test)]
    pub fn start_in_original(&self, n: usize) -> usize {
        self.map.start_in_original(n)
    }

    /// See [`OffsetMap::end_in_original`].
    #[cfg(test)]
    pub fn end_in_original(&self, n: usize) -> usize {
        self.map.end_in_original(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases = [
            ("ascii_case", "NIGER", "niger"),
            ("accent", "Café", "cafe"),
            ("fullwidth", "ＮＩＧＥＲ", "niger"),
            ("sharp_s", "Straße", "strasse"),
            ("alef_madda", "آجن", "اجن"),
            ("alef_hamza_above", "أحمد", "احمد"),
            ("alef_hamza_below", "إعاذ", "اعاذ"),
            ("alef_wasla", "ٱلحمد", "الحمد"),
            ("maksura", "بنى", "بني"),
            ("teh_marbuta", "فاطمة", "فاطمه"),
            ("tatweel", "روبرـــــت", "روبرت"),
            ("harakat", "سَحْبِ القُوَّاتِ", "سحب القوات"),
            ("tanween", "ولداً", "ولدا"),
            ("superscript_alef", "هٰذا", "هذا"),
            ("farsi_yeh", "یحدث", "يحدث"),
            ("keheh", "کتاب", "كتاب"),
            ("lam_alef_form", "ﻻ", "لا"),
            ("presentation_forms", "ﺍﻟﻨﻴﺠﺮ", "النيجر"),
            ("arabic_indic_digits", "١٢٣٤", "1234"),
            ("extended_digits", "۱۲۳", "123"),
            ("bidi_marks", "\u{200F}النيجر\u{200E}", "النيجر"),
            ("soft_hyphen", "with\u{AD}drawal", "withdrawal"),
            ("dotted_capital_i", "İ", "i"),
        ];
        for (name, input, want) in cases {
            assert_eq!(normalize(input), want, "case {name}");
        }
    }

    #[test]
    fn identity_run_is_the_table_identity() {
        for cp in 0x0600..=0x06FF_u32 {
            let c = char::from_u32(cp).expect("BMP");
            let bytes = c.to_string();
            let identity = map_arabic(c) == Some(Some(c));
            assert_eq!(identity_run(bytes.as_bytes()) > 0, identity, "U+{cp:04X}");
        }
    }

    #[test]
    fn offsets_map_back() {
        let original = "Le Café سَحْبِ ﻻ x";
        let n = Normalized::new(original);
        let find = |w: &str| {
            let s = n.text.find(w).expect("word present in normalized text");
            let range = n.start_in_original(s)..n.end_in_original(s + w.len());
            &original[range]
        };
        assert_eq!(find("cafe"), "Café");
        assert_eq!(find("سحب"), "سَحْبِ");
        assert_eq!(find("لا"), "ﻻ");
        assert_eq!(find("x"), "x");
        assert_eq!(find("le"), "Le");
    }

    #[test]
    fn teh_marbuta_is_remembered() {
        let n = Normalized::new("مالية ماليه");
        let first = n.text.find('\u{0647}').expect("first heh");
        let second = n.text.rfind('\u{0647}').expect("second heh");
        assert!(n.is_teh_marbuta_at(first));
        assert!(!n.is_teh_marbuta_at(second));
    }
}
