//! The TaaWounYa Academy public verifier: the W3C VC API verify endpoints
//! and the pages a non-technical person uses to check a certificate.

pub mod api;
pub mod config;
pub mod pages;

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
        })
    }
}

/// The verifier's texts in its four languages.
pub fn translations() -> Result<Translations, serde_json::Error> {
    Translations::from_sources(&[
        ("ar", include_str!("../i18n/ar.json")),
        ("fr", include_str!("../i18n/fr.json")),
        ("zgh", include_str!("../i18n/zgh.json")),
        ("en", include_str!("../i18n/en.json")),
    ])
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
