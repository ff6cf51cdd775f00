mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::Engine as _;
use chrono::Utc;
use common::{TestApp, PLATFORM, STAFF};
use credentials::Outcome;
use http_body_util::BodyExt;
use issuer::{routes, status, AppState};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use tower::ServiceExt;

const MEMBER: &str = "m-0002";
const PATH: &str = "path-finance";

/// Issues a credential through the VC API and returns it.
async fn issue(app: &TestApp) -> Value {
    let (status, body) = app
        .json(
            "POST",
            "/credentials/issue",
            Some(STAFF),
            Some(json!({"credential": {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential"],
                "credentialSubject": {"id": "did:example:subject"},
            }})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["verifiableCredential"].clone()
}

fn credential_id(credential: &Value) -> String {
    credential["id"].as_str().expect("credential id").to_owned()
}

/// The (list URL, index) of a credential's entry with `purpose`.
fn entry(credential: &Value, purpose: &str) -> (String, u64) {
    let entries = credential["credentialStatus"]
        .as_array()
        .expect("credentialStatus array");
    let entry = entries
        .iter()
        .find(|entry| entry["statusPurpose"] == purpose)
        .unwrap_or_else(|| panic!("no {purpose} entry in {credential}"));
    let url = entry["statusListCredential"]
        .as_str()
        .expect("list url")
        .to_owned();
    let index: u64 = entry["statusListIndex"]
        .as_str()
        .expect("index is a string")
        .parse()
        .expect("decimal index");
    (url, index)
}

fn list_path(url: &str) -> String {
    url.strip_prefix("http://127.0.0.1:8080")
        .expect("list under the public url")
        .to_owned()
}

async fn change(app: &TestApp, id: &str, to: &str, reason: Option<&str>) -> (StatusCode, Value) {
    let mut body = json!({
        "credentialId": id,
        "credentialStatus": [{"type": "BitstringStatusListEntry", "status": to}],
    });
    if let Some(reason) = reason {
        body["reason"] = json!(reason);
    }
    app.json("POST", "/credentials/status", Some(STAFF), Some(body))
        .await
}

/// Fetches a list credential and returns it with the indexes of its set bits.
async fn fetch_list(app: &TestApp, url: &str) -> (Value, Vec<u64>) {
    let (status, content_type, bytes) = app.request("GET", &list_path(url), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("application/vc"));
    let list: Value = serde_json::from_slice(&bytes).expect("json list");
    let encoded = list["credentialSubject"]["encodedList"]
        .as_str()
        .expect("encodedList");
    let compressed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.strip_prefix('u').expect("multibase base64url"))
        .expect("base64url");
    let mut bits = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut bits)
        .expect("gzip");
    assert!(bits.len() * 8 >= 131_072, "list shorter than 16 KiB");
    let set = (0..bits.len() as u64 * 8)
        .filter(|index| bits[(index / 8) as usize] & (0x80 >> (index % 8)) != 0)
        .collect();
    (list, set)
}

async fn state_of(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("SELECT state FROM credential_status WHERE credential_id = $1")
        .bind(id)
        .fetch_one(&app.state.db)
        .await
        .expect("state row")
}

async fn status_audit_count(app: &TestApp, id: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log
         WHERE subject = $1 AND action IN ('revoke', 'suspend', 'reinstate')",
    )
    .bind(id)
    .fetch_one(&app.state.db)
    .await
    .expect("audit count")
}

/// Completes every module of the finance path and returns the module
/// credentials and the path credential.
async fn complete_path(app: &TestApp) -> (Vec<Value>, Value) {
    let mut modules = Vec::new();
    let mut path = None;
    for module in app.path_modules(PATH).await {
        let (status, body) = app.complete(MEMBER, &module, "2026-11-20").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        modules.push(stored(app, body["module_credential"]["id"].as_str().expect("id")).await);
        if let Some(issued) = body["path_credentials"].as_array().and_then(|p| p.first()) {
            path = Some(stored(app, issued["id"].as_str().expect("id")).await);
        }
    }
    (modules, path.expect("path credential"))
}

