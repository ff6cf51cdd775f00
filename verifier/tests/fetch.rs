//! The guarded client: address rules, redirects checked again, size caps,
//! timeouts and the cache, against loopback servers started here. No test
//! sends traffic beyond 127.0.0.1: the non-public addresses below are
//! rejected before any connection is made.

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use verifier::fetch::{check_address, non_public_reason, FetchError, FetchLimits, Fetcher};

#[test]
fn address_rules() {
    let cases: &[(&str, Option<&str>)] = &[
        // Public addresses, including the neighbours of each refused range.
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("100.63.255.255", None),
        ("100.128.0.0", None),
        ("172.15.255.255", None),
        ("172.32.0.0", None),
        ("169.253.255.255", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::808:808", None),
        // IPv4
        ("0.0.0.0", Some("an unspecified address")),
        ("0.1.2.3", Some("an unspecified address")),
        ("127.0.0.1", Some("a loopback address")),
        ("127.255.255.254", Some("a loopback address")),
        ("10.0.0.1", Some("a private address")),
        ("172.16.0.1", Some("a private address")),
        ("172.31.255.255", Some("a private address")),
        ("192.168.1.1", Some("a private address")),
        ("169.254.1.1", Some("a link-local address")),
        ("169.254.169.254", Some("a cloud metadata address")),
        ("100.64.0.1", Some("a shared (CGNAT) address")),
        ("100.127.255.255", Some("a shared (CGNAT) address")),
        ("192.0.2.1", Some("a documentation address")),
        ("198.51.100.7", Some("a documentation address")),
        ("203.0.113.9", Some("a documentation address")),
        ("192.0.0.170", Some("an IETF protocol address")),
        ("198.18.0.1", Some("a benchmarking address")),
        ("224.0.0.1", Some("a multicast address")),
        ("239.255.255.250", Some("a multicast address")),
        ("240.0.0.1", Some("a reserved or broadcast address")),
        ("255.255.255.255", Some("a reserved or broadcast address")),
        // IPv6
        ("::", Some("an unspecified address")),
        ("::1", Some("a loopback address")),
        ("fd00:ec2::254", Some("a cloud metadata address")),
        ("fc00::1", Some("a unique-local address")),
        ("fd12:3456::1", Some("a unique-local address")),
        ("fe80::1", Some("a link-local address")),
        ("febf::1", Some("a link-local address")),
        ("fec0::1", Some("a site-local address")),
        ("ff02::1", Some("a multicast address")),
        ("2001:db8::1", Some("a documentation address")),
        ("3fff::1", Some("a documentation address")),
        ("2001::1", Some("a Teredo address")),
        ("100::1", Some("a discard-only address")),
        // IPv4 inside IPv6
        ("::ffff:127.0.0.1", Some("a loopback address")),
        ("::ffff:10.0.0.1", Some("a private address")),
        ("::ffff:169.254.169.254", Some("a cloud metadata address")),
        ("::ffff:100.64.0.1", Some("a shared (CGNAT) address")),
        ("::ffff:0.0.0.0", Some("an unspecified address")),
        ("::127.0.0.1", Some("a deprecated IPv4-compatible address")),
        ("::8.8.8.8", Some("a deprecated IPv4-compatible address")),
        ("64:ff9b::a9fe:a9fe", Some("a cloud metadata address")),
        ("64:ff9b::7f00:1", Some("a loopback address")),
        ("2002:a00:1::", Some("a private address")),
        ("2002:a9fe:a9fe::", Some("a cloud metadata address")),
    ];
    for (text, expected) in cases {
        let address: IpAddr = text.parse().expect("address");
        assert_eq!(non_public_reason(address), *expected, "{text}");
    }
}

#[test]
fn loopback_allowance_covers_only_loopback() {
    for text in ["127.0.0.1", "::1", "::ffff:127.0.0.1", "127.1.2.3"] {
        let address: IpAddr = text.parse().expect("address");
        assert!(check_address(address, true).is_ok(), "{text}");
        assert!(check_address(address, false).is_err(), "{text}");
    }
    for text in [
        "169.254.169.254",
        "10.0.0.1",
        "fd00:ec2::254",
        "::ffff:192.168.0.1",
    ] {
        let address: IpAddr = text.parse().expect("address");
        assert!(check_address(address, true).is_err(), "{text}");
    }
}

struct Server {
    origin: String,
    hits: Arc<AtomicUsize>,
}

/// Starts a loopback server with the routes the tests need.
async fn server() -> Server {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let counted = move |cache_control: &'static str| {
        let counter = counter.clone();
        move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                ([(header::CACHE_CONTROL, cache_control)], "{}").into_response()
            }
        }
    };
    let redirect = |location: &'static str| {
        move || async move { (StatusCode::FOUND, [(header::LOCATION, location)]).into_response() }
    };
    let app = Router::new()
        .route("/list", get(counted("public, max-age=300")))
        .route("/short", get(counted("max-age=1")))
        .route("/no-store", get(counted("no-store, max-age=300")))
        .route("/plain", get(counted("")))
        .route(
            "/to/metadata",
            get(redirect("http://169.254.169.254/latest/meta-data/")),
        )
        .route("/to/private", get(redirect("http://10.0.0.1/status")))
        .route(
            "/to/private-https",
            get(redirect("https://10.0.0.1/status")),
        )
        .route("/to/mapped", get(redirect("http://[::ffff:a9fe:a9fe]/")))
        .route("/to/ftp", get(redirect("ftp://127.0.0.1/list")))
        .route("/to/list", get(redirect("/list")))
        .route("/to/loop", get(redirect("/to/loop")))
        .route("/to/nowhere", get(|| async { StatusCode::FOUND }))
        .route("/big", get(|| async { vec![b'x'; 200 * 1024] }))
        .route(
            "/big-stream",
            get(|| async {
                let chunks = (0..50).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 8 * 1024]));
                axum::body::Body::from_stream(futures_util::stream::iter(chunks))
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                "late"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server { origin, hits }
}

