//! Article identity: the canonical URL and the content fingerprint.
//!
//! SPEC "State and delivery guarantees": an article is its canonical URL and,
//! failing that, a fingerprint of its normalized title and body, so the same
//! story reached through two feeds or two URLs is one article. `store` keys
//! articles with these; nothing here touches the database.

use sha2::{Digest, Sha256};
use unicode_normalization::{IsNormalized, UnicodeNormalization};
use url::Url;

/// Query parameters that only track the reader; they never change the page.
const TRACKING_PARAMS: &[&str] = &["fbclid", "gclid"];

/// Canonical form of an article URL: lower-case scheme and host, no fragment,
/// no `utm_*`, `fbclid` or `gclid` query parameters. Other parameters keep
/// their order and spelling; a query left empty is dropped with its `?`.
#[must_use]
pub fn canonical_url(url: &Url) -> Url {
    // `Url` already lower-cases the scheme and the host of http(s) URLs.
    let mut out = url.clone();
    out.set_fragment(None);
    if let Some(query) = url.query() {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.is_empty() && !is_tracking(pair))
            .collect();
        if kept.is_empty() {
            out.set_query(None);
        } else {
            out.set_query(Some(&kept.join("&")));
        }
    }
    out
}

fn is_tracking(pair: &str) -> bool {
    let key = pair.split('=').next().unwrap_or(pair).to_ascii_lowercase();
    key.starts_with("utm_") || TRACKING_PARAMS.contains(&key.as_str())
}

/// Hex SHA-256 of the normalized title and body: NFKC, lower case, whitespace
/// collapsed, punctuation and symbols dropped (each run of them counts as one
/// word break), so typography and spacing differences between two copies of a
/// story do not make two articles.
#[must_use]
pub fn fingerprint(title: &str, body: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(normalize(title).as_bytes());
    hasher.update(b"\n");
    hasher.update(normalize(body).as_bytes());
    hex::encode(hasher.finalize())
}

/// The words of `s` a fingerprint hashes: `s.nfkc().flat_map(char::to_lowercase)`, its
/// alphanumeric characters kept, every run of others one space. The fingerprint is stored
/// (an article's identity), so this must never change its output; it only skips work that
/// cannot change it (issue 21: it was a fifth of a scan's CPU): no NFKC pass over text the
/// quick check proves already NFKC, ASCII folded in place, and the Arabic block, which has
/// no case, read from a table of `char::is_alphanumeric`.
fn normalize(s: &str) -> String {
    let mut words = Words {
        out: String::with_capacity(s.len()),
        gap: false,
    };
    if unicode_normalization::is_nfkc_quick(s.chars()) == IsNormalized::Yes {
        s.chars().for_each(|c| words.push(c));
    } else {
        s.nfkc().for_each(|c| words.push(c));
    }
    words.out
}

/// [`normalize`]'s output as it grows.
struct Words {
    out: String,
    /// Characters that are not alphanumeric came since the last one that was.
    gap: bool,
}

impl Words {
    fn push(&mut self, c: char) {
        if c.is_ascii() {
            let c = c.to_ascii_lowercase();
            self.keep(c, c.is_ascii_alphanumeric());
        } else if let Some(alnum) = arabic_alphanumeric(c) {
            self.keep(c, alnum);
        } else {
            for l in c.to_lowercase() {
                self.keep(l, crate::chars::is_alphanumeric(l));
            }
        }
    }

    fn keep(&mut self, c: char, alnum: bool) {
        if !alnum {
            self.gap = true;
            return;
        }
        if self.gap && !self.out.is_empty() {
            self.out.push(' ');
        }
        self.gap = false;
        self.out.push(c);
    }
}

