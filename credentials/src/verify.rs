//! Credential and presentation verification with a report of every check.
//!
//! Problems use the error types of the VC Data Model 2.0 (§7.1,
//! "Verification"): parsing, cryptographic security, malformed value and
//! range errors, each an RFC 9457 problem details object.

use crate::contexts;
use crate::datetime;
use crate::did::Resolver;
use crate::proof::{self, CheckedProof, ProofError};
use crate::status::{self, StatusEntry, StatusError};
use crate::text::LocalizedText;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// The VC Data Model 2.0 error types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorKind {
    ParsingError,
    CryptographicSecurityError,
    MalformedValueError,
    RangeError,
    /// Bitstring Status List v1.0: the status list could not be retrieved.
    StatusRetrievalError,
    /// Bitstring Status List v1.0: the status list failed verification.
    StatusVerificationError,
    /// Bitstring Status List v1.0: the status list is shorter than required.
    StatusListLengthError,
    /// The credential's revocation bit is set.
    Revoked,
    /// The credential's suspension bit is set.
    Suspended,
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
            Self::StatusRetrievalError => {
                "https://www.w3.org/ns/credentials/status-list#STATUS_RETRIEVAL_ERROR"
            }
            Self::StatusVerificationError => {
                "https://www.w3.org/ns/credentials/status-list#STATUS_VERIFICATION_ERROR"
            }
            Self::StatusListLengthError => {
                "https://www.w3.org/ns/credentials/status-list#STATUS_LIST_LENGTH_ERROR"
            }
            // NOTE: the specification defines no problem type for a set
            // status bit, so these point at its text on the two purposes.
            Self::Revoked => "https://www.w3.org/TR/vc-bitstring-status-list/#revocation",
            Self::Suspended => "https://www.w3.org/TR/vc-bitstring-status-list/#suspension",
        }
    }

    /// Returns the VC Data Model 2.0 error code, which the status kinds lack.
    pub fn code(self) -> Option<i32> {
        match self {
            Self::ParsingError => Some(-64),
            Self::CryptographicSecurityError => Some(-65),
            Self::MalformedValueError => Some(-66),
            Self::RangeError => Some(-67),
            _ => None,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::ParsingError => "Parsing error",
            Self::CryptographicSecurityError => "Cryptographic security error",
            Self::MalformedValueError => "Malformed value error",
            Self::RangeError => "Range error",
            Self::StatusRetrievalError => "Status retrieval error",
            Self::StatusVerificationError => "Status verification error",
            Self::StatusListLengthError => "Status list length error",
            Self::Revoked => "Credential revoked",
            Self::Suspended => "Credential suspended",
        }
    }
}

/// An RFC 9457 problem details object for one failed check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
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

    fn with_check(mut self, check: &str) -> Self {
        check.clone_into(&mut self.check);
        self
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
    /// The issuer's status list marks the credential as revoked.
    Revoked,
    /// The issuer's status list marks the credential as suspended.
    Suspended,
    Expired,
    NotYetValid,
    /// The credential has a status entry, but its status list could not be
    /// fetched or did not pass verification, so the credential could be
    /// revoked without this verifier knowing.
    StatusUnknown,
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
    /// One result per revocation or suspension entry, once checked. Not
    /// named `status`, which RFC 9457 problem details use for the HTTP
    /// status code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credential_status: Vec<StatusResult>,
    /// When the oldest status list used was fetched (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_checked_at: Option<String>,
    /// Status entries still to be checked against their lists.
    #[serde(skip)]
    pending_status: Option<PendingStatus>,
}

impl Report {
    /// True until [`Verifier::check_status`] has read the credential's
    /// status.
    pub fn status_pending(&self) -> bool {
        self.pending_status.is_some()
    }

    /// Lists the status list URLs that [`Verifier::check_status`] needs,
    /// without repeats. Empty when the credential has no status to check or its
    /// proof failed, so a forged credential never makes the verifier fetch.
    pub fn status_lists_to_fetch(&self) -> Vec<String> {
        let mut urls: Vec<String> = Vec::new();
        for entry in self.pending_status.iter().flat_map(|p| &p.entries) {
            if !urls.contains(&entry.list_url) {
                urls.push(entry.list_url.clone());
            }
        }
        urls
    }
}

/// State of the credential in one status list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusState {
    /// The bit is 0: not revoked, or not suspended.
    Clear,
    /// The bit is 1: revoked, or suspended.
    Set,
    /// The list could not be fetched or did not pass verification.
    Unknown,
}

/// The result of one status entry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StatusResult {
    pub purpose: String,
    pub status_list_credential: String,
    pub status_list_index: String,
    pub state: StatusState,
    /// When the list was fetched (RFC 3339, UTC), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<String>,
}

