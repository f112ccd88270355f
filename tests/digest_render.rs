//! Snapshots of what users see: the text and HTML parts of three digests (English, Arabic,
//! mixed Arabic/French/English with a health footer), in the layout of issue 19: ranked
//! stories, each story's other copies on one `Also in:` line, the first stories in full
//! and the rest compact, copies of stories mailed before at the end, the title's terms
//! highlighted.
//!
//! Review changes with `cargo insta review` (or `INSTA_UPDATE=always` and
//! `git diff tests/snapshots`): the snapshots are the spec of the email.
//!
//! `write_sample` writes the mixed digest's HTML to `$NEWSWATCH_RENDER_OUT`
//! when set, for `scripts/render-digest.sh`.

use chrono::{DateTime, TimeZone, Utc};
use newswatch::digest::render::{
    render_digest, Digest, DigestItem, EarlierStory, OtherCopy, PartOf,
};

fn at(d: u32, h: u32, m: u32) -> Option<DateTime<Utc>> {
    Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).single()
}

/// Byte ranges of each occurrence of `needles` in `snippet`.
fn marks(snippet: &str, needles: &[&str]) -> Vec<std::ops::Range<usize>> {
    let mut r: Vec<_> = needles
        .iter()
        .flat_map(|n| snippet.match_indices(n).map(|(i, m)| i..i + m.len()))
        .collect();
    r.sort_by_key(|r| r.start);
    r
}

#[allow(clippy::too_many_arguments, reason = "test fixture builder")]
fn item(
    source: &str,
    lang: &str,
    title: &str,
    url: &str,
    published: Option<DateTime<Utc>>,
    terms: &[&str],
    snippet: &str,
    needles: &[&str],
) -> DigestItem {
    DigestItem {
        title: title.into(),
        url: url.into(),
        source: source.into(),
        published,
        lang: Some(lang.into()),
        terms: terms.iter().map(|t| (*t).to_string()).collect(),
        snippet: snippet.into(),
        highlights: marks(snippet, needles),
        title_highlights: marks(title, needles),
        also_in: Vec::new(),
        more_copies: 0,
    }
}

fn copies(list: &[(&str, &str)]) -> Vec<OtherCopy> {
    list.iter()
        .map(|(source, url)| OtherCopy {
            source: (*source).into(),
            url: (*url).into(),
        })
        .collect()
}

fn english() -> Digest {
    let mut d = Digest {
        watchlist: "niger".into(),
        items: vec![
            item(
                "bbc-en",
                "en",
                "Niger junta orders French troops to leave by the end of the year",
                "https://www.bbc.com/news/world-africa-66969271",
                at(24, 9, 30),
                &["Niger"],
                "The military rulers of Niger said on Sunday that the remaining French \
                 soldiers must leave the country before the end of the year, after talks \
                 in Niamey broke down.",
                &["Niger"],
            ),
            item(
                "reuters",
                "en",
                "Uranium exports from Niger resume <partially> after border reopening",
                "https://www.reuters.com/world/africa/niger-uranium-2026-11-24/",
                at(24, 13, 5),
                &["Niger", "uranium"],
                "Uranium shipments from Niger resumed on Tuesday through Benin, traders said.",
                &["Uranium", "Niger"],
            ),
            item(
                "bbc-en",
                "en",
                "Sahel: what the Niger-Mali-Burkina alliance means for the region",
                "https://www.bbc.com/news/world-africa-67000000",
                at(23, 18, 0),
                &["Niger"],
                "Analysts say the Alliance of Sahel States, formed by Niger, Mali and \
                 Burkina Faso, is reshaping security cooperation in West Africa.",
                &["Niger"],
            ),
            item(
                "blog",
                "en",
                "Notes from the Niger river",
                "javascript:alert('not a link')",
                None,
                &["Niger"],
                "A week on the Niger between Niamey and Gaya.",
                &["Niger"],
            ),
        ],
        full: 2,
        earlier: vec![EarlierStory {
            title: "Pentagon confirms talks on withdrawing US troops from Niger".into(),
            url: "https://www.reuters.com/world/africa/pentagon-niger-talks-2026-11-22/".into(),
            source: "reuters".into(),
            mailed: at(22, 7, 0).unwrap(),
            also_in: copies(&[(
                "voa-en",
                "https://www.voanews.com/a/pentagon-niger-talks/7561234.html",
            )]),
            more_copies: 0,
        }],
        footer: vec![],
        timezone: chrono_tz::Africa::Niamey,
        part: None,
    };
    d.items[0].also_in = copies(&[
        (
            "apnews",
            "https://apnews.com/article/niger-france-troops-junta-4e1f",
        ),
        (
            "lemonde-afrique",
            "https://www.lemonde.fr/afrique/article/2026/11/24/niger_6201.html",
        ),
        (
            "reuters",
            "https://www.reuters.com/world/africa/niger-french-troops-2026-11-24/",
        ),
    ]);
    d
}

