//! Access to the golden JSON files in `proto-fixtures/`, shared by this crate's round-trip tests
//! and both services' tests.

use std::path::PathBuf;

/// The workspace's `proto-fixtures/` folder.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto-fixtures")
}

/// The parsed content of `proto-fixtures/<name>.json`.
///
/// # Panics
/// When the file is missing or not JSON: fixtures are part of the source tree.
pub fn load(name: &str) -> serde_json::Value {
    let path = dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {} unreadable: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("fixture {} is not JSON: {e}", path.display()))
}

/// Asserts that `T` reads the fixture and writes it back unchanged.
#[cfg(test)]
pub(crate) fn assert_round_trip<T>(name: &str)
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let golden = load(name);
    let parsed: T = serde_json::from_value(golden.clone())
        .unwrap_or_else(|e| panic!("fixture {name} does not parse: {e}"));
    let written = serde_json::to_value(&parsed).expect("wire types serialize");
    assert_eq!(written, golden, "fixture {name} does not round-trip");
}
