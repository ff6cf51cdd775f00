//! The verifier against a real issuer: API responses, presentations, the
//! pages, and the QR code followed to its verdict.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use credentials::{keys, proof, Outcome};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use verifier::{TrustEntry, VerifierState};

mod common;
use common::{form_post, repo_file, world, world_with, World};

impl World {
    async fn complete(&self, member: &str, module: &str, date: &str) -> Value {
        let response = reqwest::Client::new()
            .post(format!("{}/completions", self.issuer_url))
            .bearer_auth("platform-test-token")
            .json(&json!({"member_id": member, "module_id": module, "completed_on": date}))
            .send()
            .await
            .expect("completion");
        assert!(response.status().is_success(), "{}", response.status());
        response.json().await.expect("json")
    }

    async fn credential(&self, id: &str) -> Value {
        let document: String = sqlx::query_scalar("SELECT document FROM credentials WHERE id = $1")
            .bind(id)
            .fetch_one(&self.issuer.db)
            .await
            .expect("document");
        serde_json::from_str(&document).expect("json")
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, String, String) {
        let response = self
            .verifier
            .clone()
            .oneshot(request)
            .await
            .expect("response");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (
            status,
            content_type,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    async fn post_json(&self, uri: &str, body: Value) -> (StatusCode, String, Value) {
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        let (status, content_type, text) = self.send(request).await;
        (
            status,
            content_type,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, uri: &str, language: &str) -> (StatusCode, String) {
        let request = Request::get(uri)
            .header(header::ACCEPT_LANGUAGE, language)
            .body(Body::empty())
            .expect("request");
        let (status, _, text) = self.send(request).await;
        (status, text)
    }
}

#[tokio::test]
async fn api_verifies_our_credentials() {
    let world = world().await;
    let issued = world
        .complete("m-0004", "fin-bookkeeping", "2026-11-10")
        .await;
    let credential = world
        .credential(issued["module_credential"]["id"].as_str().expect("id"))
        .await;

    let (status, _, report) = world
        .post_json(
            "/credentials/verify",
            json!({"verifiableCredential": credential}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["verified"], true);
    assert_eq!(report["outcome"], "genuine");
    for check in ["proof", "proof.issuer", "validFrom", "issuer", "@context"] {
        assert!(
            report["checks"]
                .as_array()
                .expect("checks")
                .contains(&json!(check)),
            "{check}"
        );
    }

    let mut altered = credential.clone();
    altered["credentialSubject"]["achievement"]["name"][0]["@value"] = json!("شهادة مزورة");
    let (status, content_type, report) = world
        .post_json(
            "/credentials/verify",
            json!({"verifiableCredential": altered}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(
        report["type"],
        "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR"
    );
    assert_eq!(report["outcome"], "altered");
    assert_eq!(report["verified"], false);
}

#[tokio::test]
async fn api_reports_error_types() {
    let world = world().await;
    let expired: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("fixtures/dcc-fixtures/verifiableCredentials/v2/ed25519/didKey/legacy-noStatus-expired.json")).expect("fixture"),
    )
    .expect("json");
    let (status, _, report) = world
        .post_json(
            "/credentials/verify",
            json!({"verifiableCredential": expired}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        report["type"],
        "https://www.w3.org/TR/vc-data-model#RANGE_ERROR"
    );
    assert_eq!(report["outcome"], "expired");
    assert!(
        report["checks"]
            .as_array()
            .expect("checks")
            .contains(&json!("proof")),
        "signature still checked"
    );

    let (status, _, report) = world.post_json("/credentials/verify", json!({"verifiableCredential": {"@context": ["https://evil.example/ctx"], "type": ["VerifiableCredential"]}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        report["type"],
        "https://www.w3.org/TR/vc-data-model#PARSING_ERROR"
    );

    let (status, _, report) = world
        .post_json("/credentials/verify", json!({"credential": {}}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(report["field"], "verifiableCredential");

    let request = Request::post("/credentials/verify")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .expect("request");
    let (status, content_type, _) = world.send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(content_type, "application/problem+json");

    let duplicate = r#"{"verifiableCredential": {"issuer": "did:web:a.example", "issuer": "did:web:b.example"}}"#;
    let request = Request::post("/credentials/verify")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(duplicate))
        .expect("request");
    let (status, _, text) = world.send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("duplicate key"), "{text}");

    let huge = "x".repeat(verifier::api::MAX_BODY_BYTES + 10);
    let request = Request::post("/credentials/verify")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(format!(
            "{{\"verifiableCredential\":\"{huge}\"}}"
        )))
        .expect("request");
    let (status, _, _) = world.send(request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// Signs a presentation of `credentials` with a holder's did:key.
fn presentation(credentials: Vec<Value>, challenge: &str, domain: &str) -> Value {
    let holder = keys::generate();
    let did = keys::did_key(&holder.verifying_key());
    let multibase = keys::public_multibase(&holder.verifying_key());
    let unsigned = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did,
        "verifiableCredential": credentials,
    });
    let options = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-12-01T10:00:00Z",
        "verificationMethod": format!("{did}#{multibase}"),
        "proofPurpose": "authentication",
        "challenge": challenge,
        "domain": domain,
    });
    let signed = proof::sign(
        unsigned.as_object().expect("object"),
        options.as_object().expect("object"),
        &holder,
    )
    .expect("sign");
    Value::Object(signed)
}

#[tokio::test]
async fn presentation_checks_each_credential() {
    let world = world().await;
    let first = world
        .complete("m-0004", "fin-bookkeeping", "2026-11-10")
        .await;
    let second = world
        .complete("m-0004", "fin-annual-accounts", "2026-11-11")
        .await;
    let good = world
        .credential(first["module_credential"]["id"].as_str().expect("id"))
        .await;
    let mut bad = world
        .credential(second["module_credential"]["id"].as_str().expect("id"))
        .await;
    bad["validFrom"] = json!("2020-01-01T00:00:00Z");

    let both = presentation(vec![good.clone(), bad], "c-123", "bank.example");
    let (status, _, report) = world
        .post_json("/presentations/verify", json!({"verifiablePresentation": both, "options": {"challenge": "c-123", "domain": "bank.example"}}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{report}");
    assert_eq!(report["verified"], false);
    assert!(
        report["errors"].as_array().expect("errors").is_empty(),
        "the presentation's own proof is fine: {report}"
    );
    assert_eq!(report["credentials"][0]["outcome"], "genuine");
    assert_eq!(report["credentials"][1]["outcome"], "altered");

    let single = presentation(vec![good], "c-123", "bank.example");
    let (status, _, report) = world
        .post_json("/presentations/verify", json!({"verifiablePresentation": single, "options": {"challenge": "c-123", "domain": "bank.example"}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");

    let (status, _, report) = world
        .post_json("/presentations/verify", json!({"verifiablePresentation": single, "options": {"challenge": "other", "domain": "bank.example"}}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        report["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .any(|e| e["check"] == "challenge"),
        "{report}"
    );

    let (status, _, report) = world
        .post_json(
            "/presentations/verify",
            json!({"verifiablePresentation": single}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert!(
        report["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w["check"] == "challenge"),
        "a presentation checked without a challenge is flagged: {report}"
    );

    let mut tampered = single.clone();
    tampered["holder"] = json!("did:example:someone-else");
    let (status, _, report) = world
        .post_json(
            "/presentations/verify",
            json!({"verifiablePresentation": tampered, "options": {"challenge": "c-123"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{report}");
}

#[tokio::test]
async fn qr_code_leads_to_genuine_page() {
    let world = world().await;
    let issued = world
        .complete("m-0001", "gov-law-112-12", "2026-10-01")
        .await;
    let token = issued["module_credential"]["share_token"]
        .as_str()
        .expect("token");
    let png = reqwest::get(format!(
        "{}/public/credentials/{token}/qr.png",
        world.issuer_url
    ))
    .await
    .expect("qr")
    .bytes()
    .await
    .expect("bytes");
    let image = image::load_from_memory(&png).expect("png").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    let (_, link) = grids[0].decode().expect("decode");
    // QR links write the origin and `/V/` in capitals
    // (`credentials::compact::verification_link`).
    let path = link
        .strip_prefix("HTTP://127.0.0.1:8081")
        .expect("verifier link");
    assert!(path.starts_with(&format!("/V/{token}#")), "{path}");
    let path = path.split('#').next().expect("path");

    let (status, page) = world.get(path, "fr-FR,fr;q=0.9").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<html lang=\"fr\" dir=\"ltr\">"));
    assert!(page.contains("class=\"verdict good\""), "{page}");
    assert!(
        page.contains("Académie TaaWounYa"),
        "issuer name from the trusted list"
    );
    assert!(page.contains("Fatima Ait Baha"));

    let (status, page) = world.get(path, "ar").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<html lang=\"ar\" dir=\"rtl\">"));
    assert!(page.contains("<bdi>Fatima Ait Baha</bdi>"));

    let (status, page) = world.get("/v/0123456789abcdef0123456789abcdef", "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("class=\"error\""));
}

#[tokio::test]
async fn pasted_credential_gets_a_verdict() {
    let world = world().await;
    let issued = world
        .complete("m-0001", "gov-law-112-12", "2026-10-01")
        .await;
    let credential = world
        .credential(issued["module_credential"]["id"].as_str().expect("id"))
        .await;
    let mut forged_name = credential.clone();
    forged_name["credentialSubject"]["name"][1]["@value"] = json!("<script>alert(1)</script>");

    // A genuine credential whose name contains a right-to-left override.
    sqlx::query("UPDATE members SET name_latin = $1 WHERE id = 'm-0002'")
        .bind("Khadija\u{202E}alamoK")
        .execute(&world.issuer.db)
        .await
        .expect("rename");
    let issued = world
        .complete("m-0002", "gov-law-112-12", "2026-10-01")
        .await;
    let reordering = world
        .credential(issued["module_credential"]["id"].as_str().expect("id"))
        .await;

    for (document, class) in [
        (credential.to_string(), "verdict good"),
        (forged_name.to_string(), "verdict bad"),
        ("not a certificate".to_owned(), "error"),
    ] {
        let request = form_post("/check?lang=en", "credential", None, document.as_bytes());
        let (_, _, page) = world.send(request).await;
        assert!(page.contains(class), "{class}: {page}");
        if class == "verdict bad" {
            assert!(
                !page.contains("<dl>"),
                "an altered certificate's claims are not shown as facts"
            );
        }
        assert!(
            !page.contains("<script>alert"),
            "markup from a credential must be escaped"
        );
    }

    let request = form_post(
        "/check?lang=en",
        "credential",
        None,
        reordering.to_string().as_bytes(),
    );
    let (_, _, page) = world.send(request).await;
    assert!(page.contains("verdict good"), "{page}");
    assert!(
        page.contains("<bdi>KhadijaalamoK</bdi>"),
        "override removed: {page}"
    );
    assert!(!page.contains('\u{202E}'));
}

#[tokio::test]
async fn check_form_without_multipart_gets_a_page() {
    let world = world().await;
    let request = Request::post("/check?lang=fr")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("credential=%7B%7D"))
        .expect("request");
    let (status, content_type, page) = world.send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(page.contains("class=\"error\""), "{page}");
}

#[tokio::test]
async fn check_form_rejects_two_different_submissions() {
    let world = world().await;
    let boundary = "XBOUNDARY";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"credential\"\r\n\r\n{{\"a\": 1}}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.json\"\r\nContent-Type: application/json\r\n\r\n{{\"b\": 2}}\r\n--{boundary}--\r\n"
    );
    let request = Request::post("/check?lang=en")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request");
    let (status, _, page) = world.send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("not both"), "{page}");
}

#[tokio::test]
async fn check_form_skips_byte_order_mark() {
    let world = world().await;
    let credential = std::fs::read_to_string(repo_file("fixtures/dcc-fixtures/verifiableCredentials/v2/dataIntegrityProof/didKey/legacyRegistry-noStatus-noExpiry-basicOBv3.json")).expect("fixture");
    let file = format!("\u{FEFF}{credential}");
    let request = form_post("/check?lang=en", "file", Some("c.json"), file.as_bytes());
    let (status, _, page) = world.send(request).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Issuer not recognised"), "{page}");
}

#[tokio::test]
async fn third_party_credential_not_recognised() {
    let world = world().await;
    let credential: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("fixtures/dcc-fixtures/verifiableCredentials/v2/dataIntegrityProof/didKey/legacyRegistry-noStatus-noExpiry-basicOBv3.json")).expect("fixture"),
    )
    .expect("json");
    let (status, _, report) = world
        .post_json(
            "/credentials/verify",
            json!({"verifiableCredential": credential}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["outcome"], "issuer_not_recognised");
    assert_eq!(
        serde_json::from_value::<Outcome>(report["outcome"].clone()).expect("outcome"),
        Outcome::IssuerNotRecognised
    );
}

#[tokio::test]
async fn another_key_claiming_the_academy_is_forged() {
    let world = world().await;
    let issued = world
        .complete("m-0001", "gov-law-112-12", "2026-10-01")
        .await;
    let credential = world
        .credential(issued["module_credential"]["id"].as_str().expect("id"))
        .await;
    let mut unsigned = credential.as_object().expect("object").clone();
    unsigned.remove("proof");
    let impostor = keys::generate();
    let did = keys::did_key(&impostor.verifying_key());
    let multibase = keys::public_multibase(&impostor.verifying_key());
    let options = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-12-01T10:00:00Z",
        "verificationMethod": format!("{did}#{multibase}"),
        "proofPurpose": "assertionMethod",
    });
    let forged = Value::Object(
        proof::sign(&unsigned, options.as_object().expect("object"), &impostor).expect("sign"),
    );

    let (status, _, report) = world
        .post_json(
            "/credentials/verify",
            json!({"verifiableCredential": forged}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(report["outcome"], "forged");
    assert!(
        report["credential"]["issuer_name"].is_null(),
        "no trusted name for a forgery: {report}"
    );

    let mut altered_by_impostor = forged.clone();
    altered_by_impostor["validFrom"] = json!("2026-01-01T00:00:00Z");
    let (_, _, report) = world
        .post_json(
            "/credentials/verify",
            json!({"verifiableCredential": altered_by_impostor}),
        )
        .await;
    assert_eq!(
        report["outcome"], "forged",
        "a foreign key is a forgery even when the signature also fails"
    );
}

#[tokio::test]
async fn busy_verifier_answers_503() {
    let mut state = VerifierState::new(Vec::new()).expect("state");
    state.slots = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let router = verifier::router(state);
    let credential = std::fs::read_to_string(repo_file(
        "fixtures/dcc-fixtures/verifiableCredentials/v2/dataIntegrityProof/didKey/legacyRegistry-noStatus-noExpiry-minimal.json",
    ))
    .expect("fixture");
    let request = Request::post("/credentials/verify")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(format!(
            "{{\"verifiableCredential\": {credential}}}"
        )))
        .expect("request");
    let response = router.oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
}

/// Returns the compact form the issuer stored for credential `id`.
async fn stored_compact(world: &World, id: &str) -> String {
    sqlx::query_scalar("SELECT compact FROM credential_compact_forms WHERE credential_id = $1")
        .bind(id)
        .fetch_one(&world.issuer.db)
        .await
        .expect("compact form stored with the credential")
}

/// Decodes the one QR code in `png`, drawn at one, two, then three times
/// its size until one decodes. In one test run rqrr 0.9 reported a data
/// error (`DataEcc`) on a clean code from the issuer at its own size, and
/// the image was not kept. The panic lists the error at each size.
fn decode_qr(png: &[u8]) -> String {
    let image = image::load_from_memory(png).expect("png").to_luma8();
    let mut errors = Vec::new();
    for scale in [1, 2, 3] {
        let scaled = image::imageops::resize(
            &image,
            image.width() * scale,
            image.height() * scale,
            image::imageops::FilterType::Nearest,
        );
        let mut prepared = rqrr::PreparedImage::prepare(scaled);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1, "QR codes found at scale {scale}");
        match grids[0].decode() {
            Ok((_, content)) => return content,
            Err(error) => errors.push(format!("scale {scale}: {error:?}")),
        }
    }
    panic!("the QR code could not be decoded: {errors:?}");
}

async fn qr_link(world: &World, token: &str) -> String {
    let png = reqwest::get(format!(
        "{}/public/credentials/{token}/qr.png",
        world.issuer_url
    ))
    .await
    .expect("qr")
    .bytes()
    .await
    .expect("bytes");
    decode_qr(&png)
}

#[tokio::test]
async fn compact_form_checked_against_credential() {
    let world = world().await;
    let first = world
        .complete("m-0004", "fin-bookkeeping", "2026-11-10")
        .await;
    let second = world
        .complete("m-0005", "fin-bookkeeping", "2026-11-10")
        .await;
    let token = first["module_credential"]["share_token"]
        .as_str()
        .expect("token");
    let compact = stored_compact(
        &world,
        first["module_credential"]["id"].as_str().expect("id"),
    )
    .await;
    let other = stored_compact(
        &world,
        second["module_credential"]["id"].as_str().expect("id"),
    )
    .await;
    assert!(compact.bytes().all(|b| b.is_ascii_digit()), "{compact}");

    let uri = format!("/v/{token}/compact");
    let (status, _, body) = world.post_json(&uri, json!({"compact": compact})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["result"], "match", "{body}");

    // Another member's genuine compact form behind this link.
    let (_, _, body) = world.post_json(&uri, json!({"compact": other})).await;
    assert_eq!(body["result"], "mismatch", "{body}");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("differs from the full credential")),
        "{body}"
    );

    // One digit of the signature changed.
    let position = compact.len() - 2;
    let replacement = if &compact[position..position + 1] == "1" {
        "2"
    } else {
        "1"
    };
    let mut tampered = compact.clone();
    tampered.replace_range(position..position + 1, replacement);
    let (_, _, body) = world.post_json(&uri, json!({"compact": tampered})).await;
    assert_eq!(body["result"], "mismatch", "{body}");

    let (_, _, body) = world
        .post_json(
            "/v/0123456789abcdef0123456789abcdef/compact",
            json!({"compact": compact}),
        )
        .await;
    assert_eq!(body["result"], "unavailable", "{body}");
    let (status, _, _) = world.post_json(&uri, json!({"other": 1})).await;
    assert!(status.is_client_error(), "{status}");
}

#[tokio::test]
async fn qr_carries_compact_form_by_default() {
    let world = world().await;
    let issued = world
        .complete("m-0001", "gov-law-112-12", "2026-10-01")
        .await;
    let token = issued["module_credential"]["share_token"]
        .as_str()
        .expect("token");
    let id = issued["module_credential"]["id"].as_str().expect("id");
    let link = qr_link(&world, token).await;
    let (path, fragment) = link.split_once('#').expect("the link carries a fragment");
    assert_eq!(path, format!("HTTP://127.0.0.1:8081/V/{token}"));
    assert_eq!(fragment, stored_compact(&world, id).await);

    let credential = world.credential(id).await;
    let trust: Vec<TrustEntry> =
        serde_json::from_value(issuer::trust_file(&world.issuer).await.expect("trust"))
            .expect("entries");
    let state = VerifierState::new(trust).expect("state");
    let checked = credentials::compact::verify(
        fragment,
        &state.verifier.resolver,
        &state.verifier.trusted,
        chrono::Utc::now(),
        Some(&credential),
    )
    .expect("the QR code's compact form verifies");
    assert_eq!(
        checked.claims.h,
        credentials::compact::credential_digest(&credential)
    );
    assert!(checked
        .claims
        .n
        .iter()
        .any(|name| name == "Fatima Ait Baha"));
}

#[tokio::test]
async fn qr_falls_back_to_plain_link() {
    // Version 5 is too small for a compact form.
    let world = world_with(|config| config.qr_max_version = 5).await;
    let issued = world
        .complete("m-0001", "gov-law-112-12", "2026-10-01")
        .await;
    let token = issued["module_credential"]["share_token"]
        .as_str()
        .expect("token");
    assert_eq!(
        qr_link(&world, token).await,
        format!("http://127.0.0.1:8081/v/{token}")
    );
}

#[tokio::test]
async fn offline_bundle_has_trusted_keys() {
    let world = world().await;
    let (status, text) = world.get("/offline/bundle.json", "en").await;
    assert_eq!(status, StatusCode::OK);
    let bundle: Value = serde_json::from_str(&text).expect("json");
    let issuer = &bundle["issuers"][0];
    assert_eq!(issuer["id"], world.issuer.config.did.as_str());
    assert_eq!(issuer["name"]["fr"], "Académie TaaWounYa");
    assert_eq!(issuer["credentials_url"], world.issuer_url.as_str());
    let key = &issuer["keys"][0];
    let signer = world.issuer.keys.current_signer().await.expect("signer");
    assert_eq!(key["kid"], signer.method_id().as_str());
    let qr_kid: String = credentials::cose::key_id(&signer.key.verifying_key())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert_eq!(key["qr_kid"], qr_kid.as_str());
    assert_eq!(key["jwk"]["kty"], "OKP");
    assert_eq!(key["jwk"]["crv"], "Ed25519");
    use base64::Engine;
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(signer.key.verifying_key().as_bytes());
    assert_eq!(key["jwk"]["x"], x.as_str());
    assert!(
        key["jwk"].get("d").is_none(),
        "the bundle leaks a private key"
    );
    for language in ["ar", "fr", "zgh", "en"] {
        assert!(
            bundle["texts"][language]["verdict.genuine"].is_string(),
            "{language}"
        );
    }
    assert!(bundle["status_lists"].as_array().is_some());
    assert!(bundle["generated_at"].as_str().is_some());
}

#[tokio::test]
async fn photo_of_qr_redirects_to_page() {
    let world = world_with(|config| config.qr_max_version = 40).await;
    let issued = world
        .complete("m-0001", "gov-law-112-12", "2026-10-01")
        .await;
    let token = issued["module_credential"]["share_token"]
        .as_str()
        .expect("token");
    let png = reqwest::get(format!(
        "{}/public/credentials/{token}/qr.png",
        world.issuer_url
    ))
    .await
    .expect("qr")
    .bytes()
    .await
    .expect("bytes");
    let boundary = "photo-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"qr.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&png);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::post("/scan/photo?lang=en")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request");
    let response = world
        .verifier
        .clone()
        .oneshot(request)
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[header::LOCATION]
        .to_str()
        .expect("location");
    let id = issued["module_credential"]["id"].as_str().expect("id");
    assert_eq!(
        location,
        format!("/v/{token}#{}", stored_compact(&world, id).await)
    );

    // Not a photo at all: the home page with one sentence.
    let request = Request::post("/scan/photo?lang=en")
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.txt\"\r\n\r\nhello\r\n--{boundary}--\r\n"
        )))
        .expect("request");
    let (status, _, page) = world.send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("This file is not a photo."), "{page}");
}

#[tokio::test]
async fn offline_page_and_assets_are_served() {
    let world = world().await;
    let (status, page) = world.get("/offline?lang=ar", "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<html lang=\"ar\" dir=\"rtl\">"));
    assert!(page.contains("id=\"offline-verdict\""));
    assert!(page.contains("id=\"page-texts\""));
    for (path, content_type) in [
        ("/sw.js", "text/javascript; charset=utf-8"),
        ("/static/verifier.js", "text/javascript; charset=utf-8"),
        ("/static/vendor/jsQR.js", "text/javascript; charset=utf-8"),
        ("/manifest.webmanifest", "application/manifest+json"),
    ] {
        let request = Request::get(path).body(Body::empty()).expect("request");
        let (status, actual, body) = world.send(request).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(actual, content_type, "{path}");
        assert!(!body.is_empty(), "{path}");
    }
}
