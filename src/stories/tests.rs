use super::*;

const NIGER: &str = include_str!("../../tests/fixtures/stories/niger-us-withdrawal.txt");
const CHAD: &str = include_str!("../../tests/fixtures/stories/chad-french-withdrawal.txt");
const SITE: &str = include_str!("../../tests/fixtures/stories/sahel-daily-furniture.txt");

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("valid")
}

fn sim(a: &str, b: &str) -> Similarity {
    similarity(
        &sketch(a).expect("long enough"),
        &sketch(b).expect("long enough"),
        &HashSet::new(),
    )
}

fn paragraphs(s: &str) -> Vec<&str> {
    s.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// The Niger story as five outlets carry it: a dateline, a caption, a paragraph cut,
/// words changed, the end cut.
fn five_copies() -> Vec<String> {
    let p = paragraphs(NIGER);
    vec![
        format!("NIAMEY, April 19 (Reuters) - {}", p.join("\n\n")),
        p.join("\n\n")
            .replace("said on Friday", "announced on Friday")
            .replace("Officials said", "US officials said")
            .replace("Hundreds of people", "Several hundred people"),
        {
            let mut q: Vec<String> = p.iter().map(|s| (*s).to_owned()).collect();
            q.remove(5);
            q.insert(2, "Protesters in Niamey hold a sign demanding that American soldiers leave Niger. (Photo: AFP)".into());
            q.join("\n\n")
        },
        p.join("\n\n")
            .replace("The United States will withdraw", "Washington is to pull")
            .replace("the Pentagon said", "the US Department of Defense said")
            .replace("drone base", "drone facility"),
        format!("(AFP) {}", p[..5].join("\n\n")),
    ]
}

#[test]
fn short_bodies_have_no_sketch() {
    for body in [
        "",
        "   ",
        "Niger",
        "Niger withdrawal.",
        "one two three four five six seven eight",
    ] {
        assert!(sketch(body).is_none(), "{body:?}");
    }
    let s = sketch(NIGER).expect("a whole story");
    assert!(s.words > 250 && s.shingles as usize > SKETCH_SIZE);
    assert_eq!(s.hashes.len(), SKETCH_SIZE);
    assert!(s.hashes.windows(2).all(|w| w[0] < w[1]));
}

/// The hashes are stored: the same body must sketch the same on every build.
#[test]
fn sketch_hashes_are_stable() {
    let s = sketch("The United States will withdraw its troops from Niger, the Pentagon said on Friday, ending a partnership").unwrap();
    assert_eq!(s.shingles, 15);
    assert_eq!(s.hashes[0], 0x0286_0433_1762_6ec1, "{:#018x}", s.hashes[0]);
}

#[test]
fn normalization_makes_typography_irrelevant() {
    let a = "Le retrait des troupes américaines du Niger s'achèvera en septembre, a annoncé le Pentagone vendredi à Washington.";
    let b = "LE RETRAIT des troupes americaines du  Niger s’achevera en septembre — a annonce le Pentagone vendredi a Washington !";
    assert!((sim(a, b).resemblance - 1.0).abs() < 1e-9);
}

#[test]
fn copies_are_one_story_and_another_withdrawal_is_not() {
    let rule = Rule::default();
    for (k, copy) in five_copies().iter().enumerate() {
        let s = sim(NIGER, copy);
        assert!(rule.same_story(&s), "copy {k}: {s:?}");
    }
    let s = sim(NIGER, CHAD);
    assert!(!rule.same_story(&s), "{s:?}");
    assert!(s.resemblance < 0.05, "{s:?}");
}

#[test]
fn the_five_copies_cluster_and_chad_stays_apart() {
    let copies = five_copies();
    let sketches: Vec<StorySketch> = copies
        .iter()
        .map(String::as_str)
        .chain([CHAD])
        .map(|b| sketch(b).unwrap())
        .collect();
    let sources = [
        "reuters",
        "apnews",
        "bbc-en",
        "aljazeera-en",
        "france24",
        "reuters",
    ];
    let docs: Vec<Copy<'_>> = sketches
        .iter()
        .zip(sources)
        .enumerate()
        .map(|(k, (s, source))| Copy {
            sketch: Some(s),
            source,
            seen: t0() + Duration::hours(k as i64),
        })
        .collect();
    let labels = cluster(&docs, &Furniture::default(), &Rule::default());
    assert_eq!(labels, [0, 0, 0, 0, 0, 5]);
}

#[test]
fn copies_further_apart_than_the_window_are_apart() {
    let a = sketch(NIGER).unwrap();
    let doc = |h: i64| Copy {
        sketch: Some(&a),
        source: "s",
        seen: t0() + Duration::hours(h),
    };
    let rule = Rule::default();
    assert_eq!(
        cluster(&[doc(0), doc(72)], &Furniture::default(), &rule),
        [0, 0]
    );
    assert_eq!(
        cluster(&[doc(0), doc(73)], &Furniture::default(), &rule),
        [0, 1]
    );
    assert_eq!(
        cluster(&[doc(0), doc(-73)], &Furniture::default(), &rule),
        [0, 1]
    );
}

#[test]
fn bodies_without_sketch_stay_alone() {
    let a = sketch(NIGER).unwrap();
    let docs = [
        Copy {
            sketch: None,
            source: "a",
            seen: t0(),
        },
        Copy {
            sketch: None,
            source: "b",
            seen: t0(),
        },
        Copy {
            sketch: Some(&a),
            source: "c",
            seen: t0(),
        },
    ];
    assert_eq!(
        cluster(&docs, &Furniture::default(), &Rule::default()),
        [0, 1, 2]
    );
}

/// Pages of one site that share only its furniture (navigation, a disclaimer, a footer)
/// are not one story, even when the furniture is most of each page.
#[test]
fn one_sites_furniture_is_not_a_story() {
    let parts: Vec<&str> = SITE.split("\n----\n").collect();
    let (furniture, bodies) = (parts[0], &parts[1..]);
    let pages: Vec<String> = bodies
        .iter()
        .map(|b| format!("{furniture}\n\n{b}"))
        .collect();
    let sketches: Vec<StorySketch> = pages.iter().map(|p| sketch(p).unwrap()).collect();
    // Without the furniture rule they would look alike.
    let raw = similarity(&sketches[0], &sketches[1], &HashSet::new());
    assert!(raw.resemblance > 0.5, "{raw:?}");
    let docs: Vec<Copy<'_>> = sketches
        .iter()
        .map(|s| Copy {
            sketch: Some(s),
            source: "sahel-daily",
            seen: t0(),
        })
        .collect();
    let learnt = Furniture::learn(
        sketches
            .iter()
            .zip(0..)
            .map(|(s, id)| (id, "sahel-daily", s)),
    );
    assert_eq!(cluster(&docs, &learnt, &Rule::default()), [0, 1, 2, 3]);
    // Two such pages alone are still told apart once the site's other articles are known.
    let two = &docs[..2];
    assert_eq!(cluster(two, &learnt, &Rule::default()), [0, 1]);
    // The same body on two sites is one story, their furniture notwithstanding.
    let other = sketch(&format!("Home | News | Contact\n\n{}", bodies[0])).unwrap();
    let pair = [
        docs[0],
        Copy {
            sketch: Some(&other),
            source: "elsewhere",
            seen: t0(),
        },
    ];
    assert_eq!(cluster(&pair, &learnt, &Rule::default()), [0, 0]);
}

/// A story with 500 copies is one story, found without comparing every pair.
#[test]
fn five_hundred_copies_are_one_story() {
    let p = paragraphs(NIGER);
    let bodies: Vec<String> = (0..500)
        .map(|k| {
            let mut q: Vec<&str> = p.clone();
            q.remove(k % p.len());
            format!("DATELINE {k} - {}", q.join("\n\n"))
        })
        .collect();
    let sketches: Vec<StorySketch> = bodies.iter().map(|b| sketch(b).unwrap()).collect();
    let names: Vec<String> = (0..500).map(|k| format!("source-{k}")).collect();
    let docs: Vec<Copy<'_>> = sketches
        .iter()
        .zip(&names)
        .map(|(s, n)| Copy {
            sketch: Some(s),
            source: n,
            seen: t0(),
        })
        .collect();
    let labels = cluster(&docs, &Furniture::default(), &Rule::default());
    assert!(labels.iter().all(|&l| l == 0));
}
