//! Calls to Nextcloud (openproject-storages.md §6.6, §12): the storage host check, the
//! application password check, the probes behind the health report and the authorization
//! state, and the token endpoint (oauth.md §4). Each returns what the caller needs to decide,
//! never a raw transport error.

use service_kit::http_client::{Observed, SendObserved};
use std::time::Duration;

use oauth2::{
    basic::{BasicClient, BasicErrorResponse, BasicTokenResponse},
    AuthType, AuthorizationCode, ClientId, ClientSecret, EndpointNotSet, EndpointSet,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, TokenResponse, TokenUrl,
};
use reqwest::{header, Client, Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use service_kit::{
    crypto::SecretString,
    http_client::{self, Destinations},
    outbound,
};
use storage_protocol::file_links::nextcloud_file_urls;
use storage_protocol::files::{FileInfoRecord, FilesInfo, FilesInfoRequest};
use storage_protocol::integration_app::direct_upload::DirectUploadToken;
use storage_protocol::nextcloud::{DirectDownload, EchoedAuthorization, ServerVersion};
use storage_protocol::ocs::OCS_API_REQUEST_HEADER;
use storage_protocol::storages::{
    messages, nextcloud_urls, MIN_NEXTCLOUD_MAJOR, OPENPROJECT_SYSTEM_USER, TEST_BEARER_TOKEN,
};

/// The two outbound policies of the contract: the host check reads with a 3 s timeout, user-bound
/// calls with 10 s; both connect within 5 s and never follow redirects.
#[derive(Clone)]
pub struct NextcloudClient {
    host_check: Client,
    user_bound: Client,
}

impl Default for NextcloudClient {
    fn default() -> Self {
        Self::new(
            Destinations::PublicOnly,
            Duration::from_secs(3),
            Duration::from_secs(10),
        )
    }
}

impl NextcloudClient {
    /// Clients that connect only to `destinations` (`OPS_ALLOW_LOCAL_REMOTE_SERVERS`): a refused
    /// address fails like an unreachable host, without a connection, so no answer tells which
    /// local ports are open.
    pub fn new(
        destinations: Destinations,
        host_check_read: Duration,
        user_bound_read: Duration,
    ) -> Self {
        let connect = Duration::from_secs(5);
        Self {
            host_check: http_client::build_with_read_timeout(
                destinations,
                connect,
                host_check_read,
                connect + host_check_read * 2,
            ),
            user_bound: http_client::build_with_read_timeout(
                destinations,
                connect,
                user_bound_read,
                connect + user_bound_read * 2,
            ),
        }
    }

    /// Rule 8 of the storage validation: Nextcloud is reachable, recent enough, and has the
    /// integration app with a working `Authorization` header. The error is the rule's message.
    pub async fn check_host(&self, host: &str) -> Result<(), &'static str> {
        let capabilities = self
            .host_check
            .get(nextcloud_urls::capabilities(host))
            .header(OCS_API_REQUEST_HEADER, "true")
            .header(header::ACCEPT, "application/json")
            .send_observed()
            .await
            .map_err(unreachable)?;
        if !capabilities.status().is_success() {
            return Err(messages::HOST_UNREACHABLE);
        }
        let major = capabilities
            .json::<OcsData<ServerVersion>>()
            .await
            .map_err(|_| messages::HOST_NOT_NEXTCLOUD)?
            .ocs
            .data
            .version
            .major;
        if major < MIN_NEXTCLOUD_MAJOR {
            return Err(messages::HOST_VERSION_TOO_OLD);
        }

        let check = self
            .host_check
            .get(nextcloud_urls::check_config(host))
            .bearer_auth(TEST_BEARER_TOKEN)
            .send_observed()
            .await
            .map_err(unreachable)?;
        if check.status().is_redirection() {
            return Err(messages::HOST_APP_MISSING);
        }
        if !check.status().is_success() {
            return Err(messages::HOST_UNREACHABLE);
        }
        let echoed = check
            .json::<EchoedAuthorization>()
            .await
            .ok()
            .and_then(|echoed| echoed.authorization_header);
        if echoed.as_deref() != Some(&format!("Bearer {TEST_BEARER_TOKEN}")) {
            return Err(messages::HOST_NO_AUTHORIZATION_HEADER);
        }
        Ok(())
    }

    /// Rule 10: the application password opens WebDAV as user `OpenProject`.
    pub async fn check_application_password(
        &self,
        host: &str,
        password: &str,
    ) -> Result<(), &'static str> {
        match self.dav_head(host, password).await {
            Some(status) if status.is_success() => Ok(()),
            Some(StatusCode::UNAUTHORIZED) => Err(messages::APPLICATION_PASSWORD_INVALID),
            _ => Err(messages::APPLICATION_PASSWORD_UNVERIFIED),
        }
    }

    /// `HEAD remote.php/dav` as user `OpenProject`; `None` when Nextcloud could not be reached.
    pub async fn dav_head(&self, host: &str, password: &str) -> Option<StatusCode> {
        self.host_check
            .head(nextcloud_urls::dav_root(host))
            .basic_auth(OPENPROJECT_SYSTEM_USER, Some(password))
            .send_observed()
            .await
            .ok()
            .map(|r| r.status())
    }

    /// `GET ocs/v2.php/cloud/capabilities`, for the health report.
    pub async fn capabilities(&self, host: &str) -> Probe<Value> {
        let request = self
            .host_check
            .get(nextcloud_urls::capabilities(host))
            .header(OCS_API_REQUEST_HEADER, "true")
            .header(header::ACCEPT, "application/json");
        json_answer(request).await
    }

    /// `GET ocs/v1.php/cloud/user` with a user's access token: the Nextcloud user id on success.
    pub async fn cloud_user(&self, host: &str, access_token: &str) -> Probe<String> {
        let response = match self
            .user_bound
            .get(nextcloud_urls::cloud_user(host))
            .bearer_auth(access_token)
            .header(OCS_API_REQUEST_HEADER, "true")
            .send_observed()
            .await
        {
            Ok(response) => response,
            Err(_) => return Probe::Unreachable,
        };
        let status = response.status();
        if !status.is_success() {
            return Probe::Status(status);
        }
        let Ok(body) = response.text().await else {
            return Probe::Unreachable;
        };
        match storage_protocol::ocs::read_xml_user_id(&body) {
            Some(id) => Probe::Ok(id),
            None => Probe::Unparseable,
        }
    }

    /// `PROPFIND` of a folder of user `OpenProject` with its app password, `Depth: 1`: the hrefs
    /// of the folder and its children.
    pub async fn propfind_as_system_user(
        &self,
        host: &str,
        password: &str,
        path: &str,
    ) -> Probe<Vec<storage_protocol::dav::Entry>> {
        let request = self
            .user_bound
            .request(
                propfind_method(),
                nextcloud_urls::dav_files(host, OPENPROJECT_SYSTEM_USER, path),
            )
            .basic_auth(OPENPROJECT_SYSTEM_USER, Some(password));
        list_folder(request).await
    }
}

