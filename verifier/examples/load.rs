//! HTTP load on a running verifier, from a second process on loopback.
//!
//! ```sh
//! target/release/examples/load http://127.0.0.1:28180 CREDENTIAL.json [SECONDS] [CLIENTS]
//! ```
//!
//! For each number of concurrent clients (default `1,8,64`) it sends
//! `POST /credentials/verify` with the credential for `SECONDS` (default
//! 10) after a one-second warm-up, then does the same with `GET /health`,
//! which costs the server nothing but HTTP: the reference for what the
//! HTTP stack alone allows on this machine in the same run. It prints
//! requests per second and latency percentiles, and counts responses
//! whose status was not 200.
//! `scripts/bench-http.sh` starts a verifier and runs this.

use std::time::{Duration, Instant};

struct Run {
    requests: usize,
    failures: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn percentile(&self, fraction: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let last = self.latencies.len() - 1;
        // The rounded rank in the sorted list. The cast is exact for any
        // list this program can gather.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let rank = (fraction * last as f64).round() as usize;
        self.latencies[rank.min(last)]
    }
}

#[derive(Clone, Copy)]
enum Target {
    Verify,
    Health,
}

async fn one_client(
    client: reqwest::Client,
    base: String,
    body: String,
    target: Target,
    warm_until: Instant,
    until: Instant,
) -> (Vec<Duration>, usize) {
    let mut latencies = Vec::new();
    let mut failures = 0;
    loop {
        let started = Instant::now();
        if started >= until {
            break;
        }
        let request = match target {
            Target::Verify => client
                .post(format!("{base}/credentials/verify"))
                .header("content-type", "application/json")
                .body(body.clone()),
            Target::Health => client.get(format!("{base}/health")),
        };
        let ok = match request.send().await {
            Ok(response) => {
                let status = response.status();
                response.bytes().await.is_ok() && status.is_success()
            }
            Err(_) => false,
        };
        if started >= warm_until {
            latencies.push(started.elapsed());
            if !ok {
                failures += 1;
            }
        }
    }
    (latencies, failures)
}

async fn run(base: &str, body: &str, target: Target, clients: usize, seconds: u64) -> Run {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .expect("HTTP client");
    let warm_until = Instant::now() + Duration::from_secs(1);
    let until = warm_until + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        tasks.spawn(one_client(
            client.clone(),
            base.to_owned(),
            body.to_owned(),
            target,
            warm_until,
            until,
        ));
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    while let Some(joined) = tasks.join_next().await {
        let (mine, failed) = joined.expect("client task");
        latencies.extend(mine);
        failures += failed;
    }
    latencies.sort();
    Run {
        requests: latencies.len(),
        failures,
        elapsed: until - warm_until,
        latencies,
    }
}

fn print(label: &str, clients: usize, run: &Run) {
    let per_second = run.requests as f64 / run.elapsed.as_secs_f64();
    let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
    println!(
        "| {label} | {clients} | {per_second:.0} | {:.2} | {:.2} | {:.2} | {} |",
        ms(run.percentile(0.5)),
        ms(run.percentile(0.99)),
        ms(run.percentile(1.0)),
        run.failures,
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(base), Some(file)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: load BASE_URL CREDENTIAL.json [SECONDS] [CLIENTS, e.g. 1,8,64]");
        std::process::exit(2);
    };

    let seconds: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    let clients: Vec<usize> = args
        .get(4)
        .map(String::as_str)
        .unwrap_or("1,8,64")
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();

    let credential = std::fs::read(file).unwrap_or_else(|error| {
        eprintln!("failed to read {file}: {error}");
        std::process::exit(2);
    });
    // The VC API request body: the credential and no options.
    let credential: serde_json::Value =
        serde_json::from_slice(&credential).unwrap_or_else(|error| {
            eprintln!("{file} is not valid JSON: {error}");
            std::process::exit(2);
        });
    let body = serde_json::json!({ "verifiableCredential": credential }).to_string();

    println!(
        "{} bytes per request, {seconds} s per row after 1 s of warm-up",
        body.len()
    );
    println!();
    println!("| request | clients | requests/s | p50 ms | p99 ms | max ms | not 200 |");
    println!("|---|---|---|---|---|---|---|");
    for &count in &clients {
        let verify = run(base, &body, Target::Verify, count, seconds).await;
        print("POST /credentials/verify", count, &verify);
        let health = run(base, &body, Target::Health, count, seconds).await;
        print("GET /health (reference)", count, &health);
    }
}
