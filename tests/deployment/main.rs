//! The deployment files, proven: the Kubernetes manifests agree with the compose file
//! (`manifests`), and the compose topology serves the integration (`topology`, containers).

mod manifests;
mod topology;

/// The workspace root, where `deploy/` is.
fn workspace() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}
