//! Status lists (W3C Bitstring Status List v1.0): allocating entries at
//! issuance, publishing each list as a signed
//! `BitstringStatusListCredential`, and revoking, suspending and
//! reinstating credentials.
//!
//! Every credential gets one entry in a `revocation` list and one in a
//! `suspension` list. A list has [`LIST_SIZE`] entries, and a new list is
//! opened when the current one is full. Indexes are never reused, so
//! several issuer processes can share one database. Each list hands out
//! entries in the order of a counter, which the issuance transaction
//! advances with an update that checks the value it read. Entries
//! reserved but not handed out are given back before the commit. The
//! primary key of `status_entries` rejects a second entry at one index.
//!
//! The index given for the n-th entry of a list is a keyed permutation of
//! n (a Feistel network with a random key per list), so that a verifier
//! who sees several indexes cannot tell which credential was issued first.

use crate::audit;
use crate::db::{self, Db, Param, Pool};
use crate::keystore::Signer;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use credentials::datetime;
use credentials::model::StatusEntry;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::Transaction;
use std::io::Write as _;

/// Entries per status list. Bitstring Status List v1.0 sets a minimum of
/// 131,072 entries (16 KiB) per list for herd privacy: one credential's bit
/// hides among many.
pub const LIST_SIZE: i64 = 131_072;

/// Bits in a published list, whatever the list size: a smaller list (only
/// in tests) is padded with zeros to the specification's minimum.
const MIN_PUBLISHED_BITS: usize = 131_072;

/// How long a signed list credential is valid (`validUntil - validFrom`).
const LIST_VALID_FOR: Duration = Duration::hours(24);

/// A signed list is signed again when it expires within this time, so
/// that a cached copy (`max-age` of 5 minutes) never reaches a verifier
/// expired.
const RESIGN_BEFORE: Duration = Duration::hours(6);

/// Maximum length of the reason for a status change, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Transactions that lose a race with another writer are run again this
/// many times in all before the error is returned.
const ATTEMPTS: usize = 4;

/// The `statusPurpose` of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Revocation,
    Suspension,
}

impl Purpose {
    pub const ALL: [Purpose; 2] = [Purpose::Revocation, Purpose::Suspension];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Revocation => "revocation",
            Purpose::Suspension => "suspension",
        }
    }

    /// Returns whether this purpose's bit is set for a credential in `state`.
    fn bit_for(self, state: State) -> bool {
        matches!(
            (self, state),
            (Purpose::Revocation, State::Revoked) | (Purpose::Suspension, State::Suspended)
        )
    }
}

/// The current state of a credential, as stored in `credential_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Active,
    Suspended,
    Revoked,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Suspended => "suspended",
            State::Revoked => "revoked",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "active" => Some(State::Active),
            "suspended" => Some(State::Suspended),
            "revoked" => Some(State::Revoked),
            _ => None,
        }
    }

    fn action(self) -> audit::Action {
        match self {
            State::Active => audit::Action::Reinstate,
            State::Suspended => audit::Action::Suspend,
            State::Revoked => audit::Action::Revoke,
        }
    }
}

/// Builds the URL of a list: `{public_url}/status/{list_id}`.
pub fn list_url(public_url: &str, list_id: &str) -> String {
    format!("{public_url}/status/{list_id}")
}

/// An index given to a credential, before its entry row is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub purpose: Purpose,
    pub list_id: String,
    pub index: i64,
}

impl Allocation {
    /// Builds the `credentialStatus` entry for this allocation.
    pub fn entry(&self, public_url: &str) -> StatusEntry {
        StatusEntry {
            purpose: self.purpose.as_str().to_owned(),
            list_url: list_url(public_url, &self.list_id),
            index: self.index.unsigned_abs(),
        }
    }
}

