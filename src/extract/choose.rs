//! Two candidate bodies, one article: our own (`content`) and the readability port's
//! (`page`), both already less their furniture.
//!
//! The rules, in order (measured on the extraction-eval development set and the
//! readability corpus, see BENCHMARKS.md "Extraction quality (issue 18)"):
//!
//! 1. When the port's body is an article on its own account (long enough, not a link
//!    list), it is kept, unless ours is more than [`MUCH_LONGER`] times as long: then
//!    the port chose a box (a teaser, a form, a bio), not the article, and ours is kept.
//!    The port's body gets back the lead it dropped ([`with_lead`]).
//! 2. When the port found no article, ours, marked [`BodyConfidence::Unsure`], on a
//!    page that says it is an article and when ours holds a sentence (a brief), or on
//!    any page when ours stands alone ([`MIN_ALONE_CHARS`] characters in two
//!    sentences or more: the port failed, not the page). Else there is none.
//! 3. Whatever was chosen loses its photo-credit lines ([`is_credit_line`]: captions
//!    the readability port keeps on purpose, but that name a photographer or agency)
//!    and its advertising labels ([`is_ad_label`]).

use super::content::Body;
use super::page::Readable;
use super::BodyConfidence;

/// Rule 1's length ratio.
pub const MUCH_LONGER: f64 = 5.0;

/// What the page says about itself that the choice needs.
#[derive(Debug, Clone, Copy)]
pub struct Claims {
    /// The page says it is an article (`meta::PageMeta::says_article`).
    pub says_article: bool,
}

/// The body to keep, and how sure it is; `None` when the page holds no article.
#[must_use]
pub fn choose(
    own: Option<Body>,
    read: Option<Readable>,
    claims: Claims,
) -> Option<(String, BodyConfidence)> {
    let read = read.filter(Readable::is_article);
    let (text, confidence) = match (own, read) {
        (Some(own), Some(read)) => (pick(&own.text, read.text), BodyConfidence::Sure),
        (None, Some(read)) => (read.text, BodyConfidence::Sure),
        (Some(own), None) if claims.says_article && own.has_sentence => {
            (own.text, BodyConfidence::Unsure)
        }
        (Some(own), None) if stands_alone(&own.text) => (own.text, BodyConfidence::Unsure),
        _ => return None,
    };
    let text = drop_credit_and_ad_lines(&text);
    (!text.is_empty()).then_some((text, confidence))
}

/// Rule 1 for two non-empty bodies.
fn pick(own: &str, read: String) -> String {
    #[allow(clippy::cast_precision_loss, reason = "ratio of text lengths")]
    let ratio = chars(own) as f64 / chars(&read).max(1) as f64;
    if ratio > MUCH_LONGER {
        own.to_string()
    } else {
        with_lead(own, read)
    }
}

/// The port's body with the lead it left out: the paragraph of ours just before the
/// first paragraph the two share, when it is prose of [`LEAD_WORDS`] words or more and
/// the port does not have it (a standfirst in `<header>` or a `lead` box).
fn with_lead(own: &str, read: String) -> String {
    let read_paras: std::collections::HashSet<&str> = read.split("\n\n").collect();
    let own_paras: Vec<&str> = own.split("\n\n").collect();
    let Some(first) = own_paras.iter().position(|p| read_paras.contains(p)) else {
        return read;
    };
    match first.checked_sub(1).map(|i| own_paras[i]) {
        Some(lead)
            if lead.split_whitespace().count() >= LEAD_WORDS && !read_paras.contains(lead) =>
        {
            format!("{lead}\n\n{read}")
        }
        _ => read,
    }
}

/// See [`with_lead`].
pub const LEAD_WORDS: usize = 20;

fn chars(s: &str) -> usize {
    s.chars().filter(|c| !c.is_whitespace()).count()
}

