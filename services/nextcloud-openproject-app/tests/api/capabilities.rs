use serde_json::Value;
use storage_protocol::fixtures::load;

use crate::helpers::{meta, spawn_app, TestApp};

/// The golden capabilities with the theming images at this server's icon.
fn expected(app: &TestApp) -> Value {
    let text = load("nc_capabilities").to_string().replace(
        "https://nc.example.com/assets/favicon.svg",
        &app.url("/assets/favicon.svg"),
    );
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn capabilities_are_public_in_both_versions() {
    let app = spawn_app().await;
    for (version, code) in [("v1", 100), ("v2", 200)] {
        let response = app
            .get(&format!(
                "/ocs/{version}.php/cloud/capabilities?format=json"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(meta(&body), ("ok", code, "OK"));
        assert_eq!(body["ocs"]["data"], expected(&app));
    }
}

#[tokio::test]
async fn capabilities_default_to_xml_and_honour_accept() {
    let app = spawn_app().await;
    let response = app
        .get_as_admin("/ocs/v2.php/cloud/capabilities")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/xml; charset=utf-8"
    );
    let xml = response.text().await.unwrap();
    assert!(xml.contains("<statuscode>200</statuscode>"));
    assert!(xml.contains("<groupfolders_enabled>1</groupfolders_enabled>"));

    let response = app
        .get("/ocs/v1.php/cloud/capabilities")
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ocs"]["data"], expected(&app));
}

#[tokio::test]
async fn capabilities_carry_bruteforce_and_theming() {
    let app = spawn_app().await;
    let body: Value = app
        .get("/ocs/v2.php/cloud/capabilities?format=json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let capabilities = &body["ocs"]["data"]["capabilities"];
    assert_eq!(
        capabilities["bruteforce"],
        serde_json::json!({"delay": 0, "allow-listed": false})
    );
    let theming = capabilities["theming"].as_object().unwrap();
    for key in [
        "name",
        "url",
        "slogan",
        "color",
        "color-text",
        "color-element",
        "color-element-bright",
        "color-element-dark",
        "logo",
        "background",
        "background-plain",
        "background-default",
        "logoheader",
        "favicon",
    ] {
        assert!(theming.contains_key(key), "theming.{key}");
    }
    for key in ["integration_openproject", "files", "dav"] {
        assert!(capabilities.get(key).is_some(), "{key}");
    }
    // The images are served.
    let logo = theming["logo"].as_str().unwrap();
    let response = app.api.get(logo).send().await.unwrap();
    assert_eq!(response.status(), 200);
}
