mod common;

use common::TestApp;
use issuer::import::{self, RowError};
use issuer::issuance::IssuerContext;

async fn run(app: &TestApp, csv: &str) -> anyhow::Result<import::Summary> {
    run_in_batches(app, csv, import::DEFAULT_BATCH_ROWS).await
}

async fn run_in_batches(
    app: &TestApp,
    csv: &str,
    batch_rows: usize,
) -> anyhow::Result<import::Summary> {
    run_with_lists(app, csv, batch_rows, app.state.status_list_size).await
}

async fn run_with_lists(
    app: &TestApp,
    csv: &str,
    batch_rows: usize,
    status_list_size: i64,
) -> anyhow::Result<import::Summary> {
    let signer = app.state.keys.current_signer().await.expect("signer");
    let context = IssuerContext {
        signer: &signer,
        public_url: &app.state.config.public_url,
        academy_name: app.state.config.academy_name(),
        actor: "cli:test",
        status_list_size,
    };
    import::import_reader(&app.state.db, &context, csv.as_bytes(), batch_rows, &()).await
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

/// Counts the credentials an import leaves, by kind and achievement, for
/// comparing runs. Also checks that no status list index was consumed
/// without a credential.
async fn stored(app: &TestApp) -> Vec<(String, String, i64)> {
    let leaked: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM status_lists l
         WHERE l.next_index <> (SELECT COUNT(*) FROM status_entries e WHERE e.list_id = l.id)",
    )
    .fetch_one(&app.state.db)
    .await
    .expect("status list counters");
    assert_eq!(leaked, 0, "a status list counter differs from its entries");
    sqlx::query_as(
        "SELECT c.kind, c.achievement_id, COUNT(*) FROM credentials c
         GROUP BY c.kind, c.achievement_id ORDER BY c.kind, c.achievement_id",
    )
    .fetch_all(&app.state.db)
    .await
    .expect("credentials by achievement")
}

#[tokio::test]
async fn batch_size_does_not_change_the_result() {
    // Member m-0002 finishes the finance path on line 4, which must see
    // the module credentials of lines 2 and 3 even in the same batch. Line
    // 5 repeats line 2, line 6 contradicts it, line 7 names an unknown
    // member, and line 8 completes a module again on another day.
    let csv = "member_id,module_id,completed_on,score,evidence_url
m-0002,fin-bookkeeping,2026-11-20,90,
m-0002,fin-annual-accounts,2026-11-21,80,
m-0002,fin-finance-microcredit,2026-11-22,70,
m-0002,fin-bookkeeping,2026-11-20,90,
m-0002,fin-bookkeeping,2026-11-20,91,
m-9999,fin-bookkeeping,2026-11-20,,
m-0002,fin-bookkeeping,2026-11-23,95,
m-0003,gov-law-112-12,2026-11-21,75,
";
    let mut runs = Vec::new();
    for batch_rows in [1, 3, 100] {
        let app = TestApp::start().await;
        let summary = run_in_batches(&app, csv, batch_rows).await.expect("import");
        let rejected: Vec<(u64, String)> = summary
            .rejected
            .iter()
            .map(|RowError { line, field, .. }| (*line, field.clone()))
            .collect();
        let counts = (
            summary.rows,
            summary.issued,
            summary.already_imported,
            summary.path_credentials,
        );
        runs.push((batch_rows, counts, rejected, stored(&app).await));
    }
    let (_, counts, rejected, credentials) = &runs[0];
    assert_eq!(
        *counts,
        (8, 4, 2, 1),
        "rows, issued, already imported, paths"
    );
    assert_eq!(*rejected, vec![error(6, "score"), error(7, "member_id")]);
    assert_eq!(credentials.len(), 5, "{credentials:?}");
    for run in &runs[1..] {
        assert_eq!(run.1, runs[0].1, "batch of {} rows", run.0);
        assert_eq!(run.2, runs[0].2, "batch of {} rows", run.0);
        assert_eq!(run.3, runs[0].3, "batch of {} rows", run.0);
    }
}