/// Allocates one revocation and one suspension index in `tx`. Call
/// [`record_entries`] in the same transaction once the credential row
/// exists. New lists get `list_size` entries ([`LIST_SIZE`] outside tests).
pub async fn allocate(
    tx: &mut Transaction<'_, Db>,
    list_size: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Allocation>> {
    // Reserving one entry at a time leaves nothing to give back.
    Reservations::new(1).allocate(tx, list_size, now).await
}

/// Status list entries reserved in one transaction and handed out one at
/// a time, for a transaction that issues many credentials.
///
/// Each reservation advances a list's counter by up to `chunk` entries
/// with one update, instead of one update per entry. [`release`] gives
/// back the entries not handed out, and must run before the transaction
/// commits, so that no committed index lacks a credential. Until the
/// commit, the updated row (PostgreSQL) or the write lock (SQLite) keeps
/// other writers from moving the counter.
///
/// [`release`]: Reservations::release
pub struct Reservations {
    chunk: i64,
    /// The current reservation of each purpose.
    reserved: Vec<Reserved>,
}

struct Reserved {
    purpose: Purpose,
    list_id: String,
    key: Vec<u8>,
    size: i64,
    /// The next entry to hand out, counted from the list's first.
    next: i64,
    /// The list's counter after the reservation: entries up to here are
    /// reserved.
    end: i64,
}

impl Reservations {
    /// Reserves up to `chunk` entries of a list at a time (at least one).
    pub fn new(chunk: i64) -> Self {
        Self {
            chunk: chunk.max(1),
            reserved: Vec::new(),
        }
    }

    /// Hands out one revocation and one suspension index, reserving more
    /// when needed; see [`allocate`].
    pub async fn allocate(
        &mut self,
        tx: &mut Transaction<'_, Db>,
        list_size: i64,
        now: DateTime<Utc>,
    ) -> sqlx::Result<Vec<Allocation>> {
        let mut allocations = Vec::with_capacity(Purpose::ALL.len());
        for purpose in Purpose::ALL {
            allocations.push(self.take(tx, purpose, list_size, now).await?);
        }
        Ok(allocations)
    }

    async fn take(
        &mut self,
        tx: &mut Transaction<'_, Db>,
        purpose: Purpose,
        list_size: i64,
        now: DateTime<Utc>,
    ) -> sqlx::Result<Allocation> {
        if let Some(reserved) = self
            .reserved
            .iter_mut()
            .find(|reserved| reserved.purpose == purpose && reserved.next < reserved.end)
        {
            let count = reserved.next;
            reserved.next += 1;
            return Ok(reserved.allocation(count));
        }
        let mut reserved = reserve(tx, purpose, self.chunk, list_size, now).await?;
        let count = reserved.next;
        reserved.next += 1;
        let allocation = reserved.allocation(count);
        self.reserved.retain(|other| other.purpose != purpose);
        self.reserved.push(reserved);
        Ok(allocation)
    }

    /// Gives back the reserved entries not handed out.
    pub async fn release(&mut self, tx: &mut Transaction<'_, Db>) -> sqlx::Result<()> {
        for reserved in self.reserved.drain(..) {
            if reserved.next == reserved.end {
                continue;
            }
            let released = sqlx::query(
                "UPDATE status_lists SET next_index = $1 WHERE id = $2 AND next_index = $3",
            )
            .bind(reserved.next)
            .bind(&reserved.list_id)
            .bind(reserved.end)
            .execute(&mut **tx)
            .await?;
            if released.rows_affected() != 1 {
                return Err(sqlx::Error::Protocol(format!(
                    "the counter of status list {} moved while its entries were reserved",
                    reserved.list_id
                )));
            }
        }
        Ok(())
    }
}

impl Reserved {
    fn allocation(&self, count: i64) -> Allocation {
        let index = permute(&self.key, count.unsigned_abs(), self.size.unsigned_abs());
        Allocation {
            purpose: self.purpose,
            list_id: self.list_id.clone(),
            index: i64::try_from(index).unwrap_or(i64::MAX),
        }
    }
}

/// Reserves up to `chunk` entries of the first list of `purpose` that has
/// free entries, opening a new list when none has.
async fn reserve(
    tx: &mut Transaction<'_, Db>,
    purpose: Purpose,
    chunk: i64,
    list_size: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Reserved> {
    // Each pass either reserves entries or opens a list. Another writer
    // can move the counter or fill the list between the two statements,
    // so the loop runs a bounded number of times.
    for _ in 0..4 {
        let open: Option<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, permutation_key, size, next_index FROM status_lists
             WHERE purpose = $1 AND next_index < size
             ORDER BY sequence LIMIT 1",
        )
        .bind(purpose.as_str())
        .fetch_optional(&mut **tx)
        .await?;
        let Some((list_id, key, size, next)) = open else {
            open_list(tx, purpose, list_size, now).await?;
            continue;
        };
        let end = next.saturating_add(chunk).min(size);
        let reserved = sqlx::query(
            "UPDATE status_lists SET next_index = $1 WHERE id = $2 AND next_index = $3",
        )
        .bind(end)
        .bind(&list_id)
        .bind(next)
        .execute(&mut **tx)
        .await?;
        if reserved.rows_affected() == 1 {
            let key = hex::decode(&key).map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
            return Ok(Reserved {
                purpose,
                list_id,
                key,
                size,
                next,
                end,
            });
        }
    }
    Err(sqlx::Error::Protocol(format!(
        "no {} status list had a free index after opening new lists",
        purpose.as_str()
    )))
}

/// Opens the next list of `purpose`, unless another writer just did.
async fn open_list(
    tx: &mut Transaction<'_, Db>,
    purpose: Purpose,
    size: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let (sequence,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(MAX(sequence), 0) + 1 FROM status_lists WHERE purpose = $1",
    )
    .bind(purpose.as_str())
    .fetch_one(&mut **tx)
    .await?;
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    sqlx::query(
        "INSERT INTO status_lists (id, purpose, sequence, size, next_index, permutation_key, version, created_at)
         VALUES ($1, $2, $3, $4, 0, $5, 1, $6)
         ON CONFLICT DO NOTHING",
    )
    .bind(format!("{}-{sequence}", purpose.as_str()))
    .bind(purpose.as_str())
    .bind(sequence)
    .bind(size)
    .bind(hex::encode(key))
    .bind(datetime::format(now))
    .execute(&mut **tx)
    .await?;
    tracing::info!(
        purpose = purpose.as_str(),
        sequence,
        size,
        "opened a status list"
    );
    Ok(())
}

/// Columns of `status_entries` in the rows of [`new_credential_rows`].
pub const ENTRY_COLUMNS: [&str; 4] = ["list_id", "status_index", "credential_id", "is_set"];
/// Columns of `credential_status` in the row of [`new_credential_rows`].
pub const STATE_COLUMNS: [&str; 4] = ["credential_id", "state", "reason", "changed_at"];

/// Builds the rows that record a new credential's entries (`status_entries`)
/// and its `active` state (`credential_status`).
pub fn new_credential_rows(
    credential_id: &str,
    allocations: &[Allocation],
    now: DateTime<Utc>,
) -> (Vec<Vec<Param>>, Vec<Param>) {
    let entries = allocations
        .iter()
        .map(|allocation| {
            vec![
                Param::Text(allocation.list_id.clone()),
                Param::Integer(allocation.index),
                Param::Text(credential_id.to_owned()),
                Param::Integer(0),
            ]
        })
        .collect();
    let state = vec![
        Param::Text(credential_id.to_owned()),
        Param::Text(State::Active.as_str().to_owned()),
        Param::Null,
        Param::Text(datetime::format(now)),
    ];
    (entries, state)
}

/// Stores the entries of a newly issued credential and its `active`
/// state, in the issuance transaction.
pub async fn record_entries(
    tx: &mut Transaction<'_, Db>,
    credential_id: &str,
    allocations: &[Allocation],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let (entries, state) = new_credential_rows(credential_id, allocations, now);
    db::insert_rows(tx, "status_entries", &ENTRY_COLUMNS, &entries).await?;
    db::insert_rows(tx, "credential_status", &STATE_COLUMNS, &[state]).await
}

/// Maps the n-th entry of a list to its index: a bijection of
/// `0..size` keyed by `key`.
///
/// A four-round Feistel network permutes the `bits`-bit numbers, `bits`
/// being the smallest even width that can represent `size`. Results of
/// `size` or more are permuted again ("cycle walking"),
/// which keeps the map a bijection of `0..size`; at most three of four
/// values of the wider domain lie outside it, so few steps are expected.
pub fn permute(key: &[u8], count: u64, size: u64) -> u64 {
    let mut bits = 64 - size.saturating_sub(1).leading_zeros();
    bits = bits.max(2);
    bits += bits % 2;
    let half = bits / 2;
    let mask = (1u64 << half) - 1;

    let mut value = count;
    loop {
        let (mut left, mut right) = (value >> half, value & mask);
        for round in 0u8..4 {
            let mut hasher = Sha256::new();
            hasher.update(key);
            hasher.update([round]);
            hasher.update(right.to_be_bytes());
            let digest = hasher.finalize();
            let mut word = [0u8; 8];
            word.copy_from_slice(&digest[..8]);
            let mixed = left ^ (u64::from_be_bytes(word) & mask);
            left = right;
            right = mixed;
        }
        value = (left << half) | right;
        if value < size {
            return value;
        }
    }
}

/// A signed list credential ready to serve.
#[derive(Debug, Clone)]
pub struct PublishedList {
    pub document: String,
    /// A strong entity tag, quoted.
    pub etag: String,
}

/// Returns the signed `BitstringStatusListCredential` of `list_id`, or
/// `None` when no list has this id. The stored copy is served while its
/// bits are current and it does not expire within [`RESIGN_BEFORE`];
/// otherwise the list is signed again and stored.
pub async fn published_list(
    pool: &Pool,
    signer: &Signer,
    public_url: &str,
    list_id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<PublishedList>> {
    let list: Option<(String, i64, i64)> =
        sqlx::query_as("SELECT purpose, size, version FROM status_lists WHERE id = $1")
            .bind(list_id)
            .fetch_optional(pool)
            .await?;
    let Some((purpose, size, version)) = list else {
        return Ok(None);
    };

    let stored: Option<(i64, String, String, String)> = sqlx::query_as(
        "SELECT version, document, etag, valid_until FROM status_list_documents WHERE list_id = $1",
    )
    .bind(list_id)
    .fetch_optional(pool)
    .await?;
    if let Some((stored_version, document, etag, valid_until)) = stored {
        let fresh = datetime::parse(&valid_until).is_ok_and(|until| until - now > RESIGN_BEFORE);
        if stored_version == version && fresh {
            return Ok(Some(PublishedList { document, etag }));
        }
    }

    // The version is read before the bits, so the stored copy is never
    // older than the version it is stored under.
    let set: Vec<(i64,)> =
        sqlx::query_as("SELECT status_index FROM status_entries WHERE list_id = $1 AND is_set = 1")
            .bind(list_id)
            .fetch_all(pool)
            .await?;
    let indexes: Vec<u64> = set
        .into_iter()
        .map(|(index,)| index.unsigned_abs())
        .collect();
    let encoded = encode_list(&indexes, size.unsigned_abs())?;
    let url = list_url(public_url, list_id);
    let valid_until = now + LIST_VALID_FOR;
    let unsigned = json!({
        "@context": [credentials::contexts::CREDENTIALS_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": signer.did,
        "validFrom": datetime::format(now),
        "validUntil": datetime::format(valid_until),
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encoded,
        },
    });
    let unsigned = unsigned.as_object().cloned().unwrap_or_default();
    let signed = crate::issuance::sign(signer, &unsigned, now)?;
    let document = Value::Object(signed).to_string();
    let etag = format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(document.as_bytes())[..16])
    );

    // Another process may store a copy at the same time; the newer
    // version wins and an equal one is simply replaced.
    sqlx::query(
        "INSERT INTO status_list_documents (list_id, version, document, etag, valid_until)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (list_id) DO UPDATE SET
             version = excluded.version, document = excluded.document,
             etag = excluded.etag, valid_until = excluded.valid_until
         WHERE status_list_documents.version <= excluded.version",
    )
    .bind(list_id)
    .bind(version)
    .bind(&document)
    .bind(&etag)
    .bind(datetime::format(valid_until))
    .execute(pool)
    .await?;
    tracing::info!(list = list_id, version, "signed a status list");
    Ok(Some(PublishedList { document, etag }))
}

