//! Work packages and notifications (openproject-storages.md §5): write bodies with their rules,
//! optimistic locking, the list filters, and the `assigned` notification rule.

use serde_json::Value;
use service_kit::db::serialized_transaction;
use storage_protocol::{
    hal::{messages as hal_messages, ErrorId, HalError},
    openproject::API_BASE,
    work_packages::{messages as msg, REASON_ASSIGNED},
};

use super::{
    filters::{self, Filter},
    host::{href_of, id_from_href, HostError},
    permissions::{Access, Permission},
    projects::ProjectView,
};
use crate::db::{
    file_links::{FileLink, ProjectStorage},
    projects::{Membership, Project},
    storages::Storage,
    users::User,
    work_packages::{Enumerations, NewNotification, Notification, WorkPackage, WorkPackageRecord},
    Conn,
};

/// Read-then-write work on these rows runs one at a time across replicas ("WKPG").
const WORK_PACKAGES_LOCK: i64 = 0x574b_5047;

const SUBJECT_MAX: usize = 255;

pub const LIST_FILTERS: &[(&str, &[&str])] = &[
    ("id", &["="]),
    ("project", &["="]),
    ("status", &["o", "c", "="]),
    ("assignee", &["="]),
    ("typeahead", &["**"]),
    ("file_link_origin_id", &["="]),
    ("storage_id", &["="]),
    ("storage_url", &["="]),
    ("linkable_to_storage_id", &["="]),
    ("linkable_to_storage_url", &["="]),
];

pub const AVAILABLE_PROJECTS_FILTERS: &[(&str, &[&str])] = &[
    ("typeahead", &["**"]),
    ("storageId", &["="]),
    ("storageUrl", &["="]),
    ("userAction", &["&=", "="]),
];

/// A link property of a write body: absent, `{href: null}`, or an href.
#[derive(Debug, Clone, PartialEq)]
enum LinkValue {
    Absent,
    Null,
    Href(String),
    Invalid,
}

fn link_value(body: &Value, name: &str) -> LinkValue {
    let Some(link) = body.get("_links").and_then(|l| l.get(name)) else {
        return LinkValue::Absent;
    };
    match link.get("href") {
        _ if link.is_null() => LinkValue::Null,
        None | Some(Value::Null) => LinkValue::Null,
        Some(Value::String(href)) => LinkValue::Href(href.clone()),
        Some(_) => LinkValue::Invalid,
    }
}

/// A date property: absent, null, or `YYYY-MM-DD`.
fn date_value(body: &Value, key: &str) -> Result<Option<Option<String>>, ()> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => {
            Ok(Some(Some(s.clone())))
        }
        Some(_) => Err(()),
    }
}

/// Applies a write body to `base` (the current record, or the defaults); any failed rule fails.
fn apply(
    conn: &mut Conn,
    body: &Value,
    base: WorkPackageRecord,
    enumerations: &Enumerations,
) -> Result<WorkPackageRecord, HostError> {
    let (record, errors) = validate(conn, body, base, enumerations)?;
    if errors.is_empty() {
        Ok(record)
    } else {
        Err(HostError::Invalid(errors))
    }
}

/// Applies a write body to `record`, keeping what a failed rule would have changed, and
/// collects every failed rule in the order of §5.2.
fn validate(
    conn: &mut Conn,
    body: &Value,
    mut record: WorkPackageRecord,
    enumerations: &Enumerations,
) -> Result<(WorkPackageRecord, Vec<HalError>), HostError> {
    let mut errors = Vec::new();
    match body.get("subject") {
        None => {}
        Some(Value::String(s)) => record.subject = s.trim().to_string(),
        Some(_) => record.subject = String::new(),
    }
    if record.subject.is_empty() {
        errors.push(HalError::violation("subject", msg::SUBJECT_BLANK));
    } else if record.subject.chars().count() > SUBJECT_MAX {
        errors.push(HalError::violation("subject", msg::SUBJECT_TOO_LONG));
    }
    if let Some(raw) = body
        .get("description")
        .and_then(|d| d.get("raw"))
        .and_then(Value::as_str)
    {
        record.description = raw.to_string();
    }
    apply_assignee(conn, body, &mut record, &mut errors)?;
    apply_enumerations(body, enumerations, &mut record, &mut errors);
    match date_value(body, "startDate") {
        Ok(Some(date)) => record.start_date = date,
        Ok(None) => {}
        Err(()) => errors.push(HalError::violation("startDate", msg::START_DATE_INVALID)),
    }
    match date_value(body, "dueDate") {
        Ok(Some(date)) => record.due_date = date,
        Ok(None) => {}
        Err(()) => errors.push(HalError::violation("dueDate", msg::DUE_DATE_INVALID)),
    }
    Ok((record, errors))
}

