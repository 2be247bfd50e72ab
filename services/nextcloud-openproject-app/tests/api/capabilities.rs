use serde_json::Value;
use storage_protocol::fixtures::load;

use crate::helpers::{meta, spawn_app};

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
        assert_eq!(body["ocs"]["data"], load("nc_capabilities"));
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
    assert_eq!(body["ocs"]["data"], load("nc_capabilities"));
}
