//! Two processes of each service on one database, as behind a load balancer: a token revoked,
//! or whose client is replaced, through one replica is refused by the other on its next use
//! (ARCHITECTURE.md "Stateless processes"; spec/oauth.md §7.10).

use integration_tests::{
    json_of, spawn_pair, Browser, ADMIN, APP, NCOA_ADMIN_PASSWORD, OPS_ADMIN_PASSWORD,
};
use reqwest::{Method, StatusCode};

async fn status_of(request: reqwest::RequestBuilder) -> StatusCode {
    request.send().await.expect("request is sent").status()
}

#[tokio::test]
async fn revocation_through_one_replica_holds_on_the_other() {
    let pair = spawn_pair();
    let integration = pair.set_up_integration().await;
    let openproject_b = pair.openproject.replica();
    let nextcloud_b = pair.nextcloud.replica();
    let client = &pair.client;

    // OpenProject: issued by A, used at B, revoked at A.
    let browser = Browser::new();
    pair.sign_in_to_openproject(&browser, ADMIN, OPS_ADMIN_PASSWORD)
        .await;
    let tokens = pair.openproject_tokens(&browser, &integration).await;
    let me_at_b = || {
        client
            .get(format!("{}/api/v3/users/me", openproject_b.url))
            .bearer_auth(&tokens.access_token)
    };
    assert_eq!(status_of(me_at_b()).await, StatusCode::OK);
    let (status, _) = json_of(
        client
            .post(format!("{}/oauth/revoke", pair.openproject.url))
            .basic_auth(
                &integration.openproject_client_id,
                Some(&integration.openproject_client_secret),
            )
            .form(&[("token", tokens.refresh_token.as_str())]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_of(me_at_b()).await, StatusCode::UNAUTHORIZED);

    // Replacing the application at B ends A's tokens at once.
    let tokens = pair.openproject_tokens(&browser, &integration).await;
    let me_at_a = client
        .get(format!("{}/api/v3/users/me", pair.openproject.url))
        .bearer_auth(&tokens.access_token);
    assert_eq!(
        status_of(me_at_a.try_clone().unwrap()).await,
        StatusCode::OK
    );
    let replaced = client
        .post(format!(
            "{}/api/v3/storages/{}/oauth_application",
            openproject_b.url, integration.storage_id
        ))
        .basic_auth(ADMIN, Some(OPS_ADMIN_PASSWORD));
    assert_eq!(status_of(replaced).await, StatusCode::CREATED);
    assert_eq!(status_of(me_at_a).await, StatusCode::UNAUTHORIZED);

    // Nextcloud: issued by A, used at B, the client rotated at A.
    let browser = Browser::new();
    pair.sign_in_to_nextcloud(&browser, ADMIN, NCOA_ADMIN_PASSWORD)
        .await;
    let tokens = pair.nextcloud_tokens(&browser, &integration).await;
    let user_at_b = || {
        client
            .get(format!(
                "{}/ocs/v2.php/cloud/user?format=json",
                nextcloud_b.url
            ))
            .header("OCS-APIRequest", "true")
            .bearer_auth(&tokens.access_token)
    };
    assert_eq!(status_of(user_at_b()).await, StatusCode::OK);
    let (status, _) = json_of(pair.nc(Method::POST, &format!("{APP}/nc-oauth"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_of(user_at_b()).await, StatusCode::UNAUTHORIZED);
}