/// Encodes a bitstring with the bits at `indexes` set: GZIP, then
/// multibase base64url without padding (prefix `u`). Index 0 is the most
/// significant bit of the first byte, as Bitstring Status List v1.0
/// specifies.
pub fn encode_list(indexes: &[u64], size: u64) -> std::io::Result<String> {
    let bits = usize::try_from(size)
        .unwrap_or(usize::MAX)
        .max(MIN_PUBLISHED_BITS);
    let mut bytes = vec![0u8; bits.div_ceil(8)];
    for &index in indexes {
        let index = usize::try_from(index).unwrap_or(usize::MAX);
        if let Some(byte) = bytes.get_mut(index / 8) {
            *byte |= 0x80 >> (index % 8);
        }
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&bytes)?;
    let compressed = encoder.finish()?;
    Ok(format!(
        "u{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(compressed)
    ))
}

/// Returns the URLs of all lists, revocation lists first.
pub async fn list_urls(pool: &Pool, public_url: &str) -> sqlx::Result<Vec<String>> {
    let ids: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM status_lists ORDER BY purpose, sequence")
            .fetch_all(pool)
            .await?;
    Ok(ids
        .into_iter()
        .map(|(id,)| list_url(public_url, &id))
        .collect())
}

/// A requested status change.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub credential_id: &'a str,
    pub target: State,
    pub reason: &'a str,
    /// Who requested the change, in the audit log's notation.
    pub actor: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("no credential has this id")]
    NotFound,
    #[error(
        "this credential was revoked, and a revoked credential cannot be suspended or reinstated"
    )]
    Revoked,
    #[error("this credential is already {}", .0.as_str())]
    Unchanged(State),
    #[error("this credential was issued without status entries, so its status cannot be changed")]
    NoEntries,
    #[error("{0}")]
    InvalidReason(String),
    /// Another writer changed the state between reading and writing.
    #[error("the credential's status changed during the update")]
    Raced,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The state of a credential after a change, or as stored.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRecord {
    pub credential_id: String,
    pub state: State,
    pub reason: Option<String>,
    pub changed_at: String,
}

