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
    _driver: Driver,
    _profile: tempfile::TempDir,
}

/// A running chromedriver, its whole process group killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        // `--` so that kill reads `-PID` as a process group, not as an option.
        let _ = Command::new("kill").args(["-s", "KILL", "--", &format!("-{}", self.0.id())]).status();
        let _ = self.0.wait();
    }
}

/// How many chromedrivers `start_in` tries before it gives up.
const ATTEMPTS: usize = 3;

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
    ///
    /// The port is picked free, then handed to chromedriver: tests running side by side
    /// in one network namespace may pick the same one in between, and one chromedriver
    /// then fails to listen or a session request reaches the other. Such a start is tried
    /// again with another port, `ATTEMPTS` times in all.
    pub async fn start_in(sandbox: Option<&Sandbox>, downloads: Option<&Path>) -> Browser {
        let mut failures = Vec::new();
        for _ in 0..ATTEMPTS {
            match Browser::try_start(sandbox, downloads).await {
                Ok(browser) => return browser,
                Err(error) => failures.push(error),
            }
        }
        panic!("chromedriver starts a Chromium session: {}", failures.join("; "))
    }

    async fn try_start(sandbox: Option<&Sandbox>, downloads: Option<&Path>) -> Result<Browser, String> {
        let port = free_port();
        let mut command = match sandbox {
            Some(sandbox) => sandbox.command("chromedriver"),
            None => Command::new("chromedriver"),
        };
        let mut driver = Driver(
            command
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .expect("chromedriver runs (scripts/setup installs chromium-driver)"),
        );
        wait_for_port(port, &mut driver.0)?;
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
            .map_err(|error| format!("port {port}: {error}"))?;
        // Ours could not listen: the session is another test's chromedriver's, and goes
        // when that test ends.
        if let Ok(Some(status)) = driver.0.try_wait() {
            let _ = client.close().await;
            return Err(format!("chromedriver ended ({status}); port {port} was another's"));
        }
        Ok(Browser { client, _driver: driver, _profile: profile })
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Waits until something listens on `port`, as long as `driver` runs (one that could not
/// listen there ends).
fn wait_for_port(port: u16, driver: &mut Child) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = driver.try_wait() {
            return Err(format!("chromedriver ended ({status}) before it listened on {port}"));
        }
        assert!(Instant::now() < deadline, "chromedriver did not start listening on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
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
