use clap::{Parser, Subcommand};
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
    /// Import the learning platform's CSV export of completions
    /// (`member_id,module_id,completed_on,score,evidence_url`). Rows
    /// imported before are skipped; bad rows are reported and skipped. The
    /// exit status is 2 when any row was rejected.
    ImportCompletions { file: PathBuf },
    /// Print the newest audit log entries, newest first, as JSON lines.
    Audit {
        /// Only entries about this credential, key or token id.
        #[arg(long)]
        subject: Option<String>,
        /// Number of entries to print.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
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
        Command::ImportCompletions { file } => import_completions(&state, &file).await,
        Command::Audit { subject, limit } => {
            for entry in issuer::audit::recent(&state.db, subject.as_deref(), limit).await? {
                println!("{}", serde_json::to_string(&entry)?);
            }
            Ok(())
        }
    }
}

/// A progress bar on the terminal; hidden when standard error is not one.
struct ProgressBar(indicatif::ProgressBar);

impl issuer::import::Progress for ProgressBar {
    fn advance(&self, rows_done: u64) {
        self.0.set_position(rows_done);
    }
}

async fn import_completions(state: &AppState, file: &std::path::Path) -> anyhow::Result<()> {
    let total = issuer::import::count_rows(file)
        .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", file.display()))?;
    let bar = indicatif::ProgressBar::new(total).with_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} rows, {per_sec}, {eta} left",
        )?,
    );
    let actor = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned()));
    let context = issuer::issuance::IssuerContext {
        signer: &state.signer,
        public_url: &state.config.public_url,
        academy_name: state.config.academy_name(),
        actor: &actor,
    };
    let started = std::time::Instant::now();
    let summary =
        issuer::import::import_file(&state.db, &context, file, &ProgressBar(bar.clone())).await;
    bar.finish_and_clear();
    let summary = summary?;
    for error in &summary.rejected {
        println!("{error}");
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} rows in {seconds:.1} s ({:.0} rows/s): {} issued credentials ({} path credentials), \
         {} already imported, {} rejected",
        summary.rows,
        summary.rows as f64 / seconds.max(f64::EPSILON),
        summary.issued,
        summary.path_credentials,
        summary.already_imported,
        summary.rejected.len()
    );
    if !summary.rejected.is_empty() {
        std::process::exit(2);
    }
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
