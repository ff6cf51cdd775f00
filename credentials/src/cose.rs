//! The QR form of a credential: the compact summary of
//! [`crate::compact`], signed as a COSE_Sign1 structure (RFC 9052) whose
//! payload is a CWT claims set (RFC 8392) in CBOR, and written as decimal
//! digits so that a QR code stores it in numeric mode.
//!
//! A JWS of the same summary is about twice as large: base64url costs a
//! third more than the bytes it encodes and a QR code stores it at 8 bits a
//! character, while digits cost 10 bits for 3 of them. With CBOR instead of
//! JSON, a realistic certificate's link fits a version 12 QR code at level
//! M. `docs/compact-form.md` describes the layout byte by byte.
//!
//! Verification accepts one encoding only: the deterministic CBOR encoding
//! (RFC 8949 §4.2.1) of exactly the structure below, so every summary has
//! one spelling and nothing can hide in unused fields.
//!
//! ```text
//! COSE_Sign1 = [
//!   protected: bstr .cbor { 1 (alg): -8 (EdDSA), 4 (kid): bstr (4 bytes) },
//!   unprotected: {},
//!   payload: bstr .cbor {
//!     ? 4 (exp): uint, 5 (nbf): uint,
//!     "a": tstr, "h": bstr (16 bytes), "n": [+ tstr],
//!     ? "s": [+ [purpose: "r" / "s", list: uint / tstr, index: uint]],
//!   },
//!   signature: bstr (64 bytes),
//! ]
//! ```

use crate::compact::{self, Checked, Claims, CompactError, StatusRef, DIGEST_BYTES};
use crate::did::{Resolver, VerificationMethod};
use crate::verify::TrustedIssuer;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ciborium::Value as Cbor;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier as _, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Longest QR form accepted, in digits (about 500 bytes). A realistic
/// certificate needs about 520 digits.
pub const MAX_DIGITS: usize = 1200;

/// Bytes of the key id: the start of the key's JWK thumbprint (RFC 7638).
/// It only selects which trusted keys to try, and the signature decides.
pub const KEY_ID_BYTES: usize = 4;

/// COSE algorithm -8: EdDSA (RFC 9053 §2.2).
const ALG_EDDSA: i64 = -8;
const HEADER_ALG: i64 = 1;
const HEADER_KID: i64 = 4;
const CLAIM_EXP: i64 = 4;
const CLAIM_NBF: i64 = 5;

/// Bytes per chunk and digits per chunk: 7 bytes (56 bits) fit 17 digits.
const CHUNK_BYTES: usize = 7;
/// Digits for a chunk of `n` bytes, `n` from 1 to 7: the digits of
/// 256^n - 1.
const CHUNK_DIGITS: [usize; CHUNK_BYTES + 1] = [0, 3, 5, 8, 10, 13, 15, 17];

/// Writes bytes as decimal digits. Each chunk of 7 bytes, read as a
/// big-endian number, takes 17 digits with leading zeros. A last, shorter
/// chunk of `n` bytes takes as many digits as 256^n - 1 has.
pub fn to_digits(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 5 / 2);
    for chunk in bytes.chunks(CHUNK_BYTES) {
        let value = chunk
            .iter()
            .fold(0u64, |value, byte| (value << 8) | u64::from(*byte));
        let width = CHUNK_DIGITS[chunk.len()];
        out.push_str(&format!("{value:0width$}"));
    }
    out
}

/// Reads the digits of [`to_digits`]. A length no chunk sizes add up to,
/// or a chunk whose number does not fit its bytes, is rejected, so each
/// byte string has one spelling.
pub fn from_digits(digits: &str) -> Result<Vec<u8>, CompactError> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CompactError::Digits);
    }
    let full = CHUNK_DIGITS[CHUNK_BYTES];
    let rest = digits.len() % full;
    let last = CHUNK_DIGITS
        .iter()
        .position(|&width| width == rest)
        .ok_or(CompactError::Digits)?;
    let mut bytes = Vec::with_capacity(digits.len() / full * CHUNK_BYTES + last);
    let mut position = 0;
    while position < digits.len() {
        let width = if digits.len() - position == rest {
            rest
        } else {
            full
        };
        let count = if width == full { CHUNK_BYTES } else { last };
        let value: u64 = digits[position..position + width]
            .parse()
            .map_err(|_| CompactError::Digits)?;
        if count < 8 && value >> (8 * count) != 0 {
            return Err(CompactError::Digits);
        }
        bytes.extend_from_slice(&value.to_be_bytes()[8 - count..]);
        position += width;
    }
    Ok(bytes)
}

