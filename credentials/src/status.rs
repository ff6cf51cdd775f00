//! Bitstring Status List v1.0: reading a credential's status entries and
//! decoding the `encodedList` of a status list credential.
//!
//! Everything here is pure and bounded: no network, and no input makes it
//! allocate more than [`MAX_LIST_BYTES`] for a decoded list. Checking the
//! status list credential itself (proof, type, issuer, validity period) is
//! done by [`crate::verify::Verifier`], which owns the proof verification.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::io::Read;

/// Minimum number of entries in a status list that Bitstring Status List
/// v1.0 sets for herd privacy: 131,072 bits, 16 KiB at one bit per entry.
pub const MIN_ENTRIES: u64 = 131_072;

/// Largest decoded bitstring accepted, in bytes: 16,777,216 one-bit
/// entries, 128 times the minimum.
pub const MAX_LIST_BYTES: usize = 2 * 1024 * 1024;

/// Largest `encodedList` accepted, in characters. A list of zeros of the
/// minimum size encodes to about 70 characters.
pub const MAX_ENCODED_CHARS: usize = 1024 * 1024;

/// Most status entries read from one credential. The academy's credentials
/// carry two (revocation and suspension).
pub const MAX_ENTRIES: usize = 8;

/// The entry type this module reads.
pub const ENTRY_TYPE: &str = "BitstringStatusListEntry";

/// The type a status list credential must have.
pub const LIST_CREDENTIAL_TYPE: &str = "BitstringStatusListCredential";

/// The type of a status list credential's subject.
pub const LIST_TYPE: &str = "BitstringStatusList";

/// One `BitstringStatusListEntry` of a credential's `credentialStatus`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEntry {
    /// `statusPurpose`, such as `revocation` or `suspension`.
    pub purpose: String,
    /// `statusListIndex`, the position of the credential's bit in the list.
    pub index: u64,
    /// `statusListCredential`, the URL of the status list credential.
    pub list_url: String,
}

impl StatusEntry {
    /// True for the purposes whose bit, when set, withdraws the credential.
    pub fn is_checked_purpose(&self) -> bool {
        matches!(self.purpose.as_str(), "revocation" | "suspension")
    }
}

/// A problem with a status entry or a status list.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("credentialStatus must be an object or an array of objects")]
    NotAnObject,
    #[error("the credential has {0} status entries; at most {MAX_ENTRIES} are read")]
    TooManyEntries(usize),
    #[error("status entry type {0:?} is not supported; expected BitstringStatusListEntry")]
    UnsupportedType(String),
    #[error("the status entry has no {0}")]
    MissingField(&'static str),
    #[error("statusListIndex {0} is not a decimal string such as \"42\"")]
    InvalidIndex(String),
    #[error("statusListCredential {0:?} is not an http or https URL")]
    InvalidListUrl(String),
    #[error("statusSize {0} is not supported; revocation and suspension entries use one bit")]
    UnsupportedStatusSize(String),
    #[error("encodedList must start with \"u\" (multibase base64url)")]
    NotMultibase,
    #[error("encodedList is longer than {MAX_ENCODED_CHARS} characters")]
    EncodedTooLong,
    #[error("encodedList is not valid base64url: {0}")]
    NotBase64(String),
    #[error("the decoded encodedList is not GZIP data")]
    NotGzip,
    #[error("the GZIP data of encodedList is damaged or truncated: {0}")]
    DamagedGzip(String),
    #[error("encodedList decompresses to more than {MAX_LIST_BYTES} bytes")]
    ListTooLarge,
    #[error("the status list has {entries} entries; at least {minimum} are required")]
    ListTooShort { entries: u64, minimum: u64 },
    #[error("statusListIndex {index} is beyond the status list's {entries} entries")]
    IndexOutOfRange { index: u64, entries: u64 },
}

/// Reads the status entries of a credential. A credential without
/// `credentialStatus` has none.
pub fn entries(document: &Map<String, Value>) -> Result<Vec<StatusEntry>, StatusError> {
    let items: Vec<&Value> = match document.get("credentialStatus") {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item) => vec![item],
    };
    if items.len() > MAX_ENTRIES {
        return Err(StatusError::TooManyEntries(items.len()));
    }
    items.into_iter().map(entry).collect()
}

