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
/// `valid_until`, at time `now`.
pub async fn current(
    _db: &Pool,
    _credential_id: &str,
    valid_until: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Status, sqlx::Error> {
    // TODO: read revoked and suspended from the issuer's credential status
    // table once it exists; until then no credential shows as revoked or
    // suspended here.
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
    async fn expiry_decides_until_status_table() {
        let db = Pool::connect("sqlite::memory:").await.expect("pool");
        let now = Utc::now();
        let past = credentials::datetime::format(now - chrono::Duration::days(1));
        let future = credentials::datetime::format(now + chrono::Duration::days(1));
        let status = |until: Option<String>| {
            let db = db.clone();
            async move { current(&db, "urn:uuid:x", until.as_deref(), now).await }
        };
        assert_eq!(status(None).await.expect("status"), Status::Valid);
        assert_eq!(status(Some(future)).await.expect("status"), Status::Valid);
        assert_eq!(status(Some(past)).await.expect("status"), Status::Expired);
    }
}