fn arabic() -> Digest {
    let mut d = Digest {
        watchlist: "النيجر".into(),
        items: vec![
            item(
                "aljazeera-ar",
                "ar",
                "النيجر: المجلس العسكري يطالب القوات الفرنسية بالمغادرة قبل نهاية 2026",
                "https://www.aljazeera.net/news/2026/11/24/niger",
                at(24, 8, 15),
                &["النيجر"],
                "قال المجلس العسكري في النيجر إن على نحو 1500 جندي فرنسي مغادرة البلاد، \
                 وأكد رئيس الوزراء أن المحادثات مع باريس متوقفة.",
                &["النيجر"],
            ),
            item(
                "bbc-ar",
                "ar",
                "والنيجر تستأنف تصدير اليورانيوم عبر بنين",
                "https://www.bbc.com/arabic/articles/c4n1",
                at(24, 11, 40),
                &["النيجر", "اليورانيوم"],
                "استأنفت النيجر تصدير اليورانيوم يوم الثلاثاء عبر ميناء كوتونو في بنين، \
                 بحسب شركة Orano الفرنسية.",
                &["النيجر", "اليورانيوم"],
            ),
        ],
        full: 2,
        earlier: vec![],
        footer: vec![],
        timezone: chrono_tz::Africa::Niamey,
        part: None,
    };
    d.items[0].also_in = copies(&[
        ("bbc-ar", "https://www.bbc.com/arabic/articles/c9x2"),
        ("aawsat", "https://aawsat.com/node/4712345"),
    ]);
    d.items[0].more_copies = 1;
    d
}

fn mixed() -> Digest {
    let mut items = arabic().items;
    items.truncate(1);
    items.push(item(
        "rfi-fr",
        "fr",
        "Niger : la junte annonce la réouverture de la frontière avec le Bénin",
        "https://www.rfi.fr/fr/afrique/20261124-niger-frontiere-benin",
        at(24, 12, 0),
        &["Niger"],
        "Les autorités du Niger ont annoncé mardi la réouverture de la frontière, \
         fermée depuis juillet 2023 ; les camions de l'Orano attendent à Malanville.",
        &["Niger"],
    ));
    items.push(english().items.swap_remove(1));
    Digest {
        watchlist: "sahel-press".into(),
        full: items.len(),
        items,
        earlier: vec![],
        part: Some(PartOf { number: 1, of: 2 }),
        footer: vec![
            "Source lemonde-afrique has been failing since 2026-11-23 09:00 WAT: \
             HTTP 503 Service Unavailable"
                .into(),
            "Source bbc-ar has recovered (2026-11-24 07:30 WAT).".into(),
        ],
        timezone: chrono_tz::Africa::Niamey,
    }
}

#[test]
fn english_digest() {
    let r = render_digest(&english());
    assert_eq!(r.subject, "[newswatch] niger: 4 new articles");
    insta::assert_snapshot!("english_text", r.text);
    insta::assert_snapshot!("english_html", r.html);
}

#[test]
fn arabic_digest() {
    let r = render_digest(&arabic());
    assert_eq!(r.subject, "[newswatch] النيجر: 2 new articles");
    insta::assert_snapshot!("arabic_text", r.text);
    insta::assert_snapshot!("arabic_html", r.html);
}

#[test]
fn mixed_digest() {
    let r = render_digest(&mixed());
    assert_eq!(r.subject, "[newswatch] sahel-press: 3 new articles (1/2)");
    insta::assert_snapshot!("mixed_text", r.text);
    insta::assert_snapshot!("mixed_html", r.html);
}

/// Writes the mixed digest's HTML to `$NEWSWATCH_RENDER_OUT`; does nothing
/// when it is unset.
#[test]
fn write_sample() {
    if let Some(path) = std::env::var_os("NEWSWATCH_RENDER_OUT") {
        std::fs::write(&path, render_digest(&mixed()).html).expect("writing sample HTML");
    }
}
