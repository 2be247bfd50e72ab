//! The rules of the OpenProject API wrappers (spec §6): why a call failed ([`CallError`]),
//! what its outcome means for the connection, the bodies sent and the parts of answers kept.
//! `flows::openproject_api` makes the calls; the route module decides how each endpoint answers
//! a failure.

use chrono::{SecondsFormat, TimeZone, Utc};
use serde_json::Value;
use storage_protocol::files::{
    Href, NewFileLink, NewFileLinkLinks, NewFileLinks, OriginData, MIME_DIRECTORY,
};

use super::files::{info::FileInfoLink, FileError, Viewer};

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No usable token (code 401, data `""`).
    #[error("no OpenProject token")]
    NoToken,
    /// The stored OpenProject URL is not valid (code 400, data `""`).
    #[error("the stored OpenProject URL is not valid")]
    InvalidUrl,
    /// OpenProject answered with an error status.
    #[error("OpenProject answered {status}")]
    Refused { status: u16, body: Value },
    /// The request failed (connection, timeout, unreadable answer).
    #[error("OpenProject could not be reached")]
    Network,
}

impl CallError {
    /// OpenProject's `message`, else the status's reason phrase.
    pub fn message(&self) -> String {
        match self {
            Self::Refused { status, body } => body
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| {
                    reqwest::StatusCode::from_u16(*status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("")
                        .to_string()
                }),
            other => other.to_string(),
        }
    }
}

/// An OpenProject answer: status and body (JSON, or the text as a JSON string, or null).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// Whether a user's stored connection still works, as OpenProject answers for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionHealth {
    Working,
    /// OpenProject refuses the stored tokens (reset, revoked, storage deleted) or they cannot
    /// be refreshed: the user has to connect again.
    Broken,
    /// OpenProject could not be asked (down, timeout): nothing is known.
    Unreachable,
}

/// What an attempt to use the connection means for it.
pub fn health_of(outcome: &Result<Answer, CallError>) -> ConnectionHealth {
    match outcome {
        Ok(_) => ConnectionHealth::Working,
        Err(CallError::NoToken | CallError::InvalidUrl) => ConnectionHealth::Broken,
        Err(CallError::Refused {
            status: 401 | 403, ..
        }) => ConnectionHealth::Broken,
        Err(_) => ConnectionHealth::Unreachable,
    }
}

/// `_embedded.elements` of a collection.
pub fn elements(body: &Value) -> Option<&Vec<Value>> {
    body.get("_embedded")?.get("elements")?.as_array()
}

/// The `body` parameter of the Tier 2 form and create wrappers (`{"body": {…}}`): a non-empty
/// object, else `Body cannot be empty`.
pub fn creation_body(request: &Value) -> Option<&Value> {
    request
        .get("body")
        .filter(|body| body.as_object().is_some_and(|map| !map.is_empty()))
}

/// A project id or identifier that may stand in an OpenProject path as it is.
pub fn is_project_ref(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 100
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The `_embedded` of OpenProject's work-package form, when the answer is a Form.
pub fn form_embedded(body: &Value) -> Option<&Value> {
    if body.get("_type")? != "Form" {
        return None;
    }
    body.get("_embedded").filter(|e| e.is_object())
}

/// A created work package as Nextcloud's app accepts it: a WorkPackage with `_embedded`.
pub fn created_work_package(body: &Value) -> Option<&Value> {
    (body.get("_type")? == "WorkPackage" && body.get("_embedded")?.is_object()).then_some(body)
}

/// Work packages deduplicated by id, in order.
pub fn dedup_by_id(elements: &[Value]) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for element in elements {
        let id = element.get("id").cloned().unwrap_or(Value::Null);
        if id.is_null() || !seen.contains(&id) {
            seen.push(id);
            out.push(element.clone());
        }
    }
    out
}

