//! The public link of a credential, which its member turns off and on.
//!
//! The switch is stored in `credential_sharing`. The issuer's public
//! credential routes read the same table, so a link that is off returns
//! 404 there and on the verifier's `/v/{token}` page.

use chrono::{DateTime, Utc};
use credentials::datetime;
use issuer::db::Pool;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Reads whether the public link of `credential_id` works. A credential
/// without a row in `credential_sharing` is shared.
pub async fn is_shared(db: &Pool, credential_id: &str) -> Result<bool, sqlx::Error> {
    let shared: Option<i64> =
        sqlx::query_scalar("SELECT shared FROM credential_sharing WHERE credential_id = $1")
            .bind(credential_id)
            .fetch_optional(db)
            .await?;
    Ok(shared.is_none_or(|shared| shared == 1))
}

/// Turns the public link of `credential_id` on or off.
pub async fn set_shared(
    db: &Pool,
    credential_id: &str,
    shared: bool,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO credential_sharing (credential_id, shared, changed_at) VALUES ($1, $2, $3)
         ON CONFLICT (credential_id) DO UPDATE SET shared = excluded.shared, changed_at = excluded.changed_at",
    )
    .bind(credential_id)
    .bind(i64::from(shared))
    .bind(datetime::format(now))
    .execute(db)
    .await?;
    Ok(())
}

/// Characters encoded in a query parameter value: all but the unreserved
/// characters of RFC 3986 (letters, digits, `-`, `.`, `_`, `~`).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Fields of LinkedIn's "add a certification" form that the link fills in.
pub struct LinkedInCertification<'a> {
    pub name: &'a str,
    pub organization: &'a str,
    /// The `validFrom` of the credential.
    pub issued: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    /// The public verification link.
    pub url: &'a str,
    pub credential_id: &'a str,
}

/// Builds the link that opens LinkedIn's "add a certification" form,
/// prefilled (`https://www.linkedin.com/profile/add`, task
/// `CERTIFICATION_NAME`, as LinkedIn documents for "Add to Profile"
/// buttons). The wallet only links to it and never sends a request there.
pub fn linkedin_link(certification: &LinkedInCertification) -> String {
    use chrono::Datelike;
    let mut parameters = vec![
        ("startTask", "CERTIFICATION_NAME".to_owned()),
        ("name", certification.name.to_owned()),
        ("organizationName", certification.organization.to_owned()),
        ("issueYear", certification.issued.year().to_string()),
        ("issueMonth", certification.issued.month().to_string()),
    ];
    if let Some(until) = certification.valid_until {
        parameters.push(("expirationYear", until.year().to_string()));
        parameters.push(("expirationMonth", until.month().to_string()));
    }
    parameters.push(("certUrl", certification.url.to_owned()));
    parameters.push(("certId", certification.credential_id.to_owned()));
    let query: Vec<String> = parameters
        .iter()
        .map(|(name, value)| format!("{name}={}", utf8_percent_encode(value, QUERY_VALUE)))
        .collect();
    format!("https://www.linkedin.com/profile/add?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn linkedin_link_carries_certification() {
        let issued = Utc.with_ymd_and_hms(2025, 3, 14, 0, 0, 0).unwrap();
        let link = linkedin_link(&LinkedInCertification {
            name: "Tenue de la comptabilité",
            organization: "TaaWounYa Academy",
            issued,
            valid_until: None,
            url: "https://verify.example/v/ab12",
            credential_id: "urn:uuid:0b5c",
        });
        let expected = "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME\
            &name=Tenue%20de%20la%20comptabilit%C3%A9\
            &organizationName=TaaWounYa%20Academy\
            &issueYear=2025&issueMonth=3\
            &certUrl=https%3A%2F%2Fverify.example%2Fv%2Fab12\
            &certId=urn%3Auuid%3A0b5c";
        assert_eq!(link, expected);
    }

    #[test]
    fn linkedin_link_has_expiry_when_valid_until() {
        let issued = Utc.with_ymd_and_hms(2025, 3, 14, 0, 0, 0).unwrap();
        let until = Utc.with_ymd_and_hms(2027, 3, 14, 0, 0, 0).unwrap();
        let link = linkedin_link(&LinkedInCertification {
            name: "n",
            organization: "o",
            issued,
            valid_until: Some(until),
            url: "u",
            credential_id: "i",
        });
        assert!(
            link.contains("&expirationYear=2027&expirationMonth=3&"),
            "{link}"
        );
    }
}
