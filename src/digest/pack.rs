//! Digests that fit in any inbox: a [`Composition`] → one or more messages ([`Part`]),
//! each at most [`HTML_LIMIT`] bytes of HTML and [`TEXT_LIMIT`] of text (Gmail clips a
//! message whose HTML passes ~102 kB, hiding what follows). Pure.
//!
//! The first stories are shown in full, at most [`FULL_ITEMS`] of them and while they take
//! no more than [`FULL_SHARE_PERCENT`] of the first message; the rest are compact lines
//! (title, link, `Also in:`, source). Stories go into a message in rank order until the
//! next would not fit; then a new message begins. Copies of stories mailed before come
//! last. When there is more than one message each is a numbered part (`(2/3)` in the
//! subject) and a valid digest of its own: its own heading and count, the health notes in
//! the first. Nothing is ever dropped to make a digest fit: every story and earlier story
//! is in exactly one part, and so is every match it claims.
//!
//! Sizes are the renderer's own ([`measure_item`]): a message is its frame plus its items,
//! and each part is rendered and checked at the end; a part that still came out too large
//! (it cannot, short of a bug in the measures) is packed again with a smaller budget.

use super::build::Composition;
use super::render::{
    measure_earlier, measure_item, render_digest, Digest, DigestItem, EarlierStory, PartOf,
    Rendered, Size,
};

/// Bytes of HTML a message holds at most.
pub const HTML_LIMIT: usize = 100_000;
/// Bytes of plain text a message holds at most.
pub const TEXT_LIMIT: usize = 100_000;
/// Stories shown in full at most.
pub const FULL_ITEMS: usize = 20;
/// Share of the first message that stories in full may take.
pub const FULL_SHARE_PERCENT: usize = 60;
/// Kept free in each message for what the item measures leave out: the section headings
/// and the part numbers in the heading.
const SLACK: usize = 2_000;

/// One message of a digest, and the articles whose matches it claims.
#[derive(Debug, Clone)]
pub struct Part {
    pub digest: Digest,
    pub rendered: Rendered,
    pub article_ids: Vec<i64>,
    /// Stories (items) in it.
    pub stories: usize,
}

/// What goes where.
#[derive(Debug, Clone, Copy)]
enum Entry {
    Story { index: usize, full: bool },
    Earlier(usize),
}

/// Splits `c` into messages that fit.
#[must_use]
pub fn split(c: &Composition) -> Vec<Part> {
    let mut budget = Size {
        text: TEXT_LIMIT - SLACK,
        html: HTML_LIMIT - SLACK,
    };
    loop {
        let parts = pack(c, budget);
        let fits = parts
            .iter()
            .all(|p| p.rendered.html.len() <= HTML_LIMIT && p.rendered.text.len() <= TEXT_LIMIT);
        let one_each = parts
            .iter()
            .all(|p| p.stories + p.digest.earlier.len() <= 1);
        if fits || one_each {
            return parts;
        }
        budget.text = budget.text * 9 / 10;
        budget.html = budget.html * 9 / 10;
    }
}

fn pack(c: &Composition, budget: Size) -> Vec<Part> {
    let tz = c.timezone;
    let frame = |first: bool| {
        let d = frame_digest(c, first, Some(PartOf { number: 99, of: 99 }));
        let r = render_digest(&d);
        Size {
            text: r.text.len(),
            html: r.html.len(),
        }
    };
    let full_budget = Size {
        text: budget.text * FULL_SHARE_PERCENT / 100,
        html: budget.html * FULL_SHARE_PERCENT / 100,
    };
    let mut parts: Vec<Vec<Entry>> = Vec::new();
    let mut current: Vec<Entry> = Vec::new();
    let mut used = frame(true);
    let mut in_full = 0;
    let mut compact = false;
    let fits = |used: Size, add: Size, limit: Size| {
        used.text + add.text <= limit.text && used.html + add.html <= limit.html
    };
    for (index, s) in c.stories.iter().enumerate() {
        let full_size = measure_item(&s.item, true, tz);
        let full = !compact
            && parts.is_empty()
            && in_full < FULL_ITEMS
            && fits(used, full_size, full_budget);
        compact = !full;
        let size = if full {
            full_size
        } else {
            measure_item(&s.item, false, tz)
        };
        if !fits(used, size, budget) && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
            used = frame(false);
        }
        in_full += usize::from(full);
        used = used + size;
        current.push(Entry::Story { index, full });
    }
    for (index, e) in c.earlier.iter().enumerate() {
        let size = measure_earlier(&e.item, tz);
        if !fits(used, size, budget) && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
            used = frame(false);
        }
        used = used + size;
        current.push(Entry::Earlier(index));
    }
    if !current.is_empty() || parts.is_empty() {
        parts.push(current);
    }
    let of = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(k, entries)| {
            let part = (of > 1).then_some(PartOf { number: k + 1, of });
            build_part(c, &entries, k == 0, part)
        })
        .collect()
}

/// A digest of `c`'s heading and (for the first part) footer, without items.
fn frame_digest(c: &Composition, first: bool, part: Option<PartOf>) -> Digest {
    Digest {
        watchlist: c.watchlist.clone(),
        items: Vec::new(),
        full: 0,
        earlier: Vec::new(),
        footer: if first { c.footer.clone() } else { Vec::new() },
        timezone: c.timezone,
        part,
    }
}

fn build_part(c: &Composition, entries: &[Entry], first: bool, part: Option<PartOf>) -> Part {
    let mut d = frame_digest(c, first, part);
    let mut article_ids = Vec::new();
    let mut items: Vec<DigestItem> = Vec::new();
    let mut earlier: Vec<EarlierStory> = Vec::new();
    for e in entries {
        match *e {
            Entry::Story { index, full } => {
                let s = &c.stories[index];
                d.full += usize::from(full);
                items.push(s.item.clone());
                article_ids.extend(&s.article_ids);
            }
            Entry::Earlier(index) => {
                let e = &c.earlier[index];
                earlier.push(e.item.clone());
                article_ids.extend(&e.article_ids);
            }
        }
    }
    d.items = items;
    d.earlier = earlier;
    let rendered = render_digest(&d);
    Part {
        stories: d.items.len(),
        digest: d,
        rendered,
        article_ids,
    }
}

#[cfg(test)]
mod tests;
