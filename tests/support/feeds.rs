//! RSS 2.0 documents for the test sites: a channel of [`Item`]s, each a title, a link, a
//! description and a publication date (now unless given; or none).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

/// One `<item>`: text is written escaped, so titles and links are given as plain text.
#[derive(Debug, Clone)]
pub struct Item {
    title: String,
    link: String,
    description: String,
    published: Published,
}

#[derive(Debug, Clone, Copy)]
enum Published {
    /// When the feed is written.
    Now,
    At(DateTime<Utc>),
    /// No `<pubDate>`.
    Undated,
}

impl Item {
    /// An item published when the feed is written (one time for every such item of a feed).
    pub fn new(
        title: impl Into<String>,
        link: impl Into<String>,
        description: impl Into<String>,
    ) -> Item {
        Item {
            title: title.into(),
            link: link.into(),
            description: description.into(),
            published: Published::Now,
        }
    }

    /// Published at `at`.
    #[must_use]
    pub fn published(mut self, at: DateTime<Utc>) -> Item {
        self.published = Published::At(at);
        self
    }

    /// Without a `<pubDate>`.
    #[must_use]
    pub fn undated(mut self) -> Item {
        self.published = Published::Undated;
        self
    }
}

/// An RSS 2.0 feed (channel "wire", UTF-8) of `items`, in order.
pub fn rss(items: &[Item]) -> String {
    let now = Utc::now();
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>wire</title><link>http://example.org/</link><description>d</description>\n",
    );
    for item in items {
        let _ = write!(
            s,
            "<item><title>{}</title><link>{}</link><description>{}</description>",
            escape(&item.title),
            escape(&item.link),
            escape(&item.description)
        );
        let date = match item.published {
            Published::Now => Some(now),
            Published::At(at) => Some(at),
            Published::Undated => None,
        };
        if let Some(date) = date {
            let _ = write!(s, "<pubDate>{}</pubDate>", date.to_rfc2822());
        }
        s.push_str("</item>\n");
    }
    s.push_str("</channel></rss>\n");
    s
}

/// `text` as XML character data.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
