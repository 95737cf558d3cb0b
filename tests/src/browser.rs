//! Real headless Chromium (Debian's), driven through chromedriver with fantoccini.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

use crate::sandbox::Sandbox;

/// A chromedriver and one browser session. Call `close` at the end; if a test panics
/// first, dropping it kills chromedriver's whole process group, Chromium included.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// Flags Chromium needs as root on this kind of machine, and to stay off the network.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--window-size=1280,900",
];

impl Browser {
    pub async fn start() -> Browser {
        Browser::start_in(None, None).await
    }

    /// A browser inside `sandbox`'s network namespace when given (the calling thread must
    /// have entered it too, see `Sandbox::enter_network_here`), so that it reaches a server
    /// listening on the sandbox's loopback; files it downloads go to `downloads`.
    pub async fn start_in(sandbox: Option<&Sandbox>, downloads: Option<&Path>) -> Browser {
        let port = free_port();
        let mut command = match sandbox {
            Some(sandbox) => sandbox.command("chromedriver"),
            None => Command::new("chromedriver"),
        };
        let driver = command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver runs (scripts/setup installs chromium-driver)");
        wait_for_port(port);
        let profile = tempfile::tempdir().expect("profile dir");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut capabilities = serde_json::Map::new();
        let mut options = json!({ "binary": "/usr/bin/chromium", "args": args });
        if let Some(downloads) = downloads {
            // A page may download several files (a lab, its script, its picture) without
            // Chromium asking whether to allow more than one.
            options["prefs"] = json!({
                "download.default_directory": downloads,
                "download.prompt_for_download": false,
                "profile.default_content_setting_values.automatic_downloads": 1,
            });
        }
        capabilities.insert("goog:chromeOptions".into(), options);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("chromedriver starts a Chromium session");
        Browser { client, driver, _profile: profile }
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // `--` so that kill reads `-PID` as a process group, not as an option.
        let _ = Command::new("kill").args(["-s", "KILL", "--", &format!("-{}", self.driver.id())]).status();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start listening on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A Chrome DevTools Protocol command through chromedriver
/// (`POST /session/ID/goog/cdp/execute`): what WebDriver itself cannot do, such as taking
/// a page offline.
pub async fn cdp(
    client: &Client,
    method: &'static str,
    params: serde_json::Value,
) -> Result<serde_json::Value, String> {
    client.issue_cmd(Cdp { method, params }).await.map_err(|e| format!("{method} through chromedriver: {e}"))
}

#[derive(Debug)]
struct Cdp {
    method: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({ "cmd": self.method, "params": self.params }).to_string()))
    }
}
