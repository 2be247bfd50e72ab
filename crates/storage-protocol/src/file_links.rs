//! File links, storage files and the Nextcloud file-info records OpenProject reads
//! (openproject-storages.md §10–§12). The `filesinfo` records are [`crate::files`]'s.

use serde::{Deserialize, Serialize};

use crate::{
    hal::{Elements, Link},
    openproject::API_BASE,
};

pub const MAX_ELEMENTS: usize = 20;
/// Folders' mime type, as Nextcloud reports it.
pub use crate::files::MIME_DIRECTORY as DIRECTORY_MIME_TYPE;
pub const NO_LINK_PROVIDED: &str =
    "urn:openproject-org:api:v3:storages:storage_files:no_link_provided";

pub fn file_link_href(id: i64) -> String {
    format!("{API_BASE}/file_links/{id}")
}
pub fn file_links_of(work_package_id: i64) -> String {
    format!("{API_BASE}/work_packages/{work_package_id}/file_links")
}
pub fn storage_file_href(storage_id: i64, file_id: &str) -> String {
    format!("{API_BASE}/storages/{storage_id}/files/{file_id}")
}

/// The caller's permission on a linked file (§10.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStatus {
    ViewAllowed,
    ViewNotAllowed,
    NotFound,
    Error,
}

impl LinkStatus {
    pub fn link(self) -> Link {
        let (href, title) = match self {
            Self::ViewAllowed => (
                "urn:openproject-org:api:v3:file-links:permission:ViewAllowed",
                "View allowed",
            ),
            Self::ViewNotAllowed => (
                "urn:openproject-org:api:v3:file-links:permission:ViewNotAllowed",
                "View not allowed",
            ),
            Self::NotFound => (
                "urn:openproject-org:api:v3:file-links:NotFound",
                "Not found",
            ),
            Self::Error => ("urn:openproject-org:api:v3:file-links:Error", "Error"),
        };
        Link::titled(href, title)
    }

    /// A file-info record's `statuscode` (§10.2).
    pub fn from_statuscode(code: i64) -> Self {
        match code {
            200 => Self::ViewAllowed,
            403 => Self::ViewNotAllowed,
            404 => Self::NotFound,
            _ => Self::Error,
        }
    }
}

/// `originData` of a file link: the same body Nextcloud sends when it creates links.
pub use crate::files::OriginData;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileLinkLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    pub storage: Link,
    pub container: Link,
    pub creator: Link,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete: Option<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Link>,
    pub static_origin_open: Link,
    pub static_origin_open_location: Link,
    pub static_origin_download: Link,
}

/// `_type: "FileLink"` (§10.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileLink {
    #[serde(rename = "_type")]
    pub type_: String,
    pub id: i64,
    pub created_at: String,
    pub updated_at: String,
    pub origin_data: OriginData,
    #[serde(rename = "_links")]
    pub links: FileLinkLinks,
}

/// One element of `POST …/file_links` as a client sends it (§10.3). The service reads bodies
/// leniently so that every mistake gets its message; this is the well-formed shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileLinkWrite {
    pub origin_data: OriginData,
    #[serde(rename = "_links")]
    pub links: FileLinkWriteLinks,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileLinkWriteLinks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_url: Option<Link>,
}

/// `POST /api/v3/work_packages/{id}/file_links` as a client sends it: a collection of up to
/// [`MAX_ELEMENTS`] links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileLinksWrite {
    #[serde(rename = "_type")]
    pub type_: String,
    #[serde(rename = "_embedded")]
    pub embedded: Elements<FileLinkWrite>,
}

impl FileLinksWrite {
    pub fn new(elements: Vec<FileLinkWrite>) -> Self {
        Self {
            type_: "Collection".into(),
            embedded: Elements { elements },
        }
    }
}

/// Messages of file links (§10.3), in the order they are checked.
pub mod messages {
    pub const ELEMENTS_MISSING: &str = "Missing property '_embedded/elements'.";
    pub fn too_many(n: usize) -> String {
        format!("Too many elements created at once. Expected 20 at most, got {n}.")
    }
    pub const STORAGE_BLANK: &str = "Storage can't be blank.";
    pub const STORAGE_NOT_EXIST: &str = "Storage does not exist.";
    pub const STORAGE_NOT_LINKED: &str = "Storage is not linked to project.";
    pub const ORIGIN_BLANK: &str = "Origin can't be blank.";
    pub const ORIGIN_NAME_BLANK: &str = "Origin name can't be blank.";
    pub const ORIGIN_MIME_TYPE_TOO_LONG: &str =
        "Origin mime type is too long (maximum is 255 characters).";
    pub const DATE_TIME_FORMAT: &str = "ISO 8601 date and time";
    pub const STORAGE_UNREACHABLE: &str =
        "An internal error has occurred. The file storage could not be reached.";
}

