mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{form_body, TestWallet, FATIMA, FATIMA_EMAIL};
use std::collections::BTreeSet;

#[tokio::test]
async fn arabic_page_is_rtl() {
    let wallet = TestWallet::start().await;

    let chosen = wallet.get("/?lang=ar", None).await;
    assert!(
        chosen.text().contains("<html lang=\"ar\" dir=\"rtl\">"),
        "{}",
        chosen.text()
    );
    let remembered = chosen
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("lang="))
        .expect("lang cookie");
    assert!(remembered.starts_with("lang=ar;"), "{remembered}");

    let next = wallet.get("/", Some("lang=ar")).await;
    assert!(
        next.text().contains("<html lang=\"ar\" dir=\"rtl\">"),
        "the cookie keeps Arabic"
    );

    let french = wallet.get("/", None).await;
    assert!(
        french.text().contains("<html lang=\"fr\" dir=\"ltr\">"),
        "French by default"
    );
}

#[tokio::test]
async fn browser_language_is_used() {
    let wallet = TestWallet::start().await;
    let request = Request::builder()
        .uri("/")
        .header(header::ACCEPT_LANGUAGE, "ar-MA,ar;q=0.9")
        .body(Body::empty())
        .expect("request");
    let response = wallet.send(request).await;
    assert!(response.text().contains("dir=\"rtl\""));
}

#[tokio::test]
async fn language_switch_links_every_language() {
    let wallet = TestWallet::start().await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    let page = wallet
        .get("/certificates?lang=zgh", Some(&cookie))
        .await
        .text();
    assert!(page.contains("<html lang=\"zgh\" dir=\"ltr\">"));
    for language in ["ar", "fr", "zgh", "en"] {
        assert!(
            page.contains(&format!("href=\"/certificates?lang={language}\"")),
            "link to {language}"
        );
    }
    assert!(page.contains("action=\"/sign-out\""), "sign-out form");
}

#[tokio::test]
async fn html_member_name_is_escaped() {
    let wallet = TestWallet::start().await;
    sqlx::query(
        "INSERT INTO members (id, cooperative_id, name_ar, name_latin, email, phone, role, identity_salt)
         VALUES ('m-evil', 'coop-argan-tiznit', '<img src=x onerror=alert(1)>', '<script>alert(\"x\")</script>',
                 'evil@example.org', NULL, 'member', 'salt')",
    )
    .execute(&wallet.state.db)
    .await
    .expect("insert member");
    wallet.complete("m-evil", "gov-law-112-12").await;
    let cookie = wallet.sign_in("evil@example.org").await;

    let latin = wallet
        .get("/certificates?lang=en", Some(&cookie))
        .await
        .text();
    assert!(
        latin.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"),
        "{latin}"
    );
    assert_eq!(
        latin.matches("<script").count(),
        1,
        "no script element but the wallet's own"
    );
    assert!(latin.contains("<script src=\"/app.js\" defer></script>"));

    let arabic = wallet
        .get("/certificates?lang=ar", Some(&cookie))
        .await
        .text();
    assert!(
        arabic.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{arabic}"
    );
    assert!(!arabic.contains("<img src=x"), "no injected image");
}

#[tokio::test]
async fn name_is_isolated_with_bdi() {
    let wallet = TestWallet::start().await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    let french = wallet
        .get("/certificates?lang=fr", Some(&cookie))
        .await
        .text();
    assert!(
        french.contains("<bdi lang=\"ar-Latn\">Fatima Ait Baha</bdi>"),
        "{french}"
    );
    let arabic = wallet
        .get("/certificates?lang=ar", Some(&cookie))
        .await
        .text();
    assert!(
        arabic.contains("<bdi lang=\"ar\">فاطمة أيت باها</bdi>"),
        "{arabic}"
    );
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let wallet = TestWallet::start().await;
    wallet.complete(FATIMA, "gov-law-112-12").await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    let pages = [
        wallet.get("/", None).await,
        wallet.get("/certificates", Some(&cookie)).await,
        wallet.get("/no-such-page", None).await,
        wallet
            .post_form("/sign-in", &[("identifier", FATIMA_EMAIL)], None)
            .await,
    ];
    for (index, page) in pages.iter().enumerate() {
        assert_eq!(
            page.header(header::CONTENT_SECURITY_POLICY).as_deref(),
            Some("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"),
            "response {index}"
        );
        assert_eq!(
            page.header(header::X_CONTENT_TYPE_OPTIONS).as_deref(),
            Some("nosniff"),
            "response {index}"
        );
        assert_eq!(
            page.header(header::REFERRER_POLICY).as_deref(),
            Some("no-referrer"),
            "response {index}"
        );
        assert_eq!(
            page.header(header::CACHE_CONTROL).as_deref(),
            Some("no-store"),
            "response {index}"
        );
    }
}