/// `_links.assignee`: `null` unassigns; a user must be able to see the project's work packages.
fn apply_assignee(
    conn: &mut Conn,
    body: &Value,
    record: &mut WorkPackageRecord,
    errors: &mut Vec<HalError>,
) -> Result<(), HostError> {
    match link_value(body, "assignee") {
        LinkValue::Absent => {}
        LinkValue::Null => record.assignee_id = None,
        LinkValue::Href(href) => {
            let assignee = id_from_href(&href, &format!("{API_BASE}/users/"))
                .map(|id| User::find(conn, id))
                .transpose()?
                .flatten();
            let allowed = match &assignee {
                Some(user) => Access::load(conn, user)?
                    .allowed(record.project_id, Permission::ViewWorkPackages),
                None => false,
            };
            match assignee {
                Some(user) if allowed => record.assignee_id = Some(user.id),
                _ => errors.push(HalError::violation("assignee", msg::ASSIGNEE_INVALID)),
            }
        }
        LinkValue::Invalid => errors.push(HalError::violation("assignee", msg::ASSIGNEE_INVALID)),
    }
    Ok(())
}

/// `_links.type`, `status` and `priority`: each must name a known one; none may be `null`.
fn apply_enumerations(
    body: &Value,
    enumerations: &Enumerations,
    record: &mut WorkPackageRecord,
    errors: &mut Vec<HalError>,
) {
    let mut enumerated =
        |name: &str, prefix: &str, message: &str, known: &dyn Fn(i64) -> bool| match link_value(
            body, name,
        ) {
            LinkValue::Absent => None,
            LinkValue::Href(href) => match id_from_href(&href, &format!("{API_BASE}/{prefix}/")) {
                Some(id) if known(id) => Some(id),
                _ => {
                    errors.push(HalError::violation(name, message));
                    None
                }
            },
            LinkValue::Null | LinkValue::Invalid => {
                errors.push(HalError::violation(name, message));
                None
            }
        };
    if let Some(id) = enumerated("type", "types", msg::TYPE_INVALID, &|id| {
        enumerations.type_(id).is_some()
    }) {
        record.type_id = id;
    }
    if let Some(id) = enumerated("status", "statuses", msg::STATUS_INVALID, &|id| {
        enumerations.status(id).is_some()
    }) {
        record.status_id = id;
    }
    if let Some(id) = enumerated("priority", "priorities", msg::PRIORITY_INVALID, &|id| {
        enumerations.priority(id).is_some()
    }) {
        record.priority_id = id;
    }
}

/// The `assigned` notification when a work package gets an assignee other than the actor.
fn notify_assignee(
    conn: &mut Conn,
    wp: &WorkPackage,
    previous_assignee: Option<i64>,
    actor_id: i64,
    now: i64,
) -> diesel::QueryResult<()> {
    let Some(assignee) = wp.assignee_id else {
        return Ok(());
    };
    if Some(assignee) == previous_assignee || assignee == actor_id {
        return Ok(());
    }
    Notification::insert(
        conn,
        &NewNotification {
            recipient_id: assignee,
            actor_id: Some(actor_id),
            project_id: wp.project_id,
            resource_id: wp.id,
            reason: REASON_ASSIGNED,
            read_ian: false,
            created_at: now,
            updated_at: now,
        },
    )?;
    Ok(())
}

/// A new work package of `author_id` in the project, with the default type, status and
/// priority.
fn new_record(
    project_id: i64,
    author_id: i64,
    enumerations: &Enumerations,
    now: i64,
) -> WorkPackageRecord {
    fn default(ids: impl Iterator<Item = (i64, bool)>) -> i64 {
        let ids: Vec<(i64, bool)> = ids.collect();
        ids.iter()
            .find(|(_, d)| *d)
            .or(ids.first())
            .map_or(0, |(id, _)| *id)
    }
    WorkPackageRecord {
        project_id,
        subject: String::new(),
        description: String::new(),
        start_date: None,
        due_date: None,
        type_id: default(enumerations.types.iter().map(|t| (t.id, t.is_default))),
        status_id: default(enumerations.statuses.iter().map(|s| (s.id, s.is_default))),
        priority_id: default(enumerations.priorities.iter().map(|p| (p.id, p.is_default))),
        author_id: Some(author_id),
        assignee_id: None,
        lock_version: 0,
        created_at: now,
        updated_at: now,
    }
}

