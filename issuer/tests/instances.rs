//! Two issuer processes on one database, as behind a load balancer.

mod common;

use common::{prepare_database, start_issuer, PLATFORM};
use issuer::{config::Config, AppState};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const PATH_MODULES: [&str; 3] = [
    "fin-bookkeeping",
    "fin-annual-accounts",
    "fin-finance-microcredit",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_issue_each_credential_once() {
    // Several instances are supported on PostgreSQL. SQLite lets one writer
    // in at a time and its deferred transactions give up on a busy database
    // instead of waiting, so this test runs in the PostgreSQL pass only.
    if !std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres")) {
        eprintln!("skipped: TEST_DATABASE_URL does not name a PostgreSQL server");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    prepare_database(dir.path()).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let (_first, first_url) = start_issuer(dir.path(), &client).await;
    let (_second, second_url) = start_issuer(dir.path(), &client).await;

    // Every completion of the finance path for every demo member goes to
    // both processes at the same time.
    let members: Vec<String> = (1..=12).map(|n| format!("m-{n:04}")).collect();
    let mut requests = Vec::new();
    for member in &members {
        for module in PATH_MODULES {
            for base in [&first_url, &second_url] {
                let client = client.clone();
                let url = format!("{base}/completions");
                let body = json!({ "member_id": member, "module_id": module, "completed_on": "2026-11-20" });
                let key = (member.clone(), module.to_owned());
                requests.push(tokio::spawn(async move {
                    let response = client
                        .post(url)
                        .bearer_auth(PLATFORM)
                        .json(&body)
                        .send()
                        .await
                        .expect("send");
                    let status = response.status();
                    let body: Value = response.json().await.expect("json body");
                    (key, status, body)
                }));
            }
        }
    }
    let mut module_credentials: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut path_credentials: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for request in requests {
        let ((member, module), status, body) = request.await.expect("request task");
        assert!(status.is_success(), "{member} {module}: {status} {body}");
        let id = body["module_credential"]["id"]
            .as_str()
            .expect("credential id")
            .to_owned();
        module_credentials
            .entry((member.clone(), module))
            .or_default()
            .insert(id);
        for path in body["path_credentials"]
            .as_array()
            .expect("path credentials")
        {
            let id = path["id"].as_str().expect("path credential id").to_owned();
            path_credentials
                .entry(member.clone())
                .or_default()
                .insert(id);
        }
    }

    // Both responses to one completion name the same credential.
    assert_eq!(module_credentials.len(), members.len() * PATH_MODULES.len());
    for (key, ids) in &module_credentials {
        assert_eq!(ids.len(), 1, "{key:?} got several credentials: {ids:?}");
    }
    for member in &members {
        let ids = path_credentials.get(member).map(BTreeSet::len).unwrap_or(0);
        assert_eq!(ids, 1, "{member} got {ids} path credentials");
    }

    // The database contains exactly those, each with one audit entry.
    let state = AppState::open(Config::for_tests(dir.path().to_path_buf()))
        .await
        .expect("issuer state");
    let counts: Vec<(String, i64)> =
        sqlx::query_as("SELECT kind, COUNT(*) FROM credentials GROUP BY kind ORDER BY kind")
            .fetch_all(&state.db)
            .await
            .expect("counts");
    assert_eq!(
        counts,
        vec![
            (
                "module".to_owned(),
                (members.len() * PATH_MODULES.len()) as i64
            ),
            ("path".to_owned(), members.len() as i64),
        ]
    );
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'issue'")
        .fetch_one(&state.db)
        .await
        .expect("audit count");
    assert_eq!(audited, (members.len() * (PATH_MODULES.len() + 1)) as i64);
}
