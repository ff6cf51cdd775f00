//! Wallet settings, read from the environment.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `WALLET_ADDR` | `127.0.0.1:8082` | address the HTTP server listens on |
//! | `DATA_DIR` | `./data` | folder of the SQLite file and of the development outbox |
//! | `DATABASE_URL` | `sqlite://$DATA_DIR/academy.db` | database, the same one the issuer writes |
//! | `VERIFIER_PUBLIC_URL` | `http://127.0.0.1:8081` | base URL of the public verifier, used in QR codes |
//! | `QR_MAX_VERSION` | `12` | highest QR version (level M) a link may need while carrying the compact form; above it the QR code contains the link alone |
//! | `WALLET_SECURE_COOKIES` | `false` | adds `Secure` to cookies; production, served over HTTPS, sets `true` |
//! | `WALLET_SMTP_URL` | unset: codes go to the development outbox | SMTP server that sends sign-in codes by e-mail |
//! | `WALLET_MAIL_FROM` | none, required with `WALLET_SMTP_URL` | sender address of the sign-in e-mails |

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Base URL of the public verifier, without a trailing slash.
    pub verifier_url: String,
    /// Highest QR version a verification link with the compact form may
    /// need (`credentials::compact::verification_link`).
    pub qr_max_version: i16,
    /// Whether cookies carry the `Secure` attribute (HTTPS only).
    pub secure_cookies: bool,
    /// Server of the sign-in e-mails, or `None` for the development outbox.
    pub smtp: Option<SmtpSettings>,
}

/// The SMTP server and sender address of sign-in e-mails.
#[derive(Clone)]
pub struct SmtpSettings {
    /// `smtp://` or `smtps://` URL, which may contain a password.
    pub url: String,
    pub from: String,
}

/// Leaves the URL out, because it may contain the server password.
impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SmtpSettings")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let addr: SocketAddr = var("WALLET_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8082".to_owned())
            .parse()
            .map_err(|e| anyhow::anyhow!("WALLET_ADDR is not a socket address: {e}"))?;
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "data".to_owned()));
        let secure_cookies = match var("WALLET_SECURE_COOKIES").as_deref() {
            None | Some("false" | "0") => false,
            Some("true" | "1") => true,
            Some(other) => {
                anyhow::bail!("WALLET_SECURE_COOKIES must be true or false, got {other:?}")
            }
        };
        let smtp = match (var("WALLET_SMTP_URL"), var("WALLET_MAIL_FROM")) {
            (None, _) => None,
            (Some(url), Some(from)) => Some(SmtpSettings { url, from }),
            (Some(_), None) => {
                anyhow::bail!(
                    "WALLET_MAIL_FROM is missing: set the sender address of sign-in e-mails"
                )
            }
        };
        Ok(Self {
            addr,
            database_url: var("DATABASE_URL")
                .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("academy.db").display())),
            data_dir,
            verifier_url: var("VERIFIER_PUBLIC_URL")
                .unwrap_or_else(|| "http://127.0.0.1:8081".to_owned())
                .trim_end_matches('/')
                .to_owned(),
            qr_max_version: credentials::qr::max_version_from_env()?,
            secure_cookies,
            smtp,
        })
    }

    /// Builds a configuration for tests: the database and the outbox under
    /// `data_dir`, which is also where `issuer::config::Config::for_tests`
    /// puts the issuer's database.
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Self {
            addr: "127.0.0.1:0".parse().expect("literal address"),
            database_url: issuer::config::test_database_url(&data_dir),
            data_dir,
            verifier_url: "http://127.0.0.1:8081".to_owned(),
            qr_max_version: credentials::qr::MAX_COMPACT_VERSION,
            secure_cookies: false,
            smtp: None,
        }
    }

    /// Folder the development sender writes sign-in messages to.
    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }
}
