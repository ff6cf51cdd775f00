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
//! | `WALLET_TRUSTED_PROXIES` | empty: no proxy is trusted | comma-separated IP addresses and CIDR ranges of the reverse proxies whose `X-Forwarded-For` header gives the client address of the per-address sign-in limit |

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
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
    /// Reverse proxies whose `X-Forwarded-For` header gives the client
    /// address of the per-address sign-in limit.
    pub trusted_proxies: TrustedProxies,
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
        let trusted_proxies = TrustedProxies::parse(
            &var("WALLET_TRUSTED_PROXIES").unwrap_or_default(),
        )
        .map_err(|error| {
            anyhow::anyhow!(
                "WALLET_TRUSTED_PROXIES is invalid: {error}. Give IP addresses or CIDR \
                 ranges separated by commas, such as `10.0.0.0/8, 2001:db8::1`"
            )
        })?;
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
            trusted_proxies,
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
            trusted_proxies: TrustedProxies::default(),
        }
    }

    /// Folder the development sender writes sign-in messages to.
    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }
}

/// The IP addresses and CIDR ranges of the trusted reverse proxies. The
/// default list is empty, so no proxy is trusted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpRange>);

impl TrustedProxies {
    /// Parses a comma-separated list of IP addresses and CIDR ranges, such
    /// as `10.0.0.0/8, 192.0.2.7, 2001:db8::/32`. Blank entries are
    /// skipped, so an empty list is valid.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(IpRange::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Checks whether `address` is in one of the ranges.
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(address))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An IPv4 or IPv6 network in CIDR notation. A single address is a range
/// of one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix_len: u8,
}

impl IpRange {
    /// Parses `ADDRESS` or `ADDRESS/PREFIX_LENGTH`. Bits after the prefix
    /// are cleared, so `10.1.2.3/8` is the range `10.0.0.0/8`. An
    /// IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) becomes the IPv4
    /// range it maps, because addresses are compared in their canonical
    /// form.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid =
            |reason: &str| format!("{text:?} is not an IP address or CIDR range: {reason}");
        let (address, prefix_len) = match text.split_once('/') {
            None => (text, None),
            Some((address, prefix_len)) => (address, Some(prefix_len)),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| invalid("the address is invalid"))?;
        let max_len = max_prefix_len(address);
        let prefix_len = match prefix_len {
            None => max_len,
            Some(digits) => Some(digits)
                .filter(|digits| digits.bytes().all(|byte| byte.is_ascii_digit()))
                .and_then(|digits| digits.parse::<u8>().ok())
                .filter(|&len| len <= max_len)
                .ok_or_else(|| invalid(&format!("the prefix length must be 0 to {max_len}")))?,
        };
        Ok(Self::new(address, prefix_len))
    }

    fn new(address: IpAddr, prefix_len: u8) -> Self {
        let (address, prefix_len) = match address {
            IpAddr::V6(v6) if prefix_len >= 96 => match v6.to_ipv4_mapped() {
                Some(v4) => (IpAddr::V4(v4), prefix_len - 96),
                None => (address, prefix_len),
            },
            _ => (address, prefix_len),
        };
        Self {
            network: mask(address, prefix_len),
            prefix_len,
        }
    }

    /// Checks whether `address`, in its canonical form, is in this range.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        max_prefix_len(address) == max_prefix_len(self.network)
            && mask(address, self.prefix_len) == self.network
    }
}

fn max_prefix_len(address: IpAddr) -> u8 {
    match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// Clears the bits of `address` after the first `prefix_len`.
fn mask(address: IpAddr, prefix_len: u8) -> IpAddr {
    match address {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4)
                .checked_shr(32 - u32::from(prefix_len))
                .and_then(|high| high.checked_shl(32 - u32::from(prefix_len)))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(bits))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6)
                .checked_shr(128 - u32::from(prefix_len))
                .and_then(|high| high.checked_shl(128 - u32::from(prefix_len)))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    #[test]
    fn range_contains_table() {
        let cases = [
            ("10.0.0.0/8", "10.255.1.2", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("10.1.2.3/8", "10.9.9.9", true),
            ("192.0.2.7", "192.0.2.7", true),
            ("192.0.2.7", "192.0.2.8", false),
            ("192.0.2.7/32", "192.0.2.7", true),
            ("0.0.0.0/0", "203.0.113.9", true),
            ("0.0.0.0/0", "2001:db8::1", false),
            ("2001:db8::/32", "2001:db8:ffff::1", true),
            ("2001:db8::/32", "2001:db9::1", false),
            ("::/0", "2001:db8::1", true),
            ("::/0", "192.0.2.1", false),
            ("::1", "::1", true),
            ("10.0.0.0/8", "::ffff:10.0.0.1", true),
            ("::ffff:10.0.0.0/104", "10.0.0.1", true),
            ("::ffff:10.0.0.0/104", "11.0.0.1", false),
        ];
        for (range, address, expected) in cases {
            let parsed = IpRange::parse(range).expect(range);
            assert_eq!(
                parsed.contains(ip(address)),
                expected,
                "{range} contains {address}"
            );
        }
    }

    #[test]
    fn range_parse_rejects_invalid() {
        for text in [
            "",
            "10.0.0",
            "10.0.0.0/33",
            "2001:db8::/129",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0.0/8/8",
            "localhost",
            "fe80::1%eth0",
        ] {
            assert!(IpRange::parse(text).is_err(), "{text:?} is accepted");
        }
    }

    #[test]
    fn trusted_proxies_parse_list() {
        let proxies = TrustedProxies::parse(" 10.0.0.0/8 , 2001:db8::1,").expect("valid list");
        assert!(proxies.contains(ip("10.1.1.1")));
        assert!(proxies.contains(ip("2001:db8::1")));
        assert!(!proxies.contains(ip("2001:db8::2")));
        assert!(TrustedProxies::parse("").expect("empty list").is_empty());
        let error = TrustedProxies::parse("10.0.0.1, proxy.local").expect_err("host name");
        assert!(error.contains("\"proxy.local\""), "{error}");
    }
}
