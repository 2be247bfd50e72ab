//! File information of the Nextcloud side (nextcloud-openproject-app.md §5, §7.3): the
//! `fileinfo` / `filesinfo` records OpenProject reads, the DAV permission letters, and the bodies
//! of linking files from Nextcloud (§6, openproject-storages.md §10.3).

use std::fmt;

use serde::{
    de::{MapAccess, Visitor},
    ser::SerializeMap,
    Deserialize, Deserializer, Serialize, Serializer,
};

/// The mime type of folders in file information and file links.
pub const MIME_DIRECTORY: &str = "application/x-op-directory";
/// Prefix of `path` in file information.
pub const PATH_PREFIX: &str = "files/";
/// At most this many ids per `filesinfo` request.
pub const MAX_FILES_INFO_IDS: usize = 1000;

/// DAV permission letters (§7.3), in the order `S R M G D N V W C K`.
pub mod permissions {
    pub const OWN_FILE: &str = "RGDNVW";
    pub const OWN_FOLDER: &str = "RGDNVCK";
    pub const TEAM_FILE: &str = "RMGDNVW";
    pub const TEAM_FOLDER: &str = "RMGDNVCK";
}

/// Message strings of §5 and §6.
pub mod messages {
    pub const INVALID_REQUEST: &str = "invalid request";
    pub const INVALID_KEY: &str = "invalid key";
    pub const INVALID_DATA: &str = "invalid data";
    pub const FILE_NOT_FOUND: &str = "file not found";
    pub const MALFORMED_RESPONSE: &str = "Malformed response";
    /// The work-package form and create wrappers without a `body` object (Tier 2).
    pub const BODY_EMPTY: &str = "Body cannot be empty";
    pub const NOT_FOUND: &str = "Not Found";
    pub const FORBIDDEN: &str = "Forbidden";
    pub const OK: &str = "OK";
}

/// The record of a file the requester may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    pub status: String,
    pub statuscode: u16,
    pub id: i64,
    pub name: String,
    pub mtime: i64,
    pub ctime: i64,
    pub mimetype: String,
    pub size: i64,
    pub owner_id: String,
    pub owner_name: String,
    pub modifier_id: Option<String>,
    pub modifier_name: Option<String>,
    pub dav_permissions: String,
    pub path: String,
}

/// The record of a file that is missing (404) or not accessible (403).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfoStatus {
    pub status: String,
    pub statuscode: u16,
}

impl FileInfoStatus {
    pub fn not_found() -> Self {
        Self {
            status: messages::NOT_FOUND.into(),
            statuscode: 404,
        }
    }

    pub fn forbidden() -> Self {
        Self {
            status: messages::FORBIDDEN.into(),
            statuscode: 403,
        }
    }
}

/// One `fileinfo` answer, or one value of a `filesinfo` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FileInfoRecord {
    Found(Box<FileInfo>),
    Status(FileInfoStatus),
}

impl FileInfoRecord {
    pub fn statuscode(&self) -> u16 {
        match self {
            Self::Found(info) => info.statuscode,
            Self::Status(status) => status.statuscode,
        }
    }
}

/// The body OpenProject posts to `filesinfo`. (The server also accepts integer ids.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesInfoRequest {
    #[serde(rename = "fileIds")]
    pub file_ids: Vec<String>,
}

/// The data of a `filesinfo` answer: records keyed by the requested id, in request order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilesInfo(pub Vec<(String, FileInfoRecord)>);

impl FilesInfo {
    pub fn get(&self, id: &str) -> Option<&FileInfoRecord> {
        self.0.iter().find(|(key, _)| key == id).map(|(_, r)| r)
    }
}

impl Serialize for FilesInfo {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, record) in &self.0 {
            map.serialize_entry(key, record)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for FilesInfo {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Records;
        impl<'de> Visitor<'de> for Records {
            type Value = FilesInfo;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of file information records")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FilesInfo, A::Error> {
                let mut records = Vec::new();
                while let Some(entry) = map.next_entry::<String, FileInfoRecord>()? {
                    records.push(entry);
                }
                Ok(FilesInfo(records))
            }
        }
        deserializer.deserialize_map(Records)
    }
}

