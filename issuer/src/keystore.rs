//! The academy's signing keys, kept encrypted in the database.
//!
//! Each Ed25519 seed is stored as a compact JWE (`dir`, `A256GCM`) under a
//! 32-byte key-encryption key that never enters the database. That key
//! comes from `ISSUER_MASTER_KEY` or from `master.key` in the data folder,
//! which is created with mode 0600 on first start.
//!
//! Rotation: `add_key` stores a new key, `activate` makes it the one new
//! credentials are signed with, and the keys it replaces stay in the DID
//! document so that what they signed still verifies. `mark_compromised`
//! withdraws a key from the DID document; `crate::reissue` then replaces
//! what it signed.

use crate::audit::{self, Action};
use crate::db::{Connection, Pool};
use base64::Engine;
use chrono::Utc;
use credentials::keys;
use ed25519_dalek::SigningKey;
use josekit::jwe::{Dir, JweHeader};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::Mutex;

/// The current signing key and the DID method id that names it.
pub struct Signer {
    pub did: String,
    pub fragment: String,
    pub key: SigningKey,
}

impl Signer {
    pub fn method_id(&self) -> String {
        format!("{}#{}", self.did, self.fragment)
    }
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("method", &self.method_id())
            .finish_non_exhaustive()
    }
}

/// Loads the key-encryption key, creating `master.key` when absent.
pub fn master_key(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    let engine = base64::engine::general_purpose::STANDARD;
    let encoded = match configured {
        Some(value) => value.trim().to_owned(),
        None => {
            let path = data_dir.join("master.key");
            if !path.exists() {
                std::fs::create_dir_all(data_dir)?;
                let mut fresh = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut fresh);
                write_private(&path, engine.encode(fresh).as_bytes())?;
                tracing::info!(path = %path.display(), "created key-encryption key");
            }
            std::fs::read_to_string(&path)?.trim().to_owned()
        }
    };
    let bytes = engine
        .decode(encoded)
        .map_err(|_| anyhow::anyhow!("the key-encryption key is not valid base64"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("the key-encryption key must be 32 bytes"))
}

fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(())
}

fn encrypt(seed: &[u8; 32], master: &[u8; 32]) -> anyhow::Result<String> {
    let mut header = JweHeader::new();
    header.set_content_encryption("A256GCM");
    let encrypter = Dir.encrypter_from_bytes(master)?;
    Ok(josekit::jwe::serialize_compact(seed, &header, &encrypter)?)
}

fn decrypt(jwe: &str, master: &[u8; 32]) -> anyhow::Result<SigningKey> {
    let decrypter = Dir.decrypter_from_bytes(master)?;
    let (seed, _) = josekit::jwe::deserialize_compact(jwe, &decrypter).map_err(|_| {
        anyhow::anyhow!("a signing key could not be decrypted: wrong key-encryption key?")
    })?;
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| anyhow::anyhow!("a stored signing key has the wrong length"))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The signing keys of one DID, read from the database on every use so
/// that a rotation made by another process sharing the database takes
/// effect at the next issuance. Decrypted keys are cached by fragment,
/// which never changes what key it names.
pub struct Keystore {
    pool: Pool,
    did: String,
    master: [u8; 32],
    decrypted: Mutex<HashMap<String, Arc<Signer>>>,
}

/// One stored key, as `issuer keys list` shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct KeyInfo {
    pub fragment: String,
    pub public_multibase: String,
    pub created_at: String,
    pub activated_at: Option<String>,
    pub compromised_at: Option<String>,
    pub compromise_reason: Option<String>,
    pub is_current: i64,
}

impl KeyInfo {
    /// Returns `current`, `retired` (published, no longer signing) or
    /// `compromised` (withdrawn from the DID document).
    pub fn state(&self) -> &'static str {
        if self.compromised_at.is_some() {
            "compromised"
        } else if self.is_current == 1 {
            "current"
        } else {
            "retired"
        }
    }
}

