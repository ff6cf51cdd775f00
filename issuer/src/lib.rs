//! The TaaWounYa Academy issuer: records completions from the learning
//! platform, issues Open Badges 3.0 credentials and publishes its DID.

pub mod audit;
pub mod catalogue;
pub mod config;
pub mod db;
pub mod issuance;
pub mod keystore;
pub mod routes;
pub mod status;

use config::Config;
use credentials::{Resolver, TrustedIssuer, Verifier};
use keystore::Signer;
use crate::db::Pool;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: Pool,
    pub config: Arc<Config>,
    pub signer: Arc<Signer>,
    /// Serializes issuance in this process; see `issuance`.
    pub issuance_lock: Arc<tokio::sync::Mutex<()>>,
    /// Checks what the issue endpoint signs against the academy's own keys.
    pub self_verifier: Arc<Verifier>,
    /// Entries of each new status list: [`status::LIST_SIZE`], smaller
    /// only in tests that fill a list.
    pub status_list_size: i64,
}

impl AppState {
    /// Opens the database, applies migrations and loads the signing key,
    /// creating it on first start.
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)?;
        let db = db::connect(&config.database_url).await?;
        let master = keystore::master_key(config.master_key.as_deref(), &config.data_dir)?;
        let signer = keystore::current_signer(&db, &config.did, &master).await?;
        let self_verifier = Verifier::new(
            self_resolver(&db, &config.did).await?,
            vec![trusted_entry(&config)],
        );
        Ok(Self {
            db,
            config: Arc::new(config),
            signer: Arc::new(signer),
            issuance_lock: Arc::new(tokio::sync::Mutex::new(())),
            self_verifier: Arc::new(self_verifier),
            status_list_size: status::LIST_SIZE,
        })
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
