//! Article identity: the canonical URL and the content fingerprint.
//!
//! SPEC "State and delivery guarantees": an article is its canonical URL and,
//! failing that, a fingerprint of its normalized title and body, so the same
//! story reached through two feeds or two URLs is one article. `store` keys
//! articles with these; nothing here touches the database.

use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
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

fn normalize(s: &str) -> String {
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
}
