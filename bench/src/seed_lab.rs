//! The setting of the terminal and capture benchmarks: a fresh sandbox, the release
//! `nslab serve` inside it (with the benchmark's own arguments), the seed bridge lab
//! applied, and the benchmark run on a thread that is in the sandbox's network namespace
//! (the main thread stays in the host's, to drop the sandbox after).

use std::path::Path;
use std::time::Duration;

use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::{Launch, NslabServer, ServerOptions};

const SERVER_WAIT: Duration = Duration::from_secs(60);

/// Runs `body` in that setting; on an error says it as `program` and exits 1.
pub fn on_applied_seed_lab(
    program: &str,
    nslab: &Path,
    extra: &[&str],
    body: impl AsyncFnOnce(&NslabServer, &Sandbox) -> Result<(), String> + Send,
) {
    let sandbox = Sandbox::new();
    let outcome = std::thread::scope(|scope| scope.spawn(|| serve_and_run(nslab, extra, &sandbox, body)).join());
    drop(sandbox);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            eprintln!("{program}: {error}");
            std::process::exit(1);
        }
        Err(_) => std::process::exit(1),
    }
}

fn serve_and_run(
    nslab: &Path,
    extra: &[&str],
    sandbox: &Sandbox,
    body: impl AsyncFnOnce(&NslabServer, &Sandbox) -> Result<(), String>,
) -> Result<(), String> {
    sandbox.enter_network_here();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let state = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log = state.path().join("server.log");
        let state_dir = state.path().join("state");
        let options =
            ServerOptions { sandbox: Some(sandbox), lab: None, state_dir: &state_dir, extra, log_name: "bench" };
        let launch = Launch { options, binary: nslab, log: &log, log_filter: Some("nslab=warn"), wait: SERVER_WAIT };
        let server = NslabServer::launch(launch)?;
        let http = reqwest::Client::builder().no_proxy().build().map_err(|e| e.to_string())?;
        let applied = http.post(format!("{}/api/apply", server.url)).send().await;
        if !applied.is_ok_and(|answer| answer.status().is_success()) {
            return Err("the seed bridge lab did not apply".into());
        }
        body(&server, sandbox).await
    })
}
