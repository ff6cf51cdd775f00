//! Graceful shutdown for the HTTP services.

/// Resolves on Ctrl-C or SIGTERM. Passed to `axum::serve(..)
/// .with_graceful_shutdown`, it lets in-flight requests finish.
pub async fn signal() {
    let ctrl_c = async {
        // Without a Ctrl-C handler, wait for SIGTERM alone.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
