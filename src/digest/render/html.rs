//! The HTML part: one complete document, table layout, inline styles only, no
//! remote resources. Every string from the web goes through [`esc`] (element
//! text) or [`attr`] (attribute values).

use std::fmt::Write as _;

use super::{CopyView, EarlierView, ItemView, Segment, View};

const FONT: &str = "font-family:Arial,Helvetica,sans-serif;";
const MUTED: &str = "color:#6b7280;font-size:12px;line-height:1.5;";
const HIGHLIGHT: &str = "background-color:#fde68a;color:#111827;font-weight:bold;";

/// Escape element text (`&`, `<`, `>`). Only ever used between tags, never
/// in attributes, so quotes need no escaping and the snapshots stay readable.
fn esc(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

/// Escape a double-quoted attribute value.
fn attr(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).into_owned()
}

pub(super) fn render(v: &View) -> String {
    let mut h = String::new();
    let title = format!("newswatch: {}", v.watchlist);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n</head>\n\
         <body style=\"margin:0;padding:0;background-color:#f3f4f6;\">\n\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"background-color:#f3f4f6;\">\n<tr><td align=\"center\" style=\"padding:16px 8px;\">\n\
         <table role=\"presentation\" width=\"640\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"width:100%;max-width:640px;background-color:#ffffff;border:1px solid #e5e7eb;\
         {FONT}color:#111827;\">\n",
        esc(&title)
    );
    push_header(&mut h, v);
    for (i, item) in v.items.iter().enumerate() {
        if i == v.full {
            h.push_str(&section("More new articles, in brief"));
        }
        h.push_str(&self::item(item, i < v.full));
    }
    if !v.earlier.is_empty() {
        h.push_str(&section("Already mailed, now also in"));
        for e in &v.earlier {
            h.push_str(&earlier(e));
        }
    }
    push_footer(&mut h, v);
    h.push_str("</table>\n</td></tr>\n</table>\n</body>\n</html>\n");
    h
}

fn section(label: &str) -> String {
    format!(
        "<tr><td style=\"padding:18px 20px 6px 20px;border-bottom:2px solid #e5e7eb;\
         font-size:13px;font-weight:bold;color:#374151;\">{label}</td></tr>\n"
    )
}

fn push_header(h: &mut String, v: &View) {
    let _ = writeln!(
        h,
        "<tr><td style=\"padding:16px 20px;background-color:#1f2937;color:#ffffff;\">\
         <div style=\"font-size:12px;letter-spacing:1px;color:#d1d5db;\">NEWSWATCH</div>\
         <div style=\"font-size:20px;font-weight:bold;\"><bdi>{}</bdi></div>\
         <div style=\"font-size:13px;color:#d1d5db;\">{}</div></td></tr>",
        esc(&v.watchlist),
        v.count_line()
    );
}

/// The opening of an item's row: direction, language, alignment. Right-to-left items
/// inherit `rtl` for title and snippet, so a leading Latin word cannot flip them; other
/// items let each line decide (`auto`), so an Arabic title in a French feed still reads
/// right. Returns the row's opening tag, the alignment and the `dir` for its lines.
fn row(rtl: bool, lang: Option<&String>, padding: &str) -> (String, &'static str, &'static str) {
    let (dir, align, auto) = if rtl {
        ("rtl", "right", "")
    } else {
        ("ltr", "left", " dir=\"auto\"")
    };
    let lang = lang
        .map(|l| format!(" lang=\"{}\"", attr(l)))
        .unwrap_or_default();
    let open = format!(
        "<tr><td dir=\"{dir}\"{lang} style=\"padding:{padding};border-bottom:1px solid #f3f4f6;\
         text-align:{align};\">\n"
    );
    (open, align, auto)
}

fn linked(href: Option<&String>, inner: &str) -> String {
    match href {
        Some(href) => format!(
            "<a href=\"{}\" style=\"color:#1d4ed8;text-decoration:none;\">{inner}</a>",
            attr(href)
        ),
        None => inner.to_owned(),
    }
}

