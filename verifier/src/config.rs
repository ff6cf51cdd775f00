//! Verifier settings, read from the environment.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `VERIFIER_ADDR` | `127.0.0.1:8081` | address the HTTP server listens on |
//! | `TRUSTED_ISSUERS` | `data/trusted-issuers.json` | trusted issuer file written by `issuer export-trust` |

use std::net::SocketAddr;
use std::path::PathBuf;

pub struct Config {
    pub addr: SocketAddr,
    pub trusted_issuers: PathBuf,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Ok(Self {
            addr: var("VERIFIER_ADDR")
                .unwrap_or_else(|| "127.0.0.1:8081".to_owned())
                .parse()
                .map_err(|e| anyhow::anyhow!("VERIFIER_ADDR is not a socket address: {e}"))?,
            trusted_issuers: PathBuf::from(
                var("TRUSTED_ISSUERS").unwrap_or_else(|| "data/trusted-issuers.json".to_owned()),
            ),
        })
    }
}
