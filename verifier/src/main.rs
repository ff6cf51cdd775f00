use credentials::listener::BoundedListener;
use verifier::{config::Config, read_trust_file, router, VerifierState};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = Config::from_env()?;
    let trust = if config.trusted_issuers.exists() {
        read_trust_file(&config.trusted_issuers)?
    } else {
        tracing::warn!(path = %config.trusted_issuers.display(), "no trusted issuers file: every issuer is reported as not recognised");
        Vec::new()
    };
    tracing::info!(issuers = trust.len(), "loaded trusted issuers");
    let state = VerifierState::new(trust)?;
    let app = router(state).layer(tower_http::trace::TraceLayer::new_for_http());
    let listener = BoundedListener::new(tokio::net::TcpListener::bind(config.addr).await?);
    tracing::info!(addr = %config.addr, "verifier listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(credentials::shutdown::signal())
        .await?;
    tracing::info!("verifier stopped");
    Ok(())
}
