//! The current status of a credential, as the wallet shows it.
//!
//! Every page reads status through [`current`], so that revocation and
//! suspension need to be added in one place only.

use chrono::{DateTime, Utc};
use issuer::db::Pool;

/// Status of a credential on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Valid,
    /// Past its `validUntil`.
    Expired,
    Revoked,
    Suspended,
}

impl Status {
    /// Translation key of the status name.
    pub fn text_key(self) -> &'static str {
        match self {
            Status::Valid => "status.valid",
            Status::Expired => "status.expired",
            Status::Revoked => "status.revoked",
            Status::Suspended => "status.suspended",
        }
    }

    /// CSS class of the status badge.
    pub fn css_class(self) -> &'static str {
        match self {
            Status::Valid => "status-valid",
            Status::Expired | Status::Revoked | Status::Suspended => "status-invalid",
        }
    }
}

/// Reads the status of credential `credential_id` whose `validUntil` is
/// `valid_until`, at time `now`: revoked or suspended as the issuer's
/// `credential_status` table records it, otherwise expired or valid.
pub async fn current(
    db: &Pool,
    credential_id: &str,
    valid_until: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Status, sqlx::Error> {
    let state: Option<(String,)> =
        sqlx::query_as("SELECT state FROM credential_status WHERE credential_id = $1")
            .bind(credential_id)
            .fetch_optional(db)
            .await?;
    match state.as_ref().map(|(state,)| state.as_str()) {
        Some("revoked") => return Ok(Status::Revoked),
        Some("suspended") => return Ok(Status::Suspended),
        _ => {}
    }
    let expired = valid_until
        .and_then(|until| credentials::datetime::parse(until).ok())
        .is_some_and(|until| until < now);
    if expired {
        return Ok(Status::Expired);
    }
    Ok(Status::Valid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn status_table_then_expiry_decide() {
        let dir = tempfile::tempdir().expect("dir");
        let db = issuer::db::connect(&issuer::config::test_database_url(dir.path()))
            .await
            .expect("database");
        let now = Utc::now();
        let past = credentials::datetime::format(now - chrono::Duration::days(1));
        let future = credentials::datetime::format(now + chrono::Duration::days(1));
        let status = |id: &'static str, until: Option<String>| {
            let db = db.clone();
            async move { current(&db, id, until.as_deref(), now).await }
        };
        assert_eq!(
            status("urn:uuid:x", None).await.expect("status"),
            Status::Valid
        );
        assert_eq!(
            status("urn:uuid:x", Some(future.clone()))
                .await
                .expect("status"),
            Status::Valid
        );
        assert_eq!(
            status("urn:uuid:x", Some(past)).await.expect("status"),
            Status::Expired
        );

        // A credential row is needed for the status row's foreign key.
        for (id, state) in [("urn:uuid:r", "revoked"), ("urn:uuid:s", "suspended")] {
            sqlx::query(
                "INSERT INTO credentials (id, member_id, kind, achievement_id, document, issued_at, valid_until, share_token)
                 VALUES ($1, NULL, 'custom', NULL, '{}', $2, NULL, $3)",
            )
            .bind(id)
            .bind(credentials::datetime::format(now))
            .bind(id.repeat(4))
            .execute(&db)
            .await
            .expect("credential");
            sqlx::query(
                "INSERT INTO credential_status (credential_id, state, reason, changed_at)
                 VALUES ($1, $2, 'test', $3)",
            )
            .bind(id)
            .bind(state)
            .bind(credentials::datetime::format(now))
            .execute(&db)
            .await
            .expect("status");
        }
        assert_eq!(
            status("urn:uuid:r", Some(future.clone()))
                .await
                .expect("status"),
            Status::Revoked
        );
        assert_eq!(
            status("urn:uuid:s", Some(future)).await.expect("status"),
            Status::Suspended
        );
    }
}
