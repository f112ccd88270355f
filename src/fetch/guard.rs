//! The network guard: which addresses a fetch may connect to.
//!
//! Feed items and listing pages are third-party content, so a link in them (or a redirect
//! served by anyone) must not make newswatch request an address inside the operator's network:
//! loopback, RFC 1918, link-local (cloud metadata at 169.254.169.254), CGNAT, unique-local,
//! unspecified, multicast and reserved addresses, v4 and v6 alike (v4-mapped, v4-compatible and
//! NAT64 forms are judged by the v4 address inside). Such addresses are reached only at hosts
//! named in configured source URLs, unless `[http] allow_private_networks = true`.
//!
//! The check is made on the address actually connected, not on the URL text: [`GuardedResolver`]
//! is reqwest's DNS resolver and drops every off-limits address of a name that is not trusted,
//! so the connector never sees them and a name that changes its answer between two lookups (DNS
//! rebinding) gains nothing. IP literals never reach a resolver, so [`NetworkPolicy::check_url`]
//! judges them before each request and each redirect hop. A refusal is a [`Refused`] error,
//! which the client turns into [`super::FailureKind::OffLimits`].
//!
//! The main type is [`NetworkPolicy`]; it owns no I/O besides the resolver it wraps.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Which private addresses fetches may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkPolicy {
    /// `[http] allow_private_networks`: every address may be reached.
    pub allow_private_networks: bool,
    /// Hosts whose private addresses may be reached anyway: the hosts of configured source
    /// URLs (and of a proxy the environment names). Lower-case names without a trailing dot,
    /// or IP addresses as [`IpAddr`]'s `Display` writes them (no brackets).
    pub trusted_hosts: BTreeSet<String>,
}

/// A fetch newswatch refused to make. `Display` is lowercase and names the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The URL's scheme is not http or https.
    #[error("only http and https urls are fetched, found scheme {0:?}")]
    Scheme(String),
    /// Every address of the host is off limits.
    #[error(
        "{}; links from feeds and pages may not reach private networks (only hosts named \
         in source urls may, or all with [http] allow_private_networks = true)",
        what_it_is(host, *addr, class)
    )]
    Private {
        /// The host as written in the URL.
        host: String,
        /// The (first) off-limits address it names or resolved to.
        addr: IpAddr,
        /// What kind of address it is ("a loopback", "a link-local" …).
        class: &'static str,
    },
}

/// "127.0.0.3 is a loopback address", or for a name "internal.test resolves to 127.0.0.3,
/// a loopback address".
fn what_it_is(host: &str, addr: IpAddr, class: &str) -> String {
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if literal.parse::<IpAddr>().is_ok() {
        format!("{host} is {class} address")
    } else {
        format!("{host} resolves to {addr}, {class} address")
    }
}

impl NetworkPolicy {
    /// Adds the host of `url` to the trusted hosts.
    pub fn trust_url(&mut self, url: &Url) {
        if let Some(host) = url.host() {
            self.trusted_hosts.insert(host_key(&host));
        }
    }

    /// Whether the host (as `url` writes it, or a resolver's name) is trusted.
    fn trusts(&self, host: &str) -> bool {
        self.allow_private_networks || self.trusted_hosts.contains(&normalize_name(host))
    }

    /// The checks that need no DNS: the scheme, and the address of an IP-literal host.
    ///
    /// # Errors
    /// [`Refused`] when the URL must not be requested.
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::Scheme(url.scheme().to_owned()));
        }
        let addr = match url.host() {
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Ok(()),
        };
        match off_limits(addr) {
            Some(class) if !self.trusts(&addr.to_string()) => Err(Refused::Private {
                host: url.host_str().unwrap_or_default().to_owned(),
                addr,
                class,
            }),
            _ => Ok(()),
        }
    }

    /// The addresses of `host` that may be connected to.
    ///
    /// # Errors
    /// [`Refused::Private`] when none may (and there were some).
    pub fn filter_addrs(
        &self,
        host: &str,
        addrs: Vec<SocketAddr>,
    ) -> Result<Vec<SocketAddr>, Refused> {
        if self.trusts(host) {
            return Ok(addrs);
        }
        let first_refused = addrs
            .iter()
            .find_map(|a| off_limits(a.ip()).map(|class| (a.ip(), class)));
        let allowed: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| off_limits(a.ip()).is_none())
            .collect();
        match first_refused {
            Some((addr, class)) if allowed.is_empty() => Err(Refused::Private {
                host: host.to_owned(),
                addr,
                class,
            }),
            _ => Ok(allowed),
        }
    }
}

