mod common;

use axum::http::{header, StatusCode};
use chrono::{Duration, Utc};
use common::{TestWallet, FATIMA, FATIMA_EMAIL, KHADIJA};
use wallet_web::codes;
use wallet_web::config::TrustedProxies;

/// Returns a six-digit code different from `code`.
fn other_code(code: &str) -> String {
    let number: u32 = code.parse().expect("numeric code");
    format!("{:06}", (number + 1) % 1_000_000)
}

async fn code_rows(wallet: &TestWallet, member: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_codes WHERE member_id = $1")
        .bind(member)
        .fetch_one(&wallet.state.db)
        .await
        .expect("count codes")
}

#[tokio::test]
async fn sign_in_with_code_from_outbox() {
    let wallet = TestWallet::start().await;

    let start = wallet.get("/", None).await;
    assert_eq!(start.status, StatusCode::OK);
    assert!(
        start.text().contains("action=\"/sign-in\""),
        "{}",
        start.text()
    );

    let response = wallet
        .post_form(
            "/sign-in",
            &[("identifier", "  Fatima.AitBaha@Example.ORG ")],
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.text().contains("action=\"/sign-in/code\""));

    let messages = wallet.outbox();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message["to"], FATIMA_EMAIL);
    assert_eq!(message["member_id"], FATIMA);
    assert!(message["at"].is_string());
    let code = message["code"].as_str().expect("code").to_owned();
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));

    let stored: String =
        sqlx::query_scalar("SELECT code_hash FROM sign_in_codes WHERE member_id = $1")
            .bind(FATIMA)
            .fetch_one(&wallet.state.db)
            .await
            .expect("stored code");
    assert_eq!(
        stored,
        codes::hash(&code),
        "only the hash of the code is stored"
    );

    let response = wallet
        .post_form(
            "/sign-in/code",
            &[("identifier", FATIMA_EMAIL), ("code", &code)],
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(
        response.header(header::LOCATION).as_deref(),
        Some("/certificates")
    );
    let set_cookie = response.session_cookie().expect("session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(
            set_cookie.contains(attribute),
            "{set_cookie} lacks {attribute}"
        );
    }
    assert!(
        !set_cookie.contains("Secure"),
        "no Secure by default: {set_cookie}"
    );

    let token = set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, token)| token.to_owned())
        .expect("token");
    assert_eq!(token.len(), 64, "256-bit token in hex");
    let (token_hash, member): (String, String) =
        sqlx::query_as("SELECT token_hash, member_id FROM sessions")
            .fetch_one(&wallet.state.db)
            .await
            .expect("session row");
    assert_eq!(
        token_hash,
        codes::hash(&token),
        "only the hash of the token is stored"
    );
    assert_eq!(member, FATIMA);

    let page = wallet
        .get("/certificates", Some(&format!("wallet_session={token}")))
        .await;
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn phone_number_is_normalized() {
    let wallet = TestWallet::start().await;
    let response = wallet
        .post_form("/sign-in", &[("identifier", "06 00-00 00 02")], None)
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let messages = wallet.outbox();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["to"], "+212600000002");
    assert_eq!(messages[0]["member_id"], KHADIJA);
}

#[tokio::test]
async fn unknown_identifier_gets_same_page() {
    let wallet = TestWallet::start().await;
    let member = wallet
        .post_form("/sign-in", &[("identifier", FATIMA_EMAIL)], None)
        .await;
    let stranger = wallet
        .post_form("/sign-in", &[("identifier", "nobody@example.org")], None)
        .await;
    assert_eq!(member.status, stranger.status);
    assert_eq!(
        member.text().replace(FATIMA_EMAIL, "IDENTIFIER"),
        stranger.text().replace("nobody@example.org", "IDENTIFIER"),
        "the page must not tell members from strangers"
    );
    assert_eq!(wallet.outbox().len(), 1, "only the member gets a message");
}

#[tokio::test]
async fn invalid_identifier_is_rejected() {
    let wallet = TestWallet::start().await;
    let response = wallet
        .post_form("/sign-in", &[("identifier", "   ")], None)
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(
        response.text().contains("role=\"alert\""),
        "{}",
        response.text()
    );
    assert!(wallet.outbox().is_empty());
}