/// An error changing a signing key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no signing key has id {0:?}; `issuer keys list` shows the ids")]
    NotFound(String),
    #[error("key {0} is marked compromised and cannot sign again")]
    Compromised(String),
    #[error("key {0} is the current key: activate another key first (`issuer keys activate ID`)")]
    Current(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Keystore {
    /// Opens the keystore, generating and storing the first key when the
    /// database has none.
    pub async fn open(pool: Pool, did: &str, master: [u8; 32]) -> anyhow::Result<Self> {
        let store = Self {
            pool,
            did: did.to_owned(),
            master,
            decrypted: Mutex::new(HashMap::new()),
        };
        let any: Option<(String,)> =
            sqlx::query_as("SELECT fragment FROM signing_keys WHERE is_current = 1")
                .fetch_optional(&store.pool)
                .await?;
        if any.is_none() {
            let fragment = "key-1".to_owned();
            let key = keys::generate();
            let now = credentials::datetime::format(Utc::now());
            sqlx::query(
                "INSERT INTO signing_keys (fragment, public_multibase, encrypted_secret, created_at, is_current, activated_at)
                 VALUES ($1, $2, $3, $4, 1, $4)",
            )
            .bind(&fragment)
            .bind(keys::public_multibase(&key.verifying_key()))
            .bind(encrypt(key.as_bytes(), &store.master)?)
            .bind(&now)
            .execute(&store.pool)
            .await?;
            tracing::info!(method = %format!("{did}#{fragment}"), "created the first signing key");
        }
        Ok(store)
    }

    pub fn did(&self) -> &str {
        &self.did
    }

    /// Returns the key new credentials are signed with, as stored now.
    pub async fn current_signer(&self) -> anyhow::Result<Arc<Signer>> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT fragment, encrypted_secret FROM signing_keys WHERE is_current = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let (fragment, encrypted) =
            row.ok_or_else(|| anyhow::anyhow!("the database has no current signing key"))?;
        let mut cache = self.decrypted.lock().await;
        if let Some(signer) = cache.get(&fragment) {
            return Ok(Arc::clone(signer));
        }
        let signer = Arc::new(Signer {
            did: self.did.clone(),
            fragment: fragment.clone(),
            key: decrypt(&encrypted, &self.master)?,
        });
        cache.insert(fragment, Arc::clone(&signer));
        Ok(signer)
    }

    /// Generates a new key and stores it, encrypted, without making it
    /// current. Returns its fragment.
    pub async fn add_key(&self, actor: &str) -> Result<String, KeyError> {
        let key = keys::generate();
        let encrypted = encrypt(key.as_bytes(), &self.master)?;
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM signing_keys")
            .fetch_one(&mut *tx)
            .await?;
        let fragment = format!("key-{}", count + 1);
        sqlx::query(
            "INSERT INTO signing_keys (fragment, public_multibase, encrypted_secret, created_at, is_current)
             VALUES ($1, $2, $3, $4, 0)",
        )
        .bind(&fragment)
        .bind(keys::public_multibase(&key.verifying_key()))
        .bind(encrypted)
        .bind(credentials::datetime::format(now))
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, &entry(actor, Action::KeyAdd, &fragment, None), now).await?;
        tx.commit().await?;
        tracing::info!(key = %fragment, "added a signing key");
        Ok(fragment)
    }

    /// Makes `fragment` the key new credentials are signed with. The key
    /// it replaces stays in the DID document.
    pub async fn activate(&self, fragment: &str, actor: &str) -> Result<(), KeyError> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let key = find(&mut tx, fragment).await?;
        if key.compromised_at.is_some() {
            return Err(KeyError::Compromised(fragment.to_owned()));
        }
        let previous: Option<(String,)> =
            sqlx::query_as("SELECT fragment FROM signing_keys WHERE is_current = 1")
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query("UPDATE signing_keys SET is_current = 0 WHERE is_current = 1")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE signing_keys SET is_current = 1, activated_at = $1 WHERE fragment = $2",
        )
        .bind(credentials::datetime::format(now))
        .bind(fragment)
        .execute(&mut *tx)
        .await?;
        let mut audit_entry = entry(actor, Action::KeyActivate, fragment, None);
        audit_entry.details = json!({ "previous": previous.map(|(fragment,)| fragment) });
        audit::record(&mut tx, &audit_entry, now).await?;
        tx.commit().await?;
        tracing::info!(key = %fragment, "activated a signing key");
        Ok(())
    }

    /// Marks `fragment` compromised, which removes it from the DID
    /// document, so that nothing it signed verifies any more.
    pub async fn mark_compromised(
        &self,
        fragment: &str,
        reason: &str,
        actor: &str,
    ) -> Result<(), KeyError> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let key = find(&mut tx, fragment).await?;
        if key.is_current == 1 {
            return Err(KeyError::Current(fragment.to_owned()));
        }
        if key.compromised_at.is_some() {
            // Marking it again changes nothing and records nothing.
            return Ok(());
        }
        sqlx::query(
            "UPDATE signing_keys SET compromised_at = $1, compromise_reason = $2
             WHERE fragment = $3 AND is_current = 0",
        )
        .bind(credentials::datetime::format(now))
        .bind(reason)
        .bind(fragment)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            &entry(actor, Action::KeyCompromise, fragment, Some(reason)),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(key = %fragment, "marked a signing key compromised");
        Ok(())
    }

    /// Returns every stored key, oldest first.
    pub async fn list(&self) -> sqlx::Result<Vec<KeyInfo>> {
        sqlx::query_as(
            "SELECT fragment, public_multibase, created_at, activated_at, compromised_at,
                    compromise_reason, is_current
             FROM signing_keys ORDER BY created_at, fragment",
        )
        .fetch_all(&self.pool)
        .await
    }

    /// Returns the key `fragment`, or `KeyError::NotFound`.
    pub async fn get(&self, fragment: &str) -> Result<KeyInfo, KeyError> {
        let mut conn = self.pool.acquire().await?;
        find(&mut conn, fragment).await
    }

    /// Builds the DID document from every key not marked compromised.
    pub async fn did_document(&self) -> anyhow::Result<serde_json::Value> {
        did_document(&self.pool, &self.did).await
    }

    /// The DID URL of `fragment`, as proofs name it in `verificationMethod`.
    pub fn method_id(&self, fragment: &str) -> String {
        format!("{}#{fragment}", self.did)
    }
}

