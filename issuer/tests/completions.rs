mod common;

use axum::http::StatusCode;
use chrono::Utc;
use common::{TestApp, PLATFORM, STAFF};
use credentials::Outcome;
use serde_json::{json, Value};

const MEMBER: &str = "m-0002";
const PATH: &str = "path-finance";

#[tokio::test]
async fn completed_path_yields_module_and_path_credentials() {
    let app = TestApp::start().await;
    let modules = app.path_modules(PATH).await;
    assert!(modules.len() >= 3);

    let mut module_ids = Vec::new();
    let mut path_credentials = Vec::new();
    for module in &modules {
        let (status, body) = app.complete(MEMBER, module, "2026-11-20").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        module_ids.push(
            body["module_credential"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
        path_credentials.extend(
            body["path_credentials"]
                .as_array()
                .expect("array")
                .iter()
                .cloned(),
        );
    }
    assert_eq!(path_credentials.len(), 1, "exactly one path credential");
    assert_eq!(path_credentials[0]["achievement_id"], PATH);

    let stored: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, document FROM credentials WHERE member_id = $1 ORDER BY kind")
            .bind(MEMBER)
            .fetch_all(&app.state.db)
            .await
            .expect("stored");
    assert_eq!(
        stored.iter().filter(|(kind, _)| kind == "module").count(),
        modules.len()
    );
    assert_eq!(stored.iter().filter(|(kind, _)| kind == "path").count(), 1);

    for (kind, document) in &stored {
        let credential: Value = serde_json::from_str(document).expect("json");
        let report = app.verify_with_status(&credential).await;
        assert_eq!(
            report.outcome,
            Outcome::Genuine,
            "{kind}: {:?}",
            report.errors
        );
        assert_eq!(
            credential["type"],
            json!(["VerifiableCredential", "OpenBadgeCredential"])
        );
        assert!(credential["id"]
            .as_str()
            .expect("id")
            .starts_with("urn:uuid:"));
        assert_eq!(credential["proof"]["cryptosuite"], "eddsa-rdfc-2022");
        let names = credential["credentialSubject"]["achievement"]["name"]
            .as_array()
            .expect("names");
        for language in ["ar", "fr", "zgh", "en"] {
            assert!(
                names.iter().any(|n| n["@language"] == language),
                "{kind}: no {language} name"
            );
        }
        let document_text = document.as_str();
        assert!(
            !document_text.contains(MEMBER),
            "the member's internal id must not appear in clear"
        );
        assert!(
            !document_text.contains("@example.org"),
            "no e-mail address in credentials"
        );
        if kind == "path" {
            assert_eq!(
                credential["validFrom"], "2026-11-20T00:00:00Z",
                "finished on the last completion's day"
            );
            let evidence: Vec<&str> = credential["evidence"]
                .as_array()
                .expect("evidence")
                .iter()
                .filter_map(|e| e["id"].as_str())
                .collect();
            assert_eq!(
                evidence,
                module_ids.iter().map(String::as_str).collect::<Vec<_>>()
            );
            assert_eq!(
                credential["credentialSubject"]["achievement"]["achievementType"],
                "LearningProgram"
            );
        }
    }
}

#[tokio::test]
async fn repeated_completion_returns_same_credential() {
    let app = TestApp::start().await;
    let (first_status, first) = app.complete(MEMBER, "fin-bookkeeping", "2026-11-20").await;
    let (second_status, second) = app.complete(MEMBER, "fin-bookkeeping", "2026-11-20").await;
    assert_eq!(first_status, StatusCode::CREATED);
    assert_eq!(second_status, StatusCode::OK);
    assert_eq!(first["module_credential"], second["module_credential"]);

    // A later completion of a module that never expires keeps the first credential.
    let (_, third) = app.complete(MEMBER, "fin-bookkeeping", "2026-11-25").await;
    assert_eq!(
        first["module_credential"]["id"],
        third["module_credential"]["id"]
    );
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM credentials")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(count, 1);
}

#[tokio::test]
async fn module_with_validity_gets_valid_until() {
    let app = TestApp::start().await;
    let (status, body) = app.complete(MEMBER, "food-hygiene", "2026-03-15").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["module_credential"]["id"].as_str().expect("id");
    let (_, stored) = app
        .json("GET", &format!("/credentials/{id}"), Some(STAFF), None)
        .await;
    let credential = &stored["verifiableCredential"];
    assert_eq!(credential["validFrom"], "2026-03-15T00:00:00Z");
    assert_eq!(credential["validUntil"], "2028-03-15T00:00:00Z");

    let (status, renewed) = app.complete(MEMBER, "food-hygiene", "2026-09-01").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(
        renewed["module_credential"]["id"],
        body["module_credential"]["id"]
    );
}

#[tokio::test]
async fn bad_completions_get_problem_details() {
    let app = TestApp::start().await;
    let tomorrow = (Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"member_id": "m-9999", "module_id": "fin-bookkeeping", "completed_on": "2026-11-20"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "member_id",
        ),
        (
            json!({"member_id": MEMBER, "module_id": "no-such-module", "completed_on": "2026-11-20"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "module_id",
        ),
        (
            json!({"member_id": MEMBER, "module_id": "fin-bookkeeping", "completed_on": tomorrow}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "completed_on",
        ),
        (
            json!({"member_id": MEMBER, "module_id": "fin-bookkeeping", "completed_on": "1999-01-01"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "completed_on",
        ),
        (
            json!({"member_id": MEMBER, "module_id": "fin-bookkeeping", "completed_on": "20-11-2026"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "completed_on",
        ),
        (
            json!({"member_id": MEMBER, "module_id": "fin-bookkeeping", "completed_on": "2026-02-30"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "completed_on",
        ),
        (
            json!({"member_id": MEMBER, "module_id": "fin-bookkeeping", "completed_on": "2026-11-20", "score": 140}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "score",
        ),
        (
            json!({"member_id": MEMBER, "module_id": "fin-bookkeeping", "completed_on": "2026-11-20", "evidence_url": "javascript:alert(1)"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "evidence_url",
        ),
        (
            json!({"module_id": "fin-bookkeeping", "completed_on": "2026-11-20"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "member_id",
        ),
        (
            json!({"member_id": 12, "module_id": "fin-bookkeeping", "completed_on": "2026-11-20"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "member_id",
        ),
        (
            json!({"member_id": MEMBER, "module_id": "fin-bookkeeping", "completed_on": "2026-11-20", "grade": "A"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "grade",
        ),
    ];
    for (body, expected_status, field) in cases {
        let (status, content_type, bytes) = app
            .request("POST", "/completions", Some(PLATFORM), Some(body.clone()))
            .await;
        assert_eq!(status, expected_status, "{body}");
        assert_eq!(
            content_type.as_deref(),
            Some("application/problem+json"),
            "{body}"
        );
        let problem: Value = serde_json::from_slice(&bytes).expect("problem json");
        assert_eq!(problem["field"], field, "{body}: {problem}");
        assert_eq!(problem["status"], expected_status.as_u16());
    }

    let (status, _, bytes) = app
        .request("POST", "/completions", Some(PLATFORM), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        String::from_utf8_lossy(&bytes)
    );

    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM credentials")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(count, 0, "nothing issued for bad input");
}

#[tokio::test]
async fn completions_need_the_platform_token() {
    let app = TestApp::start().await;
    let body =
        json!({"member_id": MEMBER, "module_id": "fin-bookkeeping", "completed_on": "2026-11-20"});
    for token in [None, Some("wrong")] {
        let (status, _) = app
            .json("POST", "/completions", token, Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
    }
    // The staff token is known but lacks the `completions:write` scope.
    let (status, _) = app
        .json("POST", "/completions", Some(STAFF), Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The token is checked before the body is read.
    let (status, _) = app
        .json("POST", "/completions", None, Some(json!({"member_id": 1})))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn concurrent_completions_issue_one_path_credential() {
    let app = TestApp::start().await;
    let modules = app.path_modules(PATH).await;
    let mut tasks = Vec::new();
    // Every module of the path reported twice, all at once.
    for round in 0..2 {
        for module in &modules {
            let router_app = app.router.clone();
            let module = module.clone();
            tasks.push(tokio::spawn(async move {
                let request = axum::http::Request::builder()
                    .method("POST")
                    .uri("/completions")
                    .header("authorization", format!("Bearer {PLATFORM}"))
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(json!({"member_id": MEMBER, "module_id": module, "completed_on": "2026-11-20"}).to_string()))
                    .expect("request");
                let response = tower::ServiceExt::oneshot(router_app, request).await.expect("response");
                (round, response.status())
            }));
        }
    }
    for task in tasks {
        let (_, status) = task.await.expect("task");
        assert!(
            status == StatusCode::CREATED || status == StatusCode::OK,
            "{status}"
        );
    }
    let paths: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM credentials WHERE kind = 'path' AND member_id = $1",
    )
    .bind(MEMBER)
    .fetch_one(&app.state.db)
    .await
    .expect("count");
    assert_eq!(paths, 1);
    let modules_issued: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM credentials WHERE kind = 'module' AND member_id = $1",
    )
    .bind(MEMBER)
    .fetch_one(&app.state.db)
    .await
    .expect("count");
    assert_eq!(modules_issued, modules.len() as i64);
}

#[tokio::test]
async fn issued_credentials_cannot_be_changed() {
    let app = TestApp::start().await;
    app.complete(MEMBER, "fin-bookkeeping", "2026-11-20").await;
    let update = sqlx::query("UPDATE credentials SET document = '{}'")
        .execute(&app.state.db)
        .await;
    assert!(update.is_err());
    let delete = sqlx::query("DELETE FROM credentials")
        .execute(&app.state.db)
        .await;
    assert!(delete.is_err());
}

fn leaf_pointers(value: &Value, prefix: String, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                leaf_pointers(child, format!("{prefix}/{key}"), found);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                leaf_pointers(child, format!("{prefix}/{index}"), found);
            }
        }
        _ => found.push(prefix),
    }
}

#[tokio::test]
async fn changing_any_field_breaks_verification() {
    let app = TestApp::start().await;
    for module in app.path_modules(PATH).await {
        app.complete(MEMBER, &module, "2026-11-20").await;
    }
    let document: String =
        sqlx::query_scalar("SELECT document FROM credentials WHERE kind = 'path'")
            .fetch_one(&app.state.db)
            .await
            .expect("path credential");
    let credential: Value = serde_json::from_str(&document).expect("json");
    let verifier = app.verifier().await;
    let now = Utc::now();
    assert!(verifier.verify_credential(&credential, now).verified);

    let mut pointers = Vec::new();
    leaf_pointers(&credential, String::new(), &mut pointers);
    assert!(pointers.len() > 40, "{} fields", pointers.len());
    for pointer in pointers {
        let mut changed = credential.clone();
        let target = changed.pointer_mut(&pointer).expect("pointer");
        *target = match target.take() {
            Value::String(text) => Value::String(format!("{text}x")),
            Value::Bool(flag) => Value::Bool(!flag),
            Value::Number(number) => json!(number.as_f64().unwrap_or(0.0) + 1.0),
            other => other,
        };
        let report = verifier.verify_credential(&changed, now);
        assert!(!report.verified, "changing {pointer} still verified");
    }
}

#[tokio::test]
async fn replay_returns_path_credential_and_rejects_conflicts() {
    let app = TestApp::start().await;
    let modules = app.path_modules(PATH).await;
    let mut last = Value::Null;
    for module in &modules {
        last = app.complete(MEMBER, module, "2026-11-20").await.1;
    }
    let path_credentials = last["path_credentials"].clone();
    assert_eq!(path_credentials.as_array().map(Vec::len), Some(1));

    let (status, replay) = app
        .complete(MEMBER, modules.last().expect("module"), "2026-11-20")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        replay["path_credentials"], path_credentials,
        "a lost answer can be recovered"
    );

    let body = json!({"member_id": MEMBER, "module_id": modules[0], "completed_on": "2026-11-20", "score": 10});
    let (status, problem) = app
        .json("POST", "/completions", Some(PLATFORM), Some(body))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["field"], "score");
}

#[tokio::test]
async fn expiring_modules_bound_the_path() {
    let app = TestApp::start().await;
    let (status, problem) = app.complete(MEMBER, "food-hygiene", "2021-06-01").await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an already expired certificate"
    );
    assert_eq!(problem["field"], "completed_on");

    let mut last = Value::Null;
    for module in app.path_modules("path-food-to-market").await {
        let date = if module == "food-hygiene" {
            "2026-03-15"
        } else {
            "2026-11-01"
        };
        let (status, body) = app.complete(MEMBER, &module, date).await;
        assert!(status.is_success(), "{body}");
        last = body;
    }
    let id = last["path_credentials"][0]["id"]
        .as_str()
        .expect("path credential");
    let (_, stored) = app
        .json("GET", &format!("/credentials/{id}"), Some(STAFF), None)
        .await;
    let credential = &stored["verifiableCredential"];
    assert_eq!(credential["validFrom"], "2026-11-01T00:00:00Z");
    assert_eq!(
        credential["validUntil"], "2028-03-15T00:00:00Z",
        "as long as the hygiene certificate"
    );
}

#[tokio::test]
async fn one_module_credential_per_member_in_schema() {
    let app = TestApp::start().await;
    app.complete(MEMBER, "fin-bookkeeping", "2026-11-20").await;
    let copy = sqlx::query(
        "INSERT INTO credentials (id, member_id, kind, achievement_id, document, issued_at, valid_until, share_token)
         SELECT 'urn:uuid:copy', member_id, kind, achievement_id, document, issued_at, valid_until, 'ffffffffffffffffffffffffffffffff'
         FROM credentials",
    )
    .execute(&app.state.db)
    .await;
    assert!(
        copy.is_err(),
        "a second credential for a module that never expires"
    );
}

#[tokio::test]
async fn issuance_is_audited_without_personal_data() {
    let app = TestApp::start().await;
    let (status, body) = app.complete(MEMBER, "fin-bookkeeping", "2026-11-20").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let credential_id = body["module_credential"]["id"].as_str().expect("id");

    let entries = issuer::audit::recent(&app.state.db, Some(credential_id), 10)
        .await
        .expect("audit");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].action, "issue");
    assert_eq!(entries[0].actor, "platform");
    let details: Value = serde_json::from_str(&entries[0].details).expect("details");
    assert_eq!(details["member"], MEMBER);
    for personal in ["Khadija", "Oubella", "خديجة", "example.org", "+2126"] {
        assert!(
            !entries[0].details.contains(personal),
            "audit entry holds {personal}: {}",
            entries[0].details
        );
    }

    // A replay issues nothing, so it adds no entry.
    let (status, _) = app.complete(MEMBER, "fin-bookkeeping", "2026-11-20").await;
    assert_eq!(status, StatusCode::OK);
    let entries = issuer::audit::recent(&app.state.db, Some(credential_id), 10)
        .await
        .expect("audit");
    assert_eq!(entries.len(), 1);

    for statement in [
        "UPDATE audit_log SET reason = 'changed'",
        "DELETE FROM audit_log",
    ] {
        let result = sqlx::query(statement).execute(&app.state.db).await;
        assert!(result.is_err(), "{statement} succeeded");
    }
}

#[tokio::test]
async fn issuance_rate_is_limited_per_caller() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = TestApp::start_with(dir, |config| config.issuance_per_minute = 2).await;
    let date = (Utc::now() - chrono::Duration::days(3))
        .format("%Y-%m-%d")
        .to_string();
    for expected in [StatusCode::CREATED, StatusCode::OK] {
        let (status, body) = app.complete(MEMBER, "gov-law-112-12", &date).await;
        assert_eq!(status, expected, "{body}");
    }

    let (status, content_type, body) = app
        .request(
            "POST",
            "/completions",
            Some(PLATFORM),
            Some(json!({"member_id": MEMBER, "module_id": "gov-law-112-12", "completed_on": date})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let body: Value = serde_json::from_slice(&body).expect("problem details");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("try again in"), "{body}");

    // Another caller has its own allowance.
    let (status, _) = app.json("GET", "/keys", Some(STAFF), None).await;
    assert_eq!(status, StatusCode::OK);
}
