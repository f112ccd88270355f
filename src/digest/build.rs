//! Pending matches and health notes → a [`Digest`] value. Pure.

use chrono_tz::Tz;

use super::render::{Digest, DigestItem};
use crate::store::{HealthNote, PendingMatch};

/// The digest of `watchlist` for these pending matches and health notes.
#[must_use]
pub fn build_digest(
    watchlist: &str,
    pending: &[PendingMatch],
    notes: &[HealthNote],
    timezone: Tz,
) -> Digest {
    let items = pending
        .iter()
        .map(|m| DigestItem {
            title: if m.title.trim().is_empty() {
                m.url.clone().unwrap_or_default()
            } else {
                m.title.clone()
            },
            url: m.url.clone().unwrap_or_default(),
            source: m.source.clone(),
            published: m.published,
            lang: m.lang.clone(),
            terms: m.terms.clone(),
            snippet: m.snippet.clone(),
            highlights: m
                .highlights
                .iter()
                .filter(|(s, e)| {
                    s < e
                        && *e <= m.snippet.len()
                        && m.snippet.is_char_boundary(*s)
                        && m.snippet.is_char_boundary(*e)
                })
                .map(|&(s, e)| s..e)
                .collect(),
        })
        .collect();
    let footer = notes.iter().map(|n| health_line(n, timezone)).collect();
    Digest {
        watchlist: watchlist.to_string(),
        items,
        footer,
        timezone,
    }
}

fn health_line(n: &HealthNote, tz: Tz) -> String {
    let at = n.at.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z");
    match n.kind.as_str() {
        "failing" if n.detail.is_empty() => {
            format!("Source {} has been failing since {at}.", n.source)
        }
        "failing" => format!(
            "Source {} has been failing since {at}: {}",
            n.source, n.detail
        ),
        _ => format!("Source {} has recovered ({at}).", n.source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn items_and_footer() {
        let p = PendingMatch {
            article_id: 1,
            url: Some("https://example.org/a".into()),
            title: "".into(),
            published: None,
            lang: None,
            source: "s".into(),
            terms: vec!["Niger".into()],
            snippet: "in Niger today".into(),
            highlights: vec![(3, 8), (7, 99)],
        };
        let n = HealthNote {
            id: 1,
            source: "s".into(),
            kind: "recovered".into(),
            at: Utc::now(),
            detail: String::new(),
        };
        let d = build_digest("niger", &[p], &[n], Tz::UTC);
        assert_eq!(d.items[0].title, "https://example.org/a");
        assert_eq!(d.items[0].highlights, vec![3..8]);
        assert!(d.footer[0].contains("recovered"));
    }
}
