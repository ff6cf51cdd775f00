//! Credential status in the format the academy issues: two
//! `BitstringStatusListEntry` objects (revocation and suspension) pointing
//! at signed `BitstringStatusListCredential` lists. Credentials and lists
//! are built and signed here, then checked through the offline step and
//! the status step of the verifier.

use chrono::{DateTime, Duration, Utc};
use credentials::status::{Bitstring, MIN_ENTRIES};
use credentials::verify::{
    ErrorKind, FetchedList, StatusLists, StatusPolicy, StatusState, TrustedIssuer,
};
use credentials::{datetime, keys, proof, Outcome, Report, Verifier};
use ed25519_dalek::SigningKey;
use serde_json::{json, Map, Value};

const BASE: &str = "http://127.0.0.1:8080/status";
const REVOCATION_URL: &str = "http://127.0.0.1:8080/status/revocation-1";
const SUSPENSION_URL: &str = "http://127.0.0.1:8080/status/suspension-1";
const INDEX: u64 = 4242;

fn now() -> DateTime<Utc> {
    datetime::parse("2026-12-01T12:00:00Z").expect("instant")
}

struct Issuer {
    key: SigningKey,
    did: String,
}

impl Issuer {
    fn new() -> Self {
        let key = keys::generate();
        let did = keys::did_key(&key.verifying_key());
        Self { key, did }
    }

    fn sign(&self, document: Value) -> Value {
        let fragment = self.did.trim_start_matches("did:key:");
        let options = json!({
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2026-11-01T00:00:00Z",
            "verificationMethod": format!("{}#{fragment}", self.did),
            "proofPurpose": "assertionMethod",
        });
        let signed = proof::sign(as_map(&document), as_map(&options), &self.key).expect("sign");
        Value::Object(signed)
    }

    fn credential(&self) -> Value {
        self.sign(json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "urn:uuid:6a1c9e54-0c8e-4a5c-9b1e-6c4f1f0d2b11",
            "type": ["VerifiableCredential"],
            "issuer": self.did,
            "validFrom": "2026-11-20T00:00:00Z",
            "credentialSubject": {"id": "did:example:member", "name": "Khadija"},
            "credentialStatus": [
                entry("revocation", REVOCATION_URL),
                entry("suspension", SUSPENSION_URL),
            ],
        }))
    }

    /// Signs a status list credential with the given bits set.
    fn list(&self, purpose: &str, set: &[u64]) -> Value {
        let mut bits = Bitstring::from_bytes(vec![0; (MIN_ENTRIES / 8) as usize]);
        for index in set {
            bits.set(*index, true).expect("index in list");
        }
        self.list_with(purpose, &bits.encode(), |_| {})
    }

    /// Signs a status list credential with a given `encodedList`, changed
    /// by `edit` before signing.
    fn list_with(&self, purpose: &str, encoded: &str, edit: impl FnOnce(&mut Value)) -> Value {
        let url = format!("{BASE}/{purpose}-1");
        let mut document = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": self.did,
            "validFrom": "2026-12-01T00:00:00Z",
            "validUntil": "2026-12-02T00:00:00Z",
            "credentialSubject": {
                "id": format!("{url}#list"),
                "type": "BitstringStatusList",
                "statusPurpose": purpose,
                "encodedList": encoded,
            },
        });
        edit(&mut document);
        self.sign(document)
    }
}

