//! What a paired service calls on the other without a user: the public keys, OpenProject's half
//! of the pairing exchange, and the delivery of a signed message.

use reqwest::{header::CONTENT_TYPE, StatusCode};

use super::{call, expect_status, ClientError};
use crate::pairing::{
    JwkSet, PairingExchange, PairingExchangeAnswer, EXCHANGE_PATH, JWKS_PATH, MESSAGE_MEDIA_TYPE,
};

/// The other service at its public URL.
#[derive(Debug, Clone)]
pub struct PeerApi {
    http: reqwest::Client,
    base: String,
}

impl PeerApi {
    pub fn new(http: reqwest::Client, base_url: &str) -> Self {
        Self {
            http,
            base: base_url.trim_end_matches('/').to_string(),
        }
    }

    /// `GET /.well-known/jwks.json`: the keys its codes and messages are signed with.
    pub async fn public_keys(&self) -> Result<JwkSet, ClientError> {
        call(
            self.http.get(format!("{}{JWKS_PATH}", self.base)),
            StatusCode::OK,
        )
        .await
    }

    /// `POST /api/v3/storages/pairing` on OpenProject: Nextcloud's values for OpenProject's.
    pub async fn exchange(
        &self,
        exchange: &PairingExchange,
    ) -> Result<PairingExchangeAnswer, ClientError> {
        call(
            self.http
                .post(format!("{}{EXCHANGE_PATH}", self.base))
                .json(exchange),
            StatusCode::OK,
        )
        .await
    }

    /// Posts a signed message to `path` (the receiver's message endpoint); it answers 204 when
    /// it applied the message now or before.
    pub async fn deliver(&self, path: &str, signed: &str) -> Result<(), ClientError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, MESSAGE_MEDIA_TYPE)
            .body(signed.to_string())
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        expect_status(status, StatusCode::NO_CONTENT, body).map(drop)
    }
}
