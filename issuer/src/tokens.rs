//! Scoped API access tokens.
//!
//! A token is `<id>.<secret>`: a public 16-hex-digit id that names it in
//! lists and in the audit log, and 256 random bits (base64url). It is
//! shown once, at creation; the database stores only its SHA-256, which is
//! safe for random secrets of this length. A presented token is found by
//! its id and its hash is compared in constant time.

use crate::audit::{self, Action};
use crate::db::Pool;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use credentials::datetime;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Maximum lifetime of a new token, in days.
pub const MAX_EXPIRY_DAYS: i64 = 3650;

/// A permission that a token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Scope {
    /// Report completions (`POST /completions`): the learning platform.
    #[serde(rename = "completions:write")]
    CompletionsWrite,
    /// Issue credentials through the VC API.
    #[serde(rename = "credentials:issue")]
    CredentialsIssue,
    /// Change the status of credentials (revoke, suspend, reinstate).
    #[serde(rename = "credentials:status")]
    CredentialsStatus,
    /// Read stored credentials by id.
    #[serde(rename = "credentials:read")]
    CredentialsRead,
    /// List and manage the signing keys.
    #[serde(rename = "keys:manage")]
    KeysManage,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::CompletionsWrite,
        Scope::CredentialsIssue,
        Scope::CredentialsStatus,
        Scope::CredentialsRead,
        Scope::KeysManage,
    ];

    /// The scopes of `ISSUER_STAFF_TOKEN`: everything but reporting
    /// completions.
    pub const STAFF: [Scope; 4] = [
        Scope::CredentialsIssue,
        Scope::CredentialsStatus,
        Scope::CredentialsRead,
        Scope::KeysManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::CompletionsWrite => "completions:write",
            Scope::CredentialsIssue => "credentials:issue",
            Scope::CredentialsStatus => "credentials:status",
            Scope::CredentialsRead => "credentials:read",
            Scope::KeysManage => "keys:manage",
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == value)
            .ok_or_else(|| {
                let known: Vec<&str> = Scope::ALL.iter().map(|scope| scope.as_str()).collect();
                format!(
                    "unknown scope {value:?}; known scopes: {}",
                    known.join(", ")
                )
            })
    }
}

/// The authenticated sender of a request, with its scopes.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The audit log's name for the caller: `token:<id>`, or `platform`
    /// and `staff` for the tokens set in the environment.
    pub actor: String,
    pub scopes: Vec<Scope>,
}

/// A token as `issuer tokens list` shows it; never the secret.
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

/// A token just created: the only time its secret is available.
#[derive(Debug)]
pub struct CreatedToken {
    pub id: String,
    pub token: String,
    pub expires_at: String,
}

/// An error creating or revoking a token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token name must be 1 to 100 characters")]
    InvalidName,
    #[error("a token needs at least one --scope")]
    NoScope,
    #[error("--expires-in-days must be from 1 to {MAX_EXPIRY_DAYS}")]
    InvalidExpiry,
    #[error("no access token has id {0:?}; `issuer tokens list` shows the ids")]
    NotFound(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Returns true when `a` and `b` are equal, taking time that depends on
/// their lengths only.
pub fn digests_equal(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Creates a token and records it in the audit log.
pub async fn create(
    pool: &Pool,
    name: &str,
    scopes: &[Scope],
    expires_in_days: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<CreatedToken, TokenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(TokenError::InvalidName);
    }
    if scopes.is_empty() {
        return Err(TokenError::NoScope);
    }
    if !(1..=MAX_EXPIRY_DAYS).contains(&expires_in_days) {
        return Err(TokenError::InvalidExpiry);
    }
    let mut scope_names: Vec<&str> = scopes.iter().map(|scope| scope.as_str()).collect();
    scope_names.sort_unstable();
    scope_names.dedup();

    let mut id_bytes = [0u8; 8];
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id_bytes);
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    let id = hex::encode(id_bytes);
    let token = format!(
        "{id}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let expires_at = datetime::format(now + Duration::days(expires_in_days));

    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO access_tokens (id, name, token_hash, scopes, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(name)
    .bind(hash(&token))
    .bind(scope_names.join(" "))
    .bind(datetime::format(now))
    .bind(&expires_at)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &audit::Entry {
            actor,
            action: Action::TokenCreate,
            subject: &id,
            reason: None,
            details: json!({ "scopes": scope_names, "expires_at": expires_at }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedToken {
        id,
        token,
        expires_at,
    })
}

/// Returns every token, newest first.
pub async fn list(pool: &Pool) -> sqlx::Result<Vec<TokenInfo>> {
    let rows: Vec<(String, String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, name, scopes, created_at, expires_at, revoked_at FROM access_tokens
         ORDER BY created_at DESC, id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, scopes, created_at, expires_at, revoked_at)| TokenInfo {
                id,
                name,
                scopes: scopes.split_whitespace().map(str::to_owned).collect(),
                created_at,
                expires_at,
                revoked_at,
            },
        )
        .collect())
}

/// Revokes a token: requests carrying it are rejected from now on.
/// Revoking a revoked token changes nothing.
pub async fn revoke(
    pool: &Pool,
    id: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), TokenError> {
    let mut tx = pool.begin().await?;
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT revoked_at FROM access_tokens WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    match row {
        None => return Err(TokenError::NotFound(id.to_owned())),
        Some((Some(_),)) => return Ok(()),
        Some((None,)) => {}
    }
    sqlx::query("UPDATE access_tokens SET revoked_at = $1 WHERE id = $2")
        .bind(datetime::format(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        &audit::Entry {
            actor,
            action: Action::TokenRevoke,
            subject: id,
            reason: None,
            details: json!({}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Returns the caller a stored token names, or `None` when the token is
/// unknown, malformed, revoked or expired.
pub async fn authenticate(
    pool: &Pool,
    presented: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Caller>> {
    let Some((id, _)) = presented.split_once('.') else {
        return Ok(None);
    };
    if id.len() != 16 || !id.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let row: Option<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT token_hash, scopes, expires_at, revoked_at FROM access_tokens WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some((stored_hash, scopes, expires_at, revoked_at)) = row else {
        return Ok(None);
    };
    if !digests_equal(stored_hash.as_bytes(), hash(presented).as_bytes()) {
        return Ok(None);
    }
    if revoked_at.is_some() {
        return Ok(None);
    }
    // A stored expiry that does not parse counts as expired.
    if !datetime::parse(&expires_at).is_ok_and(|expires_at| expires_at > now) {
        return Ok(None);
    }
    Ok(Some(Caller {
        actor: format!("token:{id}"),
        scopes: scopes
            .split_whitespace()
            .filter_map(|scope| scope.parse().ok())
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
        }
        assert!("keys:delete".parse::<Scope>().is_err());
    }

    #[test]
    fn digests_compare_by_content() {
        assert!(digests_equal(b"abc", b"abc"));
        assert!(!digests_equal(b"abc", b"abd"));
        assert!(!digests_equal(b"abc", b"abcd"));
    }
}