fn entry(purpose: &str, url: &str) -> Value {
    json!({
        "id": format!("{url}#{INDEX}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": INDEX.to_string(),
        "statusListCredential": url,
    })
}

fn as_map(value: &Value) -> &Map<String, Value> {
    value.as_object().expect("object")
}

fn fetched(document: Value) -> Result<FetchedList, String> {
    Ok(FetchedList {
        document,
        fetched_at: now() - Duration::minutes(2),
    })
}

fn lists(
    revocation: Result<FetchedList, String>,
    suspension: Result<FetchedList, String>,
) -> StatusLists {
    let mut lists = StatusLists::new();
    lists.insert(REVOCATION_URL.to_owned(), revocation);
    lists.insert(SUSPENSION_URL.to_owned(), suspension);
    lists
}

/// Checks with the strict policy, which applies every rule to every
/// issuer.
fn check(credential: &Value, lists: &StatusLists) -> Report {
    let verifier = Verifier {
        status_policy: StatusPolicy::strict(),
        ..Verifier::default()
    };
    check_with(&verifier, credential, lists)
}

fn check_with(verifier: &Verifier, credential: &Value, lists: &StatusLists) -> Report {
    let mut report = verifier.verify_credential(credential, now());
    verifier.check_status(&mut report, lists, now());
    report
}

fn error_kinds(report: &Report) -> Vec<String> {
    report.errors.iter().map(|p| p.title.clone()).collect()
}

#[test]
fn offline_step_leaves_status_unknown() {
    let issuer = Issuer::new();
    let verifier = Verifier::default();
    let report = verifier.verify_credential(&issuer.credential(), now());
    assert!(report.status_pending());
    assert_eq!(report.outcome, Outcome::StatusUnknown);
    assert_eq!(
        report.status_lists_to_fetch(),
        vec![REVOCATION_URL.to_owned(), SUSPENSION_URL.to_owned()]
    );
    assert!(report
        .warnings
        .iter()
        .any(|p| p.is(ErrorKind::StatusRetrievalError)));
}

#[test]
fn clear_bits_leave_credential_valid() {
    let issuer = Issuer::new();
    let report = check(
        &issuer.credential(),
        &lists(
            fetched(issuer.list("revocation", &[INDEX + 1])),
            fetched(issuer.list("suspension", &[INDEX - 1])),
        ),
    );
    assert!(report.verified, "{:?}", report.errors);
    // Not on the trusted list of a default verifier; the status is clear.
    assert_eq!(report.outcome, Outcome::IssuerNotRecognised);
    assert_eq!(report.credential_status.len(), 2);
    assert!(report
        .credential_status
        .iter()
        .all(|s| s.state == StatusState::Clear));
    assert!(report
        .checks
        .contains(&"credentialStatus.revocation".to_owned()));
    assert!(report
        .checks
        .contains(&"credentialStatus.suspension".to_owned()));
    assert_eq!(
        report.status_checked_at.as_deref(),
        Some("2026-12-01T11:58:00Z")
    );
    assert!(report
        .warnings
        .iter()
        .all(|p| p.check != "credentialStatus.pending"));
}

#[test]
fn revoked_bit_gives_revoked() {
    let issuer = Issuer::new();
    let report = check(
        &issuer.credential(),
        &lists(
            fetched(issuer.list("revocation", &[INDEX])),
            fetched(issuer.list("suspension", &[])),
        ),
    );
    assert!(!report.verified);
    assert_eq!(report.outcome, Outcome::Revoked);
    assert!(report.errors.iter().any(|p| p.is(ErrorKind::Revoked)));
    assert_eq!(report.credential_status[0].state, StatusState::Set);
}

#[test]
fn suspended_bit_gives_suspended() {
    let issuer = Issuer::new();
    let report = check(
        &issuer.credential(),
        &lists(
            fetched(issuer.list("revocation", &[])),
            fetched(issuer.list("suspension", &[INDEX])),
        ),
    );
    assert!(!report.verified);
    assert_eq!(report.outcome, Outcome::Suspended);
    assert!(report.errors.iter().any(|p| p.is(ErrorKind::Suspended)));
}

#[test]
fn revoked_wins_over_suspended_and_unknown() {
    let issuer = Issuer::new();
    let both = check(
        &issuer.credential(),
        &lists(
            fetched(issuer.list("revocation", &[INDEX])),
            fetched(issuer.list("suspension", &[INDEX])),
        ),
    );
    assert_eq!(both.outcome, Outcome::Revoked);
    let suspension_missing = check(
        &issuer.credential(),
        &lists(
            fetched(issuer.list("revocation", &[INDEX])),
            Err("the server answered HTTP 404".to_owned()),
        ),
    );
    assert_eq!(suspension_missing.outcome, Outcome::Revoked);
}

#[test]
fn bad_lists_give_status_unknown() {
    let issuer = Issuer::new();
    let other = Issuer::new();
    let good_suspension = || fetched(issuer.list("suspension", &[]));
    let zeros = Bitstring::from_bytes(vec![0; (MIN_ENTRIES / 8) as usize]).encode();

    let mut badly_signed = issuer.list("revocation", &[INDEX]);
    badly_signed["credentialSubject"]["encodedList"] = json!(zeros);
    let expired = issuer.list_with("revocation", &zeros, |list| {
        list["validFrom"] = json!("2026-11-01T00:00:00Z");
        list["validUntil"] = json!("2026-11-02T00:00:00Z");
    });
    let not_yet_valid = issuer.list_with("revocation", &zeros, |list| {
        list["validFrom"] = json!("2026-12-24T00:00:00Z");
        list["validUntil"] = json!("2026-12-25T00:00:00Z");
    });
    let wrong_type = issuer.list_with("revocation", &zeros, |list| {
        list["type"] = json!(["VerifiableCredential"]);
    });
    let wrong_subject_type = issuer.list_with("revocation", &zeros, |list| {
        list["credentialSubject"]["type"] = json!("StatusList2021");
    });
    let unsigned = {
        let mut list = issuer.list("revocation", &[]);
        list.as_object_mut().expect("object").remove("proof");
        list
    };
    let gzip_of = |bytes: &[u8]| {
        use base64::Engine;
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(bytes).expect("compress");
        let compressed = encoder.finish().expect("gzip");
        (
            compressed.clone(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(compressed),
        )
    };
    let (compressed, _) = gzip_of(&vec![0; (MIN_ENTRIES / 8) as usize]);
    let truncated = {
        use base64::Engine;
        let cut = &compressed[..compressed.len() - 8];
        format!(
            "u{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(cut)
        )
    };
    let not_gzip = {
        use base64::Engine;
        let raw = vec![0u8; (MIN_ENTRIES / 8) as usize];
        format!(
            "u{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
        )
    };
    let oversized = format!("u{}", gzip_of(&vec![0; 3 * 1024 * 1024]).1);
    let short = Bitstring::from_bytes(vec![0; 1024]).encode();
    let beyond = {
        let mut credential_index_list = Bitstring::from_bytes(vec![0; (MIN_ENTRIES / 8) as usize]);
        credential_index_list.set(0, true).expect("bit");
        credential_index_list.encode()
    };

    let cases: Vec<(&str, Result<FetchedList, String>, &str)> = vec![
        (
            "missing (404)",
            Err("the server answered HTTP 404".into()),
            "Status retrieval error",
        ),
        (
            "badly signed",
            fetched(badly_signed),
            "Status verification error",
        ),
        ("unsigned", fetched(unsigned), "Status verification error"),
        ("expired", fetched(expired), "Status verification error"),
        (
            "not yet valid",
            fetched(not_yet_valid),
            "Status verification error",
        ),
        (
            "wrong credential type",
            fetched(wrong_type),
            "Status verification error",
        ),
        (
            "wrong subject type",
            fetched(wrong_subject_type),
            "Status verification error",
        ),
        (
            "wrong purpose",
            fetched(issuer.list("suspension", &[])),
            "Status verification error",
        ),
        (
            "wrong issuer",
            fetched(other.list("revocation", &[])),
            "Status verification error",
        ),
        (
            "not JSON object",
            fetched(json!(["list"])),
            "Status verification error",
        ),
        (
            "not gzip",
            fetched(issuer.list_with("revocation", &not_gzip, |_| {})),
            "Status verification error",
        ),
        (
            "truncated",
            fetched(issuer.list_with("revocation", &truncated, |_| {})),
            "Status verification error",
        ),
        (
            "oversized",
            fetched(issuer.list_with("revocation", &oversized, |_| {})),
            "Status verification error",
        ),
        (
            "shorter than 16 KiB",
            fetched(issuer.list_with("revocation", &short, |_| {})),
            "Status list length error",
        ),
        (
            "no encodedList",
            fetched(issuer.list_with("revocation", &beyond, |list| {
                list["credentialSubject"]
                    .as_object_mut()
                    .expect("subject")
                    .remove("encodedList");
            })),
            "Status verification error",
        ),
    ];
    for (name, revocation, expected) in cases {
        let report = check(&issuer.credential(), &lists(revocation, good_suspension()));
        assert!(!report.verified, "{name}: verified");
        assert_eq!(
            report.outcome,
            Outcome::StatusUnknown,
            "{name}: {:?}",
            report.errors
        );
        assert_eq!(
            error_kinds(&report),
            vec![expected.to_owned()],
            "{name}: {:?}",
            report.errors
        );
        assert_eq!(
            report.credential_status[0].state,
            StatusState::Unknown,
            "{name}"
        );
        assert_eq!(
            report.credential_status[1].state,
            StatusState::Clear,
            "{name}"
        );
    }

    let report = check(&issuer.credential(), &StatusLists::new());
    assert_eq!(report.outcome, Outcome::StatusUnknown, "no list fetched");
    assert_eq!(report.status_checked_at, None);
}

#[test]
fn index_beyond_list_gives_status_unknown() {
    let issuer = Issuer::new();
    let mut credential = issuer.credential();
    let beyond = MIN_ENTRIES.to_string();
    credential["credentialStatus"][0]["statusListIndex"] = json!(beyond);
    credential.as_object_mut().expect("object").remove("proof");
    let credential = issuer.sign(credential);
    let report = check(
        &credential,
        &lists(
            fetched(issuer.list("revocation", &[])),
            fetched(issuer.list("suspension", &[])),
        ),
    );
    assert_eq!(report.outcome, Outcome::StatusUnknown);
    assert!(
        report.errors.iter().any(|p| p.is(ErrorKind::RangeError)),
        "{:?}",
        report.errors
    );
}

#[test]
fn malformed_entry_gives_status_unknown() {
    let issuer = Issuer::new();
    for index in [
        json!("-3"),
        json!("abc"),
        json!(12),
        json!("123456789012345678901234"),
    ] {
        let mut credential = issuer.credential();
        credential.as_object_mut().expect("object").remove("proof");
        credential["credentialStatus"][0]["statusListIndex"] = index.clone();
        let credential = issuer.sign(credential);
        let report = check(&credential, &StatusLists::new());
        assert_eq!(report.outcome, Outcome::StatusUnknown, "{index}");
        assert!(report.status_lists_to_fetch().is_empty(), "{index}");
        assert!(
            report
                .errors
                .iter()
                .any(|p| p.check == "credentialStatus" && p.detail.contains("statusListIndex")),
            "{index}: {:?}",
            report.errors
        );
    }
}

#[test]
fn altered_credential_stays_altered_and_fetches_nothing() {
    let issuer = Issuer::new();
    let mut credential = issuer.credential();
    credential["credentialSubject"]["name"] = json!("Someone else");
    let verifier = Verifier::default();
    let report = verifier.verify_credential(&credential, now());
    assert_eq!(report.outcome, Outcome::Altered);
    assert!(!report.status_pending());
    assert!(report.status_lists_to_fetch().is_empty());

    let mut forged = Issuer::new().credential();
    forged["issuer"] = json!(issuer.did);
    let report = verifier.verify_credential(&forged, now());
    assert!(matches!(report.outcome, Outcome::Forged | Outcome::Altered));
    assert!(report.status_lists_to_fetch().is_empty());
}

#[test]
fn expired_credential_with_clear_status_stays_expired() {
    let issuer = Issuer::new();
    let mut credential = issuer.credential();
    credential.as_object_mut().expect("object").remove("proof");
    credential["validUntil"] = json!("2026-11-25T00:00:00Z");
    let credential = issuer.sign(credential);
    let report = check(
        &credential,
        &lists(
            fetched(issuer.list("revocation", &[])),
            fetched(issuer.list("suspension", &[])),
        ),
    );
    assert_eq!(report.outcome, Outcome::Expired);
    let revoked = check(
        &credential,
        &lists(
            fetched(issuer.list("revocation", &[INDEX])),
            fetched(issuer.list("suspension", &[])),
        ),
    );
    assert_eq!(revoked.outcome, Outcome::Revoked);
}

#[test]
fn report_serializes_reason_and_time() {
    let issuer = Issuer::new();
    let report = check(
        &issuer.credential(),
        &lists(
            fetched(issuer.list("revocation", &[INDEX])),
            fetched(issuer.list("suspension", &[])),
        ),
    );
    let body = serde_json::to_value(&report).expect("json");
    assert_eq!(body["outcome"], "revoked");
    assert_eq!(body["status_checked_at"], "2026-12-01T11:58:00Z");
    assert_eq!(body["credential_status"][0]["state"], "set");
    assert_eq!(
        body["credential_status"][0]["status_list_index"],
        INDEX.to_string()
    );
    assert!(body.get("pending_status").is_none());
}

/// The default policy applies every rule to trusted issuers and reads the
/// lists of other issuers with a warning for each rule they break.
#[test]
fn default_policy_is_strict_for_trusted_issuers_only() {
    let issuer = Issuer::new();
    let other = Issuer::new();
    let short = Bitstring::from_bytes(vec![0; 12_500]).encode();
    let mut short_revoked = Bitstring::from_bytes(vec![0; 12_500]);
    short_revoked.set(INDEX, true).expect("set");
    let cases = [
        (
            "list by another issuer",
            fetched(other.list("revocation", &[INDEX])),
            "Status verification error",
            StatusState::Set,
        ),
        (
            "100,000 entries",
            fetched(issuer.list_with("revocation", &short, |_| {})),
            "Status list length error",
            StatusState::Clear,
        ),
        (
            "100,000 entries, revoked",
            fetched(issuer.list_with("revocation", &short_revoked.encode(), |_| {})),
            "Status list length error",
            StatusState::Set,
        ),
    ];
    let untrusted = Verifier::default();
    let trusted = Verifier {
        trusted: vec![TrustedIssuer {
            id: issuer.did.clone(),
            name: [("en".to_owned(), "Test issuer".to_owned())].into(),
        }],
        ..Verifier::default()
    };
    for (name, revocation, warning, state) in cases {
        let suspension = fetched(issuer.list("suspension", &[]));
        let all = lists(revocation, suspension);

        let report = check_with(&untrusted, &issuer.credential(), &all);
        assert_eq!(report.credential_status[0].state, state, "{name}");
        let warnings: Vec<_> = report
            .warnings
            .iter()
            .filter(|p| p.check == "credentialStatus.revocation")
            .map(|p| p.title.clone())
            .collect();
        assert_eq!(warnings, vec![warning.to_owned()], "{name}");
        let expected = if state == StatusState::Set {
            Outcome::Revoked
        } else {
            Outcome::IssuerNotRecognised
        };
        assert_eq!(report.outcome, expected, "{name}: {:?}", report.errors);

        let report = check_with(&trusted, &issuer.credential(), &all);
        assert_eq!(
            report.credential_status[0].state,
            StatusState::Unknown,
            "{name}"
        );
        assert_eq!(report.outcome, Outcome::StatusUnknown, "{name}");
        assert_eq!(error_kinds(&report), vec![warning.to_owned()], "{name}");
    }
}
