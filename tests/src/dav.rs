//! WebDAV as Nextcloud's clients speak it, against the Nextcloud side run as a process: a
//! user's files (`/remote.php/dav/files/<user>/…`), chunked uploads v2
//! (`/remote.php/dav/uploads/<user>/<id>/…`, Nextcloud's developer manual, "Chunked file
//! upload") and the legacy v1 chunks (`<name>-chunking-<transfer>-<count>-<index>` with
//! `OC-Chunked: 1`), and a client that drops its connection mid-upload.

use std::collections::BTreeMap;

use base64::Engine as _;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use storage_protocol::dav::{parse_multistatus, Entry, PROPFIND_BODY};
use tokio::io::AsyncWriteExt;

use crate::{
    clients::{sha1_hex, TempDir},
    spawn_nextcloud_with, Service, ADMIN, NCOA_ADMIN_PASSWORD,
};

/// The Nextcloud side with its file contents in a folder of its own (so a test can see what is
/// left on disk), removed after the service stops.
pub struct DavServer {
    pub service: Service,
    pub data_dir: TempDir,
}

impl DavServer {
    /// A fresh service; `max_upload_bytes` raises the largest upload it accepts when given.
    pub fn spawn(max_upload_bytes: Option<u64>) -> Self {
        Self::spawn_in(&std::env::temp_dir(), max_upload_bytes)
    }

    /// [`DavServer::spawn`] with the data folder below `parent` (on the disk a test chooses).
    pub fn spawn_in(parent: &std::path::Path, max_upload_bytes: Option<u64>) -> Self {
        let data_dir = TempDir::new_in(parent, "ncoa-files");
        let mut extra = vec![(
            "NCOA_DATA_DIR",
            data_dir.path().to_string_lossy().into_owned(),
        )];
        if let Some(limit) = max_upload_bytes {
            extra.push(("NCOA_MAX_UPLOAD_BYTES", limit.to_string()));
        }
        let service = spawn_nextcloud_with(&extra);
        Self { service, data_dir }
    }

    pub fn url(&self) -> &str {
        &self.service.url
    }

    pub fn admin(&self) -> DavClient {
        DavClient::new(&self.service.url, ADMIN, NCOA_ADMIN_PASSWORD)
    }

    /// Creates a user through provisioning (`POST /ocs/v1.php/cloud/users`) as the admin.
    pub async fn create_user(&self, uid: &str, password: &str) -> DavClient {
        let response = self
            .admin()
            .request(
                Method::POST,
                &format!("{}/ocs/v1.php/cloud/users", self.url()),
            )
            .header("OCS-APIRequest", "true")
            .form(&[("userid", uid), ("password", password)])
            .send()
            .await
            .expect("provisioning request");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(
            status.is_success() && body.contains("<statuscode>100</statuscode>"),
            "user {uid} not created: {status} {body}"
        );
        DavClient::new(&self.service.url, uid, password)
    }
}

/// One user's WebDAV client.
#[derive(Clone)]
pub struct DavClient {
    pub client: reqwest::Client,
    pub server: String,
    pub user: String,
    pub password: String,
}

/// `path` (`/`-separated, unencoded) appended to `base` segment by segment, percent-encoded.
fn join_encoded(base: &str, path: &str) -> String {
    let mut url = url::Url::parse(base).expect("base URL");
    {
        let mut segments = url.path_segments_mut().expect("a base with a path");
        segments.pop_if_empty();
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            segments.push(segment);
        }
    }
    url.to_string()
}

