//! Request bodies over the limits, JSON that is deep or costly to
//! canonicalize, stalled requests, and requests no route serves, sent over
//! loopback TCP to a running verifier. The APIs must respond with RFC 9457
//! problem details and the pages with one sentence, within a bounded time,
//! and the server must respond to the next request.

#[path = "../../test-support/raw_http.rs"]
mod raw_http;

use credentials::limits::RequestBounds;
use credentials::{keys, proof};
use raw_http::{assert_still_serving, framings, json_body, send_raw, Framing, RawResponse};
use serde_json::{json, Value};
use std::net::SocketAddr;
use verifier::limits::Bounds;
use verifier::VerifierState;

mod common;
use common::World;

/// Starts an issuer and a verifier that trusts it, each on a loopback
/// port, and returns the verifier's address.
async fn start() -> (SocketAddr, World) {
    start_with(Bounds::default()).await
}

/// Like [`start`], with the verifier's request bounds set to `bounds`.
async fn start_with(bounds: Bounds) -> (SocketAddr, World) {
    let world = common::world().await;
    let state = VerifierState::new(world.trust.clone())
        .expect("verifier state")
        .with_bounds(bounds);
    (common::serve(verifier::router(state)).await, world)
}

/// Posts `body` with `content_type` as its `Content-Type`.
async fn post(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
    framing: Framing,
) -> RawResponse {
    let headers = [("Content-Type", content_type)];
    send_raw(addr, "POST", path, &headers, body, framing).await
}

const BOUNDARY: &str = "limit-test-boundary";

fn multipart_prefix(field: &str) -> String {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"f\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
}

fn multipart_suffix() -> String {
    format!("\r\n--{BOUNDARY}--\r\n")
}

/// Bytes of a one-field form around the field's content.
fn multipart_overhead(field: &str) -> usize {
    multipart_prefix(field).len() + multipart_suffix().len()
}

/// Builds a multipart form of exactly `size` bytes whose one field is filler.
fn multipart_body(field: &str, size: usize) -> Vec<u8> {
    let prefix = multipart_prefix(field);
    let suffix = multipart_suffix();
    let filler = size - prefix.len() - suffix.len();
    let mut body = prefix.into_bytes();
    body.resize(body.len() + filler, b'x');
    body.extend_from_slice(suffix.as_bytes());
    assert_eq!(body.len(), size);
    body
}

