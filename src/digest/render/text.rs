//! The plain-text part: wrapped at [`TEXT_WIDTH`] columns on whole words, each item's
//! title on one unwrapped line exactly as the article gives it (a reader, a filter or a
//! search finds it whole; the HTML part highlights the terms in it), URLs on their own
//! unwrapped line, snippet highlights as `**term**`, each story's other copies on one
//! `Also in:` line.

use std::fmt::Write as _;

use unicode_segmentation::UnicodeSegmentation;

use super::{CopyView, EarlierView, ItemView, Segment, View, TEXT_WIDTH};

/// Marker put on both sides of a highlighted run.
const MARK: &str = "**";
/// Hanging indent of an item's lines under its `* ` bullet.
const INDENT: &str = "  ";

pub(super) fn render(v: &View) -> String {
    let mut out = String::new();
    let heading = format!("{} for watchlist \"{}\".", v.count_line(), v.watchlist);
    push_wrapped(&mut out, &heading, "", "");

    for (i, item) in v.items.iter().enumerate() {
        if i == v.full {
            out.push('\n');
            push_wrapped(&mut out, "More new articles, in brief:", "", "");
        }
        out.push_str(&self::item(item, i < v.full));
    }
    if !v.earlier.is_empty() {
        out.push('\n');
        push_wrapped(&mut out, "Already mailed, now also in:", "", "");
        for e in &v.earlier {
            out.push_str(&earlier(e));
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

/// One story, in full or compact, with the blank line before it.
pub(super) fn item(item: &ItemView, full: bool) -> String {
    let mut out = String::from("\n");
    push_title(&mut out, &plain(&item.title));
    if !item.url.is_empty() {
        // Never wrapped: a broken URL is a dead link.
        let _ = writeln!(out, "{INDENT}{}", item.url);
    }
    push_also_in(&mut out, &item.also_in, item.more_copies);
    let meta = match &item.published {
        Some(p) => format!("{} | {p}", item.source),
        None => item.source.clone(),
    };
    push_wrapped(&mut out, &meta, INDENT, INDENT);
    if !full {
        return out;
    }
    if !item.terms.is_empty() {
        let terms = format!("Matched: {}", item.terms.join(", "));
        push_wrapped(&mut out, &terms, INDENT, INDENT);
    }
    let snippet = marked(&item.snippet);
    if !snippet.is_empty() {
        push_wrapped(&mut out, &snippet, INDENT, INDENT);
    }
    out
}

/// Copies of a story mailed before, under its title, with the blank line before it.
pub(super) fn earlier(e: &EarlierView) -> String {
    let mut out = String::from("\n");
    push_title(&mut out, &e.title);
    if !e.url.is_empty() {
        let _ = writeln!(out, "{INDENT}{}", e.url);
    }
    push_also_in(&mut out, &e.also_in, e.more_copies);
    let meta = format!("{} | mailed {}", e.source, e.mailed);
    push_wrapped(&mut out, &meta, INDENT, INDENT);
    out
}

/// `Also in: bbc-en https://… | apnews https://… | and 3 more`: one line, never wrapped
/// (it holds links, and readers and checks find a story's copies on it).
fn push_also_in(out: &mut String, copies: &[CopyView], more: usize) {
    if copies.is_empty() && more == 0 {
        return;
    }
    let mut named: Vec<String> = copies
        .iter()
        .map(|c| {
            if c.url.is_empty() {
                c.source.clone()
            } else {
                format!("{} {}", c.source, c.url)
            }
        })
        .collect();
    match more {
        0 => {}
        1 => named.push("and 1 more copy".into()),
        n => named.push(format!("and {n} more copies")),
    }
    let _ = writeln!(out, "{INDENT}Also in: {}", named.join(" | "));
}

/// `* title` on one line, never wrapped: titles are short, and one cut in two is no
/// longer the title a reader or a mail filter searches for.
fn push_title(out: &mut String, title: &str) {
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    let _ = writeln!(out, "* {title}");
}

/// Runs as one string, unmarked.
fn plain(segments: &[Segment]) -> String {
    segments.iter().map(|s| s.text.as_str()).collect()
}

/// Runs as one string, highlights marked `**term**`.
fn marked(segments: &[Segment]) -> String {
    segments
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
        .collect()
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

/// Words of `s` to wrap: an ellipsis standing alone is kept with the word before it (or,
/// first, the word after it), so no line is a lone `…`.
fn wrap_units(s: &str) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    let mut pending: Option<String> = None;
    for w in words(s) {
        let lone = w.chars().all(|c| c == '…' || c == '.') && w.contains('…');
        match units.last_mut() {
            Some(last) if lone => {
                last.push(' ');
                last.push_str(w);
            }
            _ if lone => {
                pending = Some(pending.map_or_else(|| w.to_owned(), |p| format!("{p} {w}")))
            }
            _ => units.push(match pending.take() {
                Some(p) => format!("{p} {w}"),
                None => w.to_owned(),
            }),
        }
    }
    units.extend(pending);
    units
}

/// Greedy wrap of `s` to `width` columns: the first line starts with `first`,
/// the others with `rest`. A word wider than a whole line is cut between
/// graphemes.
pub(super) fn wrap(s: &str, width_max: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut used = width(first);
    let mut empty = true;
    for unit in wrap_units(s) {
        let word = unit.as_str();
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
            let gs: Vec<&str> = word.graphemes(true).collect();
            // Where a cut line would leave nothing but an ellipsis after it, cut one word
            // grapheme sooner, so the ellipsis keeps company.
            let only_dots = |rest: &[&str]| rest.iter().all(|g| matches!(*g, " " | "…" | "."));
            let mut k = 0;
            while k < gs.len() {
                if used >= width_max && !empty {
                    lines.push(std::mem::replace(&mut line, rest.to_string()));
                    used = width(rest);
                }
                let room = width_max.saturating_sub(used).max(1);
                let mut take = room.min(gs.len() - k);
                if k + take < gs.len() && only_dots(&gs[k + take..]) {
                    // The last word grapheme goes to the next line with the dots.
                    let last_word = gs.iter().rposition(|g| !only_dots(&[g])).unwrap_or(0);
                    take = last_word.saturating_sub(k).max(1);
                }
                for g in &gs[k..k + take] {
                    line.push_str(g);
                }
                used += take;
                k += take;
                empty = false;
                if k < gs.len() {
                    used = width_max;
                }
            }
        }
        empty = false;
    }
    if !empty {
        lines.push(line);
    }
    lines
}
