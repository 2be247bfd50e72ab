//! The rules of `is-valid-op-instance` (nextcloud-openproject-app.md §4): which URLs are
//! candidates, where the probe goes, and how its answer is classified into the contract's
//! results. `flows::op_instance` makes the probe.

use std::time::Duration;

use serde_json::Value;
use service_kit::outbound;
use storage_protocol::integration_app::{IsValidOpInstanceResponse as Answer, OpInstanceResult};
use url::Url;

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

/// A request that got no (complete) answer: a destination the client refused is
/// `local_remote_servers_not_allowed`, connection failures (DNS, refused, TLS) are
/// `network_error`, anything else (a timeout) `request_exception`.
pub fn failure(error: &reqwest::Error) -> Answer {
    if outbound::is_refusal(error) {
        return Answer::new(OpInstanceResult::LocalRemoteServersNotAllowed);
    }
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
}
