//! W3C VC API: `POST /credentials/verify` and `POST /presentations/verify`.
//!
//! A credential that verifies gets 200 with the verification result. One
//! that does not gets 400 with the same result, shaped as RFC 9457 problem
//! details whose `type` is the first error's VC Data Model 2.0 error type.
//! The result's `outcome` is the reason code (`revoked`, `suspended`,
//! `status_unknown` among others), and `status_checked_at` records when the
//! status lists used were fetched. Status lists are fetched only through
//! the guarded client of [`crate::fetch`], within its timeouts and caps.

use crate::{RunError, VerifierState};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use credentials::problem::{ApiProblem, ProblemJson};
use credentials::verify::{ErrorKind, Problem};
use serde::Deserialize;
use serde_json::{json, Value};

/// Largest request body accepted, in bytes. A credential with its proof is
/// a few kilobytes; a presentation contains a handful.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

pub fn router() -> Router<VerifierState> {
    Router::new()
        .route("/credentials/verify", post(verify_credential))
        .route("/presentations/verify", post(verify_presentation))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyCredentialRequest {
    verifiable_credential: Value,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "VC API verify options are accepted; none changes the checks yet"
    )]
    options: Option<Value>,
}

#[derive(Deserialize, Default)]
struct PresentationOptions {
    challenge: Option<String>,
    domain: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyPresentationRequest {
    verifiable_presentation: Value,
    #[serde(default)]
    options: Option<PresentationOptions>,
}

async fn verify_credential(
    State(state): State<VerifierState>,
    ProblemJson(request): ProblemJson<VerifyCredentialRequest>,
) -> Response {
    let report = state.verify_credential(request.verifiable_credential).await;
    match report {
        Ok(report) => {
            let verified = report.verified;
            let body = serde_json::to_value(&report).unwrap_or(Value::Null);
            respond(verified, body, &report.errors)
        }
        Err(error) => run_failed(error),
    }
}

async fn verify_presentation(
    State(state): State<VerifierState>,
    ProblemJson(request): ProblemJson<VerifyPresentationRequest>,
) -> Response {
    let options = request.options.unwrap_or_default();
    let report = state
        .verify_presentation(
            request.verifiable_presentation,
            options.challenge,
            options.domain,
        )
        .await;
    match report {
        Ok(report) => {
            let verified = report.verified;
            let mut errors = report.errors.clone();
            errors.extend(
                report
                    .credentials
                    .iter()
                    .flat_map(|c| c.errors.iter().cloned()),
            );
            let body = serde_json::to_value(&report).unwrap_or(Value::Null);
            respond(verified, body, &errors)
        }
        Err(error) => run_failed(error),
    }
}

fn respond(verified: bool, mut body: Value, errors: &[Problem]) -> Response {
    if verified {
        return (StatusCode::OK, Json(body)).into_response();
    }
    let first = errors.first().cloned().unwrap_or_else(|| {
        Problem::new(
            ErrorKind::CryptographicSecurityError,
            "proof",
            "the verification failed",
        )
    });
    if let Value::Object(map) = &mut body {
        map.insert("type".into(), json!(first.kind));
        map.insert("title".into(), json!(first.title));
        map.insert("status".into(), json!(400));
        map.insert("detail".into(), json!(first.detail));
    }
    let mut response = (StatusCode::BAD_REQUEST, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

fn run_failed(error: RunError) -> Response {
    match error {
        RunError::Busy => {
            tracing::warn!("verification slots busy; request turned away");
            let mut response = ApiProblem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the verifier is busy; try again in a few seconds",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            response
        }
        RunError::Task(error) => {
            tracing::error!(%error, "verification task failed");
            ApiProblem::internal().into_response()
        }
    }
}