fn limits() -> FetchLimits {
    FetchLimits {
        total_timeout: Duration::from_millis(800),
        max_body_bytes: 64 * 1024,
        ..FetchLimits::default()
    }
}

fn test_client() -> Fetcher {
    Fetcher::allowing_loopback_for_tests(&[], limits()).expect("client")
}

const ACCEPT: &str = "application/json";

#[tokio::test]
async fn production_client_rejects_local_urls() {
    let server = server().await;
    let client = Fetcher::new(&[], limits()).expect("client");
    let port = server.origin.rsplit(':').next().expect("port");

    let http = client.get(&format!("{}/list", server.origin), ACCEPT).await;
    assert!(
        matches!(http, Err(FetchError::SchemeNotAllowed(_))),
        "{http:?}"
    );

    for url in [
        format!("https://127.0.0.1:{port}/list"),
        format!("https://[::1]:{port}/list"),
        format!("https://[::ffff:127.0.0.1]:{port}/list"),
        "https://169.254.169.254/latest/meta-data/".to_owned(),
        "https://[fd00:ec2::254]/".to_owned(),
        "https://10.0.0.1/".to_owned(),
    ] {
        let result = client.get(&url, ACCEPT).await;
        assert!(
            matches!(result, Err(FetchError::AddressNotAllowed { .. })),
            "{url}: {result:?}"
        );
    }
    assert_eq!(server.hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn production_client_checks_resolved_names() {
    // localhost resolves to a loopback address through the system resolver
    // (/etc/hosts), so the guarded resolver must reject it.
    let server = server().await;
    let port = server.origin.rsplit(':').next().expect("port");
    let client = Fetcher::new(&[], limits()).expect("client");
    let result = client
        .get(&format!("https://localhost:{port}/list"), ACCEPT)
        .await;
    match result {
        Err(FetchError::AddressNotAllowed { host, reason, .. }) => {
            assert_eq!(host, "localhost");
            assert_eq!(reason, "a loopback address");
        }
        other => panic!("localhost was not rejected: {other:?}"),
    }
}

#[tokio::test]
async fn configured_origin_allowed_as_configured() {
    let server = server().await;
    let client = Fetcher::new(std::slice::from_ref(&server.origin), limits()).expect("client");
    let fetched = client
        .get(&format!("{}/plain", server.origin), ACCEPT)
        .await
        .expect("configured origin");
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body, b"{}");

    // A redirect from the configured origin to anywhere else is checked.
    let http = client
        .get(&format!("{}/to/private", server.origin), ACCEPT)
        .await;
    assert!(
        matches!(http, Err(FetchError::SchemeNotAllowed(_))),
        "{http:?}"
    );
    let https = client
        .get(&format!("{}/to/private-https", server.origin), ACCEPT)
        .await;
    assert!(
        matches!(https, Err(FetchError::AddressNotAllowed { .. })),
        "{https:?}"
    );
    let within = client
        .get(&format!("{}/to/list", server.origin), ACCEPT)
        .await;
    assert_eq!(within.expect("redirect within the origin").status, 200);
}

#[tokio::test]
async fn redirects_checked_again() {
    let server = server().await;
    let client = test_client();
    let cases = [
        ("/to/metadata", "a cloud metadata address"),
        ("/to/private", "a private address"),
        ("/to/mapped", "a cloud metadata address"),
    ];
    for (path, expected) in cases {
        let result = client
            .get(&format!("{}{path}", server.origin), ACCEPT)
            .await;
        match result {
            Err(FetchError::AddressNotAllowed { reason, .. }) => {
                assert_eq!(reason, expected, "{path}")
            }
            other => panic!("{path}: {other:?}"),
        }
    }
    let ftp = client
        .get(&format!("{}/to/ftp", server.origin), ACCEPT)
        .await;
    assert!(
        matches!(ftp, Err(FetchError::SchemeNotAllowed(_))),
        "{ftp:?}"
    );
    let looped = client
        .get(&format!("{}/to/loop", server.origin), ACCEPT)
        .await;
    assert_eq!(looped.expect_err("loop"), FetchError::TooManyRedirects(3));
    let nowhere = client
        .get(&format!("{}/to/nowhere", server.origin), ACCEPT)
        .await;
    assert!(
        matches!(nowhere, Err(FetchError::InvalidRedirect(_))),
        "{nowhere:?}"
    );
    let followed = client
        .get(&format!("{}/to/list", server.origin), ACCEPT)
        .await;
    assert_eq!(followed.expect("followed").status, 200);
}

#[tokio::test]
async fn body_size_capped() {
    let server = server().await;
    let client = test_client();
    for path in ["/big", "/big-stream"] {
        let result = client
            .get(&format!("{}{path}", server.origin), ACCEPT)
            .await;
        assert_eq!(
            result.expect_err(path),
            FetchError::BodyTooLarge(64 * 1024),
            "{path}"
        );
    }
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = server().await;
    let client = test_client();
    let started = Instant::now();
    let result = client.get(&format!("{}/slow", server.origin), ACCEPT).await;
    assert_eq!(result.expect_err("slow"), FetchError::TimedOut);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn cache_honours_max_age() {
    let server = server().await;
    let client = test_client();
    let fetch = |path: &'static str| {
        let client = client.clone();
        let url = format!("{}{path}", server.origin);
        async move { client.get(&url, ACCEPT).await.expect(path) }
    };
    let first = fetch("/list").await;
    let second = fetch("/list").await;
    assert_eq!(server.hits.load(Ordering::SeqCst), 1, "max-age=300 cached");
    assert_eq!(first.fetched_at, second.fetched_at);

    fetch("/no-store").await;
    fetch("/no-store").await;
    assert_eq!(server.hits.load(Ordering::SeqCst), 3, "no-store not cached");

    fetch("/plain").await;
    fetch("/plain").await;
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        5,
        "no Cache-Control not cached"
    );

    fetch("/short").await;
    fetch("/short").await;
    assert_eq!(server.hits.load(Ordering::SeqCst), 6, "max-age=1 cached");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    fetch("/short").await;
    assert_eq!(server.hits.load(Ordering::SeqCst), 7, "max-age=1 expired");
}
