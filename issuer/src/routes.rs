//! The issuer's HTTP API.

use crate::audit;
use crate::issuance::{self, CompletionReport, IssueError, IssuerContext};
use crate::keystore::KeyError;
use crate::status;
use crate::tokens::{self, Caller, Scope};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use credentials::problem::{ApiProblem, ProblemJson};
use credentials::qr;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::marker::PhantomData;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/.well-known/did.json", get(did_document))
        .route("/health", get(|| async { "ok" }))
        .route("/completions", post(report_completion))
        .route("/credentials/issue", post(issue_credential))
        .route("/credentials/{id}", get(staff_credential))
        .route("/keys", get(list_keys))
        .route("/keys/{id}/activate", post(activate_key))
        .route("/credentials/status", post(update_status))
        .route("/status", get(status_lists))
        .route("/status/{list_id}", get(status_list))
        .route("/public/credentials/{token}", get(public_credential))
        .route("/public/credentials/{token}/qr.png", get(public_qr_png))
        .route("/public/credentials/{token}/qr.svg", get(public_qr_svg))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.limits.clone(),
            crate::limits::bound_requests,
        ))
        .with_state(state)
}

impl IntoResponse for IssueError {
    fn into_response(self) -> Response {
        match self {
            IssueError::Invalid { field, reason } => {
                ApiProblem::unprocessable(field, format!("{field} {reason}")).into_response()
            }
            IssueError::NotFound { field, reason } => {
                ApiProblem::unprocessable(field, reason).into_response()
            }
            error @ IssueError::Conflict { field } => {
                ApiProblem::new(StatusCode::CONFLICT, error.to_string())
                    .with_field(field)
                    .into_response()
            }
            IssueError::Database(error) => {
                tracing::error!(%error, "database error during issuance");
                ApiProblem::internal().into_response()
            }
            IssueError::Signing(error) => {
                tracing::error!(%error, "signing failed");
                ApiProblem::internal().into_response()
            }
            IssueError::Compact(error) => {
                tracing::error!(%error, "the compact form could not be made");
                ApiProblem::internal().into_response()
            }
        }
    }
}

/// Finds who a request comes from: one of the tokens set in the
/// environment, with its fixed scopes, or a stored access token. Returns
/// `None` when the request carries no token or an unknown, expired or
/// revoked one.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, ApiProblem> {
    let Some(presented) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
    else {
        return Ok(None);
    };
    // Comparing digests in constant time keeps the comparison time
    // independent of where the tokens first differ.
    let presented_digest = Sha256::digest(presented.as_bytes());
    let bootstrap = [
        (
            state.config.platform_token.as_deref(),
            BOOTSTRAP_PLATFORM_ACTOR,
            &[Scope::CompletionsWrite][..],
        ),
        (
            state.config.staff_token.as_deref(),
            BOOTSTRAP_STAFF_ACTOR,
            &Scope::STAFF[..],
        ),
    ];
    for (expected, actor, scopes) in bootstrap {
        if let Some(expected) = expected {
            if tokens::digests_equal(&Sha256::digest(expected.as_bytes()), &presented_digest) {
                return Ok(Some(Caller {
                    actor: actor.to_owned(),
                    scopes: scopes.to_vec(),
                }));
            }
        }
    }
    tokens::authenticate(&state.db, presented, Utc::now())
        .await
        .map_err(internal)
}

/// The audit log's name for `ISSUER_PLATFORM_TOKEN`.
pub const BOOTSTRAP_PLATFORM_ACTOR: &str = "platform";
/// The audit log's name for `ISSUER_STAFF_TOKEN`.
pub const BOOTSTRAP_STAFF_ACTOR: &str = "staff";

/// A scope an endpoint requires, as a type for [`Authorized`].
pub trait RequiredScope {
    const SCOPE: Scope;
}

macro_rules! required_scope {
    ($($name:ident => $scope:expr),* $(,)?) => {
        $(
            #[doc = concat!("Requires `", stringify!($name), "`.")]
            pub struct $name;
            impl RequiredScope for $name {
                const SCOPE: Scope = $scope;
            }
        )*
    };
}

required_scope! {
    CompletionsWrite => Scope::CompletionsWrite,
    CredentialsIssue => Scope::CredentialsIssue,
    CredentialsStatus => Scope::CredentialsStatus,
    CredentialsRead => Scope::CredentialsRead,
    KeysManage => Scope::KeysManage,
}