#[tokio::test]
async fn wrong_code_rejected() {
    let wallet = TestWallet::start().await;
    let code = wallet.request_code(FATIMA_EMAIL).await;

    let response = wallet
        .post_form(
            "/sign-in/code",
            &[("identifier", FATIMA_EMAIL), ("code", &other_code(&code))],
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(response.session_cookie().is_none());
    assert!(response.text().contains("role=\"alert\""));

    let attempts: i64 =
        sqlx::query_scalar("SELECT attempts FROM sign_in_codes WHERE member_id = $1")
            .bind(FATIMA)
            .fetch_one(&wallet.state.db)
            .await
            .expect("attempts");
    assert_eq!(attempts, 1);

    // One wrong attempt leaves the right code working.
    let response = wallet
        .post_form(
            "/sign-in/code",
            &[("identifier", FATIMA_EMAIL), ("code", &code)],
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert!(response.session_cookie().is_some());
}

#[tokio::test]
async fn code_of_other_member_rejected() {
    let wallet = TestWallet::start().await;
    let code = wallet.request_code(FATIMA_EMAIL).await;
    let response = wallet
        .post_form(
            "/sign-in/code",
            &[("identifier", "+212600000002"), ("code", &code)],
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(response.session_cookie().is_none());
}

#[tokio::test]
async fn code_reuse_rejected() {
    let wallet = TestWallet::start().await;
    let code = wallet.request_code(FATIMA_EMAIL).await;
    let fields = [("identifier", FATIMA_EMAIL), ("code", code.as_str())];

    let first = wallet.post_form("/sign-in/code", &fields, None).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let second = wallet.post_form("/sign-in/code", &fields, None).await;
    assert_eq!(second.status, StatusCode::FORBIDDEN);
    assert!(second.session_cookie().is_none());
}

#[tokio::test]
async fn expired_code_rejected() {
    let wallet = TestWallet::start().await;
    let expired = credentials::datetime::format(Utc::now() - Duration::seconds(1));
    sqlx::query("INSERT INTO sign_in_codes (member_id, code_hash, expires_at) VALUES ($1, $2, $3)")
        .bind(FATIMA)
        .bind(codes::hash("123456"))
        .bind(&expired)
        .execute(&wallet.state.db)
        .await
        .expect("insert expired code");

    let response = wallet
        .post_form(
            "/sign-in/code",
            &[("identifier", FATIMA_EMAIL), ("code", "123456")],
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(response.session_cookie().is_none());
}

#[tokio::test]
async fn five_wrong_attempts_kill_code() {
    let wallet = TestWallet::start().await;
    let code = wallet.request_code(FATIMA_EMAIL).await;
    let wrong = other_code(&code);

    for attempt in 1..=4 {
        let response = wallet
            .post_form(
                "/sign-in/code",
                &[("identifier", FATIMA_EMAIL), ("code", &wrong)],
                None,
            )
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "attempt {attempt}");
    }
    let fifth = wallet
        .post_form(
            "/sign-in/code",
            &[("identifier", FATIMA_EMAIL), ("code", &wrong)],
            None,
        )
        .await;
    assert_eq!(fifth.status, StatusCode::TOO_MANY_REQUESTS);

    let right = wallet
        .post_form(
            "/sign-in/code",
            &[("identifier", FATIMA_EMAIL), ("code", &code)],
            None,
        )
        .await;
    assert_eq!(
        right.status,
        StatusCode::FORBIDDEN,
        "the code is dead after five wrong attempts"
    );
    assert!(right.session_cookie().is_none());
}

#[tokio::test]
async fn code_requests_rate_limited() {
    let wallet = TestWallet::start().await;
    let first_page = wallet
        .post_form("/sign-in", &[("identifier", FATIMA_EMAIL)], None)
        .await;
    for _ in 2..=7 {
        let response = wallet
            .post_form("/sign-in", &[("identifier", FATIMA_EMAIL)], None)
            .await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(
            response.text(),
            first_page.text(),
            "a limited request gets the same page"
        );
    }
    assert_eq!(wallet.outbox().len(), codes::MAX_CODES_PER_WINDOW as usize);
    assert_eq!(
        code_rows(&wallet, FATIMA).await,
        codes::MAX_CODES_PER_WINDOW
    );

    // Another member is not affected.
    wallet.request_code("khadija.oubella@example.org").await;
}

async fn insert_codes_created_ago(wallet: &TestWallet, minutes: i64) {
    // The table stores no creation time: a code created `minutes` ago
    // expires `minutes - 10` minutes ago.
    let expires_at = credentials::datetime::format(
        Utc::now() - Duration::minutes(minutes) + codes::CODE_LIFETIME,
    );
    for _ in 0..codes::MAX_CODES_PER_WINDOW {
        sqlx::query(
            "INSERT INTO sign_in_codes (member_id, code_hash, expires_at) VALUES ($1, 'x', $2)",
        )
        .bind(FATIMA)
        .bind(&expires_at)
        .execute(&wallet.state.db)
        .await
        .expect("insert old code");
    }
}

#[tokio::test]
async fn rate_limit_counts_last_hour() {
    let wallet = TestWallet::start().await;
    insert_codes_created_ago(&wallet, 59).await;
    let response = wallet
        .post_form("/sign-in", &[("identifier", FATIMA_EMAIL)], None)
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(
        wallet.outbox().is_empty(),
        "five codes within the hour block a sixth"
    );
}

#[tokio::test]
async fn rate_limit_forgets_older_codes() {
    let wallet = TestWallet::start().await;
    insert_codes_created_ago(&wallet, 61).await;
    wallet.request_code(FATIMA_EMAIL).await;
}

#[tokio::test]
async fn sign_out_ends_session() {
    let wallet = TestWallet::start().await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;

    let response = wallet.post_form("/sign-out", &[], Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.header(header::LOCATION).as_deref(), Some("/"));
    let cleared = response.session_cookie().expect("cleared cookie");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&wallet.state.db)
        .await
        .expect("count sessions");
    assert_eq!(sessions, 0);
    let page = wallet.get("/certificates", Some(&cookie)).await;
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "the old cookie no longer works"
    );
}

#[tokio::test]
async fn sign_out_needs_post() {
    let wallet = TestWallet::start().await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    let response = wallet.get("/sign-out", Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    let page = wallet.get("/certificates", Some(&cookie)).await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "a GET does not end the session"
    );
}

#[tokio::test]
async fn secure_cookies_when_configured() {
    let wallet = TestWallet::start_with(|config| config.secure_cookies = true).await;
    let code = wallet.request_code(FATIMA_EMAIL).await;
    let response = wallet
        .post_form(
            "/sign-in/code",
            &[("identifier", FATIMA_EMAIL), ("code", &code)],
            None,
        )
        .await;
    let set_cookie = response.session_cookie().expect("session cookie");
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
}

#[tokio::test]
async fn expired_session_rejected() {
    let wallet = TestWallet::start().await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    let past = credentials::datetime::format(Utc::now() - Duration::seconds(1));
    sqlx::query("UPDATE sessions SET expires_at = $1")
        .bind(&past)
        .execute(&wallet.state.db)
        .await
        .expect("expire session");
    let page = wallet.get("/certificates", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
}

/// A code request carrying the connection address `ip`, as the server
/// started by `main` records it.
async fn request_from(wallet: &TestWallet, ip: [u8; 4]) -> StatusCode {
    request_forwarded(wallet, ip, None).await
}

/// A code request from the connection address `ip` with the
/// `X-Forwarded-For` header `forwarded_for`, if any.
async fn request_forwarded(
    wallet: &TestWallet,
    ip: [u8; 4],
    forwarded_for: Option<&str>,
) -> StatusCode {
    let mut builder = axum::http::Request::builder()
        .method("POST")
        .uri("/sign-in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(forwarded_for) = forwarded_for {
        builder = builder.header("x-forwarded-for", forwarded_for);
    }
    let mut request = builder
        .body(axum::body::Body::from("identifier=nobody%40example.org"))
        .expect("request");
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            ip, 40000,
        ))));
    wallet.send(request).await.status
}

