//! Documents from outside that once made verification panic. Each must
//! give a report, or an error, instead.

use chrono::Utc;
use credentials::{json, rdf, Resolver, Verifier};
use serde_json::json;
use std::path::Path;

#[test]
fn credentials_verify_without_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/credentials");
    // A W3C test vector whose proof id reads `urn:uuid:…%da07…`: bytes
    // that are not UTF-8 once percent-decoded made JSON-LD expansion panic.
    let cases = ["percent-encoded-iri.json"];
    let verifier = Verifier::new(Resolver::new(), Vec::new());
    for name in cases {
        let bytes = std::fs::read(dir.join(name)).expect("fixture");
        let credential = json::parse_strict(&bytes).expect("JSON");
        let report = verifier.verify_credential(&credential, Utc::now());
        assert!(!report.verified, "{name}");
        assert!(!report.errors.is_empty(), "{name}");
    }
}

#[test]
fn expansion_rejects_non_utf8_iri() {
    let document = json!({
        "@context": {"@vocab": "https://example.org/"},
        "@id": "urn:uuid:1%da07",
        "name": "x",
    });
    assert!(rdf::expand(&document).is_err());
}