/// What the work-package form shows: the record the body would create, and what fails.
pub struct FormOutcome {
    pub project: Project,
    pub record: WorkPackageRecord,
    pub errors: Vec<HalError>,
    pub enumerations: Enumerations,
}

/// `POST /api/v3/projects/{id}/work_packages/form` (Tier 2): validates without writing.
pub fn form(
    conn: &mut Conn,
    user: &User,
    raw_project: &str,
    body: &Value,
    now: i64,
) -> Result<FormOutcome, HostError> {
    let (project, access) = super::projects::find_visible(conn, user, raw_project)?;
    if !access.allowed(project.id, Permission::AddWorkPackages) {
        return Err(HostError::Forbidden);
    }
    let enumerations = Enumerations::load(conn)?;
    let base = new_record(project.id, user.id, &enumerations, now);
    let (record, errors) = validate(conn, body, base, &enumerations)?;
    Ok(FormOutcome {
        project,
        record,
        errors,
        enumerations,
    })
}

/// `GET /api/v3/projects/{id}/available_assignees` (Tier 2): for those who may add or edit work
/// packages there, every user who may be assigned (holds `view_work_packages`: members by
/// their roles, and admins), by id.
pub fn available_assignees(
    conn: &mut Conn,
    user: &User,
    raw_project: &str,
) -> Result<Vec<User>, HostError> {
    let (project, access) = super::projects::find_visible(conn, user, raw_project)?;
    if !access.allowed(project.id, Permission::AddWorkPackages)
        && !access.allowed(project.id, Permission::EditWorkPackages)
    {
        return Err(HostError::Forbidden);
    }
    let mut ids: Vec<i64> = Membership::of_projects(conn, &[project.id])?
        .iter()
        .map(|m| m.user_id)
        .collect();
    ids.extend(User::active_admin_ids(conn)?);
    ids.sort_unstable();
    ids.dedup();
    let mut assignable = Vec::new();
    for candidate in User::find_many(conn, &ids)? {
        if Access::load(conn, &candidate)?.allowed(project.id, Permission::ViewWorkPackages) {
            assignable.push(candidate);
        }
    }
    assignable.sort_by_key(|u| u.id);
    Ok(assignable)
}

/// Where a create names its project: the path, or `_links.project` of the body.
pub enum ProjectRef {
    Path(String),
    Body,
}

/// `POST /api/v3/work_packages` or `/api/v3/projects/{id}/work_packages`.
pub fn create(
    conn: &mut Conn,
    user: &User,
    project: ProjectRef,
    body: &Value,
    now: i64,
) -> Result<WorkPackage, HostError> {
    serialized_transaction(conn, WORK_PACKAGES_LOCK, |conn| {
        let access = Access::load(conn, user)?;
        let project = match project {
            ProjectRef::Path(raw) => super::projects::find_visible(conn, user, &raw)?.0,
            ProjectRef::Body => href_of(body, "project")
                .and_then(|h| id_from_href(h, &format!("{API_BASE}/projects/")))
                .filter(|id| access.sees_project(*id))
                .map(|id| Project::find(conn, id))
                .transpose()?
                .flatten()
                .ok_or_else(|| {
                    HostError::Invalid(vec![HalError::violation("project", msg::PROJECT_BLANK)])
                })?,
        };
        if !access.allowed(project.id, Permission::AddWorkPackages) {
            return Err(HostError::Forbidden);
        }
        let enumerations = Enumerations::load(conn)?;
        let base = new_record(project.id, user.id, &enumerations, now);
        let record = apply(conn, body, base, &enumerations)?;
        let wp = WorkPackage::insert(conn, &record)?;
        notify_assignee(conn, &wp, None, user.id, now)?;
        Ok(wp)
    })
}

