//! Errors of the wallet's handlers, shown as one translated sentence.
//!
//! A handler returns [`WalletError`]. Its response carries an
//! [`ErrorPage`] extension that [`render_error_pages`] turns into a page in
//! the visitor's language, because only the middleware has the request
//! that the language comes from. Internal errors are logged once, where the
//! response is built, and never shown.

use crate::language::Language;
use crate::pages::Page;
use crate::WalletState;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// Also returned for a credential of another member, so that a
    /// visitor cannot tell which credential ids exist.
    #[error("not found")]
    NotFound,
    #[error("the form could not be read")]
    InvalidForm,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The sentence an error response shows, by translation key.
#[derive(Clone, Copy, Debug)]
pub struct ErrorPage {
    pub key: &'static str,
}

impl IntoResponse for WalletError {
    fn into_response(self) -> Response {
        let (status, key) = match &self {
            WalletError::NotFound => (StatusCode::NOT_FOUND, "page.not_found"),
            WalletError::InvalidForm => (StatusCode::BAD_REQUEST, "page.bad_request"),
            WalletError::Database(_) | WalletError::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "page.internal_error")
            }
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(ErrorPage { key });
        response
    }
}

/// Middleware that gives every error response a page: those of
/// [`WalletError`], and the bodiless or plain-text ones axum itself
/// produces (no route, wrong method, body too large).
pub async fn render_error_pages(
    State(state): State<WalletState>,
    request: Request,
    next: Next,
) -> Response {
    let language = Language::of(request.uri(), request.headers());
    let response = next.run(request).await;
    let status = response.status();
    let key = match response.extensions().get::<ErrorPage>() {
        Some(page) => page.key,
        None if !(status.is_client_error() || status.is_server_error()) || is_html(&response) => {
            return response;
        }
        None if status == StatusCode::NOT_FOUND => "page.not_found",
        None if status.is_server_error() => "page.internal_error",
        None => "page.bad_request",
    };
    let page = Page {
        texts: &state.texts,
        language: language.0,
        path: "/",
        signed_in: false,
    };
    page.message(status, key)
}

fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"))
}
