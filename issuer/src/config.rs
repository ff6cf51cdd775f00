//! Issuer settings, read from the environment.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `ISSUER_ADDR` | `127.0.0.1:8080` | address the HTTP server listens on |
//! | `DATA_DIR` | `./data` | folder for the SQLite file and the key-encryption key |
//! | `DATABASE_URL` | `sqlite://$DATA_DIR/academy.db` | database |
//! | `ISSUER_PUBLIC_URL` | `http://$ISSUER_ADDR` | base URL of this service as others reach it |
//! | `ISSUER_DID` | `did:web:` + host of `ISSUER_PUBLIC_URL` | the academy's DID |
//! | `VERIFIER_PUBLIC_URL` | `http://127.0.0.1:8081` | base URL of the public verifier, used in QR codes |
//! | `QR_MAX_VERSION` | `12` | highest QR version (level M) a link may need while carrying the compact form; above it the QR code contains the link alone |
//! | `ISSUER_PLATFORM_TOKEN` | unset | bootstrap bearer token with the scope `completions:write` |
//! | `ISSUER_STAFF_TOKEN` | unset | bootstrap bearer token with every scope but `completions:write` |
//! | `ISSUER_MASTER_KEY` | `$DATA_DIR/master.key` | 32-byte key (base64) that encrypts signing keys at rest |

use credentials::LocalizedText;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub public_url: String,
    pub did: String,
    pub verifier_url: String,
    /// Highest QR version a verification link with the compact form may
    /// need (`credentials::compact::verification_link`).
    pub qr_max_version: i16,
    /// Bootstrap token of the learning platform; tokens created with
    /// `issuer tokens create` work alongside it.
    pub platform_token: Option<String>,
    /// Bootstrap token of academy staff.
    pub staff_token: Option<String>,
    pub master_key: Option<String>,
    /// Maximum number of issuance requests one caller may send per minute.
    pub issuance_per_minute: u32,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let addr: SocketAddr = var("ISSUER_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
            .parse()
            .map_err(|e| anyhow::anyhow!("ISSUER_ADDR is not a socket address: {e}"))?;
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "data".to_owned()));
        let public_url = var("ISSUER_PUBLIC_URL").unwrap_or_else(|| format!("http://{addr}"));
        let public_url = public_url.trim_end_matches('/').to_owned();
        let did = match var("ISSUER_DID") {
            Some(did) => did,
            None => did_for_url(&public_url)?,
        };
        Ok(Self {
            addr,
            database_url: var("DATABASE_URL")
                .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("academy.db").display())),
            data_dir,
            public_url,
            did,
            verifier_url: var("VERIFIER_PUBLIC_URL")
                .unwrap_or_else(|| "http://127.0.0.1:8081".to_owned())
                .trim_end_matches('/')
                .to_owned(),
            qr_max_version: credentials::qr::max_version_from_env()?,
            platform_token: var("ISSUER_PLATFORM_TOKEN"),
            staff_token: var("ISSUER_STAFF_TOKEN"),
            master_key: var("ISSUER_MASTER_KEY"),
            issuance_per_minute: match var("ISSUER_ISSUANCE_PER_MINUTE") {
                None => crate::limits::DEFAULT_ISSUANCE_PER_MINUTE,
                Some(value) => value.parse().ok().filter(|&n: &u32| n > 0).ok_or_else(|| {
                    anyhow::anyhow!(
                        "ISSUER_ISSUANCE_PER_MINUTE must be a whole number above zero, got {value:?}"
                    )
                })?,
            },
        })
    }

    /// A configuration for tests: everything under `data_dir`, fixed tokens.
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Self {
            addr: "127.0.0.1:0".parse().expect("literal address"),
            database_url: test_database_url(&data_dir),
            data_dir,
            public_url: "http://127.0.0.1:8080".to_owned(),
            did: "did:web:127.0.0.1%3A8080".to_owned(),
            verifier_url: "http://127.0.0.1:8081".to_owned(),
            qr_max_version: credentials::qr::MAX_COMPACT_VERSION,
            platform_token: Some("platform-test-token".to_owned()),
            staff_token: Some("staff-test-token".to_owned()),
            master_key: None,
            issuance_per_minute: crate::limits::DEFAULT_ISSUANCE_PER_MINUTE,
        }
    }

    /// The academy's name in its four languages.
    pub fn academy_name(&self) -> LocalizedText {
        LocalizedText(BTreeMap::from([
            ("ar".to_owned(), "أكاديمية تعاونيا".to_owned()),
            ("fr".to_owned(), "Académie TaaWounYa".to_owned()),
            ("zgh".to_owned(), "ⵜⴰⴽⴰⴷⵉⵎⵉⵜ ⵏ ⵜⴰⵡⵓⵏⵢⴰ".to_owned()),
            ("en".to_owned(), "TaaWounYa Academy".to_owned()),
        ]))
    }
}

/// Returns the database of a test whose data folder is `data_dir`: a SQLite
/// file in that folder, or, when `TEST_DATABASE_URL` names a PostgreSQL
/// server, a database on that server named after the folder. Services of
/// one test that share a data folder therefore share a database.
pub fn test_database_url(data_dir: &std::path::Path) -> String {
    use sha2::{Digest, Sha256};

    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let digest = Sha256::digest(data_dir.to_string_lossy().as_bytes());
            let name: String = digest[..10]
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect();
            match url::Url::parse(&base) {
                Ok(mut url) => {
                    url.set_path(&format!("{TEST_DATABASE_PREFIX}{name}"));
                    url.to_string()
                }
                Err(_) => panic!("TEST_DATABASE_URL is not a valid URL: {base}"),
            }
        }
        _ => format!("sqlite://{}", data_dir.join("academy.db").display()),
    }
}

/// Name prefix of the PostgreSQL databases that tests create, so that a
/// test run can drop them afterwards.
pub const TEST_DATABASE_PREFIX: &str = "taawounya_test_";

/// Derives the did:web identifier served at `url`'s `/.well-known/did.json`.
pub fn did_for_url(url: &str) -> anyhow::Result<String> {
    let parsed = url::Url::parse(url)
        .map_err(|e| anyhow::anyhow!("ISSUER_PUBLIC_URL {url:?} is not a URL: {e}"))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| anyhow::anyhow!("ISSUER_PUBLIC_URL {url:?} has no host"))?;
    let authority = match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    Ok(credentials::did::did_web(&authority))
}