fn host_key(host: &Host<&str>) -> String {
    match host {
        Host::Domain(d) => normalize_name(d),
        Host::Ipv4(v4) => v4.to_string(),
        Host::Ipv6(v6) => v6.to_string(),
    }
}

fn normalize_name(name: &str) -> String {
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// What kind of address `ip` is, when fetches from feeds may not reach it.
#[must_use]
pub fn off_limits(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => off_limits_v4(v4),
        IpAddr::V6(v6) => off_limits_v6(v6),
    }
}

fn off_limits_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "an unspecified (\"this network\")",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "a private (RFC 1918)",
        (100, 64..=127, _) => "a shared (CGNAT, RFC 6598)",
        (127, _, _) => "a loopback",
        (169, 254, _) => "a link-local",
        // IETF protocol assignments, e.g. DS-Lite's 192.0.0.1 (RFC 6890).
        (192, 0, 0) => "a special-purpose (RFC 6890)",
        (198, 18 | 19, _) => "a benchmarking (RFC 2544)",
        (224..=239, _, _) => "a multicast",
        (240..=255, _, _) => "a reserved",
        _ => return None,
    })
}

fn off_limits_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("an unspecified");
    }
    if ip.is_loopback() {
        return Some("a loopback");
    }
    if let Some(v4) = embedded_v4(ip) {
        return off_limits_v4(v4);
    }
    let s = ip.segments();
    Some(match s[0] {
        0xfc00..=0xfdff => "a unique-local (RFC 4193)",
        0xfe80..=0xfebf => "a link-local",
        0xfec0..=0xfeff => "a site-local",
        0xff00..=0xffff => "a multicast",
        // NAT64 local-use prefix (RFC 8215): whatever it maps to is the operator's own.
        0x0064 if s[1] == 0xff9b && s[2] == 1 => "a local-use NAT64 (RFC 8215)",
        _ => return None,
    })
}

/// The IPv4 address inside a v4-mapped (`::ffff:a.b.c.d`), v4-compatible (`::a.b.c.d`) or
/// well-known NAT64 (`64:ff9b::a.b.c.d`, RFC 6052) address: connecting to one reaches it.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = || {
        let [hi6, lo6] = s[6].to_be_bytes();
        let [hi7, lo7] = s[7].to_be_bytes();
        Ipv4Addr::new(hi6, lo6, hi7, lo7)
    };
    match s {
        [0, 0, 0, 0, 0, 0xffff | 0, _, _] | [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail()),
        _ => None,
    }
}

/// reqwest's resolver: looks the name up with `inner` and hands the connector only the
/// addresses [`NetworkPolicy::filter_addrs`] allows.
pub struct GuardedResolver {
    inner: Arc<dyn Resolve>,
    policy: Arc<NetworkPolicy>,
}

impl GuardedResolver {
    pub fn new(inner: Arc<dyn Resolve>, policy: Arc<NetworkPolicy>) -> Self {
        Self { inner, policy }
    }
}

