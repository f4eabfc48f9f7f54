//! Language codes as warta publishes them, with one rule for every source: the
//! event's `language`, a site's configured language, the page's `<html lang>`
//! or `content-language`, and detection (the stopword lexicons, whatlang).
//!
//! The rule: ISO 639-1 (`id`, `en`) where the language has such a code, else
//! ISO 639-3 (`ace`), lowercase, so a consumer never sees `ind` beside `id`.
//! The tables are isolang's (the ISO registries); this module owns only the
//! tag syntax and the two mappings the registries leave to the user:
//! withdrawn 639-1 codes old sites still send, and the individual languages
//! whatlang names where a macrolanguage has the 639-1 code. It knows nothing
//! about pages or detection.

use isolang::Language;

/// The code warta publishes for a BCP 47 tag or ISO 639 code (`en-US`,
/// `in_ID`, `IND`, `zh-Hant`), from its primary subtag; `None` when that is
/// not an ISO 639-1 or 639-3 code (`English`, `xx`, `e`).
pub fn code(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_', ',', ';', ' ']).next()?;
    if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let primary = primary.to_ascii_lowercase();
    let language = match primary.as_str() {
        // Withdrawn from ISO 639-1 in 1989, still in old sites' markup.
        "in" => Language::Ind,
        "iw" => Language::Heb,
        "ji" => Language::Yid,
        two if two.len() == 2 => Language::from_639_1(two)?,
        three => Language::from_639_3(three)?,
    };
    let language = macrolanguage(language);
    Some(
        language
            .to_639_1()
            .unwrap_or_else(|| language.to_639_3())
            .to_string(),
    )
}

/// The macrolanguage whose 639-1 code names these individual languages in
/// practice: whatlang reports Mandarin (`cmn`) and Iranian Persian (`pes`), a
/// page says `zh` and `fa`; Standard Malay (`zsm`) is `ms`.
fn macrolanguage(l: Language) -> Language {
    match l {
        Language::Cmn => Language::Zho,
        Language::Pes => Language::Fas,
        Language::Zsm => Language::Msa,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::code;

    #[test]
    fn one_rule_for_every_source() {
        for (tag, want) in [
            ("id", Some("id")),
            ("ID", Some("id")),
            (" en-US ", Some("en")),
            ("in-ID", Some("id")),
            ("ind", Some("id")),
            ("eng", Some("en")),
            ("cmn", Some("zh")),
            ("pes", Some("fa")),
            ("zsm", Some("ms")),
            ("jav", Some("jv")),
            ("ace_ID", Some("ace")),
            ("zh-Hant-TW", Some("zh")),
            ("English", None),
            ("xx", None),
            ("qqq", None),
            ("e", None),
            ("", None),
            ("é1", None),
        ] {
            assert_eq!(code(tag).as_deref(), want, "{tag:?}");
        }
    }

    #[test]
    fn every_whatlang_language_gets_a_code_in_the_published_form() {
        for lang in whatlang::Lang::all() {
            let c = code(lang.code()).unwrap_or_else(|| panic!("{lang:?}"));
            assert!(
                (2..=3).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_lowercase()),
                "{lang:?} → {c}"
            );
            // A 3-letter code is published only for a language without a 2-letter one.
            if c.len() == 3 {
                assert!(
                    isolang::Language::from_639_3(&c)
                        .and_then(|l| l.to_639_1())
                        .is_none(),
                    "{lang:?} → {c}"
                );
            }
            assert_eq!(code(&c).as_deref(), Some(c.as_str()), "not a fixed point");
        }
    }
}