impl DavClient {
    pub fn new(server: &str, user: &str, password: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            server: server.into(),
            user: user.into(),
            password: password.into(),
        }
    }

    /// The URL of `path` in the user's files.
    pub fn file_url(&self, path: &str) -> String {
        join_encoded(
            &format!("{}/remote.php/dav/files/{}/", self.server, self.user),
            path,
        )
    }

    /// The URL of `path` below the user's uploads (`<id>`, `<id>/<chunk>`, `<id>/.file`).
    pub fn upload_url(&self, owner: &str, path: &str) -> String {
        join_encoded(
            &format!("{}/remote.php/dav/uploads/{owner}/", self.server),
            path,
        )
    }

    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.client
            .request(method, url)
            .basic_auth(&self.user, Some(&self.password))
    }

    pub fn dav(&self, method: &str, url: &str) -> RequestBuilder {
        self.request(Method::from_bytes(method.as_bytes()).expect("method"), url)
    }

    pub async fn put(&self, path: &str, body: Vec<u8>) -> Response {
        self.request(Method::PUT, &self.file_url(path))
            .body(body)
            .send()
            .await
            .expect("PUT is sent")
    }

    /// The status and body of a GET of `path`.
    pub async fn get(&self, path: &str) -> (StatusCode, Vec<u8>) {
        let response = self
            .request(Method::GET, &self.file_url(path))
            .send()
            .await
            .expect("GET is sent");
        let status = response.status();
        (status, response.bytes().await.expect("body").to_vec())
    }

    /// The SHA-1 of `path`'s content, failing the test unless it is there.
    pub async fn sha1(&self, path: &str) -> String {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}");
        sha1_hex(&body)
    }

    /// PROPFIND with Depth 1 of any URL: the status and the entries.
    pub async fn propfind(&self, url: &str, depth: &str) -> (StatusCode, Vec<Entry>, String) {
        let response = self
            .dav("PROPFIND", url)
            .header("Depth", depth)
            .header("Content-Type", "application/xml; charset=utf-8")
            .body(PROPFIND_BODY)
            .send()
            .await
            .expect("PROPFIND is sent");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let entries = parse_multistatus(&text).unwrap_or_default();
        (status, entries, text)
    }

    /// Every file of the user's tree, by path relative to the root, with its size, walked a
    /// folder at a time (Depth 1).
    pub async fn tree(&self) -> BTreeMap<String, u64> {
        let root = format!("/remote.php/dav/files/{}/", self.user);
        let mut files = BTreeMap::new();
        let mut folders = vec![String::new()];
        while let Some(folder) = folders.pop() {
            let (status, entries, text) = self.propfind(&self.file_url(&folder), "1").await;
            assert_eq!(
                status,
                StatusCode::MULTI_STATUS,
                "PROPFIND {folder}: {text}"
            );
            for entry in entries {
                let relative = entry
                    .href
                    .strip_prefix(&root)
                    .unwrap_or(&entry.href)
                    .trim_end_matches('/')
                    .to_string();
                if relative == folder.trim_end_matches('/') {
                    continue;
                }
                if entry.is_collection {
                    folders.push(relative);
                } else {
                    files.insert(relative, entry.size.unwrap_or_default());
                }
            }
        }
        files
    }

    /// A `PROPFIND` of `props` (DAV: names) on the user's root, Depth 0: the raw answer.
    pub async fn root_properties(&self, props: &[&str]) -> String {
        let body = format!(
            "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\"><d:prop>{}</d:prop></d:propfind>",
            props.iter().map(|p| format!("<{p}/>")).collect::<String>()
        );
        let response = self
            .dav("PROPFIND", &self.file_url(""))
            .header("Depth", "0")
            .body(body)
            .send()
            .await
            .expect("PROPFIND is sent");
        response.text().await.unwrap_or_default()
    }

    /// A chunked upload v2 of this user to `destination` (a path in their files).
    pub fn chunked_upload(&self, id: &str, destination: &str) -> ChunkedUpload {
        ChunkedUpload {
            dav: self.clone(),
            owner: self.user.clone(),
            id: id.into(),
            destination: self.file_url(destination),
        }
    }

    /// A PUT of one legacy (v1) chunk: `<path>-chunking-<transfer>-<count>-<index>` with
    /// `OC-Chunked: 1`, as the desktop client sends files over its chunk size to servers
    /// without chunking v2.
    pub async fn put_legacy_chunk(
        &self,
        path: &str,
        transfer: u64,
        count: usize,
        index: usize,
        body: Vec<u8>,
    ) -> Response {
        self.request(
            Method::PUT,
            &self.file_url(&format!("{path}-chunking-{transfer}-{count}-{index}")),
        )
        .header("OC-Chunked", "1")
        .body(body)
        .send()
        .await
        .expect("PUT is sent")
    }

    /// Sends the head of a PUT of `announced` bytes to `url` and `sent` bytes of its body over
    /// a raw connection, then closes the connection: a client that went away mid-upload.
    pub async fn interrupted_put(&self, url: &str, announced: usize, sent: usize) {
        let url = url::Url::parse(url).expect("URL");
        let address = format!(
            "{}:{}",
            url.host_str().expect("host"),
            url.port_or_known_default().expect("port")
        );
        let credentials = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.user, self.password));
        let mut stream = tokio::net::TcpStream::connect(&address)
            .await
            .expect("connect");
        let head = format!(
            "PUT {} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Basic {credentials}\r\nContent-Length: {announced}\r\nContent-Type: application/octet-stream\r\n\r\n",
            url.path()
        );
        stream.write_all(head.as_bytes()).await.expect("head sent");
        let body = crate::clients::pseudo_random(sent, 99);
        stream.write_all(&body).await.expect("partial body sent");
        stream.flush().await.expect("flushed");
        // Give the server the bytes, then go away without the rest.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        drop(stream);
    }
}

