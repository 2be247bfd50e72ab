//! Refresh-grant load on both token endpoints: every request presents the refresh token the
//! previous answer rotated in, so each one reads, revokes or retires, and writes a token pair.

use std::sync::Arc;

use integration_tests::{
    Browser, Integration, Pair, ADMIN, NCOA_ADMIN_PASSWORD, OPS_ADMIN_PASSWORD,
};
use serde_json::Value;

use crate::load::{self, Figures};

/// One token family: the client it belongs to and its current refresh token.
#[derive(Clone)]
pub struct Chain {
    client_id: String,
    client_secret: String,
    refresh_token: String,
}

impl Chain {
    pub fn new(client_id: &str, client_secret: &str, refresh_token: String) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            refresh_token,
        }
    }
}

/// `n` token families of OpenProject's application for the storage, all of the admin.
pub async fn openproject_refresh_chains(
    pair: &Pair,
    integration: &Integration,
    n: usize,
) -> Vec<Chain> {
    let browser = Browser::new();
    pair.sign_in_to_openproject(&browser, ADMIN, OPS_ADMIN_PASSWORD)
        .await;
    let mut chains = Vec::new();
    for _ in 0..n {
        let tokens = pair.openproject_tokens(&browser, integration).await;
        chains.push(Chain {
            client_id: integration.openproject_client_id.clone(),
            client_secret: integration.openproject_client_secret.clone(),
            refresh_token: tokens.refresh_token,
        });
    }
    chains
}

/// `n` token families of Nextcloud's client for OpenProject, all of the admin.
pub async fn nextcloud_refresh_chains(
    pair: &Pair,
    integration: &Integration,
    n: usize,
) -> Vec<Chain> {
    let browser = Browser::new();
    pair.sign_in_to_nextcloud(&browser, ADMIN, NCOA_ADMIN_PASSWORD)
        .await;
    let mut chains = Vec::new();
    for _ in 0..n {
        let tokens = pair.nextcloud_tokens(&browser, integration).await;
        chains.push(Chain {
            client_id: integration.nextcloud_client_id.clone(),
            client_secret: integration.nextcloud_client_secret.clone(),
            refresh_token: tokens.refresh_token,
        });
    }
    chains
}

/// `runs` runs of `load::REQUESTS` refresh grants at `base` + `path`; the median run, with the
/// CPU time of the processes `servers`.
pub async fn refresh_load(
    base: &str,
    path: &str,
    servers: &[u32],
    chains: Vec<Chain>,
    runs: usize,
) -> Figures {
    let url = Arc::new(format!("{base}{path}"));
    let client = reqwest::Client::new();
    let step = Arc::new(move |chain: Chain| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let response = client
                .post(url.as_str())
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", chain.refresh_token.as_str()),
                    ("client_id", chain.client_id.as_str()),
                    ("client_secret", chain.client_secret.as_str()),
                ])
                .send()
                .await
                .expect("refresh request");
            assert!(
                response.status().is_success(),
                "refresh failed: {}",
                response.status()
            );
            let body: Value = response.json().await.expect("token JSON");
            Chain {
                refresh_token: body["refresh_token"]
                    .as_str()
                    .expect("refresh_token")
                    .to_string(),
                ..chain
            }
        }
    });
    load::measured(runs, servers, chains, step).await.0
}
