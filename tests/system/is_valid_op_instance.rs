//! Step 1 of the setup (spec/flows.md §1): Nextcloud's `is-valid-op-instance` probing a real
//! `openproject-storages` process, and a real Nextcloud side that is not OpenProject.

use integration_tests::{spawn_pair, ADMIN, NCOA_ADMIN_PASSWORD};
use serde_json::json;
use storage_protocol::integration_app::{IsValidOpInstanceResponse, OpInstanceResult};

#[tokio::test]
async fn a_real_openproject_is_a_valid_instance() {
    let pair = spawn_pair();
    let probe = |url: String| {
        pair.client
            .post(format!(
                "{}/index.php/apps/integration_openproject/is-valid-op-instance",
                pair.nextcloud.url
            ))
            .basic_auth(ADMIN, Some(NCOA_ADMIN_PASSWORD))
            .json(&json!({ "url": url }))
            .send()
    };
    for url in [
        pair.openproject.url.clone(),
        format!("{}/", pair.openproject.url),
    ] {
        let response = probe(url.clone()).await.expect("request is sent");
        assert_eq!(response.status(), 200);
        let answer: IsValidOpInstanceResponse = response.json().await.expect("the contract body");
        assert_eq!(
            answer,
            IsValidOpInstanceResponse::new(OpInstanceResult::Valid),
            "{url}"
        );
    }
    // Nextcloud itself answers /api/v3/ with its own 404: a client exception, not OpenProject.
    let response = probe(pair.nextcloud.url.clone())
        .await
        .expect("request is sent");
    let answer: IsValidOpInstanceResponse = response.json().await.expect("the contract body");
    assert_eq!(
        answer,
        IsValidOpInstanceResponse::with_details(OpInstanceResult::ClientException, "404 Not Found")
    );
}
