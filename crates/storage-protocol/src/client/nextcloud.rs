//! Nextcloud's user provisioning, WebDAV and the integration app's admin routes, as an admin
//! script or a test drives them.

use reqwest::{Method, RequestBuilder, StatusCode};

use super::{call, expect_status, ClientError, Endpoint};
use crate::{
    integration_app::{
        AdminConfigResponse, IsValidOpInstanceRequest, IsValidOpInstanceResponse, NcOauthResponse,
        SettingsRequest, SetupDeleteResponse, SetupPostResponse,
    },
    nextcloud::{ProvisionUser, ProvisionedUser, APP_PATH},
    ocs::OcsEnvelope,
    pairing::{
        NextcloudPairing, PairWithOpenProject, PairedWithOpenProject, PairingCodeFound,
        PairingCodeInspection,
    },
    storages::nextcloud_urls,
};

/// Nextcloud at a base URL, as one user (HTTP Basic with a password or an app password).
#[derive(Debug, Clone)]
pub struct NextcloudApi {
    endpoint: Endpoint,
}

impl NextcloudApi {
    pub fn new(http: reqwest::Client, base_url: &str, user: &str, password: &str) -> Self {
        Self {
            endpoint: Endpoint::new(http, base_url, user, password),
        }
    }

    /// `POST /ocs/v2.php/cloud/users` (admins only): the new user's id.
    pub async fn provision_user(&self, user: &ProvisionUser) -> Result<String, ClientError> {
        let request = self
            .request(Method::POST, "/ocs/v2.php/cloud/users?format=json")
            .form(&provisioning_form(user));
        let envelope: OcsEnvelope<ProvisionedUser> = call(request, StatusCode::OK).await?;
        Ok(envelope.ocs.data.id)
    }

    /// `POST APP/setup`: the integration set up in one call, Nextcloud's new OAuth client in the
    /// answer (its secret shown this once).
    pub async fn setup(
        &self,
        settings: &SettingsRequest,
    ) -> Result<SetupPostResponse, ClientError> {
        let request = self
            .request(Method::POST, &app_path("setup"))
            .json(settings);
        call(request, StatusCode::OK).await
    }

    /// `PUT APP/admin-config`: some settings changed, as the admin settings page does.
    pub async fn put_admin_config(
        &self,
        settings: &SettingsRequest,
    ) -> Result<AdminConfigResponse, ClientError> {
        let request = self
            .request(Method::PUT, &app_path("admin-config"))
            .json(settings);
        call(request, StatusCode::OK).await
    }

    /// `DELETE APP/setup`: the integration reset.
    pub async fn reset(&self) -> Result<SetupDeleteResponse, ClientError> {
        call(
            self.request(Method::DELETE, &app_path("setup")),
            StatusCode::OK,
        )
        .await
    }

    /// `POST APP/is-valid-op-instance`: whether `url` is an OpenProject this Nextcloud can use.
    pub async fn is_valid_op_instance(
        &self,
        url: &str,
    ) -> Result<IsValidOpInstanceResponse, ClientError> {
        let request = self
            .request(Method::POST, &app_path("is-valid-op-instance"))
            .json(&IsValidOpInstanceRequest {
                url: url.to_string(),
            });
        call(request, StatusCode::OK).await
    }

    /// `POST APP/nc-oauth`: a new OAuth client for OpenProject (replacing the old one).
    pub async fn create_oauth_client(&self) -> Result<NcOauthResponse, ClientError> {
        call(
            self.request(Method::POST, &app_path("nc-oauth")),
            StatusCode::OK,
        )
        .await
    }

    /// `POST APP/pairing/inspect` (Extension): the OpenProject a pairing code names.
    pub async fn inspect_pairing_code(&self, code: &str) -> Result<PairingCodeFound, ClientError> {
        let request = self
            .request(Method::POST, &app_path("pairing/inspect"))
            .json(&PairingCodeInspection {
                code: code.to_string(),
            });
        call(request, StatusCode::OK).await
    }

