//! A real browser for the UI tests: Debian's headless Chromium driven through `chromedriver`
//! over the W3C WebDriver protocol, plus axe-core for accessibility checks.
//!
//! The protocol is a handful of JSON calls, spoken here with the `reqwest` the tests already
//! use: the WebDriver client crates bring a second TLS stack (aws-lc) that the lean CI build
//! cannot afford for a loopback connection.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{json, Value};

/// The key of a WebDriver element reference in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long [`Chrome::wait_for`] and friends wait before failing the test.
const WAIT: Duration = Duration::from_secs(10);

/// `chromedriver` and one headless Chromium session; both end on drop.
pub struct Chrome {
    driver: Child,
    base: String,
    http: reqwest::Client,
    profile: PathBuf,
}

/// An element of the current page.
#[derive(Clone, Debug)]
pub struct Element {
    id: String,
}

/// An accessibility finding of axe-core.
#[derive(Debug)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    pub help: String,
    pub targets: Vec<String>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn command_path(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

impl Chrome {
    /// Starts `chromedriver` on a free port and a headless Chromium with a fresh profile, at
    /// `width`×`height` CSS pixels.
    pub async fn start(width: u32, height: u32) -> Chrome {
        let driver_path = command_path(&["/usr/bin/chromedriver"]).unwrap_or_else(|| {
            panic!("chromedriver is missing: `make deps` installs chromium and chromium-driver")
        });
        let chromium = command_path(&["/usr/bin/chromium", "/usr/bin/chromium-browser"])
            .expect("chromium is missing: `make deps` installs it");
        let port = free_port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = std::env::temp_dir().join(format!(
            "chrome-profile-{}",
            service_kit::crypto::random_alphanumeric(12)
        ));
        let mut chrome = Chrome {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            profile,
        };
        chrome.wait_until_driver_ready().await;
        let capabilities = json!({
            "capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--lang=en-US",
                        format!("--window-size={width},{height}"),
                        format!("--user-data-dir={}", chrome.profile.display()),
                    ],
                    "prefs": {"intl.accept_languages": "en-US"}
                },
                "unhandledPromptBehavior": "ignore",
                "timeouts": {"script": 30_000, "pageLoad": 30_000, "implicit": 0}
            }}
        });
        let session = chrome.call("POST", "/session", capabilities).await;
        let id = session["sessionId"]
            .as_str()
            .expect("a WebDriver session id")
            .to_string();
        chrome.base = format!("{}/session/{id}", chrome.base);
        chrome
    }

    async fn wait_until_driver_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(response) = self.http.get(format!("{}/status", self.base)).send().await {
                if response.status().is_success() {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// One WebDriver command; panics with the driver's message when it fails.
    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        match self.try_call(method, path, body).await {
            Ok(value) => value,
            Err(error) => panic!("WebDriver {method} {path}: {error}"),
        }
    }

    async fn try_call(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let response = request.send().await.map_err(|e| e.to_string())?;
        let ok = response.status().is_success();
        let answer: Value = response.json().await.map_err(|e| e.to_string())?;
        if ok {
            Ok(answer["value"].clone())
        } else {
            Err(format!(
                "{}: {}",
                answer["value"]["error"], answer["value"]["message"]
            ))
        }
    }

    /// Navigates to `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url })).await;
    }

    /// Opens a new tab, switches to it, and returns its handle.
    pub async fn open_tab(&self) -> String {
        let opened = self
            .call("POST", "/window/new", json!({"type": "tab"}))
            .await;
        let handle = opened["handle"]
            .as_str()
            .expect("a window handle")
            .to_string();
        self.switch_to_tab(&handle).await;
        handle
    }

    /// The handle of the current tab.
    pub async fn current_tab(&self) -> String {
        self.call("GET", "/window", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Makes the tab `handle` the one commands go to.
    pub async fn switch_to_tab(&self, handle: &str) {
        self.call("POST", "/window", json!({ "handle": handle }))
            .await;
    }

    pub async fn current_url(&self) -> String {
        self.call("GET", "/url", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn title(&self) -> String {
        self.call("GET", "/title", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The first element matching the CSS `selector`, if any, right now.
    pub async fn find_now(&self, selector: &str) -> Option<Element> {
        let found = self
            .try_call(
                "POST",
                "/element",
                json!({"using": "css selector", "value": selector}),
            )
            .await
            .ok()?;
        Some(Element {
            id: found[ELEMENT_KEY].as_str()?.to_string(),
        })
    }

    /// All elements matching the CSS `selector` right now.
    pub async fn find_all(&self, selector: &str) -> Vec<Element> {
        let found = self
            .call(
                "POST",
                "/elements",
                json!({"using": "css selector", "value": selector}),
            )
            .await;
        found
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item[ELEMENT_KEY].as_str())
                    .map(|id| Element { id: id.to_string() })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits until an element matches the CSS `selector` and is displayed, and returns it.
    pub async fn wait_for(&self, selector: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(element) = self.find_now(selector).await {
                if self.is_displayed(&element).await {
                    return element;
                }
            }
            if Instant::now() > deadline {
                let url = self.current_url().await;
                let text = self.page_text().await;
                panic!("no visible `{selector}` on {url} after {WAIT:?}; the page says:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until no element matches the CSS `selector` (a row removed, a dialog closed).
    pub async fn wait_until_gone(&self, selector: &str) {
        let deadline = Instant::now() + WAIT;
        while self.find_now(selector).await.is_some() {
            assert!(
                Instant::now() < deadline,
                "`{selector}` is still on {} after {WAIT:?}",
                self.current_url().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the page's visible text contains `text`.
    pub async fn wait_for_text(&self, text: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let shown = self.page_text().await;
            if shown.contains(text) {
                return;
            }
            if Instant::now() > deadline {
                let url = self.current_url().await;
                panic!("`{text}` did not appear on {url} after {WAIT:?}; the page says:\n{shown}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the current URL satisfies `accept`.
    pub async fn wait_for_url(&self, accept: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.current_url().await;
            if accept(&url) {
                return url;
            }
            assert!(Instant::now() < deadline, "the browser stayed on {url}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The visible text of the whole page.
    pub async fn page_text(&self) -> String {
        self.execute(
            "return document.body ? document.body.innerText : ''",
            json!([]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
        .await
    }

    /// Clicks the element matching `selector` once it is visible.
    pub async fn click(&self, selector: &str) {
        let element = self.wait_for(selector).await;
        self.click_element(&element).await;
    }

    /// Clicks `element` after scrolling it to the middle of the window, where no sticky
    /// header covers it (WebDriver scrolls only elements outside the window).
    pub async fn click_element(&self, element: &Element) {
        self.execute(
            "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'})",
            json!([{ ELEMENT_KEY: element.id }]),
        )
        .await;
        self.call("POST", &format!("/element/{}/click", element.id), json!({}))
            .await;
    }

    /// Clicks the button or link whose visible text is exactly `text`.
    pub async fn click_text(&self, text: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            for element in self.find_all("button, a, [role=button], summary").await {
                if self.text(&element).await.trim() == text && self.is_displayed(&element).await {
                    self.click_element(&element).await;
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no button or link `{text}` on {}; the page says:\n{}",
                self.current_url().await,
                self.page_text().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Replaces the value of the input matching `selector` with `text`, by typing it.
    pub async fn fill(&self, selector: &str, text: &str) {
        let element = self.wait_for(selector).await;
        self.call("POST", &format!("/element/{}/clear", element.id), json!({}))
            .await;
        self.type_into(&element, text).await;
    }

    /// Types `text` into `element` as keystrokes.
    pub async fn type_into(&self, element: &Element, text: &str) {
        self.call(
            "POST",
            &format!("/element/{}/value", element.id),
            json!({ "text": text }),
        )
        .await;
    }

    /// Fills the input whose `<label>` reads exactly `label`.
    pub async fn fill_labelled(&self, label: &str, text: &str) {
        let id = self.labelled_control_id(label).await;
        self.fill(&format!("[id=\"{id}\"]"), text).await;
    }

    /// The `id` of the control that the `<label>` reading exactly `label` is for.
    pub async fn labelled_control_id(&self, label: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let id = self
                .execute(
                    "for (const l of document.querySelectorAll('label')) {
                       if (l.innerText.trim() === arguments[0] && l.control && l.offsetParent !== null) {
                         if (!l.control.id) { l.control.id = 'wd-' + Math.random().toString(36).slice(2); }
                         return l.control.id;
                       }
                     }
                     return null;",
                    json!([label]),
                )
                .await;
            if let Some(id) = id.as_str() {
                return id.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no visible control labelled `{label}` on {}; the page says:\n{}",
                self.current_url().await,
                self.page_text().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The current value of the control labelled `label`.
    /// A page that re-renders the control between finding it and reading it is asked again.
    pub async fn labelled_value(&self, label: &str) -> String {
        loop {
            let id = self.labelled_control_id(label).await;
            let value = self
                .execute(
                    "const control = document.getElementById(arguments[0]);
                     return control ? control.value : null;",
                    json!([id]),
                )
                .await;
            if let Some(value) = value.as_str() {
                return value.to_string();
            }
        }
    }

    /// Sends keystrokes to whatever has focus (WebDriver key codes, e.g. `"\u{E004}"` for Tab,
    /// `"\u{E007}"` for Enter).
    pub async fn press(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|key| {
                [
                    json!({"type": "keyDown", "value": key.to_string()}),
                    json!({"type": "keyUp", "value": key.to_string()}),
                ]
            })
            .collect();
        self.call(
            "POST",
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
        self.call("DELETE", "/actions", Value::Null).await;
    }

    /// Presses `keys` together (e.g. `"\u{E008}\u{E004}"` for Shift+Tab): every key down in
    /// order, then up in reverse.
    pub async fn press_together(&self, keys: &str) {
        let downs = keys
            .chars()
            .map(|key| json!({"type": "keyDown", "value": key.to_string()}));
        let ups = keys
            .chars()
            .rev()
            .map(|key| json!({"type": "keyUp", "value": key.to_string()}));
        let actions: Vec<Value> = downs.chain(ups).collect();
        self.call(
            "POST",
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
        self.call("DELETE", "/actions", Value::Null).await;
    }

    /// A short description of the focused element (tag, id, text or label), for keyboard tests.
    pub async fn focused(&self) -> String {
        self.execute(
            "const e = document.activeElement; if (!e) return '';
             const label = e.labels && e.labels[0] ? e.labels[0].innerText : '';
             return (e.innerText || label || e.getAttribute('aria-label') || e.id || e.tagName).trim();",
            json!([]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    pub async fn text(&self, element: &Element) -> String {
        self.try_call("GET", &format!("/element/{}/text", element.id), Value::Null)
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    pub async fn is_displayed(&self, element: &Element) -> bool {
        self.try_call(
            "GET",
            &format!("/element/{}/displayed", element.id),
            Value::Null,
        )
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
    }

    /// Accepts the page's cookies for `name` as the browser holds them.
    pub async fn cookie(&self, name: &str) -> Option<String> {
        let value = self
            .try_call("GET", &format!("/cookie/{name}"), Value::Null)
            .await
            .ok()?;
        value["value"].as_str().map(str::to_string)
    }

    /// Writes a PNG of the viewport to `target/screenshots/<name>.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let png = self.call("GET", "/screenshot", Value::Null).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .expect("a base64 PNG");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, bytes).expect("screenshot written");
        path
    }

    /// Runs axe-core on the current page and returns its serious and critical findings.
    pub async fn accessibility_violations(&self) -> Vec<Violation> {
        self.execute(axe_source(), json!([])).await;
        let result = self
            .call(
                "POST",
                "/execute/async",
                json!({
                    "script": "const done = arguments[arguments.length - 1];
                               axe.run(document, {resultTypes: ['violations']})
                                  .then(r => done(r.violations))
                                  .catch(e => done({error: String(e)}));",
                    "args": []
                }),
            )
            .await;
        if let Some(error) = result.get("error") {
            panic!("axe-core failed: {error}");
        }
        result
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| Violation {
                id: v["id"].as_str().unwrap_or_default().to_string(),
                impact: v["impact"].as_str().unwrap_or_default().to_string(),
                help: v["help"].as_str().unwrap_or_default().to_string(),
                targets: v["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|n| n["target"].to_string())
                    .collect(),
            })
            .collect()
    }

    /// Fails the test when axe-core finds a serious or critical violation on the current page.
    pub async fn assert_accessible(&self, page: &str) {
        let violations = self.accessibility_violations().await;
        assert!(
            violations.is_empty(),
            "axe-core found serious or critical violations on {page} ({}):\n{violations:#?}",
            self.current_url().await
        );
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        // Ending the session closes Chromium, which would outlive a killed driver. Drop cannot
        // await, so the one DELETE is written by hand on a blocking socket.
        if let Some(rest) = self.base.strip_prefix("http://") {
            if let Some((address, path)) = rest.split_once('/') {
                if let Ok(mut socket) = std::net::TcpStream::connect(address) {
                    use std::io::{Read, Write};
                    let _ = socket.set_read_timeout(Some(Duration::from_secs(10)));
                    let request = format!(
                        "DELETE /{path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                    if socket.write_all(request.as_bytes()).is_ok() {
                        let _ = socket.read_to_end(&mut Vec::new());
                    }
                }
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// `target/screenshots`, beside the test executables.
fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("executable path");
    exe.ancestors()
        .find(|dir| dir.file_name().is_some_and(|n| n == "target"))
        .map(|target| target.join("screenshots"))
        .unwrap_or_else(|| std::env::temp_dir().join("screenshots"))
}

/// axe-core's script, installed by `make deps` from the npm registry into `tests/browser`.
fn axe_source() -> &'static str {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("browser/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!(
                "{} is missing: `make deps` installs axe-core",
                path.display()
            )
        })
    })
}

/// Presses Tab until the focused element reads `text` (see [`Chrome::focused`]); fails after
/// 40 presses.
pub async fn tab_to(chrome: &Chrome, text: &str) {
    for _ in 0..40 {
        if chrome.focused().await == text {
            return;
        }
        chrome.press(keys::TAB).await;
    }
    panic!(
        "Tab never reached `{text}`; the focus is on `{}`",
        chrome.focused().await
    );
}

/// WebDriver key codes, for [`Chrome::press`].
pub mod keys {
    pub const TAB: &str = "\u{E004}";
    /// Shift and Tab, for [`Chrome::press_together`].
    pub const SHIFT_TAB: &str = "\u{E008}\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const SPACE: &str = "\u{E00D}";
    /// Control and A, for [`Chrome::press_together`]: selects a field's whole text.
    pub const SELECT_ALL: &str = "\u{E009}a";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const ARROW_DOWN: &str = "\u{E015}";
}
