//! Hostile credentials signed with the trusted academy key, or with their
//! proofs damaged, against `Verifier::verify_credential`. Every case must
//! get a verdict other than genuine, with the failing check named.

use chrono::{DateTime, Utc};
use credentials::verify::Outcome;
use credentials::{did, keys, proof, Resolver, TrustedIssuer, Verifier};
use ed25519_dalek::SigningKey;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

struct Academy {
    key: SigningKey,
    issuer: String,
    verifier: Verifier,
}

fn academy() -> Academy {
    let key = keys::generate();
    let issuer = did::did_web("academy.example");
    let document = did::did_document(
        &issuer,
        &[did::PublishedKey {
            fragment: "key-1",
            key: key.verifying_key(),
        }],
    );
    let mut resolver = Resolver::new();
    resolver.insert(document).expect("DID document");
    let trusted = TrustedIssuer {
        id: issuer.clone(),
        name: BTreeMap::from([("en".to_owned(), "TaaWounYa Academy".to_owned())]),
    };
    let verifier = Verifier::new(resolver, vec![trusted]);
    Academy {
        key,
        issuer,
        verifier,
    }
}

fn now() -> DateTime<Utc> {
    credentials::datetime::parse("2026-12-01T12:00:00Z").expect("instant")
}

fn unsigned(issuer: &str) -> Map<String, Value> {
    let value = json!({
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
        ],
        "id": "urn:uuid:4b5a7f3e-0c1d-4f5e-9a8b-7c6d5e4f3a2b",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "TaaWounYa Academy"},
        "validFrom": "2026-01-01T00:00:00Z",
        "name": "Food hygiene",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://academy.example/achievements/food-hygiene",
                "type": ["Achievement"],
                "name": "Food hygiene",
                "description": "Safe handling of food in a cooperative",
                "criteria": {"narrative": "Complete every lesson and the final quiz."}
            }
        }
    });
    value.as_object().cloned().expect("object")
}

fn options(issuer: &str, purpose: &str) -> Map<String, Value> {
    let value = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-01-01T00:00:00Z",
        "verificationMethod": format!("{issuer}#key-1"),
        "proofPurpose": purpose,
    });
    value.as_object().cloned().expect("object")
}

fn sign(academy: &Academy, document: &Map<String, Value>, purpose: &str) -> Map<String, Value> {
    proof::sign(document, &options(&academy.issuer, purpose), &academy.key).expect("sign")
}