    /// `POST APP/pairing` (Extension): pairs with the OpenProject at `openproject_url`, which the
    /// code must name.
    pub async fn pair_with_openproject(
        &self,
        code: &str,
        openproject_url: &str,
    ) -> Result<PairedWithOpenProject, ClientError> {
        let request = self
            .request(Method::POST, &app_path("pairing"))
            .json(&PairWithOpenProject {
                code: code.to_string(),
                openproject_url: openproject_url.to_string(),
            });
        call(request, StatusCode::OK).await
    }

    /// `GET APP/pairing` (Extension): the pairing and the last message sent to OpenProject.
    pub async fn pairing(&self) -> Result<NextcloudPairing, ClientError> {
        call(
            self.request(Method::GET, &app_path("pairing")),
            StatusCode::OK,
        )
        .await
    }

    /// WebDAV `PUT` of a new file at `path` below the user's root: its file id (the leading
    /// digits of `OC-FileId`).
    pub async fn upload(
        &self,
        path: &str,
        content: impl Into<reqwest::Body>,
    ) -> Result<i64, ClientError> {
        let dav_path = nextcloud_urls::dav_files("/", &self.endpoint.auth.user, path);
        let response = self
            .endpoint
            .request(Method::PUT, &dav_path)
            .body(content)
            .send()
            .await?;
        let status = response.status();
        let file_id = response
            .headers()
            .get("OC-FileId")
            .and_then(|value| value.to_str().ok())
            .and_then(leading_number);
        let body = expect_status(status, StatusCode::CREATED, response.text().await?)?;
        file_id.ok_or_else(|| ClientError::Malformed {
            reason: "no numeric OC-FileId".into(),
            body,
        })
    }

    /// A request as OCS and the integration app expect it: `OCS-APIRequest` (which also exempts
    /// the app's routes from the CSRF check) and JSON answers.
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.endpoint
            .request(method, path)
            .header("OCS-APIRequest", "true")
            .header(reqwest::header::ACCEPT, "application/json")
    }
}

/// `APP/<route>` of the integration app.
fn app_path(route: &str) -> String {
    format!("{APP_PATH}/{route}")
}

/// The provisioning parameters as a form: groups as repeated `groups[]`.
fn provisioning_form(user: &ProvisionUser) -> Vec<(&'static str, &str)> {
    let mut form = vec![
        ("userid", user.userid.as_str()),
        ("password", &user.password),
    ];
    if let Some(name) = &user.display_name {
        form.push(("displayName", name));
    }
    if let Some(email) = &user.email {
        form.push(("email", email));
    }
    form.extend(user.groups.iter().map(|group| ("groups[]", group.as_str())));
    form
}

/// The leading digits of an `OC-FileId` (`00000042ocabc…`) as a number.
fn leading_number(file_id: &str) -> Option<i64> {
    let end = file_id
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(file_id.len());
    file_id[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_id_is_the_leading_number() {
        assert_eq!(leading_number("00000042ocabc123"), Some(42));
        assert_eq!(leading_number("ocabc"), None);
    }

    #[test]
    fn groups_are_repeated_form_fields() {
        let user = ProvisionUser {
            userid: "bob".into(),
            password: "pw".into(),
            display_name: Some("Bob B".into()),
            groups: vec!["staff".into(), "admin".into()],
            ..Default::default()
        };
        assert_eq!(
            provisioning_form(&user),
            vec![
                ("userid", "bob"),
                ("password", "pw"),
                ("displayName", "Bob B"),
                ("groups[]", "staff"),
                ("groups[]", "admin"),
            ]
        );
    }

    #[test]
    fn requests_carry_the_ocs_header() {
        let api = NextcloudApi::new(reqwest::Client::new(), "http://nc.example/", "admin", "pw");
        let request = api
            .request(Method::POST, &app_path("setup"))
            .build()
            .unwrap();
        assert_eq!(
            request.url().as_str(),
            "http://nc.example/index.php/apps/integration_openproject/setup"
        );
        assert_eq!(request.headers()["OCS-APIRequest"], "true");
    }
}