/// Unix seconds as ISO 8601 in UTC.
pub fn iso8601(unix_secs: i64) -> Option<String> {
    Utc.timestamp_opt(unix_secs, 0)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// The file links body for files the user may access; this Nextcloud names the storage.
pub fn new_file_links(files: &[FileInfoLink], nc_url: &str) -> NewFileLinks {
    NewFileLinks::new(
        files
            .iter()
            .map(|file| NewFileLink {
                origin_data: OriginData {
                    id: file.id.to_string(),
                    name: file.name.clone(),
                    mime_type: Some(if file.is_folder {
                        MIME_DIRECTORY.to_string()
                    } else {
                        file.mime_type.clone()
                    }),
                    created_at: if file.ctime == 0 {
                        None
                    } else {
                        iso8601(file.ctime)
                    },
                    last_modified_at: iso8601(file.mtime),
                    created_by_name: Some(String::new()),
                    last_modified_by_name: Some(String::new()),
                },
                links: NewFileLinkLinks {
                    storage_url: Href {
                        href: nc_url.to_string(),
                    },
                },
            })
            .collect(),
    )
}

/// The linking request's values, checked as §6 says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRequest {
    pub work_package: i64,
    pub files: Vec<(i64, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// `invalid key`
    MissingKey,
    /// `invalid data`
    InvalidData,
}

pub fn parse_link_request(body: &Value) -> Result<LinkRequest, LinkRefusal> {
    let values = body.get("values").ok_or(LinkRefusal::MissingKey)?;
    let work_package = values.get("workpackageId").ok_or(LinkRefusal::MissingKey)?;
    let fileinfo = values.get("fileinfo").ok_or(LinkRefusal::MissingKey)?;
    let work_package = work_package.as_i64().ok_or(LinkRefusal::InvalidData)?;
    let list = fileinfo.as_array().ok_or(LinkRefusal::InvalidData)?;
    if list.is_empty() {
        return Err(LinkRefusal::InvalidData);
    }
    let files = list
        .iter()
        .map(|file| {
            let id = file.get("id").and_then(Value::as_i64);
            let name = file
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty());
            match (id, name) {
                (Some(id), Some(name)) => Ok((id, name.to_string())),
                _ => Err(LinkRefusal::InvalidData),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(LinkRequest {
        work_package,
        files,
    })
}

/// The files of a link request as the user sees them, `None` when one is not accessible.
pub fn accessible_files(
    conn: &mut service_kit::db::AnyConnection,
    uid: &str,
    ids: &[i64],
) -> Result<Option<Vec<FileInfoLink>>, FileError> {
    let viewer = Viewer::load(conn, uid)?;
    let mut files = Vec::with_capacity(ids.len());
    for id in ids {
        match super::files::info::link_data(conn, &viewer, *id)? {
            Some(file) => files.push(file),
            None => return Ok(None),
        }
    }
    Ok(Some(files))
}

/// Statuses and types by OpenProject URL and id, each until its expiry (a bounded map: it is
/// emptied when full; the entries are public data, never authorization).
#[derive(Debug, Default)]
pub struct ResourceCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, (i64, Value)>>,
}

impl ResourceCache {
    pub fn get(&self, key: &str, now_millis: i64) -> Option<Value> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(expires, _)| *expires > now_millis)
            .map(|(_, value)| value.clone())
    }

    pub fn put(&self, key: String, value: Value, expires_millis: i64, max_entries: usize) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= max_entries {
            entries.clear();
        }
        entries.insert(key, (expires_millis, value));
    }
}

