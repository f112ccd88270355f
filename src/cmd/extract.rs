//! `newswatch extract`: what newswatch sees in one page or feed.

use super::{read_input, CmdError, Globals};
use crate::extract::{extract_any, Extracted};

/// Extracts one page or feed and prints what newswatch sees in it.
///
/// # Errors
/// The input cannot be read or fetched.
pub async fn run(globals: &Globals, input: &str, json: bool) -> Result<(), CmdError> {
    let (bytes, content_type, url) = read_input(globals, input).await?;
    let doc = extract_any(&bytes, content_type.as_deref(), url.as_ref())
        .map_err(|e| CmdError::Runtime(anyhow::anyhow!("{input}: {e}")))?;
    let (kind, title, published, lang, text, links, doc_url) = match doc {
        Extracted::Article(a) => {
            let u = a.url.clone().or(url.clone());
            (
                "article",
                a.title,
                a.published,
                a.lang,
                a.text,
                Vec::new(),
                u,
            )
        }
        Extracted::Feed(entries) => (
            "feed",
            None,
            None,
            None,
            String::new(),
            entries,
            url.clone(),
        ),
        Extracted::Listing(entries) => (
            "listing",
            None,
            None,
            None,
            String::new(),
            entries,
            url.clone(),
        ),
    };
    let links: Vec<String> = links
        .iter()
        .filter_map(|e| e.url.as_ref().map(ToString::to_string))
        .collect();
    let published = published.map(|p| p.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    if json {
        let v = serde_json::json!({
            "url": doc_url.map(|u| u.to_string()),
            "kind": kind,
            "title": title,
            "published": published,
            "lang": lang,
            "text": text,
            "links": links,
        });
        println!("{v}");
        return Ok(());
    }
    println!("kind:      {kind}");
    if let Some(u) = doc_url {
        println!("url:       {u}");
    }
    if kind == "article" {
        println!("title:     {}", title.unwrap_or_default());
        println!("published: {}", published.unwrap_or_else(|| "-".into()));
        println!("lang:      {}", lang.unwrap_or_else(|| "-".into()));
        println!();
        println!("{text}");
    } else {
        println!("links:     {}", links.len());
        for l in links {
            println!("  {l}");
        }
    }
    Ok(())
}
