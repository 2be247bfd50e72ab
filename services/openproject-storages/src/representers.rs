//! Rows to wire types. Kept apart from the rows so a column rename cannot change the API.

pub mod host;

use service_kit::time::iso8601_millis;
use storage_protocol::{
    hal::Link,
    openproject::{self as wire, user_href},
    storages::{
        self as storage_wire, nextcloud_urls, oauth_application_href,
        oauth_client_credentials_href, openproject_oauth_callback, project_storages_of,
        storage_href, AuthorizationState, PrepareUploadLink, AUTH_TWO_WAY_OAUTH2,
        PROVIDER_NEXTCLOUD, PROVIDER_NEXTCLOUD_TITLE,
    },
};

use crate::{
    db::{
        oauth_applications::OAuthApplication, oauth_client_credentials::OAuthClientCredentials,
        storages::Storage, users::User,
    },
    domain::storages::StorageDetails,
};

/// A user as `viewer` may see them: `login`, `email` and `admin` only for themself and admins.
pub fn user(user: &User, viewer: &User) -> wire::User {
    let full = viewer.id == user.id || viewer.is_active_admin();
    let name = user.name();
    wire::User {
        type_: "User".into(),
        id: user.id,
        name: name.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        status: user.status(),
        avatar: String::new(),
        created_at: iso8601_millis(user.created_at),
        updated_at: iso8601_millis(user.updated_at),
        login: full.then(|| user.login.clone()),
        email: full.then(|| user.email.clone()),
        admin: full.then_some(user.admin),
        links: wire::UserLinks {
            self_: Link::titled(user_href(user.id), name),
        },
    }
}

/// How a storage is shown to one caller.
pub struct StorageView<'a> {
    pub details: &'a StorageDetails,
    pub viewer: &'a User,
    pub authorization_state: AuthorizationState,
    /// Set only in the response that created the application.
    pub application_secret: Option<&'a str>,
    /// This service's public URL, for the OAuth callback in the `authorize` link.
    pub public_url: &'a str,
    /// Projects where the storage is enabled and the viewer may upload (`prepareUpload`).
    pub upload_projects: &'a [i64],
}

/// `_type: "Storage"` (openproject-storages.md §6.2). Admins also get the OAuth resources.
pub fn storage(view: StorageView<'_>) -> storage_wire::Storage {
    let StorageDetails {
        storage,
        application,
        application_owner,
        credentials,
    } = view.details;
    let admin = view.viewer.is_active_admin();
    let authorize = match (credentials, storage.host.as_deref()) {
        (Some(credentials), Some(host)) if view.authorization_state.offers_authorize() => {
            let callback = openproject_oauth_callback(view.public_url, &credentials.client_id);
            Some(Link::titled(
                nextcloud_urls::authorize(host, &credentials.client_id, &callback),
                "Authorize",
            ))
        }
        _ => None,
    };
    let embedded = admin
        .then(|| storage_wire::StorageEmbedded {
            oauth_application: application.as_ref().map(|a| {
                oauth_application(
                    a,
                    storage,
                    application_owner.as_ref(),
                    view.application_secret,
                )
            }),
            oauth_client_credentials: credentials
                .as_ref()
                .map(|c| oauth_client_credentials(c, storage)),
        })
        .filter(|e| e.oauth_application.is_some() || e.oauth_client_credentials.is_some());
    storage_wire::Storage {
        type_: "Storage".into(),
        id: storage.id,
        name: storage.name.clone(),
        created_at: iso8601_millis(storage.created_at),
        updated_at: iso8601_millis(storage.updated_at),
        configured: view.details.configured(),
        has_application_password: storage.application_password_sealed.is_some(),
        storage_audience: storage.storage_audience.clone(),
        token_exchange_scope: storage.token_exchange_scope.clone(),
        forbidden_file_name_characters: storage.forbidden_file_name_characters.clone(),
        embedded,
        links: storage_wire::StorageLinks {
            self_: Link::titled(storage_href(storage.id), &storage.name),
            type_: Link::titled(PROVIDER_NEXTCLOUD, PROVIDER_NEXTCLOUD_TITLE),
            origin: storage.host.as_ref().map(Link::to),
            authentication_method: Link::to(AUTH_TWO_WAY_OAUTH2),
            open: Link::to(format!("{}/open", storage_href(storage.id))),
            prepare_upload: view
                .upload_projects
                .iter()
                .map(|&project| PrepareUploadLink::for_project(storage.id, project))
                .collect(),
            authorization_state: view.authorization_state.link(),
            authorize,
            project_storages: Link::to(project_storages_of(storage.id)),
            oauth_application: admin.then(|| {
                application.as_ref().map_or_else(Link::nothing, |a| {
                    Link::titled(oauth_application_href(a.id), &a.name)
                })
            }),
            oauth_client_credentials: admin.then(|| {
                credentials.as_ref().map_or_else(Link::nothing, |c| {
                    Link::to(oauth_client_credentials_href(c.id))
                })
            }),
        },
    }
}

/// `_type: "OAuthApplication"` (§8); `client_secret` only when just created.
pub fn oauth_application(
    application: &OAuthApplication,
    storage: &Storage,
    owner: Option<&User>,
    client_secret: Option<&str>,
) -> storage_wire::OAuthApplication {
    storage_wire::OAuthApplication {
        type_: "OAuthApplication".into(),
        id: application.id,
        name: application.name.clone(),
        client_id: application.client_id.clone(),
        client_secret: client_secret.map(str::to_string),
        confidential: application.confidential,
        created_at: iso8601_millis(application.created_at),
        updated_at: iso8601_millis(application.updated_at),
        scopes: application
            .scopes
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        links: storage_wire::OAuthApplicationLinks {
            self_: Link::titled(oauth_application_href(application.id), &application.name),
            owner: owner.map_or_else(Link::nothing, |u| Link::titled(user_href(u.id), u.name())),
            integration: Link::titled(storage_href(storage.id), &storage.name),
            redirect_uri: vec![Link::to(&application.redirect_uri)],
        },
    }
}

/// `_type: "OAuthClientCredentials"` (§7); the secret is never shown.
pub fn oauth_client_credentials(
    credentials: &OAuthClientCredentials,
    storage: &Storage,
) -> storage_wire::OAuthClientCredentials {
    storage_wire::OAuthClientCredentials {
        type_: "OAuthClientCredentials".into(),
        id: credentials.id,
        client_id: credentials.client_id.clone(),
        confidential: credentials.client_secret_sealed.is_some(),
        created_at: iso8601_millis(credentials.created_at),
        updated_at: iso8601_millis(credentials.updated_at),
        links: storage_wire::OAuthClientCredentialsLinks {
            self_: Link::to(oauth_client_credentials_href(credentials.id)),
            integration: Link::titled(storage_href(storage.id), &storage.name),
        },
    }
}
