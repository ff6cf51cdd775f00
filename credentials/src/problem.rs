//! RFC 9457 problem details, the one error format of every HTTP API here.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A problem details response. `type` defaults to `about:blank`, so the
/// `title` is the standard reason phrase of the status.
#[derive(Debug, Clone, Serialize)]
pub struct ApiProblem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request field the problem is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiProblem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn unprocessable(field: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail).with_field(field)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "a valid bearer token is required for this endpoint",
        )
    }

    /// Builds a 413 for a body over the endpoint's limit.
    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is larger than this endpoint accepts",
        )
    }

    /// Builds a 500 whose body reveals nothing. The caller logs the cause.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server could not complete the request; try again later",
        )
    }

    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    pub fn with_type(mut self, kind: &str, title: &str) -> Self {
        self.kind = kind.to_owned();
        self.title = title.to_owned();
        self
    }
}

impl IntoResponse for ApiProblem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

/// A JSON body extractor whose rejections are problem details naming what
/// was wrong, in place of axum's plain-text rejections. Bodies are parsed
/// with [`crate::json::parse_strict`], so duplicate keys and deep nesting
/// are rejected before any field is read.
pub struct ProblemJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ProblemJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiProblem;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiProblem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the request body must be JSON with Content-Type: application/json",
            ));
        }
        let (request, declared_too_large) = limit_body(request);
        if declared_too_large {
            return Err(ApiProblem::payload_too_large());
        }
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiProblem::payload_too_large()
                } else {
                    ApiProblem::bad_request(rejection.body_text())
                }
            })?;
        let value = crate::json::parse_strict(&bytes).map_err(|error| {
            ApiProblem::bad_request(format!("the request body is not valid JSON: {error}"))
        })?;
        let parsed = serde_path_to_error::deserialize(value).map_err(|error| {
            let path = error.path().to_string();
            let detail = error.into_inner().to_string();
            // The path is "." for a problem with the whole body, such as a
            // missing field, whose name is in the message.
            let field = if path == "." { field_of(&detail) } else { path };
            let detail = if field.is_empty() {
                detail
            } else {
                format!("{field}: {detail}")
            };
            let problem = ApiProblem::unprocessable(&field, detail);
            if field.is_empty() {
                ApiProblem {
                    field: None,
                    ..problem
                }
            } else {
                problem
            }
        })?;
        Ok(Self(parsed))
    }
}

/// Reads the `Content-Length` header, when it is present and valid.
pub fn declared_length(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
}

/// Wraps the body of `request` in the limit that `DefaultBodyLimit` sets
/// for its route, and reports whether the `Content-Length` header already
/// declares more than that limit. Such a request can be rejected with 413
/// at once: without this check the server would read the body until the
/// limit and wait for bytes that a client with a false `Content-Length`
/// may never send.
///
/// The body of the returned request is limited. Axum's `Bytes` extractor
/// wraps it in the same limit again and still reports a body over it as
/// `LengthLimitError`, which `ProblemJson` turns into 413.
fn limit_body(request: axum::extract::Request) -> (axum::extract::Request, bool) {
    use axum::body::HttpBody;
    use axum::RequestExt;

    let declared = declared_length(request.headers());
    let request = request.with_limited_body();
    // A limited body's size hint never goes above the limit, so a declared
    // length above the hint's upper bound is above the limit.
    let too_large = match (declared, request.body().size_hint().upper()) {
        (Some(declared), Some(limit)) => declared > limit,
        _ => false,
    };
    (request, too_large)
}

/// Pulls the field name out of serde's messages about the whole body,
/// such as "missing field `module_id`" or "unknown field `grade`".
fn field_of(detail: &str) -> String {
    for prefix in ["missing field `", "unknown field `", "duplicate field `"] {
        if let Some(tail) = detail.strip_prefix(prefix) {
            return tail.split('`').next().unwrap_or_default().to_owned();
        }
    }
    String::new()
}
