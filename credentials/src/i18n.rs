//! Translations for the web pages, and language negotiation.
//!
//! Every user-facing text lives in a JSON file per language (`ar`, `fr`,
//! `zgh`, `en`) that each service embeds. A missing key falls back to
//! English, then to the key itself, so a page never fails to render.

use std::collections::HashMap;

pub use crate::text::LANGUAGES;

/// One service's texts in every language.
pub struct Translations {
    texts: HashMap<&'static str, HashMap<String, String>>,
}

impl Translations {
    /// Parses the embedded `(language, json)` sources.
    pub fn from_sources(
        sources: &[(&'static str, &'static str)],
    ) -> Result<Self, serde_json::Error> {
        let mut texts = HashMap::new();
        for (language, json) in sources {
            texts.insert(*language, serde_json::from_str(json)?);
        }
        Ok(Self { texts })
    }

    /// The text for `key` in `language`, with `{name}` placeholders
    /// replaced by the HTML-escaped values in `args`. The result is safe to
    /// place in HTML.
    pub fn text(&self, language: &str, key: &str, args: &[(&str, &str)]) -> String {
        let template = self
            .texts
            .get(language)
            .and_then(|texts| texts.get(key))
            .or_else(|| self.texts.get("en").and_then(|texts| texts.get(key)))
            .map(String::as_str)
            .unwrap_or(key);
        let mut text = escape_html(template);
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), &escape_html(value));
        }
        text
    }

    /// Keys present in English but missing in `language`.
    pub fn missing(&self, language: &str) -> Vec<String> {
        let Some(english) = self.texts.get("en") else {
            return Vec::new();
        };
        let other = self.texts.get(language);
        let mut missing: Vec<String> = english
            .keys()
            .filter(|key| other.is_none_or(|texts| !texts.contains_key(*key)))
            .cloned()
            .collect();
        missing.sort();
        missing
    }
}

/// Picks the page language: an explicit choice first, then the browser's
/// `Accept-Language` preferences, then French.
pub fn negotiate(explicit: Option<&str>, accept_language: Option<&str>) -> &'static str {
    if let Some(choice) = explicit.and_then(supported) {
        return choice;
    }
    let mut preferences: Vec<(f32, &str)> = accept_language
        .unwrap_or_default()
        .split(',')
        .filter_map(|item| {
            let mut parts = item.trim().split(';');
            let tag = parts.next()?.trim();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((quality, tag))
        })
        .collect();
    preferences.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    preferences
        .into_iter()
        .find_map(|(_, tag)| supported(tag))
        .unwrap_or("fr")
}

fn supported(tag: &str) -> Option<&'static str> {
    let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
    match primary.as_str() {
        "ar" | "ary" => Some("ar"),
        "fr" => Some("fr"),
        // Tamazight: Standard Moroccan, Tachelhit, Central Atlas, Tarifit.
        "zgh" | "ber" | "shi" | "tzm" | "rif" | "kab" => Some("zgh"),
        "en" => Some("en"),
        _ => None,
    }
}

/// Text direction of a page language.
pub fn direction(language: &str) -> &'static str {
    if language == "ar" {
        "rtl"
    } else {
        "ltr"
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// Checks for an invisible format character that reorders or hides text:
/// the bidirectional marks, embeddings, overrides and isolates (U+061C,
/// U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069), and the zero-width
/// characters (U+180E, U+200B to U+200D, U+2060 to U+2064, U+FEFF).
pub fn is_hidden_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Removes the characters of [`is_hidden_control`] from text taken from a
/// credential, so that a name reads on a page as it is stored and cannot
/// hide or reorder letters to pass for another one.
///
/// A zero-width non-joiner or joiner (U+200C, U+200D) stays when it sits
/// between two non-ASCII characters, where Arabic, Persian and Indic
/// words and emoji sequences need it. There it changes only how the two
/// characters join, never which characters are shown.
pub fn remove_hidden_controls(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut cleaned = String::with_capacity(text.len());
    for (position, &c) in chars.iter().enumerate() {
        if !is_hidden_control(c) {
            cleaned.push(c);
            continue;
        }
        let joins_letters = matches!(c, '\u{200C}' | '\u{200D}')
            && position > 0
            && chars
                .get(position - 1)
                .is_some_and(|before| !before.is_ascii() && !is_hidden_control(*before))
            && chars
                .get(position + 1)
                .is_some_and(|after| !after.is_ascii() && !is_hidden_control(*after));
        if joins_letters {
            cleaned.push(c);
        }
    }
    cleaned
}

/// Writes each character of [`is_hidden_control`] as its code point in
/// angle brackets (`<U+202E>`), for technical details whose reader needs
/// to see exactly what a value contains. Escape the result for HTML.
pub fn show_hidden_controls(text: &str) -> String {
    let mut written = String::with_capacity(text.len());
    for c in text.chars() {
        if is_hidden_control(c) {
            written.push_str(&format!("<U+{:04X}>", u32::from(c)));
        } else {
            written.push(c);
        }
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_prefers_choice_then_browser() {
        assert_eq!(negotiate(Some("ar"), Some("en")), "ar");
        assert_eq!(negotiate(Some("xx"), Some("en-GB,en;q=0.9")), "en");
        assert_eq!(negotiate(None, Some("de-DE,ar-MA;q=0.8,fr;q=0.5")), "ar");
        assert_eq!(negotiate(None, Some("shi;q=1")), "zgh");
        assert_eq!(negotiate(None, None), "fr");
    }

    #[test]
    fn placeholders_are_escaped() {
        let translations =
            Translations::from_sources(&[("en", r#"{"greet": "Hello {name} & co"}"#)])
                .expect("json");
        assert_eq!(
            translations.text("ar", "greet", &[("name", "<script>")]),
            "Hello &lt;script&gt; &amp; co"
        );
        assert_eq!(translations.text("en", "absent", &[]), "absent");
    }

    #[test]
    fn hidden_controls_are_removed() {
        let cases = [
            ("Khadija\u{202E}alamoK", "KhadijaalamoK"),
            ("\u{2067}Acad\u{200B}émie\u{2069}", "Académie"),
            ("Taa\u{200D}Woun\u{200C}Ya\u{2060}\u{FEFF}", "TaaWounYa"),
            ("\u{200E}\u{200F}\u{061C}\u{202A}x\u{202C}", "x"),
            // Between two Arabic letters the non-joiner stays.
            ("\u{0644}\u{200C}\u{0627}", "\u{0644}\u{200C}\u{0627}"),
            // At either end it goes.
            ("\u{200D}\u{0644}\u{200D}", "\u{0644}"),
        ];
        for (input, expected) in cases {
            assert_eq!(remove_hidden_controls(input), expected, "{input:?}");
        }
    }

    #[test]
    fn hidden_controls_are_shown() {
        assert_eq!(
            show_hidden_controls("did:web:a\u{202E}b\u{200B}"),
            "did:web:a<U+202E>b<U+200B>"
        );
    }
}
