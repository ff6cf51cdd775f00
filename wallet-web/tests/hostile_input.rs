//! Hostile text in the catalogue and in a member's names, as the wallet's
//! pages show the credentials issued with them. Also dangerous evidence
//! links, and request bodies over the wallet's limit sent over loopback
//! TCP.

mod common;
#[path = "../../test-support/raw_http.rs"]
mod raw_http;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use credentials::i18n::{escape_html, is_hidden_control};
use http_body_util::BodyExt;
use raw_http::{assert_still_serving, framings, send_raw};
use serde_json::{json, Value};
use std::net::SocketAddr;
use tower::ServiceExt;

/// Text placed in a module's title, description and criteria, in every
/// path's, and in both of the member's names, before the credential is
/// issued.
const TEXT_CASES: &[(&str, &str)] = &[
    ("script element", "<script>alert('x')</script>"),
    ("image with onerror", "<img src=x onerror=alert(1)>"),
    (
        "attribute break-out with svg onload",
        "\"><svg onload=alert(1)>",
    ),
    (
        "Cyrillic look-alike of the academy",
        "\u{0422}\u{0430}\u{0430}W\u{043E}unY\u{0430} \u{0410}c\u{0430}d\u{0435}my",
    ),
    (
        "Arabic look-alike of the academy",
        "أ\u{06A9}اد\u{06CC}م\u{06CC}ة تعاون\u{06CC}ا",
    ),
    (
        "right-to-left override",
        "\u{202E}ymedacA aYnuoWaaT\u{202C}",
    ),
    (
        "embeddings and isolates",
        "\u{202A}Taa\u{202B}Woun\u{202D}Ya\u{2066} Aca\u{2067}de\u{2068}my\u{2069}",
    ),
    (
        "zero-width characters",
        "Taa\u{200B}Woun\u{200C}Ya\u{200D} Aca\u{2060}demy\u{FEFF}",
    ),
];

/// Evidence URLs with a scheme that must never become a link.
const DANGEROUS_EVIDENCE: &[&str] = &[
    "javascript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9ImFsZXJ0KDEpIi8+",
];

/// Modules whose texts the cases replace, one per case, so that each case
/// gets a credential of its own.
const MODULES: [&str; 8] = [
    "gov-law-112-12",
    "gov-general-assembly-board",
    "gov-member-rights",
    "gov-registration-odco",
    "fin-bookkeeping",
    "fin-annual-accounts",
    "fin-finance-microcredit",
    "food-hygiene",
];

/// Collects every value of the attributes that load or link a resource.
fn link_attributes(page: &str) -> Vec<String> {
    let mut values = Vec::new();
    for attribute in [
        " href=\"",
        " src=\"",
        " action=\"",
        " formaction=\"",
        " srcset=\"",
    ] {
        let mut rest = page;
        while let Some(position) = rest.find(attribute) {
            let start = position + attribute.len();
            let length = rest[start..].find('"').expect("closing quote");
            values.push(rest[start..start + length].to_owned());
            rest = &rest[start + length..];
        }
    }
    values
}

/// Checks what every wallet page must do with hostile input.
fn assert_inert(case: &str, path: &str, page: &str, hostile: &str, verifier_url: &str) {
    if hostile.contains('<') || hostile.contains('"') {
        assert!(
            !page.contains(hostile),
            "{case} {path}: markup passed through"
        );
    }
    for value in link_attributes(page) {
        let own = value.starts_with('/') && !value.starts_with("//");
        let linkedin = value.starts_with("https://www.linkedin.com/profile/add?");
        let verifier = value.starts_with(&format!("{verifier_url}/v/"));
        assert!(
            own || linkedin || verifier,
            "{case} {path}: unexpected link or image {value}"
        );
        // U+202A to U+202E and U+2066 to U+2069 percent-encoded, and U+200B
        // to U+200D, U+2060 and U+FEFF.
        for encoded in [
            "%E2%80%A",
            "%E2%81%A",
            "%E2%80%8B",
            "%E2%80%8C",
            "%E2%80%8D",
            "%EF%BB%BF",
        ] {
            assert!(
                !value.to_uppercase().contains(encoded),
                "{case} {path}: hidden control in a link: {value}"
            );
        }
    }
    let lowercase = page.to_lowercase();
    for scheme in ["javascript:", "vbscript:", "data:"] {
        assert!(
            !lowercase.contains(scheme),
            "{case} {path}: the page contains {scheme}"
        );
    }
    assert_eq!(
        page.matches("<script").count(),
        page.matches("<script src=\"/app.js\" defer></script>")
            .count(),
        "{case} {path}: a script element other than the wallet's"
    );
    for tag in ["<svg", "<iframe", "<object", "<embed"] {
        assert!(
            !page.contains(tag),
            "{case} {path}: the page contains {tag}"
        );
    }
    if let Some(control) = page.chars().find(|c| is_hidden_control(*c)) {
        panic!(
            "{case} {path}: hidden control U+{:04X} on the page",
            u32::from(control)
        );
    }
}

/// Writes `text` into the title, description and criteria of `module`
/// and of every path, in every language, and into both of Khadija's names.
async fn make_hostile(wallet: &TestWallet, module: &str, text: &str) {
    let localized = json!({"ar": text, "fr": text, "zgh": text, "en": text}).to_string();
    sqlx::query("UPDATE modules SET title = $1, description = $1, criteria = $1 WHERE id = $2")
        .bind(&localized)
        .bind(module)
        .execute(&wallet.state.db)
        .await
        .expect("rename the module");
    sqlx::query("UPDATE paths SET title = $1, description = $1, criteria = $1")
        .bind(&localized)
        .execute(&wallet.state.db)
        .await
        .expect("rename the paths");
    sqlx::query("UPDATE members SET name_latin = $1, name_ar = $1 WHERE id = $2")
        .bind(text)
        .bind(KHADIJA)
        .execute(&wallet.state.db)
        .await
        .expect("rename the member");
}

