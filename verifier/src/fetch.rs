//! The one HTTP client for every request the verifier makes on behalf of a
//! caller: status lists named in a credential, and shared credentials read
//! from a trusted issuer.
//!
//! A credential can name any URL, so a request to an address chosen by a
//! stranger must not reach the verifier's own network. The rules:
//!
//! - Only `https` URLs, except on the origins the operator configured (the
//!   trusted issuers' `credentials_url`), which are used as configured.
//! - A host name is resolved first. The request is rejected when any of
//!   its addresses is loopback, private, link-local, shared (CGNAT),
//!   unique-local, multicast, unspecified, reserved for documentation, or a
//!   cloud metadata address, in IPv4-mapped and other embedded forms too.
//! - The connection goes to the checked addresses only, so a second DNS
//!   result cannot redirect it.
//! - Redirects are followed by hand, at most [`FetchLimits::max_redirects`],
//!   and each target is checked again.
//! - Connect and total timeouts, and a cap on the response body.
//! - No proxy from the environment: requests go straight to the checked
//!   address.
//! - Successful responses are kept in a small in-memory cache for their
//!   `Cache-Control: max-age`.

use chrono::{DateTime, Utc};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// Limits of the guarded client.
#[derive(Clone, Debug)]
pub struct FetchLimits {
    pub connect_timeout: Duration,
    /// Time for the whole fetch, redirects and body included.
    pub total_timeout: Duration,
    /// Largest response body read, in bytes.
    pub max_body_bytes: usize,
    pub max_redirects: usize,
    /// Responses kept in the cache at most.
    pub cache_entries: usize,
    /// Longest time a response is cached, whatever its `max-age`.
    pub max_cache_age: Duration,
}

// NOTE: no test reaches the connect timeout, because that needs an address
// that drops packets and the tests connect to 127.0.0.1 only.
impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(3),
            total_timeout: Duration::from_secs(8),
            // The check page accepts a pasted credential up to this size too.
            // A signed status list of the minimum size is about 1 KiB.
            max_body_bytes: 512 * 1024,
            max_redirects: 3,
            cache_entries: 64,
            max_cache_age: Duration::from_secs(3600),
        }
    }
}

/// Reason a fetch failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{0:?} is not a valid URL")]
    InvalidUrl(String),
    #[error("{0} is not fetched: only https URLs are allowed")]
    SchemeNotAllowed(String),
    #[error("{host} is not fetched: its address {address} is {reason}")]
    AddressNotAllowed {
        host: String,
        address: IpAddr,
        reason: &'static str,
    },
    #[error("{host} could not be resolved: {detail}")]
    Resolve { host: String, detail: String },
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("a redirect from {0} has no valid Location")]
    InvalidRedirect(String),
    #[error("the request timed out")]
    TimedOut,
    #[error("the request failed: {0}")]
    Request(String),
    #[error("the response is larger than {0} bytes")]
    BodyTooLarge(usize),
}

/// A response read in full.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// When the response was received; older than now when it came from
    /// the cache.
    pub fetched_at: DateTime<Utc>,
}

struct Cached {
    response: Fetched,
    expires: Instant,
}

/// The guarded client. Cloning shares the connection pools and the cache.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

struct Inner {
    /// For URLs outside the configured origins: the guarded resolver.
    public: reqwest::Client,
    /// For the configured origins.
    configured: reqwest::Client,
    configured_origins: Vec<url::Origin>,
    allow_loopback: bool,
    limits: FetchLimits,
    cache: Mutex<HashMap<String, Cached>>,
}

impl Fetcher {
    /// Builds a client that reaches `configured_origins` as configured and
    /// every other URL under the rules of this module.
    pub fn new(configured_origins: &[String], limits: FetchLimits) -> anyhow::Result<Self> {
        Self::build(configured_origins, limits, false)
    }

    /// Builds a client that also reaches loopback addresses over `http`, for
    /// tests that serve documents from a local server. No setting of the
    /// verifier leads here, and every other rule still applies.
    pub fn allowing_loopback_for_tests(
        configured_origins: &[String],
        limits: FetchLimits,
    ) -> anyhow::Result<Self> {
        Self::build(configured_origins, limits, true)
    }

