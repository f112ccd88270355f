//! Precision and recall of listing-page link discovery on the labelled pages
//! in `tests/fixtures/listing/` (what they are and how they are labelled: its
//! README):
//!
//! ```sh
//! cargo run --example score_listing -- [--verbose] [DIR]
//! ```
//!
//! prints a Markdown table, one row per page and the pooled total; with
//! `--verbose`, also each page's missed and unexpected URLs.
//! `tests/extract_listing.rs` asserts the totals.

#[path = "../tests/support/listing.rs"]
mod listing;

use std::path::PathBuf;

fn main() {
    let mut verbose = false;
    let mut dir = listing::fixture_dir();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--verbose" | "-v" => verbose = true,
            _ => dir = PathBuf::from(arg),
        }
    }
    let scores = listing::score_dir(&dir);
    print!("{}", listing::table(&scores));
    if verbose {
        for s in &scores {
            for u in &s.missed {
                println!("{}: missed {}", s.name, u);
            }
            for u in &s.extra {
                println!("{}: unexpected {}", s.name, u);
            }
        }
    }
}
