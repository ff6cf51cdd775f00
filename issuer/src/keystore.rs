//! The academy's signing keys, kept encrypted in the database.
//!
//! Each Ed25519 seed is stored as a compact JWE (`dir`, `A256GCM`) under a
//! 32-byte key-encryption key that never enters the database. That key
//! comes from `ISSUER_MASTER_KEY` or from `master.key` in the data folder,
//! which is created with mode 0600 on first start.

use base64::Engine;
use chrono::Utc;
use credentials::keys;
use ed25519_dalek::SigningKey;
use josekit::jwe::{Dir, JweHeader};
use crate::db::Pool;
use std::path::Path;

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

/// Returns the current signing key, generating and storing the first one
/// on first start.
pub async fn current_signer(
    pool: &Pool,
    did: &str,
    master: &[u8; 32],
) -> anyhow::Result<Signer> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT fragment, encrypted_secret FROM signing_keys WHERE is_current = 1")
            .fetch_optional(pool)
            .await?;
    if let Some((fragment, encrypted)) = row {
        return Ok(Signer {
            did: did.to_owned(),
            fragment,
            key: decrypt(&encrypted, master)?,
        });
    }

    let key = keys::generate();
    let fragment = "key-1".to_owned();
    sqlx::query(
        "INSERT INTO signing_keys (fragment, public_multibase, encrypted_secret, created_at, is_current)
         VALUES ($1, $2, $3, $4, 1)",
    )
    .bind(&fragment)
    .bind(keys::public_multibase(&key.verifying_key()))
    .bind(encrypt(key.as_bytes(), master)?)
    .bind(credentials::datetime::format(Utc::now()))
    .execute(pool)
    .await?;
    tracing::info!(method = %format!("{did}#{fragment}"), "created the first signing key");
    Ok(Signer {
        did: did.to_owned(),
        fragment,
        key,
    })
}

/// Builds the DID document from every stored public key.
pub async fn did_document(pool: &Pool, did: &str) -> anyhow::Result<serde_json::Value> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT fragment, public_multibase FROM signing_keys ORDER BY created_at")
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
