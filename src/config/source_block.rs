//! `[[source]]` blocks to paste into the config, written by `discover` and `import-opml`.
//!
//! Owns turning a title from the web (an OPML outline, a feed's `<link title>`) into a valid
//! source name (letters, digits, `-`, `_`: what `validate` accepts), keeping names unique,
//! and writing a block whose every value is TOML-escaped and whose comments cannot break out
//! of their line, since titles come from files and sites we do not control.
//!
//! Main type: [`SourceBlock`].

use std::collections::HashSet;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization as _;
use url::Url;

use crate::extract::SourceKind;

/// Longest name made from a title, in characters.
pub const MAX_NAME_CHARS: usize = 48;

/// One source to suggest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceBlock {
    /// A valid, unique source name.
    pub name: String,
    pub url: Url,
    /// `Auto` is left out of the block (it is the default).
    pub kind: SourceKind,
    /// Comment lines written above the block (without `#`).
    pub comments: Vec<String>,
}

impl SourceBlock {
    /// The block as TOML, ending with a blank line.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.comments {
            out.push_str(&comment(c));
        }
        out.push_str("[[source]]\n");
        out.push_str(&format!("name = {}\n", toml_string(&self.name)));
        out.push_str(&format!("url = {}\n", toml_string(self.url.as_str())));
        let kind = match self.kind {
            SourceKind::Auto => None,
            SourceKind::Feed => Some("feed"),
            SourceKind::Page => Some("page"),
            SourceKind::Sitemap => Some("sitemap"),
        };
        if let Some(k) = kind {
            out.push_str(&format!("kind = \"{k}\"\n"));
        }
        out.push('\n');
        out
    }

    /// The block commented out, after a line saying why.
    #[must_use]
    pub fn render_commented(&self, why: &str) -> String {
        let mut out = comment(why);
        for line in self.render().lines() {
            if line.is_empty() {
                out.push('\n');
            } else if line.starts_with('#') {
                out.push_str(&format!("{line}\n"));
            } else {
                out.push_str(&format!("# {line}\n"));
            }
        }
        out
    }
}

/// `# text`, on one line whatever `text` holds.
#[must_use]
pub fn comment(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        "# {}\n",
        one_line.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Hands out valid source names, each once.
#[derive(Debug, Default)]
pub struct Names {
    used: HashSet<String>,
}

impl Names {
    /// Names already taken (the config's sources), which [`Names::name_for`] avoids.
    pub fn taken<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            used: names.into_iter().map(str::to_owned).collect(),
        }
    }

    /// A name for a source titled `title` at `url`: [`base_name`], with `-2`, `-3`, … when
    /// taken already.
    pub fn name_for(&mut self, title: &str, url: &Url) -> String {
        let base = base_name(title, url);
        let mut name = base.clone();
        let mut n = 2;
        while !self.used.insert(name.clone()) {
            name = format!("{base}-{n}");
            n += 1;
        }
        name
    }
}

/// The title made a valid name; the URL's host when the title has no letter or digit.
#[must_use]
pub fn base_name(title: &str, url: &Url) -> String {
    let mut base = slug(title);
    if base.is_empty() {
        base = slug(url.host_str().unwrap_or("").trim_start_matches("www."));
    }
    if base.is_empty() {
        base = "source".into();
    }
    base
}

/// `"Le Monde — Afrique"` → `"le-monde-afrique"`; `"الجزيرة نت"` → `"الجزيرة-نت"`. Letters and
/// digits of any script are kept (lower-cased; Latin accents dropped, so names stay easy to
/// type), everything else separates.
#[must_use]
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    let mut chars = 0;
    for c in title.nfkc() {
        let latin = matches!(c as u32, 0xC0..=0x24F | 0x1E00..=0x1EFF);
        let parts: Vec<char> = if latin {
            std::iter::once(c)
                .nfd()
                .filter(|m| !is_combining_mark(*m))
                .collect()
        } else {
            vec![c]
        };
        for p in parts {
            if p.is_alphanumeric() || p == '_' {
                out.extend(p.to_lowercase());
                chars += 1;
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
                chars += 1;
            }
        }
        if chars >= MAX_NAME_CHARS {
            break;
        }
    }
    out.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("static URL")
    }

    #[test]
    fn slugs_of_real_titles() {
        assert_eq!(slug("Le Monde — Afrique"), "le-monde-afrique");
        assert_eq!(
            slug("Jeune Afrique : l'actualité"),
            "jeune-afrique-l-actualite"
        );
        assert_eq!(slug("الجزيرة نت | أخبار"), "الجزيرة-نت-أخبار");
        assert_eq!(slug("  BBC News (World)  "), "bbc-news-world");
        assert_eq!(slug("***"), "");
        assert!(slug(&"a".repeat(200)).chars().count() <= MAX_NAME_CHARS);
    }

    #[test]
    fn names_unique_and_valid() {
        let mut names = Names::default();
        let u = url("https://www.example.org/feed");
        assert_eq!(names.name_for("News", &u), "news");
        assert_eq!(names.name_for("news", &u), "news-2");
        assert_eq!(names.name_for("NEWS!", &u), "news-3");
        assert_eq!(names.name_for("", &u), "example-org");
        assert_eq!(
            names.name_for("…", &url("http://127.0.0.1:8080/")),
            "127-0-0-1"
        );
    }

    #[test]
    fn blocks_escape_what_the_web_wrote() {
        let block = SourceBlock {
            name: "a".into(),
            url: url("https://example.org/rss?x=\"1\""),
            kind: SourceKind::Sitemap,
            comments: vec!["evil\n[[watchlist]]\nname = \"x\"".into()],
        };
        let text = block.render();
        assert_eq!(
            text,
            "# evil [[watchlist]] name = \"x\"\n[[source]]\nname = \"a\"\nurl = \"https://example.org/rss?x=%221%22\"\nkind = \"sitemap\"\n\n"
        );
        let commented = block.render_commented("clashes");
        assert!(commented
            .lines()
            .all(|l| l.is_empty() || l.starts_with('#')));
    }
}
