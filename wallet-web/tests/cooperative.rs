//! Managers read their own cooperative's certificates, and nothing of
//! other cooperatives.

mod common;

use axum::http::{header, StatusCode};
use common::{encode_id, TestWallet, FATIMA_EMAIL, KHADIJA, KHADIJA_EMAIL};

/// Youssef El Alaoui, member of another cooperative (coop-lait-sefrou).
const YOUSSEF: &str = "m-0004";
/// Mohamed Bennani, manager of coop-lait-sefrou.
const MOHAMED_EMAIL: &str = "mohamed.bennani@example.org";

async fn french_title(wallet: &TestWallet, module: &str) -> String {
    let json: String = sqlx::query_scalar("SELECT title FROM modules WHERE id = $1")
        .bind(module)
        .fetch_one(&wallet.state.db)
        .await
        .expect("title");
    let titles: serde_json::Value = serde_json::from_str(&json).expect("json");
    credentials::i18n::escape_html(titles["fr"].as_str().expect("fr title"))
}

#[tokio::test]
async fn manager_sees_own_cooperative_only() {
    let wallet = TestWallet::start().await;
    wallet.complete(KHADIJA, "gov-law-112-12").await;
    wallet.complete(YOUSSEF, "fin-bookkeeping").await;
    let khadija_module = french_title(&wallet, "gov-law-112-12").await;
    let youssef_module = french_title(&wallet, "fin-bookkeeping").await;

    // Fatima manages coop-argan-tiznit, Khadija's cooperative.
    let fatima = wallet.sign_in(FATIMA_EMAIL).await;
    let list = wallet.get("/certificates?lang=fr", Some(&fatima)).await;
    assert!(
        list.text().contains("href=\"/cooperative\""),
        "managers get a link"
    );
    let page = wallet.get("/cooperative?lang=fr", Some(&fatima)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Khadija Oubella"), "{html}");
    assert!(html.contains(&khadija_module), "{html}");
    assert!(html.contains("Coopérative Tifawin"), "{html}");
    assert!(!html.contains("Youssef"), "a member of another cooperative");
    assert!(
        !html.contains(&youssef_module),
        "a certificate of another cooperative"
    );
    assert!(
        !html.contains("<form method=\"post\" action=\"/certificates"),
        "read-only"
    );
    assert!(!html.contains(".json\""), "no files of other members");

    // Mohamed manages coop-lait-sefrou: Youssef's, not Khadija's.
    let mohamed = wallet.sign_in(MOHAMED_EMAIL).await;
    let html = wallet
        .get("/cooperative?lang=fr", Some(&mohamed))
        .await
        .text();
    assert!(html.contains("Youssef El Alaoui"), "{html}");
    assert!(html.contains(&youssef_module));
    assert!(!html.contains("Khadija"));
    assert!(!html.contains(&khadija_module));
}

#[tokio::test]
async fn manager_cannot_open_member_files() {
    let wallet = TestWallet::start().await;
    let outcome = wallet.complete(KHADIJA, "gov-law-112-12").await;
    let id = outcome["module_credential"]["id"]
        .as_str()
        .expect("module credential id")
        .to_owned();
    let encoded = encode_id(&id);
    let fatima = wallet.sign_in(FATIMA_EMAIL).await;
    for uri in [
        format!("/certificates/{encoded}"),
        format!("/certificates/{encoded}.json"),
        format!("/certificates/{encoded}.pdf"),
        format!("/certificates/{encoded}/qr"),
    ] {
        let response = wallet.get(&uri, Some(&fatima)).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{uri}");
    }
    let switch = wallet
        .post_form(
            &format!("/certificates/{encoded}/sharing"),
            &[("shared", "off")],
            Some(&fatima),
        )
        .await;
    assert_eq!(
        switch.status,
        StatusCode::NOT_FOUND,
        "a manager cannot hide it"
    );
}

#[tokio::test]
async fn members_cannot_see_cooperative() {
    let wallet = TestWallet::start().await;
    let khadija = wallet.sign_in(KHADIJA_EMAIL).await;
    let page = wallet.get("/cooperative", Some(&khadija)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let list = wallet.get("/certificates", Some(&khadija)).await;
    assert!(!list.text().contains("href=\"/cooperative\""));

    let anonymous = wallet.get("/cooperative", None).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.header(header::LOCATION).as_deref(), Some("/"));
}
