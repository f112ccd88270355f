//! Terms: parsing a configured term into its normalized key and the rules
//! that decide whether the text around an occurrence of that key still makes
//! a whole-word match (proclitics, article, suffixes, elision, plurals).

use unicode_segmentation::UnicodeSegmentation;

use super::normalize::{is_arabic, normalize};

/// The Arabic article, transparent on both sides.
const ARTICLE: &str = "\u{0627}\u{0644}";

/// A term ready for the automaton.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedTerm {
    /// Normalized words joined by one space; the first word without the
    /// Arabic article. This is the automaton pattern.
    pub key: String,
    /// How the text around an occurrence of `key` is judged.
    pub rule: Rule,
    /// For a first word that keeps its article (`الله`), its spelling after
    /// the preposition ل, where the alef (and a doubled lam) is dropped
    /// (`لله`), with the rule that only a conjunction may precede it.
    pub lam_form: Option<(String, Rule)>,
    /// A phrase's other spellings, matched with `rule` like `key`: each Arabic word after
    /// the first with and without the article (`قاعده جويه`, `قاعده الجويه`), each Latin
    /// word after the first that starts with a vowel or h with a French elision in front
    /// (`retrait d'agadez` for `retrait agadez`). The first word's proclitics and the last
    /// word's endings are the rule's business, as for a word.
    pub variants: Vec<String>,
}

/// A phrase has at most this many spellings (its key and [`ParsedTerm::variants`]); past
/// it, inner Latin words take only `l'` and `d'`, and past that only the spelling with
/// every inner word bare and the one with every inner word in its definite form remain.
pub const MAX_SPELLINGS: usize = 64;

/// Context rules of a term; terms with equal rules and keys share one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Rule {
    /// The first word is Arabic: proclitic chains and the article may precede it.
    pub arabic_start: bool,
    /// The key is a [`ParsedTerm::lam_form`]: only و or ف may precede it.
    pub lam_form: bool,
    /// What may follow the last word inside its text word.
    pub end: End,
}

/// What may follow the last word of a term inside the same text word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum End {
    /// `*`: anything.
    Prefix,
    /// Arabic word of three letters or more: the pronoun/plural suffixes.
    ArabicSuffixes,
    /// Short Arabic word: nothing.
    Nothing,
    /// Latin (and other) scripts: plural `s`, possessive `'s`; `es` too when
    /// `sibilant` (the key ends in s, x, z, ch or sh).
    Plural { sibilant: bool },
}

/// Parses one configured term.
///
/// # Errors
/// A message saying why the term cannot be matched: it normalizes to no
/// word, or its `*` is not a single final `*` directly after a word.
pub(crate) fn parse_term(raw: &str) -> Result<ParsedTerm, String> {
    let trimmed = raw.trim();
    let (body, prefix) = match trimmed.strip_suffix('*') {
        Some(rest) => (rest, true),
        None => (trimmed, false),
    };
    if body.contains('*') {
        return Err(format!(
            "term {raw:?}: `*` is only allowed once, at the end of the term"
        ));
    }
    let norm = normalize(body);
    let mut words: Vec<(usize, &str)> = norm.unicode_word_indices().collect();
    let Some(&(last_at, last)) = words.last() else {
        return Err(if prefix && body.trim().is_empty() {
            format!("term {raw:?}: `*` alone would match every word")
        } else {
            format!("term {raw:?}: has no letters or digits to match after normalization")
        });
    };
    if prefix && last_at + last.len() != norm.len() {
        return Err(format!(
            "term {raw:?}: `*` must directly follow a letter or digit"
        ));
    }
    let first = strip_article(words[0].1);
    let kept_article = first.len() == words[0].1.len();
    words[0].1 = first;
    let inner: Vec<&str> = words[1..].iter().map(|w| w.1).collect();
    let last = words.last().map_or(first, |w| w.1);
    let key = words.iter().map(|w| w.1).collect::<Vec<_>>().join(" ");
    let end = if prefix {
        End::Prefix
    } else if last.chars().next().is_some_and(is_arabic) {
        if last.chars().count() >= 3 {
            End::ArabicSuffixes
        } else {
            End::Nothing
        }
    } else {
        let sibilant = ["s", "x", "z", "ch", "sh"]
            .iter()
            .any(|e| last.ends_with(e));
        End::Plural { sibilant }
    };
    let arabic_start = first.chars().next().is_some_and(is_arabic);
    let rule = Rule {
        arabic_start,
        end,
        lam_form: false,
    };
    let lam_form = first
        .strip_prefix(ARTICLE)
        .filter(|_| kept_article)
        .filter(|noun| noun.starts_with(is_arabic))
        .map(|noun| {
            // ل + ال + noun is written لل + noun, one lam fewer if the noun starts with one.
            let noun = noun.strip_prefix('\u{0644}').unwrap_or(noun);
            let spelled = format!("\u{0644}\u{0644}{noun}{}", &key[first.len()..]);
            let rule = Rule {
                lam_form: true,
                ..rule
            };
            (spelled, rule)
        });
    let variants = phrase_variants(first, &inner, &key);
    Ok(ParsedTerm {
        key,
        rule,
        lam_form,
        variants,
    })
}

