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

    /// A 500 whose body reveals nothing; the cause is logged by the caller.
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
/// was wrong, in place of axum's plain-text rejections.
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
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => {
                use axum::extract::rejection::JsonRejection;
                let problem = match &rejection {
                    JsonRejection::MissingJsonContentType(_) => ApiProblem::new(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "the request body must be JSON with Content-Type: application/json",
                    ),
                    JsonRejection::JsonDataError(error) => {
                        let detail = error.body_text();
                        let field = field_of(&detail);
                        let problem = ApiProblem::unprocessable(&field, detail);
                        if field.is_empty() {
                            ApiProblem {
                                field: None,
                                ..problem
                            }
                        } else {
                            problem
                        }
                    }
                    JsonRejection::JsonSyntaxError(error) => {
                        ApiProblem::bad_request(error.body_text())
                    }
                    _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiProblem::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "the request body is larger than this endpoint accepts",
                    ),
                    _ => ApiProblem::bad_request(rejection.body_text()),
                };
                Err(problem)
            }
        }
    }
}

/// Pulls the field name out of axum's JSON data error, which reads
/// "...target type: member_id: invalid type: ..." for a wrong value and
/// "...target type: missing field `module_id` ..." for an absent one.
fn field_of(detail: &str) -> String {
    let rest = detail
        .split_once("target type: ")
        .map(|(_, rest)| rest)
        .unwrap_or(detail);
    for prefix in ["missing field `", "unknown field `", "duplicate field `"] {
        if let Some(tail) = rest.strip_prefix(prefix) {
            return tail.split('`').next().unwrap_or_default().to_owned();
        }
    }
    match rest.split_once(": ") {
        Some((path, _)) if !path.contains(' ') => path.to_owned(),
        _ => String::new(),
    }
}
