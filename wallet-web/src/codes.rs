//! One-time sign-in codes: creation with a rate limit, and checking.
//!
//! Only the SHA-256 of a code is stored. Times in `sign_in_codes` are
//! `YYYY-MM-DDThh:mm:ssZ` text (`credentials::datetime::format`), so SQL
//! compares them as strings in chronological order.

use chrono::{DateTime, Duration, Utc};
use credentials::datetime;
use issuer::db::Pool;
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How long a code works after it is created.
pub const CODE_LIFETIME: Duration = Duration::minutes(10);

/// Codes a member can receive in [`RATE_WINDOW`].
pub const MAX_CODES_PER_WINDOW: i64 = 5;

/// The window of the code rate limit.
pub const RATE_WINDOW: Duration = Duration::hours(1);

/// Wrong attempts after which a code stops working.
pub const MAX_ATTEMPTS: i64 = 5;

/// Code requests one client address can make in [`RATE_WINDOW`], whether
/// or not they name a member. Each member receives at most
/// [`MAX_CODES_PER_WINDOW`] codes, so this bounds how many members one
/// address can send codes to.
pub const MAX_REQUESTS_PER_ADDRESS: i64 = 20;

/// Draws a fresh code: six decimal digits, uniformly from the operating
/// system's random source.
pub fn generate() -> String {
    let number: u32 = rand::rngs::OsRng.gen_range(0..1_000_000);
    format!("{number:06}")
}

/// Lowercase hex SHA-256, the form codes and session tokens are stored in.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[derive(Debug, PartialEq, Eq)]
pub enum Issued {
    /// The code to send to the member.
    Code(String),
    /// The member already received [`MAX_CODES_PER_WINDOW`] codes in the
    /// last [`RATE_WINDOW`].
    RateLimited,
}

/// Creates and stores a code for `member_id`, unless the rate limit is
/// reached.
pub async fn issue(db: &Pool, member_id: &str, now: DateTime<Utc>) -> Result<Issued, sqlx::Error> {
    // Rows of codes created before the rate window serve no purpose.
    sqlx::query("DELETE FROM sign_in_codes WHERE expires_at < $1")
        .bind(datetime::format(now + CODE_LIFETIME - RATE_WINDOW))
        .execute(db)
        .await?;

    // The table has no creation time: a code created within the window
    // expires after `now - RATE_WINDOW + CODE_LIFETIME`. Counting and
    // inserting in one statement keeps concurrent requests from passing
    // the limit together, because SQLite runs one write at a time.
    let code = generate();
    let inserted = sqlx::query(
        "INSERT INTO sign_in_codes (member_id, code_hash, expires_at, attempts, used)
         SELECT $1, $2, $3, 0, 0
         WHERE (SELECT COUNT(*) FROM sign_in_codes WHERE member_id = $4 AND expires_at > $5) < $6",
    )
    .bind(member_id)
    .bind(hash(&code))
    .bind(datetime::format(now + CODE_LIFETIME))
    .bind(member_id)
    .bind(datetime::format(now - RATE_WINDOW + CODE_LIFETIME))
    .bind(MAX_CODES_PER_WINDOW)
    .execute(db)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(Issued::RateLimited);
    }
    Ok(Issued::Code(code))
}

/// Records a code request from `client_address`. Returns `false`, and
/// records nothing, when the address already made
/// [`MAX_REQUESTS_PER_ADDRESS`] requests in the last [`RATE_WINDOW`].
pub async fn admit_request(
    db: &Pool,
    client_address: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let window_start = datetime::format(now - RATE_WINDOW);
    sqlx::query("DELETE FROM sign_in_requests WHERE requested_at <= $1")
        .bind(&window_start)
        .execute(db)
        .await?;
    // Counting and inserting in one statement, as in `issue`.
    let inserted = sqlx::query(
        "INSERT INTO sign_in_requests (client_address, requested_at)
         SELECT $1, $2
         WHERE (SELECT COUNT(*) FROM sign_in_requests
                WHERE client_address = $3 AND requested_at > $4) < $5",
    )
    .bind(client_address)
    .bind(datetime::format(now))
    .bind(client_address)
    .bind(&window_start)
    .bind(MAX_REQUESTS_PER_ADDRESS)
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// The code was live and is now used.
    Accepted,
    /// Wrong, expired, used or malformed.
    Rejected,
    /// Wrong, and the member has no live code left: every code reached
    /// [`MAX_ATTEMPTS`].
    AttemptsExhausted,
}

/// Checks `submitted` against the member's live codes and, on a match,
/// marks every code of the member used.
pub async fn check(
    db: &Pool,
    member_id: &str,
    submitted: &str,
    now: DateTime<Utc>,
) -> Result<Checked, sqlx::Error> {
    let submitted: String = submitted.chars().filter(|c| !c.is_whitespace()).collect();
    if submitted.len() != 6 || !submitted.bytes().all(|b| b.is_ascii_digit()) {
        // Cannot match any code, so it costs no attempt.
        return Ok(Checked::Rejected);
    }
    let now_text = datetime::format(now);

    // Codes are fetched by member, not by hash, and every one is compared
    // in constant time, so the response time does not depend on the stored hashes.
    let live: Vec<(i64, String)> = sqlx::query_as(
        "SELECT rowid, code_hash FROM sign_in_codes
         WHERE member_id = $1 AND used = 0 AND attempts < $2 AND expires_at > $3",
    )
    .bind(member_id)
    .bind(MAX_ATTEMPTS)
    .bind(&now_text)
    .fetch_all(db)
    .await?;
    let submitted_hash = hash(&submitted);
    let mut matched = None;
    for (rowid, stored) in &live {
        if bool::from(stored.as_bytes().ct_eq(submitted_hash.as_bytes())) {
            matched = Some(*rowid);
        }
    }

    if let Some(rowid) = matched {
        // The conditions repeat the ones above, so that of two concurrent
        // requests with the same code only one uses it.
        let used = sqlx::query(
            "UPDATE sign_in_codes SET used = 1
             WHERE rowid = $1 AND used = 0 AND attempts < $2 AND expires_at > $3",
        )
        .bind(rowid)
        .bind(MAX_ATTEMPTS)
        .bind(&now_text)
        .execute(db)
        .await?;
        if used.rows_affected() == 1 {
            sqlx::query("UPDATE sign_in_codes SET used = 1 WHERE member_id = $1 AND used = 0")
                .bind(member_id)
                .execute(db)
                .await?;
            return Ok(Checked::Accepted);
        }
        return Ok(Checked::Rejected);
    }

    if live.is_empty() {
        return Ok(Checked::Rejected);
    }
    sqlx::query(
        "UPDATE sign_in_codes SET attempts = attempts + 1
         WHERE member_id = $1 AND used = 0 AND attempts < $2 AND expires_at > $3",
    )
    .bind(member_id)
    .bind(MAX_ATTEMPTS)
    .bind(&now_text)
    .execute(db)
    .await?;
    let (still_live,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM sign_in_codes
         WHERE member_id = $1 AND used = 0 AND attempts < $2 AND expires_at > $3",
    )
    .bind(member_id)
    .bind(MAX_ATTEMPTS)
    .bind(&now_text)
    .fetch_one(db)
    .await?;
    if still_live == 0 {
        return Ok(Checked::AttemptsExhausted);
    }
    Ok(Checked::Rejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..200 {
            let code = generate();
            assert_eq!(code.len(), 6, "code {code}");
            assert!(code.bytes().all(|b| b.is_ascii_digit()), "code {code}");
        }
    }

    #[test]
    fn hash_is_hex_sha256() {
        // SHA-256 of "abc".
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
