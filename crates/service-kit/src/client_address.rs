//! The address a request comes from, as the throttle counts it: the TCP peer, or, when the peer
//! is one of the configured trusted proxies (`<PREFIX>_TRUSTED_PROXIES`), the client that proxy
//! names in `X-Forwarded-For`. From any other peer `X-Forwarded-For` is ignored, so a client
//! cannot choose the address it is counted under.

use std::{fmt, net::IpAddr, str::FromStr};

use actix_web::{web, HttpRequest};
use ipnet::IpNet;

/// The client's address as the throttle counts it: the TCP peer, or the client a trusted proxy
/// names in `X-Forwarded-For`. The proxies are the application's `web::Data<TrustedProxies>`.
pub fn client_address(req: &HttpRequest) -> String {
    match req.app_data::<web::Data<TrustedProxies>>() {
        Some(proxies) => proxies.client_address(req),
        None => TrustedProxies::default().client_address(req),
    }
}

/// The networks whose `X-Forwarded-For` is believed. Empty by default: no header is believed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl fmt::Debug for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(ToString::to_string))
            .finish()
    }
}

impl TrustedProxies {
    /// A list of networks in CIDR notation (`10.0.0.0/8`, `fd00::/8`) or single addresses,
    /// separated by commas or white space.
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|item| !item.is_empty())
            .map(|item| {
                IpNet::from_str(item)
                    .or_else(|_| IpAddr::from_str(item).map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| {
                        format!("expected addresses or networks like 10.0.0.0/8, got '{item}'")
                    })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client behind `peer`: `peer` itself unless it is trusted; then, reading
    /// `X-Forwarded-For` from the right (the entry the nearest proxy added), the first address
    /// that is not a trusted proxy. An entry that is not an address ends the walk at the last
    /// trusted hop, and when every entry is trusted the leftmost one is the client.
    pub fn client_of<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        let hops: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|value| value.split(','))
            .collect();
        for hop in hops.into_iter().rev() {
            let Some(address) = parse_hop(hop.trim()) else {
                break;
            };
            client = address;
            if !self.contains(address) {
                break;
            }
        }
        client
    }

    /// The client address of `req`, as text (`unknown` when the peer is not known, which
    /// only happens for requests not read from a socket).
    pub fn client_address(&self, req: &HttpRequest) -> String {
        let Some(peer) = req.peer_addr() else {
            return "unknown".into();
        };
        let headers = req.headers().get_all("x-forwarded-for");
        self.client_of(peer.ip(), headers.filter_map(|v| v.to_str().ok()))
            .to_string()
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    IpAddr::from_str(hop)
        .ok()
        .or_else(|| std::net::SocketAddr::from_str(hop).ok().map(|s| s.ip()))
        .map(|address| address.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn parses_networks_and_single_addresses() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7 fd00::/8,").unwrap();
        assert!(trusted.contains(ip("10.1.2.3")));
        assert!(trusted.contains(ip("192.168.1.7")));
        assert!(!trusted.contains(ip("192.168.1.8")));
        assert!(trusted.contains(ip("fd00::1")));
        assert!(trusted.contains(ip("::ffff:10.0.0.1")), "IPv4-mapped");
        assert_eq!(
            TrustedProxies::parse("").unwrap(),
            TrustedProxies::default()
        );
        for bad in ["10.0.0.0/33", "example.org", "10.0.0"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_peers() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_of(ip("203.0.113.9"), ["1.1.1.1"]),
            ip("203.0.113.9")
        );

        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            trusted.client_of(ip("203.0.113.9"), ["1.1.1.1"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            trusted.client_of(ip("10.0.0.2"), ["1.1.1.1"]),
            ip("1.1.1.1")
        );
        // A client may send its own header; only what the trusted proxies appended counts.
        assert_eq!(
            trusted.client_of(ip("10.0.0.2"), ["6.6.6.6, 1.1.1.1, 10.0.0.3"]),
            ip("1.1.1.1")
        );
        assert_eq!(
            trusted.client_of(ip("10.0.0.2"), ["6.6.6.6", "1.1.1.1:4000"]),
            ip("1.1.1.1"),
            "several headers read as one list; ports are dropped"
        );
        assert_eq!(
            trusted.client_of(ip("10.0.0.2"), ["1.1.1.1, garbage"]),
            ip("10.0.0.2"),
            "an entry that is not an address ends the walk"
        );
        assert_eq!(
            trusted.client_of(ip("10.0.0.2"), ["10.0.0.5, 10.0.0.3"]),
            ip("10.0.0.5")
        );
        assert_eq!(trusted.client_of(ip("10.0.0.2"), []), ip("10.0.0.2"));
    }
}