/// Proof that the request carries a valid token with scope `S`. As an
/// extractor it runs before the body is read, so an unauthenticated
/// request learns nothing about the body's validity. It rejects a request
/// with 401 when the token is missing, unknown, expired or revoked, and
/// with 403 when the token lacks the scope.
pub struct Authorized<S> {
    pub caller: Caller,
    scope: PhantomData<S>,
}

impl<S> Authorized<S> {
    /// The audit log's name for the caller: `token:<id>`, `platform` or
    /// `staff`.
    pub fn actor(&self) -> &str {
        &self.caller.actor
    }
}

impl<S: RequiredScope> axum::extract::FromRequestParts<AppState> for Authorized<S> {
    type Rejection = ApiProblem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = authenticate(state, &parts.headers)
            .await?
            .ok_or_else(ApiProblem::unauthorized)?;
        if !caller.scopes.contains(&S::SCOPE) {
            return Err(ApiProblem::new(
                StatusCode::FORBIDDEN,
                format!(
                    "this token does not have the scope {} that this endpoint requires",
                    S::SCOPE.as_str()
                ),
            ));
        }
        Ok(Self {
            caller,
            scope: PhantomData,
        })
    }
}

async fn did_document(State(state): State<AppState>) -> Result<Response, ApiProblem> {
    let document = state.keys.did_document().await.map_err(|error| {
        tracing::error!(%error, "could not build the DID document");
        ApiProblem::internal()
    })?;
    let mut response = Json(document).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        // Short, so that verifiers resolving the DID see a rotation or a
        // withdrawn key within a minute.
        header::HeaderValue::from_static("public, max-age=60"),
    );
    Ok(response)
}

async fn report_completion(
    State(state): State<AppState>,
    token: Authorized<CompletionsWrite>,
    ProblemJson(report): ProblemJson<CompletionReport>,
) -> Result<Response, Response> {
    state
        .limits
        .count_issuance(token.actor())
        .map_err(|too_many| *too_many)?;
    let signer = state
        .keys
        .current_signer()
        .await
        .map_err(|error| internal(error).into_response())?;
    let context = IssuerContext {
        signer: &signer,
        public_url: &state.config.public_url,
        academy_name: state.config.academy_name(),
        actor: token.actor(),
        status_list_size: state.status_list_size,
    };
    let _guard = state.issuance_lock.lock().await;
    let outcome = issuance::record_completion(&state.db, &context, &report, Utc::now())
        .await
        .map_err(IntoResponse::into_response)?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(outcome)).into_response())
}

#[derive(Deserialize)]
struct IssueRequest {
    credential: Map<String, Value>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "VC API issue options are accepted and none is supported yet"
    )]
    options: Option<Value>,
}

/// W3C VC API `POST /credentials/issue`: signs a caller-supplied credential.
async fn issue_credential(
    State(state): State<AppState>,
    token: Authorized<CredentialsIssue>,
    ProblemJson(request): ProblemJson<IssueRequest>,
) -> Result<Response, ApiProblem> {
    if let Err(too_many) = state.limits.count_issuance(token.actor()) {
        return Ok(*too_many);
    }
    let mut credential = request.credential;
    if credential.contains_key("proof") {
        return Err(ApiProblem::unprocessable(
            "credential.proof",
            "the credential to issue must not already have a proof",
        ));
    }
    let issuer_id = match credential.get("issuer") {
        None => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(Value::Object(map)) => map.get("id").and_then(Value::as_str).map(str::to_owned),
        Some(_) => {
            return Err(ApiProblem::unprocessable(
                "credential.issuer",
                "issuer must be a string or an object with an id",
            ))
        }
    };
    match issuer_id {
        None => match credential.get_mut("issuer") {
            // An issuer object without an id keeps its other fields.
            Some(Value::Object(map)) => {
                map.insert("id".to_owned(), Value::String(state.config.did.clone()));
            }
            _ => {
                credential.insert("issuer".to_owned(), Value::String(state.config.did.clone()));
            }
        },
        Some(id) if id == state.config.did => {}
        Some(id) => {
            return Err(ApiProblem::unprocessable(
                "credential.issuer",
                format!(
                    "this service issues only as {}, not as {id}",
                    state.config.did
                ),
            ))
        }
    }
    let id = match credential.get("id") {
        Some(Value::String(id)) => id.clone(),
        Some(_) => {
            return Err(ApiProblem::unprocessable(
                "credential.id",
                "id must be a URL string, such as urn:uuid:...",
            ))
        }
        None => {
            let id = uuid::Uuid::new_v4().urn().to_string();
            credential.insert("id".to_owned(), Value::String(id.clone()));
            id
        }
    };

    if credential.contains_key("credentialStatus") {
        return Err(ApiProblem::unprocessable(
            "credential.credentialStatus",
            "the issuer adds the status entries itself; remove credentialStatus from the request",
        ));
    }

    let now = Utc::now();
    let mut attempt = 1;
    let signed = loop {
        match store_custom(&state, token.actor(), &id, &credential, now).await {
            Err(CustomIssueError::Database(error))
                if attempt < 4
                    && crate::db::is_retryable(&error)
                    && !is_duplicate(&state, &id).await =>
            {
                tracing::info!(%error, attempt, credential = %id, "issuance lost a race with another writer; running it again");
                tokio::time::sleep(std::time::Duration::from_millis(10 * attempt)).await;
                attempt += 1;
            }
            Err(CustomIssueError::Database(error)) if crate::db::is_unique_violation(&error) => {
                return Err(ApiProblem::new(
                    StatusCode::CONFLICT,
                    format!("a credential with id {id} was already issued"),
                )
                .with_field("credential.id"));
            }
            Err(CustomIssueError::Database(error)) => {
                tracing::error!(%error, "could not store an issued credential");
                return Err(ApiProblem::internal());
            }
            Err(CustomIssueError::Rejected(problem)) => return Err(problem),
            Ok(signed) => break signed,
        }
    };
    tracing::info!(credential = %id, "issued credential through the VC API");
    Ok((
        StatusCode::CREATED,
        Json(json!({ "verifiableCredential": signed })),
    )
        .into_response())
}

