//! What a phone needs to check a certificate with no connection: the
//! offline bundle (trusted issuers, their public keys, the latest status
//! lists, the page texts), the scripts and the service worker that keeps
//! them.
//!
//! Issuer names and keys come from the verifier's trusted issuer file,
//! never from a credential. Status lists are fetched only from
//! `{credentials_url}/status/{list-id}` of a trusted issuer, and kept only
//! when the issuer's own key signed them.

use crate::VerifierState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use credentials::Outcome;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Status lists kept at most; a list named by a credential beyond this is
/// not kept for offline use.
pub const MAX_STATUS_LISTS: usize = 64;

/// Largest status list credential accepted, in bytes. A list of 131,072
/// bits is 16 KiB before compression.
pub const MAX_STATUS_LIST_BYTES: usize = 256 * 1024;

/// Age after which a kept status list is fetched again for the bundle.
pub const STATUS_REFRESH: Duration = Duration::from_secs(300);

pub fn router() -> Router<VerifierState> {
    Router::new()
        .route("/offline/bundle.json", get(bundle))
        .route("/sw.js", get(service_worker))
        .route("/manifest.webmanifest", get(manifest))
        .route("/static/verifier.js", get(script))
        .route("/static/vendor/jsQR.js", get(jsqr))
        .route("/static/vendor/jsQR.LICENSE.txt", get(jsqr_licence))
}

/// A status list as the bundle carries it.
#[derive(Clone, Debug, Serialize)]
pub struct KeptList {
    pub url: String,
    pub issuer: String,
    #[serde(rename = "statusPurpose")]
    pub status_purpose: String,
    /// Multibase base64url of the GZIP of the bitstring, as published.
    #[serde(rename = "encodedList")]
    pub encoded_list: String,
    /// When this verifier fetched and checked the list (RFC 3339, UTC).
    pub fetched_at: String,
    #[serde(rename = "validUntil", skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
}

/// Largest status list index accepted from an issuer, in bytes.
pub const MAX_INDEX_BYTES: usize = 64 * 1024;

/// Status list URLs of trusted issuers, with the last good copy of each.
/// A URL is learnt from the issuer's index (`{credentials_url}/status`, a
/// JSON array of list URLs) or from a trusted credential checked here.
#[derive(Default)]
pub struct StatusLists {
    lists: Mutex<BTreeMap<String, (String, Option<KeptList>)>>,
    /// When each issuer's index was last fetched.
    indexes: Mutex<BTreeMap<String, DateTime<Utc>>>,
}

/// Notes `url` for `issuer` when it names a list under `prefix`
/// (`{credentials_url}/status/`), within [`MAX_STATUS_LISTS`].
fn note_url(
    lists: &mut BTreeMap<String, (String, Option<KeptList>)>,
    issuer: &str,
    prefix: &str,
    url: &str,
) {
    let list_id = url.strip_prefix(prefix).unwrap_or_default();
    let well_formed = !list_id.is_empty()
        && list_id.len() <= 64
        && list_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if well_formed && (lists.contains_key(url) || lists.len() < MAX_STATUS_LISTS) {
        lists
            .entry(url.to_owned())
            .or_insert_with(|| (issuer.to_owned(), None));
    }
}

