//! Killing the issuer in the middle of a bulk import never leaves a
//! half-issued credential, and running the import again completes it
//! without duplicates.

mod common;

use common::{issuer_command, prepare_database};
use issuer::{config::Config, AppState};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Writes an export in which every demo member completes every catalogue
/// module on three days, so that the import runs long enough to be killed
/// in the middle. Returns the number of rows.
fn write_export(path: &Path) -> usize {
    let catalogue: serde_json::Value = serde_json::from_slice(
        &std::fs::read(common::repo_file("catalogue/catalogue.json")).expect("catalogue"),
    )
    .expect("catalogue json");
    let modules: Vec<&str> = catalogue["modules"]
        .as_array()
        .expect("modules")
        .iter()
        .map(|module| module["id"].as_str().expect("module id"))
        .collect();
    let mut csv = String::from("member_id,module_id,completed_on,score,evidence_url\n");
    let mut rows = 0;
    for day in ["2026-11-02", "2026-11-09", "2026-11-16"] {
        for member in 1..=12 {
            for module in &modules {
                csv.push_str(&format!("m-{member:04},{module},{day},80,\n"));
                rows += 1;
            }
        }
    }
    std::fs::write(path, csv).expect("write export");
    rows
}

/// Counts of what the database holds, and the rows that break its
/// invariants (which must be none).
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    module_credentials: i64,
    path_credentials: i64,
    completions: i64,
    issue_entries: i64,
}

async fn snapshot(dir: &Path) -> Snapshot {
    let state = AppState::open(Config::for_tests(dir.to_path_buf()))
        .await
        .expect("issuer state");
    let db = &state.db;
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(db)
            .await
            .expect(sql)
    };
    // A module credential always has the completion that earned it.
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM credentials c WHERE c.kind = 'module'
             AND NOT EXISTS (SELECT 1 FROM completions p WHERE p.credential_id = c.id)"
        )
        .await,
        0,
        "module credential without its completion"
    );
    // A path credential only exists when each of its modules has one.
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM credentials c JOIN path_modules pm ON pm.path_id = c.achievement_id
             WHERE c.kind = 'path' AND NOT EXISTS (
                 SELECT 1 FROM credentials m WHERE m.kind = 'module'
                 AND m.member_id = c.member_id AND m.achievement_id = pm.module_id)"
        )
        .await,
        0,
        "path credential without its module credentials"
    );
    // Every credential has exactly one issuance entry in the audit log.
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM credentials c
             WHERE (SELECT COUNT(*) FROM audit_log a WHERE a.subject = c.id AND a.action = 'issue') <> 1"
        )
        .await,
        0,
        "credential without exactly one audit entry"
    );
    let snapshot = Snapshot {
        module_credentials: count("SELECT COUNT(*) FROM credentials WHERE kind = 'module'").await,
        path_credentials: count("SELECT COUNT(*) FROM credentials WHERE kind = 'path'").await,
        completions: count("SELECT COUNT(*) FROM completions").await,
        issue_entries: count("SELECT COUNT(*) FROM audit_log WHERE action = 'issue'").await,
    };
    state.db.close().await;
    snapshot
}

fn import(dir: &Path, export: &Path) -> std::process::Output {
    issuer_command(dir)
        .arg("import-completions")
        .arg(export)
        .output()
        .expect("run import")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_import_resumes_without_duplicates() {
    // A control run without interruption gives the expected result.
    let control = tempfile::tempdir().expect("temp dir");
    let export = control.path().join("export.csv");
    let rows = write_export(&export);
    prepare_database(control.path()).await;
    let output = import(control.path(), &export);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let expected = snapshot(control.path()).await;
    assert_eq!(expected.completions, rows as i64);
    assert!(expected.path_credentials > 0);

    // The same import, killed after it has stored some credentials.
    let dir = tempfile::tempdir().expect("temp dir");
    prepare_database(dir.path()).await;
    let state = AppState::open(Config::for_tests(dir.path().to_path_buf()))
        .await
        .expect("issuer state");
    let mut child = issuer_command(dir.path())
        .arg("import-completions")
        .arg(&export)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start import");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM credentials")
            .fetch_one(&state.db)
            .await
            .expect("count");
        if stored >= 40 {
            break;
        }
        assert!(
            child.try_wait().expect("status").is_none(),
            "the import ended before it was killed"
        );
        assert!(
            Instant::now() < deadline,
            "the import stored nothing in time"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    state.db.close().await;

    let interrupted = snapshot(dir.path()).await;
    assert!(
        interrupted.completions < expected.completions,
        "the kill came too late: {interrupted:?}"
    );

    let output = import(dir.path(), &export);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("already imported"), "{stdout}");
    assert_eq!(snapshot(dir.path()).await, expected);

    // A third run changes nothing.
    let output = import(dir.path(), &export);
    assert!(output.status.success());
    assert_eq!(snapshot(dir.path()).await, expected);
}