/// The other spellings of a phrase whose first word is `first` and later words `inner`
/// (normalized), without `key` itself; see [`ParsedTerm::variants`].
fn phrase_variants(first: &str, inner: &[&str], key: &str) -> Vec<String> {
    if inner.is_empty() {
        return Vec::new();
    }
    let full: Vec<Vec<String>> = inner.iter().map(|w| word_forms(w, &ELIDED)).collect();
    let product = |forms: &[Vec<String>]| {
        forms
            .iter()
            .try_fold(1usize, |n, f| n.checked_mul(f.len()))
            .unwrap_or(usize::MAX)
    };
    let forms = if product(&full) <= MAX_SPELLINGS {
        full
    } else {
        let fewer: Vec<Vec<String>> = inner.iter().map(|w| word_forms(w, &["l", "d"])).collect();
        if product(&fewer) <= MAX_SPELLINGS {
            fewer
        } else {
            // Every inner word bare, and every inner word in its second (definite) form.
            let pick = |i: usize| -> String {
                let ws: Vec<&str> = fewer
                    .iter()
                    .map(|f| f[i.min(f.len() - 1)].as_str())
                    .collect();
                format!("{first} {}", ws.join(" "))
            };
            let mut out = vec![pick(0), pick(1)];
            out.retain(|k| k != key);
            out.dedup();
            return out;
        }
    };
    let mut out = vec![first.to_owned()];
    for f in &forms {
        out = out
            .iter()
            .flat_map(|head| f.iter().map(move |w| format!("{head} {w}")))
            .collect();
    }
    out.retain(|k| k != key);
    out.sort();
    out.dedup();
    out
}

/// An inner word of a phrase and its other forms there: an Arabic word of three letters or
/// more bare and with the article; a Latin word starting with a vowel or h, without an
/// elision of its own, bare and after each of `elisions`. Its bare form comes first.
pub(crate) fn word_forms(word: &str, elisions: &[&str]) -> Vec<String> {
    let starts_arabic = word.chars().next().is_some_and(is_arabic);
    if starts_arabic {
        let core = strip_article(word);
        // A short word that keeps its article (الله), or a short word (من): as written.
        let kept = core.len() == word.len() && word.starts_with(ARTICLE);
        if kept || core.chars().count() < 3 {
            return vec![word.to_owned()];
        }
        return vec![core.to_owned(), format!("{ARTICLE}{core}")];
    }
    let elidable = word
        .chars()
        .next()
        .is_some_and(|c| "aeiouyhàâäéèêëîïôöùûüœæ".contains(c));
    if !elidable || word.contains(is_apostrophe) {
        return vec![word.to_owned()];
    }
    std::iter::once(word.to_owned())
        .chain(elisions.iter().map(|e| format!("{e}'{word}")))
        .collect()
}

/// `النيجر` → `نيجر`, but only when at least three letters remain, so short
/// words such as `الله` keep their article, and only before an Arabic letter:
/// the key must still start with Arabic for the proclitic rule to apply to it
/// (`ال2اا` stays whole, issue 3).
pub(crate) fn strip_article(word: &str) -> &str {
    match word.strip_prefix(ARTICLE) {
        Some(rest) if rest.chars().count() >= 3 && rest.starts_with(is_arabic) => rest,
        _ => word,
    }
}

