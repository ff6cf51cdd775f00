//! The expansion of `credentials::expand` against the `json-ld` crate.
//!
//! Every document that `credentials::expand` accepts must give the same
//! canonical N-Quads as the `json-ld` crate. Documents it does not accept
//! go to the `json-ld` crate anyway. The documents are every fixture and
//! proof configuration, and variants of them with keys removed, values
//! replaced and keys added.

use credentials::rdf;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn json_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "json") {
            found.push(path);
        }
    }
}

/// Reads every fixture that is a JSON-LD document, with the name of its file.
fn fixtures() -> Vec<(String, Value)> {
    let mut files = Vec::new();
    json_files(&repo().join("fixtures"), &mut files);
    json_files(&repo().join("credentials/tests/fixtures"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|file| {
            let text = std::fs::read_to_string(&file).ok()?;
            let value: Value = serde_json::from_str(&text).ok()?;
            value.get("@context")?;
            Some((file.display().to_string(), value))
        })
        .collect()
}

/// Returns the documents a verification canonicalizes: the credential without its
/// proof, and each proof configuration with the credential's context.
fn signed_parts(document: &Value) -> Vec<Value> {
    let mut parts = vec![document.clone()];
    let Some(map) = document.as_object() else {
        return parts;
    };
    let mut unsecured = map.clone();
    let proofs = unsecured.remove("proof");
    parts.push(Value::Object(unsecured));
    let proofs: Vec<Value> = match proofs {
        Some(Value::Array(items)) => items,
        Some(proof) => vec![proof],
        None => Vec::new(),
    };
    for proof in proofs {
        if let (Value::Object(mut config), Some(context)) = (proof, map.get("@context")) {
            config.remove("proofValue");
            config.insert("@context".to_owned(), context.clone());
            parts.push(Value::Object(config));
        }
    }
    parts
}

fn canonical(expanded: Result<Value, rdf::RdfError>) -> Result<String, String> {
    let expanded = expanded.map_err(|e| e.to_string())?;
    let quads = rdf::to_rdf(&expanded).map_err(|e| e.to_string())?;
    rdf::canonical_nquads(&quads).map_err(|e| e.to_string())
}

/// Compares the two expansions of `document`; returns whether the fast one
/// accepted it.
fn compare(name: &str, document: &Value) -> bool {
    let Ok(fast) = credentials::expand::expand(document) else {
        return false;
    };
    let reference = canonical(rdf::expand_reference(document));
    let ours = canonical(Ok(fast));
    assert!(
        reference.is_ok(),
        "{name}: accepted here, but the json-ld crate fails: {reference:?}\n{document:#}"
    );
    assert_eq!(ours, reference, "{name}\n{document:#}");
    true
}

#[test]
fn fixtures_match_json_ld_crate() {
    let mut accepted = Vec::new();
    let mut total = 0;
    for (name, document) in fixtures() {
        for part in signed_parts(&document) {
            total += 1;
            if compare(&name, &part) {
                accepted.push(name.clone());
            }
        }
    }
    // The common credentials must take the fast path, or it brings nothing.
    for expected in [
        "fixtures/openbadges-v3/signed.json",
        "fixtures/w3c-vc-di-eddsa/TestVectors/unsigned.json",
        "legacyRegistry-noStatus-noExpiry-basicOBv3.json",
        "oidf-noStatus-notExpired-complexIssuer.json",
    ] {
        assert!(
            accepted.iter().any(|name| name.ends_with(expected)),
            "{expected} did not take the fast path"
        );
    }
    assert!(
        accepted.len() * 2 > total,
        "only {} of {total} documents took the fast path",
        accepted.len()
    );
}

/// Values put in place of each value in the variants.
fn replacements() -> Vec<Value> {
    vec![
        Value::Null,
        json!(7),
        json!(2.5),
        json!(true),
        json!("text"),
        json!("did:example:123"),
        json!("relative/path"),
        json!("_:b0"),
        json!("@id"),
        json!("VerifiableCredential"),
        json!([]),
        json!(["did:example:1", 3]),
        json!({}),
        json!({"id": "urn:uuid:1"}),
        json!({"@value": "chaîne", "@language": "fr"}),
        json!({"@value": "2026-12-05T00:00:00Z", "@type": "xsd:dateTime"}),
        json!({"@value": null}),
        json!({"type": "Achievement", "name": "x"}),
        json!({"type": ["Profile", "Unknown"]}),
        json!({"id": "urn:x", "type": "DataIntegrityProof"}),
    ]
}

/// Keys added to each object in the variants.
fn additions() -> Vec<(&'static str, Value)> {
    vec![
        ("undefinedTerm", json!("value")),
        ("@unknown", json!(1)),
        ("schema:name", json!("value")),
        ("https://example.com/vocab#p", json!("value")),
        ("id", json!("urn:uuid:2")),
        ("type", json!("Achievement")),
        ("@type", json!("VerifiableCredential")),
        ("@id", json!("urn:uuid:3")),
        ("@context", json!("https://www.w3.org/ns/credentials/v2")),
        ("@context", json!({"name": "https://example.com/name"})),
        ("@context", json!("https://example.com/remote")),
        ("@value", json!("x")),
        ("@language", json!("ar")),
        ("@graph", json!([])),
        ("name", json!(["a", {"@value": "b", "@language": "ar"}])),
    ]
}

/// Collects every path from the root to an object in `value`.
fn object_paths(value: &Value, path: &mut Vec<PathStep>, found: &mut Vec<Vec<PathStep>>) {
    match value {
        Value::Object(map) => {
            found.push(path.clone());
            for (key, child) in map {
                path.push(PathStep::Key(key.clone()));
                object_paths(child, path, found);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                path.push(PathStep::Index(index));
                object_paths(child, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn object_at<'a>(value: &'a mut Value, path: &[PathStep]) -> &'a mut Map<String, Value> {
    let mut current = value;
    for step in path {
        current = match step {
            PathStep::Key(key) => &mut current[key.as_str()],
            PathStep::Index(index) => &mut current[*index],
        };
    }
    current.as_object_mut().expect("path leads to an object")
}

#[test]
fn variants_match_json_ld_crate() {
    let names = [
        "fixtures/openbadges-v3/signed.json",
        "fixtures/w3c-vc-di-eddsa/TestVectors/unsigned.json",
        "legacyRegistry-noStatus-noExpiry-basicOBv3.json",
        "oidf-noStatus-notExpired-complexIssuer.json",
    ];
    let documents: Vec<(String, Value)> = fixtures()
        .into_iter()
        .filter(|(name, _)| names.iter().any(|wanted| name.ends_with(wanted)))
        .collect();
    assert_eq!(documents.len(), names.len());

    let mut accepted = 0;
    let mut total = 0;
    for (name, document) in &documents {
        let mut paths = Vec::new();
        object_paths(document, &mut Vec::new(), &mut paths);
        for path in &paths {
            let keys: Vec<String> = {
                let mut copy = document.clone();
                object_at(&mut copy, path).keys().cloned().collect()
            };
            let mut variants = Vec::new();
            for key in &keys {
                let mut removed = document.clone();
                object_at(&mut removed, path).remove(key);
                variants.push((format!("{path:?} without {key}"), removed));
                for replacement in replacements() {
                    let mut replaced = document.clone();
                    object_at(&mut replaced, path).insert(key.clone(), replacement.clone());
                    variants.push((format!("{path:?} {key} = {replacement}"), replaced));
                }
            }
            for (key, value) in additions() {
                let mut added = document.clone();
                object_at(&mut added, path).insert(key.to_owned(), value.clone());
                variants.push((format!("{path:?} with {key} = {value}"), added));
            }
            for (what, variant) in variants {
                total += 1;
                if compare(&format!("{name}: {what}"), &variant) {
                    accepted += 1;
                }
            }
        }
    }
    assert!(total > 1_000, "only {total} variants");
    assert!(
        accepted * 3 > total,
        "only {accepted} of {total} variants took the fast path"
    );
}
