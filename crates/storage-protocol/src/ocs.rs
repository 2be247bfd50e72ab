//! The OCS envelope of the Nextcloud side (contract README §4.2): JSON and XML forms, and how
//! v1 and v2 turn an OCS status code into an HTTP status.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const OCS_API_REQUEST_HEADER: &str = "OCS-APIRequest";
/// Code for "not logged in" (v1: HTTP 401; v2: HTTP 401).
pub const CODE_NOT_LOGGED_IN: u16 = 997;
pub const CODE_NOT_FOUND: u16 = 998;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcsVersion {
    V1,
    V2,
}

impl OcsVersion {
    /// The success status code written in `meta.statuscode`.
    pub fn ok_code(self) -> u16 {
        match self {
            Self::V1 => 100,
            Self::V2 => 200,
        }
    }

    /// The HTTP status for an OCS code *c*.
    pub fn http_status(self, code: u16) -> u16 {
        match self {
            Self::V1 => match code {
                CODE_NOT_LOGGED_IN => 401,
                _ => 200,
            },
            Self::V2 => match code {
                100 => 200,
                CODE_NOT_LOGGED_IN => 401,
                CODE_NOT_FOUND => 404,
                996 | 999 => 500,
                200..=599 => code,
                _ => 400,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OcsMeta {
    pub status: String,
    pub statuscode: u16,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totalitems: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub itemsperpage: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcsBody<T> {
    pub meta: OcsMeta,
    pub data: T,
}

/// `{"ocs": {"meta": …, "data": …}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcsEnvelope<T> {
    pub ocs: OcsBody<T>,
}

impl<T> OcsEnvelope<T> {
    pub fn ok(version: OcsVersion, data: T) -> Self {
        Self::with_code(version, version.ok_code(), "OK".into(), data)
    }

    /// A success that created something: v2 says 201, v1 its usual 100.
    pub fn created(version: OcsVersion, data: T) -> Self {
        match version {
            OcsVersion::V1 => Self::ok(version, data),
            OcsVersion::V2 => Self::with_code(version, 201, "OK".into(), data),
        }
    }

    /// A failure with code *c*; the message may be empty.
    pub fn failure(version: OcsVersion, code: u16, message: impl Into<String>, data: T) -> Self {
        Self::with_code(version, code, message.into(), data)
    }

    fn with_code(version: OcsVersion, code: u16, message: String, data: T) -> Self {
        let ok = match version {
            OcsVersion::V1 => code == 100,
            OcsVersion::V2 => (200..300).contains(&code),
        };
        let paging = match version {
            OcsVersion::V1 => Some(String::new()),
            OcsVersion::V2 => None,
        };
        Self {
            ocs: OcsBody {
                meta: OcsMeta {
                    status: if ok { "ok" } else { "failure" }.into(),
                    statuscode: code,
                    message,
                    totalitems: paging.clone(),
                    itemsperpage: paging,
                },
                data,
            },
        }
    }
}

/// JSON when `format=json`, XML when `format=xml`, else JSON when `Accept` names
/// `application/json`, else XML.
pub fn wants_json(format: Option<&str>, accept: Option<&str>) -> bool {
    match format {
        Some("json") => true,
        Some("xml") => false,
        _ => accept.is_some_and(|a| a.contains("application/json")),
    }
}

/// The XML form of an envelope: object keys become elements (numeric keys become `element`),
/// list items become `<element>`, `true` is `1`, `false` and `null` are empty.
pub fn to_xml(envelope: &OcsEnvelope<Value>) -> String {
    let meta = &envelope.ocs.meta;
    let mut out = String::from("<?xml version=\"1.0\"?>\n<ocs>\n <meta>\n");
    push_element(&mut out, "status", &meta.status, 2);
    push_element(&mut out, "statuscode", &meta.statuscode.to_string(), 2);
    push_element(&mut out, "message", &meta.message, 2);
    push_element(
        &mut out,
        "totalitems",
        meta.totalitems.as_deref().unwrap_or(""),
        2,
    );
    push_element(
        &mut out,
        "itemsperpage",
        meta.itemsperpage.as_deref().unwrap_or(""),
        2,
    );
    out.push_str(" </meta>\n");
    write_value(&mut out, "data", &envelope.ocs.data, 1);
    out.push_str("</ocs>\n");
    out
}

/// `WWW-Authenticate` of an OCS request whose Basic credentials log nobody in.
pub const UNAUTHORISED_CHALLENGE: &str = "Basic realm=\"Authorisation Required\"";
pub const UNAUTHORISED_CONTENT_TYPE: &str = "text/xml; charset=UTF-8";
pub const UNAUTHORISED_MESSAGE: &str = "Unauthorised";

/// The body both OCS versions send for Basic credentials that log nobody in: XML whatever the
/// requested format, code 997, no `totalitems`/`itemsperpage`.
pub fn unauthorised_xml() -> String {
    let mut out = String::from("<?xml version=\"1.0\"?>\n<ocs>\n <meta>\n");
    push_element(&mut out, "status", "failure", 2);
    push_element(&mut out, "statuscode", &CODE_NOT_LOGGED_IN.to_string(), 2);
    push_element(&mut out, "message", UNAUTHORISED_MESSAGE, 2);
    out.push_str(" </meta>\n");
    push_element(&mut out, "data", "", 1);
    out.push_str("</ocs>\n");
    out
}

/// The text of the first element at `path` (element names from the root) of an XML document.
pub fn xml_text_at(xml: &str, path: &[&str]) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut text = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                stack.push(e.name().as_ref().to_vec());
                text.clear();
            }
            Event::Empty(e) => {
                stack.push(e.name().as_ref().to_vec());
                if stack
                    .iter()
                    .map(Vec::as_slice)
                    .eq(path.iter().map(|p| p.as_bytes()))
                {
                    return Some(String::new());
                }
                stack.pop();
            }
            Event::Text(t) => text.push_str(&t.unescape().ok()?),
            Event::End(_) => {
                if stack
                    .iter()
                    .map(Vec::as_slice)
                    .eq(path.iter().map(|p| p.as_bytes()))
                {
                    return Some(text.trim().to_string());
                }
                stack.pop();
                text.clear();
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// What OpenProject reads from Nextcloud's `cloud/user` XML: `ocs/data/id` when
/// `ocs/meta/statuscode` is 100 (v1 success) or 200 (v2).
pub fn read_xml_user_id(xml: &str) -> Option<String> {
    let code = xml_text_at(xml, &["ocs", "meta", "statuscode"])?;
    if code != "100" && code != "200" {
        return None;
    }
    xml_text_at(xml, &["ocs", "data", "id"]).filter(|id| !id.is_empty())
}

fn push_element(out: &mut String, name: &str, text: &str, depth: usize) {
    out.push_str(&" ".repeat(depth));
    if text.is_empty() {
        out.push_str(&format!("<{name}/>\n"));
    } else {
        out.push_str(&format!("<{name}>{}</{name}>\n", crate::xml::escape(text)));
    }
}

fn write_value(out: &mut String, name: &str, value: &Value, depth: usize) {
    let indent = " ".repeat(depth);
    match value {
        Value::Null | Value::Bool(false) => push_element(out, name, "", depth),
        Value::Bool(true) => push_element(out, name, "1", depth),
        Value::Number(n) => push_element(out, name, &n.to_string(), depth),
        Value::String(s) => push_element(out, name, s, depth),
        Value::Array(items) => {
            out.push_str(&format!("{indent}<{name}>\n"));
            for item in items {
                write_value(out, "element", item, depth + 1);
            }
            out.push_str(&format!("{indent}</{name}>\n"));
        }
        Value::Object(map) => {
            out.push_str(&format!("{indent}<{name}>\n"));
            for (key, item) in map {
                write_value(out, &element_name(key), item, depth + 1);
            }
            out.push_str(&format!("{indent}</{name}>\n"));
        }
    }
}

/// Keys that are not XML names become `element`, as Nextcloud does for numeric keys.
fn element_name(key: &str) -> String {
    let mut chars = key.chars();
    let valid_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let valid_rest = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid_start && valid_rest {
        key.to_string()
    } else {
        "element".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_unauthorised_document_is_nextclouds() {
        assert_eq!(
            unauthorised_xml(),
            "<?xml version=\"1.0\"?>\n<ocs>\n <meta>\n  <status>failure</status>\n  <statuscode>997</statuscode>\n  <message>Unauthorised</message>\n </meta>\n <data/>\n</ocs>\n"
        );
        assert_eq!(read_xml_user_id(&unauthorised_xml()), None);
    }

    #[test]
    fn v1_and_v2_statuses() {
        assert_eq!(OcsVersion::V1.http_status(997), 401);
        assert_eq!(OcsVersion::V1.http_status(404), 200);
        assert_eq!(OcsVersion::V1.http_status(102), 200);
        assert_eq!(OcsVersion::V2.http_status(997), 401);
        assert_eq!(OcsVersion::V2.http_status(998), 404);
        assert_eq!(OcsVersion::V2.http_status(999), 500);
        assert_eq!(OcsVersion::V2.http_status(403), 403);
        assert_eq!(OcsVersion::V2.http_status(102), 400);
        assert_eq!(OcsVersion::V2.http_status(100), 200);
    }

    #[test]
    fn envelopes_match_fixtures() {
        let v1 = OcsEnvelope::ok(OcsVersion::V1, json!({"id": "alice"}));
        assert_eq!(
            serde_json::to_value(&v1).unwrap(),
            crate::fixtures::load("nc_ocs_v1_ok")
        );
        let v2 = OcsEnvelope::failure(
            OcsVersion::V2,
            997,
            "Current user is not logged in",
            json!([]),
        );
        assert_eq!(
            serde_json::to_value(&v2).unwrap(),
            crate::fixtures::load("nc_ocs_v2_not_logged_in")
        );
        crate::fixtures::assert_round_trip::<OcsEnvelope<Value>>("nc_ocs_v1_ok");
        crate::fixtures::assert_round_trip::<OcsEnvelope<Value>>("nc_ocs_v2_not_logged_in");
    }

    #[test]
    fn xml_form() {
        let env = OcsEnvelope::ok(
            OcsVersion::V1,
            json!({"id": "a<b", "enabled": true, "email": null, "groups": ["admin"], "12": false}),
        );
        let xml = to_xml(&env);
        assert!(xml.starts_with("<?xml version=\"1.0\"?>\n<ocs>"));
        assert!(xml.contains("<statuscode>100</statuscode>"));
        assert!(xml.contains("<id>a&lt;b</id>"));
        assert!(xml.contains("<enabled>1</enabled>"));
        assert!(xml.contains("<email/>"));
        assert!(xml.contains("<groups>\n   <element>admin</element>\n  </groups>"));
        assert!(xml.contains("<element/>"), "numeric keys become element");
    }

    #[test]
    fn reads_the_user_id_back() {
        let xml = to_xml(&OcsEnvelope::ok(
            OcsVersion::V1,
            json!({"id": "alice", "enabled": true, "groups": ["admin"]}),
        ));
        assert_eq!(read_xml_user_id(&xml).as_deref(), Some("alice"));
        let failure = to_xml(&OcsEnvelope::failure(
            OcsVersion::V1,
            997,
            "Current user is not logged in",
            json!([]),
        ));
        assert_eq!(read_xml_user_id(&failure), None);
        assert_eq!(read_xml_user_id("garbage"), None);
    }

    #[test]
    fn format_choice() {
        assert!(wants_json(Some("json"), None));
        assert!(!wants_json(Some("xml"), Some("application/json")));
        assert!(wants_json(None, Some("application/json, text/plain")));
        assert!(!wants_json(None, None));
    }
}
