//! Database connection and schema migrations.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

/// Opens the SQLite database, creating the file if needed, and applies the
/// migrations under `migrations/sqlite`.
pub async fn connect(url: &str) -> anyhow::Result<SqlitePool> {
    if !url.starts_with("sqlite:") {
        // TODO: PostgreSQL support; only SQLite URLs are accepted so far.
        anyhow::bail!(
            "DATABASE_URL must be a sqlite: URL, got a {} URL",
            url.split(':').next().unwrap_or("different")
        );
    }
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
    Ok(pool)
}