/// Way a case builds its credential from the academy's unsigned one.
enum Build {
    /// Changes the unsigned credential, then signs it.
    SignedAfter(fn(&mut Map<String, Value>)),
    /// Signs the credential, then changes the signed copy.
    ChangedAfter(fn(&mut Map<String, Value>)),
    /// Signs with this proof purpose.
    Purpose(&'static str),
}

struct Case {
    name: &'static str,
    build: Build,
    /// Outcomes accepted for the case.
    outcomes: &'static [Outcome],
    /// Check that must be among the failures.
    failing_check: &'static str,
}

fn cases() -> Vec<Case> {
    use Build::*;
    vec![
        Case {
            name: "proof removed",
            build: ChangedAfter(|c| {
                c.remove("proof");
            }),
            outcomes: &[Outcome::Malformed, Outcome::Altered],
            failing_check: "proof",
        },
        Case {
            name: "proof null",
            build: ChangedAfter(|c| {
                c.insert("proof".into(), Value::Null);
            }),
            outcomes: &[Outcome::Malformed, Outcome::Altered],
            failing_check: "proof",
        },
        Case {
            name: "proof a string",
            build: ChangedAfter(|c| {
                c.insert("proof".into(), json!("z3FXQ"));
            }),
            outcomes: &[Outcome::Malformed, Outcome::Altered],
            failing_check: "proof",
        },
        Case {
            name: "proof a number",
            build: ChangedAfter(|c| {
                c.insert("proof".into(), json!(7));
            }),
            outcomes: &[Outcome::Malformed, Outcome::Altered],
            failing_check: "proof",
        },
        Case {
            name: "proof value not multibase",
            build: ChangedAfter(|c| {
                c["proof"]["proofValue"] = json!("u0OIl");
            }),
            outcomes: &[Outcome::Malformed, Outcome::Altered, Outcome::Forged],
            failing_check: "proof",
        },
        Case {
            name: "signature of 32 bytes",
            build: ChangedAfter(|c| {
                c["proof"]["proofValue"] =
                    json!(multibase::encode(multibase::Base::Base58Btc, [7u8; 32]));
            }),
            outcomes: &[Outcome::Malformed, Outcome::Altered, Outcome::Forged],
            failing_check: "proof",
        },
        Case {
            name: "second proof damaged",
            build: ChangedAfter(|c| {
                let good = c["proof"].clone();
                let mut bad = good.clone();
                bad["proofValue"] = json!(keys::encode_signature(
                    &ed25519_dalek::Signature::from_bytes(&[0u8; 64])
                ));
                c.insert("proof".into(), json!([good, bad]));
            }),
            outcomes: &[Outcome::Malformed, Outcome::Altered],
            failing_check: "proof",
        },
        Case {
            name: "proof purpose authentication",
            build: Purpose("authentication"),
            outcomes: &[Outcome::Malformed, Outcome::Altered, Outcome::Forged],
            failing_check: "proof.issuer",
        },
        Case {
            name: "proof purpose capability invocation",
            build: Purpose("capabilityInvocation"),
            outcomes: &[Outcome::Malformed, Outcome::Altered, Outcome::Forged],
            failing_check: "proof.issuer",
        },
        Case {
            name: "validUntil before validFrom",
            build: SignedAfter(|c| {
                c.insert("validUntil".into(), json!("2025-12-31T00:00:00Z"));
            }),
            outcomes: &[Outcome::Malformed, Outcome::Expired],
            failing_check: "validUntil",
        },
        Case {
            name: "validFrom a number",
            build: SignedAfter(|c| {
                c.insert("validFrom".into(), json!(1_700_000_000));
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "validFrom",
        },
        Case {
            name: "validFrom null",
            build: SignedAfter(|c| {
                c.insert("validFrom".into(), Value::Null);
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "validFrom",
        },
        Case {
            name: "validUntil an object",
            build: SignedAfter(|c| {
                c.insert(
                    "validUntil".into(),
                    json!({"@value": "2030-01-01T00:00:00Z"}),
                );
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "validUntil",
        },
        Case {
            name: "relative credential id",
            build: SignedAfter(|c| {
                c.insert("id".into(), json!("credentials/42"));
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "id",
        },
        Case {
            name: "context over http",
            build: ChangedAfter(|c| {
                c["@context"][0] = json!("http://www.w3.org/ns/credentials/v2");
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "@context",
        },
        Case {
            name: "context with trailing slash",
            build: ChangedAfter(|c| {
                c["@context"][0] = json!("https://www.w3.org/ns/credentials/v2/");
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "@context",
        },
        Case {
            name: "context with query",
            build: ChangedAfter(|c| {
                c["@context"][1] =
                    json!("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json?v=1");
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "@context",
        },
        Case {
            name: "context host in capitals",
            build: ChangedAfter(|c| {
                c["@context"][0] = json!("https://WWW.W3.ORG/ns/credentials/v2");
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "@context",
        },
        Case {
            name: "undefined top-level term",
            build: SignedAfter(|c| {
                c.insert("loanApproved".into(), json!(true));
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "undefined term in the subject",
            build: SignedAfter(|c| {
                c["credentialSubject"]["grade"] = json!("excellent");
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "inline context, then an undefined term added to a signed credential",
            build: ChangedAfter(|c| {
                add_inline_context(c, json!({"ex": "https://example.org/ns#"}));
                c.insert("loanApproved".into(), json!(true));
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "inline context and an undefined term in the subject, signed",
            build: SignedAfter(|c| {
                add_inline_context(c, json!({"ex": "https://example.org/ns#"}));
                c["credentialSubject"]["grade"] = json!("excellent");
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "inline context maps a term to null",
            build: ChangedAfter(|c| {
                add_inline_context(c, json!({"loanApproved": null}));
                c.insert("loanApproved".into(), json!(true));
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "inline context maps a term to an @id of null",
            build: ChangedAfter(|c| {
                add_inline_context(c, json!({"grade": {"@id": null}}));
                c["credentialSubject"]["grade"] = json!("excellent");
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "embedded context maps a term to null",
            build: ChangedAfter(|c| {
                c["credentialSubject"]["@context"] = json!({"grade": null});
                c["credentialSubject"]["grade"] = json!("excellent");
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "inline context resets @vocab for a scoped term",
            build: ChangedAfter(|c| {
                add_inline_context(
                    c,
                    json!({"ex": {"@id": "https://example.org/ns#ex", "@context": {"@vocab": null}}}),
                );
                c["credentialSubject"]["ex"] = json!({"grade": "excellent"});
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "key of the form of a keyword",
            build: ChangedAfter(|c| {
                c.insert("@loanApproved".into(), json!(true));
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "validUntil moved under @nest",
            build: SignedAfter(|c| {
                c.insert("@nest".into(), json!({"validUntil": PAST}));
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "achievement moved under @nest",
            build: SignedAfter(|c| {
                let achievement = c["credentialSubject"]["achievement"].take();
                c["credentialSubject"]["@nest"] = json!({"achievement": achievement});
                if let Some(subject) = c["credentialSubject"].as_object_mut() {
                    subject.remove("achievement");
                }
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "credentialStatus under its IRI",
            build: SignedAfter(|c| {
                c.insert(
                    "https://www.w3.org/2018/credentials#credentialStatus".into(),
                    status_entry(),
                );
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "validUntil under a compact IRI",
            build: SignedAfter(|c| {
                add_inline_context(c, json!({"cred": "https://www.w3.org/2018/credentials#"}));
                c.insert("cred:validUntil".into(), json!(PAST));
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "inline term aliases validUntil",
            build: SignedAfter(|c| {
                add_inline_context(
                    c,
                    json!({"until": {
                        "@id": "https://www.w3.org/2018/credentials#validUntil",
                        "@type": "http://www.w3.org/2001/XMLSchema#dateTime"
                    }}),
                );
                c.insert("until".into(), json!(PAST));
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "inline term aliases credentialStatus through a prefix",
            build: SignedAfter(|c| {
                add_inline_context(
                    c,
                    json!({"c": "https://www.w3.org/2018/credentials#", "st": "c:credentialStatus"}),
                );
                c.insert("st".into(), status_entry());
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "inline term aliases @nest",
            build: SignedAfter(|c| {
                add_inline_context(c, json!({"wrap": "@nest"}));
                c.insert("wrap".into(), json!({"validUntil": PAST}));
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "scoped inline context aliases validUntil",
            build: SignedAfter(|c| {
                add_inline_context(
                    c,
                    json!({"ex": {
                        "@id": "https://example.org/ns#ex",
                        "@context": {"until": "https://www.w3.org/2018/credentials#validUntil"}
                    }}),
                );
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "inline reverse term of credentialSubject",
            build: SignedAfter(|c| {
                add_inline_context(
                    c,
                    json!({"holds": {"@reverse": "https://www.w3.org/2018/credentials#credentialSubject"}}),
                );
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "@reverse key",
            build: SignedAfter(|c| {
                c["credentialSubject"]["@reverse"] = json!({"https://www.w3.org/2018/credentials#credentialSubject": {"id": "urn:uuid:0"}});
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
        Case {
            name: "@included node",
            build: SignedAfter(|c| {
                c.insert(
                    "@included".into(),
                    json!([{"id": "urn:uuid:1", "name": "Extra"}]),
                );
            }),
            outcomes: &[Outcome::Malformed],
            failing_check: "terms",
        },
    ]
}

/// A `validUntil` before [`now`].
const PAST: &str = "2026-06-01T00:00:00Z";

/// Builds a revocation entry in a status list of the academy.
fn status_entry() -> Value {
    json!({
        "id": "https://academy.example/status/1#5",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": "https://academy.example/status/1"
    })
}

/// Appends an inline context object to the credential's `@context`.
fn add_inline_context(credential: &mut Map<String, Value>, context: Value) {
    if let Some(Value::Array(contexts)) = credential.get_mut("@context") {
        contexts.push(context);
    }
}

#[test]
fn hostile_credentials_are_not_genuine() {
    let academy = academy();
    let base = unsigned(&academy.issuer);
    let genuine = sign(&academy, &base, "assertionMethod");
    let report = academy
        .verifier
        .verify_credential(&Value::Object(genuine.clone()), now());
    assert_eq!(report.outcome, Outcome::Genuine);

    let mut failures = Vec::new();
    for case in cases() {
        let credential = match case.build {
            Build::SignedAfter(change) => {
                let mut document = base.clone();
                change(&mut document);
                sign(&academy, &document, "assertionMethod")
            }
            Build::ChangedAfter(change) => {
                let mut document = genuine.clone();
                change(&mut document);
                document
            }
            Build::Purpose(purpose) => sign(&academy, &base, purpose),
        };
        let report = academy
            .verifier
            .verify_credential(&Value::Object(credential), now());
        let failed_checks: Vec<&str> = report
            .errors
            .iter()
            .map(|problem| problem.check.as_str())
            .collect();
        if report.verified
            || !case.outcomes.contains(&report.outcome)
            || !failed_checks.contains(&case.failing_check)
        {
            failures.push(format!(
                "{}: outcome {:?}, verified {}, failed checks {:?}",
                case.name, report.outcome, report.verified, failed_checks
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn inline_context_with_new_terms_verifies() {
    let academy = academy();
    let mut document = unsigned(&academy.issuer);
    add_inline_context(
        &mut document,
        json!({"cooperativeRegion": "https://academy.example/ns#cooperativeRegion"}),
    );
    document.insert("cooperativeRegion".into(), json!("Souss-Massa"));
    let credential = sign(&academy, &document, "assertionMethod");
    let report = academy
        .verifier
        .verify_credential(&Value::Object(credential), now());
    assert_eq!(report.outcome, Outcome::Genuine, "{:?}", report.errors);
    assert!(report.checks.contains(&"terms".to_owned()));
}