/// Returns whether a credential with this id is stored already.
async fn is_duplicate(state: &AppState, id: &str) -> bool {
    let row: Result<Option<(String,)>, _> =
        sqlx::query_as("SELECT id FROM credentials WHERE id = $1")
            .bind(id)
            .fetch_optional(&state.db)
            .await;
    matches!(row, Ok(Some(_)))
}

async fn staff_credential(
    State(state): State<AppState>,
    _token: Authorized<CredentialsRead>,
    Path(id): Path<String>,
) -> Result<Response, ApiProblem> {
    let row: Option<(String,)> = sqlx::query_as("SELECT document FROM credentials WHERE id = $1")
        .bind(&id)
        .fetch_optional(&state.db)
        .await
        .map_err(internal)?;
    let (document,) = row.ok_or_else(|| ApiProblem::not_found("no credential has this id"))?;
    let document: Value = serde_json::from_str(&document).map_err(internal)?;
    let current = status::status_of(&state.db, &id)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiProblem::not_found("no credential has this id"))?;
    let history = status::history(&state.db, &id).await.map_err(internal)?;
    Ok(Json(json!({
        "verifiableCredential": document,
        "status": current,
        "statusHistory": history,
    }))
    .into_response())
}

/// A shared credential: its document, share token and compact form.
struct Shared {
    document: String,
    token: String,
    compact: Option<String>,
}

async fn load_shared(state: &AppState, token: &str) -> Result<Shared, ApiProblem> {
    if !credentials::compact::is_share_token(token) {
        return Err(ApiProblem::not_found("no shared credential has this link"));
    }
    // A member can turn the link off in the wallet (`credential_sharing`);
    // a credential without a row there is shared.
    let row: Option<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT c.document, c.share_token, f.compact FROM credentials c
         LEFT JOIN credential_compact_forms f ON f.credential_id = c.id
         LEFT JOIN credential_sharing s ON s.credential_id = c.id
         WHERE c.share_token = $1 AND COALESCE(s.shared, 1) = 1",
    )
    .bind(token)
    .fetch_optional(&state.db)
    .await
    .map_err(internal)?;
    let (document, token, compact) =
        row.ok_or_else(|| ApiProblem::not_found("no shared credential has this link"))?;
    Ok(Shared {
        document,
        token,
        compact,
    })
}

