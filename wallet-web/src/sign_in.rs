//! Passwordless sign-in: a member requests a code with their e-mail
//! address or phone number, receives it through the [`Sender`], and types
//! it back to open a session.
//!
//! The response to a code request is the same page whether or not the
//! identifier belongs to a member, so the form does not tell who is one.
//!
//! [`Sender`]: crate::sender::Sender

use crate::codes::{self, Checked, Issued};
use crate::error::WalletError;
use crate::identifier::Identifier;
use crate::language::Language;
use crate::pages::Page;
use crate::sender::CodeMessage;
use crate::session::{self, SignedIn};
use crate::WalletState;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use credentials::i18n::escape_html;
use serde::Deserialize;

/// The address of the connection a request came on, as text, or
/// `unknown` when the server was not started with connection information
/// (tests that call the router directly).
// TODO: read the client address from a trusted `Forwarded` header. Behind
// a reverse proxy every request comes from the proxy, so the per-address
// limit then applies to all members together.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip().to_string())
            .unwrap_or_else(|| "unknown".to_owned());
        Ok(Self(address))
    }
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
    let Form(form) = form.map_err(|_| WalletError::InvalidForm)?;
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
    let Form(form) = form.map_err(|_| WalletError::InvalidForm)?;
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
