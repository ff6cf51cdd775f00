//! Bounds on the requests the verifier handles at once and on how long
//! each may take, so that slow or stalled clients cannot hold the service.
//!
//! Photo uploads have bounds of their own: a phone on a slow connection
//! may need minutes to send one, and those uploads must not take the
//! slots of the API and the pages. A request turned away gets 503: RFC
//! 9457 problem details from the API, one sentence on a page.

use crate::pages::{self, LanguageQuery};
use crate::VerifierState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use credentials::limits::{Rejection, RequestBounds};
use credentials::problem::ApiProblem;
use std::time::Duration;

/// Requests other than photo uploads handled at once. Most of them wait
/// on a body, a status list or a verification slot, not on a core.
pub const MAX_CONCURRENT: usize = 256;

/// Time a request other than a photo upload may take, body included.
/// It is longer than a wait for a verification slot plus the timeouts of
/// a status list fetch.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

/// Photo uploads handled at once.
pub const MAX_CONCURRENT_PHOTOS: usize = 32;

/// Time a photo upload may take: a 10 MB photo over a 3G link of
/// 500 kbit/s takes 160 seconds.
pub const PHOTO_DEADLINE: Duration = Duration::from_secs(180);

/// The path of photo uploads.
const PHOTO_PATH: &str = "/scan/photo";

/// The bounds of the verifier's requests.
#[derive(Debug)]
pub struct Bounds {
    /// Every request but photo uploads.
    pub requests: RequestBounds,
    /// Photo uploads.
    pub photos: RequestBounds,
}

impl Default for Bounds {
    fn default() -> Self {
        Self {
            requests: RequestBounds::new(
                MAX_CONCURRENT,
                credentials::limits::SLOT_WAIT,
                REQUEST_DEADLINE,
            ),
            photos: RequestBounds::new(
                MAX_CONCURRENT_PHOTOS,
                credentials::limits::SLOT_WAIT,
                PHOTO_DEADLINE,
            ),
        }
    }
}

/// Middleware that runs each request within its bounds.
pub async fn bound_requests(
    State(state): State<VerifierState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let page_language = is_page(&path)
        .then(|| pages::language(&LanguageQuery::from_uri(request.uri()), request.headers()));
    let bounds = if path == PHOTO_PATH {
        &state.bounds.photos
    } else {
        &state.bounds.requests
    };
    let rejection = match bounds.run(next.run(request)).await {
        Ok(response) => return response,
        Err(rejection) => rejection,
    };
    let (key, detail) = match rejection {
        Rejection::Busy => {
            tracing::warn!(%path, "every request slot stayed busy; request turned away");
            (
                "error.busy",
                "the verifier is busy; try again in a few seconds".to_owned(),
            )
        }
        Rejection::Deadline(deadline) => {
            tracing::warn!(%path, ?deadline, "request stopped at its deadline");
            (
                "error.timeout",
                format!(
                    "the request did not finish within {} s and was stopped; send it again",
                    deadline.as_secs()
                ),
            )
        }
    };
    let mut response = match page_language {
        Some(language) => {
            pages::home_with_error(&state, language, StatusCode::SERVICE_UNAVAILABLE, key)
                .into_response()
        }
        None => ApiProblem::new(StatusCode::SERVICE_UNAVAILABLE, detail).into_response(),
    };
    if rejection == Rejection::Busy {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

/// Returns whether `path` gets an HTML page for a person to read, rather
/// than JSON or a file for a script.
fn is_page(path: &str) -> bool {
    match path {
        "/" | "/check" | "/offline" | PHOTO_PATH => true,
        _ => (path.starts_with("/v/") || path.starts_with("/V/")) && !path.ends_with("/compact"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_paths_are_recognised() {
        for page in ["/", "/check", "/offline", "/scan/photo", "/v/abc", "/V/ABC"] {
            assert!(is_page(page), "{page}");
        }
        for api in [
            "/credentials/verify",
            "/presentations/verify",
            "/v/abc/compact",
            "/offline/bundle.json",
            "/static/verifier.js",
            "/health",
        ] {
            assert!(!is_page(api), "{api}");
        }
    }
}