/// Checks a reason for a status change: required, at most
/// [`MAX_REASON_CHARS`] characters, without control characters. Returns
/// it trimmed.
pub fn validate_reason(reason: &str) -> Result<String, ChangeError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ChangeError::InvalidReason(
            "a reason is required for a status change".to_owned(),
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ChangeError::InvalidReason(format!(
            "the reason must be at most {MAX_REASON_CHARS} characters"
        )));
    }
    if reason.chars().any(char::is_control) {
        return Err(ChangeError::InvalidReason(
            "the reason must be plain text on one line".to_owned(),
        ));
    }
    Ok(reason.to_owned())
}

/// Revokes, suspends or reinstates a credential: its bits, its current
/// state and the audit entry change in one transaction. A revoked
/// credential stays revoked.
pub async fn change_status(
    pool: &Pool,
    change: &Change<'_>,
    now: DateTime<Utc>,
) -> Result<StatusRecord, ChangeError> {
    let reason = validate_reason(change.reason)?;
    let mut attempt = 1;
    loop {
        let result = async {
            let mut tx = pool.begin().await?;
            let record = apply_change(&mut tx, change, &reason, now).await?;
            tx.commit().await?;
            Ok(record)
        }
        .await;
        let retry = match &result {
            Err(ChangeError::Raced) => true,
            Err(ChangeError::Database(error)) => db::is_retryable(error),
            _ => false,
        };
        if !retry || attempt >= ATTEMPTS {
            return result;
        }
        tracing::info!(
            credential = change.credential_id,
            attempt,
            "status change lost a race; running it again"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10 * attempt as u64)).await;
        attempt += 1;
    }
}

