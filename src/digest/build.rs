//! Pending matches and health notes → a [`Digest`] value. Pure.

use chrono_tz::Tz;

use super::render::{Digest, DigestItem};
use crate::model::{HealthChange, HealthEvent, PendingMatch, WatchlistName};

/// The digest of `watchlist` for these pending matches and health notes.
#[must_use]
pub fn build_digest(
    watchlist: &WatchlistName,
    pending: &[PendingMatch],
    events: &[HealthEvent],
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
            source: m.source.to_string(),
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
    let footer = events.iter().map(|n| health_line(n, timezone)).collect();
    Digest {
        watchlist: watchlist.to_string(),
        items,
        footer,
        timezone,
    }
}

fn health_line(n: &HealthEvent, tz: Tz) -> String {
    let at = n.at.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z");
    match n.change {
        HealthChange::Failing if n.detail.is_empty() => {
            format!("Source {} has been failing since {at}.", n.source)
        }
        HealthChange::Failing => format!(
            "Source {} has been failing since {at}: {}",
            n.source, n.detail
        ),
        HealthChange::Recovered => format!("Source {} has recovered ({at}).", n.source),
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
            source: "s".parse().unwrap(),
            terms: vec!["Niger".into()],
            snippet: "in Niger today".into(),
            highlights: vec![(3, 8), (7, 99)],
        };
        let n = HealthEvent {
            id: 1,
            source: "s".parse().unwrap(),
            change: HealthChange::Recovered,
            at: Utc::now(),
            detail: String::new(),
        };
        let d = build_digest(&"niger".parse().unwrap(), &[p], &[n], Tz::UTC);
        assert_eq!(d.items[0].title, "https://example.org/a");
        assert_eq!(d.items[0].highlights, vec![3..8]);
        assert!(d.footer[0].contains("recovered"));
    }
}