/// A work package the user sees (`view_work_packages`), else 404.
pub fn find_visible(
    conn: &mut Conn,
    user: &User,
    id: i64,
) -> Result<(WorkPackage, Access), HostError> {
    let access = Access::load(conn, user)?;
    let wp = WorkPackage::find(conn, id)?
        .filter(|wp| access.allowed(wp.project_id, Permission::ViewWorkPackages))
        .ok_or(HostError::NotFound)?;
    Ok((wp, access))
}

/// `PATCH /api/v3/work_packages/{id}` with the current `lockVersion`.
pub fn update(
    conn: &mut Conn,
    user: &User,
    id: i64,
    body: &Value,
    now: i64,
) -> Result<WorkPackage, HostError> {
    serialized_transaction(conn, WORK_PACKAGES_LOCK, |conn| {
        let (wp, access) = find_visible(conn, user, id)?;
        if !access.allowed(wp.project_id, Permission::EditWorkPackages) {
            return Err(HostError::Forbidden);
        }
        let conflict = || HostError::Hal(Box::new(HalError::of(ErrorId::UpdateConflict)));
        let lock_version = body
            .get("lockVersion")
            .and_then(Value::as_i64)
            .ok_or_else(conflict)?;
        if lock_version != wp.lock_version {
            return Err(conflict());
        }
        let enumerations = Enumerations::load(conn)?;
        let base = WorkPackageRecord {
            project_id: wp.project_id,
            subject: wp.subject.clone(),
            description: wp.description.clone(),
            start_date: wp.start_date.clone(),
            due_date: wp.due_date.clone(),
            type_id: wp.type_id,
            status_id: wp.status_id,
            priority_id: wp.priority_id,
            author_id: wp.author_id,
            assignee_id: wp.assignee_id,
            lock_version: wp.lock_version + 1,
            created_at: wp.created_at,
            updated_at: now,
        };
        let record = apply(conn, body, base, &enumerations)?;
        let updated = WorkPackage::update_locked(conn, wp.id, wp.lock_version, &record)?
            .ok_or_else(conflict)?;
        notify_assignee(conn, &updated, wp.assignee_id, user.id, now)?;
        Ok(updated)
    })
}

/// File links the user sees (§10.1): work package visible, `view_file_links` in its project,
/// the storage enabled there.
pub fn visible_links(
    links: Vec<FileLink>,
    work_packages: &[WorkPackage],
    project_storages: &[ProjectStorage],
    access: &Access,
) -> Vec<FileLink> {
    links
        .into_iter()
        .filter(|link| {
            work_packages
                .iter()
                .find(|wp| wp.id == link.container_id)
                .is_some_and(|wp| {
                    access.allowed(wp.project_id, Permission::ViewWorkPackages)
                        && access.allowed(wp.project_id, Permission::ViewFileLinks)
                        && project_storages.iter().any(|ps| {
                            ps.project_id == wp.project_id && ps.storage_id == link.storage_id
                        })
                })
        })
        .collect()
}

/// A sort key of `sortBy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Id,
    Subject,
    CreatedAt,
    UpdatedAt,
}

/// `sortBy`: `[[field, "asc"|"desc"], …]`, default `[["id","asc"]]`.
pub fn parse_sort(raw: Option<&str>) -> Result<Vec<(SortField, bool)>, HostError> {
    let Some(raw) = raw else {
        return Ok(vec![(SortField::Id, true)]);
    };
    let parsed: Vec<Vec<String>> =
        serde_json::from_str(raw).map_err(|_| HostError::InvalidQuery)?;
    parsed
        .into_iter()
        .map(|pair| {
            let [field, direction] = pair.as_slice() else {
                return Err(HostError::InvalidQuery);
            };
            let field = match field.as_str() {
                "id" => SortField::Id,
                "subject" => SortField::Subject,
                "createdAt" | "created_at" => SortField::CreatedAt,
                "updatedAt" | "updated_at" => SortField::UpdatedAt,
                _ => return Err(HostError::InvalidQuery),
            };
            match direction.as_str() {
                "asc" => Ok((field, true)),
                "desc" => Ok((field, false)),
                _ => Err(HostError::InvalidQuery),
            }
        })
        .collect()
}

