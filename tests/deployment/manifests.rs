//! The Kubernetes manifests and the compose file describe the same deployment: each service
//! gets the same variables, listens on the same port, and is probed at the same paths (compose's
//! health check runs the binary's `ready` command, which asks the readiness path).

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_norway::Value;
use service_kit::operations::{LIVENESS_PATH, READINESS_PATH};

use crate::workspace;

fn yaml_documents(relative: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(workspace().join(relative)).expect("the file reads");
    serde_norway::Deserializer::from_str(&text)
        .map(|document| {
            let mut value = Value::deserialize(document).expect("valid YAML");
            value.apply_merge().expect("merge keys resolve");
            value
        })
        .collect()
}

fn compose() -> Value {
    yaml_documents("deploy/compose.yaml").remove(0)
}

/// The default of a `${NAME:-default}` reference.
fn default_of(reference: &str) -> &str {
    reference
        .split_once(":-")
        .map(|(_, rest)| rest.trim_end_matches('}'))
        .unwrap_or(reference)
}

struct Side {
    binary: &'static str,
    replicas: [&'static str; 2],
    manifest: &'static str,
    public_port_variable: &'static str,
}

const SIDES: [Side; 2] = [
    Side {
        binary: "openproject-storages",
        replicas: ["ops-1", "ops-2"],
        manifest: "deploy/kubernetes/openproject-storages.yaml",
        public_port_variable: "OPS_PORT",
    },
    Side {
        binary: "nextcloud-openproject-app",
        replicas: ["ncoa-1", "ncoa-2"],
        manifest: "deploy/kubernetes/nextcloud-openproject-app.yaml",
        public_port_variable: "NCOA_PORT",
    },
];

fn of_kind<'a>(documents: &'a [Value], kind: &str) -> &'a Value {
    documents
        .iter()
        .find(|d| d["kind"].as_str() == Some(kind))
        .unwrap_or_else(|| panic!("a {kind}"))
}

fn keys(mapping: &Value) -> BTreeSet<String> {
    mapping
        .as_mapping()
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_kubernetes_manifests_agree_with_the_compose_file() {
    let compose = compose();
    for side in SIDES {
        let documents = yaml_documents(side.manifest);
        let deployment = of_kind(&documents, "Deployment");
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        let env: Vec<(String, String)> = container["env"]
            .as_sequence()
            .expect("env")
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap_or_default().to_string(),
                    e["value"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let mut kubernetes_variables: BTreeSet<String> =
            env.iter().map(|(name, _)| name.clone()).collect();
        kubernetes_variables.extend(keys(&of_kind(&documents, "Secret")["stringData"]));

        for replica in side.replicas {
            let service = &compose["services"][replica];
            assert_eq!(
                keys(&service["environment"]),
                kubernetes_variables,
                "{replica} and {} set the same variables",
                side.manifest
            );
            assert_eq!(service["command"][0].as_str(), Some(side.binary));
            assert_eq!(container["command"][0].as_str(), Some(side.binary));
            assert_eq!(service["command"], container["command"]);
            assert_eq!(
                service["healthcheck"]["test"],
                serde_norway::from_str::<Value>(&format!("[CMD, {}, ready]", side.binary))
                    .expect("yaml"),
                "{replica} is checked by the `ready` command, which asks {READINESS_PATH}"
            );
            assert_eq!(
                default_of(service["image"].as_str().expect("image")),
                container["image"].as_str().expect("image")
            );
            assert_eq!(service["read_only"].as_bool(), Some(true));
        }

        // One port: the one the container listens on, the Service's, and the public port
        // compose's proxy gives that side.
        let listen = env
            .iter()
            .find(|(name, _)| name.ends_with("_LISTEN"))
            .map(|(_, value)| value.clone())
            .expect("a listen address");
        let port: u64 = listen.rsplit(':').next().unwrap().parse().expect("a port");
        assert_eq!(container["ports"][0]["containerPort"].as_u64(), Some(port));
        let service = of_kind(&documents, "Service");
        assert_eq!(service["spec"]["ports"][0]["port"].as_u64(), Some(port));
        let public = compose["services"]["proxy"]["environment"][side.public_port_variable]
            .as_str()
            .expect("the proxy's port");
        assert_eq!(default_of(public), port.to_string());

        assert_eq!(
            container["readinessProbe"]["httpGet"]["path"].as_str(),
            Some(READINESS_PATH)
        );
        assert_eq!(
            container["livenessProbe"]["httpGet"]["path"].as_str(),
            Some(LIVENESS_PATH)
        );
        assert_eq!(
            container["securityContext"]["readOnlyRootFilesystem"].as_bool(),
            Some(true)
        );
    }
}
