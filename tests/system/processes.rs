use std::process::Command;

use integration_tests::{
    base_env, binary, spawn_pair, ADMIN, NCOA_ADMIN_PASSWORD, OPS_ADMIN_PASSWORD,
};
use serde_json::Value;
use service_kit::testing::TestDatabase;

#[tokio::test]
async fn both_services_serve_their_host_model() {
    let pair = spawn_pair();
    let root: Value = pair
        .client
        .get(format!("{}/api/v3", pair.openproject.url))
        .basic_auth(ADMIN, Some(OPS_ADMIN_PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(root["_type"], "Root");
    assert_eq!(root["coreVersion"], "17.1.0");

    let status: Value = pair
        .client
        .get(format!("{}/status.php", pair.nextcloud.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status, storage_protocol::fixtures::load("nc_status"));

    let user: Value = pair
        .client
        .get(format!(
            "{}/ocs/v2.php/cloud/user?format=json",
            pair.nextcloud.url
        ))
        .basic_auth(ADMIN, Some(NCOA_ADMIN_PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["ocs"]["data"]["id"], ADMIN);
    assert!(user["ocs"]["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g == "admin"));

    // What OpenProject's storage host check sends to Nextcloud (openproject-storages.md §6.6).
    let check: Value = pair
        .client
        .get(format!(
            "{}/index.php/apps/integration_openproject/check-config",
            pair.nextcloud.url
        ))
        .bearer_auth("TESTBEARERTOKEN")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(check["authorization_header"], "Bearer TESTBEARERTOKEN");
    assert_eq!(check["user_id"], "");
}

#[test]
fn a_bad_configuration_value_is_one_line_and_exit_code_2() {
    for (binary_name, variable) in [
        ("openproject-storages", "OPS_LISTEN"),
        ("nextcloud-openproject-app", "NCOA_LISTEN"),
    ] {
        let output = Command::new(binary(binary_name))
            .env(variable, "not-an-address")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{binary_name}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(&format!("{variable}: ")), "{stderr}");
    }
    let output = Command::new(binary("openproject-storages"))
        .env("OPS_DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr)
        .starts_with("OPS_SECRET_KEY: required with PostgreSQL"));
}

#[test]
fn migrate_subcommand_prepares_an_empty_database() {
    for (binary_name, prefix) in [
        ("openproject-storages", "OPS"),
        ("nextcloud-openproject-app", "NCOA"),
    ] {
        let db = TestDatabase::create("migrate");
        let env = base_env(prefix, &db, "irrelevant-password");
        for _ in 0..2 {
            let output = Command::new(binary(binary_name))
                .arg("migrate")
                .envs(env.clone())
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{binary_name}: {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

#[test]
fn a_generated_admin_password_is_printed_once() {
    let db = TestDatabase::create("bootstrap");
    let env: Vec<(String, String)> = base_env("OPS", &db, "unused")
        .into_iter()
        .filter(|(k, _)| k != "OPS_ADMIN_PASSWORD")
        .collect();
    let first = integration_tests::start_capturing("openproject-storages", env.clone());
    assert!(first.contains("with generated password: "), "{first}");
    let second = integration_tests::start_capturing("openproject-storages", env);
    assert!(!second.contains("password"), "{second}");
}

#[test]
fn both_services_stop_gracefully_on_sigterm() {
    let mut pair = spawn_pair();
    for service in [&mut pair.openproject, &mut pair.nextcloud] {
        let status = service.terminate(std::time::Duration::from_secs(10));
        assert!(
            status.is_some_and(|s| s.success()),
            "{} did not stop cleanly: {status:?}",
            service.url
        );
    }
}
