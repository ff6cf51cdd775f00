//! A fresh issuer and wallet per test, sharing one SQLite database in a
//! temporary folder. The issuer loads the catalogue and the demo members
//! and issues credentials through its completions API.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use issuer::catalogue;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use tower::ServiceExt;
use wallet_web::config::Config;
use wallet_web::WalletState;

pub const PLATFORM: &str = "platform-test-token";
pub const FATIMA_EMAIL: &str = "fatima.aitbaha@example.org";
pub const FATIMA: &str = "m-0001";
pub const KHADIJA_EMAIL: &str = "khadija.oubella@example.org";
pub const KHADIJA: &str = "m-0002";

pub struct TestWallet {
    pub issuer: Router,
    pub state: WalletState,
    pub router: Router,
    pub dir: tempfile::TempDir,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: header::HeaderName) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    }

    /// Returns the `Set-Cookie` value of the session cookie, if the response
    /// sets one.
    pub fn session_cookie(&self) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{}=", wallet_web::session::COOKIE)))
    }
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// `name=value` pairs encoded as `application/x-www-form-urlencoded`.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| format!("{name}={}", utf8_percent_encode(value, NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Encodes a credential id as a path segment the way the wallet's links
/// do: everything but letters, digits and `-` percent-encoded.
pub fn encode_id(id: &str) -> String {
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-');
    utf8_percent_encode(id, SEGMENT).to_string()
}

impl TestWallet {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts with the wallet configuration changed by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let issuer_state =
            issuer::AppState::open(issuer::config::Config::for_tests(dir.path().to_path_buf()))
                .await
                .expect("issuer state");
        catalogue::load_files(
            &issuer_state.db,
            &repo_file("catalogue/catalogue.json"),
            &repo_file("catalogue/demo.json"),
        )
        .await
        .expect("load catalogue and demo");

        let mut config = Config::for_tests(dir.path().to_path_buf());
        adjust(&mut config);
        let state = WalletState::open(config).await.expect("wallet state");
        Self {
            issuer: issuer::routes::router(issuer_state),
            router: wallet_web::router(state.clone()),
            state,
            dir,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// GET with the given `Cookie` header value.
    pub async fn get(&self, uri: &str, cookie: Option<&str>) -> TestResponse {
        let mut builder = Request::builder().method("GET").uri(uri);
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        self.send(builder.body(Body::empty()).expect("request"))
            .await
    }

    pub async fn post_form(
        &self,
        uri: &str,
        fields: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> TestResponse {
        let mut builder = Request::builder()
            .method("POST")
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        self.send(
            builder
                .body(Body::from(form_body(fields)))
                .expect("request"),
        )
        .await
    }

    pub fn outbox_file(&self) -> PathBuf {
        self.dir.path().join("outbox").join("messages.log")
    }

    /// Reads every message the development sender wrote, oldest first.
    pub fn outbox(&self) -> Vec<Value> {
        match std::fs::read_to_string(self.outbox_file()) {
            Ok(text) => text
                .lines()
                .map(|line| serde_json::from_str(line).expect("outbox line is JSON"))
                .collect(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => panic!("cannot read the outbox: {error}"),
        }
    }

    /// Asks for a code for `identifier` and returns the code the outbox
    /// received.
    pub async fn request_code(&self, identifier: &str) -> String {
        let before = self.outbox().len();
        let response = self
            .post_form("/sign-in", &[("identifier", identifier)], None)
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        let messages = self.outbox();
        assert_eq!(messages.len(), before + 1, "one new message in the outbox");
        messages[before]["code"].as_str().expect("code").to_owned()
    }

    /// Signs in and returns the `Cookie` header value of the session.
    pub async fn sign_in(&self, identifier: &str) -> String {
        let code = self.request_code(identifier).await;
        let response = self
            .post_form(
                "/sign-in/code",
                &[("identifier", identifier), ("code", &code)],
                None,
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::SEE_OTHER,
            "{}",
            response.text()
        );
        let set_cookie = response.session_cookie().expect("session cookie");
        set_cookie
            .split(';')
            .next()
            .expect("cookie pair")
            .to_owned()
    }

    /// Reports `module` completed by `member` to the issuer.
    pub async fn complete(&self, member: &str, module: &str) -> Value {
        let body = json!({"member_id": member, "module_id": module, "completed_on": "2025-03-14", "score": 91});
        let request = Request::builder()
            .method("POST")
            .uri("/completions")
            .header(header::AUTHORIZATION, format!("Bearer {PLATFORM}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        let response = self
            .issuer
            .clone()
            .oneshot(request)
            .await
            .expect("response");
        assert!(
            response.status().is_success(),
            "completion rejected: {}",
            response.status()
        );
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        serde_json::from_slice(&bytes).expect("completion outcome")
    }

    /// Completes every module of `path` for `member` and returns the id
    /// of the path credential.
    pub async fn complete_path(&self, member: &str, path: &str) -> String {
        let modules: Vec<String> = sqlx::query_scalar(
            "SELECT module_id FROM path_modules WHERE path_id = $1 ORDER BY position",
        )
        .bind(path)
        .fetch_all(&self.state.db)
        .await
        .expect("path modules");
        let mut path_credential = None;
        for module in modules {
            let outcome = self.complete(member, &module).await;
            if let Some(issued) = outcome["path_credentials"]
                .as_array()
                .and_then(|a| a.first())
            {
                path_credential = Some(
                    issued["id"]
                        .as_str()
                        .expect("path credential id")
                        .to_owned(),
                );
            }
        }
        path_credential.expect("the last module completes the path")
    }

    /// Stored document and share token of a credential.
    pub async fn stored(&self, id: &str) -> (String, String) {
        sqlx::query_as("SELECT document, share_token FROM credentials WHERE id = $1")
            .bind(id)
            .fetch_one(&self.state.db)
            .await
            .expect("stored credential")
    }
}