#[tokio::test]
async fn errors_are_one_sentence_pages() {
    let wallet = TestWallet::start().await;

    let missing = wallet.get("/no-such-page?lang=en", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing
        .text()
        .contains("<p class=\"error\" role=\"alert\">This page does not exist.</p>"));

    let wrong_type = Request::builder()
        .method("POST")
        .uri("/sign-in?lang=en")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .expect("request");
    let response = wallet.send(wrong_type).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(
        response.text().contains("The form could not be read."),
        "{}",
        response.text()
    );

    let too_large = "x".repeat(wallet_web::MAX_BODY_BYTES + 1);
    let response = wallet
        .post_form("/sign-in?lang=en", &[("identifier", &too_large)], None)
        .await;
    assert!(response.status.is_client_error(), "{}", response.status);
    assert!(
        response.text().contains("role=\"alert\""),
        "{}",
        response.text()
    );
}

#[tokio::test]
async fn translation_files_have_same_keys() {
    assert!(
        wallet_web::missing_translations()
            .expect("translations parse")
            .is_empty(),
        "{:?}",
        wallet_web::missing_translations()
    );
    let keys = |language: &str| -> BTreeSet<String> {
        let path = format!("{}/i18n/{language}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("translation file");
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&text).expect("json object");
        map.keys().cloned().collect()
    };
    let english = keys("en");
    for language in ["ar", "fr", "zgh"] {
        assert_eq!(keys(language), english, "{language} has the keys of en");
    }
}

#[tokio::test]
async fn page_texts_come_from_translations() {
    let wallet = TestWallet::start().await;
    for language in ["ar", "fr", "zgh", "en"] {
        let page = wallet.get(&format!("/?lang={language}"), None).await.text();
        let texts = wallet_web::translations().expect("translations");
        let heading = texts.text(language, "signin.heading", &[]);
        assert!(
            page.contains(&format!("<h1>{heading}</h1>")),
            "{language}: {page}"
        );
        assert!(
            !page.contains("signin."),
            "{language}: no untranslated key on the page"
        );
    }
}

#[tokio::test]
async fn bounds_refusal_shows_translated_page() {
    use credentials::limits::RequestBounds;
    use std::sync::Arc;
    use std::time::Duration;

    // No free slot: every request waits 20 ms and is turned away. A zero
    // deadline stops every request that waits on anything.
    let cases: [(RequestBounds, &str); 2] = [
        (
            RequestBounds::new(0, Duration::from_millis(20), Duration::from_secs(30)),
            "page.busy",
        ),
        (
            RequestBounds::new(4, Duration::from_secs(5), Duration::ZERO),
            "page.timeout",
        ),
    ];
    let wallet = TestWallet::start().await;
    for (bounds, key) in cases {
        let mut state = wallet.state.clone();
        state.bounds = Arc::new(bounds);
        let router = wallet_web::router(state);
        for language in ["ar", "fr", "zgh", "en"] {
            let request = Request::post("/sign-in")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT_LANGUAGE, language)
                .body(Body::from(form_body(&[("identifier", FATIMA_EMAIL)])))
                .expect("request");
            let response = tower::ServiceExt::oneshot(router.clone(), request)
                .await
                .expect("response");
            assert_eq!(
                response.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{key} {language}"
            );
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("body");
            let page = String::from_utf8_lossy(&body);
            let sentence = wallet.state.texts.text(language, key, &[]);
            assert!(page.contains(sentence.as_str()), "{key} {language}: {page}");
        }
    }
    // The outbox got no code: no request ran.
    assert!(wallet.outbox().is_empty());
}
