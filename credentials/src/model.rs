//! Open Badges 3.0 credentials on the VC Data Model 2.0.

use crate::contexts::{CREDENTIALS_V2, OPEN_BADGES_V3};
use crate::datetime;
use crate::text::LocalizedText;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Kind of achievement: one module, or a whole learning path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AchievementKind {
    Module,
    Path,
}

impl AchievementKind {
    /// The Open Badges `achievementType` vocabulary term.
    pub fn achievement_type(self) -> &'static str {
        match self {
            Self::Module => "Course",
            Self::Path => "LearningProgram",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Achievement {
    /// A stable URL for the achievement definition.
    pub id: String,
    pub kind: AchievementKind,
    /// The catalogue id, shown to people as the achievement's code.
    pub code: String,
    pub name: LocalizedText,
    pub description: LocalizedText,
    pub criteria: LocalizedText,
}

/// The recipient, identified by a salted hash of the member's internal id
/// so that the credential reveals no internal identifier.
#[derive(Clone, Debug)]
pub struct Recipient {
    pub member_id: String,
    pub salt: String,
    pub name_arabic: String,
    pub name_latin: String,
}

impl Recipient {
    /// `sha256$` followed by the hex SHA-256 of the member id and salt, the
    /// Open Badges `identityHash` format.
    pub fn identity_hash(&self) -> String {
        let digest = Sha256::digest(format!("{}{}", self.member_id, self.salt).as_bytes());
        format!("sha256${}", hex::encode(digest))
    }
}

/// An earlier credential this one rests on (a module under a path).
#[derive(Clone, Debug)]
pub struct Supporting {
    pub credential_id: String,
    pub name: LocalizedText,
}

#[derive(Clone, Debug)]
pub struct CredentialInput {
    pub id: uuid::Uuid,
    pub issuer_id: String,
    pub issuer_name: LocalizedText,
    pub achievement: Achievement,
    pub recipient: Recipient,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    /// Score out of 100, when the learning platform reported one.
    pub score: Option<u8>,
    pub evidence_url: Option<String>,
    pub supporting: Vec<Supporting>,
    /// Status list entries (Bitstring Status List v1.0), placed in
    /// `credentialStatus` when there is at least one.
    pub status: Vec<StatusEntry>,
}

/// A `BitstringStatusListEntry`: the bit at `index` of the list published
/// at `list_url` is 1 when the credential is revoked or suspended
/// (Bitstring Status List v1.0, section 2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusEntry {
    /// `revocation` or `suspension`.
    pub purpose: String,
    pub list_url: String,
    pub index: u64,
}

impl StatusEntry {
    /// The entry as JSON, with the index as a decimal string as the
    /// specification requires.
    pub fn to_json(&self) -> Value {
        json!({
            "id": format!("{}#{}", self.list_url, self.index),
            "type": "BitstringStatusListEntry",
            "statusPurpose": self.purpose,
            "statusListIndex": self.index.to_string(),
            "statusListCredential": self.list_url,
        })
    }
}

/// Builds an unsigned `OpenBadgeCredential`.
pub fn open_badge(input: &CredentialInput) -> Map<String, Value> {
    let achievement = &input.achievement;
    let mut subject = json!({
        "type": ["AchievementSubject"],
        "name": [
            {"@value": input.recipient.name_arabic, "@language": "ar"},
            // Arabic written in Latin script; lowercase because processors
            // differ on whether they normalize the case of language tags.
            {"@value": input.recipient.name_latin, "@language": "ar-latn"}
        ],
        "identifier": [{
            "type": "IdentityObject",
            "identityHash": input.recipient.identity_hash(),
            "identityType": "identifier",
            "hashed": true,
            "salt": input.recipient.salt,
        }],
        "achievement": {
            "id": achievement.id,
            "type": ["Achievement"],
            "achievementType": achievement.kind.achievement_type(),
            "humanCode": achievement.code,
            "name": achievement.name.to_json(),
            "description": achievement.description.to_json(),
            "criteria": {"narrative": achievement.criteria.to_json()},
        }
    });
    if let Some(score) = input.score {
        subject["result"] = json!([{"type": ["Result"], "value": score.to_string()}]);
    }

    let mut credential = json!({
        "@context": [CREDENTIALS_V2, OPEN_BADGES_V3],
        "id": input.id.urn().to_string(),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": achievement.name.to_json(),
        "issuer": {
            "id": input.issuer_id,
            "type": ["Profile"],
            "name": input.issuer_name.to_json(),
        },
        "validFrom": datetime::format(input.valid_from),
        "credentialSubject": subject,
    });
    if let Some(until) = input.valid_until {
        credential["validUntil"] = Value::String(datetime::format(until));
    }
    if !input.status.is_empty() {
        credential["credentialStatus"] =
            Value::Array(input.status.iter().map(StatusEntry::to_json).collect());
    }

    let mut evidence: Vec<Value> = input
        .supporting
        .iter()
        .map(|supporting| {
            json!({
                "id": supporting.credential_id,
                "type": ["Evidence"],
                "name": supporting.name.to_json(),
            })
        })
        .collect();
    if let Some(url) = &input.evidence_url {
        evidence.push(json!({"id": url, "type": ["Evidence"]}));
    }
    if !evidence.is_empty() {
        credential["evidence"] = Value::Array(evidence);
    }

    match credential {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