#[tokio::test]
async fn code_requests_limited_per_address() {
    let wallet = TestWallet::start().await;
    for attempt in 0..codes::MAX_REQUESTS_PER_ADDRESS {
        assert_eq!(
            request_from(&wallet, [192, 0, 2, 1]).await,
            StatusCode::OK,
            "request {attempt}"
        );
    }
    assert_eq!(
        request_from(&wallet, [192, 0, 2, 1]).await,
        StatusCode::TOO_MANY_REQUESTS,
        "one request over the limit"
    );
    assert_eq!(
        request_from(&wallet, [192, 0, 2, 2]).await,
        StatusCode::OK,
        "another address is not limited"
    );
}

#[tokio::test]
async fn address_limit_forgets_last_hour() {
    let wallet = TestWallet::start().await;
    let old = credentials::datetime::format(Utc::now() - Duration::minutes(61));
    for _ in 0..codes::MAX_REQUESTS_PER_ADDRESS {
        sqlx::query("INSERT INTO sign_in_requests (client_address, requested_at) VALUES ($1, $2)")
            .bind("192.0.2.1")
            .bind(&old)
            .execute(&wallet.state.db)
            .await
            .expect("insert old request");
    }
    assert_eq!(request_from(&wallet, [192, 0, 2, 1]).await, StatusCode::OK);
}

