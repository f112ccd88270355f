//! `newswatch explain`: which terms of a watchlist match a document, and why not.

use super::{read_input, CmdError, Globals};
use crate::extract::{extract_any, Extracted};

pub async fn run(globals: &Globals, watchlist: &str, input: &str) -> Result<(), CmdError> {
    let config = globals.load_config()?;
    let idx = config
        .watchlist_index(watchlist)
        .ok_or_else(|| CmdError::Usage(format!("unknown watchlist {watchlist:?}")))?;
    let (bytes, content_type, url) = read_input(globals, input).await?;
    let docs: Vec<(String, String)> =
        match extract_any(&bytes, content_type.as_deref(), url.as_ref()) {
            Ok(Extracted::Article(a)) => vec![(a.title.unwrap_or_default(), a.text)],
            // A short plain-text file reads as a listing page with no links:
            // explain its text rather than print nothing.
            Ok(Extracted::Listing(entries)) if entries.is_empty() => {
                vec![(String::new(), String::from_utf8_lossy(&bytes).into_owned())]
            }
            Ok(Extracted::Feed(entries) | Extracted::Listing(entries)) => entries
                .into_iter()
                .map(|e| (e.title.unwrap_or_default(), e.text))
                .collect(),
            // Plain text (the seed article, a pasted story) is explained as it is.
            Err(_) => vec![(String::new(), String::from_utf8_lossy(&bytes).into_owned())],
        };
    for (i, (title, body)) in docs.iter().enumerate() {
        if docs.len() > 1 {
            println!("== item {} of {}: {title}", i + 1, docs.len());
        }
        println!("{}", config.matcher.explain(idx, title, body));
    }
    Ok(())
}
