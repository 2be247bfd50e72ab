//! `is-valid-op-instance` (nextcloud-openproject-app.md §4): is a URL an OpenProject instance?
//! `GET <url>/api/v3/` with an empty Bearer token, redirects not followed, and the answer
//! classified into the contract's results.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    time::Duration,
};

use reqwest::header::{HeaderValue, AUTHORIZATION, LOCATION};
use serde_json::Value;
use storage_protocol::integration_app::{
    IsValidOpInstanceResponse as Answer, OpInstanceResult, USER_AGENT,
};
use url::{Host, Url};

/// The contract's timeout of the whole probe.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this much of a body is read (and echoed back as `details`).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An absolute `http`/`https` URL with a host, or `None`.
pub fn parse_candidate(raw: &str) -> Option<Url> {
    let raw = raw.trim();
    if !super::settings::is_valid_openproject_url(raw) {
        return None;
    }
    Url::parse(raw).ok()
}

/// `<url>/api/v3/`: the path without its trailing `/`, query and fragment dropped.
pub fn api_root(base: &Url) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    let path = format!("{}/api/v3/", base.path().trim_end_matches('/'));
    url.set_path(&path);
    url
}

/// Loopback, private, link-local and other non-public addresses (Nextcloud's local address
/// checker): a probe there is refused unless `NCOA_ALLOW_LOCAL_REMOTE_SERVERS` is set.
pub fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_local_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_local_v4(v4),
            None => is_local_v6(v6),
        },
    }
}

fn is_local_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || a == 0
        || a >= 240 // reserved
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
}

fn is_local_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
}

/// Where the probe may connect: the addresses the host resolved to, pinned so the request
/// cannot be sent to another address by a second resolution (DNS rebinding).
enum Route {
    /// Any address: local servers are allowed, or the host is an IP literal.
    Direct,
    Pinned {
        domain: String,
        addrs: Vec<SocketAddr>,
    },
}

/// The whole check. Never fails: every outcome is an answer of the contract's table.
pub async fn check(raw_url: &str, allow_local: bool, timeout: Duration) -> Answer {
    let Some(base) = parse_candidate(raw_url) else {
        return Answer::new(OpInstanceResult::Invalid);
    };
    let route = if allow_local {
        Route::Direct
    } else {
        match resolve(&base).await {
            Ok((addrs, _)) if addrs.iter().any(|a| is_local(a.ip())) => {
                return Answer::new(OpInstanceResult::LocalRemoteServersNotAllowed);
            }
            Ok((_, None)) => Route::Direct,
            Ok((addrs, Some(domain))) => Route::Pinned { domain, addrs },
            Err(error) => {
                return Answer::with_details(OpInstanceResult::NetworkError, error.to_string())
            }
        }
    };
    probe(&api_root(&base), route, timeout).await
}

/// Every address the URL's host stands for, and the domain name when it is not an IP literal.
async fn resolve(url: &Url) -> std::io::Result<(Vec<SocketAddr>, Option<String>)> {
    let port = url.port_or_known_default().unwrap_or(80);
    match url.host() {
        Some(Host::Ipv4(ip)) => Ok((vec![SocketAddr::new(ip.into(), port)], None)),
        Some(Host::Ipv6(ip)) => Ok((vec![SocketAddr::new(ip.into(), port)], None)),
        Some(Host::Domain(domain)) => {
            let addrs: Vec<_> = tokio::net::lookup_host((domain, port)).await?.collect();
            if addrs.is_empty() {
                return Err(std::io::Error::other(
                    "the host name resolved to no address",
                ));
            }
            Ok((addrs, Some(domain.to_string())))
        }
        None => Err(std::io::Error::other("no host")),
    }
}

async fn probe(url: &Url, route: Route, timeout: Duration) -> Answer {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeout)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT);
    if let Route::Pinned { domain, addrs } = &route {
        builder = builder.resolve_to_addrs(domain, addrs);
    }
    let client = match builder.build() {
        Ok(client) => client,
        Err(error) => return failure(&error),
    };
    let response = client
        .get(url.clone())
        // The contract's empty token: OpenProject answers its 401 Error, which proves it is one.
        .header(AUTHORIZATION, HeaderValue::from_static("Bearer "))
        .send()
        .await;
    let mut response = match response {
        Ok(response) => response,
        Err(error) => return failure(&error),
    };
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let mut body = Vec::new();
    if !(300..400).contains(&status) {
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_BODY_BYTES - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if body.len() >= MAX_BODY_BYTES {
                        break;
                    }
                }
                Ok(None) => break,
                Err(error) => return failure(&error),
            }
        }
    }
    classify(status, location, &body)
}

