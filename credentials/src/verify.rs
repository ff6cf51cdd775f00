//! Credential and presentation verification with a report of every check.
//!
//! Problems use the error types of the VC Data Model 2.0 (§7.1,
//! "Verification"): parsing, cryptographic security, malformed value and
//! range errors, each an RFC 9457 problem details object.

use crate::contexts;
use crate::datetime;
use crate::did::Resolver;
use crate::proof::{self, CheckedProof, ProofError};
use crate::text::LocalizedText;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The VC Data Model 2.0 error types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorKind {
    ParsingError,
    CryptographicSecurityError,
    MalformedValueError,
    RangeError,
}

impl ErrorKind {
    pub fn type_url(self) -> &'static str {
        match self {
            Self::ParsingError => "https://www.w3.org/TR/vc-data-model#PARSING_ERROR",
            Self::CryptographicSecurityError => {
                "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR"
            }
            Self::MalformedValueError => {
                "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"
            }
            Self::RangeError => "https://www.w3.org/TR/vc-data-model#RANGE_ERROR",
        }
    }

    pub fn code(self) -> i32 {
        match self {
            Self::ParsingError => -64,
            Self::CryptographicSecurityError => -65,
            Self::MalformedValueError => -66,
            Self::RangeError => -67,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::ParsingError => "Parsing error",
            Self::CryptographicSecurityError => "Cryptographic security error",
            Self::MalformedValueError => "Malformed value error",
            Self::RangeError => "Range error",
        }
    }
}

/// An RFC 9457 problem details object for one failed check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub code: i32,
    pub title: String,
    pub detail: String,
    /// The check that failed, as listed in `checks`.
    pub check: String,
}

impl Problem {
    pub fn new(kind: ErrorKind, check: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: kind.type_url().to_owned(),
            code: kind.code(),
            title: kind.title().to_owned(),
            detail: detail.into(),
            check: check.to_owned(),
        }
    }

    pub fn is(&self, kind: ErrorKind) -> bool {
        self.kind == kind.type_url()
    }
}

/// The verdict shown to a person, as a stable reason code. When several
/// apply, the one declared first wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not a credential this verifier can read.
    Malformed,
    /// The signature does not match the content: it was changed after signing.
    Altered,
    /// Signed by a key that does not belong to the stated issuer.
    Forged,
    Expired,
    NotYetValid,
    /// Genuine signature, but the issuer is not on the trusted list.
    IssuerNotRecognised,
    Genuine,
}

/// A trusted issuer from the verifier's configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrustedIssuer {
    pub id: String,
    /// Names by language tag (`ar`, `fr`, `zgh`, `en`).
    pub name: BTreeMap<String, String>,
}

/// The facts a person needs to read from a verified credential.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Summary {
    pub id: Option<String>,
    pub issuer_id: Option<String>,
    /// From the verifier's trusted list, never from the credential.
    pub issuer_name: Option<BTreeMap<String, String>>,
    pub subject_name: LocalizedText,
    pub achievement_name: LocalizedText,
    pub achievement_description: LocalizedText,
    pub criteria: LocalizedText,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
}

/// The verification result, shaped like the W3C VC API response.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub verified: bool,
    pub outcome: Outcome,
    /// Checks that ran and passed.
    pub checks: Vec<String>,
    pub warnings: Vec<Problem>,
    pub errors: Vec<Problem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<Summary>,
}

/// Verifies credentials against pinned keys and a list of trusted issuers.
#[derive(Clone, Debug, Default)]
pub struct Verifier {
    pub resolver: Resolver,
    pub trusted: Vec<TrustedIssuer>,
}

impl Verifier {
    pub fn new(resolver: Resolver, trusted: Vec<TrustedIssuer>) -> Self {
        Self { resolver, trusted }
    }

    fn trusted_issuer(&self, id: &str) -> Option<&TrustedIssuer> {
        self.trusted.iter().find(|issuer| issuer.id == id)
    }

