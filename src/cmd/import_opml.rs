//! `newswatch import-opml`: `[[source]]` blocks for the feeds of an OPML file.
//!
//! Outline titles become valid, unique source names; the categories they sit in are kept as
//! comment lines; outlines that cannot become a source are listed as comments too. With
//! `--check` the config is read and each clash with its sources is said where it happens: a
//! feed that is already a source (same canonical URL) is printed commented out, and a title
//! whose name a source already has gets the next free name, with a comment saying so. A
//! summary goes to stderr. The exit status is 0 either way: a clash is an answer, not a
//! failure.

use std::collections::HashMap;
use std::io::Read as _;

use anyhow::Context as _;

use super::{CmdError, Globals};
use crate::config::opml::{parse_opml, Opml};
use crate::config::source_block::{base_name, comment, Names, SourceBlock};
use crate::config::Config;
use crate::extract::{canonical_url, SourceKind};

/// Prints a `[[source]]` block for every feed of an OPML file; with `check`, says which clash
/// with the config's sources.
///
/// # Errors
/// The file cannot be read or is not OPML (with its line and column); with `check`, an
/// invalid config.
pub fn run(globals: &Globals, file: &str, check: bool) -> Result<(), CmdError> {
    let bytes = if file == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        buf
    } else {
        std::fs::read(file).with_context(|| format!("reading {file}"))?
    };
    let (text, _) = crate::extract::charset::decode(&bytes, None);
    let opml = parse_opml(&text).map_err(|e| CmdError::Usage(format!("{file}:{e}")))?;
    let config = if check {
        Some(globals.load_config()?)
    } else {
        None
    };
    let (out, clashes) = render(&opml, file, config.as_ref());
    print!("{out}");
    if let Some(c) = &config {
        eprintln!(
            "newswatch: {} of {} feeds are already sources in {} (commented out), {} renamed to avoid a source's name",
            clashes.same_feed,
            opml.feeds.len(),
            c.path.display(),
            clashes.renamed
        );
    }
    Ok(())
}

/// How the OPML's feeds clash with the config's sources.
#[derive(Debug, Default, PartialEq, Eq)]
struct Clashes {
    same_feed: usize,
    renamed: usize,
}

/// The blocks for `opml`, and how they clash with `config`'s sources.
fn render(opml: &Opml, file: &str, config: Option<&Config>) -> (String, Clashes) {
    let mut out = comment(&format!(
        "{} feeds from {file}{}",
        opml.feeds.len(),
        opml.title
            .as_ref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default()
    ));
    out.push('\n');
    let by_url: HashMap<String, &str> = config
        .map(|c| {
            c.sources
                .iter()
                .map(|s| (canonical_url(&s.url).to_string(), s.name.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let mut names = config.map_or_else(Names::default, |c| {
        Names::taken(c.sources.iter().map(|s| s.name.as_str()))
    });
    let mut category: Vec<String> = Vec::new();
    let mut clashes = Clashes::default();
    for feed in &opml.feeds {
        if feed.categories != category {
            category.clone_from(&feed.categories);
            let label = if category.is_empty() {
                "(no category)".to_string()
            } else {
                category.join(" / ")
            };
            out.push_str(&comment(&format!("── {label} ──")));
            out.push('\n');
        }
        let wanted = base_name(&feed.title, &feed.url);
        let name = names.name_for(&feed.title, &feed.url);
        let mut comments = vec![if feed.title.is_empty() {
            feed.url.to_string()
        } else {
            feed.title.clone()
        }];
        if let Some(site) = &feed.html_url {
            comments[0].push_str(&format!(" — {site}"));
        }
        if feed.page {
            comments.push(
                "a page the reader scraped, not a feed: newswatch finds its article links itself (or set `links`)"
                    .into(),
            );
        }
        let block = SourceBlock {
            name,
            url: feed.url.clone(),
            kind: if feed.page {
                SourceKind::Page
            } else {
                SourceKind::Auto
            },
            comments,
        };
        if let Some(existing) = by_url.get(&canonical_url(&feed.url).to_string()) {
            clashes.same_feed += 1;
            out.push_str(
                &block
                    .render_commented(&format!("clash: this feed is already source {existing:?}")),
            );
            continue;
        }
        let mut block = block;
        if let Some(s) = config.and_then(|c| c.source(&wanted)) {
            clashes.renamed += 1;
            block.comments.push(format!(
                "clash: source {wanted:?} exists already ({}); this one is named {:?}",
                s.url, block.name
            ));
        }
        out.push_str(&block.render());
    }
    for s in &opml.skipped {
        out.push_str(&comment(&format!("skipped: {s}")));
    }
    (out, clashes)
}
