//! The page language: the `?lang=` link of the language switch first, then
//! the `lang` cookie that remembers it, then the browser's
//! `Accept-Language` preferences.

use crate::{cookie, WalletState};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Uri};
use axum::middleware::Next;
use axum::response::Response;
use credentials::i18n::{self, LANGUAGES};
use std::convert::Infallible;

/// Name of the cookie that remembers the chosen language.
pub const COOKIE: &str = "lang";

/// How long the language choice is remembered: one year, in seconds.
const COOKIE_MAX_AGE: i64 = 365 * 24 * 60 * 60;

/// A supported page language tag (`ar`, `fr`, `zgh` or `en`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Language(pub &'static str);

impl Language {
    /// Picks the language of a request.
    pub fn of(uri: &Uri, headers: &HeaderMap) -> Self {
        let cookie = cookie::get(headers, COOKIE);
        let explicit = query_choice(uri).or_else(|| cookie.as_deref().and_then(supported));
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        Self(i18n::negotiate(explicit, accept))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Language {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self::of(&parts.uri, &parts.headers))
    }
}

fn supported(tag: &str) -> Option<&'static str> {
    LANGUAGES.into_iter().find(|language| *language == tag)
}

/// Reads the language named by a `lang` query parameter, if it is supported.
fn query_choice(uri: &Uri) -> Option<&'static str> {
    uri.query()?
        .split('&')
        .filter_map(|pair| pair.strip_prefix("lang="))
        .find_map(supported)
}

/// Middleware that stores the language chosen with `?lang=` in the `lang`
/// cookie, so that later pages and form responses keep it.
pub async fn remember_choice(
    State(state): State<WalletState>,
    request: Request,
    next: Next,
) -> Response {
    let choice = query_choice(request.uri());
    let mut response = next.run(request).await;
    if let Some(language) = choice {
        let value = cookie::set(
            COOKIE,
            language,
            COOKIE_MAX_AGE,
            state.config.secure_cookies,
        );
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn language(
        uri: &str,
        cookie: Option<&'static str>,
        accept: Option<&'static str>,
    ) -> &'static str {
        let mut headers = HeaderMap::new();
        if let Some(cookie) = cookie {
            headers.insert(header::COOKIE, HeaderValue::from_static(cookie));
        }
        if let Some(accept) = accept {
            headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static(accept));
        }
        Language::of(&uri.parse().expect("uri"), &headers).0
    }

    #[test]
    fn query_beats_cookie_beats_browser() {
        assert_eq!(language("/?lang=zgh", Some("lang=ar"), Some("en")), "zgh");
        assert_eq!(language("/", Some("lang=ar"), Some("en")), "ar");
        assert_eq!(language("/?lang=xx", Some("lang=xx"), Some("en-GB")), "en");
        assert_eq!(language("/", None, None), "fr");
    }
}