/// Response an endpoint gives to an error.
enum Answer {
    /// RFC 9457 problem details.
    Problem,
    /// An HTML page whose alert is this one sentence.
    Page(&'static str),
}

struct LimitCase {
    path: &'static str,
    content_type: String,
    body: Vec<u8>,
    answer: Answer,
}

fn limit_cases() -> Vec<LimitCase> {
    let form = format!("multipart/form-data; boundary={BOUNDARY}");
    vec![
        LimitCase {
            path: "/credentials/verify",
            content_type: "application/json".to_owned(),
            body: json_body("verifiableCredential", verifier::api::MAX_BODY_BYTES + 1),
            answer: Answer::Problem,
        },
        LimitCase {
            path: "/presentations/verify",
            content_type: "application/json".to_owned(),
            body: json_body("verifiablePresentation", verifier::api::MAX_BODY_BYTES + 1),
            answer: Answer::Problem,
        },
        LimitCase {
            path: "/v/0123456789abcdef0123456789abcdef/compact",
            content_type: "application/json".to_owned(),
            body: json_body("compact", verifier::scan::MAX_COMPACT_BODY_BYTES + 1),
            answer: Answer::Problem,
        },
        LimitCase {
            path: "/check?lang=en",
            content_type: form.clone(),
            body: multipart_body("file", verifier::pages::MAX_CHECK_BODY_BYTES + 1),
            answer: Answer::Page("This file is too large to be a certificate."),
        },
        LimitCase {
            path: "/scan/photo?lang=en",
            content_type: form,
            body: multipart_body("photo", verifier::scan::MAX_PHOTO_BODY_BYTES + 1),
            answer: Answer::Page("This photo is too large. Take it again at a lower resolution."),
        },
    ]
}

/// Returns the text of the page's alert paragraph.
fn alert_text(page: &str) -> &str {
    let marker = "<p class=\"error\" role=\"alert\">";
    let start = page.find(marker).expect("alert paragraph") + marker.len();
    let length = page[start..].find("</p>").expect("end of alert");
    &page[start..start + length]
}

fn assert_answer(case: &str, response: &RawResponse, status: u16, answer: &Answer) {
    assert_eq!(response.status, status, "{case}: {}", response.text());
    match answer {
        Answer::Problem => {
            assert_eq!(
                response.header("content-type"),
                Some("application/problem+json"),
                "{case}"
            );
            let problem: Value = serde_json::from_slice(&response.body).expect("problem JSON");
            assert_eq!(problem["status"], status, "{case}: {problem}");
            assert_eq!(problem["type"], "about:blank", "{case}: {problem}");
            assert!(problem["title"].is_string(), "{case}: {problem}");
            assert!(
                problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{case}: {problem}"
            );
        }
        Answer::Page(sentence) => {
            assert!(
                response
                    .header("content-type")
                    .is_some_and(|value| value.starts_with("text/html")),
                "{case}"
            );
            let page = response.text();
            assert_eq!(alert_text(&page), *sentence, "{case}");
            assert_eq!(page.matches("role=\"alert\"").count(), 1, "{case}");
        }
    }
}

#[tokio::test]
async fn bodies_over_limit_get_413() {
    let (addr, _world) = start().await;
    for case in limit_cases() {
        for framing in framings(64 * 1024) {
            let name = format!("{} ({framing:?})", case.path);
            let response = post(
                addr,
                case.path,
                &case.content_type,
                case.body.clone(),
                framing,
            )
            .await;
            assert_answer(&name, &response, 413, &case.answer);
            assert_still_serving(addr, &name).await;
        }
    }
}

#[tokio::test]
async fn form_fields_over_limit_get_413() {
    let (addr, _world) = start().await;
    let form = format!("multipart/form-data; boundary={BOUNDARY}");
    // Each file is one byte over its own limit, in a body under the route's.
    let cases = [
        (
            "/check?lang=en",
            verifier::pages::MAX_UPLOAD_BYTES + 1,
            "file",
            "This file is too large to be a certificate.",
        ),
        (
            "/scan/photo?lang=en",
            verifier::scan::MAX_PHOTO_BYTES + 1,
            "photo",
            "This photo is too large. Take it again at a lower resolution.",
        ),
    ];
    for (path, file_size, field, sentence) in cases {
        let body = multipart_body(field, file_size + multipart_overhead(field));
        let response = post(addr, path, &form, body, Framing::ContentLength).await;
        assert_answer(path, &response, 413, &Answer::Page(sentence));
        assert_still_serving(addr, path).await;
    }
}

/// `depth` arrays nested in one another.
fn nested_arrays(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// `depth` objects nested in one another under `key`.
fn nested_objects(key: &str, depth: usize) -> String {
    let open = format!("{{\"{key}\":");
    format!(
        "{}\"https://school.example/end\"{}",
        open.repeat(depth),
        "}".repeat(depth)
    )
}

#[tokio::test]
async fn deep_json_gets_a_problem() {
    let (addr, _world) = start().await;
    let cases = [
        (
            "/credentials/verify",
            format!("{{\"verifiableCredential\":{}}}", nested_arrays(10_000)),
        ),
        (
            "/credentials/verify",
            format!(
                "{{\"verifiableCredential\":{}}}",
                nested_objects("a", 10_000)
            ),
        ),
        (
            "/presentations/verify",
            format!("{{\"verifiablePresentation\":{}}}", nested_arrays(10_000)),
        ),
        (
            "/v/0123456789abcdef0123456789abcdef/compact",
            format!("{{\"compact\":{}}}", nested_arrays(3_000)),
        ),
    ];
    for (path, body) in cases {
        let response = post(
            addr,
            path,
            "application/json",
            body.into_bytes(),
            Framing::ContentLength,
        )
        .await;
        assert_answer(path, &response, 400, &Answer::Problem);
        let problem: Value = serde_json::from_slice(&response.body).expect("problem JSON");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|detail| detail.contains("nested deeper than 64 levels")),
            "{path}: {problem}"
        );
        assert_still_serving(addr, path).await;
    }

    // The same through the check form: one sentence, not a crash.
    let document = nested_arrays(10_000);
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"credential\"\r\n\r\n{document}\r\n--{BOUNDARY}--\r\n"
    );
    let response = post(
        addr,
        "/check?lang=en",
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        body.into_bytes(),
        Framing::ContentLength,
    )
    .await;
    assert_answer(
        "/check",
        &response,
        400,
        &Answer::Page(
            "This text is not a certificate file. Paste the whole file, from the first { to the last }.",
        ),
    );
    assert_still_serving(addr, "/check").await;
}

/// Builds an inline context that defines the two properties the costly
/// credentials use, so that they are expanded and canonicalized.
fn linking_context() -> Value {
    json!({
        "relatedNodes": {"@id": "https://school.example/vocab#relatedNodes", "@type": "@id"},
        "linkedTo": {"@id": "https://school.example/vocab#linkedTo", "@type": "@id"}
    })
}