/// Applies a change in `tx`. Exposed so that tests can fail the
/// transaction after it.
pub async fn apply_change(
    tx: &mut Transaction<'_, Db>,
    change: &Change<'_>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<StatusRecord, ChangeError> {
    let id = change.credential_id;
    let current = current_state(tx, id).await?.ok_or(ChangeError::NotFound)?;
    if current == State::Revoked {
        return Err(ChangeError::Revoked);
    }
    if current == change.target {
        return Err(ChangeError::Unchanged(current));
    }

    // The state row is written first and only if it still contains the state
    // read above: a concurrent change makes this update match no row (or
    // fail, on SQLite), and the transaction is run again.
    let changed_at = datetime::format(now);
    let updated = sqlx::query(
        "UPDATE credential_status SET state = $1, reason = $2, changed_at = $3
         WHERE credential_id = $4 AND state = $5",
    )
    .bind(change.target.as_str())
    .bind(reason)
    .bind(&changed_at)
    .bind(id)
    .bind(current.as_str())
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(ChangeError::Raced);
    }

    let entries: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT e.list_id, e.status_index, l.purpose FROM status_entries e
         JOIN status_lists l ON l.id = e.list_id
         WHERE e.credential_id = $1 ORDER BY l.purpose",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    if entries.is_empty() {
        return Err(ChangeError::NoEntries);
    }
    let mut flipped = Vec::new();
    for (list_id, index, purpose) in entries {
        let purpose = match purpose.as_str() {
            "revocation" => Purpose::Revocation,
            _ => Purpose::Suspension,
        };
        let bit = i64::from(purpose.bit_for(change.target));
        let result = sqlx::query(
            "UPDATE status_entries SET is_set = $1
             WHERE list_id = $2 AND status_index = $3 AND is_set <> $1",
        )
        .bind(bit)
        .bind(&list_id)
        .bind(index)
        .execute(&mut **tx)
        .await?;
        if result.rows_affected() > 0 {
            sqlx::query("UPDATE status_lists SET version = version + 1 WHERE id = $1")
                .bind(&list_id)
                .execute(&mut **tx)
                .await?;
            flipped.push(json!({ "list": list_id, "index": index, "bit": bit }));
        }
    }

    audit::record(
        tx,
        &audit::Entry {
            actor: change.actor,
            action: change.target.action(),
            subject: id,
            reason: Some(reason),
            details: json!({
                "from": current.as_str(),
                "to": change.target.as_str(),
                "bits": flipped,
            }),
        },
        now,
    )
    .await?;
    tracing::info!(
        credential = id,
        from = current.as_str(),
        to = change.target.as_str(),
        actor = change.actor,
        "changed credential status"
    );
    Ok(StatusRecord {
        credential_id: id.to_owned(),
        state: change.target,
        reason: Some(reason.to_owned()),
        changed_at,
    })
}