/// The work packages the user sees matching the filters (§5.2), sorted.
pub fn list(
    conn: &mut Conn,
    user: &User,
    only_project: Option<i64>,
    filters: &[Filter],
    sort: &[(SortField, bool)],
) -> Result<(Vec<WorkPackage>, Access), HostError> {
    let access = Access::load(conn, user)?;
    let mut projects = access.projects_with(Permission::ViewWorkPackages);
    if let Some(project) = only_project {
        projects.retain(|p| *p == project);
    }
    let mut wps = WorkPackage::in_projects(conn, &projects)?;
    let needs_links = filters.iter().any(|f| {
        matches!(
            f.name.as_str(),
            "file_link_origin_id" | "storage_id" | "storage_url"
        )
    });
    let project_storages = ProjectStorage::all(conn)?;
    let links = if needs_links {
        visible_links(FileLink::all(conn)?, &wps, &project_storages, &access)
    } else {
        Vec::new()
    };
    let context = FilterContext {
        user,
        enumerations: Enumerations::load(conn)?,
        storages: Storage::all(conn)?,
        project_storages,
        links,
        access,
    };
    for f in filters {
        context.apply(f, &mut wps);
    }
    sort_work_packages(&mut wps, sort);
    Ok((wps, context.access))
}

/// What the list filters read besides the work packages themselves.
struct FilterContext<'a> {
    user: &'a User,
    access: Access,
    enumerations: Enumerations,
    storages: Vec<Storage>,
    project_storages: Vec<ProjectStorage>,
    /// The visible file links, when a filter reads them.
    links: Vec<FileLink>,
}

impl FilterContext<'_> {
    /// Keeps the work packages that pass `f`.
    fn apply(&self, f: &Filter, wps: &mut Vec<WorkPackage>) {
        match f.name.as_str() {
            "id" => {
                let ids = filters::ids(&f.values);
                wps.retain(|wp| ids.contains(&wp.id));
            }
            "project" => {
                let ids = filters::ids(&f.values);
                wps.retain(|wp| ids.contains(&wp.project_id));
            }
            "status" => {
                let closed = |wp: &WorkPackage| {
                    self.enumerations
                        .status(wp.status_id)
                        .is_some_and(|s| s.is_closed)
                };
                match f.operator.as_str() {
                    "o" => wps.retain(|wp| !closed(wp)),
                    "c" => wps.retain(closed),
                    _ => {
                        let ids = filters::ids(&f.values);
                        wps.retain(|wp| ids.contains(&wp.status_id));
                    }
                }
            }
            "assignee" => {
                let ids: Vec<i64> = f
                    .values
                    .iter()
                    .filter_map(|v| {
                        if v == "me" {
                            Some(self.user.id)
                        } else {
                            v.parse().ok()
                        }
                    })
                    .collect();
                wps.retain(|wp| wp.assignee_id.is_some_and(|a| ids.contains(&a)));
            }
            "typeahead" => {
                let needles: Vec<String> =
                    f.values.iter().map(|v| v.trim().to_lowercase()).collect();
                wps.retain(|wp| {
                    needles.iter().all(|needle| {
                        wp.subject.to_lowercase().contains(needle.as_str())
                            || needle
                                .strip_prefix('#')
                                .unwrap_or(needle)
                                .parse::<i64>()
                                .is_ok_and(|id| id == wp.id)
                    })
                });
            }
            "file_link_origin_id" => wps.retain(|wp| {
                self.links
                    .iter()
                    .any(|l| l.container_id == wp.id && f.values.contains(&l.origin_id))
            }),
            "storage_id" | "storage_url" => {
                let ids = self.storage_ids(f);
                wps.retain(|wp| {
                    self.links
                        .iter()
                        .any(|l| l.container_id == wp.id && ids.contains(&l.storage_id))
                });
            }
            _ => {
                // linkable_to_storage_id / linkable_to_storage_url
                let ids = self.storage_ids(f);
                wps.retain(|wp| {
                    self.access
                        .allowed(wp.project_id, Permission::ManageFileLinks)
                        && self.project_storages.iter().any(|ps| {
                            ps.project_id == wp.project_id && ids.contains(&ps.storage_id)
                        })
                });
            }
        }
    }

    fn storage_ids(&self, f: &Filter) -> Vec<i64> {
        storages_named(f, f.name.ends_with("_url"), &self.storages)
    }
}

/// The storages a storage filter names: by host when `by_url`, else by id.
fn storages_named(f: &Filter, by_url: bool, storages: &[Storage]) -> Vec<i64> {
    if by_url {
        storages
            .iter()
            .filter(|s| {
                f.values
                    .iter()
                    .any(|v| filters::host_matches(v, s.host.as_deref()))
            })
            .map(|s| s.id)
            .collect()
    } else {
        filters::ids(&f.values)
    }
}

