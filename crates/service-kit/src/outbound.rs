//! Which addresses the services may connect to: one list for both sides, enforced when a
//! connection is made.
//!
//! A peer URL is typed in by an admin (OpenProject's storage host, Nextcloud's OpenProject URL
//! and its `is-valid-op-instance` candidates). Unless local servers are allowed
//! (`OPS_ALLOW_LOCAL_REMOTE_SERVERS`, `NCOA_ALLOW_LOCAL_REMOTE_SERVERS`), the services reach only
//! the public internet: [`is_public`] refuses every range of the IANA IPv4 and IPv6
//! special-purpose address registries that is not globally reachable, multicast, and the IPv6
//! space outside global unicast; addresses that embed an IPv4 address (IPv4-mapped,
//! IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4) are judged by that IPv4 address.
//!
//! The check runs after resolution, on the addresses a connection would go to
//! ([`PublicResolver`]), so a name that resolves to a public address for a check and to a local
//! one for the request (DNS rebinding) gains nothing. reqwest does not resolve IP literals, so
//! [`literal_guard`] refuses those before any connection is attempted.

use std::{
    error::Error as StdError,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
};

use ipnet::{Ipv4Net, Ipv6Net};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// IPv4 ranges that are not the public internet: the IANA IPv4 special-purpose address
/// registry's entries that are not globally reachable, plus multicast and the limited
/// broadcast address (inside 240.0.0.0/4).
const NON_PUBLIC_V4: [Ipv4Net; 15] = [
    v4(0, 0, 0, 0, 8),       // "this network" (RFC 791)
    v4(10, 0, 0, 0, 8),      // private use (RFC 1918)
    v4(100, 64, 0, 0, 10),   // shared address space, carrier-grade NAT (RFC 6598)
    v4(127, 0, 0, 0, 8),     // loopback (RFC 1122)
    v4(169, 254, 0, 0, 16),  // link-local (RFC 3927)
    v4(172, 16, 0, 0, 12),   // private use (RFC 1918)
    v4(192, 0, 0, 0, 24),    // IETF protocol assignments, DS-Lite, NAT64 discovery (RFC 6890)
    v4(192, 0, 2, 0, 24),    // documentation, TEST-NET-1 (RFC 5737)
    v4(192, 88, 99, 0, 24),  // 6to4 relay anycast, deprecated (RFC 7526)
    v4(192, 168, 0, 0, 16),  // private use (RFC 1918)
    v4(198, 18, 0, 0, 15),   // benchmarking (RFC 2544)
    v4(198, 51, 100, 0, 24), // documentation, TEST-NET-2 (RFC 5737)
    v4(203, 0, 113, 0, 24),  // documentation, TEST-NET-3 (RFC 5737)
    v4(224, 0, 0, 0, 4),     // multicast (RFC 5771)
    v4(240, 0, 0, 0, 4),     // reserved, and 255.255.255.255 limited broadcast (RFC 1112, 919)
];

/// Inside global unicast (2000::/3), the ranges of the IANA IPv6 special-purpose address
/// registry that are not globally reachable. Everything outside 2000::/3 (loopback,
/// unspecified, ULA fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8,
/// discard-only 100::/64, NAT64 local-use 64:ff9b:1::/48, the rest of the reserved space) is
/// refused as a whole, except the forms that embed an IPv4 address.
const NON_PUBLIC_GLOBAL_V6: [Ipv6Net; 4] = [
    // IETF protocol assignments (RFC 2928): Teredo 2001::/32, benchmarking 2001:2::/48,
    // ORCHID; its few globally reachable anycast entries (PCP, TURN, AMT, AS112) are no
    // OpenProject or Nextcloud server either, so the block is refused whole.
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),
    v6([0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32), // documentation (RFC 3849)
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),      // documentation (RFC 9637)
    v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16),      // segment routing SIDs (RFC 9602)
];

