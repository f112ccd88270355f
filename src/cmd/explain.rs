//! `newswatch explain`: which terms of a watchlist match a document, and why not.
//!
//! An article page is explained on the text the daemon would match (`pipeline::choose_text`);
//! a feed or a listing page item by item; a page without an article on its visible text,
//! saying so; anything else as plain text. When the watchlist keeps only some languages, each
//! item says whether its language kept it. A matching item shows its rank in a digest, part
//! by part (`digest::rank`), as a story of one copy.

use chrono::{DateTime, Utc};

use super::{read_input, CmdError, Globals};
use crate::config::{Watchlist, Watchlists};
use crate::digest::rank::{Score, OUTLETS_POINTS, OUTLET_POINTS};
use crate::extract::{charset, detect_lang, extract_any, html_fragment_text, Entry, Extracted};
use crate::pipeline::{choose_text, FeedText};

/// One document explained: its title, the text matched, its language.
struct Item {
    title: String,
    body: String,
    lang: Option<String>,
    published: Option<DateTime<Utc>>,
}

pub async fn run(globals: &Globals, watchlist: &str, input: &str) -> Result<(), CmdError> {
    let config = globals.load_config()?;
    let wl = config
        .watchlists
        .by_name(watchlist)
        .ok_or_else(|| CmdError::Usage(format!("unknown watchlist {watchlist:?}")))?;
    let (bytes, content_type, url) = read_input(globals, input).await?;
    let items = match extract_any(&bytes, content_type.as_deref(), url.as_ref()) {
        Ok(Extracted::Article(a)) => {
            let chosen = choose_text(&FeedText::default(), Some(&a));
            println!(
                "an article page; matched on its {}:",
                what(chosen.text_from)
            );
            vec![Item {
                title: chosen.title,
                body: chosen.text,
                lang: chosen.lang,
                published: chosen.published,
            }]
        }
        Ok(Extracted::Feed(entries)) => {
            println!(
                "a feed of {} item(s), each explained in turn:",
                entries.len()
            );
            entries.into_iter().map(entry_item).collect()
        }
        Ok(Extracted::Listing(entries)) if !entries.is_empty() => {
            println!(
                "no article on this page: a listing of {} article link(s), each headline explained in turn:",
                entries.len()
            );
            entries.into_iter().map(entry_item).collect()
        }
        _ if looks_like_html(&bytes) => {
            let (decoded, _) = charset::decode(&bytes, content_type.as_deref());
            let body = html_fragment_text(&decoded);
            println!("no article found on this page (too little text, or only links or navigation); explaining the text it shows:");
            println!("{}\n", indent(&body));
            let lang = detect_lang(&body);
            vec![Item {
                title: String::new(),
                body,
                lang,
                published: None,
            }]
        }
        // Plain text (the seed article, a pasted story) is explained as it is.
        _ => {
            let body = String::from_utf8_lossy(&bytes).into_owned();
            let lang = detect_lang(&body);
            vec![Item {
                title: String::new(),
                body,
                lang,
                published: None,
            }]
        }
    };
    for (i, item) in items.iter().enumerate() {
        if items.len() > 1 {
            println!("== item {} of {}: {}", i + 1, items.len(), item.title);
        }
        if let Some(line) = language_line(wl, item.lang.as_deref()) {
            println!("{line}");
        }
        if let Some(e) = config.watchlists.explain(&wl.name, &item.title, &item.body) {
            println!("{e}");
        }
        if let Some(line) = rank_line(&config.watchlists, wl, item, Utc::now()) {
            println!("{line}");
        }
    }
    Ok(())
}

/// The item's rank in a digest, part by part, as a story of one copy at `now`; `None` when
/// the watchlist does not match it.
fn rank_line(
    lists: &Watchlists,
    wl: &Watchlist,
    item: &Item,
    now: DateTime<Utc>,
) -> Option<String> {
    let p = lists.prominence(&wl.name, &item.title, &item.body)?;
    let when = item.published.unwrap_or(now);
    let score = Score::of(&p, 1, when, now);
    Some(format!(
        "rank in a digest (as the only copy of its story, now): {score}; every other outlet carrying the story adds {OUTLET_POINTS} (at most {OUTLETS_POINTS})"
    ))
}

fn entry_item(e: Entry) -> Item {
    Item {
        title: e.title.unwrap_or_default(),
        body: e.text,
        lang: e.lang,
        published: e.published,
    }
}

fn what(from: crate::model::TextFrom) -> &'static str {
    match from {
        crate::model::TextFrom::Page => "headline and body",
        _ => "headline, body and description (the body looked incomplete)",
    }
}

/// What the watchlist's `languages` does to an article in `lang`; `None` when it has none.
fn language_line(wl: &Watchlist, lang: Option<&str>) -> Option<String> {
    if wl.languages.is_empty() {
        return None;
    }
    let wanted = wl.languages.join(", ");
    Some(match lang {
        _ if !wl.accepts_language(lang) => format!(
            "language: EXCLUDED: the article is in {:?}; watchlist {:?} reads only {wanted}, so no match below is reported",
            lang.unwrap_or_default(),
            wl.name
        ),
        Some(l) => format!("language: {l:?}, one of {wanted}: kept"),
        None => format!(
            "language: unknown (none declared, too little text to tell); kept, since an unknown language is never excluded ({wanted})"
        ),
    })
}

/// Whether a document is markup rather than plain text: it opens with a tag.
fn looks_like_html(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    head.starts_with('<')
        && ["<html", "<body", "<!doctype", "<div", "<p"]
            .iter()
            .any(|t| head.contains(t))
}

/// At most 40 lines of `text`, each indented, for showing what was matched.
fn indent(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out: Vec<String> = lines.iter().take(40).map(|l| format!("  | {l}")).collect();
    if lines.len() > 40 {
        out.push(format!("  | … ({} more lines)", lines.len() - 40));
    }
    out.join("\n")
}