impl fmt::Debug for GuardedResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedResolver")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let policy = self.policy.clone();
        let lookup = self.inner.resolve(name);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = lookup.await?.collect();
            let allowed = policy.filter_addrs(&host, addrs)?;
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// The system resolver (getaddrinfo on a blocking thread, as reqwest's default does).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The hosts of the proxies reqwest takes from the environment (`HTTP_PROXY`, `HTTPS_PROXY`,
/// `ALL_PROXY`, either case): the operator named them, and the connector resolves them through
/// the same guarded resolver.
#[must_use]
pub fn env_proxy_hosts() -> Vec<String> {
    ["http_proxy", "https_proxy", "all_proxy"]
        .iter()
        .flat_map(|k| [k.to_string(), k.to_ascii_uppercase()])
        .filter_map(|k| std::env::var(k).ok())
        .filter_map(|v| {
            let v = if v.contains("://") {
                v
            } else {
                format!("http://{v}")
            };
            Url::parse(&v).ok()?.host().map(|h| host_key(&h))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_classes() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("loopback v4", "127.0.0.3", Some("a loopback")),
            ("rfc1918 10/8", "10.1.2.3", Some("a private (RFC 1918)")),
            (
                "rfc1918 172.16/12 low",
                "172.16.0.1",
                Some("a private (RFC 1918)"),
            ),
            (
                "rfc1918 172.16/12 high",
                "172.31.255.255",
                Some("a private (RFC 1918)"),
            ),
            ("just past 172.16/12", "172.32.0.1", None),
            (
                "rfc1918 192.168/16",
                "192.168.1.1",
                Some("a private (RFC 1918)"),
            ),
            ("cloud metadata", "169.254.169.254", Some("a link-local")),
            ("cgnat", "100.64.0.1", Some("a shared (CGNAT, RFC 6598)")),
            (
                "cgnat top",
                "100.127.255.254",
                Some("a shared (CGNAT, RFC 6598)"),
            ),
            ("past cgnat", "100.128.0.1", None),
            (
                "unspecified v4",
                "0.0.0.0",
                Some("an unspecified (\"this network\")"),
            ),
            ("broadcast", "255.255.255.255", Some("a reserved")),
            ("multicast v4", "239.1.1.1", Some("a multicast")),
            ("public v4", "93.184.216.34", None),
            ("public v4 8.8.8.8", "8.8.8.8", None),
            ("loopback v6", "::1", Some("a loopback")),
            ("unspecified v6", "::", Some("an unspecified")),
            ("unique-local", "fd00::2", Some("a unique-local (RFC 4193)")),
            ("link-local v6", "fe80::1", Some("a link-local")),
            ("v4-mapped loopback", "::ffff:127.0.0.1", Some("a loopback")),
            (
                "v4-mapped metadata",
                "::ffff:169.254.169.254",
                Some("a link-local"),
            ),
            ("v4-mapped public", "::ffff:8.8.8.8", None),
            (
                "v4-compatible private",
                "::10.0.0.1",
                Some("a private (RFC 1918)"),
            ),
            ("nat64 of loopback", "64:ff9b::7f00:1", Some("a loopback")),
            ("nat64 of public", "64:ff9b::808:808", None),
            ("public v6", "2001:4860:4860::8888", None),
            ("multicast v6", "ff02::1", Some("a multicast")),
        ];
        for (name, addr, want) in cases {
            let ip: IpAddr = addr.parse().unwrap();
            assert_eq!(off_limits(ip), *want, "{name}: {addr}");
        }
    }

    fn policy(trusted: &[&str], allow: bool) -> NetworkPolicy {
        let mut p = NetworkPolicy {
            allow_private_networks: allow,
            ..NetworkPolicy::default()
        };
        for t in trusted {
            p.trust_url(&Url::parse(t).unwrap());
        }
        p
    }

    #[test]
    fn ip_literals_are_judged_before_any_request() {
        let p = policy(
            &[
                "http://127.0.0.1:8080/feed.xml",
                "http://Intranet.Example./",
            ],
            false,
        );
        let ok = |u: &str| p.check_url(&Url::parse(u).unwrap());
        assert_eq!(
            ok("http://127.0.0.1:9999/other-port"),
            Ok(()),
            "trusted host, any port"
        );
        assert_eq!(
            ok("https://example.org/a"),
            Ok(()),
            "names are the resolver's job"
        );
        assert!(matches!(
            ok("http://127.0.0.3/internal/admin.html"),
            Err(Refused::Private {
                class: "a loopback",
                ..
            })
        ));
        assert!(matches!(
            ok("http://[::1]:8080/"),
            Err(Refused::Private { .. })
        ));
        assert!(matches!(
            ok("http://169.254.169.254/latest/meta-data/"),
            Err(Refused::Private {
                class: "a link-local",
                ..
            })
        ));
        assert!(matches!(
            ok("http://[::ffff:7f00:1]/"),
            Err(Refused::Private { .. })
        ));
        assert_eq!(
            ok("file:///etc/passwd"),
            Err(Refused::Scheme("file".into()))
        );
        assert_eq!(ok("ftp://127.0.0.1/"), Err(Refused::Scheme("ftp".into())));
        let open = policy(&[], true);
        assert_eq!(
            open.check_url(&Url::parse("http://127.0.0.3/").unwrap()),
            Ok(())
        );
        assert!(open.check_url(&Url::parse("gopher://x/").unwrap()).is_err());
    }

    #[test]
    fn resolved_addresses_are_filtered_unless_the_name_is_trusted() {
        let p = policy(&["http://intranet.example/feed"], false);
        let a = |s: &str| -> SocketAddr { format!("{s}:0").parse().unwrap() };
        let private = vec![a("10.0.0.5")];
        assert_eq!(
            p.filter_addrs("INTRANET.example.", private.clone()),
            Ok(private.clone())
        );
        let err = p.filter_addrs("evil.example", private).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("evil.example resolves to 10.0.0.5, a private (RFC 1918) address;"),
            "{err}"
        );
        // A name answering with both keeps only the public address: that is all it can reach.
        let mixed = vec![a("127.0.0.1"), a("93.184.216.34")];
        assert_eq!(
            p.filter_addrs("mixed.example", mixed),
            Ok(vec![a("93.184.216.34")])
        );
        assert_eq!(p.filter_addrs("nothing.example", vec![]), Ok(vec![]));
    }
}
