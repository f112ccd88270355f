//! The plain-text part: wrapped at [`TEXT_WIDTH`] columns on whole words,
//! URLs on their own unwrapped line, highlights as `**term**`.

use std::fmt::Write as _;

use unicode_segmentation::UnicodeSegmentation;

use super::{ItemView, View, TEXT_WIDTH};

/// Marker put on both sides of a highlighted run.
const MARK: &str = "**";
/// Hanging indent of an item's lines under its `* ` bullet.
const INDENT: &str = "  ";

pub(super) fn render(v: &View) -> String {
    let mut out = String::new();
    let heading = match v.count {
        0 => format!("No new articles for watchlist \"{}\".", v.watchlist),
        1 => format!("1 new article for watchlist \"{}\".", v.watchlist),
        n => format!("{n} new articles for watchlist \"{}\".", v.watchlist),
    };
    push_wrapped(&mut out, &heading, "", "");

    for g in &v.groups {
        out.push('\n');
        let rule = format!("== {} ({}) ==", g.source, g.items.len());
        push_wrapped(&mut out, &rule, "", "");
        for item in &g.items {
            out.push('\n');
            push_item(&mut out, item);
        }
    }

    if !v.footer.is_empty() {
        out.push('\n');
        push_wrapped(&mut out, "Source health:", "", "");
        for note in &v.footer {
            push_wrapped(&mut out, note, "- ", INDENT);
        }
    }

    // "-- " is the usual signature separator; clients may fold what follows.
    out.push_str("\n-- \n");
    let why = v.why(&format!("\"{}\"", v.watchlist));
    push_wrapped(&mut out, &why, "", "");
    out
}

fn push_item(out: &mut String, item: &ItemView) {
    push_wrapped(out, &item.title, "* ", INDENT);
    if !item.url.is_empty() {
        // Never wrapped: a broken URL is a dead link.
        let _ = writeln!(out, "{INDENT}{}", item.url);
    }
    let meta = match &item.published {
        Some(p) => format!("{} | {p}", item.source),
        None => item.source.clone(),
    };
    push_wrapped(out, &meta, INDENT, INDENT);
    if !item.terms.is_empty() {
        let terms = format!("Matched: {}", item.terms.join(", "));
        push_wrapped(out, &terms, INDENT, INDENT);
    }
    let snippet: String = item
        .snippet
        .iter()
        .map(|s| {
            if s.highlight {
                // Keep edge spaces outside the markers: `a **b** c`, not `a** b **c`.
                let t = s.text.trim();
                if t.is_empty() {
                    return s.text.clone();
                }
                let lead = if s.text.starts_with(' ') { " " } else { "" };
                let trail = if s.text.ends_with(' ') { " " } else { "" };
                format!("{lead}{MARK}{t}{MARK}{trail}")
            } else {
                s.text.clone()
            }
        })
        .collect();
    if !snippet.is_empty() {
        push_wrapped(out, &snippet, INDENT, INDENT);
    }
}

fn push_wrapped(out: &mut String, s: &str, first: &str, rest: &str) {
    for line in wrap(s, TEXT_WIDTH, first, rest) {
        out.push_str(&line);
        out.push('\n');
    }
}

/// Columns taken by `s`: one per grapheme.
fn width(s: &str) -> usize {
    s.graphemes(true).count()
}

/// Words of `s`: maximal runs of graphemes that are not whitespace. Splitting
/// on graphemes (not chars) keeps a combining mark with its base.
fn words(s: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, g) in s.grapheme_indices(true) {
        let space = g.chars().all(char::is_whitespace);
        match (space, start) {
            (true, Some(st)) => {
                words.push(&s[st..i]);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(st) = start {
        words.push(&s[st..]);
    }
    words
}

/// Greedy wrap of `s` to `width` columns: the first line starts with `first`,
/// the others with `rest`. A word wider than a whole line is cut between
/// graphemes.
pub(super) fn wrap(s: &str, width_max: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut used = width(first);
    let mut empty = true;
    for word in words(s) {
        let w = width(word);
        if !empty && used + 1 + w > width_max {
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            used = width(rest);
            empty = true;
        }
        if !empty {
            line.push(' ');
            used += 1;
        }
        if used + w <= width_max {
            line.push_str(word);
            used += w;
        } else {
            for g in word.graphemes(true) {
                if used >= width_max && !empty {
                    lines.push(std::mem::replace(&mut line, rest.to_string()));
                    used = width(rest);
                }
                line.push_str(g);
                used += 1;
                empty = false;
            }
        }
        empty = false;
    }
    if !empty {
        lines.push(line);
    }
    lines
}
