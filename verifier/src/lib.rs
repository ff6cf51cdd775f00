//! The TaaWounYa Academy public verifier: the W3C VC API verify endpoints
//! and the pages a non-technical person uses to check a certificate.

pub mod api;
pub mod config;
pub mod fetch;
pub mod limits;
pub mod offline;
pub mod pages;
pub mod scan;

use chrono::Utc;
use credentials::i18n::Translations;
use credentials::verify::{FetchedList, PresentationReport, StatusLists};
use credentials::{Report, Resolver, TrustedIssuer, Verifier};
use fetch::{FetchLimits, Fetcher};
use serde::Deserialize;
use serde_json::Value;
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
    /// The issuer's public origin: shared credentials are read from
    /// `{credentials_url}/public/credentials/{token}`, and status lists under
    /// it are fetched as configured (`http` and local addresses allowed).
    pub credentials_url: Option<String>,
}

#[derive(Clone)]
pub struct VerifierState {
    pub verifier: Arc<Verifier>,
    pub trust: Arc<Vec<TrustEntry>>,
    pub translations: Arc<Translations>,
    /// The guarded client for every request made on behalf of a caller.
    pub fetcher: Fetcher,
    /// Verifications running at once; more wait for a free slot.
    pub slots: Arc<tokio::sync::Semaphore>,
    /// Status lists named by trusted credentials, kept for the offline bundle.
    pub status_lists: Arc<offline::StatusLists>,
    /// Requests handled at once, and the time each may take.
    pub bounds: Arc<limits::Bounds>,
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
    /// State for the service, with the guarded client allowing the trusted
    /// issuers' `credentials_url` origins.
    pub fn new(trust: Vec<TrustEntry>) -> anyhow::Result<Self> {
        let origins = configured_origins(&trust);
        let fetcher = Fetcher::new(&origins, FetchLimits::default())?;
        Self::with_fetcher(trust, fetcher)
    }

    /// State with a given client, so tests can pass one that reaches their
    /// loopback servers.
    pub fn with_fetcher(trust: Vec<TrustEntry>, fetcher: Fetcher) -> anyhow::Result<Self> {
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
        Ok(Self {
            verifier: Arc::new(Verifier::new(resolver, trusted)),
            trust: Arc::new(trust),
            translations: Arc::new(translations()?),
            fetcher,
            slots: Arc::new(tokio::sync::Semaphore::new(verification_slots())),
            status_lists: Arc::default(),
            bounds: Arc::default(),
        })
    }

    /// Returns the same state with other request bounds, for tests.
    #[must_use]
    pub fn with_bounds(mut self, bounds: limits::Bounds) -> Self {
        self.bounds = Arc::new(bounds);
        self
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

impl VerifierState {
    /// Verifies a credential with its status: the offline checks on the
    /// blocking pool, then the status lists through the guarded client,
    /// then their verification.
    pub async fn verify_credential(&self, credential: Value) -> Result<Report, RunError> {
        let report = self
            .run(move |verifier| verifier.verify_credential(&credential, Utc::now()))
            .await?;
        if !report.status_pending() {
            return Ok(report);
        }
        let lists = self
            .fetch_status_lists(report.status_lists_to_fetch())
            .await;
        self.run(move |verifier| {
            let mut report = report;
            verifier.check_status(&mut report, &lists, Utc::now());
            report
        })
        .await
    }

    /// Verifies a presentation and the status of each credential in it.
    pub async fn verify_presentation(
        &self,
        presentation: Value,
        challenge: Option<String>,
        domain: Option<String>,
    ) -> Result<PresentationReport, RunError> {
        let report = self
            .run(move |verifier| {
                verifier.verify_presentation(
                    &presentation,
                    challenge.as_deref(),
                    domain.as_deref(),
                    Utc::now(),
                )
            })
            .await?;
        let mut urls: Vec<String> = Vec::new();
        for url in report
            .credentials
            .iter()
            .flat_map(Report::status_lists_to_fetch)
        {
            if !urls.contains(&url) {
                urls.push(url);
            }
        }
        if !report.credentials.iter().any(Report::status_pending) {
            return Ok(report);
        }
        let lists = self.fetch_status_lists(urls).await;
        self.run(move |verifier| {
            let mut report = report;
            verifier.check_presentation_status(&mut report, &lists, Utc::now());
            report
        })
        .await
    }

    /// Fetches status lists concurrently through the guarded client. Only
    /// the first [`MAX_STATUS_LISTS`] are fetched, and the others leave
    /// their entries' status unknown.
    pub async fn fetch_status_lists(&self, urls: Vec<String>) -> StatusLists {
        let mut tasks = tokio::task::JoinSet::new();
        for url in urls.into_iter().take(MAX_STATUS_LISTS) {
            let fetcher = self.fetcher.clone();
            tasks.spawn(async move {
                let list = fetch_status_list(&fetcher, &url).await;
                if let Err(reason) = &list {
                    tracing::warn!(%url, %reason, "status list not available");
                }
                (url, list)
            });
        }
        let mut lists = StatusLists::new();
        while let Some(joined) = tasks.join_next().await {
            if let Ok((url, list)) = joined {
                lists.insert(url, list);
            }
        }
        lists
    }
}

/// Most status lists fetched for one request: two per credential for the
/// academy's own, and a few credentials in a presentation.
pub const MAX_STATUS_LISTS: usize = 8;

/// Media types a status list credential is accepted in.
const STATUS_LIST_TYPES: [&str; 4] = [
    "application/vc",
    "application/vc+ld+json",
    "application/ld+json",
    "application/json",
];

async fn fetch_status_list(fetcher: &Fetcher, url: &str) -> Result<FetchedList, String> {
    let fetched = fetcher
        .get(
            url,
            "application/vc, application/vc+ld+json;q=0.9, application/json;q=0.8",
        )
        .await
        .map_err(|error| error.to_string())?;
    if fetched.status != 200 {
        return Err(format!("the server answered HTTP {}", fetched.status));
    }
    let media_type = fetched
        .content_type
        .as_deref()
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !STATUS_LIST_TYPES.contains(&media_type.as_str()) {
        return Err(format!(
            "the content type {media_type:?} is not a credential type"
        ));
    }
    let document = credentials::json::parse_strict(&fetched.body)
        .map_err(|error| format!("the body is not valid JSON: {error}"))?;
    Ok(FetchedList {
        document,
        fetched_at: fetched.fetched_at,
    })
}

/// Collects the trusted issuers' `credentials_url` origins.
fn configured_origins(trust: &[TrustEntry]) -> Vec<String> {
    trust
        .iter()
        .filter_map(|entry| entry.credentials_url.clone())
        .collect()
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
        .fallback(pages::not_found)
        .method_not_allowed_fallback(pages::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::bound_requests,
        ))
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
        // Pages, scripts and the offline bundle shrink to a quarter to a
        // third with gzip (docs/compact-form.md), which matters on 3G.
        // Images and tiny bodies are sent as they are.
        .layer(tower_http::compression::CompressionLayer::new().gzip(true))
        .with_state(state)
}
