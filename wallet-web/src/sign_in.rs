//! Passwordless sign-in: a member requests a code with their e-mail
//! address or phone number, receives it through the [`Sender`], and types
//! it back to open a session.
//!
//! The response to a code request is the same page whether or not the
//! identifier belongs to a member, so the form does not tell who is one.
//!
//! [`Sender`]: crate::sender::Sender

use crate::codes::{self, Checked, Issued};
use crate::config::TrustedProxies;
use crate::error::WalletError;
use crate::identifier::Identifier;
use crate::language::Language;
use crate::pages::Page;
use crate::sender::CodeMessage;
use crate::session::{self, SignedIn};
use crate::WalletState;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use credentials::i18n::escape_html;
use serde::Deserialize;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// The client address that the per-address limit on code requests
/// counts, as text. It is the address of the TCP connection, or the one
/// that a trusted proxy put in `X-Forwarded-For` (see [`choose_client`]).
/// It is `unknown` when the server was not started with connection
/// information (tests that call the router directly).
pub struct ClientAddress(pub String);

impl axum::extract::FromRequestParts<WalletState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &WalletState,
    ) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| choose_client(info.0.ip(), &parts.headers, &state.config.trusted_proxies))
            .map_or_else(|| "unknown".to_owned(), |address| address.to_string());
        Ok(Self(address))
    }
}

/// Chooses the client address of a request whose TCP peer is `peer`.
///
/// A peer that is not a trusted proxy is the client, and its
/// `X-Forwarded-For` header is ignored because anyone can send one. From a
/// trusted proxy, the header's entries are read from right to left, and
/// the first address that is not a trusted proxy is the client. Each proxy
/// appends the address it received the request from, so the entries left
/// of that address are set by the client and never read. The peer is the
/// client when the header is missing or when an entry read is not an IP
/// address. When every entry is a trusted proxy, the left-most one is
/// the client. Addresses are returned in canonical form, so an
/// IPv4-mapped IPv6 address becomes IPv4.
pub fn choose_client(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    // Several header lines form one comma-separated list, in their order.
    // Entries are split as bytes, so bytes that are not ASCII in the part
    // a client wrote do not hide the entries proxies appended after it.
    let entries: Vec<&[u8]> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&byte| byte == b','))
        .collect();

    let mut client = peer;
    for entry in entries.into_iter().rev() {
        let Some(address) = parse_forwarded_address(entry) else {
            tracing::debug!(
                "X-Forwarded-For from a trusted proxy has an entry that is not an IP address, \
                 so the peer address is used"
            );
            return peer;
        };
        if !trusted.contains(address) {
            return address;
        }
        client = address;
    }
    client
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Parses one `X-Forwarded-For` entry: an IPv4 or IPv6 address, an IPv6
/// address in brackets, or either with a port, which some proxies add.
fn parse_forwarded_address(entry: &[u8]) -> Option<IpAddr> {
    let entry = std::str::from_utf8(entry).ok()?.trim_matches([' ', '\t']);
    let address = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse::<Ipv6Addr>().ok())
                .map(IpAddr::V6)
        })?;
    Some(address.to_canonical())
}

#[derive(Deserialize)]
pub struct CodeRequest {
    #[serde(default)]
    identifier: String,
}

#[derive(Deserialize)]
pub struct CodeSubmission {
    #[serde(default)]
    identifier: String,
    #[serde(default)]
    code: String,
}

fn page<'a>(state: &'a WalletState, language: Language) -> Page<'a> {
    Page {
        texts: &state.texts,
        language: language.0,
        path: "/",
        signed_in: false,
    }
}

/// `GET /`: the sign-in form, or the certificates of a signed-in member.
pub async fn start(
    State(state): State<WalletState>,
    language: Language,
    SignedIn(member): SignedIn,
) -> Response {
    if member.is_some() {
        return Redirect::to("/certificates").into_response();
    }
    identifier_page(&page(&state, language), StatusCode::OK, None)
}