    fn build(
        configured_origins: &[String],
        limits: FetchLimits,
        allow_loopback: bool,
    ) -> anyhow::Result<Self> {
        let base = || {
            reqwest::Client::builder()
                .connect_timeout(limits.connect_timeout)
                .timeout(limits.total_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
        };
        let public = base()
            .dns_resolver(GuardedResolver { allow_loopback })
            .build()?;
        let configured = base().build()?;
        let mut origins = Vec::new();
        for origin in configured_origins {
            let url = Url::parse(origin)
                .map_err(|e| anyhow::anyhow!("credentials_url {origin:?} is not a URL: {e}"))?;
            origins.push(url.origin());
        }
        Ok(Self {
            inner: Arc::new(Inner {
                public,
                configured,
                configured_origins: origins,
                allow_loopback,
                limits,
                cache: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Fetches `url` with a GET request, following redirects by hand, or
    /// returns the cached response while it is fresh.
    pub async fn get(&self, url: &str, accept: &str) -> Result<Fetched, FetchError> {
        if let Some(cached) = self.cached(url) {
            return Ok(cached);
        }
        let limits = &self.inner.limits;
        let fetched = tokio::time::timeout(limits.total_timeout, self.follow(url, accept))
            .await
            .map_err(|_| FetchError::TimedOut)??;
        self.store(url, &fetched.0, fetched.1);
        Ok(fetched.0)
    }

    async fn follow(
        &self,
        url: &str,
        accept: &str,
    ) -> Result<(Fetched, Option<Duration>), FetchError> {
        let mut current = Url::parse(url).map_err(|_| FetchError::InvalidUrl(url.to_owned()))?;
        for _ in 0..=self.inner.limits.max_redirects {
            let client = self.client_for(&current)?;
            let response = client
                .get(current.clone())
                .header(reqwest::header::ACCEPT, accept)
                .send()
                .await
                .map_err(request_error)?;
            if response.status().is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| current.join(value).ok())
                    .ok_or_else(|| FetchError::InvalidRedirect(current.to_string()))?;
                current = location;
                continue;
            }
            let max_age = cache_lifetime(response.headers());
            return Ok((self.read(response).await?, max_age));
        }
        Err(FetchError::TooManyRedirects(
            self.inner.limits.max_redirects,
        ))
    }

    /// Picks the client for a URL, or rejects it under the rules above.
    fn client_for(&self, url: &Url) -> Result<&reqwest::Client, FetchError> {
        if self.inner.configured_origins.contains(&url.origin()) {
            return Ok(&self.inner.configured);
        }
        let allowed_scheme =
            url.scheme() == "https" || (self.inner.allow_loopback && url.scheme() == "http");
        if !allowed_scheme {
            return Err(FetchError::SchemeNotAllowed(url.to_string()));
        }
        // A literal address never reaches the resolver, so check it here.
        let literal = match url.host() {
            Some(url::Host::Ipv4(address)) => Some(IpAddr::V4(address)),
            Some(url::Host::Ipv6(address)) => Some(IpAddr::V6(address)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(FetchError::InvalidUrl(url.to_string())),
        };
        if let Some(address) = literal {
            check_address(address, self.inner.allow_loopback).map_err(|reason| {
                FetchError::AddressNotAllowed {
                    host: address.to_string(),
                    address,
                    reason,
                }
            })?;
        }
        Ok(&self.inner.public)
    }

    async fn read(&self, mut response: reqwest::Response) -> Result<Fetched, FetchError> {
        let limit = self.inner.limits.max_body_bytes;
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(FetchError::BodyTooLarge(limit));
        }
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(request_error)? {
            if body.len() + chunk.len() > limit {
                return Err(FetchError::BodyTooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            status,
            content_type,
            body,
            fetched_at: Utc::now(),
        })
    }

    fn cached(&self, url: &str) -> Option<Fetched> {
        let cache = self.inner.cache.lock().ok()?;
        let entry = cache.get(url)?;
        (entry.expires > Instant::now()).then(|| entry.response.clone())
    }

    fn store(&self, url: &str, response: &Fetched, max_age: Option<Duration>) {
        let Some(max_age) = max_age else {
            return;
        };
        if response.status != 200 || max_age.is_zero() {
            return;
        }
        let Ok(mut cache) = self.inner.cache.lock() else {
            return;
        };
        let now = Instant::now();
        if cache.len() >= self.inner.limits.cache_entries {
            cache.retain(|_, entry| entry.expires > now);
        }
        if cache.len() >= self.inner.limits.cache_entries {
            let soonest = cache
                .iter()
                .min_by_key(|(_, entry)| entry.expires)
                .map(|(key, _)| key.clone());
            if let Some(key) = soonest {
                cache.remove(&key);
            }
        }
        let lifetime = max_age.min(self.inner.limits.max_cache_age);
        cache.insert(
            url.to_owned(),
            Cached {
                response: response.clone(),
                expires: now + lifetime,
            },
        );
    }
}

/// Reads `Cache-Control` and returns how long a response may be kept, or
/// `None` when it must not be.
fn cache_lifetime(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::CACHE_CONTROL)?
        .to_str()
        .ok()?
        .to_ascii_lowercase();
    let mut max_age = None;
    for directive in value.split(',').map(str::trim) {
        if matches!(directive, "no-store" | "no-cache" | "private") {
            return None;
        }
        if let Some(seconds) = directive.strip_prefix("max-age=") {
            max_age = seconds
                .trim_matches('"')
                .parse()
                .ok()
                .map(Duration::from_secs);
        }
    }
    max_age
}

/// Turns a reqwest error into a [`FetchError`], keeping the reason when the
/// guarded resolver refused an address.
fn request_error(error: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<FetchError>() {
            return refused.clone();
        }
        source = cause.source();
    }
    if error.is_timeout() {
        return FetchError::TimedOut;
    }
    FetchError::Request(error.to_string())
}

/// Resolves names with the system resolver and rejects the whole result
/// when any address is not allowed.
struct GuardedResolver {
    allow_loopback: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(resolve_checked(
            name.as_str().to_owned(),
            self.allow_loopback,
        ))
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn resolve_checked(host: String, allow_loopback: bool) -> Result<Addrs, BoxError> {
    let resolved = tokio::net::lookup_host((host.as_str(), 0))
        .await
        .map_err(|e| FetchError::Resolve {
            host: host.clone(),
            detail: e.to_string(),
        })?;
    let addresses: Vec<SocketAddr> = resolved.collect();
    if addresses.is_empty() {
        let detail = "no address".to_owned();
        return Err(FetchError::Resolve { host, detail }.into());
    }
    for address in &addresses {
        check_address(address.ip(), allow_loopback).map_err(|reason| {
            FetchError::AddressNotAllowed {
                host: host.clone(),
                address: address.ip(),
                reason,
            }
        })?;
    }
    Ok(Box::new(addresses.into_iter()))
}

/// Accepts a public address, and a loopback one when `allow_loopback` is set.
pub fn check_address(address: IpAddr, allow_loopback: bool) -> Result<(), &'static str> {
    match non_public_reason(address) {
        None => Ok(()),
        Some(LOOPBACK) if allow_loopback => Ok(()),
        Some(reason) => Err(reason),
    }
}

const LOOPBACK: &str = "a loopback address";

/// Names the kind of a non-public address, or returns `None` for a
/// public one. Ranges are those of the IANA special-purpose registries.
pub fn non_public_reason(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => ipv4_reason(v4),
        IpAddr::V6(v6) => ipv6_reason(v6),
    }
}

fn ipv4_reason(address: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = address.octets();
    if address == Ipv4Addr::new(169, 254, 169, 254) {
        return Some("a cloud metadata address");
    }
    let reason = match (a, b, c) {
        (0, _, _) => "an unspecified address",
        (127, _, _) => LOOPBACK,
        (10, _, _) | (192, 168, _) => "a private address",
        (172, 16..=31, _) => "a private address",
        (169, 254, _) => "a link-local address",
        (100, 64..=127, _) => "a shared (CGNAT) address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (192, 0, 0) => "an IETF protocol address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved or broadcast address",
        _ => return None,
    };
    Some(reason)
}

fn ipv6_reason(address: Ipv6Addr) -> Option<&'static str> {
    let segments = address.segments();

    if address == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some("a cloud metadata address");
    }
    if address.is_unspecified() {
        return Some("an unspecified address");
    }
    if address.is_loopback() {
        return Some(LOOPBACK);
    }

