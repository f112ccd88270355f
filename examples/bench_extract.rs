//! Extraction benchmark over a corpus of pages (not a test, not installed).
//!
//! `cargo run --release --example bench_extract -- [--json OUT.json] [--repeat N] CORPUS_DIR`
//! runs `extract_article` on every page on one thread, prints pages per second and the
//! slowest page in ms per 100 kB (a page under 100 kB counted as 100 kB), and with
//! `--json` writes
//! `{"<page>": {"articleBody": "..."}}` for `scripts/score_extraction.py`.
//! `CORPUS_DIR` is the readability corpus (`<page>/source.html`) or the
//! extraction-eval set (`pages/*.html[.gz]`, read once into memory before timing).
//! Peak RSS: run it under `/usr/bin/time -v`.

use std::path::PathBuf;
use std::time::Instant;

use newswatch::extract::{extract_article, ExtractError};
use url::Url;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut json_out, mut repeat, mut corpus) = (None, 1usize, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json_out = args.next().map(PathBuf::from),
            "--repeat" => repeat = args.next().and_then(|n| n.parse().ok()).unwrap_or(1),
            _ => corpus = Some(PathBuf::from(arg)),
        }
    }
    let corpus = corpus.ok_or_else(|| {
        anyhow::anyhow!("usage: bench_extract [--json OUT] [--repeat N] CORPUS_DIR")
    })?;
    let mut pages = read_pages(&corpus)?;
    // The readability tests read their pages as UTF-8; eval pages declare their own charset.
    let content_type = if corpus.join("pages").is_dir() {
        "text/html"
    } else {
        "text/html; charset=utf-8"
    };
    pages.sort();
    // The readability tests resolve links against this URL.
    let base = Url::parse("http://fakehost/test/page.html")?;
    let mut bodies = serde_json::Map::new();
    let (mut no_article, mut bytes) = (0usize, 0usize);
    let mut slowest = (0.0f64, String::new());
    let start = Instant::now();
    for _ in 0..repeat {
        for (id, html) in &pages {
            bytes += html.len();
            let t = Instant::now();
            let text = match extract_article(html, Some(content_type), Some(&base), None) {
                Ok(article) => article.text,
                Err(ExtractError::NoArticle) => {
                    no_article += 1;
                    String::new()
                }
                Err(e) => {
                    eprintln!("{id}: {e}");
                    String::new()
                }
            };
            // A page under 100 kB counts as 100 kB: its time is mostly the fixed cost
            // of a page, not its size.
            #[allow(clippy::cast_precision_loss, reason = "benchmark arithmetic")]
            let per_100k = t.elapsed().as_secs_f64() * 1e3 / (html.len().max(100_000) as f64 / 1e5);
            if per_100k > slowest.0 {
                slowest = (per_100k, format!("{id}, {} kB", html.len() / 1000));
            }
            bodies.insert(id.clone(), serde_json::json!({ "articleBody": text }));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = pages.len() * repeat;
    #[allow(clippy::cast_precision_loss, reason = "benchmark arithmetic")]
    let (rate, mb) = (n as f64 / secs, bytes as f64 / 1e6 / secs);
    println!(
        "{n} pages in {secs:.3} s: {rate:.1} pages/s, {mb:.1} MB/s, {} no-article",
        no_article / repeat
    );
    println!(
        "slowest page: {:.1} ms per 100 kB, pages under 100 kB counted as 100 kB ({})",
        slowest.0, slowest.1
    );
    if let Some(path) = json_out {
        std::fs::write(path, serde_json::to_string(&bodies)?)?;
    }
    Ok(())
}

/// The pages of a readability-style corpus (`<page>/source.html`) or of an
/// extraction-eval set (`pages/<name>` or `pages/<name>.gz`).
fn read_pages(corpus: &std::path::Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut pages = Vec::new();
    let eval = corpus.join("pages");
    if eval.is_dir() {
        for entry in std::fs::read_dir(&eval)? {
            let path = entry?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let raw = std::fs::read(&path)?;
            let (name, bytes) = match name.strip_suffix(".gz") {
                Some(stem) => {
                    let mut out = Vec::new();
                    std::io::Read::read_to_end(
                        &mut flate2::read::GzDecoder::new(raw.as_slice()),
                        &mut out,
                    )?;
                    (stem.to_string(), out)
                }
                None => (name, raw),
            };
            pages.push((name, bytes));
        }
        return Ok(pages);
    }
    for entry in std::fs::read_dir(corpus)? {
        let dir = entry?.path();
        let source = dir.join("source.html");
        if source.is_file() {
            let id = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            pages.push((id, std::fs::read(source)?));
        }
    }
    Ok(pages)
}
