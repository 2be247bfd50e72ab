//! File links (openproject-storages.md §10): visibility, the bulk create with its checks in
//! order, and the live status from Nextcloud's `filesinfo`.

use std::collections::HashMap;

use diesel::Connection;
use serde_json::Value;
use service_kit::db::serialized_transaction;
use storage_protocol::{
    file_links::{messages as msg, LinkStatus, MAX_ELEMENTS},
    files::{FileInfo, FileInfoRecord, FilesInfo},
    hal::{messages::property_format, ErrorId, HalError},
    openproject::API_BASE,
};

use super::{
    filters,
    host::{id_from_href, HostError},
    permissions::{Access, Permission},
    storages::visible_storages,
    work_packages::{find_visible as find_work_package, visible_links},
};
use crate::db::{
    file_links::{FileLink, NewFileLink, OriginRefresh, ProjectStorage},
    storages::Storage,
    users::User,
    work_packages::WorkPackage,
    Conn,
};

/// Read-then-write work on these rows runs one at a time across replicas ("LINK").
const FILE_LINKS_LOCK: i64 = 0x4c49_4e4b;

const MIME_TYPE_MAX: usize = 255;

/// A link with everything its representation names.
#[derive(Debug, Clone)]
pub struct Shown {
    pub link: FileLink,
    pub storage: Storage,
    pub container: WorkPackage,
    pub creator: Option<User>,
    pub can_manage: bool,
}

fn show(conn: &mut Conn, access: &Access, links: Vec<FileLink>) -> Result<Vec<Shown>, HostError> {
    let storages = Storage::all(conn)?;
    let containers = WorkPackage::find_many(
        conn,
        &links.iter().map(|l| l.container_id).collect::<Vec<_>>(),
    )?;
    let creators = User::find_many(
        conn,
        &links
            .iter()
            .filter_map(|l| l.creator_id)
            .collect::<Vec<_>>(),
    )?;
    Ok(links
        .into_iter()
        .filter_map(|link| {
            let container = containers
                .iter()
                .find(|w| w.id == link.container_id)?
                .clone();
            Some(Shown {
                storage: storages.iter().find(|s| s.id == link.storage_id)?.clone(),
                creator: link
                    .creator_id
                    .and_then(|id| creators.iter().find(|u| u.id == id).cloned()),
                can_manage: access.allowed(container.project_id, Permission::ManageFileLinks),
                container,
                link,
            })
        })
        .collect())
}

/// `GET /api/v3/work_packages/{id}/file_links`: visible links, oldest first, optionally of
/// some storages. An invisible work package is 404.
pub fn of_work_package(
    conn: &mut Conn,
    user: &User,
    wp_id: i64,
    storage_filter: Option<Vec<i64>>,
) -> Result<Vec<Shown>, HostError> {
    let (wp, access) = find_work_package(conn, user, wp_id)?;
    let project_storages = ProjectStorage::all(conn)?;
    let mut links = visible_links(
        FileLink::of_container(conn, wp.id)?,
        std::slice::from_ref(&wp),
        &project_storages,
        &access,
    );
    if let Some(ids) = storage_filter {
        links.retain(|l| ids.contains(&l.storage_id));
    }
    show(conn, &access, links)
}

/// A single visible link (§10.1), else 404.
pub fn find_visible(conn: &mut Conn, user: &User, id: i64) -> Result<Shown, HostError> {
    let access = Access::load(conn, user)?;
    let link = FileLink::find(conn, id)?.ok_or(HostError::NotFound)?;
    let containers = WorkPackage::find_many(conn, &[link.container_id])?;
    let project_storages = ProjectStorage::all(conn)?;
    let visible = visible_links(vec![link], &containers, &project_storages, &access);
    show(conn, &access, visible)?
        .pop()
        .ok_or(HostError::NotFound)
}

/// `DELETE /api/v3/file_links/{id}`: invisible → 404, without `manage_file_links` → 403.
pub fn delete(conn: &mut Conn, user: &User, id: i64) -> Result<(), HostError> {
    let shown = find_visible(conn, user, id)?;
    if !shown.can_manage {
        return Err(HostError::Forbidden);
    }
    FileLink::delete(conn, id)?;
    Ok(())
}