fn entry(value: &Value) -> Result<StatusEntry, StatusError> {
    let map = value.as_object().ok_or(StatusError::NotAnObject)?;

    let types = match map.get("type") {
        Some(Value::String(kind)) => vec![kind.as_str()],
        Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect(),
        _ => return Err(StatusError::MissingField("type")),
    };
    if !types.contains(&ENTRY_TYPE) {
        return Err(StatusError::UnsupportedType(types.join(", ")));
    }
    let text = |name: &'static str| -> Result<&str, StatusError> {
        map.get(name)
            .and_then(Value::as_str)
            .ok_or(StatusError::MissingField(name))
    };
    let purpose = text("statusPurpose")?.to_owned();

    let index = match map.get("statusListIndex") {
        Some(Value::String(index)) => parse_index(index)?,
        Some(other) => return Err(StatusError::InvalidIndex(other.to_string())),
        None => return Err(StatusError::MissingField("statusListIndex")),
    };

    let list_url = text("statusListCredential")?;
    let parsed =
        url::Url::parse(list_url).map_err(|_| StatusError::InvalidListUrl(list_url.to_owned()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(StatusError::InvalidListUrl(list_url.to_owned()));
    }

    // statusSize defaults to 1. A larger size goes with statusMessage
    // values, which the revocation and suspension purposes do not use.
    match map.get("statusSize") {
        None => {}
        Some(size) if size.as_u64() == Some(1) || size.as_str() == Some("1") => {}
        Some(size) => return Err(StatusError::UnsupportedStatusSize(size.to_string())),
    }
    Ok(StatusEntry {
        purpose,
        index,
        list_url: list_url.to_owned(),
    })
}

/// Parses `statusListIndex`, which the specification defines as a base-10
/// string. A sign, a space, an exponent or a value beyond `u64` is rejected.
fn parse_index(text: &str) -> Result<u64, StatusError> {
    let invalid = || StatusError::InvalidIndex(format!("{text:?}"));
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    text.parse().map_err(|_| invalid())
}

/// A decoded bitstring. Bit 0 is the most significant bit of byte 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bitstring(Vec<u8>);

impl Bitstring {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Number of one-bit entries.
    pub fn len(&self) -> u64 {
        self.0.len() as u64 * 8
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Reads the bit at `index`.
    pub fn get(&self, index: u64) -> Result<bool, StatusError> {
        let entries = self.len();
        let out_of_range = StatusError::IndexOutOfRange { index, entries };
        if index >= entries {
            return Err(out_of_range);
        }
        let byte = usize::try_from(index / 8).map_err(|_| out_of_range)?;
        Ok(self.0[byte] >> (7 - index % 8) & 1 == 1)
    }

    /// Sets the bit at `index`, to build a list.
    pub fn set(&mut self, index: u64, value: bool) -> Result<(), StatusError> {
        let entries = self.len();
        let out_of_range = StatusError::IndexOutOfRange { index, entries };
        if index >= entries {
            return Err(out_of_range);
        }
        let byte = usize::try_from(index / 8).map_err(|_| out_of_range)?;
        let mask = 1u8 << (7 - index % 8);
        if value {
            self.0[byte] |= mask;
        } else {
            self.0[byte] &= !mask;
        }
        Ok(())
    }

    /// Encodes the bitstring as `encodedList`: multibase base64url without
    /// padding (prefix `u`) of its GZIP compression.
    pub fn encode(&self) -> String {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing into a Vec cannot fail.
        let _ = encoder.write_all(&self.0);
        let compressed = encoder.finish().unwrap_or_default();
        format!("u{}", BASE64URL.encode(compressed))
    }
}

/// Base64url that accepts input with or without padding.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes an `encodedList` (the bitstring expansion of Bitstring Status
/// List v1.0), reading at most [`MAX_LIST_BYTES`] of output so
/// that a small GZIP bomb cannot make it allocate gigabytes.
pub fn decode(encoded: &str) -> Result<Bitstring, StatusError> {
    if encoded.len() > MAX_ENCODED_CHARS {
        return Err(StatusError::EncodedTooLong);
    }
    let body = encoded.strip_prefix('u').ok_or(StatusError::NotMultibase)?;
    let compressed = BASE64URL
        .decode(body)
        .map_err(|e| StatusError::NotBase64(e.to_string()))?;
    if !compressed.starts_with(&[0x1f, 0x8b]) {
        return Err(StatusError::NotGzip);
    }

    let limit = MAX_LIST_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| StatusError::DamagedGzip(e.to_string()))?;
    if bytes.len() > MAX_LIST_BYTES {
        return Err(StatusError::ListTooLarge);
    }
    Ok(Bitstring(bytes))
}

