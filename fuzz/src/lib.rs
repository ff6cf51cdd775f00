//! Inputs shared by the fuzz targets: an academy issuer with a fixed
//! signing key, a verifier that trusts it, and a credential it signed.
//!
//! The key is a constant, so runs are reproducible and a crash found once
//! replays the same way.

use chrono::{DateTime, TimeZone, Utc};
use credentials::did::{self, PublishedKey};
use credentials::model::{
    self, Achievement, AchievementKind, CredentialInput, Recipient, StatusEntry,
};
use credentials::{LocalizedText, Resolver, TrustedIssuer, Verifier};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The issuer DID of the fuzzing academy.
pub const DID: &str = "did:web:academy.taawounya.ma";

/// The verification method that signs its credentials and compact forms.
pub const KID: &str = "did:web:academy.taawounya.ma#key-1";

/// A trusted issuer, its key and one credential it issued.
pub struct Academy {
    pub key: SigningKey,
    pub verifier: Verifier,
    /// A signed path credential with a revocation and a suspension entry.
    pub credential: Value,
}

/// Returns the academy, built on first use.
pub fn academy() -> &'static Academy {
    static ACADEMY: OnceLock<Academy> = OnceLock::new();
    ACADEMY.get_or_init(build_academy)
}

/// Returns the instant every target verifies at: after the credential's
/// `validFrom` and before its `validUntil`.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
        .single()
        .expect("a valid date")
}

/// Wraps the panic hook of libfuzzer-sys, which aborts the run before any
/// unwinding, so that panics raised in the source of `crates` (file paths
/// containing `/{crate}-`) unwind silently to the `catch_unwind` of the
/// project code that calls them. Any other panic still aborts the run, and
/// so does one that no project code catches, because libfuzzer-sys aborts
/// when a panic leaves the target. Call it from the target's `init`.
pub fn allow_caught_panics(crates: &'static [&'static str]) {
    let aborting_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let file = info.location().map_or("", |location| location.file());
        let allowed = crates
            .iter()
            .any(|name| file.contains(&format!("/{name}-")));
        if !allowed {
            aborting_hook(info);
        }
    }));
}

fn build_academy() -> Academy {
    let key = SigningKey::from_bytes(&[42u8; 32]);
    let mut resolver = Resolver::new();
    resolver
        .insert(did::did_document(
            DID,
            &[PublishedKey {
                fragment: "key-1",
                key: key.verifying_key(),
            }],
        ))
        .expect("the DID document is valid");
    let trusted = vec![TrustedIssuer {
        id: DID.to_owned(),
        name: BTreeMap::new(),
    }];
    let credential = signed_credential(&key);
    Academy {
        key,
        verifier: Verifier::new(resolver, trusted),
        credential,
    }
}

fn text(pairs: &[(&str, &str)]) -> LocalizedText {
    LocalizedText(
        pairs
            .iter()
            .map(|(language, value)| ((*language).to_owned(), (*value).to_owned()))
            .collect(),
    )
}

fn signed_credential(key: &SigningKey) -> Value {
    let list = "https://academy.taawounya.ma/status";
    let status = ["revocation", "suspension"].map(|purpose| StatusEntry {
        purpose: purpose.to_owned(),
        list_url: format!("{list}/{purpose}-1"),
        index: 48213,
    });
    let input = CredentialInput {
        id: uuid::Uuid::from_u128(0x5d2c_8f41_0b7e_4e19_9a3c_62d1_f0e4_8b27),
        issuer_id: DID.to_owned(),
        issuer_name: text(&[("ar", "أكاديمية تعاونية"), ("fr", "Académie TaaWounYa")]),
        achievement: Achievement {
            id: "https://academy.taawounya.ma/achievements/paths/path-finance".to_owned(),
            kind: AchievementKind::Path,
            code: "path-finance".to_owned(),
            name: text(&[
                ("ar", "التسيير المالي للتعاونية"),
                ("fr", "Gestion financière de la coopérative"),
                ("zgh", "ⴰⵙⵙⵏⴼⵍ ⴰⴷⵔⵉⵎⴰⵏ"),
            ]),
            description: text(&[("fr", "Comptabilité, comptes annuels, microcrédit.")]),
            criteria: text(&[("fr", "Réussir les trois modules du parcours.")]),
        },
        recipient: Recipient {
            member_id: "m-0002".to_owned(),
            salt: "c1d2e3f4".to_owned(),
            name_arabic: "خديجة أوبلا".to_owned(),
            name_latin: "Khadija Oubella".to_owned(),
        },
        valid_from: Utc
            .with_ymd_and_hms(2026, 11, 20, 0, 0, 0)
            .single()
            .expect("a valid date"),
        valid_until: Utc.with_ymd_and_hms(2029, 11, 20, 0, 0, 0).single(),
        score: Some(85),
        evidence_url: Some("https://lms.example.org/e/1".to_owned()),
        supporting: Vec::new(),
        status: status.to_vec(),
    };
    let unsigned = model::open_badge(&input);
    let options = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-11-20T09:30:00Z",
        "verificationMethod": KID,
        "proofPurpose": "assertionMethod",
    });
    let options = options.as_object().cloned().unwrap_or_default();
    let signed = credentials::proof::sign(&unsigned, &options, key).expect("signing succeeds");
    Value::Object(signed)
}

/// Builds a COSE_Sign1 structure (RFC 9052 §4.2) around a protected
/// header and a payload given as bytes, signed with `key`, with an empty
/// unprotected header. The parts are written as they are given, so the
/// verifier reads fuzzed CBOR behind a valid signature.
pub fn cose_sign1(key: &SigningKey, protected: &[u8], payload: &[u8]) -> Vec<u8> {
    // Sig_structure = ["Signature1", protected, external_aad = h'', payload]
    let mut to_sign = vec![0x84, 0x6a];
    to_sign.extend_from_slice(b"Signature1");
    cbor_bytes(&mut to_sign, protected);
    cbor_bytes(&mut to_sign, &[]);
    cbor_bytes(&mut to_sign, payload);
    let signature = key.sign(&to_sign).to_bytes();

    let mut sign1 = vec![0x84];
    cbor_bytes(&mut sign1, protected);
    sign1.push(0xa0);
    cbor_bytes(&mut sign1, payload);
    cbor_bytes(&mut sign1, &signature);
    sign1
}

/// Appends a CBOR byte string (major type 2) with its length in the
/// shortest form.
fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let length = bytes.len();
    match u8::try_from(length) {
        Ok(short) if short < 24 => out.push(0x40 | short),
        Ok(byte) => out.extend_from_slice(&[0x58, byte]),
        Err(_) => match u16::try_from(length) {
            Ok(two) => {
                out.push(0x59);
                out.extend_from_slice(&two.to_be_bytes());
            }
            Err(_) => {
                // Fuzz inputs stay far below 4 GiB.
                let four = u32::try_from(length).unwrap_or(u32::MAX);
                out.push(0x5a);
                out.extend_from_slice(&four.to_be_bytes());
            }
        },
    }
    out.extend_from_slice(bytes);
}