/// Global unicast, the only IPv6 space that can be public (RFC 4291, IANA IPv6 address space).
const GLOBAL_UNICAST_V6: Ipv6Net = v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3);
/// The well-known NAT64 prefix (RFC 6052): the IPv4 address is in the last 32 bits.
const NAT64_WELL_KNOWN: Ipv6Net = v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96);
/// 6to4 (RFC 3056): the IPv4 address is in bits 16 to 47.
const SIX_TO_FOUR: Ipv6Net = v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16);

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(s: [u16; 8], prefix: u8) -> Ipv6Net {
    Ipv6Net::new_assert(
        Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]),
        prefix,
    )
}

/// Whether `ip` is on the public internet, so a service may connect to it while local servers
/// are not allowed.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    !NON_PUBLIC_V4.iter().any(|net| net.contains(&ip))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_ipv4(ip) {
        return is_public_v4(v4);
    }
    GLOBAL_UNICAST_V6.contains(&ip) && !NON_PUBLIC_GLOBAL_V6.iter().any(|net| net.contains(&ip))
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
/// `::a.b.c.d` (deprecated; `::` and `::1` fall in 0.0.0.0/8 this way), NAT64
/// `64:ff9b::a.b.c.d`, and 6to4 `2002:AABB:CCDD::/48`.
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let octets = ip.octets();
    let segments = ip.segments();
    let mapped_or_compatible =
        segments[..5] == [0; 5] && (segments[5] == 0xffff || segments[5] == 0);
    if mapped_or_compatible || NAT64_WELL_KNOWN.contains(&ip) {
        Some(Ipv4Addr::new(
            octets[12], octets[13], octets[14], octets[15],
        ))
    } else if SIX_TO_FOUR.contains(&ip) {
        Some(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]))
    } else {
        None
    }
}

/// A connection was refused because its destination is not on the public internet. It is the
/// source of the transport error a refused request fails with ([`is_refusal`] finds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the destination is not a public internet address and local servers are not allowed")]
pub struct NonPublicAddress;

/// Whether `error` (a `reqwest::Error`, or anything with a source chain) failed because the
/// destination was refused by this module, rather than by the network.
pub fn is_refusal(error: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<NonPublicAddress>() {
            return true;
        }
        current = error.source();
    }
    false
}

/// Why a URL's destination is not acceptable.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    #[error(transparent)]
    NonPublic(#[from] NonPublicAddress),
    #[error("the URL has no host")]
    NoHost,
    #[error("{0}")]
    Unresolved(std::io::Error),
}

/// Resolves the host of `url` and refuses it when any of its addresses is not public: the
/// answer for a check that reports local addresses as such (Nextcloud's
/// `local_remote_servers_not_allowed`). A request still goes through a client of
/// `http_client`, which judges the addresses it connects to again.
pub async fn check_destination(url: &Url) -> Result<(), DestinationError> {
    let addresses: Vec<IpAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![ip.into()],
        Some(Host::Ipv6(ip)) => vec![ip.into()],
        Some(Host::Domain(domain)) => {
            let port = url.port_or_known_default().unwrap_or(0);
            tokio::net::lookup_host((domain, port))
                .await
                .map_err(DestinationError::Unresolved)?
                .map(|address| address.ip())
                .collect()
        }
        None => return Err(DestinationError::NoHost),
    };
    if addresses.is_empty() {
        return Err(DestinationError::Unresolved(std::io::Error::other(
            "the host name resolved to no address",
        )));
    }
    if addresses.iter().all(|ip| is_public(*ip)) {
        Ok(())
    } else {
        Err(NonPublicAddress.into())
    }
}

/// The resolver of clients that may reach only the public internet: the system's resolution
/// with every non-public address dropped; a name left with none fails with
/// [`NonPublicAddress`]. It runs for every new connection, so what is judged is what is used.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicResolver;

