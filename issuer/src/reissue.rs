//! Replacing the credentials a compromised key signed.
//!
//! Once a key is withdrawn from the DID document, nothing it signed
//! verifies. Each such credential is re-issued with the current key: a
//! copy with a new id and share token but the same member, achievement,
//! dates and evidence. The old row stays (issued credentials are
//! immutable) and `superseded_credentials` links it to its replacement.

use crate::audit::{self, Action};
use crate::db::{self, Pool};
use crate::issuance;
use crate::keystore::{KeyError, Keystore};
use chrono::{DateTime, Utc};
use credentials::datetime;
use serde::Serialize;
use serde_json::{json, Value};

/// A credential signed by a given key.
#[derive(Debug, Clone, Serialize)]
pub struct SignedCredential {
    pub id: String,
    pub kind: String,
    pub member_id: Option<String>,
    pub achievement_id: Option<String>,
    pub issued_at: String,
    /// The credential that replaced this one, once re-issued.
    pub replaced_by: Option<String>,
}

/// One credential re-issued.
#[derive(Debug, Clone, Serialize)]
pub struct Reissued {
    pub old_id: String,
    pub new_id: String,
    pub share_token: String,
}

/// Returns the proof's `verificationMethod` of a stored credential.
fn verification_method(document: &str) -> Option<String> {
    let value: Value = serde_json::from_str(document).ok()?;
    let proofs = match &value["proof"] {
        Value::Array(proofs) => proofs.clone(),
        proof @ Value::Object(_) => vec![proof.clone()],
        _ => Vec::new(),
    };
    proofs
        .iter()
        .find_map(|proof| proof["verificationMethod"].as_str().map(str::to_owned))
}

/// A credential row, its document, and its replacement if it was re-issued:
/// id, kind, member id, achievement id, issue date, document, replacement.
type SignedRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
);

/// Lists the credentials whose proof names key `fragment`, oldest first,
/// with the replacement of those already re-issued.
pub async fn signed_by(
    pool: &Pool,
    keystore: &Keystore,
    fragment: &str,
) -> Result<Vec<SignedCredential>, KeyError> {
    keystore.get(fragment).await?;
    let method = keystore.method_id(fragment);
    // LIKE only narrows the rows, because its wildcards (such as the `%`
    // of `%3A` in a did:web) widen the match. The parsed proof is then
    // checked for the exact method.
    let rows: Vec<SignedRow> = sqlx::query_as(
        "SELECT c.id, c.kind, c.member_id, c.achievement_id, c.issued_at, c.document, s.replaced_by
             FROM credentials c
             LEFT JOIN superseded_credentials s ON s.credential_id = c.id
             WHERE c.document LIKE $1
             ORDER BY c.issued_at, c.id",
    )
    .bind(format!("%{method}%"))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|row| verification_method(&row.5).as_deref() == Some(method.as_str()))
        .map(
            |(id, kind, member_id, achievement_id, issued_at, _, replaced_by)| SignedCredential {
                id,
                kind,
                member_id,
                achievement_id,
                issued_at,
                replaced_by,
            },
        )
        .collect())
}

/// Re-issues every credential signed by the compromised key `fragment`
/// that has not been re-issued yet, one transaction per credential, and
/// returns what it issued.
pub async fn reissue_all(
    pool: &Pool,
    keystore: &Keystore,
    fragment: &str,
    actor: &str,
) -> Result<Vec<Reissued>, KeyError> {
    let key = keystore.get(fragment).await?;
    if key.compromised_at.is_none() {
        return Err(KeyError::Other(anyhow::anyhow!(
            "key {fragment} is not marked compromised, so what it signed still verifies; \
             run `issuer keys compromised {fragment} --reason TEXT` first"
        )));
    }
    let mut done = Vec::new();
    for credential in signed_by(pool, keystore, fragment).await? {
        if credential.replaced_by.is_some() {
            continue;
        }
        let mut attempt = 1;
        let reissued = loop {
            match reissue_one(pool, keystore, fragment, &credential.id, actor, Utc::now()).await {
                Err(KeyError::Database(error)) if attempt < 4 && db::is_retryable(&error) => {
                    attempt += 1;
                }
                result => break result?,
            }
        };
        if let Some(reissued) = reissued {
            done.push(reissued);
        }
    }
    Ok(done)
}

/// Re-issues one credential. Returns `None` when another process
/// re-issued it first.
async fn reissue_one(
    pool: &Pool,
    keystore: &Keystore,
    fragment: &str,
    old_id: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<Reissued>, KeyError> {
    let signer = keystore.current_signer().await?;
    let mut tx = pool.begin().await?;
    let already: Option<(String,)> =
        sqlx::query_as("SELECT replaced_by FROM superseded_credentials WHERE credential_id = $1")
            .bind(old_id)
            .fetch_optional(&mut *tx)
            .await?;
    if already.is_some() {
        return Ok(None);
    }
    let (member_id, kind, achievement_id, document, valid_until): (
        Option<String>,
        String,
        Option<String>,
        String,
        Option<String>,
    ) = sqlx::query_as(
        "SELECT member_id, kind, achievement_id, document, valid_until FROM credentials WHERE id = $1",
    )
    .bind(old_id)
    .fetch_one(&mut *tx)
    .await?;

    // The same claims under a new id: member, achievement, validFrom,
    // validUntil and evidence are copied unchanged.
    let mut unsigned: serde_json::Map<String, Value> = serde_json::from_str(&document)
        .map_err(|error| anyhow::anyhow!("stored credential {old_id} is not JSON: {error}"))?;
    unsigned.remove("proof");
    // NOTE: a re-issued path credential still names the old module
    // credentials it rests on, even when those were re-issued too.
    let new_id = uuid::Uuid::new_v4().urn().to_string();
    unsigned.insert("id".to_owned(), Value::String(new_id.clone()));
    let signed = issuance::sign(&signer, &unsigned, now)
        .map_err(|error| anyhow::anyhow!("re-signing {old_id} failed: {error}"))?;
    let share_token = issuance::share_token();

    sqlx::query(
        "INSERT INTO credentials (id, member_id, kind, achievement_id, document, issued_at, valid_until, share_token, reissue_of)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&new_id)
    .bind(&member_id)
    .bind(&kind)
    .bind(&achievement_id)
    .bind(Value::Object(signed).to_string())
    .bind(datetime::format(now))
    .bind(&valid_until)
    .bind(&share_token)
    .bind(old_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO superseded_credentials (credential_id, replaced_by, key_fragment, superseded_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(old_id)
    .bind(&new_id)
    .bind(fragment)
    .bind(datetime::format(now))
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &audit::Entry {
            actor,
            action: Action::Reissue,
            subject: &new_id,
            reason: Some("signing key compromised"),
            details: json!({
                "replaces": old_id,
                "compromised_key": fragment,
                "signed_with": signer.fragment,
                "member": member_id,
                "kind": kind,
                "achievement": achievement_id,
            }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(old = %old_id, new = %new_id, "re-issued a credential signed by a compromised key");
    Ok(Some(Reissued {
        old_id: old_id.to_owned(),
        new_id,
        share_token,
    }))
}
