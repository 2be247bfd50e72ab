//! `is-valid-op-instance` (nextcloud-openproject-app.md §4): is a URL an OpenProject instance?
//! `GET <url>/api/v3/` with an empty Bearer token, redirects not followed, and the answer
//! classified into the contract's results.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, LOCATION, USER_AGENT as USER_AGENT_HEADER};
use service_kit::{
    http_client::{self, Destinations, SendObserved},
    outbound::{self, DestinationError},
};
use storage_protocol::integration_app::{
    IsValidOpInstanceResponse as Answer, OpInstanceResult, USER_AGENT,
};
use url::Url;

use crate::domain::op_instance::{api_root, classify, failure, parse_candidate, MAX_BODY_BYTES};

/// The whole check. Never fails: every outcome is an answer of the contract's table.
///
/// Unless local servers are allowed (`NCOA_ALLOW_LOCAL_REMOTE_SERVERS`), a host with any
/// non-public address (`service_kit::outbound::is_public`) is answered
/// `local_remote_servers_not_allowed` without a request; the probe's client judges the
/// addresses it connects to again, so a name that resolves differently the second time (DNS
/// rebinding) gets the same answer instead of a connection.
pub async fn check(raw_url: &str, destinations: Destinations, timeout: Duration) -> Answer {
    let Some(base) = parse_candidate(raw_url) else {
        return Answer::new(OpInstanceResult::Invalid);
    };
    if destinations == Destinations::PublicOnly {
        match outbound::check_destination(&base).await {
            Ok(()) => {}
            Err(DestinationError::NonPublic(_)) => {
                return Answer::new(OpInstanceResult::LocalRemoteServersNotAllowed)
            }
            Err(error) => {
                return Answer::with_details(OpInstanceResult::NetworkError, error.to_string())
            }
        }
    }
    probe(&api_root(&base), destinations, timeout).await
}

async fn probe(url: &Url, destinations: Destinations, timeout: Duration) -> Answer {
    let client = http_client::build(destinations, timeout, timeout);
    let response = client
        .get(url.clone())
        .header(USER_AGENT_HEADER, HeaderValue::from_static(USER_AGENT))
        // The contract's empty token: OpenProject answers its 401 Error, which proves it is one.
        .header(AUTHORIZATION, HeaderValue::from_static("Bearer "))
        .send_observed()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::op_instance::PROBE_TIMEOUT;
    use std::io::{Read, Write};

    fn result(answer: &Answer) -> (Option<&'static str>, Option<&str>) {
        (answer.result.as_str(), answer.details.as_deref())
    }

    #[tokio::test]
    async fn invalid_and_local_urls_are_never_requested() {
        assert_eq!(
            result(&check("not a url", Destinations::AnyAddress, PROBE_TIMEOUT).await),
            (Some("invalid"), None)
        );
        for url in [
            "http://127.0.0.1:1",
            "http://localhost:1/",
            "http://[::1]:1",
            "https://10.0.0.1",
            "http://[::127.0.0.1]:1",
            "http://[::ffff:127.0.0.1]:1",
            "http://[64:ff9b::7f00:1]",
            "http://[2002:7f00:1::]",
            "http://[fec0::1]",
            "http://[fe80::1]",
            "http://198.18.0.1",
            "http://100.64.0.1",
        ] {
            assert_eq!(
                result(&check(url, Destinations::PublicOnly, PROBE_TIMEOUT).await),
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
        let answer = check(&url, Destinations::AnyAddress, Duration::from_millis(300)).await;
        assert_eq!(answer.result.as_str(), Some("request_exception"));
        assert!(answer.details.is_some_and(|d| !d.is_empty()));
    }
}
