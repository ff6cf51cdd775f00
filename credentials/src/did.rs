//! Verification method resolution without the network.
//!
//! Keys come from `did:key` identifiers, decoded locally, and from
//! controller documents (DID documents or plain controller documents)
//! that the caller supplies: the verifier's pinned trusted issuers, or a
//! test fixture. Nothing is fetched.

use crate::keys::{self, KeyError};
use ed25519_dalek::VerifyingKey;
use serde_json::{json, Value};
use std::collections::HashMap;

/// A resolved Ed25519 verification method.
#[derive(Clone, Debug)]
pub struct VerificationMethod {
    pub id: String,
    pub controller: String,
    pub key: VerifyingKey,
    /// Whether the controller lists this method under `assertionMethod`.
    pub assertion_method: bool,
    /// Whether the controller lists this method under `authentication`.
    pub authentication: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("verification method {0:?} is not a DID URL or URL with a fragment naming a key")]
    InvalidId(String),
    #[error("no controller document is known for {0:?}")]
    UnknownController(String),
    #[error("controller document does not contain verification method {0:?}")]
    MethodNotFound(String),
    #[error("verification method {0:?} is not an Ed25519 key this verifier supports")]
    UnsupportedKey(String),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The controller documents a verifier trusts, by id.
#[derive(Clone, Debug, Default)]
pub struct Resolver {
    documents: HashMap<String, Value>,
}

impl Resolver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a controller document, keyed by its `id`.
    pub fn insert(&mut self, document: Value) -> Result<(), ResolveError> {
        let id = document
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| ResolveError::InvalidId("<missing id>".to_owned()))?
            .to_owned();
        self.documents.insert(id, document);
        Ok(())
    }

    pub fn document(&self, id: &str) -> Option<&Value> {
        self.documents.get(id)
    }

    /// Resolves a verification method id to its key and relationships.
    pub fn resolve(&self, method_id: &str) -> Result<VerificationMethod, ResolveError> {
        if let Some(rest) = method_id.strip_prefix("did:key:") {
            return resolve_did_key(method_id, rest);
        }
        let (controller_id, _) = method_id
            .split_once('#')
            .ok_or_else(|| ResolveError::InvalidId(method_id.to_owned()))?;
        let document = self
            .documents
            .get(controller_id)
            .ok_or_else(|| ResolveError::UnknownController(controller_id.to_owned()))?;

        let matches = |entry: &Value| -> bool {
            match entry {
                Value::String(reference) => absolute(controller_id, reference) == method_id,
                Value::Object(map) => map
                    .get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| absolute(controller_id, id) == method_id),
                _ => false,
            }
        };
        let listed = |relationship: &str| -> bool {
            document
                .get(relationship)
                .and_then(Value::as_array)
                .is_some_and(|entries| entries.iter().any(matches))
        };
        let embedded = ["verificationMethod", "assertionMethod", "authentication"]
            .iter()
            .filter_map(|key| document.get(*key).and_then(Value::as_array))
            .flatten()
            .find(|entry| entry.is_object() && matches(entry))
            .ok_or_else(|| ResolveError::MethodNotFound(method_id.to_owned()))?;

        let key = method_key(method_id, embedded)?;
        let controller = embedded
            .get("controller")
            .and_then(Value::as_str)
            .unwrap_or(controller_id)
            .to_owned();
        Ok(VerificationMethod {
            id: method_id.to_owned(),
            controller,
            key,
            assertion_method: listed("assertionMethod"),
            authentication: listed("authentication"),
        })
    }
}

fn absolute(controller_id: &str, reference: &str) -> String {
    if reference.starts_with('#') {
        format!("{controller_id}{reference}")
    } else {
        reference.to_owned()
    }
}

fn method_key(method_id: &str, method: &Value) -> Result<VerifyingKey, ResolveError> {
    let kind = method
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match kind {
        "Multikey" | "Ed25519VerificationKey2020" => {
            let multibase = method
                .get("publicKeyMultibase")
                .and_then(Value::as_str)
                .ok_or_else(|| ResolveError::UnsupportedKey(method_id.to_owned()))?;
            Ok(keys::decode_public_multibase(multibase)?)
        }
        _ => Err(ResolveError::UnsupportedKey(method_id.to_owned())),
    }
}

/// `did:key` for Ed25519 keys: the method id must be the DID followed by a
/// fragment equal to the key's multibase value.
fn resolve_did_key(method_id: &str, rest: &str) -> Result<VerificationMethod, ResolveError> {
    let (multibase, fragment) = rest
        .split_once('#')
        .ok_or_else(|| ResolveError::InvalidId(method_id.to_owned()))?;
    if multibase != fragment {
        return Err(ResolveError::MethodNotFound(method_id.to_owned()));
    }
    let key = keys::decode_public_multibase(multibase)?;
    Ok(VerificationMethod {
        id: method_id.to_owned(),
        controller: format!("did:key:{multibase}"),
        key,
        assertion_method: true,
        authentication: true,
    })
}

/// One key listed in a DID document.
pub struct PublishedKey<'a> {
    pub fragment: &'a str,
    pub key: VerifyingKey,
}

/// Builds a `did:web` DID document listing `keys` as Multikey verification
/// methods usable for assertions.
pub fn did_document(did: &str, published: &[PublishedKey<'_>]) -> Value {
    let methods: Vec<Value> = published
        .iter()
        .map(|entry| {
            json!({
                "id": format!("{did}#{}", entry.fragment),
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": keys::public_multibase(&entry.key),
            })
        })
        .collect();
    let references: Vec<Value> = published
        .iter()
        .map(|entry| Value::String(format!("{did}#{}", entry.fragment)))
        .collect();
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": references,
        "authentication": references,
    })
}

/// Builds the `did:web` identifier for a host and optional port.
///
/// The port's colon is percent-encoded as the did:web method requires.
pub fn did_web(host: &str) -> String {
    format!("did:web:{}", host.replace(':', "%3A"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_key_resolves_locally() {
        let method = Resolver::new()
            .resolve("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")
            .expect("resolves");
        assert_eq!(
            method.controller,
            "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
        );
        assert!(method.assertion_method);
    }

    #[test]
    fn did_key_fragment_must_match() {
        let result = Resolver::new()
            .resolve("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#other");
        assert!(matches!(result, Err(ResolveError::MethodNotFound(_))));
    }

    #[test]
    fn document_methods_resolve_with_relationships() {
        let key = crate::keys::generate().verifying_key();
        let did = did_web("academy.example:8080");
        assert_eq!(did, "did:web:academy.example%3A8080");
        let mut resolver = Resolver::new();
        resolver
            .insert(did_document(
                &did,
                &[PublishedKey {
                    fragment: "key-1",
                    key,
                }],
            ))
            .expect("insert");
        let method = resolver.resolve(&format!("{did}#key-1")).expect("resolves");
        assert_eq!(method.key, key);
        assert!(method.assertion_method);
        assert!(matches!(
            resolver.resolve(&format!("{did}#key-2")),
            Err(ResolveError::MethodNotFound(_))
        ));
        assert!(matches!(
            resolver.resolve("did:web:elsewhere.example#key-1"),
            Err(ResolveError::UnknownController(_))
        ));
    }
}
