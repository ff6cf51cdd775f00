//! A raw HTTP/1.1 client over loopback TCP, for tests that send request
//! bodies over a server's limit. It writes the request head and body bytes
//! itself, so a test chooses the body's framing: a true `Content-Length`,
//! chunked, or a `Content-Length` whose body is never sent in full. It
//! reads the response while the body is still being written, so a server
//! that responds before reading the whole body is heard.
//!
//! Test files include it with
//! `#[path = "../../test-support/raw_http.rs"] mod raw_http;`.

// Each test crate that includes this file uses a different part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;

/// How long a test waits for any one response. It is a guard against a
/// server that never responds, not a measure of speed.
pub const RESPONSE_GUARD: Duration = Duration::from_secs(60);

/// Framing of a request's body on the wire.
#[derive(Clone, Copy, Debug)]
pub enum Framing {
    /// A true `Content-Length` and every byte of the body.
    ContentLength,
    /// `Transfer-Encoding: chunked`, in chunks of `chunk_bytes`, so the
    /// server learns the size only by reading.
    Chunked { chunk_bytes: usize },
    /// A `Content-Length` for the whole body, but only its first KiB is
    /// sent and the connection stays open, so the server must respond from
    /// the header alone.
    Overstated,
}

/// Returns each framing once, with chunks of `chunk_bytes` for the chunked
/// one.
pub fn framings(chunk_bytes: usize) -> [Framing; 3] {
    [
        Framing::ContentLength,
        Framing::Chunked { chunk_bytes },
        Framing::Overstated,
    ]
}

/// Status, header fields and body of one response.
pub struct RawResponse {
    pub status: u16,
    /// Header fields in the order received, names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// Returns the value of the first header field named `name`, ignoring
    /// ASCII case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Returns the body as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one HTTP/1.1 request on a new connection and reads the response.
/// `headers` are written after `Host` and before the framing header, which
/// `framing` sets. The body is written while the response is read.
pub async fn send_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    framing: Framing,
) -> RawResponse {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let header_lines: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let framing_header = match framing {
        Framing::ContentLength | Framing::Overstated => format!("Content-Length: {}", body.len()),
        Framing::Chunked { .. } => "Transfer-Encoding: chunked".to_owned(),
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{header_lines}{framing_header}\r\n\r\n"
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
            Framing::Chunked { chunk_bytes } => {
                let _ = writer.write_all(&first).await;
                for chunk in body.chunks(chunk_bytes) {
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
        // Keep the connection open until the response has been read.
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

/// Reads one response whose body is framed by `Content-Length`, and panics
/// on a response without one.
async fn read_response(reader: &mut OwnedReadHalf) -> RawResponse {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(position) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break position;
        }
        let read = reader.read(&mut chunk).await.expect("read response");
        assert!(read > 0, "connection closed before a response: {buffer:?}");
        buffer.extend_from_slice(&chunk[..read]);
    };

    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .expect("the response has a Content-Length");

    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let read = reader.read(&mut chunk).await.expect("read body");
        assert!(read > 0, "connection closed in the middle of the body");
        body.extend_from_slice(&chunk[..read]);
    }
    body.truncate(length);
    RawResponse {
        status,
        headers,
        body,
    }
}

/// Sends `GET path` with no other header field on a new connection.
pub async fn get(addr: SocketAddr, path: &str) -> RawResponse {
    send_raw(addr, "GET", path, &[], Vec::new(), Framing::ContentLength).await
}

/// Checks on a new connection that the server still responds to
/// `GET /health` with `ok`. `after` names the request sent before, for the
/// failure message.
pub async fn assert_still_serving(addr: SocketAddr, after: &str) {
    let response = get(addr, "/health").await;
    assert_eq!(response.status, 200, "after {after}");
    assert_eq!(response.text(), "ok", "after {after}");
}

/// Builds a JSON body of exactly `size` bytes: one long string in `field`.
pub fn json_body(field: &str, size: usize) -> Vec<u8> {
    let prefix = format!("{{\"{field}\":\"");
    let suffix = "\"}";
    let filler = size - prefix.len() - suffix.len();
    format!("{prefix}{}{suffix}", "x".repeat(filler)).into_bytes()
}