/// One file of the linking request of `POST OCSAPP/api/v1/work-packages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkFile {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkFilesValues {
    #[serde(rename = "workpackageId")]
    pub workpackage_id: i64,
    pub fileinfo: Vec<LinkFile>,
}

/// `{"values": {"workpackageId": …, "fileinfo": […]}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkFilesRequest {
    pub values: LinkFilesValues,
}

/// `originData` of a file link (openproject-storages.md §10.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OriginData {
    pub id: String,
    pub name: String,
    pub mime_type: Option<String>,
    pub created_at: Option<String>,
    pub last_modified_at: Option<String>,
    pub created_by_name: Option<String>,
    pub last_modified_by_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Href {
    pub href: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewFileLinkLinks {
    pub storage_url: Href,
}

/// One element of the file links Nextcloud creates, naming the storage by its URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewFileLink {
    pub origin_data: OriginData,
    #[serde(rename = "_links")]
    pub links: NewFileLinkLinks,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewFileLinksEmbedded {
    pub elements: Vec<NewFileLink>,
}

/// The body of `POST /api/v3/work_packages/{id}/file_links` as Nextcloud sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewFileLinks {
    #[serde(rename = "_type")]
    pub kind: String,
    #[serde(rename = "_embedded")]
    pub embedded: NewFileLinksEmbedded,
}

impl NewFileLinks {
    pub fn new(elements: Vec<NewFileLink>) -> Self {
        Self {
            kind: "Collection".into(),
            embedded: NewFileLinksEmbedded { elements },
        }
    }
}

/// What a `PROPFIND` body asks for (§7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Propfind {
    /// `<d:allprop/>` or an empty body.
    AllProp,
    /// `<d:propname/>`: the names of the properties, without values.
    PropName,
    /// `<d:prop>` with these properties as (namespace, local name), in request order.
    Props(Vec<(String, String)>),
}

/// The body is not a well-formed `propfind` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropfindError(pub String);