/// A status list credential as fetched, for [`Verifier::check_status`].
#[derive(Clone, Debug)]
pub struct FetchedList {
    pub document: Value,
    pub fetched_at: DateTime<Utc>,
}

/// Status lists by URL: the fetched document, or why it could not be
/// fetched. A URL missing from the map counts as not fetched.
pub type StatusLists = HashMap<String, Result<FetchedList, String>>;

#[derive(Clone, Debug)]
struct PendingStatus {
    issuer: String,
    entries: Vec<StatusEntry>,
    /// The outcome of every other check.
    outcome: Outcome,
}

/// Rules for checking status lists.
///
/// A list that breaks a rule is rejected for a credential of a trusted
/// issuer, since the verdict on such a credential is the one people rely
/// on. For any other issuer the list is still read and each broken rule is
/// reported as a warning: the verdict on such a credential is already "issuer
/// not recognised", and its status is information, not a guarantee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusPolicy {
    /// Smallest list, in entries. Bitstring Status List v1.0 requires issuers
    /// to use at least 131,072 so that one entry does not single out its
    /// holder.
    pub min_entries: u64,
    /// Whether a status list must be issued by the credential's issuer.
    /// Without this rule, whoever controls the list's URL could sign a list
    /// of their own that says a revoked credential is in good standing.
    pub same_issuer: bool,
    /// Whether the rules above also bind issuers that are not trusted.
    pub strict_for_all: bool,
}

impl StatusPolicy {
    /// Both rules, for every issuer.
    pub fn strict() -> Self {
        Self {
            strict_for_all: true,
            ..Self::default()
        }
    }
}

impl Default for StatusPolicy {
    fn default() -> Self {
        Self {
            min_entries: status::MIN_ENTRIES,
            same_issuer: true,
            strict_for_all: false,
        }
    }
}

/// Verifies credentials against pinned keys and a list of trusted issuers.
#[derive(Clone, Debug, Default)]
pub struct Verifier {
    pub resolver: Resolver,
    pub trusted: Vec<TrustedIssuer>,
    pub status_policy: StatusPolicy,
}

impl Verifier {
    pub fn new(resolver: Resolver, trusted: Vec<TrustedIssuer>) -> Self {
        Self {
            resolver,
            trusted,
            status_policy: StatusPolicy::default(),
        }
    }

    fn trusted_issuer(&self, id: &str) -> Option<&TrustedIssuer> {
        self.trusted.iter().find(|issuer| issuer.id == id)
    }

