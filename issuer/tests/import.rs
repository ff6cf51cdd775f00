mod common;

use common::TestApp;
use issuer::import::{self, RowError};
use issuer::issuance::IssuerContext;

async fn run(app: &TestApp, csv: &str) -> anyhow::Result<import::Summary> {
    let signer = app.state.keys.current_signer().await.expect("signer");
    let context = IssuerContext {
        signer: &signer,
        public_url: &app.state.config.public_url,
        academy_name: app.state.config.academy_name(),
        actor: "cli:test",
        status_list_size: app.state.status_list_size,
    };
    import::import_reader(&app.state.db, &context, csv.as_bytes(), &()).await
}

fn error(line: u64, field: &str) -> (u64, String) {
    (line, field.to_owned())
}

#[tokio::test]
async fn bad_rows_are_reported_and_others_imported() {
    let app = TestApp::start().await;
    let csv = "\u{feff}member_id,module_id,completed_on,score,evidence_url
m-0002,fin-bookkeeping,2026-11-20,90,
m-0002,fin-annual-accounts,2026-13-01,,
m-9999,fin-bookkeeping,2026-11-20,,
m-0002,no-such-module,2026-11-20,,
m-0002,fin-finance-microcredit,2026-11-20,120,
m-0002,fin-finance-microcredit,2026-11-20,,javascript:alert(1)
m-0002,fin-finance-microcredit,2099-01-01,,
m-0002,fin-finance-microcredit
m-000２,fin-finance-microcredit,2026-11-20,,
\"m-0003\",\"gov-law-112-12\",2026-11-21,75,https://lms.example.org/e/1
";
    let summary = run(&app, csv).await.expect("import");
    assert_eq!(summary.rows, 10);
    assert_eq!(summary.issued, 2);
    let errors: Vec<(u64, String)> = summary
        .rejected
        .iter()
        .map(|RowError { line, field, .. }| (*line, field.clone()))
        .collect();
    assert_eq!(
        errors,
        vec![
            error(3, "completed_on"),
            error(4, "member_id"),
            error(5, "module_id"),
            error(6, "score"),
            error(7, "evidence_url"),
            error(8, "completed_on"),
            error(9, "row"),
            error(10, "member_id"),
        ]
    );
    for rejected in &summary.rejected {
        assert!(!rejected.reason.is_empty(), "{rejected:?}");
    }

    // The same file again imports nothing new and reports the same rows.
    let again = run(&app, csv).await.expect("import");
    assert_eq!(again.issued, 0);
    assert_eq!(again.already_imported, 2);
    assert_eq!(again.rejected, summary.rejected);
}

#[tokio::test]
async fn wrong_header_is_rejected_before_any_row() {
    let app = TestApp::start().await;
    for csv in [
        "",
        "member,module,date\nm-0002,fin-bookkeeping,2026-11-20\n",
        "module_id,member_id,completed_on,score,evidence_url\nfin-bookkeeping,m-0002,2026-11-20,,\n",
    ] {
        let error = run(&app, csv).await.expect_err("header accepted");
        assert!(error.to_string().contains("header"), "{error}");
    }
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM credentials")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn statistics_refresh_analyzes_postgres() {
    let app = TestApp::start().await;
    issuer::db::refresh_statistics(&app.state.db)
        .await
        .expect("the statistics refresh succeeds");

    let engine = issuer::db::Engine::of_url(&app.state.config.database_url).expect("engine");
    if engine == issuer::db::Engine::Postgres {
        let analyzed: Vec<(String,)> = sqlx::query_as(
            "SELECT relname::text FROM pg_stat_user_tables
             WHERE last_analyze IS NOT NULL ORDER BY relname",
        )
        .fetch_all(&app.state.db)
        .await
        .expect("statistics query");
        let analyzed: Vec<&str> = analyzed.iter().map(|(name,)| name.as_str()).collect();
        assert!(analyzed.contains(&"credentials"), "{analyzed:?}");
        assert!(analyzed.contains(&"completions"), "{analyzed:?}");
    }
}