/// Returns the current state of a credential, `None` when no credential
/// has this id.
async fn current_state(conn: &mut db::Connection, id: &str) -> sqlx::Result<Option<State>> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT s.state FROM credentials c
         LEFT JOIN credential_status s ON s.credential_id = c.id
         WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(state,)| {
        state
            .as_deref()
            .and_then(State::parse)
            .unwrap_or(State::Active)
    }))
}

/// Returns the stored status of a credential, `None` when no credential
/// has this id.
pub async fn status_of(pool: &Pool, id: &str) -> sqlx::Result<Option<StatusRecord>> {
    /// Credential id, state, reason, changed at, issued at.
    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT c.id, s.state, s.reason, s.changed_at, c.issued_at FROM credentials c
             LEFT JOIN credential_status s ON s.credential_id = c.id
             WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(
        |(credential_id, state, reason, changed_at, issued_at)| StatusRecord {
            credential_id,
            state: state
                .as_deref()
                .and_then(State::parse)
                .unwrap_or(State::Active),
            reason,
            changed_at: changed_at.unwrap_or(issued_at),
        },
    ))
}

/// Returns the status changes of a credential from the audit log, oldest
/// first.
pub async fn history(pool: &Pool, id: &str) -> sqlx::Result<Vec<audit::StoredEntry>> {
    let mut entries: Vec<audit::StoredEntry> = audit::recent(pool, Some(id), 200)
        .await?
        .into_iter()
        .filter(|entry| matches!(entry.action.as_str(), "revoke" | "suspend" | "reinstate"))
        .collect();
    entries.reverse();
    Ok(entries)
}