    // An IPv4-mapped address (::ffff:a.b.c.d) reaches the IPv4 address.
    if let Some(v4) = address.to_ipv4_mapped() {
        return ipv4_reason(v4);
    }
    // The IPv4-compatible form (::a.b.c.d) is deprecated (RFC 4291), so no
    // public service uses it.
    if segments[..6] == [0; 6] {
        return Some("a deprecated IPv4-compatible address");
    }

    let embedded = |high: u16, low: u16| {
        let [h1, h2] = high.to_be_bytes();
        let [l1, l2] = low.to_be_bytes();
        Ipv4Addr::new(h1, h2, l1, l2)
    };
    let reason = match segments {
        // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address
        // that a gateway would connect to.
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => return ipv4_reason(embedded(high, low)),
        [0x2002, high, low, ..] => return ipv4_reason(embedded(high, low)),
        [0x2001, 0, ..] => "a Teredo address",
        [0x2001, 0xdb8, ..] => "a documentation address",
        [0x3fff, second, ..] if second & 0xf000 == 0 => "a documentation address",
        [0x100, 0, 0, 0, ..] => "a discard-only address",
        [first, ..] if first & 0xfe00 == 0xfc00 => "a unique-local address",
        [first, ..] if first & 0xffc0 == 0xfe80 => "a link-local address",
        [first, ..] if first & 0xffc0 == 0xfec0 => "a site-local address",
        [first, ..] if first & 0xff00 == 0xff00 => "a multicast address",
        _ => return None,
    };
    Some(reason)
}