/// The Arabic block (U+0600–U+06FF): caseless, so `to_lowercase` is the character itself
/// (a test checks every one); whether it is alphanumeric, from a table built once from
/// `char::is_alphanumeric`. `None` outside the block.
fn arabic_alphanumeric(c: char) -> Option<bool> {
    static TABLE: std::sync::OnceLock<[bool; 256]> = std::sync::OnceLock::new();
    let i = usize::try_from(u32::from(c).checked_sub(0x600)?).ok()?;
    if i >= 256 {
        return None;
    }
    let table = TABLE.get_or_init(|| {
        std::array::from_fn(|i| {
            char::from_u32(0x600 + u32::try_from(i).expect("i < 256"))
                .is_some_and(char::is_alphanumeric)
        })
    });
    Some(table[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        canonical_url(&Url::parse(s).expect("test URL")).to_string()
    }

    #[test]
    fn canonical_urls() {
        for (input, want) in [
            (
                "HTTPS://Example.ORG/News/A?utm_source=x&id=3#top",
                "https://example.org/News/A?id=3",
            ),
            (
                "https://example.org/a?utm_medium=rss&utm_campaign=y",
                "https://example.org/a",
            ),
            (
                "https://example.org/a?b=2&fbclid=zz&a=1&gclid=q",
                "https://example.org/a?b=2&a=1",
            ),
            ("https://example.org/a?", "https://example.org/a"),
            (
                "https://example.org/a?UTM_Source=x",
                "https://example.org/a",
            ),
            (
                "https://example.org/%D8%A7?q=%20",
                "https://example.org/%D8%A7?q=%20",
            ),
        ] {
            assert_eq!(canon(input), want, "{input}");
        }
    }

    #[test]
    fn fingerprint_ignores_case_space_and_punctuation() {
        let a = fingerprint("Niger: US troops leave", "First  para.\n\nSecond, para!");
        let b = fingerprint("niger — us troops leave", "first para second para");
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(a, fingerprint("niger us troops leave", "other body"));
        // NFKC: full-width letters equal ASCII.
        assert_eq!(fingerprint("ＡＢＣ", ""), fingerprint("abc", ""));
    }

    /// What [`normalize`] computed before its fast paths (issue 21); stored fingerprints
    /// depend on its output staying the same.
    fn normalize_reference(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut gap = false;
        for c in s.nfkc().flat_map(char::to_lowercase) {
            if c.is_alphanumeric() {
                if gap && !out.is_empty() {
                    out.push(' ');
                }
                gap = false;
                out.push(c);
            } else {
                gap = true;
            }
        }
        out
    }

    #[test]
    fn arabic_block_is_caseless() {
        for c in (0x600..=0x6ff).filter_map(char::from_u32) {
            assert!(
                c.to_lowercase().eq([c]),
                "U+{:04X} has a lower case",
                u32::from(c)
            );
        }
    }

    #[test]
    fn normalize_is_the_reference_on_samples() {
        for s in [
            "",
            "Niger: US troops leave — «today»",
            "ＡＢＣ ﬁ Straße İstanbul ǅ ΣΑΣ",
            "الانسحاب المنظم للقوات من قاعدة أغاديز الجوية، ٢٠٢٤",
            "قَالَتْ وِزَارَةُ ـــ الدفاع ﻻ ﷲ",
            "e\u{301} a\u{30a}\u{301} \u{1e9b}\u{323}",
            "Dépêche : le retrait des troupes du Niger se poursuit",
            "۱۲۳ ک ی ئ ۀ",
        ] {
            assert_eq!(normalize(s), normalize_reference(s), "{s:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn normalize_is_the_reference(s in "\\PC{0,40}") {
            proptest::prop_assert_eq!(normalize(&s), normalize_reference(&s));
        }

        #[test]
        fn normalize_is_the_reference_on_arabic_and_latin(
            s in "[\u{0600}-\u{06ff}\u{0750}-\u{077f}\u{fb50}-\u{fdff}\u{fe70}-\u{feff}a-zA-Z\u{00c0}-\u{024f}\u{0300}-\u{036f} .,]{0,60}"
        ) {
            proptest::prop_assert_eq!(normalize(&s), normalize_reference(&s));
        }
    }
}