/// Labels of a photo or source credit (lower case).
const CREDIT_LABELS: &[&str] = &[
    "foto",
    "fotos",
    "photo",
    "photos",
    "bild",
    "bilder",
    "image",
    "images",
    "imagen",
    "imágenes",
    "crédito",
    "créditos",
    "crédit photo",
    "crédits photo",
    "crédits photos",
    "credit",
    "credits",
    "quelle",
    "fuente",
    "źródło",
    "zdjęcie",
    "fot.",
    "صورة",
];

/// A caption's credit: a paragraph of [`CREDIT_MAX_WORDS`] words at most that holds `©`,
/// or a credit label starting a word and followed by a colon (`Foto: dpa`,
/// `… Bild: AFP/SID`, `(crédito: Minervino Júnior)`, `Crédits photos : AFP`).
#[must_use]
pub fn is_credit_line(p: &str) -> bool {
    if p.split_whitespace().count() > CREDIT_MAX_WORDS {
        return false;
    }
    if p.contains('©') {
        return true;
    }
    let lower = p.to_lowercase();
    lower.char_indices().any(|(i, c)| {
        let starts_word = i == 0 || {
            let before = lower[..i].chars().next_back().unwrap_or(' ');
            !crate::chars::is_alphanumeric(before)
        };
        starts_word
            && crate::chars::is_alphabetic(c)
            && CREDIT_LABELS.iter().any(|l| {
                lower[i..]
                    .strip_prefix(l)
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
    })
}

/// Longest paragraph that [`is_credit_line`] may call a credit.
pub const CREDIT_MAX_WORDS: usize = 30;

/// `text` without its credit lines and advertising labels (rule 3).
fn drop_credit_and_ad_lines(text: &str) -> String {
    let drop = |p: &str| is_credit_line(p) || is_ad_label(p);
    if !text.split("\n\n").any(drop) {
        return text.to_string();
    }
    text.split("\n\n")
        .filter(|p| !drop(p))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Words that alone on a line label an advertisement (lower case).
const AD_LABELS: &[&str] = &[
    "anzeige",
    "werbung",
    "reklama",
    "reklame",
    "advertisement",
    "advertising",
    "sponsored",
    "publicidad",
    "publicité",
    "pubblicità",
    "anuncio",
    "إعلان",
];

/// The longest of [`AD_LABELS`], in characters.
const AD_LABEL_MAX_CHARS: usize = 13;

/// A paragraph that is only an advertising label (`- Anzeige -`, `Advertisement`).
#[must_use]
pub fn is_ad_label(p: &str) -> bool {
    // Lower-casing never shortens a character, so a paragraph with more letters and digits
    // than the longest label is none (the common case, decided without building a string).
    if p.chars()
        .filter(|&c| crate::chars::is_alphanumeric(c))
        .nth(AD_LABEL_MAX_CHARS)
        .is_some()
    {
        return false;
    }
    let word: String = p
        .chars()
        .filter(|&c| crate::chars::is_alphanumeric(c))
        .flat_map(char::to_lowercase)
        .collect();
    AD_LABELS.contains(&word.as_str())
}

/// Our own body is an article on its own account when the port found none: at least
/// [`MIN_ALONE_CHARS`] characters in at least two sentences.
fn stands_alone(text: &str) -> bool {
    chars(text) >= MIN_ALONE_CHARS
        && text
            .split("\n\n")
            .filter(|p| super::content::is_sentence(p))
            .count()
            >= 2
}

/// See [`stands_alone`].
pub const MIN_ALONE_CHARS: usize = 500;

/// Our own body as a [`Body`], for tests.
#[cfg(test)]
fn body(text: &str) -> Body {
    Body {
        text: text.to_string(),
        has_sentence: text.split("\n\n").any(super::content::is_sentence),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ad_label_max_chars_is_the_longest_label() {
        let longest = AD_LABELS.iter().map(|l| l.chars().count()).max();
        assert_eq!(longest, Some(AD_LABEL_MAX_CHARS));
        assert!(is_ad_label("- Advertisement -"));
        assert!(is_ad_label("PUBBLICITÀ"));
        assert!(!is_ad_label("Advertisement for the new port terminal"));
    }

    fn readable(text: &str) -> Readable {
        let chars = chars(text);
        Readable {
            text: text.to_string(),
            chars,
            link_density: 0.0,
        }
    }

    const PARA: &str = "The interior ministry said the curfew would run from ten at night \
        until six in the morning for two weeks at least, and that it could be extended.";

    #[test]
    fn the_ports_article_is_kept() {
        let own = format!("Curfew in Niamey\n\n{PARA}\n\nBy Staff Writer\n\n{PARA}");
        let read = format!("{PARA}\n\n{PARA}");
        let (text, confidence) = choose(
            Some(body(&own)),
            Some(readable(&read)),
            Claims { says_article: true },
        )
        .expect("an article");
        assert_eq!(confidence, BodyConfidence::Sure);
        assert_eq!(text, read);
    }

    #[test]
    fn much_longer_own_body_wins_when_they_differ() {
        let own = PARA.repeat(12);
        let read = "Newsletter box text about subscribing to our daily mail and more. ".repeat(4);
        let (text, _) = choose(
            Some(body(&own)),
            Some(readable(&read)),
            Claims {
                says_article: false,
            },
        )
        .expect("an article");
        assert_eq!(text, own);
    }

    #[test]
    fn the_lead_the_port_dropped_comes_back() {
        let lead = "Niger's junta ordered a night curfew in Niamey on Friday after two days of \
            protests against the cost of living left several people injured in the capital.";
        let own = format!("Curfew in Niamey\n\n{lead}\n\n{PARA}\n\n{PARA}");
        let read = format!("{PARA}\n\n{PARA}");
        let (text, _) = choose(
            Some(body(&own)),
            Some(readable(&read)),
            Claims { says_article: true },
        )
        .expect("an article");
        assert_eq!(text, format!("{lead}\n\n{read}"));
        // A byline or a short kicker before the shared text is not a lead.
        let own = format!("By Staff Writer\n\n{PARA}\n\n{PARA}");
        let (text, _) = choose(
            Some(body(&own)),
            Some(readable(&read)),
            Claims { says_article: true },
        )
        .expect("an article");
        assert_eq!(text, read);
    }

    #[test]
    fn brief_only_on_article_pages() {
        let brief = "Niger's junta ordered a night curfew in Niamey after protests.";
        let got = choose(
            Some(body(brief)),
            Some(readable(brief)),
            Claims { says_article: true },
        );
        assert_eq!(got, Some((brief.to_string(), BodyConfidence::Unsure)));
        assert_eq!(
            choose(
                Some(body(brief)),
                None,
                Claims {
                    says_article: false
                }
            ),
            None
        );
        assert_eq!(
            choose(
                Some(body("Home World Sport")),
                None,
                Claims { says_article: true }
            ),
            None
        );
    }

    #[test]
    fn credit_lines() {
        for credit in [
            "Foto: dpa",
            "Crédits photos : Bestimage",
            "© 2026 Journal",
            "Überblick über das Feld in Kalifornien. (Foto: Getty)",
            "Imagen: Télam",
            "Die Menge wird zum Mob. Bild: Gregory Batardo",
        ] {
            assert!(is_credit_line(credit), "{credit}");
        }
        assert!(is_ad_label("- Anzeige -") && is_ad_label("Advertisement"));
        assert!(!is_ad_label(
            "Advertisement revenue fell by a third in the quarter."
        ));
        for prose in [
            "Photographers were kept away from the scene by the police.",
            "Quellen zufolge sollen die Truppen bis Ende des Jahres abziehen, sagte ein Sprecher.",
            "(Reuters) The junta said on Friday it would hold talks.",
            "Das Leitbild: mehr Freiheit für die Vereine, sagte der Präsident.",
        ] {
            assert!(!is_credit_line(prose), "{prose}");
        }
    }
}
