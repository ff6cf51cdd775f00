//! Credential status through the service: the VC API and the pages fetch
//! status lists from a loopback server, through the guarded client.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use credentials::status::{Bitstring, MIN_ENTRIES};
use credentials::{keys, proof};
use ed25519_dalek::SigningKey;
use http_body_util::BodyExt;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;
use verifier::fetch::{FetchLimits, Fetcher};
use verifier::{TrustEntry, VerifierState};

const INDEX: u64 = 77;

/// Status lists by id, served at `/status/{id}`; a missing id is a 404.
type Lists = Arc<Mutex<HashMap<String, Value>>>;

struct World {
    key: SigningKey,
    did: String,
    origin: String,
    lists: Lists,
}

async fn serve_list(
    State(lists): State<Lists>,
    Path(id): Path<String>,
) -> axum::response::Response {
    let list = lists.lock().expect("lists").get(&id).cloned();
    match list {
        Some(list) => (
            [
                (header::CONTENT_TYPE, "application/vc"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            list.to_string(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn world() -> World {
    let lists: Lists = Arc::default();
    let app = Router::new()
        .route("/status/{id}", get(serve_list))
        .with_state(lists.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let key = keys::generate();
    let did = keys::did_key(&key.verifying_key());
    World {
        key,
        did,
        origin,
        lists,
    }
}

impl World {
    fn sign(&self, document: Value) -> Value {
        let fragment = self.did.trim_start_matches("did:key:");
        let options = json!({
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2026-11-01T00:00:00Z",
            "verificationMethod": format!("{}#{fragment}", self.did),
            "proofPurpose": "assertionMethod",
        });
        let signed = proof::sign(object(&document), object(&options), &self.key).expect("sign");
        Value::Object(signed)
    }

    fn list_url(&self, id: &str) -> String {
        format!("{}/status/{id}", self.origin)
    }

    fn credential(&self) -> Value {
        let entry = |purpose: &str, id: &str| {
            json!({
                "id": format!("{}#{INDEX}", self.list_url(id)),
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
                "statusListIndex": INDEX.to_string(),
                "statusListCredential": self.list_url(id),
            })
        };
        self.sign(json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": self.did,
            "validFrom": "2026-11-20T00:00:00Z",
            "credentialSubject": {"id": "did:example:member", "name": "Khadija"},
            "credentialStatus": [
                entry("revocation", "revocation-1"),
                entry("suspension", "suspension-1"),
            ],
        }))
    }

    /// Publishes a signed list with the given bits set.
    fn publish(&self, id: &str, purpose: &str, set: &[u64]) {
        let mut bits = Bitstring::from_bytes(vec![0; (MIN_ENTRIES / 8) as usize]);
        for index in set {
            bits.set(*index, true).expect("index");
        }
        let url = self.list_url(id);
        let now = chrono::Utc::now();
        let list = self.sign(json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": self.did,
            "validFrom": credentials::datetime::format(now - chrono::Duration::hours(1)),
            "validUntil": credentials::datetime::format(now + chrono::Duration::days(1)),
            "credentialSubject": {
                "id": format!("{url}#list"),
                "type": "BitstringStatusList",
                "statusPurpose": purpose,
                "encodedList": bits.encode(),
            },
        }));
        self.lists
            .lock()
            .expect("lists")
            .insert(id.to_owned(), list);
    }

    fn trust(&self, credentials_url: Option<String>) -> Vec<TrustEntry> {
        vec![TrustEntry {
            id: self.did.clone(),
            name: [("en", "Test Academy"), ("fr", "Académie d'essai")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            did_document: json!({"id": self.did}),
            credentials_url,
        }]
    }

    /// Builds a verifier whose trusted issuer file names this server's
    /// origin, as `issuer export-trust` writes it.
    fn verifier(&self) -> Router {
        let state = VerifierState::new(self.trust(Some(self.origin.clone()))).expect("state");
        verifier::router(state)
    }
}

fn object(value: &Value) -> &Map<String, Value> {
    value.as_object().expect("object")
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn verify_api(router: &Router, credential: &Value) -> (StatusCode, Value) {
    let request = Request::post("/credentials/verify")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"verifiableCredential": credential}).to_string(),
        ))
        .expect("request");
    let (status, text) = send(router, request).await;
    (status, serde_json::from_str(&text).expect("json"))
}

async fn check_page(router: &Router, credential: &Value, language: &str) -> String {
    let boundary = "XBOUNDARY";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"credential\"\r\n\r\n{credential}\r\n--{boundary}--\r\n"
    );
    let request = Request::post(format!("/check?lang={language}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request");
    let (status, page) = send(router, request).await;
    assert_eq!(status, StatusCode::OK);
    page
}

#[tokio::test]
async fn api_reports_clear_status() {
    let world = world().await;
    world.publish("revocation-1", "revocation", &[INDEX + 1]);
    world.publish("suspension-1", "suspension", &[]);
    let (status, body) = verify_api(&world.verifier(), &world.credential()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["verified"], true);
    assert_eq!(body["outcome"], "genuine");
    assert!(body["status_checked_at"].as_str().is_some(), "{body}");
    assert_eq!(body["credential_status"][0]["state"], "clear");
    assert_eq!(body["credential_status"][1]["state"], "clear");
}

#[tokio::test]
async fn api_reports_revoked_suspended_and_unknown() {
    let world = world().await;
    let router = world.verifier();
    let cases: [(&[u64], &[u64], &str, &str); 4] = [
        (&[INDEX], &[], "revoked", "Credential revoked"),
        (&[], &[INDEX], "suspended", "Credential suspended"),
        (&[INDEX], &[INDEX], "revoked", "Credential revoked"),
        (&[], &[], "genuine", ""),
    ];
    for (revoked, suspended, outcome, title) in cases {
        world.publish("revocation-1", "revocation", revoked);
        world.publish("suspension-1", "suspension", suspended);
        let (status, body) = verify_api(&router, &world.credential()).await;
        assert_eq!(body["outcome"], outcome, "{body}");
        if outcome == "genuine" {
            assert_eq!(status, StatusCode::OK);
        } else {
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(body["title"], title, "{body}");
            assert_eq!(body["verified"], false);
        }
    }

    world.lists.lock().expect("lists").remove("suspension-1");
    let (status, body) = verify_api(&router, &world.credential()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["outcome"], "status_unknown", "{body}");
    assert_eq!(body["credential_status"][1]["state"], "unknown", "{body}");
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("HTTP 404")),
        "{body}"
    );
}

