//! `newswatch explain`: which terms of a watchlist match a document, and why not.

use super::{read_input, CmdError, Globals};
use crate::config::Watchlist;
use crate::extract::{detect_lang, extract_any, Extracted};

pub async fn run(globals: &Globals, watchlist: &str, input: &str) -> Result<(), CmdError> {
    let config = globals.load_config()?;
    let idx = config
        .watchlist_index(watchlist)
        .ok_or_else(|| CmdError::Usage(format!("unknown watchlist {watchlist:?}")))?;
    let (bytes, content_type, url) = read_input(globals, input).await?;
    let plain = || {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let lang = detect_lang(&text);
        vec![(String::new(), text, lang)]
    };
    let docs: Vec<(String, String, Option<String>)> =
        match extract_any(&bytes, content_type.as_deref(), url.as_ref()) {
            Ok(Extracted::Article(a)) => vec![(a.title.unwrap_or_default(), a.text, a.lang)],
            // A short plain-text file reads as a listing page with no links:
            // explain its text rather than print nothing.
            Ok(Extracted::Listing(entries)) if entries.is_empty() => plain(),
            Ok(Extracted::Feed(entries) | Extracted::Listing(entries)) => entries
                .into_iter()
                .map(|e| (e.title.unwrap_or_default(), e.text, e.lang))
                .collect(),
            // Plain text (the seed article, a pasted story) is explained as it is.
            Err(_) => plain(),
        };
    let wl = &config.watchlists[idx];
    for (i, (title, body, lang)) in docs.iter().enumerate() {
        if docs.len() > 1 {
            println!("== item {} of {}: {title}", i + 1, docs.len());
        }
        if let Some(line) = language_line(wl, lang.as_deref()) {
            println!("{line}");
        }
        println!("{}", config.matcher.explain(idx, title, body));
    }
    Ok(())
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
