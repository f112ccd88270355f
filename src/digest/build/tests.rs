use super::*;
use crate::model::Prominence;
use chrono::TimeZone;

const NIGER: &str = include_str!("../../../tests/fixtures/stories/niger-us-withdrawal.txt");

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

fn pending(id: i64, source: &str, title: &str, p: Prominence, age_hours: i64) -> PendingMatch {
    PendingMatch {
        article_id: id,
        url: Some(format!("https://{source}.example/{id}")),
        title: title.into(),
        published: Some(now() - chrono::Duration::hours(age_hours)),
        lang: Some("en".into()),
        source: source.parse().unwrap(),
        terms: vec!["Niger".into()],
        snippet: "in Niger today".into(),
        highlights: vec![(3, 8), (7, 99)],
        title_highlights: vec![],
        prominence: p,
        first_seen: now() - chrono::Duration::hours(age_hours),
        sketch: None,
    }
}

fn inputs<'a>(
    pending: &'a [PendingMatch],
    mailed: &'a [MailedCopy],
    prefer: &'a [SourceName],
    rule: &'a Rule,
    name: &'a WatchlistName,
) -> Inputs<'a> {
    Inputs {
        watchlist: name,
        pending,
        mailed,
        neighbours: &[],
        events: &[],
        prefer,
        rule,
        timezone: Tz::UTC,
        now: now(),
    }
}

fn p(in_title: bool, first: Option<u16>, occurrences: u32) -> Prominence {
    Prominence {
        in_title,
        first_in_body: first,
        occurrences,
    }
}

/// The order of a fixed set, part by part (README "Ranking").
#[test]
fn ranking_order_on_a_fixed_set() {
    let copy = |k: usize| {
        let mut paras: Vec<&str> = NIGER.split("\n\n").collect();
        paras.remove(k);
        crate::stories::sketch(&paras.join("\n\n"))
    };
    let mut set = vec![
        // 40 + 20 + 6 + 0 + 20 = 86
        pending(1, "a", "alpha", p(true, Some(0), 3), 0),
        // 0 + 10 + 4 + 20 + 20 = 54: three outlets carry it
        pending(2, "b", "bravo", p(false, Some(500), 2), 0),
        pending(3, "c", "bravo (c)", p(false, Some(600), 1), 0),
        pending(4, "d", "bravo (d)", p(false, Some(700), 1), 0),
        // 40 + 18 + 20 + 0 + 10 = 88
        pending(5, "e", "charlie", p(true, Some(100), 10), 36),
        // 0 + 0 + 2 + 0 + 5 = 7, and its twin one hour newer
        pending(6, "f", "echo", p(false, None, 1), 54),
        pending(7, "g", "delta", p(false, None, 1), 53),
        // nothing at all: 0
        pending(8, "h", "foxtrot", Prominence::default(), 100),
    ];
    for (k, m) in set
        .iter_mut()
        .filter(|m| m.title.starts_with("bravo"))
        .enumerate()
    {
        m.sketch = copy(k);
    }
    let name: WatchlistName = "niger".parse().unwrap();
    let rule = Rule::default();
    let c = build_digest(&inputs(&set, &[], &[], &rule, &name));
    let order: Vec<(&str, u32)> = c
        .stories
        .iter()
        .map(|s| (s.item.title.as_str(), s.score.total()))
        .collect();
    assert_eq!(
        order,
        [
            ("charlie", 88),
            ("alpha", 86),
            ("bravo", 54),
            ("delta", 7),
            ("echo", 7),
            ("foxtrot", 0)
        ]
    );
    let bravo = &c.stories[2];
    assert_eq!(
        bravo.article_ids,
        [2, 4, 3],
        "primary first, then the most complete"
    );
    assert_eq!(bravo.item.also_in.len(), 2);
    assert_eq!(bravo.score.outlets, 20);
    // The same set in another order ranks the same.
    set.reverse();
    let again = build_digest(&inputs(&set, &[], &[], &rule, &name));
    let titles: Vec<&str> = again
        .stories
        .iter()
        .map(|s| s.item.title.as_str())
        .collect();
    assert_eq!(
        titles,
        ["charlie", "alpha", "bravo", "delta", "echo", "foxtrot"]
    );
}