/// `POST /sign-in`: sends a code if the identifier belongs to a member.
pub async fn request_code(
    State(state): State<WalletState>,
    language: Language,
    ClientAddress(client): ClientAddress,
    form: Result<Form<CodeRequest>, FormRejection>,
) -> Result<Response, WalletError> {
    let Form(form) = form?;
    let page = page(&state, language);
    let Some(identifier) = Identifier::parse(&form.identifier) else {
        return Ok(identifier_page(
            &page,
            StatusCode::BAD_REQUEST,
            Some("signin.error_identifier"),
        ));
    };
    if !codes::admit_request(&state.db, &client, Utc::now()).await? {
        tracing::warn!("sign-in code requests from one address over the limit");
        return Ok(identifier_page(
            &page,
            StatusCode::TOO_MANY_REQUESTS,
            Some("signin.error_rate"),
        ));
    }

    match find_member(&state, &identifier).await? {
        Some(member_id) => send_code(&state, &identifier, &member_id, language.0).await?,
        None => tracing::info!("sign-in code requested for an identifier of no member"),
    }
    // NOTE: a member's request also writes a code and sends it before this
    // response, so its response time differs slightly from a non-member's.
    Ok(code_page(&page, StatusCode::OK, &identifier, None))
}

/// Creates a code for the member and sends it, or logs the rate limit.
/// A failed delivery is logged, not shown, so the page stays the same
/// for members and non-members.
async fn send_code(
    state: &WalletState,
    identifier: &Identifier,
    member_id: &str,
    language: &'static str,
) -> Result<(), WalletError> {
    let now = Utc::now();
    let code = match codes::issue(&state.db, member_id, now).await? {
        Issued::Code(code) => code,
        Issued::RateLimited => {
            tracing::warn!(
                member = %member_id,
                "sign-in code rate limit reached, no code sent"
            );
            return Ok(());
        }
    };
    let message = CodeMessage {
        to: identifier.as_str().to_owned(),
        member_id: member_id.to_owned(),
        code,
        at: now,
        language,
    };
    match state.sender.send(&message).await {
        Ok(()) => tracing::info!(member = %member_id, "sign-in code sent"),
        Err(error) => tracing::error!(member = %member_id, %error, "sign-in code not delivered"),
    }
    Ok(())
}

/// `POST /sign-in/code`: checks the code and opens a session.
pub async fn verify_code(
    State(state): State<WalletState>,
    language: Language,
    form: Result<Form<CodeSubmission>, FormRejection>,
) -> Result<Response, WalletError> {
    let Form(form) = form?;
    let page = page(&state, language);
    let Some(identifier) = Identifier::parse(&form.identifier) else {
        return Ok(identifier_page(
            &page,
            StatusCode::BAD_REQUEST,
            Some("signin.error_identifier"),
        ));
    };
    let Some(member_id) = find_member(&state, &identifier).await? else {
        return Ok(code_page(
            &page,
            StatusCode::FORBIDDEN,
            &identifier,
            Some("signin.error_code"),
        ));
    };

    let now = Utc::now();
    match codes::check(&state.db, &member_id, &form.code, now).await? {
        Checked::Accepted => {}
        Checked::Rejected => {
            tracing::info!(member = %member_id, "sign-in code rejected");
            return Ok(code_page(
                &page,
                StatusCode::FORBIDDEN,
                &identifier,
                Some("signin.error_code"),
            ));
        }
        Checked::AttemptsExhausted => {
            // NOTE: only a member's code can run out of attempts, so this
            // response reveals to anyone who typed five wrong codes that
            // the identifier belongs to a member.
            tracing::warn!(member = %member_id, "sign-in code rejected, no attempts left");
            return Ok(identifier_page(
                &page,
                StatusCode::TOO_MANY_REQUESTS,
                Some("signin.error_rate"),
            ));
        }
    }

    let token = session::create(&state.db, &member_id, now).await?;
    tracing::info!(member = %member_id, "member signed in");
    let mut response = Redirect::to("/certificates").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(&token, state.config.secure_cookies),
    );
    Ok(response)
}

/// `POST /sign-out`: ends the session and removes its cookie.
pub async fn sign_out(
    State(state): State<WalletState>,
    headers: HeaderMap,
) -> Result<Response, WalletError> {
    if let Some(token) = session::token(&headers) {
        if let Some(member_id) = session::delete(&state.db, &token).await? {
            tracing::info!(member = %member_id, "member signed out");
        }
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session::clear_cookie(state.config.secure_cookies),
    );
    Ok(response)
}