/// Returns the key id of `key`: the first [`KEY_ID_BYTES`] bytes of its
/// JWK thumbprint (RFC 7638 §3, SHA-256 of `{"crv","kty","x"}`).
pub fn key_id(key: &VerifyingKey) -> [u8; KEY_ID_BYTES] {
    let jwk = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(key.as_bytes())
    );
    let digest = Sha256::digest(jwk.as_bytes());
    let mut id = [0u8; KEY_ID_BYTES];
    id.copy_from_slice(&digest[..KEY_ID_BYTES]);
    id
}

/// Signs the summary of a signed credential with the issuer's key and
/// returns it as digits.
pub fn sign(credential: &Value, key: &SigningKey) -> Result<String, CompactError> {
    let claims = compact::claims_for(credential)?;
    let payload = encode(&payload_value(&claims)?)?;
    let protected = encode(&Cbor::Map(vec![
        (Cbor::from(HEADER_ALG), Cbor::from(ALG_EDDSA)),
        (
            Cbor::from(HEADER_KID),
            Cbor::Bytes(key_id(&key.verifying_key()).to_vec()),
        ),
    ]))?;
    let signature = key.sign(&signing_input(&protected, &payload)?);
    let sign1 = Cbor::Array(vec![
        Cbor::Bytes(protected),
        Cbor::Map(Vec::new()),
        Cbor::Bytes(payload),
        Cbor::Bytes(signature.to_bytes().to_vec()),
    ]);
    Ok(to_digits(&encode(&sign1)?))
}

/// Builds the claims as a CBOR map, keys in deterministic order: integers
/// first, then one-letter text keys in alphabetical order.
fn payload_value(claims: &Claims) -> Result<Cbor, CompactError> {
    let digest = URL_SAFE_NO_PAD
        .decode(&claims.h)
        .map_err(|_| CompactError::Signing("the digest is not base64url".into()))?;
    let mut map = Vec::new();
    if let Some(exp) = claims.exp {
        map.push((Cbor::from(CLAIM_EXP), Cbor::from(exp)));
    }
    map.push((Cbor::from(CLAIM_NBF), Cbor::from(claims.nbf)));
    map.push((text("a"), text(&claims.a)));
    map.push((text("h"), Cbor::Bytes(digest)));
    map.push((
        text("n"),
        Cbor::Array(claims.n.iter().map(|name| text(name)).collect()),
    ));
    if !claims.s.is_empty() {
        let entries = claims.s.iter().map(|StatusRef(purpose, list, index)| {
            Cbor::Array(vec![
                text(purpose),
                list_value(purpose, list),
                Cbor::from(*index),
            ])
        });
        map.push((text("s"), Cbor::Array(entries.collect())));
    }
    Ok(Cbor::Map(map))
}

fn text(value: &str) -> Cbor {
    Cbor::Text(value.to_owned())
}

/// Writes a list named `revocation-7` or `suspension-7`, as the academy
/// names them, as the number 7, and any other name as text.
fn list_value(purpose: &str, list: &str) -> Cbor {
    list.strip_prefix(purpose_name(purpose))
        .and_then(|rest| rest.strip_prefix('-'))
        .filter(|number| !number.starts_with('0'))
        .and_then(|number| number.parse::<u64>().ok())
        .map_or_else(|| text(list), Cbor::from)
}

fn purpose_name(purpose: &str) -> &'static str {
    if purpose == "r" {
        "revocation"
    } else {
        "suspension"
    }
}

/// Builds the bytes signed: the COSE `Sig_structure` of RFC 9052 §4.4,
/// `["Signature1", protected, external_aad = h'', payload]`.
fn signing_input(protected: &[u8], payload: &[u8]) -> Result<Vec<u8>, CompactError> {
    encode(&Cbor::Array(vec![
        text("Signature1"),
        Cbor::Bytes(protected.to_vec()),
        Cbor::Bytes(Vec::new()),
        Cbor::Bytes(payload.to_vec()),
    ]))
}

fn encode(value: &Cbor) -> Result<Vec<u8>, CompactError> {
    let mut bytes = Vec::new();
    ciborium::into_writer(value, &mut bytes)
        .map_err(|error| CompactError::Signing(error.to_string()))?;
    Ok(bytes)
}

/// Decodes one CBOR item that fills `bytes` exactly and is in
/// deterministic encoding: re-encoding it gives the same bytes. That
/// rejects indefinite lengths, lengths not in their shortest form,
/// trailing bytes and, with [`check_map`], unsorted or repeated keys.
fn decode(bytes: &[u8], part: &'static str) -> Result<Cbor, CompactError> {
    let mut reader = bytes;
    let value: Cbor = ciborium::de::from_reader_with_recursion_limit(&mut reader, 8)
        .map_err(|_| CompactError::Cbor(part))?;
    if !reader.is_empty() || encode(&value).ok().as_deref() != Some(bytes) {
        return Err(CompactError::Cbor(part));
    }
    Ok(value)
}