/// One chunked upload v2: `MKCOL uploads/<owner>/<id>`, `PUT <id>/<chunk>`,
/// `MOVE <id>/.file`, each with the `Destination` header of the final file.
pub struct ChunkedUpload {
    pub dav: DavClient,
    /// Whose uploads folder the requests name (the caller's own, unless a test says otherwise).
    pub owner: String,
    pub id: String,
    pub destination: String,
}

impl ChunkedUpload {
    pub fn folder_url(&self) -> String {
        self.dav.upload_url(&self.owner, &self.id)
    }

    pub fn chunk_url(&self, name: &str) -> String {
        self.dav
            .upload_url(&self.owner, &format!("{}/{name}", self.id))
    }

    pub async fn mkcol(&self, total_length: Option<u64>) -> Response {
        let mut request = self
            .dav
            .dav("MKCOL", &self.folder_url())
            .header("Destination", &self.destination);
        if let Some(total) = total_length {
            request = request.header("OC-Total-Length", total);
        }
        request.send().await.expect("MKCOL is sent")
    }

    pub async fn put_chunk(&self, name: &str, body: Vec<u8>, total_length: u64) -> Response {
        self.dav
            .request(Method::PUT, &self.chunk_url(name))
            .header("Destination", &self.destination)
            .header("OC-Total-Length", total_length)
            .body(body)
            .send()
            .await
            .expect("PUT is sent")
    }

    /// `MOVE .file` to the destination: the assembly.
    pub async fn assemble(&self, total_length: u64) -> Response {
        self.dav
            .dav("MOVE", &self.chunk_url(".file"))
            .header("Destination", &self.destination)
            .header("OC-Total-Length", total_length)
            .send()
            .await
            .expect("MOVE is sent")
    }

    /// `DELETE` of the upload folder: the abort.
    pub async fn abort(&self) -> Response {
        self.dav
            .dav("DELETE", &self.folder_url())
            .send()
            .await
            .expect("DELETE is sent")
    }
}

/// A response's status, headers and body, for an assertion's message.
pub async fn describe(response: Response) -> String {
    let status = response.status();
    let headers: Vec<String> = response
        .headers()
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("?")))
        .collect();
    let body = response.text().await.unwrap_or_default();
    format!("{status} [{}] {body}", headers.join(", "))
}