/// Arabic proclitic chains, normalized: conjunction (و ف), preposition
/// (ب ك ل), article (ال), with ل + ال written لل.
const PROCLITICS: [&str; 24] = [
    "", "و", "ف", "ب", "ك", "ل", "وب", "وك", "ول", "فب", "فك", "فل", "ال", "وال", "فال", "بال",
    "كال", "لل", "وبال", "وكال", "ولل", "فبال", "فكال", "فلل",
];

/// French elided articles and pronouns, before `'`, `’` or `ʼ`.
pub(crate) const ELIDED: [&str; 13] = [
    "l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu",
];

/// Attached pronoun and plural suffixes (SPEC "Matching"), normalized.
const SUFFIXES: [&str; 11] = [
    "ه", "ها", "هم", "هما", "هن", "كم", "نا", "ات", "ان", "ين", "ون",
];

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}')
}

/// The longest text [`Rule::start_ok`] accepts before a key inside its
/// word, in bytes: a French elision such as `lorsqu’` (six letters and a
/// three-byte apostrophe). The longest proclitic chain, `وبال`, is eight.
pub(crate) const MAX_BEFORE: usize = 9;

impl Rule {
    /// May `before` (the part of the text word before the key) precede it?
    pub fn start_ok(self, before: &str) -> bool {
        if before.is_empty() {
            return true;
        }
        if self.lam_form {
            return before == "\u{0648}" || before == "\u{0641}";
        }
        if self.arabic_start {
            return before.len() <= 8 && PROCLITICS.contains(&before);
        }
        let mut chars = before.chars();
        match chars.next_back() {
            Some(c) if is_apostrophe(c) => ELIDED.contains(&chars.as_str()),
            _ => false,
        }
    }

    /// A bound on the length in bytes of an `after` that [`Rule::end_ok`]
    /// accepts, but for [`Rule::takes_any_end`] (the longest, `هما`, is six).
    pub const LONGEST_END: usize = 8;

    /// Whether any `after` may follow the key ([`End::Prefix`]); for an
    /// `after` longer than [`Rule::LONGEST_END`], this is [`Rule::end_ok`].
    pub fn takes_any_end(self) -> bool {
        self.end == End::Prefix
    }

