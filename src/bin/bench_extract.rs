//! Extraction benchmark over the readability corpus (not a test).
//!
//! `bench_extract [--json OUT.json] [--repeat N] CORPUS_DIR` runs
//! `extract_article` on every `CORPUS_DIR/<page>/source.html` on one thread,
//! prints pages per second, and with `--json` writes
//! `{"<page>": {"articleBody": "..."}}` for `scripts/score_extraction.py`.
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
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(&corpus)? {
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
    pages.sort();
    // The readability tests resolve links against this URL.
    let base = Url::parse("http://fakehost/test/page.html")?;
    let mut bodies = serde_json::Map::new();
    let (mut no_article, mut bytes) = (0usize, 0usize);
    let start = Instant::now();
    for _ in 0..repeat {
        for (id, html) in &pages {
            bytes += html.len();
            let text =
                match extract_article(html, Some("text/html; charset=utf-8"), Some(&base), None) {
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
    if let Some(path) = json_out {
        std::fs::write(path, serde_json::to_string(&bodies)?)?;
    }
    Ok(())
}
