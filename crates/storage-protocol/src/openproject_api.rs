//! The OpenProject API v3 calls the Nextcloud app makes for its users
//! (nextcloud-openproject-app.md §6): each a verb, a path and a query, with the filters the real
//! app sends. The Nextcloud side sends them with the user's token; the bodies it relays are
//! OpenProject's and its front end's own.

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }
}

/// One call: `path` is relative to the OpenProject URL (no trailing `/` on it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCall {
    pub verb: Verb,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
}

/// The work-package resources Nextcloud shows by id and caches (§6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Status,
    Type,
}

impl ApiCall {
    fn new(verb: Verb, path: String) -> Self {
        Self {
            verb,
            path,
            query: Vec::new(),
        }
    }

    fn with(mut self, key: &'static str, value: String) -> Self {
        self.query.push((key, value));
        self
    }

    /// `GET /api/v3/users/me`: who the token belongs to.
    pub fn me() -> Self {
        Self::new(Verb::Get, "/api/v3/users/me".into())
    }

    /// `GET /api/v3/configuration`.
    pub fn configuration() -> Self {
        Self::new(Verb::Get, "/api/v3/configuration".into())
    }

    /// `GET /api/v3/notifications`: every unread one, in one page.
    pub fn unread_notifications() -> Self {
        Self::new(Verb::Get, "/api/v3/notifications".into())
            .with("pageSize", "-1".into())
            .with("filters", filters::unread_notifications())
    }

    /// `POST /api/v3/notifications/read_ian` for one work package's notifications.
    pub fn mark_notifications_read(work_package: &str) -> Self {
        Self::new(Verb::Post, "/api/v3/notifications/read_ian".into())
            .with("filters", filters::work_package_notifications(work_package))
    }

    /// `GET /api/v3/work_packages` with `filters`, the most recently updated first.
    pub fn search_work_packages(filters: String) -> Self {
        Self::new(Verb::Get, "/api/v3/work_packages".into())
            .with("filters", filters)
            .with("sortBy", json!([["updatedAt", "desc"]]).to_string())
    }

    /// `GET /api/v3/work_packages/available_projects`: where the user may create work packages
    /// and link files, at most 100.
    pub fn available_projects(filters: String) -> Self {
        Self::new(Verb::Get, "/api/v3/work_packages/available_projects".into())
            .with("filters", filters)
            .with("pageSize", "100".into())
    }

    /// `GET /api/v3/work_packages/{id}/file_links`.
    pub fn file_links(work_package: &str) -> Self {
        Self::new(
            Verb::Get,
            format!("/api/v3/work_packages/{work_package}/file_links"),
        )
    }

    /// `POST /api/v3/work_packages/{id}/file_links` with a `FileLinkCollection` body.
    pub fn link_files(work_package: &str) -> Self {
        Self::new(
            Verb::Post,
            format!("/api/v3/work_packages/{work_package}/file_links"),
        )
    }

    /// `DELETE /api/v3/file_links/{id}`.
    pub fn delete_file_link(id: &str) -> Self {
        Self::new(Verb::Delete, format!("/api/v3/file_links/{id}"))
    }

    /// `POST /api/v3/projects/{id}/work_packages/form` (Tier 2).
    pub fn work_package_form(project: &str) -> Self {
        Self::new(
            Verb::Post,
            format!("/api/v3/projects/{project}/work_packages/form"),
        )
    }

    /// `GET /api/v3/projects/{id}/available_assignees` (Tier 2).
    pub fn available_assignees(project: &str) -> Self {
        Self::new(
            Verb::Get,
            format!("/api/v3/projects/{project}/available_assignees"),
        )
    }

    /// `POST /api/v3/work_packages` (Tier 2).
    pub fn create_work_package() -> Self {
        Self::new(Verb::Post, "/api/v3/work_packages".into())
    }

    /// `GET /api/v3/statuses/{id}` or `/api/v3/types/{id}`.
    pub fn resource(resource: Resource, id: &str) -> Self {
        let collection = match resource {
            Resource::Status => "statuses",
            Resource::Type => "types",
        };
        Self::new(Verb::Get, format!("/api/v3/{collection}/{id}"))
    }

    /// `GET /api/v3/users/{id}/avatar`.
    pub fn avatar(user: &str) -> Self {
        Self::new(Verb::Get, format!("/api/v3/users/{user}/avatar"))
    }
}

/// The `filters` query values of the calls above (JSON, as OpenProject reads them).
pub mod filters {
    use super::*;

    /// Unread notifications.
    pub fn unread_notifications() -> String {
        json!([{"readIAN": {"operator": "=", "values": ["f"]}}]).to_string()
    }

    /// One work package's notifications.
    pub fn work_package_notifications(work_package: &str) -> String {
        json!([{"resourceId": {"operator": "=", "values": [work_package]}}]).to_string()
    }

    /// The search filters `<F>` of §6, in the contract's order.
    pub fn search(
        file_id: Option<i64>,
        search_query: Option<&str>,
        smart_picker: bool,
        nc_url: &str,
    ) -> String {
        let mut filters = Vec::new();
        if let Some(id) = file_id {
            filters.push(
                json!({"file_link_origin_id": {"operator": "=", "values": [id.to_string()]}}),
            );
        }
        if let Some(query) = search_query {
            filters.push(json!({"typeahead": {"operator": "**", "values": [query]}}));
        }
        if !smart_picker {
            let encoded: String = url::form_urlencoded::byte_serialize(nc_url.as_bytes()).collect();
            filters
                .push(json!({"linkable_to_storage_url": {"operator": "=", "values": [encoded]}}));
        }
        Value::Array(filters).to_string()
    }

    /// The project filters `<P>` of §6.
    pub fn projects(search_query: Option<&str>, nc_url: &str) -> String {
        let mut filters = Vec::new();
        if let Some(query) = search_query {
            filters.push(json!({"typeahead": {"operator": "**", "values": [query]}}));
        }
        filters.push(json!({
            "storageUrl": {"operator": "=", "values": [nc_url]},
            "userAction": {"operator": "&=", "values": ["file_links/manage", "work_packages/create"]}
        }));
        Value::Array(filters).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_filters_in_the_contracts_order() {
        let search: Value = serde_json::from_str(&filters::search(
            Some(12),
            Some("road"),
            false,
            "http://nc:8081",
        ))
        .unwrap();
        assert_eq!(
            search,
            json!([
                {"file_link_origin_id": {"operator": "=", "values": ["12"]}},
                {"typeahead": {"operator": "**", "values": ["road"]}},
                {"linkable_to_storage_url": {"operator": "=", "values": ["http%3A%2F%2Fnc%3A8081"]}}
            ])
        );
        assert_eq!(filters::search(None, None, true, "x"), "[]");
        let projects: Value = serde_json::from_str(&filters::projects(None, "http://nc")).unwrap();
        assert_eq!(projects.as_array().unwrap().len(), 1);
        assert_eq!(projects[0]["storageUrl"]["values"][0], "http://nc");
    }

    #[test]
    fn calls_name_their_paths_and_queries() {
        let unread = ApiCall::unread_notifications();
        assert_eq!(
            (unread.verb, unread.path.as_str()),
            (Verb::Get, "/api/v3/notifications")
        );
        assert_eq!(unread.query[0], ("pageSize", "-1".to_string()));
        assert_eq!(
            ApiCall::resource(Resource::Type, "3").path,
            "/api/v3/types/3"
        );
        assert_eq!(
            ApiCall::delete_file_link("9"),
            ApiCall {
                verb: Verb::Delete,
                path: "/api/v3/file_links/9".into(),
                query: Vec::new()
            }
        );
    }
}