/// Checks that map keys are unique and in deterministic order (by their
/// encoded bytes) and returns the entries.
fn check_map(value: Cbor, part: &'static str) -> Result<Vec<(Cbor, Cbor)>, CompactError> {
    let Cbor::Map(entries) = value else {
        return Err(CompactError::Cbor(part));
    };
    let keys: Vec<Vec<u8>> = entries
        .iter()
        .map(|(key, _)| encode(key))
        .collect::<Result<_, _>>()?;
    if keys.windows(2).any(|pair| pair[0] >= pair[1]) {
        return Err(CompactError::Cbor(part));
    }
    Ok(entries)
}

/// Checks a QR form against the trusted issuers' pinned keys at `now`.
/// When the full credential is at hand, pass it as `full`: every claim
/// must then agree with it.
pub fn verify(
    digits: &str,
    resolver: &Resolver,
    trusted: &[TrustedIssuer],
    now: DateTime<Utc>,
    full: Option<&Value>,
) -> Result<Checked, CompactError> {
    if digits.len() > MAX_DIGITS {
        return Err(CompactError::TooLong);
    }
    let bytes = from_digits(digits)?;
    let Cbor::Array(parts) = decode(&bytes, "COSE_Sign1")? else {
        return Err(CompactError::Cbor("COSE_Sign1"));
    };
    let [Cbor::Bytes(protected), Cbor::Map(unprotected), Cbor::Bytes(payload), Cbor::Bytes(signature)] =
        <[Cbor; 4]>::try_from(parts).map_err(|_| CompactError::Cbor("COSE_Sign1"))?
    else {
        return Err(CompactError::Cbor("COSE_Sign1"));
    };
    if let Some((label, _)) = unprotected.first() {
        return Err(CompactError::HeaderParameter(label_name(label)));
    }
    let kid = check_protected(&protected)?;
    let signature =
        Signature::from_slice(&signature).map_err(|_| CompactError::Cbor("signature"))?;

    // The key id only narrows the keys to try; a key whose id matches by
    // chance fails the signature like any other.
    let input = signing_input(&protected, &payload)?;
    let (issuer, method) = trusted_keys(resolver, trusted)
        .into_iter()
        .filter(|(_, method)| key_id(&method.key) == kid)
        .find(|(_, method)| method.key.verify(&input, &signature).is_ok())
        .ok_or_else(|| {
            let known = trusted_keys(resolver, trusted)
                .iter()
                .any(|(_, method)| key_id(&method.key) == kid);
            if known {
                CompactError::Signature
            } else {
                CompactError::UnknownKey(URL_SAFE_NO_PAD.encode(kid))
            }
        })?;

    let claims = read_claims(&payload, &issuer)?;
    compact::check_period(&claims, now)?;
    if let Some(full) = full {
        compact::check_agreement(&claims, full)?;
    }
    Ok(Checked {
        claims,
        method: method.id,
    })
}

/// Returns every assertion key of every trusted issuer, with the issuer's
/// id.
pub fn trusted_keys(
    resolver: &Resolver,
    trusted: &[TrustedIssuer],
) -> Vec<(String, VerificationMethod)> {
    let mut keys = Vec::new();
    for issuer in trusted {
        let Some(document) = resolver.document(&issuer.id) else {
            continue;
        };
        let methods = document
            .get("verificationMethod")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|method| method.get("id").and_then(Value::as_str));
        for id in methods {
            let absolute = if id.starts_with('#') {
                format!("{}{id}", issuer.id)
            } else {
                id.to_owned()
            };
            if let Ok(method) = resolver.resolve(&absolute) {
                if method.assertion_method && method.controller == issuer.id {
                    keys.push((issuer.id.clone(), method));
                }
            }
        }
    }
    keys
}

fn label_name(label: &Cbor) -> String {
    match label {
        Cbor::Integer(number) => i128::from(*number).to_string(),
        Cbor::Text(name) => name.clone(),
        _ => "?".to_owned(),
    }
}

