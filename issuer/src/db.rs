//! Database connection and schema migrations.
//!
//! The issuer and the wallet run on SQLite (the embedded default) or on
//! PostgreSQL, chosen by the scheme of `DATABASE_URL`. Queries go through
//! sqlx's `Any` driver, so they are written once in SQL that both accept:
//! `$1` placeholders, TEXT timestamps in RFC 3339 UTC, integers as BIGINT.

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::Executor;
use std::time::Duration;

/// The connection pool type of the issuer and the wallet.
pub type Pool = sqlx::AnyPool;
/// The database type behind [`Pool`], for transactions.
pub type Db = sqlx::Any;
/// One connection, or the connection inside a transaction.
pub type Connection = sqlx::AnyConnection;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// The database engines the issuer supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// Returns the engine a `DATABASE_URL` names, or an error naming the
    /// scheme when it is neither SQLite nor PostgreSQL.
    pub fn of_url(url: &str) -> anyhow::Result<Self> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Engine::Sqlite),
            "postgres" | "postgresql" => Ok(Engine::Postgres),
            _ => anyhow::bail!(
                "DATABASE_URL must start with sqlite: or postgres:, got a {scheme:?} URL"
            ),
        }
    }
}

/// Opens the database named by `url`, creating it if needed, and
/// applies the migrations under `migrations/sqlite` or
/// `migrations/postgres`.
pub async fn connect(url: &str) -> anyhow::Result<Pool> {
    sqlx::any::install_default_drivers();
    let engine = Engine::of_url(url)?;
    let options = AnyPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10));
    let pool = match engine {
        Engine::Sqlite => {
            options
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        // Write-ahead logging lets readers (the wallet) work
                        // while the issuer writes; the busy timeout makes a
                        // second writer wait instead of failing at once. A
                        // page cache of up to 32 MiB per connection (2 MiB
                        // by default) keeps the pages that a batch of
                        // issuance changes in memory until the commit.
                        // Temporary data stays in memory too.
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = NORMAL",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA busy_timeout = 10000",
                            "PRAGMA cache_size = -32768",
                            "PRAGMA temp_store = MEMORY",
                        ] {
                            conn.execute(pragma).await?;
                        }
                        Ok(())
                    })
                })
                .connect(&sqlite_create_url(url))
                .await?
        }
        Engine::Postgres => {
            // Like the SQLite file, the database is created on first start
            // when the role may create databases.
            if !sqlx::Postgres::database_exists(url).await? {
                if let Err(error) = sqlx::Postgres::create_database(url).await {
                    // Another process starting at the same time may have
                    // created it first.
                    if !sqlx::Postgres::database_exists(url).await? {
                        return Err(error.into());
                    }
                }
            }
            options.connect(url).await?
        }
    };
    let migrator = match engine {
        Engine::Sqlite => &SQLITE_MIGRATIONS,
        Engine::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator.run(&pool).await?;
    Ok(pool)
}

/// Adds `mode=rwc` to a SQLite URL without a mode, so that the file is
/// created on first start.
fn sqlite_create_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Updates PostgreSQL's planner statistics of the tables that issuance
/// reads, and does nothing on SQLite, whose planner uses the indexes
/// without statistics.
///
/// PostgreSQL keeps the plan of a prepared statement for as long as the
/// connection lives, and plans made while the tables were nearly empty
/// scan a whole table. After a bulk import into new tables, such a plan
/// makes every row cost more than the one before until statistics change,
/// which autovacuum does only when it is on. `ANALYZE` samples a bounded
/// number of rows per table and invalidates those plans.
pub async fn refresh_statistics(pool: &Pool) -> Result<(), sqlx::Error> {
    let url = pool.connect_options().database_url.to_string();
    if !matches!(Engine::of_url(&url), Ok(Engine::Postgres)) {
        return Ok(());
    }
    sqlx::query("ANALYZE credentials, completions, status_entries, status_lists, audit_log")
        .execute(pool)
        .await?;
    Ok(())
}

/// A value bound to a parameter of [`insert_rows`].
#[derive(Debug, Clone)]
pub enum Param {
    Text(String),
    Integer(i64),
    Null,
}

/// Rows per statement of [`insert_rows`]: each statement inserts a power
/// of two rows up to this, so that a connection prepares at most eight
/// statements per table and column list.
const MAX_ROWS_PER_INSERT: usize = 128;

/// Inserts `rows` into `table` with few statements
/// (`INSERT ... VALUES (...), (...), ...`). Each row has one value per
/// column, in the order of `columns`. `table` and `columns` are written
/// into the SQL as they are: only pass names from the schema.
pub async fn insert_rows(
    conn: &mut Connection,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Param>],
) -> Result<(), sqlx::Error> {
    let mut rest = rows;
    while !rest.is_empty() {
        let count = if rest.len() >= MAX_ROWS_PER_INSERT {
            MAX_ROWS_PER_INSERT
        } else {
            1 << rest.len().ilog2()
        };
        let (chunk, tail) = rest.split_at(count);
        rest = tail;
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut number = 0;
        for (row_number, row) in chunk.iter().enumerate() {
            if row.len() != columns.len() {
                return Err(sqlx::Error::Protocol(format!(
                    "a row for {table} has {} values for {} columns",
                    row.len(),
                    columns.len()
                )));
            }
            sql.push_str(if row_number == 0 { "(" } else { ", (" });
            for column in 0..columns.len() {
                number += 1;
                if column > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${number}"));
            }
            sql.push(')');
        }
        let mut query = sqlx::query(&sql);
        for value in chunk.iter().flatten() {
            query = match value {
                Param::Text(text) => query.bind(text.as_str()),
                Param::Integer(integer) => query.bind(*integer),
                Param::Null => query.bind(None::<String>),
            };
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Returns true when `error` is a violation of a unique constraint, which
/// a concurrent writer in another process can cause.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(error) if error.is_unique_violation())
}

/// Returns true when a transaction failed only because another writer got
/// there first, so running it again will see that writer's rows. These
/// errors are a unique violation, a PostgreSQL serialization failure
/// (40001) or deadlock (40P01), and SQLite's busy and locked errors (5, 6
/// and their extended codes).
pub fn is_retryable(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(error) = error else {
        return false;
    };
    if error.is_unique_violation() {
        return true;
    }
    match error.code().as_deref() {
        Some("40001" | "40P01") => true,
        Some(code) => code
            .parse::<i32>()
            .is_ok_and(|code| matches!(code & 0xff, 5 | 6)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_follows_url_scheme() {
        assert_eq!(
            Engine::of_url("sqlite:data/x.db").ok(),
            Some(Engine::Sqlite)
        );
        assert_eq!(
            Engine::of_url("postgres://localhost/test").ok(),
            Some(Engine::Postgres)
        );
        assert_eq!(
            Engine::of_url("postgresql://localhost/test").ok(),
            Some(Engine::Postgres)
        );
        for bad in ["mysql://localhost/test", "data/x.db", ""] {
            assert!(Engine::of_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sqlite_url_gets_create_mode() {
        assert_eq!(sqlite_create_url("sqlite:a.db"), "sqlite:a.db?mode=rwc");
        assert_eq!(
            sqlite_create_url("sqlite:a.db?cache=shared"),
            "sqlite:a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_create_url("sqlite:a.db?mode=ro"),
            "sqlite:a.db?mode=ro"
        );
    }
}