/// Describes a planned change for a person to confirm: the credential,
/// its member id, achievement, current and new state, and for a path
/// credential the module credentials that keep their own state. Fails as
/// [`change_status`] would when the change is not allowed.
pub async fn describe_change(pool: &Pool, id: &str, target: State) -> Result<String, ChangeError> {
    let row: Option<(String, Option<String>, Option<String>, String)> = sqlx::query_as(
        "SELECT kind, member_id, achievement_id, document FROM credentials WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let (kind, member_id, achievement_id, document) = row.ok_or(ChangeError::NotFound)?;
    let current = status_of(pool, id).await?.ok_or(ChangeError::NotFound)?;
    if current.state == State::Revoked {
        return Err(ChangeError::Revoked);
    }
    if current.state == target {
        return Err(ChangeError::Unchanged(target));
    }

    let mut plan = format!(
        "Credential: {id}\nMember: {}\nAchievement: {kind} {}\nCurrent state: {}\nNew state: {}\n",
        member_id.as_deref().unwrap_or("none"),
        achievement_id.as_deref().unwrap_or("none"),
        current.state.as_str(),
        target.as_str(),
    );
    if kind == "path" {
        // A path credential names its module credentials as evidence.
        let document: Value = serde_json::from_str(&document).unwrap_or_default();
        let modules: Vec<String> = document["evidence"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|evidence| evidence["id"].as_str())
            .filter(|id| id.starts_with("urn:uuid:"))
            .map(str::to_owned)
            .collect();
        plan.push_str("Module credentials of this path keep their own state:\n");
        for module in modules {
            let state = status_of(pool, &module)
                .await?
                .map_or("unknown", |record| record.state.as_str());
            plan.push_str(&format!("  {module} ({state})\n"));
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn permutation_is_a_bijection() {
        for size in [1u64, 2, 3, 8, 100, 1000, 4096] {
            let key = [7u8; 32];
            let mut seen: Vec<u64> = (0..size).map(|n| permute(&key, n, size)).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..size).collect::<Vec<_>>(), "size {size}");
        }
    }

    #[test]
    fn permutation_hides_order() {
        let key = [42u8; 32];
        let first: Vec<u64> = (0..16)
            .map(|n| permute(&key, n, LIST_SIZE as u64))
            .collect();
        assert_ne!(first, (0..16).collect::<Vec<_>>());
        assert!(first.iter().all(|&index| index < LIST_SIZE as u64));
    }

    #[test]
    fn encoded_list_sets_most_significant_bit_first() {
        let encoded = encode_list(&[0, 9], 16).expect("encode");
        let compressed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded.strip_prefix('u').expect("multibase prefix"))
            .expect("base64url");
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..])
            .read_to_end(&mut bytes)
            .expect("gzip");
        assert_eq!(bytes.len(), MIN_PUBLISHED_BITS / 8);
        assert_eq!(bytes[0], 0x80);
        assert_eq!(bytes[1], 0x40);
        assert!(bytes[2..].iter().all(|&byte| byte == 0));
    }

    #[test]
    fn reasons_are_checked() {
        assert!(validate_reason("").is_err());
        assert!(validate_reason("   ").is_err());
        assert!(validate_reason(&"x".repeat(MAX_REASON_CHARS + 1)).is_err());
        assert!(validate_reason("line\nbreak").is_err());
        assert_eq!(
            validate_reason("  certificate obtained by fraud ").expect("valid"),
            "certificate obtained by fraud"
        );
    }
}