/// The initials of a name, for generated avatars.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn creation_bodies_and_answers() {
        assert_eq!(
            creation_body(&json!({"body": {"subject": "x"}})),
            Some(&json!({"subject": "x"}))
        );
        for request in [
            json!({}),
            json!({"body": {}}),
            json!({"body": []}),
            json!({"body": "x"}),
            json!(null),
            json!({"subject": "x"}),
        ] {
            assert_eq!(creation_body(&request), None, "{request}");
        }
        assert!(is_project_ref("12") && is_project_ref("demo-project_2"));
        for raw in ["", "1/2", "..", "a b", "%2F"] {
            assert!(!is_project_ref(raw), "{raw}");
        }
        let form = storage_protocol::fixtures::load("op_work_package_form");
        assert_eq!(form_embedded(&form), Some(&form["_embedded"]));
        assert_eq!(
            form_embedded(&json!({"_type": "WorkPackage", "_embedded": {}})),
            None
        );
        let created = storage_protocol::fixtures::load("op_work_package_created");
        assert_eq!(created_work_package(&created), Some(&created));
        let bare = storage_protocol::fixtures::load("op_work_package");
        assert_eq!(created_work_package(&bare), None);
    }

    #[test]
    fn refused_tokens_break_the_connection_and_outages_do_not() {
        let refused = |status| {
            Err(CallError::Refused {
                status,
                body: Value::Null,
            })
        };
        let ok = Ok(Answer {
            status: 200,
            body: Value::Null,
        });
        assert_eq!(health_of(&ok), ConnectionHealth::Working);
        assert_eq!(health_of(&refused(401)), ConnectionHealth::Broken);
        assert_eq!(health_of(&refused(403)), ConnectionHealth::Broken);
        assert_eq!(
            health_of(&Err(CallError::NoToken)),
            ConnectionHealth::Broken
        );
        assert_eq!(health_of(&refused(500)), ConnectionHealth::Unreachable);
        assert_eq!(
            health_of(&Err(CallError::Network)),
            ConnectionHealth::Unreachable
        );
    }

    #[test]
    fn link_requests() {
        let ok = json!({"values": {"workpackageId": 42, "fileinfo": [{"id": 1, "name": "a"}]}});
        assert_eq!(
            parse_link_request(&ok),
            Ok(LinkRequest {
                work_package: 42,
                files: vec![(1, "a".into())]
            })
        );
        for (body, refusal) in [
            (json!({}), LinkRefusal::MissingKey),
            (json!({"values": {"fileinfo": []}}), LinkRefusal::MissingKey),
            (
                json!({"values": {"workpackageId": 1}}),
                LinkRefusal::MissingKey,
            ),
            (
                json!({"values": {"workpackageId": "1", "fileinfo": [{"id": 1, "name": "a"}]}}),
                LinkRefusal::InvalidData,
            ),
            (
                json!({"values": {"workpackageId": 1, "fileinfo": []}}),
                LinkRefusal::InvalidData,
            ),
            (
                json!({"values": {"workpackageId": 1, "fileinfo": {}}}),
                LinkRefusal::InvalidData,
            ),
            (
                json!({"values": {"workpackageId": 1, "fileinfo": [{"id": "1", "name": "a"}]}}),
                LinkRefusal::InvalidData,
            ),
            (
                json!({"values": {"workpackageId": 1, "fileinfo": [{"id": 1, "name": ""}]}}),
                LinkRefusal::InvalidData,
            ),
        ] {
            assert_eq!(parse_link_request(&body), Err(refusal), "{body}");
        }
    }

    #[test]
    fn the_cache_expires_and_stays_bounded() {
        let cache = ResourceCache::default();
        cache.put("a".into(), json!(1), 100, 2);
        assert_eq!(cache.get("a", 99), Some(json!(1)));
        assert_eq!(cache.get("a", 100), None);
        cache.put("b".into(), json!(2), 100, 2);
        cache.put("c".into(), json!(3), 100, 2);
        assert_eq!(cache.get("a", 0), None);
        assert_eq!(cache.get("c", 0), Some(json!(3)));
    }

    #[test]
    fn small_helpers() {
        assert_eq!(iso8601(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(initials("ada lovelace"), "AL");
        assert_eq!(initials(""), "");
        assert_eq!(
            dedup_by_id(&[json!({"id": 1}), json!({"id": 1}), json!({"id": 2})]).len(),
            2
        );
    }
}