/// An ISO 8601 date-time of `originData`, as unix milliseconds.
fn origin_time(value: &Value, property: &str) -> Result<Option<i64>, HostError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.timestamp_millis()))
            .map_err(|_| format_error(property, s)),
        other => Err(format_error(property, &other.to_string())),
    }
}

fn format_error(property: &str, actual: &str) -> HostError {
    HostError::Hal(Box::new(HalError::new(
        ErrorId::PropertyFormatError,
        property_format(property, msg::DATE_TIME_FORMAT, actual),
    )))
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One element's storage, by `_links.storage.href` or `_links.storageUrl.href`.
enum StorageRef {
    Missing,
    Unknown,
    Found(Box<Storage>),
}

/// The element's storage: by `_links.storage` first, then `_links.storageUrl`; a blank href
/// names nothing (`Storage can't be blank.`), as in real OpenProject.
fn resolve_storage(element: &Value, visible: &[Storage]) -> StorageRef {
    let links = element.get("_links");
    let href = |name: &str| {
        links?
            .get(name)?
            .get("href")?
            .as_str()
            .filter(|h| !h.trim().is_empty())
            .map(str::to_string)
    };
    if let Some(href) = href("storage") {
        return id_from_href(&href, &format!("{API_BASE}/storages/"))
            .and_then(|id| visible.iter().find(|s| s.id == id).cloned())
            .map_or(StorageRef::Unknown, |s| StorageRef::Found(Box::new(s)));
    }
    if let Some(url) = href("storageUrl") {
        return visible
            .iter()
            .find(|s| filters::host_matches(&url, s.host.as_deref()))
            .cloned()
            .map_or(StorageRef::Unknown, |s| StorageRef::Found(Box::new(s)));
    }
    StorageRef::Missing
}

/// `POST /api/v3/work_packages/{id}/file_links`, checks in the order of §10.3; all elements in
/// one transaction, duplicates returning the existing link.
pub fn create(
    conn: &mut Conn,
    user: &User,
    wp_id: i64,
    body: &Value,
    now: i64,
) -> Result<Vec<Shown>, HostError> {
    serialized_transaction(conn, FILE_LINKS_LOCK, |conn| {
        let (wp, access) = find_work_package(conn, user, wp_id)?;
        let elements = elements_of(body)?;
        if !access.allowed(wp.project_id, Permission::ManageFileLinks) {
            return Err(HostError::Forbidden);
        }
        let target = Target {
            work_package: wp.id,
            creator: user.id,
            visible: visible_storages(conn, user)?,
            enabled: ProjectStorage::all(conn)?
                .into_iter()
                .filter(|ps| ps.project_id == wp.project_id)
                .map(|ps| ps.storage_id)
                .collect(),
            now,
        };
        let mut errors = Vec::new();
        let mut rows = Vec::new();
        for element in elements {
            rows.extend(target.row(element, &mut errors)?);
        }
        if !errors.is_empty() {
            return Err(HostError::Invalid(errors));
        }
        let mut links: Vec<FileLink> = Vec::new();
        for row in rows {
            let link = insert_or_find(conn, &row)?;
            if !links.iter().any(|l| l.id == link.id) {
                links.push(link);
            }
        }
        show(conn, &access, links)
    })
}

/// `_embedded.elements` of a file-link body, at most [`MAX_ELEMENTS`].
fn elements_of(body: &Value) -> Result<&Vec<Value>, HostError> {
    let Some(elements) = body
        .get("_embedded")
        .and_then(|e| e.get("elements"))
        .and_then(Value::as_array)
    else {
        return Err(HostError::Hal(Box::new(
            HalError::new(ErrorId::PropertyMissingError, msg::ELEMENTS_MISSING)
                .with_attribute("_embedded/elements"),
        )));
    };
    if elements.len() > MAX_ELEMENTS {
        return Err(HostError::Invalid(vec![HalError::violation(
            "_embedded/elements",
            msg::too_many(elements.len()),
        )]));
    }
    Ok(elements)
}

/// Where new file links go: a work package, the storages the creator sees and those enabled in
/// its project.
struct Target {
    work_package: i64,
    creator: i64,
    visible: Vec<Storage>,
    enabled: Vec<i64>,
    now: i64,
}

impl Target {
    /// The row one element asks for, its violations added to `errors` in the contract's order;
    /// `None` when its storage is not usable. A time that does not parse is the request's
    /// format, reported alone.
    fn row(
        &self,
        element: &Value,
        errors: &mut Vec<HalError>,
    ) -> Result<Option<NewFileLink>, HostError> {
        let origin = element.get("originData").unwrap_or(&Value::Null);
        let storage = match resolve_storage(element, &self.visible) {
            StorageRef::Missing => {
                errors.push(HalError::violation("storage", msg::STORAGE_BLANK));
                None
            }
            StorageRef::Unknown => {
                errors.push(HalError::violation("storage", msg::STORAGE_NOT_EXIST));
                None
            }
            StorageRef::Found(storage) if !self.enabled.contains(&storage.id) => {
                errors.push(HalError::violation("storage", msg::STORAGE_NOT_LINKED));
                None
            }
            StorageRef::Found(storage) => Some(*storage),
        };
        let origin_id = text(origin.get("id"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        if origin_id.is_empty() {
            errors.push(HalError::violation("originId", msg::ORIGIN_BLANK));
        }
        let name = text(origin.get("name")).unwrap_or_default();
        if name.trim().is_empty() {
            errors.push(HalError::violation("originName", msg::ORIGIN_NAME_BLANK));
        }
        let mime_type = text(origin.get("mimeType"));
        if mime_type
            .as_deref()
            .is_some_and(|m| m.chars().count() > MIME_TYPE_MAX)
        {
            errors.push(HalError::violation(
                "originMimeType",
                msg::ORIGIN_MIME_TYPE_TOO_LONG,
            ));
        }
        let created_at = origin_time(
            origin.get("createdAt").unwrap_or(&Value::Null),
            "originData.createdAt",
        )?;
        let updated_at = origin_time(
            origin.get("lastModifiedAt").unwrap_or(&Value::Null),
            "originData.lastModifiedAt",
        )?;
        Ok(storage.map(|storage| NewFileLink {
            storage_id: storage.id,
            container_id: self.work_package,
            origin_id,
            origin_name: name,
            origin_mime_type: mime_type,
            origin_created_at: created_at,
            origin_updated_at: updated_at,
            origin_created_by_name: text(origin.get("createdByName")),
            origin_last_modified_by_name: text(origin.get("lastModifiedByName")),
            creator_id: Some(self.creator),
            created_at: self.now,
            updated_at: self.now,
        }))
    }
}

/// The link `row` describes: the existing one, or a new one. A concurrent request may insert the
/// same link first; its row is then the answer.
fn insert_or_find(conn: &mut Conn, row: &NewFileLink) -> Result<FileLink, HostError> {
    let existing = |conn: &mut Conn| {
        FileLink::find_existing(conn, row.storage_id, row.container_id, &row.origin_id)
    };
    if let Some(link) = existing(conn)? {
        return Ok(link);
    }
    match conn.transaction(|conn| FileLink::insert(conn, row)) {
        Ok(link) => Ok(link),
        Err(e) if service_kit::db::is_unique_violation(&e) => {
            existing(conn)?.ok_or(HostError::Db(e))
        }
        Err(e) => Err(e.into()),
    }
}

/// The status of each link from one `filesinfo` answer per storage, and its origin data where
/// Nextcloud's differs from what is stored.
pub fn statuses_from(
    links: &[FileLink],
    answers: &HashMap<i64, Option<FilesInfo>>,
) -> Vec<(LinkStatus, Option<OriginRefresh>)> {
    links
        .iter()
        .map(|link| {
            let record = answers
                .get(&link.storage_id)
                .and_then(Option::as_ref)
                .and_then(|info| info.get(&link.origin_id));
            match record {
                None => (LinkStatus::Error, None),
                Some(FileInfoRecord::Found(info)) if info.statuscode == 200 => {
                    let refresh = refresh_from(info);
                    let changed = !refresh.is_stored_in(link);
                    (LinkStatus::ViewAllowed, changed.then_some(refresh))
                }
                Some(record) => (
                    LinkStatus::from_statuscode(i64::from(record.statuscode())),
                    None,
                ),
            }
        })
        .collect()
}

/// Nextcloud's current values; a `ctime` of 0 means unknown.
fn refresh_from(info: &FileInfo) -> OriginRefresh {
    let seconds = |s: i64| (s > 0).then_some(s * 1000);
    OriginRefresh {
        origin_name: info.name.clone(),
        origin_mime_type: Some(info.mimetype.clone()),
        origin_created_at: seconds(info.ctime),
        origin_updated_at: seconds(info.mtime),
        origin_created_by_name: Some(info.owner_name.clone()),
        origin_last_modified_by_name: info.modifier_name.clone(),
    }
}

/// Stores refreshed origin data (one transaction) and applies it to the links in memory.
pub fn apply_refresh(
    conn: &mut Conn,
    links: &mut [Shown],
    refreshes: &[Option<OriginRefresh>],
) -> diesel::QueryResult<()> {
    service_kit::db::write_transaction(conn, |conn| {
        for (shown, refresh) in links.iter().zip(refreshes) {
            if let Some(r) = refresh {
                FileLink::refresh_origin(conn, shown.link.id, r)?;
            }
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    for (shown, refresh) in links.iter_mut().zip(refreshes) {
        let Some(r) = refresh else { continue };
        shown.link.origin_name = r.origin_name.clone();
        shown.link.origin_mime_type = r.origin_mime_type.clone();
        shown.link.origin_created_at = r.origin_created_at;
        shown.link.origin_updated_at = r.origin_updated_at;
        shown.link.origin_created_by_name = r.origin_created_by_name.clone();
        shown.link.origin_last_modified_by_name = r.origin_last_modified_by_name.clone();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(storage_id: i64, origin: &str) -> FileLink {
        FileLink {
            id: 1,
            storage_id,
            container_id: 1,
            origin_id: origin.into(),
            origin_name: "old".into(),
            origin_mime_type: None,
            origin_created_at: None,
            origin_updated_at: None,
            origin_created_by_name: None,
            origin_last_modified_by_name: None,
            creator_id: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn blank_storage_hrefs_name_nothing() {
        let element = |links: Value| serde_json::json!({"_links": links});
        for links in [
            serde_json::json!({"storageUrl": {"href": ""}}),
            serde_json::json!({"storageUrl": {"href": "  "}}),
            serde_json::json!({"storageUrl": {"href": null}}),
            serde_json::json!({"storage": {"href": ""}}),
            serde_json::json!({}),
        ] {
            assert!(matches!(
                resolve_storage(&element(links), &[]),
                StorageRef::Missing
            ));
        }
        assert!(matches!(
            resolve_storage(
                &element(serde_json::json!({"storageUrl": {"href": "https://nc.example.com"}})),
                &[]
            ),
            StorageRef::Unknown
        ));
    }

    #[test]
    fn statuses_by_record() {
        let info: FilesInfo =
            serde_json::from_value(storage_protocol::fixtures::load("op_nc_filesinfo")).unwrap();
        let answers = HashMap::from([(1, Some(info)), (2, None)]);
        let links = [
            link(1, "123"),
            link(1, "124"),
            link(1, "125"),
            link(1, "126"),
            link(2, "123"),
        ];
        let result = statuses_from(&links, &answers);
        let statuses: Vec<LinkStatus> = result.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            statuses,
            [
                LinkStatus::ViewAllowed,
                LinkStatus::ViewNotAllowed,
                LinkStatus::NotFound,
                LinkStatus::Error,
                LinkStatus::Error
            ]
        );
        let refreshed = result[0].1.as_ref().unwrap();
        assert_eq!(refreshed.origin_name, "plan.pdf");
        assert_eq!(refreshed.origin_updated_at, Some(1_704_189_600_000));
        assert_eq!(refreshed.origin_created_at, None, "ctime 0 is unknown");
        assert_eq!(
            refreshed.origin_last_modified_by_name.as_deref(),
            Some("Bob")
        );

        // Once stored, the same answer refreshes nothing: reads do not write.
        let mut current = link(1, "123");
        current.origin_name = refreshed.origin_name.clone();
        current.origin_mime_type = refreshed.origin_mime_type.clone();
        current.origin_created_at = refreshed.origin_created_at;
        current.origin_updated_at = refreshed.origin_updated_at;
        current.origin_created_by_name = refreshed.origin_created_by_name.clone();
        current.origin_last_modified_by_name = refreshed.origin_last_modified_by_name.clone();
        let again = statuses_from(std::slice::from_ref(&current), &answers);
        assert_eq!(again[0].0, LinkStatus::ViewAllowed);
        assert!(again[0].1.is_none());
    }
}