/// The signed credential behind a public verification link.
async fn public_credential(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiProblem> {
    json_document(&load_shared(&state, &token).await?.document)
}

/// Builds the link a credential's QR code opens: its page on the public verifier,
/// with the compact form in the fragment when the code stays small enough.
fn verification_link(state: &AppState, shared: &Shared) -> String {
    credentials::compact::verification_link(
        &state.config.verifier_url,
        &shared.token,
        shared.compact.as_deref(),
        state.config.qr_max_version,
    )
}

async fn public_qr_png(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiProblem> {
    let shared = load_shared(&state, &token).await?;
    let png = qr::png(&verification_link(&state, &shared), 8).map_err(internal)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

async fn public_qr_svg(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiProblem> {
    let shared = load_shared(&state, &token).await?;
    let svg = qr::svg(&verification_link(&state, &shared)).map_err(internal)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

fn json_document(document: &str) -> Result<Response, ApiProblem> {
    let value: Value = serde_json::from_str(document).map_err(internal)?;
    Ok(Json(value).into_response())
}

fn internal(error: impl std::fmt::Display) -> ApiProblem {
    tracing::error!(%error, "request failed");
    ApiProblem::internal()
}

enum CustomIssueError {
    Rejected(ApiProblem),
    Database(sqlx::Error),
}

impl From<sqlx::Error> for CustomIssueError {
    fn from(error: sqlx::Error) -> Self {
        CustomIssueError::Database(error)
    }
}

/// Issues a credential through the VC API in one transaction: allocates
/// its status entries, signs it, verifies it and stores it with its audit
/// entry. Verifying the result as any verifier would rejects a body that
/// names unknown contexts or malformed values, instead of issuing it.
async fn store_custom(
    state: &AppState,
    actor: &str,
    id: &str,
    credential: &Map<String, Value>,
    now: chrono::DateTime<Utc>,
) -> Result<Map<String, Value>, CustomIssueError> {
    let signer = state
        .keys
        .current_signer()
        .await
        .map_err(|error| CustomIssueError::Rejected(internal(error)))?;
    let verifier = state
        .self_verifier()
        .await
        .map_err(|error| CustomIssueError::Rejected(internal(error)))?;
    let mut tx = state.db.begin().await?;
    let allocations = status::allocate(&mut tx, state.status_list_size, now).await?;
    let mut credential = credential.clone();
    credential.insert(
        "credentialStatus".to_owned(),
        Value::Array(
            allocations
                .iter()
                .map(|allocation| allocation.entry(&state.config.public_url).to_json())
                .collect(),
        ),
    );
    let signed = issuance::sign(&signer, &credential, now).map_err(|error| {
        CustomIssueError::Rejected(ApiProblem::unprocessable(
            "credential",
            format!("the credential cannot be signed: {error}"),
        ))
    })?;
    // Sign, then verify the result as any verifier would, so that a body
    // naming unknown contexts or malformed values is rejected, not issued.
    let report = verifier.verify_credential(&Value::Object(signed.clone()), now);
    if let Some(problem) = report.errors.first() {
        return Err(CustomIssueError::Rejected(ApiProblem::unprocessable(
            "credential",
            format!("the credential is not valid: {}", problem.detail),
        )));
    }
    // A credential without the dates or names the summary needs gets no
    // compact form, so its QR code carries the link alone.
    let compact = credentials::cose::sign(&Value::Object(signed.clone()), &signer.key)
        .map_err(|error| tracing::info!(credential = %id, %error, "issued without a compact form"))
        .ok();

    sqlx::query(
        "INSERT INTO credentials (id, member_id, kind, achievement_id, document, issued_at, valid_until, share_token)
         VALUES ($1, NULL, 'custom', NULL, $2, $3, NULL, $4)",
    )
    .bind(id)
    .bind(Value::Object(signed.clone()).to_string())
    .bind(credentials::datetime::format(now))
    .bind(issuance::share_token())
    .execute(&mut *tx)
    .await?;
    status::record_entries(&mut tx, id, &allocations, now).await?;
    if let Some(compact) = compact {
        issuance::store_compact(&mut tx, id, &compact, now).await?;
    }
    audit::record(
        &mut tx,
        &audit::Entry {
            actor,
            action: audit::Action::Issue,
            subject: id,
            reason: None,
            details: json!({ "kind": "custom" }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(signed)
}

/// One requested status in a VC API status update.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestedStatus {
    #[serde(rename = "type")]
    kind: String,
    status: String,
}

/// Body of `POST /credentials/status`, the W3C VC API status update, with
/// the reason this academy requires.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusUpdate {
    credential_id: String,
    credential_status: Vec<RequestedStatus>,
    #[serde(default)]
    reason: Option<String>,
}

/// W3C VC API `POST /credentials/status`: revokes, suspends or reinstates
/// a credential (staff token).
async fn update_status(
    State(state): State<AppState>,
    token: Authorized<CredentialsStatus>,
    ProblemJson(update): ProblemJson<StatusUpdate>,
) -> Result<Response, ApiProblem> {
    let [requested] = update.credential_status.as_slice() else {
        return Err(ApiProblem::unprocessable(
            "credentialStatus",
            "credentialStatus must hold exactly one status",
        ));
    };
    // The VC API names the list credential's type; the entry type is
    // accepted too.
    if !matches!(
        requested.kind.as_str(),
        "BitstringStatusListEntry" | "BitstringStatusListCredential"
    ) {
        return Err(ApiProblem::unprocessable(
            "credentialStatus.type",
            "the status type must be BitstringStatusListEntry",
        ));
    }
    let target = status::State::parse(&requested.status).ok_or_else(|| {
        ApiProblem::unprocessable(
            "credentialStatus.status",
            "the status must be revoked, suspended or active",
        )
    })?;
    let change = status::Change {
        credential_id: &update.credential_id,
        target,
        reason: update.reason.as_deref().unwrap_or_default(),
        actor: token.actor(),
    };
    let record = status::change_status(&state.db, &change, Utc::now())
        .await
        .map_err(status_problem)?;
    Ok(Json(record).into_response())
}

fn status_problem(error: status::ChangeError) -> ApiProblem {
    use status::ChangeError;
    match error {
        ChangeError::NotFound => ApiProblem::not_found(error.to_string()),
        ChangeError::InvalidReason(detail) => ApiProblem::unprocessable("reason", detail),
        ChangeError::Revoked | ChangeError::Unchanged(_) | ChangeError::NoEntries => {
            ApiProblem::new(StatusCode::CONFLICT, error.to_string())
        }
        ChangeError::Raced | ChangeError::Database(_) => internal(error),
    }
}

/// Returns the URLs of all status lists, as a JSON array.
async fn status_lists(State(state): State<AppState>) -> Result<Response, ApiProblem> {
    let urls = status::list_urls(&state.db, &state.config.public_url)
        .await
        .map_err(internal)?;
    let mut response = Json(urls).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}

/// Returns a signed `BitstringStatusListCredential` with an entity tag,
/// or 304 when `If-None-Match` matches that tag.
async fn status_list(
    State(state): State<AppState>,
    Path(list_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiProblem> {
    if list_id.len() > 64
        || !list_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(ApiProblem::not_found("no status list has this id"));
    }
    let signer = state.keys.current_signer().await.map_err(internal)?;
    let list = status::published_list(
        &state.db,
        &signer,
        &state.config.public_url,
        &list_id,
        Utc::now(),
    )
    .await
    .map_err(internal)?
    .ok_or_else(|| ApiProblem::not_found("no status list has this id"))?;

    let cache_headers = [
        (header::CACHE_CONTROL, "public, max-age=300".to_owned()),
        (header::ETAG, list.etag.clone()),
    ];
    if if_none_match(&headers, &list.etag) {
        return Ok((StatusCode::NOT_MODIFIED, cache_headers).into_response());
    }
    Ok((
        cache_headers,
        [(header::CONTENT_TYPE, "application/vc")],
        list.document,
    )
        .into_response())
}

/// Returns whether an `If-None-Match` header matches `etag` (RFC 9110,
/// section 13.1.2: weak comparison, `*` matches any).
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// Lists the signing keys with their state (`current`, `retired`,
/// `compromised`); never a secret.
async fn list_keys(
    State(state): State<AppState>,
    _token: Authorized<KeysManage>,
) -> Result<Response, ApiProblem> {
    let keys = state.keys.list().await.map_err(internal)?;
    let keys: Vec<Value> = keys
        .iter()
        .map(|key| {
            json!({
                "id": key.fragment,
                "verificationMethod": state.keys.method_id(&key.fragment),
                "state": key.state(),
                "publicKeyMultibase": key.public_multibase,
                "createdAt": key.created_at,
                "activatedAt": key.activated_at,
                "compromisedAt": key.compromised_at,
            })
        })
        .collect();
    Ok(Json(json!({ "keys": keys })).into_response())
}

/// Makes a stored key the one new credentials are signed with.
async fn activate_key(
    State(state): State<AppState>,
    token: Authorized<KeysManage>,
    Path(id): Path<String>,
) -> Result<Response, ApiProblem> {
    match state.keys.activate(&id, token.actor()).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(error @ KeyError::NotFound(_)) => Err(ApiProblem::not_found(error.to_string())),
        Err(error @ KeyError::Compromised(_)) => {
            Err(ApiProblem::new(StatusCode::CONFLICT, error.to_string()))
        }
        Err(error) => Err(internal(error)),
    }
}