#[test]
fn primary_is_preferred_then_most_complete() {
    let mut set: Vec<PendingMatch> = ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(k, s)| pending(k as i64, s, s, Prominence::default(), 0))
        .collect();
    let paras: Vec<&str> = NIGER.split("\n\n").collect();
    set[0].sketch = crate::stories::sketch(&paras[..4].join("\n\n"));
    set[1].sketch = crate::stories::sketch(NIGER);
    set[2].sketch = crate::stories::sketch(&paras[..5].join("\n\n"));
    let name: WatchlistName = "niger".parse().unwrap();
    let rule = Rule::default();
    let c = build_digest(&inputs(&set, &[], &[], &rule, &name));
    assert_eq!(c.stories.len(), 1);
    assert_eq!(c.stories[0].item.source, "b", "the most words");
    let sources: Vec<&str> = c.stories[0]
        .item
        .also_in
        .iter()
        .map(|o| o.source.as_str())
        .collect();
    assert_eq!(sources, ["c", "a"]);
    let prefer: Vec<SourceName> = vec!["a".parse().unwrap()];
    let c = build_digest(&inputs(&set, &[], &prefer, &rule, &name));
    assert_eq!(c.stories[0].item.source, "a");
    // Invalid stored highlights are dropped.
    assert_eq!(c.stories[0].item.highlights, vec![3..8]);
}

#[test]
fn a_copy_of_a_mailed_story_is_an_earlier_story() {
    let sk = crate::stories::sketch(NIGER).unwrap();
    let mailed = [MailedCopy {
        digest_id: 1,
        article_id: 1,
        url: Some("https://a.example/1".into()),
        title: "As mailed".into(),
        source: "a".parse().unwrap(),
        first_seen: now() - chrono::Duration::hours(30),
        mailed_at: now() - chrono::Duration::hours(29),
        sketch: sk.clone(),
    }];
    let mut late = pending(2, "b", "late copy", Prominence::default(), 1);
    late.sketch = Some(sk.clone());
    let other = pending(3, "c", "other news", Prominence::default(), 1);
    let name: WatchlistName = "niger".parse().unwrap();
    let rule = Rule::default();
    let set = [late, other];
    let c = build_digest(&inputs(&set, &mailed, &[], &rule, &name));
    assert_eq!(c.stories.len(), 1);
    assert_eq!(c.stories[0].item.title, "other news");
    assert_eq!(c.earlier.len(), 1);
    assert_eq!(c.earlier[0].item.title, "As mailed");
    assert_eq!(c.earlier[0].article_ids, [2]);
    assert_eq!(c.earlier[0].item.also_in[0].url, "https://b.example/2");
    // Beyond the window it is a story of its own again.
    let mut far = mailed.clone();
    far[0].first_seen = now() - chrono::Duration::hours(80);
    let c = build_digest(&inputs(&set, &far, &[], &rule, &name));
    assert_eq!(c.stories.len(), 2);
    assert!(c.earlier.is_empty());
}

#[test]
fn footer_lines() {
    let n = HealthEvent {
        id: 1,
        source: "s".parse().unwrap(),
        change: HealthChange::Recovered,
        at: now(),
        detail: String::new(),
    };
    let name: WatchlistName = "niger".parse().unwrap();
    let rule = Rule::default();
    let set = [pending(1, "a", "", Prominence::default(), 0)];
    let mut i = inputs(&set, &[], &[], &rule, &name);
    let events = [n];
    i.events = &events;
    let c = build_digest(&i);
    assert_eq!(c.stories[0].item.title, "https://a.example/1");
    assert!(c.footer[0].contains("recovered"));
}
