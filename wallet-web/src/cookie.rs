//! Reading the `Cookie` request header and writing `Set-Cookie` values.

use axum::http::{header, HeaderMap, HeaderValue};

/// Returns the value of cookie `name` from any `Cookie` header of the request.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"').to_owned())
}

/// Builds a `Set-Cookie` value for a cookie that scripts cannot read and that
/// cross-site requests other than top-level navigation do not carry.
/// `max_age_seconds` 0 deletes the cookie. `value` must be a cookie-safe
/// token (hex digits or a language tag here).
pub fn set(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> HeaderValue {
    let mut cookie =
        format!("{name}={value}; Max-Age={max_age_seconds}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        cookie.push_str("; Secure");
    }
    // Every caller passes ASCII names and values, so the header is valid.
    // The fallback sets and deletes nothing.
    HeaderValue::from_str(&cookie)
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cookie_among_several_headers() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; lang=ar"));
        headers.append(header::COOKIE, HeaderValue::from_static("session=abc"));
        assert_eq!(get(&headers, "lang").as_deref(), Some("ar"));
        assert_eq!(get(&headers, "session").as_deref(), Some("abc"));
        assert_eq!(get(&headers, "missing"), None);
    }

    #[test]
    fn secure_flag_follows_setting() {
        assert!(set("s", "v", 10, true)
            .to_str()
            .expect("ascii")
            .ends_with("; Secure"));
        assert!(!set("s", "v", 10, false)
            .to_str()
            .expect("ascii")
            .contains("Secure"));
    }
}
