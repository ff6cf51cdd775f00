mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{TestApp, PLATFORM, STAFF};
use issuer::tokens::{self, Scope};
use serde_json::json;

fn completion() -> serde_json::Value {
    json!({"member_id": "m-0002", "module_id": "fin-bookkeeping", "completed_on": "2026-11-20", "score": 80})
}

fn custom_credential() -> serde_json::Value {
    json!({"credential": {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "validFrom": "2026-11-01T00:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {"id": "https://academy.example/a/1", "type": ["Achievement"], "name": "Workshop", "criteria": {"narrative": "Attended"}}}
    }})
}

async fn create(app: &TestApp, name: &str, scopes: &[Scope], days: i64) -> tokens::CreatedToken {
    tokens::create(&app.state.db, name, scopes, days, "cli:test", Utc::now())
        .await
        .expect("create token")
}

#[tokio::test]
async fn platform_token_cannot_issue() {
    let app = TestApp::start().await;
    let platform = create(&app, "learning platform", &[Scope::CompletionsWrite], 30).await;

    let (status, problem) = app
        .json(
            "POST",
            "/credentials/issue",
            Some(&platform.token),
            Some(custom_credential()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert_eq!(problem["status"], 403);
    assert!(problem["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("credentials:issue"));

    let (status, _) = app.json("GET", "/keys", Some(&platform.token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = app
        .json(
            "POST",
            "/completions",
            Some(&platform.token),
            Some(completion()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The environment's platform token has the same fixed scope.
    let (status, _) = app
        .json(
            "POST",
            "/credentials/issue",
            Some(PLATFORM),
            Some(custom_credential()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let entries = issuer::audit::recent(&app.state.db, None, 10)
        .await
        .expect("audit");
    let issue = entries
        .iter()
        .find(|e| e.action == "issue")
        .expect("issue entry");
    assert_eq!(issue.actor, format!("token:{}", platform.id));
}

#[tokio::test]
async fn staff_token_needs_completion_scope() {
    let app = TestApp::start().await;
    let staff = create(&app, "registrar", &Scope::STAFF, 30).await;
    let (status, problem) = app
        .json(
            "POST",
            "/completions",
            Some(&staff.token),
            Some(completion()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    let (status, _) = app
        .json("POST", "/completions", Some(STAFF), Some(completion()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = app
        .json(
            "POST",
            "/credentials/issue",
            Some(&staff.token),
            Some(custom_credential()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["verifiableCredential"]["id"].as_str().expect("id");
    let entries = issuer::audit::recent(&app.state.db, Some(id), 10)
        .await
        .expect("audit");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor, format!("token:{}", staff.id));

    let both = create(
        &app,
        "registrar and platform",
        &[Scope::CredentialsRead, Scope::CompletionsWrite],
        30,
    )
    .await;
    let (status, body) = app
        .json(
            "POST",
            "/completions",
            Some(&both.token),
            Some(completion()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = app
        .json(
            "GET",
            &format!("/credentials/{id}"),
            Some(&both.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_rejected() {
    let app = TestApp::start().await;
    let old = tokens::create(
        &app.state.db,
        "old platform",
        &[Scope::CompletionsWrite],
        1,
        "cli:test",
        Utc::now() - Duration::days(2),
    )
    .await
    .expect("create");
    let (status, problem) = app
        .json("POST", "/completions", Some(&old.token), Some(completion()))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
    assert_eq!(problem["status"], 401);

    let live = create(&app, "platform", &[Scope::CompletionsWrite], 30).await;
    tokens::revoke(&app.state.db, &live.id, "cli:test", Utc::now())
        .await
        .expect("revoke");
    let (status, _) = app
        .json(
            "POST",
            "/completions",
            Some(&live.token),
            Some(completion()),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A right id with a wrong secret, garbage and no token at all.
    let forged = format!("{}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", live.id);
    for token in [Some(forged.as_str()), Some("not-a-token"), None] {
        let (status, _) = app
            .json("POST", "/completions", token, Some(completion()))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
    }

    let actions: Vec<String> = issuer::audit::recent(&app.state.db, Some(&live.id), 10)
        .await
        .expect("audit")
        .into_iter()
        .map(|entry| entry.action)
        .collect();
    assert_eq!(actions, ["token_revoke", "token_create"]);
}

#[tokio::test]
async fn database_never_holds_token_in_clear() {
    let app = TestApp::start().await;
    let created = create(&app, "platform", &[Scope::CompletionsWrite], 30).await;
    let secret = created
        .token
        .split_once('.')
        .expect("id.secret")
        .1
        .to_owned();
    assert!(secret.len() >= 43, "at least 256 bits of base64url");

    let rows: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT id, name, token_hash, scopes FROM access_tokens")
            .fetch_all(&app.state.db)
            .await
            .expect("rows");
    assert_eq!(rows.len(), 1);
    let audit: Vec<(String,)> = sqlx::query_as("SELECT details FROM audit_log")
        .fetch_all(&app.state.db)
        .await
        .expect("audit");
    let stored: String = rows
        .iter()
        .map(|(a, b, c, d)| format!("{a}{b}{c}{d}"))
        .chain(audit.into_iter().map(|(details,)| details))
        .collect();
    assert!(!stored.contains(&secret));
    assert!(!stored.contains(&created.token));
    app.state.db.close().await;
    if let Ok(file) = std::fs::read(app.dir.path().join("academy.db")) {
        let text = String::from_utf8_lossy(&file);
        assert!(!text.contains(&secret));
    }
}

#[tokio::test]
async fn token_creation_rejects_bad_input() {
    let app = TestApp::start().await;
    let db = &app.state.db;
    let now = Utc::now();
    assert!(matches!(
        tokens::create(db, " ", &[Scope::KeysManage], 30, "cli:test", now).await,
        Err(tokens::TokenError::InvalidName)
    ));
    assert!(matches!(
        tokens::create(db, "x", &[], 30, "cli:test", now).await,
        Err(tokens::TokenError::NoScope)
    ));
    assert!(matches!(
        tokens::create(db, "x", &[Scope::KeysManage], 0, "cli:test", now).await,
        Err(tokens::TokenError::InvalidExpiry)
    ));
    assert!(matches!(
        tokens::revoke(db, "0000000000000000", "cli:test", now).await,
        Err(tokens::TokenError::NotFound(_))
    ));
    assert!(tokens::list(db).await.expect("list").is_empty());
}