    /// Verifies a credential at the instant `now`, without network.
    ///
    /// A credential with revocation or suspension entries gets the outcome
    /// `StatusUnknown` and a warning until [`Verifier::check_status`] has
    /// read its lists. Until then `verified` covers only the checks that ran.
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
        let (mut outcome, issuer) = self.check_document(document, now, &mut run);
        if outcome == Outcome::Malformed && issuer.is_empty() {
            return run.finish(outcome, None);
        }
        let pending = self.read_status(document, outcome, &mut run);

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
        let mut report = run.finish(outcome, Some(summary));
        if let Some(entries) = pending {
            report.outcome = outcome.min(Outcome::StatusUnknown);
            report.pending_status = Some(PendingStatus {
                issuer,
                entries,
                outcome,
            });
        }
        report
    }

    /// Runs the checks of a credential that need no status list: contexts,
    /// structure, proofs and dates. Returns the outcome and the issuer id,
    /// which is empty when the structure is invalid.
    fn check_document(
        &self,
        document: &Map<String, Value>,
        now: DateTime<Utc>,
        run: &mut Run,
    ) -> (Outcome, String) {
        self.check_contexts(document, run);
        if run.errors.is_empty() {
            check_terms(document, run);
        }
        let issuer = self.check_structure(document, run);
        if !run.errors.is_empty() {
            return (Outcome::Malformed, String::new());
        }
        let issuer = issuer.unwrap_or_default();

        let outcome = self.check_proofs(document, &issuer, run);
        let dates = check_dates(document, now, run);
        if outcome == Outcome::Genuine {
            return (dates, issuer);
        }
        (outcome, issuer)
    }

    /// Reads the credential's status entries. Returns the revocation and
    /// suspension entries to check, or `None` when there are none or when
    /// the proof failed (an altered or forged credential stays so, and its
    /// URLs are not fetched).
    fn read_status(
        &self,
        document: &Map<String, Value>,
        outcome: Outcome,
        run: &mut Run,
    ) -> Option<Vec<StatusEntry>> {
        if !document.contains_key("credentialStatus")
            || matches!(
                outcome,
                Outcome::Malformed | Outcome::Altered | Outcome::Forged
            )
        {
            return None;
        }
        let entries = match status::entries(document) {
            Ok(entries) => entries,
            Err(error) => {
                run.fail(
                    ErrorKind::MalformedValueError,
                    "credentialStatus",
                    error.to_string(),
                );
                // Nothing to fetch, and the status stays unknown.
                return Some(Vec::new());
            }
        };
        let (checked, other): (Vec<_>, Vec<_>) = entries
            .into_iter()
            .partition(StatusEntry::is_checked_purpose);
        for entry in other {
            run.warn(
                ErrorKind::MalformedValueError,
                "credentialStatus",
                format!(
                    "status purpose {:?} is not checked; only revocation and suspension are",
                    entry.purpose
                ),
            );
        }
        if checked.is_empty() {
            return None;
        }
        run.warn(
            ErrorKind::StatusRetrievalError,
            PENDING_CHECK,
            "the credential's status has not been checked against its status list",
        );
        Some(checked)
    }

    /// Completes a report from [`Verifier::verify_credential`] with the
    /// credential's status, read from `lists` (Bitstring Status List v1.0,
    /// validation). A list that is missing, unreachable, badly signed,
    /// expired, of the wrong type or purpose, or from another issuer makes
    /// the status unknown, never genuine. A revocation outranks a
    /// suspension, and both outrank an unknown status.
    pub fn check_status(&self, report: &mut Report, lists: &StatusLists, now: DateTime<Utc>) {
        let Some(pending) = report.pending_status.take() else {
            return;
        };
        report
            .warnings
            .retain(|problem| problem.check != PENDING_CHECK);
        let mut outcome = Outcome::Genuine;
        if pending.entries.is_empty() {
            // The entries could not be read; the error is already reported.
            outcome = Outcome::StatusUnknown;
        }
        let mut oldest: Option<DateTime<Utc>> = None;
        for entry in &pending.entries {
            let check = format!("credentialStatus.{}", entry.purpose);
            let fetched = lists.get(&entry.list_url);
            let fetched_at = fetched
                .and_then(|f| f.as_ref().ok())
                .map(|list| list.fetched_at);
            let read = self.read_entry(entry, &pending.issuer, fetched, now, &mut report.warnings);
            let state = match read {
                Ok(false) => {
                    report.checks.push(check);
                    StatusState::Clear
                }
                Ok(true) => {
                    let (kind, detail, set) = if entry.purpose == "revocation" {
                        (
                            ErrorKind::Revoked,
                            "the issuer revoked this credential",
                            Outcome::Revoked,
                        )
                    } else {
                        (
                            ErrorKind::Suspended,
                            "the issuer suspended this credential",
                            Outcome::Suspended,
                        )
                    };
                    report.errors.push(Problem::new(kind, &check, detail));
                    outcome = outcome.min(set);
                    StatusState::Set
                }
                Err(problem) => {
                    report.errors.push(problem.with_check(&check));
                    outcome = outcome.min(Outcome::StatusUnknown);
                    StatusState::Unknown
                }
            };
            if let (Some(at), true) = (fetched_at, state != StatusState::Unknown) {
                oldest = Some(oldest.map_or(at, |earlier| earlier.min(at)));
            }
            report.credential_status.push(StatusResult {
                purpose: entry.purpose.clone(),
                status_list_credential: entry.list_url.clone(),
                status_list_index: entry.index.to_string(),
                state,
                fetched_at: fetched_at.map(datetime::format),
            });
        }
        report.status_checked_at = oldest.map(datetime::format);
        report.outcome = pending.outcome.min(outcome);
        report.verified = report.errors.is_empty();
    }

    /// Runs [`Verifier::check_status`] on each credential of a presentation.
    pub fn check_presentation_status(
        &self,
        report: &mut PresentationReport,
        lists: &StatusLists,
        now: DateTime<Utc>,
    ) {
        for credential in &mut report.credentials {
            self.check_status(credential, lists, now);
        }
        report.verified = report.errors.is_empty() && report.credentials.iter().all(|c| c.verified);
    }

    /// Checks one entry against its fetched list and returns its bit.
    fn read_entry(
        &self,
        entry: &StatusEntry,
        issuer: &str,
        fetched: Option<&Result<FetchedList, String>>,
        now: DateTime<Utc>,
        warnings: &mut Vec<Problem>,
    ) -> Result<bool, Problem> {
        let strict = self.status_policy.strict_for_all || self.trusted_issuer(issuer).is_some();
        let check = format!("credentialStatus.{}", entry.purpose);
        let list = match fetched {
            Some(Ok(list)) => list,
            Some(Err(reason)) => {
                return Err(status_problem(
                    ErrorKind::StatusRetrievalError,
                    format!(
                        "the status list {} could not be fetched: {reason}",
                        entry.list_url
                    ),
                ))
            }
            None => {
                return Err(status_problem(
                    ErrorKind::StatusRetrievalError,
                    format!("the status list {} was not fetched", entry.list_url),
                ))
            }
        };
        let invalid = |detail: String| {
            status_problem(
                ErrorKind::StatusVerificationError,
                format!("the status list {} {detail}", entry.list_url),
            )
        };
        let Some(document) = list.document.as_object() else {
            return Err(invalid("is not a JSON object".to_owned()));
        };

        // The list is a credential like any other: checked by the same code.
        let mut run = Run::default();
        let (outcome, list_issuer) = self.check_document(document, now, &mut run);
        if let Some(problem) = run.errors.first() {
            return Err(invalid(format!("is not valid: {}", problem.detail)));
        }
        if outcome != Outcome::Genuine {
            return Err(invalid(format!("is not valid: {outcome:?}")));
        }
        let types = document.get("type").map(as_strings).unwrap_or_default();
        if !types.iter().any(|t| t == status::LIST_CREDENTIAL_TYPE) {
            return Err(invalid(format!(
                "is not a {}",
                status::LIST_CREDENTIAL_TYPE
            )));
        }
        if self.status_policy.same_issuer && list_issuer != issuer {
            let problem = invalid(format!(
                "is issued by {list_issuer}, not by the credential's issuer {issuer}"
            ));
            if strict {
                return Err(problem);
            }
            warnings.push(problem.with_check(&check));
        }

        let subject = document.get("credentialSubject").and_then(Value::as_object);
        let Some(subject) = subject else {
            return Err(invalid("has no credentialSubject object".to_owned()));
        };
        let subject_types = subject.get("type").map(as_strings).unwrap_or_default();
        if !subject_types.iter().any(|t| t == status::LIST_TYPE) {
            return Err(invalid(format!("subject is not a {}", status::LIST_TYPE)));
        }
        let purposes = subject
            .get("statusPurpose")
            .map(as_strings)
            .unwrap_or_default();
        if !purposes.contains(&entry.purpose) {
            return Err(invalid(format!(
                "is for {}, not for {}",
                purposes.join(", "),
                entry.purpose
            )));
        }
        let Some(encoded) = subject.get("encodedList").and_then(Value::as_str) else {
            return Err(invalid("has no encodedList".to_owned()));
        };

        let minimum = self.status_policy.min_entries;
        let decoded = status::decode(encoded);
        if let (false, Ok(list)) = (strict, &decoded) {
            if list.len() < minimum {
                let error = StatusError::ListTooShort {
                    entries: list.len(),
                    minimum,
                };
                warnings.push(
                    status_problem(
                        ErrorKind::StatusListLengthError,
                        format!("the status list {}: {error}", entry.list_url),
                    )
                    .with_check(&check),
                );
            }
        }
        let bit = decoded.and_then(|list| {
            status::read_bit(&list, entry.index, if strict { minimum } else { 0 })
        });
        bit.map_err(|error| {
            let kind = match error {
                StatusError::ListTooShort { .. } => ErrorKind::StatusListLengthError,
                StatusError::IndexOutOfRange { .. } => ErrorKind::RangeError,
                _ => ErrorKind::StatusVerificationError,
            };
            status_problem(kind, format!("the status list {}: {error}", entry.list_url))
        })
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

/// The check name of the warning that a status is still to be checked.
const PENDING_CHECK: &str = "credentialStatus.pending";

/// Fails the `terms` check when a property is written in a form the checks
/// do not read ([`crate::terms`]), or when expansion would drop properties
/// that no context defines, because the signature does not cover them.
/// Documents that [`crate::expand`] leaves to the `json-ld` crate, such as
/// those with inline contexts, are checked by that crate, which names the
/// first such property only.
fn check_terms(document: &Map<String, Value>, run: &mut Run) {
    let whole = Value::Object(document.clone());
    if let Some(problem) = crate::terms::problem(&whole) {
        run.fail(ErrorKind::MalformedValueError, "terms", problem);
        return;
    }
    let dropped = match crate::expand::dropped_properties(&whole) {
        Ok(dropped) => dropped,
        Err(_) => match crate::rdf::undefined_property(&whole) {
            Ok(first) => first.into_iter().collect(),
            // The document does not expand at all, and the proof check reports it.
            Err(_) => return,
        },
    };
    if dropped.is_empty() {
        run.pass("terms");
        return;
    }
    let names = dropped.join(", ");
    run.fail(
        ErrorKind::MalformedValueError,
        "terms",
        format!(
            "the credential contains properties its contexts do not define ({names}), \
             so the signature does not cover them"
        ),
    );
}

fn status_problem(kind: ErrorKind, detail: String) -> Problem {
    Problem::new(kind, "credentialStatus", detail)
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
            credential_status: Vec::new(),
            status_checked_at: None,
            pending_status: None,
        }
    }
}