/// `{name, location}` of an ancestor folder, with an id derived from its location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageFileLinks {
    #[serde(rename = "self")]
    pub self_: Link,
}

/// `_type: "StorageFile"` (§11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageFile {
    #[serde(rename = "_type")]
    pub type_: String,
    pub id: String,
    pub name: String,
    pub size: Option<u64>,
    pub mime_type: Option<String>,
    pub created_at: Option<String>,
    pub last_modified_at: Option<String>,
    pub created_by_name: Option<String>,
    pub last_modified_by_name: Option<String>,
    pub location: String,
    pub permissions: Vec<String>,
    #[serde(rename = "_links")]
    pub links: StorageFileLinks,
}

/// `_type: "StorageFiles"` (§11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageFiles {
    #[serde(rename = "_type")]
    pub type_: String,
    pub files: Vec<StorageFile>,
    pub parent: StorageFile,
    pub ancestors: Vec<StorageFile>,
    #[serde(rename = "_links")]
    pub links: StorageFileLinks,
}

/// DAV permission letters to StorageFile `permissions` (§11).
pub fn storage_permissions(dav: &str) -> Vec<String> {
    let mut out = Vec::new();
    if dav.contains('G') {
        out.push("readable".to_string());
    }
    if dav.contains('W') || (dav.contains('C') && dav.contains('K')) {
        out.push("writeable".to_string());
    }
    out
}

/// URLs of file calls under a Nextcloud host (normalised, ending in `/`).
pub mod nextcloud_file_urls {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');

    pub fn filesinfo(host: &str) -> String {
        format!("{host}ocs/v1.php/apps/integration_openproject/filesinfo")
    }
    pub fn fileinfo(host: &str, file_id: &str) -> String {
        format!(
            "{host}ocs/v1.php/apps/integration_openproject/fileinfo/{}",
            utf8_percent_encode(file_id, SEGMENT)
        )
    }
    pub fn direct(host: &str) -> String {
        format!("{host}ocs/v2.php/apps/dav/api/v1/direct")
    }
    /// `open` of a file or folder; `location` opens its folder instead (`openfile=0`).
    pub fn open_file(host: &str, file_id: &str, location: bool) -> String {
        format!(
            "{host}index.php/f/{}?openfile={}",
            utf8_percent_encode(file_id, SEGMENT),
            if location { 0 } else { 1 }
        )
    }
    /// `POST` here (as the user) for a direct upload token (nextcloud-openproject-app.md §10.1).
    pub fn direct_upload_token(host: &str) -> String {
        format!("{host}index.php/apps/integration_openproject/direct-upload-token")
    }
    /// The public link a browser posts the file to.
    pub fn direct_upload(host: &str, token: &str) -> String {
        format!(
            "{host}index.php/apps/integration_openproject/direct-upload/{}",
            utf8_percent_encode(token, SEGMENT)
        )
    }
    pub fn direct_download(host: &str, token: &str, file_name: &str) -> String {
        format!(
            "{host}index.php/apps/integration_openproject/direct/{}/{}",
            utf8_percent_encode(token, SEGMENT),
            utf8_percent_encode(file_name, SEGMENT)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::assert_round_trip;

    #[test]
    fn fixtures_round_trip() {
        assert_round_trip::<FileLink>("op_file_link");
        assert_round_trip::<FileLinkWrite>("op_file_link_write");
        assert_round_trip::<FileLinksWrite>("op_file_links_write");
        assert_round_trip::<StorageFiles>("op_storage_files");
        assert_round_trip::<crate::files::FilesInfo>("op_nc_filesinfo");
    }

    #[test]
    fn statuses_and_permissions() {
        assert_eq!(LinkStatus::from_statuscode(403), LinkStatus::ViewNotAllowed);
        assert_eq!(LinkStatus::from_statuscode(500), LinkStatus::Error);
        assert_eq!(
            storage_permissions("RGDNVCK"),
            vec!["readable", "writeable"]
        );
        assert_eq!(storage_permissions("RGD"), vec!["readable"]);
        assert_eq!(
            nextcloud_file_urls::direct_download("https://nc/", "tok", "a b.pdf"),
            "https://nc/index.php/apps/integration_openproject/direct/tok/a%20b.pdf"
        );
        assert_eq!(
            nextcloud_file_urls::direct_upload_token("https://nc/"),
            "https://nc/index.php/apps/integration_openproject/direct-upload-token"
        );
        assert_eq!(
            nextcloud_file_urls::direct_upload("https://nc/", "abc123"),
            "https://nc/index.php/apps/integration_openproject/direct-upload/abc123"
        );
        assert_eq!(
            nextcloud_file_urls::open_file("https://nc/", "12", true),
            "https://nc/index.php/f/12?openfile=0"
        );
    }
}
