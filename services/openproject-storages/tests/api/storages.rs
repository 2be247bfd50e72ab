//! File storages (openproject-storages.md §6–§8, §13), against a real Nextcloud side process for
//! the live host check and against fakes for its failures.

use diesel::RunQueryDsl;
use integration_tests::spawn_nextcloud;
use openproject_storages::db::{
    oauth_applications::OAuthApplication, oauth_client_credentials::OAuthClientCredentials,
    storages::Storage,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use storage_protocol::storages::{messages as msg, PROVIDER_NEXTCLOUD};

use crate::{
    fake_nextcloud::{
        closed_port_url, counting_server, silent_server_url, Behaviour, FakeNextcloud,
    },
    helpers::{body, fixture, spawn_app, spawn_app_with, TestApp, PASSWORD},
};

const MULTIPLE: &str = "urn:openproject-org:api:v3:errors:MultipleErrors";
const VIOLATION: &str = "urn:openproject-org:api:v3:errors:PropertyConstraintViolation";

fn storage_body(name: &str, host: &str) -> Value {
    json!({"name": name, "applicationPassword": "",
           "_links": {"origin": {"href": host}, "type": {"href": PROVIDER_NEXTCLOUD}}})
}

async fn post_storage(app: &TestApp, body: &Value) -> reqwest::Response {
    app.admin_json(Method::POST, "/api/v3/storages", body).await
}

async fn create_storage(app: &TestApp, name: &str, host: &str) -> Value {
    app.create_storage(name, host).await
}

/// The messages of a 422, one or several.
async fn violations(response: reqwest::Response) -> Vec<(String, String)> {
    assert_eq!(response.status(), 422);
    let error = body(response).await;
    let one = |e: &Value| {
        (
            e["_embedded"]["details"]["attribute"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            e["message"].as_str().unwrap().to_string(),
        )
    };
    if error["errorIdentifier"] == MULTIPLE {
        error["_embedded"]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(one)
            .collect()
    } else {
        vec![one(&error)]
    }
}

fn pair(attribute: &str, message: &str) -> (String, String) {
    (attribute.to_string(), message.to_string())
}

#[tokio::test]
async fn creating_a_storage_checks_nextcloud_and_shows_the_application_secret_once() {
    let app = spawn_app().await;
    let nextcloud = spawn_nextcloud();
    let created = create_storage(&app, "Nextcloud", &format!("{}//", nextcloud.url)).await;

    let host = format!("{}/", nextcloud.url);
    assert_eq!(created["_type"], "Storage");
    assert_eq!(created["name"], "Nextcloud");
    assert_eq!(created["configured"], false);
    assert_eq!(created["hasApplicationPassword"], false);
    assert_eq!(created["_links"]["origin"]["href"], host);
    assert_eq!(
        created["_links"]["type"],
        json!({"href": PROVIDER_NEXTCLOUD, "title": "Nextcloud"})
    );
    assert_eq!(
        created["_links"]["authorizationState"]["href"],
        "urn:openproject-org:api:v3:storages:authorization:Error"
    );
    assert!(created["_links"].get("authorize").is_none());
    assert_eq!(
        created["_links"]["oauthClientCredentials"],
        json!({"href": null})
    );
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        created["_links"]["projectStorages"]["href"],
        format!(
            r#"/api/v3/project_storages?filters=[{{"storageId":{{"operator":"=","values":["{id}"]}}}}]"#
        )
    );

    let application = &created["_embedded"]["oauthApplication"];
    assert_eq!(application["name"], "Nextcloud (Nextcloud)");
    assert_eq!(application["scopes"], json!(["api_v3"]));
    assert_eq!(application["confidential"], true);
    assert_eq!(
        application["_links"]["redirectUri"],
        json!([{"href": format!("{host}index.php/apps/integration_openproject/oauth-redirect")}])
    );
    assert_eq!(
        application["_links"]["integration"]["href"],
        format!("/api/v3/storages/{id}")
    );
    assert_eq!(application["_links"]["owner"]["title"], "OpenProject Admin");
    let client_id = application["clientId"].as_str().unwrap();
    let secret = application["clientSecret"].as_str().unwrap().to_string();
    for value in [client_id, secret.as_str()] {
        assert_eq!(value.len(), 43);
        assert!(value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    // The secret never appears again, and only its digest is stored.
    let again = body(
        app.as_admin(app.get(&format!("/api/v3/storages/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(again["_embedded"]["oauthApplication"]
        .get("clientSecret")
        .is_none());
    assert_eq!(
        again["_embedded"]["oauthApplication"]["clientId"],
        client_id
    );
    let app_href = created["_links"]["oauthApplication"]["href"]
        .as_str()
        .unwrap();
    let shown = body(app.as_admin(app.get(app_href)).send().await.unwrap()).await;
    assert_eq!(shown["_type"], "OAuthApplication");
    assert!(shown.get("clientSecret").is_none());
    let application_id = shown["id"].as_i64().unwrap();
    let stored = app
        .db
        .query(move |conn| OAuthApplication::find(conn, application_id))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.secret_digest, secret);
    assert_eq!(stored.secret_digest, service_kit::crypto::digest(&secret));

    // Same shape as the golden file, values aside.
    let golden = fixture("op_storage_created");
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&created), keys(&golden));
    assert_eq!(keys(&created["_links"]), keys(&golden["_links"]));

    // Listed for the admin.
    let list = body(
        app.as_admin(app.get("/api/v3/storages"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["_type"], "Collection");
    assert_eq!(list["total"], 1);
    assert_eq!(list["count"], 1);
    assert!(list.get("pageSize").is_none());
    assert_eq!(list["_embedded"]["elements"][0]["id"], id);
    assert_eq!(list["_links"]["self"]["href"], "/api/v3/storages");
}

#[tokio::test]
async fn a_second_identical_create_reports_exactly_host_and_name_taken() {
    let app = spawn_app().await;
    let nextcloud = spawn_nextcloud();
    create_storage(&app, "Nextcloud", &nextcloud.url).await;
    let response = post_storage(
        &app,
        &storage_body("Nextcloud", &format!("{}/", nextcloud.url)),
    )
    .await;
    let error = body(response).await;
    assert_eq!(error["errorIdentifier"], MULTIPLE);
    assert_eq!(
        error["message"],
        "Multiple field constraints have been violated."
    );
    let errors = error["_embedded"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["errorIdentifier"], VIOLATION);
    assert_eq!(errors[0]["message"], msg::HOST_TAKEN);
    assert_eq!(errors[0]["_embedded"]["details"]["attribute"], "host");
    assert_eq!(errors[1]["message"], msg::NAME_TAKEN);
    assert_eq!(errors[1]["_embedded"]["details"]["attribute"], "name");
    // Nothing more was stored.
    let storages = app.db.query(Storage::all).await.unwrap();
    assert_eq!(storages.len(), 1);
}

#[tokio::test]
async fn every_local_rule_has_its_message_and_they_come_in_order() {
    let app = spawn_app().await;
    let check = |body: Value| {
        let app = &app;
        async move { violations(post_storage(app, &body).await).await }
    };
    let with_host = |host: &str| storage_body("Nextcloud", host);

    assert_eq!(
        check(storage_body("", "https://nc.example.com"))
            .await
            .first()
            .cloned(),
        Some(pair("name", msg::NAME_BLANK))
    );
    assert_eq!(
        check(with_host("not a url")).await,
        vec![pair("host", msg::HOST_INVALID_URL)]
    );
    assert_eq!(
        check(with_host("nc.example.com")).await,
        vec![pair("host", msg::HOST_UNSUPPORTED_PROTOCOL)]
    );
    assert_eq!(
        check(with_host("ftp://nc.example.com")).await,
        vec![pair("host", msg::HOST_UNSUPPORTED_PROTOCOL)]
    );
    assert_eq!(
        check(with_host("https://")).await,
        vec![pair("host", msg::HOST_INVALID_URL)]
    );
    assert_eq!(
        check(with_host(&format!(
            "https://{}.example.com",
            "a".repeat(250)
        )))
        .await,
        vec![pair("host", msg::HOST_TOO_LONG)]
    );
    let insecure = check(with_host("http://nc.example.com")).await;
    assert_eq!(insecure, vec![pair("host", msg::HOST_NOT_SECURE)]);
    assert!(
        insecure[0].1.ends_with(".\n"),
        "the secure-context message ends with a line feed"
    );
    assert_eq!(
        check(json!({"name": "x", "_links": {"origin": {"href": "https://a.example"}}})).await[0],
        pair("providerType", msg::PROVIDER_TYPE_INVALID)
    );
    assert_eq!(
        check(
            json!({"name": "x", "_links": {"origin": {"href": "ftp://a"},
            "type": {"href": "urn:openproject-org:api:v3:storages:OneDrive"}}})
        )
        .await,
        vec![
            pair("providerType", msg::PROVIDER_TYPE_INVALID),
            pair("host", msg::HOST_UNSUPPORTED_PROTOCOL)
        ]
    );

    // Several failures at once: in the table's order, wrapped in MultipleErrors.
    let all = check(json!({"name": "n".repeat(256),
        "_links": {"origin": {"href": "http://nc.example.com"},
                   "type": {"href": "urn:openproject-org:api:v3:storages:SharePoint"},
                   "authenticationMethod": {"href": "urn:openproject-org:api:v3:storages:authenticationMethod:OAuth2SSO"}}}))
    .await;
    assert_eq!(
        all,
        vec![
            pair("providerType", msg::PROVIDER_TYPE_INVALID),
            pair("name", msg::NAME_TOO_LONG),
            pair("host", msg::HOST_NOT_SECURE),
            pair("authenticationMethod", msg::AUTHENTICATION_METHOD_INVALID),
        ]
    );

    // Wrong JSON types are rule failures, not crashes.
    assert_eq!(
        check(json!({"name": 5, "_links": {"origin": {"href": 7}, "type": {"href": PROVIDER_NEXTCLOUD}}})).await,
        vec![pair("name", msg::NAME_BLANK), pair("host", msg::HOST_INVALID_URL)]
    );
    // No host at all fails the scheme rule.
    assert_eq!(
        check(json!({"name": "x", "_links": {"type": {"href": PROVIDER_NEXTCLOUD}}})).await,
        vec![pair("host", msg::HOST_UNSUPPORTED_PROTOCOL)]
    );
    assert!(app.db.query(Storage::all).await.unwrap().is_empty());
}

#[tokio::test]
async fn each_host_check_failure_has_its_own_message() {
    let app = spawn_app().await;
    let cases = [
        (closed_port_url(), msg::HOST_UNREACHABLE),
        // Times out after the 3 s read timeout of the host check.
        (silent_server_url(), msg::HOST_UNREACHABLE),
        (
            FakeNextcloud::start(Behaviour::NotNextcloud).url,
            msg::HOST_NOT_NEXTCLOUD,
        ),
        (
            FakeNextcloud::start(Behaviour::OldVersion).url,
            msg::HOST_VERSION_TOO_OLD,
        ),
        (
            FakeNextcloud::start(Behaviour::CapabilitiesStatus(404)).url,
            msg::HOST_UNREACHABLE,
        ),
        (
            FakeNextcloud::start(Behaviour::CheckConfigRedirects).url,
            msg::HOST_APP_MISSING,
        ),
        (
            FakeNextcloud::start(Behaviour::CheckConfigStatus(500)).url,
            msg::HOST_UNREACHABLE,
        ),
        (
            FakeNextcloud::start(Behaviour::HeaderStripped).url,
            msg::HOST_NO_AUTHORIZATION_HEADER,
        ),
    ];
    for (host, message) in cases {
        let errors = violations(post_storage(&app, &storage_body("Nextcloud", &host)).await).await;
        assert_eq!(errors, vec![pair("host", message)], "host {host}");
    }
    // A fake that behaves like Nextcloud passes.
    let good = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "pw".into(),
    });
    create_storage(&app, "Nextcloud", &good.url).await;
}

#[tokio::test]
async fn local_hosts_are_refused_without_a_connection_unless_allowed() {
    let app = spawn_app_with(|s| s.allow_local_remote_servers = false).await;
    let (loopback, accepted) = counting_server("127.0.0.1:0").unwrap();
    let port = loopback.rsplit(':').next().unwrap();
    let mut hosts = vec![
        loopback.clone(),
        format!("http://localhost:{port}"),
        format!("https://127.0.0.1:{port}"),
        // A secure context needs https away from loopback; link-local and private hosts are
        // refused before any TLS handshake.
        "https://169.254.169.254/latest".to_string(),
        "https://[fe80::1]/".to_string(),
        "https://[fec0::1]/".to_string(),
        "https://10.0.0.1/".to_string(),
        "https://[::ffff:127.0.0.1]/".to_string(),
        "https://[64:ff9b::7f00:1]/".to_string(),
        // What used to tell an open local port from a closed one: a silent server, a closed
        // port, a server that answers but is no Nextcloud, and one that is.
        closed_port_url(),
        silent_server_url(),
        FakeNextcloud::start(Behaviour::NotNextcloud).url,
        FakeNextcloud::start(Behaviour::Healthy {
            app_password: "pw".into(),
        })
        .url,
    ];
    let ipv6 = counting_server("[::1]:0");
    if let Some((url, _)) = &ipv6 {
        hosts.push(url.clone());
    }
    for host in &hosts {
        let errors = violations(post_storage(&app, &storage_body("Nextcloud", host)).await).await;
        assert_eq!(
            errors,
            vec![pair("host", msg::HOST_UNREACHABLE)],
            "host {host}"
        );
    }
    assert!(app.db.query(Storage::all).await.unwrap().is_empty());

    // An update to a local host is refused the same way, and the record keeps its host.
    let stored = app
        .db
        .query(|conn| {
            Storage::insert(
                conn,
                &openproject_storages::db::storages::NewStorage {
                    name: "Remote",
                    provider_type: PROVIDER_NEXTCLOUD,
                    host: Some("https://nextcloud.example.com/"),
                    authentication_method: storage_protocol::storages::AUTH_TWO_WAY_OAUTH2,
                    application_password_sealed: None,
                    storage_audience: None,
                    token_exchange_scope: None,
                    forbidden_file_name_characters: None,
                    creator_id: None,
                    created_at: 0,
                    updated_at: 0,
                },
            )
        })
        .await
        .unwrap();
    for host in [&loopback, "https://169.254.169.254/"] {
        let errors = violations(
            app.admin_json(
                Method::PATCH,
                &format!("/api/v3/storages/{}", stored.id),
                &json!({"_links": {"origin": {"href": host}}}),
            )
            .await,
        )
        .await;
        assert_eq!(
            errors,
            vec![pair("host", msg::HOST_UNREACHABLE)],
            "host {host}"
        );
    }
    let kept = app.db.query(Storage::all).await.unwrap();
    assert_eq!(
        kept[0].host.as_deref(),
        Some("https://nextcloud.example.com/")
    );

    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "no connection to 127.0.0.1"
    );
    if let Some((_, accepted)) = ipv6 {
        assert_eq!(accepted.load(Ordering::SeqCst), 0, "no connection to ::1");
    }

    // Allowed (as in development), the same server is asked.
    let allowed = spawn_app().await;
    let errors =
        violations(post_storage(&allowed, &storage_body("Nextcloud", &loopback)).await).await;
    assert_eq!(errors, vec![pair("host", msg::HOST_UNREACHABLE)]);
    assert!(
        accepted.load(Ordering::SeqCst) > 0,
        "allowed, the host is probed"
    );
}

#[tokio::test]
async fn only_admins_write_and_other_users_see_no_storage_outside_their_projects() {
    let app = spawn_app().await;
    let nextcloud = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "pw".into(),
    });
    let created = create_storage(&app, "Nextcloud", &nextcloud.url).await;
    let id = created["id"].as_i64().unwrap();
    app.create_user("alice").await;
    let as_alice = |b: reqwest::RequestBuilder| b.basic_auth("alice", Some(PASSWORD));

    let response = as_alice(app.client.post(app.url("/api/v3/storages")))
        .json(&storage_body("Mine", "https://nc.example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(body(response).await, fixture("op_error_missing_permission"));

    let list = body(as_alice(app.get("/api/v3/storages")).send().await.unwrap()).await;
    assert_eq!(list["total"], 0);
    for path in [
        format!("/api/v3/storages/{id}"),
        format!("/api/v3/storages/{id}/open"),
    ] {
        let response = as_alice(app.get(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let application = created["_links"]["oauthApplication"]["href"]
        .as_str()
        .unwrap();
    let response = as_alice(app.get(application)).send().await.unwrap();
    assert_eq!(response.status(), 403);
    let response = app.get("/api/v3/storages").send().await.unwrap();
    assert_eq!(response.status(), 401);

    for path in [
        "/api/v3/storages/999",
        "/api/v3/storages/abc",
        "/api/v3/oauth_applications/999",
        "/api/v3/oauth_client_credentials/999",
    ] {
        let response = app.as_admin(app.get(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(body(response).await, fixture("op_error_not_found"));
    }

    // A project admin (manage_files_in_project) sees every storage; a member sees the storage
    // once it is enabled in a project where they hold view_file_links (§6.1).
    let project = app.create_project("One").await;
    app.enable_module(project, "storages").await;
    let bob = app.create_user("bob").await;
    app.add_member(project, bob, crate::helpers::PROJECT_ADMIN_ROLE)
        .await;
    let alice_id = app.create_user("alice2").await;
    app.add_member(project, alice_id, crate::helpers::MEMBER_ROLE)
        .await;
    let seen = |login: &'static str| {
        let app = &app;
        async move { body(app.user_get(login, "/api/v3/storages").await).await["total"].clone() }
    };
    assert_eq!(seen("bob").await, 1);
    assert_eq!(seen("alice2").await, 0);
    app.enable_storage(project, id).await;
    assert_eq!(seen("alice2").await, 1);
    assert_eq!(
        app.user_get("alice2", &format!("/api/v3/storages/{id}"))
            .await
            .status(),
        200
    );
    assert_eq!(seen("alice").await, 0);
}

#[tokio::test]
async fn malformed_bodies_get_the_contract_errors() {
    let app = spawn_app().await;
    let response = app
        .as_admin(app.client.post(app.url("/api/v3/storages")))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error = body(response).await;
    assert_eq!(
        error["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:InvalidRequestBody"
    );
    assert!(error["_embedded"]["details"]["parseError"].is_string());

    let response = app
        .as_admin(app.client.post(app.url("/api/v3/storages")))
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);

    let huge = json!({"name": "x".repeat(2 * 1024 * 1024)});
    let response = post_storage(&app, &huge).await;
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn patching_renames_the_application_and_a_new_host_is_checked_again() {
    let app = spawn_app().await;
    let first = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "pw".into(),
    });
    let created = create_storage(&app, "Nextcloud", &first.url).await;
    let id = created["id"].as_i64().unwrap();
    let path = format!("/api/v3/storages/{id}");
    let app_id = created["_embedded"]["oauthApplication"]["id"]
        .as_i64()
        .unwrap();
    let client_id = created["_embedded"]["oauthApplication"]["clientId"].clone();

    let renamed = app
        .admin_json(Method::PATCH, &path, &json!({"name": "Files"}))
        .await;
    assert_eq!(renamed.status(), 200);
    let renamed = body(renamed).await;
    assert_eq!(renamed["name"], "Files");
    assert_eq!(
        renamed["_embedded"]["oauthApplication"]["name"],
        "Files (Nextcloud)"
    );
    assert_eq!(
        renamed["_embedded"]["oauthApplication"]["clientId"], client_id,
        "no new credentials"
    );
    assert!(renamed["_embedded"]["oauthApplication"]
        .get("clientSecret")
        .is_none());

    // A host that fails the live check leaves the record as it was.
    let broken = closed_port_url();
    let errors = violations(
        app.admin_json(
            Method::PATCH,
            &path,
            &json!({"_links": {"origin": {"href": broken}}}),
        )
        .await,
    )
    .await;
    assert_eq!(errors, vec![pair("host", msg::HOST_UNREACHABLE)]);

    let second = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "pw".into(),
    });
    let moved = body(
        app.admin_json(
            Method::PATCH,
            &path,
            &json!({"_links": {"origin": {"href": second.url}}}),
        )
        .await,
    )
    .await;
    assert_eq!(
        moved["_links"]["origin"]["href"],
        format!("{}/", second.url)
    );
    let application = app
        .db
        .query(move |conn| OAuthApplication::find(conn, app_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        application.redirect_uri,
        format!(
            "{}/index.php/apps/integration_openproject/oauth-redirect",
            second.url
        )
    );
    assert_eq!(application.name, "Files (Nextcloud)");

    // The provider type cannot change; repeating it is fine.
    let error = body(
        app.admin_json(
            Method::PATCH,
            &path,
            &json!({"_links": {"type": {"href": "urn:openproject-org:api:v3:storages:OneDrive"}}}),
        )
        .await,
    )
    .await;
    assert_eq!(
        error["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:PropertyIsReadOnly"
    );
    assert_eq!(error["_embedded"]["details"]["attribute"], "providerType");
    let same = app
        .admin_json(
            Method::PATCH,
            &path,
            &json!({"_links": {"type": {"href": PROVIDER_NEXTCLOUD}}}),
        )
        .await;
    assert_eq!(same.status(), 200);

    // Renaming to another storage's name.
    let other = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "pw".into(),
    });
    create_storage(&app, "Other", &other.url).await;
    let errors = violations(
        app.admin_json(Method::PATCH, &path, &json!({"name": "Other"}))
            .await,
    )
    .await;
    assert_eq!(errors, vec![pair("name", msg::NAME_TAKEN)]);
}

#[tokio::test]
async fn the_application_password_is_checked_with_nextcloud_and_never_shown() {
    let app = spawn_app().await;
    let nextcloud = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "right-password".into(),
    });
    let created = create_storage(&app, "Nextcloud", &nextcloud.url).await;
    let path = format!("/api/v3/storages/{}", created["id"]);

    let errors = violations(
        app.admin_json(
            Method::PATCH,
            &path,
            &json!({"applicationPassword": "wrong-password"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        errors,
        vec![pair("password", msg::APPLICATION_PASSWORD_INVALID)]
    );

    let on = body(
        app.admin_json(
            Method::PATCH,
            &path,
            &json!({"applicationPassword": "right-password"}),
        )
        .await,
    )
    .await;
    assert_eq!(on["hasApplicationPassword"], true);
    assert!(!on.to_string().contains("right-password"));
    let id = on["id"].as_i64().unwrap();
    let stored = app
        .db
        .query(move |conn| Storage::find(conn, id))
        .await
        .unwrap()
        .unwrap();
    let sealed = stored.application_password_sealed.unwrap();
    assert!(!sealed.contains("right-password"), "stored encrypted");

    // The same password again is not re-checked; "" and null switch management off.
    let unchanged = app
        .admin_json(
            Method::PATCH,
            &path,
            &json!({"applicationPassword": "right-password"}),
        )
        .await;
    assert_eq!(unchanged.status(), 200);
    let off = body(
        app.admin_json(Method::PATCH, &path, &json!({"applicationPassword": ""}))
            .await,
    )
    .await;
    assert_eq!(off["hasApplicationPassword"], false);

    // A Nextcloud that cannot answer: the other message.
    let unreachable = FakeNextcloud::start(Behaviour::DavBroken);
    let created = create_storage(&app, "Broken dav", &unreachable.url).await;
    let errors = violations(
        app.admin_json(
            Method::PATCH,
            &format!("/api/v3/storages/{}", created["id"]),
            &json!({"applicationPassword": "anything"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        errors,
        vec![pair("password", msg::APPLICATION_PASSWORD_UNVERIFIED)]
    );
}

async fn add_credentials(
    app: &TestApp,
    storage_id: i64,
    client_id: &str,
    secret: &str,
) -> reqwest::Response {
    app.add_client_credentials(storage_id, client_id, secret)
        .await
}

/// Stores a Nextcloud token for `user_id`, as the OAuth callback will.
async fn seed_token(app: &TestApp, user_id: i64, credentials_id: i64) {
    app.db
        .query(move |conn| {
            diesel::sql_query(format!(
                "INSERT INTO oauth_client_tokens (oauth_client_credentials_id, user_id, access_token_sealed, created_at, updated_at) \
                 VALUES ({credentials_id}, {user_id}, 'sealed', 0, 0)"
            ))
            .execute(conn)
        })
        .await
        .unwrap();
}

async fn token_count(app: &TestApp) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.db
        .query(|conn| {
            diesel::sql_query("SELECT COUNT(*) AS n FROM oauth_client_tokens")
                .get_result::<Count>(conn)
        })
        .await
        .unwrap()
        .n
}

#[tokio::test]
async fn client_credentials_complete_the_setup_and_replacing_them_drops_user_tokens() {
    let app = spawn_app().await;
    let nextcloud = spawn_nextcloud();
    let created = create_storage(&app, "Nextcloud", &nextcloud.url).await;
    let id = created["id"].as_i64().unwrap();

    // Validation, in order; non-strings count as blank.
    let errors = violations(add_credentials(&app, id, "", "").await).await;
    assert_eq!(
        errors,
        vec![
            pair("clientId", msg::CLIENT_ID_BLANK),
            pair("clientSecret", msg::CLIENT_SECRET_BLANK)
        ]
    );
    let errors = violations(
        app.admin_json(
            Method::POST,
            &format!("/api/v3/storages/{id}/oauth_client_credentials"),
            &json!({"clientId": 5, "clientSecret": ["x"]}),
        )
        .await,
    )
    .await;
    assert_eq!(
        errors,
        vec![
            pair("clientId", msg::CLIENT_ID_BLANK),
            pair("clientSecret", msg::CLIENT_SECRET_BLANK)
        ]
    );
    let long = "x".repeat(256);
    let errors = violations(add_credentials(&app, id, &long, &long).await).await;
    assert_eq!(
        errors,
        vec![
            pair("clientId", msg::CLIENT_ID_TOO_LONG),
            pair("clientSecret", msg::CLIENT_SECRET_TOO_LONG)
        ]
    );

    let response = add_credentials(&app, id, "nc-client-id", "nc-client-secret").await;
    assert_eq!(response.status(), 201);
    let credentials = body(response).await;
    assert_eq!(credentials["_type"], "OAuthClientCredentials");
    assert_eq!(credentials["clientId"], "nc-client-id");
    assert_eq!(credentials["confidential"], true);
    assert!(credentials.get("clientSecret").is_none());
    assert_eq!(
        credentials["_links"]["integration"],
        json!({"href": format!("/api/v3/storages/{id}"), "title": "Nextcloud"})
    );
    let credentials_id = credentials["id"].as_i64().unwrap();
    let stored = app
        .db
        .query(move |conn| OAuthClientCredentials::find(conn, credentials_id))
        .await
        .unwrap()
        .unwrap();
    assert!(
        !stored
            .client_secret_sealed
            .unwrap()
            .contains("nc-client-secret"),
        "stored encrypted"
    );
    let shown = body(
        app.as_admin(app.get(&format!(
            "/api/v3/oauth_client_credentials/{credentials_id}"
        )))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(shown, credentials);

    // Now configured; the admin is not connected and may authorize.
    let storage = body(
        app.as_admin(app.get(&format!("/api/v3/storages/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(storage["configured"], true);
    assert_eq!(
        storage["_links"]["authorizationState"],
        json!({"href": "urn:openproject-org:api:v3:storages:authorization:NotConnected", "title": "Not connected"})
    );
    let callback = format!("{}/oauth_clients/nc-client-id/callback", app.base);
    let encoded: String = url::form_urlencoded::byte_serialize(callback.as_bytes()).collect();
    assert_eq!(
        storage["_links"]["authorize"],
        json!({"href": format!("{}/index.php/apps/oauth2/authorize?response_type=code&client_id=nc-client-id&redirect_uri={encoded}", nextcloud.url), "title": "Authorize"})
    );
    assert_eq!(storage["_embedded"]["oauthClientCredentials"], credentials);

    // Replacing the credentials deletes every user's Nextcloud tokens for the storage.
    let alice = app.create_user("alice").await;
    seed_token(&app, alice, credentials_id).await;
    assert_eq!(token_count(&app).await, 1);
    let replaced =
        body(add_credentials(&app, id, "nc-client-id-2", "nc-client-secret-2").await).await;
    assert_ne!(replaced["id"], credentials_id);
    assert_eq!(token_count(&app).await, 0);
    let gone = app
        .as_admin(app.get(&format!(
            "/api/v3/oauth_client_credentials/{credentials_id}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn replacing_the_application_issues_new_credentials_once() {
    let app = spawn_app().await;
    let nextcloud = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "pw".into(),
    });
    let created = create_storage(&app, "Nextcloud", &nextcloud.url).await;
    let id = created["id"].as_i64().unwrap();
    let old = &created["_embedded"]["oauthApplication"];

    let response = app
        .as_admin(
            app.client
                .post(app.url(&format!("/api/v3/storages/{id}/oauth_application"))),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let new = body(response).await;
    assert_eq!(new["_type"], "OAuthApplication");
    assert_eq!(new["name"], old["name"]);
    assert_eq!(new["_links"]["redirectUri"], old["_links"]["redirectUri"]);
    assert_ne!(new["clientId"], old["clientId"]);
    assert_eq!(new["clientSecret"].as_str().unwrap().len(), 43);
    assert_ne!(new["clientSecret"], old["clientSecret"]);

    let old_href = created["_links"]["oauthApplication"]["href"]
        .as_str()
        .unwrap();
    assert_eq!(
        app.as_admin(app.get(old_href))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let storage = body(
        app.as_admin(app.get(&format!("/api/v3/storages/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        storage["_embedded"]["oauthApplication"]["clientId"],
        new["clientId"]
    );
    assert!(storage["_embedded"]["oauthApplication"]
        .get("clientSecret")
        .is_none());
}

#[tokio::test]
async fn deleting_a_storage_removes_everything_that_hangs_off_it() {
    let app = spawn_app().await;
    let nextcloud = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "pw".into(),
    });
    let created = create_storage(&app, "Nextcloud", &nextcloud.url).await;
    let id = created["id"].as_i64().unwrap();
    let credentials = body(add_credentials(&app, id, "nc-id", "nc-secret").await).await;
    let alice = app.create_user("alice").await;
    seed_token(&app, alice, credentials["id"].as_i64().unwrap()).await;
    // A project storage and a file link hang off it too.
    let project = app.create_project("One").await;
    app.enable_module(project, "storages").await;
    let project_storage = app.enable_storage(project, id).await;
    let wp = app.create_work_package(project, "Roadmap").await;
    let response = app
        .admin_json(
            reqwest::Method::POST,
            &format!("/api/v3/work_packages/{wp}/file_links"),
            &json!({"_embedded": {"elements": [{"originData": {"id": "1", "name": "a.txt"},
                    "_links": {"storage": {"href": format!("/api/v3/storages/{id}")}}}]}}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let link = body(response).await["_embedded"]["elements"][0]["id"].clone();

    let response = app
        .as_admin(
            app.client
                .delete(app.url(&format!("/api/v3/storages/{id}"))),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
    for path in [
        format!("/api/v3/storages/{id}"),
        created["_links"]["oauthApplication"]["href"]
            .as_str()
            .unwrap()
            .to_string(),
        format!("/api/v3/oauth_client_credentials/{}", credentials["id"]),
        format!("/api/v3/project_storages/{project_storage}"),
        format!("/api/v3/file_links/{link}"),
    ] {
        assert_eq!(
            app.as_admin(app.get(&path)).send().await.unwrap().status(),
            404,
            "{path}"
        );
    }
    assert_eq!(token_count(&app).await, 0);
    // The same name and host can be set up again.
    create_storage(&app, "Nextcloud", &nextcloud.url).await;
}

#[tokio::test]
async fn a_delete_that_fails_midway_leaves_everything_in_place() {
    let app = spawn_app().await;
    let nextcloud = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "pw".into(),
    });
    let created = create_storage(&app, "Nextcloud", &nextcloud.url).await;
    let id = created["id"].as_i64().unwrap();
    let credentials = body(add_credentials(&app, id, "nc-id", "nc-secret").await).await;
    let alice = app.create_user("alice").await;
    seed_token(&app, alice, credentials["id"].as_i64().unwrap()).await;

    // The last step of the delete (the storage row) fails after the others ran.
    let sqlite = app.db.is_sqlite();
    app.db
        .query(move |conn| {
            let statements: &[&str] = if sqlite {
                &["CREATE TRIGGER refuse_storage_delete BEFORE DELETE ON storages BEGIN SELECT RAISE(ABORT, 'injected failure'); END"]
            } else {
                &[
                    "CREATE FUNCTION refuse_delete() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql",
                    "CREATE TRIGGER refuse_storage_delete BEFORE DELETE ON storages FOR EACH ROW EXECUTE FUNCTION refuse_delete()",
                ]
            };
            for statement in statements {
                diesel::sql_query(*statement).execute(conn)?;
            }
            Ok(())
        })
        .await
        .unwrap();

    let response = app
        .as_admin(
            app.client
                .delete(app.url(&format!("/api/v3/storages/{id}"))),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let error = body(response).await;
    assert_eq!(
        error["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:InternalServerError"
    );
    assert!(!error.to_string().contains("injected"), "no internals leak");

    let storage = body(
        app.as_admin(app.get(&format!("/api/v3/storages/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(storage["configured"], true);
    assert_eq!(
        storage["_embedded"]["oauthApplication"]["id"],
        created["_embedded"]["oauthApplication"]["id"]
    );
    assert_eq!(
        storage["_embedded"]["oauthClientCredentials"]["id"],
        credentials["id"]
    );
    assert_eq!(token_count(&app).await, 1);
}

#[tokio::test]
async fn open_redirects_to_the_files_app() {
    let app = spawn_app().await;
    let nextcloud = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "pw".into(),
    });
    let created = create_storage(&app, "Nextcloud", &nextcloud.url).await;
    let response = app
        .as_admin(app.get(&format!("/api/v3/storages/{}/open", created["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["Location"],
        format!("{}/index.php/apps/files", nextcloud.url)
    );
}

#[tokio::test]
async fn health_reports_each_check_with_what_to_fix() {
    let app = spawn_app().await;
    let nextcloud = spawn_nextcloud();
    let created = create_storage(&app, "Nextcloud", &nextcloud.url).await;
    let id = created["id"].as_i64().unwrap();
    let health = |app: &TestApp| {
        let request = app.as_admin(app.get(&format!("/api/v3/storages/{id}/health")));
        async move { body(request.send().await.unwrap()).await }
    };

    // Not configured yet: the rest of the base group is skipped.
    let report = health(&app).await;
    assert_eq!(report["_type"], "StorageHealth");
    assert_eq!(report["status"], "unhealthy");
    let base = &report["groups"][0];
    assert_eq!(base["key"], "base_configuration");
    assert_eq!(
        base["checks"][0],
        json!({"key": "storage_configured", "state": "failure", "code": "not_configured", "message": storage_protocol::storages::health::NOT_CONFIGURED.1})
    );
    assert!(base["checks"].as_array().unwrap()[1..]
        .iter()
        .all(|c| c["state"] == "skipped"));
    assert_eq!(
        report["_links"]["self"]["href"],
        format!("/api/v3/storages/{id}/health")
    );

    // Configured against the real Nextcloud side: healthy, with a warning for the admin's token.
    add_credentials(&app, id, "nc-id", "nc-secret").await;
    let report = health(&app).await;
    assert_eq!(report["status"], "healthy");
    let states: Vec<_> = report["groups"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["key"].clone(), c["state"].clone()))
        .collect();
    assert_eq!(
        states,
        vec![
            (json!("storage_configured"), json!("success")),
            (json!("host_url_accessible"), json!("success")),
            (json!("capabilities_request"), json!("success")),
            (json!("dependencies_check"), json!("success")),
            (json!("dependencies_versions"), json!("success")),
        ]
    );
    assert_eq!(
        report["groups"][1]["checks"][0]["code"],
        "nc_oauth_token_missing"
    );
    assert_eq!(report["groups"][1]["checks"][1]["state"], "skipped");
    assert_eq!(
        report["groups"].as_array().unwrap().len(),
        2,
        "no team folder group without an app password"
    );

    // The host disappears: nc_host_not_found with the contract's message.
    let gone = FakeNextcloud::start(Behaviour::CapabilitiesStatus(404));
    let id2 = create_storage(
        &app,
        "Other",
        &FakeNextcloud::start(Behaviour::Healthy {
            app_password: "pw".into(),
        })
        .url,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    add_credentials(&app, id2, "nc-id", "nc-secret").await;
    app.db
        .query(move |conn| {
            diesel::sql_query(format!(
                "UPDATE storages SET host = '{}/' WHERE id = {id2}",
                gone.url
            ))
            .execute(conn)
        })
        .await
        .unwrap();
    let report = body(
        app.as_admin(app.get(&format!("/api/v3/storages/{id2}/health")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        report["groups"][0]["checks"][1],
        json!({"key": "host_url_accessible", "state": "failure", "code": "nc_host_not_found",
        "message": "No Nextcloud server found at the configured host url. Please check the configuration."})
    );

    // With automatic management: the team folder checks run.
    let managed = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "app-pw".into(),
    });
    let id3 = create_storage(&app, "Managed", &managed.url).await["id"]
        .as_i64()
        .unwrap();
    add_credentials(&app, id3, "nc-id", "nc-secret").await;
    let patched = app
        .admin_json(
            Method::PATCH,
            &format!("/api/v3/storages/{id3}"),
            &json!({"applicationPassword": "app-pw"}),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let report = body(
        app.as_admin(app.get(&format!("/api/v3/storages/{id3}/health")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let team = &report["groups"][2];
    assert_eq!(team["key"], "ampf_configuration");
    assert!(
        team["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["state"] == "success"),
        "{team}"
    );
    assert_eq!(report["status"], "healthy");
}

/// A stored secret that no longer decrypts (the secret key changed) is not taken for "absent":
/// the health report says so, in the first check, instead of skipping or guessing.
#[tokio::test]
async fn health_reports_a_changed_secret_key() {
    let app = spawn_app().await;
    let nextcloud = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "pw".into(),
    });
    let created = create_storage(&app, "Nextcloud", &nextcloud.url).await;
    let id = created["id"].as_i64().unwrap();
    add_credentials(&app, id, "nc-id", "nc-secret").await;
    let health = || async {
        body(
            app.as_admin(app.get(&format!("/api/v3/storages/{id}/health")))
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    assert_eq!(health().await["groups"][0]["checks"][0]["state"], "success");

    // Sealed under another key, as after OPS_SECRET_KEY was replaced.
    let foreign = service_kit::crypto::SecretKey::generate()
        .secret_box()
        .seal("nc-secret");
    app.db
        .query(move |conn| {
            diesel::sql_query(format!(
                "UPDATE oauth_client_credentials SET client_secret_sealed = '{foreign}' WHERE storage_id = {id}"
            ))
            .execute(conn)
        })
        .await
        .unwrap();
    let report = health().await;
    assert_eq!(report["status"], "unhealthy");
    assert_eq!(
        report["groups"][0]["checks"][0],
        json!({"key": "storage_configured", "state": "failure", "code": "secret_key_changed",
               "message": storage_protocol::storages::health::SECRET_KEY_CHANGED.1})
    );
}
