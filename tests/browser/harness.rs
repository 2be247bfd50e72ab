//! The browser harness works: Chromium starts, loads a page of ours, and axe-core runs on it.

use integration_tests::{spawn_pair, webdriver::Chrome};

#[tokio::test]
async fn chromium_loads_a_page_and_axe_core_checks_it() {
    let pair = spawn_pair();
    let chrome = Chrome::start(1280, 900).await;
    chrome
        .goto(&format!("{}/login", pair.openproject.url))
        .await;
    chrome.wait_for("form").await;
    assert!(!chrome.title().await.is_empty(), "the page has a title");
    let shot = chrome.screenshot("harness-openproject-login").await;
    assert!(std::fs::metadata(shot).expect("a screenshot").len() > 1000);
    // axe-core runs and reports in the shape the suite relies on.
    let _ = chrome.accessibility_violations().await;
}
