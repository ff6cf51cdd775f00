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
use axum::extract::rejection::FormRejection;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use credentials::limits::{Rejection, RequestBounds};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// Also returned for a credential of another member, so that a
    /// visitor cannot tell which credential ids exist.
    #[error("not found")]
    NotFound,
    #[error("the form could not be read")]
    InvalidForm,
    #[error("the request body is larger than {} bytes", crate::MAX_BODY_BYTES)]
    TooLarge,
    #[error("every request slot stayed busy")]
    Busy,
    #[error("the request took longer than its deadline")]
    TimedOut,
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
            WalletError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "page.too_large"),
            WalletError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "page.busy"),
            WalletError::TimedOut => (StatusCode::SERVICE_UNAVAILABLE, "page.timeout"),
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

impl From<FormRejection> for WalletError {
    /// Maps a body over [`crate::MAX_BODY_BYTES`] to
    /// [`WalletError::TooLarge`], and any other unreadable form to
    /// [`WalletError::InvalidForm`].
    fn from(rejection: FormRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            WalletError::TooLarge
        } else {
            WalletError::InvalidForm
        }
    }
}

/// Middleware that rejects with 413 a request whose `Content-Length`
/// declares more than [`crate::MAX_BODY_BYTES`], before reading or waiting
/// for the body.
pub async fn reject_declared_oversize(request: Request, next: Next) -> Response {
    let declared = credentials::problem::declared_length(request.headers());
    if declared.is_some_and(|length| length > crate::MAX_BODY_BYTES as u64) {
        return WalletError::TooLarge.into_response();
    }
    next.run(request).await
}

/// Middleware that runs each request within the wallet's
/// [`RequestBounds`]. A request that finds every slot busy, or outlives
/// the deadline, gets a 503 page with a sentence to try again.
pub async fn bound_requests(
    State(bounds): State<Arc<RequestBounds>>,
    request: Request,
    next: Next,
) -> Response {
    match bounds.run(next.run(request)).await {
        Ok(response) => response,
        Err(Rejection::Busy) => {
            tracing::warn!("every request slot stayed busy; request turned away");
            WalletError::Busy.into_response()
        }
        Err(Rejection::Deadline(deadline)) => {
            tracing::warn!(?deadline, "request stopped at its deadline");
            WalletError::TimedOut.into_response()
        }
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
        None if status == StatusCode::PAYLOAD_TOO_LARGE => "page.too_large",
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