    /// Verifies a credential at the instant `now`.
    pub fn verify_credential(&self, credential: &Value, now: DateTime<Utc>) -> Report {
        let mut run = Run::default();
        let Some(document) = credential.as_object() else {
            run.fail(
                ErrorKind::ParsingError,
                "structure",
                "the credential is not a JSON object",
            );
            return run.finish(Outcome::Malformed, None);
        };

        self.check_contexts(document, &mut run);
        let issuer = self.check_structure(document, &mut run);
        if !run.errors.is_empty() {
            return run.finish(Outcome::Malformed, None);
        }
        let issuer = issuer.unwrap_or_default();

        let mut outcome = self.check_proofs(document, &issuer, &mut run);
        let dates = check_dates(document, now, &mut run);
        if outcome == Outcome::Genuine {
            outcome = dates;
        }

        if document.contains_key("credentialStatus") {
            // TODO: read Bitstring Status List entries; until then a credential with a status entry is reported without its status.
            run.warn(
                ErrorKind::MalformedValueError,
                "credentialStatus",
                "the credential's status was not checked",
            );
        }

        let trusted = self.trusted_issuer(&issuer);
        if trusted.is_some() {
            run.pass("issuer");
        } else {
            run.warn(
                ErrorKind::MalformedValueError,
                "issuer",
                format!("issuer {issuer} is not on this verifier's list of trusted issuers"),
            );
            if outcome == Outcome::Genuine {
                outcome = Outcome::IssuerNotRecognised;
            }
        }
        let mut summary = summarize(document);
        // The name is shown only when a key of that issuer signed it.
        if run.checks.iter().any(|check| check == "proof.issuer") {
            summary.issuer_name = trusted.map(|issuer| issuer.name.clone());
        }
        run.finish(outcome, Some(summary))
    }

    fn check_structure(&self, document: &Map<String, Value>, run: &mut Run) -> Option<String> {
        let types = document.get("type").map(as_strings).unwrap_or_default();
        if types.iter().any(|t| t == "VerifiableCredential") {
            run.pass("type");
        } else {
            run.fail(
                ErrorKind::MalformedValueError,
                "type",
                "the type list does not include VerifiableCredential",
            );
        }
        if document
            .get("credentialSubject")
            .is_some_and(|s| s.is_object() || s.as_array().is_some_and(|a| !a.is_empty()))
        {
            run.pass("credentialSubject");
        } else {
            run.fail(
                ErrorKind::MalformedValueError,
                "credentialSubject",
                "credentialSubject is missing or empty",
            );
        }
        if let Some(id) = document.get("id") {
            if !id.as_str().is_some_and(crate::rdf::is_absolute_iri) {
                run.fail(
                    ErrorKind::MalformedValueError,
                    "id",
                    "the credential id is not a URL",
                );
            }
        }
        let issuer = match document.get("issuer") {
            Some(Value::String(id)) => Some(id.clone()),
            Some(Value::Object(map)) => map.get("id").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        };
        match &issuer {
            Some(id) if crate::rdf::is_absolute_iri(id) => run.pass("issuer.id"),
            _ => run.fail(
                ErrorKind::MalformedValueError,
                "issuer.id",
                "the issuer is missing or its id is not a URL",
            ),
        }
        issuer
    }

    fn check_contexts(&self, document: &Map<String, Value>, run: &mut Run) {
        let contexts = match document.get("@context") {
            Some(Value::Array(items)) => items.clone(),
            Some(other) => vec![other.clone()],
            None => Vec::new(),
        };
        let first = contexts.first().and_then(Value::as_str);
        if !matches!(
            first,
            Some(contexts::CREDENTIALS_V2) | Some(contexts::CREDENTIALS_V1)
        ) {
            run.fail(
                ErrorKind::ParsingError,
                "@context",
                "the first @context must be https://www.w3.org/ns/credentials/v2",
            );
            return;
        }
        for context in &contexts {
            match context.as_str() {
                Some(url) if contexts::pinned(url).is_some() => {}
                Some(url) => run.fail(
                    ErrorKind::ParsingError,
                    "@context",
                    format!("context {url} is not one this verifier knows; it is never fetched"),
                ),
                // Inline contexts are processed like any other. They cannot
                // redefine the protected terms of the pinned contexts, and
                // any URL they name goes through the same pinned loader.
                None if context.is_object() => {}
                None => run.fail(
                    ErrorKind::ParsingError,
                    "@context",
                    "each @context entry must be a URL or an object",
                ),
            }
        }
        if run.errors.is_empty() {
            run.pass("@context");
        }
    }

