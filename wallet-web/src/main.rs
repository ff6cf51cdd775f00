//! Serves the members' web wallet. Settings come from the environment, and
//! `wallet_web::config` lists the variables and their defaults.

use axum::serve::ListenerExt;
use credentials::listener::BoundedListener;
use wallet_web::config::Config;
use wallet_web::{router, WalletState};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let config = Config::from_env()?;
    if !config.secure_cookies {
        tracing::warn!(
            "WALLET_SECURE_COOKIES is false, so cookies lack the Secure attribute. Set it to true when serving over HTTPS."
        );
    }
    let addr = config.addr;
    let state = WalletState::open(config).await?;
    let app = router(state).layer(tower_http::trace::TraceLayer::new_for_http());
    // `tap_io` lets the handlers read each connection's address, which
    // feeds the per-address limit on code requests.
    let listener = BoundedListener::new(tokio::net::TcpListener::bind(addr).await?).tap_io(|_| {});
    tracing::info!(%addr, "wallet listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(credentials::shutdown::signal())
    .await?;
    tracing::info!("wallet stopped");
    Ok(())
}
