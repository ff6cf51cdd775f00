//! Our credentials checked by an independent implementation: Digital
//! Bazaar's `@digitalbazaar/vc` with the eddsa-rdfc-2022 cryptosuite, run
//! by Node.js from `interop/` with a local document loader.

mod common;

use common::TestApp;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn interop_dir() -> PathBuf {
    common::repo_file("interop")
}

fn js_verify(credential: &Value, did_document: &Value) -> (bool, Value) {
    assert!(
        interop_dir()
            .join("node_modules/@digitalbazaar/vc")
            .exists(),
        "run `npm ci` in interop/ first (scripts/test.sh does it)"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let credential_path = dir.path().join("credential.json");
    let controllers_path = dir.path().join("controllers.json");
    std::fs::write(&credential_path, credential.to_string()).expect("write credential");
    std::fs::write(
        &controllers_path,
        Value::Array(vec![did_document.clone()]).to_string(),
    )
    .expect("write controllers");
    let output = Command::new("node")
        .current_dir(interop_dir())
        .arg("verify.mjs")
        .arg("--credential")
        .arg(&credential_path)
        .arg("--controllers")
        .arg(&controllers_path)
        .output()
        .expect("node must be installed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "verify.mjs printed {stdout:?}, stderr {:?}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.success(), result)
}

#[tokio::test]
async fn digital_bazaar_accepts_our_status_lists() {
    let app = TestApp::start().await;
    let (_, outcome) = app.complete("m-0006", "food-hygiene", "2026-11-02").await;
    let id = outcome["module_credential"]["id"]
        .as_str()
        .expect("credential id");
    let (status, _) = app
        .json(
            "POST",
            "/credentials/status",
            Some(common::STAFF),
            Some(serde_json::json!({
                "credentialId": id,
                "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
                "reason": "issued by mistake",
            })),
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::OK);
    let (_, did_document) = app.json("GET", "/.well-known/did.json", None, None).await;

    for list in ["revocation-1", "suspension-1"] {
        let (status, credential) = app
            .json("GET", &format!("/status/{list}"), None, None)
            .await;
        assert_eq!(status, axum::http::StatusCode::OK, "{list}");
        let (ok, result) = js_verify(&credential, &did_document);
        assert!(ok, "{list} rejected: {result}");
        assert_eq!(result["verified"], true, "{list}");
    }
}

#[tokio::test]
async fn digital_bazaar_accepts_our_credentials() {
    let app = TestApp::start().await;
    let modules = app.path_modules("path-governance").await;
    for module in &modules {
        app.complete("m-0006", module, "2026-11-02").await;
    }
    // The food hygiene credential carries validUntil.
    app.complete("m-0006", "food-hygiene", "2026-11-02").await;
    let (_, did_document) = app.json("GET", "/.well-known/did.json", None, None).await;
    let documents: Vec<String> =
        sqlx::query_scalar("SELECT document FROM credentials WHERE member_id = 'm-0006'")
            .fetch_all(&app.state.db)
            .await
            .expect("documents");
    assert_eq!(documents.len(), modules.len() + 2);

    for document in &documents {
        let credential: Value = serde_json::from_str(document).expect("json");
        let (ok, result) = js_verify(&credential, &did_document);
        assert!(ok, "rejected: {result}");
        assert_eq!(result["verified"], true);
    }

    // The same implementation rejects one changed letter.
    let mut altered: Value = serde_json::from_str(&documents[0]).expect("json");
    altered["credentialSubject"]["name"][1]["@value"] = Value::String("Someone Else".into());
    let (ok, result) = js_verify(&altered, &did_document);
    assert!(!ok, "altered credential accepted: {result}");
    assert_eq!(result["verified"], false);
}

fn js_canonical(document: &Value) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("document.json");
    std::fs::write(&path, document.to_string()).expect("write");
    let output = Command::new("node")
        .current_dir(interop_dir())
        .arg("canonize.mjs")
        .arg(&path)
        .output()
        .expect("node must be installed");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// Credentials of one member repeat the same identifier, so a presentation
/// of several has blank nodes whose first-degree hashes tie.
#[tokio::test]
async fn presentation_canonical_form_matches_jsonld_js() {
    let app = TestApp::start().await;
    let modules = app.path_modules("path-food-to-market").await;
    for module in &modules {
        app.complete("m-0003", module, "2026-11-03").await;
    }
    let documents: Vec<String> = sqlx::query_scalar(
        "SELECT document FROM credentials WHERE member_id = 'm-0003' ORDER BY id",
    )
    .fetch_all(&app.state.db)
    .await
    .expect("documents");
    assert!(documents.len() >= 5);
    for count in 1..=documents.len() {
        let credentials: Vec<Value> = documents[..count]
            .iter()
            .map(|d| serde_json::from_str(d).expect("json"))
            .collect();
        let presentation = serde_json::json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "verifiableCredential": credentials,
        });
        let ours = credentials::rdf::canonicalize(&presentation).expect("canonicalize");
        assert_eq!(ours, js_canonical(&presentation), "{count} credentials");
    }
}
