//! The installable web app: manifest, icon and service worker.
//!
//! The service worker keeps a copy of each wallet page and QR code the
//! member opened, and shows that copy when the phone has no network, so
//! certificates already loaded stay readable offline. Online, it always
//! fetches from the server first, so new certificates show on the next visit or
//! reload. Signing out deletes the copies.

use crate::language::Language;
use crate::WalletState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// `GET /manifest.webmanifest`: the web app manifest, in the page language.
pub async fn manifest(State(state): State<WalletState>, language: Language) -> Response {
    let name = state.plain_texts.text(language.0, "app.name", &[]);
    let manifest = json!({
        "name": name,
        "short_name": "TaaWounYa",
        "lang": language.0,
        "dir": credentials::i18n::direction(language.0),
        "start_url": "/certificates",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f6f4ef",
        "theme_color": "#14532d",
        "icons": [{"src": "/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    });
    (
        [(header::CONTENT_TYPE, "application/manifest+json")],
        manifest.to_string(),
    )
        .into_response()
}

/// `GET /icon.svg`: the app icon, a white check mark on the academy's green.
pub async fn icon() -> Response {
    (
        [(header::CONTENT_TYPE, "image/svg+xml")],
        include_str!("../static/icon.svg"),
    )
        .into_response()
}

/// `GET /service-worker.js`.
pub async fn service_worker() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../static/service-worker.js"),
    )
        .into_response()
}

/// `GET /app.js`: registers the service worker.
pub async fn app_script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../static/app.js"),
    )
        .into_response()
}
