//! `newswatch discover URL`: the feeds and sitemaps a site announces, as `[[source]]` blocks.
//!
//! Feeds are the page's `<link rel="alternate">` feeds (or the page itself, when the URL is a
//! feed or a sitemap already); sitemaps are the `Sitemap:` lines of the site's robots.txt.
//! Each announced sitemap is fetched once to say what it is (a Google News sitemap, a plain
//! one, an index), since a site's full archive sitemap is rarely the one to watch. Every
//! request goes through the configured fetcher (robots.txt, politeness), or the defaults
//! when there is no valid config.

use url::Url;

use super::{CmdError, Globals};
use crate::config::source_block::{comment, Names, SourceBlock};
use crate::extract::sitemap::{self, Sitemap};
use crate::extract::{self, SourceKind};
use crate::fetch::{FetchOutcome, Fetched, Fetcher};

/// Announced sitemaps fetched to say what they are; the rest are listed unchecked.
const MAX_SITEMAPS_CHECKED: usize = 10;

/// Prints the feeds and sitemaps a site announces, as `[[source]]` blocks.
///
/// # Errors
/// The page cannot be fetched or read.
pub async fn run(globals: &Globals, input: &str) -> Result<(), CmdError> {
    let url = Url::parse(input)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| CmdError::Usage(format!("expected an http(s) URL, found {input:?}")))?;
    let settings = globals.http_settings_for(&url);
    let cap = settings.max_body_bytes;
    let fetcher = Fetcher::new(settings).map_err(|e| CmdError::Runtime(e.into()))?;
    let page = match fetcher.fetch(&url, None).await {
        FetchOutcome::Fetched(f) => f,
        FetchOutcome::NotModified { .. } => {
            return Err(CmdError::Runtime(anyhow::anyhow!("{url}: not modified")))
        }
        FetchOutcome::Failed(e) => {
            return Err(CmdError::Runtime(anyhow::anyhow!("{url}: {}", e.message)))
        }
    };
    let mut names = Names::default();
    let mut blocks = page_blocks(&page, cap, &mut names);
    let robots = robots_sitemaps(&fetcher, &page.final_url).await;
    for (i, sitemap_url) in robots.iter().enumerate() {
        if blocks.iter().any(|b| &b.url == sitemap_url) {
            continue;
        }
        let what = if i < MAX_SITEMAPS_CHECKED {
            describe_sitemap(&fetcher, sitemap_url, cap).await
        } else {
            Described {
                news: false,
                text: "announced in robots.txt; not checked".into(),
            }
        };
        blocks.push(sitemap_block(sitemap_url, what, &mut names));
    }
    print!("{}", comment(&format!("announced by {}", page.final_url)));
    println!();
    if blocks.is_empty() {
        print!(
            "{}",
            comment(
                "no feed (<link rel=\"alternate\">) and no sitemap (robots.txt Sitemap:) announced"
            )
        );
    }
    for b in &blocks {
        print!("{}", b.render());
    }
    Ok(())
}

/// What the fetched URL itself offers: itself (a feed or sitemap), or the feeds it announces.
fn page_blocks(page: &Fetched, cap: u64, names: &mut Names) -> Vec<SourceBlock> {
    if sitemap::is_sitemap(&page.body) {
        let what = match sitemap::extract_sitemap(&page.body, &page.final_url, cap) {
            Ok(map) => describe(&map),
            Err(e) => Described {
                news: false,
                text: e.to_string(),
            },
        };
        return vec![sitemap_block(&page.final_url, what, names)];
    }
    let (text, _) = extract::charset::decode(&page.body, page.content_type.as_deref());
    if extract::sniff(&text, page.content_type.as_deref()) == extract::Sniffed::Feed {
        let name = names.name_for("", &page.final_url);
        return vec![SourceBlock {
            name,
            url: page.final_url.clone(),
            kind: SourceKind::Feed,
            comments: vec!["the URL is a feed".into()],
        }];
    }
    extract::announced_feeds(&text, &page.final_url)
        .into_iter()
        .map(|f| {
            let title = f.title.clone().unwrap_or_default();
            let label = if title.is_empty() {
                f.media_type.clone()
            } else {
                format!("{title} ({})", f.media_type)
            };
            SourceBlock {
                name: names.name_for(&title, &f.url),
                url: f.url,
                kind: SourceKind::Feed,
                comments: vec![format!("feed: {label}")],
            }
        })
        .collect()
}

/// The `Sitemap:` lines of the site's robots.txt; none when it cannot be read.
async fn robots_sitemaps(fetcher: &Fetcher, page: &Url) -> Vec<Url> {
    let Ok(robots) = page.join("/robots.txt") else {
        return Vec::new();
    };
    match fetcher.fetch(&robots, None).await {
        FetchOutcome::Fetched(f) => {
            let (text, _) = extract::charset::decode(&f.body, f.content_type.as_deref());
            sitemap::robots_sitemaps(&text)
        }
        _ => Vec::new(),
    }
}

struct Described {
    news: bool,
    text: String,
}

async fn describe_sitemap(fetcher: &Fetcher, url: &Url, cap: u64) -> Described {
    let failed = |why: String| Described {
        news: false,
        text: format!("announced in robots.txt; could not be read now: {why}"),
    };
    match fetcher.fetch(url, None).await {
        FetchOutcome::Fetched(f) => match sitemap::extract_sitemap(&f.body, &f.final_url, cap) {
            Ok(map) => describe(&map),
            Err(e) => failed(e.to_string()),
        },
        FetchOutcome::NotModified { .. } => failed("not modified".into()),
        FetchOutcome::Failed(e) => failed(e.message),
    }
}

fn describe(map: &Sitemap) -> Described {
    match map {
        Sitemap::Index(children) => Described {
            news: false,
            text: format!("sitemap index of {} sitemaps", children.len()),
        },
        Sitemap::Urls(set) => {
            let news = set
                .entries
                .iter()
                .any(|e| e.title.is_some() || e.lang.is_some());
            let newest = set
                .entries
                .first()
                .and_then(|e| e.published)
                .map(|d| format!(", newest {}", d.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default();
            let more = if set.left > 0 {
                format!(" (+{} past the protocol's limit)", set.left)
            } else {
                String::new()
            };
            Described {
                news,
                text: format!(
                    "{}: {} URLs{more}{newest}",
                    if news {
                        "Google News sitemap"
                    } else {
                        "sitemap"
                    },
                    set.entries.len()
                ),
            }
        }
    }
}

fn sitemap_block(url: &Url, what: Described, names: &mut Names) -> SourceBlock {
    let host = url.host_str().unwrap_or("").trim_start_matches("www.");
    let title = format!("{host} {}", if what.news { "news" } else { "sitemap" });
    SourceBlock {
        name: names.name_for(&title, url),
        url: url.clone(),
        kind: SourceKind::Sitemap,
        comments: vec![what.text],
    }
}
