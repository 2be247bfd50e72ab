//! Storage files (openproject-storages.md §11): a PROPFIND listing or a file-info record turned
//! into StorageFile(s).

use service_kit::time::iso8601_millis;
use storage_protocol::{
    dav::Entry,
    file_links::{
        storage_file_href, storage_permissions, StorageFile, StorageFileLinks, StorageFiles,
        DIRECTORY_MIME_TYPE, NO_LINK_PROVIDED,
    },
    files::FileInfo,
    hal::Link,
};

/// `parent` normalised: leading `/`, no trailing `/`, `/` for the root.
pub fn normalize_location(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    format!("/{}", segments.join("/"))
}

fn name_of(location: &str) -> String {
    match location.rsplit('/').next() {
        Some("") | None => "Root".to_string(),
        Some(name) => name.to_string(),
    }
}

/// A stable id for a folder known only by its location (ancestors).
fn location_id(location: &str) -> String {
    location.bytes().map(|b| format!("{b:02x}")).collect()
}

fn http_date_millis(value: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc2822(value)
        .ok()
        .map(|t| t.timestamp_millis())
}

fn file(storage_id: i64, id: String, location: String, fields: FileFields) -> StorageFile {
    let name = name_of(&location);
    StorageFile {
        type_: "StorageFile".into(),
        links: StorageFileLinks {
            self_: Link::titled(storage_file_href(storage_id, &id), name.clone()),
        },
        id,
        name,
        size: fields.size,
        mime_type: fields.mime_type,
        created_at: fields.created_at,
        last_modified_at: fields.last_modified_at,
        created_by_name: fields.created_by_name,
        last_modified_by_name: fields.last_modified_by_name,
        location,
        permissions: fields.permissions,
    }
}

#[derive(Default)]
struct FileFields {
    size: Option<u64>,
    mime_type: Option<String>,
    created_at: Option<String>,
    last_modified_at: Option<String>,
    created_by_name: Option<String>,
    last_modified_by_name: Option<String>,
    permissions: Vec<String>,
}

fn from_entry(storage_id: i64, dav_prefix: &str, entry: &Entry) -> StorageFile {
    let relative = entry.href.strip_prefix(dav_prefix).unwrap_or(&entry.href);
    let location = normalize_location(relative);
    let fields = FileFields {
        size: entry.size,
        mime_type: if entry.is_collection {
            Some(DIRECTORY_MIME_TYPE.to_string())
        } else {
            entry.content_type.clone()
        },
        created_at: None,
        last_modified_at: entry
            .last_modified
            .as_deref()
            .and_then(http_date_millis)
            .map(iso8601_millis),
        created_by_name: entry.owner_display_name.clone(),
        last_modified_by_name: None,
        permissions: entry
            .permissions
            .as_deref()
            .map(storage_permissions)
            .unwrap_or_default(),
    };
    let id = entry
        .file_id
        .clone()
        .unwrap_or_else(|| location_id(&location));
    file(storage_id, id, location, fields)
}

/// The listing of `parent`: the first entry is the folder itself, the rest its children in
/// Nextcloud's order. `dav_prefix` is the user's DAV root path (`/remote.php/dav/files/<user>`).
pub fn listing(
    storage_id: i64,
    dav_prefix: &str,
    parent: &str,
    entries: &[Entry],
) -> Option<StorageFiles> {
    let (first, children) = entries.split_first()?;
    let mut parent_file = from_entry(storage_id, dav_prefix, first);
    parent_file.location = normalize_location(parent);
    parent_file.name = name_of(&parent_file.location);
    let mut ancestors = Vec::new();
    let mut location = String::new();
    let segments: Vec<&str> = parent_file
        .location
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    for depth in 0..segments.len() {
        let here = if depth == 0 {
            "/".to_string()
        } else {
            location.push('/');
            location.push_str(segments[depth - 1]);
            location.clone()
        };
        ancestors.push(file(
            storage_id,
            location_id(&here),
            here,
            FileFields {
                mime_type: Some(DIRECTORY_MIME_TYPE.to_string()),
                ..FileFields::default()
            },
        ));
    }
    Some(StorageFiles {
        type_: "StorageFiles".into(),
        files: children
            .iter()
            .map(|e| from_entry(storage_id, dav_prefix, e))
            .collect(),
        parent: parent_file,
        ancestors,
        links: StorageFileLinks {
            self_: Link::to(NO_LINK_PROVIDED),
        },
    })
}

