//! Strict JSON parsing for documents received from outside.
//!
//! `serde_json` keeps the last of two equal keys, so `{"issuer": A,
//! "issuer": B}` could be read as B here and as A by another tool that
//! shows it to a person. Documents with duplicate keys, or nested deeper
//! than [`MAX_DEPTH`], are rejected instead.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Deepest nesting of arrays and objects accepted. Credentials nest to
/// about ten levels.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(String);

/// Parses `bytes` as JSON, rejecting duplicate keys and deep nesting.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue { depth: 0 }
        .deserialize(&mut deserializer)
        .map_err(|e| JsonError(e.to_string()))?;
    deserializer.end().map_err(|e| JsonError(e.to_string()))?;
    Ok(value)
}

struct StrictValue {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom(format!(
                "JSON nested deeper than {MAX_DEPTH} levels"
            )));
        }
        // With serde_json's `arbitrary_precision`, which ssi enables, numbers
        // arrive as a map with one private key; rebuild them as numbers.
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value = access.next_value_seed(StrictValue {
                depth: self.depth + 1,
            })?;
            if key == "$serde_json::private::Number" {
                if let Value::String(text) = &value {
                    let number: serde_json::Number = text.parse().map_err(de::Error::custom)?;
                    return Ok(Value::Number(number));
                }
            }
            if map.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom(format!(
                "JSON nested deeper than {MAX_DEPTH} levels"
            )));
        }
        let mut items = Vec::new();
        while let Some(item) = access.next_element_seed(StrictValue {
            depth: self.depth + 1,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_documents() {
        let value = parse_strict(br#"{"a": [1, 2.5, "x", true, null, {"b": -3}]}"#).expect("valid");
        assert_eq!(value["a"][1], serde_json::json!(2.5));
        assert_eq!(value["a"][5]["b"], serde_json::json!(-3));
    }

    #[test]
    fn rejects_duplicate_keys_at_any_depth() {
        for input in [
            r#"{"issuer": "a", "issuer": "b"}"#,
            r#"{"x": {"id": 1, "id": 1}}"#,
            r#"[{"a": 1}, {"k": 1, "k": 2}]"#,
        ] {
            let error = parse_strict(input.as_bytes()).expect_err(input);
            assert!(
                error.to_string().contains("duplicate key"),
                "{input}: {error}"
            );
        }
    }

    #[test]
    fn rejects_deep_nesting() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse_strict(deep.as_bytes()).is_err());
        let shallow = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_strict(shallow.as_bytes()).is_ok());
    }

    #[test]
    fn rejects_trailing_data_and_bad_syntax() {
        assert!(parse_strict(b"{} {}").is_err());
        assert!(parse_strict(b"{\"a\": }").is_err());
        assert!(parse_strict(b"").is_err());
    }
}
