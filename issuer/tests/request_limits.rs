//! Request bodies one byte over the issuer's limit, sent over loopback TCP
//! to each endpoint that takes a body. Each gets 413 with RFC 9457 problem
//! details, and the server responds to the next request.

mod common;

use common::{TestApp, PLATFORM, STAFF};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long a test waits for any one response. It is a guard against a
/// server that never responds, not a measure of speed.
const RESPONSE_GUARD: Duration = Duration::from_secs(60);

/// How a request's body is framed on the wire.
#[derive(Clone, Copy, Debug)]
enum Framing {
    /// A true `Content-Length` and every byte of the body.
    ContentLength,
    /// `Transfer-Encoding: chunked`, in chunks of 16 KiB.
    Chunked,
    /// A `Content-Length` for the whole body, but only its first KiB is
    /// sent and the connection stays open, so the server must respond from
    /// the header alone.
    Overstated,
}

/// Sends one HTTP/1.1 request on a new connection and returns the status,
/// the `Content-Type` and the body of the response. The body is written
/// while the response is read, so a server that responds before reading
/// the whole body is heard.
async fn send_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: Vec<u8>,
    framing: Framing,
) -> (u16, String, String) {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let framing_header = match framing {
        Framing::ContentLength | Framing::Overstated => format!("Content-Length: {}", body.len()),
        Framing::Chunked => "Transfer-Encoding: chunked".to_owned(),
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n{framing_header}\r\n\r\n"
    );
    let (done, finished) = tokio::sync::oneshot::channel::<()>();
    let writing = tokio::spawn(async move {
        // Write errors are expected once the server has responded and closed.
        let mut first = head.into_bytes();
        match framing {
            Framing::ContentLength => {
                first.extend_from_slice(&body);
                let _ = writer.write_all(&first).await;
            }
            Framing::Chunked => {
                let _ = writer.write_all(&first).await;
                for chunk in body.chunks(16 * 1024) {
                    let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                    framed.extend_from_slice(chunk);
                    framed.extend_from_slice(b"\r\n");
                    if writer.write_all(&framed).await.is_err() {
                        break;
                    }
                }
                let _ = writer.write_all(b"0\r\n\r\n").await;
            }
            Framing::Overstated => {
                first.extend_from_slice(&body[..body.len().min(1024)]);
                let _ = writer.write_all(&first).await;
            }
        }
        let _ = finished.await;
    });
    let response = tokio::time::timeout(RESPONSE_GUARD, read_response(&mut reader))
        .await
        .unwrap_or_else(|_| {
            panic!("no response to {method} {path} ({framing:?}) within {RESPONSE_GUARD:?}")
        });
    let _ = done.send(());
    let _ = writing.await;
    response
}

async fn read_response(reader: &mut tokio::net::tcp::OwnedReadHalf) -> (u16, String, String) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(position) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break position;
        }
        let read = reader.read(&mut chunk).await.expect("read response");
        assert!(read > 0, "connection closed before a response");
        buffer.extend_from_slice(&chunk[..read]);
    };

    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status line");
    let header = |wanted: &str| {
        head.split("\r\n")
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value.trim().to_owned())
    };
    let length: usize = header("content-length")
        .and_then(|value| value.parse().ok())
        .expect("the response has a Content-Length");
    let content_type = header("content-type").unwrap_or_default();

    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let read = reader.read(&mut chunk).await.expect("read body");
        assert!(read > 0, "connection closed in the middle of the body");
        body.extend_from_slice(&chunk[..read]);
    }
    body.truncate(length);
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// Builds a JSON body of exactly `size` bytes: one long string in `field`.
fn json_body(field: &str, size: usize) -> Vec<u8> {
    let prefix = format!("{{\"{field}\":\"");
    let suffix = "\"}";
    let filler = size - prefix.len() - suffix.len();
    format!("{prefix}{}{suffix}", "x".repeat(filler)).into_bytes()
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
        for framing in [
            Framing::ContentLength,
            Framing::Chunked,
            Framing::Overstated,
        ] {
            let case = format!("{path} ({framing:?})");
            let (status, content_type, text) =
                send_raw(addr, "POST", path, token, body.clone(), framing).await;
            assert_eq!(status, 413, "{case}: {text}");
            assert_eq!(content_type, "application/problem+json", "{case}");
            let problem: Value = serde_json::from_str(&text).expect("problem JSON");
            assert_eq!(problem["status"], 413, "{case}: {problem}");
            assert_eq!(problem["type"], "about:blank", "{case}: {problem}");
            assert_eq!(problem["title"], "Payload Too Large", "{case}: {problem}");
            assert!(
                problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{case}: {problem}"
            );

            let (status, _, text) = send_raw(
                addr,
                "GET",
                "/health",
                "",
                Vec::new(),
                Framing::ContentLength,
            )
            .await;
            assert_eq!(status, 200, "after {case}");
            assert_eq!(text, "ok", "after {case}");
        }
    }

    // A body at the limit is read, and rejected for its content only.
    let (status, _, text) = send_raw(
        addr,
        "POST",
        "/completions",
        PLATFORM,
        json_body("member_id", issuer::routes::MAX_BODY_BYTES),
        Framing::ContentLength,
    )
    .await;
    assert_eq!(status, 422, "{text}");
}
