//! Text in several languages, as VC Data Model 2.0 language value objects.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The languages the academy writes in, in display order. `zgh` is
/// Standard Moroccan Tamazight, written in Tifinagh.
pub const LANGUAGES: [&str; 4] = ["ar", "fr", "zgh", "en"];

/// Key under which text without a language tag is kept.
pub const UNTAGGED: &str = "und";

/// Text by BCP 47 language tag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LocalizedText(pub BTreeMap<String, String>);

impl LocalizedText {
    /// Reads a plain string, a language value object or an array of them.
    pub fn from_json(value: Option<&Value>) -> Self {
        let mut text = BTreeMap::new();
        let mut add = |value: &Value| match value {
            Value::String(s) => {
                text.entry(UNTAGGED.to_owned()).or_insert_with(|| s.clone());
            }
            Value::Object(map) => {
                if let Some(s) = map.get("@value").and_then(Value::as_str) {
                    let language = map
                        .get("@language")
                        .and_then(Value::as_str)
                        .unwrap_or(UNTAGGED);
                    text.entry(language.to_owned())
                        .or_insert_with(|| s.to_owned());
                }
            }
            _ => {}
        };
        match value {
            Some(Value::Array(items)) => items.iter().for_each(&mut add),
            Some(other) => add(other),
            None => {}
        }
        Self(text)
    }

    /// Serializes as an array of language value objects.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.0
                .iter()
                .map(|(language, text)| json!({"@value": text, "@language": language}))
                .collect(),
        )
    }

    /// Picks the text in `language`, else French, English, Arabic, then any.
    pub fn pick(&self, language: &str) -> Option<&str> {
        [language, "fr", "en", "ar", UNTAGGED]
            .iter()
            .find_map(|tag| self.0.get(*tag))
            .or_else(|| self.0.values().next())
            .map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_value_objects_and_strings() {
        let value = json!([{"@value": "Bonjour", "@language": "fr"}, {"@value": "ⴰⵣⵓⵍ", "@language": "zgh"}]);
        let text = LocalizedText::from_json(Some(&value));
        assert_eq!(text.pick("zgh"), Some("ⴰⵣⵓⵍ"));
        assert_eq!(text.pick("ar"), Some("Bonjour"));
        let plain = LocalizedText::from_json(Some(&json!("Hello")));
        assert_eq!(plain.pick("ar"), Some("Hello"));
    }
}