    /// May `after` (the rest of the text word after the key) follow it?
    /// `after_is_teh_marbuta`: the word ends in a ه that was written ة.
    pub fn end_ok(self, after: &str, after_is_teh_marbuta: bool) -> bool {
        if after.is_empty() {
            return true;
        }
        match self.end {
            End::Prefix => true,
            End::Nothing => false,
            // A word-final ة is the feminine ending, never the pronoun ه.
            End::ArabicSuffixes => {
                after.len() <= 8
                    && SUFFIXES.contains(&after)
                    && !(after == "ه" && after_is_teh_marbuta)
            }
            End::Plural { sibilant } => {
                let mut chars = after.chars();
                match (chars.next(), chars.next(), chars.next()) {
                    (Some('s'), None, _) => true,
                    (Some(a), Some('s'), None) if is_apostrophe(a) => true,
                    (Some('e'), Some('s'), None) => sibilant,
                    _ => false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let cases = [
            ("article_stripped", "النيجر", "نيجر"),
            ("short_keeps_article", "الله", "الله"),
            ("phrase", "سحب القوات", "سحب القوات"),
            ("phrase_first_article", "القوات الأمريكية", "قوات الامريكيه"),
            ("latin", " Niger Delta ", "niger delta"),
            ("punctuation_between", "Niger–Benin", "niger benin"),
            ("prefix", "withdraw*", "withdraw"),
        ];
        for (name, raw, key) in cases {
            assert_eq!(parse_term(raw).expect(name).key, key, "case {name}");
        }
    }

    #[test]
    fn refused() {
        for raw in [
            "",
            "   ",
            "*",
            " * ",
            "with*drawal",
            "a**",
            "niger *",
            "withdraw.*",
            "!!!",
            "\u{064E}\u{0640}",
        ] {
            assert!(parse_term(raw).is_err(), "{raw:?} should be refused");
        }
    }

    /// The scan looks back at most `MAX_BEFORE` bytes for the word start, so
    /// nothing longer may ever be accepted before a key.
    #[test]
    fn max_before_bounds_every_accepted_start() {
        let rules = ["النيجر", "الله", "Agadez"].map(|t| parse_term(t).expect("valid"));
        let mut befores: Vec<String> = PROCLITICS.iter().map(|p| (*p).to_owned()).collect();
        for e in ELIDED {
            for a in ['\'', '\u{2019}', '\u{02BC}'] {
                befores.push(format!("{e}{a}"));
            }
        }
        let longest = befores
            .iter()
            .filter(|b| {
                rules.iter().any(|t| {
                    t.rule.start_ok(b) || t.lam_form.as_ref().is_some_and(|l| l.1.start_ok(b))
                })
            })
            .map(String::len)
            .max();
        assert_eq!(longest, Some(MAX_BEFORE));
        assert!(
            !rules[0].rule.start_ok("وبالل"),
            "longer chains are refused"
        );
    }

    /// The scan decides an ending longer than `LONGEST_END` without reading
    /// it (and decodes only shorter ones), so no rule may accept one.
    #[test]
    fn no_ending_longer_than_longest_end_but_for_prefixes() {
        let rules = ["مالي", "مع", "withdrawal", "bus", "withdraw*"]
            .map(|t| parse_term(t).expect("valid").rule);
        let mut endings: Vec<String> = Vec::new();
        for a in SUFFIXES
            .iter()
            .chain(["s", "es", "'s", "’s", "x", "ة"].iter())
        {
            endings.push((*a).to_owned());
            for b in SUFFIXES {
                endings.push(format!("{a}{b}"));
            }
        }
        endings.extend(["ssssssssss", "'sssssssss", "هماهماهما"].map(String::from));
        let mut longest_accepted = 0;
        for rule in rules {
            for after in &endings {
                let ok = rule.end_ok(after, false);
                if after.len() > Rule::LONGEST_END {
                    assert_eq!(ok, rule.takes_any_end(), "{rule:?} {after:?}");
                } else if ok && !rule.takes_any_end() {
                    longest_accepted = longest_accepted.max(after.len());
                }
            }
        }
        assert_eq!(longest_accepted, "هما".len());
    }

    #[test]
    fn lam_forms() {
        let allah = parse_term("الله").expect("valid");
        let (key, rule) = allah.lam_form.expect("short term keeps its article");
        assert_eq!(key, "لله");
        assert!(rule.start_ok("") && rule.start_ok("و") && rule.start_ok("ف"));
        assert!(!rule.start_ok("ب") && !rule.start_ok("ل"));
        let (key, _) = parse_term("الام").expect("valid").lam_form.expect("kept");
        assert_eq!(key, "للام");
        assert!(parse_term("النيجر").expect("valid").lam_form.is_none());
        assert!(parse_term("Niger").expect("valid").lam_form.is_none());
    }

    #[test]
    fn contexts() {
        let niger = parse_term("النيجر").expect("valid").rule;
        assert!(niger.start_ok("وال") && niger.start_ok("لل") && niger.start_ok("فبال"));
        assert!(!niger.start_ok("x") && !niger.start_ok("ولا"));
        let mali = parse_term("مالي").expect("valid").rule;
        assert!(mali.end_ok("ين", false) && mali.end_ok("ه", false));
        assert!(!mali.end_ok("ه", true) && !mali.end_ok("يه", false));
        let short = parse_term("مع").expect("valid").rule;
        assert!(!short.end_ok("ها", false));
        let w = parse_term("withdrawal").expect("valid").rule;
        assert!(w.end_ok("s", false) && w.end_ok("'s", false) && w.end_ok("’s", false));
        assert!(!w.end_ok("es", false) && !w.end_ok("ly", false));
        assert!(w.start_ok("l'") && w.start_ok("qu’") && !w.start_ok("x'"));
        let bus = parse_term("bus").expect("valid").rule;
        assert!(bus.end_ok("es", false));
    }
}