/// File calls with a user's access token (§10–§12).
impl NextcloudClient {
    /// `GET ocs/v1.php/apps/integration_openproject/fileinfo/{id}`: the record, whatever its
    /// `statuscode`.
    pub async fn fileinfo(
        &self,
        host: &str,
        access_token: &str,
        file_id: &str,
    ) -> Probe<FileInfoRecord> {
        let request = self.user_ocs(
            Method::GET,
            nextcloud_file_urls::fileinfo(host, file_id),
            access_token,
        );
        ocs_data(request).await
    }

    /// `POST ocs/v1.php/apps/integration_openproject/filesinfo` with `{"fileIds": [...]}`.
    pub async fn filesinfo(
        &self,
        host: &str,
        access_token: &str,
        file_ids: &[String],
    ) -> Probe<FilesInfo> {
        let request = self
            .user_ocs(
                Method::POST,
                nextcloud_file_urls::filesinfo(host),
                access_token,
            )
            .json(&FilesInfoRequest {
                file_ids: file_ids.to_vec(),
            });
        ocs_data(request).await
    }

    /// `POST ocs/v2.php/apps/dav/api/v1/direct` with `{"fileId": id}`: `ocs.data.url`.
    pub async fn direct_download_url(
        &self,
        host: &str,
        access_token: &str,
        file_id: &str,
    ) -> Probe<String> {
        let id = id_value(file_id);
        let request = self
            .user_ocs(
                Method::POST,
                nextcloud_file_urls::direct(host),
                access_token,
            )
            .json(&serde_json::json!({ "fileId": id }));
        ocs_data::<DirectDownload>(request)
            .await
            .map(|data| data.url)
    }