async fn find_member(
    state: &WalletState,
    identifier: &Identifier,
) -> Result<Option<String>, sqlx::Error> {
    let query = match identifier {
        Identifier::Email(_) => "SELECT id FROM members WHERE lower(email) = $1",
        Identifier::Phone(_) => "SELECT id FROM members WHERE phone = $1",
    };
    sqlx::query_scalar(query)
        .bind(identifier.as_str())
        .fetch_optional(&state.db)
        .await
}

fn error_paragraph(page: &Page, error: Option<&str>) -> String {
    match error {
        Some(key) => format!("<p class=\"error\" role=\"alert\">{}</p>\n", page.text(key)),
        None => String::new(),
    }
}

/// Renders the form for an e-mail address or phone number.
fn identifier_page(page: &Page, status: StatusCode, error: Option<&str>) -> Response {
    let main = format!(
        "<h1>{heading}</h1>\n{error}<p>{intro}</p>\n\
         <form method=\"post\" action=\"/sign-in\">\n\
         <label for=\"identifier\">{label}</label>\n\
         <input id=\"identifier\" name=\"identifier\" type=\"text\" inputmode=\"email\" autocomplete=\"username\" \
         dir=\"ltr\" maxlength=\"254\" required>\n\
         <button type=\"submit\">{send}</button>\n</form>\n",
        heading = page.text("signin.heading"),
        error = error_paragraph(page, error),
        intro = page.text("signin.intro"),
        label = page.text("signin.identifier"),
        send = page.text("signin.send"),
    );
    page.render(status, &page.text("signin.heading"), &main)
}

