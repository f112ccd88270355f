//! Language codes a watchlist's `languages` may name: ISO 639-1, the two letters extraction
//! reports (`<html lang>`, `<news:language>`, detection all reduce to the primary subtag).

/// Every ISO 639-1 code (ISO 639-1:2002 and its later additions), space-separated.
const ISO_639_1: &str = "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs \
ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn \
gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn \
ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng \
nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm \
sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa \
wo xh yi yo za zh zu";

/// ISO 639-2/3 codes people write for the languages newswatch's users read most, with their
/// ISO 639-1 code: a hint, since extraction never reports the three-letter form.
const THREE_LETTER: &[(&str, &str)] = &[
    ("ara", "ar"),
    ("fra", "fr"),
    ("fre", "fr"),
    ("eng", "en"),
    ("deu", "de"),
    ("ger", "de"),
    ("spa", "es"),
    ("por", "pt"),
    ("ita", "it"),
    ("rus", "ru"),
    ("zho", "zh"),
    ("chi", "zh"),
    ("jpn", "ja"),
    ("fas", "fa"),
    ("per", "fa"),
    ("tur", "tr"),
    ("urd", "ur"),
    ("hau", "ha"),
    ("swa", "sw"),
    ("amh", "am"),
    ("som", "so"),
    ("heb", "he"),
    ("hin", "hi"),
    ("ben", "bn"),
    ("ful", "ff"),
    ("wol", "wo"),
    ("bam", "bm"),
];

/// `"AR"` → `"ar"`; anything that is not an ISO 639-1 code is an error saying what to write.
///
/// # Errors
/// A message naming the value and, where one is known, the code meant.
pub fn parse_language(s: &str) -> Result<String, String> {
    let code = s.trim().to_ascii_lowercase();
    if code.len() == 2 && ISO_639_1.split(' ').any(|c| c == code) {
        return Ok(code);
    }
    let hint = if let Some((primary, _)) = code.split_once(['-', '_']) {
        format!(" (articles carry no region: write {primary:?})")
    } else if let Some((_, two)) = THREE_LETTER.iter().find(|(three, _)| *three == code) {
        format!(" (did you mean {two:?}?)")
    } else {
        String::new()
    };
    Err(format!(
        "expected a two-letter ISO 639-1 language code like \"ar\" or \"fr\", found {s:?}{hint}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(parse_language("ar"), Ok("ar".into()));
        assert_eq!(parse_language(" FR "), Ok("fr".into()));
        assert!(parse_language("xx").is_err());
        assert!(parse_language("").is_err());
        let e = parse_language("fr-CA").unwrap_err();
        assert!(e.contains("write \"fr\""), "{e}");
        let e = parse_language("ara").unwrap_err();
        assert!(e.contains("did you mean \"ar\""), "{e}");
        let e = parse_language("arabic").unwrap_err();
        assert!(e.ends_with("found \"arabic\""), "{e}");
    }
}