#[tokio::test]
async fn unconfigured_loopback_list_is_not_fetched() {
    // The issuer is trusted but its credentials_url is not set, so its
    // loopback lists are outside every configured origin.
    let world = world().await;
    world.publish("revocation-1", "revocation", &[]);
    world.publish("suspension-1", "suspension", &[]);
    let production = verifier::router(VerifierState::new(world.trust(None)).expect("state"));
    let (_, body) = verify_api(&production, &world.credential()).await;
    assert_eq!(body["outcome"], "status_unknown", "{body}");
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("only https URLs are allowed")),
        "{body}"
    );

    let fetcher =
        Fetcher::allowing_loopback_for_tests(&[], FetchLimits::default()).expect("client");
    let allowed =
        verifier::router(VerifierState::with_fetcher(world.trust(None), fetcher).expect("state"));
    let (_, body) = verify_api(&allowed, &world.credential()).await;
    assert_eq!(body["outcome"], "genuine", "{body}");
}

#[tokio::test]
async fn presentation_credentials_get_status() {
    let world = world().await;
    world.publish("revocation-1", "revocation", &[INDEX]);
    world.publish("suspension-1", "suspension", &[]);
    let presentation = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [world.credential()],
    });
    let request = Request::post("/presentations/verify")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"verifiablePresentation": presentation}).to_string(),
        ))
        .expect("request");
    let (status, text) = send(&world.verifier(), request).await;
    let body: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["credentials"][0]["outcome"], "revoked", "{body}");
    assert_eq!(body["verified"], false);
}

#[tokio::test]
async fn pages_show_status_verdicts_in_four_languages() {
    let world = world().await;
    let router = world.verifier();
    let verdicts = [
        ("revoked", &[INDEX][..], &[][..], "bad", "✖"),
        ("suspended", &[][..], &[INDEX][..], "bad", "⏸"),
    ];
    let translations = verifier::translations().expect("translations");
    for (key, revoked, suspended, class, symbol) in verdicts {
        world.publish("revocation-1", "revocation", revoked);
        world.publish("suspension-1", "suspension", suspended);
        for language in ["en", "fr", "ar", "zgh"] {
            let page = check_page(&router, &world.credential(), language).await;
            let title = translations.text(language, &format!("verdict.{key}"), &[]);
            assert!(page.contains(&title), "{key} {language}: {title}");
            assert!(
                page.contains(&format!("verdict {class}")),
                "{key} {language}"
            );
            assert!(page.contains(symbol), "{key} {language}");
            let checked = translations.text(language, "footer.status_checked", &[("time", "")]);
            let prefix = checked.split("  ").next().unwrap_or(&checked).trim();
            assert!(page.contains(prefix), "{key} {language}: {prefix}");
        }
    }

    world.lists.lock().expect("lists").clear();
    for language in ["en", "fr", "ar", "zgh"] {
        let page = check_page(&router, &world.credential(), language).await;
        let title = translations.text(language, "verdict.status_unknown", &[]);
        assert!(page.contains(&title), "status_unknown {language}");
        assert!(page.contains("verdict unknown"), "{language}");
        let genuine = translations.text(language, "verdict.genuine", &[]);
        assert!(!page.contains(&genuine), "{language}: genuine shown");
    }
    let arabic = check_page(&router, &world.credential(), "ar").await;
    assert!(arabic.contains("dir=\"rtl\""));
}