/// Accepts exactly `{1: -8, 4: kid}` and returns the kid.
fn check_protected(protected: &[u8]) -> Result<[u8; KEY_ID_BYTES], CompactError> {
    let entries = check_map(decode(protected, "protected header")?, "protected header")?;
    let mut alg = None;
    let mut kid = None;
    for (label, value) in entries {
        match (&label, value) {
            (Cbor::Integer(number), value) if i128::from(*number) == i128::from(HEADER_ALG) => {
                alg = Some(value)
            }
            (Cbor::Integer(number), Cbor::Bytes(bytes))
                if i128::from(*number) == i128::from(HEADER_KID) =>
            {
                kid = Some(bytes)
            }
            _ => return Err(CompactError::HeaderParameter(label_name(&label))),
        }
    }
    match alg {
        Some(Cbor::Integer(number)) if i128::from(number) == i128::from(ALG_EDDSA) => {}
        Some(other) => return Err(CompactError::Algorithm(format!("{other:?}"))),
        None => return Err(CompactError::Algorithm(String::new())),
    }
    kid.and_then(|bytes| <[u8; KEY_ID_BYTES]>::try_from(bytes).ok())
        .ok_or(CompactError::MissingKid)
}

/// Reads the payload into [`Claims`]; `iss` is the issuer whose key
/// verified the signature. The credential id is not carried: the digest
/// `h` names the credential.
fn read_claims(payload: &[u8], issuer: &str) -> Result<Claims, CompactError> {
    let invalid = |reason: &str| CompactError::Claims(reason.to_owned());
    let entries = check_map(decode(payload, "payload")?, "payload")?;
    let mut claims = Claims {
        iss: issuer.to_owned(),
        jti: None,
        nbf: 0,
        exp: None,
        n: Vec::new(),
        a: String::new(),
        s: Vec::new(),
        h: String::new(),
    };
    let (mut nbf, mut a, mut h, mut n) = (false, false, false, false);
    for (key, value) in entries {
        match (key, value) {
            (Cbor::Integer(key), Cbor::Integer(value)) if i128::from(key) == 4 => {
                claims.exp = Some(seconds(value).ok_or_else(|| invalid("exp is out of range"))?);
            }
            (Cbor::Integer(key), Cbor::Integer(value)) if i128::from(key) == 5 => {
                claims.nbf = seconds(value).ok_or_else(|| invalid("nbf is out of range"))?;
                nbf = true;
            }
            (Cbor::Text(key), Cbor::Text(value)) if key == "a" => {
                claims.a = value;
                a = true;
            }
            (Cbor::Text(key), Cbor::Bytes(value)) if key == "h" => {
                if value.len() != DIGEST_BYTES {
                    return Err(invalid("h is not 16 bytes"));
                }
                claims.h = URL_SAFE_NO_PAD.encode(value);
                h = true;
            }
            (Cbor::Text(key), Cbor::Array(values)) if key == "n" => {
                claims.n = values
                    .into_iter()
                    .map(|value| match value {
                        Cbor::Text(name) => Ok(name),
                        _ => Err(invalid("n holds something other than text")),
                    })
                    .collect::<Result<_, _>>()?;
                n = !claims.n.is_empty();
            }
            (Cbor::Text(key), Cbor::Array(values)) if key == "s" && !values.is_empty() => {
                claims.s = values
                    .into_iter()
                    .map(read_status)
                    .collect::<Result<_, _>>()?;
            }
            (key, _) => {
                return Err(invalid(&format!(
                    "the claim {} is unknown or of the wrong type",
                    label_name(&key)
                )))
            }
        }
    }
    if !(nbf && a && h && n) {
        return Err(invalid("nbf, a, h and n are required"));
    }
    Ok(claims)
}

fn seconds(value: ciborium::value::Integer) -> Option<i64> {
    i64::try_from(i128::from(value))
        .ok()
        .filter(|seconds| *seconds >= 0)
}

fn read_status(value: Cbor) -> Result<StatusRef, CompactError> {
    let invalid = || CompactError::Claims("an entry of s is not [purpose, list, index]".into());
    let Cbor::Array(parts) = value else {
        return Err(invalid());
    };
    let [Cbor::Text(purpose), list, Cbor::Integer(index)] =
        <[Cbor; 3]>::try_from(parts).map_err(|_| invalid())?
    else {
        return Err(invalid());
    };
    if purpose != "r" && purpose != "s" {
        return Err(invalid());
    }
    let list = match list {
        Cbor::Integer(number) => {
            let number = u64::try_from(i128::from(number)).map_err(|_| invalid())?;
            format!("{}-{number}", purpose_name(&purpose))
        }
        // A name the number form could have written is rejected, so each
        // list has one spelling.
        Cbor::Text(name) if matches!(list_value(&purpose, &name), Cbor::Text(_)) => name,
        _ => return Err(invalid()),
    };
    let index = u64::try_from(i128::from(index)).map_err(|_| invalid())?;
    Ok(StatusRef(purpose, list, index))
}

#[cfg(test)]
#[path = "cose_tests.rs"]
mod tests;
