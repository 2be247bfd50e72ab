//! `litmus`, the WebDAV compliance suite (Debian package `litmus`), against a user's files root:
//! its suites `basic`, `copymove` and `props` (dead properties through PROPPATCH) pass with no
//! failure and no skipped test.
//!
//! Two warnings are expected, by test name, and no others:
//! - `options`: the server does not claim Class 2 (LOCK), and rightly so: it has no locks, and
//!   Nextcloud does not claim it either (only to a few Windows and macOS clients, with fake locks);
//! - `delete_fragment`: the HTTP layer drops a `#fragment` from the request target before any
//!   handler sees it, so `DELETE /frag/#ment` reaches the server as `DELETE /frag/`.

use std::time::Duration;

use integration_tests::{
    clients::{client_installed, run, TempDir},
    dav::DavServer,
};

const SUITES: [&str; 3] = ["basic", "copymove", "props"];
/// The warnings allowed, by test name (see the module's documentation).
const EXPECTED_WARNINGS: [&str; 2] = ["options", "delete_fragment"];
const TIMEOUT: Duration = Duration::from_secs(180);

/// What one litmus run reported.
#[derive(Debug, Default)]
struct Report {
    /// (suite, tests run, passed, failed) from each `<- summary for` line.
    summaries: Vec<(String, u32, u32, u32)>,
    /// The test names that issued a warning.
    warnings: Vec<String>,
    /// The `-> N tests were skipped.` lines.
    skipped: Vec<String>,
}

impl Report {
    /// Reads litmus's output: `<- summary for `props': of 30 tests run: 30 passed, 0 failed.`,
    /// ` 9. delete_fragment....... WARNING: …` and `-> 16 tests were skipped.`.
    fn parse(output: &str) -> Self {
        let mut report = Self::default();
        for line in output.lines() {
            if let Some(rest) = line.strip_prefix("<- summary for `") {
                let (suite, counts) = rest.split_once("':").unwrap_or((rest, ""));
                let numbers: Vec<u32> = counts
                    .split(|c: char| !c.is_ascii_digit())
                    .filter_map(|n| n.parse().ok())
                    .collect();
                if let [run, passed, failed, ..] = numbers[..] {
                    report
                        .summaries
                        .push((suite.to_string(), run, passed, failed));
                }
            } else if let Some((before, _)) = line.split_once("WARNING:") {
                let name = before
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .trim_end_matches('.');
                report.warnings.push(name.to_string());
            } else if line.contains("tests were skipped") {
                report.skipped.push(line.trim().to_string());
            }
        }
        report
    }
}

#[tokio::test]
async fn litmus_basic_copymove_and_props_pass() {
    if !client_installed("litmus") {
        return;
    }
    let server = DavServer::spawn(None);
    server.create_user("litmus", "litmus-password-1").await;
    let url = format!("{}/remote.php/dav/files/litmus/", server.url());
    // litmus writes its debug.log and child.log into the working folder.
    let workdir = TempDir::new("litmus");
    let mut command = tokio::process::Command::new("litmus");
    command
        .current_dir(workdir.path())
        .env("TESTS", SUITES.join(" "))
        .args(["--keep-going", &url, "litmus", "litmus-password-1"]);
    let outcome = run(command, TIMEOUT).await;
    let output = format!("{}{}", outcome.stdout_text(), outcome.stderr);
    let report = Report::parse(&output);

    let suites: Vec<&str> = report.summaries.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(suites, SUITES, "not every suite ran:\n{output}");
    for (suite, ran, passed, failed) in &report.summaries {
        assert!(
            *failed == 0 && passed == ran && *ran > 0,
            "litmus {suite}: {passed} of {ran} passed, {failed} failed:\n{output}"
        );
    }
    assert!(report.skipped.is_empty(), "{:?}:\n{output}", report.skipped);
    let unexpected: Vec<&String> = report
        .warnings
        .iter()
        .filter(|name| !EXPECTED_WARNINGS.contains(&name.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "unexpected warnings from {unexpected:?}:\n{output}"
    );
    assert!(
        outcome.status.success(),
        "litmus exited with {}",
        outcome.status
    );
}

#[test]
fn litmus_output_is_read_line_by_line() {
    let output = "-> running `basic':
 2. options............... WARNING: server does not claim Class 2 compliance
    ...................... pass (with 1 warning)
 9. delete_fragment....... WARNING: DELETE removed collection resource with Request-URI including fragment; unsafe
<- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%
-> 2 warnings were issued.
 6. propset...............  6. propset............... FAIL (PROPPATCH on `/x': 405 Method Not Allowed)
-> 16 tests were skipped.
<- summary for `props': of 14 tests run: 11 passed, 3 failed. 78.6%";
    let report = Report::parse(output);
    assert_eq!(
        report.summaries,
        [
            ("basic".to_string(), 16, 16, 0),
            ("props".to_string(), 14, 11, 3)
        ]
    );
    assert_eq!(report.warnings, ["options", "delete_fragment"]);
    assert_eq!(report.skipped, ["-> 16 tests were skipped."]);
}