/// Renders the form for the code. The identifier travels in a hidden
/// field, never in the URL.
fn code_page(
    page: &Page,
    status: StatusCode,
    identifier: &Identifier,
    error: Option<&str>,
) -> Response {
    let notice = match error {
        Some(_) => error_paragraph(page, error),
        None => format!(
            "<p class=\"notice\" role=\"status\">{}</p>\n",
            page.text("signin.code_intro")
        ),
    };
    let main = format!(
        "<h1>{heading}</h1>\n{notice}\
         <form method=\"post\" action=\"/sign-in/code\">\n\
         <input type=\"hidden\" name=\"identifier\" value=\"{identifier}\">\n\
         <label for=\"code\">{label}</label>\n\
         <input id=\"code\" name=\"code\" type=\"text\" inputmode=\"numeric\" autocomplete=\"one-time-code\" \
         pattern=\"[0-9 ]{{6,7}}\" maxlength=\"7\" dir=\"ltr\" required autofocus>\n\
         <button type=\"submit\">{verify}</button>\n</form>\n\
         <p><a href=\"/\">{again}</a></p>\n",
        heading = page.text("signin.code_heading"),
        identifier = escape_html(identifier.as_str()),
        label = page.text("signin.code"),
        verify = page.text("signin.verify"),
        again = page.text("signin.new_code"),
    );
    page.render(status, &page.text("signin.code_heading"), &main)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const PROXIES: &str = "10.0.0.0/8, 192.0.2.10, 2001:db8:ffff::/48";

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    fn forwarded_for(lines: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(
                X_FORWARDED_FOR,
                HeaderValue::from_bytes(line).expect("header value"),
            );
        }
        headers
    }

    #[test]
    fn client_address_table() {
        // (case, peer, X-Forwarded-For lines, expected client)
        #[rustfmt::skip]
        let cases: &[(&str, &str, &[&[u8]], &str)] = &[
            ("untrusted peer, no header", "203.0.113.50", &[], "203.0.113.50"),
            ("untrusted peer, spoofed header", "203.0.113.50", &[b"198.51.100.7"], "203.0.113.50"),
            ("untrusted peer names a proxy", "203.0.113.50", &[b"10.0.0.3"], "203.0.113.50"),
            ("untrusted IPv6 peer, spoofed header", "2001:db8:1::9", &[b"198.51.100.7"], "2001:db8:1::9"),
            ("trusted peer, no header", "10.0.0.2", &[], "10.0.0.2"),
            ("trusted peer, one entry", "10.0.0.2", &[b"203.0.113.7"], "203.0.113.7"),
            ("single trusted address", "192.0.2.10", &[b"203.0.113.7"], "203.0.113.7"),
            ("address next to the single trusted one", "192.0.2.11", &[b"203.0.113.7"], "192.0.2.11"),
            ("client spoofs an entry", "10.0.0.2", &[b"198.51.100.1, 203.0.113.7"], "203.0.113.7"),
            ("several hops", "10.0.0.2", &[b"203.0.113.7, 10.0.0.3, 10.1.0.4"], "203.0.113.7"),
            ("several hops and a spoofed entry", "10.0.0.2", &[b"198.51.100.1, 203.0.113.7, 10.0.0.3"], "203.0.113.7"),
            ("client spoofs a proxy address", "10.0.0.2", &[b"10.9.9.9, 203.0.113.7"], "203.0.113.7"),
            ("every entry a proxy", "10.0.0.2", &[b"10.0.0.9, 10.0.0.3"], "10.0.0.9"),
            ("several header lines", "10.0.0.2", &[b"198.51.100.1", b"203.0.113.7, 10.0.0.3"], "203.0.113.7"),
            ("spaces and tabs", "10.0.0.2", &[b" 203.0.113.7\t,\t10.0.0.3 "], "203.0.113.7"),
            ("IPv4 with port", "10.0.0.2", &[b"203.0.113.7:4711"], "203.0.113.7"),
            ("IPv6 client", "2001:db8:ffff::1", &[b"2001:db8:1::5"], "2001:db8:1::5"),
            ("IPv6 in brackets", "10.0.0.2", &[b"[2001:db8:1::5]"], "2001:db8:1::5"),
            ("IPv6 with port", "10.0.0.2", &[b"[2001:db8:1::5]:4711"], "2001:db8:1::5"),
            ("IPv6 hops", "2001:db8:ffff::1", &[b"2001:db8:1::5, 2001:db8:ffff::2"], "2001:db8:1::5"),
            ("IPv4-mapped trusted peer", "::ffff:10.0.0.2", &[b"203.0.113.7"], "203.0.113.7"),
            ("IPv4-mapped untrusted peer", "::ffff:203.0.113.50", &[b"198.51.100.7"], "203.0.113.50"),
            ("IPv4-mapped entry", "10.0.0.2", &[b"::ffff:203.0.113.7"], "203.0.113.7"),
            ("IPv4-mapped proxy entry", "10.0.0.2", &[b"203.0.113.7, ::ffff:10.0.0.3"], "203.0.113.7"),
            ("garbage left of the client", "10.0.0.2", &[b"garbage, 203.0.113.7"], "203.0.113.7"),
            ("bytes not ASCII left of the client", "10.0.0.2", &[b"\xff\xfe, 203.0.113.7"], "203.0.113.7"),
            ("garbage right-most", "10.0.0.2", &[b"203.0.113.7, garbage"], "10.0.0.2"),
            ("garbage behind a proxy entry", "10.0.0.2", &[b"203.0.113.7, garbage, 10.0.0.3"], "10.0.0.2"),
            ("bytes not ASCII right-most", "10.0.0.2", &[b"203.0.113.7, \xff"], "10.0.0.2"),
            ("empty header", "10.0.0.2", &[b""], "10.0.0.2"),
            ("empty entry", "10.0.0.2", &[b"203.0.113.7,"], "10.0.0.2"),
            ("unknown", "10.0.0.2", &[b"unknown"], "10.0.0.2"),
            ("host name", "10.0.0.2", &[b"client.example"], "10.0.0.2"),
            ("address out of range", "10.0.0.2", &[b"203.0.113.256"], "10.0.0.2"),
            ("CIDR range as entry", "10.0.0.2", &[b"203.0.113.0/24"], "10.0.0.2"),
            ("IPv6 with zone", "10.0.0.2", &[b"fe80::1%eth0"], "10.0.0.2"),
            ("Forwarded syntax", "10.0.0.2", &[b"for=203.0.113.7"], "10.0.0.2"),
        ];
        let trusted = TrustedProxies::parse(PROXIES).expect("trusted proxies");
        for (case, peer, lines, expected) in cases {
            let client = choose_client(ip(peer), &forwarded_for(lines), &trusted);
            assert_eq!(client, ip(expected), "{case}");
        }
    }

    #[test]
    fn client_address_without_trusted_proxies() {
        let headers = forwarded_for(&[b"203.0.113.7"]);
        let client = choose_client(ip("10.0.0.2"), &headers, &TrustedProxies::default());
        assert_eq!(client, ip("10.0.0.2"));
    }
}
