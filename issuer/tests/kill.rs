//! Killing the issuer in the middle of a bulk import, or its HTTP server
//! while completions arrive, never leaves a half-issued credential, and
//! sending the same completions again completes the work without
//! duplicates.

mod common;

use common::{issuer_command, prepare_database, start_issuer, PLATFORM};
use issuer::{config::Config, AppState};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Writes an export in which every demo member completes every catalogue
/// module on three days, so that the import runs long enough to be killed
/// in the middle. Returns the number of rows.
fn write_export(path: &Path) -> usize {
    let rows = export_rows();
    let mut csv = String::from("member_id,module_id,completed_on,score,evidence_url\n");
    for (member, module, day) in &rows {
        csv.push_str(&format!("{member},{module},{day},80,\n"));
    }
    std::fs::write(path, csv).expect("write export");
    rows.len()
}

/// Lists the rows of [`write_export`]: member, module and day.
fn export_rows() -> Vec<(String, String, String)> {
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
    let mut rows = Vec::new();
    for day in ["2026-11-02", "2026-11-09", "2026-11-16"] {
        for member in 1..=12 {
            for module in &modules {
                rows.push((
                    format!("m-{member:04}"),
                    (*module).to_owned(),
                    day.to_owned(),
                ));
            }
        }
    }
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
    // No status list index is consumed without a credential, and every
    // credential has its two entries, its state and its compact form.
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM status_lists l
             WHERE l.next_index <> (SELECT COUNT(*) FROM status_entries e WHERE e.list_id = l.id)"
        )
        .await,
        0,
        "status list counter that differs from its entries"
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM credentials c
             WHERE (SELECT COUNT(*) FROM status_entries e WHERE e.credential_id = c.id) <> 2
                OR NOT EXISTS (SELECT 1 FROM credential_status s WHERE s.credential_id = c.id)
                OR NOT EXISTS (SELECT 1 FROM credential_compact_forms f WHERE f.credential_id = c.id)"
        )
        .await,
        0,
        "credential without its status entries, state or compact form"
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

/// Waits until the database of `state` contains 40 credentials, calling
/// `check` between reads, and fails after two minutes.
async fn wait_for_credentials(state: &AppState, mut check: impl FnMut()) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM credentials")
            .fetch_one(&state.db)
            .await
            .expect("count");
        if stored >= 40 {
            return;
        }
        check();
        assert!(Instant::now() < deadline, "nothing stored in time");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
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
    wait_for_credentials(&state, || {
        assert!(
            child.try_wait().expect("status").is_none(),
            "the import ended before it was killed"
        );
    })
    .await;
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

/// Sends every row as `POST /completions` to `base`, 16 requests at a
/// time, and returns each row's HTTP status, or `None` when the request
/// got no response.
async fn send_completions(
    client: &reqwest::Client,
    base: &str,
    rows: &[(String, String, String)],
) -> Vec<Option<u16>> {
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    let mut requests = Vec::new();
    for (member, module, day) in rows {
        let client = client.clone();
        let slots = slots.clone();
        let url = format!("{base}/completions");
        let body = serde_json::json!({
            "member_id": member, "module_id": module, "completed_on": day, "score": 80,
        });
        requests.push(tokio::spawn(async move {
            let _slot = slots.acquire_owned().await.expect("slot");
            let response = client
                .post(url)
                .bearer_auth(PLATFORM)
                .json(&body)
                .send()
                .await;
            response.ok().map(|response| response.status().as_u16())
        }));
    }
    let mut statuses = Vec::new();
    for request in requests {
        statuses.push(request.await.expect("request task"));
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_server_loses_no_acknowledged_completion() {
    let control = tempfile::tempdir().expect("temp dir");
    let export = control.path().join("export.csv");
    write_export(&export);
    prepare_database(control.path()).await;
    assert!(import(control.path(), &export).status.success());
    let expected = snapshot(control.path()).await;
    let rows = export_rows();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");

    // SIGKILL stops the server at once; SIGTERM lets it finish the
    // requests it has begun, then it exits by itself.
    for signal in ["KILL", "TERM"] {
        let dir = tempfile::tempdir().expect("temp dir");
        prepare_database(dir.path()).await;
        let (mut server, base) = start_issuer(dir.path(), &client).await;
        let sender = {
            let client = client.clone();
            let rows = rows.clone();
            tokio::spawn(async move { send_completions(&client, &base, &rows).await })
        };
        let state = AppState::open(Config::for_tests(dir.path().to_path_buf()))
            .await
            .expect("issuer state");
        wait_for_credentials(&state, || {}).await;
        let pid = server.0.id().to_string();
        let killed = std::process::Command::new("kill")
            .args([format!("-{signal}").as_str(), pid.as_str()])
            .status()
            .expect("kill");
        assert!(killed.success(), "{signal}");
        let exit_deadline = Instant::now() + Duration::from_secs(30);
        while server.0.try_wait().expect("server status").is_none() {
            assert!(
                Instant::now() < exit_deadline,
                "{signal}: the server did not exit within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let statuses = sender.await.expect("sender");

        // Every acknowledged completion is stored, with its credential.
        let acknowledged: Vec<&(String, String, String)> = rows
            .iter()
            .zip(&statuses)
            .filter(|(_, status)| status.is_some_and(|status| (200..300).contains(&status)))
            .map(|(row, _)| row)
            .collect();
        assert!(
            acknowledged.len() < rows.len(),
            "{signal}: the kill came too late"
        );
        for (member, module, day) in &acknowledged {
            let stored: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM completions c JOIN credentials k ON k.id = c.credential_id
                 WHERE c.member_id = $1 AND c.module_id = $2 AND c.completed_on = $3",
            )
            .bind(member)
            .bind(module)
            .bind(day)
            .fetch_one(&state.db)
            .await
            .expect("completion");
            assert_eq!(
                stored, 1,
                "{signal}: acknowledged {member} {module} {day} is missing"
            );
        }
        if signal == "TERM" {
            // Graceful shutdown finishes the requests it accepted: a request
            // either got a success or 503, or found the server gone.
            assert!(
                statuses
                    .iter()
                    .flatten()
                    .all(|status| (200..300).contains(status) || *status == 503),
                "{signal}: {statuses:?}"
            );
        }
        state.db.close().await;
        let interrupted = snapshot(dir.path()).await;
        assert!(interrupted.completions < expected.completions, "{signal}");

        // Sending everything again completes the work exactly once.
        let (_server, base) = start_issuer(dir.path(), &client).await;
        let statuses = send_completions(&client, &base, &rows).await;
        assert!(
            statuses
                .iter()
                .all(|status| status.is_some_and(|status| (200..300).contains(&status))),
            "{signal}: {statuses:?}"
        );
        assert_eq!(snapshot(dir.path()).await, expected, "{signal}");
    }
}