#[tokio::test]
async fn address_limit_behind_trusted_proxy() {
    const PROXY: [u8; 4] = [10, 0, 0, 1];
    const UNTRUSTED: [u8; 4] = [198, 51, 100, 9];
    let wallet = TestWallet::start_with(|config| {
        config.trusted_proxies = TrustedProxies::parse("10.0.0.1").expect("proxy list");
    })
    .await;

    for attempt in 0..codes::MAX_REQUESTS_PER_ADDRESS {
        assert_eq!(
            request_forwarded(&wallet, PROXY, Some("203.0.113.1")).await,
            StatusCode::OK,
            "first client, request {attempt}"
        );
    }
    assert_eq!(
        request_forwarded(&wallet, PROXY, Some("203.0.113.1")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "first client over the limit"
    );
    assert_eq!(
        request_forwarded(&wallet, PROXY, Some("198.51.100.200, 203.0.113.1")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "an entry the first client wrote does not reset its limit"
    );
    assert_eq!(
        request_forwarded(&wallet, PROXY, Some("203.0.113.2")).await,
        StatusCode::OK,
        "second client behind the same proxy has its own limit"
    );

    // An untrusted peer's header is ignored: a new spoofed address on
    // every request still counts against the peer address.
    for attempt in 0..codes::MAX_REQUESTS_PER_ADDRESS {
        let spoofed = format!("203.0.113.{}", 100 + attempt);
        assert_eq!(
            request_forwarded(&wallet, UNTRUSTED, Some(&spoofed)).await,
            StatusCode::OK,
            "untrusted peer, request {attempt}"
        );
    }
    assert_eq!(
        request_forwarded(&wallet, UNTRUSTED, Some("203.0.113.250")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "untrusted peer over the limit despite a new header"
    );

    let counted: Vec<(String, i64)> = sqlx::query_as(
        "SELECT client_address, COUNT(*) FROM sign_in_requests
         GROUP BY client_address ORDER BY client_address",
    )
    .fetch_all(&wallet.state.db)
    .await
    .expect("count requests");
    let limit = codes::MAX_REQUESTS_PER_ADDRESS;
    assert_eq!(
        counted,
        vec![
            ("198.51.100.9".to_owned(), limit),
            ("203.0.113.1".to_owned(), limit),
            ("203.0.113.2".to_owned(), 1),
        ],
        "requests are counted per client address, never per spoofed one"
    );
}

#[tokio::test]
async fn every_cookie_is_http_only_and_same_site() {
    let wallet = TestWallet::start_with(|config| config.secure_cookies = true).await;
    let language = wallet.get("/?lang=ar", None).await;
    let code = wallet.request_code(FATIMA_EMAIL).await;
    let signed_in = wallet
        .post_form(
            "/sign-in/code",
            &[("identifier", FATIMA_EMAIL), ("code", &code)],
            None,
        )
        .await;
    let session = signed_in.session_cookie().expect("session cookie");
    let pair = session.split(';').next().expect("pair").to_owned();
    let signed_out = wallet.post_form("/sign-out", &[], Some(&pair)).await;

    let mut cookies = language.set_cookies();
    cookies.extend(signed_in.set_cookies());
    cookies.extend(signed_out.set_cookies());
    assert_eq!(cookies.len(), 3, "{cookies:?}");
    for cookie in cookies {
        for attribute in ["; HttpOnly", "; SameSite=Lax", "; Secure", "; Path=/"] {
            assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
        }
    }
}
