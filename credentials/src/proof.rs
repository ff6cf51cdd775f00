//! Data Integrity proofs with Ed25519 over RDF Dataset Canonicalization.
//!
//! Two proof types share one algorithm (W3C Data Integrity EdDSA
//! Cryptosuites v1.0, §3.3 `eddsa-rdfc-2022`): the proof configuration and
//! the document are each canonicalized and hashed with SHA-256, and the
//! Ed25519 signature covers `hash(proofConfig) || hash(document)`.
//! `DataIntegrityProof` with `cryptosuite: "eddsa-rdfc-2022"` is what this
//! project issues; `Ed25519Signature2020`, the older suite many education
//! issuers still use, is verified the same way.

use crate::did::{ResolveError, Resolver, VerificationMethod};
use crate::{datetime, keys, rdf};
use ed25519_dalek::{Signer, SigningKey, Verifier};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("the document has no proof")]
    Missing,
    #[error("the proof is not a JSON object")]
    NotAnObject,
    #[error("the proof has no {0:?}")]
    MissingField(&'static str),
    #[error("the proof type {0:?} is not supported; expected DataIntegrityProof with eddsa-rdfc-2022 or Ed25519Signature2020")]
    UnsupportedType(String),
    #[error("the proof's created date is invalid: {0}")]
    InvalidCreated(String),
    #[error("the proof's @context is not a prefix of the document's @context")]
    ContextMismatch,
    #[error("the document is not a JSON object")]
    NotADocument,
    #[error("the proof value is malformed: {0}")]
    MalformedValue(String),
    #[error("canonicalization failed: {0}")]
    Canonicalization(#[from] rdf::RdfError),
    #[error("verification method could not be resolved: {0}")]
    Resolve(#[from] ResolveError),
    #[error("the signature does not match the document")]
    BadSignature,
}

/// The two suites this module implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    EddsaRdfc2022,
    Ed25519Signature2020,
}

impl Suite {
    fn of(proof: &Map<String, Value>) -> Result<Self, ProofError> {
        let kind = proof
            .get("type")
            .and_then(Value::as_str)
            .ok_or(ProofError::MissingField("type"))?;
        match (kind, proof.get("cryptosuite").and_then(Value::as_str)) {
            ("DataIntegrityProof", Some("eddsa-rdfc-2022")) => Ok(Self::EddsaRdfc2022),
            ("Ed25519Signature2020", None) => Ok(Self::Ed25519Signature2020),
            (kind, suite) => Err(ProofError::UnsupportedType(match suite {
                Some(suite) => format!("{kind}/{suite}"),
                None => kind.to_owned(),
            })),
        }
    }
}

/// Canonical forms and hashes of one proof computation, kept for tests
/// that compare them with published vectors.
pub struct HashData {
    pub canonical_document: String,
    pub canonical_proof_config: String,
    pub document_hash: [u8; 32],
    pub proof_config_hash: [u8; 32],
}

impl HashData {
    /// `SHA-256(proof config) || SHA-256(document)`, the signed bytes.
    pub fn combined(&self) -> [u8; 64] {
        let mut combined = [0u8; 64];
        combined[..32].copy_from_slice(&self.proof_config_hash);
        combined[32..].copy_from_slice(&self.document_hash);
        combined
    }
}

/// Canonicalizes and hashes an unsecured document and a proof
/// configuration (the proof without `proofValue`).
pub fn hash_data(
    unsecured: &Map<String, Value>,
    proof_options: &Map<String, Value>,
) -> Result<HashData, ProofError> {
    let mut proof_config = proof_options.clone();
    proof_config.remove("proofValue");
    if let Some(context) = unsecured.get("@context") {
        proof_config.insert("@context".to_owned(), context.clone());
    }
    let canonical_document = rdf::canonicalize(&Value::Object(unsecured.clone()))?;
    let canonical_proof_config = rdf::canonicalize(&Value::Object(proof_config))?;
    Ok(HashData {
        document_hash: Sha256::digest(canonical_document.as_bytes()).into(),
        proof_config_hash: Sha256::digest(canonical_proof_config.as_bytes()).into(),
        canonical_document,
        canonical_proof_config,
    })
}

/// Adds an `eddsa-rdfc-2022` proof to `unsecured`, signed with `key`.
///
/// `options` contains the proof's `type`, `cryptosuite`, `created`,
/// `verificationMethod` and `proofPurpose` (and optionally `challenge` or
/// `domain`); it must not contain `@context`, so the output proof has none.
pub fn sign(
    unsecured: &Map<String, Value>,
    options: &Map<String, Value>,
    key: &SigningKey,
) -> Result<Map<String, Value>, ProofError> {
    let mut unsecured = unsecured.clone();
    unsecured.remove("proof");
    Suite::of(options)?;
    let hashes = hash_data(&unsecured, options)?;
    let signature = key.sign(&hashes.combined());

    let mut proof = options.clone();
    proof.insert(
        "proofValue".to_owned(),
        Value::String(keys::encode_signature(&signature)),
    );
    let mut secured = unsecured;
    secured.insert("proof".to_owned(), Value::Object(proof));
    Ok(secured)
}

/// The result of checking one proof.
#[derive(Debug)]
pub struct CheckedProof {
    pub suite: Suite,
    pub method: VerificationMethod,
    pub purpose: String,
    pub challenge: Option<String>,
    pub domain: Option<String>,
}

/// Returns the proofs of a secured document, one or several (a proof set).
pub fn proofs(document: &Map<String, Value>) -> Result<Vec<&Map<String, Value>>, ProofError> {
    match document.get("proof") {
        None | Some(Value::Null) => Err(ProofError::Missing),
        Some(Value::Object(proof)) => Ok(vec![proof]),
        Some(Value::Array(items)) if items.is_empty() => Err(ProofError::Missing),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_object().ok_or(ProofError::NotAnObject))
            .collect(),
        Some(_) => Err(ProofError::NotAnObject),
    }
}