#[tokio::test]
async fn batches_fill_small_status_lists_without_gaps() {
    // Lists of 5 entries fill up in the middle of batches of 4 rows, which
    // reserve entries of several lists and give back what they do not use.
    let app = TestApp::start().await;
    let csv = "member_id,module_id,completed_on,score,evidence_url
m-0002,fin-bookkeeping,2026-11-20,90,
m-0002,fin-annual-accounts,2026-11-21,80,
m-0002,fin-finance-microcredit,2026-11-22,70,
m-0002,gov-law-112-12,2026-11-20,,
m-0002,gov-general-assembly-board,2026-11-20,,
m-0003,gov-law-112-12,2026-11-21,75,
m-0003,fin-bookkeeping,2026-11-21,75,
m-0003,food-hygiene,2026-11-21,75,
m-0003,sell-online,2026-11-21,75,
";
    let summary = run_with_lists(&app, csv, 4, 5).await.expect("import");
    assert_eq!(summary.issued, 9);
    assert_eq!(summary.path_credentials, 1);
    let credentials: i64 = stored(&app).await.iter().map(|(_, _, count)| count).sum();
    assert_eq!(credentials, 10);
    for purpose in ["revocation", "suspension"] {
        let counters: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT sequence, next_index FROM status_lists WHERE purpose = $1 ORDER BY sequence",
        )
        .bind(purpose)
        .fetch_all(&app.state.db)
        .await
        .expect("lists");
        assert_eq!(counters, vec![(1, 5), (2, 5)], "{purpose}");
    }

    // The next batch goes on where the last one stopped.
    let more = "member_id,module_id,completed_on,score,evidence_url
m-0004,fin-bookkeeping,2026-11-20,90,
";
    run_with_lists(&app, more, 4, 5).await.expect("import");
    let third: i64 = sqlx::query_scalar(
        "SELECT next_index FROM status_lists WHERE purpose = 'revocation' AND sequence = 3",
    )
    .fetch_one(&app.state.db)
    .await
    .expect("third list");
    assert_eq!(third, 1);
    stored(&app).await;
}

#[tokio::test]
async fn insert_rows_writes_every_row_once() {
    use issuer::db::{insert_rows, Param};
    let app = TestApp::start().await;
    let mut conn = app.state.db.acquire().await.expect("connection");
    let columns = ["at", "actor", "action", "subject", "reason", "details"];
    let row = |n: usize| {
        vec![
            Param::Text("2026-12-05T00:00:00Z".to_owned()),
            Param::Text("cli:test".to_owned()),
            Param::Text("issue".to_owned()),
            Param::Text(format!("urn:test:{n}")),
            if n.is_multiple_of(2) {
                Param::Null
            } else {
                Param::Text(format!("reason {n}"))
            },
            Param::Text(format!("{{\"n\":{n}}}")),
        ]
    };
    let mut total = 0;
    for count in [0, 1, 3, 128, 129, 300] {
        let rows: Vec<Vec<Param>> = (total..total + count).map(row).collect();
        insert_rows(&mut conn, "audit_log", &columns, &rows)
            .await
            .expect("insert");
        total += count;
        let stored: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT subject, reason FROM audit_log WHERE actor = 'cli:test' ORDER BY id",
        )
        .fetch_all(&mut *conn)
        .await
        .expect("rows");
        let expected: Vec<(String, Option<String>)> = (0..total)
            .map(|n| {
                (
                    format!("urn:test:{n}"),
                    (n % 2 == 1).then(|| format!("reason {n}")),
                )
            })
            .collect();
        assert_eq!(stored, expected, "after {count} more rows");
    }

    let short = vec![vec![Param::Text("2026-12-05T00:00:00Z".to_owned())]];
    assert!(insert_rows(&mut conn, "audit_log", &columns, &short)
        .await
        .is_err());
}
