//! A fresh issuer per test: its own data folder, database and key.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use issuer::{catalogue, config::Config, routes, AppState};
use serde_json::Value;
use std::path::Path;
use tower::ServiceExt;

pub const PLATFORM: &str = "platform-test-token";
pub const STAFF: &str = "staff-test-token";

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub dir: tempfile::TempDir,
}

pub fn repo_file(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

impl TestApp {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(dir).await
    }

    pub async fn start_in(dir: tempfile::TempDir) -> Self {
        Self::start_with(dir, |_| {}).await
    }

    /// Starts an issuer whose test configuration `change` has adjusted.
    pub async fn start_with(dir: tempfile::TempDir, change: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::for_tests(dir.path().to_path_buf());
        change(&mut config);
        let state = AppState::open(config).await.expect("issuer state");
        catalogue::load_files(
            &state.db,
            &repo_file("catalogue/catalogue.json"),
            &repo_file("catalogue/demo.json"),
        )
        .await
        .expect("load catalogue and demo");
        let router = routes::router(state.clone());
        Self { state, router, dir }
    }

    pub async fn request(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Option<String>, Vec<u8>) {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        }
        .expect("request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("response");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        (status, content_type, bytes)
    }

    pub async fn json(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, _, bytes) = self.request(method, uri, token, body).await;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    pub async fn complete(&self, member: &str, module: &str, date: &str) -> (StatusCode, Value) {
        self.json(
            "POST",
            "/completions",
            Some(PLATFORM),
            Some(serde_json::json!({"member_id": member, "module_id": module, "completed_on": date, "score": 88})),
        )
        .await
    }

    /// A verifier that trusts this issuer, as a deployed verifier would.
    pub async fn verifier(&self) -> credentials::Verifier {
        let (_, document) = self.json("GET", "/.well-known/did.json", None, None).await;
        let mut resolver = credentials::Resolver::new();
        resolver.insert(document).expect("did document");
        credentials::Verifier::new(resolver, vec![issuer::trusted_entry(&self.state.config)])
    }

    /// Verifies `credential` as a deployed verifier would, status included:
    /// the status lists it names are read from this issuer's router.
    pub async fn verify_with_status(&self, credential: &Value) -> credentials::Report {
        let verifier = self.verifier().await;
        let now = chrono::Utc::now();
        let mut report = verifier.verify_credential(credential, now);
        let mut lists = credentials::verify::StatusLists::new();
        for url in report.status_lists_to_fetch() {
            let path = url
                .strip_prefix(&self.state.config.public_url)
                .expect("list on this issuer");
            let (status, document) = self.json("GET", path, None, None).await;
            assert_eq!(status, StatusCode::OK, "{url}");
            let fetched = credentials::verify::FetchedList {
                document,
                fetched_at: now,
            };
            lists.insert(url, Ok(fetched));
        }
        verifier.check_status(&mut report, &lists, now);
        report
    }

    pub async fn path_modules(&self, path: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT module_id FROM path_modules WHERE path_id = $1 ORDER BY position",
        )
        .bind(path)
        .fetch_all(&self.state.db)
        .await
        .expect("path modules")
    }
}

/// Builds a command running the issuer binary on the data folder `dir`, with the
/// database a test with that folder uses and the test tokens. Every
/// process started on one folder signs as the same academy.
pub fn issuer_command(dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_issuer"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATA_DIR", dir)
        .env("DATABASE_URL", issuer::config::test_database_url(dir))
        .env("ISSUER_PUBLIC_URL", "http://127.0.0.1:8080")
        .env("ISSUER_PLATFORM_TOKEN", PLATFORM)
        .env("ISSUER_STAFF_TOKEN", STAFF)
        .env("RUST_LOG", "warn");
    command
}

/// Returns a loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port()
}

/// Loads the catalogue and demo members into the database of `dir`, and
/// creates the signing key, before any issuer process starts.
pub async fn prepare_database(dir: &Path) {
    let state = AppState::open(Config::for_tests(dir.to_path_buf()))
        .await
        .expect("issuer state");
    catalogue::load_files(
        &state.db,
        &repo_file("catalogue/catalogue.json"),
        &repo_file("catalogue/demo.json"),
    )
    .await
    .expect("load catalogue and demo");
    state.db.close().await;
}

/// An issuer process, killed when the test ends, even on a failed
/// assertion.
pub struct Process(pub std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `issuer serve` on the data folder `dir` and a free loopback
/// port, waits until `/health` succeeds, and returns it with its base URL.
pub async fn start_issuer(dir: &Path, client: &reqwest::Client) -> (Process, String) {
    let port = free_port();
    let child = issuer_command(dir)
        .arg("serve")
        .env("ISSUER_ADDR", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start issuer");
    let process = Process(child);
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if client
            .get(format!("{base}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (process, base);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the issuer on port {port} did not start");
}