/// The answer for a response (pure, so every row of the table is unit-tested).
pub fn classify(status: u16, location: Option<String>, body: &[u8]) -> Answer {
    let json = || serde_json::from_slice::<Value>(body).ok();
    let non_empty = |value: &Value, key: &str| value[key].as_str().is_some_and(|s| !s.is_empty());
    let code_and_reason = || {
        let reason = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        format!("{status} {reason}").trim_end().to_string()
    };
    match status {
        300..=399 => match location {
            Some(location) => {
                let details = location
                    .strip_suffix("api/v3/")
                    .unwrap_or(&location)
                    .to_string();
                Answer::with_details(OpInstanceResult::Redirected, details)
            }
            None => Answer::new(OpInstanceResult::UnexpectedError),
        },
        200..=299 => match json() {
            Some(root) if root["_type"] == "Root" && non_empty(&root, "instanceName") => {
                Answer::new(OpInstanceResult::Valid)
            }
            _ => Answer::with_details(
                OpInstanceResult::NotValidBody,
                String::from_utf8_lossy(body).into_owned(),
            ),
        },
        400..=499 => match json() {
            Some(error) if error["_type"] == "Error" && non_empty(&error, "errorIdentifier") => {
                Answer::new(OpInstanceResult::Valid)
            }
            _ => Answer::with_details(OpInstanceResult::ClientException, code_and_reason()),
        },
        500..=599 => Answer::with_details(OpInstanceResult::ServerException, code_and_reason()),
        _ => Answer::new(OpInstanceResult::UnexpectedError),
    }
}

/// A request that got no (complete) answer: connection failures (DNS, refused, TLS) are
/// `network_error`, anything else (a timeout) `request_exception`.
fn failure(error: &reqwest::Error) -> Answer {
    let result = if error.is_connect() {
        OpInstanceResult::NetworkError
    } else {
        OpInstanceResult::RequestException
    };
    Answer::with_details(result, innermost(error))
}

/// The most specific message of an error chain (`Connection refused (os error 111)`), without
/// the URL reqwest puts at the top.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn candidates() {
        assert!(parse_candidate(" https://op.example ").is_some());
        assert!(parse_candidate("http://10.0.0.1:8080/op").is_some());
        for bad in [
            "",
            "op.example",
            "ftp://op.example",
            "http://",
            "https:///x",
            "javascript:x",
        ] {
            assert!(parse_candidate(bad).is_none(), "{bad}");
        }
        let base = parse_candidate("https://op.example/sub/?q=1#f").unwrap();
        assert_eq!(api_root(&base).as_str(), "https://op.example/sub/api/v3/");
        let base = parse_candidate("http://op.example").unwrap();
        assert_eq!(api_root(&base).as_str(), "http://op.example/api/v3/");
    }

    #[test]
    fn local_addresses() {
        for local in [
            "127.0.0.1",
            "127.8.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_local(local.parse().unwrap()), "{local}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "172.32.0.1", "2606:4700::1111"] {
            assert!(!is_local(public.parse().unwrap()), "{public}");
        }
    }

    fn result(answer: &Answer) -> (Option<&'static str>, Option<&str>) {
        (answer.result.as_str(), answer.details.as_deref())
    }

    #[test]
    fn classification() {
        let root = br#"{"_type": "Root", "instanceName": "OpenProject"}"#;
        assert_eq!(result(&classify(200, None, root)), (None, None));
        let unnamed = br#"{"_type": "Root", "instanceName": ""}"#;
        assert_eq!(
            result(&classify(200, None, unnamed)),
            (
                Some("not_valid_body"),
                Some(std::str::from_utf8(unnamed).unwrap())
            )
        );
        assert_eq!(
            result(&classify(204, None, b"")),
            (Some("not_valid_body"), Some(""))
        );
        let error = br#"{"_type": "Error", "errorIdentifier": "urn:openproject-org:api:v3:errors:Unauthenticated"}"#;
        assert_eq!(result(&classify(401, None, error)), (None, None));
        assert_eq!(
            result(&classify(404, None, b"<html>")),
            (Some("client_exception"), Some("404 Not Found"))
        );
        assert_eq!(
            result(&classify(401, None, br#"{"_type": "Error"}"#)),
            (Some("client_exception"), Some("401 Unauthorized"))
        );
        assert_eq!(
            result(&classify(503, None, error)),
            (Some("server_exception"), Some("503 Service Unavailable"))
        );
        assert_eq!(
            result(&classify(599, None, b"")),
            (Some("server_exception"), Some("599"))
        );
        assert_eq!(
            result(&classify(
                301,
                Some("https://op.example/api/v3/".into()),
                b""
            )),
            (Some("redirected"), Some("https://op.example/"))
        );
        assert_eq!(
            result(&classify(302, Some("/login".into()), b"")),
            (Some("redirected"), Some("/login"))
        );
        assert_eq!(
            result(&classify(302, None, b"")),
            (Some("unexpected_error"), None)
        );
        assert_eq!(
            result(&classify(101, None, b"")),
            (Some("unexpected_error"), None)
        );
    }

    #[tokio::test]
    async fn invalid_and_local_urls_are_never_requested() {
        assert_eq!(
            result(&check("not a url", true, PROBE_TIMEOUT).await),
            (Some("invalid"), None)
        );
        for url in [
            "http://127.0.0.1:1",
            "http://localhost:1/",
            "http://[::1]:1",
            "https://10.0.0.1",
        ] {
            assert_eq!(
                result(&check(url, false, PROBE_TIMEOUT).await),
                (Some("local_remote_servers_not_allowed"), None),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn a_silent_server_is_a_request_exception() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        // Accepts and reads, never answers.
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                std::thread::sleep(Duration::from_secs(2));
                let _ = stream.write_all(b"");
            }
        });
        let answer = check(&url, true, Duration::from_millis(300)).await;
        assert_eq!(answer.result.as_str(), Some("request_exception"));
        assert!(answer.details.is_some_and(|d| !d.is_empty()));
    }
}
