//! Rows of the host model and the integration's links to their wire types.

use service_kit::time::iso8601_millis;
use storage_protocol::{
    file_links::{self as fl, file_link_href, FileLink as WireFileLink, LinkStatus, OriginData},
    hal::Link,
    openproject::{user_href, API_BASE},
    projects::{
        self as pw, membership_href, project_href, project_storage_href, role_href, Formattable,
        AVAILABLE_MODULES,
    },
    storages::storage_href,
    work_packages::{
        self as ww, notification_href, priority_href, status_href, type_href, work_package_href,
    },
};

use crate::{
    db::{
        file_links::{FileLink, ProjectStorage},
        projects::{Membership, Project, Role},
        storages::Storage,
        users::User,
        work_packages::{Enumerations, Notification, Priority, Status, Type, WorkPackage},
    },
    domain::{projects::ProjectView, work_packages::FormOutcome},
};

fn user_link(user: Option<&User>) -> Link {
    user.map_or_else(Link::nothing, |u| Link::titled(user_href(u.id), u.name()))
}

pub fn project_link(project: &Project) -> Link {
    Link::titled(project_href(project.id), project.name.clone())
}

/// A project with `_links.storages` when the caller may see them.
pub fn project_view(view: &ProjectView) -> pw::Project {
    pw::Project {
        links: pw::ProjectLinks {
            storages: view.storages.as_ref().map(|storages| {
                storages
                    .iter()
                    .map(|s| Link::titled(storage_href(s.id), s.name.clone()))
                    .collect()
            }),
            ..project(&view.project).links
        },
        ..project(&view.project)
    }
}

pub fn project(project: &Project) -> pw::Project {
    pw::Project {
        type_: "Project".into(),
        id: project.id,
        identifier: project.identifier.clone(),
        name: project.name.clone(),
        active: true,
        public: false,
        description: Formattable::markdown(&project.description),
        created_at: iso8601_millis(project.created_at),
        updated_at: iso8601_millis(project.updated_at),
        links: pw::ProjectLinks {
            self_: project_link(project),
            parent: Link::nothing(),
            work_packages: Link::to(format!("{API_BASE}/projects/{}/work_packages", project.id)),
            storages: None,
        },
    }
}

pub fn project_modules(project: &Project, enabled: &[String]) -> pw::ProjectModules {
    let mut enabled: Vec<String> = enabled.to_vec();
    enabled.sort();
    pw::ProjectModules {
        type_: "ProjectModules".into(),
        enabled,
        available: AVAILABLE_MODULES.iter().map(|m| m.to_string()).collect(),
        links: pw::ProjectModulesLinks {
            self_: Link::to(format!("{API_BASE}/projects/{}/modules", project.id)),
            project: project_link(project),
        },
    }
}

pub fn role(role: &Role) -> pw::Role {
    pw::Role {
        type_: "Role".into(),
        id: role.id,
        name: role.name.clone(),
        links: pw::SelfLink {
            self_: Link::titled(role_href(role.id), role.name.clone()),
        },
    }
}

pub fn membership(
    membership: &Membership,
    project: &Project,
    principal: Option<&User>,
    roles: &[&Role],
) -> pw::Membership {
    pw::Membership {
        type_: "Membership".into(),
        id: membership.id,
        created_at: iso8601_millis(membership.created_at),
        updated_at: iso8601_millis(membership.updated_at),
        links: pw::MembershipLinks {
            self_: Link::to(membership_href(membership.id)),
            project: project_link(project),
            principal: user_link(principal),
            roles: roles
                .iter()
                .map(|r| Link::titled(role_href(r.id), r.name.clone()))
                .collect(),
        },
    }
}

pub fn status(status: &Status) -> ww::Status {
    ww::Status {
        type_: "Status".into(),
        id: status.id,
        name: status.name.clone(),
        is_closed: status.is_closed,
        is_default: status.is_default,
        color: status.color.clone(),
        position: status.position,
        is_readonly: status.is_readonly,
        default_done_ratio: status.default_done_ratio,
        links: ww::SelfLink {
            self_: Link::titled(status_href(status.id), status.name.clone()),
        },
    }
}

pub fn type_(t: &Type) -> ww::Type {
    ww::Type {
        type_: "Type".into(),
        id: t.id,
        name: t.name.clone(),
        color: t.color.clone(),
        position: t.position,
        is_default: t.is_default,
        is_milestone: t.is_milestone,
        created_at: iso8601_millis(t.created_at),
        updated_at: iso8601_millis(t.updated_at),
        links: ww::SelfLink {
            self_: Link::titled(type_href(t.id), t.name.clone()),
        },
    }
}

pub fn priority(p: &Priority) -> ww::Priority {
    ww::Priority {
        type_: "Priority".into(),
        id: p.id,
        name: p.name.clone(),
        position: p.position,
        is_default: p.is_default,
        is_active: p.is_active,
        links: ww::SelfLink {
            self_: Link::titled(priority_href(p.id), p.name.clone()),
        },
    }
}