/// Sorts by the fields in order, then by id.
fn sort_work_packages(wps: &mut [WorkPackage], sort: &[(SortField, bool)]) {
    wps.sort_by(|a, b| {
        for (field, ascending) in sort {
            let ordering = match field {
                SortField::Id => a.id.cmp(&b.id),
                SortField::Subject => a.subject.to_lowercase().cmp(&b.subject.to_lowercase()),
                SortField::CreatedAt => a.created_at.cmp(&b.created_at),
                SortField::UpdatedAt => a.updated_at.cmp(&b.updated_at),
            };
            let ordering = if *ascending {
                ordering
            } else {
                ordering.reverse()
            };
            if ordering != std::cmp::Ordering::Equal {
                return ordering;
            }
        }
        a.id.cmp(&b.id)
    });
}

/// `GET /api/v3/work_packages/available_projects`: projects where the caller holds
/// `add_work_packages`, filtered, by name.
pub fn available_projects(
    conn: &mut Conn,
    user: &User,
    filters: &[Filter],
) -> Result<Vec<ProjectView>, HostError> {
    let access = Access::load(conn, user)?;
    let ids = access.projects_with(Permission::AddWorkPackages);
    let mut projects = Project::find_many(conn, &ids)?;
    let project_storages = ProjectStorage::all(conn)?;
    let storages = Storage::all(conn)?;
    for f in filters {
        match f.name.as_str() {
            "typeahead" => {
                let needles: Vec<String> = f.values.iter().map(|v| v.to_lowercase()).collect();
                projects.retain(|p| {
                    needles
                        .iter()
                        .all(|n| p.name.to_lowercase().contains(n.as_str()))
                });
            }
            "storageId" | "storageUrl" => {
                let storage_ids = storages_named(f, f.name == "storageUrl", &storages);
                projects.retain(|p| {
                    project_storages
                        .iter()
                        .any(|ps| ps.project_id == p.id && storage_ids.contains(&ps.storage_id))
                });
            }
            _ => {
                let wanted: Vec<Option<Permission>> = f
                    .values
                    .iter()
                    .map(|v| match v.as_str() {
                        "work_packages/read" => Some(Permission::ViewWorkPackages),
                        "work_packages/create" => Some(Permission::AddWorkPackages),
                        "work_packages/update" => Some(Permission::EditWorkPackages),
                        "file_links/view" => Some(Permission::ViewFileLinks),
                        "file_links/manage" => Some(Permission::ManageFileLinks),
                        _ => None,
                    })
                    .collect();
                let holds = |p: &Project, w: &Option<Permission>| {
                    w.is_some_and(|perm| access.allowed(p.id, perm))
                };
                if f.operator == "&=" {
                    projects.retain(|p| wanted.iter().all(|w| holds(p, w)));
                } else {
                    projects.retain(|p| wanted.iter().any(|w| holds(p, w)));
                }
            }
        }
    }
    projects.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.id.cmp(&b.id))
    });
    super::projects::views(conn, &access, projects)
}

pub const NOTIFICATION_FILTERS: &[(&str, &[&str])] = &[
    ("readIAN", &["="]),
    ("resourceId", &["="]),
    ("resourceType", &["="]),
    ("reason", &["="]),
    ("project", &["="]),
    ("id", &["="]),
];

/// Before marking notifications in bulk: every `resourceId` value must name a work package the
/// caller sees, else 400 `InvalidQuery` with the message array real OpenProject sends (a
/// success here would let Nextcloud report marking what was never marked).
pub fn check_resource_filters(
    conn: &mut Conn,
    user: &User,
    filters: &[Filter],
) -> Result<(), HostError> {
    let values: Vec<String> = filters
        .iter()
        .filter(|f| f.name == "resourceId")
        .flat_map(|f| f.values.iter().cloned())
        .collect();
    if values.is_empty() {
        return Ok(());
    }
    let access = Access::load(conn, user)?;
    let found = WorkPackage::find_many(conn, &filters::ids(&values))?;
    if resource_values_valid(&values, &found, &access) {
        Ok(())
    } else {
        Err(HostError::Hal(Box::new(HalError::new(
            ErrorId::InvalidQuery,
            vec![hal_messages::INVALID_RESOURCE_FILTER.to_string()],
        ))))
    }
}

