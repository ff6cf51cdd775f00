//! An issuer on a loopback port, with the demo catalogue, and a verifier
//! that trusts it.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, Request};
use axum::Router;
use issuer::{catalogue, config::Config, AppState};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use verifier::{TrustEntry, VerifierState};

pub struct World {
    pub issuer: AppState,
    pub issuer_url: String,
    /// The trusted issuer file the issuer's `export-trust` command writes.
    pub trust: Vec<TrustEntry>,
    /// The verifier, with default bounds, to call in process.
    pub verifier: Router,
    _dir: tempfile::TempDir,
}

pub fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// Starts an issuer on a loopback port and a verifier that trusts it.
pub async fn world() -> World {
    world_with(|_| {}).await
}

/// Like [`world`], with the issuer's configuration changed by `adjust`.
pub async fn world_with(adjust: impl FnOnce(&mut Config)) -> World {
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let issuer_url = format!("http://{}", listener.local_addr().expect("addr"));
    let mut config = Config::for_tests(dir.path().to_path_buf());
    config.public_url = issuer_url.clone();
    adjust(&mut config);
    let issuer = AppState::open(config).await.expect("issuer");
    catalogue::load_files(
        &issuer.db,
        &repo_file("catalogue/catalogue.json"),
        &repo_file("catalogue/demo.json"),
    )
    .await
    .expect("load catalogue and demo");
    let app = issuer::routes::router(issuer.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let trust: Vec<TrustEntry> =
        serde_json::from_value(issuer::trust_file(&issuer).await.expect("trust")).expect("entries");
    let verifier = verifier::router(VerifierState::new(trust.clone()).expect("verifier state"));
    World {
        issuer,
        issuer_url,
        trust,
        verifier,
        _dir: dir,
    }
}

/// Serves `app` on a loopback port and returns its address.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// Builds a multipart `POST` to `path` whose one field `name` contains
/// `content`, as a file named `filename` when one is given.
pub fn form_post(path: &str, name: &str, filename: Option<&str>, content: &[u8]) -> Request<Body> {
    let boundary = "XBOUNDARY";
    let file = filename.map_or_else(String::new, |filename| format!("; filename=\"{filename}\""));
    let mut body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n")
            .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Request::post(path)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request")
}
