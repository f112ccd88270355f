//! Rendering (STUB: replaced by the render work).

use chrono::{DateTime, Utc};
use std::ops::Range;

#[derive(Debug, Clone)]
pub struct DigestItem {
    pub title: String,
    pub url: String,
    pub source: String,
    pub published: Option<DateTime<Utc>>,
    pub terms: Vec<String>,
    pub snippet: String,
    /// Byte ranges into `snippet`, sorted, disjoint.
    pub highlights: Vec<Range<usize>>,
}

#[derive(Debug, Clone)]
pub struct Digest {
    pub watchlist: String,
    pub items: Vec<DigestItem>,
    /// Source health notes ("source x has failed for 24 hours").
    pub footer: Vec<String>,
    pub timezone: chrono_tz::Tz,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub fn render_digest(d: &Digest) -> Rendered {
    Rendered {
        subject: format!(
            "[newswatch] {}: {} new article(s)",
            d.watchlist,
            d.items.len()
        ),
        text: String::new(),
        html: String::new(),
    }
}