/// The host of the proxy [`literal_guard`] sends refused IP literals to. [`PublicResolver`]
/// refuses to resolve it, so the request fails before it connects anywhere (`.invalid` is
/// reserved, RFC 2606: no other resolver knows it either).
const REFUSED_LITERAL_HOST: &str = "refused-non-public-address.invalid";

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            if host.eq_ignore_ascii_case(REFUSED_LITERAL_HOST) {
                return Err(NonPublicAddress.into());
            }
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| is_public(address.ip()))
                .collect();
            if public.is_empty() {
                return Err(NonPublicAddress.into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// reqwest consults its proxy rules with the destination URL before every connection; it is the
/// one hook it offers for IP-literal hosts, which it never hands to a resolver. This rule
/// leaves public literals and names alone (no proxy) and routes a non-public literal to a
/// proxy only [`PublicResolver`] can "resolve": it refuses, so nothing is sent anywhere.
pub fn literal_guard() -> reqwest::Proxy {
    reqwest::Proxy::custom(|url| {
        let ip: IpAddr = match url.host()? {
            Host::Ipv4(ip) => ip.into(),
            Host::Ipv6(ip) => ip.into(),
            Host::Domain(_) => return None,
        };
        (!is_public(ip)).then(|| format!("http://{REFUSED_LITERAL_HOST}/"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_ipv4() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.1.2.3",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.8.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.1",
            "192.0.0.170",
            "192.0.2.10",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} is not public");
        }
    }

    #[test]
    fn public_ipv4() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.1.1",
            "192.31.196.1",
            "192.88.98.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.255",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn non_public_ipv6() {
        for ip in [
            "::",
            "::1",
            // IPv4-compatible and IPv4-mapped forms of local addresses.
            "::127.0.0.1",
            "::10.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0.0.0.0",
            // NAT64 of local addresses, and the local-use NAT64 prefix.
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::808:808",
            // SIIT's IPv4-translated form is outside global unicast.
            "::ffff:0:808:808",
            "100::1",
            "100:0:0:1::1",
            // IETF protocol assignments: Teredo, PCP anycast, benchmarking, ORCHIDv2.
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:1::1",
            "2001:2::1",
            "2001:20::1",
            "2001:1ff:ffff::1",
            "2001:db8::1",
            // 6to4 of local addresses.
            "2002:7f00:1::",
            "2002:a00:1::1",
            "2002:c0a8:101::1",
            "3fff::1",
            "5f00::1",
            "fc00::1",
            "fd00::1",
            "fec0::1",
            "feff::1",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "ff0e::1",
            // Unassigned space outside 2000::/3.
            "4000::1",
            "1::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} is not public");
        }
    }

    #[test]
    fn public_ipv6() {
        for ip in [
            "2606:4700::1111",
            "2a00:1450:4001:80b::200e",
            "2001:200::1",
            "2001:4860:4860::8888",
            "2620:4f:8000::1",
            "3ffe:ffff::1",
            "::ffff:8.8.8.8",
            "::8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[tokio::test]
    async fn destinations_are_judged_after_resolution() {
        for url in [
            "http://127.0.0.1:1/",
            "http://[::127.0.0.1]:8080",
            "http://[64:ff9b::7f00:1]",
            "http://[::ffff:7f00:1]/",
            "http://localhost:1/",
        ] {
            let url = Url::parse(url).unwrap();
            assert!(
                matches!(
                    check_destination(&url).await,
                    Err(DestinationError::NonPublic(_))
                ),
                "{url}"
            );
        }
        let public = Url::parse("https://[2606:4700::1111]/").unwrap();
        assert!(check_destination(&public).await.is_ok());
        let unresolvable = Url::parse("http://no-such-host.invalid/").unwrap();
        assert!(matches!(
            check_destination(&unresolvable).await,
            Err(DestinationError::Unresolved(_))
        ));
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_left_without_public_addresses() {
        let error = PublicResolver
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost is refused");
        assert!(is_refusal(&*error));
        let error = PublicResolver
            .resolve(REFUSED_LITERAL_HOST.parse().unwrap())
            .await
            .err()
            .expect("the guard's proxy is refused");
        assert!(is_refusal(&*error));
    }

    #[test]
    fn refusals_are_found_in_a_source_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] NonPublicAddress);
        assert!(is_refusal(&Outer(NonPublicAddress)));
        assert!(!is_refusal(&std::io::Error::other("refused")));
    }
}
