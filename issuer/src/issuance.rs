//! Recording completions and issuing module and path credentials.
//!
//! One completion is handled in one database transaction: the module
//! credential, the completion row and any path credential it finishes are
//! stored together or not at all. Issuance in this process is serialized by
//! a lock, and the schema's unique constraints keep a second path
//! credential out even if two writers race.

use crate::audit;
use crate::db::{self, Db, Param, Pool};
use crate::keystore::Signer;
use crate::status;
use chrono::{DateTime, NaiveDate, Utc};
use credentials::model::{
    self, Achievement, AchievementKind, CredentialInput, Recipient, Supporting,
};
use credentials::{datetime, proof, LocalizedText};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sqlx::Transaction;

/// Completions dated before this are rejected as typing mistakes: the
/// academy's courses did not exist earlier.
pub const EARLIEST_COMPLETION: (i32, u32, u32) = (2020, 1, 1);

/// A completion as the learning platform reports it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletionReport {
    pub member_id: String,
    pub module_id: String,
    /// The day the member completed the module, `YYYY-MM-DD`.
    pub completed_on: String,
    pub score: Option<i64>,
    pub evidence_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("{field}: {reason}")]
    NotFound { field: &'static str, reason: String },
    #[error(
        "{field} differs from the completion reported earlier for this member, module and day"
    )]
    Conflict { field: &'static str },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("signing failed: {0}")]
    Signing(#[from] proof::ProofError),
    #[error("the compact form could not be made: {0}")]
    Compact(#[from] credentials::compact::CompactError),
}

impl IssueError {
    /// True for the errors that reject one completion (invalid, unknown
    /// member or module, conflicting report) rather than stop issuance.
    pub fn is_rejection(&self) -> bool {
        matches!(
            self,
            IssueError::Invalid { .. } | IssueError::NotFound { .. } | IssueError::Conflict { .. }
        )
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> IssueError {
    IssueError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// A credential created or found for a completion.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IssuedCredential {
    pub id: String,
    pub kind: String,
    pub achievement_id: String,
    pub share_token: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompletionOutcome {
    /// False when this exact completion had been reported before.
    pub created: bool,
    pub module_credential: IssuedCredential,
    /// Path credentials this completion finished.
    pub path_credentials: Vec<IssuedCredential>,
}

struct ValidCompletion {
    member_id: String,
    module_id: String,
    completed_on: NaiveDate,
    score: Option<u8>,
    evidence_url: Option<String>,
}

fn validate(report: &CompletionReport, now: DateTime<Utc>) -> Result<ValidCompletion, IssueError> {
    let completed_on = NaiveDate::parse_from_str(&report.completed_on, "%Y-%m-%d")
        .ok()
        .filter(|_| report.completed_on.len() == 10)
        .ok_or_else(|| invalid("completed_on", "must be a date written YYYY-MM-DD"))?;
    let (year, month, day) = EARLIEST_COMPLETION;
    let earliest = NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN);
    if completed_on < earliest {
        return Err(invalid(
            "completed_on",
            format!("must not be before {earliest}"),
        ));
    }
    // A day that has begun anywhere (UTC+14) is not in the future.
    if completed_on > (now + chrono::Duration::hours(14)).date_naive() {
        return Err(invalid("completed_on", "must not be in the future"));
    }
    let score = match report.score {
        None => None,
        Some(score @ 0..=100) => Some(score as u8),
        Some(_) => return Err(invalid("score", "must be a whole number from 0 to 100")),
    };
    let evidence_url = match &report.evidence_url {
        None => None,
        Some(url) => {
            let parsed = url::Url::parse(url)
                .map_err(|_| invalid("evidence_url", "must be an absolute URL"))?;
            if !matches!(parsed.scheme(), "https" | "http") || url.len() > 2048 {
                return Err(invalid(
                    "evidence_url",
                    "must be an http or https URL of at most 2048 characters",
                ));
            }
            Some(parsed.to_string())
        }
    };
    for (field, value) in [
        ("member_id", &report.member_id),
        ("module_id", &report.module_id),
    ] {
        if value.is_empty()
            || value.len() > 64
            || !value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(invalid(
                field,
                "must be an id of letters, digits and hyphens",
            ));
        }
    }
    Ok(ValidCompletion {
        member_id: report.member_id.clone(),
        module_id: report.module_id.clone(),
        completed_on,
        score,
        evidence_url,
    })
}

/// Signing inputs: the key, the public base URL and the academy's name,
/// and who asked for the issuance, for the audit log.
pub struct IssuerContext<'a> {
    pub signer: &'a Signer,
    pub public_url: &'a str,
    pub academy_name: LocalizedText,
    pub actor: &'a str,
    /// Entries of each new status list: `status::LIST_SIZE` except in tests.
    pub status_list_size: i64,
}

/// Transactions that lose a race with another writer are run again this
/// many times in all before the error is returned.
const ATTEMPTS: usize = 4;

/// Records a completion and issues the credentials it earns.
///
/// Another issuer process sharing the database may store the same
/// completion or path credential at the same moment. The schema's unique
/// constraints reject the second writer, and its transaction is then run
/// again, finding the first writer's credentials instead of issuing new
/// ones.
pub async fn record_completion(
    pool: &Pool,
    issuer: &IssuerContext<'_>,
    report: &CompletionReport,
    now: DateTime<Utc>,
) -> Result<CompletionOutcome, IssueError> {
    // An invalid report is rejected before a transaction begins.
    validate(report, now)?;
    let results = record_completions(pool, issuer, std::slice::from_ref(report), now).await?;
    match results.into_iter().next() {
        Some(result) => result,
        None => Err(invalid("row", "the completion was not recorded")),
    }
}

/// The state one issuance transaction keeps until its commit. It contains
/// the status list entries the transaction reserved and the members and
/// modules it read, which the transaction does not change. It also keeps
/// the rows the transaction writes but never reads back (status entries,
/// credential states, audit log entries, compact forms), which
/// [`Batch::finish`] inserts with a few statements instead of one per row.
struct Batch {
    reservations: status::Reservations,
    members: std::collections::HashMap<String, MemberRow>,
    modules: std::collections::HashMap<String, ModuleRow>,
    status_entries: Vec<Vec<Param>>,
    states: Vec<Vec<Param>>,
    audit: Vec<Vec<Param>>,
    /// The compact form of each credential, made on a blocking thread
    /// while the transaction goes on.
    compact_forms: Vec<(String, DateTime<Utc>, CompactSigning)>,
}

/// The signing of one compact form, running beside the transaction.
type CompactSigning = tokio::task::JoinHandle<Result<String, credentials::compact::CompactError>>;

impl Batch {
    /// Starts a batch that reserves status list entries `credentials` at a
    /// time.
    fn new(credentials: usize) -> Self {
        Self {
            reservations: status::Reservations::new(i64::try_from(credentials).unwrap_or(1)),
            members: std::collections::HashMap::new(),
            modules: std::collections::HashMap::new(),
            status_entries: Vec::new(),
            states: Vec::new(),
            audit: Vec::new(),
            compact_forms: Vec::new(),
        }
    }

    /// Gives back the unused status list entries and inserts the kept
    /// rows. Runs last in the transaction, before the commit.
    async fn finish(&mut self, tx: &mut Transaction<'_, Db>) -> Result<(), IssueError> {
        self.reservations.release(tx).await?;
        db::insert_rows(
            tx,
            "status_entries",
            &status::ENTRY_COLUMNS,
            &self.status_entries,
        )
        .await?;
        db::insert_rows(
            tx,
            "credential_status",
            &status::STATE_COLUMNS,
            &self.states,
        )
        .await?;
        db::insert_rows(tx, "audit_log", &audit::COLUMNS, &self.audit).await?;

        let mut compact_rows = Vec::with_capacity(self.compact_forms.len());
        for (id, created_at, signing) in self.compact_forms.drain(..) {
            let compact = signing.await.map_err(|error| {
                credentials::compact::CompactError::Signing(format!(
                    "the signing thread stopped: {error}"
                ))
            })??;
            compact_rows.push(compact_row(&id, compact, created_at));
        }
        db::insert_rows(
            tx,
            "credential_compact_forms",
            &COMPACT_COLUMNS,
            &compact_rows,
        )
        .await?;
        self.status_entries.clear();
        self.states.clear();
        self.audit.clear();
        Ok(())
    }
}

/// The result of one report of a batch: its outcome, or the reason it was
/// rejected ([`IssueError::Invalid`], [`IssueError::NotFound`] or
/// [`IssueError::Conflict`]).
pub type BatchItem = Result<CompletionOutcome, IssueError>;

/// Records several completions in one transaction, in order, and returns
/// one result per report.
///
/// A report that is invalid, names an unknown member or module, or
/// conflicts with an earlier report is rejected before anything of it is
/// written, so the others are stored without it. Any other error (the
/// database, signing) rolls the whole batch back and is returned: nothing
/// of the batch is stored. A batch that loses a race with another writer
/// is run again like a single completion.
///
/// One transaction per batch instead of one per completion saves the
/// commit of each, and the pages that consecutive completions share (the
/// status lists, the ends of the tables) are written to the log once.
pub async fn record_completions(
    pool: &Pool,
    issuer: &IssuerContext<'_>,
    reports: &[CompletionReport],
    now: DateTime<Utc>,
) -> Result<Vec<BatchItem>, IssueError> {
    let mut attempt = 1;
    loop {
        match record_batch(pool, issuer, reports, now).await {
            Err(IssueError::Database(error)) if attempt < ATTEMPTS && db::is_retryable(&error) => {
                tracing::info!(%error, attempt, completions = reports.len(),
                    "batch of completions lost a race with another writer; running it again");
                tokio::time::sleep(std::time::Duration::from_millis(10 * attempt as u64)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

async fn record_batch(
    pool: &Pool,
    issuer: &IssuerContext<'_>,
    reports: &[CompletionReport],
    now: DateTime<Utc>,
) -> Result<Vec<BatchItem>, IssueError> {
    let mut tx = pool.begin().await?;
    // A completion issues a module credential and now and then a path
    // credential; entries left over are given back.
    let mut batch = Batch::new(reports.len() + reports.len() / 2);
    let mut results = Vec::with_capacity(reports.len());
    for report in reports {
        let result = match validate(report, now) {
            Err(error) => Err(error),
            Ok(completion) => {
                match record_in_transaction(&mut tx, &mut batch, issuer, &completion, now).await {
                    Err(error) if error.is_rejection() => Err(error),
                    Err(error) => return Err(error),
                    Ok(outcome) => Ok(outcome),
                }
            }
        };
        results.push(result);
    }
    batch.finish(&mut tx).await?;
    tx.commit().await?;
    Ok(results)
}

/// Records one valid completion inside `tx`. A rejection
/// ([`IssueError::is_rejection`]) is returned before anything is written,
/// which [`record_completions`] relies on.
async fn record_in_transaction(
    tx: &mut Transaction<'_, Db>,
    batch: &mut Batch,
    issuer: &IssuerContext<'_>,
    completion: &ValidCompletion,
    now: DateTime<Utc>,
) -> Result<CompletionOutcome, IssueError> {
    let tx = &mut *tx;
    let member = match batch.members.get(&completion.member_id) {
        Some(member) => member.clone(),
        None => {
            let member = load_member(tx, &completion.member_id).await?;
            batch.members.insert(member.id.clone(), member.clone());
            member
        }
    };
    let module = match batch.modules.get(&completion.module_id) {
        Some(module) => module.clone(),
        None => {
            let module = load_module(tx, &completion.module_id).await?;
            batch.modules.insert(module.id.clone(), module.clone());
            module
        }
    };

    let completed_on = completion.completed_on.to_string();
    let existing: Option<(String, Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT credential_id, score, evidence_url FROM completions
         WHERE member_id = $1 AND module_id = $2 AND completed_on = $3",
    )
    .bind(&member.id)
    .bind(&module.id)
    .bind(&completed_on)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some((credential_id, score, evidence_url)) = existing {
        if score != completion.score.map(i64::from) {
            return Err(IssueError::Conflict { field: "score" });
        }
        if evidence_url != completion.evidence_url {
            return Err(IssueError::Conflict {
                field: "evidence_url",
            });
        }
        let module_credential = load_issued(tx, &credential_id).await?;
        let path_credentials = issued_paths(tx, &member.id, &module.id).await?;
        return Ok(CompletionOutcome {
            created: false,
            module_credential,
            path_credentials,
        });
    }

    // A module without a validity period is earned once; completing it
    // again refers to the credential already issued.
    let earlier: Option<(String,)> = if module.valid_for_months.is_none() {
        sqlx::query_as(
            "SELECT id FROM credentials WHERE member_id = $1 AND kind = 'module' AND achievement_id = $2
             ORDER BY issued_at LIMIT 1",
        )
        .bind(&member.id)
        .bind(&module.id)
        .fetch_optional(&mut **tx)
        .await?
    } else {
        None
    };

    // A day that has begun east of UTC is accepted, but the credential is
    // never dated after the moment it is issued.
    let completed_at = completion
        .completed_on
        .and_hms_opt(0, 0, 0)
        .map(|naive| naive.and_utc())
        .unwrap_or(now)
        .min(now);
    if let Some(months) = module.valid_for_months {
        if datetime::add_months(completed_at, months).is_some_and(|until| until <= now) {
            return Err(invalid(
                "completed_on",
                format!("is more than {months} months ago, so the certificate would already have expired"),
            ));
        }
    }
    let (module_credential, created) = match earlier {
        Some((credential_id,)) => (load_issued(tx, &credential_id).await?, false),
        None => {
            let valid_from = completed_at;
            let valid_until = module
                .valid_for_months
                .and_then(|months| datetime::add_months(valid_from, months));
            let input = CredentialInput {
                id: uuid::Uuid::new_v4(),
                issuer_id: issuer.signer.did.clone(),
                issuer_name: issuer.academy_name.clone(),
                achievement: Achievement {
                    id: format!("{}/achievements/modules/{}", issuer.public_url, module.id),
                    kind: AchievementKind::Module,
                    code: module.id.clone(),
                    name: module.title.clone(),
                    description: module.description.clone(),
                    criteria: module.criteria.clone(),
                },
                recipient: member.recipient(),
                valid_from,
                valid_until,
                score: completion.score,
                evidence_url: completion.evidence_url.clone(),
                supporting: Vec::new(),
                status: Vec::new(),
            };
            let issued = store_signed(
                tx, batch, issuer, &input, "module", &module.id, &member.id, now,
            )
            .await?;
            (issued, true)
        }
    };

    sqlx::query(
        "INSERT INTO completions (member_id, module_id, completed_on, score, evidence_url, credential_id, reported_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&member.id)
    .bind(&module.id)
    .bind(&completed_on)
    .bind(completion.score.map(i64::from))
    .bind(&completion.evidence_url)
    .bind(&module_credential.id)
    .bind(datetime::format(now))
    .execute(&mut **tx)
    .await?;

    let path_credentials =
        issue_finished_paths(tx, batch, issuer, &member, &module.id, completed_at, now).await?;
    Ok(CompletionOutcome {
        created: created || !path_credentials.is_empty(),
        module_credential,
        path_credentials,
    })
}

/// Issues the credential of every path that contains `module_id` and whose
/// modules the member has now all completed, unless it exists already.
/// The path counts as finished on `completed_at`, the day of the
/// completion that finished it. The first query leaves out paths with a
/// module for which the member has no credential, so that most
/// completions cost one query here.
async fn issue_finished_paths(
    tx: &mut Transaction<'_, Db>,
    batch: &mut Batch,
    issuer: &IssuerContext<'_>,
    member: &MemberRow,
    module_id: &str,
    completed_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<IssuedCredential>, IssueError> {
    let paths: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT p.id, p.title, p.description, p.criteria FROM paths p
         JOIN path_modules pm ON pm.path_id = p.id
         WHERE pm.module_id = $1
           AND NOT EXISTS (SELECT 1 FROM credentials c
                           WHERE c.member_id = $2 AND c.kind = 'path' AND c.achievement_id = p.id)
           AND NOT EXISTS (SELECT 1 FROM path_modules other
                           WHERE other.path_id = p.id
                             AND NOT EXISTS (SELECT 1 FROM credentials m
                                             WHERE m.member_id = $2 AND m.kind = 'module'
                                               AND m.achievement_id = other.module_id))
         ORDER BY p.id",
    )
    .bind(module_id)
    .bind(&member.id)
    .fetch_all(&mut **tx)
    .await?;

    let mut issued = Vec::new();
    for (path_id, title, description, criteria) in paths {
        // The first module credential of each module in the path, in path order.
        let supporting: Vec<(Option<String>, String, Option<String>)> = sqlx::query_as(
            "SELECT c.id, m.title, c.valid_until FROM path_modules pm
             JOIN modules m ON m.id = pm.module_id
             LEFT JOIN credentials c ON c.id = (
                 SELECT id FROM credentials
                 WHERE member_id = $1 AND kind = 'module' AND achievement_id = pm.module_id
                 ORDER BY issued_at DESC LIMIT 1)
             WHERE pm.path_id = $2
             ORDER BY pm.position",
        )
        .bind(&member.id)
        .bind(&path_id)
        .fetch_all(&mut **tx)
        .await?;
        let still_valid = |until: &Option<String>| {
            until
                .as_deref()
                .is_none_or(|until| datetime::parse(until).is_ok_and(|until| until > now))
        };
        if supporting
            .iter()
            .any(|(id, _, until)| id.is_none() || !still_valid(until))
        {
            continue;
        }
        // A path is valid as long as its shortest-lived module certificate.
        let valid_until = supporting
            .iter()
            .filter_map(|(_, _, until)| {
                until
                    .as_deref()
                    .and_then(|until| datetime::parse(until).ok())
            })
            .min();
        let input = CredentialInput {
            id: uuid::Uuid::new_v4(),
            issuer_id: issuer.signer.did.clone(),
            issuer_name: issuer.academy_name.clone(),
            achievement: Achievement {
                id: format!("{}/achievements/paths/{}", issuer.public_url, path_id),
                kind: AchievementKind::Path,
                code: path_id.clone(),
                name: parse_text(&title),
                description: parse_text(&description),
                criteria: parse_text(&criteria),
            },
            recipient: member.recipient(),
            valid_from: completed_at,
            valid_until,
            score: None,
            evidence_url: None,
            supporting: supporting
                .iter()
                .filter_map(|(id, title, _)| {
                    id.clone().map(|credential_id| Supporting {
                        credential_id,
                        name: parse_text(title),
                    })
                })
                .collect(),
            status: Vec::new(),
        };
        issued.push(
            store_signed(tx, batch, issuer, &input, "path", &path_id, &member.id, now).await?,
        );
    }
    Ok(issued)
}

/// Signs a credential and stores it in `tx`. Its rows that the
/// transaction never reads back wait in `batch`.
#[allow(clippy::too_many_arguments)]
async fn store_signed(
    tx: &mut Transaction<'_, Db>,
    batch: &mut Batch,
    issuer: &IssuerContext<'_>,
    input: &CredentialInput,
    kind: &str,
    achievement_id: &str,
    member_id: &str,
    now: DateTime<Utc>,
) -> Result<IssuedCredential, IssueError> {
    let allocations = batch
        .reservations
        .allocate(tx, issuer.status_list_size, now)
        .await?;
    let mut input = input.clone();
    input.status = allocations
        .iter()
        .map(|allocation| allocation.entry(issuer.public_url))
        .collect();
    let unsigned = model::open_badge(&input);
    let signed = Value::Object(sign(issuer.signer, &unsigned, now)?);
    let compact = {
        let (signed, key) = (signed.clone(), issuer.signer.key.clone());
        tokio::task::spawn_blocking(move || credentials::cose::sign(&signed, &key))
    };
    let issued = IssuedCredential {
        id: input.id.urn().to_string(),
        kind: kind.to_owned(),
        achievement_id: achievement_id.to_owned(),
        share_token: share_token(),
    };
    sqlx::query(
        "INSERT INTO credentials (id, member_id, kind, achievement_id, document, issued_at, valid_until, share_token)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&issued.id)
    .bind(member_id)
    .bind(kind)
    .bind(achievement_id)
    .bind(signed.to_string())
    .bind(datetime::format(now))
    .bind(input.valid_until.map(datetime::format))
    .bind(&issued.share_token)
    .execute(&mut **tx)
    .await?;
    let (entries, state) = status::new_credential_rows(&issued.id, &allocations, now);
    batch.status_entries.extend(entries);
    batch.states.push(state);
    batch.audit.push(audit::row(
        &audit::Entry {
            actor: issuer.actor,
            action: audit::Action::Issue,
            subject: &issued.id,
            reason: None,
            details: json!({ "member": member_id, "kind": kind, "achievement": achievement_id }),
        },
        now,
    ));
    batch.compact_forms.push((issued.id.clone(), now, compact));
    tracing::info!(credential = %issued.id, kind, achievement = achievement_id, member = member_id, "issued credential");
    Ok(issued)
}

/// Columns of `credential_compact_forms` in the rows of [`compact_row`].
const COMPACT_COLUMNS: [&str; 3] = ["credential_id", "compact", "created_at"];

fn compact_row(id: &str, compact: String, now: DateTime<Utc>) -> Vec<Param> {
    vec![
        Param::Text(id.to_owned()),
        Param::Text(compact),
        Param::Text(datetime::format(now)),
    ]
}

/// Stores the compact form of credential `id` beside it.
pub async fn store_compact(
    conn: &mut db::Connection,
    id: &str,
    compact: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    db::insert_rows(
        conn,
        "credential_compact_forms",
        &COMPACT_COLUMNS,
        &[compact_row(id, compact.to_owned(), now)],
    )
    .await
}

/// Signs a credential with the current key (`eddsa-rdfc-2022`).
pub fn sign(
    signer: &Signer,
    unsigned: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Map<String, Value>, proof::ProofError> {
    let options = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": datetime::format(now),
        "verificationMethod": signer.method_id(),
        "proofPurpose": "assertionMethod",
    });
    let options = options.as_object().cloned().unwrap_or_default();
    proof::sign(unsigned, &options, &signer.key)
}

/// A random 128-bit token for the public verification link.
pub fn share_token() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    // Digits, so that a QR code stores the token in numeric mode.
    format!("{:039}", u128::from_be_bytes(bytes))
}

#[derive(Clone)]
struct MemberRow {
    id: String,
    name_ar: String,
    name_latin: String,
    identity_salt: String,
}

impl MemberRow {
    fn recipient(&self) -> Recipient {
        Recipient {
            member_id: self.id.clone(),
            salt: self.identity_salt.clone(),
            name_arabic: self.name_ar.clone(),
            name_latin: self.name_latin.clone(),
        }
    }
}

#[derive(Clone)]
struct ModuleRow {
    id: String,
    valid_for_months: Option<u32>,
    title: LocalizedText,
    description: LocalizedText,
    criteria: LocalizedText,
}

fn parse_text(json: &str) -> LocalizedText {
    serde_json::from_str(json).unwrap_or_default()
}

async fn load_member(tx: &mut Transaction<'_, Db>, id: &str) -> Result<MemberRow, IssueError> {
    let row: Option<(String, String, String, String)> =
        sqlx::query_as("SELECT id, name_ar, name_latin, identity_salt FROM members WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    let (id, name_ar, name_latin, identity_salt) = row.ok_or_else(|| IssueError::NotFound {
        field: "member_id",
        reason: format!("no member has id {id:?}"),
    })?;
    Ok(MemberRow {
        id,
        name_ar,
        name_latin,
        identity_salt,
    })
}

async fn load_module(tx: &mut Transaction<'_, Db>, id: &str) -> Result<ModuleRow, IssueError> {
    let row: Option<(String, Option<i64>, String, String, String)> = sqlx::query_as(
        "SELECT id, valid_for_months, title, description, criteria FROM modules WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let (id, months, title, description, criteria) = row.ok_or_else(|| IssueError::NotFound {
        field: "module_id",
        reason: format!("no module has id {id:?}"),
    })?;
    Ok(ModuleRow {
        id,
        valid_for_months: months.and_then(|m| u32::try_from(m).ok()),
        title: parse_text(&title),
        description: parse_text(&description),
        criteria: parse_text(&criteria),
    })
}

/// Path credentials already issued to a member for paths containing a module.
async fn issued_paths(
    tx: &mut Transaction<'_, Db>,
    member_id: &str,
    module_id: &str,
) -> Result<Vec<IssuedCredential>, IssueError> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT c.id, c.kind, c.achievement_id, c.share_token FROM credentials c
         JOIN path_modules pm ON pm.path_id = c.achievement_id
         WHERE c.member_id = $1 AND c.kind = 'path' AND pm.module_id = $2
         ORDER BY c.achievement_id",
    )
    .bind(member_id)
    .bind(module_id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, achievement_id, share_token)| IssuedCredential {
            id,
            kind,
            achievement_id,
            share_token,
        })
        .collect())
}

async fn load_issued(
    tx: &mut Transaction<'_, Db>,
    id: &str,
) -> Result<IssuedCredential, IssueError> {
    let (id, kind, achievement_id, share_token): (String, String, String, String) = sqlx::query_as(
        "SELECT id, kind, achievement_id, share_token FROM credentials WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(IssuedCredential {
        id,
        kind,
        achievement_id,
        share_token,
    })
}
