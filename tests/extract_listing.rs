//! Listing-page link discovery (`links.rs`, no `links` selector) on the labelled
//! pages in `tests/fixtures/listing/`: pooled precision and recall, and a floor
//! per page, each set a little under what was measured (BENCHMARKS.md,
//! "Extraction (issue 4)") so that a regression fails. The table:
//! `cargo run --example score_listing -- --verbose`.

mod support;

use support::listing;

/// Measured 0.989 (181 of 183 found links expected) when these were set.
const MIN_PRECISION: f64 = 0.97;
/// Measured 1.000 (181 of 181).
const MIN_RECALL: f64 = 0.97;
/// Lowest page measured 0.947 (jeuneafrique-fr-politique, a country page with a long slug).
const MIN_PAGE_F1: f64 = 0.9;

#[test]
fn discovery_precision_and_recall_on_labelled_listing_pages() {
    let scores = listing::score_dir(&listing::fixture_dir());
    println!("{}", listing::table(&scores));
    assert!(scores.len() >= 15, "found {} labelled pages", scores.len());
    let (p, r, _) = listing::overall(&scores);
    let misses: Vec<String> = scores
        .iter()
        .flat_map(|s| {
            let missed = s
                .missed
                .iter()
                .map(move |u| format!("{}: missed {u}", s.name));
            missed.chain(
                s.extra
                    .iter()
                    .map(move |u| format!("{}: unexpected {u}", s.name)),
            )
        })
        .collect();
    assert!(
        p >= MIN_PRECISION && r >= MIN_RECALL,
        "precision {p:.3} (min {MIN_PRECISION}), recall {r:.3} (min {MIN_RECALL}):\n{}",
        misses.join("\n")
    );
    for s in &scores {
        let (_, _, f1) = s.prf();
        assert!(
            f1 >= MIN_PAGE_F1,
            "{}: F1 {f1:.3} under {MIN_PAGE_F1}:\n{}",
            s.name,
            misses.join("\n")
        );
    }
}
