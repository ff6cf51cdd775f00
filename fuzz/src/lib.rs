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
use ed25519_dalek::SigningKey;
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