    fn check_proofs(&self, document: &Map<String, Value>, issuer: &str, run: &mut Run) -> Outcome {
        let proofs = match proof::proofs(document) {
            Ok(proofs) => proofs,
            Err(error) => {
                run.fail(
                    ErrorKind::CryptographicSecurityError,
                    "proof",
                    error.to_string(),
                );
                return Outcome::Malformed;
            }
        };
        let mut outcome = Outcome::Genuine;
        let mut issuer_signed = false;
        for proof in proofs {
            // A key that does not belong to the issuer makes the proof a
            // forgery attempt, whether or not its signature matches.
            let foreign_key = proof
                .get("verificationMethod")
                .and_then(Value::as_str)
                .and_then(|id| self.resolver.resolve(id).ok())
                .is_some_and(|method| method.controller != issuer);
            match proof::verify_proof(document, proof, &self.resolver) {
                Ok(checked) => {
                    if binds_issuer(&checked, issuer) {
                        issuer_signed = true;
                    }
                }
                Err(error) => {
                    let kind = match &error {
                        ProofError::Canonicalization(_) => ErrorKind::ParsingError,
                        ProofError::InvalidCreated(_) | ProofError::MalformedValue(_) => {
                            ErrorKind::MalformedValueError
                        }
                        _ => ErrorKind::CryptographicSecurityError,
                    };
                    run.fail(kind, "proof", error.to_string());
                    outcome = outcome.min(match error {
                        ProofError::BadSignature if foreign_key => Outcome::Forged,
                        ProofError::BadSignature => Outcome::Altered,
                        ProofError::Canonicalization(_) => Outcome::Malformed,
                        _ => Outcome::Forged,
                    });
                }
            }
        }
        if outcome != Outcome::Genuine {
            return outcome;
        }
        run.pass("proof");
        if issuer_signed {
            run.pass("proof.issuer");
            Outcome::Genuine
        } else {
            run.fail(
                ErrorKind::CryptographicSecurityError,
                "proof.issuer",
                format!("no proof is made for assertions by a key that issuer {issuer} controls"),
            );
            Outcome::Forged
        }
    }

    /// Verifies a presentation: its own proof, the expected challenge and
    /// domain, and each credential inside it separately.
    pub fn verify_presentation(
        &self,
        presentation: &Value,
        challenge: Option<&str>,
        domain: Option<&str>,
        now: DateTime<Utc>,
    ) -> PresentationReport {
        let mut run = Run::default();
        let mut credentials = Vec::new();
        let Some(document) = presentation.as_object() else {
            run.fail(
                ErrorKind::ParsingError,
                "structure",
                "the presentation is not a JSON object",
            );
            return PresentationReport::from_run(run, credentials);
        };
        let types = document.get("type").map(as_strings).unwrap_or_default();
        if !types.iter().any(|t| t == "VerifiablePresentation") {
            run.fail(
                ErrorKind::MalformedValueError,
                "type",
                "the type list does not include VerifiablePresentation",
            );
        }
        self.check_contexts(document, &mut run);
        if run.errors.is_empty() {
            self.check_presentation_proof(document, challenge, domain, &mut run);
        }
        if challenge.is_none() {
            run.warn(
                ErrorKind::CryptographicSecurityError,
                "challenge",
                "no challenge was expected, so this presentation may be a replay of an earlier one",
            );
        }
        let embedded = match document.get("verifiableCredential") {
            None => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(other) => vec![other.clone()],
        };
        for credential in &embedded {
            credentials.push(self.verify_credential(credential, now));
        }
        PresentationReport::from_run(run, credentials)
    }

    fn check_presentation_proof(
        &self,
        document: &Map<String, Value>,
        challenge: Option<&str>,
        domain: Option<&str>,
        run: &mut Run,
    ) {
        let holder = match document.get("holder") {
            Some(Value::String(id)) => Some(id.clone()),
            Some(Value::Object(map)) => map.get("id").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        };
        let proofs = match proof::proofs(document) {
            Ok(proofs) => proofs,
            Err(error) => {
                run.fail(
                    ErrorKind::CryptographicSecurityError,
                    "proof",
                    error.to_string(),
                );
                return;
            }
        };
        for proof in proofs {
            let checked = match proof::verify_proof(document, proof, &self.resolver) {
                Ok(checked) => checked,
                Err(error) => {
                    run.fail(
                        ErrorKind::CryptographicSecurityError,
                        "proof",
                        error.to_string(),
                    );
                    continue;
                }
            };
            if checked.purpose != "authentication" || !checked.method.authentication {
                run.fail(
                    ErrorKind::CryptographicSecurityError,
                    "proof.purpose",
                    "the presentation proof is not made for authentication",
                );
            }
            if let Some(holder) = &holder {
                if &checked.method.controller != holder {
                    run.fail(
                        ErrorKind::CryptographicSecurityError,
                        "proof.holder",
                        "the presentation is signed by a key the holder does not control",
                    );
                }
            }
            if let Some(expected) = challenge {
                if checked.challenge.as_deref() != Some(expected) {
                    run.fail(
                        ErrorKind::CryptographicSecurityError,
                        "challenge",
                        "the proof's challenge does not match the expected challenge",
                    );
                } else {
                    run.pass("challenge");
                }
            }
            if let Some(expected) = domain {
                if checked.domain.as_deref() != Some(expected) {
                    run.fail(
                        ErrorKind::CryptographicSecurityError,
                        "domain",
                        "the proof's domain does not match the expected domain",
                    );
                } else {
                    run.pass("domain");
                }
            }
        }
        if run.errors.is_empty() {
            run.pass("proof");
        }
    }
}

