//! The compact signed form of a credential that travels in its QR code.
//!
//! It is a JWS compact serialization (RFC 7515 §7.1) signed with `EdDSA`
//! over Ed25519 (RFC 8037) by the issuer's signing key. The payload is a
//! small JWT claims set (RFC 7519) that summarises the full credential, so
//! that a phone with no connection can show who earned what, and when, and
//! know the summary comes from a trusted issuer. `docs/compact-form.md`
//! describes every claim.
//!
//! Verification accepts one shape only: three base64url segments without
//! padding, a protected header of `alg: EdDSA`, a `kid` naming one of the
//! trusted issuer's assertion keys and optionally `typ`, and nothing else.
//! Keys never come from the header (`jwk`, `jku`, `x5u`, `x5c`), `crit` and
//! the unencoded payload option (`b64`, RFC 7797) are rejected, and the
//! signature is checked before any claim is believed.

use crate::did::Resolver;
use crate::text::LocalizedText;
use crate::{datetime, verify::TrustedIssuer};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use josekit::jwk::Jwk;
use josekit::jws::{EdDSA, JwsHeader};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Longest compact form accepted, in bytes. A QR code of version 40 holds
/// at most 2,331 bytes at level M, so nothing longer comes from a scan.
pub const MAX_LENGTH: usize = 4096;

/// The only signature algorithm accepted.
pub const ALGORITHM: &str = "EdDSA";

/// Bytes of the SHA-256 digest kept in the `h` claim: 128 bits.
pub const DIGEST_BYTES: usize = 16;

/// Header parameters a compact form may carry; any other is rejected.
const ALLOWED_HEADER: [&str; 3] = ["alg", "kid", "typ"];

/// One status entry of the credential: purpose (`r` revocation, `s`
/// suspension), status list id (the last path segment of the list URL)
/// and index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRef(pub String, pub String, pub u64);

/// The claims of a compact form. Names are short because every byte
/// enlarges the QR code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Issuer DID (`issuer.id`).
    pub iss: String,
    /// Credential id (`id`). The QR form leaves it out: its digest `h`
    /// names the credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// `validFrom`, the completion date, in seconds since the Unix epoch.
    pub nbf: i64,
    /// `validUntil` in seconds since the Unix epoch; absent when the
    /// credential does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Holder names (`credentialSubject.name`), ordered by language tag.
    pub n: Vec<String>,
    /// Achievement name (`name`) in French, else the first language given.
    pub a: String,
    /// Status entries (`credentialStatus`), empty when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub s: Vec<StatusRef>,
    /// Base64url of the first [`DIGEST_BYTES`] bytes of the SHA-256 of the
    /// full signed credential in JCS form; see [`credential_digest`].
    pub h: String,
}