/// Reads the bit of `index` in a decoded list, which must have at least
/// `minimum` entries.
pub fn read_bit(list: &Bitstring, index: u64, minimum: u64) -> Result<bool, StatusError> {
    if list.len() < minimum {
        return Err(StatusError::ListTooShort {
            entries: list.len(),
            minimum,
        });
    }
    list.get(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document(status: Value) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("credentialStatus".into(), status);
        map
    }

    fn revocation(index: Value) -> Value {
        json!({
            "id": "https://example.org/status/1#5",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": index,
            "statusListCredential": "https://example.org/status/1",
        })
    }

    #[test]
    fn entries_read_index_and_purpose() {
        let read = entries(&document(json!([revocation(json!("5"))]))).expect("entries");
        assert_eq!(
            read,
            vec![StatusEntry {
                purpose: "revocation".into(),
                index: 5,
                list_url: "https://example.org/status/1".into(),
            }]
        );
    }

    #[test]
    fn entries_reject_bad_indexes() {
        for index in [
            json!("-1"),
            json!("+1"),
            json!(" 1"),
            json!("1e3"),
            json!("0x10"),
            json!(""),
            json!("18446744073709551616"),
            json!("99999999999999999999999"),
            json!(5),
            json!(null),
        ] {
            let result = entries(&document(revocation(index.clone())));
            assert!(
                matches!(result, Err(StatusError::InvalidIndex(_))),
                "{index}: {result:?}"
            );
        }
        let largest = entries(&document(revocation(json!("18446744073709551615"))));
        assert_eq!(largest.expect("u64::MAX")[0].index, u64::MAX);
    }

    #[test]
    fn entries_reject_other_shapes() {
        let mut other_type = revocation(json!("1"));
        other_type["type"] = json!("StatusList2021Entry");
        let mut ftp = revocation(json!("1"));
        ftp["statusListCredential"] = json!("ftp://example.org/list");
        let mut wide = revocation(json!("1"));
        wide["statusSize"] = json!(2);
        let mut no_purpose = revocation(json!("1"));
        no_purpose
            .as_object_mut()
            .expect("object")
            .remove("statusPurpose");
        let many = Value::Array(vec![revocation(json!("1")); MAX_ENTRIES + 1]);
        let cases = [
            (other_type, "UnsupportedType"),
            (ftp, "InvalidListUrl"),
            (wide, "UnsupportedStatusSize"),
            (no_purpose, "MissingField"),
            (json!("https://example.org/status/1"), "NotAnObject"),
            (many, "TooManyEntries"),
        ];
        for (status, expected) in cases {
            let error = entries(&document(status)).expect_err(expected);
            assert!(format!("{error:?}").starts_with(expected), "{error:?}");
        }
    }

    #[test]
    fn bit_zero_is_most_significant() {
        let mut list = Bitstring::from_bytes(vec![0; 2]);
        list.set(0, true).expect("set");
        list.set(9, true).expect("set");
        assert_eq!(list.0, vec![0b1000_0000, 0b0100_0000]);
        assert!(list.get(0).expect("bit 0"));
        assert!(!list.get(1).expect("bit 1"));
        assert!(list.get(9).expect("bit 9"));
        assert!(matches!(
            list.get(16),
            Err(StatusError::IndexOutOfRange { .. })
        ));
        assert!(matches!(
            list.get(u64::MAX),
            Err(StatusError::IndexOutOfRange { .. })
        ));
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let mut list = Bitstring::from_bytes(vec![0; (MIN_ENTRIES / 8) as usize]);
        list.set(42, true).expect("set");
        let encoded = list.encode();
        assert!(encoded.starts_with('u'));
        let decoded = decode(&encoded).expect("decode");
        assert_eq!(decoded, list);
        assert!(read_bit(&decoded, 42, MIN_ENTRIES).expect("bit"));
        assert!(!read_bit(&decoded, 43, MIN_ENTRIES).expect("bit"));
    }

    #[test]
    fn decode_rejects_bad_encodings() {
        let good = Bitstring::from_bytes(vec![0; 16 * 1024]).encode();
        let raw = BASE64URL.decode(&good[1..]).expect("base64");
        let truncated = format!("u{}", BASE64URL.encode(&raw[..raw.len() - 6]));
        let plain = format!("u{}", BASE64URL.encode(vec![0u8; 64]));
        let cases = [
            (good[1..].to_owned(), "NotMultibase"),
            ("u!!!".to_owned(), "NotBase64"),
            (plain, "NotGzip"),
            (truncated, "DamagedGzip"),
            (
                "u".to_owned() + &"A".repeat(MAX_ENCODED_CHARS),
                "EncodedTooLong",
            ),
        ];
        for (encoded, expected) in cases {
            let error = decode(&encoded).expect_err(expected);
            assert!(format!("{error:?}").starts_with(expected), "{error:?}");
        }
    }

    #[test]
    fn decode_stops_at_size_cap() {
        use std::io::Write;
        // Half a gigabyte of zeros, compressed in chunks so the test never
        // keeps it in memory; its encodedList is under the character limit.
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let chunk = vec![0u8; 1024 * 1024];
        for _ in 0..512 {
            encoder.write_all(&chunk).expect("compress");
        }
        let bomb = format!("u{}", BASE64URL.encode(encoder.finish().expect("gzip")));
        assert!(bomb.len() < MAX_ENCODED_CHARS, "{} characters", bomb.len());
        assert_eq!(decode(&bomb), Err(StatusError::ListTooLarge));

        let largest = Bitstring::from_bytes(vec![0; MAX_LIST_BYTES]).encode();
        let decoded = decode(&largest).expect("a list at the cap");
        assert_eq!(decoded.len(), MAX_LIST_BYTES as u64 * 8);
    }

    #[test]
    fn short_list_rejected() {
        let list = Bitstring::from_bytes(vec![0; 12_500]);
        assert_eq!(
            read_bit(&list, 1, MIN_ENTRIES),
            Err(StatusError::ListTooShort {
                entries: 100_000,
                minimum: MIN_ENTRIES
            })
        );
        assert_eq!(read_bit(&list, 1, 100_000), Ok(false));
    }
}