impl StatusLists {
    /// Notes the status lists a credential of `issuer` names, when they lie
    /// under that trusted issuer's `{credentials_url}/status/`.
    pub fn note(&self, state: &VerifierState, credential: &Value) {
        let Some(issuer) = issuer_id(credential) else {
            return;
        };
        let Some(base) = state
            .trust
            .iter()
            .find(|entry| entry.id == issuer)
            .and_then(|entry| entry.credentials_url.as_deref())
        else {
            return;
        };
        let prefix = format!("{}/status/", base.trim_end_matches('/'));
        let entries = match credential.get("credentialStatus") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one) => vec![one],
            None => Vec::new(),
        };
        let Ok(mut lists) = self.lists.lock() else {
            return;
        };
        for entry in entries {
            if let Some(url) = entry.get("statusListCredential").and_then(Value::as_str) {
                note_url(&mut lists, &issuer, &prefix, url);
            }
        }
    }

    /// Tells whether the index of `issuer` is due to be fetched again at
    /// `now`, and if so, notes `now` as its fetch time.
    fn index_due(&self, issuer: &str, now: DateTime<Utc>) -> bool {
        let refresh = chrono::Duration::from_std(STATUS_REFRESH).unwrap_or_default();
        let Ok(mut indexes) = self.indexes.lock() else {
            return false;
        };
        let due = indexes
            .get(issuer)
            .is_none_or(|fetched| now - *fetched > refresh);
        if due {
            indexes.insert(issuer.to_owned(), now);
        }
        due
    }

    /// Notes the list URLs of an issuer's index.
    fn note_index(&self, issuer: &str, base: &str, urls: &[String]) {
        let prefix = format!("{}/status/", base.trim_end_matches('/'));
        if let Ok(mut lists) = self.lists.lock() {
            for url in urls {
                note_url(&mut lists, issuer, &prefix, url);
            }
        }
    }

    fn stale(&self, now: DateTime<Utc>) -> Vec<(String, String)> {
        let Ok(lists) = self.lists.lock() else {
            return Vec::new();
        };
        let refresh = chrono::Duration::from_std(STATUS_REFRESH).unwrap_or_default();
        lists
            .iter()
            .filter(|(_, (_, kept))| {
                kept.as_ref()
                    .and_then(|kept| credentials::datetime::parse(&kept.fetched_at).ok())
                    .is_none_or(|fetched| now - fetched > refresh)
            })
            .map(|(url, (issuer, _))| (url.clone(), issuer.clone()))
            .collect()
    }

    fn keep(&self, list: KeptList) {
        if let Ok(mut lists) = self.lists.lock() {
            if let Some(slot) = lists.get_mut(&list.url) {
                slot.1 = Some(list);
            }
        }
    }

    /// The last good copy of every list.
    pub fn kept(&self) -> Vec<KeptList> {
        self.lists
            .lock()
            .map(|lists| {
                lists
                    .values()
                    .filter_map(|(_, kept)| kept.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn issuer_id(credential: &Value) -> Option<String> {
    match credential.get("issuer")? {
        Value::String(id) => Some(id.clone()),
        Value::Object(map) => map.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// Fetches the index of an issuer's status lists: a JSON array of URLs.
async fn fetch_index(state: &VerifierState, base: &str) -> Result<Vec<String>, String> {
    let url = format!("{}/status", base.trim_end_matches('/'));
    let response = state
        .fetcher
        .get(&url, "application/json")
        .await
        .map_err(|error| format!("request failed: {error}"))?;
    if !(200..300).contains(&response.status) {
        return Err(format!("status {}", response.status));
    }
    if response.body.len() > MAX_INDEX_BYTES {
        return Err(format!("larger than {MAX_INDEX_BYTES} bytes"));
    }
    let index =
        credentials::json::parse_strict(&response.body).map_err(|error| error.to_string())?;
    let urls = index.as_array().ok_or("not a JSON array")?;
    Ok(urls
        .iter()
        .filter_map(Value::as_str)
        .take(MAX_STATUS_LISTS)
        .map(str::to_owned)
        .collect())
}

/// Fetches a status list and keeps it when it is a
/// `BitstringStatusListCredential` (Bitstring Status List v1.0 §2.2) that
/// `issuer` signed, whose `id` is the URL it came from.
async fn refresh(state: &VerifierState, url: &str, issuer: &str) -> Result<KeptList, String> {
    // The guarded client refuses addresses outside the trusted issuers'
    // configured origins and caps the size and time of the request.
    let response = state
        .fetcher
        .get(url, "application/vc, application/json")
        .await
        .map_err(|error| format!("request failed: {error}"))?;
    if !(200..300).contains(&response.status) {
        return Err(format!("status {}", response.status));
    }
    let bytes = response.body;
    if bytes.len() > MAX_STATUS_LIST_BYTES {
        return Err(format!("larger than {MAX_STATUS_LIST_BYTES} bytes"));
    }
    let list = credentials::json::parse_strict(&bytes).map_err(|error| error.to_string())?;
    let now = Utc::now();
    let checked = list.clone();
    let report = state
        .run(move |verifier| verifier.verify_credential(&checked, now))
        .await
        .map_err(|error| error.to_string())?;
    if report.outcome != Outcome::Genuine {
        return Err(format!("the list did not verify: {:?}", report.outcome));
    }
    let types = list.get("type").cloned().unwrap_or(Value::Null);
    let typed = types
        .as_array()
        .is_some_and(|types| types.iter().any(|t| t == "BitstringStatusListCredential"));
    if !typed || list.get("id").and_then(Value::as_str) != Some(url) {
        return Err("not a BitstringStatusListCredential with this URL as id".into());
    }
    if issuer_id(&list).as_deref() != Some(issuer) {
        return Err("signed by another issuer".into());
    }
    let subject = list
        .get("credentialSubject")
        .cloned()
        .unwrap_or(Value::Null);
    let field = |name: &str| subject.get(name).and_then(Value::as_str).map(str::to_owned);
    let encoded_list = field("encodedList")
        .filter(|list| list.starts_with('u'))
        .ok_or("encodedList is not multibase base64url")?;
    Ok(KeptList {
        url: url.to_owned(),
        issuer: issuer.to_owned(),
        status_purpose: field("statusPurpose").ok_or("statusPurpose is missing")?,
        encoded_list,
        fetched_at: credentials::datetime::format(now),
        valid_until: list
            .get("validUntil")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// One trusted issuer in the bundle.
fn issuer_entry(state: &VerifierState, entry: &crate::TrustEntry) -> Value {
    let methods = entry
        .did_document
        .get("verificationMethod")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let keys: Vec<Value> = methods
        .iter()
        .filter_map(|method| method.get("id").and_then(Value::as_str))
        .filter_map(|id| {
            let absolute = if id.starts_with('#') {
                format!("{}{id}", entry.id)
            } else {
                id.to_owned()
            };
            let resolved = state.verifier.resolver.resolve(&absolute).ok()?;
            let usable = resolved.assertion_method && resolved.controller == entry.id;
            let jwk = credentials::compact::public_jwk(&resolved.key);
            let qr_kid: String = credentials::cose::key_id(&resolved.key)
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect();
            usable.then(
                || json!({"kid": absolute, "qr_kid": qr_kid, "jwk": Value::Object(jwk.into())}),
            )
        })
        .collect();
    json!({
        "id": entry.id,
        "name": entry.name,
        "credentials_url": entry.credentials_url,
        "keys": keys,
    })
}

/// `GET /offline/bundle.json`: everything the page needs offline.
async fn bundle(State(state): State<VerifierState>) -> Response {
    let now = Utc::now();
    for entry in state.trust.iter() {
        let Some(base) = entry.credentials_url.as_deref() else {
            continue;
        };
        if state.status_lists.index_due(&entry.id, now) {
            match fetch_index(&state, base).await {
                Ok(urls) => state.status_lists.note_index(&entry.id, base, &urls),
                Err(error) => {
                    tracing::warn!(issuer = %entry.id, %error, "status list index not read")
                }
            }
        }
    }
    for (url, issuer) in state.status_lists.stale(now) {
        match refresh(&state, &url, &issuer).await {
            Ok(list) => state.status_lists.keep(list),
            Err(error) => tracing::warn!(%url, %error, "status list not refreshed"),
        }
    }
    let issuers: Vec<Value> = state
        .trust
        .iter()
        .map(|entry| issuer_entry(&state, entry))
        .collect();
    let mut texts = Map::new();
    for (language, source) in crate::TRANSLATION_SOURCES {
        let parsed: Value = serde_json::from_str(source).unwrap_or(Value::Null);
        texts.insert((*language).to_owned(), parsed);
    }
    let body = json!({
        "generated_at": credentials::datetime::format(now),
        "issuers": issuers,
        "status_lists": state.status_lists.kept(),
        "texts": texts,
    });
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn asset(content_type: &'static str, cache: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response()
}

/// The service worker is revalidated on every visit so that a new version
/// replaces the old one; it lives at the root so that it controls `/v/`.
async fn service_worker() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        "no-cache",
        include_bytes!("../static/sw.js"),
    )
}

async fn manifest() -> Response {
    asset(
        "application/manifest+json",
        "public, max-age=3600",
        include_bytes!("../static/manifest.webmanifest"),
    )
}

async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        "no-cache",
        include_bytes!("../static/verifier.js"),
    )
}

/// jsQR 1.4.0 (Apache-2.0), loaded only on phones without `BarcodeDetector`.
async fn jsqr() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        "public, max-age=604800",
        include_bytes!("../static/vendor/jsQR.js"),
    )
}

async fn jsqr_licence() -> Response {
    asset(
        "text/plain; charset=utf-8",
        "public, max-age=604800",
        include_bytes!("../static/vendor/jsQR.LICENSE.txt"),
    )
}