/// What a work package's representation needs besides its row.
pub struct WorkPackageContext<'a> {
    pub project: &'a Project,
    pub enumerations: &'a Enumerations,
    pub author: Option<&'a User>,
    pub assignee: Option<&'a User>,
    pub can_manage_file_links: bool,
    pub can_edit: bool,
}

pub fn work_package(wp: &WorkPackage, cx: &WorkPackageContext<'_>) -> ww::WorkPackage {
    let enumerated = |href: String, name: Option<&String>| match name {
        Some(name) => Link::titled(href, name.clone()),
        None => Link::to(href),
    };
    let file_links = fl::file_links_of(wp.id);
    ww::WorkPackage {
        type_: "WorkPackage".into(),
        id: wp.id,
        lock_version: wp.lock_version,
        subject: wp.subject.clone(),
        description: Formattable::markdown(&wp.description),
        start_date: wp.start_date.clone(),
        due_date: wp.due_date.clone(),
        created_at: iso8601_millis(wp.created_at),
        updated_at: iso8601_millis(wp.updated_at),
        links: ww::WorkPackageLinks {
            self_: Link::titled(work_package_href(wp.id), wp.subject.clone()),
            project: project_link(cx.project),
            type_: enumerated(
                type_href(wp.type_id),
                cx.enumerations.type_(wp.type_id).map(|t| &t.name),
            ),
            status: enumerated(
                status_href(wp.status_id),
                cx.enumerations.status(wp.status_id).map(|s| &s.name),
            ),
            priority: enumerated(
                priority_href(wp.priority_id),
                cx.enumerations.priority(wp.priority_id).map(|p| &p.name),
            ),
            author: user_link(cx.author),
            assignee: user_link(cx.assignee),
            file_links: Link::to(file_links.clone()),
            add_file_link: cx
                .can_manage_file_links
                .then(|| Link::action(file_links, "post")),
            update: cx
                .can_edit
                .then(|| Link::action(work_package_href(wp.id), "patch")),
        },
        embedded: None,
    }
}

/// `_embedded` of a created work package: its type, status, priority and project, its author,
/// and its assignee when set, as `viewer` may see them.
pub fn work_package_embedded(
    wp: &WorkPackage,
    cx: &WorkPackageContext<'_>,
    project: &ProjectView,
    viewer: &User,
) -> Option<ww::WorkPackageEmbedded> {
    Some(ww::WorkPackageEmbedded {
        type_: type_(cx.enumerations.type_(wp.type_id)?),
        status: status(cx.enumerations.status(wp.status_id)?),
        priority: priority(cx.enumerations.priority(wp.priority_id)?),
        project: project_view(project),
        author: cx.author.map(|u| super::user(u, viewer)),
        assignee: cx.assignee.map(|u| super::user(u, viewer)),
    })
}

/// The work-package form (Tier 2, §5.2) for what `outcome` found.
pub fn work_package_form(outcome: &FormOutcome, assignee: Option<&User>) -> ww::WorkPackageForm {
    let record = &outcome.record;
    let enumerations = &outcome.enumerations;
    let project_id = outcome.project.id;
    let titled = |href: String, name: Option<&String>| match name {
        Some(name) => Link::titled(href, name.clone()),
        None => Link::to(href),
    };
    let field = |type_: &str, name: &str, required: bool, has_default: bool| ww::SchemaField {
        type_: type_.into(),
        name: name.into(),
        required,
        has_default,
        writable: true,
        links: None,
    };
    let with_values = |field: ww::SchemaField, values: ww::AllowedValues| ww::SchemaField {
        links: Some(ww::SchemaFieldLinks {
            allowed_values: values,
        }),
        ..field
    };
    let validation_errors =
        outcome
            .errors
            .iter()
            .fold(std::collections::BTreeMap::new(), |mut map, error| {
                if let Some(attribute) = error.attribute() {
                    map.entry(attribute.to_string())
                        .or_insert_with(|| error.clone());
                }
                map
            });
    let form_href = ww::work_package_form_href(project_id);
    ww::WorkPackageForm {
        type_: "Form".into(),
        embedded: ww::FormEmbedded {
            payload: ww::WorkPackagePayload {
                subject: record.subject.clone(),
                description: Formattable::markdown(&record.description),
                start_date: record.start_date.clone(),
                due_date: record.due_date.clone(),
                links: ww::PayloadLinks {
                    project: project_link(&outcome.project),
                    type_: titled(
                        type_href(record.type_id),
                        enumerations.type_(record.type_id).map(|t| &t.name),
                    ),
                    status: titled(
                        status_href(record.status_id),
                        enumerations.status(record.status_id).map(|s| &s.name),
                    ),
                    priority: titled(
                        priority_href(record.priority_id),
                        enumerations.priority(record.priority_id).map(|p| &p.name),
                    ),
                    assignee: user_link(assignee),
                },
            },
            schema: ww::WorkPackageSchema {
                type_: "Schema".into(),
                subject: field("String", "Subject", true, false),
                description: field("Formattable", "Description", false, false),
                start_date: field("Date", "Start date", false, false),
                due_date: field("Date", "Finish date", false, false),
                project: with_values(
                    field("Project", "Project", true, false),
                    ww::AllowedValues::Collection(Link::to(format!(
                        "{API_BASE}/work_packages/available_projects"
                    ))),
                ),
                work_package_type: with_values(
                    field("Type", "Type", true, true),
                    ww::AllowedValues::List(
                        enumerations
                            .types
                            .iter()
                            .map(|t| Link::titled(type_href(t.id), t.name.clone()))
                            .collect(),
                    ),
                ),
                status: with_values(
                    field("Status", "Status", true, true),
                    ww::AllowedValues::List(
                        enumerations
                            .statuses
                            .iter()
                            .map(|s| Link::titled(status_href(s.id), s.name.clone()))
                            .collect(),
                    ),
                ),
                priority: with_values(
                    field("Priority", "Priority", true, true),
                    ww::AllowedValues::List(
                        enumerations
                            .priorities
                            .iter()
                            .map(|p| Link::titled(priority_href(p.id), p.name.clone()))
                            .collect(),
                    ),
                ),
                assignee: with_values(
                    field("User", "Assignee", false, false),
                    ww::AllowedValues::Collection(Link::to(ww::available_assignees_href(
                        project_id,
                    ))),
                ),
            },
            validation_errors,
        },
        links: ww::FormLinks {
            self_: Link::action(form_href.clone(), "post"),
            validate: Link::action(form_href, "post"),
            commit: outcome
                .errors
                .is_empty()
                .then(|| Link::action(ww::work_packages_of_project(project_id), "post")),
        },
    }
}

