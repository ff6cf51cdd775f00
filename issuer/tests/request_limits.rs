//! Request bodies one byte over the issuer's limit, sent over loopback TCP
//! to each endpoint that takes a body. Each gets 413 with RFC 9457 problem
//! details, and the server responds to the next request.

mod common;
#[path = "../../test-support/raw_http.rs"]
mod raw_http;

use common::{TestApp, PLATFORM, STAFF};
use raw_http::{assert_still_serving, framings, json_body, send_raw, Framing, RawResponse};
use serde_json::Value;
use std::net::SocketAddr;

/// Posts a JSON `body` with `token` as its bearer token.
async fn post_json(
    addr: SocketAddr,
    path: &str,
    token: &str,
    body: Vec<u8>,
    framing: Framing,
) -> RawResponse {
    let authorization = format!("Bearer {token}");
    let headers = [
        ("Authorization", authorization.as_str()),
        ("Content-Type", "application/json"),
    ];
    send_raw(addr, "POST", path, &headers, body, framing).await
}

#[tokio::test]
async fn bodies_over_limit_get_413() {
    let app = TestApp::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });

    let over = issuer::routes::MAX_BODY_BYTES + 1;
    let cases = [
        ("/completions", PLATFORM, json_body("member_id", over)),
        ("/credentials/issue", STAFF, json_body("credential", over)),
        (
            "/credentials/status",
            STAFF,
            json_body("credentialId", over),
        ),
    ];
    for (path, token, body) in cases {
        for framing in framings(16 * 1024) {
            let case = format!("{path} ({framing:?})");
            let response = post_json(addr, path, token, body.clone(), framing).await;
            let text = response.text();
            assert_eq!(response.status, 413, "{case}: {text}");
            assert_eq!(
                response.header("content-type"),
                Some("application/problem+json"),
                "{case}"
            );
            let problem: Value = serde_json::from_str(&text).expect("problem JSON");
            assert_eq!(problem["status"], 413, "{case}: {problem}");
            assert_eq!(problem["type"], "about:blank", "{case}: {problem}");
            assert_eq!(problem["title"], "Payload Too Large", "{case}: {problem}");
            assert!(
                problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{case}: {problem}"
            );

            assert_still_serving(addr, &case).await;
        }
    }

    // A body at the limit is read, and rejected for its content only.
    let response = post_json(
        addr,
        "/completions",
        PLATFORM,
        json_body("member_id", issuer::routes::MAX_BODY_BYTES),
        Framing::ContentLength,
    )
    .await;
    assert_eq!(response.status, 422, "{}", response.text());
}