/// Open Badges credential signed with a new `did:key`, with `extra`
/// properties added after signing.
fn signed_credential(extra: &[(&str, Value)]) -> Value {
    let key = keys::generate();
    let did = keys::did_key(&key.verifying_key());
    let multibase = keys::public_multibase(&key.verifying_key());
    let mut credential = json!({
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            linking_context()
        ],
        "id": "urn:uuid:6f1f3e1e-8a48-4f4e-9d6c-2b8c1d0c7a11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": did, "type": ["Profile"], "name": "Another school"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://school.example/achievements/1",
                "type": ["Achievement"],
                "name": "Workshop",
                "criteria": {"narrative": "Attended"}
            }
        }
    });
    let options = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-01-01T00:00:00Z",
        "verificationMethod": format!("{did}#{multibase}"),
        "proofPurpose": "assertionMethod",
    });
    let signed = proof::sign(
        credential.as_object().expect("object"),
        options.as_object().expect("object"),
        &key,
    )
    .expect("sign");
    credential = Value::Object(signed);
    for (name, value) in extra {
        credential[*name] = value.clone();
    }
    credential
}

/// Twelve blank nodes, each linked to every other, as in the unit test of
/// `credentials::canon`: indistinguishable, so canonicalizing them
/// explores every permutation until the work limit stops it.
fn blank_node_clique() -> Value {
    let nodes: Vec<Value> = (0..12)
        .map(|i| {
            let others: Vec<Value> = (0..12)
                .filter(|j| *j != i)
                .map(|j| json!({"id": format!("_:n{j}")}))
                .collect();
            json!({"id": format!("_:n{i}"), "linkedTo": others})
        })
        .collect();
    Value::Array(nodes)
}

#[tokio::test]
async fn costly_credentials_are_not_genuine() {
    let (addr, _world) = start().await;
    // Each credential is changed after signing. The clique reaches the
    // canonicalization work limit. The nested node objects are under a
    // term of an inline context, so they go to the `json-ld` crate's
    // expansion, which recurses once per level.
    let cases = [
        (
            "blank-node clique",
            signed_credential(&[("relatedNodes", blank_node_clique())]),
            "too many indistinguishable blank nodes",
        ),
        (
            "60 levels of nested node objects",
            signed_credential(&[(
                "relatedNodes",
                serde_json::from_str(&nested_objects("relatedNodes", 60)).expect("json"),
            )]),
            "",
        ),
        (
            "60 levels of nested arrays in a node object",
            signed_credential(&[(
                "relatedNodes",
                json!({"linkedTo": serde_json::from_str::<Value>(&nested_arrays(58)).expect("json")}),
            )]),
            "",
        ),
    ];
    for (case, credential, detail) in cases {
        let body = json!({ "verifiableCredential": credential }).to_string();
        let response = post(
            addr,
            "/credentials/verify",
            "application/json",
            body.into_bytes(),
            Framing::ContentLength,
        )
        .await;
        assert_eq!(response.status, 400, "{case}: {}", response.text());
        assert_eq!(
            response.header("content-type"),
            Some("application/problem+json"),
            "{case}"
        );
        let report: Value = serde_json::from_slice(&response.body).expect("report JSON");
        assert_eq!(report["verified"], false, "{case}: {report}");
        assert_ne!(report["outcome"], "genuine", "{case}: {report}");
        assert_ne!(
            report["outcome"], "issuer_not_recognised",
            "{case}: {report}"
        );
        assert!(report["type"].is_string(), "{case}: {report}");
        assert!(
            report["detail"]
                .as_str()
                .is_some_and(|text| text.contains(detail)),
            "{case}: {report}"
        );
        assert_still_serving(addr, case).await;
    }
}

/// Bounds small enough for a test: `slots` requests (one photo upload) at
/// once, a 300 ms wait for a slot, and `deadline`.
fn small_bounds(slots: usize, deadline: std::time::Duration) -> Bounds {
    let wait = std::time::Duration::from_millis(300);
    Bounds {
        requests: RequestBounds::new(slots, wait, deadline),
        photos: RequestBounds::new(1, wait, deadline),
    }
}

/// A body under every limit, of which [`Framing::Overstated`] sends the
/// first KiB only.
const STALLED_BYTES: usize = 4096;

