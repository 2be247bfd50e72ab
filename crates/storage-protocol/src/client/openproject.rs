//! OpenProject's API v3 as an admin script or a test drives it.

use reqwest::{Method, RequestBuilder, StatusCode};

use super::{call, expect_status, ClientError, Endpoint};
use crate::{
    file_links::{file_links_of, FileLink, FileLinksWrite},
    hal::Collection,
    openproject::{User, UserWrite, API_BASE},
    pairing::{PairingCodeAnswer, StoragePairing},
    projects::{
        project_href, Membership, MembershipWrite, Project, ProjectModules, ProjectStorage,
        ProjectStorageWrite, ProjectWrite, Role,
    },
    storages::{
        storage_href, OAuthApplication, OAuthClientCredentials, OAuthClientCredentialsWrite,
        Storage, StorageWrite,
    },
    work_packages::{work_packages_of_project, WorkPackage, WorkPackageWrite},
};

/// OpenProject at a base URL, as one user (HTTP Basic).
#[derive(Debug, Clone)]
pub struct OpenProjectApi {
    endpoint: Endpoint,
}

impl OpenProjectApi {
    pub fn new(http: reqwest::Client, base_url: &str, user: &str, password: &str) -> Self {
        Self {
            endpoint: Endpoint::new(http, base_url, user, password),
        }
    }

    /// `POST /api/v3/storages` (setup step 2): the storage with its OAuth application, whose
    /// secret only this answer shows.
    pub async fn create_storage(&self, storage: &StorageWrite) -> Result<Storage, ClientError> {
        call(
            self.request(Method::POST, &format!("{API_BASE}/storages"))
                .json(storage),
            StatusCode::CREATED,
        )
        .await
    }

    /// `POST /api/v3/storages/{id}/oauth_client_credentials` (setup step 4): Nextcloud's client.
    pub async fn set_oauth_client_credentials(
        &self,
        storage_id: i64,
        credentials: &OAuthClientCredentialsWrite,
    ) -> Result<OAuthClientCredentials, ClientError> {
        let path = format!("{}/oauth_client_credentials", storage_href(storage_id));
        call(
            self.request(Method::POST, &path).json(credentials),
            StatusCode::CREATED,
        )
        .await
    }

    /// `POST /api/v3/storages/{id}/oauth_application`: a new application for the storage, its
    /// secret shown this once; the old one's grants and tokens stop working.
    pub async fn replace_oauth_application(
        &self,
        storage_id: i64,
    ) -> Result<OAuthApplication, ClientError> {
        let path = format!("{}/oauth_application", storage_href(storage_id));
        call(self.request(Method::POST, &path), StatusCode::CREATED).await
    }

    /// `POST /api/v3/users`.
    pub async fn create_user(&self, user: &UserWrite) -> Result<User, ClientError> {
        call(
            self.request(Method::POST, &format!("{API_BASE}/users"))
                .json(user),
            StatusCode::CREATED,
        )
        .await
    }

    /// `GET /api/v3/roles`.
    pub async fn roles(&self) -> Result<Collection<Role>, ClientError> {
        call(
            self.request(Method::GET, &format!("{API_BASE}/roles")),
            StatusCode::OK,
        )
        .await
    }

    /// `POST /api/v3/memberships`.
    pub async fn create_membership(
        &self,
        membership: &MembershipWrite,
    ) -> Result<Membership, ClientError> {
        let path = format!("{API_BASE}/memberships");
        call(
            self.request(Method::POST, &path).json(membership),
            StatusCode::CREATED,
        )
        .await
    }

    /// `POST /api/v3/projects`.
    pub async fn create_project(&self, project: &ProjectWrite) -> Result<Project, ClientError> {
        let path = format!("{API_BASE}/projects");
        call(
            self.request(Method::POST, &path).json(project),
            StatusCode::CREATED,
        )
        .await
    }

    /// `PUT /api/v3/projects/{id}/modules/{module}`: the project's modules afterwards.
    pub async fn enable_module(
        &self,
        project_id: i64,
        module: &str,
    ) -> Result<ProjectModules, ClientError> {
        let path = format!("{}/modules/{module}", project_href(project_id));
        call(self.request(Method::PUT, &path), StatusCode::OK).await
    }

    /// `POST /api/v3/project_storages` (setup step 5).
    pub async fn create_project_storage(
        &self,
        project_storage: &ProjectStorageWrite,
    ) -> Result<ProjectStorage, ClientError> {
        let path = format!("{API_BASE}/project_storages");
        call(
            self.request(Method::POST, &path).json(project_storage),
            StatusCode::CREATED,
        )
        .await
    }

    /// `POST /api/v3/projects/{id}/work_packages`.
    pub async fn create_work_package(
        &self,
        project_id: i64,
        work_package: &WorkPackageWrite,
    ) -> Result<WorkPackage, ClientError> {
        let path = work_packages_of_project(project_id);
        call(
            self.request(Method::POST, &path).json(work_package),
            StatusCode::CREATED,
        )
        .await
    }

    /// `POST /api/v3/work_packages/{id}/file_links`: every link of the work package afterwards.
    pub async fn create_file_links(
        &self,
        work_package_id: i64,
        links: &FileLinksWrite,
    ) -> Result<Collection<FileLink>, ClientError> {
        let path = file_links_of(work_package_id);
        call(
            self.request(Method::POST, &path).json(links),
            StatusCode::CREATED,
        )
        .await
    }

    /// A request of the API: HAL answers; `X-Requested-With` as OpenProject's own front end sends
    /// it (the API refuses session-authenticated calls without it, and it is harmless with Basic).
    /// `POST /api/v3/storages/{id}/pairing_code` (Extension): a pairing code for the storage.
    pub async fn pairing_code(&self, storage_id: i64) -> Result<PairingCodeAnswer, ClientError> {
        let path = format!("{}/pairing_code", storage_href(storage_id));
        call(self.request(Method::POST, &path), StatusCode::CREATED).await
    }

    /// `GET /api/v3/storages/{id}/pairing` (Extension): the storage's pairing and the last
    /// message sent to Nextcloud.
    pub async fn storage_pairing(&self, storage_id: i64) -> Result<StoragePairing, ClientError> {
        let path = format!("{}/pairing", storage_href(storage_id));
        call(self.request(Method::GET, &path), StatusCode::OK).await
    }

    /// `DELETE /api/v3/storages/{id}`.
    pub async fn delete_storage(&self, storage_id: i64) -> Result<(), ClientError> {
        let response = self
            .request(Method::DELETE, &storage_href(storage_id))
            .send()
            .await?;
        let status = response.status();
        expect_status(status, StatusCode::NO_CONTENT, response.text().await?).map(drop)
    }

    /// `GET /api/v3/storages/{id}`.
    pub async fn storage(&self, storage_id: i64) -> Result<Storage, ClientError> {
        call(
            self.request(Method::GET, &storage_href(storage_id)),
            StatusCode::OK,
        )
        .await
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.endpoint
            .request(method, path)
            .header(reqwest::header::ACCEPT, "application/hal+json")
            .header("X-Requested-With", "XMLHttpRequest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_ask_for_hal() {
        let api = OpenProjectApi::new(reqwest::Client::new(), "http://op.example", "admin", "pw");
        let request = api
            .request(Method::PUT, "/api/v3/projects/1/modules/storages")
            .build()
            .unwrap();
        assert_eq!(
            request.url().as_str(),
            "http://op.example/api/v3/projects/1/modules/storages"
        );
        assert_eq!(
            request.headers()[reqwest::header::ACCEPT],
            "application/hal+json"
        );
    }
}
