//! Scores listing-page link discovery (`extract_source` on a `page` source
//! without a `links` selector) against the labelled pages in
//! `tests/fixtures/listing/` (see its README). Shared by
//! `tests/extract_listing.rs` and `examples/score_listing.rs`.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use newswatch::extract::{extract_source, SourceKind};
use url::Url;

/// The fixture directory, from the crate root.
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/listing")
}

/// One page's result.
#[derive(Debug)]
pub struct PageScore {
    pub name: String,
    /// Expected article URLs.
    pub expected: usize,
    /// URLs discovery returned.
    pub found: usize,
    /// Found and expected.
    pub hits: usize,
    /// Expected but not found.
    pub missed: Vec<String>,
    /// Found but not expected.
    pub extra: Vec<String>,
}

/// `hits / found`, `hits / expected` and their harmonic mean; an empty side counts as 1.
pub fn prf(hits: usize, found: usize, expected: usize) -> (f64, f64, f64) {
    #[allow(clippy::cast_precision_loss, reason = "link counts")]
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let (p, r) = (ratio(hits, found), ratio(hits, expected));
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f)
}

impl PageScore {
    pub fn prf(&self) -> (f64, f64, f64) {
        prf(self.hits, self.found, self.expected)
    }
}

/// Precision, recall and F1 over all links of all pages (pooled, so a page
/// weighs as much as it has links).
pub fn overall(scores: &[PageScore]) -> (f64, f64, f64) {
    let sum = |f: fn(&PageScore) -> usize| scores.iter().map(f).sum::<usize>();
    prf(sum(|s| s.hits), sum(|s| s.found), sum(|s| s.expected))
}

/// Scores every `<name>.html` with a `<name>.expected` in `dir`, by name.
///
/// # Panics
/// On an unreadable fixture or a sidecar without its `# page:` line.
pub fn score_dir(dir: &Path) -> Vec<PageScore> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("listing fixture directory is readable")
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "expected")
                .then(|| path.file_stem()?.to_str().map(str::to_string))?
        })
        .collect();
    names.sort();
    names.iter().map(|n| score_page(dir, n)).collect()
}

fn score_page(dir: &Path, name: &str) -> PageScore {
    let sidecar =
        std::fs::read_to_string(dir.join(format!("{name}.expected"))).expect("sidecar is readable");
    let page_url = sidecar
        .lines()
        .find_map(|l| l.strip_prefix("# page:"))
        .map(|u| Url::parse(u.trim()).expect("# page: is a URL"))
        .unwrap_or_else(|| panic!("{name}.expected: no `# page: URL` line"));
    // Compared percent-decoded: `%d8%a7` and `%D8%A7` are the same URL (RFC 3986 6.2.2.1).
    let expected: Vec<String> = sidecar
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            readable(
                Url::parse(l)
                    .unwrap_or_else(|e| panic!("{name}.expected: {l:?}: {e}"))
                    .as_str(),
            )
        })
        .collect();
    let html = std::fs::read(dir.join(format!("{name}.html"))).expect("page is readable");
    let found: Vec<String> = extract_source(
        &html,
        Some("text/html; charset=utf-8"),
        &page_url,
        SourceKind::Page,
        None,
    )
    .expect("a listing page extracts")
    .into_iter()
    .filter_map(|e| e.url.map(|u| readable(u.as_str())))
    .collect();
    let want: HashSet<&String> = expected.iter().collect();
    let got: HashSet<&String> = found.iter().collect();
    assert_eq!(
        want.len(),
        expected.len(),
        "{name}.expected lists a URL twice"
    );
    PageScore {
        name: name.to_string(),
        expected: want.len(),
        found: got.len(),
        hits: want.intersection(&got).count(),
        missed: expected
            .iter()
            .filter(|u| !got.contains(u))
            .cloned()
            .collect(),
        extra: found
            .iter()
            .filter(|u| !want.contains(u))
            .cloned()
            .collect(),
    }
}

/// A Markdown table: one row per page, then the pooled total.
pub fn table(scores: &[PageScore]) -> String {
    let mut out = String::from(
        "| page | expected | found | correct | precision | recall | F1 |\n|---|---|---|---|---|---|---|\n",
    );
    let row = |out: &mut String,
               name: &str,
               e: usize,
               f: usize,
               h: usize,
               (p, r, f1): (f64, f64, f64)| {
        let _ = writeln!(
            out,
            "| {name} | {e} | {f} | {h} | {p:.3} | {r:.3} | {f1:.3} |"
        );
    };
    for s in scores {
        row(&mut out, &s.name, s.expected, s.found, s.hits, s.prf());
    }
    let sum = |f: fn(&PageScore) -> usize| scores.iter().map(f).sum::<usize>();
    row(
        &mut out,
        "**all**",
        sum(|s| s.expected),
        sum(|s| s.found),
        sum(|s| s.hits),
        overall(scores),
    );
    out
}

/// Percent-decoded, for reading Arabic URLs in a report.
pub fn readable(url: &str) -> String {
    percent_encoding::percent_decode_str(url)
        .decode_utf8_lossy()
        .into_owned()
}