/// Reason a compact form was not made or not accepted.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum CompactError {
    #[error("the compact form is longer than {MAX_LENGTH} bytes")]
    TooLong,
    #[error("the compact form must have 3 segments separated by dots, not {0}")]
    Segments(usize),
    #[error("the {0} segment is not base64url without padding")]
    Base64(&'static str),
    #[error("the QR form is not a whole number of chunks of digits")]
    Digits,
    #[error("the {0} is not the one accepted CBOR encoding")]
    Cbor(&'static str),
    #[error("the {0} segment is not a JSON object")]
    Json(&'static str),
    #[error("the algorithm {0:?} is not accepted: only EdDSA is")]
    Algorithm(String),
    #[error("the header parameter {0:?} is not accepted")]
    HeaderParameter(String),
    #[error("the header has no kid naming the signing key")]
    MissingKid,
    #[error("issuer {0:?} is not a trusted issuer")]
    UntrustedIssuer(String),
    #[error("key {0:?} is not an assertion key of the issuer")]
    UnknownKey(String),
    #[error("the signature does not match the header and claims")]
    Signature,
    #[error("the claims are not valid: {0}")]
    Claims(String),
    #[error("the compact form expired at {0}")]
    Expired(String),
    #[error("the compact form is not valid before {0}")]
    NotYetValid(String),
    #[error("the claim {0} differs from the full credential")]
    Disagrees(&'static str),
    #[error("the credential cannot be summarised: {0}")]
    Credential(String),
    #[error("signing failed: {0}")]
    Signing(String),
}

/// A compact form whose signature, key and validity period were checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub claims: Claims,
    /// The verification method that signed it.
    pub method: String,
}

/// Builds the claims that summarise a signed credential.
pub fn claims_for(credential: &Value) -> Result<Claims, CompactError> {
    let document = credential
        .as_object()
        .ok_or_else(|| CompactError::Credential("the credential is not a JSON object".into()))?;
    let text = |name: &str| document.get(name).and_then(Value::as_str);
    let iss = match document.get("issuer") {
        Some(Value::String(id)) => Some(id.as_str()),
        Some(Value::Object(map)) => map.get("id").and_then(Value::as_str),
        _ => None,
    }
    .ok_or_else(|| CompactError::Credential("the issuer has no id".into()))?;
    let jti =
        text("id").ok_or_else(|| CompactError::Credential("the credential has no id".into()))?;
    let nbf = epoch(text("validFrom"))?
        .ok_or_else(|| CompactError::Credential("the credential has no validFrom".into()))?;
    let exp = epoch(text("validUntil"))?;
    let subject = match document.get("credentialSubject") {
        Some(Value::Array(items)) => items.first(),
        other => other,
    };
    let n: Vec<String> = LocalizedText::from_json(subject.and_then(|s| s.get("name")))
        .0
        .into_values()
        .collect();
    let a = LocalizedText::from_json(document.get("name"))
        .pick("fr")
        .unwrap_or_default()
        .to_owned();
    Ok(Claims {
        iss: iss.to_owned(),
        jti: Some(jti.to_owned()),
        nbf,
        exp,
        n,
        a,
        s: status_refs(document.get("credentialStatus"))?,
        h: credential_digest(credential),
    })
}

fn epoch(value: Option<&str>) -> Result<Option<i64>, CompactError> {
    value
        .map(|text| {
            datetime::parse(text)
                .map(|instant| instant.timestamp())
                .map_err(|_| CompactError::Credential(format!("{text:?} is not a date-time")))
        })
        .transpose()
}

/// Reads Bitstring Status List entries (`BitstringStatusListEntry`): the
/// list id is the last path segment of `statusListCredential`.
fn status_refs(status: Option<&Value>) -> Result<Vec<StatusRef>, CompactError> {
    let entries = match status {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    let invalid = |reason: &str| CompactError::Credential(format!("credentialStatus: {reason}"));
    entries
        .into_iter()
        .map(|entry| {
            let purpose = match entry.get("statusPurpose").and_then(Value::as_str) {
                Some("revocation") => "r",
                Some("suspension") => "s",
                _ => return Err(invalid("statusPurpose is not revocation or suspension")),
            };
            let list = entry
                .get("statusListCredential")
                .and_then(Value::as_str)
                .and_then(|url| url.rsplit_once("/status/"))
                .map(|(_, id)| id)
                .filter(|id| !id.is_empty() && !id.contains(['/', '#', '?']))
                .ok_or_else(|| invalid("statusListCredential is not a .../status/{list-id} URL"))?;
            let index = entry
                .get("statusListIndex")
                .and_then(Value::as_str)
                .and_then(|index| index.parse::<u64>().ok())
                .ok_or_else(|| invalid("statusListIndex is not a decimal string"))?;
            Ok(StatusRef(purpose.to_owned(), list.to_owned(), index))
        })
        .collect()
}

/// Returns the `h` claim of a signed credential: base64url of the first
/// [`DIGEST_BYTES`] bytes of the SHA-256 of its JCS (RFC 8785) form, proof
/// included.
///
/// The JCS form is hashed, not the stored bytes, so the digest does not
/// depend on whitespace or key order, which change when a wallet or an
/// HTTP layer re-serializes the document. The proof is included so the
/// summary binds one signed document, not merely its content.
pub fn credential_digest(credential: &Value) -> String {
    let mut canonical = String::new();
    write_jcs(credential, &mut canonical);
    let digest = Sha256::digest(canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..DIGEST_BYTES])
}

/// Writes `value` in JCS form: object members sorted by the UTF-16 code
/// units of their names, no whitespace, strings escaped as JSON requires.
// NOTE: JCS formats numbers as ECMAScript does; serde_json agrees for
// integers, and the academy's credentials hold no other numbers.
fn write_jcs(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (position, (name, member)) in members.into_iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(name.clone()).to_string());
                out.push(':');
                write_jcs(member, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                write_jcs(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Signs the summary of a signed credential as a JWS. `kid` is the
/// verification method id of `key`, for example
/// `did:web:academy.example#key-1`. The issuer puts the smaller QR form of
/// [`crate::cose::sign`] in its links; the verifier accepts both.
pub fn sign_jws(credential: &Value, key: &SigningKey, kid: &str) -> Result<String, CompactError> {
    let claims = claims_for(credential)?;
    let payload =
        serde_json::to_vec(&claims).map_err(|error| CompactError::Signing(error.to_string()))?;
    let mut header = JwsHeader::new();
    header.set_algorithm(ALGORITHM);
    header.set_key_id(kid);
    let signer = EdDSA
        .signer_from_jwk(&private_jwk(key))
        .map_err(|error| CompactError::Signing(error.to_string()))?;
    josekit::jws::serialize_compact(&payload, &header, &signer)
        .map_err(|error| CompactError::Signing(error.to_string()))
}

fn private_jwk(key: &SigningKey) -> Jwk {
    let mut jwk = public_jwk(&key.verifying_key());
    // Setting a string parameter on a fresh JWK cannot fail.
    let _ = jwk.set_parameter(
        "d",
        Some(Value::String(URL_SAFE_NO_PAD.encode(key.as_bytes()))),
    );
    jwk
}

/// Returns the public key as an OKP JWK (RFC 8037 §2), the form WebCrypto
/// imports.
pub fn public_jwk(key: &VerifyingKey) -> Jwk {
    let mut jwk = Jwk::new("OKP");
    let _ = jwk.set_parameter("crv", Some(Value::String("Ed25519".into())));
    let _ = jwk.set_parameter(
        "x",
        Some(Value::String(URL_SAFE_NO_PAD.encode(key.as_bytes()))),
    );
    jwk
}

/// Checks a compact form, the QR form of [`crate::cose`] (digits) or a
/// JWS, against the trusted issuers' pinned keys at `now`. When the full
/// credential is at hand, pass it as `full`: every claim must then agree
/// with it.
pub fn verify(
    compact: &str,
    resolver: &Resolver,
    trusted: &[TrustedIssuer],
    now: DateTime<Utc>,
    full: Option<&Value>,
) -> Result<Checked, CompactError> {
    if !compact.is_empty() && compact.bytes().all(|b| b.is_ascii_digit()) {
        return crate::cose::verify(compact, resolver, trusted, now, full);
    }
    if compact.len() > MAX_LENGTH {
        return Err(CompactError::TooLong);
    }
    let segments: Vec<&str> = compact.split('.').collect();
    let &[header_segment, payload_segment, signature_segment] = segments.as_slice() else {
        return Err(CompactError::Segments(segments.len()));
    };
    let header = decode_object(header_segment, "header")?;
    check_header(&header)?;
    let Some(Value::String(kid)) = header.get("kid") else {
        return Err(CompactError::MissingKid);
    };
    decode_segment(signature_segment, "signature")?;

    // The payload is read before the signature is checked only to learn
    // which issuer's keys to try; nothing else in it is used until then.
    let unverified = decode_object(payload_segment, "payload")?;
    let issuer = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| CompactError::Claims("iss is missing".into()))?;
    if !trusted.iter().any(|entry| entry.id == issuer) {
        return Err(CompactError::UntrustedIssuer(issuer.to_owned()));
    }
    let method_id = if kid.starts_with('#') {
        format!("{issuer}{kid}")
    } else {
        kid.clone()
    };
    let method = resolver
        .resolve(&method_id)
        .ok()
        .filter(|method| method.controller == issuer && method.assertion_method)
        .filter(|_| {
            method_id
                .split_once('#')
                .is_some_and(|(did, _)| did == issuer)
        })
        .ok_or_else(|| CompactError::UnknownKey(kid.clone()))?;

    let verifier = EdDSA
        .verifier_from_jwk(&public_jwk(&method.key))
        .map_err(|_| CompactError::UnknownKey(kid.clone()))?;
    let (payload, _) = josekit::jws::deserialize_compact(compact, &verifier)
        .map_err(|_| CompactError::Signature)?;

    let claims: Claims = serde_json::from_slice(&payload)
        .map_err(|error| CompactError::Claims(error.to_string()))?;
    if claims.jti.is_none() {
        return Err(CompactError::Claims("jti is missing".into()));
    }
    check_period(&claims, now)?;
    if let Some(full) = full {
        check_agreement(&claims, full)?;
    }
    Ok(Checked {
        claims,
        method: method_id,
    })
}

fn decode_segment(segment: &str, name: &'static str) -> Result<Vec<u8>, CompactError> {
    // The standard engine rejects padding and non-zero trailing bits, so
    // each value has exactly one accepted spelling.
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| CompactError::Base64(name))
}

fn decode_object(segment: &str, name: &'static str) -> Result<Map<String, Value>, CompactError> {
    let bytes = decode_segment(segment, name)?;
    match crate::json::parse_strict(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(CompactError::Json(name)),
    }
}

fn check_header(header: &Map<String, Value>) -> Result<(), CompactError> {
    match header.get("alg") {
        Some(Value::String(alg)) if alg == ALGORITHM => {}
        Some(Value::String(alg)) => return Err(CompactError::Algorithm(alg.clone())),
        Some(other) => return Err(CompactError::Algorithm(other.to_string())),
        None => return Err(CompactError::Algorithm(String::new())),
    }
    if let Some(name) = header
        .keys()
        .find(|name| !ALLOWED_HEADER.contains(&name.as_str()))
    {
        return Err(CompactError::HeaderParameter(name.clone()));
    }
    if header.get("typ").is_some_and(|typ| !typ.is_string()) {
        return Err(CompactError::HeaderParameter("typ".into()));
    }
    Ok(())
}

pub(crate) fn check_period(claims: &Claims, now: DateTime<Utc>) -> Result<(), CompactError> {
    let skew = datetime::clock_skew().num_seconds();
    let format = |seconds: i64| {
        DateTime::from_timestamp(seconds, 0)
            .map(datetime::format)
            .unwrap_or_else(|| seconds.to_string())
    };
    if claims.nbf > now.timestamp() + skew {
        return Err(CompactError::NotYetValid(format(claims.nbf)));
    }
    if let Some(exp) = claims.exp {
        if exp <= now.timestamp() - skew {
            return Err(CompactError::Expired(format(exp)));
        }
    }
    Ok(())
}

/// Compares every claim with the summary of the full credential.
pub(crate) fn check_agreement(claims: &Claims, full: &Value) -> Result<(), CompactError> {
    let expected = claims_for(full)?;
    let pairs: [(&'static str, bool); 8] = [
        ("iss", claims.iss == expected.iss),
        ("jti", claims.jti.is_none() || claims.jti == expected.jti),
        ("nbf", claims.nbf == expected.nbf),
        ("exp", claims.exp == expected.exp),
        ("n", claims.n == expected.n),
        ("a", claims.a == expected.a),
        ("s", claims.s == expected.s),
        ("h", claims.h == expected.h),
    ];
    match pairs.into_iter().find(|(_, same)| !same) {
        Some((name, _)) => Err(CompactError::Disagrees(name)),
        None => Ok(()),
    }
}

/// Tells whether `token` has the form of a share token: 39 decimal digits (128
/// random bits, which a QR code stores in numeric mode), or 32 hexadecimal
/// digits as earlier links carry.
pub fn is_share_token(token: &str) -> bool {
    (token.len() == 39 && token.bytes().all(|b| b.is_ascii_digit()))
        || (token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Builds the link a credential's QR code opens:
/// `{verifier_url}/v/{share_token}#{compact}`, or the link without the
/// compact form when the QR code would need a version above
/// `max_version` (at level M) or no compact form exists.
///
/// With the QR form of [`crate::cose`] (digits), the scheme and host are
/// written in capitals and the path as `/V/`: a QR code then stores the
/// start of the link in alphanumeric mode (5.5 bits a character instead
/// of 8) and the token and the form in numeric mode. Browsers read scheme
/// and host without regard to case, and the verifier serves `/V/` too.
pub fn verification_link(
    verifier_url: &str,
    share_token: &str,
    compact: Option<&str>,
    max_version: i16,
) -> String {
    let base = verifier_url.trim_end_matches('/');
    let plain = format!("{base}/v/{share_token}");
    let Some(compact) = compact else {
        return plain;
    };
    let digits = !compact.is_empty() && compact.bytes().all(|b| b.is_ascii_digit());
    let full = if digits {
        format!("{}/V/{share_token}#{compact}", capital_origin(base))
    } else {
        format!("{plain}#{compact}")
    };
    match crate::qr::version(&full) {
        Ok(version) if version <= max_version => full,
        _ => plain,
    }
}

/// Writes `https://verify.example/path` as `HTTPS://VERIFY.EXAMPLE/path`.
fn capital_origin(base: &str) -> String {
    let Some((scheme, rest)) = base.split_once("://") else {
        return base.to_owned();
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    format!(
        "{}://{}{path}",
        scheme.to_ascii_uppercase(),
        host.to_ascii_uppercase()
    )
}

#[cfg(test)]
#[path = "compact_tests.rs"]
pub(crate) mod tests;
