//! The SMTP sender, against a minimal SMTP server on 127.0.0.1 that
//! records what it receives.

mod common;

use axum::http::StatusCode;
use base64::Engine;
use common::{TestWallet, FATIMA_EMAIL};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use wallet_web::config::SmtpSettings;

/// One message as the server received it.
#[derive(Clone, Debug, Default)]
struct Received {
    recipients: Vec<String>,
    data: String,
}

/// Starts an SMTP server that accepts every message, and returns its
/// port and the messages it received.
async fn smtp_server() -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (reader, mut writer) = socket.into_split();
                let mut lines = BufReader::new(reader).lines();
                let mut message = Received::default();
                writer.write_all(b"220 test ESMTP\r\n").await.ok();
                while let Ok(Some(line)) = lines.next_line().await {
                    let command = line.to_ascii_uppercase();
                    let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO")
                    {
                        b"250 test\r\n"
                    } else if command.starts_with("RCPT TO:") {
                        message.recipients.push(line[8..].trim().to_owned());
                        b"250 ok\r\n"
                    } else if command.starts_with("DATA") {
                        writer.write_all(b"354 go on\r\n").await.ok();
                        while let Ok(Some(data)) = lines.next_line().await {
                            if data == "." {
                                break;
                            }
                            message.data.push_str(&data);
                            message.data.push('\n');
                        }
                        store
                            .lock()
                            .expect("lock")
                            .push(std::mem::take(&mut message));
                        b"250 queued\r\n"
                    } else if command.starts_with("QUIT") {
                        writer.write_all(b"221 bye\r\n").await.ok();
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    writer.write_all(reply).await.ok();
                }
            });
        }
    });
    (port, received)
}

/// Decodes the base64 body of a received message.
fn body(message: &Received) -> String {
    let (_, encoded) = message.data.split_once("\n\n").expect("headers and body");
    let encoded: String = encoded.split_whitespace().collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64 body");
    String::from_utf8(bytes).expect("utf-8 body")
}

async fn smtp_wallet() -> (TestWallet, Arc<Mutex<Vec<Received>>>) {
    let (port, received) = smtp_server().await;
    let wallet = TestWallet::start_with(|config| {
        config.smtp = Some(SmtpSettings {
            url: format!("smtp://127.0.0.1:{port}"),
            from: "wallet@academy.example".to_owned(),
        });
    })
    .await;
    (wallet, received)
}

#[tokio::test]
async fn code_arrives_by_email_in_page_language() {
    let (wallet, received) = smtp_wallet().await;
    let response = wallet
        .post_form("/sign-in?lang=ar", &[("identifier", FATIMA_EMAIL)], None)
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(
        wallet.outbox().is_empty(),
        "nothing in the development outbox"
    );

    let messages = received.lock().expect("lock").clone();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message.recipients, vec![format!("<{FATIMA_EMAIL}>")]);
    assert!(
        message.data.contains("From: wallet@academy.example"),
        "{}",
        message.data
    );
    assert!(
        message.data.contains(&format!("To: {FATIMA_EMAIL}")),
        "{}",
        message.data
    );
    let text = body(message);
    assert!(
        text.contains("رمز الدخول إلى محفظة"),
        "Arabic message: {text}"
    );
    let code: String = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() == 6)
        .expect("6-digit code")
        .to_owned();

    let signed_in = wallet
        .post_form(
            "/sign-in/code",
            &[("identifier", FATIMA_EMAIL), ("code", &code)],
            None,
        )
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "the mailed code works"
    );
}

#[tokio::test]
async fn french_page_sends_french_email() {
    let (wallet, received) = smtp_wallet().await;
    wallet
        .post_form("/sign-in?lang=fr", &[("identifier", FATIMA_EMAIL)], None)
        .await;
    let messages = received.lock().expect("lock").clone();
    assert_eq!(messages.len(), 1);
    let text = body(&messages[0]);
    assert!(text.contains("Votre code pour vous connecter"), "{text}");
}

#[tokio::test]
async fn phone_number_gets_no_email() {
    let (wallet, received) = smtp_wallet().await;
    let response = wallet
        .post_form("/sign-in", &[("identifier", "+212600000001")], None)
        .await;
    assert_eq!(response.status, StatusCode::OK, "the usual page");
    assert!(received.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn unreachable_server_keeps_page_same() {
    // A port that was free a moment ago: the connection is refused.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let wallet = TestWallet::start_with(|config| {
        config.smtp = Some(SmtpSettings {
            url: format!("smtp://127.0.0.1:{port}"),
            from: "wallet@academy.example".to_owned(),
        });
    })
    .await;
    let response = wallet
        .post_form("/sign-in", &[("identifier", FATIMA_EMAIL)], None)
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.text().contains("action=\"/sign-in/code\""));
}
