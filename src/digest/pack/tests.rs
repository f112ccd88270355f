use super::*;
use crate::digest::build::{Earlier, Story};
use crate::digest::rank::Score;
use crate::digest::render::{DigestItem, EarlierStory, OtherCopy};
use chrono::{TimeZone, Utc};

fn story(i: usize, arabic: bool) -> Story {
    let (title, snippet) = if arabic {
        (
            format!("انسحاب القوات الأمريكية من النيجر: تقرير رقم {i}"),
            "بدأت الولايات المتحدة سحب قواتها من النيجر، وأعلنت وزارة الدفاع أن الانسحاب من قاعدة أغاديز الجوية سيكتمل قبل نهاية العام، وفق ما قاله مسؤولون في واشنطن ونيامي.".to_string(),
        )
    } else {
        (
            format!("US troops begin withdrawal from Niger, report {i}"),
            format!("Niamey - the withdrawal of US troops from Niger began on Monday, officials said in report {i}; the Agadez air base will be handed over before the end of the year, according to the Pentagon."),
        )
    };
    Story {
        item: DigestItem {
            title,
            url: format!("https://news.example/{i}/story.html"),
            source: format!("source-{}", i % 13),
            published: Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, 0).single(),
            lang: Some(if arabic { "ar" } else { "en" }.into()),
            terms: vec!["Niger".into()],
            snippet,
            highlights: std::iter::once(0..6).collect(),
            title_highlights: vec![],
            also_in: (0..i % 3)
                .map(|k| OtherCopy {
                    source: format!("copy-{k}"),
                    url: format!("https://copy-{k}.example/{i}"),
                })
                .collect(),
            more_copies: 0,
        },
        article_ids: vec![i as i64 * 10, i as i64 * 10 + 1],
        score: Score::default(),
        newest: Utc::now(),
    }
}

fn composition(n: usize) -> Composition {
    Composition {
        watchlist: "niger".into(),
        stories: (0..n).map(|i| story(i, i % 3 == 1)).collect(),
        earlier: vec![Earlier {
            item: EarlierStory {
                title: "Mailed before".into(),
                url: "https://a.example/1".into(),
                source: "a".into(),
                mailed: Utc::now(),
                also_in: vec![OtherCopy {
                    source: "late".into(),
                    url: "https://late.example/1".into(),
                }],
                more_copies: 0,
            },
            article_ids: vec![-1],
            told_in: 1,
            newest_seen: Utc::now(),
        }],
        footer: vec!["Source x has recovered (2026-11-24 07:00 WAT).".into()],
        timezone: chrono_tz::Africa::Niamey,
    }
}

#[test]
fn a_small_digest_is_one_message_in_full() {
    let parts = split(&composition(3));
    assert_eq!(parts.len(), 1);
    let p = &parts[0];
    assert_eq!(p.digest.part, None);
    assert_eq!(p.digest.full, 3);
    assert_eq!(p.rendered.subject, "[newswatch] niger: 3 new articles");
    assert_eq!(p.article_ids, [0, 1, 10, 11, 20, 21, -1]);
    assert!(p.rendered.text.contains("Source health:"));
}

#[test]
fn a_large_digest_is_numbered_parts_that_fit_and_drop_nothing() {
    let parts = split(&composition(60));
    assert_eq!(parts.len(), 1, "60 stories fit one message");
    assert_eq!(
        parts[0].digest.full, FULL_ITEMS,
        "the first in full, the rest compact"
    );
    for n in [300, 1000] {
        let c = composition(n);
        let parts = split(&c);
        assert!(parts.len() >= 2, "{n}");
        let mut ids: Vec<i64> = parts.iter().flat_map(|p| p.article_ids.clone()).collect();
        ids.sort_unstable();
        let mut want: Vec<i64> = c
            .stories
            .iter()
            .flat_map(|s| s.article_ids.clone())
            .chain([-1])
            .collect();
        want.sort_unstable();
        assert_eq!(ids, want, "{n}: every match once");
        for (k, p) in parts.iter().enumerate() {
            assert!(
                p.rendered.html.len() <= HTML_LIMIT,
                "{n}/{k}: {}",
                p.rendered.html.len()
            );
            assert!(p.rendered.text.len() <= TEXT_LIMIT, "{n}/{k}");
            assert_eq!(
                p.digest.part,
                Some(PartOf {
                    number: k + 1,
                    of: parts.len()
                })
            );
            assert!(p
                .rendered
                .subject
                .ends_with(&format!(" ({}/{})", k + 1, parts.len())));
            assert_eq!(
                p.digest.footer.is_empty(),
                k > 0,
                "health notes in the first part"
            );
            if k > 0 {
                assert_eq!(p.digest.full, 0, "only the first stories in full");
            }
        }
        let full = parts[0].digest.full;
        assert!((1..=FULL_ITEMS).contains(&full), "{n}: {full}");
        // Parts are filled: a part holds at least a third of the limit, the last aside.
        for p in &parts[..parts.len() - 1] {
            assert!(
                p.rendered.html.len() > HTML_LIMIT / 3,
                "{}",
                p.rendered.html.len()
            );
        }
        assert!(parts.last().unwrap().digest.earlier.len() == 1);
    }
}

#[test]
fn one_huge_item_still_fits() {
    let mut c = composition(1);
    c.stories[0].item.title = "<&>".repeat(10_000);
    c.stories[0].item.url = format!("https://example.org/{}", "\"".repeat(50_000));
    c.stories[0].item.snippet = "<".repeat(100_000);
    c.stories[0].item.also_in = (0..8)
        .map(|k| OtherCopy {
            source: "<".repeat(1000),
            url: format!("https://{k}.example/{}", "&".repeat(400)),
        })
        .collect();
    c.stories[0].item.more_copies = 10_000;
    let parts = split(&c);
    assert_eq!(parts.len(), 1);
    assert!(parts[0].rendered.html.len() <= HTML_LIMIT);
}