#[tokio::test]
async fn stalled_requests_are_stopped_at_the_deadline() {
    let (addr, _world) = start_with(small_bounds(8, std::time::Duration::from_secs(1))).await;
    let form = format!("multipart/form-data; boundary={BOUNDARY}");
    let cases = [
        (
            "/credentials/verify",
            "application/json".to_owned(),
            json_body("verifiableCredential", STALLED_BYTES),
            Answer::Problem,
        ),
        (
            "/presentations/verify",
            "application/json".to_owned(),
            json_body("verifiablePresentation", STALLED_BYTES),
            Answer::Problem,
        ),
        (
            "/v/0123456789abcdef0123456789abcdef/compact",
            "application/json".to_owned(),
            json_body("compact", STALLED_BYTES),
            Answer::Problem,
        ),
        (
            "/check?lang=fr",
            form.clone(),
            multipart_body("file", STALLED_BYTES),
            Answer::Page(
                "La vérification a pris trop de temps et a été arrêtée. \
                 Vérifiez la connexion et réessayez.",
            ),
        ),
        (
            "/scan/photo?lang=en",
            form,
            multipart_body("photo", STALLED_BYTES),
            Answer::Page(
                "The check took too long and was stopped. Check the connection and try again.",
            ),
        ),
    ];
    for (path, content_type, body, answer) in cases {
        let response = post(addr, path, &content_type, body, Framing::Overstated).await;
        assert_answer(path, &response, 503, &answer);
        if matches!(answer, Answer::Problem) {
            let problem: Value = serde_json::from_slice(&response.body).expect("problem");
            assert!(
                problem["detail"]
                    .as_str()
                    .is_some_and(|detail| detail.contains("did not finish within 1 s")),
                "{path}: {problem}"
            );
        }
        assert_still_serving(addr, path).await;
    }
}

#[tokio::test]
async fn busy_verifier_turns_requests_away() {
    let deadline = std::time::Duration::from_secs(2);
    let (addr, _world) = start_with(small_bounds(2, deadline)).await;
    let stalled_verify = || {
        post(
            addr,
            "/credentials/verify",
            "application/json",
            json_body("verifiableCredential", STALLED_BYTES),
            Framing::Overstated,
        )
    };
    let holders = [
        tokio::spawn(stalled_verify()),
        tokio::spawn(stalled_verify()),
    ];
    // Both slots are now held until the deadline.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let health = raw_http::get(addr, "/health");
    let home = raw_http::get(addr, "/?lang=en");
    let form = format!("multipart/form-data; boundary={BOUNDARY}");
    let photo = post(
        addr,
        "/scan/photo?lang=en",
        &form,
        multipart_body("photo", STALLED_BYTES),
        Framing::Overstated,
    );
    let (health, home, photo) = tokio::join!(health, home, photo);

    assert_answer("/health while busy", &health, 503, &Answer::Problem);
    assert_eq!(health.header("retry-after"), Some("5"));
    assert_answer(
        "/ while busy",
        &home,
        503,
        &Answer::Page(
            "Many people are checking certificates right now. Wait a few seconds and try again.",
        ),
    );
    assert_eq!(home.header("retry-after"), Some("5"));
    // Photo uploads have slots of their own: this one ran until its deadline.
    assert_answer(
        "/scan/photo while busy",
        &photo,
        503,
        &Answer::Page(
            "The check took too long and was stopped. Check the connection and try again.",
        ),
    );
    assert_eq!(photo.header("retry-after"), None);

    for holder in holders {
        let response = holder.await.expect("holder");
        assert_answer("stalled verification", &response, 503, &Answer::Problem);
    }
    assert_still_serving(addr, "the stalled requests").await;
}

#[tokio::test]
async fn unknown_routes_get_a_sentence() {
    let (addr, _world) = start().await;
    let no_page = "This page does not exist. Check the link, or check a certificate below.";
    let cases = [
        ("GET", "/nope?lang=en", 404, Answer::Page(no_page)),
        ("GET", "/check?lang=en", 405, Answer::Page(no_page)),
        ("DELETE", "/scan/photo?lang=en", 405, Answer::Page(no_page)),
        ("POST", "/credentials/nope", 404, Answer::Problem),
        ("GET", "/credentials/verify", 405, Answer::Problem),
        ("PUT", "/presentations/verify", 405, Answer::Problem),
    ];
    for (method, path, status, answer) in cases {
        let response = send_raw(addr, method, path, &[], Vec::new(), Framing::ContentLength).await;
        assert_answer(&format!("{method} {path}"), &response, status, &answer);
    }

    // A repeated `lang` takes its first value instead of failing.
    let response = raw_http::get(addr, "/?lang=fr&lang=ar").await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(response.text().contains("<html lang=\"fr\""));
}
