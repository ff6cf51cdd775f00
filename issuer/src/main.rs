use clap::{Parser, Subcommand};
use issuer::status::{self, State};
use issuer::{catalogue, config::Config, routes, AppState};
use std::path::PathBuf;

/// TaaWounYa Academy issuer. Settings come from the environment; see the
/// README for the variables and their defaults.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the HTTP server.
    Serve,
    /// Load or update the catalogue of modules and learning paths.
    LoadCatalogue { file: PathBuf },
    /// Load or update demo cooperatives and members.
    LoadDemo { file: PathBuf },
    /// Write the trusted issuer file a verifier loads (the academy's name
    /// and pinned DID document) to `output`.
    ExportTrust { output: PathBuf },
    /// Print the newest audit log entries, newest first, as JSON lines.
    Audit {
        /// Only entries about this credential, key or token id.
        #[arg(long)]
        subject: Option<String>,
        /// Number of entries to print.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Revoke a credential for good. Prints what would change unless
    /// `--yes` is given.
    Revoke(StatusArgs),
    /// Suspend a credential until it is reinstated. Prints what would
    /// change unless `--yes` is given.
    Suspend(StatusArgs),
    /// Reinstate a suspended credential. Prints what would change unless
    /// `--yes` is given.
    Reinstate(StatusArgs),
}

#[derive(clap::Args)]
struct StatusArgs {
    /// The credential's id, such as urn:uuid:...
    credential_id: String,
    /// Reason for the change, in plain text, stored in the audit log.
    #[arg(long)]
    reason: String,
    /// Make the change; without it the command only prints what it would do.
    #[arg(long)]
    yes: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let state = AppState::open(Config::from_env()?).await?;
    match cli.command {
        Command::Serve => serve(state).await,
        Command::LoadCatalogue { file } => {
            let catalogue: catalogue::Catalogue = catalogue::read_json(&file)?;
            catalogue::load_catalogue(&state.db, &catalogue).await?;
            println!(
                "loaded {} modules and {} paths",
                catalogue.modules.len(),
                catalogue.paths.len()
            );
            Ok(())
        }
        Command::LoadDemo { file } => {
            let demo: catalogue::Demo = catalogue::read_json(&file)?;
            catalogue::load_demo(&state.db, &demo).await?;
            println!(
                "loaded {} cooperatives and {} members",
                demo.cooperatives.len(),
                demo.members.len()
            );
            Ok(())
        }
        Command::ExportTrust { output } => {
            let trust = issuer::trust_file(&state).await?;
            std::fs::write(&output, serde_json::to_vec_pretty(&trust)?)?;
            println!("wrote {}", output.display());
            Ok(())
        }
        Command::Audit { subject, limit } => {
            for entry in issuer::audit::recent(&state.db, subject.as_deref(), limit).await? {
                println!("{}", serde_json::to_string(&entry)?);
            }
            Ok(())
        }
        Command::Revoke(args) => change_status(&state, args, State::Revoked).await,
        Command::Suspend(args) => change_status(&state, args, State::Suspended).await,
        Command::Reinstate(args) => change_status(&state, args, State::Active).await,
    }
}

/// Prints the planned status change and, with `--yes`, makes it.
async fn change_status(state: &AppState, args: StatusArgs, target: State) -> anyhow::Result<()> {
    let reason = status::validate_reason(&args.reason)?;
    let plan = status::describe_change(&state.db, &args.credential_id, target).await?;
    print!("{plan}");
    if !args.yes {
        println!("Nothing was changed. Run the command again with --yes to make this change.");
        return Ok(());
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    let actor = format!("cli:{user}");
    let change = status::Change {
        credential_id: &args.credential_id,
        target,
        reason: &reason,
        actor: &actor,
    };
    let record = status::change_status(&state.db, &change, chrono::Utc::now()).await?;
    println!(
        "The credential is now {} (changed at {}).",
        record.state.as_str(),
        record.changed_at
    );
    Ok(())
}

async fn serve(state: AppState) -> anyhow::Result<()> {
    if state.config.platform_token.is_none() {
        tracing::warn!("ISSUER_PLATFORM_TOKEN is not set: POST /completions rejects every request");
    }
    if state.config.staff_token.is_none() {
        tracing::warn!("ISSUER_STAFF_TOKEN is not set: staff endpoints reject every request");
    }
    let addr = state.config.addr;
    let app = routes::router(state).layer(tower_http::trace::TraceLayer::new_for_http());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "issuer listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(credentials::shutdown::signal())
        .await?;
    tracing::info!("issuer stopped");
    Ok(())
}