/// Reads a `PROPFIND` request body.
pub fn parse_propfind(body: &str) -> Result<Propfind, PropfindError> {
    use quick_xml::{
        events::Event,
        name::{Namespace, ResolveResult},
        NsReader,
    };
    if body.trim().is_empty() {
        return Ok(Propfind::AllProp);
    }
    let mut reader = NsReader::from_str(body);
    reader.config_mut().trim_text(true);
    // The local names of the open elements.
    let mut open: Vec<(bool, String)> = Vec::new();
    let mut seen_propfind = false;
    let mut allprop = false;
    let mut propname = false;
    let mut props = Vec::new();
    loop {
        let (namespace, event) = reader
            .read_resolved_event()
            .map_err(|e| PropfindError(e.to_string()))?;
        let ns = match namespace {
            ResolveResult::Bound(Namespace(ns)) => String::from_utf8_lossy(ns).into_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(prefix) => {
                return Err(PropfindError(format!(
                    "the prefix {} is not bound",
                    String::from_utf8_lossy(&prefix)
                )))
            }
        };
        // `xmlns:p=""` cannot bind a prefix (Namespaces in XML 1.0 §3), so `p:name` is malformed.
        let prefixed = match &event {
            Event::Start(start) | Event::Empty(start) => start.name().prefix().is_some(),
            _ => false,
        };
        if prefixed && ns.is_empty() {
            return Err(PropfindError("a prefix is bound to no namespace".into()));
        }
        let is_dav = ns.as_bytes() == crate::dav::DAV.as_bytes();
        let (start, empty) = match &event {
            Event::Start(start) => (Some(start), false),
            Event::Empty(start) => (Some(start), true),
            Event::End(_) => {
                open.pop();
                (None, false)
            }
            Event::Eof => break,
            _ => (None, false),
        };
        let Some(start) = start else { continue };
        let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
        let parent = open.last().map(|(dav, n)| (*dav, n.as_str()));
        match (open.len(), parent) {
            (0, _) if is_dav && name == "propfind" => seen_propfind = true,
            (0, _) => return Err(PropfindError("the root is not DAV:propfind".into())),
            (1, _) if is_dav && name == "allprop" => allprop = true,
            (1, _) if is_dav && name == "propname" => propname = true,
            (2, Some((true, "prop"))) => props.push((ns, name.clone())),
            _ => {}
        }
        if !empty {
            open.push((is_dav, name));
        }
    }
    if !seen_propfind || !open.is_empty() {
        return Err(PropfindError("not a complete propfind document".into()));
    }
    if propname {
        Ok(Propfind::PropName)
    } else if allprop || props.is_empty() {
        Ok(Propfind::AllProp)
    } else {
        Ok(Propfind::Props(props))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_prefix_bindings_and_unbound_prefixes_are_malformed() {
        let empty =
            r#"<d:propfind xmlns:d="DAV:" xmlns:bar=""><d:prop><bar:foo/></d:prop></d:propfind>"#;
        assert!(parse_propfind(empty).is_err());
        let unbound = r#"<d:propfind xmlns:d="DAV:"><d:prop><zz:foo/></d:prop></d:propfind>"#;
        assert!(parse_propfind(unbound).is_err());
        let no_namespace =
            r#"<d:propfind xmlns:d="DAV:"><d:prop><foo xmlns=""/></d:prop></d:propfind>"#;
        assert_eq!(
            parse_propfind(no_namespace).unwrap(),
            Propfind::Props(vec![(String::new(), "foo".into())])
        );
    }
    use crate::fixtures::{assert_round_trip, load};

    #[test]
    fn fixtures_round_trip() {
        assert_round_trip::<FileInfoRecord>("nc_fileinfo_file");
        assert_round_trip::<FileInfoRecord>("nc_fileinfo_folder");
        assert_round_trip::<FileInfoRecord>("nc_fileinfo_not_found");
        assert_round_trip::<FileInfoRecord>("nc_fileinfo_forbidden");
        assert_round_trip::<FilesInfo>("nc_filesinfo");
        assert_round_trip::<FilesInfoRequest>("nc_filesinfo_request");
        assert_round_trip::<LinkFilesRequest>("nc_link_files_request");
        assert_round_trip::<NewFileLinks>("nc_new_file_links");
    }

    #[test]
    fn propfind_bodies() {
        let props = parse_propfind(crate::dav::PROPFIND_BODY).unwrap();
        let Propfind::Props(props) = props else {
            panic!("named properties expected")
        };
        assert_eq!(props.len(), 7);
        assert_eq!(props[0], ("http://owncloud.org/ns".into(), "fileid".into()));
        assert_eq!(props[2], ("DAV:".into(), "getcontenttype".into()));
        assert_eq!(parse_propfind("").unwrap(), Propfind::AllProp);
        assert_eq!(
            parse_propfind(r#"<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>"#)
                .unwrap(),
            Propfind::AllProp
        );
        assert_eq!(
            parse_propfind(r#"<propfind xmlns="DAV:"><propname/></propfind>"#).unwrap(),
            Propfind::PropName
        );
        assert!(parse_propfind("<d:propfind xmlns:d=\"DAV:\"><d:prop>").is_err());
        assert!(parse_propfind("<html/>").is_err());
        assert!(parse_propfind("not xml <<<").is_err());
    }

    #[test]
    fn records_are_told_apart() {
        let data: FilesInfo = serde_json::from_value(load("nc_filesinfo")).unwrap();
        let keys: Vec<_> = data.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["12", "7", "999"]);
        assert!(matches!(data.get("12"), Some(FileInfoRecord::Found(_))));
        assert_eq!(data.get("7").map(FileInfoRecord::statuscode), Some(403));
        assert_eq!(
            data.get("999"),
            Some(&FileInfoRecord::Status(FileInfoStatus::not_found()))
        );
    }
}
