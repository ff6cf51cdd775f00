mod common;

use axum::http::StatusCode;
use common::{TestApp, STAFF};
use issuer::keystore::KeyError;
use issuer::reissue;
use serde_json::Value;

const ACTOR: &str = "cli:test";

async fn stored_document(app: &TestApp, id: &str) -> Value {
    let (status, document) = app
        .json("GET", &format!("/credentials/{id}"), Some(STAFF), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{document}");
    document["verifiableCredential"].clone()
}

fn method_of(credential: &Value) -> &str {
    credential["proof"]["verificationMethod"]
        .as_str()
        .expect("verificationMethod")
}

#[tokio::test]
async fn old_credential_verifies_after_rotation() {
    let app = TestApp::start().await;
    let (_, before) = app
        .complete("m-0002", "fin-bookkeeping", "2026-11-20")
        .await;
    let old_id = before["module_credential"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let added = app.state.keys.add_key(ACTOR).await.expect("add");
    assert_eq!(added, "key-2");
    app.state
        .keys
        .activate(&added, ACTOR)
        .await
        .expect("activate");

    let (_, after) = app
        .complete("m-0002", "fin-annual-accounts", "2026-11-21")
        .await;
    let new_id = after["module_credential"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let old = stored_document(&app, &old_id).await;
    let new = stored_document(&app, &new_id).await;
    assert!(method_of(&old).ends_with("#key-1"));
    assert!(method_of(&new).ends_with("#key-2"));

    // The verifier gets the DID document as published after the rotation.
    let (_, document) = app.json("GET", "/.well-known/did.json", None, None).await;
    assert_eq!(
        document["verificationMethod"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(
        document["assertionMethod"].as_array().map(Vec::len),
        Some(2)
    );
    let verifier = app.verifier().await;
    let now = chrono::Utc::now();
    let report = verifier.verify_credential(&old, now);
    assert!(report.verified, "{:?}", report.errors);
    let report = verifier.verify_credential(&new, now);
    assert!(report.verified, "{:?}", report.errors);

    let states: Vec<(String, &str)> = app
        .state
        .keys
        .list()
        .await
        .expect("list")
        .iter()
        .map(|key| (key.fragment.clone(), key.state()))
        .collect();
    assert_eq!(
        states,
        [
            ("key-1".to_owned(), "retired"),
            ("key-2".to_owned(), "current")
        ]
    );
    let actions: Vec<String> = issuer::audit::recent(&app.state.db, Some("key-2"), 10)
        .await
        .expect("audit")
        .into_iter()
        .map(|entry| entry.action)
        .collect();
    assert_eq!(actions, ["key_activate", "key_add"]);
}

#[tokio::test]
async fn rotation_reaches_other_processes() {
    let app = TestApp::start().await;
    // A second process on the same database rotates the key.
    let other = issuer::AppState::open(app.state.config.as_ref().clone())
        .await
        .expect("second state");
    let added = other.keys.add_key(ACTOR).await.expect("add");
    other.keys.activate(&added, ACTOR).await.expect("activate");

    let (_, body) = app
        .complete("m-0002", "fin-bookkeeping", "2026-11-20")
        .await;
    let id = body["module_credential"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let credential = stored_document(&app, &id).await;
    assert!(method_of(&credential).ends_with(&format!("#{added}")));
}

#[tokio::test]
async fn did_document_has_short_cache() {
    let app = TestApp::start().await;
    let request = axum::http::Request::get("/.well-known/did.json")
        .body(axum::body::Body::empty())
        .expect("request");
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .expect("response");
    let cache = response
        .headers()
        .get("cache-control")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(cache, "public, max-age=60");
}

#[tokio::test]
async fn compromise_and_reissue() {
    let app = TestApp::start().await;
    let keys = &app.state.keys;
    let (_, body) = app
        .complete("m-0002", "fin-bookkeeping", "2026-11-20")
        .await;
    let old_id = body["module_credential"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let old = stored_document(&app, &old_id).await;

    // The current key cannot be marked compromised.
    let refused = keys.mark_compromised("key-1", "laptop stolen", ACTOR).await;
    assert!(matches!(refused, Err(KeyError::Current(_))), "{refused:?}");
    assert!(matches!(
        keys.mark_compromised("key-9", "typo", ACTOR).await,
        Err(KeyError::NotFound(_))
    ));

    let added = keys.add_key(ACTOR).await.expect("add");
    keys.activate(&added, ACTOR).await.expect("activate");
    // Re-issuing needs the key marked compromised first.
    assert!(reissue::reissue_all(&app.state.db, keys, "key-1", ACTOR)
        .await
        .is_err());
    keys.mark_compromised("key-1", "laptop stolen", ACTOR)
        .await
        .expect("compromise");
    assert!(matches!(
        keys.activate("key-1", ACTOR).await,
        Err(KeyError::Compromised(_))
    ));

    let (_, document) = app.json("GET", "/.well-known/did.json", None, None).await;
    let methods: Vec<&str> = document["verificationMethod"]
        .as_array()
        .expect("methods")
        .iter()
        .filter_map(|method| method["id"].as_str())
        .collect();
    assert_eq!(methods.len(), 1);
    assert!(methods[0].ends_with("#key-2"));
    let verifier = app.verifier().await;
    let report = verifier.verify_credential(&old, chrono::Utc::now());
    assert!(!report.verified);

    let signed = reissue::signed_by(&app.state.db, keys, "key-1")
        .await
        .expect("signed by");
    let listed: Vec<&str> = signed.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(listed, [old_id.as_str()]);
    assert!(signed[0].replaced_by.is_none());

    let done = reissue::reissue_all(&app.state.db, keys, "key-1", ACTOR)
        .await
        .expect("reissue");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].old_id, old_id);
    assert_ne!(done[0].new_id, old_id);
    let new = stored_document(&app, &done[0].new_id).await;
    assert!(method_of(&new).ends_with("#key-2"));
    let report = verifier.verify_credential(&new, chrono::Utc::now());
    assert!(report.verified, "{:?}", report.errors);
    for field in ["validFrom", "validUntil", "evidence"] {
        assert_eq!(new.get(field), old.get(field), "{field}");
    }
    assert_eq!(new["credentialSubject"], old["credentialSubject"]);
    assert_eq!(
        new["credentialSubject"]["achievement"]["id"],
        old["credentialSubject"]["achievement"]["id"]
    );
    let (status, shared) = app
        .json(
            "GET",
            &format!("/public/credentials/{}", done[0].share_token),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shared, new);

    // Running it again finds nothing left to re-issue.
    let again = reissue::reissue_all(&app.state.db, keys, "key-1", ACTOR)
        .await
        .expect("reissue again");
    assert!(again.is_empty());
    let signed = reissue::signed_by(&app.state.db, keys, "key-1")
        .await
        .expect("signed by");
    assert_eq!(
        signed[0].replaced_by.as_deref(),
        Some(done[0].new_id.as_str())
    );

    let compromise = issuer::audit::recent(&app.state.db, Some("key-1"), 10)
        .await
        .expect("audit");
    assert_eq!(compromise[0].action, "key_compromise");
    assert_eq!(compromise[0].reason.as_deref(), Some("laptop stolen"));
    assert_eq!(compromise[0].actor, ACTOR);
    let reissued = issuer::audit::recent(&app.state.db, Some(&done[0].new_id), 10)
        .await
        .expect("audit");
    assert_eq!(reissued.len(), 1);
    assert_eq!(reissued[0].action, "reissue");
    let details: Value = serde_json::from_str(&reissued[0].details).expect("details");
    assert_eq!(details["replaces"], old_id.as_str());
}

#[tokio::test]
async fn reissued_path_keeps_one_per_member() {
    let app = TestApp::start().await;
    let modules = app.path_modules("path-finance").await;
    assert!(!modules.is_empty(), "the catalogue has a finance path");
    let mut path_id = None;
    for module in &modules {
        let (status, body) = app.complete("m-0002", module, "2026-11-20").await;
        assert!(status.is_success(), "{body}");
        if let Some(path) = body["path_credentials"].as_array().and_then(|p| p.first()) {
            path_id = path["id"].as_str().map(str::to_owned);
        }
    }
    let path_id = path_id.expect("path credential issued");

    let keys = &app.state.keys;
    let added = keys.add_key(ACTOR).await.expect("add");
    keys.activate(&added, ACTOR).await.expect("activate");
    keys.mark_compromised("key-1", "test", ACTOR)
        .await
        .expect("compromise");
    let done = reissue::reissue_all(&app.state.db, keys, "key-1", ACTOR)
        .await
        .expect("reissue");
    assert_eq!(done.len(), modules.len() + 1);
    assert!(done.iter().any(|r| r.old_id == path_id));
}

#[tokio::test]
async fn key_routes_need_keys_scope() {
    let app = TestApp::start().await;
    let (status, body) = app.json("GET", "/keys", Some(STAFF), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["keys"][0]["state"], "current");
    assert!(body["keys"][0].get("encrypted_secret").is_none());
    let (status, _) = app.json("GET", "/keys", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let added = app.state.keys.add_key(ACTOR).await.expect("add");
    let (status, _, _) = app
        .request(
            "POST",
            &format!("/keys/{added}/activate"),
            Some(STAFF),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = app
        .request("POST", "/keys/key-9/activate", Some(STAFF), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let entries = issuer::audit::recent(&app.state.db, Some(&added), 1)
        .await
        .expect("audit");
    assert_eq!(entries[0].action, "key_activate");
    assert_eq!(entries[0].actor, "staff");
}