/// Whether each value is the id of one of `found` that `access` may view.
fn resource_values_valid(values: &[String], found: &[WorkPackage], access: &Access) -> bool {
    values.iter().all(|v| {
        v.trim().parse::<i64>().is_ok_and(|id| {
            found
                .iter()
                .find(|wp| wp.id == id)
                .is_some_and(|wp| access.allowed(wp.project_id, Permission::ViewWorkPackages))
        })
    })
}

/// The caller's notifications matching the filters, newest first, while the caller sees the
/// work package.
pub fn notifications(
    conn: &mut Conn,
    user: &User,
    filters: &[Filter],
) -> Result<(Vec<Notification>, Vec<WorkPackage>), HostError> {
    let access = Access::load(conn, user)?;
    let mut all = Notification::of_recipient(conn, user.id)?;
    let wps = WorkPackage::find_many(conn, &all.iter().map(|n| n.resource_id).collect::<Vec<_>>())?;
    all.retain(|n| {
        wps.iter()
            .find(|wp| wp.id == n.resource_id)
            .is_some_and(|wp| access.allowed(wp.project_id, Permission::ViewWorkPackages))
    });
    for f in filters {
        let ids = filters::ids(&f.values);
        match f.name.as_str() {
            "readIAN" => {
                let wanted: Vec<bool> = f
                    .values
                    .iter()
                    .filter_map(|v| match v.as_str() {
                        "t" | "true" => Some(true),
                        "f" | "false" => Some(false),
                        _ => None,
                    })
                    .collect();
                all.retain(|n| wanted.contains(&n.read_ian));
            }
            "resourceId" => all.retain(|n| ids.contains(&n.resource_id)),
            "resourceType" => {
                let work_packages = f.values.iter().any(|v| v == "WorkPackage");
                all.retain(|_| work_packages);
            }
            "reason" => all.retain(|n| f.values.contains(&n.reason)),
            "project" => all.retain(|n| ids.contains(&n.project_id)),
            _ => all.retain(|n| ids.contains(&n.id)),
        }
    }
    Ok((all, wps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_filter_values_must_name_visible_work_packages() {
        let wp = |id, project_id| WorkPackage {
            id,
            project_id,
            subject: String::new(),
            description: String::new(),
            start_date: None,
            due_date: None,
            type_id: 1,
            status_id: 1,
            priority_id: 1,
            author_id: None,
            assignee_id: None,
            lock_version: 0,
            created_at: 0,
            updated_at: 0,
        };
        let roles = std::collections::HashMap::from([(1, vec!["member".to_string()])]);
        let modules = [(1, "work_package_tracking".to_string())];
        let access = Access::compute(true, false, &[1], &modules, &roles);
        let found = [wp(10, 1), wp(11, 2)];
        let values = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(resource_values_valid(&values(&["10"]), &found, &access));
        assert!(resource_values_valid(&values(&[" 10 "]), &found, &access));
        assert!(!resource_values_valid(
            &values(&["10", "11"]),
            &found,
            &access
        ));
        assert!(!resource_values_valid(&values(&["12"]), &found, &access));
        assert!(!resource_values_valid(&values(&["x"]), &found, &access));
    }

    #[test]
    fn sorting() {
        assert_eq!(parse_sort(None).unwrap(), vec![(SortField::Id, true)]);
        assert_eq!(
            parse_sort(Some(r#"[["updatedAt","desc"]]"#)).unwrap(),
            vec![(SortField::UpdatedAt, false)]
        );
        assert!(parse_sort(Some(r#"[["nope","asc"]]"#)).is_err());
        assert!(parse_sort(Some(r#"[["id","up"]]"#)).is_err());
        assert!(parse_sort(Some("x")).is_err());
    }

    #[test]
    fn links_and_dates() {
        let body = serde_json::json!({"_links": {"assignee": {"href": null}, "type": {"href": "/api/v3/types/1"}},
                                      "startDate": "2024-02-30", "dueDate": null});
        assert_eq!(link_value(&body, "assignee"), LinkValue::Null);
        assert_eq!(
            link_value(&body, "type"),
            LinkValue::Href("/api/v3/types/1".into())
        );
        assert_eq!(link_value(&body, "status"), LinkValue::Absent);
        assert_eq!(date_value(&body, "startDate"), Err(()));
        assert_eq!(date_value(&body, "dueDate"), Ok(Some(None)));
    }
}