/// Verifies one proof of `document` cryptographically.
///
/// This checks the signature and that the key resolves. Whether the key
/// belongs to the issuer and whether the purpose fits are left to the
/// caller, which has the issuer's id.
pub fn verify_proof(
    document: &Map<String, Value>,
    proof: &Map<String, Value>,
    resolver: &Resolver,
) -> Result<CheckedProof, ProofError> {
    let suite = Suite::of(proof)?;
    let field = |name: &'static str| -> Result<&str, ProofError> {
        match proof.get(name) {
            None | Some(Value::Null) => Err(ProofError::MissingField(name)),
            Some(Value::String(value)) => Ok(value),
            Some(_) => Err(ProofError::MalformedValue(format!(
                "{name} must be a string"
            ))),
        }
    };
    let proof_value = field("proofValue")?;
    let method_id = field("verificationMethod")?;
    let purpose = field("proofPurpose")?.to_owned();
    if let Some(created) = proof.get("created") {
        let created = created
            .as_str()
            .ok_or(ProofError::InvalidCreated(created.to_string()))?;
        datetime::parse(created).map_err(|e| ProofError::InvalidCreated(e.to_string()))?;
    }
    let signature = keys::decode_signature(proof_value)
        .map_err(|e| ProofError::MalformedValue(e.to_string()))?;

    let mut unsecured = document.clone();
    unsecured.remove("proof");
    let mut options = proof.clone();
    options.remove("proofValue");
    if let Some(proof_context) = options.remove("@context") {
        // eddsa-rdfc-2022 §3.3.2: the document's context must start with
        // the proof's, which then replaces it.
        if !context_starts_with(unsecured.get("@context"), &proof_context) {
            return Err(ProofError::ContextMismatch);
        }
        unsecured.insert("@context".to_owned(), proof_context);
    }

    let method = resolver.resolve(method_id)?;
    let hashes = hash_data(&unsecured, &options)?;
    method
        .key
        .verify(&hashes.combined(), &signature)
        .map_err(|_| ProofError::BadSignature)?;

    Ok(CheckedProof {
        suite,
        method,
        purpose,
        challenge: proof
            .get("challenge")
            .and_then(Value::as_str)
            .map(str::to_owned),
        domain: proof
            .get("domain")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn context_starts_with(document: Option<&Value>, prefix: &Value) -> bool {
    let as_list = |value: &Value| -> Vec<Value> {
        match value {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        }
    };
    let Some(document) = document else {
        return false;
    };
    let document = as_list(document);
    let prefix = as_list(prefix);
    document.len() >= prefix.len() && document[..prefix.len()] == prefix[..]
}