fn entry<'a>(
    actor: &'a str,
    action: Action,
    subject: &'a str,
    reason: Option<&'a str>,
) -> audit::Entry<'a> {
    audit::Entry {
        actor,
        action,
        subject,
        reason,
        details: json!({}),
    }
}

async fn find(conn: &mut Connection, fragment: &str) -> Result<KeyInfo, KeyError> {
    sqlx::query_as(
        "SELECT fragment, public_multibase, created_at, activated_at, compromised_at,
                compromise_reason, is_current
         FROM signing_keys WHERE fragment = $1",
    )
    .bind(fragment)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| KeyError::NotFound(fragment.to_owned()))
}

/// Builds the DID document from every stored public key except those
/// marked compromised. Retired keys stay, so that what they signed still
/// verifies.
pub async fn did_document(pool: &Pool, did: &str) -> anyhow::Result<serde_json::Value> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT fragment, public_multibase FROM signing_keys
         WHERE compromised_at IS NULL ORDER BY created_at, fragment",
    )
    .fetch_all(pool)
    .await?;
    let mut published = Vec::new();
    for (fragment, multibase) in &rows {
        published.push((fragment.clone(), keys::decode_public_multibase(multibase)?));
    }
    let entries: Vec<credentials::did::PublishedKey<'_>> = published
        .iter()
        .map(|(fragment, key)| credentials::did::PublishedKey {
            fragment,
            key: *key,
        })
        .collect();
    Ok(credentials::did::did_document(did, &entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_round_trips_through_jwe() {
        let master = [7u8; 32];
        let key = keys::generate();
        let jwe = encrypt(key.as_bytes(), &master).expect("encrypt");
        assert!(!jwe.contains(&hex::encode(key.as_bytes())));
        assert_eq!(jwe.split('.').count(), 5);
        assert_eq!(
            decrypt(&jwe, &master).expect("decrypt").to_bytes(),
            key.to_bytes()
        );
        assert!(decrypt(&jwe, &[8u8; 32]).is_err());
    }
}