    /// `POST index.php/apps/integration_openproject/direct-upload-token` with
    /// `{"folder_id": <parent>}` (an integer when it is one): the token of a direct upload.
    pub async fn direct_upload_token(
        &self,
        host: &str,
        access_token: &str,
        parent: &str,
    ) -> Probe<DirectUploadToken> {
        let folder_id = id_value(parent);
        let request = self
            .user_bound
            .post(nextcloud_file_urls::direct_upload_token(host))
            .bearer_auth(access_token)
            .header(header::ACCEPT, "application/json")
            .json(&serde_json::json!({ "folder_id": folder_id }));
        json_answer(request).await
    }

    /// A user-bound OCS request for a JSON answer, with the user's access token.
    fn user_ocs(&self, method: Method, url: String, access_token: &str) -> reqwest::RequestBuilder {
        self.user_bound
            .request(method, url)
            .bearer_auth(access_token)
            .header(OCS_API_REQUEST_HEADER, "true")
            .header(header::ACCEPT, "application/json")
    }

    /// `PROPFIND remote.php/dav/files/{user}/{path}`, `Depth: 1`, with a user's access token.
    pub async fn propfind(
        &self,
        host: &str,
        access_token: &str,
        user: &str,
        path: &str,
    ) -> Probe<Vec<storage_protocol::dav::Entry>> {
        let request = self
            .user_bound
            .request(
                propfind_method(),
                nextcloud_urls::dav_files(host, user, path),
            )
            .bearer_auth(access_token);
        list_folder(request).await
    }
}

/// The host check's one message for every request that got no answer: refused, timed out, not
/// resolved, TLS failed, or a non-public address refused without connecting. Only the log says
/// which, and only for the refusal, which the admin can change.
fn unreachable(error: reqwest::Error) -> &'static str {
    if outbound::is_refusal(&error) {
        tracing::warn!(
            "the storage host is not a public internet address; \
             OPS_ALLOW_LOCAL_REMOTE_SERVERS=true allows local Nextcloud servers"
        );
    }
    messages::HOST_UNREACHABLE
}

/// Sends an OCS request and reads `ocs.data` of a 2xx JSON answer.
async fn ocs_data<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder) -> Probe<T> {
    json_answer::<OcsData<T>>(request)
        .await
        .map(|body| body.ocs.data)
}

/// Sends a request and reads a 2xx answer as JSON `T`: straight into `T`, since through a
/// `Value` tree a 20-file answer cost a parse, a copy of the tree and a second conversion.
async fn json_answer<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder) -> Probe<T> {
    let response = match request.send_observed().await {
        Ok(response) => response,
        Err(_) => return Probe::Unreachable,
    };
    let status = response.status();
    if !status.is_success() {
        return Probe::Status(status);
    }
    match response.json::<T>().await {
        Ok(body) => Probe::Ok(body),
        Err(_) => Probe::Unparseable,
    }
}

/// `{"ocs": {"data": …}}`, the rest of the envelope unread.
#[derive(Deserialize)]
struct OcsData<T> {
    ocs: OcsDataBody<T>,
}

#[derive(Deserialize)]
struct OcsDataBody<T> {
    data: T,
}

/// Nextcloud's OAuth client for OpenProject as the token endpoint wants it (form fields
/// `client_id`, `client_secret`, oauth.md §4.3, §4.4).
pub struct ClientCredentials<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a str,
}

/// A token pair Nextcloud issued (oauth.md §3.3). `Debug` shows no token.
pub struct IssuedTokens {
    pub access_token: SecretString,
    /// Nextcloud always rotates it; a server that does not keeps the previous one valid.
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<Duration>,
}

impl std::fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// What Nextcloud's token endpoint answered.
#[derive(Debug)]
pub enum TokenGrant {
    Issued(IssuedTokens),
    /// An OAuth error body; its `error` code (`invalid_grant`, …).
    Refused(String),
    /// Connection failure or timeout.
    Unreachable,
    /// Anything else: another status, a body that is not the contract's.
    Invalid,
}

