//! The wallet's translations as plain text, for e-mails and PDFs, where
//! HTML escaping would show `&amp;` to the reader.

use std::collections::HashMap;

/// The texts of `i18n/*.json` by language, unescaped.
pub struct PlainTexts {
    texts: HashMap<&'static str, HashMap<String, String>>,
}

impl PlainTexts {
    /// Parses the wallet's embedded translation files.
    pub fn load() -> Result<Self, serde_json::Error> {
        let mut texts = HashMap::new();
        for (language, json) in crate::TRANSLATION_SOURCES {
            texts.insert(language, serde_json::from_str(json)?);
        }
        Ok(Self { texts })
    }

    /// Returns the text of `key` in `language`, falling back to English then
    /// to the key, with `{name}` placeholders replaced by `args`.
    pub fn text(&self, language: &str, key: &str, args: &[(&str, &str)]) -> String {
        let template = self
            .texts
            .get(language)
            .and_then(|texts| texts.get(key))
            .or_else(|| self.texts.get("en").and_then(|texts| texts.get(key)))
            .map(String::as_str)
            .unwrap_or(key);
        let mut text = template.to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_not_escaped() {
        let texts = PlainTexts::load().expect("translations");
        let text = texts.text(
            "en",
            "mail.body",
            &[("code", "<123456>"), ("minutes", "10")],
        );
        assert!(text.contains("<123456>"), "{text}");
    }
}
