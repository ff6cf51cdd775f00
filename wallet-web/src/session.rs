//! Sessions of signed-in members.
//!
//! The session cookie contains a random 256-bit token. The database stores
//! only its SHA-256, so a copy of the database cannot be used to sign in.

use crate::codes::hash;
use crate::error::WalletError;
use crate::{cookie, WalletState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use chrono::{DateTime, Duration, Utc};
use credentials::datetime;
use issuer::db::Pool;
use rand::RngCore;

/// Name of the session cookie.
pub const COOKIE: &str = "wallet_session";

/// How long a session lasts after sign-in.
pub const LIFETIME: Duration = Duration::days(30);

/// The signed-in member, as the pages show them.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub name_ar: String,
    pub name_latin: String,
    pub cooperative_id: String,
    /// Whether the member manages their cooperative, and so may read the
    /// certificates of its members.
    pub is_manager: bool,
}

/// Creates a session for `member_id` and returns its token, the cookie
/// value.
pub async fn create(db: &Pool, member_id: &str, now: DateTime<Utc>) -> Result<String, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(datetime::format(now))
        .execute(db)
        .await?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    sqlx::query("INSERT INTO sessions (token_hash, member_id, expires_at) VALUES ($1, $2, $3)")
        .bind(hash(&token))
        .bind(member_id)
        .bind(datetime::format(now + LIFETIME))
        .execute(db)
        .await?;
    Ok(token)
}

/// Reads the session token of a request, if it has a well-formed one.
pub fn token(headers: &HeaderMap) -> Option<String> {
    cookie::get(headers, COOKIE)
        .filter(|token| token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Looks up the member whose live session `token` belongs to.
pub async fn member(
    db: &Pool,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Member>, sqlx::Error> {
    let row: Option<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT m.id, m.name_ar, m.name_latin, m.cooperative_id, m.role
         FROM sessions s JOIN members m ON m.id = s.member_id
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(hash(token))
    .bind(datetime::format(now))
    .fetch_optional(db)
    .await?;
    Ok(
        row.map(|(id, name_ar, name_latin, cooperative_id, role)| Member {
            id,
            name_ar,
            name_latin,
            cooperative_id,
            is_manager: role == "manager",
        }),
    )
}

/// Deletes the session of `token`. Returns the member it belonged to.
pub async fn delete(db: &Pool, token: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM sessions WHERE token_hash = $1 RETURNING member_id")
        .bind(hash(token))
        .fetch_optional(db)
        .await
}

/// Builds the `Set-Cookie` value that stores a new session token.
pub fn set_cookie(token: &str, secure: bool) -> HeaderValue {
    cookie::set(COOKIE, token, LIFETIME.num_seconds(), secure)
}

/// Builds the `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    cookie::set(COOKIE, "", 0, secure)
}

/// Extractor of the signed-in member, `None` for visitors without a live
/// session.
pub struct SignedIn(pub Option<Member>);

impl FromRequestParts<WalletState> for SignedIn {
    type Rejection = WalletError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WalletState,
    ) -> Result<Self, WalletError> {
        let Some(token) = token(&parts.headers) else {
            return Ok(Self(None));
        };
        Ok(Self(member(&state.db, &token, Utc::now()).await?))
    }
}
