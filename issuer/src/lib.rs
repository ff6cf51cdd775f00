//! The TaaWounYa Academy issuer: records completions from the learning
//! platform, issues Open Badges 3.0 credentials and publishes its DID.

pub mod audit;
pub mod catalogue;
pub mod config;
pub mod db;
pub mod import;
pub mod issuance;
pub mod keystore;
pub mod limits;
pub mod reissue;
pub mod routes;
pub mod status;
pub mod tokens;

use crate::db::Pool;
use config::Config;
use credentials::{Resolver, TrustedIssuer, Verifier};
use keystore::Keystore;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: Pool,
    pub config: Arc<Config>,
    /// The signing keys; the current one is read again for each issuance.
    pub keys: Arc<Keystore>,
    /// Serializes issuance in this process; see `issuance`.
    pub issuance_lock: Arc<tokio::sync::Mutex<()>>,
    /// Entries of each new status list: [`status::LIST_SIZE`], smaller
    /// only in tests that fill a list.
    pub status_list_size: i64,
    /// Limits on concurrent requests, their duration and the issuance rate.
    pub limits: Arc<limits::Limits>,
}

impl AppState {
    /// Opens the database, applies migrations and opens the keystore,
    /// creating the first signing key on first start.
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)?;
        let db = db::connect(&config.database_url).await?;
        let master = keystore::master_key(config.master_key.as_deref(), &config.data_dir)?;
        let keys = Keystore::open(db.clone(), &config.did, master).await?;
        let limits = Arc::new(limits::Limits::new(config.issuance_per_minute));
        Ok(Self {
            db,
            config: Arc::new(config),
            keys: Arc::new(keys),
            issuance_lock: Arc::new(tokio::sync::Mutex::new(())),
            status_list_size: status::LIST_SIZE,
            limits,
        })
    }

    /// Builds a verifier that checks credentials against the academy's
    /// DID document as stored now, so it follows key rotations.
    pub async fn self_verifier(&self) -> anyhow::Result<Verifier> {
        Ok(Verifier::new(
            self_resolver(&self.db, &self.config.did).await?,
            vec![trusted_entry(&self.config)],
        ))
    }
}

async fn self_resolver(db: &Pool, did: &str) -> anyhow::Result<Resolver> {
    let mut resolver = Resolver::new();
    resolver.insert(keystore::did_document(db, did).await?)?;
    Ok(resolver)
}

/// The academy as an entry of a verifier's trusted issuer list.
pub fn trusted_entry(config: &Config) -> TrustedIssuer {
    TrustedIssuer {
        id: config.did.clone(),
        name: config.academy_name().0,
    }
}

/// The file a verifier loads to trust this academy with no network access:
/// the trusted issuer entry with its DID document pinned.
pub async fn trust_file(state: &AppState) -> anyhow::Result<serde_json::Value> {
    let document = keystore::did_document(&state.db, &state.config.did).await?;
    let entry = trusted_entry(&state.config);
    Ok(serde_json::json!([{
        "id": entry.id,
        "name": entry.name,
        "did_document": document,
        "credentials_url": state.config.public_url,
    }]))
}
