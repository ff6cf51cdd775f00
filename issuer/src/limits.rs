//! Limits on the issuer's HTTP endpoints: how many requests run at once,
//! how long one may take, and how many issuance requests one caller may
//! send per minute.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use credentials::limits::{Rejection, RequestBounds};
use credentials::problem::ApiProblem;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use credentials::limits::{MAX_CONCURRENT, REQUEST_DEADLINE, SLOT_WAIT};

/// Default number of issuance requests (`POST /completions` and
/// `POST /credentials/issue`) one caller may send per minute.
pub const DEFAULT_ISSUANCE_PER_MINUTE: u32 = 6_000;

/// Shared state of the limits.
pub struct Limits {
    bounds: RequestBounds,
    issuance: RateLimiter,
}

impl Limits {
    /// The issuer's limits: [`MAX_CONCURRENT`], [`SLOT_WAIT`],
    /// [`REQUEST_DEADLINE`], and `issuance_per_minute` per caller.
    pub fn new(issuance_per_minute: u32) -> Self {
        Self::with_bounds(
            MAX_CONCURRENT,
            SLOT_WAIT,
            REQUEST_DEADLINE,
            issuance_per_minute,
        )
    }

    /// Limits with other bounds than the issuer's.
    pub fn with_bounds(
        concurrent: usize,
        slot_wait: Duration,
        deadline: Duration,
        issuance_per_minute: u32,
    ) -> Self {
        Self {
            bounds: RequestBounds::new(concurrent, slot_wait, deadline),
            issuance: RateLimiter::new(issuance_per_minute, Duration::from_secs(60)),
        }
    }

    /// Counts one issuance request of `caller`. Returns a 429 response
    /// when the caller has used up its requests for the current minute.
    pub fn count_issuance(&self, caller: &str) -> Result<(), Box<Response>> {
        self.issuance.count(caller, Instant::now()).map_err(|wait| {
            tracing::warn!(caller, "issuance rate limit reached; request rejected");
            let seconds = wait.as_secs().max(1);
            let mut response = ApiProblem::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "too many issuance requests from this caller; try again in {seconds} seconds"
                ),
            )
            .into_response();
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Box::new(response)
        })
    }
}

/// Fixed-window counter of requests per caller. Callers are
/// authenticated tokens, so the map stays as small as the token list.
pub struct RateLimiter {
    per_window: u32,
    window: Duration,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(per_window: u32, window: Duration) -> Self {
        Self {
            per_window,
            window,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `caller` at `now`. Returns how long to wait
    /// when the caller has used up the current window.
    pub fn count(&self, caller: &str, now: Instant) -> Result<(), Duration> {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (start, count) = counts.entry(caller.to_owned()).or_insert((now, 0));
        if now.duration_since(*start) >= self.window {
            *start = now;
            *count = 0;
        }
        if *count >= self.per_window {
            return Err(self.window.saturating_sub(now.duration_since(*start)));
        }
        *count += 1;
        Ok(())
    }
}

/// Middleware that bounds the requests running at once and the time each
/// may take. A request stopped at the deadline has its database
/// transaction rolled back, and the same completion sent again returns
/// the same credential.
pub async fn bound_requests(
    State(limits): State<Arc<Limits>>,
    request: Request,
    next: Next,
) -> Response {
    match limits.bounds.run(next.run(request)).await {
        Ok(response) => response,
        Err(Rejection::Busy) => {
            tracing::warn!("every request slot stayed busy; request turned away");
            ApiProblem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the issuer is busy; try again in a few seconds",
            )
            .into_response()
        }
        Err(Rejection::Deadline(deadline)) => {
            tracing::warn!(?deadline, "request stopped at its deadline");
            ApiProblem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the request took longer than {} seconds and was stopped; \
                     send it again",
                    deadline.as_secs_f64()
                ),
            )
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    /// Builds a router behind [`bound_requests`] whose `/wait` keeps its slot
    /// until `release` is notified, and whose `/slow` takes a second.
    fn bounded(limits: Arc<Limits>, release: Arc<tokio::sync::Notify>) -> axum::Router {
        axum::Router::new()
            .route(
                "/wait",
                get(move || async move {
                    release.notified().await;
                    "done"
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    "late"
                }),
            )
            .route("/fast", get(|| async { "fast" }))
            .layer(axum::middleware::from_fn_with_state(limits, bound_requests))
    }

    async fn get_status(router: &axum::Router, path: &str) -> (StatusCode, String) {
        let response = router
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn busy_slots_and_deadline_give_503() {
        let limits = Arc::new(Limits::with_bounds(
            2,
            Duration::from_millis(50),
            Duration::from_millis(200),
            100,
        ));
        let release = Arc::new(tokio::sync::Notify::new());
        let router = bounded(limits, release.clone());

        // Two requests hold both slots; a third waits 50 ms and is turned
        // away, and it does not take a slot from the next ones.
        let holders: Vec<_> = (0..2)
            .map(|_| {
                let router = router.clone();
                tokio::spawn(async move { get_status(&router, "/wait").await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (status, body) = get_status(&router, "/fast").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body.contains("busy"), "{body}");
        release.notify_waiters();
        for holder in holders {
            // Both were stopped at the deadline or released; either way
            // each freed its slot.
            let (status, _) = holder.await.expect("holder");
            assert!(
                status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
                "{status}"
            );
        }
        assert_eq!(get_status(&router, "/fast").await.0, StatusCode::OK);

        // A request that outlives the deadline is stopped with 503.
        let (status, body) = get_status(&router, "/slow").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body.contains("longer than 0.2 seconds"), "{body}");
        assert_eq!(get_status(&router, "/fast").await.0, StatusCode::OK);
    }

    #[test]
    fn rate_limiter_counts_per_caller_and_window() {
        let limiter = RateLimiter::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.count("platform", start), Ok(()));
        }
        let wait = limiter
            .count("platform", start + Duration::from_secs(20))
            .expect_err("fourth request in the window");
        assert_eq!(wait, Duration::from_secs(40));
        assert_eq!(limiter.count("token:other", start), Ok(()));
        assert_eq!(
            limiter.count("platform", start + Duration::from_secs(60)),
            Ok(())
        );
    }
}
