//! Snippets: about [`SNIPPET_CHARS`] characters of whole words around a match,
//! cut only at grapheme-cluster boundaries, whitespace runs collapsed, with
//! `…` where the text was cut.

use std::ops::Range;

use unicode_segmentation::GraphemeCursor;

use super::Snippet;

/// Target length of a snippet, in characters.
pub const SNIPPET_CHARS: usize = 200;

const ELLIPSIS: &str = "…";

/// The window of `text` (byte range) to show around `span`.
pub(crate) fn window(text: &str, span: Range<usize>) -> Range<usize> {
    let span_chars = text[span.clone()].chars().count();
    if span_chars >= SNIPPET_CHARS {
        let end = text[span.start..]
            .char_indices()
            .nth(SNIPPET_CHARS)
            .map_or(text.len(), |(i, _)| span.start + i);
        return span.start..prev_boundary(text, end, span.start);
    }
    let budget = SNIPPET_CHARS - span_chars;
    let avail_left = text[..span.start].chars().rev().take(budget).count();
    let avail_right = text[span.end..].chars().take(budget).count();
    let mut left = budget / 2;
    let mut right = budget - left;
    if avail_left < left {
        right += left - avail_left;
        left = avail_left;
    } else if avail_right < right {
        left = (left + right - avail_right).min(avail_left);
        right = avail_right;
    }
    let raw_start = if left == 0 {
        span.start
    } else {
        text[..span.start]
            .char_indices()
            .rev()
            .nth(left - 1)
            .map_or(0, |(i, _)| i)
    };
    let raw_end = text[span.end..]
        .char_indices()
        .nth(right)
        .map_or(text.len(), |(i, _)| span.end + i);

    let start = if raw_start == 0 || text[..raw_start].ends_with(char::is_whitespace) {
        raw_start
    } else {
        // Start after the first whitespace, i.e. at a word start.
        text[raw_start..span.start]
            .find(char::is_whitespace)
            .map(|i| {
                let ws = raw_start + i;
                ws + text[ws..].len() - text[ws..].trim_start().len()
            })
            .map_or_else(
                || next_boundary(text, raw_start, span.start),
                |s| s.min(span.start),
            )
    };
    let end = if raw_end == text.len() || text[raw_end..].starts_with(char::is_whitespace) {
        raw_end
    } else {
        text[span.end..raw_end]
            .rfind(char::is_whitespace)
            .map_or_else(|| prev_boundary(text, raw_end, span.end), |i| span.end + i)
    };
    let end = text[..end].trim_end().len().max(span.end);
    // Never open on whitespace (a body that starts with blank lines).
    let lead = &text[start..span.start];
    let start = start + lead.len() - lead.trim_start().len();
    start..end
}

fn next_boundary(text: &str, pos: usize, limit: usize) -> usize {
    let mut cursor = GraphemeCursor::new(pos, text.len(), true);
    if cursor.is_boundary(text, 0).unwrap_or(true) {
        return pos;
    }
    match cursor.next_boundary(text, 0) {
        Ok(Some(b)) => b.min(limit),
        _ => limit,
    }
}

fn prev_boundary(text: &str, pos: usize, limit: usize) -> usize {
    let mut cursor = GraphemeCursor::new(pos, text.len(), true);
    if cursor.is_boundary(text, 0).unwrap_or(true) {
        return pos;
    }
    match cursor.prev_boundary(text, 0) {
        Ok(Some(b)) => b.max(limit),
        _ => limit,
    }
}

/// The opening words of `text` (about [`SNIPPET_CHARS`] characters), without highlights:
/// the snippet of an article whose terms are in its title only.
pub(crate) fn opening(text: &str) -> Snippet {
    // No highlights: offsets into the trimmed text serve as well as into `text`.
    let text = text.trim_start();
    if text.is_empty() {
        return Snippet::default();
    }
    build(text, window(text, 0..0), &[])
}

/// Builds the snippet for `window` of `text`; `highlights` are byte ranges of
/// `text` (any order, may overlap, may stick out of the window).
pub(crate) fn build(text: &str, window: Range<usize>, highlights: &[Range<usize>]) -> Snippet {
    let mut ranges: Vec<Range<usize>> = highlights
        .iter()
        .map(|h| h.start.max(window.start)..h.end.min(window.end))
        .filter(|h| h.start < h.end)
        .collect();
    ranges.sort_by_key(|r| (r.start, r.end));

    let slice = &text[window.clone()];
    let mut out = String::with_capacity(slice.len() + 8);
    // `…` only where words were left out: never for whitespace alone (issue 19).
    if !text[..window.start].trim().is_empty() {
        out.push_str(ELLIPSIS);
        out.push(' ');
    }
    // new_at[i]: offset in `out` of byte i of `slice`.
    let mut new_at = Vec::with_capacity(slice.len() + 1);
    let mut in_space = false;
    for (i, c) in slice.char_indices() {
        new_at.resize(i, out.len());
        new_at.push(out.len());
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    new_at.resize(slice.len() + 1, out.len());
    if !text[window.end..].trim().is_empty() {
        out.push(' ');
        out.push_str(ELLIPSIS);
    }

    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in ranges {
        let r = new_at[r.start - window.start]..new_at[r.end - window.start];
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    Snippet {
        text: out,
        highlights: merged,
    }
}

#[cfg(test)]
#[allow(
    clippy::single_range_in_vec_init,
    reason = "a slice of one highlight span, not a range to expand"
)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_around_match() {
        let text = "word ".repeat(100) + "Niger" + &" more".repeat(100);
        let at = text.find("Niger").expect("present");
        let w = window(&text, at..at + 5);
        let s = build(&text, w, &[at..at + 5]);
        assert!(
            s.text.starts_with("… word") && s.text.ends_with("more …"),
            "{}",
            s.text
        );
        let n = s.text.chars().count();
        assert!((190..=215).contains(&n), "{n}");
        assert_eq!(&s.text[s.highlights[0].clone()], "Niger");
    }

    #[test]
    fn short_text_is_whole() {
        let text = "Pentagon  confirms\n\ntalks on leaving Niger";
        let at = text.find("Niger").expect("present");
        let s = build(text, window(text, at..at + 5), &[at..at + 5]);
        assert_eq!(s.text, "Pentagon confirms talks on leaving Niger");
        assert_eq!(&s.text[s.highlights[0].clone()], "Niger");
    }

    #[test]
    fn no_ellipsis_for_whitespace_alone() {
        let text = "\n\n  Pentagon confirms talks on leaving Niger.  \n\n";
        let at = text.find("Niger").expect("present");
        let s = build(text, window(text, at..at + 5), &[at..at + 5]);
        assert_eq!(s.text, "Pentagon confirms talks on leaving Niger.");
    }

    #[test]
    fn opening_words_without_highlights() {
        let text = format!("\n  {}", "word ".repeat(100));
        let s = opening(&text);
        assert!(
            s.text.starts_with("word word") && s.text.ends_with("word …"),
            "{}",
            s.text
        );
        assert!(s.highlights.is_empty());
        assert_eq!(opening(" \n ").text, "");
        assert_eq!(opening("Short body.").text, "Short body.");
    }

    #[test]
    fn no_spaces_cuts_at_graphemes() {
        let text = "e\u{301}".repeat(500) + "X" + &"e\u{301}".repeat(500);
        let at = text.find('X').expect("present");
        let w = window(&text, at..at + 1);
        assert!(text.is_char_boundary(w.start) && text.is_char_boundary(w.end));
        assert!(text[w.clone()].starts_with('e') && text[w.clone()].ends_with('\u{301}'));
    }
}