/// A presentation's own result and one report per credential it holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PresentationReport {
    /// True when the presentation and every credential in it verified.
    pub verified: bool,
    pub checks: Vec<String>,
    pub warnings: Vec<Problem>,
    pub errors: Vec<Problem>,
    pub credentials: Vec<Report>,
}

impl PresentationReport {
    fn from_run(run: Run, credentials: Vec<Report>) -> Self {
        Self {
            verified: run.errors.is_empty() && credentials.iter().all(|c| c.verified),
            checks: run.checks,
            warnings: run.warnings,
            errors: run.errors,
            credentials,
        }
    }
}

/// The key must be controlled by the issuer and listed for assertions.
fn binds_issuer(checked: &CheckedProof, issuer: &str) -> bool {
    checked.purpose == "assertionMethod"
        && checked.method.assertion_method
        && checked.method.controller == issuer
}

fn check_dates(document: &Map<String, Value>, now: DateTime<Utc>, run: &mut Run) -> Outcome {
    let skew = datetime::clock_skew();
    let mut read = |names: &[&str]| -> Option<(String, DateTime<Utc>)> {
        let (name, value) = names
            .iter()
            .find_map(|name| document.get(*name).map(|value| (*name, value)))?;
        match value.as_str().map(datetime::parse) {
            Some(Ok(instant)) => Some((name.to_owned(), instant)),
            _ => {
                run.fail(
                    ErrorKind::MalformedValueError,
                    name,
                    format!("{name} is not a valid date and time: {value}"),
                );
                None
            }
        }
    };
    let from = read(&["validFrom", "issuanceDate"]);
    let until = read(&["validUntil", "expirationDate"]);
    if run
        .errors
        .iter()
        .any(|p| p.is(ErrorKind::MalformedValueError))
    {
        return Outcome::Malformed;
    }

    if let (Some((_, from)), Some((_, until))) = (&from, &until) {
        if until < from {
            run.fail(
                ErrorKind::RangeError,
                "validUntil",
                "the credential stops being valid before it starts",
            );
            return Outcome::Malformed;
        }
    }
    let mut outcome = Outcome::Genuine;
    if let Some((name, from)) = from {
        if now + skew < from {
            run.fail(
                ErrorKind::RangeError,
                &name,
                format!(
                    "the credential is not valid before {}",
                    datetime::format(from)
                ),
            );
            outcome = Outcome::NotYetValid;
        } else {
            run.pass(&name);
        }
    }
    if let Some((name, until)) = until {
        if now - skew > until {
            run.fail(
                ErrorKind::RangeError,
                &name,
                format!("the credential expired on {}", datetime::format(until)),
            );
            outcome = Outcome::Expired;
        } else {
            run.pass(&name);
        }
    }
    outcome
}

fn summarize(document: &Map<String, Value>) -> Summary {
    let subject = match document.get("credentialSubject") {
        Some(Value::Array(items)) => items.first().cloned().unwrap_or_default(),
        Some(other) => other.clone(),
        None => Value::Null,
    };
    let achievement = subject.get("achievement").cloned().unwrap_or_default();
    let issuer_id = match document.get("issuer") {
        Some(Value::String(id)) => Some(id.clone()),
        Some(Value::Object(map)) => map.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    let date = |names: &[&str]| -> Option<String> {
        names
            .iter()
            .find_map(|name| document.get(*name).and_then(Value::as_str))
            .map(str::to_owned)
    };
    Summary {
        id: document
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        issuer_id,
        issuer_name: None,
        subject_name: LocalizedText::from_json(subject.get("name")),
        achievement_name: LocalizedText::from_json(achievement.get("name")),
        achievement_description: LocalizedText::from_json(achievement.get("description")),
        criteria: LocalizedText::from_json(
            achievement.get("criteria").and_then(|c| c.get("narrative")),
        ),
        valid_from: date(&["validFrom", "issuanceDate"]),
        valid_until: date(&["validUntil", "expirationDate"]),
    }
}

fn as_strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

#[derive(Default)]
struct Run {
    checks: Vec<String>,
    warnings: Vec<Problem>,
    errors: Vec<Problem>,
}

impl Run {
    fn pass(&mut self, check: &str) {
        if !self.checks.iter().any(|c| c == check) {
            self.checks.push(check.to_owned());
        }
    }

    fn fail(&mut self, kind: ErrorKind, check: &str, detail: impl Into<String>) {
        self.errors.push(Problem::new(kind, check, detail));
    }

    fn warn(&mut self, kind: ErrorKind, check: &str, detail: impl Into<String>) {
        self.warnings.push(Problem::new(kind, check, detail));
    }

    fn finish(self, outcome: Outcome, credential: Option<Summary>) -> Report {
        Report {
            verified: self.errors.is_empty(),
            outcome,
            checks: self.checks,
            warnings: self.warnings,
            errors: self.errors,
            credential,
        }
    }
}