/// One story, in full or compact.
pub(super) fn item(item: &ItemView, full: bool) -> String {
    let mut h = String::new();
    let padding = if full { "14px 20px" } else { "8px 20px" };
    let (open, align, auto) = row(item.rtl, item.lang.as_ref(), padding);
    h.push_str(&open);
    let title = linked(item.href.as_ref(), &highlighted(&item.title));
    let size = if full { "16px" } else { "14px" };
    let _ = writeln!(
        h,
        "<div{auto} style=\"font-size:{size};font-weight:bold;line-height:1.4;\">{title}</div>"
    );
    // English labels, URLs and times: left-to-right lines, aligned with the item.
    let line = format!("<div dir=\"ltr\" style=\"{MUTED}text-align:{align};");
    if full && !item.url.is_empty() {
        let _ = writeln!(h, "{line}word-break:break-all;\">{}</div>", esc(&item.url));
    }
    if let Some(also) = also_in(&item.also_in, item.more_copies) {
        let _ = writeln!(h, "{line}\">{also}</div>");
    }
    let when = item
        .published
        .as_ref()
        .map(|p| format!(" &middot; <bdi>{}</bdi>", esc(p)))
        .unwrap_or_default();
    let _ = writeln!(h, "{line}\"><bdi>{}</bdi>{when}</div>", esc(&item.source));
    if full && !item.terms.is_empty() {
        let terms: Vec<String> = item
            .terms
            .iter()
            .map(|t| format!("<bdi>{}</bdi>", esc(t)))
            .collect();
        let _ = writeln!(h, "{line}\">Matched: {}</div>", terms.join(", "));
    }
    if full && !item.snippet.is_empty() {
        let _ = writeln!(
            h,
            "<div{auto} style=\"font-size:14px;line-height:1.6;color:#1f2937;padding-top:6px;\">{}</div>",
            highlighted(&item.snippet)
        );
    }
    h.push_str("</td></tr>\n");
    h
}

/// Copies of a story mailed before, under its title.
pub(super) fn earlier(e: &EarlierView) -> String {
    let mut h = String::new();
    let (open, align, auto) = row(e.rtl, None, "8px 20px");
    h.push_str(&open);
    let title = linked(e.href.as_ref(), &esc(&e.title));
    let _ = writeln!(
        h,
        "<div{auto} style=\"font-size:14px;font-weight:bold;line-height:1.4;\">{title}</div>"
    );
    let line = format!("<div dir=\"ltr\" style=\"{MUTED}text-align:{align};");
    if let Some(also) = also_in(&e.also_in, e.more_copies) {
        let _ = writeln!(h, "{line}\">{also}</div>");
    }
    let _ = writeln!(
        h,
        "{line}\"><bdi>{}</bdi> &middot; mailed <bdi>{}</bdi></div>",
        esc(&e.source),
        esc(&e.mailed)
    );
    h.push_str("</td></tr>\n");
    h
}

/// `Also in: <a>bbc-en</a>, <a>apnews</a> and 3 more copies`, or nothing.
fn also_in(copies: &[CopyView], more: usize) -> Option<String> {
    if copies.is_empty() && more == 0 {
        return None;
    }
    let named: Vec<String> = copies
        .iter()
        .map(|c| linked(c.href.as_ref(), &format!("<bdi>{}</bdi>", esc(&c.source))))
        .collect();
    let more = match more {
        0 => String::new(),
        1 => " and 1 more copy".into(),
        n => format!(" and {n} more copies"),
    };
    Some(format!("Also in: {}{more}", named.join(", ")))
}

fn highlighted(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|s| {
            if s.highlight {
                format!("<b style=\"{HIGHLIGHT}\">{}</b>", esc(&s.text))
            } else {
                esc(&s.text)
            }
        })
        .collect()
}

fn push_footer(h: &mut String, v: &View) {
    if !v.footer.is_empty() {
        h.push_str(
            "<tr><td style=\"padding:14px 20px;background-color:#fff7ed;border-top:1px solid #fed7aa;\
             font-size:13px;line-height:1.5;color:#7c2d12;\">\n\
             <div style=\"font-weight:bold;\">Source health</div>\n",
        );
        for note in &v.footer {
            let _ = writeln!(h, "<div dir=\"auto\">&bull; {}</div>", esc(note));
        }
        h.push_str("</td></tr>\n");
    }
    let _ = writeln!(
        h,
        "<tr><td style=\"padding:14px 20px;{MUTED}border-top:1px solid #e5e7eb;\">\
         {}</td></tr>",
        v.why(&format!("&quot;<bdi>{}</bdi>&quot;", esc(&v.watchlist)))
    );
}
