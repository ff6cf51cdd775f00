//! The members' web wallet of TaaWounYa Academy: passwordless sign-in and
//! the member's certificates with their QR codes and files.
//!
//! It shares the issuer's database (SQLite or PostgreSQL) and its migrations. It reads
//! members, the catalogue and credentials, and writes only the sign-in
//! tables (`sign_in_codes`, `sign_in_requests`, `sessions`) and the
//! sharing switch (`credential_sharing`).

pub mod certificates;
pub mod codes;
pub mod config;
pub mod cookie;
pub mod cooperative;
pub mod detail;
pub mod error;
pub mod identifier;
pub mod language;
pub mod offline;
pub mod pages;
pub mod pdf;
pub mod plain_text;
pub mod sender;
pub mod session;
pub mod sharing;
pub mod sign_in;
pub mod smtp;
pub mod status;
pub mod typeset;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue};
use axum::routing::{get, post};
use axum::{middleware, Router};
use config::Config;
use credentials::i18n::{Translations, LANGUAGES};
use credentials::limits::RequestBounds;
use issuer::db::Pool;
use plain_text::PlainTexts;
use sender::{OutboxSender, Sender};
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;

/// Largest request body accepted, in bytes. The wallet's forms send a few
/// hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:";

#[derive(Clone)]
pub struct WalletState {
    pub db: Pool,
    pub config: Arc<Config>,
    pub sender: Arc<dyn Sender>,
    pub texts: Arc<Translations>,
    /// The same texts unescaped, for e-mails and PDFs.
    pub plain_texts: Arc<PlainTexts>,
    /// Fonts of the printable certificate.
    pub fonts: Arc<typeset::Fonts>,
    /// Requests handled at once and the deadline of each.
    pub bounds: Arc<RequestBounds>,
}

impl WalletState {
    /// Opens the database, applying migrations, and sends codes through
    /// the SMTP server of the settings, or else to the development outbox
    /// under `DATA_DIR`.
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)?;
        let db = issuer::db::connect(&config.database_url).await?;
        let sender: Arc<dyn Sender> = match &config.smtp {
            Some(smtp) => Arc::new(smtp::SmtpSender::new(
                &smtp.url,
                &smtp.from,
                Arc::new(PlainTexts::load()?),
            )?),
            None => Arc::new(OutboxSender::new(&config.outbox_dir())),
        };
        Self::new(db, config, sender)
    }

    /// Builds a state from its parts, for callers that bring their own database
    /// pool or sender.
    pub fn new(db: Pool, config: Config, sender: Arc<dyn Sender>) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            config: Arc::new(config),
            sender,
            texts: Arc::new(translations()?),
            plain_texts: Arc::new(PlainTexts::load()?),
            fonts: Arc::new(typeset::Fonts::load()?),
            bounds: Arc::new(RequestBounds::default()),
        })
    }
}

/// The wallet's translation files, embedded from `i18n/*.json`.
pub const TRANSLATION_SOURCES: [(&str, &str); 4] = [
    ("ar", include_str!("../i18n/ar.json")),
    ("fr", include_str!("../i18n/fr.json")),
    ("zgh", include_str!("../i18n/zgh.json")),
    ("en", include_str!("../i18n/en.json")),
];

/// Parses the wallet's texts.
pub fn translations() -> Result<Translations, serde_json::Error> {
    Translations::from_sources(&TRANSLATION_SOURCES)
}

pub fn router(state: WalletState) -> Router {
    Router::new()
        .route("/", get(sign_in::start))
        .route("/sign-in", post(sign_in::request_code))
        .route("/sign-in/code", post(sign_in::verify_code))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/certificates", get(certificates::list))
        // `{id}`, `{id}.json` and `{id}.pdf`: the router has no suffix
        // patterns, so the handler dispatches on the suffix itself.
        .route("/certificates/{id}", get(detail::certificate_or_file))
        .route("/certificates/{id}/qr", get(detail::full_screen_qr))
        .route("/certificates/{id}/qr.svg", get(certificates::qr_svg))
        .route("/certificates/{id}/qr.png", get(certificates::qr_png))
        .route("/certificates/{id}/sharing", post(detail::set_sharing))
        .route("/cooperative", get(cooperative::list))
        .route("/manifest.webmanifest", get(offline::manifest))
        .route("/service-worker.js", get(offline::service_worker))
        .route("/icon.svg", get(offline::icon))
        .route("/app.js", get(offline::app_script))
        .route("/health", get(|| async { "ok" }))
        .fallback(|| async { error::WalletError::NotFound })
        .layer(middleware::from_fn(error::reject_declared_oversize))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.bounds.clone(),
            error::bound_requests,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            error::render_error_pages,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            language::remember_choice,
        ))
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        // Pages show personal data: no shared or browser cache keeps them.
        .layer(security_header(header::CACHE_CONTROL, "no-store"))
        .with_state(state)
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
}

/// Lists, per language, the translation keys that English has and that
/// language lacks. The list is empty when the files agree.
pub fn missing_translations() -> Result<Vec<(&'static str, Vec<String>)>, serde_json::Error> {
    let texts = translations()?;
    Ok(LANGUAGES
        .into_iter()
        .map(|language| (language, texts.missing(language)))
        .filter(|(_, missing)| !missing.is_empty())
        .collect())
}
