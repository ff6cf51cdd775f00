//! Published test vectors and third-party credentials.

use chrono::{DateTime, Utc};
use credentials::proof::{self, HashData};
use credentials::verify::{ErrorKind, Outcome};
use credentials::{keys, Resolver, Verifier};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(fixtures().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn object(path: &str) -> Map<String, Value> {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn at(instant: &str) -> DateTime<Utc> {
    credentials::datetime::parse(instant).expect("valid instant")
}

struct Reproduction {
    hashes: HashData,
    signed: Map<String, Value>,
}

fn reproduce(
    unsigned: Map<String, Value>,
    options: Map<String, Value>,
    secret: &ed25519_dalek::SigningKey,
) -> Reproduction {
    let mut options = options;
    options.remove("@context");
    let hashes = proof::hash_data(&unsigned, &options).expect("hash data");
    let signed = proof::sign(&unsigned, &options, secret).expect("sign");
    Reproduction { hashes, signed }
}

fn proof_value(document: &Map<String, Value>) -> &str {
    document["proof"]["proofValue"]
        .as_str()
        .expect("proofValue")
}

const W3C: &str = "w3c-vc-di-eddsa/TestVectors";

fn w3c_key() -> ed25519_dalek::SigningKey {
    let pair = object(&format!("{W3C}/keyPair.json"));
    keys::decode_secret_multibase(pair["privateKeyMultibase"].as_str().expect("private key"))
        .expect("key")
}

#[test]
fn w3c_eddsa_rdfc_2022_reproduced() {
    let dir = format!("{W3C}/eddsa-rdfc-2022");
    let result = reproduce(
        object(&format!("{W3C}/unsigned.json")),
        object(&format!("{dir}/proofConfigDataInt.json")),
        &w3c_key(),
    );
    assert_eq!(
        result.hashes.canonical_document,
        read(&format!("{dir}/canonDocDataInt.txt"))
    );
    assert_eq!(
        result.hashes.canonical_proof_config,
        read(&format!("{dir}/proofCanonDataInt.txt"))
    );
    assert_eq!(
        hex::encode(result.hashes.document_hash),
        read(&format!("{dir}/docHashDataInt.txt")).trim()
    );
    assert_eq!(
        hex::encode(result.hashes.proof_config_hash),
        read(&format!("{dir}/proofHashDataInt.txt")).trim()
    );
    assert_eq!(
        proof_value(&result.signed),
        read(&format!("{dir}/sigBTC58DataInt.txt")).trim()
    );
    assert_eq!(result.signed, object(&format!("{dir}/signedDataInt.json")));
}

#[test]
fn w3c_ed25519_signature_2020_reproduced() {
    let dir = format!("{W3C}/Ed25519Signature2020");
    let signed = object(&format!("{dir}/signedEdSig.json"));
    let mut unsigned = signed.clone();
    unsigned.remove("proof");
    let result = reproduce(
        unsigned,
        object(&format!("{dir}/proofConfigEdSig.json")),
        &w3c_key(),
    );
    assert_eq!(
        result.hashes.canonical_document,
        read(&format!("{dir}/canonDocEdSig.txt"))
    );
    assert_eq!(
        result.hashes.canonical_proof_config,
        read(&format!("{dir}/proofCanonEdSig.txt"))
    );
    assert_eq!(
        proof_value(&result.signed),
        read(&format!("{dir}/sigBTC58EdSig.txt")).trim()
    );
}

#[test]
fn open_badges_vector_reproduced() {
    let dir = "openbadges-v3";
    let pair = object(&format!("{dir}/key-pair.json"));
    let secret =
        keys::decode_secret_multibase(pair["secretKeyMultibase"].as_str().expect("secret"))
            .expect("key");
    let result = reproduce(
        object(&format!("{dir}/unsigned.json")),
        object(&format!("{dir}/proof-options.json")),
        &secret,
    );
    let hashes = read(&format!("{dir}/hashes.txt"));
    assert_eq!(
        result.hashes.canonical_document,
        read(&format!("{dir}/document-canon.txt"))
    );
    assert_eq!(
        result.hashes.canonical_proof_config,
        read(&format!("{dir}/proof-canon.txt"))
    );
    assert!(
        hashes.contains(&hex::encode(result.hashes.document_hash)),
        "document hash"
    );
    assert!(
        hashes.contains(&hex::encode(result.hashes.proof_config_hash)),
        "proof hash"
    );
    assert_eq!(result.signed, object(&format!("{dir}/signed.json")));
}

fn open_badges_resolver() -> Resolver {
    let pair = object("openbadges-v3/key-pair.json");
    let mut resolver = Resolver::new();
    resolver
        .insert(serde_json::json!({
            "id": pair["controller"],
            "verificationMethod": [{
                "id": pair["id"],
                "type": "Multikey",
                "controller": pair["controller"],
                "publicKeyMultibase": pair["publicKeyMultibase"],
            }],
            "assertionMethod": [pair["id"]],
        }))
        .expect("controller document");
    resolver
}

#[test]
fn open_badges_vector_verifies() {
    let verifier = Verifier::new(open_badges_resolver(), Vec::new());
    let signed = Value::Object(object("openbadges-v3/signed.json"));
    let report = verifier.verify_credential(&signed, at("2026-01-01T00:00:00Z"));
    assert!(report.verified, "{:?}", report.errors);
    assert_eq!(report.outcome, Outcome::IssuerNotRecognised);
}

#[test]
fn w3c_vector_issuer_does_not_control_key() {
    // The published vector's issuer is an https URL while the key is a
    // did:key; the signature is valid but binds no key to the issuer.
    let verifier = Verifier::default();
    let signed = Value::Object(object(&format!("{W3C}/eddsa-rdfc-2022/signedDataInt.json")));
    let report = verifier.verify_credential(&signed, at("2026-01-01T00:00:00Z"));
    assert!(
        report.checks.contains(&"proof".to_owned()),
        "{:?}",
        report.errors
    );
    assert_eq!(report.outcome, Outcome::Forged);
    assert!(report.errors.iter().any(|p| p.check == "proof.issuer"));
}

/// Every DCC credential: the signature result its file name states, and
/// the date outcome where the name states one.
#[test]
fn dcc_fixtures_give_stated_results() {
    let verifier = Verifier::default();
    let base = fixtures().join("dcc-fixtures/verifiableCredentials/v2");
    let mut seen = 0;
    for suite in ["dataIntegrityProof/didKey", "ed25519/didKey"] {
        let mut entries: Vec<_> = std::fs::read_dir(base.join(suite))
            .expect("fixture folder")
            .flatten()
            .collect();
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let credential: Value =
                serde_json::from_str(&std::fs::read_to_string(entry.path()).expect("read"))
                    .expect("json");
            let report = verifier.verify_credential(&credential, at("2026-06-01T00:00:00Z"));
            let signature_ok = report.checks.contains(&"proof".to_owned());
            if name.ends_with("-tampered.json") {
                assert!(!signature_ok, "{name}: tampered credential verified");
                assert_eq!(report.outcome, Outcome::Altered, "{name}");
            } else {
                assert!(signature_ok, "{name}: {:?}", report.errors);
                assert!(report.checks.contains(&"proof.issuer".to_owned()), "{name}");
            }
            let segments: Vec<&str> = name.trim_end_matches(".json").split('-').collect();
            if segments.contains(&"expired") {
                assert_eq!(report.outcome, Outcome::Expired, "{name}");
                assert!(
                    report.errors.iter().any(|p| p.is(ErrorKind::RangeError)),
                    "{name}"
                );
            }
            if segments.contains(&"notYetValid") {
                assert_eq!(report.outcome, Outcome::NotYetValid, "{name}");
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 29);
}

#[test]
fn identity_hash_fixture_verifies() {
    // The `hashed` flag's declared datatype is https://...#boolean; the
    // conversion to RDF must keep it, as jsonld.js does.
    let verifier = Verifier::default();
    let credential: Value = serde_json::from_str(&read(
        "dcc-fixtures/verifiableCredentials/v2/dataIntegrityProof/didKey/legacyRegistry-noStatus-noExpiry-identityHash.json",
    ))
    .expect("json");
    let report = verifier.verify_credential(&credential, at("2026-06-01T00:00:00Z"));
    assert!(
        report.checks.contains(&"proof".to_owned()),
        "{:?}",
        report.errors
    );
}

#[test]
fn every_signed_field_is_covered() {
    let verifier = Verifier::new(open_badges_resolver(), Vec::new());
    let signed = object("openbadges-v3/signed.json");
    let now = at("2026-01-01T00:00:00Z");
    let mut changed = 0;
    for (path, replacement) in [
        ("/name", serde_json::json!("Another name")),
        ("/validFrom", serde_json::json!("2010-01-02T00:00:00Z")),
        (
            "/credentialSubject/achievement/name",
            serde_json::json!("Forged achievement"),
        ),
        (
            "/credentialSubject/achievement/criteria/narrative",
            serde_json::json!("Nothing"),
        ),
        ("/issuer/name", serde_json::json!("Someone else")),
        (
            "/id",
            serde_json::json!("http://example.edu/credentials/9999"),
        ),
        ("/proof/created", serde_json::json!("2011-01-01T19:23:24Z")),
    ] {
        let mut document = Value::Object(signed.clone());
        let target = document
            .pointer_mut(path)
            .unwrap_or_else(|| panic!("{path} missing"));
        *target = replacement;
        let report = verifier.verify_credential(&document, now);
        assert!(!report.verified, "{path} change still verified");
        assert_eq!(report.outcome, Outcome::Altered, "{path}");
        changed += 1;
    }
    assert_eq!(changed, 7);
}

#[test]
fn unknown_context_rejected_offline() {
    let verifier = Verifier::default();
    let mut credential = object(&format!("{W3C}/eddsa-rdfc-2022/employ/signedDataInt.json"));
    let report = verifier.verify_credential(
        &Value::Object(credential.clone()),
        at("2026-01-01T00:00:00Z"),
    );
    assert_eq!(report.outcome, Outcome::Malformed);
    assert!(report
        .errors
        .iter()
        .any(|p| p.is(ErrorKind::ParsingError) && p.detail.contains("citizenship")));

    credential.insert("@context".into(), serde_json::json!(["https://www.w3.org/ns/credentials/v2", {"name": "https://evil.example/name"}]));
    let report = verifier.verify_credential(&Value::Object(credential), at("2026-01-01T00:00:00Z"));
    assert_eq!(report.outcome, Outcome::Malformed);
}

/// Maps a DCC status list URL to its local copy, so that those hosts are
/// never contacted.
fn dcc_status_list(url: &str) -> Option<std::path::PathBuf> {
    const PAGES: &str = "https://digitalcredentials.github.io/vc-test-fixtures/statusLists/";
    const VERIFIER_CORE: &str = "https://raw.githubusercontent.com/digitalcredentials/verifier-core/refs/heads/main/src/test-fixtures/status/";
    let dcc = fixtures().join("dcc-fixtures");
    if let Some(rest) = url.strip_prefix(PAGES) {
        return Some(dcc.join("statusLists").join(rest));
    }
    url.strip_prefix(VERIFIER_CORE)
        .map(|rest| dcc.join("verifier-core-status").join(rest))
}

/// Runs both verification steps on a DCC credential, its status lists
/// read from the local copies.
fn dcc_with_status(verifier: &Verifier, credential: &Value) -> credentials::Report {
    let now = at("2026-06-01T00:00:00Z");
    let mut report = verifier.verify_credential(credential, now);
    let mut lists = credentials::verify::StatusLists::new();
    for url in report.status_lists_to_fetch() {
        let path = dcc_status_list(&url).unwrap_or_else(|| panic!("no local copy of {url}"));
        let document: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("status list"))
                .expect("json");
        let list = credentials::verify::FetchedList {
            document,
            fetched_at: now,
        };
        lists.insert(url, Ok(list));
    }
    verifier.check_status(&mut report, &lists, now);
    report
}

fn dcc_status_fixtures() -> Vec<(String, Value)> {
    let base = fixtures().join("dcc-fixtures/verifiableCredentials/v2");
    let mut found = Vec::new();
    for suite in ["dataIntegrityProof/didKey", "ed25519/didKey"] {
        for entry in std::fs::read_dir(base.join(suite))
            .expect("fixture folder")
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(entry.path()).expect("read");
            let credential: Value = serde_json::from_str(&text).expect("json");
            if credential.get("credentialStatus").is_some() {
                found.push((name, credential));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// DCC status fixtures: `validStatus` gives a clear bit, `revokedStatus`
/// gives revoked, and the lists named tampered, expired, not yet valid or
/// missing their type leave the status unknown.
///
/// The DCC lists are 100,000 entries long, under the 131,072 that
/// Bitstring Status List v1.0 requires, and most are signed by a different
/// `did:key` than the credentials that point at them. Their issuers are not
/// trusted, so the default policy reads the lists and warns;
/// `dcc_status_fixtures_fail_strict_policy` shows the strict policy.
#[test]
fn dcc_status_fixtures_give_stated_status() {
    let verifier = Verifier::default();
    let fixtures = dcc_status_fixtures();
    assert_eq!(fixtures.len(), 12);
    for (name, credential) in fixtures {
        let report = dcc_with_status(&verifier, &credential);
        let states: Vec<_> = report.credential_status.iter().map(|s| s.state).collect();
        if name.contains("-validStatus-") {
            assert_eq!(
                states,
                vec![credentials::verify::StatusState::Clear],
                "{name}"
            );
            assert_eq!(report.outcome, Outcome::Expired, "{name}");
        } else if name.contains("-revokedStatus-") || name.contains("-revoked-") {
            assert_eq!(
                states,
                vec![credentials::verify::StatusState::Set],
                "{name}"
            );
            assert_eq!(report.outcome, Outcome::Revoked, "{name}");
            assert!(
                report.errors.iter().any(|p| p.is(ErrorKind::Revoked)),
                "{name}"
            );
        } else {
            assert_eq!(
                states,
                vec![credentials::verify::StatusState::Unknown],
                "{name}: {:?}",
                report.errors
            );
            assert_eq!(report.outcome, Outcome::StatusUnknown, "{name}");
            assert!(
                report
                    .errors
                    .iter()
                    .any(|p| p.is(ErrorKind::StatusVerificationError)),
                "{name}: {:?}",
                report.errors
            );
        }
    }
}

#[test]
fn dcc_status_fixtures_fail_strict_policy() {
    let verifier = Verifier {
        status_policy: credentials::verify::StatusPolicy::strict(),
        ..Verifier::default()
    };
    for (name, credential) in dcc_status_fixtures() {
        let report = dcc_with_status(&verifier, &credential);
        assert!(!report.verified, "{name}");
        assert!(
            report
                .credential_status
                .iter()
                .all(|s| s.state == credentials::verify::StatusState::Unknown),
            "{name}"
        );
        assert_ne!(report.outcome, Outcome::Genuine, "{name}");
    }
}
