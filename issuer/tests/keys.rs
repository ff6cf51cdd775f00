mod common;

use axum::http::StatusCode;
use common::{TestApp, STAFF};
use serde_json::{json, Value};

#[tokio::test]
async fn key_survives_restart_and_is_encrypted() {
    let app = TestApp::start().await;
    let (_, first) = app.json("GET", "/.well-known/did.json", None, None).await;
    let signer = app.state.keys.current_signer().await.expect("signer");
    let secret_hex = hex::encode(signer.key.as_bytes());
    let secret_multibase = credentials::keys::secret_multibase(&signer.key);
    let dir = app.dir;
    drop(app.router);

    // On SQLite the whole file is searched; on PostgreSQL the key table.
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT fragment, public_multibase, encrypted_secret FROM signing_keys")
            .fetch_all(&app.state.db)
            .await
            .expect("key rows");
    assert!(!rows.is_empty());
    app.state.db.close().await;
    let database = std::fs::read(dir.path().join("academy.db")).unwrap_or_else(|_| {
        rows.iter()
            .flat_map(|(a, b, c)| [a.as_bytes(), b.as_bytes(), c.as_bytes()].concat())
            .collect()
    });
    let text = String::from_utf8_lossy(&database);
    assert!(!text.contains(&secret_hex));
    assert!(!text.contains(&secret_multibase));
    assert!(!database
        .windows(32)
        .any(|w| w == hex::decode(&secret_hex).expect("hex")));

    let restarted = TestApp::start_in(dir).await;
    let (_, second) = restarted
        .json("GET", "/.well-known/did.json", None, None)
        .await;
    assert_eq!(first, second);
    assert_eq!(first["id"], "did:web:127.0.0.1%3A8080");
    assert_eq!(first["verificationMethod"][0]["type"], "Multikey");
}

#[tokio::test]
async fn vc_api_issue_signs_for_staff_only() {
    let app = TestApp::start().await;
    let credential = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "validFrom": "2026-11-01T00:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {"id": "https://academy.example/a/1", "type": ["Achievement"], "name": "Workshop", "criteria": {"narrative": "Attended"}}}
    });
    let (status, _) = app
        .json(
            "POST",
            "/credentials/issue",
            None,
            Some(json!({"credential": credential})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) = app
        .json(
            "POST",
            "/credentials/issue",
            Some(STAFF),
            Some(json!({"credential": credential})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let signed = &body["verifiableCredential"];
    assert_eq!(signed["issuer"], "did:web:127.0.0.1%3A8080");
    let report = app
        .verifier()
        .await
        .verify_credential(signed, chrono::Utc::now());
    assert!(report.verified, "{:?}", report.errors);

    let id = signed["id"].as_str().expect("id");
    let (status, stored) = app
        .json("GET", &format!("/credentials/{id}"), Some(STAFF), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&stored["verifiableCredential"], signed);

    let mut foreign = credential.clone();
    foreign["issuer"] = Value::String("did:web:elsewhere.example".into());
    let (status, problem) = app
        .json(
            "POST",
            "/credentials/issue",
            Some(STAFF),
            Some(json!({"credential": foreign})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "credential.issuer");

    let mut numeric_id = credential.clone();
    numeric_id["id"] = json!(42);
    let (status, problem) = app
        .json(
            "POST",
            "/credentials/issue",
            Some(STAFF),
            Some(json!({"credential": numeric_id})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "credential.id");

    let mut named_issuer = credential.clone();
    named_issuer["issuer"] = json!({"type": ["Profile"], "name": "Academy"});
    let (status, body) = app
        .json(
            "POST",
            "/credentials/issue",
            Some(STAFF),
            Some(json!({"credential": named_issuer})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["verifiableCredential"]["issuer"]["name"], "Academy");
    assert_eq!(
        body["verifiableCredential"]["issuer"]["id"],
        "did:web:127.0.0.1%3A8080"
    );

    let mut unknown_context = credential.clone();
    unknown_context["@context"] = json!([
        "https://www.w3.org/ns/credentials/v2",
        "https://unknown.example/context.json"
    ]);
    let (status, problem) = app
        .json(
            "POST",
            "/credentials/issue",
            Some(STAFF),
            Some(json!({"credential": unknown_context})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");

    // An end of validity in the past, moved where the checks do not read it.
    let mut nested_end = credential.clone();
    nested_end["@nest"] = json!({"validUntil": "2000-01-01T00:00:00Z"});
    let (status, problem) = app
        .json(
            "POST",
            "/credentials/issue",
            Some(STAFF),
            Some(json!({"credential": nested_end})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("@nest")),
        "{problem}"
    );
}

#[tokio::test]
async fn qr_code_opens_the_verification_page() {
    let app = TestApp::start().await;
    let (_, body) = app
        .complete("m-0002", "fin-bookkeeping", "2026-11-20")
        .await;
    let token = body["module_credential"]["share_token"]
        .as_str()
        .expect("token");
    let (status, content_type, png) = app
        .request(
            "GET",
            &format!("/public/credentials/{token}/qr.png"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("image/png"));
    let image = image::load_from_memory(&png).expect("png").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, link) = grids[0].decode().expect("decode");
    let fragment = link
        .strip_prefix(&format!("HTTP://127.0.0.1:8081/V/{token}#"))
        .expect(&link);
    assert!(fragment.bytes().all(|b| b.is_ascii_digit()), "{link}");

    let (status, content_type, svg) = app
        .request(
            "GET",
            &format!("/public/credentials/{token}/qr.svg"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("image/svg+xml"));
    assert!(String::from_utf8_lossy(&svg).contains("<svg"));

    let (status, _) = app
        .json(
            "GET",
            "/public/credentials/00000000000000000000000000000000",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
