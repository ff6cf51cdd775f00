mod common;

use common::TestApp;
use issuer::catalogue::{self, Catalogue};

async fn snapshot(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT id, title, criteria FROM modules ORDER BY id")
        .fetch_all(&app.state.db)
        .await
        .expect("modules")
}

#[tokio::test]
async fn loading_twice_changes_nothing() {
    let app = TestApp::start().await;
    let before = snapshot(&app).await;
    assert!(before.len() >= 12);
    let catalogue: Catalogue =
        catalogue::read_json(&common::repo_file("catalogue/catalogue.json")).expect("catalogue");
    catalogue::load_catalogue(&app.state.db, &catalogue)
        .await
        .expect("second load");
    assert_eq!(snapshot(&app).await, before);
    let paths: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM path_modules")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    let expected: usize = catalogue.paths.iter().map(|p| p.modules.len()).sum();
    assert_eq!(paths as usize, expected);
}

#[tokio::test]
async fn changed_titles_leave_issued_credentials_alone() {
    let app = TestApp::start().await;
    let (_, issued) = app
        .complete("m-0002", "fin-bookkeeping", "2026-11-20")
        .await;
    let id = issued["module_credential"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let stored_before: String =
        sqlx::query_scalar("SELECT document FROM credentials WHERE id = $1")
            .bind(&id)
            .fetch_one(&app.state.db)
            .await
            .expect("document");

    let mut catalogue: Catalogue =
        catalogue::read_json(&common::repo_file("catalogue/catalogue.json")).expect("catalogue");
    let module = catalogue
        .modules
        .iter_mut()
        .find(|m| m.id == "fin-bookkeeping")
        .expect("module");
    module.title.0.insert(
        "fr".into(),
        "Tenue de la comptabilité (nouvelle édition)".into(),
    );
    catalogue::load_catalogue(&app.state.db, &catalogue)
        .await
        .expect("load changed");

    let title: String =
        sqlx::query_scalar("SELECT title FROM modules WHERE id = 'fin-bookkeeping'")
            .fetch_one(&app.state.db)
            .await
            .expect("title");
    assert!(title.contains("nouvelle édition"));
    let stored_after: String = sqlx::query_scalar("SELECT document FROM credentials WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.state.db)
        .await
        .expect("document");
    assert_eq!(stored_before, stored_after);
    let credential: serde_json::Value = serde_json::from_str(&stored_after).expect("json");
    assert!(
        app.verifier()
            .await
            .verify_credential(&credential, chrono::Utc::now())
            .verified
    );
}

#[tokio::test]
async fn invalid_catalogue_is_rejected_whole() {
    let app = TestApp::start().await;
    let before = snapshot(&app).await;
    let mut catalogue: Catalogue =
        catalogue::read_json(&common::repo_file("catalogue/catalogue.json")).expect("catalogue");
    catalogue.modules[0]
        .title
        .0
        .insert("fr".into(), "Changed".into());
    catalogue.paths[0].modules.push("no-such-module".into());
    assert!(catalogue::load_catalogue(&app.state.db, &catalogue)
        .await
        .is_err());

    let mut missing_language: Catalogue =
        catalogue::read_json(&common::repo_file("catalogue/catalogue.json")).expect("catalogue");
    missing_language.modules[1].criteria.0.remove("zgh");
    let error = catalogue::load_catalogue(&app.state.db, &missing_language)
        .await
        .expect_err("missing zgh");
    assert!(error.to_string().contains("zgh"), "{error}");
    assert_eq!(snapshot(&app).await, before);
}
