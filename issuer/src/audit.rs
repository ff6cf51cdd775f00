//! The append-only audit log: who changed which credential, key or access
//! token, when and why.
//!
//! Entries are written in the transaction of the change they describe, so
//! a change and its entry are stored together or not at all. The schema
//! rejects updates and deletions of entries.

use crate::db::{Connection, Param, Pool};
use chrono::{DateTime, Utc};
use credentials::datetime;
use serde::Serialize;
use serde_json::Value;

/// A kind of change recorded in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Issue,
    Revoke,
    Suspend,
    Reinstate,
    KeyAdd,
    KeyActivate,
    KeyCompromise,
    Reissue,
    TokenCreate,
    TokenRevoke,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Issue => "issue",
            Action::Revoke => "revoke",
            Action::Suspend => "suspend",
            Action::Reinstate => "reinstate",
            Action::KeyAdd => "key_add",
            Action::KeyActivate => "key_activate",
            Action::KeyCompromise => "key_compromise",
            Action::Reissue => "reissue",
            Action::TokenCreate => "token_create",
            Action::TokenRevoke => "token_revoke",
        }
    }
}

/// One change to record. `actor` names who made it: `token:<id>` for an
/// access token, `platform` or `staff` for the tokens set in the
/// environment, `cli:<user>` for the command-line tool.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub actor: &'a str,
    pub action: Action,
    pub subject: &'a str,
    pub reason: Option<&'a str>,
    /// Further internal ids as a JSON object; never personal data.
    pub details: Value,
}

/// Columns of `audit_log` in the rows of [`row`].
pub const COLUMNS: [&str; 6] = ["at", "actor", "action", "subject", "reason", "details"];

/// Builds the `audit_log` row of `entry`.
pub fn row(entry: &Entry<'_>, at: DateTime<Utc>) -> Vec<Param> {
    vec![
        Param::Text(datetime::format(at)),
        Param::Text(entry.actor.to_owned()),
        Param::Text(entry.action.as_str().to_owned()),
        Param::Text(entry.subject.to_owned()),
        entry
            .reason
            .map_or(Param::Null, |reason| Param::Text(reason.to_owned())),
        Param::Text(entry.details.to_string()),
    ]
}

/// Appends `entry` to the log, on the connection or transaction of the
/// change it describes.
pub async fn record(
    conn: &mut Connection,
    entry: &Entry<'_>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    crate::db::insert_rows(conn, "audit_log", &COLUMNS, &[row(entry, at)]).await
}

/// A stored log entry.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StoredEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub reason: Option<String>,
    pub details: String,
}

/// Returns the newest `limit` entries, newest first, optionally only those
/// about `subject`.
pub async fn recent(
    pool: &Pool,
    subject: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<StoredEntry>> {
    sqlx::query_as(
        "SELECT id, at, actor, action, subject, reason, details FROM audit_log
         WHERE $1 IS NULL OR subject = $1
         ORDER BY id DESC LIMIT $2",
    )
    .bind(subject)
    .bind(limit)
    .fetch_all(pool)
    .await
}
