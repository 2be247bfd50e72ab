//! Bearer-authenticated reads, each measured at full speed (closed loop) and at a fixed 1,000
//! requests per second (open loop, for the latency a steady load sees): Nextcloud's `filesinfo`
//! of 20 files with a token OpenProject holds, OpenProject's storage, and a work package's file
//! links with their live status (OpenProject asking Nextcloud in turn).

use std::sync::Arc;

use integration_tests::{
    flows::connect_openproject_user_to_nextcloud, Browser, Integration, Pair, ADMIN,
    NCOA_ADMIN_PASSWORD, OPS_ADMIN_PASSWORD,
};
use reqwest::Method;
use serde_json::json;
use storage_protocol::{
    file_links::{FileLinkWrite, FileLinkWriteLinks, FileLinksWrite, OriginData},
    hal::Link,
    projects::{ProjectStorageWrite, ProjectWrite, MODULE_STORAGES},
    storages::storage_href,
    work_packages::WorkPackageWrite,
};

use crate::load::{self, Figures};

pub const STEADY_RATE: u32 = 1_000;
pub const STEADY_REQUESTS: usize = 3_000;

/// A GET or POST that the load repeats as it is.
#[derive(Clone)]
pub struct Read {
    pub name: String,
    method: Method,
    url: String,
    bearer: String,
    body: Option<serde_json::Value>,
}

/// What the reads need: 20 files of the admin in Nextcloud, linked to a work package in a
/// project with the storage, the admin connected both ways.
pub async fn prepare(pair: &Pair, integration: &Integration) -> Vec<Read> {
    let op_browser = Browser::new();
    pair.sign_in_to_openproject(&op_browser, ADMIN, OPS_ADMIN_PASSWORD)
        .await;
    connect_openproject_user_to_nextcloud(
        pair,
        &op_browser,
        integration,
        ADMIN,
        NCOA_ADMIN_PASSWORD,
    )
    .await;
    let op_token = pair.openproject_tokens(&op_browser, integration).await;
    let nc_browser = Browser::new();
    pair.sign_in_to_nextcloud(&nc_browser, ADMIN, NCOA_ADMIN_PASSWORD)
        .await;
    let nc_token = pair.nextcloud_tokens(&nc_browser, integration).await;

    let nextcloud = pair.nextcloud_admin();
    let mut file_ids = Vec::new();
    for i in 0..20 {
        let id = nextcloud
            .upload(&format!("bench-{i}.txt"), format!("file {i}"))
            .await
            .expect("upload");
        file_ids.push(id);
    }

    let openproject = pair.openproject_admin();
    let project = openproject
        .create_project(&ProjectWrite::named("Bench"))
        .await
        .expect("project");
    openproject
        .enable_module(project.id, MODULE_STORAGES)
        .await
        .expect("storages module");
    openproject
        .create_project_storage(&ProjectStorageWrite::inactive(
            project.id,
            integration.storage_id,
        ))
        .await
        .expect("project storage");
    let wp = openproject
        .create_work_package(project.id, &WorkPackageWrite::new("Bench"))
        .await
        .expect("work package")
        .id;
    let links = file_ids
        .iter()
        .map(|id| FileLinkWrite {
            origin_data: OriginData {
                id: id.to_string(),
                name: format!("bench-{id}.txt"),
                mime_type: Some("text/plain".into()),
                created_at: None,
                last_modified_at: None,
                created_by_name: None,
                last_modified_by_name: None,
            },
            links: FileLinkWriteLinks {
                storage: Some(Link::to(storage_href(integration.storage_id))),
                storage_url: None,
            },
        })
        .collect();
    openproject
        .create_file_links(wp, &FileLinksWrite::new(links))
        .await
        .expect("file links");

    vec![
        Read {
            name: "Nextcloud POST filesinfo of 20 files (Bearer held by OpenProject)".into(),
            method: Method::POST,
            url: format!(
                "{}/ocs/v1.php/apps/integration_openproject/filesinfo",
                pair.nextcloud.url
            ),
            bearer: nc_token.access_token,
            body: Some(json!({"fileIds": file_ids})),
        },
        Read {
            name: "OpenProject GET /api/v3/storages/{id} (Bearer)".into(),
            method: Method::GET,
            url: format!(
                "{}/api/v3/storages/{}",
                pair.openproject.url, integration.storage_id
            ),
            bearer: op_token.access_token.clone(),
            body: None,
        },
        Read {
            name: "OpenProject GET a work package's 20 file links, live status (Bearer)".into(),
            method: Method::GET,
            url: format!(
                "{}/api/v3/work_packages/{wp}/file_links",
                pair.openproject.url
            ),
            bearer: op_token.access_token,
            body: None,
        },
    ]
}

async fn send(client: &reqwest::Client, read: &Read) {
    let mut request = client
        .request(read.method.clone(), &read.url)
        .bearer_auth(&read.bearer)
        .header("OCS-APIRequest", "true")
        .header("Accept", "application/json");
    if let Some(body) = &read.body {
        request = request.json(body);
    }
    let response = request.send().await.expect("read request");
    assert!(
        response.status().is_success(),
        "{}: {}",
        read.name,
        response.status()
    );
    let _ = response.bytes().await;
}

/// The median closed-loop run (with the CPU time of the processes `servers`), and one open-loop
/// run at [`STEADY_RATE`].
pub async fn measure(read: &Read, servers: &[u32], runs: usize) -> (Figures, Figures) {
    let client = reqwest::Client::new();
    let closed = {
        let (client, read) = (client.clone(), read.clone());
        Arc::new(move |state: ()| {
            let (client, read) = (client.clone(), read.clone());
            async move {
                send(&client, &read).await;
                state
            }
        })
    };
    let (closed_figures, _) =
        load::measured(runs, servers, vec![(); load::CONCURRENCY], closed).await;
    let steady = {
        let read = read.clone();
        Arc::new(move || {
            let (client, read) = (client.clone(), read.clone());
            async move { send(&client, &read).await }
        })
    };
    let open = load::open_loop(STEADY_RATE, STEADY_REQUESTS, steady).await;
    (closed_figures, open)
}
