//! JSON-LD contexts served from pinned local copies.
//!
//! Every context a credential may name is compiled into the binary and
//! checked against its SHA-256 digest, so expansion never touches the
//! network: a credential that names any other context is rejected.

use sha2::{Digest, Sha256};
use ssi::json_ld::iref::{Iri, IriBuf};
use ssi::json_ld::json_ld::{syntax::Parse, LoadError, Loader, LoadingResult, RemoteDocument};
use std::collections::HashMap;
use std::sync::OnceLock;

/// One pinned context: its URL, its bytes and the SHA-256 of those bytes.
pub struct PinnedContext {
    pub url: &'static str,
    pub bytes: &'static [u8],
    pub sha256: &'static str,
}

macro_rules! pinned {
    ($url:literal, $file:literal, $sha:literal) => {
        PinnedContext {
            url: $url,
            bytes: include_bytes!(concat!("../contexts/", $file)),
            sha256: $sha,
        }
    };
}

pub const CREDENTIALS_V2: &str = "https://www.w3.org/ns/credentials/v2";
pub const CREDENTIALS_V1: &str = "https://www.w3.org/2018/credentials/v1";
pub const OPEN_BADGES_V3: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
pub const ED25519_2020: &str = "https://w3id.org/security/suites/ed25519-2020/v1";
pub const DATA_INTEGRITY_V2: &str = "https://w3id.org/security/data-integrity/v2";
pub const MULTIKEY_V1: &str = "https://w3id.org/security/multikey/v1";

/// The contexts this project accepts, with the digests published for them.
pub static PINNED: &[PinnedContext] = &[
    pinned!(
        "https://www.w3.org/ns/credentials/v2",
        "credentials-v2.jsonld",
        "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
    ),
    pinned!(
        "https://www.w3.org/2018/credentials/v1",
        "credentials-v1.jsonld",
        "ab4ddd9a531758807a79a5b450510d61ae8d147eab966cc9a200c07095b0cdcc"
    ),
    pinned!(
        "https://www.w3.org/ns/credentials/examples/v2",
        "credentials-examples-v2.jsonld",
        "57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c"
    ),
    pinned!(
        "https://w3id.org/security/data-integrity/v2",
        "data-integrity-v2.jsonld",
        "67f21e6e33a6c14e5ccfd2fc7865f7474fb71a04af7e94136cb399dfac8ae8f4"
    ),
    pinned!(
        "https://w3id.org/security/multikey/v1",
        "multikey-v1.jsonld",
        "ba2c182de2d92f7e47184bcca8fcf0beaee6d3986c527bf664c195bbc7c58597"
    ),
    pinned!(
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "ob-v3p0-context-3.0.3.json",
        "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761"
    ),
    pinned!(
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
        "ob-v3p0-context-3.0.2.json",
        "00666ad080ba407687ed1846b7f5e7495f5019042b202a727de47c48a1755c53"
    ),
    pinned!(
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
        "ob-v3p0-context-3.0.1.json",
        "d582f3564282fb3b709136d28412e78e70b678b4dbc2f0221f67d84932748355"
    ),
    pinned!(
        "https://w3id.org/security/suites/ed25519-2020/v1",
        "ed25519-2020-v1.jsonld",
        "b9e1ab971fd8bf2c7553e0c4a9438e0b9450afde1ea1ca5b2492368b9f549588"
    ),
    pinned!(
        "https://w3id.org/security/data-integrity/v1",
        "data-integrity-v1.jsonld",
        "b5d829bd09aa7c42abc6efa0c8ed7635313b5487f37ccfce3ecd149ca9418554"
    ),
];

/// Returns the pinned context for `url`, if the project accepts it.
pub fn pinned(url: &str) -> Option<&'static PinnedContext> {
    PINNED.iter().find(|context| context.url == url)
}

/// Computes the lowercase hex SHA-256 of a pinned context's bytes.
pub fn digest(context: &PinnedContext) -> String {
    hex::encode(Sha256::digest(context.bytes))
}

#[derive(Debug, thiserror::Error)]
#[error("context {0} is not one of the pinned contexts")]
pub struct UnknownContext(pub String);

#[derive(Debug, thiserror::Error)]
#[error("pinned context {0} does not match its SHA-256 digest or is not valid JSON")]
pub struct CorruptContext(pub String);

/// A JSON-LD document loader that serves only the pinned contexts.
///
/// Each document is parsed once per process, after its digest is checked.
#[derive(Clone, Copy, Default)]
pub struct PinnedLoader;

fn parsed_contexts() -> &'static HashMap<&'static str, Result<RemoteDocument, String>> {
    static PARSED: OnceLock<HashMap<&'static str, Result<RemoteDocument, String>>> =
        OnceLock::new();
    PARSED.get_or_init(|| {
        PINNED
            .iter()
            .map(|context| (context.url, parse_pinned(context)))
            .collect()
    })
}

fn parse_pinned(context: &PinnedContext) -> Result<RemoteDocument, String> {
    if digest(context) != context.sha256 {
        return Err(context.url.to_owned());
    }
    let text = std::str::from_utf8(context.bytes).map_err(|_| context.url.to_owned())?;
    let (json, _) =
        ssi::json_ld::syntax::Value::parse_str(text).map_err(|_| context.url.to_owned())?;
    let url = IriBuf::new(context.url.to_owned()).map_err(|_| context.url.to_owned())?;
    Ok(RemoteDocument::new(
        Some(url),
        Some(
            "application/ld+json"
                .parse()
                .map_err(|_| context.url.to_owned())?,
        ),
        json,
    ))
}

impl Loader for PinnedLoader {
    async fn load(&self, url: &Iri) -> LoadingResult<IriBuf> {
        match parsed_contexts().get(url.as_str()) {
            Some(Ok(document)) => Ok(document.clone()),
            Some(Err(name)) => Err(LoadError::new(url.to_owned(), CorruptContext(name.clone()))),
            None => Err(LoadError::new(
                url.to_owned(),
                UnknownContext(url.as_str().to_owned()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_digests_match_bytes() {
        for context in PINNED {
            assert_eq!(digest(context), context.sha256, "{}", context.url);
        }
    }

    #[test]
    fn pinned_contexts_parse() {
        for context in PINNED {
            assert!(
                matches!(parsed_contexts().get(context.url), Some(Ok(_))),
                "{} did not parse",
                context.url
            );
        }
    }
}
