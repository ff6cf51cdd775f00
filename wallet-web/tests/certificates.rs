mod common;

use axum::http::{header, StatusCode};
use common::{encode_id, TestWallet, FATIMA, FATIMA_EMAIL, KHADIJA_EMAIL};

/// Title of a module or path in `language`, from the catalogue tables.
async fn title(wallet: &TestWallet, table: &str, id: &str, language: &str) -> String {
    let json: String = sqlx::query_scalar(&format!("SELECT title FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_one(&wallet.state.db)
        .await
        .expect("title");
    let titles: serde_json::Value = serde_json::from_str(&json).expect("title json");
    titles[language]
        .as_str()
        .expect("title in language")
        .to_owned()
}

fn escaped(text: &str) -> String {
    credentials::i18n::escape_html(text)
}

#[tokio::test]
async fn member_sees_path_then_modules() {
    let wallet = TestWallet::start().await;
    let path_credential = wallet.complete_path(FATIMA, "path-finance").await;
    wallet.complete(FATIMA, "gov-law-112-12").await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;

    let page = wallet.get("/certificates?lang=en", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();

    let path_title = escaped(&title(&wallet, "paths", "path-finance", "en").await);
    let first_module = escaped(&title(&wallet, "modules", "fin-bookkeeping", "en").await);
    let loose_module = escaped(&title(&wallet, "modules", "gov-law-112-12", "en").await);
    let path_at = html.find(&path_title).expect("path title on the page");
    let module_at = html.find(&first_module).expect("module title on the page");
    let loose_at = html
        .find(&loose_module)
        .expect("loose module title on the page");
    assert!(path_at < module_at, "the path comes before its modules");
    assert!(
        module_at < loose_at,
        "modules of no completed path come last"
    );

    let arabic = escaped(&title(&wallet, "paths", "path-finance", "ar").await);
    let french = escaped(&title(&wallet, "paths", "path-finance", "fr").await);
    assert!(html.contains(&arabic), "Arabic name visible");
    assert!(html.contains(&french), "French name visible");

    let credentials: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM credentials WHERE member_id = $1")
            .bind(FATIMA)
            .fetch_one(&wallet.state.db)
            .await
            .expect("count");
    assert_eq!(
        credentials, 5,
        "three finance modules, the path, one governance module"
    );
    assert_eq!(
        html.matches("/qr.svg\"").count(),
        5,
        "one QR code per certificate"
    );
    assert_eq!(
        html.matches(".json\" download").count(),
        5,
        "one download link per certificate"
    );

    let encoded = encode_id(&path_credential);
    assert!(html.contains(&format!("src=\"/certificates/{encoded}/qr.svg\"")));
    assert!(html.contains(&format!("href=\"/certificates/{encoded}.json\"")));
    assert!(html.contains("Does not expire"));
    assert!(
        html.contains("Date: <time datetime=\"2025-03-14T00:00:00Z\""),
        "module date is validFrom"
    );
    assert!(html.contains("1 of 4 modules"), "governance path progress");
    assert!(html.contains("<progress value=\"1\" max=\"4\">"));
}

#[tokio::test]
async fn empty_wallet_says_so() {
    let wallet = TestWallet::start().await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    let page = wallet.get("/certificates?lang=en", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("You have no certificates yet."),
        "{}",
        page.text()
    );
    assert!(!page.text().contains("qr.svg"));
}

#[tokio::test]
async fn json_download_is_stored_document() {
    let wallet = TestWallet::start().await;
    let id = wallet.complete_path(FATIMA, "path-finance").await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    let (document, _) = wallet.stored(&id).await;

    let response = wallet
        .get(
            &format!("/certificates/{}.json", encode_id(&id)),
            Some(&cookie),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, document.as_bytes(), "byte for byte");
    assert_eq!(
        response.header(header::CONTENT_TYPE).as_deref(),
        Some("application/json")
    );
    let uuid = id.strip_prefix("urn:uuid:").expect("urn:uuid id");
    assert_eq!(
        response.header(header::CONTENT_DISPOSITION),
        Some(format!("attachment; filename=\"certificate-{uuid}.json\""))
    );

    // The raw id, colons unencoded, reaches the same credential.
    let raw = wallet
        .get(&format!("/certificates/{id}.json"), Some(&cookie))
        .await;
    assert_eq!(raw.status, StatusCode::OK);
    assert_eq!(raw.body, document.as_bytes());
}

#[tokio::test]
async fn qr_codes_open_verifier_link() {
    let wallet = TestWallet::start().await;
    let id = wallet.complete_path(FATIMA, "path-finance").await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    let (_, share_token) = wallet.stored(&id).await;
    // The link in capitals, then the compact form in digits
    // (docs/compact-form.md).
    let expected = format!("HTTP://127.0.0.1:8081/V/{share_token}#");

    let svg = wallet
        .get(
            &format!("/certificates/{}/qr.svg", encode_id(&id)),
            Some(&cookie),
        )
        .await;
    assert_eq!(svg.status, StatusCode::OK);
    assert_eq!(
        svg.header(header::CONTENT_TYPE).as_deref(),
        Some("image/svg+xml")
    );
    assert!(svg.text().contains("<svg"));

    let png = wallet
        .get(
            &format!("/certificates/{}/qr.png", encode_id(&id)),
            Some(&cookie),
        )
        .await;
    assert_eq!(png.status, StatusCode::OK);
    assert_eq!(
        png.header(header::CONTENT_TYPE).as_deref(),
        Some("image/png")
    );
    let image = image::load_from_memory(&png.body).expect("png").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().expect("decode qr");
    let fragment = content.strip_prefix(&expected).expect(&content);
    assert!(fragment.len() > 200 && fragment.bytes().all(|b| b.is_ascii_digit()));
}

#[tokio::test]
async fn other_member_gets_not_found() {
    let wallet = TestWallet::start().await;
    let id = wallet.complete_path(FATIMA, "path-finance").await;
    let other = wallet.sign_in(KHADIJA_EMAIL).await;
    let encoded = encode_id(&id);

    for uri in [
        format!("/certificates/{encoded}.json"),
        format!("/certificates/{encoded}/qr.svg"),
        format!("/certificates/{encoded}/qr.png"),
    ] {
        let as_other = wallet.get(&uri, Some(&other)).await;
        assert_eq!(
            as_other.status,
            StatusCode::NOT_FOUND,
            "{uri} as another member"
        );
        let anonymous = wallet.get(&uri, None).await;
        assert_eq!(anonymous.status, StatusCode::NOT_FOUND, "{uri} signed out");
        assert_eq!(
            as_other.body, anonymous.body,
            "{uri}: both 404 pages are alike"
        );
    }

    let list = wallet.get("/certificates", Some(&other)).await;
    assert!(
        !list.text().contains(&encoded),
        "another member's page does not list it"
    );
}

#[tokio::test]
async fn unknown_credential_not_found() {
    let wallet = TestWallet::start().await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    for uri in [
        "/certificates/urn%3Auuid%3Anope.json",
        "/certificates/no-suffix",
        "/certificates/x/qr.gif",
    ] {
        let response = wallet.get(uri, Some(&cookie)).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(
            response.text().contains("role=\"alert\""),
            "{uri}: error sentence"
        );
    }
}

#[tokio::test]
async fn signed_out_redirects_to_sign_in() {
    let wallet = TestWallet::start().await;
    for cookie in [
        None,
        Some("wallet_session=not-a-token"),
        Some(&*format!("wallet_session={}", "ab".repeat(32))),
    ] {
        let response = wallet.get("/certificates", cookie).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "cookie {cookie:?}");
        assert_eq!(
            response.header(header::LOCATION).as_deref(),
            Some("/"),
            "cookie {cookie:?}"
        );
    }
}

#[tokio::test]
async fn signed_in_start_goes_to_certificates() {
    let wallet = TestWallet::start().await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    let response = wallet.get("/", Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(
        response.header(header::LOCATION).as_deref(),
        Some("/certificates")
    );
}

#[tokio::test]
async fn superseded_credential_is_hidden() {
    let wallet = TestWallet::start().await;
    let old = wallet.complete(FATIMA, "gov-law-112-12").await;
    let new = wallet.complete(FATIMA, "fin-bookkeeping").await;
    let old_id = old["module_credential"]["id"].as_str().expect("old id");
    let new_id = new["module_credential"]["id"].as_str().expect("new id");
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    let before = wallet
        .get("/certificates?lang=en", Some(&cookie))
        .await
        .text();
    assert!(before.contains(&encode_id(old_id)), "{before}");

    // As `issuer keys reissue` records it: the first credential is
    // replaced by the second.
    sqlx::query(
        "INSERT INTO superseded_credentials (credential_id, replaced_by, key_fragment, superseded_at)
         VALUES ($1, $2, 'key-1', '2026-12-01T00:00:00Z')",
    )
    .bind(old_id)
    .bind(new_id)
    .execute(&wallet.state.db)
    .await
    .expect("superseded row");
    let after = wallet
        .get("/certificates?lang=en", Some(&cookie))
        .await
        .text();
    assert!(!after.contains(&encode_id(old_id)), "{after}");
    assert!(after.contains(&encode_id(new_id)), "{after}");
}