/// Reports a completion to the issuer and returns the status and body.
async fn report(wallet: &TestWallet, body: Value) -> (StatusCode, Value) {
    let request = Request::builder()
        .method("POST")
        .uri("/completions")
        .header(header::AUTHORIZATION, format!("Bearer {PLATFORM}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let response = wallet
        .issuer
        .clone()
        .oneshot(request)
        .await
        .expect("response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, serde_json::from_slice(&bytes).expect("JSON"))
}

#[tokio::test]
async fn hostile_text_is_inert() {
    let wallet = TestWallet::start().await;
    let khadija = wallet.sign_in(KHADIJA_EMAIL).await;
    let fatima = wallet.sign_in(FATIMA_EMAIL).await;
    let verifier_url = wallet.state.config.verifier_url.clone();
    for ((case, text), module) in TEXT_CASES.iter().zip(MODULES) {
        make_hostile(&wallet, module, text).await;
        // An accepted evidence link, with markup in its query.
        let (status, outcome) = report(
            &wallet,
            json!({
                "member_id": KHADIJA,
                "module_id": module,
                "completed_on": "2025-03-14",
                "evidence_url": "https://evidence.example/?q=\"><script>alert(1)</script>"
            }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{case}: {outcome}");
        let id = outcome["module_credential"]["id"]
            .as_str()
            .expect("credential id");
        let encoded = encode_id(id);
        let expected = escape_html(
            &text
                .chars()
                .filter(|c| !is_hidden_control(*c))
                .collect::<String>(),
        );
        for language in ["en", "ar"] {
            for (path, cookie) in [
                (format!("/certificates?lang={language}"), &khadija),
                (format!("/certificates/{encoded}?lang={language}"), &khadija),
                (
                    format!("/certificates/{encoded}/qr?lang={language}"),
                    &khadija,
                ),
                (format!("/cooperative?lang={language}"), &fatima),
            ] {
                let response = wallet.get(&path, Some(cookie)).await;
                assert_eq!(response.status, StatusCode::OK, "{case} {path}");
                let page = response.text();
                assert_inert(case, &path, &page, text, &verifier_url);
                assert!(
                    page.contains(&format!(">{expected}</bdi>")),
                    "{case} {path}: the name is not shown as text"
                );
                assert!(
                    !page.contains("evidence.example"),
                    "{case} {path}: the evidence link is shown"
                );
            }
        }
    }
}

#[tokio::test]
async fn dangerous_evidence_is_rejected() {
    let wallet = TestWallet::start().await;
    for url in DANGEROUS_EVIDENCE {
        let (status, problem) = report(
            &wallet,
            json!({
                "member_id": KHADIJA,
                "module_id": "food-hygiene",
                "completed_on": "2025-03-14",
                "evidence_url": url
            }),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {problem}");
        assert_eq!(problem["field"], "evidence_url", "{url}: {problem}");
    }
}

/// Serves the wallet on a loopback port, with the peer addresses that the
/// sign-in limit counts.
async fn serve(wallet: &TestWallet) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = wallet
        .router
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

const FORM_HEADERS: [(&str, &str); 1] = [("Content-Type", "application/x-www-form-urlencoded")];

/// Builds a form body of exactly `size` bytes: `field` and then filler.
fn form_of_size(field: &str, size: usize) -> Vec<u8> {
    let prefix = format!("{field}=");
    format!("{prefix}{}", "x".repeat(size - prefix.len())).into_bytes()
}

/// Returns the text of the page's alert paragraph.
fn alert_text(page: &str) -> &str {
    let marker = "<p class=\"error\" role=\"alert\">";
    let start = page.find(marker).expect("alert paragraph") + marker.len();
    let length = page[start..].find("</p>").expect("end of alert");
    &page[start..start + length]
}

#[tokio::test]
async fn forms_over_limit_get_413() {
    let wallet = TestWallet::start().await;
    let outcome = wallet.complete(FATIMA, "gov-law-112-12").await;
    let id = outcome["module_credential"]["id"]
        .as_str()
        .expect("credential id")
        .to_owned();
    let addr = serve(&wallet).await;
    let sharing = format!("/certificates/{}/sharing?lang=en", encode_id(&id));
    let cases = [
        ("/sign-in?lang=en", "identifier"),
        ("/sign-in/code?lang=en", "code"),
        (sharing.as_str(), "shared"),
    ];
    for (path, field) in cases {
        for framing in framings(4 * 1024) {
            let body = form_of_size(field, wallet_web::MAX_BODY_BYTES + 1);
            let response = send_raw(addr, "POST", path, &FORM_HEADERS, body, framing).await;
            let page = response.text();
            assert_eq!(response.status, 413, "{path} ({framing:?}): {page}");
            assert!(page.starts_with("<!doctype html>"), "{path} ({framing:?})");
            assert_eq!(
                alert_text(&page),
                "The form sent is too large. Please fill it in again.",
                "{path} ({framing:?})"
            );
            assert_eq!(page.matches("role=\"alert\"").count(), 1, "{path}");

            assert_still_serving(addr, &format!("{path} ({framing:?})")).await;
        }
    }
}