/// A StorageFile from a `fileinfo` record of an accessible file.
pub fn from_record(storage_id: i64, info: &FileInfo) -> StorageFile {
    let location = normalize_location(info.path.strip_prefix("files").unwrap_or(&info.path));
    let seconds = |s: i64| (s > 0).then(|| iso8601_millis(s * 1000));
    let mut shown = file(
        storage_id,
        info.id.to_string(),
        location,
        FileFields {
            size: u64::try_from(info.size).ok(),
            mime_type: Some(info.mimetype.clone()),
            created_at: seconds(info.ctime),
            last_modified_at: seconds(info.mtime),
            created_by_name: Some(info.owner_name.clone()),
            last_modified_by_name: info.modifier_name.clone(),
            permissions: storage_permissions(&info.dav_permissions),
        },
    );
    shown.name = info.name.clone();
    shown.links.self_.title = Some(info.name.clone());
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(href: &str, id: &str, collection: bool) -> Entry {
        Entry {
            href: href.into(),
            is_collection: collection,
            file_id: Some(id.into()),
            size: Some(1),
            content_type: (!collection).then(|| "text/plain".to_string()),
            last_modified: Some("Tue, 02 Jan 2024 10:00:00 GMT".into()),
            permissions: Some("RGDNVW".into()),
            owner_display_name: Some("Alice".into()),
        }
    }

    #[test]
    fn a_listing_with_its_ancestors() {
        let prefix = "/remote.php/dav/files/alice";
        let files = listing(
            1,
            prefix,
            "/A/B/",
            &[
                entry("/remote.php/dav/files/alice/A/B/", "7", true),
                entry("/remote.php/dav/files/alice/A/B/c d.txt", "8", false),
            ],
        )
        .unwrap();
        assert_eq!(files.parent.name, "B");
        assert_eq!(files.parent.location, "/A/B");
        assert_eq!(files.parent.mime_type.as_deref(), Some(DIRECTORY_MIME_TYPE));
        assert_eq!(files.files[0].location, "/A/B/c d.txt");
        assert_eq!(files.files[0].name, "c d.txt");
        assert_eq!(
            files.files[0].last_modified_at.as_deref(),
            Some("2024-01-02T10:00:00.000Z")
        );
        assert_eq!(files.files[0].permissions, ["readable", "writeable"]);
        let ancestors: Vec<(&str, &str)> = files
            .ancestors
            .iter()
            .map(|a| (a.name.as_str(), a.location.as_str()))
            .collect();
        assert_eq!(ancestors, [("Root", "/"), ("A", "/A")]);
        let root = listing(
            1,
            prefix,
            "/",
            &[entry("/remote.php/dav/files/alice/", "1", true)],
        )
        .unwrap();
        assert_eq!(root.parent.name, "Root");
        assert!(root.ancestors.is_empty());
    }

    #[test]
    fn records() {
        let info: storage_protocol::files::FilesInfo =
            serde_json::from_value(storage_protocol::fixtures::load("op_nc_filesinfo")).unwrap();
        let Some(storage_protocol::files::FileInfoRecord::Found(found)) = info.get("123") else {
            panic!("a found record");
        };
        let shown = from_record(1, found);
        assert_eq!(shown.location, "/plan.pdf");
        assert_eq!(shown.name, "plan.pdf");
        assert_eq!(shown.created_at, None);
        assert_eq!(shown.last_modified_by_name.as_deref(), Some("Bob"));
    }
}
