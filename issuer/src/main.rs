use clap::{Parser, Subcommand};
use credentials::listener::BoundedListener;
use issuer::status::{self, State};
use issuer::{catalogue, config::Config, reissue, routes, tokens, AppState};
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
    ImportCompletions {
        file: PathBuf,
        /// Rows committed per transaction. A stop loses at most this many
        /// rows, which the next run imports.
        #[arg(long, default_value_t = issuer::import::DEFAULT_BATCH_ROWS,
              value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..), usize::from))]
        batch_rows: usize,
    },
    /// Print the newest audit log entries, newest first, as JSON lines.
    Audit {
        /// Only entries about this credential, key or token id.
        #[arg(long)]
        subject: Option<String>,
        /// Number of entries to print.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Manage the academy's signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage API access tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
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

#[derive(Subcommand)]
enum KeysCommand {
    /// List the signing keys and their state.
    List,
    /// Generate a new signing key, encrypted at rest; `activate` makes it
    /// current.
    Add,
    /// Sign new credentials with key ID from now on. The previous key stays
    /// in the DID document, so what it signed still verifies.
    Activate { id: String },
    /// Withdraw key ID from the DID document and list the credentials it
    /// signed, which no longer verify. ID must not be the current key.
    Compromised {
        id: String,
        /// The reason the key is considered compromised, for the audit log.
        #[arg(long)]
        reason: String,
    },
    /// Re-issue with the current key every credential that the compromised
    /// key ID signed. Prints the plan and changes nothing without --yes.
    Reissue {
        id: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum TokensCommand {
    /// Create a token and print it once; only its hash is stored.
    Create {
        /// A label saying who uses the token, such as "learning platform".
        #[arg(long)]
        name: String,
        /// A scope the token grants; repeat for several: completions:write,
        /// credentials:issue, credentials:status, credentials:read,
        /// keys:manage.
        #[arg(long = "scope", required = true, num_args = 1..)]
        scopes: Vec<issuer::tokens::Scope>,
        /// Days until the token expires (1 to 3650).
        #[arg(long)]
        expires_in_days: i64,
    },
    /// List the tokens (never their secrets).
    List,
    /// Revoke token ID: requests carrying it are rejected from now on.
    Revoke { id: String },
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
        Command::ImportCompletions { file, batch_rows } => {
            import_completions(&state, &file, batch_rows).await
        }
        Command::Audit { subject, limit } => {
            for entry in issuer::audit::recent(&state.db, subject.as_deref(), limit).await? {
                println!("{}", serde_json::to_string(&entry)?);
            }
            Ok(())
        }
        Command::Keys(command) => keys_command(&state, command).await,
        Command::Tokens(command) => tokens_command(&state, command).await,
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
    let actor = cli_actor();
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

/// A progress bar on the terminal; hidden when standard error is not one.
struct ProgressBar(indicatif::ProgressBar);

impl issuer::import::Progress for ProgressBar {
    fn advance(&self, rows_done: u64) {
        self.0.set_position(rows_done);
    }
}

async fn import_completions(
    state: &AppState,
    file: &std::path::Path,
    batch_rows: usize,
) -> anyhow::Result<()> {
    let total = issuer::import::count_rows(file)
        .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", file.display()))?;
    let bar =
        indicatif::ProgressBar::new(total).with_style(indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} rows, {per_sec}, {eta} left",
        )?);
    let actor = cli_actor();
    let signer = state.keys.current_signer().await?;
    let context = issuer::issuance::IssuerContext {
        signer: &signer,
        public_url: &state.config.public_url,
        academy_name: state.config.academy_name(),
        actor: &actor,
        status_list_size: state.status_list_size,
    };
    let started = std::time::Instant::now();
    let summary = issuer::import::import_file(
        &state.db,
        &context,
        file,
        batch_rows,
        &ProgressBar(bar.clone()),
    )
    .await;
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

/// Returns the audit log actor of the person running a command.
fn cli_actor() -> String {
    // Containers often run without USER, so `id -un` is tried next.
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|user| !user.is_empty())
        .or_else(|| {
            let output = std::process::Command::new("id").arg("-un").output().ok()?;
            let name = String::from_utf8(output.stdout).ok()?.trim().to_owned();
            (output.status.success() && !name.is_empty()).then_some(name)
        })
        .unwrap_or_else(|| "unknown".to_owned());
    format!("cli:{user}")
}

async fn keys_command(state: &AppState, command: KeysCommand) -> anyhow::Result<()> {
    let keys = &state.keys;
    let actor = cli_actor();
    match command {
        KeysCommand::List => {
            for key in keys.list().await? {
                println!(
                    "{}\t{}\tcreated {}\t{}",
                    key.fragment,
                    key.state(),
                    key.created_at,
                    keys.method_id(&key.fragment)
                );
            }
        }
        KeysCommand::Add => {
            let id = keys.add_key(&actor).await?;
            println!("added key {id}; make it current with: issuer keys activate {id}");
        }
        KeysCommand::Activate { id } => {
            keys.activate(&id, &actor).await?;
            println!("key {id} now signs new credentials; earlier keys stay published");
            println!(
                "export the trusted issuer file again for verifiers that pin the DID document"
            );
        }
        KeysCommand::Compromised { id, reason } => {
            keys.mark_compromised(&id, &reason, &actor).await?;
            let signed = reissue::signed_by(&state.db, keys, &id).await?;
            println!(
                "key {id} is withdrawn from the DID document; {} credentials it signed no longer verify:",
                signed.len()
            );
            print_signed(&signed);
            println!("re-issue them with: issuer keys reissue {id} --yes");
        }
        KeysCommand::Reissue { id, yes } => {
            let signed = reissue::signed_by(&state.db, keys, &id).await?;
            let pending: Vec<_> = signed
                .into_iter()
                .filter(|c| c.replaced_by.is_none())
                .collect();
            let current = keys.current_signer().await?;
            println!(
                "{} credentials signed by key {id} will be re-issued with key {}:",
                pending.len(),
                current.fragment
            );
            print_signed(&pending);
            if !yes {
                println!("nothing changed; run again with --yes to re-issue them");
                return Ok(());
            }
            let done = reissue::reissue_all(&state.db, keys, &id, &actor).await?;
            for reissued in &done {
                println!(
                    "{}\treplaced by {}\tshare token {}",
                    reissued.old_id, reissued.new_id, reissued.share_token
                );
            }
            println!("re-issued {} credentials", done.len());
        }
    }
    Ok(())
}

fn print_signed(credentials: &[reissue::SignedCredential]) {
    for credential in credentials {
        println!(
            "{}\t{}\t{}\tmember {}\tissued {}{}",
            credential.id,
            credential.kind,
            credential.achievement_id.as_deref().unwrap_or("-"),
            credential.member_id.as_deref().unwrap_or("-"),
            credential.issued_at,
            credential
                .replaced_by
                .as_deref()
                .map(|new| format!("\treplaced by {new}"))
                .unwrap_or_default()
        );
    }
}

async fn tokens_command(state: &AppState, command: TokensCommand) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    match command {
        TokensCommand::Create {
            name,
            scopes,
            expires_in_days,
        } => {
            let created = tokens::create(
                &state.db,
                &name,
                &scopes,
                expires_in_days,
                &cli_actor(),
                now,
            )
            .await?;
            println!("token id {} expires {}", created.id, created.expires_at);
            println!("{}", created.token);
            eprintln!("this token is shown once; store it now");
        }
        TokensCommand::List => {
            for token in tokens::list(&state.db).await? {
                let state = match &token.revoked_at {
                    Some(at) => format!("revoked {at}"),
                    None if credentials::datetime::parse(&token.expires_at)
                        .is_ok_and(|expires_at| expires_at <= now) =>
                    {
                        "expired".to_owned()
                    }
                    None => "active".to_owned(),
                };
                println!(
                    "{}\t{}\t{}\texpires {}\t{}",
                    token.id,
                    token.name,
                    token.scopes.join(" "),
                    token.expires_at,
                    state
                );
            }
        }
        TokensCommand::Revoke { id } => {
            tokens::revoke(&state.db, &id, &cli_actor(), now).await?;
            println!("token {id} is revoked");
        }
    }
    Ok(())
}

async fn serve(state: AppState) -> anyhow::Result<()> {
    if state.config.platform_token.is_none() {
        tracing::info!("ISSUER_PLATFORM_TOKEN is not set: POST /completions needs a created token");
    }
    if state.config.staff_token.is_none() {
        tracing::info!("ISSUER_STAFF_TOKEN is not set: staff endpoints need a created token");
    }
    let addr = state.config.addr;
    let app = routes::router(state).layer(tower_http::trace::TraceLayer::new_for_http());
    let listener = BoundedListener::new(tokio::net::TcpListener::bind(addr).await?);
    tracing::info!(%addr, "issuer listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(credentials::shutdown::signal())
        .await?;
    tracing::info!("issuer stopped");
    Ok(())
}
