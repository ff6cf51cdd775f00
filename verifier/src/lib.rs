//! The TaaWounYa Academy public verifier: the W3C VC API verify endpoints
//! and the pages a non-technical person uses to check a certificate.

pub mod api;
pub mod config;
pub mod offline;
pub mod pages;
pub mod scan;

use credentials::i18n::Translations;
use credentials::{Resolver, TrustedIssuer, Verifier};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// One entry of the trusted issuer file that the issuer's `export-trust`
/// command writes.
#[derive(Clone, Debug, Deserialize)]
pub struct TrustEntry {
    pub id: String,
    pub name: std::collections::BTreeMap<String, String>,
    /// The issuer's DID document, pinned so that no lookup is needed.
    pub did_document: serde_json::Value,
    /// Where the issuer publishes shared credentials
    /// (`{credentials_url}/public/credentials/{token}`).
    pub credentials_url: Option<String>,
}

#[derive(Clone)]
pub struct VerifierState {
    pub verifier: Arc<Verifier>,
    pub trust: Arc<Vec<TrustEntry>>,
    pub translations: Arc<Translations>,
    pub http: reqwest::Client,
    /// Verifications running at once; more wait for a free slot.
    pub slots: Arc<tokio::sync::Semaphore>,
    /// Status lists named by trusted credentials, kept for the offline bundle.
    pub status_lists: Arc<offline::StatusLists>,
}

/// How long a request waits for a verification slot before it gets 503.
pub const SLOT_WAIT: Duration = Duration::from_secs(5);

/// Reason a verification did not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("every verification slot stayed busy for {SLOT_WAIT:?}")]
    Busy,
    #[error("the verification task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl VerifierState {
    pub fn new(trust: Vec<TrustEntry>) -> anyhow::Result<Self> {
        let mut resolver = Resolver::new();
        for entry in &trust {
            resolver.insert(entry.did_document.clone())?;
        }
        let trusted = trust
            .iter()
            .map(|entry| TrustedIssuer {
                id: entry.id.clone(),
                name: entry.name.clone(),
            })
            .collect();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(8))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            verifier: Arc::new(Verifier::new(resolver, trusted)),
            trust: Arc::new(trust),
            translations: Arc::new(translations()?),
            http,
            slots: Arc::new(tokio::sync::Semaphore::new(verification_slots())),
            status_lists: Arc::default(),
        })
    }

    /// Runs CPU-bound verification work on the blocking pool, at most
    /// [`verification_slots`] at once, so that a burst of large documents
    /// cannot occupy every thread.
    pub async fn run<T, F>(&self, work: F) -> Result<T, RunError>
    where
        F: FnOnce(&Verifier) -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = tokio::time::timeout(SLOT_WAIT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| RunError::Busy)?
            .map_err(|_| RunError::Busy)?;
        let verifier = self.verifier.clone();
        let output = tokio::task::spawn_blocking(move || {
            let output = work(&verifier);
            drop(permit);
            output
        })
        .await?;
        Ok(output)
    }
}

/// Two verifications per core: enough to keep every core busy while one
/// request waits on its body.
fn verification_slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

/// The translation files, by language, as embedded in the binary.
pub const TRANSLATION_SOURCES: &[(&str, &str)] = &[
    ("ar", include_str!("../i18n/ar.json")),
    ("fr", include_str!("../i18n/fr.json")),
    ("zgh", include_str!("../i18n/zgh.json")),
    ("en", include_str!("../i18n/en.json")),
];

/// The verifier's texts in its four languages.
pub fn translations() -> Result<Translations, serde_json::Error> {
    Translations::from_sources(TRANSLATION_SOURCES)
}

/// Reads the trusted issuer file.
pub fn read_trust_file(path: &std::path::Path) -> anyhow::Result<Vec<TrustEntry>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "could not read trusted issuers file {}: {e}",
            path.display()
        )
    })?;
    serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("trusted issuers file {} is not valid: {e}", path.display()))
}

pub fn router(state: VerifierState) -> axum::Router {
    api::router()
        .merge(pages::router())
        .merge(scan::router())
        .merge(offline::router())
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                axum::http::header::X_CONTENT_TYPE_OPTIONS,
                axum::http::HeaderValue::from_static("nosniff"),
            ),
        )
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                axum::http::header::REFERRER_POLICY,
                axum::http::HeaderValue::from_static("no-referrer"),
            ),
        )
        .with_state(state)
}
