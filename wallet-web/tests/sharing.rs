//! The detail page, the full-screen QR code and the public link switch,
//! checked against the issuer's public routes.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{encode_id, TestWallet, FATIMA, FATIMA_EMAIL, KHADIJA_EMAIL};
use tower::ServiceExt;

/// Status of a GET on the issuer's router.
async fn issuer_status(wallet: &TestWallet, uri: &str) -> StatusCode {
    let request = Request::builder()
        .uri(uri)
        .body(Body::empty())
        .expect("request");
    wallet
        .issuer
        .clone()
        .oneshot(request)
        .await
        .expect("response")
        .status()
}

async fn public_statuses(wallet: &TestWallet, token: &str) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for suffix in ["", "/qr.png", "/qr.svg"] {
        statuses.push(issuer_status(wallet, &format!("/public/credentials/{token}{suffix}")).await);
    }
    statuses
}

#[tokio::test]
async fn turning_link_off_hides_credential() {
    let wallet = TestWallet::start().await;
    let id = wallet.complete_path(FATIMA, "path-finance").await;
    let (_, token) = wallet.stored(&id).await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    let encoded = encode_id(&id);
    assert_eq!(
        public_statuses(&wallet, &token).await,
        vec![StatusCode::OK; 3]
    );

    let off = wallet
        .post_form(
            &format!("/certificates/{encoded}/sharing"),
            &[("shared", "off")],
            Some(&cookie),
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    assert_eq!(
        off.header(header::LOCATION),
        Some(format!("/certificates/{encoded}"))
    );
    assert_eq!(
        public_statuses(&wallet, &token).await,
        vec![StatusCode::NOT_FOUND; 3],
        "page, PNG and SVG of a link that is off"
    );
    let page = wallet
        .get(&format!("/certificates/{encoded}?lang=en"), Some(&cookie))
        .await;
    assert!(
        page.text().contains("The public link is off"),
        "{}",
        page.text()
    );
    assert!(page.text().contains("Turn the public link on"));
    assert!(
        !page.text().contains("linkedin.com"),
        "no LinkedIn link for a hidden certificate"
    );
    let full_screen = wallet
        .get(&format!("/certificates/{encoded}/qr"), Some(&cookie))
        .await;
    assert_eq!(full_screen.status, StatusCode::NOT_FOUND);

    let on = wallet
        .post_form(
            &format!("/certificates/{encoded}/sharing"),
            &[("shared", "on")],
            Some(&cookie),
        )
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);
    assert_eq!(
        public_statuses(&wallet, &token).await,
        vec![StatusCode::OK; 3]
    );
}

#[tokio::test]
async fn other_member_cannot_switch() {
    let wallet = TestWallet::start().await;
    let id = wallet.complete_path(FATIMA, "path-finance").await;
    let (_, token) = wallet.stored(&id).await;
    let other = wallet.sign_in(KHADIJA_EMAIL).await;
    let uri = format!("/certificates/{}/sharing", encode_id(&id));

    let response = wallet
        .post_form(&uri, &[("shared", "off")], Some(&other))
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    let anonymous = wallet.post_form(&uri, &[("shared", "off")], None).await;
    assert_eq!(anonymous.status, StatusCode::NOT_FOUND);
    assert_eq!(
        public_statuses(&wallet, &token).await,
        vec![StatusCode::OK; 3]
    );
}

#[tokio::test]
async fn invalid_switch_value_rejected() {
    let wallet = TestWallet::start().await;
    let id = wallet.complete_path(FATIMA, "path-finance").await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    let uri = format!("/certificates/{}/sharing", encode_id(&id));
    for value in ["", "yes", "OFF"] {
        let response = wallet
            .post_form(&uri, &[("shared", value)], Some(&cookie))
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "value {value:?}");
    }
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM credential_sharing")
        .fetch_one(&wallet.state.db)
        .await
        .expect("count");
    assert_eq!(rows, 0, "nothing written");
}

#[tokio::test]
async fn detail_page_shows_certificate() {
    let wallet = TestWallet::start().await;
    let id = wallet.complete_path(FATIMA, "path-finance").await;
    let (_, token) = wallet.stored(&id).await;
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    let encoded = encode_id(&id);

    let page = wallet
        .get(&format!("/certificates/{encoded}?lang=en"), Some(&cookie))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Status: Valid"), "{html}");
    assert!(html.contains("What was required"));
    assert!(html.contains("Date: <time datetime=\"2025-03-14"));
    assert!(html.contains("Does not expire"));
    assert!(html.contains(&format!("src=\"/certificates/{encoded}/qr.svg\"")));
    assert!(html.contains(&format!("href=\"/certificates/{encoded}/qr\"")));
    assert!(html.contains(&format!("href=\"/certificates/{encoded}.pdf\" download")));
    assert!(html.contains(&format!("href=\"/certificates/{encoded}.json\" download")));
    assert!(html.contains(&format!("http://127.0.0.1:8081/v/{token}")));

    let linkedin = html
        .split("href=\"")
        .find(|part| part.starts_with("https://www.linkedin.com/profile/add?"))
        .and_then(|part| part.split('"').next())
        .expect("LinkedIn link")
        .replace("&amp;", "&");
    for parameter in [
        "startTask=CERTIFICATION_NAME",
        "organizationName=TaaWounYa%20Academy",
        "issueYear=2025",
        "issueMonth=3",
        &format!("certUrl=http%3A%2F%2F127.0.0.1%3A8081%2Fv%2F{token}"),
        &format!("certId={encoded}"),
    ] {
        assert!(linkedin.contains(parameter), "{linkedin} lacks {parameter}");
    }

    let full_screen = wallet
        .get(
            &format!("/certificates/{encoded}/qr?lang=ar"),
            Some(&cookie),
        )
        .await;
    assert_eq!(full_screen.status, StatusCode::OK);
    assert!(full_screen.text().contains("dir=\"rtl\""));
    assert!(full_screen
        .text()
        .contains(&format!("src=\"/certificates/{encoded}/qr.svg\"")));
}

#[tokio::test]
async fn detail_shows_end_of_validity() {
    let wallet = TestWallet::start().await;
    // Food hygiene certificates are valid for 24 months.
    let outcome = wallet.complete(FATIMA, "food-hygiene").await;
    let id = outcome["module_credential"]["id"]
        .as_str()
        .expect("module credential id")
        .to_owned();
    let cookie = wallet.sign_in(FATIMA_EMAIL).await;
    let page = wallet
        .get(
            &format!("/certificates/{}?lang=en", encode_id(&id)),
            Some(&cookie),
        )
        .await;
    let html = page.text();
    assert!(
        html.contains("Valid until <time datetime=\"2027-03-14"),
        "{html}"
    );
    assert!(html.contains("Status: Valid"), "{html}");
}
