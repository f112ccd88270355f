//! The HTML part: one complete document, table layout, inline styles only, no
//! remote resources. Every string from the web goes through [`esc`] (element
//! text) or [`attr`] (attribute values).

use std::fmt::Write as _;

use super::{ItemView, Segment, View};

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
    for g in &v.groups {
        let _ = writeln!(
            h,
            "<tr><td style=\"padding:18px 20px 6px 20px;border-bottom:2px solid #e5e7eb;\
             font-size:13px;font-weight:bold;color:#374151;\">\
             <bdi>{}</bdi> <span style=\"font-weight:normal;color:#6b7280;\">({})</span></td></tr>",
            esc(&g.source),
            g.items.len()
        );
        for item in &g.items {
            push_item(&mut h, item);
        }
    }
    push_footer(&mut h, v);
    h.push_str("</table>\n</td></tr>\n</table>\n</body>\n</html>\n");
    h
}

fn push_header(h: &mut String, v: &View) {
    let count = match v.count {
        0 => "No new articles".to_string(),
        1 => "1 new article".to_string(),
        n => format!("{n} new articles"),
    };
    let _ = writeln!(
        h,
        "<tr><td style=\"padding:16px 20px;background-color:#1f2937;color:#ffffff;\">\
         <div style=\"font-size:12px;letter-spacing:1px;color:#d1d5db;\">NEWSWATCH</div>\
         <div style=\"font-size:20px;font-weight:bold;\"><bdi>{}</bdi></div>\
         <div style=\"font-size:13px;color:#d1d5db;\">{count}</div></td></tr>",
        esc(&v.watchlist)
    );
}

fn push_item(h: &mut String, item: &ItemView) {
    // Right-to-left items inherit `rtl` for title and snippet, so a leading
    // Latin word cannot flip them; other items let each line decide (`auto`),
    // so an Arabic title in a French feed still reads right.
    let (dir, align, auto) = if item.rtl {
        ("rtl", "right", "")
    } else {
        ("ltr", "left", " dir=\"auto\"")
    };
    let lang = item
        .lang
        .as_ref()
        .map(|l| format!(" lang=\"{}\"", attr(l)))
        .unwrap_or_default();
    let _ = writeln!(
        h,
        "<tr><td dir=\"{dir}\"{lang} style=\"padding:14px 20px;border-bottom:1px solid #f3f4f6;\
         text-align:{align};\">"
    );
    let title = match &item.href {
        Some(href) => format!(
            "<a href=\"{}\" style=\"color:#1d4ed8;text-decoration:none;\">{}</a>",
            attr(href),
            esc(&item.title)
        ),
        None => esc(&item.title),
    };
    let _ = writeln!(
        h,
        "<div{auto} style=\"font-size:16px;font-weight:bold;line-height:1.4;\">{title}</div>"
    );
    // English labels, URLs and times: left-to-right lines, aligned with the item.
    let line = format!("<div dir=\"ltr\" style=\"{MUTED}text-align:{align};");
    if !item.url.is_empty() {
        let _ = writeln!(h, "{line}word-break:break-all;\">{}</div>", esc(&item.url));
    }
    let when = item
        .published
        .as_ref()
        .map(|p| format!(" &middot; <bdi>{}</bdi>", esc(p)))
        .unwrap_or_default();
    let _ = writeln!(h, "{line}\"><bdi>{}</bdi>{when}</div>", esc(&item.source));
    if !item.terms.is_empty() {
        let terms: Vec<String> = item
            .terms
            .iter()
            .map(|t| format!("<bdi>{}</bdi>", esc(t)))
            .collect();
        let _ = writeln!(h, "{line}\">Matched: {}</div>", terms.join(", "));
    }
    if !item.snippet.is_empty() {
        let _ = writeln!(
            h,
            "<div{auto} style=\"font-size:14px;line-height:1.6;color:#1f2937;padding-top:6px;\">{}</div>",
            snippet(&item.snippet)
        );
    }
    h.push_str("</td></tr>\n");
}

fn snippet(segments: &[Segment]) -> String {
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