pub fn notification(
    n: &Notification,
    project: &Project,
    actor: Option<&User>,
    resource: &WorkPackage,
) -> ww::Notification {
    let href = notification_href(n.id);
    ww::Notification {
        type_: "Notification".into(),
        id: n.id,
        reason: n.reason.clone(),
        read_ian: n.read_ian,
        created_at: iso8601_millis(n.created_at),
        updated_at: iso8601_millis(n.updated_at),
        links: ww::NotificationLinks {
            self_: Link::to(href.clone()),
            project: project_link(project),
            actor: user_link(actor),
            resource: Link::titled(work_package_href(resource.id), resource.subject.clone()),
            details: Vec::new(),
            read_ian: (!n.read_ian).then(|| Link::action(format!("{href}/read_ian"), "post")),
            unread_ian: n
                .read_ian
                .then(|| Link::action(format!("{href}/unread_ian"), "post")),
        },
    }
}

pub fn project_storage(
    ps: &ProjectStorage,
    project: &Project,
    storage: &Storage,
    creator: Option<&User>,
    can_read_files: bool,
) -> pw::ProjectStorage {
    let open = format!("{}/open", project_storage_href(ps.id));
    let show_open = ps.project_folder_mode != "automatic" || can_read_files;
    pw::ProjectStorage {
        type_: "ProjectStorage".into(),
        id: ps.id,
        project_folder_mode: ps.project_folder_mode.clone(),
        created_at: iso8601_millis(ps.created_at),
        updated_at: iso8601_millis(ps.updated_at),
        links: pw::ProjectStorageLinks {
            self_: Link::to(project_storage_href(ps.id)),
            storage: Link::titled(storage_href(storage.id), storage.name.clone()),
            project: project_link(project),
            creator: user_link(creator),
            project_folder: ps
                .project_folder_id
                .as_deref()
                .map(|folder| Link::to(fl::storage_file_href(storage.id, folder))),
            open: show_open.then(|| Link::to(open.clone())),
            open_with_connection_ensured: show_open.then(|| Link::to(open)),
        },
    }
}

pub fn file_link(
    link: &FileLink,
    storage: &Storage,
    container: &WorkPackage,
    creator: Option<&User>,
    can_manage: bool,
    status: Option<LinkStatus>,
) -> WireFileLink {
    let href = file_link_href(link.id);
    WireFileLink {
        type_: "FileLink".into(),
        id: link.id,
        created_at: iso8601_millis(link.created_at),
        updated_at: iso8601_millis(link.updated_at),
        origin_data: OriginData {
            id: link.origin_id.clone(),
            name: link.origin_name.clone(),
            mime_type: link.origin_mime_type.clone(),
            created_at: link.origin_created_at.map(iso8601_millis),
            last_modified_at: link.origin_updated_at.map(iso8601_millis),
            created_by_name: link.origin_created_by_name.clone(),
            last_modified_by_name: link.origin_last_modified_by_name.clone(),
        },
        links: fl::FileLinkLinks {
            self_: Link::titled(href.clone(), link.origin_name.clone()),
            storage: Link::titled(storage_href(storage.id), storage.name.clone()),
            container: Link::titled(work_package_href(container.id), container.subject.clone()),
            creator: user_link(creator),
            delete: can_manage.then(|| Link::action(href.clone(), "delete")),
            status: status.map(LinkStatus::link),
            static_origin_open: Link::to(format!("{href}/open")),
            static_origin_open_location: Link::to(format!("{href}/open?location=true")),
            static_origin_download: Link::to(format!("{href}/download")),
        },
    }
}