async fn stored(app: &TestApp, id: &str) -> Value {
    let (status, body) = app
        .json("GET", &format!("/credentials/{id}"), Some(STAFF), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["verifiableCredential"].clone()
}

#[tokio::test]
async fn issued_credentials_have_both_entries() {
    let app = TestApp::start().await;
    let (mut credentials, path) = complete_path(&app).await;
    credentials.push(path);
    credentials.push(issue(&app).await);

    let verifier = app.verifier().await;
    let mut seen = BTreeSet::new();
    for credential in &credentials {
        let entries = credential["credentialStatus"].as_array().expect("entries");
        assert_eq!(entries.len(), 2, "{credential}");
        for purpose in ["revocation", "suspension"] {
            let (url, index) = entry(credential, purpose);
            assert_eq!(url, format!("http://127.0.0.1:8080/status/{purpose}-1"));
            assert!(
                seen.insert((url.clone(), index)),
                "index {index} of {url} given twice"
            );
            let full = entries
                .iter()
                .find(|e| e["statusPurpose"] == purpose)
                .expect("entry");
            assert_eq!(full["type"], "BitstringStatusListEntry");
            assert_eq!(full["id"], format!("{url}#{index}"));
        }
        let report = verifier.verify_credential(credential, Utc::now());
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }

    let (status, body) = app.json("GET", "/status", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!([
            "http://127.0.0.1:8080/status/revocation-1",
            "http://127.0.0.1:8080/status/suspension-1"
        ])
    );
}

#[tokio::test]
async fn issue_rejects_caller_status() {
    let app = TestApp::start().await;
    let (status, body) = app
        .json(
            "POST",
            "/credentials/issue",
            Some(STAFF),
            Some(json!({"credential": {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential"],
                "credentialSubject": {"id": "did:example:subject"},
                "credentialStatus": {"type": "BitstringStatusListEntry"},
            }})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

/// Adds members so that `needed` distinct completions exist.
async fn add_members(app: &TestApp, count: usize) {
    let (cooperative,): (String,) =
        sqlx::query_as("SELECT id FROM cooperatives ORDER BY id LIMIT 1")
            .fetch_one(&app.state.db)
            .await
            .expect("cooperative");
    for n in 0..count {
        sqlx::query(
            "INSERT INTO members (id, cooperative_id, name_ar, name_latin, email, phone, role, identity_salt)
             VALUES ($1, $2, 'عضو', 'Member', NULL, NULL, 'member', $3)",
        )
        .bind(format!("m-9{n:03}"))
        .bind(&cooperative)
        .bind(format!("{n:032x}"))
        .execute(&app.state.db)
        .await
        .expect("member");
    }
}

#[tokio::test]
async fn concurrent_completions_get_distinct_indexes() {
    let app = TestApp::start().await;
    add_members(&app, 4).await;
    let members: Vec<String> = sqlx::query_scalar("SELECT id FROM members ORDER BY id")
        .fetch_all(&app.state.db)
        .await
        .expect("members");
    let modules: Vec<String> = sqlx::query_scalar("SELECT id FROM modules ORDER BY id")
        .fetch_all(&app.state.db)
        .await
        .expect("modules");
    let pairs: Vec<(String, String)> = members
        .iter()
        .flat_map(|member| {
            modules
                .iter()
                .map(move |module| (member.clone(), module.clone()))
        })
        .take(200)
        .collect();
    assert_eq!(pairs.len(), 200);

    // On PostgreSQL a second issuer on the same database, with its own
    // lock, plays the part of a second process.
    // NOTE: on SQLite two issuers racing with 100 completions each exhaust
    // the issuance retries ("database is locked"), because a deferred
    // transaction that reads first cannot wait for the write lock; so the
    // SQLite run uses one issuer.
    let second = if app.state.config.database_url.starts_with("postgres") {
        AppState::open(app.state.config.as_ref().clone())
            .await
            .expect("second issuer")
    } else {
        app.state.clone()
    };
    let routers = [app.router.clone(), routes::router(second)];
    let mut tasks = Vec::new();
    for (n, (member, module)) in pairs.into_iter().enumerate() {
        let router = routers[n % 2].clone();
        tasks.push(tokio::spawn(async move {
            let body =
                json!({"member_id": member, "module_id": module, "completed_on": "2026-11-20"});
            let request = Request::post("/completions")
                .header(header::AUTHORIZATION, format!("Bearer {PLATFORM}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .expect("request");
            let response = router.oneshot(request).await.expect("response");
            let status = response.status();
            let bytes = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        }));
    }
    for task in tasks {
        let (status, body) = task.await.expect("task");
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    let credentials: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM credentials")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert!(credentials >= 200);
    for purpose in ["revocation", "suspension"] {
        let (entries, distinct, credentials_with_entry): (i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(DISTINCT e.list_id || ':' || CAST(e.status_index AS TEXT)),
                    COUNT(DISTINCT e.credential_id)
             FROM status_entries e JOIN status_lists l ON l.id = e.list_id
             WHERE l.purpose = $1",
        )
        .bind(purpose)
        .fetch_one(&app.state.db)
        .await
        .expect("entries");
        assert_eq!(entries, credentials, "{purpose}: one entry per credential");
        assert_eq!(distinct, credentials, "{purpose}: distinct indexes");
        assert_eq!(
            credentials_with_entry, credentials,
            "{purpose}: every credential"
        );
    }
}

#[tokio::test]
async fn full_list_opens_new_one() {
    let mut app = TestApp::start().await;
    let mut state = app.state.clone();
    state.status_list_size = 4;
    app.router = routes::router(state);

    let mut by_list: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for _ in 0..6 {
        let credential = issue(&app).await;
        let (url, index) = entry(&credential, "revocation");
        by_list.entry(url).or_default().push(index);
    }
    let first = &by_list["http://127.0.0.1:8080/status/revocation-1"];
    let mut sorted = first.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![0, 1, 2, 3], "the first list is used in full");
    let second = &by_list["http://127.0.0.1:8080/status/revocation-2"];
    assert_eq!(second.len(), 2);
    assert!(second.iter().all(|&index| index < 4));
    assert_eq!(by_list.len(), 2);

    let (_, lists) = app.json("GET", "/status", None, None).await;
    assert_eq!(lists.as_array().map(Vec::len), Some(4), "{lists}");
}

#[tokio::test]
async fn revoke_flips_exactly_one_bit() {
    let app = TestApp::start().await;
    let other = issue(&app).await;
    let credential = issue(&app).await;
    let id = credential_id(&credential);
    let (revocation_url, index) = entry(&credential, "revocation");
    let (suspension_url, _) = entry(&credential, "suspension");
    let (_, before) = fetch_list(&app, &revocation_url).await;
    assert!(before.is_empty());

    let (status, body) = change(&app, &id, "revoked", Some("issued to the wrong member")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "revoked");
    assert_eq!(state_of(&app, &id).await, "revoked");
    assert_eq!(state_of(&app, &credential_id(&other)).await, "active");

    let (list, after) = fetch_list(&app, &revocation_url).await;
    assert_eq!(after, vec![index]);
    assert_eq!(list["id"], revocation_url);
    assert_eq!(
        list["type"],
        json!(["VerifiableCredential", "BitstringStatusListCredential"])
    );
    assert_eq!(list["credentialSubject"]["statusPurpose"], "revocation");
    assert_eq!(list["credentialSubject"]["type"], "BitstringStatusList");
    assert_eq!(
        list["credentialSubject"]["id"],
        format!("{revocation_url}#list")
    );
    assert_eq!(list["issuer"], app.state.config.did);
    assert!(list["validUntil"].is_string());
    let report = app.verifier().await.verify_credential(&list, Utc::now());
    assert_eq!(report.outcome, Outcome::Genuine, "{:?}", report.errors);

    let (_, suspended) = fetch_list(&app, &suspension_url).await;
    assert!(suspended.is_empty());
}

#[tokio::test]
async fn suspend_then_reinstate() {
    let app = TestApp::start().await;
    let credential = issue(&app).await;
    let id = credential_id(&credential);
    let (url, index) = entry(&credential, "suspension");

    let (status, body) = change(&app, &id, "suspended", Some("under review")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(fetch_list(&app, &url).await.1, vec![index]);
    assert_eq!(state_of(&app, &id).await, "suspended");

    let (status, body) = change(&app, &id, "active", Some("review found no fault")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(fetch_list(&app, &url).await.1.is_empty());
    assert_eq!(state_of(&app, &id).await, "active");

    let (status, body) = app
        .json("GET", &format!("/credentials/{id}"), Some(STAFF), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"]["state"], "active");
    assert_eq!(body["status"]["reason"], "review found no fault");
    let history = body["statusHistory"].as_array().expect("history");
    assert_eq!(history.len(), 2, "{body}");
    assert_eq!(history[0]["action"], "suspend");
    assert_eq!(history[0]["reason"], "under review");
    assert_eq!(history[1]["action"], "reinstate");
}

#[tokio::test]
async fn revoked_cannot_be_reinstated() {
    let app = TestApp::start().await;
    let credential = issue(&app).await;
    let id = credential_id(&credential);
    let (status, _) = change(&app, &id, "revoked", Some("fraud")).await;
    assert_eq!(status, StatusCode::OK);

    for target in ["active", "suspended", "revoked"] {
        let (status, body) = change(&app, &id, target, Some("try again")).await;
        assert_eq!(status, StatusCode::CONFLICT, "{target}: {body}");
        assert!(
            body["detail"].as_str().expect("detail").contains("revoked"),
            "{body}"
        );
    }
    assert_eq!(state_of(&app, &id).await, "revoked");
    assert_eq!(status_audit_count(&app, &id).await, 1);
}

#[tokio::test]
async fn same_state_is_a_conflict() {
    let app = TestApp::start().await;
    let id = credential_id(&issue(&app).await);
    let (status, body) = change(&app, &id, "active", Some("nothing to do")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(status_audit_count(&app, &id).await, 0);
}

#[tokio::test]
async fn path_revocation_leaves_modules() {
    let app = TestApp::start().await;
    let (modules, path) = complete_path(&app).await;
    let path_id = credential_id(&path);
    let (status, body) = change(&app, &path_id, "revoked", Some("path criteria changed")).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (url, path_index) = entry(&path, "revocation");
    let (_, set) = fetch_list(&app, &url).await;
    assert_eq!(set, vec![path_index]);
    for module in &modules {
        assert_eq!(state_of(&app, &credential_id(module)).await, "active");
        assert!(!set.contains(&entry(module, "revocation").1));
    }
}

#[tokio::test]
async fn reasons_are_required() {
    let app = TestApp::start().await;
    let id = credential_id(&issue(&app).await);
    let long = "x".repeat(status::MAX_REASON_CHARS + 1);
    for reason in [
        None,
        Some(""),
        Some("   "),
        Some(long.as_str()),
        Some("two\nlines"),
    ] {
        let (status, body) = change(&app, &id, "revoked", reason).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{reason:?}: {body}"
        );
    }
    assert_eq!(state_of(&app, &id).await, "active");
    assert_eq!(status_audit_count(&app, &id).await, 0);
}

#[tokio::test]
async fn unauthenticated_changes_get_401() {
    let app = TestApp::start().await;
    let id = credential_id(&issue(&app).await);
    let body = json!({
        "credentialId": id,
        "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
        "reason": "fraud",
    });
    // No token or an unknown one gets 401; the platform's token, which
    // may only report completions, gets 403.
    for (token, expected) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some("wrong-token"), StatusCode::UNAUTHORIZED),
        (Some(PLATFORM), StatusCode::FORBIDDEN),
    ] {
        let (status, _) = app
            .json("POST", "/credentials/status", token, Some(body.clone()))
            .await;
        assert_eq!(status, expected, "{token:?}");
        let (status, _) = app
            .json("GET", &format!("/credentials/{id}"), token, None)
            .await;
        assert_eq!(status, expected, "{token:?}");
    }
    assert_eq!(state_of(&app, &id).await, "active");
}

#[tokio::test]
async fn unknown_credential_is_404() {
    let app = TestApp::start().await;
    let (status, body) = change(
        &app,
        "urn:uuid:00000000-0000-4000-8000-000000000000",
        "revoked",
        Some("fraud"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = app.json("GET", "/status/revocation-99", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn audit_has_one_entry_per_change() {
    let app = TestApp::start().await;
    let id = credential_id(&issue(&app).await);
    for (target, reason) in [("suspended", "a"), ("active", "b"), ("revoked", "c")] {
        let (status, body) = change(&app, &id, target, Some(reason)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let entries = issuer::audit::recent(&app.state.db, Some(&id), 10)
        .await
        .expect("audit");
    let actions: Vec<(&str, Option<&str>, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.reason.as_deref(), e.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("revoke", Some("c"), "staff"),
            ("reinstate", Some("b"), "staff"),
            ("suspend", Some("a"), "staff"),
            ("issue", None, "staff"),
        ]
    );
}

#[tokio::test]
async fn list_etag_answers_304() {
    let app = TestApp::start().await;
    let credential = issue(&app).await;
    let (url, _) = entry(&credential, "revocation");
    let path = list_path(&url);

    let get = |etag: Option<String>| {
        let router = app.router.clone();
        let path = path.clone();
        async move {
            let mut request = Request::get(&path);
            if let Some(etag) = etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            let response = router
                .oneshot(request.body(Body::empty()).expect("request"))
                .await
                .expect("response");
            let etag = response
                .headers()
                .get(header::ETAG)
                .map(|v| v.to_str().expect("ascii").to_owned());
            let cache = response
                .headers()
                .get(header::CACHE_CONTROL)
                .map(|v| v.to_str().expect("ascii").to_owned());
            (response.status(), etag, cache)
        }
    };
    let (status, etag, cache) = get(None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cache.as_deref(), Some("public, max-age=300"));
    let etag = etag.expect("etag");
    let (status, again, _) = get(Some(etag.clone())).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.as_deref(), Some(etag.as_str()));

    let (status, _) = change(&app, &credential_id(&credential), "revoked", Some("fraud")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, changed, _) = get(Some(etag.clone())).await;
    assert_eq!(status, StatusCode::OK, "a changed list is sent again");
    assert_ne!(changed.as_deref(), Some(etag.as_str()));
}

#[tokio::test]
async fn failed_change_leaves_nothing() {
    let app = TestApp::start().await;
    let credential = issue(&app).await;
    let id = credential_id(&credential);
    let versions = || async {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT id, version FROM status_lists ORDER BY id")
                .fetch_all(&app.state.db)
                .await
                .expect("versions");
        rows
    };
    let before = versions().await;

    // Every write of the change is made, then the transaction ends without
    // a commit, as when the process is killed before it commits.
    let mut tx = app.state.db.begin().await.expect("begin");
    let change = status::Change {
        credential_id: &id,
        target: status::State::Revoked,
        reason: "fraud",
        actor: "staff",
    };
    status::apply_change(&mut tx, &change, "fraud", Utc::now())
        .await
        .expect("change inside the transaction");
    tx.rollback().await.expect("rollback");

    assert_eq!(state_of(&app, &id).await, "active");
    assert_eq!(status_audit_count(&app, &id).await, 0);
    assert_eq!(versions().await, before);
    let (url, _) = entry(&credential, "revocation");
    assert!(fetch_list(&app, &url).await.1.is_empty());
}

#[tokio::test]
async fn command_prints_plan_then_acts_with_yes() {
    let app = TestApp::start().await;
    let (modules, path) = complete_path(&app).await;
    let path_id = credential_id(&path);
    let run = |yes: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_issuer"));
        command
            .args(["revoke", &path_id, "--reason", "path criteria changed"])
            .env("DATA_DIR", app.dir.path())
            .env("DATABASE_URL", &app.state.config.database_url)
            .env("ISSUER_PUBLIC_URL", &app.state.config.public_url)
            .env("RUST_LOG", "warn");
        if yes {
            command.arg("--yes");
        }
        command.output().expect("run issuer")
    };

    let output = run(false);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plan = String::from_utf8_lossy(&output.stdout);
    assert!(plan.contains(&path_id), "{plan}");
    assert!(plan.contains(MEMBER), "{plan}");
    assert!(plan.contains(PATH), "{plan}");
    assert!(plan.contains("Current state: active"), "{plan}");
    for module in &modules {
        assert!(plan.contains(&credential_id(module)), "{plan}");
    }
    assert_eq!(state_of(&app, &path_id).await, "active");

    let output = run(true);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(state_of(&app, &path_id).await, "revoked");
    let entries = issuer::audit::recent(&app.state.db, Some(&path_id), 1)
        .await
        .expect("audit");
    assert!(entries[0].actor.starts_with("cli:"), "{:?}", entries[0]);

    let output = run(true);
    assert!(
        !output.status.success(),
        "a revoked credential stays revoked"
    );
}