impl NextcloudClient {
    /// `POST <host>index.php/apps/oauth2/api/v1/token` with `grant_type=authorization_code`
    /// (oauth.md §4.3): the client's id and secret as form fields, the callback as `redirect_uri`,
    /// and the PKCE verifier when the state has one.
    pub async fn exchange_code(
        &self,
        host: &str,
        client: &ClientCredentials<'_>,
        redirect_uri: &str,
        code: &str,
        code_verifier: Option<&str>,
    ) -> TokenGrant {
        let Ok(redirect_uri) = RedirectUrl::new(redirect_uri.to_string()) else {
            return TokenGrant::Invalid;
        };
        let Some(oauth) = oauth_client(host, client) else {
            return TokenGrant::Invalid;
        };
        let mut request = oauth
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_redirect_uri(std::borrow::Cow::Owned(redirect_uri));
        if let Some(verifier) = code_verifier {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()));
        }
        grant(request.request_async(&Observed(&self.user_bound)).await)
    }

    /// `POST <host>index.php/apps/oauth2/api/v1/token` with `grant_type=refresh_token`
    /// (oauth.md §4.4).
    pub async fn refresh_token(
        &self,
        host: &str,
        client: &ClientCredentials<'_>,
        refresh_token: &str,
    ) -> TokenGrant {
        let Some(oauth) = oauth_client(host, client) else {
            return TokenGrant::Invalid;
        };
        let refresh_token = RefreshToken::new(refresh_token.to_string());
        grant(
            oauth
                .exchange_refresh_token(&refresh_token)
                .request_async(&Observed(&self.user_bound))
                .await,
        )
    }
}

/// The `oauth2` client for one storage's Nextcloud: credentials in the form body, as Nextcloud's
/// documentation and OpenProject send them. `None` when the host makes no URL.
fn oauth_client(
    host: &str,
    client: &ClientCredentials<'_>,
) -> Option<BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>>
{
    let token_url = TokenUrl::new(nextcloud_urls::token(host)).ok()?;
    Some(
        BasicClient::new(ClientId::new(client.client_id.to_string()))
            .set_client_secret(ClientSecret::new(client.client_secret.to_string()))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(token_url),
    )
}

fn grant<RE: std::error::Error + 'static>(
    result: Result<BasicTokenResponse, RequestTokenError<RE, BasicErrorResponse>>,
) -> TokenGrant {
    match result {
        Ok(response) => TokenGrant::Issued(IssuedTokens {
            access_token: SecretString::new(response.access_token().secret().as_str()),
            refresh_token: response
                .refresh_token()
                .map(|t| SecretString::new(t.secret().as_str())),
            expires_in: response.expires_in(),
        }),
        Err(RequestTokenError::ServerResponse(body)) => {
            TokenGrant::Refused(body.error().as_ref().to_string())
        }
        Err(RequestTokenError::Request(_)) => TokenGrant::Unreachable,
        // The body of a parse error may hold anything the server sent: it is dropped unread.
        Err(RequestTokenError::Parse(..) | RequestTokenError::Other(_)) => TokenGrant::Invalid,
    }
}

/// A Nextcloud id as JSON: a number when it is one (as Nextcloud's own clients send it), else
/// the string as given, which Nextcloud answers as an unknown id.
fn id_value(raw: &str) -> Value {
    raw.parse::<i64>()
        .map_or_else(|_| Value::String(raw.to_string()), Value::from)
}

fn propfind_method() -> Method {
    Method::from_bytes(b"PROPFIND").expect("PROPFIND is a valid method")
}

/// Sends an authenticated `PROPFIND` with `Depth: 1` and reads the `207 Multi-Status` answer.
async fn list_folder(request: reqwest::RequestBuilder) -> Probe<Vec<storage_protocol::dav::Entry>> {
    let response = match request
        .header("Depth", "1")
        .header(header::CONTENT_TYPE, "application/xml")
        .body(storage_protocol::dav::PROPFIND_BODY)
        .send_observed()
        .await
    {
        Ok(response) => response,
        Err(_) => return Probe::Unreachable,
    };
    let status = response.status();
    if status != StatusCode::MULTI_STATUS {
        return Probe::Status(status);
    }
    match response
        .text()
        .await
        .ok()
        .and_then(|body| storage_protocol::dav::parse_multistatus(&body).ok())
    {
        Some(entries) => Probe::Ok(entries),
        None => Probe::Unparseable,
    }
}

/// The outcome of a call whose details matter to the caller.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe<T> {
    Ok(T),
    /// Nextcloud answered with this (unexpected) status.
    Status(StatusCode),
    /// Connection failure or timeout.
    Unreachable,
    /// A 2xx whose body was not what the contract says.
    Unparseable,
}

impl<T> Probe<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Probe<U> {
        match self {
            Self::Ok(value) => Probe::Ok(f(value)),
            Self::Status(status) => Probe::Status(status),
            Self::Unreachable => Probe::Unreachable,
            Self::Unparseable => Probe::Unparseable,
        }
    }
}
